"""The dashboards of stage 2, as plain data: the municipality's (or region's), the school's and the teacher's.

A dashboard reads what the analysis stored (ProblemField, SchoolStatus, ObjectivityResult with its signals,
DeficitProfile of the latest finished run that covers the organisation) through `visible_to(user)`. The one
thing it counts itself is the schools' figures of a year (participants, mean primary score, success and
quality): one grouped query over the works of the run's scope, school × assessment, cached per run and year
with Django's cache framework (`year_figures`), so a region of 600 schools costs one query per year per run.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from metodist.documents.common import Table

#: the coverage of the funnel plot's control limits and their normal quantiles
FUNNEL_LIMITS = ((0.95, 1.959964), (0.998, 3.090232))
#: how long the schools' figures stay cached (a new run or upload gives a new key anyway)
FIGURES_TIMEOUT = 6 * 3600
#: how many schools the objectivity section lists
OBJECTIVITY_TOP = 15


# --- figures of a year: one grouped query, cached ------------------------------------------------------

@dataclass
class Figures:
    """Counts of present works of a group (a school, a municipality, a school's work)."""

    participants: int = 0  # present works
    scored: int = 0  # present works with a primary score
    total: int = 0  # sum of primary scores
    possible: int = 0  # sum of maximum primary scores over the scored works
    marked: int = 0  # works with a mark
    twos: int = 0
    good: int = 0  # marks 4 and 5

    def add(self, other: Figures) -> Figures:
        for name in ("participants", "scored", "total", "possible", "marked", "twos", "good"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    @property
    def mean_pct(self) -> float | None:
        """Mean primary score in % of the maximum, over the scored works (Σ scores / Σ maxima)."""
        return 100 * self.total / self.possible if self.possible else None

    @property
    def success_pct(self) -> float | None:
        """Успеваемость: share of marks 3–5 among the works with a mark."""
        return 100 * (self.marked - self.twos) / self.marked if self.marked else None

    @property
    def quality_pct(self) -> float | None:
        """Качество знаний: share of marks 4–5 among the works with a mark."""
        return 100 * self.good / self.marked if self.marked else None


@dataclass
class AssessmentInfo:
    id: int
    code: str
    title: str
    programme: str
    subject: str
    grade: int
    max_primary: int

    @property
    def short_title(self) -> str:
        """The title without the note on a demonstration specification."""
        return self.title.split(" — ")[0]

    @property
    def family(self) -> str:
        return f"{self.programme.lower()}-{self.subject}-{self.grade}"


@dataclass
class YearFigures:
    """school id → assessment id → Figures, and the assessments of the year."""

    spring: int
    by_school: dict[int, dict[int, Figures]]
    assessments: dict[int, AssessmentInfo]

    def school(self, school_id: int) -> Figures:
        out = Figures()
        for fig in self.by_school.get(school_id, {}).values():
            out.add(fig)
        return out

    def pooled(self, school_ids, assessment_id: int | None = None) -> Figures:
        out = Figures()
        for sid in school_ids:
            per = self.by_school.get(sid, {})
            if assessment_id is None:
                for fig in per.values():
                    out.add(fig)
            elif assessment_id in per:
                out.add(per[assessment_id])
        return out


def _figures_key(run, spring: int) -> str:
    # the run's id, start and data version: ids are reused after a rolled-back transaction, starts are not
    version = run.data_version or {}
    started = run.started_at.timestamp() if run.started_at else ""
    return f"metodist:dashboard:figures:{run.pk}:{started}:{version.get('last_upload')}:{version.get('works')}:{spring}"


def compute_year_figures(scope_path: str, spring: int) -> YearFigures:
    """The present works of the assessments written in spring `spring` under `scope_path`, counted per
    school × assessment in ONE grouped query (plus one for the assessments' maxima)."""
    from metodist.collection.models import Work
    from metodist.reference.models import Assessment

    rows = (Work.objects.filter(assessment__year=spring, absent=False, school__path__startswith=scope_path)
            .values_list("school_id", "assessment_id")
            .annotate(n=Count("pk"), scored=Count("primary_score"), total=Sum("primary_score"),
                      marked=Count("mark"), twos=Count("pk", filter=Q(mark=2)),
                      good=Count("pk", filter=Q(mark__gte=4)))
            .order_by())
    rows = list(rows)
    ids = {r[1] for r in rows}
    assessments = {
        a.pk: AssessmentInfo(a.pk, a.code, a.title, a.programme, a.subject.code, a.grade, a.max_primary)
        for a in Assessment.objects.filter(pk__in=ids).select_related("subject")
    }
    by_school: dict[int, dict[int, Figures]] = defaultdict(dict)
    for school_id, assessment_id, n, scored, total, marked, twos, good in rows:
        maximum = assessments[assessment_id].max_primary
        by_school[school_id][assessment_id] = Figures(n, scored, int(total or 0), scored * maximum, marked, twos,
                                                      good)
    return YearFigures(spring, dict(by_school), assessments)


def year_figures(run, spring: int) -> YearFigures:
    """`compute_year_figures` over the run's scope, cached per (run, last upload, spring)."""
    key = _figures_key(run, spring)
    found = cache.get(key)
    if found is None:
        found = compute_year_figures(run.scope.path, spring)
        cache.set(key, found, FIGURES_TIMEOUT)
    return found


# --- the funnel plot ---------------------------------------------------------------------------------

def funnel_limits(p: float, n: int) -> dict[str, float]:
    """Binomial control limits of a share `p` (0–1) for a group of `n`: p ± z·√(p(1−p)/n), in %, clipped
    to 0–100, for each level of FUNNEL_LIMITS."""
    out = {}
    for level, z in FUNNEL_LIMITS:
        half = z * math.sqrt(p * (1 - p) / n) if n > 0 else 1.0
        key = str(level).replace("0.", "")
        out[f"lower_{key}"] = round(100 * max(0.0, p - half), 2)
        out[f"upper_{key}"] = round(100 * min(1.0, p + half), 2)
    return out


def funnel_points(schools: list, figures: YearFigures) -> dict:
    """Each school's success (share of marks 3–5 over the year's works with a mark) against its number of
    marked works, with the binomial control limits around the pooled value of all the schools given."""
    points = []
    for school in schools:
        fig = figures.school(school.pk)
        if not fig.marked:
            continue
        points.append({"school": school.short_name, "code": school.code, "n": fig.marked,
                       "success": round(fig.success_pct, 2), "social_index": school.social_index})
    total = sum(p["n"] for p in points)
    if not total:
        return {"centre": None, "points": [], "limits": []}
    successes = sum(figures.school(s.pk).marked - figures.school(s.pk).twos for s in schools)
    p0 = successes / total
    top = max(p["n"] for p in points)
    low = max(1, min(p["n"] for p in points) // 2)
    step = max(1, (int(top * 1.1) - low) // 60)
    limits = [{"n": n, **funnel_limits(p0, n)} for n in range(low, int(top * 1.1) + 1, step)]
    for point in points:
        lim = funnel_limits(p0, point["n"])
        if point["success"] < lim["lower_998"]:
            point["zone"] = _("ниже границы 99,8 %")
        elif point["success"] < lim["lower_95"]:
            point["zone"] = _("ниже границы 95 %")
        elif point["success"] > lim["upper_998"]:
            point["zone"] = _("выше границы 99,8 %")
        elif point["success"] > lim["upper_95"]:
            point["zone"] = _("выше границы 95 %")
        else:
            point["zone"] = _("в пределах границ")
    return {"centre": round(100 * p0, 2), "points": points, "limits": limits}


# --- shared pieces ---------------------------------------------------------------------------------

#: the order of a school's status badges
STATUS_ORDER = ["low_results", "difficult_context", "resilient", "high_performer"]


def status_badge(kind: str) -> tuple[str, str]:
    css, label = {
        "low_results": ("bad", _("низкие результаты")),
        "difficult_context": ("warn", _("сложные условия")),
        "resilient": ("good", _("резильентная")),
        "high_performer": ("info", _("высокие результаты")),
        "objectivity": ("bad", _("риск необъективности")),
    }[kind]
    return css, label


def field_name(row) -> str:
    """What a problem field is about: «1.2 Название элемента», an ability or a type of task."""
    return row.topic


def field_explanation(row) -> str:
    if row.explanation:
        return row.explanation
    return _("Выполнение {rate} % при {reference} % по региону (разница {diff} пункта).").format(
        rate=_num(_rate(row.solve_rate)), reference=_num(_rate(row.reference)), diff=_num(_rate(row.difference)))


def _num(value: float | None) -> str:
    from metodist.documents.common import number

    return number(value)


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _rate(value: float | None) -> float | None:
    """A stored solve rate or difference (a share, 0–1) as a percentage (or percentage points)."""
    return None if value is None else round(100 * value, 1)


def element_key(code: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in code.replace("-", ".").split("."))


# --- the municipality (or region) -------------------------------------------------------------------

@dataclass
class SchoolLine:
    school: object
    figures: Figures
    statuses: list = field(default_factory=list)  # SchoolStatus rows
    objectivity: object = None  # ObjectivityResult
    risk: bool = False

    @property
    def badges(self) -> list[tuple[str, str, str]]:
        out = []
        for status in sorted(self.statuses, key=lambda s: STATUS_ORDER.index(s.kind)
                             if s.kind in STATUS_ORDER else 9):
            css, label = status_badge(status.kind)
            out.append((css, label, status.explanation))
        if self.risk:
            css, label = status_badge("objectivity")
            out.append((css, label, self.objectivity.explanation))
        elif self.objectivity is not None and self.objectivity.federal_markers:
            out.append(("info", _("федеральные признаки: {n}").format(n=len(self.objectivity.federal_markers)),
                        self.objectivity.explanation))
        return out


@dataclass
class MunicipalityLine:
    """A municipality on the region's dashboard: its schools' pooled figures and how many of them carry
    each status. A region's 600 school rows are read nowhere but in a spreadsheet, so the page lists its
    municipalities (each opening its own dashboard) and the XLSX keeps every school."""

    organisation: object
    figures: Figures
    schools: int = 0
    low: int = 0
    resilient: int = 0
    risk: int = 0


def municipality_lines(lines: list[SchoolLine], figures: YearFigures) -> list[MunicipalityLine]:
    """One line per municipality of the schools' lines (a school's parent), in the order of their names."""
    from metodist.core.models import Organisation

    members = defaultdict(list)
    for line in lines:
        members[line.school.parent_id].append(line)
    out = []
    for organisation in Organisation.objects.filter(pk__in=[k for k in members if k]).order_by("short_name"):
        own = members[organisation.pk]
        out.append(MunicipalityLine(
            organisation, figures.pooled([line.school.pk for line in own]), len(own),
            low=sum(1 for line in own if any(s.kind == "low_results" for s in line.statuses)),
            resilient=sum(1 for line in own if any(s.kind == "resilient" for s in line.statuses)),
            risk=sum(1 for line in own if line.risk)))
    return out


def visible_schools(user, organisation, run):
    from metodist.core.models import Organisation, OrganisationKind

    path = organisation.path if organisation is not None else run.scope.path
    return list(Organisation.objects.visible_to(user).filter(kind=OrganisationKind.SCHOOL, path__startswith=path)
                .order_by("short_name"))


def objectivity_rows(user, run, path: str, *, limit: int = OBJECTIVITY_TOP) -> list[dict]:
    """The stored objectivity list of the schools under `path`, ranked, with the tripped federal markers
    and Metodist signals (name, work, value, reason) of each: two queries."""
    from metodist.analysis import objectivity as fed
    from metodist.analysis import objectivity_signals as sig
    from metodist.analysis.models import ObjectivityResult, ObjectivitySignal

    results = list(ObjectivityResult.objects.visible_to(user).filter(run=run, school__path__startswith=path)
                   .select_related("school").order_by("rank", "-score")[:limit])
    # the tripped ones, and Metodist's signals that add to the score (z above its base) without tripping
    signals = (ObjectivitySignal.objects.visible_to(user)
               .filter(Q(tripped=True) | Q(source="metodist", value__gt=sig.Z_BASE), result__in=[r.pk for r in results])
               .select_related("assessment").order_by("source", "-value", "pk"))
    grouped = defaultdict(list)
    for s in signals:
        name = fed.marker_name(s.code) if s.source == "federal" else sig.signal_name(s.code)
        grouped[s.result_id].append({"source": s.source, "name": name, "reason": s.reason, "value": s.value,
                                     "assessment": s.assessment.code if s.assessment else ""})
    rows = []
    for place, r in enumerate(results, start=1):
        own = grouped[r.pk]
        rows.append({"place": place, "rank": r.rank, "school": r.school, "score": r.score,
                     "federal": [s for s in own if s["source"] == "federal"],
                     "metodist": [s for s in own if s["source"] != "federal"],
                     "federal_markers": [fed.marker_name(m) for m in r.federal_markers],
                     "explanation": r.explanation, "result": r})
    return rows


#: the combined score (Σ max(0, z − 2) over Metodist's signals) from which a school is shown at risk: one
#: signal at its tripping level (z ≥ 3) or several moderate ones
RISK_SCORE = 1.0


def at_risk(result) -> bool:
    """«Риск необъективности»: Metodist's own signals add up to RISK_SCORE. The federal markers alone do not
    make the badge (a strong school trips the mean-score marker); they get a badge of their own."""
    return result.score >= RISK_SCORE


def heatmap(user, run, path: str, schools: list, assessment_code: str | None, *, by_municipality: bool = False) -> dict:
    """Content elements × schools of one work from the stored school-level problem fields: the choices of
    work (with how many flagged cells each has), the chosen one, the elements, and a row per school. A
    region's map (`by_municipality`) has a row per municipality instead: 600 school rows are neither
    readable nor light (5.6 MB of page at 600 schools); a municipality's row opens its own map of schools."""
    from metodist.analysis.models import FieldKind, GroupLevel, ProblemField

    stored = ProblemField.objects.visible_to(user).filter(
        run=run, field_kind=FieldKind.CONTENT_ELEMENT, organisation__path__startswith=path)
    # two narrow counts instead of one grouped pass over every stored field of the run (a region's run
    # holds hundreds of thousands): the works with cells (every work with a school's cell has its
    # municipality's and region's, which are few), and the flagged cells of each
    flagged_by = dict(stored.filter(flagged=True).order_by().values_list("assessment").annotate(n=Count("pk")))
    with_schools = set(stored.filter(group_level__in=[GroupLevel.MUNICIPALITY, GroupLevel.REGION]).order_by()
                       .values_list("assessment", flat=True).distinct()) or set(
        stored.filter(group_level=GroupLevel.SCHOOL).order_by().values_list("assessment", flat=True).distinct())
    from metodist.reference.models import Assessment

    choices = [(code, title.split(" — ")[0], flagged_by.get(pk, 0)) for pk, code, title in
               Assessment.objects.filter(pk__in=list(with_schools)).order_by("code").values_list("pk", "code", "title")]
    codes = [c for c, _t, _f in choices]
    chosen = assessment_code if assessment_code in codes else None
    if chosen is None and choices:
        chosen = max(choices, key=lambda c: (c[2], c[0]))[0]
    out = {"choices": choices, "chosen": chosen, "elements": [], "rows": [], "title": "",
           "by_municipality": by_municipality}
    if chosen is None:
        return out
    out["title"] = next(t for c, t, _f in choices if c == chosen)
    levels = [GroupLevel.MUNICIPALITY, GroupLevel.REGION] if by_municipality else [
        GroupLevel.SCHOOL, GroupLevel.MUNICIPALITY, GroupLevel.REGION]
    cells = (stored.filter(assessment__code=chosen, group_level__in=levels)
             .select_related("content_element", "organisation"))
    # the flagged fields of the schools' classes and teachers on the same work: stored for flagged rows only
    inner: dict[tuple[int, str], list[str]] = defaultdict(list)
    for row in (stored.filter(assessment__code=chosen, group_level__in=[GroupLevel.CLASS, GroupLevel.TEACHER],
                              flagged=True, organisation__in=[] if by_municipality else [s.pk for s in schools]).select_related("content_element", "teacher", "school_class")
                .order_by("group_level", "pk")):
        who = (_("учитель {name}").format(name=row.teacher.full_name) if row.teacher_id
               else _("класс {name}").format(name=row.school_class))
        inner[(row.organisation_id, row.content_element.code)].append(who)
    elements: dict[str, str] = {}
    by_org: dict[int, dict[str, object]] = defaultdict(dict)
    orgs = {}
    for cell in cells:
        code = cell.content_element.code
        elements[code] = cell.content_element.name
        by_org[cell.organisation_id][code] = cell
        orgs[cell.organisation_id] = cell.organisation
    ordered = sorted(elements, key=element_key)
    out["elements"] = [(code, elements[code]) for code in ordered]
    school_ids = {s.pk for s in schools}
    lines = []
    for org_id, org in sorted(orgs.items(), key=lambda kv: kv[1].path):
        if org_id not in school_ids and org.kind == "school":
            continue
        row = []
        for code in ordered:
            cell = by_org[org_id].get(code)
            if cell is None:
                row.append(None)
                continue
            groups = inner.get((org_id, code), [])
            flagged = cell.flagged or bool(groups)
            css = "flag" if flagged else ("low" if cell.difference < 0 else "ok")
            text = field_explanation(cell) if flagged else _(
                "Выполнение {rate} % при {reference} % по региону.").format(
                rate=_num(_rate(cell.solve_rate)), reference=_num(_rate(cell.reference)))
            if groups:
                text += " " + _("Проблемное поле внутри школы: {who}.").format(who=", ".join(groups))
            row.append({"rate": _rate(cell.solve_rate), "flagged": flagged, "school_flagged": cell.flagged,
                        "groups": groups, "css": css, "reference": _rate(cell.reference),
                        "difference": _rate(cell.difference), "pupils": cell.pupils, "explanation": text})
        lines.append({"organisation": org, "is_school": org.kind == "school", "cells": row})
    # the municipality / region first, then the schools by name
    lines.sort(key=lambda line: (line["is_school"], line["organisation"].short_name))
    out["rows"] = lines
    return out


def municipality(user, organisation, run, *, assessment_code: str | None = None) -> dict:
    """Everything the municipality's (or region's) dashboard shows."""
    from metodist.analysis.models import SchoolStatus

    path = organisation.path if organisation is not None else run.scope.path
    spring = run.academic_year.start_year + 1
    schools = visible_schools(user, organisation, run)
    figures = year_figures(run, spring)
    statuses = defaultdict(list)
    for status in SchoolStatus.objects.visible_to(user).filter(run=run, school__path__startswith=path):
        statuses[status.school_id].append(status)
    objectivity = objectivity_rows(user, run, path, limit=max(OBJECTIVITY_TOP, len(schools)))
    by_school = {row["school"].pk: row["result"] for row in objectivity}
    lines = []
    for school in schools:
        result = by_school.get(school.pk)
        lines.append(SchoolLine(school, figures.school(school.pk), statuses.get(school.pk, []), result,
                                result is not None and at_risk(result)))
    total = figures.pooled([s.pk for s in schools])
    low = [(line, s) for line in lines for s in line.statuses if s.kind == "low_results"]
    resilient = [(line, s) for line in lines for s in line.statuses if s.kind == "resilient"]
    difficult = sum(1 for line in lines if any(s.kind == "difficult_context" for s in line.statuses))
    key = {"schools": len(schools), "participants": total.participants, "mean_pct": total.mean_pct,
           "success_pct": total.success_pct, "quality_pct": total.quality_pct, "low": len(low),
           "resilient": len(resilient), "difficult": difficult,
           "risk": sum(1 for line in lines if line.risk),
           "assessments": len({a for s in schools for a in figures.by_school.get(s.pk, {})})}
    from metodist.core.models import OrganisationKind

    region = organisation is None or organisation.kind == OrganisationKind.REGION
    heat = heatmap(user, run, path, schools, assessment_code, by_municipality=region)
    funnel = funnel_points(schools, figures)
    return {"run": run, "spring": spring, "schools": lines, "key": key, "low": low, "resilient": resilient,
            "municipalities": municipality_lines(lines, figures) if region else None,
            "objectivity": [row for row in objectivity if row["score"] > 0][:OBJECTIVITY_TOP], "heatmap": heat,
            "funnel": funnel}


def municipality_tables(data: dict) -> dict[str, Table]:
    lines = data["schools"]
    schools = Table(
        _("Школы: результаты работ учебного года"), _("Школы"),
        [_("Школа"), _("Код"), _("ИСС"), _("Участников"), _("Средний первичный балл, % от максимума"),
         _("Успеваемость, %"), _("Качество, %"), _("Статусы")],
        [[line.school.short_name, line.school.code, line.school.social_index, line.figures.participants,
          _pct(line.figures.mean_pct), _pct(line.figures.success_pct), _pct(line.figures.quality_pct),
          "; ".join(label for _c, label, _e in line.badges)] for line in lines],
        pct={4, 5, 6}, widths=[36, 12, 8, 12, 16, 14, 12, 40], freeze_columns=1)
    low = Table(_("Школы с низкими результатами"), _("Низкие результаты"),
                [_("Школа"), _("Средний первичный балл, %"), _("Доля отметок «2», %"), _("Пояснение")],
                [[line.school.short_name, s.numbers.get("mean_primary_pct"), s.numbers.get("share_2_pct"),
                  s.explanation] for line, s in data["low"]], pct={1, 2}, widths=[36, 14, 14, 90])
    resilient = Table(_("Резильентные школы"), _("Резильентные"),
                      [_("Школа"), _("ИСС"), _("Ожидалось, %"), _("Получено, %"), _("Пояснение")],
                      [[line.school.short_name, line.school.social_index, s.numbers.get("predicted_pct"),
                        s.numbers.get("mean_primary_pct"), s.explanation] for line, s in data["resilient"]],
                      pct={2, 3}, widths=[36, 8, 14, 14, 90])
    objectivity = Table(
        _("Объективность результатов: школы по убыванию риска"), _("Объективность"),
        [_("Место"), _("Школа"), _("Балл риска"), _("Признаки федеральной методики"), _("Сигналы Методиста"),
         _("Пояснение")],
        [[row["place"], row["school"].short_name, round(row["score"], 2),
          "; ".join(f"{s['name']} {s['reason']}".strip() for s in row["federal"]) or "—",
          "; ".join(f"{s['name']} {s['reason']}".strip() for s in row["metodist"]) or "—",
          row["explanation"]] for row in data["objectivity"]],
        widths=[8, 36, 10, 60, 60, 80])
    heat = data["heatmap"]
    elements = heat["elements"]
    heat_rows, marked = [], set()
    for r, line in enumerate(heat["rows"]):
        heat_rows.append([line["organisation"].short_name,
                          *[cell["rate"] if cell else None for cell in line["cells"]]])
        marked |= {(r, c + 1) for c, cell in enumerate(line["cells"]) if cell and cell["flagged"]}
    heatmap_table = Table(
        (_("Выполнение элементов содержания по муниципалитетам: {title}, %") if heat["by_municipality"] else
         _("Выполнение элементов содержания по школам: {title}, %")).format(title=heat["title"]), _("Карта полей"),
        [_("Организация"), *[code for code, _n in elements]], heat_rows, pct=set(range(1, len(elements) + 1)),
        marked=marked, widths=[36, *[8] * len(elements)], freeze_columns=1,
        note=_("Выделены проблемные поля школы или одного из её классов (учителей): выполнение значимо ниже, "
               "чем по региону."))
    funnel = Table(
        _("Успеваемость школ и контрольные границы"), _("Воронка"),
        [_("Школа"), _("ИСС"), _("Работ с отметкой"), _("Успеваемость, %"), _("Положение")],
        [[p["school"], p["social_index"], p["n"], p["success"], p["zone"]] for p in data["funnel"]["points"]],
        pct={3}, widths=[36, 8, 12, 14, 24])
    out = {"schools": schools, "low": low, "resilient": resilient, "objectivity": objectivity,
           "heatmap": heatmap_table, "funnel": funnel}
    if data.get("municipalities") is not None:
        out["municipalities"] = Table(
            _("Муниципалитеты: результаты работ учебного года"), _("Муниципалитеты"),
            [_("Муниципалитет"), _("Код"), _("Школ"), _("Участников"), _("Средний первичный балл, % от максимума"),
             _("Успеваемость, %"), _("Качество, %"), _("Школ с низкими результатами"), _("Резильентных школ"),
             _("Школ с риском необъективности")],
            [[m.organisation.short_name, m.organisation.code, m.schools, m.figures.participants,
              _pct(m.figures.mean_pct), _pct(m.figures.success_pct), _pct(m.figures.quality_pct), m.low,
              m.resilient, m.risk] for m in data["municipalities"]],
            pct={4, 5, 6}, widths=[36, 12, 8, 12, 16, 14, 12, 14, 14, 14], freeze_columns=1)
        # the page's funnel table: the schools outside the 95 % limits (the chart shows them all)
        out["funnel_outside"] = dataclasses.replace(
            funnel, title=_("Школы за контрольными границами 95 %"),
            rows=[row for row, p in zip(funnel.rows, data["funnel"]["points"], strict=True)
                  if p["zone"] != _("в пределах границ")],
            note=_("Школы в пределах границ — в таблице XLSX."))
    return out


# --- the school ------------------------------------------------------------------------------------

def school(user, school_org, run) -> dict:
    """Everything a school's dashboard shows."""
    from metodist.analysis.models import GroupLevel, ProblemField, SchoolStatus

    spring = run.academic_year.start_year + 1
    figures = year_figures(run, spring)
    parent = school_org.parent
    siblings = []
    if parent is not None:
        from metodist.core.models import Organisation

        siblings = list(Organisation.objects.filter(kind="school", path__startswith=parent.path)
                        .values_list("pk", flat=True))
    own = figures.by_school.get(school_org.pk, {})
    works = []
    for a_id, fig in sorted(own.items(), key=lambda kv: figures.assessments[kv[0]].code):
        info = figures.assessments[a_id]
        ref = figures.pooled(siblings, a_id) if siblings else Figures()
        works.append({"assessment": info, "figures": fig, "parent": ref,
                      "diff_success": _diff(fig.success_pct, ref.success_pct),
                      "diff_quality": _diff(fig.quality_pct, ref.quality_pct),
                      "diff_mean": _diff(fig.mean_pct, ref.mean_pct)})
    statuses = list(SchoolStatus.objects.visible_to(user).filter(run=run, school=school_org))
    fields = (ProblemField.objects.visible_to(user)
              .filter(run=run, organisation=school_org, flagged=True,
                      group_level__in=[GroupLevel.CLASS, GroupLevel.TEACHER])
              .select_related("assessment", "school_class", "teacher", "content_element", "skill")
              .order_by("assessment__code", "-priority"))
    by_class, by_teacher = [], []
    for row in fields:
        (by_class if row.group_level == GroupLevel.CLASS else by_teacher).append(row)
    trend = school_trend(run, school_org, siblings)
    class_lines = field_lines(by_class, lambda r: str(r.school_class) if r.school_class_id else "—")
    teacher_lines = field_lines(by_teacher, lambda r: r.teacher.full_name if r.teacher_id else "—")
    return {"run": run, "spring": spring, "school": school_org, "parent": parent, "works": works,
            "statuses": statuses, "class_lines": class_lines, "teacher_lines": teacher_lines, "trend": trend,
            "total": figures.school(school_org.pk)}


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 1)


def school_trend(run, school_org, siblings) -> dict:
    """The school's figures of every year from three years before the run's to the run's (one cached
    grouped query per year), overall and per family of works (programme, subject, grade)."""
    spring = run.academic_year.start_year + 1
    years = []
    families: dict[str, dict] = {}
    for year in range(spring - 3, spring + 1):
        figures = year_figures(run, year)
        fig = figures.school(school_org.pk)
        if not fig.participants:
            continue
        parent = figures.pooled(siblings) if siblings else Figures()
        years.append({"year": year, "figures": fig, "parent": parent})
        for a_id, one in figures.by_school.get(school_org.pk, {}).items():
            info = figures.assessments[a_id]
            entry = families.setdefault(info.family, {"family": info.family, "title": _family_title(info),
                                                      "years": {}})
            entry["years"][year] = one
    return {"years": years, "families": sorted(families.values(), key=lambda f: f["family"]),
            "springs": [y["year"] for y in years]}


def _family_title(info: AssessmentInfo) -> str:
    # «ВПР 2026. Математика. 5 класс» → «ВПР. Математика. 5 класс»
    parts = info.short_title.split(". ")
    if parts and parts[0].split(" ")[-1].isdigit():
        parts[0] = " ".join(parts[0].split(" ")[:-1])
    return ". ".join(parts)


def school_tables(data: dict) -> dict[str, Table]:
    works = Table(
        _("Работы учебного года"), _("Работы"),
        [_("Работа"), _("Участников"), _("Успеваемость, %"), _("Муниципалитет: успеваемость, %"),
         _("Качество, %"), _("Муниципалитет: качество, %"), _("Средний первичный балл, %"),
         _("Муниципалитет: средний балл, %")],
        [[w["assessment"].short_title, w["figures"].participants, _pct(w["figures"].success_pct),
          _pct(w["parent"].success_pct), _pct(w["figures"].quality_pct), _pct(w["parent"].quality_pct),
          _pct(w["figures"].mean_pct), _pct(w["parent"].mean_pct)] for w in data["works"]],
        pct={2, 3, 4, 5, 6, 7}, widths=[44, 12, 14, 16, 12, 16, 14, 16], freeze_columns=1)
    by_class = _fields_table(data["class_lines"], _("Проблемные поля классов"), _("Классы"), _("Класс"))
    by_teacher = _fields_table(data["teacher_lines"], _("Проблемные поля учителей"), _("Учителя"), _("Учитель"))
    springs = data["trend"]["springs"]
    trend = Table(
        _("Динамика по годам"), _("Динамика"),
        [_("Год"), _("Участников"), _("Успеваемость, %"), _("Качество, %"), _("Средний первичный балл, %"),
         _("Муниципалитет: успеваемость, %"), _("Муниципалитет: качество, %")],
        [[y["year"], y["figures"].participants, _pct(y["figures"].success_pct), _pct(y["figures"].quality_pct),
          _pct(y["figures"].mean_pct), _pct(y["parent"].success_pct), _pct(y["parent"].quality_pct)]
         for y in data["trend"]["years"]],
        pct={2, 3, 4, 5, 6}, widths=[8, 12, 14, 12, 14, 16, 16])
    families = Table(
        _("Успеваемость по работам и годам, %"), _("Работы по годам"),
        [_("Работа"), *[str(s) for s in springs]],
        [[f["title"], *[_pct(f["years"][s].success_pct) if s in f["years"] else None for s in springs]]
         for f in data["trend"]["families"]],
        pct=set(range(1, len(springs) + 1)), widths=[44, *[10] * len(springs)], freeze_columns=1)
    return {"works": works, "by_class": by_class, "by_teacher": by_teacher, "trend": trend, "families": families}


def verdict_label(code: str) -> str:
    """The federal rule's verdict on a field in words."""
    return {"insufficient": _("ниже порога"), "sufficient": _("не ниже порога"),
            "too_few": _("мало участников"), "not_applicable": _("не применимо")}.get(code, code)


def field_lines(rows, who_of) -> list[dict]:
    """Flagged problem fields as the dashboards show them (rates in %)."""
    return [{"id": r.pk, "assessment": r.assessment.code, "who": who_of(r), "teacher_id": r.teacher_id, "field": field_name(r),
             "pupils": r.pupils, "rate": _rate(r.solve_rate), "reference": _rate(r.reference),
             "difference": _rate(r.difference), "verdict": verdict_label(r.federal_verdict) if r.federal_verdict else "",
             "below_federal": r.federal_verdict == "insufficient", "explanation": field_explanation(r)}
            for r in rows]


def _fields_table(lines: list[dict], title: str, sheet: str, who: str) -> Table:
    return Table(
        title, sheet,
        [_("Работа"), who, _("Что проверяется"), _("Участников"), _("Выполнение, %"), _("Регион, %"),
         _("Разница, пункты"), _("По федеральному правилу"), _("Пояснение")],
        [[x["assessment"], x["who"], x["field"], x["pupils"], x["rate"], x["reference"], x["difference"],
          x["verdict"] or "—", x["explanation"]] for x in lines],
        pct={4, 5, 6}, widths=[16, 18, 40, 10, 12, 12, 12, 16, 80])


# --- the teacher -----------------------------------------------------------------------------------

def teacher(user, teacher_obj, run, start_year: int) -> dict:
    """A teacher's classes and their works, the problem fields of his classes and his own, his deficits."""
    from metodist.analysis.models import DeficitProfile, GroupLevel, ProblemField
    from metodist.collection.models import Work
    from metodist.core.models import TeachingAssignment

    spring = start_year + 1
    assignments = list(TeachingAssignment.objects.visible_to(user)
                       .filter(teacher=teacher_obj, school_class__academic_year__start_year=start_year)
                       .select_related("school_class", "subject").order_by("school_class__grade",
                                                                           "school_class__letter", "subject__name"))
    counted = (Work.objects.visible_to(user)
               .filter(teacher=teacher_obj, assessment__year=spring, absent=False)
               .values_list("assessment__code", "assessment__title", "assessment__max_primary", "school_class_id")
               .annotate(n=Count("pk"), scored=Count("primary_score"), total=Sum("primary_score"),
                         marked=Count("mark"), twos=Count("pk", filter=Q(mark=2)),
                         good=Count("pk", filter=Q(mark__gte=4)))
               .order_by("assessment__code", "school_class_id"))
    classes = {a.school_class_id: a.school_class for a in assignments}
    works = []
    for code, title, maximum, class_id, n, scored, total, marked, twos, good in counted:
        fig = Figures(n, scored, int(total or 0), scored * maximum, marked, twos, good)
        works.append({"code": code, "title": title.split(" — ")[0], "class": classes.get(class_id), "figures": fig})
    pairs = {(a.school_class_id, a.subject_id) for a in assignments}
    fields = []
    if run is not None:
        own = (ProblemField.objects.visible_to(user)
               .filter(run=run, group_level=GroupLevel.TEACHER, teacher=teacher_obj, flagged=True))
        # a class's rows name no teacher: the teacher's own are those of his classes in his subjects, reached
        # through his visible assignments
        of_classes = ProblemField.objects.filter(run=run, group_level=GroupLevel.CLASS, flagged=True,
                                                 school_class_id__in=list(classes))
        fields = [r for r in (own | of_classes).select_related(
            "assessment", "assessment__subject", "school_class", "content_element", "skill")
            .order_by("assessment__code", "group_level", "-priority")
            if r.group_level == GroupLevel.TEACHER or (r.school_class_id, r.assessment.subject_id) in pairs]
    deficits = []
    if run is not None:
        deficits = list(DeficitProfile.objects.visible_to(user).filter(run=run, teacher=teacher_obj)
                        .select_related("subject", "content_element").order_by("-severity"))
    lines = field_lines(fields, lambda r: str(r.school_class) if r.school_class_id else _("все классы учителя"))
    return {"teacher": teacher_obj, "assignments": assignments, "works": works, "field_lines": lines,
            "deficits": deficits, "run": run, "spring": spring}


def teacher_tables(data: dict) -> dict[str, Table]:
    classes = Table(_("Классы и предметы"), _("Классы"), [_("Класс"), _("Предмет")],
                    [[str(a.school_class), a.subject.name] for a in data["assignments"]], widths=[10, 30])
    works = Table(
        _("Работы классов"), _("Работы"),
        [_("Работа"), _("Класс"), _("Участников"), _("Успеваемость, %"), _("Качество, %"),
         _("Средний первичный балл, %")],
        [[w["title"], str(w["class"]) if w["class"] else "—", w["figures"].participants,
          _pct(w["figures"].success_pct), _pct(w["figures"].quality_pct), _pct(w["figures"].mean_pct)]
         for w in data["works"]], pct={3, 4, 5}, widths=[44, 8, 12, 14, 12, 14])

    fields = _fields_table(data["field_lines"], _("Проблемные поля классов учителя"), _("Проблемные поля"),
                           _("Класс"))
    deficits = Table(
        _("Профессиональные дефициты"), _("Дефициты"),
        [_("Тема"), _("Предмет"), _("Область компетенций"), _("Подтверждено результатами классов"),
         _("Пояснение")],
        [[d.topic, d.subject.name if d.subject_id else "—", d.get_competence_area_display(),
          _("да") if (d.evidence or {}).get("confirmed_by_results") else _("нет"), d.explanation]
         for d in data["deficits"]], widths=[40, 16, 20, 14, 80])
    return {"classes": classes, "works": works, "fields": fields, "deficits": deficits}
