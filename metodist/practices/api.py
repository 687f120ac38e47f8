"""Read access to stage 3: the practice library with each practice's measured evidence (filter by content
element or by a problem field to get the practices addressing it, best evidence first) and the sessions of
the communities; the same `visible_to` rules as the pages."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from rest_framework import serializers

from metodist.core.api import MetodistViewSet, QueryFilter, subtree_of
from metodist.practices.models import CommunitySession, Practice, PracticeEvidence, PracticeStatus


class EvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = PracticeEvidence
        fields = ["content_element", "skill", "scope", "reference_name", "before_year", "after_year", "before",
                  "after", "reference_before", "reference_after", "works_before", "works_after", "gain", "gain_lower",
                  "gain_upper", "level_lower", "verdict"]


class PracticeSerializer(serializers.ModelSerializer):
    school = serializers.SlugRelatedField(slug_field="code", read_only=True)
    subject = serializers.SlugRelatedField(slug_field="code", read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)

    class Meta:
        model = Practice
        fields = ["id", "title", "school", "authors", "subject", "grade_from", "grade_to", "summary", "description",
                  "link", "content_elements", "skills", "competence_areas", "risk_factors", "started_year",
                  "evidence_scope", "status", "evidence"]


def _by_field(queryset, field_id: int):
    from metodist.analysis.models import ProblemField

    found = ProblemField.objects.filter(pk=field_id).values("content_element", "skill").first()
    if found is None:
        return queryset.none()
    if found["content_element"]:
        return queryset.filter(content_elements=found["content_element"])
    if found["skill"]:
        return queryset.filter(skills=found["skill"])
    return queryset.none()


class PracticeViewSet(MetodistViewSet):
    """Practices the user sees (every published one, drafts of his schools): `/api/practices/?field=17`
    lists those addressing problem field 17's content element."""

    queryset = Practice.objects.select_related("school", "subject").prefetch_related(
        "authors", "content_elements", "skills", "evidence")
    serializer_class = PracticeSerializer
    filters = [
        QueryFilter("element", "content_elements", gettext_lazy("Номер элемента содержания."), "integer"),
        QueryFilter("field", description=gettext_lazy("Номер проблемного поля: практики по его элементу."),
                    type="integer", method=_by_field),
        QueryFilter("subject", "subject__code", gettext_lazy("Код предмета.")),
        QueryFilter("status", "status", gettext_lazy("Состояние."), enum=tuple(PracticeStatus.values)),
        QueryFilter("verdict", "evidence__verdict", gettext_lazy("Вывод подтверждения.")),
        QueryFilter("within", description=gettext_lazy("Код организации: практики её школ."),
                    method=subtree_of("school__path")),
    ]

    def get_queryset(self):
        return super().get_queryset().distinct()


class SessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = CommunitySession
        fields = ["id", "association", "club", "number", "date", "format", "link", "place", "host", "topic", "agenda",
                  "participants", "guests", "problem_fields", "content_elements", "practices", "decisions",
                  "feedback", "satisfaction"]


class SessionViewSet(MetodistViewSet):
    """Sessions of the associations and clubs the user sees."""

    queryset = CommunitySession.objects.select_related("association", "club").prefetch_related(
        "participants", "problem_fields", "content_elements", "practices")
    serializer_class = SessionSerializer
    filters = [
        QueryFilter("association", "association_id", gettext_lazy("Номер методического объединения."), "integer"),
        QueryFilter("club", "club_id", gettext_lazy("Номер предметного клуба."), "integer"),
        QueryFilter("practice", "practices", gettext_lazy("Номер представленной практики."), "integer"),
    ]
