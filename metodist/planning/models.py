"""Stage 4, stored: roadmaps with their actions and measured indicators, the history of their approval,
and recommendations addressed to teachers, associations, administrations and the method service.

An indicator is never a number typed by hand: it names a metric the system measures (a family of works,
an organisation, a content element or skill, a statistic), and its values for every academic year are
computed from the results (`planning.metrics`). That is what stage 6 re-measures."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from metodist.analysis.models import AnalysisRun, DeficitProfile, ProblemField, SchoolStatus
from metodist.core.access import VisibleManager, VisibleQuerySet
from metodist.core.models import AcademicYear, MethodAssociation, Organisation, Subject, Teacher
from metodist.reference.models import ContentElement, Skill


class RoadmapKind(models.TextChoices):
    SCHOOL_SUBJECT = "school_subject", _("общешкольная карта совершенствования по предмету")
    SCHOOL_TRANSITION = "school_transition", _("план перехода в эффективный режим работы")
    MUNICIPAL = "municipal", _("муниципальная дорожная карта")


class RoadmapStatus(models.TextChoices):
    DRAFT = "draft", _("проект")
    DISCUSSED = "discussed", _("обсуждена методобъединением")
    APPROVED = "approved", _("утверждена")


class RoadmapQuerySet(VisibleQuerySet):
    org_path_lookup = "organisation__path"


class Roadmap(models.Model):
    kind = models.CharField(_("вид"), max_length=32, choices=RoadmapKind.choices)
    title = models.CharField(_("название"), max_length=500)
    organisation = models.ForeignKey(
        Organisation, models.PROTECT, related_name="roadmaps", verbose_name=_("организация"),
        help_text=_("Школа (карта по предмету, план перехода) или муниципалитет."))
    subject = models.ForeignKey(Subject, models.PROTECT, null=True, blank=True, verbose_name=_("предмет"))
    academic_year = models.ForeignKey(AcademicYear, models.PROTECT, verbose_name=_("учебный год"))
    run = models.ForeignKey(
        AnalysisRun, models.SET_NULL, null=True, blank=True, related_name="roadmaps",
        verbose_name=_("по итогам анализа"))
    mentor_school = models.ForeignKey(
        Organisation, models.PROTECT, null=True, blank=True, related_name="mentored_roadmaps",
        verbose_name=_("школа-наставник"))
    previous = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="continued_by",
        verbose_name=_("продолжает карту"), help_text=_("Карта прошлого цикла, чьи нерешённые задачи перенесены сюда."))
    status = models.CharField(_("состояние"), max_length=16, choices=RoadmapStatus.choices,
                              default=RoadmapStatus.DRAFT)
    discussed_by = models.ForeignKey(
        MethodAssociation, models.SET_NULL, null=True, blank=True, verbose_name=_("обсуждена методобъединением"))
    discussion_protocol = models.TextField(_("протокол обсуждения"), blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("утвердил"))
    approved_at = models.DateTimeField(_("утверждена"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("создал"))
    created_at = models.DateTimeField(_("создана"), auto_now_add=True)
    updated_at = models.DateTimeField(_("изменена"), auto_now=True)

    objects = VisibleManager.from_queryset(RoadmapQuerySet)()

    class Meta:
        verbose_name = _("дорожная карта")
        verbose_name_plural = _("дорожные карты")
        ordering = ["-academic_year__start_year", "organisation__path", "kind", "pk"]

    def __str__(self) -> str:
        return self.title


class Statistic(models.TextChoices):
    SOLVE_RATE = "solve_rate", _("процент выполнения заданий")
    SUCCESS = "success", _("успеваемость (доля отметок «3»–«5»)")
    QUALITY = "quality", _("качество (доля отметок «4» и «5»)")
    MEAN_PRIMARY = "mean_primary", _("средний первичный балл, % от максимума")
    MARK_2 = "mark_2", _("доля отметок «2»")


class IndicatorQuerySet(VisibleQuerySet):
    org_path_lookup = "roadmap__organisation__path"


class Indicator(models.Model):
    """A goal of a roadmap with the metric that measures it. The metric: a family of works (programme,
    subject, grade: `vpr-ma-7` is ВПР mathematics of the 7th grade in every year), the organisation whose
    works count, optionally a content element or skill of that family's codifier, and the statistic."""

    roadmap = models.ForeignKey(Roadmap, models.CASCADE, related_name="indicators", verbose_name=_("дорожная карта"))
    goal = models.CharField(_("цель"), max_length=1000)
    programme = models.CharField(_("процедура"), max_length=16)
    subject = models.ForeignKey(Subject, models.PROTECT, verbose_name=_("предмет"))
    grade = models.PositiveSmallIntegerField(_("класс"))
    scope = models.ForeignKey(Organisation, models.PROTECT, related_name="+", verbose_name=_("чьи результаты"))
    content_element = models.ForeignKey(ContentElement, models.PROTECT, null=True, blank=True,
                                        verbose_name=_("элемент содержания"))
    skill = models.ForeignKey(Skill, models.PROTECT, null=True, blank=True, verbose_name=_("умение"))
    statistic = models.CharField(_("показатель"), max_length=16, choices=Statistic.choices,
                                 default=Statistic.SOLVE_RATE)
    baseline_year = models.PositiveSmallIntegerField(_("год базового значения"))
    baseline = models.FloatField(_("базовое значение, %"), null=True, blank=True)
    target = models.FloatField(_("целевое значение, %"), null=True, blank=True)
    reference = models.FloatField(_("значение для сравнения, %"), null=True, blank=True,
                                  help_text=_("С чем сравнивалась группа в анализе (муниципалитет, регион)."))
    problem_field = models.ForeignKey(ProblemField, models.SET_NULL, null=True, blank=True, related_name="+",
                                      verbose_name=_("проблемное поле"))
    position = models.PositiveSmallIntegerField(_("№"), default=0)

    objects = VisibleManager.from_queryset(IndicatorQuerySet)()

    class Meta:
        verbose_name = _("показатель")
        verbose_name_plural = _("показатели")
        ordering = ["roadmap", "position", "pk"]

    def __str__(self) -> str:
        return self.goal

    @property
    def family(self) -> str:
        return f"{self.programme.lower()}-{self.subject.code}-{self.grade}"

    @property
    def higher_is_better(self) -> bool:
        return self.statistic != Statistic.MARK_2

    def reaches(self, value: float | None) -> bool | None:
        """Whether a measured value meets the target (for the share of «2»: is at or below it); None when
        either is missing. The one rule the roadmap page, the tracks of stage 6 and the next cycle use."""
        if value is None or self.target is None:
            return None
        return value >= self.target if self.higher_is_better else value <= self.target


class ValueKind(models.TextChoices):
    BASELINE = "baseline", _("базовое")
    INTERIM = "interim", _("промежуточное")
    FINAL = "final", _("итоговое")


class IndicatorValue(models.Model):
    """The indicator's value measured in one academic year (`year`: its first calendar year)."""

    indicator = models.ForeignKey(Indicator, models.CASCADE, related_name="values", verbose_name=_("показатель"))
    year = models.PositiveSmallIntegerField(_("учебный год (год начала)"))
    kind = models.CharField(_("вид значения"), max_length=16, choices=ValueKind.choices)
    value = models.FloatField(_("значение, %"), null=True, blank=True)
    works = models.PositiveIntegerField(_("работ"), default=0)
    assessment_code = models.CharField(_("работа"), max_length=64, blank=True)
    measured_at = models.DateTimeField(_("измерено"), auto_now=True)

    class Meta:
        verbose_name = _("значение показателя")
        verbose_name_plural = _("значения показателей")
        ordering = ["indicator", "year"]
        constraints = [models.UniqueConstraint(fields=["indicator", "year"], name="indicator_value_unique")]

    def __str__(self) -> str:
        return f"{self.indicator_id}: {self.year}/{self.year + 1} = {self.value}"


class ActionStatus(models.TextChoices):
    PLANNED = "planned", _("запланировано")
    IN_PROGRESS = "in_progress", _("выполняется")
    DONE = "done", _("выполнено")
    CANCELLED = "cancelled", _("отменено")
    CARRIED = "carried", _("перенесено в следующий цикл")


class ActionQuerySet(VisibleQuerySet):
    org_path_lookup = "roadmap__organisation__path"


class RoadmapAction(models.Model):
    roadmap = models.ForeignKey(Roadmap, models.CASCADE, related_name="actions", verbose_name=_("дорожная карта"))
    position = models.PositiveSmallIntegerField(_("№"), default=0)
    title = models.CharField(_("мероприятие"), max_length=1000)
    owner_teacher = models.ForeignKey(Teacher, models.SET_NULL, null=True, blank=True, related_name="+",
                                      verbose_name=_("ответственный учитель"))
    owner_organisation = models.ForeignKey(Organisation, models.SET_NULL, null=True, blank=True, related_name="+",
                                           verbose_name=_("ответственная организация"))
    owner_text = models.CharField(_("ответственный"), max_length=255, blank=True,
                                  help_text=_("Должность или ФИО, если ответственный не учитель из списка."))
    start = models.DateField(_("начало"), null=True, blank=True)
    due = models.DateField(_("срок"))
    status = models.CharField(_("состояние"), max_length=16, choices=ActionStatus.choices,
                              default=ActionStatus.PLANNED)
    expected_result = models.CharField(_("ожидаемый результат"), max_length=1000, blank=True)
    indicator = models.ForeignKey(Indicator, models.SET_NULL, null=True, blank=True, related_name="actions",
                                  verbose_name=_("показатель"))
    recommendation = models.ForeignKey("Recommendation", models.SET_NULL, null=True, blank=True,
                                       related_name="actions", verbose_name=_("по рекомендации"))
    link_kind = models.CharField(_("связано с"), max_length=16, blank=True,
                                 help_text=_("practice, course или event — практика, курс или мероприятие."))
    link_id = models.PositiveIntegerField(_("номер связанного"), null=True, blank=True)
    evidence_link = models.URLField(_("подтверждение (ссылка)"), max_length=1000, blank=True)
    evidence_file = models.FileField(_("подтверждение (файл)"), upload_to="evidence/%Y/", blank=True)
    done_at = models.DateField(_("выполнено"), null=True, blank=True)
    carried_from = models.ForeignKey("self", models.SET_NULL, null=True, blank=True, related_name="carried_to",
                                     verbose_name=_("перенесено из"))

    objects = VisibleManager.from_queryset(ActionQuerySet)()

    class Meta:
        verbose_name = _("мероприятие дорожной карты")
        verbose_name_plural = _("мероприятия дорожных карт")
        ordering = ["roadmap", "position", "due", "pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def owner(self) -> str:
        if self.owner_teacher_id:
            return self.owner_teacher.full_name
        if self.owner_organisation_id:
            return self.owner_organisation.short_name
        return self.owner_text


class HistoryQuerySet(VisibleQuerySet):
    org_path_lookup = "roadmap__organisation__path"


class RoadmapEvent(models.Model):
    """Who did what to a roadmap and when: created, edited, discussed, approved, returned to draft."""

    roadmap = models.ForeignKey(Roadmap, models.CASCADE, related_name="history", verbose_name=_("дорожная карта"))
    at = models.DateTimeField(_("когда"), auto_now_add=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                             verbose_name=_("кто"))
    action = models.CharField(_("действие"), max_length=32)
    status = models.CharField(_("состояние после"), max_length=16, choices=RoadmapStatus.choices)
    comment = models.TextField(_("комментарий"), blank=True)

    objects = VisibleManager.from_queryset(HistoryQuerySet)()

    class Meta:
        verbose_name = _("запись истории дорожной карты")
        verbose_name_plural = _("история дорожных карт")
        ordering = ["roadmap", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


class Addressee(models.TextChoices):
    TEACHER = "teacher", _("учителю")
    ASSOCIATION = "association", _("методобъединению")
    SCHOOL = "school", _("администрации школы")
    METHOD_SERVICE = "method_service", _("методической службе")
    MUNICIPALITY = "municipality", _("муниципалитету")


class RecommendationStatus(models.TextChoices):
    PROPOSED = "proposed", _("предложена")
    ACCEPTED = "accepted", _("принята")
    IN_PROGRESS = "in_progress", _("выполняется")
    DONE = "done", _("выполнена")
    DECLINED = "declined", _("отклонена")


class RecommendationQuerySet(VisibleQuerySet):
    org_path_lookup = "organisation__path"
    teacher_lookup = "teacher"


class Recommendation(models.Model):
    """A recommendation to one addressee, generated from a finding of an analysis run (a problem field, a
    deficit, a school's status), then edited and tracked."""

    run = models.ForeignKey(AnalysisRun, models.CASCADE, related_name="recommendations", verbose_name=_("анализ"))
    addressee = models.CharField(_("кому"), max_length=16, choices=Addressee.choices)
    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="recommendations",
                                     verbose_name=_("организация"))
    teacher = models.ForeignKey(Teacher, models.CASCADE, null=True, blank=True, related_name="recommendations",
                                verbose_name=_("учитель"))
    subject = models.ForeignKey(Subject, models.PROTECT, null=True, blank=True, verbose_name=_("предмет"))
    text = models.TextField(_("рекомендация"))
    basis = models.TextField(_("основание"), blank=True)
    problem_field = models.ForeignKey(ProblemField, models.SET_NULL, null=True, blank=True, related_name="+",
                                      verbose_name=_("проблемное поле"))
    deficit = models.ForeignKey(DeficitProfile, models.SET_NULL, null=True, blank=True, related_name="+",
                                verbose_name=_("дефицит"))
    school_status = models.ForeignKey(SchoolStatus, models.SET_NULL, null=True, blank=True, related_name="+",
                                      verbose_name=_("статус школы"))
    key = models.CharField(_("ключ"), max_length=200, help_text=_("Откуда рекомендация: не повторять её."))
    status = models.CharField(_("состояние"), max_length=16, choices=RecommendationStatus.choices,
                              default=RecommendationStatus.PROPOSED)
    edited = models.BooleanField(_("изменена вручную"), default=False)
    updated_at = models.DateTimeField(_("изменена"), auto_now=True)

    objects = VisibleManager.from_queryset(RecommendationQuerySet)()

    class Meta:
        verbose_name = _("рекомендация")
        verbose_name_plural = _("рекомендации")
        ordering = ["organisation__path", "addressee", "pk"]
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="recommendation_unique")]

    def __str__(self) -> str:
        return self.text[:80]
