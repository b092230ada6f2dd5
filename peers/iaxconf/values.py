"""Value rules for iax.conf directives, as chan_iax2 in Asterisk 22.10.1 parses them.

Each rule is a callable ``rule(value: str) -> None`` that raises :class:`Invalid` with a stable
``rule`` code and a message saying what is wrong and what would be accepted. Rules never
normalise: the admin's spelling is kept, so an import renders back the way it was written.

No Django imports here: forms, the importer, the exporter and the API all call these.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable, Iterable

Rule = Callable[[str], None]

TRUE_WORDS = frozenset({"yes", "true", "y", "t", "1", "on"})
FALSE_WORDS = frozenset({"no", "false", "n", "f", "0", "off"})

# Codecs IAX2 can carry: the names allow=/disallow= accept, one bit each in the legacy 64-bit
# format bitfield IAX2 sends.
IAX2_CODECS = (
    "g723",
    "gsm",
    "ulaw",
    "alaw",
    "g726aal2",
    "adpcm",
    "slin",
    "lpc10",
    "g729",
    "speex",
    "ilbc",
    "g726",
    "g722",
    "siren7",
    "siren14",
    "slin16",
    "g719",
    "speex16",
    "opus",
    "jpeg",
    "png",
    "h261",
    "h263",
    "h263p",
    "h264",
    "mpeg4",
    "vp8",
    "red",
    "t140",
)
# Accepted by allow/disallow but silently dropped from the IAX2 capability.
DROPPED_CODECS = (
    "slin12",
    "slin24",
    "slin32",
    "slin44",
    "slin48",
    "slin96",
    "slin192",
    "speex32",
    "codec2",
    "silk8",
    "silk12",
    "silk16",
    "silk24",
    "h265",
    "vp9",
    "t38",
    "none",
)
CODEC_ALIASES = {"g723.1": "g723", "t140red": "red"}

DSCP_NAMES = frozenset(
    ["cs0", "cs1", "cs2", "cs3", "cs4", "cs5", "cs6", "cs7", "ef"]
    + [f"af{a}{b}" for a in "1234" for b in "123"]
)
LEGACY_TOS_NAMES = frozenset({"lowdelay", "throughput", "reliability", "mincost", "none"})

MAX_LINE = 255  # chan_iax2 copies most strings into 80-byte buffers; 255 is the register-line cap
MAX_FILE_LINE = 8190  # main/config.c reads lines of up to 8190 bytes and skips longer ones
KEY_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?$"
)
WORD_RE = re.compile(r"^[A-Za-z0-9_.+-]+$")
CONTEXT_RE = re.compile(r"^[^\s,;\[\]=]+$")
SETVAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_()]*=")
SECTION_NAME_RE = re.compile(r"^[^\s\[\]/:@;,()=\\\"'#]+$")
# C0 and C1 control characters and the Unicode line and paragraph separators: none may reach a
# line of iax.conf, a name or a comment (str.splitlines() breaks a line at U+0085, U+2028, U+2029).
CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Asterisk reads numbers with atoi/sscanf, which only know ASCII digits (the regex \d also matches "١٢").
DIGITS_RE = re.compile(r"[0-9]+")
INTEGER_RE = re.compile(r"-?[0-9]+")
# ast_str2tos reads the number with sscanf("%i"): decimal, 0x hex or leading-0 octal. Anything else
# ("08", "1_0", "0o17") is read only up to the first bad character and silently becomes another value.
TOS_NUMBER_RE = re.compile(r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*")
KEY_SUFFIXES = (".pub", ".key")


ASCII_BLANKS = " \t\n\r\x0b\x0c"  # what Asterisk's ast_strip() removes (C isspace)


def describe_character(char: str) -> str:
    """ "U+2028 (LINE SEPARATOR)", "a newline (U+000A)": a character people cannot see, named."""
    named = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab"}
    code = f"U+{ord(char):04X}"
    if char in named:
        return f"{named[char]} ({code})"
    return f"{code} ({unicodedata.name(char, 'a control character')})"


class Invalid(ValueError):
    """A value a rule rejects. ``rule`` is a stable code; ``message`` is for people; ``part``
    names the part of a composite value at fault (a register line's ``username``, ``secret``,
    ``key``, ``remote_host`` or ``remote_port``), so a form can put the message at that field."""

    def __init__(self, rule: str, message: str, *, part: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.part = part


def is_valid(rule: Rule, value: str) -> bool:
    """True when the rule accepts the value."""
    try:
        rule(value)
    except Invalid:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# Line safety: applied to every value before its own rule.


def check_line_safe(value: str, *, max_length: int = MAX_LINE) -> None:
    """Nothing may break out of its line: no line break, line or paragraph separator, or other
    control character (C0 or C1), which the message names."""
    found = CONTROL_RE.search(value)
    if found:
        raise Invalid(
            "line-break",
            f"contains {describe_character(found.group())}, which would break out of its line in iax.conf "
            "(or hide the rest of it); remove it",
        )
    if len(value) > max_length:
        raise Invalid("too-long", f"is {len(value)} characters long; at most {max_length} are allowed")
    if value != value.strip(ASCII_BLANKS):
        raise Invalid(
            "whitespace",
            "starts or ends with spaces, which Asterisk drops when it reads the line; remove them",
        )


def check_section_name(name: str) -> None:
    """A section name: 1-79 characters, none of the separators of dial strings and headers."""
    check_line_safe(name, max_length=79)
    if not name:
        raise Invalid("section-name", "is empty; a section needs a name")
    if not SECTION_NAME_RE.fullmatch(name):
        raise Invalid(
            "section-name",
            "may not contain spaces or any of [ ] / : @ ; , ( ) = \\ \" ' # "
            "(they end the header or are separators in dial strings and register lines)",
        )
    if name.lower() in {"general", "callnumberlimits"}:
        raise Invalid("section-name", f"'{name}' is reserved for chan_iax2's own section")


# ---------------------------------------------------------------------------------------------
# Rule builders


def boolean(value: str) -> None:
    word = value.strip().lower()
    if word not in TRUE_WORDS and word not in FALSE_WORDS:
        raise Invalid(
            "bool",
            "is not a yes/no word; use yes or no (Asterisk also reads true/false, on/off, y/n, t/f, 1/0 "
            "and treats anything else as no)",
        )


def integer(minimum: int | None = None, maximum: int | None = None, *, also: Iterable[int] = ()) -> Rule:
    extra = tuple(also)

    def rule(value: str) -> None:
        text = value.strip()
        if not INTEGER_RE.fullmatch(text):
            raise Invalid("int", f"is not a whole number; expected {_range_text(minimum, maximum, extra)}")
        number = int(text)
        if number in extra:
            return
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise Invalid("range", f"is out of range; expected {_range_text(minimum, maximum, extra)}")

    # what a form needs to offer the right input (catalogue.input_for): read, never used to judge
    rule.minimum, rule.maximum, rule.also = minimum, maximum, extra  # type: ignore[attr-defined]
    return rule


def _range_text(minimum: int | None, maximum: int | None, extra: tuple[int, ...]) -> str:
    if minimum is not None and maximum is not None:
        text = f"a number from {minimum} to {maximum}"
    elif minimum is not None:
        text = f"a number of at least {minimum}"
    elif maximum is not None:
        text = f"a number of at most {maximum}"
    else:
        text = "a whole number"
    if extra:
        text = " or ".join(str(x) for x in extra) + " or " + text
    return text


def choice(*choices: str) -> Rule:
    allowed = tuple(c.lower() for c in choices)

    def rule(value: str) -> None:
        if value.strip().lower() not in allowed:
            raise Invalid("choice", "is not one of " + ", ".join(allowed))

    rule.choices = allowed  # type: ignore[attr-defined]  # for catalogue.input_for
    return rule


def bool_or(*words: str, otherwise: str) -> Rule:
    """Any ast_true/ast_false word (yes/no, on/off, true/false, y/n, t/f, 1/0, in any case) or one of
    ``words``: what chan_iax2 reads for encryption, forceencryption, transfer, connectedline and
    requirecalltoken. ``otherwise`` says what Asterisk does with anything else."""
    extra = tuple(w.lower() for w in words)

    def rule(value: str) -> None:
        word = value.strip().lower()
        if word in TRUE_WORDS or word in FALSE_WORDS or word in extra:
            return
        raise Invalid(
            "choice",
            f"is not yes/no (or on/off, true/false, 1/0) or {' or '.join(extra)}; {otherwise}",
        )

    rule.choices = ("yes", "no", *extra)  # what a form offers (catalogue.input_for)
    return rule


def text(max_length: int = 79, *, pattern: re.Pattern[str] | None = None, what: str = "") -> Rule:
    def rule(value: str) -> None:
        if len(value) > max_length:
            raise Invalid("too-long", f"is {len(value)} characters long; at most {max_length} are allowed")
        if pattern is not None and value and not pattern.fullmatch(value):
            raise Invalid("format", f"is not {what}")

    return rule


def bool_or_int(value: str) -> None:
    word = value.strip().lower()
    if word in TRUE_WORDS or word in FALSE_WORDS or DIGITS_RE.fullmatch(word):
        return
    raise Invalid("bool-or-int", "is neither yes/no nor a number of milliseconds or seconds (>= 0)")


# ---------------------------------------------------------------------------------------------
# Specific rules


def codec_list(value: str) -> None:
    items = [item.strip() for item in re.split(r"[,|]", value)]
    if not any(items):
        raise Invalid("codec", "is empty; name at least one codec (or all)")
    for item in items:
        if not item:
            raise Invalid("codec", "has an empty item between separators")
        name = item[1:] if item.startswith("!") else item
        framing = None
        if ":" in name:
            name, framing = name.split(":", 1)
        lowered = name.strip().lower()
        if framing is not None and not DIGITS_RE.fullmatch(framing.strip()):
            raise Invalid("codec", f"'{item}': the framing after ':' must be a number of milliseconds")
        if name != name.strip():
            # Asterisk strips the item, not the name after '!' or before ':': "! gsm" is unknown there.
            raise Invalid("codec", f"'{item}' has a space inside; write !name or name:ms without spaces")
        if lowered == "all":
            continue
        if lowered in CODEC_ALIASES:
            raise Invalid(
                "codec", f"'{name}' is not a codec name in Asterisk 22; use {CODEC_ALIASES[lowered]}"
            )
        if lowered in DROPPED_CODECS:
            raise Invalid(
                "codec",
                f"'{name}' is a codec Asterisk knows but IAX2 cannot carry; chan_iax2 drops it silently",
            )
        if lowered not in IAX2_CODECS:
            raise Invalid(
                "codec", f"'{name}' is not a codec IAX2 can carry; use one of " + ", ".join(IAX2_CODECS)
            )


def codec_list_or_nothing(value: str) -> None:
    """disallow=: an empty value does nothing, and Asterisk says nothing about it."""
    if value.strip():
        codec_list(value)


def tos(value: str) -> None:
    word = value.strip().lower()
    if word in DSCP_NAMES:
        return
    if word in LEGACY_TOS_NAMES:
        raise Invalid(
            "tos", f"'{value}' is a pre-DSCP name Asterisk no longer accepts; use CS0-CS7, AF11-AF43 or EF"
        )
    if not TOS_NUMBER_RE.fullmatch(word):
        raise Invalid(
            "tos",
            "is not a DSCP name (CS0-CS7, AF11-AF43, EF) or a number 0-255 (decimal, 0x hex or 0 octal)",
        )
    number = int(word, 16) if word.startswith("0x") else int(word, 8) if word.startswith("0") else int(word)
    if not 0 <= number <= 255:
        raise Invalid("tos", "is out of range; a TOS number is 0-255")


def qualify(value: str) -> None:
    word = value.strip().lower()
    if word in {"yes", "no"} or DIGITS_RE.fullmatch(word):
        return
    raise Invalid("qualify", "must be yes, no or a number of milliseconds (0 turns qualify off)")


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _numeric(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address literal as Asterisk's ast_sockaddr_parse reads one without a port: IPv4 or IPv6,
    optionally in brackets ([::1], [192.0.2.1])."""
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return _ip(text)


def _is_v4(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """IPv4, or IPv4-mapped IPv6 (::ffff:a.b.c.d), which Asterisk's ACLs turn into IPv4."""
    return address.version == 4 or address.ipv4_mapped is not None


def hostname_or_ip(value: str) -> None:
    text_value = value.strip()
    if _numeric(text_value) is not None:
        return
    if text_value.startswith("["):
        raise Invalid("host", "has brackets around something that is not an IP address")
    if ":" in text_value and not text_value.count(":") > 1:
        raise Invalid("host", "must not contain a port; put the port in port=")
    if not HOSTNAME_RE.fullmatch(text_value) or text_value.replace(".", "").isdigit():
        raise Invalid("host", "is not a host name or an IP address")


def peer_host(value: str) -> None:
    if value.strip().lower() == "dynamic":
        return
    hostname_or_ip(value)


def ip_address(value: str) -> None:
    if _ip(value.strip()) is None:
        raise Invalid("ip", "is not an IPv4 or IPv6 address")


def ip_with_port(value: str) -> None:
    """ip, ip:port, [ipv6] or [ipv6]:port (bindaddr)."""
    text_value = value.strip()
    match = re.fullmatch(r"\[([^\]]+)\](?::([0-9]+))?", text_value)
    if match:
        address, port = match.group(1), match.group(2)
        if not isinstance(_ip(address), ipaddress.IPv6Address):
            raise Invalid("ip", "has brackets around something that is not an IPv6 address")
    elif text_value.count(":") == 1:
        address, port = text_value.split(":")
    else:
        address, port = text_value, None
    if _ip(address) is None:
        raise Invalid("ip", "is not an IP address, IP:port or [IPv6]:port")
    if port is not None and not (DIGITS_RE.fullmatch(port) and 0 < int(port) <= 65535):
        raise Invalid("port", "has a port that is not a number from 1 to 65535")


def source_address(value: str) -> None:
    """sourceaddress: an address or host name of this machine, optionally with :port
    ([IPv6]:port). chan_iax2 resolves a name (ast_get_ip) and uses the socket bound there."""
    text_value = value.strip()
    match = re.fullmatch(r"\[([^\]]+)\](?::([0-9]+))?", text_value)
    if match:
        host, port = match.group(1), match.group(2)
        if _ip(host) is None:
            raise Invalid("ip", "has brackets around something that is not an IP address")
    elif text_value.count(":") == 1:
        host, port = text_value.split(":")
    else:
        host, port = text_value, None
    if _ip(host) is None and (not HOSTNAME_RE.fullmatch(host) or host.replace(".", "").isdigit()):
        raise Invalid("ip", "is not an address or host name of this machine, optionally with :port")
    if port is not None and not (DIGITS_RE.fullmatch(port) and 0 < int(port) <= 65535):
        raise Invalid("port", "has a port that is not a number from 1 to 65535")


def netmask(value: str) -> None:
    """mask=: any address literal; Asterisk applies it bit by bit, so it need not be contiguous."""
    if _numeric(value.strip()) is None:
        raise Invalid("mask", "is not a netmask (for example 255.255.255.0)")


_DROPS_REST = (
    "; Asterisk stops reading the line at this entry, so it and every entry after it are dropped "
    "(a deny silently loses them)"
)


def _network(entry: str, *, allow_not: bool, consequence: str = "") -> None:
    """One ACL entry, read as ast_append_ha reads it: the text between commas, split at '/',
    nothing stripped (a blank in the address makes it invalid), the address an IP literal
    (brackets allowed), the mask a prefix length or an address of the same family; IPv4-mapped
    IPv6 (::ffff:a.b.c.d) counts as IPv4."""
    shown = entry
    text_value = entry
    if allow_not and text_value.startswith("!"):
        text_value = text_value[1:]
    address_text, slash, mask_text = text_value.partition("/")
    address = _numeric(address_text)
    if address is None:
        why = (
            "has a blank in it"
            if address_text != address_text.strip() or " " in address_text
            else ("does not start with an IP address")
        )
        raise Invalid("acl", f"'{shown}' {why}{consequence}")
    if not slash:
        return
    v4 = _is_v4(address)
    if "." in mask_text or ":" in mask_text:
        mask = _numeric(mask_text)
        if mask is None:
            raise Invalid(
                "acl", f"'{shown}' has a mask that is not an address or a prefix length{consequence}"
            )
        if _is_v4(mask) != v4:
            family = "IPv4 (an IPv4-mapped address counts as IPv4)" if v4 else "IPv6"
            raise Invalid("acl", f"'{shown}' needs an {family} mask, like its address{consequence}")
        return
    # sscanf("%d") reads the prefix length: blanks around it are skipped
    if not re.fullmatch(r"\s*[0-9]+\s*", mask_text):
        raise Invalid("acl", f"'{shown}' has a mask that is not an address or a prefix length{consequence}")
    limit = 32 if v4 else 128
    if int(mask_text) > limit:
        mapped = " (an IPv4-mapped address is read as IPv4)" if address.version == 6 else ""
        raise Invalid("acl", f"'{shown}' has a prefix length over {limit}{mapped}{consequence}")


def acl_entries(value: str) -> None:
    entries = value.split(",")
    for entry in entries:
        if not entry.strip():
            raise Invalid(
                "acl", "has an empty entry; write [!]address[/mask] entries separated by , without blanks"
            )
        _network(entry, allow_not=True, consequence=_DROPS_REST if len(entries) > 1 else "")


def network(value: str) -> None:
    """address[/mask] without '!' (calltokenoptional, [callnumberlimits])."""
    if "," in value:
        raise Invalid(
            "acl", "takes a single address[/mask] (Asterisk ignores the rest); write one line per range"
        )
    _network(value, allow_not=False)


def calltoken_network(value: str) -> None:
    """calltokenoptional: an invalid range makes chan_iax2 refuse to load at all."""
    try:
        network(value)
    except Invalid as exc:
        raise Invalid(
            exc.rule, exc.message + "; chan_iax2 refuses to load with an invalid calltokenoptional"
        ) from None


def acl_names(value: str) -> None:
    names = [name.strip() for name in value.split(",")]
    if not all(names) or not all(WORD_RE.fullmatch(n) for n in names):
        raise Invalid("acl-name", "must be named ACLs from acl.conf separated by ,")
    if len(set(names)) != len(names):
        raise Invalid("acl-name", "names the same ACL twice")


def _is_key_name(name: str) -> bool:
    """A key file name without its suffix: Asterisk appends .pub/.key itself."""
    return bool(KEY_NAME_RE.fullmatch(name)) and not name.endswith(KEY_SUFFIXES)


def key_name(value: str) -> None:
    if not _is_key_name(value.strip()):
        raise Invalid(
            "key-name", "is not a key name (letters, digits, _ . -, without .pub/.key, up to 64 characters)"
        )


def key_names(value: str) -> None:
    names = value.split(":")
    for name in names:
        if not _is_key_name(name.strip()):
            raise Invalid(
                "key-name", f"'{name}' is not a key name (without .pub/.key); list key names separated by ':'"
            )


AUTH_METHODS = ("md5", "rsa", "plaintext")


def auth_method_set(value: str | None) -> frozenset[str]:
    """The methods chan_iax2 finds in an auth= value: it looks for each name with strstr, so the
    search is case-sensitive and the names need no separator (md5rsa is md5 and rsa)."""
    if not value:
        return frozenset()
    return frozenset(m for m in AUTH_METHODS if m in value)


def auth_methods(value: str) -> None:
    found = auth_method_set(value)
    rest = value
    for method in AUTH_METHODS:
        rest = rest.replace(method, " ")
    leftover = re.findall(r"[A-Za-z0-9_]+", rest)
    fallback = "" if found else "; with no method found Asterisk falls back to md5"
    if leftover:
        word = leftover[0]
        lowered = word.lower()
        if any(m in lowered for m in AUTH_METHODS):
            raise Invalid(
                "auth",
                f"'{word}' is not read: chan_iax2 looks for md5, rsa and plaintext in lower case only; "
                f"write {lowered}{fallback}",
            )
        raise Invalid(
            "auth",
            f"'{word}' is not an authentication method (chan_iax2 ignores it); use md5, rsa or plaintext{fallback}",
        )
    if not found:
        raise Invalid("auth", "is empty; use md5, rsa or plaintext (comma-separated)")
    if any(value.count(m) > 1 for m in AUTH_METHODS):
        raise Invalid("auth", "names a method twice")


def secret(value: str) -> None:
    if ";" in value:
        raise Invalid("secret", "contains ';', which chan_iax2 uses to separate several secrets")
    if len(value) > 79:
        raise Invalid("too-long", f"is {len(value)} characters long; at most 79 are allowed")


def dbsecret(value: str) -> None:
    family, _, key = value.partition("/")
    if not family.strip() or not key.strip():
        raise Invalid("dbsecret", "must be an astdb path family/key")


def setvar(value: str) -> None:
    if not SETVAR_RE.match(value):
        raise Invalid("setvar", "must be NAME=value (a channel variable name, then '=')")


def callerid(value: str) -> None:
    if len(value) > 160:
        raise Invalid("too-long", "is too long; name and number are each cut at 79 characters")
    if re.sub(r"\\.", "", value).count('"') % 2:  # \" inside a name is an escaped quote
        raise Invalid("callerid", 'has an unbalanced quote; write "Name" <number>')
    if "<" in value and not re.search(r"<[^<>]*>\s*$", value):
        raise Invalid("callerid", 'has a number part that is not closed by >; write "Name" <number>')


def register_line(value: str) -> None:
    """user[:secret]@host[:port] or user:[keyname]@host[:port], as chan_iax2 reads ``register =>``."""
    line = value.strip()
    if len(line) > 255:
        raise Invalid("register", "is longer than 255 characters")
    if "@" not in line:
        raise Invalid(
            "register",
            "has no '@'; the format is user[:secret]@host[:port] or user:[key]@host[:port]",
            part="remote_host",
        )
    credentials, server = line.split("@", 1)
    if "@" in server:
        raise Invalid("register", "has more than one '@'", part="remote_host")
    user, _, secret_part = credentials.partition(":")
    if not user or len(user) > 79 or not re.fullmatch(r"[^\s:@/\[\]]+", user):
        raise Invalid(
            "register",
            "needs a user name (up to 79 characters, no spaces, ':', '@', '/' or brackets)",
            part="username",
        )
    if ":" in secret_part:
        raise Invalid(
            "register",
            "has a second ':' in the credentials; a register secret cannot contain ':'",
            part="secret",
        )
    if secret_part.startswith("["):
        if not secret_part.endswith("]") or not _is_key_name(secret_part[1:-1]):
            raise Invalid("register", "has a key reference that is not [keyname]", part="key")
    elif len(secret_part) > 79 or re.search(r"[\[\];]", secret_part):
        raise Invalid(
            "register", "has a secret that is over 79 characters or contains brackets or ';'", part="secret"
        )
    if "/" in server or "~" in server:
        raise Invalid(
            "register",
            "has a /extension or ~expiry part; that is sip.conf syntax, IAX2 has none",
            part="remote_host",
        )
    if server.startswith("[") or server.count(":") > 1:
        raise Invalid(
            "register", "uses an IPv6 literal; chan_iax2 splits at ':' so use a host name", part="remote_host"
        )
    host_part, colon, port = server.partition(":")
    try:
        hostname_or_ip(host_part)
    except Invalid:
        raise Invalid(
            "register", f"'{host_part}' is not a host name or IPv4 address", part="remote_host"
        ) from None
    # chan_iax2 rejects the line when atoi(port) is 0, which includes an empty port after ':'.
    if colon and not (DIGITS_RE.fullmatch(port) and 0 < int(port) <= 65535):
        raise Invalid("register", "has a port that is not a number from 1 to 65535", part="remote_port")


def mailbox(value: str) -> None:
    for box in re.split(r"[,&]", value):
        if not re.fullmatch(r"[A-Za-z0-9_.*#+-]+(@[A-Za-z0-9_.-]+)?", box.strip()):
            raise Invalid("mailbox", "must be mailbox[@context] (several separated by ,)")


def regexten(value: str) -> None:
    for ext in value.split("&"):
        if not re.fullmatch(r"[A-Za-z0-9_*#+.-]+", ext.strip()):
            raise Invalid("regexten", "must be extensions separated by &")


def timezone(value: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_+/-]{1,79}", value.strip()):
        raise Invalid("timezone", "is not a tz database name such as Europe/Berlin")


def limit_value(value: str) -> None:
    integer(0, None)(value)
