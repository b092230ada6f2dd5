"""Peers, users, friends and templates: the list, the forms (inline checks, preview), reveal, delete."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, ProtectedError, Q
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from .. import audit, services
from ..exporter import export_host
from ..forms import (
    KINDS,
    EndpointForm,
)
from ..iaxconf import Section
from ..models import (
    Change,
    Endpoint,
    EndpointBase,
    Host,
)
from ..security.roles import role_required
from .common import PAGE_SIZE, _get_host, _host_nav, _render

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
