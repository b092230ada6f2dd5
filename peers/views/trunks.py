"""The trunk wizard: "New IAX2 trunk" asks once for the far end and creates everything, linked,
in one service call (``peers.services.create_trunk`` / ``create_trunk_pair``): to a server not
managed here, or between this host and another host managed here (both ends at once)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .. import services
from ..forms.trunks import TrunkForm, TrunkPairForm
from ..security.roles import role_required
from .common import get_host, host_nav


def _done(request, host, result: services.TrunkResult):
    created = []
    for name, endpoints in result.endpoints.items():
        sections = ", ".join(f"[{e.name}]" for e in endpoints)
        line = f" and register => {result.registrations[name]}" if name in result.registrations else ""
        created.append(f"{name}: {sections}{line}")
    keys = f" New keys: {', '.join(k.name for k in result.keys)}." if result.keys else ""
    messages.success(
        request, f"Created the IAX2 trunk. {'; '.join(created)}.{keys} Publish each host to deploy it."
    )
    if result.secret_generated and len(result.endpoints) == 1:
        messages.info(
            request,
            "A strong secret was generated: reveal it on the new section to give it to the far end.",
        )
    if host.name in result.registrations:
        return redirect("peers:registration-list", host.name)
    return redirect("peers:endpoint-list", host.name)


def _wizard(request, name: str, form_class, mode: str, create):
    """A trunk wizard's page: its form, and on a valid POST ``create(host, form)`` (the service's
    write); a refusal is shown at the field it names."""
    host = get_host(name)
    form = form_class(request.POST or None, host=host)
    if request.method == "POST" and form.is_valid():
        try:
            result = create(host, form)
        except services.Refused as exc:
            form.put_refusal(exc)
        else:
            return _done(request, host, result)
    context = {"host": host, "nav": host_nav(host, "endpoints"), "form": form, "mode": mode}
    return render(request, "peers/trunks/trunk_form.html", context)


@role_required("editor")
@require_http_methods(["GET", "POST"])
def trunk_create(request, name):
    """A trunk to a far end that is not managed here."""

    def create(host, form):
        local, far, credentials = form.ends()
        return services.create_trunk(host, local, far, credentials, form.options(), actor=request.user)

    return _wizard(request, name, TrunkForm, "far", create)


@role_required("editor")
@require_http_methods(["GET", "POST"])
def trunk_pair_create(request, name):
    """A trunk between this host and another host managed here: both ends in one transaction."""

    def create(host, form):
        other, local, far = form.ends()
        keys = None
        if form.cleaned_data["auth"] == "rsa":
            passphrase = None if form.cleaned_data["no_passphrase"] else form.cleaned_data["passphrase"]
            keys = services.NewKeys(form.key_names(), passphrase)
        return services.create_trunk_pair(
            host, other, local, far, keys=keys, options=form.options(), actor=request.user
        )

    return _wizard(request, name, TrunkPairForm, "managed", create)
