"""How to call through a peer from the dialplan, and what the box at the other end needs to reach
this host: the lines a peer's page shows. No Django here; secrets are never written, only a
``<secret>`` placeholder.

The dial string (``parse_dial_string`` / ``iax2_call`` / ``create_addr`` in chan_iax2.c, 22.10.1) is
``IAX2/[username[:secret]@]peer-or-host[:port][/exten[@context]][/options]``:

* naming a peer (``IAX2/name/...``) takes its host, port, ``username=``, secret or ``outkey``,
  codecs, ``trunk``, ``encryption`` and ``peercontext``; a dynamic peer is called where it last
  registered (or at ``defaultip``), and a peer whose ``qualify`` says unreachable is not called;
* a username or secret written in the dial string replaces the peer's; ``@context`` asks the far
  end for that context (else ``peercontext``); the option ``a`` asks it to auto-answer;
* without a peer (an address in the dial string) none of the peer's settings apply: [general]'s do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .document import Document, expansions
from .simulate import DEFAULT_PORT, site

SECRET = "<secret>"


@dataclass(frozen=True)
class DialLine:
    text: str
    note: str


@dataclass
class DialInfo:
    section: str
    kind: str
    outgoing: list[DialLine] = field(default_factory=list)  # from this host's dialplan, through the peer
    incoming: list[DialLine] = field(default_factory=list)  # what the other box writes to reach us
    effects: list[str] = field(default_factory=list)  # what trunk, encryption, outkey, ... change
    warnings: list[str] = field(default_factory=list)


def _last(entries, name: str) -> str | None:
    found = [e.value.strip() for e in entries if e.name.strip().lower() == name]
    return found[-1] if found else None


def our_address(document: Document, host_label: str) -> str:
    """How the other box reaches this host: [general] bindaddr when it names one address (with
    bindport when it is not 4569), else a placeholder naming the host."""
    general = document.general
    entries = general.entries if general is not None else []
    address = _last(entries, "bindaddr")
    port = _last(entries, "bindport")
    if not address or address in ("0.0.0.0", "::", "[::]"):
        address = f"<address of {host_label}>"
    if port and port != str(DEFAULT_PORT) and ":" not in address.strip("[]"):
        address += f":{port}"
    return address


def dial_info(document: Document, name: str, *, host_label: str = "this host") -> DialInfo | None:
    """The dial strings and register line of section ``name`` (a peer, user or friend; None for a
    template or a section chan_iax2 does not build)."""
    held = site(document)
    lowered = name.lower()
    index = next(
        (i for i, s in enumerate(document.sections) if s.is_endpoint and s.name.lower() == lowered), None
    )
    if index is None:
        return None
    entries = expansions(document)[index]
    kind = held.sections.get(lowered)
    if entries is None or kind not in ("peer", "user", "friend"):
        return None
    section = document.sections[index].name
    info = DialInfo(section, kind)
    username = _last(entries, "username")
    outkey = _last(entries, "outkey")
    context = _last(entries, "peercontext")
    port = _last(entries, "port")
    peer = held.peers.get(section)
    user = held.users_by_name.get(section)
    us = our_address(document, host_label)

    if peer is not None:
        sends = (
            f"username '{username}'"
            if username
            else "no username (the far end picks a [user] by its ranking)"
        )
        auth = (
            f"signs with key '{outkey}' when asked for rsa"
            if outkey
            else "answers a challenge with its secret"
        )
        if not peer.secret and not outkey:
            auth = "has no secret and no outkey: it can only call a far end that asks for no authentication"
        where = (
            "where it last registered" if peer.dynamic else f"{peer.host}" + (f" port {port}" if port else "")
        )
        info.outgoing.append(
            DialLine(
                f"Dial(IAX2/{section}/${{EXTEN}})",
                f"calls {where}; sends {sends}; {auth}"
                + (f"; asks for context '{context}' (peercontext)" if context else ""),
            )
        )
        info.outgoing.append(
            DialLine(
                f"Dial(IAX2/{section}/${{EXTEN}}@<context>)",
                "the same, asking the far end for that context (its [user] must list it)",
            )
        )
        if not peer.dynamic and peer.host:
            credentials = username or section
            secret_part = f":[{outkey}]" if outkey else (f":{SECRET}" if peer.secret else "")
            target = peer.host + (f":{port}" if port and port != str(DEFAULT_PORT) else "")
            info.outgoing.append(
                DialLine(
                    f"Dial(IAX2/{credentials}{secret_part}@{target}/${{EXTEN}}@<context>)",
                    "the full form, without the peer section: only what the string says is used ([general]'s codecs, "
                    "no trunk, no encryption)",
                )
            )
        if peer.dynamic:
            if not peer.secret and not peer.inkeys:
                info.warnings.append(
                    f"[{section}] has no secret and no inkeys: anyone may register as it and receive "
                    "the calls placed through it"
                )
            if "rsa" in peer.auth and peer.inkeys:
                line = f"register => {section}:[{peer.inkeys[0]}]@{us}"
                note = f"on the other box, which signs with the private half of '{peer.inkeys[0]}'"
            elif peer.secret:
                line = f"register => {section}:{SECRET}@{us}"
                note = f"on the other box, with the secret of [{section}] ({_methods(peer.auth)})"
            else:
                line = f"register => {section}@{us}"
                note = "on the other box; no secret is asked for"
            if peer.inkeys and "rsa" not in peer.auth:
                info.warnings.append(
                    f"[{section}] has inkeys but its auth= ({_methods(peer.auth)}) lacks rsa: a box "
                    "registering with a key is refused"
                )
            info.incoming.append(DialLine(line, note))

    if user is not None:
        if user.inkeys and "rsa" in user.auth:
            credentials = f"{section}:[{user.inkeys[0]}]"
        elif user.secret:
            credentials = f"{section}:{SECRET}"
        else:
            credentials = section
        first = user.contexts[0] if user.contexts else "default"
        info.incoming.append(
            DialLine(
                f"Dial(IAX2/{credentials}@{us}/${{EXTEN}})",
                f"on the other box: calls this host as [{section}], landing in context '{first}'",
            )
        )
    elif kind == "peer":
        info.warnings.append(
            f"[{section}] is type=peer: calls from the other box are never matched to it; make it "
            "type=friend to take them"
        )

    effects = info.effects
    if _true(_last(entries, "trunk")):
        effects.append(
            "trunk=yes: the media of every call to this address travels in shared trunk frames "
            "(fewer packets); it needs a timing module, and the far end should trunk too"
        )
    if peer is not None and peer.encryption:
        effects.append(
            "encryption: AES-128 is offered and used when the far end allows it"
            + ("; forceencryption refuses calls the far end will not encrypt" if peer.force_encrypt else "")
        )
    if outkey:
        effects.append(
            f"outkey={outkey}: when the far end asks for rsa, this host signs with {outkey}.key; the far "
            f"end needs {outkey}.pub in its inkeys"
        )
    qualify = (_last(entries, "qualify") or "").strip()
    if _true(qualify) or (qualify.isdigit() and int(qualify) > 0):
        effects.append("qualify: while the peer does not answer its pokes, Dial() to it fails at once")
    return info


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in {"yes", "true", "y", "t", "1", "on"}


def _methods(methods) -> str:
    return ",".join(m for m in ("md5", "plaintext", "rsa") if m in methods)
