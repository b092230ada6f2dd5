"""Host tokens (the agent's credentials): admins create and revoke them; a token is shown once."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from .. import audit
from ..models import (
    Change,
    HostToken,
)
from ..security import tokens
from ..security.roles import role_required
from .common import _get_host, _host_nav

# ---------------------------------------------------------------------------------------------
# Host tokens (the agent's credentials): admins create and revoke them; a token is shown once.


@role_required("admin")
@require_http_methods(["GET", "POST"])
def host_tokens(request, name):
    host = _get_host(name)
    created = None
    if request.method == "POST":
        label = request.POST.get("name", "").strip()[:60] or "agent"
        with transaction.atomic():
            row, created = tokens.create_host_token(host, label)
            audit.record(
                actor=request.user, action=Change.Action.CREATE, object_type="hosttoken", object_id=row.pk,
                object_repr=f"host token {row.prefix} ({row.name})", host=host, before=None,
                after={"name": row.name, "prefix": row.prefix}, message="host token created",
            )  # fmt: skip
    rows = HostToken.objects.filter(host=host).order_by("-created_at")
    response = render(
        request,
        "peers/host_tokens.html",
        {"host": host, "nav": _host_nav(host, "tokens"), "tokens": rows, "created": created},
    )
    if created:
        response["Cache-Control"] = "no-store"
    return response


@role_required("admin")
@require_POST
def host_token_revoke(request, name, pk):
    host = _get_host(name)
    row = get_object_or_404(HostToken, host=host, pk=pk)
    if row.revoked_at is None:
        with transaction.atomic():
            tokens.revoke(row.prefix)
            audit.record(
                actor=request.user, action=Change.Action.UPDATE, object_type="hosttoken", object_id=row.pk,
                object_repr=f"host token {row.prefix} ({row.name})", host=host,
                before={"revoked": False}, after={"revoked": True}, message="host token revoked",
            )  # fmt: skip
        messages.success(request, f"Token {row.prefix} is revoked; the agent using it gets 401 from now on.")
    return redirect("peers:host-tokens", name=host.name)
