"""`metodist report …`: the reports as commands. Registered in metodist/cli.py as the `report` group."""

from __future__ import annotations

import json
from typing import Annotated

import typer

report_app = typer.Typer(
    help="Отчёты по результатам оценочных процедур.", no_args_is_help=True, add_completion=False,
    pretty_exceptions_enable=False,
)


@report_app.command("standard")
def standard(
    assessment: Annotated[str, typer.Option("--assessment", help="Код работы, например vpr-2026-ru-4.")],
    org: Annotated[str | None, typer.Option("--org", help="Код организации; без него — все данные.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Вывести итоги в JSON.")] = False,
    engine: Annotated[str, typer.Option("--engine", help="Где считать: default (база данных) или duckdb.")] = "default",
) -> None:
    """Четыре стандартных отчёта: отметки, первичные баллы, выполнение заданий, сравнение с журналом."""
    from metodist.bootstrap import ensure_database

    ensure_database()
    from django.utils.translation import gettext as _

    from metodist.analysis.engine import ENGINES
    from metodist.analysis.standard_reports import ReportError, standard_report

    if engine not in ENGINES:
        typer.echo(_("Неизвестный способ расчёта «{name}». Возможные: {names}.").format(
            name=engine, names=", ".join(ENGINES)), err=True)
        raise typer.Exit(2)
    try:
        report = standard_report(assessment, org, engine=engine)
    except ReportError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
        return
    print_report(report)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}".replace(".", ",")


def _count(value: int | None) -> str:
    """A count; «—» when it is not known (a level known only from published percentages)."""
    return "—" if value is None else str(value)


def print_report(report, console=None) -> None:
    """The four reports as tables, as the federal system lays them out."""
    from django.utils.translation import gettext as _
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    levels = [*reversed(report.parents), report.own]  # from the whole database down to the organisation
    console.print(f"[bold]{report.assessment_title}[/bold] ({report.assessment_code})")

    marks = Table(title=_("Статистика по отметкам, %"))
    for header in (_("Организация"), _("Участников"), "«2»", "«3»", "«4»", "«5»", _("Успеваемость"),
                   _("Качество")):
        marks.add_column(header, justify="left" if header == _("Организация") else "right")
    for level in levels:
        pct = level.marks_pct
        marks.add_row(level.name, _count(level.participants), *(_pct(pct[m]) for m in (2, 3, 4, 5)),
                      _pct(level.success_pct), _pct(level.quality_pct))
    national = report.national
    if national is not None:
        marks.caption = _("«{name}» — цифры, опубликованные в ФИС ОКО (файл {file}{date}).").format(
            name=national.name, file=national.source_file or "—",
            date=_(", дата отчёта {date}").format(date=".".join(reversed(national.report_date.split("-"))))
            if national.report_date else "")
    console.print(marks)

    own = report.own
    scores = Table(title=_("Распределение первичных баллов: {name}").format(name=own.name))
    for header in (_("Первичный балл"), _("Участников"), "%", _("Порог отметки")):
        scores.add_column(header, justify="right")
    minimum_of = {v: m for m, v in report.thresholds.items() if m > 2}
    total = sum(own.scores.values())
    for score, n in own.scores.items():
        mark = minimum_of.get(score)
        scores.add_row(str(score), str(n), _pct(100 * n / total if total else None),
                       _("от этого балла «{mark}»").format(mark=mark) if mark else "")
    if not report.thresholds:
        scores.caption = _("Шкала перевода баллов в отметки для этой работы не загружена.")
    console.print(scores)

    tasks = Table(title=_("Выполнение заданий, %"))
    for header in (_("Задание"), _("Макс. балл"), _("Элементы содержания (КЭС)"), _("Умения (КТ)")):
        tasks.add_column(header)
    for level in reversed(levels):
        tasks.add_column(level.name, justify="right")
    rates = [level.solve_rate_pct for level in reversed(levels)]
    for task in report.tasks:
        tasks.add_row(task.number, str(task.max_score), ", ".join(c for c, _n in task.content_elements),
                      ", ".join(c for c, _n in task.skills), *(_pct(r[task.number]) for r in rates))
    console.print(tasks)

    journal = Table(title=_("Сравнение отметок с отметками по журналу"))
    journal.add_column(_("Организация"))
    for header in (_("Понизили (отметка < отметки по журналу)"), _("Подтвердили (отметка = отметке по журналу)"),
                   _("Повысили (отметка > отметки по журналу)"), _("Всего")):
        journal.add_column(header, justify="right")
    for level in levels:
        pct = level.journal_pct
        journal.add_row(level.name, *(f"{_count(level.journal[k])} ({_pct(pct[k])} %)" for k in ("lower", "confirmed",
                                                                                                   "higher")),
                        _count(level.compared))
    console.print(journal)

    if report.not_taught:
        taught = Table(title=_("Тема не пройдена («не пройд.»)"))
        for header in (_("Школа"), _("Задание"), _("Работ"), _("Доля участников, %")):
            taught.add_column(header, justify="left" if header == _("Школа") else "right")
        for row in report.not_taught:
            taught.add_row(f"{row.school_name} ({row.school_code})", row.task, str(row.works), _pct(row.pct))
        console.print(taught)
    else:
        console.print(_("Отметок «не пройд.» в работах нет."))

    notes = report.published_notes()
    if notes:
        console.print(f"[bold]{_('Сверка с опубликованными данными ФИС ОКО')}[/bold]")
        for note in notes:
            console.print(f"• {note}", markup=False)


@report_app.command("trend")
def trend(
    programme: Annotated[str, typer.Option("--programme", help="Программа: vpr, oge, ege, …")],
    subject: Annotated[str, typer.Option("--subject", help="Код предмета, например ma.")],
    grade: Annotated[int, typer.Option("--grade", help="Класс (параллель).")],
    org: Annotated[str | None, typer.Option("--org", help="Код организации; без него — все данные.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Вывести итоги в JSON.")] = False,
) -> None:
    """Динамика по годам: отметки, средний балл и решаемость элементов содержания."""
    from metodist.bootstrap import ensure_database

    ensure_database()
    from django.utils.translation import gettext as _
    from rich.console import Console
    from rich.table import Table

    from metodist.analysis.standard_reports import ReportError
    from metodist.analysis.trends import trend as make_trend

    try:
        result = make_trend(programme, subject, grade, org)
    except ReportError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
        return
    console = Console()
    figures = Table(title=_("Динамика результатов: {family}, {name}").format(
        family=result.family, name=result.organisation_name))
    for header in (_("Год"), _("Работа"), _("Участников"), "«2»", "«3»", "«4»", "«5»", _("Успеваемость"),
                   _("Качество"), _("Средний балл, % от максимума")):
        figures.add_column(header, justify="right")
    for year in result.years:
        figures.add_row(str(year.year), year.assessment_code, str(year.participants),
                        *(_pct(year.marks_pct[m]) for m in (2, 3, 4, 5)), _pct(year.success_pct),
                        _pct(year.quality_pct), _pct(year.mean_primary_pct))
    console.print(figures)
    elements = Table(title=_("Решаемость по элементам содержания (КЭС), %"))
    elements.add_column(_("КЭС"))
    elements.add_column(_("Название"))
    for year in result.years:
        elements.add_column(str(year.year), justify="right")
    for element in result.elements:
        elements.add_row(element.code, element.name,
                         *(_pct(element.solve_rate_pct.get(y.year)) for y in result.years))
    console.print(elements)


@report_app.command("cohort")
def cohort(
    start: Annotated[str, typer.Option("--from", help="Код первой работы, например vpr-2024-ma-4.")],
    end: Annotated[str, typer.Option("--to", help="Код второй работы, например vpr-2025-ma-5.")],
    org: Annotated[str | None, typer.Option("--org", help="Код организации; без него — все данные.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Вывести итоги в JSON.")] = False,
) -> None:
    """Когорта: те же обучающиеся, классы и школы в работе одного года и следующей."""
    from metodist.bootstrap import ensure_database

    ensure_database()
    from django.utils.translation import gettext as _
    from rich.console import Console
    from rich.table import Table

    from metodist.analysis.standard_reports import ReportError
    from metodist.analysis.trends import cohort as make_cohort

    try:
        result = make_cohort(start, end, org)
    except ReportError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
        return
    console = Console()
    console.print(_("Когорта: {start} → {end}.").format(start=result.from_code, end=result.to_code))
    pupils = result.pupils
    if pupils.pupils:
        console.print(_("Обучающихся с работами в обеих процедурах: {n}; средний балл {a} % → {b} % от "
                        "максимума.").format(n=pupils.pupils, a=_pct(pupils.before.mean_primary_pct),
                                             b=_pct(pupils.after.mean_primary_pct)))
    else:
        console.print(_("Ни один обучающийся не связан между двумя работами (коды участников ВПР меняются "
                        "каждый год); сравнение — по классам и школам."))
    for title, groups in ((_("По классам"), result.classes), (_("По школам"), result.schools)):
        table = Table(title=title)
        headers = [_("Школа"), _("Класс")]
        for year in (result.from_year, result.to_year):
            headers += [_("Участников, {year}").format(year=year), _("Средний балл, % ({year})").format(year=year),
                        _("«2» / «3» / «4» / «5», % ({year})").format(year=year)]
        for header in (*headers, _("Изменение, п. п.")):
            table.add_column(header, justify="left" if header == _("Школа") else "right")
        for group in groups:
            klass = "" if group.letter is None else f"{result.from_grade}{group.letter} → {result.to_grade}{group.letter}"
            sides = []
            for side in (group.before, group.after):
                sides += [str(side.works), _pct(side.mean_primary_pct),
                          " / ".join(_pct(side.marks_pct[m]) for m in (2, 3, 4, 5))]
            table.add_row(f"{group.school_name} ({group.school_code})", klass, *sides, _pct(group.change_pct))
        console.print(table)


def _document(make, code: str, assessment: str | None, year: int | None, fmt: str, output: str | None,
              engine: str) -> None:
    """Check the options, make the document, exit 2 for bad options and 1 for what cannot be reported."""
    from django.utils.translation import gettext as _

    from metodist.analysis.engine import ENGINES
    from metodist.analysis.standard_reports import ReportError

    if fmt not in ("docx", "xlsx"):
        typer.echo(_("Неизвестный формат «{name}». Возможные: docx, xlsx.").format(name=fmt), err=True)
        raise typer.Exit(2)
    if engine not in ENGINES:
        typer.echo(_("Неизвестный способ расчёта «{name}». Возможные: {names}.").format(
            name=engine, names=", ".join(ENGINES)), err=True)
        raise typer.Exit(2)
    if assessment is None and year is None:
        typer.echo(_("Укажите работу (--assessment) или учебный год (--year)."), err=True)
        raise typer.Exit(2)
    path = output or f"{code}-{assessment or year}.{fmt}"
    try:
        make[fmt](code, assessment, path, year=year, engine=engine)
    except ReportError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    typer.echo(_("Справка сохранена в файл {path}.").format(path=path))


ASSESSMENT_HELP = "Код работы, например vpr-2026-ru-4."
YEAR_HELP = "Учебный год по первому году: 2025 — это 2025/2026; без --assessment — все работы этого года."


@report_app.command("school")
def school_command(
    code: Annotated[str, typer.Argument(help="Код школы, например edu203389.")],
    assessment: Annotated[str | None, typer.Option("--assessment", help=ASSESSMENT_HELP)] = None,
    year: Annotated[int | None, typer.Option("--year", help=YEAR_HELP)] = None,
    fmt: Annotated[str, typer.Option("--format", help="Формат документа: docx или xlsx.")] = "docx",
    output: Annotated[str | None, typer.Option("-o", "--output", help="Куда сохранить файл.")] = None,
    engine: Annotated[str, typer.Option("--engine", help="Где считать: default (база данных) или duckdb.")] = "default",
) -> None:
    """Аналитическая справка школы по результатам работы или учебного года: DOCX для подписи или XLSX."""
    from metodist.bootstrap import ensure_database

    ensure_database()
    from metodist.documents.school_report import school_report_docx, school_report_xlsx

    _document({"docx": school_report_docx, "xlsx": school_report_xlsx}, code, assessment, year, fmt, output, engine)


@report_app.command("municipality")
def municipality_command(
    code: Annotated[str, typer.Argument(help="Код муниципалитета, например demo-m01.")],
    assessment: Annotated[str | None, typer.Option("--assessment", help=ASSESSMENT_HELP)] = None,
    year: Annotated[int | None, typer.Option("--year", help=YEAR_HELP)] = None,
    fmt: Annotated[str, typer.Option("--format", help="Формат документа: docx или xlsx.")] = "docx",
    output: Annotated[str | None, typer.Option("-o", "--output", help="Куда сохранить файл.")] = None,
    engine: Annotated[str, typer.Option("--engine", help="Где считать: default (база данных) или duckdb.")] = "default",
) -> None:
    """Аналитическая справка муниципалитета: результаты школ, проблемные поля, объективность, рекомендации."""
    from metodist.bootstrap import ensure_database

    ensure_database()
    from metodist.documents.municipality_report import municipality_report_docx, municipality_report_xlsx

    _document({"docx": municipality_report_docx, "xlsx": municipality_report_xlsx}, code, assessment, year, fmt,
              output, engine)
