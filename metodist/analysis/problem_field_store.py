"""Problem fields of an analysis run, stored: the aggregates of field_aggregates, the decisions of
problem_fields (the specific-gap test and the federal rule), one ProblemField row per group × field that either
decision marks. Definitions and reasons: docs/methods.md, «Проблемные поля: из данных в решения».
"""

from __future__ import annotations

from collections import Counter

from django.utils.translation import gettext as _

from metodist.analysis import field_aggregates as fa
from metodist.analysis.problem_fields import INSUFFICIENT, FieldAggregate, problem_fields

#: What every level is compared with: the run's scope (the region), as the federal reports do.
REFERENCE_LEVEL = "region"

PARENT_NAMES = {"school": "школы", "municipality": "муниципалитета", "region": "региона"}


def _pct(value: float) -> str:
    return f"{100 * value:.1f}".replace(".", ",")


def decide(rows: list[fa.FieldRow]) -> list[tuple[fa.FieldRow, object]]:
    """problem_fields() once per group level (all groups and fields of the level in one call, so the prior
    of each level × field is fitted across all its groups); the field key includes the assessment."""
    decided = []
    for level in fa.LEVELS:
        mine = [r for r in rows if r.group_level == level]
        if not mine:
            continue
        results = problem_fields([
            FieldAggregate(
                group=r.group, group_level=level, field=(r.assessment_id, r.field_kind, r.field_id),
                points=r.points, possible=r.possible, pupils=r.pupils, tasks=len(r.tasks),
                reference_points=r.reference_points, reference_possible=r.reference_possible,
                weight=r.weight, task_level=r.task_level, task_rates=r.task_rates or None,
                overall_points=r.overall_points, overall_possible=r.overall_possible,
                reference_overall_points=r.reference_overall_points,
                reference_overall_possible=r.reference_overall_possible,
            )
            for r in mine
        ])
        decided.extend(zip(mine, results, strict=True))
    return decided


def store(run, engine) -> dict:
    """Compute the problem fields of the run and store, in bulk, every group × field that is flagged
    statistically or insufficient by the federal rule (the others are not stored: they are most rows and
    say «no problem»). Returns {"problem_fields": stored, "flagged": flagged, "by_level": {level:
    {"stored": n, "flagged": n}}, "assessments": n}."""
    from metodist.analysis.models import FieldKind, ProblemField

    rows = fa.run_field_aggregates(run, engine)
    objects = []
    for row, result in decide(rows):
        if not (result.flagged or result.federal_verdict == INSUFFICIENT):
            continue
        explanation = result.explanation
        if row.parent_rate is not None and row.parent_level != REFERENCE_LEVEL:
            explanation += " " + _("Для сравнения: решаемость {parent} — {rate} %.").format(
                parent=_(PARENT_NAMES[row.parent_level]), rate=_pct(row.parent_rate))
        objects.append(ProblemField(
            run=run, assessment_id=row.assessment_id, group_level=row.group_level,
            organisation_id=row.organisation_id, school_class_id=row.school_class_id, teacher_id=row.teacher_id,
            field_kind=row.field_kind,
            content_element_id=row.field_id if row.field_kind == FieldKind.CONTENT_ELEMENT else None,
            skill_id=row.field_id if row.field_kind == FieldKind.SKILL else None,
            task_type=row.field_id if row.field_kind == FieldKind.TASK_TYPE else "",
            tasks=row.tasks, pupils=row.pupils, solve_rate=result.solve_rate, reference=result.reference,
            reference_level=REFERENCE_LEVEL, difference=result.difference, posterior_mean=result.posterior_mean,
            lower=result.lower, upper=result.upper, p_value=result.p_value, flagged=result.flagged,
            priority=result.priority, federal_verdict=result.federal_verdict, agreement=result.agreement,
            explanation=explanation,
        ))
    ProblemField.objects.bulk_create(objects, batch_size=1000)
    stored = Counter(o.group_level for o in objects)
    flagged = Counter(o.group_level for o in objects if o.flagged)
    return {
        "problem_fields": len(objects),
        "flagged": sum(flagged.values()),
        "by_level": {level: {"stored": stored[level], "flagged": flagged[level]} for level in fa.LEVELS},
        "assessments": len({r.assessment_id for r in rows}),
    }
