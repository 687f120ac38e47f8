"""The effect of help on the content elements it targeted: a difference in differences over teachers.

A piece of help (a course, a development route, a mentorship, a mentor-school pairing) names the teachers
it reached, the content elements it was aimed at and its academic year Y. For every teacher of the
subject and every targeted element, the solve rate of his pupils on the tasks that check the element is
measured in the family's work of the help's own year (spring Y + 1: the baseline, the results the help
was given on) and of the next year (spring Y + 2: the follow-up, the first year taught after the help).
The change of a participant is compared with the change of comparable teachers who did not take part:

    DiD = mean(Δ participants) − mean(Δ comparison),  Δ = rate(follow-up) − rate(baseline),

with a Welch t interval (95 %) over teachers — teachers, not pupils, are the units that got the help, so
the interval does not pretend pupils of one teacher are independent. Comparable: teachers of the same
subject with results on the element in both years, who took no help aimed at it, and whose baseline lies
within the participants' range widened by CALIPER points (a weak class improves more by chance; the
participants were often chosen because they were weak). Said plainly:

* «помогло» — the interval lies above zero;
* «недостаточно данных» — fewer than MIN_UNITS participants or comparison teachers with both years;
* «не видно эффекта» — otherwise (an interval below zero is said too: «результаты снизились»).

Reasons, formula and limits: docs/methods.md, «Эффект помощи». Only counts and sums are read from the
database (portable on SQLite and PostgreSQL); the statistics are SciPy on the per-teacher aggregates.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Sum
from django.utils.translation import gettext as _
from scipy import stats

#: a group needs at least this many teachers with both years for a statement
MIN_UNITS = 3
#: comparison teachers' baseline within the participants' range ± this many points
CALIPER = 10.0
#: confidence level of the interval
LEVEL = 0.95


class Verdict:
    HELPED = "helped"
    NO_EFFECT = "no_effect"
    INSUFFICIENT = "insufficient"


VERDICT_TEXT = {
    Verdict.HELPED: "помогло",
    Verdict.NO_EFFECT: "не видно эффекта",
    Verdict.INSUFFICIENT: "недостаточно данных",
}


@dataclass
class Unit:
    """One teacher on one element: solve rates (%) and works in the two years."""

    teacher_id: int
    element_id: int
    before: float
    after: float
    works_before: int
    works_after: int

    @property
    def change(self) -> float:
        return self.after - self.before


@dataclass
class Effect:
    """The estimate for one piece of help, with the numbers behind it."""

    verdict: str
    did: float | None  # percentage points
    low: float | None
    high: float | None
    participants: list[Unit] = field(default_factory=list)
    comparison: list[Unit] = field(default_factory=list)
    baseline_year: int | None = None  # academic year (first calendar year) of the baseline
    follow_up_year: int | None = None
    participants_total: int = 0  # teachers the help reached
    elements: list[str] = field(default_factory=list)  # «vpr-ma-6 3 …»
    pending: bool = False  # no follow-up results yet (the next spring's works are not loaded)

    @property
    def verdict_text(self) -> str:
        return _(VERDICT_TEXT[self.verdict])

    @property
    def change_participants(self) -> float | None:
        return _mean([u.change for u in self.participants])

    @property
    def change_comparison(self) -> float | None:
        return _mean([u.change for u in self.comparison])

    def explanation(self) -> str:
        if self.verdict == Verdict.INSUFFICIENT and self.pending:
            return _("Результатов весны {spring} по целевым элементам ещё нет: эффект будет измерен после их "
                     "загрузки.").format(spring=self.follow_up_year + 1)
        if self.verdict == Verdict.INSUFFICIENT:
            return _("Результаты по целевым элементам в оба года есть у {p} участников из {total} и у {c} "
                     "сравнимых учителей; для вывода нужно не меньше {n} в каждой группе.").format(
                p=len(self.participants), total=self.participants_total, c=len(self.comparison), n=MIN_UNITS)
        text = _("Выполнение целевых заданий у классов участников изменилось на {dp} п., у сравнимых классов — "
                 "на {dc} п.; разница {did} п. (95 % интервал от {low} до {high}; участников {p}, сравнимых "
                 "учителей {c}).").format(
            dp=_signed(self.change_participants), dc=_signed(self.change_comparison), did=_signed(self.did),
            low=_signed(self.low), high=_signed(self.high), p=len(self.participants), c=len(self.comparison))
        if self.verdict == Verdict.NO_EFFECT and self.high is not None and self.high < 0:
            text += " " + _("Результаты участников снизились относительно сравнимых классов.")
        return text


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _signed(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:+.1f}".replace(".", ",").replace("-", "−")


def rates(elements, spring: int, teacher_ids=None) -> dict[tuple[int, int], tuple[float, int]]:
    """(teacher, element) → (solve rate %, present works) on the tasks checking the element in the works
    written in `spring`, from TaskScore sums."""
    from metodist.collection.models import TaskScore

    scores = TaskScore.objects.filter(task__content_elements__in=elements, work__assessment__year=spring,
                                      work__absent=False, work__teacher__isnull=False)
    if teacher_ids is not None:
        scores = scores.filter(work__teacher__in=teacher_ids)
    found = {}
    for row in (scores.values("work__teacher", "task__content_elements")
                .annotate(points=Sum("score"), possible=Sum("task__max_score"), works=Count("work", distinct=True))):
        if row["possible"]:
            found[(row["work__teacher"], row["task__content_elements"])] = (
                100.0 * (row["points"] or 0) / row["possible"], row["works"])
    return found


def _has_works(elements, spring: int) -> bool:
    from metodist.collection.models import Work

    return Work.objects.filter(assessment__year=spring, assessment__tasks__content_elements__in=elements,
                               absent=False).exists()


def units(elements, year: int, teacher_ids=None) -> list[Unit]:
    """Teachers × elements with results in both the baseline (spring year + 1) and the follow-up (year + 2)."""
    before, after = rates(elements, year + 1, teacher_ids), rates(elements, year + 2, teacher_ids)
    return [Unit(t, e, b[0], after[(t, e)][0], b[1], after[(t, e)][1])
            for (t, e), b in sorted(before.items()) if (t, e) in after]


def estimate(participant_ids: set[int], elements, year: int, *, subject=None, excluded_ids: set[int] = frozenset(),
             total: int | None = None) -> Effect:
    """The difference in differences of the help given in academic year `year` to `participant_ids` on
    `elements`; comparison teachers are those of `subject` (when given) not in `excluded_ids`."""
    from metodist.core.models import Teacher

    elements = list(elements)
    labels = [f"{e.codifier} {e.code}" for e in elements]
    effect = Effect(Verdict.INSUFFICIENT, None, None, None, baseline_year=year, follow_up_year=year + 1,
                    participants_total=total if total is not None else len(participant_ids), elements=labels)
    if not elements or not participant_ids:
        return effect
    all_units = units(elements, year)
    effect.pending = not _has_works(elements, year + 2)
    pool = set(Teacher.objects.filter(subjects=subject).values_list("pk", flat=True)) if subject is not None else None
    mine = [u for u in all_units if u.teacher_id in participant_ids]
    effect.participants = mine
    if not mine:
        return effect
    by_element = defaultdict(list)
    for u in mine:
        by_element[u.element_id].append(u.before)
    others = []
    for u in all_units:
        if u.teacher_id in participant_ids or u.teacher_id in excluded_ids:
            continue
        if pool is not None and u.teacher_id not in pool:
            continue
        lows = by_element.get(u.element_id)
        if lows and min(lows) - CALIPER <= u.before <= max(lows) + CALIPER:
            others.append(u)
    effect.comparison = others
    teachers_mine = _per_teacher(mine)
    teachers_other = _per_teacher(others)
    if len(teachers_mine) < MIN_UNITS or len(teachers_other) < MIN_UNITS:
        return effect
    did, low, high = welch_interval(teachers_mine, teachers_other)
    effect.did, effect.low, effect.high = did, low, high
    effect.verdict = Verdict.HELPED if low > 0 else Verdict.NO_EFFECT
    return effect


def _per_teacher(found: list[Unit]) -> list[float]:
    """A teacher's change averaged over the targeted elements: one number per unit of help."""
    changes = defaultdict(list)
    for u in found:
        changes[u.teacher_id].append(u.change)
    return [sum(v) / len(v) for _t, v in sorted(changes.items())]


def welch_interval(a: list[float], b: list[float], level: float = LEVEL) -> tuple[float, float, float]:
    """mean(a) − mean(b) with the Welch–Satterthwaite t interval."""
    na, nb = len(a), len(b)
    ma, mb = sum(a) / na, sum(b) / nb
    va = sum((x - ma) ** 2 for x in a) / (na - 1)
    vb = sum((x - mb) ** 2 for x in b) / (nb - 1)
    se2 = va / na + vb / nb
    diff = ma - mb
    if se2 == 0:
        return diff, diff, diff
    df = se2 ** 2 / ((va / na) ** 2 / (na - 1) + (vb / nb) ** 2 / (nb - 1))
    half = stats.t.ppf(0.5 + level / 2, df) * math.sqrt(se2)
    return diff, diff - half, diff + half
