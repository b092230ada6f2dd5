"""Import a parsed iax.conf into a host: all or nothing, with a structured report.

The parse (``iaxconf.parse``) keeps everything the file says. Before anything is written the
document is normalised the way Asterisk's config reader would see it:

* ``[name](+)`` sections are appended to the earlier section of that name;
* ``key += value`` is appended to the previous ``key`` line of the section;
* a second section with the same name is merged into the first (reported);
* the lines of a second ``[general]`` (which chan_iax2 never reads) and anything else that
  cannot be stored as a model field are kept as comment lines marked ``(ignored by Asterisk)``,
  next to where they were, and reported with their file and line.

Then the document is validated (the same ``iaxconf.validate`` the exporter runs), and written in
one transaction by ``peers.services.imports`` (this module reads and prepares; it writes nothing). Lines that are wrong but storable (an unknown directive, a misplaced one, a bad
value) are kept as they are so the exported file still says what the admin's file said; the
findings list them. Keys named by ``inkeys``/``outkey``/``register`` that the database lacks are
created as placeholders (no key material) and reported so the admin can upload them.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Count

from .exporter import build_document
from .iaxconf import Document, Entry, Finding, Section, render
from .iaxconf import values as v
from .iaxconf.normalise import NormaliseError, ignored_comment, normalise
from .models import CallNumberLimit, Endpoint, GeneralOption, Host, Registration

Progress = Callable[[str, int, int], None]


class ImportError_(Exception):
    """The import cannot go ahead; nothing was written. ``problems`` are (file, line, message)."""

    def __init__(
        self, message: str, problems: list[tuple[str | None, int | None, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []


@dataclass
class ImportReport:
    host: str
    dry_run: bool
    created: Counter = field(default_factory=Counter)
    changed: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    deleted: Counter = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    notes: list = field(default_factory=list)  # parser notes (tryinclude skipped, #exec not run, ...)
    placeholder_keys: list[str] = field(default_factory=list)
    ignored: list[Finding] = field(default_factory=list)  # lines kept only as comments
    batch: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.is_error]

    def summary_rows(self) -> list[tuple[str, int, int, int, int]]:
        kinds = sorted(set(self.created) | set(self.changed) | set(self.unchanged) | set(self.deleted))
        return [(k, self.created[k], self.changed[k], self.unchanged[k], self.deleted[k]) for k in kinds]


# ---------------------------------------------------------------------------------------------
# Preparing a document


def prepare(document: Document, host_name: str) -> tuple[Document, list[Finding]]:
    """The document as it will be stored (``normalise``: (+) sections, +=, duplicates, a second
    [general]) and what that reported; ImportError_ for what stops an import."""
    try:
        v.check_line_safe(host_name, max_length=63)
    except v.Invalid as exc:
        raise ImportError_(f"host name {host_name!r} {exc.message}") from None
    try:
        document, findings = normalise(document)
    except NormaliseError as exc:
        raise ImportError_(exc.message, exc.problems) from None
    _check_bases(document)
    return document, findings


def split_general(section: Section | None) -> tuple[list[Entry], list[tuple[dict, list[str]]]]:
    """[general]'s lines as (option entries, registrations): each valid register line becomes
    (the fields of a Registration, its comment lines); an invalid one stays an option line, as
    written, for the validator to report."""
    options: list[Entry] = []
    registrations: list[tuple[dict, list[str]]] = []
    for entry in section.entries if section is not None else ():
        if entry.name.lower() == "register" and _valid_register(entry.value):
            registrations.append((registration_fields(entry.value), list(entry.comments)))
        else:
            options.append(entry)
    return options, registrations


def registration_fields(value: str) -> dict:
    """The fields of a Registration for a valid register value (``key``: a key name or None)."""
    credentials, server = value.strip().split("@", 1)
    username, _, secret = credentials.partition(":")
    remote_host, _, port = server.partition(":")
    key = None
    if secret.startswith("["):
        key, secret = secret[1:-1], ""
    return {
        "username": username, "secret": secret, "key": key, "remote_host": remote_host,
        "remote_port": int(port) if port else None,
    }  # fmt: skip


def split_limits(section: Section | None) -> tuple[list[tuple[str, int, list[str]]], list[list[str]]]:
    """[callnumberlimits]'s lines as (valid (network, limit, comment lines), the comment lines
    keeping each invalid one, which is not stored as a limit)."""
    limits, ignored = [], []
    for entry in section.entries if section is not None else ():
        try:
            v.network(entry.name)
            v.limit_value(entry.value)
        except v.Invalid:
            ignored.append(ignored_comment(entry, "invalid [callnumberlimits] line"))
            continue
        limits.append((entry.name.strip(), int(entry.value), list(entry.comments)))
    return limits, ignored


def count_changes(report: ImportReport, before: dict, after: dict) -> None:
    """Created / changed / unchanged / deleted objects, from two ``section_texts`` readings."""
    for key, text in after.items():
        if key not in before:
            report.created[key[0]] += 1
        elif before[key] != text:
            report.changed[key[0]] += 1
        else:
            report.unchanged[key[0]] += 1
    for key in before.keys() - after.keys():
        report.deleted[key[0]] += 1


def section_texts(host: Host) -> dict[tuple[str, str], str]:
    """(object type, name) -> rendered text, to tell created / changed / unchanged apart."""
    document, _, _ = build_document(host)
    texts: dict[tuple[str, str], str] = {}
    for section in document.sections:
        if section.is_general:
            plain = Section(name="general", entries=[e for e in section.entries if e.name != "register"],
                            comments=section.comments)  # fmt: skip
            texts[("general", "general")] = render(Document(sections=[plain]))
            for entry in section.entries:
                if entry.name == "register":
                    texts[("registration", entry.value)] = render(Document(sections=[Section("r", [entry])]))
        elif section.is_callnumberlimits:
            for entry in section.entries:
                texts[("callnumberlimit", entry.name)] = f"{entry.name}={entry.value}"
        else:
            kind = "template" if section.is_template else "endpoint"
            texts[(kind, section.name.lower())] = render(Document(sections=[section]))
    return texts


def object_counts(host: Host) -> Counter:
    """How many objects of each kind section_texts() would list for the host, by counting rows."""
    counts: Counter = Counter(general=1)
    for is_template, number in (
        Endpoint.objects.filter(host=host).values_list("is_template").annotate(n=Count("id")).order_by()
    ):
        counts["template" if is_template else "endpoint"] += number
    counts["registration"] += Registration.objects.filter(host=host).count()
    counts["registration"] += GeneralOption.objects.filter(general__host=host, name="register").count()
    counts["callnumberlimit"] += (
        CallNumberLimit.objects.filter(host=host).values("network").distinct().count()
    )
    return +counts


def key_names(document: Document) -> set[str]:
    names: set[str] = set()
    for section in document.sections:
        for entry in section.entries:
            name = entry.name.lower()
            if name == "inkeys" and v.is_valid(v.key_names, entry.value):
                names.update(n.strip() for n in entry.value.split(":"))
            elif name == "outkey" and v.is_valid(v.key_name, entry.value):
                names.add(entry.value.strip())
            elif name == "register" and section.is_general:
                credentials = entry.value.split("@", 1)[0]
                secret = credentials.partition(":")[2]
                if secret.startswith("[") and secret.endswith("]") and v.is_valid(v.key_name, secret[1:-1]):
                    names.add(secret[1:-1])
    return names


def _check_bases(document: Document) -> None:
    """A base that is not defined earlier makes Asterisk reject the whole file: so do we."""
    defined: set[str] = set()
    problems = []
    for section in document.sections:
        for base in section.bases:
            if base.lower() not in defined:
                problems.append(
                    (
                        section.file,
                        section.line,
                        f"[{section.name}] inherits from '{base}', which is not defined before it",
                    )  # fmt: skip
                )
        defined.add(section.name.lower())
    if problems:
        raise ImportError_(
            "the file inherits from undefined sections; Asterisk would reject it whole", problems
        )


def _valid_register(value: str) -> bool:
    try:
        v.check_line_safe(value)
        v.register_line(value)
    except v.Invalid:
        return False
    return True
