"""IAX2 trunks: what each end of a trunk writes, and how a register line and a peer are linked.
Pure Python, no Django.

A trunk joins two Asterisk servers. Each end is known to the other by an **account**: the
username it sends when it calls or registers, which is also the name of the section the other end
keeps for it. For two ends ``a`` and ``b`` the sections match by construction (chan_iax2 finds
an incoming call's user by the username sent, and a registration's peer by its name):

* ``a`` calls ``b`` through a peer with ``username=<a's account>`` and the credentials; ``b``
  finds the user (or friend) named ``<a's account>`` and checks the same credentials;
* ``a`` registers with ``register => <a's account>:<secret or [key]>@<b's address>``; ``b``
  checks it against its ``host=dynamic`` peer named ``<a's account>``, which then knows where
  ``a`` is;
* and the same the other way round.

``side(local, far, ...)`` is what ``local`` writes to talk to ``far``: one friend named after the
far end's account, or a peer (any name) and a user (the far end's account) when the dialplan name
of the trunk differs from the name the far end calls in with, plus the register line when
``local`` registers. ``pair(a, b, ...)`` is both sides of a trunk between two hosts managed here.

``same_account`` and ``registers_as`` tell, from the configuration alone, which peer a register
line goes with: the local peer that calls the same server with the same account and credentials,
and the far end's dynamic peer it authenticates as. Links are derived, never stored, so a link
that an edit breaks disappears instead of going stale.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass, field

from . import values as v
from .document import Entry, Section

DEFAULT_PORT = 4569
DEFAULT_CODECS = ("ulaw", "alaw")
# A generated secret: 32 characters of letters and digits (about 190 bits). A register line's
# secret may not hold ':', ';', spaces or brackets, a section's not ';': letters and digits are
# safe in both, and in a dial string.
SECRET_ALPHABET = string.ascii_letters + string.digits
SECRET_LENGTH = 32


def generate_secret(length: int = SECRET_LENGTH) -> str:
    """A strong random secret chan_iax2 takes both in a section and in a register line."""
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(length))


class TrunkProblem(ValueError):
    """A trunk that cannot be built as asked. ``field`` names the wizard's field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class End:
    """One end of a trunk.

    ``account``: the username this end sends (the other end's section for it has this name).
    ``address``/``port``: where the other end reaches it (``address`` None: unknown, so this end
    must register). ``registers``: this end sends ``register =>`` to the other one. ``section``:
    the name of this end's section for calling the other end (None: the other end's account,
    which makes one friend). ``context``: where this end puts calls coming in over the trunk.
    """

    account: str
    address: str | None = None
    port: int | None = None
    registers: bool = False
    section: str | None = None
    context: str = "default"
    label: str = ""  # what people call this end (a host name), for descriptions and comments

    @property
    def name(self) -> str:
        return self.label or self.address or self.account


@dataclass(frozen=True)
class Options:
    """What both ends of a trunk share."""

    codecs: tuple[str, ...] = DEFAULT_CODECS
    trunk: bool = True  # IAX2 trunking: several calls' media in one packet stream
    encryption: bool = False
    qualify: bool = True


@dataclass(frozen=True)
class Credentials:
    """How one end authenticates: a shared ``secret``, or RSA: ``outkey`` (the private key this
    end signs with) and ``inkey`` (the other end's public key it checks)."""

    secret: str | None = None
    outkey: str | None = None
    inkey: str | None = None

    @property
    def rsa(self) -> bool:
        return self.secret is None


@dataclass(frozen=True)
class Register:
    """The fields of a ``register =>`` line."""

    username: str
    secret: str = ""
    key: str | None = None
    host: str = ""
    port: int | None = None

    def value(self) -> str:
        credentials = self.username + (
            f":[{self.key}]" if self.key else f":{self.secret}" if self.secret else ""
        )
        return f"{credentials}@{self.host}" + (f":{self.port}" if self.port else "")

    def entry(self) -> Entry:
        return Entry("register", self.value(), operator="=>")


@dataclass
class Side:
    """What one end writes: its sections (new peers, users or friends) and its register line."""

    sections: list[Section] = field(default_factory=list)
    register: Register | None = None

    def section(self, name: str) -> Section:
        lowered = name.lower()
        return next(s for s in self.sections if s.name.lower() == lowered)


# ---------------------------------------------------------------------------------------------
# Building a trunk


def check(local: End, far: End, credentials: Credentials, options: Options, fields=("local", "far")) -> None:
    """Raise TrunkProblem when ``local`` cannot write a working trunk to ``far``. ``fields`` are
    the prefixes of the wizard's fields for the two ends (``far_address``, ``local_account``, ...);
    ``secret``, ``outkey``, ``inkey``, ``encryption`` and ``codecs`` are named as they are."""
    for end, prefix in zip((local, far), fields, strict=True):
        _name(end.account, f"{prefix}_account", "account")
        if end.section is not None:
            _name(end.section, f"{prefix}_section", "section name")
        _name(end.context, f"{prefix}_context", "context", v.CONTEXT_RE)
        if end.address is not None:
            try:
                v.check_line_safe(end.address)
                v.hostname_or_ip(end.address)
            except v.Invalid as exc:
                raise TrunkProblem(f"{prefix}_address", f"'{end.address}' {exc.message}") from None
        if end.port is not None and not 0 < end.port <= 65535:
            raise TrunkProblem(f"{prefix}_port", f"port {end.port} is not a number from 1 to 65535")
    if far.address is None:
        if local.registers:
            raise TrunkProblem(
                f"{fields[1]}_address",
                f"{local.name} registers with {far.name}, so it needs {far.name}'s address",
            )
        if not far.registers:
            raise TrunkProblem(
                f"{fields[1]}_address",
                f"{far.name} does not register, so {local.name} must call its address: give it, or let "
                f"{far.name} register",
            )
    if credentials.rsa:
        if not credentials.outkey:
            raise TrunkProblem("outkey", "RSA authentication needs the private key this end signs with")
        if not credentials.inkey:
            raise TrunkProblem("inkey", "RSA authentication needs the far end's public key")
        if options.encryption:
            raise TrunkProblem(
                "encryption",
                "IAX2 derives the encryption key from a shared secret, so RSA alone cannot encrypt: choose a "
                "secret to encrypt the trunk, or turn encryption off",
            )
    else:
        if not credentials.secret:
            raise TrunkProblem("secret", "a trunk needs a secret (or RSA keys)")
        try:
            v.check_line_safe(credentials.secret)
            v.secret(credentials.secret)
            if re.search(r"[\s:\[\]]", credentials.secret):
                raise v.Invalid(
                    "secret", "contains a space, ':' or a bracket, which a register line cannot carry"
                )
        except v.Invalid as exc:
            raise TrunkProblem("secret", f"the secret {exc.message}") from None
    if not options.codecs:
        raise TrunkProblem("codecs", "choose at least one codec")
    for codec in options.codecs:
        try:
            v.codec_list(codec)
        except v.Invalid as exc:
            raise TrunkProblem("codecs", f"'{codec}' {exc.message}") from None


def _name(value: str, field_name: str, what: str, pattern=None) -> None:
    try:
        v.check_line_safe(value, max_length=79)
        if pattern is not None:
            if not pattern.fullmatch(value):
                raise v.Invalid(what, "has characters a dialplan context cannot have")
        else:
            v.check_section_name(value)
            if not v.WORD_RE.fullmatch(value):
                raise v.Invalid(what, "may only hold letters, digits and _ . + -")
    except v.Invalid as exc:
        raise TrunkProblem(field_name, f"{what} '{value}' {exc.message}") from None


def side(
    local: End, far: End, credentials: Credentials, options: Options = Options(), *, fields=("local", "far")
) -> Side:
    """The sections and register line ``local`` writes to talk to ``far`` (TrunkProblem when it
    cannot; ``fields`` as for ``check``)."""
    check(local, far, credentials, options, fields)
    description = f"IAX2 trunk with {far.name}"[:79]
    comment = [f" {description} (iaxadmin trunk wizard)"]
    peer_name = far.account if far.registers else (local.section or far.account)
    friend = peer_name.lower() == far.account.lower()

    def codecs() -> list[Entry]:
        return [Entry("disallow", "all")] + [Entry("allow", c) for c in options.codecs]

    def common() -> list[Entry]:
        entries = []
        if options.encryption:
            entries.append(Entry("encryption", "yes"))
        entries.extend(codecs())
        entries.append(Entry("trunk", "yes" if options.trunk else "no"))
        return entries

    def peer_part() -> list[Entry]:
        entries = [Entry("description", description)]
        if far.registers:
            entries.append(Entry("host", "dynamic"))
        else:
            entries.append(Entry("host", far.address))
            if far.port is not None:
                entries.append(Entry("port", str(far.port)))
        entries.append(Entry("username", local.account))
        if options.qualify:
            entries.append(Entry("qualify", "yes"))
        return entries

    def auth(peer: bool, user: bool) -> list[Entry]:
        if not credentials.rsa:
            return [Entry("auth", "md5"), Entry("secret", credentials.secret)]
        entries = [Entry("auth", "rsa")]
        if user or far.registers:  # check the far end's calls, or its registrations
            entries.append(Entry("inkeys", credentials.inkey))
        if peer:
            entries.append(Entry("outkey", credentials.outkey))
        return entries

    sections = []
    if friend:
        entries = [Entry("type", "friend"), *peer_part(), *auth(True, True), Entry("context", local.context)]
        sections.append(Section(peer_name, entries + common(), comments=comment))
    else:
        peer = [Entry("type", "peer"), *peer_part(), *auth(True, False)]
        sections.append(Section(peer_name, peer + common(), comments=comment))
        user = [Entry("type", "user"), *auth(False, True), Entry("context", local.context)]
        sections.append(
            Section(far.account, user + common(), comments=[f" calls from {far.name} ({description})"])
        )
    register = None
    if local.registers:
        register = Register(
            username=local.account,
            secret=credentials.secret or "",
            key=credentials.outkey if credentials.rsa else None,
            host=far.address,
            port=far.port,
        )
    return Side(sections, register)


def pair(
    a: End,
    b: End,
    *,
    secret: str | None = None,
    keys: tuple[str, str] | None = None,
    options: Options = Options(),
) -> tuple[Side, Side]:
    """Both ends of a trunk between two hosts managed here: one shared ``secret``, or RSA with
    ``keys`` = (the key ``a`` signs with, the key ``b`` signs with); each end checks the other's
    public key."""
    if keys is not None:
        first = Credentials(outkey=keys[0], inkey=keys[1])
        second = Credentials(outkey=keys[1], inkey=keys[0])
    else:
        first = second = Credentials(secret=secret)
    return side(a, b, first, options), side(b, a, second, options, fields=("far", "local"))


# ---------------------------------------------------------------------------------------------
# Links between register lines and peers, derived from the configuration


def parse_register(value: str) -> Register | None:
    """The fields of a valid register value, or None."""
    try:
        v.check_line_safe(value)
        v.register_line(value)
    except v.Invalid:
        return None
    return split_register(value)


def split_register(value: str) -> Register:
    """The fields of a register value known to be valid (``parse_register`` checks it first)."""
    credentials, server = value.strip().split("@", 1)
    username, _, secret = credentials.partition(":")
    host, _, port = server.partition(":")
    key = None
    if secret.startswith("["):
        key, secret = secret[1:-1], ""
    return Register(username=username, secret=secret, key=key, host=host, port=int(port) if port else None)


def _last(entries: Iterable[Entry], name: str) -> str | None:
    found = None
    for entry in entries:
        if entry.name.lower() == name:
            found = entry.value.strip()
    return found


def _kind(entries: Iterable[Entry]) -> str | None:
    for entry in entries:  # Asterisk 22 reads the first type line (templates' lines come first)
        if entry.name.lower() == "type":
            return entry.value.strip().lower()
    return None


def _port(text: str | None) -> int:
    return int(text) if text and text.isdigit() else DEFAULT_PORT


def same_account(register: Register, entries: list[Entry]) -> bool:
    """True when a peer with these (effective) entries calls the server ``register`` registers
    with, as the same account with the same credentials: the outgoing half of one trunk."""
    if _kind(entries) not in ("peer", "friend"):
        return False
    host = _last(entries, "host")
    if host is None or host.lower() != register.host.lower():
        return False
    if _port(_last(entries, "port")) != (register.port or DEFAULT_PORT):
        return False
    if (_last(entries, "username") or "") != register.username:
        return False
    if register.key:
        return _last(entries, "outkey") == register.key
    return bool(register.secret) and _last(entries, "secret") == register.secret


def registers_as(register: Register, name: str, entries: list[Entry]) -> bool:
    """True when ``register`` authenticates as the peer ``name`` with these (effective) entries:
    the far end's ``host=dynamic`` peer of that name, accepting the line's secret or key."""
    if name.lower() != register.username.lower() or _kind(entries) not in ("peer", "friend"):
        return False
    if (_last(entries, "host") or "").lower() != "dynamic":
        return False
    if register.key:
        inkeys = _last(entries, "inkeys") or ""
        return register.key in [k.strip() for k in inkeys.split(":")]
    secret = _last(entries, "secret")
    return bool(register.secret) and secret is not None and register.secret in secret.split(";")
