"""What every write shares: the two ways a write is refused, the one version of an object for
optimistic locking, and the lock taken before the version is compared.

An object's version is the id of its latest history row (reveals aside): every write records one
in its own transaction, so the version changes exactly when the object does, whoever wrote it
(form, API, command, import, revert). A caller that read version N passes
``expected_version=N``; when the object's version is no longer N the write raises ``Conflict``
with the history rows written since, and changes nothing.
"""

from __future__ import annotations

from django.db.models import Model

from .. import audit
from ..iaxconf import Finding
from ..models import Change, Host


class Refused(Exception):
    """The write would break a rule; nothing was written. ``findings`` say which, with the
    validator's codes (``code``, ``section``, ``directive``, ``value``, ``part``)."""

    def __init__(self, findings: list[Finding], message: str = "") -> None:
        self.findings = list(findings)
        self.message = message or "; ".join(f.message for f in self.findings) or "refused"
        super().__init__(self.message)


class Conflict(Exception):
    """Someone else changed the object after the caller read it; nothing was written."""

    def __init__(self, what: str, changes: list[Change], version: int) -> None:
        self.what = what
        self.changes = changes  # the history rows since the version the caller had, oldest first
        self.version = version  # the object's version now
        super().__init__(f"{what} was changed by someone else since version {version}")


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()  # "leave the stored secret as it is" (secrets are write-only)


def version_of(obj: Model | None) -> int:
    """The object's version: the id of its latest history row (0: none, or no object)."""
    if obj is None or obj.pk is None:
        return 0
    return audit.latest_change_id(audit.object_types(obj), obj.pk)


def check_version(obj: Model | None, expected: int | None, what: str) -> None:
    """Raise Conflict when ``expected`` is given and the object's version is not it. Call it
    after locking the object's row."""
    if expected is None or obj is None or obj.pk is None:
        return
    current = version_of(obj)
    if current != expected:
        changes = list(audit.changes_since(audit.object_types(obj), obj.pk, expected))
        raise Conflict(what, changes, current)


def record_saved(obj: Model, before: dict | None, *, host: Host | None, actor, batch=None, message: str = ""):
    """The history row of ``obj`` just saved: a create when ``before`` (its state read under the
    lock before the write) is None, else an update; the "after" is its state now."""
    action = Change.Action.CREATE if before is None else Change.Action.UPDATE
    return audit.record(
        actor=actor,
        action=action,
        obj=obj,
        host=host,
        before=before,
        after=audit.state(obj),
        batch=batch,
        message=message,
    )


def record_deleted(gone: audit.ObjectState, *, host: Host | None, actor, batch=None, message: str = ""):
    """The history row of an object just deleted (``gone``: what it was, read under the lock)."""
    return audit.record(
        actor=actor,
        action=Change.Action.DELETE,
        about=gone,
        host=host,
        before=gone.state,
        after=None,
        batch=batch,
        message=message,
    )


def record_revealed(obj: Model, *, host: Host | None, actor, message: str):
    """A "reveal" row: a secret of ``obj`` was shown in clear (nothing changed)."""
    state = audit.state(obj)
    return audit.record(
        actor=actor,
        action=Change.Action.REVEAL,
        obj=obj,
        host=host,
        before=state,
        after=state,
        message=message,
    )


def locked(model, pk):
    """The row as it is in the database, locked until the end of the transaction."""
    return model.objects.select_for_update().get(pk=pk)


def lock_host(host: Host) -> Host:
    """Lock the host row: writes that add to a host (names, positions) or publish it queue here."""
    return locked(Host, host.pk)
