"""The `metodist` command. Every import, analysis and report the pages offer is also a command here.

Every command first creates and migrates the database in the data directory when needed and loads
the shipped specifications (metodist.bootstrap), so there is no separate set-up step.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from metodist.analysis.analyse_cli import analyse_app
from metodist.analysis.cli import item_stats_command
from metodist.analysis.report_cli import report_app
from metodist.assistance.cli import assistance_app
from metodist.monitoring.cli import monitor_app
from metodist.planning.cli import plan_app
from metodist.practices.cli import practices_app

app = typer.Typer(
    help="Metodist: сбор и анализ результатов оценочных процедур, методическая работа.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("item-stats")(item_stats_command)
app.add_typer(report_app, name="report")
app.add_typer(analyse_app, name="analyse")
app.add_typer(plan_app, name="plan")
app.add_typer(practices_app, name="practices")
app.add_typer(assistance_app, name="assistance")
app.add_typer(monitor_app, name="monitor")


def _ready() -> None:
    from metodist.bootstrap import ensure_database

    ensure_database()


def _print_json(data) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@app.command("import")
def import_command(
    files: Annotated[list[Path], typer.Argument(help="Файлы для загрузки (XLSX, XLS, ODS, CSV).")],
    format: Annotated[str | None, typer.Option("--format", help="Формат; определяется сам, если не указан.")] = None,
    assessment: Annotated[str | None, typer.Option(help="Код работы, например vpr-2021-ma-5.")] = None,
    school: Annotated[str | None, typer.Option(help="Код школы для формы одной школы.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Только проверить, ничего не загружать.")] = False,
    valid_rows_only: Annotated[bool, typer.Option("--valid-rows-only", help="Загрузить только верные строки.")] = False,
    create_organisations: Annotated[
        bool, typer.Option("--create-organisations", help="Создать школы, которых нет в реестре.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Вывести итоги в JSON.")] = False,
) -> None:
    """Загрузить файлы с результатами, реестром организаций, диагностиками, анкетами, олимпиадами."""
    _ready()
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from metodist.collection.importing import FORMATS, ImportOptions, import_file

    if format and format not in FORMATS:
        typer.echo(f"Неизвестный формат «{format}». Возможные: {', '.join(FORMATS)}.", err=True)
        raise typer.Exit(2)
    console = Console(stderr=True)
    outcomes = []
    failed = False
    for file in files:
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeRemainingColumn(), console=console, transient=True,
                      disable=as_json or not console.is_terminal) as bar:
            task = bar.add_task(file.name, total=None)
            options = ImportOptions(
                format=format, assessment=assessment, school=school, dry_run=dry_run,
                valid_rows_only=valid_rows_only, create_organisations=create_organisations,
                progress=lambda done, total, t=task: bar.update(t, completed=done, total=total),
            )
            outcome = import_file(file, options)
        outcomes.append(outcome)
        failed = failed or not outcome.ok
        if not as_json:
            _print_outcome(outcome)
    if as_json:
        _print_json(outcomes[0].as_dict() if len(outcomes) == 1 else [o.as_dict() for o in outcomes])
    raise typer.Exit(1 if failed else 0)


def _print_outcome(outcome) -> None:
    typer.echo(f"{outcome.file}: {outcome.message}")
    counts = outcome.counts
    if counts:
        shown = ", ".join(f"{k}={v}" for k, v in counts.items() if not isinstance(v, dict | list))
        typer.echo(f"  {shown}")
    for problem in outcome.errors[:200]:
        typer.echo(f"  ошибка: {problem}")
    if len(outcome.errors) > 200:
        typer.echo(f"  … и ещё {len(outcome.errors) - 200} ошибок (полный список: --json)")
    for problem in [p for p in outcome.problems if p.severity == "warning"][:20]:
        typer.echo(f"  предупреждение: {problem}")


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Что есть в базе: организации, обучающиеся, учителя, работы, загрузки."""
    _ready()
    from metodist.core.status import database_status

    data = database_status()
    if as_json:
        _print_json(data)
        return
    from django.conf import settings

    typer.echo(f"База данных: {settings.DATABASES['default']['NAME']}")
    for key, value in data.items():
        typer.echo(f"  {key}: {value}")


@app.command()
def serve(
    addr: Annotated[str, typer.Option(help="Адрес и порт.")] = "127.0.0.1:8000",
    workers: Annotated[int, typer.Option(help="Процессов веб-сервера (по умолчанию: ядер × 2, не больше 8).")] = 0,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Не запускать обработчик фоновых задач (он запущен отдельно).")
    ] = False,
) -> None:
    """Запустить веб-интерфейс и рядом с ним обработчик фоновых задач (загрузка файлов через сайт)."""
    _ready()
    import subprocess

    from django.conf import settings

    worker = None
    if not no_worker and settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend":
        # a child process, so a long import does not hold up the pages; stopped when the site stops
        import os

        worker = subprocess.Popen([sys.executable, "-c",
                                   f"from metodist.cli import _task_worker; _task_worker({os.getpid()})"])
    try:
        _web_server(addr, workers)
    finally:
        if worker is not None:
            _stop_worker(worker)


def _web_server(addr: str, workers: int) -> None:
    """The site under gunicorn (several processes, each with threads), as production runs it: Django's
    development server is one process and says it is not for production."""
    import os

    from gunicorn.app.base import BaseApplication

    from metodist.wsgi import application

    count = workers or min(8, 2 * (os.cpu_count() or 1))

    class Server(BaseApplication):
        def load_config(self):
            for key, value in {"bind": addr, "workers": count, "worker_class": "gthread", "threads": 4,
                               "timeout": 120, "graceful_timeout": 20, "accesslog": None,
                               "errorlog": "-", "loglevel": "warning"}.items():
                self.cfg.set(key, value)

        def load(self):
            return application

    typer.echo(f"Metodist: http://{addr}/ ({count} процессов веб-сервера); остановить — Ctrl+C.")
    # the database connection made while migrating is not shared with the forked workers
    from django.db import connections

    connections.close_all()
    Server().run()


def _task_worker(parent: int) -> None:
    """The django-tasks database worker `serve` runs beside the site: takes queued tasks every second, and
    stops (after the task it is running) when the site's process is gone, even if that one was killed."""
    _ready()
    import os
    import signal
    import threading
    import time

    from django.core.management import call_command

    def watch_parent() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch_parent, daemon=True).start()
    call_command("db_worker", interval=1, reload=False, startup_delay=False, verbosity=0)


def _stop_worker(worker, timeout: float = 30) -> None:
    """Ask the worker to stop (it finishes the task it is running), and kill it if it does not in time:
    an import killed midway leaves the database as it was."""
    import subprocess

    if worker.poll() is None:
        worker.terminate()
    try:
        worker.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Зерно генератора: тот же seed — те же данные.")] = 2026,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Загрузить и выйти, не запуская сайт.")] = False,
    addr: Annotated[str, typer.Option(help="Адрес и порт сайта.")] = "127.0.0.1:8000",
    scale: Annotated[int | None, typer.Option(help="Сколько школ оставить (не меньше 8); для проверок.")] = None,
    no_analysis: Annotated[bool, typer.Option("--no-analysis", help="Не выполнять анализ после загрузки.")] = False,
) -> None:
    """Создать демонстрационный муниципалитет, выполнить анализ каждого учебного года и запустить сайт."""
    _ready()
    from django.utils.translation import gettext as _

    from metodist.demo.build import DemoError, build_demo

    try:
        summary = build_demo(seed=seed, echo=typer.echo, scale=scale)
    except DemoError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    if not no_analysis:
        from metodist.analysis.models import AnalysisRun, RunStatus
        from metodist.analysis.runs import run_analysis
        from metodist.core.cycle import years_with_results

        for year in sorted(years_with_results(None)):
            if AnalysisRun.objects.filter(academic_year__start_year=year, status=RunStatus.DONE).exists():
                continue
            run_analysis(year=year)
            typer.echo(_("Анализ {year}/{next} учебного года выполнен.").format(year=year, next=year + 1))
        from metodist.demo.practices import build_practices

        build_practices(echo=typer.echo)
        from metodist.demo.planning import build_plans

        build_plans(echo=typer.echo)
        from metodist.demo.assistance import build_assistance

        build_assistance(echo=typer.echo)
        from django.conf import settings

        from metodist.demo.monitoring import build_monitoring

        build_monitoring(settings.DATA_DIR / "demo" / "truth.json", echo=typer.echo)
    typer.echo(summary)
    if not no_serve:
        serve(addr=addr)


@app.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def manage(args: Annotated[list[str], typer.Argument(help="Команда Django и её аргументы.")]) -> None:
    """Команды Django (createsuperuser, dbshell, …) в окружении Metodist."""
    _ready()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["metodist manage", *args])


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
