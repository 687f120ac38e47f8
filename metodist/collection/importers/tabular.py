"""What the importers of plain tables share (registry, teachers, diagnostics, surveys, attestations,
olympiads): finding the header row by the names of its columns, reading the cells real files hold
(yes/no, dates, subjects, school years), finding teachers, and the one way such a file is written:

    find_table ─► read rows (problems with row and column) ─► resolve against the database
               ─► complete(): same file again? errors? dry run? ─► one transaction ─► Upload

A column is matched by its header, case-insensitively, with ё = е and extra spaces ignored; columns
may come in any order and the header row need not be the first one.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from metodist.collection.importers.base import (
    CellError,
    Parsed,
    Problem,
    Sheet,
    is_blank,
    normalise_header,
    text,
)

HEADER_SEARCH_ROWS = 30
IMPORTED_STATUSES = ("imported", "imported_partly")


@functools.lru_cache(maxsize=65536, typed=True)
def header_key(value: object) -> str:
    """A header as it is compared: case, ё/е, spaces and a trailing `*` or `:` do not matter."""
    return normalise_header(value).rstrip("*: ").strip()


# --- the table ----------------------------------------------------------------------------------


@dataclass
class Row:
    line: int  # 1-based, as a spreadsheet shows it
    cells: list[object]
    table: Table

    def get(self, name: str) -> object:
        col = self.table.columns.get(name)
        return self.cells[col] if col is not None and col < len(self.cells) else None

    def text(self, name: str) -> str:
        return text(self.get(name))

    def has(self, name: str) -> bool:
        return not is_blank(self.get(name))

    def error(self, parsed: Parsed, message: str, name: str) -> None:
        """A problem of this row, in the column of `name` as the file writes it."""
        parsed.error(message, sheet=self.table.sheet.name, row=self.line, column=self.table.column(name))


@dataclass
class Table:
    sheet: Sheet
    header_index: int  # 0-based index of the header row
    columns: dict[str, int]  # field → column index
    headers: dict[str, str]  # field → header as the file writes it
    extra: list[tuple[int, str]] = field(default_factory=list)  # columns of no known field

    @property
    def header_row(self) -> int:
        return self.header_index + 1

    def column(self, name: str) -> str:
        return self.headers.get(name, "")

    def rows(self) -> Iterator[Row]:
        """Data rows with their 1-based numbers, skipping wholly blank rows."""
        for index in range(self.header_index + 1, len(self.sheet.rows)):
            cells = self.sheet.rows[index]
            if all(is_blank(v) for v in cells):
                continue
            yield Row(index + 1, cells, self)


def _lookup(columns: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """header key → field of a format's columns, built once per format (every sniff reads many rows)."""
    return _lookup_of(tuple(columns.items()))


@functools.lru_cache(maxsize=64)
def _lookup_of(columns: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, str]:
    return {header_key(name): field for field, names in columns for name in names}


def map_header(row: list[object], columns: dict[str, tuple[str, ...]]) -> tuple[dict[str, int], list[tuple[int, str]]]:
    """The fields a header row names (the first column of a field wins) and the columns of no field."""
    lookup = _lookup(columns)
    found: dict[str, int] = {}
    extra = []
    for col, value in enumerate(row):
        key = header_key(value)
        if not key:
            continue
        name_field = lookup.get(key)
        if name_field is None:
            extra.append((col, text(value)))
        elif name_field not in found:
            found[name_field] = col
    return found, extra


def find_table(
    sheets: list[Sheet], columns: dict[str, tuple[str, ...]], required: set[str] | frozenset[str],
) -> Table | None:
    """The first row (among the first rows of any sheet) that names every required column."""
    for sheet in sheets:
        for index, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
            found, extra = map_header(row, columns)
            if required <= found.keys():
                headers = {name: text(row[col]) for name, col in found.items()}
                return Table(sheet=sheet, header_index=index, columns=found, headers=headers, extra=extra)
    return None


def sniff_table(sheets: list[Sheet], columns: dict[str, tuple[str, ...]], required) -> int:
    """8 when the required columns are all in one header row, up to 10 with the optional ones; else 0."""
    table = find_table(sheets, columns, required)
    if table is None:
        return 0
    optional = len(table.columns) - len(required)
    return 8 + min(2, optional)


def missing_columns_message(columns: dict[str, tuple[str, ...]], required, what: str) -> str:
    names = ", ".join(f"«{columns[f][0]}»" for f in columns if f in required)
    return _("Не найдена строка заголовка {what}: в ней должны быть столбцы {names}.").format(what=what, names=names)


# --- cell values --------------------------------------------------------------------------------

YES = {"да", "д", "yes", "y", "1", "true", "истина", "+", "есть"}
NO = {"нет", "н", "no", "n", "0", "false", "ложь", "-", "—"}


def parse_yes_no(value: object, default: bool = False) -> bool:
    """да / нет (also 1/0, yes/no, +/-); blank is `default`; anything else raises CellError."""
    raw = text(value).casefold().rstrip(".")
    if raw == "":
        return default
    if raw in YES:
        return True
    if raw in NO:
        return False
    raise CellError(value)


EXCEL_EPOCH = dt.date(1899, 12, 30)


def parse_date(value: object) -> dt.date | None:
    """A date cell: a spreadsheet date, an Excel day number, `24.05.2025`, `24.05.25`, `2025-05-24`.
    Blank is None; anything else raises CellError."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise CellError(value)
    if isinstance(value, int | float):
        if 1 <= value < 2958466 and float(value).is_integer():
            return EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise CellError(value)
    raw = text(value)
    if raw == "":
        return None
    raw = raw.split()[0] if re.match(r"^\S+\s+\d{1,2}:\d{2}", raw) else raw
    try:
        match = re.fullmatch(r"(\d{1,2})[./](\d{1,2})[./](\d{2}|\d{4})\s*(?:г\.?)?", raw)
        if match:
            day, month, year = (int(g) for g in match.groups())
            if year < 100:
                year += 2000
            return dt.date(year, month, day)
        match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:T.*)?", raw)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return dt.date(year, month, day)
        if re.fullmatch(r"\d{5}(?:\.0)?", raw):
            return EXCEL_EPOCH + dt.timedelta(days=int(float(raw)))
    except ValueError as exc:  # 31.02.2025
        raise CellError(value) from exc
    raise CellError(value)


def parse_number(value: object) -> float | None:
    """A number cell: `3`, `3,5`, 3.5; blank is None; anything else raises CellError."""
    if isinstance(value, bool):
        raise CellError(value)
    if isinstance(value, int | float):
        return float(value)
    raw = text(value).replace(" ", "").replace(",", ".")
    if raw == "":
        return None
    try:
        number = float(raw)
    except ValueError as exc:
        raise CellError(value) from exc
    if number != number or number in (float("inf"), float("-inf")):
        raise CellError(value)
    return number


SUBJECT_ALIASES = {
    "русский": "ru", "математика": "ma", "алгебра": "ma", "английский": "en", "немецкий": "de",
    "французский": "fr", "окружающий мир": "okr", "испанский": "es", "китайский": "zh",
}


def subject_code(value: object) -> str | None:
    """A subject as files write it, its code (`ma`) or its Russian name (`Математика`) → the code;
    None when it is neither."""
    from metodist.reference.specs import SUBJECTS

    raw = header_key(value)
    if not raw:
        return None
    if raw in SUBJECTS:
        return raw
    names = {header_key(name): code for code, name in SUBJECTS.items()}
    if raw in names:
        return names[raw]
    if raw in SUBJECT_ALIASES:
        return SUBJECT_ALIASES[raw]
    return None


def parse_academic_year(value: object) -> int | None:
    """`2024/2025` (also `2024-2025`, `2024/25`) → 2024, the year it starts; blank is None; anything else
    (two years that do not follow each other) raises CellError."""
    raw = text(value)
    if raw == "":
        return None
    match = re.fullmatch(r"(\d{4})\s*(?:/|-|–|—)\s*(\d{2}|\d{4})(?:\s*(?:уч\.?\s*)?(?:г\.?|гг\.?|год))?", raw)
    if not match:
        raise CellError(value)
    start = int(match.group(1))
    end = int(match.group(2))
    if end < 100:
        end += start // 100 * 100
    if end != start + 1 or not 1990 <= start <= 2100:
        raise CellError(value)
    return start


def parse_grade(value: object) -> int | None:
    """A grade (parallel) 1–11 from `9`, `9.0` or `9А`; blank is None; anything else raises CellError."""
    raw = text(value)
    if raw == "":
        return None
    match = re.fullmatch(r"(\d{1,2})\s*(?:-?\s*[А-Яа-яЁёA-Za-z]{0,3})?(?:\s*класс)?", raw)
    if not match or not 1 <= int(match.group(1)) <= 11:
        raise CellError(value)
    return int(match.group(1))


def parse_choice(value: object, choices: dict[str, str]) -> str | None:
    """A value from a list of words (keys compared as headers are); blank is None; else CellError."""
    raw = header_key(value).rstrip(".")
    if raw == "":
        return None
    if raw in choices:
        return choices[raw]
    raise CellError(value)


CATEGORIES = {
    "высшая": "highest", "высшая категория": "highest", "первая": "first", "первая категория": "first",
    "соответствие": "conformity", "соответствие занимаемой должности": "conformity", "сзд": "conformity",
    "без категории": "none", "нет": "none", "не имеет": "none",
    "highest": "highest", "first": "first", "conformity": "conformity", "none": "none",
}
COMPETENCE_AREAS = {
    "предметные": "subject", "предметная": "subject", "предметная компетенция": "subject",
    "методические": "methodological", "методическая": "methodological",
    "психолого-педагогические": "psychological", "психолого-педагогическая": "psychological",
    "коммуникативные": "communicative", "коммуникативная": "communicative",
    "цифровые": "digital", "цифровая": "digital",
    "subject": "subject", "methodological": "methodological", "psychological": "psychological",
    "communicative": "communicative", "digital": "digital",
}


def same_name(a: str, b: str) -> bool:
    return header_key(a) == header_key(b)


# --- teachers -----------------------------------------------------------------------------------


class TeacherIndex:
    """The teachers of some schools, to find one by his code within the school, else by his full name."""

    def __init__(self, schools):
        from metodist.core.models import Teacher

        self.by_code: dict[tuple[int, str], object] = {}
        self.by_name: dict[tuple[int, str], list] = {}
        for teacher in Teacher.objects.filter(school__in=list(schools)):
            self.add(teacher)

    def add(self, teacher) -> None:
        if teacher.code:
            self.by_code[(teacher.school_id, teacher.code)] = teacher
        self.by_name.setdefault((teacher.school_id, header_key(teacher.full_name)), []).append(teacher)

    def find(self, school, code: str, full_name: str) -> tuple[object | None, str]:
        """(teacher, '') or (None, why): 'missing' or 'ambiguous'."""
        if code:
            teacher = self.by_code.get((school.pk, code))
            return (teacher, "") if teacher else (None, "missing")
        found = self.by_name.get((school.pk, header_key(full_name)), [])
        if len(found) == 1:
            return found[0], ""
        return None, "ambiguous" if found else "missing"


def teacher_problem(why: str, school_code: str, code: str) -> str:
    if why == "ambiguous":
        return _("В школе {school} несколько учителей с таким ФИО: укажите код учителя.").format(school=school_code)
    if code:
        return _("Учителя с кодом {code} нет в школе {school}. Сначала загрузите список учителей.").format(
            code=code, school=school_code)
    return _("Учителя с таким ФИО нет в школе {school}. Сначала загрузите список учителей.").format(
        school=school_code)


# --- organisations ------------------------------------------------------------------------------


class SchoolResolver:
    """Schools by code, with the problems of an unknown code, a code of another kind of organisation and
    a school the acting user may not write to; each reported once, at the first row that names it."""

    def __init__(self, parsed: Parsed, acting_user, *, kinds=("school",), what: str = "school"):
        self.parsed = parsed
        self.user = acting_user
        self.kinds = kinds
        self.what = what
        self.cache: dict[str, object | None] = {}
        self.blocking = False

    def codes(self, codes) -> None:
        from metodist.core.models import Organisation

        wanted = [c for c in set(codes) if c and c not in self.cache]
        found = {o.code: o for o in Organisation.objects.filter(code__in=wanted)}
        visible = None
        if self.user is not None and not self.user.is_superuser:
            visible = set(Organisation.objects.visible_to(self.user).filter(code__in=wanted).values_list(
                "code", flat=True))
        for code in wanted:
            organisation = found.get(code)
            if organisation is not None and visible is not None and code not in visible:
                organisation = "forbidden"
            elif organisation is not None and organisation.kind not in self.kinds:
                organisation = "kind:" + str(organisation)
            self.cache[code] = organisation

    def get(self, code: str, row: int, column: str, sheet: str = ""):
        """The organisation or None (and then a problem was reported for this row)."""
        if code not in self.cache:
            self.codes([code])
        organisation = self.cache[code]
        if organisation is None:
            if self.what == "school":
                message = _("Школы с кодом {code} нет в реестре организаций. Сначала загрузите реестр.").format(
                    code=code)
            else:
                message = _("Организации с кодом {code} нет в реестре организаций. Сначала загрузите реестр.").format(
                    code=code)
            self.parsed.error(message, sheet=sheet, row=row, column=column)
            return None
        if organisation == "forbidden":
            self.parsed.error(_("У вас нет прав загружать данные организации {code}.").format(code=code),
                              sheet=sheet, row=row, column=column)
            self.blocking = True
            return None
        if isinstance(organisation, str):
            self.parsed.error(_("Код {code} принадлежит не школе, а организации «{name}».").format(
                code=code, name=organisation[5:]), sheet=sheet, row=row, column=column)
            return None
        return organisation


def common_parent(organisations):
    """The deepest organisation whose subtree holds them all (the one itself when there is one)."""
    from metodist.core.models import Organisation

    organisations = [o for o in organisations if o is not None]
    if not organisations:
        return None
    if len({o.pk for o in organisations}) == 1:
        return organisations[0]
    prefix = organisations[0].path
    for org in organisations[1:]:
        while prefix and not org.path.startswith(prefix):
            prefix = prefix[: prefix.rstrip("/").rfind("/") + 1]
    ids = [int(step) for step in prefix.strip("/").split("/") if step]
    return Organisation.objects.filter(pk=ids[-1]).first() if ids else None


# --- the write ----------------------------------------------------------------------------------


def rejected_rows(parsed: Parsed, header_row: int | None = None) -> set[int]:
    return {p.row for p in parsed.errors if p.row and p.row != header_row}


def is_blocking(parsed: Parsed, header_row: int | None = None) -> bool:
    """A problem of the whole file (no row, or the header row): nothing can be imported."""
    return any(p.row is None or p.row == header_row for p in parsed.errors)


def previous_upload(format_name: str, checksum: str):
    from metodist.collection.models import Upload

    return (Upload.objects.filter(format=format_name, checksum=checksum, status__in=IMPORTED_STATUSES)
            .order_by("-created_at").first())


def mark_replaced(upload, previous_ids, still_used: Callable[[int], bool]) -> int:
    """Earlier uploads whose data the new one replaced entirely become «заменён»."""
    from metodist.collection.models import Upload, UploadStatus

    candidates = Upload.objects.filter(pk__in=[pk for pk in set(previous_ids) if pk and pk != upload.pk],
                                       status__in=IMPORTED_STATUSES).values_list("pk", flat=True)
    emptied = [pk for pk in candidates if not still_used(pk)]
    if emptied:
        Upload.objects.filter(pk__in=emptied).update(status=UploadStatus.REPLACED)
        upload.replaces_id = max(emptied)
    return len(emptied)


class _DryRun(Exception):
    pass


class Rejected(Exception):
    """Raised by a `save()` that finds, inside the transaction, that the file cannot be written; the
    transaction is rolled back and the file is rejected with this Russian message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def complete(
    path: Path,
    parsed: Parsed,
    *,
    checksum: str,
    options,
    outcome,
    rows: list,
    save: Callable[[object, list], dict],
    header_row: int | None = None,
    blocking: bool = False,
    unchanged: Callable[[object, list], bool] | None = None,
    organisation=None,
    assessment=None,
    done_message: Callable[[dict], str] | None = None,
):
    """The end every table importer shares.

    `rows` are the plain records read (each with `.row`, its line); those with an error are left out
    when the user asked for the valid rows only, else any error rejects the file. `save(upload, rows)`
    writes the valid rows in the one transaction and returns the counts. `unchanged(previous, rows)`
    says whether the database still holds what the same file brought (default: yes)."""
    from metodist.collection import loading
    from metodist.collection.models import Upload, UploadStatus

    outcome.problems = parsed.problems
    errors = parsed.errors
    bad = rejected_rows(parsed, header_row)
    good = [r for r in rows if r.row not in bad]
    blocking = blocking or is_blocking(parsed, header_row)
    outcome.counts = {"rows": len(rows), "rows_rejected": len(rows) - len(good)}

    previous = None if options.dry_run else previous_upload(outcome.format, checksum)
    if previous is not None and (unchanged is None or unchanged(previous, good)):
        outcome.status, outcome.upload = "unchanged", previous
        outcome.counts = dict(previous.counts, unchanged=True)
        outcome.message = _("Этот файл уже загружен ({when}); ничего не изменилось.").format(
            when=timezone.localtime(previous.created_at).strftime("%d.%m.%Y %H:%M"))
        return outcome

    def new_upload() -> Upload:
        return Upload.objects.create(
            file_name=path.name, checksum=checksum, size=path.stat().st_size, format=outcome.format,
            organisation=organisation, assessment=assessment, uploaded_by=options.acting_user,
            status=UploadStatus.RUNNING,
        )

    importable = not blocking and (not errors or options.valid_rows_only) and bool(good)
    if not importable:
        outcome.status = UploadStatus.REJECTED
        outcome.message = (_("В файле найдены ошибки: {count}. Ничего не загружено.").format(count=len(errors))
                           if errors else _("В файле нет строк с данными."))
        if not errors:
            parsed.error(outcome.message)
        if not options.dry_run:
            with transaction.atomic():
                outcome.upload = loading.finish(new_upload(), UploadStatus.REJECTED, outcome.counts, parsed.problems,
                                                options.acting_user)
        return outcome

    status = UploadStatus.IMPORTED_PARTLY if errors else UploadStatus.IMPORTED
    try:
        with transaction.atomic():
            upload = new_upload()
            counts = save(upload, good)
            outcome.counts.update(counts)
            if options.dry_run:
                raise _DryRun
            outcome.upload = loading.finish(upload, status, outcome.counts, parsed.problems, options.acting_user)
    except _DryRun:
        outcome.status = UploadStatus.CHECKED
        outcome.message = _("Проверка пройдена, файл не загружался (пробный запуск).")
        return outcome
    except Rejected as exc:
        parsed.problems.append(Problem(exc.message, file=parsed.file))
        outcome.status = UploadStatus.REJECTED
        outcome.message = exc.message
        if not options.dry_run:
            with transaction.atomic():
                outcome.upload = loading.finish(new_upload(), UploadStatus.REJECTED, outcome.counts,
                                                parsed.problems, options.acting_user)
        return outcome
    except DatabaseError as exc:
        message = _("Файл не загружен: база данных отказалась сохранить данные ({reason}). Ничего не изменилось.").format(
            reason=str(exc).splitlines()[0][:200] if str(exc) else exc.__class__.__name__)
        parsed.problems.append(Problem(message, file=parsed.file))
        outcome.status, outcome.message = UploadStatus.FAILED, message
        with transaction.atomic():
            outcome.upload = loading.finish(new_upload(), UploadStatus.FAILED, outcome.counts, parsed.problems,
                                            options.acting_user)
        return outcome
    if options.progress:
        options.progress(len(good), len(good))
    outcome.status = status
    outcome.message = done_message(outcome.counts) if done_message else _("Загружено строк: {count}.").format(
        count=len(good))
    return outcome


def reject_without_header(path: Path, parsed: Parsed, message: str, *, checksum: str, options, outcome):
    """A file in which the header row of the format is not found."""
    parsed.error(message)
    return complete(path, parsed, checksum=checksum, options=options, outcome=outcome, rows=[],
                    save=lambda upload, rows: {}, blocking=True)
