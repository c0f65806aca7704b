from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    VENDORS = "vendors", _("Vendors")
    RESOURCES = "resources", _("Resources")
    ROUTES = "routes", _("Access routes")


# Applied in this order: resources refer to vendors, routes to resources.
KIND_ORDER = [ImportKind.VENDORS, ImportKind.RESOURCES, ImportKind.ROUTES]


class Outcome(models.TextChoices):
    CREATE = "create", _("Create")
    UPDATE = "update", _("Update")
    UNCHANGED = "unchanged", _("Unchanged")


OUTCOME_COLOURS = {Outcome.CREATE: "green", Outcome.UPDATE: "blue", Outcome.UNCHANGED: "grey"}


class ExportFormat(models.TextChoices):
    CSV = "csv", _("CSV (UTF-8)")
    XLSX = "xlsx", _("Excel workbook (XLSX)")
    EZPROXY = "ezproxy", _("EZproxy stanzas")
