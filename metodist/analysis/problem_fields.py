"""Problem fields: which groups are really below their reference on a content element, skill or task type.

Plain functions on aggregate rows (one row per group × field: points earned, points possible, pupils,
tasks, the reference solve rate, the weight of the field's tasks, the level of its tasks). No Django
models and no database: the analysis engine aggregates in the database and passes the rows here.

Two decisions stand side by side (see docs/methods.md, «Проблемные поля»):

* the statistical one: the group is below what is expected of IT on the field. The expected rate moves
  the reference rate of the field by the group's own standing on the whole work on the logit scale
  (a weak school's teacher is expected to be weak everywhere; that is not a problem of one element); a
  one-sided test that the group is more than a practical margin of 5 points below that expectation, with
  the group's effective number of trials, and the Benjamini–Hochberg false discovery rate (q = 0.05)
  across all rows of a group level decide. Empirical-Bayes beta-binomial shrinkage (Efron & Morris 1975,
  Morris 1983) of the solve rate with its 95 % credible interval is reported beside, not decided on;
* the federal rule as it is written: a basic-level task solved by under 57 % and an advanced or high
  one by under 28.5 % of a group is insufficient; groups of fewer than 10 pupils are not judged alone.

Every row says whether the two agree and, if not, why, in a Russian sentence.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache

import numpy as np
from django.utils.translation import get_language, gettext
from scipy import stats


@lru_cache(maxsize=512)
def _translated(language: str | None, message: str) -> str:
    return gettext(message)


_pinned = threading.local()


def _(message: str) -> str:
    """gettext, remembered per language: a region's run explains hundreds of thousands of rows with the
    same dozen sentences (inside :func:`pinned_language`, the language is not looked up again either)."""
    language = getattr(_pinned, "language", None)
    return _translated(language or get_language(), message)


@contextmanager
def pinned_language():
    """Within the block, :func:`_` translates into the language active at its start without asking Django
    for the active language on every call (a lookup through a context-local that costs more than the
    translation)."""
    previous = getattr(_pinned, "language", None)
    _pinned.language = get_language()
    try:
        yield
    finally:
        _pinned.language = previous


#: Practical margin: a group must be credibly more than this far below its reference to be flagged.
MARGIN = 0.05
#: Probability mass of the credible interval.
CREDIBILITY = 0.95
#: Correlation of one pupil's results on two tasks of the same field (design effect of the tasks).
TASK_CORRELATION = 0.2
#: Federal thresholds: a basic task under 57 %, an advanced or high one under 28.5 % is insufficient.
BASIC_THRESHOLD = 0.57
ADVANCED_THRESHOLD = 0.285
#: Groups with fewer pupils are not judged alone by the federal rule.
MIN_PUPILS = 10
#: False discovery rate of the statistical decision (Benjamini–Hochberg, per group level).
FDR = 0.05
#: Rates are clipped to this distance from 0 and 1 before the logit.
RATE_CLIP = 0.005
#: The empirical null (centre and spread of the z-scores) is estimated from a level's rows when it has at
#: least this many; with fewer, the theoretical N(0, 1) is used.
EMPIRICAL_NULL_MIN = 200

BASIC = "basic"
ADVANCED = "advanced"
HIGH = "high"
MIXED = "mixed"
LEVEL_ALIASES = {
    "basic": BASIC, "б": BASIC, "базовый": BASIC, "b": BASIC,
    "advanced": ADVANCED, "п": ADVANCED, "повышенный": ADVANCED, "p": ADVANCED,
    "high": HIGH, "в": HIGH, "высокий": HIGH, "h": HIGH,
    "mixed": MIXED, "смешанный": MIXED,
}

# Federal verdicts.
INSUFFICIENT = "insufficient"
SUFFICIENT = "sufficient"
TOO_FEW = "too_few"
NOT_APPLICABLE = "not_applicable"

# Agreement of the two decisions.
BOTH = "both"
NEITHER = "neither"
STATISTICAL_ONLY = "statistical_only"
FEDERAL_ONLY = "federal_only"
FEDERAL_NOT_JUDGED = "federal_not_judged"


class ProblemFieldsError(ValueError):
    """Bad input: the message is a Russian sentence for the user."""


@dataclass
class FieldAggregate:
    """One group × field row as the engine aggregates it.

    ``points`` is the sum of the pupils' scores on the field's tasks, ``possible`` the sum of the tasks'
    maxima times the pupils who wrote the work, ``tasks`` the number of the field's tasks in the work.
    ``reference`` is the reference solve rate (0..1): the parent level's or a national one; when it is
    None, ``reference_points / reference_possible`` is used. ``task_level`` is basic / advanced / high /
    mixed; ``task_rates`` is a sequence of (level, solve rate) per task, needed for a mixed field.
    """

    group: object
    group_level: str
    field: object
    points: float
    possible: float
    pupils: int
    tasks: int = 1
    reference: float | None = None
    reference_points: float | None = None
    reference_possible: float | None = None
    weight: float = 1.0
    task_level: str | None = None
    task_rates: tuple | None = None
    #: The group's and the reference's points / possible over all tasks of the work; when not given, the
    #: expected rate is the reference itself.
    overall_points: float | None = None
    overall_possible: float | None = None
    reference_overall_points: float | None = None
    reference_overall_possible: float | None = None


@dataclass
class BetaPrior:
    """The prior of the true solve rates of one group level × field, fitted across its groups."""

    mean: float
    between_variance: float
    groups: int
    #: Shrinkage factor B_i of every group (0 = keep the observed rate, 1 = replace it by the mean).
    shrinkage: np.ndarray = field(repr=False)


@dataclass
class ProblemFieldResult:
    group: object
    group_level: str
    field: object
    pupils: int
    effective_n: float
    solve_rate: float
    reference: float
    difference: float
    prior_mean: float
    shrinkage: float
    posterior_mean: float
    lower: float
    upper: float
    p_value: float
    flagged: bool
    priority: float
    federal_verdict: str
    federal_threshold: float | None
    agreement: str
    insufficient_tasks: list = field(default_factory=list)
    #: What is expected of this group on the field given its result on the whole work, and the specific gap
    #: (solve rate − expected); ``q_value`` is the Benjamini–Hochberg adjusted p-value.
    expected: float = float("nan")
    specific_gap: float = float("nan")
    q_value: float = float("nan")
    #: level of the field's tasks, for the explanation
    task_level: str | None = None
    explanation_text: str | None = field(default=None, repr=False)

    @property
    def explanation(self) -> str:
        """The Russian explanation, built when first asked for: a region brings hundreds of thousands of
        group × field rows and most of them are never stored or shown."""
        if self.explanation_text is None:
            self.explanation_text = _explanation(self, self.task_level)
        return self.explanation_text

    def as_dict(self) -> dict:
        data = asdict(self)
        data["explanation"] = data.pop("explanation_text") or self.explanation
        return data


def _level(value) -> str | None:
    if value is None:
        return None
    key = str(value).strip().lower()
    if not key:
        return None
    if key not in LEVEL_ALIASES:
        raise ProblemFieldsError(
            _("Уровень сложности «{level}» не распознан: укажите базовый, повышенный или высокий.").format(
                level=value))
    return LEVEL_ALIASES[key]


def _pct(value: float | None) -> str:
    """A percentage the Russian way: 52,3."""
    if value is None:
        return "—"
    return f"{100 * value:.1f}".replace(".", ",")


def effective_trials(pupils, tasks, *, task_correlation: float = TASK_CORRELATION) -> np.ndarray:
    """Effective number of independent trials behind a group's solve rate on a field.

    Notes
    -----
    A field of :math:`m` tasks written by :math:`n` pupils gives :math:`nm` task results, each scored as
    a fraction of its maximum (so a 3-point task counts once, not three times: its points are not three
    independent trials). Results of one pupil are correlated (:math:`\\rho`, the correlation of one
    pupil's results on two tasks); Kish's design effect divides by :math:`1 + (m - 1)\\rho`:

    .. math:: n_{eff} = \\frac{n m}{1 + (m - 1)\\rho}.

    References
    ----------
    Kish, L. (1965). Survey Sampling. Wiley, §5.4 (design effect of cluster samples).
    """
    n = np.asarray(pupils, dtype=float)
    m = np.maximum(np.asarray(tasks, dtype=float), 1.0)
    return n * m / (1.0 + (m - 1.0) * task_correlation)


def fit_beta_prior(successes, trials, *, iterations: int = 100) -> BetaPrior:
    """Empirical-Bayes prior of the true rates across groups, by the method of moments.

    Parameters
    ----------
    successes, trials : array_like, shape (groups,)
        Successes :math:`x_i` (may be fractional) out of :math:`n_i` trials per group.

    Returns
    -------
    BetaPrior
        Prior mean :math:`\\hat\\mu`, between-group variance :math:`\\hat A` of the true rates and the
        shrinkage factor :math:`\\hat B_i` of every group.

    Notes
    -----
    With :math:`y_i = x_i/n_i`, sampling variance :math:`V_i = \\hat\\mu(1-\\hat\\mu)/n_i` and
    :math:`k` groups, :math:`\\hat A` and :math:`\\hat\\mu` solve (Morris 1983, §4)

    .. math:: \\hat A = \\max\\Bigl(0, \\frac{\\sum_i w_i\\,[\\tfrac{k}{k-1}(y_i-\\hat\\mu)^2 - V_i]}
              {\\sum_i w_i}\\Bigr), \\quad
              \\hat\\mu = \\frac{\\sum_i w_i y_i}{\\sum_i w_i}, \\quad w_i = \\frac{1}{V_i + \\hat A},

    and the shrinkage factor is

    .. math:: \\hat B_i = \\frac{k-3}{k-1}\\,\\frac{V_i}{V_i + \\hat A}.

    The factor :math:`(k-3)/(k-1)` makes :math:`\\hat B` unbiased for equal :math:`n_i`, where the
    estimate is exactly the James–Stein / Efron–Morris one,
    :math:`\\hat B = (k-3)V/\\sum_i (y_i-\\bar y)^2`. The posterior of group :math:`i` is the beta
    distribution with mean :math:`(1-\\hat B_i)y_i + \\hat B_i\\hat\\mu` and prior sample size
    :math:`M_i = n_i\\hat B_i/(1-\\hat B_i)` (:func:`posterior`). With :math:`k \\le 3` nothing is pooled.

    References
    ----------
    Efron, B., Morris, C. (1975). Data analysis using Stein's estimator and its generalizations.
    JASA, 70(350), 311–319.
    Morris, C. N. (1983). Parametric empirical Bayes inference: theory and applications.
    JASA, 78(381), 47–55.
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    k = x.size
    if k == 0:
        return BetaPrior(float("nan"), 0.0, 0, np.zeros(0))
    y = x / n
    mu = float(x.sum() / n.sum())
    if k <= 3:
        return BetaPrior(mu, float("nan"), k, np.zeros(k))
    a = float(np.var(y, ddof=1))
    for _step in range(iterations):
        v = max(mu * (1 - mu), 1e-9) / n
        w = 1.0 / (v + a)
        mu_new = float(w @ y / w.sum())
        a_new = max(0.0, float(w @ (k / (k - 1) * (y - mu_new) ** 2 - v) / w.sum()))
        done = abs(a_new - a) < 1e-12 and abs(mu_new - mu) < 1e-12
        mu, a = mu_new, a_new
        if done:
            break
    v = max(mu * (1 - mu), 1e-9) / n
    shrinkage = (k - 3) / (k - 1) * v / (v + a)
    return BetaPrior(mu, a, k, shrinkage)


def posterior(successes, trials, prior: BetaPrior, *, credibility: float = CREDIBILITY):
    """Posterior mean and equal-tailed credible interval of every group's true rate.

    Notes
    -----
    Group :math:`i` with prior :math:`\\mathrm{Beta}(\\hat\\mu M_i, (1-\\hat\\mu)M_i)`,
    :math:`M_i = n_i\\hat B_i/(1-\\hat B_i)`, has the posterior

    .. math:: \\theta_i \\mid x_i \\sim \\mathrm{Beta}(x_i + \\hat\\mu M_i,\\; n_i - x_i + (1-\\hat\\mu)M_i),

    with mean :math:`(1-\\hat B_i) y_i + \\hat B_i \\hat\\mu`. When nothing is pooled (:math:`\\hat B_i = 0`)
    the Jeffreys prior :math:`\\mathrm{Beta}(1/2, 1/2)` gives the interval.

    Returns
    -------
    tuple of ndarray
        Posterior means, lower and upper bounds.
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    b = np.clip(prior.shrinkage, 0.0, 1.0 - 1e-9)
    m = n * b / (1.0 - b)
    mu = prior.mean if math.isfinite(prior.mean) else 0.5
    alpha = np.where(m > 0, x + mu * m, x + 0.5)
    beta = np.where(m > 0, n - x + (1 - mu) * m, n - x + 0.5)
    mean = np.where(m > 0, (1 - b) * x / n + b * mu, x / n)
    tail = (1 - credibility) / 2
    return mean, stats.beta.ppf(tail, alpha, beta), stats.beta.ppf(1 - tail, alpha, beta)


def score_test_z(successes, trials, reference, *, margin: float = MARGIN) -> np.ndarray:
    """The z-score of :func:`score_test_p` (negative = below ``reference - margin``)."""
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    r0 = np.clip(np.asarray(reference, dtype=float) - margin, 1e-9, 1 - 1e-9)
    return (x + 0.5 - n * r0) / np.sqrt(n * r0 * (1 - r0))


def empirical_null(z) -> tuple[float, float]:
    """Centre and spread of the null z-scores, robustly: the median and the upper half-IQR / 0.674.

    Notes
    -----
    With thousands of group × field tests of which few are real deficits, the bulk of the z-scores is the
    null; their spread shows whether the theoretical N(0, 1) fits (Efron 2004; Efron 2010, ch. 6). In
    school works it does not exactly: the design effect :math:`1 + (m-1)\\rho` is a cautious guess, so the
    null z are narrower than N(0, 1), or wider when groups differ on fields more than by chance. With
    fewer than :data:`EMPIRICAL_NULL_MIN` values the theoretical (0, 1) is returned.

    References
    ----------
    Efron, B. (2004). Large-scale simultaneous hypothesis testing: the choice of a null hypothesis.
    JASA, 99(465), 96–104.
    """
    z = np.asarray(z, dtype=float)
    z = z[np.isfinite(z)]
    if z.size < EMPIRICAL_NULL_MIN:
        return 0.0, 1.0
    centre, q75 = np.percentile(z, [50, 75])
    spread = float((q75 - centre) / stats.norm.ppf(0.75))
    if not spread > 0:
        return 0.0, 1.0
    return float(centre), spread


def score_test_p(successes, trials, reference, *, margin: float = MARGIN) -> np.ndarray:
    """One-sided p-value that a group is more than ``margin`` below its reference.

    Notes
    -----
    Normal approximation to the binomial with continuity correction, testing
    :math:`H_0: \\theta \\ge r - \\delta` against :math:`\\theta < r - \\delta` (:math:`\\delta` the margin):

    .. math:: z = \\frac{x + \\tfrac12 - n(r-\\delta)}{\\sqrt{n(r-\\delta)(1-r+\\delta)}}, \\qquad p = \\Phi(z).

    With ``reference`` the expected rate of the group (:func:`expected_rate`), this is the test of the
    decision (after :func:`benjamini_hochberg`).
    """
    return stats.norm.cdf(score_test_z(successes, trials, reference, margin=margin))


def _logit(p):
    p = np.clip(np.asarray(p, dtype=float), RATE_CLIP, 1 - RATE_CLIP)
    return np.log(p / (1 - p))


def expected_rate(reference, overall, reference_overall) -> np.ndarray:
    """What is expected of a group on a field given its result on the whole work.

    Notes
    -----
    The reference's rate :math:`r` on the field is moved by the group's standing on the whole work
    (:math:`o` its rate on all tasks, :math:`o_r` the reference's) on the logit scale, as in a Rasch-type
    model where a group's ability adds to every task's easiness:

    .. math:: e = \\operatorname{logit}^{-1}\\bigl(\\operatorname{logit} r + \\operatorname{logit} o
              - \\operatorname{logit} o_r\\bigr).

    Rates are clipped to [0.005, 0.995] before the logit. Where ``overall`` is NaN, :math:`e = r`.
    """
    r = np.asarray(reference, dtype=float)
    o = np.asarray(overall, dtype=float)
    o_r = np.asarray(reference_overall, dtype=float)
    known = np.isfinite(o) & np.isfinite(o_r)
    shift = np.where(known, _logit(np.where(known, o, 0.5)) - _logit(np.where(known, o_r, 0.5)), 0.0)
    e = 1.0 / (1.0 + np.exp(-(_logit(r) + shift)))
    return np.where(known, e, r)


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values): reject where q ≤ the false discovery rate.

    Notes
    -----
    With :math:`m` p-values sorted ascending, :math:`q_{(i)} = \\min_{j \\ge i} \\min(1, m p_{(j)}/j)`.

    References
    ----------
    Benjamini, Y., Hochberg, Y. (1995). Controlling the false discovery rate: a practical and powerful
    approach to multiple testing. JRSS B, 57(1), 289–300.
    """
    p = np.asarray(p_values, dtype=float)
    m = p.size
    if m == 0:
        return p.copy()
    order = np.argsort(p)
    scaled = p[order] * m / np.arange(1, m + 1)
    q_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1.0)
    return q


def federal_threshold(level: str | None) -> float | None:
    """57 % for basic tasks, 28.5 % for advanced and high ones, None when the level is unknown."""
    level = _level(level)
    if level == BASIC:
        return BASIC_THRESHOLD
    if level in (ADVANCED, HIGH):
        return ADVANCED_THRESHOLD
    return None


def _below(rate: float, threshold: float) -> bool:
    # «under 57 %»: exactly 57 % is sufficient; a rate computed as 57/100 must not fall below by rounding.
    return rate < threshold - 1e-9


def federal_verdict(solve_rate: float, pupils: int, task_level: str | None = None, task_rates=None):
    """The federal rule: is the group's result on a field insufficient?

    Parameters
    ----------
    solve_rate : float
        The group's solve rate on the field (0..1).
    pupils : int
        Pupils who wrote the work.
    task_level : str, optional
        Level of the field's tasks: basic, advanced, high, or mixed.
    task_rates : sequence of (level, rate), optional
        The group's solve rate on each task of the field; when given, the field is insufficient if any
        task is below the threshold of its level.

    Returns
    -------
    tuple
        (verdict, threshold, insufficient tasks as indices into ``task_rates``): verdict is
        ``too_few`` (under 10 pupils), ``insufficient``, ``sufficient`` or ``not_applicable`` (no level).

    Notes
    -----
    A basic-level task solved by under 57 % and an advanced- or high-level one by under 28.5 % of a group
    is insufficient; a rate exactly at the threshold is sufficient. Groups of fewer than 10 pupils are not
    judged alone.
    """
    level = _level(task_level)
    if pupils < MIN_PUPILS:
        return TOO_FEW, federal_threshold(level) if level != MIXED else None, []
    if task_rates:
        low = [i for i, (lvl, rate) in enumerate(task_rates)
               if federal_threshold(lvl) is not None and _below(float(rate), federal_threshold(lvl))]
        threshold = federal_threshold(level) if level != MIXED else None
        return (INSUFFICIENT if low else SUFFICIENT), threshold, low
    threshold = federal_threshold(level) if level != MIXED else None
    if threshold is None:
        return NOT_APPLICABLE, None, []
    return (INSUFFICIENT if _below(solve_rate, threshold) else SUFFICIENT), threshold, []


def _rows(aggregates) -> list[FieldAggregate]:
    names = {f.name for f in fields(FieldAggregate)}
    if isinstance(aggregates, Mapping):
        columns = {k: list(v) for k, v in aggregates.items() if k in names}
        length = len(next(iter(columns.values()), []))
        aggregates = [{k: v[i] for k, v in columns.items()} for i in range(length)]
    rows = []
    for item in aggregates:
        if isinstance(item, FieldAggregate):
            rows.append(item)
        else:
            rows.append(FieldAggregate(**{k: v for k, v in dict(item).items() if k in names}))
    for row in rows:
        if row.possible is None or row.possible <= 0 or row.pupils is None or row.pupils <= 0:
            raise ProblemFieldsError(
                _("У группы {group} по полю {field} нет ни одного участника или максимального балла.").format(
                    group=row.group, field=row.field))
        if row.points < 0 or row.points > row.possible + 1e-9:
            raise ProblemFieldsError(
                _("У группы {group} по полю {field} набрано {points:g} баллов из {possible:g} возможных.").format(
                    group=row.group, field=row.field, points=row.points, possible=row.possible))
        if row.reference is None:
            if not row.reference_possible:
                raise ProblemFieldsError(
                    _("У группы {group} по полю {field} не задан ориентир для сравнения.").format(
                        group=row.group, field=row.field))
            row.reference = row.reference_points / row.reference_possible
    return rows


def _overall(row: FieldAggregate) -> tuple[float, float]:
    """The group's and the reference's rates on the OTHER tasks of the work (the field's own tasks left
    out, so that a deficit on the field does not lower its own expectation); NaN when unknown."""
    if not (row.overall_possible and row.reference_overall_possible):
        return float("nan"), float("nan")
    points, possible = row.overall_points - row.points, row.overall_possible - row.possible
    ref_points, ref_possible = row.reference_overall_points, row.reference_overall_possible
    if row.reference_possible:  # when only the reference rate is given, its work total stays whole
        ref_points, ref_possible = ref_points - row.reference_points, ref_possible - row.reference_possible
    if possible <= 0 or ref_possible <= 0:
        return float("nan"), float("nan")
    return points / possible, ref_points / ref_possible


def _expected_text(r: ProblemFieldResult) -> str:
    """The expected rate and the specific gap, as a sentence (empty when the work's totals are unknown)."""
    if not math.isfinite(r.expected) or r.expected == r.reference:
        return ""
    return " " + _("С учётом результата группы по всей работе ожидалась решаемость {expected} %, отставание "
                   "от ожидаемого — {gap} пункта.").format(expected=_pct(r.expected),
                                                          gap=_pct(-r.specific_gap))


def _explanation(r: ProblemFieldResult, level: str | None) -> str:
    rate, ref = _pct(r.solve_rate), _pct(r.reference)
    shrunk, threshold = _pct(r.posterior_mean), _pct(r.federal_threshold)
    margin = _pct(MARGIN)
    expected = _expected_text(r)
    if r.agreement == FEDERAL_NOT_JUDGED:
        if r.flagged:
            return _("Участников в группе: {n}, меньше {min}, поэтому по федеральному правилу её не оценивают "
                     "отдельно; но статистически отставание достоверно: решаемость {rate} % при ориентире "
                     "{ref} %, группа ниже ожидаемого от неё больше чем на {margin} пункта.").format(
                         n=r.pupils, min=MIN_PUPILS, rate=rate, ref=ref, margin=margin) + expected
        return _("Участников в группе: {n}, меньше {min}, поэтому по федеральному правилу её не оценивают "
                 "отдельно; статистически достоверного отставания тоже нет (решаемость {rate} % при "
                 "ориентире {ref} %).").format(n=r.pupils, min=MIN_PUPILS, rate=rate, ref=ref) + expected
    if r.agreement == BOTH:
        return _("Проблемное поле по обоим правилам: решаемость {rate} % при ориентире {ref} % и ниже "
                 "федерального порога.").format(rate=rate, ref=ref) + expected
    if r.agreement == STATISTICAL_ONLY:
        if r.federal_verdict == NOT_APPLICABLE:
            return _("Статистически отставание достоверно (решаемость {rate} % при ориентире {ref} %), а "
                     "федеральное правило не применено: не указан уровень сложности заданий.").format(
                         rate=rate, ref=ref) + expected
        return _("Статистически отставание достоверно (решаемость {rate} % при ориентире {ref} %), но "
                 "федеральный порог пройден: группа отстаёт от ожидаемого, хотя формально "
                 "справилась.").format(rate=rate, ref=ref) + expected
    if r.agreement == FEDERAL_ONLY:
        if r.reference < (r.federal_threshold or 0) + MARGIN:
            return _("По федеральному правилу результат недостаточный (решаемость {rate} % ниже порога "
                     "{threshold} %), но и ориентир низок ({ref} %): это трудность всего уровня, а не этой "
                     "группы.").format(rate=rate, threshold=threshold, ref=ref) + expected
        return _("По федеральному правилу результат недостаточный (решаемость {rate} % ниже порога "
                 "{threshold} %), но статистически отставание от ожидаемого не доказано (ориентир {ref} %; с "
                 "учётом числа участников оценка решаемости {shrunk} %).").format(
                     rate=rate, threshold=threshold, ref=ref, shrunk=shrunk) + expected
    return _("Проблемы не выявлено: решаемость {rate} % при ориентире {ref} %.").format(
        rate=rate, ref=ref) + expected


def _codes(keys) -> np.ndarray:
    """Integer codes of hashable keys, in the order of first appearance."""
    seen: dict = {}
    return np.fromiter((seen.setdefault(k, len(seen)) for k in keys), dtype=np.int64, count=len(keys))


def _groups(codes: np.ndarray):
    """Row indices (ascending) of every code, codes in ascending order."""
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    return np.split(order, bounds) if order.size else []


def decide_columns(
    *, strata, levels, points, possible, pupils, tasks, reference, overall, reference_overall, weight,
    margin: float = MARGIN, credibility: float = CREDIBILITY, task_correlation: float = TASK_CORRELATION,
    fdr: float = FDR,
) -> dict[str, np.ndarray]:
    """The statistical decision of :func:`problem_fields` on columns: one array element per group × field.

    ``strata`` (int) says which rows share a beta prior (one group level × field), ``levels`` (int) which
    rows share the empirical null and the Benjamini–Hochberg adjustment (one group level); ``overall`` and
    ``reference_overall`` are the group's and the reference's rates on the other tasks of the work (NaN
    when unknown, see :func:`expected_rate`). Returns the arrays ``solve_rate``, ``effective_n``,
    ``reference``, ``prior_mean``, ``shrinkage``, ``posterior_mean``, ``lower``, ``upper``, ``expected``,
    ``p_value``, ``q_value``, ``flagged`` and ``priority``. The federal rule is not applied here.
    """
    points = np.asarray(points, dtype=float)
    rates = points / np.asarray(possible, dtype=float)
    pupils = np.asarray(pupils, dtype=float)
    n_eff = effective_trials(pupils, tasks, task_correlation=task_correlation)
    x = rates * n_eff
    reference = np.asarray(reference, dtype=float)
    size = rates.size
    post_mean, lower, upper = np.empty(size), np.empty(size), np.empty(size)
    prior_mean, shrink = np.empty(size), np.empty(size)
    for idx in _groups(np.asarray(strata)):
        prior = fit_beta_prior(x[idx], n_eff[idx])
        post_mean[idx], lower[idx], upper[idx] = posterior(x[idx], n_eff[idx], prior, credibility=credibility)
        prior_mean[idx] = prior.mean
        shrink[idx] = prior.shrinkage
    expected = expected_rate(reference, overall, reference_overall)
    z_gap = score_test_z(x, n_eff, expected, margin=0.0)
    z_margin = score_test_z(x, n_eff, expected, margin=margin)
    p_values, q_values = np.empty(size), np.empty(size)
    centres, spreads, cutoffs = np.empty(size), np.empty(size), np.empty(size)
    for index in _groups(np.asarray(levels)):
        centre, spread = empirical_null(z_gap[index])
        p_values[index] = stats.norm.cdf((z_margin[index] - centre) / spread)
        q_values[index] = benjamini_hochberg(p_values[index])
        rejected = p_values[index][q_values[index] <= fdr]
        centres[index], spreads[index] = centre, spread
        cutoffs[index] = rejected.max() if rejected.size else 0.0
    flagged = q_values <= fdr
    gap = np.maximum(0.0, expected - post_mean)
    priority = np.where(flagged, gap * pupils * np.asarray(weight, dtype=float), 0.0)
    return {"solve_rate": rates, "effective_n": n_eff, "reference": reference, "prior_mean": prior_mean,
            "shrinkage": shrink, "posterior_mean": post_mean, "lower": lower, "upper": upper,
            "expected": expected, "p_value": p_values, "q_value": q_values, "flagged": flagged,
            "priority": priority, "null_centre": centres, "null_spread": spreads, "p_cutoff": cutoffs}


def part_p_value(points, possible, pupils, tasks, reference, overall, reference_overall, centre, spread, *,
                 margin: float = MARGIN, task_correlation: float = TASK_CORRELATION) -> float:
    """The p-value of :func:`decide_columns`' test for one group on part of a field's tasks (see
    :func:`shared_task_review`), with the empirical null of its level (``centre``, ``spread``)."""
    n_eff = effective_trials(pupils, tasks, task_correlation=task_correlation)
    x = points / possible * n_eff
    expected = expected_rate(reference, overall, reference_overall)
    z = score_test_z(x, n_eff, expected, margin=margin)
    return float(stats.norm.cdf((float(z) - centre) / spread))


def shared_task_review(candidates, part_p, cutoff: float) -> set:
    """Which flagged fields of one group and work stand on their own tasks.

    Parameters
    ----------
    candidates : list of (key, p_value, task set)
        The group's flagged fields of one kind (content elements, or skills, …) in one work.
    part_p : callable (key, task set) → p-value
        The test of the field on a subset of its tasks (:func:`part_p_value`).
    cutoff : float
        The largest p-value the Benjamini–Hochberg procedure rejected in the level.

    Returns
    -------
    set
        The keys that stay flagged.

    Notes
    -----
    One task often checks two or three content elements, so a group that fails a task is below its
    expectation on every element of it. Fields are taken from the strongest (smallest p) down; a field that
    shares tasks with fields already kept is tested again on its tasks that none of them has, at the
    level's rejection threshold, and kept only if it is still below its expectation there. A field whose
    tasks all belong to stronger fields (the same task set, or a part of one) cannot be told apart from
    them by any rule on results and is kept beside them: the teacher is shown both.
    """
    kept: list[tuple[object, frozenset]] = []
    for key, _p, tasks in sorted(candidates, key=lambda c: c[1]):
        tasks = frozenset(tasks)
        covered = frozenset().union(*(t for _k, t in kept if t & tasks))
        rest = tasks - covered
        if not covered or not rest or part_p(key, rest) <= cutoff:
            kept.append((key, tasks))
    return {key for key, _t in kept}


def federal_verdicts(rates, pupils, thresholds, mixed=None, mixed_low=None) -> np.ndarray:
    """:func:`federal_verdict` on columns, for fields of one level each or mixed ones.

    ``thresholds`` is the threshold of the field's level (NaN when the level is unknown or mixed);
    ``mixed`` (bool) marks the rows of a mixed field and ``mixed_low`` (bool) those of them with a task
    below the threshold of its own level. Returns an array of verdicts (strings)."""
    rates = np.asarray(rates, dtype=float)
    thresholds = np.asarray(thresholds, dtype=float)
    result = np.full(rates.size, NOT_APPLICABLE, dtype=object)
    known = np.isfinite(thresholds)
    result[known] = SUFFICIENT
    result[known & (rates < np.where(known, thresholds, 0.0) - 1e-9)] = INSUFFICIENT
    if mixed is not None:
        mixed = np.asarray(mixed, dtype=bool)
        result[mixed] = np.where(np.asarray(mixed_low, dtype=bool)[mixed], INSUFFICIENT, SUFFICIENT)
    result[np.asarray(pupils) < MIN_PUPILS] = TOO_FEW
    return result


def agreements(flagged, verdicts) -> np.ndarray:
    """The agreement of the two decisions per row (see :func:`problem_fields`)."""
    flagged = np.asarray(flagged, dtype=bool)
    insufficient = verdicts == INSUFFICIENT
    result = np.full(flagged.size, NEITHER, dtype=object)
    result[~flagged & insufficient] = FEDERAL_ONLY
    result[flagged] = STATISTICAL_ONLY
    result[flagged & insufficient] = BOTH
    result[verdicts == TOO_FEW] = FEDERAL_NOT_JUDGED
    return result


def problem_fields(
    aggregates,
    *,
    margin: float = MARGIN,
    credibility: float = CREDIBILITY,
    task_correlation: float = TASK_CORRELATION,
    fdr: float = FDR,
) -> list[ProblemFieldResult]:
    """Problem fields of every group × field, both by the specific-gap test and by the federal rule.

    Parameters
    ----------
    aggregates : iterable of FieldAggregate or dict, or a dict of columns (NumPy arrays or lists)
        One row per group × field (see :class:`FieldAggregate` for the columns).
    margin : float
        Practical margin below the reference (0.05 = 5 points of solve rate).
    credibility : float
        Mass of the credible interval (0.95) of the reported shrunken rate.
    fdr : float
        False discovery rate of the decision, controlled per group level (0.05).
    task_correlation : float
        Correlation of one pupil's results on two tasks of a field (:func:`effective_trials`).

    Returns
    -------
    list of ProblemFieldResult
        In the input order; sort by ``priority`` (descending) for the ranking.

    Notes
    -----
    Per row: solve rate :math:`y = \\text{points}/\\text{possible}`, effective trials
    :math:`n_{eff}` (:func:`effective_trials`), successes :math:`x = y\\,n_{eff}`. The expected rate
    :math:`e` (:func:`expected_rate`) is the reference :math:`r` moved by the group's result on the whole
    work (:math:`e = r` when the row has no work totals); the specific gap is :math:`d = y - e`.
    ``p_value`` is the one-sided test of :math:`\\theta < e - \\delta` (:func:`score_test_p`,
    :math:`\\delta` the margin), ``q_value`` its Benjamini–Hochberg adjustment across all rows of the same
    group level; the field is a problem field (``flagged``) when :math:`q \\le` ``fdr``. A beta prior is
    fitted per (group level, field) across its groups (:func:`fit_beta_prior`); the group's posterior mean
    :math:`\\tilde\\theta` and credible interval :math:`[L, U]` (:func:`posterior`) are reported, not decided
    on. Priority :math:`= \\max(0, e - \\tilde\\theta) \\times \\text{pupils} \\times \\text{weight}`
    (0 for rows not flagged).
    """
    rows = _rows(aggregates)
    if not rows:
        return []
    overall = np.array([_overall(r) for r in rows], dtype=float).reshape(len(rows), 2)
    decided = decide_columns(
        strata=_codes([(r.group_level, r.field) for r in rows]), levels=_codes([r.group_level for r in rows]),
        points=[r.points for r in rows], possible=[r.possible for r in rows], pupils=[r.pupils for r in rows],
        tasks=[r.tasks for r in rows], reference=[float(r.reference) for r in rows],
        overall=overall[:, 0], reference_overall=overall[:, 1], weight=[float(r.weight) for r in rows],
        margin=margin, credibility=credibility, task_correlation=task_correlation, fdr=fdr,
    )
    rates, n_eff, reference = decided["solve_rate"], decided["effective_n"], decided["reference"]
    prior_mean, shrink, post_mean = decided["prior_mean"], decided["shrinkage"], decided["posterior_mean"]
    lower, upper, expected = decided["lower"], decided["upper"], decided["expected"]
    p_values, q_values = decided["p_value"], decided["q_value"]

    results = []
    for i, r in enumerate(rows):
        flagged = bool(q_values[i] <= fdr)
        verdict, threshold, low_tasks = federal_verdict(rates[i], r.pupils, r.task_level, r.task_rates)
        if verdict == TOO_FEW:
            agreement = FEDERAL_NOT_JUDGED
        elif flagged and verdict == INSUFFICIENT:
            agreement = BOTH
        elif flagged:
            agreement = STATISTICAL_ONLY
        elif verdict == INSUFFICIENT:
            agreement = FEDERAL_ONLY
        else:
            agreement = NEITHER
        gap = max(0.0, float(expected[i] - post_mean[i]))
        result = ProblemFieldResult(
            group=r.group, group_level=r.group_level, field=r.field, pupils=int(r.pupils),
            effective_n=float(n_eff[i]), solve_rate=float(rates[i]), reference=float(reference[i]),
            difference=float(rates[i] - reference[i]), prior_mean=float(prior_mean[i]),
            shrinkage=float(shrink[i]), posterior_mean=float(post_mean[i]), lower=float(lower[i]),
            upper=float(upper[i]), p_value=float(p_values[i]), flagged=flagged,
            priority=gap * r.pupils * float(r.weight) if flagged else 0.0,
            federal_verdict=verdict, federal_threshold=threshold, agreement=agreement,
            insufficient_tasks=low_tasks, expected=float(expected[i]),
            specific_gap=float(rates[i] - expected[i]), q_value=float(q_values[i]), task_level=r.task_level,
        )
        results.append(result)
    return results


def ranked(results: Iterable[ProblemFieldResult]) -> list[ProblemFieldResult]:
    """The flagged problem fields, most important first (priority descending)."""
    return sorted((r for r in results if r.flagged), key=lambda r: -r.priority)
