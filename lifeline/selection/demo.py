"""Demo data of cloud book selection for the seed library (NEFU), 2020.

The seed (case paper 2.1, table 1): three "cloud selection" campaigns — the spring book fair
6–10 April, World Book Day 20–24 April and the autumn book fair 10–18 September 2020 — in which
teachers and students chose from vendors' lists at home; over 11,000 titles were selected, over
1,800 of them by patrons. Loaded here as closed campaigns with their vendor lists and adopted
orders (11,260 titles, 1,874 chosen by patrons), the patrons' marks kept anonymised. The present:
a campaign open this week for the demo patrons, the library's holdings, a few recommendations
and home deliveries moved through the app's own workflow functions.

Idempotent: the library's selection data is deleted and written again. Titles are generated
(valid ISBN-13 checksums, real CLC classes and Chinese publishers), not a real vendor's list.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from lifeline.core.choices import Role
from lifeline.core.models import Library, Membership, Patron
from lifeline.registry.io.identifiers import isbn13_check_digit
from lifeline.selection import services
from lifeline.selection.choices import CampaignStatus, Method, Origin, Reason, RecStatus, ShipStatus
from lifeline.selection.logic import requests as logic
from lifeline.selection.logic.normalise import search_text, work_key
from lifeline.selection.models import (
    Campaign,
    Catalogue,
    Event,
    Holding,
    HomeDelivery,
    Recommendation,
    Selection,
    SelectionLine,
    Title,
    Vote,
)

SEED = 2020
BATCH = 1000
# (name, English name, first day, last day, titles selected, of them by patrons, budget)
CAMPAIGNS = [
    (
        "2020年春季图书订货会云端选书",
        "Spring book fair cloud selection 2020",
        (4, 6),
        (4, 10),
        4_120,
        640,
        560_000,
    ),
    (
        "2020年世界读书日云端选书",
        "World Book Day cloud selection 2020",
        (4, 20),
        (4, 24),
        2_290,
        575,
        300_000,
    ),
    (
        "2020年秋季图书订货会云端选书",
        "Autumn book fair cloud selection 2020",
        (9, 10),
        (9, 18),
        4_850,
        659,
        650_000,
    ),
]
VENDORS = ["人天书店", "北京中科进出口有限责任公司", "湖北三新文化传媒", "新华书店黑龙江分公司"]
PUBLISHERS = [
    ("中国林业出版社", "5038"),
    ("科学出版社", "03"),
    ("高等教育出版社", "04"),
    ("机械工业出版社", "111"),
    ("清华大学出版社", "302"),
    ("人民文学出版社", "02"),
    ("化学工业出版社", "122"),
    ("东北林业大学出版社", "5674"),
    ("中国农业出版社", "109"),
    ("北京大学出版社", "301"),
]
# CLC classes a forestry university buys most (S agriculture and forestry, T, Q, X ...).
CLASSES = [
    ("S7", "森林", 18),
    ("S", "农业", 6),
    ("T", "工程", 14),
    ("TP", "计算机", 8),
    ("Q", "生物", 9),
    ("X", "环境", 7),
    ("F", "经济", 8),
    ("O", "数学", 6),
    ("I", "文学", 7),
    ("K", "历史", 4),
    ("D", "法学", 3),
    ("G", "教育", 3),
    ("H", "英语", 3),
    ("B", "哲学", 2),
    ("J", "艺术", 2),
]
SUBJECTS = {
    "S7": [
        "森林培育学",
        "森林经理学",
        "木材学",
        "林木遗传育种",
        "森林保护学",
        "树木学",
        "湿地生态",
    ],
    "S": ["作物栽培", "土壤学", "植物保护", "园艺学"],
    "T": ["机械设计", "材料力学", "木结构工程", "电气工程", "土木工程测量"],
    "TP": ["Python程序设计", "数据结构", "机器学习", "数据库系统", "遥感图像处理"],
    "Q": ["植物生理学", "微生物学", "分子生物学", "生态学原理", "动物学"],
    "X": ["环境监测", "水污染控制", "环境影响评价", "碳汇计量"],
    "F": ["林业经济学", "管理学原理", "会计学", "国际贸易"],
    "O": ["高等数学", "概率论与数理统计", "线性代数", "物理化学"],
    "I": ["当代小说选", "唐诗鉴赏", "外国文学史", "散文集"],
    "K": ["中国近代史", "东北地方史", "世界史纲"],
    "D": ["环境法学", "民法典解读", "宪法学"],
    "G": ["高等教育学", "体育训练学", "图书馆学概论"],
    "H": ["学术英语写作", "俄语语法", "英汉翻译教程"],
    "B": ["中国哲学史", "伦理学导论"],
    "J": ["园林艺术", "设计素描"],
}
QUALIFIERS = [
    "",
    "（第2版）",
    "（第3版）",
    "教程",
    "导论",
    "实验指导",
    "案例分析",
    "研究",
    "手册",
    "习题集",
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
COLLEGES = [
    "林学院",
    "野生动物与自然保护地学院",
    "生命科学学院",
    "机电工程学院",
    "材料科学与工程学院",
    "经济管理学院",
    "文法学院",
    "计算机与控制工程学院",
    "园林学院",
    "外国语学院",
]


def _isbn(rng: random.Random, prefix: str) -> str:
    body = "9787" + prefix + "".join(rng.choice("0123456789") for _ in range(8 - len(prefix)))
    return body + isbn13_check_digit(body)


def _title_row(rng: random.Random, library: Library, catalogue: Catalogue, i: int) -> Title:
    cls, _word, _w = rng.choices(CLASSES, weights=[c[2] for c in CLASSES])[0]
    publisher, prefix = rng.choice(PUBLISHERS)
    name = rng.choice(SUBJECTS[cls]) + rng.choice(QUALIFIERS)
    author = (
        "".join(rng.sample(SURNAMES, 1))
        + rng.choice(["建国", "丽", "明", "海燕", "志强", "静"])
        + rng.choice(["著", "主编", "编著"])
    )
    clc = f"{cls}{rng.randint(1, 99)}" if len(cls) == 1 else f"{cls}{rng.randint(1, 9)}"
    isbn = _isbn(rng, prefix)
    return Title(
        library=library,
        catalogue=catalogue,
        position=i,
        isbn=isbn,
        title=name,
        author=author,
        publisher=publisher,
        search=search_text(name, author, publisher, isbn),
        year=rng.choice([2018, 2019, 2019, 2020, 2020, 2020]),
        price=Decimal(rng.randrange(2200, 12800, 10)) / 100,
        clc=clc,
        clc_class=cls[0],
        work_key=work_key(name, author, publisher),
    )


def _clear(library: Library) -> None:
    Event.objects.filter(library=library).delete()
    HomeDelivery.objects.filter(library=library).delete()
    Recommendation.objects.filter(library=library).delete()
    Campaign.objects.filter(library=library).update(order=None)
    Campaign.objects.filter(library=library).delete()
    Catalogue.objects.filter(library=library).delete()
    Holding.objects.filter(library=library).delete()


def _past(library: Library, rng: random.Random) -> None:
    tz = timezone.get_current_timezone()
    for name, name_en, start, end, selected, by_patrons, budget in CAMPAIGNS:
        campaign = Campaign.objects.create(
            library=library,
            name=name,
            name_en=name_en,
            starts_on=dt.date(2020, *start),
            ends_on=dt.date(2020, *end),
            status=CampaignStatus.CLOSED,
            budget=Decimal(budget),
            closed_at=dt.datetime(2020, end[0], end[1], 18, tzinfo=tz),
        )
        lists = []
        offered = int(selected * 1.6)
        for v, vendor in enumerate(rng.sample(VENDORS, 2)):
            catalogue = Catalogue.objects.create(
                library=library,
                name=f"{vendor} {start[0]}月书目",
                vendor=vendor,
                source_format="iso2709" if v == 0 else "sheet",
                flavour="unimarc" if v == 0 else "",
                lines=offered // 2,
            )
            Title.objects.bulk_create(
                [_title_row(rng, library, catalogue, i) for i in range(offered // 2)],
                batch_size=BATCH,
            )
            lists.append(catalogue)
        campaign.catalogues.set(lists)
        titles = list(Title.objects.filter(catalogue__in=lists).only("id", "price", "clc_class"))
        chosen = rng.sample(titles, selected)
        patron_ids = set(t.pk for t in chosen[:by_patrons])
        opened = dt.datetime(2020, start[0], start[1], 9, tzinfo=tz)
        votes = []
        lines = []
        selection = Selection.objects.create(
            campaign=campaign,
            method=Method.EXACT,
            solver_status="optimal",
            created_at=opened
            + dt.timedelta(days=end[1] - start[1] + (30 if end[0] != start[0] else 0)),
        )
        for t in chosen:
            patron = t.pk in patron_ids
            college = rng.choice(COLLEGES)
            weight = 0
            for _ in range(rng.choice([1, 1, 1, 2, 3]) if patron else 1):
                w = rng.choice([1, 2]) if patron else 1
                weight += w
                votes.append(
                    Vote(
                        campaign=campaign,
                        title=t,
                        user=None,  # 2020's marks, anonymised
                        origin=Origin.PATRON if patron else Origin.STAFF,
                        weight=w,
                        reason=rng.choice(Reason.values[:4]),
                        college=college if patron else "",
                        created_at=opened + dt.timedelta(hours=rng.randint(0, 24 * 4)),
                    )
                )
            lines.append(
                SelectionLine(
                    selection=selection,
                    title=t,
                    copies=rng.choice([1, 2, 2, 3]),
                    price=t.price or Decimal(0),
                    weight=weight,
                    origin=Origin.PATRON if patron else Origin.STAFF,
                    college=college if patron else "",
                    clc_class=t.clc_class,
                )
            )
        Vote.objects.bulk_create(votes, batch_size=BATCH)
        SelectionLine.objects.bulk_create(lines, batch_size=BATCH)
        selection.titles = len(lines)
        selection.copies = sum(x.copies for x in lines)
        selection.spend = sum((x.price * x.copies for x in lines), Decimal(0))
        selection.demand = sum(x.weight for x in lines)
        selection.save()
        campaign.order = selection
        # The year's purchasing was completed: each order spent 97–99 % of its budget.
        campaign.budget = (
            selection.spend / Decimal(rng.choice(["0.97", "0.98", "0.99"]))
        ).quantize(Decimal("1000"))
        campaign.save()


def _people(library: Library) -> tuple[Any, Any, Any]:
    from lifeline.core.demo.loader import demo_password

    User = get_user_model()
    acq, _created = User.objects.get_or_create(
        username="acquisitions",
        defaults={
            "email": "acquisitions@nefu.example.edu",
            "is_staff": True,
            "first_name": "采访馆员",
        },
    )
    password = demo_password()
    if not acq.check_password(password):
        acq.set_password(password)
        acq.save(update_fields=["password"])
    Membership.objects.get_or_create(user=acq, library=library, role=Role.ACQUISITIONS)
    student = Patron.objects.filter(user__username="student", library=library).first()
    teacher = Patron.objects.filter(user__username="teacher", library=library).first()
    if teacher is not None and not teacher.department:
        teacher.department = "林学院"
        teacher.save(update_fields=["department"])
    return acq, student.user if student else None, teacher.user if teacher else None


def _present(library: Library, rng: random.Random, today: dt.date) -> None:
    acq, student, teacher = _people(library)
    catalogue = Catalogue.objects.create(
        library=library,
        name="人天书店 新书目",
        vendor="人天书店",
        source_format="iso2709",
        flavour="unimarc",
        lines=600,
    )
    Title.objects.bulk_create(
        [_title_row(rng, library, catalogue, i) for i in range(600)], batch_size=BATCH
    )
    # Holdings: the past orders arrived; plus a few of the new list under another ISBN.
    ordered = Title.objects.filter(library=library, status="new").exclude(catalogue=catalogue)
    held = [
        Holding(
            library=library,
            isbn=t.isbn,
            work_key=t.work_key,
            title=t.title,
            author=t.author,
            publisher=t.publisher,
            call_number=f"{t.clc}/{t.pk % 997}",
        )
        for t in ordered.filter(
            pk__in=SelectionLine.objects.filter(selection__campaign__library=library).values(
                "title_id"
            )
        )[:3000]
    ]
    held += [
        Holding(
            library=library, isbn="", work_key=t.work_key, title=t.title, call_number=f"{t.clc}/1"
        )
        for t in Title.objects.filter(catalogue=catalogue)[:25]
    ]
    Holding.objects.bulk_create(held, batch_size=BATCH)
    services.mark_titles(library)
    campaign = Campaign.objects.create(
        library=library,
        name=f"{today.year}年云端选书（演示）",
        name_en=f"Cloud selection {today.year} (demo)",
        starts_on=today - dt.timedelta(days=1),
        ends_on=today + dt.timedelta(days=6),
        status=CampaignStatus.OPEN,
        budget=Decimal("20000"),
    )
    campaign.catalogues.set([catalogue])
    now = timezone.now()
    new = list(Title.objects.filter(catalogue=catalogue, status="new")[:30])
    for user in (u for u in (student, teacher) if u is not None):
        for t in rng.sample(new, 8):
            try:
                services.vote(campaign, user, t.pk, rng.choice(Reason.values[:3]), now=now)
            except Exception:  # noqa: S112 - a duplicate in the sample; the demo goes on
                continue
    if student is None:
        return
    some = new[0]
    logic.recommend(library, student, isbn=some.isbn, note="毕业论文需要")
    arrived = logic.recommend(
        library, student, title="森林生态学（第3版）", author="李景文", publisher="中国林业出版社"
    )
    logic.move_recommendation(arrived, RecStatus.ORDERED, acq)
    logic.move_recommendation(arrived, RecStatus.ARRIVED, acq, answer="已到馆，索书号 S718.5/12")
    book = Holding.objects.filter(library=library).exclude(call_number="").first()
    d = logic.request_delivery(
        library,
        student,
        holding_id=book.pk if book else None,
        title="树木学",
        recipient="张同学",
        phone="13800000000",
        address="黑龙江省哈尔滨市香坊区和兴路26号",
    )
    logic.move_delivery(d, ShipStatus.PICKED, acq)
    logic.move_delivery(d, ShipStatus.SHIPPED, acq, tracking_no="SF1300000001", courier="顺丰速运")


def load(library: Library, today: dt.date) -> None:
    rng = random.Random(SEED)
    _clear(library)
    _past(library, rng)
    _present(library, rng, today)
