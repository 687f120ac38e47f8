"""The charts of the reports, each defined once as a declarative Vega-Lite spec (built with Altair), so
that the pages (vega-embed) and the documents (PNG through vl-convert) draw the same picture.

Every function takes a StandardReport (metodist.analysis.standard_reports) and returns the spec as a dict;
`to_png(spec)` renders it offline."""

from __future__ import annotations

import altair as alt
from django.utils.translation import gettext as _

WIDTH = 460
HEIGHT = 220


def _levels(report) -> list:
    """The school first, then its parents up to the whole database."""
    return [report.own, *report.parents]


def marks_distribution_spec(report) -> dict:
    """Shares of marks «2»–«5» of the school beside its parent levels (grouped bars)."""
    levels = _levels(report)
    order = [level.name for level in levels]
    values = [
        {"mark": f"«{mark}»", "level": level.name, "pct": round(pct, 1)}
        for level in levels for mark, pct in level.marks_pct.items() if pct is not None
    ]
    chart = alt.Chart(alt.Data(values=values)).mark_bar().encode(
        x=alt.X("mark:N", title=_("Отметка"), sort=["«2»", "«3»", "«4»", "«5»"], axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("level:N", sort=order),
        y=alt.Y("pct:Q", title=_("Доля участников, %")),
        color=alt.Color("level:N", title=_("Уровень"), sort=order, legend=alt.Legend(orient="bottom", labelLimit=320)),
        tooltip=[alt.Tooltip("level:N", title=_("Уровень")), alt.Tooltip("mark:N", title=_("Отметка")),
                 alt.Tooltip("pct:Q", title="%")],
    ).properties(title=_("Распределение отметок, %"), width=WIDTH, height=HEIGHT)
    return chart.to_dict()


def task_completion_spec(report) -> dict:
    """Solve rate of every task: the school's bars, its parents' as grouped bars beside them."""
    levels = _levels(report)[:3]  # the school, its municipality and region: more would crowd the chart
    order = [level.name for level in levels]
    tasks = [task.number for task in report.tasks]
    values = [
        {"task": number, "level": level.name, "pct": round(pct, 1)}
        for level in levels for number, pct in level.solve_rate_pct.items() if pct is not None
    ]
    chart = alt.Chart(alt.Data(values=values)).mark_bar().encode(
        x=alt.X("task:N", title=_("Задание"), sort=tasks, axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("level:N", sort=order),
        y=alt.Y("pct:Q", title=_("Выполнение, %"), scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("level:N", title=_("Уровень"), sort=order, legend=alt.Legend(orient="bottom", labelLimit=320)),
        tooltip=[alt.Tooltip("level:N", title=_("Уровень")), alt.Tooltip("task:N", title=_("Задание")),
                 alt.Tooltip("pct:Q", title="%")],
    ).properties(title=_("Выполнение заданий, %"), width=max(WIDTH, 28 * len(tasks)), height=HEIGHT)
    return chart.to_dict()


def to_png(spec: dict, *, scale: float = 2) -> bytes:
    """The chart as a PNG image, rendered offline; numbers in the Russian format (decimal comma)."""
    import vl_convert

    return vl_convert.vegalite_to_png(spec, scale=scale, format_locale="ru-RU")


def schools_spec(section) -> dict:
    """Mean primary score (% of the maximum) of every school of a municipality's section
    (metodist.documents.municipality_report.Section), best first, with the municipality's mean as a rule."""
    values = [{"school": s.name, "pct": round(s.mean_primary_pct, 1)}
              for s in section.schools if s.mean_primary_pct is not None]
    order = [v["school"] for v in values]
    bars = alt.Chart(alt.Data(values=values)).mark_bar(color="#4C78A8").encode(
        y=alt.Y("school:N", title=None, sort=order, axis=alt.Axis(labelLimit=260)),
        x=alt.X("pct:Q", title=_("Средний первичный балл, % от максимума"), scale=alt.Scale(domain=[0, 100])),
        tooltip=[alt.Tooltip("school:N", title=_("Школа")), alt.Tooltip("pct:Q", title="%")],
    )
    text = bars.mark_text(align="left", dx=3, fontSize=10).encode(text=alt.Text("pct:Q", format=".1f"))
    layers = [bars, text]
    if section.mean_primary_pct is not None:
        mean = round(section.mean_primary_pct, 1)
        layers.append(alt.Chart(alt.Data(values=[{"pct": mean}])).mark_rule(color="#E45756", strokeWidth=2).encode(
            x="pct:Q", tooltip=[alt.Tooltip("pct:Q", title=_("Муниципалитет, %"))]))
    chart = alt.layer(*layers).properties(
        title=_("Средний первичный балл школ, % от максимума (линия — муниципалитет)"),
        width=WIDTH, height=max(120, 18 * len(values)))
    return chart.to_dict()


# --- the report pages (metodist.analysis.report_views) ---------------------------------------------

def score_distribution_spec(report) -> dict:
    """Shares of works per primary score: the organisation's bars, its nearest parent level's line, and a
    dashed rule at every mark threshold of the grade scale, labelled with the mark it starts."""
    own = report.own
    total = sum(own.scores.values())
    bar_values = [{"score": score, "level": own.name, "pct": round(100 * n / total, 1)}
                  for score, n in own.scores.items()] if total else []
    layers = []
    x = alt.X("score:O", title=_("Первичный балл"), axis=alt.Axis(labelAngle=0))
    layers.append(alt.Chart(alt.Data(values=bar_values)).mark_bar(color="#4C78A8").encode(
        x=x, y=alt.Y("pct:Q", title=_("Доля участников, %")),
        tooltip=[alt.Tooltip("score:O", title=_("Первичный балл")), alt.Tooltip("pct:Q", title="%")]))
    parent = next((p for p in report.parents if p.kind != "national"), None)
    parent_total = sum(parent.scores.values()) if parent else 0
    if parent_total:
        line_values = [{"score": score, "level": parent.name, "pct": round(100 * n / parent_total, 1)}
                       for score, n in parent.scores.items()]
        layers.append(alt.Chart(alt.Data(values=line_values)).mark_line(color="#E45756", point=True).encode(
            x=x, y="pct:Q", tooltip=[alt.Tooltip("level:N", title=_("Уровень")),
                                     alt.Tooltip("score:O", title=_("Первичный балл")),
                                     alt.Tooltip("pct:Q", title="%")]))
    thresholds = [{"score": score, "label": f"«{mark}»"} for mark, score in sorted(report.thresholds.items())
                  if mark > 2]
    if thresholds and bar_values:
        rule = alt.Chart(alt.Data(values=thresholds))
        layers.append(rule.mark_rule(color="#444", strokeDash=[4, 3]).encode(
            x=x, tooltip=[alt.Tooltip("label:N", title=_("Отметка от этого балла"))]))
        layers.append(rule.mark_text(align="left", dx=3, dy=-4, baseline="top", fontSize=11).encode(
            x=x, y=alt.value(0), text="label:N"))
    title = _("Распределение первичных баллов, %")
    if parent_total:
        title = _("Распределение первичных баллов, % (линия — {name}; пунктир — пороги отметок)").format(
            name=parent.name)
    chart = alt.layer(*layers).properties(title=title, width=max(WIDTH, 16 * len(own.scores)), height=HEIGHT)
    return chart.to_dict()


def journal_comparison_spec(report) -> dict:
    """Per level, the shares of works whose mark is lower than, equal to or higher than the journal mark
    (stacked horizontal bars, 100 % each)."""
    labels = {"lower": _("Понизили"), "confirmed": _("Подтвердили"), "higher": _("Повысили")}
    levels = _levels(report)
    order = [level.name for level in levels]
    values = [
        {"level": level.name, "kind": labels[k], "order": i, "pct": round(pct, 1)}
        for level in levels for i, (k, pct) in enumerate(level.journal_pct.items()) if pct is not None
    ]
    chart = alt.Chart(alt.Data(values=values)).mark_bar().encode(
        y=alt.Y("level:N", title=None, sort=order, axis=alt.Axis(labelLimit=220)),
        x=alt.X("pct:Q", title=_("Доля участников, %"), stack="zero", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("kind:N", title=None, sort=list(labels.values()),
                        scale=alt.Scale(domain=list(labels.values()), range=["#E45756", "#9D9D9D", "#4C78A8"]),
                        legend=alt.Legend(orient="bottom")),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("level:N", title=_("Уровень")), alt.Tooltip("kind:N", title=_("Отметка")),
                 alt.Tooltip("pct:Q", title="%")],
    ).properties(title=_("Отметка за работу и отметка по журналу, %"), width=WIDTH, height=max(60, 28 * len(levels)))
    return chart.to_dict()


def item_analysis_spec(tasks: list[dict]) -> dict:
    """Item analysis: each task as a point, difficulty (solve rate, %) across and discrimination (item-rest
    correlation) up; flagged tasks in red; the guide lines at r = 0.2 and r = 0. `tasks` are the rows of
    `ItemAnalysis.as_dict()["tasks"]`."""
    values = [{"task": t["task"], "difficulty": round(100 * t["difficulty"], 1),
               "discrimination": round(t["discrimination"], 2),
               "flag": _("есть замечания") if t["flags"] else _("без замечаний")}
              for t in tasks if t["difficulty"] is not None and t["discrimination"] is not None]
    base = alt.Chart(alt.Data(values=values)).encode(
        x=alt.X("difficulty:Q", title=_("Выполнение задания, %"), scale=alt.Scale(domain=[0, 100])),
        y=alt.Y("discrimination:Q", title=_("Различающая способность, r")),
    )
    points = base.mark_circle(size=70).encode(
        color=alt.Color("flag:N", title=None, scale=alt.Scale(
            domain=[_("без замечаний"), _("есть замечания")], range=["#4C78A8", "#E45756"]),
            legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("task:N", title=_("Задание")), alt.Tooltip("difficulty:Q", title="%"),
                 alt.Tooltip("discrimination:Q", title="r")],
    )
    labels = base.mark_text(align="left", dx=6, fontSize=10).encode(text="task:N")
    guides = alt.Chart(alt.Data(values=[{"r": 0.2}, {"r": 0.0}])).mark_rule(color="#999", strokeDash=[4, 3]).encode(
        y="r:Q")
    return alt.layer(guides, points, labels).properties(
        title=_("Трудность и различающая способность заданий"), width=WIDTH, height=HEIGHT).to_dict()


def total_score_spec(distribution: dict) -> dict:
    """Works per total score (the item analysis's complete rows): `distribution` maps score (text) → works."""
    values = [{"score": float(s), "works": n} for s, n in distribution.items()]
    chart = alt.Chart(alt.Data(values=values)).mark_bar(color="#4C78A8").encode(
        x=alt.X("score:O", title=_("Сумма баллов"), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("works:Q", title=_("Работ")),
        tooltip=[alt.Tooltip("score:O", title=_("Сумма баллов")), alt.Tooltip("works:Q", title=_("Работ"))],
    ).properties(title=_("Распределение суммы баллов"), width=max(WIDTH, 16 * len(values)), height=HEIGHT)
    return chart.to_dict()


def trend_spec(years: list) -> dict:
    """Success, quality and the mean primary score (% of the maximum) year over year; `years` are
    `trends.TrendYear` rows."""
    names = {"success": _("Успеваемость"), "quality": _("Качество"), "mean": _("Средний балл, % от максимума")}
    values = []
    for year in years:
        for key, value in (("success", year.success_pct), ("quality", year.quality_pct),
                           ("mean", year.mean_primary_pct)):
            if value is not None:
                values.append({"year": str(year.year), "figure": names[key], "pct": round(value, 1)})
    chart = alt.Chart(alt.Data(values=values)).mark_line(point=True).encode(
        x=alt.X("year:O", title=_("Год"), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("pct:Q", title="%", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("figure:N", title=None, sort=list(names.values()), legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("year:O", title=_("Год")), alt.Tooltip("figure:N", title=_("Показатель")),
                 alt.Tooltip("pct:Q", title="%")],
    ).properties(title=_("Динамика результатов по годам, %"), width=WIDTH, height=HEIGHT)
    return chart.to_dict()


# --- the dashboards of stage 2 (metodist.analysis.dashboards) ---------------------------------------------

def _named(chart, **datasets) -> dict:
    """The spec of a chart whose data are named (`alt.Data(name=...)`), with the rows put in as top-level
    datasets: Altair does not then walk and validate every row, which takes seconds for a few hundred."""
    spec = chart.to_dict(validate=False)
    spec["datasets"] = {name: rows for name, rows in datasets.items()}
    return spec


def problem_heatmap_spec(heat: dict) -> dict:
    """Content elements × schools of one work (`dashboards.heatmap`): the colour is the school's solve rate,
    a red frame marks a problem field (of the school or of one of its classes or teachers). The cells carry
    codes only; the names come from two small lookup datasets, so the page stays light."""
    cells = [
        {"c": line["organisation"].code, "e": code, "r": cell["rate"], "ref": cell["reference"],
         "f": 1 if cell["flagged"] else 0}
        for line in heat["rows"] for (code, _name), cell in zip(heat["elements"], line["cells"], strict=True)
        if cell is not None
    ]
    orgs = [{"c": line["organisation"].code, "org": line["organisation"].short_name} for line in heat["rows"]]
    names = [{"e": code, "name": name} for code, name in heat["elements"]]
    elements = [code for code, _name in heat["elements"]]
    flagged = alt.datum.f == 1
    base = alt.Chart(alt.Data(name="cells")).transform_lookup(
        lookup="c", from_=alt.LookupData(alt.Data(name="orgs"), "c", ["org"]),
    ).transform_lookup(
        lookup="e", from_=alt.LookupData(alt.Data(name="elements"), "e", ["name"]),
    ).transform_calculate(flag=f"datum.f == 1 ? '{_('да')}' : '{_('нет')}'").encode(
        x=alt.X("e:N", title=_("Элемент содержания"), sort=elements, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("org:N", title=None, sort=[o["org"] for o in orgs], axis=alt.Axis(labelLimit=220)),
        tooltip=[alt.Tooltip("org:N", title=_("Организация")), alt.Tooltip("e:N", title=_("Элемент")),
                 alt.Tooltip("name:N", title=_("Название")), alt.Tooltip("r:Q", title=_("Выполнение, %")),
                 alt.Tooltip("ref:Q", title=_("Регион, %")), alt.Tooltip("flag:N", title=_("Проблемное поле"))],
    )
    rects = base.mark_rect().encode(
        color=alt.Color("r:Q", title=_("Выполнение, %"), scale=alt.Scale(scheme="redyellowgreen", domain=[0, 100])),
        stroke=alt.condition(flagged, alt.value("#b00020"), alt.value("transparent")),
        strokeWidth=alt.condition(flagged, alt.value(3), alt.value(0)),
    )
    text = base.mark_text(fontSize=9).encode(text=alt.Text("r:Q", format=".0f"))
    chart = alt.layer(rects, text).properties(
        title=_("Выполнение элементов содержания, % (красная рамка — проблемное поле)"),
        width=max(240, 34 * len(elements)), height=max(120, 20 * len(orgs)))
    return _named(chart, cells=cells, orgs=orgs, elements=names)


def success_funnel_spec(funnel: dict) -> dict:
    """Funnel plot (`dashboards.funnel_points`): each school's success against its number of works with a
    mark, the colour its social index; the lines are the municipality's value and its binomial control
    limits (95 % dashed, 99.8 % solid)."""
    limits = funnel["limits"]
    lines = [{"n": row["n"], "pct": row[key], "line": label, "series": key}
             for row in limits
             for key, label in (("lower_95", _("95 %")), ("upper_95", _("95 %")),
                                ("lower_998", _("99,8 %")), ("upper_998", _("99,8 %")))]
    bounds = alt.Chart(alt.Data(name="limits")).mark_line(color="#888").encode(
        x=alt.X("n:Q", title=_("Работ с отметкой")),
        y=alt.Y("pct:Q", title=_("Успеваемость, %")),
        detail="series:N",
        strokeDash=alt.StrokeDash("line:N", title=_("Контрольные границы"), legend=alt.Legend(orient="bottom"),
                                  scale=alt.Scale(domain=[_("95 %"), _("99,8 %")], range=[[5, 4], [1, 0]])),
    )
    centre = alt.Chart(alt.Data(values=[{"pct": funnel["centre"]}])).mark_rule(color="#4C78A8").encode(
        y="pct:Q", tooltip=[alt.Tooltip("pct:Q", title=_("Муниципалитет, %"))])
    points = alt.Chart(alt.Data(name="schools")).mark_circle(size=70, opacity=0.9, stroke="#333",
                                                                       strokeWidth=0.5).encode(
        x="n:Q", y=alt.Y("success:Q", scale=alt.Scale(zero=False)),
        color=alt.Color("social_index:Q", title=_("ИСС"), scale=alt.Scale(scheme="viridis")),
        tooltip=[alt.Tooltip("school:N", title=_("Школа")), alt.Tooltip("social_index:Q", title=_("ИСС")),
                 alt.Tooltip("n:Q", title=_("Работ с отметкой")), alt.Tooltip("success:Q", title=_("Успеваемость, %")),
                 alt.Tooltip("zone:N", title=_("Положение"))],
    )
    chart = alt.layer(bounds, centre, points).properties(
        title=_("Успеваемость школ и контрольные границы (цвет — индекс социального благополучия)"),
        width=WIDTH, height=280)
    return _named(chart, limits=lines, schools=funnel["points"])


def school_trend_spec(trend: dict) -> dict:
    """A school's success, quality and mean primary score by year (`dashboards.school_trend`)."""
    values = []
    for year in trend["years"]:
        fig = year["figures"]
        for label, value in ((_("Успеваемость"), fig.success_pct), (_("Качество"), fig.quality_pct),
                             (_("Средний первичный балл"), fig.mean_pct)):
            if value is not None:
                values.append({"year": str(year["year"]), "measure": label, "pct": round(value, 1)})
    chart = alt.Chart(alt.Data(values=values)).mark_line(point=True).encode(
        x=alt.X("year:O", title=_("Год проведения работ"), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("pct:Q", title="%", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("measure:N", title=None, legend=alt.Legend(orient="bottom", labelLimit=320)),
        tooltip=[alt.Tooltip("year:O", title=_("Год")), alt.Tooltip("measure:N", title=_("Показатель")),
                 alt.Tooltip("pct:Q", title="%")],
    ).properties(title=_("Результаты школы по годам, %"), width=WIDTH, height=HEIGHT)
    return chart.to_dict()


def cohort_spec(groups: list, from_label: str, to_label: str) -> dict:
    """A cohort's groups (`trends.CohortGroup`: schools, or a school's classes) from one work to the next:
    each group a line from its mean primary score (% of the maximum) in the first work to the second, so
    who rose and who fell is seen at once; ordered by the change."""
    values = []
    rows = [g for g in groups if g.before.mean_primary_pct is not None and g.after.mean_primary_pct is not None]
    rows.sort(key=lambda g: g.change_pct if g.change_pct is not None else 0)
    for group in rows:
        name = group.school_name if group.letter is None else f"{group.school_name}, {group.letter}"
        for side, label, pct in (("a", from_label, group.before.mean_primary_pct),
                                 ("b", to_label, group.after.mean_primary_pct)):
            values.append({"g": name, "side": side, "work": label, "pct": round(pct, 1),
                           "d": round(group.change_pct or 0, 1)})
    order = [label for label in (from_label, to_label)]
    base = alt.Chart(alt.Data(name="cohort")).encode(
        y=alt.Y("g:N", title=None, sort=alt.EncodingSortField(field="d", order="descending")),
        x=alt.X("pct:Q", title=_("Средний балл, % от максимума"), scale=alt.Scale(domain=[0, 100])),
    )
    lines = base.mark_line(color="#9aa5b1").encode(detail="g:N")
    points = base.mark_point(filled=True, size=60).encode(
        color=alt.Color("work:N", title=None, sort=order, legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("g:N", title=_("Группа")), alt.Tooltip("work:N", title=_("Работа")),
                 alt.Tooltip("pct:Q", title="%"), alt.Tooltip("d:Q", title=_("Изменение, п. п."))],
    )
    chart = (lines + points).properties(
        title=_("Средний балл той же когорты: первая работа и следующая"), width=WIDTH,
        height=max(HEIGHT // 2, 18 * len(rows)))
    return _named(chart, cohort=values)


def indicator_tracks_spec(rows: list[dict], years: list[int]) -> dict:
    """A roadmap's indicators year by year (`planning.views.indicator_rows`): each indicator a line of its
    measured values, its target a hollow mark at the roadmap's year, so whether it was reached is seen."""
    values, targets = [], []
    for row in rows:
        indicator = row["indicator"]
        name = f"{indicator.position}. {indicator.goal[:60]}{'…' if len(indicator.goal) > 60 else ''}"
        for year, value in zip(years, row["values"], strict=True):
            if value is not None and value.value is not None:
                values.append({"i": name, "year": f"{year}/{year + 1}", "pct": round(value.value, 1)})
        if indicator.target is not None:
            plan = indicator.roadmap.academic_year.start_year
            targets.append({"i": name, "year": f"{plan}/{plan + 1}", "pct": indicator.target})
    order = [f"{y}/{y + 1}" for y in sorted({*years, *(int(t["year"][:4]) for t in targets)})]
    x = alt.X("year:O", title=_("Учебный год"), sort=order, axis=alt.Axis(labelAngle=0))
    y = alt.Y("pct:Q", title="%", scale=alt.Scale(domain=[0, 100]))
    colour = alt.Color("i:N", title=None, legend=alt.Legend(orient="bottom", columns=1, labelLimit=420))
    measured = alt.Chart(alt.Data(name="measured")).mark_line(point=True).encode(
        x=x, y=y, color=colour,
        tooltip=[alt.Tooltip("i:N", title=_("Показатель")), alt.Tooltip("year:O", title=_("Год")),
                 alt.Tooltip("pct:Q", title=_("Значение, %"))])
    target = alt.Chart(alt.Data(name="targets")).mark_point(shape="diamond", size=110, filled=False,
                                                            strokeWidth=2).encode(
        x=x, y=y, color=colour,
        tooltip=[alt.Tooltip("i:N", title=_("Показатель")), alt.Tooltip("pct:Q", title=_("Целевое значение, %"))])
    chart = (measured + target).properties(
        title=_("Показатели: измеренные значения и цель (ромб)"), width=WIDTH, height=HEIGHT)
    return _named(chart, measured=values, targets=targets)


def help_effects_spec(items) -> dict:
    """The difference in differences of each piece of help with its 95 % interval (`monitoring.help_effects`):
    a point and a bar per help, the zero line marked, so «помогло» is an interval wholly right of zero."""
    rows = [{"help": f"{h.title[:70]}{'…' if len(h.title) > 70 else ''}", "did": round(h.effect.did, 1),
             "low": round(h.effect.low, 1), "high": round(h.effect.high, 1), "verdict": h.effect.verdict_text}
            for h in items]
    y = alt.Y("help:N", title=None, sort=None, axis=alt.Axis(labelLimit=360))
    bars = alt.Chart(alt.Data(name="effects")).mark_rule(strokeWidth=3).encode(
        y=y, x=alt.X("low:Q", title=_("Разница изменений, п. (95 % интервал)")), x2="high:Q",
        color=alt.Color("verdict:N", title=_("Вывод"), legend=alt.Legend(orient="bottom")))
    points = alt.Chart(alt.Data(name="effects")).mark_point(filled=True, size=80).encode(
        y=y, x="did:Q", color="verdict:N",
        tooltip=[alt.Tooltip("help:N", title=_("Помощь")), alt.Tooltip("did:Q", title=_("Разница, п.")),
                 alt.Tooltip("low:Q", title=_("От")), alt.Tooltip("high:Q", title=_("До")),
                 alt.Tooltip("verdict:N", title=_("Вывод"))])
    zero = alt.Chart(alt.Data(name="zero")).mark_rule(strokeDash=[4, 4], color="#555").encode(x="x:Q")
    chart = (bars + points + zero).properties(
        title=_("Эффект помощи: изменение у участников минус изменение у сравнимых классов"),
        width=WIDTH, height=max(60, 28 * len(rows)))
    return _named(chart, effects=rows, zero=[{"x": 0}])


def practice_evidence_spec(rows) -> dict:
    """A practice's evidence (`practices.models.PracticeEvidence`): for each of its elements the solve rate
    of the authors' classes (solid) and of the municipality (dashed) in the year before the practice and
    the latest year, so a gain is the solid line rising above the dashed one."""
    values = []
    for row in rows:
        what = row.content_element or row.skill
        name = f"{what.code} {what.name[:50]}{'…' if len(what.name) > 50 else ''}"
        for year, own, ref in ((row.before_year, row.before, row.reference_before),
                               (row.after_year, row.after, row.reference_after)):
            if year is None:
                continue
            label = f"{year}/{year + 1}"
            if own is not None:
                values.append({"e": name, "year": label, "who": row.get_scope_display(), "pct": round(own, 1)})
            if ref is not None:
                values.append({"e": name, "year": label, "who": row.reference_name, "pct": round(ref, 1)})
    chart = alt.Chart(alt.Data(name="evidence")).mark_line(point=True).encode(
        x=alt.X("year:O", title=_("Учебный год"), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("pct:Q", title=_("Выполнение заданий, %"), scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("e:N", title=None, legend=alt.Legend(orient="bottom", columns=1, labelLimit=420)),
        strokeDash=alt.StrokeDash("who:N", title=None, legend=alt.Legend(orient="bottom")),
        detail="who:N",
        tooltip=[alt.Tooltip("e:N", title=_("Элемент")), alt.Tooltip("who:N", title=_("Чьи результаты")),
                 alt.Tooltip("year:O", title=_("Год")), alt.Tooltip("pct:Q", title=_("Выполнение, %"))],
    ).properties(title=_("Результаты авторов практики и муниципалитета до и после"), width=WIDTH, height=HEIGHT)
    return _named(chart, evidence=values)
