"""Stages 1 and 2 in the browser, as the people who use them: a deputy head uploads a form with mistakes and
sees every one listed with nothing imported, then the corrected form and its progress to the end; a
methodologist opens each report and sees its chart drawn, downloads the analytical report (DOCX) and a
table (XLSX); a teacher and a methodologist of another municipality are refused another school's pages and
API objects, by address and by id."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

pytestmark = pytest.mark.e2e

SCHOOL = "edu900001"  # the school of the demo's school_admin and teacher
OTHER_SCHOOL = "edu900002"
FORM = "vpr/2026/vpr-2026-ma-5/{school}.xlsx"


def demo_rows(server, school: str = SCHOOL) -> list[list]:
    path = server["data_dir"] / "demo" / "files" / FORM.format(school=school)
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()


def write_xlsx(path, rows: list[list]) -> str:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Протокол")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value != "":
                sheet.write(r, c, value)
    workbook.close()
    return str(path)


def scored_rows(rows: list[list]) -> list[int]:
    """Indexes of rows whose first task holds a number (pupils who wrote the work)."""
    first = rows[0].index("1 (1б)")
    return [i for i, row in enumerate(rows[1:], start=1) if isinstance(row[first], float)]


def upload(page, path: str, assessment: str = "vpr-2026-ma-5") -> None:
    """As a deputy head sends a school's form: the file, and the work it is of (a school's form does not
    name its work)."""
    page.goto(page.base + "/collection/uploads/")
    page.set_input_files("#id_file", path)
    page.select_option("#id_assessment", assessment)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/collection/uploads/\d+/$"))
    # the progress block polls until the background worker is done, then the summary replaces it
    page.locator("#summary-title").wait_for(timeout=60_000)


def test_a_form_with_errors_lists_every_one_and_imports_nothing(page, server, sign_in, screenshot, tmp_path):
    rows = demo_rows(server)
    header = rows[0]
    first, sixth = header.index("1 (1б)"), header.index("6 (2б)")
    pupils = scored_rows(rows)
    rows[pupils[0]][first] = 5.0  # the task is worth 1 point
    rows[pupils[3]][sixth] = 7.0  # worth 2
    rows.append(list(rows[pupils[1]]))  # the same pupil twice
    path = write_xlsx(tmp_path / "форма с ошибками.xlsx", rows)

    sign_in(page, "school_admin")
    upload(page, path)
    screenshot(page, "upload-errors")
    assert "Ничего не загружено" in page.locator("main").inner_text()
    assert page.locator("#errors-title").inner_text().startswith("3 ошибки")
    table = page.locator("section[aria-labelledby=errors-title] table").inner_text()
    # the spreadsheet rows of the two wrong scores and of the repeated pupil
    for spreadsheet_row in (pupils[0] + 1, pupils[3] + 1, len(rows)):
        assert re.search(rf"\b{spreadsheet_row}\b", table), spreadsheet_row
    assert "1 (1б)" in table and "6 (2б)" in table
    # and the offer to import the valid rows only, which the user did not take
    assert page.locator("button", has_text="Загрузить только верные строки").is_visible()


def test_a_corrected_form_imports_with_its_progress_to_the_end(page, server, sign_in, screenshot, tmp_path):
    rows = demo_rows(server)
    header = rows[0]
    second, total = header.index("2 (1б)"), header.index("Итого баллов")
    pupil = next(i for i in scored_rows(rows) if rows[i][second] == 0.0)
    rows[pupil][second] = 1.0
    rows[pupil][total] = float(rows[pupil][total]) + 1
    path = write_xlsx(tmp_path / "форма исправленная.xlsx", rows)

    sign_in(page, "school_admin")
    upload(page, path)
    assert page.locator("#upload-progress").count() == 0
    text = page.locator("main").inner_text()
    screenshot(page, "upload-done")
    assert page.locator(".badge").first.inner_text() == "загружен"
    assert "заменил загрузку" in text  # the corrected file replaced the demo's own form of this school
    # the history lists it first, by this user
    page.goto(page.base + "/collection/uploads/history/")
    first_row = page.locator("main table tbody tr").first.inner_text()
    assert "форма исправленная.xlsx" in first_row


@pytest.mark.parametrize("path", [
    "/analysis/reports/standard/?org=demo-m01&assessment=vpr-2026-ma-5",
    f"/analysis/reports/standard/?org={SCHOOL}&assessment=vpr-2026-ma-7",
    "/analysis/reports/items/?org=demo-m01&assessment=vpr-2026-ma-5",
    "/analysis/reports/trends/?org=demo-m01&assessment=vpr-2026-ma-5",
    "/analysis/reports/cohorts/?org=demo-m01&assessment=vpr-2025-ma-5&to=vpr-2026-ma-6",
    "/analysis/",
    f"/analysis/org/{SCHOOL}/",
])
def test_each_report_draws_its_charts(page, sign_in, screenshot, wait_for_charts, path):
    sign_in(page, "methodologist")
    response = page.goto(page.base + path)
    assert response.status == 200
    assert page.locator("h1").count() == 1
    wait_for_charts(page)
    name = re.sub(r"[^a-z0-9]+", "-", path.split("?")[0].strip("/").replace("analysis/", "")) or "dashboard"
    screenshot(page, name if "org=" not in path else f"{name}-{'school' if SCHOOL in path else 'municipality'}")


def test_the_analytical_report_and_a_table_download(page, sign_in):
    sign_in(page, "methodologist")
    page.goto(page.base + f"/analysis/reports/standard/?org={SCHOOL}&assessment=vpr-2026-ma-7")
    with page.expect_download() as info:
        page.locator("a", has_text="Скачать аналитическую справку (DOCX)").click()
    download = info.value
    assert download.suggested_filename.endswith(".docx")
    import docx

    document = docx.Document(download.path())
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Аналитическая справка" in text
    assert len(document.tables) >= 4

    with page.expect_download() as info:
        page.locator("a.download, a", has_text="Скачать XLSX").first.click()
    sheet = CalamineWorkbook.from_path(str(info.value.path())).get_sheet_by_index(0).to_python()
    assert len(sheet) >= 2 and any(str(cell).strip() for cell in sheet[0])


def status(page, path: str) -> int:
    """The status of a request made with the browser's own session (its cookies), as a user who types an
    address or a script using his session would get it; a 404 page is not opened in the tab, where
    Chromium would log the failed load as a console error."""
    return page.request.get(page.base + path, headers={"Accept": "text/html,application/json"},
                            max_redirects=0).status


def api(page, path: str) -> dict:
    response = page.request.get(page.base + path, headers={"Accept": "application/json"})
    assert response.status == 200, (path, response.status)
    return response.json()


def test_the_teacher_sees_only_his_own_school(page, server, sign_in):
    sign_in(page, "teacher")
    assert status(page, f"/analysis/org/{OTHER_SCHOOL}/") == 404
    assert status(page, f"/api/organisations/{OTHER_SCHOOL}/") == 404
    assert status(page, f"/analysis/reports/standard/?org={OTHER_SCHOOL}&assessment=vpr-2026-ma-5") == 404
    listed = api(page, "/api/organisations/?limit=500")
    assert [o["code"] for o in listed["results"]] == [SCHOOL]
    uploads = api(page, "/api/uploads/?limit=500")["results"]
    other = [u for u in uploads if u.get("organisation") not in (SCHOOL, None)]
    assert not other, other


def test_a_methodologist_of_another_municipality_gets_404(page, server, sign_in):
    """A second municipality with its methodologist, made through `metodist manage shell` as an
    administrator would; he reaches none of the demo municipality's schools, by code or by id."""
    script = (
        "from django.contrib.auth import get_user_model\n"
        "from metodist.core.models import Organisation, RoleAssignment\n"
        "region = Organisation.objects.get(code='demo-reg')\n"
        "m2, _ = Organisation.objects.get_or_create(code='demo-m02', defaults=dict("
        "short_name='Соседний район', full_name='Соседний муниципальный район', kind='municipality',"
        " parent=region))\n"
        "user, made = get_user_model().objects.get_or_create(username='neighbour')\n"
        "user.set_password('demo-neighbour'); user.save()\n"
        "RoleAssignment.objects.get_or_create(user=user, role='methodologist', organisation=m2)\n"
        "from metodist.collection.models import Upload\n"
        "print(Upload.objects.filter(organisation__code='" + SCHOOL + "').values_list('pk', flat=True).first())\n"
    )
    made = subprocess.run([sys.executable, "-m", "metodist", "manage", "shell", "-c", script], env=server["env"],
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr[-2000:]
    upload_id = int(made.stdout.strip().splitlines()[-1])

    page.goto(page.base + "/login/")
    page.fill("#id_username", "neighbour")
    page.fill("#id_password", "demo-neighbour")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"^(?!.*/login/).*$"))
    for path in (f"/analysis/org/{SCHOOL}/", "/analysis/org/demo-m01/", f"/api/organisations/{SCHOOL}/",
                 f"/api/uploads/{upload_id}/", f"/collection/uploads/{upload_id}/",
                 f"/analysis/reports/school.docx?org={SCHOOL}&assessment=vpr-2026-ma-5"):
        assert status(page, path) == 404, path
    assert [o["code"] for o in api(page, "/api/organisations/")["results"]] == ["demo-m02"]


def test_xlsx_of_the_errors_is_the_same_list(page, server, sign_in, tmp_path):
    """The error table downloads as XLSX with the same rows a secretary sees on the page."""
    rows = demo_rows(server)
    first = rows[0].index("1 (1б)")
    pupils = scored_rows(rows)
    for i in pupils[:4]:
        rows[i][first] = 3.0
    path = write_xlsx(tmp_path / "ещё с ошибками.xlsx", rows)
    sign_in(page, "school_admin")
    upload(page, path)
    with page.expect_download() as info:
        page.locator("section[aria-labelledby=errors-title] a", has_text="Скачать XLSX").click()
    data = CalamineWorkbook.from_path(str(info.value.path())).get_sheet_by_index(0).to_python()
    assert len(data) - 1 == 4


def test_the_region_dashboard_lists_municipalities_and_opens_one(page, sign_in, screenshot, wait_for_charts):
    """The region's administrator sees a row per municipality (not a row per school), its charts drawn, and
    a municipality's name opens that municipality's dashboard with its schools."""
    sign_in(page, "region_admin")
    assert page.goto(page.base + "/analysis/").status == 200
    wait_for_charts(page)
    rows = page.locator("#municipalities table tbody tr")
    assert rows.count() >= 1
    assert page.locator("#schools").count() == 0
    screenshot(page, "dashboard-region")
    first = rows.first.locator("th a")
    name = first.inner_text().strip()
    first.click()
    page.wait_for_url("**/analysis/org/**")
    assert name in page.locator("h1").inner_text()
    assert page.locator("#schools table tbody tr").count() >= 1
