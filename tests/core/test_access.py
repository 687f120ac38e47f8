"""The access matrix: users (role × organisation) in rows, objects in columns, visible True/False in cells.

Every cell is checked twice: the object is (or is not) in `visible_to(user)`, and reaching it by id
through `visible_to(user).filter(pk=...)` gives it (or nothing)."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from metodist.collection.models import (
    DeficitScope,
    DeficitSource,
    OlympiadResult,
    OlympiadStage,
    OlympiadStatus,
    ProfessionalDeficit,
    TaskScore,
    TeacherDiagnostic,
    Upload,
    UploadStatus,
    Work,
)
from metodist.core.models import (
    AcademicYear,
    Organisation,
    Pupil,
    RoleAssignment,
    SchoolClass,
    Subject,
    Teacher,
    TeachingAssignment,
    pseudonym,
)
from metodist.reference.models import Assessment, Task

# Objects of the protected models sit in four places: "A" — school11, belonging to teacher t11;
# "a" — school11, belonging to his colleague t11b; "B" — school12 (same municipality); "C" — school21
# (the other municipality). Models that know no teacher (Upload, OlympiadResult) have the same four.
PLACES = ("A", "a", "B", "C")
TEACHER_MODELS = ("Teacher", "SchoolClass", "Pupil", "Work", "TaskScore", "TeacherDiagnostic",
                  "ProfessionalDeficit")
ORG_MODELS = ("Upload", "OlympiadResult")
MODELS = {
    "Teacher": Teacher, "SchoolClass": SchoolClass, "Pupil": Pupil, "Work": Work, "TaskScore": TaskScore,
    "TeacherDiagnostic": TeacherDiagnostic, "ProfessionalDeficit": ProfessionalDeficit, "Upload": Upload,
    "OlympiadResult": OlympiadResult,
}
ORGS = ("region", "mun1", "school11", "school12", "mun2", "school21", "institute")

# user → (teacher models over A a B C, Upload/OlympiadResult over A a B C, organisations over ORGS)
MATRIX = {
    "region_admin@region":        ("1111", "1111", "1111111"),
    "region_admin@mun1":          ("1110", "1110", "0111000"),
    "region_admin@school11":      ("1100", "1100", "0010000"),
    "methodologist@region":       ("1111", "1111", "1111111"),
    "methodologist@mun1":         ("1110", "1110", "0111000"),
    "methodologist@school11":     ("1100", "1100", "0010000"),
    "school_admin@region":        ("1111", "1111", "1111111"),
    "school_admin@mun1":          ("1110", "1110", "0111000"),
    "school_admin@school11":      ("1100", "1100", "0010000"),
    "association_head@region":    ("1111", "1111", "1111111"),
    "association_head@mun1":      ("1110", "1110", "0111000"),
    "association_head@school11":  ("1100", "1100", "0010000"),
    "viewer@region":              ("1111", "1111", "1111111"),
    "viewer@mun1":                ("1110", "1110", "0111000"),
    "viewer@school11":            ("1100", "1100", "0010000"),
    # a teacher sees his own on the models that know their teacher, his organisation's subtree elsewhere
    "teacher@school11":           ("1000", "1100", "0010000"),  # is t11
    "teacher@mun1":               ("0010", "1110", "0111000"),  # is t12
    "teacher@region":             ("0001", "1111", "1111111"),  # is t21
    "teacher-without-record@school11": ("0000", "1100", "0010000"),
    "school_admin@school11+viewer@school21": ("1101", "1101", "0010010"),
    "methodologist@mun2":         ("0001", "0001", "0000110"),
    "no-role":                    ("0000", "0000", "0000000"),
    "inactive:viewer@region":     ("0000", "0000", "0000000"),
    "superuser":                  ("1111", "1111", "1111111"),
}
TEACHER_OF_USER = {"teacher@school11": "A", "teacher@mun1": "B", "teacher@region": "C"}


@pytest.fixture
def world(region_tree):
    tree = region_tree
    school_of = {"A": tree["school11"], "a": tree["school11"], "B": tree["school12"], "C": tree["school21"]}
    subject = Subject.objects.create(code="ma", name="Математика")
    year = AcademicYear.objects.create(start_year=2024)
    assessment = Assessment.objects.create(code="vpr-2025-ma-5", programme="VPR", subject=subject, grade=5,
                                           year=2025, title="ВПР", max_primary=2)
    task = Task.objects.create(assessment=assessment, number="1", position=1, max_score=2)
    objects: dict[tuple[str, str], object] = {}
    for place in PLACES:
        school = school_of[place]
        teacher = Teacher.objects.create(school=school, full_name=f"Учитель {place}", code=f"t-{place}")
        school_class = SchoolClass.objects.create(school=school, academic_year=year, grade=5, letter=place.upper()
                                                  if place != "a" else "Б")
        TeachingAssignment.objects.create(teacher=teacher, school_class=school_class, subject=subject)
        pupil = Pupil.objects.create(pseudonym=pseudonym("test", PLACES.index(place)), school=school)
        upload = Upload.objects.create(file_name=f"{place}.xlsx", checksum=place, format="vpr-form",
                                       assessment=assessment, organisation=school, status=UploadStatus.IMPORTED)
        work = Work.objects.create(assessment=assessment, pupil=pupil, school=school, school_class=school_class,
                                   teacher=teacher, upload=upload, participant_code=place, primary_score=1)
        score = TaskScore.objects.create(work=work, task=task, score=1)
        diagnostic = TeacherDiagnostic.objects.create(teacher=teacher, subject=subject, title="Диагностика",
                                                      taken_on=datetime.date(2025, 1, 10), score=5, max_score=10)
        deficit = ProfessionalDeficit.objects.create(
            scope=DeficitScope.PERSONAL, organisation=school, teacher=teacher, subject=subject,
            academic_year=year, topic="Дроби", source=DeficitSource.DIAGNOSTIC)
        olympiad = OlympiadResult.objects.create(
            pupil=pupil, school=school, subject=subject, academic_year=year, grade=5,
            stage=OlympiadStage.SCHOOL, status=OlympiadStatus.PARTICIPANT)
        for name, obj in (("Teacher", teacher), ("SchoolClass", school_class), ("Pupil", pupil), ("Work", work),
                          ("TaskScore", score), ("TeacherDiagnostic", diagnostic),
                          ("ProfessionalDeficit", deficit), ("Upload", upload), ("OlympiadResult", olympiad)):
            objects[(name, place)] = obj

    users = {}
    User = get_user_model()
    for label in MATRIX:
        active = not label.startswith("inactive:")
        user = User.objects.create_user(username=label.replace(":", "_"), password=None, is_active=active,
                                        is_superuser=label == "superuser")
        spec = label.split(":")[-1]
        if spec not in ("no-role", "superuser"):
            for grant in spec.split("+"):
                role, org = grant.split("@")
                role = "teacher" if role == "teacher-without-record" else role
                RoleAssignment.objects.create(user=user, role=role, organisation=tree[org])
        if label in TEACHER_OF_USER:
            teacher = objects[("Teacher", TEACHER_OF_USER[label])]
            teacher.user = user
            teacher.save()
        users[label] = user
    return {"tree": tree, "objects": objects, "users": users}


def _fresh(user):
    """The user as a request would load him, with no cached roles."""
    return get_user_model().objects.get(pk=user.pk)


@pytest.mark.parametrize("label", list(MATRIX))
def test_access_matrix(world, label):
    user = _fresh(world["users"][label])
    teacher_row, org_row, orgs_row = MATRIX[label]
    expected, actual = {}, {}
    for model_name in TEACHER_MODELS + ORG_MODELS:
        model = MODELS[model_name]
        row = teacher_row if model_name in TEACHER_MODELS else org_row
        visible = set(model.objects.visible_to(user).values_list("pk", flat=True))
        for place, cell in zip(PLACES, row, strict=True):
            obj = world["objects"][(model_name, place)]
            expected[(model_name, place)] = cell == "1"
            by_id = model.objects.visible_to(user).filter(pk=obj.pk).exists()
            assert by_id == (obj.pk in visible), (model_name, place)
            actual[(model_name, place)] = by_id
    visible_orgs = set(Organisation.objects.visible_to(user).values_list("code", flat=True))
    for code_key, cell in zip(ORGS, orgs_row, strict=True):
        org = world["tree"][code_key]
        expected[("Organisation", code_key)] = cell == "1"
        actual[("Organisation", code_key)] = Organisation.objects.visible_to(user).filter(pk=org.pk).exists()
        assert actual[("Organisation", code_key)] == (org.code in visible_orgs)
    wrong = {k: v for k, v in actual.items() if expected[k] != v}
    assert not wrong, f"{label}: cells that differ from the matrix (actual values): {wrong}"


def test_anonymous_and_none_see_nothing(world):
    for model in [*MODELS.values(), Organisation]:
        assert not model.objects.visible_to(AnonymousUser()).exists()
        assert not model.objects.visible_to(None).exists()


def test_visible_to_does_not_duplicate_rows(world):
    """Many-valued teacher lookups (a class with two teachers, a pupil with several works) must not repeat
    rows."""
    objects = world["objects"]
    school_class = objects[("SchoolClass", "A")]
    other = Teacher.objects.create(school=school_class.school, full_name="Второй учитель")
    TeachingAssignment.objects.create(teacher=other, school_class=school_class,
                                      subject=Subject.objects.get(code="ma"))
    for label in ("teacher@school11", "school_admin@school11", "superuser"):
        user = _fresh(world["users"][label])
        for model in (SchoolClass, Pupil, Work):
            rows = list(model.objects.visible_to(user).values_list("pk", flat=True))
            assert len(rows) == len(set(rows)), (label, model.__name__)


def test_role_at_institute_does_not_reach_schools(world):
    """A role at an organisation beside the schools (the institute under the region) reaches nothing of
    theirs: sideways is not down."""
    user = get_user_model().objects.create_user(username="iro")
    RoleAssignment.objects.create(user=user, role="methodologist", organisation=world["tree"]["institute"])
    user = _fresh(user)
    for model in MODELS.values():
        assert not model.objects.visible_to(user).exists(), model.__name__
    assert list(Organisation.objects.visible_to(user).values_list("code", flat=True)) == ["iro22"]


def test_moving_a_school_moves_its_visibility(world):
    """Access follows the tree: after school12 moves to the other municipality, mun1 no longer sees it."""
    tree = world["tree"]
    school = tree["school12"]
    school.parent = tree["mun2"]
    school.save()
    mun1_user = _fresh(world["users"]["methodologist@mun1"])
    mun2_user = _fresh(world["users"]["methodologist@mun2"])
    work_b = world["objects"][("Work", "B")]
    assert not Work.objects.visible_to(mun1_user).filter(pk=work_b.pk).exists()
    assert Work.objects.visible_to(mun2_user).filter(pk=work_b.pk).exists()
