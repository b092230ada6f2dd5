"""Hosts in the browser UI (peers/views/host_admin.py): create, change the description, delete with
a confirmation that says what goes with it; every write through peers.services, in the history."""

from __future__ import annotations

import pytest
from django.urls import reverse

from peers import services
from peers.demo import seed_demo
from peers.models import Change, Endpoint, Host, HostToken, Revision
from peers.security.roles import set_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client, django_user_model):
    user = django_user_model.objects.create_user("ann", password="pw-for-tests-only")
    set_role(user, "admin")
    client.force_login(user)
    return client


def test_the_host_list_offers_new_host_to_admins_only(admin, client, django_user_model):
    assert reverse("peers:host-create") in admin.get(reverse("peers:host-list")).content.decode()
    editor = django_user_model.objects.create_user("ed", password="pw-for-tests-only")
    set_role(editor, "editor")
    client.force_login(editor)
    assert reverse("peers:host-create") not in client.get(reverse("peers:host-list")).content.decode()


def test_creating_a_host_records_it_and_opens_its_overview(admin):
    response = admin.post(reverse("peers:host-create"), {"name": "pbx7", "description": "Branch office"})
    assert response.status_code == 302 and response["Location"] == reverse("peers:host-detail", args=["pbx7"])
    host = Host.objects.get(name="pbx7")
    assert host.description == "Branch office" and host.general is not None
    rows = Change.objects.filter(host=host).order_by("id")
    assert [(c.action, c.object_type, c.actor_name, c.message) for c in rows] == [
        ("create", "host", "ann", "host created"),
        ("create", "general", "ann", "host created"),
    ]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "pbx 7"}, "name", "letters, numbers, underscores or hyphens"),
        ({"name": "demo"}, "name", "a host named 'demo' exists already"),
        ({"name": "pbx8", "description": "two\u2028lines"}, "description", "U+2028 (LINE SEPARATOR)"),
    ],
)
def test_a_refused_host_is_shown_at_its_field(admin, data, field, message):
    seed_demo()
    response = admin.post(reverse("peers:host-create"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert any(message in e for e in errors), errors
    assert not Host.objects.filter(name=data["name"]).exclude(name="demo").exists()


def test_changing_the_description_is_recorded_and_a_stale_form_is_refused(admin):
    host = services.create_host("pbx7", description="old", actor="test")
    url = reverse("peers:host-edit", args=["pbx7"])
    version = admin.get(url).context["form"].initial["version"]
    assert admin.post(url, {"description": "new", "version": version}).status_code == 302
    host.refresh_from_db()
    assert host.description == "new"
    change = Change.objects.filter(object_type="host", action="update").get()
    assert (change.before["description"], change.after["description"]) == ("old", "new")
    stale = admin.post(url, {"description": "newer", "version": version})
    assert stale.status_code == 409
    assert "was changed by someone else" in stale.content.decode()
    host.refresh_from_db()
    assert host.description == "new"


def test_the_delete_page_says_what_goes_with_the_host_and_needs_its_name(admin):
    demo = seed_demo()
    services.publish(demo, actor="test", message="first")
    services.create_host_token(demo, name="agent", actor="test")
    page = admin.get(reverse("peers:host-delete", args=["demo"])).content.decode()
    counts = " ".join(page.split("deleted-with-host")[1].split("</ul>")[0].split())
    assert (
        "2 peers, 1 user, 2 friends, 1 template, [general], 2 registrations and 2 call-number limits;"
        in counts
    )
    assert (
        "1 published revision" in counts
        and "1 active agent token" in counts
        and "0 deployment reports" in counts
    )
    assert "The history is kept" in page

    wrong = admin.post(reverse("peers:host-delete", args=["demo"]), {"confirm": "dem0"})
    assert wrong.status_code == 200 and Host.objects.filter(name="demo").exists()
    assert wrong.context["form"].errors["confirm"] == [
        "type demo exactly to delete this host (you typed 'dem0')"
    ]

    history_before = Change.objects.filter(host_name="demo").count()
    response = admin.post(reverse("peers:host-delete", args=["demo"]), {"confirm": "demo"})
    assert response.status_code == 302 and response["Location"] == reverse("peers:host-list")
    assert not Host.objects.filter(name="demo").exists()
    assert not Endpoint.objects.exists() and not Revision.objects.exists() and not HostToken.objects.exists()
    kept = Change.objects.filter(host_name="demo")
    deleted = kept.filter(action="delete")
    assert kept.count() == history_before + deleted.count()
    assert deleted.filter(object_type="host").get().actor_name == "ann"
    assert sorted({c.object_type for c in deleted}) == [
        "callnumberlimit",
        "endpoint",
        "general",
        "host",
        "registration",
        "template",
    ]
    assert all(c.host_id is None for c in kept)
