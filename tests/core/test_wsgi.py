"""The WSGI module imports every page's code when it loads (before `metodist serve` forks its processes),
not under each process's first request: that was 3 s of a region dashboard's first answer."""

import os
import subprocess
import sys


def test_loading_the_wsgi_application_imports_the_views(tmp_path):
    env = {**os.environ, "METODIST_DATA_DIR": str(tmp_path)}
    env.pop("METODIST_DATABASE_URL", None)  # no connection is made: SQLite's default will do
    probe = ("import sys; import metodist.wsgi; "
             "print(all(m in sys.modules for m in ('metodist.practices.views', 'metodist.analysis.report_views', "
             "'metodist.monitoring.views')))")
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "True"
