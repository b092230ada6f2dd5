"""Test a call, test a registration, and the host's dialplan contexts.

A simulation is a read: its form is a POST (CSRF-protected, so a link cannot run it and a secret
never sits in a URL) that writes nothing, and any viewer may send it. The secret typed in is
used for the one answer and never shown again. With htmx the form and its answer are swapped in
place; without JavaScript the page reloads with the same content."""

from __future__ import annotations

import os

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from .. import services, simulation
from ..exporter import export_host
from ..forms.simulation import CallForm, DialplanUploadForm, RegistrationForm
from ..models import DialplanContexts, Endpoint, Key
from ..security.roles import has_role, role_required
from .common import finding_links, get_host, host_nav, no_store, render_page


def _fix_url(host, result) -> str:
    target = simulation.fix_target(host, result.fix) if result is not None else None
    return reverse(target.url_name, args=target.args) + target.anchor if target else ""


def _page(request, host, form, result, *, mode: str):
    dialplan = DialplanContexts.objects.filter(host=host).first()
    context = {
        "host": host,
        "nav": host_nav(host, "simulate"),
        "form": form,
        "mode": mode,
        "result": result,
        "fix_url": _fix_url(host, result),
        "dialplan": dialplan,
        # names to pick from: the host's sections and the key store
        "users": Endpoint.objects.filter(host=host, is_template=False, kind__in=["user", "friend"])
        .order_by("name")
        .values_list("name", flat=True),
        "peers": Endpoint.objects.filter(host=host, is_template=False, kind__in=["peer", "friend"])
        .order_by("name")
        .values_list("name", flat=True),
        "keys": Key.objects.order_by("name").values_list("name", flat=True),
    }
    response = render_page(request, "peers/simulate.html", context, partial="workspace")
    return no_store(response) if request.method == "POST" else response


@role_required("viewer")
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def simulate_call(request, name):
    host = get_host(name)
    form = CallForm(request.POST or None)
    result = (
        simulation.simulate_call(host, form.request) if request.method == "POST" and form.is_valid() else None
    )
    return _page(request, host, form, result, mode="call")


@role_required("viewer")
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def simulate_registration(request, name):
    host = get_host(name)
    form = RegistrationForm(request.POST or None, initial={"peer": request.GET.get("peer", "")})
    result = None
    if request.method == "POST" and form.is_valid():
        result = simulation.simulate_registration(host, form.request)
    return _page(request, host, form, result, mode="registration")


def _safe_name(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")) or "extensions.conf"
    return base if base not in (".", "..") else "extensions.conf"


@role_required("viewer", write="editor")
@require_http_methods(["GET", "POST"])
def dialplan(request, name):
    """The contexts iaxadmin knows of the host's dialplan; an editor uploads extensions.conf or
    forgets them."""
    host = get_host(name)
    form = DialplanUploadForm()
    problem = ""
    if request.method == "POST" and request.POST.get("action") == "forget":
        if services.clear_dialplan(
            host, actor=request.user, message="dialplan contexts forgotten in the browser"
        ):
            messages.success(
                request, "The dialplan contexts are forgotten; context= lines are no longer checked."
            )
        return redirect("peers:dialplan", host.name)
    if request.method == "POST":
        form = DialplanUploadForm(request.POST, request.FILES)
        if form.is_valid():
            main = _safe_name(form.cleaned_data["extensions"].name)
            files = {main: form.cleaned_data["extensions"].read()}
            for upload in form.cleaned_data["includes"]:
                files.setdefault(_safe_name(upload.name), upload.read())
            try:
                row, found = services.import_extensions(
                    host, main, files, actor=request.user, message=f"{main} uploaded in the browser"
                )
            except services.Refused as exc:
                problem = exc.message
            else:
                noted = f" ({len(found.notes)} line(s) Asterisk would skip)" if found.notes else ""
                messages.success(request, f"{len(row.contexts)} context(s) read from {main}{noted}.")
                return redirect("peers:dialplan", host.name)
    row = DialplanContexts.objects.filter(host=host).first()
    findings = [f for f in export_host(host).findings if f.code == "unknown-context"] if row else []
    context = {
        "host": host,
        "nav": host_nav(host, "simulate"),
        "row": row,
        "form": form,
        "problem": problem,
        "missing": finding_links(host, findings, editor=has_role(request.user, "editor")),
    }
    return render_page(request, "peers/dialplan.html", context)
