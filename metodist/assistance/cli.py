"""`metodist assistance`: stage 5 in batches — development routes proposed for every teacher with deficits
of a school or municipality, a route as DOCX, the participants' questionnaires linked to their courses,
and the courses' figures (participants, satisfaction) as JSON or XLSX."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from metodist.core.cli_common import organisation as _organisation

assistance_app = typer.Typer(help="Методическая помощь: курсы, маршруты (ИОМ), наставничество, мероприятия.",
                             no_args_is_help=True)


def _ready():
    from metodist.bootstrap import ensure_database

    ensure_database()



def _run(run_id: int | None, organisation):
    from metodist.analysis.models import AnalysisRun, DeficitProfile, RunStatus

    if run_id is not None:
        run = AnalysisRun.objects.filter(pk=run_id, status=RunStatus.DONE).select_related("scope").first()
        if run is None:
            typer.echo(f"Завершённого анализа №{run_id} нет.", err=True)
            raise typer.Exit(2)
        if not organisation.path.startswith(run.scope.path):
            typer.echo(f"Анализ №{run_id} не охватывает {organisation.short_name}.", err=True)
            raise typer.Exit(2)
        return run
    found = (DeficitProfile.objects.filter(run__status=RunStatus.DONE, scope="personal",
                                           organisation__path__startswith=organisation.path)
             .order_by("-run__academic_year__start_year", "-run__finished_at").values_list("run", flat=True).first())
    if found is None:
        typer.echo("Нет завершённого анализа с выявленными дефицитами учителей этой организации.", err=True)
        raise typer.Exit(1)
    return AnalysisRun.objects.get(pk=found)


@assistance_app.command("routes")
def routes_command(
    school: Annotated[str, typer.Option("--school", help="Код школы (или муниципалитета: все его школы).")],
    run: Annotated[int | None, typer.Option("--run", help="Номер анализа (по умолчанию последний с дефицитами).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Составить проекты ИОМ для всех учителей с выявленными дефицитами (уже утверждённые не меняются)."""
    _ready()
    from metodist.assistance.routes import propose_for

    organisation = _organisation(school)
    found = _run(run, organisation)
    counts = propose_for(organisation, found)
    if as_json:
        typer.echo(json.dumps({"run": found.pk, **counts}, ensure_ascii=False))
        return
    typer.echo(f"Анализ №{found.pk} ({found.academic_year}), {organisation.short_name}: новых маршрутов "
               f"{counts['created']}, дополнено {counts['completed']}, утверждённых не тронуто {counts['approved']}, "
               f"новых пунктов {counts['items']}.")


@assistance_app.command("route-docx")
def route_docx_command(
    route: Annotated[int, typer.Argument(help="Номер маршрута.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Файл DOCX.")],
) -> None:
    """ИОМ в DOCX (№, мероприятие, форма, сроки, результат)."""
    _ready()
    from metodist.assistance.models import DevelopmentRoute
    from metodist.documents.route_report import route_document

    found = DevelopmentRoute.objects.filter(pk=route).select_related("teacher__school", "academic_year").first()
    if found is None:
        typer.echo(f"Маршрута №{route} нет.", err=True)
        raise typer.Exit(2)
    output.write_bytes(route_document(found).getvalue())
    typer.echo(str(output))


@assistance_app.command("link-surveys")
def link_surveys_command() -> None:
    """Связать загруженные анкетирования слушателей с курсами (по названию курса и организации)."""
    _ready()
    from metodist.assistance.courses import link_surveys
    from metodist.assistance.models import Course

    total = 0
    for course in Course.objects.select_related("provider"):
        total += link_surveys(course)
    typer.echo(f"Связано анкетирований: {total}.")


@assistance_app.command("courses")
def courses_command(
    year: Annotated[int | None, typer.Option(help="Учебный год по первому году.")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Файл XLSX (иначе JSON на экран).")] = None,
) -> None:
    """Курсы: слушатели по состояниям, ответы и удовлетворённость по итоговому анкетированию."""
    _ready()
    from metodist.assistance.courses import enrolment_counts, final_satisfaction_by_course
    from metodist.assistance.models import Course

    courses = Course.objects.select_related("provider", "academic_year", "subject").prefetch_related(
        "content_elements")
    if year is not None:
        courses = courses.filter(academic_year__start_year=year)
    courses = list(courses)
    ids = [c.pk for c in courses]
    counts, satisfaction = enrolment_counts(ids, None), final_satisfaction_by_course(ids, None)
    if output is not None:
        from metodist.assistance.views import course_table
        from metodist.documents.common import Workbook

        book = Workbook(output)
        book.table_sheet(course_table(courses, counts, satisfaction))
        book.close()
        typer.echo(str(output))
        return
    typer.echo(json.dumps([{
        "id": c.pk, "title": c.title, "academic_year": c.academic_year.start_year, "hours": c.hours,
        "subject": c.subject.code if c.subject_id else None,
        "content_elements": [f"{e.codifier}/{e.code}" for e in c.content_elements.all()],
        "enrolments": counts.get(c.pk, {}), "final_ratings": satisfaction.get(c.pk, (0, None))[0],
        "satisfaction": satisfaction.get(c.pk, (0, None))[1]} for c in courses], ensure_ascii=False, indent=2))
