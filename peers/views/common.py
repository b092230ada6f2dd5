"""What the host screens share: the host lookup, the host tabs, partial rendering, finding links,
and how a refused or conflicting save is shown."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from .. import audit
from ..models import Host
from ..services import Conflict, Refused

PAGE_SIZE = 50


def get_host(name: str) -> Host:
    return get_object_or_404(Host, name=name)


def host_nav(host: Host, active: str) -> list[dict]:
    """Tabs of a host's pages; a tab a user may not open is hidden by the template (``needs``)."""
    items = [
        ("overview", "Overview", "peers:host-detail"),
        ("endpoints", "Peers & users", "peers:endpoint-list"),
        ("general", "[general]", "peers:general-edit"),
        ("registrations", "Registrations", "peers:registration-list"),
        ("limits", "Call-number limits", "peers:limit-list"),
        ("findings", "Findings", "peers:host-findings"),
        ("simulate", "Test a call", "peers:simulate-call"),
        ("history", "History", "peers:host-history"),
        ("revisions", "Revisions", "peers:revision-list"),
        ("publish", "Publish", "peers:host-publish"),
        ("tokens", "Agent tokens", "peers:host-tokens"),
    ]
    return [
        {
            "key": key,
            "label": label,
            "url": reverse(url_name, args=[host.name]),
            "active": key == active,
            "needs": NAV_NEEDS.get(key, ""),
        }
        for key, label, url_name in items
    ]


# tabs shown only to users who may open them (templates/peers/host_nav.html reads request.can)
NAV_NEEDS = {"general": "edit", "publish": "publish", "tokens": "admin"}


def render_page(request, template: str, context: dict, *, partial: str | None = None):
    """The page, or (for an htmx request) only the named partial of the same template."""
    if partial and request.htmx and not request.htmx.boosted:
        template = f"{template}#{partial}"
    return render(request, template, context)


def severity_counts(findings) -> dict[str, int]:
    errors = sum(1 for f in findings if f.is_error)
    return {"errors": errors, "warnings": len(findings) - errors}


def finding_links(host: Host, findings, *, editor: bool = True) -> list[dict]:
    """Each finding with the URL of the form (and field) that fixes it; for a viewer, only the
    links to pages a viewer may open (registrations, limits). One query for the sections named."""
    named = {f.section for f in findings if f.section}
    ids = {n.lower(): pk for n, pk in host.endpoints.filter(name__in=named).values_list("name", "id")}
    rows = []
    for finding in findings:
        section = finding.section.lower()
        anchor = f"#row-{finding.directive.lower()}" if finding.directive else ""
        if section == "general":
            if (finding.directive or "").lower() == "register":
                url = reverse("peers:registration-list", args=[host.name])
                anchor = ""
            else:
                url = reverse("peers:general-edit", args=[host.name])
        elif section == "callnumberlimits":
            url = reverse("peers:limit-list", args=[host.name])
            anchor = ""
        elif section in ids:
            url = reverse("peers:endpoint-edit", args=[host.name, ids[section]])
            if finding.code in ("unknown-directive", "foreign-directive", "removed-directive"):
                anchor = "#row-other_lines"
            elif finding.code in ("invalid-section-name", "duplicate-section"):
                anchor = "#row-name"
        else:
            url = ""
        if not editor and "/registrations/" not in url and "/callnumberlimits/" not in url:
            url = ""
        rows.append({"finding": finding, "url": url + anchor if url else ""})
    return rows


def conflict_items(conflict: Conflict) -> list[dict]:
    """The history rows written since the user's version, with their masked field diffs, for the
    "someone else changed it" message (templates/peers/form_parts.html#conflict)."""
    items = [{"change": c, "fields": audit.diff(c.before, c.after)} for c in conflict.changes]
    return items or [{"change": None, "fields": []}]


def refreshed(data, version: int):
    """The posted values with ``version`` moved to the current one, so that saving the form again,
    after reading what changed, deliberately replaces it."""
    data = data.copy()
    data["version"] = str(version)
    return data


def no_store(response):
    """Mark a response that shows a secret in clear: never kept by a browser or a proxy."""
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
    response["Pragma"] = "no-cache"
    response["Expires"] = "0"
    return response


def confirm_page(request, *, host, title: str, consequence: str, cancel_url: str, button: str = "Delete"):
    """The page a delete (or revoke) link opens: what goes, and a button that does it (POST)."""
    context = {
        "host": host,
        "nav": host_nav(host, "") if host is not None else [],
        "title": title,
        "consequence": consequence,
        "cancel_url": cancel_url,
        "button": button,
    }
    return render(request, "peers/confirm_delete.html", context)


def write_with_message(request, write, done: str, refused: str = "{}") -> bool:
    """Run ``write()`` (a service call) and say how it went: ``done`` as a success, or a refusal
    as an error (``refused`` with ``{}`` for the reason). True when it was done."""
    try:
        write()
    except Refused as exc:
        messages.error(request, refused.format(exc.message))
        return False
    messages.success(request, done)
    return True


def form_page_context(host: Host, form, nav: str, validate_url: str, conflict=None) -> dict:
    """What a section form page shows (the endpoint and [general] forms): the form, checked
    inline at ``validate_url``, its preview, and the other user's changes after a conflict."""
    form.enable_inline(validate_url)
    preview, problem = form.preview()
    return {
        "host": host,
        "nav": host_nav(host, nav),
        "form": form,
        "preview": preview,
        "preview_problem": problem,
        "conflict": conflict,
    }
