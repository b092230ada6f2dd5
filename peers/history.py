"""Reading the audit trail: filters shared by the history pages, the audit export view and
``iax_audit``, and the CSV / JSON writers (the rows are masked already)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from .audit import export_rows
from .models import Change, Host

CSV_COLUMNS = [
    "id",
    "at",
    "actor",
    "batch",
    "action",
    "host",
    "object_type",
    "object_id",
    "object",
    "message",
    "before",
    "after",
]


class AuditFilterError(ValueError):
    pass


def parse_when(text: str | None, *, end: bool = False) -> dt.datetime | None:
    """A date ("2026-11-27": the start of that day, or with end=True the start of the next) or an
    ISO 8601 date and time, as an aware datetime in the current time zone."""
    if not text:
        return None
    text = text.strip()
    try:
        day = parse_date(text) if len(text) <= 10 else None
    except ValueError:  # well formed but not a day of the calendar: 2020-13-45
        raise AuditFilterError(f"{text!r} is not a date (YYYY-MM-DD) or an ISO 8601 date and time") from None
    if day is not None:
        moment = dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time())
    else:
        try:
            moment = parse_datetime(text)
        except ValueError:
            moment = None
        if moment is None:
            raise AuditFilterError(f"{text!r} is not a date (YYYY-MM-DD) or an ISO 8601 date and time")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def audit_changes(
    *,
    host: Host | None = None,
    since: str | None = None,
    until: str | None = None,
    actor: str = "",
    object_type: str = "",
    object_name: str = "",
    object_id: int | None = None,
    batch: str = "",
) -> QuerySet[Change]:
    """Changes, newest first, filtered; ``until`` as a date includes that whole day."""
    changes = Change.objects.all()
    if host is not None:
        changes = changes.filter(host_name=host.name)
    start, stop = parse_when(since), parse_when(until, end=True)
    if start is not None:
        changes = changes.filter(at__gte=start)
    if stop is not None:
        changes = changes.filter(at__lt=stop) if len(until.strip()) <= 10 else changes.filter(at__lte=stop)
    if actor:
        changes = changes.filter(actor_name=actor)
    if object_type:
        changes = changes.filter(object_type=object_type)
    if object_name:
        changes = changes.filter(object_repr__icontains=object_name)
    if object_id is not None:
        changes = changes.filter(object_id=object_id)
    if batch:
        try:
            changes = changes.filter(batch=uuid.UUID(batch))
        except ValueError:
            raise AuditFilterError(f"{batch!r} is not a batch id") from None
    return changes.order_by("-at", "-id")


def audit_text(changes, fmt: str) -> str:
    rows = export_rows(changes.iterator(chunk_size=2000) if isinstance(changes, QuerySet) else changes)
    if fmt == "json":
        return json.dumps(list(rows), cls=DjangoJSONEncoder, indent=1) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        row["before"] = json.dumps(row["before"], cls=DjangoJSONEncoder, sort_keys=True)
        row["after"] = json.dumps(row["after"], cls=DjangoJSONEncoder, sort_keys=True)
        writer.writerow(row)
    return out.getvalue()


def write_audit(changes, fmt: str, stream) -> None:
    stream.write(audit_text(changes, fmt), ending="")
