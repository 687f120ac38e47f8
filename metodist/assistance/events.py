"""Events (мастер-класс, открытый урок, семинар, круглый стол, вебинар, выездное занятие, предметная
неделя…): who came and how satisfied they were, counted over the attendance rows the user may see; and
the mentoring created from a route's proposed mentor."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Avg, Count, Q
from django.utils.translation import gettext as _

from metodist.assistance.courses import AssistanceError, audit
from metodist.assistance.models import (
    EventAttendance,
    ItemKind,
    MentoringStatus,
    Mentorship,
    RouteItem,
)


@dataclass
class Attendance:
    invited: int  # attendance rows (invited or registered)
    attended: int
    rated: int
    satisfaction: float | None


def attendance_of(event_ids, user) -> dict[int, Attendance]:
    rows = EventAttendance.objects.visible_to(user).filter(event_id__in=list(event_ids)).values("event").annotate(
        n=Count("pk"), came=Count("pk", filter=Q(attended=True)), rated=Count("satisfaction"),
        mean=Avg("satisfaction"))
    return {r["event"]: Attendance(r["n"], r["came"], r["rated"],
                                   round(float(r["mean"]), 2) if r["mean"] is not None else None) for r in rows}


@transaction.atomic
def record_attendance(event, teachers, *, attended: bool = True, satisfaction: int | None = None,
                      feedback: str = "", user=None) -> dict[str, int]:
    """Add the teachers to the event's list, or update them when already on it."""
    if satisfaction is not None and not 1 <= satisfaction <= 5:
        raise AssistanceError(_("Удовлетворённость — число от 1 до 5."))
    if satisfaction is not None and not attended:
        raise AssistanceError(_("Удовлетворённость ставит тот, кто присутствовал."))
    created = updated = 0
    for teacher in teachers:
        row, made = EventAttendance.objects.get_or_create(event=event, teacher=teacher)
        row.attended, row.satisfaction = attended, satisfaction
        if feedback:
            row.feedback = feedback[:1000]
        row.save()
        created += made
        updated += not made
    audit(user, "attendance", event, event.organiser, created=created, updated=updated)
    return {"created": created, "updated": updated}


@transaction.atomic
def mentorship_from_item(item: RouteItem, *, user=None, starts: datetime.date | None = None) -> Mentorship:
    """The mentoring a route's item proposes, created (or found) and linked to the item."""
    if item.kind != ItemKind.MENTORSHIP or item.mentor_id is None:
        raise AssistanceError(_("В этом пункте маршрута нет предложенного наставника."))
    route = item.route
    year = route.academic_year
    found = Mentorship.objects.filter(mentor_id=item.mentor_id, mentee=route.teacher, academic_year=year).first()
    if found is None:
        found = Mentorship.objects.create(
            mentor_id=item.mentor_id, mentee=route.teacher, academic_year=year,
            subject_id=item.deficit.subject_id if item.deficit_id else None,
            starts=starts or datetime.date(year.start_year, 9, 15), ends=datetime.date(year.start_year + 1, 5, 31),
            goals=item.title, status=MentoringStatus.ACTIVE, created_by=user if getattr(user, "pk", None) else None)
        if item.content_element_id:
            found.content_elements.add(item.content_element_id)
        audit(user, "mentorship_created", found, route.teacher.school, route=route.pk)
    item.link_id = found.pk
    item.save(update_fields=["link_id"])
    return found
