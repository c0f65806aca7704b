from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmergencyConfig(AppConfig):
    name = "lifeline.emergency"
    label = "emergency"
    verbose_name = _("Emergency plans")
