"""Writes of an import: a whole host's configuration replaced by a parsed file, in one transaction
(nothing written on error, nothing at all for a dry run), every object created, changed or deleted
recorded under one batch. And the staging of a web import's files between its dry run and its
confirmation: in the database, keyed by an id, never on the server's disk or in the browser."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .. import audit
from ..iaxconf import Document, KeyInfo, validate
from ..iaxconf.parse import ConfigSyntaxError, parse_uploads
from ..importer import (
    ImportError_,
    ImportReport,
    Progress,
    count_changes,
    key_names,
    object_counts,
    prepare,
    section_texts,
    split_general,
    split_limits,
)
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
    """Write a parsed document into host ``host_name`` (created when it does not exist; replaced
    only with ``replace``). Raises ImportError_ for what stops an import. Lines that are wrong but
    storable are kept as written and listed in ``report.findings``; keys the document names that
    the database lacks are created as placeholders (``report.placeholder_keys``)."""
    report = ImportReport(host=host_name, dry_run=dry_run, notes=list(notes or []))
    document, report.ignored = prepare(document, host_name)
    with transaction.atomic():
        host = Host.objects.select_for_update().filter(name=host_name).first()
        if host is not None and not replace:
            raise ImportError_(
                f"host {host_name!r} already exists; choose to replace its configuration with the file's"
            )
        before = section_texts(host) if host is not None else {}
        audit_before = audit.host_objects(host) if host is not None else {}
        if host is None:
            host = Host.objects.create(name=host_name, description=description)
        else:
            storage.clear_host(host)
        keys, placeholders = _keys(document, report)
        info = {
            k.name: KeyInfo(bool(k.public_pem), bool(k.private_pem), k.private_encrypted, k.bits)
            for k in keys.values()
        }
        report.findings = report.ignored + validate(document, keys=info)
        _write(host, document, keys, progress)
        audit.record_many(audit_before, audit.host_objects(host), actor=actor, host=host, batch=report.batch,
                          message=message)  # fmt: skip
        if placeholders:
            audit.record_many({}, placeholders, actor=actor, host=None, batch=report.batch, message=message)
        if before:
            count_changes(report, before, section_texts(host))
        else:  # a new host: everything is created, no need to render it to compare
            report.created.update(object_counts(host))
        if dry_run:
            transaction.set_rollback(True)
    return report


def _keys(document: Document, report: ImportReport) -> tuple[dict[str, Key], dict]:
    names = key_names(document)
    keys = {k.name: k for k in Key.objects.filter(name__in=names)}
    for name in sorted(names - keys.keys()):
        keys[name] = Key.objects.create(name=name, public_pem="", bits=1024)
        report.placeholder_keys.append(name)
    placeholders = {("key", name): audit.object_state(keys[name]) for name in report.placeholder_keys}
    return keys, placeholders


def _write(host: Host, document: Document, keys: dict[str, Key], progress: Progress | None) -> None:
    general_section = document.general
    options, registrations = split_general(general_section)
    limits, ignored_limits = split_limits(next((s for s in document.sections if s.is_callnumberlimits), None))
    trailer = list(document.trailer)
    for lines in ignored_limits:
        trailer.extend(lines)
    general = GeneralSettings.objects.create(
        host=host,
        comment=storage.comment_text(general_section.comments) if general_section else "",
        header=storage.comment_text(document.header),
        trailer=storage.comment_text(trailer),
    )
    GeneralOption.objects.bulk_create(
        GeneralOption(
            general=general, position=i, name=e.name, value=e.value, comment=storage.comment_text(e.comments)
        )
        for i, e in enumerate(options)
    )
    Registration.objects.bulk_create(
        Registration(
            host=host, position=i, username=fields["username"], secret=fields["secret"],
            key=keys[fields["key"]] if fields["key"] else None, remote_host=fields["remote_host"],
            remote_port=fields["remote_port"], comment=storage.comment_text(comments),
        )
        for i, (fields, comments) in enumerate(registrations)
    )  # fmt: skip
    sections = [s for s in document.sections if s.is_endpoint]
    if progress:
        progress("sections", len(sections), len(sections))
    endpoints = storage.bulk_create_endpoints(host, sections, keys)
    if progress:
        progress("objects", len(endpoints), len(sections))
    CallNumberLimit.objects.bulk_create(
        CallNumberLimit(host=host, position=i, network=n, limit=limit, comment=storage.comment_text(c))
        for i, (n, limit, c) in enumerate(limits)
    )


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
