"""The trunk wizard's promise, judged by real Asterisk 22: the two configurations it writes for a
trunk between two hosts managed here, exported as they would be deployed and loaded into two
Asterisk instances, register to each other, and calls over the trunk are accepted as
authenticated in both directions.

The instances share one loopback-only sandbox, so each host's far-end address is 127.0.0.1 and
the other instance's port (what the wizard is given). Skipped, saying why, without Asterisk or a
private network namespace (tests/asterisk/conftest.py)."""

from __future__ import annotations

import pytest

from peers import services
from peers.exporter import export_host, write_export
from peers.iaxconf import trunks as t

pytestmark = pytest.mark.django_db

DIALPLAN = """[general]
static=yes
writeprotect=yes

[default]
exten => s,1,Hangup()

[from-pbx-a]
exten => 100,1,Answer()
 same => n,Wait(1)
 same => n,Hangup()

[from-pbx-b]
exten => 200,1,Answer()
 same => n,Wait(1)
 same => n,Hangup()
"""


def _deploy(host, tmp_path):
    """The host's export written as the agent would (iax.conf, keys/ with their modes), plus a
    dialplan for the contexts the trunk sends calls to."""
    out = tmp_path / host.name
    export = export_host(host)
    assert export.errors == []
    write_export(export, out)
    (out / "extensions.conf").write_text(DIALPLAN)
    return out


def _logged(instance, text: str) -> bool:
    instance.sync_log()
    return any(text in line.message for line in instance.log(levels=None))


def _registered(instance, server_port: int) -> bool:
    """The instance's registration with 127.0.0.1:server_port was acknowledged. Asterisk logs it
    when the REGACK arrives; ``iax2 show registry`` usually says "Registered" too, but chan_iax2
    sets "Request Sent" *after* sending the request (iax2_do_register, chan_iax2.c 12437-12438), so
    on a busy machine an exchange that completed first can show "Request Sent" until the next
    refresh (50 s later). The log line is the fact."""
    (row,) = instance.registry()
    return row.state == "Registered" or _logged(instance, f"Registered IAX2 to '127.0.0.1:{server_port}'")


@pytest.fixture
def two_hosts():
    return services.create_host("pbx-a", actor="test"), services.create_host("pbx-b", actor="test")


def test_a_secret_trunk_where_both_hosts_register_connects_two_real_asterisks(
    two_hosts, start, ports, tmp_path
):
    port_a, port_b = next(ports), next(ports)
    host_a, host_b = two_hosts
    a = t.End("pbx-a", address="127.0.0.1", port=port_a, registers=True, label="pbx-a", context="from-pbx-b")
    b = t.End("pbx-b", address="127.0.0.1", port=port_b, registers=True, label="pbx-b", context="from-pbx-a")
    services.create_trunk_pair(host_a, host_b, a, b, options=t.Options(encryption=True), actor="test")

    ast_a = start(_deploy(host_a, tmp_path), port=port_a)
    ast_b = start(_deploy(host_b, tmp_path), port=port_b)
    assert ast_a.wait_until(lambda: _registered(ast_a, port_b), timeout=20)
    assert ast_b.wait_until(lambda: _registered(ast_b, port_a), timeout=20)
    assert [(r.username, r.host) for r in ast_a.registry()] == [("pbx-a", f"127.0.0.1:{port_b}")]
    assert [(r.username, r.host) for r in ast_b.registry()] == [("pbx-b", f"127.0.0.1:{port_a}")]
    assert _logged(ast_b, f"Registered IAX2 'pbx-a' (AUTHENTICATED) at 127.0.0.1:{port_a}")
    assert _logged(ast_a, f"Registered IAX2 'pbx-b' (AUTHENTICATED) at 127.0.0.1:{port_b}")
    # each end's dynamic friend learnt the other's address from its registration
    assert ast_b.peer("pbx-a")["Addr->IP"] == f"127.0.0.1 Port {port_a}"
    assert ast_a.peer("pbx-b")["Addr->IP"] == f"127.0.0.1 Port {port_b}"
    assert ast_a.peer("pbx-b")["Trunk"] == "Yes"
    assert ast_a.warnings() == [] and ast_b.warnings() == []

    # a call each way is accepted as authenticated, encrypted, into the wizard's context
    ast_a.cli("channel originate IAX2/pbx-b/100 application Wait 1")
    assert ast_b.wait_until(lambda: _logged(ast_b, "Executing [100@from-pbx-a:1] Answer"), timeout=20)
    ast_b.cli("channel originate IAX2/pbx-a/200 application Wait 1")
    assert ast_a.wait_until(lambda: _logged(ast_a, "Executing [200@from-pbx-b:1] Answer"), timeout=20)
    for instance, caller_port in ((ast_b, port_a), (ast_a, port_b)):
        (accepted,) = [
            line.message
            for line in instance.log(levels=None)
            if line.message.startswith("Accepting AUTHENTICATED")
        ]
        assert accepted.startswith(f"Accepting AUTHENTICATED call from 127.0.0.1:{caller_port}:")
        assert "actual auth method = MD5" in accepted and "encrypted = yes" in accepted


def test_an_rsa_trunk_with_passphrase_protected_keys_registers_and_calls(two_hosts, start, ports, tmp_path):
    port_a, port_b = next(ports), next(ports)
    host_a, host_b = two_hosts
    a = t.End("pbx-a", address="127.0.0.1", port=port_a, registers=True, label="pbx-a", context="from-pbx-b")
    b = t.End("pbx-b", address="127.0.0.1", port=port_b, registers=False, label="pbx-b", context="from-pbx-a")
    keys = services.NewKeys(("pbx-a-trunk", "pbx-b-trunk"), "correct horse battery")
    services.create_trunk_pair(host_a, host_b, a, b, keys=keys, actor="test")

    dir_a, dir_b = _deploy(host_a, tmp_path), _deploy(host_b, tmp_path)
    assert sorted(p.name for p in (dir_a / "keys").iterdir()) == ["pbx-a-trunk.key", "pbx-b-trunk.pub"]
    assert sorted(p.name for p in (dir_b / "keys").iterdir()) == ["pbx-a-trunk.pub", "pbx-b-trunk.key"]
    ast_a = start(dir_a, port=port_a, passcodes="correct horse battery")
    ast_b = start(dir_b, port=port_b, passcodes="correct horse battery")
    assert {k.name: k.status for k in ast_a.keys()} == {"pbx-a-trunk": "[Loaded]", "pbx-b-trunk": "[Loaded]"}
    assert ast_a.wait_until(lambda: _registered(ast_a, port_b), timeout=20)
    assert _logged(ast_b, "Registered IAX2 'pbx-a' (AUTHENTICATED) at 127.0.0.1:" + str(port_a))
    assert _logged(ast_b, f"Registered IAX2 'pbx-a' (AUTHENTICATED) at 127.0.0.1:{port_a}")
    assert ast_b.registry() == []  # only pbx-a registers; pbx-b is called at its address
    assert ast_b.peer("pbx-a")["Addr->IP"] == f"127.0.0.1 Port {port_a}"

    ast_a.cli("channel originate IAX2/pbx-b/100 application Wait 1")
    assert ast_b.wait_until(lambda: _logged(ast_b, "Executing [100@from-pbx-a:1] Answer"), timeout=20)
    ast_b.cli("channel originate IAX2/pbx-a/200 application Wait 1")
    assert ast_a.wait_until(lambda: _logged(ast_a, "Executing [200@from-pbx-b:1] Answer"), timeout=20)
    for instance in (ast_a, ast_b):
        (accepted,) = [
            line.message
            for line in instance.log(levels=None)
            if line.message.startswith("Accepting AUTHENTICATED")
        ]
        assert "actual auth method = RSA" in accepted
    assert ast_a.warnings() == [] and ast_b.warnings() == []
