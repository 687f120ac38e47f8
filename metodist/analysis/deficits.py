"""Teacher deficits of an academic year: personal (a teacher's diagnostics below the threshold on a topic,
with his classes' solve rate on the same content element beside the region's), corporate (the topics of a
subject on which most teachers of a school or of a municipality are weak, with attestation notes and the
associations' recorded findings), and the olympiad table of gifted pupils against enrolment.

The engine aggregates task scores per teacher × task and per task (sums of scores and counts of present
works); the rest is computed here. Definitions and reasons: docs/methods.md, «Классификация школ и
дефициты учителей».
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from metodist.analysis.engine import quiet

#: a diagnostic topic is weak below this share of its maximum
WEAK_SHARE = 0.5
#: a class's solve rate this many percentage points below the region's confirms a personal deficit
CLASS_GAP = 15.0
#: a corporate deficit: more than this share of the diagnosed teachers weak on a topic …
CORPORATE_SHARE = 0.5
#: … among at least this many diagnosed teachers
CORPORATE_MIN_TEACHERS = 3


@dataclass
class TopicScore:
    teacher_id: int
    school_id: int
    subject_id: int
    topic: str
    content_element_id: int | None
    competence_area: str
    score: float
    max_score: float
    diagnostic: str
    taken_on: dt.date

    @property
    def share(self) -> float:
        return self.score / self.max_score if self.max_score else 0.0


@dataclass
class ClassEvidence:
    """A teacher's works on the tasks of one content element in one assessment, beside the region."""

    assessment_id: int
    tasks: list[str]
    works: int
    rate: float  # % of the maximum
    region_rate: float
    overall_rate: float | None = None  # the same works on all tasks of the assessment
    region_overall: float | None = None

    @property
    def gap(self) -> float:
        return self.rate - self.region_rate

    @property
    def specific_gap(self) -> float:
        """The gap on the element less the classes' gap on the whole work: what is particular to the topic,
        not to a generally weaker (or stronger) school or class."""
        if self.overall_rate is None or self.region_overall is None:
            return self.gap
        return self.gap - (self.overall_rate - self.region_overall)


@dataclass
class PersonalDeficit:
    topic: TopicScore
    classes: list[ClassEvidence] = field(default_factory=list)
    attestation: list[str] = field(default_factory=list)

    @property
    def class_gap(self) -> float | None:
        """Works-weighted mean gap of his classes to the region on the element, percentage points."""
        works = sum(c.works for c in self.classes)
        return sum(c.gap * c.works for c in self.classes) / works if works else None

    @property
    def specific_gap(self) -> float | None:
        """Works-weighted mean of the element's gap less the whole work's gap, percentage points."""
        works = sum(c.works for c in self.classes)
        return sum(c.specific_gap * c.works for c in self.classes) / works if works else None

    @property
    def confirmed(self) -> bool:
        gap = self.specific_gap
        return gap is not None and gap <= -CLASS_GAP

    @property
    def severity(self) -> float:
        """(1 − diagnostic share) + max(0, −gap)/100: both sources of evidence add."""
        gap = self.specific_gap
        return round((1 - self.topic.share) + (max(0.0, -gap) / 100 if gap is not None else 0.0), 4)


def weak_topics(scores: list[TopicScore], *, threshold: float = WEAK_SHARE) -> list[TopicScore]:
    """The topic scores below `threshold` of their maximum, the latest diagnostic of a teacher per topic."""
    latest: dict[tuple, TopicScore] = {}
    for s in scores:
        key = (s.teacher_id, s.content_element_id or s.topic, s.competence_area)
        if key not in latest or s.taken_on > latest[key].taken_on:
            latest[key] = s
    return [s for s in latest.values() if s.share < threshold]


def class_rates(teacher_rows, region_rows, task_elements: dict[int, set[int]], task_info: dict[int, tuple]):
    """(teacher, element) → [ClassEvidence per assessment] from the aggregates.

    teacher_rows: (teacher_id, task_id, sum of scores, works); region_rows: (task_id, sum, works);
    task_elements: task → content elements; task_info: task → (assessment_id, number, max_score)."""
    region = {t: (s, n) for t, s, n in region_rows}
    acc: dict[tuple, list] = defaultdict(lambda: [0, 0, 0, 0, set(), 0])  # got, max, rgot, rmax, tasks, works
    overall: dict[tuple, list] = defaultdict(lambda: [0, 0, 0, 0])  # (teacher, assessment) → got, max, rgot, rmax
    for teacher_id, task_id, total, n in teacher_rows:
        assessment_id, number, maximum = task_info.get(task_id, (None, None, 0))
        if not maximum or not n:
            continue
        rsum, rn = region.get(task_id, (0, 0))
        o = overall[(teacher_id, assessment_id)]
        o[0] += total
        o[1] += maximum * n
        o[2] += rsum
        o[3] += maximum * rn
        for element in task_elements.get(task_id, ()):
            a = acc[(teacher_id, element, assessment_id)]
            a[0] += total
            a[1] += maximum * n
            a[2] += rsum
            a[3] += maximum * rn
            a[4].add(number)
            a[5] = max(a[5], n)
    out: dict[tuple[int, int], list[ClassEvidence]] = defaultdict(list)
    for (teacher_id, element, assessment_id), (got, mx, rgot, rmx, tasks, works) in acc.items():
        if mx and rmx:
            o = overall[(teacher_id, assessment_id)]
            out[(teacher_id, element)].append(ClassEvidence(
                assessment_id, sorted(tasks), works, 100 * got / mx, 100 * rgot / rmx,
                100 * o[0] / o[1] if o[1] else None, 100 * o[2] / o[3] if o[3] else None))
    return out


def corporate(scores: list[TopicScore], school_to_parent: dict[int, int], *,
              share: float = CORPORATE_SHARE, minimum: int = CORPORATE_MIN_TEACHERS) -> list[dict]:
    """Topics of a subject on which more than `share` of the diagnosed teachers of a school, or of a
    municipality (its schools together), are weak: [{org, subject, topic, element, area, weak, teachers}]."""
    latest: dict[tuple, TopicScore] = {}
    for s in scores:
        key = (s.teacher_id, s.content_element_id or s.topic, s.competence_area)
        if key not in latest or s.taken_on > latest[key].taken_on:
            latest[key] = s
    groups: dict[tuple, list[TopicScore]] = defaultdict(list)
    for s in latest.values():
        key = (s.subject_id, s.content_element_id, s.topic, s.competence_area)
        groups[(s.school_id, *key)].append(s)
        if s.school_id in school_to_parent:
            groups[(school_to_parent[s.school_id], *key)].append(s)
    out = []
    for (org, subject, element, topic, area), members in groups.items():
        weak = [m for m in members if m.share < WEAK_SHARE]
        if len(members) >= minimum and len(weak) > share * len(members):
            out.append({"organisation": org, "subject": subject, "content_element": element, "topic": topic,
                        "competence_area": area, "weak": len(weak), "teachers": len(members),
                        "mean_share": sum(m.share for m in members) / len(members)})
    return out


def olympiad_table(year, scope_path: str = "") -> list[dict]:
    """Per school × subject of the academic year: olympiad participants (distinct pupils) per stage,
    winners and prize-winners, and enrolment — the distinct pupils of the school with a work of the year
    in the grades the subject's olympiad was written in — with the participation share."""
    from django.db.models import Count

    from metodist.collection.models import OlympiadResult, Work

    results = OlympiadResult.objects.filter(academic_year=year, school__path__startswith=scope_path)
    grades: dict[int, set[int]] = defaultdict(set)
    for subject_id, grade in results.values_list("subject_id", "grade").distinct():
        grades[subject_id].add(grade)
    pupils = defaultdict(lambda: {"participants": set(), "stages": defaultdict(set), "winners": set(),
                                  "prize_winners": set()})
    for school, code, subject_id, subject, pupil, stage, status in results.values_list(
            "school_id", "school__code", "subject_id", "subject__code", "pupil_id", "stage", "status"):
        row = pupils[(school, code, subject_id, subject)]
        row["participants"].add(pupil)
        row["stages"][stage].add(pupil)
        if status == "winner":
            row["winners"].add(pupil)
        elif status == "prize_winner":
            row["prize_winners"].add(pupil)
    enrolled = defaultdict(int)
    all_grades = set().union(*grades.values()) if grades else set()
    works = (Work.objects.filter(assessment__year=year.start_year + 1, school__path__startswith=scope_path,
                                 assessment__grade__in=all_grades)
             .values("school_id", "assessment__grade").annotate(n=Count("pupil_id", distinct=True)))
    for w in works:
        enrolled[(w["school_id"], w["assessment__grade"])] = w["n"]
    table = []
    for (school, code, subject_id, subject), row in sorted(pupils.items(), key=lambda kv: (kv[0][1], kv[0][3])):
        enrolment = sum(enrolled.get((school, g), 0) for g in grades[subject_id])
        n = len(row["participants"])
        table.append({
            "school": code, "subject": subject, "participants": n, "enrolment": enrolment,
            "participation_pct": round(100 * n / enrolment, 1) if enrolment else None,
            "stages": {stage: len(p) for stage, p in sorted(row["stages"].items())},
            "winners": len(row["winners"]), "prize_winners": len(row["prize_winners"]),
            "success_pct": round(100 * (len(row["winners"]) + len(row["prize_winners"])) / n, 1) if n else None,
        })
    return table


# --- database side -----------------------------------------------------------------------------------

def _topic_scores(year, scope_path: str) -> list[TopicScore]:
    from metodist.collection.models import DiagnosticScore

    end = dt.date(year.start_year + 1, 8, 31)
    rows = DiagnosticScore.objects.filter(diagnostic__taken_on__lte=end,
                                          diagnostic__teacher__school__path__startswith=scope_path)
    return [TopicScore(*r) for r in rows.values_list(
        "diagnostic__teacher_id", "diagnostic__teacher__school_id", "diagnostic__subject_id", "topic",
        "content_element_id", "competence_area", "score", "max_score", "diagnostic__title", "diagnostic__taken_on")]


def _aggregates(eng, assessment_ids: list[int]):
    from metodist.analysis.standard_reports import _rows

    if not assessment_ids:
        return [], []
    ts = eng.task_scores()
    ts = ts.filter(ts.assessment_id.isin(assessment_ids) & ~ts.absent)
    by_teacher = ts.filter(ts.teacher_id.notnull()).group_by(["teacher_id", "task_id"]).aggregate(
        total=ts.score.cast("int64").sum(), n=ts.work_id.count())
    by_task = ts.group_by("task_id").aggregate(total=ts.score.cast("int64").sum(), n=ts.work_id.count())
    with quiet():
        return _rows(by_teacher, ["teacher_id", "task_id", "total", "n"]), _rows(by_task, ["task_id", "total", "n"])


def personal(eng, year, scope_path: str) -> list[PersonalDeficit]:
    """The personal deficits of the academic year, with their evidence (plain objects)."""
    from metodist.collection.models import Attestation
    from metodist.reference.models import Assessment, Task

    weak = [s for s in weak_topics(_topic_scores(year, scope_path))]
    assessments = list(Assessment.objects.filter(year=year.start_year + 1).values_list("pk", flat=True))
    teacher_rows, region_rows = _aggregates(eng, assessments)
    tasks = Task.objects.filter(assessment_id__in=assessments)
    task_info = {pk: (a, n, m) for pk, a, n, m in tasks.values_list("pk", "assessment_id", "number", "max_score")}
    task_elements: dict[int, set[int]] = defaultdict(set)
    for task_id, element in Task.content_elements.through.objects.filter(task__in=tasks).values_list(
            "task_id", "contentelement_id"):
        task_elements[task_id].add(element)
    evidence = class_rates(teacher_rows, region_rows, task_elements, task_info)
    notes: dict[tuple[int, str], list[str]] = defaultdict(list)
    end = dt.date(year.start_year + 1, 8, 31)
    for teacher_id, difficulties in Attestation.objects.filter(
            teacher_id__in={s.teacher_id for s in weak}, held_on__lte=end).values_list("teacher_id", "difficulties"):
        for d in difficulties or []:
            notes[(teacher_id, d.get("area", ""))].append(d.get("text", ""))
    out = []
    for s in weak:
        found = PersonalDeficit(s, evidence.get((s.teacher_id, s.content_element_id), []) if s.content_element_id
                                else [])
        found.attestation = [t for t in notes.get((s.teacher_id, s.competence_area), [])
                             if not s.content_element_id or _mentions(t, s.topic)]
        out.append(found)
    return out


def _mentions(text: str, topic: str) -> bool:
    words = [w for w in topic.lower().replace(",", " ").split() if len(w) > 4]
    low = text.lower()
    return any(w[:6] in low for w in words)


def _r(v: float | None, digits: int = 1) -> float | None:
    return None if v is None else round(v, digits)


def store(run, eng) -> dict:
    """Store the run's personal and corporate DeficitProfiles in bulk; the olympiad table in the summary."""
    from metodist.analysis.models import DeficitProfile
    from metodist.collection.models import DeficitScope, ProfessionalDeficit
    from metodist.core.models import Organisation
    from metodist.reference.models import Assessment

    year, path = run.academic_year, run.scope.path
    found = personal(eng, year, path)
    codes = dict(Assessment.objects.filter(year=year.start_year + 1).values_list("pk", "code"))
    rows = []
    for d in found:
        s = d.topic
        classes = [{"assessment": codes.get(c.assessment_id), "tasks": c.tasks, "works": c.works,
                    "class_rate_pct": _r(c.rate), "region_rate_pct": _r(c.region_rate), "gap": _r(c.gap),
                    "work_rate_pct": _r(c.overall_rate), "region_work_rate_pct": _r(c.region_overall),
                    "specific_gap": _r(c.specific_gap)}
                   for c in sorted(d.classes, key=lambda c: codes.get(c.assessment_id) or "")]
        ev = {"diagnostic": {"title": s.diagnostic, "date": s.taken_on.isoformat(), "score": s.score,
                             "max_score": s.max_score, "share_pct": _r(100 * s.share)},
              "classes": classes, "class_gap": _r(d.class_gap), "specific_gap": _r(d.specific_gap), "confirmed_by_results": d.confirmed,
              "attestation": d.attestation, "threshold_pct": 100 * WEAK_SHARE}
        if classes:
            text = _("На диагностике «{title}» по теме «{topic}» получено {score} из {max} баллов; классы учителя "
                     "выполнили задания этой темы на {rate} % при {region} % по всем работам.").format(
                title=s.diagnostic, topic=s.topic, score=f"{s.score:g}", max=f"{s.max_score:g}", rate=_r(
                    sum(c.rate * c.works for c in d.classes) / sum(c.works for c in d.classes)),
                region=_r(sum(c.region_rate * c.works for c in d.classes) / sum(c.works for c in d.classes)))
        else:
            text = _("На диагностике «{title}» по теме «{topic}» получено {score} из {max} баллов.").format(
                title=s.diagnostic, topic=s.topic, score=f"{s.score:g}", max=f"{s.max_score:g}")
        rows.append(DeficitProfile(
            run=run, scope=DeficitScope.PERSONAL, organisation_id=s.school_id, teacher_id=s.teacher_id,
            subject_id=s.subject_id, content_element_id=s.content_element_id, competence_area=s.competence_area,
            topic=s.topic[:500] or s.competence_area, severity=d.severity, evidence=ev, explanation=text))

    parents = dict(Organisation.objects.filter(kind="school", path__startswith=path).values_list("pk", "parent_id"))
    scores = _topic_scores(year, path)
    corp = corporate(scores, parents)
    recorded = list(ProfessionalDeficit.objects.filter(
        scope=DeficitScope.CORPORATE, academic_year=year, organisation__path__startswith=path).values_list(
        "organisation_id", "subject_id", "content_element_id", "topic", "competence_area", "source", "note"))
    recorded_keys = {(o, s, e) for o, s, e, *_rest in recorded}
    for c in corp:
        ev = {"weak_teachers": c["weak"], "diagnosed_teachers": c["teachers"],
              "mean_share_pct": _r(100 * c["mean_share"]),
              "recorded_by_association": (c["organisation"], c["subject"], c["content_element"]) in recorded_keys}
        text = _("По теме «{topic}» {weak} из {teachers} учителей набрали на диагностике меньше половины "
                 "баллов.").format(topic=c["topic"], weak=c["weak"], teachers=c["teachers"])
        rows.append(DeficitProfile(
            run=run, scope=DeficitScope.CORPORATE, organisation_id=c["organisation"], subject_id=c["subject"],
            content_element_id=c["content_element"], competence_area=c["competence_area"],
            topic=c["topic"][:500] or c["competence_area"], severity=round(c["weak"] / c["teachers"], 4),
            evidence=ev, explanation=text))
    corp_keys = {(c["organisation"], c["subject"], c["content_element"]) for c in corp}
    for org, subject, element, topic, area, source, note in recorded:
        if (org, subject, element) in corp_keys:
            continue
        text = _("Дефицит по теме «{topic}» отмечен методическим объединением.").format(topic=topic)
        rows.append(DeficitProfile(
            run=run, scope=DeficitScope.CORPORATE, organisation_id=org, subject_id=subject,
            content_element_id=element, competence_area=area, topic=topic, severity=0.5,
            evidence={"recorded_by_association": True, "source": source, "note": note}, explanation=text))
    # attestation notes of the year by competence area, per school: corporate evidence of their own
    attestation = _attestation_counts(year, path)
    DeficitProfile.objects.bulk_create(rows)
    table = olympiad_table(year, path)
    return {
        "personal": len(found), "personal_confirmed": sum(d.confirmed for d in found),
        "corporate": len(rows) - len(found), "attestation_difficulties": attestation,
        "olympiad": {"rows": len(table), "participants": sum(r["participants"] for r in table),
                     "winners_and_prize_winners": sum(r["winners"] + r["prize_winners"] for r in table),
                     "enrolment": sum(r["enrolment"] for r in table)},
    }


def _attestation_counts(year, path: str) -> dict[str, int]:
    from metodist.collection.models import Attestation

    counts: dict[str, int] = defaultdict(int)
    start, end = dt.date(year.start_year, 9, 1), dt.date(year.start_year + 1, 8, 31)
    for difficulties in Attestation.objects.filter(held_on__range=(start, end),
                                                   teacher__school__path__startswith=path).values_list(
            "difficulties", flat=True):
        for d in difficulties or []:
            counts[d.get("area", "")] += 1
    return dict(counts)
