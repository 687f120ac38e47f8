"""Problem-field aggregates of an analysis run: one row per group × field × assessment.

For every assessment of the run's year with results in the run's scope, the engine does two grouped
sums over the present works (per school × class × teacher: the number of works; per school × class ×
teacher × task: the sum of scores). Those cells are small (classes × tasks, not pupils). The links of
tasks to content elements, skills and task types are read with the ORM once per assessment, and every
level (class, teacher, school, municipality, and the scope itself as the reference) is the sum of its
cells here, in Python. Definitions and reasons: docs/methods.md, «Проблемные поля: из данных в решения».
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from metodist.analysis.engine import quiet

#: The group levels problem fields are computed for, from the finest.
LEVELS = ("class", "teacher", "school", "municipality")
#: Whose solve rate each level is also shown beside (the reference of the decision is the scope's).
PARENT = {"class": "school", "teacher": "school", "school": "municipality", "municipality": "region"}
#: Task levels of the specification (reference.models.Level) in the words of problem_fields.
TASK_LEVELS = {"B": "basic", "P": "advanced", "V": "high"}

CONTENT_ELEMENT = "content_element"
SKILL = "skill"
TASK_TYPE = "task_type"


@dataclass
class TaskLink:
    """One task of an assessment with what it checks."""

    id: int
    number: str
    position: int
    max_score: int
    level: str | None  # basic / advanced / high, None when the specification does not say
    task_type: str  # short / extended / "" when not known
    content_elements: list[int] = field(default_factory=list)
    skills: list[int] = field(default_factory=list)


@dataclass
class FieldRow:
    """One group × field of one assessment, with the scope's (region's) and the parent level's figures.

    ``group`` is the id of the class, teacher, school or municipality; ``organisation_id`` the school of a
    class or teacher, else the group itself. ``field_id`` is a content element or skill id, or the task
    type (``short`` / ``extended``). ``points`` is the sum of the scores on the field's tasks, ``possible``
    the sum of their maxima times the present works, ``pupils`` the present works. ``reference_*`` are the
    same sums over the whole scope, ``parent_*`` over the parent level (``parent_level``); ``overall_*`` and
    ``reference_overall_*`` the group's and the scope's sums over all tasks of the work.
    """

    assessment_id: int
    group_level: str
    group: int
    organisation_id: int
    school_class_id: int | None
    teacher_id: int | None
    field_kind: str
    field_id: int | str
    points: float
    possible: float
    pupils: int
    tasks: list[str]
    task_level: str | None
    task_rates: tuple
    weight: float
    reference_points: float
    reference_possible: float
    parent_level: str
    parent_id: int | None
    parent_points: float | None
    parent_possible: float | None
    #: The group's and the scope's sums over ALL tasks of the work (for the expected rate on the field).
    overall_points: float | None = None
    overall_possible: float | None = None
    reference_overall_points: float | None = None
    reference_overall_possible: float | None = None

    @property
    def solve_rate(self) -> float:
        return self.points / self.possible

    @property
    def reference(self) -> float:
        return self.reference_points / self.reference_possible

    @property
    def parent_rate(self) -> float | None:
        return self.parent_points / self.parent_possible if self.parent_possible else None


def run_assessments(run) -> list:
    """The assessments of the run's year (spring of start_year + 1) with works in the run's scope."""
    from metodist.collection.models import Work
    from metodist.reference.models import Assessment

    ids = (Work.objects.filter(assessment__year=run.academic_year.start_year + 1,
                               school__path__startswith=run.scope.path)
           .values_list("assessment_id", flat=True).distinct())
    return list(Assessment.objects.filter(pk__in=list(ids)).order_by("code"))


def task_links(assessment) -> list[TaskLink]:
    """The tasks of an assessment with their content elements, skills, level and type (three queries)."""
    tasks = assessment.tasks.order_by("position").prefetch_related("content_elements", "skills")
    return [
        TaskLink(t.pk, t.number, t.position, t.max_score, TASK_LEVELS.get(t.level), t.task_type or "",
                 sorted(c.pk for c in t.content_elements.all()), sorted(s.pk for s in t.skills.all()))
        for t in tasks
    ]


def fields_of(tasks: list[TaskLink]) -> dict[tuple[str, int | str], list[TaskLink]]:
    """Field (kind, id) → its tasks, in task order: every content element, skill and known task type."""
    found: dict[tuple[str, int | str], list[TaskLink]] = defaultdict(list)
    for task in tasks:
        for element in task.content_elements:
            found[(CONTENT_ELEMENT, element)].append(task)
        for skill in task.skills:
            found[(SKILL, skill)].append(task)
        if task.task_type:
            found[(TASK_TYPE, task.task_type)].append(task)
    return dict(found)


def cells(eng, assessment_id: int, scope_path: str) -> tuple[list[tuple], list[tuple]]:
    """The engine's two grouped sums over the present works of the scope: (school, class, teacher, works)
    and (school, class, teacher, task, sum of scores)."""
    works = eng.works(assessment_id)
    present = works.filter(~works.absent & works.school_path.startswith(scope_path))
    counted = present.group_by(["school_id", "school_class_id", "teacher_id"]).aggregate(n=present.id.count())
    ts = eng.task_scores(assessment_id)
    ts = ts.filter(~ts.absent & ts.school_path.startswith(scope_path))
    summed = ts.group_by(["school_id", "school_class_id", "teacher_id", "task_id"]).aggregate(
        total=ts.score.cast("int64").sum())
    return (_rows(counted, ["school_id", "school_class_id", "teacher_id", "n"]),
            _rows(summed, ["school_id", "school_class_id", "teacher_id", "task_id", "total"]))


def _rows(expr, columns: list[str]) -> list[tuple]:
    with quiet():
        table = expr.select(*columns).to_pyarrow()
    data = [table.column(c).to_pylist() for c in columns]
    return [tuple(None if v is None else int(v) for v in row) for row in zip(*data, strict=True)]


def municipalities_of(school_ids) -> dict[int, int | None]:
    """School id → the id of its nearest municipality ancestor (None when it has none)."""
    from metodist.core.models import Organisation, OrganisationKind

    paths = dict(Organisation.objects.filter(pk__in=list(school_ids)).values_list("pk", "path"))
    ancestors = {int(step) for path in paths.values() for step in path.strip("/").split("/")[:-1]}
    municipal = set(Organisation.objects.filter(pk__in=ancestors, kind=OrganisationKind.MUNICIPALITY)
                    .values_list("pk", flat=True))
    result = {}
    for school, path in paths.items():
        steps = [int(s) for s in path.strip("/").split("/")[:-1]]
        result[school] = next((s for s in reversed(steps) if s in municipal), None)
    return result


def field_aggregates(eng, assessment, scope, *, levels=LEVELS) -> list[FieldRow]:
    """Every group × field of one assessment over the scope's subtree (see :class:`FieldRow`).

    Groups without a class or teacher are left out of those levels; a field whose group has no present
    works is left out. Fields: every content element, skill and task type (short / extended) the tasks
    of the specification name.
    """
    tasks = task_links(assessment)
    fields = fields_of(tasks)
    if not fields:
        return []
    counted, summed = cells(eng, assessment.pk, scope.path)
    if not counted:
        return []
    municipality = municipalities_of({c[0] for c in counted})
    # cell → group key of every level (None = not in that level); the scope is the reference
    def keys(school, klass, teacher):
        return {"class": klass, "teacher": teacher, "school": school, "municipality": municipality.get(school),
                "region": scope.pk}

    n: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    sums: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    school_works: dict[tuple[str, int], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for school, klass, teacher, works in counted:
        for level, key in keys(school, klass, teacher).items():
            if key is not None:
                n[level][key] += works
                school_works[(level, key)][school] += works
    for school, klass, teacher, task, total in summed:
        for level, key in keys(school, klass, teacher).items():
            if key is not None:
                sums[level][key][task] += total

    max_primary = sum(t.max_score for t in tasks) or 1

    def totals(level, key, field_tasks):
        pupils = n[level].get(key, 0)
        got = sums[level].get(key, {})
        points = sum(got.get(t.id, 0) for t in field_tasks)
        possible = sum(t.max_score for t in field_tasks) * pupils
        return points, possible, pupils

    def school_of(level, key):
        if level in ("school", "municipality"):
            return key
        by_school = school_works[(level, key)]
        return max(by_school, key=lambda s: (by_school[s], -s))

    rows = []
    region = scope.pk
    overall = {(level, key): totals(level, key, tasks) for level in levels for key in n[level]}
    ref_overall = totals("region", region, tasks)
    for (kind, field_id), field_tasks in fields.items():
        ref_points, ref_possible, _pupils = totals("region", region, field_tasks)
        if not ref_possible:
            continue
        known = {t.level for t in field_tasks}
        task_level = None if None in known else (known.pop() if len(known) == 1 else "mixed")
        weight = sum(t.max_score for t in field_tasks) / max_primary
        for level in levels:
            for key in n[level]:
                points, possible, pupils = totals(level, key, field_tasks)
                if not possible:
                    continue
                task_rates = ()
                if task_level == "mixed":
                    got = sums[level].get(key, {})
                    task_rates = tuple((t.level, got.get(t.id, 0) / (t.max_score * pupils)) for t in field_tasks)
                school = school_of(level, key)
                parent_level = PARENT[level]
                parent = {"school": school, "municipality": municipality.get(school), "region": region}[parent_level]
                if parent_level == "municipality" and parent is None:
                    parent_level, parent = "region", region
                p_points, p_possible, _p = totals(parent_level, parent, field_tasks)
                rows.append(FieldRow(
                    assessment_id=assessment.pk, group_level=level, group=key, organisation_id=school,
                    school_class_id=key if level == "class" else None,
                    teacher_id=key if level == "teacher" else None,
                    field_kind=kind, field_id=field_id, points=float(points), possible=float(possible),
                    pupils=pupils, tasks=[t.number for t in field_tasks], task_level=task_level,
                    task_rates=task_rates, weight=weight, reference_points=float(ref_points),
                    reference_possible=float(ref_possible), parent_level=parent_level, parent_id=parent,
                    parent_points=float(p_points), parent_possible=float(p_possible),
                    overall_points=float(overall[(level, key)][0]), overall_possible=float(overall[(level, key)][1]),
                    reference_overall_points=float(ref_overall[0]),
                    reference_overall_possible=float(ref_overall[1]),
                ))
    return rows


def run_field_aggregates(run, eng, *, levels=LEVELS) -> list[FieldRow]:
    """:func:`field_aggregates` of every assessment of the run (see :func:`run_assessments`)."""
    rows: list[FieldRow] = []
    for assessment in run_assessments(run):
        rows.extend(field_aggregates(eng, assessment, run.scope, levels=levels))
    return rows
