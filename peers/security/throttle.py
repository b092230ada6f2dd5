"""Login rate limiting: one ``LoginAttempt`` row per login form POST that checked a password.

``wait_seconds(username, address)`` says how long a (username, address) pair must wait: after
``MAX_FAILURES`` failed attempts within ``WINDOW`` (none of them followed by a success) the login
form refuses, without checking the password, until the oldest of those failures is ``WINDOW``
old. A successful login clears the count. Refused attempts are not recorded (so they do not
extend the wait) and rows older than ``KEEP`` are pruned. The app's login page and the Django
admin's (routed to the same view) both count here.
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.utils import timezone

from ..models import LoginAttempt

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
KEEP = timedelta(days=30)


def normalize_username(username: str) -> str:
    """The key a username is counted under: case and surrounding spaces do not make a new one."""
    return (username or "").strip().lower()[:150]


def _failures(username: str, address: str, now):
    rows = LoginAttempt.objects.filter(username=normalize_username(username), address=address or "")
    recent = rows.filter(at__gt=now - WINDOW)
    last_success = recent.filter(succeeded=True).order_by("-at").values_list("at", flat=True).first()
    failures = recent.filter(succeeded=False)
    if last_success is not None:
        failures = failures.filter(at__gt=last_success)
    return failures


def wait_seconds(username: str, address: str, *, now=None) -> int:
    """0 when this username may try from this address; else the seconds left to wait."""
    now = now or timezone.now()
    times = list(
        _failures(username, address, now).order_by("-at").values_list("at", flat=True)[:MAX_FAILURES]
    )
    if len(times) < MAX_FAILURES:
        return 0
    return max(1, math.ceil((times[-1] + WINDOW - now).total_seconds()))


def record(username: str, address: str, *, succeeded: bool) -> LoginAttempt:
    """Count one checked login (bookkeeping of the limit itself, not a change to audit)."""
    now = timezone.now()
    LoginAttempt.objects.filter(at__lt=now - KEEP).delete()
    return LoginAttempt.objects.create(
        username=normalize_username(username), address=address or "", at=now, succeeded=succeeded
    )
