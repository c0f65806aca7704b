"""Months as COUNTER writes them, and as Excel rewrites them when a librarian opens and saves a TSV.

COUNTER's tabular form heads month columns "Jan-2022". Excel turns that into "Jan-22",
"2022/1/1", "1/1/2022", a date cell or a serial number (days since 1899-12-30); WPS into
"2022年1月". All of them mean the first day of a month.
"""

from __future__ import annotations

import datetime as dt
import re

MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_NAMED = re.compile(r"^([A-Za-z]{3})[A-Za-z]*[-\s/.]+(\d{2}|\d{4})$")
_ISO = re.compile(r"^(\d{4})[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?)?月?(?:[ T]00:00(?::00)?)?$")
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
EXCEL_EPOCH = dt.date(1899, 12, 30)


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 100 else year


def parse_month(value: object) -> dt.date | None:
    """The first day of the month a header cell names, or None when it is not a month."""
    if isinstance(value, dt.datetime):
        return dt.date(value.year, value.month, 1)
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, 1)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _serial(float(value))
    text = str(value or "").strip()
    if not text:
        return None
    if m := _NAMED.match(text):
        month = MONTHS.get(m.group(1).lower())
        return dt.date(_year(m.group(2)), month, 1) if month else None
    if m := _ISO.match(text):
        month = int(m.group(2))
        return dt.date(int(m.group(1)), month, 1) if 1 <= month <= 12 else None
    if m := _US.match(text):
        # Month-first (US Excel) unless that is impossible; day 1 either way for month headers.
        first, second = int(m.group(1)), int(m.group(2))
        month = (
            first
            if first <= 12 and second == 1
            else second
            if second <= 12 and first == 1
            else first
        )
        return dt.date(int(m.group(3)), month, 1) if 1 <= month <= 12 else None
    if re.fullmatch(r"\d{5}(\.0+)?", text):
        return _serial(float(text))
    return None


def _serial(value: float) -> dt.date | None:
    # Excel serials of 1990–2100 only: a bare small number is a count, not a date.
    if not 32874 <= value <= 73415:
        return None
    day = EXCEL_EPOCH + dt.timedelta(days=int(value))
    return dt.date(day.year, day.month, 1)


def parse_day(value: object) -> dt.date | None:
    """A full date (Begin_Date / End_Date), from ISO text, a date cell or a mangled form."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        pass
    m = _ISO.match(text)
    if m and m.group(3):
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return dt.date(int(text[:4]), int(text[5:]), 1)
    return None


def month_range(first: dt.date, last: dt.date) -> list[dt.date]:
    months: list[dt.date] = []
    day = dt.date(first.year, first.month, 1)
    while day <= last:
        months.append(day)
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return months
