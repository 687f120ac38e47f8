"""Stage 2 report pages: the four standard reports of an organisation and assessment beside its parent
levels, item analysis, trends and cohorts, corporate and personal deficits, and the analytical reports
(DOCX) of a school or municipality. Every table of a page downloads as XLSX (`?xlsx=1`).

The figures are computed once per data version and kept in the cache (`analysis.report_cache`); a page
reads them, builds its tables and renders. Access: an organisation the user may not see answers 404
(`?org=` is looked up in `Organisation.objects.visible_to(user)`), an assessment without works he may see
too; the parent levels' aggregate figures are shown beside his organisation.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils.translation import gettext as _

from metodist.analysis import report_cache
from metodist.analysis.standard_reports import COMPARISON, MARKS, ReportError
from metodist.core.access import role_required
from metodist.core.context import academic_year, acting_organisation
from metodist.core.page_cache import cached_page
from metodist.documents.common import Table
from metodist.documents.downloads import safe_file_name, wants_xlsx, xlsx_response

#: personal deficits shown on the page; the XLSX holds all of them
PAGE_ROWS = 300


def _is_teacher(request) -> bool:
    role = getattr(request.user, "metodist_acting", None)
    return role is not None and role.role == "teacher"


# --- what the user chose ------------------------------------------------------------------------------

def _assessments(request):
    """The assessments with present works the user may see, newest first."""
    from metodist.collection.models import Work
    from metodist.reference.models import Assessment

    def compute() -> list[int]:
        works = Work.objects.visible_to(request.user).filter(assessment=OuterRef("pk"), absent=False)
        return list(Assessment.objects.filter(Exists(works)).values_list("pk", flat=True))

    # which assessments have works the user may see changes only with the results: kept per their signature
    ids = report_cache.cached("assessments", (report_cache.results_signature(), request.user.pk, _scope_key(request)),
                              compute)
    return list(Assessment.objects.filter(pk__in=ids).select_related("subject")
                .order_by("-year", "programme", "subject__name", "grade", "code"))


def _organisation(request):
    """The organisation of `?org=` among those the user may see (404 otherwise), by default the acting
    role's, for a superuser without roles the top of the tree."""
    from metodist.core.models import Organisation

    visible = Organisation.objects.visible_to(request.user)
    code = request.GET.get("org", "").strip()
    if code:
        return get_object_or_404(visible, code=code)
    return acting_organisation(request) or visible.filter(parent__isnull=True).order_by("path").first()


def _assessment(request, choices, name: str = "assessment"):
    """The assessment of `?assessment=` among `choices` (404 otherwise), by default the first of the
    academic year shown, else the latest."""
    code = request.GET.get(name, "").strip()
    if code:
        found = next((a for a in choices if a.code == code), None)
        if found is None:
            raise Http404
        return found
    spring = academic_year(request) + 1
    of_year = [a for a in choices if a.year == spring] or choices
    return next((a for a in of_year if a.programme == "VPR"), of_year[0] if of_year else None)


@dataclass(frozen=True)
class Choice:
    """An organisation in a select: what the page needs of it."""

    pk: int
    code: str
    short_name: str
    kind: str
    path: str


def _scope_key(request) -> str:
    """What decides which organisations the user sees: his acting role's organisation (or everything)."""
    role = getattr(request.user, "metodist_acting", None)
    if role is not None:
        return role.organisation.path
    return "*" if request.user.is_superuser else ",".join(sorted(r.organisation.path for r in request.roles))


def _organisations(request, assessment, organisation, version: str) -> list[Choice]:
    """The organisations to choose from: those the user may see with works of the assessment in their
    subtree (the schools and every level above them), and the chosen one; kept per data version."""
    from metodist.collection.models import Work
    from metodist.core.models import Organisation, OrganisationKind

    fields = ("pk", "code", "short_name", "kind", "path")

    def compute():
        visible = Organisation.objects.visible_to(request.user)
        schools = list(visible.filter(kind=OrganisationKind.SCHOOL, pk__in=Work.objects.filter(
            assessment=assessment, absent=False).values("school_id")).values_list(*fields))
        above = {int(step) for s in schools for step in s[4].strip("/").split("/")[:-1]}
        return sorted({*schools, *visible.filter(pk__in=above).values_list(*fields)}, key=lambda o: o[4])

    found = []
    if assessment is not None:
        found = [Choice(*row) for row in report_cache.cached(
            "organisations", (assessment.code, version, _scope_key(request)), compute)]
    if organisation is not None and all(o.pk != organisation.pk for o in found):
        found = sorted([*found, Choice(*(getattr(organisation, f) for f in fields))], key=lambda o: o.path)
    return found


def organisation_options(organisations, chosen) -> str:
    """The <option>s of the organisation select, built here rather than in the template: a region has
    hundreds of schools, and the template engine would spend most of the page's time on them."""
    from django.utils.html import escape
    from django.utils.safestring import mark_safe

    selected = chosen.pk if chosen is not None else None
    return mark_safe("".join(
        f'<option value="{escape(o.code)}"{" selected" if o.pk == selected else ""}>'
        f'{"— " if o.kind == "school" else ""}{escape(o.short_name)}</option>' for o in organisations))


def _selection(request, *, need_assessment: bool = True) -> dict:
    choices = _assessments(request)
    organisation = _organisation(request)
    assessment = _assessment(request, choices) if need_assessment else None
    version = _version(assessment) if assessment is not None else ""
    organisations = _organisations(request, assessment, organisation, version)
    return {
        "organisation": organisation, "assessment": assessment, "assessments": choices, "version": version,
        "organisations": organisations, "organisation_options": organisation_options(organisations, organisation),
        "query": _query(organisation, assessment),
    }


def _query(organisation, assessment, **more) -> str:
    from urllib.parse import urlencode

    params = {}
    if organisation is not None:
        params["org"] = organisation.code
    if assessment is not None:
        params["assessment"] = assessment.code
    params.update({k: v for k, v in more.items() if v not in (None, "")})
    return urlencode(params)


def _version(assessment) -> str:
    return report_cache.data_versions([assessment.pk]).get(assessment.pk, "")


def _page(request, template: str, context: dict):
    return render(request, template, {"current_stage": 2, "teacher": _is_teacher(request), **context})


# --- the index ---------------------------------------------------------------------------------------

@role_required
@cached_page
def reports(request):
    """Choose an organisation and an assessment; links to every report of them."""
    context = _selection(request)
    organisation = context["organisation"]
    context["docx"] = {
        "school": organisation is not None and organisation.kind == "school",
        "municipality": organisation is not None and organisation.kind == "municipality",
        "year": academic_year(request),
    }
    return _page(request, "analysis/report_index.html", context)


# --- the four standard reports -----------------------------------------------------------------------

def standard_tables(report, *, short: bool = False) -> list[Table]:
    """The four standard reports and the «не пройд.» table, the organisation first, then its parents;
    `short`: skills by code only (the page lists their names once, below the table)."""
    levels = [report.own, *report.parents]
    marks = Table(
        _("Статистика по отметкам"), _("Отметки"),
        [_("Организация"), _("Участников"), "«2», %", "«3», %", "«4», %", "«5», %", _("Успеваемость, %"),
         _("Качество, %")],
        [[level.name, level.participants, *(level.marks_pct[m] for m in MARKS), level.success_pct,
          level.quality_pct] for level in levels],
        pct={2, 3, 4, 5, 6, 7}, widths=[36, 12, 9, 9, 9, 9, 15, 12],
    )

    minimum_of = {score: mark for mark, score in report.thresholds.items() if mark > 2}
    shares = []
    for level in levels:
        if level.kind == "national":
            published = getattr(level, "score_distribution_pct", None)
            shares.append(None if published is None else {int(k): v for k, v in published.items()})
        else:
            total = sum(level.scores.values())
            shares.append({s: 100 * n / total for s, n in level.scores.items()} if total else None)
    score_levels = [(level, share) for level, share in zip(levels, shares, strict=True)
                    if share is not None or level is report.own]
    scores = Table(
        _("Распределение первичных баллов"), _("Баллы"),
        [_("Первичный балл"), _("Участников"), *(_("{name}, %").format(name=level.name) for level, _s in score_levels),
         _("Порог отметки")],
        [[score, n, *((share or {}).get(score) if share is not None else None for _l, share in score_levels),
          _("от этого балла «{mark}»").format(mark=minimum_of[score]) if score in minimum_of else ""]
         for score, n in report.own.scores.items()],
        pct=set(range(2, 2 + len(score_levels))), widths=[12, 12, *([16] * len(score_levels)), 22],
    )

    rates = [level.solve_rate_pct for level in levels]
    skill = (lambda code, name: code) if short else (lambda code, name: f"{code} {name}".strip())
    tasks = Table(
        _("Выполнение заданий"), _("Задания"),
        [_("Задание"), _("Макс. балл"), *(_("{name}, %").format(name=level.name) for level in levels), _("Уровень"),
         _("Элементы содержания (КЭС)"), _("Умения (КТ)")],
        [[task.number, task.max_score, *(r.get(task.number) for r in rates), task.level,
          "; ".join(f"{code} {name}".strip() for code, name in task.content_elements),
          "; ".join(skill(code, name) for code, name in task.skills)] for task in report.tasks],
        pct=set(range(2, 2 + len(levels))), widths=[9, 8, *([16] * len(levels)), 8, 40, 40 if not short else 14],
    )

    journal = Table(
        _("Сравнение отметок за работу с отметками по журналу"), _("Журнал"),
        [_("Организация"), _("Понизили, чел."), _("Понизили, %"), _("Подтвердили, чел."), _("Подтвердили, %"),
         _("Повысили, чел."), _("Повысили, %"), _("Всего сравнено")],
        [[level.name, *(v for k in COMPARISON for v in (level.journal[k], level.journal_pct[k])), level.compared]
         for level in levels],
        pct={2, 4, 6}, widths=[36, 12, 12, 14, 14, 12, 12, 12],
    )

    not_taught = Table(
        _("Тема не пройдена («не пройд.»)"), _("Не пройдено"),
        [_("Школа"), _("Код школы"), _("Задание"), _("Работ с отметкой «не пройд.»"), _("Участников в школе"),
         _("Доля участников, %")],
        [[row.school_name, row.school_code, row.task, row.works, row.participants, row.pct]
         for row in report.not_taught],
        pct={5}, widths=[36, 14, 10, 16, 14, 14],
    )
    return [marks, scores, tasks, journal, not_taught]


def standard_charts(report) -> dict:
    from metodist.documents.charts import (
        journal_comparison_spec,
        marks_distribution_spec,
        score_distribution_spec,
        task_completion_spec,
    )

    return {"marks": marks_distribution_spec(report), "scores": score_distribution_spec(report),
            "tasks": task_completion_spec(report), "journal": journal_comparison_spec(report)}


def _standard(assessment, organisation, version: str):
    """(report, chart specs), each computed once per data version."""
    code = organisation.code if organisation else None
    report = report_cache.standard(assessment, code, version)
    charts = report_cache.cached("standard-charts", (assessment.code, code or "-", version),
                                 lambda: standard_charts(report))
    return report, charts


@role_required
@cached_page
def standard(request):
    """The four standard reports of an organisation and assessment with the parent levels beside."""
    context = _selection(request)
    assessment, organisation = context["assessment"], context["organisation"]
    if assessment is None or organisation is None:
        return _page(request, "analysis/report_standard.html", context)
    try:
        if wants_xlsx(request):
            report, _charts = _standard(assessment, organisation, context["version"])
            return xlsx_response(standard_tables(report), f"{assessment.code}-{organisation.code}", title_lines=[
                report.assessment_title, organisation.short_name])
        body = _body(request, "standard", context, lambda: _standard_context(context))
    except ReportError as error:
        return _page(request, "analysis/report_standard.html", {**context, "error": str(error)})
    return _page(request, "analysis/report_standard.html", {**context, "body": body})


def _body(request, kind: str, context: dict, build, versions=()):
    """The report's figures below the choice of organisation and assessment, rendered once per data version
    (`report_cache.rendered`; `versions`: those of further assessments it shows): the page's frame and its
    form are rendered per request around them."""
    assessment, organisation = context["assessment"], context["organisation"]
    return report_cache.rendered(
        request, f"report-{kind}", f"analysis/_report_{kind}_body.html",
        (assessment.code, organisation.code, context["version"], *versions),
        lambda: {"teacher": _is_teacher(request), **context, **build()})


def _standard_context(context: dict) -> dict:
    report, charts = _standard(context["assessment"], context["organisation"], context["version"])
    marks, scores, tasks, journal, not_taught = standard_tables(report, short=True)
    skills = {code: name for task in report.tasks for code, name in task.skills}
    return {
        "report": report, "charts": charts, "levels": [report.own, *report.parents],
        "marks_table": marks, "scores_table": scores, "tasks_table": tasks, "journal_table": journal,
        "not_taught_table": not_taught, "notes": report.published_notes(), "skills": sorted(skills.items()),
    }


# --- item analysis -----------------------------------------------------------------------------------

def item_tables(analysis: dict, *, page: bool = False) -> list[Table]:
    """The item analysis's tables; `page`: figures rounded as the page prints them (percentages to 0.1,
    correlations to 0.01, alpha to 0.001), the XLSX keeps them whole."""
    def r(value, digits):
        return None if value is None else (round(value, digits) if page else value)

    tasks = Table(
        _("Анализ заданий"), _("Задания"),
        [_("Задание"), _("Макс. балл"), _("Работ"), _("Средний балл"), _("Выполнение, %"), _("Стандартное отклонение"),
         _("Различающая способность (r с остальной работой)"), _("Корреляция с суммой баллов"),
         _("Альфа без задания"), _("Замечания")],
        [[t["task"], t["max_score"], t["n"], r(t["mean"], 2),
          None if t["difficulty"] is None else r(100 * t["difficulty"], 1), r(t["sd"], 2), r(t["discrimination"], 2),
          r(t["item_total"], 2), r(t["alpha_if_deleted"], 3), " ".join(t["reasons"])]
         for t in analysis["tasks"]],
        pct=set(), widths=[9, 9, 9, 10, 12, 14, 18, 14, 12, 60], digits=3,
    )
    distribution = Table(
        _("Распределение суммы баллов"), _("Сумма баллов"),
        [_("Сумма баллов"), _("Работ")],
        [[float(s) if "." in s else int(s), n] for s, n in analysis["score_distribution"].items()],
        widths=[14, 12],
    )
    return [tasks, distribution]


@role_required
@cached_page
def items(request):
    """Item analysis of an assessment's works in an organisation: difficulty, discrimination, alpha."""
    context = _selection(request)
    assessment, organisation = context["assessment"], context["organisation"]
    if assessment is None or organisation is None:
        return _page(request, "analysis/report_items.html", context)
    version = context["version"]
    if wants_xlsx(request):
        analysis = report_cache.item_analysis(assessment, organisation, version).get("analysis")
        if analysis is not None:
            return xlsx_response(item_tables(analysis), f"{assessment.code}-{organisation.code}-задания",
                                 title_lines=[assessment.title, organisation.short_name])
    # whether there is an analysis (and the error when not) is kept apart from the figures, so that a page
    # whose content is already rendered does not read them
    def compute_state() -> dict:
        data = report_cache.item_analysis(assessment, organisation, version)
        return {"ok": data.get("analysis") is not None, "error": data.get("error") or ""}

    state = report_cache.cached("items-state", (assessment.code, organisation.code, version), compute_state)
    if not state["ok"]:
        return _page(request, "analysis/report_items.html", {**context, "error": state["error"] or None})
    return _page(request, "analysis/report_items.html", {
        **context, "body": _body(request, "items", context, lambda: _items_context(context))})


def _items_context(context: dict) -> dict:
    from metodist.documents.charts import item_analysis_spec, total_score_spec

    assessment, organisation, version = context["assessment"], context["organisation"], context["version"]
    analysis = report_cache.item_analysis(assessment, organisation, version)["analysis"]
    charts = report_cache.cached("items-charts", (assessment.code, organisation.code, version), lambda: {
        "items": item_analysis_spec(analysis["tasks"]), "total": total_score_spec(analysis["score_distribution"])})
    return {
        "analysis": analysis, "tables": item_tables(analysis, page=True), "charts": charts,
        "flagged": [t for t in analysis["tasks"] if t["flags"]],
        "alpha_table": [{"task": t["task"], "alpha": t["alpha_if_deleted"]} for t in analysis["tasks"]],
    }


# --- trends and cohorts ------------------------------------------------------------------------------

def _family(assessment, choices):
    """The assessments of the same programme, subject and grade among `choices`, oldest first."""
    return sorted((a for a in choices if a.programme == assessment.programme and a.subject_id == assessment.subject_id
                   and a.grade == assessment.grade), key=lambda a: a.year)


def trend_tables(years, elements, title: str) -> list[Table]:
    figures = Table(
        _("Динамика результатов: {name}").format(name=title), _("По годам"),
        [_("Год"), _("Работа"), _("Участников"), "«2», %", "«3», %", "«4», %", "«5», %", _("Успеваемость, %"),
         _("Качество, %"), _("Средний балл, % от максимума")],
        [[y.year, y.assessment_code, y.participants, *(y.marks_pct[m] for m in MARKS), y.success_pct,
          y.quality_pct, y.mean_primary_pct] for y in years],
        pct={3, 4, 5, 6, 7, 8, 9}, widths=[8, 22, 12, 8, 8, 8, 8, 14, 12, 16],
    )
    element_table = Table(
        _("Выполнение по элементам содержания (КЭС), %"), _("КЭС по годам"),
        [_("КЭС"), _("Название"), *(str(y.year) for y in years)],
        [[e.code, e.name, *(e.solve_rate_pct.get(y.year) for y in years)] for e in elements],
        pct=set(range(2, 2 + len(years))), widths=[10, 60, *([10] * len(years))],
    )
    return [figures, element_table]


@role_required
@cached_page
def trends(request):
    """The standard figures of the organisation year over year for the chosen work's subject and grade."""
    context = _selection(request)
    assessment, organisation = context["assessment"], context["organisation"]
    if assessment is None or organisation is None:
        return _page(request, "analysis/report_trends.html", context)
    family = _family(assessment, context["assessments"])
    versions = report_cache.data_versions([a.pk for a in family])
    if wants_xlsx(request):
        found = _trend(assessment, organisation, family, versions)
        return xlsx_response(found["tables"], f"{organisation.code}-{assessment.programme}-{assessment.subject.code}-"
                             f"{assessment.grade}-динамика", title_lines=[organisation.short_name])
    body = _body(request, "trends", context, lambda: _trend(assessment, organisation, family, versions),
                 versions=[f"{a.code}:{versions.get(a.pk)}" for a in family])
    return _page(request, "analysis/report_trends.html", {**context, "body": body})


def _trend(assessment, organisation, family, versions: dict) -> dict:
    """The trend's years, element rates, tables and chart, from the family's cached standard reports."""
    from metodist.analysis.trends import ElementTrend, TrendYear, _code_key, element_rates, mean_primary_pct
    from metodist.documents.charts import trend_spec

    years, elements = [], {}
    for member in family:
        report = report_cache.standard(member, organisation.code, versions.get(member.pk, ""))
        own = report.own
        years.append(TrendYear(member.year, member.code, own.participants, own.marks_pct, own.success_pct,
                               own.quality_pct, mean_primary_pct(own, report.max_primary)))
        for code, (name, rate) in element_rates(report).items():
            elements.setdefault(code, ElementTrend(code, name, {})).solve_rate_pct[member.year] = rate
    ordered = sorted(elements.values(), key=lambda e: _code_key(e.code))
    title = f"{assessment.subject.name}, {assessment.grade} " + _("класс")
    return {
        "years": years, "family": family, "family_title": title,
        "tables": trend_tables(years, ordered, f"{assessment.get_programme_display()}, {title}"),
        "chart": report_cache.cached("trend-chart", (organisation.code, *(f"{a.code}:{versions.get(a.pk)}"
                                                                          for a in family)), lambda: trend_spec(years)),
    }


def cohort_tables(result, letters=None) -> list[Table]:
    """The cohort's tables; `letters` (school code, class letter) limits the classes shown (a teacher's)."""
    def side_cells(side):
        return [side.works, side.mean_primary_pct, *(side.marks_pct[m] for m in MARKS)]

    def headers(year):
        return [_("Участников ({year})").format(year=year), _("Средний балл, % ({year})").format(year=year),
                *(_("«{mark}», % ({year})").format(mark=m, year=year) for m in MARKS)]

    pct = {3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14}
    years = [*headers(result.from_year), *headers(result.to_year), _("Изменение среднего балла, п. п.")]
    classes = [g for g in result.classes if letters is None or (g.school_code, g.letter) in letters]
    tables = [
        Table(_("Когорта по классам"), _("Классы"), [_("Школа"), _("Класс"), *years],
              [[g.school_name, f"{result.from_grade}{g.letter} → {result.to_grade}{g.letter}",
                *side_cells(g.before), *side_cells(g.after), g.change_pct] for g in classes],
              pct=pct, widths=[30, 14, *([12] * 12), 14]),
    ]
    if letters is None:
        tables.append(Table(_("Когорта по школам"), _("Школы"), [_("Школа"), _("Код"), *years],
                            [[g.school_name, g.school_code, *side_cells(g.before), *side_cells(g.after),
                              g.change_pct] for g in result.schools],
                            pct=pct, widths=[30, 14, *([12] * 12), 14]))
    pupils = result.pupils
    if pupils.pupils:
        tables.append(Table(
            _("Те же обучающиеся: отметка в первой работе и во второй"), _("Переходы отметок"),
            [_("Отметка ({year})").format(year=result.from_year), *(f"«{m}» ({result.to_year})" for m in MARKS),
             _("Всего")],
            [[f"«{a}»", *(pupils.transitions.get((a, b), 0) for b in MARKS),
              sum(pupils.transitions.get((a, b), 0) for b in MARKS)] for a in MARKS],
            widths=[16, 12, 12, 12, 12, 10]))
    return tables


@role_required
@cached_page
def cohorts(request):
    """The same pupils, classes and schools from one year's work to the next one of the same subject."""
    context = _selection(request)
    assessment, organisation = context["assessment"], context["organisation"]
    if not request.GET.get("assessment"):  # by default the latest work that has a next year's one
        pairs = {(a.programme, a.subject_id, a.grade, a.year) for a in context["assessments"]}
        assessment = next((a for a in context["assessments"]
                           if (a.programme, a.subject_id, a.grade + 1, a.year + 1) in pairs), assessment)
        context.update(assessment=assessment, query=_query(organisation, assessment))
    later = [] if assessment is None else sorted(
        (a for a in context["assessments"] if a.subject_id == assessment.subject_id
         and a.programme == assessment.programme and a.year > assessment.year), key=lambda a: (a.year, a.grade))
    context["later"] = later
    if assessment is None or organisation is None or not later:
        return _page(request, "analysis/report_cohorts.html", context)
    code = request.GET.get("to", "").strip()
    if code:
        after = next((a for a in later if a.code == code), None)
        if after is None:
            raise Http404
    else:
        after = next((a for a in later if a.grade - assessment.grade == a.year - assessment.year), later[0])
    versions = report_cache.data_versions([assessment.pk, after.pk])
    result = report_cache.cohort(assessment, after, organisation, versions)
    letters = None
    if _is_teacher(request):
        from metodist.core.models import SchoolClass

        letters = set(SchoolClass.objects.visible_to(request.user).values_list("school__code", "letter"))
    tables = cohort_tables(result, letters)
    groups = [g for g in result.classes if letters is None or (g.school_code, g.letter) in letters]
    if organisation.kind != "school" and letters is None:
        groups = result.schools
    from metodist.documents.charts import cohort_spec

    chart = cohort_spec(groups, f"{assessment.title} ({result.from_year})", f"{after.title} ({result.to_year})") \
        if groups else None
    if wants_xlsx(request):
        return xlsx_response(tables, f"{organisation.code}-{assessment.code}-{after.code}",
                             title_lines=[organisation.short_name, f"{assessment.title} → {after.title}"])
    return _page(request, "analysis/report_cohorts.html", {
        **context, "after": after, "result": result, "tables": tables, "chart": chart,
        "query": _query(organisation, assessment, to=after.code),
    })


# --- deficits ----------------------------------------------------------------------------------------

def _diagnostic_text(evidence: dict) -> str:
    d = evidence.get("diagnostic") or {}
    if not d:
        return ""
    return _("«{title}» ({date}): {score} из {max} баллов").format(
        title=d.get("title", ""), date=d.get("date", ""), score=f"{d.get('score', 0):g}", max=f"{d.get('max_score', 0):g}")


def _classes_text(evidence: dict) -> str:
    parts = []
    for c in evidence.get("classes") or []:
        parts.append(_("{work}: задания {tasks}, работ {works}, выполнение {rate} % при {region} % в регионе").format(
            work=c.get("assessment") or "", tasks=", ".join(c.get("tasks") or []), works=c.get("works"),
            rate=_num(c.get("class_rate_pct")), region=_num(c.get("region_rate_pct"))))
    return "; ".join(parts)


def _num(value) -> str:
    from metodist.documents.common import number

    return number(value)


def deficit_tables(corporate, personal) -> list[Table]:
    corp = Table(
        _("Корпоративные дефициты"), _("Корпоративные"),
        [_("Организация"), _("Предмет"), _("Тема"), _("Область компетенций"), _("Слабых учителей"),
         _("Продиагностировано учителей"), _("Средний результат диагностики, %"), _("Отмечено методобъединением"),
         _("Пояснение")],
        [[d.organisation.short_name, d.subject.name if d.subject else "", d.topic, d.get_competence_area_display(),
          d.evidence.get("weak_teachers"), d.evidence.get("diagnosed_teachers"), d.evidence.get("mean_share_pct"),
          _("да") if d.evidence.get("recorded_by_association") else _("нет"), d.explanation] for d in corporate],
        pct={6}, widths=[30, 18, 40, 20, 10, 12, 14, 12, 60],
    )
    pers = Table(
        _("Персональные дефициты учителей"), _("Персональные"),
        [_("Учитель"), _("Школа"), _("Предмет"), _("Тема"), _("Диагностика"), _("Доля баллов, %"),
         _("Классы учителя по теме"), _("Разница с регионом, п. п."), _("Подтверждено классами"),
         _("Замечания аттестации"), _("Выраженность")],
        [[d.teacher.full_name if d.teacher else "", d.organisation.short_name, d.subject.name if d.subject else "",
          d.topic, _diagnostic_text(d.evidence), (d.evidence.get("diagnostic") or {}).get("share_pct"),
          _classes_text(d.evidence), d.evidence.get("specific_gap"),
          _("да") if d.evidence.get("confirmed_by_results") else _("нет"),
          "; ".join(d.evidence.get("attestation") or []), d.severity] for d in personal],
        pct={5}, widths=[28, 26, 16, 36, 36, 12, 60, 16, 12, 40, 10],
        note=_("Разница с регионом — насколько классы учителя выполнили задания темы хуже (минус) или лучше "
               "региона, за вычетом такой же разницы по всей работе."),
    )
    return [corp, pers]


@role_required
@cached_page
def deficits(request):
    """Corporate deficits of a school or municipality by subject and the personal deficits of its teachers,
    from the latest finished analysis of the academic year, with the evidence for each."""
    from metodist.analysis.models import DeficitProfile
    from metodist.collection.models import DeficitScope
    from metodist.core.models import Subject
    from metodist.documents.common import latest_run

    organisation = _organisation(request)
    year = academic_year(request)
    organisations = _deficit_organisations(request)
    context = {"organisation": organisation, "year": year, "organisations": organisations,
               "organisation_options": organisation_options(organisations, organisation), "subjects": [],
               "subject": None}
    run = latest_run(organisation, year) if organisation is not None else None
    context["run"] = run
    if run is None:
        return _page(request, "analysis/report_deficits.html", context)
    found = (DeficitProfile.objects.visible_to(request.user)
             .filter(run=run, organisation__path__startswith=organisation.path)
             .select_related("organisation", "teacher", "subject", "content_element"))
    subject_ids = set(found.order_by().values_list("subject_id", flat=True).distinct())
    context["subjects"] = list(Subject.objects.filter(pk__in=subject_ids).order_by("name"))
    code = request.GET.get("subject", "").strip()
    if code:
        context["subject"] = next((s for s in context["subjects"] if s.code == code), None)
        if context["subject"] is None:
            raise Http404
        found = found.filter(subject=context["subject"])
    rows = list(found.order_by("-severity", "topic", "pk"))
    corporate = [d for d in rows if d.scope == DeficitScope.CORPORATE]
    personal = [d for d in rows if d.scope == DeficitScope.PERSONAL]
    corporate.sort(key=lambda d: (d.subject.name if d.subject else "", d.organisation.path, -d.severity))
    tables = deficit_tables(corporate, personal)
    if wants_xlsx(request):
        return xlsx_response(tables, f"{organisation.code}-дефициты-{year}", title_lines=[organisation.short_name])
    shown = Table(tables[1].title, tables[1].sheet, tables[1].headers, tables[1].rows[:PAGE_ROWS], pct=tables[1].pct,
                  note=tables[1].note)
    return _page(request, "analysis/report_deficits.html", {
        **context, "corporate_table": tables[0], "personal_table": shown, "personal_total": len(personal),
        "page_rows": PAGE_ROWS, "query": _query(organisation, None, subject=code),
    })


def _deficit_organisations(request):
    from metodist.core.models import Organisation, OrganisationKind

    return list(Organisation.objects.visible_to(request.user).filter(kind__in=[
        OrganisationKind.REGION, OrganisationKind.MUNICIPALITY, OrganisationKind.SCHOOL]).only(
        "pk", "code", "short_name", "path", "kind", "depth").order_by("path"))


# --- the analytical reports (DOCX) -------------------------------------------------------------------

def _document(request, kind: str):
    """A school's or a municipality's analytical report of `?assessment=` or of the academic year `?year=`."""
    organisation = _organisation(request)
    if organisation is None or organisation.kind != kind:
        raise Http404
    if _is_teacher(request):
        raise PermissionDenied
    code = request.GET.get("assessment", "").strip() or None
    year_text = request.GET.get("year", "").strip()
    year = int(year_text) if year_text.isdigit() else None
    if code is None and year is None:
        year = academic_year(request)
    if code is not None and code not in {a.code for a in _assessments(request)}:
        raise Http404
    if kind == "school":
        from metodist.documents.school_report import school_report_docx as make
    else:
        try:
            from metodist.documents.municipality_report import municipality_report_docx as make
        except ImportError:
            raise Http404 from None
    directory = tempfile.mkdtemp(prefix="metodist-docx-")
    target = Path(directory) / "report.docx"
    try:
        make(organisation.code, code, target, year=year)
    except ReportError as error:
        target.parent.rmdir()
        return render(request, "analysis/report_error.html", {"current_stage": 2, "error": str(error)}, status=400)
    stream = target.open("rb")
    target.unlink()
    target.parent.rmdir()
    name = safe_file_name(f"{organisation.code}-{code or year}-справка") + ".docx"
    return FileResponse(stream, as_attachment=True, filename=name, content_type=(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))


@role_required
def school_docx(request):
    return _document(request, "school")


@role_required
def municipality_docx(request):
    return _document(request, "municipality")


urlpatterns = [
    path("reports/", reports, name="reports"),
    path("reports/standard/", standard, name="standard"),
    path("reports/items/", items, name="items"),
    path("reports/trends/", trends, name="trends"),
    path("reports/cohorts/", cohorts, name="cohorts"),
    path("reports/deficits/", deficits, name="deficits"),
    path("reports/school.docx", school_docx, name="school_docx"),
    path("reports/municipality.docx", municipality_docx, name="municipality_docx"),
]
