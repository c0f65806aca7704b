"""Domain functions of thesis deposit: submit, check, review, receipts, verification, deposit.

Views, API and tasks stay thin and call these. Every change of a thesis's status goes through
`Thesis.move`, which refuses illegal moves and writes a StateChange row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from lifeline.core.models import Library
from lifeline.core.notify import notify_email
from lifeline.core.permissions import user_can
from lifeline.core.uploads import check_upload
from lifeline.theses.choices import (
    Confidentiality,
    DegreeLevel,
    DegreeType,
    ReceiptState,
    Status,
)
from lifeline.theses.logic import checks as pdfchecks
from lifeline.theses.logic import disciplines, signing
from lifeline.theses.logic import receipt as receipt_pdf
from lifeline.theses.logic.deposit import (  # noqa: F401 - the deposit's entry points, here too
    build_package,
    deposit,
    deposit_released,
    package_meta,
    repository_dir,
)
from lifeline.theses.models import (
    Attachment,
    ExpectedStudent,
    Receipt,
    Rules,
    StateChange,
    Thesis,
    ThesisVersion,
)

REVIEW = "theses.review"
MANAGE = "theses.manage"
ATTACHMENT_KINDS = ("pdf", "zip", "docx", "xlsx", "csv", "txt", "png", "jpg")
MAX_ATTACHMENTS = 5
METADATA_FIELDS = (
    "title",
    "title_en",
    "author",
    "author_en",
    "discipline_code",
    "supervisor",
    "supervisor_en",
    "keywords",
    "keywords_en",
    "abstract",
    "abstract_en",
    "confidentiality",
    "release_date",
)


# --- who may submit ----------------------------------------------------------------------


def expected_for(library: Library, user: Any) -> ExpectedStudent | None:
    """The expected-list row of this signed-in user: bound earlier, or found by the CARSI eppn
    (its part before @ is the student number at most Chinese universities)."""
    if not getattr(user, "is_authenticated", False):
        return None
    bound = ExpectedStudent.objects.filter(library=library, user=user).first()
    if bound is not None:
        return bound
    patron = getattr(user, "patron", None)
    eppn = getattr(patron, "eppn", "") if patron is not None else ""
    if patron is not None and eppn and "@" in eppn and patron.library_id == library.pk:
        number = eppn.split("@", 1)[0]
        row = ExpectedStudent.objects.filter(
            library=library, student_number=number, user__isnull=True
        ).first()
        if row is not None:
            row.user = user
            row.save(update_fields=["user"])
            return row
    return None


def is_patron_of(library: Library, user: Any) -> bool:
    patron = getattr(user, "patron", None) if getattr(user, "is_authenticated", False) else None
    return patron is not None and patron.library_id == library.pk


def claim(library: Library, user: Any, student_number: str, name: str) -> ExpectedStudent:
    """Bind the user to a row of the expected list: the number and the name must both match."""
    if not is_patron_of(library, user):
        raise ValidationError(_("Only readers of this library can deposit a thesis here."))
    number = student_number.strip()
    row = ExpectedStudent.objects.filter(library=library, student_number=number).first()
    if row is None or row.name.replace(" ", "") != name.replace(" ", "").strip():
        raise ValidationError(
            _(
                "Student number %(n)s with this name is not on the graduate school's list of "
                "students expected to deposit this year. Ask your college's graduate secretary."
            )
            % {"n": number}
        )
    if row.user_id is not None and row.user_id != user.pk:
        raise ValidationError(
            _("This student number is already linked to another account. Ask the library.")
        )
    if ExpectedStudent.objects.filter(library=library, user=user).exclude(pk=row.pk).exists():
        raise ValidationError(_("Your account is already linked to another student number."))
    row.user = user
    row.save(update_fields=["user"])
    return row


# --- submission ----------------------------------------------------------------------------


def _sha256(upload: Any) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in (
        upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b"")
    ):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def clean_metadata(data: dict[str, Any], today: dt.date | None = None) -> dict[str, Any]:
    meta = {f: data.get(f) for f in METADATA_FIELDS}
    errors: dict[str, str] = {}
    if meta["discipline_code"] not in disciplines.catalogue():
        errors["discipline_code"] = _("Choose a code from the national discipline catalogue.")
    if meta["confidentiality"] not in Confidentiality.values:
        errors["confidentiality"] = _("Choose a confidentiality level.")
    elif meta["confidentiality"] != Confidentiality.PUBLIC:
        today = today or timezone.localdate()
        if not meta["release_date"]:
            errors["release_date"] = _("An internal or secret thesis needs its release date.")
        elif meta["release_date"] <= today:
            errors["release_date"] = _("The release date must be in the future.")
    else:
        meta["release_date"] = None
    if errors:
        raise ValidationError(errors)
    return meta


def submit(
    library: Library,
    user: Any,
    data: dict[str, Any],
    pdf: Any,
    attachments: Iterable[Any] = (),
    now: dt.datetime | None = None,
) -> ThesisVersion:
    """File a thesis (first version) or a corrected version of a checks-failed/returned one."""
    now = now or timezone.now()
    student = expected_for(library, user)
    if student is None or not is_patron_of(library, user):
        raise ValidationError(
            _("Your account is not on the graduate school's list of students expected to deposit.")
        )
    if not data.get("agreement"):
        raise ValidationError({"agreement": _("Accept the deposit and authorisation agreement.")})
    meta = clean_metadata(data, timezone.localdate(now))
    rules = Rules.of(library)
    checked = check_upload(pdf, allowed=("pdf",), max_bytes=rules.max_bytes)
    files = list(attachments)
    if len(files) > MAX_ATTACHMENTS:
        raise ValidationError(
            {"attachments": _("At most %(n)s attachments.") % {"n": MAX_ATTACHMENTS}}
        )
    kinds = [check_upload(f, allowed=ATTACHMENT_KINDS, max_bytes=rules.max_bytes) for f in files]
    if sum(k.size for k in kinds) > rules.max_bytes:
        raise ValidationError(
            {
                "attachments": _("The attachments together are over %(max)s.")
                % {"max": filesizeformat(rules.max_bytes)}
            }
        )
    with transaction.atomic():
        thesis = Thesis.objects.select_for_update().filter(student=student).first()
        fields = {
            **meta,
            "student_number": student.student_number,
            "college": student.college,
            "degree_level": student.degree_level,
            "degree_type": student.degree_type,
            "year": student.year,
            "agreement_accepted_at": now,
            "submitted_at": now,
        }
        if thesis is None:
            try:
                with transaction.atomic():
                    thesis = Thesis.objects.create(
                        library=library, student=student, user=user, created_at=now, **fields
                    )
            except IntegrityError as exc:  # the same student's second tab, a moment earlier
                raise ValidationError(
                    _("Your thesis was just submitted from another window: reload its page.")
                ) from exc
            StateChange.objects.create(thesis=thesis, old="", new=Status.CHECKING, at=now, by=user)
        else:
            if not thesis.editable:
                raise ValidationError(
                    _("This thesis is %(status)s: a new version cannot be uploaded now.")
                    % {"status": Status(thesis.status).label}
                )
            for key, value in fields.items():
                setattr(thesis, key, value)
            thesis.save()
            thesis.move(Status.CHECKING, by=user, reason=_("New version uploaded"), now=now)
        number = thesis.versions.count() + 1
        version = ThesisVersion(
            thesis=thesis,
            number=number,
            original_name=checked.name[:255],
            size=checked.size,
            sha256=_sha256(pdf),
            metadata=_jsonable(fields),
            created_at=now,
        )
        version.pdf.save(f"v{number}.pdf", File(pdf), save=False)
        version.save()
        for i, (upload, kind) in enumerate(zip(files, kinds, strict=True), start=1):
            att = Attachment(
                version=version, original_name=kind.name[:255], kind=kind.kind, size=kind.size
            )
            att.file.save(f"v{number}-a{i}.{kind.kind}", File(upload), save=False)
            att.save()
        from lifeline.theses.tasks import check_version

        transaction.on_commit(lambda: check_version.enqueue(version.pk))
    return version


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v.isoformat() if isinstance(v, dt.date | dt.datetime) else v for k, v in fields.items()
    }


# --- automatic checks --------------------------------------------------------------------


def rule_set(library: Library) -> pdfchecks.RuleSet:
    r = Rules.of(library)
    return pdfchecks.RuleSet(
        min_pages=r.min_pages,
        max_pages=r.max_pages,
        max_bytes=r.max_bytes,
        min_text_chars_per_page=r.min_text_chars_per_page,
        cover_pages=r.cover_pages,
    )


def run_checks(version: ThesisVersion, now: dt.datetime | None = None) -> ThesisVersion:
    thesis = version.thesis
    results, pages = pdfchecks.run_checks(
        version.pdf.path,
        title=thesis.title,
        title_en=thesis.title_en,
        author=thesis.author,
        author_en=thesis.author_en,
        rules=rule_set(thesis.library),
    )
    version.checks = [r.as_dict() for r in results]
    version.checks_passed = all(r.ok for r in results)
    version.pages = pages
    version.checked_at = now or timezone.now()
    version.save(update_fields=["checks", "checks_passed", "pages", "checked_at"])
    with transaction.atomic():
        thesis = Thesis.objects.select_for_update().get(pk=thesis.pk)
        latest = thesis.versions.order_by("-number").values_list("pk", flat=True).first()
        if thesis.status == Status.CHECKING and latest == version.pk:
            failed = [r.check for r in results if not r.ok]
            thesis.move(
                Status.WAITING if not failed else Status.CHECKS_FAILED,
                reasons=failed,
                now=version.checked_at,
            )
            _tell_student(thesis)
    return version


def _tell_student(thesis: Thesis) -> None:
    email = getattr(thesis.user, "email", "")
    if not email:
        return
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Your thesis deposit: %(status)s") % {"status": Status(thesis.status).label}
        body = _("“%(title)s” is now: %(status)s. See %(url)s") % {
            "title": thesis.title,
            "status": Status(thesis.status).label,
            "url": reverse("theses:detail", args=[thesis.pk]),
        }
    notify_email(
        thesis.library,
        [email],
        subject,
        body,
        kind="theses",
        dedupe_key=f"theses-{thesis.pk}-{thesis.status}-{thesis.changes.count()}",
    )


# --- review --------------------------------------------------------------------------------


def approve(thesis: Thesis, by: Any, now: dt.datetime | None = None, note: str = "") -> Receipt:
    now = now or timezone.now()
    with transaction.atomic():
        thesis = Thesis.objects.select_for_update().select_related("library").get(pk=thesis.pk)
        version = thesis.latest_version()
        if version is None or not version.checks_passed:
            raise ValidationError(_("Only a thesis whose automatic checks passed can be approved."))
        thesis.move(Status.APPROVED, by=by, reason=note, now=now)
        receipt = issue_receipt(thesis, version, now)
        from lifeline.theses.tasks import deposit_thesis

        transaction.on_commit(lambda: deposit_thesis.enqueue(thesis.pk))
    _tell_student(thesis)
    return receipt


def return_thesis(
    thesis: Thesis, by: Any, reasons: list[str], text: str = "", now: dt.datetime | None = None
) -> StateChange:
    if not reasons and not text.strip():
        raise ValidationError(_("Give at least one reason, or write one."))
    with transaction.atomic():
        thesis = Thesis.objects.select_for_update().get(pk=thesis.pk)
        change = thesis.move(Status.RETURNED, by=by, reason=text, reasons=reasons, now=now)
    _tell_student(thesis)
    return change


def batch_approve(
    library: Library, ids: Iterable[int], by: Any, now: dt.datetime | None = None
) -> tuple[int, int]:
    """Approve the chosen theses that wait with every check passed; skip (and count) the rest."""
    done = skipped = 0
    for thesis in Thesis.objects.filter(library=library, pk__in=list(ids)).order_by("pk"):
        version = thesis.latest_version()
        if thesis.status != Status.WAITING or version is None or not version.checks_passed:
            skipped += 1
            continue
        approve(thesis, by, now=now)
        done += 1
    return done, skipped


# --- receipts ------------------------------------------------------------------------------


def verify_path(serial: str, signature: str) -> str:
    return f"{reverse('theses:verify', args=[serial])}?s={signature}"


def verify_url(serial: str, signature: str) -> str:
    """The address in the QR code: absolute, on the installation's public site (SITE_URL)."""
    return f"{settings.SITE_URL}{verify_path(serial, signature)}"


def key_fingerprint() -> str:
    return hashlib.sha256(signing.public_key_pem().encode()).hexdigest()[:16]


def receipt_content(
    thesis: Thesis, version: ThesisVersion, serial: str, now: dt.datetime
) -> dict[str, Any]:
    return {
        "serial": serial,
        "library": thesis.library.code,
        "student_number": thesis.student_number,
        "author": thesis.author,
        "title": thesis.title,
        "title_en": thesis.title_en,
        "college": thesis.college,
        "degree_level": thesis.degree_level,
        "degree_type": thesis.degree_type,
        "discipline_code": thesis.discipline_code,
        "confidentiality": thesis.confidentiality,
        "approved": timezone.localtime(thesis.approved_at or now).date().isoformat(),
        "issued": timezone.localtime(now).isoformat(timespec="seconds"),
        "version": version.number,
        "pdf_sha256": version.sha256,
    }


def issue_receipt(thesis: Thesis, version: ThesisVersion, now: dt.datetime) -> Receipt:
    year = timezone.localtime(now).year
    count = Receipt.objects.filter(thesis=thesis).count() + 1
    serial = f"{thesis.library.code.upper()}-{year}-{thesis.pk:06d}-{count}"
    text = signing.canonical(receipt_content(thesis, version, serial, now))
    signature = signing.sign(text)
    pdf = render_receipt(thesis, serial, text, signature)
    receipt = Receipt(
        thesis=thesis,
        version=version,
        serial=serial,
        issued_at=now,
        content=text,
        signature=signature,
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
    )
    receipt.pdf.save(f"{serial}.pdf", ContentFile(pdf), save=False)
    receipt.save()
    return receipt


def render_receipt(thesis: Thesis, serial: str, text: str, signature: str) -> bytes:
    import json

    c = json.loads(text)
    level = DegreeLevel(c["degree_level"])
    kind = DegreeType(c["degree_type"])
    with translation.override("zh-hans"):
        level_zh, kind_zh = str(level.label), str(kind.label)
        conf_zh = str(Confidentiality(c["confidentiality"]).label)
    with translation.override("en"):
        level_en, kind_en = str(level.label), str(kind.label)
        conf_en = str(Confidentiality(c["confidentiality"]).label)
    release = f" → {thesis.release_date:%Y-%m-%d}" if thesis.release_date else ""
    rows = [
        ("姓名", "Name", f"{c['author']}  {thesis.author_en}".strip()),
        ("学号", "Student No.", c["student_number"]),
        ("学院", "College", c["college"]),
        ("学位", "Degree", f"{level_zh}{kind_zh} / {level_en} {kind_en}"),
        ("学科", "Discipline", f"{c['discipline_code']} {disciplines.name(c['discipline_code'])}"),
        ("论文题目", "Title", c["title"]),
        ("英文题目", "English title", c["title_en"]),
        ("密级", "Confidentiality", f"{conf_zh} / {conf_en}{release}"),
        ("审核通过", "Approved", c["approved"]),
        ("全文校验值", "Full text SHA-256", c["pdf_sha256"][:32] + "\n" + c["pdf_sha256"][32:]),
    ]
    return receipt_pdf.receipt_pdf(
        library_name=thesis.library.name,
        library_name_en=thesis.library.name_en or thesis.library.name,
        serial=serial,
        rows=rows,
        verify_url=verify_url(serial, signature),
        issued=c["issued"][:10],
        seal=receipt_pdf.seal_for(thesis.library),
        fingerprint=key_fingerprint(),
    )


def current_receipt(thesis: Thesis) -> Receipt | None:
    return thesis.receipts.filter(revoked_at__isnull=True).order_by("-issued_at").first()


def revoke(receipt: Receipt, by: Any, reason: str, now: dt.datetime | None = None) -> Receipt:
    if not reason.strip():
        raise ValidationError(_("Say why the receipt is revoked."))
    now = now or timezone.now()
    with transaction.atomic():
        receipt = Receipt.objects.select_for_update().select_related("thesis").get(pk=receipt.pk)
        if receipt.revoked_at is not None:
            raise ValidationError(_("This receipt is already revoked."))
        receipt.revoked_at, receipt.revoked_by, receipt.revoked_reason = now, by, reason[:2000]
        receipt.save(update_fields=["revoked_at", "revoked_by", "revoked_reason"])
        if receipt.thesis.status == Status.APPROVED:
            receipt.thesis.move(
                Status.RETURNED,
                by=by,
                reason=_("Receipt %(s)s revoked: %(r)s") % {"s": receipt.serial, "r": reason},
                now=now,
            )
    return receipt


@dataclass
class Verification:
    state: str
    receipt: Receipt | None = None
    content: dict[str, Any] | None = None

    @property
    def genuine(self) -> bool:
        return self.state == ReceiptState.VALID


SERIAL = re.compile(r"^[A-Za-z0-9-]{1,40}$")


def verify(serial: str, signature: str) -> Verification:
    """What the public verify page says about a serial number and the signature from its QR code.

    The signature must be the one issued for this serial AND verify against the content as
    stored: an edited serial or signature, or a content changed in the database, is not genuine.
    """
    import json

    if not SERIAL.match(serial or ""):
        return Verification(ReceiptState.UNKNOWN)
    receipt = (
        Receipt.objects.select_related("thesis", "thesis__library").filter(serial=serial).first()
    )
    if receipt is None:
        return Verification(ReceiptState.UNKNOWN)
    if (
        not signature
        or signature != receipt.signature
        or not signing.verify(receipt.content, signature)
    ):
        return Verification(ReceiptState.TAMPERED)
    content = json.loads(receipt.content)
    if content.get("serial") != receipt.serial:
        return Verification(ReceiptState.TAMPERED)
    if receipt.revoked_at is not None:
        return Verification(ReceiptState.REVOKED, receipt, content)
    return Verification(ReceiptState.VALID, receipt, content)


def same_pdf(receipt: Receipt, upload: Any) -> bool:
    """Is the uploaded file byte for byte the receipt PDF the library issued?"""
    return _sha256(upload) == receipt.pdf_sha256


# --- files ---------------------------------------------------------------------------------


def can_read_files(user: Any, thesis: Thesis) -> bool:
    """The student; staff of the library for a public thesis; reviewers for a confidential one."""
    if not getattr(user, "is_authenticated", False):
        return False
    if thesis.user_id == user.pk:
        return True
    action = "view" if thesis.confidentiality == Confidentiality.PUBLIC else REVIEW
    return user_can(user, thesis.library_id, action)
