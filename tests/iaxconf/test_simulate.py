"""The call and registration simulator (peers.iaxconf.simulate), one rule at a time, on texts read
by the parser. Each rule names the chan_iax2.c function it mirrors; tests/asterisk/test_simulate_live.py
places the same kinds of calls at a real Asterisk 22.10.1."""

from __future__ import annotations

import json

import pytest

from peers.iaxconf import KeyInfo
from peers.iaxconf.acl import evaluate, parse_address, rules
from peers.iaxconf.codecs import Codecs, names
from peers.iaxconf.normalise import normalise
from peers.iaxconf.parse import parse
from peers.iaxconf.simulate import (
    AMBIGUOUS,
    Call,
    Registration,
    SimulationError,
    ast_str_hash,
    bucket,
    simulate_call,
    simulate_registration,
    site,
)

ALICE = "Alice-secret-1"


def doc(text: str):
    return normalise(parse(text).document)[0]


def conf(*sections: str, general: str = "authdebug=yes") -> str:
    return "[general]\n" + general + "\n\n" + "\n\n".join(sections) + "\n"


ALICE_USER = f"[alice]\ntype=friend\nhost=dynamic\nsecret={ALICE}\ncontext=from-alice"


def call(text: str, **kwargs):
    kwargs.setdefault("address", "192.0.2.10:4570")
    kwargs.setdefault("exten", "100")
    contexts = kwargs.pop("contexts", None)
    keys = kwargs.pop("keys", None)
    return simulate_call(doc(text), Call(**kwargs), keys=keys, contexts=contexts)


def lines(result) -> list[str]:
    return [str(line) for line in result.logged]


# --- acl.c ------------------------------------------------------------------------------------


def test_the_last_matching_acl_line_decides():
    address = parse_address("127.0.0.1")
    permit_then_deny = rules("permit", "127.0.0.1") + rules("deny", "0.0.0.0/0.0.0.0")
    assert evaluate(permit_then_deny, address).allowed is False
    deny_then_permit = rules("deny", "0.0.0.0/0") + rules("permit", "127.0.0.0/8")
    verdict = evaluate(deny_then_permit, address)
    assert verdict.allowed is True and verdict.deciding.line == "permit=127.0.0.0/8"
    assert evaluate([], address).allowed is True


def test_acl_entries_lists_negation_masks_and_families():
    assert [r.text for r in rules("deny", "10.0.0.0/8, !10.1.0.0/255.255.0.0")] == [
        "10.0.0.0/8",
        "!10.1.0.0/255.255.0.0",
    ]
    negated = rules("deny", "!10.1.0.0/16")[0]
    assert negated.allow is True
    assert (
        evaluate(rules("deny", "0.0.0.0/0"), parse_address("2001:db8::1")).allowed is True
    )  # v4 rule, v6 address
    assert evaluate(rules("deny", "0.0.0.0/0"), parse_address("::ffff:192.0.2.1")).allowed is False  # mapped
    # an entry Asterisk cannot read drops the rest of its line
    assert [r.text for r in rules("permit", "10.0.0.1,bogus,10.0.0.2")] == ["10.0.0.1"]
    named = evaluate(rules("acl", "office"), parse_address("10.0.0.1"))
    assert named.allowed is True and named.unknown == ("office",)


# --- codecs -----------------------------------------------------------------------------------


def test_codec_preferences_follow_allow_and_disallow_lines():
    default = Codecs()
    assert default.prefs[:4] == ["ulaw", "alaw", "siren14", "siren7"]
    assert "opus" not in default.capability  # not in IAX_CAPABILITY_FULLBANDWIDTH
    codecs = Codecs()
    codecs.apply("all", False)
    codecs.apply("gsm,ulaw", True)
    codecs.apply("alaw", True)
    codecs.apply("gsm", True)  # already there: keeps its place
    assert codecs.prefs == ["gsm", "ulaw", "alaw"]
    codecs.apply("!ulaw", True)
    assert codecs.prefs == ["gsm", "alaw"]
    assert codecs.apply("nonsense", True) == ["nonsense"]
    assert names({"ulaw", "gsm"}) == "(gsm|ulaw)"  # bit order


# --- hash order ---------------------------------------------------------------------------------


def test_ast_str_hash_is_djb2_with_xor():
    assert ast_str_hash("") == 5381
    assert ast_str_hash("a") == (5381 * 33) ^ ord("a")
    assert bucket("front") < bucket("reception")


def test_users_are_held_in_hash_order_then_file_order():
    text = conf("[reception]\ntype=user", "[front]\ntype=user", "[peer-only]\ntype=peer\nhost=dynamic")
    held = site(doc(text))
    assert [u.name for u in held.users] == ["front", "reception"]
    assert list(held.peers) == ["peer-only"]


# --- handle_call_token / calltoken_required -----------------------------------------------------


def test_a_caller_without_call_tokens_is_refused_by_default():
    result = call(conf(ALICE_USER), username="alice", secret=ALICE, calltoken=False)
    assert result.outcome == "rejected" and result.section is None and result.cause is None
    assert lines(result) == [
        "ERROR chan_iax2.c: Call rejected, CallToken Support required. If unexpected, resolve by placing address "
        "192.0.2.10:4570 in the calltokenoptional list or setting user alice requirecalltoken=no"
    ]
    assert (result.fix.section, result.fix.directive, result.fix.value) == (
        "alice",
        "requirecalltoken",
        "auto",
    )


@pytest.mark.parametrize(
    "general,user_line,required",
    [
        ("calltokenoptional=192.0.2.0/24", "", False),
        ("calltokenoptional=192.0.2.0/24", "requirecalltoken=yes", True),  # yes outranks the range
        ("", "requirecalltoken=no", False),
        ("", "requirecalltoken=auto", False),
        ("calltokenoptional=198.51.100.0/24", "", True),
    ],
)
def test_call_token_exemptions(general, user_line, required):
    text = conf(ALICE_USER + ("\n" + user_line if user_line else ""), general=general)
    result = call(text, username="alice", secret=ALICE, calltoken=False, contexts=["from-alice"])
    assert (result.outcome == "rejected") is required


def test_without_a_username_the_guest_user_decides_on_call_tokens():
    text = conf("[guest]\ntype=user\ncontext=public\nrequirecalltoken=no")
    assert call(text, calltoken=False, contexts=["public"]).outcome == "accepted"
    refused = call(conf(ALICE_USER), calltoken=False)
    assert "setting user guest requirecalltoken=no" in refused.log
    assert (refused.fix.section, refused.fix.directive) == ("general", "calltokenoptional")


# --- peercnt_add / get_unused_callno --------------------------------------------------------------


def test_call_number_limits():
    text = conf(ALICE_USER) + "\n[callnumberlimits]\n192.0.2.0/24 = 2\n"
    assert call(text, username="alice", secret=ALICE, calls_in_use=1).outcome == "accepted"
    full = call(text, username="alice", secret=ALICE, calls_in_use=2)
    assert full.outcome == "rejected"
    assert full.log == "ERROR chan_iax2.c: maxcallnumber limit of 2 for 192.0.2.10 has been reached!"
    assert full.fix.section == "callnumberlimits"
    starved = call(
        conf(ALICE_USER, general="maxcallnumbers_nonvalidated=0\ncalltokenoptional=0.0.0.0/0"),
        username="alice",
        secret=ALICE,
        calltoken=False,
    )
    assert starved.outcome == "rejected"
    assert lines(starved)[-1] == "WARNING chan_iax2.c: No more space"


# --- check_access -----------------------------------------------------------------------------


def test_an_exact_username_takes_the_call_and_lands_in_its_first_context():
    text = conf(ALICE_USER + "\ncontext=second")
    result = call(text, username="alice", secret=ALICE, contexts=["from-alice", "second"])
    assert (result.outcome, result.section, result.context, result.auth_method) == (
        "accepted",
        "alice",
        "from-alice",
        "md5",
    )
    assert result.log == "VERBOSE chan_iax2.c: Accepting AUTHENTICATED call from 192.0.2.10:4570:"
    chosen = [c for c in result.candidates if c.chosen]
    assert [c.section for c in chosen] == ["alice"]
    asked = call(text, username="alice", secret=ALICE, context="second", contexts=["from-alice", "second"])
    assert asked.context == "second"


def test_a_username_nobody_has_gets_a_challenge_no_answer_passes():
    result = call(conf(ALICE_USER), username="mallory", secret="guess")
    assert result.outcome == "rejected" and result.cause == "No authority found" and result.cause_code == 50
    assert lines(result) == ["WARNING chan_iax2.c: Host 192.0.2.10:4570 failed to authenticate as mallory"]
    assert "No [user] or [friend] is named 'mallory'" in " ".join(result.explain())


def test_names_are_compared_with_case_and_peers_never_take_calls():
    result = call(conf(ALICE_USER), username="Alice", secret=ALICE)
    assert result.outcome == "rejected" and "[alice] differs" in " ".join(result.explain())
    peer = call(
        conf("[trunk]\ntype=peer\nhost=192.0.2.1\nsecret=Trunk-secret-1"), username="trunk", secret="x"
    )
    assert (peer.fix.section, peer.fix.directive, peer.fix.value) == ("trunk", "type", "friend")


def test_an_acl_that_refuses_the_address_logs_and_points_at_permit():
    text = conf(ALICE_USER + "\ndeny=0.0.0.0/0.0.0.0\npermit=10.0.0.0/8")
    result = call(text, username="alice", secret=ALICE)
    assert lines(result) == [
        "NOTICE acl.c: IAX2 user ACL: Rejecting '192.0.2.10' due to a failure to pass ACL '(BASELINE)'",
        "WARNING chan_iax2.c: Host 192.0.2.10:4570 failed to authenticate as alice",
    ]
    assert result.candidates[0].included is False
    assert "deny=0.0.0.0/0.0.0.0 refuses 192.0.2.10" in result.candidates[0].reasons[0]
    assert (result.fix.section, result.fix.directive, result.fix.value) == (
        "alice",
        "permit",
        "192.0.2.10/32",
    )


def test_a_requested_context_must_be_in_the_users_list():
    result = call(conf(ALICE_USER), username="alice", secret=ALICE, context="elsewhere")
    assert result.outcome == "rejected" and result.fix.directive == "context"
    assert (
        call(conf(ALICE_USER + "\ncontext=*"), username="alice", secret=ALICE, context="elsewhere").outcome
        == "accepted"
    )
    no_list = call(conf(f"[bare]\ntype=user\nsecret={ALICE}"), username="bare", secret=ALICE, context="x")
    assert no_list.outcome == "rejected"  # without context= lines no requested context is permitted
    default = call(conf(f"[bare]\ntype=user\nsecret={ALICE}"), username="bare", secret=ALICE)
    assert default.context == "default"


def test_without_a_username_the_best_score_wins():
    text = conf(
        "[lobby]\ntype=user\ncontext=lobby",  # no auth, no ACL: 3
        "[lan]\ntype=user\ncontext=lan\ndeny=0.0.0.0/0\npermit=192.0.2.0/24",  # no auth, ACL: 4
        f"[office]\ntype=user\nsecret={ALICE}\ncontext=office\npermit=192.0.2.0/24",  # auth, ACL: 2
        ALICE_USER,  # auth: 1
    )
    result = call(text)
    assert (result.outcome, result.section, result.context) == ("accepted", "lan", "lan")
    assert {c.section: c.score for c in result.candidates} == {"lobby": 3, "lan": 4, "office": 2, "alice": 1}
    elsewhere = call(text, address="203.0.113.9")
    assert elsewhere.section == "lobby"
    assert elsewhere.logged[0].message.startswith("IAX2 user ACL: Rejecting '203.0.113.9'")


def test_a_tie_is_ambiguous_and_names_todays_pick_by_hash_order():
    text = conf("[reception]\ntype=user\ncontext=r", "[front]\ntype=user\ncontext=f")
    result = call(text)
    assert result.outcome == AMBIGUOUS and result.section is None
    assert result.tied == ["front", "reception"] and result.pick == "front"  # not the first in the file
    assert result.context == "f"
    assert (result.fix.directive, result.fix.section) == ("permit", "front")
    data = result.to_dict()
    assert data["outcome"] == "ambiguous" and data["pick"] == "front"


def test_a_tie_stays_ambiguous_when_todays_pick_is_refused():
    text = conf("[reception]\ntype=user\ncontext=r", "[front]\ntype=user\ncontext=missing")
    result = call(text, contexts=["r"])
    assert (result.outcome, result.pick, result.cause) == (AMBIGUOUS, "front", "No such context/extension")


def test_nobody_admits_an_anonymous_caller():
    result = call(conf(ALICE_USER + "\ndeny=0.0.0.0/0"))
    assert result.outcome == "rejected" and result.cause == "No authority found"
    assert result.log == (
        "NOTICE chan_iax2.c: Rejected connect attempt from 192.0.2.10:4570, who was trying to reach '100@'"
    )
    assert result.logged[-1].authdebug is True


# --- authentication -------------------------------------------------------------------------------


def test_a_wrong_secret_fails_md5_once_per_secret_line():
    result = call(conf(ALICE_USER + "\nsecret=Second-secret-2"), username="alice", secret="wrong")
    assert lines(result) == [
        "WARNING chan_iax2.c: MD5 secret mismatch",
        "WARNING chan_iax2.c: MD5 secret mismatch",
        "WARNING chan_iax2.c: Host 192.0.2.10:4570 failed to authenticate as alice",
    ]
    assert (result.fix.section, result.fix.directive) == ("alice", "secret")
    second = call(conf(ALICE_USER + "\nsecret=Second-secret-2"), username="alice", secret="Second-secret-2")
    assert second.outcome == "accepted"


def test_md5_against_a_plaintext_only_user():
    text = conf(f"[ptext]\ntype=user\nsecret={ALICE}\nauth=plaintext\ncontext=c")
    md5_only = call(text, username="ptext", secret=ALICE, auth=("md5",), contexts=["c"])
    assert md5_only.outcome == "rejected" and md5_only.cause is None
    assert md5_only.logged[-1].side == "caller"
    assert (md5_only.fix.directive, md5_only.fix.value) == ("auth", "md5")
    adapts = call(text, username="ptext", secret=ALICE, contexts=["c"])  # an Asterisk caller falls back
    assert adapts.outcome == "accepted" and adapts.auth_method == "plaintext"
    assert any("clear text" in w for w in adapts.warnings)


def test_rsa_verifies_against_inkeys():
    text = conf("[rsa]\ntype=user\nauth=rsa\ninkeys=k1:k2\ncontext=c")
    keys = {"k1": KeyInfo(), "k2": KeyInfo()}
    assert call(text, username="rsa", key="k2", keys=keys, contexts=["c"]).auth_method == "rsa"
    wrong = call(text, username="rsa", key="k3", keys=keys, contexts=["c"])
    assert lines(wrong) == [
        "WARNING chan_iax2.c: No RSA public keys on file matched incoming call",
        "WARNING chan_iax2.c: Host 192.0.2.10:4570 failed to authenticate as rsa",
    ]
    assert (wrong.fix.directive, wrong.fix.value) == ("inkeys", "k1:k2:k3")
    missing = call(text, username="rsa", key="k2", keys={"k2": KeyInfo()}, contexts=["c"])
    assert (
        lines(missing)[0] == "WARNING chan_iax2.c: Requested inkey 'k1' for RSA authentication does not exist"
    )
    no_key = call(text, username="rsa", secret="x", contexts=["c"])
    assert no_key.outcome == "rejected"
    assert (
        str(no_key.logged[-1])
        == "WARNING chan_iax2.c: Call terminated. RSA authentication requires an outkey"
    )


def test_default_auth_methods_follow_secret_and_inkeys():
    held = site(
        doc(
            conf(
                "[a]\ntype=user\nsecret=x",
                "[b]\ntype=user\ninkeys=k",
                "[c]\ntype=user\nsecret=x\ninkeys=k",
                "[d]\ntype=user",
            )
        )
    )
    auth = {u.name: u.auth for u in held.users}
    assert (
        auth["a"] == {"md5"} and auth["b"] == {"rsa"} and auth["c"] == {"md5", "rsa"} and auth["d"] == {"md5"}
    )
    assert site(doc(conf("[e]\ntype=user\nsecret=x", general="auth=rsa"))).users[0].auth == {
        "rsa"
    }  # [general]
    assert site(doc(conf("[p]\ntype=peer\nhost=dynamic\ninkeys=k"))).peers["p"].auth == {"md5"}  # build_peer


def test_forced_encryption():
    text = conf(ALICE_USER + "\nforceencryption=yes")
    plain = call(text, username="alice", secret=ALICE)
    assert (
        lines(plain)[0]
        == "WARNING chan_iax2.c: Call Terminated, incoming call is unencrypted while force encrypt is enabled."
    )
    assert plain.fix.directive == "forceencryption"
    encrypted = call(text, username="alice", secret=ALICE, encryption=True)
    assert encrypted.outcome == "accepted" and encrypted.encrypted is True
    no_secret = call(conf("[open]\ntype=user\nforceencryption=yes\ncontext=c"))
    assert (
        no_secret.log
        == "WARNING chan_iax2.c: Rejected connect attempt.  No secret present while force encrypt enabled."
    )


# --- ast_exists_extension ---------------------------------------------------------------------------


def test_a_context_the_dialplan_lacks_cannot_hold_the_extension():
    result = call(conf(ALICE_USER), username="alice", secret=ALICE, contexts=["other"])
    assert (
        result.outcome == "rejected"
        and result.cause == "No such context/extension"
        and result.cause_code == 3
    )
    assert result.log == (
        "WARNING chan_iax2.c: Rejected connect attempt from 192.0.2.10:4570, request "
        "'100@from-alice' does not exist"
    )
    assert (result.fix.section, result.fix.directive) == ("alice", "context")
    unauthenticated = call(conf("[lobby]\ntype=user\ncontext=lobby"), contexts=["other"])
    assert unauthenticated.logged[-1].level == "NOTICE"  # the NEW path logs at NOTICE
    unknown = call(conf(ALICE_USER), username="alice", secret=ALICE)
    assert unknown.outcome == "accepted"
    assert "extension '100' must exist in context 'from-alice' of the dialplan" in unknown.conditions


# --- codec choice -----------------------------------------------------------------------------------


def test_no_common_codec():
    text = conf(ALICE_USER + "\ndisallow=all\nallow=gsm")
    result = call(text, username="alice", secret=ALICE, codecs=("ulaw",))
    assert result.cause == "Unable to negotiate codec" and result.cause_code == 58
    assert result.log == (
        "WARNING chan_iax2.c: Rejected connect attempt from 192.0.2.10:4570, requested/capability "
        "'(ulaw)'/'(ulaw)' incompatible with our capability '(gsm)'."
    )
    assert (result.fix.directive, result.fix.value) == ("allow", "ulaw")


@pytest.mark.parametrize(
    "priority,offered,chosen",
    [
        ("host", ("gsm", "ulaw"), "ulaw"),  # our preferences
        ("caller", ("gsm", "ulaw"), "gsm"),  # the caller's
        ("disabled", ("gsm", "ulaw"), "gsm"),  # what the caller asked for
        ("reqonly", ("g729", "ulaw"), None),  # asked for a codec we do not allow: refused
    ],
)
def test_codec_priority(priority, offered, chosen):
    text = conf(ALICE_USER + f"\ncodecpriority={priority}\ndisallow=all\nallow=ulaw,gsm")
    assert call(text, username="alice", secret=ALICE, codecs=offered).codec == chosen


# --- register_verify ------------------------------------------------------------------------------


def register(text: str, **kwargs):
    kwargs.setdefault("address", "192.0.2.10:4570")
    keys = kwargs.pop("keys", None)
    return simulate_registration(doc(text), Registration(**kwargs), keys=keys)


def test_a_registration_that_works_and_what_show_peers_then_shows():
    result = register(conf(ALICE_USER), peer="alice", secret=ALICE)
    assert (result.outcome, result.section, result.auth_method) == ("accepted", "alice", "md5")
    assert result.log == "VERBOSE chan_iax2.c: Registered IAX2 'alice' (AUTHENTICATED) at 192.0.2.10:4570"
    assert result.peer_row == {
        "name": "alice",
        "host": "192.0.2.10",
        "dynamic": True,
        "port": "4570",
        "status": "Unmonitored",
        "expiry": 60,
    }


@pytest.mark.parametrize(
    "section,kwargs,expected,directive",
    [
        (
            ALICE_USER,
            {"peer": "ghost", "secret": "x"},
            ["NOTICE chan_iax2.c: No registration for peer 'ghost' (from 192.0.2.10)"] * 2,
            None,
        ),
        (
            "[office]\ntype=peer\nhost=192.0.2.10\nsecret=Office-secret-1",
            {"peer": "office", "secret": "Office-secret-1"},
            ["NOTICE chan_iax2.c: Peer 'office' is not dynamic (from 192.0.2.10)"],
            "host",
        ),
        (
            ALICE_USER + "\ndeny=0.0.0.0/0",
            {"peer": "alice", "secret": ALICE},
            [
                "NOTICE acl.c: IAX2 Peer ACL: Rejecting '192.0.2.10' due to a failure to pass ACL '(BASELINE)'",
                "NOTICE chan_iax2.c: Host 192.0.2.10 denied access to register peer 'alice'",
            ],
            "permit",
        ),
        (
            ALICE_USER,
            {"peer": "alice", "secret": "wrong"},
            [
                "NOTICE chan_iax2.c: Host 192.0.2.10 failed MD5 authentication for 'alice' (<expected> != <received>)"
            ],
            "secret",
        ),
        (
            "[p]\ntype=peer\nhost=dynamic\nsecret=Plain-secret-1\nauth=plaintext",
            {"peer": "p", "secret": "wrong"},
            ["NOTICE chan_iax2.c: Host 192.0.2.10 did not provide proper plaintext password for 'p'"],
            "secret",
        ),
    ],
    ids=["unknown", "static", "acl", "md5", "plaintext"],
)
def test_refused_registrations(section, kwargs, expected, directive):
    result = register(conf(section), **kwargs)
    assert result.outcome == "rejected" and result.cause == "Registration Refused" and result.cause_code == 29
    assert lines(result) == expected
    assert (result.fix.directive if result.fix else None) == directive


def test_an_open_peer_registers_for_anyone_with_a_warning():
    result = register(conf("[phone]\ntype=peer\nhost=dynamic"), peer="phone")
    assert result.outcome == "accepted" and result.auth_method == "none"
    assert "UNAUTHENTICATED" in result.log
    assert result.warnings == [
        "anyone may register as [phone] and receive its calls: give it a secret (or inkeys)"
    ]


def test_rsa_registrations_need_auth_rsa_on_the_peer():
    keys = {"k1": KeyInfo()}
    good = register(
        conf("[phone]\ntype=peer\nhost=dynamic\nauth=rsa\ninkeys=k1"), peer="phone", key="k1", keys=keys
    )
    assert good.outcome == "accepted" and good.auth_method == "rsa"
    # a peer without auth= asks for md5 even with inkeys: a key cannot answer that
    md5 = register(conf("[phone]\ntype=peer\nhost=dynamic\ninkeys=k1"), peer="phone", key="k1", keys=keys)
    assert md5.outcome == "rejected"
    assert str(md5.logged[-1]).endswith("with an RSA key, but they don't allow RSA authentication")
    assert (md5.fix.directive, md5.fix.value) == ("auth", "md5,rsa")


def test_registration_expiry_is_kept_within_min_and_max():
    result = register(conf(ALICE_USER, general="maxregexpire=30"), peer="alice", secret=ALICE, refresh=120)
    assert (
        lines(result)[0]
        == "NOTICE chan_iax2.c: Restricting registration for peer 'alice' to 30 seconds (requested 120)"
    )
    assert result.peer_row["expiry"] == 30


# --- input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"address": "pbx.example.net"}, "address"),
        ({"address": "192.0.2.1:99999"}, "address"),
        ({"auth": ("md5", "kerberos")}, "auth"),
        ({"codecs": ("ulaw", "mp3")}, "codecs"),
    ],
)
def test_bad_parameters_name_their_field(kwargs, field):
    with pytest.raises(SimulationError) as caught:
        call(conf(ALICE_USER), **kwargs)
    assert caught.value.field == field


def test_the_result_is_plain_json():
    result = call(conf(ALICE_USER), username="alice", secret="wrong")
    data = json.loads(json.dumps(result.to_dict()))
    assert {"outcome", "section", "candidates", "cause", "log", "fix"} <= set(data)
    assert data["fix"]["directive"] == "secret"
    assert data["candidates"][0]["section"] == "alice"
    assert ALICE not in json.dumps(data) and "wrong" not in json.dumps(data)
