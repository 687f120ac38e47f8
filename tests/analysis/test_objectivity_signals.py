"""Metodist's objectivity signals on hand-made arrays: values computed by hand, planted bunching found,
a smooth distribution not flagged."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from metodist.analysis import objectivity_signals as sig


def test_sum_of_binomials_tail_matches_the_binomial_when_there_is_one_group():
    # P(K ≥ 8) for K ~ Binomial(10, 0.5) = (45 + 10 + 1) / 1024
    tail = 56 / 1024
    assert sig.sum_of_binomials_z(8, [(10, 0.5)]) == pytest.approx(stats.norm.isf(tail))
    # two groups: Binomial(1, 0.5) + Binomial(1, 0.5) ≥ 2 has probability 1/4
    assert sig.sum_of_binomials_z(2, [(1, 0.5), (1, 0.5)]) == pytest.approx(stats.norm.isf(0.25))


def test_journal_disagreement_is_compared_mark_by_mark():
    # region: at work mark 3, 10 % of works have a higher journal mark; at mark 5 it cannot happen
    region = {3: (20, 200), 5: (0, 100)}
    # a school of 20 works with mark 3, 8 of them with a higher journal mark: 40 % against 10 %
    flagged = sig.journal_disagreement({3: (8, 20)}, region, direction="journal_above_work")
    assert flagged.judged and flagged.tripped
    assert flagged.numbers["expected_share"] == pytest.approx(0.1)
    assert flagged.numbers["z_normal"] == pytest.approx((8 - 2) / math.sqrt(20 * 0.1 * 0.9), abs=1e-3)
    # a strong school: mostly 5s, where a higher journal mark is impossible; its 2 of 30 is not excess
    strong = sig.journal_disagreement({3: (2, 10), 5: (0, 20)}, region, direction="journal_above_work")
    assert strong.judged and not strong.tripped
    assert strong.numbers["expected_share"] == pytest.approx(1 / 30, abs=1e-4)
    assert "2 из 30" in strong.reason and strong.reason.endswith(".")


def test_journal_disagreement_is_not_judged_on_a_handful_of_works():
    small = sig.journal_disagreement({3: (5, 5)}, {3: (10, 100)}, direction="work_above_journal")
    assert not small.judged and not small.tripped and small.excess == 0


def _smooth(max_score=30, n=4000, mean=17.0, sd=5.0):
    x = np.arange(max_score + 1)
    density = stats.norm.pdf(x, mean, sd)
    return np.round(n * density / density.sum())


def test_smoothed_counts_recover_a_quadratic_outside_the_window():
    counts = np.array([(s - 10) ** 2 + 5 for s in range(25)], dtype=float)
    counts[8:12] = 0  # whatever is in the window does not matter
    assert sig.smoothed_counts(counts, range(8, 12)) == pytest.approx([9, 6, 5, 6])


def test_bunching_planted_at_the_thresholds_is_found():
    region = _smooth()
    thresholds = [8, 15, 22]
    school = np.round(_smooth(n=120)).astype(float)
    # move most works one or two points short of each threshold up to it, as an inflating school does
    for t in thresholds:
        moved = school[t - 2] * 0.85 + school[t - 1] * 0.85
        school[t - 2] *= 0.15
        school[t - 1] *= 0.15
        school[t] += moved
    found = sig.threshold_bunching(school, region, thresholds)
    assert found.judged and found.tripped
    assert found.numbers["share"] > 0.85
    assert 0.4 < found.numbers["expected_share"] < 0.65
    assert found.numbers["excess_mass"] > 0.1


def test_a_smooth_distribution_is_not_flagged_and_neither_is_a_uniform_one():
    region = _smooth()
    thresholds = [8, 15, 22]
    school = _smooth(n=150, mean=19.0, sd=4.5)  # a stronger school, same shape
    found = sig.threshold_bunching(school, region, thresholds)
    assert found.judged and not found.tripped and found.z < 2
    uniform = np.full(31, 5.0)
    flat = sig.threshold_bunching(uniform, np.full(31, 100.0), thresholds)
    assert flat.judged and not flat.tripped
    assert flat.numbers["expected_share"] == pytest.approx(0.5)
    assert flat.numbers["share"] == pytest.approx(0.5)


def test_unexpected_result_against_the_schools_own_other_works():
    others = [0.0, 0.1, -0.1, 0.05, -0.05, 0.0, 0.1]
    # residual +1.0 SD, others centred on 0 with MAD 0.05 → spread 0.0741; se 0.1
    found = sig.unexpected_result(1.5, 0.1, 0.5, others)
    spread = 1.4826 * 0.05
    assert found.z == pytest.approx((1.0 - 0.0) / math.sqrt(spread ** 2 + 0.01), rel=1e-6)
    assert found.tripped
    consistent = sig.unexpected_result(1.5, 0.1, 1.45, others)  # a strong school, strong everywhere
    assert not consistent.tripped and consistent.z < 1
    alone = sig.unexpected_result(1.5, 0.1, None, others)
    assert not alone.judged


def test_low_spread_is_judged_at_the_same_mean():
    # ratio S/√(x̄(M−x̄)) of the region's schools about 0.5
    ratios = [0.5, 0.52, 0.48, 0.51, 0.49, 0.5]
    narrow = sig.low_spread(40, 10.0, 1.5, 20.0, ratios)  # ratio 0.15
    assert narrow.tripped
    assert narrow.numbers["expected_sd"] == pytest.approx(0.5 * math.sqrt(10 * 10), rel=0.01)
    ordinary = sig.low_spread(40, 16.0, 4.0, 20.0, ratios)  # ratio 4/√64 = 0.5 near the ceiling
    assert not ordinary.tripped


def test_combined_score_sums_the_excess_over_two():
    a, b, c = sig.Signal("low_spread", True, 3.5), sig.Signal("threshold_bunching", True, 1.0), sig.Signal("x")
    assert sig.combined_score([a, b, c]) == pytest.approx(1.5)
