"""Pages and API: a patron marks titles in both languages without JS; librarians import,
select and export; hostile users (another library, anonymous, malformed or huge input) get a
404/403 or a clear message, never a 500."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pymupdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone

from lifeline.conftest import client_for, make_staff
from lifeline.core.choices import Role
from lifeline.core.models import Library
from lifeline.selection.choices import CampaignStatus, ShipStatus
from lifeline.selection.models import (
    Campaign,
    Catalogue,
    HomeDelivery,
    Recommendation,
    Selection,
    Title,
    Vote,
)
from lifeline.selection.tests.conftest import CNMARC_XML, read

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(campaign: Campaign) -> Campaign:
    """The campaign, open today."""
    today = timezone.localdate()
    campaign.starts_on = today - dt.timedelta(days=1)
    campaign.ends_on = today + dt.timedelta(days=3)
    campaign.save()
    Title.objects.update(price=Decimal("30.00"))
    return campaign


def _url(c: Campaign, suffix: str = "") -> str:
    return f"/selection/{c.library.code}/c/{c.pk}/{suffix}"


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_patron_browses_and_marks_without_js(live: Campaign, patron_a: Any, lang: str) -> None:
    client = client_for(patron_a)
    client.cookies["lifeline_lang"] = lang
    home = client.get(f"/selection/{live.library.code}/")
    assert home.status_code == 200 and str(live) in home.content.decode()
    page = client.get(_url(live), {"cls": "F"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "中国发展报告" in body and 'name="reason"' in body
    t = Title.objects.filter(catalogue__campaigns=live, clc_class="F").first()
    assert t is not None
    back = _url(live) + "?cls=F"
    response = client.post(_url(live, "mark/"), {"title": t.pk, "reason": "research", "back": back})
    assert response.status_code == 302 and response["Location"] == back
    assert Vote.objects.filter(title=t, user=patron_a).count() == 1
    client.post(_url(live, "mark/"), {"title": t.pk, "reason": "research"})  # twice: a message
    assert Vote.objects.filter(title=t, user=patron_a).count() == 1
    found = client.get(_url(live), {"q": "发展报告"})
    assert "中国发展报告" in found.content.decode()
    by_isbn = client.get(_url(live), {"q": t.isbn})
    assert t.isbn in by_isbn.content.decode() and "中国" in by_isbn.content.decode()


def test_browse_query_count(
    live: Campaign, patron_a: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for(patron_a)
    client.get(_url(live))
    with django_assert_max_num_queries(12):
        assert client.get(_url(live), {"page": 1}).status_code == 200


def test_hostile_users_on_patron_pages(
    live: Campaign, patron_b: Any, librarian_b: Any, stranger: Any
) -> None:
    t = Title.objects.filter(catalogue__campaigns=live).first()
    assert t is not None
    assert Client().get(_url(live)).status_code == 302  # to the login page
    # Neither a patron nor staff of this library: refused at the library (issue 21, finding 3).
    for user in (patron_b, librarian_b, stranger):
        client = client_for(user)
        assert client.get(_url(live)).status_code == 403
        assert (
            client.post(_url(live, "mark/"), {"title": t.pk, "reason": "study"}).status_code == 403
        )
    assert not Vote.objects.exists()


def test_malformed_browse_and_mark(live: Campaign, patron_a: Any) -> None:
    client = client_for(patron_a)
    for params in (
        {"page": "-1"},
        {"page": "x" * 5000},
        {"q": "'; DROP TABLE x; --" * 20},
        {"cls": "<>"},
    ):
        assert client.get(_url(live), params).status_code == 200
    assert client.get(_url(live), {"q": "\x00"}).status_code in (200, 400)
    for data in ({"title": "abc", "reason": "study"}, {"title": "999999", "reason": "study"}, {}):
        assert client.post(_url(live, "mark/"), data).status_code == 302
    response = client.post(
        _url(live, "mark/"), {"title": 999999, "reason": "study", "back": "https://evil.example/"}
    )
    assert response["Location"].startswith("/selection/")
    assert not Vote.objects.exists()
    draft = Campaign.objects.create(
        library=live.library, name="草稿", starts_on=live.starts_on, ends_on=live.ends_on, budget=1
    )
    assert client.get(_url(draft)).status_code == 404


def test_staff_pages_and_exports(live: Campaign, acq_a: Any, patron_a: Any) -> None:
    client = client_for(acq_a)
    code = live.library.code
    for t in Title.objects.filter(catalogue__campaigns=live)[:5]:
        Vote.objects.create(campaign=live, title=t, user=patron_a, origin="patron", reason="study")
    assert client.get(f"/selection/{code}/manage/").status_code == 200
    assert client.get(f"/selection/{code}/campaigns/{live.pk}/").status_code == 200
    client.post(
        f"/selection/{code}/campaigns/{live.pk}/budget/",
        {"kind": "clc", "key": "f", "amount": "100"},
    )
    assert live.budgets.get().key == "F"
    client.post(f"/selection/{code}/campaigns/{live.pk}/select/", {"method": "exact"})
    sel = Selection.objects.get(campaign=live)
    assert sel.titles > 0
    client.post(f"/selection/{code}/campaigns/{live.pk}/adopt/", {"selection": sel.pk})
    live.refresh_from_db()
    assert live.order_id == sel.pk
    for fmt in ("xlsx", "mrc", "cnmarc"):
        response = client.get(f"/selection/{code}/orders/{sel.pk}.{fmt}")
        assert response.status_code == 200 and response["Content-Disposition"].startswith(
            "attachment"
        )
    assert client.get(f"/selection/{code}/orders/{sel.pk}.exe").status_code == 404
    stats = client.get(f"/selection/{code}/statistics/")
    assert stats.status_code == 200 and "<svg" in stats.content.decode()
    assert (
        client.get(f"/selection/{code}/statistics/", {"format": "xlsx", "year": "x"}).status_code
        == 200
    )
    client.post(f"/selection/{code}/campaigns/{live.pk}/close/")
    live.refresh_from_db()
    assert live.status == CampaignStatus.CLOSED
    assert client.post(f"/selection/{code}/campaigns/{live.pk}/nonsense/").status_code == 404


def test_staff_pages_refuse_others(
    live: Campaign, library_b: Library, librarian_b: Any, patron_a: Any
) -> None:
    code = live.library.code
    sel = Selection.objects.create(campaign=live, method="exact")
    for user in (librarian_b, patron_a):
        client = client_for(user)
        assert client.get(f"/selection/{code}/manage/").status_code == 403
        assert client.get(f"/selection/{code}/campaigns/{live.pk}/").status_code == 403
        assert client.post(f"/selection/{code}/campaigns/{live.pk}/close/").status_code == 403
        assert client.get(f"/selection/{code}/orders/{sel.pk}.xlsx").status_code == 403
        assert client.get(f"/selection/{code}/statistics/").status_code == 403
    # Library B's acquisitions librarian names her own library in the URL: A's campaign is not
    # found there; B's e-resources librarian may not manage selection at all.
    assert client_for(librarian_b).get(f"/selection/hit/campaigns/{live.pk}/").status_code == 403
    acq_b = client_for(make_staff("acq_b", library_b, Role.ACQUISITIONS))
    assert acq_b.get(f"/selection/{library_b.code}/campaigns/{live.pk}/").status_code == 404


def test_catalogue_upload_page(library_a: Library, acq_a: Any) -> None:
    client = client_for(acq_a)
    url = f"/selection/{library_a.code}/catalogues/import/"
    ok = SimpleUploadedFile(CNMARC_XML.name, CNMARC_XML.read_bytes())
    client.post(url, {"name": "书商", "flavour": "auto", "file": ok})
    assert Catalogue.objects.get().lines == 10
    broken = SimpleUploadedFile("bad.mrc", read("marc21-broken-pymarc-bad_records.mrc"))
    response = client.post(url, {"name": "坏", "flavour": "auto", "file": broken}, follow=True)
    # The job's page (lifeline.core.jobs) names the broken record; a refused job answers 400.
    assert response.status_code == 400 and "127" in response.content.decode()
    svg = SimpleUploadedFile("list.xml", b"<svg onload=alert(1)></svg>")
    assert client.post(url, {"name": "x", "flavour": "auto", "file": svg}).status_code == 302
    html = SimpleUploadedFile("list.csv", b"<html><script>alert(1)</script></html>")
    assert client.post(url, {"name": "x", "flavour": "auto", "file": html}).status_code == 302
    assert Catalogue.objects.count() == 1
    holdings = SimpleUploadedFile("h.txt", b"9787503717444\n")
    client.post(f"/selection/{library_a.code}/holdings/import/", {"file": holdings})
    assert Title.objects.filter(status="held").count() == 1


@override_settings(SELECTION_MAX_FILE_BYTES=2000)
def test_catalogue_upload_too_big(library_a: Library, acq_a: Any) -> None:
    client = client_for(acq_a)
    big = SimpleUploadedFile("big.xml", CNMARC_XML.read_bytes())
    response = client.post(
        f"/selection/{library_a.code}/catalogues/import/",
        {"name": "x", "flavour": "auto", "file": big},
        follow=True,
    )
    assert response.status_code == 200 and not Catalogue.objects.exists()


def test_recommend_and_home_delivery_pages(
    library_a: Library, patron_a: Any, delivery_a: Any, acq_a: Any
) -> None:
    client = client_for(patron_a)
    code = library_a.code
    response = client.post(
        f"/selection/{code}/recommend/", {"title": "森林培育学", "author": "沈国舫"}
    )
    rec = Recommendation.objects.get()
    assert response["Location"] == f"/selection/rec/{rec.pk}/"
    assert client.get(f"/selection/rec/{rec.pk}/").status_code == 200
    assert (
        client.post(f"/selection/{code}/recommend/", {"isbn": "9787111213827"}).status_code == 200
    )
    staff = client_for(acq_a)
    assert staff.get(f"/selection/{code}/recommendations/").status_code == 200
    staff.post(f"/selection/rec/{rec.pk}/ordered/", {"answer": "已订购"})
    rec.refresh_from_db()
    assert rec.status == "ordered"
    # The patron cannot move it herself.
    assert client.post(f"/selection/rec/{rec.pk}/arrived/").status_code == 404
    client.post(
        f"/selection/{code}/home-delivery/",
        {"title": "森林生态学", "recipient": "张三", "phone": "138", "address": "哈尔滨"},
    )
    d = HomeDelivery.objects.get()
    desk = client_for(delivery_a)
    assert (
        "哈尔滨"
        in desk.get(f"/selection/{code}/home-delivery/queue/", {"print": 1}).content.decode()
    )
    pdf = desk.get(f"/selection/{code}/home-delivery/queue/", {"format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    text = "".join(page.get_text() for page in pymupdf.open(stream=pdf.content, filetype="pdf"))
    assert "哈尔滨" in text and "森林生态学" in text and "张三" in text
    assert (
        client.get(f"/selection/{code}/home-delivery/queue/", {"format": "pdf"}).status_code == 403
    )
    desk.post(f"/selection/home/{d.pk}/picked/")
    desk.post(f"/selection/home/{d.pk}/shipped/", {"courier": "EMS", "tracking_no": "E1"})
    assert client.post(f"/selection/home/{d.pk}/returned/").status_code == 404  # the desk's move
    client.post(f"/selection/home/{d.pk}/received/")
    d.refresh_from_db()
    assert d.status == ShipStatus.RECEIVED


def test_requests_hostile(
    library_a: Library, patron_a: Any, patron_b: Any, librarian_b: Any
) -> None:
    from lifeline.selection.logic import requests as logic

    rec = logic.recommend(library_a, patron_a, title="某书")
    d = logic.request_delivery(
        library_a,
        patron_a,
        holding_id=None,
        title="书",
        recipient="a",
        phone="1",
        address="私密地址",
    )
    for user in (patron_b, librarian_b):
        client = client_for(user)
        assert client.get(f"/selection/rec/{rec.pk}/").status_code == 404
        assert client.post(f"/selection/rec/{rec.pk}/ordered/").status_code == 404
        assert client.post(f"/selection/home/{d.pk}/cancelled/").status_code == 404
        assert (
            "私密地址"
            not in client.get(f"/selection/{library_a.code}/home-delivery/queue/").content.decode()
        )
        assert client.get(f"/selection/{library_a.code}/recommend/").status_code == 403
    assert Client().get(f"/selection/rec/{rec.pk}/").status_code == 302


def test_api(live: Campaign, patron_a: Any, patron_b: Any) -> None:
    client = client_for(patron_a)
    listing = client.get("/api/selection/campaigns/")
    assert listing.status_code == 200 and listing.json()["count"] == 1
    titles = client.get(f"/api/selection/campaigns/{live.pk}/titles/", {"cls": "F"}).json()
    t = titles["results"][0]
    ok = client.post(
        f"/api/selection/campaigns/{live.pk}/vote/", {"title": t["id"], "reason": "study"}
    )
    assert ok.status_code == 201
    again = client.post(
        f"/api/selection/campaigns/{live.pk}/vote/", {"title": t["id"], "reason": "study"}
    )
    assert again.status_code == 400
    bad = client.post(f"/api/selection/campaigns/{live.pk}/vote/", {"title": "x", "reason": "nope"})
    assert bad.status_code == 400
    other = client_for(patron_b)
    assert other.get(f"/api/selection/campaigns/{live.pk}/").status_code == 404
    assert (
        other.post(
            f"/api/selection/campaigns/{live.pk}/vote/", {"title": t["id"], "reason": "study"}
        ).status_code
        == 404
    )
    rec = client.post(
        "/api/selection/recommendations/", {"isbn": "9787111213826", "title": "Java编程思想"}
    )
    assert rec.status_code == 201 and rec.json()["status"] == "queued"
    assert other.get(f"/api/selection/recommendations/{rec.json()['id']}/").status_code == 404
    assert client.post("/api/selection/recommendations/", {"isbn": "123"}).status_code == 400
    assert Client().get("/api/selection/campaigns/").status_code in (401, 403)


def test_import_runs_as_a_job_with_progress(
    library_a: Library, acq_a: Any, librarian_b: Any
) -> None:
    from lifeline.core.models import ImportJob
    from lifeline.selection.models import Catalogue

    client = client_for(acq_a)
    url = f"/selection/{library_a.code}/catalogues/import/"
    data = read("unimarc-pymarc-testunimarc.dat")
    response = client.post(
        url, {"name": "书商", "flavour": "auto", "file": SimpleUploadedFile("u.mrc", data)}
    )
    job = ImportJob.objects.get()
    assert job.kind == "selection.catalogue" and response.url == f"/jobs/{job.pk}/"
    # Tasks run at once under tests: the job is done, its file gone, the page says so.
    catalogue = Catalogue.objects.get(library=library_a, name="书商")
    assert job.status == "done" and not job.file
    assert job.result["catalogue"] == catalogue.pk and job.total == len(data)
    page = client.get(response.url, follow=True)
    assert "u.mrc" in page.content.decode() and page.redirect_chain[-1][0].endswith("/manage/")
    # A job still running shows its progress bar and reloads itself.
    ImportJob.objects.filter(pk=job.pk).update(status="running", done=50, total=200)
    html = client.get(response.url).content.decode()
    assert 'http-equiv="refresh"' in html and "25" in html
    # Another library's librarian cannot see it, nor can anyone anonymous.
    assert client_for(librarian_b).get(response.url).status_code in (403, 404)
    assert Client().get(response.url).status_code in (302, 403, 404)


def test_refused_import_stores_nothing_and_says_why(library_a: Library, acq_a: Any) -> None:
    from lifeline.core.models import ImportJob
    from lifeline.selection.models import Catalogue

    client = client_for(acq_a)
    data = read("unimarc-pymarc-testunimarc.dat")
    broken = data[: len(data) * 2 // 3]  # a truncated file: the last record is cut short
    response = client.post(
        f"/selection/{library_a.code}/catalogues/import/",
        {"name": "坏", "flavour": "auto", "file": SimpleUploadedFile("bad.mrc", broken)},
    )
    job = ImportJob.objects.get()
    assert response.url == f"/jobs/{job.pk}/" and job.status == "failed" and job.problems
    assert not Catalogue.objects.filter(library=library_a).exists()
    page = client.get(response.url)
    assert page.status_code == 400 and "bad.mrc" in page.content.decode()
