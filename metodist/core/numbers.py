"""Numbers as the reader's language writes them: «87,5» and «−0,28» in Russian, «87.5» and «−0.28» in
English. Every sentence with a number in it (a finding's explanation, a document's conclusion, a page's
cell) goes through here, so that one page does not mix «22.7 %» and «86,3 %».

`number` and `percent` print one value; `format_text` is `str.format` for a translated sentence whose
placeholders keep their format specs (`{rho:.2f}`, `{z:+.1f}`), so translators still see the precision.
The decimal separator is Django's `DECIMAL_SEPARATOR` of the active language (inside
`problem_fields.pinned_language`, the language the stored texts are written in).
"""

from __future__ import annotations

import numbers
from functools import lru_cache

from django.utils import formats, translation

MINUS = "\u2212"


def separator() -> str:
    return _separator(translation.get_language())


@lru_cache(maxsize=32)
def _separator(language: str | None) -> str:
    # Django's get_format looks the language's format module up on every call: a region's analysis writes
    # tens of thousands of sentences, each with a few numbers
    return formats.get_format("DECIMAL_SEPARATOR", lang=language) or "."


def _typeset(text: str, sep: str) -> str:
    if sep != ".":
        text = text.replace(".", sep)
    return text.replace("-", MINUS)


def number(value: float | None, digits: int = 1) -> str:
    """87.0 → «87», 87.46 → «87,5», −0.04 → «0», None → «—»."""
    if value is None:
        return "—"
    text = f"{value:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return _typeset(text, separator())


def percent(value: float | None, digits: int = 1) -> str:
    """«87,5 %» (with a no-break space), None → «—»."""
    return "—" if value is None else f"{number(value, digits)}\u00a0%"


class _Typeset:
    """A number that formats itself the language's way: `str.format` parses the template in C and calls
    this only for the numbers."""

    __slots__ = ("value", "sep")

    def __init__(self, value, sep: str):
        self.value, self.sep = value, sep

    def __format__(self, spec: str) -> str:
        text = format(self.value, spec)
        if isinstance(self.value, numbers.Integral):
            return text.replace("-", MINUS)
        return _typeset(text, self.sep)


def _wrap(value, sep: str):
    kind = type(value)  # the common types first: the ABC checks below cost more than the formatting
    if kind is str:
        return value
    if kind is float:
        return _Typeset(value, sep)
    if kind is int:
        return value if value >= 0 else _Typeset(value, sep)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return value
    if isinstance(value, numbers.Integral) and value >= 0:
        return value
    return _Typeset(value, sep)


def format_text(template: str, /, *args, **values) -> str:
    """`template.format(*args, **values)` with every float written with the language's decimal separator
    and a true minus sign; integers and strings are left as they are."""
    sep = separator()
    return template.format(*(_wrap(v, sep) for v in args), **{k: _wrap(v, sep) for k, v in values.items()})
