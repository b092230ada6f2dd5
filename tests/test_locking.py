"""Optimistic locking of the endpoint and [general] forms: two editors load the same form, the
first save wins, the second is refused (409) with what changed and the user's values kept; never a
silent overwrite. Saving again after reading the conflict is a deliberate overwrite."""

from __future__ import annotations

import html as html_lib
import re
import threading
import time

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from peers import services
from peers.demo import seed_demo
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
    """What a browser posts back from the loaded form: every field's value, the hidden version
    fields as the HTML carries them."""
    form = response.context["form"]
    data = {}
    for bound in form:
        value = bound.value()
        if isinstance(value, bool):
            if value:
                data[bound.name] = "on"
        elif value is not None:
            data[bound.name] = str(value)
    page = response.content.decode()
    for name in ("version", "seen_change"):
        data[name] = _hidden(page, name)
    return data


def test_second_endpoint_save_is_refused_with_what_changed(ann, bob, demo):
    alice = Endpoint.objects.get(host=demo, name="alice")
    url = reverse("peers:endpoint-edit", args=[demo.name, alice.pk])
    ann_form = _form_data(ann.get(url))
    bob_form = _form_data(bob.get(url))
    assert ann_form["version"] == alice.updated_at.isoformat()

    first = ann.post(url, {**ann_form, "context": "from-ann"})
    assert first.status_code == 302

    second = bob.post(url, {**bob_form, "context": "from-bob"})
    assert second.status_code == 409
    page = second.content.decode()
    assert "was changed by someone else" in page
    assert "ann" in page and "from-ann" in page  # who, and the value they saved
    assert re.search(r'<textarea name="context"[^>]*>\s*from-bob</textarea>', page)  # bob's value is kept
    alice.refresh_from_db()
    assert alice.context == "from-ann"  # not overwritten
    assert Change.objects.filter(object_id=alice.pk, actor_name="bob").count() == 0
    conflict = second.context["conflict"]
    assert [c["change"].actor_name for c in conflict] == ["ann"]
    assert any(f.field == "context" and f.after == "from-ann" for f in conflict[0]["fields"])

    # the re-rendered form carries the current version: saving it again is a deliberate overwrite
    again = _form_data(second)
    assert again["context"] == "from-bob"
    assert bob.post(url, again).status_code == 302
    alice.refresh_from_db()
    assert alice.context == "from-bob"


def test_a_save_from_a_service_in_between_is_a_conflict_too(ann, demo):
    alice = Endpoint.objects.get(host=demo, name="alice")
    url = reverse("peers:endpoint-edit", args=[demo.name, alice.pk])
    data = _form_data(ann.get(url))
    section = services.endpoint_section(alice)
    services.save_endpoint(demo, section, endpoint=alice, actor=None, message="api change")
    response = ann.post(url, {**data, "mailbox": "1@x"})
    assert response.status_code == 409
    assert "api change" in response.content.decode()


def test_a_stale_version_alone_is_a_conflict(ann, demo):
    """Someone saved without a history row: updated_at still tells."""
    alice = Endpoint.objects.get(host=demo, name="alice")
    url = reverse("peers:endpoint-edit", args=[demo.name, alice.pk])
    data = _form_data(ann.get(url))
    alice.save()  # auto_now moves updated_at
    response = ann.post(url, {**data, "mailbox": "1@x"})
    assert response.status_code == 409
    assert "the history has no row saying how" in response.content.decode()


def test_unchanged_version_saves(ann, demo):
    alice = Endpoint.objects.get(host=demo, name="alice")
    url = reverse("peers:endpoint-edit", args=[demo.name, alice.pk])
    data = _form_data(ann.get(url))
    assert ann.post(url, {**data, "mailbox": "5@x"}).status_code == 302
    # a second save from the same (now stale) page is refused as well: reload first
    assert ann.post(url, {**data, "mailbox": "6@x"}).status_code == 409


def test_garbage_version_is_a_conflict_not_a_crash(ann, demo):
    alice = Endpoint.objects.get(host=demo, name="alice")
    url = reverse("peers:endpoint-edit", args=[demo.name, alice.pk])
    data = _form_data(ann.get(url))
    response = ann.post(url, {**data, "version": "not-a-date", "seen_change": "x"})
    assert response.status_code == 409


def test_second_general_save_is_refused(ann, bob, demo):
    url = reverse("peers:general-edit", args=[demo.name])
    ann_form = _form_data(ann.get(url))
    bob_form = _form_data(bob.get(url))
    assert ann_form["version"].isdigit()

    assert ann.post(url, {**ann_form, "tos": "ef"}).status_code == 302
    second = bob.post(url, {**bob_form, "tos": "CS3"})
    assert second.status_code == 409
    page = second.content.decode()
    assert "[general] was changed by someone else" in page
    assert "ann" in page
    general = GeneralSettings.objects.get(host=demo)
    assert GeneralOption.objects.get(general=general, name="tos").value == "ef"

    third = bob.post(url, _form_data(second))
    assert third.status_code == 302, third.context["form"].errors
    assert GeneralOption.objects.get(general=general, name="tos").value == "CS3"


def test_general_created_in_between_is_a_conflict(ann, bob, db):
    host = Host.objects.create(name="empty")
    url = reverse("peers:general-edit", args=[host.name])
    ann_form = _form_data(ann.get(url))
    bob_form = _form_data(bob.get(url))
    assert ann_form["version"] == "0"
    assert ann.post(url, {**ann_form, "bindport": "4570"}).status_code == 302
    assert bob.post(url, {**bob_form, "bindport": "4571"}).status_code == 409


@pytest.mark.django_db(transaction=True)
def test_a_save_waits_for_the_row_lock_then_sees_the_conflict(django_user_model):
    """On PostgreSQL the check and the save run under SELECT ... FOR UPDATE: a save that arrives
    while another is being written waits for it, then is refused (no lost update in between)."""
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
                Endpoint.objects.select_for_update().get(pk=alice.pk)
                locked.set()
                release.wait(10)
                section = services.endpoint_section(alice)
                section.entries = [e for e in section.entries if e.name != "context"]
                section.entries.append(Entry(name="context", value="from-api"))
                services.save_endpoint(demo, section, endpoint=alice, actor=None, message="api change")
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
    time.sleep(0.5)
    assert second.is_alive(), "the second save did not wait for the row lock"
    release.set()
    first.join(10)
    second.join(10)
    assert result["response"].status_code == 409
    alice.refresh_from_db()
    assert alice.context == "from-api"
