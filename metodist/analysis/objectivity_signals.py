"""Metodist's own objectivity signals, finer than the federal method: plain functions on counts and
arrays, no Django models and no database (docs/methods.md, «Объективность: сигналы Методиста и общий
список»).

Each signal of one school and one work is a one-sided standardised statistic z (how far the school is
from what the rest of the region, or its own other results, predict, in units of its standard error):

* :func:`journal_disagreement` — the share of works whose mark is higher than the journal mark (and,
  separately, lower), against the same share in the rest of the region: a score test of a proportion;
* :func:`threshold_bunching` — excess of primary scores at and just above the mark thresholds over what
  the smoothed distribution of the rest of the region predicts (a «donut» polynomial, as in the bunching
  literature);
* :func:`unexpected_result` — the school's mean on this work far above its mean on its other works of
  the year and of last year, beyond the spread of the same difference among the other schools;
* :func:`low_spread` — an SD of primary scores far below what schools of the region have at the same mean.

A signal is tripped at z ≥ :data:`Z_TRIP`; the combined score of a school is the sum over its signals of
the excess max(0, z − :data:`Z_BASE`) (:func:`combined_score`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import special

from metodist.analysis.problem_fields import _
from metodist.core.numbers import format_text

#: A signal is tripped when its z reaches this value: one-sided p ≈ 0.0013. A region has thousands of
#: school × work × signal checks; at 1.96 one in forty would trip by chance.
Z_TRIP = 3.0
#: The part of z that counts towards the combined score: only the excess above 2 (one-sided p ≈ 0.023),
#: so ordinary noise adds nothing and one extreme signal does not drown several clear ones.
Z_BASE = 2.0
#: Works needed for a school to be judged on a signal of one work.
MIN_WORKS = 10
#: Bunching: the window is the `BELOW` scores just under each threshold and the `AT` scores at and just
#: above it; the counterfactual polynomial is fitted on `REACH` scores either side outside the window.
BELOW, AT, REACH, DEGREE = 2, 2, 5, 2
#: The MAD of a normal sample times this is its SD.
MAD_TO_SD = 1.4826

SIGNAL_CODES = ("work_above_journal", "journal_above_work", "threshold_bunching", "unexpected_result",
                "low_spread")


def signal_name(code: str) -> str:
    names = {
        "work_above_journal": _("Отметки за работу выше отметок по журналу чаще, чем в регионе."),
        "journal_above_work": _("Отметки по журналу выше отметок за работу чаще, чем в регионе."),
        "threshold_bunching": _("Первичные баллы скапливаются на порогах отметок."),
        "unexpected_result": _("Результат работы намного выше, чем по другим работам школы."),
        "low_spread": _("Необычно малый разброс баллов."),
    }
    return names[code]


@dataclass
class Signal:
    """One signal of one school and work: judged or not, its z, tripped or not, the numbers, the reason."""

    code: str
    judged: bool = False
    z: float | None = None
    numbers: dict = field(default_factory=dict)
    reason: str = ""

    @property
    def tripped(self) -> bool:
        return self.judged and self.z is not None and self.z >= Z_TRIP

    @property
    def excess(self) -> float:
        return max(0.0, self.z - Z_BASE) if self.judged and self.z is not None else 0.0

    def as_dict(self) -> dict:
        return {"code": self.code, "name": signal_name(self.code), "judged": self.judged, "tripped": self.tripped,
                "z": _r(self.z), "numbers": dict(self.numbers), "reason": self.reason}


def sum_of_binomials_z(k: float, groups) -> float:
    """z of the exact upper tail P(K ≥ k) of K = Σ Binomial(n_g, p_g), the sum of independent binomials
    (computed by convolving their probability functions): z = Φ⁻¹(1 − P). Small schools get an honest
    p-value instead of the normal approximation, which overstates z for a dozen works; for large n the
    two agree. Capped at ±8."""
    pmf = np.ones(1)
    for n, p in groups:
        n = int(round(n))
        if n <= 0:
            continue
        pmf = np.convolve(pmf, binomial_pmf(n, min(max(p, 0.0), 1.0)))
    k = int(round(k))
    # the smaller of the two sums is the exact one: P(K ≥ 0) is 1, not 1 − rounding
    tail = float(pmf[k:].sum()) if k < pmf.size else 0.0
    if tail > 0.5:
        tail = 1.0 - float(pmf[:max(k, 0)].sum())
    if tail <= 0:
        return 8.0
    return float(np.clip(-special.ndtri(min(tail, 1.0)), -8.0, 8.0))


def binomial_pmf(n: int, p: float) -> np.ndarray:
    """P(K = 0…n) of K ~ Binomial(n, p), from the log-gamma function (what ``scipy.stats.binom.pmf`` gives,
    to rounding, without its per-call overhead: a region makes tens of thousands of these calls)."""
    k = np.arange(n + 1, dtype=float)
    log_pmf = (special.gammaln(n + 1.0) - special.gammaln(k + 1.0) - special.gammaln(n - k + 1.0)
               + special.xlogy(k, p) + special.xlog1py(n - k, -p))
    return np.exp(log_pmf)


def _r(value, digits: int = 4):
    if value is None:
        return None
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def journal_disagreement(school, region, *, direction: str) -> Signal:
    """Share of the school's works whose work mark differs from the journal mark in `direction`
    ("work_above_journal" or "journal_above_work") against the rest of the region, mark by mark.

    Parameters
    ----------
    school, region : {work mark: (k, n)}
        Per work mark: the works in that direction and the works with both marks; `region` is the rest
        of the region (the school left out).

    Notes
    -----
    A work with mark 2 cannot have a lower journal mark, one with 5 a higher one, so a plain share would
    flag every weak school for «journal above work». The test is therefore stratified by the work mark
    (a score test of Mantel–Haenszel type): with :math:`p_m` the region's share at mark m and
    :math:`n_m, k_m` the school's works and those in the direction,

    .. math:: z_{normal} = \\frac{\\sum_m k_m - \\sum_m n_m p_m}{\\sqrt{\\sum_m n_m p_m (1 - p_m)}}

    reported beside the exact one: z is Φ⁻¹ of the upper tail of Σ Binomial(n_m, p_m) at Σ k_m
    (:func:`sum_of_binomials_z`) (Agresti, *Categorical Data Analysis*, 3rd ed., §1.3.2 and §6.4). Marks the region never has are
    left out.
    """
    signal = Signal(direction)
    k = n = 0
    expected = variance = 0.0
    groups = []
    for mark, (k_m, n_m) in school.items():
        rk, rn = region.get(mark, (0, 0))
        if not n_m or not rn:
            continue
        p = rk / rn
        k, n = k + k_m, n + n_m
        groups.append((n_m, p))
        expected, variance = expected + n_m * p, variance + n_m * p * (1 - p)
    region_k = sum(v[0] for v in region.values())
    region_n = sum(v[1] for v in region.values())
    share = k / n if n else None
    signal.numbers = {"works": n, "count": k, "share": _r(share), "expected_share": _r(expected / n if n else None),
                      "region_works": region_n, "region_share": _r(region_k / region_n if region_n else None)}
    if n < MIN_WORKS:
        signal.reason = format_text(_("Работ с отметкой по журналу слишком мало ({n}, нужно не меньше {minimum}): по этому "
                          "сигналу школа не оценивается."), n=n, minimum=MIN_WORKS)
        return signal
    signal.judged = True
    signal.z = sum_of_binomials_z(k, groups)
    signal.numbers.update({"z": _r(signal.z), "z_normal": _r((k - expected) / math.sqrt(variance))
                           if variance > 0 else None})
    values = {"share": 100 * share, "expected": 100 * expected / n, "k": k, "n": n, "z": signal.z}
    if direction == "work_above_journal":
        signal.reason = format_text(_("Отметка за работу выше отметки по журналу у {k} из {n} участников ({share:.0f} %; "
                          "при таких же отметках в регионе ожидалось {expected:.0f} %), z = {z:.1f}."), **values)
    else:
        signal.reason = format_text(_("Отметка по журналу выше отметки за работу у {k} из {n} участников ({share:.0f} %; "
                          "при таких же отметках в регионе ожидалось {expected:.0f} %), z = {z:.1f}."), **values)
    return signal


def smoothed_counts(counts, window: range, *, reach: int = REACH, degree: int = DEGREE) -> np.ndarray | None:
    """Counterfactual counts on `window` (scores) from a polynomial of `degree` fitted by least squares to
    the counts of the `reach` scores either side of the window, the window itself left out («donut»);
    negative predictions are cut at zero. None when fewer than degree + 2 scores are outside the window."""
    y = np.asarray(counts, dtype=float)
    operator = _donut(window.start, window.stop, y.size, reach, degree)
    if operator is None:
        return None
    xs, projection = operator
    return np.clip(projection @ y[xs], 0.0, None)


@lru_cache(maxsize=1024)
def _donut(start: int, stop: int, size: int, reach: int, degree: int):
    """The scores the «donut» fit reads and the linear map from their counts to the predictions on the
    window: a least-squares polynomial fit is linear in the counts, so the map is computed once per window
    and distribution size. None when fewer than degree + 2 scores are outside the window."""
    window = range(start, stop)
    xs = [s for s in range(max(start - reach, 0), min(stop + reach, size)) if s not in window]
    if len(xs) < degree + 2:
        return None
    centre = (start + stop - 1) / 2
    design = np.vander(np.asarray(xs, dtype=float) - centre, degree + 1)
    target = np.vander(np.arange(start, stop, dtype=float) - centre, degree + 1)
    projection = target @ np.linalg.pinv(design)
    projection.setflags(write=False)
    return np.asarray(xs), projection


def threshold_bunching(counts, region_counts, thresholds, *, below: int = BELOW, at: int = AT) -> Signal:
    """Excess of works at and just above the mark thresholds.

    Parameters
    ----------
    counts : array of int
        The school's works per primary score 0, 1, …, max.
    region_counts : array of int
        The same for the rest of the region (the school left out).
    thresholds : iterable of int
        The minimum primary scores of the marks (3, 4, 5).

    Notes
    -----
    For each threshold t the window is the `below` scores under it and the `at` scores from t up. The
    region's counts are smoothed by a quadratic fitted to the scores around the window, the window left
    out (the counterfactual of Chetty et al. 2011, Kleven 2016), so that bunching in the region itself
    does not hide the school's. From it, q_t = expected share of the window at or above t. Of the school's
    m_t works in the window, a_t are at or above t. Pooled over the thresholds, the score test is

    .. math:: z_{normal} = \\frac{\\sum_t a_t - \\sum_t m_t q_t}{\\sqrt{\\sum_t m_t q_t (1 - q_t)}},

    and z is the exact one, Φ⁻¹ of the upper tail of Σ Binomial(m_t, q_t) at Σ a_t.

    The smoothed region describes the shape of the distribution near the threshold, which a school's own
    20–60 works cannot; the test uses only the split inside each window, so a school stronger or weaker
    than the region as a whole is compared on the local slope, not on its level.
    """
    signal = Signal("threshold_bunching")
    c = np.asarray(counts, dtype=float)
    r = np.asarray(region_counts, dtype=float)
    observed = expected = variance = 0.0
    in_window = 0.0
    per_threshold = []
    groups = []
    for t in sorted(int(t) for t in thresholds):
        window = range(t - below, t + at)
        if window.start < 0 or window.stop > c.size:
            continue
        smooth = smoothed_counts(r, window)
        if smooth is None or smooth.sum() <= 0:
            continue
        q = float(smooth[below:].sum() / smooth.sum())
        m = float(c[window.start:window.stop].sum())
        a = float(c[t:window.stop].sum())
        observed, expected, variance = observed + a, expected + m * q, variance + m * q * (1 - q)
        in_window += m
        groups.append((m, q))
        per_threshold.append({"threshold": t, "works": int(m), "at_or_above": int(a), "expected_share": _r(q)})
    total = float(c.sum())
    signal.numbers = {"works": int(total), "near_thresholds": int(in_window), "at_or_above": int(observed),
                      "expected": _r(expected), "thresholds": per_threshold}
    if total < MIN_WORKS or in_window < 4 or variance <= 0:
        signal.reason = format_text(_("Работ около порогов отметок слишком мало ({n}): по этому сигналу школа не "
                          "оценивается."), n=int(in_window))
        return signal
    signal.judged = True
    signal.z = sum_of_binomials_z(observed, groups)
    signal.numbers["z_normal"] = _r((observed - expected) / math.sqrt(variance))
    share, expected_share = observed / in_window, expected / in_window
    signal.numbers.update({"share": _r(share), "expected_share": _r(expected_share),
                           "excess_mass": _r((observed - expected) / total), "z": _r(signal.z)})
    signal.reason = format_text(_("Около порогов отметок ({n} работ) на пороге или чуть выше него {share:.0f} % работ, "
                      "а по сглаженному распределению региона ожидалось {expected:.0f} %, z = {z:.1f}."),
        n=int(in_window), share=100 * share, expected=100 * expected_share, z=signal.z)
    return signal


def _robust_centre_spread(values) -> tuple[float, float]:
    if isinstance(values, np.ndarray):
        x = values[np.isfinite(values)]
    else:
        x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if x.size == 0:
        return 0.0, 0.0
    centre = float(np.median(x))
    return centre, float(MAD_TO_SD * np.median(np.abs(x - centre)))


def unexpected_result(pct: float, se: float, reference_pct: float | None, other_residuals) -> Signal:
    """The school's result on this work against its results on its other works.

    Parameters
    ----------
    pct, se : float
        The school's mean primary score on this work minus the region's, in SDs of the region's pupils
        (an effect size, so that works of different difficulty and spread compare), and its standard error.
    reference_pct : float or None
        The same relative result averaged over its other works of the year and of last year (None:
        nothing to compare with).
    other_residuals : iterable of float
        The same residual (this work − other works) of the other schools of the region.

    Notes
    -----
    :math:`r = p - p_{ref}`; :math:`z = (r - \\tilde r)/\\sqrt{s^2 + se^2}` with :math:`\\tilde r` the
    median and :math:`s` = 1.4826·MAD of the other schools' residuals (robust: one inflated school does not
    widen the yardstick) and se the school's own sampling error.
    """
    signal = Signal("unexpected_result")
    if reference_pct is None:
        signal.numbers = {"pct": _r(pct)}
        signal.reason = _("У школы нет других работ в этом и прошлом году: сравнивать не с чем.")
        return signal
    residual = pct - reference_pct
    centre, spread = _robust_centre_spread(other_residuals)
    scale = math.sqrt(spread * spread + se * se)
    signal.numbers = {"pct": _r(pct), "reference_pct": _r(reference_pct), "residual": _r(residual),
                      "region_median_residual": _r(centre), "region_spread": _r(spread), "se": _r(se)}
    if scale <= 0:
        signal.reason = _("Разброс по региону нулевой: по этому сигналу школа не оценивается.")
        return signal
    signal.judged = True
    signal.z = (residual - centre) / scale
    signal.numbers["z"] = _r(signal.z)
    signal.reason = format_text(_("Средний балл этой работы отличается от регионального на {pct:+.2f} стандартного "
                      "отклонения, а по другим работам школы этого и прошлого года — на {ref:+.2f}: разница "
                      "{diff:+.2f}, у других школ обычно {centre:+.2f}, z = {z:.1f}."), pct=pct, ref=reference_pct, diff=residual, centre=centre, z=signal.z)
    return signal


def spread_ratio(mean: float, sd: float, maximum: float) -> float | None:
    """SD of the primary score relative to the largest SD a score with that mean can have on [0, max],
    √(mean·(max − mean)); None at a floor or ceiling."""
    room = mean * (maximum - mean)
    if room <= 0 or sd is None:
        return None
    return sd / math.sqrt(room)


def low_spread(n: int, mean: float, sd: float | None, maximum: float, other_ratios) -> Signal:
    """An SD of primary scores far below the region's at the same mean.

    Notes
    -----
    The SD a school can have depends on its mean (near the floor or the ceiling it shrinks), so it is
    compared as :math:`\\rho = S/\\sqrt{\\bar x(M - \\bar x)}` (:func:`spread_ratio`). With
    :math:`\\tilde\\ell` the median and :math:`\\tau` = 1.4826·MAD of :math:`\\ln\\rho` of the other schools,
    :math:`z = (\\tilde\\ell - \\ln\\rho)/\\sqrt{\\tau^2 + 1/(2(n-1))}`, :math:`1/(2(n-1))` the sampling
    variance of the log of a sample SD.
    """
    signal = Signal("low_spread")
    ratio = spread_ratio(mean, sd, maximum) if sd is not None else None
    signal.numbers = {"works": n, "mean": _r(mean), "sd": _r(sd), "ratio": _r(ratio)}
    if isinstance(other_ratios, np.ndarray):
        logs = np.log(other_ratios[other_ratios > 0])
    else:
        logs = np.log(np.asarray([r for r in other_ratios if r is not None and r > 0], dtype=float))
    if n < MIN_WORKS or ratio is None or len(logs) < 3:
        signal.reason = _("Работ слишком мало или не с чем сравнить: по этому сигналу школа не оценивается.")
        return signal
    if ratio <= 0:
        ratio_log = math.log(1e-6)
    else:
        ratio_log = math.log(ratio)
    centre, spread = _robust_centre_spread(logs)
    scale = math.sqrt(spread * spread + 1 / (2 * (n - 1)))
    signal.judged = True
    signal.z = (centre - ratio_log) / scale
    expected_sd = math.exp(centre) * math.sqrt(mean * (maximum - mean))
    signal.numbers.update({"expected_sd": _r(expected_sd), "z": _r(signal.z)})
    signal.reason = format_text(_("Стандартное отклонение баллов {sd:.2f} при среднем {mean:.1f}; у школ региона с таким "
                      "средним ожидается около {expected:.2f}, z = {z:.1f}."),
        sd=sd, mean=mean, expected=expected_sd, z=signal.z)
    return signal


def combined_score(signals) -> float:
    """Sum over the signals of max(0, z − Z_BASE): the school's place in the list."""
    return float(sum(s.excess for s in signals))
