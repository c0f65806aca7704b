from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lifeline.core.models import Library
from lifeline.core.params import IdField
from lifeline.outreach.choices import MaterialKind
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


class EntryForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=200)
    note = forms.CharField(
        label=_("about the entry"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    file = forms.FileField(label=_("audio or video file"))


class ClassListForm(forms.Form):
    file = forms.FileField(label=_("class list (XLSX or CSV, columns 学号 and 姓名)"))


class MaterialForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=MaterialKind.choices)
    title = forms.CharField(label=_("title"), max_length=200)
    url = forms.URLField(label=_("link"), required=False, assume_scheme="https")
    file = forms.FileField(label=_("file"), required=False)


class ScoreForm(forms.Form):
    entry = IdField(required=True)
    score = forms.IntegerField(label=_("score (0–100)"), min_value=0, max_value=100)
    note = forms.CharField(label=_("note"), required=False, max_length=500)


class CheckinForm(forms.Form):
    code = forms.CharField(label=_("check-in code"), max_length=12)


class BlockForm(forms.Form):
    starts_at = forms.DateTimeField(
        label=_("closed from"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=_("closed until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reason = forms.CharField(label=_("reason"), max_length=300)
