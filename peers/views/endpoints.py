"""Peers, users, friends and templates: the list, the forms (inline checks, preview), reveal, delete."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from .. import policy, services
from ..effective import endpoint_rows
from ..exporter import endpoint_section
from ..forms.base import KINDS
from ..forms.endpoints import EndpointForm
from ..iaxconf import Section
from ..models import Endpoint, Host
from ..security.roles import role_required
from .common import (
    PAGE_SIZE,
    conflict_items,
    form_page_context,
    get_host,
    host_nav,
    no_store,
    refreshed,
    render_page,
    write_with_message,
)

# -------------------------------------------------------------------------------------------------
# Endpoint list


@role_required("viewer")
@require_GET
@vary_on_headers("HX-Request")
def endpoint_list(request, name):
    """Every section with its effective host, context, ...; search and filters see the same
    values (peers.effective), a constant number of queries per page."""
    host = get_host(name)
    endpoints, by_section = endpoint_rows(host, request.GET)
    page = Paginator(endpoints, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"endpoint": e, "findings": by_section.get(e.name, [])} for e in page.object_list]
    context = {
        "host": host,
        "nav": host_nav(host, "endpoints"),
        "page": page,
        "rows": rows,
        "params": request.GET,
        "kinds": KINDS,
        "list_url": reverse("peers:endpoint-list", args=[host.name]),
    }
    return render_page(request, "peers/endpoint_list.html", context, partial="table")


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
    """The form page. The answer to a POST may hold the secret the user typed (kept in its
    password box after a refused save), so it is never stored by a browser or a proxy."""
    urls = _form_urls(host, form.kind, endpoint)
    context = form_page_context(host, form, "endpoints", urls["validate"], conflict)
    context.update(
        {
            "endpoint": endpoint,
            "kind": form.kind,
            "show_kind": form.kind not in title,
            "title": title,
            "action": action,
            "urls": urls,
            "reveal_url": reverse("peers:endpoint-reveal", args=[host.name, endpoint.pk])
            if endpoint is not None and form.current_secrets()
            else "",
        }
    )
    response = render(request, "peers/endpoint_form.html", context, status=status)
    return no_store(response) if request.method == "POST" else response


def _save(request, host, form, endpoint=None):
    """Save a valid form through the service layer; (endpoint, None), or (None, conflict items)
    when someone else saved first, or (None, None) when the save is refused (the reasons are put
    on the form)."""
    if not form.is_valid():
        return None, None
    section = form.to_section()
    verb = "created" if endpoint is None else "changed"
    try:
        saved = services.save_endpoint(
            host,
            section,
            endpoint=endpoint,
            kind=None if form.kind == "template" else form.kind,
            actor=request.user,
            expected_version=form.cleaned_data.get("version"),
            message=f"[{section.name}] {verb} in the web form",
        )
    except services.Conflict as exc:
        return None, exc
    except services.Refused as exc:
        form.apply_verdict(policy.Verdict(exc.findings, exc.findings))
        return None, None
    return saved, None


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
    host = get_host(name)
    kind = _check_kind(kind)
    form = EndpointForm(request.POST or None, kind=kind, host=host)
    if request.method == "POST":
        saved, _ = _save(request, host, form)
        if saved is not None:
            return _saved(request, host, form, saved)
    action = reverse("peers:endpoint-create", args=[host.name, kind])
    return _endpoint_page(request, host, form, title=f"New {kind}", action=action)


@role_required("editor")
@require_GET
def endpoint_clone(request, name, pk):
    host = get_host(name)
    source = get_object_or_404(Endpoint, host=host, pk=pk)
    kind = _kind_of(source)
    original = endpoint_section(source)
    copy = Section(
        name=f"{original.name}-copy",
        entries=[e for e in original.entries if e.name.lower() != "secret"],  # a clone has its own secret
        is_template=original.is_template,
        bases=list(original.bases),
        comments=list(original.comments),
    )
    form = EndpointForm(kind=kind, host=host, current=copy)
    action = reverse("peers:endpoint-create", args=[host.name, kind])
    return _endpoint_page(request, host, form, title=f"Clone of [{source.name}]", action=action)


@role_required("editor")
@require_http_methods(["GET", "POST"])
def endpoint_edit(request, name, pk):
    host = get_host(name)
    endpoint = get_object_or_404(Endpoint, host=host, pk=pk)
    kind = _kind_of(endpoint)
    conflict = None
    if request.method == "POST":
        form = EndpointForm(request.POST, kind=kind, host=host, endpoint=endpoint)
        saved, clash = _save(request, host, form, endpoint)
        if saved is not None:
            return _saved(request, host, form, saved)
        if clash is not None:
            conflict = conflict_items(clash)
            form = EndpointForm(
                refreshed(request.POST, clash.version), kind=kind, host=host, endpoint=endpoint
            )
            form.is_valid()
    else:
        form = EndpointForm(kind=kind, host=host, endpoint=endpoint, version=services.version_of(endpoint))
        form.check_stored()
    action = reverse("peers:endpoint-edit", args=[host.name, endpoint.pk])
    return _endpoint_page(
        request,
        host,
        form,
        endpoint=endpoint,
        title=f"[{endpoint.name}]",
        action=action,
        conflict=conflict,
        status=409 if conflict is not None else 200,
    )


@role_required("editor")
@require_POST
def endpoint_reveal(request, name, pk):
    """Show an endpoint's secret(s) once, in the response to a POST, never cached; the service
    records a "reveal" row in its history."""
    host = get_host(name)
    endpoint = get_object_or_404(Endpoint, host=host, pk=pk)
    secrets = services.reveal_secrets(endpoint, actor=request.user)
    context = {"host": host, "nav": host_nav(host, "endpoints"), "endpoint": endpoint, "secrets": secrets}
    return no_store(render(request, "peers/endpoint_reveal.html", context))


def _posted_endpoint_form(request, host, kind):
    pk = request.GET.get("pk")
    endpoint = get_object_or_404(Endpoint, host=host, pk=pk) if pk else None
    return EndpointForm(request.POST, kind=kind, host=host, endpoint=endpoint)


@role_required("editor")
@require_POST
def endpoint_validate(request, name, kind):
    """One field's row after checking the whole posted form: the finding about that field, or
    none. Always 200, because htmx does not swap an error answer (4xx/5xx) by default."""
    host = get_host(name)
    form = _posted_endpoint_form(request, host, _check_kind(kind))
    field = request.GET.get("field", "")
    if field not in form.fields:
        return HttpResponseBadRequest("unknown field")
    form.is_valid()
    return render(request, "peers/form_parts.html#messages", _messages_context(host, form, field))


def _messages_context(host, form, field: str) -> dict:
    """Every field's messages and effective value after checking the whole form, out of band."""
    return {"host": host, "form": form, "rows": form.rows(), "status": form.status(field)}


@role_required("editor")
@require_POST
@vary_on_headers("HX-Request")
def endpoint_preview(request, name, kind):
    """The section exactly as it will be rendered (secrets masked)."""
    host = get_host(name)
    form = _posted_endpoint_form(request, host, _check_kind(kind))
    form.is_valid()
    if not request.htmx:  # the no-JavaScript "Preview" button: the whole form page again
        if form.endpoint is not None:
            action = reverse("peers:endpoint-edit", args=[host.name, form.endpoint.pk])
        else:
            action = reverse("peers:endpoint-create", args=[host.name, form.kind])
        title = f"[{form.endpoint.name}]" if form.endpoint is not None else f"New {form.kind}"
        return _endpoint_page(request, host, form, endpoint=form.endpoint, title=title, action=action)
    preview, problem = form.preview()
    context = {"preview": preview, "preview_problem": problem, "oob": True}
    return render(request, "peers/form_parts.html#preview", context)


@role_required("editor")
@require_http_methods(["GET", "POST"])
def endpoint_delete(request, name, pk):
    host = get_host(name)
    endpoint = get_object_or_404(Endpoint, host=host, pk=pk)
    derived = list(Endpoint.objects.filter(base_links__base=endpoint).values_list("name", flat=True))
    if request.method == "POST" and write_with_message(
        request,
        lambda: services.delete_endpoint(endpoint, actor=request.user, message=f"[{endpoint.name}] deleted"),
        f"Deleted [{endpoint.name}].",
    ):
        return redirect("peers:endpoint-list", host.name)
    context = {"host": host, "nav": host_nav(host, "endpoints"), "endpoint": endpoint, "derived": derived}
    return render(request, "peers/endpoint_delete.html", context)
