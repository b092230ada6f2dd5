"""What Asterisk hosts (their ``iaxadmin-agent``) talk to: plain Django views, host tokens only.

    GET  /api/v1/hosts/<name>/iax.conf          the published iax.conf (text/plain)
    GET  /api/v1/hosts/<name>/bundle.tar.gz     iax.conf + keys/<name>.pub|.key (gzip tar)
    POST /api/v1/hosts/<name>/deployments       the agent's report (JSON) -> 201

Both GETs serve the latest published revision (``?revision=N``: that one) with
``ETag: "<sha256>"``, ``X-Iaxadmin-Revision`` and ``X-Iaxadmin-Sha256``; the sha256 is the
agent's contract (agent/README.md): sha256 over iax.conf's bytes, then per key file in name order
its name inside keys/, NUL, its bytes. ``If-None-Match`` with that value gets 304 after the token
check and one indexed query: nothing is rendered, read from the snapshot or archived.

Refusals are one line of text/plain: 401 no or bad token (a revoked one included), 403 a valid
token that may not read this host (another host's token, whether or not that host exists, or a
user token: the export is for hosts), 404 unknown revision, 409 never published.

A report may carry ``dialplan_contexts``: the context names ``dialplan show`` printed on the host
(null or absent: not read). They become the host's dialplan contexts (``services.save_dialplan``,
recorded in the history only when the list changes), which the validator and the call simulator
use.

``host_status(host)`` sums up the reports for the UI: current and deployed revision, behind or up
to date, last contact, failing registrations.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import Max
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from .. import services
from ..iaxconf.dialplan import DialplanError, check_names
from ..models import Deployment, Host, HostToken, Revision
from ..revisions import revision_key_files, whole_checksum
from ..security import tokens

MAX_REPORT_BYTES = 1024 * 1024
_HEX64 = re.compile(r"[0-9a-f]{64}")


def _text(status: int, reason: str) -> HttpResponse:
    response = HttpResponse(reason + "\n", status=status, content_type="text/plain; charset=utf-8")
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="iaxadmin"'
    return response


def _authorize(request, name: str) -> tuple[HostToken | None, int | None, HttpResponse | None]:
    """(token, host id, None) or (None, None, refusal). One query on success."""
    raw = tokens.bearer(request)
    if raw is None:
        return None, None, _text(401, "no token: send Authorization: Bearer <host token>")
    token = tokens.verify(raw, tokens.HOST_KIND, queryset=HostToken.objects.select_related("host"))
    if token is None:
        if tokens.kind_of(raw) == tokens.USER_KIND and tokens.verify(raw, tokens.USER_KIND):
            return None, None, _text(403, "a user token cannot read host exports: use the host's token")
        return None, None, _text(401, "the token is unknown or revoked")
    if token.host.name == name:
        return token, token.host_id, None
    # the same answer whether or not a host of that name exists: a token learns nothing of the others
    return (
        None,
        None,
        _text(403, f"this token may only read its own host ({token.host.name!r}), not {name!r}"),
    )


def _matches(if_none_match: str, sha: str) -> bool:
    if not if_none_match:
        return False
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*":
            return True
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag.strip('"') == sha:
            return True
    return False


def _headers(response: HttpResponse, number: int, sha: str) -> HttpResponse:
    response["ETag"] = f'"{sha}"'
    response["X-Iaxadmin-Revision"] = str(number)
    response["X-Iaxadmin-Sha256"] = sha
    response["Cache-Control"] = "private, no-cache"
    response["Vary"] = "Authorization"
    return response


# The agent's poll, in one statement: the token by its prefix (unique index), its host, and the
# requested (or latest) revision of that host (the (host, number) unique index). Plain SQL through
# Django's connection: the ORM's query building would cost more than the query itself.
_FAST_SQL = (
    "SELECT t.id, t.hash, h.id, h.name, r.id, r.number, r.sha256"
    " FROM peers_hosttoken t JOIN peers_host h ON h.id = t.host_id"
    " LEFT JOIN peers_revision r ON r.id = ("
    "SELECT r2.id FROM peers_revision r2 WHERE r2.host_id = t.host_id{number}"
    " ORDER BY r2.number DESC LIMIT 1)"
    " WHERE t.prefix = %s AND t.revoked_at IS NULL"
)
_FAST_LATEST = _FAST_SQL.format(number="")
_FAST_NUMBERED = _FAST_SQL.format(number=" AND r2.number = %s")


def _fast(raw: str | None, name: str, number: int | None):
    """(token id, host id, revision id, number, stored sha256) when the token is an active host
    token of this host and the revision exists; None for anything else (the slow path explains)."""
    parsed = tokens.parse(raw) if raw else None
    if parsed is None or parsed[0] != tokens.HOST_KIND:
        return None
    _, prefix, secret = parsed
    with connection.cursor() as cursor:
        if number is None:
            cursor.execute(_FAST_LATEST, [prefix])
        else:
            cursor.execute(_FAST_NUMBERED, [number, prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    token_id, digest, host_id, host_name, revision_id, revision_number, stored = row
    if host_name != name or revision_id is None or not tokens.secret_matches(digest, secret):
        return None
    return token_id, host_id, revision_id, revision_number, stored


def _serve(request, name: str, build):
    wanted = request.GET.get("revision")
    if wanted is not None and (not wanted.isdigit() or int(wanted) < 1):
        return _text(400, "revision must be a positive integer")
    number = int(wanted) if wanted is not None else None
    found = _fast(tokens.bearer(request), name, number)
    if found is None:
        return _refusal(request, name, number)
    token_id, _, revision_id, number, stored = found
    tokens.touch_id(HostToken, token_id)
    sha = stored  # Revision.sha256 is the checksum the agent verifies (revisions.whole_checksum)
    if _matches(request.META.get("HTTP_IF_NONE_MATCH", ""), sha):
        return _headers(HttpResponse(status=304), number, sha)
    revision = Revision.objects.select_related("host").get(pk=revision_id)
    return _headers(build(revision), number, sha)


def _refusal(request, name: str, number: int | None) -> HttpResponse:
    """Why the fast path did not serve: the token, the host, or the revision."""
    token, host_id, refusal = _authorize(request, name)
    if refusal is not None:
        return refusal
    if number is not None and Revision.objects.filter(host_id=host_id).exists():
        return _text(404, f"host {name!r} has no revision {number}")
    return _text(409, f"host {name!r} has never been published")


def _conf_response(revision: Revision) -> HttpResponse:
    return HttpResponse(revision.conf_text.encode("utf-8"), content_type="text/plain; charset=utf-8")


def bundle_bytes(revision: Revision) -> bytes:
    """The gzip tar of a revision: iax.conf (0644) then keys/ and its files (.key 0600), fixed
    owner and times so the same revision always gives the same bytes."""
    files = revision_key_files(revision)
    if whole_checksum(revision.conf_text, files) != revision.sha256:  # never serve altered content
        raise ValueError(f"revision {revision.number} does not match its sha256")
    mtime = int(revision.created_at.timestamp())
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:

        def add(member_name: str, content: bytes | None, mode: int) -> None:
            info = tarfile.TarInfo(member_name)
            info.mode, info.mtime, info.uid, info.gid = mode, mtime, 0, 0
            if content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))

        add("iax.conf", revision.conf_text.encode("utf-8"), 0o644)
        if files:
            add("keys", None, 0o755)
        for key_file in sorted(files, key=lambda k: k.name):
            add(f"keys/{key_file.name}", key_file.content, key_file.mode)
    return buf.getvalue()


def _bundle_response(revision: Revision) -> HttpResponse:
    response = HttpResponse(bundle_bytes(revision), content_type="application/gzip")
    response["Content-Disposition"] = f'attachment; filename="{revision.host.name}-r{revision.number}.tar.gz"'
    return response


@require_GET
def host_conf(request, name: str):
    return _serve(request, name, _conf_response)


@require_GET
def host_bundle(request, name: str):
    return _serve(request, name, _bundle_response)


_REPORT_TEXT = ("reload_output", "registry", "peers", "error", "agent_version")


@csrf_exempt
@require_POST
def host_deployments(request, name: str):
    token, host_id, refusal = _authorize(request, name)
    if refusal is not None:
        return refusal
    if request.content_type != "application/json":
        return _text(415, "send the report as application/json")
    if len(request.body) > MAX_REPORT_BYTES:
        return _text(413, f"the report is larger than {MAX_REPORT_BYTES} bytes")
    try:
        report = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _text(400, "the body is not JSON")
    problem = _check_report(report)
    if problem:
        return _text(400, problem)
    number = report.get("revision")
    revision_id = (
        Revision.objects.filter(host_id=host_id, number=number).values_list("id", flat=True).first()
        if number is not None
        else None
    )
    contexts = report.get("dialplan_contexts")
    deployment = Deployment.objects.create(
        host_id=host_id,
        revision_id=revision_id,
        revision_number=number,
        sha256=report.get("sha256") or "",
        ok=report["ok"],
        token=token,
        remote_addr=request.META.get("REMOTE_ADDR") or None,
        **{name: report.get(name) or "" for name in _REPORT_TEXT},
    )
    if contexts is not None:
        version = (report.get("agent_version") or "").strip()
        services.save_dialplan(
            Host.objects.get(pk=host_id),
            contexts,
            source="agent",
            detail=f"agent {version}".strip(),
            actor=token,
            message="dialplan contexts reported by the agent",
        )
    return JsonResponse(
        {"id": deployment.pk, "host": name, "revision": number, "known_revision": revision_id is not None},
        status=201,
    )


def _check_report(report) -> str:
    if not isinstance(report, dict):
        return "the report must be a JSON object"
    if not isinstance(report.get("ok"), bool):
        return "ok must be true or false"
    number = report.get("revision")
    if number is not None and (isinstance(number, bool) or not isinstance(number, int) or number < 1):
        return "revision must be a positive integer or null"
    sha = report.get("sha256")
    if sha not in (None, "") and not (isinstance(sha, str) and _HEX64.fullmatch(sha)):
        return "sha256 must be 64 lowercase hex digits or empty"
    for name in _REPORT_TEXT:
        if report.get(name) is not None and not isinstance(report[name], str):
            return f"{name} must be a string"
    if len(report.get("agent_version") or "") > 40:
        return "agent_version is longer than 40 characters"
    contexts = report.get("dialplan_contexts")
    if contexts is not None:
        if not isinstance(contexts, list):
            return "dialplan_contexts must be a list of context names or null"
        try:
            check_names(contexts)
        except DialplanError as exc:
            return f"dialplan_contexts: {exc.message}"
    return ""


# ---------------------------------------------------------------------------------------------
# What the UI shows per host


@dataclass
class HostStatus:
    latest_revision: int | None  # the latest published revision
    deployed_revision: int | None  # the latest revision a report says was applied successfully
    last_contact: datetime | None  # the last poll or report of any of the host's tokens
    last_report: Deployment | None
    failing_registrations: list[dict] = field(default_factory=list)  # from the last report

    @property
    def up_to_date(self) -> bool:
        return self.latest_revision is not None and self.deployed_revision == self.latest_revision

    @property
    def behind(self) -> bool:
        return self.latest_revision is not None and not self.up_to_date


def registry_problems(output: str) -> list[dict]:
    """The registrations of an ``iax2 show registry`` output whose state is not Registered:
    [{host, username, state}]."""
    problems = []
    for line in output.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 6 or line.rstrip().endswith("registrations."):
            continue
        state = " ".join(fields[5:])
        if state != "Registered":
            problems.append({"host": fields[0], "username": fields[2], "state": state})
    return problems


def host_status(host: Host) -> HostStatus:
    """Current revision, deployed revision, last contact and failing registrations (4 queries)."""
    latest = Revision.objects.filter(host=host).order_by("-number").values_list("number", flat=True).first()
    deployed = (
        Deployment.objects.filter(host=host, ok=True)
        .order_by("-reported_at", "-id")
        .values_list("revision_number", flat=True)
        .first()
    )
    report = Deployment.objects.filter(host=host).order_by("-reported_at", "-id").first()
    polled = HostToken.objects.filter(host=host).aggregate(last=Max("last_used_at"))["last"]
    contacts = [t for t in (polled, report.reported_at if report else None) if t is not None]
    return HostStatus(
        latest_revision=latest,
        deployed_revision=deployed,
        last_contact=max(contacts) if contacts else None,
        last_report=report,
        failing_registrations=registry_problems(report.registry) if report else [],
    )
