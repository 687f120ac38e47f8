"""ВПР upload form («форма сбора результатов»), sheet `Протокол`, as a school fills it and as a region's
files bring many schools together; also the federal «Индивидуальные результаты» report, which has the
same columns under a title block. The layout is found by reading the header row, never by position.

A school's form:   Код участника | Вариант | 1 (5б) | … | 4К2 (2б) | Порядковый номер класса |
                   Отметка за предыдущий триместр/ четверть/полугодие | Итого баллов
A region's files:  Пользователь | Код региона | Регион | Муниципалитет (reg22_m001 | name) |
                   Школа (edu223017 | name) | Дата загрузки | Код | Вариант | tasks… |
                   Наименование класса | Пол | Отметка за предыдущий … | Итого баллов
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from django.utils.translation import gettext as _

from metodist.collection.importers.base import (
    CellError,
    Parsed,
    Sheet,
    is_blank,
    iter_data_rows,
    normalise_header,
    parse_int,
    parse_mark,
    parse_score_cell,
    parse_task_header,
    split_coded_name,
    text,
)
from metodist.collection.results import ResultRow, ScoreCell, parse_gender

FORMAT = "vpr-form"
HEADER_SEARCH_ROWS = 40

# normalised header → field; matched by equality first, then by prefix
COLUMNS = {
    "пользователь": "login",
    "код региона": "region_code",
    "регион": "region",
    "муниципалитет": "municipality",
    "школа": "school",
    "оо": "school_code",
    "название оо": "school",
    "дата загрузки": "date",
    "дата": "date",
    "код участника": "participant",
    "код": "participant",
    "вариант": "variant",
    "наименование класса": "class",
    "класс": "class",
    "порядковый номер класса": "class_ordinal",
    "пол": "gender",
    "отметка по журналу": "journal_mark",
    "отметка за предыдущий": "journal_mark",
    "отметка": "mark",
    "итого баллов": "primary",
    "итого": "primary",
    "первичный балл": "primary",
}
PREFIXES = ("отметка за предыдущий", "отметка по журналу", "итого баллов", "первичный балл")

TEXTBOOK_SUBJECTS = {
    "ma": "ma", "ru": "ru", "okr": "okr", "om": "okr", "is": "is", "ob": "ob", "geo": "gg", "gg": "gg",
    "bio": "bi", "bi": "bi", "fi": "fi", "fiz": "fi", "him": "hi", "hi": "hi", "xi": "hi", "en": "en",
    "de": "de", "fr": "fr",
}
SUBJECT_NAMES = {
    "русский язык": "ru", "русскому языку": "ru", "математика": "ma", "окружающий мир": "okr",
    "история": "is", "обществознание": "ob", "география": "gg", "биология": "bi", "физика": "fi",
    "химия": "hi", "английский язык": "en", "немецкий язык": "de", "французский язык": "fr",
}


@functools.lru_cache(maxsize=65536, typed=True)
def column_field(header: object) -> str | None:
    name = normalise_header(header)
    if name in COLUMNS:
        return COLUMNS[name]
    for prefix in PREFIXES:
        if name.startswith(prefix):
            return COLUMNS[prefix]
    return None


def find_header(sheet: Sheet) -> tuple[int, dict[int, str], dict[int, tuple[str, int | None]]] | None:
    """The header row: the first row with a participant column and at least one task column."""
    for index, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        fields: dict[int, str] = {}
        tasks: dict[int, tuple[str, int | None]] = {}
        for col, value in enumerate(row):
            field = column_field(value)
            if field:
                fields.setdefault(col, field)
                continue
            task = parse_task_header(value)
            if task:
                tasks[col] = task
        if "participant" in fields.values() and tasks:
            return index, fields, tasks
    return None


def sniff(sheets: list[Sheet]) -> int:
    """How sure we are the file is a ВПР form (0 = not at all)."""
    for sheet in sheets:
        found = find_header(sheet)
        if found:
            _i, fields, _t = found
            return 10 if sheet.name.casefold() == "протокол" else 6
    return 0


def detect_assessment(sheets: list[Sheet], file_name: str) -> tuple[str | None, int | None, int | None]:
    """(subject code, grade, year) as far as the file itself says: the textbook codes of sheet `Классы`
    (`ma5.8 | …` is mathematics, grade 5), the upload date, a title such as «ВПР 2026 Русский язык 4 класс»."""
    subject = grade = year = None
    for sheet in sheets:
        for row in sheet.rows[:HEADER_SEARCH_ROWS]:
            for value in row:
                raw = text(value)
                title = re.search(r"ВПР\s+(\d{4})\s+(.+?)\s+(\d{1,2})\s+класс", raw)
                if title:
                    year, grade = int(title.group(1)), int(title.group(3))
                    subject = SUBJECT_NAMES.get(title.group(2).strip().casefold(), subject)
        if sheet.name.casefold() == "классы":
            for row in sheet.rows[1:50]:
                for value in row:
                    match = re.match(r"^([a-z]+)(\d{1,2})\.\d+\s*\|", text(value))
                    if match and match.group(1) in TEXTBOOK_SUBJECTS:
                        subject = TEXTBOOK_SUBJECTS[match.group(1)]
                        grade = int(match.group(2))
                        break
                if subject:
                    break
    for sheet in sheets:
        found = find_header(sheet)
        if not found or year:
            continue
        index, fields, _tasks = found
        date_cols = [c for c, f in fields.items() if f == "date"]
        for _n, row in iter_data_rows(sheet.rows, index + 1):
            for c in date_cols:
                match = re.search(r"(20\d\d)", text(row[c]) if c < len(row) else "")
                if match:
                    year = int(match.group(1))
                    break
            break
    if subject is None:
        stem = Path(file_name).stem.casefold()
        subject = SUBJECT_NAMES.get(stem)
    return subject, grade, year


def parse(path: Path, sheets: list[Sheet], *, assessment=None) -> Parsed:
    parsed = Parsed(format=FORMAT, file=Path(path).name)
    parsed.meta["detected"] = detect_assessment(sheets, parsed.file)
    candidates = sorted(sheets, key=lambda s: s.name.casefold() != "протокол")
    for sheet in candidates:
        found = find_header(sheet)
        if found:
            break
    else:
        parsed.error(_("Не найдена строка заголовка с кодом участника и номерами заданий. Проверьте, что это "
                       "форма сбора результатов ВПР (лист «Протокол»)."))
        return parsed
    header_index, fields, tasks = found
    header_row = sheet.rows[header_index]
    parsed.meta.update(
        sheet=sheet.name,
        header_row=header_index + 1,
        tasks=[(number, maximum, text(header_row[col])) for col, (number, maximum) in tasks.items()],
        has_school_column=any(f in ("school", "school_code", "login") for f in fields.values()),
    )
    numbers = [number for number, _m, _h in parsed.meta["tasks"]]
    for number in {n for n in numbers if numbers.count(n) > 1}:
        parsed.error(_("Задание {task} встречается в заголовке несколько раз.").format(task=number),
                     sheet=sheet.name, row=header_index + 1)
    by_field: dict[str, int] = {}
    for col, field in fields.items():
        by_field.setdefault(field, col)

    def cell(row: list, name: str) -> object:
        col = by_field.get(name)
        return row[col] if col is not None and col < len(row) else None

    def column_name(name: str) -> str:
        col = by_field.get(name)
        return text(header_row[col]) if col is not None else ""

    for line, row in iter_data_rows(sheet.rows, header_index + 1):
        participant = text(cell(row, "participant"))
        if participant == "" and all(is_blank(row[c]) if c < len(row) else True for c in tasks):
            continue  # a row of the empty template: only a formula total
        result = ResultRow(row=line, sheet=sheet.name, participant_code=participant)
        where = {"sheet": sheet.name, "row": line}
        if participant == "":
            parsed.error(_("Не указан код участника."), column=column_name("participant"), **where)
        else:
            try:
                result.participant_code = str(parse_int(participant))
            except CellError:
                result.participant_code = participant
        school_code, school_name = split_coded_name(cell(row, "school"))
        if not school_code:
            school_code = text(cell(row, "school_code")) or text(cell(row, "login"))
        result.school_code, result.school_name = school_code, school_name
        result.municipality_code, result.municipality_name = split_coded_name(cell(row, "municipality"))
        if "region" not in parsed.meta and not is_blank(cell(row, "region")):
            parsed.meta["region"] = split_coded_name(cell(row, "region"))
        variant_raw = text(cell(row, "variant"))
        if variant_raw.casefold().startswith("отсутств"):
            result.absent = True
        elif variant_raw:
            try:
                result.variant = parse_int(variant_raw)
                if not 1 <= result.variant <= 999:
                    result.variant = None
                    raise CellError(variant_raw)
            except CellError:
                parsed.error(_("Вариант «{value}» не понят: ожидается номер варианта или «отсутствовал».").format(
                    value=variant_raw), column=column_name("variant"), **where)
        for col, (number, _maximum) in tasks.items():
            value = row[col] if col < len(row) else None
            try:
                score, status = parse_score_cell(value)
            except CellError:
                parsed.error(_("В ячейке задания {task} стоит «{value}»: ожидается балл, X или «не пройд.».").format(
                    task=number, value=text(value)), column=text(header_row[col]), **where)
                score, status = None, "invalid"
            result.scores.append(ScoreCell(task=number, score=score, status=status, column=text(header_row[col])))
        if not result.absent and variant_raw == "" and all(s.status == "blank" for s in result.scores):
            result.absent = True  # a blank row of a listed pupil: did not write the work
        ordinal = "class_ordinal" in by_field and "class" not in by_field
        result.class_label = text(cell(row, "class_ordinal" if ordinal else "class"))
        result.class_is_ordinal = ordinal
        result.gender = parse_gender(text(cell(row, "gender")))
        for name, attribute in (("journal_mark", "journal_mark"), ("mark", "mark")):
            try:
                setattr(result, attribute, parse_mark(cell(row, name)))
            except CellError:
                parsed.error(_("Отметка «{value}» не понята: ожидается 2, 3, 4, 5 или «нет отметки».").format(
                    value=text(cell(row, name))), column=column_name(name), **where)
        try:
            result.primary_score = parse_int(cell(row, "primary"))
        except CellError:
            parsed.error(_("Итоговый балл «{value}» не является числом.").format(value=text(cell(row, "primary"))),
                         column=column_name("primary"), **where)
        result.primary_column, result.mark_column = column_name("primary"), column_name("mark")
        parsed.rows.append(result)
    return parsed


def guess_assessment(parsed: Parsed):
    """The assessment the file itself names (subject, grade and year read by `detect_assessment`).

    When no specification of that work is loaded but the header carries every task's maximum, a
    partial specification is made from the header, so a region's file of a year without a shipped
    specification still loads; it has no grade scale, content elements or skills until one is uploaded."""
    from metodist.reference.models import Assessment
    from metodist.reference.specs import SUBJECTS, save_spec

    subject, grade, year = parsed.meta.get("detected", (None, None, None))
    if not (subject and grade and year):
        return None
    code = f"vpr-{year}-{subject}-{grade}"
    assessment = Assessment.objects.filter(code=code).first()
    if assessment is not None:
        return assessment
    tasks = parsed.meta.get("tasks", [])
    if not tasks or any(maximum is None for _n, maximum, _h in tasks):
        return None
    parsed.warning(_("Спецификации работы {code} нет; она составлена по заголовку файла (задания и максимальные "
                     "баллы) без шкалы перевода и кодификаторов. Загрузите спецификацию, чтобы получить отметки и "
                     "анализ по элементам содержания.").format(code=code))
    return save_spec({
        "code": code, "programme": "VPR", "subject": subject, "grade": grade, "year": year,
        "title": f"ВПР {year}. {SUBJECTS.get(subject, subject)}. {grade} класс",
        "source": _("составлена по заголовку файла {file}").format(file=parsed.file),
        "partial": True, "partial_reason": _("нет шкалы перевода, элементов содержания и умений"),
        "tasks": [{"number": n, "max_score": m} for n, m, _h in tasks],
    })
