"""A host's dialplan contexts (DialplanContexts), written only through peers.services.dialplan:
uploaded from extensions.conf, reported by the agent, given by the API; recorded in the history;
and what they change: unknown-context findings on the host and the extension check of the call
simulator."""

from __future__ import annotations

import pytest

from peers import services
from peers.exporter import export_host
from peers.models import Change, DialplanContexts
from peers.simulation import call_inputs
from tests.conftest import section

pytestmark = pytest.mark.django_db

EXTENSIONS = b"""[general]
static=yes
[globals]
X=1
[from-alice]
exten => 100,1,Echo()
#include office.conf
"""


def test_an_upload_stores_the_contexts_and_records_one_change(host):
    row, found = services.import_extensions(
        host, "extensions.conf", {"extensions.conf": EXTENSIONS, "office.conf": b"[office]\n"}, actor="test"
    )
    assert (
        row.contexts == ["from-alice", "office"]
        and row.source == "upload"
        and row.detail == "extensions.conf"
    )
    change = Change.objects.get(object_type="dialplan")
    assert (change.action, change.host, change.object_repr, change.actor_name) == (
        "create",
        host,
        "dialplan contexts",
        "test",
    )
    assert change.after["contexts"] == ["from-alice", "office"]
    assert services.dialplan_version(host) == change.pk


def test_the_same_list_again_writes_no_history_and_a_new_one_an_update(host):
    services.save_dialplan(host, ["a", "b"], source="agent", detail="agent 1.0.0", actor="api:agent")
    services.save_dialplan(host, ["a", "b", "a"], source="agent", detail="agent 1.0.1", actor="api:agent")
    assert Change.objects.filter(object_type="dialplan").count() == 1
    services.save_dialplan(host, ["a", "c"], source="agent", actor="api:agent")
    update = Change.objects.filter(object_type="dialplan").order_by("-id").first()
    assert update.action == "update"
    assert (update.before["contexts"], update.after["contexts"]) == (["a", "b"], ["a", "c"])


def test_bad_names_and_bad_files_are_refused_with_the_reason(host):
    with pytest.raises(services.Refused) as caught:
        services.save_dialplan(host, ["ok", "has space"], source="api", actor="test")
    assert caught.value.findings[0].code == "invalid-dialplan"
    assert "'has space'" in caught.value.message
    with pytest.raises(services.Refused, match=r"extensions.conf, line 2"):
        services.import_extensions(
            host, "extensions.conf", {"extensions.conf": b"[a]\n[broken\n"}, actor="test"
        )
    with pytest.raises(services.Refused, match="upload other.conf"):
        services.import_extensions(
            host, "extensions.conf", {"extensions.conf": b'#include "/etc/other.conf"\n'}, actor="test"
        )
    assert not DialplanContexts.objects.exists() and not Change.objects.exists()


def test_a_stale_version_is_a_conflict(host):
    row = services.save_dialplan(host, ["a"], source="api", actor="ann")
    version = services.dialplan_version(host)
    services.save_dialplan(host, ["b"], source="api", actor="bob")
    with pytest.raises(services.Conflict):
        services.save_dialplan(host, ["c"], source="api", actor="ann", expected_version=version)
    row.refresh_from_db()
    assert row.contexts == ["b"]


def test_clearing_and_deleting_the_host_are_recorded(host):
    services.save_dialplan(host, ["a"], source="api", actor="test")
    assert services.clear_dialplan(host, actor="test") is True
    assert services.clear_dialplan(host, actor="test") is False
    assert list(
        Change.objects.filter(object_type="dialplan").values_list("action", flat=True).order_by("id")
    ) == ["create", "delete"]
    services.save_dialplan(host, ["a"], source="api", actor="test")
    services.delete_host(host, actor="test")
    deleted = Change.objects.filter(object_type="dialplan").order_by("-id").first()
    assert deleted.action == "delete" and deleted.host_name == "pbx1" and deleted.before["contexts"] == ["a"]


def test_a_revert_keeps_the_dialplan(host):
    services.save_endpoint(
        host, section("alice", "type=user\nsecret=Alice-secret-1\ncontext=a"), actor="test"
    )
    services.save_dialplan(host, ["a"], source="api", actor="test")
    revision = services.publish(host, actor="test")
    services.save_dialplan(host, ["a", "b"], source="api", actor="test")
    services.revert_host(host, revision, actor="test")
    assert DialplanContexts.objects.get(host=host).contexts == ["a", "b"]


def test_contexts_make_findings_and_the_simulator_check_extensions(host):
    services.save_endpoint(
        host, section("alice", "type=user\nsecret=Alice-secret-1\ncontext=from-alice"), actor="t"
    )
    assert "unknown-context" not in [f.code for f in export_host(host).findings]
    assert call_inputs(host)[2] is None
    services.save_dialplan(host, ["default"], source="api", actor="test")
    found = [f for f in export_host(host).findings if f.code == "unknown-context"]
    assert [(f.section, f.value) for f in found] == [("alice", "from-alice")]
    assert call_inputs(host)[2] == ["default"]
