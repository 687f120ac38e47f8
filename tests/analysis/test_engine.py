"""The engine reads the database Django uses through Django's own connection: it sees the rows of an
open transaction, leaves that transaction open, and gives the same answers on DuckDB."""

from __future__ import annotations

from pathlib import Path

import pytest
import xlsxwriter
from django.db import connection, transaction

from metodist.analysis.engine import EngineError, connect
from metodist.collection.importing import ImportOptions, import_file
from metodist.collection.models import TaskScore, UploadStatus, Work
from metodist.core.models import Organisation
from metodist.reference.specs import save_spec

HEADER = ["Школа", "Код участника", "Вариант", "1 (2б)", "2 (1б)", "Наименование класса"]
ROWS = [
    ["edu221001", 40001, 1, 2, 1, "4А"],
    ["edu221001", 40002, 2, "не пройд.", "X", "4А"],
    ["edu221002", 40001, "отсутствовал", None, None, "4А"],
    ["edu222001", 40001, 1, 1, 0, None],
]


@pytest.fixture
def results(region_tree, tmp_path: Path):
    assessment = save_spec({"code": "test-2026-ma-4", "programme": "VPR", "subject": "ma", "grade": 4,
                            "year": 2026, "tasks": [{"number": "1", "max_score": 2}, {"number": "2", "max_score": 1}],
                            "grade_scale": {3: 1, 4: 2, 5: 3}})
    outcome = import_file(write_form(tmp_path / "форма.xlsx", ROWS), ImportOptions(assessment=assessment.code))
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()
    return assessment


@pytest.mark.parametrize("engine", ["default", "duckdb"])
def test_works_and_scores_as_django_sees_them(results, engine):
    eng = connect(engine, assessments=[results.pk])
    assert eng.name == ("duckdb" if engine == "duckdb" else {"sqlite": "sqlite", "postgresql": "postgres"}[
        connection.vendor])
    works = eng.works(results.pk).to_pyarrow().to_pylist()
    expected = {(w.school.code, w.school.path, w.participant_code, w.absent, w.primary_score)
                for w in Work.objects.select_related("school")}
    assert {(w["school_code"], w["school_path"], w["participant_code"], w["absent"], w["primary_score"])
            for w in works} == expected
    assert len(works) == 4  # works without a teacher (all of these) are kept by the joins
    scores = eng.task_scores(results.pk).to_pyarrow().to_pylist()
    assert sorted((s["school_code"], s["participant_code"], s["task_number"], s["score"], s["status"], s["max_score"])
                  for s in scores) == sorted(TaskScore.objects.values_list(
                      "work__school__code", "work__participant_code", "task__number", "score", "status",
                      "task__max_score"))
    assert {s["status"] for s in scores} == {"scored", "not_taught", "no_answer"}
    # the same count by the engine, grouped in the database
    t = eng.task_scores(results.pk)
    grouped = t.group_by("school_code").aggregate(n=t.score.count()).to_pyarrow().to_pylist()
    counted = {r["school_code"]: r["n"] for r in grouped}
    assert counted == {"edu221001": 4, "edu222001": 2}


def test_the_open_transaction_stays_open(results):
    """Reading through Django's connection must neither commit nor roll back Django's transaction."""
    with transaction.atomic():
        created = Organisation.objects.create(kind="school", code="edu229999", short_name="Новая школа",
                                              parent=Organisation.objects.get(code="reg22_m001"))
        eng = connect()
        org = eng.raw("organisation")
        assert org.filter(org.code == "edu229999").count().to_pyarrow().as_py() == 1
        transaction.set_rollback(True)
    assert not Organisation.objects.filter(pk=created.pk).exists()
    assert Work.objects.count() == 4  # the test's own data is still there, uncommitted


def test_django_lookups_still_ignore_case_after_connect(results):
    """Ibis turns on case-sensitive LIKE on SQLite; Django's icontains on the same connection needs it off."""
    connect()
    assert Organisation.objects.filter(code__icontains="EDU221001").exists()


def test_duckdb_exports_only_the_assessments_asked(results):
    other = save_spec({"code": "test-2026-ru-4", "programme": "VPR", "subject": "ru", "grade": 4, "year": 2026,
                       "tasks": [{"number": "1", "max_score": 1}]})
    eng = connect("duckdb", assessments=[other.pk])
    assert eng.raw("work").count().to_pyarrow().as_py() == 0
    assert eng.raw("task").count().to_pyarrow().as_py() == 1
    assert eng.raw("task_score").count().to_pyarrow().as_py() == 0
    everything = connect("duckdb")
    assert everything.raw("task_score").count().to_pyarrow().as_py() == TaskScore.objects.count() == 6


def test_duckdb_export_keeps_every_value(results):
    """The export goes through CSV text the database writes: quotes, commas, line breaks, empty texts,
    NULLs and booleans must come out as they went in, table by table."""
    Organisation.objects.filter(code="edu221002").update(short_name='Школа "Радуга", корпус 2\nзданиe «Б»')
    Organisation.objects.filter(code="edu222001").update(short_name="", social_index=None)
    source, duck = connect(), connect("duckdb")
    for name in ("organisation", "teacher", "school_class", "task", "work", "task_score"):
        ours = sorted(source.raw(name).to_pyarrow().to_pylist(), key=lambda r: r["id"])
        theirs = sorted(duck.raw(name).to_pyarrow().to_pylist(), key=lambda r: r["id"])
        assert theirs == ours, name
    names = {r["code"]: r["short_name"] for r in duck.raw("organisation").to_pyarrow().to_pylist()}
    assert names["edu221002"] == 'Школа "Радуга", корпус 2\nзданиe «Б»' and names["edu222001"] == ""
    works = duck.raw("work").to_pyarrow().to_pylist()
    assert {w["absent"] for w in works} == {True, False}
    assert any(w["teacher_id"] is None for w in works)  # NULL, not 0


def write_form(path: Path, rows) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Протокол")
    for r, row in enumerate([HEADER, *rows]):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    workbook.close()
    return path


def exported_tables(monkeypatch) -> list[str]:
    """The names of the tables the engine exports from the database from now on."""
    from metodist.analysis import engine

    exported, export = [], engine._arrow
    monkeypatch.setattr(engine, "_arrow", lambda source, name, table: exported.append(name) or export(source, name, table))
    return exported


@pytest.mark.django_db(transaction=True)
def test_a_kept_export_is_read_until_the_results_change(results, settings, tmp_path, monkeypatch):
    """The DuckDB export of works and task scores is kept under the data directory, named by the results'
    signature: the next run reads it instead of exporting again, and an import makes the next run export
    afresh, so no run reads the results of before."""
    from metodist.analysis.engine import CACHED_TABLES, export_cache_path

    settings.DATA_DIR = tmp_path
    first = export_cache_path()
    assert first is not None and first.parent == tmp_path / "analysis-export"
    connect("duckdb")
    assert first.is_file()
    exported = exported_tables(monkeypatch)
    source, kept = connect(), connect("duckdb")
    assert not set(exported) & set(CACHED_TABLES) and "organisation" in exported  # the small ones each time
    for name in ("work", "task_score", "task"):
        assert (sorted(kept.raw(name).to_pyarrow().to_pylist(), key=lambda r: r["id"])
                == sorted(source.raw(name).to_pyarrow().to_pylist(), key=lambda r: r["id"])), name
    # a report's export of one assessment reads the kept file too, and sees only that assessment
    other = save_spec({"code": "test-2026-ru-4", "programme": "VPR", "subject": "ru", "grade": 4, "year": 2026,
                       "tasks": [{"number": "1", "max_score": 1}]})
    exported.clear()
    only_other = connect("duckdb", assessments=[other.pk])
    assert only_other.raw("work").count().to_pyarrow().as_py() == 0
    assert only_other.raw("task_score").count().to_pyarrow().as_py() == 0
    assert connect("duckdb", assessments=[results.pk]).raw("task_score").count().to_pyarrow().as_py() == 6
    assert not set(exported) & set(CACHED_TABLES)
    # a new file of results: the signature moves, the export is made again and the old one dropped
    outcome = import_file(write_form(tmp_path / "вторая.xlsx", [["edu222001", 40002, 1, 2, 1, None]]),
                          ImportOptions(assessment=results.code))
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()
    second = export_cache_path()
    assert second != first
    exported.clear()
    fresh = connect("duckdb")
    assert set(CACHED_TABLES) <= set(exported)
    for name in ("work", "task_score"):  # the school's new file replaced its works: the same count, new rows
        assert (sorted(fresh.raw(name).to_pyarrow().to_pylist(), key=lambda r: r["id"])
                == sorted(connect().raw(name).to_pyarrow().to_pylist(), key=lambda r: r["id"])), name
    assert Work.objects.filter(participant_code="40002", school__code="edu222001").exists()
    assert second.is_file() and not first.exists()


@pytest.mark.django_db(transaction=True)
def test_a_damaged_kept_export_is_made_again(results, settings, tmp_path):
    from metodist.analysis.engine import export_cache_path

    settings.DATA_DIR = tmp_path
    kept = export_cache_path()
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"not a DuckDB database")
    assert connect("duckdb").raw("task_score").count().to_pyarrow().as_py() == TaskScore.objects.count()
    assert kept.read_bytes()[:16] != b"not a DuckDB dat"  # written again, whole
    assert connect("duckdb").raw("work").count().to_pyarrow().as_py() == Work.objects.count()


def test_nothing_is_kept_from_inside_a_transaction(results, settings, tmp_path):
    """A test's rows, an import in progress: data that may still be rolled back, and a signature the next
    data may repeat (SQLite gives the ids of rolled-back rows again)."""
    from metodist.analysis.engine import export_cache_path

    settings.DATA_DIR = tmp_path
    assert export_cache_path() is None
    connect("duckdb")
    assert not (tmp_path / "analysis-export").exists()


def test_unknown_engine():
    with pytest.raises(EngineError):
        connect("spark")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL planner setting")
def test_on_postgresql_the_engine_plans_for_every_row(db):
    """Ibis reads through a server-side cursor, planned by default for its first tenth of rows (nested loops
    over the task scores: 28 s for a region's standard report instead of 1 s)."""
    connect()
    with connection.cursor() as cursor:
        cursor.execute("SHOW cursor_tuple_fraction")
        assert float(cursor.fetchone()[0]) == 1.0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner statistics")
@pytest.mark.django_db(transaction=True)
def test_stale_statistics_of_the_results_are_gathered_again(results, monkeypatch):
    """After an import has changed more of the results than the thresholds allow, the works and task scores
    are analysed again (autovacuum may be off or behind); once fresh, they are left alone."""
    from metodist.collection import loading

    monkeypatch.setattr(loading, "STALE_FLOOR", 0)
    monkeypatch.setattr(loading, "STALE_SHARE", 0.0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")  # this backend's counts of the import, now
    assert set(loading.refresh_statistics()) == {Work._meta.db_table, TaskScore._meta.db_table}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_user_tables WHERE relname = %s AND last_analyze IS NOT NULL",
                       [TaskScore._meta.db_table])
        assert cursor.fetchone()[0] == 1
    assert loading.refresh_statistics() == []


def test_statistics_are_left_alone_on_sqlite_and_inside_a_transaction(results, monkeypatch):
    """SQLite plans without them; inside a caller's transaction (a test's, a batch of imports) the counts of
    its writes are not visible yet, and the next import after the commit gathers them."""
    from metodist.collection import loading

    monkeypatch.setattr(loading, "STALE_FLOOR", 0)
    assert loading.refresh_statistics() == []


@pytest.mark.django_db
def test_a_run_enlarges_sqlite_page_cache_and_puts_it_back():
    from django.db import connection

    from metodist.analysis.engine import run_page_cache

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's cache is the server's")

    def size():
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            return cursor.fetchone()[0]

    before = size()
    with run_page_cache(kib=65_536):
        assert size() == -65_536
    assert size() == before
