"""Issue 13, section 3, on the domain core alone: the validator, parser, normaliser and renderer
agree with what Asterisk 22.10.1 was seen to do in tests/asterisk/test_disagreements.py (which
runs the same configurations in real Asterisk). No Asterisk and no database needed here.
"""

from __future__ import annotations

import pytest

from peers.iaxconf import render, validate
from peers.iaxconf import values as v
from peers.iaxconf.catalogue import catalogue
from peers.iaxconf.normalise import NormaliseError, normalise
from peers.iaxconf.parse import parse, parse_file

STRONG = "Real-S3cret-1x"


def findings(text: str) -> list[tuple[str, str, str]]:
    """(severity, code, section) of every finding, read the way an import reads the text."""
    document, normalised = normalise(parse(text).document)
    return [(f.severity, f.code, f.section) for f in normalised + validate(document)]


def check(name: str, value: str) -> None:
    catalogue()[name].check(value)


# --- Auth holes ------------------------------------------------------------------------------


def test_dynamic_peer_without_any_authentication_is_an_error():
    text = "[general]\n[open]\ntype=peer\nhost=dynamic\npermit=10.0.0.0/8\n"
    (finding,) = validate(parse(text).document)
    assert (finding.severity, finding.code, finding.directive) == ("error", "open-registration", "secret")
    assert finding.message == (
        "[open] is a host=dynamic peer without a secret, dbsecret or inkeys: chan_iax2 accepts a registration as "
        "open from anyone its permit/deny lets in without authentication, and then sends its calls to them. Set "
        "a secret (or inkeys for RSA)"
    )


@pytest.mark.parametrize("line", [f"secret={STRONG}", "inkeys=phone", "dbsecret=iax/open"])
def test_any_authentication_closes_the_registration(line):
    assert findings(f"[general]\n[p]\ntype=peer\nhost=dynamic\n{line}\n") == []


def test_static_peer_without_secret_is_not_an_open_registration():
    assert findings("[general]\n[p]\ntype=peer\nhost=192.0.2.1\n") == []


def test_a_peer_keeps_only_its_last_secret():
    text = f"[general]\n[p]\ntype=peer\nhost=dynamic\nsecret={STRONG}\nsecret=\n"
    (finding,) = [f for f in validate(parse(text).document) if f.code != "repeated-directive"]
    assert (finding.code, finding.line, finding.value) == ("open-registration", 6, "")
    assert "(its last secret= line is empty, and a peer keeps only the last one)" in finding.message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (f"[general]\n[u]\ntype=user\nsecret={STRONG}\nsecret=\n", 5),
        (f"[general]\n[t](!)\ntype=user\nsecret={STRONG}\n[u](t)\nsecret=\n", 6),
        (f"[general]\n[u]\ntype=user\nsecret=\nsecret={STRONG}\nsecret=\n", 6),
    ],
)
def test_an_empty_user_secret_after_a_real_one_is_an_error(text, line):
    (hole,) = [f for f in validate(parse(text).document) if f.code == "empty-secret-after-secret"]
    assert (hole.severity, hole.line, hole.value) == ("error", line, "")
    assert "the empty one matches the MD5 of the challenge alone" in hole.message


def test_an_empty_user_secret_before_the_real_one_is_only_useless():
    text = f"[general]\n[u]\ntype=user\nsecret=\nsecret={STRONG}\n"
    assert findings(text) == [("warning", "empty-secret", "u")]


# --- ACL values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("10.0.0.0 /8", "'10.0.0.0 /8' has a blank in it"),
        ("! 1.2.3.4", "'! 1.2.3.4' has a blank in it"),
        (
            "10.0.0.1, 10.0.0.2",
            "' 10.0.0.2' has a blank in it; Asterisk stops reading the line at this entry, so it "
            "and every entry after it are dropped (a deny silently loses them)",
        ),
        (
            "::ffff:10.0.0.0/96",
            "'::ffff:10.0.0.0/96' has a prefix length over 32 (an IPv4-mapped address is read as IPv4)",
        ),
        (
            "::ffff:10.0.0.0/ffff:ffff:ffff:ffff:ffff:ffff:ff00:0",
            "needs an IPv4 (an IPv4-mapped address counts as IPv4) mask, like its address",
        ),
    ],
)
def test_acl_entries_asterisk_rejects_are_rejected(value, message):
    with pytest.raises(v.Invalid) as refused:
        check("deny", value)
    assert message in refused.value.message


def test_calltokenoptional_with_a_blank_says_chan_iax2_will_not_load():
    with pytest.raises(v.Invalid) as refused:
        check("calltokenoptional", "10.0.0.0 /8")
    assert refused.value.message == (
        "'10.0.0.0 /8' has a blank in it; chan_iax2 refuses to load with an invalid calltokenoptional"
    )


# --- Values Asterisk accepts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("host", "[::1]"),
        ("defaultip", "[::1]"),
        ("defaultip", "[127.0.0.2]"),
        ("permit", "[::1]/128"),
        ("deny", "10.0.0.0/255.0.255.0"),
        ("mask", "255.0.255.0"),
        ("sourceaddress", "localhost"),
        ("sourceaddress", "localhost:4570"),
        ("sourceaddress", "pbx.example.net:4569"),
        ("disallow", ""),
        ("callerid", '"Bob \\"B\\" Smith" <200>'),
        ("callerid", '"Bob \\"B" <200>'),
        ("register", "spaced:pa ss word@127.0.0.1:4569"),
        ("permit", ",".join(f"10.0.{i}.0/24" for i in range(40)) + ",127.0.0.1"),
    ],
)
def test_values_asterisk_reads_are_accepted(name, value):
    check(name, value)


def test_a_permit_line_may_be_as_long_as_asterisks_line_buffer():
    # "permit=" and the value fill the 8190 bytes config.c reads
    longest = "10.0.0.1," * 907 + "10.0.0.200/255.0.0.0"  # 8183 characters
    assert len(longest) == 8183
    check("permit", longest)
    with pytest.raises(v.Invalid, match="is 8184 characters long; at most 8183 are allowed"):
        check("permit", "1" * 8184)
    with pytest.raises(v.Invalid, match="at most 255"):
        check("context", "c" * 256)


def test_empty_allow_stays_refused_because_asterisk_warns_about_it():
    with pytest.raises(v.Invalid, match="is empty"):
        check("allow", "")


# --- True/false words ----------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["on", "1", "true", "y", "t", "YES", "aes128"])
def test_every_true_word_turns_encryption_on_and_its_checks_with_it(word):
    text = f"[general]\n[u]\ntype=user\nencryption={word}\npermit=10.0.0.1\n"
    assert ("error", "encryption-needs-secret", "u") in findings(text)


@pytest.mark.parametrize("word", ["off", "0", "false", "n", "f"])
def test_every_false_word_is_requirecalltoken_no(word):
    text = f"[general]\n[u]\ntype=user\nsecret={STRONG}\nrequirecalltoken={word}\n"
    assert findings(text) == [("warning", "calltoken-disabled", "u")]


# --- auth ------------------------------------------------------------------------------------------


def test_auth_methods_are_found_as_case_sensitive_substrings():
    assert v.auth_method_set("md5rsa") == {"md5", "rsa"}
    assert v.auth_method_set("RSA") == frozenset()
    assert v.auth_method_set("rsa,MD5") == {"rsa"}
    text = f"[general]\n[u]\ntype=user\nauth=RSA\nsecret={STRONG}\n"
    # not "rsa-needs-inkeys": Asterisk reads no method there and falls back to md5
    assert findings(text) == [("error", "invalid-value", "u")]


# --- callerid / fullname / cid_number ------------------------------------------------------------


def test_callerid_fullname_and_cid_number_are_written_in_the_order_given():
    text = '[general]\n[p]\ntype=peer\nhost=192.0.2.1\nfullname=Alice\ncallerid="Bob" <200>\ncid_number=300\n'
    out = render(parse(text).document)
    assert out.index("fullname=Alice") < out.index('callerid="Bob" <200>') < out.index("cid_number=300")


# --- #include ------------------------------------------------------------------------------------


def test_lines_after_an_include_continue_the_section_before_it(tmp_path):
    (tmp_path / "iax.conf").write_text("[general]\n[a]\ntype=peer\n#include peers.conf\ndescription=after\n")
    (tmp_path / "peers.conf").write_text("[b]\ntype=peer\n")
    sections = {s.name: s for s in parse_file(tmp_path / "iax.conf").document.sections}
    assert (sections["a"].values("description"), sections["b"].values("description")) == (["after"], [])


def test_include_targets_are_relative_to_the_config_directory(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "iax.conf").write_text("[general]\n#include sub/one.conf\n")
    (tmp_path / "sub" / "one.conf").write_text("[b]\ntype=peer\n#include two.conf\n")
    (tmp_path / "two.conf").write_text("context=root\n")
    (tmp_path / "sub" / "two.conf").write_text("context=beside\n")
    (general, b) = parse_file(tmp_path / "iax.conf").document.sections
    assert b.values("context") == ["root"]


# --- Headers ---------------------------------------------------------------------------------------


def test_a_general_with_blanks_is_an_ordinary_section_and_written_back_as_is():
    text = "[ general ]\nbandwidth=low\n"
    document = parse(text).document
    assert document.general is None
    assert ("error", "invalid-section-name", " general ") in findings(text)
    assert render(document) == "[ general ]\nbandwidth=low\n"


def test_a_blank_in_an_option_names_a_base_that_does_not_exist():
    (_, a) = parse("[t](!)\n[a]( t)\n").document.sections
    assert (a.bases, a.is_template) == ([" t"], False)
    codes = [f.code for f in validate(parse("[general]\n[t](!)\ntype=peer\n[a]( t)\n").document)]
    assert "unknown-base" in codes


# --- (+) and += ------------------------------------------------------------------------------------


def test_an_addition_to_a_template_stops_the_import_and_is_an_error():
    text = "[general]\n[t](!)\ntype=peer\n[t](+)\nhost=dynamic\n"
    with pytest.raises(NormaliseError) as refused:
        normalise(parse(text).document)
    assert refused.value.problems[0][1:] == (
        4,
        "[t](+): (+) only finds a section that is not a template, and [t] is "
        "one; add the lines to the template itself",
    )
    assert ("error", "addition-to-template", "t") in [
        (f.severity, f.code, f.section) for f in validate(parse(text).document)
    ]


def test_an_addition_after_a_section_inherited_is_not_inherited():
    text = "[general]\n[t]\ntype=peer\nhost=192.0.2.1\n[x](t)\n[t](+)\ndescription=added\n[y](t)\n"
    document, found = normalise(parse(text).document)
    sections = {s.name: s for s in document.sections}
    assert (sections["x"].bases, [e.name for e in sections["x"].entries]) == ([], ["type", "host"])
    assert sections["y"].bases == ["t"] and sections["t"].values("description") == ["added"]
    assert [(f.code, f.section) for f in found] == [("flattened-inheritance", "x")]
    # the validator folds additions the same way
    unfolded = validate(parse(text).document)
    assert not any(f.code == "repeated-directive" for f in unfolded)


def test_a_second_section_of_the_same_name_is_not_inherited_either():
    text = "[general]\n[t](!)\ntype=peer\n[x](t)\nhost=192.0.2.1\n[t](!)\ndescription=second\n"
    document, found = normalise(parse(text).document)
    x = next(s for s in document.sections if s.name == "x")
    assert (x.bases, x.values("description")) == ([], [])
    assert [f.code for f in found] == ["duplicate-section", "flattened-inheritance"]


def test_plus_equals_appends_to_the_inherited_line():
    text = (
        "[general]\n[t](!)\ntype=peer\nhost=192.0.2.1\ndescription=base\n[x](t)\ndescription+= more\n"
        "[u](!)\ncontext=ctx\n[v](u)\ntype=user\ncontext+=2\n"
    )
    document, found = normalise(parse(text).document)
    sections = {s.name: s for s in document.sections}
    assert (sections["x"].bases, sections["x"].values("description")) == ([], ["base more"])
    assert sections["v"].values("context") == ["ctx2"]
    assert [(f.code, f.section, f.directive) for f in found] == [
        ("flattened-inheritance", "x", "description"),
        ("flattened-inheritance", "v", "context"),
    ]


# --- Repeats that add up ---------------------------------------------------------------------------


def test_repeated_encryption_is_not_last_one_wins():
    text = f"[general]\n[p]\ntype=peer\nhost=192.0.2.1\nsecret={STRONG}\nencryption=yes\nencryption=no\n"
    assert findings(text) == [("warning", "encryption-no-has-no-effect", "p")]


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (
            "[general]\ncodecpriority=caller\n[u]\ntype=user\nsecret=S\ncodecpriority=host\n",
            "caller in [general]",
        ),
        ("[general]\n[u]\ntype=user\nsecret=S\ncodecpriority=reqonly\ncodecpriority=host\n", "reqonly:"),
        (
            "[general]\n[t](!)\ncodecpriority=disabled\n[u](t)\ntype=user\nsecret=S\ncodecpriority=caller\n",
            "disabled from a template",
        ),
        ("[general]\ncodecpriority=disabled\ncodecpriority=caller\n", "disabled:"),
    ],
)
def test_codecpriority_cannot_undo_a_stronger_setting(text, kept):
    (finding,) = [
        f for f in validate(parse(text.replace("=S", f"={STRONG}")).document) if f.code != "weak-secret"
    ]
    assert (finding.severity, finding.code) == ("warning", "codecpriority-no-effect")
    assert kept in finding.message


def test_codecpriority_that_only_strengthens_is_fine():
    assert (
        findings(f"[general]\ncodecpriority=caller\n[u]\ntype=user\nsecret={STRONG}\ncodecpriority=reqonly\n")
        == []
    )


# --- defaultip ---------------------------------------------------------------------------------------


def test_defaultip_on_a_static_peer_is_a_fallback_warning():
    (finding,) = validate(
        parse(
            f"[general]\n[p]\ntype=peer\nhost=pbx.example.net\ndefaultip=192.0.2.3\nsecret={STRONG}\n"
        ).document
    )
    assert (finding.severity, finding.code) == ("warning", "defaultip-needs-dynamic")
    assert "is only used while pbx.example.net does not resolve" in finding.message
