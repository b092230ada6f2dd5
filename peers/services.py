"""Writes that span several rows: turning a section's lines into an endpoint (typed columns,
option rows, key references) and saving it, all inside one transaction.

``split_entries`` is the single place that decides which line goes into which column; the
exporter is its inverse (``exporter.build_document``) and the round-trip tests hold them together.

Every function here writes its own audit rows (``peers.audit.record``) inside its transaction: if
the row cannot be written, the change does not happen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models.functions import Lower

from . import audit
from .iaxconf import Entry, Section, values
from .models import (
    TYPED_COLUMNS,
    CallNumberLimit,
    Change,
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

_MAX_LENGTH = {
    column: Endpoint._meta.get_field(column).max_length
    for column in TYPED_COLUMNS.values()
    if getattr(Endpoint._meta.get_field(column), "max_length", None)
}
# Secrets are never option rows (which are stored in clear): the first secret= line is the
# ``secret`` column and every later one a line of ``extra_secrets``, both encrypted, whatever their
# length (the validator reports an over-long one on the exported document). The comment lines above
# the n-th extra secret line are column_comments["secret#n"].
SECRET = "secret"
EXTRA_SECRET_NOTE = "secret#{}"


@dataclass
class EndpointData:
    """A section's lines sorted into an endpoint's storage."""

    kind: str = ""
    columns: dict[str, object] = field(default_factory=dict)
    column_comments: dict[str, str] = field(default_factory=dict)
    inkeys: list[str] = field(default_factory=list)
    outkey: str | None = None
    options: list[Entry] = field(default_factory=list)


def join_secrets(lines: list[str]) -> str | None:
    """The extra_secrets column for a list of secret values (None for none)."""
    return "\n".join(lines) if lines else None


def split_secrets(text: str | None) -> list[str]:
    return text.split("\n") if text is not None else []


def _comment_text(entry: Entry) -> str:
    return "\n".join(entry.comments)


def _typed_value(directive: str, value: str) -> object | None:
    """The column value for a line, or None when the line cannot live in the typed column
    (then it is kept as an option row, exactly as written, for the validator to report)."""
    column = TYPED_COLUMNS[directive]
    if directive == "port":
        text = value.strip()
        return int(text) if text.isdigit() and int(text) <= 65535 else None
    if directive == "trunk":
        word = value.strip().lower()
        if word in values.TRUE_WORDS:
            return True
        if word in values.FALSE_WORDS:
            return False
        return None
    if len(value) > _MAX_LENGTH[column]:
        return None
    return value


def valid(rule, value: str) -> bool:
    """True when the value rule accepts the value."""
    try:
        rule(value)
    except values.Invalid:
        return False
    return True


def split_entries(entries: Iterable[Entry]) -> EndpointData:
    data = EndpointData()
    seen: set[str] = set()
    extra: list[str] = []
    for entry in entries:
        name = entry.name.lower()
        if name == SECRET:
            _add_secret(data, extra, entry)
            continue
        if name in seen or entry.operator == "+=":
            data.options.append(entry)
            continue
        if name == "type":
            kind = entry.value.strip().lower()
            if kind in Endpoint.Kind.values:
                data.kind = kind
                seen.add(name)
                if entry.comments:
                    data.column_comments["type"] = _comment_text(entry)
                continue
        elif name in TYPED_COLUMNS:
            typed = _typed_value(name, entry.value)
            if typed is not None:
                data.columns[TYPED_COLUMNS[name]] = typed
                seen.add(name)
                if entry.comments:
                    data.column_comments[name] = _comment_text(entry)
                continue
        elif name == "inkeys":
            names = [n.strip() for n in entry.value.split(":")]
            if valid(values.key_names, entry.value) and len(set(names)) == len(names):
                data.inkeys = names
                seen.add(name)
                if entry.comments:
                    data.column_comments[name] = _comment_text(entry)
                continue
        elif name == "outkey":
            if valid(values.key_name, entry.value):
                data.outkey = entry.value.strip()
                seen.add(name)
                if entry.comments:
                    data.column_comments[name] = _comment_text(entry)
                continue
        data.options.append(entry)
    if extra:
        data.columns["extra_secrets"] = join_secrets(extra)
    return data


def _add_secret(data: EndpointData, extra: list[str], entry: Entry) -> None:
    value = entry.value
    if "\n" in value or "\r" in value:
        # a line break would split extra_secrets wrongly; forms, the API and the parser never give
        # one (values.check_line_safe refuses it), so this only keeps the column well-formed
        value = value.replace("\r", " ").replace("\n", " ")
    if entry.operator == "+=" and SECRET in data.columns:
        # appended to the previous secret line, as Asterisk's config reader does
        if extra:
            extra[-1] += value
        else:
            data.columns[SECRET] += value
        return
    if SECRET not in data.columns:
        data.columns[SECRET] = value
        if entry.comments:
            data.column_comments[SECRET] = _comment_text(entry)
        return
    extra.append(value)
    if entry.comments:
        data.column_comments[EXTRA_SECRET_NOTE.format(len(extra))] = _comment_text(entry)


def _locked(model, pk):
    """The row as it is in the database, locked until the end of the transaction."""
    return model.objects.select_for_update().get(pk=pk)


def _record(action, obj, *, before, after, host, actor, batch, message, gone=None):
    """One audit row for obj (``gone``: the ObjectState of an object just deleted)."""
    if gone is not None:
        audit.record(
            actor=actor, action=action, object_type=gone.object_type, object_id=gone.object_id,
            object_repr=gone.object_repr, host=host, before=before, after=None, batch=batch, message=message,
        )  # fmt: skip
    else:
        audit.record(
            actor=actor, action=action, obj=obj, host=host, before=before, after=after, batch=batch,
            message=message,
        )  # fmt: skip


def _created_or_updated(before) -> str:
    return Change.Action.CREATE if before is None else Change.Action.UPDATE


def _save_audited(obj, *, host, actor, batch, message):
    """Save obj and record its creation or change (the "before" read from the locked row)."""
    before = audit.state(_locked(type(obj), obj.pk)) if obj.pk else None
    obj.save()
    _record(
        _created_or_updated(before), obj, before=before, after=audit.state(obj), host=host, actor=actor,
        batch=batch, message=message,
    )  # fmt: skip
    return obj


def _delete_audited(obj, *, host, actor, batch, message, model=None, before_delete=None) -> None:
    """Delete obj (after ``before_delete()``, for rows that hang off it) and record what it was."""
    gone = audit.object_state(_locked(model or type(obj), obj.pk))
    if before_delete is not None:
        before_delete()
    obj.delete()
    _record(
        Change.Action.DELETE, None, before=gone.state, after=None, host=host, actor=actor, batch=batch,
        message=message, gone=gone,
    )  # fmt: skip


class MissingKeys(LookupError):
    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted(set(names))
        super().__init__("no key named " + ", ".join(self.names))


@transaction.atomic
def save_endpoint(
    host: Host,
    section: Section,
    *,
    position: int | None = None,
    kind: str | None = None,
    endpoint: Endpoint | None = None,
    actor=None,
    batch=None,
    message: str = "",
) -> Endpoint:
    """Create (or replace the contents of) one endpoint or template from a Section. Bases must
    exist on the host already; keys named by inkeys/outkey must exist (MissingKeys otherwise)."""
    data = split_entries(section.entries)
    key_names = set(data.inkeys) | ({data.outkey} if data.outkey else set())
    keys = {k.name: k for k in Key.objects.filter(name__in=key_names)}
    if key_names - keys.keys():
        raise MissingKeys(key_names - keys.keys())
    if endpoint is None:
        endpoint = Endpoint(host=host)
    before = audit.state(_locked(Endpoint, endpoint.pk)) if endpoint.pk else None
    if position is None and endpoint.pk is not None:
        position = endpoint.position  # an edit keeps the section where it is
    if position is None:
        last = host.endpoints.order_by("-position").values_list("position", flat=True).first()
        position = 0 if last is None else last + 1
    bases = _find_bases(host, section, exclude=endpoint.pk)
    endpoint.name = section.name
    endpoint.is_template = section.is_template
    endpoint.kind = (
        kind
        if kind is not None
        else (data.kind or (inherited_kind(bases) if not section.is_template else ""))
    )
    endpoint.position = position
    endpoint.comment = "\n".join(section.comments)
    endpoint.column_comments = data.column_comments
    for column in TYPED_COLUMNS.values():
        setattr(endpoint, column, data.columns.get(column))
    endpoint.extra_secrets = data.columns.get("extra_secrets")
    endpoint.outkey = keys.get(data.outkey) if data.outkey else None
    endpoint.save()
    endpoint.options.all().delete()
    endpoint.inkey_links.all().delete()
    endpoint.base_links.all().delete()
    EndpointOption.objects.bulk_create(
        EndpointOption(endpoint=endpoint, position=i, name=e.name, value=e.value, comment=_comment_text(e))
        for i, e in enumerate(data.options)
    )
    EndpointInKey.objects.bulk_create(
        EndpointInKey(endpoint=endpoint, key=keys[name], position=i) for i, name in enumerate(data.inkeys)
    )
    EndpointBase.objects.bulk_create(
        EndpointBase(endpoint=endpoint, base=base, position=i) for i, base in enumerate(bases)
    )
    _record(
        _created_or_updated(before), endpoint, before=before, after=audit.state(endpoint), host=host,
        actor=actor, batch=batch, message=message,
    )  # fmt: skip
    return endpoint


def _find_bases(host: Host, section: Section, *, exclude: int | None) -> list[Endpoint]:
    if not section.bases:
        return []
    wanted = {b.lower() for b in section.bases}
    found = host.endpoints.annotate(lowered=Lower("name")).filter(lowered__in=wanted).exclude(pk=exclude)
    by_name = {e.name.lower(): e for e in found}
    missing = [b for b in section.bases if b.lower() not in by_name]
    if missing:
        raise LookupError(f"[{section.name}] inherits from unknown section(s): {', '.join(missing)}")
    return [by_name[b.lower()] for b in section.bases]


def inherited_kind(bases: Iterable[Endpoint], _seen: frozenset[int] = frozenset()) -> str:
    """The type= a section gets from its bases: the first one found, depth first, as Asterisk 22
    reads the first type line of the copied lines."""
    for base in bases:
        if base.pk in _seen:
            continue
        if base.kind:
            return base.kind
        found = inherited_kind(
            [link.base for link in base.base_links.select_related("base")], _seen | {base.pk}
        )
        if found:
            return found
    return ""


@transaction.atomic
def save_general(
    host: Host, entries: Iterable[Entry], *, comment: str = "", actor=None, batch=None, message: str = ""
) -> GeneralSettings:
    """Replace the host's [general] lines (register lines are Registrations, not options)."""
    general = GeneralSettings.objects.select_for_update().filter(host=host).first()
    before = audit.state(general) if general is not None else None
    if general is None:
        general = GeneralSettings(host=host)
    general.comment = comment
    general.save()
    general.options.all().delete()
    GeneralOption.objects.bulk_create(
        GeneralOption(general=general, position=i, name=e.name, value=e.value, comment=_comment_text(e))
        for i, e in enumerate(entries)
    )
    _record(
        _created_or_updated(before), general, before=before, after=audit.state(general), host=host,
        actor=actor, batch=batch, message=message,
    )  # fmt: skip
    return general


def registration_from_line(host: Host, value: str, *, position: int, keys: Mapping[str, Key]) -> Registration:
    """An unsaved Registration from a valid register value (values.register_line accepts it)."""
    values.register_line(value)
    credentials, server = value.strip().split("@", 1)
    username, _, secret = credentials.partition(":")
    remote_host, _, port = server.partition(":")
    key = None
    if secret.startswith("["):
        key_name = secret[1:-1]
        if key_name not in keys:
            raise MissingKeys([key_name])
        key, secret = keys[key_name], ""
    return Registration(
        host=host,
        position=position,
        username=username,
        secret=secret,
        key=key,
        remote_host=remote_host,
        remote_port=int(port) if port else None,
    )


@transaction.atomic
def save_callnumber_limits(
    host: Host, limits: Iterable[tuple[str, int]], *, actor=None, batch=None, message: str = ""
) -> list[CallNumberLimit]:
    """Replace the host's [callnumberlimits] lines; one audit row per line created, changed or deleted."""
    batch = batch or audit.new_batch()
    list(host.callnumber_limits.select_for_update())
    before = audit.limit_objects(host)
    host.callnumber_limits.all().delete()
    created = CallNumberLimit.objects.bulk_create(
        CallNumberLimit(host=host, position=i, network=network, limit=limit)
        for i, (network, limit) in enumerate(limits)
    )
    for action, old, new in audit.changes_between(before, audit.limit_objects(host)):
        current = new or old
        audit.record(
            actor=actor, action=action, object_type=current.object_type, object_id=current.object_id,
            object_repr=current.object_repr, host=host, before=old.state if old else None,
            after=new.state if new else None, batch=batch, message=message,
        )  # fmt: skip
    return created


# ---------------------------------------------------------------------------------------------
# Single-object writes used by the web forms, the API and the command line. Each runs in one
# transaction and writes its audit row(s) in it (``audit.record``; the "before" state is read from
# the locked database row): ``actor`` (a user, an API token, "cli:<name>" or None for "system"),
# ``batch`` (groups the changes of one save) and ``message`` go into the Change rows.


@transaction.atomic
def delete_endpoint(endpoint: Endpoint, *, actor=None, batch=None, message: str = "") -> None:
    """Delete an endpoint or template. A template still used as a base is refused (ProtectedError)."""

    def rows_of_it() -> None:
        endpoint.options.all().delete()
        endpoint.inkey_links.all().delete()
        endpoint.base_links.all().delete()

    _delete_audited(endpoint, host=endpoint.host, actor=actor, batch=batch, message=message, model=Endpoint,
                    before_delete=rows_of_it)  # fmt: skip


@transaction.atomic
def save_registration(
    registration: Registration, *, actor=None, batch=None, message: str = ""
) -> Registration:
    registration.full_clean(exclude=["host"])
    return _save_audited(registration, host=registration.host, actor=actor, batch=batch, message=message)


@transaction.atomic
def delete_registration(registration: Registration, *, actor=None, batch=None, message: str = "") -> None:
    _delete_audited(registration, host=registration.host, actor=actor, batch=batch, message=message)


@transaction.atomic
def save_callnumber_limit(
    limit: CallNumberLimit, *, actor=None, batch=None, message: str = ""
) -> CallNumberLimit:
    values.network(limit.network)
    return _save_audited(limit, host=limit.host, actor=actor, batch=batch, message=message)


@transaction.atomic
def delete_callnumber_limit(limit: CallNumberLimit, *, actor=None, batch=None, message: str = "") -> None:
    _delete_audited(limit, host=limit.host, actor=actor, batch=batch, message=message)


@transaction.atomic
def save_key(key: Key, *, actor=None, batch=None, message: str = "") -> Key:
    values.key_name(key.name)
    return _save_audited(key, host=None, actor=actor, batch=batch, message=message)


@transaction.atomic
def delete_key(key: Key, *, actor=None, batch=None, message: str = "") -> None:
    """Refused (ProtectedError) while an endpoint or registration refers to the key."""
    _delete_audited(key, host=None, actor=actor, batch=batch, message=message)


@transaction.atomic
def save_host(host: Host, *, actor=None, batch=None, message: str = "") -> Host:
    host.full_clean()
    batch = batch or audit.new_batch()
    _save_audited(host, host=host, actor=actor, batch=batch, message=message)
    general, created = GeneralSettings.objects.get_or_create(host=host)
    if created:
        _record(
            Change.Action.CREATE, general, before=None, after=audit.state(general), host=host, actor=actor,
            batch=batch, message=message,
        )  # fmt: skip
    return host


def endpoint_section(endpoint: Endpoint) -> Section:
    """The endpoint as the Section the exporter writes (typed columns, rows, keys, bases)."""
    from .exporter import build_document

    document, _, _ = build_document(endpoint.host, only=[endpoint.pk])
    return next(s for s in document.sections if not s.is_general and s.name == endpoint.name)
