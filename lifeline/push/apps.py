from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PushConfig(AppConfig):
    name = "lifeline.push"
    label = "push"
    verbose_name = _("Information push")

    def ready(self) -> None:
        from lifeline.push import receivers  # noqa: F401 - connects the emergency signal
