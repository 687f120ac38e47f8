from django.contrib import admin

from metodist.core.admin import VisibleAdmin
from metodist.practices.models import CommunitySession, Practice, PracticeEvidence


class EvidenceInline(admin.TabularInline):
    model = PracticeEvidence
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in PracticeEvidence._meta.fields if f.name != "id"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Practice)
class PracticeAdmin(VisibleAdmin):
    list_display = ("title", "school", "subject", "status", "started_year")
    list_filter = ("status", "subject")
    search_fields = ("title", "summary")
    filter_horizontal = ("authors", "content_elements", "skills")
    inlines = [EvidenceInline]


@admin.register(CommunitySession)
class SessionAdmin(VisibleAdmin):
    list_display = ("date", "topic", "association", "club", "format")
    list_filter = ("format",)
    search_fields = ("topic",)
    filter_horizontal = ("participants", "content_elements", "practices")
    raw_id_fields = ("problem_fields",)
