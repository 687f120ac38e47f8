from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionConfig(AppConfig):
    name = "metodist.collection"
    label = "collection"
    verbose_name = _("Этап 1. Сбор данных")
