from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionConfig(AppConfig):
    name = "metodist.collection"
    label = "collection"
    verbose_name = _("Этап 1. Сбор данных")

    def ready(self) -> None:
        from metodist.collection import models
        from metodist.core.cycle import watch

        # teachers' data entered by hand: stage 1's figures and the kept pages (core.page_cache) show it
        watch(models.TeacherDiagnostic, models.Survey, models.Attestation, models.ProfessionalDeficit)
