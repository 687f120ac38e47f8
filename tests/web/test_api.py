"""The REST API: the OpenAPI schema, token authentication, the access matrix of every endpoint (anonymous,
no role, permitted, out of scope by id), the aggregates against figures counted here from Work rows,
uploads through the API and bounded query counts of the lists.

The data: a region with two municipalities (M1: schools 11 and 12; M2: schools 21 and 22), one regional
work with four tasks, results of schools 11, 12 and 21 (one upload each, planted below), one finished
analysis of the region with a finding of each kind per school, and an older analysis of M1 alone."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import xlsxwriter
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token

from metodist.analysis.models import (
    AnalysisRun,
    DeficitProfile,
    GroupLevel,
    ObjectivityResult,
    ObjectivitySignal,
    ProblemField,
    RunStatus,
    SchoolStatus,
)
from metodist.collection.importing import ImportOptions, import_file
from metodist.collection.models import TaskScore, Upload, UploadStatus, Work
from metodist.core.models import AcademicYear, RoleAssignment, SchoolClass, Subject, Teacher
from metodist.reference.specs import save_spec

CODE = "reg-2030-ma-7"
HEADER = ["Работа", "Код ОО", "Код участника", "Класс", "Вариант", "Задание", "Балл", "Отметка по журналу"]
TASKS = (("1", 1), ("2", 2), ("3.1", 1), ("3.2", 1))  # maximum 5; marks: 3 from 2, 4 from 3, 5 from 5
#: school → participant → (task scores, journal mark); None = absent
PLANTED = {
    "edu221001": {70001: ([1, 2, 1, 1], 4), 70002: ([0, 1, 1, 0], 3), 70003: ([1, 2, 0, 0], 5), 70004: None},
    "edu221002": {80001: ([0, 0, 1, 0], 3), 80002: ([1, 1, 1, 1], 4)},
    "edu222001": {90001: ([1, 2, 1, 1], 5)},
}


def mark_of(total: int) -> int:
    return 5 if total >= 5 else 4 if total >= 3 else 3 if total >= 2 else 2


def rows_of(school: str, pupils: dict) -> list[list]:
    rows = []
    for code, planted in pupils.items():
        if planted is None:
            rows.append([CODE, school, code, "7А", "отсутствовал", None, None, None])
            continue
        scores, journal = planted
        rows += [[CODE, school, code, "7А", 1, number, score, journal]
                 for (number, _max), score in zip(TASKS, scores, strict=True)]
    return rows


def write_xlsx(path: Path, rows: list[list]) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Результаты")
    for r, row in enumerate([HEADER, *rows]):
        for c, value in enumerate(row):
            if value is None:
                continue
            (sheet.write_string if isinstance(value, str) else sheet.write_number)(r, c, value)
    workbook.close()
    return path


@pytest.fixture
def world(region_tree, tmp_path, settings):
    """The planted data, users of every kind and one finding of each kind per school."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed: seven users a test
    cache.clear()  # the token view's throttle counts in the cache
    t = dict(region_tree)
    save_spec({"code": CODE, "programme": "REGIONAL", "subject": "ma", "grade": 7, "year": 2030,
               "tasks": [{"number": n, "max_score": m} for n, m in TASKS],
               "grade_scale": {"2": 0, "3": 2, "4": 3, "5": 5}})
    save_spec({"code": "reg-2030-ma-8", "programme": "REGIONAL", "subject": "ma", "grade": 8, "year": 2030,
               "tasks": [{"number": "1", "max_score": 2}], "grade_scale": {"2": 0, "3": 1, "4": 2, "5": 2}})
    for school, pupils in PLANTED.items():
        outcome = import_file(write_xlsx(tmp_path / f"{school}.xlsx", rows_of(school, pupils)),
                              ImportOptions(school=school))
        assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()
        t[f"upload_{school[-4:]}"] = outcome.upload
    t["up11"], t["up12"], t["up21"] = t["upload_1001"], t["upload_1002"], t["upload_2001"]

    users = get_user_model().objects
    for name, role, org in [("meth1", "methodologist", "mun1"), ("meth2", "methodologist", "mun2"),
                            ("admin11", "school_admin", "school11"), ("teacher11", "teacher", "school11"),
                            ("viewer1", "viewer", "mun1")]:
        t[name] = users.create_user(name, password=f"pw-{name}-2030")
        RoleAssignment.objects.create(user=t[name], role=role, organisation=t[org])
    t["norole"] = users.create_user("norole", password="pw-norole-2030")
    t["root"] = users.create_superuser("root", password="pw-root-2030")
    subject = Subject.objects.get(code="ma")
    t["t11"] = Teacher.objects.create(school=t["school11"], full_name="Иванова Анна Петровна", user=t["teacher11"])
    t["t11b"] = Teacher.objects.create(school=t["school11"], full_name="Петров Пётр Ильич")
    t["t21"] = Teacher.objects.create(school=t["school21"], full_name="Сидорова Мария Ивановна")
    t["t11"].subjects.add(subject)

    year = AcademicYear.objects.get_or_create(start_year=2029)[0]
    now = timezone.now()
    t["run_m1"] = AnalysisRun.objects.create(academic_year=year, scope=t["mun1"], status=RunStatus.DONE,
                                             finished_at=now - datetime.timedelta(days=2))
    t["run"] = AnalysisRun.objects.create(academic_year=year, scope=t["region"], status=RunStatus.DONE,
                                          finished_at=now - datetime.timedelta(days=1))
    assessment = t["up11"].assessment

    def field(org, level=GroupLevel.SCHOOL, teacher=None, run=None, flagged=True):
        return ProblemField.objects.create(
            run=run or t["run"], assessment=assessment, group_level=level, organisation=t[org], teacher=teacher,
            field_kind="task_type", task_type="extended", tasks=["2"], pupils=3, solve_rate=40.0, reference=60.0,
            reference_level="region", difference=-20.0, flagged=flagged, explanation="Ниже региона.")

    t["pf11"], t["pf12"], t["pf21"] = field("school11"), field("school12", flagged=False), field("school21")
    t["pf11t"] = field("school11", GroupLevel.TEACHER, teacher=t["t11"])
    t["pf11t"].school_class = SchoolClass.objects.filter(school=t["school11"]).first()
    t["pf11t"].save()
    t["pf_old"] = field("school11", run=t["run_m1"])
    for school in ("school11", "school12", "school21"):
        t[f"ss{school[-2:]}"] = SchoolStatus.objects.create(run=t["run"], school=t[school], kind="low_results",
                                                            numbers={"success_pct": 50.0})
    for rank, school in enumerate(("school11", "school21", "school12"), start=1):
        result = ObjectivityResult.objects.create(run=t["run"], school=t[school], score=0.5 * rank, rank=rank,
                                                  federal_markers=["marks_vs_journal"])
        ObjectivitySignal.objects.create(result=result, source="federal", code="marks_vs_journal",
                                         assessment=assessment, tripped=True, value=0.4, reason="Расхождение.")
        ObjectivitySignal.objects.create(result=result, source="metodist", code="score_heaping", value=0.1)
        t[f"obj{school[-2:]}"] = result
    t["dp11"] = DeficitProfile.objects.create(run=t["run"], scope="personal", organisation=t["school11"],
                                              teacher=t["t11"], subject=subject, topic="Дроби", severity=0.7)
    t["dp11b"] = DeficitProfile.objects.create(run=t["run"], scope="personal", organisation=t["school11"],
                                               teacher=t["t11b"], subject=subject, topic="Проценты", severity=0.5)
    t["dpm2"] = DeficitProfile.objects.create(run=t["run"], scope="corporate", organisation=t["mun2"],
                                              subject=subject, topic="Геометрия", severity=0.6)
    return t


def api(client, user, url, **kwargs):
    if user is not None:
        client.force_login(user)
    return client.get(url, **kwargs)


def ids(response) -> set:
    assert response.status_code == 200, response.content
    return {row.get("code") or row["id"] for row in response.json()["results"]}


# --- the access matrix: (endpoint, key of the object's identifier) × user → what the list holds -------

def pk(name):
    return lambda t: t[name].pk


def code(name):
    return lambda t: t[name].code


ENDPOINTS = {
    "organisations": (code, {
        "meth1": {"mun1", "school11", "school12"}, "meth2": {"mun2", "school21", "school22"},
        "admin11": {"school11"}, "teacher11": {"school11"}, "viewer1": {"mun1", "school11", "school12"}}),
    "teachers": (pk, {"meth1": {"t11", "t11b"}, "meth2": {"t21"}, "admin11": {"t11", "t11b"},
                      "teacher11": {"t11"}, "viewer1": {"t11", "t11b"}}),
    "uploads": (pk, {"meth1": {"up11", "up12"}, "meth2": {"up21"}, "admin11": {"up11"}, "teacher11": {"up11"},
                     "viewer1": {"up11", "up12"}}),
    "problem-fields": (pk, {"meth1": {"pf11", "pf12", "pf11t"}, "meth2": {"pf21"}, "admin11": {"pf11", "pf11t"},
                            "teacher11": {"pf11t"}, "viewer1": {"pf11", "pf12", "pf11t"}}),
    "school-statuses": (pk, {"meth1": {"ss11", "ss12"}, "meth2": {"ss21"}, "admin11": {"ss11"},
                             "teacher11": {"ss11"}, "viewer1": {"ss11", "ss12"}}),
    "objectivity": (pk, {"meth1": {"obj11", "obj12"}, "meth2": {"obj21"}, "admin11": {"obj11"},
                         "teacher11": {"obj11"}, "viewer1": {"obj11", "obj12"}}),
    "deficit-profiles": (pk, {"meth1": {"dp11", "dp11b"}, "meth2": {"dpm2"}, "admin11": {"dp11", "dp11b"},
                              "teacher11": {"dp11"}, "viewer1": {"dp11", "dp11b"}}),
    "runs": (pk, {"meth1": {"run", "run_m1"}, "meth2": {"run"}, "admin11": {"run", "run_m1"},
                  "teacher11": {"run", "run_m1"}, "viewer1": {"run", "run_m1"}}),
}
ALL_OBJECTS = {endpoint: set().union(*matrix.values()) for endpoint, (_key, matrix) in ENDPOINTS.items()}
ALL_OBJECTS["organisations"] |= {"region", "institute"}


def test_every_endpoint_has_its_access_tests():
    """An endpoint added to the router without a row in the matrix (or in the reference data every role
    reads) fails here."""
    from metodist.api_urls import router

    public = {"assessments", "content-elements", "skills"}
    # the endpoints of stages 3–6, whose access (the owner sees, another school's teacher and another
    # municipality's methodologist get 404 by id and an empty list) is tested on the demo in their own
    # modules: tests/practices/test_practices_on_demo.py, tests/planning/test_roadmaps_on_demo.py,
    # tests/assistance/test_assistance_pages.py, tests/monitoring/test_monitoring_on_demo.py
    elsewhere = {"practices", "community-sessions", "roadmaps", "recommendations", "courses", "enrolments",
                 "assistance-requests", "development-routes", "mentorships", "mentor-schools", "events", "event-attendance",
                 "indicator-tracks", "help-effects", "lesson-observations", "cycles"}
    assert {prefix for prefix, _viewset, _name in router.registry} == set(ENDPOINTS) | public | elsewhere


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_access_matrix(world, client, endpoint):
    key, matrix = ENDPOINTS[endpoint]
    # anonymous: refused; signed in without a role: 403
    assert client.get(f"/api/{endpoint}/").status_code in (401, 403)
    assert api(client, world["norole"], f"/api/{endpoint}/").status_code == 403
    client.logout()
    for user, visible in matrix.items():
        listed = ids(api(client, world[user], f"/api/{endpoint}/"))
        assert listed == {key(n)(world) for n in visible}, (endpoint, user)
        for name in ALL_OBJECTS[endpoint]:
            response = client.get(f"/api/{endpoint}/{key(name)(world)}/")
            assert response.status_code == (200 if name in visible else 404), (endpoint, user, name)
        client.logout()
    # a superuser sees everything
    everything = ids(api(client, world["root"], f"/api/{endpoint}/"))
    assert {key(n)(world) for n in ALL_OBJECTS[endpoint]} <= everything


def test_out_of_scope_by_id_is_404_like_a_missing_object(world, client):
    """A teacher of school 11 asks for school 12's things, a methodologist of M1 for M2's: 404, the same
    answer as for an object that does not exist."""
    attempts = {
        "teacher11": ["/api/uploads/{up12}/", "/api/problem-fields/{pf12}/", "/api/problem-fields/{pf11}/",
                      "/api/organisations/edu221002/", "/api/organisations/reg22_m001/", "/api/teachers/{t11b}/",
                      "/api/deficit-profiles/{dp11b}/"],
        "meth1": ["/api/uploads/{up21}/", "/api/problem-fields/{pf21}/", "/api/organisations/edu222001/",
                  "/api/school-statuses/{ss21}/", "/api/objectivity/{obj21}/", "/api/deficit-profiles/{dpm2}/",
                  "/api/teachers/{t21}/"],
        "meth2": ["/api/uploads/{up11}/", "/api/runs/{run_m1}/", "/api/organisations/edu221001/"],
    }
    for user, urls in attempts.items():
        client.force_login(world[user])
        for url in urls:
            response = client.get(url.format(**{k: getattr(v, "pk", None) for k, v in world.items()}))
            assert response.status_code == 404, (user, url)
        assert client.get("/api/uploads/999999/").status_code == 404
        assert client.get("/api/results/", {"assessment": CODE, "org": "edu222001" if user == "meth1"
                                             else "edu221002" if user == "teacher11" else "edu221001"}
                          ).status_code == 404
        client.logout()


def test_filters(world, client):
    client.force_login(world["meth1"])
    assert ids(client.get("/api/organisations/", {"kind": "school"})) == {"edu221001", "edu221002"}
    assert ids(client.get("/api/organisations/", {"parent": "reg22_m001"})) == {"edu221001", "edu221002"}
    assert ids(client.get("/api/problem-fields/", {"org": "edu221001"})) == {world["pf11"].pk, world["pf11t"].pk}
    assert ids(client.get("/api/problem-fields/", {"flagged": "true"})) == {world["pf11"].pk, world["pf11t"].pk}
    assert ids(client.get("/api/problem-fields/", {"group_level": "teacher"})) == {world["pf11t"].pk}
    assert ids(client.get("/api/problem-fields/", {"assessment": "nothing"})) == set()
    # the older run of M1 by its number; another municipality's run is 404
    assert ids(client.get("/api/problem-fields/", {"run": world["run_m1"].pk})) == {world["pf_old"].pk}
    assert client.get("/api/problem-fields/", {"flagged": "maybe"}).status_code == 400
    # the latest run of an academic year; a year without runs has no findings
    assert ids(client.get("/api/problem-fields/", {"year": 2029})) == {world["pf11"].pk, world["pf12"].pk,
                                                                       world["pf11t"].pk}
    assert ids(client.get("/api/school-statuses/", {"year": 2020})) == set()
    client.force_login(world["meth2"])
    assert client.get("/api/problem-fields/", {"run": world["run_m1"].pk}).status_code == 404
    signals = client.get(f"/api/objectivity/{world['obj21'].pk}/").json()["signals"]
    assert {(s["code"], s["tripped"]) for s in signals} == {("marks_vs_journal", True), ("score_heaping", False)}


# --- reference data ----------------------------------------------------------------------------------

def test_assessments_for_every_role_with_tasks_and_scale(world, client):
    assert client.get("/api/assessments/").status_code in (401, 403)
    assert api(client, world["norole"], "/api/assessments/").status_code == 403
    for user in ("teacher11", "viewer1", "meth2"):
        assert CODE in ids(api(client, world[user], "/api/assessments/", data={"year": 2030}))
        detail = client.get(f"/api/assessments/{CODE}/").json()
        assert [(t["number"], t["max_score"]) for t in detail["tasks"]] == list(TASKS)
        assert detail["scales"][0]["thresholds"] == {"2": 0, "3": 2, "4": 3, "5": 5}
        assert detail["max_primary"] == 5
    assert client.get("/api/assessments/no-such-work/").status_code == 404
    assert client.get("/api/content-elements/").status_code == 200
    assert client.get("/api/skills/").status_code == 200


# --- aggregates --------------------------------------------------------------------------------------

def expected_figures(school_codes: list[str]) -> dict:
    """Participants, shares of marks and task completion counted from the Work and TaskScore rows."""
    works = Work.objects.filter(assessment__code=CODE, school__code__in=school_codes, absent=False)
    n = works.count()
    marks = {str(m): round(100 * works.filter(mark=m).count() / n, 2) for m in (2, 3, 4, 5)}
    solve = {}
    for number, maximum in TASKS:
        total = sum(TaskScore.objects.filter(work__in=works, task__number=number).values_list("score", flat=True))
        solve[number] = round(100 * total / (maximum * n), 2)
    return {"participants": n, "marks_pct": marks, "solve_rate_pct": solve}


def test_results_aggregates_equal_the_work_rows(world, client):
    client.force_login(world["admin11"])
    data = client.get("/api/results/", {"assessment": CODE, "org": "edu221001"}).json()
    own = expected_figures(["edu221001"])
    assert {k: data[k] for k in own} == own
    # by hand from the planted scores: totals 5, 2, 3 → marks 5, 3, 4; task 2: (2 + 1 + 2) / (2 × 3)
    assert own["participants"] == 3 and own["marks_pct"] == {"2": 0.0, "3": 33.33, "4": 33.33, "5": 33.33}
    assert data["solve_rate_pct"]["2"] == round(100 * 5 / 6, 2)
    parents = {p["organisation"]: p for p in data["parents"]}
    municipality = expected_figures(["edu221001", "edu221002"])
    assert {k: parents["reg22_m001"][k] for k in municipality} == municipality
    assert parents["reg22"]["participants"] == 6
    # the school's own role is the default organisation
    assert client.get("/api/results/", {"assessment": CODE}).json()["organisation"] == "edu221001"
    client.force_login(world["meth1"])
    data = client.get("/api/results/", {"assessment": CODE}).json()
    assert data["organisation"] == "reg22_m001" and data["participants"] == municipality["participants"]
    assert client.get("/api/results/").status_code == 400
    assert client.get("/api/results/", {"assessment": "no-such-work"}).status_code == 404
    assert api(client, world["norole"], "/api/results/", data={"assessment": CODE}).status_code == 403


# --- uploads through the API -------------------------------------------------------------------------

def test_upload_good_file_is_stored(world, client, tmp_path):
    rows = rows_of("edu221002", {80003: ([1, 2, 1, 0], 4), 80004: ([0, 1, 0, 0], 2)})
    client.force_login(world["meth1"])
    with open(write_xlsx(tmp_path / "школа 12.xlsx", rows), "rb") as fh:
        response = client.post("/api/uploads/", {"file": fh, "assessment": CODE})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == UploadStatus.IMPORTED and body["errors"] == []
    assert body["upload"]["file_name"] == "школа 12.xlsx" and body["upload"]["uploaded_by"] == "meth1"
    assert body["upload"]["counts"]["works_imported"] == 2
    stored = Work.objects.filter(school__code="edu221002", participant_code__in=["80003", "80004"])
    assert sorted(stored.values_list("primary_score", "mark")) == [(1, 2), (4, 4)]
    assert client.get(f"/api/uploads/{body['upload']['id']}/").json()["status"] == UploadStatus.IMPORTED
    # the same file again changes nothing
    with open(tmp_path / "школа 12.xlsx", "rb") as fh:
        again = client.post("/api/uploads/", {"file": fh})
    assert again.status_code == 200 and again.json()["status"] == "unchanged"


def test_upload_with_errors_is_400_with_every_error_and_nothing_stored(world, client, tmp_path):
    rows = rows_of("edu221002", {80005: ([1, 3, 1, 0], 4), 80006: ([0, 1, 0, 0], 2)})  # task 2: 3 > 2
    rows.append([CODE, "edu221002", 80007, "7А", 1, "9", 1, 4])  # task 9 is not in the work
    before = Work.objects.count()
    client.force_login(world["admin11"])
    with open(write_xlsx(tmp_path / "ошибки.xlsx", rows), "rb") as fh:
        response = client.post("/api/uploads/", {"file": fh, "format": "long"})
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == UploadStatus.REJECTED
    where = {(e["file"], e["sheet"], e["row"], e["column"]) for e in body["errors"]}
    assert ("ошибки.xlsx", "Результаты", 3, "Балл") in where  # header is row 1; pupil 80005's task 2 is row 3
    assert ("ошибки.xlsx", "Результаты", 10, "Задание") in where
    assert any("больше максимального (2)" in e["message"] for e in body["errors"])
    assert Work.objects.count() == before
    assert Upload.objects.get(pk=body["upload"]["id"]).status == UploadStatus.REJECTED
    # a school administrator's file is his school's: the rejected upload is in his history
    assert body["upload"]["organisation"] == "edu221001"
    assert client.get(f"/api/uploads/{body['upload']['id']}/").json()["errors"] == body["errors"]
    # he may not load another school's results, nor add schools to the registry: refused, nothing stored
    with open(write_xlsx(tmp_path / "чужая.xlsx", rows_of("edu221002", {80008: ([1, 1, 1, 1], 4)})), "rb") as fh:
        response = client.post("/api/uploads/", {"file": fh})
    assert response.status_code == 400
    assert any("edu221002" in e["message"] for e in response.json()["errors"])
    with open(tmp_path / "чужая.xlsx", "rb") as fh:
        response = client.post("/api/uploads/", {"file": fh, "create_organisations": "true"})
    assert response.status_code == 400 and "create_organisations" in response.json()
    assert Work.objects.count() == before
    # a file that is no spreadsheet at all
    (tmp_path / "notes.xlsx").write_bytes(b"not a workbook")
    with open(tmp_path / "notes.xlsx", "rb") as fh:
        response = client.post("/api/uploads/", {"file": fh})
    assert response.status_code == 400 and response.json()["errors"][0]["file"] == "notes.xlsx"


def test_dry_run_and_who_may_upload(world, client, tmp_path):
    path = write_xlsx(tmp_path / "проверка.xlsx", rows_of("edu221001", {70010: ([1, 1, 1, 1], 4)}))
    for user in ("teacher11", "viewer1", "norole"):
        client.force_login(world[user])
        with open(path, "rb") as fh:
            assert client.post("/api/uploads/", {"file": fh}).status_code == 403, user
    client.logout()
    with open(path, "rb") as fh:
        assert client.post("/api/uploads/", {"file": fh}).status_code in (401, 403)
    client.force_login(world["admin11"])
    with open(path, "rb") as fh:
        response = client.post("/api/uploads/", {"file": fh, "dry_run": "true"})
    assert response.status_code == 200 and response.json()["status"] == UploadStatus.CHECKED
    assert not Work.objects.filter(participant_code="70010").exists()
    with open(path, "rb") as fh:
        response = client.post("/api/uploads/", {"file": fh, "school": "edu222001"})
    assert response.status_code == 400 and "school" in response.json()
    assert client.post("/api/uploads/", {}).status_code == 400


# --- tokens ------------------------------------------------------------------------------------------

def test_token_authentication(world, client):
    token = Token.objects.create(user=world["meth1"])
    response = client.get("/api/uploads/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert ids(response) == {world["up11"].pk, world["up12"].pk}
    assert client.get(f"/api/uploads/{world['up21'].pk}/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 404
    # a wrong token is refused (401 when TokenAuthentication is the first authentication class, else 403)
    assert client.get("/api/uploads/", HTTP_AUTHORIZATION="Token wrong").status_code in (401, 403)


def test_obtaining_a_token_and_its_throttle(world, client):
    response = client.post("/api/token/", {"username": "meth1", "password": "pw-meth1-2030"})
    assert response.status_code == 200
    key = response.json()["token"]
    assert Token.objects.get(user=world["meth1"]).key == key
    assert client.post("/api/token/", {"username": "meth1", "password": "wrong"}).status_code == 400
    statuses = [client.post("/api/token/", {"username": "meth2", "password": "wrong"}).status_code
                for _ in range(6)]
    assert statuses[-1] == 429
    cache.clear()


# --- schema ------------------------------------------------------------------------------------------

def test_schema_is_valid_openapi_3(world, client, tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    client.force_login(world["teacher11"])
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in ("/api/organisations/", "/api/organisations/{code}/", "/api/assessments/{code}/", "/api/uploads/",
                 "/api/results/", "/api/problem-fields/", "/api/school-statuses/", "/api/objectivity/",
                 "/api/deficit-profiles/", "/api/runs/", "/api/teachers/", "/api/token/"):
        assert path in schema["paths"], path
    assert "post" in schema["paths"]["/api/uploads/"]
    parameters = {p["name"] for p in schema["paths"]["/api/problem-fields/"]["get"]["parameters"]}
    assert {"org", "assessment", "group_level", "flagged", "run", "limit", "offset"} <= parameters
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_docs_are_served_from_this_installation(world, client):
    """Swagger UI loads its scripts from our static files (drf-spectacular-sidecar), not from a CDN."""
    from django.contrib.staticfiles import finders

    client.force_login(world["teacher11"])
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "https://" not in page
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


# --- query counts ------------------------------------------------------------------------------------

LISTS = ["organisations", "teachers", "assessments", "uploads", "runs", "problem-fields", "school-statuses",
         "objectivity", "deficit-profiles"]


@pytest.mark.parametrize("endpoint", LISTS)
def test_list_query_counts_are_bounded(world, client, endpoint, django_assert_max_num_queries):
    """A list costs the same number of queries for one row as for all of them (no query per row), and
    few in all."""
    token = Token.objects.create(user=world["meth1"])
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    url = f"/api/{endpoint}/"

    def count(query: str) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url + query, **auth)
        assert response.status_code == 200
        return len(captured), len(response.json()["results"])

    one, rows_one = count("?limit=1")
    every, rows = count("")
    assert rows_one == 1 and rows >= 1
    assert every == one, (endpoint, one, every)
    print(f"{endpoint}: {every} queries for {rows} rows")
    with django_assert_max_num_queries(8):
        client.get(url, **auth)
