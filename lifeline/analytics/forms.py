from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from lifeline.analytics.models import ExchangeRate, UsageSource
from lifeline.core import outbound
from lifeline.core.uploads import check_text_upload
from lifeline.registry.models import Resource


class CounterUploadForm(forms.Form):
    file = forms.FileField(
        label=_("COUNTER report"), help_text=_("JSON, TSV, CSV or XLSX; Release 5.0 or 5.1.")
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > settings.LIFELINE_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than the upload limit."))
        return upload


class SourceMappingForm(forms.ModelForm):
    class Meta:
        model = UsageSource
        fields = ["resource"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["resource"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Resource.objects.filter(library=self.instance.library_id)
        field.required = False


class SushiCredentialForm(forms.ModelForm):
    api_key = forms.CharField(
        label=_("API key"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the stored key."),
    )

    class Meta:
        from lifeline.analytics.models import SushiCredential

        model = SushiCredential
        fields = [
            "name",
            "vendor",
            "base_url",
            "release",
            "customer_id",
            "requestor_id",
            "api_key",
            "platform",
            "reports",
            "is_active",
            "timeout_seconds",
        ]

    def __init__(self, *args: Any, library: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from lifeline.registry.models import Vendor

        vendor = self.fields["vendor"]
        assert isinstance(vendor, forms.ModelChoiceField)
        vendor.queryset = Vendor.objects.filter(library=library)
        self._stored_key = self.instance.api_key if self.instance.pk else ""

    def clean_base_url(self) -> str:
        """Refused at once when it points inside our network (issue 21: SUSHI as a port scanner);
        the harvest checks again at every fetch, so a name that changes later is caught too."""
        url: str = self.cleaned_data["base_url"]
        try:
            outbound.check_target(url, allow_internal=self.instance.allow_internal)
        except outbound.OutboundRefused as exc:
            raise forms.ValidationError(str(exc), code="internal") from exc
        except outbound.OutboundFailed:
            # A vendor name that does not resolve today (DNS trouble, a host not live yet) is kept:
            # nothing is reached, and every harvest runs check_target again and reports it.
            return url
        return url

    def clean_reports(self) -> str:
        from lifeline.analytics.counter.spec import REPORT_CODES

        codes = [c.strip().upper() for c in self.cleaned_data["reports"].split(",") if c.strip()]
        unknown = [c for c in codes if c not in REPORT_CODES]
        if unknown or not codes:
            raise forms.ValidationError(
                _("Unknown report IDs: %(codes)s (use %(known)s).")
                % {"codes": ", ".join(unknown) or "∅", "known": ", ".join(REPORT_CODES)}
            )
        return ",".join(codes)

    def clean_api_key(self) -> str:
        return self.cleaned_data.get("api_key") or self._stored_key


class HarvestForm(forms.Form):
    report = forms.ChoiceField(label=_("Report"))
    begin = forms.DateField(label=_("From month"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To month"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from lifeline.analytics.counter.spec import REPORT_CODES

        report = self.fields["report"]
        assert isinstance(report, forms.ChoiceField)
        report.choices = [(c, c) for c in REPORT_CODES]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("begin") and data.get("end") and data["end"] < data["begin"]:
            raise forms.ValidationError(_("The period ends before it begins."))
        return data


class LogUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Access log"), help_text=_("EZproxy or Apache combined / common log, plain or .gz.")
    )
    append = forms.BooleanField(
        label=_("Add to the same days (a second proxy server)"), required=False
    )

    def clean_file(self) -> Any:
        # Text or gzipped text only: sniffed, not trusted from the name (issue 21).
        upload = self.cleaned_data["file"]
        check_text_upload(upload)
        return upload


class RenewalForm(forms.Form):
    cut = forms.FloatField(label=_("Budget cut (%)"), min_value=0, max_value=100, initial=20)
    start = forms.DateField(label=_("Use from"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Use to"), widget=forms.DateInput(attrs={"type": "date"}))
    denial_weight = forms.FloatField(
        label=_("Weight of a turnaway"),
        min_value=0,
        max_value=10,
        initial=0.5,
        help_text=_("A refused access (No_License, Limit_Exceeded) counts as this share of a use."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise forms.ValidationError(_("The period ends before it begins."))
        return data


class ExchangeRateForm(forms.ModelForm):
    class Meta:
        model = ExchangeRate
        fields = ["currency", "valid_from", "cny_per_unit"]
        widgets = {"valid_from": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args: Any, library: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.library = library
        # CNY is the base: its rate is 1 by definition.
        currency = self.fields["currency"]
        assert isinstance(currency, forms.ChoiceField)
        choices = cast(list[tuple[str, str]], currency.choices)
        currency.choices = [c for c in choices if c[0] != "CNY"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("currency")
            and data.get("valid_from")
            and ExchangeRate.objects.filter(
                library=self.instance.library,
                currency=data["currency"],
                valid_from=data["valid_from"],
            ).exists()
        ):
            raise forms.ValidationError(_("There is already a rate for this currency and day."))
        return data
