"""Hosts themselves: create one (admin), change its description (editor), delete it with
everything that belongs to it (admin), after a page that says what goes with it. Every write is a
``peers.services`` call (``create_host``, ``update_host``, ``delete_host``), which records it in the
history; the views only show the forms and put refusals at their fields."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .. import services
from ..forms.hosts import HostCreateForm, HostDeleteForm, HostEditForm
from ..models import Change
from ..security.roles import role_required
from .common import conflict_items, get_host, host_nav, refreshed


def _refusal_at_fields(form, exc: services.Refused) -> None:
    for finding in exc.findings:
        field = finding.part if finding.part in form.fields else None
        form.add_error(field, finding.message)


@role_required("admin")
@require_http_methods(["GET", "POST"])
def host_create(request):
    form = HostCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            host = services.create_host(
                data["name"], description=data["description"], actor=request.user, message="host created"
            )
        except services.Refused as exc:
            _refusal_at_fields(form, exc)
        else:
            messages.success(request, f"Created host {host.name} with an empty [general].")
            return redirect("peers:host-detail", host.name)
    return render(request, "peers/hosts/host_create.html", {"form": form})


@role_required("editor")
@require_http_methods(["GET", "POST"])
def host_edit(request, name):
    host = get_host(name)
    conflict = None
    if request.method == "POST":
        form = HostEditForm(request.POST)
        if form.is_valid():
            try:
                services.update_host(
                    host,
                    description=form.cleaned_data["description"],
                    actor=request.user,
                    expected_version=form.cleaned_data.get("version"),
                    message="description changed",
                )
            except services.Conflict as exc:
                conflict = conflict_items(exc)
                form = HostEditForm(refreshed(request.POST, exc.version))
            except services.Refused as exc:
                _refusal_at_fields(form, exc)
            else:
                messages.success(request, f"Saved the description of {host.name}.")
                return redirect("peers:host-detail", host.name)
    else:
        form = HostEditForm(initial={"description": host.description}, version=services.version_of(host))
    context = {
        "host": host,
        "nav": host_nav(host, "overview"),
        "form": form,
        "conflict": conflict,
        "conflict_what": f"host {host.name}",
        "reload_url": request.path,
    }
    return render(request, "peers/hosts/host_edit.html", context, status=409 if conflict else 200)


def deletion_counts(host) -> dict:
    """What goes with the host when it is deleted (the history stays)."""
    counts = host.endpoints.aggregate(
        peers=Count("id", filter=Q(is_template=False, kind="peer")),
        users=Count("id", filter=Q(is_template=False, kind="user")),
        friends=Count("id", filter=Q(is_template=False, kind="friend")),
        templates=Count("id", filter=Q(is_template=True)),
        other=Count("id", filter=Q(is_template=False, kind="")),
    )
    counts.update(
        registrations=host.registrations.count(),
        limits=host.callnumber_limits.count(),
        revisions=host.revisions.count(),
        tokens=host.tokens.filter(revoked_at__isnull=True).count(),
        revoked_tokens=host.tokens.filter(revoked_at__isnull=False).count(),
        deployments=host.deployments.count(),
        history=Change.objects.filter(host=host).count(),
    )
    return counts


@role_required("admin")
@require_http_methods(["GET", "POST"])
def host_delete(request, name):
    host = get_host(name)
    form = HostDeleteForm(request.POST or None, host=host, version=services.version_of(host))
    if request.method == "POST" and form.is_valid():
        try:
            services.delete_host(
                host,
                actor=request.user,
                expected_version=form.cleaned_data.get("version"),
                message=f"host {host.name} deleted",
            )
        except services.Conflict:
            form.add_error(
                None, f"{host.name} was changed after you opened this page; read it again, then delete."
            )
        else:
            messages.success(request, f"Deleted host {host.name}. Its history is kept under its name.")
            return redirect("peers:host-list")
    context = {"host": host, "nav": host_nav(host, "overview"), "form": form, "counts": deletion_counts(host)}
    return render(request, "peers/hosts/host_delete.html", context)
