from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.urls import reverse

from peers import services
from peers.demo import seed_demo
from peers.exporter import export_host
from peers.models import Change, Endpoint, Host, Revision
from peers.security.roles import set_role
from tests.conftest import section

pytestmark = pytest.mark.django_db

ALICE_SECRET = "Vq8-mU2x!rT4pz"  # from peers.demo
NEW_SECRET = "N3w-Secret-for-alice"


@pytest.fixture
def admin(django_user_model):
    user = django_user_model.objects.create_user("admin", password="pw")
    set_role(user, "admin")  # publish and revert (tests/security/test_roles.py covers the roles)
    return user


@pytest.fixture
def client_in(client, admin):
    client.force_login(admin)
    return client


@pytest.fixture
def demo(db) -> Host:
    return seed_demo()


def _change_alice_secret(host: Host, actor) -> Change:
    alice = Endpoint.objects.get(host=host, name="alice")
    services.save_endpoint(
        host,
        section("alice", f"secret={NEW_SECRET}\ncontext=x", bases=["office-phone"]),
        endpoint=alice,
        position=alice.position,
        actor=actor,
        message="rotate",
    )
    return Change.objects.get(object_repr="[alice]", action="update")


URLS = [
    ("get", "peers:host-history", ["demo"], {}),
    ("get", "peers:revision-list", ["demo"], {}),
    ("get", "peers:revision-diff", ["demo"], {"a": 1}),
    ("get", "peers:host-publish", ["demo"], {}),
    ("post", "peers:host-publish", ["demo"], {"message": "x"}),
    ("post", "peers:host-revert", ["demo"], {"revision": 1}),
    ("get", "peers:audit-export", [], {"format": "csv"}),
    ("get", "peers:change-detail", [1], {}),
    ("post", "peers:change-revert", [1], {}),
]


@pytest.mark.parametrize("method,name,args,data", URLS, ids=[f"{u[0]}-{u[1]}" for u in URLS])
def test_anonymous_users_are_sent_to_the_login_page(client, demo, method, name, args, data):
    response = getattr(client, method)(reverse(name, args=args), data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not Revision.objects.exists()


def test_history_lists_the_hosts_changes_newest_first(client_in, demo, admin):
    _change_alice_secret(demo, admin)
    response = client_in.get(reverse("peers:host-history", args=["demo"]))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("[alice]") < html.index("[office-phone]")
    assert "rotate" in html and "admin" in html
    assert ALICE_SECRET not in html and NEW_SECRET not in html


def test_history_filters_by_user_type_object_and_date(client_in, demo, admin):
    _change_alice_secret(demo, admin)
    url = reverse("peers:host-history", args=["demo"])
    by_user = client_in.get(url, {"user": "admin"}).context["page"].object_list
    assert [c.object_repr for c in by_user] == ["[alice]"]
    by_type = client_in.get(url, {"type": "callnumberlimit"}).context["page"].object_list
    assert {c.object_type for c in by_type} == {"callnumberlimit"}
    by_name = client_in.get(url, {"object": "branch"}).context["page"].object_list
    assert {c.object_repr for c in by_name} == {"[branch]", "register => branch-backup@198.51.100.20"}
    Change.objects.filter(object_repr="[branch]").update(at="2026-01-10T10:00:00Z")
    old = client_in.get(url, {"since": "2026-01-01", "until": "2026-01-31"}).context["page"].object_list
    assert [c.object_repr for c in old] == ["[branch]"]
    bad = client_in.get(url, {"since": "yesterday"})
    assert "is not a date" in bad.content.decode()


def test_history_is_paginated(client_in, demo):
    change = Change.objects.first()
    Change.objects.bulk_create(
        Change(
            actor_name="x",
            batch=change.batch,
            action="update",
            object_type="endpoint",
            object_id=1,
            object_repr=f"[e{i}]",
            host=demo,
            host_name="demo",
        )
        for i in range(60)
    )
    url = reverse("peers:host-history", args=["demo"])
    first = client_in.get(url).context["page"]
    assert (len(first.object_list), first.paginator.num_pages) == (50, 2)
    assert client_in.get(url, {"page": 2}).context["page"].number == 2


def test_change_detail_shows_fields_and_secrets_only_as_changed(client_in, demo, admin):
    change = _change_alice_secret(demo, admin)
    response = client_in.get(reverse("peers:change-detail", args=[change.pk]))
    html = response.content.decode()
    fields = {f.field: (f.before, f.after) for f in response.context["fields"]}
    assert fields["secret"] == ("set", "changed")
    assert fields["context"] == (None, "x")
    assert "changed" in html
    assert ALICE_SECRET not in html and NEW_SECRET not in html


def test_change_revert_view(client_in, demo, admin):
    services.save_endpoint(
        demo, section("carol", "type=friend\nhost=dynamic\nsecret=C4rol-7yHq2m"), actor=admin
    )
    change = Change.objects.get(object_repr="[carol]")
    response = client_in.post(reverse("peers:change-revert", args=[change.pk]))
    assert response.status_code == 302
    assert not Endpoint.objects.filter(name="carol").exists()
    assert Change.objects.filter(object_repr="[carol]", action="delete", actor_name="admin").exists()


def test_publish_page_shows_the_diff_and_publishes_on_post(client_in, demo, admin):
    url = reverse("peers:host-publish", args=["demo"])
    page = client_in.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert '<span class="add">+[alice](office-phone)</span>' in html
    assert "+secret=********" in html and ALICE_SECRET not in html
    response = client_in.post(url, {"message": "first", "expected": page.context["expected"]})
    assert response.status_code == 302
    revision = Revision.objects.get()
    assert (revision.number, revision.author, revision.message) == (1, admin, "first")
    assert revision.conf_text == export_host(demo).text


def test_publish_needs_a_message(client_in, demo):
    response = client_in.post(reverse("peers:host-publish", args=["demo"]), {"message": " "})
    assert "Say what changed" in response.content.decode()
    assert not Revision.objects.exists()


def test_publish_is_refused_with_the_findings(client_in, demo):
    Endpoint.objects.create(host=demo, name="broken", kind="peer", position=99)  # a peer needs host=
    url = reverse("peers:host-publish", args=["demo"])
    assert "Publishing is refused" in client_in.get(url).content.decode()
    response = client_in.post(url, {"message": "x"})
    assert response.status_code == 409
    assert "missing-host" in response.content.decode()
    assert not Revision.objects.exists()


def test_publish_is_refused_when_the_config_changed_after_the_preview(client_in, demo):
    url = reverse("peers:host-publish", args=["demo"])
    expected = client_in.get(url).context["expected"]
    services.save_endpoint(
        demo, section("carol", "type=friend\nhost=dynamic\nsecret=C4rol-7yHq2m"), actor="test"
    )
    response = client_in.post(url, {"message": "x", "expected": expected})
    assert response.status_code == 409
    assert "changed while you were reading" in response.content.decode()
    assert not Revision.objects.exists()


def test_revision_list_and_coloured_diff(client_in, demo, admin):
    services.publish(demo, actor=admin, message="first")
    _change_alice_secret(demo, admin)
    services.publish(demo, actor=admin, message="second")
    listing = client_in.get(reverse("peers:revision-list", args=["demo"])).content.decode()
    assert "r1" in listing and "r2" in listing and "second" in listing
    response = client_in.get(reverse("peers:revision-diff", args=["demo"]), {"a": 1, "b": 2})
    html = response.content.decode()
    assert '<span class="add">+context=x</span>' in html
    assert '<span class="file">--- demo r1</span>' in html
    assert (
        '<span class="add">+secret=******** (changed)</span>' in html
        and '<span class="del">-secret=********</span>' in html
    )
    assert ALICE_SECRET not in html and NEW_SECRET not in html
    now = client_in.get(reverse("peers:revision-diff", args=["demo"]), {"a": 2, "b": "current"})
    assert "No difference." in now.content.decode()
    assert client_in.get(reverse("peers:revision-diff", args=["demo"]), {"a": 9}).status_code == 404


def test_revert_view_restores_the_revision(client_in, demo, admin):
    r1 = services.publish(demo, message="first", actor="test")
    services.delete_endpoint(Endpoint.objects.get(host=demo, name="bob"), actor="test")
    response = client_in.post(reverse("peers:host-revert", args=["demo"]), {"revision": 1})
    assert response.status_code == 302
    assert "batch=" in response["Location"]
    assert export_host(demo).text == r1.conf_text
    assert Change.objects.filter(object_repr="[bob]", action="create", actor_name="admin").exists()
    batch_page = client_in.get(response["Location"])
    assert [c.object_repr for c in batch_page.context["page"].object_list] == ["[bob]"]


def test_audit_export_csv_and_json_are_masked(client_in, demo, admin):
    _change_alice_secret(demo, admin)
    url = reverse("peers:audit-export")
    csv_response = client_in.get(url, {"format": "csv", "host": "demo"})
    assert csv_response["Content-Type"].startswith("text/csv")
    assert "attachment" in csv_response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(csv_response.content.decode())))
    assert rows[0]["object"] == "[alice]" and rows[0]["actor"] == "admin"
    json_response = client_in.get(url, {"format": "json", "since": "2000-01-01"})
    data = json.loads(json_response.content)
    assert len(data) == Change.objects.count()
    for body in (csv_response.content.decode(), json_response.content.decode()):
        assert ALICE_SECRET not in body and NEW_SECRET not in body and "PRIVATE KEY" not in body
    assert client_in.get(url, {"format": "xml"}).status_code == 400
    assert client_in.get(url, {"format": "csv", "since": "nope"}).status_code == 400


def test_undo_is_offered_only_while_it_can_be_applied(client_in, demo, admin):
    from peers.models import Endpoint

    alice = Endpoint.objects.get(host=demo, name="alice")
    lines = 'secret=Vq8-mU2x!rT4pz\ncallerid="Alice" <201>\nmailbox=201@default'
    services.save_endpoint(demo, section("alice", lines, bases=["office-phone"]), endpoint=alice, actor=admin)
    change = Change.objects.filter(object_type="endpoint", object_id=alice.pk, action="update").latest("id")
    url = reverse("peers:change-detail", args=[change.pk])
    html = client_in.get(url).content.decode()
    assert reverse("peers:change-revert", args=[change.pk]) in html and "undo-problem" not in html
    assert Change.objects.filter(pk__gt=change.pk).count() == 0  # looking wrote nothing
    client_in.post(reverse("peers:change-revert", args=[change.pk]))
    html = client_in.get(url).content.decode()
    assert reverse("peers:change-revert", args=[change.pk]) not in html  # applied: not offered again
    assert "is already as it was before change" in html


def test_revisions_pages_highlight_their_tab_and_compare_a_single_revision_with_now(client_in, demo, admin):
    services.publish(demo, actor=admin, message="first")
    html = client_in.get(reverse("peers:revision-list", args=["demo"])).content.decode()
    assert re.search(r'class="active" aria-current="page">Revisions<', html)
    assert '<option value="1" selected>r1</option>' in html
    assert '<option value="current" selected>the current config</option>' in html  # not r1 with r1
    html = client_in.get(reverse("peers:revision-diff", args=["demo"]), {"a": 1}).content.decode()
    assert re.search(r'class="active" aria-current="page">Revisions<', html)
