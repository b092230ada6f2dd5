"""Writes of published revisions: publish (an immutable, numbered revision), revert a host to a
revision (a bulk restore of its stored state) and undo one history row. Each is one audited
transaction."""

from __future__ import annotations

import hashlib
import uuid

from django.db import transaction

from .. import audit, policy
from ..exporter import export_host
from ..iaxconf import Entry
from ..models import (
    CallNumberLimit,
    Change,
    Endpoint,
    EndpointBase,
    EndpointInKey,
    EndpointOption,
    GeneralSettings,
    Host,
    Key,
    Registration,
    Revision,
)
from ..revisions import host_snapshot, whole_checksum
from . import storage
from .config import delete_callnumber_limit, delete_registration
from .core import Conflict, Refused, lock_host, record_saved
from .endpoints import delete_endpoint
from .keys import delete_key

# ---------------------------------------------------------------------------------------------
# Publishing


def publish(host: Host, *, actor, message: str = "", expected: str | None = None) -> Revision:
    """Publish the host's current config as its next revision (and a "revision" row in the host's
    history). The host row is locked, so two publishes at once get consecutive numbers. Refused while the config has error findings;
    Conflict when ``expected`` (the sha256 of the iax.conf text the publisher confirmed) is given
    and the text is no longer that."""
    with transaction.atomic():
        host = lock_host(host)
        export = export_host(host)
        if export.errors:
            raise Refused(export.errors, f"{len(export.errors)} error finding(s); fix them before publishing")
        if expected is not None and hashlib.sha256(export.text.encode("utf-8")).hexdigest() != expected:
            raise Conflict(f"the configuration of {host.name}", [], 0)
        last = Revision.objects.filter(host=host).order_by("-number").values_list("number", flat=True).first()
        user, name = audit.actor_fields(actor)
        revision = Revision.objects.create(
            host=host,
            number=(last or 0) + 1,
            author=user,
            author_name=name,
            message=message,
            conf_text=export.text,
            key_files=[
                {"name": k.name, "sha256": hashlib.sha256(k.content).hexdigest(), "mode": k.mode}
                for k in export.key_files
            ],
            sha256=whole_checksum(export.text, export.key_files),
            snapshot=host_snapshot(host),
        )
        state = {"number": revision.number, "sha256": revision.sha256}
        about = audit.ObjectState("revision", revision.pk, f"revision {revision.number}", state)
        audit.record(
            actor=actor,
            action=Change.Action.CREATE,
            about=about,
            host=host,
            before=None,
            after=state,
            message=message or f"published revision {revision.number}",
        )
        return revision


# ---------------------------------------------------------------------------------------------
# Reverting a host to a revision


def _ordered(rows: list[dict]) -> list[dict]:
    """Rows with distinct positions (rows that shared one were ordered by id, which a restore
    cannot reproduce): the file order is kept either way."""
    if len({r["position"] for r in rows}) == len(rows):
        return rows
    return [{**r, "position": i} for i, r in enumerate(rows)]


def _restore_rows(model, host: Host, rows: list[dict], fields, keys: dict[str, Key] | None = None) -> None:
    """Registrations or call-number limits: matched by order, updated, created or deleted."""
    current = list(model.objects.filter(host=host).order_by("position", "id"))
    for i, data in enumerate(rows):
        obj = current[i] if i < len(current) else model(host=host)
        for name in fields:
            setattr(obj, name, data[name])
        if keys is not None:
            obj.key = keys[data["key"]] if data["key"] else None
        obj.save()
    model.objects.filter(pk__in=[o.pk for o in current[len(rows) :]]).delete()


def _restore_general(host: Host, wanted: dict | None) -> GeneralSettings | None:
    general = GeneralSettings.objects.filter(host=host).first()
    if wanted is None:
        if general is not None:
            general.delete()
        return None
    if general is None or audit.general_state(general) != wanted:
        general = general or GeneralSettings(host=host)
        general.comment, general.header, general.trailer = (
            wanted["comment"],
            wanted["header"],
            wanted["trailer"],
        )
        general.save()
        storage.write_general(general, [_entry(o) for o in wanted["options"]])
    return general


def _entry(row: dict) -> Entry:
    return Entry(row["name"], row["value"], row["comment"].split("\n") if row["comment"] else [])


def _restore(host: Host, snapshot: dict, keys: dict[str, Key]) -> None:
    state = snapshot["host"]
    if host.description != state["description"]:
        host.description = state["description"]
        host.save(update_fields=["description", "updated_at"])
    _restore_general(host, snapshot["general"])
    endpoints = Endpoint.objects.filter(host=host)
    current_states = audit.endpoint_states(endpoints)
    by_name = {e.name.lower(): e for e in endpoints}
    touched = []
    for data in _ordered(snapshot["endpoints"]):
        endpoint = by_name.get(data["name"].lower())
        if endpoint is not None and current_states[endpoint.pk] == data:
            continue
        endpoint = endpoint or Endpoint(host=host)
        storage.set_endpoint_fields(endpoint, data, keys)
        endpoint.save()  # one UPDATE each: Django's bulk_update is far slower at 10,000 rows
        by_name[data["name"].lower()] = endpoint
        touched.append((endpoint, data))
    wanted_names = {d["name"].lower() for d in snapshot["endpoints"]}
    extras = [e.pk for name, e in by_name.items() if name not in wanted_names]
    EndpointBase.objects.filter(endpoint_id__in=extras).delete()
    storage.write_endpoint_rows(touched, keys, by_name)
    EndpointOption.objects.filter(endpoint_id__in=extras).delete()
    EndpointInKey.objects.filter(endpoint_id__in=extras).delete()
    Endpoint.objects.filter(pk__in=extras).delete()
    _restore_rows(Registration, host, _ordered(snapshot["registrations"]), audit.REGISTRATION_FIELDS, keys)
    _restore_rows(CallNumberLimit, host, _ordered(snapshot["callnumber_limits"]), audit.LIMIT_FIELDS)


def _keys_for(snapshot: dict, *, actor, batch: uuid.UUID, message: str) -> dict[str, Key]:
    """The keys the snapshot uses; ones deleted since are recreated from its material (audited)."""
    material = {k["name"]: k for k in snapshot.get("keys", ())}
    keys = {k.name: k for k in Key.objects.filter(name__in=material)}
    created = {}
    for name in sorted(material.keys() - keys.keys()):
        keys[name] = Key.objects.create(**{f: material[name][f] for f in audit.KEY_FIELDS})
        created[("key", name)] = audit.object_state(keys[name])
    if created:
        audit.record_many({}, created, actor=actor, host=None, batch=batch, message=message)
    return keys


def revert_host(host: Host, revision: Revision, *, actor, message: str = "") -> uuid.UUID:
    """Restore the host's config to a published revision: one new audited batch in which every
    object comes back to the snapshot (deleted ones are recreated, extra ones deleted; keys the
    revision used are recreated from its key material if they were deleted). Returns the batch."""
    if revision.host_id != host.pk:
        raise ValueError(f"revision {revision.number} belongs to another host")
    message = message or f"revert to revision {revision.number}"
    batch = audit.new_batch()
    with transaction.atomic():
        host = lock_host(host)
        before = audit.host_objects(host)
        keys = _keys_for(revision.snapshot, actor=actor, batch=batch, message=message)
        _restore(host, revision.snapshot, keys)
        audit.record_many(
            before, audit.host_objects(host), actor=actor, host=host, batch=batch, message=message
        )
    return batch


# ---------------------------------------------------------------------------------------------
# Undoing one history row


class NotRevertible(Refused):
    """The object cannot be brought back exactly; nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__([policy.finding("not-revertible", "", message)], message)


_MODELS = {
    "endpoint": Endpoint,
    "template": Endpoint,
    "registration": Registration,
    "callnumberlimit": CallNumberLimit,
    "key": Key,
    "host": Host,
    "general": GeneralSettings,
}


def _unmask(before: dict, current: dict | None, change: Change) -> dict:
    """before with its masked secrets replaced by the current values, when that is the truth."""
    secrets = audit.SECRET_FIELDS.get(change.object_type, ())
    data = {k: v for k, v in before.items() if k != audit.SECRETS_CHANGED}
    if not any(before.get(n) == audit.MASK for n in secrets):
        return data
    if current is None or (change.after or {}).get(audit.SECRETS_CHANGED):
        raise NotRevertible(
            f"{change.object_repr}: its secret is not kept in the audit trail; revert the host to a "
            "published revision instead"
        )
    for name in secrets:
        if data.get(name) == audit.MASK:
            data[name] = current.get(name)
    return data


def revert_change(change: Change, *, actor, message: str = "") -> uuid.UUID:
    """Bring one object back to its state before ``change`` (delete it, if the change created it).
    Raises NotRevertible when that cannot be done exactly (a secret the audit trail does not keep,
    a base or key that no longer exists, a host or [general] creation, a token, a user, a reveal),
    or when the object is already in that state because of a later change (an undo is not applied
    twice)."""
    model = _MODELS.get(change.object_type)
    if model is None or change.action == Change.Action.REVEAL:
        raise NotRevertible(
            f"{change.object_repr}: a {change.object_type} {change.action} cannot be undone here"
        )
    message = message or f"revert change {change.pk}"
    batch = audit.new_batch()
    with transaction.atomic():
        obj = model.objects.select_for_update().filter(pk=change.object_id).first()
        if change.action == Change.Action.CREATE:
            return _revert_creation(change, obj, actor=actor, batch=batch, message=message)
        host = obj.host if obj is not None and hasattr(obj, "host") else change.host
        if host is not None:
            lock_host(host)
        current = audit.state(obj) if obj is not None else None
        data = _unmask(change.before, current, change)
        if data == current:
            raise NotRevertible(f"{change.object_repr} is already as it was before change {change.pk}")
        keys = _keys_named(data)
        if change.object_type in ("endpoint", "template"):
            obj = _revert_endpoint(host, obj, data, keys)
        elif change.object_type in ("registration", "callnumberlimit"):
            obj = obj or model(host=host)
            fields = audit.REGISTRATION_FIELDS if model is Registration else audit.LIMIT_FIELDS
            for name in fields:
                setattr(obj, name, data[name])
            if model is Registration:
                obj.key = keys[data["key"]] if data["key"] else None
            obj.save()
        elif change.object_type == "key":
            obj = obj or Key()
            for name in audit.KEY_FIELDS:
                setattr(obj, name, data[name])
            obj.save()
        elif change.object_type == "host" and obj is not None:
            obj.description = data["description"]
            obj.save(update_fields=["description", "updated_at"])
        elif change.object_type == "general" and obj is not None:
            _restore_general(obj.host, data)
        else:
            raise NotRevertible(f"{change.object_repr} cannot be brought back on its own; revert the host")
        record_saved(
            obj, current, host=host if model is not Key else None, actor=actor, batch=batch, message=message
        )
    return batch


class _DryRun(Exception):
    pass


def revert_problem(change: Change) -> str | None:
    """Why ``revert_change`` would refuse ``change`` now (None: it would be applied), found by
    running it in a transaction that is rolled back, so the page offers an undo only when the
    undo itself would succeed. Nothing is written or logged."""
    try:
        with transaction.atomic():
            revert_change(change, actor="dry-run")
            raise _DryRun
    except _DryRun:
        return None
    except Refused as exc:
        return exc.message


def _keys_named(data: dict) -> dict[str, Key]:
    names = set(data.get("inkeys", ())) | {n for n in (data.get("outkey"), data.get("key")) if n}
    keys = {k.name: k for k in Key.objects.filter(name__in=names)}
    if names - keys.keys():
        raise NotRevertible(f"key(s) {', '.join(sorted(names - keys.keys()))} no longer exist")
    return keys


def _revert_endpoint(host: Host, endpoint: Endpoint | None, data: dict, keys: dict[str, Key]) -> Endpoint:
    by_name = {e.name.lower(): e for e in Endpoint.objects.filter(host=host)}
    missing = [b for b in data["bases"] if b.lower() not in by_name]
    if missing:
        raise NotRevertible(
            f"[{data['name']}] inherits from section(s) that no longer exist: {', '.join(missing)}"
        )
    clash = by_name.get(data["name"].lower())
    if clash is not None and (endpoint is None or clash.pk != endpoint.pk):
        raise NotRevertible(f"another section is now named [{clash.name}]")
    endpoint = endpoint or Endpoint(host=host)
    storage.set_endpoint_fields(endpoint, data, keys)
    endpoint.save()
    by_name[endpoint.name.lower()] = endpoint
    storage.write_endpoint_rows([(endpoint, data)], keys, by_name)
    return endpoint


def _revert_creation(change: Change, obj, *, actor, batch: uuid.UUID, message: str) -> uuid.UUID:
    if obj is None:
        raise NotRevertible(f"{change.object_repr} no longer exists")
    kwargs = {"actor": actor, "batch": batch, "message": message}
    if change.object_type in ("endpoint", "template"):
        delete_endpoint(obj, **kwargs)
    elif change.object_type == "registration":
        delete_registration(obj, **kwargs)
    elif change.object_type == "callnumberlimit":
        delete_callnumber_limit(obj, **kwargs)
    elif change.object_type == "key":
        delete_key(obj, actor=actor, message=message)
    else:
        raise NotRevertible(f"the creation of {change.object_repr} cannot be reverted on its own")
    return batch
