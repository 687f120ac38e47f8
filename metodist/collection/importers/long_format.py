"""Long format of monitorings: one row per pupil × task.

    Работа | Код ОО | Код участника | Класс | Вариант | Задание | Балл | Отметка по журналу

Rows are grouped by (school, participant) into one pupil's work. `Работа` is the assessment's code
(optional when the work is named at import, `--assessment`). Every task of the specification must have
exactly one row per pupil who wrote the work; a pupil who did not write it has «отсутствовал» as the
variant (one row with the task left blank is enough) or blank scores in all his rows.

A pupil's rows are checked here, each problem at its own row; the pupil's `ResultRow.row` is his first
row with a problem (else his first row), so that loading rejects exactly the pupils with problems.
"""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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
    parse_task_header,
    text,
)
from metodist.collection.results import ResultRow, ScoreCell

FORMAT = "long"
HEADER_SEARCH_ROWS = 40

COLUMNS = {
    "работа": "assessment", "код работы": "assessment",
    "код оо": "school", "логин оо": "school", "код школы": "school",
    "код участника": "participant",
    "класс": "class",
    "вариант": "variant",
    "задание": "task", "номер задания": "task",
    "балл": "score", "балл за задание": "score",
}
PREFIXES = {"отметка по журналу": "journal_mark", "отметка за предыдущий": "journal_mark"}
REQUIRED = ("participant", "task", "score")


def column_field(header: object) -> str | None:
    name = normalise_header(header)
    if name in COLUMNS:
        return COLUMNS[name]
    for prefix, field in PREFIXES.items():
        if name.startswith(prefix):
            return field
    return None


def find_header(sheet: Sheet) -> tuple[int, dict[str, int]] | None:
    for index, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        fields: dict[str, int] = {}
        for col, value in enumerate(row):
            field = column_field(value)
            if field:
                fields.setdefault(field, col)
        if all(f in fields for f in REQUIRED):
            return index, fields
    return None


def sniff(sheets: list[Sheet]) -> int:
    for sheet in sheets:
        found = find_header(sheet)
        if found:
            return 9 if "school" in found[1] else 8
    return 0


def is_absent_text(raw: str) -> bool:
    low = raw.casefold()
    return low in ABSENT_VALUES or low.startswith("отсутств")


def _assessment_from_column(sheet, header_index, fields, parsed):
    from metodist.reference.models import Assessment

    if "assessment" not in fields:
        parsed.error(_("В файле нет столбца «Работа»: укажите код работы (параметр --assessment), например "
                       "reg-2025-ma-7."), sheet=sheet.name, row=header_index + 1)
        return None
    col = fields["assessment"]
    codes: dict[str, int] = {}
    for line, row in iter_data_rows(sheet.rows, header_index + 1):
        code = text(row[col] if col < len(row) else None).lower()
        if code:
            codes.setdefault(code, line)
    if not codes:
        parsed.error(_("Столбец «Работа» пуст: укажите код работы (параметр --assessment)."),
                     sheet=sheet.name, row=header_index + 1)
        return None
    if len(codes) > 1:
        parsed.error(_("В файле результаты нескольких работ ({codes}): загрузите каждую работу отдельным файлом "
                       "или укажите, какую загружать (параметр --assessment).").format(codes=", ".join(codes)),
                     sheet=sheet.name, row=header_index + 1)
        return None
    code, line = next(iter(codes.items()))
    assessment = Assessment.objects.filter(code=code).first()
    if assessment is None:
        parsed.error(_("Работа с кодом «{code}» не найдена. Загрузите её спецификацию или проверьте код.").format(
            code=code), sheet=sheet.name, row=line, column=text(sheet.rows[header_index][col]))
    return assessment


class Pupil:
    """One pupil's rows while they are read."""

    def __init__(self, line: int, sheet: str, school: str, participant: str):
        self.result = ResultRow(row=line, sheet=sheet, school_code=school, participant_code=participant)
        self.first_error: int | None = None
        self.cells: dict[str, tuple[int, ScoreCell]] = {}
        self.values: dict[str, tuple[int, object]] = {}  # per-pupil value → (first row, value)
        self.absent_marked = False


def parse(path: Path, sheets: list[Sheet], *, assessment=None) -> Parsed:
    parsed = Parsed(format=FORMAT, file=Path(path).name)
    for sheet in sheets:
        found = find_header(sheet)
        if found:
            break
    else:
        parsed.error(_("Не найдена строка заголовка со столбцами «Код участника», «Задание» и «Балл». Проверьте, что "
                       "это файл результатов в длинном формате (строка на каждое задание каждого участника)."))
        return parsed
    header_index, fields = found
    header = sheet.rows[header_index]
    header_line = header_index + 1
    if assessment is None:
        assessment = _assessment_from_column(sheet, header_index, fields, parsed)
        if assessment is None:
            return parsed
        parsed.meta["assessment"] = assessment
    tasks = {t.number: t for t in assessment.tasks.order_by("position")}
    parsed.meta.update(
        sheet=sheet.name, header_row=header_line, has_school_column="school" in fields,
        tasks=[(t.number, t.max_score, text(header[fields["task"]])) for t in tasks.values()],
    )

    def column(name: str) -> str:
        col = fields.get(name)
        return text(header[col]) if col is not None else ""

    pupils: dict[tuple[str, str], Pupil] = {}
    for line, row in iter_data_rows(sheet.rows, header_line):
        def cell(name: str, row=row) -> object:
            col = fields.get(name)
            return row[col] if col is not None and col < len(row) else None

        where = {"sheet": sheet.name, "row": line}
        errors_before = len(parsed.errors)
        work = text(cell("assessment")).lower()
        if work and work != assessment.code:
            parsed.error(_("Строка относится к работе {code}, а загружается работа {chosen}.").format(
                code=work, chosen=assessment.code), column=column("assessment"), **where)
        participant = text(cell("participant"))
        if participant == "":
            parsed.error(_("Не указан код участника."), column=column("participant"), **where)
            continue
        try:
            participant = str(parse_int(participant))
        except CellError:
            pass
        school = text(cell("school"))
        pupil = pupils.get((school, participant))
        if pupil is None:
            pupil = pupils[(school, participant)] = Pupil(line, sheet.name, school, participant)
        variant_raw = text(cell("variant"))
        if is_absent_text(variant_raw):
            pupil.absent_marked = True
        elif variant_raw:
            try:
                _same(pupil, "variant", parse_int(variant_raw), line, column("variant"), parsed)
            except CellError:
                parsed.error(_("Вариант «{value}» не понят: ожидается номер варианта или «отсутствовал».").format(
                    value=variant_raw), column=column("variant"), **where)
        _same(pupil, "class", text(cell("class")), line, column("class"), parsed)
        try:
            _same(pupil, "journal_mark", parse_mark(cell("journal_mark")), line, column("journal_mark"), parsed)
        except CellError:
            parsed.error(_("Отметка «{value}» не понята: ожидается 2, 3, 4, 5 или «нет отметки».").format(
                value=text(cell("journal_mark"))), column=column("journal_mark"), **where)
        _read_task(pupil, tasks, text(cell("task")), cell("score"), line, column, parsed, where)
        if len(parsed.errors) > errors_before and pupil.first_error is None:
            pupil.first_error = line

    for pupil in pupils.values():
        parsed.rows.append(_finish(pupil, tasks, column, parsed))
    parsed.rows.sort(key=lambda r: r.row)
    return parsed


def _same(pupil: Pupil, key: str, value, line: int, column: str, parsed: Parsed) -> None:
    """A value every row of the pupil repeats (variant, class, journal mark) must be the same in all of them."""
    if value is None or value == "":
        return
    if key not in pupil.values:
        pupil.values[key] = (line, value)
    elif pupil.values[key][1] != value:
        first, earlier = pupil.values[key]
        parsed.error(_("У участника {code} в этой строке стоит «{value}», а в строке {first} — «{earlier}».").format(
            code=pupil.result.participant_code, value=value, first=first, earlier=earlier),
            sheet=pupil.result.sheet, row=line, column=column)


def _read_task(pupil, tasks, raw_task, value, line, column, parsed, where) -> None:
    if raw_task == "":
        if pupil.absent_marked and text(value) == "":
            return  # the one row of an absent pupil
        parsed.error(_("Не указан номер задания."), column=column("task"), **where)
        return
    header = parse_task_header(raw_task)
    number = header[0] if header else raw_task
    task = tasks.get(number)
    if task is None:
        parsed.error(_("Задания {task} нет в спецификации работы: проверьте номер задания и выбранную работу.").format(
            task=raw_task), column=column("task"), **where)
        return
    if number in pupil.cells:
        parsed.error(_("Балл участника {code} за задание {task} уже указан в строке {first}.").format(
            code=pupil.result.participant_code, task=number, first=pupil.cells[number][0]),
            column=column("task"), **where)
        return
    try:
        score, status = parse_score_cell(value)
    except CellError:
        parsed.error(_("Балл «{value}» за задание {task} не понят: ожидается число, X или «не пройд.».").format(
            value=text(value), task=number), column=column("score"), **where)
        pupil.cells[number] = (line, ScoreCell(task=number, score=None, status="invalid", column=column("score")))
        return
    if score is not None and score < 0:
        parsed.error(_("Балл за задание {task} ({score}) отрицательный.").format(task=number, score=score),
                     column=column("score"), **where)
        status = "invalid"
    elif score is not None and score > task.max_score:
        parsed.error(_("Балл за задание {task} ({score}) больше максимального ({max}).").format(
            task=number, score=score, max=task.max_score), column=column("score"), **where)
        status = "invalid"
    pupil.cells[number] = (line, ScoreCell(task=number, score=score, status=status, column=column("score")))


def _finish(pupil: Pupil, tasks, column, parsed: Parsed) -> ResultRow:
    result = pupil.result
    where = {"sheet": result.sheet, "row": result.row}
    cells = {number: cell for number, (_line, cell) in pupil.cells.items()}
    result.variant = pupil.values.get("variant", (0, None))[1]
    result.class_label = pupil.values.get("class", (0, ""))[1]
    result.journal_mark = pupil.values.get("journal_mark", (0, None))[1]
    written = [c for c in cells.values() if c.status != "blank"]
    result.absent = pupil.absent_marked or not written
    if result.absent:
        if written:
            first = min(line for line, c in pupil.cells.values() if c.status != "blank")
            parsed.error(_("Участник {code} отмечен как отсутствовавший, но у него стоят баллы за задания.").format(
                code=result.participant_code), sheet=result.sheet, row=first, column=column("score"))
            pupil.first_error = pupil.first_error or first
        result.scores = []
    else:
        for number, (line, cell) in pupil.cells.items():
            if cell.status == "blank":
                parsed.error(_("Не указан балл за задание {task}. Если ответа нет, поставьте X.").format(task=number),
                             sheet=result.sheet, row=line, column=cell.column)
                cell.status = "invalid"
                pupil.first_error = min(pupil.first_error or line, line)
        missing = [n for n in tasks if n not in cells]
        if missing:
            parsed.error(ngettext(
                "У участника {code} нет строки с заданием {tasks}.",
                "У участника {code} нет строк с заданиями {tasks}.", len(missing)).format(
                code=result.participant_code, tasks=", ".join(missing)), column=column("task"), **where)
            pupil.first_error = min(pupil.first_error or result.row, result.row)
        result.scores = [cells[n] for n in tasks if n in cells]
    if pupil.first_error is not None:
        result.row = pupil.first_error  # so that loading rejects this pupil's work
    return result


def guess_assessment(parsed: Parsed):
    """The work the `Работа` column names, when its specification is loaded."""
    return parsed.meta.get("assessment")
