"""Teachers' subject diagnostics: diagnostics by teacher, scores by topic, content elements, replacement."""

from pathlib import Path

import pytest

from metodist.collection.importing import ImportOptions, import_file
from metodist.collection.models import DiagnosticScore, TeacherDiagnostic, Upload, UploadStatus
from metodist.core.models import Teacher
from metodist.reference.models import ContentElement
from metodist.reference.specs import subject

HEADER = ["Код школы", "ФИО", "Код учителя", "Предмет", "Диагностика", "Дата", "Тема", "Код КЭС",
          "Область компетенций", "Балл", "Максимум"]
TITLE = "Предметная диагностика учителей математики"


def run(path, **options):
    return import_file(path, ImportOptions(**options))


def csv_file(tmp_path: Path, rows, name="diagnostics.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(";".join(str(c) for c in row) for row in rows) + "\n", encoding="utf-8")
    return path


def errors_at(outcome) -> dict:
    return {(p.row, p.column): p.message for p in outcome.errors}


@pytest.fixture
def staff(region_tree):
    ivanova = Teacher.objects.create(school=region_tree["school11"], full_name="Иванова Мария Петровна", code="T001")
    sidorova = Teacher.objects.create(school=region_tree["school21"], full_name="Сидорова Анна Олеговна", code="S17")
    element = ContentElement.objects.create(codifier="vpr-ma-5", subject=subject("ma"), code="1",
                                            name="Числа и вычисления")
    return {"ivanova": ivanova, "sidorova": sidorova, "element": element}


@pytest.mark.django_db
def test_good_file_makes_diagnostics_by_teacher_and_topic(samples, staff):
    outcome = run(samples / "diagnostics" / "diagnostics.csv")
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems
    assert outcome.counts["diagnostics"] == 2 and outcome.counts["topics"] == 4
    diagnostic = TeacherDiagnostic.objects.get(teacher=staff["ivanova"])
    assert diagnostic.title == TITLE and diagnostic.subject.code == "ma"
    assert str(diagnostic.taken_on) == "2024-10-15"
    assert diagnostic.score == pytest.approx(8.5) and diagnostic.max_score == pytest.approx(14)
    assert diagnostic.upload == outcome.upload
    scores = {s.topic: s for s in diagnostic.scores.all()}
    assert scores["Числа и вычисления"].content_element == staff["element"]
    assert scores["Текстовые задачи"].content_element is None  # code 3 is not in the codifier
    assert scores["Планирование урока"].competence_area == "methodological"
    assert scores["Планирование урока"].score == pytest.approx(3.5)
    warnings = [p for p in outcome.problems if p.severity == "warning"]
    assert {(p.row, p.column) for p in warnings} == {(3, "Код КЭС"), (5, "Код КЭС")}
    assert TeacherDiagnostic.objects.get(teacher=staff["sidorova"]).scores.get().topic == "Геометрия"


@pytest.mark.django_db
def test_excel_dates(samples, staff):
    outcome = run(samples / "diagnostics" / "diagnostics.xlsx")
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems
    assert str(TeacherDiagnostic.objects.get().taken_on) == "2024-09-20"


@pytest.mark.django_db
def test_every_error_is_reported_and_nothing_is_written(tmp_path, staff):
    outcome = run(csv_file(tmp_path, [
        HEADER,
        ["edu221001", "Неизвестный Учитель", "", "ma", TITLE, "15.10.2024", "Дроби", "", "", "1", "2"],  # 2
        ["edu221001", "Иванова Мария Петровна", "T001", "ma", TITLE, "15.10.2024", "Дроби", "", "", "3", "2"],  # 3
        ["edu221001", "Иванова Мария Петровна", "T001", "ma", TITLE, "15.10.2024", "Углы", "", "", "три", "2"],  # 4
        ["edu221001", "Иванова Мария Петровна", "T001", "ma", TITLE, "32.10.2024", "Уравнения", "", "", "1", "2"],
        ["edu221001", "Иванова Мария Петровна", "T001", "ma", TITLE, "15.10.2024", "Доли", "", "игровые", "1", "2"],
        ["edu221001", "Иванова Мария Петровна", "T002", "ma", TITLE, "15.10.2024", "Доли", "", "", "1", "2"],  # 7
        ["edu221001", "Иванова Мария Петровна", "T001", "ma", TITLE, "15.10.2024", "Проценты", "", "", "1", ""],
        ["edu221001", "Иванова Мария Петровна", "T001", "ma", TITLE, "15.10.2024", "Дроби", "", "", "1", "2"],  # 9
    ]))
    assert outcome.status == UploadStatus.REJECTED
    found = errors_at(outcome)
    assert "Учителя с таким ФИО нет в школе edu221001" in found[(2, "ФИО")]
    assert found[(3, "Балл")] == "Балл (3) больше максимального (2)."
    assert found[(4, "Балл")] == "«три» не является числом."
    assert "Дата «32.10.2024» не понята" in found[(5, "Дата")]
    assert "Область компетенций «игровые» не понята" in found[(6, "Область компетенций")]
    assert "Учителя с кодом T002 нет" in found[(7, "Код учителя")]
    assert found[(8, "Максимум")] == "Не указан максимальный балл."
    assert "уже указана в строке 3" in found[(9, "Тема")]
    assert not TeacherDiagnostic.objects.exists() and not DiagnosticScore.objects.exists()
    assert Upload.objects.get().status == UploadStatus.REJECTED


@pytest.mark.django_db
def test_valid_rows_only(tmp_path, staff):
    outcome = run(csv_file(tmp_path, [
        HEADER,
        ["edu221001", "Иванова Мария Петровна", "T001", "ma", TITLE, "15.10.2024", "Дроби", "", "", "1", "2"],
        ["edu221001", "Иванова Мария Петровна", "T001", "ma", TITLE, "15.10.2024", "Углы", "", "", "5", "2"],
    ]), valid_rows_only=True)
    assert outcome.status == UploadStatus.IMPORTED_PARTLY
    diagnostic = TeacherDiagnostic.objects.get()
    assert list(diagnostic.scores.values_list("topic", flat=True)) == ["Дроби"]
    assert diagnostic.score == 1 and diagnostic.max_score == 2


@pytest.mark.django_db
def test_same_file_twice_is_unchanged(samples, staff):
    path = samples / "diagnostics" / "diagnostics.csv"
    assert run(path, dry_run=True).status == UploadStatus.CHECKED
    assert not TeacherDiagnostic.objects.exists() and not Upload.objects.exists()
    first = run(path)
    second = run(path)
    assert second.status == "unchanged" and second.upload == first.upload
    assert DiagnosticScore.objects.count() == 4 and Upload.objects.count() == 1


@pytest.mark.django_db
def test_corrected_file_replaces_the_previous_version(tmp_path, samples, staff):
    first = run(samples / "diagnostics" / "diagnostics.csv")
    corrected = csv_file(tmp_path, [
        HEADER,
        ["edu221001", "Иванова Мария Петровна", "T001", "ma", TITLE, "15.10.2024", "Числа и вычисления", "1",
         "предметные", "5", "5"],
    ])
    outcome = run(corrected)
    assert outcome.status == UploadStatus.IMPORTED
    # the whole diagnostic of school edu221001 is replaced; school edu222001 is not in the corrected file
    ivanova = TeacherDiagnostic.objects.get(teacher=staff["ivanova"])
    assert ivanova.score == 5 and ivanova.scores.count() == 1 and ivanova.upload == outcome.upload
    assert TeacherDiagnostic.objects.filter(teacher=staff["sidorova"], upload=first.upload).exists()
    first.upload.refresh_from_db()
    assert first.upload.status == UploadStatus.IMPORTED  # still holds Сидорова's diagnostic
    everything = csv_file(tmp_path, [
        HEADER,
        ["edu221001", "Иванова Мария Петровна", "T001", "ma", TITLE, "15.10.2024", "Дроби", "", "", "2", "5"],
        ["edu222001", "Сидорова Анна Олеговна", "S17", "ma", TITLE, "15.10.2024", "Геометрия", "", "", "3", "5"],
    ], name="all.csv")
    last = run(everything)
    first.upload.refresh_from_db()
    assert first.upload.status == UploadStatus.REPLACED
    assert TeacherDiagnostic.objects.count() == 2
    assert set(TeacherDiagnostic.objects.values_list("upload", flat=True)) == {last.upload.pk}


@pytest.mark.django_db
def test_a_code_of_several_codifiers_is_linked_only_when_the_row_says_whose(tmp_path, staff):
    """КЭС codes are per work family: code 1 of grade 5 and code 1 of grade 7 are different topics."""
    grade7 = ContentElement.objects.create(codifier="vpr-ma-7", subject=subject("ma"), code="1",
                                           name="Числа и выражения (7 класс)")
    header = [*HEADER[:8], "Кодификатор", "Класс", *HEADER[8:]]
    base = ["edu221001", "Иванова Мария Петровна", "T001", "ma", TITLE, "15.10.2024"]
    outcome = run(csv_file(tmp_path, [
        header,
        [*base, "Тема А", "1", "", "", "предметные", 2, 4],  # ambiguous: kept as text, with a warning
        [*base, "Тема Б", "1", "vpr-ma-7", "", "предметные", 3, 4],  # the codifier named
        [*base, "Тема В", "1", "", "5", "предметные", 1, 4],  # the grade named
    ]))
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems
    scores = {s.topic: s.content_element for s in DiagnosticScore.objects.all()}
    assert scores == {"Тема А": None, "Тема Б": grade7, "Тема В": staff["element"]}
    warning = next(p for p in outcome.problems if p.severity == "warning")
    assert warning.row == 2 and "vpr-ma-5, vpr-ma-7" in warning.message
