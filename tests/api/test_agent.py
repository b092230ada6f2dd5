"""The host export (peers.api.agent): tokens, status codes, ETag/304, bundle, deployments."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from peers import exporter, revisions, services
from peers.api import agent as api_export
from peers.demo import seed_demo
from peers.iaxconf import Entry, Section
from peers.models import Change, Deployment, DialplanContexts, Host, HostToken, UserToken
from peers.security import tokens

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_process_memory(monkeypatch):
    monkeypatch.setattr(tokens, "_TOUCHED", {})


@pytest.fixture
def demo(db) -> Host:
    return seed_demo()


@pytest.fixture
def published(demo):
    revision = services.publish(demo, message="first", actor="test")
    _, token = services.create_host_token(demo, "agent", actor="test")
    return demo, revision, token


def auth(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def bundle_url(host: str) -> str:
    return f"/api/v1/hosts/{host}/bundle.tar.gz"


def conf_url(host: str) -> str:
    return f"/api/v1/hosts/{host}/iax.conf"


def contract(conf: bytes, keys: dict[str, bytes]) -> str:
    """agent/README.md's checksum, written out independently."""
    return hashlib.sha256(conf + b"".join(n.encode() + b"\0" + keys[n] for n in sorted(keys))).hexdigest()


def members(body: bytes) -> dict[str, tuple[bytes | None, int, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        return {
            m.name: (tar.extractfile(m).read() if m.isfile() else None, m.mode, m.type)
            for m in tar.getmembers()
        }


# --- tokens ---------------------------------------------------------------------------------


def test_a_token_is_prefixed_and_only_its_hash_is_stored(demo):
    row, token = services.create_host_token(demo, "agent", actor="test")
    kind, prefix, secret = token.split("_", 2)
    assert (kind, prefix) == ("iaxh", row.prefix) and len(secret) >= 40
    assert row.hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in json.dumps(list(HostToken.objects.values()), default=str)
    assert tokens.verify(token, "iaxh") == row
    assert tokens.verify(token[:-1] + ("A" if token[-1] != "A" else "B"), "iaxh") is None
    assert tokens.verify(token, "iaxu") is None  # a host token is never a user token
    assert tokens.verify("iaxh_nothing", "iaxh") is None


def test_the_command_creates_lists_and_revokes(demo, django_user_model, capsys):
    django_user_model.objects.create_user("ops")
    call_command("iax_token", "--host", demo.name, "--name", "pbx agent")
    host_token = capsys.readouterr().out.strip()
    assert host_token.startswith("iaxh_") and tokens.verify(host_token, "iaxh").name == "pbx agent"
    call_command("iax_token", "--user", "ops")
    user_token = capsys.readouterr().out.strip()
    assert user_token.startswith("iaxu_") and tokens.verify(user_token, "iaxu").user.username == "ops"
    call_command("iax_token", "--list")
    listing = capsys.readouterr().out
    assert HostToken.objects.get().prefix in listing and UserToken.objects.get().prefix in listing
    assert host_token not in listing and user_token.split("_", 2)[2] not in listing
    call_command("iax_token", "--revoke", HostToken.objects.get().prefix)
    assert tokens.verify(host_token, "iaxh") is None
    with pytest.raises(CommandError):
        call_command("iax_token", "--revoke", "000000000000")
    with pytest.raises(CommandError):
        call_command("iax_token", "--host", "nope")
    with pytest.raises(CommandError):
        call_command("iax_token", "--user", "nobody")


# --- status codes ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", [bundle_url, conf_url])
def test_refusals_are_one_line_of_text(client, published, django_user_model, url):
    host, _, token = published
    other = Host.objects.create(name="pbx2")
    _, other_token = services.create_host_token(other, actor="test")
    _, user_token = services.create_user_token(django_user_model.objects.create_user("ops"), actor="test")
    revoked_row, revoked = services.create_host_token(host, actor="test")
    services.revoke_token(revoked_row.prefix, actor="test")
    cases = [
        ({}, 401, "no token"),
        ({"HTTP_AUTHORIZATION": "Basic Zm9vOmJhcg=="}, 401, "no token"),
        (auth("iaxh_000000000000_bad"), 401, "unknown or revoked"),
        (auth(token + "x"), 401, "unknown or revoked"),
        (auth(revoked), 401, "unknown or revoked"),
        (auth(other_token), 403, "may only read its own host ('pbx2')"),
        (auth(user_token), 403, "user token"),
    ]
    for headers, status, reason in cases:
        response = client.get(url(host.name), **headers)
        assert response.status_code == status, (headers, response.content)
        assert response["Content-Type"].startswith("text/plain")
        assert reason in response.content.decode() and response.content.decode().count("\n") == 1
    assert client.get(url(host.name)).has_header("WWW-Authenticate")
    # an unknown host and another host's are the same answer: a token learns no host names
    response = client.get(url("ghost"), **auth(token))
    assert (response.status_code, response.content) == (
        403,
        b"this token may only read its own host ('demo'), not 'ghost'\n",
    )
    response = client.get(url("pbx2"), **auth(other_token))
    assert (response.status_code, response.content) == (409, b"host 'pbx2' has never been published\n")
    assert client.get(url(host.name) + "?revision=9", **auth(token)).status_code == 404
    assert client.get(url(host.name) + "?revision=x", **auth(token)).status_code == 400
    assert client.post(url(host.name), **auth(token)).status_code == 405


def test_iax_conf_is_the_published_text(client, published):
    host, revision, token = published
    response = client.get(conf_url(host.name), **auth(token))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == revision.conf_text.encode()
    assert response["X-Iaxadmin-Revision"] == "1"
    assert response["ETag"] == f'"{response["X-Iaxadmin-Sha256"]}"'


def test_the_bundle_holds_the_conf_and_keys_with_their_modes(client, published):
    host, revision, token = published
    response = client.get(bundle_url(host.name), **auth(token))
    assert response.status_code == 200 and response["Content-Type"] == "application/gzip"
    files = members(response.content)
    assert list(files) == ["iax.conf", "keys", "keys/demo-pbx.key", "keys/hq.pub"]
    assert files["iax.conf"][:2] == (revision.conf_text.encode(), 0o644)
    assert files["keys"][2] == tarfile.DIRTYPE
    assert files["keys/demo-pbx.key"][1] == 0o600 and files["keys/hq.pub"][1] == 0o644
    assert b"PRIVATE KEY" in files["keys/demo-pbx.key"][0]
    keys = {name[5:]: content for name, (content, _, kind) in files.items() if name.startswith("keys/")}
    sha = contract(files["iax.conf"][0], keys)
    assert response["X-Iaxadmin-Sha256"] == sha and response["ETag"] == f'"{sha}"'
    assert response["X-Iaxadmin-Revision"] == str(revision.number)
    # the same revision gives the same bytes
    assert client.get(bundle_url(host.name), **auth(token)).content == response.content


def test_revision_sha256_is_the_checksum_the_agent_verifies(published):
    """Revision.sha256, stored at publish, is exactly the agent's contract (agent/README.md), so the
    export serves it without recomputing anything."""
    host, revision, _ = published
    files = revisions.revision_key_files(revision)
    assert files
    assert revision.sha256 == contract(revision.conf_text.encode(), {k.name: k.content for k in files})
    bare = Host.objects.create(name="bare")
    services.save_general(bare, Section("general", [Entry("bindport", "4569")]), actor="test")
    plain = services.publish(bare, message="no keys", actor="test")
    assert plain.key_files == []
    assert plain.sha256 == hashlib.sha256(plain.conf_text.encode()).hexdigest()


def test_revision_n_serves_an_older_one(client, published):
    host, first, token = published
    services.save_general(host, Section("general", [Entry("bindport", "4570")]), actor="test")
    second = services.publish(host, message="second", actor="test")
    latest = client.get(conf_url(host.name), **auth(token))
    assert latest["X-Iaxadmin-Revision"] == "2" and latest.content == second.conf_text.encode()
    old = client.get(conf_url(host.name) + "?revision=1", **auth(token))
    assert old["X-Iaxadmin-Revision"] == "1" and old.content == first.conf_text.encode()
    assert old["ETag"] != latest["ETag"]
    assert client.get(conf_url(host.name), HTTP_IF_NONE_MATCH=old["ETag"], **auth(token)).status_code == 200
    again = client.get(conf_url(host.name) + "?revision=1", HTTP_IF_NONE_MATCH=old["ETag"], **auth(token))
    assert again.status_code == 304


def _no_rendering(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("the 304 path rendered or built something")

    for target in (exporter, revisions):
        for name in ("export_host", "render", "build_document", "revision_key_files", "host_snapshot"):
            if hasattr(target, name):
                monkeypatch.setattr(target, name, boom)
    monkeypatch.setattr(api_export, "revision_key_files", boom)
    monkeypatch.setattr(api_export, "bundle_bytes", boom)


@pytest.mark.parametrize("url", [bundle_url, conf_url])
def test_if_none_match_gets_304_without_rendering(
    client, published, monkeypatch, django_assert_max_num_queries, url
):
    host, revision, token = published
    etag = client.get(url(host.name), **auth(token))["ETag"]
    _no_rendering(monkeypatch)
    with django_assert_max_num_queries(1):  # the token, its host and the revision's sha256 in one
        response = client.get(url(host.name), HTTP_IF_NONE_MATCH=etag, **auth(token))
    assert response.status_code == 304 and response.content == b""
    assert response["ETag"] == etag and response["X-Iaxadmin-Revision"] == "1"
    for variant in (f"W/{etag}", f'"0000", {etag}', "*"):
        assert client.get(url(host.name), HTTP_IF_NONE_MATCH=variant, **auth(token)).status_code == 304


def test_304_needs_no_rendering(client, published, monkeypatch):
    host, revision, token = published
    etag = client.get(bundle_url(host.name), **auth(token))["ETag"]
    monkeypatch.setattr(exporter, "export_host", lambda *a: pytest.fail("rendered"))
    assert client.get(bundle_url(host.name), HTTP_IF_NONE_MATCH=etag, **auth(token)).status_code == 304


def test_last_used_is_recorded_at_most_once_a_minute(client, published, django_assert_max_num_queries):
    host, _, token = published
    row = HostToken.objects.get()
    assert row.last_used_at is None
    client.get(conf_url(host.name), **auth(token))
    first = HostToken.objects.get().last_used_at
    assert first is not None
    client.get(conf_url(host.name), **auth(token))
    assert HostToken.objects.get().last_used_at == first
    HostToken.objects.update(last_used_at=timezone.now() - timedelta(minutes=5))
    tokens._TOUCHED.clear()  # as if a minute had passed in this process
    client.get(conf_url(host.name), **auth(token))
    assert HostToken.objects.get().last_used_at > first


# --- deployments ----------------------------------------------------------------------------

REPORT = {
    "revision": 1,
    "sha256": "a" * 64,
    "ok": True,
    "reload_output": "$ asterisk -rx 'iax2 reload'\n[exit 0]",
    "registry": "Host  Username  State\n1 IAX2 registrations.",
    "peers": "1 iax2 peers [1 online, 0 offline, 0 unmonitored]",
    "error": "",
    "agent_version": "1.0.0",
}


def post_report(client, host, token, body, content_type="application/json"):
    data = json.dumps(body) if not isinstance(body, (str, bytes)) else body
    return client.post(f"/api/v1/hosts/{host}/deployments", data, content_type=content_type, **auth(token))


def test_a_report_with_the_dialplans_contexts_updates_them(client, published):
    host, _, token = published
    contexts = ["default", "from-office", "from-branch", "from-hq", "inbound", "parkedcalls"]
    before = Change.objects.filter(object_type="dialplan").count()
    assert post_report(client, host.name, token, {**REPORT, "dialplan_contexts": contexts}).status_code == 201
    row = DialplanContexts.objects.get(host=host)
    assert (row.contexts, row.source, row.detail) == (contexts, "agent", "agent 1.0.0")
    change = Change.objects.filter(object_type="dialplan").order_by("-id").first()
    assert (change.action, change.actor_name) == ("create", "api:agent")
    post_report(client, host.name, token, {**REPORT, "dialplan_contexts": contexts})  # the same list again
    post_report(client, host.name, token, {**REPORT, "dialplan_contexts": None})  # not read this time
    assert Change.objects.filter(object_type="dialplan").count() == before + 1
    assert DialplanContexts.objects.get(host=host).contexts == contexts


@pytest.mark.parametrize(
    "contexts,reason",
    [
        ("from-office", "must be a list"),
        (["ok", "two words"], "'two words' cannot be a context name"),
        ([3], "3"),
    ],
)
def test_a_malformed_context_list_is_refused(client, published, contexts, reason):
    host, _, token = published
    response = post_report(client, host.name, token, {**REPORT, "dialplan_contexts": contexts})
    assert response.status_code == 400 and reason in response.content.decode()
    assert not Deployment.objects.exists()


def test_a_deployment_report_is_recorded(client, published):
    host, revision, token = published
    response = post_report(client, host.name, token, REPORT, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["known_revision"] is True
    deployment = Deployment.objects.get()
    assert (deployment.host, deployment.revision, deployment.revision_number, deployment.ok) == (
        host,
        revision,
        1,
        True,
    )
    assert deployment.registry == REPORT["registry"] and deployment.peers == REPORT["peers"]
    assert deployment.agent_version == "1.0.0" and deployment.remote_addr == "127.0.0.1"
    assert deployment.token == HostToken.objects.get()
    failed = {**REPORT, "revision": None, "sha256": "", "ok": False, "error": "checksum mismatch"}
    assert post_report(client, host.name, token, failed).status_code == 201
    latest = Deployment.objects.first()
    assert (latest.ok, latest.revision, latest.error) == (False, None, "checksum mismatch")


def test_a_bad_report_is_refused(client, published):
    host, _, token = published
    assert post_report(client, host.name, token, "not json").status_code == 400
    assert post_report(client, host.name, token, [1]).status_code == 400
    assert post_report(client, host.name, token, {**REPORT, "ok": "yes"}).status_code == 400
    assert post_report(client, host.name, token, {**REPORT, "revision": "1"}).status_code == 400
    assert post_report(client, host.name, token, {**REPORT, "sha256": "xyz"}).status_code == 400
    assert post_report(client, host.name, token, {**REPORT, "peers": 3}).status_code == 400
    assert post_report(client, host.name, token, REPORT, content_type="text/plain").status_code == 415
    big = {**REPORT, "peers": "x" * (api_export.MAX_REPORT_BYTES + 1)}
    assert post_report(client, host.name, token, big).status_code == 413
    assert post_report(client, host.name, "iaxh_000000000000_x", REPORT).status_code == 401
    other = Host.objects.create(name="pbx2")
    _, other_token = services.create_host_token(other, actor="test")
    assert post_report(client, host.name, other_token, REPORT).status_code == 403
    assert post_report(client, "ghost", token, REPORT).status_code == 403
    assert client.get(f"/api/v1/hosts/{host.name}/deployments", **auth(token)).status_code == 405
    assert not Deployment.objects.exists()


REGISTRY = """\
Host                                            dnsmgr  Username    Perceived                                       Refresh  State
192.0.2.10:4569                                 Y       pbx1        203.0.113.5:4569                                     60  Registered
198.51.100.7:4569                               Y       trunk       <Unregistered>                                       60  Rejected
203.0.113.9:4569                                N       other       <Unregistered>                                       60  Auth. Sent
3 IAX2 registrations.
"""


def test_host_status_for_the_ui(client, published):
    host, _, token = published
    status = api_export.host_status(host)
    assert (status.latest_revision, status.deployed_revision, status.last_report) == (1, None, None)
    assert status.behind and not status.up_to_date and status.last_contact is None
    client.get(conf_url(host.name), **auth(token))
    assert api_export.host_status(host).last_contact is not None
    post_report(client, host.name, token, {**REPORT, "registry": REGISTRY})
    status = api_export.host_status(host)
    assert status.up_to_date and status.last_report.ok
    assert status.failing_registrations == [
        {"host": "198.51.100.7:4569", "username": "trunk", "state": "Rejected"},
        {"host": "203.0.113.9:4569", "username": "other", "state": "Auth. Sent"},
    ]
    services.save_general(host, Section("general", [Entry("bindport", "4570")]), actor="test")
    services.publish(host, message="second", actor="test")
    post_report(client, host.name, token, {**REPORT, "revision": 2, "ok": False, "error": "reload failed"})
    status = api_export.host_status(host)
    assert (status.latest_revision, status.deployed_revision, status.behind) == (2, 1, True)
    assert status.last_report.error == "reload failed"
