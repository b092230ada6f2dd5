"""The trunk wizard's pages (peers/views/trunks.py): the far end asked once, everything created in
one service call, refusals at the field they are about, nothing written when refused."""

from __future__ import annotations

import pytest
from django.urls import reverse

from peers import services
from peers.models import Change, Endpoint, Key, Registration
from tests.conftest import section

pytestmark = pytest.mark.django_db


@pytest.fixture
def hosts():
    return services.create_host("pbx-a", actor="test"), services.create_host("pbx-b", actor="test")


def _far(**changes):
    data = {
        "far_address": "iax.example.net",
        "far_port": "",
        "local_account": "acme-1234",
        "auth": "secret",
        "secret": "Provider-Secret-42",
        "registration": "local",
        "codecs": "g722, ulaw",
        "trunk": "on",
        "local_section": "",
        "far_account": "",
        "local_context": "",
    }
    data.update(changes)
    return data


def test_the_far_end_form_asks_once_with_sensible_defaults(editor, hosts):
    response = editor.get(reverse("peers:trunk-create", args=["pbx-a"]))
    form = response.context["form"]
    assert (form["codecs"].value(), form["registration"].value(), form["trunk"].value()) == (
        "ulaw, alaw",
        "local",
        True,
    )
    assert list(form.fields)[:3] == ["far_address", "far_port", "local_account"]
    assert reverse("peers:trunk-pair-create", args=["pbx-a"]) in response.content.decode()


def test_a_provider_trunk_creates_the_friend_and_the_register_line_linked(editor, hosts):
    response = editor.post(reverse("peers:trunk-create", args=["pbx-a"]), _far())
    assert response.status_code == 302
    assert response["Location"] == reverse("peers:registration-list", args=["pbx-a"])
    friend = Endpoint.objects.get(host__name="pbx-a")
    assert (friend.name, friend.kind, friend.peer_host, friend.username, friend.secret, friend.context) == (
        "acme-1234",
        "friend",
        "iax.example.net",
        "acme-1234",
        "Provider-Secret-42",
        "from-acme-1234",
    )
    registration = Registration.objects.get(host__name="pbx-a")
    assert registration.line() == "acme-1234:Provider-Secret-42@iax.example.net"
    page = editor.get(response["Location"]).content.decode()
    assert "Created the IAX2 trunk. pbx-a: [acme-1234] and register =&gt; acme-1234@iax.example.net." in page
    assert "peer [acme-1234]" in page.split(f'id="registration-{registration.pk}"')[1].split("</tr>")[0]
    assert (
        len(
            {
                c.batch
                for c in Change.objects.filter(
                    host__name="pbx-a", object_type__in=["endpoint", "registration"]
                )
            }
        )
        == 1
    )


def test_a_trunk_name_and_an_empty_secret_make_a_peer_a_user_and_a_generated_secret(editor, hosts):
    data = _far(secret="", local_section="acme", far_account="acme-in", registration="none")
    response = editor.post(reverse("peers:trunk-create", args=["pbx-a"]), data, follow=True)
    peer = Endpoint.objects.get(host__name="pbx-a", name="acme")
    user = Endpoint.objects.get(host__name="pbx-a", name="acme-in")
    assert (peer.kind, user.kind, user.context) == ("peer", "user", "from-acme")
    assert len(peer.secret) == 32 and user.secret == peer.secret
    assert not Registration.objects.exists()
    assert "reveal it on the new section" in response.content.decode()
    assert peer.secret not in response.content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"far_address": "iax.example.net:4570"}, "far_address", "must not contain a port"),
        (
            {"far_address": ""},
            "far_address",
            "pbx-a registers with the far end, so it needs the far end's address",
        ),
        ({"auth": "rsa", "secret": ""}, "outkey", "the private key this end signs with"),
        ({"auth": "rsa", "secret": "x"}, "secret", "give a secret or choose keys, not both"),
        ({"codecs": "ulaw, g711"}, "codecs", "'g711'"),
        ({"secret": "with space"}, "secret", "contains a space"),
        ({"local_context": "from acme"}, "local_context", "context 'from acme'"),
    ],
)
def test_a_refused_trunk_says_why_at_the_field_and_writes_nothing(editor, hosts, changes, field, message):
    response = editor.post(reverse("peers:trunk-create", args=["pbx-a"]), _far(**changes))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and any(message in e for e in errors[field]), errors
    assert not Endpoint.objects.exists() and not Registration.objects.exists()


def _pair(**changes):
    data = {
        "far_host": "pbx-b",
        "registration": "local",
        "far_address": "192.0.2.20",
        "far_port": "4570",
        "local_address": "",
        "local_port": "",
        "auth": "secret",
        "codecs": "ulaw",
        "trunk": "on",
    }
    data.update(changes)
    return data


def test_a_trunk_between_two_managed_hosts_writes_both_ends(editor, hosts):
    response = editor.post(reverse("peers:trunk-pair-create", args=["pbx-a"]), _pair())
    assert response.status_code == 302
    a = Endpoint.objects.get(host__name="pbx-a")
    b = Endpoint.objects.get(host__name="pbx-b")
    assert (a.name, a.peer_host, a.port, a.username, a.context) == (
        "pbx-b",
        "192.0.2.20",
        4570,
        "pbx-a",
        "from-pbx-b",
    )
    assert (b.name, b.peer_host, b.username, b.context) == ("pbx-a", "dynamic", "pbx-b", "from-pbx-a")
    assert a.secret == b.secret and len(a.secret) == 32
    assert Registration.objects.get().line() == f"pbx-a:{a.secret}@192.0.2.20:4570"


def test_new_rsa_keys_for_a_managed_pair_need_a_passphrase_or_a_deliberate_none(editor, hosts):
    url = reverse("peers:trunk-pair-create", args=["pbx-a"])
    response = editor.post(url, _pair(auth="rsa", passphrase="long enough", passphrase2="different"))
    assert response.context["form"].errors == {"passphrase2": ["the two passphrases differ"]}
    response = editor.post(url, _pair(auth="rsa"))
    assert "type a passphrase, or tick" in response.context["form"].errors["passphrase"][0]
    response = editor.post(url, _pair(auth="rsa", encryption="on", no_passphrase="on"))
    assert "RSA alone cannot encrypt" in response.context["form"].errors["encryption"][0]
    assert not Key.objects.exists()
    response = editor.post(url, _pair(auth="rsa", passphrase="long enough", passphrase2="long enough"))
    assert response.status_code == 302
    assert sorted(Key.objects.values_list("name", "private_encrypted")) == [
        ("pbx-a-trunk", True),
        ("pbx-b-trunk", True),
    ]
    a = Endpoint.objects.get(host__name="pbx-a")
    assert (a.auth, a.outkey.name, [k.name for k in a.inkeys.all()]) == (
        "rsa",
        "pbx-a-trunk",
        ["pbx-b-trunk"],
    )
    assert Registration.objects.get().line() == "pbx-a:[pbx-a-trunk]@192.0.2.20:4570"


def test_a_pair_refused_by_the_other_hosts_policy_writes_nothing_anywhere(editor, hosts):
    services.save_endpoint(hosts[1], section("pbx-a", "type=user\nsecret=Existing-99-secret"), actor="test")
    response = editor.post(reverse("peers:trunk-pair-create", args=["pbx-a"]), _pair())
    assert response.status_code == 200
    (error,) = response.context["form"].non_field_errors()
    assert error.startswith("on pbx-b: [pbx-a] already exists on this host")
    assert not Endpoint.objects.filter(host__name="pbx-a").exists() and not Registration.objects.exists()
    assert "Nothing was created" in response.content.decode()


def test_every_field_is_shown_once_in_a_titled_group(editor, hosts):
    for url_name in ("peers:trunk-create", "peers:trunk-pair-create"):
        form = editor.get(reverse(url_name, args=["pbx-a"])).context["form"]
        names = [bound.name for group in form.groups() for bound in group["fields"]]
        assert sorted(names) == sorted(form.fields) and len(names) == len(set(names))
