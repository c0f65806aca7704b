from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResearchConfig(AppConfig):
    name = "lifeline.research"
    label = "research"
    verbose_name = _("Research services")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from lifeline.research.models import AffiliationVariant

        def variants_changed(sender: type, instance: AffiliationVariant, **kwargs: object) -> None:
            from lifeline.research.logic import subject

            subject.data_changed(instance.library)

        post_save.connect(variants_changed, AffiliationVariant, dispatch_uid="research-variants")
        post_delete.connect(
            variants_changed, AffiliationVariant, dispatch_uid="research-variant-del"
        )
