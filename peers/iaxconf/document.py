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
        return self.name.lower() == GENERAL

    @property
    def is_callnumberlimits(self) -> bool:
        return self.name.lower() == CALLNUMBERLIMITS

    @property
    def is_endpoint(self) -> bool:
        return not (self.is_general or self.is_callnumberlimits)

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
    section's name as written. Bases come first in their listed order, then the section's own
    lines, as main/config.c copies them. Unknown bases and loops are skipped here (the validator
    reports them)."""
    by_name = {}
    for section in document.sections:
        by_name.setdefault(section.name.lower(), section)

    def entries_of(section: Section, seen: frozenset[str]) -> list[Entry]:
        result: list[Entry] = []
        for base_name in section.bases:
            base = by_name.get(base_name.lower())
            if base is None or base.name.lower() in seen:
                continue
            result.extend(entries_of(base, seen | {base.name.lower()}))
        result.extend(section.entries)
        return result

    return {
        s.name: entries_of(s, frozenset({s.name.lower()}))
        for s in document.sections
        if not s.is_template and s.is_endpoint
    }
