"""validate(): one test per finding code, a bad document that produces exactly that finding and a good
document that does not, the rules being what chan_iax2 of Asterisk 22.10.1 reads and does.

Sections are built with line numbers as a parser would give them: ``sec(name, ..., at=10)`` puts the
header on line 10 and the entries on lines 11, 12, ...
"""

from __future__ import annotations

import importlib

import pytest

from peers.iaxconf import ERROR, WARNING, Document, Entry, Finding, KeyInfo, Section, validate

STRONG = "hT7#qL9v!Xk2pZ"  # a secret no strength rule objects to
STRONG2 = "Rw4$mN8c@Jd5sY"


def sec(
    name: str,
    *pairs: tuple[str, str],
    at: int,
    template: bool = False,
    bases: tuple[str, ...] = (),
    addition: bool = False,
) -> Section:
    entries = [Entry(key, value, line=at + offset) for offset, (key, value) in enumerate(pairs, start=1)]
    return Section(name, entries, is_template=template, bases=list(bases), is_addition=addition, line=at)


def general(*pairs: tuple[str, str], at: int = 1) -> Section:
    return sec("general", *(pairs or (("bindport", "4569"),)), at=at)


def doc(*sections: Section, with_general: bool = True) -> Document:
    return Document(sections=[general(), *sections] if with_general else list(sections))


def user(name: str = "alice", *pairs: tuple[str, str], at: int = 10, **options) -> Section:
    return sec(name, ("type", "user"), *pairs, at=at, **options)


def peer(name: str = "trunk", *pairs: tuple[str, str], at: int = 10, **options) -> Section:
    return sec(name, ("type", "peer"), *pairs, at=at, **options)


def summary(findings: list[Finding]) -> list[tuple]:
    return [(f.severity, f.code, f.section, f.directive, f.value, f.line) for f in findings]


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, summary(findings)
    return findings[0]


# ---------------------------------------------------------------------------------------------
# A clean, realistic document


def realistic() -> Document:
    return Document(
        sections=[
            sec(
                "general",
                ("bindport", "4569"),
                ("bindaddr", "0.0.0.0"),
                ("iaxthreadcount", "10"),
                ("iaxmaxthreadcount", "100"),
                ("tos", "EF"),
                ("cos", "5"),
                ("bandwidth", "high"),
                ("disallow", "all"),
                ("allow", "g722"),
                ("allow", "ulaw"),
                ("allow", "alaw"),
                ("jitterbuffer", "yes"),
                ("maxjitterbuffer", "1000"),
                ("resyncthreshold", "1000"),
                ("maxjitterinterps", "10"),
                ("jittertargetextra", "40"),
                ("pingtime", "21"),
                ("lagrqtime", "10"),
                ("authdebug", "no"),
                ("encryption", "no"),
                ("trunkfreq", "20"),
                ("autokill", "yes"),
                ("iaxcompat", "no"),
                ("regcontext", "iax-registrations"),
                ("adsi", "no"),
                ("calltokenexpiration", "10"),
                ("calltokenoptional", "192.0.2.0/24"),
                ("delayreject", "yes"),
                ("minregexpire", "60"),
                ("maxregexpire", "120"),
                ("srvlookup", "yes"),
                ("register", f"office:{STRONG}@pbx.example.com"),
                ("register", "branch:[branchkey]@branch.example.com:4570"),
                at=1,
            ),
            sec("callnumberlimits", ("192.0.2.0/24", "100"), ("198.51.100.7", "20"), at=40),
            sec(
                "phone",
                ("type", "friend"),
                ("host", "dynamic"),
                ("auth", "md5"),
                ("context", "from-phones"),
                ("disallow", "all"),
                ("allow", "g722"),
                ("allow", "ulaw"),
                ("deny", "0.0.0.0/0.0.0.0"),
                ("permit", "192.0.2.0/255.255.255.0"),
                ("permit", "2001:db8::/32"),
                ("requirecalltoken", "auto"),
                ("qualify", "yes"),
                ("transfer", "mediaonly"),
                at=50,
                template=True,
            ),
            sec(
                "alice",
                ("secret", STRONG),
                ("callerid", '"Alice" <100>'),
                ("mailbox", "100@default"),
                at=70,
                bases=("phone",),
            ),
            sec(
                "bob",
                ("secret", STRONG2),
                ("callerid", '"Bob" <101>'),
                ("setvar", "TEAM=sales"),
                at=80,
                bases=("phone",),
            ),
            sec(
                "provider",
                ("type", "peer"),
                ("host", "voip.example.net"),
                ("port", "4570"),
                ("username", "acme"),
                ("secret", STRONG),
                ("auth", "md5,rsa"),
                ("outkey", "acmekey"),
                ("inkeys", "provider"),
                ("encryption", "yes"),
                ("trunk", "yes"),
                ("disallow", "all"),
                ("allow", "ulaw"),
                ("context", "from-provider"),
                at=90,
            ),
            sec(
                "partner",
                ("type", "user"),
                ("auth", "rsa"),
                ("inkeys", "partner:partner2"),
                ("context", "from-partner"),
                ("context", "partner-extra"),
                ("permit", "203.0.113.0/24"),
                ("language", "en"),
                ("accountcode", "partner"),
                at=110,
            ),
        ]
    )


REALISTIC_KEYS = {
    "branchkey": KeyInfo(has_public=True, has_private=True, private_encrypted=True),
    "acmekey": KeyInfo(has_public=True, has_private=True, private_encrypted=True),
    "provider": KeyInfo(),
    "partner": KeyInfo(),
    "partner2": KeyInfo(),
}


def test_realistic_document_has_no_findings():
    assert validate(realistic(), keys=REALISTIC_KEYS) == []


def test_realistic_document_has_no_findings_without_a_key_store():
    assert validate(realistic()) == []


def test_finding_location_and_text_name_section_directive_and_line():
    bad = only(validate(Document([general(("bindport", "80"), at=3)])))
    assert bad.location() == "line 4: [general] bindport"
    assert str(bad).startswith("error: line 4: [general] bindport: bindport='80' is out of range")
    assert str(bad).endswith("(invalid-value)")
    assert bad.is_error


# ---------------------------------------------------------------------------------------------
# Sections: [general], [callnumberlimits], names, templates, additions


def test_second_general_is_reported():
    found = validate(doc(sec("General", ("tos", "ef"), at=20)))
    assert summary(found) == [(ERROR, "duplicate-general", "General", None, None, 20)]
    assert "only the first is read" in found[0].message


def test_single_general_is_not_reported():
    assert validate(doc()) == []


def test_general_addition_is_not_a_duplicate():
    assert validate(doc(sec("general", ("tos", "ef"), at=20, addition=True))) == []


def test_general_addition_lines_are_checked_as_part_of_general():
    addition = Document(
        [
            sec("general", ("bindaddr", "0.0.0.0"), at=1),
            sec("general", ("bindport", "4569"), at=10, addition=True),
        ]
    )
    assert summary(validate(addition)) == [
        (WARNING, "bindport-after-bindaddr", "general", "bindport", "4569", 11)
    ]


def test_endpoint_addition_lines_are_checked_with_the_section_they_extend():
    found = validate(
        doc(user("alice", ("secret", STRONG)), sec("alice", ("qualify", "yes"), at=20, addition=True))
    )
    assert summary(found) == [(ERROR, "misplaced-directive", "alice", "qualify", "yes", 21)]


def test_addition_without_a_section_is_reported():
    found = validate(doc(sec("alice", ("secret", STRONG), at=20, addition=True)))
    assert summary(found) == [(ERROR, "addition-without-section", "alice", None, "alice", 20)]
    assert "rejects the whole file" in found[0].message


def test_second_callnumberlimits_is_reported():
    found = validate(
        doc(
            sec("callnumberlimits", ("10.0.0.0/8", "10"), at=10),
            sec("callnumberlimits", ("10.1.0.0/16", "20"), at=20),
        )
    )
    assert summary(found) == [(WARNING, "duplicate-callnumberlimits", "callnumberlimits", None, None, 20)]


def test_single_callnumberlimits_is_not_reported():
    assert validate(doc(sec("callnumberlimits", ("10.0.0.0/8", "10"), at=10))) == []


def test_section_name_with_a_space_is_reported():
    found = validate(doc(user("alice smith", ("secret", STRONG))))
    assert summary(found) == [(ERROR, "invalid-section-name", "alice smith", None, "alice smith", 10)]
    assert found[0].rule == "section-name"
    assert "section name 'alice smith' may not contain spaces" in found[0].message


def test_section_name_over_79_characters_is_reported():
    name = "a" * 80
    found = only(validate(doc(user(name, ("secret", STRONG)))))
    assert (found.code, found.rule, found.value) == ("invalid-section-name", "too-long", name)


def test_plain_section_name_is_not_reported():
    assert validate(doc(user("alice-1", ("secret", STRONG)))) == []


def test_duplicate_section_names_are_reported_case_insensitively():
    found = validate(doc(user("alice", ("secret", STRONG)), user("Alice", ("secret", STRONG2), at=20)))
    assert summary(found) == [(ERROR, "duplicate-section", "Alice", None, "Alice", 20)]
    assert "[Alice] is defined twice" in found[0].message


def test_each_of_two_sections_with_one_name_is_checked_on_its_own_lines():
    # Asterisk reads both; the first is a peer without host=, the second a user with a secret.
    found = validate(doc(peer("alice", at=10), user("alice", ("secret", STRONG), at=20)))
    assert summary(found) == [
        (ERROR, "duplicate-section", "alice", None, "alice", 20),
        (ERROR, "missing-host", "alice", "host", "", 10),
    ]


def test_distinct_section_names_are_not_reported():
    assert validate(doc(user("alice", ("secret", STRONG)), user("bob", ("secret", STRONG2), at=20))) == []


def test_template_callnumberlimits_is_reported():
    found = validate(doc(sec("callnumberlimits", ("10.0.0.0/8", "10"), at=10, template=True)))
    assert summary(found) == [(ERROR, "special-section-options", "callnumberlimits", None, None, 10)]
    assert "cannot be a template or inherit" in found[0].message


def test_general_inheriting_from_a_template_is_reported():
    found = validate(
        Document(
            [
                sec("common", ("transfer", "no"), at=1, template=True),
                sec("general", ("bindport", "4569"), at=5, bases=("common",)),
            ]
        )
    )
    assert summary(found) == [(ERROR, "special-section-options", "general", None, None, 5)]


def test_unknown_base_is_reported():
    found = validate(doc(user("alice", ("secret", STRONG), bases=("phones",))))
    assert summary(found) == [(ERROR, "unknown-base", "alice", None, "phones", 10)]
    assert "inherits from 'phones', which is not defined" in found[0].message


def test_base_defined_later_is_reported():
    found = validate(
        doc(
            user("alice", ("secret", STRONG), bases=("phone",)),
            sec("phone", ("context", "phones"), at=20, template=True),
        )
    )
    assert summary(found) == [(ERROR, "base-order", "alice", None, "phone", 10)]
    assert "must be defined before it" in found[0].message


def test_base_defined_earlier_is_not_reported():
    found = validate(
        doc(
            sec("phone", ("context", "phones"), at=5, template=True),
            user("alice", ("secret", STRONG), bases=("PHONE",)),
        )
    )
    assert found == []


# ---------------------------------------------------------------------------------------------
# type=


def test_section_without_type_is_reported():
    found = validate(doc(sec("alice", ("secret", STRONG), at=10)))
    assert summary(found) == [(ERROR, "missing-type", "alice", None, None, 10)]
    assert "Add type=peer, user or friend" in found[0].message


def test_type_from_a_template_counts():
    found = validate(
        doc(
            sec("phone", ("type", "user"), at=5, template=True),
            sec("alice", ("secret", STRONG), at=10, bases=("phone",)),
        )
    )
    assert found == []


def test_template_without_type_is_not_reported():
    assert validate(doc(sec("phone", ("context", "phones"), at=5, template=True))) == []


def test_conflicting_types_from_template_and_section_are_reported():
    found = validate(
        doc(
            sec("phone", ("type", "peer"), at=5, template=True),
            user("alice", ("host", "dynamic"), ("secret", STRONG), bases=("phone",)),
        )
    )
    # Asterisk 22 takes the first type (the template's peer), so host= is in place.
    assert summary(found) == [(WARNING, "type-twice", "alice", "type", "peer", 6)]
    assert "Asterisk 22 uses the first (type=peer), Asterisk 23 the last (type=user)" in found[0].message


def test_same_type_twice_is_reported_once_as_type_twice():
    found = validate(doc(sec("alice", ("type", "user"), ("type", "user"), ("secret", STRONG), at=10)))
    assert summary(found) == [(WARNING, "type-twice", "alice", "type", "user", 11)]
    assert "define type in exactly one place" in found[0].message


def test_unknown_type_value_is_an_invalid_value():
    found = validate(doc(sec("alice", ("type", "phone"), ("secret", STRONG), at=10)))
    assert summary(found) == [(ERROR, "invalid-value", "alice", "type", "phone", 11)]


# ---------------------------------------------------------------------------------------------
# Names: foreign, unknown, removed, deprecated


def test_sip_option_is_reported_as_foreign():
    found = validate(doc(user("alice", ("secret", STRONG), ("md5secret", "abc"))))
    assert summary(found) == [(ERROR, "foreign-directive", "alice", "md5secret", "abc", 13)]
    assert "md5secret is a sip.conf option; chan_iax2 ignores it" in found[0].message


def test_misspelt_directive_is_reported_with_a_suggestion():
    found = validate(doc(peer("trunk", ("host", "192.0.2.1"), ("quilify", "yes"))))
    assert summary(found) == [(ERROR, "unknown-directive", "trunk", "quilify", "yes", 13)]
    assert found[0].message.endswith("did you mean qualify?")


def test_unknown_directive_without_a_close_name_says_remove_it():
    found = only(validate(doc(user("alice", ("secret", STRONG), ("frobnicate", "1")))))
    assert found.code == "unknown-directive"
    assert found.message.endswith("is ignored; remove it")


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("notransfer", "Use transfer instead."),
        ("forcejitterbuffer", "Use jitterbuffer instead."),
        ("keyrotate", ""),
    ],
)
def test_removed_directive_is_reported_with_its_replacement(name, hint):
    found = validate(doc(user("alice", ("secret", STRONG), (name, "yes"))))
    assert summary(found) == [(ERROR, "removed-directive", "alice", name, "yes", 13)]
    assert found[0].message.endswith(
        f"is no longer read by chan_iax2 (Asterisk 22) and is ignored.{' ' + hint if hint else ''}"
    )


def test_removed_jitter_option_in_general_is_reported():
    found = validate(Document([general(("maxexcessbuffer", "80"))]))
    assert summary(found) == [(ERROR, "removed-directive", "general", "maxexcessbuffer", "80", 2)]
    assert "Use maxjitterbuffer instead." in found[0].message


def test_hasvoicemail_is_reported_as_deprecated():
    found = validate(doc(peer("phone", ("host", "dynamic"), ("hasvoicemail", "yes"), ("secret", STRONG))))
    assert summary(found) == [(WARNING, "deprecated-directive", "phone", "hasvoicemail", "yes", 13)]
    assert "removed in Asterisk 23. Use mailbox instead." in found[0].message


def test_current_directives_are_not_reported():
    assert (
        validate(
            doc(
                peer(
                    "phone",
                    ("host", "dynamic"),
                    ("mailbox", "100@default"),
                    ("transfer", "no"),
                    ("secret", STRONG),
                )
            )
        )
        == []
    )


# ---------------------------------------------------------------------------------------------
# Placement: a directive where chan_iax2 does not read it

PEER_BASE = (("host", "dynamic"), ("secret", STRONG))
USER_BASE = (("secret", STRONG),)

MISPLACED = [
    # section type, base lines, directive, value, where the message says it belongs
    ("peer", PEER_BASE, "tos", "ef", "[general]"),
    ("peer", PEER_BASE, "bandwidth", "low", "[general]"),
    ("peer", PEER_BASE, "register", "office@pbx.example.com", "[general]"),
    ("peer", PEER_BASE, "setvar", "A=b", "user sections"),
    ("peer", PEER_BASE, "language", "en", "[general] and user sections"),
    ("peer", PEER_BASE, "accountcode", "sales", "[general] and user sections"),
    ("user", USER_BASE, "outkey", "server", "peer sections"),
    ("user", USER_BASE, "qualify", "yes", "peer sections"),
    ("user", USER_BASE, "host", "192.0.2.1", "peer sections"),
    ("user", USER_BASE, "username", "alice", "peer sections"),
    ("friend", PEER_BASE, "tos", "ef", "[general]"),
]


@pytest.mark.parametrize(("kind", "base", "name", "value", "belongs"), MISPLACED)
def test_directive_in_the_wrong_section_type_is_reported(kind, base, name, value, belongs):
    found = validate(doc(sec("x", ("type", kind), *base, (name, value), at=10)))
    line = 12 + len(base)
    assert summary(found) == [(ERROR, "misplaced-directive", "x", name, value, line)]
    assert (
        f"{name} is not read in type={kind} sections; chan_iax2 ignores it there. It belongs in {belongs}"
        == found[0].message
    )


@pytest.mark.parametrize(("name", "value"), [("requirecalltoken", "auto"), ("context", "default")])
def test_peer_and_user_directive_in_general_is_reported(name, value):
    found = validate(Document([general((name, value))]))
    assert summary(found) == [(ERROR, "misplaced-directive", "general", name, value, 2)]
    assert found[0].message.startswith(f"{name} is not read in [general]; chan_iax2 ignores it there.")
    assert found[0].message.endswith("It belongs in peer and user sections")


def test_template_is_checked_against_the_types_that_inherit_it():
    found = validate(
        doc(
            sec("common", ("setvar", "A=b"), ("qualify", "yes"), at=5, template=True),
            peer("trunk", ("host", "dynamic"), ("secret", STRONG), at=10, bases=("common",)),
            user("alice", ("secret", STRONG), at=20, bases=("common",)),
        )
    )
    assert summary(found) == [
        (ERROR, "misplaced-directive", "common", "setvar", "A=b", 6),
        (ERROR, "misplaced-directive", "common", "qualify", "yes", 7),
    ]
    assert "setvar is not read in type=peer sections" in found[0].message
    assert "qualify is not read in type=user sections" in found[1].message


def test_sections_sharing_templates_are_each_checked_with_their_own_lines():
    found = validate(
        doc(
            sec("rsa-phone", ("type", "user"), ("auth", "rsa"), at=5, template=True),
            sec("alice", ("inkeys", "alice"), at=10, bases=("rsa-phone",)),
            sec("bob", ("context", "phones"), at=20, bases=("rsa-phone",)),
            sec("carol", ("inkeys", "carol"), ("auth", "md5"), at=30, bases=("rsa-phone",)),
        ),
        keys={"alice": KeyInfo(), "carol": KeyInfo()},
    )
    assert summary(found) == [
        (ERROR, "rsa-needs-inkeys", "bob", "auth", "rsa", 7),
        (WARNING, "open-user", "bob", None, None, 20),
        (ERROR, "auth-needs-secret", "carol", "auth", "md5", 32),
    ]


def test_findings_follow_the_document_whatever_section_a_template_is():
    found = validate(
        doc(
            peer("first", ("host", "dynamic"), ("quilify", "yes"), ("secret", STRONG), at=5),
            sec("common", ("setvar", "A=b"), at=10, template=True),
            peer(
                "trunk",
                ("host", "dynamic"),
                ("jitterbufer", "yes"),
                ("secret", STRONG),
                at=15,
                bases=("common",),
            ),
            peer("last", at=20),
        )
    )
    assert summary(found) == [
        (ERROR, "unknown-directive", "first", "quilify", "yes", 8),
        (ERROR, "misplaced-directive", "common", "setvar", "A=b", 11),
        (ERROR, "unknown-directive", "trunk", "jitterbufer", "yes", 18),
        (ERROR, "missing-host", "last", "host", "", 20),
    ]


def test_template_used_only_by_peers_may_hold_peer_directives():
    found = validate(
        doc(
            sec("common", ("qualify", "yes"), ("host", "dynamic"), at=5, template=True),
            peer("trunk", ("secret", STRONG), at=10, bases=("common",)),
        )
    )
    assert found == []


def test_unused_template_may_hold_any_peer_or_user_directive_but_not_general_ones():
    found = validate(
        doc(sec("common", ("qualify", "yes"), ("setvar", "A=b"), ("tos", "ef"), at=5, template=True))
    )
    assert summary(found) == [(ERROR, "misplaced-directive", "common", "tos", "ef", 8)]
    assert "not read in peer or user sections" in found[0].message


def test_directives_in_their_own_sections_are_not_reported():
    found = validate(
        doc(
            peer("trunk", ("host", "dynamic"), ("qualify", "yes"), ("outkey", "server"), ("secret", STRONG)),
            user("alice", ("secret", STRONG), ("setvar", "A=b"), ("language", "en"), at=20),
        )
    )
    assert found == []


# ---------------------------------------------------------------------------------------------
# Values and repeats


def test_invalid_value_names_the_directive_the_value_and_the_rule():
    found = validate(Document([general(("bindport", "80"))]))
    assert summary(found) == [(ERROR, "invalid-value", "general", "bindport", "80", 2)]
    assert found[0].rule == "range"
    assert found[0].message == "bindport='80' is out of range; expected a number from 1024 to 65535"


def test_invalid_codec_names_the_codec_and_the_fix():
    found = only(validate(Document([general(("disallow", "g723.1"))])))
    assert (found.code, found.rule, found.value) == ("invalid-value", "codec", "g723.1")
    assert "use g723" in found.message


def test_valid_value_is_not_reported():
    assert validate(Document([general(("bindport", "4570"))])) == []


def test_invalid_secret_is_reported_without_showing_it():
    found = validate(doc(user("alice", ("secret", "abc;defghijkl"))))
    assert summary(found) == [(ERROR, "invalid-value", "alice", "secret", "********", 12)]
    assert "abc" not in found[0].message
    assert "contains ';'" in found[0].message


def test_invalid_register_line_is_reported_without_its_secret():
    found = validate(Document([general(("register", "alice:Sup3rS3cret@pbx.example.com/100"))]))
    assert summary(found) == [
        (ERROR, "invalid-value", "general", "register", "alice:********@pbx.example.com/100", 2)
    ]
    assert "Sup3rS3cret" not in found[0].message
    assert "/extension" in found[0].message


def test_last_wins_directive_set_twice_is_reported_at_the_second_line():
    found = validate(doc(peer("trunk", ("host", "a.example.com"), ("host", "b.example.com"))))
    assert summary(found) == [(WARNING, "repeated-directive", "trunk", "host", "b.example.com", 13)]
    assert "host is set more than once here; only the last value counts" == found[0].message


@pytest.mark.parametrize("name", ["secret", "context"])
def test_secret_and_context_set_twice_on_a_peer_are_reported(name):
    values = {"secret": (STRONG, STRONG2), "context": ("a", "b")}[name]
    found = validate(doc(peer("trunk", ("host", "192.0.2.1"), (name, values[0]), (name, values[1]))))
    shown = "********" if name == "secret" else "b"
    assert summary(found) == [(WARNING, "repeated-directive", "trunk", name, shown, 14)]


@pytest.mark.parametrize(
    ("name", "first", "second"),
    [
        ("secret", STRONG, STRONG2),
        ("context", "a", "b"),
        ("allow", "ulaw", "alaw"),
        ("permit", "192.0.2.1", "192.0.2.2"),
        ("deny", "0.0.0.0/0", "10.0.0.0/8"),
        ("setvar", "A=1", "B=2"),
    ],
)
def test_accumulating_directives_on_a_user_are_not_reported(name, first, second):
    assert validate(doc(user("alice", ("secret", STRONG), (name, first), (name, second)))) == []


def test_repeated_register_and_bindaddr_in_general_are_not_reported():
    found = validate(
        Document(
            [
                general(
                    ("bindport", "4569"),
                    ("bindaddr", "192.0.2.1"),
                    ("bindaddr", "192.0.2.2"),
                    ("register", "a@x.example.com"),
                    ("register", "b@y.example.com"),
                )
            ]
        )
    )
    assert found == []


def test_invalid_callnumberlimit_range_is_reported():
    found = validate(doc(sec("callnumberlimits", ("10.0.0.0/33", "10"), at=10)))
    assert summary(found) == [(ERROR, "invalid-callnumberlimit", "callnumberlimits", "10.0.0.0/33", "10", 11)]
    assert found[0].rule == "acl"
    assert found[0].message == (
        "'10.0.0.0/33' has a prefix length over 32; a [callnumberlimits] line is address[/mask] = limit"
    )  # the value once, not twice


def test_invalid_callnumberlimit_value_is_reported():
    found = validate(doc(sec("callnumberlimits", ("10.0.0.0/8", "-1"), ("10.1.0.0/16", "many"), at=10)))
    assert summary(found) == [
        (ERROR, "invalid-callnumberlimit", "callnumberlimits", "10.0.0.0/8", "-1", 11),
        (ERROR, "invalid-callnumberlimit", "callnumberlimits", "10.1.0.0/16", "many", 12),
    ]
    assert [f.rule for f in found] == ["range", "int"]
    assert "the limit '-1' for 10.0.0.0/8 is out of range" in found[0].message


# ---------------------------------------------------------------------------------------------
# Peer addressing


@pytest.mark.parametrize("kind", ["peer", "friend"])
def test_peer_without_host_is_reported(kind):
    found = validate(doc(sec("trunk", ("type", kind), ("secret", STRONG), at=10)))
    assert summary(found) == [(ERROR, "missing-host", "trunk", "host", "", 10)]
    assert f"[trunk] is a {kind} without host=" in found[0].message


def test_user_without_host_is_not_reported():
    assert validate(doc(user("alice", ("secret", STRONG)))) == []


def test_defaultip_on_a_static_peer_is_reported():
    # Asterisk 22.10.1 calls the defaultip while host does not resolve, and drops the peer when the
    # defaultip does not resolve (tests/asterisk/test_disagreements.py): a warning, not "ignored"
    found = validate(doc(peer("trunk", ("host", "192.0.2.1"), ("defaultip", "192.0.2.2"))))
    assert summary(found) == [(WARNING, "defaultip-needs-dynamic", "trunk", "defaultip", "192.0.2.2", 13)]
    assert found[0].message == (
        "defaultip=192.0.2.2 on a peer with host=192.0.2.1 is only used while 192.0.2.1 does not resolve, "
        "and if 192.0.2.2 itself does not resolve chan_iax2 drops the whole peer. Remove defaultip unless you "
        "want that fallback (it is meant for host=dynamic peers, until they register)"
    )


def test_defaultip_on_a_dynamic_peer_is_not_reported():
    assert (
        validate(doc(peer("phone", ("host", "dynamic"), ("defaultip", "192.0.2.2"), ("secret", STRONG))))
        == []
    )


def test_port_before_a_static_host_is_reported():
    found = validate(doc(peer("trunk", ("port", "4570"), ("host", "voip.example.net"))))
    assert summary(found) == [(WARNING, "port-before-host", "trunk", "port", "4570", 12)]
    assert "port=4570 comes before host=voip.example.net" in found[0].message


def test_port_from_a_template_before_the_section_host_is_reported():
    found = validate(
        doc(
            sec("carrier", ("type", "peer"), ("port", "4570"), at=5, template=True),
            sec("trunk", ("host", "voip.example.net"), at=10, bases=("carrier",)),
        )
    )
    assert summary(found) == [(WARNING, "port-before-host", "trunk", "port", "4570", 7)]


def test_port_after_the_host_or_on_a_dynamic_peer_is_not_reported():
    assert validate(doc(peer("trunk", ("host", "voip.example.net"), ("port", "4570")))) == []
    assert validate(doc(peer("phone", ("port", "4570"), ("host", "dynamic"), ("secret", STRONG)))) == []


# ---------------------------------------------------------------------------------------------
# Authentication


def test_plaintext_auth_on_a_user_is_reported():
    found = validate(doc(user("alice", ("auth", "md5,plaintext"), ("secret", STRONG))))
    assert summary(found) == [(WARNING, "plaintext-auth", "alice", "auth", "md5,plaintext", 12)]
    assert "auth=md5,plaintext includes plaintext" in found[0].message


def test_plaintext_auth_in_general_is_reported_once():
    found = validate(Document([general(("auth", "plaintext")), user("alice", ("secret", STRONG))]))
    assert summary(found) == [(WARNING, "plaintext-auth", "general", "auth", "plaintext", 2)]


def test_md5_auth_is_not_reported_as_plaintext():
    assert validate(doc(user("alice", ("auth", "md5"), ("secret", STRONG)))) == []


def test_md5_auth_without_a_secret_is_reported():
    found = validate(doc(user("alice", ("auth", "md5"), ("permit", "192.0.2.1"))))
    assert summary(found) == [(ERROR, "auth-needs-secret", "alice", "auth", "md5", 12)]
    assert "auth=md5 needs a secret (or dbsecret)" in found[0].message


def test_md5_auth_with_a_dbsecret_is_not_reported():
    assert validate(doc(user("alice", ("auth", "md5"), ("dbsecret", "iax/alice")))) == []


def test_rsa_user_without_inkeys_is_reported():
    found = validate(doc(user("alice", ("auth", "rsa"), ("secret", STRONG))))
    assert summary(found) == [(ERROR, "rsa-needs-inkeys", "alice", "auth", "rsa", 12)]
    assert "auth=rsa includes rsa but no inkeys=" in found[0].message


def test_rsa_from_general_on_a_user_without_inkeys_is_reported_on_the_user():
    found = validate(Document([general(("auth", "rsa")), user("alice", ("secret", STRONG))]))
    assert summary(found) == [(ERROR, "rsa-needs-inkeys", "alice", "auth", "rsa", 10)]
    assert "(from [general])" in found[0].message


def test_rsa_user_with_inkeys_is_not_reported():
    assert validate(doc(user("alice", ("auth", "rsa"), ("inkeys", "alice")))) == []


def test_rsa_peer_without_outkey_or_inkeys_is_reported():
    found = validate(doc(peer("trunk", ("host", "voip.example.net"), ("auth", "rsa"))))
    assert summary(found) == [(ERROR, "rsa-needs-keys", "trunk", "auth", "rsa", 13)]
    assert "neither outkey= (to sign our calls) nor inkeys=" in found[0].message


def test_rsa_peer_with_outkey_is_not_reported():
    assert (
        validate(doc(peer("trunk", ("host", "voip.example.net"), ("auth", "rsa"), ("outkey", "server"))))
        == []
    )


# ---------------------------------------------------------------------------------------------
# Keys


def test_inkeys_naming_a_missing_public_key_is_reported():
    keys = {"alice": KeyInfo(), "bob": KeyInfo(has_public=False, has_private=True)}
    found = validate(doc(user("alice", ("auth", "rsa"), ("inkeys", "alice:bob:carol"))), keys=keys)
    assert summary(found) == [
        (ERROR, "unknown-key", "alice", "inkeys", "alice:bob:carol", 13),
        (ERROR, "unknown-key", "alice", "inkeys", "alice:bob:carol", 13),
    ]
    assert (
        "inkeys names 'bob', but there is no public key of that name; upload or generate bob.pub"
        == found[0].message
    )
    assert "'carol'" in found[1].message


def test_inkeys_naming_existing_keys_are_not_reported():
    found = validate(
        doc(user("alice", ("auth", "rsa"), ("inkeys", "alice:bob"))),
        keys={"alice": KeyInfo(), "bob": KeyInfo()},
    )
    assert found == []


def test_public_key_that_is_not_1024_bits_is_reported():
    found = validate(
        doc(user("alice", ("auth", "rsa"), ("inkeys", "alice"))), keys={"alice": KeyInfo(bits=2048)}
    )
    assert summary(found) == [(ERROR, "key-size", "alice", "inkeys", "alice", 13)]
    assert "'alice', which has 2048 bits; res_crypto only loads 1024-bit RSA keys" in found[0].message


def test_private_key_that_is_not_1024_bits_is_reported():
    keys = {"server": KeyInfo(has_private=True, bits=4096)}
    found = validate(doc(peer("trunk", ("host", "voip.example.net"), ("outkey", "server"))), keys=keys)
    assert summary(found) == [(ERROR, "key-size", "trunk", "outkey", "server", 13)]
    assert "4096 bits" in found[0].message


def test_outkey_without_a_private_key_is_reported():
    keys = {"server": KeyInfo(has_public=True, has_private=False)}
    found = validate(doc(peer("trunk", ("host", "voip.example.net"), ("outkey", "server"))), keys=keys)
    assert summary(found) == [(ERROR, "missing-private-key", "trunk", "outkey", "server", 13)]
    assert (
        "outkey=server signs with key 'server', but there is no private key of that name; upload server.key"
        == found[0].message
    )


def test_register_key_without_a_private_key_is_reported():
    found = validate(Document([general(("register", "office:[officekey]@pbx.example.com"))]), keys={})
    assert summary(found) == [
        (ERROR, "missing-private-key", "general", "register", "office:[officekey]@pbx.example.com", 2)
    ]
    assert "signs with key 'officekey'" in found[0].message


def test_keys_that_exist_are_not_reported():
    keys = {"server": KeyInfo(has_private=True, private_encrypted=True)}
    assert validate(doc(peer("trunk", ("host", "voip.example.net"), ("outkey", "server"))), keys=keys) == []
    assert validate(Document([general(("register", "office:[server]@pbx.example.com"))]), keys=keys) == []


def test_key_references_are_not_checked_without_a_key_store():
    assert validate(Document([general(("register", "office:[nokey]@pbx.example.com"))])) == []


def test_private_key_with_a_passphrase_is_not_reported():
    keys = {"server": KeyInfo(has_private=True, private_encrypted=True)}
    assert validate(doc(peer("trunk", ("host", "voip.example.net"), ("outkey", "server"))), keys=keys) == []
    assert validate(Document([general(("register", "office:[server]@pbx.example.com"))]), keys=keys) == []


def test_private_key_without_a_passphrase_is_a_security_warning():
    keys = {"server": KeyInfo(has_private=True, private_encrypted=False)}
    found = validate(doc(peer("trunk", ("host", "voip.example.net"), ("outkey", "server"))), keys=keys)
    assert [(f.severity, f.code, f.section, f.directive, f.value) for f in found] == [
        (WARNING, "unencrypted-private-key", "trunk", "outkey", "server")
    ]
    assert "whose private key has no passphrase" in found[0].message
    found = validate(Document([general(("register", "office:[server]@pbx.example.com"))]), keys=keys)
    assert [f.code for f in found] == ["unencrypted-private-key"]


# ---------------------------------------------------------------------------------------------
# Encryption


def test_encryption_without_a_secret_is_reported():
    found = validate(doc(user("alice", ("inkeys", "alice"), ("encryption", "yes"))))
    assert summary(found) == [(ERROR, "encryption-needs-secret", "alice", "encryption", "yes", 13)]
    assert "encryption=yes turns on encryption, whose keys are derived from the secret" in found[0].message


@pytest.mark.parametrize(
    "lines, first",
    [
        (
            (("encryption", "no"), ("forceencryption", "yes"), ("encryption", "aes128")),
            ("forceencryption", 14),
        ),
        ((("encryption", "aes128"), ("forceencryption", "yes")), ("encryption", 13)),
        ((("forceencryption", "no"), ("forceencryption", "yes")), ("forceencryption", 14)),
    ],
)
def test_encryption_is_reported_at_the_first_line_that_turns_it_on(lines, first):
    found = validate(doc(user("alice", ("inkeys", "alice"), *lines, at=10)))
    assert [(f.code, f.directive, f.line) for f in found if f.is_error] == [
        ("encryption-needs-secret", *first)
    ]


def test_forced_encryption_in_general_without_a_secret_is_reported_on_the_user():
    found = validate(Document([general(("forceencryption", "yes")), user("alice", ("inkeys", "alice"))]))
    assert summary(found) == [(ERROR, "encryption-needs-secret", "alice", "forceencryption", "yes", 10)]
    assert "forceencryption=yes in [general]" in found[0].message


def test_encryption_with_a_secret_is_not_reported():
    assert validate(doc(user("alice", ("secret", STRONG), ("encryption", "aes128")))) == []


def test_encryption_without_md5_auth_is_reported():
    found = validate(
        doc(user("alice", ("auth", "rsa"), ("inkeys", "alice"), ("secret", STRONG), ("encryption", "yes")))
    )
    assert summary(found) == [(ERROR, "encryption-needs-md5", "alice", "encryption", "yes", 15)]
    assert "(auth=rsa); use auth=md5 or md5,rsa" in found[0].message


def test_encryption_with_md5_and_rsa_is_not_reported():
    found = validate(
        doc(
            user("alice", ("auth", "md5,rsa"), ("inkeys", "alice"), ("secret", STRONG), ("encryption", "yes"))
        )
    )
    assert found == []


def test_encryption_no_under_general_yes_is_reported():
    found = validate(
        Document([general(("encryption", "yes")), user("alice", ("secret", STRONG), ("encryption", "no"))])
    )
    assert summary(found) == [(WARNING, "encryption-no-has-no-effect", "alice", "encryption", "no", 13)]
    assert (
        "encryption=no cannot turn off the encryption that encryption=yes in [general] turns on"
        in found[0].message
    )


def test_encryption_no_after_general_yes_then_no_is_still_reported():
    # The values are OR-ed: a later encryption=no in [general] does not switch it off either, and
    # repeating encryption is not "only the last counts" (tests/asterisk/test_disagreements.py).
    found = validate(
        Document(
            [
                general(("encryption", "yes"), ("encryption", "no")),
                user("alice", ("secret", STRONG), ("encryption", "no")),
            ]
        )
    )
    assert codes(found) == ["encryption-no-has-no-effect"]


def test_encryption_no_without_general_encryption_is_not_reported():
    assert validate(doc(user("alice", ("secret", STRONG), ("encryption", "no")))) == []


# ---------------------------------------------------------------------------------------------
# Call tokens, open users, secrets


def test_requirecalltoken_no_is_reported():
    found = validate(doc(user("alice", ("secret", STRONG), ("requirecalltoken", "no"))))
    assert summary(found) == [(WARNING, "calltoken-disabled", "alice", "requirecalltoken", "no", 13)]
    assert "prefer auto" in found[0].message


def test_requirecalltoken_auto_is_not_reported():
    assert validate(doc(user("alice", ("secret", STRONG), ("requirecalltoken", "auto")))) == []


def test_guest_without_secret_is_reported():
    found = validate(doc(user("guest", ("context", "public"))))
    assert summary(found) == [(WARNING, "guest-user", "guest", None, None, 10)]
    assert "any caller can reach its context unauthenticated" in found[0].message


@pytest.mark.parametrize("kind", ["user", "friend"])
def test_user_without_secret_or_acl_is_reported(kind):
    extra = (("host", "dynamic"),) if kind == "friend" else ()
    found = validate(doc(sec("alice", ("type", kind), *extra, ("context", "default"), at=10)))
    # a dynamic friend is also a peer anyone may register as
    registration = [(ERROR, "open-registration", "alice", "secret", "", 10)] if kind == "friend" else []
    assert summary(found) == [*registration, (WARNING, "open-user", "alice", None, None, 10)]
    assert f"[alice] is a {kind} without secret, inkeys or permit/deny" in found[-1].message


@pytest.mark.parametrize(
    "restriction", [("permit", "192.0.2.1"), ("deny", "0.0.0.0/0"), ("acl", "office"), ("inkeys", "alice")]
)
def test_user_without_secret_but_restricted_is_not_reported(restriction):
    assert validate(doc(user("alice", restriction))) == []


def test_empty_secret_is_reported():
    found = validate(doc(user("alice", ("secret", ""), ("permit", "192.0.2.1"))))
    assert summary(found) == [(WARNING, "empty-secret", "alice", "secret", "", 12)]


@pytest.mark.parametrize("secret", ["short1!", "123456789012", "password", "alicealice"])
def test_weak_secret_is_reported_without_showing_it(secret):
    found = validate(doc(user("alicealice", ("secret", secret))))
    assert summary(found) == [(WARNING, "weak-secret", "alicealice", "secret", "********", 12)]
    assert secret not in found[0].message


def test_strong_secret_is_not_reported():
    assert validate(doc(user("alice", ("secret", STRONG)))) == []


# ---------------------------------------------------------------------------------------------
# [general] order and ranges


def test_bandwidth_after_codecs_is_reported():
    found = validate(Document([general(("allow", "ulaw"), ("bandwidth", "low"))]))
    assert summary(found) == [(WARNING, "bandwidth-after-codecs", "general", "bandwidth", "low", 3)]
    assert "wiping allow/disallow lines above it" in found[0].message


def test_bandwidth_before_codecs_is_not_reported():
    assert validate(Document([general(("bandwidth", "low"), ("disallow", "all"), ("allow", "gsm"))])) == []


def test_bindport_after_bindaddr_is_reported():
    found = validate(Document([general(("bindaddr", "0.0.0.0"), ("bindport", "4570"))]))
    assert summary(found) == [(WARNING, "bindport-after-bindaddr", "general", "bindport", "4570", 3)]


def test_bindport_before_bindaddr_is_not_reported():
    assert validate(Document([general(("bindport", "4570"), ("bindaddr", "0.0.0.0"))])) == []


def test_srvlookup_after_register_is_reported():
    found = validate(Document([general(("register", "a@pbx.example.com"), ("srvlookup", "yes"))]))
    assert summary(found) == [(WARNING, "srvlookup-after-register", "general", "srvlookup", "yes", 3)]


def test_srvlookup_before_register_is_not_reported():
    assert validate(Document([general(("srvlookup", "yes"), ("register", "a@pbx.example.com"))])) == []


def test_minregexpire_over_maxregexpire_is_reported():
    found = validate(Document([general(("minregexpire", "120"), ("maxregexpire", "60"))]))
    assert summary(found) == [(ERROR, "regexpire-order", "general", "minregexpire", "120", 2)]
    assert found[0].message == "minregexpire=120 is larger than maxregexpire=60"


@pytest.mark.parametrize(("minimum", "maximum"), [("60", "120"), ("60", "60")])
def test_minregexpire_up_to_maxregexpire_is_not_reported(minimum, maximum):
    assert validate(Document([general(("minregexpire", minimum), ("maxregexpire", maximum))])) == []


def test_missing_general_is_reported():
    found = validate(doc(user("alice", ("secret", STRONG)), with_general=False))
    assert summary(found) == [(WARNING, "missing-general", "general", None, None, None)]
    assert "no [general] section" in found[0].message


def test_secret_values_are_not_kept_in_the_value_cache():
    module = importlib.import_module("peers.iaxconf.validate")  # the package exports the function

    validate(doc(user("alice", ("secret", "Very-Secret-Value-42"))))
    validate(Document([general(("register", "office:Another-Secret-77@pbx.example.com"))]))
    checks = module.memos_of(module.catalogue()).values  # the process-wide memo, kept by the catalogue
    assert checks.known  # it does keep other values
    cached = " ".join(value for values in checks.known.values() for value in values)
    assert "Very-Secret-Value-42" not in cached and "Another-Secret-77" not in cached


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\x85", "\x0b", "\x9f"])
def test_unsafe_characters_are_an_error_in_every_name_and_value(char):
    from peers.iaxconf import Document, Entry, Section
    from peers.iaxconf import validate as run

    document = Document(
        sections=[
            Section("general", [Entry("bindport", "4569")]),
            Section(
                "p",
                [
                    Entry("type", "peer"),
                    Entry("host", "dynamic"),
                    Entry("nat", f"yes{char}x"),
                    Entry(f"na{char}me", "1"),
                    Entry("language", f"en{char}X"),
                ],
            ),
        ]
    )
    found = {(f.code, f.directive, f.part) for f in run(document) if f.is_error}
    assert ("unsafe-text", "nat", "value") in found  # a foreign name: no value rule runs on it
    assert ("unsafe-text", f"na{char}me", "name") in found
    assert ("unsafe-text", "language", "value") in found  # misplaced in a peer
    assert not any(code == "invalid-value" for code, _, _ in found)


# --- context= against the dialplan's contexts -------------------------------------------------------


def test_contexts_the_dialplan_lacks_are_warnings_only_with_a_context_list():
    document = doc(
        user(
            "alice",
            ("secret", STRONG),
            ("context", "from-alice"),
            ("context", "From-Office"),
            ("context", "*"),
        ),
        peer("trunk", ("host", "192.0.2.1"), ("context", "nowhere"), at=20),
    )
    assert "unknown-context" not in codes(validate(document))  # no list: nothing to compare with
    found = [
        f for f in validate(document, contexts=["from-alice", "from-office"]) if f.code == "unknown-context"
    ]
    assert [(f.severity, f.section, f.value, f.line) for f in found] == [
        (WARNING, "alice", "From-Office", 14),
        (WARNING, "trunk", "nowhere", 23),
    ]
    assert "did you mean 'from-office'" in found[0].message
    assert "placed through this peer" in found[1].message
    assert "unknown-context" not in codes(
        validate(document, contexts=["from-alice", "From-Office", "nowhere"])
    )
