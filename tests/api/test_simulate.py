"""The simulator and the dialplan's contexts in the JSON API (peers/api/simulate.py): a simulation
is a read that a viewer's token may make and that writes nothing; dialplan writes are an editor's
and are audited."""

from __future__ import annotations

import json

import pytest

from peers import services
from peers.demo import seed_demo
from peers.models import Change, DialplanContexts, Endpoint

pytestmark = pytest.mark.django_db

ALICE = "Vq8-mU2x!rT4pz"


@pytest.fixture
def demo(db):
    return seed_demo(dialplan=True)


def _token(django_user_model, role: str) -> str:
    from peers.security.roles import set_role

    user = django_user_model.objects.create_user(f"{role}-user")
    set_role(user, role)
    return services.create_user_token(user, f"{role}-script", actor="test")[1]


def call(client, token, method, path, body=None):
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    response = getattr(client, method)(f"/api/v1{path}", **kwargs)
    assert ALICE not in response.content.decode()
    return response


def test_a_viewer_simulates_a_call_and_nothing_is_written(client, demo, django_user_model):
    token = _token(django_user_model, "viewer")
    before = Change.objects.count()
    response = call(
        client,
        token,
        "post",
        "/hosts/demo/simulate/call",
        {"address": "203.0.113.50", "username": "alice", "secret": ALICE},
    )
    assert response.status_code == 200
    data = response.json()
    assert (data["host"], data["outcome"], data["cause"]) == ("demo", "rejected", "No authority found")
    alice = Endpoint.objects.get(host=demo, name="alice")
    assert data["fix"]["directive"] == "permit"
    assert data["fix_url"] == f"/hosts/demo/endpoints/{alice.pk}/#row-permit"
    assert data["log"] == "WARNING chan_iax2.c: Host 203.0.113.50:4569 failed to authenticate as alice"
    assert Change.objects.count() == before


def test_a_registration_through_the_api(client, demo, django_user_model):
    token = _token(django_user_model, "viewer")
    response = call(
        client,
        token,
        "post",
        "/hosts/demo/simulate/registration",
        {"peer": "branch", "address": "198.51.100.20:4570", "secret": "Br4nch-7yHq2mZ"},
    )
    data = response.json()
    assert data["outcome"] == "accepted" and data["peer_row"]["port"] == "4570" and data["fix_url"] is None


@pytest.mark.parametrize(
    "body,status,detail",
    [
        ({"address": "not-an-ip"}, 400, "address 'not-an-ip': is not an IP address"),
        ({"address": "192.0.2.1", "codecs": ["mp3"]}, 400, "codecs 'mp3'"),
        (
            {"address": "192.0.2.1", "auth": ["md5", "kerberos"]},
            400,
            "'kerberos' is not md5, plaintext or rsa",
        ),
    ],
)
def test_bad_parameters_are_400_naming_them(client, demo, django_user_model, body, status, detail):
    response = call(client, _token(django_user_model, "viewer"), "post", "/hosts/demo/simulate/call", body)
    assert response.status_code == status and detail in response.json()["detail"]


def test_tokens_and_hosts(client, demo, django_user_model):
    body = {"address": "192.0.2.1"}
    assert call(client, None, "post", "/hosts/demo/simulate/call", body).status_code == 401
    host_token = services.create_host_token(demo, "agent", actor="test")[1]
    assert call(client, host_token, "post", "/hosts/demo/simulate/call", body).status_code == 403
    viewer = _token(django_user_model, "viewer")
    missing = call(client, viewer, "post", "/hosts/nope/simulate/call", body)
    assert missing.status_code == 404 and missing.json()["detail"] == "no host named 'nope'"


def test_dialplan_contexts_read_by_a_viewer_written_by_an_editor(client, demo, django_user_model):
    viewer, editor = _token(django_user_model, "viewer"), _token(django_user_model, "editor")
    shown = call(client, viewer, "get", "/hosts/demo/dialplan").json()
    assert shown["contexts"] == ["default", "from-office", "from-branch", "from-hq", "inbound"]
    assert shown["source"] == "upload" and shown["version"] > 0
    assert call(client, viewer, "put", "/hosts/demo/dialplan", {"contexts": ["x"]}).status_code == 403
    stale = call(
        client, editor, "put", "/hosts/demo/dialplan", {"contexts": ["x"], "version": shown["version"] - 1}
    )
    assert stale.status_code == 409
    saved = call(client, editor, "put", "/hosts/demo/dialplan", {"contexts": ["default", "from-office"]})
    assert saved.status_code == 200 and saved.json()["source"] == "api"
    change = Change.objects.filter(object_type="dialplan").order_by("-id").first()
    assert (change.action, change.actor_name, change.message) == (
        "update",
        "api:editor-script",
        "dialplan contexts via the API",
    )
    bad = call(client, editor, "put", "/hosts/demo/dialplan", {"contexts": ["two words"]})
    assert bad.status_code == 400 and bad.json()["findings"][0]["code"] == "invalid-dialplan"
    assert call(client, editor, "delete", "/hosts/demo/dialplan").status_code == 204
    assert not DialplanContexts.objects.filter(host=demo).exists()
    assert call(client, viewer, "get", "/hosts/demo/dialplan").status_code == 404
    assert call(client, editor, "delete", "/hosts/demo/dialplan").status_code == 404


def test_the_operations_are_described(client, demo, django_user_model):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert {"post"} <= set(paths["/api/v1/hosts/{name}/simulate/call"])
    assert {"get", "put", "delete"} <= set(paths["/api/v1/hosts/{name}/dialplan"])
