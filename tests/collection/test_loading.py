"""Loading results: the same file twice changes nothing, a corrected file replaces its previous version,
valid rows only, and all or nothing — also when the process is killed."""

from __future__ import annotations

import datetime
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xlsxwriter
from django.utils import timezone

from metodist.collection import loading
from metodist.collection.importing import ImportOptions, import_file
from metodist.collection.models import TaskScore, Upload, UploadStatus, Work
from metodist.core.models import AuditEntry, Pupil
from metodist.reference.specs import save_spec

JOURNAL = "Отметка за предыдущий триместр/ четверть/полугодие"
HEADER = ["Школа", "Код участника", "Вариант", "1 (2б)", "2 (1б)", "3 (2б)", "Наименование класса", JOURNAL,
          "Итого баллов"]
ROWS = [
    ["edu221001", 40001, 1, 2, 1, 2, "4А", 5, 5],
    ["edu221001", 40002, 2, 1, 0, "X", "4А", 3, 1],
    ["edu221001", 40003, 1, 0, 1, 1, "4Б", 4, 2],
    ["edu221002", 40001, 2, 2, 1, 1, "4А", 4, 4],
    ["edu221002", 40002, 1, "не пройд.", 1, 0, "4А", 3, 1],
]
VENV_BIN = Path(sys.executable).parent


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    """The same rows give the same bytes: xlsxwriter stamps the time of writing into the file, to the second,
    so the tests that write a file twice and expect it to be "the same file" fix that stamp."""
    workbook = xlsxwriter.Workbook(str(path))
    workbook.set_properties({"created": datetime.datetime(2026, 5, 1, 12, 0, 0)})
    sheet = workbook.add_worksheet("Протокол")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    workbook.close()
    return path


@pytest.fixture
def spec(region_tree):
    return save_spec({
        "code": "test-2026-ma-4", "programme": "VPR", "subject": "ma", "grade": 4, "year": 2026,
        "tasks": [{"number": "1", "max_score": 2}, {"number": "2", "max_score": 1}, {"number": "3", "max_score": 2}],
        "grade_scale": {3: 2, 4: 3, 5: 5},
    })


def options(**changes) -> ImportOptions:
    return ImportOptions(assessment="test-2026-ma-4", **changes)


def snapshot() -> dict:
    return {
        "works": sorted(Work.objects.values_list("pk", "school__code", "participant_code", "primary_score", "mark",
                                                 "upload_id")),
        "scores": sorted(TaskScore.objects.values_list("work_id", "task__number", "score", "status")),
        "uploads": sorted(Upload.objects.values_list("pk", "status")),
        "pupils": Pupil.objects.count(),
    }


def test_first_import(spec, tmp_path):
    outcome = import_file(write_xlsx(tmp_path / "форма.xlsx", [HEADER, *ROWS]), options())
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()
    assert outcome.counts == {"rows": 5, "rows_rejected": 0, "works_imported": 5, "absent": 0,
                              "organisations_created": 0, "task_scores": 15, "schools": 2, "replaced_uploads": 0}
    upload = outcome.upload
    assert upload.status == UploadStatus.IMPORTED and upload.finished_at is not None
    assert upload.organisation == spec.works.first().school.parent  # two schools of one municipality
    assert Work.objects.filter(upload=upload).count() == 5
    assert AuditEntry.objects.filter(action="import:imported", object_id=str(upload.pk)).exists()
    marks = dict(Work.objects.filter(school__code="edu221001").values_list("participant_code", "mark"))
    assert marks == {"40001": 5, "40002": 2, "40003": 3}


def test_same_file_twice_changes_nothing(spec, tmp_path):
    path = write_xlsx(tmp_path / "форма.xlsx", [HEADER, *ROWS])
    first = import_file(path, options())
    before = snapshot()
    again = import_file(path, options())
    assert again.status == "unchanged" and again.ok
    assert again.upload.pk == first.upload.pk
    assert again.counts["works_imported"] == 0 and again.counts["unchanged"] is True
    assert "уже загружен" in again.message
    # the time of the first import is the users' clock, not UTC's
    assert timezone.localtime(first.upload.created_at).strftime("%d.%m.%Y %H:%M") in again.message
    assert snapshot() == before
    # the same bytes under another name are the same file
    other = tmp_path / "копия.xlsx"
    other.write_bytes(path.read_bytes())
    assert import_file(other, options()).status == "unchanged"
    assert snapshot() == before


def test_corrected_file_replaces_the_previous_version(spec, tmp_path):
    first = import_file(write_xlsx(tmp_path / "форма.xlsx", [HEADER, *ROWS]), options())
    corrected = [list(row) for row in ROWS]
    corrected[1][4] = 1  # 40002 of edu221001: task 2 was 0, is 1
    corrected[1][8] = 2
    second = import_file(write_xlsx(tmp_path / "форма-исправленная.xlsx", [HEADER, *corrected]), options())
    assert second.status == UploadStatus.IMPORTED, second.as_dict()
    assert second.counts["works_imported"] == 5 and second.counts["replaced_uploads"] == 1
    first.upload.refresh_from_db()
    assert first.upload.status == UploadStatus.REPLACED
    assert second.upload.replaces_id == first.upload.pk
    assert Work.objects.count() == 5 and TaskScore.objects.count() == 15
    assert set(Work.objects.values_list("upload_id", flat=True)) == {second.upload.pk}
    work = Work.objects.get(school__code="edu221001", participant_code="40002")
    assert work.primary_score == 2 and work.scores.get(task__number="2").score == 1
    assert Pupil.objects.count() == 5  # the same pupils, not new ones
    # and the first version again is not "unchanged": it replaces the correction
    third = import_file(tmp_path / "форма.xlsx", options())
    assert third.status == UploadStatus.IMPORTED
    assert Work.objects.get(school__code="edu221001", participant_code="40002").primary_score == 1


def test_a_school_file_replaces_only_its_school(spec, tmp_path):
    region_file = import_file(write_xlsx(tmp_path / "район.xlsx", [HEADER, *ROWS]), options())
    school_rows = [[row[0], *row[1:]] for row in ROWS[:2]]
    outcome = import_file(write_xlsx(tmp_path / "школа.xlsx", [HEADER, *school_rows]), options())
    assert outcome.status == UploadStatus.IMPORTED
    assert outcome.counts["replaced_uploads"] == 0  # the region file still holds edu221002's results
    region_file.upload.refresh_from_db()
    assert region_file.upload.status == UploadStatus.IMPORTED
    assert Work.objects.filter(school__code="edu221001").count() == 2
    assert set(Work.objects.filter(school__code="edu221002").values_list("upload_id", flat=True)) == {
        region_file.upload.pk}
    # the region's file is no longer wholly in place: importing it again brings edu221001's rows back
    again = import_file(write_xlsx(tmp_path / "район.xlsx", [HEADER, *ROWS]), options())
    assert again.status == UploadStatus.IMPORTED, again.as_dict()
    assert Work.objects.filter(school__code="edu221001").count() == 3
    # and now it is: a third time changes nothing
    assert import_file(write_xlsx(tmp_path / "район.xlsx", [HEADER, *ROWS]), options()).status == "unchanged"


def test_valid_rows_only(spec, tmp_path):
    rows = [list(row) for row in ROWS]
    rows[2][3] = 9  # above the maximum
    path = write_xlsx(tmp_path / "форма.xlsx", [HEADER, *rows])
    rejected = import_file(path, options())
    assert rejected.status == UploadStatus.REJECTED and not Work.objects.exists()
    outcome = import_file(path, options(valid_rows_only=True))
    assert outcome.status == UploadStatus.IMPORTED_PARTLY, outcome.as_dict()
    assert outcome.counts["works_imported"] == 4 and outcome.counts["rows_rejected"] == 1
    assert not Work.objects.filter(school__code="edu221001", participant_code="40003").exists()
    assert Upload.objects.get(pk=outcome.upload.pk).errors[0]["row"] == 4


def test_dry_run_writes_nothing(spec, tmp_path):
    outcome = import_file(write_xlsx(tmp_path / "форма.xlsx", [HEADER, *ROWS]), options(dry_run=True))
    assert outcome.status == UploadStatus.CHECKED and outcome.ok
    assert outcome.counts["works_imported"] == 5
    assert not Work.objects.exists() and not Upload.objects.exists() and not Pupil.objects.exists()


def test_crash_in_the_middle_leaves_the_database_as_it_was(spec, tmp_path, monkeypatch):
    import_file(write_xlsx(tmp_path / "форма.xlsx", [HEADER, *ROWS]), options())
    before = snapshot()
    monkeypatch.setattr(loading, "BATCH", 2)  # several batches, so the crash comes after some writes
    calls = {"n": 0}
    original = loading.insert_task_scores

    def failing(values):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("диск переполнен")
        return original(values)

    monkeypatch.setattr(loading, "insert_task_scores", failing)
    corrected = [list(row) for row in ROWS]
    corrected[0][3] = 1
    outcome = import_file(write_xlsx(tmp_path / "форма-2.xlsx", [HEADER, *corrected]), options())
    assert calls["n"] == 2
    # the user gets a Russian message, not a traceback; the failure is recorded as a failed upload
    assert outcome.status == UploadStatus.FAILED
    assert "база данных не изменилась" in outcome.message
    after = snapshot()
    failed = Upload.objects.get(status=UploadStatus.FAILED)
    after["uploads"].remove((failed.pk, UploadStatus.FAILED))
    assert after == before


def _big_file(path: Path, schools: int, pupils: int) -> Path:
    """A region's file in CSV: a title naming the work (so its partial spec is made from the header),
    then `schools × pupils` rows."""
    tasks = [f"{n} (2б)" for n in range(1, 16)]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("ВПР 2031 Математика 4 класс\n")
        fh.write(";".join(["Муниципалитет", "Школа", "Код участника", "Вариант", *tasks, "Наименование класса",
                           "Итого баллов"]) + "\n")
        for s in range(schools):
            for p in range(pupils):
                scores = [str((s + p + t) % 3) for t in range(15)]
                fh.write(";".join(["reg99_m001 | Район", f"edu99{s:04d} | Школа {s}", str(40001 + p), "1", *scores,
                                   "4А", ""]) + "\n")
    return path


@pytest.mark.slow
def test_killed_process_leaves_no_partial_works(tmp_path):
    if os.environ.get("METODIST_DATABASE_URL", "").startswith("postgres"):
        pytest.skip("the kill test runs on SQLite")
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k != "METODIST_DATABASE_URL"}
    env.update(METODIST_DATA_DIR=str(data_dir), METODIST_PSEUDONYM_KEY="test", METODIST_SECRET_KEY="test")
    metodist = str(VENV_BIN / "metodist")
    subprocess.run([metodist, "status", "--json"], env=env, check=True, capture_output=True, timeout=300)
    database = data_dir / "metodist.sqlite3"
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    wal = Path(str(database) + "-wal")
    path = _big_file(tmp_path / "большой.csv", schools=200, pupils=300)
    process = subprocess.Popen([metodist, "import", str(path), "--create-organisations", "--json"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and process.poll() is None:
            if wal.exists() and wal.stat().st_size > 2_000_000:  # the transaction is writing pages
                break
            time.sleep(0.05)
        assert process.poll() is None, "the import finished before it could be killed: make the file bigger"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    status = subprocess.run([metodist, "status", "--json"], env=env, capture_output=True, timeout=300, text=True)
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["works"] == {"present": 0, "absent": 0}
    assert data["task_scores"] == 0 and data["pupils"] == 0
    assert data["uploads"] == {}
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert connection.execute("SELECT count(*) FROM core_organisation WHERE code LIKE 'edu99%'").fetchone()[0] == 0
