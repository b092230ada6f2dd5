from __future__ import annotations

from pathlib import Path

import pytest

from peers.exporter import export_host
from peers.iaxconf import Document, Entry, Section
from peers.importer import ImportError_
from peers.models import CallNumberLimit, Endpoint, GeneralOption, Host, Key, Registration
from peers.services import import_document

pytestmark = pytest.mark.django_db


def e(name, value, line=None, **kw):
    return Entry(name=name, value=value, line=line, **kw)


def doc(*sections, header=(), trailer=()):
    return Document(sections=list(sections), header=list(header), trailer=list(trailer))


def test_undefined_base_stops_the_import_and_writes_nothing():
    with pytest.raises(ImportError_) as info:
        import_document(
            doc(Section("a", [e("type", "peer")], bases=["nope"], line=3)), host_name="h1", actor="test"
        )
    assert info.value.problems == [(None, 3, "[a] inherits from 'nope', which is not defined before it")]
    assert not Host.objects.exists()


def test_import_writes_every_kind_of_object():
    report = import_document(
        doc(
            Section(
                "general",
                [
                    e("bandwidth", "low"),
                    e("register", "me:pw1234567@iax.example.net:4570", operator="=>"),
                    e("register", "me:[signer]@iax.example.net"),
                    e("register", "broken-line"),
                ],
            ),
            Section(
                "tpl", [e("type", "friend"), e("host", "dynamic")], is_template=True, comments=[" phones"]
            ),
            Section(
                "alice",
                [e("secret", "Sup3r-secret-99"), e("quilify", "yes"), e("inkeys", "alicekey")],
                bases=["tpl"],
            ),
            Section("callnumberlimits", [e("10.0.0.0/8", "10"), e("bogus", "x")]),
        ),
        host_name="h1",
        actor="test",
    )
    host = Host.objects.get(name="h1")
    alice = Endpoint.objects.get(host=host, name="alice")
    assert alice.kind == "friend" and alice.secret == "Sup3r-secret-99"
    assert list(alice.options.values_list("name", "value")) == [("quilify", "yes")]
    assert [
        (r.username, r.remote_port, r.key.name if r.key else None) for r in Registration.objects.all()
    ] == [
        ("me", 4570, None),
        ("me", None, "signer"),
    ]
    assert list(GeneralOption.objects.values_list("name", "value")) == [
        ("bandwidth", "low"),
        ("register", "broken-line"),
    ]
    assert list(CallNumberLimit.objects.values_list("network", "limit")) == [("10.0.0.0/8", 10)]
    assert sorted(report.placeholder_keys) == ["alicekey", "signer"]
    assert Key.objects.get(name="alicekey").public_pem == ""
    codes = {f.code for f in report.findings}
    assert {
        "unknown-directive",
        "invalid-value",
        "unknown-key",
        "missing-private-key",
        "invalid-callnumberlimit",
    } <= codes
    assert report.created["endpoint"] == 1 and report.created["template"] == 1
    assert "quilify=yes" in export_host(host).body


def test_dry_run_reports_but_writes_nothing():
    report = import_document(
        doc(Section("general", [e("tos", "ef")]), Section("p", [e("type", "peer"), e("host", "dynamic")])),
        host_name="h1",
        dry_run=True,
        actor="test",
    )
    assert report.created["endpoint"] == 1
    assert not Host.objects.exists()


def test_existing_host_needs_replace():
    import_document(
        doc(Section("p", [e("type", "peer"), e("host", "dynamic")])), host_name="h1", actor="test"
    )
    with pytest.raises(ImportError_, match="already exists; choose to replace"):
        import_document(doc(Section("p", [e("type", "peer")])), host_name="h1", actor="test")


def test_replace_reports_created_changed_unchanged_and_deleted():
    first = doc(
        Section("a", [e("type", "peer"), e("host", "dynamic")]),
        Section("b", [e("type", "user")]),
        Section("c", [e("type", "user")]),
    )
    import_document(first, host_name="h1", actor="test")
    second = doc(
        Section("a", [e("type", "peer"), e("host", "dynamic")]),
        Section("b", [e("type", "user"), e("context", "x")]),
        Section("d", [e("type", "user")]),
    )
    report = import_document(second, host_name="h1", replace=True, actor="test")
    assert (
        report.unchanged["endpoint"],
        report.changed["endpoint"],
        report.created["endpoint"],
        report.deleted["endpoint"],
    ) == (1, 1, 1, 1)
    assert sorted(Endpoint.objects.values_list("name", flat=True)) == ["a", "b", "d"]


def test_a_failure_while_writing_leaves_nothing_behind(monkeypatch):
    from peers.services import storage

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(storage, "insert_rows", boom)  # fails after the endpoints were written
    with pytest.raises(RuntimeError):
        import_document(
            doc(Section("p", [e("type", "peer"), e("quilify", "yes")])), host_name="h1", actor="test"
        )
    assert not Host.objects.exists() and not Endpoint.objects.exists()


def test_section_without_type_is_kept_and_reported():
    report = import_document(doc(Section("lonely", [e("host", "dynamic")])), host_name="h1", actor="test")
    assert Endpoint.objects.get(name="lonely").kind == ""
    assert "missing-type" in {f.code for f in report.findings}
    assert "[lonely]\nhost=dynamic" in export_host(Host.objects.get(name="h1")).body


def test_misspelt_type_is_kept_as_written():
    import_document(
        doc(Section("x", [e("type", "fiend"), e("host", "dynamic")])), host_name="h1", actor="test"
    )
    assert "[x]\ntype=fiend\nhost=dynamic" in export_host(Host.objects.get(name="h1")).body


# The command line ------------------------------------------------------------------------------

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"


def test_import_command_dry_run_prints_the_report_and_writes_nothing(capsys):
    from django.core.management import call_command

    call_command("iax_import", str(CORPUS / "37_AllStarLink_ASL-Asterisk.conf"), host="asl", dry_run=True)
    out = capsys.readouterr().out
    assert "37_AllStarLink_ASL-Asterisk.conf:14: [general] forcejitterbuffer" in out
    assert "Use jitterbuffer instead" in out
    assert "endpoint                2        0          0        0" in out
    assert "dry run: nothing was written" in out
    assert not Host.objects.exists()


def test_import_command_writes_and_refuses_a_second_import_without_replace(capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    path = str(CORPUS / "03_YukariChiba_asterisk-config.conf")
    call_command("iax_import", path, host="yc")
    assert Host.objects.get(name="yc").endpoints.count() == 2
    with pytest.raises(CommandError, match="already exists; choose to replace"):
        call_command("iax_import", path, host="yc")
    call_command("iax_import", path, host="yc", replace=True)
    assert "endpoint                0        0          2        0" in capsys.readouterr().out


def test_import_command_names_file_and_line_of_a_syntax_error(tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    bad = tmp_path / "iax.conf"
    bad.write_text("[general]\nbindport=4569\n[broken\n")
    with pytest.raises(CommandError, match=r"iax.conf, line 3"):
        call_command("iax_import", str(bad), host="x")
    assert not Host.objects.exists()


# The plan: a dry run reads, the import writes exactly the plan -------------------------------


def _writes(queries) -> list[str]:
    return [
        q["sql"] for q in queries if q["sql"].lstrip().split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}
    ]


def test_a_dry_run_only_reads_and_reports_what_the_import_then_does():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = doc(
        Section("a", [e("type", "peer"), e("host", "dynamic")]),
        Section("b", [e("type", "user")]),
        Section("c", [e("type", "user")]),
    )
    import_document(first, host_name="h1", actor="test")
    second = doc(
        Section("d", [e("type", "user")]),
        Section("a", [e("type", "peer"), e("host", "dynamic")]),
        Section("b", [e("type", "user"), e("context", "x")]),
        Section("tpl", [], is_template=True),
    )
    with CaptureQueriesContext(connection) as queries:
        dry = import_document(second, host_name="h1", replace=True, dry_run=True, actor="test")
    assert _writes(queries) == []
    counts = (dict(dry.created), dict(dry.changed), dict(dry.unchanged), dict(dry.moved), dict(dry.deleted))
    assert counts == (
        {"endpoint": 1, "template": 1},
        {"endpoint": 1},
        {"general": 1, "endpoint": 1},
        {"endpoint": 1},
        {"endpoint": 1},
    )
    ids = dict(Endpoint.objects.values_list("name", "id"))
    report = import_document(second, host_name="h1", replace=True, actor="test")
    assert (
        dict(report.created),
        dict(report.changed),
        dict(report.unchanged),
        dict(report.moved),
        dict(report.deleted),
    ) == counts
    after = dict(Endpoint.objects.values_list("name", "id"))
    # unchanged and changed endpoints keep their rows (and so their history); c is gone, d and tpl are new
    assert (after["a"], after["b"]) == (ids["a"], ids["b"]) and "c" not in after
    assert list(Endpoint.objects.order_by("position").values_list("name", flat=True)) == [
        "d",
        "a",
        "b",
        "tpl",
    ]


def test_an_import_records_only_what_changed():
    from peers.models import Change

    first = doc(Section("a", [e("type", "peer"), e("host", "dynamic")]), Section("b", [e("type", "user")]))
    import_document(first, host_name="h1", actor="test")
    second = doc(
        Section("a", [e("type", "peer"), e("host", "dynamic")]),
        Section("b", [e("type", "user"), e("context", "x")]),
    )
    report = import_document(second, host_name="h1", replace=True, actor="test")
    rows = Change.objects.filter(batch=report.batch)
    assert [(c.action, c.object_repr) for c in rows] == [("update", "[b]")]
    assert rows[0].before["context"] is None and rows[0].after["context"] == "x"
