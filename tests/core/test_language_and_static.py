"""Russian by default whatever the browser asks; English when chosen; static files served by the project."""

import pytest


@pytest.mark.django_db
def test_russian_by_default_even_for_an_english_browser(client):
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "ru"
    assert "Вход в Методист" in response.content.decode()


@pytest.mark.django_db
def test_english_when_chosen(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/admin/login/")
    assert response["Content-Language"] == "en"
    assert "Password" in response.content.decode()


@pytest.mark.django_db
def test_admin_login_page_is_russian_and_its_css_is_served(client):
    page = client.get("/admin/login/")
    assert "Пароль" in page.content.decode()
    css = client.get("/static/admin/css/base.css")
    assert css.status_code == 200


@pytest.mark.django_db
def test_the_pages_own_assets_are_served_by_the_project(client):
    """htmx, the stylesheet and the chart library come from the installation itself, not from a CDN."""
    page = client.get("/login/").content.decode()
    assert "https://" not in page.replace('lang="', "")  # nothing loaded from outside
    for path in ("/static/core/metodist.css", "/static/core/charts.js", "/static/django_htmx/htmx-2.min.js",
                 "/static/vendor/vega/vega.min.js", "/static/vendor/vega-lite/vega-lite.min.js",
                 "/static/vendor/vega-embed/vega-embed.min.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert b"".join(response.streaming_content if response.streaming else [response.content])
