"""Indicator tracks and roadmap execution: what stage 6 reads of stage 4.

A track is an approved roadmap's indicator with its measured values year by year (`IndicatorValue`,
re-measured on every import), its target, and a state said plainly: the target is reached; the value
moved beyond the noise (better or worse); it did not move beyond the noise; it is not measured yet. The
noise: a difference of two shares measured on n₁ and n₂ works is taken as real when it exceeds
1.96 · √(p₁(1−p₁)/n₁ + p₂(1−p₂)/n₂) — one work counted as one trial, which overstates the noise of a
solve rate over several tasks and so errs towards «не изменилось» rather than a false «улучшилось».

Execution: per roadmap, the actions done, in progress, due, overdue (past due and not done), and the
roadmaps at risk: a quarter or more of the actions due by today overdue, or an indicator worse than its
baseline. A reminder list gathers every open action due within REMIND_DAYS (or overdue) per owner.
Rules: docs/methods.md, «Мониторинг: показатели и исполнение».
"""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from metodist.planning.models import ActionStatus, Indicator, IndicatorValue, Roadmap, RoadmapStatus

REMIND_DAYS = 30
#: a roadmap is at risk when this share of its actions due by today is overdue
RISK_SHARE = 0.25
Z = 1.96
OPEN = (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)


class TrackState:
    REACHED = "reached"
    IMPROVED = "improved"
    UNCHANGED = "unchanged"
    WORSE = "worse"
    NOT_MEASURED = "not_measured"


STATE_TEXT = {
    TrackState.REACHED: "цель достигнута",
    TrackState.IMPROVED: "улучшилось",
    TrackState.UNCHANGED: "в пределах случайных колебаний",
    TrackState.WORSE: "ухудшилось",
    TrackState.NOT_MEASURED: "ещё не измерено",
}
STATE_CSS = {TrackState.REACHED: "ok", TrackState.IMPROVED: "ok", TrackState.UNCHANGED: "muted",
             TrackState.WORSE: "bad", TrackState.NOT_MEASURED: "info"}


@dataclass
class Track:
    indicator: Indicator
    values: dict[int, IndicatorValue]
    state: str
    baseline: IndicatorValue | None
    latest: IndicatorValue | None
    change: float | None  # latest − baseline, points (sign as measured)
    noise: float | None  # the half-width beyond which a change is taken as real

    @property
    def state_text(self) -> str:
        return _(STATE_TEXT[self.state])

    @property
    def css(self) -> str:
        return STATE_CSS[self.state]


def significant_change(before: IndicatorValue, after: IndicatorValue) -> tuple[float, float]:
    """(after − before, the noise half-width) of two measured shares in %."""
    p1, p2 = (before.value or 0) / 100, (after.value or 0) / 100
    n1, n2 = max(before.works, 1), max(after.works, 1)
    noise = 100 * Z * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return (after.value or 0) - (before.value or 0), noise


def track_of(indicator: Indicator) -> Track:
    values = {v.year: v for v in indicator.values.all() if v.value is not None}
    baseline = values.get(indicator.baseline_year)
    later = [y for y in values if y > indicator.baseline_year]
    latest = values[max(later)] if later else None
    if latest is None:
        return Track(indicator, values, TrackState.NOT_MEASURED, baseline, None, None, None)
    better = indicator.higher_is_better
    if indicator.reaches(latest.value):
        state = TrackState.REACHED
        change, noise = significant_change(baseline, latest) if baseline else (None, None)
        return Track(indicator, values, state, baseline, latest, change, noise)
    if baseline is None:
        return Track(indicator, values, TrackState.UNCHANGED, None, latest, None, None)
    change, noise = significant_change(baseline, latest)
    if abs(change) <= noise:
        state = TrackState.UNCHANGED
    elif (change > 0) == better:
        state = TrackState.IMPROVED
    else:
        state = TrackState.WORSE
    return Track(indicator, values, state, baseline, latest, change, noise)


def approved_roadmaps(user, *, year: int | None = None):
    """The approved roadmaps the user sees (of an academic year), with indicators, values and actions."""
    roadmaps = Roadmap.objects.visible_to(user).filter(status=RoadmapStatus.APPROVED).select_related(
        "organisation", "academic_year", "subject", "mentor_school").prefetch_related(
        Prefetch("indicators", queryset=Indicator.objects.select_related(
            "content_element", "skill", "scope", "subject", "roadmap__academic_year").prefetch_related("values")),
        "actions__owner_teacher", "actions__owner_organisation")
    if year is not None:
        roadmaps = roadmaps.filter(academic_year__start_year=year)
    return list(roadmaps)


@dataclass
class Execution:
    roadmap: Roadmap
    tracks: list[Track]
    total: int
    done: int
    in_progress: int
    overdue: list = field(default_factory=list)
    due: int = 0  # actions whose due date has passed (or is today)
    risks: list[str] = field(default_factory=list)

    @property
    def at_risk(self) -> bool:
        return bool(self.risks)

    @property
    def done_pct(self) -> float | None:
        counted = self.total
        return 100 * self.done / counted if counted else None

    def state_counts(self) -> dict[str, int]:
        counts = defaultdict(int)
        for t in self.tracks:
            counts[t.state] += 1
        return dict(counts)


def execution_of(roadmap: Roadmap, today: datetime.date | None = None) -> Execution:
    today = today or datetime.date.today()
    actions = [a for a in roadmap.actions.all() if a.status not in (ActionStatus.CANCELLED,)]
    tracks = [track_of(i) for i in roadmap.indicators.all()]
    overdue = [a for a in actions if a.status in OPEN and a.due < today]
    due = [a for a in actions if a.due <= today and a.status != ActionStatus.CARRIED]
    result = Execution(roadmap, tracks, len(actions), sum(a.status == ActionStatus.DONE for a in actions),
                       sum(a.status == ActionStatus.IN_PROGRESS for a in actions), overdue, len(due))
    if due and len(overdue) / len(due) >= RISK_SHARE:
        result.risks.append(_("просрочено {n} из {due} мероприятий, чей срок наступил").format(
            n=len(overdue), due=len(due)))
    worse = [t for t in tracks if t.state == TrackState.WORSE]
    if worse:
        result.risks.append(_("ухудшились показатели: {items}").format(
            items=", ".join(str(t.indicator.position) for t in worse)))
    return result


@dataclass
class Reminder:
    owner: str
    actions: list  # (roadmap, action, overdue: bool)


def reminders(roadmaps: list[Roadmap], today: datetime.date | None = None, days: int = REMIND_DAYS) -> list[Reminder]:
    """Open actions due within `days` or overdue, per owner, the most pressing first."""
    today = today or datetime.date.today()
    horizon = today + datetime.timedelta(days=days)
    by_owner: dict[str, list] = defaultdict(list)
    for roadmap in roadmaps:
        for action in roadmap.actions.all():
            if action.status in OPEN and action.due <= horizon:
                by_owner[action.owner or _("ответственный не указан")].append(
                    (roadmap, action, action.due < today))
    found = [Reminder(owner, sorted(items, key=lambda item: item[1].due)) for owner, items in by_owner.items()]
    return sorted(found, key=lambda r: (-sum(o for _r, _a, o in r.actions), r.actions[0][1].due, r.owner))
