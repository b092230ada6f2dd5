"""Helpers shared by the iax_* management commands."""

from __future__ import annotations

import getpass

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from peers.models import Host, Revision


def get_host(name: str) -> Host:
    try:
        return Host.objects.get(name=name)
    except Host.DoesNotExist:
        known = ", ".join(Host.objects.values_list("name", flat=True)[:20]) or "none yet"
        raise CommandError(f"no host named {name!r} (known hosts: {known})") from None


def add_host_argument(parser, help: str = "name of the host") -> None:
    parser.add_argument("--host", required=True, help=help)


def get_revision(host: Host, number: int) -> Revision:
    try:
        return Revision.objects.get(host=host, number=number)
    except Revision.DoesNotExist:
        raise CommandError(f"host {host.name!r} has no revision {number}") from None


def get_user(username: str):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"no user named {username!r}")
    return user


def format_findings(findings) -> list[str]:
    return [str(f) for f in findings]


def cli_actor() -> str:
    """Who the history names for a command: "cli:<the operating-system user>"."""
    return f"cli:{getpass.getuser()}"
