"""Hosts: the list, a host's overview, its findings and its iax.conf."""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ..api.agent import host_status
from ..exporter import export_host
from ..models import (
    Host,
)
from ..revisions import mask_line
from ..security.roles import has_role, role_required
from .common import _finding_links, _get_host, _host_nav, _severity_counts

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
