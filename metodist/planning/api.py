"""Read access to stage 4: roadmaps with their indicators (values per year) and actions, and
recommendations; the same `visible_to` rules as the pages."""

from __future__ import annotations

from rest_framework import serializers

from metodist.core.api import MetodistViewSet
from metodist.planning.models import Indicator, IndicatorValue, Recommendation, Roadmap, RoadmapAction


class ValueSerializer(serializers.ModelSerializer):
    class Meta:
        model = IndicatorValue
        fields = ["year", "kind", "value", "works", "assessment_code"]


class IndicatorSerializer(serializers.ModelSerializer):
    scope = serializers.SlugRelatedField(slug_field="code", read_only=True)
    subject = serializers.SlugRelatedField(slug_field="code", read_only=True)
    content_element = serializers.SlugRelatedField(slug_field="code", read_only=True)
    skill = serializers.SlugRelatedField(slug_field="code", read_only=True)
    values = ValueSerializer(many=True, read_only=True)

    class Meta:
        model = Indicator
        fields = ["id", "position", "goal", "programme", "subject", "grade", "scope", "content_element", "skill",
                  "statistic", "baseline_year", "baseline", "reference", "target", "problem_field", "values"]


class ActionSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(read_only=True)

    class Meta:
        model = RoadmapAction
        fields = ["id", "position", "title", "owner", "start", "due", "status", "expected_result", "indicator",
                  "recommendation", "evidence_link", "done_at"]


class RoadmapSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    mentor_school = serializers.SlugRelatedField(slug_field="code", read_only=True)
    subject = serializers.SlugRelatedField(slug_field="code", read_only=True)
    academic_year = serializers.IntegerField(source="academic_year.start_year", read_only=True)
    indicators = IndicatorSerializer(many=True, read_only=True)
    actions = ActionSerializer(many=True, read_only=True)

    class Meta:
        model = Roadmap
        fields = ["id", "kind", "title", "organisation", "subject", "academic_year", "run", "mentor_school",
                  "status", "approved_at", "indicators", "actions"]


class RoadmapViewSet(MetodistViewSet):
    """Roadmaps of the user's organisations with indicators and actions: `/api/roadmaps/12/`."""

    queryset = Roadmap.objects.select_related("organisation", "mentor_school", "subject", "academic_year") \
        .prefetch_related("indicators__values", "indicators__scope", "indicators__subject",
                          "indicators__content_element", "indicators__skill", "actions__owner_teacher",
                          "actions__owner_organisation")
    serializer_class = RoadmapSerializer


class RecommendationSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Recommendation
        fields = ["id", "run", "addressee", "organisation", "teacher", "subject", "text", "basis", "status",
                  "problem_field", "deficit", "school_status"]


class RecommendationViewSet(MetodistViewSet):
    """Recommendations of an analysis run per addressee, with their status."""

    queryset = Recommendation.objects.select_related("organisation")
    serializer_class = RecommendationSerializer
