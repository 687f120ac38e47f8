"""Matching of stage 3: for a problem field, the practices that address it ranked by their evidence and
the schools and teachers strong on the same content element (preferring a similar social context); for
every low-results school of an analysis run, the mentor schools (школа-шеф) to propose: strong where it is
weak, in similar conditions, near, and not overloaded. The rules and their weights: docs/methods.md,
«Подбор практик, сильных коллег и школы-шефа»."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Count, Q, Sum

from metodist.analysis.problem_fields import MIN_PUPILS, effective_trials, fit_beta_prior, posterior
from metodist.practices import evidence as ev

#: points of solve rate a unit of difference of the social index (ИСС, 0…1) costs a candidate
SOCIAL_PENALTY = 20.0
#: points a mentor school outside the weak school's municipality costs
FAR_PENALTY = 3.0
#: points each school a mentor school already supports costs; at MAX_LOAD it is not proposed
LOAD_PENALTY = 2.0
MAX_LOAD = 2
#: a candidate must have results on at least this share of the weak school's fields
MIN_COVERAGE = 0.5


# --- practices ---------------------------------------------------------------------------------------------

@dataclass
class Match:
    practice: object
    evidence: list
    strength: tuple

    @property
    def best(self):
        """The evidence row that speaks most for the practice."""
        return min(self.evidence, key=lambda r: ev.strength([r]), default=None)


def _ranked(practices, element_ids=(), skill_ids=()) -> list[Match]:
    found = []
    for practice in practices:
        rows = [r for r in practice.evidence.all()
                if (r.content_element_id in element_ids) or (r.skill_id in skill_ids)] or list(practice.evidence.all())
        found.append(Match(practice, rows, ev.strength(rows)))
    found.sort(key=lambda m: (m.strength, m.practice.title, m.practice.pk))
    return found


def practices_for(field, user=None, limit: int = 10) -> list[Match]:
    """The practices addressing the field's content element (or skill), ranked by evidence: results that
    grew first (by the lower bound of the gain), then results steadily above the municipality, then the
    rest. Only those the user sees (every published one)."""
    from metodist.practices.models import Practice

    practices = Practice.objects.visible_to(user) if user is not None else Practice.objects.filter(status="published")
    if field.content_element_id:
        practices = practices.filter(content_elements=field.content_element_id)
    elif field.skill_id:
        practices = practices.filter(skills=field.skill_id)
    else:
        return []
    practices = practices.select_related("school", "subject").prefetch_related("authors", "evidence").distinct()
    return _ranked(practices, {field.content_element_id} - {None}, {field.skill_id} - {None})[:limit]


def practices_for_element(element_id: int, school=None, limit: int = 5) -> list:
    """Published practices on a content element, best evidence first; those of `school` itself after the
    others (a teacher learns from another school). What stage 5 puts into a development route."""
    from metodist.practices.models import Practice, PracticeStatus

    practices = (Practice.objects.filter(status=PracticeStatus.PUBLISHED, content_elements=element_id)
                 .select_related("school").prefetch_related("evidence").distinct())
    ranked = _ranked(practices, {element_id})
    if school is not None:
        ranked.sort(key=lambda m: m.practice.school_id == school.pk)
    return [m.practice for m in ranked[:limit]]


# --- strong schools and teachers --------------------------------------------------------------------------

@dataclass
class Peer:
    level: str  # "school" | "teacher"
    school: object
    teacher: object | None
    works: int
    rate: float  # observed %
    estimate: float  # posterior mean %
    lower: float
    upper: float
    reference: float  # the run's scope, %
    social_gap: float | None  # |ИСС − ИСС of the field's school|
    score: float

    @property
    def above(self) -> float:
        return self.estimate - self.reference


def doubtful_schools(run) -> set[int]:
    """Schools whose results of the run Metodist's objectivity signals put at risk (the dashboards' badge,
    `analysis.dashboards.RISK_SCORE`): their high results are not a strength to learn from."""
    from metodist.analysis.dashboards import RISK_SCORE
    from metodist.analysis.models import ObjectivityResult

    return set(ObjectivityResult.objects.filter(run=run, score__gte=RISK_SCORE).values_list("school", flat=True))


def _task_ids(field) -> list[int]:
    from metodist.reference.models import Task

    tasks = Task.objects.filter(assessment=field.assessment_id)
    if field.content_element_id:
        tasks = tasks.filter(content_elements=field.content_element_id)
    elif field.skill_id:
        tasks = tasks.filter(skills=field.skill_id)
    elif field.task_type:
        tasks = tasks.filter(task_type=field.task_type)
    else:
        return []
    return list(tasks.values_list("pk", flat=True))


def _field_school(field):
    organisation = field.organisation
    return organisation if organisation.kind == "school" else None


def strong_peers(field, *, limit: int = 8) -> dict[str, list[Peer]]:
    """Schools and teachers of the run's scope whose solve rate on the field's tasks is above the scope's
    beyond their 95 % credible interval (the empirical-Bayes posterior of problem fields, so a class of 12
    is not called strong on luck) and whose school's results are not in doubt (`doubtful_schools`), ranked by
    the estimate less SOCIAL_PENALTY × the gap in social index to
    the field's school. The field's own group is left out."""
    from metodist.collection.models import TaskScore
    from metodist.core.models import Organisation, Teacher

    task_ids = _task_ids(field)
    if not task_ids:
        return {"school": [], "teacher": []}
    scope = field.run.scope
    scores = TaskScore.objects.filter(task__in=task_ids, work__assessment=field.assessment_id, work__absent=False,
                                      work__school__path__startswith=scope.path)
    total = scores.aggregate(points=Sum("score"), possible=Sum("task__max_score"))
    if not total["possible"]:
        return {"school": [], "teacher": []}
    reference = total["points"] / total["possible"]
    own_school = _field_school(field)
    doubtful = doubtful_schools(field.run)
    own_index = own_school.social_index if own_school is not None else None
    found = {}
    for level, key in (("school", "work__school"), ("teacher", "work__teacher")):
        rows = [r for r in scores.filter(**{f"{key}__isnull": False}).values(key).annotate(
            points=Sum("score"), possible=Sum("task__max_score"), works=Count("work", distinct=True))
            if r["possible"] and r["works"] >= MIN_PUPILS]
        if not rows:
            found[level] = []
            continue
        rates = np.array([r["points"] / r["possible"] for r in rows])
        trials = effective_trials([r["works"] for r in rows], len(task_ids))
        prior = fit_beta_prior(rates * trials, trials)
        mean, lower, upper = posterior(rates * trials, trials, prior)
        ids = [r[key] for r in rows]
        if level == "school":
            objects = Organisation.objects.in_bulk(ids)
        else:
            objects = Teacher.objects.select_related("school").in_bulk(ids)
        peers = []
        for i, pk in enumerate(ids):
            if lower[i] <= reference:
                continue
            obj = objects[pk]
            school = obj if level == "school" else obj.school
            if school.pk in doubtful:
                continue
            if level == "school" and own_school is not None and pk == own_school.pk:
                continue
            if level == "teacher" and field.teacher_id == pk:
                continue
            gap = abs(school.social_index - own_index) if school.social_index is not None and own_index is not None \
                else None
            score = 100 * mean[i] - SOCIAL_PENALTY * (gap or 0.0)
            peers.append(Peer(level, school, obj if level == "teacher" else None, rows[i]["works"],
                              round(100 * rates[i], 1), round(100 * mean[i], 1), round(100 * lower[i], 1),
                              round(100 * upper[i], 1), round(100 * reference, 1),
                              None if gap is None else round(gap, 2), score))
        peers.sort(key=lambda p: (-p.score, p.school.short_name, p.teacher.full_name if p.teacher else ""))
        found[level] = peers[:limit]
    return found


# --- mentor schools ----------------------------------------------------------------------------------------

@dataclass
class Candidate:
    school: object
    strength: float  # mean points above the scope on the weak school's fields
    covered: int
    social_gap: float | None
    same_municipality: bool
    load: int
    statuses: list[str]
    score: float
    fields: list[tuple[str, float]] = field(default_factory=list)  # (field label, points above)
    pairing: object = None  # the MentorSchool of the year when this school already supports the weak one


@dataclass
class Proposal:
    school: object
    status: object  # SchoolStatus
    fields: list  # the weak school's ProblemFields the proposal is judged on
    candidates: list[Candidate]
    current: list  # MentorSchool pairings of the year already made


def _key(pf) -> tuple:
    return (pf.assessment_id, pf.field_kind, pf.content_element_id, pf.skill_id, pf.task_type)


def _label(pf) -> str:
    what = pf.topic
    return f"{pf.assessment.title}: {what}"


def weak_fields(run, school, limit: int = 12) -> list:
    """The fields a low-results school is weak on: its flagged school-level problem fields, or, when none
    is flagged, its largest gaps below the scope."""
    from metodist.analysis.models import ProblemField

    rows = ProblemField.objects.filter(run=run, group_level="school", organisation=school).select_related(
        "assessment", "content_element", "skill")
    flagged = list(rows.filter(flagged=True).order_by("-priority")[:limit])
    return flagged or list(rows.filter(difference__lt=0).order_by("difference")[:limit])


def _loads(year) -> dict[int, set[int]]:
    """Mentor school → the schools it already supports in the academic year (pairings and transition plans)."""
    from metodist.assistance.models import MentoringStatus, MentorSchool
    from metodist.planning.models import Roadmap, RoadmapKind

    load: dict[int, set[int]] = defaultdict(set)
    for mentor, school in MentorSchool.objects.filter(academic_year__start_year=year).exclude(
            status=MentoringStatus.STOPPED).values_list("mentor_school", "school"):
        load[mentor].add(school)
    for mentor, school in Roadmap.objects.filter(academic_year__start_year=year, kind=RoadmapKind.SCHOOL_TRANSITION,
                                                 mentor_school__isnull=False).values_list("mentor_school", "organisation"):
        load[mentor].add(school)
    return load


def propose_mentor_schools(run, within=None, *, limit: int = 3) -> list[Proposal]:
    """For each low-results school of the run (inside `within` when given), the mentor schools to propose,
    best first. A candidate is a school of the run that is not itself low-results, whose results the
    objectivity signals do not put in doubt, and has results on at
    least MIN_COVERAGE of the weak school's fields; its strength is the mean of its posterior estimate less
    the scope's rate on those fields, in points, and must be positive. Its score: strength − SOCIAL_PENALTY ×
    |ΔИСС| − FAR_PENALTY (another municipality) − LOAD_PENALTY × schools it already supports; a school
    supporting MAX_LOAD others is not proposed."""
    from metodist.analysis.models import ProblemField, SchoolStatus, SchoolStatusKind
    from metodist.assistance.models import MentorSchool
    from metodist.core.models import Organisation

    statuses = SchoolStatus.objects.filter(run=run, kind=SchoolStatusKind.LOW_RESULTS).select_related("school")
    if within is not None:
        statuses = statuses.filter(school__path__startswith=within.path)
    statuses = list(statuses.order_by("school__path"))
    if not statuses:
        return []
    low = set(SchoolStatus.objects.filter(run=run, kind=SchoolStatusKind.LOW_RESULTS).values_list("school", flat=True))
    low |= doubtful_schools(run)  # neither a weak school nor one whose results are in doubt is a mentor
    kinds = defaultdict(list)
    for school_id, kind in SchoolStatus.objects.filter(run=run).exclude(kind=SchoolStatusKind.LOW_RESULTS).values_list(
            "school", "kind"):
        kinds[school_id].append(str(SchoolStatusKind(kind).label))
    year = run.academic_year.start_year + 1
    loads = _loads(year)
    current_of: dict[int, list] = defaultdict(list)  # the pairings of the year already made, one query
    for pairing in MentorSchool.objects.filter(school__in=[s.school_id for s in statuses],
                                               academic_year__start_year=year).select_related("mentor_school"):
        current_of[pairing.school_id].append(pairing)
    proposals = []
    for status in statuses:
        weak = status.school
        fields = weak_fields(run, weak)
        keys = {_key(f): f for f in fields}
        by_school: dict[int, dict[tuple, float]] = defaultdict(dict)
        if keys:
            condition = Q()
            for assessment, kind, element, skill, task_type in keys:
                condition |= Q(assessment_id=assessment, field_kind=kind, content_element_id=element, skill_id=skill,
                               task_type=task_type)
            for row in ProblemField.objects.filter(condition, run=run, group_level="school").exclude(
                    organisation=weak).values("organisation", "assessment_id", "field_kind", "content_element_id",
                                              "skill_id", "task_type", "posterior_mean", "solve_rate", "reference"):
                estimate = row["posterior_mean"] if row["posterior_mean"] is not None else row["solve_rate"]
                key = (row["assessment_id"], row["field_kind"], row["content_element_id"], row["skill_id"],
                       row["task_type"])
                by_school[row["organisation"]][key] = 100 * (estimate - row["reference"])
        need = max(1, math.ceil(MIN_COVERAGE * len(keys)))
        schools = Organisation.objects.in_bulk([pk for pk in by_school if pk not in low])
        candidates = []
        for pk, gaps in by_school.items():
            if pk in low or len(gaps) < need or pk not in schools:
                continue
            school = schools[pk]
            strength = sum(gaps.values()) / len(gaps)
            if strength <= 0:
                continue
            supported = loads.get(pk, set()) - {weak.pk}
            if len(supported) >= MAX_LOAD:
                continue
            gap = abs(school.social_index - weak.social_index) \
                if school.social_index is not None and weak.social_index is not None else None
            near = school.parent_id == weak.parent_id
            score = strength - SOCIAL_PENALTY * (gap or 0.0) - (0.0 if near else FAR_PENALTY) \
                - LOAD_PENALTY * len(supported)
            candidates.append(Candidate(
                school, round(strength, 1), len(gaps), None if gap is None else round(gap, 2), near, len(supported),
                kinds.get(pk, []), round(score, 1),
                [(_label(keys[k]), round(v, 1)) for k, v in sorted(gaps.items(), key=lambda kv: -kv[1])][:5]))
        candidates.sort(key=lambda c: (-c.score, c.school.short_name))
        current = current_of.get(weak.pk, [])
        paired = {c.mentor_school_id: c for c in current}
        for candidate in candidates[:limit]:
            candidate.pairing = paired.get(candidate.school.pk)
        proposals.append(Proposal(weak, status, fields, candidates[:limit], current))
    return proposals
