"""Reference data over the API: assessments (with tasks and grade scales), content elements and skills.
Read-only; every user with a role may read them (they are the same for everyone)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from rest_framework import serializers

from metodist.core.api import MetodistViewSet, QueryFilter
from metodist.reference.models import Assessment, ContentElement, GradeScale, Programme, Skill, Task


class CodeSerializer(serializers.ModelSerializer):
    subject = serializers.SlugRelatedField(slug_field="code", read_only=True)


class ContentElementSerializer(CodeSerializer):
    class Meta:
        model = ContentElement
        fields = ["id", "codifier", "subject", "code", "name"]


class SkillSerializer(CodeSerializer):
    class Meta:
        model = Skill
        fields = ["id", "codifier", "subject", "code", "name"]


class TaskSerializer(serializers.ModelSerializer):
    content_elements = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    skills = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Task
        fields = ["number", "position", "max_score", "task_type", "level", "description", "content_elements",
                  "skills"]


class GradeScaleSerializer(serializers.ModelSerializer):
    class Meta:
        model = GradeScale
        fields = ["kind", "thresholds", "note"]


class AssessmentSerializer(CodeSerializer):
    owner = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Assessment
        fields = ["id", "code", "programme", "subject", "grade", "year", "title", "variants", "max_primary",
                  "partial", "partial_reason", "owner", "source"]


class AssessmentDetailSerializer(AssessmentSerializer):
    tasks = TaskSerializer(many=True, read_only=True)
    scales = GradeScaleSerializer(many=True, read_only=True)

    class Meta(AssessmentSerializer.Meta):
        fields = [*AssessmentSerializer.Meta.fields, "tasks", "scales"]


class AssessmentViewSet(MetodistViewSet):
    """Assessments by code (`/api/assessments/vpr-2021-ma-5/`); the detail holds tasks and grade scales."""

    public = True
    queryset = Assessment.objects.select_related("subject", "owner")
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    filters = [
        QueryFilter("programme", "programme", gettext_lazy("Программа оценки."), enum=tuple(Programme.values)),
        QueryFilter("subject", "subject__code", gettext_lazy("Код предмета.")),
        QueryFilter("grade", "grade", gettext_lazy("Класс."), type="integer"),
        QueryFilter("year", "year", gettext_lazy("Год проведения."), type="integer"),
    ]

    def get_serializer_class(self):
        return AssessmentDetailSerializer if self.action == "retrieve" else AssessmentSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("tasks__content_elements", "tasks__skills", "scales")
        return queryset


class ContentElementViewSet(MetodistViewSet):
    """Elements of the codifiers (КЭС)."""

    public = True
    queryset = ContentElement.objects.select_related("subject")
    serializer_class = ContentElementSerializer
    filters = [
        QueryFilter("codifier", "codifier", gettext_lazy("Кодификатор, например vpr-ma-5.")),
        QueryFilter("subject", "subject__code", gettext_lazy("Код предмета.")),
    ]


class SkillViewSet(MetodistViewSet):
    """Checked skills (КТ, планируемые результаты)."""

    public = True
    queryset = Skill.objects.select_related("subject")
    serializer_class = SkillSerializer
    filters = ContentElementViewSet.filters
