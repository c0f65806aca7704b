"""Models of proxy-log analysis by platform rules: title-level use from logs and a library's
own URL rules (imported by `models.py`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lifeline.analytics.logrules.rules import ACCESS_TYPES, CLASSES, DATA_TYPES, UNIT_KINDS
from lifeline.core.models import Library
from lifeline.core.querysets import RestrictedQuerySet
from lifeline.registry.models import Resource

CLASS_LABELS = {
    "request": _("full-text request"),
    "investigation": _("investigation"),
    "search": _("search"),
    "none": _("not counted"),
}


class LogItemUsage(models.Model):
    """One unit (DOI, PII, ISSN, ISBN, platform id) of one resource in one month of a log:
    COUNTER's four item metrics, counted by the platform rules and the session rule."""

    log_import = models.ForeignKey(
        "analytics.LogImport", on_delete=models.CASCADE, related_name="items"
    )
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    platform = models.CharField(max_length=40, blank=True)
    unit_kind = models.CharField(max_length=12)
    unit = models.CharField(max_length=200)
    data_type = models.CharField(max_length=12, blank=True)
    access = models.CharField(max_length=12, blank=True)
    requests = models.PositiveIntegerField(default=0)
    investigations = models.PositiveIntegerField(default=0)
    unique_requests = models.PositiveIntegerField(default=0)
    unique_investigations = models.PositiveIntegerField(default=0)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "log_import__library"

    class Meta:
        indexes = [models.Index(fields=["resource", "month"])]
        verbose_name = _("item use from logs")
        verbose_name_plural = _("item use from logs")

    def __str__(self) -> str:
        return f"{self.unit_kind}:{self.unit} {self.month}"


class LogRule(models.Model):
    """A library's own rule for a host: checked before the shipped platform rules."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="log_rules")
    host = models.CharField(_("host"), max_length=253)
    pattern = models.CharField(_("pattern"), max_length=2000)
    cls = models.CharField(
        _("class"), max_length=13, choices=[(c, CLASS_LABELS[c]) for c in CLASSES]
    )
    unit_kind = models.CharField(
        _("unit kind"), max_length=12, blank=True, choices=[(k, k) for k in UNIT_KINDS]
    )
    data_type = models.CharField(
        _("data type"), max_length=12, blank=True, choices=[(d, d) for d in DATA_TYPES]
    )
    access = models.CharField(
        _("access type"),
        max_length=12,
        default="controlled",
        choices=[(a, a) for a in ACCESS_TYPES],
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("URL rule")
        verbose_name_plural = _("URL rules")

    def __str__(self) -> str:
        return f"{self.host} {self.pattern} → {self.cls}"
