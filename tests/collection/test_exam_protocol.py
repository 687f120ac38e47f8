"""ОГЭ / ЕГЭ protocols: title block, blocks closed by «Средние», answers decoded into the spec's tasks,
and pupils' names and birth dates never stored."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models

from metodist.collection.importers.base import read_sheets
from metodist.collection.importing import ImportOptions, detect_format, import_file
from metodist.collection.models import ScoreStatus, TaskScore, Upload, UploadStatus, Work
from metodist.core.models import Pupil
from metodist.reference.specs import save_spec

HEADER = ["№", "Код ОО", "Класс", "Фамилия", "Имя", "Отчество", "Дата рождения", "Вариант", "Ответы части 1",
          "Ответы части 2", "Первичный балл", "Отметка"]
AVERAGES = ["Средние", None, None, None, None, None, None, None, None, None, 6.7, 3.7]
# Spec: short tasks 1–4 (max 1, 1, 2, 1), extended 5–6 (max 2, 3); marks: 3 from 4, 4 from 7, 5 from 10.
PEOPLE = {
    "zaitsevsky": ("Зайцевский", "Митрофан", "Игнатьевич", dt.date(2015, 3, 12)),
    "lopukhina": ("Лопухина", "Снежана", "Вадимовна", dt.date(2014, 11, 2)),
    "absent": ("Неявкин", "Евлампий", "Поликарпович", dt.date(2015, 1, 30)),
    "fedoseev": ("Федосеенко", "Ерофей", "", dt.date(2014, 12, 31)),
}


def person(key: str, birth=None) -> list:
    surname, name, patronymic, born = PEOPLE[key]
    return [surname, name, patronymic or None, born if birth is None else birth]


def oge_ma(rows_block1: list[list] | None = None, rows_block2: list[list] | None = None) -> list[list]:
    block1 = rows_block1 if rows_block1 is not None else [
        [1, "edu221001", "9А", *person("zaitsevsky"), 301, "++2-", "1(2)2(3)", 7, 4],
        [2, "edu221001", "9Б", *person("lopukhina"), 302, "+-1+", "0(2)X(3)", 3, 2],
        [3, "edu221001", "9Б", *person("absent"), "неявка", None, None, None, None],
    ]
    block2 = rows_block2 if rows_block2 is not None else [
        [1, "edu221002", "9А", *person("fedoseev"), 301, "++++", "2(2)3(3)", 10, 5],
    ]
    return [
        ["Протокол проверки результатов государственной итоговой аттестации"],
        ["Регион: Алтайский край"],
        ["Экзамен: ОГЭ по математике, 24.05.2030"],
        [],
        HEADER, *block1, AVERAGES,
        [],
        ["Код ОО: edu221002"],
        HEADER, *block2, AVERAGES,
    ]


def spec(code: str, subject: str, programme: str = "OGE", grade: int = 9, **extra):
    return save_spec({
        "code": code, "programme": programme, "subject": subject, "grade": grade, "year": 2030,
        "tasks": [
            {"number": "1", "max_score": 1, "task_type": "short"},
            {"number": "2", "max_score": 1, "task_type": "short"},
            {"number": "3", "max_score": 2, "task_type": "short"},
            {"number": "4", "max_score": 1, "task_type": "short"},
            {"number": "5", "max_score": 2, "task_type": "extended"},
            {"number": "6", "max_score": 3, "task_type": "extended"},
        ],
        **extra,
    })


@pytest.fixture
def specs(db):
    scale = {"grade_scale": {"2": 0, "3": 4, "4": 7, "5": 10}}
    return {
        "ma": spec("oge-2030-ma-9", "ma", **scale),
        "ru": spec("oge-2030-ru-9", "ru", **scale),
        "fi": spec("ege-2030-fi-11", "fi", programme="EGE", grade=11,
                   test_scale=[0, 5, 10, 20, 30, 40, 50, 60, 70, 80, 100]),
    }


def write_xlsx(path: Path, rows: list[list], sheet: str = "Протокол") -> Path:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path))
    worksheet = workbook.add_worksheet(sheet)
    date_format = workbook.add_format({"num_format": "dd.mm.yyyy"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, dt.date):
                worksheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
            elif isinstance(value, str):
                worksheet.write_string(r, c, value)
            else:
                worksheet.write_number(r, c, value)
    workbook.close()
    return path


def write_csv(path: Path, rows: list[list], encoding: str = "cp1251", delimiter: str = ";") -> Path:
    def cell(value) -> str:
        if value is None:
            return ""
        if isinstance(value, dt.date):
            return value.strftime("%d.%m.%Y")
        return str(value)

    lines = [delimiter.join(cell(v) for v in row) for row in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def errors_at(outcome) -> set[tuple[int | None, str]]:
    return {(p.row, p.column) for p in outcome.errors}


def test_protocol_with_two_blocks_imports_and_detects_the_exam(specs, region_tree, tmp_path):
    path = write_xlsx(tmp_path / "oge.xlsx", oge_ma())
    assert detect_format(read_sheets(path), path.name) == "exam-protocol"
    outcome = import_file(path, ImportOptions())
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems
    assert outcome.upload.assessment == specs["ma"]
    assert (outcome.counts["works_imported"], outcome.counts["absent"]) == (3, 1)
    assert outcome.counts["task_scores"] == 18
    works = {(w.school.code, w.participant_code): w for w in Work.objects.select_related("school", "school_class")}
    first = works[("edu221001", "1")]
    assert (first.primary_score, first.mark, first.variant, first.school_class.letter) == (7, 4, 301, "А")
    assert dict(TaskScore.objects.filter(work=first).values_list("task__number", "score")) == {
        "1": 1, "2": 1, "3": 2, "4": 0, "5": 1, "6": 2}
    second = works[("edu221001", "2")]
    assert (second.primary_score, second.mark) == (3, 2)
    assert TaskScore.objects.get(work=second, task__number="6").status == ScoreStatus.NO_ANSWER
    assert works[("edu221001", "3")].absent
    assert works[("edu221002", "1")].mark == 5
    assert Work.objects.count() == 4  # «Средние» rows are not pupils


def test_names_and_birth_dates_never_reach_the_database(specs, region_tree, tmp_path):
    rows = oge_ma()
    bad = [4, "edu221001", "9В", "Пересветова", "Ефросинья", "Карповна", dt.date(2015, 7, 19), 301, "++-", "1(2)1(3)",
           None, None]
    rows.insert(8, bad)  # a row with an error: its problem is stored in Upload.errors
    ma = import_file(write_xlsx(tmp_path / "oge-ma.xlsx", rows), ImportOptions(valid_rows_only=True))
    assert ma.status == UploadStatus.IMPORTED_PARTLY and ma.counts["rows_rejected"] == 1
    ru_rows = oge_ma([[7, "edu221001", "9А", "ЗАЙЦЕВСКИЙ", "митрофан", "Игнатьевич", "12.03.2015", 11, "+-+-",
                       "0(2)0(3)", 2, 2]], [])
    ru_rows[2] = ["Экзамен: ОГЭ по русскому языку, 27.05.2030"]
    ru = import_file(write_csv(tmp_path / "oge-ru.csv", ru_rows), ImportOptions())
    assert ru.status == UploadStatus.IMPORTED, ru.problems
    assert ru.upload.assessment == specs["ru"]

    forbidden = {"Пересветова", "Ефросинья", "Карповна", "2015-07-19", "19.07.2015"}
    for surname, name, patronymic, born in PEOPLE.values():
        forbidden |= {surname, name, born.isoformat(), born.strftime("%d.%m.%Y")} | ({patronymic} - {""})
    forbidden = {f.casefold() for f in forbidden}
    stored = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, (models.CharField, models.TextField, models.JSONField)):
                stored += [str(v) for v in model.objects.values_list(field.attname, flat=True)]
    stored += [str(u.errors) for u in Upload.objects.all()]
    text = "\n".join(stored).casefold()
    assert "ответах части 1" in text  # the dump does hold the stored problems
    assert not [f for f in forbidden if f in text]

    # the same person, written differently in a CSV of another subject, is the same pupil
    pupils = {w.assessment.code: w.pupil_id for w in Work.objects.filter(school__code="edu221001",
                                                                          participant_code__in=["1", "7"])}
    assert pupils["oge-2030-ma-9"] == pupils["oge-2030-ru-9"]
    assert Pupil.objects.count() == 4


def test_every_error_with_its_row_and_column_and_nothing_imported(specs, region_tree, tmp_path):
    block = [
        [1, "edu221001", "9А", *person("zaitsevsky"), 301, "++2-", "1(2)2(3)", 7, 4],   # row 6: good
        [2, "edu221001", "9А", *person("lopukhina"), 301, "++2", "1(2)2(3)", 7, 4],     # row 7: 3 signs for 4
        [3, "edu221001", "9А", *person("absent", "31.02.2015"), 301, "++2-", "1(2)2(3)", 7, 4],  # row 8: date
        [4, "edu221001", "9А", "Иных", "Ян", None, None, 301, "++3-", "1(2)2(3)", 8, 4],  # row 9: 3 > max 2
        [5, "edu221001", "9А", "Иных", "Лев", None, None, 301, "++?-", "1(2)2(3)", 6, 3],  # row 10: sign «?»
        [6, "edu221001", "9А", "Иных", "Ия", None, None, 301, "++2-", "1(2)2(2)", 6, 3],  # row 11: max (2) ≠ 3
        [7, "edu221001", "9А", "Иных", "Ада", None, None, 301, "++2-", "1(2)", 4, 3],      # row 12: one of two
        [8, "edu221001", "9А", "Иных", "Ева", None, None, 301, "++2-", "1(2)2(3)", 7, 5],  # row 13: mark 5 for 7
        [9, "edu221001", "9А", None, "Ян", None, None, 301, "++2-", "1(2)2(3)", 7, 4],     # row 14: no surname
    ]
    outcome = import_file(write_xlsx(tmp_path / "oge.xlsx", oge_ma(block, [])), ImportOptions())
    assert outcome.status == UploadStatus.REJECTED
    assert errors_at(outcome) == {
        (7, "Ответы части 1"), (8, "Дата рождения"), (9, "Ответы части 1"), (10, "Ответы части 1"),
        (11, "Ответы части 2"), (12, "Ответы части 2"), (13, "Отметка"), (14, "Фамилия"),
    }
    messages = {p.row: p.message for p in outcome.errors}
    assert "знаков 3" in messages[7] and "4" in messages[7]
    assert "больше максимального (2)" in messages[9]
    assert "по спецификации — 3" in messages[11]
    assert "отметка 4" in messages[13]
    assert "31.02" not in messages[8]
    assert not Work.objects.exists()


def test_valid_rows_only_and_same_file_twice(specs, region_tree, tmp_path):
    block = [
        [1, "edu221001", "9А", *person("zaitsevsky"), 301, "++2-", "1(2)2(3)", 7, 4],
        [2, "edu221001", "9А", *person("lopukhina"), 301, "++2", "1(2)2(3)", 7, 4],
    ]
    path = write_xlsx(tmp_path / "oge.xlsx", oge_ma(block))
    outcome = import_file(path, ImportOptions(valid_rows_only=True))
    assert outcome.status == UploadStatus.IMPORTED_PARTLY
    assert [p.row for p in outcome.errors] == [7]
    assert Work.objects.count() == 2
    again = import_file(path, ImportOptions(valid_rows_only=True))
    assert again.status == "unchanged"
    assert Work.objects.count() == 2 and Upload.objects.count() == 1


def test_corrected_protocol_replaces_the_previous_one(specs, region_tree, tmp_path):
    first = import_file(write_xlsx(tmp_path / "v1.xlsx", oge_ma()), ImportOptions())
    block = [[1, "edu221001", "9А", *person("zaitsevsky"), 301, "++++", "2(2)3(3)", 10, 5]]
    second = import_file(write_xlsx(tmp_path / "v2.xlsx", oge_ma(block, [])), ImportOptions())
    assert second.status == UploadStatus.IMPORTED, second.problems
    remaining = Work.objects.filter(school__code="edu221001")
    assert [(w.primary_score, w.mark) for w in remaining] == [(10, 5)]
    assert Work.objects.filter(school__code="edu221002", upload=first.upload).count() == 1
    assert Upload.objects.get(pk=first.upload.pk).status == UploadStatus.IMPORTED  # still holds edu221002


def test_ege_protocol_in_cp1251_csv_with_test_scores(specs, region_tree, tmp_path):
    rows = [
        ["Протокол проверки результатов ЕГЭ"],
        ["Регион:", "Алтайский край"],
        ["Предмет:", "Физика"],
        ["Дата экзамена:", "10.06.2030"],
        ["№", "Код ОО", "Класс", "Фамилия", "Имя", "Отчество", "Вариант", "Ответы части 1", "Ответы части 2",
         "Первичный балл", "Тестовый балл"],
        [1, "edu221001", "11А", "Зайцевский", "Митрофан", "Игнатьевич", 501, "+-+-", "2(2)0(3)", 5, 40],
        [2, "edu221001", "11А", "Лопухина", "Снежана", None, 501, "++2+", "2(2)3(3)", 10, 100],
        [3, "edu221001", "11А", "Сидоров", "Ян", None, 501, "++2+", "2(2)3(3)", 10, 90],
        ["Средние"],
    ]
    outcome = import_file(write_csv(tmp_path / "ege.csv", rows), ImportOptions(valid_rows_only=True))
    assert outcome.upload.assessment == specs["fi"]
    assert [(p.row, "Тестовый балл" in p.message) for p in outcome.errors] == [(8, True)]
    assert sorted(Work.objects.values_list("primary_score", "test_score")) == [(5, 40), (10, 100)]


def test_unknown_exam_and_missing_title(specs, region_tree, tmp_path):
    rows = oge_ma()
    rows[2] = ["Экзамен: ОГЭ по химии, 24.05.2030"]
    outcome = import_file(write_xlsx(tmp_path / "hi.xlsx", rows), ImportOptions())
    assert outcome.status == UploadStatus.REJECTED
    assert any("oge-2030-hi-9" in p.message for p in outcome.errors)
    rows[2] = []
    rows[0] = ["Протокол"]
    outcome = import_file(write_xlsx(tmp_path / "none.xlsx", rows), ImportOptions())
    assert any("--assessment" in p.message for p in outcome.errors)
    assert not Work.objects.exists()
    # named at import, it loads
    outcome = import_file(tmp_path / "none.xlsx", ImportOptions(assessment="oge-2030-ma-9"))
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems


def test_shipped_sample(specs, region_tree, samples):
    outcome = import_file(samples / "exam-protocol" / "oge-ma-protocol.csv", ImportOptions())
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems
    assert (outcome.counts["works_imported"], outcome.counts["absent"]) == (3, 1)
