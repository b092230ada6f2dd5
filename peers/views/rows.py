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


def _write(request, form, save, fields) -> tuple[object | None, list | None]:
    """Call the service ``save`` for a valid form, with ``fields(cleaned_data)``, the user and the
    version the form was loaded at: (saved object, None), or (None, conflict items) when someone
    else changed the row first, or (None, None) with the refusal put on the form."""
    if not form.is_valid():
        return None, None
    data = form.cleaned_data
    try:
        return save(**fields(data), actor=request.user, expected_version=data.get("version")), None
    except services.Conflict as exc:
        form.add_error(None, f"{exc.what} was changed by someone else after you opened this form.")
        return None, conflict_items(exc)
    except services.Refused as exc:
        form.apply_verdict(policy.Verdict(exc.findings, exc.findings))
        return None, None


# The messages name a registration as its line does; a limit's str() is its line already.
_SHOWN = {"registration": "register => {}", "limit": "{}"}


def _list_page(request, host, form, save, page: str, extra: dict):
    """A list with its "add" form (``page``: registration or limit): a valid POST adds the row
    and comes back to the list. ``extra``: the page's other context, each read only when drawn."""
    if request.method == "POST":
        saved, _ = save(request, host, form)
        if saved is not None:
            messages.success(request, f"Added {_SHOWN[page].format(saved)}.")
            return redirect(f"peers:{page}-list", host.name)
    _inline(form, page)
    context = {"host": host, "nav": host_nav(host, f"{page}s"), "form": form}
    context.update((key, read()) for key, read in extra.items())
    return render(request, f"peers/{page}_list.html", context)


def _edit_page(request, host, obj, form_class, save, page: str, extra: dict):
    """The edit form of one row; 409 with the other user's changes when someone saved it first."""
    conflict = None
    if request.method == "POST":
        form = form_class(request.POST, **{page: obj})
        saved, conflict = save(request, host, form, obj)
        if saved is not None:
            messages.success(request, f"Saved {_SHOWN[page].format(saved)}.")
            return redirect(f"peers:{page}-list", host.name)
    else:
        form = form_class(**{page: obj}, version=services.version_of(obj))
    _inline(form, page, obj)
    context = {"host": host, "nav": host_nav(host, f"{page}s"), "form": form, page: obj, "conflict": conflict}
    context.update((key, read()) for key, read in extra.items())
    return render(request, f"peers/{page}_form.html", context, status=409 if conflict else 200)


def _save_registration(request, host, form, registration=None):
    def fields(data):
        return {
            "host": host,
            "registration": registration,
            "username": data["username"],
            "secret": form.secret_value(),
            "key": data.get("key") or None,
            "remote_host": data["remote_host"],
            "remote_port": data.get("remote_port"),
            "comment": data.get("comment", ""),
            "message": f"register => {data['username']}@{data['remote_host']}",
        }

    return _write(request, form, services.save_registration, fields)


@role_required("viewer", write="editor")
@require_http_methods(["GET", "POST"])
def registration_list(request, name):
    host = get_host(name)
    form = RegistrationForm(request.POST or None)
    return _list_page(
        request, host, form, _save_registration, "registration", {"registrations": lambda: _with_links(host)}
    )


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
    links = {"links": lambda: registration_links(host).get(registration.pk)}
    return _edit_page(
        request, host, registration, RegistrationForm, _save_registration, "registration", links
    )


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
    def fields(data):
        return {
            "host": host,
            "limit": limit,
            "network": data["network"],
            "value": int(data["limit"]),
            "comment": data.get("comment", ""),
            "message": f"[callnumberlimits] {data['network']} = {data['limit']}",
        }

    return _write(request, form, services.save_callnumber_limit, fields)


@role_required("viewer", write="editor")
@require_http_methods(["GET", "POST"])
def limit_list(request, name):
    host = get_host(name)
    form = CallNumberLimitForm(request.POST or None)
    return _list_page(request, host, form, _save_limit, "limit", {"limits": host.callnumber_limits.all})


@role_required("editor")
@require_http_methods(["GET", "POST"])
def limit_edit(request, name, pk):
    host = get_host(name)
    limit = get_object_or_404(CallNumberLimit, host=host, pk=pk)
    return _edit_page(request, host, limit, CallNumberLimitForm, _save_limit, "limit", {})


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
