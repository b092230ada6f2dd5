"""One-click fixes (peers.iaxconf.fixes): each fix on its own, which are safe, and that resolving a
selection never leaves the document with a new error."""

from __future__ import annotations

import pytest

from peers.iaxconf import Document, KeyInfo, render, validate
from peers.iaxconf import fixes as fx
from peers.iaxconf.parse import parse


def _doc(text: str) -> Document:
    return parse(text).document


def _choice(plan: fx.Plan, code: str, name: str) -> fx.Choice:
    return next(c for c in plan.choices if c.finding.code == code and c.finding.directive.lower() == name)


def _fixed(text: str, **select) -> tuple[str, fx.Outcome]:
    plan = fx.plan(_doc(text))
    outcome = fx.resolve(plan, fx.select(plan, **select))
    return render(outcome.document), outcome


def test_a_sip_option_is_commented_out_for_the_record():
    text = "[general]\n\n[alice]\ntype=friend\nhost=dynamic\nnat=yes\nsecret=Alice-secret-99\ncontext=c\n"
    plan = fx.plan(_doc(text))
    (choice,) = plan.choices
    (fix,) = choice.fixes
    assert (fix.action, fix.safe, fix.description, choice.default) == (
        "comment",
        True,
        "comment out nat=yes in [alice]",
        fix,
    )
    conf, outcome = _fixed(text)
    assert conf == (
        "[general]\n\n[alice]\ntype=friend\nhost=dynamic\n"
        "; nat=yes ; iaxadmin fix: a sip.conf option, ignored by chan_iax2\n"
        "secret=Alice-secret-99\ncontext=c\n"
    )
    assert outcome.changed == {"alice"} and [f.key for f in outcome.applied] == [fix.key]
    assert [f for f in validate(outcome.document) if f.is_error] == []


def test_a_commented_line_keeps_no_secret_and_no_control_character():
    text = (
        "[general]\n\n[bob]\ntype=peer\nhost=192.0.2.1\nmd5secret=d41d8cd98f00b204e980\ninsecure=port\x07\n"
    )
    conf, _ = _fixed(text)
    assert "; md5secret=******** ; iaxadmin fix: a sip.conf option, ignored by chan_iax2\n" in conf
    assert "; insecure=port? ; iaxadmin fix:" in conf
    assert "d41d8cd98f00b204e980" not in conf


@pytest.mark.parametrize(
    ("line", "expected"),
    [("notransfer=yes", "transfer=no"), ("notransfer=no", "transfer=yes"), ("NoTransfer=1", "transfer=no")],
)
def test_notransfer_is_renamed_to_the_transfer_it_meant(line, expected):
    text = f"[general]\n{line}\n"
    plan = fx.plan(_doc(text))
    (choice,) = plan.choices
    assert [(f.action, f.safe) for f in choice.fixes] == [("rename", True), ("comment", True)]
    assert choice.default.action == "rename"
    conf, _ = _fixed(text)
    assert conf == f"[general]\n{expected}\n"


def test_notransfer_beside_a_transfer_line_or_with_a_strange_value_is_only_commented():
    for text in ("[general]\ntransfer=mediaonly\nnotransfer=yes\n", "[general]\nnotransfer=perhaps\n"):
        (choice,) = fx.plan(_doc(text)).choices
        assert [f.action for f in choice.fixes] == ["comment"]


def test_other_removed_names_are_commented_out_not_renamed():
    conf, outcome = _fixed("[general]\njitterbuffer=yes\nforcejitterbuffer=yes\nmaxexcessbuffer=80\n")
    assert conf == (
        "[general]\n"
        "; forcejitterbuffer=yes ; iaxadmin fix: no longer read by chan_iax2 (Asterisk 22)\n"
        "; maxexcessbuffer=80 ; iaxadmin fix: no longer read by chan_iax2 (Asterisk 22)\n"
        "jitterbuffer=yes\n"
    )
    assert len(outcome.applied) == 2


def test_a_misspelt_name_is_commented_by_default_and_the_did_you_mean_is_a_choice():
    text = "[general]\n\n[pbx2]\ntype=friend\nhost=dynamic\nsecret=Pbx2-secret-99\ncontext=c\nquilify=yes\n"
    plan = fx.plan(_doc(text))
    (choice,) = plan.choices
    comment, rename = choice.fixes
    assert (comment.action, comment.safe, rename.action, rename.safe) == ("comment", True, "rename", False)
    assert rename.description == "rename quilify=yes to qualify=yes in [pbx2]"
    assert choice.default is comment
    conf, _ = _fixed(text, keys=[rename.key])
    assert "qualify=yes\n" in conf and "quilify" not in conf
    conf, _ = _fixed(text)
    assert "; quilify=yes ; iaxadmin fix: not a chan_iax2 directive, ignored\n" in conf


def test_no_did_you_mean_where_the_suggestion_is_not_read_or_its_value_is_wrong():
    # bindaddr is read only in [general]; qualify=sometimes is not a qualify value
    text = "[general]\n\n[p]\ntype=peer\nhost=192.0.2.1\ntlsbindaddr=0.0.0.0\nquilify=sometimes\n"
    plan = fx.plan(_doc(text))
    assert [[f.action for f in c.fixes] for c in plan.choices] == [["comment"], ["comment"]]


def test_a_general_only_line_in_a_peer_can_move_to_general_once_for_equal_values():
    text = (
        "[general]\nbindport=4569\n\n[a]\ntype=peer\nhost=192.0.2.1\ndelayreject=yes\n\n"
        "[b]\ntype=peer\nhost=192.0.2.2\ndelayreject=yes\n"
    )
    plan = fx.plan(_doc(text))
    first = _choice(plan, "misplaced-directive", "delayreject")
    assert [(f.action, f.safe) for f in first.fixes] == [("comment", True), ("move", False)]
    moves = [f.key for c in plan.choices for f in c.fixes if f.action == "move"]
    conf, outcome = _fixed(text, keys=moves)
    assert conf == (
        "[general]\nbindport=4569\ndelayreject=yes\n\n[a]\ntype=peer\nhost=192.0.2.1\n\n[b]\ntype=peer\nhost=192.0.2.2\n"
    )
    assert outcome.changed == {"a", "b", "general"}


@pytest.mark.parametrize(
    "text",
    [
        "[general]\ndelayreject=no\n\n[a]\ntype=peer\nhost=192.0.2.1\ndelayreject=yes\n",
        "[general]\n\n[a]\ntype=peer\nhost=192.0.2.1\ndelayreject=yes\n\n[b]\ntype=peer\nhost=192.0.2.2\ndelayreject=no\n",
    ],
)
def test_no_move_when_general_has_the_name_or_the_values_differ(text):
    plan = fx.plan(_doc(text))
    assert all(f.action == "comment" for c in plan.choices for f in c.fixes)


def test_a_register_line_in_a_peer_moves_to_general_as_a_register_line():
    text = "[general]\n\n[trunk]\ntype=peer\nhost=192.0.2.1\nregister=me:Secret-99x@192.0.2.1\n"
    plan = fx.plan(_doc(text))
    (choice,) = plan.choices
    move = next(f for f in choice.fixes if f.action == "move")
    assert move.description == "move register=me:********@192.0.2.1 from [trunk] to [general]"
    document, _ = fx.apply(plan.document, [move])
    (entry,) = document.general.entries
    assert (entry.name, entry.value, entry.operator) == ("register", "me:Secret-99x@192.0.2.1", "=>")


def test_a_misplaced_line_in_a_template_some_users_read_has_no_fix():
    text = (
        "[general]\n\n[common](!)\nlanguage=en\nhost=dynamic\n\n"
        "[alice](common)\ntype=peer\n\n[bob](common)\ntype=user\nsecret=Bob-secret-99x\n"
    )
    plan = fx.plan(_doc(text))
    misplaced = [f for f in plan.findings if f.code == "misplaced-directive"]
    assert {f.directive for f in misplaced} == {"language", "host"}
    assert plan.choices == [] and {(f.code, f.directive) for f in plan.unfixable} >= {
        (f.code, f.directive) for f in misplaced
    }


def test_a_misplaced_line_in_a_template_nobody_reads_it_as_is_commented():
    text = "[general]\n\n[peers](!)\nlanguage=en\nhost=dynamic\n\n[alice](peers)\ntype=peer\n"
    (choice,) = fx.plan(_doc(text)).choices
    assert (choice.finding.directive, choice.default.reason) == (
        "language",
        "not read in a template used by type=peer sections",
    )


def test_defaultip_without_dynamic_is_commented_out():
    conf, outcome = _fixed("[general]\n\n[p]\ntype=peer\nhost=192.0.2.1\ndefaultip=192.0.2.9\n")
    # nothing follows the line: its comment goes with the line before it (host), rendered above it
    assert conf == (
        "[general]\n\n[p]\ntype=peer\n"
        "; defaultip=192.0.2.9 ; iaxadmin fix: defaultip is ignored without host=dynamic\n"
        "host=192.0.2.1\n"
    )
    assert [f.code for f in validate(outcome.document) if f.is_error] == []


def test_commented_lines_go_to_the_line_before_when_nothing_follows_never_to_a_register_line():
    plan = fx.plan(_doc("[general]\nbindport=4569\nregister => me:pw-long-one@192.0.2.1\nnat=yes\n"))
    document, _ = fx.apply(plan.document, fx.select(plan))
    bindport, register = document.general.entries
    assert bindport.comments == [" nat=yes ; iaxadmin fix: a sip.conf option, ignored by chan_iax2"]
    assert register.comments == []
    plan = fx.plan(_doc("[general]\n\n[x]\ntype=user\nsecret=X-secret-99aa\n\n[y]\nnat=no\n"))
    document, _ = fx.apply(plan.document, fx.select(plan, code="foreign-directive"))
    assert document.section("y").entries == [] and document.section("y").comments[-1].startswith(" nat=no ;")


def test_a_fix_that_would_bring_in_an_error_is_left_out_with_the_reason():
    text = "[general]\n\n[p]\ntype=peer\nhost=192.0.2.1\noutkeys=missing\nnat=yes\n"
    keys: dict[str, KeyInfo] = {}
    plan = fx.plan(_doc(text), keys=keys)
    rename = next(f for c in plan.choices for f in c.fixes if f.action == "rename")
    nat = _choice(plan, "foreign-directive", "nat").default
    outcome = fx.resolve(plan, [rename, nat], keys=keys)
    assert outcome.applied == []  # both are in [p]: the section that would get the new error
    assert [(f.key, reason) for f, reason in outcome.skipped] == [
        (
            rename.key,
            "it would bring in: outkey=missing signs with key 'missing', but there is no private key of that name; upload missing.key",
        ),
        (
            nat.key,
            "it would bring in: outkey=missing signs with key 'missing', but there is no private key of that name; upload missing.key",
        ),
    ]
    assert fx.resolve(plan, [nat], keys=keys).applied == [nat]


def test_select_by_code_by_keys_and_one_fix_per_line():
    text = "[general]\nnotransfer=yes\nnat=yes\n"
    plan = fx.plan(_doc(text))
    assert [f.name for f in fx.select(plan, code="foreign-directive")] == ["nat"]
    assert [f.action for f in fx.select(plan)] == ["rename", "comment"]
    notransfer = _choice(plan, "removed-directive", "notransfer")
    both = [f.key for f in notransfer.fixes]
    assert [f.action for f in fx.select(plan, keys=[*both, "999-comment"])] == ["rename"]
    assert [c.key for c in fx.plan(_doc(text)).choices[0].fixes] == both  # stable for one document
    assert plan.codes() == {"removed-directive": 1, "foreign-directive": 1} and plan.safe_count() == 2


def test_introduced_counts_repeated_findings():
    before = validate(_doc("[general]\nnat=yes\n"))
    after = validate(_doc("[general]\nnat=yes\nnat=no\n"))
    assert [f.value for f in fx.introduced(before, after)] == ["no"]
    assert fx.introduced(after, before) == []


CORPUS = sorted(
    (__import__("pathlib").Path(__file__).resolve().parents[1] / "data" / "corpus").glob("*.conf")
)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name[:24])
def test_fixing_every_corpus_file_brings_in_no_error_and_a_second_run_finds_nothing(path):
    from peers.iaxconf.normalise import normalise
    from peers.iaxconf.parse import ConfigSyntaxError

    try:
        document, _ = normalise(parse(path.read_text(encoding="utf-8", errors="replace")).document)
    except ConfigSyntaxError:
        pytest.skip("Asterisk rejects this file whole: nothing to fix")
    plan = fx.plan(document)
    outcome = fx.resolve(plan, fx.select(plan))
    assert outcome.skipped == []
    assert fx.introduced(plan.findings, validate(outcome.document)) == []
    text = render(outcome.document)
    assert render(parse(text).document) == text  # the comments read back as comments
    again = fx.plan(parse(text).document)
    assert fx.select(again) == []
