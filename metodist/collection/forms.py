"""Forms of stage 1: the upload of a file and the filter of the upload history."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from metodist.collection.importing import available_formats
from metodist.collection.models import UploadStatus
from metodist.core.models import Organisation, OrganisationKind, Role
from metodist.reference.models import Assessment

#: the names users know the import formats by (docs/formats.md describes each)
FORMAT_TITLES = {
    "vpr-form": _("ВПР: форма сбора результатов"),
    "vpr-regional": _("ВПР: выгрузка результатов региона"),
    "exam-protocol": _("ОГЭ, ЕГЭ: протокол результатов"),
    "long": _("Мониторинг: строка на каждое задание"),
    "registry": _("Реестр организаций"),
    "teachers": _("Учителя и учебная нагрузка"),
    "diagnostics": _("Предметная диагностика учителей"),
    "survey": _("Анкетирование"),
    "attestation": _("Аттестация педагогов"),
    "olympiad": _("Результаты олимпиады"),
    "spec": _("Спецификация работы"),
    "federal-report": _("Отчёты ФИС ОКО: опубликованные результаты"),
}
#: the roles that may send files, and those that may also create the organisations a file names
UPLOAD_ROLES = {Role.REGION_ADMIN, Role.METHODOLOGIST, Role.SCHOOL_ADMIN, Role.ASSOCIATION_HEAD}
CREATE_ORGANISATION_ROLES = {Role.REGION_ADMIN, Role.METHODOLOGIST}
ACCEPTED = ".xlsx,.xlsm,.xls,.ods,.csv"


def format_title(name: str) -> str:
    return str(FORMAT_TITLES.get(name, name or "—"))


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Файл"), help_text=_("XLSX, XLS, ODS или CSV."),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPTED}),
    )
    format = forms.ChoiceField(label=_("Формат"), required=False)
    assessment = forms.ModelChoiceField(
        label=_("Работа"), queryset=Assessment.objects.none(), required=False, to_field_name="code",
        empty_label=_("определить по файлу"),
        help_text=_("Нужна, если в файле не видно, какая это работа."),
    )
    school = forms.ModelChoiceField(
        label=_("Школа"), queryset=Organisation.objects.none(), required=False, to_field_name="code",
        empty_label=_("указана в файле"),
        help_text=_("Для формы одной школы, в которой нет столбца с кодом школы."),
    )
    dry_run = forms.BooleanField(label=_("Проверить без загрузки"), required=False)
    valid_rows_only = forms.BooleanField(
        label=_("Загрузить только верные строки"), required=False,
        help_text=_("Строки с ошибками будут пропущены; без этой отметки файл с ошибками не загружается совсем."),
    )
    create_organisations = forms.BooleanField(
        label=_("Создать недостающие организации"), required=False,
        help_text=_("Школы, которых нет в реестре, будут созданы по данным файла."),
    )

    def __init__(self, *args, user, role, fixed: dict | None = None, **kwargs):
        """`role` is the RoleAssignment the user acts in (None for a superuser without roles); `fixed`
        holds the format and work of the upload a corrected file replaces."""
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = [("", _("определить автоматически"))] + [
            (name, format_title(name)) for name in available_formats()]
        self.fields["assessment"].queryset = Assessment.objects.select_related("subject").order_by(
            "-year", "programme", "subject__name", "grade", "code")
        self.fields["assessment"].label_from_instance = lambda a: f"{a.title} ({a.code})"
        if role is not None and role.organisation.kind == OrganisationKind.SCHOOL:
            del self.fields["school"]  # a school's files are its own: the import is restricted to it
        else:
            self.fields["school"].queryset = Organisation.objects.visible_to(user).filter(
                kind=OrganisationKind.SCHOOL).order_by("short_name")
            self.fields["school"].label_from_instance = lambda o: f"{o.short_name} ({o.code})"
        if not (user.is_superuser and role is None) and (role is None or role.role not in CREATE_ORGANISATION_ROLES):
            del self.fields["create_organisations"]
        for name, value in (fixed or {}).items():
            if name in self.fields and value:
                self.initial[name] = value


class HistoryFilter(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Организация"), queryset=Organisation.objects.none(), required=False, empty_label=_("все"),
    )
    status = forms.ChoiceField(label=_("Состояние"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.visible_to(user).filter(
            kind__in=[OrganisationKind.REGION, OrganisationKind.MUNICIPALITY, OrganisationKind.SCHOOL]
        ).order_by("path")
        self.fields["organisation"].label_from_instance = lambda o: "· " * o.depth + o.short_name
        self.fields["status"].choices = [("", _("все"))] + list(UploadStatus.choices)
