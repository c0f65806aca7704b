"""Models of research services: imported bibliographic records and journal lists, citation and
inclusion verification requests (查收查引) with their workflow rows, and IP service records.
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
from lifeline.research.choices import (
    IMPORT_STATUS_COLOURS,
    STATUS_COLOURS,
    TRANSITIONS,
    Database,
    ImportStatus,
    IpKind,
    ListKind,
    Purpose,
    Status,
)


class IllegalTransition(ValidationError):
    """A move the workflow does not allow (e.g. issuing a request nobody prepared)."""


class BiblioRecord(models.Model):
    """One paper, merged across the exports that list it (`sources`, `times_cited` per database)."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    title = models.TextField(_("title"))
    match_key = models.CharField(max_length=400, db_index=True, blank=True)
    authors = models.JSONField(_("authors"), default=list)
    author_keys = models.JSONField(default=list)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    journal = models.CharField(_("journal"), max_length=500, blank=True)
    issn = models.CharField("ISSN", max_length=40, blank=True)
    volume = models.CharField(_("volume"), max_length=40, blank=True)
    issue = models.CharField(_("issue"), max_length=40, blank=True)
    pages = models.CharField(_("pages"), max_length=40, blank=True)
    doi = models.CharField("DOI", max_length=300, blank=True, db_index=True)
    wos_ut = models.CharField("WoS UT", max_length=40, blank=True, db_index=True)
    scopus_eid = models.CharField("Scopus EID", max_length=40, blank=True, db_index=True)
    doc_type = models.CharField(_("document type"), max_length=100, blank=True)
    sources = models.JSONField(_("databases"), default=list)
    times_cited = models.JSONField(_("times cited"), default=dict)
    affiliations = models.JSONField(default=list)
    is_ours = models.BooleanField(_("our university"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "title"]
        verbose_name = _("bibliographic record")
        verbose_name_plural = _("bibliographic records")

    def __str__(self) -> str:
        return self.title[:80]

    def source_labels(self) -> list[str]:
        return [str(Database(s).label) for s in self.sources if s in Database.values]


class CitedRef(models.Model):
    """A reference of an imported record that names a DOI: who cites whom, resolved when asked."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    citing = models.ForeignKey(BiblioRecord, on_delete=models.CASCADE, related_name="cited_refs")
    doi = models.CharField(max_length=300, db_index=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["citing", "doi"], name="research_citedref_unique")
        ]

    def __str__(self) -> str:
        return self.doi


class ImportJob(models.Model):
    """An export file imported in the background, with its outcome for the page that watches it."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    upload = models.FileField(upload_to="research/imports/", max_length=300, blank=True)
    name = models.CharField(_("file name"), max_length=255)
    kind = models.CharField(_("kind"), max_length=12, blank=True)  # "" = records, else ListKind
    list_year = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    fmt = models.CharField(_("format"), max_length=20, blank=True)
    created = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("research import")
        verbose_name_plural = _("research imports")

    def __str__(self) -> str:
        return self.name

    @property
    def status_colour(self) -> str:
        return IMPORT_STATUS_COLOURS.get(ImportStatus(self.status), "grey")


class AffiliationVariant(models.Model):
    """One way the university (or a college) is written: English, Chinese, old names."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    variant = models.CharField(_("variant"), max_length=300)
    canonical = models.CharField(_("canonical name"), max_length=300)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["library", "variant"], name="research_variant_unique")
        ]
        verbose_name = _("affiliation variant")
        verbose_name_plural = _("affiliation variants")

    def __str__(self) -> str:
        return self.variant


class JournalEntry(models.Model):
    """A journal on a licensed list (JCR, CSSCI, CSCD, PKU core, EI) for one year."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("list"), max_length=8, choices=ListKind.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    title = models.CharField(_("journal"), max_length=500)
    title_key = models.CharField(max_length=300, db_index=True)
    issn = models.CharField("ISSN", max_length=9, blank=True, db_index=True)
    quartile = models.CharField(_("quartile"), max_length=4, blank=True)
    impact_factor = models.DecimalField(
        _("impact factor"), max_digits=8, decimal_places=3, null=True, blank=True
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("journal list entry")
        verbose_name_plural = _("journal list entries")

    def __str__(self) -> str:
        return f"{self.title} ({self.kind} {self.year})"


class ReportSettings(models.Model):
    """A library's settings for its reports: the seal image printed on every report."""

    library = models.OneToOneField(Library, on_delete=models.CASCADE, related_name="+")
    seal = models.ImageField(
        _("seal image"),
        upload_to="research/seals/",
        blank=True,
        help_text=_("PNG or JPEG of the library's seal, printed on every report."),
    )

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        verbose_name = _("report settings")
        verbose_name_plural = _("report settings")

    def __str__(self) -> str:
        return str(self.library)


class VerificationRequest(models.Model):
    """A patron's request for a citation and inclusion report (查收查引)."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    patron = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    patron_name = models.CharField(_("name"), max_length=120)
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices)
    databases = models.JSONField(_("databases"), default=list)
    papers_text = models.TextField(_("papers"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SUBMITTED
    )
    serial = models.CharField(_("serial number"), max_length=30, blank=True, db_index=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    content = models.JSONField(default=dict, blank=True)
    signature = models.CharField(max_length=100, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    # The issued file itself: what the patron downloads is byte for byte what was hashed.
    pdf = models.FileField(upload_to="research/reports/", max_length=200, blank=True)
    fee = models.DecimalField(_("fee"), max_digits=8, decimal_places=2, default=0)
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "serial"],
                condition=~models.Q(serial=""),
                name="research_request_unique_serial",
            )
        ]
        verbose_name = _("citation report request")
        verbose_name_plural = _("citation report requests")

    def __str__(self) -> str:
        return self.serial or f"#{self.pk}"

    @property
    def status_colour(self) -> str:
        return STATUS_COLOURS.get(Status(self.status), "grey")

    @property
    def overdue(self) -> bool:
        return bool(
            self.due_at
            and self.status not in (Status.ISSUED, Status.CANCELLED)
            and timezone.now() > self.due_at
        )

    def move(self, to: str, actor: Any, note: str = "", now: dt.datetime | None = None) -> None:
        if to not in TRANSITIONS[Status(self.status)]:
            raise IllegalTransition(
                _("A request that is %(from)s cannot become %(to)s.")
                % {"from": Status(self.status).label, "to": Status(to).label}
            )
        self.status = to
        self.save(update_fields=["status"])
        RequestEvent.objects.create(
            request=self, status=to, actor=actor, note=note, at=now or timezone.now()
        )


class RequestEvent(models.Model):
    """One workflow row: who moved the request where, when."""

    request = models.ForeignKey(
        VerificationRequest, on_delete=models.CASCADE, related_name="events"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "request__library"

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.status} {self.at:%Y-%m-%d %H:%M}"


class IpRecord(models.Model):
    """An IP service given (TISC): an application assisted, a fee paid, a search, a training."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=IpKind.choices)
    date = models.DateField(_("date"))
    count = models.PositiveIntegerField(_("count"), default=1)
    person = models.CharField(_("name"), max_length=120, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["-date"]
        verbose_name = _("IP service record")
        verbose_name_plural = _("IP service records")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date}"
