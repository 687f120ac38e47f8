"""Stage 2's pages are kept whole per user and data version (core.page_cache): the second request of the
same page by the same user is answered from the cache with the same bytes, and anything the page shows
that changes (an upload, an organisation's name, the acting role, the language, the year) or a message
waiting for the user gives a freshly rendered page."""

from __future__ import annotations

import pytest
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.messages.storage.fallback import FallbackStorage
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from metodist.collection.models import Upload, UploadStatus
from metodist.core.models import Role, RoleAssignment
from metodist.core.page_cache import page_key

PAGE = "/analysis/"


@pytest.fixture
def methodologist(region_tree):
    user = get_user_model().objects.create_user("metod", password="x", first_name="Мария", last_name="Иванова")
    RoleAssignment.objects.create(user=user, role=Role.METHODOLOGIST, organisation=region_tree["mun1"])
    client = Client()
    client.force_login(user)
    client.get(PAGE)  # the first answer sets the CSRF cookie (and so is not kept)
    return user, client


def _queries(client, url=PAGE):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_the_same_page_is_answered_from_the_cache(methodologist, region_tree):
    _user, client = methodologist
    first, rendered = _queries(client)
    second, kept = _queries(client)
    assert second == first
    assert kept < rendered, (kept, rendered)
    assert "Район 1" in second


def test_what_the_page_shows_changing_gives_a_new_page(methodologist, region_tree):
    _user, client = methodologist
    before, _n = _queries(client)
    region_tree["mun1"].short_name = "Переименованный район"
    region_tree["mun1"].save()
    renamed, _n = _queries(client)
    assert "Переименованный район" in renamed and renamed != before
    Upload.objects.create(file_name="форма.xlsx", checksum="0" * 64, format="vpr_form", status=UploadStatus.IMPORTED)
    _page, rendered = _queries(client)
    _page, kept = _queries(client)
    assert kept < rendered  # the upload moved the results' signature: rendered again, then kept again


def test_keys_differ_by_user_role_language_year_and_address(methodologist, region_tree):
    user, client = methodologist
    factory = RequestFactory()

    def request(path=PAGE, who=user, language="ru", acting=None, roles=None):
        from django.contrib.sessions.backends.db import SessionStore
        from django.utils import translation

        req = factory.get(path)
        req.user = who
        req.session = SessionStore()
        req.META["CSRF_COOKIE"] = "s" * 32
        req._messages = FallbackStorage(req)  # none waiting
        req.roles = roles if roles is not None else list(RoleAssignment.objects.filter(user=who))
        who.metodist_acting = acting if acting is not None else req.roles[0] if req.roles else None
        with translation.override(language):
            return page_key(req)

    other = get_user_model().objects.create_user("other", password="x")
    RoleAssignment.objects.create(user=other, role=Role.METHODOLOGIST, organisation=region_tree["mun1"])
    base = request()
    assert base == request()  # the same request, the same key
    assert request(who=other) != base
    assert request(language="en") != base
    assert request(path=PAGE + "?year=2020") != base
    assert request(path="/analysis/reports/") != base
    second = RoleAssignment.objects.create(user=user, role=Role.SCHOOL_ADMIN, organisation=region_tree["school11"])
    assert request(acting=second) != request()


def test_nothing_is_kept_with_a_message_waiting_or_for_anonymous_users(methodologist):
    req = RequestFactory().get(PAGE)
    req.user = AnonymousUser()
    assert page_key(req) is None
    _user, client = methodologist
    _queries(client)  # kept
    # a message waiting in the cookie, as the view that made it leaves it
    client.cookies["messages"] = CookieStorage(RequestFactory().get("/"))._encode(
        [Message(messages.SUCCESS, "Файл загружен")])
    shown, _n = _queries(client)
    assert "Файл загружен" in shown  # not the kept page without it
    again, _n = _queries(client)
    assert "Файл загружен" not in again  # shown once, as Django's messages are, and not kept with the page


def test_a_watched_save_moves_the_version_at_once_and_again_on_commit(region_tree, django_capture_on_commit_callbacks):
    """At once, so the writing request reads its change; on commit, so a page another process rendered from
    the data before the commit is not kept under the new version."""
    from metodist.core import cycle

    generation = lambda: cycle.version_text().split("|")[0]  # noqa: E731
    start = int(generation())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        region_tree["school11"].short_name = "Школа № 1 имени Пушкина"
        region_tree["school11"].save()
        assert int(generation()) == start + 1
    assert len(callbacks) == 1
    assert int(generation()) == start + 2
