from django.contrib import admin

from metodist.reference import models


class TaskInline(admin.TabularInline):
    model = models.Task
    extra = 0
    fields = ["position", "number", "max_score", "task_type", "level", "description"]
    show_change_link = True


class ScaleInline(admin.TabularInline):
    model = models.GradeScale
    extra = 0


@admin.register(models.Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "programme", "subject", "grade", "year", "max_primary", "partial"]
    list_filter = ["programme", "year", "grade", "subject", "partial"]
    search_fields = ["code", "title"]
    inlines = [TaskInline, ScaleInline]


@admin.register(models.Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["assessment", "number", "max_score", "task_type", "level"]
    list_filter = ["assessment__programme", "level", "task_type"]
    search_fields = ["assessment__code", "number", "description"]
    filter_horizontal = ["content_elements", "skills"]


@admin.register(models.ContentElement)
class ContentElementAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "codifier", "subject"]
    list_filter = ["codifier", "subject"]
    search_fields = ["code", "name"]


@admin.register(models.Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "codifier", "subject"]
    list_filter = ["codifier", "subject"]
    search_fields = ["code", "name"]


@admin.register(models.GradeScale)
class GradeScaleAdmin(admin.ModelAdmin):
    list_display = ["assessment", "kind", "thresholds"]


@admin.register(models.PublishedResult)
class PublishedResultAdmin(admin.ModelAdmin):
    list_display = ["assessment", "level", "group_name", "organisation_code", "schools_count", "participants",
                    "report_date", "source_file"]
    list_filter = ["level", "assessment__programme", "assessment__year"]
    search_fields = ["assessment__code", "group_name", "organisation_code"]
    raw_id_fields = ["organisation", "upload"]
    readonly_fields = ["key", "updated_at"]
