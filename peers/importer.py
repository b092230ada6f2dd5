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
one transaction. Lines that are wrong but storable (an unknown directive, a misplaced one, a bad
value) are kept as they are so the exported file still says what the admin's file said; the
findings list them. Keys named by ``inkeys``/``outkey``/``register`` that the database lacks are
created as placeholders (no key material) and reported so the admin can upload them.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count

from . import audit, services
from .exporter import HEADER_MARK, build_document
from .iaxconf import Document, Entry, Finding, KeyInfo, Section, render, validate
from .iaxconf import values as v
from .iaxconf.util import gc_paused
from .models import (
    CallNumberLimit,
    Endpoint,
    EndpointBase,
    EndpointInKey,
    EndpointOption,
    GeneralOption,
    GeneralSettings,
    Host,
    Key,
    Registration,
)

IGNORED = "(ignored by Asterisk) "

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
# Normalisation (pure: Document in, Document and findings out)


def _ignored_comment(entry: Entry, why: str) -> list[str]:
    """Comment lines keeping an entry Asterisk would not read. Comments are stored in clear, so a
    secret in it (a secret= line, the password of a register line) is masked."""
    where = f"{entry.file}:{entry.line}" if entry.file else f"line {entry.line}" if entry.line else ""
    kept = list(entry.comments)
    kept.append(f" {IGNORED}{why}{' at ' + where if where else ''}: {entry.name} = {_masked_value(entry)}")
    return kept


def _masked_value(entry: Entry) -> str:
    name = entry.name.strip().lower()
    if name == "secret" and entry.value:
        return audit.MASK
    if name == "register":
        credentials, at, server = entry.value.partition("@")
        username, colon, secret = credentials.partition(":")
        if colon and secret and not secret.startswith("["):
            return f"{username}:{audit.MASK}{at}{server}"
    return entry.value


class _Builder:
    """Builds the normalised document; comment lines that lose their anchor are carried to the
    next entry or section (or the end of the file), so none is dropped."""

    def __init__(self, header: list[str], trailer: list[str]) -> None:
        self.document = Document(header=header, trailer=[])
        self.carry: list[str] = []
        self.last_trailer = trailer

    def new_section(self, section: Section) -> Section:
        copy = Section(
            name=section.name, entries=[], is_template=section.is_template, bases=list(section.bases),
            comments=self.carry + list(section.comments), line=section.line, file=section.file,
        )  # fmt: skip
        self.carry = []
        self.document.sections.append(copy)
        return copy

    def add_entries(self, target: Section, entries: list[Entry], leading: list[str]) -> None:
        self.carry.extend(leading)
        for entry in entries:
            if entry.operator == "+=":
                previous = next((e for e in reversed(target.entries) if e.name == entry.name), None)
                if previous is not None:
                    previous.value += entry.value
                    previous.comments.extend(self.carry + list(entry.comments))
                    self.carry = []
                    continue
            target.entries.append(
                Entry(
                    name=entry.name,
                    value=entry.value.lstrip() if entry.operator == "+=" else entry.value,
                    comments=self.carry + list(entry.comments),
                    line=entry.line,
                    file=entry.file,
                    operator="=>" if entry.operator == "=>" else "=",
                )  # fmt: skip
            )
            self.carry = []

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
                )  # fmt: skip
            )
            builder.carry.extend(section.comments)
            for entry in section.entries:
                builder.carry.extend(_ignored_comment(entry, "line of a second [general]"))
            continue
        if section.is_addition or target is not None:
            if target is None:
                raise ImportError_(
                    f"[{section.name}](+) adds to a section that is not defined before it",
                    [(section.file, section.line, f"[{section.name}](+) has no earlier [{section.name}]")],
                )
            if not section.is_addition:
                if section.bases != target.bases or section.is_template != target.is_template:
                    raise ImportError_(
                        f"[{section.name}] is defined twice with different templates",
                        [(section.file, section.line, f"[{section.name}] is also defined at line {target.line}; "
                          "rename one of them")],
                    )  # fmt: skip
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
                    )  # fmt: skip
                )
            builder.add_entries(target, section.entries, list(section.comments))
            continue
        by_name[lowered] = builder.new_section(section)
        builder.add_entries(by_name[lowered], section.entries, [])
    return builder.finish(), findings


# ---------------------------------------------------------------------------------------------
# Writing


def _section_texts(host: Host) -> dict[tuple[str, str], str]:
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


def _object_counts(host: Host) -> Counter:
    """How many objects of each kind _section_texts() would list for the host, by counting rows."""
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


def _key_names(document: Document) -> set[str]:
    names: set[str] = set()
    for section in document.sections:
        for entry in section.entries:
            name = entry.name.lower()
            if name == "inkeys" and services.valid(v.key_names, entry.value):
                names.update(n.strip() for n in entry.value.split(":"))
            elif name == "outkey" and services.valid(v.key_name, entry.value):
                names.add(entry.value.strip())
            elif name == "register" and section.is_general:
                credentials = entry.value.split("@", 1)[0]
                secret = credentials.partition(":")[2]
                if (
                    secret.startswith("[")
                    and secret.endswith("]")
                    and services.valid(v.key_name, secret[1:-1])
                ):
                    names.add(secret[1:-1])
    return names


def _comment_text(lines: list[str]) -> str:
    return "\n".join(lines)


def import_document(
    document: Document,
    *,
    host_name: str,
    replace: bool = False,
    dry_run: bool = False,
    notes: list | None = None,
    progress: Progress | None = None,
    description: str = "",
    actor=None,
    message: str = "",
) -> ImportReport:
    """Write a parsed document into host ``host_name``; one transaction, nothing written on error
    (and nothing at all with dry_run). Raises ImportError_ for problems that stop the import.
    Every object created, changed or deleted gets a Change row (one bulk insert, all under
    ``report.batch``, by ``actor``)."""
    with gc_paused():
        return _import_document(
            document, host_name=host_name, replace=replace, dry_run=dry_run, notes=notes, progress=progress,
            description=description, actor=actor, message=message,
        )  # fmt: skip


def _import_document(
    document: Document, *, host_name, replace, dry_run, notes, progress, description, actor, message
) -> ImportReport:
    report = ImportReport(host=host_name, dry_run=dry_run, notes=list(notes or []))
    try:
        v.check_line_safe(host_name, max_length=63)
    except v.Invalid as exc:
        raise ImportError_(f"host name {host_name!r} {exc.message}") from None
    document, normalise_findings = normalise(document)
    report.ignored = normalise_findings
    _check_bases(document)

    with transaction.atomic():
        host = Host.objects.select_for_update().filter(name=host_name).first()
        if host is not None and not replace:
            raise ImportError_(
                f"host {host_name!r} already exists; pass --replace to replace its configuration with the file's"
            )
        before = _section_texts(host) if host is not None else {}
        audit_before = audit.host_objects(host) if host is not None else {}
        if host is None:
            host = Host.objects.create(name=host_name, description=description)
        else:
            _clear(host)
        existing_keys = {k.name: k for k in Key.objects.filter(name__in=_key_names(document))}
        for name in sorted(_key_names(document) - existing_keys.keys()):
            existing_keys[name] = Key.objects.create(name=name, public_pem="", bits=1024)
            report.placeholder_keys.append(name)
        placeholders = {
            ("key", name): audit.object_state(existing_keys[name]) for name in report.placeholder_keys
        }
        key_info = {
            k.name: KeyInfo(bool(k.public_pem), bool(k.private_pem), k.private_encrypted, k.bits)
            for k in existing_keys.values()
        }
        report.findings = normalise_findings + validate(document, keys=key_info)
        _write(host, document, existing_keys, progress)
        audit.record_many(
            audit_before,
            audit.host_objects(host),
            actor=actor,
            host=host,
            batch=report.batch,
            message=message,
        )
        if placeholders:
            audit.record_many({}, placeholders, actor=actor, host=None, batch=report.batch, message=message)
        if not before:  # a new host: everything is created, no need to render it to compare
            report.created.update(_object_counts(host))
            after = {}
        else:
            after = _section_texts(host)
        for key, text in after.items():
            if key not in before:
                report.created[key[0]] += 1
            elif before[key] != text:
                report.changed[key[0]] += 1
            else:
                report.unchanged[key[0]] += 1
        for key in before.keys() - after.keys():
            report.deleted[key[0]] += 1
        if dry_run:
            transaction.set_rollback(True)
    return report


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


def _clear(host: Host) -> None:
    # leaf rows first, each one DELETE; then the endpoints have nothing left to cascade to
    EndpointOption.objects.filter(endpoint__host=host).delete()
    EndpointInKey.objects.filter(endpoint__host=host).delete()
    EndpointBase.objects.filter(endpoint__host=host).delete()
    Endpoint.objects.filter(host=host).delete()
    Registration.objects.filter(host=host).delete()
    CallNumberLimit.objects.filter(host=host).delete()
    GeneralSettings.objects.filter(host=host).delete()


def _write(host: Host, document: Document, keys: dict[str, Key], progress: Progress | None) -> None:
    general_section = document.general
    general = GeneralSettings.objects.create(
        host=host,
        comment=_comment_text(general_section.comments) if general_section else "",
        header=_comment_text(document.header),
        trailer=_comment_text(document.trailer),
    )
    if general_section is not None:
        options, registrations = [], []
        for entry in general_section.entries:
            if entry.name.lower() == "register" and _valid_register(entry.value):
                registration = services.registration_from_line(
                    host, entry.value, position=len(registrations), keys=keys
                )
                registration.comment = _comment_text(entry.comments)
                registrations.append(registration)
            else:
                options.append(
                    GeneralOption(
                        general=general,
                        position=len(options),
                        name=entry.name,
                        value=entry.value,
                        comment=_comment_text(entry.comments),
                    )  # fmt: skip
                )
        GeneralOption.objects.bulk_create(options)
        Registration.objects.bulk_create(registrations)

    endpoint_sections = [s for s in document.sections if s.is_endpoint]
    total = len(endpoint_sections)
    endpoints: list[Endpoint] = []
    split = []
    kind_of: dict[str, str] = {}  # bases come before the sections that use them
    for position, section in enumerate(endpoint_sections):
        data = services.split_entries(section.entries)
        split.append(data)
        kind = data.kind
        if not kind and not section.is_template:
            kind = _first_base_kind(section, kind_of)
        kind_of[section.name.lower()] = kind or _first_base_kind(section, kind_of)
        endpoint = Endpoint(
            host=host, name=section.name, kind=kind, is_template=section.is_template, position=position,
            comment=_comment_text(section.comments), column_comments=data.column_comments,
            outkey=keys.get(data.outkey) if data.outkey else None, **data.columns,
        )  # fmt: skip
        endpoints.append(endpoint)
    if progress:
        progress("sections", total, total)
    Endpoint.objects.bulk_create(endpoints, batch_size=2000)
    by_name = {e.name.lower(): e for e in endpoints}

    # Leaf rows go in with plain INSERTs: tens of thousands of model instances would cost more
    # than the whole parse.
    options, inkeys, bases = [], [], []
    for endpoint, section, data in zip(endpoints, endpoint_sections, split, strict=True):
        endpoint_id = endpoint.pk
        options.extend(
            (endpoint_id, i, e.name, e.value, "\n".join(e.comments)) for i, e in enumerate(data.options)
        )
        inkeys.extend((endpoint_id, keys[n].pk, i) for i, n in enumerate(data.inkeys))
        bases.extend((endpoint_id, by_name[b.lower()].pk, i) for i, b in enumerate(section.bases))
    _insert_rows(EndpointOption, ("endpoint", "position", "name", "value", "comment"), options)
    _insert_rows(EndpointInKey, ("endpoint", "key", "position"), inkeys)
    _insert_rows(EndpointBase, ("endpoint", "base", "position"), bases)
    if progress:
        progress("objects", len(endpoints) + len(options) + len(inkeys) + len(bases), total)

    limits_section = next((s for s in document.sections if s.is_callnumberlimits), None)
    if limits_section is not None:
        limits = []
        for entry in limits_section.entries:
            try:
                v.network(entry.name)
                v.limit_value(entry.value)
            except v.Invalid:
                kept = general.trailer.split("\n") if general.trailer else []
                general.trailer = _comment_text(
                    kept + _ignored_comment(entry, "invalid [callnumberlimits] line")
                )
                general.save(update_fields=["trailer"])
                continue
            limits.append(
                CallNumberLimit(
                    host=host,
                    position=len(limits),
                    network=entry.name.strip(),
                    limit=int(entry.value),
                    comment=_comment_text(entry.comments),
                )  # fmt: skip
            )
        CallNumberLimit.objects.bulk_create(limits)


def _insert_rows(model, fields: tuple[str, ...], rows: list[tuple], batch: int = 5000) -> None:
    """INSERT rows (tuples in the order of ``fields``) into the model's table with executemany."""
    if not rows:
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            cursor.executemany(sql, rows[start : start + batch])


def _valid_register(value: str) -> bool:
    try:
        v.check_line_safe(value)
        v.register_line(value)
    except v.Invalid:
        return False
    return True


def _first_base_kind(section: Section, kind_of: dict[str, str]) -> str:
    """The type= a section inherits: Asterisk 22 copies the bases' lines first and reads the
    first type line, so the first base (in order) that has one, directly or by inheritance."""
    return next((kind_of[b.lower()] for b in section.bases if kind_of.get(b.lower())), "")
