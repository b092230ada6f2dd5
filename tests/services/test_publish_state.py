"""The overview says when the working copy differs from the last published revision, with a
Publish button for publishers (peers.revisions.publish_state, {% publish_banner %})."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from peers import services
from peers.demo import seed_demo
from peers.exporter import endpoint_section
from peers.models import Endpoint
from peers.revisions import publish_state
from peers.security.roles import set_role
from tests.conftest import section

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client, django_user_model):
    def as_role(role):
        user = django_user_model.objects.create_user(role, password="pw-for-tests-only")
        set_role(user, role)
        client.force_login(user)
        return client

    return as_role


def _banner(client, host="demo") -> str:
    page = client.get(reverse("peers:host-detail", args=[host])).content.decode()
    return " ".join(page.split('id="publish-state"')[1].split("</div>")[0].split())


def test_a_host_never_published_says_so_and_offers_publish_to_publishers(login):
    seed_demo()
    publisher = login("publisher")
    banner = _banner(publisher)
    assert "Not published yet." in banner and reverse("peers:host-publish", args=["demo"]) in banner
    editor = login("editor")
    assert "Not published yet." in _banner(editor)
    assert reverse("peers:host-publish", args=["demo"]) not in _banner(editor)
    services.create_host("empty", actor="test")
    assert "Not published" not in _banner(editor, "empty")


def test_edits_after_a_publish_are_unpublished_changes_until_they_are_undone(login):
    demo = seed_demo()
    services.publish(demo, actor="test", message="first")
    client = login("publisher")
    assert "Published: revision r1 is the working copy." in _banner(client)
    alice = Endpoint.objects.get(host=demo, name="alice")
    stored = endpoint_section(alice)
    services.save_endpoint(
        demo,
        section("alice", "type=friend\nhost=dynamic\nsecret=Alice-elsewhere-99\ncontext=elsewhere"),
        endpoint=alice,
        actor="test",
    )
    banner = _banner(client)
    assert (
        'class="publish-state unpublished"' in banner
        and "<strong>Unpublished changes</strong> since revision r1" in banner
    )
    assert reverse("peers:host-publish", args=["demo"]) in banner
    assert "?a=1&amp;b=current" in banner
    services.save_endpoint(demo, stored, endpoint=alice, actor="test")  # back as published
    state = publish_state(demo)
    assert state.changed_since and not state.unpublished
    assert "Published: revision r1" in _banner(client)


def test_nothing_changed_since_the_publish_costs_three_queries_and_no_export():
    demo = seed_demo()
    services.publish(demo, actor="test", message="first")
    with CaptureQueriesContext(connection) as queries:
        assert not publish_state(demo).unpublished
    assert len(queries) == 3
