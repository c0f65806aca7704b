"""Models of Access health: probe settings and state per route, state changes, incidents,
fault reports, vendor escalations and notification subscriptions."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lifeline.core.choices import Channel, WebhookFormat
from lifeline.core.fields import EncryptedURLField
from lifeline.core.models import Library
from lifeline.core.querysets import RestrictedQuerySet
from lifeline.health.choices import (
    EventKind,
    FailureKind,
    HealthState,
    IncidentKind,
    IncidentStatus,
)
from lifeline.registry.models import AccessRoute, Resource, Vendor

# Phrases vendors show instead of content when the caller is not entitled: a 200 that is a failure.
DEFAULT_FORBIDDEN_TEXT = "\n".join(
    [
        "IP not authorised",
        "IP not authorized",
        "not authorised to access",
        "Access denied",
        "访问受限",
        "请登录",
        "无权访问",
        "IP未授权",
    ]
)


def parse_statuses(text: str) -> list[tuple[int, int]]:
    """'200-299, 302' -> [(200, 299), (302, 302)]; raise ValidationError naming the bad item."""
    ranges: list[tuple[int, int]] = []
    for item in text.replace(";", ",").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            low, _sep, high = item.partition("-")
            first, last = int(low), int(high or low)
        except ValueError as exc:
            raise ValidationError(
                _("“%(item)s” is not an HTTP status or range.") % {"item": item}
            ) from exc
        if not (100 <= first <= last <= 599):
            raise ValidationError(_("“%(item)s” is not an HTTP status or range.") % {"item": item})
        ranges.append((first, last))
    if not ranges:
        raise ValidationError(_("Give at least one expected HTTP status."))
    return ranges


def validate_statuses(text: str) -> None:
    parse_statuses(text)


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class ProbeConfigQuerySet(RestrictedQuerySet):
    def due(self, now: dt.datetime, until: dt.datetime | None = None) -> ProbeConfigQuerySet:
        """Enabled, due by `until` (default now), and not held by a live worker (a dead worker's
        lease runs out)."""
        return self.filter(
            enabled=True, next_probe_at__lte=until or now, route__is_active=True
        ).filter(models.Q(lease_until__isnull=True) | models.Q(lease_until__lt=now))


class ProbeConfig(models.Model):
    """How one access route is probed, and what the probes last said about it."""

    # What staff set (the form and the API edit these) and what the prober writes (read-only).
    SETTINGS_FIELDS = (
        "enabled",
        "interval_seconds",
        "timeout_seconds",
        "expected_status",
        "must_contain",
        "must_not_contain",
        "max_redirects",
        "retries",
        "retry_seconds",
        "slow_ms",
        "cert_warning_days",
        "through_proxy",
        "allow_private",
    )
    STATE_FIELDS = (
        "state",
        "state_since",
        "last_checked_at",
        "last_failure",
        "last_error",
        "last_status_code",
        "last_response_ms",
        "cert_expires_at",
    )

    route = models.OneToOneField(
        AccessRoute, on_delete=models.CASCADE, related_name="probe", verbose_name=_("access route")
    )
    enabled = models.BooleanField(_("probe this route"), default=True)
    interval_seconds = models.PositiveIntegerField(
        _("interval (seconds)"),
        default=300,
        validators=[MinValueValidator(30), MaxValueValidator(86400)],
    )
    timeout_seconds = models.PositiveSmallIntegerField(
        _("timeout (seconds)"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    expected_status = models.CharField(
        _("expected HTTP status"),
        max_length=100,
        default="200-299",
        validators=[validate_statuses],
        help_text=_("Statuses or ranges separated by commas, e.g. 200-299, 302."),
    )
    must_contain = models.TextField(
        _("text that must appear"), blank=True, help_text=_("One phrase per line.")
    )
    must_not_contain = models.TextField(
        _("text that must not appear"),
        blank=True,
        default=DEFAULT_FORBIDDEN_TEXT,
        help_text=_("One phrase per line: login walls and messages such as “IP not authorised”."),
    )
    max_redirects = models.PositiveSmallIntegerField(
        _("redirect limit"), default=5, validators=[MaxValueValidator(20)]
    )
    retries = models.PositiveSmallIntegerField(
        _("retries before a change of state"),
        default=2,
        validators=[MaxValueValidator(10)],
        help_text=_(
            "A new state is believed after this many confirming probes, taken quickly one after another."  # noqa: E501
        ),
    )
    retry_seconds = models.PositiveSmallIntegerField(
        _("seconds between retries"),
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(600)],
    )
    slow_ms = models.PositiveIntegerField(
        _("slow above (ms)"), default=5000, help_text=_("Slower answers count as degraded.")
    )
    cert_warning_days = models.PositiveSmallIntegerField(
        _("warn when the certificate expires within (days)"), default=14
    )
    through_proxy = models.BooleanField(
        _("probe through the library's proxy"),
        default=False,
        help_text=_("For routes that only work from the campus network."),
    )
    allow_private = models.BooleanField(
        _("allow a private or loopback target"),
        default=False,
        help_text=_(
            "Only administrators may set this (protection against server-side request forgery)."
        ),
    )
    allow_private_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    allow_private_set_at = models.DateTimeField(null=True, blank=True, editable=False)

    # What the probes said.
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=HealthState.choices,
        default=HealthState.UNKNOWN,
        db_index=True,
    )
    state_since = models.DateTimeField(_("since"), null=True, blank=True)
    pending_state = models.CharField(max_length=10, choices=HealthState.choices, blank=True)
    pending_count = models.PositiveSmallIntegerField(default=0)
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    last_failure = models.CharField(
        _("last failure"), max_length=20, choices=FailureKind.choices, blank=True
    )
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_response_ms = models.PositiveIntegerField(null=True, blank=True)
    cert_expires_at = models.DateTimeField(_("certificate expires"), null=True, blank=True)

    # Scheduling: a worker takes a due route by setting a lease; the result moves next_probe_at on.
    next_probe_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=32, blank=True)

    objects = ProbeConfigQuerySet.as_manager()
    library_lookup = "route__resource__library"
    audited = True

    class Meta:
        indexes = [models.Index(fields=["enabled", "next_probe_at"])]
        verbose_name = _("probe settings")
        verbose_name_plural = _("probe settings")

    def __str__(self) -> str:
        return str(self.route)

    @classmethod
    def for_route(cls, route: AccessRoute) -> ProbeConfig:
        config, _created = cls.objects.get_or_create(route=route)
        return config

    def status_ranges(self) -> list[tuple[int, int]]:
        return parse_statuses(self.expected_status)

    def target_url(self) -> str:
        """The address a patron's browser starts from (WAYFless link, proxied URL or plain URL)."""
        return (
            self.route.link()
            if self.through_proxy
            else (self.route.target or self.route.url or self.route.link())
        )

    def in_maintenance(self, now: dt.datetime) -> MaintenanceWindow | None:
        return self.maintenance_windows.filter(starts_at__lte=now, ends_at__gt=now).first()

    def set_allow_private(self, value: bool, user: Any, now: dt.datetime | None = None) -> None:
        """Record who allowed an internal target; refused unless the user is an admin here."""
        from lifeline.core.permissions import user_can

        if value == self.allow_private:
            return
        if value and not user_can(user, self.route.resource.library_id, "core.manage"):
            raise ValidationError(
                {
                    "allow_private": _(
                        "Only a library administrator may allow a private or loopback target."
                    )
                }
            )
        self.allow_private = value
        self.allow_private_set_by = user if value else None
        self.allow_private_set_at = (now or timezone.now()) if value else None


class MaintenanceWindow(models.Model):
    """A planned outage: probes pause and no incident opens."""

    config = models.ForeignKey(
        ProbeConfig, on_delete=models.CASCADE, related_name="maintenance_windows"
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "config__route__resource__library"

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} – {self.ends_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The window ends before it starts.")})


class Flip(models.Model):
    """One change of a route's state (healthchecks' Flip): the history uptime is computed from."""

    route = models.ForeignKey(AccessRoute, on_delete=models.CASCADE, related_name="flips")
    old = models.CharField(max_length=10, choices=HealthState.choices)
    new = models.CharField(max_length=10, choices=HealthState.choices)
    at = models.DateTimeField(default=timezone.now)
    failure = models.CharField(max_length=20, choices=FailureKind.choices, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "route__resource__library"

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["route", "at"])]
        verbose_name = _("state change")
        verbose_name_plural = _("state changes")

    def __str__(self) -> str:
        return f"{self.route_id}: {self.old} → {self.new} @ {self.at:%Y-%m-%d %H:%M:%S}"


class ProbeResult(models.Model):
    """Evidence: each probe that failed, or changed the state, with what it saw."""

    route = models.ForeignKey(AccessRoute, on_delete=models.CASCADE, related_name="probe_results")
    at = models.DateTimeField(default=timezone.now)
    url = models.URLField(max_length=1000)
    state = models.CharField(max_length=10, choices=HealthState.choices)
    failure = models.CharField(max_length=20, choices=FailureKind.choices, blank=True)
    error = models.CharField(max_length=500, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(null=True, blank=True)
    address = models.CharField(max_length=64, blank=True)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "route__resource__library"

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["route", "-at"])]
        verbose_name = _("probe result")
        verbose_name_plural = _("probe results")

    def __str__(self) -> str:
        return f"{self.at:%H:%M:%S} {self.state} {self.failure}"


class Incident(models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="incidents")
    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, related_name="incidents", verbose_name=_("resource")
    )
    route = models.ForeignKey(
        AccessRoute,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incidents",
        verbose_name=_("access route"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=IncidentKind.choices)
    status = models.CharField(
        _("status"),
        max_length=15,
        choices=IncidentStatus.choices,
        default=IncidentStatus.OPEN,
        db_index=True,
    )
    cause = models.CharField(_("cause"), max_length=500, blank=True)
    failure = models.CharField(max_length=20, choices=FailureKind.choices, blank=True)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["library", "status"]),
            models.Index(fields=["resource", "route", "status"]),
        ]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")

    def __str__(self) -> str:
        return f"#{self.pk} {self.resource}: {self.get_kind_display()}"

    @property
    def is_open(self) -> bool:
        return self.status != IncidentStatus.RESOLVED

    def duration(self, now: dt.datetime | None = None) -> dt.timedelta:
        return (self.closed_at or now or timezone.now()) - self.opened_at


class IncidentEvent(models.Model):
    """One line of an incident's timeline."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    text = models.TextField(blank=True)
    data = models.JSONField(
        null=True, blank=True, help_text=_("Evidence: probe results, usage figures.")
    )
    public = models.BooleanField(default=True, help_text=_("Shown on the public status page."))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "incident__library"

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("incident event")
        verbose_name_plural = _("incident events")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}"


def screenshot_path(instance: FaultReport, filename: str) -> str:
    # Never the reporter's file name: it is untrusted and may collide. The form re-encodes the
    # image and names it after what it is (png or jpg); anything else is stored as .bin.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    ext = ext if ext in {"png", "jpg"} else "bin"
    return f"health/reports/{timezone.now():%Y/%m}/{secrets.token_hex(12)}.{ext}"


class FaultReport(models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="fault_reports")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="reports")
    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, related_name="+", verbose_name=_("resource")
    )
    route = models.ForeignKey(
        AccessRoute,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("access route"),
    )
    description = models.TextField(_("what you saw"), max_length=4000)
    screenshot = models.FileField(_("screenshot"), upload_to=screenshot_path, blank=True)
    contact_name = models.CharField(_("name"), max_length=120, blank=True)
    contact_email = models.EmailField(_("e-mail"), blank=True)
    language = models.CharField(max_length=10, default="zh-hans")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    fixed_notice_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("fault report")
        verbose_name_plural = _("fault reports")

    def __str__(self) -> str:
        return f"{self.resource}: {self.description[:40]}"


class Escalation(models.Model):
    """A message to the vendor about an incident, and how quickly the vendor answered."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="escalations")
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="escalations")
    recipients = models.JSONField(_("recipients"), default=list)
    language = models.CharField(max_length=10)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(pgettext_lazy("e-mail", "message"))
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    due_at = models.DateTimeField(_("answer due"))
    acknowledged_at = models.DateTimeField(_("vendor acknowledged"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("vendor resolved"), null=True, blank=True)
    token = models.CharField(
        max_length=43, unique=True, default=secrets.token_urlsafe, editable=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "incident__library"
    audited = True

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("vendor escalation")
        verbose_name_plural = _("vendor escalations")

    def __str__(self) -> str:
        return f"{self.vendor} #{self.incident_id}"

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        return self.acknowledged_at is None and (now or timezone.now()) > self.due_at


class Subscription(models.Model):
    """Who hears about incidents: an e-mail address or a webhook (plain JSON or a chat robot)."""

    library = models.ForeignKey(
        Library, on_delete=models.CASCADE, related_name="health_subscriptions"
    )
    name = models.CharField(_("name"), max_length=120)
    channel = models.CharField(
        _("channel"),
        max_length=10,
        # A subscriber gets e-mail or a webhook; the outbox's app channel is for apps' own APIs.
        choices=[c for c in Channel.choices if c[0] != Channel.APP],
        default=Channel.WEBHOOK,
    )
    email = models.EmailField(_("e-mail"), blank=True)
    url = EncryptedURLField(_("webhook URL"), blank=True)
    webhook_format = models.CharField(
        _("format"), max_length=10, choices=WebhookFormat.choices, default=WebhookFormat.JSON
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans"
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["name"]
        verbose_name = _("incident subscription")
        verbose_name_plural = _("incident subscriptions")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.channel == Channel.EMAIL and not self.email:
            raise ValidationError({"email": _("An e-mail subscription needs an address.")})
        if self.channel == Channel.WEBHOOK and not self.url:
            raise ValidationError({"url": _("A webhook subscription needs a URL.")})
