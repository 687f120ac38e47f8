"""The help of stage 5 as `effects.estimate` sees it: for each course, development route, mentorship and
mentor-school pairing the user sees, who it reached, which content elements it aimed at and its year.

* a course: its teachers who completed it or are enrolled (not those who applied or dropped out);
* a development route (ИОМ): its teacher; the elements its items aim at;
* a mentorship: the mentee; its elements;
* a mentor-school pairing: the supported school's teachers of the elements' subjects; its elements.
Comparison teachers never include anyone who got a course or a mentorship aimed at the same element in
the same year. Computed on request (two aggregate queries a piece of help), so always on the current data."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy

from metodist.assistance.models import (
    Course,
    DevelopmentRoute,
    Enrolment,
    EnrolmentStatus,
    MentorSchool,
    Mentorship,
)
from metodist.core.models import Teacher
from metodist.monitoring.effects import Effect, estimate

KIND_LABELS = {"course": gettext_lazy("курс"), "route": gettext_lazy("ИОМ"),
               "mentorship": gettext_lazy("наставничество"), "mentor_school": gettext_lazy("школа-наставник")}
TAKING_PART = (EnrolmentStatus.COMPLETED, EnrolmentStatus.ENROLLED)


@dataclass
class HelpEffect:
    kind: str  # course | route | mentorship | mentor_school
    obj: object
    title: str
    year: int
    effect: Effect

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS[self.kind])


def _helped_on(elements, year: int) -> set[int]:
    """Teachers who got a course or a mentorship aimed at these elements in this academic year."""
    element_ids = [e.pk for e in elements]
    enrolled = (Enrolment.objects.filter(course__content_elements__in=element_ids,
                                         course__academic_year__start_year=year, status__in=TAKING_PART)
                .values_list("teacher_id", flat=True))
    mentored = (Mentorship.objects.filter(content_elements__in=element_ids, academic_year__start_year=year)
                .values_list("mentee_id", flat=True))
    return {*enrolled, *mentored}


def _effect(kind: str, obj, title: str, year: int, participants: set[int], elements, subject=None) -> HelpEffect:
    elements = list(elements)
    effect = estimate(participants, elements, year, subject=subject, excluded_ids=_helped_on(elements, year),
                      total=len(participants))
    return HelpEffect(kind, obj, title, year, effect)


def course_effects(user) -> list[HelpEffect]:
    courses = (Course.objects.visible_to(user).select_related("academic_year", "subject")
               .prefetch_related("content_elements", "enrolments").order_by("-academic_year__start_year", "title"))
    return [_effect("course", c, c.title, c.academic_year.start_year,
                    {e.teacher_id for e in c.enrolments.all() if e.status in TAKING_PART},
                    c.content_elements.all(), c.subject) for c in courses]


def route_effects(user) -> list[HelpEffect]:
    routes = DevelopmentRoute.objects.visible_to(user).select_related("academic_year", "teacher")
    return [_effect("route", r, r.teacher.full_name, r.academic_year.start_year, {r.teacher_id},
                    r.content_elements) for r in routes]


def mentorship_effects(user) -> list[HelpEffect]:
    items = (Mentorship.objects.visible_to(user).select_related("academic_year", "subject", "mentor", "mentee")
             .prefetch_related("content_elements"))
    return [_effect("mentorship", m, f"{m.mentor.full_name} → {m.mentee.full_name}", m.academic_year.start_year,
                    {m.mentee_id}, m.content_elements.all(), m.subject) for m in items]


def mentor_school_effects(user) -> list[HelpEffect]:
    found = []
    for item in (MentorSchool.objects.visible_to(user).select_related("academic_year", "school", "mentor_school")
                 .prefetch_related("content_elements")):
        elements = list(item.content_elements.all())
        teachers = set(Teacher.objects.filter(school=item.school, subjects__in={e.subject_id for e in elements})
                       .values_list("pk", flat=True))
        found.append(_effect("mentor_school", item, f"{item.mentor_school.short_name} → {item.school.short_name}",
                             item.academic_year.start_year, teachers, elements))
    return found


def all_effects(user) -> list[HelpEffect]:
    return [*course_effects(user), *route_effects(user), *mentorship_effects(user), *mentor_school_effects(user)]
