"""Stage 4 on the demo municipality with the analyses of two years: a roadmap drafted from the latest run
carries the planted teacher's content element as a goal, with a baseline counted here from the Work and
TaskScore rows; approval follows its rules and keeps its history; the demo's approved roadmaps have their
final values measured on the next spring's works; recommendations reach the planted teacher and are not
made twice; the pages, the DOCX, the XLSX and the API answer the owner and 404 everybody else."""

from __future__ import annotations

import io
import json
import shutil
import subprocess

import openpyxl
import pytest
from django.core.cache import cache
from django.db import transaction

SEED = 11
SCALE = 8
LATEST, PREVIOUS = 2025, 2024


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.contrib.auth import get_user_model

    from metodist.analysis.runs import run_analysis
    from metodist.core.models import Organisation, OrganisationKind, RoleAssignment, Teacher
    from metodist.demo.build import build_demo
    from metodist.demo.planning import build_plans

    data_dir = tmp_path_factory.mktemp("demo")
    with django_db_blocker.unblock(), transaction.atomic():
        build_demo(seed=SEED, echo=lambda _m: None, scale=SCALE, data_dir=data_dir)
        truth = json.loads((data_dir / "demo" / "truth.json").read_text(encoding="utf-8"))
        previous = run_analysis(year=PREVIOUS)
        latest = run_analysis(year=LATEST)
        build_plans(echo=lambda _m: None)
        users = get_user_model().objects
        region = Organisation.objects.get(code=truth["region"]["code"])
        other_mun = Organisation.objects.create(kind=OrganisationKind.MUNICIPALITY, code="demo-m99",
                                                short_name="Другой район", parent=region)
        outsider = users.create_user("outsider", password="x")
        RoleAssignment.objects.create(user=outsider, role="methodologist", organisation=other_mun)
        planted = truth["teacher_deficits"][0]
        other_school = Organisation.objects.filter(kind="school").exclude(code=planted["school"]).order_by(
            "code").first()
        stranger = users.create_user("stranger", password="x")
        other_teacher = Teacher.objects.filter(school=other_school, user__isnull=True).order_by("pk").first()
        other_teacher.user = stranger
        other_teacher.save(update_fields=["user"])
        RoleAssignment.objects.create(user=stranger, role="teacher", organisation=other_school)
        other_admin = users.create_user("other_admin", password="x")
        RoleAssignment.objects.create(user=other_admin, role="school_admin", organisation=other_school)
        cache.clear()
        yield {"truth": truth, "latest": latest, "previous": previous, "planted": planted,
               "other_school": other_school}
        transaction.set_rollback(True)
    cache.clear()


def user(name):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=name)


def login(client, name):
    client.force_login(user(name))
    return client


def planted_family(planted) -> tuple[str, str, int]:
    """`vpr-ma-7` → ("VPR", "ma", 7)."""
    programme, subject, grade = planted["codifier"].split("-")
    return programme.upper(), subject, int(grade)


def solve_rate_by_hand(school_code: str, assessment_code: str, element_code: str) -> tuple[float, int]:
    """Points on the tasks that check the element over their maximum × present works, from the rows."""
    from metodist.collection.models import TaskScore, Work

    works = Work.objects.filter(assessment__code=assessment_code, school__code=school_code, absent=False)
    n = works.count()
    scored = possible = 0
    for score in TaskScore.objects.filter(work__in=works, task__content_elements__code=element_code).select_related(
            "task"):
        scored += score.score or 0
        possible += score.task.max_score
    return 100 * scored / possible, n


@pytest.fixture
def fresh_draft(demo):
    from metodist.core.models import Organisation, Subject
    from metodist.planning.roadmaps import draft_roadmap

    planted = demo["planted"]
    school = Organisation.objects.get(code=planted["school"])
    roadmap = draft_roadmap(demo["latest"], school, subject=Subject.objects.get(code=planted["subject"]),
                            user=user("school_admin"))
    yield roadmap
    roadmap.delete()


@pytest.mark.django_db
def test_the_planted_element_is_a_goal_with_its_baseline_counted_from_the_rows(demo, fresh_draft):
    from metodist.planning.roadmaps import suggested_target

    planted = demo["planted"]
    programme, subject, grade = planted_family(planted)
    roadmap = fresh_draft
    assert roadmap.academic_year.start_year == LATEST + 1 and roadmap.status == "draft"
    goal = roadmap.indicators.get(content_element__codifier=planted["codifier"],
                                  content_element__code=planted["element"])
    assert (goal.programme, goal.subject.code, goal.grade) == (programme, subject, grade)
    assert goal.scope.code == planted["school"] and goal.baseline_year == LATEST
    spring = next(a for a in planted["assessments"] if a["assessment"].split("-")[1] == str(LATEST + 1))
    rate, n = solve_rate_by_hand(planted["school"], spring["assessment"], planted["element"])
    assert n > 0 and goal.baseline == pytest.approx(rate, abs=0.01)
    assert goal.reference is not None and goal.reference > goal.baseline  # a problem field is below its reference
    assert goal.target == suggested_target(goal.baseline, goal.reference)
    assert goal.problem_field.run_id == demo["latest"].pk and goal.problem_field.flagged
    # its baseline is stored as the first value of its track
    first = goal.values.get(year=LATEST)
    assert first.kind == "baseline" and first.value == pytest.approx(goal.baseline)
    # each goal starts with actions that name the element, each with an owner and dates inside the year
    actions = list(goal.actions.all())
    assert len(actions) >= 3
    assert all(a.owner and a.start <= a.due for a in actions)
    assert all(a.due.year in (LATEST + 1, LATEST + 2) for a in actions)
    assert planted["element"] in actions[0].title


@pytest.mark.django_db
def test_approval_follows_its_rules_and_keeps_its_history(demo, fresh_draft):
    from metodist.core.models import AuditEntry
    from metodist.planning.roadmaps import PlanningError, approve, discuss, return_to_draft

    roadmap = fresh_draft
    with pytest.raises(PlanningError):
        approve(roadmap, user("school_admin"))  # not discussed yet
    with pytest.raises(PlanningError):
        discuss(roadmap, user("teacher"), protocol="Протокол № 1")  # a teacher does not run the roadmap
    with pytest.raises(PlanningError):
        discuss(roadmap, user("school_admin"), protocol="  ")  # no protocol
    with pytest.raises(PlanningError):
        discuss(roadmap, user("other_admin"), protocol="Протокол № 1")  # another school's head
    discuss(roadmap, user("association_head") if _may_edit("association_head", roadmap) else user("school_admin"),
            protocol="Протокол ШМО № 1 от 28.08.2026")
    with pytest.raises(PlanningError):
        approve(roadmap, user("methodologist"))  # a school's map is approved by its head
    approve(roadmap, user("school_admin"), comment="Приказ № 5")
    roadmap.refresh_from_db()
    assert roadmap.status == "approved" and roadmap.approved_by == user("school_admin")
    with pytest.raises(PlanningError):
        return_to_draft(roadmap, user("school_admin"), comment="")
    return_to_draft(roadmap, user("school_admin"), comment="Уточнить сроки")
    history = list(roadmap.history.order_by("pk").values_list("action", "status"))
    assert history == [("created", "draft"), ("discussed", "discussed"), ("approved", "approved"),
                       ("returned", "draft")]
    audited = AuditEntry.objects.filter(object_type="roadmap", object_id=str(roadmap.pk))
    assert sorted(audited.values_list("action", flat=True)) == sorted(
        f"roadmap:{a}" for a, _s in history)


def _may_edit(name, roadmap) -> bool:
    from metodist.planning.roadmaps import may_edit

    return may_edit(user(name), roadmap)


@pytest.mark.django_db
def test_the_demos_approved_roadmaps_are_measured_on_the_next_spring(demo):
    from metodist.planning.metrics import Metric, measure
    from metodist.planning.models import Roadmap

    approved = Roadmap.objects.filter(status="approved")
    assert {r.kind for r in approved} == {"school_subject", "school_transition", "municipal"}
    for roadmap in approved:
        assert roadmap.academic_year.start_year == LATEST and roadmap.run_id == demo["previous"].pk
        assert roadmap.indicators.exists()
        for indicator in roadmap.indicators.all():
            values = {v.year: v for v in indicator.values.all()}
            assert values[PREVIOUS].kind == "baseline" and values[LATEST].kind == "final"
            again = measure(Metric.of(indicator), LATEST)
            assert values[LATEST].value == again.value and values[LATEST].works == again.works
    transition = approved.get(kind="school_transition")
    assert transition.organisation.code in {s["school"] for s in demo["truth"]["low_result_schools"]}
    assert transition.mentor_school.code == demo["truth"]["resilient_school"]["school"]
    assert transition.indicators.filter(statistic="mark_2").exists()


@pytest.mark.django_db
def test_recommendations_reach_the_planted_teacher_and_are_not_made_twice(demo):
    from metodist.planning.models import Recommendation
    from metodist.planning.recommendations import generate

    planted = demo["planted"]
    mine = Recommendation.objects.filter(run=demo["latest"], addressee="teacher", teacher__code=planted["teacher"],
                                         organisation__code=planted["school"])
    assert mine.exists()
    assert any(planted["element"] in r.text for r in mine)
    before = Recommendation.objects.count()
    again = generate(demo["latest"])
    assert again["created"] == 0 and Recommendation.objects.count() == before
    addressees = set(Recommendation.objects.filter(run=demo["latest"]).values_list("addressee", flat=True))
    assert {"teacher", "method_service", "municipality"} <= addressees


@pytest.mark.django_db
def test_pages_for_the_owner(demo, client):
    from metodist.planning.models import Roadmap

    login(client, "methodologist")
    index = client.get("/planning/")
    assert index.status_code == 200
    html = index.content.decode()
    for roadmap in Roadmap.objects.all():
        assert f"/planning/{roadmap.pk}/" in html
    transition = Roadmap.objects.get(kind="school_transition")
    page = client.get(f"/planning/{transition.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert transition.title in text and 'class="chart"' in text and transition.mentor_school.short_name in text
    download = client.get("/planning/", {"xlsx": 1})
    book = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    sheet = book.worksheets[0]
    titles = [row[0] for row in sheet.iter_rows(values_only=True)]
    assert sum(1 for t in titles if t in set(Roadmap.objects.values_list("title", flat=True))) == Roadmap.objects.count()
    assert client.get("/planning/recommendations/").status_code == 200
    assert client.get("/planning/new/").status_code == 200


@pytest.mark.django_db
def test_a_roadmap_made_and_approved_in_the_browser(demo, client):
    from metodist.planning.models import Roadmap

    planted = demo["planted"]
    login(client, "school_admin")
    response = client.post("/planning/new/", {"kind": "school_subject", "organisation": planted["school"],
                                              "subject": planted["subject"], "run": demo["latest"].pk})
    assert response.status_code == 302
    roadmap = Roadmap.objects.order_by("-pk").first()
    assert response["Location"] == f"/planning/{roadmap.pk}/"
    # an action marked done without evidence is refused, with a message on the page
    action = roadmap.actions.first()
    form = client.post(f"/planning/{roadmap.pk}/actions/{action.pk}/", {
        "title": action.title, "owner_text": "учитель", "start": action.start.isoformat(),
        "due": action.due.isoformat(), "status": "done"})
    assert form.status_code == 200 and "подтверждение" in form.content.decode()
    client.post(f"/planning/{roadmap.pk}/discuss/", {"protocol": "Протокол № 2 от 30.08.2026"})
    client.post(f"/planning/{roadmap.pk}/approve/", {"comment": ""})
    roadmap.refresh_from_db()
    assert roadmap.status == "approved"
    roadmap.delete()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["stranger", "outsider", "other_admin"])
def test_nobody_else_reaches_a_roadmap(demo, client, name):
    from metodist.planning.models import Roadmap

    roadmap = Roadmap.objects.get(kind="school_subject", status="approved")
    login(client, name)
    assert client.get(f"/planning/{roadmap.pk}/").status_code == 404
    assert client.get(f"/planning/{roadmap.pk}/roadmap.docx").status_code == 404
    assert client.post(f"/planning/{roadmap.pk}/approve/").status_code == 404
    assert client.get(f"/api/roadmaps/{roadmap.pk}/").status_code == 404
    listed = client.get("/api/roadmaps/").json()
    ids = {item["id"] for item in (listed["results"] if isinstance(listed, dict) else listed)}
    assert roadmap.pk not in ids
    assert f"/planning/{roadmap.pk}/" not in client.get("/planning/").content.decode()


@pytest.mark.django_db
def test_the_api_gives_the_owner_the_indicators_with_their_values(demo, client):
    from metodist.planning.models import Roadmap

    roadmap = Roadmap.objects.get(kind="municipal")
    login(client, "methodologist")
    data = client.get(f"/api/roadmaps/{roadmap.pk}/").json()
    assert data["organisation"] == roadmap.organisation.code and data["status"] == "approved"
    stored = {i.pk: {v.year: v.value for v in i.values.all()} for i in roadmap.indicators.all()}
    assert {i["id"]: {v["year"]: v["value"] for v in i["values"]} for i in data["indicators"]} == stored


@pytest.mark.django_db
def test_the_docx_is_the_form_schools_keep_and_libreoffice_opens_it(demo, client, tmp_path):
    import docx

    from metodist.planning.models import Roadmap

    roadmap = Roadmap.objects.get(kind="school_transition")
    login(client, "methodologist")
    response = client.get(f"/planning/{roadmap.pk}/roadmap.docx")
    assert response.status_code == 200
    path = tmp_path / "roadmap.docx"
    path.write_bytes(b"".join(response.streaming_content))
    document = docx.Document(path)
    headers = [[c.text.strip() for c in t.rows[0].cells] for t in document.tables]
    actions = next(h for h in headers if "Мероприятие" in h)
    assert actions[:2] == ["№", "Мероприятие"] and {"Сроки", "Ответственный", "Ожидаемый результат",
                                                     "Показатель"} <= set(actions)
    body = "\n".join(p.text for p in document.paragraphs)
    assert "УТВЕРЖДАЮ" in body
    table = next(t for t in document.tables if "Мероприятие" in [c.text.strip() for c in t.rows[0].cells])
    assert len(table.rows) - 1 == roadmap.actions.count()
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless", "--convert-to",
                    "pdf", "--outdir", str(tmp_path), str(path)], check=True, capture_output=True, timeout=180)
    assert (tmp_path / "roadmap.pdf").stat().st_size > 10_000


@pytest.mark.django_db
def test_an_indicator_added_by_hand_is_measured_by_the_system(demo, client, fresh_draft):
    from metodist.reference.models import Assessment

    planted = demo["planted"]
    roadmap = fresh_draft
    work = Assessment.objects.filter(code__startswith="vpr-2026-ma-", works__school__code=planted["school"]).order_by(
        "code").first()
    element = work.tasks.filter(content_elements__isnull=False).first().content_elements.first()
    login(client, "school_admin")
    assert client.get(f"/planning/{roadmap.pk}/indicators/new/").status_code == 200
    wrong = client.post(f"/planning/{roadmap.pk}/indicators/new/", {
        "assessment": work.code, "scope": planted["school"], "statistic": "solve_rate", "content_element": "99.99"})
    assert wrong.status_code == 200 and "не проверяют" in wrong.content.decode()
    response = client.post(f"/planning/{roadmap.pk}/indicators/new/", {
        "assessment": work.code, "scope": planted["school"], "statistic": "solve_rate",
        "content_element": element.code})
    assert response.status_code == 302
    added = roadmap.indicators.order_by("-position").first()
    rate, _n = solve_rate_by_hand(planted["school"], work.code, element.code)
    assert added.content_element == element and added.baseline_year == work.year - 1
    assert added.baseline == pytest.approx(rate, abs=0.01) and added.target is not None
    assert element.code in added.goal
