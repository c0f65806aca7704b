from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HealthConfig(AppConfig):
    name = "lifeline.health"
    label = "health"
    verbose_name = _("Access health")

    def ready(self) -> None:
        # Refuse to start with a broken failure-signature file (named), rather than probe blind.
        from django.core.exceptions import ImproperlyConfigured

        from lifeline.health.logic.signatures import SignatureError, library

        try:
            library()
        except SignatureError as exc:
            raise ImproperlyConfigured(f"health failure signatures: {exc}") from exc
