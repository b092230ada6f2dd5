"""The [general] form."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from .. import policy, services
from ..forms.general import GeneralForm
from ..security.roles import role_required
from .common import conflict_items, form_page_context, get_host, no_store, refreshed


def _general_page(request, host, form, *, conflict=None):
    """The [general] form page (answers to a POST are never stored: see endpoints._endpoint_page)."""
    validate_url = reverse("peers:general-validate", args=[host.name])
    context = form_page_context(host, form, "general", validate_url, conflict)
    context["validate_url"] = validate_url
    context["preview_url"] = reverse("peers:general-preview", args=[host.name])
    status = 409 if conflict is not None else 200
    response = render(request, "peers/general_form.html", context, status=status)
    return no_store(response) if request.method == "POST" else response


@role_required("editor")
@require_http_methods(["GET", "POST"])
def general_edit(request, name):
    host = get_host(name)
    conflict = None
    if request.method == "POST":
        form = GeneralForm(request.POST, host=host)
        if form.is_valid():
            section = form.to_section()
            try:
                services.save_general(
                    host,
                    section,
                    actor=request.user,
                    expected_version=form.cleaned_data.get("version"),
                    message="[general] changed in the web form",
                )
            except services.Conflict as exc:
                conflict = conflict_items(exc)
                form = GeneralForm(refreshed(request.POST, exc.version), host=host)
                form.is_valid()
            except services.Refused as exc:
                form.apply_verdict(policy.Verdict(exc.findings, exc.findings))
            else:
                messages.success(request, "Saved [general].")
                return redirect("peers:general-edit", host.name)
    else:
        form = GeneralForm(host=host, version=services.general_version(host))
        form.check_stored()
    return _general_page(request, host, form, conflict=conflict)


@role_required("editor")
@require_POST
def general_validate(request, name):
    host = get_host(name)
    form = GeneralForm(request.POST, host=host)
    field = request.GET.get("field", "")
    if field not in form.fields:
        return HttpResponseBadRequest("unknown field")
    form.is_valid()
    context = {"host": host, "form": form, "rows": form.rows(), "status": form.status(field)}
    return render(request, "peers/form_parts.html#messages", context)


@role_required("editor")
@require_POST
@vary_on_headers("HX-Request")
def general_preview(request, name):
    host = get_host(name)
    form = GeneralForm(request.POST, host=host)
    if not request.htmx:  # the no-JavaScript "Preview" button: the whole form page again
        form.is_valid()
        return _general_page(request, host, form)
    preview, problem = form.preview()
    context = {"preview": preview, "preview_problem": problem, "oob": True}
    return render(request, "peers/form_parts.html#preview", context)
