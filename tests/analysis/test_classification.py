"""School classification: the statistics on hand-made tables, and the planted schools of the demo."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.db import transaction

from metodist.analysis import classification as c

SEED = 11
SCALE = 8


def test_wls_recovers_a_line_and_weights_matter():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    beta, _cov, sigma2, df = c.wls_fit(x, 2 + 3 * x, np.ones(4))
    assert beta == pytest.approx([2.0, 3.0]) and sigma2 == pytest.approx(0.0, abs=1e-12) and df == 2
    # y = 0, 0, 0, 4 at x = 0..3; a huge weight on the first three pins the line to y = 0 there
    beta, *_rest = c.wls_fit(np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 0.0, 0.0, 4.0]),
                             np.array([1e6, 1e6, 1e6, 1.0]))
    assert beta[1] == pytest.approx(0.0, abs=1e-4)
    # equal weights: ordinary least squares, slope = cov(x, y) / var(x) = 4·(3 − 1.5)/4 / 1.25 = 1.2
    beta, *_rest = c.wls_fit(np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 0.0, 0.0, 4.0]), np.ones(4))
    assert beta[1] == pytest.approx(1.2) and beta[0] == pytest.approx(-0.8)


def test_prediction_interval_leaves_the_school_out():
    # six schools on y = 10 + 50·x with a spread of ±1, one far above the line at x = 0.2
    pts = [(1, 0.1, 16.0, 100), (2, 0.3, 24.0, 100), (3, 0.5, 36.0, 100), (4, 0.7, 44.0, 100),
           (5, 0.9, 56.0, 100), (6, 0.2, 60.0, 100)]
    res = {r.school_id: r for r in c.resilience_residuals(pts)}
    assert res[6].y > res[6].upper  # not masked by itself
    assert all(res[s].lower <= res[s].y for s in (1, 2, 3, 4, 5))


def test_funnel_limits_by_hand():
    # mean = (10·50 + 40·70)/50 = 66; s² = (10·16² + 40·4²)/1 = 3200; limit at n = 50: ±1.96·√(3200/50) = ±15.68
    data = c.funnel([(1, 50.0, 10), (2, 70.0, 40)], levels=(0.95,))
    assert data["mean"] == pytest.approx(66.0)
    assert data["sd"] == pytest.approx(3200 ** 0.5)
    row = min(data["limits"], key=lambda r: abs(r["n"] - 44))
    assert row["upper_0.95"] - data["mean"] == pytest.approx(1.959964 * (3200 / row["n"]) ** 0.5)


def test_low_in_year_by_hand():
    figs = {i: c.SchoolYear(i, mean_pct=m, share_2=s) for i, (m, s) in enumerate(
        [(20, 5), (50, 40), (52, 10), (55, 9), (58, 8), (60, 7), (61, 6), (63, 5), (65, 4), (70, 3)])}
    low = c.low_in_year(figs)
    assert low[0] == "bottom_mean" and low[1] == "top_twos" and set(low) == {0, 1}
    assert c.high_performers(figs) == {9}


def test_difficult_context_by_quartile_or_threshold():
    found, cut = c.difficult_context({1: 0.1, 2: 0.5, 3: 0.6, 4: 0.7, 5: 0.8, 6: 0.25, 7: None})
    # quartile of [0.1, 0.25, 0.5, 0.6, 0.7, 0.8] at position 1.25: 0.25 + 0.25·0.25 = 0.3125
    assert cut == pytest.approx(0.3125) and found == {1, 6}


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
@pytest.mark.parametrize("start_year", [2024, 2025])
def test_planted_schools_are_classified_as_planted(demo, start_year):
    from metodist.analysis.engine import connect
    from metodist.analysis.models import SchoolStatus
    from metodist.analysis.runs import default_scope, start_run
    from metodist.core.models import AcademicYear

    year = AcademicYear.objects.get_or_create(start_year=start_year)[0]
    run = start_run(year, default_scope())
    summary = c.store(run, connect())
    statuses: dict[str, set[str]] = {}
    for code, kind in SchoolStatus.objects.filter(run=run).values_list("school__code", "kind"):
        statuses.setdefault(code, set()).add(kind)
    low = {s["school"] for s in demo["low_result_schools"]}
    assert low == {"edu900015", "edu900025"}
    for code in low:
        assert {"low_results", "difficult_context"} <= statuses[code]
    assert {code for code, kinds in statuses.items() if "low_results" in kinds} == low
    resilient = demo["resilient_school"]["school"]
    assert statuses[resilient] == {"resilient", "difficult_context"}
    assert {code for code, kinds in statuses.items() if "resilient" in kinds} == {resilient}
    typical = next(s["code"] for s in demo["schools"] if s["role"] is None and s["type"] == "СОШ")
    assert typical not in statuses
    assert summary["low_results"] == 2 and summary["resilient"] == 1
    row = SchoolStatus.objects.get(run=run, school__code="edu900025", kind="low_results")
    assert row.numbers["previous"]["year"] == start_year and "два года подряд" in row.explanation
    assert row.numbers["mean_primary_pct"] < 30
    r = SchoolStatus.objects.get(run=run, kind="resilient")
    assert r.numbers["residual"] > 15 and r.numbers["predicted_pct"] < r.numbers["mean_primary_pct"]


@pytest.mark.django_db
def test_funnel_data_has_every_school(demo):
    from metodist.analysis.engine import connect

    data = c.funnel_data(connect(), 2025)
    assert {p["code"] for p in data["points"]} == {s["code"] for s in demo["schools"]}
    assert data["limits"][0]["lower_0.998"] < data["mean"] < data["limits"][0]["upper_0.998"]
