from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferenceConfig(AppConfig):
    name = "metodist.reference"
    label = "reference"
    verbose_name = _("Справочники: спецификации работ, шкалы, кодификаторы")

    def ready(self) -> None:
        from metodist.core.cycle import watch
        from metodist.reference.models import Assessment

        watch(Assessment)
