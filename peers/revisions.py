"""Published revisions of a host's iax.conf: publish, preview, diff, write, and revert.

A ``Revision`` keeps the iax.conf text exactly as published, the key files' names, modes and
checksums, the sha256 of the whole, and a complete snapshot of the host's model state (the
unmasked ``audit`` states, plus the material of the keys it uses) from which ``revert_host``
restores the host. Reverting is itself a change batch, audited like any other.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from . import audit, services
from .exporter import Export, KeyFile, _pem_bytes, export_host, key_usage_filter, write_export
from .iaxconf import Finding
from .models import (
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
    Revision,
)

SNAPSHOT_VERSION = 2  # 2: endpoints have extra_secrets (version 1 kept them as "secret" option rows)


class PublishRefused(Exception):
    """The host's config has error findings; nothing was published."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        super().__init__(f"{len(findings)} error finding(s); fix them before publishing")


class PublishChanged(Exception):
    """The config is no longer the one the admin saw in the preview; nothing was published."""


class NotRevertible(Exception):
    """The object cannot be brought back exactly; nothing was changed."""


# ---------------------------------------------------------------------------------------------
# Snapshots and checksums


def host_snapshot(host: Host) -> dict:
    """Complete, unmasked model state of a host and the keys it uses (constant queries)."""
    objects = audit.host_objects(host)
    general = objects.get(("general",))
    keys = Key.objects.filter(key_usage_filter(host)).distinct().order_by("name")
    return {
        "version": SNAPSHOT_VERSION,
        "host": objects[("host",)].state,
        "general": general.state if general else None,
        "endpoints": [o.state for k, o in objects.items() if k[0] == "endpoint"],
        "registrations": [o.state for k, o in objects.items() if k[0] == "registration"],
        "callnumber_limits": [o.state for k, o in objects.items() if k[0] == "callnumberlimit"],
        "keys": [{f: getattr(key, f) for f in audit.KEY_FIELDS} for key in keys],
    }


def whole_checksum(conf_text: str, key_files: list[KeyFile]) -> str:
    """The revision checksum the agent verifies (agent/README.md): sha256 over the bytes of
    iax.conf, then for each key file in byte order of its name: the name (without keys/), a NUL,
    the content."""
    digest = hashlib.sha256(conf_text.encode("utf-8"))
    for key_file in sorted(key_files, key=lambda k: k.name.encode("utf-8")):
        digest.update(key_file.name.encode("utf-8") + b"\0" + key_file.content)
    return digest.hexdigest()


def revision_key_files(revision: Revision) -> list[KeyFile]:
    """The key files exactly as published, rebuilt from the snapshot's key material and checked
    against the stored checksums."""
    material = {k["name"]: k for k in revision.snapshot.get("keys", ())}
    files = []
    for entry in revision.key_files:
        name, kind = entry["name"].rsplit(".", 1)
        pem = material[name]["public_pem" if kind == "pub" else "private_pem"]
        content = _pem_bytes(pem)
        if hashlib.sha256(content).hexdigest() != entry["sha256"]:
            raise ValueError(f"revision {revision.number}: {entry['name']} does not match its checksum")
        files.append(KeyFile(entry["name"], content, entry["mode"]))
    return files


@dataclass
class PublishedExport:
    """What ``exporter.write_export`` needs, taken from a revision instead of the database."""

    host: str
    text: str
    key_files: list[KeyFile]
    errors: list = field(default_factory=list)


def write_revision(revision: Revision, out_dir) -> list[Path]:
    """Write a revision's iax.conf and keys/ into out_dir exactly as published (atomic renames)."""
    files = revision_key_files(revision)
    if whole_checksum(revision.conf_text, files) != revision.sha256:
        raise ValueError(f"revision {revision.number} does not match its sha256")
    return write_export(PublishedExport(revision.host.name, revision.conf_text, files), out_dir)


# ---------------------------------------------------------------------------------------------
# Publishing


def last_revision(host: Host) -> Revision | None:
    return Revision.objects.filter(host=host).order_by("-number").first()


def unified_diff(old: str, new: str, old_label: str, new_label: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), old_label, new_label
        )
    )


@dataclass
class Preview:
    export: Export
    previous: Revision | None
    diff: str  # unified diff of iax.conf against the previous revision ("" when identical)

    @property
    def errors(self) -> list[Finding]:
        return self.export.errors

    def __str__(self) -> str:
        return self.diff


def preview_publish(host: Host) -> Preview:
    """What publishing now would change: the unified diff against the last revision's text."""
    export = export_host(host)
    previous = last_revision(host)
    old_label = f"{host.name} r{previous.number}" if previous else f"{host.name} (nothing published)"
    diff = unified_diff(previous.conf_text if previous else "", export.text, old_label, f"{host.name} now")
    return Preview(export, previous, diff)


def publish(host: Host, *, actor=None, message: str = "", expected: str | None = None) -> Revision:
    """Publish the host's current config as its next revision. The host row is locked, so two
    publishes at once get consecutive numbers. Raises PublishRefused while there are errors, and
    PublishChanged when ``expected`` (the sha256 of the iax.conf text the admin confirmed) is given
    and the text is no longer that."""
    with transaction.atomic():
        host = Host.objects.select_for_update().get(pk=host.pk)
        export = export_host(host)
        if export.errors:
            raise PublishRefused(export.errors)
        if expected is not None and hashlib.sha256(export.text.encode("utf-8")).hexdigest() != expected:
            raise PublishChanged()
        last = Revision.objects.filter(host=host).order_by("-number").values_list("number", flat=True).first()
        user, name = audit.actor_fields(actor)
        return Revision.objects.create(
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


# ---------------------------------------------------------------------------------------------
# Display: never show a secret, even in a diff of published text

_SECRET_LINE = re.compile(r"^(?P<lead>[ +-]?\s*secret\s*=>?\s*)(?P<value>\S.*?)(?P<end>\r?\n?)$", re.I)
_REGISTER_LINE = re.compile(
    r"^(?P<lead>[ +-]?\s*register\s*=>?\s*[^:@\s]+:)(?P<value>[^\[@][^@]*)(?P<end>@.*)$", re.I | re.S
)


def mask_line(line: str) -> str:
    """A line of iax.conf (or of a unified diff of one) with any secret value masked."""
    for pattern in (_SECRET_LINE, _REGISTER_LINE):
        match = pattern.match(line)
        if match:
            return match["lead"] + audit.MASK + match["end"]
    return line


def diff_lines(diff: str) -> list[tuple[str, str]]:
    """(css class, masked text) per line of a unified diff, for coloured display."""
    lines = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            css = "file"
        elif line.startswith("@@"):
            css = "hunk"
        elif line.startswith("+"):
            css = "add"
        elif line.startswith("-"):
            css = "del"
        else:
            css = "ctx"
        lines.append((css, mask_line(line)))
    return lines


# ---------------------------------------------------------------------------------------------
# Reverting


def _ordered(rows: list[dict]) -> list[dict]:
    """Rows with distinct positions (rows that shared one were ordered by id, which a restore
    cannot reproduce): the file order is kept either way."""
    if len({r["position"] for r in rows}) == len(rows):
        return rows
    return [{**r, "position": i} for i, r in enumerate(rows)]


def current_endpoint_state(data: dict) -> dict:
    """An endpoint state in the current form: a state written before extra_secrets existed (a
    version 1 snapshot, an older Change row) has its second and later secret lines as option rows,
    which are stored in clear; they move to extra_secrets (and a first one to secret)."""
    secret_rows = [o for o in data.get("options", ()) if o["name"].lower() in audit.SECRET_OPTION_NAMES]
    if "extra_secrets" in data and not secret_rows:
        return data
    data = dict(data)
    lines = services.split_secrets(data.get("extra_secrets"))
    notes = dict(data.get("column_comments") or {})
    for row in secret_rows:
        if data.get("secret") is None:
            data["secret"] = row["value"]
            if row.get("comment"):
                notes["secret"] = row["comment"]
            continue
        lines.append(row["value"])
        if row.get("comment"):
            notes[services.EXTRA_SECRET_NOTE.format(len(lines))] = row["comment"]
    data["extra_secrets"] = services.join_secrets(lines)
    data["column_comments"] = notes
    data["options"] = [o for o in data.get("options", ()) if o not in secret_rows]
    return data


def _set_endpoint_fields(endpoint: Endpoint, data: dict, keys: dict[str, Key]) -> None:
    for name in audit.ENDPOINT_FIELDS:
        setattr(endpoint, name, data[name])
    endpoint.outkey = keys[data["outkey"]] if data["outkey"] else None


def _write_endpoint_rows(pairs: list[tuple[Endpoint, dict]], keys: dict[str, Key], by_name) -> None:
    """Replace the option, inkey and base rows of the endpoints in pairs by their states'."""
    ids = [e.pk for e, _ in pairs]
    EndpointOption.objects.filter(endpoint_id__in=ids).delete()
    EndpointInKey.objects.filter(endpoint_id__in=ids).delete()
    EndpointBase.objects.filter(endpoint_id__in=ids).delete()
    options, inkeys, bases = [], [], []
    for endpoint, data in pairs:
        options += [
            EndpointOption(
                endpoint=endpoint, position=i, name=o["name"], value=o["value"], comment=o["comment"]
            )
            for i, o in enumerate(data["options"])
        ]
        inkeys += [
            EndpointInKey(endpoint=endpoint, key=keys[n], position=i) for i, n in enumerate(data["inkeys"])
        ]
        bases += [
            EndpointBase(endpoint=endpoint, base=by_name[n.lower()], position=i)
            for i, n in enumerate(data["bases"])
        ]
    EndpointOption.objects.bulk_create(options, batch_size=5000)
    EndpointInKey.objects.bulk_create(inkeys, batch_size=5000)
    EndpointBase.objects.bulk_create(bases, batch_size=5000)


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
        general.options.all().delete()
        GeneralOption.objects.bulk_create(
            GeneralOption(general=general, position=i, name=o["name"], value=o["value"], comment=o["comment"])
            for i, o in enumerate(wanted["options"])
        )
    return general


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
    for data in _ordered([current_endpoint_state(d) for d in snapshot["endpoints"]]):
        endpoint = by_name.get(data["name"].lower())
        if endpoint is not None and current_states[endpoint.pk] == data:
            continue
        endpoint = endpoint or Endpoint(host=host)
        _set_endpoint_fields(endpoint, data, keys)
        endpoint.save()  # one UPDATE each: Django's bulk_update is far slower at 10,000 rows
        by_name[data["name"].lower()] = endpoint
        touched.append((endpoint, data))
    wanted_names = {d["name"].lower() for d in snapshot["endpoints"]}
    extras = [e.pk for name, e in by_name.items() if name not in wanted_names]
    EndpointBase.objects.filter(endpoint_id__in=extras).delete()
    _write_endpoint_rows(touched, keys, by_name)
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


def revert_host(host: Host, revision: Revision, *, actor=None, message: str = "") -> uuid.UUID:
    """Restore the host's config to a published revision: one new audited batch in which every
    object comes back to the snapshot (deleted ones are recreated, extra ones deleted; keys the
    revision used are recreated from its key material if they were deleted). Returns the batch."""
    if revision.host_id != host.pk:
        raise ValueError(f"revision {revision.number} belongs to another host")
    message = message or f"revert to revision {revision.number}"
    batch = audit.new_batch()
    with transaction.atomic():
        host = Host.objects.select_for_update().get(pk=host.pk)
        before = audit.host_objects(host)
        keys = _keys_for(revision.snapshot, actor=actor, batch=batch, message=message)
        _restore(host, revision.snapshot, keys)
        audit.record_many(
            before, audit.host_objects(host), actor=actor, host=host, batch=batch, message=message
        )
    return batch


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
    has_secret = any(before.get(n) == audit.MASK for n in secrets) or any(
        o["value"] == audit.MASK for o in before.get("options", ())
    )
    if not has_secret:
        return {k: v for k, v in before.items() if k != audit.SECRETS_CHANGED}
    if current is None or (change.after or {}).get(audit.SECRETS_CHANGED):
        raise NotRevertible(
            f"{change.object_repr}: its secret is not kept in the audit trail; revert the host to a "
            "published revision instead"
        )
    data = {k: v for k, v in before.items() if k != audit.SECRETS_CHANGED}
    for name in secrets:
        if data.get(name) == audit.MASK:
            data[name] = current.get(name)
    if "options" in data:
        # an older Change row: its masked secret option rows are the current extra secret lines
        current_secrets = iter(
            services.split_secrets(current.get("extra_secrets"))
            + [o["value"] for o in current["options"] if o["value"] and o["name"].lower() == "secret"]
        )
        data["options"] = [
            {**o, "value": next(current_secrets, "")} if o["value"] == audit.MASK else o
            for o in data["options"]
        ]
    return data


def revert_object(change: Change, *, actor=None, message: str = "") -> uuid.UUID:
    """Bring one object back to its state before ``change`` (delete it, if the change created it).
    Raises NotRevertible when that cannot be done exactly (a secret the audit trail does not keep,
    a base or key that no longer exists, a host or [general] creation)."""
    model = _MODELS[change.object_type]
    message = message or f"revert change {change.pk}"
    batch = audit.new_batch()
    with transaction.atomic():
        obj = model.objects.select_for_update().filter(pk=change.object_id).first()
        if change.action == Change.Action.CREATE:
            return _revert_creation(change, obj, actor=actor, batch=batch, message=message)
        host = obj.host if obj is not None and hasattr(obj, "host") else change.host
        current = audit.state(obj) if obj is not None else None
        data = _unmask(change.before, current, change)
        if change.object_type in ("endpoint", "template"):
            data = current_endpoint_state(data)
        if data == current:
            return batch
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
        action = Change.Action.CREATE if current is None else Change.Action.UPDATE
        audit.record(
            actor=actor, action=action, obj=obj, host=host if model is not Key else None, before=current,
            after=audit.state(obj), batch=batch, message=message,
        )  # fmt: skip
    return batch


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
    data = current_endpoint_state(data)
    _set_endpoint_fields(endpoint, data, keys)
    endpoint.save()
    by_name[endpoint.name.lower()] = endpoint
    _write_endpoint_rows([(endpoint, data)], keys, by_name)
    return endpoint


def _revert_creation(change: Change, obj, *, actor, batch: uuid.UUID, message: str) -> uuid.UUID:
    if obj is None:
        raise NotRevertible(f"{change.object_repr} no longer exists")
    kwargs = {"actor": actor, "batch": batch, "message": message}
    if change.object_type in ("endpoint", "template"):
        services.delete_endpoint(obj, **kwargs)
    elif change.object_type == "registration":
        services.delete_registration(obj, **kwargs)
    elif change.object_type == "callnumberlimit":
        services.delete_callnumber_limit(obj, **kwargs)
    elif change.object_type == "key":
        services.delete_key(obj, **kwargs)
    else:
        raise NotRevertible(f"the creation of {change.object_repr} cannot be reverted on its own")
    return batch
