"""The one thing the report stores: the narrative staff edited for a library and period."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from lifeline.core.models import Library
from lifeline.core.querysets import RestrictedQuerySet


class ReportNarrative(models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="report_narratives")
    start = models.DateField(_("period start"))
    end = models.DateField(_("period end"))
    language = models.CharField(_("language"), max_length=10)
    text = models.TextField(_("narrative summary"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        # The consortium report (every library's column and the sum) is for a consortium-level
        # role, not any one library's staff: a permission granted to a user or group.
        permissions = [("view_consortium", _("Can view the consortium service report"))]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "start", "end", "language"], name="reports_narrative_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.library} {self.start}–{self.end} ({self.language})"
