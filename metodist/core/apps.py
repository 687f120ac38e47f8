from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "metodist.core"
    label = "core"
    verbose_name = _("Организации, люди и доступ")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from metodist.core import memo

        post_save.connect(memo.forget, dispatch_uid="metodist-memo-save")
        post_delete.connect(memo.forget, dispatch_uid="metodist-memo-delete")
        from metodist.core.cycle import watch
        from metodist.core.models import Organisation, RoleAssignment, Teacher

        # names and roles the kept pages show (core.page_cache); uploads move the results' signature instead
        watch(Organisation, Teacher, RoleAssignment)
