"""ВПР regional export: the N-th `балл за` column is the N-th task of the named work."""

from __future__ import annotations

from pathlib import Path

import pytest

from metodist.collection.importers.base import read_sheets
from metodist.collection.importing import ImportOptions, detect_format, import_file
from metodist.collection.models import ScoreStatus, TaskScore, Upload, UploadStatus, Work
from metodist.reference.specs import save_spec

CODE = "vpr-2030-ma-5"
HEADER = ["Логин ОО", "Код участника", "Отметка за предыдущий период", "Пол", "Класс", "Вариант", "Сумма баллов",
          "балл за 1", "балл за 2", "балл за 3", "балл за 4", "балл за 5"]
# spec: 1 (1), 2 (1), 3.1 (1), 3.2 (2), 4 (2); marks: 3 from 2, 4 from 4, 5 from 6
GOOD = [
    ["edu221001", 50001, 4, "м", "5А", 1, 7, 1, 1, 1, 2, 2],
    ["edu221001", 50002, "нет отметки", "ж", "5А", 2, 2, "X", "х", 1, "не пройд.", 1.0],
    ["edu221001", 50003, 3, "ж", "5Б", "отсутствовал", None, None, None, None, None, None],
    ["edu221002", 50001, 5, "М", "5А", 1, 4, 0, 1, "Х", 2, "1"],
    ["edu221002", 50002, 3, "м", "5А", None, None, None, None, None, None, None],
]


@pytest.fixture
def spec(db):
    return save_spec({
        "code": CODE, "programme": "VPR", "subject": "ma", "grade": 5, "year": 2030,
        "tasks": [{"number": n, "max_score": m} for n, m in (("1", 1), ("2", 1), ("3.1", 1), ("3.2", 2), ("4", 2))],
        "grade_scale": {"2": 0, "3": 2, "4": 4, "5": 6},
    })


def write_xlsx(path: Path, rows: list[list], sheet: str = "Выгрузка") -> Path:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path))
    worksheet = workbook.add_worksheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                worksheet.write_string(r, c, value)
            else:
                worksheet.write_number(r, c, value)
    workbook.close()
    return path


def write_csv(path: Path, rows: list[list], encoding: str = "cp1251", delimiter: str = ";") -> Path:
    lines = [delimiter.join("" if v is None else str(v) for v in row) for row in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def run(path: Path, **options):
    options.setdefault("assessment", CODE)
    return import_file(path, ImportOptions(**options))


def errors_at(outcome) -> set[tuple[int | None, str]]:
    return {(p.row, p.column) for p in outcome.errors}


def test_good_file_imports_every_kind_of_cell(spec, region_tree, tmp_path):
    outcome = run(write_xlsx(tmp_path / "region.xlsx", [HEADER, *GOOD]))
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems
    assert outcome.format == "vpr-regional"
    assert outcome.counts["works_imported"] == 3
    assert outcome.counts["absent"] == 2
    assert outcome.counts["task_scores"] == 15
    works = {(w.school.code, w.participant_code): w for w in Work.objects.select_related("school")}
    first = works[("edu221001", "50001")]
    assert (first.primary_score, first.mark, first.journal_mark, first.variant) == (7, 5, 4, 1)
    second = works[("edu221001", "50002")]
    assert (second.primary_score, second.mark, second.journal_mark) == (2, 3, None)
    assert works[("edu221001", "50003")].absent and works[("edu221002", "50002")].absent
    assert works[("edu221002", "50001")].mark == 4
    # positions, not numbers: the 4th `балл за` column is task 3.2, the 5th is task 4
    statuses = dict(TaskScore.objects.filter(work=second).values_list("task__number", "status"))
    assert statuses == {"1": ScoreStatus.NO_ANSWER, "2": ScoreStatus.NO_ANSWER, "3.1": ScoreStatus.SCORED,
                        "3.2": ScoreStatus.NOT_TAUGHT, "4": ScoreStatus.SCORED}
    scores = dict(TaskScore.objects.filter(work=first).values_list("task__number", "score"))
    assert scores == {"1": 1, "2": 1, "3.1": 1, "3.2": 2, "4": 2}
    assert TaskScore.objects.filter(status=ScoreStatus.NO_ANSWER).count() == 3
    assert TaskScore.objects.filter(status=ScoreStatus.NOT_TAUGHT).count() == 1


def test_sniffed_as_regional_export_not_as_form(spec, region_tree, tmp_path):
    path = write_xlsx(tmp_path / "region.xlsx", [HEADER, *GOOD], sheet="Протокол")
    assert detect_format(read_sheets(path), path.name) == "vpr-regional"


def test_work_must_be_named(spec, region_tree, tmp_path):
    outcome = import_file(write_xlsx(tmp_path / "region.xlsx", [HEADER, *GOOD]), ImportOptions())
    assert outcome.status == UploadStatus.REJECTED
    assert any("--assessment" in p.message and "балл за" in p.message for p in outcome.errors)
    assert not Work.objects.exists()


@pytest.mark.parametrize("columns", [4, 6])
def test_wrong_number_of_task_columns_is_a_header_error(spec, region_tree, tmp_path, columns):
    header = HEADER[:7] + [f"балл за {n}" for n in range(1, columns + 1)]
    rows = [row[:7] + [1] * columns for row in GOOD[:2]]
    outcome = run(write_xlsx(tmp_path / "region.xlsx", [["ВПР 2030"], header, *rows]), valid_rows_only=True)
    assert outcome.status == UploadStatus.REJECTED
    assert len(outcome.errors) == 1
    error = outcome.errors[0]
    assert error.row == 2 and str(columns) in error.message and "5" in error.message
    assert not Work.objects.exists()


def test_every_error_with_its_row_and_column_and_nothing_imported(spec, region_tree, tmp_path):
    rows = [HEADER, *GOOD,
            ["edu221001", 50010, 4, "м", "5А", 1, 5, 1, 1, 1, 3, 0],       # row 7: 3 > max 2 of task 3.2
            ["edu221001", 50011, 4, "м", "5А", 1, 5, 1, "abc", 1, 1, 0],   # row 8: text in a task cell
            ["edu221001", 50012, 4, "м", "5А", "первый", 5, 1, 1, 1, 1, 0],  # row 9: variant
            ["edu221001", 50013, 7, "м", "5А", 1, 4, 1, 1, 1, 1, 0],       # row 10: journal mark 7
            ["edu229999", 50014, 4, "м", "5А", 1, 4, 1, 1, 1, 1, 0],       # row 11: unknown school
            ["edu221001", None, 4, "м", "5А", 1, 4, 1, 1, 1, 1, 0]]        # row 12: no participant
    outcome = run(write_xlsx(tmp_path / "region.xlsx", rows))
    assert outcome.status == UploadStatus.REJECTED
    assert errors_at(outcome) == {
        (7, "балл за 4"), (8, "балл за 2"), (9, "Вариант"), (10, "Отметка за предыдущий период"), (11, ""),
        (12, "Код участника"),
    }
    assert "больше максимального (2)" in next(p.message for p in outcome.errors if p.row == 7)
    assert not Work.objects.exists()
    upload = Upload.objects.get()
    assert upload.status == UploadStatus.REJECTED
    assert len([e for e in upload.errors if e["severity"] == "error"]) == 6


def test_valid_rows_only_imports_the_good_rows(spec, region_tree, tmp_path):
    rows = [HEADER, *GOOD, ["edu221001", 50010, 4, "м", "5А", 1, 5, 1, 1, 1, 3, 0]]
    outcome = run(write_xlsx(tmp_path / "region.xlsx", rows), valid_rows_only=True)
    assert outcome.status == UploadStatus.IMPORTED_PARTLY
    assert outcome.counts["rows_rejected"] == 1
    assert [p.row for p in outcome.errors] == [7]
    assert Work.objects.count() == 5
    assert not Work.objects.filter(participant_code="50010").exists()


def test_same_file_twice_changes_nothing(spec, region_tree, tmp_path):
    path = write_xlsx(tmp_path / "region.xlsx", [HEADER, *GOOD])
    assert run(path).status == UploadStatus.IMPORTED
    before = list(Work.objects.order_by("pk").values_list("pk", "primary_score"))
    again = run(path)
    assert again.status == "unchanged"
    assert list(Work.objects.order_by("pk").values_list("pk", "primary_score")) == before
    assert Upload.objects.count() == 1


def test_corrected_file_replaces_the_schools_results(spec, region_tree, tmp_path):
    first = run(write_xlsx(tmp_path / "v1.xlsx", [HEADER, *GOOD]))
    corrected = [list(row) for row in GOOD]
    corrected[0][7:12] = [0, 0, 0, 0, 0]
    corrected[0][6] = 0
    second = run(write_xlsx(tmp_path / "v2.xlsx", [HEADER, *corrected]))
    assert second.status == UploadStatus.IMPORTED
    assert Work.objects.count() == 5
    work = Work.objects.get(school__code="edu221001", participant_code="50001")
    assert (work.primary_score, work.mark, work.upload_id) == (0, 2, second.upload.pk)
    assert Upload.objects.get(pk=first.upload.pk).status == UploadStatus.REPLACED


def test_csv_in_cp1251_with_semicolons(spec, region_tree, tmp_path):
    outcome = run(write_csv(tmp_path / "region.csv", [HEADER, *GOOD]))
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems
    assert (outcome.counts["works_imported"], outcome.counts["absent"]) == (3, 2)
    assert TaskScore.objects.filter(status=ScoreStatus.NO_ANSWER).count() == 3


def test_shipped_sample(spec, region_tree, samples):
    outcome = run(samples / "vpr-regional" / "vpr-regional-ma5.csv")
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems
    assert (outcome.counts["works_imported"], outcome.counts["absent"]) == (4, 1)
