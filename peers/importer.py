"""Import a parsed iax.conf into a host: all or nothing, with a structured report.

The parse (``iaxconf.parse``) keeps everything the file says. Before anything is written the
document is normalised the way Asterisk's config reader would see it:

* ``[name](+)`` sections are appended to the earlier section of that name;
* ``key += value`` is appended to the previous ``key`` line of the section;
* a second section with the same name is merged into the first (reported);
* the lines of a second ``[general]`` (which chan_iax2 never reads) and anything else that
  cannot be stored as a model field are kept as comment lines marked ``(ignored by Asterisk)``,
  next to where they were, and reported with their file and line.

Then the document is validated (the same ``iaxconf.validate`` the exporter runs) and compared with
what the host holds now, by reading it: ``plan_import`` returns an :class:`ImportPlan`, the state
every object of the host will have once the file is stored (the same states ``peers.audit`` reads
back from the rows), and which objects are created, changed, unchanged or deleted. A dry run is
that plan and nothing else: it writes nothing. ``peers.services.imports`` writes exactly the plan
in one transaction (this module reads and prepares; it writes nothing), so the report and the
result cannot disagree. Lines that are wrong but storable (an unknown directive, a misplaced one,
a bad value) are kept as they are so the exported file still says what the admin's file said;
the findings list them. Keys named by ``inkeys``/``outkey``/``register`` that the database lacks
are created as placeholders (no key material) and reported so the admin can upload them.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from . import audit
from .audit import ObjectState
from .iaxconf import Document, Entry, Finding, KeyInfo, Section, validate
from .iaxconf import values as v
from .iaxconf.normalise import NormaliseError, ignored_comment, normalise
from .iaxconf.trunks import split_register
from .models import TYPED_COLUMNS, Host, Key

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
    moved: Counter = field(default_factory=Counter)  # of the unchanged, those at another place in the file
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

    def as_json(self) -> dict:
        """The report as JSON (kept with a web import between its steps): findings as field rows,
        their values masked as the validator masks them; notes as (file, line, code, message)."""
        return {
            "host": self.host,
            "dry_run": self.dry_run,
            "counts": {name: dict(getattr(self, name)) for name in _COUNTS},
            "fields": _FINDING_FIELDS,
            "findings": [[getattr(f, name) for name in _FINDING_FIELDS] for f in self.findings],
            "notes": [[n.file, n.line, n.code, n.message] for n in self.notes],
            "placeholder_keys": list(self.placeholder_keys),
            "batch": str(self.batch),
        }

    @classmethod
    def from_json(cls, data: dict) -> ImportReport:
        from .iaxconf.parse import Note

        report = cls(host=data["host"], dry_run=data["dry_run"], batch=uuid.UUID(data["batch"]))
        for name in _COUNTS:
            getattr(report, name).update(data["counts"][name])
        names = data["fields"]
        report.findings = [Finding(**dict(zip(names, row, strict=True))) for row in data["findings"]]
        report.notes = [Note(*row) for row in data["notes"]]
        report.placeholder_keys = list(data["placeholder_keys"])
        return report


_COUNTS = ("created", "changed", "unchanged", "deleted", "moved")
_FINDING_FIELDS = [f.name for f in dataclasses.fields(Finding)]


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
    register = split_register(value)
    return {
        "username": register.username,
        "secret": register.secret,
        "key": register.key,
        "remote_host": register.host,
        "remote_port": register.port,
    }


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


# ---------------------------------------------------------------------------------------------
# The plan: what the host will hold, compared with what it holds, by reading


# The kind of object an import reports, by the first item of its key in ``audit.host_objects``.
REPORT_KINDS = {"general": "general", "registration": "registration", "callnumberlimit": "callnumberlimit"}


@dataclass
class ImportPlan:
    """What an import will do to a host, worked out by reading only.

    Objects are keyed like ``audit.host_objects`` (the host, [general], each endpoint or template
    by lower-cased name, each registration and call-number limit by its place). ``before`` is what
    the host holds now (empty for a new host); the state each object will have once the file is
    stored is ``iter_states(document, ...)``, worked out again when it is needed rather than kept
    (``states`` keeps those of an existing host's created, changed and moved objects). The writes
    (``peers.services.imports``), the history rows and the report all come from these, so they
    cannot disagree."""

    host_name: str
    host: Host | None  # None: the import creates the host
    document: Document  # normalised: what is stored
    host_state: dict  # the host's own state (name, description)
    before: dict[tuple, ObjectState]
    object_types: dict[tuple, str]  # every object the host will have, in order: its audit object type
    keys: dict[str, Key]  # the keys the document names that exist
    placeholder_keys: list[str]  # the ones that do not: created without key material
    findings: list[Finding]  # lines kept only as comments first, then the validator's
    states: dict[tuple, ObjectState] | None = None  # None: every object is created (a new host)
    created: list[tuple] = field(default_factory=list)
    changed: list[tuple] = field(default_factory=list)
    unchanged: list[tuple] = field(default_factory=list)
    moved: list[tuple] = field(default_factory=list)  # unchanged apart from their position
    deleted: list[tuple] = field(default_factory=list)

    def fill(self, report: ImportReport) -> None:
        """The report's counts and findings, from this plan."""
        report.findings = list(self.findings)
        report.placeholder_keys = list(self.placeholder_keys)
        for keys, counter, types in (
            (self.created, report.created, self.object_types),
            (self.changed, report.changed, self.object_types),
            (self.unchanged + self.moved, report.unchanged, self.object_types),
            (self.moved, report.moved, self.object_types),  # also unchanged: only their place changes
            (self.deleted, report.deleted, {k: s.object_type for k, s in self.before.items()}),
        ):
            for key in keys:
                if key != ("host",):  # the report is about the configuration
                    counter[REPORT_KINDS.get(key[0]) or types[key]] += 1

    def written(self):
        """(key, state) of every object the import writes (created, changed, moved), in order."""
        if self.states is not None:
            yield from self.states.items()
            return
        yield from iter_states(self.document, self.host_state)


def report_kind(key: tuple, state: ObjectState) -> str:
    """endpoint, template, general, registration or callnumberlimit."""
    return REPORT_KINDS.get(key[0]) or state.object_type


def plan_import(
    document: Document,
    *,
    host_name: str,
    host: Host | None,
    ignored: list[Finding],
    description: str = "",
    progress: Progress | None = None,
) -> ImportPlan:
    """Compare the normalised ``document`` (from ``prepare``) with what ``host`` holds (None: a
    new host) and validate it with the keys it names. Reads only; writes nothing."""
    names = key_names(document)
    keys = {k.name: k for k in Key.objects.filter(name__in=names)} if names else {}
    placeholders = sorted(names - keys.keys())
    info = {
        k.name: KeyInfo(bool(k.public_pem), bool(k.private_pem), k.private_encrypted, k.bits)
        for k in keys.values()
    }
    for name in placeholders:  # what a placeholder key is: no public part, no private part
        info[name] = KeyInfo(False, False, False, 1024)
    if progress:
        progress("validate", 0, 0)
    findings = ignored + validate(document, keys=info)
    plan = ImportPlan(
        host_name=host_name,
        host=host,
        document=document,
        host_state={"name": host_name, "description": description},
        before={},
        object_types={},
        keys=keys,
        placeholder_keys=placeholders,
        findings=findings,
    )
    if host is None:  # everything is created: no state is needed until it is written
        plan.object_types = object_types(document)
        plan.created = list(plan.object_types)
        return plan
    if progress:
        progress("compare", 0, 0)
    plan.before = before = audit.host_objects(host)
    plan.host_state = before[("host",)].state
    plan.states = {}
    for key, new in iter_states(document, plan.host_state):
        plan.object_types[key] = new.object_type
        old = before.get(key)
        if old is None:
            plan.created.append(key)
        elif old.state == new.state and old.object_type == new.object_type:
            plan.unchanged.append(key)
            continue
        elif old.object_type == new.object_type and _without_position(old.state) == _without_position(
            new.state
        ):
            plan.moved.append(key)
        else:
            plan.changed.append(key)
        plan.states[key] = new
    plan.deleted = [key for key in before if key not in plan.object_types]
    return plan


def _without_position(state: dict) -> dict:
    return {name: value for name, value in state.items() if name != "position"}


def object_types(document: Document) -> dict[tuple, str]:
    """The key and audit object type of every object the stored document makes, in the order of
    ``iter_states``, without working out their states."""
    types = {("host",): "host", ("general",): "general"}
    for section in document.sections:
        if section.is_endpoint:
            types[("endpoint", section.name.lower())] = "template" if section.is_template else "endpoint"
    _, registrations = split_general(document.general)
    limits, _ = split_limits(next((s for s in document.sections if s.is_callnumberlimits), None))
    types.update((("registration", i), "registration") for i in range(len(registrations)))
    types.update((("callnumberlimit", i), "callnumberlimit") for i in range(len(limits)))
    return types


def stored_states(document: Document, host_state: dict) -> dict[tuple, ObjectState]:
    """``iter_states`` as a dict."""
    return dict(iter_states(document, host_state))


def iter_states(document: Document, host_state: dict):
    """(key, state) of each object once the normalised document is stored: the states
    ``peers.audit`` reads back (``audit.host_objects``), keyed like it, object ids unknown (None),
    one at a time. ``storage.split_entries`` decides which line goes into which column, as for
    every write; the import-corpus tests check that these are the states read back after the
    import."""
    from .services.storage import comment_text, split_entries  # services import this module

    yield ("host",), ObjectState("host", None, host_state["name"], host_state)
    general_section = document.general
    options, registrations = split_general(general_section)
    limits, ignored_limits = split_limits(next((s for s in document.sections if s.is_callnumberlimits), None))
    trailer = list(document.trailer)
    for lines in ignored_limits:
        trailer.extend(lines)
    general = {
        "comment": comment_text(general_section.comments) if general_section else "",
        "header": comment_text(document.header),
        "trailer": comment_text(trailer),
        "options": [_option(e) for e in options],
    }
    yield ("general",), ObjectState("general", None, "[general]", general)
    endpoints = [s for s in document.sections if s.is_endpoint]
    by_name = {s.name.lower(): s.name for s in endpoints}
    kind_of: dict[str, str] = {}
    columns = tuple(TYPED_COLUMNS.values())
    for position, section in enumerate(endpoints):
        data = split_entries(section.entries)
        kind = data.kind
        if not kind and not section.is_template:
            kind = _first_base_kind(section, kind_of)
        kind_of[section.name.lower()] = kind or _first_base_kind(section, kind_of)
        found = data.columns
        state = {
            "name": section.name,
            "kind": kind,
            "is_template": section.is_template,
            "position": position,
            "comment": comment_text(section.comments),
            "column_comments": dict(data.column_comments),
        }
        for column in columns:
            state[column] = found.get(column)
        state["extra_secrets"] = found.get("extra_secrets")
        state["outkey"] = data.outkey
        state["options"] = [_option(e) for e in data.options]
        state["bases"] = [by_name[b.lower()] for b in section.bases]
        state["inkeys"] = list(data.inkeys)
        kind_name = "template" if section.is_template else "endpoint"
        yield ("endpoint", section.name.lower()), ObjectState(kind_name, None, f"[{section.name}]", state)
    for i, (fields, comments) in enumerate(registrations):
        row = {
            "position": i,
            "username": fields["username"],
            "secret": fields["secret"],
            "remote_host": fields["remote_host"],
            "remote_port": fields["remote_port"],
            "comment": comment_text(comments),
            "key": fields["key"],
        }
        repr_ = f"register => {row['username']}@{row['remote_host']}"
        yield ("registration", i), ObjectState("registration", None, repr_, row)
    for i, (network, limit, comments) in enumerate(limits):
        row = {"position": i, "network": network, "limit": limit, "comment": comment_text(comments)}
        yield ("callnumberlimit", i), ObjectState("callnumberlimit", None, f"{network} = {limit}", row)


def _option(entry: Entry) -> dict:
    return {"name": entry.name, "value": entry.value, "comment": "\n".join(entry.comments)}


def _first_base_kind(section: Section, kind_of: dict[str, str]) -> str:
    """The type= a section inherits: Asterisk 22 copies the bases' lines first and reads the
    first type line, so the first base (in order) that has one, directly or by inheritance."""
    return next((kind_of[b.lower()] for b in section.bases if kind_of.get(b.lower())), "")


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
                    )
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
