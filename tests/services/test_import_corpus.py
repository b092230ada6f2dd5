"""Every real-world file in tests/data/corpus and Asterisk's sample imports, exports, and reads
back: export -> import -> export is byte-identical, and the export means the same to Asterisk as
the original (checked with a small reference expander written here, independent of the importer).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from peers import audit
from peers.exporter import export_host
from peers.iaxconf import catalogue
from peers.iaxconf import values as v
from peers.iaxconf.parse import ConfigSyntaxError, parse, parse_file
from peers.importer import plan_import, prepare, report_kind
from peers.models import Host
from peers.services import import_document
from tests.reference import IAX_SAMPLE, require

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
SAMPLE = IAX_SAMPLE
FILES = sorted(CORPUS.glob("*.conf")) + [SAMPLE]

# Files whose #include targets are not in the corpus: Asterisk refuses them whole. They must fail
# with a precise error, and import once the include directory supplies the missing file.
MISSING_INCLUDES = {
    "01_paulseward_asterisk-minimal.conf": (19, ["local/iax.conf"]),
    "04_StuartJMackintosh_asterisk-config-templates.conf": (55, ["local_cfg/iax.conf"]),
    "15_V-ctor_gsm-ip-gateway.conf": (14, ["iax_custom_modem.conf"]),
    "35_linhng98_asterisk.conf": (
        10,
        [  # a FreePBX layout
            "iax_general_additional.conf",
            "iax_general_custom.conf",
            "iax_registrations_custom.conf",
            "iax_registrations.conf",
            "iax_custom.conf",
            "iax_additional.conf",
            "iax_custom_post.conf",
        ],
    ),
}
# Truly broken: a line that is not a comment before the first section header.
BROKEN = {"41_SuperKumKum_SysAdmin-ll_Project.conf": (17, "appears before the first [section] header")}


def _reference_meaning(document) -> dict[str, dict[str, list[str]]]:
    """What chan_iax2 reads: per section, directive -> values, after (+), +=, duplicates and
    template expansion, keeping only what Asterisk 22 reads in that section's type."""
    sections: dict[str, dict] = {}
    order: list[str] = []
    for section in document.sections:
        key = section.name.lower()
        if key in sections and key == "general" and not section.is_addition:
            continue  # a second [general] is never read
        if key not in sections:
            sections[key] = {"template": section.is_template, "bases": list(section.bases), "lines": []}
            order.append(key)
        lines = sections[key]["lines"]
        for entry in section.entries:
            if entry.operator == "+=" and any(n == entry.name for n, _ in lines):
                index = max(i for i, (n, _) in enumerate(lines) if n == entry.name)
                lines[index] = (entry.name, lines[index][1] + entry.value)
            else:
                lines.append((entry.name, entry.value))

    def expanded(key: str, seen: frozenset) -> list[tuple[str, str]]:
        result = []
        for base in sections[key]["bases"]:
            if base.lower() in sections and base.lower() not in seen:
                result += expanded(base.lower(), seen | {base.lower()})
        return result + sections[key]["lines"]

    cat = catalogue()
    meaning = {}
    for key in order:
        info = sections[key]
        if info["template"]:
            continue
        lines = expanded(key, frozenset({key}))
        if key == "callnumberlimits":
            kinds = None
        elif key == "general":
            kinds = {"general"}
        else:
            types = [val.strip().lower() for n, val in lines if n.lower() == "type"]
            if not types or types[0] not in ("peer", "user", "friend"):
                continue  # Asterisk skips a section without a valid type
            kinds = {"peer", "user"} if types[0] == "friend" else {types[0]}
        values: dict[str, list[str]] = {}
        for name, value in lines:
            name = name.lower()
            if kinds is None:
                try:
                    v.network(name)
                    v.limit_value(value)
                except v.Invalid:
                    continue
            else:
                directive = cat.get(name)
                if directive is None or not directive.accepted or not (directive.sections & kinds):
                    continue
                if name == "type":
                    continue
                value = value.strip()
                if name == "trunk":
                    value = "yes" if value.lower() in v.TRUE_WORDS else "no"
                if name == "port" and value.isdigit():
                    value = str(int(value))
            values.setdefault(name, []).append(value)
        meaning[key] = values
    return meaning


def _without_added_sticky_defaults(exported: dict, original: dict) -> dict:
    general = dict(exported.get("general", {}))
    for directive in catalogue().accepted():
        if directive.sticky and directive.name not in original.get("general", {}):
            if general.get(directive.name) == [str(directive.default)]:
                del general[directive.name]
    return {**exported, "general": general} if "general" in exported else exported


def _import(path: Path, host: str, include_dirs=()):
    parsed = parse_file(path, include_dirs=include_dirs)
    return parsed, import_document(parsed.document, host_name=host, notes=parsed.notes, actor="test")


def _check_round_trip(parsed, host_name: str) -> None:
    host = Host.objects.get(name=host_name)
    first = export_host(host).text
    import_document(parse(first).document, host_name=host_name, replace=True, actor="test")
    second = export_host(host).text
    assert second == first
    original = _reference_meaning(parsed.document)
    exported = _without_added_sticky_defaults(_reference_meaning(parse(first).document), original)
    if "general" not in original:
        exported.pop("general", None) if not exported.get("general") else None
    assert exported == original


@pytest.mark.parametrize(
    "path", [f for f in FILES if f.name not in MISSING_INCLUDES | BROKEN], ids=lambda p: p.name
)
def test_corpus_file_imports_and_round_trips(path):
    parsed, report = _import(require(path), "h")
    assert report.created["endpoint"] + report.created["template"] + report.created["general"] >= 1
    # the report comes from the plan; it must say what was written
    stored = audit.host_objects(Host.objects.get(name="h"))
    listed = Counter(report_kind(key, state) for key, state in stored.items() if key != ("host",))
    assert report.created == listed
    _check_round_trip(parsed, "h")


@pytest.mark.parametrize(
    "path", [f for f in FILES if f.name not in MISSING_INCLUDES | BROKEN], ids=lambda p: p.name
)
def test_corpus_file_plan_is_what_the_import_stores(path):
    """The plan of a dry run (read only) holds exactly the states read back after the import, and
    importing the same file again plans no change."""
    parsed = parse_file(require(path))
    dry = import_document(parsed.document, host_name="h", dry_run=True, actor="test")
    assert not Host.objects.exists()
    document, ignored = prepare(parsed.document, "h")
    planned = dict(plan_import(document, host_name="h", host=None, ignored=ignored).written())
    report = import_document(parsed.document, host_name="h", actor="test")
    assert (dry.created, dry.findings) == (report.created, report.findings)
    stored = audit.host_objects(Host.objects.get(name="h"))
    assert {k: (s.object_type, s.state) for k, s in stored.items()} == {
        k: (s.object_type, s.state) for k, s in planned.items()
    }
    again = import_document(parsed.document, host_name="h", replace=True, dry_run=True, actor="test")
    assert (again.created, again.changed, again.deleted, again.moved) == ({}, {}, {}, {})
    assert sum(again.unchanged.values()) == len(stored) - 1


@pytest.mark.parametrize("name", sorted(MISSING_INCLUDES))
def test_missing_include_is_a_precise_error(name):
    line, targets = MISSING_INCLUDES[name]
    target = targets[0]
    with pytest.raises(ConfigSyntaxError) as info:
        parse_file(CORPUS / name)
    assert info.value.line == line
    assert f"'{target}' was listed as a #include but it does not exist" in str(info.value)
    assert not Host.objects.exists()


@pytest.mark.parametrize("name", sorted(MISSING_INCLUDES))
def test_file_with_includes_imports_once_the_include_dir_has_them(name, tmp_path):
    for target in MISSING_INCLUDES[name][1]:
        (tmp_path / target).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / target).write_text("; supplied by the test\n")
    parsed, _ = _import(CORPUS / name, "h", include_dirs=[tmp_path])
    _check_round_trip(parsed, "h")


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_file_fails_with_file_and_line(name):
    line, message = BROKEN[name]
    with pytest.raises(ConfigSyntaxError) as info:
        parse_file(CORPUS / name)
    assert info.value.line == line
    assert message in str(info.value)
