"""Issue 13, section 3: where the domain core disagreed with chan_iax2 22.10.1, settled by running
Asterisk. Each test loads configurations into real Asterisk in the session's sandbox, asserts what
Asterisk does (the expected values below were read off Asterisk 22.10.1's own output and log),
and asserts that the domain core now agrees. tests/iaxconf/test_disagreements.py holds the same
domain-core assertions without Asterisk, so they run everywhere.

Findings codes added here: ``open-registration``, ``empty-secret-after-secret``,
``codecpriority-no-effect``, ``addition-to-template`` (validate.py), ``flattened-inheritance``
(normalise.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from peers.asterisk.compare import differences, new_problems
from peers.exporter import export_host, write_export
from peers.iaxconf import render, validate
from peers.iaxconf import values as v
from peers.iaxconf.normalise import NormaliseError, normalise
from peers.iaxconf.parse import parse, parse_file
from peers.importer import ImportError_, _check_bases
from peers.models import Host
from peers.services import import_document

CALLER = Path(__file__).with_name("iax2_caller.py")
DIALPLAN = "[general]\nstatic=yes\n\n[default]\nexten => 100,1,Answer()\nsame => n,Hangup()\n"
STRONG = "Real-S3cret-1x"


def codes(text: str) -> list[tuple[str, str]]:
    """(code, section) of every finding for a config text, read the way an import reads it."""
    document, normalised = normalise(parse(text).document)
    return [(f.code, f.section) for f in normalised + validate(document)]


def peer_field(instance, name: str, label: str) -> str:
    return instance.peer(name)[label]


def users(instance) -> dict:
    return {u.name: u for u in instance.users()}


def through_the_database(folder: Path, tmp_path: Path, start, port: int):
    """Import ``folder/iax.conf`` (with its includes) into a host, export it, and load the original
    and the export into Asterisk: their snapshots."""
    parsed = parse_file(folder / "iax.conf")
    import_document(parsed.document, host_name="h", notes=parsed.notes, actor="test")
    export = export_host(Host.objects.get(name="h"))
    write_export(export, tmp_path / "export", allow_errors=True)
    original = start(folder, port=port).snapshot()
    exported = start(tmp_path / "export").snapshot()
    return original, exported, export


def registered(client) -> str:
    """How the server answered the client's one registration: "Registered" once a REGACK gave the
    client its perceived address, "No Authentication" or "Rejected" once the client logged that
    answer (clients here set authdebug=yes, which logs rejections).

    The registry's State column is not used: iax2_do_register in Asterisk 22.10.1 sets "Request
    Sent" after sending the request, so on a loaded CPU the answer can be processed first and the
    state then stays "Request Sent" until the next refresh (seen while writing these tests)."""

    def answer():
        row = client.registry()[0]
        if row.perceived != "<Unregistered>":
            return "Registered"
        client.sync_log()
        for line in client.log():
            if "No secret associated with peer" in line.message:
                return "No Authentication"
            if line.message.startswith("Registration of ") and " rejected: " in line.message:
                return "Rejected"
        return None

    return client.wait_until(answer, timeout=30) or "no answer in 30 s"


def client_config(line: str) -> dict[str, str]:
    return {"iax.conf": f"[general]\nauthdebug=yes\nregister => {line}\n"}


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


# --- Auth holes ------------------------------------------------------------------------------


def test_dynamic_peer_without_secret_accepts_anyones_registration(start, ports):
    """register_verify asks nothing of a host=dynamic peer without secret, dbsecret or inkeys, and
    a peer keeps only its last secret line: a client with no secret registers as either."""
    server_port = next(ports)
    server = f"""[general]

[tpl](!)
type=peer
host=dynamic
secret={STRONG}

[open]
type=peer
host=dynamic

[emptied]
type=peer
host=dynamic
secret={STRONG}
secret=

[inherited](tpl)
secret=

[closed]
type=peer
host=dynamic
secret={STRONG}
"""
    a = start({"iax.conf": server}, port=server_port)
    states = {}
    for name in ("open", "emptied", "inherited", "closed"):
        client = start(client_config(f"{name}@127.0.0.1:{server_port}"))
        states[name] = registered(client)
    assert states == {
        "open": "Registered",
        "emptied": "Registered",
        "inherited": "Registered",
        "closed": "No Authentication",
    }
    assert peer_field(a, "emptied", "Secret") == "<Not set>"
    assert ("open-registration", "open") in codes(server)
    assert ("open-registration", "emptied") in codes(server)
    assert ("open-registration", "inherited") in codes(server)
    assert not any(code == "open-registration" for code, name in codes(server) if name == "closed")


def test_empty_secret_after_a_real_one_lets_a_user_in_with_no_secret(sandbox, start, port):
    """build_user joins a user's secrets with ';' and authenticate_verify tries each part: an
    empty line after a real one (own or from a template) accepts MD5(challenge) alone. The call
    is placed by tests/asterisk/iax2_caller.py, which sends the MD5 answer of an empty secret."""
    conf = f"""[general]

[tpl](!)
type=user
secret={STRONG}
context=default

[holed]
type=user
secret={STRONG}
secret=
context=default

[from-template](tpl)
secret=

[empty-first]
type=user
secret=
secret={STRONG}
context=default
"""
    a = start({"iax.conf": conf, "extensions.conf": DIALPLAN}, port=port)
    shown = users(a)
    assert (shown["holed"].secret, shown["from-template"].secret, shown["empty-first"].secret) == (
        f"{STRONG};",
        f"{STRONG};",
        STRONG,
    )

    def call(user: str, secret: str) -> str:
        spec = {
            "to": f"127.0.0.1:{port}",
            "username": user,
            "secret": secret,
            "exten": "100",
            "methods": ["md5"],
        }
        answer = json.loads(sandbox.run([sys.executable, str(CALLER), json.dumps(spec)]).stdout)
        return {"accepted": "ACCEPT", "rejected": f"REJECT {answer.get('cause')}"}.get(
            answer["outcome"], answer["outcome"]
        )

    assert call("holed", "") == "ACCEPT"
    assert call("from-template", "") == "ACCEPT"
    assert call("empty-first", "") == "REJECT No authority found"
    assert call("empty-first", STRONG) == "ACCEPT"
    found = codes(conf)
    assert ("empty-secret-after-secret", "holed") in found
    assert ("empty-secret-after-secret", "from-template") in found
    assert ("empty-secret-after-secret", "empty-first") not in found
    assert ("empty-secret", "empty-first") in found  # a warning: harmless, but useless


# --- ACL values Asterisk rejects -------------------------------------------------------------


def test_acl_entries_with_blanks_or_mapped_ipv6_masks_are_rejected(start):
    """ast_append_ha splits at ',' and '/' without stripping: a blank makes the entry invalid, and
    the first invalid entry ends the line (the rest is dropped). IPv4-mapped IPv6 is read as IPv4,
    so /96 or an IPv6 mask is invalid."""
    conf = """[general]

[a1]
type=user
deny=10.0.0.0 /8
[a2]
type=user
permit=10.0.0.1, 10.0.0.2
[a3]
type=user
deny=! 1.2.3.4
[a4]
type=user
permit=::ffff:10.0.0.0/96
[a5]
type=user
permit=::ffff:10.0.0.0/ffff:ffff:ffff:ffff:ffff:ffff:ff00:0
"""
    a = start({"iax.conf": conf})
    assert [str(line) for line in a.warnings()] == [
        "WARNING acl.c: Invalid IP address: 10.0.0.0",
        "WARNING acl.c: Invalid IP address:  10.0.0.2",
        "WARNING acl.c: Invalid IP address:  1.2.3.4",
        "WARNING acl.c: Invalid CIDR netmask: 96",
        "WARNING acl.c: Address and mask are not using same address scheme.",
    ]
    found = codes(conf)
    for name in ("a1", "a2", "a3", "a4", "a5"):
        assert ("invalid-value", name) in found


def test_a_blank_in_a_permit_list_drops_the_rest_so_a_deny_all_wins(start, ports):
    server_port = next(ports)
    server = f"""[general]

[listed]
type=peer
host=dynamic
secret={STRONG}
deny=0.0.0.0/0.0.0.0
permit=10.0.0.1, 127.0.0.1
"""
    start({"iax.conf": server}, port=server_port)
    b = start(client_config(f"listed:{STRONG}@127.0.0.1:{server_port}"))
    assert registered(b) == "Rejected"
    assert ("invalid-value", "listed") in codes(server)


def test_an_invalid_calltokenoptional_stops_chan_iax2_loading(start):
    conf = "[general]\ncalltokenoptional=10.0.0.0 /8\n\n[a]\ntype=peer\nhost=127.0.0.1\n"
    snapshot = start({"iax.conf": conf}).snapshot()
    assert not snapshot.iax_running
    assert "ERROR loader.c: chan_iax2 declined to load." in [str(x) for x in snapshot.log]
    problem = validate(parse(conf).document)[0]
    assert (problem.code, problem.directive) == ("invalid-value", "calltokenoptional")
    assert "chan_iax2 refuses to load with an invalid calltokenoptional" in problem.message


# --- Values Asterisk accepts -------------------------------------------------------------------


def test_values_asterisk_reads_without_a_word(start, ports):
    """Bracketed IPv6 in host, defaultip and ACLs; non-contiguous masks; a host name in
    sourceaddress; an empty disallow=; an escaped quote in a caller-ID name."""
    port = next(ports)
    conf = f"""[general]

[v6]
type=peer
host=[::1]
defaultip=[::1]
secret={STRONG}
deny=[::1]/128
permit=10.0.0.0/255.0.255.0
mask=255.0.255.0

[src]
type=peer
host=127.0.0.1
sourceaddress=localhost:{port}
secret={STRONG}
disallow=
callerid="Bob \\"B\\" Smith" <200>
"""
    a = start({"iax.conf": conf}, port=port)
    assert a.warnings() == []
    assert (peer_field(a, "v6", "Addr->IP"), peer_field(a, "v6", "Defaddr->IP")) == (
        "::1 Port 4569",
        "::1 Port 0",
    )
    assert peer_field(a, "v6", "ACL") == "Yes"
    assert peer_field(a, "src", "Callerid") == '"Bob \\"B\\" Smith" <200>'
    # the one finding is advice: a defaultip beside a static host is only its fallback
    assert codes(conf) == [("defaultip-needs-dynamic", "v6")]


def test_empty_allow_is_a_warning_in_asterisk_so_we_keep_refusing_it(start):
    a = start({"iax.conf": "[general]\n\n[u]\ntype=user\nallow=\n"})
    assert [str(x) for x in a.warnings()] == ["WARNING format_cap.c: Cannot allow unknown format ''"]
    assert ("invalid-value", "u") in codes("[general]\n\n[u]\ntype=user\nallow=\n")


def test_long_permit_list_and_spaces_in_a_register_secret_work(start, ports):
    """A permit line of 500+ characters is read whole (its last entry lets 127.0.0.1 in), and a
    register secret may hold blanks."""
    server_port = next(ports)
    long_permit = ",".join(f"10.0.{i}.0/24" for i in range(40)) + ",127.0.0.1"
    server = f"""[general]

[acl-long]
type=peer
host=dynamic
secret={STRONG}
deny=0.0.0.0/0.0.0.0
permit={long_permit}

[spaced]
type=peer
host=dynamic
secret=pa ss word
"""
    clients = [
        client_config(f"acl-long:{STRONG}@127.0.0.1:{server_port}"),
        client_config(f"spaced:pa ss word@127.0.0.1:{server_port}"),
    ]
    start({"iax.conf": server}, port=server_port)
    assert [registered(start(client)) for client in clients] == ["Registered", "Registered"]
    assert len(long_permit) > v.MAX_LINE
    assert codes(server) == [] and [codes(client["iax.conf"]) for client in clients] == [[], []]


# --- True/false words --------------------------------------------------------------------------


def test_encryption_and_calltoken_take_every_true_false_word(start):
    conf = f"""[general]

[e1]
type=peer
host=127.0.0.1
secret={STRONG}
encryption=on
requirecalltoken=on
[e2]
type=peer
host=127.0.0.1
secret={STRONG}
encryption=1
requirecalltoken=off
[e3]
type=peer
host=127.0.0.1
secret={STRONG}
forceencryption=true
requirecalltoken=0
transfer=on
connectedline=off
"""
    a = start({"iax.conf": conf})
    assert a.warnings() == []
    shown = {
        n: (peer_field(a, n, "Encryption"), peer_field(a, n, "Calltoken req")) for n in ("e1", "e2", "e3")
    }
    assert shown == {
        "e1": ("(aes128,keyrotate)", "Yes"),
        "e2": ("(aes128,keyrotate)", "No"),
        "e3": ("(aes128,keyrotate)", "No"),
    }
    # transfer and connectedline are not shown by any CLI command: build_peer reads them with
    # ast_true/ast_false like the others, and Asterisk loads them without a word
    assert [c for c, _ in codes(conf)] == ["calltoken-disabled", "calltoken-disabled"]
    # and encryption=on turns the encryption checks on
    assert ("encryption-needs-secret", "x") in codes(
        "[general]\n[x]\ntype=user\nencryption=on\npermit=10.0.0.1\n"
    )


# --- auth= is case-sensitive -------------------------------------------------------------------


def test_auth_is_read_case_sensitively_and_needs_no_separator(start):
    conf = f"""[general]

[upper]
type=user
auth=RSA
secret={STRONG}
[joined]
type=user
auth=md5rsa
secret={STRONG}
inkeys=k
"""
    shown = users(start({"iax.conf": conf}))
    assert (shown["upper"].auth, shown["joined"].auth) == (["md5"], ["md5", "rsa"])
    assert ("invalid-value", "upper") in codes(conf)
    assert not any(name == "joined" and code == "invalid-value" for code, name in codes(conf))


# --- callerid, fullname and cid_number in file order ---------------------------------------


def _file_round_trip(text: str) -> str:
    document, _ = normalise(parse(text).document)
    return render(document)


@pytest.mark.django_db
def test_callerid_and_fullname_keep_their_order(start, tmp_path, port):
    conf = f"""[general]

[cid1]
type=peer
host=127.0.0.1
secret={STRONG}
fullname=Alice
callerid="Bob" <200>

[cid2]
type=peer
host=127.0.0.1
secret={STRONG}
callerid="Bob" <200>
fullname=Alice
cid_number=300
"""
    original, exported, _ = through_the_database(
        write(tmp_path / "orig", {"iax.conf": conf}), tmp_path, start, port
    )
    assert original.peer_details["cid1"]["Callerid"] == '"Bob" <200>'
    assert original.peer_details["cid2"]["Callerid"] == '"Alice" <300>'
    assert differences(original, exported) == []


# --- #include ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_lines_after_an_include_stay_in_the_including_section_and_paths_are_config_relative(
    start, tmp_path, port
):
    folder = write(
        tmp_path / "orig",
        {
            "iax.conf": f"[general]\n\n[a]\ntype=peer\nhost=127.0.0.1\nsecret={STRONG}\n#include sub/one.conf\n"
            "description=after include\n",
            "sub/one.conf": f"[b]\ntype=peer\nhost=127.0.0.1\nsecret={STRONG}\n#include two.conf\n",
            "two.conf": "context=from-the-config-directory\n",
            "sub/two.conf": "context=beside-the-including-file\n",
        },
    )
    original, exported, _ = through_the_database(folder, tmp_path, start, port)
    assert original.peer_details["a"]["Description"] == "after include"
    assert original.peer_details["b"]["Context"] == "from-the-config-directory"
    assert differences(original, exported) == []
    sections = {s.name: s for s in parse_file(folder / "iax.conf").document.sections}
    assert sections["a"].values("description") == ["after include"]
    assert sections["b"].values("context") == ["from-the-config-directory"]


def test_includeifexists_depth_and_line_length(start, tmp_path):
    """#includeifexists is an unknown directive (the file is not read); the main file and 10
    nested includes are read, an 11th is not; a line of 8190 bytes is read, 8191 is skipped."""
    unknown = write(
        tmp_path / "unknown",
        {
            "iax.conf": "[general]\n#includeifexists there.conf\n",
            "there.conf": "[z]\ntype=peer\nhost=127.0.0.1\n",
        },
    )
    snapshot = start(unknown).snapshot()
    assert snapshot.peer_details == {}
    assert [str(x) for x in snapshot.problems] == [
        "WARNING config.c: Unknown directive '#includeifexists' at line 2 of <etc>/iax.conf"
    ]
    assert parse_file(unknown / "iax.conf").document.sections[0].entries == []

    for depth, deepest in ((10, "p10"), (11, "p10")):
        folder = tmp_path / f"nest{depth}"
        files = {"iax.conf": "[general]\n#include n1.conf\n"}
        for level in range(1, depth + 1):
            follow = f"#include n{level + 1}.conf\n" if level < depth else ""
            files[f"n{level}.conf"] = f"[p{level}]\ntype=peer\nhost=127.0.0.1\n{follow}"
        names = start(write(folder, files)).peer_names()
        assert max(names, key=lambda n: int(n[1:])) == deepest
    assert len(parse_file(tmp_path / "nest10" / "iax.conf").document.sections) == 11

    for size, read in ((8190, True), (8191, False)):
        line = "description=" + "x" * (size - len("description="))
        conf = f"[general]\n[a]\ntype=peer\nhost=127.0.0.1\n{line}\nusername=after\n"
        detail = start({"iax.conf": conf}).peer("a")
        assert (detail["Description"] != "", detail["Username"]) == (read, "after")
        assert (parse(conf).document.sections[1].values("description") != []) is read


# --- Headers with blanks ------------------------------------------------------------------------


def test_blanks_in_header_options_reject_the_file_and_general_with_blanks_is_not_general(start):
    for header in ("[a]( t)", "[a]( ! )"):
        conf = f"[general]\n[t](!)\ntype=peer\n{header}\nhost=127.0.0.1\n"
        assert start({"iax.conf": conf}).snapshot().config_rejected
        with pytest.raises(ImportError_) as refused:
            _check_bases(parse(conf).document)
        assert refused.value.problems[0][2] in (
            "[a] inherits from ' t', which is not defined before it",
            "[a] inherits from ' ! ', which is not defined before it",
        )
    conf = "[ general ]\nbandwidth=low\n\n[b]\ntype=peer\nhost=127.0.0.1\nsecret=Real-S3cret-1x\n"
    snapshot = start({"iax.conf": conf}).snapshot()
    assert [str(x) for x in snapshot.problems] == ["WARNING chan_iax2.c: Section ' general ' lacks type"]
    assert "slin" in snapshot.peer_details["b"]["Codecs"]  # bandwidth=low was not applied
    found = codes(conf)
    assert ("invalid-section-name", " general ") in found and ("missing-type", " general ") in found
    assert render(parse(conf).document).startswith("[ general ]\n")


# --- (+) and += ---------------------------------------------------------------------------------


def test_an_addition_to_a_template_rejects_the_file(start):
    conf = "[general]\n[t](!)\ntype=peer\nhost=127.0.0.1\n[t](+)\ndescription=added\n[x](t)\n"
    snapshot = start({"iax.conf": conf}).snapshot()
    assert snapshot.config_rejected
    assert (
        "WARNING config.c: Category addition requested, but category 't' does not exist, line 5 of <etc>/iax.conf"
        in [str(x) for x in snapshot.log]
    )
    with pytest.raises(
        NormaliseError, match=r"\[t\]\(\+\) adds to a template; Asterisk rejects the whole file"
    ):
        normalise(parse(conf).document)
    assert ("addition-to-template", "t") in [(f.code, f.section) for f in validate(parse(conf).document)]


@pytest.mark.django_db
def test_lines_added_after_a_section_inherited_are_not_inherited(start, tmp_path, port):
    conf = f"""[general]

[t]
type=peer
host=127.0.0.1
secret={STRONG}

[x](t)

[t](+)
description=added

[y](t)
"""
    original, exported, export = through_the_database(
        write(tmp_path / "orig", {"iax.conf": conf}), tmp_path, start, port
    )
    shown = {n: d["Description"] for n, d in original.peer_details.items()}
    assert shown == {"t": "added", "x": "", "y": "added"}
    assert differences(original, exported) == [] and new_problems(original, exported) == []
    assert "[x]\n" in export.text  # stored with its lines written out, no longer (t)


@pytest.mark.django_db
def test_plus_equals_appends_to_an_inherited_line(start, tmp_path, port):
    conf = f"""[general]

[t](!)
type=peer
host=127.0.0.1
secret={STRONG}
description=base

[x](t)
description+= more
context=c1
context+=x

[u](!)
context=ctx

[v](u)
type=user
secret={STRONG}
context+=2
"""
    original, exported, _ = through_the_database(
        write(tmp_path / "orig", {"iax.conf": conf}), tmp_path, start, port
    )
    assert (original.peer_details["x"]["Description"], original.peer_details["x"]["Context"]) == (
        "base more",
        "c1x",
    )
    assert {u.name: u.context for u in original.users}["v"] == "ctx2"
    assert differences(original, exported) == []


# --- Repeats that combine ----------------------------------------------------------------------


def test_encryption_and_codecpriority_lines_add_up(start):
    conf = f"""[general]
codecpriority=caller

[e]
type=peer
host=127.0.0.1
secret={STRONG}
encryption=yes
encryption=no

[host-general]
type=user
secret={STRONG}
codecpriority=host

[host-reqonly]
type=user
secret={STRONG}
codecpriority=reqonly
codecpriority=host
"""
    a = start({"iax.conf": conf})
    assert peer_field(a, "e", "Encryption") == "(aes128,keyrotate)"
    shown = users(a)
    assert (shown["host-general"].codec_pref, shown["host-reqonly"].codec_pref) == ("Caller", "REQ Only")
    found = codes(conf)
    assert ("repeated-directive", "e") not in found
    assert ("codecpriority-no-effect", "host-general") in found
    assert ("codecpriority-no-effect", "host-reqonly") in found


# --- defaultip on a static peer -------------------------------------------------------------------


def test_defaultip_is_the_fallback_of_a_static_host_and_an_unresolvable_one_drops_the_peer(start):
    conf = f"""[general]

[fallback]
type=peer
host=no-such-host.invalid
defaultip=127.0.0.3
secret={STRONG}

[dropped]
type=peer
host=127.0.0.1
defaultip=no-such-host.invalid
secret={STRONG}
"""
    a = start({"iax.conf": conf})
    assert a.peer_names() == ["fallback"]
    assert peer_field(a, "fallback", "Defaddr->IP") == "127.0.0.3 Port 0"
    messages = [f.message for f in validate(parse(conf).document) if f.code == "defaultip-needs-dynamic"]
    assert len(messages) == 2 and all("drops the whole peer" in m for m in messages)
    assert "is only used while no-such-host.invalid does not resolve" in messages[0]
