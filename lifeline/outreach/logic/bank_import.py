"""Import a question bank from XLSX: all rows or none, with the faulty line named.

Columns (first row is the header, names in Chinese or English):
kind (single/multiple/true_false/fill or 单选/多选/判断/填空), question, question_en, options
(separated by "|"), options_en, answer (letters, T/F or 对/错, accepted texts separated by "|"),
points.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from lifeline.outreach.choices import QuestionKind
from lifeline.outreach.logic.quizzes import LETTERS
from lifeline.outreach.models import Question, QuestionBank

MAX_ROWS = 5000
HEADERS = {
    "kind": "kind", "题型": "kind",
    "question": "text", "题目": "text",
    "question_en": "text_en", "英文题目": "text_en",
    "options": "options", "选项": "options",
    "options_en": "options_en", "英文选项": "options_en",
    "answer": "answer", "答案": "answer",
    "points": "points", "分值": "points",
}  # fmt: skip
KINDS = {
    "single": QuestionKind.SINGLE, "单选": QuestionKind.SINGLE,
    "multiple": QuestionKind.MULTIPLE, "多选": QuestionKind.MULTIPLE,
    "true_false": QuestionKind.TRUE_FALSE, "判断": QuestionKind.TRUE_FALSE,
    "fill": QuestionKind.FILL, "填空": QuestionKind.FILL,
}  # fmt: skip
TRUTH = {"T": "T", "F": "F", "对": "T", "错": "F", "TRUE": "T", "FALSE": "F", "是": "T", "否": "F"}


def _cell(v: Any) -> str:
    return "" if v is None else str(v).strip()


def parse_row(values: dict[str, str], line: int) -> Question:
    def bad(msg: str) -> ValidationError:
        return ValidationError(_("Line %(line)s: %(msg)s") % {"line": line, "msg": msg})

    kind = KINDS.get(values.get("kind", "").lower())
    if kind is None:
        raise bad(_("unknown question kind"))
    text = values.get("text", "")
    if not text:
        raise bad(_("the question is empty"))
    options = [o.strip() for o in values.get("options", "").split("|") if o.strip()]
    options_en = [o.strip() for o in values.get("options_en", "").split("|") if o.strip()]
    answer = values.get("answer", "").strip()
    if not answer:
        raise bad(_("the answer key is missing"))
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        if len(options) < 2 or len(options) > len(LETTERS):
            raise bad(_("a choice question needs 2 to 10 options"))
        if options_en and len(options_en) != len(options):
            raise bad(_("the English options do not match the options"))
        letters = sorted(set(answer.upper().replace(",", "").replace(" ", "")))
        if not letters or any(c not in LETTERS[: len(options)] for c in letters):
            raise bad(_("the answer key names no option"))
        if kind == QuestionKind.SINGLE and len(letters) != 1:
            raise bad(_("a single-choice question has one answer"))
        answer = "".join(letters)
    elif kind == QuestionKind.TRUE_FALSE:
        if answer.upper() not in TRUTH:
            raise bad(_("a true-or-false answer is T or F"))
        answer, options, options_en = TRUTH[answer.upper()], [], []
    try:
        points = int(float(values.get("points") or 1))
    except ValueError as exc:
        raise bad(_("points must be a whole number")) from exc
    if not 0 < points <= 100:
        raise bad(_("points must be between 1 and 100"))
    return Question(
        kind=kind,
        text=text[:5000],
        text_en=values.get("text_en", "")[:5000],
        options=options,
        options_en=options_en,
        answer=answer[:500],
        points=points,
    )


def import_bank(bank: QuestionBank, data: bytes) -> int:
    """Add the workbook's questions to `bank`; on any error nothing is added."""
    from lifeline.core.uploads import check_zip

    check_zip(data)  # the workbook's members, before openpyxl inflates them (ValidationError)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ValidationError(_("This is not an XLSX workbook.")) from exc
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [HEADERS.get(_cell(h).lower(), "") for h in next(rows, ())]
    if "kind" not in header or "text" not in header or "answer" not in header:
        raise ValidationError(_("Line 1: the header needs the columns kind, question and answer."))
    questions: list[Question] = []
    for line, row in enumerate(rows, start=2):
        values = {k: _cell(v) for k, v in zip(header, row, strict=False) if k}
        if not any(values.values()):
            continue
        if len(questions) >= MAX_ROWS:
            raise ValidationError(_("At most %(n)s questions per file.") % {"n": MAX_ROWS})
        q = parse_row(values, line)
        q.bank = bank
        questions.append(q)
    book.close()
    if not questions:
        raise ValidationError(_("The workbook holds no questions."))
    with transaction.atomic():
        Question.objects.bulk_create(questions)
    return len(questions)
