"""The ВПР upload form importer on excerpts of real files (tests/samples/vpr-form/, made by
make_samples.py): a region's files of 2022, a school's 2026 form, the 2026 «Индивидуальные результаты»."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
import xlsxwriter

from metodist.collection.importers.base import parse_score_cell, parse_task_header, read_sheets
from metodist.collection.importers.vpr_form import parse, sniff
from metodist.collection.importing import ImportOptions, import_file
from metodist.collection.models import ScoreStatus, TaskScore, Upload, UploadStatus, Work
from metodist.core.models import Organisation, OrganisationKind, SchoolClass
from metodist.reference.models import Assessment
from metodist.reference.specs import SPECS_DIR, read_spec_file, save_spec

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "vpr-form"
RU4_TASKS = [("1", 2), ("2", 1), ("3", 2), ("4", 3), ("5", 2), ("6", 1), ("7", 1), ("8", 2), ("9.1", 1),
             ("9.2", 2), ("10.1", 1), ("10.2", 2), ("11", 1), ("12.1", 2), ("12.2", 1)]
JOURNAL = "Отметка за предыдущий триместр/ четверть/полугодие"


def ru4_spec(code: str = "test-2026-ru-4", **changes) -> dict:
    """A stand-in for ВПР 2026 Russian grade 4 with a complete scale that agrees with the school's marks."""
    data = {
        "code": code, "programme": "VPR", "subject": "ru", "grade": 4, "year": 2026, "max_primary": 24,
        "variants": [1, 2],
        "tasks": [{"number": n, "max_score": m} for n, m in RU4_TASKS],
        "grade_scale": {2: 0, 3: 10, 4: 16, 5: 21},
    }
    data.update(changes)
    return data


def write_xlsx(path: Path, rows: list[list[object]], sheet: str = "Протокол") -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    worksheet = workbook.add_worksheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                worksheet.write(r, c, value)
    workbook.close()
    return path


def sheet_rows(path: Path) -> list[list[object]]:
    return next(s for s in read_sheets(path) if s.name == "Протокол").rows


@pytest.fixture
def school(region_tree):
    return Organisation.objects.create(kind=OrganisationKind.SCHOOL, code="edu203389", short_name="СОШ №1",
                                       parent=region_tree["mun1"])


# --- cells and headers -----------------------------------------------------------------------------

@pytest.mark.parametrize(("header", "expected"), [
    ("1 (1б)", ("1", 1)),
    ("11.1 (1б)", ("11.1", 1)),
    ("4К2 (2б)", ("4.2", 2)),
    ("4к2 (2б)", ("4.2", 2)),
    ("5(1)", ("5.1", None)),
    ("5(1) (1б)", ("5.1", 1)),
    ("10К1", ("10.1", None)),
    ("10K1 (1б)", ("10.1", 1)),  # Latin K
    ("11.3 k1", ("11.3.1", None)),
    ("14 (2б)", ("14", 2)),
    ("Код участника", None),
    ("Итого баллов", None),
    ("", None),
])
def test_task_headers(header, expected):
    assert parse_task_header(header) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("X", (0, "no_answer")), ("x", (0, "no_answer")), ("Х", (0, "no_answer")), ("х", (0, "no_answer")),
    (" X ", (0, "no_answer")), ("не пройд.", (0, "not_taught")), ("Не пройдено", (0, "not_taught")),
    ("3.0", (3, "scored")), (3.0, (3, "scored")), ("3,0", (3, "scored")), (2, (2, "scored")),
    ("", (None, "blank")), (None, (None, "blank")),
])
def test_score_cells(value, expected):
    assert parse_score_cell(value) == expected


# --- a region's file ---------------------------------------------------------------------------------

def test_region_file_creates_organisations_and_a_partial_spec(region_tree):
    outcome = import_file(SAMPLES / "region-ma4-2022.xlsx", ImportOptions(create_organisations=True))
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()
    assert outcome.format == "vpr-form"
    # no specification of ВПР 2022 mathematics grade 4 is loaded: made from the header, with a warning
    assessment = Assessment.objects.get(code="vpr-2022-ma-4")
    assert assessment.partial
    assert [t.number for t in assessment.tasks.all()][:6] == ["1", "2", "3", "4", "5.1", "5.2"]
    assert sum(t.max_score for t in assessment.tasks.all()) == assessment.max_primary == 20
    warnings = [p.message for p in outcome.problems if p.severity == "warning"]
    assert any("составлена по заголовку файла" in m for m in warnings)
    # the region named in the file, municipalities and schools under it
    region = Organisation.objects.get(children__code="reg22_m019")
    assert region.short_name == "Алтайский край" and region.kind == OrganisationKind.REGION
    municipality = Organisation.objects.get(code="reg22_m019")
    assert municipality.parent == region and municipality.kind == OrganisationKind.MUNICIPALITY
    school = Organisation.objects.get(code="edu223379")
    assert school.parent == municipality and school.short_name == 'МКОУ "Усть-Кажинская СОШ"'
    # the region of the file is the registry's Алтайский край (found by its name, reg22 ≠ reg220000)
    assert region == region_tree["region"] or region.short_name == "Алтайский край"
    assert Organisation.objects.filter(kind=OrganisationKind.REGION, short_name="Алтайский край").count() == 1
    assert outcome.counts["organisations_created"] == 4  # 2 municipalities, 2 schools
    # the «отсутствовал» row: an absent work with no scores
    absent = Work.objects.get(school=school, participant_code="40001")
    assert absent.absent and absent.primary_score is None and absent.mark is None
    assert not absent.scores.exists()
    assert outcome.counts["absent"] == 1
    assert outcome.counts["works_imported"] == 28
    # a present pupil: class '4А' → grade 4, letter 'А'; journal mark kept; no scale → no mark
    work = Work.objects.get(school=school, participant_code="40002")
    assert (work.school_class.grade, work.school_class.letter) == (4, "А")
    assert work.journal_mark == 4 and work.mark is None
    assert work.primary_score == 10 and work.variant == 2
    assert work.scores.count() == 15
    assert work.pupil.gender == "f"


def test_region_file_into_an_empty_registry(db):
    """With no region yet, the one the file names is created, with its code, and counted."""
    outcome = import_file(SAMPLES / "region-ma4-2022.xlsx", ImportOptions(create_organisations=True))
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()
    region = Organisation.objects.get(kind=OrganisationKind.REGION)
    assert (region.code, region.short_name) == ("reg220000", "Алтайский край")
    assert set(Organisation.objects.filter(parent=region).values_list("code", flat=True)) == {
        "reg22_m019", "reg22_m065"}
    assert outcome.counts["organisations_created"] == 5


def test_schools_not_in_the_registry_without_create_organisations(region_tree):
    outcome = import_file(SAMPLES / "region-ma4-2022.xlsx", ImportOptions())
    assert outcome.status == UploadStatus.REJECTED
    messages = [p.message for p in outcome.errors]
    assert any(m.startswith("Школы с кодом edu223379 нет в реестре организаций") for m in messages)
    assert not Work.objects.exists() and not Organisation.objects.filter(code="edu223379").exists()


def test_region_file_total_not_the_sum_and_score_above_maximum(region_tree):
    path = SAMPLES / "region-is11-2022.xlsx"
    outcome = import_file(path, ImportOptions(create_organisations=True))
    assert outcome.status == UploadStatus.REJECTED
    assert not Work.objects.exists()
    [error] = outcome.errors
    assert error.sheet == "Протокол" and error.row == 31 and error.column == "12 (1б)"
    assert error.message == "Балл за задание 12 (2) больше максимального (1)."
    # the form's total formula skips 10К2: a warning, and the sum of the tasks is taken
    total_warnings = [p for p in outcome.problems if p.severity == "warning" and p.column == "Итого баллов"]
    assert {p.row for p in total_warnings} >= {8, 9, 11}
    outcome = import_file(path, ImportOptions(create_organisations=True, valid_rows_only=True))
    assert outcome.status == UploadStatus.IMPORTED_PARTLY
    assert outcome.counts["rows_rejected"] == 1
    assert (outcome.counts["works_imported"], outcome.counts["absent"]) == (27, 2)
    # class labels '"А"' and '11' of grade 11: letters 'А' and ''
    assert Work.objects.get(school__code="edu224286", participant_code="1001").school_class.letter == "А"
    assert Work.objects.get(school__code="edu223705", participant_code="1001").school_class.letter == ""
    rows = sheet_rows(path)
    header = rows[0]
    row8 = rows[7]  # participant 1002 of edu224286, total written 16
    work = Work.objects.get(school__code="edu224286", participant_code="1002")
    task_columns = [c for c, h in enumerate(header) if parse_task_header(h)]
    expected = sum(0 if str(row8[c]).strip().upper() in ("X", "Х") else int(float(row8[c])) for c in task_columns)
    assert row8[-1] == 16 and work.primary_score == expected == 18


def _import_school_form(path: Path, assessment: Assessment, **options):
    return import_file(path, ImportOptions(assessment=assessment.code, school="edu203389", **options))


def _works(assessment) -> dict[str, tuple]:
    return {
        w.participant_code: (w.variant, w.absent, w.primary_score, w.mark, w.journal_mark,
                             w.school_class.letter if w.school_class else None,
                             tuple(sorted(w.scores.values_list("task__number", "score", "status"))))
        for w in Work.objects.filter(assessment=assessment).prefetch_related("scores")
    }


def test_header_order_does_not_matter(school, tmp_path):
    assessment = save_spec(ru4_spec())
    rows = sheet_rows(SAMPLES / "school-ru4-2026.xlsx")
    width = len(rows[0])
    reordered = [list(reversed(list(row) + [None] * (width - len(row)))) for row in rows]
    outcome = _import_school_form(SAMPLES / "school-ru4-2026.xlsx", assessment)
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()
    straight = _works(assessment)
    Work.objects.all().delete()
    Upload.objects.all().delete()
    outcome = _import_school_form(write_xlsx(tmp_path / "reversed.xlsx", reordered), assessment)
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()
    assert _works(assessment) == straight
    assert len(straight) == 25


def test_school_form_cell_values(school):
    assessment = save_spec(ru4_spec())
    outcome = _import_school_form(SAMPLES / "school-ru4-2026.xlsx", assessment)
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()
    assert outcome.counts["works_imported"] == 23 and outcome.counts["absent"] == 2
    works = {w.participant_code: w for w in Work.objects.filter(assessment=assessment)}

    def scores(code):
        return {n: (s, st) for n, s, st in works[code].scores.values_list("task__number", "score", "status")}

    # X in Latin and Cyrillic → no answer, 0; «нет отметки» → no journal mark; mark from the scale (20 → 4)
    w = works["40101"]
    assert scores("40101")["1"] == (0, ScoreStatus.NO_ANSWER) and scores("40101")["3"] == (0, ScoreStatus.NO_ANSWER)
    assert (w.primary_score, w.mark, w.journal_mark) == (20, 4, None)
    # «не пройд.» → not taught, 0
    assert scores("40102")["1"] == (0, ScoreStatus.NOT_TAUGHT)
    assert (works["40102"].primary_score, works["40102"].mark, works["40102"].journal_mark) == (22, 5, 4)
    # '3.0' is 3; lower-case x and capital Cyrillic Х are no answer
    assert scores("40103")["4"] == (3, ScoreStatus.SCORED)
    assert scores("40103")["5"] == (0, ScoreStatus.NO_ANSWER) and scores("40103")["6"] == (0, ScoreStatus.NO_ANSWER)
    assert works["40103"].primary_score == 21 and works["40103"].journal_mark == 5
    # «отсутствовал» and a blank row of a listed pupil → absent, no scores
    for code in ("40104", "40105"):
        assert works[code].absent and works[code].primary_score is None and works[code].mark is None
        assert not works[code].scores.exists()
    assert works["40104"].journal_mark == 3
    # the real rows: 40001 wrote 15 points, journal 3; class ordinal 1 kept as the class's label
    assert (works["40001"].primary_score, works["40001"].mark, works["40001"].journal_mark) == (15, 3, 3)
    assert works["40001"].school_class.letter == "1" and works["40102"].school_class.letter == "2"
    assert works["40001"].variant == 1
    assert set(SchoolClass.objects.filter(school=school).values_list("grade", "letter")) == {(4, "1"), (4, "2")}
    assert TaskScore.objects.filter(work__assessment=assessment).count() == 23 * 15


def test_school_form_without_school_asks_for_it(school):
    assessment = save_spec(ru4_spec())
    outcome = import_file(SAMPLES / "school-ru4-2026.xlsx", ImportOptions(assessment=assessment.code))
    assert outcome.status == UploadStatus.REJECTED
    assert any("укажите её при загрузке" in p.message for p in outcome.errors)
    assert not Work.objects.exists()


def test_header_maximum_disagreeing_with_the_spec(school):
    tasks = [{"number": n, "max_score": m} for n, m in RU4_TASKS]
    tasks[3]["max_score"] = 2  # the file says 4 (3б)
    assessment = save_spec(ru4_spec(code="test-wrong-max", tasks=tasks, max_primary=23,
                                    grade_scale={3: 10, 4: 15, 5: 20}))
    outcome = _import_school_form(SAMPLES / "school-ru4-2026.xlsx", assessment)
    assert outcome.status == UploadStatus.REJECTED
    problem = next(p for p in outcome.errors if p.column == "4 (3б)")
    assert problem.row == 1 and problem.sheet == "Протокол"
    assert "равен 3, а по спецификации — 2" in problem.message
    assert not Work.objects.exists()


def test_missing_task_column_is_reported(school):
    assessment = save_spec(ru4_spec(code="test-extra-task", tasks=[*ru4_spec()["tasks"], {"number": "13",
                                    "max_score": 2}], max_primary=26))
    outcome = _import_school_form(SAMPLES / "school-ru4-2026.xlsx", assessment)
    assert outcome.status == UploadStatus.REJECTED
    assert any("нет столбца задания 13" in p.message for p in outcome.errors)


def test_sniff_and_layout(school):
    sheets = read_sheets(SAMPLES / "school-ru4-2026.xlsx")
    assert sniff(sheets) == 10
    parsed = parse(SAMPLES / "school-ru4-2026.xlsx", sheets)
    assert parsed.meta["sheet"] == "Протокол" and parsed.meta["header_row"] == 1
    assert [(n, m) for n, m, _h in parsed.meta["tasks"]] == RU4_TASKS
    assert parsed.meta["has_school_column"] is False
    assert not parsed.errors
    csv_sheets = read_sheets(SAMPLES / "individual-results-ru4-2026.csv")
    assert sniff(csv_sheets) == 6


def test_vpr_2026_ru_4_against_the_shipped_spec(school, tmp_path):
    """The 2026 «Индивидуальные результаты» of one school against the shipped vpr-2026-ru-4: our
    figures for the school are the report's."""
    spec_file = SPECS_DIR / "vpr-2026-ru-4.yaml"
    if not spec_file.exists():
        pytest.skip("vpr-2026-ru-4.yaml is not shipped")
    assessment = save_spec(read_spec_file(spec_file))
    path = SAMPLES / "individual-results-ru4-2026.csv"
    outcome = import_file(path, ImportOptions(assessment=assessment.code))
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()
    with open(path, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    works = Work.objects.filter(assessment=assessment, school=school)
    assert works.count() == len(rows) == 50
    assert Counter(works.values_list("mark", flat=True)) == Counter(int(r["Отметка"]) for r in rows)
    assert Counter(works.values_list("journal_mark", flat=True)) == Counter(int(r["Отметка по журналу"]) for r in rows)
    assert sorted(works.values_list("primary_score", flat=True)) == sorted(int(r["Первичный балл"]) for r in rows)
    assert Counter(works.values_list("mark", flat=True)) == {3: 27, 4: 12, 2: 8, 5: 3}
