"""View tests for [general], registrations, call-number limits, keys, import and findings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from peers import services
from peers.demo import seed_demo
from peers.models import CallNumberLimit, Endpoint, GeneralOption, Host, Key, Registration
from peers.security.roles import set_role
from tests.conftest import messages_of, section, store

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"


@pytest.fixture
def ann(client, django_user_model):
    user = django_user_model.objects.create_user("ann", password="pw-for-tests-only")
    set_role(user, "admin")  # every page and action (tests/test_roles.py covers the roles)
    client.force_login(user)
    return client


@pytest.fixture
def demo(db):
    return seed_demo()


# -- [general] --------------------------------------------------------------------------------------


def _general_data(**overrides):
    data = {"comment": " Demo PBX", "bindport": "4569", "bindaddr": "0.0.0.0", "bandwidth": "high",
            "allow": "disallow=all\nallow=g722\nallow=ulaw", "tos": "ef", "other_lines": ""}  # fmt: skip
    data.update(overrides)
    return data


def test_general_form_shows_the_stored_values_without_register_lines(ann, demo):
    response = ann.get(reverse("peers:general-edit", args=["demo"]))
    form = response.context["form"]
    assert form["allow"].value() == "disallow=all\nallow=g722\nallow=ulaw\nallow=alaw"
    assert "register" not in form.fields
    assert "register" not in response.context["preview"]


def test_general_save_replaces_the_lines(ann, demo):
    response = ann.post(reverse("peers:general-edit", args=["demo"]), _general_data())
    assert response.status_code == 302
    names = list(GeneralOption.objects.filter(general__host=demo).values_list("name", "value"))
    assert ("tos", "ef") in names and ("maxcallnumbers", "512") not in names
    assert [v for n, v in names if n in ("allow", "disallow")] == ["all", "g722", "ulaw"]
    assert demo.registrations.count() == 2  # untouched


def test_general_bad_tos_is_refused_at_the_field(ann, demo):
    response = ann.post(reverse("peers:general-edit", args=["demo"]), _general_data(tos="lowdelay"))
    assert response.status_code == 200
    assert 'id="row-tos" class="field has-error' in response.content.decode()


def test_general_cross_field_error_refuses_the_save(ann, demo):
    data = _general_data(minregexpire="600", maxregexpire="60")
    response = ann.post(reverse("peers:general-edit", args=["demo"]), data)
    assert response.status_code == 200
    assert "minregexpire=600 is larger than maxregexpire=60" in response.content.decode()


def test_general_validate_fragment(ann, demo):
    url = reverse("peers:general-validate", args=["demo"]) + "?field=tos"
    response = ann.post(url, _general_data(tos="lowdelay"), headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "pre-DSCP name" in messages_of(html, "tos")


def test_general_preview_fragment(ann, demo):
    response = ann.post(reverse("peers:general-preview", args=["demo"]), _general_data(), headers=HX)
    html = response.content.decode()
    assert "<html" not in html and "[general]\nbindport=4569\nbindaddr=0.0.0.0\ntos=ef" in html


# -- registrations and limits -------------------------------------------------------------------------


def test_add_registration_with_a_secret(ann, demo):
    data = {
        "username": "me",
        "secret": "Reg-secret-77x",
        "remote_host": "iax.example.org",
        "remote_port": "4569",
    }
    response = ann.post(reverse("peers:registration-list", args=["demo"]), data)
    assert response.status_code == 302
    assert demo.registrations.get(username="me").line() == "me:Reg-secret-77x@iax.example.org:4569"


def test_registration_bad_host_is_flagged_at_the_field(ann, demo):
    data = {"username": "me", "remote_host": "[2001:db8::1]"}
    response = ann.post(reverse("peers:registration-list", args=["demo"]), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="row-remote_host" class="field has-error' in html


def test_registration_inline_check_fragment(ann, demo):
    url = reverse("peers:row-validate", args=["registration"]) + "?field=username"
    response = ann.post(url, {"username": "a b", "remote_host": "example.org"}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "needs a user name" in messages_of(html, "username")


def test_registration_edit_keeps_the_secret_when_blank_and_never_shows_it(ann, demo):
    registration = demo.registrations.get(username="branch-backup")
    url = reverse("peers:registration-edit", args=["demo", registration.pk])
    assert "Rg7-tw2PqLx9" not in ann.get(url).content.decode()
    data = {"username": "branch-backup", "remote_host": "198.51.100.21", "remote_port": "4569"}
    assert ann.post(url, data).status_code == 302
    registration.refresh_from_db()
    assert registration.line() == "branch-backup:Rg7-tw2PqLx9@198.51.100.21:4569"


def test_registration_with_a_key_and_delete(ann, demo):
    data = {"username": "k", "key": "demo-pbx", "remote_host": "example.org"}
    ann.post(reverse("peers:registration-list", args=["demo"]), data)
    registration = demo.registrations.get(username="k")
    assert registration.line() == "k:[demo-pbx]@example.org"
    ann.post(reverse("peers:registration-delete", args=["demo", registration.pk]))
    assert not Registration.objects.filter(pk=registration.pk).exists()


def test_limits_add_edit_delete(ann, demo):
    url = reverse("peers:limit-list", args=["demo"])
    assert ann.post(url, {"network": "10.0.0.0/8", "limit": "5"}).status_code == 302
    limit = CallNumberLimit.objects.get(host=demo, network="10.0.0.0/8")
    edit = reverse("peers:limit-edit", args=["demo", limit.pk])
    assert ann.post(edit, {"network": "10.0.0.0/16", "limit": "6"}).status_code == 302
    limit.refresh_from_db()
    assert (limit.network, limit.limit) == ("10.0.0.0/16", 6)
    ann.post(reverse("peers:limit-delete", args=["demo", limit.pk]))
    assert not CallNumberLimit.objects.filter(pk=limit.pk).exists()


def test_limit_bad_network_is_flagged(ann, demo):
    response = ann.post(reverse("peers:limit-list", args=["demo"]), {"network": "10.0.0.0/33", "limit": "5"})
    assert 'id="row-network" class="field has-error' in response.content.decode()
    url = reverse("peers:row-validate", args=["limit"]) + "?field=network"
    html = ann.post(url, {"network": "nope", "limit": "1"}, headers=HX).content.decode()
    assert "does not start with an IP address" in messages_of(html, "network")


# -- keys ---------------------------------------------------------------------------------------------


def test_key_list_shows_fingerprint_and_usage(ann, demo):
    response = ann.get(reverse("peers:key-list"))
    html = response.content.decode()
    key = Key.objects.get(name="demo-pbx")
    assert key.fingerprint in html
    assert "outkey: " in html and "demo/provider" in html
    assert "register: demo/" in html
    assert "PRIVATE KEY" not in html


def test_generate_key_with_a_passphrase(ann, db):
    data = {"name": "k1", "passphrase": "long enough", "passphrase2": "long enough"}
    response = ann.post(reverse("peers:key-generate"), data)
    assert response.status_code == 302
    key = Key.objects.get(name="k1")
    assert key.private_encrypted and key.bits == 1024 and "ENCRYPTED" in key.private_pem


def test_generate_key_needs_a_passphrase_or_the_deliberate_choice(ann, db):
    response = ann.post(reverse("peers:key-generate"), {"name": "k1"})
    assert response.status_code == 200
    assert "tick &#x27;without a passphrase&#x27;" in response.content.decode()
    assert ann.post(reverse("peers:key-generate"), {"name": "k1", "no_passphrase": "on"}).status_code == 302
    assert not Key.objects.get(name="k1").private_encrypted


def test_upload_key_checks_the_files(ann, db, key_material):
    upload = reverse("peers:key-upload")
    bad = ann.post(upload, {"name": "up", "public_file": SimpleUploadedFile("up.pub", b"junk")})
    assert 'id="row-public_file" class="field has-error' in bad.content.decode()
    good = ann.post(
        upload,
        {
            "name": "up",
            "public_file": SimpleUploadedFile("up.pub", key_material.public_pem.encode()),
            "private_file": SimpleUploadedFile("up.key", key_material.private_pem.encode()),
        },
    )
    assert good.status_code == 302
    key = Key.objects.get(name="up")
    assert key.has_private and key.fingerprint == key_material.fingerprint


def test_upload_fills_a_placeholder_key(ann, db, key_material):
    Key.objects.create(name="ph", public_pem="", bits=1024)
    response = ann.post(
        reverse("peers:key-upload"),
        {"name": "ph", "public_file": SimpleUploadedFile("ph.pub", key_material.public_pem.encode())},
    )
    assert response.status_code == 302
    assert Key.objects.get(name="ph").public_pem == key_material.public_pem


def test_download_public_key(ann, demo):
    response = ann.get(reverse("peers:key-download", args=["hq"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response["Content-Disposition"] == 'attachment; filename="hq.pub"'
    assert response.content.decode().startswith("-----BEGIN PUBLIC KEY-----")


def test_key_download_and_delete_need_login(client, demo):
    assert client.get(reverse("peers:key-download", args=["hq"])).status_code == 302
    assert client.post(reverse("peers:key-delete", args=["hq"])).status_code == 302
    assert Key.objects.filter(name="hq").exists()


def test_delete_unused_key_and_refuse_a_used_one(ann, demo, make_key):
    make_key("spare")
    ann.post(reverse("peers:key-delete", args=["spare"]))
    assert not Key.objects.filter(name="spare").exists()
    ann.post(reverse("peers:key-delete", args=["demo-pbx"]))
    assert Key.objects.filter(name="demo-pbx").exists()


# -- import -------------------------------------------------------------------------------------------


def _upload(name: str, content: bytes | None = None):
    data = content if content is not None else (CORPUS / name).read_bytes()
    return SimpleUploadedFile(name, data, content_type="text/plain")


def test_import_dry_run_writes_nothing_then_confirm_imports(ann, db):
    url = reverse("peers:import")
    response = ann.post(url, {"host": "yukari", "conf": _upload("03_YukariChiba_asterisk-config.conf")})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Dry run for host yukari" in html
    assert "03_YukariChiba_asterisk-config.conf:10" in html  # findings with their line numbers
    assert not Host.objects.filter(name="yukari").exists()
    upload = response.context["upload"]  # staged on the server: the form carries only its id
    assert f'name="upload" value="{upload.pk}"' in html and "payload" not in html
    confirm = ann.post(reverse("peers:import-confirm"), {"upload": upload.pk})
    assert confirm.status_code == 302
    assert confirm["Location"] == reverse("peers:host-detail", args=["yukari"])
    assert set(Endpoint.objects.filter(host__name="yukari").values_list("name", flat=True)) == {
        "fax1",
        "fax2",
    }


def test_import_follows_uploaded_includes(ann, db):
    main = b'[general]\nbindport=4569\n#include "peers.conf"\n'
    included = b"[p1]\ntype=peer\nhost=192.0.2.1\n"
    response = ann.post(
        reverse("peers:import"),
        {"host": "inc", "conf": _upload("iax.conf", main), "includes": [_upload("peers.conf", included)]},
    )
    report = response.context["report"]
    assert report.created["endpoint"] == 1
    ann.post(reverse("peers:import-confirm"), {"upload": response.context["upload"].pk})
    assert Endpoint.objects.get(host__name="inc").name == "p1"


def test_import_into_an_existing_host_needs_replace(ann, demo):
    conf = _upload("iax.conf", b"[general]\nbindport=4569\n")
    response = ann.post(reverse("peers:import"), {"host": "demo", "conf": conf})
    assert "already exists" in response.content.decode()
    assert response.context["report"] is None
    conf = _upload("iax.conf", b"[general]\nbindport=4569\n")
    response = ann.post(reverse("peers:import"), {"host": "demo", "conf": conf, "replace": "on"})
    assert sum(response.context["report"].deleted.values()) >= 7


def test_import_names_a_missing_include_without_the_temporary_path(ann, db):
    response = ann.post(
        reverse("peers:import"), {"host": "m", "conf": _upload("01_paulseward_asterisk-minimal.conf")}
    )
    html = response.content.decode()
    assert "01_paulseward_asterisk-minimal.conf:19" in html and "local/iax.conf" in html
    assert "/tmp/" not in html


def test_import_syntax_error_is_reported_with_its_line(ann, db):
    response = ann.post(
        reverse("peers:import"), {"host": "bad", "conf": _upload("x.conf", b"[general\nfoo=bar\n")}
    )
    html = response.content.decode()
    assert "nothing was written" in html and "x.conf:1" in html
    assert not Host.objects.filter(name="bad").exists()


def test_import_confirm_refuses_an_unknown_upload(ann, db):
    for upload in ("nope", "00000000-0000-0000-0000-000000000000", ""):
        response = ann.post(reverse("peers:import-confirm"), {"upload": upload})
        assert response.status_code == 302 and response["Location"] == reverse("peers:import")


# -- findings -----------------------------------------------------------------------------------------


def test_findings_link_to_the_field_that_causes_them(ann, demo):
    broken = store(demo, section("broken", "type=user\nauth=md5\npermit=192.0.2.1"))
    response = ann.get(reverse("peers:host-findings", args=["demo"]))
    html = response.content.decode()
    edit = reverse("peers:endpoint-edit", args=["demo", broken.pk])
    assert f'href="{edit}#row-auth"' in html
    assert response.context["counts"]["errors"] == 1


def test_edit_page_shows_the_stored_findings_at_their_field(ann, demo):
    broken = store(demo, section("broken", "type=user\nauth=md5\npermit=192.0.2.1"))
    html = ann.get(reverse("peers:endpoint-edit", args=["demo", broken.pk])).content.decode()
    row = html.split('id="row-auth"')[1].split('id="row-')[0]
    assert "error: auth=md5 needs a secret (or dbsecret)" in row


# Agent tokens and deployment status (issue 6) ----------------------------------------------------


def test_an_admin_creates_a_host_token_shown_once_and_audited(client, django_user_model):
    from peers.demo import seed_demo
    from peers.models import Change, HostToken
    from peers.security import tokens
    from peers.security.roles import set_role

    host = seed_demo()
    admin = django_user_model.objects.create_user("root2", password="pw-for-tests-only")
    set_role(admin, "admin")
    client.force_login(admin)
    response = client.post(f"/hosts/{host.name}/tokens/", {"name": "pbx-agent"})
    html = response.content.decode()
    row = HostToken.objects.get(host=host)
    token = re.search(rf"iaxh_{row.prefix}_[A-Za-z0-9_-]{{20,}}", html).group(0)
    assert "no-store" in response["Cache-Control"]
    assert tokens.verify(token, tokens.HOST_KIND).pk == row.pk  # the token shown is the real one
    change = Change.objects.get(object_type="hosttoken")
    assert (change.after["name"], change.after["prefix"], change.action) == (
        "pbx-agent",
        row.prefix,
        "create",
    )
    assert row.hash not in html
    again = client.get(f"/hosts/{host.name}/tokens/").content.decode()
    assert f"iaxh_{row.prefix}_…" in again and token not in again


def test_revoking_a_host_token_turns_its_export_into_401(client, django_user_model):
    from peers.demo import seed_demo
    from peers.security.roles import set_role
    from peers.services import publish

    host = seed_demo()
    publish(host, message="first", actor="test")
    row, token = services.create_host_token(host, "agent", actor="test")
    admin = django_user_model.objects.create_user("root3", password="pw-for-tests-only")
    set_role(admin, "admin")
    client.force_login(admin)
    assert (
        client.get(f"/api/v1/hosts/{host.name}/iax.conf", HTTP_AUTHORIZATION=f"Bearer {token}").status_code
        == 200
    )
    client.post(f"/hosts/{host.name}/tokens/{row.pk}/revoke/")
    assert (
        client.get(f"/api/v1/hosts/{host.name}/iax.conf", HTTP_AUTHORIZATION=f"Bearer {token}").status_code
        == 401
    )


def test_host_page_shows_the_deployment_status(client, django_user_model):
    from peers.demo import seed_demo
    from peers.models import Deployment
    from peers.security.roles import set_role
    from peers.services import publish

    host = seed_demo()
    first = publish(host, message="first", actor="test")
    Deployment.objects.create(
        host=host, revision=first, revision_number=first.number, sha256=first.sha256, ok=True,
        registry="Host  dnsmgr  Username  Perceived  Refresh  State\n"
        "203.0.113.5:4569  Y  demo-pbx  <Unregistered>  60  Rejected\n1 IAX2 registrations.\n",
    )  # fmt: skip
    viewer = django_user_model.objects.create_user("watcher", password="pw-for-tests-only")
    set_role(viewer, "viewer")
    client.force_login(viewer)
    html = client.get(f"/hosts/{host.name}/").content.decode()
    assert "· up to date" in html
    assert "demo-pbx@203.0.113.5:4569: Rejected" in html


def test_an_oversized_upload_is_refused_with_its_size_and_the_limit(ann, db, monkeypatch):
    from peers.forms import ImportForm

    monkeypatch.setattr(ImportForm, "MAX_FILE", 1024)  # the real limit is 8 MB; the rule is the same
    big = _upload("huge.conf", b"[general]\n" + b"; padding\n" * 200)
    response = ann.post(reverse("peers:import"), {"host": "big", "conf": big})
    html = response.content.decode()
    assert response.status_code == 200
    assert "huge.conf is 2 KB; an uploaded file may be at most 1 KB" in html
    assert not Host.objects.filter(name="big").exists()


def test_a_non_utf8_upload_is_read_and_reported_not_crashed(ann, db):
    latin1 = "[general]\n; Büro München\nbindport=4569\n".encode("latin-1")
    response = ann.post(reverse("peers:import"), {"host": "latin", "conf": _upload("iax.conf", latin1)})
    assert response.status_code == 200
    assert response.context["report"] is not None


# -- deletes ask first -------------------------------------------------------------------------------


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
    list_html = ann.get({"registration": reverse("peers:registration-list", args=["demo"]),
                         "limit": reverse("peers:limit-list", args=["demo"]),
                         "key": reverse("peers:key-list")}[kind]).content.decode()  # fmt: skip
    assert f'<a href="{url}">delete</a>' in list_html  # a link to the question, not a one-click POST
    page = ann.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and title in html and 'class="danger">Delete</button>' in html
    assert model.objects.filter(pk=obj.pk).exists()  # asking deletes nothing
    assert ann.post(url).status_code == 302
    assert not model.objects.filter(pk=obj.pk).exists()


def test_limit_form_gives_every_error_at_once_and_names_the_value_once(ann, demo):
    response = ann.post(
        reverse("peers:limit-list", args=["demo"]), {"network": "10.0.0.0/33", "limit": "abc"}
    )
    errors = response.context["form"].errors
    assert errors["network"] == [
        "'10.0.0.0/33' has a prefix length over 32; a [callnumberlimits] line is address[/mask] = limit"
    ]
    assert "is not a whole number" in errors["limit"][0]  # the same round, from the same policy


def test_a_get_on_a_post_only_url_is_a_real_405_page(ann, demo):
    response = ann.get(reverse("peers:endpoint-validate", args=["demo", "friend"]))
    html = response.content.decode()
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert "This address does not answer a GET" in html and "Log out" in html


def test_host_page_counts_in_the_singular_and_the_plural(ann, demo):
    html = ann.get(reverse("peers:host-detail", args=["demo"])).content.decode()
    assert "<strong>1</strong> user</a>" in html and "<strong>2</strong> friends</a>" in html
    assert "1 users" not in html.replace("<strong>", "").replace("</strong>", "")
