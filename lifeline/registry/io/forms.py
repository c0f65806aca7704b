from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from lifeline.core.models import Library
from lifeline.registry.io.choices import ExportFormat, ImportKind


class _LibraryForm(forms.Form):
    library = forms.ChoiceField(label=_("Library"))

    def __init__(self, *args: Any, libraries: list[Library], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["library"].choices = [(lib.code, lib.display_name) for lib in libraries]  # type: ignore[attr-defined]


class ImportForm(_LibraryForm):
    file = forms.FileField(
        label=_("File"), help_text=_("CSV (UTF-8 or GBK) or XLSX, headers in Chinese or English.")
    )
    kind = forms.ChoiceField(
        label=_("The file holds"),
        required=False,
        choices=[("", _("Decide from the sheet names or headers")), *ImportKind.choices],
    )


class KbartForm(_LibraryForm):
    resource = forms.SlugField(
        label=_("Resource key"), help_text=_("The title list replaces this resource's list.")
    )
    file = forms.FileField(
        label=_("KBART file"), help_text=_("KBART phase II, tab-separated, UTF-8.")
    )


class ExportForm(_LibraryForm):
    format = forms.ChoiceField(label=_("Format"), choices=ExportFormat.choices)
    kind = forms.ChoiceField(
        label=_("Records (CSV)"), choices=ImportKind.choices, initial=ImportKind.RESOURCES
    )
