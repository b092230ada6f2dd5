"""Writes of hosts: create (with an empty [general]), change the description, delete (everything
of the host goes with it; its history stays, under its name)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from .. import audit, policy
from ..iaxconf import values
from ..models import GeneralSettings, Host
from . import storage
from .core import Refused, check_version, locked, record_saved


def _check(name: str, description: str) -> None:
    problems = []
    for field, text, limit in (("name", name, 63), ("description", description, 200)):
        try:
            values.check_line_safe(text, max_length=limit)
        except values.Invalid as exc:
            problems.append(
                policy.finding(
                    "invalid-host",
                    "",
                    f"{field} {text!r} {exc.message}",
                    part=field,
                    value=text,
                    rule=exc.rule,
                )
            )
    try:
        Host(name=name, description=description).full_clean(validate_unique=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            problems += [
                policy.finding("invalid-host", "", f"{field}: {m}", part=field, value=name) for m in messages
            ]
    if problems:
        raise Refused(problems)


def create_host(name: str, *, description: str = "", actor, batch=None, message: str = "") -> Host:
    """A new host with an empty [general]; refused when the name is taken or not a slug."""
    _check(name, description)
    with transaction.atomic():
        if Host.objects.filter(name=name).exists():
            raise Refused(
                [
                    policy.finding(
                        "host-exists", "", f"a host named {name!r} exists already", part="name", value=name
                    )
                ]
            )
        batch = batch or audit.new_batch()
        host = Host.objects.create(name=name, description=description)
        general = GeneralSettings.objects.create(host=host)
        for obj in (host, general):
            record_saved(obj, None, host=host, actor=actor, batch=batch, message=message)
        return host


def update_host(
    host: Host, *, description: str, actor, expected_version: int | None = None, message: str = ""
) -> Host:
    _check(host.name, description)
    with transaction.atomic():
        host = locked(Host, host.pk)
        check_version(host, expected_version, f"host {host.name}")
        before = audit.state(host)
        host.description = description
        host.save(update_fields=["description", "updated_at"])
        record_saved(host, before, host=host, actor=actor, message=message)
        return host


def delete_host(host: Host, *, actor, expected_version: int | None = None, message: str = "") -> int:
    """Delete a host with its whole configuration, revisions, tokens and deployment reports. One
    history row per object deleted, kept under the host's name. Returns how many."""
    with transaction.atomic():
        host = locked(Host, host.pk)
        check_version(host, expected_version, f"host {host.name}")
        before = audit.host_objects(host)
        batch = audit.new_batch()
        rows = audit.record_many(before, {}, actor=actor, host=host, batch=batch, message=message)
        storage.clear_host(host)
        host.delete()  # revisions, tokens and deployments cascade; history rows keep host_name
        return len(rows)
