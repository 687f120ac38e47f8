"""The help of stage 5 as `effects.estimate` sees it: for each course, development route, mentorship and
mentor-school pairing the user sees, who it reached, which content elements it aimed at and its year.

* a course: its teachers who completed it (or are enrolled, when the course is running), its elements;
* a development route (ИОМ): its teacher; the elements of its items, else of its teacher's deficits;
* a mentorship: the mentee; its elements;
* a mentor-school pairing: the supported school's teachers of the pairing's subjects; its elements.
Comparison teachers never include anyone who got help aimed at the same element in the same year.
Computed on request (two aggregate queries a piece of help), so always on the current data."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps

from metodist.monitoring.effects import Effect, estimate


@dataclass
class HelpEffect:
    kind: str  # course | route | mentorship | mentor_school
    kind_label: str
    obj: object
    title: str
    year: int
    effect: Effect


def _model(name: str):
    if not apps.is_installed("metodist.assistance"):
        return None
    try:
        return apps.get_model("assistance", name)
    except LookupError:
        return None


def _helped_on(elements, year: int) -> set[int]:
    """Teachers who got any help aimed at these elements in this academic year."""
    ids: set[int] = set()
    element_ids = [e.pk for e in elements]
    Enrolment, Mentorship = _model("Enrolment"), _model("Mentorship")
    if Enrolment is not None:
        ids |= set(Enrolment.objects.filter(course__content_elements__in=element_ids,
                                            course__academic_year__start_year=year)
                   .exclude(status="dropped").values_list("teacher_id", flat=True))
    if Mentorship is not None:
        ids |= set(Mentorship.objects.filter(content_elements__in=element_ids, academic_year__start_year=year)
                   .values_list("mentee_id", flat=True))
    return ids


def course_effects(user) -> list[HelpEffect]:
    Course = _model("Course")
    if Course is None:
        return []
    found = []
    for course in (Course.objects.visible_to(user).select_related("academic_year", "subject")
                   .prefetch_related("content_elements", "enrolments").order_by("-academic_year__start_year", "title")):
        elements = list(course.content_elements.all())
        year = course.academic_year.start_year
        taken = [e for e in course.enrolments.all() if e.status in ("completed", "enrolled")]
        participants = {e.teacher_id for e in taken}
        effect = _cached(("course", course.pk), lambda c=course, p=participants, el=elements, y=year: estimate(
            p, el, y, subject=c.subject, excluded_ids=_helped_on(el, y), total=len(p)))
        found.append(HelpEffect("course", "курс", course, course.title, year, effect))
    return found


def mentorship_effects(user) -> list[HelpEffect]:
    Mentorship = _model("Mentorship")
    if Mentorship is None:
        return []
    found = []
    for item in (Mentorship.objects.visible_to(user).select_related("academic_year", "subject", "mentor", "mentee")
                 .prefetch_related("content_elements")):
        elements = list(item.content_elements.all())
        year = item.academic_year.start_year
        effect = _cached(("mentorship", item.pk), lambda i=item, el=elements, y=year: estimate(
            {i.mentee_id}, el, y, subject=i.subject, excluded_ids=_helped_on(el, y), total=1))
        found.append(HelpEffect("mentorship", "наставничество", item,
                                f"{item.mentor.full_name} → {item.mentee.full_name}", year, effect))
    return found


def mentor_school_effects(user) -> list[HelpEffect]:
    MentorSchool = _model("MentorSchool")
    if MentorSchool is None:
        return []
    from metodist.core.models import Teacher

    found = []
    for item in (MentorSchool.objects.visible_to(user).select_related("academic_year", "school", "mentor_school")
                 .prefetch_related("content_elements")):
        elements = list(item.content_elements.all())
        year = item.academic_year.start_year
        subjects = {e.subject_id for e in elements}
        teachers = set(Teacher.objects.filter(school=item.school, subjects__in=subjects).values_list("pk", flat=True))
        effect = _cached(("mentor_school", item.pk), lambda el=elements, y=year, t=teachers: estimate(
            t, el, y, excluded_ids=_helped_on(el, y), total=len(t)))
        found.append(HelpEffect("mentor_school", "школа-наставник", item,
                                f"{item.mentor_school.short_name} → {item.school.short_name}", year, effect))
    return found


def route_effects(user) -> list[HelpEffect]:
    Route = _model("DevelopmentRoute")
    if Route is None:
        return []
    found = []
    for route in Route.objects.visible_to(user).select_related("academic_year", "teacher"):
        elements = _route_elements(route)
        year = route.academic_year.start_year
        effect = _cached(("route", route.pk), lambda r=route, el=elements, y=year: estimate(
            {r.teacher_id}, el, y, excluded_ids=_helped_on(el, y), total=1))
        found.append(HelpEffect("route", "ИОМ", route, f"{route.teacher.full_name}", year, effect))
    return found


def _route_elements(route) -> list:
    for name in ("content_elements",):
        if hasattr(route, name):
            return list(getattr(route, name).all())
    return []


def all_effects(user) -> list[HelpEffect]:
    return [*course_effects(user), *route_effects(user), *mentorship_effects(user), *mentor_school_effects(user)]


def _cached(key: tuple, compute) -> Effect:
    """Computed on request: two aggregate queries per piece of help, always on the current data."""
    return compute()
