"""`metodist analyse`: the whole analysis of a year, stored as a run; `metodist analyse objectivity` and
other views of a run are sub-commands."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from metodist.analysis.objectivity_cli import objectivity_command

analyse_app = typer.Typer(help="Анализ результатов учебного года.", no_args_is_help=False)
analyse_app.command("objectivity")(objectivity_command)

ENGINE_NAMES = {"db": "default", "default": "default", "duckdb": "duckdb"}


@analyse_app.callback(invoke_without_command=True)
def analyse(
    ctx: typer.Context,
    year: Annotated[int | None, typer.Option(help="Учебный год по первому году: 2025 — это 2025/2026.")] = None,
    engine: Annotated[str, typer.Option(help="Где считать: db (база проекта) или duckdb.")] = "db",
    organisation: Annotated[str | None, typer.Option("--org", help="Код организации (по умолчанию регион).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Вывести итоги в JSON.")] = False,
) -> None:
    """Выполнить весь анализ года и сохранить его: проблемные поля, статусы школ, объективность, дефициты."""
    if ctx.invoked_subcommand is not None:
        return
    from metodist.bootstrap import ensure_database

    ensure_database()
    from metodist.analysis.runs import AnalysisError, run_analysis
    from metodist.core.models import Organisation

    if engine not in ENGINE_NAMES:
        typer.echo(f"Неизвестный движок «{engine}»: возможны db и duckdb.", err=True)
        raise typer.Exit(2)
    scope = None
    if organisation:
        scope = Organisation.objects.filter(code=organisation).first()
        if scope is None:
            typer.echo(f"Организация с кодом {organisation} не найдена.", err=True)
            raise typer.Exit(1)
    try:
        run = run_analysis(year=year, scope=scope, engine=ENGINE_NAMES[engine])
    except AnalysisError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    data = {"run": run.pk, "year": str(run.academic_year), "scope": run.scope.code, "engine": run.engine,
            "seconds": round((run.finished_at - run.started_at).total_seconds(), 2), **run.summary}
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    typer.echo(f"Анализ {data['year']} по «{run.scope}» сохранён (№ {run.pk}, {data['seconds']} с).")
    for key, value in run.summary.items():
        typer.echo(f"  {key}: {json.dumps(value, ensure_ascii=False, default=str)}")
