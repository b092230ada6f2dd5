"""Regression tests for the holes found when the running app was attacked (issue 11), one or more per
finding; each failed on the code before the fix. The write-path and policy tests
(tests/services/test_write_paths.py, tests/services/test_policy.py) cover the history gaps and the
form/API rules."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from peers import keys as rsa_keys
from peers import services
from peers.demo import seed_demo
from peers.models import Change, Endpoint, Host, ImportUpload, Key
from peers.security.roles import set_role
from peers.security.throttle import MAX_FAILURES
from tests.services.test_write_paths import AGENT, WEB_GET_ONLY

pytestmark = pytest.mark.django_db

SECRETS = ["Vq8-mU2x!rT4pz", "Rg7-tw2PqLx9"]  # from peers.demo: alice's secret, a register password


@pytest.fixture
def demo(db):
    return seed_demo(actor="setup")


def _login(django_user_model, role: str, name: str = "ann") -> Client:
    user = django_user_model.objects.create_user(name, password="pw-for-tests-only")
    set_role(user, role)
    client = Client()
    client.force_login(user)
    return client


def _upload(name: str, content: bytes):
    handle = io.BytesIO(content)
    handle.name = name
    return handle


# ---------------------------------------------------------------------------------------------
# Critical: the web import read files from the server's own disk


@pytest.mark.parametrize(
    "target",
    [
        "/etc/hostname",
        "../../../etc/hosts",
        "/etc/host*",
        "/proc/self/environ",
        str(Path(__file__).resolve().parents[2] / "iaxadmin" / "settings.py"),  # any file the server can read
        "../.local/encryption.key",
    ],
)
def test_a_web_import_never_reads_a_file_from_the_servers_disk(django_user_model, target):
    client = _login(django_user_model, "admin")
    conf = f"[general]\nbindport=4569\n#include {target}\n[p]\ntype=peer\nhost=192.0.2.1\n".encode()
    response = client.post(reverse("peers:import"), {"host": "evil", "conf": _upload("iax.conf", conf)})
    assert response.status_code == 200
    html = response.content.decode()
    assert "iax.conf:3" in html  # the finding is at the include's line
    assert "upload" in html  # and says to upload the file
    assert response.context["report"] is None  # nothing to confirm
    for secret_looking in ("localhost", "SECRET_KEY", "PATH=", "IAXADMIN_ENCRYPTION_KEY"):
        assert secret_looking not in html.split("<h1>Import")[1]
    assert not Host.objects.filter(name="evil").exists()
    assert not ImportUpload.objects.exists()  # a refused upload is not kept


def test_an_include_among_the_uploaded_files_is_followed(django_user_model):
    client = _login(django_user_model, "admin")
    conf = _upload("iax.conf", b'[general]\nbindport=4569\n#include "peers.conf"\n')
    included = _upload("peers.conf", b"[p1]\ntype=peer\nhost=192.0.2.1\n")
    response = client.post(reverse("peers:import"), {"host": "inc", "conf": conf, "includes": [included]})
    assert response.context["report"].created["endpoint"] == 1


def test_the_uploads_wait_in_the_database_encrypted_and_only_their_owner_confirms(django_user_model):
    ann = _login(django_user_model, "admin", "ann")
    bob = _login(django_user_model, "admin", "bob")
    conf = b"[general]\nbindport=4569\n\n[p]\ntype=friend\nhost=dynamic\nsecret=Upload-Secret-77\n"
    response = ann.post(reverse("peers:import"), {"host": "staged", "conf": _upload("iax.conf", conf)})
    upload = response.context["upload"]
    html = response.content.decode()
    assert "Upload-Secret-77" not in html and "base64" not in html  # the browser holds only the id
    with connection.cursor() as cursor:
        cursor.execute("SELECT files FROM peers_importupload")
        (raw,) = cursor.fetchone()
    assert raw.startswith("enc1:") and "Upload-Secret" not in raw
    assert bob.post(reverse("peers:import-confirm"), {"upload": str(upload.pk)}).status_code == 302
    assert not Host.objects.filter(name="staged").exists()  # another user's upload: refused
    assert ann.post(reverse("peers:import-confirm"), {"upload": str(upload.pk)}).status_code == 302
    assert Host.objects.filter(name="staged").exists()
    imported = ImportUpload.objects.get()  # kept with its report until it expires; the files are gone
    assert imported.state == ImportUpload.State.IMPORTED and imported.files == {}
    change = Change.objects.filter(host__name="staged", object_type="endpoint").get()
    assert (change.actor_name, change.message) == ("ann", "imported iax.conf in the browser")


# ---------------------------------------------------------------------------------------------
# High: secrets shown on plain GETs


def _get_pages(host: Host) -> list[str]:
    alice = Endpoint.objects.get(host=host, name="alice")
    change = Change.objects.filter(object_repr="[alice]").first()
    urls = {
        "host-detail": [host.name],
        "host-findings": [host.name],
        "endpoint-list": [host.name],
        "endpoint-clone": [host.name, alice.pk],
        "host-history": [host.name],
        "revision-list": [host.name],
        "change-detail": [change.pk],
        "key-download": ["hq"],
    }
    pages = [reverse(f"peers:{name}", args=args) for name, args in urls.items()]
    pages += [
        reverse("peers:host-list"),
        reverse("peers:key-list"),
        reverse("peers:host-export", args=[host.name]),
        reverse("peers:endpoint-edit", args=[host.name, alice.pk]),
        reverse("peers:general-edit", args=[host.name]),
        reverse("peers:host-publish", args=[host.name]),
        reverse("peers:registration-list", args=[host.name]),
        reverse("peers:revision-diff", args=[host.name]) + "?a=1&b=current",
        reverse("peers:audit-export") + "?format=json",
    ]
    return pages


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_no_page_shows_a_secret_or_a_private_key_to_any_role(demo, django_user_model, role):
    services.publish(demo, actor="setup", message="r1")
    client = _login(django_user_model, role)
    for url in _get_pages(demo):
        response = client.get(url)
        if response.status_code == 403:  # a page this role may not open
            continue
        assert response.status_code == 200, url
        body = response.content.decode()
        for secret in SECRETS:
            assert secret not in body, (url, secret)
        assert "PRIVATE KEY" not in body, url
    assert set(WEB_GET_ONLY) and set(AGENT)  # the tables this sweep draws its pages from exist


def test_the_iax_conf_with_its_secrets_is_an_audited_post_never_cached(demo, django_user_model):
    viewer = _login(django_user_model, "viewer", "vic")
    url = reverse("peers:host-export", args=[demo.name])
    assert viewer.post(url).status_code == 403  # a viewer gets the masked text only
    masked = viewer.get(url).content.decode()
    assert "secret=********" in masked and SECRETS[0] not in masked
    editor = _login(django_user_model, "editor", "ed")
    response = editor.post(url)
    assert SECRETS[0] in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    change = Change.objects.get(action="reveal", object_type="host")
    assert change.actor_name == "ed"


def test_the_api_never_returns_a_secret_or_a_private_key(demo, django_user_model):
    user = django_user_model.objects.create_user("ops")
    set_role(user, "admin")
    _, token = services.create_user_token(user, "script", actor="setup")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    for path in (
        "/hosts",
        f"/hosts/{demo.name}/endpoints",
        f"/hosts/{demo.name}/registrations",
        f"/hosts/{demo.name}/general",
        "/keys",
        "/keys/demo-pbx",
    ):
        body = client.get("/api/v1" + path).content.decode()
        assert not any(secret in body for secret in SECRETS) and "PRIVATE KEY" not in body, path


# ---------------------------------------------------------------------------------------------
# Medium


def test_a_secret_with_a_line_separator_is_refused_not_masked_by_line(demo, django_user_model):
    user = django_user_model.objects.create_user("ops")
    set_role(user, "editor")
    _, token = services.create_user_token(user, "script", actor="setup")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    for bad in ("abc\u2028tail-visible", "abc\u2029x", "abc\x85x", "abc\nx", "abc\x9bx"):
        body = {
            "name": "sneaky",
            "kind": "friend",
            "entries": [{"name": "host", "value": "dynamic"}, {"name": "secret", "value": bad}],
        }
        response = client.post(f"/api/v1/hosts/{demo.name}/endpoints", body, content_type="application/json")
        assert response.status_code == 400, bad
        (finding,) = [f for f in response.json()["findings"] if f["directive"] == "secret"]
        assert finding["code"] == "invalid-value" and finding["value"] == "********"
        assert "U+" in finding["message"]  # names the character
    assert not Endpoint.objects.filter(name="sneaky").exists()


def test_a_secret_with_a_newline_is_refused_never_changed_silently(demo, django_user_model):
    client = _login(django_user_model, "editor")
    response = client.post(
        reverse("peers:endpoint-create", args=[demo.name, "friend"]),
        {"name": "nl", "host": "dynamic", "secret": "first\nsecond"},
    )
    assert response.status_code == 200
    assert "secret" in response.context["form"].errors
    assert not Endpoint.objects.filter(name="nl").exists()


def test_a_public_key_upload_holds_one_public_key_and_nothing_else(demo, django_user_model):
    material = rsa_keys.generate(None)
    user = django_user_model.objects.create_user("ops")
    set_role(user, "editor")
    _, token = services.create_user_token(user, "script", actor="setup")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    smuggled = material.public_pem + material.private_pem
    response = client.post(
        "/api/v1/keys", {"name": "smuggle", "public_pem": smuggled}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "exactly one 'PUBLIC KEY' block" in response.json()["detail"]
    assert not Key.objects.filter(name="smuggle").exists()
    web = _login(django_user_model, "editor", "ed")
    page = web.post(
        reverse("peers:key-upload"), {"name": "smuggle", "public_file": _upload("s.pub", smuggled.encode())}
    )
    assert "exactly one &#x27;PUBLIC KEY&#x27; block" in page.content.decode()
    garbage = web.post(
        reverse("peers:key-upload"), {"name": "junk", "public_file": _upload("j.pub", b"hello")}
    )
    assert "is not a PEM key" in garbage.content.decode()
    assert not Key.objects.filter(name__in=["smuggle", "junk"]).exists()


def test_the_admin_login_is_rate_limited_with_the_apps_login(django_user_model):
    django_user_model.objects.create_superuser("root", password="right-password-1")
    client = Client()
    for _ in range(MAX_FAILURES - 1):
        assert client.post("/admin/login/", {"username": "root", "password": "wrong"}).status_code == 200
    assert client.post("/login/", {"username": "root", "password": "wrong"}).status_code == 200
    refused = client.post("/admin/login/", {"username": "root", "password": "right-password-1"})
    assert refused.status_code == 429  # one count for both pages: the lockout holds on either
    assert "_auth_user_id" not in client.session


def test_a_host_token_learns_nothing_of_other_host_names(demo):
    other = services.create_host("pbx2", actor="setup")
    _, token = services.create_host_token(other, "agent", actor="setup")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    existing = client.get(f"/api/v1/hosts/{demo.name}/iax.conf")
    missing = client.get("/api/v1/hosts/no-such-host/iax.conf")
    assert existing.status_code == missing.status_code == 403
    assert re.sub(r"'[^']*'\n$", "", existing.content.decode()) == re.sub(
        r"'[^']*'\n$", "", missing.content.decode()
    )


# ---------------------------------------------------------------------------------------------
# Low: server errors


def test_an_import_value_with_a_control_character_is_a_finding_not_a_500(django_user_model):
    client = _login(django_user_model, "admin")
    conf = b"[general]\nbindport=4569\n\n[u]\ntype=user\nlanguage=en\x0bX\n"
    response = client.post(reverse("peers:import"), {"host": "ctl", "conf": _upload("iax.conf", conf)})
    assert response.status_code == 200
    errors = [f for f in response.context["report"].errors if f.directive == "language"]
    assert errors and errors[0].line == 6 and "U+000B" in errors[0].message


def test_a_date_that_is_not_a_day_is_a_clear_400(demo, django_user_model):
    client = _login(django_user_model, "viewer")
    response = client.get(reverse("peers:audit-export"), {"since": "2020-13-45"})
    assert response.status_code == 400
    assert "'2020-13-45' is not a date" in response.content.decode()


def test_undoing_a_token_change_is_refused_with_a_message(demo, django_user_model):
    admin = _login(django_user_model, "admin")
    admin.post(reverse("peers:host-tokens", args=[demo.name]), {"name": "agent"})
    change = Change.objects.get(object_type="hosttoken")
    response = admin.post(reverse("peers:change-revert", args=[change.pk]), follow=True)
    assert response.status_code == 200
    assert "Not reverted" in response.content.decode()


def test_an_invalid_register_line_kept_as_written_never_reaches_the_history_in_clear(db):
    from peers.iaxconf.parse import parse

    text = "[general]\nbindport=4569\nregister => me:Leaky-Pass-99@bad host name\n"
    services.import_document(parse(text).document, host_name="leaky", actor="test")
    change = Change.objects.get(object_type="general", host__name="leaky")
    assert "Leaky-Pass-99" not in str(change.after)
    assert {"name": "register", "value": "me:********@bad host name", "comment": ""} in change.after[
        "options"
    ]
