"""normalise(): (+) sections, +=, duplicate sections and a second [general], as Asterisk's config
reader combines them, before an import stores the document (no database)."""

from __future__ import annotations

import pytest

from peers.iaxconf import Document, Entry, Section
from peers.iaxconf.normalise import IGNORED, NormaliseError, normalise


def e(name, value, line=None, **kw):
    return Entry(name=name, value=value, line=line, **kw)


def doc(*sections, header=(), trailer=()):
    return Document(sections=list(sections), header=list(header), trailer=list(trailer))


def test_addition_sections_are_appended_to_the_earlier_one():
    document, findings = normalise(
        doc(
            Section("general", [e("bindport", "4569")]),
            Section("general", [e("tos", "ef")], is_addition=True),
        )
    )
    assert [(x.name, x.value) for x in document.general.entries] == [("bindport", "4569"), ("tos", "ef")]
    assert findings == []


def test_plus_equals_appends_to_the_previous_line():
    document, _ = normalise(
        doc(Section("p", [e("type", "peer"), e("allow", "ulaw"), e("allow", ",g722", operator="+=")]))
    )
    assert [(x.name, x.value) for x in document.sections[0].entries] == [
        ("type", "peer"),
        ("allow", "ulaw,g722"),
    ]


def test_a_second_general_is_kept_only_as_comments_and_reported():
    document, findings = normalise(
        doc(
            Section("general", [e("tos", "ef")]),
            Section("general", [e("bindport", "4570", 9)], line=8),
            Section("p", [e("type", "peer")]),
        )
    )
    assert [s.name for s in document.sections] == ["general", "p"]
    assert document.sections[1].comments == [
        f" {IGNORED}line of a second [general] at line 9: bindport = 4570"
    ]
    assert [(f.code, f.severity, f.line) for f in findings] == [("duplicate-general", "warning", 8)]


def test_duplicate_endpoint_sections_are_merged_and_reported():
    document, findings = normalise(
        doc(Section("a", [e("type", "peer")]), Section("a", [e("host", "dynamic")], line=5))
    )
    assert [(x.name, x.value) for x in document.sections[0].entries] == [
        ("type", "peer"),
        ("host", "dynamic"),
    ]
    assert [(f.code, f.line) for f in findings] == [("duplicate-section", 5)]


def test_generated_header_lines_are_dropped():
    document, _ = normalise(doc(Section("general"), header=["iaxadmin: sha256 ...", " my own note"]))
    assert document.header == [" my own note"]


def test_addition_to_an_undefined_section_stops_the_import():
    with pytest.raises(NormaliseError, match=r"\[x\]\(\+\) adds to a section that is not defined"):
        normalise(doc(Section("x", [e("type", "peer")], is_addition=True)))
