"""Validation of a whole iax.conf :class:`Document` against what chan_iax2 (Asterisk 22.10.1) does.

``validate(document, keys=...)`` returns every :class:`Finding`; it never stops at the first.
Asterisk itself ignores most mistakes silently (a misplaced or misspelt directive, a register line
in a peer), so these findings are the only place an admin learns about them.

Codes are stable (tests, the UI and the API key on them); messages say what is wrong and how to
fix it. Each rule is a ``_check_*`` function or a step of ``validate``; the rules that were in doubt
are checked against a running Asterisk by the tests.
"""

from __future__ import annotations

import operator
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import NamedTuple

from . import values as v
from .catalogue import COMBINING, FOREIGN, FRIEND, GENERAL, PEER, SECTION_TYPES, USER, catalogue
from .document import Document, Entry, Section, expansions, flatten
from .mask import MASK, mask_value

ERROR = "error"
WARNING = "warning"

STICKY_NOTE = "sticky"


@dataclass(frozen=True, slots=True)
class Finding:
    severity: str
    code: str
    section: str
    directive: str | None
    value: str | None
    message: str
    line: int | None = None
    file: str | None = None
    rule: str | None = None
    # which part of the section or value is at fault, where the directive does not say it:
    # "name" or "bases" of a section header, or a part of a register line (values.Invalid.part)
    part: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def location(self) -> str:
        where = f"[{self.section}]" if self.section else "file"
        if self.directive:
            where += f" {self.directive}"
        if self.line is not None:
            where = (
                f"{self.file or 'line'}:{self.line}: {where}" if self.file else f"line {self.line}: {where}"
            )
        return where

    def __str__(self) -> str:
        return f"{self.severity}: {self.location()}: {self.message} ({self.code})"


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What the validator needs to know about an RSA key the config may refer to."""

    has_public: bool = True
    has_private: bool = False
    private_encrypted: bool = False
    bits: int = 1024


class _Collector:
    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def add(
        self,
        severity: str,
        code: str,
        section: Section | str,
        message: str,
        entry: Entry | None = None,
        *,
        directive: str | None = None,
        value: str | None = None,
        rule: str | None = None,
        part: str | None = None,
    ) -> None:
        name = section if isinstance(section, str) else section.name
        line = entry.line if entry is not None else (None if isinstance(section, str) else section.line)
        file = entry.file if entry is not None else (None if isinstance(section, str) else section.file)
        directive = directive if directive is not None else (entry.name if entry else None)
        value = value if value is not None else (entry.value if entry else None)
        self.findings.append(
            Finding(
                severity=severity,
                code=code,
                section=name,
                directive=directive,
                value=mask_value(directive, value),
                message=message,
                line=line,
                file=file,
                rule=rule,
                part=part,
            )
        )


_MISSING = object()


class ValueChecks:
    """What each value rule said about each (directive, value) this process has checked: the rules
    are pure functions of the catalogue, which owns this memo (``memos_of``).

    What it buys: a host repeats most values across its sections (allow=ulaw, host=dynamic,
    context=from-phones); ``bench/export.py`` validates 10,000 peers about 0.1 s (a third) faster
    when the answers are remembered. Secrets, and register lines that hold one, are never kept; at
    most ``LIMIT`` values per directive (then that directive's answers are dropped)."""

    LIMIT = 50_000
    NEVER = frozenset({"secret", "dbsecret", "register"})

    def __init__(self, cat) -> None:
        self.catalogue = cat
        self.known: dict[str, dict[str, v.Invalid | None]] = {}  # directive name -> value -> problem

    def problem(self, name: str, value: str) -> v.Invalid | None:
        """The problem with this value for this (lower-cased) directive, or None."""
        known = self.known.get(name)
        if known is not None:
            found = known.get(value, _MISSING)
            if found is not _MISSING:
                return found
        directive = self.catalogue.get(name)
        problem = None
        if directive is not None and directive.accepted:
            try:
                directive.check(value)
            except v.Invalid as exc:
                problem = exc
        if name in self.NEVER:  # secrets do not linger in a process-wide memo
            return problem
        if known is None:
            known = self.known[name] = {}
        elif len(known) > self.LIMIT:
            known.clear()
        known[value] = problem
        return problem


class _Memos(NamedTuple):
    values: ValueChecks
    placements: Placements


def memos_of(cat) -> _Memos:
    """The validator's memos kept by a catalogue (created with it, on first use)."""
    memos = cat.memos.get(__name__)
    if memos is None:
        memos = cat.memos.setdefault(__name__, _Memos(ValueChecks(cat), Placements(cat)))
    return memos


def check_value(name: str, value: str) -> v.Invalid | None:
    """The problem with this value for this directive, or None. Unknown names give None."""
    return memos_of(catalogue()).values.problem(name, value)


def _auth_words(value: str | None) -> frozenset[str]:
    """The methods chan_iax2 finds in an auth= value (case-sensitive substrings: md5rsa is both,
    RSA is none)."""
    return v.auth_method_set(value)


def _last(entries: Iterable[Entry], name: str) -> Entry | None:
    found = None
    for entry in entries:
        if entry.name.lower() == name:
            found = entry
    return found


def _all(entries: Iterable[Entry], name: str) -> list[Entry]:
    return [e for e in entries if e.name.lower() == name]


class _Index:
    """An endpoint's entries by lower-cased name, as a scan of its expanded entries would find
    them: its own lines (``own``, built while they are checked) after what its templates give it
    (``inherited``, built once per list of templates and shared by every section using it). The
    position of each name's last line and the lines that turn encryption on are worked out only
    when a rule asks (few sections need them)."""

    __slots__ = ("own", "inherited", "entries")

    def __init__(
        self, own: dict[str, list[Entry]], inherited: dict[str, list[Entry]], entries: list[Entry]
    ) -> None:
        self.own = own
        self.inherited = inherited
        self.entries = entries  # inherited lines first, then the section's own

    def last(self, name: str) -> Entry | None:
        found = self.own.get(name) or self.inherited.get(name)
        return found[-1] if found else None

    def all(self, name: str) -> list[Entry]:
        """Every line of that name, templates' first (a new list when both have some)."""
        own = self.own.get(name)
        inherited = self.inherited.get(name)
        if own and inherited:
            return inherited + own
        return own or inherited or []

    def has(self, name: str) -> bool:
        return name in self.own or name in self.inherited

    def position(self, entry: Entry) -> int:
        """Where this line is last found in the expanded entries (one Entry object may stand for
        the same line in a template and in the section)."""
        found = -1
        for at, candidate in enumerate(self.entries):
            if candidate is entry:
                found = at
        return found

    @property
    def enabling(self) -> list[Entry]:
        """The lines that turn encryption on, in order."""
        encryption = self.all("encryption")
        force = self.all("forceencryption")
        if encryption and force:  # both names: their order comes from the lines themselves
            return [
                e
                for e in self.entries
                if e.name.lower() in _ENCRYPTION_NAMES and e.value.strip().lower() in _ENCRYPTION_ON
            ]
        return [e for e in encryption or force if e.value.strip().lower() in _ENCRYPTION_ON]


def _index_of(entries: Iterable[Entry]) -> dict[str, list[Entry]]:
    by_name: dict[str, list[Entry]] = {}
    for entry in entries:
        lowered = entry.name.lower()
        found = by_name.get(lowered)
        if found is None:
            by_name[lowered] = [entry]
        else:
            found.append(entry)
    return by_name


_NO_INDEX: dict[str, list[Entry]] = {}


def _is_true(value: str | None) -> bool:
    return value is not None and value.strip().lower() in v.TRUE_WORDS


# What a section is, worked out once per validation: the special sections first (a template named
# general is still [general] to chan_iax2), then templates, then endpoints.
_LIMITS, _GENERAL, _TEMPLATE, _ENDPOINT = range(4)


def _role(section: Section) -> int:
    if section.is_callnumberlimits:
        return _LIMITS
    if section.is_general:
        return _GENERAL
    return _TEMPLATE if section.is_template else _ENDPOINT


def _ancestors(bases: list[str], by_name: Mapping[str, Section]) -> frozenset[str]:
    """Every section name (lower-cased) reachable through these bases, loops included once."""
    found: set[str] = set()
    todo = [b.lower() for b in bases]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        section = by_name.get(name)
        if section is not None:
            todo.extend(b.lower() for b in section.bases)
    return frozenset(found)


def validate(
    document: Document, *, keys: Mapping[str, KeyInfo] | None = None, contexts: Collection[str] | None = None
) -> list[Finding]:
    """Every finding for the document. ``keys`` maps key names to what exists in the key store;
    when it is None, key references are not checked against a store. ``contexts``: the contexts
    the host's dialplan defines (``peers.iaxconf.dialplan``); when it is None, context= values are
    not checked against a dialplan.

    Findings come in a fixed order: the file's structure (sections, names, bases, types), then
    each section's lines in document order, then each endpoint's cross-field rules, then
    [general]'s."""
    out = _Collector()
    cat = catalogue()
    document = _merge_additions(out, document)
    sections = document.sections
    roles = [_role(s) for s in sections]

    generals = [s for s, role in zip(sections, roles, strict=True) if role == _GENERAL]
    general = generals[0] if generals else None
    for extra in generals[1:]:
        out.add(
            ERROR,
            "duplicate-general",
            extra,
            "a second [general] section is ignored by chan_iax2 (only the first is read); merge it into the "
            "first one",
        )
    limits = [s for s, role in zip(sections, roles, strict=True) if role == _LIMITS]
    for extra in limits[1:]:
        out.add(
            WARNING, "duplicate-callnumberlimits", extra, "a second [callnumberlimits] section; merge them"
        )

    # Section names, duplicates, bases --------------------------------------------------------
    seen: dict[str, Section] = {}
    position: dict[str, int] = {}
    for index, section in enumerate(sections):
        lowered = section.name.lower()
        if roles[index] >= _TEMPLATE:  # a name chan_iax2 reads as a peer, user or template
            try:
                v.check_section_name(section.name)
            except v.Invalid as exc:
                message = exc.message
                if exc.rule == "whitespace":  # in a header Asterisk keeps them: [ general ] is " general "
                    message = (
                        "has blanks at its start or end, which Asterisk keeps as part of the name (so "
                        "[ general ] is a section named ' general ', not [general]); remove them"
                    )
                out.add(
                    ERROR,
                    "invalid-section-name",
                    section,
                    f"section name '{section.name}' {message}",
                    rule=exc.rule,
                    value=section.name,
                    part="name",
                )
            if lowered in seen:
                out.add(
                    ERROR,
                    "duplicate-section",
                    section,
                    f"[{section.name}] is defined twice (names are compared without case); rename one, or use "
                    "type=friend for one section that is both peer and user",
                    value=section.name,
                    part="name",
                )
        elif section.is_template or section.bases:
            out.add(
                ERROR,
                "special-section-options",
                section,
                f"[{section.name}] cannot be a template or inherit from one",
            )
        seen.setdefault(lowered, section)
        position.setdefault(lowered, index)

    for index, section in enumerate(sections):
        for base in section.bases:
            where = position.get(base.lower())
            if where is None:
                out.add(
                    ERROR,
                    "unknown-base",
                    section,
                    f"[{section.name}] inherits from '{base}', which is not defined; Asterisk rejects the whole "
                    "file",
                    value=base,
                    part="bases",
                )
            elif where >= index:
                out.add(
                    ERROR,
                    "base-order",
                    section,
                    f"[{section.name}] inherits from '{base}', which must be defined before it",
                    value=base,
                    part="bases",
                )

    expanded = expansions(document)
    by_name = {s.name.lower(): s for s in sections}

    # Each section's lines in one pass: endpoints get their type, their lines checked and indexed,
    # then the cross-field rules; templates wait until every endpoint's type is known (their lines
    # are checked as what uses them). Line findings are put back in document order at the end.
    lines = _Collector()
    owners: list[int] = []  # the section index of each of lines.findings
    cross = _Collector()
    general_entries = general.entries if general else []
    general_auth = _last(general_entries, "auth")
    # encryption/forceencryption values are OR-ed together and never switched off (no later value
    # clears them):
    # any line that turns encryption on in [general] turns it on for every peer and user.
    general_encryption = next((e for e in general_entries if _enables_encryption(e)), None)
    general_codec = [(" in [general]", e) for e in _all(general_entries, "codecpriority")]
    known_contexts = frozenset(contexts) if contexts is not None else None
    template_users: dict[str, set[str]] = {}
    lineage: dict[tuple[str, ...], tuple[frozenset[str], list[Entry], dict[str, list[Entry]]]] = {}
    marked: set[tuple[tuple[str, ...], str]] = set()
    templates: list[int] = []

    def mark(section: Section, kind: str, seen_names: frozenset[str]) -> None:
        for base in section.bases:
            base_section = by_name.get(base.lower())
            if base_section is None or base.lower() in seen_names:
                continue
            if base_section.is_template:
                template_users.setdefault(base_section.name.lower(), set()).add(kind)
            mark(base_section, kind, seen_names | {base.lower()})

    for index, section in enumerate(sections):
        role = roles[index]
        before = len(lines.findings)
        if role == _TEMPLATE:
            templates.append(index)
            continue
        if role == _LIMITS:
            _check_limits(lines, section)
        elif role == _GENERAL:
            _check_entries(lines, section, {GENERAL}, cat)
        else:
            entries = expanded[index]
            own_entries = section.entries
            inherited_count = len(entries) - len(own_entries)
            inherited = _NO_INDEX
            ancestors: frozenset[str] = frozenset()
            if section.bases:
                key = tuple(section.bases)
                known = lineage.get(key)
                if known is None:
                    known = lineage[key] = (
                        _ancestors(section.bases, by_name),
                        entries[:inherited_count],
                        _index_of(entries[:inherited_count]),
                    )
                ancestors, shared_entries, inherited = known
                # the shared index holds for this section when its templates gave it the same lines
                if len(shared_entries) != inherited_count or not all(
                    map(operator.is_, shared_entries, entries)
                ):
                    inherited = _index_of(entries[:inherited_count])
            # the first type= line counts (templates' lines come first)
            inherited_types = inherited.get("type")
            first_type = (
                inherited_types[0]
                if inherited_types
                else next((e for e in own_entries if e.name.lower() == "type"), None)
            )
            kind = first_type.value.strip().lower() if first_type is not None else None
            kind = kind if kind in SECTION_TYPES else None
            own = _check_entries(lines, section, {kind} if kind else set(), cat)
            ix = _Index(own, inherited, entries)
            _check_type(out, section, ix)
            if kind is not None:
                lowered = section.name.lower()
                if section.bases:
                    if lowered in ancestors:  # a loop back to this section: marked on its own terms
                        mark(section, kind, frozenset({lowered}))
                    elif (key, kind) not in marked:
                        marked.add((key, kind))
                        mark(section, kind, frozenset({lowered}))
                _check_endpoint(
                    cross, section, kind, entries, general_auth, general_encryption, keys, ix, general_codec
                )
                if known_contexts is not None:
                    _check_contexts(cross, section, kind, ix, known_contexts)
        added = len(lines.findings) - before
        if added:
            owners.extend([index] * added)

    for index in templates:
        section = sections[index]
        own_type = section.first("type")
        used_as = template_users.get(section.name.lower(), set())
        if own_type and own_type.strip().lower() in SECTION_TYPES:
            used_as = used_as | {own_type.strip().lower()}
        before = len(lines.findings)
        _check_entries(lines, section, used_as or {"any-endpoint"}, cat)
        owners.extend([index] * (len(lines.findings) - before))

    line_findings = lines.findings
    if templates and owners != sorted(owners):
        order = sorted(range(len(owners)), key=owners.__getitem__)  # stable: a section keeps its order
        line_findings = [line_findings[i] for i in order]
    out.findings.extend(line_findings)
    out.findings.extend(cross.findings)

    _check_comments(out, document)
    if general is not None:
        _check_general(out, general, keys)
    else:
        out.add(
            WARNING,
            "missing-general",
            "general",
            "there is no [general] section; chan_iax2 runs on built-in defaults",
        )
    return out.findings


def _check_type(out: _Collector, section: Section, ix: _Index) -> None:
    type_entries = ix.all("type")
    if not type_entries:
        out.add(
            ERROR,
            "missing-type",
            section,
            f"[{section.name}] has no type=; chan_iax2 skips it. Add type=peer, user or friend",
        )
        return
    if len(type_entries) == 1:
        return
    first, last = type_entries[0], type_entries[-1]
    if len({e.value.strip().lower() for e in type_entries}) > 1:
        out.add(
            WARNING,
            "type-twice",
            section,
            f"[{section.name}] sets type= {len(type_entries)} times (counting its templates); "
            f"Asterisk 22 uses the first (type={first.value}), Asterisk 23 the last (type={last.value}). "
            "Define type in one place",
            first,
        )
    else:
        out.add(
            WARNING,
            "type-twice",
            section,
            f"[{section.name}] sets type={first.value} {len(type_entries)} times (counting its templates); "
            "define type in exactly one place",
            first,
        )


def _merge_additions(out: _Collector, document: Document) -> Document:
    """``[name](+)`` appends its lines to the earlier section of that name, and chan_iax2 sees one
    section (``[general](+)`` is the way to extend [general] from a later line or file). Fold each
    addition into its target. An addition without a target, or whose target is a template
    (Asterisk's lookup skips templates), makes Asterisk reject the whole file: error. Sections that
    inherited from the target before the addition copied its lines then, so they get the lines
    they inherited written out (``flatten``) and do not see the addition. (The import normalises
    documents the same way first: ``normalise.py``.)"""
    if not any(s.is_addition for s in document.sections):
        return document
    merged: list[Section] = []
    where: dict[str, int] = {}
    for section in document.sections:
        lowered = section.name.lower()
        if not section.is_addition:
            where.setdefault(lowered, len(merged))
            merged.append(section)
            continue
        at = where.get(lowered)
        if at is None:
            out.add(
                ERROR,
                "addition-without-section",
                section,
                f"[{section.name}](+) adds lines to a section that is not defined before it; Asterisk "
                "rejects the whole file",
                value=section.name,
            )
            continue
        if merged[at].is_template:
            out.add(
                ERROR,
                "addition-to-template",
                section,
                f"[{section.name}](+) adds lines to a template; Asterisk's (+) only finds sections that are "
                "not templates, so it rejects the whole file. Add the lines to the template itself",
                value=section.name,
            )
            continue
        for index in range(at + 1, len(merged)):
            if any(b.lower() == lowered for b in merged[index].bases):
                copy = replace(
                    merged[index], entries=list(merged[index].entries), bases=list(merged[index].bases)
                )
                flatten(copy, merged[:index])
                merged[index] = copy
        merged[at] = replace(merged[at], entries=[*merged[at].entries, *section.entries])
    return Document(sections=merged, header=document.header, trailer=document.trailer)


_OK, _UNKNOWN, _FOREIGN, _REMOVED, _MISPLACED = range(5)


class Placement(NamedTuple):
    """What the rules say about a directive name in a section of some kinds, whatever its value."""

    verdict: int  # _OK, _UNKNOWN, _FOREIGN, _REMOVED or _MISPLACED
    directive: object  # the catalogue's Directive (None for a name it does not know)
    deprecated: bool
    repeats: bool  # may be written more than once in such a section
    misplaced: str | None  # where it is not read ("type=user sections"), for the message
    lowered: str  # the name, lower-cased


class Placements:
    """The ``Placement`` of each directive name for each kind of section this process has seen,
    owned by the catalogue (``memos_of``): names and kinds repeat across thousands of sections.

    What it buys: the placement of a line is worked out once per (name, kinds) instead of once per
    line; in ``bench/export.py`` (10,000 peers, ~60,000 lines checked) that is most of the cost of
    checking where lines may be. At most ``LIMIT`` names per kind of section."""

    LIMIT = 10_000

    def __init__(self, cat) -> None:
        self.catalogue = cat
        self.tables: dict[tuple[frozenset[str], bool], dict[str, Placement]] = {}  # (kinds, plain) -> name ->
        self.misplaced: dict[tuple[str, frozenset[str]], str | None] = {}

    def table(self, kinds: frozenset[str], plain_endpoint: bool) -> dict[str, Placement]:
        """The placements known so far for sections of these kinds (by name as written)."""
        return self.tables.get((kinds, plain_endpoint)) or {}

    def of(self, name: str, kinds: frozenset[str], plain_endpoint: bool) -> Placement:
        """The placement of a name in sections of these kinds (remembered)."""
        lowered = name.lower()
        directive = self.catalogue.get(lowered)
        if directive is None:
            plan = Placement(_FOREIGN if lowered in FOREIGN else _UNKNOWN, None, False, False, None, lowered)
        elif not directive.accepted:
            plan = Placement(_REMOVED, directive, False, False, None, lowered)
        else:
            misplaced = None
            if not (lowered == "type" and plain_endpoint) and kinds:
                key = (directive.name, kinds)
                if key not in self.misplaced:
                    self.misplaced[key] = _misplaced_uncached(directive, set(kinds))
                misplaced = self.misplaced[key]
            verdict = _MISPLACED if misplaced else _OK
            repeats = _repeats(directive.name, set(kinds))
            plan = Placement(verdict, directive, directive.deprecated, repeats, misplaced, lowered)
        known = self.tables.setdefault((kinds, plain_endpoint), {})
        if len(known) < self.LIMIT:
            known[name] = plan
        return plan


def _check_entries(out: _Collector, section: Section, kinds: set[str], cat) -> dict[str, list[Entry]]:
    """Check each of the section's own lines (name, placement, value, repetition) and return them
    by lower-cased name, in order."""
    by_name: dict[str, list[Entry]] = {}
    frozen = frozenset(kinds)
    plain_endpoint = section.is_endpoint and not section.is_template
    memos = memos_of(cat)
    placements = memos.placements
    known = placements.table(frozen, plain_endpoint)
    answers = memos.values.known
    for entry in section.entries:
        plan = known.get(entry.name)
        if plan is None:
            plan = placements.of(entry.name, frozen, plain_endpoint)
        lowered = plan.lowered
        found = by_name.get(lowered)
        if found is None:
            found = by_name[lowered] = [entry]
        else:
            found.append(entry)
        if not entry.name.isprintable():  # rare: a fast test first
            _check_unsafe(out, section, entry, "name", entry.name)
        if (plan.verdict or plan.deprecated) and not _name_is_read(out, section, entry, plan, cat):
            if not entry.value.isprintable():  # no value rule runs on a line chan_iax2 does not read
                _check_unsafe(out, section, entry, "value", entry.value)
            continue
        value = entry.value
        cached = answers.get(lowered)
        problem = _MISSING if cached is None else cached.get(value, _MISSING)
        if problem is _MISSING:
            problem = memos.values.problem(lowered, value)
        if problem is not None:
            shown = mask_value(entry.name, value)
            out.add(
                ERROR,
                "invalid-value",
                section,
                f"{entry.name}={shown!r} {problem.message}",
                entry,
                rule=problem.rule,
                part=problem.part,
            )
        # the second line of a name that does not repeat (every line of a name takes this path)
        if len(found) == 2 and not plan.repeats:
            if lowered == "type" and not section.is_template:
                continue  # reported as type-twice, with what Asterisk 22 and 23 each keep
            out.add(
                WARNING,
                "repeated-directive",
                section,
                f"{entry.name} is set more than once here; only the last value counts",
                entry,
            )
    return by_name


def _check_unsafe(out: _Collector, section: Section, entry: Entry, part: str, text: str) -> None:
    """A name, or the value of a line no value rule checks, holding a line break, a line or
    paragraph separator or another control character: an error whatever the directive."""
    found = v.CONTROL_RE.search(text)
    if found:
        out.add(
            ERROR,
            "unsafe-text",
            section,
            f"the {part} of the line {entry.name!r} contains {v.describe_character(found.group())}, which "
            "would break out of its line (or hide the rest of it); remove it",
            entry,
            part=part,
        )


def _name_is_read(out: _Collector, section: Section, entry: Entry, plan: Placement, cat) -> bool:
    """Report a line whose name is unknown, foreign, removed, deprecated or misplaced; False when
    chan_iax2 does not read it there (its value is then not checked)."""
    verdict, directive, deprecated = plan.verdict, plan.directive, plan.deprecated
    misplaced, lowered = plan.misplaced, plan.lowered
    if verdict == _FOREIGN:
        out.add(
            ERROR,
            "foreign-directive",
            section,
            f"{entry.name} is a {FOREIGN[lowered]} option; chan_iax2 ignores it. Remove it",
            entry,
        )
        return False
    if verdict == _UNKNOWN:
        hint = cat.suggest(lowered)
        tail = f"; did you mean {hint}?" if hint else "; remove it"
        out.add(
            ERROR,
            "unknown-directive",
            section,
            f"{entry.name} is not a chan_iax2 directive and is ignored{tail}",
            entry,
        )
        return False
    if verdict == _REMOVED:
        instead = f" Use {directive.replacement} instead." if directive.replacement else ""
        out.add(
            ERROR,
            "removed-directive",
            section,
            f"{entry.name} is no longer read by chan_iax2 (Asterisk 22) and is ignored.{instead}",
            entry,
        )
        return False
    if deprecated:
        instead = f" Use {directive.replacement} instead." if directive.replacement else ""
        out.add(
            WARNING,
            "deprecated-directive",
            section,
            f"{entry.name} is deprecated and removed in Asterisk 23.{instead}",
            entry,
        )
    if verdict == _MISPLACED:
        out.add(
            ERROR,
            "misplaced-directive",
            section,
            f"{entry.name} is not read in {misplaced}; chan_iax2 ignores it there. It belongs in "
            f"{_where(directive.sections)}",
            entry,
        )
        return False
    return True


def _repeats(name: str, kinds: set[str]) -> bool:
    directive = catalogue()[name]
    if directive.name in COMBINING:  # repeated lines add up; see _check_codecpriority
        return True
    if not directive.repeatable:
        return False
    if name in {"secret", "context"}:  # lists on users only; a peer keeps the last one
        return bool(kinds & {USER, FRIEND, "any-endpoint"})
    return True


def _misplaced_uncached(directive, kinds: set[str]) -> str | None:
    for kind in sorted(kinds):
        if kind == "any-endpoint":
            if not directive.sections & {PEER, USER}:
                return "peer or user sections"
        elif kind == FRIEND:
            if not directive.sections & {PEER, USER}:
                return "type=friend sections"
        elif not directive.valid_in(kind):
            return "[general]" if kind == GENERAL else f"type={kind} sections"
    return None


def _where(sections: frozenset[str]) -> str:
    parts = []
    if GENERAL in sections:
        parts.append("[general]")
    if PEER in sections:
        parts.append("peer")
    if USER in sections:
        parts.append("user")
    text = " and ".join(parts[-2:]) if len(parts) > 1 else parts[0]
    if len(parts) == 3:
        text = "[general], peer and user"
    return text + (" sections" if parts != ["[general]"] else "")


def _check_comments(out: _Collector, document: Document) -> None:
    """Comment lines are written as they are: none may hold a character that breaks a line or
    hides text (values and names are checked by their own rules)."""
    for where, lines, entry in _comment_lines(document):
        for line in lines:
            found = v.CONTROL_RE.search(line.replace("\t", " "))
            if found:
                out.add(
                    ERROR,
                    "unsafe-comment",
                    where,
                    f"a comment line {'above ' + entry.name + ' ' if entry else ''}contains "
                    f"{v.describe_character(found.group())}, which would break out of its line; remove it",
                    entry,
                    value=line[:80],
                    part="comment",
                )
                break


def _comment_lines(document: Document):
    if document.header or document.trailer:
        yield "", [*document.header, *document.trailer], None
    for section in document.sections:
        if section.comments:
            yield section, section.comments, None
        for entry in section.entries:
            if entry.comments:
                yield section, entry.comments, entry


def _check_limits(out: _Collector, section: Section) -> None:
    for entry in section.entries:
        try:
            v.check_line_safe(entry.name, max_length=64)
            v.network(entry.name)
        except v.Invalid as exc:
            # the rule's message names the value itself when it quotes it ("'10.0.0.0/33' has ...")
            said = (
                exc.message
                if exc.message.startswith(repr(entry.name.strip()))
                else f"{entry.name!r} {exc.message}"
            )
            out.add(
                ERROR,
                "invalid-callnumberlimit",
                section,
                f"{said}; a [callnumberlimits] line is address[/mask] = limit",
                entry,
                rule=exc.rule,
                part="network",
            )
        try:
            v.check_line_safe(entry.value)
            v.limit_value(entry.value)
        except v.Invalid as exc:
            out.add(
                ERROR,
                "invalid-callnumberlimit",
                section,
                f"the limit {entry.value!r} for {entry.name} {exc.message}",
                entry,
                rule=exc.rule,
                part="limit",
            )


_ENCRYPTION_NAMES = frozenset({"encryption", "forceencryption"})
# get_encrypt_methods: "aes128" or any ast_true word (yes, on, true, 1, y, t) turns AES-128 on
_ENCRYPTION_ON = v.TRUE_WORDS | {"aes128"}


def _enables_encryption(entry: Entry) -> bool:
    """encryption= or forceencryption= with a value that turns AES-128 on (``aes128``, ``yes`` or
    another true word)."""
    return entry.name.lower() in _ENCRYPTION_NAMES and entry.value.strip().lower() in _ENCRYPTION_ON


def _check_endpoint(
    out, section, kind, entries, general_auth, general_encryption, keys, ix: _Index, general_codec=()
) -> None:
    is_peer = kind in (PEER, FRIEND)
    is_user = kind in (USER, FRIEND)

    def point_at(entry: Entry) -> dict:
        """Where a finding about this entry points: the entry itself when the section (or one of its
        templates) has it, else the section, naming the [general] line it inherits."""
        if any(e is entry for e in entries):
            return {"entry": entry}
        return {"entry": None, "directive": entry.name, "value": entry.value}

    host = ix.last("host")
    defaultip = ix.last("defaultip")
    dynamic = host is not None and host.value.strip().lower() == "dynamic"
    if is_peer and host is None:
        out.add(
            ERROR,
            "missing-host",
            section,
            f"[{section.name}] is a {kind} without host=; set host=dynamic or the peer's address",
            None,
            directive="host",
            value="",
        )
    if defaultip is not None and not dynamic:
        # build_peer/create_addr: a static peer whose host does not resolve is called at defaultip
        # instead, and a defaultip that does not resolve drops the whole peer (test_disagreements.py)
        if host is not None:
            out.add(
                WARNING,
                "defaultip-needs-dynamic",
                section,
                f"defaultip={defaultip.value} on a peer with host={host.value} is only used while "
                f"{host.value} does not resolve, and if {defaultip.value} itself does not resolve chan_iax2 "
                "drops the whole peer. Remove defaultip unless you want that fallback (it is meant for "
                "host=dynamic peers, until they register)",
                defaultip,
            )
        else:
            out.add(
                WARNING,
                "defaultip-needs-dynamic",
                section,
                f"defaultip={defaultip.value} is never used on a peer without host= (its address is the "
                "placeholder 0.0.0.0), and if it does not resolve chan_iax2 drops the whole peer. Set "
                "host=dynamic, or remove defaultip",
                defaultip,
            )
    if is_peer and host is not None and not dynamic:
        port = ix.last("port")
        if port is not None and ix.position(port) < ix.position(host):
            out.add(
                WARNING,
                "port-before-host",
                section,
                f"port={port.value} comes before host={host.value}; resolving a static host resets the port "
                "to 4569, so this port is lost. Write port= after host= (set it in the section when host= "
                "is not in the template)",
                port,
            )

    own_auth = ix.last("auth")
    auth_entry = own_auth or general_auth
    auth = _auth_words(auth_entry.value if auth_entry else None)
    secret_lines = ix.all("secret")
    secrets = [e for e in secret_lines if e.value != ""]
    dbsecret = ix.last("dbsecret")
    inkeys = ix.last("inkeys")
    outkey = ix.last("outkey")
    # A user keeps every secret (joined with ';'); a peer only the last line's (build_user/build_peer).
    peer_secret = bool(secret_lines) and secret_lines[-1].value != ""
    has_secret = (peer_secret if kind == PEER else bool(secrets)) or dbsecret is not None
    holes = _check_auth_holes(out, section, kind, dynamic, secret_lines, dbsecret, inkeys, ix)

    # [general] reports its own plaintext; here only the section's own auth line counts.
    if own_auth is not None and "plaintext" in _auth_words(own_auth.value):
        out.add(
            WARNING,
            "plaintext-auth",
            section,
            f"auth={own_auth.value} includes plaintext, which sends the secret in clear text; use md5 "
            "(or rsa)",
            own_auth,
        )
    if auth & {"md5", "plaintext"} and not has_secret and not ("rsa" in auth and (inkeys or outkey)):
        if own_auth is not None:
            out.add(
                ERROR,
                "auth-needs-secret",
                section,
                f"auth={own_auth.value} needs a secret (or dbsecret); set one",
                own_auth,
            )
    if "rsa" in auth:
        source = "" if own_auth is not None else " (from [general])"
        if is_user and inkeys is None:
            out.add(
                ERROR,
                "rsa-needs-inkeys",
                section,
                f"auth={auth_entry.value}{source} includes rsa but no inkeys= names the public keys callers "
                "sign with; add inkeys",
                **point_at(auth_entry),
            )
        if kind == PEER and inkeys is None and outkey is None:
            out.add(
                ERROR,
                "rsa-needs-keys",
                section,
                f"auth={auth_entry.value}{source} includes rsa but neither outkey= (to sign our calls) nor "
                "inkeys= (to verify the peer) is set",
                **point_at(auth_entry),
            )

    for entry in secret_lines:
        if entry not in holes:
            _check_secret_strength(out, section, entry)

    if keys is not None:
        if inkeys is not None and check_value("inkeys", inkeys.value) is None:
            for name in (n.strip() for n in inkeys.value.split(":")):
                info = keys.get(name)
                if info is None or not info.has_public:
                    out.add(
                        ERROR,
                        "unknown-key",
                        section,
                        f"inkeys names '{name}', but there is no public key of that name; upload or generate "
                        f"{name}.pub",
                        inkeys,
                    )
                elif info.bits != 1024:
                    out.add(
                        ERROR,
                        "key-size",
                        section,
                        f"inkeys names '{name}', which has {info.bits} bits; res_crypto only loads 1024-bit "
                        "RSA keys",
                        inkeys,
                    )
        if outkey is not None and check_value("outkey", outkey.value) is None:
            _check_private_key(out, section, outkey.value.strip(), f"outkey={outkey.value}", outkey, keys)

    own_on = ix.enabling
    trigger = own_on[0] if own_on else general_encryption
    if trigger is not None:
        source = f"{trigger.name}={trigger.value}" + ("" if own_on else " in [general]")
        if not has_secret:
            out.add(
                ERROR,
                "encryption-needs-secret",
                section,
                f"{source} turns on encryption, whose keys are derived from the secret; set secret= (or "
                "dbsecret=)",
                **point_at(trigger),
            )
        elif auth and "md5" not in auth:
            out.add(
                ERROR,
                "encryption-needs-md5",
                section,
                f"{source} turns on encryption, which is only negotiated when md5 is among the auth methods "
                f"(auth={auth_entry.value}); use auth=md5 or md5,rsa",
                **point_at(trigger),
            )
        for entry in ix.all("encryption"):
            if entry.value.strip().lower() in v.FALSE_WORDS:
                out.add(
                    WARNING,
                    "encryption-no-has-no-effect",
                    section,
                    f"encryption={entry.value} cannot turn off the encryption that {source} turns on; the "
                    "values only add methods",
                    entry,
                )

    if is_user:
        inherited_codec = [(" from a template", e) for e in ix.inherited.get("codecpriority", ())]
        _check_codecpriority(
            out, section, ix.own.get("codecpriority", []), [*general_codec, *inherited_codec]
        )

    token = ix.last("requirecalltoken")
    if token is not None and token.value.strip().lower() in v.FALSE_WORDS:
        out.add(
            WARNING,
            "calltoken-disabled",
            section,
            f"requirecalltoken={token.value} turns off call-token validation, which protects against "
            "spoofed-source call-number exhaustion; prefer auto",
            token,
        )

    if is_user and not has_secret and inkeys is None:
        if section.name.lower() == "guest":
            out.add(
                WARNING,
                "guest-user",
                section,
                "[guest] has no secret: any caller can reach its context unauthenticated; make sure the "
                "context only offers what the public may dial",
                None,
            )
        elif not (ix.has("permit") or ix.has("deny") or ix.has("acl")):
            out.add(
                WARNING,
                "open-user",
                section,
                f"[{section.name}] is a {kind} without secret, inkeys or permit/deny: anyone who knows "
                "the name can call in as it. Set a secret or restrict it with deny/permit",
                None,
            )


_CODEC_PRIORITY = {"host": 0, "caller": 1, "disabled": 2, "reqonly": 3}  # flags set: none < ... < all


def _check_codecpriority(
    out: _Collector, section: Section, own: list[Entry], before: list[tuple[str, Entry]]
) -> None:
    """codecpriority only sets flags (caller: the caller's order; disabled: no preferences;
    reqonly: also the requested codec only), in [general] and then in each user, which starts
    from [general]'s; ``host`` sets nothing. So a later line cannot undo an earlier, stronger one
    (tests/asterisk/test_disagreements.py reads the result in 'iax2 show users'): warning
    ``codecpriority-no-effect`` on the section's last line when that happens. ``before`` are the
    lines that count first, with where they are ("in [general]", "from a template")."""
    mine = [e for e in own if e.value.strip().lower() in _CODEC_PRIORITY]
    if not mine:
        return
    candidates = [(where, e) for where, e in before if e.value.strip().lower() in _CODEC_PRIORITY]
    candidates += [("", e) for e in mine]
    where, strongest = max(candidates, key=lambda item: _CODEC_PRIORITY[item[1].value.strip().lower()])
    last = mine[-1]
    if _CODEC_PRIORITY[strongest.value.strip().lower()] > _CODEC_PRIORITY[last.value.strip().lower()]:
        target = "[general]" if section.is_general else f"[{section.name}]"
        out.add(
            WARNING,
            "codecpriority-no-effect",
            section,
            f"codecpriority={last.value} does not undo codecpriority={strongest.value}{where}: chan_iax2 only "
            f"adds these settings up, so {target} keeps {strongest.value.strip().lower()}. Remove the "
            f"codecpriority={strongest.value} line instead",
            last,
        )


def _check_auth_holes(out, section, kind, dynamic, secret_lines, dbsecret, inkeys, ix) -> list[Entry]:
    """Authentication Asterisk does not ask for (error findings; tests/asterisk/test_disagreements.py
    shows each one in Asterisk 22.10.1). Returns the empty secret lines reported here.

    * ``open-registration``: a host=dynamic peer without a secret, dbsecret or inkeys accepts a
      registration under its name from anyone its permit/deny lets in (register_verify asks for
      no authentication), and then sends that peer's calls to them. A peer keeps only its last
      secret line, so ``secret=`` after a real one leaves it without one.
    * ``empty-secret-after-secret``: a user joins its secret lines with ';' and tries each part, so
      an empty line after a real one (its own or a template's) is an empty secret that matches
      the MD5 of the challenge alone: anyone who knows the user's name calls in as it."""
    reported: list[Entry] = []
    if kind in (USER, FRIEND):
        real = False
        for entry in secret_lines:
            if entry.value != "":
                real = True
            elif real:
                reported.append(entry)
                out.add(
                    ERROR,
                    "empty-secret-after-secret",
                    section,
                    f"an empty secret= after a real one: chan_iax2 joins [{section.name}]'s secrets with ';' and "
                    "accepts any of them, and the empty one matches the MD5 of the challenge alone, so anyone "
                    "who knows the name calls in as it. Remove the empty line",
                    entry,
                    value="",
                )
    if kind in (PEER, FRIEND) and dynamic and dbsecret is None and inkeys is None:
        final = secret_lines[-1] if secret_lines else None
        if final is None or final.value == "":
            emptied = final is not None and any(e.value != "" for e in secret_lines)
            why = " (its last secret= line is empty, and a peer keeps only the last one)" if emptied else ""
            acl = " its permit/deny lets in" if ix.has("permit") or ix.has("deny") or ix.has("acl") else ""
            if final is not None:
                reported.append(final)
            out.add(
                ERROR,
                "open-registration",
                section,
                f"[{section.name}] is a host=dynamic peer without a secret{why}, dbsecret or inkeys: chan_iax2 "
                f"accepts a registration as {section.name} from anyone{acl} without authentication, and "
                "then sends its calls to them. Set a secret (or inkeys for RSA)",
                final if final is not None and emptied else None,
                **({} if final is not None and emptied else {"directive": "secret", "value": ""}),
            )
    return reported


def _check_contexts(out: _Collector, section: Section, kind: str, ix: _Index, known: frozenset[str]) -> None:
    """context= lines that name no context of the host's dialplan: a call that lands there is
    refused ("No such context/extension"). ``*`` (any context a caller asks for) names none."""
    lines = ix.all("context")
    if kind == PEER:
        lines = lines[-1:]  # a peer keeps its last context= line
    for position, entry in enumerate(lines):
        name = entry.value.strip()
        if not name or name == "*" or name in known:
            continue
        role = "the context calls without one land in" if position == 0 and kind != PEER else "a context"
        if kind == PEER:
            role = "the context of calls placed through this peer"
        close = next((c for c in sorted(known) if c.lower() == name.lower()), None)
        hint = f"; did you mean '{close}' (names are compared with case)?" if close else ""
        out.add(
            WARNING,
            "unknown-context",
            section,
            f"context={name} is {role}, and this host's dialplan has no context '{name}': calls there are "
            f"refused with 'No such context/extension'{hint}",
            entry,
        )


def _check_private_key(out: _Collector, section: Section, name: str, where: str, entry: Entry, keys) -> None:
    """A private key we sign with (outkey, register [key]) must exist and be 1024-bit RSA
    (res_crypto loads no other). One stored without a passphrase is a security warning (the
    project's rule: private keys are encrypted with a passphrase unless the admin deliberately
    chooses not to); a passphrase-protected one needs 'keys init' on the Asterisk host, which the
    key's help text says."""
    info = keys.get(name)
    if info is None or not info.has_private:
        out.add(
            ERROR,
            "missing-private-key",
            section,
            f"{where} signs with key '{name}', but there is no private key of that name; upload {name}.key",
            entry,
        )
    elif info.bits != 1024:
        out.add(
            ERROR,
            "key-size",
            section,
            f"{where} signs with key '{name}', which has {info.bits} bits; res_crypto only loads 1024-bit "
            "RSA keys",
            entry,
        )
    elif not info.private_encrypted:
        out.add(
            WARNING,
            "unencrypted-private-key",
            section,
            f"{where} signs with key '{name}', whose private key has no passphrase: anyone who reads it (a "
            "backup, the key directory) can sign as this server. Protect it with a passphrase, or accept "
            "the risk knowingly",
            entry,
        )


_WEAK_SECRETS = frozenset({"password", "secret", "changeme", "asterisk", "1234"})


def _check_secret_strength(out: _Collector, section: Section, entry: Entry) -> None:
    secret = entry.value
    if secret == "":
        out.add(
            WARNING,
            "empty-secret",
            section,
            "secret is empty; set a strong secret or remove the line",
            entry,
            value="",
        )
        return
    weak = len(secret) < 8 or secret.isdigit()
    if not weak:
        lowered = secret.lower()
        weak = lowered in _WEAK_SECRETS or lowered == section.name.lower()
    if weak:
        out.add(
            WARNING,
            "weak-secret",
            section,
            "the secret is weak (under 8 characters, digits only, or the section name); use at least 12 "
            "random characters",
            entry,
            value=MASK,
        )


def _check_general(out: _Collector, general: Section, keys) -> None:
    entries = general.entries
    _check_codecpriority(out, general, _all(entries, "codecpriority"), [])
    order = [e.name.lower() for e in entries]

    def first_index(name: str) -> int | None:
        return order.index(name) if name in order else None

    bandwidth = first_index("bandwidth")
    codecs_before = [
        i
        for i, n in enumerate(order)
        if n in ("allow", "disallow") and bandwidth is not None and i < bandwidth
    ]
    if codecs_before:
        out.add(
            WARNING,
            "bandwidth-after-codecs",
            general,
            "bandwidth= resets the codec list, wiping allow/disallow lines above it; iaxadmin writes bandwidth "
            "first, so check the codecs still say what you mean",
            entries[bandwidth],
        )
    bindport = first_index("bindport")
    first_bindaddr = first_index("bindaddr")
    if bindport is not None and first_bindaddr is not None and first_bindaddr < bindport:
        out.add(
            WARNING,
            "bindport-after-bindaddr",
            general,
            "bindport must come before bindaddr to apply to it; iaxadmin writes bindport first",
            entries[bindport],
        )
    srv = first_index("srvlookup")
    first_register = first_index("register")
    if srv is not None and first_register is not None and srv > first_register:
        out.add(
            WARNING,
            "srvlookup-after-register",
            general,
            "srvlookup only affects register lines after it; iaxadmin writes srvlookup first",
            entries[srv],
        )

    minimum = _last(entries, "minregexpire")
    maximum = _last(entries, "maxregexpire")
    if minimum is not None and maximum is not None:
        try:
            if int(minimum.value) > int(maximum.value):
                out.add(
                    ERROR,
                    "regexpire-order",
                    general,
                    f"minregexpire={minimum.value} is larger than maxregexpire={maximum.value}",
                    minimum,
                )
        except ValueError:
            pass
    auth = _last(entries, "auth")
    if auth is not None and "plaintext" in _auth_words(auth.value):
        out.add(
            WARNING,
            "plaintext-auth",
            general,
            "auth=plaintext in [general] lets every peer and user send secrets in clear text",
            auth,
        )

    for entry in _all(entries, "register"):
        if check_value("register", entry.value) is not None:
            continue
        credentials = entry.value.split("@", 1)[0]
        _, _, secret_part = credentials.partition(":")
        if secret_part.startswith("[") and keys is not None:
            name = secret_part[1:-1]
            _check_private_key(out, general, name, f"register => {entry.value}", entry, keys)
