from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistanceConfig(AppConfig):
    name = "metodist.assistance"
    label = "assistance"
    verbose_name = _("Этап 5. Методическая помощь")

    def ready(self) -> None:
        from metodist.assistance import models
        from metodist.core.cycle import watch

        watch(models.Course, models.Event, models.DevelopmentRoute, models.AssistanceRequest)
