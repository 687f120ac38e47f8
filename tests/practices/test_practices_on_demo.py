"""Stage 3 on the demo with the analyses of two years: the evidence of the practices is what the results
say — the course participants' joint practice (their classes planted weak on the element before the course
and better after) «результаты выросли», with its rates counted here again from the Work and TaskScore rows;
the resilient school's practice with no «before» year «устойчиво выше муниципалитета»; the low-results
«Заречная СОШ» gets the resilient «Покровская СОШ» as its first proposed mentor school and the planted
inflated «СОШ № 7» is never proposed; the strong peers of a field are above the region beyond their
interval; a roadmap drafted on the element gets an action to study the matched practice; the pages, XLSX
and API answer as the access rules say."""

from __future__ import annotations

import io
import json
import re

import openpyxl
import pytest
from django.core.cache import cache
from django.db import transaction

pytestmark = pytest.mark.django_db

SEED = 11
SCALE = 8


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.contrib.auth import get_user_model

    from metodist.analysis.runs import run_analysis
    from metodist.core.models import Organisation, OrganisationKind, RoleAssignment, Teacher
    from metodist.demo.build import build_demo
    from metodist.demo.planning import build_plans
    from metodist.demo.practices import build_practices

    data_dir = tmp_path_factory.mktemp("demo")
    with django_db_blocker.unblock(), transaction.atomic():
        build_demo(seed=SEED, echo=lambda _m: None, scale=SCALE, data_dir=data_dir)
        truth = json.loads((data_dir / "demo" / "truth.json").read_text(encoding="utf-8"))
        runs = {2024: run_analysis(year=2024), 2025: run_analysis(year=2025)}
        made = build_practices(echo=lambda _m: None, data_dir=data_dir)
        build_plans(echo=lambda _m: None)
        users = get_user_model().objects
        region = Organisation.objects.get(code=truth["region"]["code"])
        other_mun = Organisation.objects.create(kind=OrganisationKind.MUNICIPALITY, code="demo-m99",
                                                short_name="Другой район", parent=region)
        outsider = users.create_user("outsider", password="x")
        RoleAssignment.objects.create(user=outsider, role="methodologist", organisation=other_mun)
        other_school = Organisation.objects.filter(kind="school").exclude(code__in=["edu900001"]).order_by(
            "-code").first()
        stranger = users.create_user("stranger", password="x")
        other_teacher = Teacher.objects.filter(school=other_school, user__isnull=True).order_by("pk").first()
        other_teacher.user = stranger
        other_teacher.save(update_fields=["user"])
        RoleAssignment.objects.create(user=stranger, role="teacher", organisation=other_school)
        cache.clear()
        yield {"truth": truth, "runs": runs, "made": made, "dir": data_dir}
        transaction.set_rollback(True)
    cache.clear()


def user(name):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=name)


def login(client, name):
    client.force_login(user(name))
    return client


def practice(title_start: str):
    from metodist.practices.models import Practice

    return Practice.objects.get(title__startswith=title_start)


def rate_by_hand(works, element) -> tuple[float, int]:
    """Points on the element's tasks over their maximum, summed row by row in Python."""
    from metodist.collection.models import TaskScore

    points = possible = 0
    counted = set()
    for score in TaskScore.objects.filter(work__in=works, task__content_elements=element).select_related("task"):
        points += score.score
        possible += score.task.max_score
        counted.add(score.work_id)
    return 100 * points / possible, len(counted)


def test_joint_practice_of_the_course_participants_is_confirmed(demo):
    from metodist.collection.models import Work
    from metodist.practices.models import EvidenceVerdict

    joint = practice("Моделирование условия")
    participants = {(p["school"], p["teacher"]) for p in demo["truth"]["course"]["participants"]}
    assert {(a.school.code, a.code) for a in joint.authors.all()} == participants
    row = joint.evidence.get()
    assert (row.before_year, row.after_year) == (2024, 2025)
    for spring, own, reference, works in ((2025, row.before, row.reference_before, row.works_before),
                                          (2026, row.after, row.reference_after, row.works_after)):
        family = Work.objects.filter(assessment__year=spring, assessment__tasks__content_elements=row.content_element,
                                     absent=False).distinct()
        by_hand, n = rate_by_hand(family.filter(teacher__in=joint.authors.all()), row.content_element)
        assert own == pytest.approx(by_hand, abs=0.01) and works == n
        municipality = joint.school.parent
        by_hand, _n = rate_by_hand(family.filter(school__path__startswith=municipality.path), row.content_element)
        assert reference == pytest.approx(by_hand, abs=0.01)
    # planted: weak before (below the municipality), better after (above it)
    assert row.before < row.reference_before and row.after > row.reference_after
    assert row.gain == pytest.approx((row.after - row.reference_after) - (row.before - row.reference_before), abs=0.02)
    assert row.gain_lower > 0 and row.verdict == EvidenceVerdict.IMPROVED


def test_other_practices_are_not_claimed_beyond_their_data(demo):
    from metodist.practices.models import EvidenceVerdict

    resilient = practice("Индивидуальные планы")
    rows = list(resilient.evidence.all())
    assert rows and all(r.before is None for r in rows)  # taken up in 2022/2023, before the demo's data
    assert {r.verdict for r in rows} <= {EvidenceVerdict.HIGH_LEVEL, EvidenceVerdict.INSUFFICIENT}
    assert any(r.verdict == EvidenceVerdict.HIGH_LEVEL and r.level_lower > 0 for r in rows)
    for r in rows:
        if r.verdict == EvidenceVerdict.INSUFFICIENT:  # too few works, or no year before and not above the rest
            assert r.works_after < 10 or (r.level_lower is None or r.level_lower <= 0)
    draft = practice("Устный счёт")
    assert draft.evidence.get().verdict == EvidenceVerdict.INSUFFICIENT  # taken up in 2026: nothing after yet


def test_mentor_school_proposals(demo):
    from metodist.core.models import Organisation
    from metodist.practices.matching import MAX_LOAD, doubtful_schools, propose_mentor_schools

    municipality = Organisation.objects.get(code="demo-m01")
    inflated = Organisation.objects.get(short_name__contains="СОШ № 7")
    for year, run in demo["runs"].items():
        assert inflated.pk in doubtful_schools(run)
        proposals = {p.school.code: p for p in propose_mentor_schools(run, municipality)}
        assert "edu900015" in proposals, year
        first = proposals["edu900015"].candidates[0]
        assert first.school.code == "edu900016", (year, [c.school.short_name for c in proposals["edu900015"].candidates])
        for p in proposals.values():
            for c in p.candidates:
                assert c.school.pk != inflated.pk and c.strength > 0 and c.load < MAX_LOAD
                assert c.school.code not in proposals  # a low-results school is nobody's mentor
            assert [c.score for c in p.candidates] == sorted((c.score for c in p.candidates), reverse=True)
    # the transition plan of 2025/2026 already pairs them: the page says so
    proposals = {p.school.code: p for p in propose_mentor_schools(demo["runs"][2024], municipality)}
    assert proposals["edu900015"].current == [] and proposals["edu900015"].candidates[0].pairing is None


def test_strong_peers_of_the_planted_field(demo):
    from metodist.analysis.models import ProblemField
    from metodist.practices.matching import doubtful_schools, strong_peers

    planted = demo["truth"]["teacher_deficits"][0]
    field = ProblemField.objects.get(run=demo["runs"][2024], group_level="teacher", teacher__code=planted["teacher"],
                                     teacher__school__code=planted["school"],
                                     content_element__codifier=planted["codifier"],
                                     content_element__code=planted["element"])
    peers = strong_peers(field)
    assert peers["school"], "a school strong on the element"
    doubtful = doubtful_schools(field.run)
    for peer in peers["school"] + peers["teacher"]:
        assert peer.lower > peer.reference and peer.works >= 10
        assert peer.school.pk not in doubtful
    assert all(p.teacher.pk != field.teacher_id for p in peers["teacher"])
    scores = [p.score for p in peers["school"]]
    assert scores == sorted(scores, reverse=True)


def test_matched_practice_in_routes_and_roadmaps(demo):
    from metodist.planning.models import RoadmapAction
    from metodist.practices.matching import practices_for_element

    joint = practice("Моделирование условия")
    found = practices_for_element(joint.content_elements.get().pk)
    assert found and found[0] == joint  # the draft on the same element is not offered
    geometry = practice("Чертёж-конспект")
    actions = RoadmapAction.objects.filter(link_kind="practice", link_id=geometry.pk)
    assert actions.exists()
    for action in actions:
        assert action.indicator.content_element_id == geometry.content_elements.get().pk


def test_cycle_shows_stage_three(demo, client):
    from metodist.core import cycle
    from metodist.core.models import Organisation

    municipality = Organisation.objects.get(code="demo-m01")
    stage = next(s for s in cycle.stages(municipality, 2025) if s.number == 3)
    assert stage.url and stage.state in ("done", "partial") and "практик" in stage.status


def test_pages(demo, client):
    from metodist.assistance.models import MentorSchool
    from metodist.core.models import Organisation

    login(client, "methodologist")
    joint = practice("Моделирование условия")
    response = client.get("/practices/")
    assert response.status_code == 200 and joint.title in response.content.decode()
    response = client.get(f"/practices/{joint.pk}/")
    page = response.content.decode()
    assert response.status_code == 200 and "результаты выросли" in page and "chart-spec" in page
    assert client.get("/practices/?verdict=improved").content.decode().count(f"/practices/{joint.pk}/") >= 1
    assert "Моделирование" not in client.get("/practices/?verdict=insufficient&q=Моделирование").content.decode() \
        .split("<tbody>")[1]
    book = openpyxl.load_workbook(io.BytesIO(b"".join(client.get("/practices/?xlsx=1").streaming_content)))
    assert any(joint.title in str(c.value) for row in book.active.iter_rows() for c in row)
    response = client.get("/practices/communities/")
    assert response.status_code == 200 and "Клуб «ЛИДЕР»" in response.content.decode()
    from metodist.practices.models import CommunitySession

    field_session = CommunitySession.objects.get(format="field")
    page = client.get(f"/practices/sessions/{field_session.pk}/").content.decode()
    assert "Заречная" in page and "Индивидуальные планы" in page
    kind = "club"
    assert client.get(f"/practices/communities/{kind}/{field_session.club_id}/").status_code == 200
    response = client.get("/practices/mentor-schools/?year=2024")
    page = response.content.decode()
    assert response.status_code == 200 and "Покровская" in page and "Закрепить" in page
    inflated = Organisation.objects.get(short_name__contains="СОШ № 7")
    assert f"mentor_school={inflated.pk}&" not in page and f"mentor_school={inflated.pk}\"" not in page
    # «Закрепить» opens the pairing form with the pair and the next year filled in; once saved, the
    # proposal says «Закреплена» and links to the pairing instead of offering it again
    weak, strong = (Organisation.objects.get(code=code) for code in ("edu900015", "edu900016"))
    link = re.search(rf'href="(/assistance/mentor-schools/new/\?school={weak.pk}&amp;mentor_school={strong.pk}[^"]*)"',
                     page).group(1).replace("&amp;", "&")
    form = client.get(link).context["form"]
    assert form.initial["school"] == str(weak.pk) and form.initial["mentor_school"] == str(strong.pk)
    response = client.post("/assistance/mentor-schools/new/", {
        "school": weak.pk, "mentor_school": strong.pk, "academic_year": form.initial["academic_year"],
        "plan": "Взаимопосещение уроков математики", "status": "active"})
    pairing = MentorSchool.objects.get(school=weak, mentor_school=strong)
    assert response.status_code == 302 and pairing.academic_year.start_year == 2025
    page = client.get("/practices/mentor-schools/?year=2024").content.decode()
    assert f'<a href="/assistance/mentor-schools/{pairing.pk}/">Закреплена</a>' in page
    book = openpyxl.load_workbook(io.BytesIO(b"".join(client.get("/practices/mentor-schools/?year=2024&xlsx=1").streaming_content)))
    assert book.active.max_row > 1


def test_match_page_of_a_problem_field(demo, client):
    from metodist.analysis.models import ProblemField

    planted = demo["truth"]["teacher_deficits"][0]
    field = ProblemField.objects.get(run=demo["runs"][2024], group_level="teacher", teacher__code=planted["teacher"],
                                     teacher__school__code=planted["school"],
                                     content_element__codifier=planted["codifier"],
                                     content_element__code=planted["element"])
    login(client, "methodologist")
    page = client.get(f"/practices/match/{field.pk}/").content.decode()
    assert "Чертёж-конспект" in page and "Кто силён по этой теме" in page
    login(client, "outsider")
    assert client.get(f"/practices/match/{field.pk}/").status_code == 404


def test_access(demo, client):
    from metodist.practices.models import CommunitySession

    joint, draft = practice("Моделирование условия"), practice("Устный счёт")
    login(client, "outsider")  # a methodologist of another municipality: the published library, no drafts
    assert client.get(f"/practices/{joint.pk}/").status_code == 200
    assert client.get(f"/practices/{draft.pk}/").status_code == 404
    assert client.get(f"/api/practices/{draft.pk}/").status_code == 404
    ids = [p["id"] for p in client.get("/api/practices/").json()["results"]]
    assert joint.pk in ids and draft.pk not in ids
    session = CommunitySession.objects.filter(association__isnull=False).first()
    assert client.get(f"/practices/sessions/{session.pk}/").status_code == 404
    assert client.get(f"/api/community-sessions/{session.pk}/").status_code == 404
    login(client, "stranger")  # a teacher of another school
    assert client.get(f"/practices/{draft.pk}/").status_code == 404
    assert client.get(f"/practices/{draft.pk}/edit/").status_code == 404
    login(client, "teacher")  # the draft's author: sees and edits it, may not publish it
    assert client.get(f"/practices/{draft.pk}/").status_code == 200
    assert client.get(f"/practices/{draft.pk}/edit/").status_code == 200
    assert client.post(f"/practices/{draft.pk}/publish/").status_code == 403


def test_api_by_problem_field(demo, client):
    from metodist.analysis.models import ProblemField

    joint = practice("Моделирование условия")
    element = joint.content_elements.get()
    field = ProblemField.objects.filter(content_element=element).first()
    login(client, "methodologist")
    data = client.get(f"/api/practices/?field={field.pk}").json()
    ids = [p["id"] for p in data["results"]]
    assert joint.pk in ids
    joint_data = next(p for p in data["results"] if p["id"] == joint.pk)
    assert joint_data["evidence"][0]["verdict"] == "improved"


def test_forms_describe_publish_and_record(demo, client):
    from metodist.core.models import MethodAssociation, Teacher
    from metodist.practices.models import CommunitySession, Practice

    login(client, "methodologist")
    joint = practice("Моделирование условия")
    element = joint.content_elements.get()
    author = joint.authors.order_by("pk").first()
    response = client.post("/practices/new/", {
        "title": "Задачи-двойники", "school": author.school_id, "authors": [author.pk], "subject": joint.subject_id,
        "grade_from": 6, "grade_to": 5, "content_elements": [element.pk], "started_year": 2025,
        "evidence_scope": "teacher"})
    assert response.status_code == 200 and "«По класс» меньше «с класса»" in response.content.decode()
    response = client.post("/practices/new/", {
        "title": "Задачи-двойники", "school": author.school_id, "authors": [author.pk], "subject": joint.subject_id,
        "grade_from": 5, "grade_to": 6, "content_elements": [element.pk], "started_year": 2025,
        "evidence_scope": "teacher"})
    assert response.status_code == 302
    made = Practice.objects.get(title="Задачи-двойники")
    row = made.evidence.get()
    assert row.works_before and row.works_after and row.before is not None  # counted on saving, not typed
    assert made.status == "draft"
    assert client.post(f"/practices/{made.pk}/publish/").status_code == 302
    made.refresh_from_db()
    assert made.status == "published"

    association = MethodAssociation.objects.filter(organisation__code="demo-m01").first()
    member = association.members.first()
    url = f"/practices/communities/association/{association.pk}/sessions/new/"
    response = client.post(url, {"date": "2026-11-18", "format": "webinar", "topic": "Вебинар без ссылки",
                                 "guests": 0})
    assert response.status_code == 200 and "укажите ссылку" in response.content.decode()
    response = client.post(url, {"date": "2026-11-18", "format": "webinar", "topic": "Вебинар ГМО",
                                 "link": "https://example.org/w", "guests": 3, "participants": [member.pk],
                                 "practices": [made.pk], "content_elements": [element.pk]})
    assert response.status_code == 302
    session = CommunitySession.objects.get(topic="Вебинар ГМО")
    assert session.association == association and list(session.practices.all()) == [made]
    outsider_teacher = Teacher.objects.exclude(pk__in=association.members.values("pk")).first()
    response = client.post(url, {"date": "2026-11-19", "format": "in_person", "topic": "Чужой участник",
                                 "guests": 0, "participants": [outsider_teacher.pk]})
    assert response.status_code == 200  # only the community's members are participants


def test_evidence_recounted_after_import(demo):
    from metodist.practices.evidence import recompute_for_assessment
    from metodist.reference.models import Assessment

    joint = practice("Моделирование условия")
    element = joint.content_elements.get()
    assessment = Assessment.objects.filter(tasks__content_elements=element, year=2026).first()
    before = joint.evidence.get().pk
    assert recompute_for_assessment(assessment) >= 2  # the joint practice and the draft
    assert joint.evidence.get().pk != before


def test_command_line(demo, monkeypatch):
    """`metodist practices`: the same proposals, matches and evidence as the pages, as JSON; a wrong number
    or organisation is an error with its exit code, not a traceback."""
    from typer.testing import CliRunner

    from metodist.analysis.models import ProblemField
    from metodist.cli import app

    monkeypatch.setattr("metodist.bootstrap._ready", True)
    runner = CliRunner()
    result = runner.invoke(app, ["practices", "mentors", "--org", "demo-m01", "--year", "2024", "--json"])
    assert result.exit_code == 0, result.output
    schools = {s["code"]: s for s in json.loads(result.stdout)["schools"]}
    assert schools["edu900015"]["candidates"][0]["code"] == "edu900016"
    joint = practice("Моделирование условия")
    field = ProblemField.objects.filter(content_element=joint.content_elements.get()).first()
    result = runner.invoke(app, ["practices", "match", "--field", str(field.pk), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["field"] == field.pk and joint.pk in [p["id"] for p in data["practices"]]
    assert all(s["lower"] > s["reference"] for s in data["schools"])  # strong beyond their interval
    result = runner.invoke(app, ["practices", "evidence", "--json"])
    assert result.exit_code == 0, result.output
    verdicts = {p["id"]: p["verdicts"] for p in json.loads(result.stdout)["practices"]}
    assert "improved" in verdicts[joint.pk]
    assert runner.invoke(app, ["practices", "match", "--field", "999999"]).exit_code == 2
    assert runner.invoke(app, ["practices", "mentors", "--org", "nope", "--year", "2024"]).exit_code == 2
    assert runner.invoke(app, ["practices", "mentors", "--org", "demo-m01", "--year", "2019"]).exit_code == 1
