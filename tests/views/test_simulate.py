"""The simulator's pages and the dialplan page: a viewer tests calls and registrations (POST, CSRF,
nothing written, the secret never echoed), the answer links the fix to its field; an editor
uploads extensions.conf."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from peers.demo import seed_demo
from peers.models import Change, DialplanContexts, Endpoint
from peers.security.roles import set_role

pytestmark = pytest.mark.django_db

ALICE = "Vq8-mU2x!rT4pz"


@pytest.fixture
def demo(db):
    return seed_demo(dialplan=True)


def _client(django_user_model, role: str, *, csrf: bool = False) -> Client:
    user = django_user_model.objects.create_user(f"{role}-person", password="pw-for-tests-only")
    set_role(user, role)
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def test_a_viewer_tests_a_rejected_call_and_gets_the_fix_as_a_link(demo, django_user_model):
    viewer = _client(django_user_model, "viewer")
    url = reverse("peers:simulate-call", args=["demo"])
    page = viewer.get(url).content.decode()
    assert 'name="address"' in page and 'aria-current="page"' in page and "Test a call" in page
    before = Change.objects.count()
    response = viewer.post(
        url, {"address": "203.0.113.50", "username": "alice", "secret": ALICE, "calltoken": "on"}
    )
    text = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "<strong>REJECTED</strong> · cause “No authority found”" in text
    alice = Endpoint.objects.get(host=demo, name="alice")
    assert f'href="/hosts/demo/endpoints/{alice.pk}/#row-permit"' in text
    assert "WARNING chan_iax2.c: Host 203.0.113.50:4569 failed to authenticate as alice" in text
    assert "only with authdebug=yes" in text  # the demo does not set authdebug
    assert ALICE not in text
    assert Change.objects.count() == before


def test_htmx_swaps_the_workspace_only(demo, django_user_model):
    viewer = _client(django_user_model, "viewer")
    response = viewer.post(
        reverse("peers:simulate-call", args=["demo"]),
        {"address": "192.168.10.5", "username": "alice", "secret": ALICE, "calltoken": "on", "exten": "201"},
        HTTP_HX_REQUEST="true",
    )
    text = response.content.decode()
    assert text.lstrip().startswith('<div class="sim" id="workspace">') and "<html" not in text
    assert "<strong>ACCEPTED</strong>" in text and "<code>201@from-office</code>" in text


def test_a_parameter_the_simulator_cannot_use_is_an_error_at_its_field(demo, django_user_model):
    viewer = _client(django_user_model, "viewer")
    text = viewer.post(
        reverse("peers:simulate-call", args=["demo"]), {"address": "pbx.example.net"}
    ).content.decode()
    assert 'id="row-address" class="field has-error"' in text
    assert "&#x27;pbx.example.net&#x27; is not an IP address" in text
    text = viewer.post(
        reverse("peers:simulate-call", args=["demo"]), {"address": "192.0.2.1", "secret": "x", "key": "hq"}
    ).content.decode()
    assert "give a secret or a key, not both" in text


def test_the_forms_need_the_csrf_token(demo, django_user_model):
    viewer = _client(django_user_model, "viewer", csrf=True)
    assert (
        viewer.post(reverse("peers:simulate-call", args=["demo"]), {"address": "192.0.2.1"}).status_code
        == 403
    )


def test_a_registration_page(demo, django_user_model):
    viewer = _client(django_user_model, "viewer")
    url = reverse("peers:simulate-registration", args=["demo"])
    assert 'value="branch"' in viewer.get(url + "?peer=branch").content.decode()
    text = viewer.post(
        url, {"peer": "branch", "address": "198.51.100.20", "secret": "Br4nch-7yHq2mZ", "calltoken": "on"}
    ).content.decode()
    assert "<strong>ACCEPTED</strong>" in text and "iax2 show peers then shows" in text
    assert "Br4nch-7yHq2mZ" not in text


def test_the_dialplan_page_for_viewers_and_editors(demo, django_user_model):
    url = reverse("peers:dialplan", args=["demo"])
    viewer = _client(django_user_model, "viewer")
    page = viewer.get(url).content.decode()
    assert "<code>from-office</code>" in page and "Upload extensions.conf" not in page
    assert "Every context= line names a context of this dialplan." in page
    editor = _client(django_user_model, "editor")
    main = SimpleUploadedFile("extensions.conf", b'[from-office]\n#include "more.conf"\n')
    more = SimpleUploadedFile("more.conf", b"[from-hq]\nexten => 1,1,Echo()\n")
    response = editor.post(url, {"action": "upload", "extensions": main, "includes": [more]})
    assert response.status_code == 302
    assert DialplanContexts.objects.get(host=demo).contexts == ["from-office", "from-hq"]
    change = Change.objects.filter(object_type="dialplan").order_by("-id").first()
    assert (
        change.message == "extensions.conf uploaded in the browser" and change.actor_name == "editor-person"
    )
    page = editor.get(url).content.decode()
    assert "context=from-branch is the context of calls placed through this peer" in page
    branch = Endpoint.objects.get(host=demo, name="branch")
    assert f'href="/hosts/demo/endpoints/{branch.pk}/#row-context"' in page
    broken = SimpleUploadedFile("extensions.conf", b"[a]\n[broken\n")
    text = editor.post(url, {"action": "upload", "extensions": broken}).content.decode()
    assert "extensions.conf, line 2" in text
    assert editor.post(url, {"action": "forget"}).status_code == 302
    assert not DialplanContexts.objects.filter(host=demo).exists()
    assert viewer.post(url, {"action": "forget"}).status_code == 403


def test_a_peers_page_shows_its_dial_strings_without_secrets(demo, django_user_model):
    editor = _client(django_user_model, "editor")
    alice = Endpoint.objects.get(host=demo, name="alice")
    page = editor.get(reverse("peers:endpoint-edit", args=["demo", alice.pk])).content.decode()
    assert "<code>Dial(IAX2/alice/${EXTEN})</code>" in page
    assert "<code>register =&gt; alice:&lt;secret&gt;@&lt;address of demo&gt;</code>" in page
    assert "landing in context &#x27;from-office&#x27;" in page  # inherited from the office-phone template
    assert ALICE not in page
    provider = Endpoint.objects.get(host=demo, name="provider")
    page = editor.get(reverse("peers:endpoint-edit", args=["demo", provider.pk])).content.decode()
    assert "<code>Dial(IAX2/demo-pbx:[demo-pbx]@203.0.113.10/${EXTEN}@&lt;context&gt;)</code>" in page
    template = Endpoint.objects.get(host=demo, name="office-phone")
    assert (
        'id="dial-strings"'
        not in editor.get(reverse("peers:endpoint-edit", args=["demo", template.pk])).content.decode()
    )
