"""Read access to stage 5: courses (modules, targeted content elements), enrolments, teachers' requests,
development routes with their items and progress, mentoring, mentor-school pairings, events with their
attendance; the same `visible_to` rules as the pages."""

from __future__ import annotations

from django.db.models import Avg, Count, Q
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from metodist.assistance.models import (
    AssistanceRequest,
    Course,
    CourseModule,
    DevelopmentRoute,
    Enrolment,
    Event,
    EventAttendance,
    EventKind,
    ItemStatus,
    MentorSchool,
    Mentorship,
    RequestStatus,
    RouteItem,
)
from metodist.core.api import MetodistViewSet, QueryFilter, subtree_of


class ModuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = CourseModule
        fields = ["position", "title", "hours", "kind"]


class CourseSerializer(serializers.ModelSerializer):
    provider = serializers.SlugRelatedField(slug_field="code", read_only=True)
    audience = serializers.SlugRelatedField(slug_field="code", read_only=True)
    subject = serializers.SlugRelatedField(slug_field="code", read_only=True)
    academic_year = serializers.IntegerField(source="academic_year.start_year", read_only=True)
    content_elements = serializers.SerializerMethodField()
    modules = ModuleSerializer(many=True, read_only=True)

    class Meta:
        model = Course
        fields = ["id", "title", "provider", "audience", "academic_year", "starts", "ends", "hours", "format",
                  "subject", "content_elements", "competence_areas", "deficits", "modules"]

    def get_content_elements(self, obj) -> list[dict]:
        return [{"id": e.pk, "codifier": e.codifier, "code": e.code} for e in obj.content_elements.all()]


class CourseViewSet(MetodistViewSet):
    """Courses of the catalogue the user sees: `/api/courses/3/`."""

    queryset = Course.objects.select_related("provider", "audience", "subject", "academic_year").prefetch_related(
        "content_elements", "modules")
    serializer_class = CourseSerializer
    filters = [
        QueryFilter("year", "academic_year__start_year", gettext_lazy("Учебный год по первому году."), "integer"),
        QueryFilter("subject", "subject__code", gettext_lazy("Код предмета.")),
    ]


class EnrolmentSerializer(serializers.ModelSerializer):
    school = serializers.CharField(source="teacher.school.code", read_only=True)

    class Meta:
        model = Enrolment
        fields = ["id", "course", "teacher", "school", "status", "completed_at", "final_work", "grade"]


class EnrolmentViewSet(MetodistViewSet):
    """Enrolments of the teachers the user sees (a teacher: his own)."""

    queryset = Enrolment.objects.select_related("teacher__school")
    serializer_class = EnrolmentSerializer
    filters = [
        QueryFilter("course", "course_id", gettext_lazy("Номер курса."), "integer"),
        QueryFilter("status", "status", gettext_lazy("Состояние слушателя.")),
        QueryFilter("within", description=gettext_lazy("Код организации: слушатели из её школ."),
                    method=subtree_of("teacher__school__path")),
    ]


class RequestSerializer(serializers.ModelSerializer):
    subject = serializers.SlugRelatedField(slug_field="code", read_only=True)
    school = serializers.CharField(source="teacher.school.code", read_only=True)

    class Meta:
        model = AssistanceRequest
        fields = ["id", "teacher", "school", "created_at", "subject", "competence_area", "text", "preferred_form",
                  "status", "answer", "answered_at", "help_course", "help_event", "help_mentorship"]


class RequestViewSet(MetodistViewSet):
    """Teachers' requests: a teacher his own, a school its teachers', the method service its municipality's."""

    queryset = AssistanceRequest.objects.select_related("teacher__school", "subject")
    serializer_class = RequestSerializer
    filters = [
        QueryFilter("status", "status", gettext_lazy("Состояние запроса."), enum=tuple(RequestStatus.values)),
        QueryFilter("area", "competence_area", gettext_lazy("Область затруднений.")),
    ]


class ItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = RouteItem
        fields = ["id", "position", "kind", "title", "form", "link_id", "mentor", "due", "result", "status", "done_at",
                  "content_element"]


class RouteSerializer(serializers.ModelSerializer):
    school = serializers.CharField(source="teacher.school.code", read_only=True)
    academic_year = serializers.IntegerField(source="academic_year.start_year", read_only=True)
    items = ItemSerializer(many=True, read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = DevelopmentRoute
        fields = ["id", "teacher", "school", "academic_year", "run", "title", "status", "approved_at", "progress",
                  "items"]

    def get_progress(self, obj) -> float | None:
        items = obj.items.all()
        return round(sum(1 for i in items if i.status == ItemStatus.DONE) / len(items), 4) if items else None


class RouteViewSet(MetodistViewSet):
    """Development routes (ИОМ) with their items and the share done."""

    queryset = DevelopmentRoute.objects.select_related("teacher__school", "academic_year").prefetch_related("items")
    serializer_class = RouteSerializer
    filters = [
        QueryFilter("year", "academic_year__start_year", gettext_lazy("Учебный год по первому году."), "integer"),
        QueryFilter("teacher", "teacher_id", gettext_lazy("Номер учителя."), "integer"),
    ]


class MentorshipSerializer(serializers.ModelSerializer):
    academic_year = serializers.IntegerField(source="academic_year.start_year", read_only=True)
    subject = serializers.SlugRelatedField(slug_field="code", read_only=True)
    content_elements = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Mentorship
        fields = ["id", "mentor", "mentee", "academic_year", "subject", "starts", "ends", "goals", "content_elements",
                  "status"]


class MentorshipViewSet(MetodistViewSet):
    queryset = Mentorship.objects.select_related("academic_year", "subject").prefetch_related("content_elements")
    serializer_class = MentorshipSerializer


class MentorSchoolSerializer(serializers.ModelSerializer):
    mentor_school = serializers.SlugRelatedField(slug_field="code", read_only=True)
    school = serializers.SlugRelatedField(slug_field="code", read_only=True)
    academic_year = serializers.IntegerField(source="academic_year.start_year", read_only=True)
    content_elements = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = MentorSchool
        fields = ["id", "mentor_school", "school", "academic_year", "roadmap", "plan", "content_elements", "starts",
                  "ends", "status"]


class MentorSchoolViewSet(MetodistViewSet):
    queryset = MentorSchool.objects.select_related("mentor_school", "school", "academic_year").prefetch_related(
        "content_elements")
    serializer_class = MentorSchoolSerializer


class EventSerializer(serializers.ModelSerializer):
    organiser = serializers.SlugRelatedField(slug_field="code", read_only=True)
    audience = serializers.SlugRelatedField(slug_field="code", read_only=True)
    subject = serializers.SlugRelatedField(slug_field="code", read_only=True)
    academic_year = serializers.IntegerField(source="academic_year.start_year", read_only=True)
    content_elements = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    problem_fields = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    attended = serializers.IntegerField(read_only=True)
    satisfaction = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Event
        fields = ["id", "kind", "title", "topic", "organiser", "audience", "audience_text", "academic_year", "date",
                  "ends", "place", "link", "subject", "presenter", "problem_fields", "content_elements", "attended",
                  "satisfaction"]


class EventViewSet(MetodistViewSet):
    """Events the user sees, with how many came and their mean satisfaction (over all attendance rows: the
    counts are not personal)."""

    queryset = Event.objects.select_related("organiser", "audience", "subject", "academic_year").prefetch_related(
        "content_elements", "problem_fields").annotate(
        attended=Count("attendance", filter=Q(attendance__attended=True)), satisfaction=Avg("attendance__satisfaction"))
    serializer_class = EventSerializer
    filters = [QueryFilter("kind", "kind", gettext_lazy("Форма мероприятия."), enum=tuple(EventKind.values)),
               QueryFilter("year", "academic_year__start_year", gettext_lazy("Учебный год по первому году."),
                           "integer")]


class AttendanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = EventAttendance
        fields = ["id", "event", "teacher", "attended", "satisfaction"]


class AttendanceViewSet(MetodistViewSet):
    queryset = EventAttendance.objects.all()
    serializer_class = AttendanceSerializer
    filters = [QueryFilter("event", "event_id", gettext_lazy("Номер мероприятия."), "integer")]
