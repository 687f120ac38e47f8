"""Stage 5 of the demo municipality (8 schools, built once for the module with the analyses of 2024/2025 and
2025/2026 and the plans of stage 4): the planted course with exactly the planted participants and its
questionnaires as the files say, a second course with nobody planted to improve, the routes of the planted
deficit teachers aimed at their weak element, the mentor school of the low-results school with its
transition plan, events with attendance, answered requests; the pages read it for the demo's users."""

from __future__ import annotations

import json
from collections import Counter

import openpyxl
import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client

SEED = 11
SCALE = 8


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    from metodist.analysis.runs import run_analysis
    from metodist.demo.assistance import build_assistance
    from metodist.demo.build import build_demo
    from metodist.demo.planning import build_plans

    data_dir = tmp_path_factory.mktemp("demo")
    messages: list[str] = []
    with django_db_blocker.unblock(), transaction.atomic():
        build_demo(seed=SEED, echo=lambda _m: None, scale=SCALE, data_dir=data_dir)
        for year in (2024, 2025):
            run_analysis(year=year)
        build_plans(echo=lambda _m: None)
        made = build_assistance(echo=messages.append, data_dir=data_dir)
        truth = json.loads((data_dir / "demo" / "truth.json").read_text(encoding="utf-8"))
        cache.clear()
        yield {"truth": truth, "made": made, "dir": data_dir / "demo", "messages": messages}
        transaction.set_rollback(True)
    cache.clear()


def _client(username: str) -> Client:
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def _planted_course():
    from metodist.assistance.models import Course
    from metodist.demo.world import COURSE

    return Course.objects.get(title=COURSE["title"])


def _file_rows(path) -> list[dict]:
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:] if any(v not in (None, "") for v in r)]


@pytest.mark.django_db
def test_the_planted_course_has_exactly_the_planted_participants(demo):
    truth = demo["truth"]["course"]
    course = _planted_course()
    assert course.provider.code == truth["provider"] and course.provider.kind == "institute"
    assert course.hours == truth["hours"] == 72
    assert str(course.academic_year) == truth["academic_year"]
    assert (course.starts.isoformat(), course.ends.isoformat()) == (truth["starts"], truth["ends"])
    assert course.subject.code == truth["subject"]
    assert [(e.codifier, e.code) for e in course.content_elements.all()] == [(truth["codifier"], truth["element"])]
    modules = {m.kind: m.hours for m in course.modules.all()}
    assert modules["subject"] == 48 and sum(modules.values()) == 72
    enrolled = set(course.enrolments.values_list("teacher__school__code", "teacher__code"))
    assert enrolled == {(p["school"], p["teacher"]) for p in truth["participants"]}
    assert set(course.enrolments.values_list("status", flat=True)) == {"completed"}


@pytest.mark.django_db
def test_the_questionnaires_of_the_course_say_what_the_files_say(demo):
    from metodist.assistance.courses import final_satisfaction, survey_summaries

    course = _planted_course()
    summaries = {s.survey.stage: s for s in survey_summaries(course)}
    assert set(summaries) == {"pre_course", "final"}
    pre = _file_rows(demo["dir"] / "files" / "surveys" / "course-pre.xlsx")
    final = _file_rows(demo["dir"] / "files" / "surveys" / "course-final.xlsx")
    assert summaries["pre_course"].responses == len(pre)
    assert summaries["final"].responses == len(final) == len(demo["truth"]["course"]["participants"])
    ratings = [int(r["Удовлетворённость"]) for r in final]
    assert final_satisfaction(list(summaries.values())).satisfaction == pytest.approx(sum(ratings) / len(ratings),
                                                                                      abs=0.005)
    assert summaries["final"].participants == len(final)


@pytest.mark.django_db
def test_the_second_course_has_nobody_planted(demo):
    from metodist.assistance.models import Course

    truth = demo["truth"]
    second = Course.objects.filter(academic_year__start_year=2024).exclude(pk=_planted_course().pk).get()
    people = set(second.enrolments.values_list("teacher__school__code", "teacher__code"))
    assert len(people) >= 3
    planted = {(p["school"], p["teacher"]) for p in truth["course"]["participants"]}
    deficits = {(d["school"], d["teacher"]) for d in truth["teacher_deficits"]}
    assert not people & planted and not people & deficits
    assert (truth["course"]["codifier"], truth["course"]["element"]) not in set(
        second.content_elements.values_list("codifier", "code"))


@pytest.mark.django_db
def test_every_planted_deficit_teacher_has_a_route_aimed_at_his_element(demo):
    from metodist.assistance.models import Course, DevelopmentRoute, ItemStatus

    deficits = demo["truth"]["teacher_deficits"]
    routes = DevelopmentRoute.objects.select_related("teacher__school", "academic_year")
    assert routes.count() == len(deficits)
    for d in deficits:
        route = routes.get(teacher__school__code=d["school"], teacher__code=d["teacher"])
        assert route.academic_year.start_year == 2025
        aimed = set(route.items.filter(content_element__isnull=False).values_list(
            "content_element__codifier", "content_element__code"))
        assert (d["codifier"], d["element"]) in aimed, d
        course_ids = set(route.items.filter(kind="course").values_list("link_id", flat=True))
        targeted = set(Course.objects.filter(pk__in=course_ids).values_list(
            "content_elements__codifier", "content_elements__code"))
        assert (d["codifier"], d["element"]) in targeted, d  # a course on the planted element
        statuses = list(route.items.values_list("status", flat=True))
        done = sum(1 for s in statuses if s == ItemStatus.DONE)
        if route.status == "approved":
            assert 0 < done < len(statuses)
        else:
            assert done == 0
    assert routes.filter(status="approved").count() == len(deficits) - 1


@pytest.mark.django_db
def test_the_mentor_school_works_with_the_transition_plan(demo):
    from metodist.assistance.models import MentorSchool

    pairing = MentorSchool.objects.select_related("roadmap__organisation", "roadmap__mentor_school").get(
        mentor_school__code="edu900016", school__code="edu900015")
    assert pairing.roadmap is not None and pairing.roadmap.kind == "school_transition"
    assert pairing.roadmap.organisation.code == "edu900015" and pairing.roadmap.mentor_school.code == "edu900016"
    assert pairing.academic_year == pairing.roadmap.academic_year
    assert pairing.content_elements.exists() and pairing.plan


@pytest.mark.django_db
def test_events_mentoring_and_requests(demo):
    from metodist.assistance.models import AssistanceRequest, Event, EventAttendance, Mentorship

    kinds = set(Event.objects.values_list("kind", flat=True))
    assert {"master_class", "open_lesson", "seminar", "round_table", "webinar", "field_session", "subject_week",
            "subject_decade", "open_doors"} <= kinds
    rated = EventAttendance.objects.filter(satisfaction__isnull=False)
    assert rated.exists() and not rated.filter(attended=False).exists()
    assert set(rated.values_list("satisfaction", flat=True)) <= {1, 2, 3, 4, 5}
    assert 2 <= Mentorship.objects.count() <= 4
    statuses = Counter(AssistanceRequest.objects.values_list("status", flat=True))
    assert statuses["answered"] + statuses["closed"] >= 4 and statuses["new"] >= 1
    answered = AssistanceRequest.objects.filter(status__in=["answered", "closed"])
    assert not answered.filter(answer="").exists() and not answered.filter(answered_at__isnull=True).exists()
    assert answered.exclude(help_course=None, help_event=None, help_mentorship=None).exists()


@pytest.mark.django_db
def test_roadmap_actions_link_to_the_help(demo):
    from metodist.planning.models import RoadmapAction

    linked = RoadmapAction.objects.exclude(link_kind="")
    assert {a.link_kind for a in linked} == {"course", "event"}
    course_action = linked.filter(link_kind="course").first()
    page = _client("methodologist").get(f"/assistance/courses/{course_action.link_id}/").content.decode()
    assert course_action.roadmap.title in page


@pytest.mark.django_db
def test_the_pages_on_the_demo(demo):
    methodologist = _client("methodologist")
    for url in ["/assistance/", "/assistance/courses/", "/assistance/requests/", "/assistance/routes/",
                "/assistance/mentoring/", "/assistance/events/", "/assistance/events/?kind=webinar"]:
        assert methodologist.get(url).status_code == 200, url
    course = _planted_course()
    page = methodologist.get(f"/assistance/courses/{course.pk}/").content.decode()
    n = len(demo["truth"]["course"]["participants"])
    assert f"{n} слушател" in page and "Удовлетворённость по итоговому анкетированию" in page
    home = methodologist.get("/").content.decode()
    assert "/assistance/" in home


@pytest.mark.django_db
def test_the_demo_teacher_sees_his_route_and_not_the_others(demo):
    from metodist.assistance.models import AssistanceRequest, DevelopmentRoute
    from metodist.core.models import Teacher

    teacher = Teacher.objects.get(user__username="teacher")
    client = _client("teacher")
    own = DevelopmentRoute.objects.get(teacher=teacher)
    assert client.get(f"/assistance/routes/{own.pk}/").status_code == 200
    for other in DevelopmentRoute.objects.exclude(teacher=teacher):
        assert client.get(f"/assistance/routes/{other.pk}/").status_code == 404
    listing = client.get("/assistance/requests/").content.decode()
    for item in AssistanceRequest.objects.exclude(teacher=teacher):
        assert f"/assistance/requests/{item.pk}/" not in listing
    for item in AssistanceRequest.objects.filter(teacher=teacher):
        assert f"/assistance/requests/{item.pk}/" in listing


@pytest.mark.django_db
def test_rerunning_the_demo_step_changes_nothing(demo):
    from metodist.assistance.models import AssistanceRequest, Course, DevelopmentRoute, Event
    from metodist.demo.assistance import build_assistance

    before = (Course.objects.count(), Event.objects.count(), AssistanceRequest.objects.count(),
              DevelopmentRoute.objects.count())
    build_assistance(echo=lambda _m: None, data_dir=demo["dir"].parent)
    assert before == (Course.objects.count(), Event.objects.count(), AssistanceRequest.objects.count(),
                      DevelopmentRoute.objects.count())
    assert demo["messages"] and "курсов" in demo["messages"][0]
