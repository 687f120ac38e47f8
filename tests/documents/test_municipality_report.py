"""The municipality's analytical report on the demo (8 schools, every planted truth) after one analysis of
2025/2026: the schools' figures against the Work rows counted here, the content elements' solve rates
against the TaskScore rows, the planted schools in their places, the conclusions' numbers, the `--year`
mode, the command's errors, and LibreOffice opening the DOCX and the XLSX."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter, defaultdict

import openpyxl
import pytest
import typer
from django.db import transaction
from docx import Document
from typer.testing import CliRunner

SEED = 11
SCALE = 8
MUNICIPALITY = "demo-m01"
WORK = "vpr-2026-ma-7"


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo and one finished analysis of 2025/2026, in one transaction rolled back at the end; the
    year's and the work's DOCX and XLSX are made once."""
    from metodist.analysis.runs import run_analysis
    from metodist.demo.build import build_demo
    from metodist.documents.municipality_report import build_municipality_report, write_docx, write_xlsx

    data_dir = tmp_path_factory.mktemp("demo")
    out = tmp_path_factory.mktemp("documents")
    with django_db_blocker.unblock(), transaction.atomic():
        build_demo(seed=SEED, echo=lambda _m: None, scale=SCALE, data_dir=data_dir)
        truth = json.loads((data_dir / "demo" / "truth.json").read_text(encoding="utf-8"))
        run = run_analysis(year=2025)
        work = build_municipality_report(MUNICIPALITY, WORK)
        year = build_municipality_report(MUNICIPALITY, year=2025)
        yield {
            "truth": truth, "run": run, "out": out, "work": work, "year": year,
            "work_docx": write_docx(work, out / "work.docx"), "work_xlsx": write_xlsx(work, out / "work.xlsx"),
            "year_docx": write_docx(year, out / "year.docx"), "year_xlsx": write_xlsx(year, out / "year.xlsx"),
        }
        transaction.set_rollback(True)


def ru(value: float) -> str:
    """As the document writes a number: one decimal at most, decimal comma, a real minus."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return ("0" if text == "-0" else text).replace(".", ",").replace("-", "−")


def docx_text(path) -> tuple[str, list[list[list[str]]]]:
    doc = Document(str(path))
    text = "\n".join(p.text for p in doc.paragraphs)
    tables = [[[cell.text for cell in row.cells] for row in table.rows] for table in doc.tables]
    return text, tables


def by_hand(assessment_code: str) -> dict:
    """Per school of the municipality, from the Work rows: present works, marks, success, quality, mean
    primary score in % of the maximum; and the same for the municipality."""
    from metodist.collection.models import Work
    from metodist.reference.models import Assessment

    assessment = Assessment.objects.get(code=assessment_code)
    rows = Work.objects.filter(assessment=assessment, absent=False, school__path__startswith=municipality_path())
    schools: dict[str, dict] = defaultdict(lambda: {"n": 0, "marks": Counter(), "scores": []})
    for code, mark, score in rows.values_list("school__code", "mark", "primary_score"):
        for key in (code, MUNICIPALITY):
            schools[key]["n"] += 1
            if mark is not None:
                schools[key]["marks"][mark] += 1
            if score is not None:
                schools[key]["scores"].append(score)
    for figures in schools.values():
        marked = sum(figures["marks"].values())
        figures["pct"] = {m: 100 * figures["marks"][m] / marked for m in (2, 3, 4, 5)}
        figures["success"] = 100 * (marked - figures["marks"][2]) / marked
        figures["quality"] = 100 * (figures["marks"][4] + figures["marks"][5]) / marked
        figures["mean"] = 100 * sum(figures["scores"]) / len(figures["scores"]) / assessment.max_primary
    return dict(schools)


def municipality_path() -> str:
    from metodist.core.models import Organisation

    return Organisation.objects.get(code=MUNICIPALITY).path


@pytest.mark.django_db
def test_the_schools_table_holds_the_figures_of_the_work_rows(demo):
    hand = by_hand(WORK)
    _text, tables = docx_text(demo["work_docx"])
    table = next(t for t in tables if t[0][:2] == ["№", "Школа"])
    rows = {row[2]: row for row in table[1:]}
    schools = [code for code in hand if code != MUNICIPALITY]
    assert len(schools) == SCALE and set(rows) == {*schools, MUNICIPALITY}
    municipal_mean = hand[MUNICIPALITY]["mean"]
    for code, figures in hand.items():
        row = rows[code]
        assert row[3] == str(figures["n"])
        assert row[4:8] == [ru(figures["pct"][m]) for m in (2, 3, 4, 5)]
        assert row[8] == ru(figures["success"]) and row[9] == ru(figures["quality"])
        assert row[10] == ru(figures["mean"])
        if code != MUNICIPALITY:
            assert row[11] == ru(figures["mean"] - municipal_mean)
    # sorted by the mean primary score, best first; the municipality last
    order = [row[2] for row in table[1:-1]]
    assert order == sorted(schools, key=lambda c: -hand[c]["mean"])
    assert table[-1][2] == MUNICIPALITY
    # the XLSX has the same numbers, unrounded, with number formats and frozen header and names
    sheet = openpyxl.load_workbook(demo["work_xlsx"])["Школы"]
    assert sheet.freeze_panes == "C2"
    xrows = {r[2]: r for r in sheet.iter_rows(min_row=2, values_only=True) if r[2]}
    for code, figures in hand.items():
        assert xrows[code][3] == figures["n"]
        assert xrows[code][8] == pytest.approx(figures["success"])
        assert xrows[code][10] == pytest.approx(figures["mean"])
    first = next(r for r in sheet.iter_rows(min_row=2) if r[2].value == order[0])
    assert first[8].number_format == "0.0" and first[10].number_format == "0.0"


@pytest.mark.django_db
def test_the_planted_schools_are_where_they_belong(demo):
    truth = demo["truth"]
    low = {s["school"] for s in truth["low_result_schools"]}
    inflated = truth["inflated_school"]["school"]
    resilient = truth["resilient_school"]["school"]
    _text, tables = docx_text(demo["work_docx"])
    table = next(t for t in tables if t[0][:2] == ["№", "Школа"])
    status = {row[2]: row[12] for row in table[1:]}
    assert {c for c, s in status.items() if "низкие результаты" in s} == low
    assert {c for c, s in status.items() if "резильентная" in s} == {resilient}
    assert "риск необъективности" in status[inflated]
    # the objectivity list: the inflated school first, marked as tripped
    objectivity = next(t for t in tables if t[0][:2] == ["Место", "Школа"])
    assert objectivity[1][2] == inflated and objectivity[1][0] == "1"
    report = demo["year"]
    risky = [row.code for row in report.objectivity if row.tripped]
    assert risky[0] == inflated
    # recommendations: the low-results schools get targeted help, the resilient one mentors, the inflated
    # one is checked
    names = {s["code"]: s["name"] for s in truth["schools"]}
    help_, mentors, check = (next(r for r in report.recommendations if r.startswith(start)) for start in (
        "Оказать адресную", "Рассмотреть как школы-наставники", "Проверить объективность"))
    assert all(names[c] in help_ for c in low)
    assert names[resilient] in mentors and names[inflated] not in mentors
    assert names[inflated] in check
    assert "низкие образовательные результаты" in help_


@pytest.mark.django_db
def test_problem_fields_by_content_element(demo):
    """The planted teachers' content elements of ВПР 7 mathematics are marked in their schools, and the
    solve rates are the TaskScore rows' sums over the element's tasks."""
    from metodist.collection.models import TaskScore, Work
    from metodist.reference.models import Task

    section = demo["work"].sections[0]
    planted = [d for d in demo["truth"]["teacher_deficits"] if d["codifier"] == "vpr-ma-7"]
    assert len(planted) == 2
    elements = {e.code: e for e in section.elements}
    for deficit in planted:
        element = elements[deficit["element"]]
        assert deficit["school"] in element.flagged
        tasks = next(a["tasks"] for a in deficit["assessments"] if a["assessment"] == WORK)
        scores = TaskScore.objects.filter(work__assessment__code=WORK, work__absent=False,
                                          work__school__code=deficit["school"], task__number__in=tasks)
        points = sum(scores.values_list("score", flat=True))
        works = Work.objects.filter(assessment__code=WORK, absent=False, school__code=deficit["school"]).count()
        maxima = sum(Task.objects.filter(assessment__code=WORK, number__in=tasks).values_list("max_score", flat=True))
        assert element.rates[deficit["school"]] == pytest.approx(100 * points / (maxima * works))
    # the DOCX marks the cell (bold), the XLSX fills it
    doc = Document(str(demo["work_docx"]))
    grid = next(t for t in doc.tables if t.rows[0].cells[0].text == "Элемент содержания (КЭС)")
    number_of = {s.code: str(i) for i, s in enumerate(section.schools, start=1)}
    headers = [c.text for c in grid.rows[0].cells]
    for deficit in planted:
        row = next(r for r in grid.rows if r.cells[0].text.split(" ")[0] == deficit["element"])
        cell = row.cells[headers.index(number_of[deficit["school"]])]
        assert [r.bold for r in cell.paragraphs[0].runs] == [True]
    sheet = openpyxl.load_workbook(demo["work_xlsx"])["Элементы содержания"]
    assert sheet.freeze_panes == "B2"
    head = [c.value for c in sheet[1]]
    for deficit in planted:
        row = next(r for r in sheet.iter_rows(min_row=2) if str(r[0].value).split(" ")[0] == deficit["element"])
        cell = row[head.index(number_of[deficit["school"]])]
        assert cell.number_format == "0.0" and cell.font.bold


@pytest.mark.django_db
def test_conclusions_name_the_numbers(demo):
    hand = by_hand(WORK)
    own = hand[MUNICIPALITY]
    schools = {c: f for c, f in hand.items() if c != MUNICIPALITY}
    below = [c for c, f in schools.items() if round(f["success"], 1) < round(own["success"], 1)]
    text, _tables = docx_text(demo["work_docx"])
    assert f"писали {own['n']} обучающихся из {len(schools)} школ муниципалитета" in text
    assert f"У {len(below)} школ из {len(schools)} успеваемость ниже, чем по муниципалитету " \
           f"({ru(own['success'])}\u00a0%)" in text or (len(below) == 1 and "У 1 школы" in text)
    best = max(schools, key=lambda c: schools[c]["mean"])
    worst = min(schools, key=lambda c: schools[c]["mean"])
    names = {s["code"]: s["name"] for s in demo["truth"]["schools"]}
    assert f"выше всего у школы {names[best]} ({ru(schools[best]['mean'])}\u00a0%)" in text
    assert f"ниже всего у школы {names[worst]} ({ru(schools[worst]['mean'])}\u00a0%)" in text
    assert "Статусы школ, проблемные поля и список объективности — по данным анализа" in text


@pytest.mark.django_db
def test_the_year_covers_every_work_the_municipality_wrote(demo):
    from metodist.collection.models import Work

    written = set(Work.objects.filter(assessment__year=2026, absent=False).values_list("assessment__code", flat=True))
    report = demo["year"]
    assert {s.assessment_code for s in report.sections} == written and len(written) >= 8
    assert len(report.summary.rows) == len(written)
    text, tables = docx_text(demo["year_docx"])
    assert "по результатам оценочных процедур 2025/2026 учебного года" in text
    summary = next(t for t in tables if t[0][0] == "Работа")
    hand = by_hand("vpr-2026-ru-4")[MUNICIPALITY]
    row = next(r for r in summary if r[0].startswith("ВПР 2026. Русский язык. 4 класс"))
    assert row[2] == str(hand["n"]) and row[7] == ru(hand["success"])
    book = openpyxl.load_workbook(demo["year_xlsx"])
    assert book.sheetnames[:2] == ["Справка", "Работы года"]
    assert sum(1 for name in book.sheetnames if name.endswith(". Школы")) == len(written)
    assert book["Работы года"].freeze_panes == "A2"


@pytest.mark.django_db
def test_without_analysis_the_document_says_so(demo, tmp_path):
    from metodist.documents.municipality_report import municipality_report_docx

    text, _tables = docx_text(municipality_report_docx(MUNICIPALITY, "vpr-2025-ma-7", tmp_path / "2024.docx"))
    assert "Анализ результатов за 2024/2025 учебный год ещё не выполнялся" in text
    assert "Выполнить анализ результатов года" in text


@pytest.mark.django_db
def test_school_report_of_a_year(demo, tmp_path):
    from metodist.collection.models import Work
    from metodist.documents.school_report import school_report_docx

    school = demo["truth"]["inflated_school"]["school"]
    written = sorted(set(Work.objects.filter(assessment__year=2026, absent=False, school__code=school)
                         .values_list("assessment__title", flat=True)))
    doc = Document(str(school_report_docx(school, None, tmp_path / "s.docx", year=2025)))
    parts = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert sorted(re.sub(r"^\d+\. ", "", p) for p in parts) == written and len(written) >= 8
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "по результатам оценочных процедур 2025/2026 учебного года" in text


@pytest.mark.django_db
def test_command(demo, tmp_path):
    from metodist.analysis.report_cli import report_app

    app = typer.Typer()
    app.add_typer(report_app, name="report")
    runner = CliRunner()
    out = tmp_path / "м.xlsx"
    result = runner.invoke(app, ["report", "municipality", MUNICIPALITY, "--assessment", WORK, "--year", "2025",
                                 "--format", "xlsx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(out)["Школы"]
    assert sum(1 for r in sheet.iter_rows(min_row=2, values_only=True) if r[2]) == SCALE + 1  # and the municipality
    cases = [
        (["report", "municipality", MUNICIPALITY], 2, "Укажите работу (--assessment) или учебный год (--year)."),
        (["report", "municipality", "nowhere", "--year", "2025"], 1, "Организация с кодом «nowhere» не найдена."),
        (["report", "municipality", "edu900001", "--year", "2025"], 1, "не муниципалитет"),
        (["report", "municipality", MUNICIPALITY, "--year", "2030"], 1,
         "В 2030/2031 учебном году у организации «Демонстрационный городской округ» нет ни одной работы."),
        (["report", "municipality", MUNICIPALITY, "--assessment", WORK, "--year", "2024"], 1,
         "проводилась в 2025/2026 учебном году, а не в 2024/2025."),
        (["report", "municipality", MUNICIPALITY, "--assessment", "vpr-1999-xx-1"], 1, "не найдена"),
        (["report", "municipality", MUNICIPALITY, "--year", "2025", "--format", "pdf"], 2, "Неизвестный формат"),
        (["report", "school", "edu900001"], 2, "Укажите работу (--assessment) или учебный год (--year)."),
        (["report", "school", "edu900001", "--assessment", WORK, "--year", "2024"], 1, "а не в 2024/2025."),
        (["report", "school", MUNICIPALITY, "--year", "2025"], 1, "не школа"),
    ]
    for args, code, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == code, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output


def pdf_pages(path) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", path.read_bytes()))


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["year.docx", "year.xlsx", "work.docx"])
def test_libreoffice_opens_the_document(demo, tmp_path, name):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    path = demo["out"] / name
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=240)
    pdf = tmp_path / (path.stem + ".pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    pages = pdf_pages(pdf)
    assert pages > 0
    if name == "year.docx":
        assert pages >= len(demo["year"].sections)  # a part of at least a page per work
