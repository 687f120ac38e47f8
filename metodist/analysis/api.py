"""Stage 2 over the API: analysis runs, the aggregates of the standard reports, and what a run found
(problem fields, school statuses, objectivity with its signals, deficit profiles). Everything is read from
what the analysis stored, never recomputed per request, except the standard report's aggregates, which
are the same call as `metodist report standard --json`."""

from __future__ import annotations

from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from metodist.analysis.models import (
    AnalysisRun,
    DeficitProfile,
    FieldKind,
    GroupLevel,
    ObjectivityResult,
    ObjectivitySignal,
    ProblemField,
    RunStatus,
    SchoolStatus,
    SchoolStatusKind,
)
from metodist.collection.models import DeficitScope
from metodist.core.access import _roles_of
from metodist.core.api import HasRole, MetodistViewSet, QueryFilter, subtree_of
from metodist.core.models import Organisation

# --- runs --------------------------------------------------------------------------------------------


def runs_for(user):
    """Runs whose findings may concern the user: over his subtree, or over an organisation his subtree
    lies in (a school's user reads the region's run; its findings are still filtered by `visible_to`)."""
    runs = AnalysisRun.objects.all()
    if user.is_superuser:
        return runs
    condition = Q(pk__in=[])
    for role in _roles_of(user):
        path = role.organisation.path
        ancestors = [path[:i + 1] for i, char in enumerate(path) if char == "/" and i > 0]
        condition |= Q(scope__path__startswith=path) | Q(scope__path__in=ancestors)
    return runs.filter(condition)


def latest_run_for(user, organisation: Organisation | None = None, year: int | None = None) -> AnalysisRun | None:
    """The latest finished run the user may read (of the academic year `year`, e.g. 2025 for 2025/2026,
    when given), whose scope holds `organisation` when it is given."""
    runs = runs_for(user).filter(status=RunStatus.DONE).select_related("scope").order_by("-finished_at", "-pk")
    if year is not None:
        runs = runs.filter(academic_year__start_year=year)
    if organisation is None:
        return runs.first()
    return next((r for r in runs if organisation.path.startswith(r.scope.path)), None)


class RunSerializer(serializers.ModelSerializer):
    scope = serializers.SlugRelatedField(slug_field="code", read_only=True)
    academic_year = serializers.IntegerField(source="academic_year.start_year", read_only=True)

    class Meta:
        model = AnalysisRun
        fields = ["id", "academic_year", "scope", "engine", "status", "started_at", "finished_at"]


class RunViewSet(MetodistViewSet):
    """Analysis runs over the user's subtree or over an organisation it lies in."""

    public = True  # narrowed by `runs_for`, not `visible_to`: see its docstring
    queryset = AnalysisRun.objects.select_related("scope", "academic_year")
    serializer_class = RunSerializer
    filters = [
        QueryFilter("year", "academic_year__start_year", gettext_lazy("Учебный год (первый календарный год)."),
                    type="integer"),
        QueryFilter("status", "status", gettext_lazy("Состояние анализа."), enum=tuple(RunStatus.values)),
    ]

    def get_queryset(self):
        return super().get_queryset().filter(pk__in=runs_for(self.request.user).values("pk"))


# --- findings of a run -------------------------------------------------------------------------------


class RunFindingViewSet(MetodistViewSet):
    """Findings of one run: `?run=` names it, else the latest finished run the user may read (of `?year=`
    and over `?org=` when given). Lists hold only the findings inside the user's subtree."""

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.action != "list":
            return queryset
        raw = self.request.query_params.get("run")
        if raw:
            if not raw.isdigit():
                raise ValidationError({"run": _("Номер анализа должен быть числом.")})
            run = get_object_or_404(runs_for(self.request.user), pk=int(raw))
        else:
            org_code = self.request.query_params.get("org")
            org = Organisation.objects.filter(code=org_code).first() if org_code else None
            year = self.request.query_params.get("year")
            if year and not year.isdigit():
                raise ValidationError({"year": _("Учебный год указывается числом, например 2025.")})
            run = latest_run_for(self.request.user, org, int(year) if year else None)
        if run is None:
            return queryset.none()
        return queryset.filter(run=run)


#: listed for the schema; the run is chosen in `RunFindingViewSet.filter_queryset`
RUN_FILTERS = [
    QueryFilter("run", description=gettext_lazy("Номер анализа; без него — последний завершённый анализ."),
                type="integer", method=lambda queryset, value: queryset),
    QueryFilter("year", description=gettext_lazy(
        "Учебный год (первый календарный год, 2025 — это 2025/2026): последний анализ этого года."),
        type="integer", method=lambda queryset, value: queryset),
]


class ProblemFieldSerializer(serializers.ModelSerializer):
    assessment = serializers.SlugRelatedField(slug_field="code", read_only=True)
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    content_element = serializers.SlugRelatedField(slug_field="code", read_only=True)
    skill = serializers.SlugRelatedField(slug_field="code", read_only=True)
    school_class = serializers.StringRelatedField()
    teacher = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = ProblemField
        fields = ["id", "run", "assessment", "group_level", "organisation", "school_class", "teacher", "field_kind",
                  "content_element", "skill", "task_type", "tasks", "pupils", "solve_rate", "reference",
                  "reference_level", "difference", "posterior_mean", "lower", "upper", "p_value", "flagged",
                  "priority", "federal_verdict", "agreement", "explanation"]


class ProblemFieldViewSet(RunFindingViewSet):
    """Problem fields of a run (by default the latest): by organisation subtree, work, group level, flag."""

    queryset = ProblemField.objects.select_related(
        "assessment", "organisation", "content_element", "skill", "school_class")
    serializer_class = ProblemFieldSerializer
    filters = [
        *RUN_FILTERS,
        QueryFilter("org", description=gettext_lazy("Код организации: её проблемные поля и поля подчинённых."),
                    method=subtree_of("organisation__path")),
        QueryFilter("assessment", "assessment__code", gettext_lazy("Код работы.")),
        QueryFilter("group_level", "group_level", gettext_lazy("Уровень группы."), enum=tuple(GroupLevel.values)),
        QueryFilter("field_kind", "field_kind", gettext_lazy("Что проверяется."), enum=tuple(FieldKind.values)),
        QueryFilter("flagged", "flagged", gettext_lazy("Только проблемные поля (true) или только прочие (false)."),
                    type="boolean"),
    ]


class SchoolStatusSerializer(serializers.ModelSerializer):
    school = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = SchoolStatus
        fields = ["id", "run", "school", "kind", "numbers", "explanation"]


class SchoolStatusViewSet(RunFindingViewSet):
    """Schools' classification in a run (low results, high performers, difficult context, resilient)."""

    queryset = SchoolStatus.objects.select_related("school").order_by("school__path", "kind")
    serializer_class = SchoolStatusSerializer
    filters = [
        *RUN_FILTERS,
        QueryFilter("org", description=gettext_lazy("Код организации: статусы её школ."),
                    method=subtree_of("school__path")),
        QueryFilter("kind", "kind", gettext_lazy("Статус."), enum=tuple(SchoolStatusKind.values)),
    ]


class SignalSerializer(serializers.ModelSerializer):
    assessment = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = ObjectivitySignal
        fields = ["source", "code", "assessment", "tripped", "value", "numbers", "reason"]


class ObjectivitySerializer(serializers.ModelSerializer):
    school = serializers.SlugRelatedField(slug_field="code", read_only=True)
    signals = SignalSerializer(many=True, read_only=True)

    class Meta:
        model = ObjectivityResult
        fields = ["id", "run", "school", "federal_markers", "score", "rank", "explanation", "signals"]


class ObjectivityViewSet(RunFindingViewSet):
    """Schools' objectivity in a run, ranked, each with its federal markers and Metodist's signals."""

    queryset = ObjectivityResult.objects.select_related("school").prefetch_related(
        Prefetch("signals", queryset=ObjectivitySignal.objects.select_related("assessment").order_by("pk")))
    serializer_class = ObjectivitySerializer
    filters = [
        *RUN_FILTERS,
        QueryFilter("org", description=gettext_lazy("Код организации: её школы."), method=subtree_of("school__path")),
    ]


class DeficitProfileSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    subject = serializers.SlugRelatedField(slug_field="code", read_only=True)
    content_element = serializers.SlugRelatedField(slug_field="code", read_only=True)
    teacher = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = DeficitProfile
        fields = ["id", "run", "scope", "organisation", "teacher", "subject", "content_element", "competence_area",
                  "topic", "severity", "evidence", "explanation"]


class DeficitProfileViewSet(RunFindingViewSet):
    """Professional deficits found by a run: personal (a teacher's) and corporate (a subject's teachers)."""

    queryset = DeficitProfile.objects.select_related("organisation", "subject", "content_element")
    serializer_class = DeficitProfileSerializer
    filters = [
        *RUN_FILTERS,
        QueryFilter("org", description=gettext_lazy("Код организации: её дефициты и дефициты подчинённых."),
                    method=subtree_of("organisation__path")),
        QueryFilter("scope", "scope", gettext_lazy("Вид дефицита."), enum=tuple(DeficitScope.values)),
        QueryFilter("teacher", "teacher_id", gettext_lazy("Номер учителя."), type="integer"),
        QueryFilter("subject", "subject__code", gettext_lazy("Код предмета.")),
    ]


# --- results aggregates ------------------------------------------------------------------------------


class ResultsView(APIView):
    """The standard reports' aggregates of one work for one organisation beside its parent levels: the
    same JSON as `metodist report standard --json` (participants, shares of marks, task completion,
    work against journal marks)."""

    permission_classes = [HasRole]

    @extend_schema(
        parameters=[
            OpenApiParameter("assessment", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True,
                             description=gettext_lazy("Код работы, например vpr-2021-ma-5.")),
            OpenApiParameter("org", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                             description=gettext_lazy("Код организации; без него — организация вашей роли.")),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        from metodist.analysis.standard_reports import ReportError, standard_report
        from metodist.reference.models import Assessment

        code = request.query_params.get("assessment", "").strip()
        if not code:
            raise ValidationError({"assessment": _("Укажите код работы.")})
        get_object_or_404(Assessment, code=code)
        org_code = request.query_params.get("org", "").strip()
        if org_code:
            organisation = get_object_or_404(Organisation.objects.visible_to(request.user), code=org_code)
        elif request.user.is_superuser and not _roles_of(request.user):
            organisation = None
        else:
            tops = _top_organisations(request.user)
            if len(tops) != 1:
                raise ValidationError({"org": _("У вас несколько ролей в разных организациях: укажите код "
                                                "организации.")})
            organisation = tops[0]
        try:
            report = standard_report(code, organisation.code if organisation else None)
        except ReportError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(report.as_json())


def _top_organisations(user) -> list[Organisation]:
    """The organisations of the user's roles, without those that lie in another of them."""
    organisations = {role.organisation.pk: role.organisation for role in _roles_of(user)}.values()
    return [o for o in organisations
            if not any(other.pk != o.pk and o.path.startswith(other.path) for other in organisations)]
