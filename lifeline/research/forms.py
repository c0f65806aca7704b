from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from lifeline.research.choices import Database, ListKind, Purpose, Relevance
from lifeline.research.models import IpRecord, NoveltyRequest

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


class NoveltyForm(forms.ModelForm):
    """The commission (查新委托单) a patron fills in from home."""

    class Meta:
        model = NoveltyRequest
        fields = [
            "title",
            "title_en",
            "organisation",
            "contact",
            "purpose",
            "scope",
            "tech_points",
            "novelty_points",
            "keywords_zh",
            "keywords_en",
        ]
        widgets = {
            "tech_points": forms.Textarea(attrs={"rows": 6, "maxlength": 20000}),
            "novelty_points": forms.Textarea(attrs={"rows": 4, "maxlength": 10000}),
        }
        help_texts = {
            "novelty_points": _("One point per line: what is to be judged new."),
            "keywords_zh": _("Separated by semicolons."),
        }

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        for name, limit in (("tech_points", 20000), ("novelty_points", 10000)):
            if len(str(data.get(name) or "")) > limit:
                self.add_error(name, _("At most %(n)d characters.") % {"n": limit})
        points = [ln for ln in str(data.get("novelty_points") or "").splitlines() if ln.strip()]
        if len(points) > 20:
            self.add_error("novelty_points", _("At most 20 novelty points."))
        if data.get("scope") in ("foreign", "both") and not data.get("keywords_en"):
            self.add_error("keywords_en", _("A search abroad needs English keywords."))
        return data


class StrategyForm(forms.ModelForm):
    """The searcher's record: databases and years, terms, statements, results, conclusion."""

    class Meta:
        model = NoveltyRequest
        fields = [
            "search_databases",
            "search_terms",
            "search_queries",
            "search_results",
            "conclusion",
            "attachments",
            "notes",
        ]
        widgets = {name: forms.Textarea(attrs={"rows": 4, "maxlength": 20000}) for name in fields}

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        for name, value in data.items():
            if len(str(value or "")) > 20000:
                self.add_error(name, _("At most %(n)d characters.") % {"n": 20000})
        return data


class DocumentForm(forms.Form):
    citation = forms.CharField(
        label=_("Document (citation)"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    database = forms.CharField(label=_("Database"), max_length=100, required=False)
    relevance = forms.ChoiceField(label=_("Relevance"), choices=Relevance.choices)
    comparison = forms.CharField(
        label=_("Comparison with the novelty points"),
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class IpRecordForm(forms.ModelForm):
    class Meta:
        model = IpRecord
        fields = ["kind", "date", "count", "person", "note"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}

    def clean_count(self) -> int:
        n = int(self.cleaned_data["count"])
        if not 1 <= n <= 100_000:
            raise forms.ValidationError(_("Between 1 and 100,000."))
        return n
