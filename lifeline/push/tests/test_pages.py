"""Staff pages, exports, API, reactions."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from lifeline.conftest import client_for
from lifeline.core.models import Library
from lifeline.push.choices import State
from lifeline.push.logic import publish, runs, subscriptions
from lifeline.push.models import Announcement, PushReaction
from lifeline.push.tests.conftest import confirmed, draft


@pytest.mark.django_db
def test_staff_pages_and_xlsx_both_languages(
    library_a: Library, librarian_a: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(5):
        ann = draft(library_a, title=f"公告{i}", send_email=False, send_robots=False)
        publish.move(ann, State.PUBLISHED)
    staff = client_for(librarian_a)
    with django_assert_max_num_queries(15):
        assert staff.get(f"/push/{library_a.code}/").status_code == 200
    for lang, header in (("zh-hans", "标题"), ("en", "Title")):
        page = staff.get(f"/push/{library_a.code}/stats/?lang={lang}")
        assert page.status_code == 200 and "<svg" in page.content.decode()
        response = staff.get(f"/push/{library_a.code}/stats.xlsx?lang={lang}")
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
        assert header in rows[0] and len(rows) == 6
    assert staff.get(f"/push/{library_a.code}/new/").status_code == 200
    assert staff.get("/staff/?library=" + library_a.code).status_code == 200


@pytest.mark.django_db
def test_api_create_sanitises_and_publishes(library_a: Library, librarian_a: Any) -> None:
    staff = client_for(librarian_a)
    response = staff.post(
        "/api/push/announcements/",
        {
            "library": library_a.code,
            "topic": "epidemic",
            "title": "防护知识",
            "body": "<p>洗手</p><script>x()</script>",
            "send_email": False,
            "send_robots": False,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert "<script" not in Announcement.objects.get(pk=pk).body
    published = staff.post(f"/api/push/announcements/{pk}/publish/")
    assert published.status_code == 200 and published.json()["state"] == "published"
    subs = staff.get("/api/push/subscriptions/").json()
    assert "email" not in str(subs)


@pytest.mark.django_db
def test_open_pixel_and_signed_click(library_a: Library) -> None:
    sub = confirmed(library_a, "reader@example.edu")
    ann = draft(library_a, send_email=False, send_robots=False)
    anon = Client()
    token = subscriptions.subscriber_token(sub.pk)
    response = anon.get(f"/push/-/o/{ann.pk}/{token}.gif")
    assert response["Content-Type"] == "image/gif"
    anon.get(f"/push/-/o/{ann.pk}/{token}.gif")
    link = runs.click_url(ann.pk, "https://www.carsi.edu.cn/")
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    response = anon.get(path)
    assert response.status_code == 302 and response["Location"] == "https://www.carsi.edu.cn/"
    assert PushReaction.objects.filter(kind="open").count() == 2
    from lifeline.push.logic import stats

    figures = stats.reach([ann])[ann.pk]
    assert figures["opens"] == 1 and figures["clicks"] == 1  # opens: one per subscriber
