"""Every real-world file of the corpus, and Asterisk's own iax.conf.sample, imported and exported,
then loaded into real Asterisk 22.10.1 twice, the original and our export: the same peers, users,
per-peer details, registrations and keys, and no WARNING or ERROR in the export's load that the
original's did not have.

Files whose ``#include`` targets are not in the corpus are loaded with the stand-ins of
``tests/data/parse/corpus-includes/`` (the same directory the import is given).

CI time: each load starts a throwaway Asterisk in the session's sandbox (about 0.1 s to boot on 2
cores) and is killed when the test ends, so the whole file takes seconds; it runs in both passes
of ``.ci/run`` (PostgreSQL and SQLite), because the export it checks is read from the database
and the two backends hand the exporter different row types.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from peers.asterisk.compare import differences, new_problems
from peers.exporter import export_host, write_export
from peers.iaxconf.parse import ConfigSyntaxError, parse_file
from peers.models import Host
from peers.services import import_document
from tests.reference import IAX_SAMPLE, require

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent.parent / "data"
CORPUS = DATA / "corpus"
INCLUDES = DATA / "parse" / "corpus-includes"
FILES = sorted(CORPUS.glob("*.conf"))
NEEDS_INCLUDES = {
    "01_paulseward_asterisk-minimal.conf",
    "04_StuartJMackintosh_asterisk-config-templates.conf",
    "15_V-ctor_gsm-ip-gateway.conf",
    "35_linhng98_asterisk.conf",
}
# A line before the first section: Asterisk rejects the file whole, and so does our importer.
REJECTED = {"41_SuperKumKum_SysAdmin-ll_Project.conf"}

# What was compared in this run; tests/asterisk/conftest.py prints it at the end of the run.
STATS = {"files": 0, "peers": 0, "users": 0, "registrations": 0, "keys": 0, "problems": 0}


def _original_dir(path: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "original"
    folder.mkdir()
    if path.name in NEEDS_INCLUDES:
        shutil.copytree(INCLUDES, folder, dirs_exist_ok=True)
    shutil.copy(path, folder / "iax.conf")
    return folder


def _export_dir(path: Path, tmp_path: Path) -> Path:
    include_dirs = [INCLUDES] if path.name in NEEDS_INCLUDES else []
    parsed = parse_file(path, include_dirs=include_dirs)
    import_document(parsed.document, host_name="h", notes=parsed.notes, actor="test")
    export = export_host(Host.objects.get(name="h"))
    folder = tmp_path / "export"
    write_export(export, folder, allow_errors=True)
    return folder


def _compare(path: Path, tmp_path: Path, start) -> None:
    original = start(_original_dir(path, tmp_path)).snapshot()
    exported = start(_export_dir(path, tmp_path)).snapshot()
    assert not original.config_rejected, [str(x) for x in original.log]
    assert differences(original, exported) == []
    assert new_problems(original, exported) == []
    STATS["files"] += 1
    STATS["peers"] += len(exported.peer_details)
    STATS["users"] += len(exported.users)
    STATS["registrations"] += len(exported.registry)
    STATS["keys"] += len(exported.keys)
    STATS["problems"] += len(exported.problems)


@pytest.mark.parametrize("path", [f for f in FILES if f.name not in REJECTED], ids=lambda p: p.name)
def test_corpus_file_means_the_same_in_asterisk(path, tmp_path, start):
    _compare(path, tmp_path, start)


def test_asterisk_sample_means_the_same_in_asterisk(tmp_path, start):
    _compare(require(IAX_SAMPLE), tmp_path, start)


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_a_file_asterisk_rejects_is_refused_by_the_import(name, tmp_path, start):
    original = start(_original_dir(CORPUS / name, tmp_path)).snapshot()
    assert original.config_rejected
    assert original.peers == [] and original.users == []
    with pytest.raises(ConfigSyntaxError):
        parse_file(CORPUS / name)
