from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from lifeline.core.models import Library
from lifeline.core.tests.test_notify import hook, smtp  # noqa: F401 - loopback SMTP and HTTP
from lifeline.push.logic import publish, subscriptions
from lifeline.push.models import Announcement, Subscriber


@pytest.fixture(autouse=True)
def _clear_cache() -> Any:
    cache.clear()  # the per-address confirmation limit lives in the cache
    yield
    cache.clear()


def confirmed(library: Library, email: str, topics: str = ",guide,service,") -> Subscriber:
    return Subscriber.objects.create(
        library=library,
        email=email,
        digest=subscriptions.digest(email),
        topics=topics,
        confirmed_at="2020-02-01T00:00:00Z",
    )


def draft(library: Library, **fields: Any) -> Announcement:
    values: dict[str, Any] = {
        "topic": "guide",
        "title": "校外访问指南",
        "title_en": "Off-campus access guide",
        "body": '<p>通过 <a href="https://www.carsi.edu.cn/">CARSI</a> 登录。</p>'
        '<img src="/static/lifeline/guide.png" alt="guide">',
        "body_en": "<p>Sign in through CARSI.</p>",
    }
    values.update(fields)
    return publish.save_announcement(Announcement(library=library, **values))
