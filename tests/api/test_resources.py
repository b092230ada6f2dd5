"""The JSON API (peers.api): user tokens, CRUD, validation with findings, audit, write-only secrets."""

from __future__ import annotations

import json

import pytest

from peers import services
from peers.demo import seed_demo
from peers.models import CallNumberLimit, Change, Endpoint, Host, Key, Registration
from peers.security import tokens
from peers.security.roles import set_role

pytestmark = pytest.mark.django_db

SECRET = "Xy7-secret-Value-42"


@pytest.fixture
def user_token(django_user_model):
    user = django_user_model.objects.create_user("ops")
    set_role(user, "admin")  # the token acts with its user's role
    row, token = services.create_user_token(user, "deploy-script", actor="test")
    return token


@pytest.fixture
def api(client, user_token):
    class Api:
        def __init__(self):
            self.headers = {"HTTP_AUTHORIZATION": f"Bearer {user_token}"}

        def _call(self, method, path, body=None):
            kwargs = dict(self.headers)
            if body is not None:
                kwargs.update(data=json.dumps(body), content_type="application/json")
            response = getattr(client, method)(f"/api/v1{path}", **kwargs)
            text = response.content.decode()
            assert SECRET not in text
            return response

        def get(self, path):
            return self._call("get", path)

        def post(self, path, body):
            return self._call("post", path, body)

        def put(self, path, body):
            return self._call("put", path, body)

        def delete(self, path):
            return self._call("delete", path)

    return Api()


@pytest.fixture
def demo(db) -> Host:
    return seed_demo()


def test_user_tokens_only(client, demo, user_token, django_user_model):
    assert client.get("/api/v1/hosts").status_code == 401
    assert client.get("/api/v1/hosts", HTTP_AUTHORIZATION="Bearer iaxu_000000000000_nope").status_code == 401
    _, host_token = services.create_host_token(demo, actor="test")
    response = client.get("/api/v1/hosts", HTTP_AUTHORIZATION=f"Bearer {host_token}")
    assert response.status_code == 403 and "user token" in response.json()["detail"]
    row = tokens.verify(user_token, "iaxu")
    services.revoke_token(row.prefix, actor="test")
    assert client.get("/api/v1/hosts", HTTP_AUTHORIZATION=f"Bearer {user_token}").status_code == 401
    _, other = services.create_user_token(
        django_user_model.objects.create_user("gone", is_active=False), actor="test"
    )
    assert client.get("/api/v1/hosts", HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 401


def test_openapi_and_docs_are_served_without_the_internet(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "iaxadmin API"
    assert "/api/v1/hosts/{name}/endpoints/{section}" in schema["paths"]
    page = client.get("/api/v1/docs").content.decode()
    assert "/api/v1/hosts/{name}/registrations" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_hosts_crud_and_audit(api):
    response = api.post("/hosts", {"name": "pbx9", "description": "new"})
    assert response.status_code == 201 and response.json()["name"] == "pbx9"
    assert api.post("/hosts", {"name": "pbx9"}).status_code == 409
    bad = api.post("/hosts", {"name": "no spaces"})
    assert bad.status_code == 400 and bad.json()["findings"][0]["part"] == "name"
    assert api.put("/hosts/pbx9", {"description": "changed"}).json()["description"] == "changed"
    assert [h["name"] for h in api.get("/hosts").json()] == ["pbx9"]
    assert api.get("/hosts/nope").status_code == 404
    change = Change.objects.filter(object_type="host").first()
    assert change.actor_name == "api:deploy-script" and change.actor.username == "ops"


def test_general_roundtrip_and_refusal(api, demo):
    current = api.get(f"/hosts/{demo.name}/general").json()
    assert current["options"]
    response = api.put(
        f"/hosts/{demo.name}/general", {"comment": "", "options": [{"name": "bindport", "value": "4570"}]}
    )
    assert response.status_code == 200
    assert response.json()["options"] == [{"name": "bindport", "value": "4570"}]
    bad = api.put(f"/hosts/{demo.name}/general", {"options": [{"name": "bindport", "value": "seventy"}]})
    assert bad.status_code == 400
    (finding,) = bad.json()["findings"]
    assert (finding["section"], finding["directive"], finding["value"]) == ("general", "bindport", "seventy")
    assert finding["severity"] == "error" and finding["message"]
    assert api.get(f"/hosts/{demo.name}/general").json()["options"] == [{"name": "bindport", "value": "4570"}]
    assert (
        api.put(
            f"/hosts/{demo.name}/general", {"options": [{"name": "register", "value": "a@b"}]}
        ).status_code
        == 400
    )


def test_endpoint_crud_secrets_are_write_only(api, demo):
    body = {
        "name": "carol",
        "kind": "friend",
        "entries": [
            {"name": "host", "value": "dynamic"},
            {"name": "secret", "value": SECRET},
            {"name": "context", "value": "from-carol"},
        ],
    }
    response = api.post(f"/hosts/{demo.name}/endpoints", body)
    assert response.status_code == 201, response.content
    out = response.json()
    assert out["kind"] == "friend" and out["secret_set"] is True
    assert {"name": "context", "value": "from-carol"} in out["entries"]
    assert all(e["name"] != "secret" for e in out["entries"])
    assert Endpoint.objects.get(host=demo, name="carol").secret == SECRET
    change = Change.objects.filter(object_type="endpoint").first()
    assert change.actor_name == "api:deploy-script" and change.action == "create"
    assert SECRET not in json.dumps(change.after)

    # an update without a secret line keeps the secret; clear_secret removes it
    update = {**body, "entries": [{"name": "host", "value": "dynamic"}, {"name": "context", "value": "c2"}]}
    assert api.put(f"/hosts/{demo.name}/endpoints/carol", update).json()["secret_set"] is True
    assert Endpoint.objects.get(host=demo, name="carol").secret == SECRET
    # a host=dynamic friend without a secret would accept anyone's registration (open-registration,
    # an error): the secret is cleared on a static friend
    static = {
        **update,
        "entries": [{"name": "host", "value": "192.0.2.10"}, {"name": "context", "value": "c2"}],
    }
    refused = api.put(f"/hosts/{demo.name}/endpoints/carol", {**update, "clear_secret": True})
    assert refused.status_code == 400
    assert [f["code"] for f in refused.json()["findings"]] == ["open-registration"]
    cleared = api.put(f"/hosts/{demo.name}/endpoints/carol", {**static, "clear_secret": True}).json()
    assert cleared["secret_set"] is False

    assert "carol" in [e["name"] for e in api.get(f"/hosts/{demo.name}/endpoints").json()]
    for e in api.get(f"/hosts/{demo.name}/endpoints").json():
        assert all(x["name"].lower() != "secret" for x in e["entries"])
    assert api.post(f"/hosts/{demo.name}/endpoints", body).status_code == 409
    assert api.delete(f"/hosts/{demo.name}/endpoints/carol").status_code == 204
    assert api.get(f"/hosts/{demo.name}/endpoints/carol").status_code == 404
    assert (
        Change.objects.filter(object_type="endpoint", action="delete").first().actor_name
        == "api:deploy-script"
    )


def test_endpoint_validation_errors_name_field_value_and_rule(api, demo):
    before = Change.objects.count()
    body = {"name": "dave", "kind": "peer", "entries": [{"name": "port", "value": "99999"}]}
    response = api.post(f"/hosts/{demo.name}/endpoints", body)
    assert response.status_code == 400
    findings = response.json()["findings"]
    assert any(
        f["section"] == "dave" and f["directive"] == "port" and f["value"] == "99999" for f in findings
    )
    assert all(
        set(f) == {"severity", "code", "section", "directive", "value", "part", "message"} for f in findings
    )
    assert not Endpoint.objects.filter(host=demo, name="dave").exists()
    assert Change.objects.count() == before  # rolled back with the change
    assert api.post(f"/hosts/{demo.name}/endpoints", {"name": "x", "kind": "nope"}).status_code == 400
    assert api.post(f"/hosts/{demo.name}/endpoints", {"name": "x", "kind": ""}).status_code == 400
    missing = api.post(f"/hosts/{demo.name}/endpoints", {"name": "x", "kind": "peer", "bases": ["ghost"]})
    assert missing.status_code == 400
    unknown_key = api.post(
        f"/hosts/{demo.name}/endpoints",
        {"name": "x", "kind": "peer", "entries": [{"name": "outkey", "value": "nokey"}]},
    )
    assert unknown_key.status_code == 400
    assert [f["code"] for f in unknown_key.json()["findings"] if f["value"] == "nokey"] == [
        "missing-private-key"
    ]
    injected = api.post(
        f"/hosts/{demo.name}/endpoints",
        {"name": "x", "kind": "peer", "entries": [{"name": "context", "value": "a\n[evil]\ntype=friend"}]},
    )
    assert injected.status_code == 400
    assert api.post(f"/hosts/{demo.name}/endpoints", {"name": "x"}).status_code == 400
    assert api.post(f"/hosts/{demo.name}/endpoints", {"kind": "peer"}).status_code == 422


def test_templates(api, demo):
    response = api.post(
        f"/hosts/{demo.name}/templates", {"name": "base-t", "entries": [{"name": "context", "value": "t"}]}
    )
    assert response.status_code == 201 and response.json()["is_template"] is True
    names = [t["name"] for t in api.get(f"/hosts/{demo.name}/templates").json()]
    assert "base-t" in names and "base-t" not in [
        e["name"] for e in api.get(f"/hosts/{demo.name}/endpoints").json()
    ]
    child = api.post(
        f"/hosts/{demo.name}/endpoints",
        {
            "name": "kid",
            "kind": "peer",
            "bases": ["base-t"],
            "entries": [{"name": "host", "value": "dynamic"}, {"name": "secret", "value": "Kd7-q2Wx9pLm"}],
        },
    )
    assert child.status_code == 201, child.json()
    assert child.json()["bases"] == ["base-t"]
    assert api.delete(f"/hosts/{demo.name}/templates/base-t").status_code == 409
    assert api.get(f"/hosts/{demo.name}/endpoints/base-t").status_code == 404


def test_keys_public_part_only(api, demo, key_material):
    listing = api.get("/keys").json()
    assert listing and all("private_pem" not in k for k in listing)
    used = next(k for k in listing if k["used_by"])
    assert used["used_by"][0]["host"] == demo.name
    body = {"name": "new-key", "public_pem": key_material.public_pem, "private_pem": key_material.private_pem}
    response = api.post("/keys", body)
    assert response.status_code == 201
    out = response.json()
    assert out["has_private"] is True and out["fingerprint"] == key_material.fingerprint
    assert "PRIVATE" not in response.content.decode()
    assert Key.objects.get(name="new-key").private_pem == key_material.private_pem
    assert api.post("/keys", body).status_code == 409
    bad = api.post("/keys", {"name": "bad", "public_pem": "garbage"})
    assert bad.status_code == 400 and bad.json()["findings"][0]["part"] == "public_pem"
    mismatched = api.post(
        "/keys",
        {
            **body,
            "name": "other",
            "private_pem": "-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----\n",
        },
    )
    assert mismatched.status_code == 400
    assert api.post("/keys", {**body, "name": "bad name!"}).status_code == 400
    # an update without a private part keeps it
    assert api.put("/keys/new-key", {"name": "new-key", "public_pem": key_material.public_pem}).json()[
        "has_private"
    ]
    assert api.delete(f"/keys/{used['name']}").status_code == 409
    assert api.delete("/keys/new-key").status_code == 204
    assert api.get("/keys/new-key").status_code == 404
    assert Change.objects.filter(object_type="key").first().actor_name == "api:deploy-script"


def test_registrations(api, demo):
    body = {"username": "me", "secret": SECRET, "remote_host": "sip.example.net", "remote_port": 4569}
    response = api.post(f"/hosts/{demo.name}/registrations", body)
    assert response.status_code == 201
    out = response.json()
    assert out["secret_set"] is True and "secret" not in out
    pk = out["id"]
    kept = api.put(f"/hosts/{demo.name}/registrations/{pk}", {**body, "secret": None, "remote_port": 4570})
    assert kept.json()["remote_port"] == 4570 and Registration.objects.get(pk=pk).secret == SECRET
    bad = api.post(f"/hosts/{demo.name}/registrations", {**body, "remote_host": "bad host@x"})
    assert bad.status_code == 400 and bad.json()["findings"][0]["directive"] == "register"
    assert api.post(f"/hosts/{demo.name}/registrations", {**body, "key": "nokey"}).status_code == 400
    assert pk in [r["id"] for r in api.get(f"/hosts/{demo.name}/registrations").json()]
    assert api.get(f"/hosts/{demo.name}/registrations/999999").status_code == 404
    assert api.delete(f"/hosts/{demo.name}/registrations/{pk}").status_code == 204
    assert Change.objects.filter(object_type="registration").first().actor_name == "api:deploy-script"


def test_callnumber_limits(api, demo):
    response = api.post(f"/hosts/{demo.name}/callnumberlimits", {"network": "192.0.2.0/24", "limit": 10})
    assert response.status_code == 201
    pk = response.json()["id"]
    assert (
        api.put(f"/hosts/{demo.name}/callnumberlimits/{pk}", {"network": "192.0.2.0/24", "limit": 20}).json()[
            "limit"
        ]
        == 20
    )
    bad = api.post(f"/hosts/{demo.name}/callnumberlimits", {"network": "not-a-network", "limit": 1})
    assert bad.status_code == 400
    (finding,) = bad.json()["findings"]
    assert (finding["code"], finding["part"], finding["directive"]) == (
        "invalid-callnumberlimit",
        "network",
        "not-a-network",
    )
    assert (
        api.post(f"/hosts/{demo.name}/callnumberlimits", {"network": "192.0.2.0/24", "limit": -1}).status_code
        == 422
    )
    assert api.delete(f"/hosts/{demo.name}/callnumberlimits/{pk}").status_code == 204
    assert not CallNumberLimit.objects.filter(pk=pk).exists()
    assert Change.objects.filter(object_type="callnumberlimit").first().actor_name == "api:deploy-script"


def test_no_secret_in_any_read(api, demo):
    for path in (
        "/hosts",
        f"/hosts/{demo.name}/general",
        f"/hosts/{demo.name}/endpoints",
        f"/hosts/{demo.name}/templates",
        "/keys",
        f"/hosts/{demo.name}/registrations",
    ):
        text = api.get(path).content.decode()
        assert "PRIVATE KEY" not in text
        for endpoint in Endpoint.objects.exclude(secret=None).exclude(secret=""):
            assert endpoint.secret not in text
        for registration in Registration.objects.exclude(secret=""):
            assert registration.secret not in text


def test_a_token_acts_with_its_users_role(client, demo, django_user_model):
    user = django_user_model.objects.create_user("reader")
    set_role(user, "viewer")
    _, token = services.create_user_token(user, "read-only", actor="test")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.get("/api/v1/hosts", **headers).status_code == 200
    response = client.post(
        "/api/v1/hosts/demo/callnumberlimits",
        {"network": "10.0.0.0/8", "limit": 5},
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 403
    assert "needs the editor role" in response.json()["detail"]
    set_role(user, "editor")
    response = client.post("/api/v1/hosts", {"name": "newhost"}, content_type="application/json", **headers)
    assert response.status_code == 403
    assert response.json()["detail"] == "creating a host needs the admin role"
    set_role(user, None)
    assert client.get("/api/v1/hosts", **headers).status_code == 403


def _operations():
    from peers.api.resources import api

    schema = api.get_openapi_schema()
    values = {"name": "demo", "section": "alice", "pk": "1"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            url = path
            for key, value in values.items():
                url = url.replace("{" + key + "}", value)
            if path.startswith("/api/v1/keys/"):
                url = url.replace("/keys/demo", "/keys/demo-pbx")
            yield method if not operation.get("x-iaxadmin-read") else f"{method} (a read)", url


OPERATIONS = sorted(set(_operations()))


@pytest.mark.parametrize(("method", "url"), OPERATIONS, ids=[f"{m} {u}" for m, u in OPERATIONS])
def test_every_api_operation_needs_a_token_and_the_right_role(client, demo, django_user_model, method, url):
    method, _, read = method.partition(" ")  # "post (a read)": a POST that writes nothing (a simulation)
    call = getattr(client, method)
    body = {"data": "{}", "content_type": "application/json"} if method in ("post", "put") else {}
    assert call(url, **body).status_code == 401  # no token
    user = django_user_model.objects.create_user("limited")
    set_role(user, "viewer")
    _, token = services.create_user_token(user, "limited", actor="test")
    response = call(url, HTTP_AUTHORIZATION=f"Bearer {token}", **body)
    if method == "get":
        assert response.status_code in (200, 404)  # a viewer reads
    elif read:
        assert response.status_code == 422  # a viewer may ask (this empty body is refused by the schema)
    else:
        assert response.status_code == 403  # writing needs editor (a host, admin)
    host_row, host_token = services.create_host_token(Host.objects.get(name="demo"), "agent", actor="test")
    assert call(url, HTTP_AUTHORIZATION=f"Bearer {host_token}", **body).status_code == 403
