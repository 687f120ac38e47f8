"""Stage 6, stored: lessons observed with a rubric, and the cycles a municipality or school has closed
and started. Indicator values live with their indicators (planning.IndicatorValue) and the effect of help
is computed from the results (`monitoring.effects`): neither is typed here."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from metodist.core.access import VisibleManager, VisibleQuerySet
from metodist.core.models import AcademicYear, Organisation, SchoolClass, Subject, Teacher
from metodist.reference.models import ContentElement

#: the rubric of a lesson observation (мониторинг уровня преподавания): criterion → what is looked at.
#: Each is scored 0 (not seen), 1 (partly), 2 (fully).
RUBRIC = [
    ("goals", _("Цели урока поставлены и понятны обучающимся")),
    ("activity", _("Деятельность обучающихся: большую часть урока работают сами")),
    ("tasks", _("Задания в формате оценочных процедур по проблемной теме")),
    ("differentiation", _("Дифференциация заданий по уровню подготовки")),
    ("feedback", _("Обратная связь и формирующее оценивание")),
    ("reflection", _("Подведение итогов и рефлексия")),
]
RUBRIC_MAX = 2


class ObservationQuerySet(VisibleQuerySet):
    org_path_lookup = "teacher__school__path"
    teacher_lookup = "teacher"


class LessonObservation(models.Model):
    teacher = models.ForeignKey(Teacher, models.CASCADE, related_name="observations", verbose_name=_("учитель"))
    date = models.DateField(_("дата"))
    school_class = models.ForeignKey(SchoolClass, models.SET_NULL, null=True, blank=True, verbose_name=_("класс"))
    subject = models.ForeignKey(Subject, models.PROTECT, null=True, blank=True, verbose_name=_("предмет"))
    topic = models.CharField(_("тема урока"), max_length=500)
    content_element = models.ForeignKey(ContentElement, models.SET_NULL, null=True, blank=True,
                                        verbose_name=_("проблемная тема (элемент содержания)"))
    observer = models.CharField(_("кто посетил"), max_length=255,
                                help_text=_("ФИО и должность: заместитель директора, методист, наставник."))
    scores = models.JSONField(_("оценки по критериям"), default=dict,
                              help_text=_("Критерий → 0, 1 или 2."))
    strengths = models.TextField(_("что получилось"), blank=True)
    advice = models.TextField(_("рекомендации учителю"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("внёс"))
    created_at = models.DateTimeField(_("внесено"), auto_now_add=True)

    objects = VisibleManager.from_queryset(ObservationQuerySet)()

    class Meta:
        verbose_name = _("посещение урока")
        verbose_name_plural = _("посещения уроков")
        ordering = ["-date", "pk"]

    def __str__(self) -> str:
        return f"{self.teacher}: {self.topic} ({self.date:%d.%m.%Y})"

    @property
    def total(self) -> int:
        return sum(int(self.scores.get(code, 0)) for code, _label in RUBRIC)

    @property
    def share(self) -> float:
        return 100 * self.total / (RUBRIC_MAX * len(RUBRIC))


class CycleQuerySet(VisibleQuerySet):
    org_path_lookup = "organisation__path"


class Cycle(models.Model):
    """An organisation's cycle of an academic year, once it is started from the previous one: what was
    carried forward (unresolved problem fields become the new roadmaps' goals, open actions move on)."""

    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="cycles",
                                     verbose_name=_("организация"))
    academic_year = models.ForeignKey(AcademicYear, models.PROTECT, verbose_name=_("учебный год"))
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("начал"))
    started_at = models.DateTimeField(_("начат"), auto_now_add=True)
    summary = models.JSONField(_("перенесено"), default=dict, blank=True)

    objects = VisibleManager.from_queryset(CycleQuerySet)()

    class Meta:
        verbose_name = _("цикл")
        verbose_name_plural = _("циклы")
        ordering = ["-academic_year__start_year", "organisation__path"]
        constraints = [models.UniqueConstraint(fields=["organisation", "academic_year"], name="cycle_unique")]

    def __str__(self) -> str:
        return f"{self.organisation.short_name}, {self.academic_year}"
