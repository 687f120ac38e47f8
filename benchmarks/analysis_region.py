"""Analysis benchmark: the whole analysis of one year on SQLite, PostgreSQL and DuckDB, against one
hand-written DuckDB query that computes the task-completion table for all schools.

    python -m benchmarks.analysis_region [--schools 600] [--year 2020] [--engines sqlite,postgres,duckdb]

1. The databases of `benchmarks.import_region` (SQLite under var/bench/sqlite/, PostgreSQL
   `metodist_bench`) are reused when they hold the region of `--schools` schools completely (the same
   counts of works and task scores as that benchmark's last run recorded in var/bench/results.json);
   otherwise that benchmark's import step is run for them first. Then `metodist manage migrate` on each,
   so that the analysis tables exist (not timed).
2. Baseline, in a child process: works, task scores, tasks, assessments and schools exported once from
   the SQLite database to Parquet (not timed), loaded into an in-memory DuckDB (not timed), then ONE SQL
   query timed, three times (the median counts): the solve rate of every task in every school for the
   year's assessments.
3. Per engine, in a child process of its own: `run_analysis(year=…, engine=…)` — SQLite and PostgreSQL
   with the engine `default` (the analysis runs in the project's database), DuckDB with the engine
   `duckdb` over the SQLite database's data, twice: first with the export into DuckDB made (and kept: it
   is part of the time), then again reading the kept export, as every run does until the next import
   (`metodist.analysis.engine.export_cache_path`). Wall seconds,
   seconds per part of the analysis, peak RSS of the child (ru_maxrss), and the ratio to the baseline.
4. A table on stdout and everything in var/bench/analysis-results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.generate import BENCH_DIR, ROOT, Params, generate
from benchmarks.import_region import POSTGRES_URL, log, machine, peak_mb, run_child
from metodist.analysis.engine import EXPORT_CACHE_DIR

ENGINES = ("sqlite", "postgres", "duckdb")
SQLITE_DIR = BENCH_DIR / "sqlite"
PARQUET_DIR = BENCH_DIR / "analysis-parquet"

#: the baseline: solve rate (points ÷ maximum) of every task in every school, for one year's assessments
BASELINE_SQL = """
SELECT o.code AS school, a.code AS assessment, t.number AS task,
       count(*) AS works, sum(s.score) AS points,
       sum(s.score) / (count(*) * any_value(t.max_score))::DOUBLE AS solve_rate
FROM task_score s
JOIN work w ON w.id = s.work_id
JOIN assessment a ON a.id = w.assessment_id
JOIN task t ON t.id = s.task_id
JOIN organisation o ON o.id = w.school_id
WHERE a.year = ? AND NOT w.absent
GROUP BY o.code, a.code, t.number
"""

#: what the baseline reads: Parquet file → SQL over the SQLite database
EXPORTS = {
    "task_score": "SELECT work_id, task_id, score FROM collection_taskscore",
    "work": "SELECT id, assessment_id, school_id, absent FROM collection_work",
    "task": "SELECT id, assessment_id, number, max_score FROM reference_task",
    "assessment": "SELECT id, code, year FROM reference_assessment",
    "organisation": "SELECT id, code FROM core_organisation",
}


def engine_env(engine: str) -> dict:
    env = dict(os.environ)
    env.pop("METODIST_DATABASE_URL", None)
    env["METODIST_DATA_DIR"] = str(BENCH_DIR / ("postgres" if engine == "postgres" else "sqlite"))
    if engine == "postgres":
        env["METODIST_DATABASE_URL"] = POSTGRES_URL
    return env


# --- the databases ----------------------------------------------------------------------------------

def live_counts(engine: str) -> dict | None:
    """Works and task scores in a bench database now, or None when it is missing."""
    queries = ("SELECT count(*) FROM collection_work", "SELECT count(*) FROM collection_taskscore")
    try:
        if engine == "postgres":
            import psycopg

            with psycopg.connect(POSTGRES_URL) as conn:
                works, scores = (conn.execute(q).fetchone()[0] for q in queries)
        else:
            path = SQLITE_DIR / "metodist.sqlite3"
            if not path.exists():
                return None
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
                works, scores = (conn.execute(q).fetchone()[0] for q in queries)
    except Exception:  # noqa: BLE001 - no database, no tables: not complete
        return None
    return {"works": works, "task_scores": scores}


def database_ready(engine: str, schools: int) -> bool:
    """The database holds what import_region's last run of this size left there, or what the import step
    of this module (`prepare_databases`) left there (recorded in prepared-<engine>.json: without it a
    benchmark that imported by itself imported again on every later run)."""
    expected = None
    try:
        last = json.loads((BENCH_DIR / "results.json").read_text(encoding="utf-8"))
        if last.get("manifest", {}).get("params", {}).get("schools") == schools:
            expected = last.get("engines", {}).get(engine, {}).get("database_counts")
    except (OSError, ValueError):
        pass
    if not expected:
        try:
            prepared = json.loads((BENCH_DIR / f"prepared-{engine}.json").read_text(encoding="utf-8"))
            if prepared.get("schools") == schools:
                expected = prepared.get("database_counts")
        except (OSError, ValueError):
            pass
    return bool(expected) and expected == live_counts(engine)


def prepare_databases(schools: int, engines: list[str]) -> dict:
    """Reuse or (re)build the import benchmark's databases, then migrate them."""
    sources = sorted({"postgres" if e == "postgres" else "sqlite" for e in engines} | {"sqlite"})
    missing = [e for e in sources if not database_ready(e, schools)]
    prepared = {"reused": [e for e in sources if e not in missing], "imported": missing}
    if missing:
        params = Params.scaled(schools, 50, None)
        log(f"Import benchmark's import step for {params.key()} into {', '.join(missing)} …")
        data_dir = generate(params)
        for engine in missing:
            result = run_child(engine, data_dir, profile=False, single=True)
            if "error" in result:
                raise SystemExit(result["error"])
            prepared[f"import_{engine}"] = {"seconds": result["forms"]["seconds"],
                                            "database_counts": result["database_counts"]}
            (BENCH_DIR / f"prepared-{engine}.json").write_text(json.dumps(
                {"schools": schools, "database_counts": result["database_counts"]}), encoding="utf-8")
    for engine in sources:
        log(f"Migrations on the {engine} bench database …")
        subprocess.run([str(Path(sys.executable).with_name("metodist")), "manage", "migrate"],
                       cwd=ROOT, env=engine_env(engine), check=True, stdout=subprocess.DEVNULL)
        prepared[f"counts_{engine}"] = live_counts(engine)
    return prepared


def export_parquet() -> dict:
    """The baseline's data, from the SQLite bench database to Parquet (not timed in the figures)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    PARQUET_DIR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    rows = {}
    with sqlite3.connect(f"file:{SQLITE_DIR / 'metodist.sqlite3'}?mode=ro", uri=True) as conn:
        for name, sql in EXPORTS.items():
            cursor = conn.execute(sql)
            names = [d[0] for d in cursor.description]
            writer = None
            count = 0
            while batch := cursor.fetchmany(500_000):
                table = pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in batch])
                if name == "work":
                    table = table.set_column(3, "absent", table["absent"].cast(pa.bool_()))
                if writer is None:
                    writer = pq.ParquetWriter(PARQUET_DIR / f"{name}.parquet", table.schema)
                writer.write_table(table)
                count += len(batch)
            if writer is not None:
                writer.close()
            rows[name] = count
    return {"seconds": time.perf_counter() - started, "rows": rows}


# --- children ---------------------------------------------------------------------------------------

def baseline(year: int, repeat: int = 3) -> dict:
    """The hand-written DuckDB query over the Parquet export, loaded into memory first (not timed)."""
    import duckdb

    con = duckdb.connect()
    started = time.perf_counter()
    for name in EXPORTS:
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{PARQUET_DIR / name}.parquet')")
    load = time.perf_counter() - started
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = con.execute(BASELINE_SQL, [year + 1]).to_arrow_table()
        times.append(time.perf_counter() - started)
    return {"seconds": sorted(times)[len(times) // 2], "runs": times, "best_seconds": min(times), "load_seconds": load,
            "rows": result.num_rows, "schools": len(set(result.column("school").to_pylist())),
            "duckdb": duckdb.__version__, "peak_rss_mb": peak_mb()}


def analysis(engine: str, year: int, profile: bool) -> dict:
    from metodist.bootstrap import ensure_database

    ensure_database()
    import metodist.analysis.engine as engine_module
    from metodist.analysis.runs import PARTS, run_analysis

    marks: dict = {}
    connect = engine_module.connect

    def timed_connect(*args, **kwargs):
        began = time.perf_counter()
        try:
            return connect(*args, **kwargs)
        finally:
            marks["connect"] = time.perf_counter() - began
            marks["last"] = time.perf_counter()

    engine_module.connect = timed_connect
    parts: dict = {}

    def progress(number: int, total: int) -> None:
        now = time.perf_counter()
        parts[PARTS[number - 1][0]] = now - marks["last"]
        marks["last"] = now

    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    run = run_analysis(year=year, engine="duckdb" if engine == "duckdb" else "default", progress=progress)
    seconds = time.perf_counter() - started
    result: dict = {"engine": engine, "seconds": seconds, "connect_seconds": marks.get("connect"),
                    "parts": parts, "status": run.status, "run": run.pk, "summary": run.summary,
                    "peak_rss_mb": peak_mb()}
    if profiler is not None:
        profiler.disable()
        out = BENCH_DIR / f"profile-analysis-{engine}.pstats"
        profiler.dump_stats(str(out))
        result["profile"] = str(out)
    return result


def child_main(args) -> None:
    if args.child == "baseline":
        result = baseline(args.year)
    else:
        result = analysis(args.child, args.year, args.profile)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")


def run_analysis_child(mode: str, year: int, profile: bool) -> dict:
    out = BENCH_DIR / f"child-analysis-{mode}.json"
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", "benchmarks.analysis_region", "--child", mode, "--year", str(year),
               "--out", str(out)]
    if profile:
        command.append("--profile")
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, env=engine_env(mode))
    if completed.returncode != 0 or not out.exists():
        return {"error": f"the {mode} run failed (exit code {completed.returncode})"}
    result = json.loads(out.read_text(encoding="utf-8"))
    result["process_seconds"] = time.perf_counter() - started
    return result


# --- the report -------------------------------------------------------------------------------------

def report(results: dict) -> str:
    base = results["baseline"]
    counts = results["databases"].get("counts_sqlite") or {}
    part_names = [name for name in ("problem_fields", "classification", "objectivity", "deficits")]
    lines = [
        f"Region: {results['schools']} schools, {counts.get('works', 0):,} works, "
        f"{counts.get('task_scores', 0):,} task scores; year {results['year']}/{results['year'] + 1}; "
        f"{results['machine']['cpus']} CPUs, {results['machine']['cpu']}",
        "",
        f"{'run':<36}{'seconds':>9}{'× query':>9}{'peak MiB':>10}  "
        + "".join(f"{n[:13]:>14}" for n in ["connect", *part_names]),
        f"{'DuckDB hand-written query':<36}{base['seconds']:>9.3f}{1:>9.1f}{base['peak_rss_mb']:>10.0f}"
        f"  ({base['rows']:,} rows, {base['schools']} schools; runs "
        + ", ".join(f"{t:.3f}" for t in base["runs"]) + " s)",
    ]
    for engine, result in results["engines"].items():
        label = f"run_analysis, {engine}"
        if "error" in result:
            lines.append(f"{label:<36}{result['error']}")
            continue
        parts = result["parts"]
        lines.append(
            f"{label:<36}{result['seconds']:>9.1f}{result['ratio_to_query']:>9.0f}{result['peak_rss_mb']:>10.0f}  "
            + f"{result['connect_seconds'] or 0:>14.1f}"
            + "".join(f"{parts[n]:>14.1f}" if n in parts else f"{'—':>14}" for n in part_names))
    lines.append("")
    lines.append("seconds: wall time of run_analysis (whole year, every level, findings stored); × query = those "
                 "seconds ÷ the median of three runs of the hand-written DuckDB query, same run; peak = ru_maxrss of the child; "
                 "per part: seconds (connect = the engine, for duckdb the export of the tables into DuckDB).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Region-scale analysis benchmark (see benchmarks/README.md).")
    parser.add_argument("--schools", type=int, default=600, help="schools in the region (default 600: full size)")
    parser.add_argument("--year", type=int, default=2020,
                        help="academic year by its first calendar year (default 2020: ВПР 2021 of the data)")
    parser.add_argument("--engines", default="sqlite,postgres,duckdb", help="comma-separated: " + ", ".join(ENGINES))
    parser.add_argument("--profile", action="store_true",
                        help="run the analyses under cProfile (writes var/bench/profile-analysis-<engine>.pstats)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(args)
        return
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        parser.error(f"unknown engine(s): {', '.join(unknown)}")
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    databases = prepare_databases(args.schools, engines)
    log("Export for the baseline query (Parquet) …")
    export = export_parquet()
    log("Baseline: the hand-written DuckDB query …")
    base = run_analysis_child("baseline", args.year, False)
    if "error" in base:
        raise SystemExit(base["error"])
    results = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine(), "schools": args.schools,
               "year": args.year, "profiled": args.profile, "databases": databases, "export": export,
               "baseline": base, "engines": {}}
    runs = []
    for engine in engines:
        if engine == "duckdb":  # the first run exports (and keeps the export), the second reads it
            shutil.rmtree(SQLITE_DIR / EXPORT_CACHE_DIR, ignore_errors=True)
            runs += [("duckdb", "duckdb, export made"), ("duckdb", "duckdb, export kept")]
        else:
            runs.append((engine, engine))
    for engine, label in runs:
        log(f"run_analysis on {label} …")
        result = run_analysis_child(engine, args.year, args.profile)
        if "seconds" in result:
            result["ratio_to_query"] = result["seconds"] / base["seconds"]
        results["engines"][label] = result
    for name in ("analysis-results.json", f"analysis-results-s{args.schools}.json"):
        (BENCH_DIR / name).write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str),
                                      encoding="utf-8")
    print(report(results))
    print(f"\nResults: {BENCH_DIR / 'analysis-results.json'}")


if __name__ == "__main__":
    main()
