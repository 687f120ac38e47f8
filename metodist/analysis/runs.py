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
