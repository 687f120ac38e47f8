"""Import benchmark: a region's ВПР forms into SQLite and PostgreSQL, against python-calamine's bare parse.

    python -m benchmarks.import_region [--schools 600] [--engines sqlite,postgres] [--profile]

1. Generate (or find cached) the files of `benchmarks.generate`: one ВПР form per school and work
   (600 schools × 10 works = 6,000 files, 300,000 works, ≈ 4.8 million task scores), one regional
   file (vpr-regional layout, ≈ 25,000 works) and one region-wide ВПР form (≈ 25,000 works).
2. Baseline, in a child process: python-calamine reads every form's sheet `Протокол`
   (`CalamineWorkbook.from_path(…).get_sheet_by_name("Протокол").to_python()`), nothing else.
3. Per engine, in a child process of its own (Django settings are per process): a fresh database
   (SQLite file under var/bench/sqlite/; PostgreSQL database `metodist_bench`, dropped and recreated),
   migrations and shipped specifications, the region's registry written with the ORM, then
   `import_file()` for every form, as the CLI does it (format and work detected from the file). Then
   the regional file and the region-wide form, each timed alone against its own bare read.
4. A table of figures and ratios on stdout, and var/bench/results.json.

Figures: wall seconds, works/s, task scores/s, peak RSS of the child (ru_maxrss), the resident set
after the first 10 % of the files and at the end (memory bounded by one file shows as equal numbers),
and import time ÷ bare-parse time.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.generate import BENCH_DIR, ROOT, Params, generate

POSTGRES_URL = os.environ.get("METODIST_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/metodist_bench")
ENGINES = ("sqlite", "postgres")
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """The resident set of this process now, in MiB."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE / 2**20


def peak_mb() -> float:
    """The peak resident set of this process, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- children ---------------------------------------------------------------------------------------

def bare_parse(files: list[Path]) -> dict:
    """python-calamine alone: every file's `Протокол` rows as Python values."""
    from python_calamine import CalamineWorkbook

    started = time.perf_counter()
    rows = cells = 0
    for path in files:
        table = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Протокол").to_python()
        rows += len(table) - 1
        cells += sum(len(r) for r in table)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "files": len(files), "rows": rows, "cells": cells, "peak_rss_mb": peak_mb()}


def bare_single(path: Path) -> float:
    started = time.perf_counter()
    if path.suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as fh:
            list(csv.reader(fh, delimiter=";"))
    else:
        from python_calamine import CalamineWorkbook

        CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Протокол").to_python()
    return time.perf_counter() - started


def fresh_database(engine: str) -> None:
    if engine == "postgres":
        import psycopg

        base, _sep, name = POSTGRES_URL.rpartition("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    else:
        data_dir = Path(os.environ["METODIST_DATA_DIR"])
        for suffix in ("", "-wal", "-shm"):
            (data_dir / f"metodist.sqlite3{suffix}").unlink(missing_ok=True)


def register_region(manifest: dict) -> None:
    """The registry, as a region would load it before the results: region, municipalities, schools."""
    from metodist.core.models import Organisation, OrganisationKind

    code, name = manifest["region"]
    region = Organisation.objects.create(kind=OrganisationKind.REGION, code=code, short_name=name, full_name=name)
    municipalities = {}
    for code, name in manifest["municipalities"]:
        municipalities[code] = Organisation.objects.create(
            kind=OrganisationKind.MUNICIPALITY, code=code, short_name=name, full_name=name, parent=region)
    for code, name, municipality in manifest["schools"]:
        Organisation.objects.create(kind=OrganisationKind.SCHOOL, code=code, short_name=name, full_name=name,
                                    parent=municipalities[municipality])


def import_engine(engine: str, data_dir: Path, manifest: dict, *, profile: bool, single: bool) -> dict:
    fresh_database(engine)
    from metodist.bootstrap import ensure_database

    started = time.perf_counter()
    ensure_database()
    result: dict = {"engine": engine, "setup_seconds": time.perf_counter() - started}
    from django.db import connection

    result["server"] = f"{connection.vendor} {connection.Database.sqlite_version}" if engine == "sqlite" else (
        f"{connection.vendor} {connection.cursor().connection.info.server_version}")
    started = time.perf_counter()
    register_region(manifest)
    result["registry_seconds"] = time.perf_counter() - started

    from metodist.collection.importing import ImportOptions, import_file

    files = [data_dir / f for f in manifest["files"]]
    tenth = max(1, len(files) // 10)
    works = scores = absent = 0
    failures: list[dict] = []
    samples = []
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    rss_start = rss_mb()
    started = time.perf_counter()
    for index, path in enumerate(files, 1):
        outcome = import_file(path, ImportOptions())
        if outcome.status not in ("imported", "imported_partly"):
            failures.append({"file": path.name, "status": outcome.status, "message": outcome.message,
                             "errors": [str(p) for p in outcome.errors[:3]]})
        works += outcome.counts.get("works_imported", 0)
        absent += outcome.counts.get("absent", 0)
        scores += outcome.counts.get("task_scores", 0)
        if index % tenth == 0 or index == len(files):
            elapsed = time.perf_counter() - started
            samples.append({"files": index, "seconds": round(elapsed, 2), "rss_mb": round(rss_mb(), 1),
                            "peak_rss_mb": round(peak_mb(), 1)})
            log(f"  [{engine}] {index}/{len(files)} files, {works} works, {elapsed:.0f} s, "
                f"RSS {rss_mb():.0f} MB")
    seconds = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        out = BENCH_DIR / f"profile-{engine}.pstats"
        profiler.dump_stats(str(out))
        result["profile"] = str(out)
    result["forms"] = {
        "files": len(files), "seconds": seconds, "works": works, "absent": absent, "task_scores": scores,
        "works_per_s": works / seconds, "task_scores_per_s": scores / seconds,
        "rss_start_mb": rss_start, "rss_after_10pct_mb": samples[0]["rss_mb"], "rss_end_mb": rss_mb(),
        "peak_rss_mb": peak_mb(), "samples": samples, "failures": len(failures), "failure_examples": failures[:5],
    }
    if single:
        for key, assessment in (("regional", manifest["regional"]["assessment"]), ("region_form", None)):
            path = data_dir / manifest[key]["path"]
            bare = bare_single(path)
            before_peak, before_rss = peak_mb(), rss_mb()
            started = time.perf_counter()
            outcome = import_file(path, ImportOptions(assessment=assessment))
            seconds = time.perf_counter() - started
            counts = outcome.counts
            result[key] = {
                "file": path.name, "format": outcome.format, "status": outcome.status, "message": outcome.message,
                "seconds": seconds, "bare_seconds": bare, "works": counts.get("works_imported", 0),
                "task_scores": counts.get("task_scores", 0),
                "works_per_s": counts.get("works_imported", 0) / seconds,
                "rss_before_mb": before_rss, "peak_before_mb": before_peak, "peak_after_mb": peak_mb(),
                "errors": [str(p) for p in outcome.errors[:3]],
            }
            log(f"  [{engine}] {path.name}: {outcome.status}, {counts.get('works_imported', 0)} works, {seconds:.1f} s")
    from metodist.collection.models import TaskScore, Work

    result["database_counts"] = {"works": Work.objects.count(), "task_scores": TaskScore.objects.count()}
    return result


def child_main(args) -> None:
    data_dir = Path(args.data)
    manifest = json.loads((data_dir / "manifest.json").read_text(encoding="utf-8"))
    if args.child == "bare":
        result = bare_parse([data_dir / f for f in manifest["files"]])
    else:
        result = import_engine(args.child, data_dir, manifest, profile=args.profile, single=not args.no_single)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


def run_child(mode: str, data_dir: Path, *, profile: bool, single: bool) -> dict:
    out = BENCH_DIR / f"child-{mode}.json"
    out.unlink(missing_ok=True)
    env = dict(os.environ)
    env["METODIST_DATA_DIR"] = str(BENCH_DIR / mode)
    env.pop("METODIST_DATABASE_URL", None)
    if mode == "postgres":
        env["METODIST_DATABASE_URL"] = POSTGRES_URL
    command = [sys.executable, "-m", "benchmarks.import_region", "--child", mode, "--data", str(data_dir),
               "--out", str(out)]
    if profile:
        command.append("--profile")
    if not single:
        command.append("--no-single")
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, env=env)
    if completed.returncode != 0 or not out.exists():
        return {"error": f"the {mode} run failed (exit code {completed.returncode})"}
    result = json.loads(out.read_text(encoding="utf-8"))
    result["process_seconds"] = time.perf_counter() - started
    return result


# --- the report -------------------------------------------------------------------------------------

def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "platform": platform.platform()}


def report(results: dict) -> str:
    m = results["manifest"]
    bare = results["bare_parse"]
    lines = [
        f"Region: {m['params']['schools']} schools, {m['file_count']} forms, {m['forms']['works']:,} works, "
        f"{m['forms']['task_scores']:,} task scores ({m['bytes'] / 1e6:.0f} MB of files); "
        f"{results['machine']['cpus']} CPUs, {results['machine']['cpu']}",
        "",
        f"{'run':<34}{'seconds':>10}{'works/s':>10}{'scores/s':>11}{'RSS 10%':>9}{'RSS end':>9}{'peak':>8}"
        f"{'× bare':>8}",
        f"{'calamine bare parse, all forms':<34}{bare['seconds']:>10.1f}{m['forms']['works'] / bare['seconds']:>10,.0f}"
        f"{m['forms']['task_scores'] / bare['seconds']:>11,.0f}{'':>9}{'':>9}{bare['peak_rss_mb']:>8.0f}{1:>8.1f}",
    ]
    for engine, result in results["engines"].items():
        if "error" in result:
            lines.append(f"{engine + ': ' + result['error']}")
            continue
        f = result["forms"]
        lines.append(
            f"{'import_file, all forms, ' + engine:<34}{f['seconds']:>10.1f}{f['works_per_s']:>10,.0f}"
            f"{f['task_scores_per_s']:>11,.0f}{f['rss_after_10pct_mb']:>9.0f}{f['rss_end_mb']:>9.0f}"
            f"{f['peak_rss_mb']:>8.0f}{f['seconds'] / bare['seconds']:>8.1f}")
    lines.append("")
    lines.append(f"{'single file':<34}{'seconds':>10}{'works':>10}{'works/s':>11}{'bare s':>9}{'× bare':>9}"
                 f"{'peak':>8}")
    for engine, result in results["engines"].items():
        for key, label in (("regional", "regional CSV"), ("region_form", "region-wide form")):
            s = result.get(key)
            if not s:
                continue
            if s["status"] not in ("imported", "imported_partly"):
                lines.append(f"{label + ', ' + engine:<34} {s['status']}: {s['message']}")
                continue
            lines.append(f"{label + ', ' + engine:<34}{s['seconds']:>10.1f}{s['works']:>10,}{s['works_per_s']:>11,.0f}"
                         f"{s['bare_seconds']:>9.2f}{s['seconds'] / s['bare_seconds']:>9.1f}{s['peak_after_mb']:>8.0f}")
    for engine, result in results["engines"].items():
        f = result.get("forms") or {}
        if f.get("failures"):
            lines.append(f"{engine}: {f['failures']} files not imported, e.g. {f['failure_examples'][0]}")
    lines.append("")
    lines.append("RSS in MiB (resident set after the first 10 % of the forms, at the end; peak = ru_maxrss of the "
                 "child after the forms, or after that single file); × bare = import seconds ÷ calamine's bare parse of the same files, same run.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Region-scale import benchmark (see benchmarks/README.md).")
    parser.add_argument("--schools", type=int, default=600, help="schools in the region (default 600: full size)")
    parser.add_argument("--works-per-file", type=int, default=50)
    parser.add_argument("--single-works", type=int, default=None,
                        help="works of the regional file and of the region-wide form (default 25,000 × schools/600)")
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--profile", action="store_true",
                        help="run the form imports under cProfile (slower; writes var/bench/profile-<engine>.pstats)")
    parser.add_argument("--no-single", action="store_true", help="skip the two single large files")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(args)
        return
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        parser.error(f"unknown engine(s): {', '.join(unknown)}")
    params = Params.scaled(args.schools, args.works_per_file, args.single_works)
    log(f"Files for {params.key()} …")
    data_dir = generate(params)
    manifest = json.loads((data_dir / "manifest.json").read_text(encoding="utf-8"))
    log(f"  {data_dir} ({len(manifest['files'])} forms)")
    log("Bare parse (python-calamine) …")
    bare = run_child("bare", data_dir, profile=False, single=False)
    results = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine(), "profiled": args.profile,
        "manifest": {k: v for k, v in manifest.items() if k not in ("files", "schools", "municipalities")},
        "data_dir": str(data_dir), "bare_parse": bare, "engines": {},
    }
    for engine in engines:
        log(f"Import into {engine} …")
        results["engines"][engine] = run_child(engine, data_dir, profile=args.profile, single=not args.no_single)
    results["manifest"]["file_count"] = len(manifest["files"])
    for result in results["engines"].values():
        if "forms" in result:
            result["ratio_to_bare_parse"] = result["forms"]["seconds"] / bare["seconds"]
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    for name in ("results.json", f"results-s{params.schools}.json"):
        (BENCH_DIR / name).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(report(results))
    print(f"\nResults: {BENCH_DIR / 'results.json'}")


if __name__ == "__main__":
    main()
