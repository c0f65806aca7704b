"""Models of thesis deposit: the graduate school's expected students, theses with every version
submitted, the automatic check results, a row per change of state, and signed receipts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lifeline.core.models import Library
from lifeline.core.querysets import RestrictedQuerySet
from lifeline.theses.choices import (
    CONFIDENTIALITY_COLOURS,
    EDITABLE,
    STATUS_COLOURS,
    TRANSITIONS,
    Confidentiality,
    DegreeLevel,
    DegreeType,
    Status,
)


class IllegalTransition(ValidationError):
    """A move the workflow does not allow (e.g. approving a thesis whose checks failed)."""


def _upload_to(instance: Any, filename: str) -> str:
    # The file's name never comes from the student: a number and a fixed extension.
    thesis = instance.thesis if isinstance(instance, ThesisVersion) else instance.version.thesis
    return f"theses/{thesis.library_id}/{thesis.pk}/{timezone.now():%Y%m%d%H%M%S%f}-{filename}"


class Rules(models.Model):
    """A library's deposit rules: what the automatic checks hold each PDF to."""

    library = models.OneToOneField(Library, on_delete=models.CASCADE, related_name="thesis_rules")
    min_pages = models.PositiveIntegerField(_("fewest pages"), default=20)
    max_pages = models.PositiveIntegerField(_("most pages"), default=600)
    max_bytes = models.PositiveBigIntegerField(_("largest PDF (bytes)"), default=100 * 1024 * 1024)
    min_text_chars_per_page = models.PositiveIntegerField(
        _("least text per page (characters)"),
        default=100,
        help_text=_("Below this on average the PDF counts as scanned images without text."),
    )
    cover_pages = models.PositiveSmallIntegerField(
        _("pages searched for the cover"),
        default=3,
        help_text=_(
            "Title and author are looked for on the first pages (a classification page "
            "often comes before the cover)."
        ),
    )
    seal = models.ImageField(_("seal image"), upload_to="theses/seals/", blank=True)
    agreement = models.TextField(_("deposit and authorisation agreement"), blank=True)
    agreement_en = models.TextField(_("agreement in English"), blank=True)

    # Not `audited`: the audit snapshot cannot hold the seal's file; the admin logs its changes.
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("deposit rules")
        verbose_name_plural = _("deposit rules")

    def __str__(self) -> str:
        return str(self.library)

    @classmethod
    def of(cls, library: Library) -> Rules:
        rules, _created = cls.objects.get_or_create(library=library)
        return rules


class ExpectedStudent(models.Model):
    """A graduate student the graduate school expects to deposit (imported from its XLSX)."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="expected_students")
    student_number = models.CharField(_("student number"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("name in pinyin or English"), max_length=120, blank=True)
    college = models.CharField(_("college"), max_length=200)
    degree_level = models.CharField(_("degree level"), max_length=10, choices=DegreeLevel.choices)
    degree_type = models.CharField(_("degree type"), max_length=12, choices=DegreeType.choices)
    discipline_code = models.CharField(_("discipline code"), max_length=8)
    supervisor = models.CharField(_("supervisor"), max_length=120, blank=True)
    year = models.PositiveSmallIntegerField(_("graduation year"))
    # Bound on the student's first submission (or from the CARSI eppn): one account per number.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="expected_thesis",
    )
    imported_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["college", "student_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "student_number"], name="theses_expected_unique_number"
            )
        ]
        verbose_name = _("expected student")
        verbose_name_plural = _("expected students")

    def __str__(self) -> str:
        return f"{self.student_number} {self.name}"


class Thesis(models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="theses")
    student = models.OneToOneField(ExpectedStudent, on_delete=models.PROTECT, related_name="thesis")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="theses"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.CHECKING
    )
    title = models.CharField(_("title"), max_length=500)
    title_en = models.CharField(_("English title"), max_length=500)
    author = models.CharField(_("author"), max_length=120)
    author_en = models.CharField(_("author in pinyin or English"), max_length=120, blank=True)
    student_number = models.CharField(_("student number"), max_length=40)
    college = models.CharField(_("college"), max_length=200, db_index=True)
    degree_level = models.CharField(_("degree level"), max_length=10, choices=DegreeLevel.choices)
    degree_type = models.CharField(_("degree type"), max_length=12, choices=DegreeType.choices)
    discipline_code = models.CharField(_("discipline code"), max_length=8)
    supervisor = models.CharField(_("supervisor"), max_length=120)
    supervisor_en = models.CharField(_("supervisor in English"), max_length=120, blank=True)
    keywords = models.CharField(_("keywords"), max_length=500)
    keywords_en = models.CharField(_("English keywords"), max_length=500)
    abstract = models.TextField(_("abstract"))
    abstract_en = models.TextField(_("English abstract"))
    confidentiality = models.CharField(
        _("confidentiality"),
        max_length=10,
        choices=Confidentiality.choices,
        default=Confidentiality.PUBLIC,
    )
    release_date = models.DateField(_("release date"), null=True, blank=True)
    agreement_accepted_at = models.DateTimeField(_("agreement accepted"))
    year = models.PositiveSmallIntegerField(_("graduation year"))
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(default=timezone.now)
    approved_at = models.DateTimeField(null=True, blank=True)
    deposited_at = models.DateTimeField(null=True, blank=True)
    deposited_full_text = models.BooleanField(default=False)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["library", "status"], name="theses_lib_status")]
        verbose_name = _("thesis")
        verbose_name_plural = _("theses")

    def __str__(self) -> str:
        return self.title

    @property
    def status_colour(self) -> str:
        return STATUS_COLOURS.get(Status(self.status), "grey")

    @property
    def confidentiality_colour(self) -> str:
        return CONFIDENTIALITY_COLOURS.get(Confidentiality(self.confidentiality), "grey")

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE

    def is_open(self, today: dt.date | None = None) -> bool:
        """Public, or confidential with its release date passed: the full text may go out."""
        if self.confidentiality == Confidentiality.PUBLIC:
            return True
        today = today or timezone.localdate()
        return self.release_date is not None and self.release_date <= today

    def latest_version(self) -> ThesisVersion | None:
        return self.versions.order_by("-number").first()

    def move(
        self,
        new: str,
        by: Any = None,
        reason: str = "",
        reasons: Any = None,
        now: dt.datetime | None = None,
    ) -> StateChange:
        """Change status (refusing a move the workflow does not allow) and record the change."""
        old = self.status
        if new not in TRANSITIONS.get(Status(old), frozenset()):
            raise IllegalTransition(
                _("A thesis cannot go from “%(old)s” to “%(new)s”.")
                % {"old": Status(old).label, "new": Status(new).label}
            )
        now = now or timezone.now()
        self.status = new
        fields = ["status"]
        if new == Status.APPROVED:
            self.approved_at = now
            fields.append("approved_at")
        elif old == Status.APPROVED:
            self.approved_at = None
            fields.append("approved_at")
        self.save(update_fields=fields)
        return StateChange.objects.create(
            thesis=self,
            old=old,
            new=new,
            at=now,
            by=by if getattr(by, "is_authenticated", False) else None,
            reason=reason[:4000],
            reasons=list(reasons or []),
        )


class ThesisVersion(models.Model):
    """One submission of the full text. Never deleted: a resubmission adds a version."""

    thesis = models.ForeignKey(Thesis, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    pdf = models.FileField(upload_to=_upload_to, max_length=300)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    pages = models.PositiveIntegerField(null=True, blank=True)
    # [{"check": code, "ok": bool, "params": {...}}]; messages rendered in the reader's language.
    checks = models.JSONField(default=list, blank=True)
    checks_passed = models.BooleanField(null=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    # The metadata as submitted with this version (so earlier versions stay readable).
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "thesis__library"

    class Meta:
        ordering = ["thesis", "number"]
        constraints = [
            models.UniqueConstraint(fields=["thesis", "number"], name="theses_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.thesis_id} v{self.number}"


class Attachment(models.Model):
    version = models.ForeignKey(ThesisVersion, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=_upload_to, max_length=300)
    original_name = models.CharField(max_length=255)
    kind = models.CharField(max_length=10)
    size = models.PositiveBigIntegerField(default=0)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "version__thesis__library"

    def __str__(self) -> str:
        return self.original_name


class StateChange(models.Model):
    """A row per change of state: old, new, when, who, why (healthchecks' Flip)."""

    thesis = models.ForeignKey(Thesis, on_delete=models.CASCADE, related_name="changes")
    old = models.CharField(max_length=16, choices=Status.choices, blank=True)
    new = models.CharField(max_length=16, choices=Status.choices)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    # ReturnReason codes (and failed Check codes) a reviewer picked.
    reasons = models.JSONField(default=list, blank=True)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "thesis__library"

    class Meta:
        ordering = ["thesis", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.thesis_id}: {self.old} → {self.new}"


class Receipt(models.Model):
    """The deposit receipt (回执单): signed content, the PDF as issued, and revocation."""

    thesis = models.ForeignKey(Thesis, on_delete=models.CASCADE, related_name="receipts")
    version = models.ForeignKey(ThesisVersion, on_delete=models.PROTECT, related_name="+")
    serial = models.CharField(_("serial number"), max_length=40, unique=True)
    issued_at = models.DateTimeField(default=timezone.now)
    # The canonical content signed (JSON text, exactly as signed) and its Ed25519 signature.
    content = models.TextField()
    signature = models.CharField(max_length=100)
    pdf = models.FileField(upload_to="theses/receipts/", max_length=300)
    pdf_sha256 = models.CharField(max_length=64)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_reason = models.TextField(blank=True)

    objects = RestrictedQuerySet.as_manager()
    # Not `audited` (its file field); issue and revocation are in StateChange and on this row.
    library_lookup = "thesis__library"

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")

    def __str__(self) -> str:
        return self.serial
