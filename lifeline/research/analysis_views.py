"""Pages of subject analysis and decision support (part 4 of issue 13) and the IP record entry.

The analysis page shows the university and chosen peers side by side from the imported records,
with charts (server-side SVG), the ESI standing in the 22 fields, an XLSX and a PDF for the
leadership; the definitions are stated on the page. "Save as a report" keeps the figures of the
day as an `AnalysisReport` (what the service report counts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from lifeline.core.access import library_for
from lifeline.core.charts import bar_chart, line_chart
from lifeline.core.models import Library
from lifeline.core.spreadsheets import xlsx_bytes
from lifeline.core.typing import AuthedRequest
from lifeline.core.uploads import read_upload
from lifeline.research.choices import AnalysisKind, IpKind
from lifeline.research.forms import IpRecordForm
from lifeline.research.logic import esi, subject
from lifeline.research.logic.analysis_pdf import definitions
from lifeline.research.logic.records import ParseError
from lifeline.research.models import AnalysisReport, IpRecord

CHANGE = "research.change"
MAX_PEERS = 5
MIN_PEER, MAX_PEER = 3, 200  # characters of a peer's name
ESI_MAX_BYTES = 20 * 2**20


class AnalysisForm(forms.Form):
    peers = forms.CharField(
        label=gettext_lazy("Peer institutions"),
        required=False,
        max_length=MAX_PEERS * (MAX_PEER + 2),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "One per line, as the addresses write it (e.g. Oregon State Univ, 北京林业大学)."
        ),
    )
    year_from = forms.IntegerField(
        label=gettext_lazy("from year"), min_value=1900, max_value=2100, required=False
    )
    year_to = forms.IntegerField(
        label=gettext_lazy("to year"), min_value=1900, max_value=2100, required=False
    )

    def clean_peers(self) -> list[str]:
        """The names, one a line, told apart clearly when they cannot be looked for (they were
        dropped or cut without a word)."""
        lines = [ln.strip() for ln in (self.cleaned_data.get("peers") or "").splitlines()]
        names = list(dict.fromkeys(ln for ln in lines if ln))
        short = [n for n in names if len(n) < MIN_PEER]
        if short:
            raise ValidationError(
                _("“%(name)s” is too short: a peer's name needs at least %(n)d characters.")
                % {"name": short[0], "n": MIN_PEER}
            )
        if any(len(n) > MAX_PEER for n in names):
            raise ValidationError(
                _("A peer's name may have at most %(n)d characters.") % {"n": MAX_PEER}
            )
        if len(names) > MAX_PEERS:
            raise ValidationError(
                _("At most %(n)d peers can be compared at once.") % {"n": MAX_PEERS}
            )
        return names

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("year_from"), data.get("year_to")
        if first is not None and last is not None and first > last:
            self.add_error("year_to", _("The last year is before the first year."))
        return data

    def peer_names(self) -> list[str]:
        return list(self.cleaned_data.get("peers") or [])


@dataclass
class Analysis:
    ours: subject.UnitFigures
    peers: list[subject.UnitFigures]
    edition: str
    standing: list[subject.Standing]
    year_from: int | None
    year_to: int | None


def _analyse(library: Library, data: Any) -> tuple[AnalysisForm, Analysis]:
    form = AnalysisForm(data or None)
    valid = form.is_valid() if data else False
    peers = form.peer_names() if valid else []
    year_from = form.cleaned_data.get("year_from") if valid else None
    year_to = form.cleaned_data.get("year_to") if valid else None
    ours = subject.figures(library, "", year_from, year_to)
    ours.name = library.name
    others = [subject.figures(library, p, year_from, year_to) for p in peers]
    edition, standing = subject.esi_standing(library, ours)
    return form, Analysis(ours, others, edition, standing, year_from, year_to)


def _charts(a: Analysis) -> dict[str, str]:
    years = sorted({y for u in (a.ours, *a.peers) for y in u.per_year})
    labels = [str(y) for y in years]
    out = {
        "per_year": line_chart(
            labels,
            {u.name: [u.per_year.get(y, 0) for y in years] for u in (a.ours, *a.peers)},
            title=_("Papers per year"),
        )
        if years
        else "",
        "per_field": bar_chart(
            list(a.ours.per_field), list(a.ours.per_field.values()), title=_("Papers per ESI field")
        )
        if a.ours.per_field
        else "",
        "per_college": bar_chart(
            list(a.ours.per_college)[:15],
            list(a.ours.per_college.values())[:15],
            title=_("Papers per college"),
        )
        if a.ours.per_college
        else "",
    }
    rated = [s for s in a.standing if s.share is not None]
    out["esi"] = (
        bar_chart(
            [s.field for s in rated],
            [min(s.share or 0, 200) for s in rated],
            title=_("Citations as a share of the ESI threshold"),
            unit="%",
        )
        if rated
        else ""
    )
    return out


@login_required
def analysis(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, "view")
    form, result = _analyse(lib, request.GET)
    return _page(request, lib, form, result)


def _page(
    request: AuthedRequest, lib: Library, form: AnalysisForm, result: Analysis, status: int = 200
) -> HttpResponse:
    """The analysis page; with the form's errors (and the university's figures alone) when the
    parameters cannot be used, also in answer to an XLSX or PDF asked with them (400)."""
    return render(
        request,
        "research/analysis.html",
        {
            "library": lib,
            "form": form,
            "a": result,
            "units": [result.ours, *result.peers],
            "definitions": definitions(),
            "charts": _charts(result),
            "query": request.GET.urlencode(),
            "kinds": AnalysisKind.choices,
        },
        status=status,
    )


def _sheets(a: Analysis) -> dict[str, tuple[list[str], list[list[Any]]]]:
    units = [a.ours, *a.peers]
    years = sorted({y for u in units for y in u.per_year})
    return {
        _("Summary"): (
            [
                _("Institution"),
                _("Papers"),
                _("Times cited"),
                _("Citations per paper"),
                "h-index",
                _("Highly cited papers"),
                _("Top-journal papers (JCR Q1)"),
            ],
            [
                [
                    u.name,
                    u.papers,
                    u.citations,
                    u.cites_per_paper,
                    u.h_index,
                    u.highly_cited,
                    u.top_journal,
                ]
                for u in units
            ],
        ),
        _("Papers per year"): (
            [_("Year"), *[u.name for u in units]],
            [[y, *[u.per_year.get(y, 0) for u in units]] for y in years],
        ),
        _("ESI fields"): (
            [
                _("ESI field"),
                _("Papers"),
                _("Times cited"),
                _("Threshold"),
                _("Share of the threshold"),
                _("Citations still missing"),
            ],
            [[s.field, s.papers, s.citations, s.threshold, s.share, s.gap] for s in a.standing],
        ),
        _("Colleges"): (
            [_("College"), _("Papers"), "h-index"],
            [[k, v, a.ours.college_h.get(k, 0)] for k, v in a.ours.per_college.items()],
        ),
        _("Top authors"): (
            [pgettext("bibliometrics", "Author"), _("Papers"), "h-index"],
            [list(t) for t in a.ours.top_authors],
        ),
        _("Collaborations"): (
            [_("Country"), _("Papers"), _("Institution"), _("Papers")],
            [
                [
                    *(a.ours.countries[i] if i < len(a.ours.countries) else ("", "")),
                    *(a.ours.partners[i] if i < len(a.ours.partners) else ("", "")),
                ]
                for i in range(max(len(a.ours.countries), len(a.ours.partners)))
            ],
        ),
    }


@login_required
def analysis_xlsx(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, "view")
    form, result = _analyse(lib, request.GET)
    if form.errors:
        return _page(request, lib, form, result, status=400)
    response = HttpResponse(
        xlsx_bytes(_sheets(result)),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{lib.code}-analysis-{timezone.localdate():%Y%m%d}.xlsx"'
    )
    return response


@login_required
def analysis_pdf(request: AuthedRequest, library: str) -> HttpResponse:
    from lifeline.research.logic.analysis_pdf import analysis_pdf as build

    lib = library_for(request, library, "view")
    form, result = _analyse(lib, request.GET)
    if form.errors:
        return _page(request, lib, form, result, status=400)
    response = HttpResponse(
        build(lib, result, _sheets(result), _("Subject analysis report")),
        content_type="application/pdf",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{lib.code}-analysis-{timezone.localdate():%Y%m%d}.pdf"'
    )
    return response


class ReportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("kind"), choices=AnalysisKind.choices)
    title = forms.CharField(label=gettext_lazy("title"), max_length=300)
    unit = forms.CharField(label=gettext_lazy("for"), max_length=200)


@login_required
def reports(request: AuthedRequest, library: str) -> HttpResponse:
    """Analysis reports given to units; a POST keeps today's figures as a new one."""
    lib = library_for(request, library, "view", write=CHANGE)
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        analysed, result = _analyse(lib, request.GET)
        if analysed.errors:  # the figures would not be the ones asked for
            messages.error(request, _("The analysis's parameters have errors: nothing saved."))
            return _page(request, lib, analysed, result, status=400)
        year = timezone.localdate().year
        AnalysisReport.objects.create(
            library=lib,
            kind=form.cleaned_data["kind"],
            title=form.cleaned_data["title"],
            unit=form.cleaned_data["unit"],
            year_from=result.year_from or min(result.ours.per_year, default=year),
            year_to=result.year_to or max(result.ours.per_year, default=year),
            content={
                "ours": subject.as_dict(result.ours),
                "peers": [subject.as_dict(p) for p in result.peers],
                "esi_edition": result.edition,
            },
            created_by=request.user,
        )
        messages.success(request, _("Saved."))
        return redirect("research:analysis_reports", library=lib.code)
    rows = AnalysisReport.objects.filter(library=lib).select_related("created_by")[:200]
    return render(
        request, "research/analysis_reports.html", {"library": lib, "form": form, "rows": rows}
    )


class EsiForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("ESI export (CSV)"))
    edition = forms.CharField(
        label=gettext_lazy("ESI edition"),
        max_length=40,
        required=False,
        help_text=gettext_lazy("e.g. 2020-11 (needed for thresholds and baselines)."),
    )


@login_required
def esi_import(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, CHANGE)
    form = EsiForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            _checked, data = read_upload(
                form.cleaned_data["file"], ("csv", "txt"), max_bytes=ESI_MAX_BYTES
            )
            kind, n = esi.import_esi(lib, form.cleaned_data["edition"], data)
        except ValidationError as exc:
            form.add_error("file", exc)
        except ParseError as exc:
            form.add_error("file", str(exc))
        else:
            labels = {
                "thresholds": _("citation thresholds"),
                "baselines": _("percentile baselines"),
                "journals": _("journal list"),
            }
            messages.success(
                request, _("%(n)d rows imported (%(kind)s).") % {"n": n, "kind": labels[kind]}
            )
            return redirect("research:esi_import", library=lib.code)
    return render(request, "research/esi_import.html", {"library": lib, "form": form})


@login_required
def ip_records(request: AuthedRequest, library: str) -> HttpResponse:
    """IP services given (TISC): enter one, see the year's totals per kind."""
    lib = library_for(request, library, "view", write=CHANGE)
    form = IpRecordForm(request.POST or None, initial={"date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        row = form.save(commit=False)
        row.library = lib
        row.save()
        messages.success(request, _("Saved."))
        return redirect("research:ip", library=lib.code)
    year = timezone.localdate().year
    mine = IpRecord.objects.filter(library=lib)
    totals = {
        kind.label: sum(
            mine.filter(kind=kind, date__gte=dt.date(year, 1, 1)).values_list("count", flat=True)
        )
        for kind in IpKind
    }
    return render(
        request,
        "research/ip.html",
        {"library": lib, "form": form, "rows": mine[:100], "totals": totals, "year": year},
    )
