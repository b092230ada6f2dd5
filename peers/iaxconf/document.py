"""A plain representation of an iax.conf: what the parser produces, the exporter builds from the
database, the validator checks and the renderer writes. No Django here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GENERAL = "general"
CALLNUMBERLIMITS = "callnumberlimits"


@dataclass(slots=True)
class Entry:
    """One ``name = value`` line. ``comments`` are the ``;`` comment lines written just before it
    (without the leading ``;``); ``line``/``file`` say where it was read from, if it was."""

    name: str
    value: str
    comments: list[str] = field(default_factory=list)
    line: int | None = None
    file: str | None = None
    operator: str = "="


@dataclass(slots=True)
class Section:
    """One ``[name]`` block. Templates are ``[name](!)``; ``bases`` are the sections it inherits
    from, in order (``[name](a,b)``)."""

    name: str
    entries: list[Entry] = field(default_factory=list)
    is_template: bool = False
    is_addition: bool = False  # [name](+): appends to an earlier section of that name
    bases: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    line: int | None = None
    file: str | None = None

    @property
    def is_general(self) -> bool:
        name = self.name
        return len(name) == 7 and name.lower() == GENERAL

    @property
    def is_callnumberlimits(self) -> bool:
        name = self.name
        return len(name) == 16 and name.lower() == CALLNUMBERLIMITS

    @property
    def is_endpoint(self) -> bool:
        name = self.name
        if len(name) not in (7, 16):
            return True
        lowered = name.lower()
        return lowered != GENERAL and lowered != CALLNUMBERLIMITS

    def values(self, name: str) -> list[str]:
        """The values of every entry with this name, in order (own entries only)."""
        lowered = name.lower()
        return [e.value for e in self.entries if e.name.lower() == lowered]

    def first(self, name: str) -> str | None:
        found = self.values(name)
        return found[0] if found else None


@dataclass(slots=True)
class Document:
    sections: list[Section] = field(default_factory=list)
    header: list[str] = field(default_factory=list)  # comment lines at the top of the file
    trailer: list[str] = field(default_factory=list)  # comment lines after the last entry

    def section(self, name: str) -> Section | None:
        lowered = name.lower()
        for section in self.sections:
            if section.name.lower() == lowered:
                return section
        return None

    @property
    def general(self) -> Section | None:
        return self.section(GENERAL)


def expand(document: Document) -> dict[str, list[Entry]]:
    """Every non-template section's effective entries after template inheritance, keyed by the
    section's name as written (the last of two sections with one name wins; see ``expansions``)."""
    return {
        section.name: entries
        for section, entries in zip(document.sections, expansions(document), strict=True)
        if entries is not None
    }


def expansions(document: Document) -> list[list[Entry] | None]:
    """For each section in order, its effective entries after template inheritance, or None for
    templates, [general] and [callnumberlimits]. Bases come first in their listed order, then the
    section's own lines, as main/config.c copies them. Unknown bases and loops are skipped here
    (the validator reports them). A section without bases gets its own entry list, not a copy."""
    by_name: dict[str, Section] = {}
    for section in document.sections:
        by_name.setdefault(section.name.lower(), section)
    memo: dict[str, list[Entry]] = {}  # a base's expansion, shared by every section using it

    def entries_of(section: Section, seen: frozenset[str]) -> list[Entry]:
        if not section.bases:
            return section.entries
        result: list[Entry] = []
        for base_name in section.bases:
            lowered = base_name.lower()
            base = by_name.get(lowered)
            if base is None or lowered in seen:
                continue
            if lowered not in memo or seen != frozenset({section.name.lower()}):
                expanded_base = entries_of(base, seen | {lowered})
                if seen == frozenset({section.name.lower()}):
                    memo[lowered] = expanded_base
            else:
                expanded_base = memo[lowered]
            result.extend(expanded_base)
        result.extend(section.entries)
        return result

    return [
        entries_of(s, frozenset({s.name.lower()})) if not s.is_template and s.is_endpoint else None
        for s in document.sections
    ]


def inherited_entries(section: Section, earlier: list[Section]) -> list[Entry]:
    """The lines ``section`` copies from its bases when Asterisk reads its header: each base is
    the first of the ``earlier`` sections with that name (compared without case), itself
    expanded, in the order the bases are listed (main/config.c copies them at the header, so
    lines added to a base later are not inherited). Unknown bases and loops give nothing."""

    def expand(current: Section, seen: frozenset[str]) -> list[Entry]:
        found: list[Entry] = []
        for base_name in current.bases:
            lowered = base_name.lower()
            base = next((s for s in earlier if s.name.lower() == lowered), None)
            if base is None or lowered in seen:
                continue
            found.extend(expand(base, seen | {lowered}))
            found.extend(base.entries)
        return found

    return expand(section, frozenset({section.name.lower()}))


def flatten(section: Section, earlier: list[Section]) -> None:
    """Write the lines ``section`` inherits into it (copies, without their comments) ahead of its
    own and drop its bases: the same lines for Asterisk, with no reference left to bases that
    change later."""
    copies = [
        Entry(e.name, e.value, [], e.line, e.file, e.operator) for e in inherited_entries(section, earlier)
    ]
    section.entries[:0] = copies
    section.bases = []


def sourced_entries(section: Section, by_name: dict[str, Section]) -> list[tuple[Entry, str]]:
    """The section's effective entries after template inheritance, each with the name of the
    section it is written in: the bases' lines first in their listed order (recursively), then the
    section's own, as ``expansions`` orders them. ``by_name`` maps lower-cased names to sections
    (the first of two sections with one name); unknown bases and loops are skipped."""

    def walk(current: Section, seen: frozenset[str]) -> list[tuple[Entry, str]]:
        result: list[tuple[Entry, str]] = []
        for base_name in current.bases:
            lowered = base_name.lower()
            base = by_name.get(lowered)
            if base is None or lowered in seen:
                continue
            result.extend(walk(base, seen | {lowered}))
        result.extend((entry, current.name) for entry in current.entries)
        return result

    return walk(section, frozenset({section.name.lower()}))
