"""The difference in differences of `monitoring.effects` on hand-made results whose effect is known by
construction, and its interval against SciPy's own Welch test."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from metodist.collection.models import ScoreStatus, TaskScore, Upload, UploadStatus, Work
from metodist.core.models import Organisation, OrganisationKind, Pupil, Subject, Teacher
from metodist.monitoring.effects import MIN_UNITS, Verdict, estimate, welch_interval
from metodist.reference.models import Assessment, ContentElement, Task


def test_welch_interval_is_scipys():
    rng = np.random.default_rng(3)
    a, b = list(rng.normal(12, 6, 7)), list(rng.normal(2, 9, 15))
    did, low, high = welch_interval(a, b)
    test = stats.ttest_ind(a, b, equal_var=False)
    ci = test.confidence_interval(0.95)
    assert did == pytest.approx(np.mean(a) - np.mean(b))
    assert (low, high) == pytest.approx((ci.low, ci.high))


#: per teacher: (points of 10 pupils on the element's task of max 2) before and after; participants gain
BEFORE = {"p1": 8, "p2": 10, "p3": 9, "p4": 7, "c1": 9, "c2": 8, "c3": 10, "c4": 7, "c5": 9, "c6": 8, "c7": 9}
GAIN = {"p1": 6, "p2": 5, "p3": 7, "p4": 6, "c1": 0, "c2": 1, "c3": -1, "c4": 0, "c5": 1, "c6": 0, "c7": -1}


@pytest.fixture
def results(db):
    subject, _c = Subject.objects.get_or_create(code="ma", defaults={"name": "Математика"})
    mun = Organisation.objects.create(kind=OrganisationKind.MUNICIPALITY, code="m1", short_name="Район")
    school = Organisation.objects.create(kind=OrganisationKind.SCHOOL, code="s1", short_name="Школа", parent=mun)
    element = ContentElement.objects.create(codifier="vpr-ma-6", subject=subject, code="3", name="Текстовые задачи")
    other = ContentElement.objects.create(codifier="vpr-ma-6", subject=subject, code="4", name="Дроби")
    teachers = {}
    for code in BEFORE:
        teachers[code] = Teacher.objects.create(school=school, full_name=f"Учитель {code}", code=code)
        teachers[code].subjects.add(subject)
    for spring in (2025, 2026):
        assessment = Assessment.objects.create(code=f"vpr-{spring}-ma-6", programme="VPR", subject=subject, grade=6,
                                               year=spring, title=f"ВПР {spring}", max_primary=3)
        task = Task.objects.create(assessment=assessment, number="1", position=1, max_score=2, level="B")
        task.content_elements.add(element)
        task2 = Task.objects.create(assessment=assessment, number="2", position=2, max_score=1, level="B")
        task2.content_elements.add(other)
        upload = Upload.objects.create(file_name="f.xlsx", checksum=str(spring), format="vpr-form",
                                       assessment=assessment, organisation=school, status=UploadStatus.IMPORTED)
        for code, teacher in teachers.items():
            points = BEFORE[code] + (GAIN[code] if spring == 2026 else 0)
            for i in range(10):  # 10 pupils; `points` of the 20 possible spread over them
                pupil = Pupil.objects.create(pseudonym=f"{spring}-{code}-{i}", school=school)
                work = Work.objects.create(assessment=assessment, pupil=pupil, school=school, upload=upload,
                                           teacher=teacher, primary_score=0, mark=3, participant_code=str(i))
                score = 2 if i < points // 2 else (1 if i == points // 2 and points % 2 else 0)
                TaskScore.objects.create(work=work, task=task, score=score, status=ScoreStatus.SCORED)
                TaskScore.objects.create(work=work, task=task2, score=1, status=ScoreStatus.SCORED)
    return {"teachers": teachers, "element": element, "other": other, "subject": subject}


def _ids(results, codes):
    return {results["teachers"][c].pk for c in codes}


def test_the_known_effect_is_found_with_the_hand_computed_difference(results):
    participants = ["p1", "p2", "p3", "p4"]
    effect = estimate(_ids(results, participants), [results["element"]], 2024, subject=results["subject"])
    # solve rate in % = points / 20 pupils·max; the change of each teacher is GAIN / 20 · 100
    mine = [GAIN[c] * 5 for c in participants]
    others = [GAIN[c] * 5 for c in ("c1", "c2", "c3", "c4", "c5", "c6", "c7")]
    assert effect.did == pytest.approx(np.mean(mine) - np.mean(others))
    assert effect.verdict == Verdict.HELPED and effect.low > 0
    assert len(effect.participants) == 4 and len(effect.comparison) == 7
    assert effect.baseline_year == 2024 and effect.follow_up_year == 2025
    assert "помогло" == effect.verdict_text


def test_no_effect_is_not_claimed(results):
    helped = _ids(results, ["p1", "p2", "p3", "p4"])
    effect = estimate(_ids(results, ["c1", "c2", "c3"]), [results["element"]], 2024, subject=results["subject"],
                      excluded_ids=helped)
    assert {u.teacher_id for u in effect.comparison} == _ids(results, ["c4", "c5", "c6", "c7"])
    assert effect.verdict == Verdict.NO_EFFECT and effect.low <= 0 <= effect.high
    # nor on an element the help did not touch (nobody's results moved on it)
    untouched = estimate(_ids(results, ["p1", "p2", "p3", "p4"]), [results["other"]], 2024)
    assert untouched.verdict != Verdict.HELPED


def test_too_few_teachers_is_said_so(results):
    few = ["p1", "p2"][: MIN_UNITS - 1]
    effect = estimate(_ids(results, few), [results["element"]], 2024)
    assert effect.verdict == Verdict.INSUFFICIENT and effect.did is None
    assert "недостаточно" in effect.verdict_text
    # a year with no follow-up results: nobody has both years
    waiting = estimate(_ids(results, ["p1", "p2", "p3"]), [results["element"]], 2025)
    assert waiting.verdict == Verdict.INSUFFICIENT and waiting.pending
    assert "весны 2027" in waiting.explanation() and "ещё нет" in waiting.explanation()
    assert not effect.pending


def test_teachers_who_got_other_help_on_the_element_are_not_the_comparison(results):
    participants = ["p1", "p2", "p3"]
    effect = estimate(_ids(results, participants), [results["element"]], 2024,
                      excluded_ids=_ids(results, ["p4", "c1"]))
    assert {u.teacher_id for u in effect.comparison} == _ids(results, ["c2", "c3", "c4", "c5", "c6", "c7"])
