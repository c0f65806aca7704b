from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from lifeline.emergency.choices import EventCategory, Level
from lifeline.emergency.models import Plan


class DeclareForm(forms.Form):
    plan = forms.ModelChoiceField(Plan.objects.none(), label=_("Plan"), empty_label=None)
    category = forms.ChoiceField(label=_("Event category"), choices=EventCategory.choices)
    level = forms.TypedChoiceField(
        label=_("Response level"), choices=Level.choices, coerce=int, initial=Level.II
    )
    scope = forms.CharField(
        label=_("Scope"),
        max_length=300,
        help_text=_("Who and what is affected, e.g. the whole campus."),
    )
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
    drill = forms.BooleanField(label=_("This is a drill (exercise only)"), required=False)

    def __init__(self, *args: Any, plans: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["plan"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = plans if plans is not None else Plan.objects.none()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        plan, category = data.get("plan"), data.get("category")
        if plan is not None and category and category not in plan.category_list:
            self.add_error("category", _("The plan does not cover events of this category."))
        return data


class LevelForm(forms.Form):
    level = forms.TypedChoiceField(label=_("New level"), choices=Level.choices, coerce=int)


class StandDownForm(forms.Form):
    note = forms.CharField(
        label=_("Closing note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=4000,
    )


class PlanYamlForm(forms.Form):
    text = forms.CharField(
        label=_("Plan (YAML)"),
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false"}),
        required=False,
    )
    file = forms.FileField(label=_("or upload a YAML file"), required=False)
    note = forms.CharField(label=_("Change note"), max_length=300, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("text", "").strip() and not data.get("file"):
            raise forms.ValidationError(_("Paste the plan or choose a file."))
        return data

    def content(self) -> str | bytes:
        upload = self.cleaned_data.get("file")
        return upload.read() if upload else self.cleaned_data["text"]
