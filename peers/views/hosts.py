"""Hosts: the list, a host's overview, its findings and its iax.conf."""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from .. import services
from ..api.agent import host_status
from ..exporter import export_host
from ..models import (
    Host,
)
from ..security.roles import has_role, role_required
from .common import finding_links, get_host, host_nav, no_store, severity_counts

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


@role_required("viewer")
@require_GET
def host_detail(request, name):
    host = get_host(name)
    export = export_host(host)
    counts = host.endpoints.aggregate(
        peers=Count("id", filter=Q(is_template=False, kind="peer")),
        users=Count("id", filter=Q(is_template=False, kind="user")),
        friends=Count("id", filter=Q(is_template=False, kind="friend")),
        templates=Count("id", filter=Q(is_template=True)),
    )
    context = {
        "host": host,
        "nav": host_nav(host, "overview"),
        "counts": counts,
        "export": export,
        # no page shows a secret: the clear text is a POST to host_export, recorded in the history
        "conf_text": export.masked_text(),
        "errors": export.errors,
        "warnings": [f for f in export.findings if not f.is_error],
        "finding_rows": finding_links(host, export.findings, editor=has_role(request.user, "editor")),
        "registrations": host.registrations.count(),
        "limits": host.callnumber_limits.count(),
        "status": host_status(host),
    }
    return render(request, "peers/host_detail.html", context)


@role_required("viewer", write="editor")
@require_http_methods(["GET", "POST"])
def host_export(request, name):
    """GET: the iax.conf with its secrets masked (anyone who may read the host). POST: the iax.conf
    Asterisk reads, secrets in clear, for an editor; recorded in the host's history, never cached."""
    host = get_host(name)
    if request.method == "GET":
        export = export_host(host)
        response = HttpResponse(export.masked_text(), content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="{host.name}-iax.conf"'
        return response
    export = services.export_with_secrets(host, actor=request.user)
    if export.errors:
        lines = [f"{len(export.errors)} error finding(s); fix them before exporting:"]
        lines += [str(f) for f in export.errors]
        response = HttpResponse("\n".join(lines) + "\n", status=409, content_type="text/plain; charset=utf-8")
    else:
        response = HttpResponse(export.text, content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{host.name}-iax.conf"'
    return no_store(response)


@role_required("viewer")
@require_GET
def host_findings(request, name):
    host = get_host(name)
    export = export_host(host)
    context = {
        "host": host,
        "nav": host_nav(host, "findings"),
        "rows": finding_links(host, export.findings, editor=has_role(request.user, "editor")),
        "counts": severity_counts(export.findings),
    }
    return render(request, "peers/host_findings.html", context)
