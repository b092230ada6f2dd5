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
import logging
import uuid
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
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

    def plan_for(found: Host | None):
        host = _host(found, replace, host_name)
        return plan_import(
            document,
            host_name=host_name,
            host=host,
            ignored=report.ignored,
            description=description,
            progress=progress,
        )

    if dry_run:
        plan_for(Host.objects.filter(name=host_name).first()).fill(report)
        return report
    with transaction.atomic():
        plan = plan_for(Host.objects.select_for_update().filter(name=host_name).first())
        plan.fill(report)
        write_plan(plan, actor=actor, batch=report.batch, message=message, progress=progress)
    return report


def _host(host: Host | None, replace: bool, host_name: str) -> Host | None:
    if host is not None and not replace:
        raise ImportError_(
            f"host {host_name!r} already exists; choose to replace its configuration with the file's"
        )
    return host


# Endpoints are written, and their history rows built, this many at a time: the states of a
# 100,000-section import are never all in memory at once (bench/commands.py --memory-peers).
CHUNK = 2000


def write_plan(plan: ImportPlan, *, actor, batch: uuid.UUID, message: str = "", progress=None) -> Host:
    """Write an import plan (inside the caller's transaction, the host row locked) and its history
    rows: only what the plan says is created, changed, moved or deleted."""

    history = _History(actor=actor, batch=batch, message=message)
    record = history.add
    host = plan.host
    if host is None:
        host = Host.objects.create(name=plan.host_state["name"], description=plan.host_state["description"])
    keys = dict(plan.keys)
    placeholders = {}
    for name in plan.placeholder_keys:
        keys[name] = Key.objects.create(name=name, public_pem="", bits=1024)
        placeholders[("key", name)] = audit.object_state(keys[name])
    written = set(plan.created) | set(plan.changed) | set(plan.moved)
    before = plan.before
    endpoints = _Endpoints(host, plan, keys, progress)
    first: dict = {}  # the host and [general]: recorded before the endpoints
    rows: dict[str, list] = {"registration": [], "callnumberlimit": []}
    for key, new in plan.written():
        if key not in written:
            continue
        kind = key[0]
        if kind == "host":
            first[key] = dataclasses.replace(new, object_id=host.pk)
        elif kind == "general":
            first[key] = _write_general(host, new)
        elif kind == "endpoint":
            if first:
                record({k: before[k] for k in first if k in before}, first, host)
                first = {}
            endpoints.add(key, new, record)
        else:
            rows[kind].append((key, new))
    record({k: before[k] for k in first if k in before}, first, host)
    endpoints.flush(record)
    for kind, model in (("registration", Registration), ("callnumberlimit", CallNumberLimit)):
        after = _write_rows(host, plan, kind, model, keys, rows[kind])
        record({k: before[k] for k in after if k in before}, after, host)
    record({k: before[k] for k in plan.deleted}, {}, host)
    history.flush()
    record({}, placeholders, None)
    history.flush()
    return host


class _History:
    """The history rows of an import, written CHUNK objects at a time (one bulk insert for a
    small import, and never the rows of 100,000 endpoints in memory at once)."""

    def __init__(self, **fields) -> None:
        self.fields = fields
        self.before: dict = {}
        self.after: dict = {}
        self.host: Host | None = None

    def add(self, before: dict, after: dict, host: Host | None) -> None:
        if self.host is not host:
            self.flush()
            self.host = host
        self.before.update(before)
        self.after.update(after)
        if len(self.before) + len(self.after) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.before or self.after:
            audit.record_many(self.before, self.after, host=self.host, **self.fields)
        self.before, self.after = {}, {}


class _Endpoints:
    """The endpoint writes of a plan: what goes away first (base links of what changes, deleted
    endpoints), then CHUNK endpoints at a time: inserted, rewritten or moved, with their history
    rows."""

    def __init__(self, host: Host, plan: ImportPlan, keys: dict[str, Key], progress) -> None:
        self.host, self.plan, self.keys, self.progress = host, plan, keys, progress
        self.created, self.changed, self.moved = set(plan.created), set(plan.changed), set(plan.moved)
        self.ids = {k[1]: s.object_id for k, s in plan.before.items() if k[0] == "endpoint"}
        self.total = sum(1 for k in plan.created + plan.changed + plan.moved if k[0] == "endpoint")
        self.done = 0
        self.chunk: list[tuple[tuple, object]] = []
        changed = [k for k in plan.changed if k[0] == "endpoint"]
        deleted = [k for k in plan.deleted if k[0] == "endpoint"]
        storage.delete_base_links([self.ids[k[1]] for k in changed + deleted])
        storage.delete_endpoints([self.ids.pop(k[1]) for k in deleted])

    def add(self, key: tuple, new, record) -> None:
        self.chunk.append((key, new))
        if len(self.chunk) >= CHUNK:
            self.flush(record)

    def flush(self, record) -> None:
        chunk, self.chunk = self.chunk, []
        if not chunk:
            return
        ids = self.ids
        storage.insert_endpoint_states(
            self.host, [s.state for k, s in chunk if k in self.created], self.keys, ids
        )
        changed = [(ids[k[1]], s.state) for k, s in chunk if k in self.changed]
        storage.update_endpoint_states(self.host, changed, self.keys, ids)
        storage.move_endpoints([(ids[k[1]], s.state["position"]) for k, s in chunk if k in self.moved])
        before = self.plan.before
        record(
            {k: before[k] for k, _ in chunk if k in before},
            {k: dataclasses.replace(s, object_id=ids[k[1]]) for k, s in chunk},
            self.host,
        )
        self.done += len(chunk)
        if self.progress:
            self.progress("write", self.done, self.total)


def _write_general(host: Host, new):
    state = new.state
    general = GeneralSettings.objects.filter(host=host).first() or GeneralSettings(host=host)
    general.comment, general.header, general.trailer = state["comment"], state["header"], state["trailer"]
    general.save()
    GeneralOption.objects.filter(general=general).delete()
    GeneralOption.objects.bulk_create(
        GeneralOption(general=general, position=i, name=o["name"], value=o["value"], comment=o["comment"])
        for i, o in enumerate(state["options"])
    )
    return dataclasses.replace(new, object_id=general.pk)


def _write_rows(host: Host, plan: ImportPlan, kind: str, model, keys: dict[str, Key], new: list) -> dict:
    """Registrations or call-number limits, by their place in the file; returns their new states."""
    for key in [k for k in plan.deleted if k[0] == kind]:
        model.objects.filter(pk=plan.before[key].object_id).delete()
    after = {}
    for key, state in new:
        row = model.objects.get(pk=plan.before[key].object_id) if key in plan.before else model(host=host)
        for name, value in state.state.items():
            if name == "key":
                row.key = keys[value] if value else None
            else:
                setattr(row, name, value)
        row.save()
        after[key] = dataclasses.replace(state, object_id=row.pk)
    return after


# ---------------------------------------------------------------------------------------------
# Web imports: the uploaded files wait on the server side between the dry run and the confirmation,
# and the work runs in steps any app server can take: the ImportUpload row is the whole state.

logger = logging.getLogger("iaxadmin.import")
UPLOAD_LIFETIME = timedelta(hours=6)
# A step whose server has said nothing for this long is taken over (gunicorn ends a request after
# GUNICORN_TIMEOUT, 120 s by default, and an import's transaction then rolls back).
STALE = timedelta(minutes=10)
State = ImportUpload.State


def stage_upload(files: dict[str, bytes], *, main: str, host_name: str, replace: bool, user) -> ImportUpload:
    """Keep a web import's files (name -> content; ``main`` is the iax.conf among them) until it is
    confirmed or cancelled; its dry run is the next step (``run_upload``). Expired uploads are
    removed on the way."""
    ImportUpload.objects.filter(created_at__lt=timezone.now() - UPLOAD_LIFETIME).delete()
    encoded = {name: base64.b64encode(data).decode("ascii") for name, data in files.items()}
    return ImportUpload.objects.create(
        created_by=user if getattr(user, "pk", None) else None,
        host_name=host_name,
        replace=replace,
        main=main,
        files=encoded,
    )


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


def confirm_upload(upload: ImportUpload) -> bool:
    """Ask for the import of a checked upload (its next step); False when it is not waiting for that."""
    return bool(ImportUpload.objects.filter(pk=upload.pk, state=State.CHECKED).update(state=State.CONFIRMED))


def claim_upload(upload: ImportUpload) -> bool:
    """Take the upload's next step for this server: its dry run (staged) or its import (confirmed),
    or a step whose server went silent (STALE). One atomic UPDATE, so one server runs a step."""
    now = timezone.now()
    rows = ImportUpload.objects.filter(pk=upload.pk)
    for waiting, running in ((State.STAGED, State.CHECKING), (State.CONFIRMED, State.IMPORTING)):
        taken = rows.filter(Q(state=waiting) | Q(state=running, started_at__lt=now - STALE)).update(
            state=running, started_at=now, stage=""
        )
        if taken:
            upload.state, upload.started_at, upload.stage = running, now, ""
            return True
    return False


def run_upload(upload: ImportUpload, *, actor, message: str = "") -> ImportUpload:
    """Run the step this server claimed (``claim_upload``): the dry run (then CHECKED with its
    report, or FAILED with the problems) or the import, all or nothing (then IMPORTED with its
    report; FAILED, nothing written; or CHECKED again with a new report when the host changed
    since the dry run, so what is imported is always what was shown)."""
    if upload.state == State.CHECKING:
        _check(upload, actor=actor)
    elif upload.state == State.IMPORTING:
        _import(upload, actor=actor, message=message)
    return upload


def _step(upload: ImportUpload, stage: str, done: int = 0, total: int = 0) -> None:
    """What the running step does now, for the page that polls (written outside any transaction
    of the step, so other servers see it)."""
    text = f"{stage}: {done:,} of {total:,}" if total else stage
    if not transaction.get_connection().in_atomic_block:
        ImportUpload.objects.filter(pk=upload.pk).update(stage=text[:60])


def _parsed(upload: ImportUpload):
    _step(upload, "reading the files")
    files = {name: base64.b64decode(content) for name, content in upload.files.items()}
    return parse_uploads(upload.main, files)


def _finish(upload: ImportUpload, state: str, report: dict, **fields) -> None:
    upload.state, upload.report, upload.stage = state, report, ""
    for name, value in fields.items():
        setattr(upload, name, value)
    upload.save(update_fields=["state", "report", "stage", *fields])


def _failed(upload: ImportUpload, problems: list) -> None:
    _finish(upload, State.FAILED, {"problems": [list(p) for p in problems]})


def _check(upload: ImportUpload, *, actor, note: str = "") -> None:
    from ..metrics import host_stamp  # metrics reads the agent API, which writes through services

    try:
        parsed = _parsed(upload)
    except ConfigSyntaxError as exc:
        return _failed(upload, [(exc.file or upload.main, exc.line, exc.message)])
    host = Host.objects.filter(name=upload.host_name).first()
    stamp = host_stamp(host) if host is not None else None
    try:
        report = import_document(
            parsed.document,
            host_name=upload.host_name,
            replace=upload.replace,
            dry_run=True,
            notes=parsed.notes,
            actor=actor,
            progress=lambda stage, done, total: _step(upload, stage, done, total),
        )
    except ImportError_ as exc:
        return _failed(upload, [(None, None, exc.message), *exc.problems])
    data = report.as_json()
    data["note"] = note
    _finish(upload, State.CHECKED, data, host_stamp=stamp)


def _import(upload: ImportUpload, *, actor, message: str) -> None:
    from ..metrics import host_stamp

    try:
        parsed = _parsed(upload)
    except ConfigSyntaxError as exc:
        return _failed(upload, [(exc.file or upload.main, exc.line, exc.message)])
    _step(upload, "writing")
    try:
        with transaction.atomic():
            host = Host.objects.select_for_update().filter(name=upload.host_name).first()
            if (host_stamp(host) if host is not None else None) != upload.host_stamp:
                changed = True
            else:
                changed = False
                report = import_document(
                    parsed.document,
                    host_name=upload.host_name,
                    replace=upload.replace,
                    notes=parsed.notes,
                    actor=actor,
                    message=message,
                )
                _finish(upload, State.IMPORTED, report.as_json(), files={})
    except ImportError_ as exc:
        return _failed(upload, [(None, None, exc.message), *exc.problems])
    except Exception:  # whatever broke, the transaction rolled back: say so rather than hang
        logger.exception("import of upload %s into %s failed", upload.pk, upload.host_name)
        return _failed(upload, [(None, None, "the import failed on the server; nothing was written")])
    if changed:  # someone changed the host since the dry run: show what the import would do now
        _check(
            upload,
            actor=actor,
            note="The host was changed since the dry run; this is what the import does now.",
        )


def import_upload(upload: ImportUpload, *, dry_run: bool, actor, message: str = ""):
    """Run a staged upload's dry run, or its import, in this request (the page without JavaScript).
    Returns (report, problems); problems are (file, line, message) when nothing could be imported."""
    if not dry_run:
        confirm_upload(upload)
    if claim_upload(upload):
        run_upload(upload, actor=actor, message=message)
    else:
        upload.refresh_from_db()
    return upload_report(upload)


def upload_report(upload: ImportUpload):
    """(ImportReport or None, problems) of an upload whose step is done."""
    data = upload.report or {}
    if upload.state == State.FAILED:
        return None, [tuple(p) for p in data.get("problems", ())]
    if upload.state in (State.CHECKED, State.IMPORTED):
        return ImportReport.from_json(data), []
    return None, []
