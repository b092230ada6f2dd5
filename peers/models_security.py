"""Login rate limiting: one LoginAttempt row per login form POST that checked a password.

``LoginAttempt.wait_seconds(username, address)`` says how long a (username, address) pair must
wait: after ``MAX_FAILURES`` failed attempts within ``WINDOW`` (none of them followed by a
success) the login form refuses, without checking the password, until the oldest of those
failures is ``WINDOW`` old. A successful login clears the count. Refused attempts are not
recorded (so they do not extend the wait) and rows older than ``KEEP`` are pruned.

Imported at the end of ``peers.models``; the table comes from migration 0005_loginattempt.
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.db import models
from django.utils import timezone

__all__ = ["LoginAttempt"]

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
KEEP = timedelta(days=30)


def normalize_username(username: str) -> str:
    """The key a username is counted under: case and surrounding spaces do not make a new one."""
    return (username or "").strip().lower()[:150]


class LoginAttempt(models.Model):
    username = models.CharField(max_length=150, help_text="As typed, lower-cased.")
    address = models.CharField(max_length=64, blank=True, help_text="REMOTE_ADDR of the request.")
    at = models.DateTimeField(default=timezone.now)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["username", "address", "at"], name="peers_login_user_addr_at"),
            models.Index(fields=["at"], name="peers_login_at"),
        ]

    def __str__(self) -> str:
        outcome = "ok" if self.succeeded else "failed"
        return f"{self.username}@{self.address} {outcome} {self.at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def _failures(cls, username: str, address: str, now):
        rows = cls.objects.filter(username=normalize_username(username), address=address or "")
        recent = rows.filter(at__gt=now - WINDOW)
        last_success = recent.filter(succeeded=True).order_by("-at").values_list("at", flat=True).first()
        failures = recent.filter(succeeded=False)
        if last_success is not None:
            failures = failures.filter(at__gt=last_success)
        return failures

    @classmethod
    def wait_seconds(cls, username: str, address: str, *, now=None) -> int:
        """0 when this username may try from this address; else the seconds left to wait."""
        now = now or timezone.now()
        times = list(
            cls._failures(username, address, now).order_by("-at").values_list("at", flat=True)[:MAX_FAILURES]
        )
        if len(times) < MAX_FAILURES:
            return 0
        return max(1, math.ceil((times[-1] + WINDOW - now).total_seconds()))

    @classmethod
    def record(cls, username: str, address: str, *, succeeded: bool) -> LoginAttempt:
        now = timezone.now()
        cls.objects.filter(at__lt=now - KEEP).delete()
        return cls.objects.create(
            username=normalize_username(username), address=address or "", at=now, succeeded=succeeded
        )
