"""Stage 4 pages: the roadmaps of the organisations a user sees (a new one from an analysis run), one
roadmap with its indicators (baseline, target, values measured every year), actions and approval, its
DOCX; the recommendations per addressee with their status. Everything is read through `visible_to`."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from metodist.core.access import role_required
from metodist.core.models import Role
from metodist.documents.common import Table
from metodist.documents.downloads import safe_file_name, wants_xlsx, xlsx_response
from metodist.planning import recommendations as recs
from metodist.planning import roadmaps
from metodist.planning.forms import (
    ActionForm,
    ActionStatusForm,
    CommentForm,
    DiscussForm,
    IndicatorForm,
    NewRoadmapForm,
    RecommendationFilter,
    RecommendationForm,
    TargetForm,
)
from metodist.planning.models import (
    ActionStatus,
    Indicator,
    Recommendation,
    Roadmap,
    RoadmapStatus,
)
from metodist.planning.roadmaps import indicator_rows

PLANNERS = {Role.METHODOLOGIST, Role.SCHOOL_ADMIN, Role.REGION_ADMIN, Role.ASSOCIATION_HEAD}


def _may_plan(user) -> bool:
    return user.is_superuser or bool({r.role for r in user.role_assignments.all()} & PLANNERS)


def roadmap_table(items) -> Table:
    return Table(
        _("Дорожные карты"), _("Дорожные карты"),
        [_("Дорожная карта"), _("Вид"), _("Организация"), _("Учебный год"), _("Состояние"), _("Показателей"),
         _("Мероприятий выполнено"), _("Просрочено")],
        [[r.title, r.get_kind_display(), r.organisation.short_name, str(r.academic_year), r.get_status_display(),
          r.n_indicators, f"{r.n_done} / {r.n_actions}", r.n_overdue] for r in items],
        widths=[60, 30, 30, 12, 22, 12, 14, 12],
    )


@role_required
def index(request):
    import datetime

    today = datetime.date.today()
    items = list(Roadmap.objects.visible_to(request.user).select_related("organisation", "academic_year").annotate(
        n_indicators=Count("indicators", distinct=True), n_actions=Count("actions", distinct=True),
        n_done=Count("actions", filter=Q(actions__status=ActionStatus.DONE), distinct=True),
        n_overdue=Count("actions", filter=Q(actions__due__lt=today, actions__status__in=[
            ActionStatus.PLANNED, ActionStatus.IN_PROGRESS]), distinct=True)))
    table = roadmap_table(items)
    if wants_xlsx(request):
        return xlsx_response([table], "dorozhnye-karty")
    pending = Recommendation.objects.visible_to(request.user).filter(status="proposed").count()
    return render(request, "planning/index.html", {
        "roadmaps": items, "table": table, "pending": pending, "may_plan": _may_plan(request.user),
        "subnav": "roadmaps",
    })


@role_required
def new_roadmap(request):
    if not _may_plan(request.user):
        raise PermissionDenied(_("Дорожные карты составляют методисты, администрация школы и руководители "
                                 "методобъединений."))
    form = NewRoadmapForm(request.POST or None, user=request.user, initial={
        "organisation": request.GET.get("org"), "subject": request.GET.get("subject"), "kind": request.GET.get("kind"),
        "mentor_school": request.GET.get("mentor"), **({"run": request.GET["run"]} if request.GET.get("run") else {})})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            roadmap = roadmaps.draft_roadmap(data["run"], data["organisation"], kind=data["kind"],
                                             subject=data["subject"], mentor_school=data["mentor_school"],
                                             user=request.user)
        except roadmaps.PlanningError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Проект дорожной карты составлен по итогам анализа: проверьте цели, "
                                        "целевые значения и мероприятия."))
            return redirect("planning:roadmap", roadmap.pk)
    return render(request, "planning/new.html", {"form": form, "subnav": "new"})


def _roadmap(request, pk: int) -> Roadmap:
    return get_object_or_404(Roadmap.objects.visible_to(request.user).select_related(
        "organisation", "academic_year", "subject", "run__academic_year", "mentor_school", "approved_by",
        "discussed_by"), pk=pk)


def indicator_table(roadmap: Roadmap, years, rows) -> Table:
    return Table(
        _("Показатели"), _("Показатели"),
        [_("№"), _("Цель"), _("Показатель"), _("Базовое, %"), _("Для сравнения, %"), _("Целевое, %"),
         *[_("{year}, %").format(year=f"{y}/{y + 1}") for y in years]],
        [[r["indicator"].position, r["indicator"].goal, r["indicator"].get_statistic_display(),
          r["indicator"].baseline, r["indicator"].reference, r["indicator"].target,
          *[(v.value if v else None) for v in r["values"]]] for r in rows],
        pct={3, 4, 5, *range(6, 6 + len(years))}, widths=[5, 60, 24, 12, 12, 12, *([12] * len(years))],
    )


def action_table(actions) -> Table:
    return Table(
        _("Мероприятия"), _("Мероприятия"),
        [_("№"), _("Мероприятие"), _("Сроки"), _("Ответственный"), _("Ожидаемый результат"), _("Показатель"),
         _("Состояние")],
        [[a.position, a.title, f"{a.start:%d.%m.%Y} – {a.due:%d.%m.%Y}" if a.start else f"{a.due:%d.%m.%Y}", a.owner,
          a.expected_result, a.indicator.position if a.indicator_id else "", a.get_status_display()] for a in actions],
        widths=[5, 60, 22, 24, 36, 10, 16],
    )


@role_required
def roadmap_page(request, pk: int):
    roadmap = _roadmap(request, pk)
    years, rows = indicator_rows(roadmap)
    actions = list(roadmap.actions.select_related("owner_teacher", "owner_organisation", "indicator",
                                                  "recommendation"))
    tables = [indicator_table(roadmap, years, rows), action_table(actions)]
    if wants_xlsx(request):
        return xlsx_response(tables, f"roadmap-{roadmap.pk}", title_lines=[roadmap.title, str(roadmap.organisation)])
    editable = roadmaps.may_edit(request.user, roadmap)
    chart = None
    if years:
        from metodist.documents.charts import indicator_tracks_spec

        chart = indicator_tracks_spec(rows, years)
    return render(request, "planning/roadmap.html", {
        "roadmap": roadmap, "years": years, "rows": rows, "actions": actions, "tables": tables,
        "overdue": {a.pk for a in roadmaps.overdue(actions)}, "history": roadmap.history.select_related("user"),
        "may_edit": editable, "may_change_plan": editable and roadmap.status != RoadmapStatus.APPROVED,
        "may_approve": roadmaps.may_approve(request.user, roadmap), "chart": chart,
        "discuss_form": DiscussForm(roadmap=roadmap, user=request.user), "comment_form": CommentForm(),
        "status_choices": ActionStatus.choices, "subnav": "roadmaps",
    })


def _editable(request, pk: int) -> Roadmap:
    roadmap = _roadmap(request, pk)
    if not roadmaps.may_edit(request.user, roadmap):
        raise PermissionDenied(_("У вас нет права вести эту дорожную карту."))
    return roadmap


@role_required
def action_form(request, pk: int, action: int | None = None):
    roadmap = _editable(request, pk)
    instance = get_object_or_404(roadmap.actions, pk=action) if action else None
    if roadmap.status == RoadmapStatus.APPROVED and instance is None:
        raise PermissionDenied(_("В утверждённую дорожную карту мероприятия не добавляются: верните её на доработку."))
    form = ActionForm(request.POST or None, request.FILES or None, instance=instance, roadmap=roadmap,
                      user=request.user)
    if request.method == "POST" and form.is_valid():
        item = form.save(commit=False)
        item.roadmap = roadmap
        if instance is None:
            item.position = (roadmap.actions.order_by("-position").values_list("position", flat=True).first() or 0) + 1
        item.save()
        roadmaps.record_edit(roadmap, request.user, _("Мероприятие №{n}: {title}").format(n=item.position,
                                                                                       title=item.title[:200]))
        return redirect(reverse("planning:roadmap", args=[roadmap.pk]) + "#actions")
    return render(request, "planning/action_form.html", {"form": form, "roadmap": roadmap, "action": instance,
                                                         "subnav": "roadmaps"})


@role_required
@require_POST
def action_status(request, pk: int, action: int):
    roadmap = _editable(request, pk)
    item = get_object_or_404(roadmap.actions, pk=action)
    form = ActionStatusForm(request.POST)
    if form.is_valid():
        status = form.cleaned_data["status"]
        link = form.cleaned_data["evidence_link"]
        if status == ActionStatus.DONE and not (link or item.evidence_link or item.evidence_file):
            messages.error(request, _("Для выполненного мероприятия приложите подтверждение: ссылку или файл."))
        else:
            import datetime

            item.status = status
            if link:
                item.evidence_link = link
            item.done_at = datetime.date.today() if status == ActionStatus.DONE else None
            item.save()
            roadmaps.record_edit(roadmap, request.user, _("Мероприятие №{n}: {status}").format(
                n=item.position, status=item.get_status_display()))
    return redirect(reverse("planning:roadmap", args=[roadmap.pk]) + "#actions")


@role_required
def indicator_add(request, pk: int):
    roadmap = _editable(request, pk)
    if roadmap.status == RoadmapStatus.APPROVED:
        raise PermissionDenied(_("В утверждённую дорожную карту показатели не добавляются: верните её на доработку."))
    form = IndicatorForm(request.POST or None, roadmap=roadmap)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        assessment = data["assessment"]
        indicator = roadmaps.add_indicator(
            roadmap, goal=data["goal"] or "", assessment=assessment, scope=data["scope"], statistic=data["statistic"],
            content_element=data["element"], baseline_year=assessment.year - 1, target=data["target"])
        if not indicator.goal:
            indicator.goal = roadmaps.default_goal(indicator)[:1000]
            indicator.save(update_fields=["goal"])
        roadmaps.record_edit(roadmap, request.user, _("Показатель №{n}: {goal}").format(
            n=indicator.position, goal=indicator.goal[:200]))
        return redirect(reverse("planning:roadmap", args=[roadmap.pk]) + "#indicators")
    return render(request, "planning/indicator_form.html", {"form": form, "roadmap": roadmap, "subnav": "roadmaps"})


@role_required
@require_POST
def indicator_target(request, pk: int, indicator: int):
    roadmap = _editable(request, pk)
    item = get_object_or_404(Indicator.objects.filter(roadmap=roadmap), pk=indicator)
    if roadmap.status == RoadmapStatus.APPROVED:
        messages.error(request, _("Целевые значения утверждённой дорожной карты не меняются."))
    else:
        form = TargetForm(request.POST)
        if form.is_valid():
            item.target = round(form.cleaned_data["target"], 1)
            item.save(update_fields=["target"])
            roadmaps.record_edit(roadmap, request.user, _("Показатель №{n}: целевое значение {value} %").format(
                n=item.position, value=item.target))
        else:
            messages.error(request, _("Целевое значение — число от 0 до 100."))
    return redirect(reverse("planning:roadmap", args=[roadmap.pk]) + "#indicators")


@role_required
@require_POST
def transition(request, pk: int, step: str):
    roadmap = _roadmap(request, pk)
    try:
        if step == "discuss":
            form = DiscussForm(request.POST, roadmap=roadmap, user=request.user)
            if not form.is_valid():
                raise roadmaps.PlanningError(_("Укажите протокол обсуждения."))
            roadmaps.discuss(roadmap, request.user, protocol=form.cleaned_data["protocol"],
                             association=form.cleaned_data["association"])
            messages.success(request, _("Дорожная карта отмечена как обсуждённая методобъединением."))
        elif step == "approve":
            roadmaps.approve(roadmap, request.user, comment=request.POST.get("comment", ""))
            messages.success(request, _("Дорожная карта утверждена: её показатели будут измеряться по новым "
                                        "результатам."))
        elif step == "return":
            roadmaps.return_to_draft(roadmap, request.user, comment=request.POST.get("comment", ""))
            messages.success(request, _("Дорожная карта возвращена на доработку."))
        else:
            raise roadmaps.PlanningError(_("Неизвестное действие."))
    except roadmaps.PlanningError as error:
        messages.error(request, str(error))
    return redirect("planning:roadmap", roadmap.pk)


@role_required
def roadmap_docx(request, pk: int):
    roadmap = _roadmap(request, pk)
    from metodist.documents.roadmap_report import roadmap_document

    stream = roadmap_document(roadmap)
    name = safe_file_name(f"{roadmap.organisation.code}-dorozhnaya-karta-{roadmap.pk}") + ".docx"
    return FileResponse(stream, as_attachment=True, filename=name,
                        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")


# --- recommendations ----------------------------------------------------------------------------------

def recommendation_table(items) -> Table:
    return Table(
        _("Рекомендации"), _("Рекомендации"),
        [_("Кому"), _("Организация"), _("Учитель"), _("Рекомендация"), _("Основание"), _("Состояние"),
         _("Мероприятий")],
        [[r.get_addressee_display(), r.organisation.short_name, r.teacher.full_name if r.teacher_id else "", r.text,
          r.basis, r.get_status_display(), r.n_actions] for r in items],
        widths=[18, 26, 24, 70, 50, 14, 10],
    )


@role_required
def recommendation_list(request):
    items = Recommendation.objects.visible_to(request.user).select_related("organisation", "teacher").annotate(
        n_actions=Count("actions"))
    filters = RecommendationFilter(request.GET or None)
    if filters.is_valid():
        if filters.cleaned_data["addressee"]:
            items = items.filter(addressee=filters.cleaned_data["addressee"])
        if filters.cleaned_data["status"]:
            items = items.filter(status=filters.cleaned_data["status"])
    run = None
    from metodist.core.context import academic_year, acting_organisation
    from metodist.documents.common import latest_run

    organisation = acting_organisation(request)
    if organisation is not None:
        run = latest_run(organisation, academic_year(request))
    items = list(items.order_by("run__academic_year__start_year", "organisation__path", "addressee", "pk"))
    table = recommendation_table(items)
    if wants_xlsx(request):
        return xlsx_response([table], "rekomendatsii")
    may_generate = run is not None and bool(
        request.user.is_superuser or {r.role for r in request.user.role_assignments.all()}
        & {Role.METHODOLOGIST, Role.REGION_ADMIN, Role.SCHOOL_ADMIN})
    return render(request, "planning/recommendations.html", {
        "items": items[:500], "total": len(items), "filters": filters, "table": table, "run": run,
        "may_generate": may_generate, "statuses": Recommendation._meta.get_field("status").choices,
        "subnav": "recommendations",
    })


@role_required
@require_POST
def recommendation_generate(request):
    from metodist.core.context import academic_year, acting_organisation
    from metodist.documents.common import latest_run

    organisation = acting_organisation(request)
    run = latest_run(organisation, academic_year(request)) if organisation is not None else None
    if run is None:
        messages.error(request, _("Нет завершённого анализа этого учебного года."))
    else:
        counts = recs.generate(run, organisation)
        messages.success(request, _("Новых рекомендаций: {n}.").format(n=counts["created"]))
    return redirect("planning:recommendations")


@role_required
def recommendation_edit(request, pk: int):
    item = get_object_or_404(Recommendation.objects.visible_to(request.user), pk=pk)
    form = RecommendationForm(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        changed = form.save(commit=False)
        changed.edited = changed.edited or "text" in form.changed_data
        changed.save()
        from metodist.core.models import AuditEntry

        AuditEntry.objects.create(user=request.user, action="recommendation:edited", object_type="recommendation",
                                  object_id=str(item.pk), organisation=item.organisation,
                                  details={"status": item.status, "changed": form.changed_data})
        return redirect(reverse("planning:recommendations") + f"#rec-{item.pk}")
    return render(request, "planning/recommendation_form.html", {"form": form, "item": item,
                                                                 "subnav": "recommendations"})


urlpatterns = [
    path("", index, name="index"),
    path("new/", new_roadmap, name="new"),
    path("<int:pk>/", roadmap_page, name="roadmap"),
    path("<int:pk>/roadmap.docx", roadmap_docx, name="roadmap_docx"),
    path("<int:pk>/actions/new/", action_form, name="action_add"),
    path("<int:pk>/actions/<int:action>/", action_form, name="action_edit"),
    path("<int:pk>/actions/<int:action>/status/", action_status, name="action_status"),
    path("<int:pk>/indicators/new/", indicator_add, name="indicator_add"),
    path("<int:pk>/indicators/<int:indicator>/target/", indicator_target, name="indicator_target"),
    path("<int:pk>/<slug:step>/", transition, name="transition"),
    path("recommendations/", recommendation_list, name="recommendations"),
    path("recommendations/generate/", recommendation_generate, name="recommendations_generate"),
    path("recommendations/<int:pk>/", recommendation_edit, name="recommendation"),
]
