"""Structured logs on stdout: one line per request and one per audited change.

* ``RequestLogMiddleware`` logs every request on the ``iaxadmin.request`` logger: method, path
  (never the query string, which may carry a token), status, duration in milliseconds, the user
  (``alice``, ``api:<token label>`` for the JSON API, ``-`` for anonymous) and the client address.
  Headers are never logged, so neither is ``Authorization``.
* ``log_change(change)`` logs a saved ``peers.models.Change`` on the ``iaxadmin.audit`` logger
  when its transaction commits: actor, action, object type, id and name, host and batch. Never
  ``before``/``after`` (masked as they are), the message, or a secret field's value.
* ``LOG_FORMAT=json`` makes every line one JSON object (``time``, ``level``, ``logger``,
  ``message`` and the event's fields); the default ``text`` is a readable line with control
  characters escaped, so nothing a client sends can start a line of its own.

``logging_config()`` builds the ``LOGGING`` setting (and gunicorn's ``logconfig_dict`` in
``deploy/gunicorn.conf.py``, so its access and error lines share the format).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from datetime import UTC, datetime

from django.utils.functional import empty

REQUEST_LOGGER = "iaxadmin.request"
AUDIT_LOGGER = "iaxadmin.audit"
FORMATS = ("text", "json")
STREAMS = ("stdout", "stderr")
EVENT = "iaxadmin_event"  # the LogRecord attribute holding an event's fields

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def _escape(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class TextFormatter(logging.Formatter):
    """``2026-11-30T10:00:00.123Z INFO iaxadmin.request GET /hosts/ 200 3.1ms user=alice ...``"""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname} {record.name} {_escape(record.getMessage())}"
        if record.exc_info:
            line += " " + _escape(self.formatException(record.exc_info))
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the event's own fields."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in (getattr(record, EVENT, None) or {}).items():
            data.setdefault(key, value)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class ConsoleHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stdout`` (or ``sys.stderr``) is when a line is written: test
    runners and gunicorn replace the streams after logging is configured."""

    def __init__(self, stream_name: str = "stdout") -> None:
        if stream_name not in STREAMS:
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured(f"LOG_STREAM must be stdout or stderr, not {stream_name!r}")
        self.stream_name = stream_name
        super().__init__()

    @property
    def stream(self):
        return getattr(sys, self.stream_name)

    @stream.setter
    def stream(self, value) -> None:  # StreamHandler.__init__ assigns it; the property wins
        pass


def formatter_class(log_format: str) -> str:
    if log_format not in FORMATS:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}")
    return f"iaxadmin.logs.{'JsonFormatter' if log_format == 'json' else 'TextFormatter'}"


def logging_config(
    log_format: str = "text",
    level: str = "WARNING",
    *,
    stream: str = "stdout",
    requests: bool = True,
    changes: bool = True,
) -> dict:
    """A ``logging.config.dictConfig`` dict: every line on one stream (stdout for the app server;
    ``manage.py`` makes it stderr, so a command's own output stays clean) in one format; the
    request and audit lines at INFO whatever ``level`` says (``requests=False`` / ``changes=False``
    drop them)."""
    line = {"handlers": ["console"], "level": "INFO", "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"()": formatter_class((log_format or "text").strip().lower())}},
        "handlers": {
            "console": {
                "class": "iaxadmin.logs.ConsoleHandler",
                "formatter": "line",
                "stream_name": (stream or "stdout").strip().lower(),
            }
        },
        "root": {"handlers": ["console"], "level": (level or "WARNING").upper()},
        "loggers": {
            REQUEST_LOGGER: {**line, "level": "INFO" if requests else "WARNING"},
            AUDIT_LOGGER: {**line, "level": "INFO" if changes else "WARNING"},
            # gunicorn's own loggers (used only when gunicorn.conf.py passes this dict to gunicorn)
            "gunicorn.access": line,
            "gunicorn.error": line,
        },
    }


# ---------------------------------------------------------------------------------------------
# One line per request


def request_user(request) -> str:
    """Who made the request, as the audit trail names them; never a token or a credential. Only
    a user the request has already looked up: logging never adds a query (or fails on one)."""
    user = getattr(request, "user", None)
    wrapped = getattr(user, "_wrapped", user)  # AuthenticationMiddleware's lazy user
    if wrapped is not None and wrapped is not empty and getattr(wrapped, "is_authenticated", False):
        return wrapped.get_username()
    auth = getattr(request, "auth", None)  # django-ninja sets it to the API token row
    name = getattr(auth, "name", None)
    if isinstance(name, str) and name:
        return f"api:{name}"
    return "-"


class RequestLogMiddleware:
    """Logs each request when its response is ready. Placed first in MIDDLEWARE, so the duration
    covers every other middleware and the view, and static files served by WhiteNoise count too."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.logger = logging.getLogger(REQUEST_LOGGER)

    def __call__(self, request):
        start = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            if self.logger.isEnabledFor(logging.INFO):
                self._log(request, status, (time.perf_counter() - start) * 1000)

    def _log(self, request, status: int, ms: float) -> None:
        event = {
            "event": "request",
            "method": request.method,
            "path": request.path,  # the path only: a query string may hold a token
            "status": status,
            "duration_ms": round(ms, 1),
            "user": request_user(request),
            "addr": request.META.get("REMOTE_ADDR", ""),
        }
        self.logger.info(
            "%s %s %s %.1fms user=%s addr=%s",
            event["method"],
            event["path"],
            status,
            ms,
            event["user"],
            event["addr"],
            extra={EVENT: event},
        )


# ---------------------------------------------------------------------------------------------
# One line per audited change

_audit = logging.getLogger(AUDIT_LOGGER)


def change_event(change) -> dict:
    """The fields logged for a Change row: who, what, which object, which host, which batch.
    Deliberately not ``before``/``after``/``message``: only names and ids."""
    return {
        "event": "change",
        "change_id": change.pk,
        "actor": change.actor_name,
        "action": change.action,
        "object_type": change.object_type,
        "object_id": change.object_id,
        "object": change.object_repr,
        "host": change.host_name,
        "batch": str(change.batch),
    }


def _emit(event: dict) -> None:
    _audit.info(
        "%s %s %s %s host=%s batch=%s",
        event["actor"],
        event["action"],
        event["object_type"],
        event["object"],
        event["host"] or "-",
        event["batch"],
        extra={EVENT: event},
    )


def log_change(change) -> None:
    """Log a Change row once its transaction commits (a rolled-back change is never logged)."""
    if _audit.isEnabledFor(logging.INFO):
        from django.db import transaction

        event = change_event(change)
        transaction.on_commit(lambda: _emit(event))


def changes_logged() -> bool:
    """Whether Change rows get a log line (LOG_CHANGES, the logger's level)."""
    return _audit.isEnabledFor(logging.INFO)


def log_changes(changes) -> None:
    """``log_change`` for many rows (an import, a revert): one line each, after the commit."""
    if _audit.isEnabledFor(logging.INFO):
        from django.db import transaction

        # the lines are made when they are written: 100,000 event dicts waiting for the commit of an
        # import would hold 60 MB (the changes are peers.audit.WrittenChange tuples, or Change rows)
        transaction.on_commit(lambda: [_emit(change_event(change)) for change in changes])
