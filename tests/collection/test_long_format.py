"""Long format: one row per pupil × task, grouped into one work per (school, participant)."""

from __future__ import annotations

from pathlib import Path

import pytest

from metodist.collection.importers.base import read_sheets
from metodist.collection.importing import ImportOptions, detect_format, import_file
from metodist.collection.models import ScoreStatus, TaskScore, Upload, UploadStatus, Work
from metodist.reference.specs import save_spec

CODE = "reg-2030-ma-7"
HEADER = ["Работа", "Код ОО", "Код участника", "Класс", "Вариант", "Задание", "Балл", "Отметка по журналу"]
# spec: 1 (1), 2 (2), 3.1 (1), 3.2 (1); marks: 3 from 2, 4 from 3, 5 from 5


def pupil(school: str, code, scores: list, variant=1, journal=4, klass="7А", work=CODE) -> list[list]:
    return [[work, school, code, klass, variant, task, score, journal]
            for task, score in zip(("1", "2", "3.1", "3.2"), scores, strict=False)]


GOOD = [
    *pupil("edu221001", 70001, [1, 2, 1, 1]),
    *pupil("edu221001", 70002, ["X", "не пройд.", "х", 1.0], journal="нет отметки"),
    [CODE, "edu221001", 70003, "7Б", "отсутствовал", None, None, 3],
    *pupil("edu221002", 70001, [0, 2, 1, 0], variant=2, journal=5),
]


@pytest.fixture
def spec(db):
    return save_spec({
        "code": CODE, "programme": "REGIONAL", "subject": "ma", "grade": 7, "year": 2030,
        "tasks": [{"number": n, "max_score": m} for n, m in (("1", 1), ("2", 2), ("3.1", 1), ("3.2", 1))],
        "grade_scale": {"2": 0, "3": 2, "4": 3, "5": 5},
    })


def write_xlsx(path: Path, rows: list[list], sheet: str = "Результаты") -> Path:
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


def errors_at(outcome) -> set[tuple[int | None, str]]:
    return {(p.row, p.column) for p in outcome.errors}


def test_good_file_imports_with_the_work_from_its_column(spec, region_tree, tmp_path):
    path = write_xlsx(tmp_path / "long.xlsx", [HEADER, *GOOD])
    assert detect_format(read_sheets(path), path.name) == "long"
    outcome = import_file(path, ImportOptions())
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems
    assert outcome.upload.assessment == spec
    assert (outcome.counts["works_imported"], outcome.counts["absent"], outcome.counts["task_scores"]) == (3, 1, 12)
    works = {(w.school.code, w.participant_code): w for w in Work.objects.select_related("school")}
    first = works[("edu221001", "70001")]
    assert (first.primary_score, first.mark, first.journal_mark, first.variant) == (5, 5, 4, 1)
    other_school = works[("edu221002", "70001")]
    assert (other_school.primary_score, other_school.mark, other_school.variant) == (3, 4, 2)
    second = works[("edu221001", "70002")]
    assert (second.primary_score, second.journal_mark) == (1, None)
    assert dict(TaskScore.objects.filter(work=second).values_list("task__number", "status")) == {
        "1": ScoreStatus.NO_ANSWER, "2": ScoreStatus.NOT_TAUGHT, "3.1": ScoreStatus.NO_ANSWER,
        "3.2": ScoreStatus.SCORED}
    assert works[("edu221001", "70003")].absent


def test_work_must_be_named_somewhere(spec, region_tree, tmp_path):
    rows = [HEADER[1:]] + [row[1:] for row in GOOD]
    path = write_xlsx(tmp_path / "long.xlsx", rows)
    outcome = import_file(path, ImportOptions())
    assert outcome.status == UploadStatus.REJECTED
    assert any("«Работа»" in p.message and "--assessment" in p.message for p in outcome.errors)
    outcome = import_file(path, ImportOptions(assessment=CODE))
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems
    assert Work.objects.count() == 4


def test_every_error_with_its_row_and_column_and_nothing_imported(spec, region_tree, tmp_path):
    rows = [HEADER, *GOOD,                                            # rows 2–14 good
            *pupil("edu221001", 70010, [1, 2, 1]),                    # rows 15–17: no row for task 3.2
            *pupil("edu221001", 70011, [1, 3, 1, 1]),                 # rows 18–21: 3 > max 2 at row 19
            *pupil("edu221001", 70012, [1, 1, 1, 1]),                 # rows 22–25
            [CODE, "edu221001", 70012, "7А", 1, "2", 0, 4],           # row 26: task 2 again
            [CODE, "edu221001", 70013, "7А", 1, "9", 1, 4],           # row 27: task 9 not in spec
            *pupil("edu221001", 70014, [1, 1, 1, 1])[:3],             # rows 28–30
            [CODE, "edu221001", 70014, "7А", 2, "3.2", 1, 4],         # row 31: another variant
            [CODE, "edu221001", 70015, "7А", 1, "1", "abc", 4]]       # row 32: not a score
    rows += [r for r in pupil("edu221001", 70013, [1, 1, 1, 1])]     # rows 33–36 complete pupil 70013
    rows += [r for r in pupil("edu221001", 70015, [None, 1, 1, 1])][1:]  # rows 37–39
    outcome = import_file(write_xlsx(tmp_path / "long.xlsx", rows), ImportOptions())
    assert outcome.status == UploadStatus.REJECTED
    assert errors_at(outcome) == {
        (15, "Задание"), (19, "Балл"), (26, "Задание"), (27, "Задание"), (31, "Вариант"), (32, "Балл"),
    }
    messages = {p.row: p.message for p in outcome.errors}
    assert "3.2" in messages[15] and "уже указан в строке 23" in messages[26]
    assert "больше максимального (2)" in messages[19]
    assert not Work.objects.exists()


def test_valid_rows_only_rejects_the_whole_pupil(spec, region_tree, tmp_path):
    rows = [HEADER, *GOOD, *pupil("edu221001", 70011, [1, 1, 1, 5])]  # error at row 18, the pupil's 4th row
    outcome = import_file(write_xlsx(tmp_path / "long.xlsx", rows), ImportOptions(valid_rows_only=True))
    assert outcome.status == UploadStatus.IMPORTED_PARTLY
    assert [(p.row, p.column) for p in outcome.errors] == [(18, "Балл")]
    assert outcome.counts["rows_rejected"] == 1
    assert Work.objects.count() == 4
    assert not Work.objects.filter(participant_code="70011").exists()


def test_same_file_twice_and_corrected_file(spec, region_tree, tmp_path):
    path = write_xlsx(tmp_path / "long.xlsx", [HEADER, *GOOD])
    first = import_file(path, ImportOptions())
    assert import_file(path, ImportOptions()).status == "unchanged"
    assert Work.objects.count() == 4 and Upload.objects.count() == 1
    corrected = [list(r) for r in GOOD]
    corrected[0][6] = 0  # pupil 70001 of edu221001, task 1
    second = import_file(write_xlsx(tmp_path / "long-v2.xlsx", [HEADER, *corrected]), ImportOptions())
    assert second.status == UploadStatus.IMPORTED
    assert Work.objects.count() == 4
    work = Work.objects.get(school__code="edu221001", participant_code="70001")
    assert (work.primary_score, work.upload_id) == (4, second.upload.pk)
    assert Upload.objects.get(pk=first.upload.pk).status == UploadStatus.REPLACED


def test_csv_in_cp1251_with_semicolons(spec, region_tree, tmp_path):
    outcome = import_file(write_csv(tmp_path / "long.csv", [HEADER, *GOOD]), ImportOptions())
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems
    assert (outcome.counts["works_imported"], outcome.counts["absent"]) == (3, 1)
    assert TaskScore.objects.filter(status=ScoreStatus.NOT_TAUGHT).count() == 1


def test_shipped_sample(spec, region_tree, samples):
    outcome = import_file(samples / "long" / "long-ma7.csv", ImportOptions())
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems
    assert (outcome.counts["works_imported"], outcome.counts["absent"]) == (2, 1)
