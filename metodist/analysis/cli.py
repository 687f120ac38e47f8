"""`metodist item-stats FILE [--json] [--max 1,1,2]`: classical item analysis of a response matrix in CSV.

Registered in metodist/cli.py as `app.command("item-stats")(item_stats_command)`. It needs no database.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def _fmt(value, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def item_stats_command(
    file: Annotated[Path, typer.Argument(help="CSV: строка на ученика, столбец на задание; столбец веса weight/вес/n.")],
    max_scores: Annotated[
        str | None, typer.Option("--max", help="Максимальные баллы заданий через запятую, например 1,1,2.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Вывести результат в JSON.")] = False,
) -> None:
    """Анализ заданий: трудность, различающая способность, альфа Кронбаха."""
    from metodist.bootstrap import setup_django

    setup_django()
    from django.utils.translation import gettext as _

    from metodist.analysis.item_stats import (
        ItemStatsError,
        item_statistics,
        parse_max_option,
        read_response_csv,
    )

    try:
        matrix = read_response_csv(file)
        maxima = matrix.max_scores
        if max_scores is not None:
            maxima = parse_max_option(max_scores, len(matrix.tasks))
        if maxima is not None:
            matrix.check_maxima(maxima)
        result = item_statistics(matrix.scores, weights=matrix.weights, max_scores=maxima, tasks=matrix.tasks)
    except ItemStatsError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None

    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return

    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=_("Анализ заданий: {name}").format(name=file.name))
    for header in (_("Задание"), _("Макс."), _("Учеников"), _("Трудность"), _("СО"), _("r с остальными"),
                   _("r с суммой"), _("Альфа без задания"), _("Замечания")):
        table.add_column(header)
    for task in result.tasks:
        table.add_row(task.task, f"{task.max_score:g}", f"{task.n:g}", _fmt(task.difficulty), _fmt(task.sd),
                      _fmt(task.item_rest), _fmt(task.item_total), _fmt(task.alpha_if_deleted),
                      "\n".join(task.reasons))
    console.print(table)
    console.print(_("Учеников: {n:g}; с баллами за все задания: {complete:g}.").format(
        n=result.n, complete=result.n_complete))
    console.print(_("Альфа Кронбаха: {alpha}.").format(alpha=_fmt(result.alpha)))
    distribution = ", ".join(f"{score:g}: {count:g}" for score, count in result.score_distribution.items())
    console.print(_("Распределение первичных баллов (балл: учеников): {dist}.").format(dist=distribution))
    for warning in result.warnings:
        console.print(warning)
