"""A person at the browser: signs in as each role, finds the cycle, changes the language, signs out."""

import pytest

pytestmark = pytest.mark.e2e
ROLES = ["region_admin", "methodologist", "school_admin", "association_head", "teacher", "viewer"]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_signs_in_and_sees_the_cycle(page, role, sign_in, screenshot):
    sign_in(page, role)
    assert page.locator("nav.cycle").is_visible()
    stages = page.locator("nav.cycle li")
    assert stages.count() == 6
    assert page.locator("h1").count() == 1
    screenshot(page, f"home-{role}")
    page.locator("header form button.linkish", has_text="Выйти").click()
    page.wait_for_url("**/login/")


def test_wrong_password_is_refused_in_russian(page):
    page.goto(page.base + "/login/")
    page.fill("#id_username", "methodologist")
    page.fill("#id_password", "не тот пароль")
    page.click("main button[type=submit]")
    assert page.locator("[role=alert]").inner_text().startswith("Пожалуйста, введите правильные")


def test_language_can_be_switched_to_english_and_back(page, sign_in):
    sign_in(page, "methodologist")
    assert page.locator("html").get_attribute("lang") == "ru"
    page.locator("header button[value=en]").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    page.locator("header button[value=ru]").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "ru"


def test_phone_width_keeps_the_page_usable(browser, server, sign_in, screenshot):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.base = server["url"]
    sign_in(page, "school_admin")
    # nothing overflows the screen sideways except the stages strip, which scrolls
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1
    screenshot(page, "home-school_admin-phone")
    context.close()
