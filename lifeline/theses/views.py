"""Pages of thesis deposit: the student's submission and receipt, the librarians' review queue,
imports and exports, and the public receipt check.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from lifeline.core import jobs
from lifeline.core.access import PATRON, library_for
from lifeline.core.charts import bar_chart
from lifeline.core.models import Library
from lifeline.core.params import IdField, parse_ids
from lifeline.core.permissions import VIEW, user_can
from lifeline.core.spreadsheets import csv_text, xlsx_bytes
from lifeline.core.typing import AuthedRequest
from lifeline.core.uploads import check_upload
from lifeline.theses import services
from lifeline.theses.choices import RECEIPT_STATE_COLOURS, ReceiptState, Status
from lifeline.theses.forms import (
    ClaimForm,
    ImportForm,
    QueueFilterForm,
    ReturnForm,
    RevokeForm,
    SubmitForm,
    VerifyUploadForm,
)
from lifeline.theses.jobs import MAX_BYTES
from lifeline.theses.logic import checks, disciplines, exports, signing
from lifeline.theses.models import Rules, Thesis, ThesisVersion

REVIEW = services.REVIEW
MANAGE = services.MANAGE


def _staff(request: HttpRequest, library: Library, action: str = "view") -> None:
    if not user_can(request.user, library, action):
        raise PermissionDenied


def parse_year(value: Any) -> int | None:
    """A graduation year from a query string, or None for anything else ("²", 10**30, 0)."""
    try:
        return IdField(max_value=9999).clean(value)
    except ValidationError:
        return None


def _xlsx(name: str, data: bytes) -> HttpResponse:
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def refuse_oversized(view: Any) -> Any:
    """Refuse an upload larger than twice the library's PDF limit (the PDF and its attachments)
    before anything reads the body: CSRF-exempt on the outside, checked, then CSRF-protected."""
    protected = csrf_protect(view)

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            library = Library.objects.filter(code=kwargs.get("library", "")).first()
            limit = (
                Rules.of(library).max_bytes if library else settings.LIFELINE_MAX_UPLOAD_BYTES
            ) * 2  # the PDF, and attachments up to as much again
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                messages.error(
                    request,
                    _("The upload is %(size)s; the largest accepted is %(max)s.")
                    % {"size": filesizeformat(length), "max": filesizeformat(limit)},
                )
                return redirect(request.get_full_path())
        return protected(request, *args, **kwargs)

    return wrapper


# --- student -------------------------------------------------------------------------------


@login_required
def home(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, PATRON)
    if not services.is_patron_of(lib, request.user):
        if user_can(request.user, lib):
            return redirect("theses:queue", library=lib.code)
        raise PermissionDenied(_("Only readers of this library can deposit a thesis here."))
    student = services.expected_for(lib, request.user)
    form = ClaimForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and student is None:
        try:
            student = services.claim(
                lib, request.user, form.cleaned_data["student_number"], form.cleaned_data["name"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("theses:submit", library=lib.code)
    thesis = Thesis.objects.filter(student=student).first() if student else None
    if thesis is not None:
        return redirect("theses:detail", pk=thesis.pk)
    return render(request, "theses/home.html", {"library": lib, "student": student, "form": form})


@refuse_oversized
@login_required
def submit(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, PATRON)
    if not services.is_patron_of(lib, request.user):
        raise PermissionDenied(_("Only readers of this library can deposit a thesis here."))
    student = services.expected_for(lib, request.user)
    if student is None:
        return redirect("theses:home", library=lib.code)
    thesis = Thesis.objects.filter(student=student).first()
    if thesis is not None and not thesis.editable:
        messages.info(request, _("A new version can be uploaded once the thesis is returned."))
        return redirect("theses:detail", pk=thesis.pk)
    if request.method == "POST":
        form = SubmitForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                version = services.submit(
                    lib, request.user, data, data["pdf"], data.get("attachments") or []
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errs in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errs)
                else:
                    form.add_error(None, exc.messages)
            else:
                messages.success(
                    request,
                    _("Thank you. Your thesis is being checked; this page shows the result."),
                )
                return redirect("theses:detail", pk=version.thesis_id)
    else:
        initial: dict[str, Any] = {
            "author": student.name,
            "author_en": student.name_en,
            "discipline_code": student.discipline_code,
            "supervisor": student.supervisor,
        }
        if thesis is not None:
            initial.update({f: getattr(thesis, f) for f in services.METADATA_FIELDS})
        form = SubmitForm(initial=initial)
    rules = Rules.of(lib)
    return render(
        request,
        "theses/submit.html",
        {
            "library": lib,
            "student": student,
            "thesis": thesis,
            "form": form,
            "rules": rules,
            "agreement": rules.agreement
            if (request.LANGUAGE_CODE or "").startswith("zh")
            else (rules.agreement_en or rules.agreement),
        },
    )


def _thesis_for(request: HttpRequest, pk: int) -> Thesis:
    """The thesis if the user is its student or staff of its library; else 404 (no hint)."""
    thesis = get_object_or_404(Thesis.objects.select_related("library", "student"), pk=pk)
    if thesis.user_id != request.user.pk and not user_can(request.user, thesis.library):
        raise Http404
    return thesis


@login_required
def detail(request: AuthedRequest, pk: int) -> HttpResponse:
    thesis = _thesis_for(request, pk)
    versions = list(thesis.versions.order_by("-number").prefetch_related("attachments"))
    for v in versions:
        v.failures = checks.failures(v.checks)  # type: ignore[attr-defined]
    staff = user_can(request.user, thesis.library, REVIEW)
    receipt = services.current_receipt(thesis)
    changes = list(thesis.changes.select_related("by").order_by("-at", "-pk"))
    return render(
        request,
        "theses/detail.html",
        {
            "library": thesis.library,
            "thesis": thesis,
            "versions": versions,
            "changes": changes,
            "receipt": receipt,
            "staff": staff,
            "own": thesis.user_id == request.user.pk,
            "can_files": services.can_read_files(request.user, thesis),
            "manage": user_can(request.user, thesis.library, MANAGE),
            "discipline": disciplines.name(
                thesis.discipline_code, english=not request.LANGUAGE_CODE.startswith("zh")
            ),
            "return_form": ReturnForm(),
            "revoke_form": RevokeForm(),
            "revoked": thesis.receipts.filter(revoked_at__isnull=False),
        },
    )


@login_required
def version_file(
    request: AuthedRequest, pk: int, number: int, attachment: int = 0
) -> HttpResponseBase:
    thesis = _thesis_for(request, pk)
    if not services.can_read_files(request.user, thesis):
        raise Http404  # a confidential thesis's file: no hint that it exists
    version = get_object_or_404(ThesisVersion, thesis=thesis, number=number)
    if attachment:
        att = get_object_or_404(version.attachments, pk=attachment)
        return FileResponse(att.file.open("rb"), as_attachment=True, filename=att.original_name)
    return FileResponse(
        version.pdf.open("rb"),
        content_type="application/pdf",
        filename=f"{thesis.student_number}-v{version.number}.pdf",
    )


@login_required
def receipt_pdf(request: AuthedRequest, pk: int) -> HttpResponseBase:
    thesis = _thesis_for(request, pk)
    receipt = services.current_receipt(thesis)
    if receipt is None:
        raise Http404
    return FileResponse(
        receipt.pdf.open("rb"), content_type="application/pdf", filename=f"{receipt.serial}.pdf"
    )


@login_required
@require_POST
def act(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    thesis = _thesis_for(request, pk)
    try:
        if action == "approve":
            _staff(request, thesis.library, REVIEW)
            receipt = services.approve(
                thesis, request.user, note=request.POST.get("note", "")[:2000]
            )
            messages.success(request, _("Approved; receipt %(s)s issued.") % {"s": receipt.serial})
        elif action == "return":
            _staff(request, thesis.library, REVIEW)
            form = ReturnForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Choose reasons from the list."))
            services.return_thesis(
                thesis, request.user, form.cleaned_data["reasons"], form.cleaned_data["text"]
            )
            messages.success(request, _("Returned to the student."))
        elif action == "revoke":
            _staff(request, thesis.library, MANAGE)
            current = services.current_receipt(thesis)
            if current is None:
                raise ValidationError(_("There is no receipt to revoke."))
            services.revoke(current, request.user, request.POST.get("reason", ""))
            messages.success(request, _("Receipt %(s)s revoked.") % {"s": current.serial})
        elif action == "package":
            _staff(request, thesis.library, REVIEW)
            if thesis.status != Status.APPROVED:
                raise ValidationError(_("Only an approved thesis is deposited."))
            name, data, _full = services.build_package(thesis)
            response = HttpResponse(data, content_type="application/zip")
            response["Content-Disposition"] = f'attachment; filename="{name}.zip"'
            return response
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("theses:detail", pk=thesis.pk)


# --- staff ---------------------------------------------------------------------------------


@login_required
def queue(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, VIEW)
    colleges = sorted(set(Thesis.objects.filter(library=lib).values_list("college", flat=True)))
    form = QueueFilterForm(request.GET or None, colleges=colleges, statuses=Status.choices)
    qs = Thesis.objects.restrict(request.user).filter(library=lib)
    status = Status.WAITING.value
    if form.is_valid():
        status = form.cleaned_data["status"] if "status" in request.GET else status
        if form.cleaned_data["college"]:
            qs = qs.filter(college=form.cleaned_data["college"])
        if form.cleaned_data["q"]:
            q = form.cleaned_data["q"]
            qs = qs.filter(
                Q(title__icontains=q) | Q(author__icontains=q) | Q(student_number__icontains=q)
            )
    if status:
        qs = qs.filter(status=status)
    latest = ThesisVersion.objects.order_by("-number")
    rows = list(
        qs.order_by("submitted_at").prefetch_related(
            Prefetch("versions", queryset=latest, to_attr="latest_versions")
        )[:500]
    )
    for t in rows:
        v = t.latest_versions[0] if t.latest_versions else None
        t.checks_passed = v.checks_passed if v else None  # type: ignore[attr-defined]
    counts = dict(Thesis.objects.filter(library=lib).values_list("status").annotate(n=_count()))
    return render(
        request,
        "theses/queue.html",
        {
            "library": lib,
            "rows": rows,
            "form": form,
            "status": status,
            "counts": [(s, label, counts.get(s, 0)) for s, label in Status.choices],
            "can_review": user_can(request.user, lib, REVIEW),
            "can_manage": user_can(request.user, lib, MANAGE),
        },
    )


def _count() -> Any:
    from django.db.models import Count

    return Count("id")


@login_required
@require_POST
def batch_approve(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, REVIEW)
    ids = parse_ids(request.POST.getlist("ids"))
    done, skipped = services.batch_approve(lib, ids, request.user)
    messages.success(
        request,
        _("%(done)s approved, %(skipped)s skipped (not waiting with every check passed).")
        % {"done": done, "skipped": skipped},
    )
    return redirect("theses:queue", library=lib.code)


@refuse_oversized
@login_required
def import_view(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, MANAGE)
    form = ImportForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            check_upload(upload, allowed=("xlsx",), max_bytes=MAX_BYTES)
        except ValidationError as exc:
            errors = exc.messages
        else:
            # Checked at once; read, checked row by row and stored in the background, with a
            # progress page that keeps the outcome and every problem (issue 16).
            job = jobs.start(
                library=lib,
                kind="theses.expected",
                user=request.user,
                title=upload.name,
                upload=upload,
            )
            return redirect(jobs.url(job))
    total = lib.expected_students.count()
    return render(
        request,
        "theses/import.html",
        {
            "library": lib,
            "form": form,
            "errors": errors,
            "result": result,
            "total": total,
        },
    )


@login_required
def cleared_export(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, VIEW)
    header, rows = exports.cleared_rows(lib, parse_year(request.GET.get("year")))
    return _xlsx(f"cleared-{lib.code}.xlsx", xlsx_bytes({str(_("Cleared")): (header, rows)}))


@login_required
def calis_export(request: AuthedRequest, library: str, fmt: str) -> HttpResponse:
    lib = library_for(request, library, REVIEW)
    header, rows = exports.calis_rows(lib)
    if fmt == "csv":
        response = HttpResponse(csv_text(header, rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="calis-cnki-{lib.code}.csv"'
        return response
    return _xlsx(f"calis-cnki-{lib.code}.xlsx", xlsx_bytes({"theses": (header, rows)}))


@login_required
def statistics(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, VIEW)
    year = parse_year(request.GET.get("year"))
    data = exports.stats(lib, year)
    if request.GET.get("format") == "xlsx":
        return _xlsx(f"theses-statistics-{lib.code}.xlsx", xlsx_bytes(exports.stats_sheets(data)))
    by_college: dict[str, int] = {}
    for r in data["rows"]:
        by_college[r["college"]] = by_college.get(r["college"], 0) + r["approved"]
    chart = (
        bar_chart(
            list(by_college), list(by_college.values()), title=_("Approved theses by college")
        )
        if by_college
        else ""
    )
    reasons = (
        bar_chart(
            [r[0] for r in data["reasons"]],
            [r[1] for r in data["reasons"]],
            title=_("Returns and failed checks by reason"),
            colour="#bc4c00",
        )
        if data["reasons"]
        else ""
    )
    return render(
        request,
        "theses/stats.html",
        {
            "library": lib,
            "data": data,
            "chart": chart,
            "reasons_chart": reasons,
            "year": year or "",
        },
    )


# --- public --------------------------------------------------------------------------------


def verify(request: HttpRequest, serial: str = "") -> HttpResponse:
    """Anyone may check a receipt: its state, its content, and (upload) that the file is
    unchanged."""
    serial = serial or request.GET.get("serial", "").strip()
    signature = request.GET.get("s", "")
    result = services.verify(serial, signature) if serial else None
    same: bool | None = None
    form = VerifyUploadForm(request.POST or None, request.FILES or None)
    if (
        request.method == "POST"
        and result is not None
        and result.receipt is not None
        and form.is_valid()
    ):
        upload = form.cleaned_data["file"]
        try:
            check_upload(upload, allowed=("pdf",), max_bytes=10 * 1024 * 1024)
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            same = services.same_pdf(result.receipt, upload)
    state = result.state if result else ""
    return render(
        request,
        "theses/verify.html",
        {
            "serial": serial,
            "signature": signature,
            "result": result,
            "state": state,
            "state_label": ReceiptState(state).label if state else "",
            "state_colour": RECEIPT_STATE_COLOURS.get(ReceiptState(state), "grey") if state else "",
            "form": form,
            "same": same,
            "fingerprint": services.key_fingerprint(),
            "now": timezone.now(),
        },
    )


def public_key(request: HttpRequest) -> HttpResponse:
    return HttpResponse(signing.public_key_pem(), content_type="text/plain; charset=utf-8")
