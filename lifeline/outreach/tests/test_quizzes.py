"""Quizzes: a random paper per patron, the server's deadline, answers stored as given, exact
scores, attempts, leaderboard ties, XLSX import all-or-nothing, certificate PDF, hostile use."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import Workbook

from lifeline.conftest import client_for
from lifeline.outreach.logic import bank_import, quizzes
from lifeline.outreach.models import Answer, Question, QuestionBank, Quiz
from lifeline.outreach.tests.conftest import make_patron, right_answers


def test_many_patrons_with_the_clock_moved(quiz: Quiz, library_a: Any, now: dt.datetime) -> None:
    """Twelve patrons: even ones answer all right in time, odd ones half right; two answer late."""
    questions = {q.pk: q for q in Question.objects.filter(bank=quiz.bank)}
    full = sum(q.points for q in questions.values())
    expected = {}
    for i in range(12):
        user = make_patron(f"taker{i}", library_a)
        start = now + dt.timedelta(seconds=i)
        attempt = quizzes.start(quiz, user, now=start)
        assert sorted(attempt.question_ids) == sorted(questions)
        assert attempt.deadline == start + dt.timedelta(minutes=10)
        right = right_answers([questions[q] for q in attempt.question_ids])
        if i % 2:
            first_two = attempt.question_ids[:2]
            right = {q: v for q, v in right.items() if q in first_two}
        # Answers one at a time, as a phone on a shaky line would send them.
        for qid, value in right.items():
            quizzes.save_answers(attempt, user, {qid: value}, now=start + dt.timedelta(minutes=1))
        if i in (3, 4):
            with pytest.raises(ValidationError):
                quizzes.save_answers(
                    attempt,
                    user,
                    {attempt.question_ids[-1]: "Z"},
                    now=attempt.deadline + dt.timedelta(seconds=1),
                )
        done = quizzes.submit(attempt, user, now=start + dt.timedelta(minutes=2 + i))
        expected[user.pk] = full if i % 2 == 0 else sum(questions[q].points for q in right)
        assert done.score == expected[user.pk]
    board = quizzes.leaderboard(quiz)
    assert [a.score for a in board] == sorted(expected.values(), reverse=True)
    # Ties broken by time: the even patrons in the order of their durations.
    tops = [a for a in board if a.score == full]
    assert [a.duration for a in tops] == sorted(a.duration for a in tops)


def test_answers_stored_as_given_and_overwritten(
    quiz: Quiz, patron_a: Any, now: dt.datetime
) -> None:
    attempt = quizzes.start(quiz, patron_a, now=now)
    qid = attempt.question_ids[0]
    quizzes.save_answers(attempt, patron_a, {qid: "B"}, now=now)
    quizzes.save_answers(attempt, patron_a, {qid: "A"}, now=now + dt.timedelta(seconds=5))
    assert Answer.objects.filter(attempt=attempt).count() == 1
    # The same attempt comes back (a second device, a reload) with its answers kept.
    again = quizzes.start(quiz, patron_a, now=now + dt.timedelta(minutes=1))
    assert again.pk == attempt.pk
    assert dict(Answer.objects.filter(attempt=attempt).values_list("question_id", "value"))


def test_deadline_and_attempt_limit(quiz: Quiz, patron_a: Any, now: dt.datetime) -> None:
    first = quizzes.start(quiz, patron_a, now=now)
    late = first.deadline
    with pytest.raises(ValidationError):
        quizzes.save_answers(first, patron_a, {first.question_ids[0]: "A"}, now=late)
    # The deadline passed without a hand-in: the sweep scores it.
    assert quizzes.close_expired(now=late) == 1
    first.refresh_from_db()
    assert first.score == 0 and first.submitted_at == first.deadline
    second = quizzes.start(quiz, patron_a, now=late)
    assert second.number == 2
    quizzes.submit(second, patron_a, now=late + dt.timedelta(minutes=1))
    with pytest.raises(ValidationError):
        quizzes.start(quiz, patron_a, now=late + dt.timedelta(minutes=2))


def test_another_patrons_paper(quiz: Quiz, patron_a: Any, patron_a2: Any, now: dt.datetime) -> None:
    attempt = quizzes.start(quiz, patron_a, now=now)
    with pytest.raises(PermissionDenied):
        quizzes.save_answers(attempt, patron_a2, {attempt.question_ids[0]: "A"}, now=now)
    client = client_for(patron_a2)
    assert client.get(f"/outreach/a/{attempt.pk}/").status_code == 404
    assert client.post(f"/outreach/a/{attempt.pk}/", {"finish": "1"}).status_code == 404
    api = client.post(
        f"/api/outreach/attempts/{attempt.pk}/answers/",
        {"answers": {str(attempt.question_ids[0]): "A"}},
        content_type="application/json",
    )
    assert api.status_code == 404
    assert client.get(f"/outreach/a/{attempt.pk}/certificate.pdf").status_code == 404


def test_patrons_of_another_library_and_anonymous(
    quiz: Quiz, patron_b: Any, librarian_b: Any, client: Any
) -> None:
    for user in (patron_b, librarian_b):
        with pytest.raises(PermissionDenied):
            quizzes.start(quiz, user)
        assert client_for(user).post(f"/outreach/q/{quiz.pk}/start/").status_code == 403
    response = client.post(f"/outreach/q/{quiz.pk}/start/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.post("/api/outreach/attempts/1/answers/", {}).status_code in (401, 403)


def test_page_walk_and_certificate(quiz: Quiz, patron_a: Any) -> None:
    client = client_for(patron_a)
    assert client.get(f"/outreach/q/{quiz.pk}/").status_code == 200
    response = client.post(f"/outreach/q/{quiz.pk}/start/")
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    attempt = page.context["attempt"]
    questions = Question.objects.in_bulk(attempt.question_ids)
    right = right_answers(list(questions.values()))
    data: dict[str, Any] = {f"q{q}": v for q, v in right.items()}
    assert client.post(f"/outreach/a/{attempt.pk}/", data).status_code == 302
    assert client.post(f"/outreach/a/{attempt.pk}/", {"finish": "1"}).status_code == 302
    attempt.refresh_from_db()
    assert attempt.score == attempt.max_score == 10
    pdf = client.get(f"/outreach/a/{attempt.pk}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    import fitz  # pymupdf

    text = fitz.open(stream=pdf.content, filetype="pdf")[0].get_text()
    assert "防疫知识竞答" in text and "张三" in text


def test_api_answers(quiz: Quiz, patron_a: Any, now: dt.datetime) -> None:
    attempt = quizzes.start(quiz, patron_a)
    client = client_for(patron_a)
    qid = attempt.question_ids[0]
    url = f"/api/outreach/attempts/{attempt.pk}/answers/"
    ok = client.post(
        url, {"answers": {str(qid): "A", "x": "B", "999999": "A"}}, content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json()["stored"] == 1
    done = client.post(f"/api/outreach/attempts/{attempt.pk}/submit/")
    assert done.status_code == 200
    late = client.post(url, {"answers": {str(qid): "B"}}, content_type="application/json")
    assert late.status_code == 409


def _xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["题型", "题目", "英文题目", "选项", "英文选项", "答案", "分值"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_import(library_a: Any) -> None:
    bank = QuestionBank.objects.create(library=library_a, name="音乐知识")
    data = _xlsx(
        [
            ["单选", "《黄河大合唱》的作曲者是？", "Who composed the Yellow River Cantata?",
             "冼星海|聂耳|贺绿汀", "Xian Xinghai|Nie Er|He Luting", "A", 2],
            ["多选", "以下哪些是弦乐器？", "", "二胡|琵琶|笛子", "", "A,B", 2],
            ["判断", "《茉莉花》是江苏民歌。", "", "", "", "对", 1],
            ["填空", "国歌的作曲者是___。", "", "", "", "聂耳|Nie Er", 3],
        ]
    )  # fmt: skip
    assert bank_import.import_bank(bank, data) == 4
    kinds = list(bank.questions.values_list("kind", "answer"))
    assert kinds == [
        ("single", "A"),
        ("multiple", "AB"),
        ("true_false", "T"),
        ("fill", "聂耳|Nie Er"),
    ]


@pytest.mark.parametrize(
    ("row", "line_word"),
    [
        (["单选", "缺答案", "", "甲|乙", "", "", 1], "3"),
        (["单选", "答案越界", "", "甲|乙", "", "D", 1], "3"),
        (["问答", "未知题型", "", "", "", "x", 1], "3"),
        (["判断", "判断题", "", "", "", "也许", 1], "3"),
    ],
)
def test_xlsx_import_all_or_nothing(library_a: Any, row: list[Any], line_word: str) -> None:
    bank = QuestionBank.objects.create(library=library_a, name="坏题库")
    good = ["判断", "好题", "", "", "", "T", 1]
    with pytest.raises(ValidationError) as exc:
        bank_import.import_bank(bank, _xlsx([good, row]))
    assert line_word in exc.value.messages[0]
    assert not bank.questions.exists()


def test_xlsx_import_page(library_a: Any, reference_a: Any, librarian_b: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    bank = QuestionBank.objects.create(library=library_a, name="页面导入")
    client = client_for(reference_a)
    bad = client.post(
        "/outreach/nefu/import/",
        {"bank": bank.pk, "file": SimpleUploadedFile("q.xlsx", b"PK\x03\x04 not really a zip")},
    )
    assert bad.status_code == 400 and not bank.questions.exists()
    text = client.post(
        "/outreach/nefu/import/", {"bank": bank.pk, "file": SimpleUploadedFile("q.xlsx", b"hello")}
    )
    assert text.status_code == 400
    data = _xlsx([["判断", "好题", "", "", "", "F", 1]])
    ok = client.post(
        "/outreach/nefu/import/", {"bank": bank.pk, "file": SimpleUploadedFile("q.xlsx", data)}
    )
    assert ok.status_code == 302 and bank.questions.count() == 1
    assert client_for(librarian_b).get("/outreach/nefu/import/").status_code == 403
