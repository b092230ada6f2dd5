"""Predict what chan_iax2 (Asterisk 22.10.1) does with an incoming call or a registration, and say
why. Pure domain code: a :class:`~peers.iaxconf.document.Document` (normalised, as the exporter
builds it), what the key store holds and, when known, the dialplan's contexts go in; a
:class:`Result` comes out. No Django here.

``simulate_call(document, Call(...), keys=..., contexts=...)`` and
``simulate_registration(document, Registration(...), keys=..., contexts=...)``; ``Result.to_dict()``
is what ``iax_simulate --json``, the pages and the API give.

Every rule mirrors a function of ``channels/chan_iax2.c`` (22.10.1); the order of the walk is the
order in which ``socket_process`` meets them. The Asterisk tests (``tests/asterisk/test_simulate_live.py``)
place the same calls at a real Asterisk and compare outcome, section, context and log lines.

============================  ==================================================================
rule                          mirrors
============================  ==================================================================
what a user/peer is           ``set_config`` (first ``type=``; user or friend -> user, peer or
                              friend -> peer), ``build_user`` / ``build_peer`` (defaults from
                              [general], lines in order: ``secret`` lines joined with ``;`` for a
                              user and last-wins for a peer, ``context`` list, ``auth`` and its
                              default (secret -> md5, +inkeys -> md5,rsa; inkeys -> rsa; nothing ->
                              md5; a peer without auth= -> md5), ``encryption``/``forceencryption``
                              (OR-ed in), ``codecpriority`` flags, ``requirecalltoken``)
call-token check              ``handle_call_token`` and ``calltoken_required``: a caller without
                              call-token support is refused unless the user it names (or
                              ``guest``) has ``requirecalltoken=no``/``auto``, or the address is in
                              a ``calltokenoptional`` range and the user does not say ``yes``
call numbers                  ``peercnt_add`` / ``set_peercnt_limit`` (``[callnumberlimits]``,
                              else ``maxcallnumbers``, default 2048) and ``get_unused_callno``
                              (``maxcallnumbers_nonvalidated`` for calls without a token)
which [user] takes the call   ``check_access``: users in the order of chan_iax2's hash container
                              (``ast_str_hash(name) % 563`` buckets, then file order); a user is a
                              candidate when the username matches (or none is sent), its ACL
                              admits the address (``ast_apply_acl``: last matching line decides)
                              and the requested context is in its list (``apply_context``, ``*``
                              permits any). An exact username stops the search; without one the
                              best score wins (no auth + ACL 4, no auth 3, auth + ACL 2, auth 1),
                              the first in hash order on a tie (reported **ambiguous**). No user
                              with a username: a fake AUTHREQ that no answer can pass
                              (``authrej``); without one: "Rejected connect attempt ... who was
                              trying to reach"
forceencryption, no secret    the IAX_COMMAND_NEW case of ``socket_process``
unauthenticated path          ``socket_process`` NEW: no secret and no inkeys -> extension check,
                              codec choice, "Accepting UNAUTHENTICATED call"
auth negotiation              ``authenticate_request`` (the user's methods; ``merge_encryption``),
                              the caller's ``authenticate`` / ``authenticate_reply`` (rsa when it has
                              a key and rsa is offered, else md5, else plaintext; "RSA
                              authentication requires an outkey"), ``authenticate_verify`` (rsa
                              against ``inkeys``, md5 against each ``;`` part of the secret,
                              plaintext against the whole secret; unencrypted call with
                              ``forceencryption``)
extension exists              ``ast_exists_extension`` after ``check_access`` / ``authenticate_verify``:
                              a context the dialplan does not define cannot hold the extension
codec choice                  the NEW / AUTHREP format selection (``iax2_codec_choose``,
                              ``codecpriority`` host/caller/disabled/reqonly, the fallback to the
                              joint capability, ``iax2_format_compatibility_best``)
registration                  ``register_verify``: unknown peer, not ``host=dynamic``, peer ACL,
                              REGAUTH with the peer's methods, rsa / md5 / plaintext checks, and
                              ``update_registry`` (``minregexpire``/``maxregexpire``)
============================  ==================================================================

What cannot be known from iax.conf is said, not guessed: the extensions inside a context (only
the context names are known, see ``peers.iaxconf.dialplan``), named ACLs from acl.conf, secrets in
the AstDB (``dbsecret``), realtime users and the counters Asterisk keeps at run time. Lines that
``authdebug=no`` keeps out of the log are marked.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field

from . import acl, codecs
from .document import Document, Entry, expansions
from .validate import KeyInfo

CALL = "call"
REGISTRATION = "registration"
ACCEPTED = "accepted"
REJECTED = "rejected"
AMBIGUOUS = "ambiguous"

METHODS = ("rsa", "md5", "plaintext")
METHOD_LABELS = {"rsa": "RSA", "md5": "MD5", "plaintext": "plaintext"}
USER_BUCKETS = 563  # MAX_USER_BUCKETS without LOW_MEMORY
DEFAULT_PORT = 4569
DEFAULT_CONTEXT = "default"
DEFAULT_MAXCALLNUMBERS = 2048
DEFAULT_MAXCALLNUMBERS_NONVALIDATED = 8192
DEFAULT_REGEXPIRE = 60  # IAX_DEFAULT_REG_EXPIRE

# IAX2 causes (main/causes.h) chan_iax2 sends with its REJECT / REGREJ
CAUSE_CODES = {
    "No authority found": 50,  # AST_CAUSE_FACILITY_NOT_SUBSCRIBED
    "No such context/extension": 3,  # AST_CAUSE_NO_ROUTE_DESTINATION
    "Unable to negotiate codec": 58,  # AST_CAUSE_BEARERCAPABILITY_NOTAVAIL
    "Registration Refused": 29,  # AST_CAUSE_FACILITY_REJECTED
    "Unauthenticated call limit reached": 21,  # AST_CAUSE_CALL_REJECTED
}
# check_access / register_verify for a name nobody has: the challenge asks for last_authmethod
LAST_AUTHMETHOD = (
    "Asterisk challenges a name it does not know with the methods it last asked a registering peer "
    "for (md5 until one registers); the prediction assumes md5"
)
TRUE_WORDS = frozenset({"yes", "true", "y", "t", "1", "on"})
FALSE_WORDS = frozenset({"no", "false", "n", "f", "0", "off"})


# ---------------------------------------------------------------------------------------------
# What goes in


@dataclass(frozen=True)
class Call:
    """An incoming call as the caller makes it. ``address``: its IP (``ip``, ``ip:port``,
    ``[ipv6]:port``; port 4569 when not given). ``auth``: the methods the caller implements (None:
    every method it has credentials for, as an Asterisk caller does: rsa with a ``key``, md5 and
    plaintext with a ``secret``). ``codecs``: what it offers, preferred first (None: anything, no
    preference of its own). ``calltoken``: it supports call tokens (every Asterisk since 1.6 does).
    ``encryption``: it offers AES-128 (an Asterisk caller does with encryption=yes on its side).
    ``calls_in_use``: call numbers the address already holds on this Asterisk."""

    address: str
    username: str | None = None
    secret: str | None = None
    key: str | None = None
    auth: tuple[str, ...] | None = None
    context: str | None = None
    exten: str | None = None
    calltoken: bool = True
    codecs: tuple[str, ...] | None = None
    encryption: bool = False
    calls_in_use: int = 0


@dataclass(frozen=True)
class Registration:
    """A registration (``register => peer:secret@us`` on the other box). ``key``: it signs with
    this key (``peer:[key]@us``). ``refresh``: the seconds it asks for (Asterisk asks 60)."""

    peer: str
    address: str
    secret: str | None = None
    key: str | None = None
    auth: tuple[str, ...] | None = None
    calltoken: bool = True
    refresh: int = DEFAULT_REGEXPIRE


class SimulationError(ValueError):
    """A parameter of the call or registration is not usable: ``field`` names it."""

    def __init__(self, field_name: str, value, message: str) -> None:
        super().__init__(f"{field_name} {value!r}: {message}")
        self.field = field_name
        self.value = value
        self.message = message


# ---------------------------------------------------------------------------------------------
# What comes out


@dataclass(frozen=True)
class Logged:
    """A line Asterisk logs. ``authdebug``: only with ``authdebug=yes`` in [general].
    ``exact``: False when a part in ``<...>`` differs each time (an MD5 challenge response).
    ``side``: ``callee`` (this host) or ``caller`` (the calling or registering box)."""

    level: str
    source: str
    message: str
    authdebug: bool = False
    exact: bool = True
    side: str = "callee"

    def __str__(self) -> str:
        return f"{self.level} {self.source}: {self.message}"


@dataclass
class Candidate:
    section: str
    kind: str  # user, friend, peer
    included: bool
    reasons: list[str]
    score: int | None = None
    chosen: bool = False


@dataclass(frozen=True)
class Fix:
    """The smallest configuration change that would make it work: ``section`` ("general",
    "callnumberlimits", an endpoint, or None for a change on the calling side), the ``directive``
    to add or change and a suggested ``value``."""

    text: str
    section: str | None = None
    directive: str | None = None
    value: str | None = None


@dataclass
class Step:
    stage: str  # calltoken, callnumbers, match, encryption, auth, dialplan, codec, register
    ok: bool | None  # None: could not be decided from the configuration
    text: str


@dataclass
class Result:
    kind: str  # call or registration
    outcome: str = ACCEPTED
    section: str | None = None
    candidates: list[Candidate] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    logged: list[Logged] = field(default_factory=list)
    cause: str | None = None
    cause_code: int | None = None
    fix: Fix | None = None
    context: str | None = None
    exten: str | None = None
    codec: str | None = None
    auth_method: str | None = None
    encrypted: bool = False
    conditions: list[str] = field(default_factory=list)  # must hold beyond the configuration
    warnings: list[str] = field(default_factory=list)
    tied: list[str] = field(default_factory=list)  # ambiguous: the sections that tie
    pick: str | None = None  # ambiguous: the one Asterisk 22.10.1 picks today (hash order)
    authdebug: bool = False  # the host logs authdebug lines
    peer_row: dict | None = None  # registration: what `iax2 show peers` shows afterwards

    @property
    def callee_log(self) -> list[Logged]:
        return [line for line in self.logged if line.side == "callee"]

    @property
    def log(self) -> str | None:
        """The line that says it: for a refusal the last line this host logs about it, for an
        accepted call or registration the "Accepting ..." / "Registered ..." line."""
        lines = self.callee_log
        if self.outcome == REJECTED:
            problems = [line for line in lines if line.level != "VERBOSE"]
            if problems:
                return str(problems[-1])
            caller = [line for line in self.logged if line.side == "caller"]
            return str(caller[-1]) if caller else None
        verbose = [line for line in lines if line.level == "VERBOSE"]
        return str(verbose[-1]) if verbose else (str(lines[-1]) if lines else None)

    def explain(self) -> list[str]:
        """The walk in sentences, for people."""
        return [step.text for step in self.steps]

    def to_dict(self) -> dict:
        data = {
            "kind": self.kind,
            "outcome": self.outcome,
            "section": self.section,
            "candidates": [asdict(c) for c in self.candidates],
            "cause": self.cause,
            "cause_code": self.cause_code,
            "log": self.log,
            "log_lines": [{**asdict(line), "text": str(line)} for line in self.logged],
            "fix": asdict(self.fix) if self.fix else None,
            "steps": [asdict(s) for s in self.steps],
            "context": self.context,
            "exten": self.exten,
            "codec": self.codec,
            "auth_method": self.auth_method,
            "encrypted": self.encrypted,
            "conditions": list(self.conditions),
            "warnings": list(self.warnings),
            "tied": list(self.tied),
            "pick": self.pick,
            "authdebug": self.authdebug,
        }
        if self.kind == REGISTRATION:
            data["peer_row"] = self.peer_row
        return data


# ---------------------------------------------------------------------------------------------
# The configuration as chan_iax2 holds it


def ast_str_hash(name: str) -> int:
    """``ast_str_hash`` (include/asterisk/strings.h): djb2 with xor, kept to the positive int range."""
    value = 5381
    for byte in name.encode("utf-8"):
        value = ((value * 33) ^ byte) & 0xFFFFFFFF
    return value & 0x7FFFFFFF


def bucket(name: str) -> int:
    return ast_str_hash(name) % USER_BUCKETS


def _true(value: str | None) -> bool:
    return value is not None and value.strip().lower() in TRUE_WORDS


def _false(value: str | None) -> bool:
    return value is not None and value.strip().lower() in FALSE_WORDS


def _methods(value: str) -> frozenset[str]:
    """``get_auth_methods``: substrings, so "md5,rsa" and "rsamd5" mean the same."""
    return frozenset(m for m in METHODS if m in value)


def _method_list(methods: Collection[str]) -> str:
    return ",".join(m for m in ("md5", "plaintext", "rsa") if m in methods) or "none"


@dataclass
class _General:
    auth: frozenset[str] = frozenset()
    auth_line: str | None = None
    encryption: bool = False
    force_encrypt: bool = False
    codecs: codecs.Codecs = field(default_factory=codecs.Codecs)
    user_first: bool = False
    noprefs: bool = False
    nocap: bool = False
    authdebug: bool = False
    delayreject: bool = False
    calltokenoptional: list[str] = field(default_factory=list)
    maxcallnumbers: int = DEFAULT_MAXCALLNUMBERS
    maxcallnumbers_nonvalidated: int = DEFAULT_MAXCALLNUMBERS_NONVALIDATED
    minregexpire: int = DEFAULT_REGEXPIRE
    maxregexpire: int = DEFAULT_REGEXPIRE


@dataclass
class _Endpoint:
    """The parts of an iax2_user / iax2_peer the walk needs."""

    name: str
    kind: str  # user, peer, friend
    position: int
    entries: list[Entry]
    contexts: list[str] = field(default_factory=list)
    rules: list[acl.Rule] = field(default_factory=list)
    acl_lines: list[str] = field(default_factory=list)
    secret: str = ""
    dbsecret: str = ""
    inkeys: list[str] = field(default_factory=list)
    auth: frozenset[str] = frozenset()
    auth_why: str = ""
    encryption: bool = False
    force_encrypt: bool = False
    codecs: codecs.Codecs = field(default_factory=codecs.Codecs)
    user_first: bool = False
    noprefs: bool = False
    nocap: bool = False
    calltoken: str = "default"  # default, yes, no, auto
    dynamic: bool = False
    host: str | None = None
    qualify: bool = False
    maxauthreq: int = 3

    @property
    def needs_auth(self) -> bool:
        return bool(self.secret or self.dbsecret or self.inkeys)


def _int(value: str, default: int) -> int:
    try:
        return int(value.strip().split()[0])
    except (ValueError, IndexError):
        return default


def _general(document: Document) -> _General:
    general = _General()
    section = document.general
    for entry in section.entries if section is not None else []:
        name, value = entry.name.strip().lower(), entry.value
        lowered = value.strip().lower()
        if name == "auth":
            general.auth, general.auth_line = _methods(value), f"auth={value}"
        elif name == "authdebug":
            general.authdebug = _true(value)
        elif name == "delayreject":
            general.delayreject = _true(value)
        elif name in ("encryption", "forceencryption"):
            _set_encryption(general, name, value)
        elif name == "codecpriority":
            _set_codecpriority(general, lowered)
        elif name == "bandwidth":
            general.codecs.bandwidth(value)
        elif name in ("allow", "disallow"):
            general.codecs.apply(value, name == "allow")
        elif name == "calltokenoptional":
            general.calltokenoptional.append(value.strip())
        elif name == "maxcallnumbers":
            general.maxcallnumbers = _int(value, general.maxcallnumbers)
        elif name == "maxcallnumbers_nonvalidated":
            general.maxcallnumbers_nonvalidated = _int(value, general.maxcallnumbers_nonvalidated)
        elif name == "minregexpire":
            general.minregexpire = _int(value, general.minregexpire)
        elif name == "maxregexpire":
            general.maxregexpire = _int(value, general.maxregexpire)
    general.minregexpire = min(general.minregexpire, general.maxregexpire)
    return general


def _set_encryption(target: _General | _Endpoint, name: str, value: str) -> None:
    """encryption= or forceencryption=, alike in [general] and in a user or peer. A true value or
    aes128 turns encryption on, and nothing turns it off again; encryption= that leaves it off
    turns forcing off. forceencryption=no turns forcing off; any other value forces encryption
    when it is on."""
    turns_on = value.strip().lower() == "aes128" or _true(value)
    if name == "encryption":
        target.encryption |= turns_on
        if not target.encryption:
            target.force_encrypt = False
    elif _false(value):
        target.force_encrypt = False
    else:
        target.encryption |= turns_on
        target.force_encrypt = target.force_encrypt or target.encryption


def _set_codecpriority(target: _General | _Endpoint, lowered: str) -> None:
    target.user_first |= lowered == "caller"
    target.noprefs |= lowered in ("disabled", "reqonly")
    target.nocap |= lowered == "reqonly"


def _endpoint(
    name: str, kind: str, position: int, entries: list[Entry], general: _General, *, user: bool
) -> _Endpoint:
    """``build_user`` (``user=True``) or ``build_peer`` over the effective lines."""
    ep = _Endpoint(name=name, kind=kind, position=position, entries=entries)
    ep.auth = general.auth
    ep.encryption, ep.force_encrypt = general.encryption, general.force_encrypt
    ep.codecs = general.codecs.copy()
    ep.user_first, ep.noprefs, ep.nocap = general.user_first, general.noprefs, general.nocap
    auth_line = general.auth_line and f"{general.auth_line} in [general]"
    secrets: list[str] = []
    for entry in entries:
        key, value = entry.name.strip().lower(), entry.value
        lowered = value.strip().lower()
        if key == "context":
            ep.contexts.append(value.strip()[:79])
        elif key in ("permit", "deny", "acl"):
            ep.rules += acl.rules(key, value)
            ep.acl_lines.append(f"{key}={value}")
        elif key == "secret":
            secrets.append(value)
        elif key == "dbsecret":
            ep.dbsecret = value.strip()
        elif key == "inkeys":
            ep.inkeys = [k.strip() for k in value.split(":") if k.strip()]
        elif key == "auth":
            ep.auth, auth_line = _methods(value), f"auth={value}"
        elif key in ("encryption", "forceencryption"):
            _set_encryption(ep, key, value)
        elif key in ("allow", "disallow") and user:
            ep.codecs.apply(value, key == "allow")
        elif key == "codecpriority" and user:
            _set_codecpriority(ep, lowered)
        elif key == "requirecalltoken":
            if _false(value):
                ep.calltoken = "no"
            elif lowered == "auto":
                ep.calltoken = "auto"
            elif _true(value):
                ep.calltoken = "yes"
        elif key == "host":
            ep.dynamic = lowered == "dynamic"
            ep.host = value.strip()
        elif key == "qualify":
            ep.qualify = _true(value) or (lowered.isdigit() and int(lowered) > 0)
        elif key == "maxauthreq":
            ep.maxauthreq = max(_int(value, 0), 0)
    if user:
        ep.secret = ";".join(s for s in _joined(secrets))
    else:
        ep.secret = secrets[-1] if secrets else ""
    if ep.auth:
        ep.auth_why = auth_line or ""
    elif not user:
        ep.auth, ep.auth_why = frozenset({"md5"}), "no auth= (a peer then takes md5)"
    elif ep.secret:
        ep.auth = frozenset({"md5", "rsa"}) if ep.inkeys else frozenset({"md5"})
        ep.auth_why = "no auth=, a secret" + (" and inkeys" if ep.inkeys else "")
    elif ep.inkeys:
        ep.auth, ep.auth_why = frozenset({"rsa"}), "no auth=, inkeys and no secret"
    else:
        ep.auth, ep.auth_why = frozenset({"md5"}), "no auth= and no secret"
    return ep


def _joined(secrets: list[str]) -> list[str]:
    """``build_user`` joins secret lines with ';' (an empty first line is replaced, not joined)."""
    joined = ""
    for value in secrets:
        joined = f"{joined};{value}" if joined else value
    return [joined] if joined else []


@dataclass
class Site:
    """One host's iax.conf as chan_iax2 holds it after loading (see :func:`site`)."""

    general: _General
    users: list[_Endpoint]  # in chan_iax2's iteration order
    peers: dict[str, _Endpoint]
    sections: dict[str, str]  # lower-cased name -> "peer", "user", "friend", "template", "untyped"
    limits: list[tuple[str, int]]
    keys: Mapping[str, KeyInfo] | None = None
    contexts: frozenset[str] | None = None

    @property
    def users_by_name(self) -> dict[str, _Endpoint]:
        return {u.name: u for u in self.users}


def site(
    document: Document, *, keys: Mapping[str, KeyInfo] | None = None, contexts: Collection[str] | None = None
) -> Site:
    """The users, peers and [general] settings ``set_config`` builds from a normalised document.
    ``keys``: what the key store holds (None: every named key is assumed loaded). ``contexts``:
    the dialplan's contexts (None: not known)."""
    general = _general(document)
    users: list[_Endpoint] = []
    peers: dict[str, _Endpoint] = {}
    sections: dict[str, str] = {}
    limits: list[tuple[str, int]] = []
    for position, (section, entries) in enumerate(zip(document.sections, expansions(document), strict=True)):
        if section.is_callnumberlimits:
            limits += [(e.name.strip(), _int(e.value, -1)) for e in section.entries]
            continue
        if entries is None:
            if section.is_template:
                sections.setdefault(section.name.lower(), "template")
            continue
        kind = next((e.value.strip().lower() for e in entries if e.name.strip().lower() == "type"), "")
        sections.setdefault(section.name.lower(), kind if kind in ("user", "peer", "friend") else "untyped")
        if kind in ("user", "friend"):
            users.append(_endpoint(section.name, kind, position, entries, general, user=True))
        if kind in ("peer", "friend"):
            peers.setdefault(
                section.name, _endpoint(section.name, kind, position, entries, general, user=False)
            )
    users.sort(key=lambda u: (bucket(u.name), u.position))
    return Site(
        general,
        users,
        peers,
        sections,
        [(n, v) for n, v in limits if v >= 0],
        keys,
        frozenset(contexts) if contexts is not None else None,
    )


# ---------------------------------------------------------------------------------------------
# Shared pieces of the walk


@dataclass(frozen=True)
class _Where:
    ip: acl.Address
    port: int

    @property
    def addr(self) -> str:  # ast_sockaddr_stringify_addr
        return str(self.ip)

    @property
    def addr_port(self) -> str:  # ast_sockaddr_stringify
        return f"[{self.ip}]:{self.port}" if self.ip.version == 6 else f"{self.ip}:{self.port}"


def parse_where(address: str) -> _Where:
    text = (address or "").strip()
    port = DEFAULT_PORT
    host = text
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest.startswith(":"):
            port = _port(rest[1:], address)
    elif text.count(":") == 1:
        host, port_text = text.split(":")
        port = _port(port_text, address)
    try:
        ip = acl.parse_address(host)
    except ValueError:
        raise SimulationError(
            "address", address, "is not an IP address (ip, ip:port or [ipv6]:port)"
        ) from None
    return _Where(ip, port)


def _port(text: str, address: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SimulationError("address", address, "has a port that is not a number from 1 to 65535")
    return int(text)


def check(request: Call | Registration) -> None:
    """Raise SimulationError, naming the field, for a parameter the simulator cannot use (what a
    form checks before it asks)."""
    parse_where(request.address)
    _check_methods(request.auth)
    if isinstance(request, Call):
        _check_codecs(request.codecs)


def _check_methods(auth: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if auth is None:
        return None
    words = tuple(w.strip().lower() for w in auth if w.strip())
    for word in words:
        if word not in METHODS:
            raise SimulationError("auth", ",".join(auth), f"'{word}' is not md5, plaintext or rsa")
    return words


def _check_codecs(names: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if names is None:
        return None
    found = tuple(n.strip().lower() for n in names if n.strip())
    for name in found:
        if name not in codecs.AUDIO_BITS:
            raise SimulationError("codecs", ",".join(names), f"'{name}' is not an audio codec IAX2 carries")
    if not found:
        raise SimulationError("codecs", ",".join(names), "names no codec")
    return found


def _calltoken(site: Site, where: _Where, name: str, *, registration: bool) -> tuple[bool, str, Fix | None]:
    """``calltoken_required``: (required, why, fix) for a caller without call-token support."""
    find = name or "guest"
    table = site.peers if registration else site.users_by_name
    what = "peer" if registration else "user"
    endpoint = table.get(find)
    optional = next((r for r in site.general.calltokenoptional if acl.in_range(r, where.ip)), None)
    setting = endpoint.calltoken if endpoint is not None else "default"
    who = f"[{find}]" if endpoint is not None else f"'{find}' (no such {what}, so the default applies)"
    if setting in ("no", "auto"):
        return False, f"{who} has requirecalltoken={setting}", None
    if optional and setting == "default":
        return False, f"{where.addr} is in calltokenoptional={optional}", None
    if setting == "yes":
        why = f"{who} has requirecalltoken=yes" + (
            f", which outranks calltokenoptional={optional}" if optional else ""
        )
    else:
        why = f"{who} has no requirecalltoken= and {where.addr} is in no calltokenoptional range"
    if endpoint is not None:
        fix = Fix(
            f"set requirecalltoken=auto in [{find}] (it then asks for tokens only once the caller "
            "has shown it supports them), or give the caller call-token support",
            find,
            "requirecalltoken",
            "auto",
        )
    else:
        fix = Fix(
            f"add calltokenoptional={where.addr}/32 to [general], or give the caller call-token support",
            "general",
            "calltokenoptional",
            f"{where.addr}/32",
        )
    return True, why, fix


def _call_numbers(site: Site, where: _Where, in_use: int, validated: bool, result: Result) -> bool:
    """``peercnt_add`` and ``get_unused_callno``; False when the call number is refused."""
    matching = [(n, v) for n, v in site.limits if acl.in_range(n, where.ip)]
    if matching:
        network, limit = matching[0]
        source = f"[callnumberlimits] {network} = {limit}"
        if len({v for _, v in matching}) > 1:
            result.warnings.append(
                f"several [callnumberlimits] lines match {where.addr} with different limits "
                f"({', '.join(f'{n} = {v}' for n, v in matching)}); Asterisk uses whichever its hash table "
                "finds first"
            )
        fix = Fix(f"raise the limit of {network} in [callnumberlimits]", "callnumberlimits", None, None)
    else:
        limit = site.general.maxcallnumbers
        source = (
            f"maxcallnumbers={limit}" if limit != DEFAULT_MAXCALLNUMBERS else "maxcallnumbers, by default"
        )
        fix = Fix("raise maxcallnumbers in [general]", "general", "maxcallnumbers", str(max(limit * 2, 1)))
    if in_use >= limit:
        result.steps.append(
            Step(
                "callnumbers",
                False,
                f"{where.addr} may hold {limit} call numbers ({source}) and holds {in_use}: "
                "the call gets none and is refused",
            )
        )
        result.logged.append(
            Logged(
                "ERROR", "chan_iax2.c", f"maxcallnumber limit of {limit} for {where.addr} has been reached!"
            )
        )
        result.fix = fix
        return False
    nonval = site.general.maxcallnumbers_nonvalidated
    if not validated and nonval <= 0:
        result.steps.append(
            Step(
                "callnumbers",
                False,
                f"maxcallnumbers_nonvalidated={nonval}: no call number is left for callers "
                "without a call token",
            )
        )
        result.logged += [
            Logged(
                "WARNING",
                "chan_iax2.c",
                f"NON-CallToken callnumber limit is reached. Current: 0 Max: {nonval}",
            ),
            Logged("WARNING", "chan_iax2.c", "No more space"),
        ]
        result.fix = Fix(
            "raise maxcallnumbers_nonvalidated in [general]",
            "general",
            "maxcallnumbers_nonvalidated",
            str(DEFAULT_MAXCALLNUMBERS_NONVALIDATED),
        )
        return False
    result.steps.append(Step("callnumbers", True, f"{where.addr} may hold {limit} call numbers ({source})"))
    return True


def _reject(result: Result, cause: str | None, fix: Fix | None = None) -> Result:
    # a tie stays ambiguous: today's pick is refused, another of the tied users might not be
    result.outcome = AMBIGUOUS if result.tied else REJECTED
    result.cause = cause
    result.cause_code = CAUSE_CODES.get(cause) if cause else None
    if fix is not None and result.fix is None:
        result.fix = fix
    return result


def _calltoken_refused(
    result: Result, who: str, why: str, where: _Where, name: str, fix: Fix | None
) -> Result:
    """A call or registration refused because it sent no call token where one is required, with
    the ERROR line chan_iax2 logs for it (the same words for both)."""
    result.steps.append(
        Step("calltoken", False, f"{who} does not support call tokens and one is required: {why}")
    )
    result.logged.append(
        Logged(
            "ERROR",
            "chan_iax2.c",
            "Call rejected, CallToken Support required. If unexpected, resolve by placing "
            f"address {where.addr_port} in the calltokenoptional list or setting user "
            f"{name or 'guest'} requirecalltoken=no",
        )
    )
    return _reject(result, None, fix)


def _key_loaded(site: Site, name: str) -> bool:
    if site.keys is None:
        return True
    info = site.keys.get(name)
    return info is not None and info.has_public and info.bits == 1024


def _answer(
    methods: frozenset[str], secret: str | None, key: str | None, offered: tuple[str, ...] | None
) -> str | None:
    """The caller's ``authenticate``: rsa when it has a key and rsa is asked for, else md5, else
    plaintext (with a secret); None when it has no way to answer."""
    can = set(offered) if offered is not None else set(METHODS)
    if key and "rsa" in methods and "rsa" in can:
        return "rsa"
    if secret:
        if "md5" in methods and "md5" in can:
            return "md5"
        if "plaintext" in methods and "plaintext" in can:
            return "plaintext"
    return None


def _cannot_answer(methods: frozenset[str], secret: str | None, key: str | None, offered) -> str:
    have = []
    if secret:
        have.append("a secret")
    if key:
        have.append(f"key '{key}'")
    asked = _method_list(methods)
    if not have:
        return f"it is asked for {asked} and has neither a secret nor a key"
    if offered is not None:
        return f"it is asked for {asked} and implements only {_method_list(offered)}"
    return f"it is asked for {asked} and has only {' and '.join(have)}"


# ---------------------------------------------------------------------------------------------
# Incoming calls


def simulate_call(
    document: Document,
    call: Call,
    *,
    keys: Mapping[str, KeyInfo] | None = None,
    contexts: Collection[str] | None = None,
) -> Result:
    """Walk chan_iax2's handling of an IAX2 NEW from ``call`` (see the module docstring)."""
    return call_on(site(document, keys=keys, contexts=contexts), call)


def call_on(config: Site, call: Call) -> Result:
    """``simulate_call`` on a :class:`Site` already built (several calls on one host)."""
    return _finish(config, _call_on(config, call))


def _finish(config: Site, result: Result) -> Result:
    if result.outcome == REJECTED and result.cause in ("No authority found", "Registration Refused"):
        if config.general.delayreject:
            result.steps.append(
                Step(
                    "reject",
                    False,
                    "delayreject=yes: Asterisk waits a second before it sends the refusal (auth_fail)",
                )
            )
    return result


def _call_on(config: Site, call: Call) -> Result:
    where = parse_where(call.address)
    offered = _check_methods(call.auth)
    wanted_codecs = _check_codecs(call.codecs)
    username = (call.username or "").strip()
    requested_context = (call.context or "").strip()
    exten = (call.exten or "").strip() or "s"
    general = config.general
    result = Result(CALL, exten=exten, authdebug=general.authdebug)

    # handle_call_token
    if call.calltoken:
        result.steps.append(
            Step(
                "calltoken",
                True,
                "The caller supports call tokens: it asks for one and sends "
                "it back, so the call is token-validated",
            )
        )
        user = config.users_by_name.get(username)
        if user is not None and user.calltoken == "auto":
            result.warnings.append(
                f"[{user.name}] has requirecalltoken=auto: after this call Asterisk requires call "
                "tokens from it until the next reload"
            )
    else:
        required, why, fix = _calltoken(config, where, username, registration=False)
        if required:
            return _calltoken_refused(result, "The caller", why, where, username, fix)
        result.steps.append(
            Step("calltoken", True, f"The caller does not support call tokens; none is required: {why}")
        )

    # find_callno -> peercnt_add, get_unused_callno
    if not _call_numbers(config, where, call.calls_in_use, call.calltoken, result):
        return _reject(result, None)

    # check_access
    user = _match(config, where, username, requested_context, result)
    if user is None:
        if username:
            result.steps.append(
                Step(
                    "auth",
                    False,
                    f"No [user] takes username '{username}', so Asterisk sends a challenge that no "
                    "answer can pass (it does not tell a caller which names exist)",
                )
            )
            result.conditions.append(LAST_AUTHMETHOD)
            if _answer(frozenset({"md5"}), call.secret, call.key, offered) is None:
                result.steps.append(
                    Step("auth", False, "The caller cannot even answer that challenge (md5) and hangs up")
                )
                result.logged.append(
                    Logged(
                        "WARNING",
                        "chan_iax2.c",
                        f"I don't know how to authenticate {username} to <this host>",
                        side="caller",
                        exact=False,
                    )
                )
                return _reject(result, None)
            result.logged.append(
                Logged(
                    "WARNING",
                    "chan_iax2.c",
                    f"Host {where.addr_port} failed to authenticate as {username}",
                    authdebug=True,
                )
            )
        else:
            result.logged.append(
                Logged(
                    "NOTICE",
                    "chan_iax2.c",
                    f"Rejected connect attempt from {where.addr_port}, who was trying to reach "
                    f"'{exten}@{requested_context}'",
                    authdebug=True,
                )
            )
        return _reject(result, "No authority found")

    context = requested_context or (user.contexts[0] if user.contexts else DEFAULT_CONTEXT)
    result.context = context
    username = username or user.name

    # socket_process, IAX_COMMAND_NEW
    if not user.secret and not user.dbsecret and user.force_encrypt:
        result.steps.append(
            Step(
                "encryption",
                False,
                f"[{user.name}] forces encryption, whose keys come from the secret, and has no secret",
            )
        )
        result.logged.append(
            Logged(
                "WARNING",
                "chan_iax2.c",
                "Rejected connect attempt.  No secret present while force encrypt enabled.",
            )
        )
        return _reject(
            result,
            "No authority found",
            Fix(f"give [{user.name}] a secret (encryption keys are derived from it)", user.name, "secret"),
        )

    if not user.secret and not user.dbsecret and not user.inkeys:
        result.steps.append(
            Step(
                "auth",
                True,
                f"[{user.name}] has no secret and no inkeys: the call is not authenticated at all",
            )
        )
        if not _extension(config, result, where, context, exten, level="NOTICE"):
            return result
        if not _codec(result, user, wanted_codecs, where, level="NOTICE"):
            return result
        result.logged.append(
            Logged("VERBOSE", "chan_iax2.c", f"Accepting UNAUTHENTICATED call from {where.addr_port}:")
        )
        result.auth_method = "none"
        return _accepted(result, user)

    # authenticate_request: the AUTHREQ
    methods = user.auth
    if methods & {"md5", "rsa"} and user.encryption and call.encryption:
        result.encrypted = True
    text = f"[{user.name}] asks the caller to authenticate with {_method_list(methods)} ({user.auth_why})"
    if user.encryption:
        text += "; it offers AES-128 encryption" + (
            ", which the caller takes" if result.encrypted else ", which the caller does not offer"
        )
    result.steps.append(Step("auth", True, text))
    if result.encrypted and not call.secret:
        result.steps.append(
            Step(
                "encryption",
                False,
                "The caller is asked to encrypt and has no secret to derive the keys from, so it hangs up",
            )
        )
        result.logged.append(
            Logged(
                "WARNING",
                "chan_iax2.c",
                "Call terminated. Encryption requested by peer but no secret available locally",
                side="caller",
            )
        )
        return _reject(result, None, Fix("give the caller the secret of this user", user.name, "secret"))

    used = _answer(methods, call.secret, call.key, offered)
    if used is None:
        why = _cannot_answer(methods, call.secret, call.key, offered)
        result.steps.append(Step("auth", False, f"The caller cannot answer: {why}; it hangs up"))
        if methods == {"rsa"} and not call.key:
            line = "Call terminated. RSA authentication requires an outkey"
        elif call.key and not call.secret and "rsa" not in methods:
            line = "Asked to authenticate to <this host> with an RSA key, but they don't allow RSA authentication"
        else:
            line = f"No way to send secret to peer '<this host>' (their methods: {_bits(methods)})"
        result.logged.append(Logged("WARNING", "chan_iax2.c", line, side="caller", exact="<" not in line))
        return _reject(result, None, _auth_fix(user, call, offered))

    # authenticate_verify
    result.auth_method = used
    ok = _verify(config, user, call, used, result, where, username)
    if not ok:
        result.logged.append(
            Logged(
                "WARNING",
                "chan_iax2.c",
                f"Host {where.addr_port} failed to authenticate as {username}",
                authdebug=True,
            )
        )
        return _reject(result, "No authority found")
    if not _extension(config, result, where, context, exten, level="WARNING"):
        return result
    if not _codec(result, user, wanted_codecs, where, level="WARNING"):
        return result
    result.logged.append(
        Logged("VERBOSE", "chan_iax2.c", f"Accepting AUTHENTICATED call from {where.addr_port}:")
    )
    if used == "plaintext":
        result.warnings.append(
            "the secret crossed the network in clear text (auth=plaintext); use md5 or rsa"
        )
    return _accepted(result, user)


def _bits(methods: Collection[str]) -> int:
    return (
        (1 if "plaintext" in methods else 0) | (2 if "md5" in methods else 0) | (4 if "rsa" in methods else 0)
    )


def _auth_fix(user: _Endpoint, call: Call, offered) -> Fix:
    can = set(offered) if offered is not None else set(METHODS)
    if call.key and "rsa" in can:
        return Fix(
            f"add rsa to auth= of [{user.name}] (with the caller's key in inkeys)",
            user.name,
            "auth",
            _method_list(user.auth | {"rsa"}),
        )
    if call.secret and "md5" in can:
        return Fix(
            f"let [{user.name}] accept md5: auth={_method_list((user.auth - {'plaintext'}) | {'md5'})}",
            user.name,
            "auth",
            _method_list((user.auth - {"plaintext"}) | {"md5"}),
        )
    if call.secret and "plaintext" in can:
        return Fix(
            f"the caller only sends plaintext; let [{user.name}] accept it (auth=plaintext is insecure)",
            user.name,
            "auth",
            _method_list(user.auth | {"plaintext"}),
        )
    return Fix("give the caller this user's secret or a key from its inkeys", user.name, "secret")


def _verify(
    config: Site, user: _Endpoint, call: Call, used: str, result: Result, where: _Where, username: str
) -> bool:
    """``authenticate_verify`` for the answer ``used``."""
    methods = user.auth
    if user.force_encrypt and not result.encrypted:
        result.steps.append(
            Step("encryption", False, f"[{user.name}] forces encryption and the caller does not encrypt")
        )
        result.logged.append(
            Logged(
                "WARNING",
                "chan_iax2.c",
                "Call Terminated, incoming call is unencrypted while force encrypt is enabled.",
            )
        )
        result.fix = Fix(
            "the caller must offer encryption (encryption=yes on its side), or drop forceencryption "
            f"from [{user.name}]",
            user.name,
            "forceencryption",
            "no",
        )
        return False
    if "rsa" in methods and used == "rsa" and user.inkeys:
        for name in user.inkeys:
            loaded = _key_loaded(config, name)
            if loaded and name == call.key:
                result.steps.append(
                    Step(
                        "auth",
                        True,
                        f"The caller signs with key '{name}', which is in inkeys of [{user.name}]",
                    )
                )
                return True
            if not loaded:
                result.logged.append(
                    Logged(
                        "WARNING",
                        "chan_iax2.c",
                        f"Requested inkey '{name}' for RSA authentication does not exist",
                    )
                )
        result.steps.append(
            Step(
                "auth",
                False,
                f"The caller signs with key '{call.key}', and none of inkeys="
                f"{':'.join(user.inkeys)} of [{user.name}] verifies it",
            )
        )
        result.logged.append(
            Logged(
                "WARNING", "chan_iax2.c", "No RSA public keys on file matched incoming call", authdebug=True
            )
        )
        result.fix = Fix(
            f"add the caller's key '{call.key}' to inkeys of [{user.name}]",
            user.name,
            "inkeys",
            ":".join([*user.inkeys, call.key or ""]),
        )
        return False
    if "md5" in methods:
        if user.dbsecret and not user.secret:
            result.conditions.append(
                f"the AstDB entry {user.dbsecret} (dbsecret of [{user.name}]) must hold the caller's secret"
            )
            result.steps.append(
                Step(
                    "auth",
                    None,
                    "The secret is read from the AstDB at call time; whether it "
                    "matches cannot be told from iax.conf",
                )
            )
            return True
        parts = user.secret.split(";")
        for part in parts:
            if used == "md5" and part == call.secret:
                result.steps.append(
                    Step("auth", True, f"The caller's MD5 answer matches the secret of [{user.name}]")
                )
                return True
            result.logged.append(Logged("WARNING", "chan_iax2.c", "MD5 secret mismatch", authdebug=True))
        why = "its MD5 answer does not match" if used == "md5" else f"it answered with {used}, not md5"
        result.steps.append(
            Step("auth", False, f"The caller's answer fails: {why} the secret of [{user.name}]")
        )
        result.fix = Fix(
            f"give the caller the secret of [{user.name}], or change secret= there", user.name, "secret"
        )
        return False
    if "plaintext" in methods:
        if used == "plaintext" and call.secret == user.secret:
            result.steps.append(Step("auth", True, f"The caller's plaintext secret matches [{user.name}]"))
            return True
        result.logged.append(Logged("WARNING", "chan_iax2.c", "Plaintext secret mismatch", authdebug=True))
        result.steps.append(
            Step("auth", False, f"The caller's plaintext secret does not match [{user.name}]")
        )
        result.fix = Fix(
            f"give the caller the secret of [{user.name}], or change secret= there", user.name, "secret"
        )
        return False
    result.steps.append(
        Step(
            "auth",
            False,
            f"[{user.name}] accepts {_method_list(methods)} and the caller answered with {used}",
        )
    )
    return False


def _match(config: Site, where: _Where, username: str, context: str, result: Result) -> _Endpoint | None:
    """``check_access``: the candidates, their scores and the winner."""
    best: _Endpoint | None = None
    best_score = 0
    scores: dict[str, int] = {}
    for user in config.users:
        if username and user.name != username:
            continue
        reasons: list[str] = []
        verdict = acl.evaluate(user.rules, where.ip)
        if not user.rules:
            reasons.append("it has no permit/deny lines, so every address may use it")
        else:
            reasons.append(verdict.explain(where.ip))
        if not verdict.allowed:
            result.logged.append(
                Logged(
                    "NOTICE",
                    "acl.c",
                    f"IAX2 user ACL: Rejecting '{where.addr}' due to a failure to pass ACL '(BASELINE)'",
                )
            )
            result.candidates.append(Candidate(user.name, user.kind, False, reasons))
            if username:
                result.fix = Fix(
                    f"add permit={where.addr}/32 as the last permit/deny line of [{user.name}] (the "
                    "last matching line decides)",
                    user.name,
                    "permit",
                    f"{where.addr}/32",
                )
            continue
        if verdict.unknown:
            result.conditions.append(
                f"the named ACL(s) {', '.join(verdict.unknown)} of [{user.name}] must admit "
                f"{where.addr} (acl.conf is not known to iaxadmin)"
            )
        if context and not any(c == context or c == "*" for c in user.contexts):
            listed = (
                ", ".join(user.contexts)
                if user.contexts
                else "none (without context= lines no requested context "
            )
            "is permitted)"
            reasons.append(
                f"the caller asks for context '{context}', which is not in its context list ({listed})"
            )
            result.candidates.append(Candidate(user.name, user.kind, False, reasons))
            if username:
                result.fix = Fix(
                    f"add context={context} to [{user.name}] (a context the caller may ask for), or "
                    "let the caller ask for none",
                    user.name,
                    "context",
                    context,
                )
            continue
        if context:
            reasons.append(f"the context '{context}' it asks for is permitted")
        if username:
            reasons.append(f"the caller sends username '{username}': an exact match ends the search")
            result.candidates.append(Candidate(user.name, user.kind, True, reasons, None, True))
            result.section = user.name
            result.steps.append(
                Step(
                    "match",
                    True,
                    f"[{user.name}] takes the call: the username matches, the address "
                    f"is admitted{' and the context is permitted' if context else ''}",
                )
            )
            return user
        if not user.needs_auth:
            score = 4 if user.rules else 3
            reasons.append(
                "no secret or inkeys"
                + (
                    " and its permit/deny lines admit the address: score 4"
                    if user.rules
                    else " and no permit/deny lines: score 3"
                )
            )
        else:
            score = 2 if user.rules else 1
            reasons.append(
                "it needs authentication"
                + (
                    " and its permit/deny lines admit the address: score 2"
                    if user.rules
                    else " and has no permit/deny lines: score 1"
                )
            )
        scores[user.name] = score
        result.candidates.append(Candidate(user.name, user.kind, True, reasons, score))
        if score > best_score:
            best, best_score = user, score
    if username:
        _no_such_user(config, username, result)
        return None
    if best is None:
        result.steps.append(
            Step(
                "match",
                False,
                "No [user] section admits this caller" + (" and the context it asks for" if context else ""),
            )
        )
        result.fix = _no_candidate_fix(config, where, context)
        return None
    tied = [c.section for c in result.candidates if c.included and c.score == best_score]
    for candidate in result.candidates:
        candidate.chosen = candidate.section == best.name
    if len(tied) > 1:
        result.outcome = AMBIGUOUS
        result.tied = tied
        result.pick = best.name
        result.steps.append(
            Step(
                "match",
                None,
                f"No username is sent and {len(tied)} users tie with score {best_score}: "
                f"{', '.join(f'[{t}]' for t in tied)}. Asterisk takes the first in its hash table's "
                f"order, which is [{best.name}] in Asterisk 22.10.1 today, but a rename or another "
                "version can change it",
            )
        )
        if best_score % 2:  # no permit/deny lines: one ACL line lifts the user that should win
            result.fix = Fix(
                f"give the caller a username, or add permit={where.addr}/32 to the user that should take "
                f"these calls (a user with permit/deny lines outranks one without), e.g. [{best.name}]",
                best.name,
                "permit",
                f"{where.addr}/32",
            )
        else:
            other = next(t for t in tied if t != best.name)
            result.fix = Fix(
                f"give the caller a username, or add deny={where.addr}/32 at the end of every tied user "
                f"that should not take these calls, e.g. [{other}]",
                other,
                "deny",
                f"{where.addr}/32",
            )
    else:
        result.section = best.name
        result.steps.append(
            Step(
                "match",
                True,
                f"No username is sent; [{best.name}] has the best score "
                f"({best_score}) of {len(scores)} candidate(s)",
            )
        )
    return best


def _no_such_user(config: Site, username: str, result: Result) -> None:
    named = next((c for c in result.candidates if c.section == username), None)
    if named is not None:
        result.steps.append(Step("match", False, f"[{username}] does not take the call: {named.reasons[-1]}"))
        return
    kind = config.sections.get(username.lower())
    other = next((u.name for u in config.users if u.name.lower() == username.lower()), None)
    if kind == "peer" and other is None:
        text = f"[{username}] is type=peer, and a peer never takes incoming calls"
        result.candidates.append(
            Candidate(
                username,
                "peer",
                False,
                ["type=peer sections place calls and register; incoming calls need type=user or friend"],
            )
        )
        result.fix = Fix(f"make [{username}] type=friend", username, "type", "friend")
    elif other is not None:
        text = f"No [user] is named exactly '{username}' (names are compared with case: [{other}] differs)"
        result.fix = Fix(f"the caller must send username '{other}'")
    else:
        text = f"No [user] or [friend] is named '{username}'"
        result.fix = Fix(f"add a [{username}] user (type=user or friend), or correct the caller's username")
    result.steps.append(Step("match", False, text))


def _no_candidate_fix(config: Site, where: _Where, context: str) -> Fix:
    if context:
        return Fix(f"send a username, or add context={context} to the user that should take the call")
    return Fix(f"send a username, or add a user without a secret that admits {where.addr}")


def _extension(config: Site, result: Result, where: _Where, context: str, exten: str, *, level: str) -> bool:
    """``ast_exists_extension``: refused for sure when the dialplan is known to lack the context."""
    if exten == "TBD":
        result.steps.append(
            Step("dialplan", True, "The caller asks for extension TBD: the number follows later")
        )
        return True
    if config.contexts is None:
        result.conditions.append(f"extension '{exten}' must exist in context '{context}' of the dialplan")
        result.steps.append(
            Step(
                "dialplan",
                None,
                f"The call goes to {exten}@{context}; iaxadmin does not know this "
                "host's dialplan (upload extensions.conf or let the agent report it)",
            )
        )
        return True
    if context not in config.contexts:
        result.steps.append(
            Step(
                "dialplan",
                False,
                f"The call goes to {exten}@{context}, and the dialplan has no context '{context}'",
            )
        )
        result.logged.append(
            Logged(
                level,
                "chan_iax2.c",
                f"Rejected connect attempt from {where.addr_port}, request "
                f"'{exten}@{context}' does not exist",
                authdebug=True,
            )
        )
        section = result.section or result.pick
        _reject(
            result,
            "No such context/extension",
            Fix(f"point context= of [{section}] at a context the dialplan defines", section, "context", None)
            if section
            else None,
        )
        return False
    result.conditions.append(
        f"extension '{exten}' must exist in context '{context}' (the dialplan has the "
        "context; iaxadmin does not know its extensions)"
    )
    result.steps.append(
        Step("dialplan", True, f"The call goes to {exten}@{context}; the dialplan has that context")
    )
    return True


def _codec(
    result: Result, user: _Endpoint, wanted: tuple[str, ...] | None, where: _Where, *, level: str
) -> bool:
    """The format choice of ``socket_process`` (NEW for unauthenticated calls, AUTHREP otherwise)."""
    capability = user.codecs.capability
    prefs = user.codecs.prefs
    priority = (
        "reqonly" if user.nocap else "disabled" if user.noprefs else "caller" if user.user_first else "host"
    )
    if wanted is None:
        chosen = codecs.choose(prefs, capability)
        if chosen is None:
            result.steps.append(Step("codec", False, f"[{user.name}] allows no codec at all"))
            result.logged.append(
                Logged(
                    level,
                    "chan_iax2.c",
                    f"Rejected connect attempt from {where.addr_port}, "
                    "requested/capability '<format>'/'<formats>' incompatible with our capability "
                    "'(nothing)'.",
                    authdebug=True,
                    exact=False,
                )
            )
            _reject(
                result,
                "Unable to negotiate codec",
                Fix(f"allow a codec in [{user.name}]", user.name, "allow", "ulaw"),
            )
            return False
        result.codec = chosen
        result.conditions.append(f"the caller must offer one of {codecs.names(capability)}")
        result.steps.append(
            Step(
                "codec",
                None,
                f"The caller's codecs are not given: if it takes any, {chosen} is "
                f"chosen ([{user.name}] prefers {', '.join(prefs[:4])}{'...' if len(prefs) > 4 else ''})",
            )
        )
        return True
    peerformat, peercapability = wanted[0], frozenset(wanted)
    joint = capability & peercapability
    if user.noprefs:
        chosen = peerformat if peerformat in capability else None
    else:
        pref = list(wanted) if user.user_first else prefs
        chosen = codecs.choose(pref, joint)
    if chosen is None and not user.nocap and joint:
        if user.noprefs:
            chosen = codecs.best(joint)
        else:
            chosen = codecs.choose(prefs if user.user_first else list(wanted), joint)
    if chosen is None:
        if user.nocap:
            message = (
                f"Rejected connect attempt from {where.addr_port}, requested '{codecs.names({peerformat})}' "
                f"incompatible with our capability '{codecs.names(capability)}'."
            )
        else:
            message = (
                f"Rejected connect attempt from {where.addr_port}, requested/capability "
                f"'{codecs.names({peerformat})}'/'{codecs.names(peercapability)}' incompatible with our "
                f"capability '{codecs.names(capability)}'."
            )
        result.logged.append(Logged(level, "chan_iax2.c", message, authdebug=True))
        what = "its first codec" if user.nocap else "any of its codecs"
        result.steps.append(
            Step(
                "codec",
                False,
                f"The caller offers {', '.join(wanted)} and [{user.name}] (codecpriority="
                f"{priority}) allows {', '.join(prefs) or 'nothing'}: {what} is not allowed",
            )
        )
        _reject(
            result,
            "Unable to negotiate codec",
            Fix(f"allow {peerformat} in [{user.name}]", user.name, "allow", peerformat),
        )
        return False
    result.codec = chosen
    result.steps.append(
        Step(
            "codec",
            True,
            f"Codec {chosen} (codecpriority={priority}: "
            f"{'the caller' if user.user_first and not user.noprefs else 'this host'} chooses)",
        )
    )
    return True


def _accepted(result: Result, user: _Endpoint) -> Result:
    if result.outcome != AMBIGUOUS:
        result.outcome = ACCEPTED
        result.section = user.name
    how = (
        "authenticated with " + METHOD_LABELS[result.auth_method]
        if result.auth_method not in (None, "none")
        else "unauthenticated"
    )
    result.steps.append(
        Step(
            "accept",
            True,
            f"Accepted ({how}{', encrypted' if result.encrypted else ''}) by "
            f"[{user.name}] into {result.exten}@{result.context}",
        )
    )
    return result


# ---------------------------------------------------------------------------------------------
# Registrations


def simulate_registration(
    document: Document,
    registration: Registration,
    *,
    keys: Mapping[str, KeyInfo] | None = None,
    contexts: Collection[str] | None = None,
) -> Result:
    """Walk ``register_verify`` for ``registration`` (see the module docstring)."""
    return register_on(site(document, keys=keys, contexts=contexts), registration)


def register_on(config: Site, reg: Registration) -> Result:
    """``simulate_registration`` on a :class:`Site` already built."""
    return _finish(config, _register_on(config, reg))


def _register_on(config: Site, reg: Registration) -> Result:
    where = parse_where(reg.address)
    offered = _check_methods(reg.auth)
    name = (reg.peer or "").strip()
    secret = None if reg.key else reg.secret  # "peer:[key]@host" signs; it has no secret then
    result = Result(REGISTRATION, authdebug=config.general.authdebug)

    if reg.calltoken:
        result.steps.append(Step("calltoken", True, "The registering box supports call tokens"))
    else:
        required, why, fix = _calltoken(config, where, name, registration=True)
        if required:
            return _calltoken_refused(result, "The registering box", why, where, name, fix)
        result.steps.append(Step("calltoken", True, f"No call token is required: {why}"))
    if not _call_numbers(config, where, 0, reg.calltoken, result):
        return _reject(result, None)

    if not name:
        result.steps.append(Step("register", False, "The registration names no peer"))
        result.logged.append(Logged("NOTICE", "chan_iax2.c", f"Empty registration from {where.addr}"))
        return _reject(result, "Registration Refused")

    peer = config.peers.get(name)
    if peer is None:
        kind = config.sections.get(name.lower())
        if kind == "user":
            why = f"[{name}] is type=user: only peers and friends can register"
            fix = Fix(f"make [{name}] type=friend (with host=dynamic)", name, "type", "friend")
        else:
            other = next((p for p in config.peers if p.lower() == name.lower()), None)
            why = (
                f"there is no peer named exactly '{name}' (names are compared with case: [{other}] differs)"
                if other
                else f"there is no peer or friend named '{name}'"
            )
            fix = Fix(f"add a [{name}] peer with host=dynamic, or correct the name in the register line")
        result.candidates.append(Candidate(name, kind or "none", False, [why]))
        result.steps.append(Step("register", False, why[0].upper() + why[1:]))
        line = Logged(
            "NOTICE", "chan_iax2.c", f"No registration for peer '{name}' (from {where.addr})", authdebug=True
        )
        result.conditions.append(LAST_AUTHMETHOD)
        # the fake REGAUTH: a box that answers it is refused; one that cannot never hears back
        if _answer(frozenset({"md5"}), secret, reg.key, offered) is None:
            result.logged.append(line)
            return _reject(result, None, fix)
        result.logged += [line, line]
        return _reject(result, "Registration Refused", fix)

    reasons: list[str] = []
    result.candidates.append(Candidate(peer.name, peer.kind, True, reasons))
    if not peer.dynamic:
        reasons.append(f"host={peer.host or '(none)'}: only host=dynamic peers register")
        result.candidates[-1].included = False
        return _registration_refused(
            result,
            Step("register", False, f"[{peer.name}] has host={peer.host or '(none)'}, not host=dynamic"),
            f"Peer '{peer.name}' is not dynamic (from {where.addr})",
            Fix(f"set host=dynamic in [{peer.name}]", peer.name, "host", "dynamic"),
        )
    reasons.append("host=dynamic")
    verdict = acl.evaluate(peer.rules, where.ip)
    reasons.append(
        verdict.explain(where.ip) if peer.rules else "no permit/deny lines: every address may register"
    )
    if not verdict.allowed:
        result.candidates[-1].included = False
        result.logged.append(
            Logged(
                "NOTICE",
                "acl.c",
                f"IAX2 Peer ACL: Rejecting '{where.addr}' due to a failure to pass ACL '(BASELINE)'",
            )
        )
        return _registration_refused(
            result,
            Step("register", False, f"[{peer.name}]: {verdict.explain(where.ip)}"),
            f"Host {where.addr} denied access to register peer '{peer.name}'",
            Fix(
                f"add permit={where.addr}/32 as the last permit/deny line of [{peer.name}]",
                peer.name,
                "permit",
                f"{where.addr}/32",
            ),
        )
    if verdict.unknown:
        result.conditions.append(f"the named ACL(s) {', '.join(verdict.unknown)} must admit {where.addr}")
    result.candidates[-1].chosen = True
    result.section = peer.name  # the peer that takes the registration, whether it then authenticates

    if not peer.secret and not peer.inkeys:
        result.steps.append(
            Step(
                "register",
                True,
                f"[{peer.name}] has no secret and no inkeys: it registers without any authentication",
            )
        )
        result.warnings.append(
            f"anyone {'whose address the permit/deny lines admit ' if peer.rules else ''}may register as [{peer.name}] "
            "and receive its calls: give it a secret (or inkeys)"
        )
        result.auth_method = "none"
        return _registered(config, result, peer, where, reg, authenticated=False)

    methods = peer.auth
    result.steps.append(
        Step("auth", True, f"[{peer.name}] asks for {_method_list(methods)} ({peer.auth_why})")
    )
    used = _answer(methods, secret, reg.key, offered)
    if used is None:
        why = _cannot_answer(methods, secret, reg.key, offered)
        result.steps.append(Step("auth", False, f"The registering box cannot answer: {why}"))
        if reg.key:
            line = "Asked to authenticate to <this host> with an RSA key, but they don't allow RSA authentication"
        elif not secret:
            line = f"No secret associated with peer '{name}'"
        else:
            line = f"No way to send secret to peer '<this host>' (their methods: {_bits(methods)})"
        result.logged.append(
            Logged(
                "NOTICE" if not secret and not reg.key else "WARNING",
                "chan_iax2.c",
                line,
                side="caller",
                exact="<" not in line,
            )
        )
        return _reject(result, None, _peer_auth_fix(peer, reg, offered))
    result.auth_method = used
    if used == "rsa":
        if not peer.inkeys:
            return _registration_refused(
                result,
                Step("auth", False, f"[{peer.name}] has no inkeys to check the signature with"),
                f"Host '{name}' trying to do RSA authentication, but we have no inkeys",
                Fix(f"add inkeys={reg.key} to [{peer.name}]", peer.name, "inkeys", reg.key),
            )
        for key in peer.inkeys:
            loaded = _key_loaded(config, key)
            if loaded and key == reg.key:
                result.steps.append(Step("auth", True, f"The signature verifies with key '{key}'"))
                return _registered(config, result, peer, where, reg, authenticated=True)
            if not loaded:
                result.logged.append(
                    Logged("WARNING", "chan_iax2.c", f"requested inkey '{key}' does not exist")
                )
        return _registration_refused(
            result,
            Step("auth", False, f"Key '{reg.key}' is not among inkeys={':'.join(peer.inkeys)}"),
            f"Host {name} failed RSA authentication with inkeys '{':'.join(peer.inkeys)}'",
            Fix(
                f"add '{reg.key}' to inkeys of [{peer.name}]",
                peer.name,
                "inkeys",
                ":".join([*peer.inkeys, reg.key or ""]),
            ),
        )
    if used == "md5":
        if secret in peer.secret.split(";"):
            result.steps.append(Step("auth", True, f"The MD5 answer matches the secret of [{peer.name}]"))
            return _registered(config, result, peer, where, reg, authenticated=True)
        return _registration_refused(
            result,
            Step("auth", False, f"The MD5 answer does not match the secret of [{peer.name}]"),
            f"Host {where.addr} failed MD5 authentication for '{peer.name}' (<expected> != <received>)",
            Fix(
                f"use the secret of [{peer.name}] in the register line, or change secret= there",
                peer.name,
                "secret",
            ),
            exact=False,
        )
    if secret == peer.secret:
        result.steps.append(Step("auth", True, f"The plaintext secret matches [{peer.name}]"))
        result.warnings.append(
            "the secret crossed the network in clear text (auth=plaintext); use md5 or rsa"
        )
        return _registered(config, result, peer, where, reg, authenticated=True)
    return _registration_refused(
        result,
        Step("auth", False, f"The plaintext secret does not match [{peer.name}]"),
        f"Host {where.addr} did not provide proper plaintext password for '{peer.name}'",
        Fix(f"use the secret of [{peer.name}] in the register line", peer.name, "secret"),
    )


def _registration_refused(result: Result, step: Step, notice: str, fix: Fix, *, exact: bool = True) -> Result:
    """A registration chan_iax2 refuses: the step that fails, the NOTICE it logs (with
    authdebug=yes) and what would fix it."""
    result.steps.append(step)
    result.logged.append(Logged("NOTICE", "chan_iax2.c", notice, authdebug=True, exact=exact))
    return _reject(result, "Registration Refused", fix)


def _peer_auth_fix(peer: _Endpoint, reg: Registration, offered) -> Fix:
    can = set(offered) if offered is not None else set(METHODS)
    if reg.key and "rsa" in can:
        return Fix(
            f"add rsa to auth= of [{peer.name}] (and the key to inkeys)",
            peer.name,
            "auth",
            _method_list(peer.auth | {"rsa"}),
        )
    if reg.secret and "md5" in can:
        return Fix(f"let [{peer.name}] accept md5", peer.name, "auth", _method_list(peer.auth | {"md5"}))
    return Fix(
        f"put the secret of [{peer.name}] (or a key from its inkeys) in the register line",
        peer.name,
        "secret",
    )


def _registered(
    config: Site, result: Result, peer: _Endpoint, where: _Where, reg: Registration, *, authenticated: bool
) -> Result:
    general = config.general
    expiry = reg.refresh or general.minregexpire
    if expiry > general.maxregexpire:
        result.logged.append(
            Logged(
                "NOTICE",
                "chan_iax2.c",
                f"Restricting registration for peer '{peer.name}' to "
                f"{general.maxregexpire} seconds (requested {expiry})",
            )
        )
        expiry = general.maxregexpire
    elif expiry < general.minregexpire:
        result.logged.append(
            Logged(
                "NOTICE",
                "chan_iax2.c",
                f"Restricting registration for peer '{peer.name}' to "
                f"{general.minregexpire} seconds (requested {expiry})",
            )
        )
        expiry = general.minregexpire
    how = "AUTHENTICATED" if authenticated else "UNAUTHENTICATED"
    result.logged.append(
        Logged("VERBOSE", "chan_iax2.c", f"Registered IAX2 '{peer.name}' ({how}) at {where.addr_port}")
    )
    result.outcome = ACCEPTED
    result.section = peer.name
    result.peer_row = {
        "name": peer.name,
        "host": where.addr,
        "dynamic": True,
        "port": str(where.port),
        "status": "UNKNOWN" if peer.qualify else "Unmonitored",
        "expiry": expiry,
    }
    result.steps.append(
        Step(
            "register",
            True,
            f"[{peer.name}] is registered at {where.addr_port} for {expiry} s; "
            f"`iax2 show peers` shows it at {where.addr} port {where.port} (D)",
        )
    )
    return result
