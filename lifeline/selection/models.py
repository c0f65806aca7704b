"""Models of cloud book selection: vendor catalogues and their lines, the library's holdings,
campaigns with patrons' votes, budgets and the librarians' verdicts, selections (the order),
reader recommendations (荐购) and home delivery of print books (送书服务), with one table of
state changes for the last two.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lifeline.core.models import Library
from lifeline.core.querysets import RestrictedQuerySet
from lifeline.registry.models import Bilingual
from lifeline.selection.choices import (
    CAMPAIGN_STATUS_COLOURS,
    CAMPAIGN_TRANSITIONS,
    DECISION_COLOURS,
    LINE_STATUS_COLOURS,
    REC_STATUS_COLOURS,
    REC_TRANSITIONS,
    SHIP_STATUS_COLOURS,
    SHIP_TRANSITIONS,
    BudgetKind,
    CampaignStatus,
    Decision,
    LineStatus,
    Method,
    Origin,
    Reason,
    RecStatus,
    ShipStatus,
    SourceFormat,
)
from lifeline.selection.logic.normalise import search_text


class IllegalTransition(ValidationError):
    """A move the workflow does not allow (e.g. voting in a closed campaign)."""


class Catalogue(models.Model):
    """One list a vendor sent (a MARC file or a spreadsheet), imported whole or not at all."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="catalogues")
    name = models.CharField(_("name"), max_length=200)
    vendor = models.CharField(_("vendor"), max_length=200, blank=True)
    source_format = models.CharField(_("format"), max_length=10, choices=SourceFormat.choices)
    flavour = models.CharField(_("MARC flavour"), max_length=10, blank=True)
    file_name = models.CharField(_("file"), max_length=255, blank=True)
    lines = models.PositiveIntegerField(_("titles"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("vendor catalogue")
        verbose_name_plural = _("vendor catalogues")

    def __str__(self) -> str:
        return self.name


class Title(models.Model):
    """A line of a vendor catalogue: what can be bought, at what price."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    catalogue = models.ForeignKey(Catalogue, on_delete=models.CASCADE, related_name="titles")
    position = models.PositiveIntegerField(default=0)
    isbn = models.CharField("ISBN", max_length=13, blank=True)
    isbn_raw = models.CharField(_("ISBN as given"), max_length=40, blank=True)
    title = models.CharField(_("title"), max_length=800)
    author = models.CharField(_("author"), max_length=300, blank=True)
    publisher = models.CharField(_("publisher"), max_length=200, blank=True)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    price = models.DecimalField(_("price"), null=True, blank=True, max_digits=12, decimal_places=2)
    clc = models.CharField(_("CLC number"), max_length=40, blank=True)
    clc_class = models.CharField(_("CLC class"), max_length=1, blank=True)
    work_key = models.CharField(max_length=240, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=LineStatus.choices, default=LineStatus.NEW
    )
    # Folded search tokens of title, author, publisher and ISBN (`normalise.search_text`), indexed
    # by a GIN tsvector index on PostgreSQL and an FTS5 table on SQLite (migration 0003).
    search = models.TextField(blank=True, default="", editable=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        # Rows of one import are inserted in catalogue order, so the id is that order, and pages
        # continue from the last id shown (keyset) rather than counting past an offset.
        ordering = ["catalogue", "position"]
        indexes = [
            models.Index(fields=["library", "isbn"], name="selection_title_isbn"),
            models.Index(fields=["library", "work_key"], name="selection_title_work"),
            models.Index(fields=["catalogue", "clc_class", "id"], name="selection_title_cls_id"),
        ]
        verbose_name = _("catalogue title")
        verbose_name_plural = _("catalogue titles")

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search = search_text(self.title, self.author, self.publisher, self.isbn)
        super().save(*args, **kwargs)

    @property
    def status_colour(self) -> str:
        return LINE_STATUS_COLOURS.get(LineStatus(self.status), "grey")

    @property
    def dedupe_key(self) -> str:
        return self.isbn or self.work_key or f"#{self.pk}"


class Holding(models.Model):
    """A title the library already holds in print (from its library system's export)."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    isbn = models.CharField("ISBN", max_length=13, blank=True)
    work_key = models.CharField(max_length=240, blank=True)
    title = models.CharField(_("title"), max_length=800, blank=True)
    author = models.CharField(_("author"), max_length=300, blank=True)
    publisher = models.CharField(_("publisher"), max_length=200, blank=True)
    call_number = models.CharField(_("call number"), max_length=60, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["library", "isbn"], name="selection_holding_isbn"),
            models.Index(fields=["library", "work_key"], name="selection_holding_work"),
        ]
        verbose_name = _("holding")
        verbose_name_plural = _("holdings")

    def __str__(self) -> str:
        return self.title or self.isbn


class Campaign(Bilingual, models.Model):
    """A cloud selection window: invited patrons mark titles of the attached vendor lists."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    starts_on = models.DateField(_("opens on"))
    ends_on = models.DateField(_("closes on"))
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    budget = models.DecimalField(_("budget"), max_digits=12, decimal_places=2)
    max_copies = models.PositiveSmallIntegerField(_("copies per title at most"), default=2)
    invited_categories = models.JSONField(
        _("invited patron categories"), default=list, blank=True, help_text=_("Empty: everyone.")
    )
    invited_colleges = models.JSONField(
        _("invited colleges"), default=list, blank=True, help_text=_("Empty: every college.")
    )
    catalogues = models.ManyToManyField(
        Catalogue, blank=True, related_name="campaigns", verbose_name=_("vendor catalogues")
    )
    order = models.ForeignKey(
        "Selection", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = _("selection campaign")
        verbose_name_plural = _("selection campaigns")

    def __str__(self) -> str:
        return self.display("name")

    def clean(self) -> None:
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("The campaign closes before it opens.")})

    @property
    def status_colour(self) -> str:
        return CAMPAIGN_STATUS_COLOURS.get(CampaignStatus(self.status), "grey")

    def move(self, new: str) -> None:
        if new not in CAMPAIGN_TRANSITIONS[CampaignStatus(self.status)]:
            raise IllegalTransition(
                _("A campaign that is %(old)s cannot become %(new)s.")
                % {"old": self.get_status_display(), "new": CampaignStatus(new).label}
            )
        self.status = new
        if new == CampaignStatus.CLOSED:
            self.closed_at = timezone.now()

    def is_open_on(self, day: object) -> bool:
        return self.status == CampaignStatus.OPEN and self.starts_on <= day <= self.ends_on  # type: ignore[operator]


class Budget(models.Model):
    """Part of a campaign's budget set aside for one CLC class or one college."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="budgets")
    kind = models.CharField(_("kind"), max_length=10, choices=BudgetKind.choices)
    key = models.CharField(_("class or college"), max_length=120)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "campaign__library"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "kind", "key"], name="selection_budget_once"
            )
        ]
        verbose_name = _("budget")
        verbose_name_plural = _("budgets")

    def __str__(self) -> str:
        return f"{self.key}: {self.amount}"


class Vote(models.Model):
    """A patron (or a librarian) marks a title in a campaign, with a reason. One per person."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="votes")
    title = models.ForeignKey(Title, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    origin = models.CharField(_("by"), max_length=10, choices=Origin.choices)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    college = models.CharField(_("college"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "campaign__library"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "title", "user"], name="selection_vote_once"
            )
        ]
        indexes = [models.Index(fields=["campaign", "title"], name="selection_vote_title")]
        verbose_name = _("vote")
        verbose_name_plural = _("votes")

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.title_id}"


class Verdict(models.Model):
    """The acquisitions librarian's accept or reject of one title in a campaign."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="verdicts")
    title = models.ForeignKey(Title, on_delete=models.CASCADE, related_name="+")
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "campaign__library"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "title"], name="selection_verdict_once")
        ]

    def __str__(self) -> str:
        return self.decision

    @property
    def colour(self) -> str:
        return DECISION_COLOURS.get(Decision(self.decision), "grey")


class Selection(models.Model):
    """One solved selection of a campaign (exact or greedy); the adopted one is the order."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="selections")
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    solver_status = models.CharField(max_length=20, blank=True)
    titles = models.PositiveIntegerField(_("titles"), default=0)
    copies = models.PositiveIntegerField(_("copies"), default=0)
    spend = models.DecimalField(_("spend"), default=Decimal(0), max_digits=12, decimal_places=2)
    demand = models.PositiveIntegerField(_("weighted demand met"), default=0)
    seconds = models.FloatField(default=0.0)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "campaign__library"

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("selection")
        verbose_name_plural = _("selections")

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.get_method_display()}"

    @property
    def solver_note(self) -> str:
        """What the page says of an exact selection that is not proven optimal."""
        status = self.solver_status
        if status.startswith("time_limit"):
            gap = status.removeprefix("time_limit").split(";")[0].strip() or "?"
            return str(
                _("Stopped at the time limit: within %(gap)s of the optimum.") % {"gap": gap}
            )
        if "accepted titles exceed" in status:
            return str(_("The accepted titles alone exceed a budget: solved without them."))
        return ""


class SelectionLine(models.Model):
    selection = models.ForeignKey(Selection, on_delete=models.CASCADE, related_name="lines")
    title = models.ForeignKey(Title, on_delete=models.CASCADE, related_name="+")
    copies = models.PositiveSmallIntegerField(default=1)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    weight = models.PositiveIntegerField(default=0)
    origin = models.CharField(max_length=10, choices=Origin.choices)
    college = models.CharField(max_length=200, blank=True)
    clc_class = models.CharField(max_length=1, blank=True)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "selection__campaign__library"

    def __str__(self) -> str:
        return f"{self.title_id} × {self.copies}"


class Recommendation(models.Model):
    """A patron's purchase recommendation (荐购), answered at once when the book is held."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    isbn = models.CharField("ISBN", max_length=13, blank=True)
    title = models.CharField(_("title"), max_length=800)
    author = models.CharField(_("author"), max_length=300, blank=True)
    publisher = models.CharField(_("publisher"), max_length=200, blank=True)
    citation = models.TextField(_("citation as pasted"), blank=True)
    note = models.CharField(_("why the library should buy it"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=RecStatus.choices)
    matched_title = models.ForeignKey(
        Title, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    holding = models.ForeignKey(
        Holding, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answer = models.CharField(_("answer"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")

    def __str__(self) -> str:
        return self.title

    @property
    def status_colour(self) -> str:
        return REC_STATUS_COLOURS.get(RecStatus(self.status), "grey")

    def can_move(self, new: str) -> bool:
        return new in REC_TRANSITIONS[RecStatus(self.status)]


class HomeDelivery(models.Model):
    """A held print book sent to a patron's home during a closure, and its way back."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    holding = models.ForeignKey(
        Holding, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(_("title"), max_length=800)
    call_number = models.CharField(_("call number"), max_length=60, blank=True)
    # Kept only while the book is out; erased when it is back or the request is cancelled.
    recipient = models.CharField(_("recipient"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ShipStatus.choices, default=ShipStatus.REQUESTED
    )
    courier = models.CharField(_("courier"), max_length=60, blank=True)
    tracking_no = models.CharField(_("tracking number"), max_length=60, blank=True)
    return_tracking_no = models.CharField(_("return tracking number"), max_length=60, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    shipped_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    address_erased_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("home delivery")
        verbose_name_plural = _("home deliveries")

    def __str__(self) -> str:
        return self.title

    @property
    def status_colour(self) -> str:
        return SHIP_STATUS_COLOURS.get(ShipStatus(self.status), "grey")

    def can_move(self, new: str) -> bool:
        return new in SHIP_TRANSITIONS[ShipStatus(self.status)]


class Event(models.Model):
    """One change of state of a recommendation or a home delivery (old, new, when, who)."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    recommendation = models.ForeignKey(
        Recommendation, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    delivery = models.ForeignKey(
        HomeDelivery, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    old = models.CharField(max_length=16, blank=True)
    new = models.CharField(max_length=16)
    note = models.CharField(max_length=300, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.old} → {self.new}"
