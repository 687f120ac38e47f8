"""Teachers' requests (запросы педагогов): a teacher states his difficulties; the method service sees them
grouped by competence area and subject — which difficulties are common, which are answered — and
answers each with help: a course, an event, a mentor, or a consultation in words.

`group` is a plain function over (area, subject, status) rows, so the grouped table is what a hand count
of the requests gives."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from metodist.assistance.courses import AssistanceError, audit
from metodist.assistance.models import AssistanceRequest, RequestStatus
from metodist.collection.models import CompetenceArea

OPEN = (RequestStatus.NEW, RequestStatus.IN_WORK)


@dataclass
class Group:
    area: str
    area_label: str
    subject: str  # subject name, or "" for requests with no subject
    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def open(self) -> int:
        return sum(self.by_status.get(s, 0) for s in OPEN)

    @property
    def answered(self) -> int:
        return self.by_status.get(RequestStatus.ANSWERED, 0) + self.by_status.get(RequestStatus.CLOSED, 0)


def group(rows) -> list[Group]:
    """Rows (competence area, subject name or None, status) → one group per area × subject, the largest
    number of open requests first, then the largest in all."""
    labels = dict(CompetenceArea.choices)
    groups: dict[tuple[str, str], Group] = {}
    for area, subject, status in rows:
        key = (area, subject or "")
        found = groups.get(key)
        if found is None:
            found = groups[key] = Group(area, str(labels.get(area, area)), subject or "")
        found.total += 1
        found.by_status[status] = found.by_status.get(status, 0) + 1
    return sorted(groups.values(), key=lambda g: (-g.open, -g.total, g.area_label, g.subject))


def grouped(queryset) -> list[Group]:
    return group(queryset.values_list("competence_area", "subject__name", "status"))


@transaction.atomic
def submit(teacher, *, text: str, competence_area: str, subject=None, content_elements=(),
           preferred_form: str = "any", user=None) -> AssistanceRequest:
    if not text.strip():
        raise AssistanceError(_("Опишите, в чём затруднение."))
    item = AssistanceRequest.objects.create(teacher=teacher, text=text.strip(), competence_area=competence_area,
                                            subject=subject, preferred_form=preferred_form)
    if content_elements:
        item.content_elements.set(content_elements)
    audit(user, "request_submitted", item, teacher.school, area=competence_area)
    return item


@transaction.atomic
def answer(item: AssistanceRequest, *, text: str, status: str = RequestStatus.ANSWERED, course=None, event=None,
           mentorship=None, user=None) -> AssistanceRequest:
    """The method service's answer with the help it offers; `status` in_work keeps the request open."""
    if status not in RequestStatus.values or status == RequestStatus.NEW:
        raise AssistanceError(_("Ответ переводит запрос в работу, отвечает на него или закрывает его."))
    if status in (RequestStatus.ANSWERED, RequestStatus.CLOSED) and not (text.strip() or course or event
                                                                         or mentorship):
        raise AssistanceError(_("Напишите ответ или предложите помощь: курс, мероприятие, наставника."))
    item.answer = text.strip()
    item.status = status
    item.help_course, item.help_event, item.help_mentorship = course, event, mentorship
    if status in (RequestStatus.ANSWERED, RequestStatus.CLOSED):
        item.answered_by = user if getattr(user, "pk", None) else None
        item.answered_at = item.answered_at or timezone.now()
    item.save()
    audit(user, "request_answered", item, item.teacher.school, status=status)
    return item
