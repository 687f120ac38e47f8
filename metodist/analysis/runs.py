"""An analysis run: what a stored finding belongs to. `start_run` opens one over an organisation's
subtree for an academic year; each part of the analysis stores its findings against it
(`problem_fields.store`, `classification.store`, `objectivity_run.store`, `deficits.store`);
`finish_run` records the summary. Old runs are kept."""

from __future__ import annotations

from django.db.models import Count, Max
from django.utils import timezone

from metodist.analysis.models import AnalysisRun, RunStatus
from metodist.collection.models import Upload, Work
from metodist.core.models import AcademicYear, AuditEntry, Organisation, OrganisationKind


def default_scope() -> Organisation | None:
    """The top of the tree: the one region, or the one root organisation."""
    roots = list(Organisation.objects.filter(parent__isnull=True).order_by("pk")[:2])
    regions = [o for o in roots if o.kind == OrganisationKind.REGION]
    if len(regions) == 1:
        return regions[0]
    return roots[0] if len(roots) == 1 else None


def data_version(year: AcademicYear, scope: Organisation) -> dict:
    works = Work.objects.filter(assessment__year=year.start_year + 1, school__path__startswith=scope.path)
    counted = works.aggregate(works=Count("pk"), last_upload=Max("upload_id"))
    return {"works": counted["works"], "last_upload": counted["last_upload"],
            "uploads": Upload.objects.count()}


def start_run(year: AcademicYear, scope: Organisation, *, engine: str = "db", user=None) -> AnalysisRun:
    return AnalysisRun.objects.create(
        academic_year=year, scope=scope, engine=engine, created_by=user, data_version=data_version(year, scope)
    )


def finish_run(run: AnalysisRun, summary: dict, *, status: str = RunStatus.DONE, user=None) -> AnalysisRun:
    run.summary = summary
    run.status = status
    run.finished_at = timezone.now()
    run.save(update_fields=["summary", "status", "finished_at"])
    AuditEntry.objects.create(
        user=user, action=f"analysis:{status}", object_type="analysis_run", object_id=str(run.pk),
        organisation=run.scope, details={"year": str(run.academic_year), "summary": summary},
    )
    return run


#: the parts of a whole analysis, in order: (summary key, module path); each has `store(run, engine)`
PARTS = [
    ("problem_fields", "metodist.analysis.problem_field_store"),
    ("classification", "metodist.analysis.classification"),
    ("objectivity", "metodist.analysis.objectivity_store"),
    ("deficits", "metodist.analysis.deficits"),
]


class AnalysisError(ValueError):
    """Nothing to analyse, or an unknown year or organisation; the message is Russian."""


def latest_year_with_results() -> AcademicYear | None:
    year = Work.objects.aggregate(year=Max("assessment__year"))["year"]
    return AcademicYear.of_spring(year) if year else None


def run_analysis(
    *, year: int | None = None, scope: Organisation | None = None, engine: str = "default", user=None,
    progress=None,
) -> AnalysisRun:
    """The whole analysis of an academic year (`year` is its first calendar year: 2025 for 2025/2026),
    stored as a new run. A part that fails marks the run failed and re-raises: the findings of a failed
    run are not shown as current."""
    import importlib

    from django.db import transaction
    from django.utils.translation import gettext as _

    from metodist.analysis.engine import connect, run_page_cache

    academic_year = AcademicYear.objects.get_or_create(start_year=year)[0] if year else latest_year_with_results()
    if academic_year is None:
        raise AnalysisError(_("В базе нет результатов: анализировать нечего."))
    scope = scope or default_scope()
    if scope is None:
        raise AnalysisError(_("Не удалось определить, что анализировать: в базе несколько корневых организаций. "
                              "Укажите организацию."))
    from metodist.collection.loading import refresh_statistics

    refresh_statistics()  # the engine's aggregates are planned on them (PostgreSQL)
    run = start_run(academic_year, scope, engine=engine, user=user)
    summary: dict = {}
    try:
        with run_page_cache():
            eng = connect(engine)
            for number, (key, module_path) in enumerate(PARTS, start=1):
                with transaction.atomic():
                    summary[key] = importlib.import_module(module_path).store(run, eng)
                if progress:
                    progress(number, len(PARTS))
    except Exception as exc:
        finish_run(run, {**summary, "error": type(exc).__name__}, status=RunStatus.FAILED, user=user)
        raise
    return finish_run(run, summary, user=user)
