"""Shared test data for the API, permission and audit tests: one small registry per library.

(Named test_api_*.py to sit with the files it serves; it holds fixtures, no tests.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from rest_framework.test import APIClient

from lifeline.core.models import ApiToken, Library
from lifeline.registry.choices import Language, RouteKind
from lifeline.registry.models import AccessRoute, Category, KbartTitle, Resource, Vendor


@dataclass
class Registry:
    library: Library
    vendor: Vendor
    category: Category
    resource: Resource
    child: Resource
    route: AccessRoute
    account_route: AccessRoute
    title: KbartTitle


def make_registry(library: Library, tag: str) -> Registry:
    vendor = Vendor.objects.create(
        library=library,
        key=f"cnki-{tag}",
        name=f"知网{tag}",
        contact_name="王经理",
        phone="010-12345678",
        email="support@cnki.example",
        wechat="cnki_support",
    )
    category = Category.objects.create(
        library=library, language=Language.CHINESE, name=f"综合{tag}", name_en=f"General {tag}"
    )
    resource = Resource.objects.create(
        library=library,
        key=f"cnki-{tag}",
        name=f"中国知网{tag}",
        name_en=f"CNKI {tag}",
        vendor=vendor,
        category=category,
        description="期刊 学位论文",
        content_types=",journals,theses,",
        homepage="https://www.cnki.net/",
    )
    child = Resource.objects.create(
        library=library, key=f"cnki-{tag}-cjfd", name=f"中国学术期刊{tag}", parent=resource
    )
    route = AccessRoute.objects.create(
        resource=resource,
        kind=RouteKind.CARSI,
        sp_login_url="https://fsso.cnki.net/Shibboleth.sso/Login",
        target="https://www.cnki.net/",
    )
    account_route = AccessRoute.objects.create(
        resource=resource,
        kind=RouteKind.ACCOUNT,
        url="https://www.cnki.net/login",
        account_username="nefu_guest",
        account_password="S3cret-pass",
        priority=5,
    )
    title = KbartTitle.objects.create(
        resource=resource,
        publication_title=f"林业科学{tag}",
        print_identifier="1001-7488",
        date_first_issue_online=dt.date(1995, 1, 1),
    )
    return Registry(library, vendor, category, resource, child, route, account_route, title)


def api_for(user: Any | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)  # a session, as in a browser: the audit middleware sees it
    return client


def token_client(user: Any, **kwargs: Any) -> tuple[APIClient, ApiToken]:
    obj, token = ApiToken.issue(user, "test", **kwargs)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client, obj
