"""The JSON API under /api/v1/ (django-ninja): hosts, [general], endpoints, templates, keys,
registrations and call-number limits, for people and scripts with a user token
(``Authorization: Bearer iaxu_...``; ``manage.py iax_token --user NAME``).

Every write goes through ``peers.services`` with the token as the actor (audited as
"api:<token name>"): the section policy of ``peers.policy`` decides, as for the web forms, and a
refused write is answered 400 (409 for a name taken or an object in use) with the findings
(``[{severity, code, section, directive, value, part, message}]``), the same codes a form shows.
Objects carry a ``version``; a PUT or DELETE that sends the version it read is answered 409 when
someone changed the object since.
Secrets are write-only: a ``secret`` line, a registration's secret and a private key are never
returned (``secret_set`` / ``has_private`` say whether there is one).
Lists are paged: ``?limit=`` (default 100, at most 1000) and ``?offset=``; the answer is the page,
with ``X-Total-Count`` and a ``Link`` header (``rel="next"``, ``rel="prev"``). A page is read with
a constant number of queries whatever the host's size.

django-ninja, not DRF: typed pydantic schemas give the OpenAPI description (/api/v1/openapi.json)
for free, it is one small dependency, and the views stay plain functions over ``services``.
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from typing import Annotated

from django.db import DataError
from django.db.models import Max
from django.http import HttpResponse
from ninja import Field, NinjaAPI, Query, Schema, Status
from ninja.errors import HttpError
from ninja.security import HttpBearer
from pydantic import AfterValidator, BaseModel

from .. import audit, services
from .. import keys as rsa_keys
from ..exporter import build_document, endpoint_section, general_section
from ..iaxconf import Entry, Finding, Section
from ..models import CallNumberLimit, Change, Endpoint, EndpointInKey, Host, Key, Registration, UserToken
from ..security import roles, tokens

SECRET = "secret"


# ---------------------------------------------------------------------------------------------
# Authentication: user tokens only


class UserTokenAuth(HttpBearer):
    def authenticate(self, request, token: str) -> UserToken | None:
        if tokens.kind_of(token) == tokens.HOST_KIND and tokens.verify(token, tokens.HOST_KIND):
            raise HttpError(403, "a host token only reads its host's export; the JSON API needs a user token")
        row = tokens.verify(token, tokens.USER_KIND, queryset=UserToken.objects.select_related("user"))
        if row is None or not row.user.is_active:
            return None
        # the token acts as its user, with that user's role: reading needs viewer, writing editor
        needed = "viewer" if request.method in ("GET", "HEAD", "OPTIONS") else "editor"
        if not roles.has_role(row.user, needed):
            raise HttpError(
                403, f"the token's user needs the {needed} role (python manage.py iax_role --role {needed})"
            )
        return row


api = NinjaAPI(
    title="iaxadmin API",
    version="1",
    description=__doc__,
    auth=UserTokenAuth(),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url=None,  # ninja's page loads Swagger UI from a CDN without "ninja" in INSTALLED_APPS: see docs()
)


class Refused(Exception):
    """An answer other than the operation's own: status, one-line detail, findings."""

    def __init__(self, status: int, detail: str, findings: list[dict] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.findings = status, detail, findings or []


@api.exception_handler(Refused)
def _refused(request, exc: Refused):
    return api.create_response(request, {"detail": exc.detail, "findings": exc.findings}, status=exc.status)


# Refusals that are about an object already there (a name taken, an object still in use): 409.
CONFLICT_CODES = frozenset({"duplicate-section", "host-exists", "key-exists", "key-in-use", "base-in-use"})


@api.exception_handler(services.Refused)
def _service_refused(request, exc: services.Refused):
    status = 409 if any(f.code in CONFLICT_CODES for f in exc.findings) else 400
    body = {"detail": exc.message, "findings": [_finding(f) for f in exc.findings]}
    return api.create_response(request, body, status=status)


@api.exception_handler(services.Conflict)
def _conflict(request, exc: services.Conflict):
    body = {
        "detail": f"{exc.what} was changed by someone else after version you sent (now version {exc.version}); "
        "read it again and resend",
        "findings": [],
    }
    return api.create_response(request, body, status=409)


@api.exception_handler(DataError)
def _data_error(request, exc):
    return api.create_response(request, {"detail": "a value cannot be stored", "findings": []}, status=400)


def _finding(f: Finding) -> dict:
    return {
        "severity": f.severity,
        "code": f.code,
        "section": f.section,
        "directive": f.directive,
        "value": f.value,
        "part": f.part,
        "message": f.message,
    }


# ---------------------------------------------------------------------------------------------
# Schemas


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Count = Annotated[int, Field(ge=0, le=2_147_483_647)]
Version = Annotated[int, Field(ge=0)] | None


class FindingOut(Schema):
    severity: str
    code: str
    section: str
    directive: str | None
    value: str | None
    part: str | None = None
    message: str


class ErrorOut(Schema):
    detail: str
    findings: list[FindingOut] = []


class HostIn(Schema):
    name: Annotated[Text, Field(max_length=63)]
    description: Annotated[Text, Field(max_length=200)] = ""


class HostUpdate(Schema):
    description: Annotated[Text, Field(max_length=200)]
    version: Version = Field(None, description="The version you read; a later change is answered 409.")


class Out(BaseModel):
    """A response body built as plain dicts by this module: pydantic validates it in C. (A ninja
    Schema wraps every object and reads each field through Python, which was most of the time
    of a page of 1,000 endpoints: bench/reads.py.)"""


class HostOut(Out):
    name: str
    description: str
    created_at: datetime
    updated_at: datetime
    latest_revision: int | None
    version: int


class Option(Schema):
    name: Annotated[Text, Field(min_length=1, max_length=40)]
    value: Annotated[Text, Field(max_length=255)] = ""


class GeneralIO(Schema):
    comment: Annotated[Text, Field(max_length=10_000)] = ""
    options: list[Option] = []
    version: Version = Field(None, description="On PUT: the version you read (409 when it changed since).")


class EndpointIn(Schema):
    name: Annotated[Text, Field(min_length=1, max_length=79)]
    kind: Annotated[Text, Field(max_length=6)] = ""
    is_template: bool = False
    bases: list[Annotated[Text, Field(min_length=1, max_length=79)]] = []
    entries: list[Option] = []
    comment: Annotated[Text, Field(max_length=10_000)] = ""
    clear_secret: bool = Field(False, description="Remove the secret (a PUT without a secret line keeps it).")
    version: Version = Field(None, description="On PUT: the version you read (409 when it changed since).")


class OptionOut(Out):
    name: str
    value: str


class EndpointOut(Out):
    name: str
    kind: str
    is_template: bool
    position: int
    bases: list[str]
    entries: list[OptionOut]
    comment: str
    secret_set: bool
    version: int


class KeyIn(Schema):
    name: Annotated[Text, Field(min_length=1, max_length=64)]
    public_pem: Annotated[Text, Field(max_length=20_000)]
    private_pem: Annotated[Text, Field(max_length=20_000)] = Field("", description="Write-only.")
    passphrase: Annotated[Text, Field(max_length=1_000)] = Field("", description="Write-only; not stored.")
    version: Version = None


class KeyUse(Out):
    host: str
    kind: str
    name: str


class KeyOut(Out):
    name: str
    public_pem: str
    fingerprint: str
    bits: int
    has_private: bool
    private_encrypted: bool
    used_by: list[KeyUse]
    version: int


class RegistrationIn(Schema):
    username: Annotated[Text, Field(min_length=1, max_length=79)]
    secret: Annotated[Text, Field(max_length=79)] | None = Field(
        None, description="Write-only. Omitted or null on update: the secret is kept."
    )
    key: Annotated[Text, Field(max_length=64)] | None = None
    remote_host: Annotated[Text, Field(min_length=1, max_length=253)]
    remote_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    position: Count | None = None
    version: Version = None


class RegistrationOut(Out):
    id: int
    position: int
    username: str
    secret_set: bool
    key: str | None
    remote_host: str
    remote_port: int | None
    version: int


class LimitIn(Schema):
    network: Annotated[Text, Field(min_length=1, max_length=64)]
    limit: Count
    position: Count | None = None
    version: Version = None


class LimitOut(Out):
    id: int
    position: int
    network: str
    limit: int
    version: int


ERRORS = {400: ErrorOut, 404: ErrorOut, 409: ErrorOut}

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class Paging(Schema):
    limit: int = Field(
        PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description=f"items per page (at most {MAX_PAGE_SIZE})"
    )
    offset: int = Field(0, ge=0, description="how many items to skip")


def _page(request, response: HttpResponse, queryset, paging: Paging) -> list:
    """One page of a queryset (ordered by the caller), with ``X-Total-Count`` and ``Link``."""
    total = queryset.count()
    items = list(queryset[paging.offset : paging.offset + paging.limit])
    response["X-Total-Count"] = str(total)
    links = []
    for rel, offset in (
        ("next", paging.offset + paging.limit),
        ("prev", max(0, paging.offset - paging.limit)),
    ):
        if (rel == "next" and offset < total) or (rel == "prev" and paging.offset > 0):
            query = request.GET.copy()
            query["offset"], query["limit"] = str(offset), str(paging.limit)
            links.append(f'<{request.build_absolute_uri(request.path)}?{query.urlencode()}>; rel="{rel}"')
    if links:
        response["Link"] = ", ".join(links)
    return items


def _versions(types: tuple[str, ...], ids: list[int]) -> dict[int, int]:
    """object id -> version (``services.version_of``) for many objects of these types: one query."""
    rows = (
        Change.objects.filter(object_type__in=types, object_id__in=ids)
        .exclude(action=Change.Action.REVEAL)
        .order_by()
        .values("object_id")
        .annotate(last=Max("id"))
    )
    return {row["object_id"]: row["last"] for row in rows}


def _host(name: str) -> Host:
    host = Host.objects.filter(name=name).first()
    if host is None:
        raise Refused(404, f"no host named {name!r}")
    return host


def _as(request, what: str) -> dict:
    """The actor and message of a write made with the request's token."""
    return {"actor": request.auth, "message": f"{what} via the API"}


def _admin(request, what: str) -> None:
    if not roles.has_role(request.auth.user, "admin"):
        raise Refused(403, f"{what} needs the admin role")


# ---------------------------------------------------------------------------------------------
# Hosts


def _host_out(host: Host, latest: int | None, version: int | None = None) -> dict:
    return {
        "name": host.name,
        "description": host.description,
        "created_at": host.created_at,
        "updated_at": host.updated_at,
        "latest_revision": latest,
        "version": services.version_of(host) if version is None else version,
    }


@api.get("/hosts", response=list[HostOut], tags=["hosts"])
def list_hosts(request, response: HttpResponse, paging: Query[Paging]):
    hosts = _page(
        request, response, Host.objects.annotate(latest=Max("revisions__number")).order_by("name"), paging
    )
    versions = _versions(("host",), [h.pk for h in hosts])
    return [_host_out(h, h.latest, versions.get(h.pk, 0)) for h in hosts]


@api.post("/hosts", response={201: HostOut, 403: ErrorOut, **ERRORS}, tags=["hosts"])
def create_host(request, body: HostIn):
    _admin(request, "creating a host")
    host = services.create_host(body.name, description=body.description, **_as(request, "host created"))
    return Status(201, _host_out(host, None))


@api.get("/hosts/{name}", response={200: HostOut, 404: ErrorOut}, tags=["hosts"])
def get_host(request, name: str):
    host = _host(name)
    return _host_out(host, host.revisions.aggregate(n=Max("number"))["n"])


@api.put("/hosts/{name}", response={200: HostOut, **ERRORS}, tags=["hosts"])
def update_host(request, name: str, body: HostUpdate):
    host = _host(name)
    services.update_host(
        host, description=body.description, expected_version=body.version, **_as(request, "host changed")
    )
    return get_host(request, name)


@api.delete(
    "/hosts/{name}", response={204: None, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}, tags=["hosts"]
)
def delete_host(request, name: str):
    """Delete a host with its whole configuration, revisions and tokens (admin role). Its history
    is kept."""
    _admin(request, "deleting a host")
    services.delete_host(_host(name), **_as(request, f"host {name} deleted"))
    return Status(204, None)


# ---------------------------------------------------------------------------------------------
# [general]


@api.get("/hosts/{name}/general", response={200: GeneralIO, 404: ErrorOut}, tags=["general"])
def get_general(request, name: str):
    host = _host(name)
    section = general_section(host)
    return {
        "comment": "\n".join(section.comments),
        "options": [{"name": e.name, "value": e.value} for e in section.entries],
        "version": services.general_version(host),
    }


@api.put("/hosts/{name}/general", response={200: GeneralIO, **ERRORS}, tags=["general"])
def put_general(request, name: str, body: GeneralIO):
    host = _host(name)
    section = Section(
        name="general",
        entries=[Entry(o.name.strip(), o.value) for o in body.options],
        comments=body.comment.replace("\r\n", "\n").split("\n") if body.comment else [],
    )
    services.save_general(host, section, expected_version=body.version, **_as(request, "[general] saved"))
    return get_general(request, name)


# ---------------------------------------------------------------------------------------------
# Endpoints and templates


ENDPOINT_ROW = ("id", "name", "kind", "is_template", "position", "comment")


def _endpoint_item(row: dict, section: Section, version: int) -> dict:
    """An endpoint as the API shows it (EndpointOut), from its row and its exported section."""
    entries = [e for e in section.entries if e.name.lower() != "type"]
    return {
        "name": row["name"],
        "kind": row["kind"],
        "is_template": row["is_template"],
        "position": row["position"],
        "bases": list(section.bases),
        "entries": [{"name": e.name, "value": e.value} for e in entries if e.name.lower() != SECRET],
        "comment": row["comment"],
        "secret_set": any(e.name.lower() == SECRET and e.value for e in entries),
        "version": version,
    }


def _endpoint_out(endpoint: Endpoint) -> dict:
    row = {name: getattr(endpoint, name) for name in ENDPOINT_ROW}
    return _endpoint_item(row, endpoint_section(endpoint), services.version_of(endpoint))


def _endpoint_page(
    request, response: HttpResponse, host: Host, template: bool, paging: Paging
) -> HttpResponse:
    """A page of the host's endpoints (or templates): one document build for the page, one query
    for their versions; the same whatever the host's size. The items are the ones _endpoint_out
    makes for a single read (tests/api/test_paging.py holds the two together), written as JSON
    here: validating a page of 1,000 against EndpointOut again cost more than building it."""
    queryset = host.endpoints.filter(is_template=template).order_by("position", "id").values(*ENDPOINT_ROW)
    rows = _page(request, response, queryset, paging)
    items = []
    if rows:
        ids = [row["id"] for row in rows]
        document, _, _ = build_document(host, only=ids, general=False)
        sections = {s.name.lower(): s for s in document.sections if s.is_endpoint}
        versions = _versions(audit.ENDPOINT_TYPES, ids)
        items = [
            _endpoint_item(row, sections[row["name"].lower()], versions.get(row["id"], 0)) for row in rows
        ]
    answer = HttpResponse(json.dumps(items), content_type="application/json; charset=utf-8")
    for header in ("X-Total-Count", "Link"):
        if header in response:
            answer[header] = response[header]
    return answer


def _find_endpoint(host: Host, name: str, template: bool) -> Endpoint:
    endpoint = host.endpoints.filter(name__iexact=name, is_template=template).first()
    if endpoint is None:
        what = "template" if template else "endpoint"
        raise Refused(404, f"host {host.name!r} has no {what} [{name}]")
    return endpoint


def _section(body: EndpointIn, template: bool, current: Endpoint | None) -> Section:
    """The section a body describes: ``kind`` as its type= line (the section policy judges it like
    any other line), the stored secret kept when none is sent (secrets are write-only)."""
    kind = body.kind.strip()
    entries = [Entry("type", kind)] if kind else []
    entries += [Entry(o.name.strip(), o.value) for o in body.entries]
    section = Section(
        name=body.name.strip(),
        entries=entries,
        is_template=template,
        bases=[b.strip() for b in body.bases],
        comments=body.comment.replace("\r\n", "\n").split("\n") if body.comment else [],
    )
    return section if body.clear_secret else services.with_current_secrets(section, current)


def _save_endpoint(request, host: Host, body: EndpointIn, template: bool, current: Endpoint | None):
    section = _section(body, template, current)
    verb = "created" if current is None else "changed"
    return services.save_endpoint(
        host,
        section,
        endpoint=current,
        expected_version=body.version,
        **_as(request, f"[{section.name}] {verb}"),
    )


def _endpoint_routes(path: str, template: bool, tag: str) -> None:
    @api.get(
        f"/hosts/{{name}}/{path}",
        response={200: list[EndpointOut], 404: ErrorOut},
        tags=[tag],
        operation_id=f"list_{path}",
    )
    def list_(request, name: str, response: HttpResponse, paging: Query[Paging]):
        return _endpoint_page(request, response, _host(name), template, paging)

    @api.post(
        f"/hosts/{{name}}/{path}",
        response={201: EndpointOut, **ERRORS},
        tags=[tag],
        operation_id=f"create_{path}",
    )
    def create(request, name: str, body: EndpointIn):
        host = _host(name)
        return Status(
            201, _endpoint_out(_save_endpoint(request, host, body, template or body.is_template, None))
        )

    @api.get(
        f"/hosts/{{name}}/{path}/{{section}}",
        response={200: EndpointOut, 404: ErrorOut},
        tags=[tag],
        operation_id=f"get_{path}",
    )
    def get(request, name: str, section: str):
        return _endpoint_out(_find_endpoint(_host(name), section, template))

    @api.put(
        f"/hosts/{{name}}/{path}/{{section}}",
        response={200: EndpointOut, **ERRORS},
        tags=[tag],
        operation_id=f"update_{path}",
    )
    def update(request, name: str, section: str, body: EndpointIn):
        host = _host(name)
        current = _find_endpoint(host, section, template)
        return _endpoint_out(_save_endpoint(request, host, body, template or body.is_template, current))

    @api.delete(
        f"/hosts/{{name}}/{path}/{{section}}",
        response={204: None, 404: ErrorOut, 409: ErrorOut},
        tags=[tag],
        operation_id=f"delete_{path}",
    )
    def delete(request, name: str, section: str):
        endpoint = _find_endpoint(_host(name), section, template)
        services.delete_endpoint(endpoint, **_as(request, f"[{endpoint.name}] deleted"))
        return Status(204, None)


_endpoint_routes("endpoints", False, "endpoints")
_endpoint_routes("templates", True, "templates")


# ---------------------------------------------------------------------------------------------
# Keys (shared by all hosts)


def _key_uses(keys: list[Key]) -> dict[int, list[dict]]:
    """key id -> where it is used (endpoints by host and name, then registrations): three queries
    for any number of keys."""
    endpoints: dict[int, set[tuple[str, str]]] = {k.pk: set() for k in keys}
    for key_id, host, name in Endpoint.objects.filter(outkey__in=keys).values_list(
        "outkey_id", "host__name", "name"
    ):
        endpoints[key_id].add((host, name))
    for key_id, host, name in EndpointInKey.objects.filter(key__in=keys).values_list(
        "key_id", "endpoint__host__name", "endpoint__name"
    ):
        endpoints[key_id].add((host, name))
    uses = {
        pk: [{"host": h, "kind": "endpoint", "name": n} for h, n in sorted(found)]
        for pk, found in endpoints.items()
    }
    for key_id, host, user, remote in (
        Registration.objects.filter(key__in=keys)
        .order_by("host__name", "position", "id")
        .values_list("key_id", "host__name", "username", "remote_host")
    ):
        uses[key_id].append({"host": host, "kind": "registration", "name": f"{user}@{remote}"})
    return uses


def _key_out(key: Key, uses: list[dict] | None = None, version: int | None = None) -> dict:
    uses = _key_uses([key])[key.pk] if uses is None else uses
    return {
        "name": key.name,
        "public_pem": key.public_pem,
        "fingerprint": key.fingerprint,
        "bits": key.bits,
        "has_private": key.has_private,
        "private_encrypted": key.private_encrypted,
        "used_by": uses,
        "version": services.version_of(key) if version is None else version,
    }


def _get_key(name: str) -> Key:
    key = Key.objects.filter(name=name).first()
    if key is None:
        raise Refused(404, f"no key named {name!r}")
    return key


def _key_material(body: KeyIn) -> rsa_keys.KeyMaterial:
    try:
        return rsa_keys.read(body.public_pem, body.private_pem, body.passphrase or None)
    except rsa_keys.KeyProblem as exc:
        finding = {
            "severity": "error",
            "code": "invalid-key",
            "section": "",
            "directive": None,
            "value": None,
            "part": exc.field,
            "message": exc.message,
        }
        raise Refused(400, exc.message, [finding]) from None


@api.get("/keys", response=list[KeyOut], tags=["keys"])
def list_keys(request, response: HttpResponse, paging: Query[Paging]):
    keys = _page(request, response, Key.objects.order_by("name"), paging)
    uses = _key_uses(keys)
    versions = _versions(("key",), [k.pk for k in keys])
    return [_key_out(k, uses[k.pk], versions.get(k.pk, 0)) for k in keys]


@api.post("/keys", response={201: KeyOut, **ERRORS}, tags=["keys"])
def create_key(request, body: KeyIn):
    key = services.store_key(body.name, _key_material(body), **_as(request, f"key {body.name} created"))
    return Status(201, _key_out(key))


@api.get("/keys/{name}", response={200: KeyOut, 404: ErrorOut}, tags=["keys"])
def get_key(request, name: str):
    return _key_out(_get_key(name))


@api.put("/keys/{name}", response={200: KeyOut, **ERRORS}, tags=["keys"])
def update_key(request, name: str, body: KeyIn):
    """Replace a key's public part (and its private part when one is given: it is write-only, so an
    update without one keeps the stored one). Renaming is refused while configs refer to the key."""
    key = services.store_key(
        body.name,
        _key_material(body),
        key=_get_key(name),
        keep_private=True,
        expected_version=body.version,
        **_as(request, f"key {body.name} changed"),
    )
    return _key_out(key)


@api.delete("/keys/{name}", response={204: None, 404: ErrorOut, 409: ErrorOut}, tags=["keys"])
def delete_key(request, name: str):
    services.delete_key(_get_key(name), **_as(request, f"key {name} deleted"))
    return Status(204, None)


# ---------------------------------------------------------------------------------------------
# Registrations


def _registration_out(r: Registration, version: int | None = None) -> dict:
    return {
        "id": r.pk,
        "position": r.position,
        "username": r.username,
        "secret_set": bool(r.secret),
        "key": r.key.name if r.key_id else None,
        "remote_host": r.remote_host,
        "remote_port": r.remote_port,
        "version": services.version_of(r) if version is None else version,
    }


def _get_registration(host: Host, pk: int) -> Registration:
    registration = host.registrations.select_related("key").filter(pk=pk).first()
    if registration is None:
        raise Refused(404, f"host {host.name!r} has no registration {pk}")
    return registration


def _save_registration(
    request, host: Host, registration: Registration | None, body: RegistrationIn, verb: str
):
    return services.save_registration(
        host,
        registration=registration,
        username=body.username,
        secret=services.KEEP if body.secret is None else body.secret,
        key=body.key or None,
        remote_host=body.remote_host,
        remote_port=body.remote_port,
        position=body.position,
        expected_version=body.version,
        **_as(request, f"registration {verb}"),
    )


@api.get(
    "/hosts/{name}/registrations",
    response={200: list[RegistrationOut], 404: ErrorOut},
    tags=["registrations"],
)
def list_registrations(request, name: str, response: HttpResponse, paging: Query[Paging]):
    rows = _page(
        request, response, _host(name).registrations.select_related("key").order_by("position", "id"), paging
    )
    versions = _versions(("registration",), [r.pk for r in rows])
    return [_registration_out(r, versions.get(r.pk, 0)) for r in rows]


@api.post("/hosts/{name}/registrations", response={201: RegistrationOut, **ERRORS}, tags=["registrations"])
def create_registration(request, name: str, body: RegistrationIn):
    host = _host(name)
    return Status(201, _registration_out(_save_registration(request, host, None, body, "created")))


@api.get(
    "/hosts/{name}/registrations/{pk}", response={200: RegistrationOut, 404: ErrorOut}, tags=["registrations"]
)
def get_registration(request, name: str, pk: int):
    return _registration_out(_get_registration(_host(name), pk))


@api.put(
    "/hosts/{name}/registrations/{pk}", response={200: RegistrationOut, **ERRORS}, tags=["registrations"]
)
def update_registration(request, name: str, pk: int, body: RegistrationIn):
    host = _host(name)
    return _registration_out(_save_registration(request, host, _get_registration(host, pk), body, "changed"))


@api.delete("/hosts/{name}/registrations/{pk}", response={204: None, 404: ErrorOut}, tags=["registrations"])
def delete_registration(request, name: str, pk: int):
    registration = _get_registration(_host(name), pk)
    services.delete_registration(registration, **_as(request, "registration deleted"))
    return Status(204, None)


# ---------------------------------------------------------------------------------------------
# Call-number limits


def _limit_out(limit: CallNumberLimit, version: int | None = None) -> dict:
    return {
        "id": limit.pk,
        "position": limit.position,
        "network": limit.network,
        "limit": limit.limit,
        "version": services.version_of(limit) if version is None else version,
    }


def _get_limit(host: Host, pk: int) -> CallNumberLimit:
    limit = host.callnumber_limits.filter(pk=pk).first()
    if limit is None:
        raise Refused(404, f"host {host.name!r} has no call-number limit {pk}")
    return limit


def _save_limit(request, host: Host, limit: CallNumberLimit | None, body: LimitIn, verb: str):
    return services.save_callnumber_limit(
        host,
        limit=limit,
        network=body.network.strip(),
        value=body.limit,
        position=body.position,
        expected_version=body.version,
        **_as(request, f"call-number limit {verb}"),
    )


@api.get(
    "/hosts/{name}/callnumberlimits", response={200: list[LimitOut], 404: ErrorOut}, tags=["callnumberlimits"]
)
def list_limits(request, name: str, response: HttpResponse, paging: Query[Paging]):
    rows = _page(request, response, _host(name).callnumber_limits.order_by("position", "id"), paging)
    versions = _versions(("callnumberlimit",), [r.pk for r in rows])
    return [_limit_out(r, versions.get(r.pk, 0)) for r in rows]


@api.post("/hosts/{name}/callnumberlimits", response={201: LimitOut, **ERRORS}, tags=["callnumberlimits"])
def create_limit(request, name: str, body: LimitIn):
    host = _host(name)
    return Status(201, _limit_out(_save_limit(request, host, None, body, "created")))


@api.get(
    "/hosts/{name}/callnumberlimits/{pk}", response={200: LimitOut, 404: ErrorOut}, tags=["callnumberlimits"]
)
def get_limit(request, name: str, pk: int):
    return _limit_out(_get_limit(_host(name), pk))


@api.put("/hosts/{name}/callnumberlimits/{pk}", response={200: LimitOut, **ERRORS}, tags=["callnumberlimits"])
def update_limit(request, name: str, pk: int, body: LimitIn):
    host = _host(name)
    return _limit_out(_save_limit(request, host, _get_limit(host, pk), body, "changed"))


@api.delete(
    "/hosts/{name}/callnumberlimits/{pk}", response={204: None, 404: ErrorOut}, tags=["callnumberlimits"]
)
def delete_limit(request, name: str, pk: int):
    limit = _get_limit(_host(name), pk)
    services.delete_callnumber_limit(limit, **_as(request, "call-number limit deleted"))
    return Status(204, None)


# ---------------------------------------------------------------------------------------------
# A docs page that needs nothing from the internet


def docs(request):
    """The operations of the OpenAPI description as a plain HTML page (no JavaScript, no CDN)."""
    schema = api.get_openapi_schema(path_prefix="/api/v1")
    rows = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code></td>"
                f"<td>{html.escape(operation.get('summary', ''))}</td></tr>"
            )
    page = (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>iaxadmin API</title>"
        "<style>body{font-family:sans-serif;margin:2em}td{padding:.2em 1em}</style></head><body>"
        "<h1>iaxadmin API v1</h1><p>Send <code>Authorization: Bearer iaxu_...</code> (a user token: "
        "<code>manage.py iax_token --user NAME</code>). The full description is "
        '<a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>'
        "<table><thead><tr><th>Method</th><th>Path</th><th>What</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></body></html>"
    )
    return HttpResponse(page)


api.add_router("", "peers.api.simulate.router")  # the simulator and the dialplan's contexts (issue 16)
