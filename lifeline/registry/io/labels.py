"""Choice values in both languages. Imports accept a code, its English label, its Chinese
label or a common alias; exports write the label of the chosen language. The Chinese labels
live here, not only in a catalogue, so that an exported file always imports again."""

from __future__ import annotations

from functools import cache

from django.db import models
from django.utils import translation

from lifeline.registry.choices import ContentType, Currency, Language, RouteKind, TextMining

ZH_LABELS: dict[type[models.TextChoices], dict[str, str]] = {
    Language: {Language.CHINESE: "中文", Language.FOREIGN: "外文"},
    ContentType: {
        ContentType.JOURNALS: "期刊",
        ContentType.EBOOKS: "电子图书",
        ContentType.THESES: "学位论文",
        ContentType.PATENTS: "专利",
        ContentType.STANDARDS: "标准",
        ContentType.EXAMS: "考试",
        ContentType.MULTIMEDIA: "多媒体",
        ContentType.DATA: "数据与事实",
        ContentType.NEWSPAPERS: "报纸",
    },
    RouteKind: {
        RouteKind.CARSI: "CARSI一键登录",
        RouteKind.VPN: "VPN",
        RouteKind.PROXY: "代理（EZproxy）",
        RouteKind.FREE_ACCESS: "临时免费开放",
        RouteKind.OPEN_ACCESS: "开放获取",
        RouteKind.ACCOUNT: "共享账号",
        RouteKind.CAMPUS_IP: "校园网（IP）",
    },
    TextMining: {
        TextMining.UNKNOWN: "未说明",
        TextMining.ALLOWED: "允许",
        TextMining.FORBIDDEN: "不允许",
        TextMining.ON_REQUEST: "需申请",
    },
    Currency: {
        Currency.CNY: "人民币",
        Currency.USD: "美元",
        Currency.EUR: "欧元",
        Currency.GBP: "英镑",
        Currency.JPY: "日元",
        Currency.HKD: "港币",
    },
}

# Words librarians use that are neither code nor label.
ALIASES: dict[type[models.TextChoices], dict[str, str]] = {
    Language: {
        "中文数据库": "zh",
        "外文数据库": "foreign",
        "chinese": "zh",
        "english": "foreign",
        "西文": "foreign",
    },
    ContentType: {
        "电子书": "ebooks",
        "图书": "ebooks",
        "论文": "theses",
        "学位论文": "theses",
        "视频": "multimedia",
        "数据": "data",
    },
    RouteKind: {
        "carsi": "carsi",
        "shibboleth": "carsi",
        "代理": "proxy",
        "ezproxy": "proxy",
        "免费开放": "free_access",
        "临时开放": "free_access",
        "oa": "open_access",
        "账号": "account",
        "ip": "campus_ip",
        "校园网": "campus_ip",
        "校内ip": "campus_ip",
    },
    TextMining: {},
    Currency: {"rmb": "CNY", "元": "CNY", "$": "USD", "€": "EUR", "£": "GBP"},
}


def label(choices: type[models.TextChoices], code: str, language: str) -> str:
    if not code:
        return ""
    if language.startswith("zh"):
        return ZH_LABELS.get(choices, {}).get(code, code)
    with translation.override("en"):
        return str(choices(code).label) if code in choices.values else code


@cache
def _lookup(
    choices: type[models.TextChoices], extra: tuple[tuple[str, str], ...]
) -> dict[str, str]:
    from lifeline.registry.io.values import norm

    table: dict[str, str] = {}
    # Labels are lazy: read each language under that language, whatever the caller's is.
    with translation.override("en"):
        for code, english in choices.choices:
            table[norm(code)] = code
            table[norm(str(english))] = code
    with translation.override("zh-hans"):
        for code, chinese in choices.choices:
            table.setdefault(norm(str(chinese)), code)
    for code, chinese in ZH_LABELS.get(choices, {}).items():
        table[norm(chinese)] = code
    for alias, code in (*ALIASES.get(choices, {}).items(), *extra):
        table.setdefault(norm(alias), code)
    return table


def choice_lookup(choices: type[models.TextChoices], extra: dict[str, str]) -> dict[str, str]:
    return _lookup(choices, tuple(sorted(extra.items())))
