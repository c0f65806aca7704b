"""Models of the Usage analytics app.

Usage is kept compact: one `UsageRecord` row per (report, platform/database, title, metric,
month) with integer ids, so that a million-row title report stays a narrow table. Platforms
and databases named in reports are `UsageSource` rows that staff map to registry resources;
the mapping is read at query time, so fixing a mapping fixes all past usage at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lifeline.analytics.choices import (
    METRIC_CHOICES,
    HarvestStatus,
    ImportSource,
    LogStatus,
    Release,
)
from lifeline.analytics.counter import notes
from lifeline.core.fields import EncryptedTextField
from lifeline.core.models import Library
from lifeline.core.querysets import RestrictedQuerySet
from lifeline.registry.choices import Currency
from lifeline.registry.models import KbartTitle, Resource, Vendor


class UsageSource(models.Model):
    """A platform (and, for database reports, a database on it) as a vendor's reports name it."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="usage_sources")
    platform = models.CharField(_("platform"), max_length=300)
    database = models.CharField(_("database"), max_length=400, blank=True, default="")
    resource = models.ForeignKey(
        Resource,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="usage_sources",
        verbose_name=_("resource"),
    )
    mapped_by_hand = models.BooleanField(_("mapped by staff"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["platform", "database"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "platform", "database"], name="usage_source_unique"
            )
        ]
        verbose_name = _("COUNTER platform / database")
        verbose_name_plural = _("COUNTER platforms / databases")

    def __str__(self) -> str:
        return f"{self.platform} · {self.database}" if self.database else self.platform


class UsageItem(models.Model):
    """A title (TR) or item (IR) with its identifiers, shared by every report that counts it."""

    # No index of its own: the unique (library, key) index serves every lookup by library. No
    # database constraint either, for the reason given on UsageRecord: the importer, the only
    # writer, takes the library from its own transaction, and a library's deletion cascades here.
    library = models.ForeignKey(
        Library, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    key = models.CharField(max_length=40, editable=False)
    title = models.CharField(_("title"), max_length=1000)
    doi = models.CharField("DOI", max_length=300, blank=True)
    proprietary_id = models.CharField(_("proprietary ID"), max_length=300, blank=True)
    isbn = models.CharField("ISBN", max_length=20, blank=True)
    print_issn = models.CharField(_("print ISSN"), max_length=20, blank=True)
    online_issn = models.CharField(_("online ISSN"), max_length=20, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["library", "key"], name="usage_item_unique_key")
        ]
        verbose_name = _("title or item")
        verbose_name_plural = _("titles and items")

    def __str__(self) -> str:
        return self.title

    @staticmethod
    def make_key(parts: tuple[str, ...]) -> str:
        return hashlib.sha1("\x1f".join(parts).encode(), usedforsecurity=False).hexdigest()


class TitleHolding(models.Model):
    """A COUNTER title matched to a resource through the resource's KBART list (same ISSN or
    ISBN), so that the title's use counts for every package that holds it. Written only by
    `lifeline.analytics.services.match_titles`, which can be re-run at any time."""

    item = models.ForeignKey(UsageItem, on_delete=models.CASCADE, related_name="holdings")
    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, related_name="usage_titles", verbose_name=_("resource")
    )
    kbart_title = models.ForeignKey(
        KbartTitle, on_delete=models.CASCADE, related_name="+", verbose_name=_("KBART title")
    )
    identifier = models.CharField(_("matched identifier"), max_length=20)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "resource__library"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "resource"], name="title_holding_unique")
        ]
        verbose_name = _("title held by a resource")
        verbose_name_plural = _("titles held by resources")

    def __str__(self) -> str:
        return f"{self.item_id} → {self.resource_id} ({self.identifier})"


class UsageReport(models.Model):
    """One imported COUNTER report (file upload, SUSHI harvest or re-import)."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="usage_reports")
    report_id = models.CharField(_("report"), max_length=8)
    release = models.CharField(_("release"), max_length=4, choices=Release.choices)
    source_kind = models.CharField(
        _("source"), max_length=10, choices=ImportSource.choices, default=ImportSource.UPLOAD
    )
    filename = models.CharField(_("file"), max_length=255, blank=True)
    file_format = models.CharField(_("format"), max_length=5)
    begin = models.DateField(_("first month"))
    end = models.DateField(_("last month"))
    platforms = models.JSONField(_("platforms"), default=list)
    institution_name = models.CharField(_("institution"), max_length=300, blank=True)
    customer_id = models.CharField(_("customer ID"), max_length=200, blank=True)
    created_by = models.CharField(_("created by"), max_length=300, blank=True)
    totals = models.JSONField(_("totals per metric"), default=dict)
    # Text and data mining (Access_Method=TDM): kept apart, never part of `totals` or any usage.
    tdm_totals = models.JSONField(_("text and data mining per metric"), default=dict, blank=True)
    exceptions = models.JSONField(_("COUNTER exceptions"), default=list, blank=True)
    # What the reader skipped, kept apart or read leniently: codes and parameters
    # (`counter.notes`), worded in the reader's language when shown.
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    row_count = models.PositiveIntegerField(_("rows stored"), default=0)
    replaced_rows = models.PositiveIntegerField(_("rows replaced"), default=0)
    monthly_details = models.BooleanField(default=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    imported_at = models.DateTimeField(_("imported"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-imported_at", "-id"]
        indexes = [models.Index(fields=["library", "report_id", "begin"])]
        verbose_name = _("usage report")
        verbose_name_plural = _("usage reports")

    def __str__(self) -> str:
        platforms = ", ".join(self.platforms[:3])
        return f"{self.report_id} {self.begin:%Y-%m}–{self.end:%Y-%m} ({platforms})"

    @property
    def warning_messages(self) -> list[str]:
        return [notes.render(w) for w in self.warnings or [] if isinstance(w, dict)]

    @property
    def exception_lines(self) -> list[str]:
        return [notes.exception_line(e) for e in self.exceptions or [] if isinstance(e, dict)]


class UsageRecord(models.Model):
    """One count: report × platform/database × title × metric × month."""

    # No database constraints on this fact table's keys: a 1,000,000-row report made PostgreSQL run
    # 3,000,000 row-by-row reference checks at commit, half the import's time. Rows are written
    # only by the importer, with ids it took from the same transaction, and removed through the
    # ORM's cascades (one DELETE per parent set), so the references cannot dangle.
    report = models.ForeignKey(
        UsageReport, on_delete=models.CASCADE, related_name="records", db_constraint=False
    )
    source = models.ForeignKey(  # indexed by (source, month, metric) below
        UsageSource,
        on_delete=models.CASCADE,
        related_name="records",
        db_constraint=False,
        db_index=False,
    )
    item = models.ForeignKey(
        UsageItem,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="records",
        db_constraint=False,
    )
    metric = models.PositiveSmallIntegerField(choices=METRIC_CHOICES)
    month = models.DateField()
    count = models.PositiveIntegerField()

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "report__library"

    class Meta:
        indexes = [models.Index(fields=["source", "month", "metric"])]
        verbose_name = _("usage count")
        verbose_name_plural = _("usage counts")

    def __str__(self) -> str:
        return f"{self.get_metric_display()} {self.month:%Y-%m}: {self.count}"


class SushiCredential(models.Model):
    """A vendor's COUNTER_SUSHI service and the library's account on it."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="sushi_credentials")
    vendor = models.ForeignKey(
        Vendor,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("vendor"),
    )
    name = models.CharField(_("name"), max_length=200)
    base_url = models.URLField(
        _("base URL"), max_length=500, help_text=_("e.g. https://sushi.example.com/counter/r51")
    )
    release = models.CharField(
        _("release"), max_length=4, choices=Release.choices, default=Release.R51
    )
    customer_id = models.CharField(_("customer ID"), max_length=200)
    requestor_id = models.CharField(_("requestor ID"), max_length=200, blank=True)
    api_key = EncryptedTextField(_("API key"), blank=True)
    platform = models.CharField(
        _("platform"),
        max_length=200,
        blank=True,
        help_text=_("Only for services that host several platforms."),
    )
    reports = models.CharField(
        _("reports"),
        max_length=200,
        default="PR,DR,TR",
        help_text=_("Report IDs to harvest, comma separated."),
    )
    is_active = models.BooleanField(_("harvest monthly"), default=True)
    timeout_seconds = models.PositiveSmallIntegerField(_("timeout (seconds)"), default=60)
    # Set by a superuser in the admin only (never in the staff form): the base URL may then
    # resolve to an internal address, e.g. a campus mirror of a vendor's SUSHI service.
    allow_internal = models.BooleanField(
        _("may reach internal addresses"),
        default=False,
        help_text=_("Only for a SUSHI service inside the campus network; set by an administrator."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["name"]
        verbose_name = _("SUSHI account")
        verbose_name_plural = _("SUSHI accounts")

    def __str__(self) -> str:
        return self.name

    @property
    def report_list(self) -> list[str]:
        return [r.strip().upper() for r in self.reports.split(",") if r.strip()]


class SushiHarvest(models.Model):
    """One attempt to fetch one report for one period: the harvest log a librarian reads."""

    credential = models.ForeignKey(
        SushiCredential, on_delete=models.CASCADE, related_name="harvests"
    )
    report_code = models.CharField(_("report"), max_length=8)
    begin = models.DateField(_("first month"))
    end = models.DateField(_("last month"))
    status = models.CharField(
        _("status"), max_length=12, choices=HarvestStatus.choices, default=HarvestStatus.PENDING
    )
    exception_codes = models.JSONField(_("exception codes"), default=list, blank=True)
    # Every exception of the answer as the vendor sent it (Code, Severity, Message, Data).
    exceptions = models.JSONField(_("COUNTER exceptions"), default=list, blank=True)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    raw = models.BinaryField(_("raw response"), null=True, blank=True, editable=False)
    report = models.ForeignKey(
        UsageReport, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    retry_at = models.DateTimeField(_("retry at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "credential__library"

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("SUSHI harvest")
        verbose_name_plural = _("SUSHI harvests")

    def __str__(self) -> str:
        period = f"{self.begin:%Y-%m}–{self.end:%Y-%m}"
        return f"{self.credential} {self.report_code} {period}: {self.get_status_display()}"

    @property
    def warning_messages(self) -> list[str]:
        return [notes.render(w) for w in self.warnings or [] if isinstance(w, dict)]

    @property
    def exception_lines(self) -> list[str]:
        return [notes.exception_line(e) for e in self.exceptions or [] if isinstance(e, dict)]

    @property
    def period_months(self) -> int:
        return (self.end.year - self.begin.year) * 12 + self.end.month - self.begin.month + 1

    def due(self, now: dt.datetime | None = None) -> bool:
        return self.retry_at is not None and self.retry_at <= (now or timezone.now())


class LogImport(models.Model):
    """One proxy (EZproxy / CARSI SP / Apache) access log analysed into daily use."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="log_imports")
    file = models.FileField(_("log file"), upload_to="analytics/logs/%Y/%m/", blank=True)
    filename = models.CharField(_("file"), max_length=255)
    size = models.BigIntegerField(_("size (bytes)"), default=0)
    append = models.BooleanField(
        _("add to the same days"),
        default=False,
        help_text=_(
            "For a second proxy server's log of the same days; otherwise the days are replaced."
        ),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=LogStatus.choices, default=LogStatus.QUEUED
    )
    bytes_done = models.BigIntegerField(default=0)
    lines = models.BigIntegerField(_("lines"), default=0)
    parsed = models.BigIntegerField(_("lines understood"), default=0)
    unparseable = models.BigIntegerField(_("lines not understood"), default=0)
    bad_line_numbers = models.JSONField(default=list, blank=True)
    furniture = models.BigIntegerField(_("page furniture"), default=0)
    unsuccessful = models.BigIntegerField(_("unsuccessful requests"), default=0)
    unmatched = models.BigIntegerField(_("requests to unknown hosts"), default=0)
    double_clicks = models.BigIntegerField(_("double clicks"), default=0)
    unmatched_hosts = models.JSONField(default=dict, blank=True)
    # From the platform rules (issue 19): searches, COUNTER unique counts, which rule classed
    # how many lines, and what no rule classed (URL shapes of ruled hosts, hosts without rules).
    searches = models.BigIntegerField(_("searches"), default=0)
    unique_requests = models.BigIntegerField(_("unique item requests"), default=0)
    unique_investigations = models.BigIntegerField(_("unique item investigations"), default=0)
    rule_hits = models.JSONField(default=dict, blank=True)
    unclassified = models.JSONField(default=dict, blank=True)
    unruled_hosts = models.JSONField(default=dict, blank=True)
    first_day = models.DateField(null=True, blank=True)
    last_day = models.DateField(null=True, blank=True)
    message = models.TextField(_("message"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("access log")
        verbose_name_plural = _("access logs")

    def __str__(self) -> str:
        return self.filename

    @property
    def percent(self) -> int:
        return (
            100
            if self.status == LogStatus.DONE
            else int(100 * self.bytes_done / self.size)
            if self.size
            else 0
        )


class DailyUsage(models.Model):
    """Use of one resource on one day, on or off campus, from access logs."""

    log_import = models.ForeignKey(LogImport, on_delete=models.CASCADE, related_name="days")
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="daily_usage")
    day = models.DateField()
    on_campus = models.BooleanField()
    requests = models.PositiveIntegerField(_("full-text requests"), default=0)
    investigations = models.PositiveIntegerField(_("other pages"), default=0)
    searches = models.PositiveIntegerField(_("searches"), default=0)
    users = models.PositiveIntegerField(pgettext_lazy("count", "users"), default=0)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "log_import__library"

    class Meta:
        indexes = [models.Index(fields=["resource", "day"])]
        verbose_name = _("daily use")
        verbose_name_plural = _("daily use")

    def __str__(self) -> str:
        return f"{self.resource_id} {self.day}: {self.requests}"


class ExchangeRate(models.Model):
    """How many CNY one unit of a currency was worth from a date on (the latest on or before a
    day applies). Prices are converted at the rate of their own date, not today's."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="exchange_rates")
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    valid_from = models.DateField(_("valid from"))
    cny_per_unit = models.DecimalField(
        _("CNY per unit"),
        max_digits=14,
        decimal_places=6,
        validators=[MinValueValidator(Decimal("0.000001"))],
    )

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["currency", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "currency", "valid_from"], name="exchange_rate_unique_day"
            )
        ]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")

    def __str__(self) -> str:
        return f"{self.currency} {self.valid_from}: {self.cny_per_unit}"


from lifeline.analytics.logmodels import LogItemUsage, LogRule  # noqa: E402, F401
