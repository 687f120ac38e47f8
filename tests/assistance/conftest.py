"""A small hand-made world for stage 5 (on the shared `region_tree`: region → M1 (schools 11, 12), M2 (schools
21, 22), and the institute), with known answers:

* school 11: `weak` (mathematics) has a deficit on «Геометрия» (ВПР 7, element 6), confirmed by his classes,
  and a methodological one with no element; `strong` (first category) scored 4 of 4 on the element; `mid`
  (highest category) only 2 of 4; `flawed` (highest) scored 1 of 4 and has the same deficit; `russian`
  teaches Russian.
* school 12: `other` (highest, 4 of 4 on the element).  School 21 (M2): `far` (mathematics).
* courses of the institute for the region: `exact` (the element, 2025/2026), `same_name` (an element of the
  same name in ВПР 8), `ended` (the element, ended in May 2025), `russian_course` (Russian), `method` (no
  element, methodological area); `local` is for M1's teachers only.
* events: `webinar` (the institute, on the element, October 2025), `m2_seminar` (M2's, on the element).
* one analysis of 2024/2025 (routes are for 2025/2026).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client


def user_with(username: str, role: str | None = None, organisation=None, teacher=None):
    from metodist.core.models import RoleAssignment

    user = get_user_model().objects.create_user(username, password="x")
    if role:
        RoleAssignment.objects.create(user=user, role=role, organisation=organisation)
    if teacher is not None:
        teacher.user = user
        teacher.save(update_fields=["user"])
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(region_tree):
    from django.utils import timezone

    from metodist.analysis.models import AnalysisRun, DeficitProfile, RunStatus
    from metodist.assistance.models import Course, CourseFormat, Event, EventKind
    from metodist.collection.models import CompetenceArea, DeficitScope, DiagnosticScore, TeacherDiagnostic
    from metodist.core.models import AcademicYear, QualificationCategory, Subject, Teacher
    from metodist.reference.models import ContentElement

    t = dict(region_tree)
    ma = Subject.objects.get_or_create(code="ma", defaults={"name": "Математика"})[0]
    ru = Subject.objects.get_or_create(code="ru", defaults={"name": "Русский язык"})[0]
    years = {y: AcademicYear.objects.get_or_create(start_year=y)[0] for y in (2024, 2025)}
    geometry = ContentElement.objects.create(codifier="vpr-ma-7", subject=ma, code="6", name="Геометрия")
    geometry8 = ContentElement.objects.create(codifier="vpr-ma-8", subject=ma, code="3", name="Геометрия")
    sounds = ContentElement.objects.create(codifier="vpr-ru-6", subject=ru, code="3.9",
                                           name="Соотношение звуков и букв")

    def teacher(key, school, subject, category=QualificationCategory.FIRST, experience=10):
        made = Teacher.objects.create(school=t[school], full_name=f"Учитель {key}", code=f"T-{key}",
                                      qualification_category=category, experience_years=experience)
        made.subjects.add(subject)
        t[key] = made
        return made

    teacher("weak", "school11", ma, QualificationCategory.CONFORMITY, 4)
    teacher("strong", "school11", ma, QualificationCategory.FIRST, 12)
    teacher("mid", "school11", ma, QualificationCategory.HIGHEST, 30)
    teacher("flawed", "school11", ma, QualificationCategory.HIGHEST, 25)
    teacher("russian", "school11", ru)
    teacher("other", "school12", ma, QualificationCategory.HIGHEST, 20)
    teacher("far", "school21", ma)
    for key, score in (("weak", 0), ("strong", 4), ("mid", 2), ("flawed", 1), ("other", 4)):
        diagnostic = TeacherDiagnostic.objects.create(teacher=t[key], subject=ma, title="Диагностика",
                                                      taken_on=dt.date(2024, 10, 15))
        DiagnosticScore.objects.create(diagnostic=diagnostic, topic="Геометрия", content_element=geometry,
                                       score=score, max_score=4)
    run = AnalysisRun.objects.create(academic_year=years[2024], scope=t["region"], status=RunStatus.DONE,
                                     finished_at=timezone.now())
    t["deficit"] = DeficitProfile.objects.create(
        run=run, scope=DeficitScope.PERSONAL, organisation=t["school11"], teacher=t["weak"], subject=ma,
        content_element=geometry, topic="Геометрия", severity=0.8, evidence={"confirmed_by_results": True},
        explanation="0 из 4 баллов; классы учителя — 20 % при 45 %.")
    t["method_deficit"] = DeficitProfile.objects.create(
        run=run, scope=DeficitScope.PERSONAL, organisation=t["school11"], teacher=t["weak"], subject=None,
        competence_area=CompetenceArea.METHODOLOGICAL, topic="Формирующее оценивание", severity=0.4)
    DeficitProfile.objects.create(
        run=run, scope=DeficitScope.PERSONAL, organisation=t["school11"], teacher=t["flawed"], subject=ma,
        content_element=geometry, topic="Геометрия", severity=0.6)

    def course(key, *, elements=(), subject=ma, starts=dt.date(2025, 10, 1), ends=dt.date(2025, 11, 30), year=2025,
               areas=(), audience=None):
        made = Course.objects.create(title=f"КПК {key}", provider=t["institute"], academic_year=years[year],
                                     starts=starts, ends=ends, hours=72, format=CourseFormat.MIXED, subject=subject,
                                     competence_areas=list(areas), audience=audience)
        made.content_elements.set(elements)
        t[key] = made
        return made

    course("exact", elements=[geometry])
    course("same_name", elements=[geometry8], starts=dt.date(2025, 9, 15), ends=dt.date(2025, 10, 30))
    course("ended", elements=[geometry], starts=dt.date(2025, 3, 1), ends=dt.date(2025, 5, 20), year=2024)
    course("russian_course", elements=[sounds], subject=ru)
    course("method", subject=None, areas=["methodological"], starts=dt.date(2026, 1, 10), ends=dt.date(2026, 2, 10))
    course("local", elements=[geometry], audience=t["mun1"])
    t["webinar"] = Event.objects.create(kind=EventKind.WEBINAR, title="Вебинар по геометрии", organiser=t["institute"],
                                        date=dt.date(2025, 10, 20), subject=ma)
    t["webinar"].content_elements.add(geometry)
    t["m2_seminar"] = Event.objects.create(kind=EventKind.SEMINAR, title="Семинар района 2", organiser=t["mun2"],
                                           date=dt.date(2025, 11, 5), subject=ma)
    t["m2_seminar"].content_elements.add(geometry)
    t.update(ma=ma, ru=ru, years=years, geometry=geometry, geometry8=geometry8, sounds=sounds, run=run)
    return t


@pytest.fixture
def people(world):
    """Users: the methodologists of M1 and M2, the administration of school 11, the teachers `weak` (school 11)
    and `other` (school 12) with their accounts, a region administrator, a user with no role."""
    w = world
    return {
        "meth1": user_with("meth1", "methodologist", w["mun1"]),
        "meth2": user_with("meth2", "methodologist", w["mun2"]),
        "admin11": user_with("admin11", "school_admin", w["school11"]),
        "weak": user_with("weak", "teacher", w["school11"], teacher=w["weak"]),
        "other": user_with("other", "teacher", w["school12"], teacher=w["other"]),
        "region": user_with("region", "region_admin", w["region"]),
        "nobody": user_with("nobody"),
    }
