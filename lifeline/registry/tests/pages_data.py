"""A small catalogue for the patron-page tests: Chinese and foreign databases, every route kind."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from lifeline.core.models import Library
from lifeline.registry.choices import ContentType, Language, RouteKind, TextMining
from lifeline.registry.models import AccessRoute, Category, Resource, Vendor


@dataclass
class Catalogue:
    cnki: Resource
    cnki_theses: Resource
    wanfang: Resource
    sciencedirect: Resource
    duxiu: Resource
    hidden: Resource
    account: AccessRoute
    other_library: Resource


def build(library: Library, other: Library) -> Catalogue:
    today = timezone.localdate()
    vendor = Vendor.objects.create(
        library=library,
        key="cnki",
        name="同方知网",
        name_en="Tongfang CNKI",
        phone="400-810-9888",
        email="support@cnki.example.net",
        contact_name="王经理",
    )
    general = Category.objects.create(
        library=library, language=Language.CHINESE, name="综合", name_en="General"
    )
    science = Category.objects.create(
        library=library, language=Language.FOREIGN, name="理工", name_en="Science"
    )

    def resource(key: str, name: str, **kw: object) -> Resource:
        types = kw.pop("types", [])
        r = Resource(library=kw.pop("lib", library), key=key, name=name, **kw)
        r.set_content_types(types)  # type: ignore[arg-type]
        r.save()
        return r

    cnki = resource(
        "cnki",
        "中国知网",
        name_en="CNKI",
        vendor=vendor,
        category=general,
        language=Language.CHINESE,
        description="中国学术期刊全文数据库，收录学位论文与会议论文。",
        description_en="China Academic Journals full text.",
        types=[ContentType.JOURNALS, ContentType.THESES],
        concurrent_users=50,
        text_mining=TextMining.FORBIDDEN,
    )
    # Routes created worst-first: the page must reorder them.
    AccessRoute.objects.create(
        resource=cnki,
        kind=RouteKind.CAMPUS_IP,
        url="https://www.cnki.net/",
        ip_ranges="10.10.0.0/16",
    )
    AccessRoute.objects.create(
        resource=cnki,
        kind=RouteKind.VPN,
        url="https://www.cnki.net/",
        instructions="先连接学校VPN。",
    )
    AccessRoute.objects.create(
        resource=cnki,
        kind=RouteKind.CARSI,
        sp_login_url="https://fsso.cnki.net/Shibboleth.sso/Login",
        target="https://www.cnki.net/",
    )
    cnki_theses = resource(
        "cnki-theses",
        "中国博士学位论文全文数据库",
        name_en="CNKI Doctoral Dissertations",
        parent=cnki,
        category=general,
        types=[ContentType.THESES],
        description="博硕士论文",
    )
    wanfang = resource(
        "wanfang",
        "万方数据知识服务平台",
        name_en="Wanfang Data",
        category=general,
        types=[ContentType.JOURNALS, ContentType.PATENTS],
        subscription_start=today - dt.timedelta(days=10),
    )
    AccessRoute.objects.create(
        resource=wanfang, kind=RouteKind.PROXY, url="https://www.wanfangdata.com.cn/"
    )
    sciencedirect = resource(
        "sciencedirect",
        "ScienceDirect",
        language=Language.FOREIGN,
        category=science,
        types=[ContentType.JOURNALS],
        is_trial=True,
        description="Elsevier journals and books.",
    )
    AccessRoute.objects.create(
        resource=sciencedirect, kind=RouteKind.CAMPUS_IP, url="https://www.sciencedirect.com/"
    )
    account = AccessRoute.objects.create(
        resource=sciencedirect,
        kind=RouteKind.ACCOUNT,
        url="https://www.sciencedirect.com/",
        account_username="nefu-reader",
        account_password="S3cret-Pa55",
    )
    AccessRoute.objects.create(
        resource=sciencedirect,
        kind=RouteKind.FREE_ACCESS,
        url="https://free.sciencedirect.com/",
        ends_on=today + dt.timedelta(days=5),
    )
    duxiu = resource(
        "duxiu",
        "读秀学术搜索",
        category=general,
        types=[ContentType.EBOOKS],
        off_campus_allowed=False,
    )
    AccessRoute.objects.create(
        resource=duxiu, kind=RouteKind.CAMPUS_IP, url="https://www.duxiu.com/"
    )
    # An expired free access must not count as "works from home".
    AccessRoute.objects.create(
        resource=duxiu,
        kind=RouteKind.FREE_ACCESS,
        url="https://free.duxiu.com/",
        starts_on=today - dt.timedelta(days=60),
        ends_on=today - dt.timedelta(days=1),
    )
    hidden = resource("retired", "已停订数据库", is_active=False)
    other_library = resource("hit-only", "哈工大自建库", lib=other)
    return Catalogue(
        cnki, cnki_theses, wanfang, sciencedirect, duxiu, hidden, account, other_library
    )
