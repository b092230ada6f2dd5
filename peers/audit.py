"""The audit trail: snapshots of config objects, the ``Change`` rows and their field-by-field diff.

``record`` and ``record_many`` are called only by ``peers.services``, inside the transaction that
makes the change, so the row and the change commit or roll back together. There are no signals.

Two kinds of state:

* ``state(obj)`` / ``host_objects(host)``: the complete, unmasked state of config objects, as plain
  JSON-able dicts. ``host_objects`` reads a whole host with a constant number of queries. Published
  revisions keep this (see ``peers.revisions``, encrypted at rest); it is what a revert restores from.
* ``snapshot(obj)`` / ``mask(state)``: the same with every secret field (``Endpoint.secret`` and
  ``extra_secrets``, ``Registration.secret``, ``Key.private_pem``, a user's password hash)
  replaced by ``"********"`` (or ``""`` when it is empty), and every option line masked by its
  directive (``iaxconf.mask``: an invalid register line kept as written loses its password). Only
  masked snapshots are stored in ``Change`` rows; ``secrets_changed`` lists the secrets that differ
  from the previous state, so history can say "secret changed".
"""

from __future__ import annotations

import difflib
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db.models import Model
from django.utils import timezone

from iaxadmin.logs import changes_logged, log_change, log_changes

from . import bulk
from .iaxconf.mask import MASK, mask_value
from .models import (
    TYPED_COLUMNS,
    CallNumberLimit,
    Change,
    DialplanContexts,
    Endpoint,
    EndpointBase,
    EndpointInKey,
    EndpointOption,
    GeneralOption,
    GeneralSettings,
    Host,
    HostToken,
    Key,
    Registration,
    UserToken,
)
from .security.roles import assigned_role

SECRETS_CHANGED = "secrets_changed"

ENDPOINT_FIELDS = (
    ("name", "kind", "is_template", "position", "comment", "column_comments")
    + tuple(TYPED_COLUMNS.values())
    + ("extra_secrets",)
)
REGISTRATION_FIELDS = ("position", "username", "secret", "remote_host", "remote_port", "comment")
LIMIT_FIELDS = ("position", "network", "limit", "comment")
DIALPLAN_FIELDS = ("contexts", "source", "detail")
KEY_FIELDS = ("name", "public_pem", "private_pem", "private_encrypted", "bits", "fingerprint")
# secret fields per object type (top level of the state)
SECRET_FIELDS = {
    "endpoint": ("secret", "extra_secrets"),
    "template": ("secret", "extra_secrets"),
    "registration": ("secret",),
    "key": ("private_pem",),
    "user": ("password",),
}
USER_FIELDS = ("username", "first_name", "last_name", "email", "is_active", "is_staff", "is_superuser")


# ---------------------------------------------------------------------------------------------
# Complete (unmasked) state


@dataclass(frozen=True)
class ObjectState:
    object_type: str  # host, general, endpoint, template, registration, callnumberlimit, key
    object_id: int | None
    object_repr: str
    state: dict


def object_types(obj: Model) -> tuple[str, ...]:
    """The object types its history rows may have (an endpoint's are "endpoint" or "template")."""
    if isinstance(obj, Endpoint):
        return ENDPOINT_TYPES
    return (object_type(obj),)


ENDPOINT_TYPES = ("endpoint", "template")


def latest_change_id(object_types: tuple[str, ...], object_id: int) -> int:
    """The id of the object's latest history row that changed it (reveals aside); 0 for none."""
    rows = Change.objects.filter(object_type__in=object_types, object_id=object_id).exclude(
        action=Change.Action.REVEAL
    )
    return rows.order_by("-id").values_list("id", flat=True).first() or 0


def changes_since(object_types: tuple[str, ...], object_id: int, seen: int, *, limit: int = 20):
    """The object's history rows after ``seen`` (reveals aside), oldest first."""
    rows = Change.objects.filter(object_type__in=object_types, object_id=object_id, id__gt=seen)
    return rows.exclude(action=Change.Action.REVEAL).select_related("actor").order_by("id")[:limit]


def object_type(obj: Model) -> str:
    if isinstance(obj, Endpoint):
        return "template" if obj.is_template else "endpoint"
    if isinstance(obj, get_user_model()):
        return "user"
    return {
        Host: "host",
        GeneralSettings: "general",
        Registration: "registration",
        CallNumberLimit: "callnumberlimit",
        Key: "key",
        DialplanContexts: "dialplan",
        HostToken: "hosttoken",
        UserToken: "usertoken",
    }[type(obj)]


def _rows(rows) -> list[dict]:
    return [{"name": n, "value": v, "comment": c} for n, v, c in rows]


def endpoint_states(endpoints) -> dict[int, dict]:
    """id -> state for an Endpoint queryset; five queries whatever its size."""
    rows = list(endpoints.order_by("position", "id").values("id", *ENDPOINT_FIELDS, "outkey__name"))
    ids = endpoints.values("id")
    options, bases, inkeys = defaultdict(list), defaultdict(list), defaultdict(list)
    for endpoint_id, name, value, comment in (
        EndpointOption.objects.filter(endpoint__in=ids)
        .order_by("endpoint_id", "position")
        .values_list("endpoint_id", "name", "value", "comment")
    ):
        options[endpoint_id].append({"name": name, "value": value, "comment": comment})
    for endpoint_id, base_name in (
        EndpointBase.objects.filter(endpoint__in=ids)
        .order_by("endpoint_id", "position")
        .values_list("endpoint_id", "base__name")
    ):
        bases[endpoint_id].append(base_name)
    for endpoint_id, key_name in (
        EndpointInKey.objects.filter(endpoint__in=ids)
        .order_by("endpoint_id", "position")
        .values_list("endpoint_id", "key__name")
    ):
        inkeys[endpoint_id].append(key_name)
    states = {}
    for row in rows:
        endpoint_id = row.pop("id")
        row["outkey"] = row.pop("outkey__name")
        row["column_comments"] = dict(row["column_comments"] or {})
        row["options"] = options[endpoint_id]
        row["bases"] = bases[endpoint_id]
        row["inkeys"] = inkeys[endpoint_id]
        states[endpoint_id] = row
    return states


def general_state(general: GeneralSettings) -> dict:
    options = GeneralOption.objects.filter(general=general).order_by("position")
    return {
        "comment": general.comment,
        "header": general.header,
        "trailer": general.trailer,
        "options": _rows(options.values_list("name", "value", "comment")),
    }


def registration_state(registration: Registration) -> dict:
    data = {f: getattr(registration, f) for f in REGISTRATION_FIELDS}
    data["key"] = registration.key.name if registration.key_id else None
    return data


def state(obj: Model) -> dict:
    """The complete, unmasked state of one config object (read from the database for its rows)."""
    if isinstance(obj, Endpoint):
        return endpoint_states(Endpoint.objects.filter(pk=obj.pk))[obj.pk]
    if isinstance(obj, GeneralSettings):
        return general_state(obj)
    if isinstance(obj, Host):
        return {"name": obj.name, "description": obj.description}
    if isinstance(obj, Registration):
        return registration_state(obj)
    if isinstance(obj, CallNumberLimit):
        return {f: getattr(obj, f) for f in LIMIT_FIELDS}
    if isinstance(obj, Key):
        return {f: getattr(obj, f) for f in KEY_FIELDS}
    if isinstance(obj, DialplanContexts):
        return {"contexts": list(obj.contexts), "source": obj.source, "detail": obj.detail}
    if isinstance(obj, HostToken | UserToken):
        owner = obj.host.name if isinstance(obj, HostToken) else obj.user.get_username()
        return {"name": obj.name, "prefix": obj.prefix, "owner": owner, "revoked": obj.revoked_at is not None}
    if isinstance(obj, get_user_model()):
        data = {f: getattr(obj, f, None) for f in USER_FIELDS}
        data["role"] = assigned_role(obj) if obj.pk else None
        data["password"] = obj.password
        return data
    raise TypeError(f"no audit state for {type(obj).__name__}")


def object_state(obj: Model) -> ObjectState:
    return ObjectState(object_type(obj), obj.pk, object_repr(obj), state(obj))


def object_repr(obj: Model) -> str:
    if isinstance(obj, Endpoint):
        return f"[{obj.name}]"
    if isinstance(obj, GeneralSettings):
        return "[general]"
    if isinstance(obj, Registration):
        return f"register => {obj.username}@{obj.remote_host}"
    if isinstance(obj, DialplanContexts):
        return "dialplan contexts"
    if isinstance(obj, HostToken | UserToken):
        return f"{'host' if isinstance(obj, HostToken) else 'user'} token {obj.prefix} ({obj.name})"[:200]
    if isinstance(obj, get_user_model()):
        return f"user {obj.get_username()}"[:200]
    return str(obj)[:200]


def host_objects(host: Host) -> dict[tuple, ObjectState]:
    """Every config object of a host (not the shared keys) by a natural key that survives a
    delete-and-recreate: ("host",), ("general",), ("endpoint", lower name), ("registration", index),
    ("callnumberlimit", index), ("dialplan",). A constant number of queries."""
    objects: dict[tuple, ObjectState] = {("host",): ObjectState("host", host.pk, host.name, state(host))}
    general = GeneralSettings.objects.filter(host=host).first()
    if general is not None:
        objects[("general",)] = ObjectState("general", general.pk, "[general]", general_state(general))
    for endpoint_id, data in endpoint_states(Endpoint.objects.filter(host=host)).items():
        kind = "template" if data["is_template"] else "endpoint"
        objects[("endpoint", data["name"].lower())] = ObjectState(
            kind, endpoint_id, f"[{data['name']}]", data
        )
    objects.update(registration_objects(host))
    objects.update(limit_objects(host))
    dialplan = DialplanContexts.objects.filter(host=host).first()
    if dialplan is not None:  # not part of iax.conf: kept as it is by reverts, recorded when the host goes
        objects[("dialplan",)] = object_state(dialplan)
    return objects


def registration_objects(host: Host) -> dict[tuple, ObjectState]:
    objects = {}
    registrations = Registration.objects.filter(host=host).order_by("position", "id")
    for i, row in enumerate(registrations.values("id", *REGISTRATION_FIELDS, "key__name")):
        registration_id = row.pop("id")
        row["key"] = row.pop("key__name")
        repr_ = f"register => {row['username']}@{row['remote_host']}"
        objects[("registration", i)] = ObjectState("registration", registration_id, repr_, row)
    return objects


def limit_objects(host: Host) -> dict[tuple, ObjectState]:
    objects = {}
    limits = CallNumberLimit.objects.filter(host=host).order_by("position", "id")
    for i, row in enumerate(limits.values("id", *LIMIT_FIELDS)):
        limit_id = row.pop("id")
        repr_ = f"{row['network']} = {row['limit']}"
        objects[("callnumberlimit", i)] = ObjectState("callnumberlimit", limit_id, repr_, row)
    return objects


# ---------------------------------------------------------------------------------------------
# Masking


def _secret_options(data: dict) -> list[tuple[str, str]]:
    """The option rows holding a secret: a register line kept as written because it is invalid
    (its password), or any other line the mask hides."""
    return [
        (o["name"], o["value"])
        for o in data.get("options", ())
        if mask_value(o["name"], o["value"]) != o["value"]
    ]


def mask(data: dict | None, kind: str, *, compared_to: dict | None = None) -> dict | None:
    """A copy of a state with the secrets masked, and ``secrets_changed``: the secret fields whose
    value differs from ``compared_to`` (for a new object: the ones that are set)."""
    if data is None:
        return None
    masked = dict(data)
    changed = []
    other = compared_to or {}
    for name in SECRET_FIELDS.get(kind, ()):
        if name in masked:
            masked[name] = mask_value("secret", data[name])  # the whole field is a secret
            if data[name] != other.get(name) and (data[name] or other.get(name)):
                changed.append(name)
    if "options" in data:  # masked by directive ([general] and endpoint lines alike)
        masked["options"] = [{**o, "value": mask_value(o["name"], o["value"])} for o in data["options"]]
        if _secret_options(data) != _secret_options(other):
            changed.append("options.secret")
    masked[SECRETS_CHANGED] = changed
    return masked


def snapshot(obj: Model) -> dict:
    """The object's state with its secrets masked (for display and Change rows)."""
    return mask(state(obj), object_type(obj))


# ---------------------------------------------------------------------------------------------
# Writing Change rows


def actor_fields(actor) -> tuple[Model | None, str]:
    """(user or None, actor_name) for a User, a string such as "cli:root" / "api:deploy", an API
    token (anything with ``name``, recorded as "api:<name>") or None ("system")."""
    if actor is None:
        return None, "system"
    if isinstance(actor, str):
        return None, actor[:150]
    if hasattr(actor, "get_username"):
        return (actor if actor.pk else None), actor.get_username()[:150]
    name = getattr(actor, "name", None)
    if name:
        return getattr(actor, "user", None), f"api:{name}"[:150]
    return None, str(actor)[:150]


def new_batch() -> uuid.UUID:
    return uuid.uuid4()


def build_change(
    *,
    actor,
    action: str,
    object_type: str,
    object_id: int | None,
    object_repr: str,
    host: Host | None,
    before: dict | None,
    after: dict | None,
    batch: uuid.UUID | None,
    message: str = "",
) -> Change:
    """An unsaved Change; ``before``/``after`` are unmasked states and are masked here."""
    user, name = actor_fields(actor)
    return Change(
        actor=user,
        actor_name=name,
        batch=batch or new_batch(),
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        host=host,
        host_name=host.name if host is not None else "",
        before=mask(before, object_type),
        after=mask(after, object_type, compared_to=before),
        message=message,
    )


def record(
    *,
    actor,
    action: str,
    obj: Model | None = None,
    about: ObjectState | None = None,
    host: Host | None,
    before: dict | None,
    after: dict | None,
    batch: uuid.UUID | None = None,
    message: str = "",
) -> Change:
    """Write one Change row about ``obj`` (or ``about``: what an object just deleted was, or an
    object that is no model row). Called only by ``peers.services``, inside the transaction that
    makes the change. ``before`` and ``after`` are unmasked ``state`` dicts (None for a create / a
    delete); they are masked here."""
    if about is not None:
        kind, pk, text = about.object_type, about.object_id, about.object_repr
    else:
        kind, pk, text = object_type(obj), obj.pk, object_repr(obj)
    change = build_change(
        actor=actor,
        action=action,
        object_type=kind,
        object_id=pk,
        object_repr=text,
        host=host,
        before=before,
        after=after,
        batch=batch,
        message=message,
    )
    change.save()
    log_change(change)  # one log line, once the transaction commits (never a secret)
    return change


def changes_between(
    before: dict[tuple, ObjectState], after: dict[tuple, ObjectState]
) -> list[tuple[str, ObjectState | None, ObjectState | None]]:
    """(action, before, after) for every object that was created, changed or deleted."""
    found = []
    for key, new in after.items():
        old = before.get(key)
        if old is None:
            found.append((Change.Action.CREATE, None, new))
        elif old.state != new.state or old.object_type != new.object_type:
            found.append((Change.Action.UPDATE, old, new))
    for key, old in before.items():
        if key not in after:
            found.append((Change.Action.DELETE, old, None))
    return found


class WrittenChange(NamedTuple):
    """What the log line of a Change row written by ``record_many`` needs (``iaxadmin.logs``)."""

    pk: int | None
    actor_name: str
    action: str
    object_type: str
    object_id: int | None
    object_repr: str
    host_name: str
    batch: uuid.UUID


# The columns record_many writes, in the order of its rows.
_CHANGE_COLUMNS = (
    "at",
    "actor",
    "actor_name",
    "batch",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "host",
    "host_name",
    "before",
    "after",
    "message",
)


def record_many(
    before: dict[tuple, ObjectState],
    after: dict[tuple, ObjectState],
    *,
    actor,
    host: Host | None,
    batch: uuid.UUID,
    message: str = "",
) -> list[WrittenChange]:
    """Write a Change row for every difference between two ``host_objects`` readings, with one
    bulk insert (a constant number of queries for 10,000 endpoints). The rows are the ones
    ``build_change`` makes, converted by the fields' own methods (``peers.bulk``: no model instance
    per row, which cost an import of 10,000 sections more than writing its endpoints)."""
    user, actor_name = actor_fields(actor)
    at = bulk.prep(Change, "at")(timezone.now())
    batch_value = bulk.prep(Change, "batch")(batch)
    as_json = bulk.prep(Change, "before")
    host_id, host_name = (host.pk, host.name) if host is not None else (None, "")
    rows, written = [], []
    for action, old, new in changes_between(before, after):
        current = new or old
        kind = current.object_type
        old_state = old.state if old else None
        repr_ = current.object_repr[:200]
        rows.append(
            (
                at,
                user.pk if user is not None else None,
                actor_name,
                batch_value,
                action,
                kind,
                current.object_id,
                repr_,
                host_id,
                host_name,
                as_json(mask(old_state, kind)),
                as_json(mask(new.state if new else None, kind, compared_to=old_state)),
                message,
            )
        )
        written.append(
            WrittenChange(None, actor_name, action, kind, current.object_id, repr_, host_name, batch)
        )
    if not rows:
        return written
    logged = changes_logged()
    last = Change.objects.order_by("-id").values_list("id", flat=True).first() or 0 if logged else 0
    bulk.insert_rows(Change, _CHANGE_COLUMNS, rows, batch=2000)
    if logged:  # the log lines name each row's id
        ids = Change.objects.filter(batch=batch, id__gt=last).order_by("id").values_list("id", flat=True)
        written = [w._replace(pk=pk) for w, pk in zip(written, ids, strict=True)]
        log_changes(written)  # one log line each, once the transaction commits (never a secret)
    return written


# ---------------------------------------------------------------------------------------------
# Display


@dataclass(frozen=True)
class FieldDiff:
    field: str
    before: object
    after: object
    secret: bool = False  # before/after are "changed" / "unchanged" / "set" / "cleared"

    @property
    def changed(self) -> bool:
        return self.after != "unchanged" if self.secret else self.before != self.after


FIELD_LABELS = {"peer_host": "host"}  # columns named differently from their directive


def _flatten(data: dict | None) -> dict[str, object]:
    flat: dict[str, object] = {}
    for name, value in (data or {}).items():
        if name == SECRETS_CHANGED:
            continue
        if name == "options" and isinstance(value, list):
            for i, row in enumerate(value):
                if row["value"] == MASK:
                    flat[f"options[{i}] {row['name']}"] = row["value"]
                    continue
                comment = f"  ; {row['comment']}" if row.get("comment") else ""
                flat[f"options[{i}]"] = f"{row['name']}={row['value']}{comment}"
        elif isinstance(value, list):
            flat[name] = ":".join(str(v) for v in value)
        elif isinstance(value, dict):
            for key, inner in sorted(value.items()):
                flat[f"{name}.{key}"] = inner
        else:
            flat[FIELD_LABELS.get(name, name)] = value
    return flat


def _secret_diff(name: str, a, b, *, created: bool, deleted: bool, changed: bool) -> FieldDiff:
    def said(value) -> str:
        return "set" if value == MASK else "not set"

    if created:
        return FieldDiff(name, "", said(b), secret=True)
    if deleted:
        return FieldDiff(name, said(a), "", secret=True)
    if not changed:
        return FieldDiff(name, "unchanged", "unchanged", secret=True)
    if a == MASK and b == MASK:
        return FieldDiff(name, "set", "changed", secret=True)
    return FieldDiff(name, said(a), "set" if b == MASK else "cleared", secret=True)


def _option_lines(data: dict | None) -> list[str]:
    """The option rows of a state that hold no secret, as the lines they are ("allow=g729")."""
    lines = []
    for row in (data or {}).get("options") or ():
        if row["value"] == MASK:  # a whole secret line (the mask of iaxconf.mask)
            continue
        comment = f"  ; {row['comment']}" if row.get("comment") else ""
        lines.append(f"{row['name']}={row['value']}{comment}")
    return lines


def _list_diff(old: list[str], new: list[str], *, changed_only: bool) -> list[FieldDiff]:
    """Ordered lines compared as a list: one inserted codec line is one change, not every line
    after it (difflib over the lines; ``options[i]`` is the line's place before, or after for an
    insertion)."""
    result = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            if not changed_only:
                result.extend(
                    FieldDiff(f"options[{a1 + k}]", old[a1 + k], new[b1 + k]) for k in range(a2 - a1)
                )
            continue
        for k in range(max(a2 - a1, b2 - b1)):
            before = old[a1 + k] if a1 + k < a2 else None
            after = new[b1 + k] if b1 + k < b2 else None
            result.append(FieldDiff(f"options[{a1 + k if before is not None else b1 + k}]", before, after))
    return result


def diff(before: dict | None, after: dict | None, *, changed_only: bool = True) -> list[FieldDiff]:
    """Field-by-field differences between two masked snapshots, in field order; ordered lists of
    lines (``options``) are compared as lists. Secrets never show a value: "changed" /
    "unchanged" (and "set" / "not set" / "cleared"); an unchanged secret is listed only when every
    field is asked for, and never as a change."""
    secrets_changed = set((after or {}).get(SECRETS_CHANGED, ()))
    created, deleted = before is None, after is None
    keys = list(before or {}) + [k for k in (after or {}) if k not in (before or {})]
    result = []
    for key in keys:
        if key == SECRETS_CHANGED:
            continue
        if key == "options":
            result.extend(_list_diff(_option_lines(before), _option_lines(after), changed_only=changed_only))
        old = _flatten({key: (before or {}).get(key)}) if before is not None and key in before else {}
        new = _flatten({key: (after or {}).get(key)}) if after is not None and key in after else {}
        if key == "options":  # only the rows holding a secret are left to compare one by one
            old = {n: v for n, v in old.items() if " " in n}
            new = {n: v for n, v in new.items() if " " in n}
        for name in list(old) + [n for n in new if n not in old]:
            a, b = old.get(name), new.get(name)
            option_secret = name.startswith("options[") and " " in name
            if a == MASK or b == MASK or name in secrets_changed or option_secret:
                changed = name in secrets_changed or (option_secret and "options.secret" in secrets_changed)
                if (created and b != MASK) or (deleted and a != MASK):
                    continue
                found = _secret_diff(name, a, b, created=created, deleted=deleted, changed=changed)
                if found.changed or not changed_only:
                    result.append(found)
            elif not changed_only or a != b:
                result.append(FieldDiff(name, a, b))
    return result


def export_rows(changes: Iterable[Change]) -> Iterable[dict]:
    """Plain dicts for the CSV/JSON audit export (already masked)."""
    for change in changes:
        yield {
            "id": change.pk,
            "at": change.at.isoformat(),
            "actor": change.actor_name,
            "batch": str(change.batch),
            "action": change.action,
            "host": change.host_name,
            "object_type": change.object_type,
            "object_id": change.object_id,
            "object": change.object_repr,
            "message": change.message,
            "before": change.before,
            "after": change.after,
        }
