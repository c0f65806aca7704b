from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lifeline.core.models import Library
from lifeline.outreach.models import QuestionBank


class FeedbackForm(forms.Form):
    rating = forms.IntegerField(label=_("rating"), min_value=1, max_value=5)
    comment = forms.CharField(
        label=_("feedback"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ImportForm(forms.Form):
    bank = forms.ModelChoiceField(label=_("question bank"), queryset=QuestionBank.objects.none())
    file = forms.FileField(label=_("XLSX file"))

    def __init__(self, library: Library, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bank"].queryset = QuestionBank.objects.filter(library=library)  # type: ignore[attr-defined]


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=pgettext_lazy("period", "from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=pgettext_lazy("period", "to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
