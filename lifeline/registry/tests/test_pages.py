"""The patron A–Z list and the per-resource access guide."""

from __future__ import annotations

import gzip
import re
import sys
import types
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from lifeline.conftest import client_for
from lifeline.core.models import Library
from lifeline.registry.models import AccessRoute, Resource
from lifeline.registry.patron import initial, sort_key
from lifeline.registry.tests.pages_data import Catalogue, build


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


@pytest.fixture
def cat(library_a: Library, library_b: Library) -> Catalogue:
    return build(library_a, library_b)


def az(client: Client, library: Library, **params: str) -> str:
    response = client.get(reverse("registry:az", args=[library.code]), params)
    assert response.status_code == 200
    return response.content.decode()


def names(html: str) -> list[str]:
    return re.findall(r'class="res-name" href="[^"]+">([^<]+)<', html)


def test_initial_and_pinyin_order() -> None:
    assert initial("中国知网") == "Z"
    assert initial("万方数据") == "W"
    assert initial("ScienceDirect") == "S"
    assert initial("《读秀》") == "D"
    assert initial("Ｗｅｂ of Science") == "W"  # full-width letters
    assert initial("3D Body") == "#"
    assert sort_key("读秀") < sort_key("万方") < sort_key("中国知网")


def test_az_lists_top_level_active_in_pinyin_order(
    client: Client, library_a: Library, cat: Catalogue
) -> None:
    html = az(client, library_a)
    # 读秀 (D) · ScienceDirect (S) · 万方 (W) · 中国知网 (Z); the sub-database under its parent.
    assert names(html) == ["读秀学术搜索", "ScienceDirect", "万方数据知识服务平台", "中国知网"]
    assert "中国博士学位论文全文数据库" in html
    assert html.index("中国博士学位论文全文数据库") > html.index("中国知网")
    assert "已停订数据库" not in html and "哈工大自建库" not in html
    assert "4 个数据库" in html
    assert 'class="badge green"' in html  # CARSI badge
    assert "试用" in html and "新" in html  # trial and new markers


def test_filters(client: Client, library_a: Library, cat: Catalogue) -> None:
    assert names(az(client, library_a, language="foreign")) == ["ScienceDirect"]
    assert names(az(client, library_a, type="patents")) == ["万方数据知识服务平台"]
    assert names(az(client, library_a, category=str(cat.sciencedirect.category_id))) == [
        "ScienceDirect"
    ]
    # Works from home: 读秀 has only campus IP and an expired free access.
    assert names(az(client, library_a, home="on")) == [
        "ScienceDirect",
        "万方数据知识服务平台",
        "中国知网",
    ]
    assert names(az(client, library_a, letter="Z")) == ["中国知网"]
    letters = az(client, library_a, letter="Z")
    assert 'aria-hidden="true">A</span>' in letters  # no database under A: not a link


def test_search_chinese_english_and_sub_databases(
    client: Client, library_a: Library, cat: Catalogue
) -> None:
    assert names(az(client, library_a, q="知网")) == ["中国知网"]
    assert names(az(client, library_a, q="学术期刊")) == ["中国知网"]  # description
    assert names(az(client, library_a, q="elsevier")) == ["ScienceDirect"]
    assert names(az(client, library_a, q="ＷＡＮＦＡＮＧ")) == [
        "万方数据知识服务平台"
    ]  # full-width, any case
    # A hit on a sub-database brings up its parent.
    assert names(az(client, library_a, q="博士学位")) == ["中国知网"]
    assert "没有符合" in az(client, library_a, q="no-such-thing")


def test_bad_filter_is_named_not_fatal(client: Client, library_a: Library, cat: Catalogue) -> None:
    html = az(client, library_a, category="999", type="poems")
    assert "类别 “999”" in html and "资源类型 “poems”" in html
    assert len(names(html)) == 4


def test_pagination(client: Client, library_a: Library, cat: Catalogue) -> None:
    Resource.objects.bulk_create(
        Resource(
            library=library_a, key=f"bulk-{i:03}", name=f"Bulk {i:03}", search_text=f"bulk {i:03}"
        )
        for i in range(60)
    )
    library_a.touch_registry()
    first = az(client, library_a, q="bulk")
    assert len(names(first)) == 50 and "第 1 / 2 页" in first
    assert 'href="?q=bulk&amp;page=2"' in first
    second = az(client, library_a, q="bulk", page="2")
    assert names(second) == [f"Bulk {i:03}" for i in range(50, 60)]


def test_english(client: Client, library_a: Library, cat: Catalogue) -> None:
    html = az(client, library_a, lang="en")
    assert "Databases A–Z" in html and "Works from home" in html
    # English names where there are; a Chinese-only name files under its pinyin initial.
    assert names(html) == ["CNKI", "读秀学术搜索", "ScienceDirect", "Wanfang Data"]
    assert "CARSI one-click login" in html
    client.cookies["lifeline_lang"] = "en"
    assert "4 databases" in az(client, library_a)
    assert 'href="?q=cnki&amp;lang=zh-hans"' in az(
        client, library_a, q="cnki"
    )  # the switch keeps the search


def test_anonymous_page_is_cached_and_sessionless(
    client: Client, library_a: Library, cat: Catalogue, django_assert_max_num_queries: Any
) -> None:
    url = reverse("registry:az", args=[library_a.code])
    # A miss: ours, plus the emergency banner's context processor (2).
    with django_assert_max_num_queries(12):
        first = client.get(url)
    assert "Cookie" not in first.headers.get("Vary", "")
    assert not first.cookies
    assert "csrfmiddlewaretoken" not in first.content.decode()
    with django_assert_max_num_queries(1):  # the library (for its registry version), nothing else
        again = client.get(url)
    assert again.content == first.content
    assert client.get(url, HTTP_IF_NONE_MATCH=first.headers["ETag"]).status_code == 304
    zipped = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.content) == first.content
    assert zipped.headers["Vary"] == "Accept-Encoding"


def test_cache_refreshes_after_registry_change(
    client: Client, library_a: Library, cat: Catalogue
) -> None:
    assert "知网" in az(client, library_a)
    cat.cnki.name = "中国知网总库"
    cat.cnki.save()  # the registry signal bumps Library.registry_changed_at
    assert "中国知网总库" in az(client, library_a)
    cat.wanfang.is_active = False
    cat.wanfang.save()
    assert "万方" not in az(client, library_a)


def test_signed_in_list_queries_bounded(
    library_a: Library, cat: Catalogue, patron_a: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for(patron_a)
    az(client, library_a)
    with django_assert_max_num_queries(5):
        html = az(client, library_a)
    assert "退出" in html  # the signed-in header is not from the anonymous cache


def test_unknown_library_404(client: Client, cat: Catalogue) -> None:
    assert client.get("/lib/nowhere/").status_code == 404
    assert client.get("/lib/nowhere/r/cnki/").status_code == 404


# --- resource page ----------------------------------------------------------------


def guide(client: Client, library: Library, key: str, **params: str) -> str:
    response = client.get(reverse("registry:resource", args=[library.code, key]), params)
    assert response.status_code == 200
    return response.content.decode()


def test_routes_best_first_with_carsi_button(
    client: Client, library_a: Library, cat: Catalogue
) -> None:
    html = guide(client, library_a, "cnki")
    kinds = re.findall(r'data-kind="([a-z_]+)"', html)
    assert kinds == ["carsi", "vpn", "campus_ip"]
    wayfless = (
        "https://fsso.cnki.net/Shibboleth.sso/Login?entityID=https%3A%2F%2Fidp.nefu.edu.cn%2Fidp%2Fshibboleth"
        "&amp;target=https%3A%2F%2Fwww.cnki.net%2F"
    )
    assert f'href="{wayfless}"' in html
    assert html.index("CARSI 一键登录") < html.index("校园网")
    assert "校外访问首选" in html and "仅限校内" in html
    assert "先连接学校VPN。" in html
    assert "最多 50 人同时使用" in html and "不允许批量下载" in html
    assert "中国博士学位论文全文数据库" in html  # its sub-database
    assert "400-810-9888" not in html  # vendor contact: staff only


def test_free_access_end_date_and_campus_only(
    client: Client, library_a: Library, cat: Catalogue
) -> None:
    html = guide(client, library_a, "sciencedirect", lang="en")
    assert re.findall(r'data-kind="([a-z_]+)"', html) == ["free_access", "account", "campus_ip"]
    assert "Free until" in html and "ends in 5 days" in html
    duxiu = guide(client, library_a, "duxiu", lang="zh-hans")
    assert "仅能在校园网内使用" in duxiu and "free.duxiu.com" not in duxiu  # expired route hidden


def test_account_password_only_for_own_patrons_and_staff(
    client: Client,
    library_a: Library,
    cat: Catalogue,
    patron_a: Any,
    librarian_a: Any,
    librarian_b: Any,
    stranger: Any,
) -> None:
    anonymous = guide(client, library_a, "sciencedirect")
    assert "S3cret-Pa55" not in anonymous and "nefu-reader" not in anonymous
    assert "登录后查看账号" in anonymous
    for outsider in (librarian_b, stranger):
        html = guide(client_for(outsider), library_a, "sciencedirect")
        assert "S3cret-Pa55" not in html and "仅供" in html
    for insider in (patron_a, librarian_a):
        html = guide(client_for(insider), library_a, "sciencedirect")
        assert "S3cret-Pa55" in html and "nefu-reader" in html


def test_staff_see_vendor_and_admin_link(
    library_a: Library, cat: Catalogue, librarian_a: Any, patron_a: Any
) -> None:
    html = guide(client_for(librarian_a), library_a, "cnki")
    assert "400-810-9888" in html and "王经理" in html
    assert reverse("admin:registry_resource_change", args=[cat.cnki.pk]) in html
    assert "在管理后台编辑" not in guide(client_for(patron_a), library_a, "cnki")


def test_other_library_and_inactive_404(
    client: Client, library_a: Library, library_b: Library, cat: Catalogue, librarian_a: Any
) -> None:
    assert (
        client.get(reverse("registry:resource", args=[library_a.code, "hit-only"])).status_code
        == 404
    )
    assert (
        client.get(reverse("registry:resource", args=[library_b.code, "cnki"])).status_code == 404
    )
    assert (
        client.get(reverse("registry:resource", args=[library_a.code, "retired"])).status_code
        == 404
    )
    assert (
        client_for(librarian_a)
        .get(reverse("registry:resource", args=[library_a.code, "retired"]))
        .status_code
        == 200
    )


def test_resource_page_queries_bounded_and_sessionless(
    client: Client, library_a: Library, cat: Catalogue, django_assert_max_num_queries: Any
) -> None:
    # library, resource, routes, route states, sub-databases + the emergency banner (2)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("registry:resource", args=[library_a.code, "cnki"]))
    assert "Cookie" not in response.headers.get("Vary", "")


def test_route_status_from_the_real_health_app(
    client: Client, library_a: Library, cat: Catalogue, librarian_a: Any
) -> None:
    health = pytest.importorskip("lifeline.health.models")
    carsi, vpn, _campus = cat.cnki.ordered_routes()
    health.ProbeConfig.objects.create(route=carsi, state="up")
    health.ProbeConfig.objects.create(route=vpn, state="down")
    html = guide(client, library_a, "cnki")
    assert 'class="badge green state">正常' in html and 'class="badge red state">故障' in html
    assert "尚未检测" not in html  # the unprobed campus route: nothing for a patron
    assert "尚未检测" in guide(client_for(librarian_a), library_a, "cnki")  # staff see it


def test_route_status_from_health(
    client: Client, library_a: Library, cat: Catalogue, monkeypatch: Any
) -> None:
    routes = cat.cnki.ordered_routes()
    # Without the health app's function the page shows no status at all.
    monkeypatch.setitem(sys.modules, "lifeline.health.services", None)
    assert 'class="badge green state"' not in guide(client, library_a, "cnki")
    # With it, each route shows its state. (The real function lives in the health app; this
    # stands in for it only to fix which state each route reports.)
    fake = types.ModuleType("lifeline.health.services")
    fake.current_states = lambda ids: {routes[0].pk: "up", routes[1].pk: "down"}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "lifeline.health.services", fake)
    html = guide(client, library_a, "cnki")
    assert 'class="badge green state">正常' in html and 'class="badge red state">故障' in html


def test_proxy_link_and_sub_database_page(
    client: Client, library_a: Library, cat: Catalogue
) -> None:
    wanfang = guide(client, library_a, "wanfang")
    assert 'href="https://ezproxy.nefu.edu.cn/login?url=https://www.wanfangdata.com.cn/"' in wanfang
    assert "通过图书馆代理访问" in wanfang
    sub = guide(client, library_a, "cnki-theses")
    # Breadcrumb back to the parent; with no route of its own, the platform's routes apply.
    assert f'href="{reverse("registry:resource", args=[library_a.code, "cnki"])}"' in sub
    assert "通过中国知网访问" in sub
    assert re.findall(r'data-kind="([a-z_]+)"', sub) == ["carsi", "vpn", "campus_ip"]
    AccessRoute.objects.filter(resource=cat.cnki).delete()
    orphan = guide(client, library_a, "cnki-theses")
    assert "目前没有登记访问途径" in orphan and "lib@nefu.example.edu" in orphan
