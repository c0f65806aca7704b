"""Demo data of the analytics app: the seed library's COUNTER use from 2019 to last month (with
the 2020 campus closure visible), proxy-log days for the off-campus share, dated exchange rates,
a small title report and a SUSHI account that is never harvested.

Everything is stored through the importer (`store_report`), which replaces what an earlier run
said about the same platforms and months, so a second `loaddemo` leaves the same rows."""

from __future__ import annotations

import calendar
import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from lifeline.analytics.choices import LogStatus, Release
from lifeline.analytics.counter.parse import ItemKey, ParsedReport, UsageRow
from lifeline.analytics.importer import store_report
from lifeline.analytics.models import (
    DailyUsage,
    ExchangeRate,
    LogImport,
    SushiCredential,
    UsageSource,
)
from lifeline.analytics.services import match_titles
from lifeline.core.demo import data
from lifeline.core.models import Library
from lifeline.registry.models import Resource, Vendor

SEED = 2020
FIRST_MONTH = dt.date(2019, 1, 1)
# The seed's epidemic: campus closed from February to June 2020.
CLOSURE = {2: 0, 3: 1, 4: 2, 5: 3, 6: 4}  # month → index into the factor rows below
# Factors on normal use per closure month (Feb..Jun) by how a database is reached from home.
REMOTE_FRIENDLY = (1.35, 1.45, 1.5, 1.4, 1.3)  # CARSI, proxy or personal accounts
VPN_ONLY = (0.75, 0.9, 1.0, 1.05, 1.0)  # the VPN was saturated in the first weeks
CAMPUS_ONLY = (0.15, 0.1, 0.1, 0.1, 0.3)  # IP ranges only: use collapses
FREE_ACCESS = 1.8  # vendors' temporary free access during the closure
SEASON = (0.75, 0.55, 1.1, 1.15, 1.15, 1.05, 0.6, 0.55, 1.05, 1.15, 1.2, 1.1)
GROWTH = 1.04  # per year
# Monthly Total_Item_Requests of a normal month in 2019 (others get a stable random figure).
BASE = {
    "cnki": 42_000,
    "wanfang": 15_000,
    "vip": 8_500,
    "chaoxing": 9_000,
    "duxiu": 6_000,
    "sd": 11_000,
    "springer": 5_200,
    "wiley": 3_600,
    "wos": 7_500,
    "acs": 2_400,
    "ebsco": 2_800,
    "cabi": 1_500,
    "iel": 1_900,
    "nature": 1_700,
    "tandf": 1_300,
    "jstor": 900,
    "proquest": 1_600,
    "pkulaw": 1_400,
    "cscd": 1_800,
    "eps": 700,
    "cnki-books": 1_100,
}
# Resources whose vendors send no COUNTER report: their use comes from the proxy logs only.
NO_COUNTER = ("forestry-dl", "bookan", "kuke")
# COUNTER resources also seen in the proxy logs (for the off-campus share).
LOGGED = ("cnki", "sd")
NO_LICENSE = {"sd", "springer", "wiley", "wos", "iel", "jstor", "acs"}
CONCURRENT = {"cscd", "eps", "pkulaw"}
# Years the loaded resources started (the seed's "new" databases).
STARTED = {"jdread": 2025, "worldlib": 2024, "bio-flora": 2023, "vip-exam": 2024}
# CNY per unit on 1 January (and one mid-2020 rate), roughly the published central parity.
RATES = {
    "USD": {
        dt.date(2019, 1, 1): "6.8632",
        dt.date(2020, 1, 1): "6.9762",
        dt.date(2020, 7, 1): "7.0795",
        dt.date(2021, 1, 1): "6.5249",
        dt.date(2022, 1, 1): "6.3757",
        dt.date(2023, 1, 1): "6.9646",
        dt.date(2024, 1, 1): "7.0920",
        dt.date(2025, 1, 1): "7.1884",
    },
    "EUR": {
        dt.date(2019, 1, 1): "7.8473",
        dt.date(2020, 1, 1): "7.8155",
        dt.date(2020, 7, 1): "7.9610",
        dt.date(2021, 1, 1): "8.0250",
        dt.date(2022, 1, 1): "7.2197",
        dt.date(2023, 1, 1): "7.4229",
        dt.date(2024, 1, 1): "7.8592",
        dt.date(2025, 1, 1): "7.5257",
    },
}
# Elsevier journals a forestry university reads: (title, print ISSN, online ISSN, share of use).
TITLES = [
    ("Forest Ecology and Management", "0378-1127", "1872-7042", 9),
    ("Agricultural and Forest Meteorology", "0168-1923", "1873-2240", 5),
    ("Biological Conservation", "0006-3207", "1873-2917", 4),
    ("Ecological Indicators", "1470-160X", "1872-7034", 6),
    ("Science of the Total Environment", "0048-9697", "1879-1026", 8),
    ("Journal of Cleaner Production", "0959-6526", "1879-1786", 5),
    ("Bioresource Technology", "0960-8524", "1873-2976", 6),
    ("Carbohydrate Polymers", "0144-8617", "1879-1344", 5),
    ("Industrial Crops and Products", "0926-6690", "1872-633X", 4),
    ("Urban Forestry & Urban Greening", "1618-8667", "1610-8167", 3),
    ("Remote Sensing of Environment", "0034-4257", "1879-0704", 4),
    ("Ecological Modelling", "0304-3800", "1872-7026", 3),
    ("Journal of Environmental Management", "0301-4797", "1095-8630", 4),
    ("Soil Biology and Biochemistry", "0038-0717", "1879-3428", 3),
    ("Geoderma", "0016-7061", "1872-6259", 2),
    ("Catena", "0341-8162", "1872-6887", 2),
    ("Chemosphere", "0045-6535", "1879-1298", 3),
    ("Environmental Pollution", "0269-7491", "1873-6424", 3),
    ("Journal of Hydrology", "0022-1694", "1879-2707", 2),
    ("Food Chemistry", "0308-8146", "1873-7072", 2),
]
TITLE_SHARE = 0.12  # of ScienceDirect's use: the sample of titles in the demo's title report
SUSHI_URL = "https://sushi.example.com/counter/r51"
LOG_NAMES = ("demo-ezproxy-2019-01_2020-08.log", "demo-ezproxy-last-12-months.log")


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    out, month = [], first
    while month <= last:
        out.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return out


def _month_end(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _flags() -> dict[str, set[str]]:
    return {row[0]: set(row[7].split(",")) for row in [*data.CHINESE, *data.FOREIGN]}


def _closure_factor(flags: set[str], month: dt.date) -> float:
    if month.year != 2020 or month.month not in CLOSURE:
        return 1.05 if month.year == 2020 and month.month > 6 else 1.0
    i = CLOSURE[month.month]
    if "campus_only" in flags:
        factor = CAMPUS_ONLY[i]
    elif flags & {"carsi", "proxy", "account", "oa"}:
        factor = REMOTE_FRIENDLY[i]
    else:
        factor = VPN_ONLY[i]
    return factor * (FREE_ACCESS if "free" in flags else 1.0)


def _monthly_use(key: str, base: int, flags: set[str], month: dt.date, rng: random.Random) -> int:
    if month.year < STARTED.get(key, 0):
        return 0
    growth = GROWTH ** (month.year - 2019)
    noise = rng.uniform(0.9, 1.1)
    factor = SEASON[month.month - 1] * growth * _closure_factor(flags, month) * noise
    return max(0, round(base * factor))


def _base(key: str) -> int:
    return BASE.get(key) or random.Random(f"{SEED}-{key}").randrange(300, 2_500)


def _usage_rows(
    platform: str, resource: Resource, flags: set[str], months: list[dt.date], rng: random.Random
) -> list[UsageRow]:
    key = resource.key
    base = _base(key)
    database = resource.name_en or resource.name
    rows: list[UsageRow] = []
    for month in months:
        total = _monthly_use(key, base, flags, month, rng)
        if not total:
            continue
        closed = month.year == 2020 and month.month in CLOSURE
        counts = {
            "Total_Item_Requests": total,
            "Unique_Item_Requests": round(total * rng.uniform(0.66, 0.74)),
            "Searches_Regular": round(total * rng.uniform(1.6, 2.0)),
        }
        if key in NO_LICENSE:
            # Off campus, readers follow links into content the library does not subscribe to.
            counts["No_License"] = round(total * (0.05 if closed else 0.02) * rng.uniform(0.8, 1.2))
        if key in CONCURRENT:
            counts["Limit_Exceeded"] = round(
                total * (0.09 if closed else 0.012) * rng.uniform(0.8, 1.2)
            )
        for metric, n in counts.items():
            if n:
                rows.append((platform, database, None, metric, month, n))
    return rows


def _parsed(report_id: str, rows: list[UsageRow], first: dt.date, last: dt.date) -> ParsedReport:
    names = {"DR": "Database Master Report", "TR": "Title Master Report"}
    return ParsedReport(
        report_id=report_id,
        release=Release.R51,
        report_name=names[report_id],
        institution_name="东北林业大学 Northeast Forestry University",
        customer_id="NEFU-0451",
        created_by="COUNTER demo",
        begin=first,
        end=_month_end(last),
        file_format="tsv",
        rows=rows,
    )


def _counter(library: Library, months: list[dt.date], rng: random.Random) -> None:
    flags = _flags()
    parents = list(
        Resource.objects.filter(library=library, parent__isnull=True)
        .exclude(key__in=NO_COUNTER)
        .select_related("vendor")
        .order_by("key")
    )
    by_vendor: dict[str, list[Resource]] = {}
    for resource in parents:
        by_vendor.setdefault(resource.vendor.key if resource.vendor else "", []).append(resource)
    first, last = months[0], months[-1]
    for vendor_key in sorted(by_vendor):
        group = by_vendor[vendor_key]
        shared = len(group) > 1 and vendor_key not in {"", "other-cn"}
        platforms: dict[str, list[Resource]] = {}
        for resource in group:
            vendor_name = resource.vendor.name_en if resource.vendor else ""
            platform = vendor_name if shared else (resource.name_en or resource.name)
            platforms.setdefault(platform, []).append(resource)
        for platform, resources in platforms.items():
            rows: list[UsageRow] = []
            for resource in resources:
                rows += _usage_rows(platform, resource, flags.get(resource.key, set()), months, rng)
            if not rows:
                continue
            filename = f"{platform.replace(' ', '_')}_DR_{first:%Y-%m}_{last:%Y-%m}.tsv"
            store_report(library, _parsed("DR", rows, first, last), filename=filename)
            for resource in resources:
                UsageSource.objects.filter(
                    library=library, platform=platform, database=resource.name_en or resource.name
                ).update(resource=resource)


def _title_report(library: Library, months: list[dt.date], rng: random.Random) -> None:
    sd = Resource.objects.filter(library=library, key="sd").first()
    if sd is None:
        return
    flags = _flags().get("sd", set())
    platform = sd.name_en or sd.name
    weight = sum(share for *_t, share in TITLES)
    base = _base("sd") * TITLE_SHARE
    rows: list[UsageRow] = []
    for title, print_issn, online_issn, share in TITLES:
        item: ItemKey = (title, "", "", "", print_issn, online_issn, "")
        for month in months:
            total = _monthly_use("sd", round(base * share / weight), flags, month, rng)
            if total:
                rows.append((platform, "", item, "Total_Item_Requests", month, total))
                rows.append(
                    (platform, "", item, "Unique_Item_Requests", month, round(total * 0.75))
                )
    first, last = months[0], months[-1]
    filename = f"ScienceDirect_TR_J1_{first:%Y-%m}_{last:%Y-%m}.tsv"
    store_report(library, _parsed("TR", rows, first, last), filename=filename)
    UsageSource.objects.filter(library=library, platform=platform, database="").update(resource=sd)
    match_titles(library)


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _off_campus(day: dt.date) -> float:
    if day.year == 2020 and day.month in CLOSURE:
        return 0.86
    if day < dt.date(2020, 1, 20):
        return 0.24
    if day.year == 2020:
        return 0.4
    return 0.33


def _logs(library: Library, last: dt.date, rng: random.Random) -> None:
    """Proxy-log days: the 2019–2020 epidemic year, and the last twelve months."""
    old = list(LogImport.objects.filter(library=library, filename__in=LOG_NAMES))
    stale = DailyUsage.objects.filter(log_import_id__in=[o.pk for o in old])
    stale._raw_delete(stale.db)
    for log in old:
        log.delete()
    flags = _flags()
    resources = {
        r.key: r for r in Resource.objects.filter(library=library, key__in=(*LOGGED, *NO_COUNTER))
    }
    periods = [
        (LOG_NAMES[0], dt.date(2019, 1, 1), dt.date(2020, 8, 31)),
        (LOG_NAMES[1], (last.replace(day=1) - dt.timedelta(days=335)).replace(day=1), last),
    ]
    for filename, first, end in periods:
        days = _days(first, end)
        rows: list[DailyUsage] = []
        log = LogImport.objects.create(
            library=library,
            filename=filename,
            status=LogStatus.DONE,
            first_day=first,
            last_day=end,
        )
        for key in sorted(resources):
            resource = resources[key]
            # Proxy logs see about half of what COUNTER counts for the same database.
            share = 0.5 if key in LOGGED else 1.0
            base = _base(key) * share
            for day in days:
                month = day.replace(day=1)
                monthly = _monthly_use(key, round(base), flags.get(key, set()), month, rng)
                per_day = monthly / calendar.monthrange(day.year, day.month)[1]
                weekday = 0.6 if day.weekday() >= 5 else 1.1
                total = round(per_day * weekday * rng.uniform(0.85, 1.15))
                off = round(total * _off_campus(day))
                for on_campus, n in ((True, total - off), (False, off)):
                    if n:
                        rows.append(
                            DailyUsage(
                                log_import=log,
                                resource=resource,
                                day=day,
                                on_campus=on_campus,
                                requests=n,
                                investigations=round(n * 1.6),
                                users=max(1, n // 4),
                            )
                        )
        DailyUsage.objects.bulk_create(rows, batch_size=2000)
        requests = sum(r.requests for r in rows)
        lines = requests * 9
        log.size = lines * 230
        log.bytes_done = log.size
        log.lines = lines
        log.parsed = lines - lines // 2000
        log.unparseable = lines // 2000
        log.furniture = lines - requests * 3
        log.unsuccessful = requests // 40
        log.double_clicks = requests // 25
        log.finished_at = timezone.now()
        log.save()


def _rates(library: Library, today: dt.date) -> None:
    for currency, table in RATES.items():
        for valid_from, rate in table.items():
            if valid_from <= today:
                ExchangeRate.objects.update_or_create(
                    library=library,
                    currency=currency,
                    valid_from=valid_from,
                    defaults={"cny_per_unit": Decimal(rate)},
                )
        # Later years repeat the last published rate, so this year's prices convert.
        latest = max(table)
        for year in range(latest.year + 1, today.year + 1):
            ExchangeRate.objects.update_or_create(
                library=library,
                currency=currency,
                valid_from=dt.date(year, 1, 1),
                defaults={"cny_per_unit": Decimal(table[latest])},
            )


def _sushi(library: Library) -> None:
    vendor = Vendor.objects.filter(library=library, key="elsevier").first()
    SushiCredential.objects.update_or_create(
        library=library,
        name="Elsevier ScienceDirect（演示，不自动采集）",
        defaults={
            "vendor": vendor,
            "base_url": SUSHI_URL,
            "release": Release.R51,
            "customer_id": "NEFU-0451",
            "requestor_id": "demo-requestor",
            "api_key": "",
            "reports": "DR,TR",
            "is_active": False,  # never harvested by the monthly job
            "timeout_seconds": 30,
        },
    )


def load(library: Library, today: dt.date) -> None:
    rng = random.Random(SEED)
    last = today.replace(day=1) - dt.timedelta(days=1)
    months = _months(FIRST_MONTH, last.replace(day=1))
    _rates(library, today)
    _sushi(library)
    _counter(library, months, rng)
    _title_report(library, months, rng)
    _logs(library, last, rng)
