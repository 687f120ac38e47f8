"""Stage 3 pages: the library of practices (filters, XLSX) with each practice's measured evidence; the
communities (ШМО, ГМО/РМО, subject clubs) with their members and sessions; the match of a problem field
with the practices addressing it and the schools and teachers strong on it; the mentor schools proposed
for the low-results schools. Everything is read through `visible_to`; out of reach is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Max, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from metodist.analysis.models import ProblemField
from metodist.core.access import role_required
from metodist.core.context import academic_year, acting_organisation
from metodist.core.cycle import year_label
from metodist.core.models import MethodAssociation, Organisation, SubjectClub
from metodist.documents.common import Table, latest_run
from metodist.documents.downloads import wants_xlsx, xlsx_response
from metodist.practices import evidence as evidence_logic
from metodist.practices import matching, rights
from metodist.practices.forms import PracticeFilter, PracticeForm, SessionForm
from metodist.practices.models import CommunitySession, EvidenceVerdict, Practice, PracticeStatus

STAGE = 3
COMMUNITIES = {"association": MethodAssociation, "club": SubjectClub}


def page(request, template: str, context: dict, **kwargs):
    return render(request, f"practices/{template}", {"current_stage": STAGE, **context}, **kwargs)


def _audit(user, action: str, obj, organisation) -> None:
    from metodist.core.models import AuditEntry

    AuditEntry.objects.create(user=user if getattr(user, "pk", None) else None, action=f"practices:{action}",
                              object_type=obj._meta.model_name, object_id=str(obj.pk), organisation=organisation,
                              details={"title": str(obj)[:500]})


# --- the library ---------------------------------------------------------------------------------------

def practice_table(matches) -> Table:
    return Table(
        _("Библиотека практик"), _("Практики"),
        [_("Практика"), _("Школа"), _("Авторы"), _("Предмет"), _("Классы"), _("Элементы содержания"),
         _("Подтверждение"), _("До, %"), _("После, %"), _("Муниципалитет после, %"), _("Прирост, п."),
         _("Состояние")],
        [[m.practice.title, m.practice.school.short_name, ", ".join(a.full_name for a in m.practice.authors.all()),
          m.practice.subject.name if m.practice.subject_id else "", m.practice.grades,
          ", ".join(f"{e.codifier} {e.code}" for e in m.practice.content_elements.all()),
          m.best.get_verdict_display() if m.best else "", m.best.before if m.best else None,
          m.best.after if m.best else None, m.best.reference_after if m.best else None,
          m.best.gain if m.best else None, m.practice.get_status_display()] for m in matches],
        pct={7, 8, 9}, widths=[50, 28, 36, 16, 8, 24, 26, 10, 10, 12, 12, 14])


@role_required
def index(request):
    practices = Practice.objects.visible_to(request.user).select_related("school", "subject").prefetch_related(
        "authors", "evidence__content_element", "evidence__skill", "content_elements")
    filters = PracticeFilter(request.GET or None)
    if filters.is_valid():
        data = filters.cleaned_data
        if data["q"]:
            q = data["q"]
            practices = practices.filter(Q(title__icontains=q) | Q(summary__icontains=q) | Q(description__icontains=q)
                                         | Q(content_elements__name__icontains=q) | Q(authors__full_name__icontains=q)
                                         | Q(school__short_name__icontains=q))
        if data["subject"]:
            practices = practices.filter(subject=data["subject"])
        if data["grade"]:
            grade = data["grade"]
            practices = practices.filter(Q(grade_from__lte=grade) | Q(grade_from__isnull=True),
                                         Q(grade_to__gte=grade) | Q(grade_to__isnull=True))
        if data["verdict"]:
            practices = practices.filter(evidence__verdict=data["verdict"])
        if data["status"]:
            practices = practices.filter(status=data["status"])
        if data["risk"]:
            practices = [p for p in practices.distinct() if data["risk"] in p.risk_factors]
    if not isinstance(practices, list):
        practices = practices.distinct()
    matches = matching._ranked(practices)
    if wants_xlsx(request):
        return xlsx_response([practice_table(matches)], "praktiki")
    return page(request, "index.html", {"matches": matches, "filters": filters, "subnav": "library",
                                        "may_add": rights.may_add_practice(request.user)})


def _practice(request, pk: int) -> Practice:
    return get_object_or_404(Practice.objects.visible_to(request.user).select_related(
        "school", "subject", "created_by"), pk=pk)


@role_required
def practice_page(request, pk: int):
    from metodist.documents.charts import practice_evidence_spec

    practice = _practice(request, pk)
    rows = list(practice.evidence.select_related("content_element", "skill"))
    measured = [r for r in rows if r.before is not None or r.after is not None]
    sessions = CommunitySession.objects.visible_to(request.user).filter(practices=practice).select_related(
        "association", "club")
    from metodist.assistance.models import RouteItem

    studied = RouteItem.objects.visible_to(request.user).filter(kind="practice", link_id=practice.pk).count()
    return page(request, "practice.html", {
        "practice": practice, "rows": rows, "chart": practice_evidence_spec(measured) if measured else None,
        "sessions": sessions, "studied": studied, "subnav": "library",
        "may_edit": rights.may_edit_practice(request.user, practice),
        "may_publish": rights.may_publish(request.user, practice) and practice.status == PracticeStatus.DRAFT,
        "min_works": evidence_logic.MIN_WORKS,
    })


@role_required
def practice_form(request, pk: int | None = None):
    instance = _practice(request, pk) if pk else None
    if instance is not None and not rights.may_edit_practice(request.user, instance):
        raise PermissionDenied(_("Практику изменяют её авторы, администрация школы и методическая служба."))
    if instance is None and not rights.may_add_practice(request.user):
        raise PermissionDenied(_("Практику описывают педагоги, администрация школы и методическая служба."))
    initial = {}
    teacher = rights.teacher_of(request.user)
    if instance is None:
        if teacher is not None:
            initial = {"school": teacher.school_id, "authors": [teacher.pk]}
        elif request.GET.get("element", "").isdigit():
            initial = {"content_elements": [int(request.GET["element"])]}
    form = PracticeForm(request.POST or None, request.FILES or None, instance=instance, user=request.user,
                        initial=initial)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            practice = form.save(commit=False)
            if instance is None:
                practice.created_by = request.user
            practice.save()
            form.save_m2m()
            evidence_logic.recompute(practice)
            _audit(request.user, "practice_saved", practice, practice.school)
        messages.success(request, _("Практика записана; её подтверждение рассчитано по результатам."))
        return redirect("practices:practice", practice.pk)
    return page(request, "form.html", {
        "form": form, "title": _("Изменить практику") if instance else _("Новая практика"),
        "back": reverse("practices:practice", args=[instance.pk]) if instance else reverse("practices:index"),
        "back_label": instance.title if instance else _("Библиотека практик"), "subnav": "library",
        "multipart": True,
        "intro": _("Подтверждение практики не вводится: оно рассчитывается по результатам классов авторов "
                   "(или школы) по указанным элементам содержания — в году до начала применения и в последнем "
                   "году с результатами.")})


@role_required
@require_POST
def practice_publish(request, pk: int):
    practice = _practice(request, pk)
    if not rights.may_publish(request.user, practice):
        raise PermissionDenied(_("Практику публикует методическая служба."))
    practice.status = PracticeStatus.PUBLISHED
    practice.save(update_fields=["status", "updated_at"])
    _audit(request.user, "practice_published", practice, practice.school)
    messages.success(request, _("Практика опубликована: её видят педагоги всего региона."))
    return redirect("practices:practice", practice.pk)


# --- communities ---------------------------------------------------------------------------------------

def _community(request, kind: str, pk: int):
    model = COMMUNITIES.get(kind)
    if model is None:
        raise Http404
    return get_object_or_404(model.objects.visible_to(request.user).select_related("organisation", "head"), pk=pk)


def community_table(rows) -> Table:
    return Table(
        _("Профессиональные сообщества"), _("Сообщества"),
        [_("Сообщество"), _("Вид"), _("Организация"), _("Руководитель"), _("Членов"), _("Заседаний"),
         _("Последнее заседание")],
        [[r["community"].name, r["kind_label"], r["community"].organisation.short_name,
          r["community"].head.full_name if r["community"].head_id else "", r["members"], r["sessions"],
          r["last"].strftime("%d.%m.%Y") if r["last"] else ""] for r in rows],
        widths=[50, 20, 30, 30, 10, 10, 16])


@role_required
def communities(request):
    rows = []
    for kind, model in COMMUNITIES.items():
        found = model.objects.visible_to(request.user).select_related("organisation", "head").annotate(
            n_members=Count("members", distinct=True), n_sessions=Count("sessions", distinct=True),
            last=Max("sessions__date"))
        for community in found:
            label = community.get_scope_display() if kind == "association" else _("Предметный клуб")
            rows.append({"kind": kind, "kind_label": label, "community": community, "members": community.n_members,
                         "sessions": community.n_sessions, "last": community.last})
    rows.sort(key=lambda r: (r["kind"] != "club", r["community"].organisation.path, r["community"].name))
    if wants_xlsx(request):
        return xlsx_response([community_table(rows)], "soobshchestva")
    return page(request, "communities.html", {"rows": rows, "subnav": "communities"})


def session_table(sessions) -> Table:
    return Table(
        _("Заседания"), _("Заседания"),
        [_("Дата"), _("№"), _("Формат"), _("Тема"), _("Участников"), _("Проблемные поля"), _("Практики"),
         _("Решения"), _("Удовлетворённость (1–5)")],
        [[s.date.strftime("%d.%m.%Y"), s.number, s.get_format_display(), s.topic, s.n_participants + s.guests,
          s.n_fields, ", ".join(p.title for p in s.practices.all()), s.decisions, s.satisfaction] for s in sessions],
        widths=[12, 6, 18, 50, 10, 10, 40, 50, 12])


@role_required
def community_page(request, kind: str, pk: int):
    community = _community(request, kind, pk)
    sessions = list(community.sessions.annotate(
        n_participants=Count("participants", distinct=True), n_fields=Count("problem_fields", distinct=True))
        .prefetch_related("practices").order_by("-date", "-pk"))
    if wants_xlsx(request):
        return xlsx_response([session_table(sessions)], f"zasedaniya-{kind}-{pk}")
    members = community.members.select_related("school").order_by("school__path", "full_name")
    presented = Practice.objects.visible_to(request.user).filter(sessions__in=[s.pk for s in sessions]).distinct()
    return page(request, "community.html", {
        "community": community, "kind": kind, "sessions": sessions, "members": members, "presented": presented,
        "may_record": rights.may_record_session(request.user, community), "subnav": "communities"})


@role_required
def session_form(request, kind: str, pk: int, session: int | None = None):
    community = _community(request, kind, pk)
    if not rights.may_record_session(request.user, community):
        raise PermissionDenied(_("Заседание записывает руководитель сообщества или методист."))
    instance = get_object_or_404(community.sessions, pk=session) if session else None
    initial = {}
    if instance is None:
        last = community.sessions.aggregate(n=Max("number"))["n"]
        initial = {"number": (last or 0) + 1}
        if request.GET.get("field", "").isdigit():
            initial["problem_fields"] = [int(request.GET["field"])]
    form = SessionForm(request.POST or None, instance=instance, user=request.user, community=community,
                       initial=initial)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            item = form.save(commit=False)
            if instance is None:
                item.created_by = request.user
            item.save()
            form.save_m2m()
            _audit(request.user, "session_saved", item, community.organisation)
        return redirect("practices:session", item.pk)
    back = reverse("practices:community", args=[kind, community.pk])
    return page(request, "form.html", {"form": form, "title": _("Заседание: {name}").format(name=community.name),
                                       "back": back, "back_label": community.name, "subnav": "communities"})


@role_required
def session_page(request, pk: int):
    session = get_object_or_404(CommunitySession.objects.visible_to(request.user).select_related(
        "association__organisation", "club__organisation", "host"), pk=pk)
    community = session.community
    kind = "association" if session.association_id else "club"
    fields = session.problem_fields.select_related("organisation", "content_element", "skill", "assessment", "run")
    return page(request, "session.html", {
        "session": session, "community": community, "kind": kind, "fields": fields,
        "participants": session.participants.select_related("school").order_by("school__path", "full_name"),
        "practices": Practice.objects.visible_to(request.user).filter(sessions=session).select_related("school"),
        "may_record": rights.may_record_session(request.user, community), "subnav": "communities"})


# --- matching ------------------------------------------------------------------------------------------

@role_required
def match(request, field: int):
    found = get_object_or_404(ProblemField.objects.visible_to(request.user).select_related(
        "run__scope", "run__academic_year", "assessment__subject", "organisation", "school_class", "teacher",
        "content_element", "skill"), pk=field)
    practices = matching.practices_for(found, request.user)
    peers = matching.strong_peers(found)
    sessions = CommunitySession.objects.visible_to(request.user).filter(
        Q(problem_fields=found) | Q(content_elements=found.content_element_id) if found.content_element_id
        else Q(problem_fields=found)).select_related("association", "club").distinct()[:10]
    school = found.organisation if found.organisation.kind == "school" else None
    return page(request, "match.html", {
        "field": found, "matches": practices, "schools": peers["school"], "teachers": peers["teacher"],
        "sessions": sessions, "school": school, "subnav": "library",
        "verdicts": EvidenceVerdict, "may_add": rights.may_add_practice(request.user),
        "social_penalty": matching.SOCIAL_PENALTY,
    })


def _scope_of(request):
    organisation = acting_organisation(request)
    if organisation is not None:
        return organisation
    return Organisation.objects.filter(parent__isnull=True).order_by("path").first()


def mentor_table(proposals) -> Table:
    rows = []
    for p in proposals:
        for rank, c in enumerate(p.candidates, 1):
            rows.append([p.school.short_name, rank, c.school.short_name, c.strength, c.covered, c.social_gap,
                         _("да") if c.same_municipality else _("нет"), c.load, ", ".join(c.statuses), c.score])
        if not p.candidates:
            rows.append([p.school.short_name, None, _("подходящей школы нет"), None, None, None, "", None, "", None])
    return Table(
        _("Предлагаемые школы-шефы"), _("Школы-шефы"),
        [_("Школа с низкими результатами"), _("Место"), _("Предлагаемая школа-шеф"), _("Сильнее региона, п."),
         _("Полей сравнено"), _("Разница ИСС"), _("Тот же муниципалитет"), _("Уже помогает школам"), _("Статус"),
         _("Оценка")],
        rows, widths=[34, 8, 34, 14, 12, 12, 14, 14, 40, 10])


@role_required
def mentors(request):
    organisation = _scope_of(request)
    year = academic_year(request)
    run = latest_run(organisation, year) if organisation is not None else None
    proposals = matching.propose_mentor_schools(run, organisation) if run is not None else []
    if wants_xlsx(request):
        return xlsx_response([mentor_table(proposals)], f"shkoly-shefy-{year}")
    from metodist.core.models import AcademicYear

    next_year = AcademicYear.objects.filter(start_year=year + 1).first()
    return page(request, "mentors.html", {
        "proposals": proposals, "run": run, "year_label": year_label(year), "next_year": next_year,
        "next_label": year_label(year + 1), "organisation": organisation, "subnav": "mentors",
        "may_pair": rights.has_any(request.user, rights.PUBLISHERS),
        "weights": {"social": matching.SOCIAL_PENALTY, "far": matching.FAR_PENALTY, "load": matching.LOAD_PENALTY,
                    "max_load": matching.MAX_LOAD},
    })
