"""Stage 5 logic on the hand-made world (conftest): a route proposed from deficits (which course, event and
mentor, and why not the others), its progress, approval and audit; a course's modules and questionnaires;
grouping of requests against a hand count; the catalogue and teacher-owned access rules."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from metodist.assistance import courses as course_logic
from metodist.assistance import requests as request_logic
from metodist.assistance import routes
from metodist.assistance.courses import AssistanceError
from metodist.assistance.models import (
    AssistanceRequest,
    Course,
    DevelopmentRoute,
    Enrolment,
    EnrolmentStatus,
    Event,
    ItemKind,
    ItemStatus,
    MentorSchool,
    Mentorship,
    RequestStatus,
    RouteStatus,
)
from metodist.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _items(route):
    return list(route.items.order_by("position"))


def test_a_route_proposes_the_course_on_the_teachers_weak_element(world):
    route = routes.propose_route(world["weak"], world["run"])
    assert route.academic_year.start_year == 2025 and route.status == RouteStatus.DRAFT
    courses = {i.link_id for i in route.items.filter(kind=ItemKind.COURSE)}
    # the exact course (element 6 of ВПР 7) for «Геометрия» (the first of the two on it), the methodological
    # one for the other need; not the one of the same name (a weaker match), nor the ended, nor the Russian one
    assert courses == {world["exact"].pk, world["method"].pk}
    geometry_item = route.items.get(link_id=world["exact"].pk, kind=ItemKind.COURSE)
    assert geometry_item.content_element_id == world["geometry"].pk
    assert geometry_item.deficit_id == world["deficit"].pk
    assert geometry_item.due == world["exact"].ends
    assert "Геометрия" in route.basis and "Формирующее оценивание" in route.basis


def test_the_route_offers_events_meant_for_the_teachers_school_only(world):
    route = routes.propose_route(world["weak"], world["run"])
    events = set(route.items.filter(kind=ItemKind.EVENT, link_id__isnull=False).values_list("link_id", flat=True))
    assert events == {world["webinar"].pk}  # not the seminar of the other municipality


def test_the_mentor_is_strong_on_the_element_and_of_the_same_school(world):
    route = routes.propose_route(world["weak"], world["run"])
    mentor = route.items.get(kind=ItemKind.MENTORSHIP).mentor
    # «mid» (highest category) scored 2 of 4, «flawed» has the same deficit, «other» is of another school
    assert mentor == world["strong"]
    ranked = routes.mentor_candidates(world["weak"], routes.needs_of(world["weak"], world["run"])[0], world["run"], 2025)
    assert ranked == [world["strong"], world["other"]]


def test_a_busy_mentor_is_not_proposed(world):
    for mentee in ("mid", "russian"):
        Mentorship.objects.create(mentor=world["strong"], mentee=world[mentee], academic_year=world["years"][2025],
                                  starts=dt.date(2025, 9, 1))
    route = routes.propose_route(world["weak"], world["run"])
    assert route.items.get(kind=ItemKind.MENTORSHIP).mentor == world["other"]


def test_an_existing_mentorship_is_taken_into_the_route(world):
    made = Mentorship.objects.create(mentor=world["other"], mentee=world["weak"], academic_year=world["years"][2025],
                                     starts=dt.date(2025, 9, 1))
    route = routes.propose_route(world["weak"], world["run"])
    item = route.items.get(kind=ItemKind.MENTORSHIP)
    assert item.link_id == made.pk and item.mentor == world["other"]


def test_items_are_in_date_order_and_rerunning_adds_nothing(world):
    route = routes.propose_route(world["weak"], world["run"])
    dues = [i.due for i in _items(route)]
    assert dues == sorted(dues)
    count = route.items.count()
    again = routes.propose_route(world["weak"], world["run"])
    assert again.pk == route.pk and again.items.count() == count
    assert DevelopmentRoute.objects.count() == 1


def test_a_new_course_is_added_to_a_draft_but_not_to_an_approved_route(world, people):
    route = routes.propose_route(world["weak"], world["run"])
    world["exact"].content_elements.clear()
    world["local"].content_elements.clear()  # the other course on the element (for M1's teachers)
    route.items.filter(kind=ItemKind.COURSE, link_id=world["exact"].pk).delete()
    again = routes.propose_route(world["weak"], world["run"])
    assert set(again.items.filter(kind=ItemKind.COURSE).values_list("link_id", flat=True)) == {
        world["same_name"].pk, world["method"].pk}  # now the course of the same name is the best
    routes.approve_route(again, people["meth1"])
    world["exact"].content_elements.add(world["geometry"])
    before = again.items.count()
    assert routes.propose_route(world["weak"], world["run"]).items.count() == before


def test_a_teacher_with_no_deficits_gets_no_route(world):
    with pytest.raises(AssistanceError):
        routes.propose_route(world["russian"], world["run"])
    assert not DevelopmentRoute.objects.exists()


def test_match_score():
    need = routes.Need("Геометрия", "subject", 1, 10, "Геометрия", 1.0, True, "")
    assert routes.match_score(need, [(10, "Геометрия")], [], 1) == 3
    assert routes.match_score(need, [(11, "геометрия.")], [], 1) == 2
    assert routes.match_score(need, [(10, "Геометрия")], [], 2) == 0  # another subject
    assert routes.match_score(need, [(12, "Уравнения")], ["subject"], None) == 0
    method = routes.Need("Оценивание", "methodological", None, None, "", 0.5, False, "")
    assert routes.match_score(method, [], ["methodological"], None) == 1
    assert routes.match_score(method, [], ["digital"], None) == 0


def test_progress_is_the_share_of_items_done(world, people):
    route = routes.propose_route(world["weak"], world["run"])
    items = _items(route)
    assert routes.progress(route) == 0
    for item in items[:3]:
        routes.set_item_status(item, ItemStatus.DONE, people["weak"])
    assert routes.progress(route) == pytest.approx(3 / len(items))
    routes.set_item_status(items[0], ItemStatus.PLANNED, people["weak"])
    assert routes.progress(route) == pytest.approx(2 / len(items))
    assert routes.progress_share([]) is None
    assert routes.progress_share(["done", "planned", "planned", "done"]) == 0.5


def test_approval_needs_the_right_role_and_is_audited(world, people):
    route = routes.propose_route(world["weak"], world["run"], user=people["admin11"])
    with pytest.raises(AssistanceError):
        routes.approve_route(route, people["weak"])  # a teacher does not approve his own route
    with pytest.raises(AssistanceError):
        routes.approve_route(route, people["meth2"])  # the other municipality's method service
    routes.approve_route(route, people["admin11"], comment="протокол № 2")
    route.refresh_from_db()
    assert route.status == RouteStatus.APPROVED and route.approved_by == people["admin11"]
    with pytest.raises(AssistanceError):
        routes.return_route(route, people["admin11"], comment="")
    routes.return_route(route, people["admin11"], comment="добавить курс")
    actions = list(AuditEntry.objects.filter(object_type="developmentroute", object_id=str(route.pk))
                   .order_by("at", "pk").values_list("action", flat=True))
    assert actions == ["assistance:route_proposed", "assistance:route_approved", "assistance:route_returned"]
    labels = [h["label"] for h in routes.history(route)]
    assert str(labels[1]) == "утверждён"


def test_batch_proposal_for_a_school(world):
    counts = routes.propose_for(world["school11"], world["run"])
    assert counts["created"] == 2  # «weak» and «flawed» have deficits
    assert set(DevelopmentRoute.objects.values_list("teacher__code", flat=True)) == {"T-weak", "T-flawed"}
    again = routes.propose_for(world["school11"], world["run"])
    assert again == {"created": 0, "completed": 2, "approved": 0, "items": 0}


def test_mentorship_from_a_route_item(world):
    from metodist.assistance.events import mentorship_from_item

    route = routes.propose_route(world["weak"], world["run"])
    item = route.items.get(kind=ItemKind.MENTORSHIP)
    made = mentorship_from_item(item)
    assert (made.mentor, made.mentee, made.academic_year.start_year) == (world["strong"], world["weak"], 2025)
    assert list(made.content_elements.all()) == [world["geometry"]]
    item.refresh_from_db()
    assert item.link_id == made.pk
    assert mentorship_from_item(item).pk == made.pk


# --- courses ---------------------------------------------------------------------------------------------

def test_modules_do_not_exceed_the_course_hours(world):
    from metodist.assistance.models import CourseModule

    course = world["exact"]
    CourseModule.objects.create(course=course, title="Инвариантный", hours=24, kind="invariant")
    course_logic.check_modules(course, 48)  # 24 + 48 = 72
    with pytest.raises(AssistanceError):
        course_logic.check_modules(course, 49)


def test_enrol_keeps_existing_statuses(world):
    course = world["exact"]
    first = course_logic.enrol(course, [world["weak"], world["strong"]], status=EnrolmentStatus.COMPLETED)
    assert first == {"created": 2, "already": 0}
    again = course_logic.enrol(course, [world["weak"], world["mid"]], status=EnrolmentStatus.APPLIED)
    assert again == {"created": 1, "already": 1}
    statuses = dict(Enrolment.objects.values_list("teacher__code", "status"))
    assert statuses == {"T-weak": "completed", "T-strong": "completed", "T-mid": "applied"}
    assert Enrolment.objects.get(teacher=world["weak"]).completed_at == course.ends


def test_questionnaires_are_linked_by_title_and_summarised(world, people):
    from metodist.collection.models import Survey, SurveyResponse, SurveyStage

    course = world["exact"]
    course_logic.enrol(course, [world["weak"], world["strong"], world["other"]])
    final = Survey.objects.create(title=course.title, stage=SurveyStage.FINAL, organisation=world["institute"],
                                  conducted_on=dt.date(2025, 11, 30))
    pre = Survey.objects.create(title=course.title, stage=SurveyStage.PRE_COURSE, organisation=world["institute"],
                                conducted_on=dt.date(2025, 10, 1))
    Survey.objects.create(title="Другое", stage=SurveyStage.FINAL, organisation=world["institute"],
                          conducted_on=dt.date(2025, 11, 30))
    for teacher, rating in (("weak", 5), ("strong", 4), ("other", 2), ("far", 3)):
        SurveyResponse.objects.create(survey=final, teacher=world[teacher], satisfaction=rating, answers={})
    SurveyResponse.objects.create(survey=pre, teacher=world["weak"], answers={})
    assert course_logic.link_surveys(course) == 2
    assert course_logic.link_surveys(course) == 0
    everything = {s.survey.stage: s for s in course_logic.survey_summaries(course)}
    assert (everything["final"].responses, everything["final"].rated) == (4, 4)
    assert everything["final"].satisfaction == pytest.approx((5 + 4 + 2 + 3) / 4)
    assert everything["final"].participants == 3  # «far» answered but is not enrolled
    assert everything["pre_course"].satisfaction is None
    # M1's methodologist counts only his teachers' answers (the institute's survey itself is not his)
    mine = {s.survey.stage: s for s in course_logic.survey_summaries(course, people["meth1"])}
    assert mine["final"].responses == 3 and mine["final"].satisfaction == pytest.approx((5 + 4 + 2) / 3, abs=0.005)  # two decimals
    by_course = course_logic.final_satisfaction_by_course([course.pk], people["meth2"])
    assert by_course == {course.pk: (1, 3.0)}


# --- requests ------------------------------------------------------------------------------------------

REQUESTS = [  # (teacher, area, subject, status)
    ("weak", "subject", "ma", "new"), ("weak", "methodological", "ma", "answered"),
    ("strong", "subject", "ma", "in_work"), ("mid", "subject", "ma", "new"), ("russian", "subject", "ru", "closed"),
    ("other", "digital", None, "new"), ("far", "subject", "ma", "new"), ("far", "digital", None, "answered"),
]


def _make_requests(world):
    for key, area, subject, status in REQUESTS:
        AssistanceRequest.objects.create(teacher=world[key], competence_area=area, status=status,
                                         subject=world[subject] if subject else None, text=f"{key}: {area}")


def test_grouping_equals_a_hand_count(world, people):
    _make_requests(world)
    mun1 = {"weak", "strong", "mid", "russian", "other"}
    names = {"ma": "Математика", "ru": "Русский язык", None: ""}
    expected = Counter((area, names[subject], status) for key, area, subject, status in REQUESTS if key in mun1)
    groups = request_logic.grouped(AssistanceRequest.objects.visible_to(people["meth1"]))
    got = Counter()
    for g in groups:
        for status, n in g.by_status.items():
            got[(g.area, g.subject, status)] += n
    assert got == expected
    subject_ma = next(g for g in groups if g.area == "subject" and g.subject == "Математика")
    assert (subject_ma.total, subject_ma.open, subject_ma.answered) == (3, 3, 0)
    assert groups[0] is subject_ma  # the most open requests first
    assert sum(g.total for g in groups) == 6


def test_answer_and_submit(world, people):
    item = request_logic.submit(world["weak"], text="Не получается объяснить доказательство.",
                                competence_area="subject", subject=world["ma"], content_elements=[world["geometry"]],
                                user=people["weak"])
    assert item.status == RequestStatus.NEW and list(item.content_elements.all()) == [world["geometry"]]
    with pytest.raises(AssistanceError):
        request_logic.submit(world["weak"], text="  ", competence_area="subject")
    with pytest.raises(AssistanceError):
        request_logic.answer(item, text="", status=RequestStatus.ANSWERED)
    request_logic.answer(item, text="Приглашаем на вебинар.", event=world["webinar"], user=people["meth1"])
    item.refresh_from_db()
    assert item.status == RequestStatus.ANSWERED and item.answered_by == people["meth1"] and item.answered_at
    assert item.help_event == world["webinar"]


# --- access --------------------------------------------------------------------------------------------

def test_the_catalogue_is_seen_within_its_audience(world, people):
    region_courses = {"exact", "same_name", "ended", "russian_course", "method"}
    for user in ("meth1", "weak", "other", "meth2", "region"):
        seen = set(Course.objects.visible_to(people[user]).values_list("title", flat=True))
        expected = {f"КПК {k}" for k in region_courses}
        if user in ("meth1", "weak", "other", "region"):
            expected.add("КПК local")  # meant for M1 (and seen from the region above it)
        assert seen == expected, user
    assert not Course.objects.visible_to(people["nobody"]).exists()
    assert set(Event.objects.visible_to(people["meth1"])) == {world["webinar"]}
    assert set(Event.objects.visible_to(people["meth2"])) == {world["webinar"], world["m2_seminar"]}


def test_teacher_owned_records_are_seen_by_the_school_and_the_teacher(world, people):
    route = routes.propose_route(world["weak"], world["run"])
    mentorship = Mentorship.objects.create(mentor=world["other"], mentee=world["weak"],
                                           academic_year=world["years"][2025], starts=dt.date(2025, 9, 1))
    pairing = MentorSchool.objects.create(mentor_school=world["school12"], school=world["school11"],
                                          academic_year=world["years"][2025])
    for user, sees in (("meth1", True), ("admin11", True), ("weak", True), ("other", False), ("meth2", False)):
        assert DevelopmentRoute.objects.visible_to(people[user]).filter(pk=route.pk).exists() is sees, user
    # a mentorship is seen by both teachers and both schools
    for user, sees in (("weak", True), ("other", True), ("admin11", True), ("meth2", False)):
        assert Mentorship.objects.visible_to(people[user]).filter(pk=mentorship.pk).exists() is sees, user
    for user, sees in (("admin11", True), ("other", True), ("meth1", True), ("meth2", False)):
        assert MentorSchool.objects.visible_to(people[user]).filter(pk=pairing.pk).exists() is sees, user
