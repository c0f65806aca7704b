from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class OutreachConfig(AppConfig):
    name = "lifeline.outreach"
    label = "outreach"
    verbose_name = _("Outreach and literacy")

    def ready(self) -> None:
        from lifeline.outreach.signals import on_emergency_saved

        post_save.connect(
            on_emergency_saved, sender="emergency.Event", dispatch_uid="outreach-emergency-closes"
        )
