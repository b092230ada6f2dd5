"""What the host screens share: the host lookup, the host tabs, partial rendering, finding links."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse

from ..models import (
    Host,
)

PAGE_SIZE = 50


def _get_host(name: str) -> Host:
    return get_object_or_404(Host, name=name)


def _host_nav(host: Host, active: str) -> list[dict]:
    """Tabs of a host's pages. History and publish pages come from another module: a link is shown
    only when its URL name exists."""
    items = [
        ("overview", "Overview", "peers:host-detail"),
        ("endpoints", "Peers & users", "peers:endpoint-list"),
        ("general", "[general]", "peers:general-edit"),
        ("registrations", "Registrations", "peers:registration-list"),
        ("limits", "Call-number limits", "peers:limit-list"),
        ("findings", "Findings", "peers:host-findings"),
        ("history", "History", "peers:host-history"),
        ("revisions", "Revisions", "peers:revision-list"),
        ("publish", "Publish", "peers:host-publish"),
        ("tokens", "Agent tokens", "peers:host-tokens"),
    ]
    nav = []
    for key, label, url_name in items:
        try:
            url = reverse(url_name, args=[host.name])
        except NoReverseMatch:
            continue
        nav.append(
            {"key": key, "label": label, "url": url, "active": key == active, "needs": NAV_NEEDS.get(key, "")}
        )
    return nav


# tabs shown only to users who may open them (templates/peers/_host_nav.html reads request.can)
NAV_NEEDS = {"general": "edit", "publish": "publish", "tokens": "admin"}


def _render(request, template: str, context: dict, *, partial: str | None = None):
    """The page, or (for an htmx request) only the named partial of the same template."""
    if partial and request.htmx and not request.htmx.boosted:
        template = f"{template}#{partial}"
    return render(request, template, context)


def _severity_counts(findings) -> dict[str, int]:
    errors = sum(1 for f in findings if f.is_error)
    return {"errors": errors, "warnings": len(findings) - errors}


def _finding_links(host: Host, findings, *, editor: bool = True) -> list[dict]:
    """Each finding with the URL of the form (and field) that fixes it; for a viewer, only the
    links to pages a viewer may open (registrations, limits)."""
    ids = {n.lower(): pk for n, pk in host.endpoints.values_list("name", "id")}
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
