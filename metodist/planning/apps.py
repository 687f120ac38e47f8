from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlanningConfig(AppConfig):
    name = "metodist.planning"
    label = "planning"
    verbose_name = _("Этап 4. Дорожные карты и рекомендации")

    def ready(self) -> None:
        from metodist.collection.signals import results_imported

        results_imported.connect(_remeasure_after_import, dispatch_uid="planning-remeasure")


def _remeasure_after_import(sender, upload, assessment, **kwargs) -> None:
    """New results of a family of works: its indicators are measured again (stage 6 reads them)."""
    from metodist.planning.roadmaps import remeasure_family

    remeasure_family(assessment.programme, assessment.subject.code, assessment.grade)
