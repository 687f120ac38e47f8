"""The national reference in the standard reports: the federal system's «Статистика по отметкам» of ВПР 2026
Russian grade 4 (rows copied from the real export, /work/shared/real-samples/fis-oko-reports/) is loaded
beside 50 pupils of the real school edu203389 (tests/samples/vpr-form), whose published row says 89
participants. The whole country must be the topmost parent with the published shares; the school's own
figures (counted here from the CSV) must be set against its published ones, and the gap shown."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
import typer
import xlsxwriter
from typer.testing import CliRunner

from metodist.analysis.report_cli import report_app
from metodist.analysis.standard_reports import ReferenceLevel, standard_report
from metodist.collection.importing import ImportOptions, import_file
from metodist.collection.models import UploadStatus
from metodist.reference.specs import ensure_shipped_specs

RU4_CSV = Path(__file__).resolve().parents[1] / "samples" / "vpr-form" / "individual-results-ru4-2026.csv"
ENGINES = ["default", "duckdb"]
TITLE = [
    (3, ["ВПР 2026 Русский язык 4 класс"]),
    (4, ["Предмет:", "Русский язык"]),
    (5, ["Максимальный первичный балл:", 24]),
    (6, ["Дата:", "20.04.2026"]),
]
MARKS = [
    (1, ["Статистика по отметкам"]), *TITLE,
    (8, ["Группы участников", "Кол-во ОО", "Кол-во участников", 2, 3, 4, 5]),
    (9, ["Вся выборка", 35589, 1722202, 5.06, 32.92, 44.33, 17.69]),
    (10, ["Чеченская Республика", 560, 30216, 13.44, 44.15, 36.28, 6.14]),
    (11, ["Урус-Мартановский муниципальный район(reg20_m012)", 47, 3162, 13.57, 46.9, 33.65, 5.88]),
    (12, ["МБОУ «СОШ №1 г.Урус-Мартан»(edu203389)", None, 89, 12.36, 52.81, 26.97, 7.87]),
]
TASKS = ["1", "2", "3", "4", "5", "6", "7", "8", "9.1", "9.2", "10.1", "10.2", "11", "12.1", "12.2"]
NATIONAL_SOLVE = [71.5, 80.12, 64.3, 55.0, 48.25, 90.1, 77.77, 61.0, 58.4, 45.5, 66.6, 52.3, 83.2, 49.9, 70.0]


def run(*args: str):
    app = typer.Typer()
    app.add_typer(report_app, name="report")
    return CliRunner().invoke(app, ["report", *args], terminal_width=200)


def workbook(tmp_path: Path, name: str, sheets: dict) -> Path:
    path = tmp_path / name
    book = xlsxwriter.Workbook(str(path))
    for sheet_name, rows in sheets.items():
        sheet = book.add_worksheet(sheet_name)
        for number, cells in rows:
            for col, value in enumerate(cells):
                if value is not None:
                    sheet.write(number - 1, col, value)
    book.close()
    return path


@pytest.fixture
def pupils(db):
    ensure_shipped_specs()
    outcome = import_file(RU4_CSV, ImportOptions(assessment="vpr-2026-ru-4", create_organisations=True))
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()
    with open(RU4_CSV, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def published(pupils, tmp_path):
    path = workbook(tmp_path, "Ф3_Статистика по отметкам.xlsx", {"РУ 4 Статистика по отметкам": MARKS})
    outcome = import_file(path)
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()
    return pupils


def load(tmp_path: Path, name: str, sheet: str, rows) -> None:
    outcome = import_file(workbook(tmp_path, name, {sheet: rows}))
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()


@pytest.mark.parametrize("engine", ENGINES)
def test_no_reference_without_published_figures(pupils, engine):
    report = standard_report("vpr-2026-ru-4", "edu203389", engine=engine)
    assert report.national is None
    assert [p.kind for p in report.parents] == ["municipality", "region", "all"]
    assert report.own.published is None and report.published_notes() == []


@pytest.mark.parametrize("engine", ENGINES)
def test_the_whole_country_is_the_topmost_parent(published, engine):
    report = standard_report("vpr-2026-ru-4", "edu203389", engine=engine)
    assert [p.kind for p in report.parents] == ["municipality", "region", "all", "national"]
    national = report.parents[-1]
    assert isinstance(national, ReferenceLevel) and national is report.national
    assert national.name == "Вся выборка (Россия)" and national.code is None
    assert national.participants == 1722202 and national.schools == 35589
    assert national.marks_pct == {2: 5.06, 3: 32.92, 4: 44.33, 5: 17.69}
    assert national.success_pct == pytest.approx(32.92 + 44.33 + 17.69)
    assert national.quality_pct == pytest.approx(44.33 + 17.69)
    # not loaded: unknown, not zero
    assert national.solve_rate_pct == dict.fromkeys(TASKS)
    assert national.journal == {"lower": None, "confirmed": None, "higher": None} and national.compared is None
    assert national.journal_pct == {"lower": None, "confirmed": None, "higher": None}
    # the levels of our own data are untouched: the 50 works of the school
    assert report.own.participants == 50 and report.parents[2].participants == 50


@pytest.mark.parametrize("engine", ENGINES)
def test_task_and_journal_reports_fill_the_reference(published, tmp_path, engine):
    pupils = published
    load(tmp_path, "tasks.xlsx", "РУ 4 Выполнение заданий", [
        (1, ["Выполнение заданий"]), *TITLE,
        (8, ["Группы участников", "Кол-во ОО", "Кол-во участников", *TASKS]),
        (9, ["Вся выборка", 35589, 1722202, *NATIONAL_SOLVE]),
    ])
    pairs = [(int(r["Отметка"]), int(r["Отметка по журналу"])) for r in pupils]
    lower, confirmed, higher = (sum(1 for w, j in pairs if w < j), sum(1 for w, j in pairs if w == j),
                                sum(1 for w, j in pairs if w > j))
    assert (lower, confirmed, higher) == (21, 26, 3)
    load(tmp_path, "journal.xlsx", "РУ 4 Сравнение отметок с отметк", [
        (1, ["Сравнение отметок с отметками по журналу"]), *TITLE,
        (8, ["Группы участников", "Кол-во участников(всего)", "Понизили (Отметка < Отметка по журналу) %",
             "Понизили (Отметка < Отметка по журналу) Кол-во участников",
             "Подтвердили (Отметка = Отметке по журналу) %",
             "Подтвердили (Отметка = Отметке по журналу) Кол-во участников",
             "Повысили (Отметка > Отметка по журналу) %", "Повысили (Отметка > Отметка по журналу) Кол-во участников"]),
        (9, ["Вся выборка", 1700000, 20.5, 348500, 70.25, 1194250, 9.25, 157250]),
        (10, ["МБОУ «СОШ №1 г.Урус-Мартан»(edu203389)", 50, 42.0, lower, 52.0, confirmed, 6.0, higher]),
    ])
    report = standard_report("vpr-2026-ru-4", "edu203389", engine=engine)
    national = report.national
    assert national.solve_rate_pct == dict(zip(TASKS, NATIONAL_SOLVE, strict=True))
    assert national.journal == {"lower": 348500, "confirmed": 1194250, "higher": 157250}
    assert national.journal_pct == {"lower": 20.5, "confirmed": 70.25, "higher": 9.25}
    assert national.compared == 1700000
    assert national.marks_pct[2] == 5.06  # the marks report is kept
    # the school's journal comparison agrees with ours: no note about it
    assert report.own.published["differences"]["journal"] == {"lower": 0, "confirmed": 0, "higher": 0}
    assert not any("по журналу" in note for note in report.own.published["notes"])


@pytest.mark.parametrize("engine", ENGINES)
def test_published_figures_of_the_same_school_show_the_missing_works(published, engine):
    pupils = published
    report = standard_report("vpr-2026-ru-4", "edu203389", engine=engine)
    own = report.own
    school = own.published
    assert school["group_name"] == "МБОУ «СОШ №1 г.Урус-Мартан»(edu203389)"
    assert school["participants"] == 89 and own.participants == len(pupils) == 50
    assert school["marks_pct"] == {"2": 12.36, "3": 52.81, "4": 26.97, "5": 7.87}
    assert school["differences"]["participants"] == 50 - 89
    marks = Counter(int(r["Отметка"]) for r in pupils)  # 8 / 27 / 12 / 3 of 50
    assert school["differences"]["marks_pct"] == {
        "2": round(100 * marks[2] / 50 - 12.36, 2), "3": round(100 * marks[3] / 50 - 52.81, 2),
        "4": round(100 * marks[4] / 50 - 26.97, 2), "5": round(100 * marks[5] / 50 - 7.87, 2)}
    assert school["matches"] is False
    assert school["notes"][0] == ("МБОУ «СОШ №1 г.Урус-Мартан»: в отчёте ФИС ОКО участников — 89, в базе — 50. "
                                  "Загружены не все работы.")
    # the municipality and the region of the file are found though their codes in the database differ
    mun, region = report.parents[0], report.parents[1]
    assert mun.published["participants"] == 3162 and mun.published["schools"] == 47
    assert mun.published["differences"]["schools"] == 1 - 47
    assert region.published["participants"] == 30216 and region.published["group_name"] == "Чеченская Республика"
    assert report.parents[2].published is None and report.national.published is None
    notes = report.published_notes()
    assert notes[0] == school["notes"][0]
    assert any("в отчёте ФИС ОКО участников — 3162, в базе — 50" in note for note in notes)


@pytest.mark.parametrize("engine", ENGINES)
def test_figures_equal_to_the_published_ones_are_said_to_match(pupils, tmp_path, engine):
    marks = Counter(int(r["Отметка"]) for r in pupils)
    shares = [round(100 * marks[m] / 50, 2) for m in (2, 3, 4, 5)]  # 16 / 54 / 24 / 6
    load(tmp_path, "school.xlsx", "РУ 4 Статистика по отметкам", [
        (1, ["Статистика по отметкам"]), *TITLE,
        (8, ["Группы участников", "Кол-во ОО", "Кол-во участников", 2, 3, 4, 5]),
        (9, ["Вся выборка", 35589, 1722202, 5.06, 32.92, 44.33, 17.69]),
        (10, ["МБОУ «СОШ №1 г.Урус-Мартан»(edu203389)", None, 50, *shares]),
    ])
    report = standard_report("vpr-2026-ru-4", "edu203389", engine=engine)
    school = report.own.published
    assert school["matches"] is True and school["differences"]["participants"] == 0
    assert school["notes"] == ["МБОУ «СОШ №1 г.Урус-Мартан»: цифры совпадают с опубликованными в ФИС ОКО."]


@pytest.mark.parametrize("engine", ENGINES)
def test_json_and_printed_report(published, engine, monkeypatch):
    import metodist.bootstrap

    monkeypatch.setattr(metodist.bootstrap, "_ready", True)
    result = run("standard", "--assessment", "vpr-2026-ru-4", "--org", "edu203389", "--json", "--engine", engine)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [p["kind"] for p in data["parents"]] == ["municipality", "region", "all", "national"]
    national = data["parents"][-1]
    assert national["name"] == "Вся выборка (Россия)" and national["organisation"] is None
    assert national["participants"] == 1722202 and national["schools"] == 35589
    assert national["marks_pct"] == {"2": 5.06, "3": 32.92, "4": 44.33, "5": 17.69}
    assert national["success_pct"] == 94.94 and national["quality_pct"] == 62.02
    assert national["journal_vs_work"] == {"lower": None, "confirmed": None, "higher": None}
    assert set(national["solve_rate_pct"].values()) == {None}
    assert national["source"] == {"file": "Ф3_Статистика по отметкам.xlsx", "date": "2026-04-20"}
    assert data["published"]["participants"] == 89 and data["participants"] == 50
    assert data["parents"][0]["published"]["participants"] == 3162
    assert "published" not in data["parents"][2]

    printed = run("standard", "--assessment", "vpr-2026-ru-4", "--org", "edu203389", "--engine", engine)
    assert printed.exit_code == 0, printed.output
    text = " ".join(printed.output.split())
    assert "Вся выборка (Россия)" in text and "1722202" in text and "5,06" in text and "17,69" in text
    assert "Сверка с опубликованными данными ФИС ОКО" in text
    assert "МБОУ «СОШ №1 г.Урус-Мартан»: в отчёте ФИС ОКО участников — 89, в базе — 50. Загружены не все работы." in text


def test_whole_database_report_has_the_country_above_it(published):
    report = standard_report("vpr-2026-ru-4")
    assert report.own.kind == "all" and [p.kind for p in report.parents] == ["national"]
    assert report.parents[0].marks_pct[2] == 5.06


def test_report_loaded_before_the_organisations_is_matched_by_name(db, tmp_path):
    ensure_shipped_specs()
    load(tmp_path, "marks.xlsx", "РУ 4 Статистика по отметкам", MARKS)  # the registry is still empty
    outcome = import_file(RU4_CSV, ImportOptions(assessment="vpr-2026-ru-4", create_organisations=True))
    assert outcome.status == UploadStatus.IMPORTED
    report = standard_report("vpr-2026-ru-4", "edu203389")
    assert report.own.published["participants"] == 89  # by its code
    assert report.parents[0].published["participants"] == 3162  # by its printed name
    assert report.parents[1].published is None  # our region is named «Регион»: not the same name
