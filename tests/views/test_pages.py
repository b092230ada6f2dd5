"""Every page of the browser UI (peers/urls.py), whichever views module serves it: its status and
template, anonymous users sent to the login page, deletes that ask first, a real 405 page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from peers.models import CallNumberLimit, Endpoint, Key, Registration

pytestmark = pytest.mark.django_db


def _pages(demo):
    alice = Endpoint.objects.get(host=demo, name="alice")
    registration = Registration.objects.filter(host=demo).first()
    limit = CallNumberLimit.objects.filter(host=demo).first()
    return {
        "host-findings": (reverse("peers:host-findings", args=["demo"]), "peers/host_findings.html"),
        "endpoint-list": (reverse("peers:endpoint-list", args=["demo"]), "peers/endpoint_list.html"),
        "endpoint-create": (
            reverse("peers:endpoint-create", args=["demo", "friend"]),
            "peers/endpoint_form.html",
        ),
        "endpoint-edit": (
            reverse("peers:endpoint-edit", args=["demo", alice.pk]),
            "peers/endpoint_form.html",
        ),
        "endpoint-clone": (
            reverse("peers:endpoint-clone", args=["demo", alice.pk]),
            "peers/endpoint_form.html",
        ),
        "endpoint-delete": (
            reverse("peers:endpoint-delete", args=["demo", alice.pk]),
            "peers/endpoint_delete.html",
        ),
        "general-edit": (reverse("peers:general-edit", args=["demo"]), "peers/general_form.html"),
        "registration-list": (
            reverse("peers:registration-list", args=["demo"]),
            "peers/registration_list.html",
        ),
        "registration-edit": (
            reverse("peers:registration-edit", args=["demo", registration.pk]),
            "peers/registration_form.html",
        ),
        "limit-list": (reverse("peers:limit-list", args=["demo"]), "peers/limit_list.html"),
        "limit-edit": (reverse("peers:limit-edit", args=["demo", limit.pk]), "peers/limit_form.html"),
        "key-list": (reverse("peers:key-list"), "peers/key_list.html"),
        "key-generate": (reverse("peers:key-generate"), "peers/key_form.html"),
        "key-upload": (reverse("peers:key-upload"), "peers/key_form.html"),
        "import": (reverse("peers:import"), "peers/import.html"),
    }


PAGE_NAMES = [
    "host-findings",
    "endpoint-list",
    "endpoint-create",
    "endpoint-edit",
    "endpoint-clone",
    "endpoint-delete",
    "general-edit",
    "registration-list",
    "registration-edit",
    "limit-list",
    "limit-edit",
    "key-list",
    "key-generate",
    "key-upload",
    "import",
]


@pytest.mark.parametrize("page", PAGE_NAMES)
def test_every_page_renders_its_template(ann, demo, page):
    url, template = _pages(demo)[page]
    response = ann.get(url)
    assert response.status_code == 200
    assert template in [t.name for t in response.templates]
    assert "Log out" in response.content.decode()


@pytest.mark.parametrize("page", PAGE_NAMES)
def test_every_page_sends_anonymous_users_to_login(client, demo, page):
    url, _ = _pages(demo)[page]
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "name", ["endpoint-validate", "endpoint-preview", "general-validate", "general-preview", "import-confirm"]
)
def test_posted_fragments_send_anonymous_users_to_login(client, demo, name):
    args = {"endpoint-validate": ["demo", "friend"], "endpoint-preview": ["demo", "friend"]}.get(
        name, ["demo"] if name.startswith("general") else []
    )
    response = client.post(reverse(f"peers:{name}", args=args), {})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_host_detail_links_every_host_page(ann, demo):
    html = ann.get(reverse("peers:host-detail", args=["demo"])).content.decode()
    for name in ("endpoint-list", "general-edit", "registration-list", "limit-list", "host-findings"):
        assert reverse(f"peers:{name}", args=["demo"]) in html


@pytest.mark.parametrize(
    ("kind", "title"),
    [
        ("registration", "Delete register =&gt; "),
        ("limit", "Delete the call-number limit"),
        ("key", "Delete the key"),
    ],
)
def test_every_delete_asks_for_confirmation_first(ann, demo, make_key, kind, title):
    if kind == "registration":
        obj = Registration.objects.filter(host=demo).first()
        url, model = reverse("peers:registration-delete", args=["demo", obj.pk]), Registration
    elif kind == "limit":
        obj = CallNumberLimit.objects.filter(host=demo).first()
        url, model = reverse("peers:limit-delete", args=["demo", obj.pk]), CallNumberLimit
    else:
        obj = make_key("spare")
        url, model = reverse("peers:key-delete", args=["spare"]), Key
    list_html = ann.get(
        {
            "registration": reverse("peers:registration-list", args=["demo"]),
            "limit": reverse("peers:limit-list", args=["demo"]),
            "key": reverse("peers:key-list"),
        }[kind]
    ).content.decode()
    assert f'<a href="{url}">delete</a>' in list_html  # a link to the question, not a one-click POST
    page = ann.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and title in html and 'class="danger">Delete</button>' in html
    assert model.objects.filter(pk=obj.pk).exists()  # asking deletes nothing
    assert ann.post(url).status_code == 302
    assert not model.objects.filter(pk=obj.pk).exists()


def test_a_get_on_a_post_only_url_is_a_real_405_page(ann, demo):
    response = ann.get(reverse("peers:endpoint-validate", args=["demo", "friend"]))
    html = response.content.decode()
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert "This address does not answer a GET" in html and "Log out" in html
