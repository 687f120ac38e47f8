"""Standard reports of the federal system (ФИС ОКО) as published figures: the rows of the real 2026 exports
(/work/shared/real-samples/fis-oko-reports/report-dumps-2026.txt) are written into XLSX files in the same
layout (title block, header «Группы участников», one row per level), and what is stored must be what the
federal system printed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import xlsxwriter

from metodist.collection.importers.base import read_sheets
from metodist.collection.importing import ImportOptions, detect_format, import_file
from metodist.collection.models import Upload, UploadStatus
from metodist.core.models import Organisation, OrganisationKind
from metodist.reference.models import PublishedLevel, PublishedResult
from metodist.reference.specs import ensure_shipped_specs, save_spec

TITLE_RU4 = [
    (1, ["Статистика по отметкам"]),
    (3, ["ВПР 2026 Русский язык 4 класс"]),
    (4, ["Предмет:", "Русский язык"]),
    (5, ["Максимальный первичный балл:", 24]),
    (6, ["Дата:", "20.04.2026"]),
]
# «Ф3_Статистика по отметкам.xlsx», sheet «РУ 4 Статистика по отметкам», rows 8–12 as exported
MARKS_RU4 = [
    (8, ["Группы участников", "Кол-во ОО", "Кол-во участников", 2, 3, 4, 5]),
    (9, ["Вся выборка", 35589, 1722202, 5.06, 32.92, 44.33, 17.69]),
    (10, ["Чеченская Республика", 560, 30216, 13.44, 44.15, 36.28, 6.14]),
    (11, ["Урус-Мартановский муниципальный район(reg20_m012)", 47, 3162, 13.57, 46.9, 33.65, 5.88]),
    (12, ["МБОУ «СОШ №1 г.Урус-Мартан»(edu203389)", None, 89, 12.36, 52.81, 26.97, 7.87]),
]
# «2849657.xlsx», sheet «МА 4 Сравнение отметок с отметк» (ВПР 2024 mathematics, grade 4)
JOURNAL_MA4 = [
    (1, ["Сравнение отметок с отметками по журналу"]),
    (3, ["ВПР 2024 Математика 4 класс"]),
    (4, ["Предмет:", "Математика"]),
    (5, ["Максимальный первичный балл:", 20]),
    (6, ["Дата:", "19.03.2024"]),
    (8, ["Группы участников", "Кол-во участников(всего)", "Понизили (Отметка < Отметка по журналу) %",
         "Понизили (Отметка < Отметка по журналу) Кол-во участников", "Подтвердили (Отметка = Отметке по журналу) %",
         "Подтвердили (Отметка = Отметке по журналу) Кол-во участников", "Повысили (Отметка > Отметка по журналу) %",
         "Повысили (Отметка > Отметка по журналу) Кол-во участников"]),
    (9, ["Чеченская Республика", 29589, 37.22, 11011, 60.67, 17951, 2.11, 624]),
    (10, ["Урус-Мартановский муниципальный район(reg20_m012)", 2817, 40.86, 1151, 56.66, 1596, 2.48, 70]),
    (11, ["МБОУ «СОШ №1 г.Урус-Мартан»(edu203389)", 93, 55.91, 52, 39.78, 37, 4.3, 4]),
]
RU4_TASKS = ["1", "2", "3", "4", "5", "6", "7", "8", "9.1", "9.2", "10.1", "10.2", "11", "12.1", "12.2"]
RU4_MAX = [2, 1, 2, 3, 2, 1, 1, 2, 1, 2, 1, 2, 1, 2, 1]
# «Выполнение заданий»: the same title block, a row of maximums under the header; figures written here
NATIONAL_SOLVE = [71.5, 80.12, 64.3, 55.0, 48.25, 90.1, 77.77, 61.0, 58.4, 45.5, 66.6, 52.3, 83.2, 49.9, 70.0]
SCHOOL_SOLVE = [60.67, 70.79, 51.12, 43.45, 30.9, 85.39, 70.79, 55.62, 50.56, 38.2, 60.67, 44.94, 78.65, 40.45,
                61.8]
TASKS_RU4 = [
    (1, ["Выполнение заданий"]),
    (3, ["ВПР 2026 Русский язык 4 класс"]),
    (4, ["Предмет:", "Русский язык"]),
    (5, ["Максимальный первичный балл:", 24]),
    (6, ["Дата:", "20.04.2026"]),
    (8, ["Группы участников", "Кол-во ОО", "Кол-во участников", *RU4_TASKS]),
    (9, ["Макс балл", None, None, *RU4_MAX]),
    (10, ["Вся выборка", 35589, 1722202, *NATIONAL_SOLVE]),
    (11, ["МБОУ «СОШ №1 г.Урус-Мартан»(edu203389)", None, 89, *SCHOOL_SOLVE]),
]
SCORES_RU4 = [
    (1, ["Распределение первичных баллов"]),
    (3, ["ВПР 2026 Русский язык 4 класс"]),
    (6, ["Дата:", "20.04.2026"]),
    (8, ["Группы участников", "Кол-во ОО", "Кол-во участников", *range(25)]),
    (9, ["Вся выборка", 35589, 1722202, *([4.0] * 25)]),
]


def workbook(tmp_path: Path, name: str, sheets: dict[str, list[tuple[int, list]]]) -> Path:
    """An XLSX file with the given rows at the given (1-based) row numbers, first column A."""
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


def marks_file(tmp_path: Path, name="Ф3_Статистика по отметкам.xlsx") -> Path:
    return workbook(tmp_path, name, {"РУ 4 Статистика по отметкам": TITLE_RU4 + MARKS_RU4})


def run(path, **options):
    return import_file(path, ImportOptions(**options))


@pytest.fixture
def specs(db):
    ensure_shipped_specs()


@pytest.fixture
def chechnya(db):
    region = Organisation.objects.create(kind=OrganisationKind.REGION, code="reg20", short_name="Чеченская Республика")
    mun = Organisation.objects.create(kind=OrganisationKind.MUNICIPALITY, code="reg20_m012",
                                      short_name="Урус-Мартановский муниципальный район", parent=region)
    school = Organisation.objects.create(kind=OrganisationKind.SCHOOL, code="edu203389",
                                         short_name="МБОУ «СОШ №1 г.Урус-Мартан»", parent=mun)
    return {"region": region, "mun": mun, "school": school}


def stored(code="vpr-2026-ru-4") -> dict:
    return {(p.level, p.key): p for p in PublishedResult.objects.filter(assessment__code=code)}


def test_detected_by_the_group_header(tmp_path, specs):
    path = marks_file(tmp_path)
    assert detect_format(read_sheets(path), path.name) == "federal-report"


def test_marks_report_stores_the_published_figures(tmp_path, specs, chechnya):
    outcome = run(marks_file(tmp_path))
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()
    assert outcome.format == "federal-report" and outcome.counts["published_rows"] == 4
    rows = stored()
    assert len(rows) == 4
    national = PublishedResult.objects.get(assessment__code="vpr-2026-ru-4", level=PublishedLevel.NATIONAL)
    # the published figures of the whole country (README, «Published figures»)
    assert national.group_name == "Вся выборка" and national.organisation is None and national.organisation_code == ""
    assert national.schools_count == 35589 and national.participants == 1722202
    assert national.marks_pct == {"2": 5.06, "3": 32.92, "4": 44.33, "5": 17.69}
    assert national.success_pct == pytest.approx(94.94) and national.quality_pct == pytest.approx(62.02)
    assert national.report_date == dt.date(2026, 4, 20)
    assert national.source_file == "Ф3_Статистика по отметкам.xlsx"
    assert national.journal is None and national.solve_rate_pct is None and national.score_distribution_pct is None
    region = rows[("region", "чеченская республика")]
    assert region.organisation == chechnya["region"] and (region.schools_count, region.participants) == (560, 30216)
    assert region.marks_pct == {"2": 13.44, "3": 44.15, "4": 36.28, "5": 6.14}
    mun = rows[("municipality", "reg20_m012")]
    assert mun.organisation == chechnya["mun"] and mun.organisation_code == "reg20_m012"
    assert (mun.schools_count, mun.participants, mun.marks_pct["3"]) == (47, 3162, 46.9)
    school = rows[("school", "edu203389")]
    assert school.organisation == chechnya["school"] and school.group_name == "МБОУ «СОШ №1 г.Урус-Мартан»(edu203389)"
    assert (school.schools_count, school.participants) == (None, 89)
    assert school.marks_pct == {"2": 12.36, "3": 52.81, "4": 26.97, "5": 7.87}
    upload = outcome.upload
    assert upload.format == "federal-report" and upload.assessment.code == "vpr-2026-ru-4"
    assert national.upload == upload and upload.organisation == chechnya["region"]  # the file's common parent


def test_same_file_again_is_unchanged_and_a_corrected_one_replaces(tmp_path, specs):
    path = marks_file(tmp_path)
    first = run(path)
    assert first.status == UploadStatus.IMPORTED
    again = run(path)
    assert again.status == "unchanged" and again.upload == first.upload
    assert Upload.objects.filter(format="federal-report").count() == 1
    corrected = [(n, list(cells)) for n, cells in MARKS_RU4]
    corrected[1][1][2] = 1722203
    path2 = workbook(tmp_path, "corrected.xlsx", {"РУ 4 Статистика по отметкам": TITLE_RU4 + corrected})
    second = run(path2)
    assert second.status == UploadStatus.IMPORTED
    assert PublishedResult.objects.count() == 4  # one row per level and organisation, replaced in place
    assert PublishedResult.objects.get(level="national").participants == 1722203
    first.upload.refresh_from_db()
    assert first.upload.status == UploadStatus.REPLACED


def test_organisations_unknown_to_the_registry_keep_their_codes(tmp_path, specs):
    run(marks_file(tmp_path))
    rows = stored()
    assert rows[("school", "edu203389")].organisation is None
    assert rows[("school", "edu203389")].organisation_code == "edu203389"
    assert rows[("region", "чеченская республика")].organisation is None


def test_journal_report_of_a_work_without_spec_then_with_it(tmp_path, specs, chechnya):
    path = workbook(tmp_path, "2849657.xlsx", {"МА 4 Сравнение отметок с отметк": JOURNAL_MA4})
    outcome = run(path)
    assert outcome.status == UploadStatus.REJECTED
    assert [e.message for e in outcome.errors] == [
        "Работа с кодом «vpr-2024-ma-4» не найдена. Загрузите её спецификацию или укажите код работы "
        "(--assessment)."]
    assert PublishedResult.objects.count() == 0
    save_spec({"code": "vpr-2024-ma-4", "programme": "VPR", "subject": "ma", "grade": 4, "year": 2024,
               "max_primary": 20, "tasks": [{"number": str(n), "max_score": 2} for n in range(1, 11)]})
    outcome = run(path)
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()
    rows = stored("vpr-2024-ma-4")
    assert set(rows) == {("region", "чеченская республика"), ("municipality", "reg20_m012"), ("school", "edu203389")}
    assert rows[("school", "edu203389")].journal == {
        "total": 93, "lower": 52, "lower_pct": 55.91, "confirmed": 37, "confirmed_pct": 39.78,
        "higher": 4, "higher_pct": 4.3}
    assert rows[("region", "чеченская республика")].journal["confirmed"] == 17951
    assert rows[("region", "чеченская республика")].organisation == chechnya["region"]
    assert rows[("municipality", "reg20_m012")].journal["lower_pct"] == 40.86
    # the journal report's «Кол-во участников(всего)» is the number compared, not the participants
    assert rows[("school", "edu203389")].participants is None and rows[("school", "edu203389")].marks_pct is None


def test_task_and_score_reports_fill_their_parts_of_the_same_rows(tmp_path, specs):
    run(marks_file(tmp_path))
    path = workbook(tmp_path, "tasks.xlsx", {"РУ 4 Выполнение заданий": TASKS_RU4,
                                             "РУ 4 Распределение первичных": SCORES_RU4})
    outcome = run(path)
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()
    assert outcome.counts["rows_tasks"] == 2 and outcome.counts["rows_scores"] == 1
    national = PublishedResult.objects.get(level="national")
    assert national.solve_rate_pct == dict(zip(RU4_TASKS, NATIONAL_SOLVE, strict=True))
    assert national.score_distribution_pct == {str(s): 4.0 for s in range(25)}
    assert national.marks_pct["2"] == 5.06 and national.participants == 1722202  # the marks part is kept
    assert set(national.sources) == {"marks", "tasks", "scores"}
    school = PublishedResult.objects.get(level="school")
    assert school.solve_rate_pct["9.1"] == 50.56 and school.solve_rate_pct["12.2"] == 61.8
    assert PublishedResult.objects.count() == 4


def test_maximums_that_disagree_with_the_spec_are_a_warning(tmp_path, specs):
    rows = [(n, list(cells)) for n, cells in TASKS_RU4]
    rows[6][1][3] = 3  # task 1 is worth 2 in the spec
    outcome = run(workbook(tmp_path, "tasks.xlsx", {"РУ 4 Выполнение заданий": rows}))
    assert outcome.status == UploadStatus.IMPORTED
    assert any("Максимальный балл задания 1 в отчёте 3, а в спецификации работы 2." == p.message
               for p in outcome.problems if p.severity == "warning")


def test_without_the_group_header_nothing_is_stored(tmp_path, specs):
    rows = [(n, list(cells)) for n, cells in MARKS_RU4]
    rows[0][1][0] = "Группа"
    path = workbook(tmp_path, "bad.xlsx", {"РУ 4 Статистика по отметкам": TITLE_RU4 + rows})
    outcome = run(path, format="federal-report")
    assert outcome.status == UploadStatus.REJECTED
    assert outcome.errors[0].message == ("Не найдена строка заголовка отчёта ФИС ОКО: в ней должен быть столбец "
                                         "«Группы участников».")
    assert PublishedResult.objects.count() == 0


def test_bad_cells_are_reported_with_their_place_and_nothing_is_stored(tmp_path, specs):
    rows = [(n, list(cells)) for n, cells in MARKS_RU4]
    rows[1][1][3] = "пять"
    rows[2][1][4] = 144.15
    path = workbook(tmp_path, "bad.xlsx", {"РУ 4 Статистика по отметкам": TITLE_RU4 + rows})
    outcome = run(path)
    assert outcome.status == UploadStatus.REJECTED
    where = {(p.sheet, p.row, p.column): p.message for p in outcome.errors}
    assert where == {
        ("РУ 4 Статистика по отметкам", 9, "2"): "«пять» не является процентом.",
        ("РУ 4 Статистика по отметкам", 10, "3"): "Процент 144.15 вне пределов от 0 до 100.",
    }
    assert PublishedResult.objects.count() == 0
    partly = run(path, valid_rows_only=True)
    assert partly.status == UploadStatus.IMPORTED_PARTLY
    assert {p.level for p in PublishedResult.objects.all()} == {"municipality", "school"}


def test_unknown_subject_and_dry_run(tmp_path, specs):
    title = [(n, list(cells)) for n, cells in TITLE_RU4]
    title[1][1][0] = "ВПР 2026 Астрономия 4 класс"
    path = workbook(tmp_path, "astro.xlsx", {"Статистика по отметкам": title + MARKS_RU4})
    outcome = run(path)
    assert outcome.status == UploadStatus.REJECTED
    assert outcome.errors[0].message == ("Предмет «Астрономия» в заголовке отчёта не понят. Укажите код работы, "
                                         "например vpr-2026-ru-4.")
    checked = run(path, assessment="vpr-2026-ru-4", dry_run=True)
    assert checked.status == UploadStatus.CHECKED, checked.as_dict()
    assert PublishedResult.objects.count() == 0
    done = run(path, assessment="vpr-2026-ru-4")
    assert done.status == UploadStatus.IMPORTED and PublishedResult.objects.count() == 4


def test_task_not_in_the_spec_rejects_the_file(tmp_path, specs):
    rows = [(n, list(cells)) for n, cells in TASKS_RU4]
    rows[5][1][3] = "13"
    outcome = run(workbook(tmp_path, "tasks.xlsx", {"РУ 4 Выполнение заданий": rows}))
    assert outcome.status == UploadStatus.REJECTED
    assert outcome.errors[0].message.startswith("Задания 13 нет в спецификации работы")
    assert (outcome.errors[0].row, outcome.errors[0].column) == (8, "13")
    assert PublishedResult.objects.count() == 0


def test_part_from_the_title_when_the_sheet_name_says_nothing(tmp_path, specs):
    rows = [(n, list(cells)) for n, cells in TASKS_RU4]
    rows[0][1][0] = "Результаты выполнения заданий"
    marks = [(n, list(cells)) for n, cells in TITLE_RU4 + MARKS_RU4]
    marks[5][1][3:7] = ["«2»", "«3»", "«4»", "«5»"]  # marks written with quotes
    outcome = run(workbook(tmp_path, "two.xlsx", {"Лист1": rows, "Лист2": marks}))
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()
    national = PublishedResult.objects.get(level="national")
    assert national.solve_rate_pct["1"] == 71.5 and national.marks_pct == {"2": 5.06, "3": 32.92, "4": 44.33,
                                                                          "5": 17.69}
