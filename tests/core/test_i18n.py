"""Russian plural forms come from the shipped catalog: 1 строка, 2 строки, 5 строк, 21 строка."""

import pytest
from django.utils import translation
from django.utils.translation import ngettext

SINGULAR = ("Школы с кодом {code} нет в реестре организаций ({count} строка). Загрузите реестр или разрешите "
            "создать организации из файла.")
PLURAL = ("Школы с кодом {code} нет в реестре организаций ({count} строки). Загрузите реестр или разрешите "
          "создать организации из файла.")


@pytest.mark.parametrize(("count", "word"), [
    (1, "строка"), (2, "строки"), (4, "строки"), (5, "строк"), (11, "строк"), (14, "строк"), (21, "строка"),
    (22, "строки"), (25, "строк"), (101, "строка"), (111, "строк"),
])
def test_russian_plural_forms(count, word):
    with translation.override("ru"):
        text = ngettext(SINGULAR, PLURAL, count).format(code="edu1", count=count)
    assert f"({count} {word})" in text


def test_russian_is_the_default_language(settings):
    assert settings.LANGUAGE_CODE == "ru"
    assert translation.get_language() in ("ru", None) or translation.get_language().startswith("ru")
