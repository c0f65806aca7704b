"""Forms of cloud book selection (server-rendered; every page works without JS)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from lifeline.core.choices import PatronCategory
from lifeline.core.params import IdField
from lifeline.selection.choices import BudgetKind, MarcFlavour, Method, Reason
from lifeline.selection.models import Campaign, Catalogue


class CatalogueForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    vendor = forms.CharField(label=_("Vendor"), max_length=200, required=False)
    flavour = forms.ChoiceField(
        label=_("MARC flavour"), choices=MarcFlavour.choices, initial=MarcFlavour.AUTO
    )
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "MARC 21 or CNMARC (ISO 2709 .mrc/.iso, or MARCXML), or a spreadsheet (XLSX, CSV in "
            "UTF-8 or GBK) with the columns ISBN, 题名, 责任者, 出版社, 出版年, 定价, 中图分类号."
        ),
    )


class HoldingsForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "The MARC export of the library system, or a list of ISBNs (one a line, or a column "
            "headed ISBN). It replaces the holdings loaded before."
        ),
    )


class CampaignForm(forms.ModelForm):
    invited_categories = forms.MultipleChoiceField(
        label=_("Invited patron categories"),
        choices=PatronCategory.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: everyone."),
    )
    colleges = forms.CharField(
        label=_("Invited colleges"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One a line; empty: every college."),
    )

    class Meta:
        model = Campaign
        fields = ["name", "name_en", "starts_on", "ends_on", "budget", "max_copies", "catalogues"]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
            "catalogues": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args: Any, library: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["catalogues"].queryset = Catalogue.objects.filter(library=library)  # type: ignore[attr-defined]
        if self.instance.pk:
            self.fields["invited_categories"].initial = self.instance.invited_categories
            self.fields["colleges"].initial = "\n".join(self.instance.invited_colleges)

    def save(self, commit: bool = True) -> Campaign:
        obj: Campaign = super().save(commit=False)
        obj.invited_categories = list(self.cleaned_data["invited_categories"])
        obj.invited_colleges = [
            line.strip()[:200]
            for line in self.cleaned_data["colleges"].splitlines()
            if line.strip()
        ][:200]
        if commit:
            obj.save()
            self.save_m2m()
        return obj


class BudgetForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=BudgetKind.choices)
    key = forms.CharField(
        label=_("Class or college"),
        max_length=120,
        help_text=_("A CLC letter (e.g. T) or a college."),
    )
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=12, decimal_places=2)

    def clean_key(self) -> str:
        key = str(self.cleaned_data["key"]).strip()
        return key.upper() if self.cleaned_data.get("kind") == BudgetKind.CLC else key


class VoteForm(forms.Form):
    title = IdField(widget=forms.HiddenInput, required=True)
    reason = forms.ChoiceField(label=_("Reason"), choices=Reason.choices, initial=Reason.TEACHING)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class BrowseForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=200, required=False)
    cls = forms.CharField(max_length=1, required=False)
    # Keyset: the page continues after this title id; `page` only numbers it for the reader.
    after = IdField()
    page = forms.IntegerField(min_value=1, max_value=100_000, required=False)


class SelectionForm(forms.Form):
    method = forms.ChoiceField(label=_("Method"), choices=Method.choices, initial=Method.EXACT)


class RecommendForm(forms.Form):
    isbn = forms.CharField(label="ISBN", max_length=40, required=False)
    title = forms.CharField(label=_("Title"), max_length=800, required=False)
    author = forms.CharField(label=_("Author"), max_length=300, required=False)
    publisher = forms.CharField(label=_("Publisher"), max_length=200, required=False)
    citation = forms.CharField(
        label=_("Or paste a citation"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    note = forms.CharField(label=_("Why the library should buy it"), max_length=500, required=False)


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("Answer to the patron"), max_length=500, required=False)


class DeliveryForm(forms.Form):
    holding = forms.IntegerField(required=False, widget=forms.HiddenInput)
    title = forms.CharField(label=_("Title"), max_length=800, required=False)
    recipient = forms.CharField(label=_("Recipient"), max_length=100)
    phone = forms.CharField(label=_("Phone"), max_length=40)
    address = forms.CharField(
        label=_("Address"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )


class ShipForm(forms.Form):
    courier = forms.CharField(label=_("Courier"), max_length=60, required=False)
    tracking_no = forms.CharField(label=_("Tracking number"), max_length=60, required=False)
