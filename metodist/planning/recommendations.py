"""Recommendations generated from an analysis run, one per finding and addressee, in Russian:

* a teacher's problem field (his classes on a content element) → to the teacher;
* a class's problem field with no teacher known → to the school's methodological association;
* a school's problem field → to the school's administration (the element belongs in its roadmap);
* a municipality's problem field → to the method service (a seminar of the ГМО on it);
* a teacher's personal deficit → to the teacher (a course or a development route on the topic);
* a corporate deficit → to the method service (or the school's association when it is a school's);
* a low-results school → to the municipality (a mentor school and a transition plan); a school in
  difficult social conditions → to the municipality (targeted support); a resilient or high-performing
  school → to the method service (study and spread its practice; a mentor school candidate).

Generating again for the same run adds what is new and leaves the existing ones (and their edits and
statuses) as they are. Rules and reasons: docs/methods.md, «Рекомендации»."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from metodist.analysis.models import (
    DeficitProfile,
    FieldKind,
    GroupLevel,
    ProblemField,
    SchoolStatus,
    SchoolStatusKind,
)
from metodist.collection.models import DeficitScope
from metodist.documents.common import number
from metodist.planning.models import Addressee, Recommendation, RecommendationStatus


def _element(field: ProblemField) -> str:
    if field.content_element_id:
        return f"{field.content_element.code} «{field.content_element.name}»"
    if field.skill_id:
        return f"{field.skill.code} «{field.skill.name}»"
    return field.topic


def _basis(field: ProblemField) -> str:
    return _("{work}: задания {tasks}, выполнение {rate} % при {reference} % ({level}), участников {pupils}").format(
        work=field.assessment.title, tasks=", ".join(field.tasks or []) or "—", rate=number(100 * field.solve_rate),
        reference=number(100 * field.reference), level=field.reference_level, pupils=field.pupils)


def _field_recommendation(field: ProblemField) -> Recommendation | None:
    element = _element(field)
    school = field.organisation
    subject = field.assessment.subject
    if field.group_level == GroupLevel.TEACHER and field.teacher_id:
        return Recommendation(
            addressee=Addressee.TEACHER, organisation=school, teacher=field.teacher, subject=subject,
            text=_("Спланировать в следующем учебном году систематическую работу по теме {element}: разобрать типичные "
                   "ошибки в заданиях {tasks}, включать такие задания в уроки и проверочные работы; изучить практики "
                   "коллег, успешно решающих эту задачу.").format(element=element, tasks=", ".join(field.tasks or [])),
        )
    if field.group_level == GroupLevel.CLASS:
        return Recommendation(
            addressee=Addressee.ASSOCIATION, organisation=school, subject=subject,
            text=_("Разобрать на заседании методобъединения результаты класса {group} по теме {element} и "
                   "согласовать приёмы работы с классом.").format(group=field.school_class, element=element),
        )
    if field.group_level == GroupLevel.SCHOOL:
        return Recommendation(
            addressee=Addressee.SCHOOL, organisation=school, subject=subject,
            text=_("Включить тему {element} ({work}) в общешкольную карту совершенствования по предмету с "
                   "измеримым показателем и проконтролировать её выполнение.").format(
                element=element, work=field.assessment.title),
        )
    if field.group_level == GroupLevel.MUNICIPALITY:
        return Recommendation(
            addressee=Addressee.METHOD_SERVICE, organisation=school, subject=subject,
            text=_("Провести семинар городского методобъединения по теме {element} ({work}) с показом практик "
                   "школ, где тема выполняется успешно.").format(element=element, work=field.assessment.title),
        )
    return None


def _deficit_recommendation(deficit: DeficitProfile) -> Recommendation:
    if deficit.scope == DeficitScope.PERSONAL:
        return Recommendation(
            addressee=Addressee.TEACHER, organisation=deficit.organisation, teacher=deficit.teacher,
            subject=deficit.subject,
            text=_("Включить в индивидуальный образовательный маршрут тему «{topic}»: курс повышения квалификации "
                   "или стажировку по ней, посещение уроков наставника.").format(topic=deficit.topic),
        )
    addressee = Addressee.ASSOCIATION if deficit.organisation.kind == "school" else Addressee.METHOD_SERVICE
    return Recommendation(
        addressee=addressee, organisation=deficit.organisation, subject=deficit.subject,
        text=_("Организовать для учителей обучение по теме «{topic}»: корпоративный курс, серию семинаров или "
               "мастер-классов методобъединения.").format(topic=deficit.topic),
    )


STATUS_TEXTS = {
    SchoolStatusKind.LOW_RESULTS: (Addressee.MUNICIPALITY, lambda s: _(
        "Закрепить за школой «{name}» школу-наставника и утвердить план перехода в эффективный режим работы; "
        "направить учителей на адресную методическую помощь.").format(name=s.short_name)),
    SchoolStatusKind.DIFFICULT_CONTEXT: (Addressee.MUNICIPALITY, lambda s: _(
        "Предусмотреть для школы «{name}», работающей в сложных социальных условиях, адресную поддержку: "
        "ресурсы, наставничество, участие в сетевых проектах.").format(name=s.short_name)),
    SchoolStatusKind.RESILIENT: (Addressee.METHOD_SERVICE, lambda s: _(
        "Изучить и распространить опыт школы «{name}»: её результаты выше ожидаемых по социальному индексу.").format(
        name=s.short_name)),
    SchoolStatusKind.HIGH_PERFORMER: (Addressee.METHOD_SERVICE, lambda s: _(
        "Привлечь школу «{name}» к наставничеству над школами с низкими результатами и к проведению "
        "мастер-классов.").format(name=s.short_name)),
}


@transaction.atomic
def generate(run, organisation=None) -> dict[str, int]:
    """The recommendations of a run (in `organisation`'s subtree when given): created and kept counts."""
    existing = set(Recommendation.objects.filter(run=run).values_list("key", flat=True))
    made: list[Recommendation] = []

    def add(key: str, recommendation: Recommendation | None, **links) -> None:
        if recommendation is None or key in existing:
            return
        existing.add(key)
        recommendation.run = run
        recommendation.key = key
        for name, value in links.items():
            setattr(recommendation, name, value)
        made.append(recommendation)

    fields = ProblemField.objects.filter(run=run, flagged=True, field_kind__in=[FieldKind.CONTENT_ELEMENT,
                                                                                FieldKind.SKILL])
    deficits = DeficitProfile.objects.filter(run=run)
    statuses = SchoolStatus.objects.filter(run=run, kind__in=list(STATUS_TEXTS))
    if organisation is not None:
        fields = fields.filter(organisation__path__startswith=organisation.path)
        deficits = deficits.filter(organisation__path__startswith=organisation.path)
        statuses = statuses.filter(school__path__startswith=organisation.path)
    for field in fields.select_related("assessment__subject", "content_element", "skill", "teacher", "school_class",
                                       "organisation").order_by("-priority"):
        recommendation = _field_recommendation(field)
        if recommendation is not None:
            recommendation.basis = _basis(field)
        add(f"field:{field.pk}", recommendation, problem_field=field)
    for deficit in deficits.select_related("organisation", "teacher", "subject"):
        recommendation = _deficit_recommendation(deficit)
        recommendation.basis = deficit.explanation[:2000]
        add(f"deficit:{deficit.pk}", recommendation, deficit=deficit)
    for status in statuses.select_related("school__parent"):
        addressee, text = STATUS_TEXTS[status.kind]
        school = status.school
        target = school.parent if addressee == Addressee.MUNICIPALITY and school.parent_id else school
        add(f"status:{status.pk}", Recommendation(addressee=addressee, organisation=target, text=text(school),
                                                  basis=status.explanation[:2000]), school_status=status)
    Recommendation.objects.bulk_create(made, batch_size=500)
    return {"created": len(made), "total": len(existing)}


def link_recommendations(roadmap) -> int:
    """Link the roadmap's actions to the run's recommendations on the same problem fields (accepted)."""
    linked = 0
    if roadmap.run_id is None:
        return 0
    generate(roadmap.run, roadmap.organisation)
    for action in roadmap.actions.select_related("indicator").filter(indicator__problem_field__isnull=False,
                                                                     recommendation__isnull=True):
        field_id = action.indicator.problem_field_id
        found = (Recommendation.objects.filter(run=roadmap.run, problem_field_id=field_id).first()
                 or Recommendation.objects.filter(
                     run=roadmap.run, organisation__path__startswith=roadmap.organisation.path,
                     problem_field__assessment_id=action.indicator.problem_field.assessment_id,
                     problem_field__content_element_id=action.indicator.problem_field.content_element_id,
                     problem_field__skill_id=action.indicator.problem_field.skill_id).order_by("pk").first())
        if found is None:
            continue
        action.recommendation = found
        action.save(update_fields=["recommendation"])
        if found.status == RecommendationStatus.PROPOSED:
            found.status = RecommendationStatus.ACCEPTED
            found.save(update_fields=["status", "updated_at"])
        linked += 1
    return linked
