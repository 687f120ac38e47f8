"""The six stages of the cycle for one organisation and academic year, with where each stands.

Shown in every page's navigation and on the home page. Stages that Metodist does not do yet are shown as
not available, never as empty pages. The figures are a handful of aggregate queries, cached until the
next upload or analysis run changes them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Max, Q
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from metodist.core.models import Organisation

#: (number, title, URL name of the stage's page or None when the stage is not built yet)
STAGES = [
    (1, gettext_lazy("Сбор данных"), "collection:uploads"),
    (2, gettext_lazy("Анализ, выявление проблем"), "analysis:dashboard"),
    (3, gettext_lazy("Изучение передового опыта"), None),
    (4, gettext_lazy("Дорожные карты и рекомендации"), "planning:index"),
    (5, gettext_lazy("Методическая помощь"), None),
    (6, gettext_lazy("Мониторинг"), None),
]


@dataclass
class Stage:
    number: int
    title: str
    url: str | None
    state: str  # "done" | "partial" | "empty" | "unavailable"
    status: str


def calendar_academic_year(today: datetime.date | None = None) -> int:
    """The first calendar year of the academic year running on `today` (it starts on 1 September)."""
    today = today or datetime.date.today()
    return today.year if today.month >= 9 else today.year - 1


def years_with_results(organisation: Organisation | None) -> list[int]:
    """First calendar years of the academic years that have works in the organisation's subtree, newest first."""
    from metodist.collection.models import Work

    works = Work.objects.all()
    if organisation is not None:
        works = works.filter(school__path__startswith=organisation.path)
    springs = works.values_list("assessment__year", flat=True).distinct()
    return sorted({spring - 1 for spring in springs}, reverse=True)


def current_year(organisation: Organisation | None, requested: str | int | None = None) -> int:
    """The academic year the pages show: the one asked for, else the latest with results, else today's."""
    if requested not in (None, ""):
        try:
            return int(requested)
        except (TypeError, ValueError):
            pass
    years = years_with_results(organisation)
    return years[0] if years else calendar_academic_year()


def year_label(start_year: int) -> str:
    return f"{start_year}/{start_year + 1}"


def _version() -> tuple:
    from metodist.analysis.models import AnalysisRun
    from metodist.collection.models import Upload
    from metodist.planning.models import Roadmap

    return (Upload.objects.aggregate(m=Max("pk"))["m"], AnalysisRun.objects.aggregate(m=Max("finished_at"))["m"],
            Roadmap.objects.aggregate(m=Max("updated_at"))["m"])


def stages(organisation: Organisation | None, start_year: int) -> list[Stage]:
    key = f"metodist:cycle:{organisation.pk if organisation else 0}:{start_year}:{hash(_version())}"
    figures = cache.get(key)
    if figures is None:
        figures = _figures(organisation, start_year)
        cache.set(key, figures, 600)
    result = []
    for number, title, url_name in STAGES:
        url = None
        if url_name:
            try:
                url = reverse(url_name)
            except NoReverseMatch:
                url = None
        if url is None:
            result.append(Stage(number, str(title), None, "unavailable", _("ещё не доступен в Методисте")))
            continue
        state, status = _describe(number, figures)
        result.append(Stage(number, str(title), url, state, status))
    return result


def _figures(organisation: Organisation | None, start_year: int) -> dict:
    from metodist.analysis.models import AnalysisRun, ProblemField, RunStatus
    from metodist.collection.models import TeacherDiagnostic, Work

    works = Work.objects.filter(assessment__year=start_year + 1)
    if organisation is not None:
        works = works.filter(school__path__startswith=organisation.path)
    counted = works.aggregate(works=Count("pk", filter=Q(absent=False)), assessments=Count("assessment", distinct=True),
                              schools=Count("school", distinct=True))
    diagnostics = TeacherDiagnostic.objects.filter(taken_on__gte=datetime.date(start_year, 9, 1),
                                                   taken_on__lt=datetime.date(start_year + 1, 9, 1))
    if organisation is not None:
        diagnostics = diagnostics.filter(teacher__school__path__startswith=organisation.path)
    runs = AnalysisRun.objects.filter(academic_year__start_year=start_year, status=RunStatus.DONE)
    run = None
    for candidate in runs.select_related("scope").order_by("-finished_at", "-pk")[:20]:
        if organisation is None or organisation.path.startswith(candidate.scope.path):
            run = candidate
            break
    problem_fields = 0
    if run is not None:
        fields = ProblemField.objects.filter(run=run, flagged=True)
        if organisation is not None:
            fields = fields.filter(organisation__path__startswith=organisation.path)
        problem_fields = fields.count()
    from metodist.planning.models import Roadmap, RoadmapStatus

    # the roadmaps drawn from this year's analysis are for the next academic year
    roadmaps = Roadmap.objects.filter(Q(run__academic_year__start_year=start_year)
                                      | Q(academic_year__start_year=start_year + 1))
    if organisation is not None:
        roadmaps = roadmaps.filter(organisation__path__startswith=organisation.path)
    planned = roadmaps.aggregate(total=Count("pk"), approved=Count("pk", filter=Q(status=RoadmapStatus.APPROVED)))
    return {
        "roadmaps": planned["total"], "roadmaps_approved": planned["approved"],
        "works": counted["works"], "assessments": counted["assessments"], "schools": counted["schools"],
        "diagnostics": diagnostics.count(),
        "run_date": run.finished_at.strftime("%d.%m.%Y") if run else None,
        "problem_fields": problem_fields,
    }


def _describe(number: int, figures: dict) -> tuple[str, str]:
    if number == 1:
        if not figures["works"] and not figures["diagnostics"]:
            return "empty", _("данных за этот год нет")
        parts = []
        if figures["works"]:
            parts.append(ngettext("{n} работа", "{n} работ", figures["works"]).format(n=figures["works"]))
            parts.append(ngettext("{n} процедура", "{n} процедур", figures["assessments"]).format(
                n=figures["assessments"]))
        if figures["diagnostics"]:
            parts.append(ngettext("{n} диагностика учителей", "{n} диагностик учителей",
                                  figures["diagnostics"]).format(n=figures["diagnostics"]))
        return "done", _("загружено: {parts}").format(parts=", ".join(parts))
    if number == 2:
        if figures["run_date"] is None:
            if figures["works"]:
                return "partial", _("анализ ещё не выполнялся")
            return "empty", _("нечего анализировать")
        return "done", ngettext(
            "анализ от {date}: {n} проблемное поле", "анализ от {date}: {n} проблемных полей",
            figures["problem_fields"]).format(date=figures["run_date"], n=figures["problem_fields"])
    if number == 4:
        if not figures.get("roadmaps"):
            if figures["problem_fields"]:
                return "partial", _("дорожных карт по итогам анализа ещё нет")
            return "empty", _("дорожных карт нет")
        return ("done" if figures["roadmaps_approved"] == figures["roadmaps"] else "partial"), ngettext(
            "{n} дорожная карта, утверждено {k}", "{n} дорожных карт, утверждено {k}", figures["roadmaps"]).format(
            n=figures["roadmaps"], k=figures["roadmaps_approved"])
    return "unavailable", _("ещё не доступен в Методисте")
