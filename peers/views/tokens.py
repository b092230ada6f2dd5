"""Host tokens (the agent's credentials): admins create and revoke them; a token is shown once."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from .. import services
from ..models import (
    HostToken,
)
from ..security.roles import role_required
from .common import confirm_page, get_host, host_nav, no_store

# ---------------------------------------------------------------------------------------------
# Host tokens (the agent's credentials): admins create and revoke them; a token is shown once.


@role_required("admin")
@require_http_methods(["GET", "POST"])
def host_tokens(request, name):
    host = get_host(name)
    created = None
    if request.method == "POST":
        label = request.POST.get("name", "").strip()[:60] or "agent"
        _, created = services.create_host_token(host, label, actor=request.user)
    rows = HostToken.objects.filter(host=host).order_by("-created_at")
    response = render(
        request,
        "peers/host_tokens.html",
        {"host": host, "nav": host_nav(host, "tokens"), "tokens": rows, "created": created},
    )
    return no_store(response) if created else response


@role_required("admin")
@require_http_methods(["GET", "POST"])
def host_token_revoke(request, name, pk):
    host = get_host(name)
    row = get_object_or_404(HostToken, host=host, pk=pk)
    if request.method == "GET" and row.revoked_at is None:
        return confirm_page(
            request,
            host=host,
            title=f"Revoke the token iaxh_{row.prefix}_…?",
            consequence=f"The agent that uses it ({row.name}) gets 401 from the next request on; this cannot "
            "be undone (create a new token instead).",
            cancel_url=reverse("peers:host-tokens", args=[host.name]),
            button="Revoke",
        )
    if row.revoked_at is None:
        services.revoke_token(row.prefix, actor=request.user, message="host token revoked")
        messages.success(request, f"Token {row.prefix} is revoked; the agent using it gets 401 from now on.")
    return redirect("peers:host-tokens", name=host.name)
