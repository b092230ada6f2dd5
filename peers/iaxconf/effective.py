"""The effective value of each directive of a section: set in the section itself, inherited from
one of its templates (and which), or left to Asterisk's default (from the catalogue).

chan_iax2 reads a section's lines after its templates' (``document.sourced_entries``): for a
directive read once, the last line wins (the section's own line overrides its templates'); the
lines of a repeatable directive (codecs, ACLs, contexts, setvar, secrets) add up, templates'
first. The validator reads them the same way (``validate._Index``). No Django here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .catalogue import catalogue
from .document import Section, sourced_entries
from .mask import mask_value

OWN, INHERITED, DEFAULT, UNSET = "own", "inherited", "default", "unset"


@dataclass(slots=True)
class Line:
    value: str
    section: str  # where the line is written: the section itself or one of its templates


@dataclass(slots=True)
class Effective:
    """One directive of one section: its own lines, the lines it inherits, the catalogue default."""

    name: str
    section: str
    own: tuple[Line, ...] = ()
    inherited: tuple[Line, ...] = ()
    default: str | None = None  # the catalogue's default, as the catalogue says it
    repeatable: bool = False

    @property
    def source(self) -> str:
        if self.own:
            return OWN
        if self.inherited:
            return INHERITED
        return DEFAULT if self.default not in (None, "") else UNSET

    @property
    def lines(self) -> tuple[Line, ...]:
        """The lines chan_iax2 applies: every line of a repeatable directive (templates' first),
        else the last one."""
        every = self.inherited + self.own
        if self.repeatable or not every:
            return every
        return (every[-1],)

    @property
    def values(self) -> list[str]:
        return [line.value for line in self.lines]

    @property
    def value(self) -> str | None:
        """The value in force (for a repeatable directive, its first line: for context= the
        default context), or None when no line sets it."""
        lines = self.lines
        if not lines:
            return None
        return lines[0].value if self.repeatable else lines[-1].value

    @property
    def origin(self) -> str | None:
        """The section the value in force is written in."""
        lines = self.lines
        if not lines:
            return None
        return (lines[0] if self.repeatable else lines[-1]).section

    @property
    def overridden(self) -> tuple[Line, ...]:
        """Inherited lines the section's own line replaces (a directive read once)."""
        return self.inherited if self.own and not self.repeatable else ()

    def masked(self) -> Effective:
        """The same with secret values replaced by the mask (for pages)."""

        def hide(lines):
            return tuple(Line(mask_value(self.name, line.value) or "", line.section) for line in lines)

        return Effective(
            self.name, self.section, hide(self.own), hide(self.inherited), self.default, self.repeatable
        )


def effective(
    section: Section, by_name: dict[str, Section], names: Iterable[str] | None = None
) -> dict[str, Effective]:
    """name -> Effective for ``names`` (lower-cased; default: every accepted directive), for a
    section whose templates are found in ``by_name`` (lower-cased names)."""
    cat = catalogue()
    wanted = [n.lower() for n in names] if names is not None else [d.name for d in cat.accepted()]
    own: dict[str, list[Line]] = {n: [] for n in wanted}
    inherited: dict[str, list[Line]] = {n: [] for n in wanted}
    mine = section.name
    for entry, source in sourced_entries(section, by_name):
        name = entry.name.lower()
        if name in own:
            (own if source == mine else inherited)[name].append(Line(entry.value, source))
    result = {}
    for name in wanted:
        directive = cat.get(name)
        result[name] = Effective(
            name,
            mine,
            tuple(own[name]),
            tuple(inherited[name]),
            directive.default if directive is not None else None,
            bool(directive and directive.repeatable),
        )
    return result


def sections_by_name(sections: Iterable[Section]) -> dict[str, Section]:
    """Lower-cased name -> section, the first of two with one name (as ``expansions`` finds them)."""
    found: dict[str, Section] = {}
    for section in sections:
        found.setdefault(section.name.lower(), section)
    return found


def inherited_lines(
    section: Section, by_name: dict[str, Section], names: Iterable[str]
) -> list[tuple[str, Line]]:
    """(directive, line) for every inherited line of these directives, in the order chan_iax2
    reads them (for interleaved pairs: allow/disallow, permit/deny)."""
    wanted = {n.lower() for n in names}
    return [
        (entry.name.lower(), Line(entry.value, source))
        for entry, source in sourced_entries(section, by_name)
        if source != section.name and entry.name.lower() in wanted
    ]


class Resolver:
    """``effective`` for many sections of one document (a list of 10,000 sections): the lines a
    list of templates gives are worked out once and shared by every section using that list."""

    def __init__(self, by_name: dict[str, Section], names: Iterable[str]) -> None:
        cat = catalogue()
        self.by_name = by_name
        self.names = tuple(n.lower() for n in names)
        self.meta = {}
        for name in self.names:
            directive = cat.get(name)
            self.meta[name] = (
                directive.default if directive else None,
                bool(directive and directive.repeatable),
            )
        self._cache: dict[tuple[str, ...], tuple[frozenset[str], dict[str, tuple[Line, ...]]]] = {}

    def _reach(self, bases: tuple[str, ...]) -> frozenset[str]:
        found: set[str] = set()
        todo = list(bases)
        while todo:
            name = todo.pop()
            if name in found:
                continue
            found.add(name)
            base = self.by_name.get(name)
            if base is not None:
                todo.extend(b.lower() for b in base.bases)
        return frozenset(found)

    def inherited(self, name: str, bases: list[str]) -> dict[str, tuple[Line, ...]]:
        """directive -> the lines a section called ``name`` inherits from ``bases``."""
        key = tuple(b.lower() for b in bases)
        if not key:
            return {}
        own = name.lower()
        hit = self._cache.get(key)
        if hit is not None and own not in hit[0]:
            return hit[1]
        found: dict[str, list[Line]] = {}
        for entry, source in sourced_entries(Section(name, [], bases=list(bases)), self.by_name):
            lowered = entry.name.lower()
            if lowered in self.meta:
                found.setdefault(lowered, []).append(Line(entry.value, source))
        result = {directive: tuple(lines) for directive, lines in found.items()}
        reach = self._reach(key)
        if own not in reach:
            self._cache[key] = (reach, result)
        return result

    def one(
        self, name: str, own: tuple[Line, ...], inherited: dict[str, tuple[Line, ...]], directive: str
    ) -> Effective:
        default, repeatable = self.meta[directive]
        return Effective(directive, name, own, inherited.get(directive, ()), default, repeatable)

    def resolve(self, section: Section) -> dict[str, Effective]:
        inherited = self.inherited(section.name, section.bases)
        own: dict[str, list[Line]] = {}
        for entry in section.entries:
            name = entry.name.lower()
            if name in self.meta:
                own.setdefault(name, []).append(Line(entry.value, section.name))
        return {
            name: Effective(
                name, section.name, tuple(own.get(name, ())), inherited.get(name, ()), default, repeatable
            )
            for name, (default, repeatable) in self.meta.items()
        }
