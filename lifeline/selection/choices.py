"""Choice sets of cloud book selection, each with a badge colour."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class MarcFlavour(models.TextChoices):
    AUTO = "auto", _("Recognise from the records")
    MARC21 = "marc21", "MARC 21"
    UNIMARC = "unimarc", "CNMARC / UNIMARC"


class SourceFormat(models.TextChoices):
    ISO2709 = "iso2709", _("MARC (ISO 2709)")
    MARCXML = "marcxml", "MARCXML"
    SHEET = "sheet", _("Spreadsheet (XLSX or CSV)")
    ISBN_LIST = "isbns", _("ISBN list")


class LineStatus(models.TextChoices):
    NEW = "new", pgettext_lazy("catalogue line", "New")
    HELD = "held", _("Held")
    ON_ORDER = "on_order", _("On order")


LINE_STATUS_COLOURS = {
    LineStatus.NEW: "green",
    LineStatus.HELD: "grey",
    LineStatus.ON_ORDER: "blue",
}


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("campaign", "Draft")
    OPEN = "open", pgettext_lazy("campaign", "Open")
    CLOSED = "closed", pgettext_lazy("campaign", "Closed")


CAMPAIGN_STATUS_COLOURS = {
    CampaignStatus.DRAFT: "grey",
    CampaignStatus.OPEN: "green",
    CampaignStatus.CLOSED: "indigo",
}
CAMPAIGN_TRANSITIONS: dict[str, frozenset[str]] = {
    CampaignStatus.DRAFT: frozenset({CampaignStatus.OPEN}),
    CampaignStatus.OPEN: frozenset({CampaignStatus.CLOSED}),
    CampaignStatus.CLOSED: frozenset(),
}


class Reason(models.TextChoices):
    TEACHING = "teaching", _("For teaching")
    RESEARCH = "research", _("For research")
    STUDY = "study", _("For study")
    READING = "reading", _("General reading")
    OTHER = "other", pgettext_lazy("reason", "Other")


class Decision(models.TextChoices):
    PENDING = "pending", pgettext_lazy("decision", "Pending")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


DECISION_COLOURS = {
    Decision.PENDING: "yellow",
    Decision.ACCEPTED: "green",
    Decision.REJECTED: "red",
}


class BudgetKind(models.TextChoices):
    CLC = "clc", _("CLC class")
    COLLEGE = "college", _("College")


class Method(models.TextChoices):
    EXACT = "exact", _("Exact (integer programme)")
    GREEDY = "greedy", _("Votes first (greedy)")


class Origin(models.TextChoices):
    PATRON = "patron", _("Patrons")
    STAFF = "staff", _("Librarians")


class RecStatus(models.TextChoices):
    HELD = "held", _("Already held")
    QUEUED = "queued", _("Queued for the acquisitions librarian")
    ORDERED = "ordered", _("Ordered")
    ARRIVED = "arrived", _("Arrived")
    REJECTED = "rejected", _("Not bought")


REC_STATUS_COLOURS = {
    RecStatus.HELD: "teal",
    RecStatus.QUEUED: "yellow",
    RecStatus.ORDERED: "blue",
    RecStatus.ARRIVED: "green",
    RecStatus.REJECTED: "red",
}
REC_TRANSITIONS: dict[str, frozenset[str]] = {
    RecStatus.HELD: frozenset(),
    RecStatus.QUEUED: frozenset({RecStatus.ORDERED, RecStatus.REJECTED}),
    RecStatus.ORDERED: frozenset({RecStatus.ARRIVED, RecStatus.REJECTED}),
    RecStatus.ARRIVED: frozenset(),
    RecStatus.REJECTED: frozenset(),
}


class ShipStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    PICKED = "picked", _("Picked from the shelf")
    SHIPPED = "shipped", _("Shipped")
    RECEIVED = "received", _("Received by the patron")
    RETURN_SHIPPED = "return_shipped", _("Return on its way")
    RETURNED = "returned", _("Returned")
    CANCELLED = "cancelled", pgettext_lazy("delivery", "Cancelled")


SHIP_STATUS_COLOURS = {
    ShipStatus.REQUESTED: "yellow",
    ShipStatus.PICKED: "orange",
    ShipStatus.SHIPPED: "blue",
    ShipStatus.RECEIVED: "green",
    ShipStatus.RETURN_SHIPPED: "purple",
    ShipStatus.RETURNED: "teal",
    ShipStatus.CANCELLED: "grey",
}
SHIP_TRANSITIONS: dict[str, frozenset[str]] = {
    ShipStatus.REQUESTED: frozenset({ShipStatus.PICKED, ShipStatus.CANCELLED}),
    ShipStatus.PICKED: frozenset({ShipStatus.SHIPPED, ShipStatus.CANCELLED}),
    ShipStatus.SHIPPED: frozenset({ShipStatus.RECEIVED}),
    ShipStatus.RECEIVED: frozenset({ShipStatus.RETURN_SHIPPED}),
    ShipStatus.RETURN_SHIPPED: frozenset({ShipStatus.RETURNED}),
    ShipStatus.RETURNED: frozenset(),
    ShipStatus.CANCELLED: frozenset(),
}
# The address is needed until the book is back (or the request cancelled); then it is erased.
SHIP_CLOSED = (ShipStatus.RETURNED, ShipStatus.CANCELLED)

# The 22 top classes of the Chinese Library Classification (中国图书馆分类法), A–Z without
# L, M, W and Y. Class names are proper names: kept in Chinese with an English gloss.
CLC_CLASSES: list[tuple[str, str, str]] = [
    (
        "A",
        "马克思主义、列宁主义、毛泽东思想、邓小平理论",
        "Marxism, Leninism, Mao Zedong Thought, Deng Xiaoping Theory",
    ),
    ("B", "哲学、宗教", "Philosophy and religion"),
    ("C", "社会科学总论", "Social sciences (general)"),
    ("D", "政治、法律", "Politics and law"),
    ("E", "军事", "Military science"),
    ("F", "经济", "Economics"),
    ("G", "文化、科学、教育、体育", "Culture, science, education, sport"),
    ("H", "语言、文字", "Languages and writing"),
    ("I", "文学", "Literature"),
    ("J", "艺术", "Art"),
    ("K", "历史、地理", "History and geography"),
    ("N", "自然科学总论", "Natural sciences (general)"),
    ("O", "数理科学和化学", "Mathematics, physics and chemistry"),
    ("P", "天文学、地球科学", "Astronomy and earth sciences"),
    ("Q", "生物科学", "Biology"),
    ("R", "医药、卫生", "Medicine and health"),
    ("S", "农业科学", "Agriculture and forestry"),
    ("T", "工业技术", "Industrial technology"),
    ("U", "交通运输", "Transport"),
    ("V", "航空、航天", "Aviation and spaceflight"),
    ("X", "环境科学、安全科学", "Environmental and safety science"),
    ("Z", "综合性图书", "General works"),
]
CLC_LETTERS = frozenset(letter for letter, _zh, _en in CLC_CLASSES)
