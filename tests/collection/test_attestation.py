"""Attestation notes: one attestation per teacher and date with the difficulties of its rows."""

from pathlib import Path

import pytest

from metodist.collection.importing import ImportOptions, import_file
from metodist.collection.models import Attestation, Upload, UploadStatus
from metodist.core.models import Teacher

HEADER = ["Код школы", "ФИО", "Код учителя", "Дата", "Категория", "Область компетенций", "Затруднение", "Заключение"]


def run(path, **options):
    return import_file(path, ImportOptions(**options))


def csv_file(tmp_path: Path, rows, name="attestation.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(";".join(str(c) for c in row) for row in rows) + "\n", encoding="utf-8")
    return path


def errors_at(outcome) -> dict:
    return {(p.row, p.column): p.message for p in outcome.errors}


@pytest.fixture
def staff(region_tree):
    return {
        "ivanova": Teacher.objects.create(school=region_tree["school11"], full_name="Иванова Мария Петровна",
                                          code="T001"),
        "sidorova": Teacher.objects.create(school=region_tree["school21"], full_name="Сидорова Анна Олеговна",
                                           code="S17"),
    }


@pytest.mark.django_db
def test_good_file_collects_difficulties(samples, staff):
    outcome = run(samples / "attestation" / "attestation.csv")
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems
    assert outcome.counts["attestations"] == 2 and outcome.counts["difficulties"] == 2
    ivanova = Attestation.objects.get(teacher=staff["ivanova"])
    assert str(ivanova.held_on) == "2025-03-12" and ivanova.category == "highest"
    assert ivanova.difficulties == [
        {"area": "methodological", "text": "Не планирует дифференцированные задания"},
        {"area": "digital", "text": "Не использует цифровые ресурсы для обратной связи"},
    ]
    assert ivanova.note == "Соответствует высшей категории" and ivanova.upload == outcome.upload
    sidorova = Attestation.objects.get(teacher=staff["sidorova"])
    assert sidorova.category == "first" and sidorova.difficulties == []


@pytest.mark.django_db
def test_every_error_is_reported_and_nothing_is_written(tmp_path, staff):
    outcome = run(csv_file(tmp_path, [
        HEADER,
        ["edu221001", "Иванова Мария Петровна", "T001", "12.03.2025", "высочайшая", "", "", ""],  # 2
        ["edu221001", "Иванова Мария Петровна", "T001", "2025-13-01", "первая", "", "", ""],  # 3
        ["edu221001", "Петров Пётр", "", "12.03.2025", "первая", "", "", ""],  # 4
        ["edu222001", "Сидорова Анна Олеговна", "S17", "12.03.2025", "первая", "внутренние", "Текст", ""],  # 5
        ["edu222001", "Сидорова Анна Олеговна", "S17", "12.03.2025", "высшая", "", "Ещё", ""],  # 6: conflict
        ["edu999001", "Кто-то", "", "12.03.2025", "первая", "", "", ""],  # 7
    ]))
    assert outcome.status == UploadStatus.REJECTED
    found = errors_at(outcome)
    assert "Категория «высочайшая» не понята" in found[(2, "Категория")]
    assert "Дата «2025-13-01» не понята" in found[(3, "Дата")]
    assert "Учителя с таким ФИО нет в школе edu221001" in found[(4, "ФИО")]
    assert "Область компетенций «внутренние» не понята" in found[(5, "Область компетенций")]
    assert "отличается от указанной для этой аттестации в строке 5" in found[(6, "Категория")]
    assert "Школы с кодом edu999001 нет" in found[(7, "Код школы")]
    assert not Attestation.objects.exists()
    assert Upload.objects.get().status == UploadStatus.REJECTED


@pytest.mark.django_db
def test_valid_rows_only(tmp_path, staff):
    outcome = run(csv_file(tmp_path, [
        HEADER,
        ["edu221001", "Иванова Мария Петровна", "T001", "12.03.2025", "высшая", "предметные", "Текст", ""],
        ["edu222001", "Сидорова Анна Олеговна", "S17", "12.03.2025", "лучшая", "", "", ""],
    ]), valid_rows_only=True)
    assert outcome.status == UploadStatus.IMPORTED_PARTLY
    assert list(Attestation.objects.values_list("teacher__code", flat=True)) == ["T001"]


@pytest.mark.django_db
def test_same_file_twice_is_unchanged(samples, staff):
    path = samples / "attestation" / "attestation.csv"
    assert run(path, dry_run=True).status == UploadStatus.CHECKED
    assert not Attestation.objects.exists() and not Upload.objects.exists()
    first = run(path)
    second = run(path)
    assert second.status == "unchanged" and second.upload == first.upload
    assert Attestation.objects.count() == 2


@pytest.mark.django_db
def test_corrected_file_replaces_the_previous_version(tmp_path, samples, staff):
    first = run(samples / "attestation" / "attestation.csv")
    corrected = csv_file(tmp_path, [
        HEADER,
        ["edu221001", "Иванова Мария Петровна", "T001", "12.03.2025", "первая", "методические", "Одно", "Первая"],
        ["edu222001", "Сидорова Анна Олеговна", "S17", "12.03.2025", "первая", "", "", ""],
    ])
    outcome = run(corrected)
    assert outcome.status == UploadStatus.IMPORTED
    ivanova = Attestation.objects.get(teacher=staff["ivanova"])
    assert ivanova.category == "first" and ivanova.difficulties == [{"area": "methodological", "text": "Одно"}]
    assert Attestation.objects.count() == 2
    first.upload.refresh_from_db()
    assert first.upload.status == UploadStatus.REPLACED and outcome.upload.replaces == first.upload
    assert run(samples / "attestation" / "attestation.csv").status == UploadStatus.IMPORTED
