"""The API's base: one viewset class that every API list and detail goes through, so the access rule lives
in one place (as NetBox's `BaseViewSet` calls `restrict()`): the queryset is `visible_to(request.user)`,
an object the user may not see is a 404 like one that does not exist, and a signed-in user without any
role gets 403. Plus the organisations and teachers of the tree.

Filters are declared as data (`filters = [QueryFilter(...)]`); one filter backend applies them and
describes them to the OpenAPI schema.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import permissions, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend

from metodist.core.access import VisibleQuerySet, _roles_of
from metodist.core.models import Organisation, OrganisationKind, Teacher

# --- access ------------------------------------------------------------------------------------------


def has_role(user) -> bool:
    """A superuser, or a user with at least one role: who may use the API at all."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return bool(user.is_superuser or _roles_of(user))


def role_names(user) -> set[str]:
    return {role.role for role in _roles_of(user)}


class HasRole(permissions.BasePermission):
    """Signed in and holding a role (or a superuser); otherwise 403 (401 for an anonymous request)."""

    message = gettext_lazy("У вас нет ни одной роли в Методисте. Обратитесь к администратору.")

    def has_permission(self, request, view) -> bool:
        return has_role(request.user)


class HasAnyRoleOf(HasRole):
    """Only the named roles (or a superuser) may; for a view's writing actions."""

    message = gettext_lazy("Вашей роли это действие недоступно.")

    def __init__(self, roles: set[str]):
        self.roles = roles

    def has_permission(self, request, view) -> bool:
        user = request.user
        return has_role(user) and (user.is_superuser or bool(role_names(user) & self.roles))


# --- filters as data ---------------------------------------------------------------------------------


def _boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "да"):
        return True
    if lowered in ("0", "false", "no", "нет"):
        return False
    raise ValueError(value)


@dataclass(frozen=True)
class QueryFilter:
    """A query parameter of a list: `?name=value` filters by `lookup=value`, or calls `method(qs, value)`."""

    name: str
    lookup: str | None = None
    description: str = ""
    type: str = "string"  # string | integer | boolean
    method: Callable | None = None
    enum: tuple | None = None

    def apply(self, queryset, raw: str):
        try:
            value = {"integer": int, "boolean": _boolean}.get(self.type, str)(raw)
        except ValueError:
            raise ValidationError({self.name: _("Недопустимое значение «{value}».").format(value=raw)}) from None
        if self.method is not None:
            return self.method(queryset, value)
        return queryset.filter(**{self.lookup: value})

    def parameter(self) -> dict:
        """The OpenAPI 3 description of the query parameter."""
        schema = {"type": self.type}
        if self.enum:
            schema["enum"] = list(self.enum)
        return {"name": self.name, "in": "query", "required": False, "description": str(self.description),
                "schema": schema}


class QueryFilterBackend(BaseFilterBackend):
    """Applies a view's `filters` on list requests and lists them in the schema."""

    def filter_queryset(self, request, queryset, view):
        if getattr(view, "action", None) != "list":
            return queryset
        for spec in getattr(view, "filters", ()):
            raw = request.query_params.get(spec.name)
            if raw not in (None, ""):
                queryset = spec.apply(queryset, raw)
        return queryset

    def get_schema_operation_parameters(self, view):
        return [spec.parameter() for spec in getattr(view, "filters", ())]


def subtree_of(lookup: str) -> Callable:
    """A filter by an organisation code that keeps rows of that organisation and everything under it."""

    def method(queryset, code: str):
        path = Organisation.objects.filter(code=code).values_list("path", flat=True).first()
        if path is None:
            return queryset.none()
        return queryset.filter(**{f"{lookup}__startswith": path})

    return method


# --- the base viewset --------------------------------------------------------------------------------


class MetodistViewSet(viewsets.ReadOnlyModelViewSet):
    """Every API list and detail: `queryset` is narrowed by `visible_to(request.user)`, so an object out
    of the user's subtree is 404 by id exactly like a missing one. Reference data that every role may read
    (specifications) sets `public = True`: still only for users with a role."""

    permission_classes = [HasRole]
    filter_backends = [QueryFilterBackend]
    filters: list[QueryFilter] = []
    #: reference data: readable by every user with a role, not narrowed by organisation
    public = False

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.public:
            return queryset
        if not isinstance(queryset, VisibleQuerySet):
            raise ImproperlyConfigured(f"{type(self).__name__}: {queryset.model.__name__} has no visible_to()")
        return queryset.visible_to(self.request.user)


# --- organisations and teachers ----------------------------------------------------------------------


class OrganisationSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Organisation
        fields = ["id", "code", "kind", "short_name", "full_name", "parent", "depth", "school_type", "social_index",
                  "is_rural", "has_growth_point"]


class OrganisationViewSet(MetodistViewSet):
    """Organisations of the user's subtree, by code: `/api/organisations/edu223017/`."""

    queryset = Organisation.objects.select_related("parent")
    serializer_class = OrganisationSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    filters = [
        QueryFilter("kind", "kind", gettext_lazy("Вид организации."), enum=tuple(OrganisationKind.values)),
        QueryFilter("parent", "parent__code", gettext_lazy("Код организации, в которую входят (прямые подчинённые).")),
        QueryFilter("within", description=gettext_lazy("Код организации: она и всё, что в неё входит."),
                    method=subtree_of("path")),
    ]


class TeacherSerializer(serializers.ModelSerializer):
    school = serializers.SlugRelatedField(slug_field="code", read_only=True)
    subjects = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Teacher
        fields = ["id", "full_name", "code", "school", "subjects", "qualification_category"]


class TeacherViewSet(MetodistViewSet):
    """Teachers the user may see: a methodologist his municipality's, a school its own, a teacher himself."""

    queryset = Teacher.objects.select_related("school").prefetch_related("subjects")
    serializer_class = TeacherSerializer
    filters = [
        QueryFilter("school", "school__code", gettext_lazy("Код школы.")),
        QueryFilter("within", description=gettext_lazy("Код организации: учителя её школ."),
                    method=subtree_of("school__path")),
    ]
