"""Writes of the rest of a host's configuration: its [general] lines, its registrations
(``register =>`` lines) and its [callnumberlimits] lines. Each is one transaction: the row locked,
the version checked, the policy applied, the rows written, the history recorded."""

from __future__ import annotations

from django.db import transaction

from .. import audit, policy
from ..iaxconf import Section
from ..models import CallNumberLimit, GeneralSettings, Host, Key, Registration
from . import storage
from .core import KEEP, Refused, check_version, lock_host, locked, record_deleted, record_saved, version_of


def general_version(host: Host) -> int:
    """The version of the host's [general] (0 before it exists)."""
    return version_of(GeneralSettings.objects.filter(host=host).first())


def save_general(
    host: Host, section: Section, *, actor, expected_version: int | None = None, batch=None, message: str = ""
) -> GeneralSettings:
    """Replace the host's [general] lines and its comment with ``section``'s. Register lines are
    registrations and are refused here."""
    with transaction.atomic():
        host = lock_host(host)
        general = GeneralSettings.objects.select_for_update().filter(host=host).first()
        check_version(general, expected_version, "[general]")
        _refuse_errors(policy.general_verdict(host, section))
        before = _state(general)
        general = general or GeneralSettings(host=host)
        general.comment = storage.comment_text(section.comments)
        general.save()
        storage.write_general(general, section.entries)
        record_saved(general, before, host=host, actor=actor, batch=batch, message=message)
        return general


def registration_line(username: str, secret: str, key: str | None, remote_host: str, port: int | None) -> str:
    """The value of a ``register =>`` line."""
    credentials = username + (f":[{key}]" if key else f":{secret}" if secret else "")
    return f"{credentials}@{remote_host}" + (f":{port}" if port else "")


def save_registration(
    host: Host,
    *,
    registration: Registration | None = None,
    username: str,
    secret=KEEP,
    key: str | None = None,
    remote_host: str,
    remote_port: int | None = None,
    comment: str = "",
    position: int | None = None,
    actor,
    expected_version: int | None = None,
    batch=None,
    message: str = "",
) -> Registration:
    """Add a registration (``registration`` None) or change one. ``secret``: KEEP leaves the stored
    one, "" clears it; a ``key`` (a key name: the line signs with it) clears it too. Refused when
    the line would have an error (its rule, or a key without its private part)."""
    with transaction.atomic():
        host = lock_host(host)
        registration = _locked_row(registration, expected_version, "register => ")
        if ":" in remote_host:  # the port is remote_port: "host:port" would be stored as a host name
            raise Refused(
                [
                    policy.finding(
                        "invalid-value",
                        "general",
                        f"register server {remote_host!r} contains ':'; give the host alone and the port as the port",
                        directive="register",
                        value=remote_host,
                        part="remote_host",
                        rule="register",
                    )
                ]
            )
        if key:
            secret = ""
        elif secret is KEEP:
            secret = registration.secret if registration is not None else ""
        comment = comment.replace("\r\n", "\n")
        line = registration_line(username, secret, key, remote_host, remote_port)
        _refuse_errors(policy.registration_verdict(line, _lines(comment)))
        before = _state(registration)
        registration = registration or Registration(host=host)
        registration.username, registration.secret, registration.remote_host = username, secret, remote_host
        registration.remote_port = remote_port
        registration.key = Key.objects.get(name=key) if key else None
        registration.comment = comment
        return _save_row(
            registration, before, position, host.registrations, actor=actor, batch=batch, message=message
        )


def delete_registration(
    registration: Registration, *, actor, expected_version: int | None = None, batch=None, message: str = ""
) -> None:
    _delete(registration, actor=actor, expected_version=expected_version, batch=batch, message=message)


def save_callnumber_limit(
    host: Host,
    *,
    limit: CallNumberLimit | None = None,
    network: str,
    value: int,
    comment: str = "",
    position: int | None = None,
    actor,
    expected_version: int | None = None,
    batch=None,
    message: str = "",
) -> CallNumberLimit:
    """Add a ``[callnumberlimits]`` line (``limit`` None) or change one. Refused when the line would
    have an error."""
    with transaction.atomic():
        host = lock_host(host)
        limit = _locked_row(limit, expected_version)
        comment = comment.replace("\r\n", "\n")
        _refuse_errors(policy.limit_verdict(network, value, _lines(comment)))
        before = _state(limit)
        limit = limit or CallNumberLimit(host=host)
        limit.network, limit.limit, limit.comment = network, value, comment
        return _save_row(
            limit, before, position, host.callnumber_limits, actor=actor, batch=batch, message=message
        )


def delete_callnumber_limit(
    limit: CallNumberLimit, *, actor, expected_version: int | None = None, batch=None, message: str = ""
) -> None:
    _delete(limit, actor=actor, expected_version=expected_version, batch=batch, message=message)


def _locked_row(obj, expected_version: int | None, what: str = ""):
    """A row to change, locked and checked to be at the version the caller saw (None: a new row).
    ``what`` comes before the row's name in the message about another user's change."""
    if obj is None:
        return None
    obj = locked(type(obj), obj.pk)
    check_version(obj, expected_version, f"{what}{obj}")
    return obj


def _refuse_errors(verdict: policy.Verdict) -> None:
    if not verdict.allowed:
        raise Refused(verdict.introduced)


def _state(obj) -> dict | None:
    """The row's audited state before a change (None for a new row)."""
    return audit.state(obj) if obj is not None else None


def _lines(comment: str) -> list[str]:
    return comment.split("\n") if comment else []


def _save_row(obj, before: dict | None, position: int | None, rows, *, actor, batch, message: str):
    """Save a registration or limit at ``position`` (a new one: after the host's last) and
    record it."""
    if position is not None:
        obj.position = position
    elif before is None:
        obj.position = storage.next_position(rows)
    obj.save()
    record_saved(obj, before, host=obj.host, actor=actor, batch=batch, message=message)
    return obj


def _delete(obj, *, actor, expected_version, batch, message) -> None:
    with transaction.atomic():
        lock_host(obj.host)
        obj = _locked_row(obj, expected_version)
        gone = audit.object_state(obj)
        obj.delete()
        record_deleted(gone, host=obj.host, actor=actor, batch=batch, message=message)
