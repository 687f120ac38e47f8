from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from metodist.core import models


class VisibleAdmin(admin.ModelAdmin):
    """Admin lists go through the same access chokepoint as pages and the API."""

    def get_queryset(self, request):
        return self.model.objects.visible_to(request.user)


@admin.register(models.Organisation)
class OrganisationAdmin(VisibleAdmin):
    list_display = ["short_name", "code", "kind", "parent", "social_index", "is_rural", "has_growth_point"]
    list_filter = ["kind", "school_type", "is_rural", "has_growth_point"]
    search_fields = ["code", "short_name", "full_name"]
    readonly_fields = ["path", "depth"]
    autocomplete_fields = ["parent"]


@admin.register(models.Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(models.AcademicYear)
class AcademicYearAdmin(admin.ModelAdmin):
    list_display = ["__str__", "start_year"]


class AssignmentInline(admin.TabularInline):
    model = models.TeachingAssignment
    extra = 0
    autocomplete_fields = ["school_class"]


@admin.register(models.Teacher)
class TeacherAdmin(VisibleAdmin):
    list_display = ["full_name", "school", "qualification_category", "experience_years"]
    list_filter = ["qualification_category", "subjects"]
    search_fields = ["full_name", "code", "school__short_name"]
    autocomplete_fields = ["school", "user"]
    filter_horizontal = ["subjects"]
    inlines = [AssignmentInline]


@admin.register(models.Pupil)
class PupilAdmin(VisibleAdmin):
    list_display = ["pseudonym", "school", "gender"]
    search_fields = ["pseudonym"]
    readonly_fields = ["pseudonym"]
    autocomplete_fields = ["school"]


@admin.register(models.SchoolClass)
class SchoolClassAdmin(VisibleAdmin):
    list_display = ["__str__", "school", "academic_year", "grade", "letter"]
    list_filter = ["academic_year", "grade"]
    search_fields = ["school__short_name", "letter"]
    autocomplete_fields = ["school"]


@admin.register(models.TeachingAssignment)
class TeachingAssignmentAdmin(VisibleAdmin):
    list_display = ["teacher", "school_class", "subject"]
    list_filter = ["subject"]
    autocomplete_fields = ["teacher", "school_class"]


@admin.register(models.MethodAssociation)
class MethodAssociationAdmin(VisibleAdmin):
    list_display = ["name", "scope", "organisation", "head"]
    list_filter = ["scope", "subjects"]
    search_fields = ["name"]
    filter_horizontal = ["subjects", "members"]
    autocomplete_fields = ["organisation", "head"]


@admin.register(models.SubjectClub)
class SubjectClubAdmin(VisibleAdmin):
    list_display = ["name", "organisation", "subject", "head"]
    filter_horizontal = ["members"]
    autocomplete_fields = ["organisation", "head"]


@admin.register(models.RoleAssignment)
class RoleAssignmentAdmin(VisibleAdmin):
    list_display = ["user", "role", "organisation"]
    list_filter = ["role"]
    autocomplete_fields = ["organisation", "user"]


@admin.register(models.AuditEntry)
class AuditEntryAdmin(VisibleAdmin):
    list_display = ["at", "user", "action", "object_type", "object_id", "organisation"]
    list_filter = ["action", "object_type"]
    readonly_fields = [f.name for f in models.AuditEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


admin.site.site_header = _("Методист: администрирование")
admin.site.site_title = _("Методист")
admin.site.index_title = _("Данные и справочники")
