"""What iaxadmin writes itself loads into real Asterisk 22.10.1 without a single WARNING or ERROR:
the demo host, the golden file, and trunk/RSA examples built through the service layer, each
with its key files (private keys 0600, the passphrase typed at ``keys init``). The only lines
set aside are host names the sandbox cannot resolve (it has no DNS)."""

from __future__ import annotations

import dataclasses

import pytest

from peers import keys as rsa_keys
from peers import services
from peers.asterisk.compare import is_resolution_failure
from peers.demo import seed_demo
from peers.exporter import export_host, write_export
from peers.iaxconf import Entry, Section
from peers.models import Host, Key
from tests.services.test_exporter import GOLDEN

pytestmark = pytest.mark.django_db


def _problems(instance) -> list[str]:
    return [str(line) for line in instance.warnings() if not is_resolution_failure(line)]


def _section(name: str, lines: str, **options) -> Section:
    entries = [Entry(*(part.strip() for part in line.split("=", 1))) for line in lines.strip().splitlines()]
    return Section(name=name, entries=entries, **options)


def _key(name: str, passphrase: str | None, *, private: bool = True) -> Key:
    material = rsa_keys.generate(passphrase)
    if not private:
        material = dataclasses.replace(material, private_pem="", private_encrypted=False)
    return services.store_key(name, material, actor="test")


def _load(host: Host, tmp_path, start, passcodes=None, **options):
    export = export_host(host)
    assert export.errors == []
    folder = tmp_path / host.name
    write_export(export, folder)
    return export, start(folder, passcodes=passcodes, **options)


def test_demo_host_loads_without_warnings(tmp_path, start):
    host = seed_demo(passphrase="demo-passphrase")
    export, instance = _load(host, tmp_path, start, passcodes="demo-passphrase")
    assert (tmp_path / "demo" / "keys" / "demo-pbx.key").stat().st_mode & 0o777 == 0o600
    assert _problems(instance) == []
    assert {(k.name, k.type, k.status) for k in instance.keys()} == {
        ("demo-pbx", "PRIVATE", "[Loaded]"),
        ("hq", "PUBLIC", "[Loaded]"),
    }
    assert instance.peer_names() == ["alice", "bob", "branch", "provider"]
    assert {u.name for u in instance.users()} == {"alice", "bob", "hq-rsa"}
    assert len(instance.registry()) == 2


def test_golden_file_loads_without_warnings(start, tmp_path):
    text = (GOLDEN / "demo.conf").read_text()
    instance = start({"iax.conf": text})
    # The golden file comes without its key files: res_crypto has no keys, chan_iax2 does not warn.
    assert _problems(instance) == []
    assert instance.peer_names() == ["alice", "bob", "branch", "provider"]


def test_trunk_and_rsa_examples_register_and_load_without_warnings(tmp_path, start, ports):
    """Two hosts built through the services: HQ with a dynamic trunk peer the branch registers to
    with an RSA key (its private key has a passphrase), and an md5 + encryption trunk back."""
    hq_port, branch_port = next(ports), next(ports)
    _key("branch-sign", "branch key passphrase")
    _key("hq-sign", None)
    hq = services.create_host("hq", actor="test")
    services.save_general(
        hq,
        Section("general", [Entry("bindport", str(hq_port)), Entry("bindaddr", "127.0.0.1")]),
        actor="test",
    )
    services.save_endpoint(
        hq,
        _section(
            "branch",
            """
        type=friend
        host=dynamic
        auth=rsa,md5
        inkeys=branch-sign
        secret=Tr-7hQ2-xmPq9Lw
        encryption=yes
        trunk=yes
        context=from-branch
        deny=0.0.0.0/0.0.0.0
        permit=127.0.0.1/32
    """,
        ),
        actor="test",
    )
    branch = services.create_host("branch", actor="test")
    services.save_general(
        branch,
        Section("general", [Entry("bindport", str(branch_port)), Entry("bindaddr", "127.0.0.1")]),
        actor="test",
    )
    services.save_registration(
        branch,
        username="branch",
        key="branch-sign",
        remote_host="127.0.0.1",
        remote_port=hq_port,
        actor="test",
    )
    services.save_endpoint(
        branch,
        _section(
            "hq",
            f"""
        type=peer
        host=127.0.0.1
        port={hq_port}
        username=branch
        auth=md5
        secret=Tr-7hQ2-xmPq9Lw
        encryption=yes
        trunk=yes
        qualify=yes
    """,
        ),
        actor="test",
    )
    _, hq_instance = _load(hq, tmp_path, start, bind="keep")
    _, branch_instance = _load(branch, tmp_path, start, passcodes="branch key passphrase", bind="keep")
    assert hq_instance.udp_sockets() == [f"127.0.0.1:{hq_port}"]
    assert _problems(hq_instance) == [] and _problems(branch_instance) == []
    assert [(k.name, k.status) for k in branch_instance.keys()] == [("branch-sign", "[Loaded]")]
    registered = branch_instance.wait_until(
        lambda: branch_instance.registry()[0].state == "Registered", timeout=30
    )
    assert registered, branch_instance.registry()
    assert hq_instance.peer("branch")["Addr->IP"] == f"127.0.0.1 Port {branch_port}"
    assert hq_instance.peer("branch")["Encryption"] == "(aes128,keyrotate)"
    assert branch_instance.wait_until(lambda: branch_instance.peers()[0].status.startswith("OK"), timeout=30)
