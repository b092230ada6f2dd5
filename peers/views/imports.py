"""Import of an uploaded iax.conf: upload (the files are staged in the database and a dry run is
reported), then confirm or cancel. The browser only ever holds the staged upload's id."""

from __future__ import annotations

import os

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from .. import services
from ..forms import ImportForm
from ..models import Host
from ..security.roles import has_role, role_required

NEW_HOST_NEEDS_ADMIN = "There is no host with this name: creating a host needs the admin role."


def _may_create_host(request, host_name: str) -> bool:
    """An import into a new host creates it: only an admin may do that."""
    return has_role(request.user, "admin") or Host.objects.filter(name=host_name).exists()


def _safe_name(name: str) -> str:
    """An uploaded file's name as its #include lines may name it (the browser's name, no folders)."""
    base = os.path.basename(name.replace("\\", "/")) or "upload.conf"
    return base if base not in (".", "..") else "upload.conf"


@role_required("editor")
@require_http_methods(["GET", "POST"])
def import_upload(request):
    form = ImportForm(
        request.POST or None, request.FILES or None, initial={"host": request.GET.get("host", "")}
    )
    context = {"form": form}
    if (
        request.method == "POST"
        and form.is_valid()
        and not _may_create_host(request, form.cleaned_data["host"])
    ):
        form.add_error("host", NEW_HOST_NEEDS_ADMIN)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        main = _safe_name(data["conf"].name)
        files = {main: data["conf"].read()}
        for upload in data["includes"]:
            files.setdefault(_safe_name(upload.name), upload.read())
        upload = services.stage_upload(
            files, main=main, host_name=data["host"], replace=data["replace"], user=request.user
        )
        report, problems = services.import_upload(upload, dry_run=True, actor=request.user)
        if report is None:
            services.discard_upload(upload)
        context.update(report=report, problems=problems, upload=upload, host_name=data["host"])
    return render(request, "peers/import.html", context)


@role_required("editor")
@require_POST
def import_confirm(request):
    upload = services.staged_upload(request.POST.get("upload", ""), user=request.user)
    if upload is None:
        messages.error(
            request,
            "This upload is no longer waiting (it was imported, cancelled or expired); upload the file again.",
        )
        return redirect("peers:import")
    if request.POST.get("cancel"):
        services.discard_upload(upload)
        messages.success(request, "Import cancelled; nothing was written.")
        return redirect("peers:import")
    if not _may_create_host(request, upload.host_name):
        messages.error(request, NEW_HOST_NEEDS_ADMIN)
        return redirect("peers:import")
    report, problems = services.import_upload(
        upload, dry_run=False, actor=request.user, message=f"imported {upload.main} in the browser"
    )
    if report is None:
        return render(request, "peers/import.html", {"form": ImportForm(), "problems": problems})
    messages.success(
        request,
        f"Imported into {report.host}: {sum(report.created.values())} created, {sum(report.changed.values())} "
        f"changed, {len(report.errors)} error finding(s), {len(report.warnings)} warning(s).",
    )
    return redirect("peers:host-detail", report.host)
