"""The Asterisk runner (``peers.asterisk``) against the real Asterisk 22.10.1: the sandbox is a
private network namespace with only ``lo``, several instances run in it and reach each other,
keys load with their modes and passcodes, the log is read without timestamps, and the parsers
read what Asterisk prints."""

from __future__ import annotations

import os
import subprocess

import pytest

from peers import keys as rsa_keys
from peers.asterisk import LogLine, Sandbox, SandboxError
from peers.asterisk.sandbox import override_bind, parse_log

RICH_CONF = """[general]
bindport=4569 ; the sandbox moves this
register => alice:pw@127.0.0.1:4570

[alice]
type=friend
host=dynamic
secret=abc
context=default
description=Alice's phone

[bob-with-a-long-name]
type=peer
username=bobuser
host=127.0.0.1
trunk=yes
encryption=yes
secret=x
callerid="Bob B" <200>

[carol]
type=user
inkeys=k1
context=c1
permit=10.0.0.0/8
codecpriority=caller
"""


# --- pure parts ------------------------------------------------------------------------------


def test_override_bind_comments_bind_lines_in_place_and_appends_loopback():
    texts = {
        "iax.conf": "[general]\nbindport = 4569\nBINDADDR=0.0.0.0\n#include extra.conf\n[p]\nbindport=1\n",
        "extra.conf": "bindaddr=192.0.2.1\n",
    }
    changed, overridden = override_bind(texts, 4600)
    lines = changed["iax.conf"].split("\n")
    assert lines[1] == ";iaxadmin-sandbox: bindport = 4569"
    assert lines[2] == ";iaxadmin-sandbox: BINDADDR=0.0.0.0"
    assert lines[5] == ";iaxadmin-sandbox: bindport=1"
    assert changed["iax.conf"].endswith("[general](+)\nbindport=4600\nbindaddr=127.0.0.1\n")
    assert changed["extra.conf"] == ";iaxadmin-sandbox: bindaddr=192.0.2.1\n"
    assert overridden == [
        "iax.conf:2: bindport = 4569",
        "iax.conf:3: BINDADDR=0.0.0.0",
        "iax.conf:6: bindport=1",
        "extra.conf:1: bindaddr=192.0.2.1",
    ]


def test_override_bind_without_general_starts_one():
    changed, _ = override_bind({"iax.conf": "[p]\ntype=peer"}, 4601)
    assert changed["iax.conf"] == (
        "[p]\ntype=peer\n\n;iaxadmin-sandbox: bound to loopback\n[general]\nbindport=4601\nbindaddr=127.0.0.1\n"
    )


def test_override_bind_refuses_a_bind_line_that_opens_a_block_comment():
    with pytest.raises(SandboxError, match="iax.conf line 2"):
        override_bind({"iax.conf": "[general]\nbindport=1 ;-- block\n--;\n"}, 4602)


def test_log_lines_lose_timestamps_and_thread_ids():
    text = (
        "[2026-11-30 05:28:03] Asterisk 22.10.1 built by root\n"
        "[2026-11-30 05:28:03] NOTICE[6985] loader.c: 27 modules will be loaded.\n"
        "[2026-11-30 05:28:03] WARNING[7001][C-00000001] chan_iax2.c: Bad thing\n"
        "second line of it\n"
    )
    assert parse_log(text) == [
        LogLine("NOTICE", "loader.c", "27 modules will be loaded."),
        LogLine("WARNING", "chan_iax2.c", "Bad thing\nsecond line of it"),
    ]
    assert str(parse_log(text)[1]).startswith("WARNING chan_iax2.c: Bad thing")


def test_refuses_a_namespace_with_more_than_loopback(asterisk_bin, monkeypatch):
    real_run = Sandbox.run

    def fake_run(self, command, **kwargs):
        done = real_run(self, command, **kwargs)
        if command[:2] == ["ip", "-o"] and command[2] == "link":
            done = subprocess.CompletedProcess(
                done.args, 0, done.stdout + "2: eth0@if7: <BROADCAST,UP> mtu 1500\n", ""
            )
        return done

    monkeypatch.setattr(Sandbox, "run", fake_run)
    box = Sandbox(asterisk_bin)
    with pytest.raises(SandboxError, match=r"interfaces \['lo', 'eth0'\], not only lo; refusing"):
        box.open()
    assert box.holder is None and not box.root.exists()


def test_refuses_when_no_namespace_can_be_made(asterisk_bin, monkeypatch, tmp_path):
    fake = tmp_path / "unshare"
    fake.write_text("#!/bin/sh\necho 'unshare: unshare failed: Operation not permitted' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    with pytest.raises(
        SandboxError, match="refusing to run Asterisk in the host network.*Operation not permitted"
    ):
        Sandbox(asterisk_bin).open()


# --- real Asterisk ---------------------------------------------------------------------------


def test_the_sandbox_has_only_loopback_and_is_not_our_namespace(sandbox):
    assert sandbox.interfaces == ["lo"]
    assert sandbox.verify() == ["lo"]
    assert sandbox.netns != os.readlink("/proc/self/ns/net")
    assert "127.0.0.1" in sandbox.run(["ip", "-o", "addr", "show"]).stdout
    # nothing outside is reachable: there is no route at all
    assert sandbox.run(["ip", "route", "get", "192.0.2.1"]).returncode != 0


def test_start_parses_every_show_command(start):
    plain = rsa_keys.generate(None)
    a = start({"iax.conf": RICH_CONF, "keys/k1.pub": plain.public_pem})
    assert a.overridden == ["iax.conf:2: bindport=4569 ; the sandbox moves this"]
    assert a.udp_sockets() == [f"127.0.0.1:{a.port}"]
    assert os.readlink(f"/proc/{a.pid}/ns/net") == a.sandbox.netns
    peers = {p.name: p for p in a.peers()}
    assert set(peers) == {"alice", "bob-with-a-long"}  # the table cuts names at 15 bytes
    assert peers["alice"].dynamic and peers["alice"].description == "Alice's phone"
    assert peers["bob-with-a-long"].trunk and peers["bob-with-a-long"].encryption
    assert a.peer_names() == ["alice", "bob-with-a-long-name"]
    bob = a.peer("bob-with-a-long-name")
    assert (bob["Username"], bob["Callerid"], bob["Encryption"]) == (
        "bobuser",
        '"Bob B" <200>',
        "(aes128,keyrotate)",
    )
    assert a.peer("nobody") is None
    users = {u.name: u for u in a.users()}
    assert (users["alice"].secret, users["alice"].auth, users["alice"].context) == ("abc", ["md5"], "default")
    assert (users["carol"].inkeys, users["carol"].auth, users["carol"].acl, users["carol"].codec_pref) == (
        "k1",
        ["rsa"],
        True,
        "Caller",
    )
    (registration,) = a.registry()
    assert (registration.host, registration.username, registration.refresh) == ("127.0.0.1:4570", "alice", 60)
    assert [(k.name, k.type, k.status) for k in a.keys()] == [("k1", "PUBLIC", "[Loaded]")]
    snapshot = a.snapshot()
    assert set(snapshot.peer_details) == {"alice", "bob-with-a-long-name"}
    assert snapshot.iax_running and not snapshot.config_rejected
    assert snapshot.problems == []


def test_two_instances_in_one_sandbox_register_to_each_other(start, ports):
    server_port, client_port = next(ports), next(ports)
    server = start(
        {
            "iax.conf": "[general]\n\n[branch]\ntype=friend\nhost=dynamic\nsecret=Br4nch-S3cret\ncontext=default\n"
        },
        port=server_port,
    )
    client = start(
        {"iax.conf": f"[general]\nregister => branch:Br4nch-S3cret@127.0.0.1:{server_port}\n"},
        port=client_port,
    )
    # the perceived address comes with the server's REGACK (the State column can lag on a loaded
    # CPU: see test_disagreements.registered)
    row = client.wait_until(
        lambda: client.registry()[0].perceived != "<Unregistered>" and client.registry()[0], timeout=30
    )
    assert row and row.perceived == f"127.0.0.1:{client_port}"
    assert server.peer("branch")["Addr->IP"] == f"127.0.0.1 Port {client_port}"


def test_log_warnings_and_baseline(start):
    a = start({"iax.conf": "[general]\nbandwidth=huge\n[x]\nhost=dynamic\n"})
    assert [str(line) for line in a.warnings()] == [
        "WARNING chan_iax2.c: bandwidth must be either low, medium, or high",
        "WARNING chan_iax2.c: Section 'x' lacks type",
    ]
    assert not any("modules will be loaded" in line.message for line in a.log())
    assert any("modules will be loaded" in line.message for line in a.log(baseline=True))
    assert any(line.level == "VERBOSE" for line in a.log(levels=None))


def test_private_key_readable_by_others_is_refused(start, tmp_path):
    material = rsa_keys.generate(None)
    config = tmp_path / "conf"
    (config / "keys").mkdir(parents=True)
    (config / "iax.conf").write_text("[general]\n")
    (config / "keys" / "open.key").write_text(material.private_pem)
    (config / "keys" / "open.key").chmod(0o644)
    (config / "keys" / "closed.key").write_text(material.private_pem)
    (config / "keys" / "closed.key").chmod(0o600)
    a = start(config)
    assert [(k.name, k.status) for k in a.keys()] == [("closed", "[Loaded]")]
    assert [str(line) for line in a.warnings()] == [
        "ERROR res_crypto.c: Private key file has bad permissions: <keys>/open.key: 0644"
    ]


def test_passphrase_protected_key_is_loaded_by_typing_its_passcode(start):
    one, two = rsa_keys.generate("first passphrase"), rsa_keys.generate("second")
    files = {"iax.conf": "[general]\n", "keys/one.key": one.private_pem, "keys/two.key": two.private_pem}
    waiting = start(files)
    assert {k.name: k.status for k in waiting.keys()} == {
        "one": "[Needs Passcode]",
        "two": "[Needs Passcode]",
    }
    assert sorted(waiting.keys_init({"one": "first passphrase", "two": "wrong"})) == ["one", "two"]
    waiting.sync_log()
    assert {k.name: k.status for k in waiting.keys()} == {"one": "[Loaded]", "two": "[Needs Passcode]"}
    assert "WARNING res_crypto.c: Key load PRIVATE 'two' failed" in [str(x) for x in waiting.warnings()]
    typed = start(files, passcodes={"one": "first passphrase", "two": "second"})
    assert {k.name: k.status for k in typed.keys()} == {"one": "[Loaded]", "two": "[Loaded]"}
    assert typed.warnings() == []


def test_includes_from_a_directory_and_bind_keep(start, tmp_path, ports):
    config = tmp_path / "conf"
    (config / "sub").mkdir(parents=True)
    own_port = next(ports)
    (config / "iax.conf").write_text(
        f"[general]\nbindport={own_port}\nbindaddr=127.0.0.1\n#include sub/peers.conf\n"
    )
    (config / "sub" / "peers.conf").write_text("[inc]\ntype=peer\nhost=127.0.0.1\n")
    a = start(config, bind="keep")
    assert a.overridden == [] and a.udp_sockets() == [f"127.0.0.1:{own_port}"]
    assert a.peer_names() == ["inc"]


def test_a_user_namespace_sandbox_works_too(asterisk_bin, tmp_path):
    with Sandbox(asterisk_bin, user_namespace=True) as box:
        assert box.mode == "user" and box.interfaces == ["lo"]
        a = box.start({"iax.conf": "[general]\n[x]\ntype=peer\nhost=127.0.0.1\n"}, port=4569)
        assert a.peer_names() == ["x"] and a.udp_sockets() == ["127.0.0.1:4569"]
        pid = a.pid
    assert not os.path.exists(f"/proc/{pid}")


def test_closing_the_sandbox_stops_everything_and_removes_its_files(asterisk_bin):
    box = Sandbox(asterisk_bin)
    with box:
        instances = [box.start({"iax.conf": "[general]\n"}) for _ in range(2)]
        assert [i.port for i in instances] == [4569, 4570]
        pids = [i.pid for i in instances] + [box.pid]
        root = box.root
    assert not any(os.path.exists(f"/proc/{pid}") for pid in pids)
    assert not root.exists()


def test_an_instance_left_running_dies_with_the_holder(asterisk_bin):
    box = Sandbox(asterisk_bin)
    box.open()
    instance = box.start({"iax.conf": "[general]\n"})
    pid = instance.pid
    box.instances.clear()  # as if the owner forgot it: the holder still kills it
    box.close()
    assert instance.process.wait(timeout=10) is not None
    assert not os.path.exists(f"/proc/{pid}")
