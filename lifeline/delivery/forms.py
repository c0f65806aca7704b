"""Forms of document delivery: the patron's two-step request form and the staff action forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lifeline.core.models import Library
from lifeline.delivery.choices import DocType, Status, UnfilledReason
from lifeline.delivery.models import Supplier


class CitationForm(forms.Form):
    citation = forms.CharField(
        label=_("Paste a citation, DOI, ISBN or PMID"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "张三, 李四. 题名[J]. 刊名, 2020, 12(3): 45-52."}
        ),
    )


class RequestForm(forms.Form):
    doc_type = forms.ChoiceField(
        label=_("Type"), choices=DocType.choices, initial=DocType.FOREIGN_ARTICLE
    )
    title = forms.CharField(label=_("Title"), max_length=1000)
    authors = forms.CharField(label=_("Authors"), max_length=500, required=False)
    source = forms.CharField(
        label=_("Journal, publisher or source"), max_length=500, required=False
    )
    year = forms.IntegerField(label=_("Year"), min_value=1400, max_value=2100, required=False)
    volume = forms.CharField(label=_("Volume"), max_length=40, required=False)
    issue = forms.CharField(label=_("Issue"), max_length=40, required=False)
    pages = forms.CharField(label=_("Page range"), max_length=40, required=False)
    doi = forms.CharField(label="DOI", max_length=200, required=False)
    isbn = forms.CharField(label="ISBN", max_length=20, required=False)
    issn = forms.CharField(label="ISSN", max_length=12, required=False)
    pmid = forms.CharField(label="PMID", max_length=20, required=False)
    note = forms.CharField(
        label=_("Note to the librarian"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    citation = forms.CharField(required=False, widget=forms.HiddenInput, max_length=4000)
    form_token = forms.CharField(required=False, widget=forms.HiddenInput, max_length=100)


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", pgettext_lazy("requests", "Open")), ("all", _("All")), *list(Status.choices)],
    )
    doc_type = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("All types")), *list(DocType.choices)]
    )
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)
    overdue = forms.BooleanField(label=_("Past the 24 h target"), required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=200)


class SupplierChoiceForm(forms.Form):
    supplier = forms.ModelChoiceField(label=_("Supplier"), queryset=Supplier.objects.none())

    def __init__(self, *args: Any, library: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["supplier"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Supplier.objects.filter(library=library, is_active=True)


class DeliverForm(forms.Form):
    file = forms.FileField(label=_("File"))


class UnfilledForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=UnfilledReason.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"))


class StatsForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise forms.ValidationError(_("The period ends before it starts."))
        return data


class SupplierForm(forms.ModelForm):
    """A supplier of one library (the library comes from the page, never from the form)."""

    class Meta:
        model = Supplier
        fields = ["name", "name_en", "kind", "partner", "email", "url", "is_active", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, library: Library, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.library = library
        # A partner is another library of this installation.
        partner = self.fields["partner"]
        assert isinstance(partner, forms.ModelChoiceField)
        partner.queryset = Library.objects.exclude(pk=library.pk).order_by("code")

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        # The form has no library field, so Django leaves the (library, name) constraint to us.
        taken = Supplier.objects.filter(library=self.instance.library, name=name)
        if taken.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("This library already has a supplier of that name."))
        return name
