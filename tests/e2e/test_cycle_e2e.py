"""The closed cycle in the browser, as a methodologist new to Metodist would walk it on the demo: from the
problem fields of the 2024/2025 analysis to a municipal roadmap with an indicator the system measures,
discussed and approved; help assigned (a teacher enrolled in the course on that content element, a mentor
school for the low-results school); then the spring 2026 results of ВПР mathematics grade 6 arrive and are
uploaded, and the indicator gets its final value while the course's effect turns from «недостаточно
данных» into «помогло». The server's database lacks those results at the start (see `cycle_server`)."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.e2e

WORK_2025, WORK_2026 = "vpr-2025-ma-6", "vpr-2026-ma-6"


def truth(server) -> dict:
    return json.loads((server["data_dir"] / "demo" / "truth.json").read_text(encoding="utf-8"))


def upload(page, path, assessment: str) -> None:
    """A school's form as the method service sends it: the work, and the school (the file is named by it)."""
    page.goto(page.base + "/collection/uploads/")
    page.set_input_files("#id_file", str(path))
    page.select_option("#id_assessment", assessment)
    page.select_option("#id_school", path.stem)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/collection/uploads/\d+/$"))
    page.locator("#summary-title").wait_for(timeout=90_000)


def course_row(page, title: str):
    return page.locator("main table tr", has_text=title[:40]).first


def test_from_a_problem_field_to_a_measured_effect(cycle_page, cycle_server, sign_in, screenshot):
    page = cycle_page
    course = truth(cycle_server)["course"]
    sign_in(page, "methodologist")

    # 1. the analysis of 2024/2025: the municipality's problem fields, and a roadmap drawn from them
    page.goto(page.base + "/analysis/?year=2024")
    page.click("text=Составить муниципальную дорожную карту по проблемным полям")
    page.wait_for_url(re.compile(r"/planning/new/"))
    page.select_option("#id_subject", "ma")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/planning/\d+/$"))
    roadmap_url = page.url
    assert page.locator("#indicators tbody tr").count() >= 1  # the problem fields became measured goals

    # 2. a goal on the course's content element, measured by the system on the spring 2025 works
    page.click("text=Добавить показатель")
    page.select_option("#id_assessment", WORK_2025)
    page.fill("#id_content_element", course["element"])
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/planning/\d+/#indicators$"))
    goal = page.locator("#indicators tbody tr", has_text=f"элемент содержания {course['element']} ").last
    assert "2024/2025" in page.locator("#indicators thead").inner_text()
    assert re.search(r"\d+,\d", goal.inner_text())  # its baseline, measured

    # 3. discussed by the association and approved by the method service
    page.fill("textarea[name=protocol]", "Протокол заседания ГМО учителей математики № 1 от 28.08.2025")
    page.click("text=Отметить обсуждение")
    page.click("main button:has-text('Утвердить')")
    assert "утверждена" in page.locator("main").inner_text()
    screenshot(page, "planning-roadmap")

    # 3a. stage 3: from a problem field of the low-results school to the practices and the strong colleagues
    page.goto(page.base + "/analysis/org/edu900015/?year=2024")
    page.locator("main a:has-text('Практики и сильные коллеги по теме')").first.click()
    page.wait_for_url(re.compile(r"/practices/match/\d+/$"))
    assert "Кто силён по этой теме" in page.locator("main").inner_text()
    screenshot(page, "practices-match")

    # 3b. a mentor school for a low-results school, from the proposals of the 2024/2025 analysis
    page.goto(page.base + "/practices/mentor-schools/?year=2024")
    screenshot(page, "practices-mentor-schools")
    page.locator("main a.button:has-text('Закрепить')").first.click()
    page.wait_for_url(re.compile(r"/assistance/mentor-schools/new/\?"))
    assert page.locator("#id_school").input_value() and page.locator("#id_mentor_school").input_value()
    page.fill("#id_plan", "Взаимопосещение уроков математики; совместное заседание ШМО по проблемным полям ВПР")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/assistance/mentor-schools/\d+/$"))
    assert "Взаимопосещение" in page.locator("main").inner_text()

    # 3c. a teacher enrolled in the course on the content element
    page.goto(page.base + "/assistance/courses/")
    page.locator("main a", has_text=course["title"][:40]).first.click()
    page.wait_for_url(re.compile(r"/assistance/courses/\d+/$"))
    page.click("text=Записать учителей")
    page.wait_for_url(re.compile(r"/enrol/$"))
    first = page.locator("#id_teachers option").first
    teacher = first.inner_text().split(" (")[0].strip()
    page.select_option("#id_teachers", first.get_attribute("value"))
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/assistance/courses/\d+/#enrolments$"))
    assert "Записано на курс: 1." in page.locator("body").inner_text()
    assert teacher in page.locator("#enrolments").inner_text()

    # 4. the help: the course on this element, as the municipality sees it before the new results
    page.goto(page.base + "/monitoring/effects/")
    row = course_row(page, course["title"])
    assert "недостаточно данных" in row.inner_text()

    # 5. the spring 2026 results arrive, school by school
    folder = cycle_server["data_dir"] / "demo" / "files" / "vpr" / "2026" / WORK_2026
    files = sorted(folder.iterdir())
    assert files
    for path in files:
        upload(page, path, WORK_2026)

    # 6. the indicator has its final value, and the course's effect is measured
    page.goto(roadmap_url)
    assert "2025/2026" in page.locator("#indicators thead").inner_text()
    goal = page.locator("#indicators tbody tr", has_text=f"элемент содержания {course['element']} ").last
    assert "итоговое" in goal.inner_text()
    screenshot(page, "cycle-roadmap-after-import")
    page.goto(page.base + "/monitoring/tracks/")
    assert page.locator("main .badge").count() >= 1
    screenshot(page, "monitoring-tracks")
    page.goto(page.base + "/monitoring/cycle/?year=2025")
    assert "Начать следующий цикл" in page.locator("main").inner_text()
    screenshot(page, "monitoring-cycle")
    page.goto(page.base + "/monitoring/effects/")
    row = course_row(page, course["title"])
    assert "помогло" in row.inner_text()
    screenshot(page, "cycle-effects")
