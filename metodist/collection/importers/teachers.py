"""Staff and teaching load: who teaches which subject in which classes in a school year.

    Код школы | ФИО | Код учителя | Предмет | Учебный год | Классы | Категория | Стаж

One row per teacher × subject × year. A teacher is found by his code within the school when the file
gives one, else by his full name within the school, and is created when he is not there yet.
"The same file" is the load of the same schools in the same year: importing a file replaces the
teaching assignments of every (school, year) it contains with the ones it lists; teachers and classes
are kept (results refer to them), their attributes updated.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from metodist.collection.importers import tabular
from metodist.collection.importers.base import CellError, Parsed, Sheet
from metodist.core.models import AcademicYear, SchoolClass, Teacher, TeachingAssignment
from metodist.reference.specs import subject as subject_of

FORMAT = "teachers"

COLUMNS = {
    "school": ("Код школы", "Код ОО", "Код образовательной организации"),
    "full_name": ("ФИО", "ФИО учителя", "Учитель"),
    "code": ("Код учителя", "Табельный номер"),
    "subject": ("Предмет",),
    "year": ("Учебный год",),
    "classes": ("Классы", "Класс"),
    "category": ("Категория", "Квалификационная категория"),
    "experience": ("Стаж", "Педагогический стаж", "Стаж, лет"),
}
REQUIRED = frozenset({"school", "full_name", "subject", "year", "classes"})
CLASS_RE = re.compile(r"^(\d{1,2})\s*-?\s*[\"«]?([А-Яа-яЁёA-Za-z]{0,3}|\d{0,2})[\"»]?$")


@dataclass
class LoadRow:
    row: int
    school_code: str
    full_name: str
    code: str = ""
    subject: str = ""
    year: int | None = None
    classes: list[tuple[int, str]] = field(default_factory=list)
    category: str | None = None
    experience: int | None = None
    school: object = None


def sniff(sheets: list[Sheet]) -> int:
    return tabular.sniff_table(sheets, COLUMNS, REQUIRED)


def parse_classes(value: str) -> list[tuple[int, str]]:
    """`5А, 5Б, 6в` → [(5, 'А'), (5, 'Б'), (6, 'В')]; raises CellError for a part that is not a class."""
    result = []
    for part in re.split(r"[,;]", value):
        part = " ".join(part.split())
        if not part:
            continue
        match = CLASS_RE.match(part)
        if not match or not 1 <= int(match.group(1)) <= 11:
            raise CellError(part)
        item = (int(match.group(1)), match.group(2).upper().replace("Ё", "Е"))
        if item not in result:
            result.append(item)
    return result


def _read(table: tabular.Table, parsed: Parsed) -> list[LoadRow]:
    rows = []
    for line in table.rows():
        error = functools.partial(line.error, parsed)

        record = LoadRow(row=line.line, school_code=line.text("school"), full_name=" ".join(line.text("full_name").split())[:255],
                         code=line.text("code")[:64])
        if not record.school_code:
            error(_("Не указан код школы."), "school")
        if not record.full_name:
            error(_("Не указано ФИО учителя."), "full_name")
        subject_raw = line.text("subject")
        record.subject = tabular.subject_code(subject_raw) or ""
        if not record.subject:
            error(_("Предмет «{value}» не понят: укажите код (ma, ru, …) или название предмета.").format(
                value=subject_raw), "subject")
        try:
            record.year = tabular.parse_academic_year(line.get("year"))
        except CellError:
            record.year = None
        if record.year is None:
            error(_("Учебный год «{value}» не понят: ожидается, например, 2024/2025.").format(
                value=line.text("year")), "year")
        try:
            record.classes = parse_classes(line.text("classes"))
        except CellError as exc:
            error(_("Класс «{value}» не понят: ожидается номер и буква, например 5А.").format(value=exc.args[0]),
                  "classes")
        try:
            record.category = tabular.parse_choice(line.get("category"), tabular.CATEGORIES)
        except CellError:
            error(_("Категория «{value}» не понята: ожидается высшая, первая, соответствие или без категории.").format(
                value=line.text("category")), "category")
        try:
            experience = tabular.parse_number(line.get("experience"))
            if experience is not None and not (0 <= experience <= 70 and float(experience).is_integer()):
                raise CellError(experience)
            record.experience = int(experience) if experience is not None else None
        except CellError:
            error(_("Стаж «{value}» не понят: ожидается целое число лет.").format(value=line.text("experience")),
                  "experience")
        rows.append(record)
    return rows


def _key(record: LoadRow) -> tuple:
    return (record.school_code, "code", record.code) if record.code else (
        record.school_code, "name", tabular.header_key(record.full_name))


def _resolve(rows: list[LoadRow], table: tabular.Table, parsed: Parsed, user) -> bool:
    schools = tabular.SchoolResolver(parsed, user)
    schools.codes(r.school_code for r in rows)
    first: dict[tuple, LoadRow] = {}
    seen_load: dict[tuple, int] = {}
    for record in rows:
        if record.school_code:
            record.school = schools.get(record.school_code, record.row, table.column("school"), table.sheet.name)
        key = _key(record)
        earlier = first.get(key)
        if earlier is None:
            first[key] = record
        else:
            for name, label in (("category", table.column("category")), ("experience", table.column("experience"))):
                a, b = getattr(earlier, name), getattr(record, name)
                if a is not None and b is not None and a != b:
                    parsed.warning(_("У этого учителя в строке {first} указано другое значение; принято значение "
                                     "из последней строки.").format(first=earlier.row), sheet=table.sheet.name,
                                   row=record.row, column=label)
        load = (key, record.subject, record.year)
        if record.subject and record.year and load in seen_load:
            parsed.error(_("Этот учитель, предмет и учебный год уже указаны в строке {first}.").format(
                first=seen_load[load]), sheet=table.sheet.name, row=record.row, column=table.column("subject"))
        else:
            seen_load.setdefault(load, record.row)
    return schools.blocking


def _teacher_plan(good: list[LoadRow]):
    """Each teacher of the rows with what the file says of him: (school, code, name, category, experience,
    subjects)."""
    teachers: dict[tuple, dict] = {}
    for record in good:
        item = teachers.setdefault(_key(record), {
            "school": record.school, "code": record.code, "full_name": record.full_name, "category": None,
            "experience": None, "subjects": set(),
        })
        item["full_name"] = record.full_name
        if record.category is not None:
            item["category"] = record.category
        if record.experience is not None:
            item["experience"] = record.experience
        item["subjects"].add(record.subject)
    return teachers


def _find(index: tabular.TeacherIndex, item: dict):
    school = item["school"]
    if item["code"]:
        teacher = index.by_code.get((school.pk, item["code"]))
        if teacher is None:  # known by name, now given a code
            uncoded = [t for t in index.by_name.get((school.pk, tabular.header_key(item["full_name"])), [])
                       if not t.code]
            teacher = uncoded[0] if len(uncoded) == 1 else None
        return teacher
    found = index.by_name.get((school.pk, tabular.header_key(item["full_name"])), [])
    return found[0] if found else None


def _teacher_changes(teacher, item: dict) -> dict:
    changes = {}
    if teacher.full_name != item["full_name"]:
        changes["full_name"] = item["full_name"]
    if item["code"] and teacher.code != item["code"]:
        changes["code"] = item["code"]
    if item["category"] is not None and teacher.qualification_category != item["category"]:
        changes["qualification_category"] = item["category"]
    if item["experience"] is not None and teacher.experience_years != item["experience"]:
        changes["experience_years"] = item["experience"]
    return changes


def _scope(good: list[LoadRow]) -> set[tuple[int, int]]:
    return {(r.school.pk, r.year) for r in good}


def _current_assignments(scope: set[tuple[int, int]]) -> set[tuple]:
    result = set()
    for school_id, year in scope:
        for item in TeachingAssignment.objects.filter(
            school_class__school_id=school_id, school_class__academic_year__start_year=year
        ).values_list("teacher_id", "school_class__grade", "school_class__letter", "subject__code"):
            result.add((school_id, year, *item))
    return result


def import_parsed(path: Path, sheets: list[Sheet], *, checksum: str, options, outcome):
    path = Path(path)
    parsed = Parsed(format=FORMAT, file=path.name)
    table = tabular.find_table(sheets, COLUMNS, REQUIRED)
    if table is None:
        return tabular.reject_without_header(
            path, parsed, tabular.missing_columns_message(COLUMNS, REQUIRED, _("списка учителей")),
            checksum=checksum, options=options, outcome=outcome)
    rows = _read(table, parsed)
    blocking = _resolve(rows, table, parsed, options.acting_user)

    def unchanged(previous, good: list[LoadRow]) -> bool:
        index = tabular.TeacherIndex({r.school for r in good})
        wanted = set()
        for key, item in _teacher_plan(good).items():
            teacher = _find(index, item)
            if teacher is None or _teacher_changes(teacher, item):
                return False
            if not item["subjects"] <= set(teacher.subjects.values_list("code", flat=True)):
                return False
            for record in good:
                if _key(record) == key:
                    wanted |= {(record.school.pk, record.year, teacher.pk, g, letter, record.subject)
                               for g, letter in record.classes}
        return wanted == _current_assignments(_scope(good))

    def save(upload, good: list[LoadRow]) -> dict:
        index = tabular.TeacherIndex({r.school for r in good})
        created = updated = 0
        by_key = {}
        for key, item in _teacher_plan(good).items():
            teacher = _find(index, item)
            if teacher is None:
                teacher = Teacher.objects.create(
                    school=item["school"], full_name=item["full_name"], code=item["code"],
                    qualification_category=item["category"] or "none", experience_years=item["experience"])
                index.add(teacher)
                created += 1
            else:
                changes = _teacher_changes(teacher, item)
                if changes:
                    for name, value in changes.items():
                        setattr(teacher, name, value)
                    teacher.save(update_fields=list(changes))
                    updated += 1
            teacher.subjects.add(*[subject_of(code) for code in sorted(item["subjects"])])
            by_key[key] = teacher
        scope = _scope(good)
        before = _current_assignments(scope)
        years = {year: AcademicYear.objects.get_or_create(start_year=year)[0] for _s, year in scope}
        for school_id, year in scope:
            TeachingAssignment.objects.filter(
                school_class__school_id=school_id, school_class__academic_year=years[year]).delete()
        classes: dict[tuple, SchoolClass] = {}
        assignments = {}
        subjects = {}
        for record in good:
            year = years[record.year]
            subject = subjects.setdefault(record.subject, subject_of(record.subject))
            for grade, letter in record.classes:
                class_key = (record.school.pk, record.year, grade, letter)
                if class_key not in classes:
                    classes[class_key] = SchoolClass.objects.get_or_create(
                        school=record.school, academic_year=year, grade=grade, letter=letter)[0]
                teacher = by_key[_key(record)]
                assignments[(classes[class_key].pk, subject.pk, teacher.pk)] = TeachingAssignment(
                    teacher=teacher, school_class=classes[class_key], subject=subject)
        TeachingAssignment.objects.bulk_create(list(assignments.values()))
        after = _current_assignments(scope)
        schools = [r.school for r in good]
        upload.organisation = tabular.common_parent(list({s.pk: s for s in schools}.values()))
        return {
            "teachers_created": created, "teachers_updated": updated, "classes": len(classes),
            "assignments": len(assignments), "assignments_removed": len(before - after),
            "schools": len({s.pk for s in schools}),
        }

    return tabular.complete(
        path, parsed, checksum=checksum, options=options, outcome=outcome, rows=rows, save=save,
        header_row=table.header_row, blocking=blocking, unchanged=unchanged,
        done_message=lambda c: _("Загружено: учителей новых {created}, изменено {updated}; уроков в классах "
                                 "{assignments}.").format(created=c.get("teachers_created", 0),
                                                          updated=c.get("teachers_updated", 0),
                                                          assignments=c.get("assignments", 0)),
    )
