from django.db import models
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    CHINESE = "zh", _("Chinese")
    FOREIGN = "foreign", _("Foreign")


class ContentType(models.TextChoices):
    JOURNALS = "journals", _("Journals")
    EBOOKS = "ebooks", _("E-books")
    THESES = "theses", _("Theses")
    PATENTS = "patents", _("Patents")
    STANDARDS = "standards", _("Standards")
    EXAMS = "exams", _("Exams")
    MULTIMEDIA = "multimedia", _("Multimedia")
    DATA = "data", _("Data and facts")
    NEWSPAPERS = "newspapers", _("Newspapers")


class RouteKind(models.TextChoices):
    CARSI = "carsi", _("CARSI one-click login")
    VPN = "vpn", _("VPN")
    PROXY = "proxy", _("Proxy (EZproxy)")
    FREE_ACCESS = "free_access", _("Temporary free access")
    OPEN_ACCESS = "open_access", _("Open access")
    ACCOUNT = "account", _("Shared account")
    CAMPUS_IP = "campus_ip", _("Campus network (IP)")


# The order in which a patron at home is told to try routes (the issue: CARSI one-click
# first, then VPN, proxy, temporary free access). Campus IP only works on campus: last.
ROUTE_PREFERENCE = [
    RouteKind.CARSI,
    RouteKind.VPN,
    RouteKind.PROXY,
    RouteKind.FREE_ACCESS,
    RouteKind.OPEN_ACCESS,
    RouteKind.ACCOUNT,
    RouteKind.CAMPUS_IP,
]
OFF_CAMPUS_KINDS = frozenset(ROUTE_PREFERENCE) - {RouteKind.CAMPUS_IP}

ROUTE_COLOURS = {
    RouteKind.CARSI: "green",
    RouteKind.VPN: "blue",
    RouteKind.PROXY: "indigo",
    RouteKind.FREE_ACCESS: "orange",
    RouteKind.OPEN_ACCESS: "teal",
    RouteKind.ACCOUNT: "purple",
    RouteKind.CAMPUS_IP: "grey",
}


class TextMining(models.TextChoices):
    UNKNOWN = "unknown", _("Not stated")
    ALLOWED = "allowed", _("Allowed")
    FORBIDDEN = "forbidden", _("Not allowed")
    ON_REQUEST = "on_request", _("On request")


class Currency(models.TextChoices):
    CNY = "CNY", _("Chinese yuan (CNY)")
    USD = "USD", _("US dollar (USD)")
    EUR = "EUR", _("Euro (EUR)")
    GBP = "GBP", _("Pound sterling (GBP)")
    JPY = "JPY", _("Japanese yen (JPY)")
    HKD = "HKD", _("Hong Kong dollar (HKD)")
