"""Warnings of an import: what the reader skipped, kept apart or read leniently.

A warning is stored as a code and its parameters (`{"code": ..., "params": {...}}`), not as
text, so that the import's page and the API word it in the reader's language, whichever
language the import ran in.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

Note = dict[str, Any]

TEXTS: dict[str, Promise] = {
    "skipped_metric": _(
        "%(rows)s row(s) with the metric type “%(metric)s” were skipped (%(total)s in all): not a "
        "COUNTER metric type (a vendor's own metric or a summary row). Lines or places: "
        "%(where)s."
    ),
    "denials_apart": _(
        "%(rows)s row(s) of %(metric)s (%(total)s in all) are not a metric type of %(report)s; "
        "they were kept apart as denials, not added to the usage."
    ),
    "repeated_summed": _(
        "%(rows)s row(s) repeat the item, attributes and metric type of an earlier row with "
        "other counts; they were added together (a report without an attribute column totals "
        "over it). Lines: %(where)s."
    ),
    "duplicate_lines": _(
        "%(rows)s line(s) repeat an earlier line cell for cell; each was counted once. Lines: "
        "%(where)s."
    ),
    "empty_total": _(
        "Reporting_Period_Total is empty on %(rows)s row(s); the sum of their months was used. "
        "Lines: %(where)s."
    ),
    "end_inferred": _(
        "The header gives no End_Date; the reporting period was taken to end %(end)s, the last "
        "month the report has."
    ),
    "extra_columns": _(
        "%(report)s does not have the column(s) %(columns)s; they were ignored and the counts "
        "added up over them."
    ),
    "other_sheets": _(
        "The workbook has other sheets that were not read: %(sheets)s. The report was read from "
        "the sheet “%(sheet)s”."
    ),
    "empty_without_3030": _(
        "The report has no usage rows, but the vendor did not send exception 3030 (no usage): "
        "check with the vendor that the usage really is nil."
    ),
}


def note(code: str, **params: Any) -> Note:
    return {"code": code, "params": params}


def where(places: list[Any], limit: int = 10) -> str:
    shown = ", ".join(str(p) for p in places[:limit])
    return shown + (f" … (+{len(places) - limit})" if len(places) > limit else "")


def render(item: Note) -> str:
    """The warning in the active language (an unknown code shows its parameters)."""
    text = TEXTS.get(str(item.get("code", "")))
    params = item.get("params") or {}
    if text is None:
        return f"{item.get('code')}: {params}"
    try:
        return str(text) % params
    except (KeyError, TypeError, ValueError):
        return f"{item.get('code')}: {params}"


def exception_line(exc: dict[str, Any]) -> str:
    """A COUNTER exception as the vendor wrote it: code, severity, message, data."""
    parts = [str(exc.get(k, "")).strip() for k in ("Code", "Severity", "Message", "Data")]
    return " · ".join(p for p in parts if p and p != "None")
