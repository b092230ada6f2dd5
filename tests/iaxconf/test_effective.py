"""Effective values: own, inherited (from which template) or the catalogue's default."""

from __future__ import annotations

import pytest

from peers.iaxconf import catalogue
from peers.iaxconf.catalogue import input_for
from peers.iaxconf.document import expansions, sourced_entries
from peers.iaxconf.effective import DEFAULT, INHERITED, OWN, UNSET, effective, sections_by_name
from peers.iaxconf.parse import parse

CONF = """
[phones](!)
type=friend
host=dynamic
qualify=yes
context=from-phones
disallow=all
allow=g722
secret=TemplateSecret-1

[quiet](!)
qualify=no
allow=ulaw

[alice](phones)
context=extra
allow=gsm

[bob](phones,quiet)
qualify=2000

[carol](quiet,phones)

[loop](loop)
host=192.0.2.1
"""


@pytest.fixture(scope="module")
def doc():
    return parse(CONF).document


def _eff(doc, name, *names):
    by = sections_by_name(doc.sections)
    return effective(doc.section(name), by, names)


def test_inherited_value_names_the_template(doc):
    found = _eff(doc, "alice", "qualify", "host")
    assert found["qualify"].source == INHERITED
    assert (found["qualify"].value, found["qualify"].origin) == ("yes", "phones")
    assert found["host"].value == "dynamic"


def test_own_line_overrides_and_the_last_template_wins(doc):
    bob = _eff(doc, "bob", "qualify")["qualify"]
    assert (bob.source, bob.value, bob.origin) == (OWN, "2000", "bob")
    assert [line.value for line in bob.overridden] == ["yes", "no"]
    carol = _eff(doc, "carol", "qualify")["qualify"]  # quiet first, then phones: phones' line is last
    assert (carol.value, carol.origin) == ("yes", "phones")


def test_repeatable_lines_add_up_templates_first(doc):
    alice = _eff(doc, "alice", "allow", "context")
    assert alice["allow"].values == ["g722", "gsm"]
    # the first context= is the default context: the template's, not alice's own line
    assert (alice["context"].value, alice["context"].origin) == ("from-phones", "phones")
    assert alice["context"].values == ["from-phones", "extra"]


def test_default_and_unset(doc):
    found = _eff(doc, "alice", "trunk", "defaultip")
    assert (
        found["trunk"].source == DEFAULT and found["trunk"].default == "no" and found["trunk"].value is None
    )
    assert found["defaultip"].source == UNSET


def test_masked_hides_inherited_secrets(doc):
    secret = _eff(doc, "alice", "secret")["secret"].masked()
    assert secret.source == INHERITED
    assert [line.value for line in secret.inherited] == ["********"]


def test_a_loop_is_skipped(doc):
    assert _eff(doc, "loop", "host")["host"].values == ["192.0.2.1"]


def test_sourced_entries_are_the_expansion(doc):
    by = sections_by_name(doc.sections)
    for section, expanded in zip(doc.sections, expansions(doc), strict=True):
        if expanded is not None:
            assert [entry for entry, _ in sourced_entries(section, by)] == expanded


@pytest.mark.parametrize(
    ("name", "kind", "extra"),
    [
        ("trunk", "bool", {"choices": ("yes", "no")}),
        ("transfer", "choice", {"choices": ("yes", "no", "mediaonly")}),
        ("trunkfreq", "number", {"minimum": 10, "maximum": 1000}),
        ("trunkmtu", "number", {"minimum": 0, "maximum": 3999}),
        ("allow", "codecs", {}),
        ("permit", "acl", {}),
        ("inkeys", "keys", {}),
        ("outkey", "key", {}),
        ("auth", "auth", {"choices": ("md5", "rsa", "plaintext")}),
        ("secret", "secret", {}),
        ("context", "lines", {}),
        ("qualify", "text", {"suggestions": ("yes", "no", "2000")}),
    ],
)
def test_each_rule_gets_its_input(name, kind, extra):
    found = input_for(name)
    assert found.kind == kind
    for key, value in extra.items():
        assert getattr(found, key) == value


def test_every_accepted_directive_has_an_input():
    for directive in catalogue().accepted():
        assert directive.input.kind


def test_default_value_is_a_value_or_none():
    cat = catalogue()
    assert cat["qualify"].default_value == "no"
    assert cat["port"].default_value == "4569"
    assert cat["allow"].default_value is None  # described in words ("the [general] result")


def test_the_resolver_gives_what_effective_gives(doc):
    from peers.iaxconf.effective import Resolver

    by = sections_by_name(doc.sections)
    names = ("qualify", "host", "context", "allow", "secret", "trunk")
    resolver = Resolver(by, names)
    for section in doc.sections:
        if section.is_endpoint:
            assert resolver.resolve(section) == effective(section, by, names), section.name
