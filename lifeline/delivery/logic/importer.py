"""Bulk import of past requests (CSV or XLSX; UTF-8 or GBK) so that a library's history counts.

All or nothing: every line is checked first and every problem reported with its line and column;
only a clean file is written, in one transaction. Safe to re-run: lines are keyed on `external_id`,
a second run updates the same requests instead of adding them again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from lifeline.core import audit
from lifeline.core.choices import AuditAction
from lifeline.core.models import Library
from lifeline.delivery.choices import DocType, Status, SupplierKind, UnfilledReason
from lifeline.delivery.logic.hours import service_hours_between
from lifeline.delivery.models import DeliveryRequest, Supplier

MAX_ROWS = 500_000
# Column names accepted, English or Chinese → field.
HEADERS = {
    "external_id": "external_id",
    "id": "external_id",
    "编号": "external_id",
    "请求号": "external_id",
    "submitted": "created_at",
    "created_at": "created_at",
    "date": "created_at",
    "提交时间": "created_at",
    "日期": "created_at",
    "delivered": "closed_at",
    "closed_at": "closed_at",
    "完成时间": "closed_at",
    "提供时间": "closed_at",
    "title": "title",
    "题名": "title",
    "标题": "title",
    "authors": "authors",
    "author": "authors",
    "作者": "authors",
    "source": "source",
    "journal": "source",
    "刊名": "source",
    "出处": "source",
    "year": "year",
    "年份": "year",
    "volume": "volume",
    "卷": "volume",
    "issue": "issue",
    "期": "issue",
    "pages": "pages",
    "页码": "pages",
    "doi": "doi",
    "isbn": "isbn",
    "issn": "issn",
    "pmid": "pmid",
    "type": "doc_type",
    "doc_type": "doc_type",
    "类型": "doc_type",
    "文献类型": "doc_type",
    "status": "status",
    "状态": "status",
    "result": "status",
    "结果": "status",
    "channel": "channel",
    "渠道": "channel",
    "服务群": "channel",
    "supplier": "supplier",
    "供应方": "supplier",
    "来源库": "supplier",
    "reason": "unfilled_reason",
    "未满足原因": "unfilled_reason",
    "patron": "patron_name",
    "读者": "patron_name",
    "email": "patron_email",
    "邮箱": "patron_email",
}
REQUIRED = ("external_id", "created_at", "title", "status")
STATUS_WORDS = {
    "delivered": Status.DELIVERED,
    "supplied": Status.DELIVERED,
    "已提供": Status.DELIVERED,
    "提供": Status.DELIVERED,
    "满足": Status.DELIVERED,
    "unfilled": Status.UNFILLED,
    "未满足": Status.UNFILLED,
    "未提供": Status.UNFILLED,
    "cancelled": Status.CANCELLED,
    "canceled": Status.CANCELLED,
    "取消": Status.CANCELLED,
    "已取消": Status.CANCELLED,
    "deflected": Status.DEFLECTED,
    "馆藏": Status.DEFLECTED,
    "submitted": Status.SUBMITTED,
    "待处理": Status.SUBMITTED,
    "in_process": Status.IN_PROCESS,
    "处理中": Status.IN_PROCESS,
    "requested": Status.REQUESTED,
}
TYPE_WORDS = {
    "外文期刊": DocType.FOREIGN_ARTICLE,
    "外文图书": DocType.FOREIGN_BOOK,
    "中文期刊": DocType.CHINESE_ARTICLE,
    "中文图书": DocType.CHINESE_BOOK,
    "教材": DocType.TEXTBOOK,
    "学位论文": DocType.THESIS,
    "博硕士论文": DocType.THESIS,
    "标准": DocType.STANDARD,
    "专利": DocType.PATENT,
    "其他": DocType.OTHER,
}


def type_words() -> dict[str, str]:
    """Codes, English and Chinese labels, and the seed's own words all name a document type."""
    words: dict[str, str] = dict(TYPE_WORDS)
    for lang in ("en", "zh-hans"):
        with translation.override(lang):
            words.update({str(label).casefold(): value for value, label in DocType.choices})
    return words


class ImportFailed(ValidationError):
    """The file was refused; `.messages` lists every problem with its line and column."""


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    suppliers_created: int = 0
    errors: list[str] = field(default_factory=list)


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK, what Excel writes on Chinese
    Windows).
    """
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFailed([_("The file is neither UTF-8 nor GBK text.")])


def read_rows(name: str, data: bytes) -> list[list[Any]]:
    if name.lower().endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        import openpyxl

        try:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise ImportFailed(
                [_("The XLSX file cannot be read: %(error)s") % {"error": exc}]
            ) from exc
        return [list(row) for row in wb.worksheets[0].iter_rows(values_only=True)]
    return list(csv.reader(io.StringIO(decode(data))))


def _when(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time(12))
    else:
        text = str(value).strip().replace("/", "-").replace(".", "-")
        found = parse_datetime(text)
        if found is None and (day := parse_date(text)):
            found = dt.datetime.combine(day, dt.time(12))
        if found is None:
            raise ValueError
        parsed = found
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_current_timezone())
    return parsed


Progress = Callable[[str, int, int], None]  # (phase, lines done, lines in all)
PROGRESS_EVERY = 2000


def parse(
    library: Library, rows: list[list[Any]], progress: Progress | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    errors: list[str] = []
    if not rows:
        return [], [_("The file is empty.")]
    header = [
        HEADERS.get(str(h or "").strip().casefold(), HEADERS.get(str(h or "").strip(), ""))
        for h in rows[0]
    ]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return [], [_("Line 1: missing column(s) %(cols)s.") % {"cols": ", ".join(missing)}]
    if len(rows) - 1 > MAX_ROWS:
        return [], [_("The file has more than %(max)s lines; split it.") % {"max": MAX_ROWS}]
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    words = type_words()
    for number, raw in enumerate(rows[1:], start=2):
        if progress is not None and number % PROGRESS_EVERY == 0:
            progress("checking", number - 1, len(rows) - 1)
        if not any(str(c or "").strip() for c in raw):
            continue
        row = {key: raw[i] for i, key in enumerate(header) if key and i < len(raw)}
        item: dict[str, Any] = {}

        def err(column: str, message: str, number: int = number) -> None:
            errors.append(
                _("Line %(line)s, column “%(col)s”: %(msg)s")
                % {"line": number, "col": column, "msg": message}
            )

        for key, value in row.items():
            if key in ("created_at", "closed_at", "status", "doc_type", "year", "unfilled_reason"):
                continue
            item[key] = str(value).strip() if value is not None else ""
        if not item.get("external_id"):
            err("external_id", _("empty"))
        elif item["external_id"] in seen:
            err(
                "external_id",
                _("“%(id)s” already used on line %(other)s")
                % {"id": item["external_id"], "other": seen[item["external_id"]]},
            )
        else:
            seen[item["external_id"]] = number
        if not item.get("title"):
            err("title", _("empty"))
        try:
            item["created_at"] = _when(row.get("created_at"))
            if item["created_at"] is None:
                err("created_at", _("empty"))
        except ValueError:
            err("created_at", _("“%(value)s” is not a date") % {"value": row.get("created_at")})
        try:
            item["closed_at"] = _when(row.get("closed_at"))
        except ValueError:
            err("closed_at", _("“%(value)s” is not a date") % {"value": row.get("closed_at")})
        status = STATUS_WORDS.get(str(row.get("status") or "").strip().casefold())
        if status is None:
            err(
                "status",
                _("“%(value)s” is not a status (delivered, unfilled, cancelled, deflected…)")
                % {"value": row.get("status")},
            )
        item["status"] = status
        doc_type = str(row.get("doc_type") or "").strip()
        if doc_type:
            resolved = doc_type if doc_type in DocType.values else words.get(doc_type.casefold())
            if resolved is None:
                err("doc_type", _("“%(value)s” is not a document type") % {"value": doc_type})
            item["doc_type"] = resolved or DocType.OTHER
        year = str(row.get("year") or "").strip()
        if year:
            if year.isdigit() and 1400 <= int(year) <= 2100:
                item["year"] = int(year)
            else:
                err("year", _("“%(value)s” is not a year") % {"value": year})
        reason = str(row.get("unfilled_reason") or "").strip()
        if reason:
            item["unfilled_reason"] = (
                reason if reason in UnfilledReason.values else UnfilledReason.OTHER
            )
        out.append(item)
    return out, errors


def import_requests(
    library: Library, name: str, data: bytes, progress: Progress | None = None
) -> ImportResult:
    rows = read_rows(name, data)
    items, errors = parse(library, rows, progress)
    if errors:
        raise ImportFailed(errors[:200])
    if progress is not None:
        progress("writing", len(items), len(items))
    from lifeline.delivery.services import item_key

    result = ImportResult()
    with transaction.atomic():
        suppliers = {s.name: s for s in Supplier.objects.filter(library=library)}
        existing = dict(
            DeliveryRequest.objects.filter(
                library=library, external_id__in=[i["external_id"] for i in items]
            ).values_list("external_id", "pk")
        )
        new: list[DeliveryRequest] = []
        for item in items:
            name_ = item.pop("supplier", "")
            if name_ and name_ not in suppliers:
                suppliers[name_] = Supplier.objects.create(
                    library=library, name=name_[:200], kind=SupplierKind.OUTSIDE
                )
                result.suppliers_created += 1
            item["supplier"] = suppliers.get(name_) if name_ else None
            closed = item.get("closed_at")
            if (
                item["status"]
                in (Status.DELIVERED, Status.UNFILLED, Status.CANCELLED, Status.DEFLECTED)
                and not closed
            ):
                item["closed_at"] = closed = item["created_at"]
            if item["status"] == Status.DELIVERED and closed:
                item["turnaround_hours"] = round(
                    service_hours_between(item["created_at"], closed), 2
                )
            item["item_key"] = item_key(item)
            item.setdefault("channel", "")
            pk = existing.get(item["external_id"])
            if pk:
                DeliveryRequest.objects.filter(pk=pk).update(**item)
                result.updated += 1
            else:
                new.append(DeliveryRequest(library=library, **item))
        DeliveryRequest.objects.bulk_create(new, batch_size=2000)
        result.created = len(new)
        # One audit row for the whole import (the acting user comes from the request or command).
        audit.write(
            AuditAction.IMPORT,
            model="delivery.DeliveryRequest",
            library_id=library.pk,
            message=f"{name}: {result.created} created, {result.updated} updated, "
            f"{result.suppliers_created} suppliers created",
        )
    return result
