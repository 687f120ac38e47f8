"""`metodist practices`: stage 3 in batches — the evidence of every practice counted anew, the practices
and strong schools and teachers of a problem field, and the mentor schools proposed for the low-results
schools of an analysis, as text or JSON."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from metodist.core.cli_common import organisation as _organisation
from metodist.core.cli_common import ready as _ready

practices_app = typer.Typer(help="Передовой опыт: практики и их подтверждение, сильные коллеги, школы-шефы.",
                            no_args_is_help=True)


@practices_app.command("evidence")
def evidence_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Пересчитать подтверждение всех практик по загруженным результатам."""
    _ready()
    from metodist.practices.evidence import recompute
    from metodist.practices.models import Practice

    out = []
    for practice in Practice.objects.prefetch_related("content_elements", "skills"):
        rows = recompute(practice)
        out.append({"id": practice.pk, "title": practice.title,
                    "verdicts": sorted({r.verdict for r in rows})})
    if as_json:
        typer.echo(json.dumps({"practices": out}, ensure_ascii=False))
        return
    for item in out:
        typer.echo(f"{item['id']}. {item['title']}: {', '.join(item['verdicts']) or 'нет элементов'}")


@practices_app.command("match")
def match_command(
    field: Annotated[int, typer.Option("--field", help="Номер проблемного поля.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Практики, сильные школы и учителя по проблемному полю."""
    _ready()
    from metodist.analysis.models import ProblemField
    from metodist.practices.matching import practices_for, strong_peers

    found = ProblemField.objects.filter(pk=field).select_related("run__scope", "organisation", "assessment").first()
    if found is None:
        typer.echo(f"Проблемного поля №{field} нет.", err=True)
        raise typer.Exit(2)
    matches = practices_for(found)
    peers = strong_peers(found)
    data = {
        "field": field,
        "practices": [{"id": m.practice.pk, "title": m.practice.title, "school": m.practice.school.code,
                       "verdict": m.best.verdict if m.best else None,
                       "gain": m.best.gain if m.best else None} for m in matches],
        "schools": [{"code": p.school.code, "works": p.works, "estimate": p.estimate, "lower": p.lower,
                     "reference": p.reference, "social_gap": p.social_gap} for p in peers["school"]],
        "teachers": [{"id": p.teacher.pk, "name": p.teacher.full_name, "school": p.school.code, "works": p.works,
                      "estimate": p.estimate, "lower": p.lower} for p in peers["teacher"]],
    }
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    typer.echo(f"Проблемное поле №{field}: {found}")
    for item in data["practices"]:
        typer.echo(f"  практика: {item['title']} ({item['school']}), {item['verdict']}, прирост {item['gain']}")
    for item in data["schools"]:
        typer.echo(f"  школа: {item['code']}, {item['estimate']} % [от {item['lower']}] при {item['reference']} %")
    for item in data["teachers"]:
        typer.echo(f"  учитель: {item['name']} ({item['school']}), {item['estimate']} %")


@practices_app.command("mentors")
def mentors_command(
    org: Annotated[str, typer.Option("--org", help="Код муниципалитета или региона.")],
    year: Annotated[int, typer.Option("--year", help="Учебный год анализа по первому году: 2025 — это 2025/2026.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Предложить школы-шефы для школ с низкими результатами по анализу года."""
    _ready()
    from metodist.documents.common import latest_run
    from metodist.practices.matching import propose_mentor_schools

    organisation = _organisation(org)
    run = latest_run(organisation, year)
    if run is None:
        typer.echo(f"Анализа {year}/{year + 1} учебного года для {organisation.short_name} нет.", err=True)
        raise typer.Exit(1)
    proposals = propose_mentor_schools(run, organisation)
    data = {"run": run.pk, "schools": [
        {"code": p.school.code, "current": [c.mentor_school.code for c in p.current],
         "candidates": [{"code": c.school.code, "strength": c.strength, "covered": c.covered,
                         "social_gap": c.social_gap, "same_municipality": c.same_municipality, "load": c.load,
                         "score": c.score} for c in p.candidates]} for p in proposals]}
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    for item in data["schools"]:
        names = ", ".join(f"{c['code']} ({c['score']})" for c in item["candidates"]) or "подходящей школы нет"
        typer.echo(f"{item['code']}: {names}")
