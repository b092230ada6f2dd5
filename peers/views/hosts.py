"""Hosts: the list, a host's overview, its findings and its iax.conf.

A host of 10,000 endpoints has a 2 MB iax.conf and validating it takes a fraction of a second, so
the overview shows a summary: the findings counts when they are known for the host's current
state (``metrics.cached_counts``; otherwise they are asked for on demand), and the iax.conf only
when asked for (``host_conf``). The findings are computed once per state of the host and kept in
the database (``metrics.host_findings``), and their page is paged."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from .. import metrics, services
from ..api.agent import host_status
from ..exporter import export_host
from ..models import (
    Host,
)
from ..security.roles import has_role, role_required
from .common import PAGE_SIZE, finding_links, get_host, host_nav, no_store, render_page, severity_counts

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


def _overview(host: Host) -> dict:
    counts = host.endpoints.aggregate(
        peers=Count("id", filter=Q(is_template=False, kind="peer")),
        users=Count("id", filter=Q(is_template=False, kind="user")),
        friends=Count("id", filter=Q(is_template=False, kind="friend")),
        templates=Count("id", filter=Q(is_template=True)),
    )
    return {
        "host": host,
        "nav": host_nav(host, "overview"),
        "counts": counts,
        "findings": metrics.cached_counts(host),  # None: not known for this state yet (asked on demand)
        "registrations": host.registrations.count(),
        "limits": host.callnumber_limits.count(),
        "status": host_status(host),
    }


@role_required("viewer")
@require_GET
def host_detail(request, name):
    return render(request, "peers/host_detail.html", _overview(get_host(name)))


@role_required("viewer")
@require_GET
def host_findings_summary(request, name):
    """The overview's findings counts, computed now if the host changed since they were."""
    host = get_host(name)
    findings = metrics.counts_of(metrics.host_findings(host))
    return render(request, "peers/host_detail.html#findings-summary", {"host": host, "findings": findings})


@role_required("viewer")
@require_GET
@vary_on_headers("HX-Request")
def host_conf(request, name):
    """The overview's iax.conf, on demand: secrets masked, with its checksum and key files (for
    htmx the panel alone, else the overview with it)."""
    host = get_host(name)
    export = export_host(host)
    context = {"host": host, "export": export, "conf_text": export.masked_text(), "errors": export.errors}
    if not (request.htmx and not request.htmx.boosted):
        context.update(_overview(host))
    return render_page(request, "peers/host_detail.html", context, partial="conf")


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
@vary_on_headers("HX-Request")
def host_findings(request, name):
    host = get_host(name)
    findings = metrics.host_findings(host)
    page = Paginator(findings, PAGE_SIZE * 2).get_page(request.GET.get("page"))
    context = {
        "host": host,
        "nav": host_nav(host, "findings"),
        "page": page,
        "rows": finding_links(host, page.object_list, editor=has_role(request.user, "editor")),
        "counts": severity_counts(findings),
    }
    return render_page(request, "peers/host_findings.html", context, partial="table")
