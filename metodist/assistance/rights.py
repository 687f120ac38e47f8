"""Who may do what in stage 5, beyond seeing (`visible_to` decides that): the roles a user holds over an
organisation (a role reaches its subtree), checked against the sets below. The acting role, when the user
picked one, is the only one that counts, as for seeing."""

from __future__ import annotations

from metodist.core.access import _roles_of
from metodist.core.models import Organisation, Role

#: run the catalogue: courses (their modules, questionnaires) and answers to requests
METHOD_SERVICE = {Role.METHODOLOGIST, Role.REGION_ADMIN}
#: enrol teachers, organise events, record attendance, pair mentors
ORGANISERS = {Role.METHODOLOGIST, Role.REGION_ADMIN, Role.SCHOOL_ADMIN, Role.ASSOCIATION_HEAD}
#: draw up and edit a teacher's route
ROUTE_EDITORS = {Role.METHODOLOGIST, Role.REGION_ADMIN, Role.SCHOOL_ADMIN, Role.ASSOCIATION_HEAD}
#: approve a route: the school's head or the method service
ROUTE_APPROVERS = {Role.METHODOLOGIST, Role.REGION_ADMIN, Role.SCHOOL_ADMIN}


def roles_over(user, organisation: Organisation | None) -> set[str]:
    """The user's roles whose organisation holds `organisation` (every role of a superuser)."""
    if user.is_superuser:
        return {r.value for r in Role}
    if organisation is None:
        return set()
    return {r.role for r in _roles_of(user) if organisation.path.startswith(r.organisation.path)}


def role_names(user) -> set[str]:
    if user.is_superuser:
        return {r.value for r in Role}
    return {r.role for r in _roles_of(user)}


def has_any(user, roles: set[str]) -> bool:
    return bool(role_names(user) & roles)


def may(user, roles: set[str], organisation: Organisation | None) -> bool:
    return bool(roles_over(user, organisation) & roles)


def teacher_of(user):
    """The Teacher the user is, when he acts as a teacher; else None."""
    if user.is_superuser:
        return None
    if Role.TEACHER not in role_names(user):
        return None
    return getattr(user, "teacher", None)


def may_edit_course(user, course) -> bool:
    return may(user, METHOD_SERVICE, course.provider) or may(user, METHOD_SERVICE, course.audience)


def may_enrol(user, course) -> bool:
    """An organiser enrols the teachers he sees (the form offers only those)."""
    return has_any(user, ORGANISERS)


def may_edit_event(user, event) -> bool:
    return may(user, ORGANISERS, event.organiser) or may(user, METHOD_SERVICE, event.audience)


def may_answer(user, request_item) -> bool:
    return may(user, METHOD_SERVICE, request_item.teacher.school)


def may_edit_route(user, route) -> bool:
    return may(user, ROUTE_EDITORS, route.teacher.school)


def may_approve_route(user, route) -> bool:
    return may(user, ROUTE_APPROVERS, route.teacher.school)


def may_report_item(user, route) -> bool:
    """The teacher marks the items of his own approved route done; editors mark any."""
    if may_edit_route(user, route):
        return True
    teacher = teacher_of(user)
    return teacher is not None and teacher.pk == route.teacher_id


def may_edit_mentorship(user, mentorship) -> bool:
    return may(user, ORGANISERS, mentorship.mentee.school)


def may_edit_pairing(user, pairing) -> bool:
    return may(user, {Role.METHODOLOGIST, Role.REGION_ADMIN}, pairing.school) or \
        may(user, {Role.SCHOOL_ADMIN}, pairing.mentor_school)
