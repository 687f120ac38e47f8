"""Objectivity of a run, stored: the federal method (metodist.analysis.objectivity) fed from the engine's
aggregates, Metodist's own signals (metodist.analysis.objectivity_signals), and the combined ranked list
of schools, as ObjectivityResult and ObjectivitySignal rows of the run.

The engine does four grouped queries over the works of the run's year and the year before (counts, sums
and sums of squares of primary scores per school and work; counts per primary score; counts per work
mark × journal mark) and, for the VPR works of grades 4 and 5 that the federal mark-mismatch markers
read, one query per work for the pupils' journal marks and primary scores (Spearman's rank correlation
cannot be built from sums). Everything else is computed here on those aggregates.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from metodist.analysis import objectivity as fed
from metodist.analysis import objectivity_signals as sig
from metodist.analysis.engine import connect, quiet
from metodist.analysis.problem_fields import _, pinned_language
from metodist.analysis.standard_reports import _rows

FEDERAL_PROCEDURES = [m.procedure for m in fed.MARKERS if m.kind == fed.MEAN]
MARK_PROCEDURES = [m.procedure for m in fed.MARKERS if m.kind == fed.MARKS]


@dataclass
class Work:
    """One assessment as the analysis needs it."""

    id: int
    code: str
    programme: str
    subject: str
    grade: int
    year: int
    max_primary: int
    thresholds: list[int] = field(default_factory=list)

    @property
    def procedure(self) -> fed.Procedure:
        return fed.Procedure(self.programme, self.subject, self.grade)


def _works_of(years) -> dict[int, Work]:
    from metodist.reference.models import Assessment, ScaleKind

    result = {}
    for a in Assessment.objects.filter(year__in=years).select_related("subject").prefetch_related("scales"):
        scale = next((s for s in a.scales.all() if s.kind == ScaleKind.MARK), None)
        thresholds = sorted(int(v) for k, v in (scale.thresholds.items() if scale else []) if int(k) in (3, 4, 5))
        result[a.pk] = Work(a.pk, a.code, a.programme, a.subject.code, a.grade, a.year, a.max_primary, thresholds)
    return result


def _aggregates(eng, ids: list[int]) -> dict[str, list[tuple]]:
    works = eng.works()
    present = works.filter(works.assessment_id.isin(ids) & ~works.absent & works.primary_score.notnull())
    score = present.primary_score.cast("int64")
    sums = present.group_by(["assessment_id", "school_id", "school_code", "school_path"]).aggregate(
        n=present.id.count(), total=score.sum(), total_sq=(score * score).sum())
    dist = present.group_by(["assessment_id", "school_code", "primary_score"]).aggregate(n=present.id.count())
    marked = present.filter(present.mark.notnull() & present.journal_mark.notnull())
    journal = marked.group_by(["assessment_id", "school_code", "mark", "journal_mark"]).aggregate(
        n=marked.id.count())
    return {
        "sums": _rows(sums, ["assessment_id", "school_id", "school_code", "school_path", "n", "total", "total_sq"]),
        "dist": _rows(dist, ["assessment_id", "school_code", "primary_score", "n"]),
        "journal": _rows(journal, ["assessment_id", "school_code", "mark", "journal_mark", "n"]),
    }


def _pupil_pairs(eng, assessment_id: int, schools: set[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Journal marks and primary scores of the pupils of one work, per school: one query for the work."""
    works = eng.works(assessment_id)
    present = works.filter(~works.absent & works.primary_score.notnull())
    rows = _rows(present.select("school_code", "journal_mark", "primary_score"),
                 ["school_code", "journal_mark", "primary_score"])
    grouped: dict[str, list[tuple]] = defaultdict(list)
    for code, journal, primary in rows:
        if code in schools:
            grouped[code].append((np.nan if journal is None else journal, primary))
    return {code: (np.array([j for j, _p in pairs], dtype=float), np.array([p for _j, p in pairs], dtype=float))
            for code, pairs in grouped.items()}


def compute(run, engine: str | object = "default") -> dict:
    """Everything the run stores, as plain data: per school its federal checks, its signals per work, its
    score and its explanation; and the federal report of the region. `engine` is an Engine or its name."""
    year = run.academic_year.start_year + 1
    scope_path = run.scope.path
    eng = connect(engine) if isinstance(engine, str) else engine
    works = _works_of([year - 1, year])
    with quiet():
        agg = _aggregates(eng, sorted(works))

    summaries: dict[int, dict[str, fed.ScoreSummary]] = defaultdict(dict)
    school_ids: dict[str, int] = {}
    for a_id, s_id, code, path, n, total, total_sq in agg["sums"]:
        if not path.startswith(scope_path):
            continue
        school_ids[code] = s_id
        summaries[a_id][code] = fed.ScoreSummary(int(n), float(total), float(total_sq))
    this_year = [w for w in works.values() if w.year == year and summaries.get(w.id)]
    schools = sorted({code for w in this_year for code in summaries[w.id]})

    # --- the federal method ---
    by_procedure = {w.procedure: w for w in this_year}
    scores = {p: summaries[by_procedure[p].id] for p in FEDERAL_PROCEDURES if p in by_procedure}
    marks = {}
    for p in MARK_PROCEDURES:
        if p in by_procedure:
            with quiet():
                marks[p] = _pupil_pairs(eng, by_procedure[p].id, set(schools))
    cohorts: dict[str, dict[str, fed.CohortPair]] = {}
    last_year = {w.procedure: w for w in works.values() if w.year == year - 1 and summaries.get(w.id)}
    for subject in ("ru", "ma"):
        w4, w5 = last_year.get(fed.Procedure(fed.VPR, subject, 4)), by_procedure.get(fed.Procedure(fed.VPR, subject, 5))
        if w4 is None or w5 is None:
            continue
        cohorts[subject] = {
            code: fed.CohortPair(summaries[w4.id][code], w4.max_primary, summaries[w5.id][code], w5.max_primary)
            for code in schools if code in summaries[w4.id] and code in summaries[w5.id]
        }
    report = fed.federal_objectivity(scores=scores, marks=marks, cohorts=cohorts, schools=schools)
    procedure_work = {p: w.id for p, w in by_procedure.items()}

    # --- Metodist's signals ---
    dist: dict[int, dict[str, np.ndarray]] = defaultdict(dict)
    for a_id, code, primary, n in agg["dist"]:
        w = works.get(a_id)
        if w is None or w.year != year or primary is None:
            continue
        arr = dist[a_id].setdefault(code, np.zeros(max(w.max_primary, primary) + 1))
        if primary >= arr.size:
            arr = dist[a_id][code] = np.concatenate([arr, np.zeros(primary + 1 - arr.size)])
        arr[primary] += n
    # per work and school: work mark → [works with work mark above journal, below, all with both]
    journal: dict[int, dict[str, dict[int, list[int]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(lambda: [0, 0, 0])))
    for a_id, code, mark, journal_mark, n in agg["journal"]:
        counts = journal[a_id][code][mark]
        counts[0] += n * (mark > journal_mark)
        counts[1] += n * (mark < journal_mark)
        counts[2] += n

    # the school's mean relative to the region's on the same work, in SDs of the region's pupils (an effect
    # size), so that works of different difficulty and spread (ВПР, ОГЭ) can be compared
    relative: dict[str, dict[int, float]] = defaultdict(dict)
    region_sd: dict[int, float] = {}
    for a_id, per_school in summaries.items():
        pooled = sum(per_school.values(), fed.ScoreSummary(0, 0.0, 0.0))
        if not pooled.sd:
            continue
        region_sd[a_id] = pooled.sd
        for code, s in per_school.items():
            if s.n:
                relative[code][a_id] = (s.mean - pooled.mean) / pooled.sd

    signals: dict[str, list[tuple[int, sig.Signal]]] = defaultdict(list)
    for w in this_year:
        first = _work_signals(w, summaries[w.id], journal[w.id], dist[w.id], relative, region_sd, excluded=set())
        # the region's reference leaves out the schools a first pass flags on the same signal, so that an
        # inflating school does not shift the yardstick of the others (a trimmed reference); the signals
        # whose yardstick is not the region's counts (unexpected result, low spread) are kept from the first
        flagged = {code for code, found in first.items() for one in found if one.tripped
                   and one.code in REGION_REFERENCE_SIGNALS}
        final = first if not flagged else _work_signals(
            w, summaries[w.id], journal[w.id], dist[w.id], relative, region_sd, excluded=flagged, first=first)
        for code, found in final.items():
            signals[code].extend((w.id, one) for one in found)

    results = []
    for code in schools:
        own = [one for _a, one in signals[code]]
        federal = report.schools[code]
        results.append({
            "code": code, "school_id": school_ids[code], "federal": federal, "signals": signals[code],
            "score": round(sig.combined_score(own), 4),
            "explanation": explain(federal, signals[code], works),
        })
    results.sort(key=lambda r: (-r["score"], -r["federal"].count, r["code"]))
    for rank, r in enumerate(results, start=1):
        r["rank"] = rank
    return {"year": year, "schools": results, "report": report, "works": works,
            "procedure_work": procedure_work}


REGION_REFERENCE_SIGNALS = sig.REGION_REFERENCE_SIGNALS


def _work_signals(w: Work, per_school, journal, dist, relative, region_sd, *,
                  excluded: set[str], first: dict | None = None) -> dict[str, list]:
    """Metodist's signals of every school on one work; `excluded` schools are left out of the region's
    references of the journal and bunching signals. With `first` (the signals of a previous pass), the
    signals that do not read the region's counts are taken from it instead of being computed again.

    Each signal is computed for all schools of the work at once (objectivity_signals' ``*_rows``
    functions and :func:`~metodist.analysis.objectivity_signals.leave_one_out_centre_spread`): a school's
    reference is the region's total less its own row."""
    codes = sorted(per_school)
    found: dict[str, list[sig.Signal]] = {code: [] for code in codes}
    counted = np.array([code not in excluded for code in codes], dtype=bool)

    rows = [i for i, code in enumerate(codes) if code in journal]
    if rows:
        marks = sorted({m for i in rows for m in journal[codes[i]]})
        column = {m: j for j, m in enumerate(marks)}
        own = np.zeros((len(codes), len(marks), 3))
        for i in rows:
            for mark, counts in journal[codes[i]].items():
                own[i, column[mark]] = counts
        rest = own[counted].sum(axis=0)[None] - own * counted[:, None, None]
        for k, direction in enumerate(("work_above_journal", "journal_above_work")):
            signals = sig.journal_disagreement_rows(own[rows, :, k], own[rows, :, 2], rest[rows, :, k],
                                                    rest[rows, :, 2], direction=direction)
            for i, one in zip(rows, signals, strict=True):
                found[codes[i]].append(one)

    rows = [i for i, code in enumerate(codes) if code in dist] if w.thresholds else []
    if rows:
        sizes = [dist[codes[i]].size for i in rows]
        own = np.zeros((len(rows), max(sizes)))
        for j, i in enumerate(rows):
            own[j, :sizes[j]] = dist[codes[i]]
        kept = counted[rows]
        rest = own[kept].sum(axis=0)[None] - own * kept[:, None]
        for i, one in zip(rows, sig.threshold_bunching_rows(own, rest, w.thresholds, sizes=sizes), strict=True):
            found[codes[i]].append(one)

    if first is not None:
        for code in codes:
            found[code].extend(one for one in first[code] if one.code not in sig.REGION_REFERENCE_SIGNALS)
        return found

    # every school's residual (this work − its other works) and spread ratio; each school is compared
    # with all the others (its own value left out)
    residuals = np.full(len(codes), np.nan)
    ratios = np.full(len(codes), np.nan)
    references: list[float | None] = []
    for i, code in enumerate(codes):
        s = per_school[code]
        other = [p for a_id, p in relative[code].items() if a_id != w.id]
        references.append(float(np.mean(other)) if other else None)
        if other and w.id in relative[code]:
            residuals[i] = relative[code][w.id] - references[-1]
        ratio = sig.spread_ratio(s.mean, s.sd, w.max_primary) if s.n >= sig.MIN_WORKS else None
        if ratio is not None:
            ratios[i] = ratio
    residual_centre, residual_spread, _n = sig.leave_one_out_centre_spread(residuals)
    with np.errstate(invalid="ignore", divide="ignore"):
        logs = np.where(ratios > 0, np.log(np.where(ratios > 0, ratios, 1.0)), np.nan)
    log_centre, log_spread, log_count = sig.leave_one_out_centre_spread(logs)
    for i, code in enumerate(codes):
        s = per_school[code]
        if w.id in relative[code]:
            se = (s.sd or 0) / math.sqrt(s.n) / region_sd[w.id] if s.n else 0.0
            found[code].append(sig.unexpected_result(
                relative[code][w.id], se, references[i], None,
                yardstick=(float(residual_centre[i]), float(residual_spread[i]))))
        found[code].append(sig.low_spread(s.n, s.mean, s.sd, w.max_primary, None, yardstick=(
            float(log_centre[i]), float(log_spread[i]), int(log_count[i]))))
    return found


def _pad(array: np.ndarray, size: int) -> np.ndarray:
    return array if array.size >= size else np.concatenate([array, np.zeros(size - array.size)])


def explain(federal: fed.SchoolMarkers, signals: list[tuple[int, sig.Signal]], works: dict[int, Work]) -> str:
    """The school's explanation in Russian: what tripped, and where the federal method and Metodist's
    signals disagree (a strong school trips the mean-score marker but not the signals)."""
    tripped = [(works[a].code, s) for a, s in signals if s.tripped]
    parts = []
    if federal.tripped:
        parts.append(_("Признаки федеральной методики: {names}").format(
            names=" ".join(fed.marker_name(m) for m in federal.tripped)))
    if tripped:
        parts.append(_("Сигналы Методиста: {items}").format(
            items=" ".join(_("{work}: {name}").format(work=code, name=sig.signal_name(s.code)) for code, s in tripped)))
    elif not federal.tripped:
        parts.append(_("Ни признаков федеральной методики, ни сигналов Методиста нет."))
    only_mean = federal.tripped and all(fed.MARKERS_BY_CODE[m].kind == fed.MEAN for m in federal.tripped)
    if only_mean and not tripped:
        reasons = []
        judged = [s for _a, s in signals if s.judged]
        if not any(s.code in ("work_above_journal", "journal_above_work") and s.z >= sig.Z_BASE for s in judged):
            reasons.append(_("отметки за работы согласуются с отметками по журналу"))
        if not any(s.code == "threshold_bunching" and s.z >= sig.Z_BASE for s in judged):
            reasons.append(_("баллы не скапливаются на порогах отметок"))
        if not any(s.code == "unexpected_result" and s.z >= sig.Z_BASE for s in judged):
            reasons.append(_("результаты согласуются с другими работами школы и прошлым годом"))
        parts.append(_("Высокий средний балл сам по себе не говорит о необъективности: {reasons}. Вероятнее, "
                       "школа просто сильная.").format(reasons="; ".join(reasons)))
    return " ".join(parts)


def store(run, engine="default") -> dict:
    """Compute and write the run's ObjectivityResult and ObjectivitySignal rows in bulk; a summary dict."""
    from metodist.analysis.models import ObjectivityResult, SignalSource

    with pinned_language():
        data = compute(run, engine)
    rows = ObjectivityResult.objects.bulk_create([
        ObjectivityResult(run=run, school_id=r["school_id"], federal_markers=r["federal"].tripped,
                          score=r["score"], rank=r["rank"], explanation=r["explanation"])
        for r in data["schools"]
    ])
    if any(row.pk is None for row in rows):  # backends that do not return ids
        rows = list(ObjectivityResult.objects.filter(run=run).order_by("rank"))
    by_code = {r["code"]: row for r, row in zip(data["schools"], rows, strict=True)}
    procedure_work = data["procedure_work"]
    cohort_work = {s: procedure_work.get(fed.Procedure(fed.VPR, s, 5)) for s in ("ru", "ma")}
    signals = []
    for r in data["schools"]:
        result_id = by_code[r["code"]].pk
        for check in r["federal"].checks:
            if not check.judged:
                continue
            marker = fed.MARKERS_BY_CODE[check.marker]
            work = (cohort_work.get(marker.subject) if marker.kind in (fed.RISE, fed.FALL)
                    else procedure_work.get(marker.procedure))
            value = check.numbers.get({fed.MEAN: "ci_low", fed.MARKS: "rho"}.get(marker.kind, "k"))
            signals.append((result_id, SignalSource.FEDERAL.value, check.marker, work, check.tripped, _finite(value),
                            json.dumps(_json_safe(check.numbers), ensure_ascii=False), check.reason))
        for a_id, one in r["signals"]:
            signals.append((result_id, SignalSource.METODIST.value, one.code, a_id, one.tripped, _finite(one.z),
                            json.dumps(_json_safe(one.numbers), ensure_ascii=False), one.reason))
    insert_signals(signals)
    report = data["report"]
    top = data["schools"][:5]
    return {"schools": len(rows), "signals": len(signals),
            "signals_tripped": sum(1 for s in signals if s[4]),
            "federal_marked": report.n_marked, "federal_marked_pct": _finite(report.marked_pct),
            "federal_index": _finite(report.index),
            "top": [{"code": r["code"], "score": r["score"]} for r in top if r["score"] > 0]}


SIGNAL_COLUMNS = ("result_id", "source", "code", "assessment_id", "tripped", "value", "numbers", "reason")


def insert_signals(rows: list[tuple]) -> None:
    """Write ObjectivitySignal rows given as tuples of :data:`SIGNAL_COLUMNS` (``numbers`` as JSON text),
    in the caller's transaction: COPY on PostgreSQL, one executemany on SQLite; a region has tens of
    thousands of them."""
    from django.db import connection

    from metodist.analysis.models import ObjectivitySignal

    if not rows:
        return
    table = connection.ops.quote_name(ObjectivitySignal._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in SIGNAL_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(SIGNAL_COLUMNS))})", rows)


def _finite(value):
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _json_safe(value):
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def objectivity_list(run, assessment: str | None = None) -> dict:
    """The stored list of a run as the `--json` of `metodist analyse objectivity` gives it:
    ``{"schools": [{"code", "name", "rank", "score", "federal_markers": [names], "signals": [...],
    "explanation"}]}``, ranked; with `assessment` (a code) only the schools that wrote it and only the
    markers and signals of that work."""
    from metodist.analysis.models import ObjectivityResult, ObjectivitySignal
    from metodist.collection.models import Work as WorkModel

    results = list(ObjectivityResult.objects.filter(run=run).select_related("school").order_by("rank"))
    signals = ObjectivitySignal.objects.filter(result__run=run).select_related("assessment").order_by("pk")
    wanted = None
    if assessment is not None:
        signals = signals.filter(assessment__code=assessment)
        wanted = set(WorkModel.objects.filter(assessment__code=assessment, absent=False)
                     .values_list("school_id", flat=True).distinct())
    grouped = defaultdict(list)
    for s in signals:
        grouped[s.result_id].append(s)
    schools = []
    for r in results:
        if wanted is not None and r.school_id not in wanted:
            continue
        own = grouped[r.pk]
        markers = [s.code for s in own if s.source == "federal" and s.tripped] if wanted is not None \
            else list(r.federal_markers)
        schools.append({
            "code": r.school.code, "name": r.school.short_name, "rank": r.rank, "score": r.score,
            "federal_markers": [fed.marker_name(m) for m in markers],
            "signals": [{"source": s.source, "code": s.code,
                         "name": fed.marker_name(s.code) if s.source == "federal" else sig.signal_name(s.code),
                         "assessment": s.assessment.code if s.assessment else None, "tripped": s.tripped,
                         "value": s.value, "numbers": s.numbers, "reason": s.reason} for s in own],
            "explanation": r.explanation,
        })
    return {"run": run.pk, "year": str(run.academic_year), "assessment": assessment, "schools": schools}
