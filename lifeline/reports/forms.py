from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

EARLIEST = dt.date(1990, 1, 1)
LONGEST = dt.timedelta(days=366 * 5)


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("The period ends before it starts."))
            if start < EARLIEST or end - start > LONGEST:
                raise forms.ValidationError(_("Choose a period of at most five years since 1990."))
        return data


class NarrativeForm(PeriodForm):
    text = forms.CharField(
        label=_("Narrative summary"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 8})
    )
