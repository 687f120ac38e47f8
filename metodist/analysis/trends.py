"""Trends and cohorts: the standard figures of one assessment family year over year, and the same pupils
(or the same classes, or the same schools) from one year's work to the next.

A trend reuses `standard_report` for every year of the family `<programme>-<year>-<subject>-<grade>`; the
solve rate of a content element in a year is the sum of the scores of the tasks that check it over their
maxima times the participants, so elements are compared by code within their codifier (`vpr-ma-5`).

A cohort links two assessments: by pupil where the same Pupil wrote both (exam protocols and olympiads
link by the name pseudonym; ВПР participant codes change every year, so ВПР pupils usually do not link),
by class (the same school and letter, grade g in year Y and g + b in year Y + b) and by school. The
database engine does the grouped counts and sums; the percentages are computed here. Definitions and
limits: docs/methods.md, «Динамика и когорты».
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from metodist.analysis.engine import connect, quiet
from metodist.analysis.standard_reports import MARKS, LevelFigures, ReportError, _rows, standard_report


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def mean_primary_pct(level: LevelFigures, max_primary: int) -> float | None:
    """Mean primary score as a percentage of the maximum, over works with a primary score."""
    works = sum(level.scores.values())
    if not works or not max_primary:
        return None
    return 100 * sum(score * n for score, n in level.scores.items()) / (works * max_primary)


# --- trends ---------------------------------------------------------------------------------------------

@dataclass
class TrendYear:
    year: int
    assessment_code: str
    participants: int
    marks_pct: dict[int, float | None]
    success_pct: float | None
    quality_pct: float | None
    mean_primary_pct: float | None


@dataclass
class ElementTrend:
    code: str
    name: str
    solve_rate_pct: dict[int, float | None]  # year → %, only the years whose work checks the element


@dataclass
class Trend:
    family: str  # `vpr-ma-5`
    organisation: str | None
    organisation_name: str
    years: list[TrendYear]
    elements: list[ElementTrend]

    def as_json(self) -> dict:
        return {
            "family": self.family,
            "organisation": self.organisation,
            "years": [
                {"year": y.year, "assessment": y.assessment_code, "participants": y.participants,
                 "marks_pct": {str(m): _round(v) for m, v in y.marks_pct.items()},
                 "success_pct": _round(y.success_pct), "quality_pct": _round(y.quality_pct),
                 "mean_primary_pct": _round(y.mean_primary_pct)}
                for y in self.years
            ],
            "elements": [
                {"code": e.code, "name": e.name,
                 "solve_rate_pct": {str(year): _round(v) for year, v in e.solve_rate_pct.items()}}
                for e in self.elements
            ],
        }


def element_rates(report) -> dict[str, tuple[str, float | None]]:
    """Per content element code of a standard report's tasks: (name, solve rate % of the own level)."""
    own = report.own
    sums: dict[str, list] = {}
    for task in report.tasks:
        for code, name in task.content_elements:
            entry = sums.setdefault(code, [name, 0, 0])
            entry[1] += own.task_sums.get(task.number, 0)
            entry[2] += task.max_score * own.participants
    return {code: (name, 100 * got / possible if possible else None) for code, (name, got, possible) in sums.items()}


def trend(programme: str, subject: str, grade: int, organisation: str | None = None, *,
          engine: str = "default") -> Trend:
    """The standard figures and the element solve rates of every year of a family of works."""
    from metodist.reference.models import Assessment

    assessments = list(Assessment.objects.filter(  # only the years with results: a spec alone is no year
        programme=programme.upper(), subject__code=subject.lower(), grade=grade, works__isnull=False,
    ).distinct().order_by("year"))
    family = f"{programme.lower()}-{subject.lower()}-{grade}"
    if not assessments:
        raise ReportError(_("Работ «{family}» в базе нет.").format(family=family))
    years: list[TrendYear] = []
    elements: dict[str, ElementTrend] = {}
    own_name = ""
    for assessment in assessments:
        report = standard_report(assessment.code, organisation, engine=engine)
        own = report.own
        own_name = own.name
        years.append(TrendYear(
            assessment.year, assessment.code, own.participants, own.marks_pct, own.success_pct, own.quality_pct,
            mean_primary_pct(own, report.max_primary),
        ))
        for code, (name, rate) in element_rates(report).items():
            elements.setdefault(code, ElementTrend(code, name, {})).solve_rate_pct[assessment.year] = rate
    ordered = sorted(elements.values(), key=lambda e: _code_key(e.code))
    return Trend(family, organisation, own_name, years, ordered)


def _code_key(code: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in code.replace("-", ".").split("."))


def element_trend_by_teacher(programme: str, subject: str, grade: int, element: str, *,
                             engine: str = "default") -> dict[int, dict[tuple[str, str], tuple[int, int]]]:
    """The solve rate of one content element per teacher and year, as its parts: year → (school code,
    teacher code, or the name when there is no code) → (sum of scores, sum of maxima) over the present works of the teacher's classes, so
    that any group of teachers is the sum of its members (the course's participants against the rest)."""
    from metodist.core.models import Teacher
    from metodist.reference.models import Assessment, Task

    family = f"{programme.lower()}-{subject.lower()}-{grade}"
    assessments = list(Assessment.objects.filter(
        programme=programme.upper(), subject__code=subject.lower(), grade=grade, works__isnull=False,
    ).distinct().order_by("year"))
    if not assessments:
        raise ReportError(_("Работ «{family}» в базе нет.").format(family=family))
    tasks: dict[int, list[int]] = {}
    for task_id, assessment_id in Task.objects.filter(
            assessment__in=assessments, content_elements__codifier=family, content_elements__code=element,
    ).values_list("pk", "assessment_id"):
        tasks.setdefault(assessment_id, []).append(task_id)
    result: dict[int, dict[tuple[str, str], tuple[int, int]]] = {}
    rows: list[tuple] = []
    with quiet():
        eng = connect(engine, assessments=[a.pk for a in assessments])
        for assessment in assessments:
            ids = tasks.get(assessment.pk)
            if not ids:
                continue
            ts = eng.task_scores(assessment.pk)
            ts = ts.filter(~ts.absent & ts.task_id.isin(ids) & ts.teacher_id.notnull())
            grouped = ts.group_by("teacher_id").aggregate(
                got=ts.score.cast("int64").sum(), possible=ts.max_score.cast("int64").sum())
            rows += [(assessment.year, *row) for row in _rows(grouped, ["teacher_id", "got", "possible"])]
    teachers = {pk: (school, code or name) for pk, school, code, name in Teacher.objects.filter(
        pk__in={row[1] for row in rows}).values_list("pk", "school__code", "code", "full_name")}
    for year, teacher_id, got, possible in rows:
        result.setdefault(year, {})[teachers[teacher_id]] = (got or 0, possible or 0)
    return result


# --- cohorts --------------------------------------------------------------------------------------------

@dataclass
class CohortSide:
    """The works of a group in one of the two assessments."""

    works: int = 0
    scored: int = 0  # works with a primary score
    primary_sum: int = 0
    marks: dict[int, int] = field(default_factory=lambda: dict.fromkeys(MARKS, 0))
    max_primary: int = 0

    @property
    def mean_primary_pct(self) -> float | None:
        if not self.scored or not self.max_primary:
            return None
        return 100 * self.primary_sum / (self.scored * self.max_primary)

    @property
    def marks_pct(self) -> dict[int, float | None]:
        total = sum(self.marks.values())
        return {m: (100 * n / total if total else None) for m, n in self.marks.items()}

    def as_json(self) -> dict:
        return {"participants": self.works, "mean_primary_pct": _round(self.mean_primary_pct),
                "marks": {str(m): n for m, n in self.marks.items()},
                "marks_pct": {str(m): _round(v) for m, v in self.marks_pct.items()}}


@dataclass
class CohortGroup:
    school_code: str
    school_name: str
    letter: str | None  # None: the whole school
    before: CohortSide
    after: CohortSide

    @property
    def change_pct(self) -> float | None:
        a, b = self.before.mean_primary_pct, self.after.mean_primary_pct
        return None if a is None or b is None else b - a

    def as_json(self) -> dict:
        data = {"school": self.school_code}
        if self.letter is not None:
            data["letter"] = self.letter
        return {**data, "from": self.before.as_json(), "to": self.after.as_json(),
                "change_pct": _round(self.change_pct)}


@dataclass
class PupilCohort:
    """Pupils with a present work in both assessments."""

    pupils: int
    before: CohortSide
    after: CohortSide
    transitions: dict[tuple[int, int], int]  # (mark before, mark after) → pupils

    def as_json(self) -> dict:
        return {"pupils": self.pupils, "from": self.before.as_json(), "to": self.after.as_json(),
                "transitions": [{"from": a, "to": b, "pupils": n} for (a, b), n in sorted(self.transitions.items())]}


@dataclass
class Cohort:
    from_code: str
    to_code: str
    from_grade: int
    to_grade: int
    from_year: int
    to_year: int
    organisation: str | None
    pupils: PupilCohort
    classes: list[CohortGroup]
    schools: list[CohortGroup]

    def as_json(self) -> dict:
        return {"from": self.from_code, "to": self.to_code, "organisation": self.organisation,
                "pupils": self.pupils.as_json(),
                "classes": [g.as_json() for g in self.classes], "schools": [g.as_json() for g in self.schools]}


def cohort(from_code: str, to_code: str, organisation: str | None = None) -> Cohort:
    """The same pupils, classes and schools in two works of later years (`to` later than `from`)."""
    from metodist.collection.models import Work
    from metodist.core.models import Organisation
    from metodist.reference.models import Assessment

    found = {a.code: a for a in Assessment.objects.filter(code__in=[from_code, to_code])}
    for code in (from_code, to_code):
        if code not in found:
            raise ReportError(_("Работа с кодом «{code}» не найдена.").format(code=code))
    before, after = found[from_code], found[to_code]
    if after.year <= before.year:
        raise ReportError(_("Работа «{to}» должна быть проведена позже работы «{start}».").format(
            to=after.code, start=before.code))
    prefix = ""
    if organisation:
        org = Organisation.objects.filter(code=organisation).first()
        if org is None:
            raise ReportError(_("Организация с кодом «{code}» не найдена.").format(code=organisation))
        prefix = org.path

    with quiet():
        eng = connect("default")
        per_class = {side: _class_rows(eng, a.pk, prefix) for side, a in (("from", before), ("to", after))}
        transitions = _pupil_rows(eng, Work._meta.db_table, before.pk, after.pk, prefix)

    names: dict[str, str] = {}
    classes: dict[tuple[str, str | None], dict[str, CohortSide]] = {}
    schools: dict[str, dict[str, CohortSide]] = {}
    for side, assessment in (("from", before), ("to", after)):
        for code, name, letter, mark, n, scored, total in per_class[side]:
            names[code] = name
            targets = [schools.setdefault(code, {})]
            if letter:
                targets.append(classes.setdefault((code, letter), {}))
            for target in targets:
                entry = target.setdefault(side, CohortSide(max_primary=assessment.max_primary))
                entry.works += n
                entry.scored += scored
                entry.primary_sum += total
                if mark in entry.marks:
                    entry.marks[mark] += n

    def groups(items, letter_of):
        return [CohortGroup(key if isinstance(key, str) else key[0], names[key if isinstance(key, str) else key[0]],
                            letter_of(key), sides["from"], sides["to"])
                for key, sides in sorted(items.items(), key=lambda kv: str(kv[0])) if len(sides) == 2]

    pupil_before = CohortSide(max_primary=before.max_primary)
    pupil_after = CohortSide(max_primary=after.max_primary)
    moves: dict[tuple[int, int], int] = {}
    for mark_a, mark_b, n, scored_a, sum_a, scored_b, sum_b in transitions:
        for entry, mark, scored, total in ((pupil_before, mark_a, scored_a, sum_a),
                                           (pupil_after, mark_b, scored_b, sum_b)):
            entry.works += n
            entry.scored += scored
            entry.primary_sum += total
            if mark in entry.marks:
                entry.marks[mark] += n
        if mark_a is not None and mark_b is not None:
            moves[(mark_a, mark_b)] = moves.get((mark_a, mark_b), 0) + n
    pupils = PupilCohort(pupil_before.works, pupil_before, pupil_after, moves)
    return Cohort(before.code, after.code, before.grade, after.grade, before.year, after.year, organisation, pupils,
                  groups(classes, lambda key: key[1]), groups(schools, lambda key: None))


def _class_rows(eng, assessment_id: int, prefix: str) -> list[tuple]:
    """Per school, class letter and mark: works, works with a primary score and the sum of primary scores."""
    works = eng.works(assessment_id)
    present = works.filter(~works.absent)
    if prefix:
        present = present.filter(present.school_path.startswith(prefix))
    grouped = present.group_by(["school_code", "school_path", "class_letter", "mark"]).aggregate(
        n=present.id.count(),
        scored=present.primary_score.notnull().ifelse(1, 0).sum(),
        total=present.primary_score.cast("int64").sum(),
    )
    org = eng.raw("organisation").select(org_code="code", org_name="short_name")
    named = grouped.join(org, grouped.school_code == org.org_code)
    rows = _rows(named, ["school_code", "org_name", "class_letter", "mark", "n", "scored", "total"])
    return [(code, name, letter, mark, n, scored, total or 0) for code, name, letter, mark, n, scored, total in rows]


def _pupil_rows(eng, work_table: str, before_id: int, after_id: int, prefix: str) -> list[tuple]:
    """Pupils present in both works, grouped by (mark before, mark after), with the primary sums; the
    school is the school of the later work."""
    work = eng.backend.table(work_table)
    a = work.filter((work.assessment_id == before_id) & ~work.absent).select(
        pa="pupil_id", mark_a="mark", score_a="primary_score")
    b = work.filter((work.assessment_id == after_id) & ~work.absent).select(
        pb="pupil_id", school_b="school_id", mark_b="mark", score_b="primary_score")
    if prefix:
        org = eng.raw("organisation").select(org_id="id", org_path="path")
        b = b.join(org, b.school_b == org.org_id).filter(org.org_path.startswith(prefix)).drop("org_id", "org_path")
    joined = a.join(b, a.pa == b.pb)
    grouped = joined.group_by(["mark_a", "mark_b"]).aggregate(
        n=joined.pa.count(),
        scored_a=joined.score_a.notnull().ifelse(1, 0).sum(),
        sum_a=joined.score_a.cast("int64").sum(),
        scored_b=joined.score_b.notnull().ifelse(1, 0).sum(),
        sum_b=joined.score_b.cast("int64").sum(),
    )
    rows = _rows(grouped, ["mark_a", "mark_b", "n", "scored_a", "sum_a", "scored_b", "sum_b"])
    return [(ma, mb, n, sa, ta or 0, sb, tb or 0) for ma, mb, n, sa, ta, sb, tb in rows]
