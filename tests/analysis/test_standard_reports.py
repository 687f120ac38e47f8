"""The standard reports against the data: a real «Индивидуальные результаты» export of ВПР 2026 counted
directly with the csv module, and a planted region of several schools whose figures are counted by hand
from the rows written into the files. Every test runs on both engines (the database and DuckDB)."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import typer
import xlsxwriter
from typer.testing import CliRunner

from metodist.analysis.report_cli import report_app
from metodist.analysis.standard_reports import ReportError, standard_report
from metodist.collection.importing import ImportOptions, import_file
from metodist.collection.models import UploadStatus, Work
from metodist.core.models import Organisation, OrganisationKind
from metodist.reference.specs import ensure_shipped_specs, save_spec

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "vpr-form"
RU4_CSV = SAMPLES / "individual-results-ru4-2026.csv"
ENGINES = ["default", "duckdb"]


def run(*args: str):
    """`metodist report …` as metodist/cli.py registers it."""
    app = typer.Typer()
    app.add_typer(report_app, name="report")
    return CliRunner().invoke(app, ["report", *args])


# --- a real school's export -------------------------------------------------------------------------

@pytest.fixture
def ru4(db):
    ensure_shipped_specs()
    outcome = import_file(RU4_CSV, ImportOptions(assessment="vpr-2026-ru-4", create_organisations=True))
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()
    with open(RU4_CSV, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("engine", ENGINES)
def test_real_school_marks_as_counted_from_the_file(ru4, engine):
    report = standard_report("vpr-2026-ru-4", "edu203389", engine=engine)
    marks = Counter(int(r["Отметка"]) for r in ru4)
    n = len(ru4)
    assert report.own.participants == n == 50
    assert report.own.marks == {m: marks[m] for m in (2, 3, 4, 5)}
    for m in (2, 3, 4, 5):
        assert report.own.marks_pct[m] == pytest.approx(100 * marks[m] / n)
    assert report.own.success_pct == pytest.approx(100 * (marks[3] + marks[4] + marks[5]) / n)
    assert report.own.quality_pct == pytest.approx(100 * (marks[4] + marks[5]) / n)
    primaries = Counter(int(r["Первичный балл"]) for r in ru4)
    assert {s: c for s, c in report.own.scores.items() if c} == dict(primaries)
    assert set(report.own.scores) == set(range(report.max_primary + 1))


@pytest.mark.parametrize("engine", ENGINES)
def test_real_school_solve_rates_are_the_column_sums(ru4, engine):
    report = standard_report("vpr-2026-ru-4", "edu203389", engine=engine)
    n = len(ru4)
    expected = {}
    for header in ru4[0]:
        match = re.fullmatch(r"(\d+(?:\.\d+)?) \((\d+)б\)", header)
        if match:
            expected[match.group(1)] = 100 * sum(int(r[header]) for r in ru4) / (int(match.group(2)) * n)
    assert len(expected) == 15
    assert report.own.solve_rate_pct == pytest.approx(expected)
    assert [t.number for t in report.tasks] == list(expected)


@pytest.mark.parametrize("engine", ENGINES)
def test_real_school_journal_comparison(ru4, engine):
    report = standard_report("vpr-2026-ru-4", "edu203389", engine=engine)
    pairs = [(int(r["Отметка"]), int(r["Отметка по журналу"])) for r in ru4]
    assert report.own.journal == {
        "lower": sum(1 for w, j in pairs if w < j),
        "confirmed": sum(1 for w, j in pairs if w == j),
        "higher": sum(1 for w, j in pairs if w > j),
    }
    assert report.own.journal["lower"] > 0 and report.own.journal["higher"] > 0


@pytest.mark.parametrize("engine", ENGINES)
def test_real_school_parents_and_whole_database(ru4, engine):
    report = standard_report("vpr-2026-ru-4", "edu203389", engine=engine)
    school = Organisation.objects.get(code="edu203389")
    assert [p.code for p in report.parents] == [o.code for o in reversed(school.ancestors())] + [None]
    assert len(report.parents) == 3  # municipality, region, the whole database
    for parent in report.parents:  # the only school of the database: every level has its figures
        assert parent.participants == 50 and parent.marks == report.own.marks
        assert parent.solve_rate_pct == report.own.solve_rate_pct
    whole = standard_report("vpr-2026-ru-4", engine=engine)
    assert whole.own.code is None and whole.parents == [] and whole.own.participants == 50


# --- a planted region -------------------------------------------------------------------------------

HEADER = ["Школа", "Код участника", "Вариант", "1 (2б)", "2 (1б)", "3 (2б)", "Наименование класса",
          "Отметка по журналу"]
NT = "не пройд."
ROWS = [
    # municipality reg22_m001
    ["edu221001", 40001, 1, 2, 1, 2, "4А", 5],
    ["edu221001", 40002, 2, 1, 0, "X", "4А", 3],
    ["edu221001", 40003, 1, 0, 1, 1, "4Б", 4],
    ["edu221001", 40004, "отсутствовал", None, None, None, "4Б", 4],  # absent: not a participant
    ["edu221001", 40005, 2, 2, 1, 1, None, None],  # no class, so no teacher, no journal mark: counted
    ["edu221002", 40001, 2, 2, 1, 1, "4А", 4],
    ["edu221002", 40002, 1, NT, 1, 0, "4А", 3],
    # municipality reg22_m002
    ["edu222001", 40001, 1, NT, 0, NT, "4А", 3],
    ["edu222001", 40002, 2, NT, 1, 2, "4А", 2],
    ["edu222001", 40003, 1, 1, 1, 2, "4А", 5],
    ["edu222002", 40001, 1, 2, 1, 2, "4А", 5],
    # another region
    ["edu231001", 40001, 1, 0, 0, 0, "4А", 3],
    ["edu231001", 40002, 2, 1, 1, 1, "4А", 3],
]
SCALE = {3: 2, 4: 3, 5: 5}
MAX = {"1": 2, "2": 1, "3": 2}
SCHOOLS = {"reg22_m001": ["edu221001", "edu221002"], "reg22_m002": ["edu222001", "edu222002"]}


def write_xlsx(path: Path, rows) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Протокол")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    workbook.close()
    return path


@pytest.fixture
def planted(region_tree, tmp_path):
    save_spec({
        "code": "test-2026-ma-4", "programme": "VPR", "subject": "ma", "grade": 4, "year": 2026,
        "tasks": [{"number": "1", "max_score": 2, "content_elements": ["1.1"], "skills": ["2"]},
                  {"number": "2", "max_score": 1, "content_elements": ["1.2", "3.1"]},
                  {"number": "3", "max_score": 2, "skills": ["5"]}],
        "grade_scale": SCALE,
    })
    other = Organisation.objects.create(kind=OrganisationKind.REGION, code="reg23", short_name="Другой регион")
    Organisation.objects.create(kind=OrganisationKind.SCHOOL, code="edu231001", short_name="Школа 3", parent=other)
    outcome = import_file(write_xlsx(tmp_path / "форма.xlsx", [HEADER, *ROWS]),
                          ImportOptions(assessment="test-2026-ma-4"))
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()
    assert Work.objects.filter(absent=True).count() == 1
    unassigned = Work.objects.get(school__code="edu221001", participant_code="40005")
    assert unassigned.teacher_id is None and unassigned.journal_mark is None and not unassigned.absent
    return region_tree


def expected(schools: set[str] | None) -> dict:
    """The figures of a set of schools, counted from ROWS with plain Python (None = every row)."""
    rows = [r for r in ROWS if (schools is None or r[0] in schools) and r[2] != "отсутствовал"]
    n = len(rows)

    def points(value):
        return value if isinstance(value, int) else 0

    sums = {task: sum(points(r[3 + i]) for r in rows) for i, task in enumerate(MAX)}
    marks = Counter()
    journal = Counter()
    for r in rows:
        primary = sum(points(v) for v in r[3:6])
        mark = max([2] + [m for m, minimum in SCALE.items() if primary >= minimum])
        marks[mark] += 1
        if r[7] is not None:
            journal["lower" if mark < r[7] else "higher" if mark > r[7] else "confirmed"] += 1
    return {
        "participants": n,
        "marks": {m: marks[m] for m in (2, 3, 4, 5)},
        "solve": {t: 100 * s / (MAX[t] * n) for t, s in sums.items()},
        "journal": {k: journal[k] for k in ("lower", "confirmed", "higher")},
        "not_taught": {t: sum(1 for r in rows if r[3 + i] == NT) for i, t in enumerate(MAX)},
    }


def assert_level(level, schools):
    want = expected(schools)
    assert level.participants == want["participants"]
    assert level.marks == want["marks"]
    assert level.solve_rate_pct == pytest.approx(want["solve"])
    assert level.journal == want["journal"]
    assert level.not_taught == {t: c for t, c in want["not_taught"].items() if c} | {
        t: 0 for t, c in want["not_taught"].items() if not c and t in level.not_taught}


@pytest.mark.parametrize("engine", ENGINES)
def test_planted_school_and_its_parents(planted, engine):
    report = standard_report("test-2026-ma-4", "edu221001", engine=engine)
    assert report.own.participants == 4  # five listed, one absent; the classless work counts
    assert_level(report.own, {"edu221001"})
    assert [p.code for p in report.parents] == ["reg22_m001", "reg22", None]
    assert_level(report.parents[0], set(SCHOOLS["reg22_m001"]))
    assert_level(report.parents[1], set(SCHOOLS["reg22_m001"] + SCHOOLS["reg22_m002"]))
    assert_level(report.parents[2], None)
    assert report.parents[1].participants == 10 and report.parents[2].participants == 12
    assert report.thresholds == {**SCALE}
    assert [(t.number, [c for c, _n in t.content_elements], [s for s, _n in t.skills]) for t in report.tasks] == [
        ("1", ["1.1"], ["2"]), ("2", ["1.2", "3.1"], []), ("3", [], ["5"])]


@pytest.mark.parametrize("engine", ENGINES)
def test_planted_municipality_and_not_taught(planted, engine):
    report = standard_report("test-2026-ma-4", "reg22_m002", engine=engine)
    assert_level(report.own, set(SCHOOLS["reg22_m002"]))
    assert [p.code for p in report.parents] == ["reg22", None]
    # «не пройд.» per school and task, only in the municipality's schools: edu222001 has it in tasks 1 and 3
    assert [(r.school_code, r.task, r.works, r.participants) for r in report.not_taught] == [
        ("edu222001", "1", 2, 3), ("edu222001", "3", 1, 3)]
    assert report.not_taught[0].pct == pytest.approx(200 / 3)
    assert report.own.not_taught_pct["1"] == pytest.approx(50.0)  # 2 of the municipality's 4 works
    region = standard_report("test-2026-ma-4", "reg22", engine=engine)
    assert [(r.school_code, r.task) for r in region.not_taught] == [
        ("edu221002", "1"), ("edu222001", "1"), ("edu222001", "3")]
    assert region.parents[0].code is None


@pytest.mark.parametrize("engine", ENGINES)
def test_whole_database_and_json(planted, engine, monkeypatch):
    import metodist.bootstrap

    monkeypatch.setattr(metodist.bootstrap, "_ready", True)
    result = run("standard", "--assessment", "test-2026-ma-4", "--org", "edu222001", "--json", "--engine", engine)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    want = expected({"edu222001"})
    assert set(data) == {"assessment", "organisation", "participants", "marks_pct", "solve_rate_pct",
                         "journal_vs_work", "parents"}
    assert data["assessment"] == "test-2026-ma-4" and data["organisation"] == "edu222001"
    assert data["participants"] == 3
    assert data["marks_pct"] == {str(m): round(100 * c / 3, 2) for m, c in want["marks"].items()}
    assert data["solve_rate_pct"] == {t: round(v, 2) for t, v in want["solve"].items()}
    assert data["journal_vs_work"] == want["journal"]
    assert [p["organisation"] for p in data["parents"]] == ["reg22_m002", "reg22", None]
    assert data["parents"][-1]["participants"] == expected(None)["participants"] == 12
    assert data["parents"][-1]["journal_vs_work"] == expected(None)["journal"]
    everything = run("standard", "--assessment", "test-2026-ma-4", "--json")
    assert json.loads(everything.output)["organisation"] is None
    assert json.loads(everything.output)["participants"] == 12
    table = run("standard", "--assessment", "test-2026-ma-4", "--org", "reg22", "--engine", engine)
    assert table.exit_code == 0, table.output
    assert "Статистика по отметкам" in table.output and "Тема не пройдена" in table.output


def test_unknown_codes(planted, monkeypatch):
    import metodist.bootstrap

    monkeypatch.setattr(metodist.bootstrap, "_ready", True)
    with pytest.raises(ReportError, match="не найдена"):
        standard_report("нет-такой")
    result = run("standard", "--assessment", "test-2026-ma-4", "--org", "edu000000")
    assert result.exit_code == 1
    assert "Организация с кодом «edu000000» не найдена." in result.output
    result = run("standard", "--assessment", "vpr-1999-xx-1")
    assert result.exit_code == 1 and "Работа с кодом «vpr-1999-xx-1» не найдена." in result.output
    result = run("standard", "--assessment", "test-2026-ma-4", "--engine", "spark")
    assert result.exit_code == 2
