"""Staff and teaching load: teachers, classes and assignments; errors; replacement of a school's load."""

from pathlib import Path

import pytest

from metodist.collection.importing import ImportOptions, import_file
from metodist.collection.models import Upload, UploadStatus
from metodist.core.models import Role, RoleAssignment, SchoolClass, Teacher, TeachingAssignment

HEADER = ["Код школы", "ФИО", "Код учителя", "Предмет", "Учебный год", "Классы", "Категория", "Стаж"]


def run(path, **options):
    return import_file(path, ImportOptions(**options))


def csv_file(tmp_path: Path, rows, name="teachers.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(";".join(str(c) for c in row) for row in rows) + "\n", encoding="utf-8")
    return path


def errors_at(outcome) -> dict:
    return {(p.row, p.column): p.message for p in outcome.errors}


def load_of(school_code: str) -> set:
    return set(TeachingAssignment.objects.filter(school_class__school__code=school_code).values_list(
        "teacher__full_name", "school_class__grade", "school_class__letter", "subject__code",
        "school_class__academic_year__start_year"))


@pytest.mark.django_db
def test_good_file_creates_teachers_classes_and_load(samples, region_tree):
    outcome = run(samples / "teachers" / "teachers.csv")
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems
    assert outcome.counts["teachers_created"] == 3 and outcome.counts["assignments"] == 6
    ivanova = Teacher.objects.get(code="T001")
    assert ivanova.school == region_tree["school11"] and ivanova.full_name == "Иванова Мария Петровна"
    assert ivanova.qualification_category == "highest" and ivanova.experience_years == 21
    assert set(ivanova.subjects.values_list("code", flat=True)) == {"ma", "inf"}
    petrov = Teacher.objects.get(full_name="Петров Сергей Иванович")
    assert petrov.code == "" and petrov.qualification_category == "first"
    assert Teacher.objects.get(code="S17").school == region_tree["school21"]
    assert load_of("edu221001") == {
        ("Иванова Мария Петровна", 5, "А", "ma", 2024), ("Иванова Мария Петровна", 5, "Б", "ma", 2024),
        ("Иванова Мария Петровна", 8, "А", "inf", 2024), ("Петров Сергей Иванович", 5, "А", "ru", 2024),
        ("Петров Сергей Иванович", 6, "В", "ru", 2024),
    }
    assert SchoolClass.objects.filter(school__code="edu221001").count() == 4
    assert outcome.upload.organisation == region_tree["region"]


@pytest.mark.django_db
def test_workbook_with_a_title_above_the_header(samples, region_tree):
    outcome = run(samples / "teachers" / "teachers.xlsx")
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems
    teacher = Teacher.objects.get(full_name="Орлова Вера Николаевна")
    assert set(teacher.subjects.values_list("code", flat=True)) == {"ru", "lit"}
    assert teacher.experience_years == 12
    assert outcome.upload.organisation == region_tree["school12"]


@pytest.mark.django_db
def test_every_error_is_reported_and_nothing_is_written(tmp_path, region_tree):
    outcome = run(csv_file(tmp_path, [
        HEADER,
        ["edu999999", "Кто-то", "", "ma", "2024/2025", "5А", "", ""],  # 2: unknown school
        ["edu221001", "Учитель А", "", "ma", "2024", "5А", "", ""],  # 3: year
        ["edu221001", "Учитель Б", "", "ma", "2024/2025", "5А, пятый", "", ""],  # 4: class
        ["edu221001", "Учитель В", "", "ma", "2024/2025", "5А", "мастер", ""],  # 5: category
        ["edu221001", "Учитель Г", "", "астрономия", "2024/2025", "5А", "", ""],  # 6: subject
        ["edu221001", "Учитель Д", "", "ma", "2024/2025", "5А", "", "много"],  # 7: experience
        ["edu221001", "", "", "ma", "2024/2025", "5А", "", ""],  # 8: no name
        ["reg22_m001", "Учитель Е", "", "ma", "2024/2025", "5А", "", ""],  # 9: not a school
        ["edu221001", "Учитель А", "", "ma", "2024/2025", "6А", "", ""],  # 10: fine
        ["edu221001", "Учитель А", "", "математика", "2024/2025", "7А", "", ""],  # 11: same teacher, subject, year
    ]))
    assert outcome.status == UploadStatus.REJECTED
    found = errors_at(outcome)
    assert "Школы с кодом edu999999 нет" in found[(2, "Код школы")]
    assert "Учебный год «2024» не понят" in found[(3, "Учебный год")]
    assert "Класс «пятый» не понят" in found[(4, "Классы")]
    assert "Категория «мастер» не понята" in found[(5, "Категория")]
    assert "Предмет «астрономия» не понят" in found[(6, "Предмет")]
    assert "Стаж «много» не понят" in found[(7, "Стаж")]
    assert found[(8, "ФИО")] == "Не указано ФИО учителя."
    assert "принадлежит не школе" in found[(9, "Код школы")]
    assert (10, "Предмет") not in found
    assert "уже указаны в строке 10" in found[(11, "Предмет")]
    assert not Teacher.objects.exists() and not SchoolClass.objects.exists()
    assert Upload.objects.get().status == UploadStatus.REJECTED


@pytest.mark.django_db
def test_valid_rows_only(tmp_path, region_tree):
    outcome = run(csv_file(tmp_path, [
        HEADER,
        ["edu221001", "Учитель А", "A1", "ma", "2024/2025", "5А", "первая", "3"],
        ["edu221001", "Учитель Б", "B1", "ma", "2024/25", "5Q1", "", ""],
    ]), valid_rows_only=True)
    assert outcome.status == UploadStatus.IMPORTED_PARTLY
    assert outcome.counts["rows_rejected"] == 1
    assert list(Teacher.objects.values_list("code", flat=True)) == ["A1"]


@pytest.mark.django_db
def test_same_file_twice_is_unchanged(samples, region_tree):
    path = samples / "teachers" / "teachers.csv"
    assert run(path, dry_run=True).status == UploadStatus.CHECKED
    assert not Teacher.objects.exists() and not Upload.objects.exists()
    first = run(path)
    second = run(path)
    assert second.status == "unchanged" and second.upload == first.upload
    assert Teacher.objects.count() == 3 and TeachingAssignment.objects.count() == 6


@pytest.mark.django_db
def test_corrected_file_replaces_the_load_of_its_schools_only(tmp_path, samples, region_tree):
    run(samples / "teachers" / "teachers.csv")
    other_school = load_of("edu222001")
    corrected = csv_file(tmp_path, [
        HEADER,
        ["edu221001", "Иванова Мария Петровна", "T001", "ma", "2024/2025", "5А", "высшая", "22"],
        ["edu221001", "Петров Сергей Иванович", "", "ru", "2024/2025", "5А, 5Б", "высшая", "8"],
    ])
    outcome = run(corrected)
    assert outcome.status == UploadStatus.IMPORTED
    assert outcome.counts["teachers_created"] == 0 and outcome.counts["teachers_updated"] == 2
    assert outcome.counts["assignments_removed"] == 3
    assert load_of("edu221001") == {
        ("Иванова Мария Петровна", 5, "А", "ma", 2024), ("Петров Сергей Иванович", 5, "А", "ru", 2024),
        ("Петров Сергей Иванович", 5, "Б", "ru", 2024),
    }
    assert load_of("edu222001") == other_school
    petrov = Teacher.objects.get(full_name="Петров Сергей Иванович")
    assert petrov.qualification_category == "highest" and petrov.experience_years == 8
    assert Teacher.objects.get(code="T001").experience_years == 22
    assert Teacher.objects.count() == 3
    # the load of the next year does not touch this one
    run(csv_file(tmp_path, [HEADER, ["edu221001", "Петров Сергей Иванович", "", "ru", "2025/2026", "6Б", "", ""]],
                 name="next.csv"))
    assert ("Петров Сергей Иванович", 5, "Б", "ru", 2024) in load_of("edu221001")
    assert ("Петров Сергей Иванович", 6, "Б", "ru", 2025) in load_of("edu221001")


@pytest.mark.django_db
def test_teacher_known_by_name_gets_his_code(tmp_path, region_tree):
    run(csv_file(tmp_path, [HEADER, ["edu221001", "Орлов Иван Ильич", "", "ma", "2024/2025", "5А", "", ""]]))
    run(csv_file(tmp_path, [HEADER, ["edu221001", "Орлов  Иван Ильич", "K9", "ma", "2024/2025", "5А", "", ""]],
                 name="coded.csv"))
    teacher = Teacher.objects.get()
    assert teacher.code == "K9"


@pytest.mark.django_db
def test_school_user_cannot_load_another_school(tmp_path, region_tree, django_user_model):
    user = django_user_model.objects.create_user("school11")
    RoleAssignment.objects.create(user=user, role=Role.SCHOOL_ADMIN, organisation=region_tree["school11"])
    path = csv_file(tmp_path, [
        HEADER,
        ["edu221001", "Свой учитель", "", "ma", "2024/2025", "5А", "", ""],
        ["edu221002", "Чужой учитель", "", "ma", "2024/2025", "5А", "", ""],
    ])
    outcome = run(path, acting_user=user, valid_rows_only=True)
    assert outcome.status == UploadStatus.REJECTED
    assert "нет прав" in errors_at(outcome)[(3, "Код школы")]
    assert not Teacher.objects.exists()
    mine = csv_file(tmp_path, [HEADER, ["edu221001", "Свой учитель", "", "ma", "2024/2025", "5А", "", ""]],
                    name="mine.csv")
    assert run(mine, acting_user=user).status == UploadStatus.IMPORTED
