"""Stage 1 pages of teacher data: teachers' subject diagnostics, surveys, attestation notes, professional
deficits and associations' findings, and the forms for what is entered by hand. Everything is read through
`visible_to`: a teacher sees his own, a school its teachers, a municipality its schools."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Avg, Count, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from metodist.analysis.deficits import WEAK_SHARE
from metodist.collection.models import (
    Attestation,
    CompetenceArea,
    DeficitScope,
    DiagnosticScore,
    Survey,
    SurveyResponse,
    TeacherDiagnostic,
)
from metodist.collection.teacher_forms import (
    AttestationForm,
    FindingForm,
    PersonalDeficitForm,
    deficits_for,
    may_enter,
    record,
)
from metodist.core.access import role_required
from metodist.core.context import academic_year
from metodist.core.cycle import year_label
from metodist.documents.common import Table
from metodist.documents.downloads import wants_xlsx, xlsx_response

AREAS = dict(CompetenceArea.choices)
#: most frequent answers shown per survey question
TOP_ANSWERS = 10


def year_bounds(request) -> tuple[int, dt.date, dt.date]:
    year = academic_year(request)
    return year, dt.date(year, 9, 1), dt.date(year + 1, 9, 1)


def share(score: float | None, maximum: float | None) -> float | None:
    if score is None or not maximum:
        return None
    return 100 * score / maximum


def latest_other_year(queryset, date_field: str) -> dict | None:
    """When a list is empty for the chosen year: the latest academic year that has entries, to offer it."""
    latest = queryset.order_by(f"-{date_field}").values_list(date_field, flat=True).first()
    if latest is None:
        return None
    start = latest.year if latest.month >= 9 else latest.year - 1
    return {"year": start, "label": year_label(start)}


def page(request, template: str, tables: list[Table], file_name: str, context: dict):
    """Render the page, or its tables as XLSX when asked."""
    if wants_xlsx(request):
        return xlsx_response(tables, file_name)
    year = academic_year(request)
    return render(request, f"collection/{template}", {
        "current_stage": 1, "year_label": year_label(year), "subnav": "teacher",
        "may": {kind: may_enter(request.user, kind) for kind in ("attestation", "deficit", "finding")},
        **context,
    })


# --- the entry page ---------------------------------------------------------------------------------

@role_required
def teacher_data(request):
    """What is known about the teachers in the academic year: how many diagnostics, surveys, attestations
    and deficits the user may see, with links to the lists and the forms."""
    user = request.user
    year, start, end = year_bounds(request)
    deficits = deficits_for(user).filter(academic_year__start_year=year).values("scope").annotate(n=Count("pk"))
    by_scope = {row["scope"]: row["n"] for row in deficits}
    counts = {
        "diagnostics": TeacherDiagnostic.objects.visible_to(user).filter(taken_on__gte=start, taken_on__lt=end).count(),
        "surveys": Survey.objects.visible_to(user).filter(conducted_on__gte=start, conducted_on__lt=end).count(),
        "attestations": Attestation.objects.visible_to(user).filter(held_on__gte=start, held_on__lt=end).count(),
        "personal": by_scope.get(DeficitScope.PERSONAL, 0),
        "corporate": by_scope.get(DeficitScope.CORPORATE, 0),
    }
    table = Table(_("Данные об учителях за {year} учебный год").format(year=year_label(year)), _("Данные"),
                  [_("Что"), _("Сколько")],
                  [[_("Предметные диагностики"), counts["diagnostics"]], [_("Анкетирования"), counts["surveys"]],
                   [_("Аттестации"), counts["attestations"]], [_("Персональные дефициты"), counts["personal"]],
                   [_("Выводы методических объединений"), counts["corporate"]]], widths=[40, 12])
    return page(request, "teacher_data.html", [table], _("Данные об учителях"), {"counts": counts, "table": table})


# --- diagnostics ------------------------------------------------------------------------------------

def topic_name(score: DiagnosticScore) -> str:
    if score.topic:
        return score.topic
    if score.content_element is not None:
        return f"{score.content_element.code} {score.content_element.name}"
    return AREAS.get(score.competence_area, score.competence_area)


@role_required
def diagnostics(request):
    """The subject diagnostics of the year, one row each, with the topics below the threshold named."""
    year, start, end = year_bounds(request)
    found = list(
        TeacherDiagnostic.objects.visible_to(request.user).filter(taken_on__gte=start, taken_on__lt=end)
        .select_related("teacher__school", "subject")
        .prefetch_related(Prefetch("scores", DiagnosticScore.objects.select_related("content_element")))
        .order_by("teacher__full_name", "-taken_on", "title")
    )
    other = None if found else latest_other_year(TeacherDiagnostic.objects.visible_to(request.user), "taken_on")
    rows, links, marked = [], [], set()
    for r, diagnostic in enumerate(found):
        scores = list(diagnostic.scores.all())
        weak = [s for s in scores if s.max_score and s.score / s.max_score < WEAK_SHARE]
        total = diagnostic.score if diagnostic.score is not None else (sum(s.score for s in scores) if scores else None)
        maximum = diagnostic.max_score if diagnostic.max_score is not None else (
            sum(s.max_score for s in scores) if scores else None)
        rate = share(total, maximum)
        if rate is not None and rate < 100 * WEAK_SHARE:
            marked.add((r, 7))
        if weak:
            marked.add((r, 8))
        rows.append([diagnostic.teacher.full_name, diagnostic.teacher.school.short_name, diagnostic.subject.name,
                     diagnostic.title, diagnostic.taken_on.strftime("%d.%m.%Y"), total, maximum, rate,
                     "; ".join(topic_name(s) for s in weak) or None])
        links.append(reverse("collection:teacher_diagnostic", args=[diagnostic.pk]))
    table = Table(
        _("Предметные диагностики учителей"), _("Диагностики"),
        [_("Учитель"), _("Школа"), _("Предмет"), _("Диагностика"), _("Дата"), _("Балл"), _("Максимум"),
         _("Выполнение, %"), _("Темы ниже порога")],
        rows, pct={7}, marked=marked, widths=[28, 24, 16, 30, 11, 8, 9, 11, 50],
        note=_("Тема ниже порога — выполнено меньше {pct} % её максимального балла.").format(pct=round(100 * WEAK_SHARE)),
    )
    return page(request, "teacher_diagnostics.html", [table], _("Диагностики учителей"),
                {"table": table, "rows": list(zip(links, table.rows, strict=True)), "link_column": 3, "other": other})


@role_required
def diagnostic(request, pk: int):
    """One diagnostic: its scores by topic and by competence area, the weak ones marked."""
    found = get_object_or_404(
        TeacherDiagnostic.objects.visible_to(request.user).select_related("teacher__school", "subject"), pk=pk)
    scores = list(found.scores.select_related("content_element").order_by("competence_area", "topic", "pk"))
    rows, marked = [], set()
    areas: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r, score in enumerate(scores):
        rate = share(score.score, score.max_score)
        if rate is not None and rate < 100 * WEAK_SHARE:
            marked.add((r, 5))
        element = score.content_element
        rows.append([topic_name(score), f"{element.code} {element.name}" if element else None,
                     AREAS.get(score.competence_area, score.competence_area), score.score, score.max_score, rate])
        areas[score.competence_area][0] += score.score
        areas[score.competence_area][1] += score.max_score
    topic_table = Table(
        _("Результаты по темам"), _("Темы"),
        [_("Тема"), _("Элемент содержания"), _("Область компетенций"), _("Балл"), _("Максимум"),
         _("Выполнение, %")], rows, pct={5}, marked=marked, widths=[40, 40, 22, 8, 9, 12],
        note=_("Выделены темы, выполненные меньше чем на {pct} %.").format(pct=round(100 * WEAK_SHARE)),
    )
    area_rows, area_marked = [], set()
    for r, (area, (score, maximum)) in enumerate(sorted(areas.items())):
        rate = share(score, maximum)
        if rate is not None and rate < 100 * WEAK_SHARE:
            area_marked.add((r, 3))
        area_rows.append([AREAS.get(area, area), score, maximum, rate])
    area_table = Table(_("Результаты по областям компетенций"), _("Области"),
                       [_("Область компетенций"), _("Балл"), _("Максимум"), _("Выполнение, %")],
                       area_rows, pct={3}, marked=area_marked, widths=[30, 8, 9, 12])
    return page(request, "teacher_diagnostic.html", [topic_table, area_table],
                f"{found.teacher.full_name} {found.title}",
                {"diagnostic": found, "topic_table": topic_table, "area_table": area_table,
                 "rate": share(found.score, found.max_score)})


# --- surveys ----------------------------------------------------------------------------------------

@role_required
def surveys(request):
    """The surveys of the year with how many answered (of the answers the user may see) and satisfaction."""
    year, start, end = year_bounds(request)
    found = list(Survey.objects.visible_to(request.user).filter(conducted_on__gte=start, conducted_on__lt=end)
                 .select_related("organisation").order_by("-conducted_on", "title"))
    summary = {
        row["survey"]: row for row in SurveyResponse.objects.visible_to(request.user)
        .filter(survey__in=[s.pk for s in found]).values("survey")
        .annotate(n=Count("pk"), satisfaction=Avg("satisfaction"))
    }
    other = None if found else latest_other_year(Survey.objects.visible_to(request.user), "conducted_on")
    rows, links = [], []
    for survey in found:
        row = summary.get(survey.pk, {})
        rows.append([survey.title, survey.get_stage_display(), survey.organisation.short_name,
                     survey.conducted_on.strftime("%d.%m.%Y"), len(survey.questions or []), row.get("n", 0),
                     row.get("satisfaction")])
        links.append(reverse("collection:teacher_survey", args=[survey.pk]))
    table = Table(_("Анкетирования"), _("Анкетирования"),
                  [_("Анкетирование"), _("Этап"), _("Кто проводит"), _("Дата"), _("Вопросов"), _("Ответов"),
                   _("Средняя удовлетворённость (1–5)")], rows, widths=[40, 14, 28, 11, 9, 9, 16])
    return page(request, "teacher_surveys.html", [table], _("Анкетирования"),
                {"table": table, "rows": list(zip(links, table.rows, strict=True)), "link_column": 0, "other": other})


@role_required
def survey(request, pk: int):
    """One survey: how many answered, satisfaction, and the most frequent answers to each question."""
    found = get_object_or_404(Survey.objects.visible_to(request.user).select_related("organisation"), pk=pk)
    responses = list(SurveyResponse.objects.visible_to(request.user).filter(survey=found)
                     .values_list("answers", "satisfaction"))
    satisfaction = Counter(s for _answers, s in responses if s is not None)
    rated = sum(satisfaction.values())
    satisfaction_table = Table(
        _("Удовлетворённость"), _("Удовлетворённость"), [_("Оценка"), _("Ответов"), _("Доля, %")],
        [[mark, satisfaction.get(mark, 0), share(satisfaction.get(mark, 0), rated)] for mark in range(5, 0, -1)],
        pct={2}, widths=[10, 10, 10])
    questions = list(found.questions or [])
    for answers, _s in responses:
        questions += [q for q in answers if q not in questions]
    rows = []
    for question in questions:
        given = Counter(str(a[question]).strip() for a, _s in responses
                        if a.get(question) not in (None, "") and str(a[question]).strip())
        answered = sum(given.values())
        for answer, n in given.most_common(TOP_ANSWERS):
            rows.append([str(question), answer, n, share(n, answered)])
        if len(given) > TOP_ANSWERS:
            rest = sum(n for _a, n in given.most_common()[TOP_ANSWERS:])
            rows.append([str(question), _("другие ответы ({n} разных)").format(n=len(given) - TOP_ANSWERS), rest,
                         share(rest, answered)])
    answer_table = Table(_("Ответы по вопросам"), _("Ответы"), [_("Вопрос"), _("Ответ"), _("Ответов"), _("Доля, %")],
                         rows, pct={3}, widths=[45, 45, 10, 10])
    mean = (sum(m * n for m, n in satisfaction.items()) / rated) if rated else None
    return page(request, "teacher_survey.html", [satisfaction_table, answer_table], found.title,
                {"survey": found, "responses": len(responses), "mean": mean,
                 "satisfaction_table": satisfaction_table, "answer_table": answer_table})


# --- attestations and deficits -------------------------------------------------------------------------

@role_required
def attestations(request):
    """The attestations of the year with the difficulties the experts noted."""
    year, start, end = year_bounds(request)
    found = (Attestation.objects.visible_to(request.user).filter(held_on__gte=start, held_on__lt=end)
             .select_related("teacher__school").order_by("-held_on", "teacher__full_name"))
    found = list(found)
    other = None if found else latest_other_year(Attestation.objects.visible_to(request.user), "held_on")
    rows = []
    for attestation in found:
        noted = "; ".join(
            "{area}: {text}".format(area=AREAS.get(d.get("area"), d.get("area") or "—"), text=d.get("text", ""))
            for d in attestation.difficulties or [] if isinstance(d, dict))
        rows.append([attestation.teacher.full_name, attestation.teacher.school.short_name,
                     attestation.held_on.strftime("%d.%m.%Y"), attestation.get_category_display(), noted or None,
                     attestation.note or None])
    table = Table(_("Аттестация педагогических работников"), _("Аттестации"),
                  [_("Учитель"), _("Школа"), _("Дата"), _("Категория"), _("Затруднения"), _("Заключение")],
                  rows, widths=[28, 24, 11, 20, 60, 40])
    return page(request, "teacher_attestations.html", [table], _("Аттестации"), {"table": table, "other": other})


@role_required
def deficits(request):
    """Personal deficits of teachers and the findings of associations (corporate deficits) of the year."""
    year = academic_year(request)
    found = (deficits_for(request.user).filter(academic_year__start_year=year)
             .select_related("teacher__school", "organisation", "association", "subject", "content_element")
             .order_by("scope", "organisation__short_name", "teacher__full_name", "topic", "pk"))
    found = list(found)
    other = None
    if not found:
        latest = deficits_for(request.user).order_by("-academic_year__start_year").values_list(
            "academic_year__start_year", flat=True).first()
        other = None if latest is None else {"year": latest, "label": year_label(latest)}
    personal, corporate = [], []
    for deficit in found:
        element = deficit.content_element
        common = [deficit.subject.name if deficit.subject else None, deficit.get_competence_area_display(),
                  deficit.topic, f"{element.code} {element.name}" if element else None]
        if deficit.scope == DeficitScope.PERSONAL:
            personal.append([deficit.teacher.full_name if deficit.teacher else None,
                             deficit.teacher.school.short_name if deficit.teacher else deficit.organisation.short_name,
                             *common, deficit.get_source_display(), deficit.note or None])
        else:
            corporate.append([deficit.organisation.short_name, deficit.association.name if deficit.association else None,
                              *common, deficit.get_source_display(), deficit.note or None])
    headers = [_("Предмет"), _("Область компетенций"), _("Тема"), _("Элемент содержания")]
    personal_table = Table(_("Персональные профессиональные дефициты"), _("Персональные"),
                           [_("Учитель"), _("Школа"), *headers, _("Источник"), _("Примечание")], personal,
                           widths=[28, 24, 16, 20, 36, 36, 24, 40])
    corporate_table = Table(_("Корпоративные дефициты: выводы методических объединений"), _("Корпоративные"),
                            [_("Организация"), _("Методическое объединение"), *headers, _("Источник"), _("Описание")],
                            corporate, widths=[24, 30, 16, 20, 36, 36, 24, 40])
    return page(request, "teacher_deficits.html", [personal_table, corporate_table], _("Профессиональные дефициты"),
                {"personal_table": personal_table, "corporate_table": corporate_table, "other": other})


# --- the forms --------------------------------------------------------------------------------------

def entry_view(kind: str, form_class, done: str, title, intro, saved, visible):
    """A form page for one kind of hand-entered data; `title`, `intro` and `saved` are lazy translations."""

    @role_required
    def view(request):
        if not may_enter(request.user, kind):
            raise PermissionDenied(_("Ваша роль не позволяет вносить эти сведения."))
        year = academic_year(request)
        if request.method == "POST":
            form = form_class(request.POST, user=request.user, year=year)
            if form.is_valid():
                record(form, kind=kind, visible=visible(request.user), acting_user=request.user)
                messages.success(request, str(saved))
                return redirect(done)
        else:
            form = form_class(user=request.user, year=year)
        return page(request, "teacher_form.html", [], "", {
            "form": form, "kind": kind, "title": title, "intro": intro, "back": reverse(done)})

    view.__name__ = f"{kind}_entry"
    return view


attestation_entry = entry_view(
    "attestation", AttestationForm, "collection:teacher_attestations",
    gettext_lazy("Записать аттестацию учителя"),
    gettext_lazy("Дата, категория и затруднения, которые отметила экспертная группа."),
    gettext_lazy("Аттестация записана."), lambda user: Attestation.objects.visible_to(user))
deficit_entry = entry_view(
    "deficit", PersonalDeficitForm, "collection:teacher_deficits",
    gettext_lazy("Записать профессиональный дефицит учителя"),
    gettext_lazy("Что учителю не удаётся: тема, элемент содержания, откуда это известно."),
    gettext_lazy("Дефицит учителя записан."), deficits_for)
finding_entry = entry_view(
    "finding", FindingForm, "collection:teacher_deficits",
    gettext_lazy("Записать вывод методического объединения"),
    gettext_lazy("Общий для учителей предмета недостаток, который выявило объединение (корпоративный дефицит)."),
    gettext_lazy("Вывод методического объединения записан."), deficits_for)


urlpatterns = [
    path("teachers/", teacher_data, name="teacher_data"),
    path("teachers/diagnostics/", diagnostics, name="teacher_diagnostics"),
    path("teachers/diagnostics/<int:pk>/", diagnostic, name="teacher_diagnostic"),
    path("teachers/surveys/", surveys, name="teacher_surveys"),
    path("teachers/surveys/<int:pk>/", survey, name="teacher_survey"),
    path("teachers/attestations/", attestations, name="teacher_attestations"),
    path("teachers/attestations/new/", attestation_entry, name="teacher_attestation_add"),
    path("teachers/deficits/", deficits, name="teacher_deficits"),
    path("teachers/deficits/new/", deficit_entry, name="teacher_deficit_add"),
    path("teachers/findings/new/", finding_entry, name="teacher_finding_add"),
]
