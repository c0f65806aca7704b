"""Staff pages: upload → dry-run preview (a background job) → confirm; KBART lists; downloads.
registry.change only."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from lifeline.core import jobs
from lifeline.core.access import library_for
from lifeline.core.choices import JobStatus
from lifeline.core.jobviews import owned_job
from lifeline.core.models import Library
from lifeline.core.uploads import read_upload
from lifeline.registry.io import exporting
from lifeline.registry.io.choices import ExportFormat
from lifeline.registry.io.forms import ExportForm, ImportForm, KbartForm
from lifeline.registry.io.reading import human_size, max_bytes
from lifeline.registry.jobs import KBART_PREVIEW, PREVIEW
from lifeline.registry.models import Resource

ACTION = "registry.change"
# Multipart framing: a body this much above the limit may still hold a file within it.
ENVELOPE_BYTES = 64 * 1024


def _libraries(request: HttpRequest) -> list[Library]:
    libraries = list(Library.objects.restrict(request.user, ACTION).order_by("code"))
    if not libraries:
        raise PermissionDenied
    return libraries


def _library(request: HttpRequest, code: str) -> Library:
    return library_for(request, code, ACTION)  # the one resolver (issue 21)


def _read(upload: Any, form: Any) -> bytes | None:
    """The upload's bytes through the one opener of uploads (issue 21: ZIP expansion, inflated
    size and line length); the file kind is left to the reader, which sniffs it itself."""
    try:
        return read_upload(upload, None, max_bytes=max_bytes())[1]
    except ValidationError as exc:
        form.add_error("file", exc)
        return None


def _refuse_early(request: HttpRequest, template: str, form: Any) -> HttpResponse | None:
    """Refuse an oversized body before Django parses it, then check CSRF by hand."""
    limit = max_bytes()
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > limit + ENVELOPE_BYTES:
        message = _("The file is larger than the limit of %(limit)s.") % {
            "limit": human_size(limit)
        }
        return render(request, template, {"form": form, "refused": message}, status=413)
    return CsrfViewMiddleware(lambda r: HttpResponse()).process_view(
        request, lambda r: HttpResponse(), (), {}
    )


def _file_too_big(form: Any) -> bool:
    upload = form.cleaned_data["file"]
    if upload.size > max_bytes():
        form.add_error(
            "file",
            _("The file is %(size)s, above the limit of %(limit)s.")
            % {"size": human_size(upload.size), "limit": human_size(max_bytes())},
        )
        return True
    return False


@csrf_exempt  # checked in _refuse_early, after the size check, so a huge body is never parsed
@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    libraries = _libraries(request)
    template = "registry_io/import.html"
    if request.method != "POST":
        return render(request, template, {"form": ImportForm(libraries=libraries)})
    refused = _refuse_early(request, template, ImportForm(libraries=libraries))
    if refused is not None:
        return refused
    form = ImportForm(request.POST, request.FILES, libraries=libraries)
    if not form.is_valid() or _file_too_big(form):
        return render(request, template, {"form": form}, status=400)
    library = _library(request, form.cleaned_data["library"])
    upload = form.cleaned_data["file"]
    data = _read(upload, form)
    if data is None:
        return render(request, template, {"form": form}, status=400)
    # The dry run parses and plans in the background (issue 16, part 3); its outcome page
    # shows what would change, with the confirmation.
    job = jobs.start(
        library=library,
        kind=PREVIEW,
        user=request.user,
        title=upload.name,
        upload=ContentFile(data, name=upload.name),
        params={"kind": form.cleaned_data["kind"] or None},
    )
    return redirect(jobs.url(job))


@login_required
@require_safe
def preview_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A finished dry run: what would change, and the confirmation (the owner's only)."""
    job = owned_job(request, pk)
    if job.kind not in (PREVIEW, KBART_PREVIEW) or job.status != JobStatus.DONE:
        raise Http404
    kbart = job.kind == KBART_PREVIEW
    again = reverse("registry:io_kbart") if kbart else reverse("registry:io_import")
    if kbart:
        again += "?" + urlencode({"resource": job.params.get("resource", "")})
    context = {
        "job": job,
        "kbart": kbart,
        "ok": bool(job.result.get("ok")),
        "can_confirm": bool(job.result.get("kept_upload")),
        # Our own template's output, rendered by the preview job with every value escaped.
        "body": mark_safe(str(job.result.get("html", ""))),  # noqa: S308
        "again": again,
    }
    return render(request, "registry_io/preview_job.html", context)


@require_POST
@login_required
def preview_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirmed: the import itself runs in the background on the file the preview kept."""
    job = owned_job(request, pk)
    if job.kind not in (PREVIEW, KBART_PREVIEW):
        raise Http404
    library = _library(request, job.library.code)  # still allowed to change the registry?
    params: dict[str, Any] = {"kind": job.params.get("kind")}
    kind = "registry.import"
    if job.kind == KBART_PREVIEW:
        if not Resource.objects.filter(library=library, key=job.params["resource"]).exists():
            return render(request, "registry_io/gone.html", status=404)
        kind = "registry.kbart"
        params = {
            "resource": job.params["resource"],
            "keep": sorted({int(n) for n in request.POST.getlist("keep") if n.isdigit()}),
            "allow_empty": request.POST.get("confirm_empty") == "1",
        }
    upload = jobs.take_upload(job)
    if upload is None:  # confirmed once already, or the preview found errors
        return render(request, "registry_io/gone.html", status=404)
    started = jobs.start(
        library=library, kind=kind, user=request.user, title=job.title, upload=upload, params=params
    )
    return redirect(jobs.url(started))


@csrf_exempt  # checked in _refuse_early
@login_required
def kbart_page(request: HttpRequest) -> HttpResponse:
    libraries = _libraries(request)
    template = "registry_io/kbart.html"
    if request.method != "POST":
        return render(
            request,
            template,
            {
                "form": KbartForm(
                    libraries=libraries, initial={"resource": request.GET.get("resource", "")}
                )
            },
        )
    refused = _refuse_early(request, template, KbartForm(libraries=libraries))
    if refused is not None:
        return refused
    form = KbartForm(request.POST, request.FILES, libraries=libraries)
    if not form.is_valid() or _file_too_big(form):
        return render(request, template, {"form": form}, status=400)
    library = _library(request, form.cleaned_data["library"])
    resource = Resource.objects.filter(library=library, key=form.cleaned_data["resource"]).first()
    if resource is None:
        form.add_error(
            "resource",
            _("No resource with this key in %(library)s.") % {"library": library.display_name},
        )
        return render(request, template, {"form": form}, status=400)
    upload = form.cleaned_data["file"]
    data = _read(upload, form)
    if data is None:
        return render(request, template, {"form": form}, status=400)
    job = jobs.start(
        library=library,
        kind=KBART_PREVIEW,
        user=request.user,
        title=upload.name,
        upload=ContentFile(data, name=upload.name),
        params={"resource": resource.key},
    )
    return redirect(jobs.url(job))


@login_required
def export_page(request: HttpRequest) -> HttpResponse:
    libraries = _libraries(request)
    form = ExportForm(request.GET or None, libraries=libraries)
    if not form.is_valid():
        return render(request, "registry_io/export.html", {"form": ExportForm(libraries=libraries)})
    library = _library(request, form.cleaned_data["library"])
    language = "zh-hans" if (translation.get_language() or "").startswith("zh") else "en"
    fmt, kind = form.cleaned_data["format"], form.cleaned_data["kind"]
    stamp = timezone.localdate().isoformat()
    if fmt == ExportFormat.CSV:
        body, ctype, name = (
            exporting.export_csv(library, kind, language),
            "text/csv; charset=utf-8",
            f"{library.code}-{kind}-{stamp}.csv",
        )
    elif fmt == ExportFormat.XLSX:
        body = exporting.export_xlsx(library, language)
        ctype, name = (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"{library.code}-registry-{stamp}.xlsx",
        )
    else:
        body, ctype, name = (
            exporting.export_ezproxy(library).encode(),
            "text/plain; charset=utf-8",
            f"{library.code}-ezproxy-{stamp}.txt",
        )
    response = HttpResponse(body, content_type=ctype)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
