"""ВПР regional export: one row per participant of all the schools of a region or municipality.

    Логин ОО | Код участника | Отметка за предыдущий период | Пол | Класс | Вариант | Сумма баллов |
    балл за 1 | балл за 2 | …

The N-th `балл за` column is the N-th task of the work's specification (positions, not task numbers:
`балл за 5` may be task 5.1), so the file can only be read with the work named (`--assessment`). The
work's mark is not in the file: loading computes it from the specification's grade scale.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.utils.translation import gettext as _

from metodist.collection.importers.base import (
    ABSENT_VALUES,
    CellError,
    Parsed,
    Sheet,
    iter_data_rows,
    normalise_header,
    parse_int,
    parse_mark,
    parse_score_cell,
    text,
)
from metodist.collection.results import ResultRow, ScoreCell, parse_gender

FORMAT = "vpr-regional"
HEADER_SEARCH_ROWS = 40

COLUMNS = {
    "логин оо": "school",
    "логин": "school",
    "код оо": "school",
    "код участника": "participant",
    "пол": "gender",
    "класс": "class",
    "вариант": "variant",
    "сумма баллов": "primary",
    "первичный балл": "primary",
    "итого баллов": "primary",
}
PREFIXES = {"отметка за предыдущий": "journal_mark", "отметка по журналу": "journal_mark"}
TASK_RE = re.compile(r"^балл за (?:задание )?(\d+)$")


def column_field(header: object) -> str | None:
    name = normalise_header(header)
    if name in COLUMNS:
        return COLUMNS[name]
    for prefix, field in PREFIXES.items():
        if name.startswith(prefix):
            return field
    return None


def task_position(header: object) -> int | None:
    match = TASK_RE.match(normalise_header(header))
    return int(match.group(1)) if match else None


def find_header(sheet: Sheet) -> tuple[int, dict[str, int], dict[int, int]] | None:
    """(row index, field → column, column → position of `балл за N`) of the first row that has a
    participant column and at least one `балл за` column."""
    for index, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        fields: dict[str, int] = {}
        positions: dict[int, int] = {}
        for col, value in enumerate(row):
            position = task_position(value)
            if position is not None:
                positions[col] = position
                continue
            field = column_field(value)
            if field:
                fields.setdefault(field, col)
        if "participant" in fields and positions:
            return index, fields, positions
    return None


def sniff(sheets: list[Sheet]) -> int:
    """`балл за N` columns are this export's own: surer than a ВПР form (6–10)."""
    for sheet in sheets:
        found = find_header(sheet)
        if found:
            return 12 if "school" in found[1] else 11
    return 0


def is_absent_text(value: object) -> bool:
    raw = text(value).casefold()
    return raw in ABSENT_VALUES or raw.startswith("отсутств")


def parse(path: Path, sheets: list[Sheet], *, assessment=None) -> Parsed:
    parsed = Parsed(format=FORMAT, file=Path(path).name)
    if assessment is None:
        parsed.error(_("В выгрузке ВПР по региону столбцы «балл за N» нумеруют задания по порядку, поэтому "
                       "нужно указать, какая это работа (параметр --assessment), например vpr-2025-ma-5."))
        return parsed
    for sheet in sheets:
        found = find_header(sheet)
        if found:
            break
    else:
        parsed.error(_("Не найдена строка заголовка со столбцами «Код участника» и «балл за 1», «балл за 2», … "
                       "Проверьте, что это выгрузка результатов ВПР по региону."))
        return parsed
    header_index, fields, positions = found
    header_row = sheet.rows[header_index]
    header_line = header_index + 1
    spec_tasks = list(assessment.tasks.order_by("position"))
    parsed.meta.update(sheet=sheet.name, header_row=header_line, has_school_column="school" in fields)

    def header_error(message: str, column: str = "") -> None:
        parsed.error(message, sheet=sheet.name, row=header_line, column=column)

    by_position: dict[int, int] = {}
    for col, position in sorted(positions.items()):
        if position in by_position:
            header_error(_("Столбец «балл за {number}» встречается в заголовке несколько раз.").format(
                number=position), column=text(header_row[col]))
        else:
            by_position[position] = col
    expected = len(spec_tasks)
    if len(positions) != expected:
        header_error(_("Столбцов «балл за …» в файле: {found}, а заданий в работе {work}: {count}. Проверьте, что "
                       "выбрана верная работа.").format(found=len(positions), work=assessment.code, count=expected))
    missing = [n for n in range(1, expected + 1) if n not in by_position]
    if missing and len(positions) == expected:
        header_error(_("Нет столбцов «балл за {numbers}»: номера должны идти подряд от 1.").format(
            numbers=", ".join(map(str, missing))))
    if parsed.errors:
        return parsed  # columns cannot be matched to tasks: reading the rows would only add noise
    columns = [(by_position[n], spec_tasks[n - 1]) for n in range(1, expected + 1)]
    parsed.meta["tasks"] = [(task.number, None, text(header_row[col])) for col, task in columns]

    def cell(row: list, name: str) -> object:
        col = fields.get(name)
        return row[col] if col is not None and col < len(row) else None

    def column_name(name: str) -> str:
        col = fields.get(name)
        return text(header_row[col]) if col is not None else ""

    for line, row in iter_data_rows(sheet.rows, header_index + 1):
        where = {"sheet": sheet.name, "row": line}
        participant = text(cell(row, "participant"))
        result = ResultRow(row=line, sheet=sheet.name, school_code=text(cell(row, "school")))
        if participant == "":
            parsed.error(_("Не указан код участника."), column=column_name("participant"), **where)
        else:
            try:
                result.participant_code = str(parse_int(participant))
            except CellError:
                result.participant_code = participant
        variant_raw = text(cell(row, "variant"))
        if is_absent_text(variant_raw):
            result.absent = True
        elif variant_raw:
            try:
                result.variant = parse_int(variant_raw)
            except CellError:
                parsed.error(_("Вариант «{value}» не понят: ожидается номер варианта или «отсутствовал».").format(
                    value=variant_raw), column=column_name("variant"), **where)
        absent_cells = 0
        for col, task in columns:
            value = row[col] if col < len(row) else None
            header = text(header_row[col])
            if is_absent_text(value):
                absent_cells += 1
                result.scores.append(ScoreCell(task=task.number, score=None, status="blank", column=header))
                continue
            try:
                score, status = parse_score_cell(value)
            except CellError:
                parsed.error(_("В ячейке задания {task} стоит «{value}»: ожидается балл, X или «не пройд.».").format(
                    task=task.number, value=text(value)), column=header, **where)
                score, status = None, "invalid"
            result.scores.append(ScoreCell(task=task.number, score=score, status=status, column=header))
        all_blank = all(s.status == "blank" for s in result.scores)
        if all_blank and (absent_cells or variant_raw == ""):
            result.absent = True  # a listed pupil who did not write the work
        elif absent_cells and not result.absent:
            parsed.error(_("В части ячеек заданий стоит «отсутствовал», а в других — баллы. Если участник "
                           "отсутствовал, оставьте ячейки заданий пустыми."), **where)
        result.class_label = text(cell(row, "class"))
        result.gender = parse_gender(text(cell(row, "gender")))
        try:
            result.journal_mark = parse_mark(cell(row, "journal_mark"))
        except CellError:
            parsed.error(_("Отметка «{value}» не понята: ожидается 2, 3, 4, 5 или «нет отметки».").format(
                value=text(cell(row, "journal_mark"))), column=column_name("journal_mark"), **where)
        try:
            result.primary_score = parse_int(cell(row, "primary"))
        except CellError:
            parsed.error(_("Сумма баллов «{value}» не является числом.").format(value=text(cell(row, "primary"))),
                         column=column_name("primary"), **where)
        result.primary_column = column_name("primary")
        parsed.rows.append(result)
    return parsed
