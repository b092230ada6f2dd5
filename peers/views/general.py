"""The [general] form."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from .. import services
from ..exporter import build_document
from ..forms import (
    GeneralForm,
)
from ..iaxconf import Section
from ..models import (
    GeneralSettings,
    Host,
)
from ..security.roles import role_required
from .common import _get_host, _host_nav
from .endpoints import _as_int, _changes_since, _latest_change_id, _refreshed

# -------------------------------------------------------------------------------------------------
# [general]


def _general_form(request, host, data=None, version: str = ""):
    return GeneralForm(data, host=host, current=_general_section(host), version=version)


def _general_version(host: Host) -> str:
    """[general] has no updated_at: its version is the id of its latest Change row (0: none yet)."""
    general_id = GeneralSettings.objects.filter(host=host).values_list("id", flat=True).first()
    return str(_latest_change_id(("general",), general_id))


def _general_conflict(data, host: Host) -> list[dict] | None:
    """Lock [general] (or, before it exists, the host) and compare versions (see _endpoint_conflict)."""
    general = GeneralSettings.objects.select_for_update().filter(host=host).first()
    if general is None:
        Host.objects.select_for_update().filter(pk=host.pk).first()
    posted = _as_int(data.get("version"))
    if posted is None:
        return None
    if general is None or str(posted) == _general_version(host):
        return None
    return _changes_since(("general",), general.pk, posted) or [{"change": None, "fields": []}]


def _general_section(host: Host) -> Section:
    """The host's [general] as stored (without the register lines, which are Registrations)."""
    document, _, _ = build_document(host, only=[-1])
    general = document.general or Section(name="general")
    general.entries = [e for e in general.entries if e.name.lower() != "register"]
    return general


@role_required("editor")
@require_http_methods(["GET", "POST"])
def general_edit(request, name):
    host = _get_host(name)
    conflict = None
    if request.method == "POST":
        with transaction.atomic():
            conflict = _general_conflict(request.POST, host)
            if conflict is None:
                form = _general_form(request, host, request.POST)
                if form.is_valid():
                    form.check()
                if form.is_valid():
                    section = form.to_section()
                    services.save_general(
                        host, section.entries, comment="\n".join(section.comments), actor=request.user,
                        message="[general] changed in the web form",
                    )  # fmt: skip
                    messages.success(request, "Saved [general].")
                    return redirect("peers:general-edit", host.name)
            else:
                version = _general_version(host)
                form = _general_form(
                    request, host, _refreshed(request.POST, {"version": version, "seen_change": version})
                )
                if form.is_valid():
                    form.check()
    else:
        form = _general_form(request, host, version=_general_version(host))
        form.check()
    validate_url = reverse("peers:general-validate", args=[host.name])
    form.enable_inline(validate_url)
    preview, problem = form.preview()
    context = {
        "host": host,
        "nav": _host_nav(host, "general"),
        "form": form,
        "validate_url": validate_url,
        "preview_url": reverse("peers:general-preview", args=[host.name]),
        "preview": preview,
        "preview_problem": problem,
        "conflict": conflict,
    }
    return render(request, "peers/general_form.html", context, status=409 if conflict is not None else 200)


@role_required("editor")
@require_POST
def general_validate(request, name):
    host = _get_host(name)
    form = _general_form(request, host, request.POST)
    field = request.GET.get("field", "")
    if field not in form.fields:
        return HttpResponseBadRequest("unknown field")
    if form.is_valid():
        form.check()
    form.enable_inline(reverse("peers:general-validate", args=[host.name]))
    return render(request, "peers/form_parts.html#field-row", {"row": form.row(field)})


@role_required("editor")
@require_POST
def general_preview(request, name):
    host = _get_host(name)
    form = _general_form(request, host, request.POST)
    form.is_valid()
    preview, problem = form.preview()
    return render(request, "peers/form_parts.html#preview", {"preview": preview, "preview_problem": problem})
