"""Russian by default whatever the browser asks; English when chosen; static files served by the project."""

import pytest


@pytest.mark.django_db
def test_russian_by_default_even_for_an_english_browser(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "ru"
    assert "Что загружено" in response.content.decode()


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
