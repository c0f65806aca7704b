from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class OtpTokenForm(forms.Form):
    token = forms.CharField(
        label=_("Six-digit code from your authenticator app"),
        max_length=8,
        min_length=6,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]*"}
        ),
    )

    def clean_token(self) -> str:
        token = "".join(self.cleaned_data["token"].split())
        if not token.isdigit():
            raise forms.ValidationError(_("The code is made of digits only."))
        return token


EXPIRY_CHOICES = [
    ("", _("Never")),
    ("30", _("30 days")),
    ("90", _("90 days")),
    ("365", _("One year")),
]


class TokenForm(forms.Form):
    name = forms.CharField(label=_("What the token is for"), max_length=100)
    expires_in = forms.ChoiceField(
        label=_("Expires"), choices=EXPIRY_CHOICES, required=False, initial="90"
    )


class MailForm(forms.Form):
    email = forms.EmailField(label=_("Your e-mail address"), max_length=254)
