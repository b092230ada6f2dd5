"""API tokens and deployment reports (issue 6).

* ``HostToken``: lets one Asterisk host (its ``iaxadmin-agent``) read its own export and report
  deployments. ``UserToken``: lets a person or a script use the JSON API as a user.
  Both are stored healthchecks-style: only a public ``prefix`` (indexed, how a token is looked up)
  and the sha256 of the secret part (compared with ``hmac.compare_digest``); the whole token is
  shown once when it is created (``peers.tokens``).
* ``Deployment``: what a host's agent reported after applying (or failing to apply) a revision.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["HostToken", "UserToken", "Deployment"]


class TokenBase(models.Model):
    name = models.CharField(max_length=100, help_text="A label: what or who uses the token.")
    prefix = models.CharField(max_length=16, unique=True, help_text="Public part, shown in listings.")
    hash = models.CharField(max_length=64, help_text="sha256 of the secret part (never the secret).")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class HostToken(TokenBase):
    host = models.ForeignKey("peers.Host", on_delete=models.CASCADE, related_name="tokens")

    def __str__(self) -> str:
        return f"{self.host} token {self.prefix} ({self.name})"


class UserToken(TokenBase):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")

    def __str__(self) -> str:
        return f"{self.user} token {self.prefix} ({self.name})"


class Deployment(models.Model):
    """One report from a host's agent: the revision it applied (or tried to), and what Asterisk said."""

    host = models.ForeignKey("peers.Host", on_delete=models.CASCADE, related_name="deployments")
    revision = models.ForeignKey(
        "peers.Revision", null=True, blank=True, on_delete=models.SET_NULL, related_name="deployments"
    )
    revision_number = models.PositiveIntegerField(
        null=True, blank=True, help_text="As the agent reported it."
    )
    sha256 = models.CharField(max_length=64, blank=True)
    ok = models.BooleanField()
    reload_output = models.TextField(blank=True)
    registry = models.TextField(blank=True, help_text="Output of `iax2 show registry`.")
    peers = models.TextField(blank=True, help_text="Output of `iax2 show peers`.")
    error = models.TextField(blank=True)
    agent_version = models.CharField(max_length=40, blank=True)
    token = models.ForeignKey(HostToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    reported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-reported_at", "-id"]
        indexes = [models.Index(fields=["host", "reported_at"])]

    def __str__(self) -> str:
        return f"{self.host} r{self.revision_number} {'ok' if self.ok else 'failed'}"
