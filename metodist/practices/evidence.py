"""The evidence of a practice, counted from the results: how the solve rate of its authors' classes (or of
its school) on each content element or skill it addresses moved from the year before the practice was
taken up to the latest year measured, against the municipality on the same tasks.

For an element e of the codifier family F (``vpr-ma-6``: ВПР mathematics grade 6 of every year), the
solve rate of a group in academic year Y is the points its present works of F's spring Y + 1 work scored
on the tasks checking e over those tasks' maximum (TaskScore sums, as everywhere). With the group's rates
p₀ (year before: `started_year − 1`) and p₁ (latest year ≥ `started_year`) and the municipality's r₀, r₁:

    gain = (p₁ − r₁) − (p₀ − r₀)

— the change relative to the municipality, so that a harder work in one year does not read as a fall. Its
95 % interval uses the binomial variance of each rate over the effective number of trials of
`analysis.problem_fields.effective_trials` (a pupil's results on the tasks of one element are correlated).
Said plainly (EvidenceVerdict): «результаты выросли» when the interval of the gain lies above zero;
«устойчиво выше муниципалитета» when the gain is not shown but the latest rate is above the municipality's
beyond its interval; «недостаточно данных» when either year has fewer than MIN_WORKS works; else «не видно
эффекта». Reasons and limits: docs/methods.md, «Подтверждение практик»."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q, Sum

from metodist.analysis.problem_fields import effective_trials

#: fewer works than this in a year: no statement (the federal rule judges no group under 10 pupils)
MIN_WORKS = 10
Z = 1.959963984540054  # 95 %


@dataclass
class Rate:
    value: float | None  # %
    works: int
    tasks: int

    @property
    def variance(self) -> float:
        """Binomial variance of the rate in %² over the effective trials."""
        if self.value is None or not self.works:
            return math.inf
        p = min(max(self.value / 100, 0.005), 0.995)
        n = float(effective_trials(self.works, max(self.tasks, 1)))
        return 1e4 * p * (1 - p) / n


def family_of(codifier: str) -> tuple[str, str, int] | None:
    """``vpr-ma-6`` → ("VPR", "ma", 6); None when the codifier does not name a family of works."""
    parts = codifier.split("-")
    if len(parts) < 3:
        return None
    try:
        return parts[0].upper(), parts[1], int(parts[-1])
    except ValueError:
        return None


def rate(*, element=None, skill=None, spring: int, works_filter: Q) -> Rate:
    """The solve rate of the works selected by `works_filter` (a Q over Work) on the tasks of the spring's
    work that check the element (or skill)."""
    from metodist.collection.models import TaskScore, Work
    from metodist.reference.models import Task

    tasks = Task.objects.filter(assessment__year=spring)
    tasks = tasks.filter(content_elements=element) if element is not None else tasks.filter(skills=skill)
    links = list(tasks.values_list("pk", "assessment_id"))
    if not links:
        return Rate(None, 0, 0)
    task_ids = [pk for pk, _a in links]
    assessments = {a for _pk, a in links}
    works = Work.objects.filter(works_filter, absent=False, assessment__in=assessments)
    scored = TaskScore.objects.filter(task__in=task_ids, work__in=works.values("pk")).aggregate(
        points=Sum("score"), possible=Sum("task__max_score"), works=Count("work", distinct=True))
    if not scored["possible"]:
        return Rate(None, 0, len(task_ids))
    return Rate(100.0 * (scored["points"] or 0) / scored["possible"], scored["works"],
                round(len(task_ids) / len(assessments)))


def _group_filter(practice) -> Q:
    from metodist.practices.models import EvidenceScope

    if practice.evidence_scope == EvidenceScope.TEACHER:
        return Q(teacher__in=list(practice.authors.values_list("pk", flat=True)))
    return Q(school__path__startswith=practice.school.path)


def _reference(practice):
    """The municipality the practice's school belongs to (its parent), or the school's root."""
    school = practice.school
    return school.parent if school.parent_id else school


def springs_of(element=None, skill=None) -> list[int]:
    """The springs in which a work with results checks the element (or skill)."""
    from metodist.collection.models import Work

    works = Work.objects.filter(absent=False)
    works = works.filter(assessment__tasks__content_elements=element) if element is not None \
        else works.filter(assessment__tasks__skills=skill)
    return sorted(set(works.values_list("assessment__year", flat=True).distinct()))


def evidence_of(practice, *, element=None, skill=None) -> dict:
    """The fields of one PracticeEvidence row (not saved)."""
    from metodist.practices.models import EvidenceVerdict

    reference = _reference(practice)
    row = {"content_element": element, "skill": skill, "scope": practice.evidence_scope,
           "reference_name": reference.short_name, "before_year": None, "after_year": None, "before": None,
           "after": None, "reference_before": None, "reference_after": None, "works_before": 0, "works_after": 0,
           "gain": None, "gain_lower": None, "gain_upper": None, "level_lower": None,
           "verdict": EvidenceVerdict.INSUFFICIENT}
    springs = springs_of(element, skill)
    if not springs or practice.started_year is None:
        return row
    group, whole = _group_filter(practice), Q(school__path__startswith=reference.path)
    before_spring = practice.started_year  # spring of the year before the practice began
    after_springs = [s for s in springs if s > practice.started_year]
    if after_springs:
        after_spring = after_springs[-1]
        p1, r1 = rate(element=element, skill=skill, spring=after_spring, works_filter=group), \
            rate(element=element, skill=skill, spring=after_spring, works_filter=whole)
        row.update(after_year=after_spring - 1, after=_round(p1.value), reference_after=_round(r1.value),
                   works_after=p1.works)
        if p1.value is not None and r1.value is not None and p1.works >= MIN_WORKS:
            row["level_lower"] = _round(p1.value - r1.value - Z * math.sqrt(p1.variance + r1.variance))
    else:
        p1 = r1 = None
    if before_spring in springs:
        p0, r0 = rate(element=element, skill=skill, spring=before_spring, works_filter=group), \
            rate(element=element, skill=skill, spring=before_spring, works_filter=whole)
        row.update(before_year=before_spring - 1, before=_round(p0.value), reference_before=_round(r0.value),
                   works_before=p0.works)
    else:
        p0 = r0 = None
    complete = all(r is not None and r.value is not None for r in (p0, r0, p1, r1))
    if not complete or p0.works < MIN_WORKS or p1.works < MIN_WORKS:
        if p1 is not None and row["level_lower"] is not None and row["level_lower"] > 0 and p1.works >= MIN_WORKS:
            row["verdict"] = EvidenceVerdict.HIGH_LEVEL
        return row
    gain = (p1.value - r1.value) - (p0.value - r0.value)
    half = Z * math.sqrt(p0.variance + r0.variance + p1.variance + r1.variance)
    row.update(gain=_round(gain), gain_lower=_round(gain - half), gain_upper=_round(gain + half))
    if gain - half > 0:
        row["verdict"] = EvidenceVerdict.IMPROVED
    elif row["level_lower"] is not None and row["level_lower"] > 0:
        row["verdict"] = EvidenceVerdict.HIGH_LEVEL
    else:
        row["verdict"] = EvidenceVerdict.NO_EFFECT
    return row


@transaction.atomic
def recompute(practice) -> list:
    """Count the practice's evidence anew: one row per content element and skill it addresses."""
    from metodist.practices.models import PracticeEvidence

    PracticeEvidence.objects.filter(practice=practice).delete()
    rows = [PracticeEvidence(practice=practice, **evidence_of(practice, element=e))
            for e in practice.content_elements.all()]
    rows += [PracticeEvidence(practice=practice, **evidence_of(practice, skill=s)) for s in practice.skills.all()]
    return PracticeEvidence.objects.bulk_create(rows)


def recompute_for_assessment(assessment) -> int:
    """After an import: the practices on an element or skill that the assessment's tasks check."""
    from metodist.practices.models import Practice

    practices = Practice.objects.filter(
        Q(content_elements__task__assessment=assessment) | Q(skills__task__assessment=assessment)).distinct()
    count = 0
    for practice in practices:
        recompute(practice)
        count += 1
    return count


RANK = {"improved": 0, "high_level": 1, "no_effect": 2, "insufficient": 3}


def strength(rows) -> tuple:
    """How strongly a practice's evidence rows speak for it, best first when sorted: its best verdict, then
    the lower bound of its gain (or of its level above the municipality)."""
    best = (4, 0.0)
    for row in rows:
        bound = row.gain_lower if row.verdict == "improved" else row.level_lower
        key = (RANK.get(row.verdict, 4), -(bound if bound is not None else -math.inf))
        best = min(best, key)
    return best


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
