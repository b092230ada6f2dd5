"""Optimistic locking, one scheme for every object: its version is the id of its latest history row
(``services.version_of``), checked by the service layer under the object's row lock. Two editors
load the same form: the first save wins, the second is refused (409) with what changed and the
user's values kept; saving again after reading the conflict is a deliberate overwrite. The API
answers the same 409 to a stale ``version``."""

from __future__ import annotations

import html as html_lib
import re
import threading

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from peers import services
from peers.demo import seed_demo
from peers.exporter import endpoint_section
from peers.iaxconf import Entry
from peers.models import Change, Endpoint, GeneralOption, GeneralSettings, Host
from peers.security.roles import set_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db) -> Host:
    return seed_demo()


def _client(django_user_model, username: str) -> Client:
    user = django_user_model.objects.create_user(username, password="pw-for-tests-only")
    set_role(user, "editor")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def ann(django_user_model):
    return _client(django_user_model, "ann")


@pytest.fixture
def bob(django_user_model):
    return _client(django_user_model, "bob")


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    assert match, f"no hidden {name} field in the form"
    return html_lib.unescape(match[1])


def _form_data(response) -> dict[str, str]:
    """What a browser posts back from the loaded form: every field's value, the version as the
    HTML carries it."""
    data = {}
    for bound in response.context["form"]:
        value = bound.value()
        if isinstance(value, bool):
            if value:
                data[bound.name] = "on"
        elif value is not None:
            data[bound.name] = str(value)
    data["version"] = _hidden(response.content.decode(), "version")
    return data


def test_the_form_carries_the_version_of_the_object(ann, demo):
    alice = Endpoint.objects.get(host=demo, name="alice")
    data = _form_data(ann.get(reverse("peers:endpoint-edit", args=[demo.name, alice.pk])))
    latest = Change.objects.filter(object_type="endpoint", object_id=alice.pk).order_by("-id").first()
    assert int(data["version"]) == latest.pk == services.version_of(alice)


def test_second_endpoint_save_is_refused_with_what_changed(ann, bob, demo):
    alice = Endpoint.objects.get(host=demo, name="alice")
    url = reverse("peers:endpoint-edit", args=[demo.name, alice.pk])
    ann_form = _form_data(ann.get(url))
    bob_form = _form_data(bob.get(url))

    assert ann.post(url, {**ann_form, "context": "from-ann"}).status_code == 302
    second = bob.post(url, {**bob_form, "context": "from-bob"})
    assert second.status_code == 409
    page = second.content.decode()
    assert "was changed by someone else" in page
    assert "ann" in page and "from-ann" in page  # who, and the value they saved
    assert re.search(r'<textarea name="context"[^>]*>\s*from-bob</textarea>', page)  # bob's value is kept
    alice.refresh_from_db()
    assert alice.context == "from-ann"  # not overwritten
    assert not Change.objects.filter(object_id=alice.pk, actor_name="bob").exists()
    conflict = second.context["conflict"]
    assert [c["change"].actor_name for c in conflict] == ["ann"]
    assert any(f.field == "context" and f.after == "from-ann" for f in conflict[0]["fields"])

    # the re-rendered form carries the current version: saving it again is a deliberate overwrite
    again = _form_data(second)
    assert again["context"] == "from-bob"
    assert bob.post(url, again).status_code == 302
    alice.refresh_from_db()
    assert alice.context == "from-bob"


def test_a_save_through_another_path_in_between_is_a_conflict_too(ann, demo):
    alice = Endpoint.objects.get(host=demo, name="alice")
    url = reverse("peers:endpoint-edit", args=[demo.name, alice.pk])
    data = _form_data(ann.get(url))
    services.save_endpoint(
        demo, endpoint_section(alice), endpoint=alice, actor="api:bot", message="api change"
    )
    response = ann.post(url, {**data, "mailbox": "1@x"})
    assert response.status_code == 409
    assert "api change" in response.content.decode()


def test_a_reveal_is_not_a_change(ann, demo):
    alice = Endpoint.objects.get(host=demo, name="alice")
    url = reverse("peers:endpoint-edit", args=[demo.name, alice.pk])
    data = _form_data(ann.get(url))
    services.reveal_secrets(alice, actor="someone")
    assert ann.post(url, {**data, "mailbox": "5@x"}).status_code == 302


def test_the_same_stale_page_cannot_save_twice(ann, demo):
    alice = Endpoint.objects.get(host=demo, name="alice")
    url = reverse("peers:endpoint-edit", args=[demo.name, alice.pk])
    data = _form_data(ann.get(url))
    assert ann.post(url, {**data, "mailbox": "5@x"}).status_code == 302
    assert ann.post(url, {**data, "mailbox": "6@x"}).status_code == 409


def test_a_version_that_is_not_a_number_is_refused_at_its_field_not_a_crash(ann, demo):
    alice = Endpoint.objects.get(host=demo, name="alice")
    url = reverse("peers:endpoint-edit", args=[demo.name, alice.pk])
    data = _form_data(ann.get(url))
    response = ann.post(url, {**data, "version": "not-a-number"})
    assert response.status_code == 200 and "version" in response.context["form"].errors
    alice.refresh_from_db()
    assert services.version_of(alice) == int(data["version"])


def test_second_general_save_is_refused(ann, bob, demo):
    url = reverse("peers:general-edit", args=[demo.name])
    ann_form = _form_data(ann.get(url))
    bob_form = _form_data(bob.get(url))
    assert ann.post(url, {**ann_form, "tos": "ef"}).status_code == 302
    second = bob.post(url, {**bob_form, "tos": "CS3"})
    assert second.status_code == 409
    page = second.content.decode()
    assert "[general] was changed by someone else" in page and "ann" in page
    general = GeneralSettings.objects.get(host=demo)
    assert GeneralOption.objects.get(general=general, name="tos").value == "ef"
    third = bob.post(url, _form_data(second))
    assert third.status_code == 302
    assert GeneralOption.objects.get(general=general, name="tos").value == "CS3"


def test_a_registration_form_is_locked_the_same_way(ann, bob, demo):
    registration = demo.registrations.get(username="branch-backup")
    url = reverse("peers:registration-edit", args=[demo.name, registration.pk])
    ann_form = _form_data(ann.get(url))
    bob_form = _form_data(bob.get(url))
    assert ann.post(url, {**ann_form, "remote_port": "4570"}).status_code == 302
    second = bob.post(url, {**bob_form, "remote_port": "4571"})
    assert second.status_code == 409
    registration.refresh_from_db()
    assert registration.remote_port == 4570


def test_the_service_refuses_a_stale_version_whoever_calls_it(demo):
    alice = Endpoint.objects.get(host=demo, name="alice")
    seen = services.version_of(alice)
    services.save_endpoint(demo, endpoint_section(alice), endpoint=alice, actor="a")
    with pytest.raises(services.Conflict) as info:
        services.save_endpoint(
            demo, endpoint_section(alice), endpoint=alice, actor="b", expected_version=seen
        )
    assert [c.actor_name for c in info.value.changes] == ["a"]
    assert info.value.version == services.version_of(alice)


def test_the_api_answers_409_to_a_stale_version(demo, django_user_model, client):
    user = django_user_model.objects.create_user("ops")
    set_role(user, "editor")
    _, token = services.create_user_token(user, "script", actor="test")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    url = f"/api/v1/hosts/{demo.name}/endpoints/alice"
    current = client.get(url, **headers).json()
    body = {k: current[k] for k in ("name", "kind", "bases", "entries", "comment")}
    assert (
        client.put(
            url, {**body, "version": current["version"]}, content_type="application/json", **headers
        ).status_code
        == 200
    )
    stale = client.put(
        url, {**body, "version": current["version"]}, content_type="application/json", **headers
    )
    assert stale.status_code == 409 and "changed by someone else" in stale.json()["detail"]


@pytest.mark.django_db(transaction=True)
def test_a_save_waits_for_the_lock_then_sees_the_conflict(django_user_model):
    """On PostgreSQL the version is compared under the row locks: a save that arrives while another
    write holds the host waits for it (PostgreSQL says so in pg_stat_activity), then is refused."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite has no SELECT ... FOR UPDATE)")
    demo = seed_demo()
    alice = Endpoint.objects.get(host=demo, name="alice")
    url = reverse("peers:endpoint-edit", args=[demo.name, alice.pk])
    bob = _client(django_user_model, "bob")
    bob_form = _form_data(bob.get(url))
    locked, release, result = threading.Event(), threading.Event(), {}

    def other_save():
        try:
            with transaction.atomic():
                Host.objects.select_for_update().get(pk=demo.pk)  # as every service write does first
                locked.set()
                release.wait(10)
                section = endpoint_section(alice)
                section.entries = [e for e in section.entries if e.name != "context"] + [
                    Entry("context", "from-api")
                ]
                services.save_endpoint(demo, section, endpoint=alice, actor="api:bot", message="api change")
        finally:
            connection.close()

    def bob_save():
        try:
            result["response"] = bob.post(url, {**bob_form, "context": "from-bob"})
        finally:
            connection.close()

    first = threading.Thread(target=other_save)
    first.start()
    assert locked.wait(10)
    second = threading.Thread(target=bob_save)
    second.start()
    waiting = 0
    for _ in range(200):  # until PostgreSQL shows the second save waiting for the lock
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            waiting = cursor.fetchone()[0]
        if waiting:
            break
        second.join(0.05)
    assert waiting == 1 and second.is_alive(), "the second save did not wait for the lock"
    release.set()
    first.join(10)
    second.join(10)
    assert result["response"].status_code == 409
    alice.refresh_from_db()
    assert alice.context == "from-api"
