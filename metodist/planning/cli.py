"""`metodist plan`: stage 4 in batches — a roadmap drafted from the latest analysis, the recommendations of
a year for a whole municipality or region, the indicators re-measured, a roadmap as DOCX."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from metodist.core.cli_common import organisation as _organisation

plan_app = typer.Typer(help="Дорожные карты и рекомендации по итогам анализа.", no_args_is_help=True)


def _ready():
    from metodist.bootstrap import ensure_database

    ensure_database()


def _run_for(organisation, year: int | None):
    from metodist.analysis.models import AnalysisRun, RunStatus

    runs = AnalysisRun.objects.filter(status=RunStatus.DONE).select_related("scope", "academic_year")
    if year is not None:
        runs = runs.filter(academic_year__start_year=year)
    for run in runs.order_by("-academic_year__start_year", "-finished_at", "-pk"):
        if organisation.path.startswith(run.scope.path):
            return run
    typer.echo("Нет завершённого анализа, охватывающего эту организацию: выполните metodist analyse.", err=True)
    raise typer.Exit(1)



@plan_app.command("roadmap")
def roadmap_command(
    organisation: Annotated[str, typer.Option("--org", help="Код школы или муниципалитета.")],
    subject: Annotated[str | None, typer.Option(help="Код предмета (ma, ru, …).")] = None,
    kind: Annotated[str, typer.Option(help="school_subject, school_transition или municipal.")] = "school_subject",
    mentor: Annotated[str | None, typer.Option(help="Код школы-наставника (для плана перехода).")] = None,
    year: Annotated[int | None, typer.Option(help="Учебный год анализа по первому году.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Составить проект дорожной карты по итогам последнего анализа."""
    _ready()
    from metodist.core.models import Subject
    from metodist.planning.models import RoadmapKind
    from metodist.planning.roadmaps import PlanningError, draft_roadmap

    if kind not in RoadmapKind.values:
        typer.echo(f"Неизвестный вид «{kind}»: {', '.join(RoadmapKind.values)}.", err=True)
        raise typer.Exit(2)
    org = _organisation(organisation)
    run = _run_for(org, year)
    subject_obj = Subject.objects.filter(code=subject).first() if subject else None
    if subject and subject_obj is None:
        typer.echo(f"Предмета с кодом «{subject}» нет.", err=True)
        raise typer.Exit(2)
    try:
        roadmap = draft_roadmap(run, org, kind=kind, subject=subject_obj,
                                mentor_school=_organisation(mentor) if mentor else None)
    except PlanningError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    indicators = list(roadmap.indicators.all())
    if as_json:
        typer.echo(json.dumps({"id": roadmap.pk, "title": roadmap.title, "indicators": [
            {"goal": i.goal, "baseline": i.baseline, "target": i.target, "reference": i.reference}
            for i in indicators], "actions": roadmap.actions.count()}, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{roadmap.title} (№{roadmap.pk}, проект)")
    for i in indicators:
        typer.echo(f"  {i.position}. {i.goal}")
    typer.echo(f"  мероприятий: {roadmap.actions.count()}")


@plan_app.command("recommendations")
def recommendations_command(
    organisation: Annotated[str | None, typer.Option("--org", help="Код организации (по умолчанию вся область анализа).")] = None,
    year: Annotated[int | None, typer.Option(help="Учебный год анализа по первому году.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Сформировать рекомендации по итогам анализа (новые добавляются, изменённые не трогаются)."""
    _ready()
    from metodist.analysis.models import AnalysisRun, RunStatus
    from metodist.planning.recommendations import generate

    org = _organisation(organisation) if organisation else None
    if org is not None:
        run = _run_for(org, year)
    else:
        runs = AnalysisRun.objects.filter(status=RunStatus.DONE)
        if year is not None:
            runs = runs.filter(academic_year__start_year=year)
        run = runs.order_by("-academic_year__start_year", "-finished_at").first()
        if run is None:
            typer.echo("Нет завершённого анализа: выполните metodist analyse.", err=True)
            raise typer.Exit(1)
    counts = generate(run, org)
    if as_json:
        typer.echo(json.dumps({"run": run.pk, **counts}, ensure_ascii=False))
        return
    typer.echo(f"Анализ {run.academic_year}: новых рекомендаций {counts['created']}, всего {counts['total']}.")


@plan_app.command("remeasure")
def remeasure_command() -> None:
    """Измерить заново все показатели дорожных карт по загруженным результатам."""
    _ready()
    from metodist.planning.models import Indicator
    from metodist.planning.roadmaps import remeasure

    count = 0
    for indicator in Indicator.objects.select_related("roadmap__academic_year", "subject", "scope",
                                                      "content_element", "skill"):
        remeasure(indicator)
        count += 1
    typer.echo(f"Показателей измерено: {count}.")


@plan_app.command("docx")
def docx_command(
    roadmap: Annotated[int, typer.Argument(help="Номер дорожной карты.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Файл DOCX.")],
) -> None:
    """Дорожная карта в DOCX (№, мероприятие, сроки, ответственный, ожидаемый результат, показатель)."""
    _ready()
    from metodist.documents.roadmap_report import roadmap_document
    from metodist.planning.models import Roadmap

    found = Roadmap.objects.filter(pk=roadmap).first()
    if found is None:
        typer.echo(f"Дорожной карты №{roadmap} нет.", err=True)
        raise typer.Exit(2)
    output.write_bytes(roadmap_document(found).getvalue())
    typer.echo(str(output))
