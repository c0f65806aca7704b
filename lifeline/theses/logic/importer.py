"""The graduate school's list of expected students (XLSX): all rows or none.

Columns are found by their header (Chinese or English, any order): 学号/student number,
姓名/name, 姓名拼音/name (pinyin), 学院/college, 学位级别/degree level (硕士, 博士, master,
doctor), 学位类型/degree type (学术学位, 专业学位, academic, professional), 学科代码/discipline
code, 导师/supervisor, 毕业年份/year. Every error names its row; one bad row stops the import.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from lifeline.core import audit
from lifeline.core.choices import AuditAction
from lifeline.core.models import Library
from lifeline.theses.choices import DegreeLevel, DegreeType
from lifeline.theses.logic import disciplines
from lifeline.theses.models import ExpectedStudent

MAX_ROWS = 20_000
HEADERS = {
    "student_number": ("学号", "student number", "student_number"),
    "name": ("姓名", "name"),
    "name_en": ("姓名拼音", "英文姓名", "name (pinyin)", "name_en"),
    "college": ("学院", "培养单位", "college"),
    "degree_level": ("学位级别", "degree level", "degree_level"),
    "degree_type": ("学位类型", "degree type", "degree_type"),
    "discipline_code": ("学科代码", "专业代码", "discipline code", "discipline_code"),
    "supervisor": ("导师", "指导教师", "supervisor"),
    "year": ("毕业年份", "year"),
}
REQUIRED = ("student_number", "name", "college", "degree_level", "degree_type", "discipline_code")
LEVELS = {
    "硕士": DegreeLevel.MASTER,
    "master": DegreeLevel.MASTER,
    "博士": DegreeLevel.DOCTOR,
    "doctor": DegreeLevel.DOCTOR,
    "doctoral": DegreeLevel.DOCTOR,
}
TYPES = {
    "学术学位": DegreeType.ACADEMIC,
    "学术": DegreeType.ACADEMIC,
    "academic": DegreeType.ACADEMIC,
    "专业学位": DegreeType.PROFESSIONAL,
    "专业": DegreeType.PROFESSIONAL,
    "professional": DegreeType.PROFESSIONAL,
}


class ImportFailed(Exception):
    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass
class ImportResult:
    created: int
    updated: int


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a student number typed as a number
    return str(value).strip()


def read_rows(data: bytes, default_year: int) -> list[dict[str, Any]]:
    from django.core.exceptions import ValidationError

    from lifeline.core.uploads import check_zip

    try:
        check_zip(data)  # the workbook's members, before openpyxl inflates them
    except ValidationError as exc:
        raise ImportFailed(list(exc.messages)) from exc
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportFailed([_("The file is not an Excel workbook (XLSX).")]) from exc
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [_text(h).casefold() for h in next(rows, ())]
    columns: dict[str, int] = {}
    for field, names in HEADERS.items():
        for i, h in enumerate(header):
            if h in names:
                columns[field] = i
                break
    missing = [HEADERS[f][0] for f in REQUIRED if f not in columns]
    if missing:
        raise ImportFailed([_("Row 1: columns missing: %(cols)s.") % {"cols": ", ".join(missing)}])
    errors: list[str] = []
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    catalogue = disciplines.catalogue()
    for line, raw in enumerate(rows, start=2):
        if line > MAX_ROWS + 1:
            errors.append(_("More than %(n)s rows: split the list.") % {"n": MAX_ROWS})
            break
        cells = {f: _text(raw[i]) if i < len(raw) else "" for f, i in columns.items()}
        if not any(cells.values()):
            continue
        problems = [
            _("“%(col)s” is empty") % {"col": HEADERS[f][0]} for f in REQUIRED if not cells[f]
        ]
        level = LEVELS.get(cells.get("degree_level", "").casefold())
        if cells.get("degree_level") and level is None:
            problems.append(
                _("degree level “%(v)s” is not 硕士 or 博士") % {"v": cells["degree_level"]}
            )
        kind = TYPES.get(cells.get("degree_type", "").casefold())
        if cells.get("degree_type") and kind is None:
            problems.append(
                _("degree type “%(v)s” is not 学术学位 or 专业学位") % {"v": cells["degree_type"]}
            )
        code = cells.get("discipline_code", "")
        if code and code not in catalogue:
            problems.append(_("discipline code “%(v)s” is not in the catalogue") % {"v": code})
        number = cells.get("student_number", "")
        if number in seen:
            problems.append(
                _("student number %(n)s is already on row %(row)s")
                % {"n": number, "row": seen[number]}
            )
        year = default_year
        if cells.get("year"):
            try:
                year = int(cells["year"])
            except ValueError:
                problems.append(_("year “%(v)s” is not a year") % {"v": cells["year"]})
        if problems:
            errors.append(
                _("Row %(row)s: %(problems)s.") % {"row": line, "problems": "; ".join(problems)}
            )
            continue
        seen[number] = line
        out.append({**cells, "degree_level": level, "degree_type": kind, "year": year})
    wb.close()
    if errors:
        raise ImportFailed(errors[:50])
    if not out:
        raise ImportFailed([_("The list has no students.")])
    return out


@transaction.atomic
def import_expected(library: Library, name: str, data: bytes) -> ImportResult:
    rows = read_rows(data, default_year=timezone.localdate().year)
    existing = {s.student_number: s for s in ExpectedStudent.objects.filter(library=library)}
    now = timezone.now()
    created: list[ExpectedStudent] = []
    updated: list[ExpectedStudent] = []
    fields = [
        "name",
        "name_en",
        "college",
        "degree_level",
        "degree_type",
        "discipline_code",
        "supervisor",
        "year",
    ]
    for row in rows:
        student = existing.get(row["student_number"])
        values = {f: row.get(f) or "" for f in fields}
        values["year"] = row["year"]
        if student is None:
            created.append(
                ExpectedStudent(
                    library=library, student_number=row["student_number"], imported_at=now, **values
                )
            )
        else:
            for f, v in values.items():
                setattr(student, f, v)
            student.imported_at = now
            updated.append(student)
    ExpectedStudent.objects.bulk_create(created, batch_size=500)
    ExpectedStudent.objects.bulk_update(updated, [*fields, "imported_at"], batch_size=500)
    audit.write(
        AuditAction.IMPORT,
        model="theses.ExpectedStudent",
        library_id=library.pk,
        message=f"theses expected students {name}: {len(created)} created, {len(updated)} updated",
    )
    return ImportResult(created=len(created), updated=len(updated))
