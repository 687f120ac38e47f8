"""Whole pages of stage 2 kept for the user who asked, until what they show changes.

A dashboard or report page of stage 2 shows what an analysis run and the loaded results say: between two
uploads or runs, the same user asking for the same address gets the same page. Its parts are already
kept (report_cache: the figures, the rendered content); what is left per request is the frame, the
selectors and the template engine around them, 10–20 ms, which under twenty users on two CPUs is the
difference between a p95 of 200 and of 400 ms. So :func:`cached_page` keeps the whole HTML in the shared
cache under everything that decides it:

* who asks and as whom: the user (and the name the frame shows), his acting role and all his roles, the language, the CSRF secret of his
  browser (the page's forms carry a token made from it), the academic year of his session;
* what he asks: the full address and the htmx headers (a partial answer differs from the page);
* what the page shows: the results' signature (every upload), the cycle's version (the latest upload,
  analysis run and roadmap change) and the cycle's generation, which `cycle.bump` moves when a record of
  stages 3 and 5, a teacher's data, an organisation, a teacher, a role or an assessment is saved or deleted.

Not kept: anything but a 200 HTML answer to a GET, an answer that sets a cookie, a page with messages
waiting for the user (they are shown once), and requests of anonymous users or without a CSRF cookie.
"""

from __future__ import annotations

import hashlib
from functools import wraps

from django.http import HttpResponse
from django.utils import translation

from metodist.core.shared_cache import TIMEOUT, shared_cache

#: a new value starts a fresh set of keys (when the frame's templates change shape, for example)
FORMAT = "1"


def _has_messages(request) -> bool:
    from django.contrib.messages import get_messages

    return len(get_messages(request)) > 0  # len() reads them without marking them shown


def page_key(request) -> str | None:
    """The cache key of the page the request asks for, or None when it must not be kept."""
    from metodist.core import cycle
    from metodist.core.context import academic_year

    user = getattr(request, "user", None)
    if request.method != "GET" or user is None or not user.is_authenticated:
        return None
    secret = request.META.get("CSRF_COOKIE")
    if not secret or _has_messages(request):
        return None
    year = academic_year(request)  # also records ?year= in the session, as the page itself would
    acting = getattr(user, "metodist_acting", None)
    parts = [
        FORMAT, user.pk, user.is_superuser, user.get_full_name() or user.username, acting.pk if acting is not None else "-",
        ",".join(str(r.pk) for r in getattr(request, "roles", None) or []), translation.get_language() or "",
        secret, year, request.get_full_path(), request.headers.get("HX-Request", ""),
        request.headers.get("HX-Target", ""), cycle.results_signature(), cycle.version_text(),
    ]
    text = "\x1f".join(str(p) for p in parts)
    return "metodist:page:" + hashlib.sha1(text.encode()).hexdigest()


def cached_page(view):
    """Keep the view's HTML answers per :func:`page_key` (put it inside the sign-in and role checks)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        key = page_key(request)
        if key is None:
            return view(request, *args, **kwargs)
        cache = shared_cache()
        kept = cache.get(key)
        if kept is not None:
            content, content_type = kept
            return HttpResponse(content, content_type=content_type)
        response = view(request, *args, **kwargs)
        content_type = response.get("Content-Type", "")
        if (response.status_code == 200 and not response.streaming and not response.cookies
                and content_type.startswith("text/html") and not _has_messages(request)):
            cache.set(key, (response.content, content_type), TIMEOUT)
        return response

    return wrapped
