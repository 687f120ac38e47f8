"""Web benchmark: 20 concurrent users over the dashboard and report pages of a region-scale database on
PostgreSQL, against Django's bare «ok» view measured in the same run.

    python -m benchmarks.web_region [--schools 600] [--year 2020] [--users 20] [--seconds 10]

1. The PostgreSQL database of `benchmarks.import_region` (`metodist_bench`) is reused when it holds the
   region of `--schools` schools (otherwise that benchmark's import step runs first), migrated, and the
   year's analysis is run once when no finished run of it is stored (not timed: it is what `make demo` or
   an administrator does once after an import).
2. Users of the benchmark (a region administrator, a methodologist of the first municipality, a deputy
   head of its first school) are made through `metodist manage shell`, and `metodist serve` is started
   on a free loopback port (gunicorn, its default number of processes, no task worker).
3. Each user signs in through the sign-in form. Every page is requested once cold (the first request of a
   page after an analysis computes and caches its figures: that time is printed too), then loaded by
   `wrk` with `--users` connections for `--seconds` seconds: p50, p95, p99 latency, requests per second,
   errors. The baseline is the same load on `/health/`, a view that returns «ok» through every
   middleware; each page's p50 is printed as a ratio to it.
4. A table on stdout and everything in var/bench/web-results.json.

`wrk` (Debian package `wrk`) is installed when missing and we may (root + apt).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from benchmarks.analysis_region import engine_env, prepare_databases
from benchmarks.generate import BENCH_DIR, ROOT
from benchmarks.import_region import log, machine

PASSWORD = "bench-web-password"
METODIST = str(Path(sys.executable).with_name("metodist"))

#: wrk's report: the latency percentiles (microseconds) and totals, as one JSON line
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
                 + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'WRKJSON {"requests": %d, "seconds": %.3f, "p50": %.1f, "p95": %.1f, "p99": %.1f, "max": %.1f, '
    .. '"errors": %d, "non_2xx": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, errors, summary.errors.status))
end
"""

USERS_SCRIPT = """
from django.contrib.auth import get_user_model
from metodist.core.models import Organisation, OrganisationKind, RoleAssignment
region = Organisation.objects.filter(kind=OrganisationKind.REGION).order_by('code').first()
municipality = Organisation.objects.filter(kind=OrganisationKind.MUNICIPALITY).order_by('code').first()
school = Organisation.objects.filter(kind=OrganisationKind.SCHOOL, parent=municipality).order_by('code').first()
for name, role, organisation in (('bench_region', 'region_admin', region),
                                 ('bench_methodologist', 'methodologist', municipality),
                                 ('bench_school', 'school_admin', school)):
    user, _ = get_user_model().objects.get_or_create(username=name)
    user.set_password('%s')
    user.save()
    RoleAssignment.objects.get_or_create(user=user, role=role, organisation=organisation)
from metodist.reference.models import Assessment
assessment = Assessment.objects.filter(year=%d + 1, works__isnull=False).order_by('code').first()
print('BENCH', region.code, municipality.code, school.code, assessment.code)
"""


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("Installing wrk (Debian package) …")
        subprocess.run(["apt-get", "update", "-qq"], check=False, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed and cannot be installed here: apt-get install wrk")
    return found


def ensure_analysis(env: dict, year: int) -> dict:
    check = ("from metodist.analysis.models import AnalysisRun, RunStatus\n"
             f"print('RUNS', AnalysisRun.objects.filter(academic_year__start_year={year}, status=RunStatus.DONE).count())")
    out = subprocess.run([METODIST, "manage", "shell", "-c", check], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True).stdout
    runs = int(re.search(r"RUNS (\d+)", out).group(1))
    if runs:
        return {"analysis": "reused"}
    log(f"The analysis of {year} (once, not timed) …")
    started = time.perf_counter()
    subprocess.run([METODIST, "analyse", "--year", str(year)], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return {"analysis": "run", "analysis_seconds": round(time.perf_counter() - started, 1)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict, port: int) -> subprocess.Popen:
    log_file = (BENCH_DIR / "web-server.log").open("w")
    process = subprocess.Popen([METODIST, "serve", "--addr", f"127.0.0.1:{port}", "--no-worker"], cwd=ROOT,
                               env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=2) as response:
                if response.status == 200:
                    return process
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("The server did not start: see var/bench/web-server.log")
        time.sleep(0.5)


def sign_in(base: str, username: str) -> str:
    """Through the sign-in form, as a browser would; the session cookie."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"username": username, "password": PASSWORD,
                                   "csrfmiddlewaretoken": token}).encode()
    request = urllib.request.Request(base + "/login/", data=data, headers={"Referer": base + "/login/"})
    opener.open(request).read()
    cookies = {c.name: c.value for c in jar}
    if "sessionid" not in cookies:
        raise SystemExit(f"{username} could not sign in")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def cold(base: str, path: str, cookie: str) -> dict:
    request = urllib.request.Request(base + path, headers={"Cookie": cookie})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        body = response.read()
        status = response.status
    return {"status": status, "ms": round((time.perf_counter() - started) * 1000, 1), "bytes": len(body)}


def load(wrk: str, script: str, base: str, path: str, cookie: str, users: int, seconds: int) -> dict:
    threads = max(1, min(users, 2))
    command = [wrk, "-t", str(threads), "-c", str(users), "-d", f"{seconds}s", "--timeout", "30s",
               "-s", script, "-H", f"Cookie: {cookie}", base + path]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    figures = json.loads(out.split("WRKJSON ", 1)[1].splitlines()[0])
    return {"p50_ms": round(figures["p50"] / 1000, 1), "p95_ms": round(figures["p95"] / 1000, 1),
            "p99_ms": round(figures["p99"] / 1000, 1), "max_ms": round(figures["max"] / 1000, 1),
            "rps": round(figures["requests"] / figures["seconds"], 1), "requests": figures["requests"],
            "errors": figures["errors"], "non_2xx": figures["non_2xx"]}


def pages(codes: dict) -> list[tuple[str, str, str]]:
    """(name, user, path) of what is measured."""
    region, municipality, school, work = codes["region"], codes["municipality"], codes["school"], codes["work"]
    year = codes["year"]
    return [
        ("dashboard: region", "bench_region", "/analysis/"),
        ("dashboard: municipality", "bench_methodologist", "/analysis/"),
        ("dashboard: school", "bench_school", "/analysis/"),
        ("dashboard: a school, by a methodologist", "bench_methodologist", f"/analysis/org/{school}/"),
        ("standard report: region", "bench_region", f"/analysis/reports/standard/?org={region}&assessment={work}"),
        ("standard report: municipality", "bench_methodologist",
         f"/analysis/reports/standard/?org={municipality}&assessment={work}"),
        ("standard report: school", "bench_school", f"/analysis/reports/standard/?org={school}&assessment={work}"),
        ("item analysis: municipality", "bench_methodologist",
         f"/analysis/reports/items/?org={municipality}&assessment={work}"),
        ("trend: municipality", "bench_methodologist", f"/analysis/reports/trends/?org={municipality}&assessment={work}"),
        ("deficits: municipality", "bench_methodologist", f"/analysis/reports/deficits/?org={municipality}"),
        ("home page: municipality", "bench_methodologist", "/"),
        ("practice library: municipality", "bench_methodologist", "/practices/"),
        ("mentor schools: municipality", "bench_methodologist", f"/practices/mentor-schools/?year={year}"),
        ("mentor schools: region", "bench_region", f"/practices/mentor-schools/?year={year}"),
        ("roadmaps: municipality", "bench_methodologist", "/planning/"),
        ("help: municipality", "bench_methodologist", "/assistance/"),
        ("monitoring: municipality", "bench_methodologist", "/monitoring/"),
    ]


def report(results: dict) -> str:
    base = results["baseline"]
    lines = [f"Web benchmark: {results['schools']} schools on PostgreSQL, {results['users']} concurrent users, "
             f"{results['seconds']} s a page, {results['server_processes']} server processes",
             f"{'page':44} {'cold ms':>8} {'p50':>7} {'p95':>7} {'p99':>7} {'req/s':>7} {'×hello':>7} {'err':>4}",
             f"{'/health/ (bare view, baseline)':44} {'':>8} {base['p50_ms']:7.1f} {base['p95_ms']:7.1f} "
             f"{base['p99_ms']:7.1f} {base['rps']:7.1f} {1:7.1f} {base['errors']:4d}"]
    for row in results["pages"]:
        lines.append(f"{row['name'][:44]:44} {row['cold']['ms']:8.0f} {row['p50_ms']:7.1f} {row['p95_ms']:7.1f} "
                     f"{row['p99_ms']:7.1f} {row['rps']:7.1f} {row['ratio_p50']:7.1f} {row['errors']:4d}")
    end = results.get("baseline_end")
    if end:
        lines.append(f"{'/health/ again, after the pages':44} {'':>8} {end['p50_ms']:7.1f} {end['p95_ms']:7.1f} "
                     f"{end['p99_ms']:7.1f} {end['rps']:7.1f} {end['p50_ms'] / max(base['p50_ms'], 0.1):7.1f} "
                     f"{end['errors']:4d}")
    # the aim is the issue's: every dashboard and report page (stage 2); the pages of stages 3-6 are shown beside
    stage2 = [r for r in results["pages"] if r["name"].split(":")[0] in STAGE_2]
    others = [r for r in results["pages"] if r not in stage2]
    for label, rows in (("dashboard and report pages", stage2), ("other pages (stages 3-6)", others)):
        if rows:
            worst = max(rows, key=lambda r: r["p95_ms"])
            lines.append(f"worst p95 of the {label}: {worst['p95_ms']} ms ({worst['name']})")
    lines.append("aim: p95 under 300 ms for every dashboard and report page")
    return "\n".join(lines)


#: the kinds of page (the first word of a page's name above) that are stage 2's dashboards and reports
STAGE_2 = ("dashboard", "standard report", "item analysis", "trend", "deficits")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Web benchmark (see benchmarks/README.md).")
    parser.add_argument("--schools", type=int, default=600)
    parser.add_argument("--year", type=int, default=2020, help="academic year of the analysis (default 2020)")
    parser.add_argument("--users", type=int, default=20, help="concurrent users (connections), default 20")
    parser.add_argument("--seconds", type=int, default=10, help="seconds of load a page, default 10")
    args = parser.parse_args(argv)

    wrk = wrk_binary()
    results: dict = {"machine": machine(), "schools": args.schools, "users": args.users, "seconds": args.seconds}
    results["databases"] = prepare_databases(args.schools, ["postgres"])
    env = engine_env("postgres")
    results.update(ensure_analysis(env, args.year))
    made = subprocess.run([METODIST, "manage", "shell", "-c", USERS_SCRIPT % (PASSWORD, args.year)], cwd=ROOT,
                          env=env, capture_output=True, text=True, check=True).stdout
    region, municipality, school, work = re.search(r"BENCH (\S+) (\S+) (\S+) (\S+)", made).groups()
    codes = {"region": region, "municipality": municipality, "school": school, "work": work, "year": args.year}
    results["codes"] = codes

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(env, port)
    results["server_processes"] = min(8, 2 * (os.cpu_count() or 1))
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(WRK_SCRIPT)
        cookies = {name: sign_in(base, name) for name in ("bench_region", "bench_methodologist", "bench_school")}
        log(f"Baseline: /health/ under {args.users} users (after 3 s of warm-up) …")
        cold(base, "/health/", cookies["bench_methodologist"])
        # the server processes' first seconds (imports, connections) are not the bare view's cost
        load(wrk, script.name, base, "/health/", cookies["bench_methodologist"], args.users, 3)
        results["baseline"] = load(wrk, script.name, base, "/health/", cookies["bench_methodologist"], args.users,
                                   args.seconds)
        results["pages"] = []
        for name, user, path in pages(codes):
            first = cold(base, path, cookies[user])
            if first["status"] != 200:
                raise SystemExit(f"{path}: HTTP {first['status']}")
            log(f"{name}: cold {first['ms']:.0f} ms; {args.users} users for {args.seconds} s …")
            row = {"name": name, "path": path, "cold": first,
                   **load(wrk, script.name, base, path, cookies[user], args.users, args.seconds)}
            row["ratio_p50"] = round(row["p50_ms"] / max(results["baseline"]["p50_ms"], 0.1), 1)
            results["pages"].append(row)
        log("Baseline again, after the pages …")
        results["baseline_end"] = load(wrk, script.name, base, "/health/", cookies["bench_methodologist"],
                                       args.users, args.seconds)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    text = report(results)
    print(text)
    (BENCH_DIR / "web-results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
