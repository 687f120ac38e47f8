"""Questionnaires: a survey with its questions, one response per row, teachers and anonymous respondents."""

from pathlib import Path

import pytest

from metodist.collection.importing import ImportOptions, import_file
from metodist.collection.models import Survey, SurveyResponse, Upload, UploadStatus
from metodist.core.models import Teacher

HEADER = ["Анкетирование", "Этап", "Дата", "Организация", "Код школы", "Код учителя", "Код респондента",
          "Удовлетворённость", "Что было полезно?"]
TITLE = "КПК «Формирование функциональной грамотности»"


def run(path, **options):
    return import_file(path, ImportOptions(**options))


def csv_file(tmp_path: Path, rows, name="survey.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(";".join(str(c) for c in row) for row in rows) + "\n", encoding="utf-8")
    return path


def errors_at(outcome) -> dict:
    return {(p.row, p.column): p.message for p in outcome.errors}


@pytest.fixture
def teacher(region_tree):
    return Teacher.objects.create(school=region_tree["school11"], full_name="Иванова Мария Петровна", code="T001")


@pytest.mark.django_db
def test_good_file_makes_a_survey_with_responses(samples, teacher, region_tree):
    outcome = run(samples / "survey" / "survey.csv")
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems
    survey = Survey.objects.get()
    assert survey.title == TITLE and survey.stage == "final" and str(survey.conducted_on) == "2024-11-20"
    assert survey.organisation == region_tree["institute"]
    assert survey.questions == ["Какие темы курса были полезны?", "Оцените доступность материалов (1–5)"]
    responses = {r.respondent or r.teacher.code: r for r in survey.responses.all()}
    assert responses["T001"].teacher == teacher and responses["T001"].satisfaction == 5
    assert responses["T001"].answers == {"Какие темы курса были полезны?": "Текстовые задачи",
                                         "Оцените доступность материалов (1–5)": "5"}
    assert responses["R-017"].teacher is None and responses["R-017"].satisfaction == 4
    assert responses["R-018"].answers == {"Оцените доступность материалов (1–5)": "3"}
    assert outcome.counts["responses"] == 3 and outcome.upload.organisation == region_tree["institute"]


@pytest.mark.django_db
def test_every_error_is_reported_and_nothing_is_written(tmp_path, teacher):
    outcome = run(csv_file(tmp_path, [
        HEADER,
        [TITLE, "итоговое", "20.11.2024", "iro22", "", "", "R1", "6", "да"],  # 2
        [TITLE, "итоговое", "20.11.2024", "iro22", "", "", "R2", "хорошо", "да"],  # 3
        [TITLE, "итоговое", "20.11.2024", "iro99", "", "", "R3", "4", "да"],  # 4
        [TITLE, "заключительное", "20.11.2024", "iro22", "", "", "R4", "4", "да"],  # 5
        [TITLE, "итоговое", "20.11.2024", "iro22", "edu221001", "T404", "", "4", "да"],  # 6
        [TITLE, "итоговое", "вчера", "iro22", "", "", "R5", "4", "да"],  # 7
        [TITLE, "итоговое", "20.11.2024", "iro22", "", "", "R6", "4,5", "да"],  # 8
        [TITLE, "итоговое", "20.11.2024", "iro22", "", "", "R7", "4", "да"],  # 9
        [TITLE, "итоговое", "20.11.2024", "iro22", "", "", "R7", "5", "нет"],  # 10: same respondent
    ]))
    assert outcome.status == UploadStatus.REJECTED
    found = errors_at(outcome)
    assert found[(2, "Удовлетворённость")] == "Удовлетворённость «6» не понята: ожидается число от 1 до 5."
    assert "«хорошо»" in found[(3, "Удовлетворённость")]
    assert "Организации с кодом iro99 нет" in found[(4, "Организация")]
    assert "Этап «заключительное» не понят" in found[(5, "Этап")]
    assert "Учителя с кодом T404 нет в школе edu221001" in found[(6, "Код учителя")]
    assert "Дата «вчера» не понята" in found[(7, "Дата")]
    assert "«4,5»" in found[(8, "Удовлетворённость")]
    assert "уже ответил на эту анкету в строке 9" in found[(10, "Код респондента")]
    assert not Survey.objects.exists() and not SurveyResponse.objects.exists()
    assert Upload.objects.get().status == UploadStatus.REJECTED


@pytest.mark.django_db
def test_valid_rows_only(tmp_path, teacher):
    outcome = run(csv_file(tmp_path, [
        HEADER,
        [TITLE, "входное", "01.10.2024", "iro22", "", "", "R1", "5", "да"],
        [TITLE, "входное", "01.10.2024", "iro22", "", "", "R2", "0", "да"],
    ]), valid_rows_only=True)
    assert outcome.status == UploadStatus.IMPORTED_PARTLY
    assert list(SurveyResponse.objects.values_list("respondent", flat=True)) == ["R1"]
    assert Survey.objects.get().stage == "entry"


@pytest.mark.django_db
def test_same_file_twice_is_unchanged(samples, teacher):
    path = samples / "survey" / "survey.csv"
    assert run(path, dry_run=True).status == UploadStatus.CHECKED
    assert not Survey.objects.exists() and not Upload.objects.exists()
    first = run(path)
    second = run(path)
    assert second.status == "unchanged" and second.upload == first.upload
    assert SurveyResponse.objects.count() == 3 and Survey.objects.count() == 1


@pytest.mark.django_db
def test_corrected_file_replaces_the_answers(tmp_path, samples, teacher):
    first = run(samples / "survey" / "survey.csv")
    corrected = csv_file(tmp_path, [
        ["Анкетирование", "Этап", "Дата", "Организация", "Код школы", "Код учителя", "Код респондента",
         "Удовлетворённость", "Какие темы курса были полезны?"],
        [TITLE, "итоговое", "20.11.2024", "iro22", "edu221001", "T001", "", "4", "Геометрия"],
        [TITLE, "итоговое", "20.11.2024", "iro22", "", "", "R-017", "4", "Все"],
    ])
    outcome = run(corrected)
    assert outcome.status == UploadStatus.IMPORTED
    survey = Survey.objects.get()
    assert survey.questions == ["Какие темы курса были полезны?"]
    assert survey.responses.count() == 2 and set(survey.responses.values_list("upload", flat=True)) == {
        outcome.upload.pk}
    assert survey.responses.get(teacher=teacher).satisfaction == 4
    first.upload.refresh_from_db()
    assert first.upload.status == UploadStatus.REPLACED
