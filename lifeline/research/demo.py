"""Demo data of research services for the seed library (NEFU): the seed's figures for the
epidemic year 2020 (section 3.3.5 and table 1), loaded as anonymised past rows and read back
through the app's own counting functions.

- 5,426 retrieval reports issued in the epidemic period (citation/inclusion and novelty reports
  together in the seed, which does not split them; loaded here as issued citation reports,
  February to December 2020; the service report shows them under "citation and novelty
  reports"). They are history rows without signed content: they count, but
  they are not verifiable reports.
- IP services: 552 patent applications assisted, official fees paid for 312 people, 4 training
  sessions before the patent attorney exam.
- Decision support (3.3.8, table 1): six analysis reports for the university's offices in 2020;
  the seed names three of them (the titles below); the other three are listed as "analysis report"
  for a unit, since the seed gives only their number.

Idempotent: the rows are keyed on their serial prefix and dates and rewritten only when the count
is not the expected one.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from lifeline.core.models import Library
from lifeline.research.choices import AnalysisKind, IpKind, Purpose, Status
from lifeline.research.models import AnalysisReport, IpRecord, VerificationRequest

REPORTS_2020 = 5_426
IP_2020 = {IpKind.APPLICATION: 552, IpKind.FEE: 312, IpKind.TRAINING: 4}
PREFIX = "CR2020-"
ANALYSES_2020 = [
    (AnalysisKind.OUTPUT, "东北林业大学对标国外高校科研产出分析报告", "“双一流”学科建设办公室"),
    (AnalysisKind.SUBJECT, "国内主要农林高校ESI学科数据分析报告", "“双一流”学科建设办公室"),
    (AnalysisKind.OUTPUT, "科研考核与奖励分析报告", "科学技术研究院"),
    (AnalysisKind.SUBJECT, "学科分析报告（林学）", "林学院"),
    (AnalysisKind.SUBJECT, "学科分析报告（林业工程）", "材料科学与工程学院"),
    (AnalysisKind.OUTPUT, "迎评促建科研产出分析报告", "发展规划处"),
]
START = dt.date(2020, 2, 1)
DAYS = (dt.date(2020, 12, 31) - START).days + 1


def _at(i: int, total: int) -> dt.datetime:
    day = START + dt.timedelta(days=i * DAYS // total)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


def load(library: Library, today: dt.date) -> None:
    old = VerificationRequest.objects.filter(library=library, serial__startswith=PREFIX)
    if old.count() != REPORTS_2020:
        old.delete()
        purposes = [Purpose.PROMOTION, Purpose.AWARD, Purpose.GRADUATION]
        VerificationRequest.objects.bulk_create(
            [
                VerificationRequest(
                    library=library,
                    patron_name="",
                    purpose=purposes[i % 3],
                    databases=["wos"],
                    papers_text="",
                    status=Status.ISSUED,
                    serial=f"{PREFIX}{i + 1:05d}",
                    created_at=_at(i, REPORTS_2020),
                    issued_at=_at(i, REPORTS_2020),
                )
                for i in range(REPORTS_2020)
            ],
            batch_size=500,
        )
    for kind, total in IP_2020.items():
        rows = IpRecord.objects.filter(library=library, kind=kind, date__year=2020)
        if rows.count() != total:
            rows.delete()
            IpRecord.objects.bulk_create(
                [
                    IpRecord(library=library, kind=kind, date=_at(i, total).date(), note="2020")
                    for i in range(total)
                ]
            )
    made = AnalysisReport.objects.filter(library=library, created_at__year=2020, year_to=2019)
    if made.count() != len(ANALYSES_2020):
        made.delete()
        for i, (analysis, title, unit) in enumerate(ANALYSES_2020):
            AnalysisReport.objects.create(
                library=library,
                kind=analysis,
                title=title,
                unit=unit,
                year_from=2015,
                year_to=2019,
                created_at=_at(i, len(ANALYSES_2020)),
            )
