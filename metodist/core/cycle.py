"""The six stages of the cycle for one organisation and academic year, with where each stands.

Shown in every page's navigation and on the home page. Stages that Metodist does not do yet are shown as
not available, never as empty pages. The figures are a handful of aggregate queries, cached until the
next upload or analysis run changes them.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from django.db.models import Count, Q
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from metodist.core.models import Organisation
from metodist.core.shared_cache import shared_cache as _cache

#: (number, title, URL name of the stage's page or None when the stage is not built yet)
STAGES = [
    (1, gettext_lazy("Сбор данных"), "collection:uploads"),
    (2, gettext_lazy("Анализ, выявление проблем"), "analysis:dashboard"),
    (3, gettext_lazy("Изучение передового опыта"), "practices:index"),
    (4, gettext_lazy("Дорожные карты и рекомендации"), "planning:index"),
    (5, gettext_lazy("Методическая помощь"), "assistance:index"),
    (6, gettext_lazy("Мониторинг"), "monitoring:index"),
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


def results_signature() -> str:
    """A text that changes whenever any work or published figure changes, from one query of index look-ups
    (well under a millisecond at a region's 350,000 works): the last work, the number and the last of the
    uploads and their last finish, and the same of the published federal figures. Works are written and
    deleted only by imports (a new Upload) and by deleting an upload (one Upload fewer), so every change
    of them moves one of these."""
    from django.db import connection

    from metodist.collection.models import Upload, Work
    from metodist.core.memo import per_request
    from metodist.reference.models import PublishedResult

    def query() -> str:
        work, upload, published = (connection.ops.quote_name(m._meta.db_table) for m in (Work, Upload, PublishedResult))
        with connection.cursor() as cursor:
            cursor.execute(  # noqa: S608 (table names from the models)
                f"SELECT (SELECT MAX(id) FROM {work}), (SELECT COUNT(*) FROM {upload}), (SELECT MAX(id) FROM {upload}), "
                f"(SELECT MAX(finished_at) FROM {upload}), (SELECT COUNT(*) FROM {published}), "
                f"(SELECT MAX(updated_at) FROM {published})")
            return "|".join(str(v) for v in cursor.fetchone())

    return per_request("results-signature", query)


def years_with_results(organisation: Organisation | None) -> list[int]:
    """First calendar years of the academic years that have works in the organisation's subtree, newest first.
    Kept per organisation and uploads' version: every page asks (the year selector, the acting year), and
    at a region's 350,000 works the distinct years cost 80 ms a time; works come and go only with uploads."""
    from metodist.collection.models import Work

    version = results_signature()
    key = f"metodist:years:{organisation.pk if organisation else 0}:" + hashlib.sha1(version.encode()).hexdigest()
    cache = _cache()
    years = cache.get(key)
    if years is None:
        works = Work.objects.all()
        if organisation is not None:
            works = works.filter(school__path__startswith=organisation.path)
        springs = works.values_list("assessment__year", flat=True).distinct()
        years = sorted({spring - 1 for spring in springs}, reverse=True)
        cache.set(key, years, 600)
    return years


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
    """The latest upload, analysis run and roadmap change, in one query of three index look-ups (every page
    asks, through the frame and the kept pages)."""
    from django.db import connection

    from metodist.analysis.models import AnalysisRun
    from metodist.collection.models import Upload
    from metodist.core.memo import per_request
    from metodist.planning.models import Roadmap

    def query() -> tuple:
        upload, run, roadmap = (connection.ops.quote_name(m._meta.db_table) for m in (Upload, AnalysisRun, Roadmap))
        with connection.cursor() as cursor:
            cursor.execute(  # noqa: S608 (table names from the models)
                f"SELECT (SELECT MAX(id) FROM {upload}), (SELECT MAX(finished_at) FROM {run}), "
                f"(SELECT MAX(updated_at) FROM {roadmap})")
            return tuple(str(v) for v in cursor.fetchone())

    return per_request("cycle-version", query)


#: bumped when a watched record (stages 3 and 5, teachers' data, organisations, teachers, roles, assessments) is
#: saved or deleted (`bump`), so the stage figures and kept pages are not stale
GENERATION_KEY = "metodist:cycle:generation"


def _incr() -> None:
    cache = _cache()
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 1, None)


def bump(*args, **kwargs) -> None:
    """A signal receiver: the stage figures and pages cached so far are stale, in every server process.
    Moved at once (the writing request reads its own change) and again when the transaction commits: a
    page another process rendered in between, from the data before the commit, is not kept."""
    from django.db import transaction

    _incr()
    transaction.on_commit(_incr)


def watch(*models) -> None:
    """Connect `bump` to the saving and deleting of the models (called from the apps' `ready`)."""
    from django.db.models.signals import post_delete, post_save

    for model in models:
        post_save.connect(bump, sender=model, dispatch_uid=f"cycle-save-{model._meta.label}")
        post_delete.connect(bump, sender=model, dispatch_uid=f"cycle-delete-{model._meta.label}")


def version_text() -> str:
    """What moves when anything the stages show may have changed: the generation (`bump`) and the latest
    upload, analysis run and roadmap change; the same text in every server process."""
    from metodist.core.memo import per_request

    def compute() -> str:
        return "|".join(str(v) for v in (_cache().get(GENERATION_KEY, 0), *_version()))

    return per_request("cycle-version-text", compute)


def stages(organisation: Organisation | None, start_year: int) -> list[Stage]:
    cache = _cache()
    key = f"metodist:cycle:{organisation.pk if organisation else 0}:{start_year}:" + hashlib.sha1(
        version_text().encode()).hexdigest()
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
    monitored = _monitored(organisation, start_year)
    assisted = _assisted(organisation, start_year)
    studied = _studied(organisation, start_year)
    return {
        **monitored, **assisted, **studied,
        "roadmaps": planned["total"], "roadmaps_approved": planned["approved"],
        "works": counted["works"], "assessments": counted["assessments"], "schools": counted["schools"],
        "diagnostics": diagnostics.count(),
        "run_date": run.finished_at.strftime("%d.%m.%Y") if run else None,
        "problem_fields": problem_fields,
    }


def _monitored(organisation: Organisation | None, start_year: int) -> dict:
    """Stage 6 of the year: the indicators of the roadmaps approved for it, how many are measured after
    their baseline and how many reached their target."""
    from metodist.monitoring.tracks import TrackState, track_of
    from metodist.planning.models import Indicator, RoadmapStatus

    indicators = Indicator.objects.filter(roadmap__status=RoadmapStatus.APPROVED,
                                          roadmap__academic_year__start_year=start_year)
    if organisation is not None:
        indicators = indicators.filter(roadmap__organisation__path__startswith=organisation.path)
    tracks = [track_of(i) for i in indicators.select_related("roadmap").prefetch_related("values")]
    return {"indicators": len(tracks), "measured": sum(t.state != TrackState.NOT_MEASURED for t in tracks),
            "reached": sum(t.state == TrackState.REACHED for t in tracks)}


def _studied(organisation: Organisation | None, start_year: int) -> dict:
    """Stage 3 of the year: the published practices of the organisation's schools (and how many of them
    are confirmed by results), and the sessions of its communities held in the year."""
    from metodist.core.access import ancestor_paths
    from metodist.practices.models import CommunitySession, EvidenceVerdict, Practice, PracticeStatus

    practices = Practice.objects.filter(status=PracticeStatus.PUBLISHED)
    sessions = CommunitySession.objects.filter(date__gte=datetime.date(start_year, 9, 1),
                                               date__lt=datetime.date(start_year + 1, 9, 1))
    if organisation is not None:
        practices = practices.filter(school__path__startswith=organisation.path)
        sessions = sessions.filter(Q(association__organisation__path__startswith=organisation.path)
                                   | Q(club__organisation__path__startswith=organisation.path)
                                   | Q(club__organisation__path__in=ancestor_paths(organisation.path)))
    confirmed = practices.filter(evidence__verdict__in=[EvidenceVerdict.IMPROVED, EvidenceVerdict.HIGH_LEVEL])
    return {"practices": practices.count(), "practices_confirmed": confirmed.distinct().count(),
            "sessions": sessions.count()}


def _assisted(organisation: Organisation | None, start_year: int) -> dict:
    """Stage 5 of the year: courses and events of the year for the organisation's teachers, development
    routes of the year (approved or not) and the teachers' requests still unanswered."""
    from metodist.assistance.models import AssistanceRequest, Course, DevelopmentRoute, Event
    from metodist.core.access import ancestor_paths

    courses = Course.objects.filter(academic_year__start_year=start_year)
    events = Event.objects.filter(academic_year__start_year=start_year)
    routes = DevelopmentRoute.objects.filter(academic_year__start_year=start_year)
    requests = AssistanceRequest.objects.filter(status__in=["new", "in_work"])
    if organisation is not None:
        near = Q(audience__path__in=ancestor_paths(organisation.path)) | Q(
            audience__path__startswith=organisation.path)
        courses, events = courses.filter(near), events.filter(near)
        routes = routes.filter(teacher__school__path__startswith=organisation.path)
        requests = requests.filter(teacher__school__path__startswith=organisation.path)
    counted = routes.aggregate(total=Count("pk"), approved=Count("pk", filter=Q(status="approved")))
    return {"help_courses": courses.count(), "help_events": events.count(), "help_routes": counted["total"],
            "help_routes_approved": counted["approved"], "help_requests_open": requests.count()}


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
    if number == 3:
        if not figures.get("practices") and not figures.get("sessions"):
            if figures["problem_fields"]:
                return "partial", _("практик и заседаний по проблемным полям ещё нет")
            return "empty", _("практик и заседаний сообществ нет")
        return ("done" if figures["practices"] and figures["sessions"] else "partial"), ", ".join([
            ngettext("{n} практика, подтверждено результатами {k}", "{n} практик, подтверждено результатами {k}",
                     figures["practices"]).format(n=figures["practices"], k=figures["practices_confirmed"]),
            ngettext("{n} заседание сообществ", "{n} заседаний сообществ", figures["sessions"]).format(
                n=figures["sessions"])])
    if number == 4:
        if not figures.get("roadmaps"):
            if figures["problem_fields"]:
                return "partial", _("дорожных карт по итогам анализа ещё нет")
            return "empty", _("дорожных карт нет")
        return ("done" if figures["roadmaps_approved"] == figures["roadmaps"] else "partial"), ngettext(
            "{n} дорожная карта, утверждено {k}", "{n} дорожных карт, утверждено {k}", figures["roadmaps"]).format(
            n=figures["roadmaps"], k=figures["roadmaps_approved"])
    if number == 5:
        if not (figures.get("help_courses") or figures.get("help_events") or figures.get("help_routes")):
            if figures.get("help_requests_open"):
                return "partial", ngettext("{n} запрос педагога ждёт ответа", "{n} запросов педагогов ждут ответа",
                                           figures["help_requests_open"]).format(n=figures["help_requests_open"])
            return "empty", _("курсов, мероприятий и маршрутов этого года нет")
        waiting = figures["help_requests_open"] or figures["help_routes_approved"] < figures["help_routes"]
        parts = [ngettext("{n} курс", "{n} курсов", figures["help_courses"]).format(n=figures["help_courses"]),
                 ngettext("{n} мероприятие", "{n} мероприятий", figures["help_events"]).format(n=figures["help_events"]),
                 _("ИОМ: {r} (утверждено {k})").format(r=figures["help_routes"], k=figures["help_routes_approved"]),
                 _("запросов без ответа: {q}").format(q=figures["help_requests_open"])]
        return ("partial" if waiting else "done"), ", ".join(parts)
    if number == 6:
        if not figures.get("indicators"):
            return "empty", _("утверждённых дорожных карт этого года нет — отслеживать нечего")
        if not figures["measured"]:
            return "partial", ngettext("{n} показатель ждёт результатов весенних работ",
                                       "{n} показателей ждут результатов весенних работ",
                                       figures["indicators"]).format(n=figures["indicators"])
        return "done", ngettext("измерено {m} из {n} показателя, цель достигнута по {r}",
                                "измерено {m} из {n} показателей, цель достигнута по {r}",
                                figures["indicators"]).format(m=figures["measured"], n=figures["indicators"],
                                                              r=figures["reached"])
    return "unavailable", _("ещё не доступен в Методисте")
