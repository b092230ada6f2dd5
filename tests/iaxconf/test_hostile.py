"""Hostile input: every value rule and the parser take anything without crashing, and nothing a
rule accepts can break out of its line in iax.conf.

Bounded for CI (HYPOTHESIS_PROFILE=ci, the default here); `make fuzz` runs the long profile.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peers.iaxconf import Document, Entry, RenderError, Section, catalogue, render
from peers.iaxconf import values as v
from peers.iaxconf.parse import ConfigSyntaxError, parse

settings.register_profile("ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

DIRECTIVES = sorted(d.name for d in catalogue().accepted())

# Text that is likely to hurt: config syntax, line breaks, control and odd Unicode characters.
NASTY = st.text(
    st.one_of(
        st.sampled_from(list("[]();=>+!#\\\"',:@/ \t\r\n\x00\x0b\x0c\x1b\x7f\u2028\u2029\ufeff;-")),
        st.characters(),
    ),
    max_size=80,
)


@pytest.mark.parametrize("name", DIRECTIVES)
@given(value=NASTY)
def test_a_rule_accepts_or_refuses_and_an_accepted_value_stays_on_its_line(name, value):
    directive = catalogue()[name]
    try:
        directive.check(value)
    except v.Invalid as exc:
        assert exc.rule and exc.message
        return
    text = render(Document([Section("s", [Entry(name, value)])]))
    assert text.count("\n") == 2, text  # the header line and this one line, nothing more
    back = parse(text).document.sections
    assert [(e.name, e.value) for e in back[0].entries] == [(name, value)]


@given(name=NASTY)
def test_a_section_name_is_refused_or_writes_one_header(name):
    try:
        v.check_section_name(name)
    except v.Invalid:
        return
    text = render(Document([Section(name, [Entry("type", "peer")])]))
    assert parse(text).document.sections[0].name == name


TOKENS = [
    "[",
    "]",
    "(",
    ")",
    "!",
    "+",
    "=",
    "=>",
    "+=",
    ";",
    ";--",
    "--;",
    "\\;",
    "#include ",
    "#exec ",
    "#tryinclude x",
    "\n",
    "\r\n",
    " ",
    "\t",
    "general",
    "type",
    "peer",
    "host",
    "dynamic",
    "\ufeff",
]
CONFIG_TEXT = st.lists(
    st.one_of(st.sampled_from(TOKENS), st.characters(max_codepoint=0x2FFF)), max_size=120
).map("".join)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(text=CONFIG_TEXT)
def test_the_parser_never_crashes_and_what_it_reads_renders_back_the_same(text):
    try:
        document = parse(text).document
    except ConfigSyntaxError as exc:
        assert exc.line >= 1 and exc.message
        return
    try:
        rendered = render(document)
    except RenderError:
        return  # refused to write something unsafe: never a partial or escaped line
    again = parse(rendered).document
    assert [(s.name, len(s.entries)) for s in again.sections] == [
        (s.name, len(s.entries)) for s in document.sections
    ]
    assert render(again) == rendered
