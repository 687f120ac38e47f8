"""The cache every server process of an installation shares: the `reports` alias of settings.CACHES when
there is one; otherwise the `default` one if it is anything but Django's per-process memory cache;
otherwise a file cache under DATA_DIR/cache/reports, which outlives a restart. Entries expire after a
week in any case.

What one process computes for a page (a report's figures, a dashboard's HTML, the cycle's stage figures)
is kept here so that the other processes do not compute it again, and a change recorded in one process
(`cycle.bump`) reaches the others.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings

TIMEOUT = 7 * 24 * 3600
LOCMEM = "django.core.cache.backends.locmem.LocMemCache"


@cache
def _file_cache():
    from django.core.cache.backends.filebased import FileBasedCache

    location = settings.DATA_DIR / "cache" / "reports"
    return FileBasedCache(str(location), {"TIMEOUT": TIMEOUT, "OPTIONS": {"MAX_ENTRIES": 20000}})


def shared_cache():
    from django.core.cache import caches

    configured = settings.CACHES
    if "reports" in configured:
        return caches["reports"]
    if configured.get("default", {}).get("BACKEND") not in (None, LOCMEM):
        return caches["default"]
    return _file_cache()
