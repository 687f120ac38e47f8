"""Stage 1, collection: imported files, pupils' works and task scores, teachers' diagnostics, surveys,
attestation notes, association findings and olympiads."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from metodist.core.access import VisibleManager, VisibleQuerySet
from metodist.core.models import (
    AcademicYear,
    Organisation,
    Pupil,
    QualificationCategory,
    SchoolClass,
    Subject,
    Teacher,
)
from metodist.reference.models import Assessment, ContentElement, Task


class UploadStatus(models.TextChoices):
    RUNNING = "running", _("выполняется")
    IMPORTED = "imported", _("загружен")
    IMPORTED_PARTLY = "imported_partly", _("загружены только верные строки")
    REJECTED = "rejected", _("отклонён: ошибки в файле")
    CHECKED = "checked", _("проверен, не загружался")
    REPLACED = "replaced", _("заменён исправленной версией")
    FAILED = "failed", _("не загружен: сбой")


class UploadQuerySet(VisibleQuerySet):
    org_path_lookup = "organisation__path"


class Upload(models.Model):
    """One imported file: what it was, who brought it, what came of it, and every error found."""

    file_name = models.CharField(_("файл"), max_length=500)
    checksum = models.CharField(_("контрольная сумма (SHA-256)"), max_length=64, db_index=True)
    size = models.BigIntegerField(_("размер, байт"), default=0)
    format = models.CharField(_("формат"), max_length=32)
    assessment = models.ForeignKey(
        Assessment, models.PROTECT, null=True, blank=True, related_name="uploads", verbose_name=_("работа")
    )
    organisation = models.ForeignKey(
        Organisation, models.PROTECT, null=True, blank=True, related_name="uploads",
        verbose_name=_("организация"), help_text=_("Чьи данные в файле: школа, муниципалитет или регион."),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, verbose_name=_("кто загрузил")
    )
    created_at = models.DateTimeField(_("когда"), auto_now_add=True)
    finished_at = models.DateTimeField(_("завершено"), null=True, blank=True)
    status = models.CharField(_("состояние"), max_length=32, choices=UploadStatus.choices)
    counts = models.JSONField(_("итоги"), default=dict, blank=True)
    errors = models.JSONField(_("ошибки"), default=list, blank=True)
    replaces = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="replaced_by",
        verbose_name=_("заменяет загрузку"),
    )
    # a file uploaded through the site is imported by a background task (collection.tasks), which
    # reports here how far it has got; the page polls these two fields
    progress = models.PositiveSmallIntegerField(_("выполнено, %"), default=0)
    stage = models.CharField(_("этап"), max_length=255, blank=True)
    message = models.CharField(_("итог"), max_length=1000, blank=True)
    stored_file = models.CharField(
        _("сохранённый файл"), max_length=500, blank=True, help_text=_("Путь относительно каталога загрузок.")
    )
    options = models.JSONField(_("параметры загрузки"), default=dict, blank=True)
    duplicate_of = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="duplicates",
        verbose_name=_("совпадает с загрузкой"),
    )

    objects = VisibleManager.from_queryset(UploadQuerySet)()

    class Meta:
        verbose_name = _("загрузка файла")
        verbose_name_plural = _("загрузки файлов")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


class WorkQuerySet(VisibleQuerySet):
    org_path_lookup = "school__path"
    teacher_lookup = "teacher"


class Work(models.Model):
    """One pupil's work in one assessment: the unit every result is counted in."""

    assessment = models.ForeignKey(Assessment, models.PROTECT, related_name="works", verbose_name=_("работа"))
    pupil = models.ForeignKey(Pupil, models.PROTECT, related_name="works", verbose_name=_("обучающийся"))
    school = models.ForeignKey(Organisation, models.PROTECT, related_name="works", verbose_name=_("школа"))
    school_class = models.ForeignKey(
        SchoolClass, models.SET_NULL, null=True, blank=True, related_name="works", verbose_name=_("класс")
    )
    teacher = models.ForeignKey(
        Teacher, models.SET_NULL, null=True, blank=True, related_name="works", verbose_name=_("учитель")
    )
    upload = models.ForeignKey(Upload, models.PROTECT, related_name="works", verbose_name=_("загрузка"))
    participant_code = models.CharField(_("код участника"), max_length=32, blank=True)
    variant = models.PositiveSmallIntegerField(_("вариант"), null=True, blank=True)
    absent = models.BooleanField(_("отсутствовал"), default=False)
    primary_score = models.PositiveSmallIntegerField(_("первичный балл"), null=True, blank=True)
    mark = models.PositiveSmallIntegerField(_("отметка"), null=True, blank=True)
    test_score = models.PositiveSmallIntegerField(_("тестовый балл"), null=True, blank=True)
    journal_mark = models.PositiveSmallIntegerField(_("отметка по журналу"), null=True, blank=True)

    objects = VisibleManager.from_queryset(WorkQuerySet)()

    class Meta:
        verbose_name = _("работа обучающегося")
        verbose_name_plural = _("работы обучающихся")
        constraints = [models.UniqueConstraint(fields=["assessment", "pupil"], name="work_unique")]
        indexes = [models.Index(fields=["assessment", "school"], name="work_assessment_school")]

    def __str__(self) -> str:
        return f"{self.assessment.code} {self.participant_code}"


class ScoreStatus(models.TextChoices):
    SCORED = "scored", _("оценено")
    NO_ANSWER = "no_answer", _("нет ответа (X)")
    NOT_TAUGHT = "not_taught", _("тема не пройдена")


class TaskScoreQuerySet(VisibleQuerySet):
    org_path_lookup = "work__school__path"
    teacher_lookup = "work__teacher"


class TaskScore(models.Model):
    work = models.ForeignKey(Work, models.CASCADE, related_name="scores", verbose_name=_("работа"))
    task = models.ForeignKey(Task, models.PROTECT, related_name="scores", verbose_name=_("задание"))
    score = models.PositiveSmallIntegerField(_("балл"))
    status = models.CharField(_("состояние"), max_length=16, choices=ScoreStatus.choices, default=ScoreStatus.SCORED)

    objects = VisibleManager.from_queryset(TaskScoreQuerySet)()

    class Meta:
        verbose_name = _("балл за задание")
        verbose_name_plural = _("баллы за задания")
        constraints = [models.UniqueConstraint(fields=["work", "task"], name="task_score_unique")]

    def __str__(self) -> str:
        return f"{self.task}: {self.score}"


class CompetenceArea(models.TextChoices):
    SUBJECT = "subject", _("предметные")
    METHODOLOGICAL = "methodological", _("методические")
    PSYCHOLOGICAL = "psychological", _("психолого-педагогические")
    COMMUNICATIVE = "communicative", _("коммуникативные")
    DIGITAL = "digital", _("цифровые")


class TeacherOwnedQuerySet(VisibleQuerySet):
    org_path_lookup = "teacher__school__path"
    teacher_lookup = "teacher"


class TeacherDiagnostic(models.Model):
    """A subject test of a teacher (предметная оценка учителей), scored by topic and competence area."""

    teacher = models.ForeignKey(Teacher, models.CASCADE, related_name="diagnostics", verbose_name=_("учитель"))
    subject = models.ForeignKey(Subject, models.PROTECT, verbose_name=_("предмет"))
    title = models.CharField(_("диагностика"), max_length=255)
    taken_on = models.DateField(_("дата"))
    score = models.FloatField(_("балл"), null=True, blank=True)
    max_score = models.FloatField(_("максимальный балл"), null=True, blank=True)
    upload = models.ForeignKey(Upload, models.PROTECT, null=True, blank=True, verbose_name=_("загрузка"))

    objects = VisibleManager.from_queryset(TeacherOwnedQuerySet)()

    class Meta:
        verbose_name = _("диагностика учителя")
        verbose_name_plural = _("диагностики учителей")
        ordering = ["-taken_on"]
        constraints = [
            models.UniqueConstraint(fields=["teacher", "subject", "title", "taken_on"], name="diagnostic_unique")
        ]

    def __str__(self) -> str:
        return f"{self.teacher}: {self.title} ({self.taken_on})"


class DiagnosticScoreQuerySet(VisibleQuerySet):
    org_path_lookup = "diagnostic__teacher__school__path"
    teacher_lookup = "diagnostic__teacher"


class DiagnosticScore(models.Model):
    """The score of one diagnostic on one topic (content element) or competence area."""

    diagnostic = models.ForeignKey(
        TeacherDiagnostic, models.CASCADE, related_name="scores", verbose_name=_("диагностика")
    )
    topic = models.CharField(_("тема"), max_length=500, blank=True)
    content_element = models.ForeignKey(
        ContentElement, models.SET_NULL, null=True, blank=True, verbose_name=_("элемент содержания")
    )
    competence_area = models.CharField(
        _("область компетенций"), max_length=32, choices=CompetenceArea.choices, default=CompetenceArea.SUBJECT
    )
    score = models.FloatField(_("балл"))
    max_score = models.FloatField(_("максимальный балл"))

    objects = VisibleManager.from_queryset(DiagnosticScoreQuerySet)()

    class Meta:
        verbose_name = _("результат диагностики по теме")
        verbose_name_plural = _("результаты диагностики по темам")

    def __str__(self) -> str:
        return f"{self.topic or self.get_competence_area_display()}: {self.score}/{self.max_score}"


class SurveyStage(models.TextChoices):
    PRE_COURSE = "pre_course", _("докурсовое")
    ENTRY = "entry", _("входное")
    INTERIM = "interim", _("промежуточное")
    FINAL = "final", _("итоговое")


class SurveyQuerySet(VisibleQuerySet):
    org_path_lookup = "organisation__path"


class Survey(models.Model):
    """A questionnaire of teachers (e.g. course participants), with its questions."""

    title = models.CharField(_("название"), max_length=255)
    stage = models.CharField(_("этап"), max_length=16, choices=SurveyStage.choices)
    organisation = models.ForeignKey(Organisation, models.PROTECT, verbose_name=_("кто проводит"))
    conducted_on = models.DateField(_("дата"))
    questions = models.JSONField(_("вопросы"), default=list, blank=True)

    objects = VisibleManager.from_queryset(SurveyQuerySet)()

    class Meta:
        verbose_name = _("анкетирование")
        verbose_name_plural = _("анкетирования")
        ordering = ["-conducted_on"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "title", "stage", "conducted_on"], name="survey_unique")
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_stage_display()})"


class SurveyResponseQuerySet(VisibleQuerySet):
    org_path_lookup = "survey__organisation__path"
    teacher_lookup = "teacher"


class SurveyResponse(models.Model):
    survey = models.ForeignKey(Survey, models.CASCADE, related_name="responses", verbose_name=_("анкетирование"))
    teacher = models.ForeignKey(
        Teacher, models.SET_NULL, null=True, blank=True, related_name="survey_responses", verbose_name=_("учитель")
    )
    respondent = models.CharField(_("код респондента"), max_length=64, blank=True)
    answers = models.JSONField(_("ответы"), default=dict)
    satisfaction = models.PositiveSmallIntegerField(_("удовлетворённость (1–5)"), null=True, blank=True)
    upload = models.ForeignKey(Upload, models.PROTECT, null=True, blank=True, verbose_name=_("загрузка"))

    objects = VisibleManager.from_queryset(SurveyResponseQuerySet)()

    class Meta:
        verbose_name = _("ответ на анкету")
        verbose_name_plural = _("ответы на анкеты")

    def __str__(self) -> str:
        return f"{self.survey}: {self.teacher or self.respondent}"


class Attestation(models.Model):
    """Certification of a teacher, with the difficulties the expert group noted."""

    teacher = models.ForeignKey(Teacher, models.CASCADE, related_name="attestations", verbose_name=_("учитель"))
    held_on = models.DateField(_("дата"))
    category = models.CharField(_("категория"), max_length=16, choices=QualificationCategory.choices)
    difficulties = models.JSONField(
        _("затруднения, отмеченные экспертами"), default=list, blank=True,
        help_text=_("Список: [{\"area\": \"methodological\", \"text\": \"…\"}]."),
    )
    note = models.TextField(_("заключение"), blank=True)
    upload = models.ForeignKey(Upload, models.PROTECT, null=True, blank=True, verbose_name=_("загрузка"))

    objects = VisibleManager.from_queryset(TeacherOwnedQuerySet)()

    class Meta:
        verbose_name = _("аттестация")
        verbose_name_plural = _("аттестации")
        ordering = ["-held_on"]
        constraints = [models.UniqueConstraint(fields=["teacher", "held_on"], name="attestation_unique")]

    def __str__(self) -> str:
        return f"{self.teacher}: {self.held_on}"


class DeficitScope(models.TextChoices):
    PERSONAL = "personal", _("персональный")
    CORPORATE = "corporate", _("корпоративный")


class DeficitSource(models.TextChoices):
    ASSOCIATION = "association", _("решение методического объединения")
    DIAGNOSTIC = "diagnostic", _("предметная диагностика")
    ATTESTATION = "attestation", _("аттестация")
    SURVEY = "survey", _("анкетирование")
    REQUEST = "request", _("запрос педагога")


class DeficitQuerySet(VisibleQuerySet):
    org_path_lookup = "organisation__path"
    teacher_lookup = "teacher"


class ProfessionalDeficit(models.Model):
    """A professional deficit as recorded: a teacher's own (personal), or the teachers of one subject
    together across a school or municipality (corporate), as an association found it."""

    scope = models.CharField(_("вид"), max_length=16, choices=DeficitScope.choices)
    organisation = models.ForeignKey(Organisation, models.PROTECT, verbose_name=_("организация"))
    teacher = models.ForeignKey(
        Teacher, models.CASCADE, null=True, blank=True, related_name="deficits", verbose_name=_("учитель")
    )
    association = models.ForeignKey(
        "core.MethodAssociation", models.SET_NULL, null=True, blank=True, verbose_name=_("методическое объединение")
    )
    subject = models.ForeignKey(Subject, models.PROTECT, null=True, blank=True, verbose_name=_("предмет"))
    academic_year = models.ForeignKey(AcademicYear, models.PROTECT, verbose_name=_("учебный год"))
    competence_area = models.CharField(
        _("область компетенций"), max_length=32, choices=CompetenceArea.choices, default=CompetenceArea.SUBJECT
    )
    topic = models.CharField(_("тема"), max_length=500)
    content_element = models.ForeignKey(
        ContentElement, models.SET_NULL, null=True, blank=True, verbose_name=_("элемент содержания")
    )
    source = models.CharField(_("источник"), max_length=16, choices=DeficitSource.choices)
    note = models.TextField(_("примечание"), blank=True)

    objects = VisibleManager.from_queryset(DeficitQuerySet)()

    class Meta:
        verbose_name = _("профессиональный дефицит")
        verbose_name_plural = _("профессиональные дефициты")

    def __str__(self) -> str:
        return f"{self.get_scope_display()}: {self.topic}"


class OlympiadStage(models.TextChoices):
    SCHOOL = "school", _("школьный")
    MUNICIPAL = "municipal", _("муниципальный")
    REGIONAL = "regional", _("региональный")
    FINAL = "final", _("заключительный")


class OlympiadStatus(models.TextChoices):
    PARTICIPANT = "participant", _("участник")
    PRIZE_WINNER = "prize_winner", _("призёр")
    WINNER = "winner", _("победитель")


class OlympiadQuerySet(VisibleQuerySet):
    org_path_lookup = "school__path"


class OlympiadResult(models.Model):
    """A pupil's result at a stage of the All-Russian olympiad (ВсОШ)."""

    pupil = models.ForeignKey(Pupil, models.PROTECT, related_name="olympiad_results", verbose_name=_("обучающийся"))
    school = models.ForeignKey(Organisation, models.PROTECT, verbose_name=_("школа"))
    subject = models.ForeignKey(Subject, models.PROTECT, verbose_name=_("предмет"))
    academic_year = models.ForeignKey(AcademicYear, models.PROTECT, verbose_name=_("учебный год"))
    grade = models.PositiveSmallIntegerField(_("класс"))
    stage = models.CharField(_("этап"), max_length=16, choices=OlympiadStage.choices)
    status = models.CharField(_("статус"), max_length=16, choices=OlympiadStatus.choices)
    score = models.FloatField(_("балл"), null=True, blank=True)
    max_score = models.FloatField(_("максимальный балл"), null=True, blank=True)
    upload = models.ForeignKey(Upload, models.PROTECT, null=True, blank=True, verbose_name=_("загрузка"))

    objects = VisibleManager.from_queryset(OlympiadQuerySet)()

    class Meta:
        verbose_name = _("результат олимпиады")
        verbose_name_plural = _("результаты олимпиад")
        constraints = [
            models.UniqueConstraint(fields=["pupil", "subject", "academic_year", "stage"], name="olympiad_unique")
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.get_stage_display()}: {self.get_status_display()}"
