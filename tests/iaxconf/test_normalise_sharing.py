"""normalise() keeps the parsed entries it does not change (one Entry per line in an import instead
of two) and copies an entry before a later ``+=`` changes it: the parsed document is never
modified, and the result is the same as if every entry had been copied."""

from __future__ import annotations

import copy

from peers.iaxconf.document import Document, Entry, Section
from peers.iaxconf.normalise import normalise


def test_unchanged_entries_are_shared_and_the_parsed_document_stays_as_it_was():
    plain = Entry("allow", "ulaw", [], 2)
    base = Entry("setvar", "A=1", [], 3)
    addition = Entry("setvar", ",B=2", [" more"], 4, operator="+=")
    parsed = Document(sections=[Section("bob", [plain, base, addition], line=1)])
    before = copy.deepcopy(parsed)
    document, findings = normalise(parsed)
    assert findings == []
    assert parsed == before  # the += did not change the parsed entry
    entries = document.sections[0].entries
    assert entries[0] is plain  # kept as it was
    assert entries[1] is not base and entries[1] == Entry("setvar", "A=1,B=2", [" more"], 3)


def test_an_entry_that_gets_carried_comments_is_a_copy():
    parsed = Document(
        sections=[
            Section("bob", [Entry("allow", "ulaw", [], 2)], line=1),
            Section("bob", [Entry("allow", "alaw", [], 5)], comments=[" second"], line=4),
        ]
    )
    before = copy.deepcopy(parsed)
    document, _ = normalise(parsed)
    assert parsed == before
    assert [(e.value, e.comments) for e in document.sections[0].entries] == [
        ("ulaw", []),
        ("alaw", [" second"]),
    ]
