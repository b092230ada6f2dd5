from __future__ import annotations

import hashlib
import io
import os
import stat
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from peers import revisions, services
from peers.demo import seed_demo
from peers.exporter import endpoint_section, export_host
from peers.iaxconf import Entry, Section
from peers.iaxconf.mask import MASK
from peers.models import Change, Endpoint, Host, Key, Registration, Revision
from tests.conftest import section

pytestmark = pytest.mark.django_db

ALICE_SECRET = "Vq8-mU2x!rT4pz"  # from peers.demo
BACKUP_SECRET = "Rg7-tw2PqLx9"


@pytest.fixture
def demo(db) -> Host:
    return seed_demo()


def _mess_up(host: Host) -> None:
    """Change every kind of object, delete some (a key among them), add others."""
    services.delete_endpoint(Endpoint.objects.get(host=host, name="bob"), actor="test")
    services.delete_endpoint(Endpoint.objects.get(host=host, name="hq-rsa"), actor="test")
    services.delete_key(Key.objects.get(name="hq"), actor="test")
    alice = Endpoint.objects.get(host=host, name="alice")
    services.save_endpoint(
        host,
        section("alice", "secret=changed-Secret-1\ncontext=x", bases=["office-phone"]),
        endpoint=alice,
        position=1,
        actor="test",
    )
    services.save_endpoint(
        host, section("carol", "type=friend\nhost=dynamic\nsecret=carol-Secret-9"), actor="test"
    )
    services.save_general(
        host, Section("general", [Entry("bindport", "4570")], comments=[" changed"]), actor="test"
    )
    services.delete_registration(host.registrations.order_by("position").last(), actor="test")
    services.save_registration(host, username="x", secret="y-Secret", remote_host="h.example", actor="test")
    for limit in host.callnumber_limits.all():
        services.delete_callnumber_limit(limit, actor="test")
    services.save_callnumber_limit(host, network="10.0.0.0/8", value=5, actor="test")
    services.update_host(host, description="changed", actor="test")


def test_publish_stores_the_exported_text_keys_and_snapshot(demo, django_user_model):
    admin = django_user_model.objects.create_user("alice")
    export = export_host(demo)
    revision = services.publish(demo, actor=admin, message="first")
    assert (revision.number, revision.author, revision.author_name, revision.message) == (
        1,
        admin,
        "alice",
        "first",
    )
    assert revision.conf_text == export.text
    assert [k["name"] for k in revision.key_files] == ["demo-pbx.key", "hq.pub"]
    assert revision.key_files[0] == {
        "name": "demo-pbx.key",
        "sha256": hashlib.sha256(export.key_files[0].content).hexdigest(),
        "mode": 0o600,
    }
    assert revision.sha256 == revisions.whole_checksum(export.text, export.key_files)
    assert {e["name"] for e in revision.snapshot["endpoints"]} >= {"alice", "bob", "office-phone"}
    assert {k["name"] for k in revision.snapshot["keys"]} == {"demo-pbx", "hq"}
    assert services.publish(demo, message="again", actor="test").number == 2


def test_a_revision_is_immutable(demo):
    revision = services.publish(demo, message="first", actor="test")
    revision.message = "rewritten"
    with pytest.raises(ValueError, match="immutable"):
        revision.save()
    assert Revision.objects.get().message == "first"


def test_publishing_is_refused_while_there_are_errors(demo):
    Endpoint.objects.create(host=demo, name="broken", kind="peer", position=99)  # a peer needs host=
    with pytest.raises(services.Refused) as refused:
        services.publish(demo, message="nope", actor="test")
    assert "missing-host" in {f.code for f in refused.value.findings}
    assert not Revision.objects.exists()


def test_publishing_is_refused_when_the_config_changed_since_the_preview(demo):
    seen = hashlib.sha256(revisions.preview_publish(demo).export.text.encode()).hexdigest()
    services.save_endpoint(
        demo, section("carol", "type=friend\nhost=dynamic\nsecret=C4rol-7yHq2m"), actor="test"
    )
    with pytest.raises(services.Conflict):
        services.publish(demo, message="x", expected=seen, actor="test")
    fresh = hashlib.sha256(export_host(demo).text.encode()).hexdigest()
    assert services.publish(demo, message="x", expected=fresh, actor="test").number == 1


def test_preview_is_the_unified_diff_against_the_last_revision(demo):
    assert "+[alice](office-phone)" in revisions.preview_publish(demo).diff
    services.publish(demo, message="first", actor="test")
    assert revisions.preview_publish(demo).diff == ""
    limit = demo.callnumber_limits.get(network="203.0.113.10/32")
    services.save_callnumber_limit(demo, limit=limit, network="203.0.113.10/32", value=4096, actor="test")
    diff = revisions.preview_publish(demo).diff
    assert diff.startswith("--- demo r1\n+++ demo now\n")
    assert "-203.0.113.10/32=2048\n" in diff and "+203.0.113.10/32=4096\n" in diff


def test_revert_brings_back_the_published_text_byte_for_byte(demo):
    r1 = services.publish(demo, message="first", actor="test")
    r1_keys = export_host(demo).key_files
    _mess_up(demo)
    assert export_host(demo).text != r1.conf_text
    batch = services.revert_host(demo, r1, actor="cli:root")
    export = export_host(Host.objects.get(pk=demo.pk))
    assert export.text == r1.conf_text
    assert export.key_files == r1_keys
    assert Endpoint.objects.filter(host=demo, name="bob").exists()  # deleted, back again
    assert not Endpoint.objects.filter(host=demo, name="carol").exists()  # added, gone again
    changes = Change.objects.filter(batch=batch)
    assert set(changes.values_list("actor_name", "message")) == {("cli:root", "revert to revision 1")}
    summary = {(c.action, c.object_type, c.object_repr) for c in changes}
    assert {
        ("create", "endpoint", "[bob]"),
        ("create", "endpoint", "[hq-rsa]"),
        ("create", "key", "hq"),
        ("delete", "endpoint", "[carol]"),
        ("update", "endpoint", "[alice]"),
        ("update", "general", "[general]"),
        ("update", "host", "demo"),
    } <= summary
    assert ALICE_SECRET not in str(list(changes.values("before", "after")))


def test_reverting_to_the_current_state_changes_nothing(demo):
    r1 = services.publish(demo, message="first", actor="test")
    batch = services.revert_host(demo, r1, actor="test")
    assert not Change.objects.filter(batch=batch).exists()


def test_revert_is_all_or_nothing(demo, monkeypatch):
    r1 = services.publish(demo, message="first", actor="test")
    _mess_up(demo)
    text = export_host(demo).text
    monkeypatch.setattr(
        revisions.audit, "record_many", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("down"))
    )
    with pytest.raises(RuntimeError):
        services.revert_host(demo, r1, actor="test")
    assert export_host(demo).text == text
    assert r1.number == 1


def test_a_revision_of_another_host_is_refused(demo):
    other = services.create_host("other", actor="test")
    r1 = services.publish(demo, message="first", actor="test")
    with pytest.raises(ValueError, match="another host"):
        services.revert_host(other, r1, actor="test")


def test_iax_export_revision_writes_the_old_files_exactly(demo, tmp_path):
    r1 = services.publish(demo, message="first", actor="test")
    published = export_host(demo)
    _mess_up(demo)
    Key.objects.filter(name="demo-pbx").update(private_pem="")  # key material changed since
    call_command(
        "iax_export", "--host", "demo", "--revision", "1", "--out", str(tmp_path), stdout=io.StringIO()
    )
    assert (tmp_path / "iax.conf").read_bytes() == r1.conf_text.encode("utf-8")
    for key_file in published.key_files:
        path = tmp_path / "keys" / key_file.name
        assert path.read_bytes() == key_file.content
        assert stat.S_IMODE(os.stat(path).st_mode) == key_file.mode
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["demo-pbx.key", "hq.pub"]


def test_iax_export_revision_that_does_not_exist(demo, tmp_path):
    with pytest.raises(CommandError, match="no revision 3"):
        call_command("iax_export", "--host", "demo", "--revision", "3", "--out", str(tmp_path))


def test_iax_publish_records_the_os_user_and_masks_the_diff(demo, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "root")
    out = io.StringIO()
    call_command("iax_publish", "--host", "demo", "-m", "from cron", stdout=out)
    revision = Revision.objects.get()
    assert (revision.author_name, revision.message) == ("cli:root", "from cron")
    assert "+secret=********" in out.getvalue()
    assert ALICE_SECRET not in out.getvalue() and BACKUP_SECRET not in out.getvalue()
    assert "published demo revision 1" in out.getvalue()


def test_iax_publish_refuses_with_the_findings(demo):
    Endpoint.objects.create(host=demo, name="broken", kind="peer", position=99)  # a peer needs host=
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was published"):
        call_command("iax_publish", "--host", "demo", "-m", "x", stdout=io.StringIO(), stderr=err)
    assert "missing-host" in err.getvalue()


def test_iax_revert_command(demo, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "ops")
    r1 = services.publish(demo, message="first", actor="test")
    _mess_up(demo)
    out = io.StringIO()
    call_command("iax_revert", "--host", "demo", "--revision", "1", "-m", "back", stdout=out)
    assert export_host(demo).text == r1.conf_text
    assert "reverted demo to revision 1" in out.getvalue()
    assert set(Change.objects.filter(message="back").values_list("actor_name", flat=True)) == {"cli:ops"}
    with pytest.raises(CommandError, match="no revision 7"):
        call_command("iax_revert", "--host", "demo", "--revision", "7")


# --- one object --------------------------------------------------------------------------------


def test_revert_object_undoes_an_update(host):
    endpoint = services.save_endpoint(
        host, section("bob", "type=peer\nhost=192.0.2.1\nallow=ulaw"), position=0, actor="test"
    )
    services.save_endpoint(
        host, section("bob", "type=peer\nhost=192.0.2.2"), endpoint=endpoint, position=0, actor="test"
    )
    change = Change.objects.get(action="update")
    services.revert_change(change, actor="cli:root")
    endpoint.refresh_from_db()
    assert endpoint.peer_host == "192.0.2.1"
    assert list(endpoint.options.values_list("value", flat=True)) == ["ulaw"]
    assert Change.objects.filter(actor_name="cli:root", action="update").count() == 1


def test_revert_object_keeps_an_unchanged_secret(host):
    endpoint = services.save_endpoint(
        host, section("bob", "type=peer\nhost=192.0.2.1\nsecret=Keep-Me-1"), position=0, actor="test"
    )
    services.save_endpoint(
        host,
        section("bob", "type=peer\nhost=192.0.2.2\nsecret=Keep-Me-1"),
        endpoint=endpoint,
        position=0,
        actor="test",
    )
    services.revert_change(Change.objects.get(action="update"), actor="test")
    endpoint.refresh_from_db()
    assert (endpoint.peer_host, endpoint.secret) == ("192.0.2.1", "Keep-Me-1")


def test_revert_object_brings_back_a_deleted_object_without_secret(host):
    services.save_callnumber_limit(host, network="10.0.0.0/8", value=3, actor="test")
    endpoint = services.save_endpoint(host, section("bob", "type=peer\nhost=192.0.2.1"), actor="test")
    services.delete_endpoint(endpoint, actor="test")
    services.revert_change(Change.objects.get(action="delete"), actor="test")
    assert Endpoint.objects.get(host=host, name="bob").peer_host == "192.0.2.1"


def test_revert_object_deletes_a_created_object(host):
    services.save_endpoint(host, section("bob", "type=peer\nhost=192.0.2.1"), actor="test")
    services.revert_change(Change.objects.get(action="create"), actor="test")
    assert not Endpoint.objects.exists()


def test_revert_object_refuses_to_invent_a_secret(host):
    endpoint = services.save_endpoint(
        host, section("bob", "type=peer\nhost=192.0.2.1\nsecret=Gone-1"), actor="test"
    )
    services.delete_endpoint(endpoint, actor="test")
    with pytest.raises(services.NotRevertible, match="secret"):
        services.revert_change(Change.objects.get(action="delete"), actor="test")
    assert not Endpoint.objects.exists()


def test_the_preview_diff_masks_every_secret_it_shows(demo):
    services.publish(demo, message="first", actor="test")
    alice = Endpoint.objects.get(host=demo, name="alice")
    entries = [e for e in endpoint_section(alice).entries if e.name != "secret"] + [
        Entry("secret", "New-Secret-42")
    ]
    services.save_endpoint(
        demo, Section("alice", entries, bases=["office-phone"]), endpoint=alice, actor="test"
    )
    diff = revisions.preview_publish(demo).diff
    assert f"-secret={MASK}\n+secret={MASK} (changed)\n" in diff
    assert "New-Secret-42" not in diff and ALICE_SECRET not in diff


# --- concurrency -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_publishes_get_consecutive_numbers():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has no row locks (select_for_update is a no-op there)")
    host = seed_demo()
    services.publish(host, message="base", actor="test")
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker(label: str) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(services.publish(host, actor=f"cli:{label}", message=label).number)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(results) == [2, 3]
    assert list(Revision.objects.filter(host=host).order_by("number").values_list("number", flat=True)) == [
        1,
        2,
        3,
    ]


def test_revert_keeps_the_order_of_rows_that_shared_a_position(host):
    for name in ("first", "second", "third"):  # all at position 0: ordered by id
        Registration.objects.create(host=host, username=name, secret="pw-Secret-1", remote_host="h.example")
    r1 = services.publish(host, message="three", actor="test")
    services.delete_registration(Registration.objects.get(username="first"), actor="test")
    services.revert_host(host, r1, actor="test")
    assert export_host(host).text == r1.conf_text
    assert list(Registration.objects.order_by("position", "id").values_list("username", flat=True)) == [
        "first",
        "second",
        "third",
    ]


def test_revert_restores_templates_and_inheritance(host):
    services.save_endpoint(
        host, section("tpl", "context=from-tpl\nallow=ulaw", template=True), position=0, actor="test"
    )
    services.save_endpoint(
        host,
        section("bob", "type=peer\nhost=dynamic\nsecret=B0b-7yHq2mZx", bases=["tpl"]),
        position=1,
        actor="test",
    )
    r1 = services.publish(host, message="with a template", actor="test")
    services.delete_endpoint(Endpoint.objects.get(name="bob"), actor="test")
    services.delete_endpoint(Endpoint.objects.get(name="tpl"), actor="test")
    services.save_endpoint(host, section("other", "type=user\ncontext=c"), position=0, actor="test")
    services.revert_host(host, r1, actor="test")
    assert export_host(host).text == r1.conf_text
    bob = Endpoint.objects.get(name="bob")
    assert [link.base.name for link in bob.base_links.all()] == ["tpl"]
