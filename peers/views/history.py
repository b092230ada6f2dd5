"""History pages: the audit timeline, one change's diff, published revisions and their diffs,
publishing, reverting, and the audit export. Thin views over ``peers.audit``, ``peers.history`` and
``peers.revisions``; every secret on these pages is masked."""

from __future__ import annotations

import hashlib

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import audit, history, revisions, services
from ..asterisk import hostcheck
from ..exporter import export_host
from ..models import Change, Host, Revision
from ..security.roles import has_role, role_required
from .common import get_host, host_nav, write_with_message

PAGE_SIZE = 50
OBJECT_TYPES = [
    "host",
    "general",
    "endpoint",
    "template",
    "registration",
    "callnumberlimit",
    "key",
    "revision",
    "hosttoken",
    "usertoken",
    "user",
    "encryption",
    "dialplan",
]


def _get_revision(host: Host, number) -> Revision:
    try:
        return get_object_or_404(Revision, host=host, number=int(number))
    except (TypeError, ValueError):
        raise Http404("no such revision") from None


@role_required("viewer")
@require_GET
def host_history(request, name):
    host = get_host(name)
    params = {
        k: request.GET.get(k, "").strip() for k in ("user", "type", "object", "id", "since", "until", "batch")
    }
    try:
        changes = history.audit_changes(
            host=host,
            since=params["since"],
            until=params["until"],
            actor=params["user"],
            object_type=params["type"],
            object_name=params["object"],
            object_id=int(params["id"]) if params["id"].isdigit() else None,
            batch=params["batch"],
        )
        problem = ""
    except history.AuditFilterError as exc:
        changes, problem = Change.objects.none(), str(exc)
    page = Paginator(changes, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "host": host,
        "nav": host_nav(host, "history"),
        "page": page,
        "params": params,
        "problem": problem,
        "object_types": OBJECT_TYPES,
        "actors": Change.objects.filter(host_name=host.name)
        .values_list("actor_name", flat=True)
        .distinct()
        .order_by("actor_name"),
        "revisions": Revision.objects.filter(host=host).count(),
    }
    return render(request, "peers/history/host_history.html", context)


@role_required("viewer")
@require_GET
def change_detail(request, pk):
    change = get_object_or_404(Change, pk=pk)
    host = change.host
    context = {
        "change": change,
        "host": host,
        "nav": host_nav(host, "history") if host else [],
        "fields": audit.diff(change.before, change.after, changed_only=request.GET.get("all") != "1"),
        "show_all": request.GET.get("all") == "1",
        "batch": Change.objects.filter(batch=change.batch).exclude(pk=change.pk).order_by("id")[:200],
        # the undo is offered only when it would be applied (services.revert_problem tries it)
        "undo_problem": services.revert_problem(change) if has_role(request.user, "publisher") else None,
    }
    return render(request, "peers/history/change_detail.html", context)


@role_required("publisher")
@require_POST
def change_revert(request, pk):
    change = get_object_or_404(Change, pk=pk)
    write_with_message(
        request,
        lambda: services.revert_change(
            change, actor=request.user, message=request.POST.get("message", "").strip()
        ),
        f"{change.object_repr} is back to its state before change {change.pk}.",
        refused="Not reverted: {}",
    )
    return redirect("peers:change-detail", pk=change.pk)


@role_required("viewer")
@require_GET
def revision_list(request, name):
    host = get_host(name)
    context = {
        "host": host,
        "nav": host_nav(host, "revisions"),
        "revisions": Revision.objects.filter(host=host).order_by("-number"),
    }
    return render(request, "peers/history/revision_list.html", context)


@role_required("viewer")
@require_GET
def revision_diff(request, name):
    """Unified diff between revisions a and b (b may be "current": the config as it is now)."""
    host = get_host(name)
    a = _get_revision(host, request.GET.get("a"))
    if request.GET.get("b", "current") == "current":
        new_text, new_label, b = export_host(host).text, f"{host.name} now", None
    else:
        b = _get_revision(host, request.GET.get("b"))
        new_text, new_label = b.conf_text, f"{host.name} r{b.number}"
    context = {
        "host": host,
        "nav": host_nav(host, "revisions"),
        "a": a,
        "b": b,
        "lines": revisions.masked_diff(a.conf_text, new_text, f"{host.name} r{a.number}", new_label),
        "numbers": Revision.objects.filter(host=host).order_by("-number").values_list("number", flat=True),
    }
    return render(request, "peers/history/revision_diff.html", context)


def _publish_page(request, host: Host, *, status: int = 200, **extra) -> HttpResponse:
    preview = revisions.preview_publish(host)
    context = {
        "host": host,
        "nav": host_nav(host, "publish"),
        "preview": preview,
        "lines": revisions.diff_lines(preview.diff),
        "expected": hashlib.sha256(preview.export.text.encode("utf-8")).hexdigest(),
        "asterisk_available": hostcheck.available(),
        **extra,
    }
    return render(request, "peers/history/publish.html", context, status=status)


@role_required("publisher")
@require_http_methods(["GET", "POST"])
def host_publish(request, name):
    host = get_host(name)
    if request.method == "GET":
        return _publish_page(request, host)
    if request.POST.get("action") == "check":  # the configuration loaded into real Asterisk first
        return _publish_page(request, host, check=hostcheck.check_host(host, build=False))
    message = request.POST.get("message", "").strip()
    if not message:
        return _publish_page(request, host, message_error="Say what changed and why.")
    try:
        revision = services.publish(
            host, actor=request.user, message=message, expected=request.POST.get("expected") or None
        )
    except services.Refused as exc:
        return _publish_page(request, host, status=409, refused=exc.findings, message=message)
    except services.Conflict:
        return _publish_page(
            request,
            host,
            status=409,
            message=message,
            stale="The configuration changed while you were reading the diff; check it again.",
        )
    messages.success(request, f"Published {host.name} revision {revision.number}.")
    return redirect("peers:revision-list", name=host.name)


@role_required("publisher")
@require_POST
def host_revert(request, name):
    host = get_host(name)
    revision = _get_revision(host, request.POST.get("revision"))
    batch = services.revert_host(
        host, revision, actor=request.user, message=request.POST.get("message", "").strip()
    )
    count = Change.objects.filter(batch=batch).count()
    messages.success(
        request,
        f"Reverted {host.name} to revision {revision.number} ({count} change(s)). Publish to make it current.",
    )
    return redirect(reverse("peers:host-history", args=[host.name]) + f"?batch={batch}")


@role_required("viewer")
@require_GET
def audit_export(request):
    fmt = request.GET.get("format", "csv")
    if fmt not in ("csv", "json"):
        return HttpResponseBadRequest("format must be csv or json\n", content_type="text/plain")
    host = get_host(request.GET["host"]) if request.GET.get("host") else None
    try:
        changes = history.audit_changes(
            host=host, since=request.GET.get("since"), until=request.GET.get("until")
        )
    except history.AuditFilterError as exc:
        return HttpResponseBadRequest(f"{exc}\n", content_type="text/plain")
    content_type = "application/json" if fmt == "json" else "text/csv; charset=utf-8"
    response = HttpResponse(history.audit_text(changes, fmt), content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = (
        f'attachment; filename="audit-{host.name if host else "all"}-{stamp}.{fmt}"'
    )
    return response
