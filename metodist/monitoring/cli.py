"""`metodist monitor`: stage 6 in batches — the effect of every piece of help, starting the next cycle of
an organisation, the monitoring report as DOCX."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from django.utils.translation import gettext as _

from metodist.core.cli_common import organisation as _organisation

monitor_app = typer.Typer(help="Мониторинг: показатели, эффект помощи, следующий цикл.", no_args_is_help=True)


def _ready():
    from metodist.bootstrap import ensure_database

    ensure_database()



@monitor_app.command("effects")
def effects_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Эффект каждого курса, ИОМ, наставничества и пары школ на целевые элементы содержания."""
    _ready()
    from metodist.documents.monitoring_report import _Everyone
    from metodist.monitoring.help_effects import all_effects

    items = all_effects(_Everyone())
    if as_json:
        typer.echo(json.dumps([{
            "kind": h.kind, "id": h.obj.pk, "title": h.title, "academic_year": h.year, "elements": h.effect.elements,
            "verdict": h.effect.verdict, "did": h.effect.did, "low": h.effect.low, "high": h.effect.high,
            "participants_with_data": len(h.effect.participants), "comparison": len(h.effect.comparison),
        } for h in items], ensure_ascii=False, indent=2))
        return
    if not items:
        typer.echo(_("Помощь ещё не внесена."))
    for h in items:
        typer.echo(f"{h.title} ({h.kind_label}, {h.year}/{h.year + 1}): {h.effect.verdict_text}. "
                   f"{h.effect.explanation()}")


@monitor_app.command("next-cycle")
def next_cycle_command(
    org: Annotated[str, typer.Option("--org", help="Код муниципалитета или школы.")],
    year: Annotated[int, typer.Option("--year", help="Закрываемый учебный год по первому году (2025 = 2025/2026).")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Начать следующий цикл: нерешённые показатели и незавершённые мероприятия переносятся."""
    _ready()
    from metodist.monitoring.cycles import start_next_cycle

    cycle = start_next_cycle(_organisation(org), year)
    if as_json:
        typer.echo(json.dumps({"cycle": cycle.pk, **cycle.summary}, ensure_ascii=False))
        return
    typer.echo(_("Начат цикл {year}: перенесено показателей {i}, мероприятий {a}; новых дорожных карт {r}.").format(
        year=cycle.academic_year, i=cycle.summary["indicators"], a=cycle.summary["actions"],
        r=cycle.summary["roadmaps_new"]))


@monitor_app.command("report")
def report_command(
    code: Annotated[str, typer.Argument(help="Код школы или муниципалитета.")],
    year: Annotated[int, typer.Option("--year", help="Учебный год по первому году.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Файл DOCX.")],
) -> None:
    """Справка о результатах мониторинга (DOCX)."""
    _ready()
    from metodist.documents.monitoring_report import monitoring_document

    output.write_bytes(monitoring_document(_organisation(code), year).getvalue())
    typer.echo(str(output))
