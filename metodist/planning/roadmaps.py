"""Roadmaps built from an analysis run, their indicators measured from the data, and their approval.

A roadmap is for the academic year after the one analysed: the problem fields found in the spring's works
of 2025/2026 become the goals of 2026/2027, measured again on the works of spring 2027. Each goal is an
`Indicator` with the metric of its problem field (the same family of works, organisation and content
element), its baseline measured now, and a target the school sets (pre-filled: see `suggested_target`).
Recommendations of the run pre-fill the actions. Rules and reasons: docs/methods.md, «Дорожные карты».
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from metodist.analysis.models import FieldKind, GroupLevel, ProblemField, SchoolStatusKind
from metodist.core.models import AcademicYear, AuditEntry, MethodAssociation, Organisation, Role, Subject
from metodist.documents.common import number
from metodist.planning.metrics import Metric, measure, years_with_results
from metodist.planning.models import (
    ActionStatus,
    Indicator,
    IndicatorValue,
    Roadmap,
    RoadmapAction,
    RoadmapEvent,
    RoadmapKind,
    RoadmapStatus,
    Statistic,
    ValueKind,
)

#: goals a pre-filled roadmap starts with, the most important problem fields first
MAX_GOALS = 6
#: a target is at least this many points above the baseline
MIN_STEP = 5.0


class PlanningError(ValueError):
    """What cannot be done with a roadmap, in Russian for the user."""


def suggested_target(baseline: float | None, reference: float | None, *, higher_is_better: bool = True) -> float | None:
    """Close half the gap to the reference (the level the group was compared with) in one year, and move
    at least MIN_STEP points: a year is what a roadmap has, and halving a gap is what schools reach in
    practice; a group already at its reference still aims MIN_STEP points further. Within 0–100."""
    if baseline is None:
        return None
    gap = abs(reference - baseline) / 2 if reference is not None else 0.0
    if higher_is_better:
        gap = gap if reference is not None and reference > baseline else 0.0
        return round(min(100.0, baseline + max(MIN_STEP, gap)), 1)
    gap = gap if reference is not None and reference < baseline else 0.0
    return round(max(0.0, baseline - max(MIN_STEP, gap)), 1)


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def _family(assessment) -> tuple[str, str, int]:
    return assessment.programme, assessment.subject.code, assessment.grade


def _element_label(field: ProblemField) -> str:
    if field.content_element_id:
        return _("элемент содержания {code} «{name}»").format(code=field.content_element.code,
                                                             name=_short(field.content_element.name))
    return _("умение {code} «{name}»").format(code=field.skill.code, name=_short(field.skill.name))


def _work_label(assessment) -> str:
    return _("{programme}, {subject}, {grade} класс").format(
        programme=assessment.get_programme_display(), subject=assessment.subject.name.lower(), grade=assessment.grade)


@dataclass
class Goal:
    """A problem field chosen as a roadmap's goal, with the groups behind it."""

    field: ProblemField  # the most important of the fields on the same family × element
    groups: list[str]  # the classes / teachers / school where it was found
    tasks: list[str]


def goals_of(run, organisation: Organisation, subject: Subject | None, *, limit: int = MAX_GOALS) -> list[Goal]:
    """The flagged problem fields (content elements and skills) of the run in the organisation's subtree,
    merged per family of works × element, the most important first (their priority: gap × pupils ×
    weight, summed over the groups where the element was found)."""
    fields = (ProblemField.objects.filter(
        run=run, flagged=True, organisation__path__startswith=organisation.path,
        field_kind__in=[FieldKind.CONTENT_ELEMENT, FieldKind.SKILL])
        .select_related("assessment__subject", "content_element", "skill", "school_class", "teacher", "organisation"))
    if subject is not None:
        fields = fields.filter(assessment__subject=subject)
    merged: dict[tuple, list[ProblemField]] = {}
    for field in fields:
        key = (*_family(field.assessment), field.field_kind, field.content_element_id or field.skill_id)
        merged.setdefault(key, []).append(field)
    goals = []
    for group in merged.values():
        own = [f for f in group if f.organisation_id == organisation.pk and f.group_level in
               (GroupLevel.SCHOOL, GroupLevel.MUNICIPALITY)]
        main = own[0] if own else max(group, key=lambda f: f.priority)
        names = []
        for f in sorted(group, key=lambda f: -f.priority):
            if f.group_level == GroupLevel.CLASS and f.school_class_id:
                names.append(_("класс {name}").format(name=str(f.school_class)))
            elif f.group_level == GroupLevel.TEACHER and f.teacher_id:
                names.append(_("учитель {name}").format(name=f.teacher.full_name))
            else:
                names.append(f.organisation.short_name)
        goals.append(Goal(main, list(dict.fromkeys(names)), list(main.tasks or [])))
    goals.sort(key=lambda g: -sum(f.priority for f in merged[(*_family(g.field.assessment), g.field.field_kind,
                                                              g.field.content_element_id or g.field.skill_id)]))
    return goals[:limit]


def _year_dates(start_year: int) -> dict[str, datetime.date]:
    return {"september": datetime.date(start_year, 9, 30), "october": datetime.date(start_year, 10, 31),
            "december": datetime.date(start_year, 12, 25), "february": datetime.date(start_year + 1, 2, 28),
            "march": datetime.date(start_year + 1, 3, 20), "start": datetime.date(start_year, 9, 1),
            "may": datetime.date(start_year + 1, 5, 31)}


def _audit(roadmap: Roadmap, user, action: str, comment: str = "") -> None:
    RoadmapEvent.objects.create(roadmap=roadmap, user=user, action=action, status=roadmap.status, comment=comment)
    AuditEntry.objects.create(user=user, action=f"roadmap:{action}", object_type="roadmap",
                              object_id=str(roadmap.pk), organisation=roadmap.organisation,
                              details={"status": roadmap.status, "comment": comment[:500]})


def add_indicator(roadmap: Roadmap, *, goal: str, assessment, scope: Organisation, statistic: str,
                  content_element=None, skill=None, baseline_year: int, target: float | None = None,
                  problem_field: ProblemField | None = None) -> Indicator:
    """An indicator with its baseline measured from the data of `baseline_year`; target pre-filled by
    `suggested_target` unless given."""
    indicator = Indicator(
        roadmap=roadmap, goal=goal, programme=assessment.programme, subject=assessment.subject,
        grade=assessment.grade, scope=scope, statistic=statistic, content_element=content_element, skill=skill,
        baseline_year=baseline_year, problem_field=problem_field,
        position=roadmap.indicators.count() + 1,
    )
    measured = measure(Metric.of(indicator), baseline_year)
    if measured is not None:
        indicator.baseline, indicator.reference = measured.value, measured.reference
    indicator.target = target if target is not None else suggested_target(
        indicator.baseline, indicator.reference, higher_is_better=indicator.higher_is_better)
    indicator.save()
    remeasure(indicator)
    return indicator


def default_goal(indicator: Indicator) -> str:
    """The goal of an indicator added by hand, in the words of the pre-filled ones."""
    work = _("{programme}, {subject}, {grade} класс").format(
        programme=indicator.programme, subject=indicator.subject.name.lower(), grade=indicator.grade)
    what = (_("выполнение заданий на элемент содержания {code} «{name}»").format(
        code=indicator.content_element.code, name=_short(indicator.content_element.name))
        if indicator.content_element_id else indicator.get_statistic_display())
    verb = _("Повысить") if indicator.higher_is_better else _("Снизить")
    return _("{verb} {what} ({work}; {scope}) с {baseline} % до {target} %").format(
        verb=verb, what=what, work=work, scope=indicator.scope.short_name, baseline=number(indicator.baseline),
        target=number(indicator.target))


def _goal_text(field: ProblemField, baseline: float | None, target: float | None) -> str:
    return _("Повысить выполнение заданий на {element} ({work}) с {baseline} % до {target} %").format(
        element=_element_label(field), work=_work_label(field.assessment), baseline=number(baseline),
        target=number(target))


def _association_of(school: Organisation, subject: Subject | None):
    found = MethodAssociation.objects.filter(organisation=school)
    if subject is not None:
        found = found.filter(subjects=subject)
    return found.select_related("head").first()


def _actions_for_goal(roadmap: Roadmap, indicator: Indicator, goal: Goal, position: int) -> list[RoadmapAction]:
    """The actions a goal starts with: discuss the results, teach the element, check it before the work."""
    field = goal.field
    dates = _year_dates(roadmap.academic_year.start_year)
    element = _element_label(field)
    tasks = ", ".join(goal.tasks)
    association = _association_of(roadmap.organisation, roadmap.subject) if roadmap.kind != RoadmapKind.MUNICIPAL else None
    head = association.head if association is not None else None
    teacher = field.teacher if field.group_level == GroupLevel.TEACHER else None
    made = [
        RoadmapAction(
            roadmap=roadmap, position=position, indicator=indicator, start=dates["start"], due=dates["september"],
            title=_("Разобрать на заседании методобъединения результаты по теме: {element}; задания {tasks}; "
                    "где выявлено: {groups}").format(element=element, tasks=tasks or "—", groups=", ".join(goal.groups)),
            owner_teacher=head, owner_text="" if head else _("руководитель методобъединения"),
            expected_result=_("Причины затруднений названы, выбраны приёмы работы"),
        ),
        RoadmapAction(
            roadmap=roadmap, position=position + 1, indicator=indicator, start=dates["september"], due=dates["february"],
            title=_("Включить в уроки {grade} классов, которые напишут работу весной, систематическую работу по теме "
                    "({element}): задания в формате заданий {tasks}, повторение в начале урока; в {next} классах — "
                    "восполнить пробелы по теме").format(
                grade=field.assessment.grade, next=field.assessment.grade + 1, element=element, tasks=tasks or "—"),
            owner_teacher=teacher, owner_text="" if teacher else _("учителя предмета"),
            expected_result=_("Тема отработана в каждом классе параллели"),
        ),
        RoadmapAction(
            roadmap=roadmap, position=position + 2, indicator=indicator, start=dates["february"], due=dates["march"],
            title=_("Провести школьную диагностическую работу по теме ({element}) и разобрать её итоги").format(
                element=element),
            owner_text=_("заместитель директора"),
            expected_result=_("Выполнение заданий темы не ниже целевого значения показателя"),
        ),
    ]
    practice = _matched_practice(field)
    if practice is not None:
        made.insert(1, RoadmapAction(
            roadmap=roadmap, position=position + 1, indicator=indicator, start=dates["september"],
            due=dates["october"], link_kind="practice", link_id=practice.pk,
            title=_("Изучить и применить практику «{title}» ({school}) по теме: {element}").format(
                title=practice.title, school=practice.school.short_name, element=element),
            owner_teacher=teacher or head, owner_text="" if (teacher or head) else _("учителя предмета"),
            expected_result=_("Приёмы практики опробованы на уроках, итоги обсуждены на методобъединении"),
        ))
        for number, action in enumerate(made):
            action.position = position + number
    return made


def _matched_practice(field: ProblemField):
    """The published practice with the strongest evidence on the field's element (stage 3), if its results
    grew or stay above the municipality; None otherwise."""
    from metodist.practices.matching import practices_for

    found = practices_for(field, limit=1)
    if found and found[0].strength[0] <= 1:
        return found[0].practice
    return None


@transaction.atomic
def draft_roadmap(run, organisation: Organisation, *, kind: str = RoadmapKind.SCHOOL_SUBJECT,
                  subject: Subject | None = None, mentor_school: Organisation | None = None, user=None) -> Roadmap:
    """A draft roadmap pre-filled from the run: its problem fields become indicators with baselines and
    suggested targets, each with the actions that start it; a transition plan adds the school's overall
    figures and the joint work with its mentor school."""
    if kind == RoadmapKind.SCHOOL_SUBJECT and subject is None:
        raise PlanningError(_("Для карты совершенствования по предмету укажите предмет."))
    if kind in (RoadmapKind.SCHOOL_SUBJECT, RoadmapKind.SCHOOL_TRANSITION) and organisation.kind != "school":
        raise PlanningError(_("Карта совершенствования и план перехода составляются для школы."))
    if kind == RoadmapKind.MUNICIPAL and organisation.kind not in ("municipality", "region"):
        raise PlanningError(_("Муниципальная дорожная карта составляется для муниципалитета."))
    year = AcademicYear.objects.get_or_create(start_year=run.academic_year.start_year + 1)[0]
    titles = {
        RoadmapKind.SCHOOL_SUBJECT: _("Общешкольная карта совершенствования: {subject}, {name}, {year}"),
        RoadmapKind.SCHOOL_TRANSITION: _("План перехода в эффективный режим работы: {name}, {year}"),
        RoadmapKind.MUNICIPAL: _("Муниципальная дорожная карта{subject_part}: {name}, {year}"),
    }
    title = titles[kind].format(subject=subject.name if subject else "", name=organisation.short_name,
                                year=str(year), subject_part=f" ({subject.name.lower()})" if subject else "")
    roadmap = Roadmap.objects.create(kind=kind, title=title[:500], organisation=organisation, subject=subject,
                                     academic_year=year, run=run, mentor_school=mentor_school, created_by=user)
    baseline_year = run.academic_year.start_year
    position = 1
    if kind == RoadmapKind.SCHOOL_TRANSITION:
        position = _transition_start(roadmap, run, baseline_year, position)
    for goal in goals_of(run, organisation, subject):
        field = goal.field
        indicator = add_indicator(
            roadmap, goal="", assessment=field.assessment, scope=organisation, statistic=Statistic.SOLVE_RATE,
            content_element=field.content_element, skill=field.skill, baseline_year=baseline_year,
            problem_field=field)
        indicator.goal = _goal_text(field, indicator.baseline, indicator.target)[:1000]
        indicator.save(update_fields=["goal"])
        actions = _actions_for_goal(roadmap, indicator, goal, position)
        RoadmapAction.objects.bulk_create(actions)
        position += len(actions)
    from metodist.planning.recommendations import link_recommendations

    link_recommendations(roadmap)
    _audit(roadmap, user, "created", _("Составлена по итогам анализа от {date}").format(
        date=timezone.localtime(run.finished_at).strftime("%d.%m.%Y") if run.finished_at else "—"))
    return roadmap


def _transition_start(roadmap: Roadmap, run, baseline_year: int, position: int) -> int:
    """A low-results school's plan: success and the share of «2» of each work family it wrote, then the
    joint work with the mentor school."""
    from metodist.analysis.models import SchoolStatus
    from metodist.reference.models import Assessment

    school = roadmap.organisation
    works = (Assessment.objects.filter(year=baseline_year + 1, works__school=school, works__absent=False)
             .select_related("subject").distinct().order_by("grade", "subject__code"))
    for assessment in works:
        indicator = add_indicator(roadmap, goal="", assessment=assessment, scope=school, statistic=Statistic.MARK_2,
                                  baseline_year=baseline_year)
        if indicator.baseline is None:
            indicator.delete()
            continue
        indicator.goal = _("Снизить долю отметок «2» ({work}) с {baseline} % до {target} %").format(
            work=_work_label(assessment), baseline=number(indicator.baseline), target=number(indicator.target))[:1000]
        indicator.save(update_fields=["goal"])
    status = SchoolStatus.objects.filter(run=run, school=school, kind=SchoolStatusKind.LOW_RESULTS).first()
    dates = _year_dates(roadmap.academic_year.start_year)
    mentor = roadmap.mentor_school
    joint = [
        (_("Утвердить совместный план работы со школой-наставником «{mentor}»").format(
            mentor=mentor.short_name) if mentor else _("Определить школу-наставника и утвердить совместный план"),
         dates["start"], dates["september"], mentor),
        (_("Взаимопосещение уроков учителями школы и школы-наставника (не реже раза в четверть)"),
         dates["september"], dates["may"], mentor),
        (_("Совместные заседания методобъединений по проблемным полям школы"), dates["october"], dates["march"], mentor),
        (_("Закрепить наставников за учителями, чьи классы показали низкие результаты"), dates["start"],
         dates["october"], None),
    ]
    actions = []
    for title, start, due, owner in joint:
        actions.append(RoadmapAction(
            roadmap=roadmap, position=position, title=title, start=start, due=due, owner_organisation=owner,
            owner_text="" if owner else _("директор школы"),
            expected_result=(status.explanation[:1000] if status and position == 1 else ""),
        ))
        position += 1
    RoadmapAction.objects.bulk_create(actions)
    return position


def indicator_rows(roadmap: Roadmap) -> tuple[list[int], list[dict]]:
    """The years with measured values, and per indicator its value of each year (or None), the change of the
    latest from the baseline and whether it reaches the target: what the roadmap page, its DOCX and the
    tracks of stage 6 show."""
    indicators = list(roadmap.indicators.select_related("content_element", "skill", "scope", "subject")
                      .prefetch_related("values"))
    years = sorted({v.year for i in indicators for v in i.values.all()})
    rows = []
    for indicator in indicators:
        values = {v.year: v for v in indicator.values.all()}
        latest = values[max(values)] if values else None
        change = None
        if latest is not None and indicator.baseline is not None and latest.year != indicator.baseline_year \
                and latest.value is not None:
            change = latest.value - indicator.baseline
        reached = None
        if latest is not None and latest.year != indicator.baseline_year:
            reached = indicator.reaches(latest.value)
        rows.append({"indicator": indicator, "values": [values.get(y) for y in years], "change": change,
                     "reached": reached})
    return years, rows


def remeasure(indicator: Indicator) -> list[IndicatorValue]:
    """The indicator's value in every academic year from its baseline on that has results, stored: the
    baseline year's as «базовое», the roadmap's own year's as «итоговое», any other as «промежуточное»."""
    metric = Metric.of(indicator)
    stored = []
    plan_year = indicator.roadmap.academic_year.start_year
    for year in years_with_results(metric):
        if year < indicator.baseline_year:
            continue
        measured = measure(metric, year)
        if measured is None:
            continue
        kind = (ValueKind.BASELINE if year == indicator.baseline_year
                else ValueKind.FINAL if year == plan_year else ValueKind.INTERIM)
        value, _created = IndicatorValue.objects.update_or_create(
            indicator=indicator, year=year,
            defaults={"kind": kind, "value": measured.value, "works": measured.works,
                      "assessment_code": measured.assessment_code})
        stored.append(value)
    return stored


def remeasure_family(programme: str, subject: str, grade: int) -> int:
    """Re-measure every indicator of a family of works (after its results were imported); how many."""
    indicators = Indicator.objects.filter(programme=programme, subject__code=subject, grade=grade).select_related(
        "roadmap__academic_year", "subject", "scope", "content_element", "skill")
    count = 0
    for indicator in indicators:
        remeasure(indicator)
        count += 1
    return count


# --- approval -----------------------------------------------------------------------------------------

#: who may move a roadmap to a state, by the kind of roadmap
APPROVERS = {
    RoadmapKind.SCHOOL_SUBJECT: {Role.SCHOOL_ADMIN, Role.REGION_ADMIN},
    RoadmapKind.SCHOOL_TRANSITION: {Role.SCHOOL_ADMIN, Role.METHODOLOGIST, Role.REGION_ADMIN},
    RoadmapKind.MUNICIPAL: {Role.METHODOLOGIST, Role.REGION_ADMIN},
}
EDITORS = {Role.SCHOOL_ADMIN, Role.METHODOLOGIST, Role.REGION_ADMIN, Role.ASSOCIATION_HEAD}


def _roles_over(user, organisation: Organisation) -> set[str]:
    """The user's roles whose organisation holds `organisation`."""
    if user.is_superuser:
        return {r.value for r in Role}
    return {r.role for r in user.role_assignments.select_related("organisation")
            if organisation.path.startswith(r.organisation.path)}


def may_edit(user, roadmap: Roadmap) -> bool:
    return bool(_roles_over(user, roadmap.organisation) & EDITORS)


def may_approve(user, roadmap: Roadmap) -> bool:
    return bool(_roles_over(user, roadmap.organisation) & APPROVERS[roadmap.kind])


@transaction.atomic
def discuss(roadmap: Roadmap, user, *, protocol: str, association: MethodAssociation | None = None) -> Roadmap:
    """Draft → discussed by the association, with its protocol."""
    if roadmap.status != RoadmapStatus.DRAFT:
        raise PlanningError(_("Обсудить можно только проект дорожной карты."))
    if not may_edit(user, roadmap):
        raise PlanningError(_("У вас нет права вести эту дорожную карту."))
    if not protocol.strip():
        raise PlanningError(_("Укажите протокол обсуждения: номер, дату и решение методобъединения."))
    roadmap.status = RoadmapStatus.DISCUSSED
    roadmap.discussion_protocol = protocol.strip()
    roadmap.discussed_by = association
    roadmap.save()
    _audit(roadmap, user, "discussed", protocol.strip())
    return roadmap


@transaction.atomic
def approve(roadmap: Roadmap, user, *, comment: str = "") -> Roadmap:
    """Discussed → approved by the head (or the method council for a municipality's roadmap)."""
    if roadmap.status != RoadmapStatus.DISCUSSED:
        raise PlanningError(_("Утвердить можно дорожную карту, обсуждённую методобъединением."))
    if not may_approve(user, roadmap):
        raise PlanningError(_("Утверждает дорожную карту руководитель школы (муниципальную — методическая служба)."))
    if not roadmap.indicators.exists():
        raise PlanningError(_("В дорожной карте нет ни одного показателя: нечего будет измерять."))
    missing = roadmap.indicators.filter(target__isnull=True).count()
    if missing:
        raise PlanningError(_("Не у всех показателей задано целевое значение."))
    roadmap.status = RoadmapStatus.APPROVED
    roadmap.approved_by = user
    roadmap.approved_at = timezone.now()
    roadmap.save()
    _audit(roadmap, user, "approved", comment)
    return roadmap


@transaction.atomic
def return_to_draft(roadmap: Roadmap, user, *, comment: str) -> Roadmap:
    if roadmap.status == RoadmapStatus.DRAFT:
        raise PlanningError(_("Дорожная карта уже в работе как проект."))
    if not may_approve(user, roadmap):
        raise PlanningError(_("Вернуть на доработку может тот, кто утверждает дорожную карту."))
    if not comment.strip():
        raise PlanningError(_("Напишите, что нужно доработать."))
    roadmap.status = RoadmapStatus.DRAFT
    roadmap.approved_by, roadmap.approved_at = None, None
    roadmap.save()
    _audit(roadmap, user, "returned", comment.strip())
    return roadmap


def record_edit(roadmap: Roadmap, user, what: str) -> None:
    _audit(roadmap, user, "edited", what)


def overdue(actions, today: datetime.date | None = None) -> list[RoadmapAction]:
    today = today or datetime.date.today()
    return [a for a in actions if a.status in (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS) and a.due < today]
