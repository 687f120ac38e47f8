"""Stage 5 pages, API, downloads and the command line on the hand-made world (conftest): every page 200 for
its owner and 404 by id for another school's teacher and another municipality's methodologist; a teacher
submits a request and sees only his own; the method service answers; routes are proposed, edited,
approved and marked done through the pages; the API lists only what visible_to allows; every XLSX opens
with openpyxl; the ИОМ DOCX opens in LibreOffice."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import subprocess

import openpyxl
import pytest
from django.test import Client

from metodist.assistance import routes
from metodist.assistance.models import (
    AssistanceRequest,
    DevelopmentRoute,
    Enrolment,
    EventAttendance,
    ItemStatus,
    MentorSchool,
    Mentorship,
    RequestStatus,
    RouteStatus,
)

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def filled(world, people):
    """A route, a request, an enrolment, a mentorship, a pairing and an M1 event with attendance."""
    from metodist.assistance.models import Event, EventKind

    w = dict(world)
    w["route"] = routes.propose_route(w["weak"], w["run"], user=people["admin11"])
    w["request"] = AssistanceRequest.objects.create(teacher=w["weak"], competence_area="subject", subject=w["ma"],
                                                    text="Доказательства в геометрии")
    w["other_request"] = AssistanceRequest.objects.create(teacher=w["other"], competence_area="digital",
                                                          text="Цифровые ресурсы для обратной связи")
    Enrolment.objects.create(course=w["local"], teacher=w["weak"], status="enrolled")
    w["mentorship"] = Mentorship.objects.create(mentor=w["strong"], mentee=w["weak"], academic_year=w["years"][2025],
                                                starts=dt.date(2025, 9, 1))
    w["pairing"] = MentorSchool.objects.create(mentor_school=w["school12"], school=w["school11"],
                                               academic_year=w["years"][2025], plan="Взаимопосещение уроков")
    w["event"] = Event.objects.create(kind=EventKind.OPEN_LESSON, title="Открытый урок в школе 1.2",
                                      organiser=w["school12"], audience=w["mun1"], date=dt.date(2025, 12, 3))
    for teacher, rating in (("weak", 5), ("strong", 4), ("mid", None)):
        EventAttendance.objects.create(event=w["event"], teacher=w[teacher], attended=rating is not None,
                                       satisfaction=rating)
    return w


def pages(w) -> dict[str, str]:
    route, course = w["route"], w["local"]
    item = route.items.order_by("position").first()
    return {
        "course": f"/assistance/courses/{course.pk}/", "course_xlsx": f"/assistance/courses/{course.pk}/?xlsx=1",
        "request": f"/assistance/requests/{w['request'].pk}/", "route": f"/assistance/routes/{route.pk}/",
        "route_xlsx": f"/assistance/routes/{route.pk}/?xlsx=1", "route_docx": f"/assistance/routes/{route.pk}/route.docx",
        "route_item": f"/assistance/routes/{route.pk}/items/{item.pk}/",
        "mentorship": f"/assistance/mentoring/{w['mentorship'].pk}/",
        "mentorship_edit": f"/assistance/mentoring/{w['mentorship'].pk}/edit/",
        "pairing": f"/assistance/mentor-schools/{w['pairing'].pk}/",
        "event": f"/assistance/events/{w['event'].pk}/", "event_xlsx": f"/assistance/events/{w['event'].pk}/?xlsx=1",
        "enrol": f"/assistance/courses/{course.pk}/enrol/",
    }


LISTS = ["/assistance/", "/assistance/courses/", "/assistance/requests/", "/assistance/routes/",
         "/assistance/mentoring/", "/assistance/events/", "/assistance/events/?kind=open_lesson"]
FORMS = ["/assistance/courses/new/", "/assistance/routes/propose/", "/assistance/mentoring/new/",
         "/assistance/mentor-schools/new/", "/assistance/events/new/"]


def test_every_page_opens_for_the_owner(filled, people):
    client = client_for(people["meth1"])
    for url in [*LISTS, *FORMS, *pages(filled).values()]:
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(f"/assistance/routes/{filled['route'].pk}/").content.decode()
    assert "Учитель weak" in page and "КПК exact" in page


def test_the_teacher_opens_his_own_records(filled, people):
    client = client_for(people["weak"])
    own = pages(filled)
    for key in ("course", "request", "route", "route_docx", "mentorship", "pairing", "event"):
        assert client.get(own[key]).status_code == 200, key
    assert client.get("/assistance/requests/new/").status_code == 200


@pytest.mark.parametrize("username", ["other", "meth2"])
def test_another_schools_teacher_and_another_municipality_get_404(filled, people, username):
    client = client_for(people[username])
    own = pages(filled)
    hidden = ["request", "route", "route_xlsx", "route_docx", "route_item", "mentorship_edit"]
    if username == "meth2":  # what is meant for M1 only; «other» teaches at the mentor school of the pairing
        hidden += ["course", "course_xlsx", "event", "event_xlsx", "mentorship", "enrol", "pairing"]
    for key in hidden:
        assert client.get(own[key]).status_code == 404, key
    for url in LISTS:
        response = client.get(url)
        assert response.status_code == 200
        body = response.content.decode()
        assert "Доказательства в геометрии" not in body
        assert f"/assistance/routes/{filled['route'].pk}/" not in body


def test_the_teacher_of_the_mentor_school_sees_the_mentorship_but_not_the_route(filled, people):
    client = client_for(people["other"])
    assert client.get(pages(filled)["mentorship"]).status_code == 404  # «other» is not in this mentorship
    Mentorship.objects.filter(pk=filled["mentorship"].pk).update(mentor=filled["other"])
    assert client.get(pages(filled)["mentorship"]).status_code == 200
    assert client.get(pages(filled)["route"]).status_code == 404


def test_no_role_gets_403_and_anonymous_is_sent_to_sign_in(filled, people):
    assert client_for(people["nobody"]).get("/assistance/routes/").status_code == 403
    response = Client().get("/assistance/courses/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_teacher_submits_a_request_and_sees_only_his_own(filled, people):
    client = client_for(people["weak"])
    response = client.post("/assistance/requests/new/", {
        "subject": filled["ma"].pk, "competence_area": "methodological", "text": "Как вести формирующее оценивание?",
        "preferred_form": "course"})
    assert response.status_code == 302
    made = AssistanceRequest.objects.get(text="Как вести формирующее оценивание?")
    assert made.teacher == filled["weak"] and made.status == RequestStatus.NEW
    listing = client.get("/assistance/requests/").content.decode()
    assert "Как вести формирующее оценивание?" in listing and "Доказательства в геометрии" in listing
    assert "Цифровые ресурсы для обратной связи" not in listing
    assert client.get(f"/assistance/requests/{filled['other_request'].pk}/").status_code == 404
    # he cannot answer it himself
    assert client.post(f"/assistance/requests/{made.pk}/", {"status": "answered", "answer": "сам"}).status_code == 403
    # a methodologist has no teacher to submit for
    assert client_for(people["meth1"]).get("/assistance/requests/new/").status_code == 403


def test_the_method_service_answers_with_help(filled, people):
    client = client_for(people["meth1"])
    item = filled["request"]
    response = client.post(f"/assistance/requests/{item.pk}/", {
        "status": "answered", "answer": "Приглашаем на вебинар и к наставнику.", "event": filled["webinar"].pk,
        "mentorship": filled["mentorship"].pk})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == RequestStatus.ANSWERED and item.answered_by == people["meth1"]
    assert item.help_event == filled["webinar"] and item.help_mentorship == filled["mentorship"]
    page = client_for(people["weak"]).get(f"/assistance/requests/{item.pk}/").content.decode()
    assert "Приглашаем на вебинар и к наставнику." in page and "Вебинар по геометрии" in page
    # the school's administration sees the request but does not answer it
    assert client_for(people["admin11"]).post(f"/assistance/requests/{item.pk}/", {
        "status": "closed", "answer": "x"}).status_code == 403


def test_a_route_through_the_pages(world, people):
    client = client_for(people["admin11"])
    response = client.post("/assistance/routes/propose/", {"teacher": world["weak"].pk, "run": world["run"].pk})
    assert response.status_code == 302
    route = DevelopmentRoute.objects.get(teacher=world["weak"])
    count = route.items.count()
    response = client.post(f"/assistance/routes/{route.pk}/items/new/", {
        "kind": "event", "title": "Выступить на заседании ШМО", "form": "доклад", "due": "2026-04-15",
        "result": "Доклад", "status": "planned", "event": world["webinar"].pk})
    assert response.status_code == 302
    added = route.items.get(title="Выступить на заседании ШМО")
    assert added.position == count + 1 and added.link_id == world["webinar"].pk
    # a course chosen for an item of another kind is refused
    response = client.post(f"/assistance/routes/{route.pk}/items/new/", {
        "kind": "self_study", "title": "Чтение", "status": "planned", "course": world["exact"].pk})
    assert response.status_code == 200 and route.items.count() == count + 1
    assert client.post(f"/assistance/routes/{route.pk}/approve/", {"comment": "протокол № 3"}).status_code == 302
    route.refresh_from_db()
    assert route.status == RouteStatus.APPROVED
    assert client.get(f"/assistance/routes/{route.pk}/items/new/").status_code == 403  # approved: no changes
    # the teacher marks an item of his approved route done; another teacher cannot
    weak = client_for(people["weak"])
    assert weak.post(f"/assistance/routes/{route.pk}/items/{added.pk}/status/", {"status": "done"}).status_code == 302
    added.refresh_from_db()
    assert added.status == ItemStatus.DONE and added.done_at == dt.date.today()
    assert client_for(people["other"]).post(f"/assistance/routes/{route.pk}/items/{added.pk}/status/",
                                            {"status": "planned"}).status_code == 404
    assert weak.post(f"/assistance/routes/{route.pk}/return/", {"comment": "хочу иначе"}).status_code == 302
    route.refresh_from_db()
    assert route.status == RouteStatus.APPROVED  # the teacher may not return it
    page = client.get(f"/assistance/routes/{route.pk}/").content.decode()
    assert f"1 из {count + 1}" in page


def test_enrol_and_attendance_through_the_pages(filled, people):
    client = client_for(people["meth1"])
    course = filled["exact"]
    response = client.post(f"/assistance/courses/{course.pk}/enrol/", {
        "teachers": [filled["strong"].pk, filled["mid"].pk], "status": "applied"})
    assert response.status_code == 302
    assert set(course.enrolments.values_list("teacher__code", "status")) == {("T-strong", "applied"),
                                                                              ("T-mid", "applied")}
    # a teacher of another municipality is not offered and not taken
    response = client.post(f"/assistance/courses/{course.pk}/enrol/", {"teachers": [filled["far"].pk],
                                                                       "status": "enrolled"})
    assert response.status_code == 200 and not course.enrolments.filter(teacher=filled["far"]).exists()
    enrolment = course.enrolments.get(teacher=filled["strong"])
    client.post(f"/assistance/courses/{course.pk}/enrolments/{enrolment.pk}/", {
        "status": "completed", "completed_at": "2025-11-30", "final_work": "Банк задач", "grade": "зачтено"})
    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.completed_at, enrolment.grade) == ("completed", dt.date(2025, 11, 30),
                                                                          "зачтено")
    event = filled["event"]
    response = client.post(f"/assistance/events/{event.pk}/attendance/", {
        "teachers": [filled["russian"].pk], "attended": "on", "satisfaction": "3"})
    assert response.status_code == 302
    assert EventAttendance.objects.get(event=event, teacher=filled["russian"]).satisfaction == 3
    page = client.get(f"/assistance/events/{event.pk}/").content.decode()
    # attended: weak, strong, russian (mid did not come); ratings 5, 4, 3
    assert "присутствовали 3 из 4" in page and "удовлетворённость 4 из 5 (3 " in page


def test_forms_save_what_they_are_given(world, people):
    client = client_for(people["meth1"])
    response = client.post("/assistance/events/new/", {
        "kind": "seminar", "title": "Семинар ГМО", "organiser": world["mun1"].pk, "audience": world["mun1"].pk,
        "date": "2025-12-10", "subject": world["ma"].pk, "content_elements": [world["geometry"].pk]})
    assert response.status_code == 302, response.content.decode()[:2000]
    from metodist.assistance.models import Course, Event

    event = Event.objects.get(title="Семинар ГМО")
    assert event.academic_year.start_year == 2025 and list(event.content_elements.all()) == [world["geometry"]]
    response = client.post("/assistance/mentoring/new/", {
        "mentor": world["strong"].pk, "mentee": world["weak"].pk, "academic_year": world["years"][2025].pk,
        "starts": "2025-09-10", "status": "active", "goals": "Геометрия"})
    assert response.status_code == 302
    response = client.post("/assistance/mentoring/new/", {
        "mentor": world["strong"].pk, "mentee": world["strong"].pk, "academic_year": world["years"][2025].pk,
        "starts": "2025-09-10", "status": "active"})
    assert response.status_code == 200 and Mentorship.objects.count() == 1
    response = client.post("/assistance/mentor-schools/new/", {
        "mentor_school": world["school12"].pk, "school": world["school11"].pk,
        "academic_year": world["years"][2025].pk, "status": "active", "plan": "План"})
    assert response.status_code == 302 and MentorSchool.objects.count() == 1
    response = client.post("/assistance/courses/new/", {
        "title": "КПК новый", "provider": world["institute"].pk, "audience": world["mun1"].pk,
        "academic_year": world["years"][2025].pk, "starts": "2025-10-01", "ends": "2025-09-01", "hours": 72,
        "format": "mixed"})
    assert response.status_code == 200 and not Course.objects.filter(title="КПК новый").exists()  # ends < starts
    response = client.post("/assistance/courses/new/", {
        "title": "КПК новый", "provider": world["institute"].pk, "audience": world["mun1"].pk,
        "academic_year": world["years"][2025].pk, "starts": "2025-10-01", "ends": "2025-11-01", "hours": 72,
        "format": "mixed", "subject": world["ma"].pk, "competence_areas": ["subject", "digital"],
        "content_elements": [world["geometry"].pk]})
    assert response.status_code == 302
    course = Course.objects.get(title="КПК новый")
    assert course.competence_areas == ["subject", "digital"] and course.audience == world["mun1"]
    response = client.post(f"/assistance/courses/{course.pk}/modules/new/", {"title": "Предметный", "hours": 48,
                                                                            "kind": "subject"})
    assert response.status_code == 302
    response = client.post(f"/assistance/courses/{course.pk}/modules/new/", {"title": "Лишний", "hours": 30,
                                                                            "kind": "invariant"})
    assert response.status_code == 200 and course.modules.count() == 1  # 48 + 30 > 72
    # a school's administration does not run the catalogue
    assert client_for(people["admin11"]).get("/assistance/courses/new/").status_code == 403


def _sheet_rows(content: bytes, index: int = 0) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    sheet = book.worksheets[index]
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def test_every_table_downloads_as_xlsx(filled, people):
    client = client_for(people["meth1"])
    expected = {
        "/assistance/courses/?xlsx=1": "КПК local", "/assistance/routes/?xlsx=1": "Учитель weak",
        "/assistance/requests/?xlsx=1": "Доказательства в геометрии", "/assistance/mentoring/?xlsx=1": "Учитель strong",
        "/assistance/events/?xlsx=1": "Открытый урок в школе 1.2",
        f"/assistance/routes/{filled['route'].pk}/?xlsx=1": "КПК exact",
        f"/assistance/courses/{filled['local'].pk}/?xlsx=1": "Учитель weak",
        f"/assistance/events/{filled['event'].pk}/?xlsx=1": "Учитель strong",
    }
    for url, text in expected.items():
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml"), url
        content = b"".join(response.streaming_content)
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
        cells = {str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row if v}
        assert any(text in c for c in cells), url
    # the grouped sheet of requests holds the hand count: M1 has one subject/maths and one digital request
    content = b"".join(client.get("/assistance/requests/?xlsx=1").streaming_content)
    rows = _sheet_rows(content, 0)
    body = [r for r in rows if r and r[0] in ("предметные", "цифровые")]
    assert sorted((r[0], r[2]) for r in body) == [("предметные", 1), ("цифровые", 1)]


def test_the_route_docx_has_the_schools_columns_and_opens_in_libreoffice(filled, people, tmp_path):
    from docx import Document

    response = client_for(people["meth1"]).get(f"/assistance/routes/{filled['route'].pk}/route.docx")
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    doc = Document(io.BytesIO(content))
    header = [c.text for c in doc.tables[0].rows[0].cells]
    assert header[:5] == ["№", "Мероприятие", "Форма", "Сроки", "Результат"]
    assert len(doc.tables[0].rows) == 1 + filled["route"].items.count()
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Индивидуальный образовательный маршрут педагога" in text and "Учитель weak" in text
    assert "ПРОЕКТ" in text
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    path = tmp_path / "iom.docx"
    path.write_bytes(content)
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=240)
    assert (tmp_path / "iom.pdf").read_bytes()[:5] == b"%PDF-"


def test_the_api_respects_visible_to(filled, people):
    def ids(user, url):
        client = client_for(people[user])
        response = client.get(url)
        assert response.status_code == 200, (user, url)
        data = response.json()
        return {row["id"] for row in (data["results"] if isinstance(data, dict) else data)}

    route = filled["route"].pk
    assert ids("meth1", "/api/development-routes/") == {route}
    assert ids("weak", "/api/development-routes/") == {route}
    assert ids("meth2", "/api/development-routes/") == set()
    assert ids("other", "/api/development-routes/") == set()
    assert client_for(people["meth2"]).get(f"/api/development-routes/{route}/").status_code == 404
    assert ids("weak", "/api/assistance-requests/") == {filled["request"].pk}
    assert ids("meth1", "/api/assistance-requests/") == {filled["request"].pk, filled["other_request"].pk}
    assert filled["local"].pk not in ids("meth2", "/api/courses/")
    assert filled["local"].pk in ids("meth1", "/api/courses/")
    assert ids("meth2", "/api/mentorships/") == set() and ids("meth2", "/api/mentor-schools/") == set()
    assert ids("weak", "/api/mentorships/") == {filled["mentorship"].pk}
    assert filled["event"].pk not in ids("meth2", "/api/events/")
    detail = client_for(people["meth1"]).get(f"/api/events/{filled['event'].pk}/").json()
    assert detail["attended"] == 2 and detail["satisfaction"] == pytest.approx(4.5)
    assert ids("other", "/api/enrolments/") == set()
    route_data = client_for(people["weak"]).get(f"/api/development-routes/{route}/").json()
    assert route_data["progress"] == 0 and len(route_data["items"]) == filled["route"].items.count()
    assert client_for(people["nobody"]).get("/api/courses/").status_code == 403


def test_the_command_line_proposes_routes_for_a_school(world, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from metodist.cli import app

    monkeypatch.setattr("metodist.bootstrap._ready", True)
    runner = CliRunner()
    result = runner.invoke(app, ["assistance", "routes", "--school", world["school11"].code, "--run",
                                 str(world["run"].pk), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["run"] == world["run"].pk and data["created"] == 2
    route = DevelopmentRoute.objects.get(teacher=world["weak"])
    out = tmp_path / "iom.docx"
    result = runner.invoke(app, ["assistance", "route-docx", str(route.pk), "-o", str(out)])
    assert result.exit_code == 0 and out.read_bytes()[:2] == b"PK"
    result = runner.invoke(app, ["assistance", "routes", "--school", "nope"])
    assert result.exit_code == 2
    xlsx = tmp_path / "courses.xlsx"
    result = runner.invoke(app, ["assistance", "courses", "--year", "2025", "-o", str(xlsx)])
    assert result.exit_code == 0
    titles = {r[0] for r in openpyxl.load_workbook(xlsx, read_only=True).worksheets[0].iter_rows(values_only=True)}
    assert {"КПК exact", "КПК local", "КПК method"} <= titles and "КПК ended" not in titles
