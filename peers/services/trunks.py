"""Writes of IAX2 trunks (the trunk wizard): every section, register line and key of a trunk in
one transaction, through the same writes as the forms (``save_endpoint``, ``save_registration``,
``store_key``), so the section policy is applied to every section written, and every object gets
its history row, all under one batch. What to write is decided by ``peers.iaxconf.trunks``.

* ``create_trunk``: one end, on a host managed here, towards a far end that is not.
* ``create_trunk_pair``: both ends, on two hosts managed here, matching by construction: one
  generated secret, or two new RSA key pairs (each end signs with its own private key and checks
  the other's public key).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from .. import audit, policy
from ..iaxconf import trunks
from ..keys import generate
from ..models import Endpoint, Host, Key, Registration
from .config import save_registration
from .core import Refused, lock_host
from .endpoints import save_endpoint
from .keys import store_key


class TrunkRefused(Refused):
    """A trunk that was not created (nothing was written). ``field`` names the wizard field at
    fault when one is; ``host`` the host whose configuration refused it, if any."""

    def __init__(self, findings, *, field_name: str | None = None, host: str | None = None) -> None:
        self.field = field_name
        self.host = host
        findings = list(findings)
        where = f"on {host}: " if host else ""
        super().__init__(findings, where + "; ".join(f.message for f in findings))


@dataclass
class TrunkResult:
    batch: object
    endpoints: dict[str, list[Endpoint]] = field(default_factory=dict)  # host name -> created sections
    registrations: dict[str, Registration] = field(default_factory=dict)  # host name -> its register line
    keys: list[Key] = field(default_factory=list)
    secret_generated: bool = False


@dataclass(frozen=True)
class NewKeys:
    """Two new RSA key pairs for a trunk between two managed hosts: ``names`` = (the key the first
    host signs with, the key the second signs with). ``passphrase`` encrypts both private keys;
    None stores them without one (the admin chose so deliberately)."""

    names: tuple[str, str]
    passphrase: str | None


def _problem(exc: trunks.TrunkProblem) -> TrunkRefused:
    found = policy.finding("invalid-trunk", "", exc.message, part=exc.field)
    return TrunkRefused([found], field_name=exc.field)


def _write_side(host: Host, plan: trunks.Side, result: TrunkResult, *, actor, message: str) -> None:
    """Write one end's sections and register line (the caller's transaction holds the locks)."""
    created = result.endpoints.setdefault(host.name, [])
    try:
        for section in plan.sections:
            created.append(save_endpoint(host, section, actor=actor, batch=result.batch, message=message))
        if plan.register is not None:
            register = plan.register
            result.registrations[host.name] = save_registration(
                host,
                username=register.username,
                secret=register.secret,
                key=register.key,
                remote_host=register.host,
                remote_port=register.port,
                actor=actor,
                batch=result.batch,
                message=message,
            )
    except TrunkRefused:
        raise
    except Refused as exc:
        raise TrunkRefused(exc.findings, host=host.name) from None


def create_trunk(
    host: Host,
    local: trunks.End,
    far: trunks.End,
    credentials: trunks.Credentials,
    options: trunks.Options | None = None,
    *,
    actor,
    message: str = "",
) -> TrunkResult:
    """The sections (a friend, or a peer and a user) and the register line ``host`` needs for a
    trunk to a far end that is not managed here. ``credentials.secret`` "" (secret authentication,
    none typed): a strong secret is generated (reveal it on the section to give it to the far
    end)."""
    options = options or trunks.Options()
    generated = credentials.secret == ""  # secret authentication, none given
    if generated:
        credentials = trunks.Credentials(secret=trunks.generate_secret())
    try:
        plan = trunks.side(local, far, credentials, options)
    except trunks.TrunkProblem as exc:
        raise _problem(exc) from None
    message = message or f"IAX2 trunk with {far.name} created"
    result = TrunkResult(batch=audit.new_batch(), secret_generated=generated)
    with transaction.atomic():
        host = lock_host(host)
        _write_side(host, plan, result, actor=actor, message=message)
    return result


def create_trunk_pair(
    host_a: Host,
    host_b: Host,
    a: trunks.End,
    b: trunks.End,
    *,
    keys: NewKeys | None = None,
    options: trunks.Options | None = None,
    actor,
    message: str = "",
) -> TrunkResult:
    """Both ends of a trunk between two hosts managed here, in one transaction: with ``keys`` two
    new RSA key pairs (each host's private key, the other's public key), else one generated
    secret. Both hosts are locked (in id order, so two wizards at once cannot deadlock)."""
    if host_a.pk == host_b.pk:
        raise TrunkRefused(
            [policy.finding("invalid-trunk", "", "a trunk joins two different hosts", part="far_host")],
            field_name="far_host",
        )
    options = options or trunks.Options()
    secret = None if keys is not None else trunks.generate_secret()
    try:
        plan_a, plan_b = trunks.pair(
            a, b, secret=secret, keys=keys.names if keys is not None else None, options=options
        )
    except trunks.TrunkProblem as exc:
        raise _problem(exc) from None
    message = message or f"IAX2 trunk between {host_a.name} and {host_b.name} created"
    result = TrunkResult(batch=audit.new_batch(), secret_generated=secret is not None)
    with transaction.atomic():
        locked = {h.pk: lock_host(h) for h in sorted((host_a, host_b), key=lambda h: h.pk)}
        host_a, host_b = locked[host_a.pk], locked[host_b.pk]
        if keys is not None:
            result.keys = _new_keys(keys, actor=actor, batch=result.batch, message=message)
        _write_side(host_a, plan_a, result, actor=actor, message=message)
        _write_side(host_b, plan_b, result, actor=actor, message=message)
    return result


def _new_keys(keys: NewKeys, *, actor, batch, message: str) -> list[Key]:
    if keys.names[0] == keys.names[1]:
        raise TrunkRefused(
            [policy.finding("invalid-trunk", "", "the two keys need different names", part="key_far")],
            field_name="key_far",
        )
    stored = []
    for name, field_name in zip(keys.names, ("key_local", "key_far"), strict=True):
        try:
            stored.append(
                store_key(name, generate(keys.passphrase), actor=actor, batch=batch, message=message)
            )
        except Refused as exc:
            raise TrunkRefused(exc.findings, field_name=field_name) from None
    return stored
