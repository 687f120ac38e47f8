"""Objectivity of a run on the demo (8 schools, every planted truth): the planted inflated school is first
in Metodist's list; the resilient school is not high in it, whatever the federal mean-score markers say."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

SEED = 11
SCALE = 8


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """Build the demo and store one run's objectivity, inside one transaction rolled back at the end."""
    from metodist.analysis.objectivity_store import store
    from metodist.analysis.runs import default_scope, finish_run, start_run
    from metodist.core.models import AcademicYear
    from metodist.demo.build import build_demo

    data_dir = tmp_path_factory.mktemp("demo")
    with django_db_blocker.unblock(), transaction.atomic():
        build_demo(seed=SEED, echo=lambda message: None, scale=SCALE, data_dir=data_dir)
        truth = json.loads((data_dir / "demo" / "truth.json").read_text(encoding="utf-8"))
        run = start_run(AcademicYear.objects.get(start_year=2025), default_scope())
        summary = store(run, "default")
        finish_run(run, {"objectivity": summary})
        yield {"truth": truth, "run": run, "summary": summary}
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_the_planted_inflated_school_is_first(demo):
    from metodist.analysis.models import ObjectivityResult

    inflated = demo["truth"]["inflated_school"]["school"]
    ranked = list(ObjectivityResult.objects.filter(run=demo["run"]).order_by("rank")
                  .values_list("school__code", "score"))
    print(ranked)
    assert ranked[0][0] == inflated
    assert ranked[0][1] > 2 * max(ranked[1][1], 1.0)


@pytest.mark.django_db
def test_the_inflated_school_trips_the_signals_that_were_planted(demo):
    from metodist.analysis.models import ObjectivitySignal

    inflated = demo["truth"]["inflated_school"]["school"]
    tripped = ObjectivitySignal.objects.filter(result__run=demo["run"], result__school__code=inflated,
                                               source="metodist", tripped=True)
    # journal marks above the work's mark on every ВПР work; scores bunched at the thresholds on most
    journal = tripped.filter(code="journal_above_work")
    assert journal.count() >= 6 and all(s.assessment.programme == "VPR" for s in journal)
    bunching = tripped.filter(code="threshold_bunching")
    assert bunching.count() >= 3
    one = bunching.first()
    assert one.numbers["share"] > one.numbers["expected_share"] + 0.2
    assert one.reason.endswith(".") and "порог" in one.reason
    # elsewhere the same signals trip no more often than chance and the smoothing's error allow
    others = ObjectivitySignal.objects.filter(
        result__run=demo["run"], source="metodist", code__in=["journal_above_work", "threshold_bunching"],
        value__isnull=False).exclude(result__school__code=inflated)
    assert others.count() >= 50
    assert others.filter(tripped=True).count() <= 0.05 * others.count()


@pytest.mark.django_db
def test_the_resilient_school_is_not_high_in_metodists_list(demo):
    from metodist.analysis.models import ObjectivityResult

    resilient = demo["truth"]["resilient_school"]["school"]
    result = ObjectivityResult.objects.get(run=demo["run"], school__code=resilient)
    print(result.federal_markers, result.score, result.rank, result.explanation)
    first = ObjectivityResult.objects.get(run=demo["run"], rank=1)
    assert result.rank > 3
    assert result.score < 0.1 * first.score
    if any(m.startswith("mean_") for m in result.federal_markers):
        assert "просто сильная" in result.explanation


@pytest.mark.django_db
def test_schools_that_only_trip_the_mean_markers_are_explained_as_strong(demo):
    from metodist.analysis.models import ObjectivityResult

    results = ObjectivityResult.objects.filter(run=demo["run"])
    first = results.get(rank=1)
    strong = [r for r in results if r.federal_markers and all(m.startswith("mean_") for m in r.federal_markers)]
    assert strong  # the gymnasium and the lyceum of the demo trip the mean-score markers
    for result in strong:
        assert result.score < 0.1 * first.score
        assert "просто сильная" in result.explanation


@pytest.mark.django_db
def test_federal_checks_and_signals_are_stored_with_their_numbers(demo):
    from metodist.analysis.models import ObjectivityResult, ObjectivitySignal

    run = demo["run"]
    assert ObjectivityResult.objects.filter(run=run).count() == SCALE
    assert demo["summary"]["schools"] == SCALE
    federal = ObjectivitySignal.objects.filter(result__run=run, source="federal")
    # the six mean-score markers, the four mark markers and the cohort markers are judged where there is data
    assert {"mean_vpr_ma_5", "mean_vpr_ru_4", "marks_vpr_ru_5", "rise_ma_4_5"} <= set(
        federal.values_list("code", flat=True))
    mean = federal.filter(code="mean_vpr_ma_5").first()
    assert {"ci_low", "region_ci_high", "n"} <= set(mean.numbers)
    assert mean.assessment.code == "vpr-2026-ma-5"
    for result in ObjectivityResult.objects.filter(run=run):
        tripped = set(result.signals.filter(source="federal", tripped=True).values_list("code", flat=True))
        assert tripped == set(result.federal_markers)


@pytest.mark.django_db
def test_the_list_json_has_the_issues_shape(demo):
    from metodist.analysis.objectivity_store import objectivity_list

    data = objectivity_list(demo["run"])
    assert len(data["schools"]) == SCALE
    first = data["schools"][0]
    assert {"code", "federal_markers", "signals", "score"} <= set(first)
    assert first["code"] == demo["truth"]["inflated_school"]["school"]
    assert all(isinstance(name, str) and name.endswith(".") for s in data["schools"] for name in s["federal_markers"])
    one = objectivity_list(demo["run"], assessment="vpr-2026-ru-5")
    assert one["schools"] and all(s["assessment"] == "vpr-2026-ru-5" for x in one["schools"] for s in x["signals"])
    json.dumps(data, ensure_ascii=False)


@pytest.mark.django_db
def test_the_command_prints_the_json(demo, capsys):
    from metodist.analysis.objectivity_cli import objectivity_command

    objectivity_command(assessment="vpr-2026-ma-5", year=None, as_json=True, engine="db")
    data = json.loads(capsys.readouterr().out)
    assert data["schools"][0]["code"] == demo["truth"]["inflated_school"]["school"]
    assert all(s["assessment"] == "vpr-2026-ma-5" for x in data["schools"] for s in x["signals"])
