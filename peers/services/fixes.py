"""Writes of one-click fixes: a selection of ``peers.iaxconf.fixes`` applied to a host as one
recorded change. One transaction: the host locked, its version compared with the one the
preview showed (``Conflict`` when anything changed since), the fixes planned and resolved again
on the stored configuration (so exactly what the preview showed is written, and nothing that
would bring in a new error finding), the changed endpoints rewritten in bulk, [general] and the
registrations moved to it written, and one history row for every object changed, all under one
batch."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from .. import audit, policy
from ..fixes import host_version, working_document
from ..iaxconf import fixes as fx
from ..importer import registration_fields
from ..models import Endpoint, GeneralSettings, Host, Key, Registration
from . import storage
from .core import Conflict, lock_host


@dataclass
class FixResult:
    batch: object
    applied: list[fx.Fix] = field(default_factory=list)
    skipped: list[tuple[fx.Fix, str]] = field(default_factory=list)
    changes: int = 0  # history rows written


def apply_fixes(
    host: Host,
    *,
    code: str | None = None,
    keys=None,
    expected_version: int | None = None,
    actor,
    message: str = "",
) -> FixResult:
    """Apply the default (safe) fixes of every finding, or of one finding ``code``, or the fixes
    named by ``keys`` (as ``peers.fixes.preview`` showed them). ``expected_version``: the
    ``host_version`` the preview was made at."""
    result = FixResult(batch=audit.new_batch())
    with transaction.atomic():
        host = lock_host(host)
        if expected_version is not None and host_version(host) != expected_version:
            raise Conflict(f"the configuration of {host.name}", [], host_version(host))
        key_info = policy.key_info()
        current = fx.plan(working_document(host), keys=key_info)
        outcome = fx.resolve(current, fx.select(current, code=code, keys=keys), keys=key_info)
        result.applied, result.skipped = outcome.applied, outcome.skipped
        if not outcome.applied:
            return result
        before = audit.host_objects(host)
        _write(host, outcome)
        message = message or f"{len(outcome.applied)} one-click fix(es)"
        rows = audit.record_many(
            before, audit.host_objects(host), actor=actor, host=host, batch=result.batch, message=message
        )
        result.changes = len(rows)
    return result


def _write(host: Host, outcome: fx.Outcome) -> None:
    sections = {s.name.lower(): s for s in outcome.document.sections if s.name.lower() in outcome.changed}
    general = sections.pop("general", None)
    keys = {k.name: k for k in Key.objects.all()}
    endpoints = {e.name.lower(): e for e in Endpoint.objects.filter(host=host)}
    storage.rewrite_endpoints([(endpoints[name], section) for name, section in sections.items()], keys)
    if general is None:
        return
    settings = GeneralSettings.objects.select_for_update().get(host=host)
    settings.comment = storage.comment_text(general.comments)
    settings.save()
    storage.write_general(settings, [e for e in general.entries if e.operator != "=>"])
    position = storage.next_position(host.registrations)
    for entry in general.entries:
        if entry.operator == "=>" and entry.line is None:  # moved here by a fix: a new registration
            fields = registration_fields(entry.value)
            key = keys[fields.pop("key")] if fields["key"] else fields.pop("key")
            Registration.objects.create(
                host=host, position=position, key=key, comment=storage.comment_text(entry.comments), **fields
            )
            position += 1
