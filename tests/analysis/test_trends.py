"""Trends and cohorts on a hand-made region: ВПР forms of two years imported through the vpr-form importer,
every expected figure counted by hand from the rows below."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
import xlsxwriter
from typer.testing import CliRunner

from metodist.analysis.report_cli import report_app
from metodist.analysis.standard_reports import ReportError
from metodist.analysis.trends import cohort, trend
from metodist.collection.importing import ImportOptions, import_file
from metodist.collection.models import UploadStatus, Work
from metodist.reference.specs import save_spec

JOURNAL = "Отметка за предыдущий триместр/ четверть/полугодие"
HEADER = ["Школа", "Код участника", "Вариант", "1 (2б)", "2 (1б)", "3 (2б)", "Наименование класса", JOURNAL,
          "Итого баллов"]
# scale for every work: 0–1 → «2», 2 → «3», 3–4 → «4», 5 → «5»
ROWS = {
    "vpr-2024-ma-4": [
        ["edu221001", 41, 1, 2, 1, 2, "4А", 5, 5],  # p1: 5 → «5»
        ["edu221001", 42, 1, 1, 0, 0, "4А", 3, 1],  # p2: 1 → «2»
        ["edu221001", 43, 1, 0, 1, 1, "4Б", 3, 2],  # p3: 2 → «3»
        ["edu221002", 44, 1, 2, 1, 1, "4А", 4, 4],  # p4: 4 → «4»
    ],
    "vpr-2024-ma-5": [
        ["edu221001", 51, 1, 2, 1, 2, "5А", 5, 5],  # «5»
        ["edu221001", 52, 1, 1, 1, 0, "5А", 3, 2],  # «3»
        ["edu221002", 53, 1, 0, 0, 0, "5А", 3, 0],  # «2»
    ],
    "vpr-2025-ma-5": [
        ["edu221001", 61, 1, 2, 1, 1, "5А", 4, 4],  # q1: 4 → «4»
        ["edu221001", 62, 1, 2, 0, 1, "5А", 4, 3],  # q2: 3 → «4»
        ["edu221001", 63, 1, 1, 1, 2, "5Б", 4, 4],  # q3: 4 → «4»
        ["edu221002", 64, 1, 0, 1, 0, "5А", 3, 1],  # q4: 1 → «2»
        ["edu221002", 65, 1, 2, 1, 2, "5А", 5, 5],  # q5: 5 → «5»
    ],
}
ELEMENTS = [{"code": "1.1", "name": "Числа"}, {"code": "2.1", "name": "Величины"}, {"code": "3.1", "name": "Задачи"}]


def run(*args: str):
    app = typer.Typer()
    app.add_typer(report_app, name="report")
    return CliRunner().invoke(app, ["report", *args])


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Протокол")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    workbook.close()
    return path


@pytest.fixture
def works(region_tree, tmp_path):
    for code, rows in ROWS.items():
        _programme, year, _subject, grade = code.split("-")
        third = ["1.1", "3.1"] if code == "vpr-2025-ma-5" else ["1.1"]  # 3.1 is checked in 2025 only
        save_spec({
            "code": code, "programme": "VPR", "subject": "ma", "grade": int(grade), "year": int(year),
            "content_elements": ELEMENTS,
            "tasks": [{"number": "1", "max_score": 2, "content_elements": ["1.1"]},
                      {"number": "2", "max_score": 1, "content_elements": ["2.1"]},
                      {"number": "3", "max_score": 2, "content_elements": third}],
            "grade_scale": {3: 2, 4: 3, 5: 5},
        })
        outcome = import_file(write_xlsx(tmp_path / f"{code}.xlsx", [HEADER, *rows]),
                              ImportOptions(assessment=code))
        assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()
    return region_tree


@pytest.mark.parametrize("engine", ["default", "duckdb"])
def test_trend_figures_per_year(works, engine):
    result = trend("vpr", "ma", 5, engine=engine)
    assert [(y.year, y.assessment_code, y.participants) for y in result.years] == [
        (2024, "vpr-2024-ma-5", 3), (2025, "vpr-2025-ma-5", 5)]
    y24, y25 = result.years
    assert y24.marks_pct == {2: pytest.approx(100 / 3), 3: pytest.approx(100 / 3), 4: 0, 5: pytest.approx(100 / 3)}
    assert y24.success_pct == pytest.approx(200 / 3) and y24.quality_pct == pytest.approx(100 / 3)
    assert y24.mean_primary_pct == pytest.approx(100 * 7 / 15)
    assert y25.marks_pct == {2: 20, 3: 0, 4: 60, 5: 20}
    assert y25.success_pct == 80 and y25.quality_pct == 80
    assert y25.mean_primary_pct == pytest.approx(100 * 17 / 25)
    rates = {e.code: e.solve_rate_pct for e in result.elements}
    # 1.1: tasks 1 and 3 (max 2 + 2); 2024: (3 + 2) / (4 × 3); 2025: (7 + 6) / (4 × 5)
    assert rates["1.1"] == {2024: pytest.approx(500 / 12), 2025: pytest.approx(65)}
    assert rates["2.1"] == {2024: pytest.approx(200 / 3), 2025: pytest.approx(80)}
    assert rates["3.1"] == {2025: pytest.approx(60)}


def test_trend_of_one_school(works):
    result = trend("vpr", "ma", 5, "edu221001")
    assert [y.participants for y in result.years] == [2, 3]
    assert [y.mean_primary_pct for y in result.years] == [pytest.approx(70), pytest.approx(100 * 11 / 15)]
    assert result.years[1].marks_pct[4] == 100


def test_cohort_by_class_and_school(works):
    result = cohort("vpr-2024-ma-4", "vpr-2025-ma-5")
    assert result.pupils.pupils == 0  # ВПР participant codes do not link pupils
    classes = {(g.school_code, g.letter): g for g in result.classes}
    assert set(classes) == {("edu221001", "А"), ("edu221001", "Б"), ("edu221002", "А")}
    a = classes[("edu221001", "А")]
    assert (a.before.works, a.after.works) == (2, 2)
    assert a.before.mean_primary_pct == pytest.approx(60) and a.after.mean_primary_pct == pytest.approx(70)
    assert a.change_pct == pytest.approx(10)
    assert a.before.marks == {2: 1, 3: 0, 4: 0, 5: 1} and a.after.marks == {2: 0, 3: 0, 4: 2, 5: 0}
    assert classes[("edu221001", "Б")].change_pct == pytest.approx(40)
    other = classes[("edu221002", "А")]
    assert other.before.mean_primary_pct == pytest.approx(80) and other.after.mean_primary_pct == pytest.approx(60)
    assert other.after.marks_pct == {2: 50, 3: 0, 4: 0, 5: 50}
    schools = {g.school_code: g for g in result.schools}
    assert schools["edu221001"].before.mean_primary_pct == pytest.approx(100 * 8 / 15)
    assert schools["edu221001"].after.mean_primary_pct == pytest.approx(100 * 11 / 15)
    assert schools["edu221002"].change_pct == pytest.approx(-20)
    only = cohort("vpr-2024-ma-4", "vpr-2025-ma-5", "edu221002")
    assert [g.school_code for g in only.schools] == ["edu221002"] and len(only.classes) == 1


def test_cohort_of_linked_pupils(works):
    # the pupils of edu221001 linked as an exam protocol links them (the same pupil in both years)
    before = dict(Work.objects.filter(assessment__code="vpr-2024-ma-4").values_list("participant_code", "pupil_id"))
    for old, new in (("41", "61"), ("42", "62"), ("43", "63")):
        Work.objects.filter(assessment__code="vpr-2025-ma-5", participant_code=new).update(pupil_id=before[old])
    result = cohort("vpr-2024-ma-4", "vpr-2025-ma-5")
    pupils = result.pupils
    assert pupils.pupils == 3
    assert pupils.before.mean_primary_pct == pytest.approx(100 * 8 / 15)
    assert pupils.after.mean_primary_pct == pytest.approx(100 * 11 / 15)
    assert pupils.transitions == {(5, 4): 1, (2, 4): 1, (3, 4): 1}
    assert cohort("vpr-2024-ma-4", "vpr-2025-ma-5", "edu221002").pupils.pupils == 0


def test_commands(works):
    result = run("trend", "--programme", "vpr", "--subject", "ma", "--grade", "5", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [y["participants"] for y in data["years"]] == [3, 5]
    assert data["years"][1]["mean_primary_pct"] == 68.0
    result = run("cohort", "--from", "vpr-2024-ma-4", "--to", "vpr-2025-ma-5", "--org", "edu221001", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [c["letter"] for c in data["classes"]] == ["А", "Б"]
    assert data["classes"][1]["change_pct"] == 40.0
    assert run("cohort", "--from", "vpr-2024-ma-4", "--to", "vpr-2025-ma-5").exit_code == 0
    assert run("trend", "--programme", "vpr", "--subject", "ma", "--grade", "5").exit_code == 0


def test_unknown_codes_are_reported(works):
    with pytest.raises(ReportError, match="не найдена"):
        cohort("vpr-2024-ma-4", "vpr-2030-ma-5")
    with pytest.raises(ReportError, match="позже"):
        cohort("vpr-2025-ma-5", "vpr-2024-ma-4")
    result = run("trend", "--programme", "vpr", "--subject", "ma", "--grade", "9")
    assert result.exit_code == 1 and "нет" in result.output


# --- the demo: the course's participants improve on its element the year after ----------------------------
# (kept last in the module: the demo is built once, in a transaction that is rolled back at the module's end)

@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.db import transaction

    from metodist.demo.build import build_demo

    data_dir = tmp_path_factory.mktemp("demo")
    with django_db_blocker.unblock(), transaction.atomic():
        build_demo(seed=11, echo=lambda _message: None, scale=8, data_dir=data_dir)
        yield json.loads((data_dir / "demo" / "truth.json").read_text(encoding="utf-8"))
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_course_participants_improve_on_the_element_in_the_trend(demo):
    from metodist.analysis.trends import element_trend_by_teacher

    course = demo["course"]
    programme, subject, grade = course["codifier"].split("-")
    rates = element_trend_by_teacher(programme, subject, int(grade), course["element"])
    pre, post = (int(course[key].split("-")[1]) for key in ("pre_assessment", "post_assessment"))
    assert pre in rates and post in rates
    members = {(p["school"], p["teacher"]) for p in course["participants"]}
    matched = {(p["school"], p["teacher"]) for p in course["comparison"]}

    def rate(year, keep) -> float:
        parts = [v for k, v in rates[year].items() if keep(k)]
        return sum(g for g, _p in parts) / sum(p for _g, p in parts)

    def change(keep) -> float:
        return rate(post, keep) - rate(pre, keep)

    assert members <= set(rates[pre]) and members <= set(rates[post])
    course_change = change(lambda k: k in members)
    assert course_change > 0.08  # their classes solve the element better the year after the course
    assert course_change - change(lambda k: k not in members) > 0.08  # … than every other teacher's classes
    did = course_change - change(lambda k: k in matched)
    assert abs(did - course["difference_in_differences"]) < 0.002  # truth.json rounds to 3 digits
