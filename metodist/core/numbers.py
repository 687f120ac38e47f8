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
import string

from django.utils import formats

MINUS = "\u2212"


def separator() -> str:
    return formats.get_format("DECIMAL_SEPARATOR") or "."


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


class _Formatter(string.Formatter):
    def __init__(self, sep: str):
        super().__init__()
        self.sep = sep

    def format_field(self, value, format_spec):
        text = super().format_field(value, format_spec)
        if isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)):
            return _typeset(text, self.sep)
        if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value < 0:
            return text.replace("-", MINUS)
        return text


def format_text(template: str, /, *args, **values) -> str:
    """`template.format(*args, **values)` with every float written with the language's decimal separator
    and a true minus sign; integers and strings are left as they are."""
    return _Formatter(separator()).format(template, *args, **values)
