"""Teacher deficits: the rules on hand-made tables, and the planted teacher × element deficits of the demo."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import transaction

from metodist.analysis import deficits as d

SEED = 11
SCALE = 8


def _score(teacher, school, topic, score, element=None, area="subject", when=dt.date(2024, 10, 1)):
    return d.TopicScore(teacher, school, 1, topic, element, area, score, 4.0, "Диагностика", when)


def test_weak_topics_use_the_latest_diagnostic_and_the_half_threshold():
    scores = [_score(1, 10, "Геометрия", 1, 6), _score(1, 10, "Геометрия", 3, 6, when=dt.date(2025, 3, 1)),
              _score(2, 10, "Геометрия", 1.9, 6), _score(3, 10, "Геометрия", 2, 6)]
    weak = d.weak_topics(scores)
    assert [(w.teacher_id, w.score) for w in weak] == [(2, 1.9)]  # 2 of 4 is not below half


def test_class_rates_and_the_specific_gap_by_hand():
    # teacher 7, assessment 100: task 1 (element 5, max 2) and task 2 (no element, max 2), 10 works each
    teacher_rows = [(7, 1, 4, 10), (7, 2, 16, 10)]
    region_rows = [(1, 120, 100), (2, 160, 100)]
    out = d.class_rates(teacher_rows, region_rows, {1: {5}}, {1: (100, "1", 2), 2: (100, "2", 2)})
    [ev] = out[(7, 5)]
    assert ev.rate == pytest.approx(20.0) and ev.region_rate == pytest.approx(60.0)
    assert ev.gap == pytest.approx(-40.0)
    # whole work: 20/40 = 50 % against 280/400 = 70 %: the element's own gap is −40 − (−20) = −20
    assert ev.specific_gap == pytest.approx(-20.0)
    found = d.PersonalDeficit(_score(7, 1, "Тема", 1, 5), [ev])
    assert found.confirmed and found.severity == pytest.approx(0.75 + 0.20)


def test_corporate_needs_most_of_at_least_three_teachers():
    scores = [_score(t, 10, "Дроби", s, 3) for t, s in [(1, 1), (2, 1), (3, 3), (4, 0)]]
    scores += [_score(t, 11, "Дроби", s, 3) for t, s in [(5, 1), (6, 3), (7, 4)]]
    found = {(c["organisation"], c["weak"], c["teachers"]) for c in d.corporate(scores, {10: 1, 11: 1})}
    # school 10: 3 of 4 weak; school 11: 1 of 3; municipality 1: 4 of 7 > half
    assert found == {(10, 3, 4), (1, 4, 7)}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    from metodist.demo.build import build_demo

    data_dir = tmp_path_factory.mktemp("demo")
    with django_db_blocker.unblock(), transaction.atomic():
        build_demo(seed=SEED, echo=lambda _m: None, scale=SCALE, data_dir=data_dir)
        truth = json.loads((data_dir / "demo" / "truth.json").read_text(encoding="utf-8"))
        yield truth
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_planted_deficits_are_found_with_both_kinds_of_evidence(demo):
    from metodist.analysis.engine import connect
    from metodist.analysis.models import DeficitProfile
    from metodist.analysis.runs import default_scope, start_run
    from metodist.core.models import AcademicYear

    run = start_run(AcademicYear.objects.get(start_year=2024), default_scope())
    summary = d.store(run, connect())
    personal = DeficitProfile.objects.filter(run=run, scope="personal", content_element__isnull=False)
    confirmed = {
        (p.teacher.code, p.content_element.codifier, p.content_element.code): p
        for p in personal.select_related("teacher", "content_element") if p.evidence["confirmed_by_results"]
    }
    planted = {(t["teacher"], t["codifier"], t["element"]) for t in demo["teacher_deficits"]}
    assert len(planted) >= 4
    hits = planted & set(confirmed)
    recall = len(hits) / len(planted)
    precision = len(hits) / len(confirmed)
    print(f"recall {recall:.2f}, precision {precision:.2f} ({len(hits)} of {len(confirmed)} confirmed)")
    assert recall >= 0.9
    assert precision >= 0.8
    for key in hits:
        ev = confirmed[key].evidence
        assert ev["diagnostic"]["share_pct"] < 50
        assert ev["classes"] and all(c["class_rate_pct"] < c["region_rate_pct"] for c in ev["classes"])
        assert ev["specific_gap"] <= -15
    # the planted teachers' attestation names the topic
    assert any(confirmed[k].evidence["attestation"] for k in hits)
    assert summary["personal_confirmed"] == len(confirmed)
    olympiad = summary["olympiad"]
    assert 0 < olympiad["participants"] < olympiad["enrolment"]


@pytest.mark.django_db
def test_olympiad_table_counts_distinct_pupils(demo):
    from metodist.collection.models import OlympiadResult
    from metodist.core.models import AcademicYear

    year = AcademicYear.objects.get(start_year=2024)
    table = d.olympiad_table(year)
    row = next(r for r in table if r["school"] == "edu900001" and r["subject"] == "ma")
    results = OlympiadResult.objects.filter(academic_year=year, school__code="edu900001", subject__code="ma")
    assert row["participants"] == results.values("pupil").distinct().count()
    assert row["winners"] == results.filter(status="winner").values("pupil").distinct().count()
    assert row["stages"]["school"] <= row["participants"] <= row["enrolment"]
