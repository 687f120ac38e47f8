"""The federal objectivity method: 14 markers of non-objective results and the region's index.

Implements «Методика расчета показателя „Уровень объективности оценки образовательных результатов в
субъекте Российской Федерации“» with its appendix «Математический алгоритм маркировки образовательных
организаций» (../shared/real-samples/methodology/, 3 pages; see docs/methods.md, «Объективность
результатов: федеральная методика»). Page references below are to that PDF.

Plain functions on per-school aggregates, no Django models and no database: the analysis engine
aggregates the works of one region and passes

* per procedure and school a :class:`ScoreSummary` (count, sum and sum of squares of the primary score,
  portable sums the database computes) for the mean-score markers;
* per procedure and school the pupils' journal marks and primary scores as two arrays for the
  mark-mismatch markers (ranks cannot be built from sums);
* per subject and school a :class:`CohortPair` (grade 4 in year YY, grade 5 in year YY+1) for the
  cohort markers;

and :func:`federal_objectivity` returns, per school, every check with the numbers behind it, the
markers tripped and their count, and the region's share of marked schools and objectivity index.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy import special, stats

from metodist.analysis.problem_fields import _
from metodist.core.numbers import format_text

#: p. 2: «ta=1.96 (на уровне достоверности 95%)» for the region and the school alike, whatever the
#: number of participants (a normal quantile, not Student's t).
T_ALPHA = 1.96
#: p. 3: the critical values are «75 процентиль + 3 межквартильных размаха» and «25 процентиль − 3 …».
IQR_FACTOR = 3.0
#: p. 3 does not say how the percentiles are interpolated. We use NumPy's default, Hyndman & Fan type 7
#: (linear between order statistics), which is also Excel's ПРОЦЕНТИЛЬ / PERCENTILE.INC and R's default.
QUANTILE_METHOD = "linear"
#: p. 2 sets no minimum number of participants. The sample SD (divisor m − 1) needs m ≥ 2, so a school
#: with one participant is not judged on the mean-score markers.
MIN_PARTICIPANTS_MEAN = 2
#: p. 2 sets no minimum for Spearman's rs either; it is defined for n ≥ 2 pairs in which both the
#: journal marks and the scores vary. Schools below this are not judged on the mark-mismatch markers.
MIN_PARTICIPANTS_SPEARMAN = 2
#: p. 3 sets no minimum number of schools for the quartiles; with fewer than this many schools having a
#: ratio K the cohort markers are not judged for anyone.
MIN_SCHOOLS_FOR_FENCES = 4
#: p. 2 gives Spearman's rs by the shortcut rs = 1 − 6Σd²/(n(n²−1)), exact only without ties. Journal
#: marks (2–5) are almost all ties, where the shortcut is biased towards +0.5 and can hide a negative
#: relation. "pearson" (the default) is Spearman's coefficient as defined — Pearson's r of the
#: mid-ranks, equal to the shortcut when there are no ties and what SciPy, R and SPSS compute;
#: "shortcut" applies the p. 2 formula literally to the mid-ranks. Both values are always reported.
SPEARMAN_FORMULA = "pearson"

VPR = "VPR"
OGE = "OGE"
MEAN, MARKS, RISE, FALL = "mean", "marks", "rise", "fall"


class Procedure(NamedTuple):
    """An assessment procedure of the method: programme (VPR, OGE), subject code (ru, ma), grade."""

    programme: str
    subject: str
    grade: int


@dataclass(frozen=True)
class Marker:
    """One of the 14 markers of p. 1: its stable code, kind and the procedure(s) it reads."""

    code: str
    kind: str
    subject: str
    programme: str = VPR
    grade: int = 5

    @property
    def procedure(self) -> Procedure:
        return Procedure(self.programme, self.subject, self.grade)

    @property
    def name(self) -> str:
        return marker_name(self.code)


#: The 14 markers in the order of p. 1.
MARKERS: tuple[Marker, ...] = (
    Marker("mean_vpr_ru_4", MEAN, "ru", VPR, 4),
    Marker("mean_vpr_ma_4", MEAN, "ma", VPR, 4),
    Marker("mean_vpr_ru_5", MEAN, "ru", VPR, 5),
    Marker("mean_vpr_ma_5", MEAN, "ma", VPR, 5),
    Marker("mean_oge_ru", MEAN, "ru", OGE, 9),
    Marker("mean_oge_ma", MEAN, "ma", OGE, 9),
    Marker("marks_vpr_ru_4", MARKS, "ru", VPR, 4),
    Marker("marks_vpr_ma_4", MARKS, "ma", VPR, 4),
    Marker("marks_vpr_ru_5", MARKS, "ru", VPR, 5),
    Marker("marks_vpr_ma_5", MARKS, "ma", VPR, 5),
    Marker("rise_ru_4_5", RISE, "ru"),
    Marker("rise_ma_4_5", RISE, "ma"),
    Marker("fall_ru_4_5", FALL, "ru"),
    Marker("fall_ma_4_5", FALL, "ma"),
)
MARKERS_BY_CODE = {m.code: m for m in MARKERS}


def marker_name(code: str) -> str:
    """The Russian name of a marker, in the words of p. 1 of the method."""
    names = {
        "mean_vpr_ru_4": _("Завышенные значения среднего балла ВПР по русскому языку в 4 классе."),
        "mean_vpr_ma_4": _("Завышенные значения среднего балла ВПР по математике в 4 классе."),
        "mean_vpr_ru_5": _("Завышенные значения среднего балла ВПР по русскому языку в 5 классе."),
        "mean_vpr_ma_5": _("Завышенные значения среднего балла ВПР по математике в 5 классе."),
        "mean_oge_ru": _("Завышенные значения среднего балла ОГЭ по русскому языку."),
        "mean_oge_ma": _("Завышенные значения среднего балла ОГЭ по математике."),
        "marks_vpr_ru_4": _("Несоответствие результатов ВПР по русскому языку в 4 классе и школьных отметок."),
        "marks_vpr_ma_4": _("Несоответствие результатов ВПР по математике в 4 классе и школьных отметок."),
        "marks_vpr_ru_5": _("Несоответствие результатов ВПР по русскому языку в 5 классе и школьных отметок."),
        "marks_vpr_ma_5": _("Несоответствие результатов ВПР по математике в 5 классе и школьных отметок."),
        "rise_ru_4_5": _("Резкое возрастание результатов одной параллели от 4 класса к 5 по русскому языку."),
        "rise_ma_4_5": _("Резкое возрастание результатов одной параллели от 4 класса к 5 по математике."),
        "fall_ru_4_5": _("Резкое падение результатов одной параллели от 4 класса к 5 по русскому языку."),
        "fall_ma_4_5": _("Резкое падение результатов одной параллели от 4 класса к 5 по математике."),
    }
    return names[code]


# ---------------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class ScoreSummary:
    """Count, sum and sum of squares of the primary scores of a group (a school, the region)."""

    n: int
    total: float
    total_sq: float

    @classmethod
    def of(cls, scores) -> ScoreSummary:
        """Summary of an array of scores; NaN (no score) is left out."""
        x = np.asarray(scores, dtype=float)
        x = x[~np.isnan(x)]
        return cls(int(x.size), float(x.sum()), float((x * x).sum()))

    def __add__(self, other: ScoreSummary) -> ScoreSummary:
        return ScoreSummary(self.n + other.n, self.total + other.total, self.total_sq + other.total_sq)

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None

    @property
    def sd(self) -> float | None:
        """Sample standard deviation, divisor n − 1 (p. 2); None for n < 2."""
        if self.n < 2:
            return None
        variance = (self.total_sq - self.total * self.total / self.n) / (self.n - 1)
        return math.sqrt(max(variance, 0.0))


@dataclass(frozen=True)
class CohortPair:
    """One school's parallel in two neighbouring years (p. 3): grade 4 in year YY, grade 5 in YY+1.

    ``max_4`` and ``max_5`` are the maximum primary scores of the two works (КИМ).
    """

    grade_4: ScoreSummary
    max_4: float
    grade_5: ScoreSummary
    max_5: float

    @property
    def percent_4(self) -> float | None:
        return _percent(self.grade_4, self.max_4)

    @property
    def percent_5(self) -> float | None:
        return _percent(self.grade_5, self.max_5)


def _percent(summary: ScoreSummary, maximum: float) -> float | None:
    if not summary.n or not maximum or maximum <= 0:
        return None
    return 100.0 * summary.total / summary.n / maximum


# ---------------------------------------------------------------------------------------------------
# Results


@dataclass
class Check:
    """One marker checked for one school: judged or not, tripped or not, the numbers and the reason."""

    marker: str
    name: str
    judged: bool
    tripped: bool
    numbers: dict = field(default_factory=dict)
    reason: str = ""

    def as_dict(self) -> dict:
        return {"marker": self.marker, "name": self.name, "judged": self.judged, "tripped": self.tripped,
                "numbers": dict(self.numbers), "reason": self.reason}


@dataclass
class SchoolMarkers:
    """The federal verdict for one school: its checks, the markers it trips and their count."""

    code: str
    checks: list[Check] = field(default_factory=list)

    @property
    def tripped(self) -> list[str]:
        return [c.marker for c in self.checks if c.tripped]

    @property
    def count(self) -> int:
        """Number of markers tripped; p. 1 marks a school when it trips at least one."""
        return len(self.tripped)

    @property
    def marked(self) -> bool:
        return self.count > 0

    def as_dict(self) -> dict:
        return {"code": self.code, "federal_markers": self.tripped,
                "federal_marker_names": [marker_name(c) for c in self.tripped],
                "count": self.count, "marked": self.marked, "checks": [c.as_dict() for c in self.checks]}


@dataclass(frozen=True)
class Interval:
    """The confidence interval of a mean of p. 2: x̄ ± tα·S/√n."""

    n: int
    mean: float
    sd: float
    low: float
    high: float


@dataclass(frozen=True)
class Fences:
    """Quartiles of the ratios K over the sample and the critical values Q25 − 3·IQR, Q75 + 3·IQR (p. 3)."""

    n: int
    q25: float
    q75: float
    iqr: float
    lower: float
    upper: float


@dataclass
class FederalReport:
    """The method's result for a region: every school, the references, the share marked and the index."""

    schools: dict[str, SchoolMarkers]
    region_intervals: dict[Procedure, Interval | None]
    fences: dict[str, Fences | None]
    n_schools: int
    n_marked: int
    marked_pct: float | None
    index: float | None

    def as_dict(self) -> dict:
        return {
            "n_schools": self.n_schools, "n_marked": self.n_marked, "marked_pct": self.marked_pct,
            "index": self.index,
            "region_intervals": {
                "{}-{}-{}".format(*key): (None if iv is None else iv.__dict__.copy())
                for key, iv in self.region_intervals.items()
            },
            "fences": {s: (None if f is None else f.__dict__.copy()) for s, f in self.fences.items()},
            "schools": [s.as_dict() for s in self.schools.values()],
        }


# ---------------------------------------------------------------------------------------------------
# Statistics


def mean_interval(summary: ScoreSummary, *, t_alpha: float = T_ALPHA) -> Interval | None:
    """Confidence interval of the mean score of a group, as on p. 2 of the method.

    Parameters
    ----------
    summary : ScoreSummary
        Count, sum and sum of squares of the primary scores.
    t_alpha : float
        The quantile; 1.96 in the method (95 %).

    Returns
    -------
    Interval or None
        None when the group has fewer than :data:`MIN_PARTICIPANTS_MEAN` participants.

    Notes
    -----
    .. math:: \\bar x = \\frac{1}{m}\\sum_i x_i, \\quad S = \\sqrt{\\frac{\\sum_i (x_i-\\bar x)^2}{m-1}},
              \\quad \\left[\\bar x - t_\\alpha\\frac{S}{\\sqrt m};\\ \\bar x + t_\\alpha\\frac{S}{\\sqrt m}\\right],

    with :math:`\\sum_i (x_i - \\bar x)^2 = \\sum_i x_i^2 - (\\sum_i x_i)^2/m` computed from the sums.
    """
    if summary.n < MIN_PARTICIPANTS_MEAN:
        return None
    mean, sd = summary.mean, summary.sd
    half = t_alpha * sd / math.sqrt(summary.n)
    return Interval(summary.n, mean, sd, mean - half, mean + half)


def _clean_pairs(journal_marks, scores) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(journal_marks, dtype=float)
    b = np.asarray(scores, dtype=float)
    if a.shape != b.shape:
        raise ValueError("journal_marks and scores must have the same length")
    keep = ~(np.isnan(a) | np.isnan(b))
    return a[keep], b[keep]


def spearman(journal_marks, scores) -> tuple[float | None, float | None]:
    """Spearman's rank correlation and its two-sided p-value (t approximation), as SciPy computes them.

    Pairs with a missing value (NaN) are left out. Returns (None, None) when fewer than two pairs remain
    or either variable does not vary.

    Notes
    -----
    Ranks with ties get the mean of the ranks they share (mid-ranks); :math:`r_s` is Pearson's r of
    the ranks, which equals :math:`1 - 6\\sum d_i^2/(n(n^2-1))` when there are no ties. The p-value uses
    :math:`t = r_s\\sqrt{(n-2)/(1-r_s^2)}` with n − 2 degrees of freedom (None for n = 2).

    References
    ----------
    Spearman, C. (1904). The proof and measurement of association between two things.
    American Journal of Psychology, 15, 72–101. Zar, J. H. (2010). Biostatistical Analysis, §19.9.
    """
    rho, p, _shortcut = _spearman_both(*_clean_pairs(journal_marks, scores))
    return rho, p


def _spearman_both(a: np.ndarray, b: np.ndarray) -> tuple[float | None, float | None, float | None]:
    """(:func:`spearman`, its p-value, :func:`spearman_shortcut`) of clean pairs from one ranking of each
    variable: a region checks thousands of schools, and ranking is most of the cost. The p-value is
    SciPy's (``stats.spearmanr``): two-sided, Student's t with n − 2 degrees of freedom."""
    n = a.size
    if n < 2:
        return None, None, None
    ra, rb = stats.rankdata(a), stats.rankdata(b)
    d = ra - rb
    shortcut = float(1 - 6 * float(d @ d) / (n * (n * n - 1)))
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return None, None, shortcut
    ca, cb = ra - ra.mean(), rb - rb.mean()
    rho = float(np.clip((ca @ cb) / math.sqrt(float(ca @ ca) * float(cb @ cb)), -1.0, 1.0))
    if n == 2:
        return rho, None, shortcut
    with np.errstate(divide="ignore", invalid="ignore"):
        t = rho * math.sqrt((n - 2) / ((1.0 + rho) * (1.0 - rho))) if abs(rho) < 1 else math.inf
    p = float(2 * special.stdtr(n - 2, -abs(t)))
    return rho, (None if math.isnan(p) else p), shortcut


def spearman_shortcut(journal_marks, scores) -> float | None:
    """The formula of p. 2 applied literally: :math:`1 - 6\\sum d_i^2/(n(n^2-1))` on mid-ranks.

    Equal to :func:`spearman` without ties; with ties it is biased upwards (towards +0.5 when one
    variable is nearly constant). None for fewer than two pairs.
    """
    return _spearman_both(*_clean_pairs(journal_marks, scores))[2]


def cohort_ratio(pair: CohortPair) -> float | None:
    """K = S(grade 4, year YY) / S(grade 5, year YY+1), S the mean percent of completion (p. 3).

    None when either group is empty; +inf when grade 5 scored nothing at all and grade 4 did.
    """
    p4, p5 = pair.percent_4, pair.percent_5
    if p4 is None or p5 is None:
        return None
    if p5 == 0:
        return math.inf if p4 > 0 else None
    return p4 / p5


def tukey_fences(values: Iterable[float], *, factor: float = IQR_FACTOR) -> Fences | None:
    """Quartiles of the finite values and the critical values Q25 − k·IQR and Q75 + k·IQR (p. 3).

    None when fewer than :data:`MIN_SCHOOLS_FOR_FENCES` finite values are given.
    """
    x = np.asarray([v for v in values if v is not None], dtype=float)
    x = x[np.isfinite(x)]
    if x.size < MIN_SCHOOLS_FOR_FENCES:
        return None
    q25, q75 = (float(q) for q in np.percentile(x, [25, 75], method=QUANTILE_METHOD))
    iqr = q75 - q25
    return Fences(int(x.size), q25, q75, iqr, q25 - factor * iqr, q75 + factor * iqr)


# ---------------------------------------------------------------------------------------------------
# The markers


def _round(value, digits=4):
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return value
    return round(float(value), digits)


def check_mean(marker: Marker, school: ScoreSummary | None, region: Interval | None) -> Check:
    """Mean-score marker (p. 2, stages 1–3): the school's lower bound lies right of the region's upper bound.

    The comparison is strict: a lower bound equal to the region's upper bound does not trip the marker.
    """
    check = Check(marker.code, marker.name, judged=False, tripped=False)
    if school is None or school.n == 0:
        check.reason = _("Школа не писала эту работу.")
        return check
    if region is None:
        check.reason = _("Для региона нет данных по этой работе: сравнивать не с чем.")
        return check
    interval = mean_interval(school)
    if interval is None:
        check.numbers = {"n": school.n, "mean": _round(school.mean)}
        check.reason = format_text(_("Участников слишком мало ({n}, нужно не меньше {minimum}): доверительный интервал "
                         "среднего балла не строится, по этому признаку школа не оценивается."),
            n=school.n, minimum=MIN_PARTICIPANTS_MEAN)
        return check
    check.judged = True
    check.tripped = interval.low > region.high
    check.numbers = {
        "n": interval.n, "mean": _round(interval.mean), "sd": _round(interval.sd),
        "ci_low": _round(interval.low), "ci_high": _round(interval.high),
        "region_n": region.n, "region_mean": _round(region.mean),
        "region_ci_low": _round(region.low), "region_ci_high": _round(region.high),
    }
    values = {"mean": interval.mean, "low": interval.low, "high": interval.high,
              "region_mean": region.mean, "region_low": region.low, "region_high": region.high}
    if check.tripped:
        check.reason = format_text(_("Средний балл школы {mean:.2f} (95-процентный интервал {low:.2f}–{high:.2f}) выше "
                         "среднего по региону {region_mean:.2f} (интервал {region_low:.2f}–{region_high:.2f}): "
                         "нижняя граница интервала школы выше верхней границы интервала региона."), **values)
    else:
        check.reason = format_text(_("Средний балл школы {mean:.2f} (95-процентный интервал {low:.2f}–{high:.2f}) не выходит "
                         "за верхнюю границу интервала региона ({region_high:.2f})."), **values)
    return check


def check_marks(marker: Marker, journal_marks, scores, *, formula: str = SPEARMAN_FORMULA) -> Check:
    """Mark-mismatch marker (p. 2): Spearman's rs of journal mark and primary score is negative.

    The decision uses the sign of rs only, as the method does; the p-value is reported beside it.
    """
    check = Check(marker.code, marker.name, judged=False, tripped=False)
    if journal_marks is None or scores is None:
        check.reason = _("Школа не писала эту работу.")
        return check
    a, b = _clean_pairs(journal_marks, scores)
    rho, p, shortcut = _spearman_both(a, b)
    check.numbers = {"n": int(a.size), "rho": _round(rho), "p": _round(p), "rho_shortcut": _round(shortcut)}
    if a.size < MIN_PARTICIPANTS_SPEARMAN:
        check.reason = format_text(_("Участников с отметкой по журналу слишком мало ({n}, нужно не меньше {minimum}): "
                         "по этому признаку школа не оценивается."), n=int(a.size),
                                                                           minimum=MIN_PARTICIPANTS_SPEARMAN)
        return check
    value = shortcut if formula == "shortcut" else rho
    if value is None:
        check.reason = _("У всех участников одинаковые отметки по журналу или одинаковые баллы: корреляция "
                         "не определена, по этому признаку школа не оценивается.")
        return check
    check.judged = True
    check.tripped = value < 0
    values = {"rho": value, "n": int(a.size)}
    if check.tripped:
        check.reason = format_text(_("Отметки по журналу и первичные баллы связаны обратно: коэффициент Спирмана "
                         "{rho:.2f} меньше нуля (участников {n})."), **values)
    else:
        check.reason = format_text(_("Отметки по журналу согласуются с первичными баллами: коэффициент Спирмана "
                         "{rho:.2f} (участников {n})."), **values)
    return check


def check_cohort(subject: str, pair: CohortPair | None, fences: Fences | None) -> tuple[Check, Check]:
    """Cohort markers (p. 3): K above Q75 + 3·IQR is a sharp fall, K below Q25 − 3·IQR a sharp rise.

    Returns the (rise, fall) checks of the subject.
    """
    rise_m, fall_m = MARKERS_BY_CODE[f"rise_{subject}_4_5"], MARKERS_BY_CODE[f"fall_{subject}_4_5"]
    rise = Check(rise_m.code, rise_m.name, judged=False, tripped=False)
    fall = Check(fall_m.code, fall_m.name, judged=False, tripped=False)
    k = cohort_ratio(pair) if pair is not None else None
    if k is None:
        reason = _("Нет результатов этой параллели в 4 классе и в 5 классе на следующий год: отношение "
                   "не вычисляется.")
        rise.reason = fall.reason = reason
        return rise, fall
    numbers = {"percent_4": _round(pair.percent_4), "percent_5": _round(pair.percent_5),
               "n_4": pair.grade_4.n, "n_5": pair.grade_5.n, "k": _round(k)}
    if fences is None:
        rise.numbers, fall.numbers = dict(numbers), dict(numbers)
        reason = _("В выборке слишком мало школ с результатами 4 и 5 классов: критические значения не "
                   "вычисляются.")
        rise.reason = fall.reason = reason
        return rise, fall
    numbers.update({"q25": _round(fences.q25), "q75": _round(fences.q75), "iqr": _round(fences.iqr),
                    "lower": _round(fences.lower), "upper": _round(fences.upper)})
    rise.numbers, fall.numbers = dict(numbers), dict(numbers)
    rise.judged = fall.judged = True
    rise.tripped = k < fences.lower
    fall.tripped = k > fences.upper
    values = {"p4": pair.percent_4, "p5": pair.percent_5, "k": k, "lower": fences.lower, "upper": fences.upper}
    if rise.tripped:
        rise.reason = format_text(_("Выполнение работы выросло с {p4:.1f} % в 4 классе до {p5:.1f} % в 5 классе: "
                        "отношение {k:.3f} меньше нижнего критического значения {lower:.3f}."), **values)
    else:
        rise.reason = format_text(_("Отношение выполнения в 4 и 5 классе {k:.3f} не меньше нижнего критического "
                        "значения {lower:.3f}."), **values)
    if fall.tripped:
        fall.reason = format_text(_("Выполнение работы упало с {p4:.1f} % в 4 классе до {p5:.1f} % в 5 классе: "
                        "отношение {k:.3f} больше верхнего критического значения {upper:.3f}."), **values)
    else:
        fall.reason = format_text(_("Отношение выполнения в 4 и 5 классе {k:.3f} не больше верхнего критического "
                        "значения {upper:.3f}."), **values)
    return rise, fall


def objectivity_index(n_marked: int, n_schools: int) -> tuple[float | None, float | None]:
    """Share of marked schools (%) and the index 100 − share (p. 1, stages 2 and 3); None for no schools."""
    if n_schools <= 0:
        return None, None
    pct = 100.0 * n_marked / n_schools
    return pct, 100.0 - pct


def federal_objectivity(
    *,
    scores: Mapping[Procedure, Mapping[str, ScoreSummary]] | None = None,
    marks: Mapping[Procedure, Mapping[str, tuple]] | None = None,
    cohorts: Mapping[str, Mapping[str, CohortPair]] | None = None,
    region: Mapping[Procedure, ScoreSummary] | None = None,
    fences: Mapping[str, Fences] | None = None,
    schools: Iterable[str] | None = None,
    formula: str = SPEARMAN_FORMULA,
) -> FederalReport:
    """The whole federal method for one region.

    Parameters
    ----------
    scores : {Procedure: {school code: ScoreSummary}}
        Primary scores per procedure and school, for the six mean-score markers (VPR ru/ma grades 4
        and 5, OGE ru/ma grade 9).
    marks : {Procedure: {school code: (journal marks, primary scores)}}
        Two equally long arrays per school (NaN = no journal mark), for the four mark-mismatch markers
        (VPR ru/ma grades 4 and 5).
    cohorts : {subject: {school code: CohortPair}}
        Grade 4 in year YY and grade 5 in year YY+1 per school, for the rise and fall markers.
    region : {Procedure: ScoreSummary}, optional
        All the region's participants of a procedure; by default the sum of the schools' summaries.
    fences : {subject: Fences}, optional
        Critical values of K computed elsewhere (for example over the whole country); by default
        computed over the schools given here («по всей выборке», p. 3).
    schools : iterable of str, optional
        The region's schools, the denominator of the share of marked schools; by default every school
        that appears in any input.
    formula : {"pearson", "shortcut"}
        Which Spearman value decides the mark-mismatch markers (see :data:`SPEARMAN_FORMULA`).

    Returns
    -------
    FederalReport
        Per school every check (judged or not, tripped or not, numbers, Russian reason), the markers it
        trips and their count; the region's intervals, the fences, the share of marked schools and the
        objectivity index 100 − share.
    """
    scores = scores or {}
    marks = marks or {}
    cohorts = cohorts or {}
    codes: list[str] = []
    seen: set[str] = set()
    sources: list[Iterable[str]] = [list(schools)] if schools is not None else []
    sources += [list(v) for v in scores.values()] + [list(v) for v in marks.values()]
    sources += [list(v) for v in cohorts.values()]
    for source in sources:
        for code in source:
            if code not in seen:
                seen.add(code)
                codes.append(code)

    region_intervals: dict[Procedure, Interval | None] = {}
    for marker in MARKERS:
        if marker.kind != MEAN:
            continue
        key = marker.procedure
        pooled = (region or {}).get(key)
        if pooled is None and scores.get(key):
            pooled = ScoreSummary(0, 0.0, 0.0)
            for summary in scores[key].values():
                pooled = pooled + summary
        region_intervals[key] = mean_interval(pooled) if pooled is not None else None

    subject_fences: dict[str, Fences | None] = {}
    for subject in ("ru", "ma"):
        if fences and subject in fences:
            subject_fences[subject] = fences[subject]
        else:
            pairs = cohorts.get(subject, {})
            subject_fences[subject] = tukey_fences(cohort_ratio(p) for p in pairs.values())

    result: dict[str, SchoolMarkers] = {}
    for code in codes:
        school = SchoolMarkers(code)
        for marker in MARKERS:
            if marker.kind == MEAN:
                school.checks.append(check_mean(
                    marker, scores.get(marker.procedure, {}).get(code), region_intervals[marker.procedure]))
            elif marker.kind == MARKS:
                pair = marks.get(marker.procedure, {}).get(code)
                journal, primary = pair if pair is not None else (None, None)
                school.checks.append(check_marks(marker, journal, primary, formula=formula))
        for subject in ("ru", "ma"):
            rise, fall = check_cohort(subject, cohorts.get(subject, {}).get(code), subject_fences[subject])
            school.checks.extend([rise, fall])
        order = {m.code: i for i, m in enumerate(MARKERS)}
        school.checks.sort(key=lambda c: order[c.marker])
        result[code] = school

    n_marked = sum(1 for s in result.values() if s.marked)
    marked_pct, index = objectivity_index(n_marked, len(codes))
    return FederalReport(result, region_intervals, subject_fences, len(codes), n_marked, marked_pct, index)
