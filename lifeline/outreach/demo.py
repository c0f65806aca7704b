"""Demo data of outreach for the seed library (NEFU): its 2020 online outreach and the present.

The seed (3.1.8, 3.3.4, 3.3.7, table 1): "cloud" reading promotion with a three-part series
(reading, an anti-epidemic knowledge quiz, a recitation contest), a music-knowledge quiz, a human
library opened online, book-recommendation lists, more than ten events; online literacy teaching
(科技信息检索 and 专利申请实务, 288 class hours together; 65 hours of freshman training; four
database and patent-attorney exam trainings); a remote job-interview recording room for graduates.
The seed gives the 288 hours only as a total: the split below (192 + 96) is ours.

Everything goes through the app's own functions (XLSX import, register, quiz start/answer/submit,
book). Idempotent: the library's outreach rows are deleted and made again.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import wave
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from openpyxl import Workbook

from lifeline.core.models import Library
from lifeline.outreach.choices import Audience, EventKind
from lifeline.outreach.logic import bank_import, contests, courses, events, humanlib, quizzes, rooms
from lifeline.outreach.models import (
    Contest,
    Course,
    CourseMaterial,
    Event,
    HumanBook,
    Lesson,
    QuestionBank,
    Quiz,
    Room,
    Series,
    Session,
)

ANTI_EPIDEMIC = [
    [
        "单选",
        "新型冠状病毒肺炎的主要传播途径是？",
        "The main route of COVID-19 transmission is?",
        "呼吸道飞沫和密切接触|饮用水|蚊虫叮咬",
        "Droplets and close contact|Drinking water|Mosquito bites",
        "A",
        2,
    ],
    [
        "多选",
        "下列哪些是有效的个人防护措施？",
        "Which are effective personal protection?",
        "佩戴口罩|勤洗手|聚集聚餐|开窗通风",
        "Wearing a mask|Washing hands|Group dinners|Ventilating rooms",
        "ABD",
        3,
    ],
    [
        "判断",
        "75%的酒精可以有效灭活新冠病毒。",
        "75% alcohol inactivates the novel coronavirus.",
        "",
        "",
        "对",
        1,
    ],
    [
        "判断",
        "只要不发热就不会传染他人。",
        "Without fever one cannot infect others.",
        "",
        "",
        "错",
        1,
    ],
    [
        "填空",
        "密切接触者一般需医学观察___天。",
        "Close contacts are usually observed for ___ days.",
        "",
        "",
        "14|十四",
        2,
    ],
    [
        "单选",
        "洗手时应至少搓洗多少秒？",
        "At least how many seconds should hands be rubbed?",
        "5秒|20秒|60秒",
        "5 seconds|20 seconds|60 seconds",
        "B",
        1,
    ],
]
MUSIC = [
    [
        "单选",
        "《黄河大合唱》的作曲者是？",
        "Who composed the Yellow River Cantata?",
        "冼星海|聂耳|贺绿汀",
        "Xian Xinghai|Nie Er|He Luting",
        "A",
        2,
    ],
    [
        "填空",
        "《义勇军进行曲》的作曲者是___。",
        "The March of the Volunteers was composed by ___.",
        "",
        "",
        "聂耳|Nie Er",
        2,
    ],
    ["判断", "《茉莉花》是江苏民歌。", "Jasmine Flower is a Jiangsu folk song.", "", "", "对", 1],
    [
        "多选",
        "下列哪些是中国传统弦乐器？",
        "Which are traditional Chinese string instruments?",
        "二胡|琵琶|笛子|古筝",
        "Erhu|Pipa|Dizi|Guzheng",
        "ABD",
        3,
    ],
]
# (title, English title, kind, month, day, series part or None)
EVENTS_2020 = [
    ("云阅读·战疫书香", "Cloud reading: books against the epidemic", EventKind.READING, 2, 20, 1),
    ("防疫知识竞答", "Anti-epidemic knowledge quiz", EventKind.QUIZ, 3, 10, 2),
    ("“声”援武汉诵读比赛", "Recitation contest for Wuhan", EventKind.QUIZ, 4, 2, 3),
    ("音乐知识竞答", "Music knowledge quiz", EventKind.QUIZ, 4, 23, None),
    ("真人图书馆：线上开馆", "Human library opens online", EventKind.HUMAN_LIBRARY, 5, 12, None),
    ("世界读书日荐书单", "World Book Day reading list", EventKind.READING, 4, 23, None),
    ("毕业季好书推荐", "Books for graduates", EventKind.READING, 6, 10, None),
    ("中国知网数据库使用培训", "CNKI database training", EventKind.TRAINING, 3, 17, None),
    ("Web of Science 检索培训", "Web of Science training", EventKind.TRAINING, 3, 24, None),
    ("专利数据库检索培训", "Patent database training", EventKind.TRAINING, 4, 14, None),
    ("专利代理师考试辅导", "Patent attorney exam coaching", EventKind.TRAINING, 9, 15, None),
    (
        "真人图书馆：考研经验谈",
        "Human library: graduate entrance exams",
        EventKind.HUMAN_LIBRARY,
        10,
        20,
        None,
    ),
]
COURSES = [
    # (title, English title, audience, term, lessons, hours per lesson, first day)
    (
        "科技信息检索",
        "Scientific information retrieval",
        Audience.UNDERGRADUATES,
        "2020春",
        48,
        "4",
        dt.date(2020, 3, 2),
    ),
    (
        "专利申请实务",
        "Patent application practice",
        Audience.GRADUATES,
        "2020春",
        24,
        "4",
        dt.date(2020, 3, 4),
    ),
    (
        "新生入馆培训",
        "Freshman library training",
        Audience.FRESHMEN,
        "2020秋",
        13,
        "5",
        dt.date(2020, 9, 14),
    ),
]


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


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())


def _clear(library: Library) -> None:
    Quiz.objects.filter(library=library).delete()
    QuestionBank.objects.filter(library=library).delete()
    Event.objects.filter(library=library).delete()
    Series.objects.filter(library=library).delete()
    Course.objects.filter(library=library).delete()
    Room.objects.filter(library=library).delete()
    Contest.objects.filter(library=library).delete()
    HumanBook.objects.filter(library=library).delete()


def _take(quiz: Quiz, user: Any, start: dt.datetime, right: int) -> None:
    """A patron answers the first `right` questions of the paper correctly, one POST each."""
    attempt = quizzes.start(quiz, user, now=start)
    for i, (question, _given) in enumerate(quizzes.paper(attempt)):
        if i >= right:
            break
        value = question.answer.split("|")[0]
        answer: str | list[str] = value if question.kind == "fill" else list(value)
        quizzes.save_answers(
            attempt, user, {question.pk: answer}, now=start + dt.timedelta(seconds=30 * (i + 1))
        )
    quizzes.submit(attempt, user, now=start + dt.timedelta(minutes=5))


def load(library: Library, today: dt.date) -> None:
    _clear(library)
    users = get_user_model().objects
    patrons = [u for u in (users.filter(username=n).first() for n in ("student", "teacher")) if u]
    series = Series.objects.create(
        library=library, title="“云”阅读推广三部曲", title_en="Cloud reading trilogy"
    )
    by_title: dict[str, Event] = {}
    for title, title_en, kind, month, day, part in EVENTS_2020:
        event = Event.objects.create(
            library=library,
            series=series if part else None,
            kind=kind,
            title=title,
            title_en=title_en,
            online=True,
        )
        start = _at(dt.date(2020, month, day), 19)
        session = Session.objects.create(
            event=event,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1, minutes=30),
            location="腾讯会议",
            capacity=300,
        )
        for user in patrons:
            reg = events.register(session, user, now=start - dt.timedelta(days=3))
            events.check_in(reg, now=start)
        by_title[title] = event

    quiz_days: list[tuple[str, list[list[Any]], dt.date]] = [
        ("防疫知识竞答", ANTI_EPIDEMIC, dt.date(2020, 3, 10)),
        ("音乐知识竞答", MUSIC, dt.date(2020, 4, 23)),
    ]
    for title, rows, quiz_day in quiz_days:
        bank = QuestionBank.objects.create(library=library, name=title)
        bank_import.import_bank(bank, _xlsx(rows))
        opens = _at(quiz_day, 8)
        event = by_title[title]
        quiz = Quiz.objects.create(
            library=library,
            event=event,
            bank=bank,
            title=title,
            title_en=event.title_en,
            questions=len(rows),
            minutes=15,
            attempts=1,
            opens_at=opens,
            closes_at=opens + dt.timedelta(days=7),
        )
        for n, user in enumerate(patrons):
            _take(quiz, user, opens + dt.timedelta(hours=2 + n), len(rows) - n)

    for title, title_en, audience, term, lessons, hours, first in COURSES:
        course = Course.objects.create(
            library=library, title=title, title_en=title_en, audience=audience, term=term
        )
        Lesson.objects.bulk_create(
            [
                Lesson(
                    course=course,
                    held_on=first + dt.timedelta(days=7 * (i // 2) + 2 * (i % 2)),
                    class_hours=Decimal(hours),
                    participants=60,
                )
                for i in range(lessons)
            ]
        )

        if audience == Audience.FRESHMEN and patrons:
            enrolment = courses.enrol(course, patrons[0])
            for lesson in course.lessons.all():
                courses.mark_attended(enrolment, lesson)
            courses.complete(enrolment, now=_at(first + dt.timedelta(days=60), 12))

    # The present: a human-library conversation next week, and the interview room.
    event = Event.objects.create(
        library=library,
        kind=EventKind.HUMAN_LIBRARY,
        title="真人图书馆：求职面试经验谈",
        title_en="Human library: job interviews",
        description="与往届毕业生面对面，30 分钟一场。",
        description_en="Talk with a recent graduate, 30 minutes each.",
        online=False,
    )
    start = _at(today + dt.timedelta(days=7), 15)
    session = Session.objects.create(
        event=event,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
        location="图书馆三楼研讨间",
        capacity=1,
    )
    for user in patrons:  # the second goes on the waiting list
        events.register(session, user, now=_at(today, 0))
    room = Room.objects.create(
        library=library,
        name="远程面试录制室",
        name_en="Remote interview recording room",
        description="图书馆为毕业生设计的远程求职面试录制室，配有摄像、灯光与隔音。",
        slot_minutes=30,
        max_per_week=2,
        days_ahead=7,
    )
    if patrons:
        rooms.book(room, patrons[0], _at(today + dt.timedelta(days=1), 10), now=_at(today, 0))
    _contest_and_people(library, today, patrons, by_title)


def _tone(seconds: float, hz: int) -> bytes:
    """A short WAV (a tone) standing in for a recitation: the demo ships no one's voice."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        frames = int(8000 * seconds)
        w.writeframes(
            bytes(128 + int(60 * math.sin(2 * math.pi * hz * i / 8000)) for i in range(frames))
        )
    return out.getvalue()


def _contest_and_people(
    library: Library, today: dt.date, patrons: list[Any], by_title: dict[str, Event]
) -> None:
    """The recitation contest of the 2020 series with entries, votes and a judge's score; the
    human library opened online; the retrieval course's slides."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    start = _at(dt.date(2020, 4, 2), 8)
    contest = Contest.objects.create(
        library=library,
        event=by_title.get("“声”援武汉诵读比赛"),
        title="“声”援武汉诵读比赛",
        title_en="Recitation contest for Wuhan",
        rules="朗诵一首诗或一段散文，音频或视频，5 分钟以内。",
        rules_en="Recite a poem or a passage of prose, audio or video, up to 5 minutes.",
        max_mb=200,
        entries_open=start,
        entries_close=start + dt.timedelta(days=10),
        voting_open=start + dt.timedelta(days=10),
        voting_close=start + dt.timedelta(days=17),
    )
    entries = []
    for n, (user, title) in enumerate(zip(patrons, ["致敬逆行者", "武汉，加油"], strict=False)):
        upload = SimpleUploadedFile(f"{n}.wav", _tone(0.5, 440 + 110 * n))
        entries.append(
            contests.submit_entry(contest, user, upload, title, now=start + dt.timedelta(days=n))
        )
    if len(entries) == 2:
        contests.vote(entries[1], patrons[0], now=contest.voting_open)
        contests.vote(entries[0], patrons[1], now=contest.voting_open)
    book = HumanBook.objects.create(
        library=library,
        name="李老师",
        title="考研与求职：我的两次选择",
        title_en="Graduate school or a job: my two choices",
        profile="2016 届毕业生，现为林学院教师。",
        profile_en="A 2016 graduate, now teaching in the College of Forestry.",
        topics="考研，求职，面试",
    )
    slots = humanlib.add_slots(
        book, _at(today + dt.timedelta(days=3), 14), 4, online=True, place="腾讯会议 622-118-305"
    )
    if patrons:
        humanlib.book_slot(slots[0], patrons[0], now=_at(today, 0))
    course = Course.objects.filter(library=library, title="科技信息检索").first()
    if course is not None:
        CourseMaterial.objects.create(
            course=course,
            kind="video",
            title="第一讲：文献检索基础（录像）",
            url="https://www.icourse163.org/",
        )
