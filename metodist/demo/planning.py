"""Stage 4 of the demo: roadmaps drawn from the analyses, as a municipality would have them by December.

From the analysis of 2024/2025 (spring 2025 works) the roadmaps of 2025/2026, discussed and approved, their
actions carried out — so their indicators already have a final value, measured on the spring 2026 works:
* the mathematics roadmap of «Гимназия № 1» (edu900001, the school of the first planted teacher),
* the transition plan of the low-results «Заречная СОШ» (edu900015) with the resilient «Покровская СОШ»
  (edu900016) as its mentor school,
* the municipality's mathematics roadmap.
From the analysis of 2025/2026 the drafts of 2026/2027 (Russian of edu900002, mathematics of edu900001),
and the recommendations of both analyses. Made by the same functions the pages call; rerunning changes
nothing when they exist."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model

from metodist.analysis.models import AnalysisRun, RunStatus
from metodist.core.models import MethodAssociation, Organisation, Subject


def _run(start_year: int):
    return (AnalysisRun.objects.filter(status=RunStatus.DONE, academic_year__start_year=start_year)
            .order_by("-finished_at", "-pk").first())


def build_plans(echo=print) -> dict:
    from metodist.planning import recommendations, roadmaps
    from metodist.planning.models import ActionStatus, Roadmap, RoadmapKind

    runs = sorted(AnalysisRun.objects.filter(status=RunStatus.DONE).values_list(
        "academic_year__start_year", flat=True).distinct())
    if not runs or Roadmap.objects.exists():
        return {"roadmaps": Roadmap.objects.count()}
    users = {u.username: u for u in get_user_model().objects.filter(
        username__in=["methodologist", "school_admin", "association_head"])}
    orgs = {o.code: o for o in Organisation.objects.filter(code__in=[
        "demo-m01", "edu900001", "edu900002", "edu900015", "edu900016"])}
    maths, russian = Subject.objects.get(code="ma"), Subject.objects.get(code="ru")
    made = []
    latest = _run(runs[-1])
    previous = _run(runs[-2]) if len(runs) > 1 else None
    if previous is not None and len(orgs) == 5:
        plans = [
            (orgs["edu900001"], RoadmapKind.SCHOOL_SUBJECT, maths, None, "school_admin"),
            (orgs["edu900015"], RoadmapKind.SCHOOL_TRANSITION, None, orgs["edu900016"], "methodologist"),
            (orgs["demo-m01"], RoadmapKind.MUNICIPAL, maths, None, "methodologist"),
        ]
        for organisation, kind, subject, mentor, approver in plans:
            roadmap = roadmaps.draft_roadmap(previous, organisation, kind=kind, subject=subject,
                                             mentor_school=mentor, user=users.get("methodologist"))
            association = MethodAssociation.objects.filter(
                organisation=organisation if organisation.kind == "school" else orgs["demo-m01"]).first()
            start = roadmap.academic_year.start_year
            head = users.get("association_head")
            roadmaps.discuss(roadmap, head if head and roadmaps.may_edit(head, roadmap) else users["methodologist"],
                             protocol=f"Протокол заседания методобъединения № 1 от 29.08.{start}: одобрить проект",
                             association=association)
            roadmaps.approve(roadmap, users[approver], comment="Утверждено приказом по итогам августовского совета")
            for n, action in enumerate(roadmap.actions.order_by("position")):
                if action.due < datetime.date(start + 1, 6, 1):
                    action.status = ActionStatus.DONE if n % 5 != 4 else ActionStatus.CANCELLED
                    action.done_at = action.due
                    action.evidence_link = f"https://school.example/metodist/{roadmap.pk}/{action.position}"
                    action.save()
            made.append(roadmap)
    if latest is not None and len(orgs) == 5:
        made.append(roadmaps.draft_roadmap(latest, orgs["edu900002"], subject=russian,
                                           user=users.get("school_admin")))
        made.append(roadmaps.draft_roadmap(latest, orgs["edu900001"], subject=maths,
                                           user=users.get("school_admin")))
    created = sum(recommendations.generate(_run(year))["created"] for year in runs)
    echo(f"Дорожные карты: {len(made)}, рекомендации: {created}.")
    return {"roadmaps": len(made), "recommendations": created}
