"""Stage 6 pages: the indicator tracks of the approved roadmaps, their execution with the roadmaps at risk
and a reminder list per owner, the effect of help on the elements it targeted, lesson observations with
their rubric and satisfaction, the cycle page that starts the next cycle, and the monitoring report DOCX.
Everything is read through `visible_to`; an object of another school is a 404."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from metodist.core.access import role_required
from metodist.core.context import academic_year, acting_organisation
from metodist.core.models import Organisation, Role
from metodist.documents.common import Table
from metodist.documents.downloads import safe_file_name, wants_xlsx, xlsx_response
from metodist.monitoring import cycles, help_effects, satisfaction, tracks
from metodist.monitoring.forms import ObservationForm
from metodist.monitoring.models import RUBRIC, Cycle, LessonObservation
from metodist.planning.roadmaps import indicator_rows

CYCLE_STARTERS = {Role.METHODOLOGIST, Role.REGION_ADMIN, Role.SCHOOL_ADMIN}


def _year(request) -> int:
    return academic_year(request)


def track_table(items) -> Table:
    years = sorted({y for t in items for y in t.values})
    return Table(
        _("Показатели дорожных карт"), _("Показатели"),
        [_("Дорожная карта"), _("Организация"), _("№"), _("Цель"), _("Базовое, %"), _("Целевое, %"),
         *[_("{year}, %").format(year=f"{y}/{y + 1}") for y in years], _("Изменение, п."), _("Итог")],
        [[t.indicator.roadmap.title, t.indicator.roadmap.organisation.short_name, t.indicator.position, t.indicator.goal,
          t.baseline.value if t.baseline else None, t.indicator.target,
          *[(t.values[y].value if y in t.values else None) for y in years],
          round(t.change, 1) if t.change is not None else None, t.state_text] for t in items],
        pct={4, 5, *range(6, 6 + len(years))}, widths=[40, 28, 5, 60, 12, 12, *([12] * len(years)), 12, 22],
    )


@role_required
def index(request):
    year = _year(request)
    roadmaps = tracks.approved_roadmaps(request.user)
    current = [r for r in roadmaps if r.academic_year.start_year in (year, year + 1)] or roadmaps
    executions = [tracks.execution_of(r) for r in current]
    states: dict[str, int] = {}
    for execution in executions:
        for state, n in execution.state_counts().items():
            states[state] = states.get(state, 0) + n
    effects = help_effects.all_effects(request.user)
    return render(request, "monitoring/index.html", {
        "executions": executions, "at_risk": [e for e in executions if e.at_risk],
        "states": [(tracks.STATE_TEXT[s], tracks.STATE_CSS[s], states.get(s, 0)) for s in tracks.STATE_TEXT],
        "effects": effects, "helped": [e for e in effects if e.effect.verdict == "helped"],
        "reminders": tracks.reminders(current)[:5], "subnav": "index",
    })


@role_required
def track_page(request):
    roadmaps = tracks.approved_roadmaps(request.user)
    found = [tracks.track_of(i) for r in roadmaps for i in r.indicators.all()]
    if wants_xlsx(request):
        return xlsx_response([track_table(found)], "indicator-tracks")
    from metodist.documents.charts import indicator_tracks_spec

    sections = []
    for roadmap in roadmaps:
        years, rows = indicator_rows(roadmap)
        by_id = {t.indicator.pk: t for t in found if t.indicator.roadmap_id == roadmap.pk}
        sections.append({"roadmap": roadmap, "years": years,
                         "rows": [dict(row, track=by_id.get(row["indicator"].pk)) for row in rows],
                         "chart": indicator_tracks_spec(rows, years) if years else None})
    return render(request, "monitoring/tracks.html", {"sections": sections, "subnav": "tracks"})


def execution_table(executions) -> Table:
    return Table(
        _("Исполнение дорожных карт"), _("Исполнение"),
        [_("Дорожная карта"), _("Организация"), _("Учебный год"), _("Мероприятий"), _("Выполнено"),
         _("Выполняется"), _("Срок наступил"), _("Просрочено"), _("Риски")],
        [[e.roadmap.title, e.roadmap.organisation.short_name, str(e.roadmap.academic_year), e.total, e.done,
          e.in_progress, e.due, len(e.overdue), "; ".join(e.risks)] for e in executions],
        widths=[50, 28, 12, 12, 12, 12, 12, 12, 50],
    )


def reminder_table(items) -> Table:
    return Table(
        _("Напоминания ответственным"), _("Напоминания"),
        [_("Ответственный"), _("Мероприятие"), _("Дорожная карта"), _("Срок"), _("Просрочено")],
        [[r.owner, a.title, roadmap.title, a.due, _("да") if late else ""] for r in items
         for roadmap, a, late in r.actions],
        widths=[30, 70, 40, 12, 12],
    )


@role_required
def execution_page(request):
    roadmaps = tracks.approved_roadmaps(request.user)
    executions = [tracks.execution_of(r) for r in roadmaps]
    reminders = tracks.reminders(roadmaps)
    tables = [execution_table(executions), reminder_table(reminders)]
    if wants_xlsx(request):
        return xlsx_response(tables, "roadmap-execution")
    return render(request, "monitoring/execution.html", {
        "executions": executions, "reminders": reminders, "today": datetime.date.today(),
        "remind_days": tracks.REMIND_DAYS, "subnav": "execution"})


def effect_table(items) -> Table:
    return Table(
        _("Эффект методической помощи"), _("Эффект помощи"),
        [_("Помощь"), _("Вид"), _("Учебный год"), _("Целевые элементы"), _("Участников с данными"),
         _("Сравнимых учителей"), _("Изменение у участников, п."), _("У сравнимых, п."), _("Разница, п."),
         _("95 % интервал"), _("Вывод")],
        [[h.title, h.kind_label, f"{h.year}/{h.year + 1}", ", ".join(h.effect.elements),
          len(h.effect.participants), len(h.effect.comparison),
          _round(h.effect.change_participants), _round(h.effect.change_comparison), _round(h.effect.did),
          f"{_round(h.effect.low)} … {_round(h.effect.high)}" if h.effect.low is not None else "",
          h.effect.verdict_text] for h in items],
        widths=[50, 16, 12, 24, 12, 12, 14, 14, 12, 16, 22],
    )


def _round(value):
    return None if value is None else round(value, 1)


@role_required
def effect_page(request):
    items = help_effects.all_effects(request.user)
    if wants_xlsx(request):
        return xlsx_response([effect_table(items)], "help-effects")
    from metodist.documents.charts import help_effects_spec

    measured = [h for h in items if h.effect.did is not None]
    return render(request, "monitoring/effects.html", {
        "items": items, "chart": help_effects_spec(measured) if measured else None, "subnav": "effects"})


def observation_table(items) -> Table:
    return Table(
        _("Посещения уроков"), _("Посещения уроков"),
        [_("Дата"), _("Учитель"), _("Школа"), _("Тема урока"), _("Кто посетил"),
         *[str(label) for _code, label in RUBRIC], _("Итого, %")],
        [[o.date, o.teacher.full_name, o.teacher.school.short_name, o.topic, o.observer,
          *[o.scores.get(code) for code, _label in RUBRIC], round(o.share, 1)] for o in items],
        widths=[12, 30, 28, 40, 28, *([14] * len(RUBRIC)), 10],
    )


@role_required
def observation_list(request):
    items = list(LessonObservation.objects.visible_to(request.user).select_related("teacher__school", "subject")[:500])
    if wants_xlsx(request):
        return xlsx_response([observation_table(items)], "lesson-observations")
    by_criterion = [(label, _mean([o.scores.get(code) for o in items if o.scores.get(code) is not None]))
                    for code, label in RUBRIC]
    return render(request, "monitoring/observations.html", {
        "items": items, "by_criterion": by_criterion, "rubric": RUBRIC,
        "satisfaction": satisfaction.summary(request.user), "subnav": "observations",
        "may_add": _may_observe(request.user)})


def _mean(values):
    values = [float(v) for v in values]
    return round(sum(values) / len(values), 2) if values else None


def _may_observe(user) -> bool:
    return user.is_superuser or bool({r.role for r in user.role_assignments.all()} & {
        Role.METHODOLOGIST, Role.SCHOOL_ADMIN, Role.REGION_ADMIN, Role.ASSOCIATION_HEAD})


@role_required
def observation_form(request, pk: int | None = None):
    if not _may_observe(request.user):
        raise PermissionDenied(_("Посещения уроков вносят администрация школы, методисты и руководители "
                                 "методобъединений."))
    item = get_object_or_404(LessonObservation.objects.visible_to(request.user), pk=pk) if pk else None
    form = ObservationForm(request.POST or None, instance=item, user=request.user)
    if request.method == "POST" and form.is_valid():
        observation = form.save(commit=False)
        if observation.created_by_id is None:
            observation.created_by = request.user
        observation.save()
        messages.success(request, _("Посещение урока сохранено."))
        return redirect("monitoring:observations")
    return render(request, "monitoring/observation_form.html", {"form": form, "item": item,
                                                                 "subnav": "observations"})


def _cycle_scope(request) -> Organisation | None:
    organisation = acting_organisation(request)
    code = request.GET.get("org") or request.POST.get("org")
    if code:
        organisation = get_object_or_404(Organisation.objects.visible_to(request.user), code=code)
    return organisation


@role_required
def cycle_page(request):
    organisation = _cycle_scope(request)
    year = _year(request)
    roadmaps = [r for r in tracks.approved_roadmaps(request.user, year=year)
                if organisation is None or r.organisation.path.startswith(organisation.path)]
    unresolved = sum(1 for r in roadmaps for i in r.indicators.all()
                     if tracks.track_of(i).state != tracks.TrackState.REACHED)
    open_actions = sum(1 for r in roadmaps for a in r.actions.all() if a.status in tracks.OPEN)
    started = (Cycle.objects.visible_to(request.user).filter(academic_year__start_year=year + 1)
               .select_related("organisation", "started_by"))
    if organisation is not None:
        started = started.filter(organisation=organisation)
    return render(request, "monitoring/cycle.html", {
        "organisation": organisation, "year": year, "roadmaps": roadmaps, "unresolved": unresolved,
        "open_actions": open_actions, "started": list(started), "may_start": _may_start(request.user, organisation),
        "subnav": "cycle"})


def _may_start(user, organisation) -> bool:
    if user.is_superuser:
        return True
    if organisation is None:
        return False
    return any(r.role in CYCLE_STARTERS and organisation.path.startswith(r.organisation.path)
               for r in user.role_assignments.select_related("organisation"))


@role_required
@require_POST
def cycle_start(request):
    organisation = _cycle_scope(request)
    if organisation is None:
        organisation = Organisation.objects.filter(parent__isnull=True).order_by("path").first()
    if organisation is None or not _may_start(request.user, organisation):
        raise PermissionDenied(_("Начать следующий цикл может методист или администрация школы."))
    year = _year(request)
    cycle = cycles.start_next_cycle(organisation, year, request.user)
    summary = cycle.summary
    messages.success(request, _("Начат цикл {year} учебного года: перенесено показателей {i}, мероприятий {a}; "
                                "новых дорожных карт {r}.").format(
        year=cycle.academic_year, i=summary.get("indicators", 0), a=summary.get("actions", 0),
        r=summary.get("roadmaps_new", 0)))
    return redirect("monitoring:cycle")


@role_required
def report_docx(request):
    organisation = _cycle_scope(request)
    if organisation is None:
        organisation = Organisation.objects.filter(parent__isnull=True).order_by("path").first()
    year = _year(request)
    from metodist.documents.monitoring_report import monitoring_document

    stream = monitoring_document(organisation, year, request.user)
    name = safe_file_name(f"{organisation.code}-monitoring-{year}") + ".docx"
    return FileResponse(stream, as_attachment=True, filename=name,
                        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")



urlpatterns = [
    path("", index, name="index"),
    path("tracks/", track_page, name="tracks"),
    path("execution/", execution_page, name="execution"),
    path("effects/", effect_page, name="effects"),
    path("observations/", observation_list, name="observations"),
    path("observations/new/", observation_form, name="observation_add"),
    path("observations/<int:pk>/", observation_form, name="observation_edit"),
    path("cycle/", cycle_page, name="cycle"),
    path("cycle/start/", cycle_start, name="cycle_start"),
    path("report.docx", report_docx, name="report_docx"),
]
