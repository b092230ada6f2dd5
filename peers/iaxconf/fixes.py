"""One-click fixes for what an imported iax.conf leaves behind: findings + document -> the changed
document. Pure Python, no Django.

A fix changes one line of the document, mechanically:

* **comment** it out: the line leaves the section and is kept, as a comment, for the record
  (``nat=yes ; iaxadmin fix: ...``). Only offered for a line chan_iax2 does not read where it
  is, so Asterisk's behaviour does not change: it is always *safe*.
* **rename** it: ``notransfer=yes`` -> ``transfer=no`` (a removed name with an exact
  replacement: *safe*), or the validator's "did you mean" (``quilify`` -> ``qualify``: a guess,
  so *not safe*: it makes Asterisk read a value it ignores today).
* **move** it where chan_iax2 reads it: a [general]-only directive written in a peer, user or
  template goes to [general], a ``register`` line to [general] (where it becomes a
  registration). *Not safe*: the value then applies to the whole host.

``plan(document)`` validates the document and gives, for each finding that has fixes, a
:class:`Choice` whose ``fixes`` are the alternatives, the default (the first safe one) first or
marked. ``select`` picks fixes (the defaults of one finding code, of every code, or explicit
keys); ``resolve`` applies them, validates the result and drops any fix whose section would get a
new error finding, so "fix everything safe" never makes the file worse; ``apply`` is the change
itself. Keys are stable for one document: they number the lines in document order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from . import values as v
from .catalogue import FOREIGN, FRIEND, GENERAL, PEER, SECTION_TYPES, USER, catalogue
from .document import Document, Entry, Section
from .mask import MASK, mask_value
from .render import escape_value
from .validate import ERROR, Finding, KeyInfo, check_value, validate

COMMENT, RENAME, MOVE = "comment", "rename", "move"
# Finding codes that can have a fix, with what the fixes do.
FIXABLE = {
    "foreign-directive": "comment out the option of another Asterisk module",
    "unknown-directive": "comment out the unknown name, or rename it to the 'did you mean'",
    "removed-directive": "rename notransfer to transfer, or comment out the removed name",
    "misplaced-directive": "comment out the line where it is ignored, or move it to [general]",
    "defaultip-needs-dynamic": "comment out the defaultip that is ignored without host=dynamic",
}
NOTE = "iaxadmin fix"


@dataclass(frozen=True)
class Fix:
    """One way to fix one finding. ``key`` is stable for one document ("<line>-<action>")."""

    key: str
    action: str  # comment, rename or move
    finding: Finding
    section: str  # the section whose line changes
    line: int  # the line's number in the working document
    name: str  # the line as it is
    value: str
    new_name: str | None = None  # rename: the new line; move: the same line in [general]
    new_value: str | None = None
    safe: bool = True
    reason: str = ""  # why: the text kept in the comment, or what Asterisk will read

    @property
    def description(self) -> str:
        shown = _shown(self.name, self.value)
        if self.action == COMMENT:
            return f"comment out {shown} in [{self.section}]"
        if self.action == RENAME:
            return f"rename {shown} to {_shown(self.new_name, self.new_value)} in [{self.section}]"
        return f"move {shown} from [{self.section}] to [general]"


@dataclass
class Choice:
    """A finding and its fixes; ``default`` is what "fix all of this kind" and "fix everything
    safe" take (the first safe fix), None when every fix needs a decision."""

    finding: Finding
    fixes: list[Fix]

    @property
    def default(self) -> Fix | None:
        return next((f for f in self.fixes if f.safe), None)


@dataclass
class Plan:
    document: Document  # the working copy: every entry numbered (Entry.line) in document order
    choices: list[Choice] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # every finding of the working copy

    def fix(self, key: str) -> Fix | None:
        return next((f for c in self.choices for f in c.fixes if f.key == key), None)

    def codes(self) -> Counter:
        """Finding code -> how many findings of that code have a fix."""
        return Counter(c.finding.code for c in self.choices)

    def safe_count(self, code: str | None = None) -> int:
        return sum(1 for c in self.choices if c.default is not None and code in (None, c.finding.code))

    @property
    def unfixable(self) -> list[Finding]:
        """Error findings without a mechanical fix: they need a person (without the working
        copy's line numbers, which are no file's)."""
        fixed = {f.line for c in self.choices for f in c.fixes}
        return [replace(f, line=None) for f in self.findings if f.is_error and f.line not in fixed]


@dataclass
class Outcome:
    """What ``resolve`` did: the fixed document, the fixes in it, the ones left out and why."""

    document: Document
    applied: list[Fix] = field(default_factory=list)
    skipped: list[tuple[Fix, str]] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)  # lower-cased names of the changed sections


# ---------------------------------------------------------------------------------------------
# Planning


def numbered(document: Document) -> Document:
    """A copy whose every entry is a new Entry numbered 1, 2, ... in document order (the exporter
    shares Entry objects between sections; fixes need one object per line)."""
    counter = 0
    sections = []
    for section in document.sections:
        entries = []
        for entry in section.entries:
            counter += 1
            entries.append(
                Entry(entry.name, entry.value, list(entry.comments), counter, None, entry.operator)
            )
        sections.append(
            Section(
                section.name,
                entries,
                section.is_template,
                section.is_addition,
                list(section.bases),
                list(section.comments),
            )
        )
    return Document(sections, list(document.header), list(document.trailer))


def plan(document: Document, *, keys: Mapping[str, KeyInfo] | None = None) -> Plan:
    """The fixes for every finding of the document that has one."""
    document = numbered(document)
    findings = validate(document, keys=keys)
    where = {e.line: (s, e) for s in document.sections for e in s.entries}
    kinds = _kinds(document)
    movable = _movable(document, findings, where)
    result = Plan(document, findings=findings)
    seen_lines: set[int] = set()
    for finding in findings:
        if finding.code not in FIXABLE or finding.line is None or finding.line not in where:
            continue
        section, entry = where[finding.line]
        if section.name.lower() != finding.section.lower():
            continue  # a line inherited from a template: fixed in the template, if anywhere
        if finding.line in seen_lines:
            continue  # one line, two findings (misplaced and defaultip): one choice
        shown = replace(finding, line=None)  # the working copy's line numbers are no file's
        fixes = _fixes(shown, section, entry, kinds.get(section.name.lower(), set()), movable)
        if fixes:
            seen_lines.add(finding.line)
            result.choices.append(Choice(shown, fixes))
    return result


def _fixes(finding: Finding, section: Section, entry: Entry, kinds: set[str], movable: set[int]) -> list[Fix]:
    cat = catalogue()
    name, lowered = entry.name, entry.name.lower()

    def make(action: str, *, safe: bool, reason: str, new_name=None, new_value=None) -> Fix:
        return Fix(
            f"{entry.line}-{action}",
            action,
            finding,
            section.name,
            entry.line,
            name,
            entry.value,
            new_name,
            new_value,
            safe,
            reason,
        )

    code = finding.code
    if code == "foreign-directive":
        return [
            make(
                COMMENT, safe=True, reason=f"a {FOREIGN.get(lowered, 'foreign')} option, ignored by chan_iax2"
            )
        ]
    if code == "unknown-directive":
        fixes = [make(COMMENT, safe=True, reason="not a chan_iax2 directive, ignored")]
        suggestion = cat.suggest(lowered)
        if (
            suggestion
            and suggestion != lowered
            and _read_in(cat[suggestion], kinds)
            and check_value(suggestion, entry.value) is None
        ):
            fixes.append(
                make(
                    RENAME,
                    safe=False,
                    new_name=suggestion,
                    new_value=entry.value,
                    reason=f"did you mean {suggestion}? Asterisk will read {suggestion}={entry.value}",
                )
            )
        return fixes
    if code == "removed-directive":
        fixes = []
        if lowered == "notransfer" and _word(entry.value) is not None and section.first("transfer") is None:
            inverted = "no" if _word(entry.value) else "yes"
            fixes.append(
                make(
                    RENAME,
                    safe=True,
                    new_name="transfer",
                    new_value=inverted,
                    reason=f"notransfer={entry.value} meant transfer={inverted}; Asterisk 22 reads only transfer",
                )
            )
        fixes.append(make(COMMENT, safe=True, reason="no longer read by chan_iax2 (Asterisk 22)"))
        return fixes
    if code == "misplaced-directive":
        directive = cat.get(lowered)
        if directive is None:
            return []
        fixes = []
        if not _read_in(directive, kinds):  # ignored everywhere this section applies
            fixes.append(make(COMMENT, safe=True, reason=f"not read in {_place(section, kinds)}"))
        if entry.line in movable and not section.is_general:
            fixes.append(
                make(
                    MOVE,
                    safe=False,
                    new_name=name,
                    new_value=entry.value,
                    reason="read only in [general]: it will apply to the whole host",
                )
            )
        return fixes
    if code == "defaultip-needs-dynamic":
        return [make(COMMENT, safe=True, reason="defaultip is ignored without host=dynamic")]
    return []


def _shown(name: str, value: str) -> str:
    return f"{name}={mask_value(name, value)}"


def _word(value: str) -> bool | None:
    word = value.strip().lower()
    return True if word in v.TRUE_WORDS else False if word in v.FALSE_WORDS else None


def _read_in(directive, kinds: set[str]) -> bool:
    """True when chan_iax2 reads the directive in at least one of these section kinds."""
    return any(directive.valid_in(kind) for kind in kinds)


def _place(section: Section, kinds: set[str]) -> str:
    if section.is_general:
        return "[general]"
    shown = " or ".join(f"type={k}" for k in sorted(kinds - {GENERAL}))
    return f"{'a template used by ' if section.is_template else ''}{shown} sections"


def _kinds(document: Document) -> dict[str, set[str]]:
    """Lower-cased section name -> the section kinds its lines are read as: [general]'s, an
    endpoint's type, and for a template the types of every section that inherits from it (peer
    and user when none does)."""
    by_name = {s.name.lower(): s for s in document.sections}
    kinds: dict[str, set[str]] = {}

    def own_type(section: Section, seen: frozenset[str]) -> str | None:
        for base in section.bases:  # templates' lines come first: Asterisk 22 reads the first type
            found = by_name.get(base.lower())
            if found is not None and base.lower() not in seen:
                kind = own_type(found, seen | {base.lower()})
                if kind:
                    return kind
        kind = (section.first("type") or "").strip().lower()
        return kind if kind in SECTION_TYPES else None

    def ancestors(section: Section, seen: frozenset[str]):
        for base in section.bases:
            lowered = base.lower()
            if lowered in by_name and lowered not in seen:
                yield lowered
                yield from ancestors(by_name[lowered], seen | {lowered})

    for section in document.sections:
        lowered = section.name.lower()
        if section.is_general:
            kinds[lowered] = {GENERAL}
        elif section.is_endpoint and not section.is_template:
            kind = own_type(section, frozenset({lowered}))
            kinds[lowered] = placements(kind) if kind else set()
            for base in ancestors(section, frozenset({lowered})):
                kinds.setdefault(base, set()).update(kinds[lowered])
    for section in document.sections:
        if section.is_template and not kinds.get(section.name.lower()):
            kinds[section.name.lower()] = {PEER, USER}
    return kinds


def placements(kind: str) -> set[str]:
    return {PEER, USER} if kind == FRIEND else {kind}


def _movable(document: Document, findings: list[Finding], where) -> set[int]:
    """Lines of misplaced [general]-only directives that can move to [general]: [general] does
    not set that name (unless it repeats), and every such line of a name that does not repeat
    has the same value. ``register`` lines move when they are valid."""
    cat = catalogue()
    general = document.general
    candidates: dict[str, list[Entry]] = {}
    for finding in findings:
        if finding.code != "misplaced-directive" or finding.line not in where:
            continue
        section, entry = where[finding.line]
        directive = cat.get(entry.name)
        if section.is_general or directive is None or directive.sections != frozenset({GENERAL}):
            continue
        if directive.name == "register" and check_value("register", entry.value) is not None:
            continue
        candidates.setdefault(directive.name, []).append(entry)
    movable: set[int] = set()
    for name, entries in candidates.items():
        directive = cat[name]
        if not directive.repeatable:
            if general is not None and general.first(name) is not None:
                continue
            if len({e.value.strip() for e in entries}) > 1:
                continue
        movable.update(e.line for e in entries)
    return movable


# ---------------------------------------------------------------------------------------------
# Choosing, applying and checking


def select(plan_: Plan, *, code: str | None = None, keys: Iterable[str] | None = None) -> list[Fix]:
    """The fixes to apply: with ``keys``, those (unknown keys are ignored; one fix per line, the
    first given); else the default (safe) fix of every finding, or of one finding ``code``."""
    if keys is not None:
        chosen, lines = [], set()
        for key in keys:
            fix = plan_.fix(key)
            if fix is not None and fix.line not in lines:
                chosen.append(fix)
                lines.add(fix.line)
        return chosen
    return [c.default for c in plan_.choices if c.default is not None and code in (None, c.finding.code)]


def comment_for(fix: Fix) -> str:
    """The comment line that keeps a commented-out line: the line as it was, then why (a value
    holding a secret is masked: comments are stored in clear)."""
    value = mask_value(fix.name, fix.value)  # secret=, and a register line's password
    if "secret" in fix.name.lower() and fix.value:  # md5secret, dbsecret, ...
        value = MASK
    text = f"{fix.name}={escape_value(v.CONTROL_RE.sub('?', value))} ; {NOTE}: {fix.reason}"
    return v.CONTROL_RE.sub("?", text)


def apply(document: Document, fixes: Iterable[Fix]) -> tuple[Document, set[str]]:
    """The document with the fixes made (a new Document; sections not touched are shared) and the
    lower-cased names of the sections that changed. ``document`` is a plan's working copy."""
    by_line: dict[int, Fix] = {}
    for fix in fixes:
        by_line.setdefault(fix.line, fix)
    changed: set[str] = set()
    moved: list[Entry] = []
    sections = []
    for section in document.sections:
        if not any(e.line in by_line for e in section.entries):
            sections.append(section)
            continue
        changed.add(section.name.lower())
        entries: list[Entry] = []
        carried: list[str] = []  # comment lines waiting for the next line of the section
        for entry in section.entries:
            fix = by_line.get(entry.line)
            if fix is None:
                if carried and entry.operator != "=>":  # a register line is a registration: not an anchor
                    entry = Entry(
                        entry.name, entry.value, carried + entry.comments, entry.line, None, entry.operator
                    )
                    carried = []
                entries.append(entry)
            elif fix.action == COMMENT:
                carried += list(entry.comments) + [" " + comment_for(fix)]
            elif fix.action == RENAME:
                entries.append(Entry(fix.new_name, fix.new_value, carried + entry.comments, entry.line))
                carried = []
            else:  # MOVE: to [general], with its comment lines
                operator = "=>" if fix.name.lower() == "register" else "="
                moved.append(
                    Entry(fix.new_name.lower(), fix.new_value, list(entry.comments), None, None, operator)
                )
        comments = list(section.comments)
        if carried:  # nothing after the commented lines: they go with the line before, or the header
            at = next((i for i in range(len(entries) - 1, -1, -1) if entries[i].operator != "=>"), None)
            if at is not None:
                last = entries[at]
                entries[at] = Entry(
                    last.name, last.value, last.comments + carried, last.line, None, last.operator
                )
            else:
                comments += carried
        sections.append(
            Section(
                section.name, entries, section.is_template, section.is_addition, list(section.bases), comments
            )
        )
    if moved:
        unique: list[Entry] = []
        for entry in moved:  # the same name=value moved from several sections is written once
            if not any(e.name == entry.name and e.value.strip() == entry.value.strip() for e in unique):
                unique.append(entry)
        at = next((i for i, s in enumerate(sections) if s.is_general), None)
        if at is None:
            sections.insert(0, Section("general", unique))
        else:
            old = sections[at]
            sections[at] = Section(old.name, old.entries + unique, comments=list(old.comments))
        changed.add(GENERAL)
    return Document(sections, list(document.header), list(document.trailer)), changed


def _signature(finding: Finding) -> tuple:
    return (
        finding.code,
        finding.section.lower(),
        (finding.directive or "").lower(),
        finding.value,
        finding.part,
    )


def introduced(before: list[Finding], after: list[Finding]) -> list[Finding]:
    """Error findings of ``after`` that ``before`` does not have (compared without line numbers,
    counting repeats)."""
    left = Counter(_signature(f) for f in before if f.is_error)
    new = []
    for finding in after:
        if not finding.is_error:
            continue
        signature = _signature(finding)
        if left[signature]:
            left[signature] -= 1
        else:
            new.append(finding)
    return new


def resolve(plan_: Plan, fixes: list[Fix], *, keys: Mapping[str, KeyInfo] | None = None) -> Outcome:
    """Apply the fixes and keep only those that bring in no new error finding. A new error is
    blamed on the fixes in its section or in the templates that section inherits from (and, when
    none is there, on the fixes that change [general], which reaches every section); those fixes
    are left out, with the finding as the reason, and the rest applied again."""
    by_name = {s.name.lower(): s for s in plan_.document.sections}

    def with_ancestors(names: set[str]) -> set[str]:
        found, todo = set(), list(names)
        while todo:
            name = todo.pop()
            if name not in found:
                found.add(name)
                todo += [b.lower() for b in by_name[name].bases] if name in by_name else []
        return found

    def touches_general(fix: Fix) -> bool:
        return fix.action == MOVE or fix.section.lower() == GENERAL

    wanted = list(fixes)
    skipped: list[tuple[Fix, str]] = []
    while True:
        document, changed = apply(plan_.document, wanted)
        new = introduced(plan_.findings, validate(document, keys=keys)) if wanted else []
        if not new:
            return Outcome(document, wanted, skipped, changed)
        blame = with_ancestors({f.section.lower() for f in new})
        keep = [fix for fix in wanted if fix.section.lower() not in blame]
        if len(keep) == len(wanted):
            keep = [fix for fix in wanted if not touches_general(fix)]
        if len(keep) == len(wanted):
            keep = []
        for fix in wanted:
            if fix not in keep:
                reason = next((f for f in new if f.section.lower() == fix.section.lower()), new[0])
                skipped.append((fix, f"it would bring in: {reason.message}"))
        wanted = keep


__all__ = [
    "COMMENT",
    "ERROR",
    "FIXABLE",
    "MOVE",
    "RENAME",
    "Choice",
    "Fix",
    "Outcome",
    "Plan",
    "apply",
    "comment_for",
    "introduced",
    "numbered",
    "plan",
    "resolve",
    "select",
]
