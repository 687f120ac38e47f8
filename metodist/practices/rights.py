"""Who may do what in stage 3, beyond seeing (`visible_to` decides that)."""

from __future__ import annotations

from metodist.assistance.rights import ORGANISERS, has_any, may, teacher_of
from metodist.core.models import Role

#: publish a practice to the region's library, after checking it: the method service
PUBLISHERS = {Role.METHODOLOGIST, Role.REGION_ADMIN}
#: describe a practice of a school (a teacher describes his own)
EDITORS = {Role.METHODOLOGIST, Role.REGION_ADMIN, Role.SCHOOL_ADMIN, Role.ASSOCIATION_HEAD}


def may_add_practice(user) -> bool:
    return has_any(user, EDITORS) or teacher_of(user) is not None


def may_edit_practice(user, practice) -> bool:
    if may(user, EDITORS, practice.school):
        return True
    teacher = teacher_of(user)
    return teacher is not None and practice.status == "draft" and practice.authors.filter(pk=teacher.pk).exists()


def may_publish(user, practice) -> bool:
    return may(user, PUBLISHERS, practice.school)


def may_record_session(user, community) -> bool:
    """The community's head, or an organiser over its organisation."""
    teacher = getattr(user, "teacher", None)
    if teacher is not None and community.head_id == teacher.pk and has_any(user, {Role.ASSOCIATION_HEAD,
                                                                                    Role.TEACHER}):
        return True
    return may(user, ORGANISERS, community.organisation)
