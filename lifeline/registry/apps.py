from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "lifeline.registry"
    label = "registry"
    verbose_name = _("Resource registry")

    def ready(self) -> None:
        from lifeline.registry import signals  # noqa: F401
