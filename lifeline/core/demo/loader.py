"""Load (or refresh) the demo installation. Safe to re-run: everything is keyed on codes."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from lifeline.core.audit import acting_as
from lifeline.core.choices import PatronCategory, Role
from lifeline.core.demo import data
from lifeline.core.models import Library, Membership, Patron
from lifeline.registry.choices import Language, RouteKind, TextMining
from lifeline.registry.models import AccessRoute, Category, Resource, Vendor

VPN_URL = "https://vpn.nefu.edu.cn/"
STAFF = [
    ("eres", Role.ERESOURCES, "电子资源馆员"),
    ("tech", Role.TECH, "技术支持"),
    ("reference", Role.REFERENCE, "参考咨询馆员"),
    ("subject", Role.SUBJECT, "学科馆员"),
    ("delivery", Role.DELIVERY, "文献传递馆员"),
    ("leader", Role.LEADERSHIP, "馆领导"),
]


def demo_password() -> str:
    """One password for every demo account, kept in the data directory so re-runs print the same."""
    path = Path(settings.DATA_DIR) / "demo-password.txt"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    password = secrets.token_urlsafe(9)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(password + "\n", encoding="utf-8")
    path.chmod(0o600)
    return password


def _price(key: str, foreign: bool) -> Decimal:
    # A stable pseudo-price per database, in the range libraries actually pay.
    h = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)
    return Decimal(20_000 + h % 380_000 if foreign else 8_000 + h % 180_000).quantize(Decimal("1"))


def _texts(kind: str) -> dict[str, str]:
    zh, en = data.INSTRUCTIONS[kind]
    return {"instructions": zh, "instructions_en": en}


def _routes(library: Library, res: Resource, flags: set[str], today: dt.date) -> None:
    home = res.homepage
    routes: list[AccessRoute] = [
        AccessRoute(
            resource=res,
            kind=RouteKind.CAMPUS_IP,
            url=home,
            ip_ranges=library.campus_ip_ranges,
            **_texts(RouteKind.CAMPUS_IP),
        )
    ]
    if "campus_only" in flags:
        _save_routes(res, routes)
        return
    if "carsi" in flags:
        routes.append(
            AccessRoute(
                resource=res,
                kind=RouteKind.CARSI,
                sp_login_url=data.CARSI_SP.get(res.key, home + "/Shibboleth.sso/Login"),
                target=home,
                url=home,
                **_texts(RouteKind.CARSI),
            )
        )
    if "vpn" in flags:
        routes.append(
            AccessRoute(
                resource=res,
                kind=RouteKind.VPN,
                url=VPN_URL,
                **_texts(RouteKind.VPN),
            )
        )
    if "proxy" in flags:
        routes.append(
            AccessRoute(
                resource=res,
                kind=RouteKind.PROXY,
                url=home,
                **_texts(RouteKind.PROXY),
            )
        )
    if "free" in flags:
        # The seed: vendors opened temporary free access during the closure. One ends soon.
        ends = today + dt.timedelta(days=20 if res.language == Language.CHINESE else 75)
        routes.append(
            AccessRoute(
                resource=res,
                kind=RouteKind.FREE_ACCESS,
                url=home,
                starts_on=today - dt.timedelta(days=40),
                ends_on=ends,
                **_texts(RouteKind.FREE_ACCESS),
            )
        )
    if "oa" in flags:
        routes.append(
            AccessRoute(
                resource=res,
                kind=RouteKind.OPEN_ACCESS,
                url=home,
                **_texts(RouteKind.OPEN_ACCESS),
            )
        )
    if "account" in flags:
        routes.append(
            AccessRoute(
                resource=res,
                kind=RouteKind.ACCOUNT,
                url=home,
                account_username=f"nefu_{res.key.replace('-', '_')}",
                account_password=f"Demo-{res.key[:4]}-2020",
                **_texts(RouteKind.ACCOUNT),
            )
        )
    _save_routes(res, routes)


def _save_routes(res: Resource, routes: list[AccessRoute]) -> None:
    """Upsert one route per kind, so a re-run keeps each route's id (and its probe history)."""
    fields = [
        f.name
        for f in AccessRoute._meta.concrete_fields
        if f.name not in {"id", "resource", "kind", "created_at", "updated_at"}
    ]
    for route in routes:
        AccessRoute.objects.update_or_create(
            resource=res, kind=route.kind, defaults={name: getattr(route, name) for name in fields}
        )


def _resources(
    library: Library,
    rows: list[tuple[Any, ...]],
    language: str,
    vendors: dict[str, Vendor],
    categories: dict[tuple[str, str], Category],
    today: dt.date,
) -> None:
    foreign = language == Language.FOREIGN
    cat_lang = "foreign" if foreign else "zh"
    start = dt.date(today.year, 1, 1)
    for key, name, name_en, vendor, category, types, home, flags, subs in rows:
        flag_set = set(flags.split(","))
        parent, _ = Resource.objects.update_or_create(
            library=library,
            key=key,
            defaults=dict(
                name=name,
                name_en=name_en,
                vendor=vendors[vendor],
                category=categories[(cat_lang, category)],
                language=language,
                content_types="," + ",".join(sorted(types.split(","))) + ",",
                homepage=home,
                description=f"{name}：{category}资源，含 {len(subs)} 个子库。",
                description_en=(
                    f"{name_en}: {categories[(cat_lang, category)].name_en.lower()}, "
                    f"{len(subs)} sub-databases."
                ),
                subscription_start=start,
                subscription_end=dt.date(today.year, 12, 31),
                # The seed's four new databases of 2020 (VIP exams, JD Read, the Chinese
                # flora database, WorldLib), opened in the epidemic; the others were taken
                # before (dates of our choosing: the seed gives none).
                first_subscribed=dt.date(2020, 2, 10) if "new" in flag_set else dt.date(2019, 1, 1),
                price=None if "oa" in flag_set else _price(key, foreign),
                currency="USD" if foreign else "CNY",
                off_campus_allowed="campus_only" not in flag_set,
                walk_in_only=key == "diaolong",
                concurrent_users=5 if key in {"cscd", "eps", "pkulaw"} else None,
                text_mining=TextMining.ALLOWED
                if foreign and key in {"sd", "springer", "wiley"}
                else TextMining.UNKNOWN,
                is_trial="new" in flag_set and key == "jdread",
                is_active=True,
            ),
        )
        _routes(library, parent, flag_set, today)
        for i, sub in enumerate(subs, start=1):
            Resource.objects.update_or_create(
                library=library,
                key=f"{key}-{i:02d}",
                defaults=dict(
                    parent=parent,
                    name=sub,
                    name_en=sub if foreign else "",
                    vendor=parent.vendor,
                    category=parent.category,
                    language=language,
                    content_types=parent.content_types,
                    homepage=home,
                    off_campus_allowed=parent.off_campus_allowed,
                    is_active=True,
                ),
            )


def _user(username: str, password: str, **extra: Any) -> Any:
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username, defaults={"email": f"{username}@nefu.example.edu", **extra}
    )
    if created or not user.check_password(password):
        user.set_password(password)
        for k, v in extra.items():
            setattr(user, k, v)
        user.save()
    return user


def quiet_demo_probes(libraries: list[Library]) -> None:
    """The demo's routes point at real vendors. A demo must not make this machine call them
    every five minutes (it may have no internet, and nobody asked it to watch those hosts):
    probes of demo routes start switched off; staff switch one on per route in the admin."""
    try:
        from lifeline.health.models import ProbeConfig
        from lifeline.health.standin import LABEL as STANDIN_LABEL
    except ImportError:
        return
    # Demo mode's stand-in vendor runs on this machine: its routes stay probed.
    routes = AccessRoute.objects.filter(resource__library__in=libraries).exclude(
        label=STANDIN_LABEL
    )
    ProbeConfig.objects.bulk_create(
        [ProbeConfig(route_id=pk, enabled=False) for pk in routes.values_list("pk", flat=True)],
        ignore_conflicts=True,
    )
    ProbeConfig.objects.filter(route__in=routes).update(enabled=False)


def run_app_demos(library: Library, today: dt.date) -> list[str]:
    """Each app may ship `lifeline/<app>/demo.py` with `load(library, today)` for its demo data."""
    loaded = []
    for app in (
        "health",
        "emergency",
        "delivery",
        "analytics",
        "theses",
        "selection",
        "research",
        "outreach",
        "push",
        "knowledge",
        "reference",
    ):
        try:
            module = importlib.import_module(f"lifeline.{app}.demo")
        except ModuleNotFoundError:
            continue
        module.load(library, today)
        loaded.append(app)
    return loaded


@transaction.atomic
def load_demo(today: dt.date | None = None) -> dict[str, Any]:
    today = today or timezone.localdate()
    password = demo_password()
    with acting_as(None, "loaddemo"):
        lib, _ = Library.objects.update_or_create(
            code="nefu",
            defaults=dict(
                name="东北林业大学图书馆",
                name_en="Northeast Forestry University Library",
                campus_ip_ranges="202.118.192.0/19\n219.217.0.0/20",
                proxy_prefix="https://ezproxy.nefu.edu.cn/login?url=",
                carsi_idp_entity_id="https://idp.nefu.edu.cn/idp/shibboleth",
                email="library@nefu.example.edu",
                phone="0451-5550-0000",
            ),
        )
        partner, _ = Library.objects.update_or_create(
            code="hrbeu",
            defaults=dict(
                name="哈尔滨工程大学图书馆",
                name_en="Harbin Engineering University Library",
                campus_ip_ranges="211.68.0.0/20",
                email="library@hrbeu.example.edu",
            ),
        )
        vendors = {}
        for key, name, name_en, site, contact, phone, email, wechat, hours, lang in data.VENDORS:
            vendors[key], _ = Vendor.objects.update_or_create(
                library=lib,
                key=key,
                defaults=dict(
                    name=name,
                    name_en=name_en,
                    website=site,
                    contact_name=contact,
                    phone=phone,
                    email=email,
                    wechat=wechat,
                    escalation_name=f"{contact}（主管）",
                    escalation_email=email.replace("support", "escalation"),
                    response_hours=hours,
                    preferred_language=lang,
                ),
            )
        categories = {}
        for pos, (lang, name, name_en) in enumerate(data.CATEGORIES):
            categories[(lang, name)], _ = Category.objects.update_or_create(
                library=lib,
                language=lang,
                name=name,
                defaults={"name_en": name_en, "position": pos},
            )
        _resources(lib, data.CHINESE, Language.CHINESE, vendors, categories, today)
        _resources(lib, data.FOREIGN, Language.FOREIGN, vendors, categories, today)

        # A partner library of the consortium with a few resources of its own.
        pv, _ = Vendor.objects.update_or_create(
            library=partner,
            key="cnki",
            defaults={"name": "同方知网", "name_en": "CNKI", "email": "hrbeu@cnki.example.com"},
        )
        pc, _ = Category.objects.update_or_create(
            library=partner,
            language="zh",
            name="综合学术",
            defaults={"name_en": "Multidisciplinary"},
        )
        for key, name in [("cnki", "中国知网"), ("ieee", "IEEE Xplore")]:
            r, _ = Resource.objects.update_or_create(
                library=partner,
                key=key,
                defaults={
                    "name": name,
                    "vendor": pv,
                    "category": pc,
                    "homepage": "https://www.cnki.net",
                },
            )
            _routes(partner, r, {"vpn"}, today)

        admin = _user("admin", password, is_staff=True, is_superuser=True, first_name="管理员")
        Membership.objects.get_or_create(user=admin, library=lib, role=Role.ADMIN)
        for username, role, label in STAFF:
            user = _user(username, password, is_staff=True, first_name=label)
            Membership.objects.get_or_create(user=user, library=lib, role=role)
        partner_staff = _user(
            "hrbeu-eres", password, is_staff=True, first_name="哈工程电子资源馆员"
        )
        Membership.objects.get_or_create(user=partner_staff, library=partner, role=Role.ERESOURCES)
        student = _user("student", password, first_name="张同学")
        Patron.objects.update_or_create(
            user=student,
            defaults={"library": lib, "category": PatronCategory.STUDENT, "display_name": "张同学"},
        )
        teacher = _user("teacher", password, first_name="李老师")
        Patron.objects.update_or_create(
            user=teacher,
            defaults={"library": lib, "category": PatronCategory.TEACHER, "display_name": "李老师"},
        )
        apps = run_app_demos(lib, today)
        quiet_demo_probes([lib, partner])
    return {
        "library": lib,
        "password": password,
        "users": ["admin"] + [u for u, _, _ in STAFF] + ["student", "teacher", "hrbeu-eres"],
        "resources": Resource.objects.filter(library=lib).count(),
        "apps": apps,
    }
