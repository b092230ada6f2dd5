"""Models for everything in an iax.conf.

* ``Host``: one Asterisk server whose iax.conf we manage; everything except keys belongs to one.
* ``GeneralSettings`` (one per host) with ordered ``GeneralOption`` rows: the ``[general]`` section.
* ``Endpoint``: peers, users and friends in one table (``Peer``, ``User``, ``Friend`` are proxies),
  and templates (``[name](!)``, ``is_template``) they inherit from in order (``EndpointBase``).
  The directives admins search and cross-check have typed, indexed columns (``TYPED_COLUMNS``);
  every other directive, and the second and later lines of repeatable ones, are ordered
  ``EndpointOption`` rows. ``inkeys`` and ``outkey`` are references to ``Key`` rows.
* ``Key``: an RSA key by name, shared across hosts (``<name>.pub`` and optionally ``<name>.key``).
* ``Registration``: a ``register =>`` line, rendered in ``[general]`` only.
* ``CallNumberLimit``: a line of ``[callnumberlimits]``.
* ``DialplanContexts``: the contexts a host's dialplan defines (for findings and the simulator).
* ``Change``: the audit trail, one row per created, updated or deleted config object, written by
  ``peers.audit.record`` in the same transaction as the change (secrets masked).
* ``Revision``: an immutable published version of a host's iax.conf, with its key files and a
  complete snapshot of the model state (``peers.revisions``).
* ``HostToken`` / ``UserToken``: API tokens (``peers.security.tokens``), stored healthchecks-style:
  a public ``prefix`` and the sha256 of the secret part. ``Deployment``: what a host's agent
  reported after applying (or failing to apply) a revision.
* ``LoginAttempt``: one row per login form POST that checked a password (``peers.security.throttle``).
* ``ImportUpload``: the files of a web import between its dry run and its confirmation.

Typed string columns use NULL for "not set" (the line is not written) and "" for a line written
with an empty value: Asterisk treats the two differently (``context=`` adds an empty context).
What is valid where is decided by ``peers.iaxconf`` (the catalogue and validator), not here.

Secrets (``Endpoint.secret`` and ``extra_secrets``, ``Registration.secret``), ``Key.private_pem``
and a revision's ``conf_text`` and ``snapshot`` are encrypted at rest (``peers.security.fields``,
``peers.security.crypto``): transparent through the ORM, ciphertext in the database.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from .security.fields import EncryptedJSONField, EncryptedTextField

# Endpoint directive -> typed column. Everything else is an EndpointOption row.
TYPED_COLUMNS: dict[str, str] = {
    "host": "peer_host",
    "port": "port",
    "defaultip": "defaultip",
    "context": "context",
    "username": "username",
    "secret": "secret",
    "auth": "auth",
    "qualify": "qualify",
    "trunk": "trunk",
    "transfer": "transfer",
    "requirecalltoken": "requirecalltoken",
    "encryption": "encryption",
}
# Directives held as references to keys rather than text.
KEY_DIRECTIVES = ("inkeys", "outkey")


class Host(models.Model):
    name = models.SlugField(max_length=63, unique=True, help_text="Short name of the Asterisk server.")
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class GeneralSettings(models.Model):
    host = models.OneToOneField(Host, on_delete=models.CASCADE, related_name="general")
    comment = models.TextField(blank=True, help_text="Comment lines written above [general].")
    header = models.TextField(blank=True, help_text="Comment lines at the top of the file.")
    trailer = models.TextField(blank=True, help_text="Comment lines at the end of the file.")

    class Meta:
        verbose_name = "general settings"
        verbose_name_plural = "general settings"

    def __str__(self) -> str:
        return f"[general] of {self.host}"


class OptionRow(models.Model):
    """A ``name=value`` line with its position among its section's lines and its comment lines."""

    position = models.PositiveIntegerField()
    name = models.CharField(max_length=40)
    value = models.CharField(max_length=255, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        abstract = True
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class GeneralOption(OptionRow):
    general = models.ForeignKey(GeneralSettings, on_delete=models.CASCADE, related_name="options")

    class Meta(OptionRow.Meta):
        constraints = [
            models.UniqueConstraint(fields=["general", "position"], name="general_option_position")
        ]


class Key(models.Model):
    """An RSA key pair for IAX2 authentication, by the name chan_iax2 refers to it with."""

    name = models.CharField(max_length=64, unique=True)
    public_pem = models.TextField(help_text="PEM 'PUBLIC KEY' (SubjectPublicKeyInfo), written as <name>.pub.")
    private_pem = EncryptedTextField(
        blank=True, help_text="PEM private key, written as <name>.key (mode 0600). Encrypted at rest."
    )
    private_encrypted = models.BooleanField(
        default=False, help_text="The private key is passphrase-protected."
    )
    bits = models.PositiveIntegerField(default=1024)
    fingerprint = models.CharField(max_length=64, blank=True, help_text="MD5 of the public key file.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_private(self) -> bool:
        return bool(self.private_pem)


class Endpoint(models.Model):
    class Kind(models.TextChoices):
        PEER = "peer"
        USER = "user"
        FRIEND = "friend"

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="endpoints")
    name = models.CharField(max_length=79)
    kind = models.CharField(
        max_length=6,
        choices=Kind,
        blank=True,
        help_text="type=; blank for a template without one (or an imported section without a valid one, "
        "which the validator reports).",
    )
    is_template = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0, help_text="Order of the section in iax.conf.")
    comment = models.TextField(blank=True, help_text="Comment lines written above the section header.")
    column_comments = models.JSONField(
        default=dict, blank=True, help_text="Comment lines above typed directives: {directive: text}."
    )

    peer_host = models.CharField("host", max_length=253, null=True, blank=True)
    port = models.PositiveIntegerField(null=True, blank=True)
    defaultip = models.CharField(max_length=253, null=True, blank=True)
    context = models.CharField(max_length=79, null=True, blank=True)
    username = models.CharField(max_length=79, null=True, blank=True)
    secret = EncryptedTextField(max_length=79, null=True, blank=True, help_text="Encrypted at rest.")
    auth = models.CharField(max_length=40, null=True, blank=True)
    qualify = models.CharField(max_length=10, null=True, blank=True)
    trunk = models.BooleanField(null=True, blank=True)
    transfer = models.CharField(max_length=10, null=True, blank=True)
    requirecalltoken = models.CharField(max_length=5, null=True, blank=True)
    encryption = models.CharField(max_length=10, null=True, blank=True)
    extra_secrets = EncryptedTextField(
        null=True,
        blank=True,
        editable=False,  # never in a ModelForm (the admin's included): edited as secret= lines
        help_text="The second and later secret= lines, one per line in order (encrypted at rest).",
    )

    outkey = models.ForeignKey(Key, null=True, blank=True, on_delete=models.PROTECT, related_name="outkey_of")
    inkeys = models.ManyToManyField(Key, through="EndpointInKey", related_name="inkey_of", blank=True)
    bases = models.ManyToManyField(
        "self", through="EndpointBase", symmetrical=False, related_name="+", blank=True
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["host", "position", "id"]
        constraints = [
            models.UniqueConstraint("host", Lower("name"), name="endpoint_name_unique_per_host"),
        ]
        indexes = [
            models.Index(fields=["host", "kind"]),
            models.Index(fields=["host", "position"]),
            models.Index(fields=["peer_host"]),
            models.Index(fields=["context"]),
            models.Index(fields=["username"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def section_kind(self) -> str:
        return "template" if self.is_template else self.kind


class PeerManager(models.Manager):
    kinds = (Endpoint.Kind.PEER, Endpoint.Kind.FRIEND)

    def get_queryset(self):
        return super().get_queryset().filter(is_template=False, kind__in=self.kinds)


class UserManager(PeerManager):
    kinds = (Endpoint.Kind.USER, Endpoint.Kind.FRIEND)


class FriendManager(PeerManager):
    kinds = (Endpoint.Kind.FRIEND,)


class Peer(Endpoint):
    """Endpoints chan_iax2 builds a peer from: type=peer and type=friend."""

    objects = PeerManager()

    class Meta:
        proxy = True


class User(Endpoint):
    """Endpoints chan_iax2 builds a user from: type=user and type=friend."""

    objects = UserManager()

    class Meta:
        proxy = True


class Friend(Endpoint):
    objects = FriendManager()

    class Meta:
        proxy = True


class EndpointLink(models.Model):
    """An endpoint's ordered list of other rows: each at one position, and each named once
    (``ordered_once``)."""

    position = models.PositiveIntegerField()

    class Meta:
        abstract = True
        ordering = ["position"]

    @staticmethod
    def ordered_once(prefix: str, other: str) -> list[models.UniqueConstraint]:
        return [
            models.UniqueConstraint(fields=["endpoint", "position"], name=f"{prefix}_position"),
            models.UniqueConstraint(fields=["endpoint", other], name=f"{prefix}_once"),
        ]


class EndpointBase(EndpointLink):
    """``[name](base1,base2)``: the sections an endpoint inherits from, in order."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="base_links")
    base = models.ForeignKey(Endpoint, on_delete=models.PROTECT, related_name="derived_links")

    class Meta(EndpointLink.Meta):
        constraints = EndpointLink.ordered_once("endpoint_base", "base")


class EndpointInKey(EndpointLink):
    """``inkeys=a:b``: the public keys accepted from an endpoint, in order."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="inkey_links")
    key = models.ForeignKey(Key, on_delete=models.PROTECT, related_name="inkey_links")

    class Meta(EndpointLink.Meta):
        constraints = EndpointLink.ordered_once("endpoint_inkey", "key")


class EndpointOption(OptionRow):
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="options")

    class Meta(OptionRow.Meta):
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "position"], name="endpoint_option_position")
        ]


class Registration(models.Model):
    """``register => username[:secret]@remote_host[:remote_port]`` or ``username:[key]@...``."""

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="registrations")
    position = models.PositiveIntegerField(default=0)
    username = models.CharField(max_length=79)
    secret = EncryptedTextField(max_length=79, blank=True, help_text="Encrypted at rest.")
    key = models.ForeignKey(
        Key, null=True, blank=True, on_delete=models.PROTECT, related_name="registrations"
    )
    remote_host = models.CharField(max_length=253)
    remote_port = models.PositiveIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["host", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(key__isnull=True) | models.Q(secret=""), name="registration_secret_or_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.username}@{self.remote_host}"

    def line(self) -> str:
        """The value of the register line."""
        credentials = self.username
        if self.key_id is not None:
            credentials += f":[{self.key.name}]"
        elif self.secret:
            credentials += f":{self.secret}"
        server = self.remote_host + (f":{self.remote_port}" if self.remote_port else "")
        return f"{credentials}@{server}"


class CallNumberLimit(models.Model):
    """A ``[callnumberlimits]`` line: ``network/mask = limit``."""

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="callnumber_limits")
    position = models.PositiveIntegerField(default=0)
    network = models.CharField(max_length=64, help_text="address[/mask]")
    limit = models.PositiveIntegerField()
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["host", "position", "id"]

    def __str__(self) -> str:
        return f"{self.network} = {self.limit}"


class DialplanContexts(models.Model):
    """The contexts a host's dialplan defines (their names only, in the order found), uploaded
    from extensions.conf or reported by the host's agent from ``dialplan show``. While a host has
    one, ``context=`` lines naming no context are a warning finding and the call simulator says
    when an extension cannot exist. Written only by ``peers.services.dialplan``."""

    class Source(models.TextChoices):
        UPLOAD = "upload", "extensions.conf upload"
        AGENT = "agent", "agent report (dialplan show)"
        API = "api", "API"

    host = models.OneToOneField(Host, on_delete=models.CASCADE, related_name="dialplan")
    contexts = models.JSONField(default=list, help_text="Context names, as the dialplan spells them.")
    source = models.CharField(max_length=10, choices=Source)
    detail = models.CharField(
        max_length=200, blank=True, help_text="The uploaded file or the agent's version."
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "dialplan contexts"
        verbose_name_plural = "dialplan contexts"

    def __str__(self) -> str:
        return f"dialplan contexts of {self.host}"


class Change(models.Model):
    """One create, update or delete of a config or access object (a token, a user's role), or one
    reveal of a secret. ``before``/``after`` are masked ``peers.audit`` states: secrets are
    masked, ``secrets_changed`` names the ones that changed. Written only by ``peers.services``,
    in the transaction of the change; the id of an object's latest row (reveals aside) is its
    version for optimistic locking."""

    class Action(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        DELETE = "delete"
        REVEAL = "reveal"  # a secret was shown in clear (nothing changed)

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(
        max_length=150, help_text='"alice", "cli:root", "api:<token name>" or "system".'
    )
    batch = models.UUIDField(db_index=True, help_text="Groups the changes of one save, import or revert.")
    action = models.CharField(max_length=10, choices=Action)
    object_type = models.CharField(max_length=40)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    object_repr = models.CharField(max_length=200)
    host = models.ForeignKey(Host, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes")
    host_name = models.CharField(max_length=63, blank=True, help_text="Kept when the host is deleted.")
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["host", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} {self.object_repr}"


class Revision(models.Model):
    """A published iax.conf, exactly as written, and the model state it was rendered from.
    Immutable: saving an existing revision raises."""

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(help_text="1, 2, 3, ... per host.")
    created_at = models.DateTimeField(default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=150)
    message = models.TextField(blank=True)
    conf_text = EncryptedTextField(
        help_text="The rendered iax.conf exactly as published (encrypted at rest)."
    )
    key_files = models.JSONField(default=list, help_text="[{name, sha256, mode}] of the keys/ files.")
    sha256 = models.CharField(max_length=64, help_text="Of iax.conf and the key files together.")
    snapshot = EncryptedJSONField(
        encoder=DjangoJSONEncoder,
        help_text="Complete model state of the host, including the key material (needed to re-export); "
        "JSON, encrypted at rest.",
    )

    class Meta:
        ordering = ["host", "-number"]
        constraints = [models.UniqueConstraint(fields=["host", "number"], name="revision_number_per_host")]

    def __str__(self) -> str:
        return f"{self.host} r{self.number}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("a published revision is immutable")
        super().save(*args, **kwargs)


# ---------------------------------------------------------------------------------------------
# API tokens and what the agents report


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
    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="tokens")

    def __str__(self) -> str:
        return f"{self.host} token {self.prefix} ({self.name})"


class UserToken(TokenBase):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")

    def __str__(self) -> str:
        return f"{self.user} token {self.prefix} ({self.name})"


class Deployment(models.Model):
    """One report from a host's agent: the revision it applied (or tried to), and what Asterisk said."""

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="deployments")
    revision = models.ForeignKey(
        Revision, null=True, blank=True, on_delete=models.SET_NULL, related_name="deployments"
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


# ---------------------------------------------------------------------------------------------
# Login rate limiting (peers.security.throttle)


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


class ImportUpload(models.Model):
    """A web import: its files between the dry run and the confirmation, kept on the server side
    (encrypted: an iax.conf holds secrets) and known to the browser only by ``id`` (nothing the
    browser sends back names a file), and where its work is. The work runs in steps that any app
    server can take (``peers.services.imports.run_upload``): the row is the whole state, so the
    app keeps nothing outside the database. Its files are dropped once imported; the row is
    deleted when cancelled, and after ``peers.services.imports.UPLOAD_LIFETIME``."""

    class State(models.TextChoices):
        STAGED = "staged"  # uploaded: its dry run is to be run
        CHECKING = "checking"  # the dry run is running
        CHECKED = "checked"  # the report is ready: confirm or cancel
        CONFIRMED = "confirmed"  # the import is to be run
        IMPORTING = "importing"  # the import is running (one transaction)
        IMPORTED = "imported"  # done: ``report`` is what was written
        FAILED = "failed"  # nothing could be imported: ``report["problems"]``

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    host_name = models.CharField(max_length=63)
    replace = models.BooleanField(default=False)
    main = models.CharField(max_length=255, help_text="The uploaded iax.conf's name among ``files``.")
    files = EncryptedJSONField(help_text="{name: base64 content} of every uploaded file (encrypted at rest).")
    state = models.CharField(max_length=10, choices=State, default=State.STAGED)
    stage = models.CharField(max_length=60, blank=True, help_text="What the running step is doing now.")
    started_at = models.DateTimeField(null=True, blank=True, help_text="When the running step began.")
    report = EncryptedJSONField(
        null=True,
        blank=True,
        help_text="The dry run's report, then the import's (encrypted at rest: parser notes quote the file).",
    )
    host_stamp = models.JSONField(
        null=True,
        blank=True,
        help_text="The host's state the dry run saw (an import of a changed host checks again).",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"import into {self.host_name} ({self.main})"
