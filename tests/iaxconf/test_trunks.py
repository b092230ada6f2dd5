"""The trunk domain (peers.iaxconf.trunks): what each end writes, the checks, the derived links.
The same configurations are loaded into two real Asterisk instances in
tests/asterisk/test_trunk_wizard.py."""

from __future__ import annotations

import pytest

from peers.iaxconf import Document, KeyInfo, Section, render, validate
from peers.iaxconf import trunks as t
from peers.iaxconf import values as v
from peers.iaxconf.document import expand

SECRET = "Qx7vLm2Rt9Kp4Zs8Wd3Hn6Bc5Yf1Jg0A"


def _conf(plan: t.Side) -> str:
    general = Section("general", [plan.register.entry()] if plan.register else [])
    return render(Document([general, *plan.sections]))


def _ends(**changes):
    a = dict(
        account="pbx-a", address="192.0.2.10", port=4569, registers=True, label="pbx-a", context="from-pbx-b"
    )
    b = dict(
        account="pbx-b", address="192.0.2.20", port=4570, registers=True, label="pbx-b", context="from-pbx-a"
    )
    for key, value in changes.items():
        side, _, name = key.partition("_")
        (a if side == "a" else b)[name] = value
    return t.End(**a), t.End(**b)


def test_both_ends_registering_with_a_secret_write_matching_friends():
    a, b = _ends()
    side_a, side_b = t.pair(a, b, secret=SECRET)
    assert _conf(side_a) == (
        "[general]\n"
        f"register => pbx-a:{SECRET}@192.0.2.20:4570\n\n"
        "; IAX2 trunk with pbx-b (iaxadmin trunk wizard)\n"
        "[pbx-b]\ntype=friend\ndescription=IAX2 trunk with pbx-b\nusername=pbx-a\nhost=dynamic\nauth=md5\n"
        f"secret={SECRET}\ncontext=from-pbx-b\ndisallow=all\nallow=ulaw\nallow=alaw\nqualify=yes\ntrunk=yes\n"
    )
    assert _conf(side_b) == (
        "[general]\n"
        f"register => pbx-b:{SECRET}@192.0.2.10:4569\n\n"
        "; IAX2 trunk with pbx-a (iaxadmin trunk wizard)\n"
        "[pbx-a]\ntype=friend\ndescription=IAX2 trunk with pbx-a\nusername=pbx-b\nhost=dynamic\nauth=md5\n"
        f"secret={SECRET}\ncontext=from-pbx-a\ndisallow=all\nallow=ulaw\nallow=alaw\nqualify=yes\ntrunk=yes\n"
    )
    for plan in (side_a, side_b):
        doc = Document([Section("general", [plan.register.entry()]), *plan.sections])
        assert [f for f in validate(doc, keys={}) if f.is_error] == []


def test_one_end_registering_with_rsa_keys_each_end_signs_with_its_own_key():
    a, b = _ends(b_registers=False)
    side_a, side_b = t.pair(a, b, keys=("key-a", "key-b"), options=t.Options(codecs=("g722",), trunk=False))
    friend_a = side_a.section("pbx-b")
    assert [(e.name, e.value) for e in friend_a.entries] == [
        ("type", "friend"),
        ("description", "IAX2 trunk with pbx-b"),
        ("host", "192.0.2.20"),
        ("port", "4570"),
        ("username", "pbx-a"),
        ("qualify", "yes"),
        ("auth", "rsa"),
        ("inkeys", "key-b"),
        ("outkey", "key-a"),
        ("context", "from-pbx-b"),
        ("disallow", "all"),
        ("allow", "g722"),
        ("trunk", "no"),
    ]
    assert side_a.register == t.Register("pbx-a", "", "key-a", "192.0.2.20", 4570)
    assert side_a.register.value() == "pbx-a:[key-a]@192.0.2.20:4570"
    assert side_b.register is None  # b does not register: a calls b's address, b calls where a registered
    friend_b = side_b.section("pbx-a")
    assert (friend_b.first("host"), friend_b.first("inkeys"), friend_b.first("outkey")) == (
        "dynamic",
        "key-a",
        "key-b",
    )
    keys_a = {"key-a": KeyInfo(True, True, True), "key-b": KeyInfo(True, False)}
    keys_b = {"key-b": KeyInfo(True, True, True), "key-a": KeyInfo(True, False)}
    for plan, keys in ((side_a, keys_a), (side_b, keys_b)):
        general = Section("general", [plan.register.entry()] if plan.register else [])
        assert [f for f in validate(Document([general, *plan.sections]), keys=keys) if f.is_error] == []


def test_a_trunk_name_other_than_the_far_account_makes_a_peer_and_a_user():
    local = t.End("acme-1234", section="acme", context="from-acme", registers=True)
    far = t.End("acme-1234-in", address="iax.example.net", label="Acme")
    plan = t.side(local, far, t.Credentials(secret=SECRET))
    assert [(s.name, s.first("type")) for s in plan.sections] == [("acme", "peer"), ("acme-1234-in", "user")]
    peer, user = plan.sections
    assert (peer.first("host"), peer.first("username"), peer.first("secret"), peer.first("context")) == (
        "iax.example.net",
        "acme-1234",
        SECRET,
        None,
    )
    assert (user.first("secret"), user.first("context"), user.first("host")) == (SECRET, "from-acme", None)
    assert plan.register.value() == f"acme-1234:{SECRET}@iax.example.net"


def test_one_account_name_for_both_directions_is_a_classic_provider_friend():
    local = t.End("acme-1234", context="from-acme", registers=True)
    far = t.End("acme-1234", address="iax.example.net")
    plan = t.side(local, far, t.Credentials(secret=SECRET))
    (friend,) = plan.sections
    assert (friend.name, friend.first("type"), friend.first("username"), friend.first("host")) == (
        "acme-1234",
        "friend",
        "acme-1234",
        "iax.example.net",
    )
    assert plan.register.value() == f"acme-1234:{SECRET}@iax.example.net"


def test_a_far_end_that_registers_gets_a_dynamic_friend_named_after_its_account():
    local = t.End("hq", section="branch-trunk", context="from-branch")
    far = t.End("branch", registers=True)  # no address: it registers with us
    plan = t.side(local, far, t.Credentials(secret=SECRET))
    (friend,) = plan.sections
    assert (friend.name, friend.first("type"), friend.first("host")) == ("branch", "friend", "dynamic")
    assert plan.register is None


@pytest.mark.parametrize(
    ("changes", "credentials", "options", "field", "message"),
    [
        (
            {"b_address": None, "b_registers": False},
            None,
            None,
            "far_address",
            "pbx-a registers with pbx-b, so it needs pbx-b's address",
        ),
        (
            {"a_registers": False, "b_address": None, "b_registers": False},
            None,
            None,
            "far_address",
            "pbx-b does not register, so pbx-a must call its address",
        ),
        ({"b_address": "192.0.2.20:4570"}, None, None, "far_address", "must not contain a port"),
        ({"a_context": "from pbx"}, None, None, "local_context", "context 'from pbx'"),
        ({"a_section": "x[1]"}, None, None, "local_section", "section name 'x[1]'"),
        ({"b_port": 70000}, None, None, "far_port", "port 70000"),
        ({}, t.Credentials(secret="has:colon-in-it"), None, "secret", "':'"),
        ({}, t.Credentials(secret="semi;colon"), None, "secret", "';'"),
        ({}, t.Credentials(secret=""), None, "secret", "needs a secret"),
        ({}, t.Credentials(outkey="a"), None, "inkey", "the far end's public key"),
        (
            {},
            t.Credentials(outkey="a", inkey="b"),
            t.Options(encryption=True),
            "encryption",
            "RSA alone cannot encrypt",
        ),
        ({}, None, t.Options(codecs=("g711",)), "codecs", "'g711'"),
        ({}, None, t.Options(codecs=()), "codecs", "at least one codec"),
    ],
)
def test_a_trunk_that_cannot_work_is_refused_at_its_field(changes, credentials, options, field, message):
    a, b = _ends(**changes)
    with pytest.raises(t.TrunkProblem) as caught:
        t.side(a, b, credentials or t.Credentials(secret=SECRET), options or t.Options())
    assert caught.value.field == field
    assert message in caught.value.message


def test_pair_names_the_fields_of_the_second_end_from_the_first_ends_view():
    a, b = _ends(a_address=None)  # a registers, but b must also call or register: b registers with a
    with pytest.raises(t.TrunkProblem) as caught:
        t.pair(a, b, secret=SECRET)
    assert (caught.value.field, caught.value.message) == (
        "local_address",
        "pbx-b registers with pbx-a, so it needs pbx-a's address",
    )


def test_generated_secrets_are_long_random_and_fit_a_register_line():
    first, second = t.generate_secret(), t.generate_secret()
    assert first != second and len(first) == len(second) == 32
    assert set(first) <= set(t.SECRET_ALPHABET)
    v.secret(first)
    v.register_line(f"user:{first}@host")


# --- links -----------------------------------------------------------------------------------


def test_parse_register_reads_secret_key_and_port():
    assert t.parse_register("u:pw@h.example:4570") == t.Register("u", "pw", None, "h.example", 4570)
    assert t.parse_register("u:[k1]@10.0.0.1") == t.Register("u", "", "k1", "10.0.0.1", None)
    assert t.parse_register("no-at-sign") is None


def test_the_wizards_register_line_links_to_its_peer_and_to_the_far_ends_peer():
    a, b = _ends(b_registers=False)
    side_a, side_b = t.pair(a, b, secret=SECRET)
    register = side_a.register
    assert t.same_account(register, side_a.section("pbx-b").entries)
    assert t.registers_as(register, "pbx-a", side_b.section("pbx-a").entries)
    # not a link: another secret, another port, another user name, a peer that is not dynamic
    other = t.Register("pbx-a", "another-secret", None, "192.0.2.20", 4570)
    assert not t.same_account(other, side_a.section("pbx-b").entries)
    assert not t.registers_as(other, "pbx-a", side_b.section("pbx-a").entries)
    moved = t.Register("pbx-a", SECRET, None, "192.0.2.20", 4569)
    assert not t.same_account(moved, side_a.section("pbx-b").entries)
    assert not t.registers_as(register, "pbx-x", side_b.section("pbx-a").entries)
    assert not t.registers_as(register, "pbx-b", side_a.section("pbx-b").entries)


def test_links_follow_inheritance_and_rsa_keys():
    wizard = t.side(*_ends(b_registers=False), t.Credentials(outkey="ka", inkey="kb")).sections[0]
    template = Section("trunks", wizard.entries, is_template=True)
    peer = Section("to-b", [], bases=["trunks"])
    entries = expand(Document([template, peer]))["to-b"]
    register = t.Register("pbx-a", "", "ka", "192.0.2.20", 4570)
    assert t.same_account(register, entries)
    assert not t.same_account(t.Register("pbx-a", "", "kb", "192.0.2.20", 4570), entries)
    dynamic = t.side(*reversed(_ends(b_registers=False)), t.Credentials(outkey="kb", inkey="ka")).sections[0]
    assert t.registers_as(register, "pbx-a", dynamic.entries)
