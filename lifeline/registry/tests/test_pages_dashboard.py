"""The registry panel on the staff dashboard."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import openpyxl
import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from lifeline.conftest import client_for
from lifeline.core.models import Library
from lifeline.registry.choices import RouteKind
from lifeline.registry.dashboard import panel
from lifeline.registry.models import AccessRoute
from lifeline.registry.tests.pages_data import Catalogue, build


@pytest.fixture
def cat(library_a: Library, library_b: Library) -> Catalogue:
    return build(library_a, library_b)


def dashboard(client: Any, **params: str) -> str:
    response = client.get(reverse("core:dashboard"), params)
    assert response.status_code == 200
    return response.content.decode()


def registry_section(html: str) -> str:
    start = html.index('id="registry-panel"')
    return html[start : html.index("</section>", start)]


def test_counts_expiring_and_no_home(
    librarian_a: Any, cat: Catalogue, django_assert_max_num_queries: Any
) -> None:
    AccessRoute.objects.create(
        resource=cat.cnki,
        kind=RouteKind.PROXY,
        url="https://www.cnki.net/",
        ends_on=timezone.localdate() + dt.timedelta(days=45),  # beyond the 30-day window
    )
    request = RequestFactory().get("/staff/")
    request.user = librarian_a
    with django_assert_max_num_queries(9):  # the panel alone; other apps add theirs to the page
        assert panel(request, cat.cnki.library) is not None
    html = dashboard(client_for(librarian_a))
    section = registry_section(html)
    # 4 active top-level databases (3 Chinese, 1 foreign), 1 sub-database, 1 vendor.
    for value, label in [
        (4, "数据库"),
        (1, "子库"),
        (3, "中文数据库"),
        (1, "外文数据库"),
        (1, "供应商"),
    ]:
        assert f'<span class="value">{value}</span><span class="label">{label}</span>' in section
    assert "CARSI 一键登录: 1" in section and "校园网（IP 认证）: 3" in section
    # ScienceDirect's free access ends in 5 days; the proxy above in 45 days is not listed.
    assert "1 个访问途径将在 30 天内到期" in section
    assert (
        reverse(
            "admin:registry_accessroute_change",
            args=[cat.sciencedirect.routes.get(kind="free_access").pk],
        )
        in section
    )
    # 读秀 has only a campus route (and an expired free access).
    assert "1 个数据库在校外无法访问" in section
    assert reverse("admin:registry_resource_change", args=[cat.duxiu.pk]) in section
    # Chart of resources per category: 综合 3, 理工 1.
    assert "<svg" in section and "综合: 3" in section and "理工: 1" in section
    assert "style=" not in section  # the CSP forbids inline styles


def test_english_and_other_library_separate(librarian_b: Any, cat: Catalogue) -> None:
    html = dashboard(client_for(librarian_b), lang="en")
    section = registry_section(html)
    assert "Resource registry" in section and "No database" not in section
    assert "中国知网" not in section and "读秀" not in section
    assert (
        '<span class="value">1</span><span class="label">Databases</span>' in section
    )  # its own one
    assert "1 database has no way in from home" in section and "哈工大自建库" in section
    assert "Nothing ends in the next 30 days." in section


def test_panel_needs_staff_of_the_library(patron_a: Any, stranger: Any, cat: Catalogue) -> None:
    assert client_for(patron_a).get(reverse("core:dashboard")).status_code == 403
    assert client_for(stranger).get(reverse("core:dashboard")).status_code == 403


def test_attention_export_xlsx(librarian_a: Any, librarian_b: Any, cat: Catalogue) -> None:
    url = reverse("registry:attention_xlsx", args=["nefu"])
    response = client_for(librarian_a).get(url)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="nefu-registry-attention-'
    )
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["即将到期的访问途径", "校外无法访问"]
    expiring = list(book["即将到期的访问途径"].values)
    assert expiring[0] == ("截止", "数据库", "标识", "访问途径", "网址")
    assert [row[1:4] for row in expiring[1:]] == [
        ("ScienceDirect", "sciencedirect", "临时免费开放")
    ]
    assert [row[:2] for row in list(book["校外无法访问"].values)[1:]] == [("读秀学术搜索", "duxiu")]
    # Another library's librarian, a patron-less visitor: refused.
    assert client_for(librarian_b).get(url).status_code == 403
    assert Client().get(url).status_code == 302
    assert (
        client_for(librarian_a)
        .get(reverse("registry:attention_xlsx", args=["nowhere"]))
        .status_code
        == 404
    )
