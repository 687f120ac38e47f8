"""The demo municipality: built once per module (8 schools, every planted truth kept), through the real
importers; the tests measure in the database what truth.json says was planted."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from django.db import transaction

SEED = 11
SCALE = 8


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """Build the demo inside one transaction that is rolled back after the module's tests."""
    from metodist.demo.build import build_demo

    data_dir = tmp_path_factory.mktemp("demo")
    messages: list[str] = []
    with django_db_blocker.unblock(), transaction.atomic():
        summary = build_demo(seed=SEED, echo=messages.append, scale=SCALE, data_dir=data_dir)
        truth = json.loads((data_dir / "demo" / "truth.json").read_text(encoding="utf-8"))
        yield {"summary": summary, "truth": truth, "dir": data_dir / "demo", "messages": messages}
        transaction.set_rollback(True)


def _rate(scores) -> float:
    got = total = 0
    for score, maximum in scores.values_list("score", "task__max_score"):
        got += score
        total += maximum
    return got / total


@pytest.mark.django_db
def test_every_file_went_through_an_importer(demo):
    from metodist.collection.models import Upload, UploadStatus

    files = [p for p in (demo["dir"] / "files").rglob("*") if p.is_file()]
    uploads = Upload.objects.all()
    assert uploads.count() == len(files)
    assert set(uploads.values_list("status", flat=True)) == {UploadStatus.IMPORTED}
    assert {"registry", "teachers", "vpr-form", "exam-protocol", "diagnostics", "attestation", "survey",
            "olympiad"} == set(uploads.values_list("format", flat=True))
    assert f"imported: {len(files)}" in demo["summary"]
    assert "http://127.0.0.1:8000/admin/" in demo["summary"]


@pytest.mark.django_db
def test_the_municipality_looks_like_the_source_documents(demo):
    from metodist.core.models import MethodAssociation, Organisation, SubjectClub
    from metodist.reference.models import Assessment

    schools = Organisation.objects.filter(kind="school", parent__code="demo-m01")
    assert schools.count() == SCALE
    assert {"gymnasium", "lyceum", "secondary", "basic"} <= set(schools.values_list("school_type", flat=True))
    assert schools.filter(is_rural=True).exists() and schools.filter(has_growth_point=True).exists()
    assert Organisation.objects.filter(code="demo-iro", parent__code="demo-reg").exists()
    assert Organisation.objects.filter(kind="method_service", parent__code="demo-m01").exists()
    gmo = MethodAssociation.objects.filter(scope="municipality", organisation__code="demo-m01")
    assert gmo.count() == 3 and all(a.head is not None and a.members.count() > 3 for a in gmo)
    assert MethodAssociation.objects.filter(scope="school").count() >= 3
    club = SubjectClub.objects.get(name="Клуб «ЛИДЕР»")
    assert club.members.count() >= 6 and club.head is not None
    demo_specs = Assessment.objects.filter(source__contains="Демонстрационная спецификация")
    assert demo_specs.filter(code="vpr-2024-ma-5").exists() and demo_specs.filter(code="ege-2025-ma-11").exists()
    assert Assessment.objects.get(code="vpr-2026-ru-4").works.exists()  # the shipped 2026 work is used


@pytest.mark.django_db
def test_marks_look_like_the_published_ones(demo):
    from metodist.collection.models import Work

    marks = list(Work.objects.filter(assessment__code="vpr-2024-ru-4", absent=False).values_list("mark", flat=True))
    shares = {m: marks.count(m) / len(marks) for m in (2, 3, 4, 5)}
    assert shares[2] < 0.15 and 0.2 < shares[3] < 0.45 and 0.3 < shares[4] < 0.6 and 0.05 < shares[5] < 0.35


@pytest.mark.django_db
def test_planted_teachers_fail_their_element_and_their_diagnostic_agrees(demo):
    from metodist.collection.models import DiagnosticScore, TaskScore

    deficits = demo["truth"]["teacher_deficits"]
    assert len(deficits) >= 4
    for deficit in deficits:
        own = TaskScore.objects.none()
        rest = TaskScore.objects.none()
        for year in deficit["assessments"]:
            scores = TaskScore.objects.filter(work__assessment__code=year["assessment"],
                                              task__number__in=year["tasks"],
                                              task__content_elements__code=deficit["element"])
            mine = dict(work__teacher__code=deficit["teacher"], work__school__code=deficit["school"])
            own = own | scores.filter(**mine)
            rest = rest | scores.exclude(**mine)
        gap = _rate(rest) - _rate(own)
        assert gap > 0.18, (deficit["teacher"], deficit["element"], gap)
        topics = DiagnosticScore.objects.filter(diagnostic__teacher__code=deficit["teacher"],
                                                diagnostic__teacher__school__code=deficit["school"],
                                                competence_area="subject")
        weak = topics.get(content_element__code=deficit["element"],
                          content_element__codifier=deficit["codifier"])
        assert weak.score / weak.max_score <= 0.5
        assert weak.score <= min(t.score for t in topics)


def _vpr_mean_pct():
    from metodist.collection.models import Work

    values = defaultdict(lambda: defaultdict(list))
    for code, year, primary, maximum in Work.objects.filter(
            assessment__programme="VPR", absent=False).values_list(
            "school__code", "assessment__year", "primary_score", "assessment__max_primary"):
        values[year][code].append(primary / maximum)
    return {year: {code: sum(v) / len(v) for code, v in by_school.items()} for year, by_school in values.items()}


@pytest.mark.django_db
def test_low_result_schools_are_at_the_bottom_two_years_running(demo):
    from metodist.core.models import Organisation

    low = {s["school"] for s in demo["truth"]["low_result_schools"]}
    assert len(low) == 2
    means = _vpr_mean_pct()
    for year in (2024, 2025):
        bottom = sorted(means[year], key=means[year].get)[:2]
        assert set(bottom) == low, year
    isses = dict(Organisation.objects.filter(kind="school").values_list("code", "social_index"))
    median = sorted(isses.values())[len(isses) // 2]
    assert all(isses[code] < median for code in low)


@pytest.mark.django_db
def test_resilient_school_is_high_despite_its_social_context(demo):
    from metodist.core.models import Organisation

    code = demo["truth"]["resilient_school"]["school"]
    isses = dict(Organisation.objects.filter(kind="school").values_list("code", "social_index"))
    assert sorted(isses, key=isses.get).index(code) < len(isses) // 2
    for year, values in _vpr_mean_pct().items():
        top = sorted(values, key=values.get, reverse=True)[:2]
        assert code in top, year


@pytest.mark.django_db
def test_inflated_school_marks_are_above_its_works(demo):
    from metodist.collection.models import Work
    from metodist.reference.models import GradeScale

    code = demo["truth"]["inflated_school"]["school"]
    above = defaultdict(lambda: [0, 0])
    for school, journal, mark in Work.objects.filter(
            absent=False, journal_mark__isnull=False, mark__isnull=False).values_list(
            "school__code", "journal_mark", "mark"):
        above[school][0] += journal > mark
        above[school][1] += 1
    share = {school: a / n for school, (a, n) in above.items()}
    assert share[code] > max(v for s, v in share.items() if s != code) + 0.12
    scales = {s.assessment_id: s for s in GradeScale.objects.filter(kind="mark") if s.is_complete}
    near = defaultdict(lambda: [0, 0])
    for school, assessment, primary in Work.objects.filter(
            absent=False, assessment__programme="VPR").values_list("school__code", "assessment_id", "primary_score"):
        scale = scales.get(assessment)
        if scale is None:
            continue
        for mark in ("3", "4", "5"):
            threshold = int(scale.thresholds[mark])
            if threshold - 2 <= primary <= threshold + 1:
                near[school == code][0] += primary >= threshold
                near[school == code][1] += 1
    assert near[True][0] / near[True][1] > 0.8
    assert near[False][0] / near[False][1] < 0.65


@pytest.mark.django_db
def test_course_participants_improve_on_the_targeted_element(demo):
    from metodist.collection.models import SurveyResponse, TaskScore

    course = demo["truth"]["course"]
    assert course["participants"] and len(course["comparison"]) == len(course["participants"])

    def change(group):
        rates = []
        for code in (course["pre_assessment"], course["post_assessment"]):
            scores = TaskScore.objects.filter(work__assessment__code=code, task__number__in=course["tasks"],
                                              task__content_elements__code=course["element"])
            own = TaskScore.objects.none()
            for member in group:
                own = own | scores.filter(work__teacher__code=member["teacher"], work__school__code=member["school"])
            rates.append(_rate(own))
        return rates[1] - rates[0]

    did = change(course["participants"]) - change(course["comparison"])
    assert did > 0.08, did
    assert abs(did - course["difference_in_differences"]) < 0.002  # truth.json rounds to 3 digits
    for stage in ("pre_course", "final"):
        answered = set(SurveyResponse.objects.filter(survey__stage=stage, survey__title=course["title"])
                       .values_list("teacher__code", flat=True))
        assert answered == {p["teacher"] for p in course["participants"]}


def _pupil_identities(folder: Path) -> set[tuple[str, ...]]:
    from python_calamine import CalamineWorkbook

    found = set()
    for path in list((folder / "files" / "exams").glob("*.xlsx")) + list((folder / "files").glob("olympiad-*.xlsx")):
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        at = None
        for row in rows:
            cells = [str(c) for c in row]
            if "Фамилия" in cells:
                at = cells.index("Фамилия")
                continue
            if at is not None and len(cells) > at + 3 and cells[at] and "." in cells[at + 3]:
                found.add((cells[at], cells[at + 1], cells[at + 2], cells[at + 3]))
    return found


@pytest.mark.django_db
def test_no_pupil_name_or_birth_date_is_stored(demo):
    from django.apps import apps
    from django.db import models

    from metodist.collection.models import TaskScore
    from metodist.core.models import Teacher

    pupils = _pupil_identities(demo["dir"])
    assert len(pupils) > 500
    teachers = set(Teacher.objects.values_list("full_name", flat=True))
    chunks = []
    for model in apps.get_models():
        if model is TaskScore:
            continue
        fields = [f.name for f in model._meta.concrete_fields
                  if isinstance(f, models.CharField | models.TextField | models.JSONField)]
        if fields:
            chunks += [" ".join(map(str, row)) for row in model.objects.values_list(*fields)]
    dump = "\n".join(chunks)
    leaked = [p for p in pupils if " ".join(p[:3]) not in teachers and " ".join(p[:3]) in dump]
    assert not leaked[:5]
    births = {p[3] for p in pupils}
    iso = {"-".join(reversed(b.split("."))) for b in births}
    assert not [b for b in births | iso if b in dump][:5]


@pytest.mark.django_db
def test_a_user_for_every_role(demo):
    from django.contrib.auth.models import User

    from metodist.core.models import Role, RoleAssignment, Teacher

    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("demo-admin")
    for role in Role.values:
        assignment = RoleAssignment.objects.select_related("user").get(role=role)
        assert assignment.user.check_password(f"demo-{role}") and assignment.user.is_staff
    teacher = Teacher.objects.get(user__username="teacher")
    planted = demo["truth"]["teacher_deficits"][0]
    assert (teacher.school.code, teacher.code) == (planted["school"], planted["teacher"])
    assert Teacher.objects.filter(user__username="association_head").exists()
    assert "demo-methodologist" in demo["summary"]


@pytest.mark.django_db
def test_running_it_again_changes_nothing(demo):
    from metodist.collection.models import TaskScore, Upload, Work
    from metodist.core.models import Pupil, Teacher
    from metodist.demo.build import build_demo

    before = (Work.objects.count(), TaskScore.objects.count(), Pupil.objects.count(), Teacher.objects.count(),
              Upload.objects.count())
    summary = build_demo(seed=SEED, echo=lambda *_: None, scale=SCALE, data_dir=demo["dir"].parent)
    assert "unchanged" in summary and "imported" not in summary
    after = (Work.objects.count(), TaskScore.objects.count(), Pupil.objects.count(), Teacher.objects.count(),
             Upload.objects.count())
    assert after == before
    truth = json.loads((demo["dir"] / "truth.json").read_text(encoding="utf-8"))
    assert truth == demo["truth"]
