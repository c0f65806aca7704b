"""Demo data of the reference desk for the seed library: the desk's targets (first answer within
30 minutes, 08:00–22:00, the seed's service hours), canned answers, and the questions of
February 2020 when the campus closed (CNKI off campus, CARSI, VPN, the thesis receipt, a
full text), asked by web chat, e-mail, WeCom and telephone; plus two open ones today.
Through the desk's own functions; idempotent (the demo tickets are replaced)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.utils import timezone

from lifeline.core.choices import Role
from lifeline.core.models import Library
from lifeline.reference import services
from lifeline.reference.choices import TicketChannel
from lifeline.reference.models import CannedAnswer, DeskSettings, Ticket

CANNED = [
    (
        "CARSI 登录",
        "carsi",
        "请在数据库首页选择“机构登录”或“CARSI”，搜索并选择我校，"
        "用统一身份认证账号登录即可，无需 VPN。",
    ),
    (
        "VPN 使用",
        "vpn",
        "请先登录学校 VPN（webvpn），再从图书馆主页的数据库列表进入；"
        "如提示账号被锁，请联系网络中心。",
    ),
    (
        "转文献传递",
        "dd",
        "我馆未订购该文献，已为您提交文献传递申请，一般 1 个工作日内将全文发到您的邮箱。",
    ),
]

# (day in Feb 2020, hour, minute, channel, contact, question, answer (a canned key or the text),
#  minutes to answer, rating)
QUESTIONS = [
    (
        3,
        8,
        40,
        TicketChannel.CHAT,
        "张同学",
        "在家里怎么访问中国知网？提示 IP 不在范围内。",
        "carsi",
        6,
        5,
    ),
    (
        3,
        9,
        15,
        TicketChannel.EMAIL,
        "刘老师",
        "CARSI 登录 Web of Science 找不到我们学校。",
        "carsi",
        25,
        4,
    ),
    (3, 21, 50, TicketChannel.WECOM, "wangwu", "VPN 连上以后万方还是打不开。", "vpn", 40, 5),
    (
        4,
        10,
        5,
        TicketChannel.PHONE,
        "陈老师",
        "学位论文提交回执怎么打印？",
        "请登录学位论文提交系统，在“我的提交”中打印回执。",
        0,
        None,
    ),
    (
        4,
        14,
        30,
        TicketChannel.WEB,
        "李同学",
        "需要 Nature 2015 年 Deep learning 全文。",
        "dd",
        55,
        4,
    ),
    (5, 11, 0, TicketChannel.CHAT, "赵同学", "超星电子书校外能看吗？", "carsi", 12, 3),
    (6, 16, 20, TicketChannel.EMAIL, "孙老师", "IEEE Xplore 下载时提示需要订阅。", "vpn", 80, None),
]


def load(library: Library, today: dt.date) -> None:
    desk = DeskSettings.for_library(library)
    desk.first_response_minutes, desk.resolution_hours = 30, 24
    desk.opens, desk.closes = dt.time(8), dt.time(22)
    desk.mail_address = desk.mail_address or f"ask@{library.code}.example.edu.cn"
    desk.save()
    canned = {}
    for title, key, body in CANNED:
        canned[key], _created = CannedAnswer.objects.update_or_create(
            library=library, title=title, defaults={"body": body, "shortcut": key}
        )
    librarian = (
        get_user_model()
        .objects.filter(
            memberships__library=library,
            memberships__role=Role.REFERENCE,
            memberships__is_active=True,
        )
        .order_by("pk")
        .first()
    )
    demo_prefix = "demo-"
    Ticket.objects.filter(library=library, token__startswith=demo_prefix).delete()
    tz = timezone.get_current_timezone()
    for n, (day, hour, minute, channel, contact, question, answer, after, rating) in enumerate(
        QUESTIONS
    ):
        asked = dt.datetime(2020, 2, day, hour, minute, tzinfo=tz)
        fields: dict[str, str] = {"contact_name": contact}
        if channel == TicketChannel.EMAIL:
            fields["contact_email"] = f"demo{n}@example.edu.cn"
        if channel == TicketChannel.WECOM:
            fields = {"wecom_user": contact}
        if channel == TicketChannel.PHONE and librarian is not None:
            ticket = services.log_call(
                library, librarian, question=question, answer_text=answer, now=asked, **fields
            )
        else:
            ticket = services.open_ticket(
                library, channel=channel, body=question, now=asked, **fields
            )
            if librarian is not None and answer:
                text = canned[answer].body if answer in canned else answer
                services.take(ticket, librarian, now=asked + dt.timedelta(minutes=1))
                services.answer(ticket, librarian, text, now=asked + dt.timedelta(minutes=after))
        Ticket.objects.filter(pk=ticket.pk).update(token=f"demo-{n:03d}-{ticket.token[:20]}")
        ticket.refresh_from_db()
        if rating and ticket.answered_at is not None:
            services.rate(ticket, rating)
        services.set_tags(ticket, ["疫情期间", "校外访问"] if n < 3 else ["疫情期间"])
    now = timezone.make_aware(dt.datetime.combine(today, dt.time(9, 30)))
    for n, (channel, question) in enumerate(
        [
            (TicketChannel.CHAT, "CNKI 校外访问：机构登录后显示“无权限”。"),
            (TicketChannel.WEB, "研究生论文查重可以线上提交吗？"),
        ]
    ):
        ticket = services.open_ticket(library, channel=channel, body=question, now=now)
        Ticket.objects.filter(pk=ticket.pk).update(token=f"demo-open-{n}-{ticket.token[:20]}")
