from __future__ import annotations

import pytest
from django.urls import reverse

from peers.demo import seed_demo
from peers.models import Change
from peers.security.roles import set_role
from tests.conftest import section, store

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_logged_in(client, django_user_model):
    user = django_user_model.objects.create_user("ann", password="pw-for-tests-only")
    set_role(user, "editor")  # the download holds secrets: editor (tests/test_roles.py covers the roles)
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "url", ["/", "/hosts/demo/", "/hosts/demo/iax.conf"], ids=["host-list", "host-detail", "host-export"]
)
def test_pages_send_anonymous_users_to_login(client, url):
    seed_demo()
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_host_list_shows_hosts_with_counts(client_logged_in):
    seed_demo()
    response = client_logged_in.get(reverse("peers:host-list"))
    assert response.status_code == 200
    assert "peers/host_list.html" in [t.name for t in response.templates]
    demo = next(h for h in response.context["hosts"] if h.name == "demo")
    assert (demo.peers, demo.users, demo.templates) == (4, 3, 1)


def test_host_detail_shows_findings_and_the_rendered_config(client_logged_in):
    seed_demo()
    response = client_logged_in.get(reverse("peers:host-detail", args=["demo"]))
    html = response.content.decode()
    assert response.status_code == 200
    # a summary: the findings counts are asked for on demand until they are known, the iax.conf too
    assert reverse("peers:host-findings-summary", args=["demo"]) in html
    assert reverse("peers:host-conf", args=["demo"]) in html and "[office-phone](!)" not in html
    summary = client_logged_in.get(reverse("peers:host-findings-summary", args=["demo"])).content.decode()
    assert "No findings" in summary
    again = client_logged_in.get(reverse("peers:host-detail", args=["demo"])).content.decode()
    assert "No findings" in again  # known for this state of the host now: shown at once
    conf = client_logged_in.get(reverse("peers:host-conf", args=["demo"])).content.decode()
    assert "[office-phone](!)" in conf and "secret=********" in conf
    assert "Vq8-mU2x" not in conf


def test_host_export_get_serves_the_masked_text(client_logged_in):
    seed_demo()
    response = client_logged_in.get(reverse("peers:host-export", args=["demo"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    body = response.content.decode()
    assert body.startswith(";iaxadmin: iax.conf for host demo")
    assert "sha256 of the configuration below: ********" in body
    assert "secret=********" in body and "Vq8-mU2x" not in body


def test_host_export_post_serves_the_clear_text_recorded_and_never_cached(client_logged_in):
    seed_demo()
    response = client_logged_in.post(reverse("peers:host-export", args=["demo"]))
    assert response.status_code == 200 and "Vq8-mU2x" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    change = Change.objects.get(action="reveal")
    assert (change.actor_name, change.object_type, change.message) == (
        "ann",
        "host",
        "iax.conf with its secrets downloaded",
    )


def test_host_export_with_errors_is_409_with_the_findings(client_logged_in, host):
    store(host, section("p", "type=peer\nhost=192.0.2.1\ntos=ef"))
    response = client_logged_in.post(reverse("peers:host-export", args=["pbx1"]))
    assert response.status_code == 409
    assert "error: [p] tos: tos is not read in type=peer sections" in response.content.decode()


def test_unknown_host_is_404(client_logged_in):
    assert client_logged_in.get(reverse("peers:host-detail", args=["nope"])).status_code == 404
