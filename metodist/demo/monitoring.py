"""Stage 6 of the demo: lessons observed by the deputy heads and the method service during 2025/2026 —
the planted teachers' lessons on their weak content element (rubric scores lower on the tasks in the
format of the work), and a few lessons of strong teachers. Indicator tracks and the effect of help are
not made here: they are measured from the results. Rerunning changes nothing when they exist."""

from __future__ import annotations

import datetime
import json

import numpy as np

from metodist.core.models import Teacher
from metodist.monitoring.models import RUBRIC, LessonObservation
from metodist.reference.models import ContentElement

OBSERVERS = ["Заместитель директора по УВР", "Методист ММС", "Руководитель ШМО"]


def build_monitoring(truth_path=None, echo=print, seed: int = 11) -> dict:
    if LessonObservation.objects.exists():
        return {"observations": LessonObservation.objects.count()}
    rng = np.random.default_rng(seed)
    planted = []
    if truth_path is not None and truth_path.exists():
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        planted = truth.get("teacher_deficits", [])
    made = []
    for n, deficit in enumerate(planted):
        teacher = Teacher.objects.filter(school__code=deficit["school"], code=deficit["teacher"]).first()
        element = ContentElement.objects.filter(codifier=deficit["codifier"], code=deficit["element"]).first()
        if teacher is None:
            continue
        for visit in range(2):
            date = datetime.date(2025, 10, 8 + n) if visit == 0 else datetime.date(2026, 2, 9 + n)
            scores = {code: int(rng.choice([0, 1, 1, 2])) for code, _label in RUBRIC}
            scores["tasks"] = visit  # tasks in the format of the work: missing at first, partly on the second visit
            made.append(LessonObservation(
                teacher=teacher, date=date, subject=element.subject if element else None, content_element=element,
                topic=element.name[:500] if element else "Урок по проблемной теме",
                observer=OBSERVERS[visit % 2], scores=scores,
                strengths="Чёткая постановка целей, доброжелательная атмосфера.",
                advice="Включать задания в формате ВПР по теме; давать время на самостоятельную работу."))
    strong = Teacher.objects.filter(school__code__in=["edu900016", "edu900002"]).order_by("pk")[:4]
    for n, teacher in enumerate(strong):
        made.append(LessonObservation(
            teacher=teacher, date=datetime.date(2025, 11, 12 + n), observer=OBSERVERS[2], topic="Открытый урок",
            scores={code: 2 for code, _label in RUBRIC},
            strengths="Дифференцированные задания, работа в парах, формирующее оценивание.",
            advice="Представить опыт на заседании ГМО."))
    LessonObservation.objects.bulk_create(made)
    echo(f"Посещения уроков: {len(made)}.")
    return {"observations": len(made)}
