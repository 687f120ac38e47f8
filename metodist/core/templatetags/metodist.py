"""Template helpers of every page: numbers in Russian typography and charts drawn from a Vega-Lite spec."""

from __future__ import annotations

import itertools

from django import template
from django.utils.html import format_html, json_script
from django.utils.translation import gettext as _

register = template.Library()
_ids = itertools.count(1)


@register.filter
def num(value, digits: int = 1) -> str:
    """87.0 → «87», 87.46 → «87,5», None → «—» (as the documents print numbers)."""
    from metodist.core.numbers import number

    try:
        return number(None if value is None or value == "" else float(value), int(digits))
    except (TypeError, ValueError):
        return str(value)


@register.filter
def pct(value, digits: int = 1) -> str:
    """A percentage: «87,5 %», None → «—»."""
    text = num(value, digits)
    return text if text == "—" else f"{text}\u00a0%"


@register.filter
def share(value, digits: int = 1) -> str:
    """A stored share (0–1, as problem fields keep their solve rates) as a percentage: 0.457 → «45,7 %»."""
    try:
        return pct(None if value is None or value == "" else 100 * float(value), digits)
    except (TypeError, ValueError):
        return str(value)


@register.filter
def signed(value, digits: int = 1) -> str:
    """A difference: «+3,2», «−4», «0»."""
    if value is None:
        return "—"
    text = num(value, digits)
    return f"+{text}" if float(value) > 0 and not text.startswith("+") and text != "0" else text


@register.simple_tag
def chart(spec: dict, label: str = "", height: str = ""):
    """A chart: the spec as JSON in the page and the element the vendored vega-embed draws it in.
    `label` is read by screen readers and shown if the chart cannot be drawn."""
    element_id = f"chart-spec-{next(_ids)}"
    style = format_html(' style="min-height:{}"', height) if height else ""
    return format_html(
        '<figure class="chart-figure"><div class="chart" role="img" aria-label="{label}" data-spec="{id}" '
        'data-error="{error}"{style}></div>{script}</figure>',
        label=label, id=element_id, error=_("Не удалось нарисовать диаграмму: {label}").format(label=label),
        style=style, script=json_script(spec, element_id),
    )


@register.simple_tag
def cell(table, row: int, column: int, value):
    """One cell of a `documents.common.Table`: numbers right-aligned in Russian typography, percentages
    with one decimal, marked cells (problem fields) highlighted."""
    from django.utils.html import format_html

    classes = []
    if isinstance(value, int | float) and not isinstance(value, bool):
        classes.append("num")
        text = num(value, getattr(table, "digits", 1)) if column in table.pct or isinstance(value, float) else str(value)
    else:
        text = "—" if value is None else str(value)
    if (row, column) in getattr(table, "marked", set()):
        classes.append("heat flag")
    return format_html('<td class="{}">{}</td>', " ".join(classes), text) if classes else format_html("<td>{}</td>", text)


@register.simple_tag(takes_context=True)
def xlsx_url(context) -> str:
    """The current page's address asking for its tables as XLSX."""
    request = context["request"]
    query = request.GET.copy()
    query["xlsx"] = "1"
    return f"{request.path}?{query.urlencode()}"
