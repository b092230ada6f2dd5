from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from .exporter import export_host
from .models import Host


def _get_host(name: str) -> Host:
    return get_object_or_404(Host, name=name)


@login_required
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


@login_required
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
        "counts": counts,
        "export": export,
        "errors": export.errors,
        "warnings": [f for f in export.findings if not f.is_error],
        "registrations": host.registrations.count(),
    }
    return render(request, "peers/host_detail.html", context)


@login_required
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
