"""The JSON API under /api/v1/ (django-ninja): hosts, [general], endpoints, templates, keys,
registrations and call-number limits, for people and scripts with a user token
(``Authorization: Bearer iaxu_...``; ``manage.py iax_token --user NAME``).

Every write goes through ``peers.services`` with the token as the actor (audited as
"api:<token name>"), inside a transaction that also validates the host's config as it would be
after the change (``exporter.export_host``): a change that brings in an error finding for the object
being saved is rolled back and answered with 400 and the findings
(``[{severity, code, section, directive, value, message}]``), the same rules the forms apply.
Secrets are write-only: a ``secret`` line, a registration's secret and a private key are never
returned (``secret_set`` / ``has_private`` say whether there is one).

django-ninja, not DRF: typed pydantic schemas give the OpenAPI description (/api/v1/openapi.json)
for free, it is one small dependency, and the views stay plain functions over ``services``.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Annotated

from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.db.models import Max, ProtectedError, Q
from django.http import HttpResponse
from ninja import Field, NinjaAPI, Schema, Status
from ninja.errors import HttpError
from ninja.security import HttpBearer
from pydantic import AfterValidator

from .. import keys as rsa_keys
from .. import services
from ..exporter import export_host
from ..iaxconf import Entry, Finding, Section, values
from ..models import CallNumberLimit, Endpoint, GeneralSettings, Host, Key, Registration, UserToken
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
    def __init__(self, status: int, detail: str, findings: list[dict] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.findings = status, detail, findings or []


@api.exception_handler(Refused)
def _refused(request, exc: Refused):
    return api.create_response(request, {"detail": exc.detail, "findings": exc.findings}, status=exc.status)


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
        "message": f.message,
    }


def _error(code: str, directive: str | None, value, message: str, section: str = "") -> dict:
    return {
        "severity": "error",
        "code": code,
        "section": section,
        "directive": directive,
        "value": None if value is None else str(value),
        "message": message,
    }


def _from_validation_error(exc: ValidationError) -> Refused:
    found = []
    for field, messages in exc.message_dict.items():
        for message in messages:
            found.append(_error("invalid", None if field == "__all__" else field, None, message))
    return Refused(400, "invalid value(s)", found)


# ---------------------------------------------------------------------------------------------
# Validation: the host's config after the change, inside the transaction


def _scope(section: str, directive: str | None = None, *, exclude_directive: str | None = None):
    section = section.lower()

    def wanted(f: Finding) -> bool:
        if not f.is_error:
            return False
        if f.section == "":  # file-level: nothing can be rendered, etc.
            return True
        if f.section.lower() != section:
            return False
        name = (f.directive or "").lower()
        if directive is not None and name != directive:
            return False
        return exclude_directive is None or name != exclude_directive

    return wanted


def _signature(f: Finding) -> tuple:
    return (f.code, f.section.lower(), (f.directive or "").lower(), f.value)


def _guarded(host: Host, wanted, write):
    """Run write() in a transaction; roll it back with 400 when the host's config then has an
    error finding that ``wanted`` selects and that was not there before."""
    before = {_signature(f) for f in export_host(host).findings if wanted(f)}
    try:
        with transaction.atomic():
            result = write()
            new = [f for f in export_host(host).findings if wanted(f) and _signature(f) not in before]
            if new:
                raise Refused(
                    400, "the change would make the configuration invalid", [_finding(f) for f in new]
                )
    except ValidationError as exc:
        raise _from_validation_error(exc) from None
    except values.Invalid as exc:
        raise Refused(400, str(exc), [_error("invalid-value", None, None, str(exc))]) from None
    except services.MissingKeys as exc:
        raise Refused(
            400, str(exc), [_error("unknown-key", None, n, f"no key named {n!r}") for n in exc.names]
        ) from None
    except LookupError as exc:
        raise Refused(400, str(exc), [_error("unknown-section", None, None, str(exc))]) from None
    except IntegrityError as exc:
        raise Refused(409, f"conflicts with an existing object: {exc}") from None
    return result


# ---------------------------------------------------------------------------------------------
# Schemas


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Count = Annotated[int, Field(ge=0, le=2_147_483_647)]


class FindingOut(Schema):
    severity: str
    code: str
    section: str
    directive: str | None
    value: str | None
    message: str


class ErrorOut(Schema):
    detail: str
    findings: list[FindingOut] = []


class HostIn(Schema):
    name: Annotated[Text, Field(max_length=63)]
    description: Annotated[Text, Field(max_length=200)] = ""


class HostUpdate(Schema):
    description: Annotated[Text, Field(max_length=200)]


class HostOut(Schema):
    name: str
    description: str
    created_at: datetime
    updated_at: datetime
    latest_revision: int | None


class Option(Schema):
    name: Annotated[Text, Field(min_length=1, max_length=40)]
    value: Annotated[Text, Field(max_length=255)] = ""


class GeneralIO(Schema):
    comment: Annotated[Text, Field(max_length=10_000)] = ""
    options: list[Option] = []


class EndpointIn(Schema):
    name: Annotated[Text, Field(min_length=1, max_length=79)]
    kind: Annotated[Text, Field(max_length=6)] = ""
    is_template: bool = False
    bases: list[Annotated[Text, Field(min_length=1, max_length=79)]] = []
    entries: list[Option] = []
    comment: Annotated[Text, Field(max_length=10_000)] = ""
    clear_secret: bool = Field(False, description="Remove the secret (a PUT without a secret line keeps it).")


class EndpointOut(Schema):
    name: str
    kind: str
    is_template: bool
    position: int
    bases: list[str]
    entries: list[Option]
    comment: str
    secret_set: bool


class KeyIn(Schema):
    name: Annotated[Text, Field(min_length=1, max_length=64)]
    public_pem: Annotated[Text, Field(max_length=20_000)]
    private_pem: Annotated[Text, Field(max_length=20_000)] = Field("", description="Write-only.")
    passphrase: Annotated[Text, Field(max_length=1_000)] = Field("", description="Write-only; not stored.")


class KeyUse(Schema):
    host: str
    kind: str
    name: str


class KeyOut(Schema):
    name: str
    public_pem: str
    fingerprint: str
    bits: int
    has_private: bool
    private_encrypted: bool
    used_by: list[KeyUse]


class RegistrationIn(Schema):
    username: Annotated[Text, Field(min_length=1, max_length=79)]
    secret: Annotated[Text, Field(max_length=79)] | None = Field(
        None, description="Write-only. Omitted or null on update: the secret is kept."
    )
    key: Annotated[Text, Field(max_length=64)] | None = None
    remote_host: Annotated[Text, Field(min_length=1, max_length=253)]
    remote_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    position: Count | None = None


class RegistrationOut(Schema):
    id: int
    position: int
    username: str
    secret_set: bool
    key: str | None
    remote_host: str
    remote_port: int | None


class LimitIn(Schema):
    network: Annotated[Text, Field(min_length=1, max_length=64)]
    limit: Count
    position: Count | None = None


class LimitOut(Schema):
    id: int
    position: int
    network: str
    limit: int


ERRORS = {400: ErrorOut, 404: ErrorOut, 409: ErrorOut}


def _host(name: str) -> Host:
    host = Host.objects.filter(name=name).first()
    if host is None:
        raise Refused(404, f"no host named {name!r}")
    return host


def _actor_message(request, what: str) -> dict:
    return {"actor": request.auth, "message": f"{what} via the API"}


# ---------------------------------------------------------------------------------------------
# Hosts


def _host_out(host: Host, latest: int | None) -> dict:
    return {
        "name": host.name,
        "description": host.description,
        "created_at": host.created_at,
        "updated_at": host.updated_at,
        "latest_revision": latest,
    }


@api.get("/hosts", response=list[HostOut], tags=["hosts"])
def list_hosts(request):
    return [_host_out(h, h.latest) for h in Host.objects.annotate(latest=Max("revisions__number"))]


@api.post("/hosts", response={201: HostOut, **ERRORS}, tags=["hosts"])
def create_host(request, body: HostIn):
    if not roles.has_role(request.auth.user, "admin"):
        raise Refused(403, "creating a host needs the admin role")
    if Host.objects.filter(name=body.name).exists():
        raise Refused(409, f"a host named {body.name!r} exists")
    try:
        host = services.save_host(
            Host(name=body.name, description=body.description), **_actor_message(request, "host created")
        )
    except ValidationError as exc:
        raise _from_validation_error(exc) from None
    return Status(201, _host_out(host, None))


@api.get("/hosts/{name}", response={200: HostOut, 404: ErrorOut}, tags=["hosts"])
def get_host(request, name: str):
    host = _host(name)
    return _host_out(host, host.revisions.aggregate(n=Max("number"))["n"])


@api.put("/hosts/{name}", response={200: HostOut, **ERRORS}, tags=["hosts"])
def update_host(request, name: str, body: HostUpdate):
    host = _host(name)
    host.description = body.description
    try:
        services.save_host(host, **_actor_message(request, "host changed"))
    except ValidationError as exc:
        raise _from_validation_error(exc) from None
    return get_host(request, name)


# ---------------------------------------------------------------------------------------------
# [general]


@api.get("/hosts/{name}/general", response={200: GeneralIO, 404: ErrorOut}, tags=["general"])
def get_general(request, name: str):
    host = _host(name)
    general = GeneralSettings.objects.filter(host=host).first()
    if general is None:
        return {"comment": "", "options": []}
    return {
        "comment": general.comment,
        "options": [{"name": o.name, "value": o.value} for o in general.options.all()],
    }


@api.put("/hosts/{name}/general", response={200: GeneralIO, **ERRORS}, tags=["general"])
def put_general(request, name: str, body: GeneralIO):
    host = _host(name)
    if any(o.name.strip().lower() == "register" for o in body.options):
        raise Refused(
            400,
            "register lines are registrations: use /hosts/{name}/registrations",
            [_error("register-in-general", "register", None, "use the registrations endpoints")],
        )
    entries = [Entry(o.name.strip(), o.value) for o in body.options]
    comment = body.comment

    def write():
        return services.save_general(
            host, entries, comment=comment, **_actor_message(request, "[general] saved")
        )

    _guarded(host, _scope("general", exclude_directive="register"), write)
    return get_general(request, name)


# ---------------------------------------------------------------------------------------------
# Endpoints and templates


def _endpoint_out(endpoint: Endpoint) -> dict:
    section = services.endpoint_section(endpoint)
    entries = [e for e in section.entries if e.name.lower() != "type"]
    return {
        "name": endpoint.name,
        "kind": endpoint.kind,
        "is_template": endpoint.is_template,
        "position": endpoint.position,
        "bases": list(section.bases),
        "entries": [{"name": e.name, "value": e.value} for e in entries if e.name.lower() != SECRET],
        "comment": endpoint.comment,
        "secret_set": any(e.name.lower() == SECRET and e.value for e in entries),
    }


def _find_endpoint(host: Host, name: str, template: bool) -> Endpoint:
    endpoint = host.endpoints.filter(name__iexact=name, is_template=template).first()
    if endpoint is None:
        what = "template" if template else "endpoint"
        raise Refused(404, f"host {host.name!r} has no {what} [{name}]")
    return endpoint


def _section(body: EndpointIn, template: bool, current: Endpoint | None) -> tuple[Section, str | None]:
    kind = body.kind.strip().lower()
    if kind not in ("", *Endpoint.Kind.values):
        raise Refused(
            400,
            "kind must be peer, user or friend",
            [_error("invalid-kind", "type", kind, "peer, user or friend")],
        )
    if not template and not kind:
        raise Refused(
            400, "an endpoint needs a kind", [_error("missing-kind", "type", "", "peer, user or friend")]
        )
    names = [o.name.strip().lower() for o in body.entries]
    if "type" in names:
        raise Refused(
            400, "give the type as kind, not as an entry", [_error("type-entry", "type", None, "use kind")]
        )
    entries = [Entry("type", kind)] if kind else []
    entries += [Entry(o.name.strip(), o.value) for o in body.entries]
    if current is not None and SECRET not in names and not body.clear_secret:
        kept = [e for e in services.endpoint_section(current).entries if e.name.lower() == SECRET]
        entries += kept  # secrets are write-only: a PUT without one keeps the current one
    comments = body.comment.replace("\r\n", "\n").split("\n") if body.comment else []
    section = Section(
        name=body.name.strip(),
        entries=entries,
        is_template=template,
        bases=list(body.bases),
        comments=comments,
    )
    return section, (None if template else kind)


def _save_endpoint(request, host: Host, body: EndpointIn, template: bool, current: Endpoint | None):
    section, kind = _section(body, template, current)
    if not section.name:
        raise Refused(400, "name is empty", [_error("invalid-name", None, "", "a section needs a name")])
    clash = host.endpoints.filter(name__iexact=section.name)
    if current is not None:
        clash = clash.exclude(pk=current.pk)
    if clash.exists():
        raise Refused(409, f"host {host.name!r} already has a section [{section.name}]")
    verb = "created" if current is None else "changed"

    def write():
        return services.save_endpoint(
            host, section, kind=kind, endpoint=current, **_actor_message(request, f"[{section.name}] {verb}")
        )

    return _guarded(host, _scope(section.name), write)


def _endpoint_routes(path: str, template: bool, tag: str) -> None:
    @api.get(
        f"/hosts/{{name}}/{path}",
        response={200: list[EndpointOut], 404: ErrorOut},
        tags=[tag],
        operation_id=f"list_{path}",
    )
    def list_(request, name: str):
        host = _host(name)
        return [
            _endpoint_out(e) for e in host.endpoints.filter(is_template=template).order_by("position", "id")
        ]

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
        if body.is_template != current.is_template and not template:
            raise Refused(
                400,
                "an endpoint cannot become a template",
                [_error("is-template", None, None, "create a template instead")],
            )
        return _endpoint_out(_save_endpoint(request, host, body, current.is_template, current))

    @api.delete(
        f"/hosts/{{name}}/{path}/{{section}}",
        response={204: None, 404: ErrorOut, 409: ErrorOut},
        tags=[tag],
        operation_id=f"delete_{path}",
    )
    def delete(request, name: str, section: str):
        endpoint = _find_endpoint(_host(name), section, template)
        try:
            services.delete_endpoint(endpoint, **_actor_message(request, f"[{endpoint.name}] deleted"))
        except ProtectedError:
            raise Refused(409, f"[{endpoint.name}] is a base of other sections; change those first") from None
        return Status(204, None)


_endpoint_routes("endpoints", False, "endpoints")
_endpoint_routes("templates", True, "templates")


# ---------------------------------------------------------------------------------------------
# Keys (shared by all hosts)


def _key_out(key: Key) -> dict:
    uses = [
        {"host": h, "kind": "endpoint", "name": n}
        for h, n in Endpoint.objects.filter(Q(outkey=key) | Q(inkey_links__key=key))
        .values_list("host__name", "name")
        .distinct()
        .order_by("host__name", "name")
    ]
    uses += [
        {"host": h, "kind": "registration", "name": f"{u}@{r}"}
        for h, u, r in key.registrations.values_list("host__name", "username", "remote_host").order_by(
            "host__name"
        )
    ]
    return {
        "name": key.name,
        "public_pem": key.public_pem,
        "fingerprint": key.fingerprint,
        "bits": key.bits,
        "has_private": key.has_private,
        "private_encrypted": key.private_encrypted,
        "used_by": uses,
    }


def _get_key(name: str) -> Key:
    key = Key.objects.filter(name=name).first()
    if key is None:
        raise Refused(404, f"no key named {name!r}")
    return key


def _key_material(body: KeyIn) -> rsa_keys.KeyMaterial:
    try:
        rsa_keys.check_name(body.name)
        return rsa_keys.read(body.public_pem, body.private_pem, body.passphrase or None)
    except rsa_keys.KeyProblem as exc:
        raise Refused(400, exc.message, [_error("invalid-key", exc.field, None, exc.message)]) from None


def _store_key(request, key: Key, body: KeyIn, verb: str) -> Key:
    material = _key_material(body)
    key.name = body.name
    key.public_pem, key.bits, key.fingerprint = material.public_pem, material.bits, material.fingerprint
    if material.private_pem or verb == "created":
        key.private_pem, key.private_encrypted = material.private_pem, material.private_encrypted
    try:
        return services.save_key(key, **_actor_message(request, f"key {body.name} {verb}"))
    except values.Invalid as exc:
        raise Refused(400, str(exc), [_error("invalid-value", "name", body.name, str(exc))]) from None


@api.get("/keys", response=list[KeyOut], tags=["keys"])
def list_keys(request):
    return [_key_out(k) for k in Key.objects.all()]


@api.post("/keys", response={201: KeyOut, **ERRORS}, tags=["keys"])
def create_key(request, body: KeyIn):
    if Key.objects.filter(name=body.name).exists():
        raise Refused(409, f"a key named {body.name!r} exists")
    return Status(201, _key_out(_store_key(request, Key(), body, "created")))


@api.get("/keys/{name}", response={200: KeyOut, 404: ErrorOut}, tags=["keys"])
def get_key(request, name: str):
    return _key_out(_get_key(name))


@api.put("/keys/{name}", response={200: KeyOut, **ERRORS}, tags=["keys"])
def update_key(request, name: str, body: KeyIn):
    """Replace a key's public part (and its private part when one is given: it is write-only, so an
    update without one keeps the stored one). Renaming is refused while configs refer to the key."""
    key = _get_key(name)
    if body.name != key.name:
        if Key.objects.filter(name=body.name).exists():
            raise Refused(409, f"a key named {body.name!r} exists")
        if _key_out(key)["used_by"]:
            raise Refused(409, f"key {name!r} is in use; it cannot be renamed")
    return _key_out(_store_key(request, key, body, "changed"))


@api.delete("/keys/{name}", response={204: None, 404: ErrorOut, 409: ErrorOut}, tags=["keys"])
def delete_key(request, name: str):
    key = _get_key(name)
    try:
        services.delete_key(key, **_actor_message(request, f"key {name} deleted"))
    except ProtectedError:
        raise Refused(409, f"key {name!r} is in use") from None
    return Status(204, None)


# ---------------------------------------------------------------------------------------------
# Registrations


def _registration_out(r: Registration) -> dict:
    return {
        "id": r.pk,
        "position": r.position,
        "username": r.username,
        "secret_set": bool(r.secret),
        "key": r.key.name if r.key_id else None,
        "remote_host": r.remote_host,
        "remote_port": r.remote_port,
    }


def _get_registration(host: Host, pk: int) -> Registration:
    registration = host.registrations.select_related("key").filter(pk=pk).first()
    if registration is None:
        raise Refused(404, f"host {host.name!r} has no registration {pk}")
    return registration


def _save_registration(request, host: Host, registration: Registration, body: RegistrationIn, verb: str):
    key = None
    if body.key:
        key = Key.objects.filter(name=body.key).first()
        if key is None:
            raise Refused(
                400,
                f"no key named {body.key!r}",
                [_error("unknown-key", "register", body.key, "no such key")],
            )
    registration.username, registration.remote_host = body.username, body.remote_host
    registration.remote_port, registration.key = body.remote_port, key
    if body.secret is not None:
        registration.secret = body.secret
    if key is not None:
        registration.secret = ""
    if body.position is not None:
        registration.position = body.position
    elif registration.pk is None:
        last = host.registrations.aggregate(n=Max("position"))["n"]
        registration.position = 0 if last is None else last + 1
    try:
        values.register_line(registration.line())
    except values.Invalid as exc:
        finding = _error("invalid-value", "register", None, str(exc), "general")
        raise Refused(400, f"register line: {exc}", [finding]) from None

    def write():
        return services.save_registration(registration, **_actor_message(request, f"registration {verb}"))

    return _guarded(host, _scope("general", "register"), write)


@api.get(
    "/hosts/{name}/registrations",
    response={200: list[RegistrationOut], 404: ErrorOut},
    tags=["registrations"],
)
def list_registrations(request, name: str):
    return [_registration_out(r) for r in _host(name).registrations.select_related("key")]


@api.post("/hosts/{name}/registrations", response={201: RegistrationOut, **ERRORS}, tags=["registrations"])
def create_registration(request, name: str, body: RegistrationIn):
    host = _host(name)
    return Status(
        201, _registration_out(_save_registration(request, host, Registration(host=host), body, "created"))
    )


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
    services.delete_registration(registration, **_actor_message(request, "registration deleted"))
    return Status(204, None)


# ---------------------------------------------------------------------------------------------
# Call-number limits


def _limit_out(limit: CallNumberLimit) -> dict:
    return {"id": limit.pk, "position": limit.position, "network": limit.network, "limit": limit.limit}


def _get_limit(host: Host, pk: int) -> CallNumberLimit:
    limit = host.callnumber_limits.filter(pk=pk).first()
    if limit is None:
        raise Refused(404, f"host {host.name!r} has no call-number limit {pk}")
    return limit


def _save_limit(request, host: Host, limit: CallNumberLimit, body: LimitIn, verb: str):
    limit.network, limit.limit = body.network.strip(), body.limit
    if body.position is not None:
        limit.position = body.position
    elif limit.pk is None:
        last = host.callnumber_limits.aggregate(n=Max("position"))["n"]
        limit.position = 0 if last is None else last + 1
    try:
        values.network(limit.network)
    except values.Invalid as exc:
        finding = _error("invalid-value", "network", body.network, str(exc), "callnumberlimits")
        raise Refused(400, f"network: {exc}", [finding]) from None

    def write():
        return services.save_callnumber_limit(limit, **_actor_message(request, f"call-number limit {verb}"))

    return _guarded(host, _scope("callnumberlimits"), write)


@api.get(
    "/hosts/{name}/callnumberlimits", response={200: list[LimitOut], 404: ErrorOut}, tags=["callnumberlimits"]
)
def list_limits(request, name: str):
    return [_limit_out(limit) for limit in _host(name).callnumber_limits.all()]


@api.post("/hosts/{name}/callnumberlimits", response={201: LimitOut, **ERRORS}, tags=["callnumberlimits"])
def create_limit(request, name: str, body: LimitIn):
    host = _host(name)
    return Status(201, _limit_out(_save_limit(request, host, CallNumberLimit(host=host), body, "created")))


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
    services.delete_callnumber_limit(limit, **_actor_message(request, "call-number limit deleted"))
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
