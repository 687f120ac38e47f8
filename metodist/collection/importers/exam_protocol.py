"""ОГЭ / ЕГЭ protocols as a regional data-processing centre (РЦОИ) exports them, XLSX or CSV.

    Протокол проверки результатов …                       ┐
    Регион: Рязанская область                             │ title block: which exam, where, when
    Экзамен: ОГЭ по математике, 24.05.2025                ┘ (or «Предмет: …» and «Дата экзамена: …»)
    № | Код ОО | Класс | Фамилия | Имя | Отчество | Дата рождения | Вариант | Ответы части 1 |
        Ответы части 2 | Первичный балл | Отметка (ЕГЭ: Тестовый балл)
    1 | 620001 | 9А | … | ++-+2-+ | 1(2)0(3)2(2) | 12 | 4
    Средние | …                                            closes the block; more blocks may follow

Short answers `++-+2-+` are the short-answer tasks of the specification in order (`+` the task's
maximum, `-` zero, a digit those points); extended answers `1(2)0(3)2(2)` are the extended-answer
tasks in order, points and the maximum in brackets. Pupils come with names: the names and the birth
date go only into `ResultRow.identity`, which loading turns into a keyed pseudonym. No message of this
module ever quotes a name or a birth date.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from metodist.collection.importers.base import (
    ABSENT_VALUES,
    CellError,
    Parsed,
    Sheet,
    is_blank,
    normalise_header,
    parse_int,
    parse_mark,
    split_coded_name,
    text,
)
from metodist.collection.results import ResultRow, ScoreCell

FORMAT = "exam-protocol"

COLUMNS = {
    "№": "number", "№ п/п": "number", "n": "number", "номер": "number",
    "код оо": "school", "код оу": "school", "код школы": "school", "оо": "school",
    "код образовательной организации": "school",
    "класс": "class",
    "фамилия": "surname", "имя": "name", "отчество": "patronymic",
    "дата рождения": "birth",
    "вариант": "variant",
    "первичный балл": "primary", "первичный": "primary",
    "отметка": "mark", "оценка": "mark", "отметка (пятибалльная)": "mark",
    "тестовый балл": "test", "балл (100)": "test",
}
PREFIXES = {
    "ответы части 1": "short", "ответы на задания части 1": "short", "часть 1": "short",
    "задания с кратким ответом": "short", "ответы на задания с кратким ответом": "short",
    "краткий ответ": "short",
    "ответы части 2": "extended", "ответы на задания части 2": "extended", "часть 2": "extended",
    "задания с развернутым ответом": "extended", "ответы на задания с развернутым ответом": "extended",
    "развернутый ответ": "extended",
}
SUBJECT_STEMS = (
    ("математ", "ma"), ("русск", "ru"), ("литератур", "lit"), ("физик", "fi"), ("хими", "hi"),
    ("биолог", "bi"), ("географ", "gg"), ("истори", "is"), ("обществозн", "ob"), ("информатик", "inf"),
    ("английск", "en"), ("немецк", "de"), ("французск", "fr"), ("испанск", "es"), ("китайск", "zh"),
)
GRADES = {"OGE": 9, "EGE": 11}
PROGRAMME_NAMES = {"OGE": "ОГЭ", "EGE": "ЕГЭ"}
MINUS = {"-", "−", "–", "—"}
EXTENDED_TOKEN = r"(\d+|[xXхХ])\s*\(\s*(\d+)\s*\)"
EXTENDED_RE = re.compile(rf"^(?:\s*{EXTENDED_TOKEN}\s*[,;]?)*\s*$")
DATE_RE = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b")
ISO_DATE_RE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")


@functools.lru_cache(maxsize=65536, typed=True)
def column_field(header: object) -> str | None:
    name = normalise_header(header)
    if name in COLUMNS:
        return COLUMNS[name]
    for prefix, kind in PREFIXES.items():
        if name.startswith(prefix):
            return kind
    return None


def header_fields(row: list) -> dict[str, int] | None:
    """field → column when `row` is the header row of a protocol block, else None."""
    fields: dict[str, int] = {}
    for col, value in enumerate(row):
        name = column_field(value)
        if name:
            fields.setdefault(name, col)
    if "surname" in fields and "name" in fields and {"short", "extended", "primary"} & set(fields):
        return fields
    return None


def sniff(sheets: list[Sheet]) -> int:
    for sheet in sheets:
        for row in sheet.rows[:60]:
            if header_fields(row):
                return 10
    return 0


@dataclass
class Block:
    sheet: str
    header_line: int
    header: list
    fields: dict[str, int]
    rows: list[tuple[int, list]] = field(default_factory=list)


@dataclass
class ExamInfo:
    programme: str | None = None
    subject: str | None = None
    year: int | None = None
    region: str = ""
    conflict: bool = False
    where: dict = field(default_factory=dict)  # sheet and row of the first statement of the exam

    @property
    def code(self) -> str | None:
        if self.programme and self.subject and self.year:
            return f"{self.programme.lower()}-{self.year}-{self.subject}-{GRADES[self.programme]}"
        return None


def row_text(row: list) -> str:
    return " ".join(text(v) for v in row if not is_blank(v))


def first_text(row: list) -> str:
    for value in row:
        if not is_blank(value):
            return normalise_header(value)
    return ""


def segment(sheets: list[Sheet]) -> tuple[list[Block], list[tuple[str, int, list]]]:
    """Blocks (a header row and its pupils' rows up to «Средние») and the rows outside them."""
    blocks: list[Block] = []
    others: list[tuple[str, int, list]] = []
    for sheet in sheets:
        current: Block | None = None
        for index, row in enumerate(sheet.rows):
            if all(is_blank(v) for v in row):
                continue
            fields = header_fields(row)
            if fields:
                current = Block(sheet=sheet.name, header_line=index + 1, header=row, fields=fields)
                blocks.append(current)
                continue
            if current is not None and first_text(row).startswith("средн"):
                current = None  # «Средние» closes the block; it is not a pupil
                continue
            if current is not None:
                current.rows.append((index + 1, row))
            else:
                others.append((sheet.name, index + 1, row))
    return blocks, others


def year_of(row: list) -> int | None:
    for value in row:
        if isinstance(value, dt.date):
            return value.year
    raw = row_text(row)
    for pattern, group in ((DATE_RE, 3), (ISO_DATE_RE, 1)):
        match = pattern.search(raw)
        if match:
            return int(match.group(group))
    match = re.search(r"\b(20\d\d)\b", raw)
    return int(match.group(1)) if match else None


def programme_of(raw: str) -> str | None:
    low = raw.casefold()
    if re.search(r"\bогэ\b", low) or re.search(r"основно\w*\s+государствен", low):
        return "OGE"
    if re.search(r"\bегэ\b", low) or re.search(r"едино\w*\s+государствен", low):
        return "EGE"
    return None


def subject_of(raw: str) -> str | None:
    low = raw.casefold().replace("ё", "е")
    for stem, code in SUBJECT_STEMS:
        if re.search(r"\b" + stem, low):
            return code
    return None


def read_title(others: list[tuple[str, int, list]], parsed: Parsed) -> ExamInfo:
    """Which exam the protocol is: from the rows outside the blocks (the title block, block subtitles)."""
    info = ExamInfo()
    for sheet, line, row in others:
        raw = row_text(row)
        low = normalise_header(raw)
        if low.startswith("регион"):
            info.region = info.region or raw.split(":", 1)[-1].strip()
            continue
        if not any(word in low for word in ("экзамен", "предмет", "протокол", "огэ", "егэ", "дата")):
            continue
        found = {"programme": programme_of(raw), "year": year_of(row)}
        if not low.startswith("дата"):
            found["subject"] = subject_of(raw)
        for key, value in found.items():
            if value is None:
                continue
            known = getattr(info, key)
            if known is None:
                setattr(info, key, value)
                info.where = info.where or {"sheet": sheet, "row": line}
            elif known != value and key != "year":
                info.conflict = True
                parsed.error(_("В файле протоколы разных экзаменов. Загрузите каждый экзамен отдельным файлом."),
                             sheet=sheet, row=line)
    return info


def resolve(info: ExamInfo, blocks: list[Block], parsed: Parsed):
    from metodist.reference.models import Assessment

    if info.programme is None and blocks:
        # the title does not say ОГЭ or ЕГЭ: a 100-point test score is ЕГЭ's, a mark alone ОГЭ's
        info.programme = "EGE" if "test" in blocks[0].fields else "OGE"
    code = info.code
    if code is None:
        parsed.error(_("В заголовке протокола не найдено, какой это экзамен (ОГЭ или ЕГЭ, предмет и дата). "
                       "Укажите код работы (параметр --assessment), например oge-2025-ma-9."), **info.where)
        return None
    assessment = Assessment.objects.filter(code=code).first()
    if assessment is None:
        parsed.error(_("Спецификация экзамена {code} не загружена. Загрузите её или укажите код работы "
                       "(параметр --assessment).").format(code=code), **info.where)
    return assessment


def birth_date(value: object) -> str | None:
    """A birth date as ISO text, whatever way the file writes it; '' when blank; None when not a date."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1000 < value < 80000:
        return (dt.date(1899, 12, 30) + dt.timedelta(days=int(value))).isoformat()
    raw = text(value)
    if raw == "":
        return ""
    match = DATE_RE.fullmatch(raw) or DATE_RE.fullmatch(raw.split(" ")[0])
    if match:
        day, month, year = (int(g) for g in match.groups())
    else:
        match = ISO_DATE_RE.fullmatch(raw.split(" ")[0].split("T")[0])
        if not match:
            return None
        year, month, day = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def is_absent_text(raw: str) -> bool:
    low = raw.casefold()
    return low in ABSENT_VALUES or low.startswith(("отсутств", "неявк"))


def parse(path: Path, sheets: list[Sheet], *, assessment=None) -> Parsed:
    parsed = Parsed(format=FORMAT, file=Path(path).name)
    blocks, others = segment(sheets)
    info = read_title(others, parsed)
    if info.region:
        parsed.meta["region"] = ("", info.region)
    if not blocks:
        parsed.error(_("Не найдена строка заголовка протокола (№, Код ОО, Фамилия, Имя, …, Ответы части 1, "
                       "Ответы части 2, Первичный балл). Проверьте, что это протокол результатов ОГЭ или ЕГЭ."))
        return parsed
    if assessment is None:
        assessment = resolve(info, blocks, parsed)
        if assessment is None:
            return parsed
        parsed.meta["assessment"] = assessment
    elif info.code and info.code != assessment.code:
        parsed.warning(_("В заголовке протокола указан экзамен {found}, а загрузка идёт как {chosen}.").format(
            found=info.code, chosen=assessment.code), **info.where)
    tasks = list(assessment.tasks.order_by("position"))
    short = [t for t in tasks if t.task_type == "short"]
    extended = [t for t in tasks if t.task_type == "extended"]
    first = blocks[0]
    parsed.meta.update(sheet=first.sheet, header_row=first.header_line)
    headers = {"short": "", "extended": ""}
    for block in blocks:
        for kind in headers:
            if kind in block.fields and not headers[kind]:
                headers[kind] = text(block.header[block.fields[kind]])
    parsed.meta["tasks"] = (
        [(t.number, t.max_score, headers["short"] or _("Ответы части 1")) for t in short]
        + [(t.number, t.max_score, headers["extended"] or _("Ответы части 2")) for t in extended]
    )
    for block in blocks:
        missing = []
        if short and "short" not in block.fields:
            missing.append(_("Ответы части 1"))
        if extended and "extended" not in block.fields:
            missing.append(_("Ответы части 2"))
        if "school" not in block.fields:
            missing.append(_("Код ОО"))
        if missing:
            parsed.error(_("В заголовке протокола нет столбцов: {columns}. Строки этого протокола не прочитаны.").format(
                columns=", ".join(f"«{m}»" for m in missing)),
                sheet=block.sheet, row=block.header_line)
            continue
        for line, row in block.rows:
            result = read_row(block, line, row, short, extended, parsed)
            if result is not None:
                parsed.rows.append(result)
    if info.conflict:
        parsed.rows = []  # two exams in one file: nothing of it can be loaded as one work
    return parsed


def read_row(block: Block, line: int, row: list, short, extended, parsed: Parsed) -> ResultRow | None:
    fields = block.fields

    def cell(name: str) -> object:
        col = fields.get(name)
        return row[col] if col is not None and col < len(row) else None

    def column(name: str) -> str:
        col = fields.get(name)
        return text(block.header[col]) if col is not None else ""

    where = {"sheet": block.sheet, "row": line}
    surname, name, patronymic = (text(cell(k)) for k in ("surname", "name", "patronymic"))
    short_raw = "".join(text(cell("short")).split())
    extended_raw = text(cell("extended"))
    variant_raw = text(cell("variant"))
    if not any((surname, name, short_raw, extended_raw, text(cell("primary")))):
        return None  # a subtitle or a blank line inside the block, not a pupil
    number = text(cell("number"))
    school_code, school_name = split_coded_name(cell("school"))  # «620001», «МБОУ СОШ №1 (edu620001)»
    result = ResultRow(row=line, sheet=block.sheet, school_code=school_code or school_name,
                       participant_code=number or str(line), class_label=text(cell("class")))
    if not surname:
        parsed.error(_("Не указана фамилия участника."), column=column("surname"), **where)
    if not name:
        parsed.error(_("Не указано имя участника."), column=column("name"), **where)
    if not result.school_code:
        parsed.error(_("Не указан код образовательной организации."), column=column("school"), **where)
    birth = birth_date(cell("birth"))
    if birth is None:
        parsed.error(_("Дата рождения не понята: ожидается дата вида ДД.ММ.ГГГГ."), column=column("birth"), **where)
        birth = ""
    result.identity = ("person", surname, name, patronymic, birth)
    if is_absent_text(variant_raw):
        result.absent = True
    elif variant_raw:
        try:
            result.variant = parse_int(variant_raw)
        except CellError:
            parsed.error(_("Вариант «{value}» не понят: ожидается номер варианта.").format(value=variant_raw),
                         column=column("variant"), **where)
    if not result.absent and not short_raw and not extended_raw and is_blank(cell("primary")):
        result.absent = True  # listed, but did not sit the exam
    if result.absent:
        return result
    errors_before = len(parsed.errors)
    result.scores = decode_short(short_raw, short, column("short"), parsed, where) + decode_extended(
        extended_raw, extended, column("extended"), parsed, where)
    if len(parsed.errors) > errors_before:
        return result  # the answers are wrong: the total, mark and test score cannot be checked against them
    for name_, attribute, message in (
        ("primary", "primary_score", _("Первичный балл «{value}» не является числом.")),
        ("test", "test_score", _("Тестовый балл «{value}» не является числом от 0 до 100.")),
    ):
        try:
            value = parse_int(cell(name_))
        except CellError:
            parsed.error(message.format(value=text(cell(name_))), column=column(name_), **where)
            continue
        if attribute == "test_score" and value is not None and not 0 <= value <= 100:
            parsed.error(message.format(value=value), column=column(name_), **where)
            continue
        setattr(result, attribute, value)
    try:
        result.mark = parse_mark(cell("mark"))
    except CellError:
        parsed.error(_("Отметка «{value}» не понята: ожидается 2, 3, 4 или 5.").format(value=text(cell("mark"))),
                     column=column("mark"), **where)
    result.primary_column, result.mark_column = column("primary"), column("mark")
    return result


def decode_short(raw: str, tasks, column: str, parsed: Parsed, where: dict) -> list[ScoreCell]:
    """`++-+2-+` → one cell per short-answer task, in the specification's order."""
    if not tasks:
        if raw:
            parsed.error(_("В работе нет заданий с кратким ответом, а в ответах части 1 стоит «{value}».").format(
                value=raw), column=column, **where)
        return []
    if not raw:
        parsed.error(_("Не заполнены ответы части 1."), column=column, **where)
        return [ScoreCell(task=t.number, score=None, status="invalid", column=column) for t in tasks]
    if len(raw) != len(tasks):
        parsed.error(_("В ответах части 1 «{value}» знаков {found}, а заданий с кратким ответом в работе {count}.").format(
            value=raw, found=len(raw), count=len(tasks)), column=column, **where)
        return [ScoreCell(task=t.number, score=None, status="invalid", column=column) for t in tasks]
    cells = []
    for task, char in zip(tasks, raw, strict=True):
        if char == "+":
            cells.append(ScoreCell(task=task.number, score=task.max_score, status="scored", column=column))
        elif char in MINUS:
            cells.append(ScoreCell(task=task.number, score=0, status="scored", column=column))
        elif char.isdigit() and int(char) > task.max_score:
            parsed.error(_("Балл за задание {task} ({score}) больше максимального ({max}).").format(
                task=task.number, score=char, max=task.max_score), column=column, **where)
            cells.append(ScoreCell(task=task.number, score=None, status="invalid", column=column))
        elif char.isdigit():
            cells.append(ScoreCell(task=task.number, score=int(char), status="scored", column=column))
        else:
            parsed.error(_("В ответах части 1 «{value}» знак «{char}» (задание {task}) не понят: ожидается +, - или "
                           "цифра.").format(value=raw, char=char, task=task.number), column=column, **where)
            cells.append(ScoreCell(task=task.number, score=None, status="invalid", column=column))
    return cells


def decode_extended(raw: str, tasks, column: str, parsed: Parsed, where: dict) -> list[ScoreCell]:
    """`1(2)0(3)2(2)` → one cell per extended-answer task, in the specification's order."""
    invalid = [ScoreCell(task=t.number, score=None, status="invalid", column=column) for t in tasks]
    if not tasks:
        if raw:
            parsed.error(_("В работе нет заданий с развёрнутым ответом, а в ответах части 2 стоит «{value}».").format(
                value=raw), column=column, **where)
        return []
    if not raw:
        parsed.error(_("Не заполнены ответы части 2."), column=column, **where)
        return invalid
    if not EXTENDED_RE.match(raw):
        parsed.error(_("Ответы части 2 «{value}» не поняты: ожидается запись вида 1(2)0(3)2(2) — балл за каждое "
                       "задание и в скобках его максимум.").format(value=raw), column=column, **where)
        return invalid
    tokens = re.findall(EXTENDED_TOKEN, raw)
    if len(tokens) != len(tasks):
        parsed.error(_("В ответах части 2 «{value}» заданий {found}, а заданий с развёрнутым ответом в работе "
                       "{count}.").format(value=raw, found=len(tokens), count=len(tasks)), column=column, **where)
        return invalid
    cells = []
    for task, (points, maximum) in zip(tasks, tokens, strict=True):
        if int(maximum) != task.max_score:
            parsed.error(_("В ответах части 2 у задания {task} указан максимум {file_max}, а по спецификации — "
                           "{spec_max}.").format(task=task.number, file_max=maximum, spec_max=task.max_score),
                         column=column, **where)
            cells.append(ScoreCell(task=task.number, score=None, status="invalid", column=column))
        elif points.isdigit() and int(points) > task.max_score:
            parsed.error(_("Балл за задание {task} ({score}) больше максимального ({max}).").format(
                task=task.number, score=points, max=task.max_score), column=column, **where)
            cells.append(ScoreCell(task=task.number, score=None, status="invalid", column=column))
        elif points.isdigit():
            cells.append(ScoreCell(task=task.number, score=int(points), status="scored", column=column))
        else:
            cells.append(ScoreCell(task=task.number, score=0, status="no_answer", column=column))
    return cells


def guess_assessment(parsed: Parsed):
    """The exam the title block names (`oge-<year>-<subject>-9`, `ege-<year>-<subject>-11`), when loaded."""
    return parsed.meta.get("assessment")
