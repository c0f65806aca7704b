from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from lifeline.core.permissions import is_staff_anywhere


def lifeline(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    lang = getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
    return {
        "is_library_staff": bool(
            user is not None and user.is_authenticated and is_staff_anywhere(user)
        ),
        "other_language": "en" if lang == "zh-hans" else "zh-hans",
        "other_language_name": "English" if lang == "zh-hans" else "中文",
        "site_url": settings.SITE_URL,
    }
