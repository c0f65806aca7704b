from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from lifeline.core.fields import EncryptedTextField
from lifeline.core.models import Library, validate_ip_ranges
from lifeline.core.querysets import RestrictedQuerySet
from lifeline.registry.choices import (
    OFF_CAMPUS_KINDS,
    ROUTE_PREFERENCE,
    ContentType,
    Currency,
    Language,
    RouteKind,
    TextMining,
)


def normalise_text(*parts: str) -> str:
    """Lower-cased NFKC text for searching: full-width letters and digits become ASCII."""
    return unicodedata.normalize("NFKC", " ".join(p for p in parts if p)).casefold()


class Bilingual:
    """`display(field)` picks FIELD_en in English when it is filled in."""

    def display(self, field: str) -> str:
        if (get_language() or "").startswith("en"):
            english = getattr(self, f"{field}_en", "")
            if english:
                return str(english)
        return str(getattr(self, field))


class Vendor(Bilingual, models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="vendors")
    key = models.SlugField(
        _("key"), max_length=64, help_text=_("Stable identifier used by imports.")
    )
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    website = models.URLField(_("website"), blank=True)
    contact_name = models.CharField(_("contact"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=60, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=120, blank=True)
    escalation_name = models.CharField(_("escalation contact"), max_length=120, blank=True)
    escalation_phone = models.CharField(_("escalation phone"), max_length=60, blank=True)
    escalation_email = models.EmailField(_("escalation e-mail"), blank=True)
    response_hours = models.PositiveIntegerField(
        _("promised response time (hours)"),
        default=24,
        help_text=_("Time the vendor promised to answer a fault report."),
    )
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=10,
        choices=[("zh-hans", "中文"), ("en", "English")],
        default="zh-hans",
    )
    notes = models.TextField(_("notes"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["library", "key"], name="vendor_unique_key")]
        verbose_name = _("vendor")
        verbose_name_plural = _("vendors")

    def __str__(self) -> str:
        return self.display("name")


class Category(Bilingual, models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="categories")
    language = models.CharField(
        pgettext_lazy("content", "language"), max_length=10, choices=Language.choices
    )
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["language", "position", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "language", "name"], name="category_unique_name"
            )
        ]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.display("name")


class ResourceQuerySet(RestrictedQuerySet):
    def top_level(self) -> ResourceQuerySet:
        return self.filter(parent__isnull=True)

    def active(self) -> ResourceQuerySet:
        return self.filter(is_active=True)

    def with_content_type(self, code: str) -> ResourceQuerySet:
        return self.filter(content_types__contains=f",{code},")

    def works_from_home(self, on: dt.date | None = None) -> ResourceQuerySet:
        """Resources with at least one route a patron can use off campus today."""
        return self.filter(pk__in=AccessRoute.objects.off_campus(on).values("resource_id"))

    def search(self, text: str) -> ResourceQuerySet:
        qs = self
        for word in normalise_text(text).split():
            qs = qs.filter(search_text__contains=word)
        return qs


class Resource(Bilingual, models.Model):
    """A database or platform; a sub-database has a parent."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="resources")
    key = models.SlugField(
        _("key"), max_length=100, help_text=_("Stable identifier used by imports.")
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
        verbose_name=_("parent database"),
    )
    vendor = models.ForeignKey(
        Vendor,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resources",
        verbose_name=_("vendor"),
    )
    name = models.CharField(_("name"), max_length=250)
    name_en = models.CharField(_("English name"), max_length=250, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("English description"), blank=True)
    language = models.CharField(
        pgettext_lazy("content", "language"),
        max_length=10,
        choices=Language.choices,
        default=Language.CHINESE,
    )
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resources",
        verbose_name=_("category"),
    )
    # Codes wrapped in commas (",journals,ebooks,") so that one portable `contains` lookup filters
    # on SQLite and PostgreSQL alike, and the A–Z list needs no join.
    content_types = models.CharField(
        pgettext_lazy("resource", "content types"), max_length=200, blank=True, default=""
    )
    homepage = models.URLField(_("homepage"), max_length=500, blank=True)
    subscription_start = models.DateField(_("subscription start"), null=True, blank=True)
    # The current term restarts at each renewal; this date stays: when the library first took
    # the database. The service report counts "new databases" by it.
    first_subscribed = models.DateField(
        _("first subscribed"),
        null=True,
        blank=True,
        help_text=_("When the library first took this database; kept across renewals."),
    )
    subscription_end = models.DateField(_("subscription end"), null=True, blank=True)
    price = models.DecimalField(
        _("price"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.CNY
    )
    off_campus_allowed = models.BooleanField(_("off-campus use allowed"), default=True)
    concurrent_users = models.PositiveIntegerField(
        _("concurrent users"), null=True, blank=True, help_text=_("Empty means unlimited.")
    )
    walk_in_only = models.BooleanField(_("walk-in users only"), default=False)
    text_mining = models.CharField(
        _("text and data mining"),
        max_length=12,
        choices=TextMining.choices,
        default=TextMining.UNKNOWN,
    )
    is_trial = models.BooleanField(_("trial"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    search_text = models.TextField(editable=False, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ResourceQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["library", "key"], name="resource_unique_key")
        ]
        indexes = [models.Index(fields=["library", "is_active", "language"])]
        verbose_name = _("resource")
        verbose_name_plural = _("resources")

    def __str__(self) -> str:
        return self.display("name")

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_text = normalise_text(
            self.key, self.name, self.name_en, self.description, self.description_en
        )
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.parent_id and self.parent_id == self.pk:
            raise ValidationError({"parent": _("A resource cannot be its own parent.")})
        if self.parent is not None and self.parent.library_id != self.library_id:
            raise ValidationError({"parent": _("The parent belongs to another library.")})
        if (
            self.subscription_start
            and self.subscription_end
            and self.subscription_end < self.subscription_start
        ):
            raise ValidationError(
                {"subscription_end": _("The subscription ends before it starts.")}
            )

    @property
    def content_type_list(self) -> list[str]:
        return [c for c in self.content_types.split(",") if c]

    def set_content_types(self, codes: list[str]) -> None:
        valid = set(ContentType.values)
        unknown = [c for c in codes if c not in valid]
        if unknown:
            raise ValidationError(
                _("Unknown content type: %(codes)s") % {"codes": ", ".join(unknown)}
            )
        self.content_types = "," + ",".join(sorted(set(codes))) + "," if codes else ""

    def content_type_labels(self) -> list[str]:
        return [
            str(ContentType(c).label) for c in self.content_type_list if c in ContentType.values
        ]

    def ordered_routes(self, on: dt.date | None = None) -> list[AccessRoute]:
        """Routes usable today, best first for a patron at home."""
        routes = [r for r in self.routes.all() if r.is_current(on)]
        return sorted(routes, key=lambda r: (r.preference, r.priority, r.pk))


class AccessRouteQuerySet(RestrictedQuerySet):
    def current(self, on: dt.date | None = None) -> AccessRouteQuerySet:
        day = on or timezone.localdate()
        return self.filter(is_active=True).exclude(starts_on__gt=day).exclude(ends_on__lt=day)

    def off_campus(self, on: dt.date | None = None) -> AccessRouteQuerySet:
        return self.current(on).filter(kind__in=list(OFF_CAMPUS_KINDS))

    def expiring(self, days: int = 30, on: dt.date | None = None) -> AccessRouteQuerySet:
        day = on or timezone.localdate()
        return self.current(day).filter(
            ends_on__isnull=False, ends_on__lte=day + dt.timedelta(days=days)
        )


class AccessRoute(models.Model):
    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, related_name="routes", verbose_name=_("resource")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=RouteKind.choices)
    label = models.CharField(_("label"), max_length=200, blank=True)
    url = models.URLField(
        pgettext_lazy("address", "URL"),
        max_length=1000,
        blank=True,
        help_text=_("Where the patron starts."),
    )
    # Campus IP
    ip_ranges = models.TextField(_("IP ranges"), blank=True, validators=[validate_ip_ranges])
    # CARSI / Shibboleth WAYFless link: SP login URL + the home IdP's entity ID + the target.
    sp_login_url = models.URLField(
        _("SP login URL"),
        max_length=500,
        blank=True,
        help_text=_("e.g. https://fsso.cnki.net/Shibboleth.sso/Login"),
    )
    idp_entity_id = models.CharField(
        _("IdP entity ID"),
        max_length=300,
        blank=True,
        help_text=_("Empty: the library's CARSI IdP."),
    )
    target = models.URLField(_("target"), max_length=1000, blank=True)
    # Shared account
    account_username = models.CharField(_("account user name"), max_length=200, blank=True)
    account_password = EncryptedTextField(_("account password"), blank=True)
    # Temporary free access and any route with a limited life
    starts_on = models.DateField(_("available from"), null=True, blank=True)
    ends_on = models.DateField(_("available until"), null=True, blank=True)
    instructions = models.TextField(_("instructions"), blank=True)
    instructions_en = models.TextField(_("English instructions"), blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=100, help_text=_("Lower comes first among routes of one kind.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AccessRouteQuerySet.as_manager()
    library_lookup = "resource__library"
    audited = True

    class Meta:
        ordering = ["resource", "priority", "id"]
        verbose_name = _("access route")
        verbose_name_plural = _("access routes")

    def __str__(self) -> str:
        return f"{self.resource}: {self.get_kind_display()}"

    @property
    def preference(self) -> int:
        return ROUTE_PREFERENCE.index(RouteKind(self.kind))

    @property
    def works_off_campus(self) -> bool:
        return self.kind in OFF_CAMPUS_KINDS

    def display_instructions(self) -> str:
        if (get_language() or "").startswith("en") and self.instructions_en:
            return self.instructions_en
        return self.instructions

    def is_current(self, on: dt.date | None = None) -> bool:
        day = on or timezone.localdate()
        return (
            self.is_active
            and not (self.starts_on and self.starts_on > day)
            and not (self.ends_on and self.ends_on < day)
        )

    def wayfless_url(self) -> str:
        """The one-click CARSI link: `SP?entityID=<home IdP>&target=<resource>` (Shibboleth SP
        convention)."""
        idp = self.idp_entity_id or self.resource.library.carsi_idp_entity_id
        if not (self.sp_login_url and idp):
            return self.url
        params = {"entityID": idp}
        if self.target:
            params["target"] = self.target
        sep = "&" if "?" in self.sp_login_url else "?"
        return self.sp_login_url + sep + urlencode(params, quote_via=quote)

    def proxied_url(self) -> str:
        prefix = self.resource.library.proxy_prefix
        if self.kind == RouteKind.PROXY and prefix and self.url and not self.url.startswith(prefix):
            return prefix + self.url
        return self.url

    def link(self) -> str:
        if self.kind == RouteKind.CARSI:
            return self.wayfless_url()
        if self.kind == RouteKind.PROXY:
            return self.proxied_url()
        return self.url or self.resource.homepage

    def hostname(self) -> str:
        return (urlsplit(self.target or self.url or self.resource.homepage).hostname or "").lower()

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.kind == RouteKind.CARSI and not (self.sp_login_url or self.url):
            errors["sp_login_url"] = _("A CARSI route needs the vendor's SP login URL or a URL.")
        if self.kind == RouteKind.CAMPUS_IP and not (self.url or self.ip_ranges):
            errors["url"] = _("A campus route needs a URL.")
        if (
            self.kind
            in {RouteKind.VPN, RouteKind.PROXY, RouteKind.OPEN_ACCESS, RouteKind.FREE_ACCESS}
            and not self.url
        ):
            errors["url"] = _("This kind of route needs a URL.")
        if self.kind == RouteKind.FREE_ACCESS and not self.ends_on:
            errors["ends_on"] = _("Temporary free access needs an end date.")
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("The route ends before it starts.")
        if errors:
            raise ValidationError(errors)


class KbartTitle(models.Model):
    """One line of a KBART title list attached to a resource (KBART phase II fields we use)."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="titles")
    title_id = models.CharField(_("title ID"), max_length=200, blank=True)
    publication_title = models.CharField(_("title"), max_length=1000)
    print_identifier = models.CharField(
        _("print ISSN/ISBN"), max_length=20, blank=True, db_index=True
    )
    online_identifier = models.CharField(
        _("online ISSN/ISBN"), max_length=20, blank=True, db_index=True
    )
    date_first_issue_online = models.DateField(null=True, blank=True)
    date_last_issue_online = models.DateField(
        null=True, blank=True, help_text=_("Empty: up to the present.")
    )
    num_first_vol_online = models.CharField(max_length=20, blank=True)
    num_last_vol_online = models.CharField(max_length=20, blank=True)
    title_url = models.URLField(max_length=1000, blank=True)
    first_author = models.CharField(max_length=300, blank=True)
    publisher_name = models.CharField(max_length=300, blank=True)
    publication_type = models.CharField(
        max_length=20, blank=True, help_text=_("serial or monograph")
    )
    coverage_depth = models.CharField(max_length=40, blank=True)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "resource__library"

    class Meta:
        ordering = ["publication_title"]
        # A title may have several lines with different coverage periods (KBART allows gaps),
        # so the start of coverage is part of what makes a line unique.
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "resource",
                    "title_id",
                    "print_identifier",
                    "online_identifier",
                    "date_first_issue_online",
                ],
                name="kbart_unique_coverage",
            )
        ]
        verbose_name = _("KBART title")
        verbose_name_plural = _("KBART titles")

    def __str__(self) -> str:
        return self.publication_title

    def covers(self, year: int | None) -> bool:
        if year is None:
            return True
        if self.date_first_issue_online and year < self.date_first_issue_online.year:
            return False
        return not (self.date_last_issue_online and year > self.date_last_issue_online.year)
