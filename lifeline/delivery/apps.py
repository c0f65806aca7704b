from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveryConfig(AppConfig):
    name = "lifeline.delivery"
    label = "delivery"
    verbose_name = _("Document delivery")

    def ready(self) -> None:
        from lifeline.delivery import receivers  # noqa: F401 - connects the accounts signal
