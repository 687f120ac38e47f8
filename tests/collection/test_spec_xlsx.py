"""An assessment specification uploaded as a workbook."""

from pathlib import Path

import pytest
import xlsxwriter

from metodist.collection.importing import ImportOptions, import_file
from metodist.collection.models import Upload, UploadStatus
from metodist.core.models import Role, RoleAssignment
from metodist.reference.models import Assessment, GradeScale


def run(path, **options):
    return import_file(path, ImportOptions(**options))


def workbook(path: Path, *, work=None, tasks=None, scale=None) -> Path:
    work = work if work is not None else [("Код", "reg-2025-ru-6"), ("Программа", "ВПР"), ("Предмет", "ru"),
                                          ("Класс", 6), ("Год", 2025)]
    tasks = tasks if tasks is not None else [["1", 2, "КО", "Б", "", "", ""], ["2", 3, "РО", "П", "", "", ""]]
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Работа")
    for i, (key, value) in enumerate(work):
        sheet.write_row(i, 0, [key, value])
    sheet = book.add_worksheet("Задания")
    sheet.write_row(0, 0, ["Номер", "Максимальный балл", "Тип", "Уровень", "КЭС", "КТ", "Описание"])
    for i, row in enumerate(tasks, start=1):
        sheet.write_row(i, 0, row)
    sheet = book.add_worksheet("Шкала")
    sheet.write_row(0, 0, ["Отметка", "Минимальный балл"])
    for i, row in enumerate(scale or [(2, 0), (3, 2), (4, 3), (5, 5)], start=1):
        sheet.write_row(i, 0, row)
    book.close()
    return path


@pytest.mark.django_db
def test_good_workbook_becomes_an_assessment(samples):
    outcome = run(samples / "spec" / "reg-2025-ma-7.xlsx")
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems
    assert outcome.format == "spec"
    work = Assessment.objects.get(code="reg-2025-ma-7")
    assert work.programme == "REGIONAL" and work.subject.code == "ma" and work.grade == 7 and work.year == 2025
    assert work.variants == [1, 2] and work.max_primary == 7
    tasks = {t.number: t for t in work.tasks.all()}
    assert [t.number for t in work.tasks.order_by("position")] == ["1", "2", "3", "4"]
    assert tasks["3"].max_score == 2 and tasks["3"].task_type == "extended" and tasks["3"].level == "P"
    assert set(tasks["3"].content_elements.values_list("code", flat=True)) == {"2.1", "1.2"}
    assert tasks["3"].content_elements.get(code="2.1").name == "Линейные уравнения"
    assert tasks["4"].skills.get().name == "Решать задачи"
    assert GradeScale.objects.get(assessment=work).thresholds == {"2": 0, "3": 2, "4": 4, "5": 6}
    assert outcome.upload.format == "spec" and outcome.upload.assessment == work


@pytest.mark.django_db
def test_every_error_is_reported_and_nothing_is_written(tmp_path):
    path = workbook(tmp_path / "bad.xlsx", work=[("Код", "reg-2025-ru-6"), ("Программа", "ГИА"), ("Предмет", "ru"),
                                                  ("Класс", 14)],
                    tasks=[["1", "два", "КО", "Б", "", "", ""], ["2", 3, "эссе", "Ж", "", "", ""],
                           ["2", 1, "КО", "Б", "", "", ""]],
                    scale=[(2, 0), (3, 4), (4, 3), (6, 5)])
    outcome = run(path)
    assert outcome.status == UploadStatus.REJECTED
    found = {(p.sheet, p.row, p.column): p.message for p in outcome.errors}
    assert "Программа «ГИА» не понята" in found[("Работа", 2, "Программа")]
    assert "от 1 до 11" in found[("Работа", 4, "Класс")]
    assert "Максимальный балл задания 1 «два» не понят" in found[("Задания", 2, "Максимальный балл")]
    assert "Тип задания 2 «эссе» не понят" in found[("Задания", 3, "Тип")]
    assert "Уровень задания 2 «Ж» не понят" in found[("Задания", 3, "Уровень")]
    assert "Отметка «6» не понята" in found[("Шкала", 5, "Отметка")]
    messages = [p.message for p in outcome.errors]
    assert "В спецификации не указано поле «year»." in messages
    assert not Assessment.objects.exists()
    assert Upload.objects.get().status == UploadStatus.REJECTED


@pytest.mark.django_db
def test_check_spec_problems_are_reported(tmp_path):
    path = workbook(tmp_path / "scale.xlsx", tasks=[["1", 2, "КО", "Б", "", "", ""], ["1", 1, "КО", "Б", "", "", ""]],
                    scale=[(2, 0), (3, 4), (4, 3)])
    outcome = run(path)
    assert outcome.status == UploadStatus.REJECTED
    messages = [p.message for p in outcome.errors]
    assert "Задание 1 указано дважды." in messages
    assert any("Шкала перевода не возрастает" in m for m in messages)
    assert not Assessment.objects.exists()
    # valid rows only does not save a broken specification either
    assert run(path, valid_rows_only=True).status == UploadStatus.REJECTED
    assert not Assessment.objects.exists()


@pytest.mark.django_db
def test_same_file_twice_is_unchanged_and_dry_run_writes_nothing(samples):
    path = samples / "spec" / "reg-2025-ma-7.xlsx"
    assert run(path, dry_run=True).status == UploadStatus.CHECKED
    assert not Assessment.objects.exists() and not Upload.objects.exists()
    first = run(path)
    second = run(path)
    assert second.status == "unchanged" and second.upload == first.upload
    assert Upload.objects.count() == 1


@pytest.mark.django_db
def test_corrected_workbook_updates_the_assessment(samples):
    first = run(samples / "spec" / "reg-2025-ma-7.xlsx")
    task_ids = set(Assessment.objects.get().tasks.values_list("pk", flat=True))
    outcome = run(samples / "spec" / "reg-2025-ma-7-corrected.xlsx")
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems
    work = Assessment.objects.get()
    assert work.max_primary == 6 and work.tasks.get(number="4").max_score == 2
    assert GradeScale.objects.get(assessment=work).thresholds["5"] == 5
    assert set(work.tasks.values_list("pk", flat=True)) == task_ids
    first.upload.refresh_from_db()
    assert first.upload.status == UploadStatus.REPLACED and outcome.upload.replaces == first.upload
    again = run(samples / "spec" / "reg-2025-ma-7.xlsx")
    assert again.status == UploadStatus.IMPORTED and Assessment.objects.get().max_primary == 7


@pytest.mark.django_db
def test_only_the_organiser_or_an_administrator_may_upload(tmp_path, region_tree, django_user_model):
    user = django_user_model.objects.create_user("mun1")
    RoleAssignment.objects.create(user=user, role=Role.METHODOLOGIST, organisation=region_tree["mun1"])
    federal = workbook(tmp_path / "federal.xlsx")
    outcome = run(federal, acting_user=user)
    assert outcome.status == UploadStatus.REJECTED and "нет прав" in outcome.errors[0].message
    own = workbook(tmp_path / "own.xlsx", work=[("Код", "mun-2025-ru-6"), ("Программа", "Муниципальный мониторинг"),
                                                 ("Предмет", "Русский язык"), ("Класс", 6), ("Год", 2025),
                                                 ("Кто проводит", "reg22_m001")])
    outcome = run(own, acting_user=user)
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems
    assert Assessment.objects.get().owner == region_tree["mun1"]
