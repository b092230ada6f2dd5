"""Parsers for what chan_iax2 and res_crypto (Asterisk 22.10.1) print, into plain data.

Each parser takes the text ``asterisk -rx`` printed and returns dataclasses; they never talk to
Asterisk themselves (``Instance`` in :mod:`peers.asterisk.sandbox` does). The column layouts are
the ``printf`` formats of ``chan_iax2.c`` / ``res_crypto.c``: fixed widths counted in **bytes**,
with names cut at the column width (``iax2 show peers`` shows 15 bytes of ``name/username``,
``iax2 show users`` 15 of the name and 20 of the secret, ``iax2 show registry`` 10 of the user
name). ``iax2 show peer NAME`` is the only one that prints whole values.

* ``parse_peers(text) -> list[PeerRow]``          ``iax2 show peers``
* ``parse_users(text) -> list[UserRow]``          ``iax2 show users``
* ``parse_peer(text) -> PeerDetail | None``       ``iax2 show peer NAME`` (None: "not found")
* ``parse_registry(text) -> list[RegistryRow]``   ``iax2 show registry``
* ``parse_keys(text) -> list[KeyRow]``            ``keys show``
* ``parse_matches(text) -> list[str]``            ``_command matchesarray "iax2 show peer " ""``
* ``parse_channels(text) -> list[ChannelRow]``    ``core show channels concise``

``iax2 show users`` prints each user's secret **in clear text**: ``UserRow.secret`` holds it, and
``UserRow.masked()`` is what may be shown to people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

MASK = "********"


def _cut(raw: bytes, start: int, end: int | None = None) -> str:
    return raw[start:end].decode("utf-8", "replace").rstrip()


def _lines(text: str) -> list[bytes]:
    return [line.encode("utf-8", "surrogateescape") for line in text.replace("\r\n", "\n").split("\n")]


# --------------------------------------------------------------------------------------------
# iax2 show peers: "%-15.15s  %-40.40s %s  %-40.40s  %-6s%s %s  %-11s %-32.32s\n"


@dataclass(frozen=True, slots=True)
class PeerRow:
    name: str  # "name" or "name/username", cut at 15 bytes
    host: str  # "(null)" for a dynamic peer that has not registered
    dynamic: bool  # (D) / (S)
    mask: str
    port: str
    trunk: bool  # (T)
    encryption: bool  # (E)
    status: str  # "OK (3 ms)", "LAGGED (n ms)", "UNREACHABLE", "UNKNOWN", "Unmonitored"
    description: str


_STATUS = re.compile(rb"(OK \(\d+ ms\)|LAGGED \(\d+ ms\)|UNREACHABLE|UNKNOWN|Unmonitored)")
_PEERS_SUMMARY = re.compile(r"^\d+ iax2 peers \[")


def parse_peers(text: str) -> list[PeerRow]:
    rows = []
    for raw in _lines(text):
        line = raw.decode("utf-8", "replace")
        if not raw.strip() or raw.startswith(b"Name/Username") or _PEERS_SUMMARY.match(line):
            continue
        if len(raw) < 120 or raw[58:61] not in (b"(D)", b"(S)"):
            raise ValueError(f"not an 'iax2 show peers' line: {line!r}")
        status = _STATUS.match(raw, 120)
        if status is None:
            raise ValueError(f"no status in 'iax2 show peers' line: {line!r}")
        description = raw[max(131, status.end()) + 1 :]  # status is padded to 11, then a blank
        rows.append(
            PeerRow(
                name=_cut(raw, 0, 15),
                host=_cut(raw, 17, 57),
                dynamic=raw[58:61] == b"(D)",
                mask=_cut(raw, 63, 103),
                port=_cut(raw, 105, 111),
                trunk=raw[111:114] == b"(T)",
                encryption=raw[115:118] == b"(E)",
                status=status.group().decode(),
                description=description.decode("utf-8", "replace").rstrip(),
            )
        )
    return rows


# --------------------------------------------------------------------------------------------
# iax2 show users: "%-15.15s  %-20.20s  %-15.15d  %-15.15s  %-5.5s  %-5.10s\n"

AUTH_PLAINTEXT, AUTH_MD5, AUTH_RSA = 1, 2, 4


@dataclass(frozen=True, slots=True)
class UserRow:
    name: str  # cut at 15 bytes
    secret: str  # cut at 20 bytes; "" when the user has none
    inkeys: str  # "Key: <inkeys>" is shown (cut at 15) when there is no secret
    authmethods: int  # bitmask: 1 plaintext, 2 md5, 4 rsa
    context: str  # the first context ("default" when none is set)
    acl: bool
    codec_pref: str  # Host, Caller, Disabled, REQ Only

    @property
    def auth(self) -> list[str]:
        return [n for bit, n in ((1, "plaintext"), (2, "md5"), (4, "rsa")) if self.authmethods & bit]

    def masked(self) -> UserRow:
        return replace(self, secret=MASK if self.secret else "")


def parse_users(text: str) -> list[UserRow]:
    rows = []
    for raw in _lines(text):
        if not raw.strip() or raw.startswith(b"Username  "):
            continue
        if len(raw) < 80:
            raise ValueError(f"not an 'iax2 show users' line: {raw!r}")
        shown = _cut(raw, 17, 37)
        secret, inkeys = shown, ""
        if shown == "-no secret-":
            secret = ""
        elif shown.startswith("Key: "):
            secret, inkeys = "", shown[5:].strip()
        rows.append(
            UserRow(
                name=_cut(raw, 0, 15),
                secret=secret,
                inkeys=inkeys,
                authmethods=int(raw[39:54]),
                context=_cut(raw, 56, 71),
                acl=raw[73:78].strip() == b"Yes",
                codec_pref=_cut(raw, 80),
            )
        )
    return rows


# --------------------------------------------------------------------------------------------
# iax2 show peer NAME: "  Label        : value" lines


@dataclass(frozen=True, slots=True)
class PeerDetail:
    """The fields of ``iax2 show peer NAME`` by their label (``Name``, ``Secret``, ``Context``,
    ``Callerid``, ``Addr->IP``, ``Codecs``, ...), values as printed. ``Secret`` is only ``<Set>``
    or ``<Not set>``."""

    name: str
    fields: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, label: str) -> str:
        return self.fields[label]

    def get(self, label: str, default: str | None = None) -> str | None:
        return self.fields.get(label, default)


_FIELD = re.compile(r"^  (?:\* )?(?P<label>[A-Za-z][A-Za-z >.\-]*?)\s*: ?(?P<value>.*)$")


def parse_peer(text: str) -> PeerDetail | None:
    fields: dict[str, str] = {}
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith("Peer ") and line.rstrip().endswith("not found."):
            return None
        match = _FIELD.match(line)
        if match:
            fields[match["label"]] = match["value"].rstrip()
    if "Name" not in fields:
        raise ValueError(f"not 'iax2 show peer' output: {text[:200]!r}")
    return PeerDetail(fields["Name"], fields)


# --------------------------------------------------------------------------------------------
# iax2 show registry: "%-45.45s  %-6.6s  %-10.10s  %-45.45s %8d  %s\n"


@dataclass(frozen=True, slots=True)
class RegistryRow:
    host: str  # address:port the registration is sent to ("(null)" when not resolved)
    dnsmgr: bool
    username: str  # cut at 10 bytes
    perceived: str  # "<Unregistered>" or the address the server saw us at
    refresh: int
    state: str  # Unregistered, Request Sent, Auth. Sent, Registered, Rejected, Timeout, No Authentication


_REGISTRY_SUMMARY = re.compile(r"^\d+ IAX2 registrations\.")


def parse_registry(text: str) -> list[RegistryRow]:
    rows = []
    for raw in _lines(text):
        line = raw.decode("utf-8", "replace")
        if not raw.strip() or raw.startswith(b"Host  ") or _REGISTRY_SUMMARY.match(line):
            continue
        if len(raw) < 123:
            raise ValueError(f"not an 'iax2 show registry' line: {line!r}")
        rows.append(
            RegistryRow(
                host=_cut(raw, 0, 45),
                dnsmgr=raw[47:53].strip() == b"Y",
                username=_cut(raw, 55, 65),
                perceived=_cut(raw, 67, 112),
                refresh=int(raw[113:121]),
                state=_cut(raw, 123),
            )
        )
    return rows


# --------------------------------------------------------------------------------------------
# keys show: "%-18s %-8s %-16s %-33s\n" (not cut: a long name pushes the columns right)


@dataclass(frozen=True, slots=True)
class KeyRow:
    name: str
    type: str  # PUBLIC or PRIVATE
    status: str  # [Loaded] or [Needs Passcode]
    md5: str  # MD5 of the key file

    @property
    def loaded(self) -> bool:
        return self.status == "[Loaded]"


_KEY = re.compile(
    r"^(?P<name>.+?)\s+(?P<type>PUBLIC|PRIVATE)\s+(?P<status>\[Loaded\]|\[Needs Passcode\])\s+(?P<md5>[0-9a-f]{32})\s*$"
)


def parse_keys(text: str) -> list[KeyRow]:
    rows = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip() or line.startswith(("Key Name ", "------")) or line.endswith("known RSA keys."):
            continue
        match = _KEY.match(line)
        if match is None:
            raise ValueError(f"not a 'keys show' line: {line!r}")
        rows.append(KeyRow(match["name"], match["type"], match["status"], match["md5"]))
    return rows


# --------------------------------------------------------------------------------------------
# core show channels concise: "%s!%s!%s!%d!%s!%s!%s!%s!%s!%s!%u!%s!%s!%s\n" (main/cli.c)


@dataclass(frozen=True, slots=True)
class ChannelRow:
    name: str  # IAX2/alice-8088 (an authenticated call names its [user]), IAX2/127.0.0.1:4570-913
    context: str
    exten: str
    priority: int
    state: str  # Ring, Up, ...
    application: str
    data: str
    caller_id: str
    account_code: str
    duration: str
    unique_id: str


def parse_channels(text: str) -> list[ChannelRow]:
    """``core show channels concise``: one ``!``-separated line per channel. A field holding a
    ``!`` itself (application data may) shifts nothing: the fixed fields are counted from both
    ends."""
    rows = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            continue
        fields = line.split("!")
        if len(fields) < 14:
            raise ValueError(f"not a 'core show channels concise' line: {line!r}")
        head, tail = fields[:6], fields[-7:]
        data = "!".join(fields[6:-7])
        rows.append(
            ChannelRow(
                name=head[0],
                context=head[1],
                exten=head[2],
                priority=int(head[3]),
                state=head[4],
                application=head[5],
                data=data,
                caller_id=tail[0],
                account_code=tail[1],
                duration=tail[4],
                unique_id=tail[6],
            )
        )
    return rows


def parse_matches(text: str) -> list[str]:
    """The names of a ``_command matchesarray`` answer, in order, once each. Asterisk prints the
    longest prefix common to all matches first (empty when there is none, so the answer then
    starts with a blank; a single match is printed twice), then the matches, then ``_EOF_``."""
    tokens = text.split("_EOF_")[0].strip("\r\n").split(" ")
    words: list[str] = []
    for word in tokens[1:]:
        if word and word not in words:
            words.append(word)
    return words
