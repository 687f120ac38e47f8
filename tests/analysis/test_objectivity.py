"""The federal objectivity method: published values for each statistic, hand-made vectors, planted truth.

Published values:
- Spearman's rho, no ties: the IQ / hours of television example of Wikipedia «Spearman's rank
  correlation coefficient» (10 people): rho = −29/165 = −0.175757…, p = 0.627188 (t distribution).
- Spearman's rho with a tie: the example of the SciPy documentation of `scipy.stats.spearmanr`,
  spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) = 0.8207826816681233, p = 0.0885870053135438.
- A 95 % t-interval: Student's sleep data (Cushny & Peebles; R dataset `sleep`), paired differences
  1.2, 2.4, 1.3, 1.3, 0.0, 1.0, 1.8, 0.8, 4.6, 1.4: R's `t.test` prints mean 1.58 and
  95 percent confidence interval 0.7001142 2.4598858.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from metodist.analysis.objectivity import (
    MARKERS,
    MARKERS_BY_CODE,
    MIN_PARTICIPANTS_MEAN,
    T_ALPHA,
    CohortPair,
    Interval,
    Procedure,
    ScoreSummary,
    check_cohort,
    check_marks,
    check_mean,
    cohort_ratio,
    federal_objectivity,
    marker_name,
    mean_interval,
    objectivity_index,
    spearman,
    spearman_shortcut,
    tukey_fences,
)

SLEEP_DIFFERENCES = [1.2, 2.4, 1.3, 1.3, 0.0, 1.0, 1.8, 0.8, 4.6, 1.4]
IQ = [106, 100, 86, 101, 99, 103, 97, 113, 112, 110]
TV_HOURS = [7, 27, 2, 50, 28, 29, 20, 12, 6, 17]


# --- the markers themselves ------------------------------------------------------------------------


def test_fourteen_markers_with_stable_codes_and_russian_names():
    assert len(MARKERS) == 14
    assert len({m.code for m in MARKERS}) == 14
    assert [m.kind for m in MARKERS].count("mean") == 6
    assert [m.kind for m in MARKERS].count("marks") == 4
    assert [m.code for m in MARKERS if m.kind in ("rise", "fall")] == [
        "rise_ru_4_5", "rise_ma_4_5", "fall_ru_4_5", "fall_ma_4_5"]
    assert MARKERS_BY_CODE["mean_oge_ma"].procedure == Procedure("OGE", "ma", 9)
    # p. 1 lists «русскому языку в 4 классе» twice among the mismatch markers; the appendix (p. 2) says
    # 4 and 5 classes, so the ninth marker is grade 5.
    assert MARKERS_BY_CODE["marks_vpr_ru_5"].procedure == Procedure("VPR", "ru", 5)
    assert marker_name("marks_vpr_ru_5") == (
        "Несоответствие результатов ВПР по русскому языку в 5 классе и школьных отметок.")
    for marker in MARKERS:
        assert marker.name.endswith(".")


# --- confidence interval of the mean ---------------------------------------------------------------


def test_summary_from_sums_equals_numpy():
    x = np.array([2, 4, 4, 4, 5, 5, 7, 9, np.nan])
    summary = ScoreSummary.of(x)
    assert summary.n == 8
    assert summary.mean == 5
    assert summary.sd == pytest.approx(math.sqrt(32 / 7))  # textbook: sum of squared deviations 32
    assert (ScoreSummary.of([2, 4, 4]) + ScoreSummary.of([4, 5, 5, 7, 9])) == ScoreSummary.of(x)


def test_interval_with_students_t_matches_r_on_the_sleep_data():
    summary = ScoreSummary.of(SLEEP_DIFFERENCES)
    interval = mean_interval(summary, t_alpha=stats.t.ppf(0.975, df=9))
    assert interval.mean == pytest.approx(1.58)
    assert interval.low == pytest.approx(0.7001142, abs=1e-7)
    assert interval.high == pytest.approx(2.4598858, abs=1e-7)


def test_interval_of_the_method_uses_1_96_whatever_the_size():
    assert T_ALPHA == 1.96
    summary = ScoreSummary.of(SLEEP_DIFFERENCES)
    interval = mean_interval(summary)
    sd = float(np.std(SLEEP_DIFFERENCES, ddof=1))
    assert interval.sd == pytest.approx(sd)
    assert interval.low == pytest.approx(1.58 - 1.96 * sd / math.sqrt(10))
    assert interval.high == pytest.approx(1.58 + 1.96 * sd / math.sqrt(10))
    # narrower than the t-interval of R (0.7001142–2.4598858): tα = 1.96 < t(0.975, 9) = 2.262
    assert 0.7001142 < interval.low and interval.high < 2.4598858


def test_mean_marker_needs_lower_bound_strictly_right_of_region_upper_bound():
    marker = MARKERS_BY_CODE["mean_vpr_ru_4"]
    school = ScoreSummary.of([10, 12, 14])  # mean 12, sd 2, half-width 1.96·2/√3
    low = 12 - 1.96 * 2 / math.sqrt(3)
    at_edge = Interval(1000, low - 1, 1.0, low - 2, low)
    just_below = Interval(1000, low - 1, 1.0, low - 2, low - 1e-9)
    assert not check_mean(marker, school, at_edge).tripped
    assert check_mean(marker, school, at_edge).judged
    tripped = check_mean(marker, school, just_below)
    assert tripped.tripped
    assert tripped.numbers["ci_low"] == pytest.approx(low, abs=1e-4)
    assert "нижняя граница интервала школы выше верхней границы интервала региона" in tripped.reason


def test_school_below_minimum_size_is_not_judged_on_the_mean():
    assert MIN_PARTICIPANTS_MEAN == 2
    marker = MARKERS_BY_CODE["mean_vpr_ma_4"]
    region = Interval(1000, 10.0, 3.0, 9.8, 10.2)
    check = check_mean(marker, ScoreSummary.of([20]), region)
    assert not check.judged and not check.tripped
    assert "слишком мало" in check.reason
    assert mean_interval(ScoreSummary.of([20])) is None
    absent = check_mean(marker, None, region)
    assert not absent.judged and absent.reason == "Школа не писала эту работу."


# --- Spearman ---------------------------------------------------------------------------------------


def test_spearman_matches_the_published_example_without_ties():
    rho, p = spearman(IQ, TV_HOURS)
    assert rho == pytest.approx(-29 / 165, abs=1e-12)
    assert p == pytest.approx(0.627188, abs=1e-6)
    # without ties the formula of p. 2 gives exactly the same value
    assert spearman_shortcut(IQ, TV_HOURS) == pytest.approx(-29 / 165, abs=1e-12)


def test_spearman_with_a_tie_matches_scipy_docs_and_the_shortcut_differs():
    rho, p = spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])
    assert rho == pytest.approx(0.8207826816681233, abs=1e-12)
    assert p == pytest.approx(0.0885870053135438, abs=1e-12)
    # mid-ranks of y: 1, 2, 3.5, 5, 3.5; d = 0, 0, −0.5, −1, 1.5; Σd² = 3.5; 1 − 6·3.5/(5·24) = 0.825
    assert spearman_shortcut([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) == pytest.approx(0.825, abs=1e-12)


def test_ties_in_journal_marks_can_hide_a_negative_relation_from_the_shortcut():
    """Marks 5 5 5 5 4 5 against scores 1…6: the only pupil with a 4 wrote the second-best work.

    Mid-ranks of the marks 4 4 4 4 1 4, d = 3 2 1 0 −4 −2, Σd² = 34: the shortcut 1 − 6·34/(6·35) = 1/35
    is positive, while Pearson's r of the ranks is −4.5/√(7.5·17.5) = −0.3928 (computed by hand).
    """
    marks, scores = [5, 5, 5, 5, 4, 5], [1, 2, 3, 4, 5, 6]
    assert spearman_shortcut(marks, scores) == pytest.approx(1 / 35, abs=1e-12)
    rho, _ = spearman(marks, scores)
    assert rho == pytest.approx(-4.5 / math.sqrt(7.5 * 17.5), abs=1e-12)
    marker = MARKERS_BY_CODE["marks_vpr_ru_4"]
    assert check_marks(marker, marks, scores).tripped
    assert not check_marks(marker, marks, scores, formula="shortcut").tripped
    numbers = check_marks(marker, marks, scores).numbers
    assert numbers["rho_shortcut"] == pytest.approx(1 / 35, abs=1e-4)


def test_mark_marker_boundaries():
    marker = MARKERS_BY_CODE["marks_vpr_ma_5"]
    # rho exactly 0 is not negative
    zero = check_marks(marker, [3, 5, 5, 3], [1, 2, 3, 4])
    assert zero.judged and zero.numbers["rho"] == 0 and not zero.tripped
    # all journal marks equal: the correlation is undefined and the school is not judged
    same = check_marks(marker, [5, 5, 5, 5], [1, 2, 3, 4])
    assert not same.judged and not same.tripped and "одинаковые" in same.reason
    # one pupil with a journal mark (the others have none) is below the minimum
    tiny = check_marks(marker, [4, np.nan, np.nan], [10, 12, 14])
    assert not tiny.judged and tiny.numbers["n"] == 1
    # perfectly reversed marks trip it; p is reported beside rho
    reversed_ = check_marks(marker, [5, 4, 3, 2], [1, 2, 3, 4])
    assert reversed_.tripped and reversed_.numbers["rho"] == -1.0
    assert "меньше нуля" in reversed_.reason


# --- cohort rule ------------------------------------------------------------------------------------


def test_fences_on_a_hand_made_vector():
    """1…9, 100 with linear percentiles: Q25 at position 2.25 → 3.25, Q75 at 6.75 → 7.75, IQR 4.5."""
    fences = tukey_fences([1, 2, 3, 4, 5, 6, 7, 8, 9, 100])
    assert (fences.q25, fences.q75, fences.iqr) == (3.25, 7.75, 4.5)
    assert fences.upper == 7.75 + 3 * 4.5 == 21.25
    assert fences.lower == 3.25 - 3 * 4.5 == -10.25
    assert tukey_fences([1, 2, 3]) is None  # too few schools
    assert tukey_fences([1, 2, 3, 4, math.inf, None]).n == 4  # non-finite ratios do not shift the quartiles


def _pair(p4, p5, n=20, max_4=20.0, max_5=20.0):
    return CohortPair(ScoreSummary(n, p4 / 100 * max_4 * n, 0.0), max_4,
                      ScoreSummary(n, p5 / 100 * max_5 * n, 0.0), max_5)


def test_cohort_ratio_and_direction():
    assert cohort_ratio(_pair(60, 50, max_4=38, max_5=45)) == pytest.approx(1.2)
    fences = tukey_fences([1, 2, 3, 4, 5, 6, 7, 8, 9, 100])  # lower −10.25, upper 21.25
    rise, fall = check_cohort("ru", _pair(60, 2), fences)  # K = 30: the results fell
    assert fall.tripped and not rise.tripped and fall.numbers["k"] == 30
    assert "упало" in fall.reason
    fences = tukey_fences([0.9, 0.95, 1.0, 1.05, 1.1])  # 0.95, 1.05, IQR 0.1 → 0.65 … 1.35
    rise, fall = check_cohort("ma", _pair(30, 60), fences)  # K = 0.5: a sharp rise
    assert rise.tripped and not fall.tripped and "выросло" in rise.reason
    rise, fall = check_cohort("ma", _pair(65, 100), fences)  # K = 0.65 exactly: not below the fence
    assert rise.judged and not rise.tripped
    rise, fall = check_cohort("ma", None, fences)
    assert not rise.judged and not fall.judged
    assert cohort_ratio(_pair(40, 0)) == math.inf and cohort_ratio(_pair(0, 0)) is None


def test_objectivity_index():
    assert objectivity_index(4, 100) == (4.0, 96.0)
    assert objectivity_index(0, 0) == (None, None)


# --- planted truth ----------------------------------------------------------------------------------

MAXIMA = {Procedure("VPR", "ru", 4): 38, Procedure("VPR", "ma", 4): 20, Procedure("VPR", "ru", 5): 45,
          Procedure("VPR", "ma", 5): 20, Procedure("OGE", "ru", 9): 33, Procedure("OGE", "ma", 9): 31}
INFLATED, JUMP, FALL, STRONG = "sch000000", "sch000001", "sch000002", "sch000003"
PUPILS = 25


def _scores(rng, maximum, level, spread=0.18):
    return np.clip(np.round(rng.normal(level * maximum, spread * maximum, PUPILS)), 0, maximum)


def _journal(rng, scores, maximum):
    noisy = scores + rng.normal(0, 0.08 * maximum, scores.size)
    return 2 + (noisy > 0.4 * maximum) + (noisy > 0.6 * maximum) + (noisy > 0.8 * maximum).astype(float)


def _region(seed=2025):
    """100 schools of 25 pupils per work. Ordinary schools sit at 60 % of the maximum with journal marks
    that follow the scores. Planted: INFLATED writes every work at 85 % with little spread, and its
    journal marks run against the scores (the help went to the weakest pupils); JUMP's grade 4 of last
    year wrote at 25 %, its grade 5 this year at 60 % (a sharp rise); FALL the other way round; STRONG is
    simply good: 80 % in every work and in every year, with journal marks that follow the scores."""
    rng = np.random.default_rng(seed)
    scores, marks, cohorts = {}, {}, {"ru": {}, "ma": {}}
    for s in range(100):
        code = f"sch{s:06d}"
        level = 0.8 if code == STRONG else 0.6
        for key, maximum in MAXIMA.items():
            if code == INFLATED:
                x = _scores(rng, maximum, 0.85, spread=0.04)
                order = np.argsort(np.argsort(x))  # rank 0 = weakest work
                journal = 5 - np.floor(3 * order / PUPILS)  # the weakest works carry the best marks
            elif code == FALL and key.grade == 5:
                x = _scores(rng, maximum, 0.25)
                journal = _journal(rng, x, maximum)
            else:
                x = _scores(rng, maximum, level)
                journal = _journal(rng, x, maximum)
            scores.setdefault(key, {})[code] = ScoreSummary.of(x)
            if key.programme == "VPR":
                marks.setdefault(key, {})[code] = (journal, x)
        for subject in ("ru", "ma"):
            max_4, max_5 = MAXIMA[Procedure("VPR", subject, 4)], MAXIMA[Procedure("VPR", subject, 5)]
            last_level = 0.25 if code == JUMP else (0.85 if code == INFLATED else level)
            spread = 0.04 if code == INFLATED else 0.18
            last_year = ScoreSummary.of(_scores(rng, max_4, last_level, spread))
            cohorts[subject][code] = CohortPair(last_year, max_4, scores[Procedure("VPR", subject, 5)][code], max_5)
    return scores, marks, cohorts


@pytest.fixture(scope="module")
def region_report():
    scores, marks, cohorts = _region()
    return federal_objectivity(scores=scores, marks=marks, cohorts=cohorts)


def test_planted_schools_trip_their_markers(region_report):
    schools = region_report.schools
    mean_codes = {m.code for m in MARKERS if m.kind == "mean"}
    mark_codes = {m.code for m in MARKERS if m.kind == "marks"}
    assert set(schools[INFLATED].tripped) == mean_codes | mark_codes
    # (a planted cohort school may also trip a mean-score marker by chance, see the next test)
    assert {c for c in schools[JUMP].tripped if c not in mean_codes} == {"rise_ru_4_5", "rise_ma_4_5"}
    assert {c for c in schools[FALL].tripped if c not in mean_codes} == {"fall_ru_4_5", "fall_ma_4_5"}
    # the simply strong school trips the mean-score markers only: its marks agree with its scores and
    # its results are as high a year before — what separates it from the inflated school
    assert set(schools[STRONG].tripped) == mean_codes
    strong_marks = [c for c in schools[STRONG].checks if c.marker in mark_codes]
    assert all(c.judged and c.numbers["rho"] > 0.5 for c in strong_marks)
    inflated_marks = [c for c in schools[INFLATED].checks if c.marker in mark_codes]
    assert all(c.numbers["rho"] < -0.5 and c.numbers["p"] < 0.01 for c in inflated_marks)
    assert schools[INFLATED].count == 10


def test_no_mark_or_cohort_marker_elsewhere_and_mean_marker_at_its_chance_rate(region_report):
    planted = {INFLATED, JUMP, FALL, STRONG}
    others = [s for code, s in region_report.schools.items() if code not in planted]
    assert len(others) == 96
    for school in others:
        assert all(MARKERS_BY_CODE[code].kind == "mean" for code in school.tripped), school.code
        assert all(c.judged for c in school.checks), school.code
    # A school exactly at the region's mean trips a mean-score marker when its mean lies 1.96 standard
    # errors above the region's (whose interval is ~10 times narrower): a one-sided 2.5 % chance per
    # work. Over 96 × 6 checks about 14 trips are expected; planted schools are still the only ones with
    # other markers.
    mean_trips = sum(len(s.tripped) for s in others)
    assert 2 <= mean_trips <= 35


def test_region_index_and_references(region_report):
    report = region_report
    assert report.n_schools == 100
    marked = {code for code, s in report.schools.items() if s.marked}
    assert {INFLATED, JUMP, FALL, STRONG} <= marked
    assert report.n_marked == len(marked)
    assert report.index == pytest.approx(100 - 100 * len(marked) / 100)
    interval = report.region_intervals[Procedure("VPR", "ru", 4)]
    assert interval.n == 100 * PUPILS
    fences = report.fences["ru"]
    assert fences.n == 100 and fences.lower < 1 < fences.upper
    payload = report.as_dict()
    school = next(s for s in payload["schools"] if s["code"] == JUMP)
    assert school["federal_markers"] == ["rise_ru_4_5", "rise_ma_4_5"]
    assert school["count"] == 2
    rise = next(c for c in school["checks"] if c["marker"] == "rise_ru_4_5")
    assert rise["numbers"]["k"] < rise["numbers"]["lower"]


def test_denominator_includes_schools_without_any_work():
    scores = {Procedure("VPR", "ru", 4): {"a": ScoreSummary.of([30, 31, 32] * 5),
                                          "b": ScoreSummary.of([10, 20, 15] * 5)}}
    report = federal_objectivity(scores=scores, schools=["a", "b", "c", "d"])
    assert report.schools["a"].tripped == ["mean_vpr_ru_4"]
    assert report.n_schools == 4 and report.n_marked == 1
    assert report.marked_pct == 25.0 and report.index == 75.0
    assert not any(c.judged for c in report.schools["c"].checks)
