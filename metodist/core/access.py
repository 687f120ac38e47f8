"""The one access mechanism: `Model.objects.visible_to(user)`.

A user's roles are bound to organisations; a role reaches its organisation's subtree (the materialised
path of the organisation is a prefix of the object's organisation path), never sideways. A teacher's
role is narrower: on models that know their teacher, he sees only what is his own.
Every protected model's queryset inherits `VisibleQuerySet` and names, in `org_path_lookup`, the path
from the model to its organisation's `path`, and in `teacher_lookup` (optional) the path to its Teacher.
"""

from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _


class VisibleQuerySet(models.QuerySet):
    #: lookup from this model to the `path` of the organisation it belongs to
    org_path_lookup: str = "organisation__path"
    #: lookup from this model to the Teacher it belongs to; None when the model is not a teacher's
    teacher_lookup: str | None = None

    def visible_to(self, user) -> VisibleQuerySet:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        condition = Q()
        granted = False
        for role in _roles_of(user):
            if role.role == "teacher" and self.teacher_lookup is not None:
                teacher = getattr(user, "teacher", None)
                if teacher is None:
                    continue
                # a subquery, so a lookup across a many-valued relation does not duplicate rows
                own = self.model._base_manager.filter(**{self.teacher_lookup: teacher.pk}).values("pk")
                condition |= Q(pk__in=own)
            else:
                condition |= Q(**{f"{self.org_path_lookup}__startswith": role.organisation.path})
            granted = True
        if not granted:
            return self.none()
        return self.filter(condition)


def _roles_of(user):
    cached = getattr(user, "_metodist_roles", None)
    if cached is None:
        cached = list(user.role_assignments.select_related("organisation"))
        user._metodist_roles = cached
    return cached


class VisibleManager(models.Manager.from_queryset(VisibleQuerySet)):
    pass


def ancestor_paths(path: str) -> list[str]:
    """The paths of an organisation and of every organisation above it: "/1/2/" → ["/1/", "/1/2/"]."""
    steps = [s for s in path.split("/") if s]
    return ["/" + "/".join(steps[: i + 1]) + "/" for i in range(len(steps))]


def role_required(view):
    """A page's door: signed in (else the sign-in page), and holding a role or a superuser (else 403 with
    a Russian message). What the role may see is then `visible_to`'s business."""

    @login_required
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_superuser and not getattr(request, "roles", None):
            raise PermissionDenied(_("У вас нет ни одной роли в Методисте."))
        return view(request, *args, **kwargs)

    return wrapped
