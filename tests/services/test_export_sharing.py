"""An exported document shares one immutable SharedEntry per distinct comment-less line between
its sections (exporter.build_document): nothing can edit one section's line, and so every section's,
in place."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest

from peers.exporter import SharedEntry, build_document
from peers.iaxconf import Entry
from tests.conftest import section, store

pytestmark = pytest.mark.django_db


def test_repeated_lines_are_one_shared_entry_that_cannot_be_edited(host):
    store(host, section("alice", "type=friend\nhost=dynamic\nallow=ulaw"))
    store(host, section("bob", "type=friend\nhost=dynamic\nallow=ulaw"))
    document, _, _ = build_document(host)
    alice, bob = (s for s in document.sections if s.name in ("alice", "bob"))
    shared = [a for a in alice.entries if any(a is b for b in bob.entries)]
    assert {(e.name, e.value) for e in shared} == {("type", "friend"), ("host", "dynamic"), ("allow", "ulaw")}
    line = shared[0]
    assert isinstance(line, SharedEntry) and isinstance(line, Entry) and line.comments == ()
    with pytest.raises(FrozenInstanceError):
        line.value = "changed"
    with pytest.raises(FrozenInstanceError):
        del line.name
    with pytest.raises(AttributeError):
        line.comments.append("x")  # an empty tuple
    assert (line.name, line.value, line.line, line.file, line.operator) == (
        shared[0].name,
        shared[0].value,
        None,
        None,
        "=",
    )
