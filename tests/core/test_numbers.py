"""Numbers in the reader's language: a comma in Russian, a point in English, a true minus sign; the format
specs of a translated sentence keep their precision."""

import numpy as np
from django.utils import translation

from metodist.core.numbers import MINUS, format_text, number, percent


def test_number_and_percent_in_russian_and_english():
    with translation.override("ru"):
        assert number(87.46) == "87,5" and number(87.0) == "87" and number(None) == "—"
        assert number(-0.04) == "0" and number(-1.25, 2) == f"{MINUS}1,25"
        assert percent(52.34) == "52,3\u00a0%"
    with translation.override("en"):
        assert number(87.46) == "87.5" and percent(52.34) == "52.3\u00a0%"


def test_format_text_writes_floats_the_language_way_and_leaves_integers_and_words():
    sentence = "Средний балл {mean:.2f} при {n} участниках, разница {diff:+.2f}, z = {z:.1f}, ИСС {index}; {code}."
    values = dict(mean=np.float64(15.456), n=42, diff=-0.284, z=np.float32(4.96), index=0.18, code="vpr-2026-ma-4")
    with translation.override("ru"):
        assert format_text(sentence, **values) == (
            f"Средний балл 15,46 при 42 участниках, разница {MINUS}0,28, z = 5,0, ИСС 0,18; vpr-2026-ma-4.")
    with translation.override("en"):
        assert format_text(sentence, **values) == (
            f"Средний балл 15.46 при 42 участниках, разница {MINUS}0.28, z = 5.0, ИСС 0.18; vpr-2026-ma-4.")
    # positional fields and a negative integer
    with translation.override("ru"):
        assert format_text("{} из {}: {:.1f}", -3, np.int64(7), 2.25) == f"{MINUS}3 из 7: 2,2"
