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


def test_every_plural_message_has_the_three_russian_forms():
    """A message with a plural in the Russian catalog needs all three forms (1 ошибка, 2 ошибки, 5 ошибок);
    a missing one silently falls back to the source's two forms and prints «3 ошибок»."""
    from pathlib import Path

    import metodist

    catalog = (Path(metodist.__file__).parent / "locale" / "ru" / "LC_MESSAGES" / "django.po").read_text()
    incomplete = []
    for entry in catalog.split("\n\n"):
        if not any(line.startswith("msgid_plural") for line in entry.splitlines()):
            continue
        forms: dict[str, str] = {}
        current = None
        for line in entry.splitlines():
            if line.startswith("msgstr["):
                current = line.split("]")[0]
                forms[current] = line.split(" ", 1)[1].strip('"')
            elif line.startswith('"') and current:
                forms[current] += line.strip('"')
            else:
                current = None
        if "#, fuzzy" in entry or len([f for f in forms.values() if f]) < 3:
            incomplete.append(entry.splitlines()[-5:])
    assert not incomplete, incomplete


@pytest.mark.parametrize(("count", "text"), [(1, "1 ошибка в файле"), (3, "3 ошибки в файле"), (5, "5 ошибок в файле"),
                                             (21, "21 ошибка в файле")])
def test_a_template_plural_reads_right(count, text):
    from django.template import engines

    template = engines["django"].from_string(
        "{% load i18n %}{% blocktranslate count n=n %}{{ n }} ошибка в файле{% plural %}{{ n }} ошибок в файле"
        "{% endblocktranslate %}")
    with translation.override("ru"):
        assert template.render({"n": count}) == text


def test_russian_translations_keep_the_placeholders_of_their_message():
    """A translation that names another placeholder ({n} against %(n)s) prints it raw: «%(n)s мероприятий»."""
    import re
    from pathlib import Path

    import metodist

    placeholder = re.compile(r"\{[a-z_0-9]*(?::[^}]*)?\}|%\([a-z_]+\)[sd]|%[sd]")
    catalog = (Path(metodist.__file__).parent / "locale" / "ru" / "LC_MESSAGES" / "django.po").read_text()
    wrong = []
    for entry in catalog.split("\n\n"):
        if entry.startswith("#~") or "\nmsgid " not in "\n" + entry:
            continue
        parts: dict[str, str] = {}
        key = None
        for line in entry.splitlines():
            if line.startswith(("msgid ", "msgid_plural ", "msgstr")):
                key, _sep, value = line.partition(" ")
                parts[key] = value.strip('"')
            elif line.startswith('"') and key:
                parts[key] += line.strip('"')
            else:
                key = None
        source = set(placeholder.findall(parts.get("msgid", "")))
        for name, text in parts.items():
            if name.startswith("msgstr") and text and set(placeholder.findall(text)) != source:
                wrong.append((parts["msgid"], text))
    assert not wrong, wrong
