"""The real agent/iaxadmin-agent against the real server (pytest-django's live_server), with the
fake `asterisk` from tests/agent/bin first on PATH."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from peers import revisions, services
from peers.demo import seed_demo
from peers.iaxconf import Entry, Section
from peers.models import Deployment, DialplanContexts

REPO = Path(__file__).resolve().parents[2]
AGENT = REPO / "agent" / "iaxadmin-agent"
FAKE_ASTERISK = REPO / "tests" / "agent" / "bin" / "asterisk"
PYTHON = os.environ.get("IAXADMIN_AGENT_PYTHON") or sys.executable


def run_agent(live_server, tmp_path: Path, host: str, token: str, *extra: str) -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "bin"
    if not bin_dir.exists():
        bin_dir.mkdir()
        shutil.copy(FAKE_ASTERISK, bin_dir / "asterisk")
        (bin_dir / "asterisk").chmod(0o755)
        (tmp_path / "etc").mkdir()
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    argv = [
        PYTHON,
        str(AGENT),
        "--url",
        live_server.url,
        "--host",
        host,
        "--token-file",
        str(token_file),
        "--conf-path",
        str(tmp_path / "etc" / "iax.conf"),
        "--keys-dir",
        str(tmp_path / "keys"),
        "--state-dir",
        str(tmp_path / "state"),
        "--timeout",
        "20",
        "--once",
        *extra,
    ]
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "FAKE_ASTERISK_LOG": str(tmp_path / "asterisk.log"),
        "FAKE_ASTERISK_CONF": str(tmp_path / "etc" / "iax.conf"),
        "LC_ALL": "C.UTF-8",
    }
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=90, check=False)


@pytest.mark.django_db(transaction=True)
def test_the_agent_applies_a_published_revision_and_reports_it(live_server, tmp_path):
    host = seed_demo()
    revision = services.publish(host, message="first", actor="test")
    _, token = services.create_host_token(host, "pbx agent", actor="test")

    result = run_agent(live_server, tmp_path, host.name, token)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "etc" / "iax.conf").read_text() == revision.conf_text
    key_files = {k.name: k for k in revisions.revision_key_files(revision)}
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == sorted(key_files)
    for name, key_file in key_files.items():
        path = tmp_path / "keys" / name
        assert path.read_bytes() == key_file.content
        assert stat.S_IMODE(path.stat().st_mode) == key_file.mode
    deployment = Deployment.objects.get()
    assert (deployment.host, deployment.revision, deployment.ok, deployment.error) == (
        host,
        revision,
        True,
        "",
    )
    assert "iax2 reload" in deployment.reload_output and "IAX2 registrations" in deployment.registry
    assert DialplanContexts.objects.get(host=host).contexts == ["from-office", "parkedcalls"]
    assert deployment.agent_version
    state = json.loads((tmp_path / "state" / "state.json").read_text())
    assert state["revision"] == 1 and state["sha256"] == deployment.sha256
    assert token not in result.stderr

    # the second run: If-None-Match -> 304, nothing applied or reported
    calls = (tmp_path / "asterisk.log").read_text()
    again = run_agent(live_server, tmp_path, host.name, token)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "asterisk.log").read_text() == calls
    assert Deployment.objects.count() == 1

    # a new revision is picked up
    services.save_general(host, Section("general", [Entry("bindport", "4570")]), actor="test")
    second = services.publish(host, message="second", actor="test")
    third = run_agent(live_server, tmp_path, host.name, token)
    assert third.returncode == 0, third.stderr
    assert (tmp_path / "etc" / "iax.conf").read_text() == second.conf_text
    assert Deployment.objects.first().revision == second


@pytest.mark.django_db(transaction=True)
def test_the_agent_is_refused_with_another_hosts_token(live_server, tmp_path):
    host = seed_demo()
    services.publish(host, message="first", actor="test")
    other = host.__class__.objects.create(name="other")
    _, token = services.create_host_token(other, actor="test")
    result = run_agent(live_server, tmp_path, host.name, token)
    assert result.returncode == 4
    assert "may only read its own host ('other')" in result.stderr
    assert not (tmp_path / "etc" / "iax.conf").exists()
