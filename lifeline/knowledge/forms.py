from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from lifeline.knowledge.choices import ArticleLanguage, Audience


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=300)
    body = forms.CharField(
        label=_("body"),
        widget=forms.Textarea(attrs={"rows": 14}),
        max_length=200_000,
        help_text=_("HTML; scripts and styles are removed."),
    )
    language = forms.ChoiceField(label=_("language"), choices=ArticleLanguage.choices)
    audience = forms.ChoiceField(label=_("audience"), choices=Audience.choices)
    tags = forms.CharField(
        label=_("tags"), max_length=500, required=False, help_text=_("Separated by commas.")
    )
    expires_at = forms.DateTimeField(label=_("expires"), required=False)
    is_published = forms.BooleanField(label=_("published"), required=False, initial=True)

    def clean_title(self) -> str:
        return str(self.cleaned_data["title"]).replace("\x00", "").strip()

    def clean_body(self) -> str:
        return str(self.cleaned_data["body"]).replace("\x00", "")


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Question or keywords"), max_length=500, required=False)

    def clean_q(self) -> str:
        return str(self.cleaned_data["q"]).replace("\x00", " ").strip()
