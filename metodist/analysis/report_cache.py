"""The computed figures of the report pages, kept so that a page does not recount them on every request.

A standard report (the engine's three grouped aggregates over every work of an assessment) takes from a
tenth of a second for a school to a second or more for a region; the page must answer in well under
that. So the report is computed once and kept in Django's cache as plain data (dicts, lists, numbers:
no classes, so a changed dataclass never unpickles into a broken object), together with the chart specs
drawn from it, under a key made of

* what is asked: the kind of figures, the assessment, the organisation and the interface language (the
  level names «Все данные», «Вся выборка» and the chart titles are translated when computed);
* the *data version* of the assessment: its number of works, the latest upload that wrote them, the
  latest upload and published federal figures recorded for it. Importing, replacing or deleting a file
  changes one of them, so a new import is never hidden behind an old figure; and
* the *format*: the field names of the report's dataclasses, so that a change of the code that
  computes them starts a fresh set of keys.

Which cache: core.shared_cache, the one every server process of the installation shares (the files
are small: a region's report is a few dozen kilobytes).
"""

from __future__ import annotations

import dataclasses
import hashlib
from functools import cache

from django.utils import translation

from metodist.core.cycle import results_signature  # noqa: F401 (the reports' data versions start from it)
from metodist.core.shared_cache import TIMEOUT
from metodist.core.shared_cache import (
    shared_cache as report_cache,  # the cache the report pages keep their figures in
)


def clear() -> None:
    report_cache().clear()


# --- data versions ------------------------------------------------------------------------------------

def data_versions(assessment_ids) -> dict[int, str]:
    """Per assessment: a text that changes whenever its works or its published figures change.

    Counting an assessment's works costs 10–20 ms at a region's scale, on every page; so the answer is kept
    under `results_signature()` (which moves with any change of any assessment's data) and counted only
    when that has moved."""
    ids = sorted(set(assessment_ids))
    return cached("data-versions", (results_signature(), *ids), lambda: _count_versions(ids))


def _count_versions(assessment_ids) -> dict[int, str]:
    """Per assessment, from its works, uploads and published figures: one query."""
    from django.db.models import Count, IntegerField, Max, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    from metodist.collection.models import Upload, Work
    from metodist.reference.models import Assessment, PublishedResult

    def grouped(model, **aggregate):
        name, expression = next(iter(aggregate.items()))
        return Subquery(model.objects.filter(assessment=OuterRef("pk")).order_by().values("assessment")
                        .annotate(**{name: expression}).values(name)[:1])

    rows = Assessment.objects.filter(pk__in=list(assessment_ids)).annotate(
        v_works=Coalesce(grouped(Work, n=Count("pk")), 0, output_field=IntegerField()),
        v_last_upload=grouped(Work, m=Max("upload_id")),
        v_upload_at=grouped(Upload, t=Max("created_at")),
        v_uploads=grouped(Upload, n=Count("pk")),
        v_published_at=grouped(PublishedResult, t=Max("updated_at")),
        v_published=grouped(PublishedResult, n=Count("pk")),
    ).values_list("pk", "v_works", "v_last_upload", "v_upload_at", "v_uploads", "v_published_at", "v_published")
    return {pk: "|".join(str(v) for v in rest) for pk, *rest in rows}


@cache
def _format() -> str:
    """The field names of the report's dataclasses: changes when the code computing them changes."""
    from metodist.analysis import item_stats, standard_reports, trends

    names = []
    for cls in (standard_reports.StandardReport, standard_reports.LevelFigures, standard_reports.ReferenceLevel,
                standard_reports.TaskInfo, standard_reports.NotTaught, item_stats.ItemAnalysis,
                item_stats.TaskStats, trends.Cohort, trends.CohortGroup, trends.CohortSide, trends.PupilCohort):
        names.append(cls.__name__ + ":" + ",".join(f.name for f in dataclasses.fields(cls)))
    return hashlib.sha1(";".join(names).encode()).hexdigest()[:12]


def key(kind: str, *parts) -> str:
    text = "\x1f".join([kind, _format(), translation.get_language() or "", *(str(p) for p in parts)])
    return f"metodist:reports:{kind}:{hashlib.sha1(text.encode()).hexdigest()}"


def cached(kind: str, parts: tuple, compute):
    """The value of `compute()` kept under (kind, parts); `parts` must hold the data versions."""
    store = report_cache()
    name = key(kind, *parts)
    value = store.get(name)
    if value is None:
        value = compute()
        store.set(name, value, TIMEOUT)
    return value


def rendered(request, kind: str, template: str, parts: tuple, build):
    """The HTML of `template` rendered with the context `build()` returns, kept under (kind, parts) and what
    else decides what the user sees in it: who he is and which role he acts in, the page's full address
    (its query), the language. For a page's content without its frame: the frame (navigation, stage
    figures, forms with a CSRF token) is rendered per request around it. `parts` must hold the data
    versions of what the content shows; the rendered text is the largest part of a report page's cost."""
    from django.template.loader import render_to_string
    from django.utils.safestring import mark_safe

    acting = getattr(request.user, "metodist_acting", None)
    parts = (*parts, request.user.pk, acting.pk if acting is not None else "-", request.get_full_path())
    return mark_safe(cached(f"html-{kind}", parts, lambda: render_to_string(template, build(), request=request)))


# --- standard reports as plain data -------------------------------------------------------------------

def dump_report(report) -> dict:
    from metodist.analysis.standard_reports import ReferenceLevel

    data = dataclasses.asdict(report)
    data["parents"] = [{"reference": isinstance(level, ReferenceLevel), "figures": dataclasses.asdict(level)}
                       for level in report.parents]
    return data


def _build(cls, data: dict):
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    return cls(**{k: v for k, v in data.items() if k in names})


def load_report(data: dict):
    from metodist.analysis.standard_reports import (
        LevelFigures,
        NotTaught,
        ReferenceLevel,
        StandardReport,
        TaskInfo,
    )

    fields = dict(data)
    fields["tasks"] = [_build(TaskInfo, t) for t in data["tasks"]]
    fields["own"] = _build(LevelFigures, data["own"])
    fields["parents"] = [_build(ReferenceLevel if p["reference"] else LevelFigures, p["figures"])
                         for p in data["parents"]]
    fields["not_taught"] = [_build(NotTaught, n) for n in data["not_taught"]]
    return _build(StandardReport, fields)


def standard(assessment, organisation_code: str | None, version: str):
    """The StandardReport of `assessment` (model) for an organisation (code or None), computed once per
    data version."""
    from metodist.analysis.standard_reports import standard_report

    value = cached("standard", (assessment.code, organisation_code or "-", version),
                   lambda: dump_report(standard_report(assessment.code, organisation_code)))
    return load_report(value)


# --- item analysis ------------------------------------------------------------------------------------

def response_matrix(assessment, organisation_path: str = ""):
    """The response matrix of the present works of `assessment` in a subtree, as response patterns:
    (task numbers, maxima, patterns (NaN = no score), how many works gave each pattern). A task marked
    «не пройд.» counts as 0 points, as in the standard report's solve rate."""
    import numpy as np

    from metodist.analysis.engine import connect, quiet
    from metodist.analysis.standard_reports import _rows

    tasks = list(assessment.tasks.order_by("position").values_list("pk", "number", "max_score"))
    column = {pk: j for j, (pk, _n, _m) in enumerate(tasks)}
    with quiet():
        eng = connect()
        ts = eng.task_scores(assessment.pk)
        ts = ts.filter(~ts.absent)
        if organisation_path:
            ts = ts.filter(ts.school_path.startswith(organisation_path))
        rows = _rows(ts, ["work_id", "task_id", "score"])
    works = sorted({w for w, _t, _s in rows})
    index = {w: i for i, w in enumerate(works)}
    matrix = np.full((len(works), len(tasks)), np.nan)
    for work, task, score in rows:
        j = column.get(task)
        if j is not None and score is not None:
            matrix[index[work], j] = score
    if len(works):
        filled = np.where(np.isnan(matrix), -1, matrix)
        patterns, counts = np.unique(filled, axis=0, return_counts=True)
        patterns = np.where(patterns < 0, np.nan, patterns)
    else:
        patterns, counts = matrix, np.zeros(0)
    return [n for _pk, n, _m in tasks], [m for _pk, _n, m in tasks], patterns, counts


def item_analysis(assessment, organisation, version: str) -> dict | None:
    """`ItemAnalysis.as_dict()` of the works of `assessment` in `organisation`'s subtree (None: all), kept
    per data version; None when there are no scored works."""
    from metodist.analysis.item_stats import ItemStatsError, item_statistics

    def compute():
        numbers, maxima, patterns, counts = response_matrix(assessment, organisation.path if organisation else "")
        if not numbers or not len(patterns):
            return {"analysis": None}
        try:
            result = item_statistics(patterns, weights=counts, max_scores=maxima, tasks=numbers)
        except ItemStatsError as error:
            return {"analysis": None, "error": str(error)}
        return {"analysis": result.as_dict()}

    code = organisation.code if organisation else "-"
    return cached("items", (assessment.code, code, version), compute)


def cohort(before, after, organisation, versions: dict[int, str]):
    """`trends.cohort` of two assessments in a subtree, kept per data version of both (as plain data)."""
    from metodist.analysis import trends

    def compute():
        return dataclasses.asdict(trends.cohort(before.code, after.code, organisation.code if organisation else None))

    data = cached("cohort", (before.code, after.code, organisation.code if organisation else "-",
                             versions.get(before.pk), versions.get(after.pk)), compute)
    side = lambda d: _build(trends.CohortSide, d)  # noqa: E731
    group = lambda d: _build(trends.CohortGroup, {**d, "before": side(d["before"]), "after": side(d["after"])})  # noqa: E731
    pupils = data["pupils"]
    return _build(trends.Cohort, {
        **data, "classes": [group(g) for g in data["classes"]], "schools": [group(g) for g in data["schools"]],
        "pupils": _build(trends.PupilCohort, {**pupils, "before": side(pupils["before"]),
                                              "after": side(pupils["after"])}),
    })
