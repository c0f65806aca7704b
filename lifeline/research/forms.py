from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from lifeline.research.choices import Database, ListKind, Purpose

MAX_UPLOAD = 200 * 2**20


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Export file"))
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[("", _("Bibliographic records")), *ListKind.choices],
        required=False,
    )
    year = forms.IntegerField(
        label=_("Year of the list"),
        min_value=1990,
        max_value=2100,
        required=False,
        initial=dt.date.today().year,
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("kind") and not data.get("year"):
            self.add_error("year", _("A journal list needs its year."))
        return data


class RequestForm(forms.Form):
    papers = forms.CharField(
        label=_("Your papers"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=100_000,
        help_text=_("One per line: a DOI or the full citation."),
    )
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    databases = forms.MultipleChoiceField(
        label=_("Databases to check"),
        choices=Database.choices,
        widget=forms.CheckboxSelectMultiple,
    )


class VerifyUploadForm(forms.Form):
    file = forms.FileField(label=_("Report PDF"))
