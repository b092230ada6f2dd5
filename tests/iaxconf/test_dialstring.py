"""Dial strings and register lines of a section (peers.iaxconf.dialstring), as chan_iax2's
parse_dial_string / create_addr read them. Secrets are placeholders."""

from __future__ import annotations

from peers.iaxconf.dialstring import dial_info, our_address
from peers.iaxconf.normalise import normalise
from peers.iaxconf.parse import parse

CONF = """[general]
bindport=4570
bindaddr=192.0.2.1

[provider]
type=peer
host=203.0.113.10
username=us
auth=rsa
outkey=ourkey
trunk=yes
peercontext=inbound
qualify=yes

[phone]
type=friend
host=dynamic
secret=Phone-secret-1
context=from-phone
encryption=yes

[keyphone]
type=peer
host=dynamic
inkeys=k1

[tpl](!)
type=user
"""


def info(name: str, text: str = CONF):
    return dial_info(normalise(parse(text).document)[0], name, host_label="pbx1")


def test_a_static_peer_with_a_key():
    found = info("provider")
    assert [line.text for line in found.outgoing] == [
        "Dial(IAX2/provider/${EXTEN})",
        "Dial(IAX2/provider/${EXTEN}@<context>)",
        "Dial(IAX2/us:[ourkey]@203.0.113.10/${EXTEN}@<context>)",
    ]
    assert (
        "sends username 'us'" in found.outgoing[0].note
        and "asks for context 'inbound'" in found.outgoing[0].note
    )
    assert found.incoming == []
    assert any(e.startswith("trunk=yes") for e in found.effects)
    assert any(e.startswith("outkey=ourkey") for e in found.effects)
    assert any(e.startswith("qualify") for e in found.effects)
    assert found.warnings == [
        "[provider] is type=peer: calls from the other box are never matched to it; make it "
        "type=friend to take them"
    ]


def test_a_dynamic_friend_needs_a_register_line_and_never_shows_its_secret():
    found = info("phone")
    assert [line.text for line in found.outgoing] == [
        "Dial(IAX2/phone/${EXTEN})",
        "Dial(IAX2/phone/${EXTEN}@<context>)",
    ]
    assert [line.text for line in found.incoming] == [
        "register => phone:<secret>@192.0.2.1:4570",
        "Dial(IAX2/phone:<secret>@192.0.2.1:4570/${EXTEN})",
    ]
    assert "landing in context 'from-phone'" in found.incoming[1].note
    assert any(e.startswith("encryption: AES-128") for e in found.effects)
    assert "Phone-secret-1" not in repr(found)


def test_a_key_only_peer_without_auth_rsa_is_warned_about():
    found = info("keyphone")
    assert found.incoming[0].text == "register => keyphone@192.0.2.1:4570"
    assert any("lacks rsa" in w for w in found.warnings)


def test_templates_and_unknown_names_have_none():
    assert info("tpl") is None and info("nope") is None


def test_our_address_is_a_placeholder_when_bound_to_every_address():
    document = normalise(parse("[general]\nbindaddr=0.0.0.0\n").document)[0]
    assert our_address(document, "pbx1") == "<address of pbx1>"
