"""Roles: viewer < editor < publisher < admin (peers.security.roles). Every view of peers/urls.py is in
the table below; the table test checks, for each, that an anonymous
user is sent to the login page, a user one role too low gets 403 naming the role, and a user with
the role is let through."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from peers import services
from peers.demo import seed_demo
from peers.models import CallNumberLimit, Change, Endpoint, Host, HostToken, Registration
from peers.security import roles
from peers.security.roles import ROLES, has_role, role_of, set_role
from peers.urls import urlpatterns as PEERS_PATTERNS

pytestmark = pytest.mark.django_db

# url name -> [(method, role needed)]
MATRIX: dict[str, list[tuple[str, str]]] = {
    "host-list": [("get", "viewer")],
    "host-detail": [("get", "viewer")],
    "host-create": [("get", "admin"), ("post", "admin")],
    "host-edit": [("get", "editor"), ("post", "editor")],
    "host-delete": [("get", "admin"), ("post", "admin")],
    "host-export": [("get", "viewer"), ("post", "editor")],  # masked; with its secrets (audited)
    "host-findings": [("get", "viewer")],
    "host-findings-summary": [("get", "viewer")],
    "host-conf": [("get", "viewer")],  # masked
    "host-fixes": [("get", "editor"), ("post", "editor")],
    "host-fix-summary": [("get", "editor")],
    "endpoint-list": [("get", "viewer")],
    "endpoint-create": [("get", "editor"), ("post", "editor")],
    "endpoint-validate": [("post", "editor")],
    "endpoint-preview": [("post", "editor")],
    "endpoint-edit": [("get", "editor"), ("post", "editor")],
    "endpoint-clone": [("get", "editor")],
    "endpoint-delete": [("get", "editor"), ("post", "editor")],
    "endpoint-reveal": [("post", "editor")],
    "general-edit": [("get", "editor"), ("post", "editor")],
    "general-validate": [("post", "editor")],
    "general-preview": [("post", "editor")],
    "registration-list": [("get", "viewer"), ("post", "editor")],
    "trunk-create": [("get", "editor"), ("post", "editor")],
    "trunk-pair-create": [("get", "editor"), ("post", "editor")],
    "registration-edit": [("get", "editor"), ("post", "editor")],
    "registration-delete": [("get", "editor"), ("post", "editor")],
    "limit-list": [("get", "viewer"), ("post", "editor")],
    "limit-edit": [("get", "editor"), ("post", "editor")],
    "limit-delete": [("get", "editor"), ("post", "editor")],
    "row-validate": [("post", "editor")],
    "key-list": [("get", "viewer")],
    "key-generate": [("get", "editor"), ("post", "editor")],
    "key-upload": [("get", "editor"), ("post", "editor")],
    "key-download": [("get", "viewer")],  # the public key only
    "key-delete": [("get", "editor"), ("post", "editor")],
    "import": [("get", "editor"), ("post", "editor")],
    "import-confirm": [("post", "editor")],
    "import-report": [("get", "editor")],
    "import-run": [("post", "editor")],
    "import-status": [("get", "editor")],
    "host-history": [("get", "viewer")],
    "revision-list": [("get", "viewer")],
    "revision-diff": [("get", "viewer")],
    "host-publish": [("get", "publisher"), ("post", "publisher")],
    "host-revert": [("post", "publisher")],
    "change-detail": [("get", "viewer")],
    "change-revert": [("post", "publisher")],
    "audit-export": [("get", "viewer")],
    "simulate-call": [("get", "viewer"), ("post", "viewer")],  # a simulation writes nothing
    "simulate-registration": [("get", "viewer"), ("post", "viewer")],
    "dialplan": [("get", "viewer"), ("post", "editor")],
    "host-tokens": [("get", "admin"), ("post", "admin")],
    "host-token-revoke": [("get", "admin"), ("post", "admin")],
}

CASES = [(name, method, role) for name, rules in MATRIX.items() for method, role in rules]


@pytest.fixture
def demo(db) -> Host:
    return seed_demo()


def _args(name: str, demo: Host) -> tuple[list, str]:
    """(reverse args, query string) of a URL name, from the demo host."""
    alice = Endpoint.objects.get(host=demo, name="alice")
    change = Change.objects.filter(host=demo).first()
    if change is None:  # pragma: no cover - the demo is seeded through the audited services
        change = Change.objects.create(
            actor_name="test",
            batch="00000000-0000-0000-0000-000000000000",
            action="create",
            object_type="host",
            object_id=demo.pk,
            object_repr=demo.name,
            host=demo,
        )
    token = (
        HostToken.objects.filter(host=demo).first()
        or services.create_host_token(demo, "agent", actor="test")[0]
    )
    by_name = {
        "host-token-revoke": [demo.name, token.pk],
        "host-list": [],
        "host-create": [],
        "key-list": [],
        "key-generate": [],
        "key-upload": [],
        "import": [],
        "import-confirm": [],
        "import-report": ["00000000-0000-0000-0000-000000000000"],
        "import-run": ["00000000-0000-0000-0000-000000000000"],
        "import-status": ["00000000-0000-0000-0000-000000000000"],
        "audit-export": [],
        "row-validate": ["limit"],
        "key-download": ["demo-pbx"],
        "key-delete": ["demo-pbx"],
        "endpoint-create": [demo.name, "friend"],
        "endpoint-validate": [demo.name, "friend"],
        "endpoint-preview": [demo.name, "friend"],
        "endpoint-edit": [demo.name, alice.pk],
        "endpoint-clone": [demo.name, alice.pk],
        "endpoint-delete": [demo.name, alice.pk],
        "endpoint-reveal": [demo.name, alice.pk],
        "registration-edit": [demo.name, Registration.objects.filter(host=demo).first().pk],
        "registration-delete": [demo.name, Registration.objects.filter(host=demo).first().pk],
        "limit-edit": [demo.name, CallNumberLimit.objects.filter(host=demo).first().pk],
        "limit-delete": [demo.name, CallNumberLimit.objects.filter(host=demo).first().pk],
        "change-detail": [change.pk],
        "change-revert": [change.pk],
    }
    query = {"revision-diff": "?a=1&b=current", "row-validate": "?field=network"}.get(name, "")
    return by_name.get(name, [demo.name]), query


def _user(django_user_model, role: str | None, username: str = "someone"):
    user = django_user_model.objects.create_user(username, password="pw-for-tests-only")
    set_role(user, role)
    return user


def _below(role: str) -> str | None:
    rank = ROLES.index(role)
    return ROLES[rank - 1] if rank else None


def test_every_view_is_in_the_matrix_with_the_role_its_decorator_asks_for():
    names = {p.name for p in PEERS_PATTERNS}
    assert names == set(MATRIX), f"add these to MATRIX: {names - set(MATRIX)}; stale: {set(MATRIX) - names}"
    for pattern in PEERS_PATTERNS:
        view = pattern.callback
        rules = dict(MATRIX[pattern.name])
        assert getattr(view, "required_role", None) == rules.get("get", rules.get("post")), pattern.name
        if "post" in rules:
            assert view.required_write_role == rules["post"], pattern.name


@pytest.mark.parametrize("name,method,role", CASES, ids=[f"{n}-{m}" for n, m, _ in CASES])
def test_anonymous_is_sent_to_the_login_page(client, demo, name, method, role):
    args, query = _args(name, demo)
    url = reverse(f"peers:{name}", args=args) + query
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name,method,role", CASES, ids=[f"{n}-{m}" for n, m, _ in CASES])
def test_one_role_too_low_is_forbidden(client, django_user_model, demo, name, method, role):
    below = _below(role)
    client.force_login(_user(django_user_model, below))
    args, query = _args(name, demo)
    response = getattr(client, method)(reverse(f"peers:{name}", args=args) + query)
    assert response.status_code == 403
    text = response.content.decode()
    assert f"needs the <strong>{role}</strong> role" in text
    assert Change.objects.filter(message="secret revealed").count() == 0


@pytest.mark.parametrize("name,method,role", CASES, ids=[f"{n}-{m}" for n, m, _ in CASES])
def test_the_role_is_enough(client, django_user_model, demo, name, method, role):
    client.force_login(_user(django_user_model, role))
    args, query = _args(name, demo)
    response = getattr(client, method)(reverse(f"peers:{name}", args=args) + query)
    assert response.status_code != 403
    assert not response.get("Location", "").startswith(reverse("login"))


@pytest.mark.parametrize("role", ROLES)
def test_a_higher_role_includes_the_lower_ones(django_user_model, role):
    user = _user(django_user_model, role)
    assert role_of(user) == role
    for other in ROLES:
        assert has_role(user, other) == (ROLES.index(other) <= ROLES.index(role))


def test_no_role_anonymous_and_superuser(django_user_model):
    from django.contrib.auth.models import AnonymousUser

    plain = _user(django_user_model, None)
    assert role_of(plain) is None and not has_role(plain, "viewer")
    assert role_of(AnonymousUser()) is None
    boss = django_user_model.objects.create_superuser("boss", password="pw-for-tests-only")
    assert role_of(boss) == "admin" and has_role(boss, "admin")
    plain.is_active = False
    set_role(plain, "admin")
    assert role_of(plain) is None


def test_several_groups_give_the_highest_role(django_user_model):
    user = _user(django_user_model, "viewer")
    user.groups.add(Group.objects.get(name="publisher"))
    assert role_of(django_user_model.objects.get(pk=user.pk)) == "publisher"


def test_ensure_groups_is_idempotent(db):
    roles.ensure_groups()
    roles.ensure_groups()
    assert sorted(Group.objects.values_list("name", flat=True)) == sorted(ROLES)


def test_unknown_role_is_refused():
    with pytest.raises(ValueError):
        roles.role_required("root")


def test_viewer_pages_show_no_actions_and_no_secret(client, django_user_model, demo):
    client.force_login(_user(django_user_model, "viewer"))
    html = client.get(reverse("peers:host-detail", args=[demo.name])).content.decode()
    conf = client.get(reverse("peers:host-conf", args=[demo.name])).content.decode()
    alice = Endpoint.objects.get(host=demo, name="alice")
    secret = alice.secret
    assert secret and secret not in html and secret not in conf
    assert "********" in conf
    assert reverse("peers:endpoint-create", args=[demo.name, "friend"]) not in html
    assert "Download with its secrets" not in html  # the masked download only
    assert reverse("peers:general-edit", args=[demo.name]) not in html
    assert reverse("peers:host-publish", args=[demo.name]) not in html
    listing = client.get(reverse("peers:endpoint-list", args=[demo.name])).content.decode()
    assert reverse("peers:endpoint-edit", args=[demo.name, alice.pk]) not in listing
    assert "alice" in listing
    findings = client.get(reverse("peers:host-findings", args=[demo.name])).content.decode()
    assert not re.search(r"/endpoints/\d", findings) and "/general/" not in findings
    registrations = client.get(reverse("peers:registration-list", args=[demo.name])).content.decode()
    assert "Add a registration" not in registrations


def test_editor_sees_edit_actions_but_not_publish(client, django_user_model, demo):
    client.force_login(_user(django_user_model, "editor"))
    html = client.get(reverse("peers:host-detail", args=[demo.name])).content.decode()
    assert reverse("peers:endpoint-create", args=[demo.name, "friend"]) in html
    assert reverse("peers:general-edit", args=[demo.name]) in html
    assert reverse("peers:host-publish", args=[demo.name]) not in html
    alice = Endpoint.objects.get(host=demo, name="alice")
    form = client.get(reverse("peers:endpoint-edit", args=[demo.name, alice.pk])).content.decode()
    assert reverse("peers:endpoint-reveal", args=[demo.name, alice.pk]) in form


def test_publisher_sees_publish(client, django_user_model, demo):
    client.force_login(_user(django_user_model, "publisher"))
    html = client.get(reverse("peers:host-history", args=[demo.name])).content.decode()
    assert reverse("peers:host-publish", args=[demo.name]) in html


def test_import_into_a_new_host_needs_admin(client, django_user_model, db):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(_user(django_user_model, "editor"))
    upload = SimpleUploadedFile("iax.conf", b"[general]\nbindport=4569\n")
    response = client.post(reverse("peers:import"), {"host": "brand-new", "conf": upload})
    assert response.status_code == 200
    assert "creating a host needs the admin role" in response.content.decode()
    assert not Host.objects.filter(name="brand-new").exists()


def test_iax_role_command(django_user_model, capsys):
    django_user_model.objects.create_user("carol", password="pw-for-tests-only")
    call_command("iax_role", "--user", "carol", "--role", "publisher")
    assert role_of(django_user_model.objects.get(username="carol")) == "publisher"
    call_command("iax_role", "--user", "carol", "--role", "viewer")  # replaces, not adds
    assert role_of(django_user_model.objects.get(username="carol")) == "viewer"
    call_command("iax_role", "--list")
    assert "carol  viewer" in capsys.readouterr().out
    call_command("iax_role", "--user", "carol", "--role", "none")
    assert role_of(django_user_model.objects.get(username="carol")) is None


def test_iax_role_command_refuses_unknown_user(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no user named"):
        call_command("iax_role", "--user", "nobody", "--role", "viewer")


# -- reveal secret ----------------------------------------------------------------------------------


def test_reveal_shows_the_secret_once_and_records_it(client, django_user_model, demo):
    editor = _user(django_user_model, "editor")
    client.force_login(editor)
    alice = Endpoint.objects.get(host=demo, name="alice")
    url = reverse("peers:endpoint-reveal", args=[demo.name, alice.pk])
    before = Change.objects.count()
    response = client.post(url)
    assert response.status_code == 200
    assert alice.secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert Change.objects.count() == before + 1
    change = Change.objects.order_by("-id").first()
    assert change.message == "secret revealed"
    assert change.action == Change.Action.REVEAL
    assert change.actor == editor and change.actor_name == editor.username
    assert change.object_id == alice.pk and change.host == demo
    unchanged = {k: v for k, v in change.after.items() if k != "secrets_changed"}
    assert unchanged == {k: v for k, v in change.before.items() if k != "secrets_changed"}
    assert change.after["secrets_changed"] == []  # the history says no secret changed
    assert alice.secret not in str(change.before)  # the row itself holds the mask only


def test_reveal_is_post_only(client, django_user_model, demo):
    client.force_login(_user(django_user_model, "editor"))
    alice = Endpoint.objects.get(host=demo, name="alice")
    response = client.get(reverse("peers:endpoint-reveal", args=[demo.name, alice.pk]))
    assert response.status_code == 405
    assert alice.secret not in response.content.decode()
    assert not Change.objects.filter(message="secret revealed").exists()


def test_viewer_cannot_reveal(client, django_user_model, demo):
    client.force_login(_user(django_user_model, "viewer"))
    alice = Endpoint.objects.get(host=demo, name="alice")
    response = client.post(reverse("peers:endpoint-reveal", args=[demo.name, alice.pk]))
    assert response.status_code == 403
    assert alice.secret not in response.content.decode()
    assert not Change.objects.filter(message="secret revealed").exists()


def test_the_edit_page_never_holds_the_secret(client, django_user_model, demo):
    client.force_login(_user(django_user_model, "admin"))
    alice = Endpoint.objects.get(host=demo, name="alice")
    page = client.get(reverse("peers:endpoint-edit", args=[demo.name, alice.pk])).content.decode()
    assert alice.secret not in page
    assert "Reveal secret" in page
