from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from peers import services
from peers.demo import seed_demo
from peers.exporter import ExportRefused, build_document, endpoint_section, export_host, write_export
from peers.iaxconf import Entry, RenderError, catalogue, render
from peers.models import Endpoint, Host
from tests.conftest import section, store, store_general, store_registration

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"

# A valid value for every directive chan_iax2 reads (used by the catalogue round trip).
SAMPLES = {
    "accountcode": "acct-42",
    "acl": "office,remote",
    "adsi": "yes",
    "allow": "ulaw,g722",
    "allowfwdownload": "no",
    "amaflags": "billing",
    "auth": "md5",
    "authdebug": "yes",
    "autokill": "3000",
    "bandwidth": "medium",
    "bindaddr": "192.0.2.1:4569",
    "bindport": "4570",
    "callerid": '"Front Desk" <100>',
    "calltokenexpiration": "20",
    "calltokenoptional": "198.51.100.0/24",
    "cid_number": "100",
    "codecpriority": "caller",
    "connectedline": "send",
    "context": "from-trunk",
    "cos": "5",
    "dbsecret": "iax/alice",
    "defaultip": "192.0.2.50",
    "delayreject": "yes",
    "deny": "0.0.0.0/0.0.0.0",
    "description": "Main trunk",
    "disallow": "all",
    "encryption": "aes128",
    "forceencryption": "yes",
    "fullname": "Front Desk",
    "hasvoicemail": "yes",
    "host": "pbx.example.net",
    "iaxcompat": "yes",
    "iaxmaxthreadcount": "50",
    "iaxthreadcount": "20",
    "immediate": "yes",
    "inkeys": "k1:k2",
    "jitterbuffer": "yes",
    "jittertargetextra": "60",
    "lagrqtime": "15",
    "language": "fr",
    "mailbox": "100@default",
    "mask": "255.255.255.0",
    "maxauthreq": "5",
    "maxcallnumbers": "100",
    "maxcallnumbers_nonvalidated": "4096",
    "maxjitterbuffer": "500",
    "maxjitterinterps": "5",
    "maxregexpire": "600",
    "minregexpire": "30",
    "mohinterpret": "default",
    "mohsuggest": "passthrough",
    "nochecksums": "yes",
    "outkey": "k1",
    "parkinglot": "lot1",
    "peercontext": "remote-ctx",
    "permit": "192.0.2.0/24",
    "pingtime": "30",
    "port": "4570",
    "qualify": "1500",
    "qualifyfreqnotok": "5000",
    "qualifyfreqok": "30000",
    "qualifysmoothing": "yes",
    "regcontext": "registered",
    "regexten": "100&101",
    "register": "me:pw123456@iax.example.net:4569",
    "requirecalltoken": "auto",
    "resyncthreshold": "-1",
    "rtautoclear": "300",
    "rtcachefriends": "yes",
    "rtignoreregexpire": "yes",
    "rtsavesysname": "yes",
    "rtupdate": "no",
    "secret": "S3cure-Secret-42",
    "sendani": "yes",
    "setvar": "CDR(tenant)=acme",
    "shrinkcallerid": "no",
    "sourceaddress": "192.0.2.1",
    "srvlookup": "yes",
    "subscribe_network_change_event": "no",
    "timezone": "Europe/Berlin",
    "tos": "AF41",
    "transfer": "mediaonly",
    "trunk": "yes",
    "trunkfreq": "30",
    "trunkmaxsize": "64000",
    "trunkmtu": "1200",
    "trunktimestamps": "yes",
    "type": "peer",
    "username": "pbx1",
}


def _section_text(text: str, name: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(next(line for line in lines if line.startswith(f"[{name}]")))
    end = next((i for i in range(start + 1, len(lines)) if lines[i] == ""), len(lines))
    return lines[start + 1 : end]


def test_every_catalogue_directive_has_a_sample():
    assert {d.name for d in catalogue().accepted()} == set(SAMPLES)


@pytest.mark.parametrize("kind", ["peer", "user"])
def test_every_endpoint_directive_round_trips_through_models_and_exporter(host, make_key, kind):
    make_key("k1")
    make_key("k2")
    names = [d.name for d in catalogue().for_section(kind) if d.name != "type"]
    for position, name in enumerate(names):
        entries = f"{name}={SAMPLES[name]}"
        store(host, section(f"{kind}-{name}", entries), position=position, kind=kind)
    document, _, _ = build_document(host)
    by_name = {s.name: s for s in document.sections}
    for name in names:
        exported = by_name[f"{kind}-{name}"]
        assert [(e.name, e.value) for e in exported.entries] == [("type", kind), (name, SAMPLES[name])], name
    text = export_host(host).text
    for name in names:
        assert f"{name}={SAMPLES[name]}" in _section_text(text, f"{kind}-{name}")


def test_every_general_directive_round_trips_through_models_and_exporter(host):
    names = [d.name for d in catalogue().for_section("general") if d.name != "register"]
    store_general(host, [Entry(name=n, value=SAMPLES[n]) for n in names])
    store_registration(host, SAMPLES["register"])
    document, _, _ = build_document(host)
    exported = {(e.name, e.value) for e in document.general.entries}
    assert {(n, SAMPLES[n]) for n in names} | {("register", SAMPLES["register"])} == exported


def test_demo_export_matches_the_golden_file():
    host = seed_demo()
    export = export_host(host)
    assert export.findings == []
    assert export.text == (GOLDEN / "demo.conf").read_text(encoding="utf-8")


def test_export_is_byte_identical_every_time():
    host = seed_demo()
    assert export_host(host).text == export_host(host).text


def test_header_names_the_host_and_the_checksum_of_the_body():
    host = seed_demo()
    export = export_host(host)
    header, body = export.text.split("\n\n", 1)
    assert "host demo" in header
    assert f"sha256 of the configuration below: {export.checksum}" in header
    import hashlib

    assert hashlib.sha256(body.encode()).hexdigest() == export.checksum


def test_sticky_general_values_are_always_written(host):
    store_general(host, [Entry(name="pingtime", value="30")])
    lines = export_host(host).body.splitlines()
    sticky = [d for d in catalogue().accepted() if d.sticky and d.default not in (None, "")]
    assert "pingtime=30" in lines and "pingtime=21" not in lines
    for directive in sticky:
        if directive.name != "pingtime":
            assert f"{directive.name}={directive.default}" in lines


def test_host_comes_before_port_and_bandwidth_before_codecs(host):
    store_general(host, [Entry("allow", "ulaw"), Entry("srvlookup", "yes"), Entry("bandwidth", "low")])
    store_registration(host, "me:pw12345678@iax.example.net")
    store(host, section("trunk", "type=peer\nport=4570\nhost=192.0.2.1\nsecret=Xy7-plm4qRt9"))
    body = export_host(host).body.splitlines()
    assert body.index("bandwidth=low") < body.index("allow=ulaw")
    assert body.index("srvlookup=yes") < body.index("register => me:pw12345678@iax.example.net")
    assert body.index("host=192.0.2.1") < body.index("port=4570")


def test_disallow_and_allow_keep_their_preference_order(host):
    store(host, section("t", "type=peer\nhost=192.0.2.1\ndisallow=all\nallow=g722\nallow=ulaw\nallow=alaw"))
    lines = _section_text(export_host(host).body, "t")
    assert [line for line in lines if line.split("=")[0] in ("allow", "disallow")] == [
        "disallow=all",
        "allow=g722",
        "allow=ulaw",
        "allow=alaw",
    ]


def test_a_semicolon_in_a_value_is_escaped(host):
    store(host, section("p", "type=peer\nhost=192.0.2.1\ndescription=a;b"))
    assert r"description=a\;b" in export_host(host).body


def test_template_type_is_not_repeated_in_the_inheriting_section(host):
    store(host, section("tpl", "type=friend\nhost=dynamic", template=True), position=0)
    store(host, section("alice", "secret=Ab3-kd9Qw2Lm", bases=["tpl"]), position=1)
    assert Endpoint.objects.get(name="alice").kind == "friend"
    assert _section_text(export_host(host).body, "alice") == ["secret=Ab3-kd9Qw2Lm"]
    assert "[alice](tpl)" in export_host(host).body


def test_key_files_are_exactly_those_the_config_refers_to(host, make_key):
    make_key("signing")
    make_key("verify")
    make_key("unused")
    store(host, section("up", "type=peer\nhost=192.0.2.1\nauth=rsa\noutkey=signing"))
    store(host, section("in", "type=user\nauth=rsa\ninkeys=verify\npermit=192.0.2.0/24"))
    export = export_host(host)
    assert [(k.name, oct(k.mode)) for k in export.key_files] == [
        ("signing.key", "0o600"),
        ("verify.pub", "0o644"),
    ]


def test_export_query_count_does_not_grow_with_endpoints(django_assert_num_queries, make_key):
    make_key("k1")

    def fill(host: Host, count: int) -> None:
        store(host, section("tpl", "type=friend\nhost=dynamic", template=True), position=0)
        for i in range(count):
            store(
                host,
                section(
                    f"p{i}",
                    f"secret=Secret-{i}-xyzzy\ninkeys=k1\nallow=ulaw\npermit=192.0.2.{i}",
                    bases=["tpl"],
                ),
                position=i + 1,
            )
        store_registration(host, "me:pw12345678@iax.example.net")

    small, large = Host.objects.create(name="small"), Host.objects.create(name="large")
    fill(small, 2)
    fill(large, 40)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small_queries:
        export_host(small)
    with django_assert_num_queries(len(small_queries)):
        export_host(large)


def test_write_export_writes_conf_and_keys_with_safe_modes(host, make_key, tmp_path):
    make_key("signing")
    store(host, section("up", "type=peer\nhost=192.0.2.1\nauth=rsa\noutkey=signing"))
    write_export(export_host(host), tmp_path)
    key = tmp_path / "keys" / "signing.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (tmp_path / "iax.conf").read_text().startswith(";iaxadmin:")
    assert sorted(os.listdir(tmp_path)) == ["iax.conf", "keys"]


def test_write_export_replaces_the_key_set_and_leaves_no_temporary_files(host, make_key, tmp_path):
    make_key("a")
    make_key("b")
    store(host, section("up", "type=peer\nhost=192.0.2.1\nauth=rsa\noutkey=a"))
    write_export(export_host(host), tmp_path)
    services.save_endpoint(
        host,
        section("up", "type=peer\nhost=192.0.2.1\nauth=rsa\noutkey=b"),
        endpoint=Endpoint.objects.get(name="up"),
        actor="test",
    )
    write_export(export_host(host), tmp_path)
    assert sorted(os.listdir(tmp_path / "keys")) == ["b.key"]
    assert sorted(os.listdir(tmp_path)) == ["iax.conf", "keys"]


def test_export_with_errors_is_refused_and_writes_nothing(host, tmp_path):
    (tmp_path / "iax.conf").write_text("old\n")
    store(host, section("p", "type=peer\nhost=192.0.2.1\ntos=ef"))
    with pytest.raises(ExportRefused):
        write_export(export_host(host), tmp_path)
    assert (tmp_path / "iax.conf").read_text() == "old\n"
    assert sorted(os.listdir(tmp_path)) == ["iax.conf"]


def test_export_command_refuses_with_the_findings(host, tmp_path):
    store(host, section("p", "type=peer\nhost=192.0.2.1\ntos=ef"))
    with pytest.raises(CommandError, match="1 error finding"):
        call_command("iax_export", host="pbx1", out=str(tmp_path))
    assert not (tmp_path / "iax.conf").exists()


def test_export_command_allow_errors_lists_them_at_the_top(host, tmp_path, capsys):
    store(host, section("p", "type=peer\nhost=192.0.2.1\ntos=ef"))
    call_command("iax_export", host="pbx1", out=str(tmp_path), allow_errors=True)
    text = (tmp_path / "iax.conf").read_text()
    assert ";iaxadmin: ERROR [p] tos: tos is not read in type=peer sections" in text
    assert "tos=ef" in _section_text(text, "p")


def test_validate_command_exits_1_on_errors(host, capsys):
    store(host, section("p", "type=peer\nhost=192.0.2.1\ntos=ef"))
    with pytest.raises(SystemExit) as exit_info:
        call_command("iax_validate", host="pbx1")
    assert exit_info.value.code == 1
    assert "error: [p] tos" in capsys.readouterr().out


def test_validate_command_passes_a_clean_host(capsys):
    seed_demo()
    call_command("iax_validate", host="demo")
    assert "demo: 0 error(s), 0 warning(s)" in capsys.readouterr().out


def test_unknown_host_is_a_clear_error(db):
    with pytest.raises(CommandError, match="no host named 'nope'"):
        call_command("iax_validate", host="nope")


def test_render_refuses_a_value_that_would_break_its_line(host):
    store(host, section("p", "type=peer\nhost=192.0.2.1"))
    endpoint = Endpoint.objects.get(name="p")
    endpoint.username = "evil\n[general]"
    endpoint.save()
    export = export_host(host)
    assert any(f.code == "invalid-value" and f.directive == "username" for f in export.errors)
    assert any(f.code == "unrenderable" for f in export.errors)
    assert export.body == ""
    with pytest.raises(RenderError):
        render(export.document)


def test_endpoint_section_is_the_section_the_export_writes(host, make_key):
    make_key("k1")
    store(host, section("tpl", "type=friend\nhost=dynamic", template=True), position=0)
    alice = store(
        host,
        section("alice", "secret=Ab3-kd9Qw2Lm\ninkeys=k1\nallow=ulaw\nallow=g722", bases=["tpl"]),
        position=1,
    )
    got = endpoint_section(alice)
    assert (got.name, got.bases, got.is_template) == ("alice", ["tpl"], False)
    assert [(e.name, e.value) for e in got.entries] == [
        ("secret", "Ab3-kd9Qw2Lm"),
        ("inkeys", "k1"),
        ("allow", "ulaw"),
        ("allow", "g722"),
    ]


def test_a_comment_stays_on_its_own_line_when_other_endpoints_share_the_value(host):
    """Endpoints share one object per comment-less name=value line; a line with a comment never is."""
    shared = "type=peer\nhost=192.0.2.1\ncontext=from-office\ndisallow=all\nallow=ulaw"
    store(host, section("a", shared), position=0)
    commented = section("b", shared)
    for entry in commented.entries:
        if entry.name in ("context", "allow"):
            entry.comments = [f" {entry.name} of b"]
    store(host, commented, position=1)
    store(host, section("c", shared), position=2)
    body = export_host(host).body
    expected = ["type=peer", "host=192.0.2.1", "context=from-office", "disallow=all", "allow=ulaw"]
    assert _section_text(body, "a") == expected
    assert _section_text(body, "c") == expected
    assert _section_text(body, "b") == [
        "type=peer",
        "host=192.0.2.1",
        "; context of b",
        "context=from-office",
        "disallow=all",
        "; allow of b",
        "allow=ulaw",
    ]
