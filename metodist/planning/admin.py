from django.contrib import admin

from metodist.core.admin import VisibleAdmin
from metodist.planning.models import Indicator, Recommendation, Roadmap, RoadmapAction, RoadmapEvent


class IndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 0
    fields = ("position", "goal", "statistic", "baseline", "target")
    readonly_fields = ("baseline",)
    show_change_link = True


class ActionInline(admin.TabularInline):
    model = RoadmapAction
    extra = 0
    fields = ("position", "title", "due", "status")


@admin.register(Roadmap)
class RoadmapAdmin(VisibleAdmin):
    list_display = ("title", "kind", "organisation", "academic_year", "status")
    list_filter = ("kind", "status", "academic_year")
    search_fields = ("title", "organisation__short_name", "organisation__code")
    inlines = [IndicatorInline, ActionInline]


@admin.register(Recommendation)
class RecommendationAdmin(VisibleAdmin):
    list_display = ("text", "addressee", "organisation", "status")
    list_filter = ("addressee", "status")


@admin.register(RoadmapEvent)
class RoadmapEventAdmin(VisibleAdmin):
    list_display = ("roadmap", "at", "user", "action", "status")
