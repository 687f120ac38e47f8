from django.contrib import admin

from metodist.assistance.models import (
    AssistanceRequest,
    Course,
    CourseModule,
    CourseSurvey,
    DevelopmentRoute,
    Enrolment,
    Event,
    EventAttendance,
    MentorSchool,
    Mentorship,
    RouteItem,
)
from metodist.core.admin import VisibleAdmin


class ModuleInline(admin.TabularInline):
    model = CourseModule
    extra = 0


class EnrolmentInline(admin.TabularInline):
    model = Enrolment
    extra = 0
    raw_id_fields = ("teacher",)


class CourseSurveyInline(admin.TabularInline):
    model = CourseSurvey
    extra = 0


@admin.register(Course)
class CourseAdmin(VisibleAdmin):
    list_display = ("title", "provider", "academic_year", "hours", "format", "subject")
    list_filter = ("academic_year", "format", "subject")
    search_fields = ("title",)
    filter_horizontal = ("content_elements",)
    inlines = [ModuleInline, EnrolmentInline, CourseSurveyInline]


class AttendanceInline(admin.TabularInline):
    model = EventAttendance
    extra = 0
    raw_id_fields = ("teacher",)


@admin.register(Event)
class EventAdmin(VisibleAdmin):
    list_display = ("title", "kind", "organiser", "date", "subject")
    list_filter = ("kind", "academic_year", "subject")
    search_fields = ("title", "topic")
    raw_id_fields = ("presenter", "problem_fields")
    inlines = [AttendanceInline]


@admin.register(AssistanceRequest)
class RequestAdmin(VisibleAdmin):
    list_display = ("teacher", "competence_area", "subject", "status", "created_at")
    list_filter = ("status", "competence_area", "subject")
    raw_id_fields = ("teacher",)


class ItemInline(admin.TabularInline):
    model = RouteItem
    extra = 0
    fields = ("position", "kind", "title", "due", "status")


@admin.register(DevelopmentRoute)
class RouteAdmin(VisibleAdmin):
    list_display = ("title", "teacher", "academic_year", "status")
    list_filter = ("status", "academic_year")
    raw_id_fields = ("teacher",)
    inlines = [ItemInline]


@admin.register(Mentorship)
class MentorshipAdmin(VisibleAdmin):
    list_display = ("mentor", "mentee", "academic_year", "status")
    list_filter = ("status", "academic_year")
    raw_id_fields = ("mentor", "mentee")


@admin.register(MentorSchool)
class MentorSchoolAdmin(VisibleAdmin):
    list_display = ("mentor_school", "school", "academic_year", "status")
    list_filter = ("status", "academic_year")
