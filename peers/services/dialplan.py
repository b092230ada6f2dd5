"""Writes of a host's dialplan contexts (``DialplanContexts``): from an uploaded extensions.conf,
from the agent's ``dialplan show`` report, from the API; and forgetting them. Each is one
transaction: the host row locked, the version checked, the names checked, the row written, the
history recorded. A write that changes nothing (the same contexts from the same kind of source,
as an agent reports after every deployment) writes no history row."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.utils import timezone

from .. import audit, policy
from ..iaxconf.dialplan import Contexts, DialplanError, check_names, read_extensions
from ..models import DialplanContexts, Host
from .core import Refused, check_version, lock_host, record_deleted, record_saved, version_of

SOURCES = frozenset(DialplanContexts.Source.values)


def dialplan_version(host: Host) -> int:
    """The version of the host's dialplan contexts (0: none stored)."""
    return version_of(DialplanContexts.objects.filter(host=host).first())


def _refused(message: str) -> Refused:
    return Refused([policy.finding("invalid-dialplan", "", message, part="contexts")], message)


def save_dialplan(
    host: Host,
    contexts: Iterable[str],
    *,
    source: str,
    detail: str = "",
    actor,
    expected_version: int | None = None,
    batch=None,
    message: str = "",
) -> DialplanContexts:
    """Replace the host's dialplan contexts with ``contexts`` (names as the dialplan spells them;
    duplicates are kept once). ``source``: upload, agent or api; ``detail``: the file name or the
    agent's version."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(sorted(SOURCES))}")
    try:
        names = list(dict.fromkeys(check_names(contexts)))
    except DialplanError as exc:
        raise _refused(exc.message) from None
    detail = detail[:200]
    with transaction.atomic():
        host = lock_host(host)
        row = DialplanContexts.objects.select_for_update().filter(host=host).first()
        check_version(row, expected_version, f"the dialplan contexts of {host.name}")
        if row is not None and row.contexts == names and row.source == source:
            return row
        before = audit.state(row) if row is not None else None
        row = row or DialplanContexts(host=host)
        row.contexts, row.source, row.detail, row.updated_at = names, source, detail, timezone.now()
        row.save()
        record_saved(row, before, host=host, actor=actor, batch=batch, message=message)
        return row


def import_extensions(
    host: Host,
    main: str,
    files: Mapping[str, bytes],
    *,
    actor,
    expected_version: int | None = None,
    batch=None,
    message: str = "",
) -> tuple[DialplanContexts, Contexts]:
    """The contexts of an uploaded extensions.conf (``main`` among ``files``; its ``#include``s are
    found among ``files`` only). Returns the row and what was read (names and the reader's notes);
    Refused, with the reason and line, for a file Asterisk would reject."""
    try:
        found = read_extensions(main, files)
    except DialplanError as exc:
        raise _refused(exc.message) from None
    row = save_dialplan(
        host,
        found.names,
        source=DialplanContexts.Source.UPLOAD,
        detail=main,
        actor=actor,
        expected_version=expected_version,
        batch=batch,
        message=message,
    )
    return row, found


def clear_dialplan(host: Host, *, actor, expected_version: int | None = None, message: str = "") -> bool:
    """Forget the host's dialplan contexts (context findings and extension checks stop). False
    when there were none."""
    with transaction.atomic():
        host = lock_host(host)
        row = DialplanContexts.objects.select_for_update().filter(host=host).first()
        if row is None:
            return False
        check_version(row, expected_version, f"the dialplan contexts of {host.name}")
        gone = audit.object_state(row)
        row.delete()
        record_deleted(gone, host=host, actor=actor, message=message)
        return True
