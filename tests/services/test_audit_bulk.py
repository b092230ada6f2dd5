"""audit.record_many writes its Change rows with plain INSERTs (peers.bulk): each row must be the
one build_change() makes and the ORM would save, secrets masked, read back through the ORM."""

from __future__ import annotations

import uuid

import pytest

from peers import audit
from peers.audit import ObjectState
from peers.models import Change, Host

pytestmark = pytest.mark.django_db

FIELDS = (
    "actor_id",
    "actor_name",
    "batch",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "host_id",
    "host_name",
    "before",
    "after",
    "message",
)


def test_record_many_rows_are_the_rows_build_change_makes(django_user_model):
    user = django_user_model.objects.create(username="alice")
    host = Host.objects.create(name="pbx1")
    old = {"name": "bob", "secret": "Old-secret-123", "context": "a", "extra_secrets": None, "options": []}
    new = dict(old, secret="New-secret-456", context="b")
    before = {
        ("endpoint", "bob"): ObjectState("endpoint", 7, "[bob]", old),
        ("endpoint", "gone"): ObjectState("template", 8, "[gone]", dict(old, name="gone")),
    }
    after = {
        ("endpoint", "bob"): ObjectState("endpoint", 7, "[bob]", new),
        ("endpoint", "new"): ObjectState("endpoint", 9, "[new]", dict(new, name="new")),
    }
    batch = uuid.uuid4()
    written = audit.record_many(before, after, actor=user, host=host, batch=batch, message="why")
    assert [(w.action, w.object_repr) for w in written] == [
        ("update", "[bob]"),
        ("create", "[new]"),
        ("delete", "[gone]"),
    ]
    rows = list(Change.objects.filter(batch=batch).order_by("id"))
    expected = [
        audit.build_change(
            actor=user,
            action=action,
            object_type=(n or o).object_type,
            object_id=(n or o).object_id,
            object_repr=(n or o).object_repr,
            host=host,
            before=o.state if o else None,
            after=n.state if n else None,
            batch=batch,
            message="why",
        )
        for action, o, n in audit.changes_between(before, after)
    ]
    assert [[getattr(r, f) for f in FIELDS] for r in rows] == [
        [getattr(e, f) for f in FIELDS] for e in expected
    ]
    assert rows[0].after["secret"] == "********" and rows[0].after["secrets_changed"] == ["secret"]
    assert rows[2].after is None and rows[1].before is None
    assert all(r.at is not None for r in rows)


def test_record_many_without_a_host_or_a_user():
    batch = uuid.uuid4()
    state = {
        "name": "k1",
        "private_pem": "PRIVATE",
        "public_pem": "",
        "private_encrypted": False,
        "bits": 1024,
        "fingerprint": "",
    }
    audit.record_many(
        {}, {("key", "k1"): ObjectState("key", 3, "k1", state)}, actor="cli:root", host=None, batch=batch
    )
    row = Change.objects.get(batch=batch)
    assert (row.actor_id, row.actor_name, row.host_id, row.host_name) == (None, "cli:root", None, "")
    assert row.after["private_pem"] == "********"
