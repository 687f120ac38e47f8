"""School classification per academic year: low-results schools (ШНОР), high performers, schools in
difficult social conditions and resilient schools (results well above what the social index predicts).

The engine aggregates present works per school × assessment (works, sum of primary scores, marks 2,
works with a mark); everything else is computed here on those few rows. A school's figures of a year
are the means over the year's works (assessments), each work weighted equally, of its mean primary
score in % of the maximum and of its share of mark 2. Definitions and reasons: docs/methods.md,
«Классификация школ и дефициты учителей».
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from django.utils.translation import gettext as _
from scipy import stats

from metodist.analysis.engine import quiet
from metodist.core.numbers import format_text

#: share of schools at the bottom (by mean score) or top (by share of mark 2) that counts as low in a year
LOW_SHARE = 0.10
#: a school is also low in a year when its mean is this many robust SDs below the median of schools
LOW_Z = -1.2816  # the 10th percentile of the normal distribution
#: share of schools at the top by mean score: high performers
HIGH_SHARE = 0.10
#: the social index below which a school is in difficult conditions, beside the region's bottom quartile
DIFFICULT_INDEX = 0.30
DIFFICULT_QUANTILE = 0.25
#: coverage of the prediction interval for resilience and of the funnel limits
PREDICTION_LEVEL = 0.95
FUNNEL_LEVELS = (0.95, 0.998)


@dataclass
class SchoolYear:
    """A school's figures of one academic year."""

    school_id: int
    works: int = 0  # present pupils' works
    assessments: int = 0
    mean_pct: float | None = None  # mean over assessments of the school's mean primary score, % of max
    share_2: float | None = None  # mean over assessments of the share of mark 2, %
    social_index: float | None = None
    per_assessment: dict[int, tuple[int, float, float | None]] = field(default_factory=dict)


def school_year_aggregates(eng, assessments: dict[int, int]) -> list[tuple]:
    """(school_id, assessment_id, works, sum of primary scores, marks 2, works with a mark) for the
    present works of `assessments` (id → maximum primary score): one grouped query."""
    if not assessments:
        return []
    works = eng.raw("work")
    present = works.filter(works.assessment_id.isin(list(assessments)) & ~works.absent
                           & works.primary_score.notnull())
    expr = present.group_by(["school_id", "assessment_id"]).aggregate(
        n=present.id.count(),
        total=present.primary_score.cast("int64").sum(),
        twos=(present.mark == 2).ifelse(1, 0).sum(),
        marked=present.mark.notnull().ifelse(1, 0).sum(),
    )
    from metodist.analysis.standard_reports import _rows

    with quiet():
        return _rows(expr, ["school_id", "assessment_id", "n", "total", "twos", "marked"])


def school_figures(rows: list[tuple], max_primary: dict[int, int],
                   social_index: dict[int, float | None]) -> dict[int, SchoolYear]:
    """Per school: the mean over its assessments of mean primary % and of the share of mark 2."""
    out: dict[int, SchoolYear] = {}
    for school_id, assessment_id, n, total, twos, marked in rows:
        maximum = max_primary.get(assessment_id)
        if not n or not maximum:
            continue
        fig = out.setdefault(school_id, SchoolYear(school_id, social_index=social_index.get(school_id)))
        fig.works += n
        fig.per_assessment[assessment_id] = (n, 100 * total / (n * maximum),
                                             100 * twos / marked if marked else None)
    for fig in out.values():
        pcts = [p for _n, p, _s in fig.per_assessment.values()]
        twos = [s for _n, _p, s in fig.per_assessment.values() if s is not None]
        fig.assessments = len(pcts)
        fig.mean_pct = float(np.mean(pcts)) if pcts else None
        fig.share_2 = float(np.mean(twos)) if twos else None
    return out


def low_in_year(figures: dict[int, SchoolYear], *, share: float = LOW_SHARE, z: float = LOW_Z) -> dict[int, str]:
    """Schools low in one year → the reason code: `bottom_mean` (in the bottom `share` by mean primary %),
    `top_twos` (in the top `share` by share of mark 2) or `robust_z` (mean more than |z| robust standard
    deviations below the median of schools, i.e. below the 10th percentile of a normal spread)."""
    schools = [f for f in figures.values() if f.mean_pct is not None]
    if len(schools) < 3:
        return {}
    k = max(1, math.floor(share * len(schools)))
    out: dict[int, str] = {}
    for f in sorted(schools, key=lambda f: f.mean_pct)[:k]:
        out[f.school_id] = "bottom_mean"
    with_twos = [f for f in schools if f.share_2 is not None]
    for f in sorted(with_twos, key=lambda f: -f.share_2)[:max(1, math.floor(share * len(with_twos)))]:
        if f.share_2 > 0:
            out.setdefault(f.school_id, "top_twos")
    means = np.array([f.mean_pct for f in schools])
    median = float(np.median(means))
    mad = 1.4826 * float(np.median(np.abs(means - median)))
    if mad > 0:
        for f in schools:
            if (f.mean_pct - median) / mad < z:
                out.setdefault(f.school_id, "robust_z")
    return out


def high_performers(figures: dict[int, SchoolYear], *, share: float = HIGH_SHARE) -> set[int]:
    schools = [f for f in figures.values() if f.mean_pct is not None]
    if len(schools) < 3:
        return set()
    k = max(1, math.floor(share * len(schools)))
    return {f.school_id for f in sorted(schools, key=lambda f: -f.mean_pct)[:k]}


def difficult_context(social_index: dict[int, float | None], *, threshold: float = DIFFICULT_INDEX,
                      quantile: float = DIFFICULT_QUANTILE) -> tuple[set[int], float | None]:
    """Schools whose social index is at or below the region's `quantile` (linear interpolation) or below
    `threshold`; returns them and the quantile's value."""
    known = {s: v for s, v in social_index.items() if v is not None}
    if not known:
        return set(), None
    cut = float(np.quantile(np.array(list(known.values())), quantile))
    return {s for s, v in known.items() if v <= cut or v < threshold}, cut


def resilient_schools(residuals: list[Residual], difficult: set[int], figures: dict[int, SchoolYear], *,
                      share: float = HIGH_SHARE) -> dict[int, str]:
    """Schools in difficult conditions whose result is well above the prediction → the rule that holds:
    `interval` (above the upper bound of the prediction interval) or `top_residual` (among the top
    `share` of all schools by residual, residual positive, and the school's mean at least the median of
    schools: with a handful of schools the interval is wide, so the ranking with its interval stands in)."""
    if not residuals:
        return {}
    median = float(np.median([f.mean_pct for f in figures.values() if f.mean_pct is not None]))
    k = max(1, math.floor(share * len(residuals)))
    top = {r.school_id for r in sorted(residuals, key=lambda r: -r.residual)[:k] if r.residual > 0}
    out = {}
    for r in residuals:
        if r.school_id not in difficult:
            continue
        if r.y > r.upper:
            out[r.school_id] = "interval"
        elif r.school_id in top and r.y >= median:
            out[r.school_id] = "top_residual"
    return out


@dataclass
class Residual:
    school_id: int
    x: float
    y: float
    weight: float
    predicted: float
    lower: float
    upper: float

    @property
    def residual(self) -> float:
        return self.y - self.predicted


def wls_fit(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Weighted least squares of y on (1, x): coefficients, their covariance, σ² per unit weight, df.

    Notes: β = (XᵀWX)⁻¹XᵀWy, σ² = Σ wᵢ rᵢ² / (n − 2), Cov(β) = σ² (XᵀWX)⁻¹."""
    design = np.column_stack([np.ones_like(x), x])
    xtw = design.T * w
    inv = np.linalg.inv(xtw @ design)
    beta = inv @ xtw @ y
    df = len(x) - 2
    resid = y - design @ beta
    sigma2 = float(np.sum(w * resid ** 2) / df) if df > 0 else float("nan")
    return beta, sigma2 * inv, sigma2, df


def resilience_residuals(points: list[tuple[int, float, float, float]], *,
                         level: float = PREDICTION_LEVEL) -> list[Residual]:
    """Each school's mean against the WLS regression on the social index fitted on the OTHER schools
    (leave-one-out, so that a school does not pull the line towards itself), with the `level`
    prediction interval for a new school of its weight: ŷ ± t·√(σ²/w + x₀ᵀCov(β)x₀).

    points: (school_id, social index, mean %, weight = works)."""
    if len(points) < 5:
        return []
    ids = [p[0] for p in points]
    x = np.array([p[1] for p in points], dtype=float)
    y = np.array([p[2] for p in points], dtype=float)
    w = np.array([p[3] for p in points], dtype=float)
    out = []
    for i, school_id in enumerate(ids):
        keep = np.arange(len(ids)) != i
        beta, cov, sigma2, df = wls_fit(x[keep], y[keep], w[keep])
        x0 = np.array([1.0, x[i]])
        predicted = float(x0 @ beta)
        se = math.sqrt(sigma2 / w[i] + float(x0 @ cov @ x0))
        t = float(stats.t.ppf(0.5 + level / 2, df))
        out.append(Residual(school_id, float(x[i]), float(y[i]), float(w[i]), predicted,
                            predicted - t * se, predicted + t * se))
    return out


def funnel(points: list[tuple[int, float, float]], *, levels=FUNNEL_LEVELS) -> dict:
    """Funnel-plot data: each school's mean (y) against its number of works (n), and control limits
    around the regional mean m = Σnᵢyᵢ/Σnᵢ at m ± z·s/√n, where s² is the pupil-level variance estimated
    from the schools' spread (Σnᵢ(yᵢ−m)² / (k−1)); plain data for a chart.

    points: (school_id, mean, n)."""
    if not points:
        return {"mean": None, "points": [], "limits": []}
    n = np.array([p[2] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    mean = float(np.sum(n * y) / np.sum(n))
    s = math.sqrt(float(np.sum(n * (y - mean) ** 2) / max(len(points) - 1, 1)))
    grid = np.unique(np.linspace(max(1.0, n.min() / 2), n.max() * 1.1, 40).round())
    limits = []
    for size in grid:
        row = {"n": int(size)}
        for lv in levels:
            z = float(stats.norm.ppf(0.5 + lv / 2))
            row[f"lower_{lv}"] = mean - z * s / math.sqrt(size)
            row[f"upper_{lv}"] = mean + z * s / math.sqrt(size)
        limits.append(row)
    return {"mean": mean, "sd": s,
            "points": [{"school_id": sid, "mean": float(m), "n": int(k)} for sid, m, k in points],
            "limits": limits}


# --- database side -----------------------------------------------------------------------------------

def _year_figures(eng, spring: int, scope_path: str) -> tuple[dict[int, SchoolYear], dict]:
    from metodist.core.models import Organisation
    from metodist.reference.models import Assessment

    max_primary = dict(Assessment.objects.filter(year=spring, works__isnull=False).distinct()
                       .values_list("pk", "max_primary"))
    schools = dict(Organisation.objects.filter(kind="school", path__startswith=scope_path)
                   .values_list("pk", "social_index"))
    rows = [r for r in school_year_aggregates(eng, max_primary) if r[0] in schools]
    return school_figures(rows, max_primary, schools), schools


def classify(eng, spring: int, scope_path: str) -> dict:
    """Everything the classification of the academic year whose spring is `spring` needs, as plain data:
    this and last year's figures, the low / high / difficult sets, the residuals and the funnel."""
    this, social = _year_figures(eng, spring, scope_path)
    last, _social = _year_figures(eng, spring - 1, scope_path)
    low_now, low_before = low_in_year(this), low_in_year(last)
    difficult, cut = difficult_context(social)
    residuals = resilience_residuals([
        (f.school_id, f.social_index, f.mean_pct, f.works) for f in this.values()
        if f.social_index is not None and f.mean_pct is not None
    ])
    return {
        "this": this, "last": last, "low_now": low_now, "low_before": low_before,
        "low": {s for s in low_now if s in low_before},
        "high": high_performers(this), "difficult": difficult, "difficult_cut": cut,
        "residuals": {r.school_id: r for r in residuals},
        "resilient": resilient_schools(residuals, difficult, this),
        "funnel": funnel([(f.school_id, f.mean_pct, f.works) for f in this.values() if f.mean_pct is not None]),
    }


def funnel_data(eng, spring: int, scope_path: str = "") -> dict:
    """Funnel-plot data of the schools under `scope_path` for the works of spring `spring`, with codes."""
    from metodist.core.models import Organisation

    this, _social = _year_figures(eng, spring, scope_path)
    data = funnel([(f.school_id, f.mean_pct, f.works) for f in this.values() if f.mean_pct is not None])
    codes = dict(Organisation.objects.filter(pk__in=this).values_list("pk", "code"))
    for point in data["points"]:
        point["code"] = codes.get(point["school_id"])
    return data


def _r(v: float | None, digits: int = 1) -> float | None:
    return None if v is None else round(v, digits)


def _reason(code: str) -> str:
    return {
        "bottom_mean": _("в нижних 10 % школ по среднему первичному баллу"),
        "top_twos": _("в верхних 10 % школ по доле отметок «2»"),
        "robust_z": _("средний первичный балл намного ниже, чем у большинства школ"),
    }[code]


def store(run, eng) -> dict:
    """Classify the schools of the run's scope in the run's year; store SchoolStatus rows in bulk."""
    from metodist.analysis.models import SchoolStatus, SchoolStatusKind

    spring = run.academic_year.start_year + 1
    found = classify(eng, spring, run.scope.path)
    this, last = found["this"], found["last"]
    rows: list[SchoolStatus] = []

    def base(f: SchoolYear) -> dict:
        return {"year": spring, "mean_primary_pct": _r(f.mean_pct), "share_2_pct": _r(f.share_2),
                "works": f.works, "assessments": f.assessments, "social_index": f.social_index}

    for sid in sorted(found["low"]):
        f, g = this[sid], last[sid]
        numbers = {**base(f), "reason": found["low_now"][sid], "previous": {
            "year": spring - 1, "mean_primary_pct": _r(g.mean_pct), "share_2_pct": _r(g.share_2),
            "reason": found["low_before"][sid]}}
        text = format_text(_("Низкие результаты два года подряд: в {year} году средний первичный балл {pct} % максимального, "
                 "доля отметок «2» {twos} % ({reason}); в {prev} году — {prev_pct} % и {prev_twos} %."),
            year=spring, pct=_r(f.mean_pct), twos=_r(f.share_2), reason=_reason(found["low_now"][sid]),
            prev=spring - 1, prev_pct=_r(g.mean_pct), prev_twos=_r(g.share_2))
        rows.append(SchoolStatus(run=run, school_id=sid, kind=SchoolStatusKind.LOW_RESULTS, numbers=numbers,
                                 explanation=text))
    for sid in sorted(found["high"]):
        f = this[sid]
        text = format_text(_("Средний первичный балл {pct} % максимального — в верхних 10 % школ в {year} году."),
            pct=_r(f.mean_pct), year=spring)
        rows.append(SchoolStatus(run=run, school_id=sid, kind=SchoolStatusKind.HIGH_PERFORMER, numbers=base(f),
                                 explanation=text))
    cut = found["difficult_cut"]
    for sid in sorted(found["difficult"]):
        f = this.get(sid)
        if f is None:
            continue
        numbers = {**base(f), "quartile": _r(cut, 3), "threshold": DIFFICULT_INDEX}
        text = format_text(_("Индекс социального благополучия {index} — ниже {threshold} или в нижней четверти школ "
                 "(граница четверти {cut})."), index=f.social_index, threshold=DIFFICULT_INDEX,
                                                      cut=_r(cut, 3))
        rows.append(SchoolStatus(run=run, school_id=sid, kind=SchoolStatusKind.DIFFICULT_CONTEXT,
                                 numbers=numbers, explanation=text))
    resilient = []
    for sid, how in sorted(found["resilient"].items()):
        r = found["residuals"][sid]
        resilient.append(sid)
        numbers = {**base(this[sid]), "predicted_pct": _r(r.predicted), "residual": _r(r.residual),
                   "interval": [_r(r.lower), _r(r.upper)], "level": PREDICTION_LEVEL, "rule": how}
        values = {"index": r.x, "pred": _r(r.predicted), "lo": _r(r.lower), "hi": _r(r.upper), "pct": _r(r.y),
                  "res": _r(r.residual)}
        if how == "interval":
            text = format_text(_("При индексе социального благополучия {index} ожидался средний балл {pred} % "
                     "(95 % интервал прогноза {lo}–{hi} %), а получено {pct} %: на {res} пункта выше "
                     "ожидаемого и выше интервала."), **values)
        else:
            text = format_text(_("При индексе социального благополучия {index} ожидался средний балл {pred} % "
                     "(95 % интервал прогноза {lo}–{hi} %), а получено {pct} %: на {res} пункта выше "
                     "ожидаемого — больше всех школ, и не ниже, чем у половины школ."), **values)
        rows.append(SchoolStatus(run=run, school_id=sid, kind=SchoolStatusKind.RESILIENT, numbers=numbers,
                                 explanation=text))
    SchoolStatus.objects.bulk_create(rows)
    return {"year": spring, "schools": len(this), "low_results": len(found["low"]), "high_performers":
            len(found["high"]), "difficult_context": len([s for s in found["difficult"] if s in this]),
            "resilient": len(resilient), "statuses": len(rows)}
