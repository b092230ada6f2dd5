"""Read a parsed document the way Asterisk's config reader combines its sections, before it is
stored (pure: Document in, Document and findings out).

* ``[name](+)`` sections are appended to the earlier section of that name; a ``(+)`` on a template
  makes Asterisk reject the whole file (its lookup skips templates), so it stops the import;
* ``key += value`` is appended to the previous ``key`` line of the section, which may be a line
  the section inherited (Asterisk appends to the copy in the section);
* a second section with the same name is merged into the first (reported);
* Asterisk copies a base's lines when it reads the header of a section that inherits from it, so
  lines added to the base later (by ``(+)`` or a second section of that name) are not inherited,
  and ``+=`` on an inherited line changes the copy: such a section is stored with the lines it
  inherits written out and no bases (finding ``flattened-inheritance``, a warning);
* the lines of a second ``[general]`` (which chan_iax2 never reads) are kept as comment lines
  marked ``(ignored by Asterisk)``, next to where they were, and reported with file and line;
* the header lines iaxadmin itself writes at the top of an export are dropped.

Comment lines that lose their anchor are carried to the next entry or section (or the end of the
file), so none is dropped. Comments are stored in clear, so a secret kept in one is masked.
"""

from __future__ import annotations

from .document import Document, Entry, Section, flatten, inherited_entries
from .mask import mask_value
from .validate import Finding

IGNORED = "(ignored by Asterisk) "
FLATTENED = "flattened-inheritance"  # warning: a section stored with its inherited lines written out
# every header line the exporter writes starts with ";iaxadmin:", so an import can drop it
HEADER_MARK = "iaxadmin:"


class NormaliseError(ValueError):
    """The file cannot be read as Asterisk would; ``problems`` are (file, line, message)."""

    def __init__(self, message: str, problems: list[tuple[str | None, int | None, str]]) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems


def ignored_comment(entry: Entry, why: str) -> list[str]:
    """Comment lines keeping an entry Asterisk would not read. Comments are stored in clear, so a
    secret in it (a secret= line, the password of a register line) is masked."""
    where = f"{entry.file}:{entry.line}" if entry.file else f"line {entry.line}" if entry.line else ""
    kept = list(entry.comments)
    kept.append(
        f" {IGNORED}{why}{' at ' + where if where else ''}: {entry.name} = {mask_value(entry.name, entry.value)}"
    )
    return kept


def _last(section: Section, name: str) -> int | None:
    """The index of the section's last line named ``name`` (None: it has none)."""
    return next((i for i in range(len(section.entries) - 1, -1, -1) if section.entries[i].name == name), None)


class _Builder:
    """Builds the normalised document; comment lines that lose their anchor are carried to the
    next entry or section (or the end of the file), so none is dropped."""

    def __init__(self, header: list[str], trailer: list[str]) -> None:
        self.document = Document(header=header, trailer=[])
        self.carry: list[str] = []
        self.last_trailer = trailer
        self.findings: list[Finding] = []
        self.copies: set[int] = set()  # ids of the entries made here (the others are the parsed ones)

    def new_section(self, section: Section) -> Section:
        copy = Section(
            name=section.name,
            entries=[],
            is_template=section.is_template,
            bases=list(section.bases),
            comments=self.carry + list(section.comments),
            line=section.line,
            file=section.file,
        )
        self.carry = []
        self.document.sections.append(copy)
        return copy

    def earlier(self, section: Section) -> list[Section]:
        sections = self.document.sections
        return sections[: next(i for i, s in enumerate(sections) if s is section)]

    def flatten_users_of(self, target: Section, why: str) -> None:
        """Lines are about to be added to ``target``: every section that inherited from it before
        gets what it really inherited written out (Asterisk copied target's lines at its header)."""
        lowered = target.name.lower()
        for section in self.document.sections:
            if section is not target and any(b.lower() == lowered for b in section.bases):
                flatten(section, self.earlier(section))
                self.findings.append(
                    Finding(
                        "warning",
                        FLATTENED,
                        section.name,
                        None,
                        None,
                        f"[{section.name}] inherits from [{target.name}] before {why} adds lines to it; "
                        f"Asterisk copies [{target.name}]'s lines when it reads [{section.name}], so they "
                        f"are not inherited. iaxadmin stored [{section.name}] with the lines it really has "
                        "written out, without the inheritance",
                        section.line,
                        section.file,
                    )
                )

    def add_entries(self, target: Section, entries: list[Entry], leading: list[str]) -> None:
        self.carry.extend(leading)
        for entry in entries:
            if entry.operator == "+=":
                at = _last(target, entry.name)
                if at is None and target.bases:
                    inherited = [
                        e for e in inherited_entries(target, self.earlier(target)) if e.name == entry.name
                    ]
                    if inherited:
                        # Asterisk appends to the section's copy of the inherited line
                        flatten(target, self.earlier(target))
                        at = _last(target, entry.name)
                        self.findings.append(
                            Finding(
                                "warning",
                                FLATTENED,
                                target.name,
                                entry.name,
                                mask_value(entry.name, entry.value),
                                f"{entry.name} += appends to the {entry.name} line [{target.name}] inherits, as "
                                f"Asterisk does; iaxadmin stored [{target.name}] with its inherited lines written "
                                "out, without the inheritance",
                                entry.line,
                                entry.file,
                            )
                        )
                if at is not None:
                    previous = self._own(target, at)
                    previous.value += entry.value
                    previous.comments.extend(self.carry + list(entry.comments))
                    self.carry = []
                    continue
            if not self.carry and (entry.operator == "=" or entry.operator == "=>"):
                target.entries.append(entry)  # kept as it was (_kept, inline: once per line)
                continue
            target.entries.append(self._kept(entry))
            self.carry = []

    def _kept(self, entry: Entry) -> Entry:
        """The entry as stored: the parsed one itself when nothing about it changes (no comment
        carried to it, not ``+=``), else a copy. What it buys: an import of 10,000 sections keeps one
        Entry per line instead of two (bench/commands.py: less memory, fewer objects for the cyclic
        GC to walk); ``_own`` copies an entry before a later ``+=`` changes it, so the parsed
        document is never modified."""
        if not self.carry and (entry.operator == "=" or entry.operator == "=>"):
            return entry
        copy = Entry(
            name=entry.name,
            value=entry.value.lstrip() if entry.operator == "+=" else entry.value,
            comments=self.carry + list(entry.comments),
            line=entry.line,
            file=entry.file,
            operator="=>" if entry.operator == "=>" else "=",
        )
        self.copies.add(id(copy))
        return copy

    def _own(self, target: Section, at: int) -> Entry:
        """target.entries[at], copied first if it is still the parsed document's entry."""
        entry = target.entries[at]
        if id(entry) not in self.copies:
            entry = Entry(
                entry.name, entry.value, list(entry.comments), entry.line, entry.file, entry.operator
            )
            self.copies.add(id(entry))
            target.entries[at] = entry
        return entry

    def finish(self) -> Document:
        self.document.trailer = self.carry + list(self.last_trailer)
        self.carry = []
        return self.document


def normalise(document: Document) -> tuple[Document, list[Finding]]:
    """Apply (+), +=, duplicate sections and a second [general] as Asterisk would; drop the
    header lines iaxadmin itself writes. Returns a new document and what was reported."""
    findings: list[Finding] = []
    builder = _Builder([c for c in document.header if not c.startswith(HEADER_MARK)], list(document.trailer))
    by_name: dict[str, Section] = {}
    for section in document.sections:
        lowered = section.name.lower()
        target = by_name.get(lowered)
        if section.is_general and target is not None and not section.is_addition:
            findings.append(
                Finding(
                    "warning",
                    "duplicate-general",
                    section.name,
                    None,
                    None,
                    "a second [general] section is never read by chan_iax2; its lines are kept as comments. "
                    "Move the ones you want into the first [general]",
                    section.line,
                    section.file,
                )
            )
            builder.carry.extend(section.comments)
            for entry in section.entries:
                builder.carry.extend(ignored_comment(entry, "line of a second [general]"))
            continue
        if section.is_addition or target is not None:
            if target is None:
                raise NormaliseError(
                    f"[{section.name}](+) adds to a section that is not defined before it",
                    [(section.file, section.line, f"[{section.name}](+) has no earlier [{section.name}]")],
                )
            if section.is_addition and target.is_template:
                raise NormaliseError(
                    f"[{section.name}](+) adds to a template; Asterisk rejects the whole file",
                    [
                        (
                            section.file,
                            section.line,
                            f"[{section.name}](+): (+) only finds a section that is "
                            f"not a template, and [{target.name}] is one; add the lines to the template itself",
                        )
                    ],
                )
            builder.flatten_users_of(
                target, f"[{section.name}](+)" if section.is_addition else f"a second [{section.name}]"
            )
            if not section.is_addition:
                if section.bases != target.bases or section.is_template != target.is_template:
                    raise NormaliseError(
                        f"[{section.name}] is defined twice with different templates",
                        [
                            (
                                section.file,
                                section.line,
                                f"[{section.name}] is also defined at line {target.line}; rename one of them",
                            )
                        ],
                    )
                findings.append(
                    Finding(
                        "warning",
                        "duplicate-section",
                        section.name,
                        None,
                        None,
                        f"[{section.name}] is defined twice; chan_iax2 merges sections of the same name and "
                        "type, so iaxadmin merged the second into the first",
                        section.line,
                        section.file,
                    )
                )
            builder.add_entries(target, section.entries, list(section.comments))
            continue
        by_name[lowered] = builder.new_section(section)
        builder.add_entries(by_name[lowered], section.entries, [])
    return builder.finish(), findings + builder.findings
