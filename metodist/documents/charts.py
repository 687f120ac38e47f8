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
        color=alt.Color("level:N", title=_("Уровень"), sort=order, legend=alt.Legend(orient="bottom")),
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
        color=alt.Color("level:N", title=_("Уровень"), sort=order, legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("level:N", title=_("Уровень")), alt.Tooltip("task:N", title=_("Задание")),
                 alt.Tooltip("pct:Q", title="%")],
    ).properties(title=_("Выполнение заданий, %"), width=max(WIDTH, 28 * len(tasks)), height=HEIGHT)
    return chart.to_dict()


def to_png(spec: dict, *, scale: float = 2) -> bytes:
    """The chart as a PNG image, rendered offline."""
    import vl_convert

    return vl_convert.vegalite_to_png(spec, scale=scale)
