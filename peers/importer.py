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
from .exporter import build_document
from .iaxconf import Document, Finding, KeyInfo, Section, render, validate
from .iaxconf import values as v
from .iaxconf.normalise import NormaliseError, ignored_comment, normalise
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
    try:
        document, normalise_findings = normalise(document)
    except NormaliseError as exc:
        raise ImportError_(exc.message, exc.problems) from None
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
                    kept + ignored_comment(entry, "invalid [callnumberlimits] line")
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
