"""Results of pupils, as every results importer hands them over: plain rows, before any database."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class ScoreCell:
    task: str  # normalised task number
    score: int | None
    status: str  # scored | no_answer | not_taught | blank
    column: str  # header as the file writes it


@dataclass
class ResultRow:
    """One pupil's work as read from a file. `identity` is what the pupil's pseudonym is made of:
    never stored, only hashed."""

    row: int
    sheet: str = ""
    school_code: str = ""
    school_name: str = ""
    municipality_code: str = ""
    municipality_name: str = ""
    participant_code: str = ""
    identity: tuple = ()
    class_label: str = ""
    class_is_ordinal: bool = False
    gender: str = ""
    variant: int | None = None
    absent: bool = False
    journal_mark: int | None = None
    scores: list[ScoreCell] = field(default_factory=list)
    primary_score: int | None = None  # as written in the file, checked against the sum
    mark: int | None = None  # as written in the file, checked against the scale
    test_score: int | None = None
    primary_column: str = ""
    mark_column: str = ""


GENDERS = {"м": "m", "муж": "m", "мужской": "m", "m": "m", "ж": "f", "жен": "f", "женский": "f", "f": "f"}


def parse_gender(value: str) -> str:
    return GENDERS.get(value.strip().casefold().rstrip("."), "")


def class_letter(label: str, grade: int, *, ordinal: bool = False) -> str:
    """The letter of a class as forms write it: '5А', '5 а', 'А', '11 к', 'нет'.

    A leading number equal to the assessment's grade is dropped ('5А' → 'А', '11' → ''); 'нет' (no
    letter) is ''. With `ordinal`, the label is the class's ordinal number of the 2026 forms ('1', '2')
    and is kept as it is."""
    raw = " ".join(str(label).split()).strip()
    if raw.casefold() in {"", "нет", "-", "—", "none"}:
        return ""
    if ordinal:
        return raw[:16]
    match = re.fullmatch(r"(\d{1,2})\s*-?\s*(.*)", raw)
    if match and int(match.group(1)) == grade:
        raw = match.group(2)
    return raw.strip(" -\"'«»").upper()[:16]
