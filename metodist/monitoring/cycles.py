"""Closing a year's cycle and starting the next: what is not resolved moves on, linked to where it came from.

For an organisation and the academic year Y being closed, every approved roadmap of Y in its subtree is
read with its tracks (`tracks.track_of`). Into the roadmap of Y + 1 for the same organisation, kind and
subject (the draft already made from the latest analysis, or a new draft):
* every indicator whose target is not reached moves on with the same metric, its baseline being its
  latest measured value and its target suggested again (half the remaining gap to the reference, at least
  the minimum step), linked to the same problem field;
* every action still planned or in progress moves on with its dates a year later; the old one is marked
  «перенесено в следующий цикл» and points to the new one.
Starting a cycle twice changes nothing: a roadmap already continued is not carried again. The Cycle row
keeps the counts of what was carried. Rules: docs/methods.md, «Следующий цикл»."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from metodist.core.models import AcademicYear, AuditEntry, Organisation
from metodist.monitoring.models import Cycle
from metodist.monitoring.tracks import OPEN, TrackState, track_of
from metodist.planning.metrics import Metric, measure
from metodist.planning.models import (
    ActionStatus,
    Indicator,
    Roadmap,
    RoadmapAction,
    RoadmapEvent,
    RoadmapStatus,
)
from metodist.planning.roadmaps import suggested_target


def _next_year(date: datetime.date | None) -> datetime.date | None:
    if date is None:
        return None
    try:
        return date.replace(year=date.year + 1)
    except ValueError:  # 29 February
        return date.replace(year=date.year + 1, day=28)


def _continuation(roadmap: Roadmap, year: AcademicYear, user) -> tuple[Roadmap, bool]:
    """The roadmap of the next year that continues `roadmap`: an existing one of the same organisation, kind
    and subject that is not approved yet, or a new draft."""
    existing = (Roadmap.objects.filter(organisation=roadmap.organisation, kind=roadmap.kind, subject=roadmap.subject,
                                       academic_year=year).exclude(status=RoadmapStatus.APPROVED)
                .order_by("pk").first())
    if existing is not None:
        if existing.previous_id is None:
            existing.previous = roadmap
            existing.save(update_fields=["previous", "updated_at"])
        return existing, False
    title = roadmap.title.replace(str(roadmap.academic_year), str(year))
    if title == roadmap.title:
        title = f"{roadmap.title} ({year})"
    new = Roadmap.objects.create(kind=roadmap.kind, title=title[:500], organisation=roadmap.organisation,
                                 subject=roadmap.subject, academic_year=year, run=roadmap.run,
                                 mentor_school=roadmap.mentor_school, previous=roadmap, created_by=user)
    return new, True


def _same_metric(a: Indicator, b: Indicator) -> bool:
    return (a.programme, a.subject_id, a.grade, a.scope_id, a.statistic, a.content_element_id, a.skill_id) == (
        b.programme, b.subject_id, b.grade, b.scope_id, b.statistic, b.content_element_id, b.skill_id)


def _carry_indicator(old: Indicator, new_roadmap: Roadmap, latest_year: int) -> tuple[Indicator, bool]:
    """The indicator of the new roadmap with the old one's metric: the one already there, or a new one."""
    from metodist.planning.roadmaps import remeasure

    present = list(new_roadmap.indicators.all())
    same = next((i for i in present if _same_metric(old, i)), None)
    if same is not None:
        return same, False
    indicator = Indicator(
        roadmap=new_roadmap, goal=old.goal, programme=old.programme, subject=old.subject, grade=old.grade,
        scope=old.scope, content_element=old.content_element, skill=old.skill, statistic=old.statistic,
        baseline_year=latest_year, problem_field=old.problem_field, reference=old.reference,
        position=len(present) + 1)
    measured = measure(Metric.of(indicator), latest_year)
    if measured is not None:
        indicator.baseline = measured.value
        indicator.reference = measured.reference if measured.reference is not None else old.reference
    indicator.target = suggested_target(indicator.baseline, indicator.reference,
                                        higher_is_better=indicator.higher_is_better)
    indicator.goal = (_("{goal} (перенесено из цикла {year}: цель не достигнута)").format(
        goal=old.goal, year=old.roadmap.academic_year))[:1000]
    indicator.save()
    remeasure(indicator)
    return indicator, True


@transaction.atomic
def start_next_cycle(organisation: Organisation, start_year: int, user=None) -> Cycle:
    """Close academic year `start_year` for `organisation` and start `start_year + 1`."""
    year = AcademicYear.objects.get_or_create(start_year=start_year + 1)[0]
    cycle, created = Cycle.objects.get_or_create(organisation=organisation, academic_year=year,
                                                 defaults={"started_by": user})
    summary = dict(cycle.summary or {})
    carried_indicators = carried_actions = new_roadmaps = 0
    sources = (Roadmap.objects.filter(status=RoadmapStatus.APPROVED, academic_year__start_year=start_year,
                                      organisation__path__startswith=organisation.path)
               .exclude(continued_by__isnull=False).select_related("academic_year", "organisation", "subject")
               .prefetch_related("indicators__values", "actions"))
    for roadmap in sources:
        tracks = [track_of(i) for i in roadmap.indicators.all()]
        unresolved = [t for t in tracks if t.state != TrackState.REACHED]
        open_actions = [a for a in roadmap.actions.all() if a.status in OPEN]
        target, made = _continuation(roadmap, year, user)
        new_roadmaps += made
        moved = {}
        for track in unresolved:
            latest_year = track.latest.year if track.latest else track.indicator.baseline_year
            moved[track.indicator.pk], made_now = _carry_indicator(track.indicator, target, latest_year)
            carried_indicators += made_now
        position = (max((a.position for a in target.actions.all()), default=0)) + 1
        for action in open_actions:
            RoadmapAction.objects.create(
                roadmap=target, position=position, title=action.title, owner_teacher=action.owner_teacher,
                owner_organisation=action.owner_organisation, owner_text=action.owner_text,
                start=_next_year(action.start), due=_next_year(action.due), expected_result=action.expected_result,
                recommendation=action.recommendation, link_kind=action.link_kind, link_id=action.link_id,
                indicator=moved.get(action.indicator_id), carried_from=action)
            position += 1
            action.status = ActionStatus.CARRIED
            action.save(update_fields=["status"])
            carried_actions += 1
        RoadmapEvent.objects.create(roadmap=target, user=user, action="carried", status=target.status,
                                    comment=_("Перенесено из «{title}»: показателей {i}, мероприятий {a}").format(
                                        title=roadmap.title, i=len(unresolved), a=len(open_actions)))
    summary = {"roadmaps_new": summary.get("roadmaps_new", 0) + new_roadmaps,
               "indicators": summary.get("indicators", 0) + carried_indicators,
               "actions": summary.get("actions", 0) + carried_actions,
               "from_year": start_year}
    cycle.summary = summary
    cycle.save(update_fields=["summary"])
    AuditEntry.objects.create(user=user, action="cycle:start", object_type="cycle", object_id=str(cycle.pk),
                              organisation=organisation, details=summary)
    return cycle
