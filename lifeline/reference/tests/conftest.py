from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from lifeline.core.models import Library
from lifeline.reference.channels.wecom import WecomCrypto
from lifeline.reference.models import DeskSettings
from lifeline.reference.standin import WecomApi

# A 43-character EncodingAESKey, as WeCom's console makes them (test value).
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
CORP = "ww0123456789abcdef"
TOKEN = "QDG6eK"
SECRET = "test-app-secret"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()  # rate-limit counters and WeCom tokens must not leak between tests
    yield
    cache.clear()


@pytest.fixture
def desk_a(library_a: Library) -> DeskSettings:
    desk = DeskSettings.for_library(library_a)
    desk.mail_address = "ask@lib.nefu.example.edu"
    desk.wecom_corp_id = CORP
    desk.wecom_agent_id = "1000002"
    desk.wecom_token = TOKEN
    desk.wecom_aes_key = AES_KEY
    desk.wecom_secret = SECRET
    desk.save()
    return desk


@pytest.fixture
def crypto() -> WecomCrypto:
    return WecomCrypto(TOKEN, AES_KEY, CORP)


@pytest.fixture
def wecom_api(desk_a: DeskSettings, settings: Any) -> Iterator[WecomApi]:
    api = WecomApi(CORP, SECRET).start()
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    desk_a.wecom_api_base = api.base_url
    desk_a.save()
    yield api
    api.stop()
