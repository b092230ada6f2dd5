"""RSA keys: list, generate, upload, download the public part, delete."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from .. import keys as rsa_keys
from .. import services
from ..forms.keys import (
    KeyGenerateForm,
    KeyUploadForm,
)
from ..models import (
    Endpoint,
    EndpointInKey,
    Key,
    Registration,
)
from ..security.roles import role_required
from .common import confirm_page, write_with_message

# -------------------------------------------------------------------------------------------------
# Keys


def _key_usage(keys) -> list[dict]:
    rows = []
    for key in keys:
        used = [
            {"what": "outkey", "host": e.host.name, "name": e.name, "pk": e.pk} for e in key.outkey_of.all()
        ]
        used += [
            {
                "what": "inkeys",
                "host": link.endpoint.host.name,
                "name": link.endpoint.name,
                "pk": link.endpoint.pk,
            }
            for link in key.inkey_links.all()
        ]
        used += [
            {"what": "register", "host": r.host.name, "name": str(r), "pk": None}
            for r in key.registrations.all()
        ]
        rows.append({"key": key, "used": used})
    return rows


@role_required("viewer")
@require_GET
def key_list(request):
    keys = Key.objects.prefetch_related(
        Prefetch(
            "outkey_of",
            queryset=Endpoint.objects.select_related("host").only("name", "host__name", "outkey_id"),
        ),
        Prefetch(
            "inkey_links",
            queryset=EndpointInKey.objects.select_related("endpoint__host").only(
                "key_id", "endpoint__name", "endpoint__host__name"
            ),
        ),
        Prefetch("registrations", queryset=Registration.objects.select_related("host")),
    )
    return render(request, "peers/key_list.html", {"rows": _key_usage(keys)})


def _store_key(request, form, name: str, material, verb: str) -> Key | None:
    try:
        return services.store_key(name, material, actor=request.user, message=f"key {name} {verb}")
    except services.Refused as exc:
        for finding in exc.findings:
            form.add_error("name" if finding.part == "name" else None, finding.message)
        return None


@role_required("editor")
@require_http_methods(["GET", "POST"])
def key_generate(request):
    form = KeyGenerateForm(request.POST or None, initial={"name": request.GET.get("name", "")})
    if request.method == "POST" and form.is_valid():
        passphrase = None if form.cleaned_data["no_passphrase"] else form.cleaned_data["passphrase"]
        key = _store_key(request, form, form.cleaned_data["name"], rsa_keys.generate(passphrase), "generated")
        if key is not None:
            note = "" if passphrase else " Its private key has no passphrase."
            messages.success(request, f"Generated key {key.name} ({key.fingerprint}).{note}")
            return redirect("peers:key-list")
    return render(request, "peers/key_form.html", {"form": form, "mode": "generate"})


@role_required("editor")
@require_http_methods(["GET", "POST"])
def key_upload(request):
    form = KeyUploadForm(
        request.POST or None, request.FILES or None, initial={"name": request.GET.get("name", "")}
    )
    if request.method == "POST" and form.is_valid():
        key = _store_key(request, form, form.cleaned_data["name"], form.material, "uploaded")
        if key is not None:
            messages.success(request, f"Uploaded key {key.name} ({key.fingerprint}).")
            return redirect("peers:key-list")
    return render(request, "peers/key_form.html", {"form": form, "mode": "upload"})


@role_required("viewer")
@require_GET
def key_download(request, key_name):
    key = get_object_or_404(Key, name=key_name)
    if not key.public_pem:
        raise Http404("this key has no public key yet")
    response = HttpResponse(key.public_pem, content_type="text/plain; charset=us-ascii")
    response["Content-Disposition"] = f'attachment; filename="{key.name}.pub"'
    return response


@role_required("editor")
@require_http_methods(["GET", "POST"])
def key_delete(request, key_name):
    key = get_object_or_404(Key, name=key_name)
    if request.method == "GET":
        what = "public and private key" if key.has_private else "public key"
        if key.outkey_of.exists() or key.inkey_links.exists() or key.registrations.exists():
            messages.error(request, f"The key {key.name} is in use (see 'Used by'); it cannot be deleted.")
            return redirect("peers:key-list")
        return confirm_page(
            request,
            host=None,
            title=f"Delete the key {key.name}?",
            consequence=f"Its {what} are removed from the database for every host; no section uses it now. "
            "The deletion is recorded in the history.",
            cancel_url=reverse("peers:key-list"),
        )
    write_with_message(
        request,
        lambda: services.delete_key(key, actor=request.user, message=f"key {key.name} deleted"),
        f"Deleted key {key.name}.",
    )
    return redirect("peers:key-list")
