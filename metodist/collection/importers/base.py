"""What every importer shares: reading a table from any file users bring, the cell values real files
hold, and the problems found, each with its place and a Russian message.

An importer's `parse()` returns a `Parsed` (plain rows and the problems found); it never touches the
database. Validation against the assessment's spec and the one transaction live in `collection.loading`.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

MAX_FILE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class Problem:
    """One problem of a file: where it is and what is wrong, in the words of a school secretary."""

    message: str
    file: str = ""
    sheet: str = ""
    row: int | None = None  # 1-based, as a spreadsheet shows it
    column: str = ""  # the column's header as the file writes it
    severity: str = "error"  # error | warning

    def as_dict(self) -> dict:
        return {
            "file": self.file, "sheet": self.sheet, "row": self.row, "column": self.column,
            "message": self.message, "severity": self.severity,
        }

    def __str__(self) -> str:
        where = [self.file]
        if self.sheet:
            where.append(_("лист «{sheet}»").format(sheet=self.sheet))
        if self.row:
            where.append(_("строка {row}").format(row=self.row))
        if self.column:
            where.append(_("столбец «{column}»").format(column=self.column))
        return "{where}: {message}".format(where=", ".join(w for w in where if w), message=self.message)


class FileRejected(Exception):
    """The file as a whole cannot be read as the expected format."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Sheet:
    name: str
    rows: list[list[object]]


def read_sheets(path: Path) -> list[Sheet]:
    """Every sheet of a spreadsheet (XLSX, XLSM, XLS, ODS) or the one table of a CSV/TXT file."""
    path = Path(path)
    if not path.exists():
        raise FileRejected(_("Файл {name} не найден.").format(name=path.name))
    size = path.stat().st_size
    if size == 0:
        raise FileRejected(_("Файл {name} пуст.").format(name=path.name))
    if size > MAX_FILE_BYTES:
        raise FileRejected(_("Файл {name} слишком большой ({mb} МБ): разделите его на части.").format(
            name=path.name, mb=size // (1024 * 1024)))
    with open(path, "rb") as fh:
        head = fh.read(8)
    suffix = path.suffix.lower()
    is_zip = head.startswith(b"PK")
    is_ole = head.startswith(b"\xd0\xcf\x11\xe0")
    if is_zip or is_ole or suffix in {".xlsx", ".xlsm", ".xls", ".ods", ".xlsb"}:
        return [_without_nul(sheet) for sheet in _read_workbook(path)]
    return [_without_nul(Sheet(name="", rows=_read_csv(path)))]


def _without_nul(sheet: Sheet) -> Sheet:
    """The sheet with NUL characters taken out of its texts. A cell may hold one (a file written by another
    program, a pasted binary), and PostgreSQL stores no NUL in a text or JSON value: quoted in a message of
    the upload's errors, it failed the whole import. Nothing a person reads is lost."""
    def clean(value):
        return value.replace("\x00", "") if isinstance(value, str) and "\x00" in value else value

    rows = [[clean(v) for v in row] if any(isinstance(v, str) and "\x00" in v for v in row) else row
            for row in sheet.rows]
    return Sheet(name=clean(sheet.name), rows=rows)


def _read_workbook(path: Path) -> list[Sheet]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheets = []
        for name in workbook.sheet_names:
            try:
                rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
            except Exception:  # a chart sheet or a damaged one: no rows to read
                rows = []
            sheets.append(Sheet(name=name, rows=rows))
        return sheets
    except Exception as exc:  # calamine raises several types for damaged files
        raise FileRejected(
            _("Файл {name} не удалось прочитать как таблицу Excel: он повреждён или это файл другого "
              "вида ({reason}).").format(name=path.name, reason=str(exc)[:200])
        ) from exc


def _decode(raw: bytes, name: str) -> str:
    if b"\x00" in raw[:4096]:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            return raw.decode("utf-16")
        raise FileRejected(_("Файл {name} не является таблицей: в нём двоичные данные.").format(name=name))
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRejected(_("Не удалось определить кодировку файла {name}: сохраните его в UTF-8.").format(name=name))


def _read_csv(path: Path) -> list[list[object]]:
    text = _decode(path.read_bytes(), path.name)
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=";,\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
    try:
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:  # e.g. a line break inside an unquoted field
        raise FileRejected(_("Файл {name} не удалось прочитать как таблицу CSV: {reason}.").format(
            name=path.name, reason=str(exc)[:200])) from exc


# --- cell values --------------------------------------------------------------------------------

NO_ANSWER_VALUES = {"x", "х"}  # Latin and Cyrillic
NOT_TAUGHT_RE = re.compile(r"^не\s*пр(ойд|ох)", re.IGNORECASE)
ABSENT_VALUES = {"отсутствовал", "отсутствовала", "отс", "отс.", "н", "неявка", "не явился", "absent"}
NO_MARK_VALUES = {"нет отметки", "нет", "н/а", "-", "—"}


def text(value: object) -> str:
    """A cell as trimmed text; numbers written by Excel as 3.0 become '3'."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value).replace("\u00a0", " ").strip()


def is_blank(value: object) -> bool:
    return text(value) == ""


class CellError(ValueError):
    pass


def parse_int(value: object) -> int | None:
    """An integer cell: '3', 3, 3.0 and '3.0' are 3; blank is None; anything else raises CellError."""
    if isinstance(value, bool):
        raise CellError(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise CellError(value)
    raw = text(value).replace(",", ".")
    if raw == "":
        return None
    try:
        number = float(raw)
    except ValueError as exc:
        raise CellError(value) from exc
    if not number.is_integer():
        raise CellError(value)
    return int(number)


def parse_score_cell(value: object) -> tuple[int | None, str]:
    """A task cell of a results file → (score, status).

    status: 'scored'; 'no_answer' for X (Latin or Cyrillic, any case), scored 0; 'not_taught' for
    «не пройд.» (the topic was not taught yet), scored 0; 'blank' for an empty cell.
    Raises CellError for text that is none of these."""
    raw = text(value)
    if raw == "":
        return None, "blank"
    if raw.casefold() in NO_ANSWER_VALUES:
        return 0, "no_answer"
    if NOT_TAUGHT_RE.match(raw):
        return 0, "not_taught"
    return parse_int(value), "scored"


def parse_mark(value: object) -> int | None:
    """A mark 2–5; «нет отметки» and blanks are None; anything else raises CellError."""
    raw = text(value).casefold()
    if raw in NO_MARK_VALUES or raw == "":
        return None
    mark = parse_int(value)
    if mark is None or not 1 <= mark <= 5:
        raise CellError(value)
    return mark


# --- headers ------------------------------------------------------------------------------------

TASK_HEADER_RE = re.compile(
    r"^\s*(?:задание\s*|балл\s+за\s+|№\s*)?"
    r"(?P<number>\d+(?:\s*(?:[.,]|\(|\)|[кКkK]|\s)\s*\d+\)?)*)"
    r"\s*(?:\((?P<max>\d+)\s*(?:б|балл[а-я]*|b)\.?\)|\[(?P<max2>\d+)\])?\s*$",
    re.IGNORECASE,
)


def parse_task_header(header: object) -> tuple[str, int | None] | None:
    """A task column header → (normalised task number, maximum written in the header or None).

    '1 (1б)' → ('1', 1); '11.1 (1б)' → ('11.1', 1); '4К2 (2б)' → ('4.2', 2); '5(1)' → ('5.1', None);
    '10К1' → ('10.1', None); '11.3 k1' → ('11.3.1', None). Anything else → None."""
    raw = text(header)
    if not raw:
        return None
    match = TASK_HEADER_RE.match(raw)
    if not match:
        return None
    parts = re.findall(r"\d+", match.group("number"))
    maximum = match.group("max") or match.group("max2")
    return ".".join(str(int(p)) for p in parts), (int(maximum) if maximum else None)


@functools.lru_cache(maxsize=65536, typed=True)
def normalise_header(value: object) -> str:
    """A header as it is compared: case, ё/е and spaces do not matter.

    Cached: format detection asks every format's sniffer about the same cells of the first rows of
    every sheet, so each distinct cell value is normalised once (cell values are all hashable)."""
    return " ".join(text(value).casefold().replace("ё", "е").split())


def split_coded_name(value: object) -> tuple[str, str]:
    """'edu223017 | МБОУ "Вавилонская СОШ"' → ('edu223017', 'МБОУ "Вавилонская СОШ"');
    'МБОУ «СОШ №1»(edu203389)' → ('edu203389', 'МБОУ «СОШ №1»'); a bare code → (code, '')."""
    raw = text(value)
    if "|" in raw:
        code, _sep, name = raw.partition("|")
        return code.strip(), name.strip()
    match = re.match(r"^(?P<name>.*?)\s*\((?P<code>(?:edu|sch|reg)\w+)\)\s*$", raw)
    if match:
        return match.group("code"), match.group("name").strip()
    if re.fullmatch(r"(?:edu|sch|reg)\w*", raw):
        return raw, ""
    return "", raw


@dataclass
class Parsed:
    """What an importer read from a file: its rows (format-specific plain data) and its problems."""

    format: str
    file: str
    rows: list = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def error(self, message: str, **where) -> None:
        self.problems.append(Problem(message=message, file=self.file, **where))

    def warning(self, message: str, **where) -> None:
        self.problems.append(Problem(message=message, file=self.file, severity="warning", **where))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def iter_data_rows(rows: list[list[object]], start: int) -> Iterator[tuple[int, list[object]]]:
    """Rows after the header with their 1-based spreadsheet number, skipping wholly blank rows."""
    for index in range(start, len(rows)):
        row = rows[index]
        if all(is_blank(v) for v in row):
            continue
        yield index + 1, row
