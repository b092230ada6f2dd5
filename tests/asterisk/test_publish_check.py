"""The publish page offers the check in real Asterisk when the server has an Asterisk binary, and
shows its result (peers.asterisk.hostcheck through peers/views/history.py host_publish)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from peers.demo import seed_demo
from peers.iaxconf import Entry
from peers.models import Revision
from tests.conftest import store_general

pytestmark = pytest.mark.django_db


@pytest.fixture
def publisher(client, admin_user):
    client.force_login(admin_user)
    return client


def test_the_check_is_offered_and_shows_asterisks_answer(publisher, asterisk_bin, monkeypatch):
    monkeypatch.setenv("ASTERISK_BIN", str(asterisk_bin))
    seed_demo()
    url = reverse("peers:host-publish", args=["demo"])
    page = publisher.get(url).content.decode()
    assert '<input type="hidden" name="action" value="check">' in page
    response = publisher.post(url, {"action": "check"})
    html = response.content.decode()
    assert response.status_code == 200
    result = html.split('id="asterisk-check-result"')[1].split("</section>")[0]
    assert "<strong>Clean:</strong>" in result and "checked in Asterisk 22.10.1" in result
    assert "<tr><td>alice</td><td>yes</td><td>yes</td><td></td></tr>" in result
    assert "needs its passphrase: run &#x27;keys init&#x27; on the Asterisk host" in result
    assert "Unable to lookup &#x27;iax.example.net&#x27;" in result.split("Set aside")[1]
    assert "Vq8-mU2x!rT4pz" not in html
    assert not Revision.objects.exists()  # checking publishes nothing


def test_a_complaint_is_shown_as_such(publisher, asterisk_bin, monkeypatch):
    monkeypatch.setenv("ASTERISK_BIN", str(asterisk_bin))
    host = seed_demo()
    store_general(host, [Entry("bandwidth", "huge")])  # as an import keeps it
    html = publisher.post(reverse("peers:host-publish", args=["demo"]), {"action": "check"}).content.decode()
    result = html.split('id="asterisk-check-result"')[1]
    assert "<strong>Asterisk complained:</strong>" in result
    assert "WARNING chan_iax2.c: bandwidth must be either low, medium, or high" in result


def test_without_asterisk_there_is_no_button_and_no_build(publisher, monkeypatch, tmp_path):
    monkeypatch.delenv("ASTERISK_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    seed_demo()
    url = reverse("peers:host-publish", args=["demo"])
    page = publisher.get(url).content.decode()
    assert 'name="action" value="check"' not in page
    assert "This server has no Asterisk binary" in page
    html = publisher.post(url, {"action": "check"}).content.decode()
    assert "<strong>No check in Asterisk:</strong> no Asterisk binary found" in html
