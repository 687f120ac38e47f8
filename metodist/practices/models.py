"""Stage 3, stored: the library of practices with their measured evidence, and the sessions of the
professional communities (ШМО, ГМО/РМО of core.MethodAssociation; subject clubs such as Клуб «ЛИДЕР» of
core.SubjectClub) where problem fields are discussed and practices presented.

A practice's evidence is never typed: `PracticeEvidence` rows are counted from the results of its
author's classes (or school) on the content elements it addresses, before and after it was taken up
(`practices.evidence`). Access: a published practice is the region's common good and is seen by every
user with a role; a draft only inside its school's subtree. A session is seen where its community is."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from metodist.analysis.models import ProblemField
from metodist.collection.models import CompetenceArea
from metodist.core.access import VisibleManager, VisibleQuerySet, _roles_of
from metodist.core.models import MethodAssociation, Organisation, Subject, SubjectClub, Teacher
from metodist.reference.models import ContentElement, Skill


class RiskFactor(models.TextChoices):
    """The risk profiles of schools with low results (ФИОКО, проект «500+»), as a practice may address."""

    EQUIPMENT = "equipment", _("низкий уровень оснащения школы")
    STAFF_SHORTAGE = "staff_shortage", _("дефицит педагогических кадров")
    TEACHER_COMPETENCE = "teacher_competence", _("недостаточная предметная и методическая компетентность педагогов")
    PD_SYSTEM = "pd_system", _("несформированность внутришкольной системы повышения квалификации")
    LEARNING_FAILURE = "learning_failure", _("высокая доля обучающихся с рисками учебной неуспешности")
    MOTIVATION = "motivation", _("низкая учебная мотивация обучающихся")
    ENVIRONMENT = "environment", _("пониженный уровень качества школьной образовательной и воспитательной среды")
    SPECIAL_NEEDS = "special_needs", _("высокая доля обучающихся с ОВЗ")
    LANGUAGE = "language", _("низкое качество преодоления языковых и культурных барьеров")
    PARENTS = "parents", _("низкий уровень вовлечённости родителей")


class PracticeStatus(models.TextChoices):
    DRAFT = "draft", _("черновик")
    PUBLISHED = "published", _("опубликована")


class EvidenceScope(models.TextChoices):
    TEACHER = "teacher", _("классы авторов")
    SCHOOL = "school", _("школа")


class PracticeQuerySet(VisibleQuerySet):
    org_path_lookup = "school__path"

    def visible_to(self, user):
        """Published practices to every user with a role; drafts inside the school's subtree (and to the
        authors themselves)."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        roles = _roles_of(user)
        if not roles:
            return self.none()
        condition = Q(status=PracticeStatus.PUBLISHED)
        for role in roles:
            if role.role == "teacher":
                teacher = getattr(user, "teacher", None)
                if teacher is not None:
                    condition |= Q(pk__in=Practice._base_manager.filter(authors=teacher.pk).values("pk"))
            else:
                condition |= Q(school__path__startswith=role.organisation.path)
        return self.filter(condition)


class Practice(models.Model):
    """A practice that worked (передовой педагогический опыт), with what it addresses and, counted from
    the data, how the results of its authors' classes moved on those elements."""

    title = models.CharField(_("название"), max_length=500)
    school = models.ForeignKey(Organisation, models.PROTECT, related_name="practices",
                               verbose_name=_("школа (организация)"))
    authors = models.ManyToManyField(Teacher, blank=True, related_name="practices", verbose_name=_("авторы"))
    subject = models.ForeignKey(Subject, models.PROTECT, null=True, blank=True, verbose_name=_("предмет"))
    grade_from = models.PositiveSmallIntegerField(_("с класса"), null=True, blank=True,
                                                  validators=[MinValueValidator(1), MaxValueValidator(11)])
    grade_to = models.PositiveSmallIntegerField(_("по класс"), null=True, blank=True,
                                                validators=[MinValueValidator(1), MaxValueValidator(11)])
    summary = models.CharField(_("кратко"), max_length=1000, blank=True,
                               help_text=_("Одна-две фразы: что делает учитель и что это даёт."))
    description = models.TextField(_("описание"), blank=True,
                                   help_text=_("Приёмы, порядок работы, материалы, условия применения."))
    link = models.URLField(_("ссылка на материалы"), max_length=1000, blank=True)
    file = models.FileField(_("файл с описанием"), upload_to="practices/%Y/", blank=True)
    content_elements = models.ManyToManyField(ContentElement, blank=True, related_name="practices",
                                              verbose_name=_("элементы содержания"))
    skills = models.ManyToManyField(Skill, blank=True, related_name="practices", verbose_name=_("умения"))
    competence_areas = models.JSONField(
        _("профессиональные дефициты"), default=list, blank=True,
        help_text=_("Области компетентности педагога, дефициты в которых помогает преодолеть практика."))
    risk_factors = models.JSONField(_("факторы риска"), default=list, blank=True,
                                    help_text=_("Рисковые профили школ, на которые направлена практика."))
    started_year = models.PositiveSmallIntegerField(
        _("применяется с учебного года"), null=True, blank=True,
        help_text=_("Первый год учебного года, с которого практика применяется: 2025 — это 2025/2026."))
    evidence_scope = models.CharField(_("чьи результаты подтверждают"), max_length=16, choices=EvidenceScope.choices,
                                      default=EvidenceScope.TEACHER)
    status = models.CharField(_("состояние"), max_length=16, choices=PracticeStatus.choices,
                              default=PracticeStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("внёс"))
    created_at = models.DateTimeField(_("внесена"), auto_now_add=True)
    updated_at = models.DateTimeField(_("изменена"), auto_now=True)

    objects = VisibleManager.from_queryset(PracticeQuerySet)()

    class Meta:
        verbose_name = _("практика")
        verbose_name_plural = _("практики")
        ordering = ["title", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(grade_from__isnull=True) | Q(grade_to__isnull=True)
                                   | Q(grade_from__lte=models.F("grade_to")), name="practice_grades_ordered"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def grades(self) -> str:
        if self.grade_from and self.grade_to and self.grade_from != self.grade_to:
            return f"{self.grade_from}–{self.grade_to}"
        return str(self.grade_from or self.grade_to or "")

    def competence_area_names(self) -> list[str]:
        names = dict(CompetenceArea.choices)
        return [str(names.get(code, code)) for code in self.competence_areas]

    def risk_factor_names(self) -> list[str]:
        names = dict(RiskFactor.choices)
        return [str(names.get(code, code)) for code in self.risk_factors]


class EvidenceVerdict(models.TextChoices):
    IMPROVED = "improved", _("результаты выросли")
    HIGH_LEVEL = "high_level", _("устойчиво выше муниципалитета")
    NO_EFFECT = "no_effect", _("не видно эффекта")
    INSUFFICIENT = "insufficient", _("недостаточно данных")


class EvidenceQuerySet(VisibleQuerySet):
    def visible_to(self, user):
        return self.filter(practice__in=Practice.objects.visible_to(user).values("pk"))


class PracticeEvidence(models.Model):
    """The results of a practice's authors (or school) on one of its content elements or skills in the
    year before the practice was taken up and in the latest year measured, beside the municipality's."""

    practice = models.ForeignKey(Practice, models.CASCADE, related_name="evidence", verbose_name=_("практика"))
    content_element = models.ForeignKey(ContentElement, models.CASCADE, null=True, blank=True, related_name="+",
                                        verbose_name=_("элемент содержания"))
    skill = models.ForeignKey(Skill, models.CASCADE, null=True, blank=True, related_name="+",
                              verbose_name=_("умение"))
    scope = models.CharField(_("чьи результаты"), max_length=16, choices=EvidenceScope.choices)
    reference_name = models.CharField(_("с чем сравнивается"), max_length=255, blank=True)
    before_year = models.PositiveSmallIntegerField(_("год «до»"), null=True, blank=True)
    after_year = models.PositiveSmallIntegerField(_("год «после»"), null=True, blank=True)
    before = models.FloatField(_("выполнение до, %"), null=True, blank=True)
    after = models.FloatField(_("выполнение после, %"), null=True, blank=True)
    reference_before = models.FloatField(_("муниципалитет до, %"), null=True, blank=True)
    reference_after = models.FloatField(_("муниципалитет после, %"), null=True, blank=True)
    works_before = models.PositiveIntegerField(_("работ до"), default=0)
    works_after = models.PositiveIntegerField(_("работ после"), default=0)
    gain = models.FloatField(_("прирост относительно муниципалитета, п."), null=True, blank=True)
    gain_lower = models.FloatField(_("нижняя граница прироста"), null=True, blank=True)
    gain_upper = models.FloatField(_("верхняя граница прироста"), null=True, blank=True)
    level_lower = models.FloatField(_("нижняя граница превышения после"), null=True, blank=True)
    verdict = models.CharField(_("вывод"), max_length=16, choices=EvidenceVerdict.choices)
    computed_at = models.DateTimeField(_("рассчитано"), auto_now=True)

    objects = VisibleManager.from_queryset(EvidenceQuerySet)()

    class Meta:
        verbose_name = _("подтверждение практики")
        verbose_name_plural = _("подтверждения практик")
        ordering = ["practice", "content_element__codifier", "content_element__code", "skill__code", "pk"]

    def __str__(self) -> str:
        return f"{self.practice}: {self.content_element or self.skill} — {self.get_verdict_display()}"

    @property
    def level_after(self) -> float | None:
        if self.after is None or self.reference_after is None:
            return None
        return self.after - self.reference_after


class SessionFormat(models.TextChoices):
    IN_PERSON = "in_person", _("очно")
    WEBINAR = "webinar", _("вебинар")
    FIELD = "field", _("выездное заседание")
    MIXED = "mixed", _("очно с онлайн-трансляцией")


class SessionQuerySet(VisibleQuerySet):
    def visible_to(self, user):
        return self.filter(Q(association__in=MethodAssociation.objects.visible_to(user).values("pk"))
                           | Q(club__in=SubjectClub.objects.visible_to(user).values("pk")))


class CommunitySession(models.Model):
    """A session (заседание) of an association or a subject club: when, in what format, its agenda, who
    took part, the problem fields discussed, the practices presented (dissemination), decisions and feedback."""

    association = models.ForeignKey(MethodAssociation, models.CASCADE, null=True, blank=True, related_name="sessions",
                                    verbose_name=_("методическое объединение"))
    club = models.ForeignKey(SubjectClub, models.CASCADE, null=True, blank=True, related_name="sessions",
                             verbose_name=_("предметный клуб"))
    number = models.PositiveSmallIntegerField(_("№ протокола"), null=True, blank=True)
    date = models.DateField(_("дата"))
    format = models.CharField(_("формат"), max_length=16, choices=SessionFormat.choices,
                              default=SessionFormat.IN_PERSON)
    link = models.URLField(_("ссылка на вебинар"), max_length=1000, blank=True)
    place = models.CharField(_("место"), max_length=500, blank=True)
    host = models.ForeignKey(Organisation, models.SET_NULL, null=True, blank=True, related_name="hosted_sessions",
                             verbose_name=_("принимающая сторона"),
                             help_text=_("Для выездного заседания: школа или муниципалитет, куда выезжает сообщество."))
    topic = models.CharField(_("тема"), max_length=1000)
    agenda = models.TextField(_("повестка"), blank=True)
    participants = models.ManyToManyField(Teacher, blank=True, related_name="community_sessions",
                                          verbose_name=_("участники"))
    guests = models.PositiveSmallIntegerField(_("гостей (не из списка)"), default=0)
    problem_fields = models.ManyToManyField(ProblemField, blank=True, related_name="+",
                                            verbose_name=_("обсуждались проблемные поля"))
    content_elements = models.ManyToManyField(ContentElement, blank=True, related_name="community_sessions",
                                              verbose_name=_("элементы содержания"))
    practices = models.ManyToManyField(Practice, blank=True, related_name="sessions",
                                       verbose_name=_("представлены практики"))
    decisions = models.TextField(_("решения"), blank=True)
    feedback = models.TextField(_("отзывы участников"), blank=True)
    satisfaction = models.FloatField(_("удовлетворённость (1–5)"), null=True, blank=True,
                                     validators=[MinValueValidator(1), MaxValueValidator(5)],
                                     help_text=_("Средняя оценка участников по анкете обратной связи."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("внёс"))
    created_at = models.DateTimeField(_("внесено"), auto_now_add=True)

    objects = VisibleManager.from_queryset(SessionQuerySet)()

    class Meta:
        verbose_name = _("заседание сообщества")
        verbose_name_plural = _("заседания сообществ")
        ordering = ["-date", "pk"]
        constraints = [
            models.CheckConstraint(condition=(Q(association__isnull=False) & Q(club__isnull=True))
                                   | (Q(association__isnull=True) & Q(club__isnull=False)),
                                   name="session_one_community"),
            models.CheckConstraint(condition=Q(satisfaction__isnull=True)
                                   | Q(satisfaction__gte=1, satisfaction__lte=5), name="session_satisfaction_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%d.%m.%Y} {self.community}: {self.topic[:60]}"

    @property
    def community(self):
        return self.association if self.association_id else self.club

    def clean(self):
        if bool(self.association_id) == bool(self.club_id):
            raise ValidationError(_("Заседание проводит либо методическое объединение, либо клуб."))
        if self.format == SessionFormat.WEBINAR and not self.link:
            raise ValidationError({"link": _("Для вебинара укажите ссылку.")})
        if self.format == SessionFormat.FIELD and not (self.host_id or self.place):
            raise ValidationError({"host": _("Для выездного заседания укажите, куда выезжает сообщество.")})
