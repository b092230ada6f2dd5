"""Import of an uploaded iax.conf: upload, dry-run report, confirm."""

from __future__ import annotations

import base64
import os

from django.contrib import messages
from django.core import signing
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from ..forms import (
    ImportForm,
)
from ..iaxconf.parse import ConfigSyntaxError, parse_uploads
from ..importer import ImportError_, import_document
from ..models import (
    Host,
)
from ..security.roles import has_role, role_required

IMPORT_SALT = "peers.import"


# -------------------------------------------------------------------------------------------------
# Import: upload, dry run, confirm


def _run_import(payload: dict, *, dry_run: bool):
    """Parse the uploaded main file with its includes resolved among the uploaded files only (the
    server's disk is never read) and import it. Returns (report, problems)."""
    files = {name: base64.b64decode(content) for name, content in payload["files"].items()}
    try:
        parsed = parse_uploads(payload["main"], files)
    except ConfigSyntaxError as exc:
        return None, [(exc.file or payload["main"], exc.line, exc.message)]
    try:
        report = import_document(
            parsed.document,
            host_name=payload["host"],
            replace=payload["replace"],
            dry_run=dry_run,
            notes=parsed.notes,
        )
    except ImportError_ as exc:
        return None, [(None, None, exc.message)] + list(exc.problems)
    return report, []


NEW_HOST_NEEDS_ADMIN = "There is no host with this name: creating a host needs the admin role."


def _may_create_host(request, host_name: str) -> bool:
    """An import into a new host creates it: only an admin may do that."""
    return has_role(request.user, "admin") or Host.objects.filter(name=host_name).exists()


def _safe_name(name: str) -> str:
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
        files = {main: base64.b64encode(data["conf"].read()).decode("ascii")}
        for upload in data["includes"]:
            files.setdefault(_safe_name(upload.name), base64.b64encode(upload.read()).decode("ascii"))
        payload = {"host": data["host"], "replace": data["replace"], "main": main, "files": files}
        report, problems = _run_import(payload, dry_run=True)
        context.update(
            report=report,
            problems=problems,
            payload=signing.dumps(payload, salt=IMPORT_SALT, compress=True),
            host_name=data["host"],
        )
    return render(request, "peers/import.html", context)


@role_required("editor")
@require_POST
def import_confirm(request):
    try:
        payload = signing.loads(request.POST.get("payload", ""), salt=IMPORT_SALT, max_age=6 * 3600)
    except signing.BadSignature:
        messages.error(request, "The upload could not be read back; upload the file again.")
        return redirect("peers:import")
    if not _may_create_host(request, payload["host"]):
        messages.error(request, NEW_HOST_NEEDS_ADMIN)
        return redirect("peers:import")
    report, problems = _run_import(payload, dry_run=False)
    if report is None:
        return render(request, "peers/import.html", {"form": ImportForm(), "problems": problems})
    messages.success(
        request,
        f"Imported into {report.host}: {sum(report.created.values())} created, {sum(report.changed.values())} "
        f"changed, {len(report.errors)} error finding(s), {len(report.warnings)} warning(s).",
    )
    return redirect("peers:host-detail", report.host)
