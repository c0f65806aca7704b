from django.db import models
from django.utils.translation import gettext_lazy as _


class ArticleLanguage(models.TextChoices):
    CHINESE = "zh-hans", "中文"
    ENGLISH = "en", "English"


class Audience(models.TextChoices):
    """Who may read an article. Each level includes the ones above it."""

    PUBLIC = "public", _("Everyone")
    PATRONS = "patrons", _("Patrons of the library")
    STAFF = "staff", _("Library staff only")


AUDIENCE_COLOURS = {Audience.PUBLIC: "green", Audience.PATRONS: "blue", Audience.STAFF: "orange"}


class SuggestionKind(models.TextChoices):
    ARTICLE = "article", _("Article")
    RESOURCE = "resource", _("Resource")
