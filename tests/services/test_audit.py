from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from peers import audit, services
from peers import keys as rsa_keys
from peers.iaxconf import Document, Entry, Section
from peers.models import CallNumberLimit, Change, DialplanContexts, Endpoint, Host, Key, Registration
from peers.services import import_document
from tests.conftest import section

pytestmark = pytest.mark.django_db

SECRET = "Hunter2-Xq9-secret"
SECRET2 = "Other-Pw-77-secret"


def all_change_text() -> str:
    return json.dumps(list(Change.objects.values()), default=str)


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="pw")


def test_creating_an_endpoint_writes_one_create_change(host, alice):
    endpoint = services.save_endpoint(
        host, section("bob", f"type=friend\nhost=dynamic\nsecret={SECRET}"), actor=alice
    )
    change = Change.objects.get()
    assert (change.action, change.object_type, change.object_id) == ("create", "endpoint", endpoint.pk)
    assert (change.actor, change.actor_name, change.host, change.object_repr) == (
        alice,
        "alice",
        host,
        "[bob]",
    )
    assert change.before is None
    assert change.after["peer_host"] == "dynamic"
    assert change.after["secret"] == audit.MASK
    assert change.after["secrets_changed"] == ["secret"]


def test_updating_an_endpoint_records_before_and_after_from_the_database(host):
    endpoint = services.save_endpoint(
        host, section("bob", "type=peer\nhost=192.0.2.1\nallow=ulaw"), actor="test"
    )
    endpoint.peer_host = "changed in memory only"  # a bound form would do this; the row is what counts
    services.save_endpoint(
        host,
        section("bob", "type=peer\nhost=192.0.2.2\nallow=alaw"),
        endpoint=endpoint,
        actor="cli:root",
        message="new address",
    )
    change = Change.objects.get(action="update")
    assert (change.before["peer_host"], change.after["peer_host"]) == ("192.0.2.1", "192.0.2.2")
    assert change.before["options"] == [{"name": "allow", "value": "ulaw", "comment": ""}]
    assert change.after["options"] == [{"name": "allow", "value": "alaw", "comment": ""}]
    assert (change.actor, change.actor_name, change.message) == (None, "cli:root", "new address")


def test_an_endpoint_snapshot_includes_bases_inkeys_and_outkey(host, make_key):
    make_key("k1")
    services.save_endpoint(host, section("tpl", "context=x", template=True), actor="test")
    services.save_endpoint(
        host,
        section("bob", "type=peer\nhost=dynamic\ninkeys=k1\noutkey=k1\nauth=rsa", bases=["tpl"]),
        actor="test",
    )
    after = Change.objects.get(object_repr="[bob]").after
    assert (after["bases"], after["inkeys"], after["outkey"]) == (["tpl"], ["k1"], "k1")
    assert Change.objects.get(object_repr="[tpl]").object_type == "template"


def test_deleting_an_endpoint_writes_a_delete_change(host):
    endpoint = services.save_endpoint(host, section("bob", "type=peer\nhost=192.0.2.9"), actor="test")
    pk = endpoint.pk
    services.delete_endpoint(endpoint, actor="api:deploy")
    change = Change.objects.get(action="delete")
    assert (change.object_id, change.object_repr, change.actor_name, change.host) == (
        pk,
        "[bob]",
        "api:deploy",
        host,
    )
    assert change.before["peer_host"] == "192.0.2.9" and change.after is None


def test_actor_none_is_recorded_as_system_and_a_token_as_api(host):
    class Token:
        name = "deploy-bot"
        user = None

    services.create_host("pbx2", actor=None)
    services.create_host("pbx3", actor=Token())
    assert set(Change.objects.filter(host__name="pbx2").values_list("actor_name", flat=True)) == {"system"}
    assert set(Change.objects.filter(host__name="pbx3").values_list("actor_name", flat=True)) == {
        "api:deploy-bot"
    }


def test_save_host_records_the_host_and_its_new_general_in_one_batch(alice):
    host = services.create_host("pbx2", description="a", actor=alice)
    services.update_host(host, description="b", actor=alice)
    rows = list(Change.objects.order_by("id").values_list("action", "object_type", "batch"))
    assert [r[:2] for r in rows] == [("create", "host"), ("create", "general"), ("update", "host")]
    assert rows[0][2] == rows[1][2] != rows[2][2]
    assert Change.objects.get(action="update").after["description"] == "b"


def test_save_general_records_option_rows(host):
    services.save_general(host, Section("general", [Entry("bindport", "4569")]), actor="test")
    services.save_general(host, Section("general", [Entry("bindport", "4570")]), actor="cli:root")
    change = Change.objects.get(action="update", object_type="general")
    assert change.before["options"][0]["value"] == "4569"
    assert change.after["options"][0]["value"] == "4570"
    assert [d.field for d in audit.diff(change.before, change.after)] == ["options[0]"]


def test_registration_changes_are_recorded_with_the_secret_masked(host):
    registration = services.save_registration(
        host, username="me", secret=SECRET, remote_host="iax.example.net", actor="test"
    )
    services.save_registration(
        host,
        registration=registration,
        username="me",
        secret=SECRET2,
        remote_host="iax.example.net",
        actor="test",
    )
    services.delete_registration(registration, actor="test")
    assert list(Change.objects.order_by("id").values_list("action", flat=True)) == [
        "create",
        "update",
        "delete",
    ]
    update = Change.objects.get(action="update")
    assert update.after["secrets_changed"] == ["secret"]
    assert [(d.field, d.before, d.after) for d in audit.diff(update.before, update.after)] == [
        ("secret", "set", "changed")
    ]
    text = all_change_text()
    assert SECRET not in text and SECRET2 not in text


def test_callnumber_limit_changes_are_recorded(host):
    limit = services.save_callnumber_limit(host, network="10.0.0.0/8", value=10, actor="test")
    services.save_callnumber_limit(host, limit=limit, network="10.0.0.0/8", value=20, actor="test")
    services.delete_callnumber_limit(limit, actor="test")
    assert list(Change.objects.order_by("id").values_list("action", flat=True)) == [
        "create",
        "update",
        "delete",
    ]
    assert Change.objects.get(action="update").after["limit"] == 20


def test_key_changes_never_store_the_private_key(make_key, key_material):
    make_key("k1", encrypted=False)
    services.delete_key(Key.objects.get(name="k1"), actor="test")
    new = services.store_key("k2", key_material, actor="test")
    create = Change.objects.get(action="create", object_repr="k2")
    assert create.host is None and create.object_id == new.pk
    assert create.after["private_pem"] == audit.MASK
    assert create.after["public_pem"] == key_material.public_pem
    assert "PRIVATE KEY" not in all_change_text()


def test_secret_option_rows_are_masked_too(host):
    # a second secret= line is kept in extra_secrets (encrypted); it is a secret all the same
    services.save_endpoint(
        host, section("bob", f"type=peer\nhost=dynamic\nsecret={SECRET}\nsecret={SECRET2}"), actor="test"
    )
    change = Change.objects.get()
    assert change.after["options"] == []
    assert change.after["extra_secrets"] == audit.MASK
    assert SECRET not in all_change_text() and SECRET2 not in all_change_text()


def test_unchanged_secret_reads_unchanged(host):
    endpoint = services.save_endpoint(
        host, section("bob", f"type=peer\nhost=dynamic\nsecret={SECRET}"), actor="test"
    )
    services.save_endpoint(
        host,
        section("bob", f"type=peer\nhost=192.0.2.9\nsecret={SECRET}"),
        endpoint=endpoint,
        position=0,
        actor="test",
    )
    change = Change.objects.get(action="update")
    assert change.after["secrets_changed"] == []
    fields = {d.field: (d.before, d.after) for d in audit.diff(change.before, change.after)}
    assert fields == {"host": ("dynamic", "192.0.2.9")}  # an unchanged secret is no change
    every = {
        d.field: (d.before, d.after) for d in audit.diff(change.before, change.after, changed_only=False)
    }
    assert every["secret"] == ("unchanged", "unchanged")


def test_clearing_a_secret_reads_cleared(host):
    endpoint = services.save_endpoint(
        host, section("bob", f"type=peer\nhost=192.0.2.9\nsecret={SECRET}"), actor="test"
    )
    services.save_endpoint(
        host, section("bob", "type=peer\nhost=192.0.2.9"), endpoint=endpoint, position=0, actor="test"
    )
    change = Change.objects.get(action="update")
    assert [(d.field, d.before, d.after) for d in audit.diff(change.before, change.after)] == [
        ("secret", "set", "cleared")
    ]


@pytest.mark.parametrize(
    "write",
    [
        lambda host: services.save_endpoint(host, section("bob", "type=peer\nhost=192.0.2.9"), actor="test"),
        lambda host: services.save_general(
            host, Section("general", [Entry("bindport", "4570")]), actor="test"
        ),
        lambda host: services.save_registration(host, username="u", remote_host="h.example", actor="test"),
        lambda host: services.save_callnumber_limit(host, network="10.0.0.0/8", value=1, actor="test"),
        lambda host: services.store_key("k9", rsa_keys.generate(None), actor="test"),
        lambda host: services.create_host("pbx9", actor="test"),
        lambda host: services.save_dialplan(host, ["from-alice"], source="api", actor="test"),
    ],
    ids=["endpoint", "general", "registration", "limit", "key", "host", "dialplan"],
)
def test_nothing_is_written_when_the_audit_row_cannot_be_written(host, monkeypatch, write):
    models = (Endpoint, Registration, CallNumberLimit, Key, Host, DialplanContexts)
    counts = [m.objects.count() for m in models]

    def fail(**kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(audit, "record", fail)
    with pytest.raises(RuntimeError, match="audit down"):
        write(host)
    assert [m.objects.count() for m in models] == counts
    assert not host.general.options.exists() if hasattr(host, "general") else True
    assert Change.objects.count() == 0


def test_an_update_is_rolled_back_when_the_audit_row_fails(host, monkeypatch):
    endpoint = services.save_endpoint(
        host, section("bob", "type=peer\nhost=192.0.2.1\nallow=ulaw"), actor="test"
    )
    pk = endpoint.pk
    monkeypatch.setattr(audit, "record", lambda **kw: (_ for _ in ()).throw(RuntimeError("audit down")))
    with pytest.raises(RuntimeError):
        services.save_endpoint(
            host, section("bob", "type=peer\nhost=192.0.2.2"), endpoint=endpoint, actor="test"
        )
    with pytest.raises(RuntimeError):
        services.delete_endpoint(endpoint, actor="test")
    endpoint = Endpoint.objects.get(pk=pk)
    assert endpoint.peer_host == "192.0.2.1"
    assert list(endpoint.options.values_list("value", flat=True)) == ["ulaw"]


# --- import ---------------------------------------------------------------------------------------


def _document(count: int, *, secret: str = SECRET, host_value: str = "dynamic") -> Document:
    sections = [
        Section(
            "general",
            [Entry("bindport", "4569"), Entry("register", f"me:{secret}@iax.example.net", operator="=>")],
        )
    ]
    sections += [
        Section(f"ep{i}", [Entry("type", "friend"), Entry("host", host_value), Entry("secret", secret)])
        for i in range(count)
    ]
    sections.append(Section("callnumberlimits", [Entry("10.0.0.0/8", "10")]))
    return Document(sections=sections)


def test_an_import_writes_one_batch_of_changes(alice):
    report = import_document(_document(3), host_name="imp", actor=alice, message="first import")
    changes = Change.objects.filter(batch=report.batch)
    assert changes.count() == 1 + 1 + 3 + 1 + 1  # host, general, endpoints, registration, limit
    assert set(changes.values_list("action", flat=True)) == {"create"}
    assert set(changes.values_list("actor_name", "message")) == {("alice", "first import")}
    assert Change.objects.exclude(batch=report.batch).count() == 0
    assert SECRET not in all_change_text()


def test_reimporting_records_updates_and_deletes_only():
    import_document(_document(3), host_name="imp", actor="test")
    report = import_document(
        _document(2, host_value="192.0.2.1"), host_name="imp", replace=True, actor="cli:root"
    )
    rows = sorted(Change.objects.filter(batch=report.batch).values_list("action", "object_repr"))
    assert rows == [("delete", "[ep2]"), ("update", "[ep0]"), ("update", "[ep1]")]


def test_a_dry_run_import_leaves_no_change_rows():
    import_document(_document(2), host_name="imp", dry_run=True, actor="test")
    assert Change.objects.count() == 0


def test_an_import_writes_nothing_when_the_audit_rows_fail(monkeypatch):
    monkeypatch.setattr(
        audit, "record_many", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("audit down"))
    )
    with pytest.raises(RuntimeError):
        import_document(_document(2), host_name="imp", actor="test")
    assert not Host.objects.filter(name="imp").exists()
    assert Endpoint.objects.count() == 0


def test_import_audit_query_count_does_not_grow_with_the_endpoints():
    """Reads are constant; inserts are bulk (SQLite splits a bulk insert by its 999-parameter limit,
    so only there do the INSERT statements grow, by one per batch)."""

    def queries(count: int, name: str) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            import_document(_document(count), host_name=name, actor="test")
        sql = [q["sql"] for q in ctx.captured_queries]  # executemany is logged as "N times INSERT ..."
        changes = sum(1 for s in sql if 'INSERT INTO "peers_change"' in s)
        return len([s for s in sql if "INSERT" not in s]), changes

    small, large = queries(5, "small"), queries(300, "large")
    assert small[0] == large[0]
    assert small[1] == 1
    if connection.vendor == "postgresql":
        assert large[1] == 1
    else:
        assert large[1] <= 1 + 300 * len(Change._meta.concrete_fields) // 999


def test_iax_import_records_the_os_user(tmp_path: Path, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "root")
    conf = tmp_path / "iax.conf"
    conf.write_text(f"[general]\nbindport=4569\n\n[bob]\ntype=friend\nhost=dynamic\nsecret={SECRET}\n")
    call_command(
        "iax_import",
        str(conf),
        "--host",
        "clihost",
        "-m",
        "from the CLI",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert set(Change.objects.values_list("actor_name", "message")) == {("cli:root", "from the CLI")}
    assert Change.objects.filter(object_repr="[bob]", action="create").exists()
    assert SECRET not in all_change_text()


# --- export of the audit log ----------------------------------------------------------------------


def test_iax_audit_writes_masked_csv_and_json(host):
    services.save_endpoint(
        host, section("bob", f"type=peer\nhost=192.0.2.9\nsecret={SECRET}"), actor="cli:root"
    )
    services.save_registration(host, username="me", secret=SECRET2, remote_host="h.example", actor=None)
    out = io.StringIO()
    call_command("iax_audit", "--host", "pbx1", "--format", "csv", stdout=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["action"], r["object"], r["actor"]) for r in rows] == [
        ("create", "register => me@h.example", "system"),
        ("create", "[bob]", "cli:root"),
    ]
    assert json.loads(rows[1]["after"])["secret"] == audit.MASK
    out_json = io.StringIO()
    call_command("iax_audit", "--format", "json", stdout=out_json)
    assert len(json.loads(out_json.getvalue())) == 2
    for text in (out.getvalue(), out_json.getvalue()):
        assert SECRET not in text and SECRET2 not in text


def test_iax_audit_filters_by_date(host):
    services.save_endpoint(host, section("bob", "type=peer\nhost=192.0.2.9"), actor="test")
    Change.objects.update(at="2026-01-15T12:00:00Z")
    services.save_endpoint(host, section("carol", "type=peer\nhost=192.0.2.9"), actor="test")

    def rows(*args):
        out = io.StringIO()
        call_command("iax_audit", "--format", "json", *args, stdout=out)
        return [r["object"] for r in json.loads(out.getvalue())]

    assert rows("--until", "2026-01-15") == ["[bob]"]
    assert rows("--since", "2026-01-16") == ["[carol]"]
    assert rows("--since", "2026-01-15", "--until", "2026-01-15") == ["[bob]"]
    assert rows("--host", "pbx1") == ["[carol]", "[bob]"]


def test_iax_import_replace_records_updates_and_deletes(tmp_path: Path, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "ops")
    conf = tmp_path / "iax.conf"
    conf.write_text(
        "[general]\nbindport=4569\n\n[bob]\ntype=peer\nhost=dynamic\n\n[carol]\ntype=user\ncontext=c\n"
    )
    quiet = {"stdout": io.StringIO(), "stderr": io.StringIO()}
    call_command("iax_import", str(conf), "--host", "clihost", **quiet)
    conf.write_text("[general]\nbindport=4569\n\n[bob]\ntype=peer\nhost=192.0.2.7\n")
    call_command("iax_import", str(conf), "--host", "clihost", "--replace", "-m", "again", **quiet)
    rows = sorted(Change.objects.filter(message="again").values_list("action", "object_repr", "actor_name"))
    assert rows == [("delete", "[carol]", "cli:ops"), ("update", "[bob]", "cli:ops")]


def test_diff_of_a_creation_and_a_deletion_says_set_for_secrets():
    created = audit.mask({"name": "bob", "secret": SECRET}, "endpoint")
    assert [(d.field, d.before, d.after) for d in audit.diff(None, created)] == [
        ("name", None, "bob"),
        ("secret", "", "set"),
    ]
    assert [(d.field, d.before, d.after) for d in audit.diff(created, None)] == [
        ("name", "bob", None),
        ("secret", "set", ""),
    ]
    assert SECRET not in str(audit.diff(None, created))


def test_an_inserted_codec_line_is_one_change_and_an_unchanged_secret_no_change(host):
    lines = (
        "type=friend\nhost=dynamic\nsecret=Secret-one-9f3k\ndisallow=all\nallow=g722\nallow=ulaw\nallow=alaw"
    )
    endpoint = services.save_endpoint(host, section("p", lines), actor="test")
    services.save_endpoint(
        host,
        section("p", lines.replace("allow=g722\n", "allow=g722\nallow=gsm\n")),
        endpoint=endpoint,
        actor="test",
    )
    change = Change.objects.filter(object_type="endpoint", action="update").get()
    fields = audit.diff(change.before, change.after)
    assert [(f.before, f.after) for f in fields] == [(None, "allow=gsm")]
    every = audit.diff(change.before, change.after, changed_only=False)
    secret = next(f for f in every if f.field == "secret")
    assert (secret.before, secret.after, secret.changed) == ("unchanged", "unchanged", False)
    assert [f.after for f in every if f.field.startswith("options[")] == [
        "disallow=all",
        "allow=g722",
        "allow=gsm",
        "allow=ulaw",
        "allow=alaw",
    ]
