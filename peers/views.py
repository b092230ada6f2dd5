"""The browser UI: thin function views that read input, call one form and one service, and pick a
template (or, for an htmx request, a partial of the same template; style.md 1.3 and 4.1)."""

from __future__ import annotations

import base64
import os
from datetime import datetime

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core import signing
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Count, Prefetch, ProtectedError, Q
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from . import audit, services, tokens
from . import keys as rsa_keys
from .api_export import host_status
from .exporter import build_document, export_host
from .forms import (
    KINDS,
    CallNumberLimitForm,
    EndpointForm,
    GeneralForm,
    ImportForm,
    KeyGenerateForm,
    KeyUploadForm,
    RegistrationForm,
    Row,
)
from .iaxconf import Section
from .iaxconf.parse import ConfigSyntaxError, parse_uploads
from .importer import ImportError_, import_document
from .models import (
    CallNumberLimit,
    Change,
    Endpoint,
    EndpointBase,
    EndpointInKey,
    GeneralSettings,
    Host,
    HostToken,
    Key,
    LoginAttempt,
    Registration,
)
from .revisions import mask_line
from .roles import has_role, role_required

PAGE_SIZE = 50
IMPORT_SALT = "peers.import"


def _get_host(name: str) -> Host:
    return get_object_or_404(Host, name=name)


def _host_nav(host: Host, active: str) -> list[dict]:
    """Tabs of a host's pages. History and publish pages come from another module: a link is shown
    only when its URL name exists."""
    items = [
        ("overview", "Overview", "peers:host-detail"),
        ("endpoints", "Peers & users", "peers:endpoint-list"),
        ("general", "[general]", "peers:general-edit"),
        ("registrations", "Registrations", "peers:registration-list"),
        ("limits", "Call-number limits", "peers:limit-list"),
        ("findings", "Findings", "peers:host-findings"),
        ("history", "History", "peers:host-history"),
        ("revisions", "Revisions", "peers:revision-list"),
        ("publish", "Publish", "peers:host-publish"),
        ("tokens", "Agent tokens", "peers:host-tokens"),
    ]
    nav = []
    for key, label, url_name in items:
        try:
            url = reverse(url_name, args=[host.name])
        except NoReverseMatch:
            continue
        nav.append(
            {"key": key, "label": label, "url": url, "active": key == active, "needs": NAV_NEEDS.get(key, "")}
        )
    return nav


# tabs shown only to users who may open them (templates/peers/_host_nav.html reads request.can)
NAV_NEEDS = {"general": "edit", "publish": "publish", "tokens": "admin"}


def _render(request, template: str, context: dict, *, partial: str | None = None):
    """The page, or (for an htmx request) only the named partial of the same template."""
    if partial and request.htmx and not request.htmx.boosted:
        template = f"{template}#{partial}"
    return render(request, template, context)


# -------------------------------------------------------------------------------------------------
# Hosts


@role_required("viewer")
@require_GET
def host_list(request):
    hosts = Host.objects.annotate(
        peers=Count(
            "endpoints", filter=Q(endpoints__is_template=False, endpoints__kind__in=["peer", "friend"])
        ),
        users=Count(
            "endpoints", filter=Q(endpoints__is_template=False, endpoints__kind__in=["user", "friend"])
        ),
        templates=Count("endpoints", filter=Q(endpoints__is_template=True)),
    )
    return render(request, "peers/host_list.html", {"hosts": hosts})


def _severity_counts(findings) -> dict[str, int]:
    errors = sum(1 for f in findings if f.is_error)
    return {"errors": errors, "warnings": len(findings) - errors}


@role_required("viewer")
@require_GET
def host_detail(request, name):
    host = _get_host(name)
    export = export_host(host)
    counts = host.endpoints.aggregate(
        peers=Count("id", filter=Q(is_template=False, kind="peer")),
        users=Count("id", filter=Q(is_template=False, kind="user")),
        friends=Count("id", filter=Q(is_template=False, kind="friend")),
        templates=Count("id", filter=Q(is_template=True)),
    )
    context = {
        "host": host,
        "nav": _host_nav(host, "overview"),
        "counts": counts,
        "export": export,
        # a viewer never sees a secret: the same text with every secret value masked
        "conf_text": export.text if has_role(request.user, "editor") else _masked_conf(export.text),
        "errors": export.errors,
        "warnings": [f for f in export.findings if not f.is_error],
        "finding_rows": _finding_links(host, export.findings, editor=has_role(request.user, "editor")),
        "registrations": host.registrations.count(),
        "limits": host.callnumber_limits.count(),
        "status": host_status(host),
    }
    return render(request, "peers/host_detail.html", context)


def _masked_conf(text: str) -> str:
    return "".join(mask_line(line) for line in text.splitlines(keepends=True))


@role_required("editor")
@require_GET
def host_export(request, name):
    export = export_host(_get_host(name))
    if export.errors:
        lines = [f"{len(export.errors)} error finding(s); fix them before exporting:"]
        lines += [str(f) for f in export.errors]
        return HttpResponse("\n".join(lines) + "\n", status=409, content_type="text/plain; charset=utf-8")
    response = HttpResponse(export.text, content_type="text/plain; charset=utf-8")
    response["ETag"] = f'"{export.checksum}"'
    return response


def _finding_links(host: Host, findings, *, editor: bool = True) -> list[dict]:
    """Each finding with the URL of the form (and field) that fixes it; for a viewer, only the
    links to pages a viewer may open (registrations, limits)."""
    ids = {n.lower(): pk for n, pk in host.endpoints.values_list("name", "id")}
    rows = []
    for finding in findings:
        section = finding.section.lower()
        anchor = f"#row-{finding.directive.lower()}" if finding.directive else ""
        if section == "general":
            if (finding.directive or "").lower() == "register":
                url = reverse("peers:registration-list", args=[host.name])
                anchor = ""
            else:
                url = reverse("peers:general-edit", args=[host.name])
        elif section == "callnumberlimits":
            url = reverse("peers:limit-list", args=[host.name])
            anchor = ""
        elif section in ids:
            url = reverse("peers:endpoint-edit", args=[host.name, ids[section]])
            if finding.code in ("unknown-directive", "foreign-directive", "removed-directive"):
                anchor = "#row-other_lines"
            elif finding.code in ("invalid-section-name", "duplicate-section"):
                anchor = "#row-name"
        else:
            url = ""
        if not editor and "/registrations/" not in url and "/callnumberlimits/" not in url:
            url = ""
        rows.append({"finding": finding, "url": url + anchor if url else ""})
    return rows


@role_required("viewer")
@require_GET
def host_findings(request, name):
    host = _get_host(name)
    export = export_host(host)
    context = {
        "host": host,
        "nav": _host_nav(host, "findings"),
        "rows": _finding_links(host, export.findings, editor=has_role(request.user, "editor")),
        "counts": _severity_counts(export.findings),
    }
    return render(request, "peers/host_findings.html", context)


# -------------------------------------------------------------------------------------------------
# Endpoint list

TYPE_FILTERS = {
    "peer": Q(is_template=False, kind__in=["peer", "friend"]),
    "user": Q(is_template=False, kind__in=["user", "friend"]),
    "friend": Q(is_template=False, kind="friend"),
    "template": Q(is_template=True),
}


def _filtered_endpoints(host: Host, params) -> tuple:
    endpoints = Endpoint.objects.filter(host=host)
    query = params.get("q", "").strip()
    if query:
        endpoints = endpoints.filter(
            Q(name__icontains=query)
            | Q(peer_host__icontains=query)
            | Q(context__icontains=query)
            | Q(username__icontains=query)
        )
    kind = params.get("type", "")
    if kind in TYPE_FILTERS:
        endpoints = endpoints.filter(TYPE_FILTERS[kind])
    address = params.get("address", "")
    if address == "dynamic":
        endpoints = endpoints.filter(peer_host__iexact="dynamic")
    elif address == "static":
        endpoints = endpoints.exclude(peer_host__isnull=True).exclude(peer_host__iexact="dynamic")
    trunk = params.get("trunk", "")
    if trunk == "yes":
        endpoints = endpoints.filter(trunk=True)
    elif trunk == "no":
        endpoints = endpoints.exclude(trunk=True)
    auth = params.get("auth", "")
    if auth in ("md5", "rsa", "plaintext"):
        endpoints = endpoints.filter(auth__icontains=auth)
    findings = params.get("findings", "")
    by_section: dict[str, list] = {}
    if findings in ("any", "errors", "none"):
        for finding in export_host(host).findings:
            if findings != "errors" or finding.is_error:
                by_section.setdefault(finding.section, []).append(finding)
        names = list(by_section)
        endpoints = (
            endpoints.exclude(name__in=names) if findings == "none" else endpoints.filter(name__in=names)
        )
    return endpoints, by_section


@role_required("viewer")
@require_GET
@vary_on_headers("HX-Request")
def endpoint_list(request, name):
    host = _get_host(name)
    endpoints, by_section = _filtered_endpoints(host, request.GET)
    endpoints = (
        endpoints.order_by("position", "id")
        .only(
            "id",
            "name",
            "kind",
            "is_template",
            "peer_host",
            "port",
            "context",
            "username",
            "auth",
            "trunk",
            "qualify",
            "host_id",
        )  # fmt: skip
        .prefetch_related(
            Prefetch(
                "base_links",
                queryset=EndpointBase.objects.select_related("base").only("endpoint_id", "base__name"),
            )
        )
    )
    page = Paginator(endpoints, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"endpoint": e, "findings": by_section.get(e.name, [])} for e in page.object_list]
    context = {
        "host": host,
        "nav": _host_nav(host, "endpoints"),
        "page": page,
        "rows": rows,
        "params": request.GET,
        "kinds": KINDS,
        "list_url": reverse("peers:endpoint-list", args=[host.name]),
    }
    return _render(request, "peers/endpoint_list.html", context, partial="table")


# -------------------------------------------------------------------------------------------------
# Endpoint forms


def _kind_of(endpoint: Endpoint) -> str:
    return "template" if endpoint.is_template else (endpoint.kind or "friend")


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise Http404("unknown section type")
    return kind


def _form_urls(host: Host, kind: str, endpoint: Endpoint | None) -> dict[str, str]:
    query = f"?pk={endpoint.pk}" if endpoint is not None else ""
    return {
        "validate": reverse("peers:endpoint-validate", args=[host.name, kind]) + query,
        "preview": reverse("peers:endpoint-preview", args=[host.name, kind]) + query,
    }


def _endpoint_page(request, host, form, *, endpoint=None, title="", action="", conflict=None, status=200):
    preview, preview_problem = form.preview()
    context = {
        "host": host,
        "nav": _host_nav(host, "endpoints"),
        "form": form,
        "endpoint": endpoint,
        "kind": form.kind,
        "title": title,
        "action": action,
        "urls": _form_urls(host, form.kind, endpoint),
        "preview": preview,
        "preview_problem": preview_problem,
        "conflict": conflict,
        "reveal_url": _reveal_url(host, endpoint) if form.current_secrets() else "",
    }
    return render(request, "peers/endpoint_form.html", context, status=status)


def _save_endpoint(request, host, form, endpoint=None):
    """Save when the form and the findings for its section allow it; None when refused."""
    if not form.is_valid():
        return None
    form.check()
    if not form.is_valid():
        return None
    section = form.to_section()
    verb = "created" if endpoint is None else "changed"
    try:
        return services.save_endpoint(
            host,
            section,
            position=endpoint.position if endpoint is not None else None,
            kind=None if form.kind == "template" else form.kind,
            endpoint=endpoint,
            actor=request.user,
            message=f"[{section.name}] {verb} in the web form",
        )
    except (LookupError, IntegrityError) as exc:
        form.add_error(None, str(exc))
        return None


def _saved(request, host, form, saved):
    warnings = [f for f in form.findings if not f.is_error]
    text = f"Saved [{saved.name}]."
    if warnings:
        text += f" {len(warnings)} warning(s) are shown at their fields."
    messages.success(request, text)
    return redirect("peers:endpoint-edit", host.name, saved.pk)


@role_required("editor")
@require_http_methods(["GET", "POST"])
def endpoint_create(request, name, kind):
    host = _get_host(name)
    kind = _check_kind(kind)
    action = reverse("peers:endpoint-create", args=[host.name, kind])
    if request.method == "POST":
        form = EndpointForm(request.POST, kind=kind, host=host)
        saved = _save_endpoint(request, host, form)
        if saved is not None:
            return _saved(request, host, form, saved)
    else:
        form = EndpointForm(kind=kind, host=host)
    form.enable_inline(_form_urls(host, kind, None)["validate"])
    return _endpoint_page(request, host, form, title=f"New {kind}", action=action)


@role_required("editor")
@require_GET
def endpoint_clone(request, name, pk):
    host = _get_host(name)
    source = get_object_or_404(Endpoint, host=host, pk=pk)
    kind = _kind_of(source)
    section = services.endpoint_section(source)
    section = Section(
        name=f"{section.name}-copy",
        entries=[e for e in section.entries if e.name.lower() != "secret"],
        is_template=section.is_template,
        bases=section.bases,
        comments=section.comments,
    )
    form = EndpointForm(kind=kind, host=host, current=section)
    form.current = None  # a clone starts without the original's secret
    form.enable_inline(_form_urls(host, kind, None)["validate"])
    action = reverse("peers:endpoint-create", args=[host.name, kind])
    return _endpoint_page(request, host, form, title=f"Clone of [{source.name}]", action=action)


# -------------------------------------------------------------------------------------------------
# Optimistic locking of edits: the form carries the version it was loaded with; a save compares it
# with the row locked by select_for_update, and refuses (409, the form re-rendered with the user's
# values and the changes made since) when someone else saved in between. Never a silent overwrite.

ENDPOINT_TYPES = ("endpoint", "template")


def _latest_change_id(object_types, object_id) -> int:
    if object_id is None:
        return 0
    ids = Change.objects.filter(object_type__in=object_types, object_id=object_id).order_by("-id")
    return ids.values_list("id", flat=True).first() or 0


def _endpoint_version(endpoint: Endpoint) -> dict[str, str]:
    return {
        "version": endpoint.updated_at.isoformat(),
        "seen_change": str(_latest_change_id(ENDPOINT_TYPES, endpoint.pk)),
    }


def _as_int(text) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdigit() else None


def _changes_since(object_types, object_id, seen: int | None) -> list[dict]:
    """The Change rows of one object after ``seen`` (masked diffs), oldest first."""
    rows = Change.objects.filter(object_type__in=object_types, object_id=object_id, id__gt=seen or 0)
    return [
        {"change": c, "fields": audit.diff(c.before, c.after)}
        for c in rows.order_by("id").select_related("actor")[:20]
    ]


def _endpoint_conflict(data, endpoint: Endpoint) -> list[dict] | None:
    """None when the posted version is the stored one (or no version was posted: only a client
    that is not this form does that); else the changes made since the form was loaded."""
    posted = (data.get("version") or "").strip()
    if not posted:
        return None
    seen = _as_int(data.get("seen_change"))
    since = _changes_since(ENDPOINT_TYPES, endpoint.pk, seen) if seen is not None else []
    try:
        same = datetime.fromisoformat(posted) == endpoint.updated_at
    except ValueError:
        same = False
    if same and not since:
        return None
    return since or [{"change": None, "fields": []}]


def _refreshed(data, version: dict[str, str]):
    """The posted values with the version fields moved to the current version, so that saving the
    form again (after reading the conflict) is a deliberate overwrite."""
    data = data.copy()
    for key, value in version.items():
        data[key] = value
    return data


@role_required("editor")
@require_http_methods(["GET", "POST"])
def endpoint_edit(request, name, pk):
    host = _get_host(name)
    endpoint = get_object_or_404(Endpoint, host=host, pk=pk)
    kind = _kind_of(endpoint)
    conflict = None
    if request.method == "POST":
        with transaction.atomic():
            # the row stays locked until the save commits: a concurrent save waits, then sees
            # the new updated_at and is refused
            endpoint = get_object_or_404(Endpoint.objects.select_for_update(), host=host, pk=pk)
            kind = _kind_of(endpoint)
            current = services.endpoint_section(endpoint)
            conflict = _endpoint_conflict(request.POST, endpoint)
            if conflict is None:
                form = EndpointForm(request.POST, kind=kind, host=host, endpoint=endpoint, current=current)
                saved = _save_endpoint(request, host, form, endpoint)
                if saved is not None:
                    return _saved(request, host, form, saved)
            else:
                data = _refreshed(request.POST, _endpoint_version(endpoint))
                form = EndpointForm(data, kind=kind, host=host, endpoint=endpoint, current=current)
                if form.is_valid():
                    form.check()
    else:
        current = services.endpoint_section(endpoint)
        form = EndpointForm(
            kind=kind, host=host, endpoint=endpoint, current=current, **_endpoint_version(endpoint)
        )
        form.check()
    form.enable_inline(_form_urls(host, kind, endpoint)["validate"])
    action = reverse("peers:endpoint-edit", args=[host.name, endpoint.pk])
    return _endpoint_page(
        request, host, form, endpoint=endpoint, title=f"[{endpoint.name}]", action=action,
        conflict=conflict, status=409 if conflict is not None else 200,
    )  # fmt: skip


REVEAL_MESSAGE = "secret revealed"


@role_required("editor")
@require_POST
def endpoint_reveal(request, name, pk):
    """Show an endpoint's secret(s) once, in the response to a POST, and record that it was shown
    (a Change row: action "update" with before == after and the message "secret revealed", as
    Change.action has no "reveal" choice). Never on a GET, never cached."""
    host = _get_host(name)
    with transaction.atomic():
        endpoint = get_object_or_404(Endpoint, host=host, pk=pk)
        secrets = [e.value for e in services.endpoint_section(endpoint).entries if e.name.lower() == "secret"]
        state = audit.state(endpoint)
        change = audit.record(
            actor=request.user, action=Change.Action.UPDATE, obj=endpoint, host=host,
            before=state, after=state, message=REVEAL_MESSAGE,
        )  # fmt: skip
    context = {
        "host": host,
        "nav": _host_nav(host, "endpoints"),
        "endpoint": endpoint,
        "secrets": secrets,
        "change": change,
    }
    response = render(request, "peers/endpoint_reveal.html", context)
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
    response["Pragma"] = "no-cache"
    response["Expires"] = "0"
    return response


def _reveal_url(host: Host, endpoint: Endpoint | None) -> str:
    """The reveal action's URL, or "" while peers/urls.py does not route it."""
    if endpoint is None:
        return ""
    try:
        return reverse("peers:endpoint-reveal", args=[host.name, endpoint.pk])
    except NoReverseMatch:
        return ""


def _posted_endpoint_form(request, host, kind):
    pk = request.GET.get("pk")
    endpoint = get_object_or_404(Endpoint, host=host, pk=pk) if pk else None
    current = services.endpoint_section(endpoint) if endpoint is not None else None
    return EndpointForm(request.POST, kind=kind, host=host, endpoint=endpoint, current=current)


@role_required("editor")
@require_POST
def endpoint_validate(request, name, kind):
    """One field's row after checking the whole posted form: the value rule's message, or the
    finding about that field. Always 200 so htmx swaps it (style.md 1.3)."""
    host = _get_host(name)
    form = _posted_endpoint_form(request, host, _check_kind(kind))
    field = request.GET.get("field", "")
    if field not in form.fields:
        return HttpResponseBadRequest("unknown field")
    if form.is_valid():
        form.check()
    form.enable_inline(_form_urls(host, form.kind, form.endpoint)["validate"])
    return render(request, "peers/form_parts.html#field-row", {"row": form.row(field)})


@role_required("editor")
@require_POST
@vary_on_headers("HX-Request")
def endpoint_preview(request, name, kind):
    """The section exactly as it will be rendered (secrets masked)."""
    host = _get_host(name)
    form = _posted_endpoint_form(request, host, _check_kind(kind))
    if form.is_valid():
        form.check()
    if not request.htmx:  # the no-JavaScript "Preview" button: the whole form page again
        form.enable_inline(_form_urls(host, form.kind, form.endpoint)["validate"])
        if form.endpoint is not None:
            action = reverse("peers:endpoint-edit", args=[host.name, form.endpoint.pk])
        else:
            action = reverse("peers:endpoint-create", args=[host.name, form.kind])
        return _endpoint_page(request, host, form, endpoint=form.endpoint, title="Preview", action=action)
    preview, problem = form.preview()
    return render(request, "peers/form_parts.html#preview", {"preview": preview, "preview_problem": problem})


@role_required("editor")
@require_http_methods(["GET", "POST"])
def endpoint_delete(request, name, pk):
    host = _get_host(name)
    endpoint = get_object_or_404(Endpoint, host=host, pk=pk)
    derived = list(Endpoint.objects.filter(base_links__base=endpoint).values_list("name", flat=True))
    if request.method == "POST":
        try:
            services.delete_endpoint(endpoint, actor=request.user, message=f"[{endpoint.name}] deleted")
        except ProtectedError:
            messages.error(request, f"[{endpoint.name}] is still used by: {', '.join(derived)}.")
        else:
            messages.success(request, f"Deleted [{endpoint.name}].")
            return redirect("peers:endpoint-list", host.name)
    context = {"host": host, "nav": _host_nav(host, "endpoints"), "endpoint": endpoint, "derived": derived}
    return render(request, "peers/endpoint_delete.html", context)


# -------------------------------------------------------------------------------------------------
# [general]


def _general_form(request, host, data=None, version: str = ""):
    return GeneralForm(data, host=host, current=_general_section(host), version=version)


def _general_version(host: Host) -> str:
    """[general] has no updated_at: its version is the id of its latest Change row (0: none yet)."""
    general_id = GeneralSettings.objects.filter(host=host).values_list("id", flat=True).first()
    return str(_latest_change_id(("general",), general_id))


def _general_conflict(data, host: Host) -> list[dict] | None:
    """Lock [general] (or, before it exists, the host) and compare versions (see _endpoint_conflict)."""
    general = GeneralSettings.objects.select_for_update().filter(host=host).first()
    if general is None:
        Host.objects.select_for_update().filter(pk=host.pk).first()
    posted = _as_int(data.get("version"))
    if posted is None:
        return None
    if general is None or str(posted) == _general_version(host):
        return None
    return _changes_since(("general",), general.pk, posted) or [{"change": None, "fields": []}]


def _general_section(host: Host) -> Section:
    """The host's [general] as stored (without the register lines, which are Registrations)."""
    document, _, _ = build_document(host, only=[-1])
    general = document.general or Section(name="general")
    general.entries = [e for e in general.entries if e.name.lower() != "register"]
    return general


@role_required("editor")
@require_http_methods(["GET", "POST"])
def general_edit(request, name):
    host = _get_host(name)
    conflict = None
    if request.method == "POST":
        with transaction.atomic():
            conflict = _general_conflict(request.POST, host)
            if conflict is None:
                form = _general_form(request, host, request.POST)
                if form.is_valid():
                    form.check()
                if form.is_valid():
                    section = form.to_section()
                    services.save_general(
                        host, section.entries, comment="\n".join(section.comments), actor=request.user,
                        message="[general] changed in the web form",
                    )  # fmt: skip
                    messages.success(request, "Saved [general].")
                    return redirect("peers:general-edit", host.name)
            else:
                version = _general_version(host)
                form = _general_form(
                    request, host, _refreshed(request.POST, {"version": version, "seen_change": version})
                )
                if form.is_valid():
                    form.check()
    else:
        form = _general_form(request, host, version=_general_version(host))
        form.check()
    validate_url = reverse("peers:general-validate", args=[host.name])
    form.enable_inline(validate_url)
    preview, problem = form.preview()
    context = {
        "host": host,
        "nav": _host_nav(host, "general"),
        "form": form,
        "validate_url": validate_url,
        "preview_url": reverse("peers:general-preview", args=[host.name]),
        "preview": preview,
        "preview_problem": problem,
        "conflict": conflict,
    }
    return render(request, "peers/general_form.html", context, status=409 if conflict is not None else 200)


@role_required("editor")
@require_POST
def general_validate(request, name):
    host = _get_host(name)
    form = _general_form(request, host, request.POST)
    field = request.GET.get("field", "")
    if field not in form.fields:
        return HttpResponseBadRequest("unknown field")
    if form.is_valid():
        form.check()
    form.enable_inline(reverse("peers:general-validate", args=[host.name]))
    return render(request, "peers/form_parts.html#field-row", {"row": form.row(field)})


@role_required("editor")
@require_POST
def general_preview(request, name):
    host = _get_host(name)
    form = _general_form(request, host, request.POST)
    form.is_valid()
    preview, problem = form.preview()
    return render(request, "peers/form_parts.html#preview", {"preview": preview, "preview_problem": problem})


# -------------------------------------------------------------------------------------------------
# Registrations and [callnumberlimits]


def _next_position(rows) -> int:
    last = rows.order_by("-position").values_list("position", flat=True).first()
    return 0 if last is None else last + 1


def _save_registration(request, host, form, registration):
    data = form.cleaned_data
    registration.username = data["username"]
    registration.key = Key.objects.get(name=data["key"]) if data.get("key") else None
    registration.secret = form.effective_secret()
    registration.remote_host = data["remote_host"]
    registration.remote_port = data.get("remote_port")
    registration.comment = data.get("comment", "").replace("\r\n", "\n")
    services.save_registration(registration, actor=request.user, message=f"register => {registration}")


@role_required("viewer", write="editor")
@require_http_methods(["GET", "POST"])
def registration_list(request, name):
    host = _get_host(name)
    if request.method == "POST":
        form = RegistrationForm(request.POST)
        if form.is_valid():
            registration = Registration(host=host, position=_next_position(host.registrations))
            _save_registration(request, host, form, registration)
            messages.success(request, f"Added register => {registration}.")
            return redirect("peers:registration-list", host.name)
    else:
        form = RegistrationForm()
    _inline(form, "registration")
    context = {
        "host": host,
        "nav": _host_nav(host, "registrations"),
        "registrations": host.registrations.select_related("key"),
        "form": form,
    }
    return render(request, "peers/registration_list.html", context)


@role_required("editor")
@require_http_methods(["GET", "POST"])
def registration_edit(request, name, pk):
    host = _get_host(name)
    registration = get_object_or_404(Registration, host=host, pk=pk)
    if request.method == "POST":
        form = RegistrationForm(request.POST, registration=registration)
        if form.is_valid():
            _save_registration(request, host, form, registration)
            messages.success(request, f"Saved register => {registration}.")
            return redirect("peers:registration-list", host.name)
    else:
        form = RegistrationForm(registration=registration)
    _inline(form, "registration", registration)
    context = {
        "host": host,
        "nav": _host_nav(host, "registrations"),
        "form": form,
        "registration": registration,
    }
    return render(request, "peers/registration_form.html", context)


@role_required("editor")
@require_POST
def registration_delete(request, name, pk):
    host = _get_host(name)
    registration = get_object_or_404(Registration, host=host, pk=pk)
    services.delete_registration(
        registration, actor=request.user, message=f"register => {registration} deleted"
    )
    messages.success(request, f"Deleted register => {registration}.")
    return redirect("peers:registration-list", host.name)


def _save_limit(request, form, limit):
    limit.network = form.cleaned_data["network"]
    limit.limit = form.cleaned_data["limit"]
    limit.comment = form.cleaned_data.get("comment", "").replace("\r\n", "\n")
    services.save_callnumber_limit(limit, actor=request.user, message=f"[callnumberlimits] {limit}")


@role_required("viewer", write="editor")
@require_http_methods(["GET", "POST"])
def limit_list(request, name):
    host = _get_host(name)
    if request.method == "POST":
        form = CallNumberLimitForm(request.POST)
        if form.is_valid():
            limit = CallNumberLimit(host=host, position=_next_position(host.callnumber_limits))
            _save_limit(request, form, limit)
            messages.success(request, f"Added {limit}.")
            return redirect("peers:limit-list", host.name)
    else:
        form = CallNumberLimitForm()
    _inline(form, "limit")
    context = {
        "host": host,
        "nav": _host_nav(host, "limits"),
        "limits": host.callnumber_limits.all(),
        "form": form,
    }
    return render(request, "peers/limit_list.html", context)


@role_required("editor")
@require_http_methods(["GET", "POST"])
def limit_edit(request, name, pk):
    host = _get_host(name)
    limit = get_object_or_404(CallNumberLimit, host=host, pk=pk)
    if request.method == "POST":
        form = CallNumberLimitForm(request.POST)
        if form.is_valid():
            _save_limit(request, form, limit)
            messages.success(request, f"Saved {limit}.")
            return redirect("peers:limit-list", host.name)
    else:
        form = CallNumberLimitForm(
            initial={"network": limit.network, "limit": limit.limit, "comment": limit.comment}
        )
    _inline(form, "limit")
    context = {"host": host, "nav": _host_nav(host, "limits"), "form": form, "limit": limit}
    return render(request, "peers/limit_form.html", context)


@role_required("editor")
@require_POST
def limit_delete(request, name, pk):
    host = _get_host(name)
    limit = get_object_or_404(CallNumberLimit, host=host, pk=pk)
    services.delete_callnumber_limit(limit, actor=request.user, message=f"[callnumberlimits] {limit} deleted")
    messages.success(request, f"Deleted {limit}.")
    return redirect("peers:limit-list", host.name)


FORM_VALIDATORS = {"registration": RegistrationForm, "limit": CallNumberLimitForm}


@role_required("editor")
@require_POST
def row_validate(request, form_name):
    """Inline check of one field of a registration or call-number-limit form."""
    form_class = FORM_VALIDATORS.get(form_name)
    if form_class is None:
        raise Http404("unknown form")
    registration = None
    if form_name == "registration" and request.GET.get("pk"):
        registration = get_object_or_404(Registration, pk=request.GET["pk"])
    form = (
        form_class(request.POST, registration=registration)
        if form_name == "registration"
        else form_class(request.POST)
    )
    field = request.GET.get("field", "")
    if field not in form.fields:
        return HttpResponseBadRequest("unknown field")
    form.is_valid()
    _inline(form, form_name, registration)
    return render(request, "peers/form_parts.html#field-row", {"row": Row(form[field])})


def _inline(form, form_name: str, obj=None):
    url = reverse("peers:row-validate", args=[form_name])
    form.enable_inline(url + (f"?pk={obj.pk}" if obj is not None and form_name == "registration" else ""))
    return form


# -------------------------------------------------------------------------------------------------
# Keys


def _key_usage(keys) -> list[dict]:
    rows = []
    for key in keys:
        used = [
            {"what": "outkey", "host": e.host.name, "name": e.name, "pk": e.pk} for e in key.outkey_of.all()
        ]
        used += [
            {
                "what": "inkeys",
                "host": link.endpoint.host.name,
                "name": link.endpoint.name,
                "pk": link.endpoint.pk,
            }
            for link in key.inkey_links.all()
        ]
        used += [
            {"what": "register", "host": r.host.name, "name": str(r), "pk": None}
            for r in key.registrations.all()
        ]
        rows.append({"key": key, "used": used})
    return rows


@role_required("viewer")
@require_GET
def key_list(request):
    keys = Key.objects.prefetch_related(
        Prefetch(
            "outkey_of",
            queryset=Endpoint.objects.select_related("host").only("name", "host__name", "outkey_id"),
        ),
        Prefetch(
            "inkey_links",
            queryset=EndpointInKey.objects.select_related("endpoint__host").only(
                "key_id", "endpoint__name", "endpoint__host__name"
            ),
        ),
        Prefetch("registrations", queryset=Registration.objects.select_related("host")),
    )
    return render(request, "peers/key_list.html", {"rows": _key_usage(keys)})


def _store_key(request, name: str, material, verb: str) -> Key:
    key = Key.objects.filter(name=name).first() or Key(name=name)
    key.public_pem = material.public_pem
    key.private_pem = material.private_pem
    key.private_encrypted = material.private_encrypted
    key.bits = material.bits
    key.fingerprint = material.fingerprint
    return services.save_key(key, actor=request.user, message=f"key {name} {verb}")


@role_required("editor")
@require_http_methods(["GET", "POST"])
def key_generate(request):
    form = KeyGenerateForm(request.POST or None, initial={"name": request.GET.get("name", "")})
    if request.method == "POST" and form.is_valid():
        passphrase = None if form.cleaned_data["no_passphrase"] else form.cleaned_data["passphrase"]
        key = _store_key(request, form.cleaned_data["name"], rsa_keys.generate(passphrase), "generated")
        note = "" if passphrase else " Its private key has no passphrase."
        messages.success(request, f"Generated key {key.name} ({key.fingerprint}).{note}")
        return redirect("peers:key-list")
    return render(request, "peers/key_form.html", {"form": form, "mode": "generate"})


@role_required("editor")
@require_http_methods(["GET", "POST"])
def key_upload(request):
    form = KeyUploadForm(
        request.POST or None, request.FILES or None, initial={"name": request.GET.get("name", "")}
    )
    if request.method == "POST" and form.is_valid():
        key = _store_key(request, form.cleaned_data["name"], form.material, "uploaded")
        messages.success(request, f"Uploaded key {key.name} ({key.fingerprint}).")
        return redirect("peers:key-list")
    return render(request, "peers/key_form.html", {"form": form, "mode": "upload"})


@role_required("viewer")
@require_GET
def key_download(request, key_name):
    key = get_object_or_404(Key, name=key_name)
    if not key.public_pem:
        raise Http404("this key has no public key yet")
    response = HttpResponse(key.public_pem, content_type="text/plain; charset=us-ascii")
    response["Content-Disposition"] = f'attachment; filename="{key.name}.pub"'
    return response


@role_required("editor")
@require_POST
def key_delete(request, key_name):
    key = get_object_or_404(Key, name=key_name)
    try:
        services.delete_key(key, actor=request.user, message=f"key {key.name} deleted")
    except ProtectedError:
        messages.error(request, f"Key {key.name} is still used; remove it from those sections first.")
    else:
        messages.success(request, f"Deleted key {key.name}.")
    return redirect("peers:key-list")


# -------------------------------------------------------------------------------------------------
# Import: upload, dry run, confirm


def _run_import(payload: dict, *, dry_run: bool):
    """Parse the uploaded main file with its includes resolved among the uploaded files only (the
    server's disk is never read) and import it. Returns (report, problems)."""
    files = {name: base64.b64decode(content) for name, content in payload["files"].items()}
    try:
        parsed = parse_uploads(payload["main"], files)
    except ConfigSyntaxError as exc:
        return None, [(exc.file or payload["main"], exc.line, exc.message)]
    try:
        report = import_document(
            parsed.document,
            host_name=payload["host"],
            replace=payload["replace"],
            dry_run=dry_run,
            notes=parsed.notes,
        )
    except ImportError_ as exc:
        return None, [(None, None, exc.message)] + list(exc.problems)
    return report, []


NEW_HOST_NEEDS_ADMIN = "There is no host with this name: creating a host needs the admin role."


def _may_create_host(request, host_name: str) -> bool:
    """An import into a new host creates it: only an admin may do that."""
    return has_role(request.user, "admin") or Host.objects.filter(name=host_name).exists()


def _safe_name(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")) or "upload.conf"
    return base if base not in (".", "..") else "upload.conf"


@role_required("editor")
@require_http_methods(["GET", "POST"])
def import_upload(request):
    form = ImportForm(
        request.POST or None, request.FILES or None, initial={"host": request.GET.get("host", "")}
    )
    context = {"form": form}
    if (
        request.method == "POST"
        and form.is_valid()
        and not _may_create_host(request, form.cleaned_data["host"])
    ):
        form.add_error("host", NEW_HOST_NEEDS_ADMIN)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        main = _safe_name(data["conf"].name)
        files = {main: base64.b64encode(data["conf"].read()).decode("ascii")}
        for upload in data["includes"]:
            files.setdefault(_safe_name(upload.name), base64.b64encode(upload.read()).decode("ascii"))
        payload = {"host": data["host"], "replace": data["replace"], "main": main, "files": files}
        report, problems = _run_import(payload, dry_run=True)
        context.update(
            report=report,
            problems=problems,
            payload=signing.dumps(payload, salt=IMPORT_SALT, compress=True),
            host_name=data["host"],
        )
    return render(request, "peers/import.html", context)


@role_required("editor")
@require_POST
def import_confirm(request):
    try:
        payload = signing.loads(request.POST.get("payload", ""), salt=IMPORT_SALT, max_age=6 * 3600)
    except signing.BadSignature:
        messages.error(request, "The upload could not be read back; upload the file again.")
        return redirect("peers:import")
    if not _may_create_host(request, payload["host"]):
        messages.error(request, NEW_HOST_NEEDS_ADMIN)
        return redirect("peers:import")
    report, problems = _run_import(payload, dry_run=False)
    if report is None:
        return render(request, "peers/import.html", {"form": ImportForm(), "problems": problems})
    messages.success(
        request,
        f"Imported into {report.host}: {sum(report.created.values())} created, {sum(report.changed.values())} "
        f"changed, {len(report.errors)} error finding(s), {len(report.warnings)} warning(s).",
    )
    return redirect("peers:host-detail", report.host)


# -------------------------------------------------------------------------------------------------
# Login with rate limiting (peers.models_security): wired in iaxadmin/urls.py as "login"


def _client_address(request) -> str:
    """The address attempts are counted under: REMOTE_ADDR (a proxy in front must pass the real
    client address on as REMOTE_ADDR, or every client behind it shares one count per username)."""
    return request.META.get("REMOTE_ADDR", "")[:64]


def _wait_text(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    if minutes and rest:
        minutes += 1
    return f"{minutes} minute{'s' if minutes != 1 else ''}" if minutes else f"{seconds} seconds"


class ThrottledLoginView(auth_views.LoginView):
    """Django's LoginView, refusing (429, without checking the password) a username that failed
    MAX_FAILURES times from this address within WINDOW; a successful login clears the count."""

    def post(self, request, *args, **kwargs):
        username = request.POST.get("username", "")
        wait = LoginAttempt.wait_seconds(username, _client_address(request))
        if wait:
            form = self.get_form_class()(request=request, initial={"username": username})
            message = (
                f"Too many failed logins for this username from your address. "
                f"Try again in {_wait_text(wait)}."
            )
            response = self.render_to_response(
                self.get_context_data(form=form, throttled=message), status=429
            )
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        # under the name as typed: the key its failures were counted under
        LoginAttempt.record(
            self.request.POST.get("username", ""), _client_address(self.request), succeeded=True
        )
        return super().form_valid(form)

    def form_invalid(self, form):
        username = self.request.POST.get("username", "")
        if username:
            LoginAttempt.record(username, _client_address(self.request), succeeded=False)
        return super().form_invalid(form)


# ---------------------------------------------------------------------------------------------
# Host tokens (the agent's credentials): admins create and revoke them; a token is shown once.


@role_required("admin")
@require_http_methods(["GET", "POST"])
def host_tokens(request, name):
    host = _get_host(name)
    created = None
    if request.method == "POST":
        label = request.POST.get("name", "").strip()[:60] or "agent"
        with transaction.atomic():
            row, created = tokens.create_host_token(host, label)
            audit.record(
                actor=request.user, action=Change.Action.CREATE, object_type="hosttoken", object_id=row.pk,
                object_repr=f"host token {row.prefix} ({row.name})", host=host, before=None,
                after={"name": row.name, "prefix": row.prefix}, message="host token created",
            )  # fmt: skip
    rows = HostToken.objects.filter(host=host).order_by("-created_at")
    response = render(
        request,
        "peers/host_tokens.html",
        {"host": host, "nav": _host_nav(host, "tokens"), "tokens": rows, "created": created},
    )
    if created:
        response["Cache-Control"] = "no-store"
    return response


@role_required("admin")
@require_POST
def host_token_revoke(request, name, pk):
    host = _get_host(name)
    row = get_object_or_404(HostToken, host=host, pk=pk)
    if row.revoked_at is None:
        with transaction.atomic():
            tokens.revoke(row.prefix)
            audit.record(
                actor=request.user, action=Change.Action.UPDATE, object_type="hosttoken", object_id=row.pk,
                object_repr=f"host token {row.prefix} ({row.name})", host=host,
                before={"revoked": False}, after={"revoked": True}, message="host token revoked",
            )  # fmt: skip
        messages.success(request, f"Token {row.prefix} is revoked; the agent using it gets 401 from now on.")
    return redirect("peers:host-tokens", name=host.name)
