"""Attestation of teachers with the difficulties the expert group noted, one row per difficulty.

    Код школы | ФИО | Код учителя | Дата | Категория | Область компетенций | Затруднение | Заключение

The rows of one teacher and date make one attestation; its difficulties are [{"area", "text"}] in the
order of the rows. "The same file" is the attestations of the same schools on the same dates: importing
replaces every attestation of a teacher of the file's schools held on a date the file names.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from metodist.collection.importers import tabular
from metodist.collection.importers.base import CellError, Parsed, Sheet
from metodist.collection.models import Attestation

FORMAT = "attestation"

COLUMNS = {
    "school": ("Код школы", "Код ОО"),
    "full_name": ("ФИО", "ФИО учителя", "Учитель"),
    "code": ("Код учителя",),
    "date": ("Дата", "Дата аттестации"),
    "category": ("Категория", "Квалификационная категория"),
    "area": ("Область компетенций", "Область"),
    "difficulty": ("Затруднение", "Затруднения"),
    "note": ("Заключение", "Заключение экспертной группы"),
}
REQUIRED = frozenset({"school", "full_name", "date", "category", "difficulty"})


@dataclass
class NoteRow:
    row: int
    school_code: str
    full_name: str
    code: str
    held_on: dt.date | None = None
    category: str | None = None
    area: str = "subject"
    difficulty: str = ""
    note: str = ""
    category_given: bool = False
    school: object = None
    teacher: object = None


def sniff(sheets: list[Sheet]) -> int:
    return tabular.sniff_table(sheets, COLUMNS, REQUIRED)


def _read(table: tabular.Table, parsed: Parsed) -> list[NoteRow]:
    rows = []
    for line in table.rows():
        error = functools.partial(line.error, parsed)

        record = NoteRow(row=line.line, school_code=line.text("school"),
                         full_name=" ".join(line.text("full_name").split())[:255], code=line.text("code")[:64],
                         difficulty=line.text("difficulty"), note=line.text("note"),
                         category_given=line.has("category"))
        if not record.school_code:
            error(_("Не указан код школы."), "school")
        if not record.full_name and not record.code:
            error(_("Не указан учитель: заполните ФИО или код учителя."), "full_name")
        try:
            record.held_on = tabular.parse_date(line.get("date"))
        except CellError:
            record.held_on = None
        if record.held_on is None:
            error(_("Дата «{value}» не понята: ожидается, например, 24.05.2025.").format(value=line.text("date")),
                  "date")
        try:
            record.category = tabular.parse_choice(line.get("category"), tabular.CATEGORIES)
        except CellError:
            error(_("Категория «{value}» не понята: ожидается высшая, первая, соответствие или без категории.").format(
                value=line.text("category")), "category")
        try:
            record.area = tabular.parse_choice(line.get("area"), tabular.COMPETENCE_AREAS) or "subject"
        except CellError:
            error(_("Область компетенций «{value}» не понята: ожидается предметные, методические, "
                    "психолого-педагогические, коммуникативные или цифровые.").format(value=line.text("area")), "area")
        rows.append(record)
    return rows


def _resolve(rows: list[NoteRow], table: tabular.Table, parsed: Parsed, user) -> bool:
    sheet = table.sheet.name
    schools = tabular.SchoolResolver(parsed, user)
    schools.codes(r.school_code for r in rows)
    for record in rows:
        if record.school_code:
            record.school = schools.get(record.school_code, record.row, table.column("school"), sheet)
    index = tabular.TeacherIndex({r.school for r in rows if r.school})
    first: dict[tuple, NoteRow] = {}
    for record in rows:
        if record.school is None or not (record.code or record.full_name):
            continue
        record.teacher, why = index.find(record.school, record.code, record.full_name)
        if record.teacher is None:
            parsed.error(tabular.teacher_problem(why, record.school_code, record.code), sheet=sheet, row=record.row,
                         column=table.column("code" if record.code else "full_name"))
            continue
        if record.held_on is None:
            continue
        earlier = first.setdefault((record.teacher.pk, record.held_on), record)
        if earlier is record:
            continue
        if record.category is not None and earlier.category is not None and record.category != earlier.category:
            parsed.error(_("Категория отличается от указанной для этой аттестации в строке {first}.").format(
                first=earlier.row), sheet=sheet, row=record.row, column=table.column("category"))
        if record.note and earlier.note and record.note != earlier.note:
            parsed.error(_("Заключение отличается от указанного для этой аттестации в строке {first}.").format(
                first=earlier.row), sheet=sheet, row=record.row, column=table.column("note"))
    given = {(r.teacher.pk, r.held_on) for r in rows if r.teacher is not None and r.category_given}
    for key, record in first.items():
        if key not in given:
            parsed.error(_("Не указана категория, на которую аттестуется учитель."), sheet=sheet, row=record.row,
                         column=table.column("category"))
    return schools.blocking


def _plan(good: list[NoteRow]) -> dict[tuple, dict]:
    plan: dict[tuple, dict] = {}
    for record in good:
        item = plan.setdefault((record.teacher.pk, record.held_on), {
            "teacher": record.teacher, "held_on": record.held_on, "category": None, "note": "", "difficulties": []})
        item["category"] = item["category"] or record.category
        item["note"] = item["note"] or record.note
        if record.difficulty:
            item["difficulties"].append({"area": record.area, "text": record.difficulty})
    return {key: item for key, item in plan.items() if item["category"]}


def _existing(good: list[NoteRow]):
    scope = defaultdict(set)
    for record in good:
        scope[record.held_on].add(record.school.pk)
    result = Attestation.objects.none()
    for held_on, schools in scope.items():
        result = result | Attestation.objects.filter(held_on=held_on, teacher__school_id__in=schools)
    return result


def import_parsed(path: Path, sheets: list[Sheet], *, checksum: str, options, outcome):
    path = Path(path)
    parsed = Parsed(format=FORMAT, file=path.name)
    table = tabular.find_table(sheets, COLUMNS, REQUIRED)
    if table is None:
        return tabular.reject_without_header(
            path, parsed, tabular.missing_columns_message(COLUMNS, REQUIRED, _("аттестации")),
            checksum=checksum, options=options, outcome=outcome)
    rows = _read(table, parsed)
    blocking = _resolve(rows, table, parsed, options.acting_user)

    def unchanged(previous, good) -> bool:
        have = {(a.teacher_id, a.held_on): (a.category, a.note, a.difficulties) for a in _existing(good)}
        want = {key: (i["category"], i["note"], i["difficulties"]) for key, i in _plan(good).items()}
        return have == want

    def save(upload, good: list[NoteRow]) -> dict:
        old = _existing(good)
        previous = set(old.values_list("upload_id", flat=True))
        removed = old.delete()[0]
        plan = _plan(good)
        Attestation.objects.bulk_create([
            Attestation(teacher=i["teacher"], held_on=i["held_on"], category=i["category"], note=i["note"],
                        difficulties=i["difficulties"], upload=upload) for i in plan.values()])
        replaced = tabular.mark_replaced(upload, previous, lambda pk: Attestation.objects.filter(upload_id=pk).exists())
        upload.organisation = tabular.common_parent(list({r.school.pk: r.school for r in good}.values()))
        return {"attestations": len(plan), "difficulties": sum(len(i["difficulties"]) for i in plan.values()),
                "attestations_replaced": removed, "replaced_uploads": replaced}

    return tabular.complete(
        path, parsed, checksum=checksum, options=options, outcome=outcome, rows=rows, save=save,
        header_row=table.header_row, blocking=blocking, unchanged=unchanged,
        done_message=lambda c: _("Загружено аттестаций: {count}, затруднений: {difficulties}.").format(
            count=c.get("attestations", 0), difficulties=c.get("difficulties", 0)),
    )
