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


def test_the_batched_tail_is_the_exact_one():
    rng = np.random.default_rng(7)
    for _ in range(300):
        groups = rng.integers(1, 5)
        n = rng.integers(0, 90, groups)
        p = rng.random(groups) * rng.choice([1.0, 0.02])
        k = int(rng.integers(0, n.sum() + 2))
        exact = sig.sum_of_binomials_z(k, list(zip(n.tolist(), p.tolist(), strict=True)))
        assert sig.sum_of_binomials_z_rows([k], [n], [p])[0] == pytest.approx(exact, abs=1e-6)


def test_leave_one_out_yardstick_is_the_median_and_mad_of_the_others():
    rng = np.random.default_rng(3)
    values = rng.normal(size=41)
    values[[3, 17]] = np.nan
    values[5] = values[6]  # a tie
    centre, spread, count = sig.leave_one_out_centre_spread(values)
    for i in range(values.size):
        others = np.delete(values, i)
        others = others[np.isfinite(others)]
        assert count[i] == others.size
        assert centre[i] == pytest.approx(np.median(others))
        assert spread[i] == pytest.approx(1.4826 * np.median(np.abs(others - np.median(others))))


def _planted_work(rng, schools=60, max_score=30):
    """Schools of one work: summaries, journal counts per work mark and score distributions, one school
    inflating its marks and bunching at the thresholds."""
    from metodist.analysis import objectivity as fed
    from metodist.analysis.objectivity_store import Work

    thresholds = [8, 15, 22]
    work = Work(1, "w", "vpr", "ma", 5, 2021, max_score, thresholds)
    per_school, journal, dist, relative = {}, {}, {}, {}
    for s in range(schools):
        code = f"s{s:03d}"
        n = 60 if s == 7 else int(rng.integers(5, 80))
        scores = np.clip(np.round(rng.normal(rng.normal(16, 3), 5, n)), 0, max_score).astype(int)
        if s == 7:
            scores = np.where(np.isin(scores, [t - 1 for t in thresholds] + [t - 2 for t in thresholds]),
                              scores + 2, scores)
        marks = 2 + np.searchsorted(thresholds, scores, side="right")
        journal_marks = np.clip(marks + rng.choice([-1, 0, 0, 0, 1], n) - (s == 7), 2, 5)
        per_school[code] = fed.ScoreSummary(n, float(scores.sum()), float((scores ** 2).sum()))
        journal[code] = {int(m): [int(((marks == m) & (marks > journal_marks)).sum()),
                                  int(((marks == m) & (marks < journal_marks)).sum()), int((marks == m).sum())]
                         for m in np.unique(marks)}
        dist[code] = np.bincount(scores, minlength=max_score + 1).astype(float)
        relative[code] = {1: float(rng.normal(0, 0.3)), 2: float(rng.normal(0, 0.3))}
    return work, per_school, journal, dist, relative


def test_every_school_of_a_work_gets_what_the_one_school_definitions_give():
    """objectivity_store computes a work's signals for all schools at once; each school's must be what
    the definitions of one school give with the rest of the region (its own row taken out, and the
    excluded schools left out of the region) as the reference."""
    from metodist.analysis.objectivity_store import _work_signals

    rng = np.random.default_rng(11)
    work, per_school, journal, dist, relative = _planted_work(rng)
    region_sd = {1: 5.0}
    excluded = {"s007", "s010"}
    first = _work_signals(work, per_school, journal, dist, relative, region_sd, excluded=set())
    final = _work_signals(work, per_school, journal, dist, relative, region_sd, excluded=excluded, first=first)
    codes = sorted(per_school)
    counted = [c for c in codes if c not in excluded]
    residuals, ratios = {}, {}
    for c in codes:
        s = per_school[c]
        residuals[c] = relative[c][1] - relative[c][2]
        ratio = sig.spread_ratio(s.mean, s.sd, work.max_primary) if s.n >= sig.MIN_WORKS else None
        ratios[c] = ratio
    assert first["s007"][0].tripped and first["s007"][2].tripped  # the planted school, by journal and bunching
    for c in codes:
        marks = {m for o in counted for m in journal[o]}
        region = {m: [sum(journal[o].get(m, [0, 0, 0])[j] for o in counted if o != c) for j in range(3)]
                  for m in marks}
        rest_dist = sum(dist[o] for o in counted if o != c)
        expected = [
            sig.journal_disagreement({m: (v[0], v[2]) for m, v in journal[c].items()},
                                     {m: (v[0], v[2]) for m, v in region.items()}, direction="work_above_journal"),
            sig.journal_disagreement({m: (v[1], v[2]) for m, v in journal[c].items()},
                                     {m: (v[1], v[2]) for m, v in region.items()}, direction="journal_above_work"),
            sig.threshold_bunching(dist[c], rest_dist, work.thresholds),
            sig.unexpected_result(relative[c][1], (per_school[c].sd or 0) / math.sqrt(per_school[c].n) / 5.0,
                                  relative[c][2], [residuals[o] for o in codes if o != c]),
            sig.low_spread(per_school[c].n, per_school[c].mean, per_school[c].sd, work.max_primary,
                           [ratios[o] for o in codes if o != c]),
        ]
        got = final[c]
        assert [one.code for one in got] == [one.code for one in expected]
        for one, want in zip(got, expected, strict=True):
            assert one.judged == want.judged and one.reason == want.reason
            assert one.z == pytest.approx(want.z, abs=1e-6) if want.z is not None else one.z is None
            assert one.numbers == pytest.approx(want.numbers) if "thresholds" not in want.numbers else \
                one.numbers["thresholds"] == want.numbers["thresholds"]
