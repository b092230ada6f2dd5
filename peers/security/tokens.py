"""Host and user API tokens: create (shown once), verify, revoke.

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

from ..models import Host, HostToken, UserToken

HOST_KIND = "iaxh"
USER_KIND = "iaxu"
_MODELS = {HOST_KIND: HostToken, USER_KIND: UserToken}
# last_used_at is written at most this often per token, so a busy agent does not write on every poll
LAST_USED_RESOLUTION = timedelta(seconds=60)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _new(kind: str) -> tuple[str, str, str]:
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return f"{kind}_{prefix}_{secret}", prefix, _digest(secret)


def create_host_token(host: Host, name: str = "") -> tuple[HostToken, str]:
    """A new token for the host; returns (row, the token string), the only time it is seen."""
    token, prefix, digest = _new(HOST_KIND)
    row = HostToken.objects.create(host=host, name=name or "agent", prefix=prefix, hash=digest)
    return row, token


def create_user_token(user, name: str = "") -> tuple[UserToken, str]:
    token, prefix, digest = _new(USER_KIND)
    row = UserToken.objects.create(user=user, name=name or user.get_username(), prefix=prefix, hash=digest)
    return row, token


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


def revoke(prefix: str) -> HostToken | UserToken | None:
    """Revoke the token with that prefix (host or user); None when there is none."""
    prefix = prefix.split("_")[1] if prefix.startswith((HOST_KIND + "_", USER_KIND + "_")) else prefix
    for model in (HostToken, UserToken):
        row = model.objects.filter(prefix=prefix).first()
        if row is not None:
            if row.revoked_at is None:
                row.revoked_at = timezone.now()
                row.save(update_fields=["revoked_at"])
            return row
    return None
