"""Every way of writing, enumerated: each URL of the app, each JSON API operation, each management
command and each model of the Django admin is listed below as a write (with the history row it
must leave) or as something that writes no configuration. A new entry point that is in none of the
tables fails ``test_every_*_is_listed``; each write is then made twice: once normally, to check the
history row and its actor, and once with the history unable to be written, to check that the write
is rolled back with it (one transaction)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from peers import audit, services
from peers import keys as rsa_keys
from peers.api.resources import api
from peers.demo import seed_demo
from peers.models import (
    CallNumberLimit,
    Change,
    Endpoint,
    Host,
    HostToken,
    ImportUpload,
    Key,
    Registration,
    Revision,
    UserToken,
)
from peers.security.roles import set_role

pytestmark = pytest.mark.django_db


class AuditDown(RuntimeError):
    pass


@pytest.fixture
def world(db, django_user_model):
    """The demo host, a second user, a published revision, a key nobody uses, a token."""
    host = seed_demo(actor="setup")
    admin_user = django_user_model.objects.create_superuser("root", password="pw-for-tests-only")
    other = django_user_model.objects.create_user("eve", password="pw-for-tests-only")
    set_role(other, "viewer")
    services.publish(host, actor="setup", message="r1")
    services.store_key("spare", rsa_keys.generate(None), actor="setup")
    token_row, token = services.create_user_token(admin_user, "script", actor="setup")
    host_token_row, host_token = services.create_host_token(host, "agent", actor="setup")
    client = Client()
    client.force_login(admin_user)
    return {
        "host": host,
        "admin": admin_user,
        "other": other,
        "client": client,
        "token": token,
        "host_token": host_token,
        "host_token_row": host_token_row,
    }


def fingerprint() -> str:
    """Everything a write could change, as one comparable text (history rows excluded)."""
    data = {}
    for host in Host.objects.order_by("name"):
        data[f"host:{host.name}"] = {
            "/".join(map(str, k)): o.state for k, o in audit.host_objects(host).items()
        }
    data["keys"] = [audit.state(k) for k in Key.objects.order_by("name")]
    data["users"] = [audit.state(u) for u in get_user_model().objects.order_by("username")]
    data["tokens"] = sorted((t.prefix, t.name, t.revoked_at is not None) for t in HostToken.objects.all())
    data["tokens"] += sorted((t.prefix, t.name, t.revoked_at is not None) for t in UserToken.objects.all())
    data["revisions"] = sorted(Revision.objects.values_list("host__name", "number"))
    return json.dumps(data, sort_keys=True, default=str)


@pytest.fixture
def audit_down(monkeypatch):
    def fail(*args, **kwargs):
        raise AuditDown("the history cannot be written")

    def enable():
        monkeypatch.setattr(audit, "record", fail)
        monkeypatch.setattr(audit, "record_many", fail)

    return enable


# ---------------------------------------------------------------------------------------------
# The web pages

H = "demo"


def _endpoint(name):
    return Endpoint.objects.get(host__name=H, name=name)


def _form(world, url_name, *args):
    """The data a browser posts back from the form at url_name (its fields as rendered)."""
    response = world["client"].get(reverse(url_name, args=args))
    data = {}
    for bound in response.context["form"]:
        value = bound.value()
        if isinstance(value, bool):
            if value:
                data[bound.name] = "on"
        elif value is not None and not isinstance(value, list):
            data[bound.name] = str(value)
    return data


@dataclass
class Write:
    """How to make one write through a URL, and the history row it must leave."""

    method: str
    args: object  # a function of the world giving the URL's arguments
    data: object  # a function of the world giving the posted data
    action: str
    object_type: str


def _upload_import(world):
    """Stage an import (its own dry run) and return the form data that confirms it."""
    conf = io.BytesIO(b"[general]\nbindport=4569\n\n[newpeer]\ntype=peer\nhost=192.0.2.9\n")
    conf.name = "iax.conf"
    response = world["client"].post(reverse("peers:import"), {"host": H, "conf": conf, "replace": "on"})
    return {"upload": str(response.context["upload"].pk)}


def _confirmed_upload(world):
    """An upload staged and checked (its dry run), then confirmed: the next import-run imports it."""
    upload = services.staged_upload(_upload_import(world)["upload"], user=world["admin"])
    services.confirm_upload(upload)
    return [str(upload.pk)]


def _fixable(world):
    """A line chan_iax2 ignores (nat=, a chan_sip option) stored as an import would store it, and
    the form data that applies its fix as the fixes page shows it."""
    _store_natted(world)
    url = reverse("peers:host-fixes", args=[H])
    preview = world["client"].get(url, {"code": "foreign-directive"}).context["preview"]
    keys = [f.key for f in preview.outcome.applied]
    return {"key": keys, "version": str(preview.version), "code": "foreign-directive"}


def _store_natted(world):
    from tests.conftest import section, store

    store(world["host"], section("natted", "type=friend\nhost=dynamic\nsecret=Nat-ted-Secret-9x\nnat=yes"))


def _trunk_pair(world):
    services.create_host("pbx-b", actor="setup")
    return {
        "far_host": "pbx-b",
        "registration": "local",
        "far_address": "192.0.2.20",
        "far_port": "4570",
        "local_address": "",
        "local_port": "",
        "auth": "secret",
        "codecs": "ulaw",
        "trunk": "on",
    }


def _extensions_upload(world):
    extensions = io.BytesIO(
        b"[from-trunk]\nexten => s,1,Answer()\n\n[office]\nexten => 100,1,Dial(IAX2/bob)\n"
    )
    extensions.name = "extensions.conf"
    return {"extensions": extensions}


def _key_upload(world):
    material = rsa_keys.generate(None)
    public = io.BytesIO(material.public_pem.encode())
    public.name = "k.pub"
    return {"name": "uploaded", "public_file": public}


WEB_WRITES = {
    "host-export": Write("post", lambda w: [H], lambda w: {}, "reveal", "host"),
    "host-create": Write(
        "post", lambda w: [], lambda w: {"name": "pbx9", "description": "new"}, "create", "host"
    ),
    "host-edit": Write(
        "post",
        lambda w: [H],
        lambda w: {"description": "changed", "version": str(services.version_of(w["host"]))},
        "update",
        "host",
    ),
    "host-delete": Write(
        "post",
        lambda w: [H],
        lambda w: {"confirm": H, "version": str(services.version_of(w["host"]))},
        "delete",
        "host",
    ),
    "host-fixes": Write("post", lambda w: [H], _fixable, "update", "endpoint"),
    "trunk-create": Write(
        "post",
        lambda w: [H],
        lambda w: {
            "far_address": "iax.example.net",
            "far_port": "",
            "local_account": "acme-1234",
            "auth": "secret",
            "secret": "Provider-Secret-42",
            "registration": "local",
            "codecs": "ulaw",
            "trunk": "on",
            "local_section": "",
            "far_account": "",
            "local_context": "",
        },
        "create",
        "endpoint",
    ),
    "trunk-pair-create": Write("post", lambda w: [H], _trunk_pair, "create", "endpoint"),
    "endpoint-create": Write(
        "post",
        lambda w: [H, "peer"],
        lambda w: {"name": "newpeer", "host": "192.0.2.7"},
        "create",
        "endpoint",
    ),
    "endpoint-edit": Write(
        "post",
        lambda w: [H, _endpoint("bob").pk],
        lambda w: {**_form(w, "peers:endpoint-edit", H, _endpoint("bob").pk), "context": "changed"},
        "update",
        "endpoint",
    ),
    "endpoint-delete": Write("post", lambda w: [H, _endpoint("bob").pk], lambda w: {}, "delete", "endpoint"),
    "endpoint-reveal": Write(
        "post", lambda w: [H, _endpoint("alice").pk], lambda w: {}, "reveal", "endpoint"
    ),
    "host-tokens": Write("post", lambda w: [H], lambda w: {"name": "agent2"}, "create", "hosttoken"),
    "host-token-revoke": Write(
        "post", lambda w: [H, w["host_token_row"].pk], lambda w: {}, "update", "hosttoken"
    ),
    "general-edit": Write(
        "post",
        lambda w: [H],
        lambda w: {**_form(w, "peers:general-edit", H), "tos": "CS3"},
        "update",
        "general",
    ),
    "registration-list": Write(
        "post",
        lambda w: [H],
        lambda w: {"username": "newreg", "remote_host": "iax.example.org"},
        "create",
        "registration",
    ),
    "registration-edit": Write(
        "post",
        lambda w: [H, Registration.objects.get(username="branch-backup").pk],
        lambda w: {
            **_form(w, "peers:registration-edit", H, Registration.objects.get(username="branch-backup").pk),
            "remote_port": "4570",
        },
        "update",
        "registration",
    ),
    "registration-delete": Write(
        "post",
        lambda w: [H, Registration.objects.get(username="branch-backup").pk],
        lambda w: {},
        "delete",
        "registration",
    ),
    "limit-list": Write(
        "post", lambda w: [H], lambda w: {"network": "10.0.0.0/8", "limit": "5"}, "create", "callnumberlimit"
    ),
    "limit-edit": Write(
        "post",
        lambda w: [H, CallNumberLimit.objects.first().pk],
        lambda w: {
            "network": "10.0.0.0/8",
            "limit": "6",
            "version": str(services.version_of(CallNumberLimit.objects.first())),
        },
        "update",
        "callnumberlimit",
    ),
    "limit-delete": Write(
        "post", lambda w: [H, CallNumberLimit.objects.first().pk], lambda w: {}, "delete", "callnumberlimit"
    ),
    "key-generate": Write(
        "post", lambda w: [], lambda w: {"name": "fresh", "no_passphrase": "on"}, "create", "key"
    ),
    "key-upload": Write("post", lambda w: [], _key_upload, "create", "key"),
    "key-delete": Write("post", lambda w: ["spare"], lambda w: {}, "delete", "key"),
    "import-confirm": Write("post", lambda w: [], _upload_import, "create", "endpoint"),
    "import-run": Write("post", _confirmed_upload, lambda w: {}, "create", "endpoint"),
    "host-publish": Write("post", lambda w: [H], lambda w: {"message": "again"}, "create", "revision"),
    "host-revert": Write(
        "post",
        lambda w: [H],
        lambda w: _revert_data(w),
        "update",
        "endpoint",
    ),
    "dialplan": Write("post", lambda w: [H], _extensions_upload, "create", "dialplan"),
    "change-revert": Write(
        "post",
        lambda w: [Change.objects.filter(object_repr="[carol]", action="create").latest("id").pk],
        lambda w: {},
        "delete",
        "endpoint",
    ),
}


def _revert_data(world):
    alice = _endpoint("alice")
    services.save_endpoint(
        world["host"], _section_with(alice, context="elsewhere"), endpoint=alice, actor="setup"
    )
    return {"revision": "1"}


def _section_with(endpoint, **changes):
    from peers.exporter import endpoint_section
    from peers.iaxconf import Entry

    section = endpoint_section(endpoint)
    section.entries = [e for e in section.entries if e.name not in changes]
    section.entries += [Entry(name, value) for name, value in changes.items()]
    return section


# POST URLs that write no configuration: checks and previews, the import's dry run (it stages the
# upload, which is no configuration), and the session.
WEB_NON_WRITES = {
    "endpoint-validate",
    "endpoint-preview",
    "general-validate",
    "general-preview",
    "row-validate",
    "import",
    "simulate-call",
    "simulate-registration",
    "login",
    "logout",
    "admin-login",
}
# URLs that answer GET (and HEAD) only: a POST gets 405.
WEB_GET_ONLY = {
    "host-list",
    "host-detail",
    "host-findings",
    "endpoint-list",
    "endpoint-clone",
    "key-list",
    "key-download",
    "host-history",
    "revision-list",
    "revision-diff",
    "change-detail",
    "audit-export",
    "host-conf",
    "host-findings-summary",
    "host-fix-summary",
    "import-status",
    "import-report",
    "metrics",
}
# The agent's URLs (host tokens): two reads and the deployment report, which is its own record.
AGENT = {"api-host-conf", "api-host-bundle", "api-host-deployments", "api-docs"}


def _url_names(resolver=None, prefix="") -> dict[str, str]:
    names = {}
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in ("admin", "api"):  # the admin and the JSON API have their own tests
                continue
            names.update(_url_names(pattern, prefix))
        elif isinstance(pattern, URLPattern) and pattern.name:
            names[pattern.name] = str(pattern.pattern)
    return names


def test_every_url_is_listed_as_a_write_or_not():
    listed = set(WEB_WRITES) | WEB_NON_WRITES | WEB_GET_ONLY | AGENT
    missing = set(_url_names()) - listed
    assert not missing, f"entry points missing from the write-path tables: {sorted(missing)}"


UNUSED_UUID = "00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize("name", sorted(WEB_GET_ONLY - {"metrics"}))
def test_a_get_only_page_refuses_other_methods(world, name):
    args = {
        "host-detail": [H],
        "host-findings": [H],
        "endpoint-list": [H],
        "host-conf": [H],
        "host-findings-summary": [H],
        "host-fix-summary": [H],
        "import-status": [UNUSED_UUID],
        "import-report": [UNUSED_UUID],
        "endpoint-clone": [H, _endpoint("bob").pk],
        "key-download": ["hq"],
        "host-history": [H],
        "revision-list": [H],
        "revision-diff": [H],
        "change-detail": [Change.objects.first().pk],
    }.get(name, [])
    response = world["client"].post(reverse(f"peers:{name}", args=args))
    assert response.status_code == 405


@pytest.mark.parametrize("name", sorted(WEB_WRITES))
def test_a_web_write_records_its_user_in_the_history(world, name):
    write = WEB_WRITES[name]
    if name == "change-revert":
        services.save_endpoint(world["host"], _section_from("carol"), actor="setup")
    data, args = write.data(world), write.args(world)
    before = Change.objects.order_by("-id").values_list("id", flat=True).first()
    response = getattr(world["client"], write.method)(reverse(f"peers:{name}", args=args), data)
    assert response.status_code in (200, 302), (name, response.status_code)
    new = Change.objects.filter(id__gt=before)
    assert new.filter(action=write.action, object_type=write.object_type).exists(), (
        name,
        list(new.values_list("action", "object_type")),
    )
    assert set(new.values_list("actor_name", flat=True)) == {"root"}


IMPORT_STEPS = {"import-confirm", "import-run"}


@pytest.mark.parametrize("name", sorted(WEB_WRITES))
def test_a_web_write_is_undone_when_its_history_cannot_be_written(world, audit_down, name):
    write = WEB_WRITES[name]
    if name == "change-revert":
        services.save_endpoint(world["host"], _section_from("carol"), actor="setup")
    data, args = write.data(world), write.args(world)
    state = fingerprint()
    audit_down()
    if name in IMPORT_STEPS:  # an import step that breaks is reported on the page, not raised
        getattr(world["client"], write.method)(reverse(f"peers:{name}", args=args), data)
        assert list(ImportUpload.objects.values_list("state", flat=True)) == [ImportUpload.State.FAILED]
    else:
        with pytest.raises(AuditDown):
            getattr(world["client"], write.method)(reverse(f"peers:{name}", args=args), data)
    assert fingerprint() == state


def _section_from(name):
    from peers.iaxconf import Entry, Section

    return Section(
        name, [Entry("type", "friend"), Entry("host", "dynamic"), Entry("secret", "Ca-rol-Secret-9x")]
    )


# ---------------------------------------------------------------------------------------------
# The JSON API (user tokens)

API_BODY = {
    "create_host": ("/hosts", lambda w: {"name": "pbx9"}, "create", "host"),
    "update_host": (f"/hosts/{H}", lambda w: {"description": "api"}, "update", "host"),
    "delete_host": (f"/hosts/{H}", lambda w: None, "delete", "host"),
    "put_general": (
        f"/hosts/{H}/general",
        lambda w: {"options": [{"name": "bindport", "value": "4569"}]},
        "update",
        "general",
    ),
    "create_endpoints": (
        f"/hosts/{H}/endpoints",
        lambda w: {"name": "apipeer", "kind": "peer", "entries": [{"name": "host", "value": "192.0.2.3"}]},
        "create",
        "endpoint",
    ),
    "update_endpoints": (
        f"/hosts/{H}/endpoints/bob",
        lambda w: {"name": "bob", "kind": "peer", "entries": [{"name": "host", "value": "192.0.2.3"}]},
        "update",
        "endpoint",
    ),
    "delete_endpoints": (f"/hosts/{H}/endpoints/bob", lambda w: None, "delete", "endpoint"),
    "create_templates": (
        f"/hosts/{H}/templates",
        lambda w: {"name": "tpl2", "entries": [{"name": "context", "value": "x"}]},
        "create",
        "template",
    ),
    "update_templates": (
        f"/hosts/{H}/templates/office-phone",
        lambda w: {
            "name": "office-phone",
            "entries": [
                {"name": "type", "value": "friend"},
                {"name": "host", "value": "dynamic"},
                {"name": "context", "value": "office"},
                {"name": "qualify", "value": "yes"},
            ],
        },
        "update",
        "template",
    ),
    "delete_templates": (None, lambda w: None, "delete", "template"),
    "create_key": (
        "/keys",
        lambda w: {"name": "apikey", "public_pem": rsa_keys.generate(None).public_pem},
        "create",
        "key",
    ),
    "update_key": (
        "/keys/spare",
        lambda w: {"name": "spare", "public_pem": rsa_keys.generate(None).public_pem},
        "update",
        "key",
    ),
    "delete_key": ("/keys/spare", lambda w: None, "delete", "key"),
    "create_registration": (
        f"/hosts/{H}/registrations",
        lambda w: {"username": "r", "remote_host": "iax.example.org"},
        "create",
        "registration",
    ),
    "update_registration": (
        None,
        lambda w: {"username": "branch-backup", "remote_host": "198.51.100.21"},
        "update",
        "registration",
    ),
    "delete_registration": (None, lambda w: None, "delete", "registration"),
    "create_limit": (
        f"/hosts/{H}/callnumberlimits",
        lambda w: {"network": "10.0.0.0/8", "limit": 4},
        "create",
        "callnumberlimit",
    ),
    "update_limit": (None, lambda w: {"network": "10.0.0.0/8", "limit": 4}, "update", "callnumberlimit"),
    "delete_limit": (None, lambda w: None, "delete", "callnumberlimit"),
    "dialplan_put": (
        f"/hosts/{H}/dialplan",
        lambda w: {"contexts": ["office", "from-trunk"]},
        "create",
        "dialplan",
    ),
    "dialplan_delete": (None, lambda w: None, "delete", "dialplan"),
}
# POST operations that write nothing: the simulator's questions (a call, a registration).
API_READS = {
    "simulate_call_op": (f"/hosts/{H}/simulate/call", {"address": "192.0.2.50", "username": "alice"}),
    "simulate_registration_op": (
        f"/hosts/{H}/simulate/registration",
        {"peer": "alice", "address": "192.0.2.50"},
    ),
}


def _api_path(world, operation: str) -> str:
    path = API_BODY[operation][0]
    if path is not None:
        return "/api/v1" + path
    if operation.endswith("registration"):
        return f"/api/v1/hosts/{H}/registrations/{Registration.objects.get(username='branch-backup').pk}"
    if operation.endswith("limit"):
        return f"/api/v1/hosts/{H}/callnumberlimits/{CallNumberLimit.objects.first().pk}"
    if operation.startswith("dialplan"):
        services.save_dialplan(world["host"], ["office"], source="api", actor="setup")
        return f"/api/v1/hosts/{H}/dialplan"
    tpl = services.save_endpoint(world["host"], _template("unused-tpl"), actor="setup")
    return f"/api/v1/hosts/{H}/templates/{tpl.name}"


def _template(name):
    from peers.iaxconf import Entry, Section

    return Section(name, [Entry("context", "x")], is_template=True)


def _api_operations() -> dict[str, str]:
    """operation name -> HTTP method, for every operation that is not a GET."""
    schema = api.get_openapi_schema(path_prefix="/api/v1")
    found = {}
    for operations in schema["paths"].values():
        for method, operation in operations.items():
            if method != "get":
                operation_id = operation["operationId"]
                found[
                    operation_id.removeprefix("peers_api_resources_").removeprefix("peers_api_simulate_")
                ] = method
    return found


def test_every_api_operation_that_writes_is_listed():
    missing = set(_api_operations()) - set(API_BODY) - set(API_READS)
    assert not missing, f"API operations missing from the write-path table: {sorted(missing)}"


@pytest.mark.parametrize("operation", sorted(API_READS))
def test_an_api_read_by_post_writes_nothing(world, operation):
    path, body = API_READS[operation]
    before = Change.objects.order_by("-id").values_list("id", flat=True).first()
    state = fingerprint()
    response = Client().post(
        "/api/v1" + path,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {world['token']}",
    )
    assert response.status_code == 200, response.content
    assert fingerprint() == state
    assert not Change.objects.filter(id__gt=before).exists()


def _call_api(world, operation, path=None):
    method = _api_operations()[operation]
    body = API_BODY[operation][1](world)
    path = path or _api_path(world, operation)
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {world['token']}"}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(Client(), method)(path, **kwargs)


@pytest.mark.parametrize("operation", sorted(API_BODY))
def test_an_api_write_records_its_token_in_the_history(world, operation):
    _, _, action, object_type = API_BODY[operation]
    before = Change.objects.order_by("-id").values_list("id", flat=True).first()
    response = _call_api(world, operation)
    assert response.status_code in (200, 201, 204), (operation, response.content)
    new = Change.objects.filter(id__gt=before).exclude(actor_name="setup")
    assert new.filter(action=action, object_type=object_type).exists(), list(
        new.values_list("action", "object_type")
    )
    assert set(new.values_list("actor_name", flat=True)) == {"api:script"}
    assert {c.actor_id for c in new} == {world["admin"].pk}


@pytest.mark.parametrize("operation", sorted(API_BODY))
def test_an_api_write_is_undone_when_its_history_cannot_be_written(world, audit_down, operation):
    path = _api_path(world, operation)  # its set-up writes (if any) come first
    state = fingerprint()
    audit_down()
    with pytest.raises(AuditDown):
        _call_api(world, operation, path)
    assert fingerprint() == state


# ---------------------------------------------------------------------------------------------
# Management commands

COMMAND_WRITES = {
    "iax_demo": (lambda w, tmp: [], "create", "host"),
    "iax_import": (lambda w, tmp: [_conf_file(tmp), "--host", "clihost"], "create", "host"),
    "iax_publish": (lambda w, tmp: ["--host", H, "-m", "cli", "--quiet"], "create", "revision"),
    "iax_revert": (lambda w, tmp: ["--host", H, "--revision", "1"], None, None),  # nothing to revert: no row
    "iax_role": (lambda w, tmp: ["--user", "eve", "--role", "editor"], "update", "user"),
    "iax_token": (lambda w, tmp: ["--host", H, "--name", "cli"], "create", "hosttoken"),
    "iax_rotate_key": (lambda w, tmp: [], "update", "encryption"),
    "iax_export": (lambda w, tmp: ["--host", H, "--out", str(tmp / "out")], "reveal", "host"),
    "iax_fix": (lambda w, tmp: ["--host", H, "--code", "foreign-directive"], "update", "endpoint"),
}
COMMAND_READS = {"iax_audit", "iax_validate", "iax_check", "iax_simulate"}


def _conf_file(tmp: Path) -> str:
    path = tmp / "iax.conf"
    path.write_text("[general]\nbindport=4569\n\n[p]\ntype=peer\nhost=192.0.2.1\n")
    return str(path)


def test_every_management_command_is_listed():
    ours = {name for name, app in get_commands().items() if app == "peers"}
    missing = ours - set(COMMAND_WRITES) - COMMAND_READS
    assert not missing, f"commands missing from the write-path table: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(COMMAND_WRITES))
def test_a_command_records_the_os_user_in_the_history(world, name, tmp_path, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "ops")
    args, action, object_type = COMMAND_WRITES[name]
    if name == "iax_demo":  # it seeds an empty database only
        for host in Host.objects.all():
            services.delete_host(host, actor="setup")
        get_user_model().objects.all().delete()
    if name == "iax_revert":
        alice = _endpoint("alice")
        services.save_endpoint(
            world["host"], _section_with(alice, context="moved"), endpoint=alice, actor="setup"
        )
        action, object_type = "update", "endpoint"
    if name == "iax_fix":
        _store_natted(world)
    before = Change.objects.order_by("-id").values_list("id", flat=True).first() or 0
    call_command(name, *args(world, tmp_path), stdout=io.StringIO(), stderr=io.StringIO())
    new = Change.objects.filter(id__gt=before)
    assert new.filter(action=action, object_type=object_type).exists(), list(
        new.values_list("action", "object_type")
    )
    assert set(new.values_list("actor_name", flat=True)) == {"cli:ops"}


@pytest.mark.parametrize("name", sorted(set(COMMAND_WRITES) - {"iax_demo", "iax_export"}))
def test_a_command_writes_nothing_when_its_history_cannot_be_written(world, audit_down, name, tmp_path):
    args = COMMAND_WRITES[name][0](world, tmp_path)
    if name == "iax_revert":
        alice = _endpoint("alice")
        services.save_endpoint(
            world["host"], _section_with(alice, context="moved"), endpoint=alice, actor="setup"
        )
    if name == "iax_fix":
        _store_natted(world)
    state = fingerprint()
    audit_down()
    with pytest.raises(AuditDown):
        call_command(name, *args, stdout=io.StringIO(), stderr=io.StringIO())
    assert fingerprint() == state


# ---------------------------------------------------------------------------------------------
# The Django admin: read-only for configuration; user accounts through the services


def test_the_admin_cannot_change_configuration(world):
    request = type("R", (), {"user": world["admin"]})()
    for model, model_admin in admin.site._registry.items():
        if model is get_user_model():
            continue
        assert not model_admin.has_add_permission(request), model
        assert not model_admin.has_change_permission(request), model
        assert not model_admin.has_delete_permission(request), model


def test_admin_user_writes_are_recorded(world):
    client = world["client"]
    add = client.post(
        "/admin/auth/user/add/",
        {
            "username": "newbie",
            "password1": "Long-pass-phrase-42",
            "password2": "Long-pass-phrase-42",
            "usable_password": "true",
            "role": "editor",
        },
    )
    assert add.status_code == 302, add.content.decode()[:2000]
    newbie = get_user_model().objects.get(username="newbie")
    created = Change.objects.get(object_type="user", object_id=newbie.pk, action="create")
    assert created.actor_name == "root" and created.after["role"] == "editor"
    assert created.after["password"] == audit.MASK
    change = client.post(
        f"/admin/auth/user/{newbie.pk}/password/",
        {"password1": "Other-pass-phrase-43", "password2": "Other-pass-phrase-43", "usable_password": "true"},
    )
    assert change.status_code == 302
    updated = Change.objects.filter(object_type="user", object_id=newbie.pk, action="update").latest("id")
    assert updated.after["secrets_changed"] == ["password"] and "Other-pass" not in json.dumps(updated.after)
    delete = client.post(f"/admin/auth/user/{newbie.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 302
    assert Change.objects.filter(
        object_type="user", object_id=newbie.pk, action="delete", actor_name="root"
    ).exists()


def test_an_admin_user_change_is_undone_when_its_history_cannot_be_written(world, audit_down):
    other = world["other"]
    state = fingerprint()
    audit_down()
    with pytest.raises(AuditDown):
        world["client"].post(
            f"/admin/auth/user/{other.pk}/password/",
            {
                "password1": "Other-pass-phrase-43",
                "password2": "Other-pass-phrase-43",
                "usable_password": "true",
            },
        )
    assert fingerprint() == state
