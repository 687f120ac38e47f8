from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PracticesConfig(AppConfig):
    name = "metodist.practices"
    label = "practices"
    verbose_name = _("Этап 3. Передовой опыт и профессиональные сообщества")

    def ready(self) -> None:
        from metodist.collection.signals import results_imported

        results_imported.connect(_recompute_after_import, dispatch_uid="practices-evidence")
        from metodist.core.cycle import watch
        from metodist.practices.models import CommunitySession, Practice

        watch(Practice, CommunitySession)


def _recompute_after_import(sender, upload, assessment, **kwargs) -> None:
    """New results of a family of works: the evidence of the practices on its elements is counted again."""
    from metodist.practices.evidence import recompute_for_assessment

    recompute_for_assessment(assessment)
