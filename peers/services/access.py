"""Writes of who may do what, and the reads that show a secret: API tokens, users and their
roles, revealing an endpoint's secret, and the iax.conf with its secrets. Each writes a history
row in its transaction (a reveal writes a "reveal" row and changes nothing else)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .. import audit
from ..exporter import Export, export_host
from ..models import Host, HostToken, UserToken
from ..security import roles, tokens
from .core import locked, record_deleted, record_revealed, record_saved

# ---------------------------------------------------------------------------------------------
# Tokens


def create_host_token(host: Host, name: str = "", *, actor, message: str = "") -> tuple[HostToken, str]:
    """A new token for the host's agent; returns (row, the token string), the only time it is seen."""
    token, prefix, digest = tokens.new(tokens.HOST_KIND)
    with transaction.atomic():
        row = HostToken.objects.create(host=host, name=name or "agent", prefix=prefix, hash=digest)
        record_saved(row, None, host=host, actor=actor, message=message or "host token created")
    return row, token


def create_user_token(user, name: str = "", *, actor, message: str = "") -> tuple[UserToken, str]:
    token, prefix, digest = tokens.new(tokens.USER_KIND)
    with transaction.atomic():
        row = UserToken.objects.create(
            user=user, name=name or user.get_username(), prefix=prefix, hash=digest
        )
        record_saved(row, None, host=None, actor=actor, message=message or "user token created")
    return row, token


def revoke_token(prefix: str, *, actor, message: str = "") -> HostToken | UserToken | None:
    """Revoke the token with that prefix (or whole token); None when there is none. Revoking a
    revoked token changes nothing."""
    prefix = tokens.prefix_of(prefix)
    with transaction.atomic():
        for model in (HostToken, UserToken):
            row = model.objects.select_for_update().filter(prefix=prefix).first()
            if row is None:
                continue
            if row.revoked_at is None:
                before = audit.state(row)
                row.revoked_at = timezone.now()
                row.save(update_fields=["revoked_at"])
                host = row.host if isinstance(row, HostToken) else None
                record_saved(row, before, host=host, actor=actor, message=message or "token revoked")
            return row
    return None


# ---------------------------------------------------------------------------------------------
# Users and roles


def set_role(user, role: str | None, *, actor, message: str = "") -> None:
    """Make ``role`` the user's only role (None: no role). A superuser stays an admin."""
    with transaction.atomic():
        user = locked(get_user_model(), user.pk)
        before = audit.state(user)
        roles.set_role(user, role)
        if audit.state(user) != before:
            record_saved(
                user, before, host=None, actor=actor, message=message or f"role set to {role or 'none'}"
            )


def save_user(user, *, role=roles.UNCHANGED, actor, message: str = "") -> None:
    """Save a user (created or changed, e.g. by the Django admin) and, unless UNCHANGED, its role."""
    with transaction.atomic():
        created = user.pk is None
        before = None if created else audit.state(locked(get_user_model(), user.pk))
        user.save()
        if role is not roles.UNCHANGED:
            roles.set_role(user, role)
        if audit.state(user) != before:
            record_saved(user, before, host=None, actor=actor, message=message)


def record_user_change(user, *, before: dict, actor, message: str = "") -> None:
    """The history row of a user account change that Django itself wrote (the admin's password
    form), in the caller's transaction."""
    if audit.state(user) != before:
        record_saved(user, before, host=None, actor=actor, message=message)


def delete_user(user, *, actor, message: str = "") -> None:
    with transaction.atomic():
        gone = audit.object_state(locked(get_user_model(), user.pk))
        user.delete()
        record_deleted(gone, host=None, actor=actor, message=message)


# ---------------------------------------------------------------------------------------------
# Secrets shown in clear

CONF_REVEALED = "iax.conf with its secrets downloaded"


def export_with_secrets(
    host: Host, *, actor, export: Export | None = None, message: str = CONF_REVEALED
) -> Export:
    """The host's iax.conf as Asterisk reads it (``export``, or built now), secrets in clear, with a
    "reveal" row in the host's history. (Every page shows it masked.)"""
    with transaction.atomic():
        export = export or export_host(host)
        record_revealed(host, host=host, actor=actor, message=message)
    return export
