"""Exports of thesis deposit, in the request's language: the graduate school's cleared list, the
CALIS/CNKI thesis-programme sheet, and the statistics.

CALIS/CNKI sheet (docs/theses.md): one row per approved thesis whose full text may go out
(public, or its release date passed); secret and still-embargoed theses are left out.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from lifeline.core.models import Library
from lifeline.theses.choices import (
    Check,
    DegreeLevel,
    DegreeType,
    ReturnReason,
    Status,
)
from lifeline.theses.logic import disciplines
from lifeline.theses.models import Receipt, StateChange, Thesis


def cleared(library: Library, year: int | None = None) -> QuerySet[Thesis]:
    qs = Thesis.objects.filter(library=library, status=Status.APPROVED)
    if year:
        qs = qs.filter(year=year)
    return qs.order_by("college", "student_number")


def cleared_rows(library: Library, year: int | None = None) -> tuple[list[str], list[list[Any]]]:
    header = [
        _("Student number"),
        _("Name"),
        _("College"),
        _("Degree level"),
        _("Degree type"),
        _("Discipline code"),
        _("Title"),
        _("Receipt serial number"),
        _("Approved"),
    ]
    theses = list(cleared(library, year))
    serials = dict(
        Receipt.objects.filter(thesis__in=theses, revoked_at__isnull=True)
        .order_by("issued_at")
        .values_list("thesis_id", "serial")
    )
    rows = [
        [
            t.student_number,
            t.author,
            t.college,
            str(DegreeLevel(t.degree_level).label),
            str(DegreeType(t.degree_type).label),
            t.discipline_code,
            t.title,
            serials.get(t.pk, ""),
            timezone.localtime(t.approved_at).strftime("%Y-%m-%d") if t.approved_at else "",
        ]
        for t in theses
    ]
    return header, rows


CALIS_HEADER = [
    "题名",
    "英文题名",
    "作者",
    "学号",
    "学位级别",
    "学位类型",
    "学科代码",
    "学科名称",
    "导师",
    "关键词",
    "英文关键词",
    "摘要",
    "英文摘要",
    "学位授予单位",
    "院系",
    "年份",
    "密级",
    "公开日期",
    "全文文件名",
]


def calis_rows(library: Library, today: dt.date | None = None) -> tuple[list[str], list[list[Any]]]:
    """The programme sheet: the column names are the programmes' own (Chinese), fixed."""
    today = today or timezone.localdate()
    rows = []
    grantor = library.name.removesuffix("图书馆") or library.name
    for t in Thesis.objects.filter(library=library, status=Status.APPROVED).order_by(
        "college", "student_number"
    ):
        if not t.is_open(today):
            continue
        rows.append(
            [
                t.title,
                t.title_en,
                t.author,
                t.student_number,
                "博士" if t.degree_level == DegreeLevel.DOCTOR else "硕士",
                "专业学位" if t.degree_type == DegreeType.PROFESSIONAL else "学术学位",
                t.discipline_code,
                disciplines.name(t.discipline_code),
                t.supervisor,
                t.keywords,
                t.keywords_en,
                t.abstract,
                t.abstract_en,
                grantor,
                t.college,
                t.year,
                {"public": "公开", "internal": "内部", "secret": "秘密"}[t.confidentiality],
                t.release_date.isoformat() if t.release_date else "",
                f"{library.code}-{t.student_number}.pdf",
            ]
        )
    return CALIS_HEADER, rows


def stats(library: Library, year: int | None = None) -> dict[str, Any]:
    """Submissions, returns and their reasons, time to approval, per college and degree."""
    theses = Thesis.objects.filter(library=library)
    if year:
        theses = theses.filter(year=year)
    by_group: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"submitted": 0, "approved": 0, "returned": 0, "hours": []}
    )
    info = {
        t.pk: t
        for t in theses.only("pk", "college", "degree_level", "created_at", "approved_at", "status")
    }
    for t in info.values():
        g = by_group[(t.college, t.degree_level)]
        g["submitted"] += 1
        if t.status == Status.APPROVED and t.approved_at:
            g["approved"] += 1
            g["hours"].append((t.approved_at - t.created_at).total_seconds() / 3600)
    reasons: Counter[str] = Counter()
    changes = StateChange.objects.filter(
        thesis__in=list(info), new__in=[Status.RETURNED, Status.CHECKS_FAILED]
    ).values_list("thesis_id", "new", "reasons")
    for thesis_id, new, codes in changes:
        if new == Status.RETURNED:
            by_group[(info[thesis_id].college, info[thesis_id].degree_level)]["returned"] += 1
        for code in codes or []:
            reasons[code] += 1
    rows = []
    for (college, level), g in sorted(by_group.items()):
        hours = g["hours"]
        rows.append(
            {
                "college": college,
                "degree_level": str(DegreeLevel(level).label),
                "submitted": g["submitted"],
                "approved": g["approved"],
                "returned": g["returned"],
                "median_hours": round(statistics.median(hours), 1) if hours else None,
                "mean_hours": round(statistics.fmean(hours), 1) if hours else None,
            }
        )
    labels = {**dict(Check.choices), **dict(ReturnReason.choices)}
    reason_rows = [(str(labels.get(code, code)), n) for code, n in reasons.most_common()]
    return {"rows": rows, "reasons": reason_rows, "total": len(info)}


def stats_sheets(data: dict[str, Any]) -> dict[str, tuple[list[str], list[list[Any]]]]:
    header = [
        _("College"),
        _("Degree level"),
        _("Submitted"),
        _("Approved"),
        pgettext("thesis", "Returned"),
        _("Median hours to approval"),
        _("Mean hours to approval"),
    ]
    rows = [
        [
            r["college"],
            r["degree_level"],
            r["submitted"],
            r["approved"],
            r["returned"],
            r["median_hours"],
            r["mean_hours"],
        ]
        for r in data["rows"]
    ]
    return {
        str(_("By college and degree")): (header, rows),
        str(_("Reasons")): ([_("Reason"), _("Times")], [list(r) for r in data["reasons"]]),
    }
