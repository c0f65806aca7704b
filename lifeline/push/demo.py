"""Demo data of push for the seed library (NEFU): what it published in the 2020 closure.

The seed (3.1.7, 3.3.3): from 31 January 2020 the library published more than ten notices on
off-campus access to Chinese and foreign databases through its official account; in early March
CNKI, Wanfang, VIP, ScienceDirect and ACS were joined to CARSI; epidemic knowledge and database
training went out through the website, the official account and the service groups. Dates and
wording below are ours, after those facts. Through the app's own functions; idempotent.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from lifeline.core.models import Library
from lifeline.push.choices import State
from lifeline.push.logic import publish, subscriptions
from lifeline.push.models import Announcement, Subscriber

TZ = dt.timezone(dt.timedelta(hours=8))

ITEMS = [
    (
        dt.datetime(2020, 1, 31, 10, 0, tzinfo=TZ),
        "guide",
        "access-guide",
        "疫情期间校外访问电子资源指南",
        "Off-campus access to e-resources during the epidemic",
        "<p>疫情防控期间，师生可通过以下方式在校外访问图书馆电子资源：</p>"
        "<ol><li><strong>CARSI</strong>：在数据库登录页选择“CARSI/机构登录”，选择东北林业大学，"
        "用统一身份认证账号登录。</li>"
        "<li><strong>VPN</strong>：登录学校 VPN 后按校内方式访问。</li>"
        "<li>数据商临时免费开放的资源见本馆公众号。</li></ol>"
        "<p>遇到无法访问，请通过“数据库故障申报”告诉我们。</p>",
        "<p>While the campus is closed, reach the library's e-resources from home:</p>"
        "<ol><li><strong>CARSI</strong>: on the database's sign-in page choose “CARSI / "
        "institutional login”, pick Northeast Forestry University and sign in with your campus "
        "account.</li><li><strong>VPN</strong>: connect to the campus VPN, then use the "
        "database as on campus.</li><li>Resources vendors opened free of charge are listed on "
        "our official account.</li></ol><p>If a database fails, tell us through the fault-report "
        "form.</p>",
    ),
    (
        dt.datetime(2020, 2, 3, 9, 30, tzinfo=TZ),
        "service",
        "",
        "中国知网（CNKI）疫情期间免费开放通知",
        "CNKI open free of charge during the epidemic",
        "<p>中国知网面向全国用户免费开放“知网研学”与部分数据库，校外无需登录即可检索下载，"
        "开放期间以知网公告为准。</p>",
        "<p>CNKI opens its study platform and some databases to everyone free of charge; search "
        "and download from off campus without signing in, for the period CNKI announces.</p>",
    ),
    (
        dt.datetime(2020, 2, 10, 15, 0, tzinfo=TZ),
        "epidemic",
        "authoritative-info",
        "新冠肺炎科学防护知识",
        "Protecting yourself against COVID-19",
        "<p>请关注国家卫生健康委员会发布的权威信息，勤洗手、戴口罩、少聚集。</p>"
        "<p>图书馆整理了新冠研究的开放获取资源专题，供师生科研参考。</p>",
        "<p>Follow the National Health Commission's official advice: wash hands, wear a mask, "
        "avoid gatherings.</p><p>The library lists open-access COVID-19 research for "
        "reference.</p>",
    ),
    (
        dt.datetime(2020, 3, 5, 9, 0, tzinfo=TZ),
        "service",
        "",
        "知网、万方、维普、SD、ACS 已开通 CARSI 校外访问",
        "CNKI, Wanfang, VIP, ScienceDirect and ACS now reachable through CARSI",
        "<p>经图书馆与网络中心联合攻关，以上数据库已完成 CARSI 对接，"
        "师生无需 VPN 即可在校外访问。</p>",
        "<p>The library and the network centre have joined these databases to CARSI: reach them "
        "from off campus without the VPN.</p>",
    ),
    (
        dt.datetime(2020, 3, 12, 14, 0, tzinfo=TZ),
        "training",
        "",
        "线上数据库检索培训：Web of Science 与 CNKI",
        "Online database training: Web of Science and CNKI",
        "<p>每周四 14:00 在线开讲，面向毕业生与研究生，讲解检索技巧与校外访问。</p>",
        "<p>Thursdays at 14:00 online, for graduating students and postgraduates: searching and "
        "off-campus access.</p>",
    ),
]


def load(library: Library, today: dt.date) -> None:
    Announcement.objects.filter(library=library).delete()
    for when, topic, task_key, title, title_en, body, body_en in ITEMS:
        ann = publish.save_announcement(
            Announcement(
                library=library,
                topic=topic,
                title=title,
                title_en=title_en,
                body=body,
                body_en=body_en,
                plan_task_key=task_key,
                # History: nobody is e-mailed again about 2020.
                send_email=False,
                send_robots=False,
            )
        )
        publish.move(ann, State.PUBLISHED, now=when, note="demo")
    # A draft for the next emergency: published by the plan's "access-guide" task.
    publish.save_announcement(
        Announcement(
            library=library,
            topic="service",
            title="图书馆闭馆期间服务安排",
            title_en="Library services while the building is closed",
            body="<p>闭馆期间线上咨询每天 8:00–22:00，文献传递群照常服务。</p>",
            body_en="<p>Online reference daily 8:00–22:00; the document-delivery groups work as "
            "usual.</p>",
            plan_task_key="online-reference",
        )
    )
    Subscriber.objects.filter(library=library).delete()
    now = timezone.now()
    for i, lang in enumerate(["zh-hans", "zh-hans", "en"]):
        address = f"reader{i + 1}@nefu.example.edu"
        Subscriber.objects.create(
            library=library,
            email=address,
            digest=subscriptions.digest(address),
            topics=",service,guide,epidemic,training,",
            language=lang,
            confirmed_at=now,
        )
