"""Problem fields stored per analysis run: the aggregates against hand-computed sums of a tiny imported
form, and the stored rows against the teacher × content element deficits planted in the demo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import xlsxwriter
from django.db import transaction

#: two seeds of the demo generator: the method is not tuned to one draw
DEMO_SEEDS = (11, 123)
SCALE = 8
YEARS = (2023, 2024, 2025)  # academic years 2023/2024 … 2025/2026: the ВПР of spring 2024 … 2026


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Протокол")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    workbook.close()
    return path


HEADER = ["Школа", "Код участника", "Вариант", "1 (2б)", "2 (1б)", "3 (2б)", "Наименование класса",
          "Отметка за предыдущий триместр/ четверть/полугодие", "Итого баллов"]
ROWS = [
    ["edu221001", 40001, 1, 2, 1, 2, "4А", 5, 5],
    ["edu221001", 40002, 2, 1, 0, "X", "4А", 3, 1],
    ["edu221001", 40003, 1, 0, 1, 1, "4Б", 4, 2],
    ["edu221002", 40001, 2, 2, 1, 1, "4А", 4, 4],
    ["edu221002", 40002, 1, "не пройд.", 1, 0, "4А", 3, 1],
]


@pytest.fixture
def tiny(region_tree, tmp_path):
    """A three-task work: КЭС 1 = tasks 1 and 2, КЭС 2 = tasks 2 and 3; five pupils in two schools."""
    from metodist.analysis.runs import start_run
    from metodist.collection.importing import ImportOptions, import_file
    from metodist.core.models import AcademicYear
    from metodist.reference.specs import save_spec

    assessment = save_spec({
        "code": "test-2026-ma-4", "programme": "VPR", "subject": "ma", "grade": 4, "year": 2026,
        "content_elements": [{"code": "1", "name": "Числа"}, {"code": "2", "name": "Величины"}],
        "tasks": [{"number": "1", "max_score": 2, "level": "B", "content_elements": ["1"]},
                  {"number": "2", "max_score": 1, "level": "B", "content_elements": ["1", "2"]},
                  {"number": "3", "max_score": 2, "level": "P", "content_elements": ["2"]}],
        "grade_scale": {3: 2, 4: 3, 5: 5},
    })
    outcome = import_file(write_xlsx(tmp_path / "форма.xlsx", [HEADER, *ROWS]),
                          ImportOptions(assessment="test-2026-ma-4"))
    assert outcome.status == "imported", outcome.problems
    run = start_run(AcademicYear.of_spring(2026), region_tree["region"])
    return {"run": run, "assessment": assessment, **region_tree}


# Hand-computed from ROWS ("X" and «не пройд.» score 0): (school code, class, КЭС) → (points, possible, pupils)
BY_CLASS = {
    ("edu221001", "А", "1"): (2 + 1 + 1 + 0, 3 * 2, 2), ("edu221001", "Б", "1"): (0 + 1, 3, 1),
    ("edu221002", "А", "1"): (2 + 1 + 0 + 1, 3 * 2, 2),
    ("edu221001", "А", "2"): (1 + 2 + 0 + 0, 3 * 2, 2), ("edu221001", "Б", "2"): (1 + 1, 3, 1),
    ("edu221002", "А", "2"): (1 + 1 + 1 + 0, 3 * 2, 2),
}
REGION = {"1": (9, 15), "2": (8, 15)}
BY_SCHOOL = {("edu221001", "1"): (5, 9), ("edu221001", "2"): (5, 9), ("edu221002", "1"): (4, 6),
             ("edu221002", "2"): (3, 6)}


@pytest.mark.parametrize("engine", ["default", "duckdb"])
def test_aggregates_match_the_hand_computed_sums(tiny, engine):
    from metodist.analysis import field_aggregates as fa
    from metodist.analysis.engine import connect
    from metodist.core.models import Organisation, SchoolClass
    from metodist.reference.models import ContentElement

    rows = fa.run_field_aggregates(tiny["run"], connect(engine))
    codes = dict(ContentElement.objects.values_list("pk", "code"))
    schools = dict(Organisation.objects.values_list("pk", "code"))
    classes = {c.pk: (c.school.code, c.letter) for c in SchoolClass.objects.select_related("school")}
    elements = [r for r in rows if r.field_kind == fa.CONTENT_ELEMENT]

    by_class = {(*classes[r.group], codes[r.field_id]): (r.points, r.possible, r.pupils)
                for r in elements if r.group_level == "class"}
    assert by_class == BY_CLASS
    by_school = {(schools[r.group], codes[r.field_id]): (r.points, r.possible)
                 for r in elements if r.group_level == "school"}
    assert by_school == BY_SCHOOL
    for r in elements:
        assert (r.reference_points, r.reference_possible) == REGION[codes[r.field_id]]
    municipality = [r for r in elements if r.group_level == "municipality"]
    assert {(schools[r.group], codes[r.field_id]) for r in municipality} == {("reg22_m001", "1"), ("reg22_m001", "2")}
    # the parent of a class is its school: 4Б of edu221001 on КЭС 2 is compared with 5 of 9 as well
    b_class = next(r for r in elements if r.group_level == "class" and classes[r.group] == ("edu221001", "Б")
                   and codes[r.field_id] == "2")
    assert (b_class.parent_level, b_class.parent_points, b_class.parent_possible) == ("school", 5, 9)
    # КЭС 2 has a basic and an advanced task: mixed, judged task by task
    assert b_class.task_level == "mixed" and b_class.task_rates == (("basic", 1.0), ("advanced", 0.5))
    task_types = [r for r in rows if r.field_kind == fa.TASK_TYPE]
    assert task_types == []  # the specification gives no task types


def test_store_keeps_what_a_rule_marks_and_every_school_row(tiny):
    from metodist.analysis.engine import connect
    from metodist.analysis.models import ProblemField
    from metodist.analysis.problem_field_store import store

    summary = store(tiny["run"], connect())
    stored = ProblemField.objects.filter(run=tiny["run"])
    assert summary["problem_fields"] == stored.count()
    assert summary["flagged"] == stored.filter(flagged=True).count() == 0
    # under 10 pupils everywhere: nothing is judged by the federal rule, nothing is credibly below, so no
    # class row is kept; every school and municipality row is (the element × school picture needs them)
    assert summary["by_level"]["class"] == {"stored": 0, "flagged": 0}
    schools = {(r.organisation.code, r.content_element.code): (r.solve_rate, r.pupils, r.tasks, r.agreement)
               for r in stored.filter(group_level="school").select_related("organisation", "content_element")}
    assert schools == {(school, element): (points / possible, possible // 3, tasks, "federal_not_judged")
                       for (school, element), (points, possible) in BY_SCHOOL.items()
                       for tasks in [["1", "2"] if element == "1" else ["2", "3"]]}
    municipality = stored.filter(group_level="municipality")
    assert sorted((r.content_element.code, r.solve_rate, r.pupils) for r in municipality) == [
        ("1", 9 / 15, 5), ("2", 8 / 15, 5)]
    # no rule marks these rows: they are kept for the picture and carry their numbers, not a sentence
    assert all(r.explanation == "" for r in stored)


@pytest.fixture(scope="module", params=DEMO_SEEDS)
def demo(request, django_db_setup, django_db_blocker, tmp_path_factory):
    """The small demo of two seeds and one stored run per academic year, rolled back after the module."""
    from metodist.analysis.engine import connect
    from metodist.analysis.problem_field_store import store
    from metodist.analysis.runs import default_scope, start_run
    from metodist.core.models import AcademicYear
    from metodist.demo.build import build_demo

    data_dir = tmp_path_factory.mktemp("demo")
    with django_db_blocker.unblock(), transaction.atomic():
        build_demo(seed=request.param, echo=lambda _m: None, scale=SCALE, data_dir=data_dir)
        truth = json.loads((data_dir / "demo" / "truth.json").read_text(encoding="utf-8"))
        runs, summaries = [], []
        eng = connect()
        for year in YEARS:
            run = start_run(AcademicYear.objects.get_or_create(start_year=year)[0], default_scope())
            summaries.append(store(run, eng))
            runs.append(run)
        yield {"truth": truth, "runs": runs, "summaries": summaries, "seed": request.param}
        transaction.set_rollback(True)


def _planted(truth) -> set[tuple[str, str, str, int]]:
    return {(d["teacher"], d["codifier"], d["element"], int(a["assessment"].split("-")[1]))
            for d in truth["teacher_deficits"] for a in d["assessments"]}


def _planted_tasks(truth) -> dict[tuple[str, str, int], set[str]]:
    """(teacher, codifier, year) → the tasks the generator made harder for his classes."""
    return {(d["teacher"], d["codifier"], int(a["assessment"].split("-")[1])): set(a["tasks"])
            for d in truth["teacher_deficits"] for a in d["assessments"]}


def _teacher_rows(runs, truth):
    from metodist.analysis.models import ProblemField

    codifiers = {d["codifier"] for d in truth["teacher_deficits"]}
    return list(ProblemField.objects.filter(
        run__in=runs, group_level="teacher", field_kind="content_element",
        content_element__codifier__in=codifiers,
    ).values_list("teacher__code", "content_element__codifier", "content_element__code", "assessment__year",
                  "flagged", "federal_verdict", "tasks"))


@pytest.mark.django_db
def test_planted_teacher_deficits(demo):
    """Recall and precision over the planted teacher × content element pairs, one pair per year it was
    planted in (truth.json: teacher, codifier, element, the assessments with the element's tasks; 14 pairs).

    * stored: a teacher-level ProblemField row of that teacher, element and year exists (flagged by the
      statistical rule or insufficient by the federal one);
    * recall: the share of planted pairs with a flagged row;
    * precision: among flagged teacher-level content-element rows of the planted codifiers (the same
      subjects and grades: vpr-ma-7, vpr-ru-6, vpr-ru-4), the share that are planted findings. A planted
      finding is a planted pair, or an element of the same teacher and work whose every task is one of the
      planted element's tasks: the generator makes those tasks harder, so the data hold the deficit on that
      element as well and no rule on results can tell it apart (in vpr-ru-6 elements 8.1 and 8.2 are both
      checked by tasks 14.1 and 14.2 only). An element sharing only some tasks with the planted one is not
      a planted finding: the method must see that its own tasks are fine (the shared-task review).

    Measured (docs/methods.md, «Проблемные поля: из данных в решения»): seed 11, 8 schools: recall 14/14,
    precision 17/17; seed 123: recall 14/14, precision 17/18 (the other: T0415 on vpr-ma-7 element 3 in
    2024, 2 of 20 pupils solved its one task, not planted).
    """
    truth = demo["truth"]
    planted = _planted(truth)
    harder = _planted_tasks(truth)
    rows = _teacher_rows(demo["runs"], truth)
    stored = {r[:4] for r in rows}
    flagged = [r for r in rows if r[4]]

    def planted_finding(row) -> bool:
        teacher, codifier, _element, year, _flag, _verdict, tasks = row
        return row[:4] in planted or set(tasks) <= harder.get((teacher, codifier, year), set())

    recall_stored = len(planted & stored) / len(planted)
    recall = len(planted & {r[:4] for r in flagged}) / len(planted)
    precision = sum(planted_finding(r) for r in flagged) / len(flagged) if flagged else 0.0
    print(f"seed={demo['seed']} planted={len(planted)} stored_recall={recall_stored:.2f} recall={recall:.2f} "
          f"precision={precision:.2f} flagged={len(flagged)}")
    assert len(planted) >= 12
    assert recall_stored >= 0.9
    assert recall >= 0.9
    assert precision >= 0.9
    for row in rows:
        if row[:4] in planted:
            # vpr-ru-6 gives no task levels: the federal rule cannot be applied there
            assert row[5] in ("insufficient", "not_applicable")


@pytest.mark.django_db
def test_planted_pairs_are_far_below_their_work(demo):
    """The planted teacher's solve rate on the element is more than 15 points below the region's."""
    from metodist.analysis.models import ProblemField

    planted = _planted(demo["truth"])
    found = 0
    for teacher, codifier, element, year in planted:
        row = ProblemField.objects.filter(
            run__in=demo["runs"], group_level="teacher", teacher__code=teacher,
            content_element__codifier=codifier, content_element__code=element, assessment__year=year,
        ).first()
        if row is not None:
            found += 1
            assert row.difference < -0.15, (teacher, element, year, row.difference)
    assert found >= 0.8 * len(planted)


@pytest.mark.django_db
def test_summary_counts_what_was_stored(demo):
    from metodist.analysis.models import ProblemField

    for run, summary in zip(demo["runs"], demo["summaries"], strict=True):
        rows = ProblemField.objects.filter(run=run)
        assert summary["problem_fields"] == rows.count() > 0
        assert summary["flagged"] == rows.filter(flagged=True).count()
        for level, counts in summary["by_level"].items():
            assert counts["stored"] == rows.filter(group_level=level).count()
        assert summary["assessments"] >= 7
        assert rows.filter(group_level="teacher", teacher__isnull=True).count() == 0
        assert rows.filter(group_level="class", school_class__isnull=True).count() == 0


def _rate_text(rate: float) -> str:
    return f"{100 * rate:.1f}".replace(".", ",")


@pytest.mark.django_db
def test_stored_rows_are_explained_on_read_in_the_readers_language(demo):
    """Explanations are not stored: each marked row writes its own from its columns when read. The numbers
    in it are the row's, the parent's rate is the one the parent's own stored row has, and a reader in
    English gets English."""
    from django.utils import translation

    from metodist.analysis.models import ProblemField

    run = demo["runs"][-1]
    rows = ProblemField.objects.filter(run=run)
    assert not rows.exclude(explanation_text="").exists()
    schools = {(r.organisation_id, r.assessment_id, r.content_element_id): r.solve_rate
               for r in rows.filter(group_level="school", field_kind="content_element")}
    classes = list(rows.filter(group_level="class", field_kind="content_element", flagged=True))
    assert classes
    for row in classes:
        text = row.explanation
        assert _rate_text(row.solve_rate) in text and _rate_text(row.reference) in text
        assert row.parent_level == "school"
        parent = schools[(row.organisation_id, row.assessment_id, row.content_element_id)]
        assert row.parent_rate == pytest.approx(parent)
        assert f"решаемость школы — {_rate_text(parent)} %" in text
        with translation.override("en"):
            english = row.explanation
        assert english != text and "решаемость" not in english
    # the rows no rule marks carry their numbers and no sentence
    quiet = rows.filter(flagged=False, shared_tasks=False).exclude(federal_verdict="insufficient")
    assert quiet.exists() and all(r.explanation == "" for r in quiet[:200])
