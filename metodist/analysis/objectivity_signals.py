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
from scipy import fft as sp_fft
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
#: The signals measured against the rest of the region's counts (objectivity_store's trimmed reference).
REGION_REFERENCE_SIGNALS = ("work_above_journal", "journal_above_work", "threshold_bunching")


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


#: Below this upper tail the batched computation (FFT) is redone exactly school by school: FFT's rounding
#: is about 1e-16 of the largest probability, so only tails far beyond any threshold are affected.
EXACT_BELOW = 1e-9


def sum_of_binomials_z_rows(k, n, p) -> np.ndarray:
    """:func:`sum_of_binomials_z` of many schools at once: row s is K_s = Σ_g Binomial(n[s, g], p[s, g]) and
    its z at k[s]. Groups with n ≤ 0 add nothing. The probability functions are multiplied in Fourier space
    (one real FFT per group for all schools), and the rows whose tail (or, for z < 0, whose complement)
    comes out below :data:`EXACT_BELOW` are computed again by direct convolution, so every z is the exact
    one to rounding."""
    k = np.rint(np.asarray(k, dtype=float)).astype(np.int64)
    n = np.rint(np.asarray(n, dtype=float)).astype(np.int64)
    n = np.where(n > 0, n, 0)
    p = np.clip(np.nan_to_num(np.asarray(p, dtype=float)), 0.0, 1.0)
    if k.size == 0:
        return np.empty(0)
    size = int(n.sum(axis=1).max()) + 1
    length = sp_fft.next_fast_len(size, real=True)
    top = int(n.max())
    scores = np.arange(top + 1, dtype=float)
    spectrum = np.ones((k.size, length // 2 + 1), dtype=complex)
    for g in range(n.shape[1]):
        ng, pg = n[:, g:g + 1].astype(float), p[:, g:g + 1]
        possible = scores[None, :] <= ng
        rest = np.where(possible, ng - scores, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            log_pmf = (special.gammaln(ng + 1.0) - special.gammaln(scores + 1.0) - special.gammaln(rest + 1.0)
                       + special.xlogy(scores, pg) + special.xlog1py(rest, -pg))
        pmf = np.where(possible, np.exp(log_pmf), 0.0)
        spectrum *= sp_fft.rfft(pmf, length, axis=1)
    pmf = sp_fft.irfft(spectrum, length, axis=1)[:, :size]
    below = np.concatenate([np.zeros((k.size, 1)), np.cumsum(pmf, axis=1)], axis=1)  # below[:, j] = P(K < j)
    total = below[:, -1]
    at = np.clip(k, 0, size)
    rows = np.arange(k.size)
    upper = total - below[rows, at]
    tail = np.where(upper > 0.5, 1.0 - below[rows, at], upper)
    tail = np.where(k >= size, 0.0, np.where(k <= 0, 1.0, tail))
    z = np.clip(-special.ndtri(np.clip(tail, 0.0, 1.0)), -8.0, 8.0)
    z[tail <= 0] = 8.0
    lower = below[rows, at]
    inexact = ((tail < EXACT_BELOW) | ((upper > 0.5) & (lower < EXACT_BELOW))) & (k < size) & (k > 0)
    for s in np.flatnonzero(inexact).tolist():
        z[s] = sum_of_binomials_z(k[s], list(zip(n[s].tolist(), p[s].tolist(), strict=True)))
    return z


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
    marks = sorted(set(school) | set(region))
    own = np.array([[school.get(m, (0, 0)) for m in marks]], dtype=float).reshape(1, len(marks), 2)
    rest = np.array([[region.get(m, (0, 0)) for m in marks]], dtype=float).reshape(1, len(marks), 2)
    return journal_disagreement_rows(own[..., 0], own[..., 1], rest[..., 0], rest[..., 1], direction=direction)[0]


def journal_disagreement_rows(k, n, region_k, region_n, *, direction: str) -> list[Signal]:
    """:func:`journal_disagreement` of many schools at once: row s, column m holds school s's works at
    work mark m in `direction` (`k`) and with both marks (`n`), and the same of the rest of the region
    (`region_k`, `region_n`)."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    region_k, region_n = np.asarray(region_k, dtype=float), np.asarray(region_n, dtype=float)
    used = (n > 0) & (region_n > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(used, region_k / np.where(region_n > 0, region_n, 1.0), 0.0)
    k_used, n_used = np.where(used, k, 0.0), np.where(used, n, 0.0)
    count, works = k_used.sum(axis=1), n_used.sum(axis=1)
    expected, variance = (n_used * p).sum(axis=1), (n_used * p * (1 - p)).sum(axis=1)
    rest_k, rest_n = region_k.sum(axis=1), region_n.sum(axis=1)
    judged = works >= MIN_WORKS
    z = np.full(k.shape[0], np.nan)
    if judged.any():
        z[judged] = sum_of_binomials_z_rows(count[judged], n_used[judged], p[judged])
    signals = []
    for s, (c, w, e, v, rk, rn) in enumerate(zip(count.tolist(), works.tolist(), expected.tolist(),
                                                 variance.tolist(), rest_k.tolist(), rest_n.tolist(),
                                                 strict=True)):
        c, w = int(c), int(w)
        signal = Signal(direction)
        signal.numbers = {"works": w, "count": c, "share": _r(c / w if w else None),
                          "expected_share": _r(e / w if w else None), "region_works": int(rn),
                          "region_share": _r(rk / rn if rn else None)}
        if w < MIN_WORKS:
            signal.reason = format_text(_("Работ с отметкой по журналу слишком мало ({n}, нужно не меньше {minimum}): по "
                                          "этому сигналу школа не оценивается."), n=w, minimum=MIN_WORKS)
            signals.append(signal)
            continue
        signal.judged = True
        signal.z = float(z[s])
        signal.numbers.update({"z": _r(signal.z), "z_normal": _r((c - e) / math.sqrt(v)) if v > 0 else None})
        values = {"share": 100 * c / w, "expected": 100 * e / w, "k": c, "n": w, "z": signal.z}
        if direction == "work_above_journal":
            signal.reason = format_text(_("Отметка за работу выше отметки по журналу у {k} из {n} участников ({share:.0f} %; "
                              "при таких же отметках в регионе ожидалось {expected:.0f} %), z = {z:.1f}."), **values)
        else:
            signal.reason = format_text(_("Отметка по журналу выше отметки за работу у {k} из {n} участников ({share:.0f} %; "
                              "при таких же отметках в регионе ожидалось {expected:.0f} %), z = {z:.1f}."), **values)
        signals.append(signal)
    return signals


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
    c, r = np.asarray(counts, dtype=float), np.asarray(region_counts, dtype=float)
    own_size, width = c.size, max(c.size, r.size)
    c, r = np.pad(c, (0, width - c.size)), np.pad(r, (0, width - r.size))
    return threshold_bunching_rows(c[None, :], r[None, :], thresholds, sizes=[own_size], below=below, at=at)[0]


def threshold_bunching_rows(counts, region_counts, thresholds, *, sizes=None, below: int = BELOW,
                            at: int = AT) -> list[Signal]:
    """:func:`threshold_bunching` of many schools at once: row s of `counts` and `region_counts` is school
    s's distribution and that of the rest of the region, zero-padded to one width; `sizes` (default: the
    width) is the length of each school's own distribution, which decides which windows fit."""
    c = np.asarray(counts, dtype=float)
    r = np.asarray(region_counts, dtype=float)
    schools, width = c.shape
    sizes = np.full(schools, width) if sizes is None else np.asarray(sizes)
    m_t, a_t, q_t, fits = [], [], [], []
    used = []
    for t in sorted(int(t) for t in thresholds):
        start, stop = t - below, t + at
        fit = (start >= 0) & (stop <= sizes)
        operator = _donut(start, stop, width, REACH, DEGREE) if start >= 0 and stop <= width else None
        if operator is None or not fit.any():
            continue
        xs, projection = operator
        smooth = np.clip(r[:, xs] @ projection.T, 0.0, None)
        mass = smooth.sum(axis=1)
        fit = fit & (mass > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            q = np.where(mass > 0, smooth[:, below:].sum(axis=1) / np.where(mass > 0, mass, 1.0), 0.0)
        m_t.append(np.where(fit, c[:, start:stop].sum(axis=1), 0.0))
        a_t.append(np.where(fit, c[:, t:stop].sum(axis=1), 0.0))
        q_t.append(q)
        fits.append(fit)
        used.append(t)
    shape = (schools, len(used))
    m = np.column_stack(m_t) if used else np.zeros(shape)
    a = np.column_stack(a_t) if used else np.zeros(shape)
    q = np.column_stack(q_t) if used else np.zeros(shape)
    fit = np.column_stack(fits) if used else np.zeros(shape, dtype=bool)
    observed, in_window = a.sum(axis=1), m.sum(axis=1)
    expected, variance = (m * q).sum(axis=1), (m * q * (1 - q)).sum(axis=1)
    total = c.sum(axis=1)
    judged = (total >= MIN_WORKS) & (in_window >= 4) & (variance > 0)
    z = np.full(schools, np.nan)
    if judged.any():
        z[judged] = sum_of_binomials_z_rows(observed[judged], m[judged], q[judged])
    signals = []
    for s in range(schools):
        signal = Signal("threshold_bunching")
        per_threshold = [{"threshold": t, "works": int(m[s, j]), "at_or_above": int(a[s, j]),
                          "expected_share": _r(q[s, j])} for j, t in enumerate(used) if fit[s, j]]
        o, e, w = float(observed[s]), float(expected[s]), float(in_window[s])
        signal.numbers = {"works": int(total[s]), "near_thresholds": int(w), "at_or_above": int(o),
                          "expected": _r(e), "thresholds": per_threshold}
        if not judged[s]:
            signal.reason = format_text(_("Работ около порогов отметок слишком мало ({n}): по этому сигналу школа не "
                                          "оценивается."), n=int(w))
            signals.append(signal)
            continue
        signal.judged = True
        signal.z = float(z[s])
        signal.numbers["z_normal"] = _r((o - e) / math.sqrt(float(variance[s])))
        share, expected_share = o / w, e / w
        signal.numbers.update({"share": _r(share), "expected_share": _r(expected_share),
                               "excess_mass": _r((o - e) / float(total[s])), "z": _r(signal.z)})
        signal.reason = format_text(_("Около порогов отметок ({n} работ) на пороге или чуть выше него {share:.0f} % работ, "
                          "а по сглаженному распределению региона ожидалось {expected:.0f} %, z = {z:.1f}."),
            n=int(w), share=100 * share, expected=100 * expected_share, z=signal.z)
        signals.append(signal)
    return signals


def _robust_centre_spread(values) -> tuple[float, float]:
    if isinstance(values, np.ndarray):
        x = values[np.isfinite(values)]
    else:
        x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if x.size == 0:
        return 0.0, 0.0
    centre = float(np.median(x))
    return centre, float(MAD_TO_SD * np.median(np.abs(x - centre)))


def leave_one_out_centre_spread(values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every element i: the median, 1.4826·MAD and number of the finite values other than the i-th
    (what :func:`_robust_centre_spread` gives on the values with element i left out), all at once: each
    school's yardstick is the rest of the region."""
    x = np.asarray(values, dtype=float)
    finite = np.isfinite(x)
    pool = np.sort(x[finite])
    size = pool.size
    centre, spread = np.zeros(x.size), np.zeros(x.size)
    count = np.where(finite, size - 1, size)
    if size > 1 and finite.any():
        # the finite element of rank r leaves the sorted pool without its r-th value
        ranks = np.searchsorted(pool, x[finite])
        keep = np.arange(size - 1)[None, :]
        others = pool[keep + (keep >= ranks[:, None])]
        mid = np.median(others, axis=1)
        centre[finite] = mid
        spread[finite] = MAD_TO_SD * np.median(np.abs(others - mid[:, None]), axis=1)
    if size and not finite.all():
        mid = float(np.median(pool))
        centre[~finite] = mid
        spread[~finite] = MAD_TO_SD * float(np.median(np.abs(pool - mid)))
    return centre, spread, count


def unexpected_result(pct: float, se: float, reference_pct: float | None, other_residuals,
                      yardstick: tuple[float, float] | None = None) -> Signal:
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
    yardstick : (centre, spread), optional
        Their median and 1.4826·MAD, when already known (:func:`leave_one_out_centre_spread`);
        `other_residuals` is then not read.

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
    centre, spread = yardstick if yardstick is not None else _robust_centre_spread(other_residuals)
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


def low_spread(n: int, mean: float, sd: float | None, maximum: float, other_ratios,
               yardstick: tuple[float, float, int] | None = None) -> Signal:
    """An SD of primary scores far below the region's at the same mean.

    Notes
    -----
    The SD a school can have depends on its mean (near the floor or the ceiling it shrinks), so it is
    compared as :math:`\\rho = S/\\sqrt{\\bar x(M - \\bar x)}` (:func:`spread_ratio`). With
    :math:`\\tilde\\ell` the median and :math:`\\tau` = 1.4826·MAD of :math:`\\ln\\rho` of the other schools,
    :math:`z = (\\tilde\\ell - \\ln\\rho)/\\sqrt{\\tau^2 + 1/(2(n-1))}`, :math:`1/(2(n-1))` the sampling
    variance of the log of a sample SD. `yardstick`, when given, is (median, 1.4826·MAD, number) of the
    other schools' :math:`\\ln\\rho` (:func:`leave_one_out_centre_spread`), and `other_ratios` is not read.
    """
    signal = Signal("low_spread")
    ratio = spread_ratio(mean, sd, maximum) if sd is not None else None
    signal.numbers = {"works": n, "mean": _r(mean), "sd": _r(sd), "ratio": _r(ratio)}
    if yardstick is None:
        if isinstance(other_ratios, np.ndarray):
            logs = np.log(other_ratios[other_ratios > 0])
        else:
            logs = np.log(np.asarray([r for r in other_ratios if r is not None and r > 0], dtype=float))
        others = len(logs)
    else:
        others = yardstick[2]
    if n < MIN_WORKS or ratio is None or others < 3:
        signal.reason = _("Работ слишком мало или не с чем сравнить: по этому сигналу школа не оценивается.")
        return signal
    if ratio <= 0:
        ratio_log = math.log(1e-6)
    else:
        ratio_log = math.log(ratio)
    centre, spread = _robust_centre_spread(logs) if yardstick is None else yardstick[:2]
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
