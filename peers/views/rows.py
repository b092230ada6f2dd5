"""Registrations (register => lines) and [callnumberlimits] lines."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from .. import services
from ..forms import (
    CallNumberLimitForm,
    RegistrationForm,
    Row,
)
from ..models import (
    CallNumberLimit,
    Key,
    Registration,
)
from ..security.roles import role_required
from .common import _get_host, _host_nav

# -------------------------------------------------------------------------------------------------
# Registrations and [callnumberlimits]


def _next_position(rows) -> int:
    last = rows.order_by("-position").values_list("position", flat=True).first()
    return 0 if last is None else last + 1


def _save_registration(request, host, form, registration):
    data = form.cleaned_data
    registration.username = data["username"]
    registration.key = Key.objects.get(name=data["key"]) if data.get("key") else None
    registration.secret = form.effective_secret()
    registration.remote_host = data["remote_host"]
    registration.remote_port = data.get("remote_port")
    registration.comment = data.get("comment", "").replace("\r\n", "\n")
    services.save_registration(registration, actor=request.user, message=f"register => {registration}")


@role_required("viewer", write="editor")
@require_http_methods(["GET", "POST"])
def registration_list(request, name):
    host = _get_host(name)
    if request.method == "POST":
        form = RegistrationForm(request.POST)
        if form.is_valid():
            registration = Registration(host=host, position=_next_position(host.registrations))
            _save_registration(request, host, form, registration)
            messages.success(request, f"Added register => {registration}.")
            return redirect("peers:registration-list", host.name)
    else:
        form = RegistrationForm()
    _inline(form, "registration")
    context = {
        "host": host,
        "nav": _host_nav(host, "registrations"),
        "registrations": host.registrations.select_related("key"),
        "form": form,
    }
    return render(request, "peers/registration_list.html", context)


@role_required("editor")
@require_http_methods(["GET", "POST"])
def registration_edit(request, name, pk):
    host = _get_host(name)
    registration = get_object_or_404(Registration, host=host, pk=pk)
    if request.method == "POST":
        form = RegistrationForm(request.POST, registration=registration)
        if form.is_valid():
            _save_registration(request, host, form, registration)
            messages.success(request, f"Saved register => {registration}.")
            return redirect("peers:registration-list", host.name)
    else:
        form = RegistrationForm(registration=registration)
    _inline(form, "registration", registration)
    context = {
        "host": host,
        "nav": _host_nav(host, "registrations"),
        "form": form,
        "registration": registration,
    }
    return render(request, "peers/registration_form.html", context)


@role_required("editor")
@require_POST
def registration_delete(request, name, pk):
    host = _get_host(name)
    registration = get_object_or_404(Registration, host=host, pk=pk)
    services.delete_registration(
        registration, actor=request.user, message=f"register => {registration} deleted"
    )
    messages.success(request, f"Deleted register => {registration}.")
    return redirect("peers:registration-list", host.name)


def _save_limit(request, form, limit):
    limit.network = form.cleaned_data["network"]
    limit.limit = form.cleaned_data["limit"]
    limit.comment = form.cleaned_data.get("comment", "").replace("\r\n", "\n")
    services.save_callnumber_limit(limit, actor=request.user, message=f"[callnumberlimits] {limit}")


@role_required("viewer", write="editor")
@require_http_methods(["GET", "POST"])
def limit_list(request, name):
    host = _get_host(name)
    if request.method == "POST":
        form = CallNumberLimitForm(request.POST)
        if form.is_valid():
            limit = CallNumberLimit(host=host, position=_next_position(host.callnumber_limits))
            _save_limit(request, form, limit)
            messages.success(request, f"Added {limit}.")
            return redirect("peers:limit-list", host.name)
    else:
        form = CallNumberLimitForm()
    _inline(form, "limit")
    context = {
        "host": host,
        "nav": _host_nav(host, "limits"),
        "limits": host.callnumber_limits.all(),
        "form": form,
    }
    return render(request, "peers/limit_list.html", context)


@role_required("editor")
@require_http_methods(["GET", "POST"])
def limit_edit(request, name, pk):
    host = _get_host(name)
    limit = get_object_or_404(CallNumberLimit, host=host, pk=pk)
    if request.method == "POST":
        form = CallNumberLimitForm(request.POST)
        if form.is_valid():
            _save_limit(request, form, limit)
            messages.success(request, f"Saved {limit}.")
            return redirect("peers:limit-list", host.name)
    else:
        form = CallNumberLimitForm(
            initial={"network": limit.network, "limit": limit.limit, "comment": limit.comment}
        )
    _inline(form, "limit")
    context = {"host": host, "nav": _host_nav(host, "limits"), "form": form, "limit": limit}
    return render(request, "peers/limit_form.html", context)


@role_required("editor")
@require_POST
def limit_delete(request, name, pk):
    host = _get_host(name)
    limit = get_object_or_404(CallNumberLimit, host=host, pk=pk)
    services.delete_callnumber_limit(limit, actor=request.user, message=f"[callnumberlimits] {limit} deleted")
    messages.success(request, f"Deleted {limit}.")
    return redirect("peers:limit-list", host.name)


FORM_VALIDATORS = {"registration": RegistrationForm, "limit": CallNumberLimitForm}


@role_required("editor")
@require_POST
def row_validate(request, form_name):
    """Inline check of one field of a registration or call-number-limit form."""
    form_class = FORM_VALIDATORS.get(form_name)
    if form_class is None:
        raise Http404("unknown form")
    registration = None
    if form_name == "registration" and request.GET.get("pk"):
        registration = get_object_or_404(Registration, pk=request.GET["pk"])
    form = (
        form_class(request.POST, registration=registration)
        if form_name == "registration"
        else form_class(request.POST)
    )
    field = request.GET.get("field", "")
    if field not in form.fields:
        return HttpResponseBadRequest("unknown field")
    form.is_valid()
    _inline(form, form_name, registration)
    return render(request, "peers/form_parts.html#field-row", {"row": Row(form[field])})


def _inline(form, form_name: str, obj=None):
    url = reverse("peers:row-validate", args=[form_name])
    form.enable_inline(url + (f"?pk={obj.pk}" if obj is not None and form_name == "registration" else ""))
    return form
