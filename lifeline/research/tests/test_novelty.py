"""Part 3: a novelty search (GB/T 32003-2015) from a patron's commission at home through the
searcher's record, compared documents, a second searcher's review, the fee, the signed PDF and
its public verification; SLA notices through the outbox."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import fitz  # PyMuPDF
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from lifeline.conftest import client_for
from lifeline.core.models import Library, Notification
from lifeline.research.choices import FeeStatus, Status
from lifeline.research.logic import novelty, workflow
from lifeline.research.models import NoveltyRequest, ReportSettings

COMMISSION = {
    "title": "基于深度学习的林木病虫害图像识别方法",
    "title_en": "Deep-learning image recognition of forest pests and diseases",
    "organisation": "东北林业大学林学院",
    "contact": "0451-82190000",
    "purpose": "project",
    "scope": "both",
    "tech_points": "以无人机影像为数据源，构建轻量化卷积网络识别落叶松毛虫危害。",
    "novelty_points": "轻量化网络识别落叶松毛虫危害\n识别精度达到95%以上",
    "keywords_zh": "深度学习; 病虫害; 落叶松毛虫",
    "keywords_en": "deep learning; forest pest; Dendrolimus",
}
STRATEGY = {
    "search_databases": "CNKI 2000-2026\nWeb of Science Core Collection 2000-2026",
    "search_terms": "深度学习, 卷积神经网络, 落叶松毛虫; deep learning, CNN, Dendrolimus",
    "search_queries": "TS=(deep learning OR CNN) AND TS=(Dendrolimus)",
    "search_results": "检出相关文献 12 篇，其中密切相关 1 篇，一般相关 2 篇。",
    "conclusion": "在所检文献范围内，未见与本项目查新点 1 相同的报道。",
    "attachments": "",
    "notes": "",
}


def _commission(client: Any) -> NoveltyRequest:
    page = client.post("/research/nefu/novelty/request/", COMMISSION)
    assert page.status_code == 302, page.content.decode()[:2000]
    return NoveltyRequest.objects.get()


def test_novelty_search_through_review_to_a_verifiable_report(
    library_a: Library, patron_a: Any, reference_a: Any, admin_a: Any, library_b: Library
) -> None:
    ReportSettings.objects.create(
        library=library_a, novelty_code="23001", address="哈尔滨市香坊区和兴路26号"
    )
    patron = client_for(patron_a)
    req = _commission(patron)
    assert req.status == Status.SUBMITTED and req.patron_name == "张三"
    assert req.due_at == req.created_at + novelty.SLA
    # the patron sees the request but none of the staff forms
    page = patron.get(f"/research/n/{req.pk}/")
    assert page.status_code == 200 and b"search_queries" not in page.content
    assert patron.post(f"/research/n/{req.pk}/strategy/", STRATEGY).status_code == 403
    assert patron.post(f"/research/n/{req.pk}/prepare/").status_code == 403

    searcher = client_for(reference_a)
    # sending for review with nothing recorded names what is missing
    searcher.post(f"/research/n/{req.pk}/prepare/")
    req.refresh_from_db()
    assert req.status == Status.SUBMITTED
    with pytest.raises(ValidationError, match="查新结论"):
        novelty.prepare(req, reference_a)
    assert searcher.post(f"/research/n/{req.pk}/strategy/", STRATEGY).status_code == 302
    for citation, relevance in (
        ("李明. 落叶松毛虫危害的无人机遥感监测[J]. 林业科学, 2021, 57(3): 1-9.", "close"),
        ("Smith J. CNN for pest detection. Forests, 2020, 11: 100.", "general"),
    ):
        searcher.post(
            f"/research/n/{req.pk}/documents/",
            {
                "citation": citation,
                "database": "CNKI",
                "relevance": relevance,
                "comparison": "该文用遥感监测，未用轻量化网络。",
            },
        )
    assert req.documents.count() == 2
    # a bad relevance or an odd id is refused, never a 500
    searcher.post(f"/research/n/{req.pk}/documents/", {"citation": "x", "relevance": "zzz"})
    searcher.post(f"/research/n/{req.pk}/documents/", {"remove": "²"})
    assert req.documents.count() == 2

    # the library charges: the fee is due, the patron is told through the outbox
    assert searcher.post(f"/research/n/{req.pk}/fee/", {"fee": "abc"}).status_code == 302
    req.refresh_from_db()
    assert req.fee_status == FeeStatus.NONE
    searcher.post(f"/research/n/{req.pk}/fee/", {"fee": "300"})
    req.refresh_from_db()
    assert req.fee_status == FeeStatus.DUE and str(req.fee) == "300.00"
    assert Notification.objects.filter(kind="research.fee", recipients=["patron_a@example.edu"])

    searcher.post(f"/research/n/{req.pk}/prepare/")
    req.refresh_from_db()
    assert req.status == Status.PREPARED and req.searcher == reference_a
    # the searcher cannot review their own search; an unpaid fee stops the report
    with pytest.raises(ValidationError):
        novelty.issue(req, reference_a)
    with pytest.raises(ValidationError, match="费用尚未缴纳"):
        novelty.issue(req, admin_a)
    with pytest.raises(ValidationError):
        workflow.settle_fee(req, FeeStatus.PAID, "")
    client_for(admin_a).post(f"/research/n/{req.pk}/paid/", {"receipt": "NEFU-2026-0042"})
    req.refresh_from_db()
    assert req.fee_status == FeeStatus.PAID and req.fee_receipt == "NEFU-2026-0042"

    assert client_for(admin_a).post(f"/research/n/{req.pk}/issue/").status_code == 302
    req.refresh_from_db()
    assert req.status == Status.ISSUED and req.reviewer == admin_a
    year = timezone.localtime(req.issued_at).year
    assert re.fullmatch(rf"{year}2300100001", req.serial)  # 14 digits per GB/T 32003-2015
    assert Notification.objects.filter(kind="research.issued").count() == 1

    pdf = patron.get(f"/research/n/{req.pk}/pdf/").content
    doc = fitz.open(stream=pdf, filetype="pdf")
    text = "".join(page.get_text() for page in doc)
    for element in (
        req.serial,
        "科技查新报告",
        "查新目的",
        "查新点",
        "文献检索范围及检索策略",
        "检索结果",
        "查新结论",
        "查新员",
        "审核员",
        "附件清单",
        "密切相关",
        "落叶松毛虫危害的无人机遥感监测",
        "未见与本项目查新点 1 相同的报道",
    ):
        assert element in text, element
    fonts = {f[3] for page in doc for f in page.get_fonts()}
    assert any("WQY" in f or "MicroHei" in f for f in fonts)  # the Chinese font is embedded
    assert doc[0].rect.width == pytest.approx(595.3, abs=1)  # A4

    # the public verification: genuine, then a made-up or edited report is not
    anon = client_for(library_b.memberships.model.objects.none().first() or patron_a)
    anon.logout()
    url = novelty.verification_url(req).split("testserver")[-1]
    path = url[url.index("/research/") :]
    good = anon.get(path)
    assert good.status_code == 200 and "未见与本项目".encode() in good.content
    assert anon.get(path[:-3] + "abc/").status_code == 404
    assert anon.get(path.replace("/nefu/", "/hit/")).status_code == 404
    NoveltyRequest.objects.filter(pk=req.pk).update(
        content={**req.content, "conclusion": "本项目具有新颖性。"}
    )
    assert anon.get(path).status_code == 404
    NoveltyRequest.objects.filter(pk=req.pk).update(content=req.content)
    upload = anon.post(
        "/research/verify/nefu/", {"file": SimpleUploadedFile("r.pdf", pdf, "application/pdf")}
    )
    assert upload.context["req"] is not None
    changed = pdf.replace(b"/Producer", b"/Producex", 1)
    upload = anon.post(
        "/research/verify/nefu/",
        {"file": SimpleUploadedFile("r.pdf", changed, "application/pdf")},
    )
    assert upload.context["req"] is None
    upload = anon.post(
        "/research/verify/hit/", {"file": SimpleUploadedFile("r.pdf", pdf, "application/pdf")}
    )
    assert upload.context["req"] is None


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_novelty_pages_in_both_languages(
    lang: str, library_a: Library, patron_a: Any, reference_a: Any
) -> None:
    patron = client_for(patron_a)
    patron.cookies["lifeline_lang"] = lang
    form = patron.get("/research/nefu/novelty/request/")
    expected = "Commission a novelty search" if lang == "en" else "科技查新"
    assert expected in form.content.decode()
    req = _commission(patron)
    staff = client_for(reference_a)
    staff.cookies["lifeline_lang"] = lang
    page = staff.get(f"/research/n/{req.pk}/").content.decode()
    assert ("Search strategy" if lang == "en" else "检索策略") in page
    queue = staff.get("/research/nefu/novelty/").content.decode()
    assert COMMISSION["title"] in queue


def test_novelty_is_one_library_s(
    library_a: Library, patron_a: Any, librarian_b: Any, reference_a: Any
) -> None:
    req = _commission(client_for(patron_a))
    other = client_for(librarian_b)
    assert other.get(f"/research/n/{req.pk}/").status_code == 404
    assert other.post(f"/research/n/{req.pk}/strategy/", STRATEGY).status_code == 404
    assert other.post(f"/research/n/{req.pk}/fee/", {"fee": "1"}).status_code == 404
    assert other.get("/research/nefu/novelty/").status_code == 403


def test_commission_is_checked(library_a: Library, patron_a: Any) -> None:
    patron = client_for(patron_a)
    bad = {**COMMISSION, "keywords_en": "", "novelty_points": "\n".join(["x"] * 21)}
    page = patron.post("/research/nefu/novelty/request/", bad)
    assert page.status_code == 200
    assert set(page.context["form"].errors) == {"keywords_en", "novelty_points"}
    assert not NoveltyRequest.objects.exists()


def test_sla_notice_once_to_research_staff(
    library_a: Library, patron_a: Any, reference_a: Any, librarian_a: Any
) -> None:
    req = _commission(client_for(patron_a))
    late = req.due_at + dt.timedelta(minutes=1)
    assert workflow.notify_overdue(now=req.due_at - dt.timedelta(minutes=1)) == 0
    assert workflow.notify_overdue(now=late) == 1
    assert workflow.notify_overdue(now=late + dt.timedelta(hours=1)) == 0  # once
    notice = Notification.objects.get(kind="research.overdue")
    # reference librarians work on research requests; e-resources staff do not get the notice
    assert notice.recipients == ["reference_a@example.edu"]
    assert req.serial == "" and str(req) in notice.subject


def test_fee_amounts_are_bounded(library_a: Library) -> None:
    for bad in ("-1", "1e9", "NaN", "Infinity", "²", ""):
        with pytest.raises(ValidationError):
            workflow.parse_fee(bad)
    assert str(workflow.parse_fee("150")) == "150.00"


def _unused() -> None:
    io.BytesIO()
