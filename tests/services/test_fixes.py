"""One-click fixes on a stored host (peers.fixes preview, peers.services.apply_fixes): one recorded
batch, only the changed objects rewritten (their ids and everything else kept), all or nothing,
refused when the configuration changed since the preview."""

from __future__ import annotations

import pytest

from peers import fixes, services
from peers.exporter import export_host
from peers.iaxconf.parse import parse
from peers.models import Change, Endpoint, GeneralOption, Registration
from peers.services import storage

pytestmark = pytest.mark.django_db

IMPORTED = """[general]
bindport=4569
notransfer=yes
forcejitterbuffer=yes
register => hq:Hq-register-99@192.0.2.1

[office](!)
type=friend
host=dynamic
context=from-office
dtmfmode=rfc2833

[alice](office)
secret=Alice-secret-99
nat=yes

[bob](office)
secret=Bob-secret-99x
quilify=yes

[trunk]
type=peer
host=192.0.2.50
delayreject=yes
register=branch:Branch-Secret-9@192.0.2.50
"""


@pytest.fixture
def host():
    services.import_document(parse(IMPORTED).document, host_name="pbx1", actor="import")
    return Endpoint.objects.get(name="alice").host


def _errors(host):
    return sorted((f.code, f.section, f.directive) for f in export_host(host).errors)


def test_fixing_everything_safe_is_one_batch_that_touches_only_what_changed(host):
    ids = dict(Endpoint.objects.values_list("name", "id"))
    preview = fixes.preview(host)
    assert [f.description for f in preview.outcome.applied] == [
        "rename notransfer=yes to transfer=no in [general]",
        "comment out forcejitterbuffer=yes in [general]",
        "comment out dtmfmode=rfc2833 in [office]",
        "comment out nat=yes in [alice]",
        "comment out quilify=yes in [bob]",
        "comment out delayreject=yes in [trunk]",
        "comment out register=branch:********@192.0.2.50 in [trunk]",
    ]
    text = "\n".join(line for _, line in preview.lines)
    assert "Alice-secret-99" not in text and "Branch-Secret-9" not in text
    assert "+; register=branch:********@192.0.2.50 ; iaxadmin fix: not read in type=peer sections" in text

    result = services.apply_fixes(host, expected_version=preview.version, actor="cli:root")
    assert [f.key for f in result.applied] == [f.key for f in preview.outcome.applied]
    assert _errors(host) == []
    assert dict(Endpoint.objects.values_list("name", "id")) == ids  # rewritten in place
    rows = Change.objects.filter(batch=result.batch).order_by("object_repr")
    assert [(c.action, c.object_repr) for c in rows] == [
        ("update", "[alice]"),
        ("update", "[bob]"),
        ("update", "[general]"),
        ("update", "[office]"),
        ("update", "[trunk]"),
    ]
    assert result.changes == 5 and {c.message for c in rows} == {"7 one-click fix(es)"}
    general = list(GeneralOption.objects.filter(general__host=host).values_list("name", "value", "comment"))
    assert general == [
        ("bindport", "4569", ""),
        # the commented line goes with the line before it: a register line is a registration
        (
            "transfer",
            "no",
            " forcejitterbuffer=yes ; iaxadmin fix: no longer read by chan_iax2 (Asterisk 22)",
        ),
    ]
    alice = Endpoint.objects.get(name="alice")
    assert alice.secret == "Alice-secret-99"
    assert "; nat=yes ; iaxadmin fix: a sip.conf option, ignored by chan_iax2" in export_host(host).text
    # the registration and the other lines are untouched
    assert Registration.objects.get(host=host).line() == "hq:Hq-register-99@192.0.2.1"


def test_one_kind_and_chosen_alternatives(host):
    result = services.apply_fixes(host, code="foreign-directive", actor="test")
    assert sorted(f.name for f in result.applied) == ["dtmfmode", "nat"]
    assert ("unknown-directive", "bob", "quilify") in _errors(host)
    plan = fixes.plan(host)
    choices = {c.finding.directive.lower(): c for c in plan.choices}
    rename = next(f for f in choices["quilify"].fixes if f.action == "rename")
    moves = [next(f for f in choices[n].fixes if f.action == "move") for n in ("delayreject", "register")]
    result = services.apply_fixes(host, keys=[rename.key] + [m.key for m in moves], actor="test")
    assert len(result.applied) == 3
    bob = Endpoint.objects.get(name="bob")
    assert bob.qualify == "yes"
    assert ("delayreject", "yes") in GeneralOption.objects.filter(general__host=host).values_list(
        "name", "value"
    )
    moved = Registration.objects.get(host=host, username="branch")
    assert (moved.secret, moved.remote_host, moved.position) == ("Branch-Secret-9", "192.0.2.50", 1)
    batch = Change.objects.filter(batch=Change.objects.latest("id").batch)
    assert sorted((c.action, c.object_type) for c in batch) == [
        ("create", "registration"),
        ("update", "endpoint"),
        ("update", "endpoint"),
        ("update", "general"),
    ]
    assert "Branch-Secret-9" not in str([c.after for c in batch])


def test_a_stale_preview_is_refused_and_nothing_is_written(host):
    preview = fixes.preview(host)
    services.update_host(host, description="changed meanwhile", actor="someone")
    with pytest.raises(services.Conflict):
        services.apply_fixes(host, expected_version=preview.version, actor="test")
    assert ("foreign-directive", "alice", "nat") in _errors(host)


def test_all_or_nothing(host, monkeypatch):
    before = Change.objects.count()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(storage, "write_general", broken)
    with pytest.raises(RuntimeError):
        services.apply_fixes(host, actor="test")
    assert Change.objects.count() == before
    assert ("foreign-directive", "alice", "nat") in _errors(host)  # the endpoints written first rolled back


def test_nothing_to_fix_writes_nothing(host):
    services.apply_fixes(host, actor="test")
    before = Change.objects.count()
    result = services.apply_fixes(host, actor="test")
    assert result.applied == [] and result.changes == 0 and Change.objects.count() == before


# --- iax_fix ----------------------------------------------------------------------------------


def test_iax_fix_dry_run_prints_the_masked_diff_and_writes_nothing(host, capsys):
    from django.core.management import call_command

    before = Change.objects.count()
    call_command("iax_fix", "--host", "pbx1", "--dry-run")
    out = capsys.readouterr().out
    assert out.startswith("--- pbx1 now\n+++ pbx1 fixed\n")
    assert "fix: comment out nat=yes in [alice]\n" in out
    assert "needs a person" not in out and "Alice-secret-99" not in out and "Branch-Secret-9" not in out
    assert out.endswith("pbx1: 7 fix(es) would be applied (dry run)\n")
    assert Change.objects.count() == before


def test_iax_fix_applies_one_code_as_one_recorded_change(host, capsys):
    from django.core.management import call_command

    call_command("iax_fix", "--host", "pbx1", "--code", "foreign-directive")
    out = capsys.readouterr().out
    assert "fix: comment out dtmfmode=rfc2833 in [office]\nfix: comment out nat=yes in [alice]\n" in out
    assert "pbx1: applied 2 fix(es), 2 object(s) changed" in out
    assert {c.actor_name for c in Change.objects.filter(message="2 one-click fix(es)")} == {
        "cli:" + __import__("getpass").getuser()
    }
    assert ("unknown-directive", "bob", "quilify") in _errors(host)
    call_command("iax_fix", "--host", "pbx1", "--code", "foreign-directive")
    assert capsys.readouterr().out.endswith("pbx1: nothing to fix\n")


def test_iax_fix_says_what_needs_a_person_and_refuses_an_unknown_host(capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    services.import_document(
        parse("[general]\n\n[p]\ntype=peer\nhost=192.0.2.1\nallow=g711\nnat=yes\n").document,
        host_name="pbx2",
        actor="import",
    )
    call_command("iax_fix", "--host", "pbx2", "--dry-run")
    out = capsys.readouterr().out
    assert "needs a person: error: [p] allow: allow='g711' 'g711' is not a codec IAX2 can carry" in out
    with pytest.raises(CommandError, match="no host named 'nope'"):
        call_command("iax_fix", "--host", "nope")


def test_the_diff_shows_only_the_changed_sections_and_says_how_many_more_there_are(host):
    whole = fixes.preview(host)
    assert [text for css, text in whole.lines if css == "hunk"] == [
        "@@ [general] @@",
        "@@ [office] @@",
        "@@ [alice] @@",
        "@@ [bob] @@",
        "@@ [trunk] @@",
    ]
    cut = fixes.preview(host, limit=2)
    assert [text for css, text in cut.lines if css == "hunk"] == [
        "@@ [general] @@",
        "@@ [office] @@",
        "@@ … and 3 more changed section(s), not shown here: all are applied @@",
    ]
    assert len(cut.outcome.applied) == len(whole.outcome.applied) == 7
