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

When the federal system's own reports are loaded for the assessment (`reference.PublishedResult`, format
`federal-report`), the whole country («Вся выборка») is the topmost parent level, with the figures as
published; and a level whose organisation has published figures carries them (`published`) beside its
own, with Russian notes on where they differ, which is how an incomplete import shows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field

from django.utils.translation import gettext as _

from metodist.analysis.engine import connect, quiet

MARKS = (2, 3, 4, 5)
COMPARISON = ("lower", "confirmed", "higher")
#: figures printed with two decimals agree when they differ by less than this (percentage points)
PUBLISHED_TOLERANCE = 0.01


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
    kind: str = ""  # organisation kind; "all" for the whole database, "national" for the published country
    schools: int = 0  # schools with present works
    published: dict | None = None  # the federal system's figures of the same organisation, when loaded

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
class ReferenceLevel(LevelFigures):
    """A level known only from the federal system's published reports (the whole country): percentages as
    printed; what was not published (or not loaded) is None, never 0."""

    participants: int | None = None
    schools: int | None = None
    marks: dict = field(default_factory=lambda: dict.fromkeys(MARKS))
    journal: dict = field(default_factory=lambda: dict.fromkeys(COMPARISON))
    published_marks_pct: dict[int, float | None] | None = None
    published_solve_rate_pct: dict[str, float | None] | None = None
    published_journal_pct: dict[str, float | None] | None = None
    published_compared: int | None = None
    score_distribution_pct: dict[int, float | None] | None = None
    source_file: str = ""
    report_date: str | None = None

    @property
    def with_mark(self) -> int | None:
        return None

    @property
    def marks_pct(self) -> dict[int, float | None]:
        shares = self.published_marks_pct or {}
        return {m: shares.get(m) for m in MARKS}

    @property
    def success_pct(self) -> float | None:
        """The sum of the printed shares of «3», «4» and «5»."""
        shares = self.marks_pct
        return None if any(shares[m] is None for m in (3, 4, 5)) else shares[3] + shares[4] + shares[5]

    @property
    def quality_pct(self) -> float | None:
        shares = self.marks_pct
        return None if any(shares[m] is None for m in (4, 5)) else shares[4] + shares[5]

    @property
    def solve_rate_pct(self) -> dict[str, float | None]:
        rates = self.published_solve_rate_pct or {}
        return {number: rates.get(number) for number in self.task_max}

    @property
    def not_taught_pct(self) -> dict[str, float | None]:
        return dict.fromkeys(self.task_max)

    @property
    def compared(self) -> int | None:
        return self.published_compared

    @property
    def journal_pct(self) -> dict[str, float | None]:
        shares = self.published_journal_pct or {}
        return {k: shares.get(k) for k in COMPARISON}


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

        def parent(level: LevelFigures) -> dict:
            data = {"organisation": level.code, "name": level.name, "kind": level.kind, **figures(level),
                    "schools": level.schools, "success_pct": _round(level.success_pct),
                    "quality_pct": _round(level.quality_pct),
                    "journal_pct": {k: _round(v) for k, v in level.journal_pct.items()}}
            if isinstance(level, ReferenceLevel):
                data["score_distribution_pct"] = (
                    None if level.score_distribution_pct is None
                    else {str(k): v for k, v in level.score_distribution_pct.items()})
                data["source"] = {"file": level.source_file, "date": level.report_date}
            if level.published is not None:
                data["published"] = level.published
            return data

        own = {"assessment": self.assessment_code, "organisation": self.own.code, **figures(self.own),
               "parents": [parent(p) for p in self.parents]}
        if self.own.published is not None:
            own["published"] = self.own.published
        return own

    @property
    def national(self) -> ReferenceLevel | None:
        """The whole country as published, when loaded for the assessment."""
        return next((p for p in self.parents if isinstance(p, ReferenceLevel)), None)

    def published_notes(self) -> list[str]:
        """The notes on every level whose organisation's published figures are loaded, own level first."""
        return [note for level in (self.own, *self.parents) if level.published for note in level.published["notes"]]

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
    levels = [(None, "", everything, "all", None)]
    if org is not None:
        levels = [(o.code, o.path, o.short_name, o.kind, o.pk) for o in [org, *reversed(org.ancestors())]] + levels
    figures = [LevelFigures(code, name, task_max=dict(task_max), kind=kind) for code, _p, name, kind, _pk in levels]
    prefixes = [path for _code, path, _name, _kind, _pk in levels]

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

    for (_school, path), n in per_school_participants.items():
        if n:
            for level in members(path):
                level.schools += 1
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

    parents = figures[1:]
    national = _attach_published(found, figures, [(code, pk) for code, _p, _n, _k, pk in levels], task_max)
    if national is not None:
        parents.append(national)
    return StandardReport(
        assessment_code=found.code, assessment_title=found.title, max_primary=found.max_primary,
        thresholds=thresholds, tasks=tasks, own=figures[0], parents=parents, not_taught=not_taught_rows,
        engine=eng.name,
    )


# --- the federal system's published figures ---------------------------------------------------------

def _attach_published(assessment, figures: list[LevelFigures], keys: list[tuple[str | None, int | None]],
                      task_max: dict[str, int]) -> ReferenceLevel | None:
    """Give every organisation level its published figures (with notes on differences) and return the
    whole country as a level of its own, when the federal system's reports are loaded for the assessment."""
    from metodist.collection.importers.base import normalise_header, split_coded_name
    from metodist.reference.models import PublishedLevel, PublishedResult

    rows = list(PublishedResult.objects.filter(assessment=assessment))
    if not rows:
        return None
    by_org = {r.organisation_id: r for r in rows if r.organisation_id and r.level != PublishedLevel.NATIONAL}
    by_code = {r.organisation_code: r for r in rows if r.organisation_code and r.level != PublishedLevel.NATIONAL}
    # a row whose organisation was not in the registry when the report was loaded: by its printed name
    by_name = {(r.level, normalise_header(split_coded_name(r.group_name)[1] or r.group_name)): r
               for r in rows if r.organisation_id is None and r.level != PublishedLevel.NATIONAL}
    for level, (code, pk) in zip(figures, keys, strict=True):
        row = by_org.get(pk) if pk else None
        if row is None and code:
            row = by_code.get(code)
        if row is None and pk:
            row = by_name.get((level.kind, normalise_header(level.name)))
        if row is not None:
            level.published = _published(row, level)
    national = next((r for r in rows if r.level == PublishedLevel.NATIONAL), None)
    if national is None:
        return None
    journal = national.journal or {}
    return ReferenceLevel(
        code=None, name=_("Вся выборка (Россия)"), kind="national", task_max=dict(task_max),
        participants=national.participants, schools=national.schools_count,
        journal={k: journal.get(k) for k in COMPARISON},
        published_marks_pct=({int(m): v for m, v in national.marks_pct.items()} if national.marks_pct else None),
        published_solve_rate_pct=dict(national.solve_rate_pct) if national.solve_rate_pct else None,
        published_journal_pct=({k: journal.get(f"{k}_pct") for k in COMPARISON} if national.journal else None),
        published_compared=journal.get("total"),
        score_distribution_pct=({int(s): v for s, v in national.score_distribution_pct.items()}
                                if national.score_distribution_pct else None),
        source_file=national.source_file,
        report_date=national.report_date.isoformat() if national.report_date else None,
    )


def _published(row, level: LevelFigures) -> dict:
    """The published figures of a level's organisation, the differences from ours and Russian notes."""
    marks = {int(m): v for m, v in row.marks_pct.items()} if row.marks_pct else None
    journal = row.journal
    data = {
        "group_name": row.group_name, "participants": row.participants, "schools": row.schools_count,
        "marks_pct": {str(m): v for m, v in marks.items()} if marks else None,
        "success_pct": _round(row.success_pct), "quality_pct": _round(row.quality_pct),
        "solve_rate_pct": dict(row.solve_rate_pct) if row.solve_rate_pct else None,
        "journal": dict(journal) if journal else None,
        "source_file": row.source_file, "report_date": row.report_date.isoformat() if row.report_date else None,
    }
    notes = []
    differences: dict = {}
    name = level.name
    if row.participants is not None:
        differences["participants"] = level.participants - row.participants
        if level.participants < row.participants:
            notes.append(_("{name}: в отчёте ФИС ОКО участников — {published}, в базе — {ours}. Загружены не все "
                           "работы.").format(name=name, published=row.participants, ours=level.participants))
        elif level.participants > row.participants:
            notes.append(_("{name}: в отчёте ФИС ОКО участников — {published}, в базе — {ours}. В базе работ больше, "
                           "чем в отчёте: проверьте, не загружены ли лишние или повторные файлы.").format(
                name=name, published=row.participants, ours=level.participants))
    if row.schools_count is not None and level.kind != "school":
        differences["schools"] = level.schools - row.schools_count
        if level.schools != row.schools_count:
            notes.append(_("{name}: в отчёте ФИС ОКО образовательных организаций — {published}, в базе работы есть "
                           "у {ours}.").format(name=name, published=row.schools_count, ours=level.schools))
    if marks and level.with_mark:
        ours = level.marks_pct
        diff = {m: ours[m] - marks[m] for m in MARKS if marks.get(m) is not None and ours[m] is not None}
        differences["marks_pct"] = {str(m): _round(d) for m, d in diff.items()}
        worst = max(diff, key=lambda m: abs(diff[m]), default=None)
        if worst is not None and abs(diff[worst]) >= PUBLISHED_TOLERANCE:
            notes.append(_("{name}: доли отметок в базе расходятся с опубликованными в ФИС ОКО, больше всего у "
                           "отметки «{mark}»: {ours} % против {published} %.").format(
                name=name, mark=worst, ours=_pct_text(ours[worst]), published=_pct_text(marks[worst])))
    if row.solve_rate_pct and level.participants:
        ours = level.solve_rate_pct
        diff = {n: ours[n] - v for n, v in row.solve_rate_pct.items() if v is not None and ours.get(n) is not None}
        differences["solve_rate_pct"] = {n: _round(d) for n, d in diff.items()}
        worst = max(diff, key=lambda n: abs(diff[n]), default=None)
        if worst is not None and abs(diff[worst]) >= PUBLISHED_TOLERANCE:
            notes.append(_("{name}: выполнение заданий в базе расходится с опубликованным в ФИС ОКО, больше всего у "
                           "задания {task}: {ours} % против {published} %.").format(
                name=name, task=worst, ours=_pct_text(ours[worst]), published=_pct_text(row.solve_rate_pct[worst])))
    if journal and all(journal.get(k) is not None for k in COMPARISON):
        differences["journal"] = {k: level.journal[k] - journal[k] for k in COMPARISON}
        if any(differences["journal"].values()):
            notes.append(_("{name}: в отчёте ФИС ОКО понизили, подтвердили и повысили отметку по журналу {published} "
                           "участников, в базе — {ours}.").format(
                name=name, published=" / ".join(str(journal[k]) for k in COMPARISON),
                ours=" / ".join(str(level.journal[k]) for k in COMPARISON)))
    data["differences"] = differences
    data["matches"] = not notes
    if not notes:
        notes.append(_("{name}: цифры совпадают с опубликованными в ФИС ОКО.").format(name=name))
    data["notes"] = notes
    return data


def _pct_text(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


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
    import pyarrow as pa
    import pyarrow.compute as pc

    with quiet():
        table = expr.select(*columns).to_pyarrow()
    data = []
    for name in columns:  # whole columns converted at once: a region's aggregates are 1.5 million values
        column = table.column(name)
        if pa.types.is_floating(column.type):
            column = pc.cast(pc.trunc(column), pa.int64())  # the sums of integer scores, as int() gave
        data.append(column.to_pylist())
    return list(zip(*data, strict=True))
