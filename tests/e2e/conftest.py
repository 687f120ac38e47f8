"""End-to-end tests: Debian's Chromium driven by Playwright through the real pages of a real server.

The tests start the server themselves: a fresh data directory, `metodist demo --no-serve --scale 8` (the
demo municipality cut to its first eight schools, where every planted effect lives, with the analysis of
each year), then `metodist serve` on a free loopback port, with its background worker. On PostgreSQL
(`METODIST_DATABASE_URL` set, as `make test` does for its second run) the server gets a database of its
own, `<name>_e2e`, recreated each session. Set METODIST_SCREENSHOTS=DIR to keep screenshots of the pages.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("METODIST_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "demo-{role}"

# Playwright's synchronous API runs an event loop in this thread; the tests themselves never touch the
# database (the server is another process), but Django's guard would refuse fixtures that do.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_env(data_dir: Path, db_suffix: str = "_e2e") -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["METODIST_DATA_DIR"] = str(data_dir)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    url = os.environ.get("METODIST_DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        name = url.rsplit("/", 1)[1].split("?")[0] + db_suffix
        admin_url = re.sub(r"/[^/?]*(\?.*)?$", "/postgres", url)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        env["METODIST_DATABASE_URL"] = re.sub(r"/[^/?]*(\?.*)?$", f"/{name}", url)
    else:
        env.pop("METODIST_DATABASE_URL", None)
    return env


def _launch(tmp_path_factory, name: str, prepare: str | None = None, db_suffix: str = "_e2e"):
    """Build the demo in a fresh data directory, run `prepare` (Python for `metodist manage shell`) on its
    database, start `metodist serve`; yields the server's description, stops it afterwards."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM}: apt-get install chromium")
    data_dir = tmp_path_factory.mktemp(name)
    env = _server_env(data_dir, db_suffix)
    command = [sys.executable, "-m", "metodist"]
    built = subprocess.run([*command, "demo", "--no-serve", "--scale", "8"], env=env, capture_output=True,
                           text=True, timeout=900)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    if prepare:
        done = subprocess.run([*command, "manage", "shell", "-c", prepare], env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    port = _free_port()
    log = (data_dir / "server.log").open("w")
    process = subprocess.Popen([*command, "serve", "--addr", f"127.0.0.1:{port}"], env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/login/", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log.close()
            pytest.fail("The server did not start:\n" + (data_dir / "server.log").read_text()[-3000:])
        time.sleep(0.3)
    yield {"url": base, "data_dir": data_dir, "env": env}
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The base URL of a live Metodist with the demo loaded and analysed."""
    yield from _launch(tmp_path_factory, "e2e")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    """A fresh browser context (no cookies) at 1366×768; fails the test on any JavaScript error."""
    yield from _page(browser, server)


def _page(browser, server):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True,
                                  locale="ru-RU")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
            if response.status >= 500 or (response.status == 404 and "/static/" in response.url) else None)
    page.base = server["url"]
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def _sign_in(page, role: str) -> None:
    page.goto(page.base + "/login/")
    page.fill("#id_username", role)
    page.fill("#id_password", PASSWORD.format(role=role))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"^(?!.*/login/).*$"))


def _screenshot(page, name: str, *, full_page: bool = True) -> None:
    folder = os.environ.get("METODIST_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=full_page)


@pytest.fixture
def sign_in():
    """sign_in(page, role): through the sign-in form, as the demo user of that role."""
    return _sign_in


def _wait_for_charts(page, at_least: int = 1) -> int:
    page.wait_for_function(
        "n => { const c = document.querySelectorAll('.chart[data-spec]');"
        " return c.length >= n && [...c].every(e => ['true', 'error'].includes(e.dataset.drawn)); }",
        arg=at_least, timeout=30_000)
    charts = page.locator(".chart[data-spec]")
    assert page.locator(".chart[data-drawn=error]").count() == 0
    for i in range(charts.count()):
        assert charts.nth(i).locator("svg").count() >= 1
    return charts.count()


@pytest.fixture
def wait_for_charts():
    """wait_for_charts(page, at_least=1): every chart of the page drawn as SVG, none failed; their number."""
    return _wait_for_charts


@pytest.fixture
def screenshot():
    """screenshot(page, name): kept when METODIST_SCREENSHOTS names a folder (docs/screenshots holds the
    chosen ones)."""
    return _screenshot


#: the demo as it stands before the spring 2026 results of ВПР mathematics grade 6 arrive: their works,
#: uploads and the values measured on them removed (the files stay in the demo folder, to be uploaded)
BEFORE_SPRING_MA6 = """
from django.core.cache import cache
from metodist.analysis import report_cache
from metodist.collection.models import Upload, Work
from metodist.planning.models import IndicatorValue
Work.objects.filter(assessment__code="vpr-2026-ma-6").delete()
Upload.objects.filter(assessment__code="vpr-2026-ma-6").delete()
IndicatorValue.objects.filter(indicator__programme="VPR", indicator__subject__code="ma", indicator__grade=6,
                              year=2025).delete()
report_cache.clear()
cache.clear()
print("prepared")
"""


@pytest.fixture(scope="session")
def cycle_server(tmp_path_factory):
    """A live Metodist whose demo lacks the spring 2026 works of ВПР mathematics grade 6 (its own database)."""
    yield from _launch(tmp_path_factory, "e2e-cycle", BEFORE_SPRING_MA6, db_suffix="_e2e_cycle")


@pytest.fixture
def cycle_page(browser, cycle_server):
    yield from _page(browser, cycle_server)
