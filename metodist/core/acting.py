"""The role a signed-in user is acting in.

A user may hold several roles (a methodologist of a municipality who also teaches at one of its schools).
On the pages he picks the one he is acting in; from then on `visible_to(user)` reaches only that role's
organisation subtree (see `core.access`), and the dashboard is that role's. The choice is kept in the
session; with one role there is nothing to pick. The API, which has no session, sees the union of roles.
"""

from __future__ import annotations

from metodist.core.models import Role, RoleAssignment

SESSION_KEY = "metodist_acting_role"

#: the order in which a default role is chosen: the widest view first
ROLE_ORDER = [Role.REGION_ADMIN, Role.METHODOLOGIST, Role.SCHOOL_ADMIN, Role.ASSOCIATION_HEAD, Role.TEACHER,
              Role.VIEWER]


def roles_of(user) -> list[RoleAssignment]:
    """Every role of the user, the widest first (then by organisation depth and name)."""
    if not user.is_authenticated:
        return []
    rank = {role: i for i, role in enumerate(ROLE_ORDER)}
    roles = list(RoleAssignment.objects.filter(user=user).select_related("organisation"))
    return sorted(roles, key=lambda r: (rank.get(r.role, len(rank)), r.organisation.depth,
                                        r.organisation.short_name))


def set_acting(request, role: RoleAssignment | None) -> None:
    if role is None:
        request.session.pop(SESSION_KEY, None)
    else:
        request.session[SESSION_KEY] = role.pk
    _apply(request.user, role)


def _apply(user, role: RoleAssignment | None) -> None:
    user.metodist_acting = role
    # `core.access` caches the roles it filters by on the user object: narrow them to the acting one
    user._metodist_roles = [role] if role is not None else None


class ActingRoleMiddleware:
    """Sets `request.user.metodist_acting` (a RoleAssignment or None) and `request.roles` (all of them)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        request.roles = []
        if user is not None and user.is_authenticated:
            roles = roles_of(user)
            request.roles = roles
            chosen = request.session.get(SESSION_KEY)
            role = next((r for r in roles if r.pk == chosen), None) or (roles[0] if roles else None)
            if chosen is not None and (role is None or role.pk != chosen):
                request.session.pop(SESSION_KEY, None)
            if role is not None:
                _apply(user, role)
            else:
                user.metodist_acting = None
        return self.get_response(request)
