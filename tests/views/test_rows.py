"""Registrations and call-number limits (peers/views/rows.py): add, edit, delete, the inline checks;
a new registration has no secret to keep or clear, the server field holds a host and never
host:port beside the Port field, and each register line shows the peers it goes with (derived:
peers.trunks)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from peers import services
from peers.demo import seed_demo
from peers.forms import RegistrationForm
from peers.iaxconf import trunks as t
from peers.models import CallNumberLimit, Endpoint, Registration
from peers.security.roles import set_role
from tests.conftest import messages_of

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def test_a_new_registration_offers_no_secret_to_keep_or_clear(editor):
    seed_demo()
    page = editor.get(reverse("peers:registration-list", args=["demo"])).content.decode()
    form = page.split("Add a registration")[1]
    assert "clear_secret" not in form and "keep the current secret" not in form
    assert "Leave blank to register without one (or with a key)." in form


def test_an_existing_registration_without_a_secret_offers_none_to_keep_either(editor):
    demo = seed_demo()
    with_key = Registration.objects.get(host=demo, key__isnull=False)
    with_secret = Registration.objects.get(host=demo, key__isnull=True)
    page = editor.get(reverse("peers:registration-edit", args=["demo", with_key.pk])).content.decode()
    assert "clear_secret" not in page and "keep the current secret" not in page
    page = editor.get(reverse("peers:registration-edit", args=["demo", with_secret.pk])).content.decode()
    assert 'name="clear_secret"' in page and "Leave blank to keep the current secret" in page


@pytest.mark.parametrize(
    ("server", "port", "message"),
    [
        (
            "pbx.example.net:4570",
            "4569",
            "'pbx.example.net:4570' includes a port: type pbx.example.net here and 4570 in the Port field",
        ),
        (
            "pbx.example.net:4570",
            "",
            "'pbx.example.net:4570' includes a port: type pbx.example.net here and 4570 in the Port field",
        ),
        ("2001:db8::1", "", "'2001:db8::1' contains ':'; type a host name or IPv4 address here"),
    ],
)
def test_host_colon_port_in_the_server_field_is_refused_there(editor, server, port, message):
    demo = seed_demo()
    data = {"username": "u1", "secret": "Abcdefgh-123", "remote_host": server, "remote_port": port}
    response = editor.post(reverse("peers:registration-list", args=["demo"]), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["remote_host"] and errors["remote_host"][0].startswith(message)
    assert not Registration.objects.filter(host=demo, username="u1").exists()
    # the inline check says the same while it is typed
    inline = editor.post(reverse("peers:row-validate", args=["registration"]) + "?field=remote_host", data)
    assert escape(message) in messages_of(inline.content.decode(), "remote_host")


def test_the_service_refuses_host_colon_port_too_so_the_api_cannot_store_it(db):
    host = services.create_host("pbx1", actor="test")
    with pytest.raises(services.Refused) as caught:
        services.save_registration(
            host, username="u1", secret="", remote_host="pbx.example.net:4570", actor="t"
        )
    (finding,) = caught.value.findings
    assert (finding.code, finding.part, finding.value, finding.rule) == (
        "invalid-value",
        "remote_host",
        "pbx.example.net:4570",
        "register",
    )
    assert not Registration.objects.exists()


def test_the_host_and_port_fields_apart_are_accepted(editor):
    demo = seed_demo()
    data = {
        "username": "u1",
        "secret": "Abcdefgh-123",
        "remote_host": "pbx.example.net",
        "remote_port": "4570",
    }
    assert editor.post(reverse("peers:registration-list", args=["demo"]), data).status_code == 302
    saved = Registration.objects.get(host=demo, username="u1")
    assert (saved.remote_host, saved.remote_port, saved.line()) == (
        "pbx.example.net",
        4570,
        "u1:Abcdefgh-123@pbx.example.net:4570",
    )
    assert RegistrationForm(data={**data, "remote_port": ""}).is_valid()


def test_registrations_and_peers_show_what_they_go_with(editor, client, django_user_model):
    host_a = services.create_host("pbx-a", actor="test")
    host_b = services.create_host("pbx-b", actor="test")
    a = t.End("pbx-a", address="192.0.2.10", registers=True, label="pbx-a", context="from-pbx-b")
    b = t.End("pbx-b", address="192.0.2.20", label="pbx-b", context="from-pbx-a")
    services.create_trunk_pair(host_a, host_b, a, b, actor="test")
    reg = Registration.objects.get(host=host_a)
    friend_a = Endpoint.objects.get(host=host_a, name="pbx-b")
    friend_b = Endpoint.objects.get(host=host_b, name="pbx-a")
    page = editor.get(reverse("peers:registration-list", args=["pbx-a"])).content.decode()
    row = page.split(f'id="registration-{reg.pk}"')[1].split("</tr>")[0]
    assert f'href="{reverse("peers:endpoint-edit", args=["pbx-a", friend_a.pk])}"' in row
    assert "peer [pbx-b]</a>; authenticates as" in row
    assert f'href="{reverse("peers:endpoint-edit", args=["pbx-b", friend_b.pk])}">[pbx-a] on pbx-b</a>' in row
    page = editor.get(reverse("peers:endpoint-edit", args=["pbx-b", friend_b.pk])).content.decode()
    box = page.split('id="trunk-links"')[1].split("</div>")[0]
    assert "Authenticates the registrations of" in box and "pbx-a (register =&gt; pbx-a@192.0.2.20)" in box
    page = editor.get(reverse("peers:endpoint-edit", args=["pbx-a", friend_a.pk])).content.decode()
    assert "Registers with its server as the same account" in page.split('id="trunk-links"')[1]
    # a viewer sees the names without links to the forms it may not open
    viewer = django_user_model.objects.create_user("vi", password="pw-for-tests-only")
    set_role(viewer, "viewer")
    client.force_login(viewer)
    row = client.get(reverse("peers:registration-list", args=["pbx-a"])).content.decode()
    row = row.split(f'id="registration-{reg.pk}"')[1].split("</tr>")[0]
    assert "peer [pbx-b]; authenticates as [pbx-a] on pbx-b" in row and "/endpoints/" not in row


def test_add_registration_with_a_secret(ann, demo):
    data = {
        "username": "me",
        "secret": "Reg-secret-77x",
        "remote_host": "iax.example.org",
        "remote_port": "4569",
    }
    response = ann.post(reverse("peers:registration-list", args=["demo"]), data)
    assert response.status_code == 302
    assert demo.registrations.get(username="me").line() == "me:Reg-secret-77x@iax.example.org:4569"


def test_registration_bad_host_is_flagged_at_the_field(ann, demo):
    data = {"username": "me", "remote_host": "[2001:db8::1]"}
    response = ann.post(reverse("peers:registration-list", args=["demo"]), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="row-remote_host" class="field has-error' in html


def test_registration_inline_check_fragment(ann, demo):
    url = reverse("peers:row-validate", args=["registration"]) + "?field=username"
    response = ann.post(url, {"username": "a b", "remote_host": "example.org"}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "needs a user name" in messages_of(html, "username")


def test_registration_edit_keeps_the_secret_when_blank_and_never_shows_it(ann, demo):
    registration = demo.registrations.get(username="branch-backup")
    url = reverse("peers:registration-edit", args=["demo", registration.pk])
    assert "Rg7-tw2PqLx9" not in ann.get(url).content.decode()
    data = {"username": "branch-backup", "remote_host": "198.51.100.21", "remote_port": "4569"}
    assert ann.post(url, data).status_code == 302
    registration.refresh_from_db()
    assert registration.line() == "branch-backup:Rg7-tw2PqLx9@198.51.100.21:4569"


def test_registration_with_a_key_and_delete(ann, demo):
    data = {"username": "k", "key": "demo-pbx", "remote_host": "example.org"}
    ann.post(reverse("peers:registration-list", args=["demo"]), data)
    registration = demo.registrations.get(username="k")
    assert registration.line() == "k:[demo-pbx]@example.org"
    ann.post(reverse("peers:registration-delete", args=["demo", registration.pk]))
    assert not Registration.objects.filter(pk=registration.pk).exists()


def test_limits_add_edit_delete(ann, demo):
    url = reverse("peers:limit-list", args=["demo"])
    assert ann.post(url, {"network": "10.0.0.0/8", "limit": "5"}).status_code == 302
    limit = CallNumberLimit.objects.get(host=demo, network="10.0.0.0/8")
    edit = reverse("peers:limit-edit", args=["demo", limit.pk])
    assert ann.post(edit, {"network": "10.0.0.0/16", "limit": "6"}).status_code == 302
    limit.refresh_from_db()
    assert (limit.network, limit.limit) == ("10.0.0.0/16", 6)
    ann.post(reverse("peers:limit-delete", args=["demo", limit.pk]))
    assert not CallNumberLimit.objects.filter(pk=limit.pk).exists()


def test_limit_bad_network_is_flagged(ann, demo):
    response = ann.post(reverse("peers:limit-list", args=["demo"]), {"network": "10.0.0.0/33", "limit": "5"})
    assert 'id="row-network" class="field has-error' in response.content.decode()
    url = reverse("peers:row-validate", args=["limit"]) + "?field=network"
    html = ann.post(url, {"network": "nope", "limit": "1"}, headers=HX).content.decode()
    assert "does not start with an IP address" in messages_of(html, "network")


def test_limit_form_gives_every_error_at_once_and_names_the_value_once(ann, demo):
    response = ann.post(
        reverse("peers:limit-list", args=["demo"]), {"network": "10.0.0.0/33", "limit": "abc"}
    )
    errors = response.context["form"].errors
    assert errors["network"] == [
        "'10.0.0.0/33' has a prefix length over 32; a [callnumberlimits] line is address[/mask] = limit"
    ]
    assert "is not a whole number" in errors["limit"][0]  # the same round, from the same policy
