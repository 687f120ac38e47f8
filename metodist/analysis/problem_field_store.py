"""Problem fields of an analysis run, stored: the aggregates of field_aggregates, the decisions of
problem_fields (the specific-gap test and the federal rule), one ProblemField row per group × field that
is worth keeping (see :func:`store`). Definitions and reasons: docs/methods.md, «Проблемные поля: из данных
в решения».

A region brings hundreds of thousands of group × field rows, so nothing here holds a Python object per
row: the aggregates come as arrays per level and assessment (field_aggregates.LevelBlock), the decisions
are taken on the arrays (problem_fields.decide_columns), and the kept rows are written as plain tuples
(COPY on PostgreSQL, one executemany on SQLite), as the import writes task scores.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import numpy as np
from django.db import connection

from metodist.analysis import field_aggregates as fa
from metodist.analysis.problem_fields import (
    INSUFFICIENT,
    MIXED,
    ProblemFieldResult,
    _,
    _pct,
    agreements,
    decide_columns,
    federal_threshold,
    federal_verdicts,
    part_p_value,
    shared_task_review,
)

#: What every level is compared with: the run's scope (the region), as the federal reports do.
REFERENCE_LEVEL = "region"
#: Levels whose every group × field row is stored (the element × school picture of a region needs them
#: all); at the other levels only the rows a rule marks (see :func:`store`).
EVERY_ROW_LEVELS = ("school", "municipality")

PARENT_NAMES = {"school": "школы", "municipality": "муниципалитета", "region": "региона"}

#: ProblemField's columns as written by :func:`insert_rows`, in the order of the tuples. The explanation is
#: not among them: it is written from the row's numbers when a page or a document shows it
#: (:func:`explain_row`), in the reader's language; ``explanation_text`` is always empty here.
COLUMNS = ("run_id", "assessment_id", "group_level", "organisation_id", "school_class_id", "teacher_id",
           "field_kind", "content_element_id", "skill_id", "task_type", "tasks", "task_level", "pupils",
           "solve_rate", "reference", "reference_level", "difference", "expected", "parent_level", "parent_rate",
           "posterior_mean", "lower", "upper", "p_value", "flagged", "shared_tasks", "priority",
           "federal_verdict", "agreement", "explanation_text")


def _concat(blocks: list[fa.LevelBlock]) -> dict[str, np.ndarray]:
    """The rows of one level over all assessments, as columns; ``stratum`` numbers the (assessment,
    field) pairs, so that each has its own beta prior."""
    offsets = np.cumsum([0] + [len(b.fields) for b in blocks[:-1]])
    infos = [info for b in blocks for info in b.fields]
    columns = {name: np.concatenate([getattr(b, name) for b in blocks]) for name in (
        "group", "organisation", "points", "possible", "pupils", "reference_points", "reference_possible",
        "parent_level", "parent_points", "parent_possible", "overall_points", "overall_possible", "mixed",
        "mixed_low")}
    stratum = np.concatenate([b.field + offset for b, offset in zip(blocks, offsets, strict=True)])
    columns["stratum"] = stratum
    columns["reference_overall_points"] = np.concatenate(
        [np.full(len(b), b.reference_overall_points) for b in blocks])
    columns["reference_overall_possible"] = np.concatenate(
        [np.full(len(b), b.reference_overall_possible) for b in blocks])
    columns["tasks"] = np.array([len(info.tasks) for info in infos], dtype=float)[stratum]
    columns["weight"] = np.array([info.weight for info in infos])[stratum]
    thresholds = np.array([np.nan if info.task_level in (None, MIXED) else federal_threshold(info.task_level)
                           for info in infos], dtype=float)
    columns["threshold"] = thresholds[stratum]
    columns["infos"] = infos
    return columns


def _other_tasks(c: dict) -> tuple[np.ndarray, np.ndarray]:
    """problem_fields._overall on columns: the group's and the reference's rates on the other tasks of the
    work (NaN when unknown)."""
    possible = c["overall_possible"] - c["possible"]
    ref_possible = c["reference_overall_possible"] - c["reference_possible"]
    known = (c["overall_possible"] > 0) & (c["reference_overall_possible"] > 0) & (possible > 0) & (ref_possible > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        own = np.where(known, (c["overall_points"] - c["points"]) / possible, np.nan)
        ref = np.where(known, (c["reference_overall_points"] - c["reference_points"]) / ref_possible, np.nan)
    return own, ref


def decide_level(blocks: list[fa.LevelBlock]) -> dict:
    """The decisions of one group level: problem_fields' specific-gap test (one beta prior per assessment
    × field, one empirical null and Benjamini–Hochberg adjustment across the level) and the federal rule,
    as columns beside the aggregates'."""
    c = _concat(blocks)
    own, ref = _other_tasks(c)
    decided = decide_columns(
        strata=c["stratum"], levels=np.zeros(c["stratum"].size, dtype=np.int64), points=c["points"],
        possible=c["possible"], pupils=c["pupils"], tasks=c["tasks"],
        reference=c["reference_points"] / c["reference_possible"], overall=own, reference_overall=ref,
        weight=c["weight"],
    )
    c.update(decided)
    c["verdict"] = federal_verdicts(c["solve_rate"], c["pupils"], c["threshold"], c["mixed"], c["mixed_low"])
    c["shared"] = review_shared_tasks(c, blocks)
    c["flagged"][c["shared"]] = False
    c["priority"][c["shared"]] = 0.0
    c["agreement"] = agreements(c["flagged"], c["verdict"])
    return c


def review_shared_tasks(c: dict, blocks: list[fa.LevelBlock]) -> np.ndarray:
    """Rows flagged only through tasks they share with a more strongly flagged field of the same group,
    kind and work (problem_fields.shared_task_review): True where the flag is withdrawn."""
    withdrawn = np.zeros(c["flagged"].size, dtype=bool)
    start = 0
    for block in blocks:
        stop = start + len(block)
        flagged = np.flatnonzero(c["flagged"][start:stop]) + start
        by_group: dict[tuple, list[int]] = defaultdict(list)
        for i in flagged.tolist():
            by_group[(int(c["group"][i]), c["infos"][int(c["stratum"][i])].kind)].append(i)
        for rows in by_group.values():
            if len(rows) < 2:
                continue

            def part_p(i: int, tasks: frozenset, block=block, start=start) -> float:
                cols = sorted(tasks)
                g = int(block.group_row[i - start])
                points = float(block.task_sums[g, cols].sum())
                n = float(c["pupils"][i])
                maximum = float(block.task_max[cols].sum())
                ref_points = float(block.reference_task_sums[cols].sum())
                ref_possible = block.reference_works * maximum
                own_possible = c["overall_possible"][i] - n * maximum
                ref_rest = c["reference_overall_possible"][i] - ref_possible
                known = own_possible > 0 and ref_rest > 0
                return part_p_value(
                    points, n * maximum, n, len(cols), ref_points / ref_possible,
                    (c["overall_points"][i] - points) / own_possible if known else np.nan,
                    (c["reference_overall_points"][i] - ref_points) / ref_rest if known else np.nan,
                    c["null_centre"][i], c["null_spread"][i])

            candidates = [(i, c["p_value"][i], c["infos"][int(c["stratum"][i])].columns) for i in rows]
            kept = shared_task_review(candidates, part_p, float(c["p_cutoff"][rows[0]]))
            withdrawn[[i for i in rows if i not in kept]] = True
        start = stop
    return withdrawn


def explain_row(row) -> str:
    """The explanation of a stored ProblemField from its own columns (the same words problem_fields writes
    for an unstored result), in the active language."""
    task_level = row.task_level or None
    threshold = federal_threshold(task_level) if task_level not in (None, MIXED) else None
    expected = float("nan") if row.expected is None else row.expected
    posterior = float("nan") if row.posterior_mean is None else row.posterior_mean
    result = ProblemFieldResult(
        group=None, group_level=row.group_level, field=None, pupils=row.pupils, effective_n=float("nan"),
        solve_rate=row.solve_rate, reference=row.reference, difference=row.difference, prior_mean=0.0,
        shrinkage=0.0, posterior_mean=posterior, lower=0.0, upper=0.0, p_value=0.0, flagged=row.flagged,
        priority=0.0, federal_verdict=row.federal_verdict, federal_threshold=threshold, agreement=row.agreement,
        expected=expected, specific_gap=row.solve_rate - expected, task_level=task_level,
    )
    text = result.explanation
    if row.shared_tasks:
        text += " " + _("Отставание по этому полю приходится на задания, которые проверяют и другое, более "
                        "выраженное проблемное поле этой группы: отдельной проблемой оно не считается.")
    if row.parent_rate is not None and row.parent_level and row.parent_level != REFERENCE_LEVEL:
        text += " " + _("Для сравнения: решаемость {parent} — {rate} %.").format(
            parent=_(PARENT_NAMES[row.parent_level]), rate=_pct(row.parent_rate))
    return text


def level_rows(run_id: int, level: str, c: dict, keep: np.ndarray):
    """The ProblemField tuples (:data:`COLUMNS`) of the kept rows of one level."""
    from metodist.analysis.models import FieldKind

    infos = c["infos"]
    tasks_json = [json.dumps(info.numbers, ensure_ascii=False) for info in infos]
    task_levels = [info.task_level or "" for info in infos]
    with np.errstate(invalid="ignore", divide="ignore"):
        parent_rate = np.where(c["parent_possible"] > 0, c["parent_points"] / np.where(
            c["parent_possible"] > 0, c["parent_possible"], 1), np.nan)
    kept = np.flatnonzero(keep)
    # the columns as Python lists at once (numpy scalars cost more to convert one by one)
    columns = {name: c[name][kept].tolist() for name in (
        "stratum", "group", "organisation", "pupils", "solve_rate", "reference", "flagged", "priority", "verdict",
        "agreement", "shared", "parent_level")}
    nullable = {name: [None if v != v else v for v in c[name][kept].tolist()]
                for name in ("expected", "posterior_mean", "lower", "upper", "p_value")}
    nullable["parent_rate"] = [None if v != v else v for v in parent_rate[kept].tolist()]
    is_class, is_teacher = level == "class", level == "teacher"
    for j, f in enumerate(columns["stratum"]):
        info = infos[f]
        group = columns["group"][j]
        kind = info.kind
        rate, reference = columns["solve_rate"][j], columns["reference"][j]
        yield (
            run_id, info.assessment_id, level, columns["organisation"][j], group if is_class else None,
            group if is_teacher else None, kind,
            info.field_id if kind == FieldKind.CONTENT_ELEMENT else None,
            info.field_id if kind == FieldKind.SKILL else None,
            info.field_id if kind == FieldKind.TASK_TYPE else "",
            tasks_json[f], task_levels[f], int(columns["pupils"][j]), rate, reference, REFERENCE_LEVEL,
            rate - reference, nullable["expected"][j], columns["parent_level"][j] or "", nullable["parent_rate"][j],
            nullable["posterior_mean"][j], nullable["lower"][j], nullable["upper"][j], nullable["p_value"][j],
            columns["flagged"][j], columns["shared"][j], columns["priority"][j], columns["verdict"][j],
            columns["agreement"][j], "",
        )


def insert_rows(rows, *, batch: int = 20_000) -> int:
    """Write ProblemField rows given as tuples of :data:`COLUMNS`, in the caller's transaction: COPY on
    PostgreSQL, executemany in batches on SQLite. Returns how many were written."""
    from metodist.analysis.models import ProblemField

    table = connection.ops.quote_name(ProblemField._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    written = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
            return written
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"
        chunk = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= batch:
                cursor.executemany(sql, chunk)
                written += len(chunk)
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)
            written += len(chunk)
    return written


def store(run, engine) -> dict:
    """Compute the problem fields of the run and store them.

    Stored: at school and municipality level every group × field row (a region's picture of content
    elements by school needs them all, and they are few: one per school, not per class); at class and
    teacher level the rows flagged by the specific-gap test or insufficient by the federal rule (the others
    say «no problem»; their numbers are sums of the works and are recomputed when a page asks for them).
    The explanations are not stored: a page writes them from the row's numbers (ProblemField.explanation).
    Returns {"problem_fields": stored, "flagged": flagged, "by_level": {level: {"stored": n, "flagged": n}},
    "assessments": n}."""
    by_level: dict[str, list[fa.LevelBlock]] = defaultdict(list)
    assessments = set()
    for block in fa.run_field_blocks(run, engine):
        by_level[block.level].append(block)
        assessments.add(block.fields[0].assessment_id)
    stored, flagged = Counter(), Counter()
    for level in fa.LEVELS:
        if not by_level.get(level):
            continue
        c = decide_level(by_level.pop(level))
        if level in EVERY_ROW_LEVELS:
            keep = np.ones(c["flagged"].size, dtype=bool)
        else:
            keep = c["flagged"] | (c["verdict"] == INSUFFICIENT)
        stored[level] = insert_rows(level_rows(run.pk, level, c, keep))
        flagged[level] = int((c["flagged"] & keep).sum())
    return {
        "problem_fields": sum(stored.values()),
        "flagged": sum(flagged.values()),
        "by_level": {level: {"stored": stored[level], "flagged": flagged[level]} for level in fa.LEVELS},
        "assessments": len(assessments),
    }
