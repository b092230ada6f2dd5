"""One-click fixes: the preview (the fixes of every finding, or of one kind, each with its
alternatives, and the masked diff of the result) and the apply, one recorded change through
``peers.services.apply_fixes``; and the small summary the findings page and the overview load."""

from __future__ import annotations

import re

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from .. import fixes, services
from ..iaxconf.fixes import FIXABLE
from ..security.roles import role_required
from .common import get_host, host_nav

CHOICE = re.compile(r"c\d+")


def _code(value) -> str | None:
    return value if value in FIXABLE else None


def _kinds(plan) -> list[dict]:
    counts = plan.codes()
    return [
        {"code": code, "count": counts[code], "safe": plan.safe_count(code), "what": FIXABLE[code]}
        for code in FIXABLE
        if counts[code]
    ]


def _page(request, host, preview, code, *, status=200, stale=False, message=""):
    chosen = preview.chosen
    rows = [
        {
            "choice": c,
            "group": f"c{c.fixes[0].line}",
            "selected": next((f.key for f in c.fixes if f.key in chosen), ""),
        }
        for c in preview.plan.choices
        if code in (None, c.finding.code)
    ]
    context = {
        "host": host,
        "nav": host_nav(host, "findings"),
        "preview": preview,
        "code": code,
        "rows": rows,
        "kinds": _kinds(preview.plan),
        "stale": stale,
        "message": message,
        "unfixable": [f for f in preview.plan.unfixable if code in (None, f.code)],
    }
    return render(request, "peers/fixes/fixes.html", context, status=status)


@role_required("editor")
@require_http_methods(["GET", "POST"])
def host_fixes(request, name):
    host = get_host(name)
    if request.method == "POST":
        code = _code(request.POST.get("code"))
        keys = request.POST.getlist("key")
        message = request.POST.get("message", "").strip()
        try:
            version = int(request.POST.get("version", ""))
        except ValueError:
            version = -1  # never a version: a form without one is stale
        try:
            result = services.apply_fixes(
                host, keys=keys, expected_version=version, actor=request.user, message=message
            )
        except services.Conflict:
            preview = fixes.preview(host, code=code, keys=keys, limit=fixes.PAGE_SECTIONS)
            return _page(request, host, preview, code, status=409, stale=True, message=message)
        messages.success(
            request,
            f"Applied {len(result.applied)} fix(es) as one change ({result.changes} object(s) changed).",
        )
        return redirect("peers:host-findings", host.name)
    code = _code(request.GET.get("code"))
    explicit = any(CHOICE.fullmatch(k) for k in request.GET)
    keys = [v for k, v in request.GET.items() if CHOICE.fullmatch(k) and v] if explicit else None
    return _page(request, host, fixes.preview(host, code=code, keys=keys, limit=fixes.PAGE_SECTIONS), code)


@role_required("editor")
@require_GET
def host_fix_summary(request, name):
    """How many findings have a one-click fix, with the links: loaded into the findings page and
    the overview after they are shown (it validates the whole host once)."""
    host = get_host(name)
    plan = fixes.plan(host)
    context = {"host": host, "kinds": _kinds(plan), "safe": plan.safe_count(), "total": len(plan.choices)}
    return render(request, "peers/fixes/_summary.html", context)
