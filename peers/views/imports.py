"""Import of an uploaded iax.conf: upload (the files are staged in the database), a dry run with its
report, then confirm or cancel. The browser only ever holds the staged upload's id.

With htmx the work runs in steps: the upload answers at once with a progress panel that asks
(``import_run``) for the next step (the dry run, later the import) and polls ``import_status``
every second; the step runs in that request, on whichever app server gets it, and writes where it
is into the upload's row, so a 10,000-section file shows its progress and no request waits on
another. Without JavaScript each step runs in the request that asks for it, as a plain form post.
The report's findings are paged."""

from __future__ import annotations

import os

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from .. import services
from ..forms.imports import ImportForm
from ..models import Host, ImportUpload
from ..security.roles import has_role, role_required

NEW_HOST_NEEDS_ADMIN = "There is no host with this name: creating a host needs the admin role."
GONE = "This upload is no longer waiting (it was imported, cancelled or expired); upload the file again."
FINDINGS_PAGE = 100
State = ImportUpload.State


def _may_create_host(request, host_name: str) -> bool:
    """An import into a new host creates it: only an admin may do that."""
    return has_role(request.user, "admin") or Host.objects.filter(name=host_name).exists()


def _safe_name(name: str) -> str:
    """An uploaded file's name as its #include lines may name it (the browser's name, no folders)."""
    base = os.path.basename(name.replace("\\", "/")) or "upload.conf"
    return base if base not in (".", "..") else "upload.conf"


def _htmx(request) -> bool:
    return bool(request.htmx) and not request.htmx.boosted


def _report_context(request, upload: ImportUpload) -> dict:
    report, problems = services.upload_report(upload)
    context = {"upload": upload, "report": report, "problems": problems, "host_name": upload.host_name}
    if report is not None:
        context["findings"] = Paginator(report.findings, FINDINGS_PAGE).get_page(request.GET.get("page"))
        context["note"] = (upload.report or {}).get("note", "")
        context["moved"] = sum(report.moved.values())
    return context


def _work(request, upload: ImportUpload, *, run: bool):
    """The progress panel of an upload whose step is waiting or running (``run``: ask for it)."""
    seconds = int((timezone.now() - upload.started_at).total_seconds()) if upload.started_at else 0
    stale = (
        upload.state in (State.CHECKING, State.IMPORTING) and seconds > services.imports.STALE.total_seconds()
    )
    context = {
        "upload": upload,
        "importing": upload.state in (State.CONFIRMED, State.IMPORTING),
        "seconds": seconds,
        "run": run or stale or upload.state in (State.STAGED, State.CONFIRMED),
    }
    return render(request, "peers/import.html#work", context)


def _answer(request, upload: ImportUpload):
    """What the page shows for the upload's state: progress, the report, the problems, or (once
    imported) the host."""
    if upload.state == State.IMPORTED:
        report, _ = services.upload_report(upload)
        messages.success(request, _imported(report))
        return HttpResponseClientRedirect(reverse("peers:host-detail", args=[upload.host_name]))
    if upload.state in (State.CHECKED, State.FAILED):
        return render(request, "peers/import.html#result", _report_context(request, upload))
    return _work(request, upload, run=False)


def _imported(report) -> str:
    return (
        f"Imported into {report.host}: {sum(report.created.values())} created, {sum(report.changed.values())} "
        f"changed, {len(report.errors)} error finding(s), {len(report.warnings)} warning(s)."
    )


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
        if _htmx(request):  # the dry run is the next step, asked for by the progress panel
            return _work(request, upload, run=True)
        services.import_upload(upload, dry_run=True, actor=request.user)
        context.update(_report_context(request, upload))
        if context["report"] is None:
            services.discard_upload(upload)
    elif _htmx(request) and request.method == "POST":
        return render(request, "peers/import.html#upload-form", context)
    return render(request, "peers/import.html", context)


@role_required("editor")
@require_POST
def import_run(request, pk):
    """Run the upload's next step here (the dry run, or the import once confirmed) if no other
    server is running it; answer with what the page should show next."""
    upload = services.staged_upload(pk, user=request.user)
    if upload is None:
        return HttpResponse(f'<p class="form-errors">{GONE}</p>', status=200)
    if upload.state == State.CONFIRMED and not _may_create_host(request, upload.host_name):
        return HttpResponse(f'<p class="form-errors">{NEW_HOST_NEEDS_ADMIN}</p>', status=200)
    if services.claim_upload(upload):
        services.run_upload(upload, actor=request.user, message=f"imported {upload.main} in the browser")
    else:
        upload.refresh_from_db()
    return _answer(request, upload)


@role_required("editor")
@require_GET
def import_status(request, pk):
    """Where the upload's work is (polled every second by the progress panel)."""
    upload = services.staged_upload(pk, user=request.user)
    if upload is None:
        return HttpResponse(f'<p class="form-errors">{GONE}</p>', status=200)
    return _answer(request, upload)


@role_required("editor")
@require_GET
def import_report(request, pk):
    """The report of a checked upload (a page of its findings for htmx)."""
    upload = services.staged_upload(pk, user=request.user)
    if upload is None or upload.state not in (State.CHECKED, State.FAILED):
        messages.error(request, GONE)
        return redirect("peers:import")
    context = _report_context(request, upload)
    if _htmx(request):
        return render(request, "peers/import.html#findings", context)
    return render(request, "peers/import.html", {"form": ImportForm(), **context})


@role_required("editor")
@require_POST
def import_confirm(request):
    upload = services.staged_upload(request.POST.get("upload", ""), user=request.user)
    if upload is None or upload.state != State.CHECKED:
        messages.error(request, GONE)
        return (
            HttpResponseClientRedirect(reverse("peers:import"))
            if _htmx(request)
            else redirect("peers:import")
        )
    if request.POST.get("cancel"):
        services.discard_upload(upload)
        messages.success(request, "Import cancelled; nothing was written.")
        return (
            HttpResponseClientRedirect(reverse("peers:import"))
            if _htmx(request)
            else redirect("peers:import")
        )
    if not _may_create_host(request, upload.host_name):
        messages.error(request, NEW_HOST_NEEDS_ADMIN)
        return (
            HttpResponseClientRedirect(reverse("peers:import"))
            if _htmx(request)
            else redirect("peers:import")
        )
    if _htmx(request):
        services.confirm_upload(upload)
        upload.refresh_from_db()
        return _work(request, upload, run=True)
    report, problems = services.import_upload(
        upload, dry_run=False, actor=request.user, message=f"imported {upload.main} in the browser"
    )
    if upload.state == State.IMPORTED:
        messages.success(request, _imported(report))
        return redirect("peers:host-detail", report.host)
    # nothing imported: the problems, or the host changed since the dry run and this is the new report
    return render(request, "peers/import.html", {"form": ImportForm(), **_report_context(request, upload)})
