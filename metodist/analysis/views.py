"""Stage 2 pages: the dashboards. `dashboard` is the stage's entry page and shows the acting role's own one
(a municipality's or region's, a school's, a teacher's); `organisation` and `teacher` open any visible
organisation's or teacher's dashboard (a methodologist goes from the schools table to a school). What
they show is built in `metodist.analysis.dashboards` from the stored results of the latest finished
analysis; every table can be downloaded as XLSX (`?xlsx=1`)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _

from metodist.analysis import dashboards
from metodist.core.context import academic_year, acting_organisation
from metodist.core.models import Organisation, OrganisationKind, Role, Teacher
from metodist.core.page_cache import cached_page
from metodist.documents.common import academic_year as year_label
from metodist.documents.common import latest_run
from metodist.documents.downloads import wants_xlsx, xlsx_response


def _check_role(request) -> None:
    if not request.user.is_superuser and not getattr(request, "roles", None):
        raise PermissionDenied(_("У вас нет роли ни в одной организации. Обратитесь к администратору."))


def _report_url(name: str, fallback: str, **params) -> str:
    """The address of a report page another part of the system builds; its plain path when the page's
    name is not registered yet."""
    try:
        base = reverse(name)
    except NoReverseMatch:
        base = fallback
    return f"{base}?{urlencode(params)}"


@login_required
@cached_page
def dashboard(request):
    """The acting role's dashboard: a teacher's own, a school's, or a municipality's (region's)."""
    _check_role(request)
    role = getattr(request.user, "metodist_acting", None)
    if role is not None and role.role == Role.TEACHER:
        own = Teacher.objects.filter(user=request.user).select_related("school").first()
        if own is not None:
            return _teacher_page(request, own)
    organisation = acting_organisation(request)
    if organisation is None:
        from metodist.analysis.runs import default_scope

        organisation = default_scope()
        if organisation is None:
            return _empty(request, None, _("В базе ещё нет организаций."))
    return _organisation_page(request, organisation)


@login_required
@cached_page
def organisation(request, code: str):
    """The dashboard of any organisation the user may see (404 for one he may not)."""
    _check_role(request)
    found = get_object_or_404(Organisation.objects.visible_to(request.user), code=code)
    return _organisation_page(request, found)


@login_required
@cached_page
def teacher(request, pk: int):
    """A teacher's dashboard: a teacher sees only his own, a school's administration its teachers."""
    _check_role(request)
    found = get_object_or_404(Teacher.objects.visible_to(request.user).select_related("school"), pk=pk)
    return _teacher_page(request, found)


def _organisation_page(request, organisation):
    if organisation.kind == OrganisationKind.SCHOOL:
        return _school_page(request, organisation)
    return _municipality_page(request, organisation)


def _empty(request, organisation, message: str):
    return render(request, "analysis/dashboard_empty.html", {
        "current_stage": 2, "organisation": organisation, "message": message})


def _no_run(request, organisation, year: int):
    return _empty(request, organisation, _(
        "Анализ результатов {year} учебного года ещё не выполнен. Когда результаты загружены, методист "
        "запускает анализ командой «metodist analyse».").format(year=year_label(year)))


def _content(request, kind: str, organisation, run, build) -> str:
    """The dashboard's content (everything but the frame), rendered once per analysis run, user and query
    and kept in the shared report cache (`report_cache.rendered`): a region's dashboard takes seconds to
    build from 600 schools' stored findings and must not be rebuilt on every request, nor once per server
    process. The key also holds the results' signature, because the works counted beside the findings
    change with every import. `build()` returns the template's context."""
    from metodist.analysis import report_cache

    return report_cache.rendered(request, f"dashboard-{kind}", f"analysis/_dashboard_{kind}_content.html",
                                 (organisation.pk, run.pk, run.finished_at, report_cache.results_signature()), build)


def _municipality_page(request, organisation):
    year = academic_year(request)
    run = latest_run(organisation, year)
    if run is None:
        return _no_run(request, organisation, year)
    def build() -> dict:
        from metodist.documents.charts import problem_heatmap_spec, success_funnel_spec

        data = dashboards.municipality(request.user, organisation, run,
                                       assessment_code=request.GET.get("assessment") or None)
        return {
            "organisation": organisation, "data": data, "tables": dashboards.municipality_tables(data),
            "year_label": year_label(year),
            "year_docx_url": _report_url("analysis:municipality_docx", "/analysis/reports/municipality.docx",
                                         org=organisation.code, year=year)
            if organisation.kind == OrganisationKind.MUNICIPALITY else None,
            "heatmap_spec": problem_heatmap_spec(data["heatmap"]) if data["heatmap"]["rows"] else None,
            "funnel_spec": success_funnel_spec(data["funnel"]) if data["funnel"]["points"] else None,
        }

    if wants_xlsx(request):
        data = dashboards.municipality(request.user, organisation, run,
                                       assessment_code=request.GET.get("assessment") or None)
        tables = dashboards.municipality_tables(data)
        tables.pop("funnel_outside", None)  # the page's excerpt of the funnel table, which the XLSX holds whole
        return xlsx_response(list(tables.values()), f"{organisation.code}-{year}",
                             title_lines=[organisation.short_name, _("Учебный год {year}").format(
                                 year=year_label(year))])
    return render(request, "analysis/dashboard_municipality.html", {
        "current_stage": 2, "organisation": organisation,
        "content": _content(request, "municipality", organisation, run, build)})


def _school_page(request, school):
    year = academic_year(request)
    run = latest_run(school, year)
    if run is None:
        return _no_run(request, school, year)
    if wants_xlsx(request):
        data = dashboards.school(request.user, school, run)
        return xlsx_response(list(dashboards.school_tables(data).values()), f"{school.code}-{year}",
                             title_lines=[school.short_name, _("Учебный год {year}").format(year=year_label(year))])

    def build() -> dict:
        from metodist.documents.charts import school_trend_spec

        data = dashboards.school(request.user, school, run)
        for work in data["works"]:
            code = work["assessment"].code
            work["standard_url"] = _report_url("analysis:standard", "/analysis/reports/standard/",
                                               assessment=code, org=school.code)
            work["docx_url"] = _report_url("analysis:school_docx", "/analysis/reports/school.docx",
                                           assessment=code, org=school.code)
        return {
            "organisation": school, "data": data, "tables": dashboards.school_tables(data),
            "year_label": year_label(year),
            "year_docx_url": _report_url("analysis:school_docx", "/analysis/reports/school.docx", org=school.code,
                                         year=year),
            "trend_spec": school_trend_spec(data["trend"]) if len(data["trend"]["years"]) > 1 else None,
        }

    return render(request, "analysis/dashboard_school.html", {
        "current_stage": 2, "organisation": school, "content": _content(request, "school", school, run, build)})


def _teacher_page(request, found):
    year = academic_year(request)
    run = latest_run(found.school, year)
    data = dashboards.teacher(request.user, found, run, year)
    tables = dashboards.teacher_tables(data)
    if wants_xlsx(request):
        return xlsx_response(list(tables.values()), f"teacher-{found.pk}-{year}",
                             title_lines=[found.full_name, found.school.short_name,
                                          _("Учебный год {year}").format(year=year_label(year))])
    return render(request, "analysis/dashboard_teacher.html", {
        "current_stage": 2, "organisation": found.school, "teacher": found, "data": data, "tables": tables,
        "year_label": year_label(year),
    })


urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("org/<str:code>/", organisation, name="organisation"),
    path("teacher/<int:pk>/", teacher, name="teacher"),
]
