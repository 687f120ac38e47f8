"""Satisfaction, as stage 6 reports it: final questionnaires of courses (collection.SurveyResponse of
surveys at the «итоговое» stage) and the events of stage 5 (round tables, seminars: the attendance's
satisfaction 1–5). Means with the number of answers, so a mean of three answers is read as such."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Avg, Count, Q

from metodist.assistance.models import Event


@dataclass
class Satisfaction:
    title: str
    kind: str
    date: object
    answers: int
    mean: float | None  # 1–5


def summary(user) -> list[Satisfaction]:
    from metodist.collection.models import Survey, SurveyStage

    found = []
    for survey in (Survey.objects.visible_to(user).filter(stage=SurveyStage.FINAL)
                   .annotate(n=Count("responses", filter=Q(responses__satisfaction__isnull=False)),
                             mean=Avg("responses__satisfaction")).order_by("-conducted_on")):
        found.append(Satisfaction(survey.title, str(survey.get_stage_display()), survey.conducted_on, survey.n,
                                  survey.mean))
    events = (Event.objects.visible_to(user)
              .annotate(n=Count("attendance", filter=Q(attendance__satisfaction__isnull=False)),
                        mean=Avg("attendance__satisfaction")).filter(n__gt=0).order_by("-date"))
    for event in events:
        found.append(Satisfaction(event.title, str(event.get_kind_display()), event.date, event.n, event.mean))
    return sorted(found, key=lambda s: (str(s.date), s.title), reverse=True)
