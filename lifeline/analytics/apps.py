from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "lifeline.analytics"
    label = "analytics"
    verbose_name = _("Usage analytics")

    def ready(self) -> None:
        from lifeline.analytics import signals  # noqa: F401
        from lifeline.analytics.logrules import checks  # noqa: F401
