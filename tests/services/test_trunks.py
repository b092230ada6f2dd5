"""The trunk wizard's writes (peers.services.trunks): one transaction, the section policy on every
section, history rows for everything under one batch, nothing written when anything is refused;
and the links derived between register lines and peers (peers.trunks)."""

from __future__ import annotations

import pytest

from peers import services, trunks
from peers.exporter import export_host
from peers.iaxconf import Document, render
from peers.iaxconf import trunks as t
from peers.iaxconf.mask import MASK
from peers.models import Change, Endpoint, Key, Registration
from tests.conftest import section

pytestmark = pytest.mark.django_db


@pytest.fixture
def hosts():
    return (
        services.create_host("pbx-a", actor="test"),
        services.create_host("pbx-b", actor="test"),
    )


def _ends(b_registers=True):
    a = t.End("pbx-a", address="192.0.2.10", registers=True, label="pbx-a", context="from-pbx-b")
    b = t.End(
        "pbx-b", address="192.0.2.20", port=4570, registers=b_registers, label="pbx-b", context="from-pbx-a"
    )
    return a, b


def test_a_pair_with_a_generated_secret_writes_both_hosts_in_one_recorded_batch(hosts):
    host_a, host_b = hosts
    result = services.create_trunk_pair(host_a, host_b, *_ends(), actor="cli:alice")
    friend_a = Endpoint.objects.get(host=host_a, name="pbx-b")
    friend_b = Endpoint.objects.get(host=host_b, name="pbx-a")
    reg_a = Registration.objects.get(host=host_a)
    reg_b = Registration.objects.get(host=host_b)
    secret = friend_a.secret
    assert len(secret) == 32 and result.secret_generated
    assert friend_b.secret == reg_a.secret == reg_b.secret == secret
    assert (reg_a.username, reg_a.remote_host, reg_a.remote_port) == ("pbx-a", "192.0.2.20", 4570)
    assert (reg_b.username, reg_b.remote_host, reg_b.remote_port) == ("pbx-b", "192.0.2.10", None)
    assert [e.pk for e in result.endpoints["pbx-a"]] == [friend_a.pk]
    assert result.registrations == {"pbx-a": reg_a, "pbx-b": reg_b}
    # the stored configuration is exactly what the domain says each end writes
    side_a, side_b = t.pair(*_ends(), secret=secret)
    for host, plan in ((host_a, side_a), (host_b, side_b)):
        export = export_host(host)
        assert export.errors == []
        (stored,) = [s for s in export.document.sections if s.is_endpoint]
        (planned,) = plan.sections
        assert render(Document([stored])) == render(Document([planned]))
        assert export.document.general.values("register") == [plan.register.value()]
    changes = Change.objects.filter(batch=result.batch).order_by("id")
    assert [(c.action, c.object_type, c.object_repr, c.host_name) for c in changes] == [
        ("create", "endpoint", "[pbx-b]", "pbx-a"),
        ("create", "registration", "register => pbx-a@192.0.2.20", "pbx-a"),
        ("create", "endpoint", "[pbx-a]", "pbx-b"),
        ("create", "registration", "register => pbx-b@192.0.2.10", "pbx-b"),
    ]
    assert {c.actor_name for c in changes} == {"cli:alice"}
    assert all(c.after["secret"] == MASK for c in changes)
    assert secret not in str([c.after for c in changes])


def test_a_pair_with_new_rsa_keys_stores_both_keys_and_each_host_gets_its_key_files(hosts):
    host_a, host_b = hosts
    keys = services.NewKeys(("trunk-a", "trunk-b"), "a long passphrase")
    result = services.create_trunk_pair(host_a, host_b, *_ends(b_registers=False), keys=keys, actor="test")
    key_a, key_b = Key.objects.get(name="trunk-a"), Key.objects.get(name="trunk-b")
    assert key_a.private_encrypted and key_b.private_encrypted and key_a.bits == 1024
    assert [k.pk for k in result.keys] == [key_a.pk, key_b.pk] and not result.secret_generated
    export_a, export_b = export_host(host_a), export_host(host_b)
    assert [(k.name, oct(k.mode)) for k in export_a.key_files] == [
        ("trunk-a.key", "0o600"),
        ("trunk-b.pub", "0o644"),
    ]
    assert [(k.name, oct(k.mode)) for k in export_b.key_files] == [
        ("trunk-a.pub", "0o644"),
        ("trunk-b.key", "0o600"),
    ]
    assert export_a.document.general.values("register") == ["pbx-a:[trunk-a]@192.0.2.20:4570"]
    assert Registration.objects.filter(host=host_b).count() == 0
    assert export_a.errors == export_b.errors == []
    key_changes = Change.objects.filter(batch=result.batch, object_type="key")
    assert sorted(c.object_repr for c in key_changes) == ["trunk-a", "trunk-b"]
    assert all(c.after["private_pem"] == MASK for c in key_changes)


def test_nothing_is_written_when_the_other_host_refuses_a_section(hosts):
    host_a, host_b = hosts
    services.save_endpoint(host_b, section("pbx-a", "type=peer\nhost=192.0.2.1"), actor="test")
    before = Change.objects.count()
    with pytest.raises(services.TrunkRefused) as caught:
        services.create_trunk_pair(
            host_a, host_b, *_ends(), keys=services.NewKeys(("ka", "kb"), None), actor="test"
        )
    assert caught.value.host == "pbx-b"
    assert [f.code for f in caught.value.findings] == ["duplicate-section"]
    assert str(caught.value).startswith("on pbx-b: [pbx-a] already exists on this host")
    assert not Endpoint.objects.filter(host=host_a).exists()
    assert not Registration.objects.exists() and not Key.objects.exists()
    assert Change.objects.count() == before


def test_the_section_policy_refuses_a_one_sided_trunk_signing_with_a_key_without_its_private_part(
    hosts, make_key
):
    make_key("ours", private=False)
    make_key("theirs", private=False)
    local = t.End("acme-1234", section="acme", context="from-acme", registers=True)
    far = t.End("acme-in", address="iax.example.net")
    with pytest.raises(services.TrunkRefused) as caught:
        services.create_trunk(
            hosts[0], local, far, t.Credentials(outkey="ours", inkey="theirs"), actor="test"
        )
    assert [f.code for f in caught.value.findings] == ["missing-private-key"]
    assert not Endpoint.objects.exists()


def test_a_problem_with_the_wizards_input_names_its_field(hosts):
    a, b = _ends()
    with pytest.raises(services.TrunkRefused) as caught:
        services.create_trunk(
            hosts[0], a, t.End("pbx-b"), t.Credentials(secret="S3cret-long-enough"), actor="x"
        )
    assert caught.value.field == "far_address"
    assert caught.value.findings[0].code == "invalid-trunk"
    with pytest.raises(services.TrunkRefused) as caught:
        services.create_trunk_pair(hosts[0], hosts[0], a, b, actor="x")
    assert caught.value.field == "far_host"


def test_a_one_sided_trunk_without_a_secret_gets_a_generated_one(hosts):
    local = t.End("acme-1234", section="acme", context="from-acme", registers=True)
    far = t.End("acme-1234-in", address="iax.example.net")
    result = services.create_trunk(hosts[0], local, far, t.Credentials(secret=""), actor="test")
    peer, user = result.endpoints["pbx-a"]
    assert (peer.name, peer.kind, user.name, user.kind) == ("acme", "peer", "acme-1234-in", "user")
    assert result.secret_generated and len(peer.secret) == 32 and user.secret == peer.secret
    assert result.registrations["pbx-a"].secret == peer.secret


# --- links -----------------------------------------------------------------------------------


def test_links_between_register_lines_and_peers_are_derived_from_the_configuration(hosts):
    host_a, host_b = hosts
    services.create_trunk_pair(host_a, host_b, *_ends(b_registers=False), actor="test")
    reg_a = Registration.objects.get(host=host_a)
    friend_a = Endpoint.objects.get(host=host_a, name="pbx-b")
    friend_b = Endpoint.objects.get(host=host_b, name="pbx-a")
    links = trunks.registration_links(host_a)
    assert [(p.name, p.pk) for p in links[reg_a.pk].local] == [("pbx-b", friend_a.pk)]
    assert [(p.host, p.name, p.pk) for p in links[reg_a.pk].far] == [("pbx-b", "pbx-a", friend_b.pk)]
    peer_links = trunks.endpoint_links(friend_b)
    assert [(r.host, r.pk) for r in peer_links.registered_by] == [("pbx-a", reg_a.pk)]
    assert peer_links.registrations == []
    assert [r.pk for r in trunks.endpoint_links(friend_a).registrations] == [reg_a.pk]
    # change the secret on one side: the link is gone, not stale
    services.save_registration(
        host_a,
        registration=reg_a,
        username="pbx-a",
        secret="Another-secret-99",
        remote_host="192.0.2.20",
        remote_port=4570,
        actor="test",
    )
    links = trunks.registration_links(host_a)
    assert links[reg_a.pk].local == [] and links[reg_a.pk].far == []
    assert trunks.endpoint_links(friend_b).registered_by == []


def test_a_peer_that_inherits_the_server_and_account_from_a_template_is_linked_too(hosts):
    host = hosts[0]
    services.save_endpoint(
        host,
        section(
            "provider", "host=iax.example.net\nusername=acme-1234\nsecret=Provider-Secret-42", template=True
        ),
        actor="test",
    )
    services.save_endpoint(host, section("acme", "type=peer", bases=["provider"]), actor="test")
    services.save_endpoint(
        host, section("other", "type=peer\nhost=iax.example.net\nusername=someone-else"), actor="test"
    )
    services.save_endpoint(
        host, section("phone", "type=friend\nhost=dynamic\nsecret=Phone-secret-99"), actor="t"
    )
    registration = services.save_registration(
        host, username="acme-1234", secret="Provider-Secret-42", remote_host="IAX.example.net", actor="test"
    )
    acme = Endpoint.objects.get(host=host, name="acme")
    (links,) = trunks.registration_links(host).values()
    assert links.local == [trunks.PeerRef("pbx-a", "acme", acme.pk)] and links.far == []
    assert [r.pk for r in trunks.endpoint_links(acme).registrations] == [registration.pk]
