"""Read access to stage 6: the tracks of the approved roadmaps' indicators (values per year and the state
said plainly), the effect of every piece of help the user sees, lesson observations and cycles; the same
`visible_to` rules as the pages."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from metodist.core.api import HasRole, MetodistViewSet
from metodist.monitoring import help_effects
from metodist.monitoring.models import Cycle, LessonObservation
from metodist.monitoring.tracks import track_of
from metodist.planning.models import Indicator, RoadmapStatus


class TrackSerializer(serializers.ModelSerializer):
    roadmap = serializers.IntegerField(source="roadmap_id", read_only=True)
    scope = serializers.SlugRelatedField(slug_field="code", read_only=True)
    subject = serializers.SlugRelatedField(slug_field="code", read_only=True)
    content_element = serializers.SlugRelatedField(slug_field="code", read_only=True)
    values = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()
    change = serializers.SerializerMethodField()

    class Meta:
        model = Indicator
        fields = ["id", "roadmap", "goal", "programme", "subject", "grade", "scope", "content_element", "statistic",
                  "baseline_year", "baseline", "target", "values", "state", "change"]

    def _track(self, obj):
        cache = self.context.setdefault("tracks", {})
        if obj.pk not in cache:
            cache[obj.pk] = track_of(obj)
        return cache[obj.pk]

    def get_values(self, obj) -> list[dict]:
        return [{"year": v.year, "kind": v.kind, "value": v.value, "works": v.works} for v in obj.values.all()]

    def get_state(self, obj) -> str:
        return self._track(obj).state

    def get_change(self, obj) -> float | None:
        change = self._track(obj).change
        return None if change is None else round(change, 2)


class TrackViewSet(MetodistViewSet):
    """Indicators of approved roadmaps with their measured values and state (reached, improved, unchanged,
    worse, not measured)."""

    queryset = Indicator.objects.filter(roadmap__status=RoadmapStatus.APPROVED).select_related(
        "scope", "subject", "content_element", "roadmap__academic_year").prefetch_related("values")
    serializer_class = TrackSerializer


class ObservationSerializer(serializers.ModelSerializer):
    teacher = serializers.StringRelatedField()
    share = serializers.FloatField(read_only=True)

    class Meta:
        model = LessonObservation
        fields = ["id", "teacher", "date", "subject", "topic", "content_element", "observer", "scores", "share"]


class ObservationViewSet(MetodistViewSet):
    queryset = LessonObservation.objects.select_related("teacher")
    serializer_class = ObservationSerializer


class CycleSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    academic_year = serializers.IntegerField(source="academic_year.start_year", read_only=True)

    class Meta:
        model = Cycle
        fields = ["id", "organisation", "academic_year", "started_at", "summary"]


class CycleViewSet(MetodistViewSet):
    queryset = Cycle.objects.select_related("organisation", "academic_year")
    serializer_class = CycleSerializer


class EffectViewSet(viewsets.ViewSet):
    """The effect of each course, route, mentorship and mentor-school pairing the user sees: difference in
    differences on its targeted content elements with its 95 % interval, and the plain verdict."""

    permission_classes = [HasRole]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def list(self, request):
        items = help_effects.all_effects(request.user)
        return Response([{
            "kind": h.kind, "id": h.obj.pk, "title": h.title, "academic_year": h.year,
            "elements": h.effect.elements, "verdict": h.effect.verdict, "verdict_text": h.effect.verdict_text,
            "did": _r(h.effect.did), "low": _r(h.effect.low), "high": _r(h.effect.high),
            "participants_with_data": len(h.effect.participants), "participants": h.effect.participants_total,
            "comparison": len(h.effect.comparison),
            "change_participants": _r(h.effect.change_participants),
            "change_comparison": _r(h.effect.change_comparison),
        } for h in items])


def _r(value):
    return None if value is None else round(value, 2)
