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
    FEE_STATUS_COLOURS,
    STATUS_COLOURS,
    TRANSITIONS,
    AnalysisKind,
    Database,
    FeeStatus,
    IpKind,
    ListKind,
    NoveltyPurpose,
    NoveltyScope,
    Purpose,
    Relevance,
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
    """A library's settings for its reports: the seal image printed on every report, and what a
    novelty report (GB/T 32003-2015) prints about the searching institution."""

    library = models.OneToOneField(Library, on_delete=models.CASCADE, related_name="+")
    seal = models.ImageField(
        _("seal image"),
        upload_to="research/seals/",
        blank=True,
        help_text=_("PNG or JPEG of the library's seal, printed on every report."),
    )
    # GB/T 32003-2015's report number is 14 digits: year (4), province code of GB/T 2260 (2),
    # the institution's number (3), the report's sequence (5).
    novelty_code = models.CharField(
        _("novelty search institution code"),
        max_length=5,
        blank=True,
        help_text=_("Province code (2 digits) and institution number (3 digits), e.g. 23001."),
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("telephone"), max_length=60, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        verbose_name = _("report settings")
        verbose_name_plural = _("report settings")

    def __str__(self) -> str:
        return str(self.library)


class Charged(models.Model):
    """The fee of a service where the library charges: set by staff, paid or waived before the
    report is issued (the fee workflow of issue 13)."""

    fee = models.DecimalField(_("fee"), max_digits=8, decimal_places=2, default=0)
    fee_status = models.CharField(
        _("fee status"), max_length=8, choices=FeeStatus.choices, default=FeeStatus.NONE
    )
    fee_receipt = models.CharField(_("receipt number"), max_length=60, blank=True)
    fee_paid_at = models.DateTimeField(_("fee paid"), null=True, blank=True)
    # When the SLA notice went out (one notice per request, through the outbox).
    sla_noticed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def fee_colour(self) -> str:
        return FEE_STATUS_COLOURS.get(FeeStatus(self.fee_status), "grey")

    @property
    def fee_settled(self) -> bool:
        return self.fee_status in (FeeStatus.NONE, FeeStatus.PAID, FeeStatus.WAIVED)


class ServiceRequest(Charged):
    """What a citation report request and a novelty search share: the library and patron, the
    workflow status with its event rows, the signed content and the issued PDF, the SLA clock.
    Each subclass has its event rows (`request`, `status`, `actor`, `note`, `at`) as `events`."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    patron = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SUBMITTED
    )
    content = models.JSONField(default=dict, blank=True)
    signature = models.CharField(max_length=100, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    audited = True
    events: Any  # the reverse accessor of the subclass's event rows (`related_name="events"`)

    class Meta(Charged.Meta):
        abstract = True
        ordering = ["-created_at"]

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
        self.events.create(status=to, actor=actor, note=note, at=now or timezone.now())


class WorkflowEvent(models.Model):
    """One workflow row of a request: who moved it where, when."""

    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "request__library"

    class Meta:
        abstract = True
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.status} {self.at:%Y-%m-%d %H:%M}"


class VerificationRequest(ServiceRequest):
    """A patron's request for a citation and inclusion report (查收查引)."""

    patron_name = models.CharField(_("name"), max_length=120)
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices)
    databases = models.JSONField(_("databases"), default=list)
    papers_text = models.TextField(_("papers"))
    serial = models.CharField(_("serial number"), max_length=30, blank=True, db_index=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The issued file itself: what the patron downloads is byte for byte what was hashed.
    pdf = models.FileField(upload_to="research/reports/", max_length=200, blank=True)

    class Meta(ServiceRequest.Meta):
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


class RequestEvent(WorkflowEvent):
    """One workflow row: who moved the request where, when."""

    request = models.ForeignKey(
        VerificationRequest, on_delete=models.CASCADE, related_name="events"
    )


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


class NoveltyRequest(ServiceRequest):
    """A novelty search (科技查新) to GB/T 32003-2015: the commission, the search strategy, the
    documents compared, the conclusion, a second searcher's review and the signed report."""

    # The commission (查新委托): who asks, what for, and what is to be judged new.
    patron_name = models.CharField(_("commissioned by"), max_length=120)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    contact = models.CharField(_("contact (telephone or e-mail)"), max_length=200)
    title = models.CharField(_("project name"), max_length=300)
    title_en = models.CharField(_("project name in English"), max_length=400, blank=True)
    purpose = models.CharField(_("purpose"), max_length=12, choices=NoveltyPurpose.choices)
    scope = models.CharField(_("search scope"), max_length=10, choices=NoveltyScope.choices)
    tech_points = models.TextField(_("scientific and technical points"))
    novelty_points = models.TextField(_("points to be checked for novelty"))
    keywords_zh = models.CharField(_("keywords in Chinese"), max_length=500)
    keywords_en = models.CharField(_("keywords in English"), max_length=500, blank=True)
    # The search (文献检索范围及检索策略), recorded by the searcher.
    search_databases = models.TextField(_("databases searched and years"), blank=True)
    search_terms = models.TextField(_("search terms"), blank=True)
    search_queries = models.TextField(_("search statements"), blank=True)
    search_results = models.TextField(_("search results"), blank=True)
    conclusion = models.TextField(_("conclusion"), blank=True)
    attachments = models.TextField(_("attachments"), blank=True)
    notes = models.TextField(_("remarks"), blank=True)
    serial = models.CharField(_("report number"), max_length=30, blank=True, db_index=True)
    searcher = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pdf = models.FileField(upload_to="research/novelty/", max_length=200, blank=True)

    class Meta(ServiceRequest.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["library", "serial"],
                condition=~models.Q(serial=""),
                name="research_novelty_unique_serial",
            )
        ]
        verbose_name = _("novelty search")
        verbose_name_plural = _("novelty searches")

    def __str__(self) -> str:
        return self.serial or f"N#{self.pk}"


class NoveltyEvent(WorkflowEvent):
    """One workflow row of a novelty search."""

    request = models.ForeignKey(NoveltyRequest, on_delete=models.CASCADE, related_name="events")


class NoveltyDocument(models.Model):
    """A document found by the search and compared with the project's novelty points."""

    request = models.ForeignKey(NoveltyRequest, on_delete=models.CASCADE, related_name="documents")
    citation = models.TextField(_("document"))
    database = models.CharField(_("database"), max_length=100, blank=True)
    relevance = models.CharField(_("relevance"), max_length=8, choices=Relevance.choices)
    comparison = models.TextField(_("comparison with the project"))
    position = models.PositiveSmallIntegerField(default=0)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "request__library"
    audited = True

    class Meta:
        ordering = ["relevance", "position", "pk"]
        verbose_name = _("compared document")
        verbose_name_plural = _("compared documents")

    def __str__(self) -> str:
        return self.citation[:80]


class EsiThreshold(models.Model):
    """ESI's top-1% institution threshold (citations) of a field, in one ESI edition."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    edition = models.CharField(_("ESI edition"), max_length=40)
    field = models.CharField(_("ESI field"), max_length=60)
    institution = models.PositiveIntegerField(_("institution threshold"))
    author = models.PositiveIntegerField(_("author threshold"), null=True, blank=True)
    imported_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["field"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "edition", "field"], name="research_esi_threshold_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.field} {self.edition}"


class EsiJournal(models.Model):
    """A journal of ESI's master journal list with its field (ESI assigns fields by journal)."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("journal"), max_length=500)
    title_key = models.CharField(max_length=300, db_index=True)
    issn = models.CharField("ISSN", max_length=9, blank=True, db_index=True)
    field = models.CharField(_("ESI field"), max_length=60)

    objects = RestrictedQuerySet.as_manager()

    def __str__(self) -> str:
        return self.title


class AnalysisReport(models.Model):
    """A subject-analysis or research-output report given to a unit (the seed's six decision-
    support reports): the figures as they stood when it was made, kept for the record."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=8, choices=AnalysisKind.choices)
    title = models.CharField(_("title"), max_length=300)
    unit = models.CharField(_("for"), max_length=200)
    year_from = models.PositiveSmallIntegerField(_("from year"))
    year_to = models.PositiveSmallIntegerField(_("to year"))
    content = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("analysis report")
        verbose_name_plural = _("analysis reports")

    def __str__(self) -> str:
        return self.title


class EsiBaseline(models.Model):
    """ESI's percentile baseline: the citations a paper of a field and year needs to be in the
    top `percent` % (1.00 is ESI's "highly cited" line)."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    edition = models.CharField(_("ESI edition"), max_length=40)
    field = models.CharField(_("ESI field"), max_length=60)
    year = models.PositiveSmallIntegerField(_("year"))
    percent = models.DecimalField(max_digits=6, decimal_places=2)
    citations = models.PositiveIntegerField(_("citations"))

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["library", "edition", "field", "year", "percent"],
                name="research_esi_baseline_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.field} {self.year} {self.percent}%"


class AnalysisFigures(models.Model):
    """A unit's subject-analysis figures as last computed (`logic/subject.py`): what the pages
    read instead of going over 200,000 papers again. Every change to what they are computed
    from (records, variants, journal lists, ESI) deletes the library's rows in its own
    transaction; the university's figures are computed again once an import commits."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    computed_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["library", "key"], name="research_figures_unique")
        ]

    def __str__(self) -> str:
        return self.key
