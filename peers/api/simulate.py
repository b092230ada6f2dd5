"""The call and registration simulator in the JSON API, and a host's dialplan contexts.

    POST   /api/v1/hosts/<name>/simulate/call          what chan_iax2 does with a call (a read:
    POST   /api/v1/hosts/<name>/simulate/registration  a viewer's token may ask; nothing is written)
    GET    /api/v1/hosts/<name>/dialplan                the contexts iaxadmin knows (404: none)
    PUT    /api/v1/hosts/<name>/dialplan                replace them (editor; audited)
    DELETE /api/v1/hosts/<name>/dialplan                forget them (editor; audited)

A router of its own, mounted on the API of ``peers.api.resources`` (same tokens, errors and
OpenAPI description). The answer of a simulation is ``peers.iaxconf.simulate.Result.to_dict()``
plus ``host`` and ``fix_url`` (the form where the fix is made). A parameter the simulator cannot
use is answered 400 naming it.
"""

from __future__ import annotations

from typing import Annotated

from django.urls import reverse
from ninja import Field, Router, Schema, Status

from .. import services
from ..iaxconf.simulate import Call, Registration, SimulationError
from ..models import DialplanContexts, UserToken
from ..security import roles, tokens
from ..simulation import fix_target, simulate_call, simulate_registration
from .resources import ERRORS, ErrorOut, Refused, Text, UserTokenAuth, Version, _as, _host

router = Router(tags=["simulate"])

# marks a POST that only reads, in the OpenAPI description: a viewer's token may make it
READ = {"x-iaxadmin-read": True}
Name = Annotated[Text, Field(max_length=79)]
Words = list[Annotated[Text, Field(max_length=20)]]


class ReadTokenAuth(UserTokenAuth):
    """A simulation is a read whatever its method: the token's user needs the viewer role."""

    def authenticate(self, request, token: str):
        row = tokens.verify(token, tokens.USER_KIND, queryset=UserToken.objects.select_related("user"))
        if row is None:
            return super().authenticate(request, token)  # host tokens and bad tokens: the usual answers
        if not row.user.is_active:
            return None
        if not roles.has_role(row.user, "viewer"):
            raise Refused(
                403, "the token's user needs the viewer role (python manage.py iax_role --role viewer)"
            )
        return row


class CallIn(Schema):
    address: Annotated[Text, Field(max_length=64, description="ip, ip:port or [ipv6]:port of the caller")]
    username: Name | None = Field(None, description="the username it sends (none: no username)")
    secret: Annotated[Text, Field(max_length=255)] | None = Field(
        None, description="never stored or returned"
    )
    key: Name | None = Field(None, description="the RSA key pair it signs with")
    auth: Words | None = Field(
        None, max_length=3, description="methods it implements (default: all it can use)"
    )
    context: Name | None = None
    exten: Name | None = None
    calltoken: bool = True
    codecs: Words | None = Field(
        None, max_length=32, description="offered codecs, preferred first (default any)"
    )
    encryption: bool = False


class RegistrationIn(Schema):
    peer: Name
    address: Annotated[Text, Field(max_length=64)]
    secret: Annotated[Text, Field(max_length=255)] | None = None
    key: Name | None = None
    auth: Words | None = Field(None, max_length=3)
    calltoken: bool = True


class CandidateOut(Schema):
    section: str
    kind: str
    included: bool
    reasons: list[str]
    score: int | None
    chosen: bool


class FixOut(Schema):
    text: str
    section: str | None
    directive: str | None
    value: str | None


class StepOut(Schema):
    stage: str
    ok: bool | None
    text: str


class LoggedOut(Schema):
    level: str
    source: str
    message: str
    authdebug: bool
    exact: bool
    side: str
    text: str


class SimulationOut(Schema):
    host: str
    kind: str
    outcome: str = Field(description="accepted, rejected or ambiguous")
    section: str | None
    candidates: list[CandidateOut]
    cause: str | None
    cause_code: int | None
    log: str | None = Field(description="the line Asterisk logs about it")
    log_lines: list[LoggedOut]
    fix: FixOut | None
    fix_url: str | None
    steps: list[StepOut]
    context: str | None
    exten: str | None
    codec: str | None
    auth_method: str | None
    encrypted: bool
    conditions: list[str]
    warnings: list[str]
    tied: list[str]
    pick: str | None
    authdebug: bool
    peer_row: dict | None = None


def _answer(host, result) -> dict:
    target = fix_target(host, result.fix)
    url = reverse(target.url_name, args=target.args) + target.anchor if target else None
    return {"host": host.name, "fix_url": url, **result.to_dict()}


def _bad(exc: SimulationError) -> Refused:
    return Refused(400, f"{exc.field} {exc.value!r}: {exc.message}")


def _tuple(values) -> tuple | None:
    return tuple(values) if values is not None else None


def _simulated(name: str, request, simulate) -> dict:
    """The answer of ``simulate(host, request())``; a parameter the simulator cannot use is a 400."""
    host = _host(name)
    try:
        return _answer(host, simulate(host, request()))
    except SimulationError as exc:
        raise _bad(exc) from None


@router.post(
    "/hosts/{name}/simulate/call",
    response={200: SimulationOut, **ERRORS},
    auth=ReadTokenAuth(),
    summary="What chan_iax2 does with an incoming call, and why",
    openapi_extra=READ,
)
def simulate_call_op(request, name: str, body: CallIn):
    def call():
        return Call(
            body.address,
            username=body.username,
            secret=body.secret,
            key=body.key,
            auth=_tuple(body.auth),
            context=body.context,
            exten=body.exten,
            calltoken=body.calltoken,
            codecs=_tuple(body.codecs),
            encryption=body.encryption,
        )

    return _simulated(name, call, simulate_call)


@router.post(
    "/hosts/{name}/simulate/registration",
    response={200: SimulationOut, **ERRORS},
    auth=ReadTokenAuth(),
    summary="What chan_iax2 does with a registration, and why",
    openapi_extra=READ,
)
def simulate_registration_op(request, name: str, body: RegistrationIn):
    def registration():
        return Registration(
            body.peer,
            body.address,
            secret=body.secret,
            key=body.key,
            auth=_tuple(body.auth),
            calltoken=body.calltoken,
        )

    return _simulated(name, registration, simulate_registration)


# ---------------------------------------------------------------------------------------------
# The dialplan's contexts


class DialplanIn(Schema):
    contexts: list[Annotated[Text, Field(max_length=79)]] = Field(max_length=10_000)
    version: Version = Field(None, description="The version you read; a later change is answered 409.")


class DialplanOut(Schema):
    contexts: list[str]
    source: str
    detail: str
    version: int


def _dialplan_out(row: DialplanContexts) -> dict:
    version = services.version_of(row)
    return {"contexts": row.contexts, "source": row.source, "detail": row.detail, "version": version}


@router.get("/hosts/{name}/dialplan", response={200: DialplanOut, 404: ErrorOut})
def dialplan_get(request, name: str):
    row = DialplanContexts.objects.filter(host=_host(name)).first()
    if row is None:
        raise Refused(404, f"iaxadmin knows no dialplan contexts of host {name!r}")
    return _dialplan_out(row)


@router.put("/hosts/{name}/dialplan", response={200: DialplanOut, **ERRORS})
def dialplan_put(request, name: str, body: DialplanIn):
    row = services.save_dialplan(
        _host(name),
        body.contexts,
        source="api",
        detail="API",
        expected_version=body.version,
        **_as(request, "dialplan contexts"),
    )
    return _dialplan_out(row)


@router.delete("/hosts/{name}/dialplan", response={204: None, 404: ErrorOut})
def dialplan_delete(request, name: str):
    if not services.clear_dialplan(_host(name), **_as(request, "dialplan contexts forgotten")):
        raise Refused(404, f"iaxadmin knows no dialplan contexts of host {name!r}")
    return Status(204, None)
