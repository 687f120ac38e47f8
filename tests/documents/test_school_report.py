"""The analytical report of a school, DOCX and XLSX, against a real «Индивидуальные результаты» export of
ВПР 2026 (русский язык, 4 класс) counted directly with the csv module; both documents are then opened by
LibreOffice (converted to PDF) to show that a real office suite reads them."""

from __future__ import annotations

import csv
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
import typer
from docx import Document
from typer.testing import CliRunner

from metodist.analysis.models import GroupLevel, ProblemField
from metodist.analysis.report_cli import report_app
from metodist.analysis.runs import finish_run, start_run
from metodist.collection.importing import ImportOptions, import_file
from metodist.collection.models import UploadStatus
from metodist.core.models import AcademicYear, Organisation, Teacher
from metodist.documents.charts import marks_distribution_spec, task_completion_spec, to_png
from metodist.documents.school_report import build_school_report, school_report_docx, school_report_xlsx
from metodist.reference.models import Assessment
from metodist.reference.specs import ensure_shipped_specs

RU4_CSV = Path(__file__).resolve().parents[1] / "samples" / "vpr-form" / "individual-results-ru4-2026.csv"
SCHOOL = "edu203389"
WORK = "vpr-2026-ru-4"


@pytest.fixture
def ru4(db):
    ensure_shipped_specs()
    outcome = import_file(RU4_CSV, ImportOptions(assessment=WORK, create_organisations=True))
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()
    with open(RU4_CSV, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    marks = Counter(int(r["Отметка"]) for r in rows)
    n = len(rows)
    pairs = [(int(r["Отметка"]), int(r["Отметка по журналу"])) for r in rows]
    return {
        "n": n, "marks": marks,
        "success": 100 * (n - marks[2]) / n, "quality": 100 * (marks[4] + marks[5]) / n,
        "task5": 100 * sum(int(r["5 (2б)"]) for r in rows) / (2 * n),
        "lower": sum(1 for w, j in pairs if w < j), "confirmed": sum(1 for w, j in pairs if w == j),
    }


def ru(value: float) -> str:
    """As the document writes a number: one decimal at most, decimal comma."""
    return f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")


def docx_text(path: Path) -> tuple[str, list[list[list[str]]]]:
    doc = Document(str(path))
    text = "\n".join(p.text for p in doc.paragraphs)
    tables = [[[cell.text for cell in row.cells] for row in table.rows] for table in doc.tables]
    return text, tables


def test_docx_holds_the_numbers_of_the_file(ru4, tmp_path):
    path = school_report_docx(SCHOOL, WORK, tmp_path / "справка.docx")
    text, tables = docx_text(path)
    assert "Аналитическая справка" in text and "ВПР 2026. Русский язык. 4 класс" in text
    marks = tables[0]
    assert marks[0][:2] == ["Организация", "Участников"]
    school_row = marks[1]
    assert school_row[1] == str(ru4["n"]) == "50"
    assert school_row[2:6] == [ru(100 * ru4["marks"][m] / ru4["n"]) for m in (2, 3, 4, 5)]
    assert school_row[6] == ru(ru4["success"]) and school_row[7] == ru(ru4["quality"])
    # the conclusions name the numbers
    assert f"писали {ru4['n']} обучающихся" in text
    assert f"Успеваемость {ru(ru4['success'])}\u00a0%" in text
    assert f"подтвердили {ru4['confirmed']} из {ru4['n']}" in text
    assert f"понизили {ru4['lower']} " in text
    assert f"№ 5 ({ru(ru4['task5'])}\u00a0%" in text  # the weakest task of this school (44 %)
    # task completion table: task 5 at the school
    tasks = next(t for t in tables if t[0][0] == "Задание")
    row5 = next(r for r in tasks if r[0] == "5")
    assert row5[1] == "2" and row5[3] == ru(ru4["task5"])
    # journal table
    journal = next(t for t in tables if t[0][1] == "Понизили, чел.")
    assert journal[1][1] == str(ru4["lower"]) and journal[1][3] == str(ru4["confirmed"])
    # two charts, no analysis run yet
    assert len(Document(str(path)).inline_shapes) == 2
    assert "ещё не выполнялся" in text


def test_xlsx_holds_the_same_tables(ru4, tmp_path):
    path = school_report_xlsx(SCHOOL, WORK, tmp_path / "справка.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:5] == ["Справка", "Отметки", "Баллы", "Задания", "Журнал"]
    marks = book["Отметки"]
    assert marks.freeze_panes == "A2"
    assert marks["B2"].value == ru4["n"]
    assert marks["C2"].value == pytest.approx(100 * ru4["marks"][2] / ru4["n"])
    assert marks["G2"].value == pytest.approx(ru4["success"])
    assert marks["G2"].number_format == "0.0"
    assert marks.column_dimensions["A"].width > 30
    tasks = book["Задания"]
    row5 = next(r for r in tasks.iter_rows(values_only=True) if r[0] == "5")
    assert row5[3] == pytest.approx(ru4["task5"])
    summary = "\n".join(str(c.value) for c in book["Справка"]["A"] if c.value)
    assert f"Успеваемость {ru(ru4['success'])}\u00a0%" in summary


def test_problem_fields_of_the_latest_run(ru4, tmp_path):
    school = Organisation.objects.get(code=SCHOOL)
    teacher = Teacher.objects.create(school=school, full_name="Иванова Мария Петровна")
    run = start_run(AcademicYear.of_spring(2026), school.ancestors()[-1])
    ProblemField.objects.create(
        run=run, assessment=Assessment.objects.get(code=WORK), group_level=GroupLevel.TEACHER,
        organisation=school, teacher=teacher, field_kind="task_type", task_type="развёрнутый",
        pupils=50, solve_rate=41.5, reference=63.0, reference_level="region", difference=-21.5, flagged=True,
        priority=1, explanation="Процент выполнения 41,5 % ниже регионального (63 %).",
    )
    report = build_school_report(SCHOOL, WORK)
    assert report.run_id is None  # a running (unfinished) analysis is not used
    finish_run(run, {})
    report = build_school_report(SCHOOL, WORK)
    assert report.run_id == run.pk and len(report.problem_fields) == 1
    assert any("Иванова Мария Петровна" in s and "развёрнутый" in s for s in report.recommendations)
    text, tables = docx_text(school_report_docx(SCHOOL, WORK, tmp_path / "с-полями.docx"))
    assert "Процент выполнения 41,5 % ниже регионального (63 %)." in text
    fields = next(t for t in tables if t[0][0] == "Класс или учитель")
    assert fields[1][:4] == ["Иванова Мария Петровна", "развёрнутый", "50", "41,5"]


def test_charts_are_vega_lite_and_render(ru4):
    report = build_school_report(SCHOOL, WORK).standard
    marks = marks_distribution_spec(report)
    assert marks["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    values = marks["data"]["values"]
    assert {"mark": "«2»", "level": report.own.name, "pct": round(100 * 8 / 50, 1)} in values
    tasks = task_completion_spec(report)
    assert {v["task"] for v in tasks["data"]["values"]} == {t.number for t in report.tasks}
    assert to_png(tasks)[:8] == b"\x89PNG\r\n\x1a\n"


def test_command(ru4, tmp_path):
    app = typer.Typer()
    app.add_typer(report_app, name="report")
    runner = CliRunner()
    out = tmp_path / "справка.xlsx"
    result = runner.invoke(app, ["report", "school", SCHOOL, "--assessment", WORK, "--format", "xlsx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(out)["Отметки"]["B2"].value == 50
    result = runner.invoke(app, ["report", "school", "edu000000", "--assessment", WORK])
    assert result.exit_code == 1 and "не найдена" in result.output


def test_command_year(ru4, tmp_path):
    """`--year` alone: every work of the year the school wrote (here the one imported); with `--assessment`
    the work must be of that year; one of the two must be given."""
    app = typer.Typer()
    app.add_typer(report_app, name="report")
    runner = CliRunner()
    out = tmp_path / "год.xlsx"
    result = runner.invoke(app, ["report", "school", SCHOOL, "--year", "2025", "--format", "xlsx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    assert book["Отметки"]["B2"].value == ru4["n"]
    result = runner.invoke(app, ["report", "school", SCHOOL, "--assessment", WORK, "--year", "2025", "-o",
                                 str(tmp_path / "р.docx")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["report", "school", SCHOOL])
    assert result.exit_code == 2 and "Укажите работу (--assessment) или учебный год (--year)." in result.output
    result = runner.invoke(app, ["report", "school", SCHOOL, "--assessment", WORK, "--year", "2026"])
    assert result.exit_code == 1
    assert ("Работа «ВПР 2026. Русский язык. 4 класс» проводилась в 2025/2026 учебном году, а не в 2026/2027."
            in result.output)
    result = runner.invoke(app, ["report", "school", SCHOOL, "--year", "2024"])
    assert result.exit_code == 1 and "В 2024/2025 учебном году у организации" in result.output
    assert "нет ни одной работы." in result.output


@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_libreoffice_opens_the_document(ru4, tmp_path, kind):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    make = school_report_docx if kind == "docx" else school_report_xlsx
    path = make(SCHOOL, WORK, tmp_path / f"report.{kind}")
    outdir = tmp_path / "pdf"
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                    "--convert-to", "pdf", "--outdir", str(outdir), str(path)],
                   check=True, capture_output=True, timeout=180)
    pdf = outdir / "report.pdf"
    assert pdf.exists() and pdf.stat().st_size > 1000
    assert pdf.read_bytes()[:5] == b"%PDF-"
