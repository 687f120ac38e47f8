"""Stage 2, stored: an analysis run and what it found, each finding with the numbers that justify it,
so that practices, roadmaps, help and monitoring link to a finding of a run (not to a page's numbers)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from metodist.collection.models import CompetenceArea, DeficitScope
from metodist.core.access import VisibleManager, VisibleQuerySet
from metodist.core.models import AcademicYear, Organisation, SchoolClass, Subject, Teacher
from metodist.reference.models import Assessment, ContentElement, Skill


class RunStatus(models.TextChoices):
    RUNNING = "running", _("выполняется")
    DONE = "done", _("завершён")
    FAILED = "failed", _("прерван")


class RunQuerySet(VisibleQuerySet):
    org_path_lookup = "scope__path"

    def latest_done(self, year: AcademicYear | None = None):
        runs = self.filter(status=RunStatus.DONE)
        if year is not None:
            runs = runs.filter(academic_year=year)
        return runs.order_by("-finished_at", "-pk").first()


class AnalysisRun(models.Model):
    """One analysis of one academic year over an organisation's subtree. Re-running after new imports
    makes a new run; old runs are kept, so what a roadmap was built from stays visible."""

    academic_year = models.ForeignKey(AcademicYear, models.PROTECT, verbose_name=_("учебный год"))
    scope = models.ForeignKey(
        Organisation, models.PROTECT, related_name="analysis_runs", verbose_name=_("что анализировалось"),
        help_text=_("Организация, по подведомственным которой выполнен анализ (обычно регион)."),
    )
    engine = models.CharField(_("движок расчёта"), max_length=16, default="db")
    status = models.CharField(_("состояние"), max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(_("начат"), auto_now_add=True)
    finished_at = models.DateTimeField(_("завершён"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, verbose_name=_("кто запустил")
    )
    data_version = models.JSONField(
        _("какие данные учтены"), default=dict, blank=True,
        help_text=_("Последняя загрузка и число работ на момент анализа."),
    )
    summary = models.JSONField(_("итоги"), default=dict, blank=True)

    objects = VisibleManager.from_queryset(RunQuerySet)()

    class Meta:
        verbose_name = _("анализ")
        verbose_name_plural = _("анализы")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.academic_year}: {self.scope} ({self.get_status_display()})"


class GroupLevel(models.TextChoices):
    CLASS = "class", _("класс")
    TEACHER = "teacher", _("учитель")
    SCHOOL = "school", _("школа")
    MUNICIPALITY = "municipality", _("муниципалитет")
    REGION = "region", _("регион")


class FieldKind(models.TextChoices):
    CONTENT_ELEMENT = "content_element", _("элемент содержания")
    SKILL = "skill", _("умение")
    TASK_TYPE = "task_type", _("тип задания")


class FindingQuerySet(VisibleQuerySet):
    org_path_lookup = "organisation__path"
    teacher_lookup = "teacher"


class ProblemField(models.Model):
    """A content element, skill or task type on which a group (class, teacher, school, municipality)
    is below its reference: the numbers of both decisions (statistical and the federal rule)."""

    # Only the run (through problem_field_run_level) and the organisation are indexed: a region's run writes
    # hundreds of thousands of rows, every index is one more B-tree written per row, and the pages look the
    # rows up by run, level and organisation. (A deleted class, teacher or element is looked up by a scan.)
    run = models.ForeignKey(AnalysisRun, models.CASCADE, related_name="problem_fields", verbose_name=_("анализ"),
                            db_index=False)
    assessment = models.ForeignKey(Assessment, models.PROTECT, verbose_name=_("работа"), db_index=False)
    group_level = models.CharField(_("уровень группы"), max_length=16, choices=GroupLevel.choices)
    organisation = models.ForeignKey(
        Organisation, models.CASCADE, verbose_name=_("организация"),
        help_text=_("Школа для классов и учителей; муниципалитет или регион для своих уровней."),
    )
    school_class = models.ForeignKey(SchoolClass, models.CASCADE, null=True, blank=True, verbose_name=_("класс"),
                                     db_index=False)
    teacher = models.ForeignKey(Teacher, models.CASCADE, null=True, blank=True, verbose_name=_("учитель"),
                                db_index=False)
    field_kind = models.CharField(_("что проверяется"), max_length=16, choices=FieldKind.choices)
    content_element = models.ForeignKey(
        ContentElement, models.PROTECT, null=True, blank=True, verbose_name=_("элемент содержания"), db_index=False,
    )
    skill = models.ForeignKey(Skill, models.PROTECT, null=True, blank=True, verbose_name=_("умение"),
                              db_index=False)
    task_type = models.CharField(_("тип задания"), max_length=16, blank=True)
    tasks = models.JSONField(_("задания"), default=list, blank=True)
    task_level = models.CharField(_("уровень сложности заданий"), max_length=16, blank=True)
    pupils = models.PositiveIntegerField(_("участников"))
    solve_rate = models.FloatField(_("процент выполнения"))
    reference = models.FloatField(_("процент выполнения для сравнения"))
    reference_level = models.CharField(_("с чем сравнивается"), max_length=32)
    difference = models.FloatField(_("разница"))
    expected = models.FloatField(
        _("ожидаемый процент выполнения"), null=True, blank=True,
        help_text=_("Чего ждать от группы на этом поле при её результате по всей работе."))
    parent_level = models.CharField(_("уровень выше"), max_length=16, blank=True)
    parent_rate = models.FloatField(_("процент выполнения уровня выше"), null=True, blank=True)
    posterior_mean = models.FloatField(_("оценка с учётом размера группы"), null=True, blank=True)
    lower = models.FloatField(_("нижняя граница"), null=True, blank=True)
    upper = models.FloatField(_("верхняя граница"), null=True, blank=True)
    p_value = models.FloatField(_("p-значение"), null=True, blank=True)
    flagged = models.BooleanField(_("проблемное поле"), default=False)
    shared_tasks = models.BooleanField(
        _("снято как общее с другим полем"), default=False,
        help_text=_("Отставание приходится на задания, которые проверяют и другое, более выраженное поле."))
    priority = models.FloatField(_("приоритет"), default=0)
    federal_verdict = models.CharField(_("по федеральному правилу"), max_length=32, blank=True)
    agreement = models.CharField(_("согласие методов"), max_length=32, blank=True)
    explanation_text = models.TextField(
        _("пояснение"), blank=True,
        help_text=_("Пустое, если пояснение пишется по числам строки на языке читателя."))

    objects = VisibleManager.from_queryset(FindingQuerySet)()

    class Meta:
        verbose_name = _("проблемное поле")
        verbose_name_plural = _("проблемные поля")
        ordering = ["-priority"]
        indexes = [models.Index(fields=["run", "group_level", "flagged"], name="problem_field_run_level")]

    def __str__(self) -> str:
        return f"{self.get_group_level_display()}: {self.topic}"

    @property
    def explanation(self) -> str:
        """Why the row is (or is not) a problem, in the reader's language: the stored text if there is one,
        otherwise written from the row's numbers for the rows a rule marks (flagged, insufficient by the
        federal rule, withdrawn as shared); the other rows say no more than their numbers."""
        if self.explanation_text:
            return self.explanation_text
        if not (self.flagged or self.shared_tasks or self.federal_verdict == "insufficient"):
            return ""
        from metodist.analysis.problem_field_store import explain_row

        return explain_row(self)

    @explanation.setter
    def explanation(self, value: str) -> None:
        self.explanation_text = value

    @property
    def topic(self) -> str:
        """What the field is about, as a reader names it: «1.2 Название элемента», «2.1 Умение», or
        «задания с кратким ответом» (a task type is stored as its code)."""
        if self.content_element_id:
            return f"{self.content_element.code} {self.content_element.name}"
        if self.skill_id:
            return f"{self.skill.code} {self.skill.name}"
        from metodist.reference.models import TaskType

        if self.task_type in TaskType.values:
            return _("задания {kind}").format(kind=TaskType(self.task_type).label)
        return self.task_type


class SchoolStatusKind(models.TextChoices):
    LOW_RESULTS = "low_results", _("школа с низкими образовательными результатами")
    HIGH_PERFORMER = "high_performer", _("школа с высокими результатами")
    DIFFICULT_CONTEXT = "difficult_context", _("школа в сложных социальных условиях")
    RESILIENT = "resilient", _("резильентная школа: результаты выше ожидаемых по ИСС")


class SchoolFindingQuerySet(VisibleQuerySet):
    org_path_lookup = "school__path"


class SchoolStatus(models.Model):
    """A school's classification in a year, with the numbers behind it."""

    run = models.ForeignKey(AnalysisRun, models.CASCADE, related_name="school_statuses", verbose_name=_("анализ"))
    school = models.ForeignKey(Organisation, models.CASCADE, verbose_name=_("школа"))
    kind = models.CharField(_("статус"), max_length=32, choices=SchoolStatusKind.choices)
    numbers = models.JSONField(_("показатели"), default=dict, blank=True)
    explanation = models.TextField(_("пояснение"), blank=True)

    objects = VisibleManager.from_queryset(SchoolFindingQuerySet)()

    class Meta:
        verbose_name = _("статус школы")
        verbose_name_plural = _("статусы школ")
        constraints = [models.UniqueConstraint(fields=["run", "school", "kind"], name="school_status_unique")]

    def __str__(self) -> str:
        return f"{self.school}: {self.get_kind_display()}"


class ObjectivityResult(models.Model):
    """A school's place in the objectivity list of a run: the federal markers it trips, Metodist's own
    signals, and the combined score the list is ranked by."""

    run = models.ForeignKey(AnalysisRun, models.CASCADE, related_name="objectivity", verbose_name=_("анализ"))
    school = models.ForeignKey(Organisation, models.CASCADE, verbose_name=_("школа"))
    federal_markers = models.JSONField(_("признаки федеральной методики"), default=list, blank=True)
    score = models.FloatField(_("балл риска необъективности"), default=0)
    rank = models.PositiveIntegerField(_("место в списке"), null=True, blank=True)
    explanation = models.TextField(_("пояснение"), blank=True)

    objects = VisibleManager.from_queryset(SchoolFindingQuerySet)()

    class Meta:
        verbose_name = _("объективность результатов школы")
        verbose_name_plural = _("объективность результатов школ")
        ordering = ["rank"]
        constraints = [models.UniqueConstraint(fields=["run", "school"], name="objectivity_unique")]

    def __str__(self) -> str:
        return f"{self.school}: {self.score:.2f}"


class SignalSource(models.TextChoices):
    FEDERAL = "federal", _("федеральная методика")
    METODIST = "metodist", _("сигнал Методиста")


class ObjectivitySignalQuerySet(VisibleQuerySet):
    org_path_lookup = "result__school__path"


class ObjectivitySignal(models.Model):
    """One marker or signal of one school (and work), with its numbers and a Russian reason."""

    result = models.ForeignKey(ObjectivityResult, models.CASCADE, related_name="signals", verbose_name=_("школа"))
    source = models.CharField(_("источник"), max_length=16, choices=SignalSource.choices)
    code = models.CharField(_("код"), max_length=64)
    assessment = models.ForeignKey(Assessment, models.PROTECT, null=True, blank=True, verbose_name=_("работа"))
    tripped = models.BooleanField(_("сработал"), default=False)
    value = models.FloatField(_("значение"), null=True, blank=True)
    numbers = models.JSONField(_("показатели"), default=dict, blank=True)
    reason = models.TextField(_("пояснение"), blank=True)

    objects = VisibleManager.from_queryset(ObjectivitySignalQuerySet)()

    class Meta:
        verbose_name = _("признак необъективности")
        verbose_name_plural = _("признаки необъективности")

    def __str__(self) -> str:
        return f"{self.code}: {self.value}"


class DeficitProfile(models.Model):
    """A professional deficit found by the analysis: a teacher's own (his diagnostics and his classes'
    results on the same content element) or a corporate one (most teachers of a subject in a school or
    municipality weak on a topic), with the evidence for it."""

    run = models.ForeignKey(AnalysisRun, models.CASCADE, related_name="deficits", verbose_name=_("анализ"))
    scope = models.CharField(_("вид"), max_length=16, choices=DeficitScope.choices)
    organisation = models.ForeignKey(Organisation, models.CASCADE, verbose_name=_("организация"))
    teacher = models.ForeignKey(Teacher, models.CASCADE, null=True, blank=True, verbose_name=_("учитель"))
    subject = models.ForeignKey(Subject, models.PROTECT, null=True, blank=True, verbose_name=_("предмет"))
    content_element = models.ForeignKey(
        ContentElement, models.PROTECT, null=True, blank=True, verbose_name=_("элемент содержания")
    )
    competence_area = models.CharField(
        _("область компетенций"), max_length=32, choices=CompetenceArea.choices, default=CompetenceArea.SUBJECT
    )
    topic = models.CharField(_("тема"), max_length=500)
    severity = models.FloatField(_("выраженность"), default=0)
    evidence = models.JSONField(_("на чём основан"), default=dict, blank=True)
    explanation = models.TextField(_("пояснение"), blank=True)

    objects = VisibleManager.from_queryset(FindingQuerySet)()

    class Meta:
        verbose_name = _("профиль дефицитов")
        verbose_name_plural = _("профили дефицитов")
        ordering = ["-severity"]

    def __str__(self) -> str:
        return f"{self.get_scope_display()}: {self.topic}"
