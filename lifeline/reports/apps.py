from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "lifeline.reports"
    label = "reports"
    verbose_name = _("Service reports")

    def ready(self) -> None:
        from lifeline.emergency.signals import event_stood_down
        from lifeline.reports.sending import on_event_stood_down

        event_stood_down.connect(on_event_stood_down, dispatch_uid="reports.event_stood_down")
