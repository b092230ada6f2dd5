"""Writes of an import: a host's configuration brought to what a parsed file says, in one
transaction (nothing written on error), every object created, changed or deleted recorded under
one batch. A dry run writes nothing at all: it is the plan (``peers.importer.plan_import``),
worked out by reading. The real import works out the same plan under the host's lock and writes
exactly it: created objects are inserted, changed ones rewritten, deleted ones removed and
unchanged ones left alone (their ids, and so their history and versions, stay). And the staging
of a web import's files between its dry run and its confirmation: in the database, keyed by an
id, never on the server's disk or in the browser."""

from __future__ import annotations

import base64
import dataclasses
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .. import audit
from ..iaxconf import Document
from ..iaxconf.parse import ConfigSyntaxError, parse_uploads
from ..importer import ImportError_, ImportPlan, ImportReport, Progress, plan_import, prepare
from ..models import CallNumberLimit, GeneralOption, GeneralSettings, Host, ImportUpload, Key, Registration
from . import storage


def import_document(
    document: Document,
    *,
    host_name: str,
    replace: bool = False,
    dry_run: bool = False,
    notes: list | None = None,
    progress: Progress | None = None,
    description: str = "",
    actor,
    message: str = "",
) -> ImportReport:
    """Bring host ``host_name`` (created when it does not exist; replaced only with ``replace``) to
    what a parsed document says. Raises ImportError_ for what stops an import. Lines that are wrong
    but storable are kept as written and listed in ``report.findings``; keys the document names
    that the database lacks are created as placeholders (``report.placeholder_keys``). With
    ``dry_run`` nothing is written: the report is the plan."""
    report = ImportReport(host=host_name, dry_run=dry_run, notes=list(notes or []))
    document, report.ignored = prepare(document, host_name)
    if dry_run:
        host = _host(Host.objects.filter(name=host_name).first(), replace, host_name)
        plan_import(document, host_name=host_name, host=host, ignored=report.ignored, description=description,
                    progress=progress).fill(report)  # fmt: skip
        return report
    with transaction.atomic():
        host = _host(Host.objects.select_for_update().filter(name=host_name).first(), replace, host_name)
        plan = plan_import(document, host_name=host_name, host=host, ignored=report.ignored,
                           description=description, progress=progress)  # fmt: skip
        plan.fill(report)
        write_plan(plan, actor=actor, batch=report.batch, message=message, progress=progress)
    return report


def _host(host: Host | None, replace: bool, host_name: str) -> Host | None:
    if host is not None and not replace:
        raise ImportError_(
            f"host {host_name!r} already exists; choose to replace its configuration with the file's"
        )
    return host


def write_plan(plan: ImportPlan, *, actor, batch: uuid.UUID, message: str = "", progress=None) -> Host:
    """Write an import plan (inside the caller's transaction, the host row locked) and its history
    rows: only what the plan says is created, changed, moved or deleted."""
    host = plan.host
    after = dict(plan.after)
    if host is None:
        state = plan.after[("host",)].state
        host = Host.objects.create(name=state["name"], description=state["description"])
        after[("host",)] = dataclasses.replace(after[("host",)], object_id=host.pk)
    keys = dict(plan.keys)
    placeholders = {}
    for name in plan.placeholder_keys:
        keys[name] = Key.objects.create(name=name, public_pem="", bits=1024)
        placeholders[("key", name)] = audit.object_state(keys[name])
    touched = set(plan.created) | set(plan.changed) | set(plan.moved)
    if ("general",) in touched:
        after[("general",)] = _write_general(host, plan)
    endpoint_ids = _write_endpoints(host, plan, keys, after, progress)
    for kind, model in (("registration", Registration), ("callnumberlimit", CallNumberLimit)):
        _write_rows(host, plan, kind, model, keys, after)
    before = {k: plan.before[k] for k in plan.changed + plan.moved + plan.deleted}
    written = {k: after[k] for k in touched}
    if plan.host is None:
        written[("host",)] = after[("host",)]
    audit.record_many(before, written, actor=actor, host=host, batch=batch, message=message)
    if placeholders:
        audit.record_many({}, placeholders, actor=actor, host=None, batch=batch, message=message)
    if progress:
        progress("written", len(endpoint_ids), len(endpoint_ids))
    return host


def _write_general(host: Host, plan: ImportPlan):
    state = plan.after[("general",)].state
    general = GeneralSettings.objects.filter(host=host).first() or GeneralSettings(host=host)
    general.comment, general.header, general.trailer = state["comment"], state["header"], state["trailer"]
    general.save()
    GeneralOption.objects.filter(general=general).delete()
    GeneralOption.objects.bulk_create(
        GeneralOption(general=general, position=i, name=o["name"], value=o["value"], comment=o["comment"])
        for i, o in enumerate(state["options"])
    )
    return dataclasses.replace(plan.after[("general",)], object_id=general.pk)


def _write_endpoints(host: Host, plan: ImportPlan, keys: dict[str, Key], after: dict, progress) -> dict:
    """Endpoints: base links of what changes go first (a base may be deleted or renamed), then
    deletions, rewrites, new endpoints with their rows, and the new place of moved ones."""

    def endpoint_keys(keys_: list) -> list:
        return [k for k in keys_ if k[0] == "endpoint"]

    changed = endpoint_keys(plan.changed)
    deleted = endpoint_keys(plan.deleted)
    created = endpoint_keys(plan.created)
    moved = endpoint_keys(plan.moved)
    old_id = {k: plan.before[k].object_id for k in changed + deleted + moved}
    storage.delete_base_links([old_id[k] for k in changed + deleted])
    storage.delete_endpoints([old_id[k] for k in deleted])
    if progress:
        progress("write", 0, len(created) + len(changed))
    ids = storage.insert_endpoint_states(host, [plan.after[k].state for k in created], keys)
    storage.update_endpoint_states(host, [(old_id[k], plan.after[k].state) for k in changed], keys, ids)
    storage.move_endpoints([(old_id[k], plan.after[k].state["position"]) for k in moved])
    for key in created + changed + moved:
        after[key] = dataclasses.replace(plan.after[key], object_id=ids[key[1]])
    return ids


def _write_rows(host: Host, plan: ImportPlan, kind: str, model, keys: dict[str, Key], after: dict) -> None:
    """Registrations or call-number limits, by their place in the file."""
    for key in [k for k in plan.deleted if k[0] == kind]:
        model.objects.filter(pk=plan.before[key].object_id).delete()
    for key in [k for k in plan.created + plan.changed + plan.moved if k[0] == kind]:
        state = plan.after[key].state
        row = model.objects.get(pk=plan.before[key].object_id) if key in plan.before else model(host=host)
        for name, value in state.items():
            if name == "key":
                row.key = keys[value] if value else None
            else:
                setattr(row, name, value)
        row.save()
        after[key] = dataclasses.replace(plan.after[key], object_id=row.pk)


# ---------------------------------------------------------------------------------------------
# Web imports: the uploaded files wait on the server side between the dry run and the confirmation

UPLOAD_LIFETIME = timedelta(hours=6)


def stage_upload(files: dict[str, bytes], *, main: str, host_name: str, replace: bool, user) -> ImportUpload:
    """Keep a web import's files (name -> content; ``main`` is the iax.conf among them) until it is
    confirmed or cancelled. Expired uploads are removed on the way."""
    ImportUpload.objects.filter(created_at__lt=timezone.now() - UPLOAD_LIFETIME).delete()
    encoded = {name: base64.b64encode(data).decode("ascii") for name, data in files.items()}
    return ImportUpload.objects.create(
        created_by=user if getattr(user, "pk", None) else None, host_name=host_name, replace=replace, main=main,
        files=encoded,
    )  # fmt: skip


def staged_upload(upload_id, *, user) -> ImportUpload | None:
    """The user's own staged upload with that id, unless it has expired (else None)."""
    try:
        upload_id = uuid.UUID(str(upload_id))
    except ValueError:  # not an id this app made: no such upload
        return None
    return ImportUpload.objects.filter(
        pk=upload_id, created_by=user, created_at__gte=timezone.now() - UPLOAD_LIFETIME
    ).first()


def discard_upload(upload: ImportUpload) -> None:
    ImportUpload.objects.filter(pk=upload.pk).delete()


def import_upload(upload: ImportUpload, *, dry_run: bool, actor, message: str = ""):
    """Parse a staged upload (its #includes resolved among its own files only) and import it.
    Returns (report, problems); problems are (file, line, message) when nothing could be imported.
    A confirmed import removes the staged files."""
    files = {name: base64.b64decode(content) for name, content in upload.files.items()}
    try:
        parsed = parse_uploads(upload.main, files)
    except ConfigSyntaxError as exc:
        return None, [(exc.file or upload.main, exc.line, exc.message)]
    try:
        with transaction.atomic():
            report = import_document(
                parsed.document, host_name=upload.host_name, replace=upload.replace, dry_run=dry_run,
                notes=parsed.notes, actor=actor, message=message,
            )  # fmt: skip
            if not dry_run:
                discard_upload(upload)
    except ImportError_ as exc:
        return None, [(None, None, exc.message)] + list(exc.problems)
    return report, []
