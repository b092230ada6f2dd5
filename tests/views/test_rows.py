"""The registration forms (issue 14, part 4): a new entry has no secret to keep or clear, the
server field holds a host and never host:port beside the Port field, and each register line
shows the peers it goes with (derived: peers.trunks)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from peers import services
from peers.demo import seed_demo
from peers.forms import RegistrationForm
from peers.iaxconf import trunks as t
from peers.models import Endpoint, Registration
from peers.security.roles import set_role
from tests.conftest import messages_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client, django_user_model):
    user = django_user_model.objects.create_user("ed", password="pw-for-tests-only")
    set_role(user, "editor")
    client.force_login(user)
    return client


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
        ("pbx.example.net:4570", "4569", "'pbx.example.net:4570' includes a port: type pbx.example.net here and 4570 in the Port field"),
        ("pbx.example.net:4570", "", "'pbx.example.net:4570' includes a port: type pbx.example.net here and 4570 in the Port field"),
        ("2001:db8::1", "", "'2001:db8::1' contains ':'; type a host name or IPv4 address here"),
    ],
)  # fmt: skip
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
        "invalid-value", "remote_host", "pbx.example.net:4570", "register",
    )  # fmt: skip
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
        "pbx.example.net", 4570, "u1:Abcdefgh-123@pbx.example.net:4570",
    )  # fmt: skip
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
