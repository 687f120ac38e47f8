"""The four standard reports that schools know from the federal system (ФИС ОКО), for any organisation
and assessment, beside the same figures of every parent level and of the whole database:

1. statistics of marks (participants, shares of marks 2–5, success and quality);
2. distribution of primary scores, with the grade scale's thresholds;
3. task completion (solve rate per task), with the content elements and skills each task checks;
4. work mark against journal mark (lower / confirmed / higher);
and the share of «не пройд.» (topic not taught yet) per task and school.

The database engine does three grouped counts and sums per assessment, each grouped by school (so the
result is groups, not pupils); every level is then the sum over its schools, and the percentages are
computed here. Definitions and reasons: docs/methods.md, «Стандартные отчёты».
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field

from django.utils.translation import gettext as _

from metodist.analysis.engine import connect, quiet

MARKS = (2, 3, 4, 5)
COMPARISON = ("lower", "confirmed", "higher")


class ReportError(ValueError):
    """Input a report cannot be made for; the message is in Russian, for the user."""


@dataclass
class TaskInfo:
    number: str
    position: int
    max_score: int
    level: str
    content_elements: list[tuple[str, str]]  # (code, name)
    skills: list[tuple[str, str]]


@dataclass
class LevelFigures:
    """The figures of one level: an organisation's subtree, or the whole database (`code` None)."""

    code: str | None
    name: str
    participants: int = 0  # present works
    marks: dict[int, int] = field(default_factory=lambda: dict.fromkeys(MARKS, 0))
    scores: dict[int, int] = field(default_factory=dict)  # primary score → works
    journal: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COMPARISON, 0))
    task_sums: dict[str, int] = field(default_factory=dict)  # task number → sum of scores
    not_taught: dict[str, int] = field(default_factory=dict)  # task number → works with «не пройд.»
    task_max: dict[str, int] = field(default_factory=dict)

    @property
    def with_mark(self) -> int:
        return sum(self.marks.values())

    @property
    def marks_pct(self) -> dict[int, float | None]:
        total = self.with_mark
        return {m: (100 * n / total if total else None) for m, n in self.marks.items()}

    @property
    def success_pct(self) -> float | None:
        """Share of marks 3, 4 and 5 (успеваемость)."""
        total = self.with_mark
        return 100 * (total - self.marks[2]) / total if total else None

    @property
    def quality_pct(self) -> float | None:
        """Share of marks 4 and 5 (качество знаний)."""
        total = self.with_mark
        return 100 * (self.marks[4] + self.marks[5]) / total if total else None

    @property
    def solve_rate_pct(self) -> dict[str, float | None]:
        """Per task: sum of scores / (maximum × present works) × 100."""
        return {
            number: (100 * self.task_sums.get(number, 0) / (maximum * self.participants)
                     if self.participants and maximum else None)
            for number, maximum in self.task_max.items()
        }

    @property
    def not_taught_pct(self) -> dict[str, float | None]:
        return {
            number: (100 * self.not_taught.get(number, 0) / self.participants if self.participants else None)
            for number in self.task_max
        }

    @property
    def compared(self) -> int:
        return sum(self.journal.values())

    @property
    def journal_pct(self) -> dict[str, float | None]:
        total = self.compared
        return {k: (100 * n / total if total else None) for k, n in self.journal.items()}


@dataclass
class NotTaught:
    school_code: str
    school_name: str
    task: str
    works: int
    participants: int

    @property
    def pct(self) -> float:
        return 100 * self.works / self.participants


@dataclass
class StandardReport:
    assessment_code: str
    assessment_title: str
    max_primary: int
    thresholds: dict[int, int]  # mark → minimum primary score; empty when the scale is not known
    tasks: list[TaskInfo]
    own: LevelFigures  # the organisation (or the whole database)
    parents: list[LevelFigures]  # from the nearest parent up to the whole database
    not_taught: list[NotTaught]  # per school of the organisation and task, only where there are any
    engine: str = "sqlite"

    @property
    def organisation_code(self) -> str | None:
        return self.own.code

    def as_json(self) -> dict:
        """The machine-readable form of `metodist report standard --json`; percentages to 2 decimals."""
        def figures(level: LevelFigures) -> dict:
            return {
                "participants": level.participants,
                "marks_pct": {str(m): _round(v) for m, v in level.marks_pct.items()},
                "solve_rate_pct": {n: _round(v) for n, v in level.solve_rate_pct.items()},
                "journal_vs_work": dict(level.journal),
            }

        return {
            "assessment": self.assessment_code,
            "organisation": self.own.code,
            **figures(self.own),
            "parents": [{"organisation": p.code, **figures(p)} for p in self.parents],
        }

    def as_dict(self) -> dict:
        return asdict(self)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def standard_report(assessment: str, organisation: str | None = None, *, engine: str = "default") -> StandardReport:
    """The four standard reports of `assessment` (code) for `organisation` (code; None = the whole
    database), beside its parent levels. Raises ReportError with a Russian message for an unknown code."""
    from metodist.core.models import Organisation
    from metodist.reference.models import Assessment, ScaleKind

    found = Assessment.objects.filter(code=assessment).first()
    if found is None:
        raise ReportError(_("Работа с кодом «{code}» не найдена.").format(code=assessment))
    org = None
    if organisation:
        org = Organisation.objects.filter(code=organisation).first()
        if org is None:
            raise ReportError(_("Организация с кодом «{code}» не найдена.").format(code=organisation))

    tasks = [
        TaskInfo(t.number, t.position, t.max_score, t.level,
                 [(c.code, c.name) for c in t.content_elements.all()], [(s.code, s.name) for s in t.skills.all()])
        for t in found.tasks.order_by("position").prefetch_related("content_elements", "skills")
    ]
    task_max = {t.number: t.max_score for t in tasks}
    scale = found.scales.filter(kind=ScaleKind.MARK).first()
    thresholds = {int(k): int(v) for k, v in scale.thresholds.items()} if scale else {}

    everything = _("Все данные")
    levels = [(None, "", everything)]
    if org is not None:
        levels = [(o.code, o.path, o.short_name) for o in [org, *reversed(org.ancestors())]] + levels
    figures = [LevelFigures(code, name, task_max=dict(task_max)) for code, _path, name in levels]
    prefixes = [path for _code, path, _name in levels]

    def members(school_path: str):
        return [f for f, prefix in zip(figures, prefixes, strict=True) if school_path.startswith(prefix)]

    with quiet():
        eng = connect(engine, assessments=[found.pk])
        aggregates = _aggregate(eng, found.pk)
    per_school_participants: dict[tuple[int, str], int] = defaultdict(int)
    for school_id, path, mark, journal, n in aggregates["marks"]:
        per_school_participants[(school_id, path)] += n
        for level in members(path):
            level.participants += n
            if mark in level.marks:
                level.marks[mark] += n
                if journal is not None:
                    level.journal[_compare(mark, journal)] += n
    for _school, path, score, n in aggregates["scores"]:
        if score is None:
            continue
        for level in members(path):
            level.scores[score] = level.scores.get(score, 0) + n
    numbers = {t_id: number for t_id, number in found.tasks.values_list("pk", "number")}
    school_not_taught: dict[tuple[int, str], int] = {}
    for school_id, path, task_id, total, not_taught in aggregates["tasks"]:
        number = numbers.get(task_id)
        if number is None:
            continue
        for level in members(path):
            level.task_sums[number] = level.task_sums.get(number, 0) + total
            level.not_taught[number] = level.not_taught.get(number, 0) + not_taught
        if not_taught and (org is None or path.startswith(org.path)):
            school_not_taught[(school_id, number)] = not_taught

    participants_of = {school_id: n for (school_id, _p), n in per_school_participants.items()}
    schools = dict(Organisation.objects.filter(pk__in={s for s, _n in school_not_taught}).values_list(
        "pk", "code"))
    names = dict(Organisation.objects.filter(pk__in=schools).values_list("pk", "short_name"))
    position = {t.number: t.position for t in tasks}
    not_taught_rows = sorted(
        (NotTaught(schools[s], names[s], number, n, participants_of[s]) for (s, number), n in school_not_taught.items()),
        key=lambda row: (row.school_code, position[row.task]),
    )
    for level in figures:
        for score in range(0, found.max_primary + 1):
            level.scores.setdefault(score, 0)
        level.scores = dict(sorted(level.scores.items()))

    return StandardReport(
        assessment_code=found.code, assessment_title=found.title, max_primary=found.max_primary,
        thresholds=thresholds, tasks=tasks, own=figures[0], parents=figures[1:], not_taught=not_taught_rows,
        engine=eng.name,
    )


def _compare(mark: int, journal: int) -> str:
    if mark < journal:
        return "lower"
    if mark > journal:
        return "higher"
    return "confirmed"


def _aggregate(eng, assessment_id: int) -> dict[str, list[tuple]]:
    """The three grouped aggregates, each per school, over present works of the assessment."""
    works = eng.works(assessment_id)
    present = works.filter(~works.absent)
    marks = (
        present.group_by(["school_id", "school_path", "mark", "journal_mark"])
        .aggregate(n=present.id.count())
    )
    scores = (
        present.group_by(["school_id", "school_path", "primary_score"])
        .aggregate(n=present.id.count())
    )
    ts = eng.task_scores(assessment_id)
    ts = ts.filter(~ts.absent)
    tasks = ts.group_by(["school_id", "school_path", "task_id"]).aggregate(
        total=ts.score.cast("int64").sum(),
        not_taught=(ts.status == "not_taught").ifelse(1, 0).sum(),
    )
    return {
        "marks": _rows(marks, ["school_id", "school_path", "mark", "journal_mark", "n"]),
        "scores": _rows(scores, ["school_id", "school_path", "primary_score", "n"]),
        "tasks": _rows(tasks, ["school_id", "school_path", "task_id", "total", "not_taught"]),
    }


def _rows(expr, columns: list[str]) -> list[tuple]:
    """Execute an aggregate and return plain Python tuples (None for SQL NULL, ints for counts)."""
    with quiet():
        table = expr.select(*columns).to_pyarrow()
    data = [table.column(c).to_pylist() for c in columns]
    return [tuple(None if v is None else (int(v) if isinstance(v, int | float) else v) for v in row)
            for row in zip(*data, strict=True)]
