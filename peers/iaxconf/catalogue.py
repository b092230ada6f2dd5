"""The directive catalogue: every name chan_iax2 (Asterisk 22.10.1) reads, where, and how.

The facts come from ``data/iax-directives.json`` (see ``data/PROVENANCE.md``). This module adds
what the project decides on top of them, in one place:

* the value rule of each directive (``RULES``, functions from :mod:`values`);
* the form group each directive is shown in (``GROUPS``);
* the order directives are rendered in (``RENDER_ORDER``): Asterisk needs ``host`` before
  ``port``, ``bandwidth`` before codecs, ``bindport`` before ``bindaddr`` and ``srvlookup``
  before ``register``; directives that must keep their relative order (allow/disallow,
  permit/deny) share one place in the order and keep their own sequence;
* names that belong to other Asterisk modules (``FOREIGN``), so an import can say where a
  stray ``insecure=`` or ``md5secret=`` came from.
"""

from __future__ import annotations

import difflib
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from . import values as v

DATA_FILE = Path(__file__).with_name("data") / "iax-directives.json"

GENERAL = "general"
PEER = "peer"
USER = "user"
FRIEND = "friend"
SECTION_TYPES = (PEER, USER, FRIEND)


def placements_for(section_type: str) -> frozenset[str]:
    """The catalogue section kinds a section type reads: a friend reads both peer and user names."""
    if section_type == FRIEND:
        return frozenset({PEER, USER})
    return frozenset({section_type})


RULES: dict[str, v.Rule] = {
    "accountcode": v.text(79),
    "acl": v.acl_names,
    "adsi": v.boolean,
    "allow": v.codec_list,
    "allowfwdownload": v.boolean,
    "amaflags": v.choice("default", "omit", "billing", "documentation"),
    "auth": v.auth_methods,
    "authdebug": v.boolean,
    "autokill": v.bool_or_int,
    "bandwidth": v.choice("low", "medium", "high"),
    "bindaddr": v.ip_with_port,
    "bindport": v.integer(1024, 65535),
    "callerid": v.callerid,
    "calltokenexpiration": v.integer(1, None),
    "calltokenoptional": v.calltoken_network,
    "cid_number": v.text(79),
    "codecpriority": v.choice("caller", "host", "disabled", "reqonly"),
    "connectedline": v.bool_or("send", "receive", otherwise="Asterisk then neither sends nor receives it"),
    "context": v.text(
        79, pattern=v.CONTEXT_RE, what="a dialplan context name (no spaces, ',', '[', ']' or '=')"
    ),
    "cos": v.integer(0, 7),
    "dbsecret": v.dbsecret,
    "defaultip": v.hostname_or_ip,
    "delayreject": v.boolean,
    "deny": v.acl_entries,
    "description": v.text(79),
    "disallow": v.codec_list_or_nothing,
    "encryption": v.bool_or("aes128", otherwise="Asterisk reads anything else as no"),
    "forceencryption": v.bool_or("aes128", otherwise="Asterisk reads anything else as no"),
    "fullname": v.text(79),
    "hasvoicemail": v.boolean,
    "host": v.peer_host,
    "iaxcompat": v.boolean,
    "iaxmaxthreadcount": v.integer(0, 256),
    "iaxthreadcount": v.integer(1, 256),
    "immediate": v.boolean,
    "inkeys": v.key_names,
    "jitterbuffer": v.boolean,
    "jittertargetextra": v.integer(0, None),
    "lagrqtime": v.integer(1, None),
    "language": v.text(39, pattern=v.WORD_RE, what="a language tag such as en or pt_BR"),
    "mailbox": v.mailbox,
    "mask": v.netmask,
    "maxauthreq": v.integer(0, None),
    "maxcallnumbers": v.integer(0, 65535),
    "maxcallnumbers_nonvalidated": v.integer(0, 65535),
    "maxjitterbuffer": v.integer(0, None),
    "maxjitterinterps": v.integer(0, None),
    "maxregexpire": v.integer(1, None),
    "minregexpire": v.integer(1, None),
    "mohinterpret": v.text(79, pattern=v.WORD_RE, what="a music-on-hold class name"),
    "mohsuggest": v.text(79, pattern=v.WORD_RE, what="a music-on-hold class name"),
    "nochecksums": v.boolean,
    "outkey": v.key_name,
    "parkinglot": v.text(79, pattern=v.WORD_RE, what="a parking lot name"),
    "peercontext": v.text(79, pattern=v.CONTEXT_RE, what="a dialplan context name"),
    "permit": v.acl_entries,
    "pingtime": v.integer(1, None),
    "port": v.integer(0, 65535),
    "qualify": v.qualify,
    "qualifyfreqnotok": v.integer(1, None),
    "qualifyfreqok": v.integer(1, None),
    "qualifysmoothing": v.boolean,
    "regcontext": v.text(79, pattern=v.CONTEXT_RE, what="a dialplan context name"),
    "regexten": v.regexten,
    "register": v.register_line,
    "requirecalltoken": v.bool_or("auto", otherwise="Asterisk warns and keeps the default"),
    "resyncthreshold": v.integer(-1, None),
    "rtautoclear": v.bool_or_int,
    "rtcachefriends": v.boolean,
    "rtignoreregexpire": v.boolean,
    "rtsavesysname": v.boolean,
    "rtupdate": v.boolean,
    "secret": v.secret,
    "sendani": v.boolean,
    "setvar": v.setvar,
    "shrinkcallerid": v.boolean,
    "sourceaddress": v.source_address,
    "srvlookup": v.boolean,
    "subscribe_network_change_event": v.boolean,
    "timezone": v.timezone,
    "tos": v.tos,
    "transfer": v.bool_or("mediaonly", otherwise="Asterisk reads anything else as no"),
    "trunk": v.boolean,
    "trunkfreq": v.integer(10, 1000),
    "trunkmaxsize": v.integer(0, None),
    "trunkmtu": v.integer(172, 3999, also=(0,)),
    "trunktimestamps": v.boolean,
    "type": v.choice("peer", "user", "friend"),
    "username": v.text(79, pattern=v.WORD_RE, what="a user name (letters, digits, _ . + -)"),
}

GROUPS: dict[str, tuple[str, ...]] = {
    "identity": (
        "type",
        "description",
        "username",
        "callerid",
        "fullname",
        "cid_number",
        "accountcode",
        "language",
        "timezone",
        "mailbox",
        "hasvoicemail",
        "regexten",
        "amaflags",
    ),
    "network": (
        "bindport",
        "bindaddr",
        "iaxthreadcount",
        "iaxmaxthreadcount",
        "host",
        "defaultip",
        "port",
        "sourceaddress",
        "mask",
        "tos",
        "cos",
        "srvlookup",
        "nochecksums",
        "qualify",
        "qualifysmoothing",
        "qualifyfreqok",
        "qualifyfreqnotok",
        "permit",
        "deny",
        "acl",
        "pingtime",
        "lagrqtime",
        "autokill",
        "subscribe_network_change_event",
    ),
    "authentication": (
        "auth",
        "secret",
        "dbsecret",
        "inkeys",
        "outkey",
        "encryption",
        "forceencryption",
        "maxauthreq",
        "authdebug",
        "delayreject",
        "register",
        "minregexpire",
        "maxregexpire",
        "regcontext",
    ),
    "dialplan": (
        "context",
        "peercontext",
        "immediate",
        "setvar",
        "parkinglot",
        "mohinterpret",
        "mohsuggest",
        "adsi",
        "connectedline",
        "sendani",
        "shrinkcallerid",
        "transfer",
        "iaxcompat",
    ),
    "codecs": ("bandwidth", "disallow", "allow", "codecpriority"),
    "call tokens": (
        "requirecalltoken",
        "calltokenoptional",
        "calltokenexpiration",
        "maxcallnumbers",
        "maxcallnumbers_nonvalidated",
    ),
    "trunking": ("trunk", "trunkfreq", "trunkmtu", "trunkmaxsize", "trunktimestamps"),
    "jitter buffer": (
        "jitterbuffer",
        "maxjitterbuffer",
        "resyncthreshold",
        "maxjitterinterps",
        "jittertargetextra",
    ),
    "realtime and other": (
        "rtcachefriends",
        "rtignoreregexpire",
        "rtupdate",
        "rtsavesysname",
        "rtautoclear",
        "allowfwdownload",
    ),
}

# Rendering order. Names in one tuple share a slot and keep the order they were given in.
RENDER_ORDER: tuple[tuple[str, ...], ...] = (
    ("type",),
    ("bindport",),
    ("bindaddr",),
    ("iaxthreadcount",),
    ("iaxmaxthreadcount",),
    ("tos",),
    ("cos",),
    ("description",),
    ("username",),
    ("host",),
    ("defaultip",),
    ("port",),
    ("sourceaddress",),
    ("mask",),
    ("callerid", "fullname", "cid_number"),
    ("mailbox",),
    ("hasvoicemail",),
    ("regexten",),
    ("auth",),
    ("secret",),
    ("dbsecret",),
    ("inkeys",),
    ("outkey",),
    ("encryption",),
    ("forceencryption",),
    ("context",),
    ("peercontext",),
    ("bandwidth",),
    ("disallow", "allow"),
    ("codecpriority",),
    ("permit", "deny"),
    ("acl",),
    ("requirecalltoken",),
    ("maxcallnumbers",),
    ("maxcallnumbers_nonvalidated",),
    ("calltokenoptional",),
    ("calltokenexpiration",),
    ("qualify",),
    ("qualifysmoothing",),
    ("qualifyfreqok",),
    ("qualifyfreqnotok",),
    ("trunk",),
    ("trunkfreq",),
    ("trunkmtu",),
    ("trunkmaxsize",),
    ("trunktimestamps",),
    ("transfer",),
    ("jitterbuffer",),
    ("maxjitterbuffer",),
    ("resyncthreshold",),
    ("maxjitterinterps",),
    ("jittertargetextra",),
    ("accountcode",),
    ("amaflags",),
    ("language",),
    ("parkinglot",),
    ("mohinterpret",),
    ("mohsuggest",),
    ("timezone",),
    ("immediate",),
    ("setvar",),
    ("sendani",),
    ("adsi",),
    ("connectedline",),
    ("pingtime",),
    ("lagrqtime",),
    ("autokill",),
    ("nochecksums",),
    ("iaxcompat",),
    ("shrinkcallerid",),
    ("subscribe_network_change_event",),
    ("maxauthreq",),
    ("authdebug",),
    ("delayreject",),
    ("allowfwdownload",),
    ("rtcachefriends",),
    ("rtignoreregexpire",),
    ("rtupdate",),
    ("rtsavesysname",),
    ("rtautoclear",),
    ("minregexpire",),
    ("maxregexpire",),
    ("regcontext",),
    ("srvlookup",),
    ("register",),
)

# callerid, fullname and cid_number share a slot: each overwrites the name and/or number the
# others set, in file order (build_peer/build_user), so their order is kept as given.

# Values that may be longer than values.MAX_LINE: Asterisk reads whole lines of up to
# values.MAX_FILE_LINE bytes, and ACL lists are the values that grow that long.
LONG_VALUES = frozenset({"permit", "deny"})

# Repeated lines that add up instead of the last one winning: encryption values are OR-ed (a later
# "no" cannot switch it off; forceencryption=no only drops the forcing), and codecpriority only
# sets flags (host sets none, so it cannot undo caller/disabled/reqonly).
COMBINING = frozenset({"encryption", "forceencryption", "codecpriority"})

# Directives that repeat but where the order of lines matters to Asterisk (codec preference,
# last-match-wins ACL, default context first, a later setvar replaces an earlier one).
ORDERED = frozenset(
    {
        "allow",
        "disallow",
        "permit",
        "deny",
        "context",
        "setvar",
        "bindaddr",
        "register",
        "secret",
        "calltokenoptional",
        "acl",
    }
)

# Names chan_iax2 never reads, with the module they belong to (another channel driver's file).
FOREIGN: dict[str, str] = {
    name: "sip.conf"
    for name in (
        "md5secret",
        "insecure",
        "fromuser",
        "fromdomain",
        "externip",
        "localnet",
        "nat",
        "canreinvite",
        "directmedia",
        "dtmfmode",
        "videosupport",
        "autocreatepeer",
        "pedantic",
        "trustrpid",
        "useragent",
        "defaultexpirey",
        "maxexpirey",
        "defaultuser",
        "outboundproxy",
        "sendrpid",
        "progressinband",
        "t38pt_udptl",
        "transport",
        "qualifyfreq",
        "restrictcid",
        "incominglimit",
        "outgoinglimit",
        "callgroup",
        "pickupgroup",
        "call-limit",
        "busylimit",
        "regseconds",
        "ipaddr",
        "fullcontact",
        "lastms",
        "useragent",
        "subscribecontext",
        "allowguest",
        "alwaysauthreject",
        "rtptimeout",
        "rtpholdtimeout",
        "session-timers",
        "encryption_taglen",
        "avpf",
        "icesupport",
        "dtlsenable",
        "force_avp",
        "rfc2833compensate",
        "musicclass",
        "promiscredir",
        "usereqphone",
        "allowtransfer",
        "allowoverlap",
        "allowsubscribe",
        "notifyringing",
        "notifyhold",
        "callcounter",
        "faxdetect",
    )
}


@dataclass(frozen=True, slots=True)
class Directive:
    """One catalogue entry."""

    name: str
    sections: frozenset[str]
    value: str
    default: str | None
    repeatable: bool
    ordered: bool
    deprecated: bool
    replacement: str | None
    accepted: bool
    notes: str
    source: str
    section_notes: dict[str, str] = field(default_factory=dict, compare=False)
    reload: str | None = None
    group: str = "other"

    @property
    def sticky(self) -> bool:
        """A [general] value that survives a reload when its line is removed."""
        return self.reload == "sticky_when_removed"

    def valid_in(self, section_kind: str) -> bool:
        """True when chan_iax2 reads this name in a section of that kind (general/peer/user/friend)."""
        if section_kind == FRIEND:
            return bool(self.sections & {PEER, USER})
        return section_kind in self.sections

    def help_text(self, section_kind: str | None = None) -> str:
        parts = [self.notes]
        if section_kind in self.section_notes:
            parts.append(self.section_notes[section_kind])
        if self.default not in (None, ""):
            parts.append(f"Default: {self.default}.")
        return " ".join(parts)

    def check(self, value: str) -> None:
        """Raise values.Invalid when the value is not what chan_iax2 accepts for this directive."""
        if self.name in LONG_VALUES:  # the whole "name=value" line must fit Asterisk's line buffer
            v.check_line_safe(value, max_length=v.MAX_FILE_LINE - len(self.name) - 1)
        else:
            v.check_line_safe(value)
        RULES[self.name](value)

    @property
    def default_value(self) -> str | None:
        """The default as a value the directive could be set to ("no", "4569"), or None when the
        catalogue describes it in words ("the [general] result") or has none."""
        if self.default in (None, ""):
            return None
        try:
            self.check(self.default)
        except v.Invalid:
            return None
        return self.default

    @property
    def input(self) -> Input:
        return input_for(self.name)


# The input a form offers for each value rule. The rule still judges every value (a form never
# adds a rule of its own); the input only makes the usual values quick to enter.
BOOL, CHOICE, NUMBER, CODECS, ACL, KEYS, KEY, AUTH, SECRET, TEXT, LINES = (
    "bool",
    "choice",
    "number",
    "codecs",
    "acl",
    "keys",
    "key",
    "auth",
    "secret",
    "text",
    "lines",
)
SUGGESTIONS: dict[str, tuple[str, ...]] = {
    "qualify": ("yes", "no", "2000"),
    "autokill": ("yes", "no", "3000"),
    "rtautoclear": ("yes", "no", "120"),
    "tos": ("ef", "cs3", "af41", "cs0"),
    "host": ("dynamic",),
}


@dataclass(frozen=True, slots=True)
class Input:
    """What kind of input a directive's value rule calls for: a yes/no choice, one of fixed
    choices, a whole number in a range, an ordered codec or ACL list (with its partner directive),
    key names, authentication methods, a secret, free text or several lines of it."""

    kind: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    suggestions: tuple[str, ...] = ()


@functools.cache
def input_for(name: str) -> Input:
    name = name.lower()
    rule = RULES[name]
    directive = catalogue().get(name)
    if rule is v.boolean:
        return Input(BOOL, ("yes", "no"))
    if getattr(rule, "choices", None):
        return Input(CHOICE, tuple(rule.choices))
    if hasattr(rule, "minimum"):
        also = [n for n in rule.also if rule.minimum is None or n < rule.minimum]
        minimum = min([*also, rule.minimum]) if rule.minimum is not None else None
        return Input(NUMBER, minimum=minimum, maximum=rule.maximum)
    if rule is v.codec_list:
        return Input(CODECS, ("all", *v.IAX2_CODECS))
    if rule is v.acl_entries:
        return Input(ACL)
    if rule is v.key_names:
        return Input(KEYS)
    if rule is v.key_name:
        return Input(KEY)
    if rule is v.auth_methods:
        return Input(AUTH, ("md5", "rsa", "plaintext"))
    if rule is v.secret:
        return Input(SECRET)
    if directive is not None and directive.repeatable:
        return Input(LINES, suggestions=SUGGESTIONS.get(name, ()))
    return Input(TEXT, suggestions=SUGGESTIONS.get(name, ()))


class Catalogue:
    def __init__(self, directives: list[Directive]) -> None:
        self._by_name = {d.name: d for d in directives}
        # memos of pure functions of this catalogue, by the module keeping them (validate.memos_of)
        self.memos: dict[str, object] = {}
        self._order = {}
        for slot, names in enumerate(RENDER_ORDER):
            for name in names:
                self._order[name] = slot

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._by_name

    def __iter__(self):
        return iter(self._by_name.values())

    def get(self, name: str) -> Directive | None:
        return self._by_name.get(name.lower())

    def __getitem__(self, name: str) -> Directive:
        return self._by_name[name.lower()]

    def accepted(self) -> list[Directive]:
        return [d for d in self._by_name.values() if d.accepted]

    def for_section(self, section_kind: str) -> list[Directive]:
        """The directives chan_iax2 reads in a section of this kind, in rendering order."""
        found = [d for d in self.accepted() if d.valid_in(section_kind)]
        return sorted(found, key=lambda d: self.render_slot(d.name))

    def render_slot(self, name: str) -> int:
        return self._order.get(name.lower(), len(RENDER_ORDER))

    @property
    def render_slots(self) -> dict[str, int]:
        """Lower-case directive name -> render slot, for the names RENDER_ORDER places (read only)."""
        return self._order

    def suggest(self, name: str) -> str | None:
        """The accepted name closest to a misspelt one (quilify -> qualify)."""
        names = [d.name for d in self.accepted()]
        match = difflib.get_close_matches(name.lower(), names, n=1, cutoff=0.75)
        return match[0] if match else None


def _group_of(name: str) -> str:
    for group, names in GROUPS.items():
        if name in names:
            return group
    return "other"


def _load() -> Catalogue:
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    directives = []
    for item in raw:
        deprecated = item["deprecated"]
        directives.append(
            Directive(
                name=item["name"],
                sections=frozenset(item["sections"]),
                value=item["value"],
                default=item["default"],
                repeatable=bool(item["repeatable"]),
                ordered=item["name"] in ORDERED,
                deprecated=bool(deprecated),
                replacement=deprecated if isinstance(deprecated, str) else None,
                accepted=bool(item["accepted"]),
                notes=item["notes"],
                source=item["source"],
                section_notes=dict(item["section_notes"]),
                reload=item["reload"],
                group=_group_of(item["name"]),
            )
        )
    missing = {d.name for d in directives if d.accepted} - RULES.keys()
    if missing:  # pragma: no cover - guarded by tests/iaxconf/test_values.py
        raise RuntimeError(f"catalogue directives without a value rule: {sorted(missing)}")
    return Catalogue(directives)


@functools.cache
def catalogue() -> Catalogue:
    return _load()
