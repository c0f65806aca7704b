from __future__ import annotations

import pytest

from lifeline.knowledge import services
from lifeline.knowledge.models import Article
from lifeline.registry.choices import RouteKind
from lifeline.registry.models import AccessRoute, Resource

pytestmark = pytest.mark.django_db


def test_registry_changes_rewrite_the_guides(library_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        res = Resource.objects.create(
            library=library_a, key="cnki", name="中国知网", name_en="CNKI"
        )
        AccessRoute.objects.create(
            resource=res,
            kind=RouteKind.CARSI,
            sp_login_url="https://fsso.cnki.net/Shibboleth.sso/Login",
            instructions="选择东北林业大学后登录",
        )
        AccessRoute.objects.create(
            resource=res,
            kind=RouteKind.ACCOUNT,
            url="https://cnki.example/",
            account_username="acct-user-42",
            account_password="s3cret-pass",
        )
    zh = Article.objects.get(resource=res, language="zh-hans")
    en = Article.objects.get(resource=res, language="en")
    assert "CARSI" in zh.body and "s3cret-pass" not in zh.body and "acct-user-42" not in zh.body
    assert en.title.startswith("CNKI")
    found = services.suggest(library_a, "知网在家怎么登录")
    assert found[0].kind == "resource" and found[0].id == res.pk
    assert found[0].url == f"/lib/{library_a.code}/r/cnki/"
    with django_capture_on_commit_callbacks(execute=True):
        AccessRoute.objects.filter(resource=res, kind=RouteKind.CARSI).update(instructions="x")
        route = AccessRoute.objects.get(resource=res, kind=RouteKind.CARSI)
        route.instructions = "新的说明：先选学校"
        route.save()
    zh.refresh_from_db()
    assert "新的说明" in zh.body and zh.version == 2
    with django_capture_on_commit_callbacks(execute=True):
        res.is_active = False
        res.save()
    zh.refresh_from_db()
    assert not zh.is_published
    assert services.suggest(library_a, "知网") == []


def test_demo_and_counts(library_a):
    import datetime as dt

    from lifeline.knowledge import counts, demo

    demo.load(library_a, dt.date(2020, 3, 2))
    demo.load(library_a, dt.date(2020, 3, 2))  # idempotent
    figures = {
        c.measure: c.figure
        for c in counts.counts(library_a, dt.date(2020, 3, 1), dt.date(2020, 3, 2))
    }
    assert figures["deflected"] == 4 and figures["deflection_answers"] == 5
    assert Article.objects.filter(library=library_a, resource__isnull=True).count() == 35
