from django.contrib import admin

from metodist.analysis import models
from metodist.core.admin import VisibleAdmin


@admin.register(models.AnalysisRun)
class AnalysisRunAdmin(VisibleAdmin):
    list_display = ["__str__", "academic_year", "scope", "engine", "status", "started_at", "finished_at"]
    list_filter = ["status", "academic_year"]
    readonly_fields = ["data_version", "summary"]


@admin.register(models.ProblemField)
class ProblemFieldAdmin(VisibleAdmin):
    list_display = ["group_level", "organisation", "school_class", "teacher", "content_element", "skill",
                    "solve_rate", "reference", "flagged", "federal_verdict", "priority"]
    list_filter = ["group_level", "flagged", "field_kind", "federal_verdict", "agreement"]
    raw_id_fields = ["run", "organisation", "school_class", "teacher", "content_element", "skill", "assessment"]


@admin.register(models.SchoolStatus)
class SchoolStatusAdmin(VisibleAdmin):
    list_display = ["school", "kind", "run"]
    list_filter = ["kind"]
    raw_id_fields = ["run", "school"]


class SignalInline(admin.TabularInline):
    model = models.ObjectivitySignal
    extra = 0
    fields = ["source", "code", "assessment", "tripped", "value", "reason"]
    readonly_fields = fields


@admin.register(models.ObjectivityResult)
class ObjectivityResultAdmin(VisibleAdmin):
    list_display = ["rank", "school", "score", "federal_markers", "run"]
    raw_id_fields = ["run", "school"]
    inlines = [SignalInline]


@admin.register(models.DeficitProfile)
class DeficitProfileAdmin(VisibleAdmin):
    list_display = ["topic", "scope", "organisation", "teacher", "subject", "competence_area", "severity"]
    list_filter = ["scope", "competence_area", "subject"]
    raw_id_fields = ["run", "organisation", "teacher", "content_element"]
