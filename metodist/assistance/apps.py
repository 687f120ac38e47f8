from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistanceConfig(AppConfig):
    name = "metodist.assistance"
    label = "assistance"
    verbose_name = _("Этап 5. Методическая помощь")
