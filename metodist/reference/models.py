"""Assessment specifications: what a work checks and how it is scored. Shipped as YAML in `specs/`
and uploadable as XLSX; every importer validates results against them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from metodist.core.models import Organisation, Subject


class Programme(models.TextChoices):
    VPR = "VPR", _("ВПР")
    OGE = "OGE", _("ОГЭ")
    EGE = "EGE", _("ЕГЭ")
    REGIONAL = "REGIONAL", _("Региональный мониторинг")
    MUNICIPAL = "MUNICIPAL", _("Муниципальный мониторинг")
    SCHOOL = "SCHOOL", _("Школьная диагностика")
    PISA = "PISA", _("PISA")
    TIMSS = "TIMSS", _("TIMSS")
    PIRLS = "PIRLS", _("PIRLS")


class TaskType(models.TextChoices):
    SHORT = "short", _("с кратким ответом")
    EXTENDED = "extended", _("с развёрнутым ответом")


class Level(models.TextChoices):
    BASIC = "B", _("базовый")
    ADVANCED = "P", _("повышенный")
    HIGH = "V", _("высокий")


class ContentElement(models.Model):
    """An element of a codifier (КЭС): what a task checks by topic.

    `codifier` names the family of works the codes belong to (`vpr-ma-5`, `oge-ma-9`): the same code in
    next year's work of the family is the same element, which is what lets a problem field be tracked
    from one cycle to the next."""

    codifier = models.CharField(_("кодификатор"), max_length=64)
    subject = models.ForeignKey(Subject, models.PROTECT, verbose_name=_("предмет"))
    code = models.CharField(_("код"), max_length=32)
    name = models.TextField(_("название"))

    class Meta:
        verbose_name = _("элемент содержания (КЭС)")
        verbose_name_plural = _("элементы содержания (КЭС)")
        ordering = ["codifier", "code"]
        constraints = [models.UniqueConstraint(fields=["codifier", "code"], name="content_element_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Skill(models.Model):
    """A checked requirement / planned result (КТ, ПР): what a task checks by ability."""

    codifier = models.CharField(_("кодификатор"), max_length=64)
    subject = models.ForeignKey(Subject, models.PROTECT, verbose_name=_("предмет"))
    code = models.CharField(_("код"), max_length=32)
    name = models.TextField(_("название"))

    class Meta:
        verbose_name = _("проверяемое умение (КТ)")
        verbose_name_plural = _("проверяемые умения (КТ)")
        ordering = ["codifier", "code"]
        constraints = [models.UniqueConstraint(fields=["codifier", "code"], name="skill_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Assessment(models.Model):
    """One work of one year: ВПР 2021 mathematics grade 5 is `vpr-2021-ma-5`."""

    code = models.CharField(_("код"), max_length=64, unique=True)
    programme = models.CharField(_("программа"), max_length=16, choices=Programme.choices)
    subject = models.ForeignKey(Subject, models.PROTECT, verbose_name=_("предмет"))
    grade = models.PositiveSmallIntegerField(_("класс"))
    year = models.PositiveSmallIntegerField(_("год проведения"))
    title = models.CharField(_("название"), max_length=255)
    variants = models.JSONField(_("варианты"), default=list, blank=True)
    max_primary = models.PositiveSmallIntegerField(_("максимальный первичный балл"))
    source = models.TextField(_("источник спецификации"), blank=True)
    partial = models.BooleanField(
        _("спецификация неполная"), default=False,
        help_text=_("Часть сведений не найдена в источниках и не заполнена."),
    )
    partial_reason = models.TextField(_("чего не хватает"), blank=True)
    owner = models.ForeignKey(
        Organisation, models.PROTECT, null=True, blank=True, verbose_name=_("кто проводит"),
        help_text=_("Для региональных и муниципальных работ: организация, которая их проводит."),
    )
    spec_checksum = models.CharField(_("контрольная сумма спецификации"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("оценочная процедура")
        verbose_name_plural = _("оценочные процедуры")
        ordering = ["-year", "programme", "subject__code", "grade"]

    def __str__(self) -> str:
        return self.title

    @property
    def codifier(self) -> str:
        return f"{self.programme.lower()}-{self.subject.code}-{self.grade}"


class Task(models.Model):
    assessment = models.ForeignKey(Assessment, models.CASCADE, related_name="tasks", verbose_name=_("работа"))
    number = models.CharField(_("номер"), max_length=16)
    position = models.PositiveSmallIntegerField(_("порядок"))
    max_score = models.PositiveSmallIntegerField(_("максимальный балл"))
    task_type = models.CharField(
        _("тип"), max_length=16, choices=TaskType.choices, blank=True,
        help_text=_("Пусто, когда описание работы не указывает форму ответа."),
    )
    level = models.CharField(_("уровень сложности"), max_length=1, choices=Level.choices, blank=True)
    description = models.TextField(_("что проверяет"), blank=True)
    content_elements = models.ManyToManyField(ContentElement, blank=True, verbose_name=_("элементы содержания"))
    skills = models.ManyToManyField(Skill, blank=True, verbose_name=_("умения"))

    class Meta:
        verbose_name = _("задание")
        verbose_name_plural = _("задания")
        ordering = ["assessment", "position"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "number"], name="task_number_unique"),
            models.UniqueConstraint(fields=["assessment", "position"], name="task_position_unique"),
        ]

    def __str__(self) -> str:
        return str(self.number)


class ScaleKind(models.TextChoices):
    MARK = "mark", _("первичный балл → отметка")
    TEST_SCORE = "test_score", _("первичный балл → тестовый балл")


class GradeScale(models.Model):
    """How a primary score becomes a mark (minimum score of each mark) or an ЕГЭ test score."""

    assessment = models.ForeignKey(
        Assessment, models.CASCADE, related_name="scales", verbose_name=_("работа")
    )
    kind = models.CharField(_("вид"), max_length=16, choices=ScaleKind.choices, default=ScaleKind.MARK)
    thresholds = models.JSONField(
        _("пороги"),
        help_text=_("Для отметок: {\"3\": 5, \"4\": 10, \"5\": 14} — минимальный первичный балл отметки. "
                    "Для тестового балла: список тестовых баллов по первичным баллам 0, 1, 2, …"),
    )
    note = models.TextField(_("дополнительные условия"), blank=True)

    class Meta:
        verbose_name = _("шкала перевода")
        verbose_name_plural = _("шкалы перевода")
        constraints = [models.UniqueConstraint(fields=["assessment", "kind"], name="scale_unique")]

    def __str__(self) -> str:
        return f"{self.assessment.code}: {self.get_kind_display()}"

    def convert(self, primary: int) -> int | None:
        """The mark (or test score) of a primary score; None for marks when the scale is not complete."""
        if self.kind == ScaleKind.MARK and not self.is_complete:
            return None
        return convert_score(self.kind, self.thresholds, primary)

    @property
    def is_complete(self) -> bool:
        """A mark scale is complete when the minimum of each of the marks 3, 4 and 5 is known."""
        if self.kind != ScaleKind.MARK:
            return True
        return all(str(m) in self.thresholds for m in (3, 4, 5))

    def allows(self, primary: int, mark: int) -> bool:
        """Whether a mark written in a file agrees with the known part of the scale: the minimum of every
        known mark up to it is reached, and the minimum of no higher mark is."""
        reached = [int(v) for k, v in self.thresholds.items() if int(k) <= mark]
        if reached and primary < max(reached):
            return False
        return not any(
            str(higher) in self.thresholds and primary >= int(self.thresholds[str(higher)])
            for higher in range(mark + 1, 6)
        )


def convert_score(kind: str, thresholds, primary: int) -> int | None:
    """Apply a scale to a primary score: the highest mark whose minimum is reached; or the test score."""
    if primary is None:
        return None
    if kind == ScaleKind.TEST_SCORE:
        if 0 <= primary < len(thresholds):
            return int(thresholds[primary])
        return None
    mark = 2
    for value, minimum in sorted(((int(k), int(v)) for k, v in thresholds.items())):
        if primary >= minimum:
            mark = max(mark, value)
    return mark


class PublishedLevel(models.TextChoices):
    """The levels of a federal standard report's rows («Группы участников»)."""

    NATIONAL = "national", _("Вся выборка (Россия)")
    REGION = "region", _("Регион")
    MUNICIPALITY = "municipality", _("Муниципалитет")
    SCHOOL = "school", _("Образовательная организация")


class PublishedResult(models.Model):
    """Figures of one level as the federal system (ФИС ОКО) published them in its standard reports: the
    national reference («Вся выборка») and the region, municipality and school rows of the same reports.

    One row per assessment, level and organisation (its code as printed, else its name); each report
    fills its part (marks, journal comparison, task completion, score distribution), and importing a
    report again replaces that part. Percentages are stored as printed (two decimals)."""

    assessment = models.ForeignKey(
        Assessment, models.CASCADE, related_name="published_results", verbose_name=_("работа")
    )
    level = models.CharField(_("уровень"), max_length=16, choices=PublishedLevel.choices)
    group_name = models.CharField(_("группа участников (как в отчёте)"), max_length=500)
    key = models.CharField(
        _("ключ строки"), max_length=500, editable=False,
        help_text=_("Код организации из отчёта, а если его нет — название группы."),
    )
    organisation_code = models.CharField(_("код организации в отчёте"), max_length=64, blank=True)
    organisation = models.ForeignKey(
        Organisation, models.SET_NULL, null=True, blank=True, related_name="published_results",
        verbose_name=_("организация"), help_text=_("Организация реестра, если она найдена по коду или названию."),
    )
    schools_count = models.PositiveIntegerField(_("количество ОО"), null=True, blank=True)
    participants = models.PositiveIntegerField(_("количество участников"), null=True, blank=True)
    marks_pct = models.JSONField(
        _("доли отметок, %"), null=True, blank=True, help_text=_("{\"2\": 5.06, \"3\": 32.92, \"4\": 44.33, \"5\": 17.69}"),
    )
    journal = models.JSONField(
        _("сравнение с отметками по журналу"), null=True, blank=True,
        help_text=_("Всего сравнено, число и доля понизивших, подтвердивших и повысивших отметку."),
    )
    solve_rate_pct = models.JSONField(
        _("выполнение заданий, %"), null=True, blank=True, help_text=_("Номер задания → процент выполнения."),
    )
    score_distribution_pct = models.JSONField(
        _("распределение первичных баллов, %"), null=True, blank=True,
        help_text=_("Первичный балл → доля участников, %."),
    )
    report_date = models.DateField(_("дата в отчёте"), null=True, blank=True)
    upload = models.ForeignKey(
        "collection.Upload", models.SET_NULL, null=True, blank=True, related_name="published_results",
        verbose_name=_("загрузка"),
    )
    source_file = models.CharField(_("файл"), max_length=500, blank=True)
    sources = models.JSONField(
        _("файлы по частям отчёта"), default=dict, blank=True,
        help_text=_("Часть (marks, journal, tasks, scores) → файл, из которого она загружена."),
    )
    updated_at = models.DateTimeField(_("обновлено"), auto_now=True)

    class Meta:
        verbose_name = _("опубликованный результат ФИС ОКО")
        verbose_name_plural = _("опубликованные результаты ФИС ОКО")
        ordering = ["assessment", "level", "group_name"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "level", "key"], name="published_result_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.assessment.code}: {self.group_name}"

    @property
    def success_pct(self) -> float | None:
        """Share of marks 3, 4 and 5 as the sum of the printed shares."""
        if not self.marks_pct or any(self.marks_pct.get(str(m)) is None for m in (3, 4, 5)):
            return None
        return sum(float(self.marks_pct[str(m)]) for m in (3, 4, 5))

    @property
    def quality_pct(self) -> float | None:
        """Share of marks 4 and 5 as the sum of the printed shares."""
        if not self.marks_pct or any(self.marks_pct.get(str(m)) is None for m in (4, 5)):
            return None
        return sum(float(self.marks_pct[str(m)]) for m in (4, 5))
