"""Olympiad results: pupils as pseudonyms only, every error, replacement, and no personal data stored."""

from pathlib import Path

import pytest
from django.apps import apps
from django.db import models

from metodist.collection.importing import ImportOptions, import_file
from metodist.collection.models import OlympiadResult, Upload, UploadStatus
from metodist.core.models import Pupil, pseudonym

HEADER = ["Код школы", "Фамилия", "Имя", "Отчество", "Дата рождения", "Класс", "Предмет", "Учебный год", "Этап",
          "Статус", "Балл", "Максимальный балл"]
PERSONAL = ["Кузнецов", "Артём", "Игоревич", "Смирнова", "Ульяна", "Денисовна", "14.02.2010", "2010-02-14",
            "03.07.2011", "2011-07-03", "Лебедев"]


def run(path, **options):
    return import_file(path, ImportOptions(**options))


def csv_file(tmp_path: Path, rows, name="olympiad.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(";".join(str(c) for c in row) for row in rows) + "\n", encoding="utf-8")
    return path


def errors_at(outcome) -> dict:
    return {(p.row, p.column): p.message for p in outcome.errors}


def row(**changes):
    values = dict(zip(HEADER, ["edu221001", "Лебедев", "Олег", "", "01.01.2010", "9", "ma", "2024/2025",
                               "школьный", "участник", "10", "20"], strict=True))
    values.update(changes)
    return [values[h] for h in HEADER]


@pytest.mark.django_db
def test_good_file_stores_results_under_pseudonyms(samples, region_tree):
    outcome = run(samples / "olympiad" / "olympiad.csv")
    assert outcome.status == UploadStatus.IMPORTED, outcome.problems
    assert outcome.counts["results"] == 3 and outcome.counts["pupils_created"] == 2
    key = pseudonym("person", "Кузнецов", "Артём", "Игоревич", "2010-02-14")
    pupil = Pupil.objects.get(pseudonym=key)
    assert pupil.school == region_tree["school11"]
    results = {r.subject.code: r for r in OlympiadResult.objects.filter(pupil=pupil)}
    assert set(results) == {"ma", "fi"}
    assert results["ma"].status == "winner" and results["ma"].stage == "municipal"
    assert results["ma"].score == 38 and results["ma"].max_score == 40 and results["ma"].grade == 9
    assert results["ma"].academic_year.start_year == 2024 and results["fi"].score == pytest.approx(12.5)
    other = OlympiadResult.objects.get(pupil__pseudonym=pseudonym("person", "смирнова", "Ульяна", "Денисовна",
                                                                  "2011-07-03"))
    assert other.status == "prize_winner" and other.subject.code == "ru" and other.school == region_tree["school12"]


@pytest.mark.django_db
def test_no_name_or_birth_date_is_stored_anywhere(tmp_path, samples, region_tree):
    run(samples / "olympiad" / "olympiad.csv")
    run(csv_file(tmp_path, [HEADER, row(**{"Балл": "30"}), row(**{"Этап": "окружной"})]))  # rejected, with errors
    found = []
    for model in apps.get_models():
        fields = [f.name for f in model._meta.concrete_fields
                  if isinstance(f, models.CharField | models.TextField | models.JSONField)]
        for values in model.objects.values_list(*fields) if fields else []:
            blob = " ".join(str(v) for v in values)
            found += [(model.__name__, word) for word in PERSONAL if word.casefold() in blob.casefold()]
    assert found == []
    assert Upload.objects.filter(status=UploadStatus.REJECTED).exists()


@pytest.mark.django_db
def test_every_error_is_reported_and_nothing_is_written(tmp_path, region_tree):
    outcome = run(csv_file(tmp_path, [
        HEADER,
        row(**{"Балл": "25"}),  # 2: above the maximum
        row(**{"Этап": "окружной", "Предмет": "ru"}),  # 3
        row(**{"Статус": "лауреат", "Предмет": "fi"}),  # 4
        row(**{"Код школы": "edu000000", "Предмет": "hi"}),  # 5
        row(**{"Дата рождения": "весна 2010", "Предмет": "bi"}),  # 6
        row(**{"Предмет": "is"}),  # 7
        row(**{"Предмет": "is", "Балл": "12"}),  # 8: the same pupil, subject, year and stage
        row(**{"Класс": "13", "Предмет": "ob"}),  # 9
        row(**{"Учебный год": "2024/2026", "Предмет": "gg"}),  # 10
        row(**{"Фамилия": "", "Предмет": "en"}),  # 11
        row(**{"Балл": "-1", "Предмет": "de"}),  # 12
    ]))
    assert outcome.status == UploadStatus.REJECTED
    found = errors_at(outcome)
    assert found[(2, "Балл")] == "Балл (25) больше максимального (20)."
    assert "Этап «окружной» не понят" in found[(3, "Этап")]
    assert "Статус «лауреат» не понят" in found[(4, "Статус")]
    assert "Школы с кодом edu000000 нет" in found[(5, "Код школы")]
    assert "Дата рождения не понята" in found[(6, "Дата рождения")]
    assert "уже указан в строке 7" in found[(8, "Фамилия")]
    assert "Класс «13» не понят" in found[(9, "Класс")]
    assert "Учебный год «2024/2026» не понят" in found[(10, "Учебный год")]
    assert found[(11, "Фамилия")] == "Не указана фамилия участника."
    assert found[(12, "Балл")] == "Балл не может быть отрицательным."
    assert not OlympiadResult.objects.exists() and not Pupil.objects.exists()
    assert [p.message for p in outcome.problems if "Лебедев" in p.message or "2010" in p.message] == []


@pytest.mark.django_db
def test_valid_rows_only(tmp_path, region_tree):
    outcome = run(csv_file(tmp_path, [HEADER, row(), row(**{"Предмет": "ru", "Статус": "?"})]), valid_rows_only=True)
    assert outcome.status == UploadStatus.IMPORTED_PARTLY
    assert list(OlympiadResult.objects.values_list("subject__code", flat=True)) == ["ma"]


@pytest.mark.django_db
def test_same_file_twice_is_unchanged(samples, region_tree):
    path = samples / "olympiad" / "olympiad.csv"
    assert run(path, dry_run=True).status == UploadStatus.CHECKED
    assert not OlympiadResult.objects.exists() and not Pupil.objects.exists() and not Upload.objects.exists()
    first = run(path)
    second = run(path)
    assert second.status == "unchanged" and second.upload == first.upload
    assert OlympiadResult.objects.count() == 3


@pytest.mark.django_db
def test_corrected_file_replaces_the_previous_version(tmp_path, region_tree):
    first = run(csv_file(tmp_path, [HEADER, row(), row(**{"Имя": "Олеся", "Фамилия": "Лебедева"})]))
    assert first.status == UploadStatus.IMPORTED
    corrected = run(csv_file(tmp_path, [HEADER, row(**{"Статус": "призёр", "Балл": "15"})], name="fixed.csv"))
    assert corrected.status == UploadStatus.IMPORTED
    result = OlympiadResult.objects.get()
    assert result.status == "prize_winner" and result.score == 15 and result.upload == corrected.upload
    first.upload.refresh_from_db()
    assert first.upload.status == UploadStatus.REPLACED
    # another stage of the same pupils is another file: it does not replace the school stage
    run(csv_file(tmp_path, [HEADER, row(**{"Этап": "муниципальный"})], name="municipal.csv"))
    assert OlympiadResult.objects.count() == 2
