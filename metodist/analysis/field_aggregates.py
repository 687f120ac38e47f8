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

import numpy as np

from metodist.analysis.engine import quiet

#: The group levels problem fields are computed for, from the finest.
LEVELS = ("class", "teacher", "school", "municipality")
#: Whose solve rate each level is also shown beside (the reference of the decision is the scope's).
PARENT = {"class": "school", "teacher": "school", "school": "municipality", "municipality": "region"}
#: Task levels of the specification (reference.models.Level) in the words of problem_fields.
TASK_LEVELS = {"B": "basic", "P": "advanced", "V": "high"}
#: The federal thresholds of the task levels (problem_fields.BASIC_THRESHOLD, ADVANCED_THRESHOLD).
THRESHOLDS = {"basic": 0.57, "advanced": 0.285, "high": 0.285}

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


def run_cells(eng, assessment_ids: list[int], scope_path: str) -> dict[int, tuple[list[tuple], list[tuple]]]:
    """:func:`cells` of several assessments in two queries (an Ibis query costs tens of milliseconds to
    compile, whatever it reads): assessment id → (counted, summed)."""
    result: dict[int, tuple[list, list]] = {a: ([], []) for a in assessment_ids}
    if not assessment_ids:
        return result
    works = eng.works()
    present = works.filter(works.assessment_id.isin(assessment_ids) & ~works.absent
                           & works.school_path.startswith(scope_path))
    counted = present.group_by(["assessment_id", "school_id", "school_class_id", "teacher_id"]).aggregate(
        n=present.id.count())
    ts = eng.task_scores()
    ts = ts.filter(ts.assessment_id.isin(assessment_ids) & ~ts.absent & ts.school_path.startswith(scope_path))
    summed = ts.group_by(["assessment_id", "school_id", "school_class_id", "teacher_id", "task_id"]).aggregate(
        total=ts.score.cast("int64").sum())
    for row in _rows(counted, ["assessment_id", "school_id", "school_class_id", "teacher_id", "n"]):
        result[row[0]][0].append(row[1:])
    for row in _rows(summed, ["assessment_id", "school_id", "school_class_id", "teacher_id", "task_id", "total"]):
        result[row[0]][1].append(row[1:])
    for counted_rows, _summed in result.values():
        counted_rows.sort(key=lambda r: (r[0], -1 if r[1] is None else r[1], -1 if r[2] is None else r[2]))
    return result


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


@dataclass
class FieldInfo:
    """One field of one assessment: its tasks (numbers), their level (basic / advanced / high / mixed, None
    when a task's level is not known) and its weight (its maximum ÷ the work's)."""

    assessment_id: int
    kind: str
    field_id: int | str
    tasks: list[TaskLink]
    task_level: str | None
    weight: float
    #: the positions of its tasks among the work's (columns of LevelBlock.task_sums)
    columns: list[int] = field(default_factory=list)

    @property
    def numbers(self) -> list[str]:
        return [t.number for t in self.tasks]


@dataclass
class LevelBlock:
    """Every group × field row of one group level of one assessment, as arrays, field by field (all groups
    of the first field, then of the second, …): what :class:`FieldRow` holds row by row, without a Python
    object per row. ``field`` indexes ``fields``; ``parent_level`` is one of the level's parent levels."""

    level: str
    fields: list[FieldInfo]
    field: np.ndarray
    group: np.ndarray
    organisation: np.ndarray
    points: np.ndarray
    possible: np.ndarray
    pupils: np.ndarray
    reference_points: np.ndarray
    reference_possible: np.ndarray
    parent_level: np.ndarray
    parent_id: np.ndarray
    parent_points: np.ndarray
    parent_possible: np.ndarray
    overall_points: np.ndarray
    overall_possible: np.ndarray
    reference_overall_points: float
    reference_overall_possible: float
    #: rows of a mixed field, and those of them with a task below the federal threshold of its own level
    mixed: np.ndarray
    mixed_low: np.ndarray
    #: per row: the index of its group in ``mixed_rates``' matrices; per mixed field: the solve rate of
    #: every group (rows) on every task of the field (columns)
    group_row: np.ndarray | None = None
    mixed_rates: dict = field(default_factory=dict)
    #: per group (rows of ``group_row``) and task of the work: the sum of scores; the tasks' maxima; the
    #: scope's sums per task and its works (to test a field on part of its tasks)
    task_sums: np.ndarray | None = None
    task_max: np.ndarray | None = None
    reference_task_sums: np.ndarray | None = None
    reference_works: float = 0.0

    def __len__(self) -> int:
        return int(self.field.size)

    def task_rates(self, i: int) -> tuple:
        """(level, solve rate) of every task of row i's field when it is mixed, else ()."""
        f = int(self.field[i])
        if f not in self.mixed_rates:
            return ()
        rates = self.mixed_rates[f][int(self.group_row[i])]
        return tuple((t.level, float(r)) for t, r in zip(self.fields[f].tasks, rates, strict=True))


class _Level:
    """The sums of one group level of one assessment: groups in order of first appearance."""

    def __init__(self, name: str, keys: list, cells_n: np.ndarray, cell_sums: np.ndarray):
        self.name = name
        index: dict = {}
        self.cell_group = np.array([-1 if k is None else index.setdefault(k, len(index)) for k in keys],
                                   dtype=np.int64)
        self.keys = np.array(list(index), dtype=np.int64)
        self.index = index
        valid = self.cell_group >= 0
        self.n = np.bincount(self.cell_group[valid], weights=cells_n[valid], minlength=len(index))
        self.sums = np.zeros((len(index), cell_sums.shape[1]))
        np.add.at(self.sums, self.cell_group[valid], cell_sums[valid])


def field_blocks(eng, assessment, scope, *, levels=LEVELS, cells_of=None) -> list[LevelBlock]:
    """Every group × field of one assessment over the scope's subtree, one :class:`LevelBlock` per level.

    Groups without a class or teacher are left out of those levels; a field whose group has no present
    works is left out. Fields: every content element, skill and task type (short / extended) the tasks
    of the specification name. The cells of the engine are summed into every level with array operations
    (a level's sums per task are the sum of its cells'; a field's are the sum over its tasks).
    """
    tasks = task_links(assessment)
    fields = fields_of(tasks)
    if not fields:
        return []
    counted, summed = cells_of if cells_of is not None else cells(eng, assessment.pk, scope.path)
    if not counted:
        return []
    municipality = municipalities_of({c[0] for c in counted})
    cell_index = {(school, klass, teacher): i for i, (school, klass, teacher, _n) in enumerate(counted)}
    task_index = {t.id: j for j, t in enumerate(tasks)}
    cells_n = np.array([c[3] for c in counted], dtype=float)
    cell_sums = np.zeros((len(counted), len(tasks)))
    rows = [(cell_index.get((s, k, t)), task_index.get(task), total) for s, k, t, task, total in summed]
    rows = [r for r in rows if r[0] is not None and r[1] is not None]
    if rows:
        at = np.array([(r[0], r[1]) for r in rows], dtype=np.int64)
        np.add.at(cell_sums, (at[:, 0], at[:, 1]), np.array([r[2] for r in rows], dtype=float))

    schools = [c[0] for c in counted]
    key_of = {
        "class": [c[1] for c in counted], "teacher": [c[2] for c in counted], "school": schools,
        "municipality": [municipality.get(s) for s in schools], "region": [scope.pk] * len(counted),
    }
    sums = {name: _Level(name, key_of[name], cells_n, cell_sums)
            for name in {*levels, "school", "municipality", "region"}}

    maxes = np.array([t.max_score for t in tasks], dtype=float)
    max_primary = float(maxes.sum()) or 1.0
    region = sums["region"]
    infos, columns = [], []
    for (kind, field_id), field_tasks in fields.items():
        cols = [task_index[t.id] for t in field_tasks]
        if not maxes[cols].sum() * region.n[0]:
            continue
        known = {t.level for t in field_tasks}
        task_level = None if None in known else (known.pop() if len(known) == 1 else "mixed")
        infos.append(FieldInfo(assessment.pk, kind, field_id, field_tasks, task_level,
                               float(maxes[cols].sum()) / max_primary, cols))
        columns.append(cols)
    if not infos:
        return []
    member = np.zeros((len(tasks), len(infos)))
    for f, cols in enumerate(columns):
        member[cols, f] = 1.0
    field_max = maxes @ member

    def points_possible(level: _Level):
        return level.sums @ member, level.n[:, None] * field_max[None, :]

    ref_points, ref_possible = points_possible(region)
    totals = {name: points_possible(level) for name, level in sums.items()}
    mixed_fields = [f for f, info in enumerate(infos) if info.task_level == "mixed"]

    # the school of a class or teacher: the one with most of its works (the smallest id on a tie)
    def schools_of(level: _Level) -> np.ndarray:
        if level.name in ("school", "municipality"):
            return level.keys
        works: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        for group, school, n in zip(level.cell_group.tolist(), schools, cells_n.tolist(), strict=True):
            if group >= 0:
                works[group][school] += n
        return np.array([max(works[g], key=lambda s: (works[g][s], -s)) for g in range(len(level.keys))],
                        dtype=np.int64)

    blocks = []
    school_level = sums["school"]
    muni_level = sums["municipality"]
    for name in levels:
        level = sums[name]
        groups = len(level.keys)
        if not groups:
            continue
        points, possible = totals[name]
        organisation = schools_of(level)
        if name in ("class", "teacher"):
            parent_level = np.full(groups, "school", dtype=object)
            parent_row = np.array([school_level.index[s] for s in organisation.tolist()], dtype=np.int64)
            parent_points, parent_possible = (totals["school"][0][parent_row], totals["school"][1][parent_row])
            parent_id = organisation.copy()
        elif name == "school":
            munis = [municipality.get(s) for s in organisation.tolist()]
            parent_level = np.array(["region" if m is None else "municipality" for m in munis], dtype=object)
            parent_id = np.array([scope.pk if m is None else m for m in munis], dtype=np.int64)
            parent_points, parent_possible = np.empty_like(points), np.empty_like(points)
            for g, m in enumerate(munis):
                source, row = (totals["region"], 0) if m is None else (totals["municipality"], muni_level.index[m])
                parent_points[g], parent_possible[g] = source[0][row], source[1][row]
        else:
            parent_level = np.full(groups, "region", dtype=object)
            parent_id = np.full(groups, scope.pk, dtype=np.int64)
            parent_points = np.repeat(ref_points, groups, axis=0)
            parent_possible = np.repeat(ref_possible, groups, axis=0)
        overall_points = level.sums.sum(axis=1)
        overall_possible = level.n * float(maxes.sum())
        mixed = np.zeros((groups, len(infos)), dtype=bool)
        mixed_low = np.zeros((groups, len(infos)), dtype=bool)
        rates_of = {}
        for f in mixed_fields:
            cols = columns[f]
            with np.errstate(invalid="ignore", divide="ignore"):
                rates = level.sums[:, cols] / (maxes[cols][None, :] * level.n[:, None])
            limits = np.array([THRESHOLDS[infos[f].tasks[i].level] for i in range(len(cols))])
            mixed[:, f] = True
            mixed_low[:, f] = (rates < limits[None, :] - 1e-9).any(axis=1)
            rates_of[f] = rates
        # field by field: the transposed matrices, flattened; rows with nothing possible are left out
        keep = (possible.T > 0).ravel()
        field_of = np.repeat(np.arange(len(infos)), groups)[keep]
        group_row = np.tile(np.arange(groups), len(infos))[keep]

        def flat(matrix, keep=keep):
            return matrix.T.ravel()[keep]

        blocks.append(LevelBlock(
            level=name, fields=infos, field=field_of, group=level.keys[group_row],
            organisation=organisation[group_row], points=flat(points), possible=flat(possible),
            pupils=level.n[group_row].astype(np.int64),
            reference_points=ref_points[0, field_of], reference_possible=ref_possible[0, field_of],
            parent_level=parent_level[group_row], parent_id=parent_id[group_row],
            parent_points=flat(parent_points), parent_possible=flat(parent_possible),
            overall_points=overall_points[group_row], overall_possible=overall_possible[group_row],
            reference_overall_points=float(region.sums.sum()), reference_overall_possible=float(region.n[0] * maxes.sum()),
            mixed=flat(mixed), mixed_low=flat(mixed_low), group_row=group_row, mixed_rates=rates_of,
            task_sums=level.sums, task_max=maxes, reference_task_sums=region.sums[0], reference_works=float(region.n[0]),
        ))
    return blocks


def field_aggregates(eng, assessment, scope, *, levels=LEVELS) -> list[FieldRow]:
    """Every group × field of one assessment (see :func:`field_blocks`), one :class:`FieldRow` each, field
    by field and, within a field, level by level."""
    blocks = field_blocks(eng, assessment, scope, levels=levels)
    rows = []
    for f in range(len(blocks[0].fields) if blocks else 0):
        for b in blocks:
            info = b.fields[f]
            for i in np.flatnonzero(b.field == f).tolist():
                rows.append(FieldRow(
                    assessment_id=info.assessment_id, group_level=b.level, group=int(b.group[i]),
                    organisation_id=int(b.organisation[i]),
                    school_class_id=int(b.group[i]) if b.level == "class" else None,
                    teacher_id=int(b.group[i]) if b.level == "teacher" else None,
                    field_kind=info.kind, field_id=info.field_id, points=float(b.points[i]),
                    possible=float(b.possible[i]), pupils=int(b.pupils[i]), tasks=info.numbers,
                    task_level=info.task_level, task_rates=b.task_rates(i),
                    weight=info.weight, reference_points=float(b.reference_points[i]),
                    reference_possible=float(b.reference_possible[i]), parent_level=str(b.parent_level[i]),
                    parent_id=int(b.parent_id[i]), parent_points=float(b.parent_points[i]),
                    parent_possible=float(b.parent_possible[i]), overall_points=float(b.overall_points[i]),
                    overall_possible=float(b.overall_possible[i]),
                    reference_overall_points=b.reference_overall_points,
                    reference_overall_possible=b.reference_overall_possible,
                ))
    return rows


def run_field_blocks(run, eng, *, levels=LEVELS):
    """:func:`field_blocks` of every assessment of the run (see :func:`run_assessments`), one by one; the
    engine's cells of all of them are read at once."""
    assessments = run_assessments(run)
    cells_of = run_cells(eng, [a.pk for a in assessments], run.scope.path)
    for assessment in assessments:
        yield from field_blocks(eng, assessment, run.scope, levels=levels, cells_of=cells_of.pop(assessment.pk))


def run_field_aggregates(run, eng, *, levels=LEVELS) -> list[FieldRow]:
    """:func:`field_aggregates` of every assessment of the run (see :func:`run_assessments`)."""
    rows: list[FieldRow] = []
    for assessment in run_assessments(run):
        rows.extend(field_aggregates(eng, assessment, run.scope, levels=levels))
    return rows
