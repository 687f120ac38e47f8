"""The English catalog: (nearly) every message is translated, placeholders survive translation, and English
actually shows up when it is switched on. Russian stays the default."""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

import metodist

LOCALE = Path(metodist.__file__).parent / "locale" / "en" / "LC_MESSAGES"
PO = LOCALE / "django.po"
MO = LOCALE / "django.mo"

#: Messages added after the catalog was translated wait for the lead; the rest must be translated.
MIN_TRANSLATED_SHARE = 0.97

#: {name}, {name:.2f}, %(name)s, %(name)d, %s, %d — after «%%» (a literal percent sign) has been removed.
PLACEHOLDER = re.compile(r"\{[A-Za-z_]\w*(?:[:!][^{}]*)?\}|%\([A-Za-z_]\w*\)[sdif]|%[sd]")


def read_po(path: Path) -> list[dict]:
    """A tiny .po reader: msgid, msgid_plural, msgstr or msgstr[n], flags; obsolete (#~) entries are skipped."""
    entries: list[dict] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict = {"flags": set(), "msgstr": {}}
        field = None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry = {}
                break
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
                continue
            if line.startswith("#") or not line.strip():
                continue
            if line.startswith('"'):
                value = ast.literal_eval(line)
            else:
                keyword, rest = line.split(" ", 1)
                value = ast.literal_eval(rest)
                if keyword.startswith("msgstr["):
                    field = ("msgstr", int(keyword[7:-1]))
                elif keyword == "msgstr":
                    field = ("msgstr", 0)
                else:
                    field = (keyword, None)
                    entry[keyword] = ""
            if field[0] == "msgstr":
                entry["msgstr"][field[1]] = entry["msgstr"].get(field[1], "") + value
            else:
                entry[field[0]] += value
        if entry and "msgid" in entry:
            entries.append(entry)
    return entries


@pytest.fixture(scope="module")
def catalog() -> list[dict]:
    return read_po(PO)


@pytest.fixture(scope="module")
def messages(catalog) -> list[dict]:
    """Every entry but the header."""
    return [entry for entry in catalog if entry["msgid"]]


def is_translated(entry: dict) -> bool:
    forms = entry["msgstr"]
    wanted = (0, 1) if "msgid_plural" in entry else (0,)
    return "fuzzy" not in entry["flags"] and all(forms.get(n, "").strip() for n in wanted)


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text.replace("%%", "")))


def test_the_header_is_english_with_two_plural_forms(catalog):
    header = catalog[0]
    assert header["msgid"] == ""
    assert "fuzzy" not in header["flags"]
    assert "Language: en\n" in header["msgstr"][0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);\n" in header["msgstr"][0]


def test_nearly_every_message_is_translated(messages):
    assert len(messages) > 1000
    untranslated = [entry["msgid"] for entry in messages if not is_translated(entry)]
    share = 1 - len(untranslated) / len(messages)
    assert share >= MIN_TRANSLATED_SHARE, (
        f"{share:.1%} of {len(messages)} messages translated; untranslated:\n" + "\n".join(untranslated))


def test_no_fuzzy_or_extra_plural_forms(messages):
    fuzzy = [entry["msgid"] for entry in messages if "fuzzy" in entry["flags"]]
    assert not fuzzy, fuzzy
    extra = [entry["msgid"] for entry in messages if set(entry["msgstr"]) - {0, 1}]
    assert not extra, f"English has two plural forms, these have more: {extra}"


def test_placeholders_survive_translation(messages):
    broken = []
    for entry in messages:
        if not is_translated(entry):
            continue
        pairs = [(entry["msgid"], entry["msgstr"][0])]
        if "msgid_plural" in entry:
            pairs = [(entry["msgid"], entry["msgstr"][0]), (entry["msgid_plural"], entry["msgstr"][1])]
        for source, target in pairs:
            missing = [p for p in placeholders(source) if p not in target]
            if missing:
                broken.append(f"{source!r} → {target!r}: lost {missing}")
    assert not broken, "\n".join(broken)


def test_literal_percent_signs_stay_doubled_in_format_strings(messages):
    """In a python-format (or template) string a lone «%» would break the interpolation."""
    broken = []
    for entry in messages:
        if not is_translated(entry) or "%%" not in entry["msgid"] + entry.get("msgid_plural", ""):
            continue
        for target in entry["msgstr"].values():
            if re.search(r"%(?!\(\w+\)[sdif]|[sd])", target.replace("%%", "")):
                broken.append(target)
    assert not broken, broken


def test_whitespace_and_markup_match_the_source(messages):
    tag = re.compile(r"</?[a-zA-Z][^>]*>|&\w+;")
    broken = []
    for entry in messages:
        if not is_translated(entry):
            continue
        source, target = entry["msgid"], entry["msgstr"][0]
        if (source[:len(source) - len(source.lstrip())] != target[:len(target) - len(target.lstrip())]
                or source[len(source.rstrip()):] != target[len(target.rstrip()):]
                or sorted(tag.findall(source)) != sorted(tag.findall(target))):
            broken.append(f"{source!r} → {target!r}")
    assert not broken, "\n".join(broken)


def test_the_compiled_catalog_is_up_to_date(messages):
    """The .mo Django reads holds the same translations as the .po (compilemessages was run)."""
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in messages:
        if not is_translated(entry):
            continue
        if "msgid_plural" in entry:
            got = [compiled.ngettext(entry["msgid"], entry["msgid_plural"], n) for n in (1, 2)]
            want = [entry["msgstr"][0], entry["msgstr"][1]]
        else:
            got, want = compiled.gettext(entry["msgid"]), entry["msgstr"][0]
        if got != want:
            stale.append(entry["msgid"])
    assert not stale, f"{len(stale)} messages differ in django.mo; run compilemessages: {stale[:10]}"


@pytest.mark.parametrize(("russian", "english"), [
    ("Сбор данных", "Data collection"),
    ("Анализ, выявление проблем", "Analysis, problem identification"),
    ("Дорожные карты и рекомендации", "Roadmaps and recommendations"),
    ("Мониторинг", "Monitoring"),
    ("Проблемные поля", "Problem fields"),
    ("Успеваемость, %", "Success rate, %"),
    ("Резильентные школы", "Resilient schools"),
    ("Вход в Методист", "Log in to Metodist"),
])
def test_known_strings_translate_in_english(russian, english):
    with translation.override("en"):
        assert _(russian) == english
    with translation.override("ru"):
        assert _(russian) == russian


def test_the_cycle_stage_names_are_english_when_english_is_on():
    from metodist.core.cycle import STAGES

    with translation.override("en"):
        titles = [str(title) for _number, title, _url in STAGES]
    assert titles[0] == "Data collection"
    assert "Сбор данных" not in titles
    assert not any(re.search("[А-Яа-яЁё]", title) for title in titles), titles


@pytest.mark.parametrize(("count", "text"), [(1, "1 error in the file"), (2, "2 errors in the file"),
                                             (5, "5 errors in the file"), (21, "21 errors in the file")])
def test_english_plurals(count, text):
    with translation.override("en"):
        assert ngettext("%(n)s ошибка в файле", "%(n)s ошибок в файле", count) % {"n": count} == text


def test_a_brace_format_plural_reads_right_in_english():
    singular = ("Школы с кодом {code} нет в реестре организаций ({count} строка). Загрузите реестр или разрешите "
                "создать организации из файла.")
    plural = ("Школы с кодом {code} нет в реестре организаций ({count} строки). Загрузите реестр или разрешите "
              "создать организации из файла.")
    with translation.override("en"):
        one = ngettext(singular, plural, 1).format(code="edu1", count=1)
        three = ngettext(singular, plural, 3).format(code="edu1", count=3)
    assert one.startswith("School with code edu1 is not in the organisation registry (1 row).")
    assert "(3 rows)" in three


def test_a_template_translates_in_english():
    from django.template import engines

    template = engines["django"].from_string(
        "{% load i18n %}{% translate 'Сбор данных' %} | {% blocktranslate count n=n %}{{ n }} ошибка в файле"
        "{% plural %}{{ n }} ошибок в файле{% endblocktranslate %}")
    with translation.override("en"):
        assert template.render({"n": 3}) == "Data collection | 3 errors in the file"


@pytest.mark.django_db
def test_the_login_page_is_english_when_chosen(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override(None):  # the request activates English in this thread: not for later tests
        response = client.get("/login/")
    assert response["Content-Language"] == "en"
    page = response.content.decode()
    assert "Log in to Metodist" in page
    assert "Вход в Методист" not in page
