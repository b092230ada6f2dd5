"""Host and user API tokens: make (shown once), verify. Creating and revoking them are writes of
``peers.services.access`` (recorded in the history); using one only records when it was last used.

A token is ``iaxh_<prefix>_<secret>`` (host) or ``iaxu_<prefix>_<secret>`` (user): ``prefix`` is
12 hex digits, stored in clear and indexed, the one lookup; ``secret`` is 43 URL-safe characters
(256 bits) of which only the sha256 is stored and compared with ``hmac.compare_digest``
(healthchecks' API keys work the same way). The kind marker in front means a host token can never
be mistaken for a user token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta

from django.utils import timezone

from ..models import HostToken, UserToken

HOST_KIND = "iaxh"
USER_KIND = "iaxu"
_MODELS = {HOST_KIND: HostToken, USER_KIND: UserToken}
# last_used_at is written at most this often per token, so a busy agent does not write on every poll
LAST_USED_RESOLUTION = timedelta(seconds=60)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new(kind: str) -> tuple[str, str, str]:
    """A fresh token of that kind: (the whole token, its prefix, the digest to store). The rows
    are created by ``peers.services.access``, which records them in the history."""
    if kind not in _MODELS:
        raise ValueError(f"unknown token kind {kind!r}")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return f"{kind}_{prefix}_{secret}", prefix, _digest(secret)


def prefix_of(token_or_prefix: str) -> str:
    """The prefix of a whole token, or the text itself when it is a prefix already."""
    parsed = parse(token_or_prefix)
    if parsed is not None:
        return parsed[1]
    if token_or_prefix.startswith((HOST_KIND + "_", USER_KIND + "_")):
        return token_or_prefix.split("_")[1]
    return token_or_prefix


def parse(token: str) -> tuple[str, str, str] | None:
    """(kind, prefix, secret) of a well-formed token string, else None."""
    kind, _, rest = token.partition("_")
    prefix, _, secret = rest.partition("_")
    if kind not in _MODELS or len(prefix) != 12 or not secret or len(secret) > 100:
        return None
    return kind, prefix, secret


def bearer(request) -> str | None:
    """The token in ``Authorization: Bearer <token>``, or None."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def verify(token: str | None, kind: str, *, queryset=None):
    """The active token row of that kind for the token string, or None (unknown, wrong secret,
    revoked, or a token of the other kind). One indexed query; records last_used_at cheaply."""
    parsed = parse(token) if token else None
    if parsed is None or parsed[0] != kind:
        return None
    _, prefix, secret = parsed
    model = _MODELS[kind]
    qs = queryset if queryset is not None else model.objects.all()
    row = qs.filter(prefix=prefix).first()
    if row is None or row.revoked_at is not None:
        return None
    if not secret_matches(row.hash, secret):
        return None
    touch(row)
    return row


def secret_matches(stored_hash: str, secret: str) -> bool:
    return hmac.compare_digest(stored_hash, _digest(secret))


def touch(row) -> None:
    """Record the use, at most once per LAST_USED_RESOLUTION (a single UPDATE, no SELECT)."""
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        type(row).objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now


_TOUCHED: dict[tuple[str, int], float] = {}


def touch_id(model, pk: int) -> None:
    """touch() for the hot path, which has no row: one UPDATE per token and process per
    LAST_USED_RESOLUTION, decided from memory (no read)."""
    now = time.monotonic()
    key = (model.__name__, pk)
    if now - _TOUCHED.get(key, -1e9) >= LAST_USED_RESOLUTION.total_seconds():
        _TOUCHED[key] = now
        model.objects.filter(pk=pk).update(last_used_at=timezone.now())


def kind_of(token: str | None) -> str | None:
    parsed = parse(token) if token else None
    return parsed[0] if parsed else None
