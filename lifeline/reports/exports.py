"""The report as XLSX (lifeline.core.spreadsheets) and as a Word document (python-docx), in the
language of the request."""

from __future__ import annotations

import io
from typing import Any

from django.utils.translation import gettext as _

from lifeline.core.spreadsheets import xlsx_bytes
from lifeline.reports.services import Figure, Report

NO_DATA = "—"


def _v(value: int | float | None) -> Any:
    return NO_DATA if value is None else value


def table1_rows(report: Report) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for row in report.table1:
        if not row.figures:
            rows.append([row.title, NO_DATA, NO_DATA, NO_DATA, "", _("no data")])
        for f in row.figures:
            rows.append([row.title, f.title, _v(f.figure), _v(f.before), f.unit, f.how_counted])
    return rows


def table2_rows(report: Report) -> list[list[Any]]:
    rows: list[list[Any]] = [
        [r.channel, r.requested, r.supplied, _v(r.requested_before), _v(r.supplied_before)]
        for r in report.table2
    ]
    if len(report.table2) > 1:
        before_req = [r.requested_before for r in report.table2 if r.requested_before is not None]
        before_sup = [r.supplied_before for r in report.table2 if r.supplied_before is not None]
        rows.append(
            [
                _("Total"),
                sum(r.requested for r in report.table2),
                sum(r.supplied for r in report.table2),
                sum(before_req) if before_req else NO_DATA,
                sum(before_sup) if before_sup else NO_DATA,
            ]
        )
    return rows


def table3_rows(report: Report) -> list[list[Any]]:
    return [[f.label, _v(f.figure), _v(f.before), f.how_counted] for f in report.table3]


def headers() -> tuple[list[str], list[str], list[str]]:
    year = _("a year earlier")
    return (
        [_("Service type"), _("Figure"), _("This period"), year, _("Unit"), _("How counted")],
        [
            _("Channel"),
            _("Requested"),
            _("Supplied"),
            f"{_('Requested')} ({year})",
            f"{_('Supplied')} ({year})",
        ],
        [_("Platform"), _("Full-text downloads"), year, _("How counted")],
    )


def xlsx(report: Report) -> bytes:
    h1, h2, h3 = headers()
    return xlsx_bytes(
        {
            _("Table 1 Services"): (h1, table1_rows(report)),
            _("Table 2 Delivery"): (h2, table2_rows(report)),
            _("Table 3 Platforms"): (h3, table3_rows(report)),
            _("Narrative summary"): (
                [_("Narrative summary")],
                [[line] for line in report.narrative.splitlines()],
            ),
        }
    )


def title(report: Report) -> str:
    return _("%(library)s service report, %(start)s to %(end)s") % {
        "library": str(report.library),
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
    }


def docx(report: Report) -> bytes:
    from docx import Document

    doc = Document()
    doc.add_heading(title(report), level=1)
    doc.add_paragraph(
        _("Figures a year earlier: %(start)s to %(end)s.")
        % {"start": report.before_start.isoformat(), "end": report.before_end.isoformat()}
    )
    doc.add_heading(_("Narrative summary"), level=2)
    for line in report.narrative.splitlines():
        doc.add_paragraph(line)
    h1, h2, h3 = headers()
    for caption, header, rows in (
        (_("Table 1 Services and figures"), h1, table1_rows(report)),
        (_("Table 2 Document delivery requested and supplied"), h2, table2_rows(report)),
        (_("Table 3 Full-text downloads per platform"), h3, table3_rows(report)),
    ):
        doc.add_heading(caption, level=2)
        table = doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, header, strict=True):
            cell.text = str(text)
        for row in rows:
            cells = table.add_row().cells
            for cell, value in zip(cells, row, strict=True):
                cell.text = str(value)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


__all__ = ["Figure", "docx", "title", "xlsx"]
