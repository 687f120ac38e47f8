from django.contrib import admin

from metodist.monitoring.models import Cycle, LessonObservation


@admin.register(LessonObservation)
class LessonObservationAdmin(admin.ModelAdmin):
    list_display = ["date", "teacher", "topic", "observer"]
    list_filter = ["subject"]
    search_fields = ["teacher__full_name", "topic"]
    raw_id_fields = ["teacher", "school_class", "content_element"]


@admin.register(Cycle)
class CycleAdmin(admin.ModelAdmin):
    list_display = ["organisation", "academic_year", "started_at", "started_by"]
