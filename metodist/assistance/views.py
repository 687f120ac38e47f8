"""Stage 5 pages: courses (modules, participants, questionnaires, the roadmap actions that send teachers
to them), teachers' requests (the teacher's own; the method service's grouped view and answers),
development routes (proposed from deficits, edited, approved, followed; the DOCX schools keep),
mentoring and mentor-school pairings, events with attendance and satisfaction. Everything is read
through `visible_to`; an object out of reach is a 404; every table downloads as XLSX."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from metodist.assistance import courses as course_logic
from metodist.assistance import events as event_logic
from metodist.assistance import requests as request_logic
from metodist.assistance import rights
from metodist.assistance import routes as route_logic
from metodist.assistance.courses import AssistanceError
from metodist.assistance.forms import (
    AnswerForm,
    AttendanceForm,
    CourseForm,
    EnrolForm,
    EnrolmentForm,
    EventFilter,
    EventForm,
    ItemStatusForm,
    MentorSchoolForm,
    MentorshipForm,
    ModuleForm,
    RequestFilter,
    RequestForm,
    RouteItemForm,
    RouteProposeForm,
    SurveyLinkForm,
)
from metodist.assistance.models import (
    AssistanceRequest,
    Course,
    DevelopmentRoute,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
    ItemKind,
    ItemStatus,
    MentorSchool,
    Mentorship,
    RequestStatus,
    RouteStatus,
)
from metodist.core.access import role_required
from metodist.documents.common import Table
from metodist.documents.downloads import safe_file_name, wants_xlsx, xlsx_response

STAGE = 5


def page(request, template: str, context: dict, **kwargs):
    return render(request, f"assistance/{template}", {"current_stage": STAGE, **context}, **kwargs)


def form_page(request, form, *, title: str, back: str, back_label: str, subnav: str, intro: str = "",
              submit: str = ""):
    return page(request, "form.html", {"form": form, "title": title, "back": back, "back_label": back_label,
                                       "subnav": subnav, "intro": intro, "submit": submit or _("Записать")})


def _dates(start, end) -> str:
    if start and end and start != end:
        return f"{start:%d.%m.%Y} – {end:%d.%m.%Y}"
    return f"{start:%d.%m.%Y}" if start else ""


def _share(value) -> float | None:
    return None if value is None else round(100 * value, 1)


# --- overview -------------------------------------------------------------------------------------------

@role_required
def index(request):
    user = request.user
    teacher = rights.teacher_of(user)
    requests_visible = AssistanceRequest.objects.visible_to(user)
    figures = {
        "courses": Course.objects.visible_to(user).count(),
        "enrolments": Enrolment.objects.visible_to(user).count(),
        "requests_open": requests_visible.filter(status__in=request_logic.OPEN).count(),
        "requests": requests_visible.count(),
        "routes": DevelopmentRoute.objects.visible_to(user).count(),
        "routes_approved": DevelopmentRoute.objects.visible_to(user).filter(status=RouteStatus.APPROVED).count(),
        "mentorships": Mentorship.objects.visible_to(user).count(),
        "pairings": MentorSchool.objects.visible_to(user).count(),
        "events": Event.objects.visible_to(user).count(),
    }
    own_routes = list(DevelopmentRoute.objects.filter(teacher=teacher).select_related("academic_year")) \
        if teacher else []
    return page(request, "index.html", {"figures": figures, "teacher": teacher, "own_routes": own_routes,
                                        "subnav": "index"})


# --- courses ---------------------------------------------------------------------------------------------

def course_table(items, counts, satisfaction) -> Table:
    return Table(
        _("Курсы повышения квалификации"), _("Курсы"),
        [_("Курс"), _("Кто проводит"), _("Учебный год"), _("Сроки"), _("Объём, ч"), _("Форма"), _("Предмет"),
         _("Элементы содержания"), _("Слушателей"), _("Окончили"), _("Оценок в итоговой анкете"),
         _("Удовлетворённость (1–5)")],
        [[c.title, c.provider.short_name, str(c.academic_year), _dates(c.starts, c.ends), c.hours,
          c.get_format_display(), c.subject.name if c.subject_id else "",
          ", ".join(f"{e.codifier} {e.code}" for e in c.content_elements.all()),
          sum(counts.get(c.pk, {}).values()), counts.get(c.pk, {}).get(EnrolmentStatus.COMPLETED, 0),
          satisfaction.get(c.pk, (0, None))[0], satisfaction.get(c.pk, (0, None))[1]] for c in items],
        widths=[60, 30, 12, 24, 10, 18, 16, 24, 12, 12, 12, 14],
    )


@role_required
def course_list(request):
    items = list(Course.objects.visible_to(request.user).select_related("provider", "academic_year", "subject")
                 .prefetch_related("content_elements"))
    ids = [c.pk for c in items]
    counts = course_logic.enrolment_counts(ids, request.user)
    satisfaction = course_logic.final_satisfaction_by_course(ids, request.user)
    table = course_table(items, counts, satisfaction)
    if wants_xlsx(request):
        return xlsx_response([table], "kursy")
    rows = [{"course": c, "enrolled": sum(counts.get(c.pk, {}).values()),
             "completed": counts.get(c.pk, {}).get(EnrolmentStatus.COMPLETED, 0),
             "satisfaction": satisfaction.get(c.pk, (0, None))} for c in items]
    may_create = rights.has_any(request.user, rights.METHOD_SERVICE)
    return page(request, "courses.html", {"rows": rows, "may_create": may_create, "subnav": "courses"})


def _course(request, pk: int) -> Course:
    return get_object_or_404(Course.objects.visible_to(request.user).select_related(
        "provider", "audience", "academic_year", "subject"), pk=pk)


def linked_actions(user, kind: str, pk: int):
    from metodist.planning.models import RoadmapAction

    return list(RoadmapAction.objects.visible_to(user).filter(link_kind=kind, link_id=pk).select_related(
        "roadmap__organisation", "owner_teacher", "owner_organisation"))


def action_table(actions) -> Table:
    return Table(
        _("Мероприятия дорожных карт"), _("Дорожные карты"),
        [_("Дорожная карта"), _("Организация"), _("Мероприятие"), _("Срок"), _("Состояние")],
        [[a.roadmap.title, a.roadmap.organisation.short_name, a.title, f"{a.due:%d.%m.%Y}", a.get_status_display()]
         for a in actions], widths=[50, 26, 60, 12, 16])


@role_required
def course_page(request, pk: int):
    course = _course(request, pk)
    modules = list(course.modules.all())
    enrolments = list(Enrolment.objects.visible_to(request.user).filter(course=course).select_related(
        "teacher__school"))
    summaries = course_logic.survey_summaries(course, request.user)
    actions = linked_actions(request.user, "course", course.pk)
    tables = [
        Table(_("Модули"), _("Модули"), [_("№"), _("Модуль"), _("Вид"), _("Часов")],
              [[m.position, m.title, m.get_kind_display(), m.hours] for m in modules], widths=[5, 60, 16, 10]),
        Table(_("Слушатели"), _("Слушатели"),
              [_("Учитель"), _("Школа"), _("Состояние"), _("Окончил"), _("Итоговая работа"), _("Оценка")],
              [[e.teacher.full_name, e.teacher.school.short_name, e.get_status_display(),
                e.completed_at.strftime("%d.%m.%Y") if e.completed_at else "", e.final_work, e.grade]
               for e in enrolments], widths=[36, 30, 16, 12, 40, 12]),
        Table(_("Анкетирование слушателей"), _("Анкеты"),
              [_("Анкетирование"), _("Этап"), _("Дата"), _("Ответов"), _("Из них слушателей курса"),
               _("Оценок удовлетворённости"), _("Удовлетворённость (1–5)")],
              [[s.survey.title, s.survey.get_stage_display(), f"{s.survey.conducted_on:%d.%m.%Y}", s.responses,
                s.participants, s.rated, s.satisfaction] for s in summaries], widths=[50, 14, 12, 10, 14, 14, 14]),
        action_table(actions),
    ]
    if wants_xlsx(request):
        return xlsx_response(tables, f"kurs-{course.pk}", title_lines=[course.title, course.provider.short_name])
    may_edit = rights.may_edit_course(request.user, course)
    may_enrol = rights.may_enrol(request.user, course)
    requests = AssistanceRequest.objects.visible_to(request.user).filter(help_course=course).count()
    return page(request, "course.html", {
        "course": course, "modules": modules, "module_hours": sum(m.hours for m in modules),
        "enrolments": enrolments, "summaries": summaries, "final": course_logic.final_satisfaction(summaries),
        "actions": actions, "may_edit": may_edit, "may_enrol": may_enrol, "requests": requests,
        "statuses": EnrolmentStatus.choices, "min_answers": course_logic.MIN_ANSWERS,
        "survey_form": SurveyLinkForm(user=request.user, course=course) if may_edit else None,
        "candidates": list(course_logic.candidate_surveys(course).filter(course_link__isnull=True)) if may_edit else [],
        "subnav": "courses",
    })


def _still_visible(model, user, pk) -> None:
    """After a save: the object must still be one the user sees (else the change is undone)."""
    if not model.objects.visible_to(user).filter(pk=pk).exists():
        raise AssistanceError(_("После изменения запись оказалась бы вне вашей организации."))


@role_required
def course_form(request, pk: int | None = None):
    course = _course(request, pk) if pk else None
    if course is not None and not rights.may_edit_course(request.user, course):
        raise PermissionDenied(_("Курс изменяет методическая служба, которая его ведёт."))
    if course is None and not rights.has_any(request.user, rights.METHOD_SERVICE):
        raise PermissionDenied(_("Курсы заносит методическая служба или институт развития образования."))
    form = CourseForm(request.POST or None, instance=course, user=request.user,
                      initial={"competence_areas": course.competence_areas if course else []})
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                item = form.save(commit=False)
                if course is None:
                    item.created_by = request.user
                item.competence_areas = form.cleaned_data["competence_areas"]
                item.save()
                form.save_m2m()
                _still_visible(Course, request.user, item.pk)
                course_logic.audit(request.user, "course_saved", item, item.provider, title=item.title)
        except AssistanceError as error:
            form.add_error(None, str(error))
        else:
            return redirect("assistance:course", item.pk)
    return form_page(request, form, title=course.title if course else _("Новый курс"),
                     back=reverse("assistance:course", args=[course.pk]) if course else reverse("assistance:courses"),
                     back_label=_("Курсы"), subnav="courses")


@role_required
def module_form(request, pk: int, module: int | None = None):
    course = _course(request, pk)
    if not rights.may_edit_course(request.user, course):
        raise PermissionDenied(_("Курс изменяет методическая служба, которая его ведёт."))
    instance = get_object_or_404(course.modules, pk=module) if module else None
    form = ModuleForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            course_logic.check_modules(course, form.cleaned_data["hours"], excluding=instance)
        except AssistanceError as error:
            form.add_error("hours", str(error))
        else:
            item = form.save(commit=False)
            item.course = course
            if instance is None:
                item.position = (course.modules.order_by("-position").values_list("position", flat=True).first()
                                 or 0) + 1
            item.save()
            return redirect(reverse("assistance:course", args=[course.pk]) + "#modules")
    return form_page(request, form, title=_("Модуль курса"), back=reverse("assistance:course", args=[course.pk]),
                     back_label=course.title, subnav="courses")


@role_required
def enrol(request, pk: int):
    course = _course(request, pk)
    if not rights.may_enrol(request.user, course):
        raise PermissionDenied(_("Записывают на курсы методисты и администрация школ."))
    form = EnrolForm(request.POST or None, user=request.user, course=course)
    if request.method == "POST" and form.is_valid():
        counts = course_logic.enrol(course, form.cleaned_data["teachers"], status=form.cleaned_data["status"],
                                    user=request.user)
        messages.success(request, _("Записано на курс: {n}.").format(n=counts["created"]))
        return redirect(reverse("assistance:course", args=[course.pk]) + "#enrolments")
    return form_page(request, form, title=_("Записать учителей на курс"),
                     back=reverse("assistance:course", args=[course.pk]), back_label=course.title, subnav="courses",
                     intro=_("В списке — учителя вашей организации, ещё не записанные на этот курс."),
                     submit=_("Записать"))


@role_required
@require_POST
def enrolment_status(request, pk: int, enrolment: int):
    course = _course(request, pk)
    if not rights.may_enrol(request.user, course):
        raise PermissionDenied(_("Записывают на курсы методисты и администрация школ."))
    item = get_object_or_404(Enrolment.objects.visible_to(request.user).filter(course=course), pk=enrolment)
    form = EnrolmentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        course_logic.set_enrolment(item, status=data["status"], completed_at=data["completed_at"],
                                   final_work=data["final_work"], grade=data["grade"], user=request.user)
    else:
        messages.error(request, _("Состояние слушателя не изменено: проверьте дату."))
    return redirect(reverse("assistance:course", args=[course.pk]) + "#enrolments")


@role_required
@require_POST
def course_surveys(request, pk: int):
    course = _course(request, pk)
    if not rights.may_edit_course(request.user, course):
        raise PermissionDenied(_("Курс изменяет методическая служба, которая его ведёт."))
    try:
        if request.POST.get("auto"):
            count = course_logic.link_surveys(course)
        else:
            form = SurveyLinkForm(request.POST, user=request.user, course=course)
            if not form.is_valid():
                raise AssistanceError(_("Выберите анкетирование."))
            count = course_logic.link_surveys(course, [form.cleaned_data["survey"]])
        messages.success(request, _("Связано анкетирований: {n}.").format(n=count))
    except AssistanceError as error:
        messages.error(request, str(error))
    return redirect(reverse("assistance:course", args=[course.pk]) + "#surveys")


# --- requests -------------------------------------------------------------------------------------------

def request_table(items) -> Table:
    return Table(
        _("Запросы педагогов"), _("Запросы"),
        [_("Дата"), _("Учитель"), _("Школа"), _("Предмет"), _("Область"), _("Затруднение"), _("Какая помощь нужна"),
         _("Состояние"), _("Ответ")],
        [[f"{r.created_at:%d.%m.%Y}", r.teacher.full_name, r.teacher.school.short_name,
          r.subject.name if r.subject_id else "", r.get_competence_area_display(), r.text,
          r.get_preferred_form_display(), r.get_status_display(), r.answer] for r in items],
        widths=[11, 30, 26, 16, 20, 60, 24, 12, 50])


def group_table(groups) -> Table:
    return Table(
        _("Запросы по областям затруднений и предметам"), _("По областям"),
        [_("Область затруднений"), _("Предмет"), _("Всего"), _("Новых"), _("В работе"), _("Отвечено и закрыто")],
        [[g.area_label, g.subject or "—", g.total, g.by_status.get(RequestStatus.NEW, 0),
          g.by_status.get(RequestStatus.IN_WORK, 0), g.answered] for g in groups],
        widths=[30, 20, 10, 10, 10, 16])


@role_required
def request_list(request):
    teacher = rights.teacher_of(request.user)
    items = AssistanceRequest.objects.visible_to(request.user).select_related("teacher__school", "subject")
    method_service = rights.has_any(request.user, rights.METHOD_SERVICE)
    filters = RequestFilter(request.GET or None)
    groups = request_logic.grouped(items)
    if filters.is_valid():
        if filters.cleaned_data["status"]:
            items = items.filter(status=filters.cleaned_data["status"])
        if filters.cleaned_data["area"]:
            items = items.filter(competence_area=filters.cleaned_data["area"])
    items = list(items)
    tables = [group_table(groups), request_table(items)]
    if wants_xlsx(request):
        return xlsx_response(tables, "zaprosy-pedagogov")
    return page(request, "requests.html", {
        "items": items, "groups": groups, "filters": filters, "teacher": teacher, "method_service": method_service,
        "subnav": "requests"})


@role_required
def request_new(request):
    teacher = rights.teacher_of(request.user)
    if teacher is None:
        raise PermissionDenied(_("Запрос подаёт учитель со своей учётной записи."))
    form = RequestForm(request.POST or None, teacher=teacher)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            item = request_logic.submit(teacher, text=data["text"], competence_area=data["competence_area"],
                                        subject=data["subject"], content_elements=data["content_elements"],
                                        preferred_form=data["preferred_form"], user=request.user)
        except AssistanceError as error:
            form.add_error("text", str(error))
        else:
            messages.success(request, _("Запрос отправлен в методическую службу."))
            return redirect("assistance:request", item.pk)
    return form_page(request, form, title=_("Запрос в методическую службу"), back=reverse("assistance:requests"),
                     back_label=_("Мои запросы"), subnav="requests", submit=_("Отправить"),
                     intro=_("Опишите, что вызывает затруднения в работе: методическая служба ответит и предложит "
                             "помощь — курсы, мероприятие, наставника или консультацию."))


@role_required
def request_page(request, pk: int):
    item = get_object_or_404(AssistanceRequest.objects.visible_to(request.user).select_related(
        "teacher__school", "subject", "answered_by", "help_course", "help_event", "help_mentorship__mentor"), pk=pk)
    may_answer = rights.may_answer(request.user, item)
    form = None
    if may_answer:
        form = AnswerForm(request.POST or None, user=request.user, item=item, initial={
            "status": item.status if item.status != RequestStatus.NEW else RequestStatus.ANSWERED,
            "answer": item.answer, "course": item.help_course_id, "event": item.help_event_id,
            "mentorship": item.help_mentorship_id})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                request_logic.answer(item, text=data["answer"], status=data["status"], course=data["course"],
                                     event=data["event"], mentorship=data["mentorship"], user=request.user)
            except AssistanceError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Ответ записан."))
                return redirect("assistance:requests")
    elif request.method == "POST":
        raise PermissionDenied(_("Отвечает на запросы методическая служба."))
    return page(request, "request.html", {"item": item, "form": form, "subnav": "requests"})


# --- routes ---------------------------------------------------------------------------------------------

def route_table(items) -> Table:
    return Table(
        _("Индивидуальные образовательные маршруты"), _("ИОМ"),
        [_("Учитель"), _("Школа"), _("Учебный год"), _("Состояние"), _("Пунктов"), _("Выполнено"), _("Выполнено, %")],
        [[r.teacher.full_name, r.teacher.school.short_name, str(r.academic_year), r.get_status_display(), r.n_items,
          r.n_done, _share(r.n_done / r.n_items) if r.n_items else None] for r in items],
        pct={6}, widths=[34, 30, 12, 14, 10, 10, 12])


def _latest_deficit_run(user):
    """The latest finished analysis with personal deficits the user sees, and its teachers without a route."""
    from metodist.analysis.models import DeficitProfile, RunStatus

    found = DeficitProfile.objects.visible_to(user).filter(scope="personal", teacher__isnull=False,
                                                           run__status=RunStatus.DONE).order_by(
        "-run__academic_year__start_year", "-run__finished_at").values_list("run", flat=True).first()
    if found is None:
        return None, []
    from metodist.analysis.models import AnalysisRun

    run = AnalysisRun.objects.select_related("academic_year").get(pk=found)
    with_route = DevelopmentRoute.objects.filter(academic_year__start_year=run.academic_year.start_year + 1) \
        .values("teacher_id")
    profiles = (DeficitProfile.objects.visible_to(user).filter(run=run, scope="personal", teacher__isnull=False)
                .exclude(teacher__in=with_route).select_related("teacher__school").order_by(
        "teacher__school__path", "teacher__full_name", "-severity"))
    teachers: dict[int, dict] = {}
    for p in profiles:
        entry = teachers.setdefault(p.teacher_id, {"teacher": p.teacher, "topics": []})
        entry["topics"].append(p.topic)
    return run, list(teachers.values())


@role_required
def route_list(request):
    items = list(DevelopmentRoute.objects.visible_to(request.user).select_related(
        "teacher__school", "academic_year").annotate(
        n_items=Count("items"), n_done=Count("items", filter=Q(items__status=ItemStatus.DONE))))
    table = route_table(items)
    if wants_xlsx(request):
        return xlsx_response([table], "iom")
    may_propose = rights.has_any(request.user, rights.ROUTE_EDITORS)
    run, waiting = _latest_deficit_run(request.user) if may_propose else (None, [])
    return page(request, "routes.html", {"items": items, "may_propose": may_propose, "run": run,
                                         "waiting": waiting[:200], "waiting_total": len(waiting),
                                         "subnav": "routes"})


@role_required
def route_propose(request):
    if not rights.has_any(request.user, rights.ROUTE_EDITORS):
        raise PermissionDenied(_("Маршрут составляют администрация школы, руководитель методобъединения или методист."))
    form = RouteProposeForm(request.POST or None, user=request.user, initial={
        "teacher": request.GET.get("teacher"), "run": request.GET.get("run")})
    if request.method == "POST" and form.is_valid():
        teacher = form.cleaned_data["teacher"]
        if not rights.may(request.user, rights.ROUTE_EDITORS, teacher.school):
            raise PermissionDenied(_("Маршрут этого учителя составляет его школа или методическая служба."))
        try:
            route = route_logic.propose_route(teacher, form.cleaned_data["run"], user=request.user)
        except AssistanceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Маршрут составлен по выявленным дефицитам: проверьте пункты и сроки, затем "
                                        "утвердите."))
            return redirect("assistance:route", route.pk)
    return form_page(request, form, title=_("Составить маршрут по дефицитам"), back=reverse("assistance:routes"),
                     back_label=_("Маршруты"), subnav="routes", submit=_("Составить проект"),
                     intro=_("Система подберёт курсы и мероприятия на темы дефицитов учителя, наставника из сильных "
                             "учителей того же предмета, задания для самообразования и открытый урок. Всё можно "
                             "изменить до утверждения."))


def _route(request, pk: int) -> DevelopmentRoute:
    return get_object_or_404(DevelopmentRoute.objects.visible_to(request.user).select_related(
        "teacher__school", "academic_year", "run__academic_year", "approved_by"), pk=pk)


def route_items_table(items) -> Table:
    return Table(
        _("Пункты маршрута"), _("Маршрут"),
        [_("№"), _("Мероприятие"), _("Форма"), _("Сроки"), _("Результат"), _("Состояние")],
        [[i.position, i.title, i.form, f"{i.due:%d.%m.%Y}" if i.due else "", i.result,
          i.get_status_display() + (f" {i.done_at:%d.%m.%Y}" if i.done_at else "")] for i in items],
        widths=[5, 60, 30, 12, 40, 18])


@role_required
def route_page(request, pk: int):
    route = _route(request, pk)
    items = list(route.items.select_related("mentor__school", "content_element"))
    table = route_items_table(items)
    if wants_xlsx(request):
        return xlsx_response([table], f"iom-{route.pk}", title_lines=[route.title, route.teacher.school.short_name])
    share = route_logic.progress_share([i.status for i in items])
    may_edit = rights.may_edit_route(request.user, route)
    return page(request, "route.html", {
        "route": route, "items": items, "progress": share, "progress_pct": _share(share),
        "done": sum(1 for i in items if i.status == ItemStatus.DONE),
        "may_edit": may_edit, "may_change": may_edit and route.status == RouteStatus.DRAFT,
        "may_approve": rights.may_approve_route(request.user, route),
        "may_report": rights.may_report_item(request.user, route), "statuses": ItemStatus.choices,
        "history": route_logic.history(route), "kinds": ItemKind, "subnav": "routes",
    })


@role_required
def route_item_form(request, pk: int, item: int | None = None):
    route = _route(request, pk)
    if not rights.may_edit_route(request.user, route):
        raise PermissionDenied(_("У вас нет права изменять этот маршрут."))
    if route.status == RouteStatus.APPROVED:
        raise PermissionDenied(_("Утверждённый маршрут не меняется: верните его на доработку."))
    instance = get_object_or_404(route.items, pk=item) if item else None
    form = RouteItemForm(request.POST or None, instance=instance, user=request.user, route=route)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.route = route
        link = getattr(form, "link", None)
        if link is not None:
            saved.link_id = link.pk
        elif saved.kind in (ItemKind.COURSE, ItemKind.EVENT) and instance is not None and instance.kind != saved.kind:
            saved.link_id = None
        if instance is None:
            saved.position = (route.items.order_by("-position").values_list("position", flat=True).first() or 0) + 1
        saved.done_at = saved.done_at if saved.status == ItemStatus.DONE else None
        saved.save()
        route_logic.record_edit(route, request.user, _("Пункт №{n}: {title}").format(n=saved.position,
                                                                                 title=saved.title[:200]))
        return redirect(reverse("assistance:route", args=[route.pk]) + "#items")
    return form_page(request, form, title=_("Пункт маршрута"), back=reverse("assistance:route", args=[route.pk]),
                     back_label=route.title, subnav="routes")


@role_required
@require_POST
def route_item_status(request, pk: int, item: int):
    route = _route(request, pk)
    if not rights.may_report_item(request.user, route):
        raise PermissionDenied(_("У вас нет права отмечать выполнение этого маршрута."))
    found = get_object_or_404(route.items, pk=item)
    form = ItemStatusForm(request.POST)
    if form.is_valid():
        route_logic.set_item_status(found, form.cleaned_data["status"], request.user,
                                    result=form.cleaned_data["result"])
    return redirect(reverse("assistance:route", args=[route.pk]) + "#items")


@role_required
@require_POST
def route_item_mentorship(request, pk: int, item: int):
    route = _route(request, pk)
    if not rights.may_edit_route(request.user, route):
        raise PermissionDenied(_("У вас нет права изменять этот маршрут."))
    found = get_object_or_404(route.items, pk=item)
    try:
        mentorship = event_logic.mentorship_from_item(found, user=request.user)
    except AssistanceError as error:
        messages.error(request, str(error))
        return redirect("assistance:route", route.pk)
    messages.success(request, _("Наставничество оформлено."))
    return redirect("assistance:mentorship", mentorship.pk)


@role_required
@require_POST
def route_transition(request, pk: int, step: str):
    route = _route(request, pk)
    try:
        if step == "approve":
            route_logic.approve_route(route, request.user, comment=request.POST.get("comment", ""))
            messages.success(request, _("Маршрут утверждён."))
        elif step == "return":
            route_logic.return_route(route, request.user, comment=request.POST.get("comment", ""))
            messages.success(request, _("Маршрут возвращён на доработку."))
        else:
            raise Http404
    except AssistanceError as error:
        messages.error(request, str(error))
    return redirect("assistance:route", route.pk)


@role_required
def route_docx(request, pk: int):
    route = _route(request, pk)
    from metodist.documents.route_report import route_document

    stream = route_document(route)
    name = safe_file_name(f"iom-{route.teacher.school.code}-{route.teacher.code or route.teacher.pk}-"
                          f"{route.academic_year.start_year}") + ".docx"
    return FileResponse(stream, as_attachment=True, filename=name,
                        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")


# --- mentoring ------------------------------------------------------------------------------------------

def mentorship_table(items) -> Table:
    return Table(
        _("Наставничество"), _("Наставничество"),
        [_("Наставник"), _("Школа наставника"), _("Наставляемый"), _("Школа"), _("Учебный год"), _("Предмет"),
         _("Сроки"), _("Цели"), _("Состояние")],
        [[m.mentor.full_name, m.mentor.school.short_name, m.mentee.full_name, m.mentee.school.short_name,
          str(m.academic_year), m.subject.name if m.subject_id else "", _dates(m.starts, m.ends), m.goals,
          m.get_status_display()] for m in items], widths=[30, 26, 30, 26, 12, 16, 22, 50, 14])


def pairing_table(items) -> Table:
    return Table(
        _("Школы-шефы"), _("Школы-шефы"),
        [_("Школа-шеф"), _("Школа, которой помогают"), _("Учебный год"), _("План перехода"), _("Совместный план"),
         _("Состояние")],
        [[p.mentor_school.short_name, p.school.short_name, str(p.academic_year), p.roadmap.title if p.roadmap_id else "",
          p.plan, p.get_status_display()] for p in items], widths=[30, 30, 12, 50, 60, 14])


@role_required
def mentoring(request):
    mentorships = list(Mentorship.objects.visible_to(request.user).select_related(
        "mentor__school", "mentee__school", "academic_year", "subject"))
    pairings = list(MentorSchool.objects.visible_to(request.user).select_related(
        "mentor_school", "school", "academic_year", "roadmap"))
    tables = [mentorship_table(mentorships), pairing_table(pairings)]
    if wants_xlsx(request):
        return xlsx_response(tables, "nastavnichestvo")
    return page(request, "mentoring.html", {
        "mentorships": mentorships, "pairings": pairings,
        "may_create": rights.has_any(request.user, rights.ORGANISERS),
        "may_pair": rights.has_any(request.user, {"methodologist", "region_admin"}), "subnav": "mentoring"})


@role_required
def mentorship_page(request, pk: int):
    item = get_object_or_404(Mentorship.objects.visible_to(request.user).select_related(
        "mentor__school", "mentee__school", "academic_year", "subject"), pk=pk)
    routes = list(DevelopmentRoute.objects.visible_to(request.user).filter(
        items__kind=ItemKind.MENTORSHIP, items__link_id=item.pk).distinct())
    return page(request, "mentorship.html", {"item": item, "routes": routes,
                                             "may_edit": rights.may_edit_mentorship(request.user, item),
                                             "elements": item.content_elements.all(), "subnav": "mentoring"})


@role_required
def mentorship_form(request, pk: int | None = None):
    instance = get_object_or_404(Mentorship.objects.visible_to(request.user), pk=pk) if pk else None
    if instance is not None and not rights.may_edit_mentorship(request.user, instance):
        raise PermissionDenied(_("Наставничество оформляет школа наставляемого или методическая служба."))
    if instance is None and not rights.has_any(request.user, rights.ORGANISERS):
        raise PermissionDenied(_("Наставничество оформляет школа наставляемого или методическая служба."))
    form = MentorshipForm(request.POST or None, instance=instance, user=request.user)
    if request.method == "POST" and form.is_valid():
        item = form.save(commit=False)
        if not rights.may(request.user, rights.ORGANISERS, item.mentee.school):
            form.add_error("mentee", _("Наставничество для учителя другой школы оформляет его школа."))
        else:
            with transaction.atomic():
                if instance is None:
                    item.created_by = request.user
                item.save()
                form.save_m2m()
                course_logic.audit(request.user, "mentorship_saved", item, item.mentee.school)
            return redirect("assistance:mentorship", item.pk)
    return form_page(request, form, title=_("Наставничество"), back=reverse("assistance:mentoring"),
                     back_label=_("Наставничество"), subnav="mentoring")


@role_required
def pairing_page(request, pk: int):
    item = get_object_or_404(MentorSchool.objects.visible_to(request.user).select_related(
        "mentor_school", "school", "academic_year", "roadmap"), pk=pk)
    actions = []
    if item.roadmap_id:
        from metodist.planning.models import RoadmapAction

        actions = list(RoadmapAction.objects.visible_to(request.user).filter(roadmap=item.roadmap_id).select_related(
            "owner_teacher", "owner_organisation"))
    done = sum(1 for a in actions if a.status == "done")
    return page(request, "pairing.html", {
        "item": item, "actions": actions, "done": done, "elements": item.content_elements.all(),
        "may_edit": rights.may_edit_pairing(request.user, item), "subnav": "mentoring"})


@role_required
def pairing_form(request, pk: int | None = None):
    instance = get_object_or_404(MentorSchool.objects.visible_to(request.user), pk=pk) if pk else None
    if instance is not None and not rights.may_edit_pairing(request.user, instance):
        raise PermissionDenied(_("Школу-шефа закрепляет методическая служба."))
    if instance is None and not rights.has_any(request.user, {"methodologist", "region_admin"}):
        raise PermissionDenied(_("Школу-шефа закрепляет методическая служба."))
    # a proposal of stage 3 (practices:mentors) opens the form with the pair and the year filled in
    initial = {name: request.GET[name] for name in ("school", "mentor_school", "academic_year", "roadmap")
               if instance is None and request.GET.get(name, "").isdigit()}
    form = MentorSchoolForm(request.POST or None, instance=instance, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            item = form.save(commit=False)
            if instance is None:
                item.created_by = request.user
            item.save()
            form.save_m2m()
            course_logic.audit(request.user, "pairing_saved", item, item.school)
        return redirect("assistance:pairing", item.pk)
    return form_page(request, form, title=_("Школа-шеф"), back=reverse("assistance:mentoring"),
                     back_label=_("Наставничество"), subnav="mentoring")


# --- events ---------------------------------------------------------------------------------------------

def event_table(items, attendance) -> Table:
    empty = event_logic.Attendance(0, 0, 0, None)
    return Table(
        _("Методические мероприятия"), _("Мероприятия"),
        [_("Дата"), _("Форма"), _("Название"), _("Организатор"), _("Для педагогов"), _("Участники"), _("Предмет"),
         _("Присутствовали"), _("Оценок"), _("Удовлетворённость (1–5)")],
        [[_dates(e.date, e.ends), e.get_kind_display(), e.title, e.organiser.short_name,
          e.audience.short_name if e.audience_id else "", e.audience_text, e.subject.name if e.subject_id else "",
          attendance.get(e.pk, empty).attended, attendance.get(e.pk, empty).rated,
          attendance.get(e.pk, empty).satisfaction] for e in items],
        widths=[22, 22, 50, 28, 26, 30, 14, 12, 10, 14])


@role_required
def event_list(request):
    items = Event.objects.visible_to(request.user).select_related("organiser", "audience", "subject")
    filters = EventFilter(request.GET or None)
    if filters.is_valid():
        if filters.cleaned_data["kind"]:
            items = items.filter(kind=filters.cleaned_data["kind"])
        if filters.cleaned_data["subject"]:
            items = items.filter(subject=filters.cleaned_data["subject"])
    items = list(items)
    attendance = event_logic.attendance_of([e.pk for e in items], request.user)
    table = event_table(items, attendance)
    if wants_xlsx(request):
        return xlsx_response([table], "meropriyatiya")
    rows = [{"event": e, "attendance": attendance.get(e.pk)} for e in items]
    return page(request, "events.html", {"rows": rows, "filters": filters, "kinds": EventKind.choices,
                                         "may_create": rights.has_any(request.user, rights.ORGANISERS),
                                         "subnav": "events"})


def _event(request, pk: int) -> Event:
    return get_object_or_404(Event.objects.visible_to(request.user).select_related(
        "organiser", "audience", "subject", "presenter__school", "academic_year"), pk=pk)


@role_required
def event_page(request, pk: int):
    event = _event(request, pk)
    rows = list(event.attendance.filter(pk__in=event.attendance.model.objects.visible_to(request.user).values("pk"))
                .select_related("teacher__school"))
    summary = event_logic.attendance_of([event.pk], request.user).get(event.pk)
    actions = linked_actions(request.user, "event", event.pk)
    tables = [Table(_("Участники"), _("Участники"),
                    [_("Учитель"), _("Школа"), _("Присутствовал"), _("Удовлетворённость (1–5)"), _("Отзыв")],
                    [[r.teacher.full_name, r.teacher.school.short_name, _("да") if r.attended else _("нет"),
                      r.satisfaction, r.feedback] for r in rows], widths=[34, 30, 14, 16, 50]),
              action_table(actions)]
    if wants_xlsx(request):
        return xlsx_response(tables, f"meropriyatie-{event.pk}", title_lines=[event.title, event.organiser.short_name])
    may_edit = rights.may_edit_event(request.user, event)
    may_record = may_edit or rights.has_any(request.user, rights.ORGANISERS)
    return page(request, "event.html", {
        "event": event, "rows": rows, "summary": summary, "actions": actions, "may_edit": may_edit,
        "attendance_form": AttendanceForm(user=request.user) if may_record else None,
        "problem_fields": event.problem_fields.select_related("organisation", "content_element", "assessment"),
        "elements": event.content_elements.all(), "subnav": "events"})


@role_required
def event_form(request, pk: int | None = None):
    event = _event(request, pk) if pk else None
    if event is not None and not rights.may_edit_event(request.user, event):
        raise PermissionDenied(_("Мероприятие изменяет его организатор."))
    if event is None and not rights.has_any(request.user, rights.ORGANISERS):
        raise PermissionDenied(_("Мероприятия заносят методисты, администрация школ и руководители методобъединений."))
    form = EventForm(request.POST or None, instance=event, user=request.user,
                     initial={"kind": request.GET.get("kind")})
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                item = form.save(commit=False)
                if event is None:
                    item.created_by = request.user
                if event is not None and "date" in form.changed_data:
                    item.academic_year = None
                    item.academic_year_id = None
                item.save()
                form.save_m2m()
                _still_visible(Event, request.user, item.pk)
                course_logic.audit(request.user, "event_saved", item, item.organiser, title=item.title)
        except AssistanceError as error:
            form.add_error(None, str(error))
        else:
            return redirect("assistance:event", item.pk)
    return form_page(request, form, title=event.title if event else _("Новое мероприятие"),
                     back=reverse("assistance:events"), back_label=_("Мероприятия"), subnav="events")


@role_required
@require_POST
def event_attendance(request, pk: int):
    event = _event(request, pk)
    if not (rights.may_edit_event(request.user, event) or rights.has_any(request.user, rights.ORGANISERS)):
        raise PermissionDenied(_("Участников отмечает организатор или администрация школы."))
    form = AttendanceForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            counts = event_logic.record_attendance(event, data["teachers"], attended=data["attended"],
                                                   satisfaction=data["satisfaction"], feedback=data["feedback"],
                                                   user=request.user)
        except AssistanceError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Отмечено: новых {created}, изменено {updated}.").format(**counts))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(reverse("assistance:event", args=[event.pk]) + "#attendance")
