from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "lifeline.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from lifeline.core import audit, checks  # noqa: F401 - registers the deploy checks

        audit.connect_signals()
