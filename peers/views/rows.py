"""Registrations (register => lines) and [callnumberlimits] lines: a list with an "add" form, an edit
form and a delete button each, every write through the service layer."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from .. import policy, services
from ..forms.registrations import CallNumberLimitForm, RegistrationForm
from ..models import CallNumberLimit, Registration
from ..security.roles import role_required
from ..trunks import registration_links
from .common import confirm_page, conflict_items, get_host, host_nav


def _write(request, form, save) -> tuple[object | None, list | None]:
    """Run ``save()`` for a valid form: (saved object, None), or (None, conflict items) when
    someone else changed the row first, or (None, None) with the refusal put on the form."""
    if not form.is_valid():
        return None, None
    try:
        return save(), None
    except services.Conflict as exc:
        form.add_error(None, f"{exc.what} was changed by someone else after you opened this form.")
        return None, conflict_items(exc)
    except services.Refused as exc:
        form.apply_verdict(policy.Verdict(exc.findings, exc.findings))
        return None, None


def _save_registration(request, host, form, registration=None):
    def save():
        data = form.cleaned_data
        return services.save_registration(
            host,
            registration=registration,
            username=data["username"],
            secret=form.secret_value(),
            key=data.get("key") or None,
            remote_host=data["remote_host"],
            remote_port=data.get("remote_port"),
            comment=data.get("comment", ""),
            actor=request.user,
            expected_version=data.get("version"),
            message=f"register => {data['username']}@{data['remote_host']}",
        )

    return _write(request, form, save)


@role_required("viewer", write="editor")
@require_http_methods(["GET", "POST"])
def registration_list(request, name):
    host = get_host(name)
    form = RegistrationForm(request.POST or None)
    if request.method == "POST":
        saved, _ = _save_registration(request, host, form)
        if saved is not None:
            messages.success(request, f"Added register => {saved}.")
            return redirect("peers:registration-list", host.name)
    _inline(form, "registration")
    context = {
        "host": host,
        "nav": host_nav(host, "registrations"),
        "registrations": _with_links(host),
        "form": form,
    }
    return render(request, "peers/registration_list.html", context)


def _with_links(host):
    """The host's registrations, each with ``links``: the peers it goes with (peers.trunks)."""
    links = registration_links(host)
    registrations = list(host.registrations.select_related("key"))
    for registration in registrations:
        registration.links = links.get(registration.pk)
    return registrations


@role_required("editor")
@require_http_methods(["GET", "POST"])
def registration_edit(request, name, pk):
    host = get_host(name)
    registration = get_object_or_404(Registration, host=host, pk=pk)
    conflict = None
    if request.method == "POST":
        form = RegistrationForm(request.POST, registration=registration)
        saved, conflict = _save_registration(request, host, form, registration)
        if saved is not None:
            messages.success(request, f"Saved register => {saved}.")
            return redirect("peers:registration-list", host.name)
    else:
        form = RegistrationForm(registration=registration, version=services.version_of(registration))
    _inline(form, "registration", registration)
    context = {
        "host": host,
        "nav": host_nav(host, "registrations"),
        "form": form,
        "registration": registration,
        "conflict": conflict,
        "links": registration_links(host).get(registration.pk),
    }
    return render(request, "peers/registration_form.html", context, status=409 if conflict else 200)


@role_required("editor")
@require_http_methods(["GET", "POST"])
def registration_delete(request, name, pk):
    host = get_host(name)
    registration = get_object_or_404(Registration, host=host, pk=pk)
    if request.method == "GET":
        return confirm_page(
            request,
            host=host,
            title=f"Delete register => {registration}?",
            consequence=f"{host.name} stops registering as {registration.username} with "
            f"{registration.remote_host} at the next publish. The deletion is recorded in the history.",
            cancel_url=reverse("peers:registration-list", args=[host.name]),
        )
    services.delete_registration(
        registration, actor=request.user, message=f"register => {registration} deleted"
    )
    messages.success(request, f"Deleted register => {registration}.")
    return redirect("peers:registration-list", host.name)


def _save_limit(request, host, form, limit=None):
    def save():
        data = form.cleaned_data
        return services.save_callnumber_limit(
            host,
            limit=limit,
            network=data["network"],
            value=int(data["limit"]),
            comment=data.get("comment", ""),
            actor=request.user,
            expected_version=data.get("version"),
            message=f"[callnumberlimits] {data['network']} = {data['limit']}",
        )

    return _write(request, form, save)


@role_required("viewer", write="editor")
@require_http_methods(["GET", "POST"])
def limit_list(request, name):
    host = get_host(name)
    form = CallNumberLimitForm(request.POST or None)
    if request.method == "POST":
        saved, _ = _save_limit(request, host, form)
        if saved is not None:
            messages.success(request, f"Added {saved}.")
            return redirect("peers:limit-list", host.name)
    _inline(form, "limit")
    context = {
        "host": host,
        "nav": host_nav(host, "limits"),
        "limits": host.callnumber_limits.all(),
        "form": form,
    }
    return render(request, "peers/limit_list.html", context)


@role_required("editor")
@require_http_methods(["GET", "POST"])
def limit_edit(request, name, pk):
    host = get_host(name)
    limit = get_object_or_404(CallNumberLimit, host=host, pk=pk)
    conflict = None
    if request.method == "POST":
        form = CallNumberLimitForm(request.POST, limit=limit)
        saved, conflict = _save_limit(request, host, form, limit)
        if saved is not None:
            messages.success(request, f"Saved {saved}.")
            return redirect("peers:limit-list", host.name)
    else:
        form = CallNumberLimitForm(limit=limit, version=services.version_of(limit))
    _inline(form, "limit")
    context = {
        "host": host,
        "nav": host_nav(host, "limits"),
        "form": form,
        "limit": limit,
        "conflict": conflict,
    }
    return render(request, "peers/limit_form.html", context, status=409 if conflict else 200)


@role_required("editor")
@require_http_methods(["GET", "POST"])
def limit_delete(request, name, pk):
    host = get_host(name)
    limit = get_object_or_404(CallNumberLimit, host=host, pk=pk)
    if request.method == "GET":
        return confirm_page(
            request,
            host=host,
            title=f"Delete the call-number limit {limit}?",
            consequence="Addresses in that range fall back to maxcallnumbers from [general] at the next "
            "publish. The deletion is recorded in the history.",
            cancel_url=reverse("peers:limit-list", args=[host.name]),
        )
    services.delete_callnumber_limit(limit, actor=request.user, message=f"[callnumberlimits] {limit} deleted")
    messages.success(request, f"Deleted {limit}.")
    return redirect("peers:limit-list", host.name)


@role_required("editor")
@require_POST
def row_validate(request, form_name):
    """Inline check of one field of a registration or call-number-limit form."""
    if form_name == "registration":
        registration = (
            get_object_or_404(Registration, pk=request.GET["pk"]) if request.GET.get("pk") else None
        )
        form = RegistrationForm(request.POST, registration=registration)
    elif form_name == "limit":
        registration = None
        form = CallNumberLimitForm(request.POST)
    else:
        raise Http404("unknown form")
    field = request.GET.get("field", "")
    if field not in form.fields:
        return HttpResponseBadRequest("unknown field")
    form.is_valid()
    context = {"form": form, "rows": form.rows(), "status": form.status(field)}
    return render(request, "peers/form_parts.html#messages", context)


def _inline(form, form_name: str, obj=None):
    url = reverse("peers:row-validate", args=[form_name])
    form.enable_inline(url + (f"?pk={obj.pk}" if obj is not None and form_name == "registration" else ""))
    return form
