"""One-click fixes judged by real Asterisk 22: the safe fixes (lines commented out where chan_iax2
ignores them, notransfer renamed) leave what Asterisk loads exactly as it was, for every corpus
file they apply to; the fixes that are not safe (the did-you-mean, a register line moved to
[general]) change it the way their description says."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from peers.iaxconf import fixes as fx
from peers.iaxconf import render
from peers.iaxconf.normalise import normalise
from peers.iaxconf.parse import parse

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"


def _fixable() -> list[str]:
    names = []
    for path in sorted(CORPUS.glob("*.conf")):
        try:
            document, _ = normalise(parse(path.read_text(encoding="utf-8", errors="replace")).document)
        except Exception:  # a file Asterisk rejects whole: nothing to fix (test_import_corpus covers it)
            continue
        plan = fx.plan(document)
        if fx.select(plan):
            names.append(path.name)
    return names


def _loaded(instance) -> tuple:
    """What Asterisk loaded, without what depends on timing (qualify status, registry state)."""
    snapshot = instance.snapshot()
    peers = sorted((dataclasses.replace(p, status="") for p in snapshot.peers), key=repr)
    details = {
        name: {k: v for k, v in detail.fields.items() if k not in ("Status", "Expire")}
        for name, detail in snapshot.peer_details.items()
    }
    registry = sorted((r.host, r.username, r.refresh) for r in snapshot.registry)
    problems = sorted(str(line) for line in snapshot.problems)
    return (
        peers,
        sorted(snapshot.users, key=repr),
        details,
        registry,
        sorted(snapshot.keys, key=repr),
        problems,
    )


@pytest.mark.parametrize("name", _fixable())
def test_safe_fixes_leave_what_asterisk_loads_unchanged(start, name):
    document, _ = normalise(parse((CORPUS / name).read_text(encoding="utf-8", errors="replace")).document)
    plan = fx.plan(document)
    outcome = fx.resolve(plan, fx.select(plan))
    assert outcome.applied and not outcome.skipped
    before = _loaded(start({"iax.conf": render(plan.document)}))
    after = _loaded(start({"iax.conf": render(outcome.document)}))
    assert after == before


def test_the_did_you_mean_and_a_moved_register_line_change_what_asterisk_reads(start):
    text = (
        "[general]\nbindport=4569\n\n"
        "[trunk]\ntype=peer\nhost=127.0.0.1\nquilify=yes\nregister=me:Long-secret-99@127.0.0.1:4999\n"
    )
    plan = fx.plan(parse(text).document)
    chosen = [f for c in plan.choices for f in c.fixes if f.action in ("rename", "move")]
    assert [f.description for f in chosen] == [
        "rename quilify=yes to qualify=yes in [trunk]",
        "move register=me:********@127.0.0.1:4999 from [trunk] to [general]",
    ]
    outcome = fx.resolve(plan, chosen)
    before = start({"iax.conf": render(plan.document)})
    after = start({"iax.conf": render(outcome.document)})
    # qualify off: "Unmonitored"; on: the peer is poked (OK, UNREACHABLE or UNKNOWN until it answers)
    assert [p.status for p in before.peers()] == ["Unmonitored"]
    assert [p.status for p in after.peers()] != ["Unmonitored"]
    assert before.registry() == []
    assert [(r.host, r.username) for r in after.registry()] == [("127.0.0.1:4999", "me")]
