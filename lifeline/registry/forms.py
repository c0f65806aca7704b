from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from lifeline.core.models import Library
from lifeline.registry.choices import ContentType, Language
from lifeline.registry.models import Category
from lifeline.registry.patron import LETTERS, Filters


class AzFilterForm(forms.Form):
    """The A–Z filters. The UI language switch owns `lang`: the resource language is `language`."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100, strip=True)
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("All languages")), *Language.choices]
    )
    category = forms.TypedChoiceField(
        label=_("Category"), required=False, coerce=int, empty_value=None
    )
    type = forms.ChoiceField(
        label=_("Content type"),
        required=False,
        choices=[("", _("All content types")), *ContentType.choices],
    )
    home = forms.BooleanField(label=_("Works from home"), required=False)
    letter = forms.ChoiceField(
        label=_("Letter"), required=False, choices=[("", ""), *((c, c) for c in LETTERS)]
    )

    def __init__(self, *args: Any, library: Library, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups: dict[str, list[tuple[int, str]]] = {code: [] for code in Language.values}
        for cat in Category.objects.filter(library=library).order_by(
            "language", "position", "name"
        ):
            groups.setdefault(cat.language, []).append((cat.pk, str(cat)))
        labels = dict(Language.choices)
        category_field: forms.TypedChoiceField = self.fields["category"]  # type: ignore[assignment]
        category_field.choices = [("", _("All categories"))] + [
            (labels.get(code, code), options) for code, options in groups.items() if options
        ]
        self.fields["q"].widget.attrs.update(
            {"type": "search", "placeholder": _("Name or description"), "enterkeyhint": "search"}
        )

    def filters(self) -> Filters:
        """The valid filters; an invalid one is dropped (and reported by the page), not fatal."""
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        return Filters(
            query=data.get("q") or "",
            language=data.get("language") or "",
            category=data.get("category"),
            content_type=data.get("type") or "",
            from_home=bool(data.get("home")),
            letter=data.get("letter") or "",
        )

    def error_messages(self) -> list[str]:
        """One line per bad parameter, naming it and its value."""
        lines = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else name
            value = self.data.get(name, "")
            for error in errors:
                lines.append(
                    _("%(field)s “%(value)s”: %(error)s")
                    % {"field": label, "value": value, "error": error}
                )
        return lines
