"""Standard reports of the federal system (ФИС ОКО) as it exports them to XLSX: the published figures of
the whole country («Вся выборка»), the region, the municipality and the school, kept as the reference
the standard reports compare with (`reference.PublishedResult`).

Every report has a title block, then the header row that starts with «Группы участников»:

    Статистика по отметкам
    ВПР 2026 Русский язык 4 класс
    Предмет: | Русский язык
    Максимальный первичный балл: | 24
    Дата: | 20.04.2026
    Группы участников | Кол-во ОО | Кол-во участников | 2 | 3 | 4 | 5
    Вся выборка | 35589 | 1722202 | 5.06 | 32.92 | 44.33 | 17.69
    Чеченская Республика | 560 | 30216 | 13.44 | 44.15 | 36.28 | 6.14
    Урус-Мартановский муниципальный район(reg20_m012) | 47 | 3162 | …
    МБОУ «СОШ №1 г.Урус-Мартан»(edu203389) | | 89 | …

Four reports are read: «Статистика по отметкам» (shares of marks 2–5), «Сравнение отметок с отметками по
журналу» (Понизили / Подтвердили / Повысили, % and count), «Выполнение заданий» (one column per task
number with its completion %; a row «Макс балл» or «Уровень сложности» may stand under the header) and
«Распределение первичных баллов» (one column per primary score with the % of participants). Which one
a sheet is comes from its title (or its sheet name), else from its columns; the work from the title
(«ВПР 2026 Русский язык 4 класс» → vpr-2026-ru-4) unless `--assessment` names it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from metodist.collection.importers import tabular
from metodist.collection.importers.base import (
    CellError,
    Parsed,
    Sheet,
    is_blank,
    normalise_header,
    parse_task_header,
    split_coded_name,
    text,
)

FORMAT = "federal-report"
HEADER_SEARCH_ROWS = 40
GROUP_HEADER = "группы участников"
PARTS = ("marks", "journal", "tasks", "scores")
#: words of a report's title (or of its sheet name, which Excel cuts at 31 characters) → part
TITLES = (
    ("статистика по отметкам", "marks"),
    ("сравнение отметок", "journal"),
    ("выполнение заданий", "tasks"),
    ("выполнения заданий", "tasks"),
    ("распределение первичных", "scores"),
)
#: first cells of the rows under (or over) the header that describe the columns, not a group
LABEL_ROWS = ("макс балл", "макс. балл", "максимальный балл", "уровень сложности", "уровень")
PROGRAMMES = {"впр": "vpr", "огэ": "oge", "егэ": "ege"}
TITLE_RE = re.compile(r"(ВПР|ОГЭ|ЕГЭ)\s+(\d{4})\s+(.+?)\s+(\d{1,2})\s*(?:-?\s*(?:й|ый))?\s+класс", re.IGNORECASE)
JOURNAL = (("понизили", "lower"), ("подтвердили", "confirmed"), ("повысили", "higher"))
NATIONAL_NAMES = ("вся выборка", "вся выборка (россия)", "российская федерация", "россия")
PART_NAMES = {
    "marks": gettext_lazy("«Статистика по отметкам»"),
    "journal": gettext_lazy("«Сравнение отметок с отметками по журналу»"),
    "tasks": gettext_lazy("«Выполнение заданий»"), "scores": gettext_lazy("«Распределение первичных баллов»"),
}


@dataclass
class ReportRow:
    row: int
    sheet: str
    part: str
    group_name: str
    level: str = ""
    key: str = ""
    code: str = ""
    name: str = ""
    schools: int | None = None
    participants: int | None = None
    values: dict[str, float | None] = field(default_factory=dict)
    journal: dict | None = None
    date: object = None
    organisation: object = None


@dataclass
class ReportSheet:
    sheet: Sheet
    header_index: int
    group_col: int
    part: str = ""
    assessment_code: str = ""
    title: str = ""
    date: object = None
    max_primary: int | None = None

    @property
    def header_row(self) -> int:
        return self.header_index + 1


def find_header(sheet: Sheet) -> tuple[int, int] | None:
    """(row index, column) of the «Группы участников» cell among the first rows of a sheet."""
    for index, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        for col, value in enumerate(row):
            if normalise_header(value) == GROUP_HEADER:
                return index, col
    return None


def sniff(sheets: list[Sheet]) -> int:
    """«Группы участников» heads only the federal system's standard reports: surer than any table."""
    return 12 if any(find_header(sheet) for sheet in sheets) else 0


def _part_of(words: str) -> str:
    for title, part in TITLES:
        if title in words:
            return part
    return ""


def _read_title(report: ReportSheet, parsed: Parsed) -> None:
    """Part, work, date and maximum from the rows over the header and from the sheet's name."""
    rows = report.sheet.rows[:report.header_index]
    for index, row in enumerate(rows):
        cells = [text(v) for v in row]
        for col, raw in enumerate(cells):
            if not raw:
                continue
            key = normalise_header(raw).rstrip(":").strip()
            if not report.part:
                report.part = _part_of(key)
            match = TITLE_RE.search(raw)
            if match and not report.title:
                report.title = raw
                report.assessment_code = _assessment_code(match)
            after = next((row[c] for c in range(col + 1, len(row)) if not is_blank(row[c])), None)
            if key == "дата" and after is not None:
                try:
                    report.date = tabular.parse_date(after)
                except CellError:
                    parsed.warning(_("Дата отчёта «{value}» не понята.").format(value=text(after)),
                                   sheet=report.sheet.name, row=index + 1)
            elif key == "максимальный первичный балл" and after is not None:
                try:
                    report.max_primary = int(tabular.parse_number(after))
                except (CellError, TypeError, ValueError):
                    report.max_primary = None
    if not report.part:
        report.part = _part_of(normalise_header(report.sheet.name))


def _assessment_code(match: re.Match) -> str:
    from metodist.collection.importers.vpr_form import SUBJECT_NAMES

    programme = PROGRAMMES[match.group(1).casefold()]
    name = normalise_header(match.group(3))
    subject = SUBJECT_NAMES.get(name) or tabular.subject_code(name) or ""
    if not subject:
        return "?" + match.group(3).strip()
    return f"{programme}-{match.group(2)}-{subject}-{int(match.group(4))}"


def _value_key(value: object) -> str | None:
    """A column of figures: a mark, a primary score or a task number (`1`, `9.1`, `4К2`, `1 (2б)`)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return text(value)
    task = parse_task_header(text(value).strip("«»\"' "))
    return task[0] if task else None


@dataclass
class Columns:
    schools: int | None = None
    participants: int | None = None
    values: dict[int, str] = field(default_factory=dict)  # column → mark, score or task number
    journal: dict[tuple[str, str], int] = field(default_factory=dict)  # (lower|confirmed|higher, pct|n) → column
    headers: dict[int, str] = field(default_factory=dict)


def _read_header(report: ReportSheet) -> Columns:
    row = report.sheet.rows[report.header_index]
    columns = Columns()
    for col, value in enumerate(row):
        if col == report.group_col or is_blank(value):
            continue
        raw = text(value)
        key = normalise_header(raw)
        columns.headers[col] = raw
        if key in ("кол-во оо", "количество оо"):
            columns.schools = col
        elif key.startswith(("кол-во участников", "количество участников", "кол-во уч")):
            columns.participants = col
        elif any(key.startswith(word) for word, _k in JOURNAL):
            kind = next(k for word, k in JOURNAL if key.startswith(word))
            measure = "pct" if "%" in key else "n"
            columns.journal.setdefault((kind, measure), col)
        else:
            number = _value_key(value)
            if number is not None:
                columns.values[col] = number
    return columns


def _guess_part(columns: Columns) -> str:
    if columns.journal:
        return "journal"
    keys = list(columns.values.values())
    if sorted(keys) == ["2", "3", "4", "5"]:
        return "marks"
    if keys and all(k.isdigit() for k in keys) and "0" in keys:
        return "scores"
    return "tasks" if keys else ""


def _check_header(report: ReportSheet, columns: Columns, parsed: Parsed, spec_tasks: dict[str, int] | None) -> bool:
    """Whether the columns are those of the report's part; every problem goes to the header row."""
    where = {"sheet": report.sheet.name, "row": report.header_row}
    before = len(parsed.errors)
    part = report.part
    keys = list(columns.values.values())
    if part == "marks":
        missing = [m for m in ("2", "3", "4", "5") if m not in keys]
        if missing:
            parsed.error(_("В отчёте «Статистика по отметкам» нет столбцов отметок {marks}: в заголовке должны быть "
                           "столбцы «2», «3», «4», «5».").format(marks=", ".join(f"«{m}»" for m in missing)), **where)
    elif part == "journal":
        missing = [word for word, kind in JOURNAL if (kind, "pct") not in columns.journal]
        if missing:
            parsed.error(_("В отчёте «Сравнение отметок с отметками по журналу» нет столбцов с долями "
                           "(%): {names}.").format(names=", ".join(f"«{w.capitalize()}»" for w in missing)), **where)
    elif part == "scores":
        wrong = [k for k in keys if not k.isdigit()]
        if wrong or not keys:
            parsed.error(_("В отчёте «Распределение первичных баллов» столбцы после «Кол-во участников» должны быть "
                           "первичными баллами 0, 1, 2, …"), **where)
    elif part == "tasks":
        if not keys:
            parsed.error(_("В отчёте «Выполнение заданий» нет столбцов с номерами заданий."), **where)
        elif spec_tasks is not None:
            for col, number in columns.values.items():
                if number not in spec_tasks:
                    parsed.error(_("Задания {task} нет в спецификации работы: проверьте, что выбрана верная "
                                   "работа.").format(task=number), column=columns.headers.get(col, ""), **where)
    else:
        parsed.error(_("Не удалось понять, какой это отчёт ФИС ОКО: ожидается «Статистика по отметкам», "
                       "«Сравнение отметок с отметками по журналу», «Выполнение заданий» или «Распределение "
                       "первичных баллов»."), **where)
    return len(parsed.errors) == before


def _integer(value: object) -> int:
    number = tabular.parse_number(value)
    if number is None:
        raise CellError(value)
    if not float(number).is_integer() or number < 0:
        raise CellError(value)
    return int(number)


def _level(name: str, code: str, seen_levels: set[str]) -> str:
    if normalise_header(name) in NATIONAL_NAMES and not code:
        return "national"
    lowered = code.casefold()
    if lowered.startswith(("edu", "sch")):
        return "school"
    if re.search(r"_m\d+$", lowered):
        return "municipality"
    if lowered.startswith("reg"):
        return "region"
    if not code and not seen_levels & {"region", "municipality", "school"}:
        return "region"
    return ""


def _read_rows(report: ReportSheet, columns: Columns, parsed: Parsed, spec_tasks: dict[str, int] | None) -> list[ReportRow]:
    sheet = report.sheet
    header = sheet.rows[report.header_index]
    rows: list[ReportRow] = []
    seen: dict[str, int] = {}
    levels: set[str] = set()

    def column(col: int | None) -> str:
        return text(header[col]) if col is not None and col < len(header) else ""

    def cell(cells: list, col: int | None) -> object:
        return cells[col] if col is not None and col < len(cells) else None

    for index in range(report.header_index + 1, len(sheet.rows)):
        cells = sheet.rows[index]
        if all(is_blank(v) for v in cells):
            continue
        line = index + 1
        error = functools.partial(parsed.error, sheet=sheet.name, row=line)
        name = text(cell(cells, report.group_col))
        label = normalise_header(name).rstrip(":").strip()
        if not name or label in LABEL_ROWS:
            _check_maximums(report, columns, cells, label, parsed, spec_tasks, line)
            continue
        code, short = split_coded_name(name)
        record = ReportRow(row=line, sheet=sheet.name, part=report.part, group_name=name[:500], code=code,
                           name=short or name, date=report.date)
        record.level = _level(short or name, code, levels)
        if not record.level:
            parsed.warning(_("Не понятно, к какому уровню относится группа «{name}»: у неё нет кода организации. "
                             "Строка пропущена.").format(name=name), sheet=sheet.name, row=line,
                           column=column(report.group_col))
            continue
        levels.add(record.level)
        record.key = code or normalise_header(short or name)
        if record.key in seen:
            error(_("Группа «{name}» уже есть в строке {first}.").format(name=name, first=seen[record.key]),
                  column=column(report.group_col))
        else:
            seen[record.key] = line
        for attr, col in (("schools", columns.schools), ("participants", columns.participants)):
            value = cell(cells, col)
            if is_blank(value):
                continue
            try:
                setattr(record, attr, _integer(value))
            except CellError:
                error(_("«{value}» не является числом участников или организаций.").format(value=text(value)),
                      column=column(col))
        for col, number in columns.values.items():
            record.values[number] = _percent(cell(cells, col), error, column(col))
        if report.part == "journal":
            record.journal = {"total": record.participants}
            for _word, kind in JOURNAL:
                record.journal[f"{kind}_pct"] = _percent(cell(cells, columns.journal.get((kind, "pct"))), error,
                                                         column(columns.journal.get((kind, "pct"))))
                count_col = columns.journal.get((kind, "n"))
                value = cell(cells, count_col)
                try:
                    record.journal[kind] = None if is_blank(value) else _integer(value)
                except CellError:
                    record.journal[kind] = None
                    error(_("«{value}» не является числом участников.").format(value=text(value)),
                          column=column(count_col))
        if report.part == "marks":
            shares = [v for v in record.values.values() if v is not None]
            if len(shares) == 4 and abs(sum(shares) - 100) > 0.5:
                parsed.warning(_("Доли отметок группы «{name}» в сумме дают {total} %, а не 100 %.").format(
                    name=name, total=f"{sum(shares):.2f}".replace(".", ",")), sheet=sheet.name, row=line)
        rows.append(record)
    return rows


def _percent(value: object, error, column: str) -> float | None:
    if is_blank(value) or text(value) in ("-", "—"):
        return None
    try:
        number = tabular.parse_number(value)
    except CellError:
        error(_("«{value}» не является процентом.").format(value=text(value)), column=column)
        return None
    if number is None:
        return None
    if not 0 <= number <= 100:
        error(_("Процент {value} вне пределов от 0 до 100.").format(value=text(value)), column=column)
        return None
    return number


def _check_maximums(report, columns, cells, label, parsed, spec_tasks, line) -> None:
    """A «Макс балл» row of a task completion report, checked against the work's specification."""
    if report.part != "tasks" or not spec_tasks or label.startswith("уровень"):
        return
    for col, number in columns.values.items():
        value = cells[col] if col < len(cells) else None
        try:
            maximum = None if is_blank(value) else _integer(value)
        except CellError:
            continue
        if maximum is not None and number in spec_tasks and spec_tasks[number] != maximum:
            parsed.warning(_("Максимальный балл задания {task} в отчёте {report}, а в спецификации работы {spec}.").format(
                task=number, report=maximum, spec=spec_tasks[number]), sheet=report.sheet.name, row=line,
                column=text(report.sheet.rows[report.header_index][col]))


def _resolve_organisations(rows: list[ReportRow]) -> None:
    """The organisation of each row: by its code; a municipality or school without a known code by its
    exact name; a region by its name, else as the region of the file's municipalities and schools."""
    from django.db.models import Q

    from metodist.core.models import Organisation, OrganisationKind

    by_code = {o.code: o for o in Organisation.objects.filter(code__in={r.code for r in rows if r.code})}
    kinds = {"region": OrganisationKind.REGION, "municipality": OrganisationKind.MUNICIPALITY,
             "school": OrganisationKind.SCHOOL}
    for record in rows:
        if record.level == "national":
            continue
        organisation = by_code.get(record.code) if record.code else None
        if organisation is None and record.level != "region":
            found = list(Organisation.objects.filter(kind=kinds[record.level]).filter(
                Q(short_name=record.name) | Q(full_name=record.name))[:2])
            organisation = found[0] if len(found) == 1 else None
        record.organisation = organisation
    # the region of the file's municipalities and schools: the first step of their paths, when it is a region
    roots = {int(r.organisation.path.strip("/").split("/")[0]) for r in rows
             if r.organisation is not None and r.level in ("municipality", "school") and r.organisation.path.strip("/")}
    regions = list(Organisation.objects.filter(pk__in=roots, kind=OrganisationKind.REGION))
    for record in rows:
        if record.level != "region" or record.organisation is not None:
            continue
        found = list(Organisation.objects.filter(kind=OrganisationKind.REGION).filter(
            Q(short_name=record.name) | Q(full_name=record.name))[:2])
        if len(found) == 1:
            record.organisation = found[0]
        elif len(regions) == 1 and len(roots) == 1:
            record.organisation = regions[0]


def parse_reports(path: Path, sheets: list[Sheet], parsed: Parsed, assessment_code: str | None):
    """The report sheets of a file and the work they are about; (reports, code) with problems in `parsed`."""
    reports = []
    for sheet in sheets:
        found = find_header(sheet)
        if found is None:
            continue
        report = ReportSheet(sheet=sheet, header_index=found[0], group_col=found[1])
        _read_title(report, parsed)
        reports.append(report)
    if not reports:
        return reports, None
    codes = {r.assessment_code for r in reports if r.assessment_code}
    if assessment_code:
        for code in sorted(c for c in codes if c != assessment_code.strip().lower()):
            parsed.warning(_("В заголовке отчёта указана работа «{title}», а загружается как {code}.").format(
                title=code.lstrip("?"), code=assessment_code))
        return reports, assessment_code.strip().lower()
    if len(codes) > 1:
        parsed.error(_("Листы файла относятся к разным работам ({codes}): загрузите их отдельными файлами или "
                       "укажите работу.").format(codes=", ".join(sorted(c.lstrip("?") for c in codes))))
        return reports, None
    code = next(iter(codes), None)
    if code is None:
        parsed.error(_("В заголовке отчёта не найдено название работы (например, «ВПР 2026 Русский язык 4 класс»). "
                       "Укажите код работы, например vpr-2026-ru-4."))
    elif code.startswith("?"):
        parsed.error(_("Предмет «{name}» в заголовке отчёта не понят. Укажите код работы, например "
                       "vpr-2026-ru-4.").format(name=code[1:]))
        code = None
    return reports, code


def import_parsed(path: Path, sheets: list[Sheet], *, checksum: str, options, outcome):
    from metodist.reference.models import Assessment, PublishedResult

    path = Path(path)
    parsed = Parsed(format=FORMAT, file=path.name)
    reports, code = parse_reports(path, sheets, parsed, options.assessment)
    if not reports:
        return tabular.reject_without_header(
            path, parsed, _("Не найдена строка заголовка отчёта ФИС ОКО: в ней должен быть столбец «Группы "
                            "участников»."), checksum=checksum, options=options, outcome=outcome)
    assessment = Assessment.objects.filter(code=code).first() if code else None
    if code and assessment is None:
        parsed.error(_("Работа с кодом «{code}» не найдена. Загрузите её спецификацию или укажите код работы "
                       "(--assessment).").format(code=code))
    spec_tasks = dict(assessment.tasks.values_list("number", "max_score")) if assessment else None
    rows: list[ReportRow] = []
    blocking = assessment is None
    parts_seen: dict[str, str] = {}
    for report in reports:
        columns = _read_header(report)
        if not report.part:
            report.part = _guess_part(columns)
        if not _check_header(report, columns, parsed, spec_tasks):
            blocking = True
            continue
        if report.part in parts_seen:
            parsed.error(_("Отчёт {report} встречается в файле дважды (листы «{first}» и «{second}»).").format(
                report=PART_NAMES[report.part], first=parts_seen[report.part], second=report.sheet.name),
                sheet=report.sheet.name, row=report.header_row)
            blocking = True
            continue
        parts_seen[report.part] = report.sheet.name
        if assessment is not None and report.max_primary and report.max_primary != assessment.max_primary:
            parsed.warning(_("Максимальный первичный балл в отчёте {report}, а в спецификации работы {code} — "
                             "{spec}.").format(report=report.max_primary, code=assessment.code,
                                               spec=assessment.max_primary), sheet=report.sheet.name)
        rows.extend(_read_rows(report, columns, parsed, spec_tasks))
    _resolve_organisations(rows)
    if blocking and not parsed.errors:
        parsed.error(_("Файл не похож на отчёт ФИС ОКО."))

    def current(good: list[ReportRow]) -> dict:
        keys = {r.key for r in good}
        return {(p.level, p.key): p for p in PublishedResult.objects.filter(assessment=assessment, key__in=keys)}

    def unchanged(previous, good: list[ReportRow]) -> bool:
        have = current(good)
        return all((r.level, r.key) in have and _part_state(have[(r.level, r.key)], r.part) == _record_state(r)
                   for r in good)

    def save(upload, good: list[ReportRow]) -> dict:
        have = current(good)
        previous = {p.upload_id for p in have.values()}
        created = updated = 0
        counts = dict.fromkeys(PARTS, 0)
        for record in good:
            item = have.get((record.level, record.key))
            if item is None:
                item = PublishedResult(assessment=assessment, level=record.level, key=record.key[:500])
                have[(record.level, record.key)] = item
                created += 1
            else:
                updated += 1
            item.group_name = record.group_name
            item.organisation_code = record.code[:64]
            item.organisation = record.organisation or item.organisation
            _apply(item, record)
            item.upload = upload
            item.source_file = path.name[:500]
            item.sources = {**(item.sources or {}), record.part: path.name}
            if record.date:
                item.report_date = record.date
            item.save()
            counts[record.part] += 1
        replaced = tabular.mark_replaced(upload, previous,
                                         lambda pk: PublishedResult.objects.filter(upload_id=pk).exists())
        upload.organisation = tabular.common_parent([r.organisation for r in good if r.organisation is not None])
        return {"published_rows": len(good), "published_created": created, "published_updated": updated,
                "replaced_uploads": replaced, **{f"rows_{part}": n for part, n in counts.items() if n}}

    return tabular.complete(
        path, parsed, checksum=checksum, options=options, outcome=outcome, rows=rows, save=save,
        blocking=blocking, unchanged=unchanged, assessment=assessment,
        done_message=lambda c: _("Загружены опубликованные результаты ФИС ОКО: строк {count}.").format(
            count=c.get("published_rows", 0)),
    )


def _record_state(record: ReportRow):
    if record.part == "marks":
        return record.schools, record.participants, {k: record.values.get(k) for k in ("2", "3", "4", "5")}
    if record.part == "journal":
        return record.journal
    return dict(record.values)


def _part_state(item, part: str):
    if part == "marks":
        return item.schools_count, item.participants, item.marks_pct
    if part == "journal":
        return item.journal
    return item.solve_rate_pct if part == "tasks" else item.score_distribution_pct


def _apply(item, record: ReportRow) -> None:
    """Write the part of the report the row brings; the participants and schools of «Статистика по
    отметкам» win, the other reports fill them only when they are not known yet."""
    if record.part == "marks":
        item.schools_count = record.schools
        item.participants = record.participants
        item.marks_pct = {k: record.values.get(k) for k in ("2", "3", "4", "5")}
        return
    if record.part != "journal":
        if item.participants is None:
            item.participants = record.participants
        if item.schools_count is None:
            item.schools_count = record.schools
    if record.part == "journal":
        item.journal = record.journal
    elif record.part == "tasks":
        item.solve_rate_pct = dict(record.values)
    else:
        item.score_distribution_pct = dict(record.values)
