"""The header map: for each kind of row, its columns in English and Chinese, with aliases.

`field` is the model field the column fills (or a reference: `vendor`, `parent`, `category`,
`resource` hold a key or a name that the importer resolves)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from lifeline.registry.choices import ContentType, Currency, Language, RouteKind, TextMining
from lifeline.registry.io import values as v
from lifeline.registry.io.choices import ImportKind
from lifeline.registry.io.labels import label


@dataclass(frozen=True)
class Column:
    field: str
    en: str
    zh: str
    parse: v.Parser = v.text
    required: bool = False
    aliases: tuple[str, ...] = ()
    # How an export writes the model value (default: as it is).
    choices: Any = None
    many: bool = False
    secret: bool = False

    def header(self, language: str) -> str:
        return self.zh if language.startswith("zh") else self.en

    def matches(self) -> set[str]:
        return {v.norm(n) for n in (self.field, self.en, self.zh, *self.aliases)}

    def export_value(self, value: Any, language: str) -> Any:
        if self.choices is not None:
            if self.many:
                sep = "、" if language.startswith("zh") else ", "
                return sep.join(label(self.choices, c, language) for c in value)
            return label(self.choices, value, language)
        if isinstance(value, bool):
            return (
                ("是" if value else "否")
                if language.startswith("zh")
                else ("yes" if value else "no")
            )
        return "" if value is None else value


VENDOR_COLUMNS = [
    Column("key", "key", "供应商标识", v.slug, required=True, aliases=("vendor key", "标识")),
    Column("name", "name", "名称", required=True, aliases=("vendor", "供应商", "供应商名称")),
    Column("name_en", "English name", "英文名称"),
    Column("website", "website", "网站", v.url, aliases=("网址",)),
    Column("contact_name", "contact", "联系人"),
    Column("phone", "phone", "电话", aliases=("联系电话",)),
    Column("email", "e-mail", "电子邮箱", v.email, aliases=("email", "邮箱")),
    Column("wechat", "WeChat", "微信"),
    Column("escalation_name", "escalation contact", "升级联系人"),
    Column("escalation_phone", "escalation phone", "升级联系电话"),
    Column(
        "escalation_email",
        "escalation e-mail",
        "升级联系邮箱",
        v.email,
        aliases=("escalation email",),
    ),
    Column(
        "response_hours",
        "response time (hours)",
        "响应时限（小时）",
        v.integer,
        aliases=("响应时限",),
    ),
    Column(
        "preferred_language",
        "preferred language",
        "首选语言",
        v.vendor_language,
        aliases=("联系语言",),
    ),
    Column("notes", "notes", "备注"),
]

RESOURCE_COLUMNS = [
    Column("key", "key", "数据库标识", v.slug, required=True, aliases=("resource key", "标识")),
    Column("name", "name", "名称", required=True, aliases=("数据库名称", "database")),
    Column("name_en", "English name", "英文名称"),
    Column(
        "parent",
        "parent database",
        "所属数据库",
        v.text,
        aliases=("parent", "父数据库", "parent key"),
    ),
    Column("vendor", "vendor", "供应商", v.text, aliases=("vendor key", "供应商标识")),
    Column(
        "language",
        "language",
        "语种",
        v.choice(Language, {}, Language.CHINESE),
        choices=Language,
        aliases=("语言",),
    ),
    Column("category", "category", "分类", aliases=("学科分类", "类别")),
    Column(
        "content_types",
        "content types",
        "内容类型",
        v.many_choices(ContentType, {}),
        choices=ContentType,
        many=True,
        aliases=("资源类型",),
    ),
    Column("description", "description", "简介", aliases=("描述",)),
    Column("description_en", "English description", "英文简介"),
    Column("homepage", "homepage", "主页", v.url, aliases=("网址", "url")),
    Column(
        "subscription_start", "subscription start", "订购开始日期", v.date, aliases=("订购开始",)
    ),
    Column(
        "first_subscribed",
        "first subscribed",
        "首次订购日期",
        v.date,
        aliases=("首次订购", "开通日期"),
    ),
    Column(
        "subscription_end",
        "subscription end",
        "订购结束日期",
        v.date,
        aliases=("订购结束", "到期日期"),
    ),
    Column("price", "price", "价格", v.decimal, aliases=("订购价格", "金额")),
    Column(
        "currency",
        "currency",
        "币种",
        v.choice(Currency, {}, Currency.CNY),
        choices=Currency,
        aliases=("货币",),
    ),
    Column(
        "off_campus_allowed",
        "off-campus use allowed",
        "允许校外访问",
        v.boolean(True),
        aliases=("校外访问",),
    ),
    Column("concurrent_users", "concurrent users", "并发用户数", v.integer, aliases=("并发数",)),
    Column(
        "walk_in_only",
        "walk-in users only",
        "仅限到馆使用",
        v.boolean(False),
        aliases=("walk-in only",),
    ),
    Column(
        "text_mining",
        "text and data mining",
        "文本与数据挖掘",
        v.choice(TextMining, {}, TextMining.UNKNOWN),
        choices=TextMining,
        aliases=("tdm", "文本挖掘"),
    ),
    Column("is_trial", "trial", "试用", v.boolean(False), aliases=("是否试用",)),
    Column("is_active", "active", "启用", v.boolean(True), aliases=("是否启用",)),
]

ROUTE_COLUMNS = [
    Column(
        "resource",
        "resource key",
        "数据库标识",
        v.slug,
        required=True,
        aliases=("resource", "key", "标识"),
    ),
    Column(
        "kind",
        "kind",
        "访问方式",
        v.choice(RouteKind, {}),
        required=True,
        choices=RouteKind,
        aliases=("route kind", "方式"),
    ),
    Column("label", "label", "标签", aliases=("名称",)),
    Column("url", "URL", "网址", v.url, aliases=("链接", "访问地址")),
    Column(
        "sp_login_url",
        "SP login URL",
        "SP登录地址",
        v.url,
        aliases=("CARSI SP login URL", "CARSI登录地址"),
    ),
    Column("idp_entity_id", "IdP entity ID", "IdP实体ID", aliases=("entity ID", "entityID")),
    Column("target", "target", "目标地址", v.url, aliases=("target URL",)),
    Column("ip_ranges", "IP ranges", "IP范围", v.ip_ranges, aliases=("IP", "IP段", "IP地址范围")),
    Column(
        "account_username", "account user name", "账号", aliases=("user name", "username", "用户名")
    ),
    Column("account_password", "account password", "密码", secret=True, aliases=("password",)),
    Column(
        "starts_on", "available from", "开始日期", v.date, aliases=("free access start", "开放开始")
    ),
    Column(
        "ends_on",
        "available until",
        "结束日期",
        v.date,
        aliases=("free access end", "开放结束", "截止日期"),
    ),
    Column("instructions", "instructions", "使用说明", aliases=("说明",)),
    Column("instructions_en", "English instructions", "英文使用说明"),
    Column("priority", "priority", "优先级", v.integer),
    Column("is_active", "active", "启用", v.boolean(True), aliases=("是否启用",)),
]

COLUMNS: dict[str, list[Column]] = {
    ImportKind.VENDORS: VENDOR_COLUMNS,
    ImportKind.RESOURCES: RESOURCE_COLUMNS,
    ImportKind.ROUTES: ROUTE_COLUMNS,
}

SHEET_NAMES = {
    ImportKind.VENDORS: {"vendors", "供应商", "vendor"},
    ImportKind.RESOURCES: {"resources", "资源", "数据库", "resource", "databases"},
    ImportKind.ROUTES: {"accessroutes", "routes", "访问途径", "访问方式", "route"},
}

SHEET_TITLES = {
    ImportKind.VENDORS: ("Vendors", "供应商"),
    ImportKind.RESOURCES: ("Resources", "资源"),
    ImportKind.ROUTES: ("Access routes", "访问途径"),
}


def sheet_title(kind: str, language: str) -> str:
    en, zh = SHEET_TITLES[ImportKind(kind)]
    return zh if language.startswith("zh") else en


def guess_kind(headers: list[str]) -> str:
    """Routes have a kind column; a vendor key without a resource key means vendors; resources
    have columns vendors lack; otherwise resources."""
    found = {v.norm(h) for h in headers}

    def names(columns: list[Column], fields: set[str] | None = None) -> set[str]:
        return set().union(*(c.matches() for c in columns if fields is None or c.field in fields))

    if found & names(ROUTE_COLUMNS, {"kind", "sp_login_url", "ip_ranges", "account_username"}):
        return ImportKind.ROUTES
    vendor_key = names(VENDOR_COLUMNS, {"key"}) - names(RESOURCE_COLUMNS, {"key"})
    resource_key = names(RESOURCE_COLUMNS, {"key"}) - names(VENDOR_COLUMNS, {"key"})
    if found & vendor_key and not found & resource_key:
        return ImportKind.VENDORS
    if found & (names(RESOURCE_COLUMNS) - names(VENDOR_COLUMNS)):
        return ImportKind.RESOURCES
    if found & (names(VENDOR_COLUMNS) - names(RESOURCE_COLUMNS)):
        return ImportKind.VENDORS
    return ImportKind.RESOURCES


def kind_of_sheet(name: str) -> str | None:
    key = v.norm(name)
    return next(
        (kind for kind, names in SHEET_NAMES.items() if key in {v.norm(n) for n in names}), None
    )


def describe_columns(kind: str) -> str:
    return _("Known columns: %(names)s") % {
        "names": ", ".join(f"{c.zh}/{c.en}" for c in COLUMNS[kind])
    }
