"""Staff tools for the platform rules: how a URL is classed and by which rule, and a library's
own rules, tried on pasted URLs before they are saved (issue 19)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lifeline.analytics.logcompare import Comparison, compare
from lifeline.analytics.logmodels import CLASS_LABELS, LogRule
from lifeline.analytics.logrules.engine import Classification
from lifeline.analytics.logrules.library import library_rule, library_ruleset
from lifeline.analytics.logrules.rules import RuleError
from lifeline.analytics.views import _back, staff_library
from lifeline.core.models import Library
from lifeline.core.permissions import user_can
from lifeline.core.spreadsheets import xlsx_bytes
from lifeline.registry.models import Resource

MAX_URLS = 50
MAX_URL_CHARS = 10_000


class ClassifyForm(forms.Form):
    urls = forms.CharField(
        label=gettext_lazy("URLs, one per line"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=MAX_URLS * MAX_URL_CHARS,
    )


class LogRuleForm(forms.ModelForm):
    class Meta:
        model = LogRule
        fields = ["host", "pattern", "cls", "unit_kind", "data_type", "access", "note"]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            library_rule(
                str(data.get("host", "")),
                str(data.get("pattern", "")),
                str(data.get("cls", "")),
                unit_kind=str(data.get("unit_kind") or ""),
                data_type=str(data.get("data_type") or ""),
                access=str(data.get("access") or "controlled"),
            )
        except RuleError as exc:
            raise forms.ValidationError(
                _("This rule cannot be used: %(error)s"), params={"error": str(exc)}
            ) from exc
        data["host"] = str(data["host"]).strip().lower().rstrip(".")
        return data


def _urls(text: str) -> list[str]:
    return [u.strip()[:MAX_URL_CHARS] for u in text.splitlines() if u.strip()][:MAX_URLS]


@login_required
def log_rules(request: HttpRequest) -> HttpResponse:
    library = staff_library(request)
    can_change = user_can(request.user, library, "analytics.change")
    classify = ClassifyForm(request.GET if "urls" in request.GET else None)
    results: list[Classification] = []
    if classify.is_bound and classify.is_valid():
        rules = library_ruleset(library)
        results = [rules.classify(u) for u in _urls(classify.cleaned_data["urls"])]
    rule_form = LogRuleForm(
        request.POST or None, initial={"host": request.GET.get("host", "")[:253]}
    )
    tried: list[tuple[Classification, Classification]] = []
    status = 200
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if rule_form.is_valid():
            data = rule_form.cleaned_data
            candidate = library_rule(
                data["host"],
                data["pattern"],
                data["cls"],
                unit_kind=data["unit_kind"] or "",
                data_type=data["data_type"] or "",
                access=data["access"] or "controlled",
                number=0,
            )
            before = library_ruleset(library)
            after = library_ruleset(library, extra=[candidate])
            for url in _urls(request.POST.get("test_urls", "")):
                tried.append((before.classify(url), after.classify(url)))
            if "save" in request.POST:
                rule = rule_form.save(commit=False)
                rule.library = library
                rule.created_by = request.user
                rule.position = LogRule.objects.filter(library=library).count()
                rule.save()
                return redirect(_back("analytics:log_rules", library))
        else:
            status = 400
    return render(
        request,
        "analytics/log_rules.html",
        {
            "library": library,
            "can_change": can_change,
            "classify": classify,
            "results": results,
            "rule_form": rule_form,
            "tried": tried,
            "test_urls": request.POST.get("test_urls", "")[: MAX_URLS * MAX_URL_CHARS],
            "rules": LogRule.objects.filter(library=library),
            "labels": CLASS_LABELS,
        },
        status=status,
    )


@login_required
def log_rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(LogRule.objects.restrict(request.user, "analytics.change"), pk=pk)
    if request.method != "POST":
        raise PermissionDenied
    library = rule.library
    rule.delete()
    return redirect(_back("analytics:log_rules", library))


class CompareForm(forms.Form):
    resource = forms.ModelChoiceField(
        queryset=Resource.objects.none(), label=gettext_lazy("Resource")
    )
    month = forms.DateField(
        label=gettext_lazy("Month"),
        input_formats=["%Y-%m"],
        widget=forms.DateInput(format="%Y-%m", attrs={"type": "month"}),
    )

    def __init__(self, *args: Any, library: Library, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["resource"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Resource.objects.filter(library=library).order_by("name")


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:+.1f} %"


@login_required
def log_compare(request: HttpRequest) -> HttpResponse:
    library = staff_library(request)
    form = CompareForm(request.GET if "month" in request.GET else None, library=library)
    result: Comparison | None = None
    if form.is_bound and form.is_valid():
        result = compare(library, form.cleaned_data["resource"], form.cleaned_data["month"])
        if request.GET.get("format") == "xlsx":
            header = [
                _("Title"),
                _("Identifier"),
                _("COUNTER full-text requests"),
                _("Full-text requests in the logs"),
                _("Difference"),
                _("COUNTER unique item requests"),
                _("Unique item requests in the logs"),
                _("Difference"),
            ]
            rows: list[list[object]] = [
                [
                    r.title,
                    r.identifier,
                    r.counter_requests,
                    r.log_requests,
                    _pct(r.difference),
                    r.counter_unique,
                    r.log_unique,
                    _pct(r.unique_difference),
                ]
                for r in result.rows
            ]
            rows.append(
                [
                    _("Total"),
                    "",
                    result.counter_total,
                    result.log_total,
                    _pct(result.difference),
                    result.counter_unique,
                    result.log_unique,
                    _pct(result.unique_difference),
                ]
            )
            response = HttpResponse(
                xlsx_bytes({_("Logs and COUNTER"): (header, rows)}),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            response["Content-Disposition"] = (
                f'attachment; filename="logs-counter-{result.month:%Y-%m}.xlsx"'
            )
            return response
    return render(
        request,
        "analytics/log_compare.html",
        {
            "library": library,
            "form": form,
            "result": result,
            "query": request.GET.urlencode(),
        },
        status=400 if form.errors else 200,
    )
