"""Staff pages: upload → dry-run preview → confirm; KBART lists; downloads. registry.change only."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from lifeline.core import jobs
from lifeline.core.access import library_for
from lifeline.core.models import Library
from lifeline.core.uploads import read_upload
from lifeline.registry.io import exporting, pending
from lifeline.registry.io.choices import ExportFormat
from lifeline.registry.io.forms import ExportForm, ImportForm, KbartForm
from lifeline.registry.io.kbart import import_kbart
from lifeline.registry.io.reading import human_size, max_bytes
from lifeline.registry.io.services import Upload, import_registry
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
    kind = form.cleaned_data["kind"] or None
    report = import_registry(library, [Upload(upload.name, data, kind)], dry_run=True)
    token = (
        pending.save(
            int(request.user.pk or 0),
            data,
            {"library": library.code, "name": upload.name, "kind": kind, "type": "registry"},
        )
        if report.ok
        else ""
    )
    return render(
        request,
        "registry_io/preview.html",
        {"library": library, "report": report, "token": token, "name": upload.name},
    )


@require_POST
@login_required
def import_apply(request: HttpRequest, token: str) -> HttpResponse:
    found = pending.load(token, int(request.user.pk or 0))
    if found is None:
        return render(request, "registry_io/gone.html", status=404)
    data, meta = found
    library = _library(request, meta["library"])
    params: dict[str, Any] = {"kind": meta.get("kind")}
    kind = "registry.import"
    if meta["type"] == "kbart":
        if not Resource.objects.filter(library=library, key=meta["resource"]).exists():
            return render(request, "registry_io/gone.html", status=404)
        kind = "registry.kbart"
        params = {
            "resource": meta["resource"],
            "keep": sorted({int(n) for n in request.POST.getlist("keep") if n.isdigit()}),
            "allow_empty": request.POST.get("confirm_empty") == "1",
        }
    # Confirmed: the import itself runs in the background, all or nothing, with a progress
    # page (issue 16); the preview's file becomes the job's.
    job = jobs.start(
        library=library,
        kind=kind,
        user=request.user,
        title=meta["name"],
        upload=ContentFile(data, name=meta["name"]),
        params=params,
    )
    pending.discard(token)
    return redirect(jobs.url(job))


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
    report = import_kbart(resource, data, upload.name, dry_run=True)
    meta = {"library": library.code, "name": upload.name, "resource": resource.key, "type": "kbart"}
    token = pending.save(int(request.user.pk or 0), data, meta) if report.ok else ""
    context = {
        "library": library,
        "report": report,
        "resource": resource,
        "token": token,
        "name": upload.name,
    }
    return render(request, "registry_io/kbart_preview.html", context)


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
