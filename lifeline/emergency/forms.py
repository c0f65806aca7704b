from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

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


class MemberForm(forms.Form):
    """One member of one team: the call tree's contacts, edited without touching YAML."""

    team = forms.ChoiceField(label=_("Team"))
    name = forms.CharField(label=pgettext_lazy("person", "Name"), max_length=120)
    name_en = forms.CharField(label=_("English name"), max_length=120, required=False)
    role = forms.CharField(label=_("Role"), max_length=120, required=False)
    role_en = forms.CharField(label=_("English role"), max_length=120, required=False)
    user = forms.ChoiceField(label=_("Staff user"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=60, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    wechat = forms.CharField(label=_("WeChat"), max_length=120, required=False)
    deputy = forms.BooleanField(label=_("Deputy"), required=False)
    call_order = forms.IntegerField(label=_("Call order"), min_value=1, max_value=999)

    def __init__(self, *args: Any, teams: Any = (), usernames: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team_field = self.fields["team"]
        user_field = self.fields["user"]
        assert isinstance(team_field, forms.ChoiceField) and isinstance(
            user_field, forms.ChoiceField
        )
        team_field.choices = list(teams)
        user_field.choices = [("", "—"), *((u, u) for u in usernames)]


MemberFormSet = forms.formset_factory(MemberForm, extra=1, can_delete=True)
