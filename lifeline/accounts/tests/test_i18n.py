"""Chinese is the default language of every accounts page and message."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from lifeline.accounts.tests.test_discovery import make_idp
from lifeline.conftest import client_for
from lifeline.core.uploads import check_upload


@pytest.mark.django_db
def test_pages_speak_chinese_by_default(client: Client, library_a: Any, librarian_a: Any) -> None:
    make_idp(library_a)
    assert "使用校园账号登录（CARSI）" in client.get("/accounts/login/").content.decode()
    assert "选择您的学校" in client.get("/accounts/saml/login/").content.decode()
    assert (
        "缺少登录应答" in client.post("/accounts/saml/acs/", {"SAMLResponse": ""}).content.decode()
    )
    staff = client_for(librarian_a)
    assert "新建令牌" in staff.get("/accounts/tokens/").content.decode()
    assert "两步验证登录" in staff.get("/accounts/two-factor/").content.decode()
    english = staff.get("/accounts/tokens/?lang=en").content.decode()
    assert "New token" in english


def test_upload_messages_are_translated() -> None:
    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        check_upload(SimpleUploadedFile("a.pdf", b""), allowed=("pdf",))
    assert caught.value.messages == ["“a.pdf”是空文件。"]
