"""Organisations, people and access: the ground every stage stands on."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from django.conf import settings
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from metodist.core.access import VisibleManager, VisibleQuerySet

PATH_STEP = 8  # digits of one step of the materialised path: 10^8 organisations are enough


class OrganisationKind(models.TextChoices):
    REGION = "region", _("Регион")
    MUNICIPALITY = "municipality", _("Муниципальное образование")
    SCHOOL = "school", _("Образовательная организация")
    INSTITUTE = "institute", _("Институт развития образования")
    METHOD_SERVICE = "method_service", _("Муниципальная методическая служба")
    EDUCATION_AUTHORITY = "education_authority", _("Орган управления образованием")


class SchoolType(models.TextChoices):
    GYMNASIUM = "gymnasium", _("Гимназия")
    LYCEUM = "lyceum", _("Лицей")
    SECONDARY = "secondary", _("Средняя общеобразовательная школа (СОШ)")
    BASIC = "basic", _("Основная общеобразовательная школа (ООШ)")
    PRIMARY = "primary", _("Начальная школа")
    OTHER = "other", _("Другая")


class OrganisationQuerySet(VisibleQuerySet):
    org_path_lookup = "path"

    def subtree(self, organisation: Organisation) -> OrganisationQuerySet:
        return self.filter(path__startswith=organisation.path)

    def schools(self) -> OrganisationQuerySet:
        return self.filter(kind=OrganisationKind.SCHOOL)


class Organisation(models.Model):
    """A node of the organisation tree; `path` is the materialised path of ids, so a subtree is one
    indexed prefix filter."""

    kind = models.CharField(_("вид"), max_length=32, choices=OrganisationKind.choices)
    code = models.CharField(
        _("код"), max_length=64, unique=True, help_text=_("Код, как его пишут системы оценки: edu223017, reg22_m001.")
    )
    short_name = models.CharField(_("краткое название"), max_length=255)
    full_name = models.CharField(_("полное название"), max_length=1000, blank=True)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("входит в")
    )
    path = models.CharField(_("путь в дереве"), max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(_("уровень"), default=0, editable=False)
    school_type = models.CharField(_("тип школы"), max_length=16, choices=SchoolType.choices, blank=True)
    social_index = models.FloatField(
        _("индекс социального благополучия (ИСС)"), null=True, blank=True,
        help_text=_("Чем ниже индекс, тем сложнее социальные условия школы."),
    )
    is_rural = models.BooleanField(_("сельская"), default=False)
    has_growth_point = models.BooleanField(_("центр «Точка роста»"), default=False)

    objects = VisibleManager.from_queryset(OrganisationQuerySet)()

    class Meta:
        verbose_name = _("организация")
        verbose_name_plural = _("организации")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.short_name

    def save(self, *args, **kwargs):
        with transaction.atomic():
            super().save(*args, **kwargs)
            expected = self._expected_path()
            if expected != self.path:
                old = self.path
                self.path, self.depth = expected, expected.count("/") - 2
                Organisation.objects.filter(pk=self.pk).update(path=self.path, depth=self.depth)
                if old:
                    self._move_descendants(old)

    def _expected_path(self) -> str:
        own = f"{self.pk:0{PATH_STEP}d}/"
        if self.parent_id is None:
            return "/" + own
        parent_path = Organisation.objects.values_list("path", flat=True).get(pk=self.parent_id)
        return parent_path + own

    def _move_descendants(self, old: str) -> None:
        for child in Organisation.objects.filter(path__startswith=old).exclude(pk=self.pk).order_by("depth"):
            child.save()

    def ancestors(self) -> list[Organisation]:
        """The chain from the root to the parent, in order."""
        ids = [int(step) for step in self.path.strip("/").split("/")[:-1]]
        found = {o.pk: o for o in Organisation.objects.filter(pk__in=ids)}
        return [found[i] for i in ids if i in found]

    def is_within(self, other: Organisation) -> bool:
        return self.path.startswith(other.path)


class Subject(models.Model):
    """A school subject, coded as the federal system codes it (ru, ma, okr, …)."""

    code = models.CharField(_("код"), max_length=16, unique=True)
    name = models.CharField(_("название"), max_length=128)

    class Meta:
        verbose_name = _("предмет")
        verbose_name_plural = _("предметы")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AcademicYear(models.Model):
    """A school year, 1 September to 31 August; one turn of the cycle."""

    start_year = models.PositiveSmallIntegerField(_("год начала"), unique=True)

    class Meta:
        verbose_name = _("учебный год")
        verbose_name_plural = _("учебные годы")
        ordering = ["start_year"]

    def __str__(self) -> str:
        return f"{self.start_year}/{self.start_year + 1}"

    @classmethod
    def of_spring(cls, calendar_year: int) -> AcademicYear:
        """The school year in whose spring an assessment of `calendar_year` is written."""
        return cls.objects.get_or_create(start_year=calendar_year - 1)[0]


class QualificationCategory(models.TextChoices):
    NONE = "none", _("Без категории")
    CONFORMITY = "conformity", _("Соответствие занимаемой должности")
    FIRST = "first", _("Первая")
    HIGHEST = "highest", _("Высшая")


class TeacherQuerySet(VisibleQuerySet):
    org_path_lookup = "school__path"
    teacher_lookup = "pk"


class Teacher(models.Model):
    """A subject teacher. Teachers are staff, known by name to their methodologists."""

    school = models.ForeignKey(Organisation, models.PROTECT, related_name="teachers", verbose_name=_("школа"))
    full_name = models.CharField(_("ФИО"), max_length=255)
    code = models.CharField(_("код"), max_length=64, blank=True, help_text=_("Табельный или иной внешний код."))
    subjects = models.ManyToManyField(Subject, blank=True, related_name="teachers", verbose_name=_("предметы"))
    qualification_category = models.CharField(
        _("квалификационная категория"), max_length=16, choices=QualificationCategory.choices,
        default=QualificationCategory.NONE,
    )
    experience_years = models.PositiveSmallIntegerField(_("педагогический стаж, лет"), null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="teacher",
        verbose_name=_("пользователь"),
    )

    objects = VisibleManager.from_queryset(TeacherQuerySet)()

    class Meta:
        verbose_name = _("учитель")
        verbose_name_plural = _("учителя")
        ordering = ["full_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "code"], condition=~models.Q(code=""), name="teacher_code_unique_in_school"
            )
        ]

    def __str__(self) -> str:
        return self.full_name


def normalise_identity(value: str) -> str:
    """The form of an identifying field that is hashed: case, ё/е, spaces and Unicode forms do not matter."""
    text = unicodedata.normalize("NFKC", str(value)).casefold().replace("ё", "е")
    return " ".join(text.split())


def pseudonym(*fields: object) -> str:
    """Keyed pseudonym of a pupil: HMAC-SHA256 of the normalised identifying fields with the instance key.

    The same fields give the same pseudonym on this installation, so a pupil links across assessments
    and years; without the key the pseudonym cannot be reversed or recomputed from a name.
    """
    message = "\x1f".join(normalise_identity(f) for f in fields).encode()
    return hmac.new(settings.PSEUDONYM_KEY.encode(), message, hashlib.sha256).hexdigest()


class Gender(models.TextChoices):
    MALE = "m", _("мужской")
    FEMALE = "f", _("женский")


class PupilQuerySet(VisibleQuerySet):
    org_path_lookup = "school__path"
    teacher_lookup = "works__teacher"


class Pupil(models.Model):
    """A pupil, stored as a keyed pseudonym only: no name, birth date or document number."""

    pseudonym = models.CharField(_("псевдоним"), max_length=64, unique=True)
    school = models.ForeignKey(
        Organisation, models.PROTECT, null=True, blank=True, related_name="pupils", verbose_name=_("школа")
    )
    gender = models.CharField(_("пол"), max_length=1, choices=Gender.choices, blank=True)

    objects = VisibleManager.from_queryset(PupilQuerySet)()

    class Meta:
        verbose_name = _("обучающийся")
        verbose_name_plural = _("обучающиеся")

    def __str__(self) -> str:
        return _("Обучающийся {code}").format(code=self.pseudonym[:10])


class SchoolClassQuerySet(VisibleQuerySet):
    org_path_lookup = "school__path"
    teacher_lookup = "assignments__teacher"


class SchoolClass(models.Model):
    school = models.ForeignKey(Organisation, models.PROTECT, related_name="classes", verbose_name=_("школа"))
    academic_year = models.ForeignKey(AcademicYear, models.PROTECT, verbose_name=_("учебный год"))
    grade = models.PositiveSmallIntegerField(_("класс (параллель)"))
    letter = models.CharField(_("литера"), max_length=16, blank=True)

    objects = VisibleManager.from_queryset(SchoolClassQuerySet)()

    class Meta:
        verbose_name = _("класс")
        verbose_name_plural = _("классы")
        ordering = ["school", "academic_year", "grade", "letter"]
        constraints = [
            models.UniqueConstraint(fields=["school", "academic_year", "grade", "letter"], name="class_unique")
        ]

    def __str__(self) -> str:
        return f"{self.grade}{self.letter}"


class TeachingAssignmentQuerySet(VisibleQuerySet):
    org_path_lookup = "school_class__school__path"
    teacher_lookup = "teacher"


class TeachingAssignment(models.Model):
    """Who teaches which subject in which class in a year."""

    teacher = models.ForeignKey(Teacher, models.CASCADE, related_name="assignments", verbose_name=_("учитель"))
    school_class = models.ForeignKey(
        SchoolClass, models.CASCADE, related_name="assignments", verbose_name=_("класс")
    )
    subject = models.ForeignKey(Subject, models.PROTECT, verbose_name=_("предмет"))

    objects = VisibleManager.from_queryset(TeachingAssignmentQuerySet)()

    class Meta:
        verbose_name = _("учебная нагрузка")
        verbose_name_plural = _("учебная нагрузка")
        constraints = [
            models.UniqueConstraint(fields=["school_class", "subject", "teacher"], name="assignment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.teacher} — {self.subject}, {self.school_class}"


class AssociationScope(models.TextChoices):
    SCHOOL = "school", _("Школьное (ШМО)")
    MUNICIPALITY = "municipality", _("Городское / районное (ГМО / РМО)")
    REGION = "region", _("Региональное")


class CommunityQuerySet(VisibleQuerySet):
    org_path_lookup = "organisation__path"


class MethodAssociation(models.Model):
    """A subject teachers' association: ШМО of a school, ГМО/РМО of a municipality."""

    name = models.CharField(_("название"), max_length=255)
    scope = models.CharField(_("уровень"), max_length=16, choices=AssociationScope.choices)
    organisation = models.ForeignKey(
        Organisation, models.PROTECT, related_name="associations", verbose_name=_("организация")
    )
    subjects = models.ManyToManyField(Subject, blank=True, verbose_name=_("предметы"))
    head = models.ForeignKey(
        Teacher, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("руководитель")
    )
    members = models.ManyToManyField(Teacher, blank=True, related_name="associations", verbose_name=_("члены"))

    objects = VisibleManager.from_queryset(CommunityQuerySet)()

    class Meta:
        verbose_name = _("методическое объединение")
        verbose_name_plural = _("методические объединения")
        ordering = ["organisation", "name"]

    def __str__(self) -> str:
        return self.name


class SubjectClub(models.Model):
    """A community of leading teachers above the associations (e.g. Клуб «ЛИДЕР»)."""

    name = models.CharField(_("название"), max_length=255)
    organisation = models.ForeignKey(
        Organisation, models.PROTECT, related_name="clubs", verbose_name=_("организация, при которой действует")
    )
    subject = models.ForeignKey(Subject, models.PROTECT, null=True, blank=True, verbose_name=_("предмет"))
    head = models.ForeignKey(
        Teacher, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("руководитель")
    )
    members = models.ManyToManyField(Teacher, blank=True, related_name="clubs", verbose_name=_("члены"))

    objects = VisibleManager.from_queryset(CommunityQuerySet)()

    class Meta:
        verbose_name = _("предметный клуб")
        verbose_name_plural = _("предметные клубы")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    REGION_ADMIN = "region_admin", _("Администратор региона")
    METHODOLOGIST = "methodologist", _("Методист")
    SCHOOL_ADMIN = "school_admin", _("Администрация школы")
    ASSOCIATION_HEAD = "association_head", _("Руководитель методического объединения")
    TEACHER = "teacher", _("Учитель")
    VIEWER = "viewer", _("Наблюдатель")


class RoleAssignmentQuerySet(VisibleQuerySet):
    org_path_lookup = "organisation__path"


class RoleAssignment(models.Model):
    """A role of a user at an organisation; it reaches that organisation's subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="role_assignments", verbose_name=_("пользователь")
    )
    role = models.CharField(_("роль"), max_length=32, choices=Role.choices)
    organisation = models.ForeignKey(
        Organisation, models.CASCADE, related_name="role_assignments", verbose_name=_("организация")
    )

    objects = VisibleManager.from_queryset(RoleAssignmentQuerySet)()

    class Meta:
        verbose_name = _("роль пользователя")
        verbose_name_plural = _("роли пользователей")
        constraints = [models.UniqueConstraint(fields=["user", "role", "organisation"], name="role_unique")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} ({self.organisation})"


class AuditQuerySet(VisibleQuerySet):
    org_path_lookup = "organisation__path"


class AuditEntry(models.Model):
    """What changed, who changed it and when: imports now, roadmaps and statuses later."""

    at = models.DateTimeField(_("когда"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, verbose_name=_("кто")
    )
    action = models.CharField(_("действие"), max_length=64)
    object_type = models.CharField(_("тип объекта"), max_length=64)
    object_id = models.CharField(_("объект"), max_length=64)
    organisation = models.ForeignKey(
        Organisation, models.SET_NULL, null=True, blank=True, verbose_name=_("организация")
    )
    details = models.JSONField(_("подробности"), default=dict, blank=True)

    objects = VisibleManager.from_queryset(AuditQuerySet)()

    class Meta:
        verbose_name = _("запись журнала изменений")
        verbose_name_plural = _("журнал изменений")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type} {self.object_id}"
