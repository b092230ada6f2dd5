"""Helpers shared by the iax_* management commands."""

from __future__ import annotations

import getpass

from django.core.management.base import CommandError

from peers.models import Host


def get_host(name: str) -> Host:
    try:
        return Host.objects.get(name=name)
    except Host.DoesNotExist:
        known = ", ".join(Host.objects.values_list("name", flat=True)[:20]) or "none yet"
        raise CommandError(f"no host named {name!r} (known hosts: {known})") from None


def format_findings(findings) -> list[str]:
    return [str(f) for f in findings]


def cli_actor() -> str:
    """Who the history names for a command: "cli:<the operating-system user>"."""
    return f"cli:{getpass.getuser()}"
