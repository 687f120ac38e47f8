from django.contrib import admin

from metodist.collection import models
from metodist.core.admin import VisibleAdmin


@admin.register(models.Upload)
class UploadAdmin(VisibleAdmin):
    list_display = ["file_name", "format", "assessment", "organisation", "status", "uploaded_by", "created_at"]
    list_filter = ["status", "format"]
    search_fields = ["file_name", "checksum"]
    readonly_fields = ["checksum", "size", "created_at", "finished_at", "counts", "errors", "replaces"]


class TaskScoreInline(admin.TabularInline):
    model = models.TaskScore
    extra = 0
    fields = ["task", "score", "status"]
    readonly_fields = ["task"]


@admin.register(models.Work)
class WorkAdmin(VisibleAdmin):
    list_display = ["assessment", "participant_code", "school", "school_class", "teacher", "variant",
                    "primary_score", "mark", "journal_mark", "absent"]
    list_filter = ["assessment", "absent", "mark"]
    search_fields = ["participant_code", "school__short_name", "school__code"]
    raw_id_fields = ["pupil", "school_class", "teacher", "upload", "school"]
    inlines = [TaskScoreInline]
    list_select_related = ["assessment", "school", "school_class", "teacher"]


@admin.register(models.TaskScore)
class TaskScoreAdmin(VisibleAdmin):
    list_display = ["work", "task", "score", "status"]
    list_filter = ["status"]
    raw_id_fields = ["work", "task"]


class DiagnosticScoreInline(admin.TabularInline):
    model = models.DiagnosticScore
    extra = 0
    raw_id_fields = ["content_element"]


@admin.register(models.TeacherDiagnostic)
class TeacherDiagnosticAdmin(VisibleAdmin):
    list_display = ["teacher", "subject", "title", "taken_on", "score", "max_score"]
    list_filter = ["subject", "taken_on"]
    search_fields = ["teacher__full_name", "title"]
    raw_id_fields = ["teacher", "upload"]
    inlines = [DiagnosticScoreInline]


@admin.register(models.DiagnosticScore)
class DiagnosticScoreAdmin(VisibleAdmin):
    list_display = ["diagnostic", "topic", "competence_area", "score", "max_score"]
    list_filter = ["competence_area"]
    raw_id_fields = ["diagnostic", "content_element"]


@admin.register(models.Survey)
class SurveyAdmin(VisibleAdmin):
    list_display = ["title", "stage", "organisation", "conducted_on"]
    list_filter = ["stage"]
    search_fields = ["title"]


@admin.register(models.SurveyResponse)
class SurveyResponseAdmin(VisibleAdmin):
    list_display = ["survey", "teacher", "respondent", "satisfaction"]
    list_filter = ["survey__stage"]
    raw_id_fields = ["survey", "teacher", "upload"]


@admin.register(models.Attestation)
class AttestationAdmin(VisibleAdmin):
    list_display = ["teacher", "held_on", "category"]
    list_filter = ["category"]
    raw_id_fields = ["teacher", "upload"]


@admin.register(models.ProfessionalDeficit)
class ProfessionalDeficitAdmin(VisibleAdmin):
    list_display = ["topic", "scope", "organisation", "teacher", "subject", "competence_area", "source"]
    list_filter = ["scope", "competence_area", "source", "subject"]
    raw_id_fields = ["teacher", "organisation", "association", "content_element"]


@admin.register(models.OlympiadResult)
class OlympiadResultAdmin(VisibleAdmin):
    list_display = ["subject", "school", "grade", "academic_year", "stage", "status", "score"]
    list_filter = ["stage", "status", "subject", "academic_year"]
    raw_id_fields = ["pupil", "school", "upload"]
