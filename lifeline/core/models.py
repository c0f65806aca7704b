from __future__ import annotations

import hashlib
import ipaddress
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from lifeline.core.choices import (
    AuditAction,
    Channel,
    JobStatus,
    NotificationStatus,
    PatronCategory,
    Role,
    WebhookFormat,
)
from lifeline.core.fields import EncryptedURLField
from lifeline.core.querysets import RestrictedQuerySet


def parse_ip_ranges(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Parse one CIDR range (or "a.b.c.d-a.b.c.e") per line or comma.

    Raises ValidationError naming the bad one.
    """
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for raw in text.replace(",", "\n").replace(";", "\n").splitlines():
        item = raw.strip()
        if not item:
            continue
        try:
            if "-" in item:
                first, last = (ipaddress.ip_address(p.strip()) for p in item.split("-", 1))
                networks.extend(ipaddress.summarize_address_range(first, last))
            else:
                networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValidationError(
                _("“%(item)s” is not an IP address or range.") % {"item": item}
            ) from exc
    return networks


def validate_ip_ranges(text: str) -> None:
    parse_ip_ranges(text)


class Library(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    campus_ip_ranges = models.TextField(
        _("campus IP ranges"),
        blank=True,
        validators=[validate_ip_ranges],
        help_text=_("One CIDR range per line; used to tell on-campus from off-campus use."),
    )
    proxy_prefix = models.URLField(
        _("proxy login prefix"),
        blank=True,
        help_text=_("e.g. https://ezproxy.example.edu/login?url="),
    )
    carsi_idp_entity_id = models.CharField(_("CARSI IdP entity ID"), max_length=300, blank=True)
    email = models.EmailField(_("contact e-mail"), blank=True)
    phone = models.CharField(_("contact phone"), max_length=60, blank=True)
    # Limits on anonymous use (lifeline/core/ratelimit.py): per address, 0 = no limit. A whole
    # campus may reach us through a few NAT addresses: those go in the exempt list.
    anon_api_per_minute = models.PositiveIntegerField(
        _("anonymous API requests per minute and address"),
        default=120,
        help_text=_("0: no limit."),
    )
    anon_forms_per_hour = models.PositiveIntegerField(
        _("anonymous form submissions per hour and address"),
        default=60,
        help_text=_("0: no limit."),
    )
    rate_exempt_networks = models.TextField(
        _("addresses exempt from the limits"),
        blank=True,
        validators=[validate_ip_ranges],
        help_text=_(
            "One address or CIDR range per line: the campus's egress (NAT) addresses, through "
            "which many patrons arrive as one."
        ),
    )
    # Bumped whenever the registry changes; cached patron pages are keyed on it.
    registry_changed_at = models.DateTimeField(default=timezone.now, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "pk"

    class Meta:
        ordering = ["code"]
        verbose_name = _("library")
        verbose_name_plural = _("libraries")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name

    def touch_registry(self) -> None:
        Library.objects.filter(pk=self.pk).update(registry_changed_at=timezone.now())

    def is_on_campus(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in parse_ip_ranges(self.campus_ip_ranges))


class Membership(models.Model):
    """A staff user's role in one library. A user may hold several roles in several libraries."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "library", "role"], name="membership_unique_role"
            )
        ]
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.library.code}: {self.get_role_display()}"


class Patron(models.Model):
    """A reader of one library (teacher, student, researcher), local or signed in through CARSI."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="patron"
    )
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="patrons")
    category = models.CharField(
        _("category"), max_length=20, choices=PatronCategory.choices, default=PatronCategory.STUDENT
    )
    display_name = models.CharField(_("name"), max_length=120, blank=True)
    eppn = models.CharField(_("eduPersonPrincipalName"), max_length=254, blank=True, db_index=True)
    affiliation = models.CharField(_("affiliation"), max_length=254, blank=True)
    department = models.CharField(_("department"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("patron")
        verbose_name_plural = _("patrons")

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()


class AuditLog(models.Model):
    """One row per change: who, when, what, before and after."""

    library = models.ForeignKey(
        Library, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.CharField(
        _("actor"), max_length=150, blank=True, help_text=_("User name or system process.")
    )
    action = models.CharField(_("action"), max_length=10, choices=AuditAction.choices)
    model = models.CharField(_("model"), max_length=100)
    object_pk = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=300, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    message = models.TextField(_("message"), blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["model", "object_pk"])]
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.model} {self.object_repr}"
        )

    def changed_fields(self) -> dict[str, tuple[Any, Any]]:
        before, after = self.before or {}, self.after or {}
        return {
            k: (before.get(k), after.get(k))
            for k in sorted(set(before) | set(after))
            if before.get(k) != after.get(k)
        }


class ApiTokenQuerySet(RestrictedQuerySet):
    def active(self) -> ApiTokenQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once, at creation."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()
    library_lookup = "user__memberships__library"

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: Any, name: str, expires_at: Any = None) -> tuple[ApiToken, str]:
        token = "ll_" + secrets.token_urlsafe(32)
        obj = cls.objects.create(
            user=user, name=name, prefix=token[:10], digest=cls.hash(token), expires_at=expires_at
        )
        return obj, token

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


class ScheduledJob(models.Model):
    """When each periodic job last ran and runs next. The scheduler claims a due job with a
    conditional UPDATE, so several scheduler processes never enqueue one run twice."""

    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField(default=timezone.now)
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")

    def __str__(self) -> str:
        return self.name


class Notification(models.Model):
    """An outbox row: written in the same transaction as the decision to notify, sent later.

    A worker claims a row with a conditional UPDATE and a lease (`claimed_until`); a worker that
    dies mid-send leaves the lease to expire and another picks the row up, so nothing is lost.
    Delivery is at-least-once: a crash after the SMTP server accepted but before the row was
    marked sent can send twice, which beats never.
    """

    MAX_ATTEMPTS = 10

    library = models.ForeignKey(
        Library, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    kind = models.CharField(_("kind"), max_length=60, blank=True)
    dedupe_key = models.CharField(max_length=200, blank=True)
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    url = EncryptedURLField(_("webhook URL"), blank=True)
    webhook_format = models.CharField(
        _("format"), max_length=10, choices=WebhookFormat.choices, default=WebhookFormat.JSON
    )
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("body"), blank=True)
    html = models.TextField(blank=True)
    payload = models.JSONField(null=True, blank=True)
    # E-mail: extra headers (Message-ID, In-Reply-To, References, List-Unsubscribe, Auto-Submitted)
    # and an optional From/Reply-To, so replies thread and bulk mail can be left with one click.
    headers = models.JSONField(default=dict, blank=True)
    from_email = models.CharField(max_length=254, blank=True)
    reply_to = models.CharField(max_length=254, blank=True)
    # Channel "app": dotted path of the function that sends the row (must live under lifeline.).
    sender = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "channel", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="notification_unique_dedupe",
            )
        ]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        target = ", ".join(self.recipients) if self.channel == Channel.EMAIL else self.url
        return f"{self.get_channel_display()} → {target}: {self.subject}"


class ImportJob(models.Model):
    """A long import started from a page, run by a background task (`lifeline.core.jobs`):
    the upload is kept until the task has read it; progress, the outcome and the problems
    are kept on the row for the job's page. `kind` names the app's runner."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="import_jobs")
    kind = models.CharField(_("kind"), max_length=60)
    title = models.CharField(_("file"), max_length=255)
    file = models.FileField(_("file"), upload_to="jobs/%Y/%m/", blank=True)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.TextField(_("result"), blank=True)
    problems = models.JSONField(default=list, blank=True)
    result = models.JSONField(default=dict, blank=True)
    result_url = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.kind}: {self.title}"

    @property
    def finished(self) -> bool:
        return self.status in {JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED}
