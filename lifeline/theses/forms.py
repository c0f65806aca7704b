"""Forms of thesis deposit."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from lifeline.theses.choices import Check, Confidentiality, ReturnReason
from lifeline.theses.logic import disciplines


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class ClaimForm(forms.Form):
    student_number = forms.CharField(label=_("student number"), max_length=40)
    name = forms.CharField(label=_("name"), max_length=120)


class SubmitForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=500)
    title_en = forms.CharField(label=_("English title"), max_length=500)
    author = forms.CharField(label=_("author"), max_length=120)
    author_en = forms.CharField(
        label=_("author in pinyin or English"), max_length=120, required=False
    )
    discipline_code = forms.ChoiceField(label=_("discipline code"), choices=())
    supervisor = forms.CharField(label=_("supervisor"), max_length=120)
    supervisor_en = forms.CharField(
        label=_("supervisor in English"), max_length=120, required=False
    )
    keywords = forms.CharField(
        label=_("keywords"), max_length=500, help_text=_("Separate keywords with ；or ;")
    )
    keywords_en = forms.CharField(label=_("English keywords"), max_length=500)
    abstract = forms.CharField(label=_("abstract"), max_length=20_000, widget=forms.Textarea)
    abstract_en = forms.CharField(
        label=_("English abstract"), max_length=20_000, widget=forms.Textarea
    )
    confidentiality = forms.ChoiceField(label=_("confidentiality"), choices=Confidentiality.choices)
    release_date = forms.DateField(
        label=_("release date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("For an internal or secret thesis: when its full text may be opened."),
    )
    pdf = forms.FileField(label=_("full text (PDF)"))
    attachments = MultipleFileField(label=_("attachments"), required=False)
    agreement = forms.BooleanField(
        label=_("I accept the deposit and authorisation agreement"), required=True
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["discipline_code"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "—"), *disciplines.choices()]


class ReturnForm(forms.Form):
    reasons = forms.MultipleChoiceField(
        label=_("reasons"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[*ReturnReason.choices, *Check.choices],
    )
    text = forms.CharField(
        label=_("note to the student"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ImportForm(forms.Form):
    file = forms.FileField(label=_("list of expected students (XLSX)"))


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("status"), required=False)
    college = forms.ChoiceField(label=_("college"), required=False)
    q = forms.CharField(label=_("search"), required=False, max_length=100)

    def __init__(
        self, *args: Any, colleges: list[str], statuses: list[tuple[str, Any]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        college = self.fields["college"]
        status = self.fields["status"]
        assert isinstance(college, forms.ChoiceField) and isinstance(status, forms.ChoiceField)
        college.choices = [("", _("all colleges")), *((c, c) for c in colleges)]
        status.choices = [("", _("all")), *statuses]


class VerifyUploadForm(forms.Form):
    file = forms.FileField(label=_("the receipt PDF you were given"))
