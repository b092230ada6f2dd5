"""Address rules as Asterisk 22.10.1 applies them (``main/acl.c``): ``permit``/``deny`` lines,
``calltokenoptional`` and ``[callnumberlimits]`` ranges. No Django here.

* A ``permit``/``deny`` value is a comma-separated list of ``[!]address[/mask]`` entries (the mask a
  prefix length or a dotted netmask); ``!`` inverts the entry's sense (``append_ha_core``).
* Rules are checked in order and **the last rule that matches decides**; an address no rule matches
  is allowed (``ast_apply_ha`` starts optimistic). An IPv4 rule never matches an IPv6 address (an
  IPv4-mapped IPv6 address is read as IPv4), and the other way round.
* ``acl=`` names an ACL of acl.conf, which iaxadmin does not hold: :func:`evaluate` reports it as
  unknown instead of guessing.
* An entry Asterisk cannot parse is dropped with the rest of its line (``append_ha_core`` returns
  the list built so far), which is what :func:`rules` does.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Rule:
    """One ``permit``/``deny`` entry. ``text`` is the entry as written, ``line`` the directive
    line it came from (``permit=10.0.0.0/8``); ``named`` is set for ``acl=NAME``."""

    allow: bool
    network: int
    mask: int
    version: int
    text: str
    line: str
    named: str | None = None

    def matches(self, address: Address) -> bool:
        if self.named is not None or address.version != self.version:
            return False
        return (int(address) & self.mask) == self.network

    @property
    def sense(self) -> str:
        return "permit" if self.allow else "deny"


def parse_address(text: str) -> Address:
    """An IP address; an IPv4-mapped IPv6 address is returned as IPv4 (as acl.c compares it)."""
    address = ipaddress.ip_address(text.strip().strip("[]"))
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _mask(mask_text: str | None, version: int) -> int | None:
    width = 32 if version == 4 else 128
    if mask_text is None:
        return (1 << width) - 1
    mask_text = mask_text.strip()
    if mask_text.isdigit():
        bits = int(mask_text)
        if bits > width:
            return None
        return ((1 << width) - 1) ^ ((1 << (width - bits)) - 1)
    try:
        mask = parse_address(mask_text)
    except ValueError:
        return None
    return int(mask) if mask.version == version else None


def network(text: str) -> tuple[int, int, int] | None:
    """``address[/mask]`` -> (network, mask, IP version), or None when Asterisk cannot read it."""
    address_text, _, mask_text = text.strip().partition("/")
    try:
        address = parse_address(address_text)
    except ValueError:
        return None
    mask = _mask(mask_text if "/" in text else None, address.version)
    if mask is None:
        return None
    return int(address) & mask, mask, address.version


def rules(directive: str, value: str) -> list[Rule]:
    """The rules one ``permit``/``deny``/``acl`` line adds, in order."""
    name = directive.strip().lower()
    line = f"{name}={value}"
    if name == "acl":
        return [Rule(True, 0, 0, 0, n.strip(), line, named=n.strip()) for n in value.split(",") if n.strip()]
    allowing = name.startswith("p")
    found = []
    for entry in value.split(","):
        text = entry.strip()
        sense = allowing
        if text.startswith("!"):
            sense, text = not allowing, text[1:]
        parsed = network(text)
        if parsed is None:  # Asterisk drops this entry and the rest of the line
            break
        found.append(Rule(sense, *parsed, entry.strip(), line))
    return found


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    deciding: Rule | None  # the last rule that matched (None: no rule matched)
    unknown: tuple[str, ...] = ()  # named ACLs (acl.conf) that could not be evaluated

    def explain(self, address: Address) -> str:
        if self.deciding is None:
            text = f"no permit/deny line matches {address}, so it is allowed"
        else:
            verb = "admits" if self.allowed else "refuses"
            text = f"{self.deciding.line} {verb} {address} (the last matching line decides)"
        if self.unknown:
            text += f"; the named ACL(s) {', '.join(self.unknown)} (acl.conf) are not known to iaxadmin"
        return text


def evaluate(rule_list: Iterable[Rule], address: Address) -> Verdict:
    """``ast_apply_ha`` for one list of rules: the last matching rule decides, default allow."""
    allowed, deciding, unknown = True, None, []
    for rule in rule_list:
        if rule.named is not None:
            unknown.append(rule.named)
        elif rule.matches(address):
            allowed, deciding = rule.allow, rule
    return Verdict(allowed, deciding, tuple(unknown))


def in_range(text: str, address: Address) -> bool:
    """Whether ``address`` is in one ``calltokenoptional`` / ``[callnumberlimits]`` range."""
    parsed = network(text)
    if parsed is None:
        return False
    net, mask, version = parsed
    return address.version == version and (int(address) & mask) == net
