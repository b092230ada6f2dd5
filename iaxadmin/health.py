"""Liveness and readiness for load balancers and orchestrators: ``/healthz`` and ``/readyz``.

* ``/healthz``: the process answers. No database, no settings, nothing else: always ``200 ok``.
* ``/readyz``: this server can do its work: the database answers, every migration on disk is
  applied, and the encryption key loads and decrypts a stored secret (one short query each).
  ``200 ok`` or ``503 not ready``; the reason is logged on the server (logger
  ``iaxadmin.health``), never sent.

Both are unauthenticated and reveal nothing: plain text ``ok`` / ``not ready``, no version, no
path, no error text, ``Cache-Control: no-store``. ``HealthMiddleware`` answers them first in the
middleware chain, before host validation and the HTTPS redirect, because probes reach an app
server by its address over plain HTTP (a ``Host`` header that is not in ``ALLOWED_HOSTS``); since
the answers say nothing, that is safe. Any other path goes on to the app.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from django.http import HttpResponse

logger = logging.getLogger("iaxadmin.health")

HEALTH_PATHS = ("/healthz", "/readyz")


def _plain(text: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(f"{text}\n", status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def healthz(request) -> HttpResponse:
    return _plain("ok")


@lru_cache(maxsize=1)
def migrations_on_disk() -> frozenset[tuple[str, str]]:
    """(app, name) of every migration the code has; read once per process (the code does not
    change under a running process)."""
    from django.db.migrations.loader import MigrationLoader

    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def unapplied_migrations(connection) -> list[tuple[str, str]]:
    """Migrations on disk that the database has not recorded (one query; an error when the
    database has no migration table at all)."""
    from django.db.migrations.recorder import MigrationRecorder

    recorded = MigrationRecorder(connection).migration_qs.values_list("app", "name")
    return sorted(migrations_on_disk() - set(recorded))


def check_encryption_key() -> None:
    """The configured key parses, encrypts and decrypts, and it decrypts a stored secret (the
    newest endpoint or registration secret), so a server started with the wrong key is not ready."""
    from peers.models import Endpoint, Registration
    from peers.security import crypto

    probe = "readyz"
    if crypto.decrypt(crypto.encrypt(probe)) != probe:
        raise crypto.EncryptionKeyError("the encryption key does not decrypt what it encrypts")
    for model in (Endpoint, Registration):
        # from_db_value decrypts: EncryptionKeyError / DecryptionError when the key is wrong
        stored = model.objects.exclude(secret=None).exclude(secret="").order_by("-pk")
        if stored.values_list("secret", flat=True)[:1]:
            return


def problems() -> list[str]:
    """Why this server is not ready (empty when it is). For the server's log only."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return [f"database unreachable: {exc.__class__.__name__}: {exc}"]
    found = []
    try:
        missing = unapplied_migrations(connection)
        if missing:
            found.append(f"{len(missing)} migration(s) not applied, first {missing[0][0]}.{missing[0][1]}")
    except Exception as exc:  # noqa: BLE001
        found.append(f"migrations cannot be read: {exc.__class__.__name__}: {exc}")
    if not found:
        try:
            check_encryption_key()
        except Exception as exc:  # noqa: BLE001
            found.append(f"encryption key: {exc.__class__.__name__}: {exc}")
    return found


def readyz(request) -> HttpResponse:
    found = problems()
    if found:
        logger.warning("not ready: %s", "; ".join(found))
        return _plain("not ready", status=503)
    return _plain("ok")


class HealthMiddleware:
    """Answers ``/healthz`` and ``/readyz`` (GET or HEAD) before anything else runs."""

    VIEWS = {"/healthz": healthz, "/readyz": readyz}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = self.VIEWS.get(request.path_info)
        if view is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = _plain("method not allowed", status=405)
            response["Allow"] = "GET, HEAD"
            return response
        return view(request)
