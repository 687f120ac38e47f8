"""Bad input: every problem is a Russian message with its place, nothing is imported, nothing raises."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metodist.collection.importers import base
from metodist.collection.importing import ImportOptions, import_file
from metodist.collection.models import TaskScore, Upload, UploadStatus, Work
from metodist.core.models import Organisation, OrganisationKind, Pupil
from metodist.reference.specs import save_spec

JOURNAL = "Отметка за предыдущий триместр/ четверть/полугодие"
HEADER = ["Код участника", "Вариант", "1 (2б)", "2 (1б)", "3 (2б)", "Порядковый номер класса", JOURNAL, "Итого баллов"]
GOOD = [[40001, 1, 2, 1, 2, 1, 5, 5], [40002, 2, 1, 0, "X", 1, 3, 1], [40003, 1, 0, 1, 1, 2, 4, 2]]
CYRILLIC = re.compile(r"[А-Яа-яЁё]")


def write_xlsx(path: Path, rows: list[list[object]], sheet: str = "Протокол") -> Path:
    workbook = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True})
    worksheet = workbook.add_worksheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                worksheet.write(r, c, value)
    workbook.close()
    return path


@pytest.fixture
def spec(db):
    return save_spec({
        "code": "test-2026-ma-4", "programme": "VPR", "subject": "ma", "grade": 4, "year": 2026, "variants": [1, 2],
        "tasks": [{"number": "1", "max_score": 2}, {"number": "2", "max_score": 1}, {"number": "3", "max_score": 2}],
        "grade_scale": {3: 2, 4: 3, 5: 5},
    })


@pytest.fixture
def school(region_tree):
    return region_tree["school11"]


def run(path, **options):
    """Import with the test spec and school; the outcome must not raise, and nothing may be imported."""
    options.setdefault("assessment", "test-2026-ma-4")
    options.setdefault("school", "edu221001")
    outcome = import_file(path, ImportOptions(**options))
    return outcome


def assert_rejected(outcome):
    assert outcome.status == UploadStatus.REJECTED, outcome.as_dict()
    assert not outcome.ok
    assert outcome.errors
    for problem in outcome.errors:
        assert CYRILLIC.search(problem.message), problem.message
        assert problem.message.rstrip("»").endswith((".", "?")), problem.message
        assert "Traceback" not in problem.message
    assert not Work.objects.exists() and not TaskScore.objects.exists() and not Pupil.objects.exists()


# --- the file as a whole ------------------------------------------------------------------------------

def test_empty_file(spec, school, tmp_path):
    path = tmp_path / "пустой.xlsx"
    path.write_bytes(b"")
    outcome = run(path)
    assert_rejected(outcome)
    assert outcome.errors[0].message == "Файл пустой.xlsx пуст."


def test_missing_file(spec, school, tmp_path):
    outcome = run(tmp_path / "нет.xlsx")
    assert_rejected(outcome)
    assert "не найден" in outcome.message


def test_pdf(spec, school, tmp_path):
    path = tmp_path / "отчёт.pdf"
    path.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + os.urandom(2000)
                     + b"\n%%EOF\n")
    assert_rejected(run(path))


def test_docx(spec, school, tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("Протокол ВПР")
    path = tmp_path / "протокол.docx"
    document.save(str(path))
    outcome = run(path)
    assert_rejected(outcome)
    assert "не удалось прочитать как таблицу Excel" in outcome.message


def test_docx_renamed_to_xlsx(spec, school, tmp_path):
    import docx

    path = tmp_path / "протокол.xlsx"
    docx.Document().save(str(path))
    assert_rejected(run(path))


def test_binary_garbage(spec, school, tmp_path):
    path = tmp_path / "мусор.csv"
    path.write_bytes(bytes(range(256)) * 50)
    outcome = run(path)
    assert_rejected(outcome)
    assert "двоичные данные" in outcome.message


def test_garbage_named_xlsx(spec, school, tmp_path):
    path = tmp_path / "мусор.xlsx"
    path.write_bytes(b"PK\x03\x04" + os.urandom(5000))
    assert_rejected(run(path))


def test_huge_file(spec, school, tmp_path):
    path = tmp_path / "огромный.csv"
    with open(path, "wb") as fh:
        fh.truncate(base.MAX_FILE_BYTES + 1)  # sparse: no disk used
    outcome = run(path)
    assert_rejected(outcome)
    assert "слишком большой" in outcome.message


def test_huge_file_limit_is_configurable(spec, school, tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "форма.xlsx", [HEADER, *GOOD])
    monkeypatch.setattr(base, "MAX_FILE_BYTES", 100)
    assert_rejected(run(path))


def test_no_header(spec, school, tmp_path):
    path = write_xlsx(tmp_path / "без заголовка.xlsx", GOOD)
    outcome = run(path)
    assert_rejected(outcome)
    outcome = run(path, format="vpr-form")
    assert_rejected(outcome)
    assert "Не найдена строка заголовка" in outcome.errors[0].message


def test_unknown_format_name(spec, school, tmp_path):
    path = write_xlsx(tmp_path / "форма.xlsx", [HEADER, *GOOD])
    outcome = run(path, format="nonsense")
    assert_rejected(outcome)
    assert outcome.message == "Неизвестный формат «nonsense»."


def test_unknown_assessment(spec, school, tmp_path):
    path = write_xlsx(tmp_path / "форма.xlsx", [HEADER, *GOOD])
    outcome = run(path, assessment="vpr-1999-xx-4")
    assert_rejected(outcome)
    assert "Работа с кодом «vpr-1999-xx-4» не найдена" in outcome.message


def test_unknown_school_option(spec, school, tmp_path):
    path = write_xlsx(tmp_path / "форма.xlsx", [HEADER, *GOOD])
    outcome = run(path, school="edu000000")
    assert_rejected(outcome)
    assert outcome.message == "Школа с кодом edu000000 не найдена."


# --- rows and cells -------------------------------------------------------------------------------------

def test_unknown_task_column(spec, school, tmp_path):
    path = write_xlsx(tmp_path / "форма.xlsx", [HEADER[:5] + ["4 (1б)"] + HEADER[5:],
                                               *[row[:5] + [1] + row[5:] for row in GOOD]])
    outcome = run(path)
    assert_rejected(outcome)
    problem = next(p for p in outcome.errors if p.column == "4 (1б)")
    assert (problem.sheet, problem.row) == ("Протокол", 1)
    assert problem.message == "Задания 4 нет в спецификации работы: проверьте, что выбрана верная работа."


def test_score_over_maximum(spec, school, tmp_path):
    rows = [HEADER, *GOOD]
    rows[2] = [40002, 2, 1, 7, "X", 1, 3, 8]
    outcome = run(write_xlsx(tmp_path / "форма.xlsx", rows))
    assert_rejected(outcome)
    [problem] = outcome.errors
    assert (problem.sheet, problem.row, problem.column) == ("Протокол", 3, "2 (1б)")
    assert problem.message == "Балл за задание 2 (7) больше максимального (1)."
    assert outcome.message == "В файле найдены ошибки: 1. Ничего не загружено."
    upload = Upload.objects.get()
    assert upload.status == UploadStatus.REJECTED and upload.errors[0]["row"] == 3


def test_text_in_score_cell(spec, school, tmp_path):
    rows = [HEADER, *GOOD]
    rows[3] = [40003, 1, "два", 1, 1, 2, 4, 2]
    outcome = run(write_xlsx(tmp_path / "форма.xlsx", rows))
    assert_rejected(outcome)
    [problem] = outcome.errors
    assert (problem.row, problem.column) == (4, "1 (2б)")
    assert problem.message == "В ячейке задания 1 стоит «два»: ожидается балл, X или «не пройд.»."


def test_a_nul_character_in_a_cell_is_dropped_not_a_failure(spec, school, tmp_path):
    """PostgreSQL keeps no NUL in text or JSON: quoted in the message of the error, it failed the import
    (found by the fuzz test below)."""
    rows = [HEADER, *GOOD]
    rows[3] = [40003, 1, "дв\x00а", 1, 1, 2, 4, 2]
    outcome = run(write_xlsx(tmp_path / "форма.xlsx", rows))
    assert_rejected(outcome)
    [problem] = outcome.errors
    assert problem.message == "В ячейке задания 1 стоит «два»: ожидается балл, X или «не пройд.»."
    assert Upload.objects.get(pk=outcome.upload.pk).errors[0]["message"] == problem.message


def test_fractional_and_negative_scores(spec, school, tmp_path):
    rows = [HEADER, *GOOD]
    rows[1] = [40001, 1, 1.5, 1, 2, 1, 5, 5]
    rows[2] = [40002, 2, -1, 0, "X", 1, 3, 1]
    outcome = run(write_xlsx(tmp_path / "форма.xlsx", rows))
    assert_rejected(outcome)
    assert {(p.row, p.column) for p in outcome.errors} == {(2, "1 (2б)"), (3, "1 (2б)")}


def test_duplicate_participant(spec, school, tmp_path):
    rows = [HEADER, *GOOD, [40001, 2, 1, 1, 1, 1, 4, 3]]
    outcome = run(write_xlsx(tmp_path / "форма.xlsx", rows))
    assert_rejected(outcome)
    [problem] = outcome.errors
    assert problem.row == 5 and problem.message == "Участник 40001 уже встречается в строке 2."


def test_mark_contradicting_the_scale(spec, school, tmp_path):
    header = [*HEADER, "Отметка"]
    rows = [header, [40001, 1, 2, 1, 2, 1, 5, 5, 5], [40002, 2, 1, 0, "X", 1, 3, 1, 4], [40003, 1, 0, 1, 1, 2, 4, 2, 3]]
    outcome = run(write_xlsx(tmp_path / "форма.xlsx", rows))
    assert_rejected(outcome)
    [problem] = outcome.errors
    assert (problem.row, problem.column) == (3, "Отметка")
    assert problem.message == ("Отметка 4 не соответствует первичному баллу 1: по шкале перевода это отметка 2.")


def test_unreadable_mark_and_variant(spec, school, tmp_path):
    rows = [HEADER, *GOOD]
    rows[1] = [40001, "первый", 2, 1, 2, 1, "отлично", 5]
    outcome = run(write_xlsx(tmp_path / "форма.xlsx", rows))
    assert_rejected(outcome)
    assert {p.column for p in outcome.errors} == {"Вариант", JOURNAL}
    assert all(p.row == 2 for p in outcome.errors)


def test_variant_not_in_the_work(spec, school, tmp_path):
    rows = [HEADER, *GOOD]
    rows[1] = [40001, 7, 2, 1, 2, 1, 5, 5]
    outcome = run(write_xlsx(tmp_path / "форма.xlsx", rows))
    assert_rejected(outcome)
    assert outcome.errors[0].message == "Варианта 7 нет в работе test-2026-ma-4: есть варианты 1, 2."


def test_absent_with_scores(spec, school, tmp_path):
    rows = [HEADER, *GOOD, [40004, "отсутствовал", 1, None, None, 1, 4, 1]]
    outcome = run(write_xlsx(tmp_path / "форма.xlsx", rows))
    assert_rejected(outcome)
    assert outcome.errors[0].row == 5


def test_blank_score_of_a_present_pupil(spec, school, tmp_path):
    rows = [HEADER, *GOOD]
    rows[1] = [40001, 1, 2, None, 2, 1, 5, 4]
    outcome = run(write_xlsx(tmp_path / "форма.xlsx", rows))
    assert_rejected(outcome)
    [problem] = outcome.errors
    assert (problem.row, problem.column) == (2, "2 (1б)")
    assert problem.message == "Не указан балл за задание 2. Если ответа нет, поставьте X."


def test_school_not_in_the_registry(spec, region_tree, tmp_path):
    header = ["Школа", *HEADER]
    rows = [header, *[["edu999999 | Неизвестная школа", *row] for row in GOOD]]
    outcome = import_file(write_xlsx(tmp_path / "форма.xlsx", rows), ImportOptions(assessment="test-2026-ma-4"))
    assert_rejected(outcome)
    [problem] = outcome.errors
    assert problem.row == 2 and problem.sheet == "Протокол"
    assert problem.message.startswith("Школы с кодом edu999999 нет в реестре организаций (3 строки).")
    assert not Organisation.objects.filter(code="edu999999").exists()


def test_organisation_that_is_not_a_school(spec, region_tree, tmp_path):
    header = ["Школа", *HEADER]
    rows = [header, *[["reg22_m001 | Район 1", *row] for row in GOOD]]
    outcome = import_file(write_xlsx(tmp_path / "форма.xlsx", rows), ImportOptions(assessment="test-2026-ma-4"))
    assert_rejected(outcome)
    assert "принадлежит не школе" in outcome.errors[0].message


def test_every_problem_is_reported_at_once(spec, school, tmp_path):
    rows = [HEADER, [40001, 1, 9, 1, 2, 1, 5, 5], [40002, 2, 1, "?", "X", 1, 3, 1], [40001, 1, 0, 1, 1, 2, 4, 2]]
    outcome = run(write_xlsx(tmp_path / "форма.xlsx", rows))
    assert_rejected(outcome)
    assert [p.row for p in outcome.errors] == [3, 2, 4] or sorted(p.row for p in outcome.errors) == [2, 3, 4]


def test_cp1251_csv(spec, school, tmp_path):
    lines = [";".join(HEADER)] + [";".join(str(v) for v in row) for row in GOOD]
    lines[2] = lines[2].replace(";X;", ";Х;")  # Cyrillic X, in cp1251
    path = tmp_path / "форма.csv"
    path.write_bytes("\r\n".join(lines).encode("cp1251"))
    outcome = run(path)
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()
    assert Work.objects.count() == 3
    Work.objects.all().delete()
    # and a cp1251 file with an error reports it in readable Russian
    lines[1] = lines[1].replace("40001;1;2", "40001;1;два")
    path.write_bytes("\r\n".join(lines).encode("cp1251"))
    outcome = run(path)
    assert outcome.status == UploadStatus.REJECTED
    assert outcome.errors[0].message == "В ячейке задания 1 стоит «два»: ожидается балл, X или «не пройд.»."
    assert outcome.errors[0].column == "1 (2б)"


def test_utf16_csv(spec, school, tmp_path):
    lines = ["\t".join(HEADER)] + ["\t".join(str(v) for v in row) for row in GOOD]
    path = tmp_path / "форма.txt"
    path.write_bytes("\r\n".join(lines).encode("utf-16"))
    outcome = run(path)
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()


# --- fuzzing ---------------------------------------------------------------------------------------------

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.binary(min_size=0, max_size=3000), suffix=st.sampled_from([".csv", ".xlsx", ".xls", ".txt", ".pdf"]))
def test_fuzz_random_bytes_never_raise(spec, school, data, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"файл{suffix}"
        path.write_bytes(data)
        outcome = import_file(path, ImportOptions(assessment="test-2026-ma-4", school="edu221001"))
        assert outcome.status in (UploadStatus.REJECTED, UploadStatus.IMPORTED, UploadStatus.IMPORTED_PARTLY)
        if outcome.status == UploadStatus.REJECTED:
            assert outcome.message


CELL = st.one_of(
    st.none(), st.integers(min_value=-100000, max_value=100000), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["X", "х", "не пройд.", "отсутствовал", "нет отметки", "3.0", "", " ",
                                           "1e400", "-0", "5,5", "edu221001", "№"]),
)


@FUZZ
@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=len(HEADER) + 2), min_size=1, max_size=8),
       valid_rows_only=st.booleans())
def test_fuzz_random_cells_never_raise(spec, school, rows, valid_rows_only):
    with tempfile.TemporaryDirectory() as folder:
        path = write_xlsx(Path(folder) / "форма.xlsx", [HEADER, *rows])
        outcome = import_file(path, ImportOptions(assessment="test-2026-ma-4", school="edu221001",
                                                  valid_rows_only=valid_rows_only))
        assert outcome.status in (UploadStatus.REJECTED, UploadStatus.IMPORTED, UploadStatus.IMPORTED_PARTLY,
                                  "unchanged")
        for problem in outcome.errors:
            assert CYRILLIC.search(problem.message)
        if outcome.status == UploadStatus.REJECTED:
            assert not Work.objects.filter(upload=outcome.upload).exists()


@FUZZ
@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=len(HEADER) + 2), min_size=1, max_size=8))
def test_fuzz_random_cells_in_csv_never_raise(spec, school, rows):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "форма.csv"
        lines = [";".join(HEADER)] + [";".join("" if v is None else str(v).replace(";", " ").replace("\n", " ")
                                               .replace("\r", " ").replace('"', "")
                                               for v in row) for row in rows]
        path.write_text("\n".join(lines), encoding="utf-8")
        outcome = import_file(path, ImportOptions(assessment="test-2026-ma-4", school="edu221001"))
        assert outcome.status in (UploadStatus.REJECTED, UploadStatus.IMPORTED, UploadStatus.IMPORTED_PARTLY,
                                  "unchanged")


def test_school_option_is_a_school(spec, region_tree, tmp_path):
    path = write_xlsx(tmp_path / "форма.xlsx", [HEADER, *GOOD])
    assert Organisation.objects.get(code="reg22_m001").kind == OrganisationKind.MUNICIPALITY
    assert_rejected(run(path, school="reg22_m001"))


@pytest.mark.parametrize("variant", [-1, 0, 70000, "1e9"])
def test_impossible_variant_when_the_spec_lists_none(school, tmp_path, variant):
    save_spec({"code": "test-novariants", "programme": "VPR", "subject": "ma", "grade": 4, "year": 2026,
               "tasks": [{"number": "1", "max_score": 2}, {"number": "2", "max_score": 1},
                         {"number": "3", "max_score": 2}]})
    rows = [HEADER, *GOOD]
    rows[1] = [40001, variant, 2, 1, 2, 1, 5, 5]
    outcome = run(write_xlsx(tmp_path / "форма.xlsx", rows), assessment="test-novariants")
    assert_rejected(outcome)
    [problem] = outcome.errors
    assert (problem.row, problem.column) == (2, "Вариант")
