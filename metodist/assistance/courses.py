"""Courses: enrolling teachers, their progress to completion, the questionnaires of the participants
linked from stage 1 (a Survey imported with the course's title and provider), and what the questionnaires
say: how many answered and the mean satisfaction, over the answers the user may see.

The mean satisfaction is the plain mean of the 1–5 answers of the final questionnaire; with fewer than
MIN_ANSWERS answers it is shown with its count only, as the method service reads it (docs/methods.md)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Avg, Count, Q
from django.utils.translation import gettext as _

from metodist.assistance.models import Course, CourseModule, CourseSurvey, Enrolment, EnrolmentStatus
from metodist.collection.models import Survey, SurveyResponse, SurveyStage
from metodist.core.models import AuditEntry, Teacher

MIN_ANSWERS = 3


class AssistanceError(ValueError):
    """What cannot be done, in Russian for the user."""


def audit(user, action: str, obj, organisation, **details) -> None:
    AuditEntry.objects.create(user=user if getattr(user, "pk", None) else None, action=f"assistance:{action}",
                              object_type=obj._meta.model_name, object_id=str(obj.pk), organisation=organisation,
                              details={k: (str(v)[:500] if not isinstance(v, int | float | bool | None) else v)
                                       for k, v in details.items()})


@transaction.atomic
def enrol(course: Course, teachers, *, status: str = EnrolmentStatus.ENROLLED, user=None) -> dict[str, int]:
    """Enrol the teachers (new ones with `status`; those already on the course keep theirs)."""
    if status not in EnrolmentStatus.values:
        raise AssistanceError(_("Неизвестное состояние слушателя."))
    existing = set(course.enrolments.values_list("teacher_id", flat=True))
    new = [Enrolment(course=course, teacher=t, status=status,
                     completed_at=course.ends if status == EnrolmentStatus.COMPLETED else None)
           for t in teachers if t.pk not in existing]
    Enrolment.objects.bulk_create(new)
    if new:
        audit(user, "enrolled", course, course.provider, teachers=len(new), status=status)
    return {"created": len(new), "already": len(list(teachers)) - len(new)}


@transaction.atomic
def set_enrolment(enrolment: Enrolment, *, status: str, completed_at: datetime.date | None = None,
                  final_work: str = "", grade: str = "", user=None) -> Enrolment:
    if status not in EnrolmentStatus.values:
        raise AssistanceError(_("Неизвестное состояние слушателя."))
    enrolment.status = status
    if status == EnrolmentStatus.COMPLETED:
        enrolment.completed_at = completed_at or enrolment.completed_at or enrolment.course.ends
    else:
        enrolment.completed_at = None
    enrolment.final_work, enrolment.grade = final_work, grade
    enrolment.save()
    audit(user, "enrolment", enrolment, enrolment.teacher.school, status=status, course=enrolment.course_id)
    return enrolment


def check_modules(course: Course, hours: int, *, excluding: CourseModule | None = None) -> None:
    """The modules of a course add up to no more than its hours (a 72-hour course: a 48-hour subject module
    and a 24-hour invariant one)."""
    others = course.modules.exclude(pk=excluding.pk) if excluding is not None else course.modules.all()
    total = sum(m.hours for m in others) + hours
    if total > course.hours:
        raise AssistanceError(_("Модули курса вместе ({total} ч) больше объёма курса ({hours} ч).").format(
            total=total, hours=course.hours))


def candidate_surveys(course: Course):
    """Questionnaires of the course's provider with the course's title, not linked to another course."""
    return Survey.objects.filter(organisation=course.provider, title=course.title).filter(
        Q(course_link__isnull=True) | Q(course_link__course=course))


@transaction.atomic
def link_surveys(course: Course, surveys=None) -> int:
    """Link the questionnaires (by default: the provider's with the course's title); how many were new."""
    surveys = list(candidate_surveys(course) if surveys is None else surveys)
    linked = 0
    for survey in surveys:
        link = CourseSurvey.objects.filter(survey=survey).first()
        if link is not None:
            if link.course_id != course.pk:
                raise AssistanceError(_("Анкетирование «{title}» уже связано с другим курсом.").format(
                    title=survey.title))
            continue
        CourseSurvey.objects.create(course=course, survey=survey)
        linked += 1
    return linked


@dataclass
class SurveySummary:
    survey: Survey
    responses: int
    rated: int
    satisfaction: float | None  # mean of 1–5, None when nobody rated
    participants: int  # responses from teachers enrolled on the course

    @property
    def reliable(self) -> bool:
        return self.rated >= MIN_ANSWERS


def visible_responses(user):
    """Answers the user may count: all of a questionnaire he sees, and any answer of a teacher he sees (a
    municipality's methodologist counts his teachers' answers to the institute's questionnaire)."""
    if user is None:
        return SurveyResponse.objects.all()
    return SurveyResponse.objects.filter(
        Q(survey__in=Survey.objects.visible_to(user).values("pk"))
        | Q(teacher__in=Teacher.objects.visible_to(user).values("pk")))


def survey_summaries(course: Course, user=None) -> list[SurveySummary]:
    enrolled = course.enrolments.values("teacher_id")
    links = list(course.surveys.select_related("survey").order_by("survey__conducted_on", "survey__stage"))
    responses = visible_responses(user).filter(survey__in=[link.survey_id for link in links])
    figures = {row["survey"]: row for row in responses.values("survey").annotate(
        n=Count("pk"), rated=Count("satisfaction"), mean=Avg("satisfaction"),
        participants=Count("pk", filter=Q(teacher__in=enrolled)))}
    out = []
    for link in links:
        row = figures.get(link.survey_id, {})
        mean = row.get("mean")
        out.append(SurveySummary(link.survey, row.get("n", 0), row.get("rated", 0),
                                 round(float(mean), 2) if mean is not None else None, row.get("participants", 0)))
    return out


def final_satisfaction(summaries: list[SurveySummary]) -> SurveySummary | None:
    """The final questionnaire's summary (the latest one, when there are several)."""
    finals = [s for s in summaries if s.survey.stage == SurveyStage.FINAL]
    return finals[-1] if finals else None


def enrolment_counts(course_ids, user) -> dict[int, dict[str, int]]:
    """Per course: enrolments the user sees (every one for None: the command line), by status."""
    visible = Enrolment.objects.all() if user is None else Enrolment.objects.visible_to(user)
    rows = visible.filter(course_id__in=course_ids).values("course", "status").annotate(
        n=Count("pk"))
    out: dict[int, dict[str, int]] = {}
    for row in rows:
        out.setdefault(row["course"], {})[row["status"]] = row["n"]
    return out


def final_satisfaction_by_course(course_ids, user) -> dict[int, tuple[int, float | None]]:
    """Per course: (answers with a rating, mean rating) of its final questionnaires, over the answers the user
    may count."""
    rows = (visible_responses(user).filter(survey__course_link__course__in=list(course_ids),
                                           survey__stage=SurveyStage.FINAL, satisfaction__isnull=False)
            .values("survey__course_link__course").annotate(n=Count("pk"), mean=Avg("satisfaction")))
    return {r["survey__course_link__course"]: (r["n"], round(float(r["mean"]), 2) if r["mean"] is not None else None)
            for r in rows}
