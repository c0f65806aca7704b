"""Staff tools for the platform rules: how a URL is classed and by which rule, and a library's
own rules, tried on pasted URLs before they are saved (issue 19)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lifeline.analytics.logmodels import CLASS_LABELS, LogRule
from lifeline.analytics.logrules.engine import Classification
from lifeline.analytics.logrules.library import library_rule, library_ruleset
from lifeline.analytics.logrules.rules import RuleError
from lifeline.analytics.views import _back, staff_library
from lifeline.core.permissions import user_can

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
    rule_form = LogRuleForm(request.POST or None)
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
