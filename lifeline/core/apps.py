from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "lifeline.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from lifeline.core import audit, checks, deploychecks  # noqa: F401  (they register themselves)

        audit.connect_signals()
