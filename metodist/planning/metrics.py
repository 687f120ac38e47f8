"""The measured value of an indicator's metric in an academic year, computed from the results.

A metric names a family of works (programme, subject, grade: ВПР mathematics of the 7th grade in any
year), the organisation whose works count (its subtree), optionally a content element or skill of the
family's codifier, and a statistic. Its value in academic year Y is read from the standard report of
that family's work written in the spring of Y + 1 (the same figures the report pages show, computed
once per data version): a solve rate is the points scored on the tasks that check the element (or
skill) over the maximum of those tasks × present works; success, quality and the share of «2» are
shares of the works with a mark; the mean primary score is in % of the work's maximum. Definitions:
docs/methods.md, «Показатели дорожных карт»."""

from __future__ import annotations

from dataclasses import dataclass

from metodist.analysis.report_cache import data_versions, standard
from metodist.analysis.trends import mean_primary_pct


@dataclass(frozen=True)
class Metric:
    programme: str  # VPR, OGE, …
    subject: str  # subject code
    grade: int
    scope: str  # organisation code
    statistic: str  # planning.models.Statistic
    element: str | None = None  # content element code in the family's codifier
    skill: str | None = None

    @classmethod
    def of(cls, indicator) -> Metric:
        return cls(indicator.programme, indicator.subject.code, indicator.grade, indicator.scope.code,
                   indicator.statistic, indicator.content_element.code if indicator.content_element_id else None,
                   indicator.skill.code if indicator.skill_id else None)


@dataclass
class Measurement:
    year: int  # first calendar year of the academic year
    assessment_code: str
    value: float | None  # %
    works: int
    reference: float | None  # the same statistic of the scope's parent level, %
    reference_name: str = ""


def assessment_of(metric: Metric, year: int):
    """The family's work of academic year `year` that has results, or None."""
    from metodist.reference.models import Assessment

    return (Assessment.objects.filter(programme=metric.programme.upper(), subject__code=metric.subject,
                                      grade=metric.grade, year=year + 1, works__isnull=False)
            .distinct().order_by("code").first())


def years_with_results(metric: Metric) -> list[int]:
    from metodist.reference.models import Assessment

    springs = (Assessment.objects.filter(programme=metric.programme.upper(), subject__code=metric.subject,
                                         grade=metric.grade, works__isnull=False)
               .values_list("year", flat=True).distinct())
    return sorted(spring - 1 for spring in springs)


def _tasks_of(report, metric: Metric) -> list:
    if metric.element:
        return [t for t in report.tasks if any(code == metric.element for code, _n in t.content_elements)]
    if metric.skill:
        return [t for t in report.tasks if any(code == metric.skill for code, _n in t.skills)]
    return list(report.tasks)


def value_of(level, report, metric: Metric) -> float | None:
    """The statistic of one level (`standard_reports.LevelFigures`) of a report."""
    statistic = metric.statistic
    if statistic == "solve_rate":
        tasks = _tasks_of(report, metric)
        possible = sum(t.max_score for t in tasks) * level.participants
        if not tasks or not possible:
            return None
        return 100 * sum(level.task_sums.get(t.number, 0) for t in tasks) / possible
    if statistic == "success":
        return level.success_pct
    if statistic == "quality":
        return level.quality_pct
    if statistic == "mark_2":
        return level.marks_pct.get(2)
    if statistic == "mean_primary":
        return mean_primary_pct(level, report.max_primary)
    raise ValueError(statistic)


def measure(metric: Metric, year: int) -> Measurement | None:
    """The metric in academic year `year`, or None when the family has no work with results that year."""
    assessment = assessment_of(metric, year)
    if assessment is None:
        return None
    version = data_versions([assessment.pk])[assessment.pk]
    report = standard(assessment, metric.scope, version)
    own = report.own
    if metric.statistic == "solve_rate" and not _tasks_of(report, metric):
        return Measurement(year, assessment.code, None, own.participants, None)
    parent = next((p for p in report.parents if p.participants), None)
    return Measurement(
        year, assessment.code, _round(value_of(own, report, metric)), own.participants,
        _round(value_of(parent, report, metric)) if parent is not None else None,
        parent.name if parent is not None else "",
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
