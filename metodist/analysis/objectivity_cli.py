"""`metodist analyse objectivity [--assessment CODE] [--year Y] [--engine db|duckdb] [--json]`: the ranked
list of schools by risk of non-objective results, with the federal markers and Metodist's signals.

It reads the latest finished run of the year that has objectivity results; when there is none, it makes
a run with the objectivity part only and stores it. Registered in metodist/analysis/analyse_cli.py as
`analyse_app.command("objectivity")(objectivity_command)`.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from metodist.core.numbers import format_text

ENGINE_NAMES = {"db": "default", "default": "default", "duckdb": "duckdb"}


def objectivity_command(
    assessment: Annotated[str | None, typer.Option(help="Код работы, например vpr-2026-ma-5.")] = None,
    year: Annotated[int | None, typer.Option(help="Учебный год по первому году: 2025 — это 2025/2026.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Вывести результат в JSON.")] = False,
    engine: Annotated[str, typer.Option(help="Где считать: db (база проекта) или duckdb.")] = "db",
) -> None:
    """Объективность результатов: школы по риску необъективности, признаки и сигналы с пояснениями."""
    from metodist.bootstrap import ensure_database

    ensure_database()
    from django.db import transaction
    from django.utils.translation import gettext as _

    from metodist.analysis.models import AnalysisRun, RunStatus
    from metodist.analysis.objectivity_store import objectivity_list, store
    from metodist.analysis.runs import default_scope, finish_run, latest_year_with_results, start_run
    from metodist.core.models import AcademicYear
    from metodist.reference.models import Assessment

    if engine not in ENGINE_NAMES:
        typer.echo(format_text(_("Неизвестный движок «{engine}»: возможны db и duckdb."), engine=engine), err=True)
        raise typer.Exit(2)
    academic_year = None
    if assessment is not None:
        found = Assessment.objects.filter(code=assessment).first()
        if found is None:
            typer.echo(format_text(_("Работа с кодом «{code}» не найдена."), code=assessment), err=True)
            raise typer.Exit(1)
        academic_year = AcademicYear.of_spring(found.year)
    if year is not None:
        academic_year = AcademicYear.objects.get_or_create(start_year=year)[0]
    academic_year = academic_year or latest_year_with_results()
    scope = default_scope()
    if academic_year is None or scope is None:
        typer.echo(_("В базе нет результатов: анализировать нечего."), err=True)
        raise typer.Exit(1)
    run = (AnalysisRun.objects.filter(academic_year=academic_year, scope=scope, status=RunStatus.DONE,
                                      objectivity__isnull=False)
           .order_by("-finished_at", "-pk").first())
    if run is None:
        run = start_run(academic_year, scope, engine=ENGINE_NAMES[engine])
        with transaction.atomic():
            summary = store(run, ENGINE_NAMES[engine])
        finish_run(run, {"objectivity": summary})
    data = objectivity_list(run, assessment)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    if not data["schools"]:
        typer.echo(_("Школ с результатами за этот год нет."))
        return
    typer.echo(format_text(_("Объективность результатов, {year} (анализ № {run})."), year=data["year"], run=run.pk))
    for school in data["schools"]:
        typer.echo(format_text(_("{rank}. {code} {name}: балл {score:.2f}, признаков федеральной методики {count}."),
            rank=school["rank"], code=school["code"], name=school["name"], score=school["score"],
            count=len(school["federal_markers"])))
        for signal in school["signals"]:
            if signal["tripped"]:
                typer.echo("   " + format_text(_("{work}: {reason}"), work=signal["assessment"], reason=signal["reason"]))
        if school["explanation"]:
            typer.echo("   " + school["explanation"])
