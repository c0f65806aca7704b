"""A log of mixed platforms with known classes, units and unique counts; a library's own rule is
used by the next import; `lifeline classify-url`."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse

from lifeline.analytics.logimport import run_log_import
from lifeline.analytics.logs import analyse
from lifeline.analytics.models import LogImport, LogItemUsage, LogRule
from lifeline.conftest import client_for
from lifeline.registry.models import Resource

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2024, 10, 10, 10, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
X, Y = "S0140673620301835", "S0140673620301999"
DOI = "10.1021/acs.jpca.0c01234"
ON, OFF = "10.10.3.4", "8.8.4.4"


def line(ip: str, user: str, seconds: int, url: str) -> str:
    when = (T0 + dt.timedelta(seconds=seconds)).strftime("%d/%b/%Y:%H:%M:%S %z")
    return f'{ip} - {user} [{when}] "GET {url} HTTP/1.1" 200 99 "-" "Mozilla/5.0"'


LOG = [
    line(ON, "alice", 0, f"https://www.sciencedirect.com/science/article/pii/{X}"),
    line(ON, "alice", 60, f"https://www.sciencedirect.com/science/article/pii/{X}/pdfft?md5=1"),
    line(ON, "alice", 120, f"https://www.sciencedirect.com/science/article/abs/pii/{Y}"),
    line(ON, "alice", 3700, f"https://www.sciencedirect.com/science/article/pii/{X}/pdfft?md5=1"),
    line(
        OFF,
        "bob",
        10,
        "https://www-cnki-net.ezproxy.nefu.edu.cn/kcms/download.aspx?filename=ZGTS202001001"
        "&dbcode=CJFD",
    ),
    line(OFF, "bob", 15, "https://kns.cnki.net/KXReader/Detail?DBCODE=CJFD&FileName=ZGTS202001001"),
    line(
        OFF,
        "bob",
        20,
        "https://kns.cnki.net/kcms/detail/detail.aspx?dbcode=CMFD&filename=1020123456.nh",
    ),
    line(OFF, "bob", 25, "https://kns.cnki.net/kns/brief/result.aspx?kw=forest"),
    line(OFF, "bob", 30, "https://navi.cnki.net/knavi/journals/ZGTS/detail"),
    line(ON, "alice", 200, f"https://pubs.acs.org/doi/full/{DOI}"),
    line(ON, "alice", 210, f"https://pubs.acs.org/doi/suppl/{DOI}/suppl_file/si_001.pdf"),
    line(ON, "alice", 220, "https://pubs.acs.org/toc/jpcafh/12/3"),
    line(ON, "alice", 230, "https://content.ebscohost.com/ContentServer.asp?T=P&K=141234567"),
    line(ON, "alice", 240, "http://book.duxiu.com/godownpdf.jsp?dxNumber=000001234567&d=AB"),
    line(OFF, "bob", 300, "https://www.example-db.com/view/123"),
    line(ON, "alice", 250, "https://pubs.acs.org:443/doi/pdf/10.1021%2Facs.jpca.0c01234"),
    line(
        ON,
        "alice",
        300,
        f"https://www.sciencedirect.com/science/article/pii/{X}?x=" + "a" * 8192,
    ),
    line(OFF, "bob", 310, "https://s.wanfangdata.com.cn/paper?q=图书馆"),
]


def test_mixed_platforms_known_answer(library_a: Any, platforms: dict[str, Resource]) -> None:
    data = ("\n".join(LOG) + "\n").encode()
    for chunk in (1 << 20, 600):
        result = analyse(library_a, io.BytesIO(data), chunk_bytes=chunk)
        names = {r.pk: k for k, r in platforms.items()}
        per: dict[str, list[int]] = {}
        for (rid, _day, _campus), counts in result.usage.items():
            slot = per.setdefault(names[rid], [0, 0, 0])
            for i in range(3):
                slot[i] += counts[i]
        # [full-text requests, investigations, searches]
        assert per == {
            "sd": [4, 1, 0],
            "cnki": [2, 1, 1],
            "acs": [2, 1, 0],
            "ebsco": [1, 0, 0],
            "duxiu": [1, 0, 0],
            "db": [0, 1, 0],
            "wanfang": [0, 0, 1],
        }
        assert result.furniture == 2  # the CNKI journal page and the ACS TOC
        month = dt.date(2024, 10, 1)
        items = {
            (names[rid], item.split("\t")[0], item.split("\t")[1], item.split("\t")[4]): v
            for (rid, m, item), v in result.items.items()
            if m == month
        }
        # [Total_Item_Requests, Total_Item_Investigations, Unique_Item_Requests,
        #  Unique_Item_Investigations]
        assert items == {
            ("sd", "pii", "journal", X): [4, 4, 2, 2],
            ("sd", "pii", "journal", Y): [0, 1, 0, 1],
            ("cnki", "proprietary", "journal", "ZGTS202001001"): [2, 2, 1, 1],
            ("cnki", "proprietary", "thesis", "1020123456.nh"): [0, 1, 0, 1],
            ("acs", "doi", "journal", DOI): [2, 3, 1, 1],
            ("ebsco", "proprietary", "database", "141234567"): [1, 1, 1, 1],
            ("duxiu", "proprietary", "book", "000001234567"): [1, 1, 1, 1],
        }
        assert (result.unique_requests, result.unique_investigations) == (6, 9)
        assert result.rule_hits["cnki:reader"] == 1 and result.rule_hits["acs:supplement"] == 1
        assert result.unruled_hosts == {"www.example-db.com": 1}


def test_a_library_rule_is_used_by_the_next_import(
    library_a: Any, platforms: dict[str, Resource]
) -> None:
    data = ("\n".join(LOG) + "\n").encode()
    first = LogImport.objects.create(library=library_a, filename="a.log", size=len(data))
    first.file.save("a.log", ContentFile(data), save=True)
    run_log_import(first)
    first.refresh_from_db()
    assert first.unruled_hosts == {"www.example-db.com": 1}
    assert first.searches == 2 and first.unique_requests == 6
    assert LogItemUsage.objects.filter(log_import=first).count() == 7
    LogRule.objects.create(
        library=library_a,
        host="example-db.com",
        pattern=r"^/view/(?P<unit>[0-9]+)",
        cls="request",
        unit_kind="proprietary",
    )
    second = LogImport.objects.create(library=library_a, filename="b.log", size=len(data))
    second.file.save("b.log", ContentFile(data), save=True)
    run_log_import(second)
    second.refresh_from_db()
    assert second.unruled_hosts == {}
    # The same days imported again replace the first log's days and its title-level use.
    assert not LogItemUsage.objects.filter(log_import=first).exists()
    assert any(k.startswith("library:") for k in second.rule_hits)
    item = LogItemUsage.objects.get(log_import=second, resource=platforms["db"])
    assert (item.unit, item.requests, item.unique_requests) == ("123", 1, 1)


def test_classify_url_command() -> None:
    out = io.StringIO()
    call_command(
        "classify_url",
        "https://ieeexplore.ieee.org/stamp/stamp.jsp?tp=&arnumber=8972380",
        "https://www.jstor.org/stable/i26912300",
        stdout=out,
    )
    text = out.getvalue()
    assert "class=request rule=ieee:stamp" in text and "unit=proprietary:8972380" in text
    assert "class=none rule=jstor:issue" in text


def test_log_page_lists_rules_and_unclassified(
    library_a: Any, librarian_a: Any, platforms: dict[str, Resource]
) -> None:
    data = ("\n".join(LOG) + "\n").encode()
    log = LogImport.objects.create(library=library_a, filename="a.log", size=len(data))
    log.file.save("a.log", ContentFile(data), save=True)
    run_log_import(log)
    page = client_for(librarian_a).get(reverse("analytics:log", args=[log.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "www.example-db.com" in text and "cnki:reader" in text
    assert reverse("analytics:log_rules") in text
