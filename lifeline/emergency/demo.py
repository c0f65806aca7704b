"""Demo data of the emergency app: the seed library's plan, its 2020 epidemic and this year's drill.

`lifeline loaddemo` calls `load(library, today)`. Everything goes through the app's services
(install the default plan, declare, change level, tick tasks, stand down), so states, timelines
and the after-action review agree. Re-running deletes this module's events and makes them again.
No event is left open: the patron banner stays off until a librarian declares one.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone, translation

from lifeline.core.models import Library, Notification
from lifeline.emergency import services
from lifeline.emergency.choices import EventCategory, Level, TaskStatus, TimelineKind
from lifeline.emergency.models import Event, EventTask, Plan

SEED = 2020
EPIDEMIC_SCOPE = "全校师生；图书馆自 2020 年 1 月 27 日起闭馆，线上资源服务不打烊"
EPIDEMIC_REASON = (
    "新冠肺炎疫情：学校落实“停课不停学、停课不停研”，春季学期延期开学，师生居家教学科研，"
    "需保障校外访问电子资源与文献传递。"
)
EPIDEMIC_CLOSE_NOTE = (
    "春季学期结束，图书馆恢复有序开馆。总结：1 月 31 日起公众号发布校外访问中外文电子资源方式"
    " 10 余条；3 月初完成中国知网、万方、维普、SD、ACS 等 CARSI 对接；Worldlib 文献服务群"
    "全年（1–10 月）受理 86712 篇、满足 83091 篇，满足率 95.8%；云端选书 11000 余种。"
    "不足：疫情初期 VPN 并发与带宽不足，7×24 技术值守未建立，联盟经验交流推迟。"
)
DRILL_REASON = "年度应急演练：模拟暴雪致全市停课、图书馆闭馆 72 小时，检验校外访问与值守安排。"
DRILL_SCOPE = "桌面推演，仅限馆员参加；不对读者发布"

# Who ticks each team's tasks (demo staff usernames from the core loader).
TEAM_USERS = {
    "leadership": "leader",
    "rules": "leader",
    "eresources": "eres",
    "online-resources": "eres",
    "tech": "tech",
    "alliance": "delivery",
    "reference": "reference",
    "reading": "subject",
}

# The epidemic's checklist, from the seed's account (sections 3.1–3.3): (team, task) → when
# (month, day, hour, minute), status, note. Tasks not listed were withdrawn or done on time.
EPIDEMIC_TASKS: dict[tuple[str, str], tuple[tuple[int, int, int, int], str, str]] = {
    ("leadership", "convene"): ((1, 27, 9, 50), TaskStatus.DONE, ""),
    ("leadership", "report-university"): ((1, 27, 10, 40), TaskStatus.DONE, ""),
    ("leadership", "opening-decision"): (
        (1, 27, 12, 0),
        TaskStatus.DONE,
        "自 1 月 27 日起闭馆，纸本借还暂停，线上服务不打烊。",
    ),
    ("leadership", "duty-rota"): ((1, 27, 14, 30), TaskStatus.DONE, ""),
    ("leadership", "cooperation"): ((1, 27, 17, 30), TaskStatus.DONE, ""),
    ("leadership", "round-the-clock"): ((1, 29, 10, 0), TaskStatus.DONE, ""),
    ("leadership", "first-review"): ((1, 30, 8, 45), TaskStatus.DONE, ""),
    ("eresources", "fault-reporting"): ((1, 27, 15, 0), TaskStatus.DONE, ""),
    ("eresources", "vendor-access"): (
        (1, 27, 22, 0),
        TaskStatus.DONE,
        "中国知网、万方、维普、超星等开通临时校外访问或免费开放。",
    ),
    ("eresources", "access-guide"): (
        (1, 31, 16, 0),
        TaskStatus.DONE,
        "公众号发布校外访问中外文电子资源方式 10 余条。",
    ),
    ("eresources", "publisher-linkage"): ((2, 5, 11, 0), TaskStatus.DONE, ""),
    ("rules", "rules-in-force"): ((1, 27, 16, 30), TaskStatus.DONE, ""),
    ("rules", "reporting-rule"): ((1, 27, 18, 0), TaskStatus.DONE, ""),
    ("rules", "record-keeping"): ((1, 29, 17, 0), TaskStatus.DONE, ""),
    ("online-resources", "check-routes"): ((1, 27, 20, 0), TaskStatus.DONE, ""),
    ("online-resources", "open-resources"): ((1, 27, 21, 0), TaskStatus.DONE, ""),
    ("online-resources", "delivery-platform"): (
        (1, 28, 17, 0),
        TaskStatus.DONE,
        "订购 Worldlib 国外文献整合平台，智能传递与微信群人工传递结合。",
    ),
    ("online-resources", "cloud-selection"): (
        (4, 10, 17, 0),
        TaskStatus.DONE,
        "4 月 6–10 日春季博览会、4 月 20–24 日世界读书日两次云端选书。",
    ),
    ("tech", "check-remote"): ((1, 27, 10, 30), TaskStatus.DONE, ""),
    ("tech", "school-linkage"): ((1, 27, 14, 0), TaskStatus.DONE, ""),
    ("tech", "carsi"): (
        (3, 6, 15, 0),
        TaskStatus.DONE,
        "与网络中心完成中国知网、万方、维普、SD、ACS 等重点数据库的 CARSI 对接。",
    ),
    ("alliance", "peer-linkage"): ((1, 27, 16, 0), TaskStatus.DONE, ""),
    ("alliance", "sharing"): (
        (4, 30, 10, 0),
        TaskStatus.NOT_DONE,
        "联盟经验交流会因疫情推迟，改在秋季学期线上举行。",
    ),
    ("reference", "online-reference"): ((1, 27, 12, 30), TaskStatus.DONE, ""),
    ("reference", "usage-guides"): ((1, 27, 19, 0), TaskStatus.DONE, ""),
    ("reference", "delivery-groups"): (
        (1, 27, 20, 30),
        TaskStatus.DONE,
        "两个文献服务微信群，节假日不休，每天 8:00–22:00。",
    ),
    ("reference", "authoritative-info"): ((1, 28, 8, 30), TaskStatus.DONE, ""),
    ("reference", "remote-research"): ((1, 30, 9, 0), TaskStatus.DONE, ""),
    ("reading", "online-reading"): (
        (2, 17, 10, 0),
        TaskStatus.DONE,
        "“且惜春光好　读书战疫时”阅读、抗疫知识竞赛、诵读三弹连发。",
    ),
    ("reading", "literacy-courses"): ((2, 2, 14, 0), TaskStatus.DONE, ""),
}

# Notes on the epidemic's timeline: (month, day, hour, minute), Chinese, English.
EPIDEMIC_NOTES: list[tuple[tuple[int, int, int, int], str, str]] = [
    (
        (1, 29, 8, 20),
        "全省启动重大突发公共卫生事件一级响应，学校通知春季学期延期开学。",
        "The province moved to a level I public-health response; the university postponed the "
        "spring term.",
    ),
    (
        (2, 10, 9, 0),
        "VPN 并发不足，访问高峰时段响应慢；网络中心临时扩容，同时加快 CARSI 对接。",
        "The VPN ran out of concurrent sessions at peak hours; the network centre added capacity "
        "while CARSI was brought forward.",
    ),
    (
        (3, 25, 8, 50),
        "全省应急响应调整为二级，恢复正常值守安排。",
        "The province lowered its response to level II; the normal duty rota resumed.",
    ),
    (
        (5, 6, 8, 50),
        "全省应急响应调整为三级，图书馆筹备有序开馆。",
        "The province lowered its response to level III; the library prepared to reopen.",
    ),
    (
        (6, 30, 16, 0),
        "事后评估：文献传递群 1–10 月受理 86712 篇、满足 83091 篇，满足率 95.8%，日均 200 余篇；"
        "校外访问由 VPN 为主转为 CARSI 为主。",
        "After-action review: the delivery groups took 86,712 requests in January–October and "
        "supplied 83,091 (95.8%, over 200 a day); remote access moved from the VPN to CARSI.",
    ),
    (
        (6, 30, 16, 30),
        "改进项：预案增设 7×24 技术值守的备岗人员；与数据商提前约定临时访问期限与续期；"
        "联盟经验交流改为线上定期举行。",
        "To improve: name a deputy for the round-the-clock technical watch; agree temporary "
        "access periods and renewals with vendors in advance; hold alliance exchanges online on "
        "a schedule.",
    ),
]

# The drill is a tabletop exercise: each team talks its tasks through in deadline order, one
# every quarter of an hour. These differ from a plain "done": (team, task) → status, note.
DRILL_TASKS: dict[tuple[str, str], tuple[str, str]] = {
    ("tech", "check-remote"): (TaskStatus.DONE, "VPN 与代理服务器负载正常。"),
    ("tech", "school-linkage"): (
        TaskStatus.NOT_DONE,
        "网络中心联系人电话已变更，需更新预案通讯录。",
    ),
    ("online-resources", "cloud-selection"): (TaskStatus.DONE, "书面推演。"),
    ("reading", "online-reading"): (TaskStatus.DONE, "书面推演。"),
}
DRILL_STEP = dt.timedelta(minutes=15)


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime(day.year, day.month, day.day, hour, minute), timezone.get_default_timezone()
    )


def _bilingual(zh: str, en: str) -> Callable[[], str]:
    return lambda: en if (translation.get_language() or "").startswith("en") else zh


def _users() -> dict[str, Any]:
    names = set(TEAM_USERS.values())
    return {u.username: u for u in get_user_model().objects.filter(username__in=names)}


def _tasks(event: Event) -> dict[tuple[str, str], EventTask]:
    return {(t.team_key, t.key): t for t in event.tasks.all()}


def _tick(
    event: Event,
    key: tuple[str, str],
    status: str,
    note: str,
    at: dt.datetime,
    users: dict[str, Any],
) -> None:
    task = _tasks(event).get(key)
    if task is None or task.status != TaskStatus.OPEN:
        return
    user = users.get(TEAM_USERS.get(key[0], ""))
    services.set_task_status(task, status, user=user, note=note, now=at)


def _epidemic(library: Library, plan: Plan, users: dict[str, Any], rng: random.Random) -> Event:
    leader = users.get("leader")
    start = _at(dt.date(2020, 1, 27), 9, 0)
    event = services.declare(
        library,
        plan,
        category=EventCategory.PUBLIC_HEALTH,
        level=Level.II,
        scope=EPIDEMIC_SCOPE,
        reason=EPIDEMIC_REASON,
        user=leader,
        now=start,
    )
    # One list of steps in time order, so level changes see the tasks as they stood then.
    steps: list[tuple[dt.datetime, int, Callable[[], None]]] = []

    for (month, day, hour, minute), zh, en in EPIDEMIC_NOTES:
        at = _at(dt.date(2020, month, day), hour, minute)
        steps.append((at, 0, functools.partial(_note, event, zh, en, leader, at)))
    for key, ((month, day, hour, minute), status, note) in EPIDEMIC_TASKS.items():
        # A few minutes' jitter, fixed by the seed, so the timeline does not look machine-made.
        at = _at(dt.date(2020, month, day), hour, minute) + dt.timedelta(minutes=rng.randint(0, 9))
        steps.append((at, 1, functools.partial(_tick, event, key, status, note, at, users)))
    for month, day, to in ((1, 29, Level.I), (3, 25, Level.II), (5, 6, Level.III)):
        at = _at(dt.date(2020, month, day), 9, 0)
        steps.append((at, 2, functools.partial(_change, event, to, leader, at)))
    for _when, _order, step in sorted(steps, key=lambda s: (s[0], s[1])):
        step()
    return services.stand_down(
        event, user=leader, note=EPIDEMIC_CLOSE_NOTE, now=_at(dt.date(2020, 6, 30), 17, 0)
    )


def _note(event: Event, zh: str, en: str, user: Any, at: dt.datetime) -> None:
    services.log(event, TimelineKind.NOTE, _bilingual(zh, en), user=user, at=at)


def _change(event: Event, to: int, user: Any, at: dt.datetime) -> None:
    services.change_level(event, to, user=user, now=at)


def _drill(library: Library, plan: Plan, users: dict[str, Any], today: dt.date) -> Event:
    leader = users.get("leader")
    day = today - dt.timedelta(days=40)
    if day.year != today.year:
        day = dt.date(today.year, 1, 2) if today > dt.date(today.year, 1, 2) else today
    start = _at(day, 9, 0)
    event = services.declare(
        library,
        plan,
        category=EventCategory.NATURAL_DISASTER,
        level=Level.III,
        scope=DRILL_SCOPE,
        reason=DRILL_REASON,
        user=leader,
        drill=True,
        now=start,
    )
    at = start
    for task in event.tasks.order_by("due_at", "position"):
        at += DRILL_STEP
        status, note = DRILL_TASKS.get((task.team_key, task.key), (TaskStatus.DONE, ""))
        _tick(event, (task.team_key, task.key), status, note, at, users)
    return services.stand_down(
        event,
        user=leader,
        note="演练结束：各组按时限推演全部任务；网络中心联系人已变更，须更新预案通讯录。",
        now=at + dt.timedelta(minutes=30),
    )


def load(library: Library, today: dt.date) -> None:
    """The default plan as the library's plan, the 2020 epidemic (closed) and a drill this year."""
    rng = random.Random(SEED)
    users = _users()
    Event.objects.filter(library=library).filter(
        Q(is_drill=False, declared_at=_at(dt.date(2020, 1, 27), 9, 0), reason=EPIDEMIC_REASON)
        | Q(is_drill=True, reason=DRILL_REASON)
    ).delete()
    plan = services.install_default_plan(library)
    events = [_epidemic(library, plan, users, rng), _drill(library, plan, users, today)]
    # The services queue team notices (placeholder example.edu addresses): a demo of past
    # events sends nothing, so its queued notices go.
    keys = Q()
    for event in events:
        keys |= Q(dedupe_key__startswith=f"emergency:{event.pk}:")
    Notification.objects.filter(library=library).filter(keys).delete()
