"""The value rules of iax.conf directives, good and bad values, as chan_iax2 of Asterisk 22.10.1 reads them.

Every directive is checked through the catalogue (``catalogue()[name].check``), so these tests prove both
the rule functions in ``values.py`` and the directive -> rule mapping in ``catalogue.RULES``.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peers.iaxconf import values as v
from peers.iaxconf.catalogue import RULES, catalogue
from peers.iaxconf.validate import check_value


def check(name: str, value: str) -> None:
    catalogue()[name].check(value)


def rejected(name: str, value: str) -> v.Invalid:
    with pytest.raises(v.Invalid) as info:
        check(name, value)
    return info.value


def assert_rejected(name: str, value: str, rule: str, fragment: str) -> None:
    problem = rejected(name, value)
    assert problem.rule == rule
    assert fragment in problem.message
    assert str(problem) == problem.message


# ---------------------------------------------------------------------------------------------
# Catalogue wiring


def test_every_accepted_directive_has_a_rule():
    accepted = {d.name for d in catalogue().accepted()}
    assert accepted <= RULES.keys()


def test_check_value_returns_the_problem_and_none_for_good_or_unknown_names():
    problem = check_value("bindport", "80")
    assert isinstance(problem, v.Invalid)
    assert problem.rule == "range"
    assert check_value("bindport", "4569") is None
    assert check_value("no-such-directive", "whatever") is None


def test_directive_check_applies_line_safety_before_the_rule():
    assert_rejected("context", "default\nexten=1", "line-break", "newline")
    assert_rejected("fullname", "x" * 256, "too-long", "at most 255")


# ---------------------------------------------------------------------------------------------
# Booleans

BOOL_WORDS = ["yes", "true", "y", "t", "1", "on", "no", "false", "n", "f", "0", "off", "YES", "Off"]


@pytest.mark.parametrize("value", BOOL_WORDS)
def test_bool_accepts_asterisk_true_and_false_words(value):
    check("jitterbuffer", value)


@pytest.mark.parametrize("value", [" yes", "yes ", "  no  "])
def test_a_value_with_blanks_at_either_end_is_refused_because_asterisk_drops_them(value):
    assert_rejected("jitterbuffer", value, "whitespace", "Asterisk drops when it reads the line")


@pytest.mark.parametrize("value", ["maybe", "", "yess", "2", "enabled", "si"])
def test_bool_rejects_other_words(value):
    assert_rejected("jitterbuffer", value, "bool", "yes/no word")


@pytest.mark.parametrize("value", ["yes", "no", "0", "2000"])
def test_bool_or_int_accepts_words_and_non_negative_numbers(value):
    check("autokill", value)
    check("rtautoclear", value)


@pytest.mark.parametrize("value", ["-1", "2s", "maybe", "", "١٢"])
def test_bool_or_int_rejects_other_values(value):
    assert_rejected("autokill", value, "bool-or-int", "neither yes/no nor a number")


# ---------------------------------------------------------------------------------------------
# Integer ranges

INTEGER_RANGES = [
    # directive, accepted, out of range, text of the expected range
    ("bindport", ["1024", "4569", "65535"], ["1023", "0", "65536"], "a number from 1024 to 65535"),
    ("trunkmtu", ["0", "172", "1240", "3999"], ["1", "171", "4000", "-1"], "0 or a number from 172 to 3999"),
    ("trunkfreq", ["10", "20", "1000"], ["9", "1001", "0"], "a number from 10 to 1000"),
    ("iaxthreadcount", ["1", "10", "256"], ["0", "257"], "a number from 1 to 256"),
    ("iaxmaxthreadcount", ["0", "100", "256"], ["257", "-1"], "a number from 0 to 256"),
    ("port", ["0", "4569", "65535"], ["65536", "-1"], "a number from 0 to 65535"),
    ("cos", ["0", "3", "7"], ["8", "-1"], "a number from 0 to 7"),
    ("resyncthreshold", ["-1", "0", "1000"], ["-2"], "a number of at least -1"),
    ("calltokenexpiration", ["1", "10"], ["0", "-5"], "a number of at least 1"),
    ("maxcallnumbers", ["0", "2048", "65535"], ["65536"], "a number from 0 to 65535"),
    ("maxcallnumbers_nonvalidated", ["0", "8192"], ["70000"], "a number from 0 to 65535"),
    ("qualifyfreqok", ["1", "60000"], ["0"], "a number of at least 1"),
    ("qualifyfreqnotok", ["1", "10000"], ["0"], "a number of at least 1"),
    ("maxauthreq", ["0", "3"], ["-1"], "a number of at least 0"),
]


@pytest.mark.parametrize(
    ("name", "value"), [(name, value) for name, good, _, _ in INTEGER_RANGES for value in good]
)
def test_integer_accepts_values_inside_its_range(name, value):
    check(name, value)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [(name, value, expected) for name, _, bad, expected in INTEGER_RANGES for value in bad],
)
def test_integer_rejects_values_outside_its_range(name, value, expected):
    assert_rejected(name, value, "range", f"is out of range; expected {expected}")


@given(st.integers(min_value=-100_000, max_value=200_000))
def test_bindport_accepts_exactly_1024_to_65535(number):
    problem = check_value("bindport", str(number))
    if 1024 <= number <= 65535:
        assert problem is None
    else:
        assert problem is not None and problem.rule == "range"


@pytest.mark.parametrize("value", ["abc", "45 69", "4569.0", "0x11d9", "", "+4569", "١٢٣٤", "4569ms"])
def test_integer_rejects_what_is_not_an_ascii_whole_number(value):
    # atoi() in chan_iax2 reads only ASCII digits: "١٢٣٤" (Arabic-Indic digits) would become 0.
    assert_rejected("bindport", value, "int", "is not a whole number; expected a number from 1024 to 65535")


# ---------------------------------------------------------------------------------------------
# Choices (and the JSON catalogue)

# chan_iax2 reads these with ast_true/ast_false plus their own words (tests/asterisk/
# test_disagreements.py loads encryption=on, encryption=1, forceencryption=true,
# requirecalltoken=on/off/0 into Asterisk 22.10.1 and reads them back with 'iax2 show peer').
BOOL_WORDS = ["yes", "No", "on", "OFF", "true", "False", "y", "n", "t", "f", "1", "0"]
BOOL_OR = [
    ("transfer", ["mediaonly", "MediaOnly"], ["notransfer", "media", "", "2"], "mediaonly"),
    ("requirecalltoken", ["auto", "AUTO"], ["optional", "", "enable"], "auto"),
    ("encryption", ["aes128", "AES128"], ["aes256", "des", "encrypted"], "aes128"),
    ("forceencryption", ["aes128"], ["force", "always"], "aes128"),
    ("connectedline", ["send", "receive"], ["both", "sendreceive"], "send or receive"),
]


@pytest.mark.parametrize(
    ("name", "value"), [(name, value) for name, extra, _, _ in BOOL_OR for value in BOOL_WORDS + extra]
)
def test_true_false_words_and_the_directives_own_words_are_accepted(name, value):
    check(name, value)


@pytest.mark.parametrize(
    ("name", "value", "listed"), [(name, value, listed) for name, _, bad, listed in BOOL_OR for value in bad]
)
def test_other_words_are_rejected_naming_what_asterisk_does(name, value, listed):
    assert_rejected(
        name, value, "choice", f"is not yes/no (or on/off, true/false, 1/0) or {listed}; Asterisk"
    )


CHOICES = [
    (
        "codecpriority",
        ["caller", "host", "disabled", "reqonly"],
        ["callee", "yes"],
        "caller, host, disabled, reqonly",
    ),
    (
        "amaflags",
        ["default", "omit", "billing", "documentation"],
        ["bill", "yes"],
        "default, omit, billing, documentation",
    ),
    ("bandwidth", ["low", "medium", "high", "High"], ["ultra", "1", ""], "low, medium, high"),
    ("type", ["peer", "user", "friend", "Friend"], ["phone", "client"], "peer, user, friend"),
]


@pytest.mark.parametrize(("name", "value"), [(name, value) for name, good, _, _ in CHOICES for value in good])
def test_choice_accepts_its_words_in_any_case(name, value):
    check(name, value)


@pytest.mark.parametrize(
    ("name", "value", "listed"), [(name, value, listed) for name, _, bad, listed in CHOICES for value in bad]
)
def test_choice_rejects_other_words_and_lists_the_allowed_ones(name, value, listed):
    assert_rejected(name, value, "choice", f"is not one of {listed}")


# ---------------------------------------------------------------------------------------------
# Codecs


# The codec names IAX2 can actually carry: the formats of its legacy 64-bit format bitfield.
REFERENCE_IAX2_CODECS = (
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


def test_codec_list_is_the_reference_list():
    assert sorted(v.IAX2_CODECS) == sorted(REFERENCE_IAX2_CODECS)


@pytest.mark.parametrize("codec", REFERENCE_IAX2_CODECS)
def test_codecs_accept_every_name_iax2_can_carry(codec):
    check("allow", codec)
    check("disallow", codec.upper())


@pytest.mark.parametrize(
    "value",
    [
        "all",
        "!gsm",
        "!all",
        "ulaw:20",
        "!ulaw:30",
        "ulaw,alaw",
        "ulaw|alaw",
        "ulaw , alaw",
        "ulaw,!gsm|g722:20",
    ],
)
def test_codecs_accept_all_negation_framing_and_both_separators(value):
    check("allow", value)


@pytest.mark.parametrize("codec", ["vp9", "slin48", "t38", "silk8", "h265", "speex32", "codec2", "none"])
def test_codecs_reject_names_iax2_drops_silently(codec):
    assert_rejected(
        "allow", f"ulaw,{codec}", "codec", f"'{codec}' is a codec Asterisk knows but IAX2 cannot carry"
    )


def test_codecs_reject_g723_1_with_a_hint_to_use_g723():
    assert_rejected("disallow", "g723.1", "codec", "'g723.1' is not a codec name in Asterisk 22; use g723")


def test_codecs_reject_t140red_with_a_hint_to_use_red():
    assert_rejected("allow", "t140red", "codec", "use red")


@pytest.mark.parametrize("value", ["ulaw,foo", "testlaw", "g711"])
def test_codecs_reject_unknown_names(value):
    name = value.split(",")[-1]
    assert_rejected("allow", value, "codec", f"'{name}' is not a codec IAX2 can carry; use one of g723, gsm")


@pytest.mark.parametrize("value", ["ulaw:abc", "ulaw:-20", "ulaw:", "ulaw:20:30", "ulaw:٢٠"])
def test_codecs_reject_framing_that_is_not_milliseconds(value):
    assert_rejected("allow", value, "codec", "the framing after ':' must be a number of milliseconds")


@pytest.mark.parametrize(
    ("value", "fragment"), [("", "is empty"), ("ulaw,,alaw", "empty item"), ("ulaw,", "empty item")]
)
def test_codecs_reject_empty_lists_and_items(value, fragment):
    assert_rejected("allow", value, "codec", fragment)


@pytest.mark.parametrize("value", ["! gsm", "gsm :20"])
def test_codecs_reject_a_space_after_the_bang_or_before_the_framing(value):
    # Asterisk strips each item but not the name after '!' or before ':'; " gsm" is an unknown format.
    assert_rejected("allow", value, "codec", "has a space inside")


# ---------------------------------------------------------------------------------------------
# tos

DSCP = [f"CS{n}" for n in range(8)] + [f"AF{a}{b}" for a in "1234" for b in "123"] + ["EF"]


@pytest.mark.parametrize("value", DSCP + [name.lower() for name in DSCP] + ["Ef", "af41"])
def test_tos_accepts_dscp_names_in_any_case(value):
    check("tos", value)


@pytest.mark.parametrize("value", ["0", "184", "255", "0xb8", "0XB8", "0xff", "0270", "0377", "00"])
def test_tos_accepts_decimal_hex_and_octal_numbers_up_to_255(value):
    check("tos", value)


@given(st.integers(min_value=0, max_value=4095))
def test_tos_accepts_a_number_in_each_base_exactly_when_it_fits_a_byte(number):
    for spelling in (
        str(number),
        hex(number),
        hex(number).upper().replace("0X", "0x"),
        "0" + format(number, "o"),
    ):
        problem = check_value("tos", spelling)
        if number <= 255:
            assert problem is None, spelling
        else:
            assert problem is not None and problem.rule == "tos", spelling


@pytest.mark.parametrize("value", ["lowdelay", "throughput", "reliability", "mincost", "none", "LowDelay"])
def test_tos_rejects_pre_dscp_names(value):
    assert_rejected(
        "tos", value, "tos", "is a pre-DSCP name Asterisk no longer accepts; use CS0-CS7, AF11-AF43 or EF"
    )


@pytest.mark.parametrize("value", ["256", "0x100", "0400", "1000"])
def test_tos_rejects_numbers_over_255(value):
    assert_rejected("tos", value, "tos", "is out of range; a TOS number is 0-255")


@pytest.mark.parametrize(
    "value", ["cs8", "af14", "af44", "ef1", "08", "1_0", "0o17", "+5", "-1", "0x", "", "1e2"]
)
def test_tos_rejects_other_names_and_number_spellings(value):
    # "08", "1_0" and "0o17" would be read by sscanf("%i") only up to the first bad character.
    assert_rejected("tos", value, "tos", "is not a DSCP name (CS0-CS7, AF11-AF43, EF) or a number 0-255")


# ---------------------------------------------------------------------------------------------
# qualify


@pytest.mark.parametrize("value", ["yes", "no", "YES", "0", "2000"])
def test_qualify_accepts_yes_no_and_milliseconds(value):
    check("qualify", value)


@pytest.mark.parametrize("value", ["true", "on", "-1", "2s", "", "١"])
def test_qualify_rejects_other_values(value):
    # build_peer compares with "yes"/"no" literally; "true" is neither and turns qualify off.
    assert_rejected("qualify", value, "qualify", "must be yes, no or a number of milliseconds")


# ---------------------------------------------------------------------------------------------
# Hosts


@pytest.mark.parametrize(
    "value",
    [
        "dynamic",
        "Dynamic",
        "pbx.example.com",
        "pbx-1.example.com.",
        "localhost",
        "192.0.2.1",
        "2001:db8::1",
        "_iax.example",
        "[2001:db8::1]",  # brackets: Asterisk reads them (test_disagreements.py)
        "[::1]",
        "[192.0.2.1]",
    ],
)
def test_host_accepts_dynamic_host_names_and_ip_addresses(value):
    check("host", value)


@pytest.mark.parametrize("value", ["192.0.2.1:4569", "pbx.example.com:4570"])
def test_host_rejects_a_port_and_points_to_port(value):
    assert_rejected("host", value, "host", "must not contain a port; put the port in port=")


@pytest.mark.parametrize("value", ["bad host", "-bad.example.com", "1.2.3", "999.1.1.1", "", "a..b"])
def test_host_rejects_what_is_not_a_host_name_or_address(value):
    assert_rejected("host", value, "host", "is not a host name or an IP address")


def test_host_rejects_brackets_around_a_name():
    assert_rejected(
        "host", "[pbx.example.com]", "host", "has brackets around something that is not an IP address"
    )


def test_defaultip_takes_a_host_or_address_without_port():
    check("defaultip", "192.0.2.10")
    check("defaultip", "phone.example.com")
    assert_rejected("defaultip", "192.0.2.10:4569", "host", "must not contain a port")


@pytest.mark.parametrize(
    "value", ["192.0.2.1", "192.0.2.1:4569", "0.0.0.0", "[2001:db8::1]:4569", "2001:db8::1"]
)
def test_bindaddr_and_sourceaddress_accept_ip_with_optional_port(value):
    check("bindaddr", value)
    check("sourceaddress", value)


@pytest.mark.parametrize(
    ("value", "rule", "fragment"),
    [
        ("pbx.example.com", "ip", "is not an IP address"),
        ("[192.0.2.1]:4569", "ip", "not an IPv6 address"),
        ("192.0.2.1:0", "port", "not a number from 1 to 65535"),
        ("192.0.2.1:65536", "port", "not a number from 1 to 65535"),
        ("192.0.2.1:", "port", "not a number from 1 to 65535"),
    ],
)
def test_bindaddr_rejects_names_and_bad_ports(value, rule, fragment):
    assert_rejected("bindaddr", value, rule, fragment)


# ---------------------------------------------------------------------------------------------
# Netmask and ACLs


@pytest.mark.parametrize(
    "value", ["255.255.255.0", "255.255.255.255", "0.0.0.0", "255.255.0.0", "ffff:ffff::"]
)
def test_mask_accepts_contiguous_netmasks(value):
    check("mask", value)


@pytest.mark.parametrize("value", ["255.0.255.0", "[255.255.0.0]", "[ffff::]"])
def test_mask_accepts_non_contiguous_and_bracketed_masks(value):
    # Asterisk applies the mask bit by bit (ast_sockaddr_parse accepts any address; test_disagreements.py)
    check("mask", value)


@pytest.mark.parametrize("value", ["24", "/24", "example.com", ""])
def test_mask_rejects_what_is_not_a_netmask(value):
    assert_rejected("mask", value, "mask", "is not a netmask")


@pytest.mark.parametrize(
    "value",
    [
        "192.0.2.7",
        "!192.0.2.7",
        "192.0.2.0/24",
        "192.0.2.0/255.255.255.0",
        "0.0.0.0/0.0.0.0",
        "0.0.0.0/0",
        "2001:db8::/32",
        "2001:db8::/ffff:ffff::",
        "!2001:db8::1",
        "::/0",
        "10.0.0.0/8,192.168.0.0/16",
        "10.0.0.0/8,!10.1.0.0/16",
        "192.0.2.0/255.0.255.0",  # not contiguous: Asterisk applies it bit by bit
        "[2001:db8::1]/128",
        "[::1]",
        "::ffff:10.0.0.0/8",  # IPv4-mapped: read as IPv4, so an IPv4 prefix length
        "::ffff:10.0.0.0/::ffff:255.0.0.0",
        "10.0.0.0/ 8",  # sscanf reads the prefix length past blanks
    ],
)
def test_acl_entries_accept_address_with_cidr_or_dotted_mask(value):
    check("permit", value)
    check("deny", value)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("192.0.2.0/ffff::", "needs an IPv4 (an IPv4-mapped address counts as IPv4) mask, like its address"),
        ("2001:db8::/255.255.0.0", "needs an IPv6 mask, like its address"),
        ("192.0.2.0/", "has a mask that is not an address or a prefix length"),
        ("192.0.2.0/33", "has a prefix length over 32"),
        ("2001:db8::/129", "has a prefix length over 128"),
        ("192.0.2.0/٢٤", "has a mask that is not an address or a prefix length"),
        # Asterisk 22.10.1 refuses these (test_disagreements.py): a blank inside an entry, an
        # IPv4-mapped address with an IPv6 prefix length or mask
        ("10.0.0.0 /8", "'10.0.0.0 /8' has a blank in it"),
        ("! 1.2.3.4", "'! 1.2.3.4' has a blank in it"),
        (
            "10.0.0.1, 10.0.0.2",
            "' 10.0.0.2' has a blank in it; Asterisk stops reading the line at this entry",
        ),
        ("::ffff:10.0.0.0/96", "has a prefix length over 32 (an IPv4-mapped address is read as IPv4)"),
        ("::ffff:10.0.0.0/ffff:ffff:ffff:ffff:ffff:ffff:ff00:0", "needs an IPv4"),
        ("office.example.com", "does not start with an IP address"),
        ("10.0.0.0/8,", "has an empty entry"),
        ("", "has an empty entry"),
    ],
)
def test_acl_entries_reject_mixed_families_bad_masks_and_names(value, fragment):
    assert_rejected("permit", value, "acl", fragment)


def test_calltokenoptional_takes_one_range_without_negation():
    check("calltokenoptional", "10.0.0.0/8")
    check("calltokenoptional", "192.0.2.1")
    assert_rejected("calltokenoptional", "!10.0.0.0/8", "acl", "does not start with an IP address")
    assert_rejected("calltokenoptional", "10.0.0.1,10.0.0.2", "acl", "takes a single address[/mask]")


@pytest.mark.parametrize("value", ["office", "office,branch-2", "a.b_c"])
def test_acl_names_accept_comma_lists(value):
    check("acl", value)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("office,office", "names the same ACL twice"),
        ("office,", "separated by ,"),
        ("bad name", "separated by ,"),
    ],
)
def test_acl_names_reject_repeats_and_bad_names(value, fragment):
    assert_rejected("acl", value, "acl-name", fragment)


# ---------------------------------------------------------------------------------------------
# Keys and authentication


@pytest.mark.parametrize("value", ["server", "iax_key-1.v2", "A" * 64])
def test_key_name_accepts_file_names_without_suffix(value):
    check("outkey", value)


@pytest.mark.parametrize("value", ["server.key", "server.pub", "../etc/passwd", "a b", "", "A" * 65, "a:b"])
def test_key_name_rejects_suffixes_paths_and_bad_characters(value):
    assert_rejected("outkey", value, "key-name", "is not a key name")


@pytest.mark.parametrize("value", ["alice", "alice:bob:carol"])
def test_inkeys_accept_colon_separated_key_names(value):
    check("inkeys", value)


@pytest.mark.parametrize(
    ("value", "name"), [("alice::bob", ""), ("alice,bob", "alice,bob"), ("alice:bob.pub", "bob.pub")]
)
def test_inkeys_reject_empty_names_commas_and_suffixes(value, name):
    assert_rejected("inkeys", value, "key-name", f"'{name}' is not a key name")


@pytest.mark.parametrize(
    "value",
    ["md5", "rsa", "plaintext", "md5,rsa", "md5, rsa", "md5,rsa,plaintext", "md5rsa", "rsa md5", "md5;rsa"],
)
def test_auth_accepts_comma_lists_of_methods(value):
    # chan_iax2 looks for each name with strstr: no separator is needed (md5rsa, test_disagreements.py)
    check("auth", value)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("sha1", "'sha1' is not an authentication method (chan_iax2 ignores it)"),
        (
            "RSA",
            "'RSA' is not read: chan_iax2 looks for md5, rsa and plaintext in lower case only; write rsa; "
            "with no method found Asterisk falls back to md5",
        ),
        ("md5,RSA", "'RSA' is not read"),
        ("md5,md5", "names a method twice"),
        ("", "is empty"),
    ],
)
def test_auth_rejects_unknown_methods_repeats_and_empty(value, fragment):
    assert_rejected("auth", value, "auth", fragment)


@pytest.mark.parametrize("value", ["s3cret", "x" * 79, "with space", "has:colon", "Ünïcödé"])
def test_secret_accepts_up_to_79_characters(value):
    check("secret", value)


def test_secret_rejects_a_semicolon():
    assert_rejected("secret", "abc;def", "secret", "contains ';'")


def test_secret_rejects_more_than_79_characters():
    assert_rejected("secret", "x" * 80, "too-long", "is 80 characters long; at most 79 are allowed")


@pytest.mark.parametrize("value", ["iax/alice", "iax/users/alice"])
def test_dbsecret_accepts_family_slash_key(value):
    check("dbsecret", value)


@pytest.mark.parametrize("value", ["iaxalice", "/alice", "iax/", ""])
def test_dbsecret_rejects_a_path_without_family_and_key(value):
    assert_rejected("dbsecret", value, "dbsecret", "must be an astdb path family/key")


# ---------------------------------------------------------------------------------------------
# Other peer and user values


@pytest.mark.parametrize("value", ["FOO=bar", "FOO=", "_FOO=bar baz", "__X=1", "CDR(x)=1"])
def test_setvar_accepts_name_equals_value(value):
    check("setvar", value)


@pytest.mark.parametrize("value", ["FOO", "=bar", "1FOO=bar", "FOO BAR=1", ""])
def test_setvar_rejects_what_is_not_name_equals_value(value):
    assert_rejected("setvar", value, "setvar", "must be NAME=value")


@pytest.mark.parametrize("value", ['"Alice" <100>', "Alice <100>", "100", '"Alice"', "asreceived", ""])
def test_callerid_accepts_name_and_number_forms(value):
    check("callerid", value)


@pytest.mark.parametrize(
    ("value", "rule", "fragment"),
    [
        ('"Alice <100>', "callerid", "unbalanced quote"),
        ("Alice <100", "callerid", "not closed by >"),
        ("x" * 161, "too-long", "each cut at 79 characters"),
    ],
)
def test_callerid_rejects_unbalanced_quotes_and_brackets(value, rule, fragment):
    assert_rejected("callerid", value, rule, fragment)


@pytest.mark.parametrize("value", ["100", "100@default", "100@default,200@other", "100&200"])
def test_mailbox_accepts_box_at_context_lists(value):
    check("mailbox", value)


@pytest.mark.parametrize("value", ["100@", "bad box", "", "100@a b"])
def test_mailbox_rejects_malformed_boxes(value):
    assert_rejected("mailbox", value, "mailbox", "must be mailbox[@context]")


@pytest.mark.parametrize("value", ["100", "100&200", "*99"])
def test_regexten_accepts_extensions_joined_by_ampersand(value):
    check("regexten", value)


@pytest.mark.parametrize("value", ["100 200", "", "100&", "100,200"])
def test_regexten_rejects_other_separators_and_empty(value):
    assert_rejected("regexten", value, "regexten", "must be extensions separated by &")


@pytest.mark.parametrize("value", ["Europe/Berlin", "America/New_York", "UTC", "Etc/GMT+1"])
def test_timezone_accepts_tz_database_names(value):
    check("timezone", value)


@pytest.mark.parametrize("value", ["Europe Berlin", "", "x" * 80, "Europe/Berlin;x"])
def test_timezone_rejects_other_text(value):
    assert_rejected("timezone", value, "timezone", "is not a tz database name")


def test_text_rules_match_the_whole_value():
    check("context", "from-internal")
    assert_rejected("context", "from internal", "format", "is not a dialplan context name")
    assert_rejected("language", "pt BR", "format", "is not a language tag")
    assert_rejected("language", "x" * 40, "too-long", "at most 39 are allowed")
    assert_rejected("accountcode", "x" * 80, "too-long", "at most 79 are allowed")


# ---------------------------------------------------------------------------------------------
# register lines


@pytest.mark.parametrize(
    "value",
    [
        "alice@pbx.example.com",
        "alice:s3cret@pbx.example.com",
        "alice:s3cret@pbx.example.com:4569",
        "alice:s3cret@192.0.2.1:1",
        "alice@192.0.2.1:65535",
        "alice:[mykey]@pbx.example.com",
        "alice:[my_key-1]@pbx.example.com:4570",
        "alice:@pbx.example.com",
        "a" * 79 + ":" + "s" * 79 + "@pbx.example.com",
        "alice:pa ss word@pbx.example.com",  # Asterisk registers with it (test_disagreements.py)
    ],
)
def test_register_accepts_user_secret_or_key_at_host_and_port(value):
    check("register", value)


REGISTER_ERRORS = [
    ("alice.example.com", "has no '@'; the format is user[:secret]@host[:port]"),
    ("alice@pbx.example.com@other", "has more than one '@'"),
    ("a" * 80 + "@pbx.example.com", "needs a user name (up to 79 characters"),
    (":s3cret@pbx.example.com", "needs a user name"),
    ("alice bob@pbx.example.com", "needs a user name"),
    ("alice/100@pbx.example.com", "needs a user name"),
    (
        "alice:s3c:ret@pbx.example.com",
        "has a second ':' in the credentials; a register secret cannot contain ':'",
    ),
    ("alice:[mykey@pbx.example.com", "has a key reference that is not [keyname]"),
    ("alice:[mykey.key]@pbx.example.com", "has a key reference that is not [keyname]"),
    ("alice:" + "s" * 80 + "@pbx.example.com", "has a secret that is over 79 characters"),
    ("alice:s3;cret@pbx.example.com", "contains brackets or ';'"),
    ("alice:s3cret@pbx.example.com/100", "has a /extension or ~expiry part; that is sip.conf syntax"),
    ("alice:s3cret@pbx.example.com:4569/100", "has a /extension or ~expiry part"),
    ("alice@pbx.example.com~3600", "has a /extension or ~expiry part"),
    ("alice@2001:db8::1", "uses an IPv6 literal; chan_iax2 splits at ':' so use a host name"),
    ("alice@[2001:db8::1]", "uses an IPv6 literal"),
    ("alice@[2001:db8::1]:4569", "uses an IPv6 literal"),
    ("alice@bad host", "'bad host' is not a host name or IPv4 address"),
    ("alice@:4569", "'' is not a host name or IPv4 address"),
    ("alice@pbx.example.com:0", "has a port that is not a number from 1 to 65535"),
    ("alice@pbx.example.com:65536", "has a port that is not a number from 1 to 65535"),
    ("alice@pbx.example.com:", "has a port that is not a number from 1 to 65535"),
    ("alice@pbx.example.com:iax", "has a port that is not a number from 1 to 65535"),
    ("alice@pbx.example.com:٤٥٦٩", "has a port that is not a number from 1 to 65535"),
]


@pytest.mark.parametrize(("value", "fragment"), REGISTER_ERRORS)
def test_register_rejects_every_malformed_part(value, fragment):
    assert_rejected("register", value, "register", fragment)


def test_register_rejects_a_line_over_255_characters():
    line = "alice@" + "h" * 250
    assert_rejected("register", line, "too-long", "is 256 characters long; at most 255 are allowed")
    with pytest.raises(v.Invalid) as info:
        v.register_line(line)  # the rule says so too, without the generic line check in front
    assert info.value.rule == "register"
    assert "is longer than 255 characters" in info.value.message


# ---------------------------------------------------------------------------------------------
# Line safety and section names


@pytest.mark.parametrize(
    "value", ["a\nb", "a\rb", "a\x00b", "a\x1bb", "a\x7fb", "a\tb", "trailing\n"], ids=repr
)
def test_check_line_safe_rejects_newlines_and_control_characters(value):
    with pytest.raises(v.Invalid) as info:
        v.check_line_safe(value)
    assert info.value.rule == "line-break"
    assert "would break out of its line" in info.value.message


def test_check_line_safe_rejects_over_long_values():
    v.check_line_safe("x" * 255)
    with pytest.raises(v.Invalid) as info:
        v.check_line_safe("x" * 256)
    assert info.value.rule == "too-long"
    assert "is 256 characters long; at most 255 are allowed" in info.value.message


def test_check_line_safe_takes_a_smaller_limit():
    v.check_line_safe("x" * 10, max_length=10)
    with pytest.raises(v.Invalid) as info:
        v.check_line_safe("x" * 11, max_length=10)
    assert info.value.rule == "too-long"


def test_check_line_safe_accepts_ordinary_text():
    v.check_line_safe('"Alice Ünïcödé" <100>; not a comment here')


@pytest.mark.parametrize("name", ["alice", "office-1", "A.B_c+d", "x" * 79, "100"])
def test_section_name_accepts_plain_names(name):
    v.check_section_name(name)


@pytest.mark.parametrize(
    ("name", "rule", "fragment"),
    [
        ("", "section-name", "is empty"),
        ("alice bob", "section-name", "may not contain spaces"),
        ("alice/1", "section-name", "may not contain"),
        ("alice:1", "section-name", "may not contain"),
        ("alice@home", "section-name", "may not contain"),
        ("alice]", "section-name", "may not contain"),
        ("alice;x", "section-name", "may not contain"),
        ("general", "section-name", "'general' is reserved"),
        ("CallNumberLimits", "section-name", "'CallNumberLimits' is reserved"),
        ("x" * 80, "too-long", "at most 79 are allowed"),
        ("alice\n", "line-break", "newline"),
    ],
)
def test_section_name_rejects_separators_reserved_names_and_long_names(name, rule, fragment):
    with pytest.raises(v.Invalid) as info:
        v.check_section_name(name)
    assert info.value.rule == rule
    assert fragment in info.value.message
