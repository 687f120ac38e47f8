"""Pupils' keyed pseudonyms: stable, normalised, keyed, never the raw text."""

from __future__ import annotations

from metodist.core.models import normalise_identity, pseudonym


def test_same_fields_same_pseudonym():
    assert pseudonym("Иванов", "Пётр", "2014-05-01") == pseudonym("Иванов", "Пётр", "2014-05-01")
    assert len(pseudonym("Иванов")) == 64


def test_normalisation_case_yo_spaces():
    base = pseudonym("Иванов", "Пётр Сергеевич", "edu223017")
    assert pseudonym("ИВАНОВ", "пётр сергеевич", "EDU223017") == base
    assert pseudonym("Иванов", "Петр Сергеевич", "edu223017") == base
    assert pseudonym("  Иванов ", "Пётр   Сергеевич\t", "edu223017") == base
    assert pseudonym("Иванов", "Пётр\u00a0Сергеевич", "edu223017") == base  # no-break space (NFKC)
    assert normalise_identity("  ЁЛКИН  Пётр ") == "елкин петр"


def test_fields_are_kept_apart():
    """Moving text between fields makes a different pupil: the fields are separated, not concatenated."""
    assert pseudonym("Ан", "на") != pseudonym("Анна", "")
    assert pseudonym("Иванов", "Петр") != pseudonym("Петр", "Иванов")
    assert pseudonym("participant", "edu1", 2025, "40001") != pseudonym("participant", "edu1", 2026, "40001")


def test_different_key_different_pseudonym(settings):
    settings.PSEUDONYM_KEY = "ключ-первый"
    first = pseudonym("Иванов", "Пётр")
    settings.PSEUDONYM_KEY = "ключ-второй"
    second = pseudonym("Иванов", "Пётр")
    assert first != second
    settings.PSEUDONYM_KEY = "ключ-первый"
    assert pseudonym("Иванов", "Пётр") == first


def test_never_the_raw_text(settings):
    # a fixed key: with a random one, four digits of a hex digest may spell «2014» by chance
    settings.PSEUDONYM_KEY = "ключ-для-теста"
    value = pseudonym("Иванов", "Пётр", "2014-05-01")
    assert len(value) == 64 and set(value) <= set("0123456789abcdef")  # hex only: no letters of a name
    assert "2014-05-01" not in value and "20140501" not in value
    assert pseudonym("40001") != "40001"
