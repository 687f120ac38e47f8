"""Stage 3 in the browser: a methodologist finds in the library the practice the course participants wrote
and sees its evidence drawn from their classes' results; a teacher describes her own practice (her school
and herself already filled in) and sees its evidence counted at once, not typed; the methodologist
publishes it for the region; the communities and a session with the problem fields it discussed."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e

VERDICTS = ("результаты выросли", "устойчиво выше муниципалитета", "не видно эффекта", "недостаточно данных")


def test_the_library_and_a_practice_with_its_evidence(page, sign_in, screenshot, wait_for_charts):
    sign_in(page, "methodologist")
    page.goto(page.base + "/practices/")
    screenshot(page, "practices-library")
    page.fill("main input[name=q]", "Моделирование условия")
    page.locator("main form.filters button[type=submit], main form button[type=submit]").first.click()
    page.locator("main table tbody a", has_text="Моделирование условия").first.click()
    page.wait_for_url(re.compile(r"/practices/\d+/$"))
    evidence = page.locator("section[aria-labelledby=evidence-title]")
    assert "результаты выросли" in evidence.inner_text()
    wait_for_charts(page)
    screenshot(page, "practices-practice")


def test_a_teacher_describes_a_practice_and_the_method_service_publishes_it(page, sign_in, screenshot):
    sign_in(page, "teacher")
    page.goto(page.base + "/practices/")
    page.click("text=Описать практику")
    page.wait_for_url(re.compile(r"/practices/new/"))
    assert page.locator("#id_school").input_value()  # her school, and she is the author
    assert page.locator("#id_authors option:checked").count() == 1
    page.fill("#id_title", "Взаимопроверка решений по образцу в парах")
    page.fill("#id_summary", "Ученики проверяют решения друг друга по образцу и критериям, затем исправляют свои.")
    first_element = page.locator("#id_content_elements option").first.get_attribute("value")
    page.select_option("#id_content_elements", [first_element])
    page.fill("#id_started_year", "2024")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/practices/\d+/$"))
    practice_url = page.url
    text = page.locator("main").inner_text()
    assert "подтверждение рассчитано по результатам" in text
    assert any(v in page.locator("section[aria-labelledby=evidence-title]").inner_text() for v in VERDICTS)
    assert page.locator("text=Опубликовать для региона").count() == 0  # a teacher does not publish

    page.context.clear_cookies()
    sign_in(page, "methodologist")
    page.goto(practice_url)
    page.click("text=Опубликовать для региона")
    page.wait_for_url(re.compile(r"/practices/\d+/$"))
    assert page.locator("text=Опубликовать для региона").count() == 0


def test_communities_and_a_session(page, sign_in, screenshot):
    sign_in(page, "methodologist")
    page.goto(page.base + "/practices/communities/")
    screenshot(page, "practices-communities")
    page.locator("main a[href*='/practices/communities/']").first.click()
    page.wait_for_url(re.compile(r"/practices/communities/[a-z]+/\d+/$"))
    page.locator("main a[href*='/practices/sessions/']").first.click()
    page.wait_for_url(re.compile(r"/practices/sessions/\d+/$"))
    assert page.locator("h1").count() == 1
    screenshot(page, "practices-session")
