"""The analytics engine: Ibis expressions over the results, run where the data lives.

`connect()` gives an :class:`Engine` over the database Django uses (SQLite or PostgreSQL), reusing
Django's own DB-API connection, so a query sees exactly what Django sees — also the rows of a
transaction that is not committed yet (a test's data, an import in progress in the same process).
`connect("duckdb")` exports the tables the analysis reads through that same connection into an
in-memory DuckDB database (no DuckDB extension is needed, so it works offline) and runs the
expressions there; the database writes the rows as CSV text and Arrow parses it (see :func:`_arrow`).
The export of works and task scores, the bulk of it, is kept in a DuckDB file under the data directory
until the results change (:func:`export_cache_path`), so only the first run after an import pays for it.

The engine does only portable operations: filters, joins, counts and sums. Statistics are computed
on the aggregates in Python (NumPy/SciPy), never in SQL.

An Engine lives as long as the Django connection it borrows: make one per report or analysis run,
do not keep one across requests.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import ibis
import ibis.expr.types as ir
from ibis.backends.sqlite import Backend as SQLiteBackend

ENGINES = ("default", "duckdb")

log = logging.getLogger(__name__)


class EngineError(ValueError):
    """An engine name or a database that the analysis cannot run on; the message is for the user."""


def _tables() -> dict[str, tuple[str, list[str]]]:
    """The tables the analysis reads: short name → (database table, columns)."""
    from metodist.collection.models import TaskScore, Work
    from metodist.core.models import Organisation, SchoolClass, Teacher
    from metodist.reference.models import Task

    def columns(model, names):
        return [model._meta.get_field(n).column for n in names]

    return {
        "organisation": (Organisation._meta.db_table,
                         columns(Organisation, ["id", "kind", "code", "short_name", "path", "depth", "parent"])),
        "teacher": (Teacher._meta.db_table, columns(Teacher, ["id", "full_name", "school"])),
        "school_class": (SchoolClass._meta.db_table, columns(SchoolClass, ["id", "grade", "letter"])),
        "task": (Task._meta.db_table, columns(Task, ["id", "assessment", "number", "position", "max_score"])),
        "work": (Work._meta.db_table,
                 columns(Work, ["id", "assessment", "school", "school_class", "teacher", "participant_code",
                                "variant", "absent", "primary_score", "mark", "journal_mark"])),
        "task_score": (TaskScore._meta.db_table, columns(TaskScore, ["id", "work", "task", "score", "status"])),
    }


@dataclass
class Engine:
    """An Ibis backend with the analysis's tables as expressions.

    `name` is `sqlite`, `postgres` or `duckdb`. `raw(name)` is a table with its database columns
    (foreign keys as `<name>_id`); `works()` and `task_scores()` are the joined views the reports use.
    """

    backend: ibis.BaseBackend
    name: str
    _names: dict[str, str] = field(default_factory=dict)

    def raw(self, short_name: str) -> ir.Table:
        table, columns = _tables()[short_name]
        return self.backend.table(self._names.get(short_name, table)).select(*columns)

    def works(self, assessment_id: int | None = None) -> ir.Table:
        """One row per work: the work's columns, its school's `school_code` and `school_path`, its
        class (`class_grade`, `class_letter`) and teacher (`teacher_name`), where known."""
        work = self.raw("work")
        if assessment_id is not None:
            work = work.filter(work.assessment_id == assessment_id)
        org = self.raw("organisation").select(school_ref="id", school_code="code", school_path="path")
        klass = self.raw("school_class").select(class_ref="id", class_grade="grade", class_letter="letter")
        teacher = self.raw("teacher").select(teacher_ref="id", teacher_name="full_name")
        joined = (
            work.join(org, work.school_id == org.school_ref)
            .left_join(klass, work.school_class_id == klass.class_ref)
            .left_join(teacher, work.teacher_id == teacher.teacher_ref)
        )
        return joined.drop("school_ref", "class_ref", "teacher_ref")

    def task_scores(self, assessment_id: int | None = None) -> ir.Table:
        """One row per task score of a work: the score and its status, the task's `task_number`,
        `position` and `max_score`, and the work's columns as in `works()` (prefixed where they clash)."""
        works = self.works(assessment_id).rename(work_ref="id")
        scores = self.raw("task_score").drop("id")
        task = self.raw("task").select(task_ref="id", task_number="number", position="position",
                                       max_score="max_score")
        joined = scores.join(works, scores.work_id == works.work_ref).join(task, scores.task_id == task.task_ref)
        return joined.drop("work_ref", "task_ref")


class _BorrowedSQLite(SQLiteBackend):
    """Ibis's SQLite backend on Django's connection. Ibis commits (or rolls back) after every schema
    look-up; on a borrowed connection that would commit Django's open transaction (an import, a
    test), so here a look-up only opens and closes a cursor. The analysis only reads."""

    @contextlib.contextmanager
    def begin(self):
        cursor = self.con.cursor()
        try:
            yield cursor
        finally:
            cursor.close()


@contextlib.contextmanager
def quiet():
    """Ibis 12 with pandas 3 and DuckDB 1.5 warns about its own calls on every query; they are not
    ours to fix and would flood the console."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*future.infer_string.*")
        warnings.filterwarnings("ignore", message=".*fetch_arrow_table.*", category=DeprecationWarning)
        yield


#: SQLite's page cache while an analysis run works, in KiB (the default is 2 MiB). A region's run looks up
#: tens of thousands of classes and elements and writes hundreds of thousands of rows whose indexes and
#: foreign keys are all over those tables; in 2 MiB every look-up reads its pages again from the file:
#: writing a region's 368,000 problem fields took 8.7 s with the default and 5.6 s with 128 MiB
#: (benchmarks/README.md). The connection's own size is put back afterwards.
RUN_PAGE_CACHE_KIB = 131_072


@contextlib.contextmanager
def run_page_cache(kib: int = RUN_PAGE_CACHE_KIB):
    """Within the block, Django's SQLite connection keeps up to `kib` KiB of pages; other databases are
    left alone (PostgreSQL's cache is the server's)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = {-int(kib)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _django_connection():
    from django.db import connection

    connection.ensure_connection()
    return connection


def connect(engine: str = "default", *, assessments: Iterable[int] | None = None) -> Engine:
    """An Engine over the project's database (`default`) or over DuckDB (`duckdb`).

    With `duckdb`, the tables are exported from the project's database first; `assessments` limits the
    export of works, task scores and tasks to those assessments (the reports pass the one they need).
    """
    if engine not in ENGINES:
        raise EngineError(f"unknown engine {engine!r}; one of {', '.join(ENGINES)}")
    source = _database_engine()
    if engine == "default":
        return source
    return _export_to_duckdb(source, assessments)


def _database_engine() -> Engine:
    connection = _django_connection()
    raw = connection.connection
    if connection.vendor == "sqlite":
        backend = _BorrowedSQLite.from_connection(raw)
        # Ibis turns on case-sensitive LIKE for its own string operations; Django's lookups on this same
        # connection (iexact, icontains) rely on SQLite's default, so it is restored.
        raw.execute("PRAGMA case_sensitive_like = OFF")
        return Engine(backend, "sqlite")
    if connection.vendor == "postgresql":
        # Ibis reads results through a server-side cursor, which PostgreSQL plans for the first tenth of the
        # rows (cursor_tuple_fraction 0.1): nested loops over the task scores. The analysis reads every row
        # of its aggregates, so it asks for the plan of the whole result: a region's standard report took
        # 28 s instead of 1 s the other way, when the table statistics were behind after a large import.
        with connection.cursor() as cursor:
            cursor.execute("SET cursor_tuple_fraction = 1.0")
        return Engine(ibis.postgres.from_connection(raw), "postgres")
    raise EngineError(f"the analysis does not run on {connection.vendor}")


#: the exported tables kept between runs (see :func:`export_cache_path`): the two that hold the results; the
#: others are small and change in place (an organisation renamed, a task's maximum corrected)
CACHED_TABLES = ("work", "task_score")
#: bump when what is exported of works or task scores changes its meaning (the columns are in the key)
EXPORT_CACHE_VERSION = 1
EXPORT_CACHE_DIR = "analysis-export"


def export_cache_path() -> Path | None:
    """Where the DuckDB export of works and task scores is kept while they do not change, or None when no
    export may be kept now.

    Works and task scores change only by imports and by deleting uploads, and each of those moves
    :func:`~metodist.core.cycle.results_signature`; the file is named by it (with the database and the
    exported columns), so a run after an import exports afresh and the next run without one reads the
    file: a region's export took 10 s, the analysis that reads it 25 s. Nothing is kept or read inside a
    transaction: there the data may be not yet committed (an import in progress, a test) and may still be
    rolled back, leaving a signature that the next data can repeat."""
    from django.conf import settings
    from django.db import connection

    if connection.in_atomic_block or not getattr(settings, "ANALYSIS_EXPORT_CACHE", True):
        return None
    from metodist.core.cycle import results_signature

    tables = _tables()
    database = connection.settings_dict
    key = repr((EXPORT_CACHE_VERSION, connection.vendor, database.get("NAME"), database.get("HOST"),
                database.get("PORT"), [tables[name] for name in CACHED_TABLES], results_signature()))
    return Path(settings.DATA_DIR) / EXPORT_CACHE_DIR / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.duckdb"


def _export_to_duckdb(source: Engine, assessments: Iterable[int] | None) -> Engine:
    duck = ibis.duckdb.connect()
    wanted = sorted(set(assessments)) if assessments is not None else None
    cache = export_cache_path()
    cached = cache is not None and _attach_cache(duck, cache)
    for short_name in _tables():
        if cached and short_name in CACHED_TABLES:
            continue
        table = source.raw(short_name)
        if wanted is not None:
            if short_name in ("work", "task"):
                table = table.filter(table.assessment_id.isin(wanted))
            elif short_name == "task_score":
                works = source.raw("work")
                ids = works.filter(works.assessment_id.isin(wanted)).select(work_ref="id")
                table = table.semi_join(ids, table.work_id == ids.work_ref)
        with quiet():
            duck.create_table(short_name, _arrow(source, short_name, table), overwrite=True)
    if cached:
        _cached_views(duck, wanted)
    elif cache is not None and wanted is None:
        _keep_export(duck, cache)
    return Engine(duck, "duckdb", {name: name for name in _tables()})


def _attach_cache(duck, cache: Path) -> bool:
    """Attach a kept export read-only; False when there is none or it cannot be read (then it is dropped)."""
    if not cache.is_file():
        return False
    try:
        duck.raw_sql(f"ATTACH {_sql_text(cache)} AS export_cache (READ_ONLY)")
    except Exception:  # noqa: BLE001 (a damaged or foreign file: export afresh)
        log.warning("the kept export %s cannot be read; exporting afresh", cache, exc_info=True)
        cache.unlink(missing_ok=True)
        return False
    return True


def _cached_views(duck, wanted: list[int] | None) -> None:
    """The kept works and task scores as the engine's tables, limited to the wanted assessments as an
    export would be."""
    work, scores = "export_cache.main.work", "export_cache.main.task_score"
    if wanted is None:
        duck.raw_sql(f"CREATE VIEW work AS SELECT * FROM {work}")  # noqa: S608 (fixed names)
        duck.raw_sql(f"CREATE VIEW task_score AS SELECT * FROM {scores}")  # noqa: S608
        return
    ids = ", ".join(str(int(a)) for a in wanted)
    duck.raw_sql(f"CREATE VIEW work AS SELECT * FROM {work} WHERE assessment_id IN ({ids})")  # noqa: S608
    duck.raw_sql(f"CREATE VIEW task_score AS SELECT * FROM {scores} s WHERE s.work_id IN "  # noqa: S608
                 f"(SELECT id FROM {work} WHERE assessment_id IN ({ids}))")


def _keep_export(duck, cache: Path) -> None:
    """Write the exported works and task scores to `cache` (a new file renamed into place, so a reader
    never sees half of one) and drop the exports of earlier signatures. A failure costs only the next
    run's time: it is logged and the run goes on."""
    import os

    temporary = cache.with_name(f"{cache.stem}.{os.getpid()}.tmp")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        temporary.unlink(missing_ok=True)
        duck.raw_sql(f"ATTACH {_sql_text(temporary)} AS fresh_export")
        try:
            for name in CACHED_TABLES:
                duck.raw_sql(f"CREATE TABLE fresh_export.main.{name} AS SELECT * FROM main.{name}")  # noqa: S608
        finally:
            duck.raw_sql("DETACH fresh_export")
        os.replace(temporary, cache)
        for old in cache.parent.glob("*.duckdb"):
            if old != cache:
                old.unlink(missing_ok=True)  # a run reading it keeps its open file
    except Exception:  # noqa: BLE001 (the export itself is in memory and complete)
        log.warning("could not keep the analysis export in %s", cache.parent, exc_info=True)
        temporary.unlink(missing_ok=True)


def _sql_text(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


#: SQLite builds the CSV text of this many ids of a table at a time (about 20 MB of text for task scores)
CSV_CHUNK = 1_000_000


def _arrow(source: Engine, short_name: str, table: ir.Table):
    """The rows of an exported table as an Arrow table.

    Ibis's own ``to_pyarrow`` turns every row into Python objects first: 12 s for a region's 5.5 million
    task scores. Here the database writes the rows as CSV text itself (PostgreSQL's ``COPY … TO STDOUT``;
    on SQLite ``group_concat`` over ranges of ids), on the same borrowed connection, so the export still
    sees exactly what Django sees, and Arrow's CSV reader parses it: 2–3 s. Columns of other types than
    integers, booleans and text (none of the analysis's tables has them) take Ibis's way."""
    import pyarrow as pa

    schema = table.schema().to_pyarrow()
    if not all(pa.types.is_integer(f.type) or pa.types.is_boolean(f.type) or pa.types.is_string(f.type)
               for f in schema):
        return source.backend.to_pyarrow(table)
    sql = source.backend.compile(table)
    if source.name == "postgres":
        return _read_csv(_postgres_csv(sql), schema)
    if source.name == "sqlite":
        return _sqlite_arrow(sql, schema, _tables()[short_name][0])
    return source.backend.to_pyarrow(table)


def _postgres_csv(sql: str) -> bytes:
    connection = _django_connection()
    buffer = bytearray()
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
        for block in copy:
            buffer += block
    return bytes(buffer)


def _sqlite_arrow(sql: str, schema, db_table: str):
    """The rows of ``sql`` as Arrow, from CSV lines built by SQLite in ranges of the table's ids (one text
    of a whole region's task scores would near SQLite's limit of a value's length); Arrow parses one range
    while SQLite writes the next (both release the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow as pa

    formats, values = [], []
    for f in schema:
        name = '"' + f.name.replace('"', '""') + '"'
        text = pa.types.is_string(f.type)
        if not f.nullable:  # printf: one call per row, not a concatenation per column; %w doubles the quotes
            formats.append('"%w"' if text else "%d")
            values.append(name)
        else:  # NULL is the empty field, an empty text the quoted one
            formats.append("%s")
            values.append(f"""iif({name} IS NULL, '', '"' || replace({name}, '"', '""') || '"')""" if text
                          else f"coalesce({name}, '')")
    line = f"printf('{','.join(formats)}', {', '.join(values)})"
    raw = _django_connection().connection  # sqlite3's own: Ibis's SQL is not Django's (no %s to rewrite)
    low, high = raw.execute(f'SELECT min(id), max(id) FROM "{db_table}"').fetchone()  # noqa: S608 (a model's table)
    parts = []
    with ThreadPoolExecutor(max_workers=1) as parser:
        for start in range(low, high + 1, CSV_CHUNK) if low is not None else ():
            (text,) = raw.execute(  # noqa: S608 (the SQL is Ibis's, the table a model's)
                f"SELECT group_concat({line}, char(10)) FROM ({sql}) AS exported WHERE exported.id >= ? "
                "AND exported.id < ?", (start, start + CSV_CHUNK)).fetchone()
            if text:
                parts.append(parser.submit(_read_csv, text.encode(), schema))
        tables = [part.result() for part in parts]
    return pa.concat_tables(tables) if tables else _read_csv(b"", schema)


def _read_csv(text: bytes, schema):
    import io

    import pyarrow as pa
    import pyarrow.csv as pcsv

    if not text:
        return pa.Table.from_pylist([], schema=schema)
    return pcsv.read_csv(
        io.BytesIO(text),
        read_options=pcsv.ReadOptions(column_names=schema.names, block_size=16 << 20),
        parse_options=pcsv.ParseOptions(newlines_in_values=True),  # a name may hold a line break
        convert_options=pcsv.ConvertOptions(
            column_types={f.name: f.type for f in schema}, strings_can_be_null=True,
            quoted_strings_can_be_null=False, true_values=["1", "t", "true"], false_values=["0", "f", "false"]),
    )
