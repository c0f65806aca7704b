"""Demo data of document delivery for the seed library (NEFU).

Two pictures: the seed's epidemic year 2020 (86,712 requests through the two WorldLib WeChat
service groups, 83,091 supplied, 95.8 %; table 2: 72,584 / 69,170 in January–October), loaded as
anonymised past requests in one bulk insert; and the present: suppliers (the partner library
hrbeu, an outside service, a commercial supplier) and a handful of open requests of the demo
patrons in the staff queue, moved through the app's own workflow functions.

Idempotent: the 2020 rows are keyed on their external ids and only rewritten when their count is
not the expected one; the present's requests are deleted (with their partner copies, ISO 18626
messages and files) and filed again.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import connections, router
from django.db.models import Q
from django.utils import timezone
from lxml import etree

from lifeline.core import audit
from lifeline.core.choices import AuditAction
from lifeline.core.models import Library
from lifeline.delivery import services
from lifeline.delivery.choices import DocType, Status, SupplierKind, UnfilledReason
from lifeline.delivery.logic import ill
from lifeline.delivery.logic.hours import add_service_hours, window
from lifeline.delivery.logic.peers import local_agency
from lifeline.delivery.models import DeliveryFile, DeliveryRequest, IsoMessage, Peer, Supplier

SEED = 2020
PREFIX = "WL2020-"
BATCH = 500  # rows per INSERT: 500 × 41 parameters stay under SQLite's 32,766
YEAR = 2020
# The seed: 86,712 requested and 83,091 supplied in 2020; table 2: 72,584 / 69,170 up to October.
JAN_OCT = (72_584, 69_170)
NOV_DEC = (86_712 - 72_584, 83_091 - 69_170)
TOTAL = JAN_OCT[0] + NOV_DEC[0]
# Requests per month: the outbreak closed the campus in late January; teaching and research moved
# online from February (peak in March–May); quieter summer; back on campus in the autumn.
MONTH_WEIGHTS = [4, 9, 12, 12, 11, 8, 6, 5, 8, 10, 8, 7]
CHANNELS = ["WorldLib群1", "WorldLib群2"]
# Table 3 (January–September) names the two WorldLib services that supplied the documents.
WORLDLIB = [
    ("worldlib其他数据库", "WorldLib other databases", 36_056),
    ("worldlib人工智能在线咨询", "WorldLib AI online delivery", 49_796),
]
TYPE_WEIGHTS = [
    (DocType.FOREIGN_ARTICLE, 46),
    (DocType.CHINESE_ARTICLE, 21),
    (DocType.THESIS, 10),
    (DocType.FOREIGN_BOOK, 7),
    (DocType.CHINESE_BOOK, 6),
    (DocType.TEXTBOOK, 4),
    (DocType.STANDARD, 4),
    (DocType.PATENT, 2),
]
JOURNALS = [
    ("Forest Ecology and Management", "0378-1127"),
    ("Nature", "0028-0836"),
    ("Science", "0036-8075"),
    ("Wood Science and Technology", "0043-7719"),
    ("Journal of Forestry Research", "1007-662X"),
    ("Holzforschung", "0018-3830"),
    ("Tree Physiology", "0829-318X"),
    ("Bioresource Technology", "0960-8524"),
    ("Global Change Biology", "1354-1013"),
    ("Carbohydrate Polymers", "0144-8617"),
]
TOPICS = [
    "Carbon storage of boreal larch forests",
    "Fire regimes in the Greater Khingan Mountains",
    "Lignin valorisation by catalytic depolymerisation",
    "Drought response of Korean pine seedlings",
    "Nanocellulose films for food packaging",
    "Remote sensing of forest canopy height",
    "Soil microbial communities after clear-cutting",
    "Wildlife corridors for Amur tigers",
]
ZH_TITLES = [
    ("东北林区森林碳汇计量方法研究", "林业科学"),
    ("红松人工林土壤养分特征", "东北林业大学学报"),
    ("木材改性技术研究进展", "林产工业"),
    ("新冠肺炎疫情下高校图书馆服务创新", "图书情报工作"),
    ("大兴安岭林火时空分布特征", "生态学报"),
]
UNFILLED_REASONS = [
    UnfilledReason.NOT_HELD,
    UnfilledReason.NOT_HELD,
    UnfilledReason.NOT_AVAILABLE,
    UnfilledReason.COPYRIGHT,
    UnfilledReason.BAD_CITATION,
]
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _split(total: int, weights: list[int]) -> list[int]:
    """`total` shared out in proportion to `weights` (largest remainder): the parts sum exactly."""
    whole = sum(weights)
    parts = [total * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: -(total * weights[i] % whole))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _suppliers(library: Library) -> dict[str, Supplier]:
    partner = Library.objects.filter(code="hrbeu").first()
    rows: list[tuple[str, dict[str, Any]]] = [
        (
            name,
            {
                "name_en": name_en,
                "kind": SupplierKind.OUTSIDE,
                "url": "https://www.worldlib.com.cn/",
                "notes": "2020年订购的Worldlib国外文献整合平台：人工智能传递与微信群人工传递。",
            },
        )
        for name, name_en, _count in WORLDLIB
    ]
    rows += [
        (
            "CASHL 开世览文",
            {
                "name_en": "CASHL (China Academic Social Sciences and Humanities Library)",
                "kind": SupplierKind.OUTSIDE,
                "email": "ill@cashl.example.edu",
                "url": "https://www.cashl.edu.cn/",
                "notes": "高校人文社科外文文献传递，按篇计费，学校补贴。",
            },
        ),
        (
            "学术快递文献服务公司",
            {
                "name_en": "Scholarly Express Document Supply (commercial)",
                "kind": SupplierKind.COMMERCIAL,
                "email": "orders@docsupply.example.com",
                "notes": "商业供应商：外文期刊单篇购买，48小时内交付，单篇限额200元。",
            },
        ),
    ]
    if partner is not None:
        rows.append(
            (
                partner.name,
                {
                    "name_en": partner.name_en,
                    "kind": SupplierKind.PARTNER,
                    "partner": partner,
                    "email": partner.email,
                    "notes": "龙江高校图书馆联盟成员馆：ISO 18626 馆际互借，互免费用。",
                },
            )
        )
    return {
        name: Supplier.objects.update_or_create(library=library, name=name, defaults=defaults)[0]
        for name, defaults in rows
    }


_FIELDS = [f for f in DeliveryRequest._meta.concrete_fields if not f.primary_key]


def _year_rows(library: Library, worldlib: list[Supplier]) -> list[dict[str, Any]]:
    """The seed's 2020, anonymised: the month, type, channel, supplier and turnaround of each."""
    rng = random.Random(SEED)
    tz = timezone.get_current_timezone()
    types = [t.value for t, _w in TYPE_WEIGHTS]
    cum_weights = list(itertools.accumulate(w for _t, w in TYPE_WEIGHTS))
    requested = _split(JAN_OCT[0], MONTH_WEIGHTS[:10]) + _split(NOV_DEC[0], MONTH_WEIGHTS[10:])
    unfilled = _split(JAN_OCT[0] - JAN_OCT[1], MONTH_WEIGHTS[:10]) + _split(
        NOV_DEC[0] - NOV_DEC[1], MONTH_WEIGHTS[10:]
    )
    # Table 3's January–September shares of the two services decide who supplied each document.
    share = WORLDLIB[0][2] / (WORLDLIB[0][2] + WORLDLIB[1][2])
    foreign = {DocType.FOREIGN_ARTICLE.value, DocType.FOREIGN_BOOK.value, DocType.THESIS.value}
    rows: list[dict[str, Any]] = []
    keys: dict[str, str] = {}
    closes = window()[1]
    number = 0
    for month in range(1, 13):
        first = dt.date(YEAR, month, 1)
        following = dt.date(YEAR + month // 12, month % 12 + 1, 1)
        days = (following - first).days
        failed = set(rng.sample(range(requested[month - 1]), unfilled[month - 1]))
        for i in range(requested[month - 1]):
            number += 1
            # The groups answered 08:00–22:00 every day, holidays included.
            created = dt.datetime.combine(
                first + dt.timedelta(days=i * days // requested[month - 1]),
                dt.time(8 + rng.randrange(14), rng.randrange(60)),
                tz,
            )
            doc_type = rng.choices(types, cum_weights=cum_weights)[0]
            if doc_type in foreign:
                journal, issn = JOURNALS[rng.randrange(len(JOURNALS))]
                title = TOPICS[rng.randrange(len(TOPICS))]
            else:
                title, journal = ZH_TITLES[rng.randrange(len(ZH_TITLES))]
                issn = ""
            row: dict[str, Any] = {
                "external_id": f"{PREFIX}{number:05d}",
                "channel": CHANNELS[number % 2],
                "created_at": created,
                "year": YEAR - rng.randrange(12),
                "item_key": keys.get(title + issn)
                or keys.setdefault(title + issn, services.item_key({"title": title, "issn": issn})),
                "title": title,
                "source": journal,
                "issn": issn,
                "doc_type": doc_type,
            }
            if i in failed:
                row["status"] = Status.UNFILLED.value
                row["unfilled_reason"] = UNFILLED_REASONS[rng.randrange(len(UNFILLED_REASONS))]
                row["closed_at"] = created + dt.timedelta(hours=rng.randrange(2, 30))
                row["supplier_id"] = row["turnaround_hours"] = None
            else:
                # Most within the working day: a few service hours, a tail of up to two days.
                hours = rng.choice((0.5, 1, 1, 2, 2, 3, 4, 6, 8, 12, 20, 28))
                row["status"] = Status.DELIVERED.value
                row["unfilled_reason"] = ""
                row["supplier_id"] = (worldlib[0] if rng.random() < share else worldlib[1]).pk
                closed = created + dt.timedelta(hours=hours)
                if closed.time() > closes or closed.date() != created.date():
                    closed = add_service_hours(created, hours)  # over the night's closed hours
                row["closed_at"] = closed
                row["turnaround_hours"] = float(hours)
            rows.append(row)
    return rows


def _insert_rows(library: Library, rows: list[dict[str, Any]]) -> None:
    """COPY on PostgreSQL, multi-row INSERTs elsewhere, the constant columns prepared once
    (bulk_create prepares each of 40 columns of 86,712 rows one by one: tens of seconds).
    """
    conn = connections[router.db_for_write(DeliveryRequest)]
    template = DeliveryRequest(
        library=library, anonymised_at=dt.datetime(2021, 1, 1, 0, 30, tzinfo=dt.UTC)
    )
    fixed = {f.attname: f.get_db_prep_save(f.pre_save(template, True), conn) for f in _FIELDS}
    stamp = {name: DeliveryRequest._meta.get_field(name) for name in ("created_at", "closed_at")}
    qn = conn.ops.quote_name
    columns = [f.attname for f in _FIELDS]
    head = (
        f"INSERT INTO {qn(DeliveryRequest._meta.db_table)} "  # noqa: S608 - model names
        f"({', '.join(qn(f.column or f.attname) for f in _FIELDS)}) VALUES "
    )
    marks = "(" + ", ".join(["%s"] * len(_FIELDS)) + ")"
    base = [fixed[c] for c in columns]
    slots = [(columns.index(name), name) for name in rows[0] if name not in stamp]
    times = [(columns.index(name), name) for name in stamp]
    adapt = conn.ops.adapt_datetimefield_value
    params: list[Any] = []
    for row in rows:
        values = base.copy()
        for i, name in slots:
            values[i] = row[name]
        for i, name in times:
            values[i] = adapt(row[name])
        params.append(values)
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            # COPY: the fastest path into PostgreSQL (a VALUES list of 20,000 parameters is slow).
            copy_sql = head.replace("INSERT INTO", "COPY").replace(" VALUES ", " FROM STDIN")
            with cur.cursor.copy(copy_sql) as copy:
                for values in params:
                    copy.write_row(values)
            return
        for start in range(0, len(params), BATCH):
            chunk = params[start : start + BATCH]
            cur.execute(head + ", ".join([marks] * len(chunk)), list(itertools.chain(*chunk)))


def _load_year(library: Library, worldlib: list[Supplier]) -> int:
    mine = DeliveryRequest.objects.filter(library=library, external_id__startswith=PREFIX)
    if mine.count() == TOTAL:
        return 0
    mine.delete()
    rows = _year_rows(library, worldlib)
    _insert_rows(library, rows)
    audit.write(
        AuditAction.IMPORT,
        model="delivery.DeliveryRequest",
        library_id=library.pk,
        message=f"demo 2020: {len(rows)} created, 0 updated, 0 suppliers created",
    )
    return len(rows)


def _clear_present(library: Library) -> None:
    """Remove the previous run's present-day requests with everything they left behind."""
    mine = DeliveryRequest.objects.filter(library=library, idempotency_key__startswith="demo-")
    copies = DeliveryRequest.objects.filter(origin__in=mine)
    IsoMessage.objects.filter(Q(request__in=mine) | Q(request__in=copies)).delete()
    for f in DeliveryFile.objects.filter(request__in=mine):
        if f.file:
            f.file.delete(save=False)
    copies.delete()
    mine.delete()
    demo_peer = Peer.objects.filter(library=library, agency_id_value=DEMO_PEER[1]).first()
    if demo_peer is not None:
        theirs = DeliveryRequest.objects.filter(library=library, transactions__peer=demo_peer)
        IsoMessage.objects.filter(Q(peer=demo_peer) | Q(request__in=theirs)).delete()
        theirs.delete()


def _load_present(library: Library, suppliers: dict[str, Supplier], today: dt.date) -> None:
    User = get_user_model()
    users = {
        u.username: u for u in User.objects.filter(username__in=["student", "teacher", "delivery"])
    }
    student, teacher, staff = users.get("student"), users.get("teacher"), users.get("delivery")
    tz = timezone.get_current_timezone()

    def at(days_ago: int, hour: int) -> dt.datetime:
        return dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(hour), tz)

    def submit(n: int, patron: Any, data: dict[str, Any], when: dt.datetime) -> DeliveryRequest:
        req, _created = services.submit(
            library, data, patron=patron, idempotency_key=f"demo-{n}", channel="web", now=when
        )
        return req

    # 1. Filed by the student last night: waiting in the queue.
    submit(
        1,
        student,
        {
            "title": "Seasonal dynamics of soil respiration in a Larix gmelinii forest",
            "source": "Agricultural and Forest Meteorology",
            "issn": "0168-1923",
            "year": 2024,
            "volume": "345",
            "pages": "109842",
            "doc_type": DocType.FOREIGN_ARTICLE,
        },
        at(1, 21),
    )
    # 2. The teacher's book chapter, assigned to the delivery librarian: in process.
    req = submit(
        2,
        teacher,
        {
            "title": "Forest Fire: Control and Use (chapter 7)",
            "authors": "Pyne, S. J.",
            "source": "Wiley",
            "isbn": "9780471549406",
            "year": 1996,
            "doc_type": DocType.FOREIGN_BOOK,
        },
        at(1, 14),
    )
    if staff is not None:
        services.assign([req], staff, by=staff, now=at(1, 15))
    # 3. Requested from the partner library hrbeu: an ISO 18626 request and its confirmation.
    req = submit(
        3,
        teacher,
        {
            "title": "船舶结构用木塑复合材料的耐久性研究",
            "source": "哈尔滨工程大学学报",
            "year": 2023,
            "volume": "44",
            "issue": "6",
            "pages": "1021-1029",
            "doc_type": DocType.CHINESE_ARTICLE,
        },
        at(2, 10),
    )
    partner = next((s for s in suppliers.values() if s.kind == SupplierKind.PARTNER), None)
    if partner is not None:
        services.send_to_supplier(req, partner, by=staff, now=at(2, 11))
    # 4. Requested from the outside service.
    req = submit(
        4,
        student,
        {
            "title": "Ecological civilisation and forest policy in Northeast China",
            "source": "China Quarterly",
            "issn": "0305-7410",
            "year": 2022,
            "volume": "250",
            "doc_type": DocType.FOREIGN_ARTICLE,
        },
        at(3, 16),
    )
    services.send_to_supplier(req, suppliers["CASHL 开世览文"], by=staff, now=at(3, 17))
    # 5. Delivered yesterday behind a private link (no e-mail queued by the demo).
    req = submit(
        5,
        student,
        {
            "title": "Mechanical properties of cross-laminated timber made of Larix",
            "source": "Wood Science and Technology",
            "issn": "0043-7719",
            "year": 2023,
            "volume": "57",
            "pages": "311-330",
            "doc_type": DocType.FOREIGN_ARTICLE,
        },
        at(2, 20),
    )
    services.send_to_supplier(req, suppliers["学术快递文献服务公司"], by=staff, now=at(1, 9))
    upload = ContentFile(PDF, name="CLT-Larix-2023.pdf")
    services.deliver(req, upload, by=staff, now=at(1, 11), notify=False)
    # 6. Unfilled last week: the citation could not be traced.
    req = submit(
        6,
        teacher,
        {
            "title": "东北虎豹国家公园生态廊道规划（内部报告）",
            "year": 2021,
            "doc_type": DocType.OTHER,
        },
        at(6, 10),
    )
    req.move(
        Status.UNFILLED,
        by=staff,
        now=at(5, 15),
        note="未能查到该报告的出版信息，请提供更完整的引文。",
        unfilled_reason=UnfilledReason.BAD_CITATION,
    )


# The outside library of the demo: the loopback ISO 18626 peer (`python -m lifeline.delivery.peer`)
# on 127.0.0.1:8626; see docs/iso18626.md for starting it. Demo-only secrets.
DEMO_PEER = ("ISIL", "ZZ-DEMO")
DEMO_PEER_PORT = 8626


def _outside_peer(library: Library) -> tuple[Peer, Supplier]:
    peer, _ = Peer.objects.update_or_create(
        library=library,
        agency_id_type=DEMO_PEER[0],
        agency_id_value=DEMO_PEER[1],
        defaults={
            "name": "馆外合作馆（ISO 18626 演示节点）",
            "endpoint_url": f"http://127.0.0.1:{DEMO_PEER_PORT}/iso18626",
            "secret_out": "demo-to-peer",
            "secret_in": "demo-from-peer",
            "allow_internal": True,
            "copy": True,
            "loan": True,
            "link_only": True,
        },
    )
    supplier, _ = Supplier.objects.update_or_create(
        library=library,
        name="馆外合作馆（ISO 18626）",
        defaults={
            "name_en": "Outside library (ISO 18626)",
            "kind": SupplierKind.OUTSIDE,
            "peer": peer,
            "rota": 10,
        },
    )
    return peer, supplier


def _peer_says(peer: Peer, requesting_id: str, status: str, url: str = "") -> None:
    """A status message as the loopback peer writes it, received through the same path as over
    HTTP (the peer need not run while the demo loads)."""
    from lifeline.delivery import peer as node

    root, body = node.envelope("supplyingAgencyMessage")
    node.header(body, DEMO_PEER, local_agency(peer.library), requesting_id, "ZZ-DEMO-1")
    node.sub(node.sub(body, "messageInfo"), "reasonForMessage", "StatusChange")
    info = node.sub(body, "statusInfo")
    node.sub(info, "status", status)
    node.sub(info, "lastChange", node.now())
    if url:
        delivery = node.sub(body, "deliveryInfo")
        node.sub(delivery, "dateSent", node.now())
        node.sub(delivery, "itemId", url)
        node.sub(delivery, "sentVia", "URL")
    ill.receive(etree.tostring(root, xml_declaration=True, encoding="UTF-8"), peer=peer)


def _load_outside(library: Library, student: Any, staff: Any, when: dt.datetime) -> None:
    """7. Supplied by a library outside the installation over ISO 18626; 8. that library asks us."""
    from lifeline.delivery import peer as node

    peer, supplier = _outside_peer(library)
    req, _created = services.submit(
        library,
        {
            "title": "Carbon storage of boreal larch forests under permafrost thaw",
            "source": "Global Change Biology",
            "issn": "1354-1013",
            "year": 2024,
            "volume": "30",
            "doc_type": DocType.FOREIGN_ARTICLE,
        },
        patron=student,
        idempotency_key="demo-7",
        now=when,
    )
    services.send_to_supplier(req, supplier, by=staff, now=when)
    txn = req.transactions.get()
    _peer_says(peer, txn.requesting_id, "WillSupply")
    url = f"http://127.0.0.1:{DEMO_PEER_PORT}/doc/ZZ-DEMO-1.pdf"
    _peer_says(peer, txn.requesting_id, "CopyCompleted", url)
    root, body = node.envelope("request")
    node.header(body, local_agency(library), DEMO_PEER, "ZZ-DEMO/2026/0042")
    bib = node.sub(body, "bibliographicInfo")
    node.sub(bib, "title", "东北林业大学学报")
    node.sub(bib, "titleOfComponent", "红松人工林土壤微生物群落结构")
    service = node.sub(body, "serviceInfo")
    node.sub(service, "requestType", "New")
    node.sub(service, "serviceType", "Copy")
    ill.receive(etree.tostring(root, xml_declaration=True, encoding="UTF-8"), peer=peer)


def load(library: Library, today: dt.date) -> None:
    suppliers = _suppliers(library)
    worldlib = [suppliers[name] for name, _en, _count in WORLDLIB]
    _load_year(library, worldlib)
    _clear_present(library)
    _load_present(library, suppliers, today)
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=["student", "delivery"])}
    when = dt.datetime.combine(
        today - dt.timedelta(days=1), dt.time(9), timezone.get_current_timezone()
    )
    _load_outside(library, users.get("student"), users.get("delivery"), when)
