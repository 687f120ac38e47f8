"""Development routes (ИОМ): a teacher's plan for a year against his deficits, proposed from an analysis
run, edited and approved by the school or the method service, and followed to the end item by item.

How a route is proposed (`propose_route`; rules and reasons in docs/methods.md, «Индивидуальный
образовательный маршрут»):
1. The needs: the teacher's personal deficits found by the run (`DeficitProfile`, those confirmed by his
   classes' results first, then by severity) and those recorded by hand (`ProfessionalDeficit`, personal,
   of the run's year or the next), merged by content element or topic; at most MAX_NEEDS.
2. For each need, in the route's academic year (the year after the analysed one, as for roadmaps):
   a course meant for the teacher's school that targets the need's content element (or an element of the
   same name in another codifier, or — for a methodological, psychological, digital… need — its
   competence area); the events on the element; the practices of stage 3 on it (when that app is
   installed); a self-study item.
3. A mentor for the most important subject need: a teacher of the same subject, of the same school first,
   else of the same municipality, with no deficit on that element, who scored well on it in the same
   diagnostic, ranked by that score, qualification category and experience (`mentor_candidates`).
4. An open lesson on the main topic closes the route: it shows the result to the school's association.
Items are dated by what they are (a course by its end, an event by its date) and numbered by date.
Rerunning on a draft adds only what is new (items remember their source in `key`); an approved route is
not touched."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from metodist.analysis.models import DeficitProfile
from metodist.assistance.courses import AssistanceError, audit
from metodist.assistance.models import (
    Course,
    DevelopmentRoute,
    Event,
    ItemKind,
    ItemStatus,
    MentoringStatus,
    Mentorship,
    RouteItem,
    RouteStatus,
)
from metodist.collection.models import CompetenceArea, DeficitScope, DiagnosticScore, ProfessionalDeficit
from metodist.core.access import ancestor_paths
from metodist.core.models import AcademicYear, QualificationCategory, Teacher

MAX_NEEDS = 4
EVENTS_PER_NEED = 2
MAX_EVENTS = 4
#: a mentor scored at least this share on the element in the diagnostic (when he took it)
MENTOR_MIN_SHARE = 0.75
#: mentees a mentor takes in one year at most
MENTOR_LOAD = 2
CATEGORY_RANK = {QualificationCategory.HIGHEST: 0, QualificationCategory.FIRST: 1,
                 QualificationCategory.CONFORMITY: 2, QualificationCategory.NONE: 3}


@dataclass
class Need:
    """One deficit the route answers."""

    topic: str
    competence_area: str
    subject_id: int | None
    element_id: int | None
    element_name: str
    severity: float
    confirmed: bool
    explanation: str
    profile: DeficitProfile | None = None

    @property
    def key(self) -> str:
        return f"e{self.element_id}" if self.element_id else "t" + _normal(self.topic)[:40]


def _normal(text: str) -> str:
    """A name compared across codifiers: case, ё/е, punctuation and spaces do not matter."""
    return re.sub(r"[\W_]+", " ", (text or "").casefold().replace("ё", "е")).strip()


def needs_of(teacher: Teacher, run) -> list[Need]:
    """The teacher's personal deficits of the run and those recorded by hand, most important first."""
    needs: dict[str, Need] = {}
    profiles = (DeficitProfile.objects.filter(run=run, scope=DeficitScope.PERSONAL, teacher=teacher)
                .select_related("content_element").order_by("-severity", "pk"))
    for p in profiles:
        element = p.content_element
        need = Need(p.topic, p.competence_area, p.subject_id, p.content_element_id, element.name if element else "",
                    p.severity, bool((p.evidence or {}).get("confirmed_by_results")), p.explanation, p)
        needs.setdefault(need.key, need)
    year = run.academic_year.start_year
    recorded = (ProfessionalDeficit.objects.filter(teacher=teacher, scope=DeficitScope.PERSONAL,
                                                   academic_year__start_year__in=[year, year + 1])
                .select_related("content_element").order_by("pk"))
    for d in recorded:
        element = d.content_element
        need = Need(d.topic, d.competence_area, d.subject_id, d.content_element_id, element.name if element else "",
                    0.5, False, d.note or d.get_source_display())
        needs.setdefault(need.key, need)
    ordered = sorted(needs.values(), key=lambda n: (not n.confirmed, n.competence_area != CompetenceArea.SUBJECT,
                                                    -n.severity, n.topic))
    return ordered[:MAX_NEEDS]


def match_score(need: Need, elements: list[tuple[int, str]], areas: list[str], subject_id: int | None) -> int:
    """How well a course or event answers a need: 3 — it targets the need's element; 2 — an element of the
    same name (the same topic in another grade's codifier); 1 — the need has no element and the course
    works on its competence area (of the same subject or of none); 0 — it does not answer it."""
    if need.subject_id and subject_id and need.subject_id != subject_id:
        return 0
    if need.element_id and any(pk == need.element_id for pk, _name in elements):
        return 3
    if need.element_name and any(_normal(name) == _normal(need.element_name) for _pk, name in elements):
        return 2
    if not need.element_id and need.competence_area in (areas or []):
        return 1
    return 0


def year_bounds(start_year: int) -> tuple[datetime.date, datetime.date]:
    return datetime.date(start_year, 9, 1), datetime.date(start_year + 1, 8, 31)


def _for_school(school) -> Q:
    paths = ancestor_paths(school.path)
    return Q(audience__path__in=paths)


def courses_for(teacher: Teacher, needs: list[Need], start_year: int) -> list[tuple[Course, Need, int]]:
    """The best course for each need among those meant for the teacher's school that have not ended
    before the route's year; a course answering several needs is proposed once (for the first)."""
    begin, _end = year_bounds(start_year)
    courses = list(Course.objects.filter(_for_school(teacher.school) | Q(provider__path__in=ancestor_paths(
        teacher.school.path)), ends__gte=begin).distinct().select_related("provider").prefetch_related(
        "content_elements").order_by("starts", "pk"))
    chosen: list[tuple[Course, Need, int]] = []
    used: set[int] = set()
    for need in needs:
        best = None
        for course in courses:
            if course.pk in used:
                continue
            score = match_score(need, [(e.pk, e.name) for e in course.content_elements.all()],
                                course.competence_areas, course.subject_id)
            if score and (best is None or score > best[1]):
                best = (course, score)
        if best is not None:
            used.add(best[0].pk)
            chosen.append((best[0], need, best[1]))
    return chosen


def events_for(teacher: Teacher, needs: list[Need], start_year: int) -> list[tuple[Event, Need, int]]:
    """Events of the route's year meant for the teacher's school on the needs' elements (directly or through
    a problem field of that element), EVENTS_PER_NEED per need, MAX_EVENTS in all."""
    begin, end = year_bounds(start_year)
    events = list(Event.objects.filter(_for_school(teacher.school), date__range=(begin, end)).exclude(
        presenter=teacher).select_related("organiser").prefetch_related(
        "content_elements", "problem_fields__content_element").order_by("date", "pk"))
    chosen: list[tuple[Event, Need, int]] = []
    used: set[int] = set()
    for need in needs:
        found = []
        for event in events:
            if event.pk in used:
                continue
            elements = [(e.pk, e.name) for e in event.content_elements.all()]
            elements += [(f.content_element_id, f.content_element.name) for f in event.problem_fields.all()
                         if f.content_element_id]
            score = match_score(need, elements, [], event.subject_id)
            if score >= 2:
                found.append((event, need, score))
        for item in sorted(found, key=lambda x: -x[2])[:EVENTS_PER_NEED]:
            used.add(item[0].pk)
            chosen.append(item)
    return chosen[:MAX_EVENTS]


def mentor_candidates(teacher: Teacher, need: Need, run, start_year: int, *, limit: int = 5) -> list[Teacher]:
    """Strong teachers of the need's subject to mentor `teacher`: of his school first, else of his
    municipality; none with a deficit on the element in the run, none already mentoring MENTOR_LOAD
    teachers that year; those who took the same diagnostic must have scored MENTOR_MIN_SHARE on the
    element. Ranked by that score, then qualification category, then experience."""
    school = teacher.school
    area = school.parent.path if school.parent_id else school.path
    candidates = Teacher.objects.filter(school__path__startswith=area).exclude(pk=teacher.pk).select_related(
        "school")
    if need.subject_id:
        candidates = candidates.filter(subjects=need.subject_id)
    weak = DeficitProfile.objects.filter(run=run, scope=DeficitScope.PERSONAL, teacher__isnull=False)
    weak = weak.filter(content_element_id=need.element_id) if need.element_id else weak.filter(
        competence_area=need.competence_area, subject_id=need.subject_id)
    candidates = candidates.exclude(pk__in=weak.values("teacher_id"))
    busy = Mentorship.objects.filter(academic_year__start_year=start_year).exclude(
        status=MentoringStatus.STOPPED).values_list("mentor_id", flat=True)
    load: dict[int, int] = {}
    for mentor_id in busy:
        load[mentor_id] = load.get(mentor_id, 0) + 1
    candidates = list(candidates.distinct())
    shares: dict[int, float] = {}
    if need.element_id:
        for teacher_id, score, maximum in DiagnosticScore.objects.filter(
                content_element_id=need.element_id, diagnostic__teacher__in=[c.pk for c in candidates]).values_list(
                "diagnostic__teacher_id", "score", "max_score"):
            if maximum:
                shares[teacher_id] = max(shares.get(teacher_id, 0.0), score / maximum)
        if shares:  # the element was diagnosed: only those who took the diagnostic are comparable
            candidates = [c for c in candidates if shares.get(c.pk, 0.0) >= MENTOR_MIN_SHARE]
    candidates = [c for c in candidates if load.get(c.pk, 0) < MENTOR_LOAD]
    candidates.sort(key=lambda c: (c.school_id != school.pk, -shares.get(c.pk, 0.0),
                                   CATEGORY_RANK.get(c.qualification_category, 3), -(c.experience_years or 0),
                                   c.full_name, c.pk))
    return candidates[:limit]


def practices_for(teacher: Teacher, need: Need, limit: int = 2) -> list[tuple[int, str, str]]:
    """Practices of stage 3 to study on the need, as (id, title, form), when the practices app is installed
    and offers a matching helper; otherwise none."""
    from django.apps import apps

    if not apps.is_installed("metodist.practices") or not need.element_id:
        return []
    try:
        from metodist.practices import matching
    except ImportError:
        return []
    helper = getattr(matching, "practices_for_element", None)
    if helper is None:
        return []
    try:
        found = list(helper(need.element_id, school=teacher.school))[:limit]
    except Exception:  # noqa: BLE001 - another stage's helper must not break the route
        return []
    out = []
    for practice in found:
        title = getattr(practice, "title", str(practice))
        out.append((practice.pk, title, str(getattr(practice, "school", "") or "")))
    return out


@dataclass
class Proposal:
    kind: str
    title: str
    form: str
    due: datetime.date | None
    result: str
    key: str
    need: Need | None = None
    link_id: int | None = None
    mentor: Teacher | None = None


KIND_ORDER = {ItemKind.COURSE: 0, ItemKind.MENTORSHIP: 1, ItemKind.EVENT: 2, ItemKind.PRACTICE: 3,
              ItemKind.SELF_STUDY: 4}


def plan(teacher: Teacher, needs: list[Need], run, start_year: int) -> list[Proposal]:
    """What the route proposes for the needs (see the module's docstring), dated and ordered by date."""
    _begin, end = year_bounds(start_year)
    out: list[Proposal] = []
    for course, need, _score in courses_for(teacher, needs, start_year):
        out.append(Proposal(
            ItemKind.COURSE, _("Курсы повышения квалификации: {title}").format(title=course.title),
            _("КПК, {hours} ч, {format}; {provider}").format(
                hours=course.hours, format=course.get_format_display(), provider=course.provider.short_name),
            course.ends, _("Удостоверение о повышении квалификации; итоговая работа по теме «{topic}»").format(
                topic=need.topic), f"course:{course.pk}", need, course.pk))
    subject_needs = [n for n in needs if n.subject_id]
    existing = Mentorship.objects.filter(mentee=teacher, academic_year__start_year=start_year).exclude(
        status=MentoringStatus.STOPPED).select_related("mentor__school").first()
    if existing is not None:
        out.append(Proposal(
            ItemKind.MENTORSHIP, _("Работа с наставником: {mentor}").format(mentor=existing.mentor.full_name),
            _("наставничество; {school}").format(school=existing.mentor.school.short_name),
            existing.ends or datetime.date(start_year + 1, 5, 31), existing.goals[:1000] or _(
                "Посещение уроков наставника и разбор своих уроков с ним"), f"mentorship:{existing.pk}",
            subject_needs[0] if subject_needs else None, existing.pk, existing.mentor))
    elif subject_needs:
        need = subject_needs[0]
        found = mentor_candidates(teacher, need, run, start_year, limit=1)
        if found:
            mentor = found[0]
            out.append(Proposal(
                ItemKind.MENTORSHIP, _("Работа с наставником по теме «{topic}»: взаимопосещение уроков, "
                                       "совместное планирование").format(topic=need.topic),
                _("наставничество; наставник — {mentor}, {school}").format(mentor=mentor.full_name,
                                                                         school=mentor.school.short_name),
                datetime.date(start_year + 1, 5, 31),
                _("Не менее четырёх посещённых и разобранных уроков по теме"), f"mentor:{need.key}", need,
                None, mentor))
    for event, need, _score in events_for(teacher, needs, start_year):
        when = event.date.strftime("%d.%m.%Y")
        out.append(Proposal(
            ItemKind.EVENT, _("Участие: {title}").format(title=event.title),
            _("{kind}; {organiser}, {date}").format(kind=event.get_kind_display(), organiser=event.organiser.short_name,
                                                   date=when),
            event.date, _("Приёмы работы по теме «{topic}» включены в планирование уроков").format(topic=need.topic),
            f"event:{event.pk}", need, event.pk))
    for need in needs:
        for pk, title, where in practices_for(teacher, need):
            out.append(Proposal(
                ItemKind.PRACTICE, _("Изучить практику «{title}»").format(title=title),
                _("изучение опыта{where}").format(where=f"; {where}" if where else ""),
                datetime.date(start_year, 12, 25), _("Приёмы практики опробованы на уроке"), f"practice:{pk}", need, pk))
        out.append(Proposal(
            ItemKind.SELF_STUDY,
            _("Самообразование по теме «{topic}»: изучить методические рекомендации, разобрать задания оценочных "
              "процедур по теме и типичные ошибки обучающихся, составить подборку заданий к урокам").format(
                topic=need.topic),
            _("самостоятельно; обсуждение на ШМО"), min(datetime.date(start_year, 12, 25), end),
            _("Подборка заданий по теме, обсуждённая на заседании ШМО"), f"self:{need.key}", need))
    if needs:
        main = subject_needs[0] if subject_needs else needs[0]
        out.append(Proposal(
            ItemKind.EVENT, _("Провести открытый урок (фрагмент урока) по теме «{topic}» для учителей ШМО").format(
                topic=main.topic),
            _("открытый урок; школа"), datetime.date(start_year + 1, 3, 20),
            _("Самоанализ урока, отзыв наставника и коллег"), f"lesson:{main.key}", main))
    out.sort(key=lambda p: (p.due or end, KIND_ORDER.get(p.kind, 9), p.key))
    return out


def _basis(needs: list[Need]) -> str:
    lines = []
    labels = dict(CompetenceArea.choices)
    for n, need in enumerate(needs, 1):
        lines.append(_("{n}. «{topic}» ({area}){confirmed}. {explanation}").format(
            n=n, topic=need.topic, area=labels.get(need.competence_area, need.competence_area),
            confirmed=_(", подтверждается результатами классов") if need.confirmed else "",
            explanation=need.explanation).strip())
    return "\n".join(lines)


@transaction.atomic
def propose_route(teacher: Teacher, run, *, user=None) -> DevelopmentRoute:
    """The teacher's route for the year after the run's, proposed from his deficits (a draft). An existing
    draft gets only the items it lacks; an approved route is returned as it is."""
    year = AcademicYear.objects.get_or_create(start_year=run.academic_year.start_year + 1)[0]
    route = DevelopmentRoute.objects.filter(teacher=teacher, academic_year=year).first()
    if route is not None and route.status == RouteStatus.APPROVED:
        return route
    needs = needs_of(teacher, run)
    if not needs:
        raise AssistanceError(_("У учителя {name} нет выявленных профессиональных дефицитов в этом анализе: "
                                "маршрут составляется вручную.").format(name=teacher.full_name))
    proposals = plan(teacher, needs, run, year.start_year)
    created = route is None
    if created:
        route = DevelopmentRoute.objects.create(
            teacher=teacher, academic_year=year, run=run, created_by=user if getattr(user, "pk", None) else None,
            title=_("Индивидуальный образовательный маршрут: {name}, {year}").format(
                name=teacher.full_name, year=str(year))[:500],
            basis=_basis(needs))
    known = set(route.items.values_list("key", flat=True))
    position = (route.items.order_by("-position").values_list("position", flat=True).first() or 0)
    items = []
    for proposal in proposals:
        if proposal.key in known:
            continue
        position += 1
        need = proposal.need
        items.append(RouteItem(
            route=route, position=position, kind=proposal.kind, title=proposal.title[:1000], form=proposal.form[:255],
            link_id=proposal.link_id, mentor=proposal.mentor, due=proposal.due, result=proposal.result[:1000],
            deficit=need.profile if need else None, content_element_id=need.element_id if need else None,
            key=proposal.key[:100]))
    RouteItem.objects.bulk_create(items)
    audit(user, "route_proposed" if created else "route_completed", route, teacher.school, items=len(items),
          run=run.pk)
    return route


def propose_for(organisation, run, *, user=None) -> dict[str, int]:
    """Routes for every teacher of the organisation's subtree with personal deficits in the run."""
    teachers = Teacher.objects.filter(
        pk__in=DeficitProfile.objects.filter(run=run, scope=DeficitScope.PERSONAL, teacher__isnull=False,
                                             teacher__school__path__startswith=organisation.path).values(
            "teacher_id")).select_related("school__parent").order_by("school__path", "full_name")
    counts = {"created": 0, "completed": 0, "approved": 0, "items": 0}
    year = run.academic_year.start_year + 1
    for teacher in teachers:
        before = DevelopmentRoute.objects.filter(teacher=teacher, academic_year__start_year=year).first()
        items_before = before.items.count() if before else 0
        route = propose_route(teacher, run, user=user)
        if before is None:
            counts["created"] += 1
        elif route.status == RouteStatus.APPROVED:
            counts["approved"] += 1
        else:
            counts["completed"] += 1
        counts["items"] += route.items.count() - items_before
    return counts


# --- editing, approval, progress ------------------------------------------------------------------------


def progress_share(statuses) -> float | None:
    """The share of items done, 0–1; None for a route with no items."""
    statuses = list(statuses)
    if not statuses:
        return None
    return sum(1 for s in statuses if s == ItemStatus.DONE) / len(statuses)


def progress(route: DevelopmentRoute) -> float | None:
    return progress_share(route.items.values_list("status", flat=True))


@transaction.atomic
def approve_route(route: DevelopmentRoute, user, *, comment: str = "") -> DevelopmentRoute:
    from metodist.assistance import rights

    if route.status != RouteStatus.DRAFT:
        raise AssistanceError(_("Маршрут уже утверждён."))
    if not rights.may_approve_route(user, route):
        raise AssistanceError(_("Утверждает маршрут администрация школы или методическая служба."))
    if not route.items.exists():
        raise AssistanceError(_("В маршруте нет ни одного пункта."))
    route.status = RouteStatus.APPROVED
    route.approved_by, route.approved_at = user, timezone.now()
    route.save()
    audit(user, "route_approved", route, route.teacher.school, comment=comment)
    return route


@transaction.atomic
def return_route(route: DevelopmentRoute, user, *, comment: str) -> DevelopmentRoute:
    from metodist.assistance import rights

    if route.status != RouteStatus.APPROVED:
        raise AssistanceError(_("Маршрут и так проект."))
    if not rights.may_approve_route(user, route):
        raise AssistanceError(_("Вернуть маршрут на доработку может тот, кто его утверждает."))
    if not comment.strip():
        raise AssistanceError(_("Напишите, что нужно доработать."))
    route.status = RouteStatus.DRAFT
    route.approved_by, route.approved_at = None, None
    route.save()
    audit(user, "route_returned", route, route.teacher.school, comment=comment.strip())
    return route


@transaction.atomic
def set_item_status(item: RouteItem, status: str, user, *, done_at: datetime.date | None = None,
                    result: str | None = None) -> RouteItem:
    if status not in ItemStatus.values:
        raise AssistanceError(_("Неизвестное состояние пункта."))
    item.status = status
    item.done_at = (done_at or datetime.date.today()) if status == ItemStatus.DONE else None
    if result is not None and result.strip():
        item.result = result.strip()[:1000]
    item.save()
    route = item.route
    route.save(update_fields=["updated_at"])
    audit(user, "route_item", route, route.teacher.school, item=item.position, status=status)
    return item


def record_edit(route: DevelopmentRoute, user, what: str) -> None:
    route.save(update_fields=["updated_at"])
    audit(user, "route_edited", route, route.teacher.school, what=what)


ACTION_LABELS = {
    "assistance:route_proposed": gettext_lazy("составлен по выявленным дефицитам"),
    "assistance:route_completed": gettext_lazy("дополнен по выявленным дефицитам"),
    "assistance:route_approved": gettext_lazy("утверждён"),
    "assistance:route_returned": gettext_lazy("возвращён на доработку"),
    "assistance:route_item": gettext_lazy("отмечено выполнение пункта"),
    "assistance:route_edited": gettext_lazy("изменён"),
}


def history(route: DevelopmentRoute) -> list[dict]:
    """Who did what to the route and when (from the audit entries), in words."""
    from metodist.core.models import AuditEntry

    entries = AuditEntry.objects.filter(object_type="developmentroute", object_id=str(route.pk)).select_related(
        "user").order_by("at", "pk")
    out = []
    for e in entries:
        details = e.details or {}
        note = details.get("comment") or details.get("what") or ""
        if e.action == "assistance:route_item":
            note = _("№{n}: {status}").format(n=details.get("item"), status=dict(ItemStatus.choices).get(
                details.get("status"), details.get("status")))
        out.append({"at": e.at, "user": e.user, "label": ACTION_LABELS.get(e.action, e.action), "note": note})
    return out


def link_of(item: RouteItem):
    """The course, event or mentorship an item is linked to, or None."""
    if item.link_id is None:
        return None
    model = {ItemKind.COURSE: Course, ItemKind.EVENT: Event, ItemKind.MENTORSHIP: Mentorship}.get(item.kind)
    return model.objects.filter(pk=item.link_id).first() if model else None
