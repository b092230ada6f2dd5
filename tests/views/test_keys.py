"""The keys pages (peers/views/keys.py): the list with fingerprints and usage, generate, upload,
download and delete."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from peers.models import Key

pytestmark = pytest.mark.django_db


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
