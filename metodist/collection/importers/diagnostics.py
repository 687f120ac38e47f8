"""Subject tests of teachers (предметная оценка учителей), one row per teacher × topic.

    Код школы | ФИО | Код учителя | Предмет | Диагностика | Дата | Тема | Код КЭС | Область компетенций | Балл | Максимум
    (optional: Кодификатор `vpr-ma-5`, or Класс `5`, to say whose КЭС codes these are)

The rows of one teacher, subject, diagnostic title and date make one diagnostic; its score is the sum
of its topics. A topic with a `Код КЭС` is linked to that content element: codes are per codifier (a
work family such as `vpr-ma-5`), so a code found in several codifiers of the subject is linked only when
the row names its codifier or grade.
"The same file" is the same diagnostics (titles) of the same schools: importing replaces every
diagnostic with a title of the file taken by teachers of the file's schools.
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
from metodist.collection.models import DiagnosticScore, TeacherDiagnostic
from metodist.reference.models import ContentElement
from metodist.reference.specs import subject as subject_of

FORMAT = "diagnostics"

COLUMNS = {
    "school": ("Код школы", "Код ОО"),
    "full_name": ("ФИО", "ФИО учителя", "Учитель"),
    "code": ("Код учителя",),
    "subject": ("Предмет",),
    "title": ("Диагностика", "Название диагностики"),
    "date": ("Дата", "Дата диагностики", "Дата проведения"),
    "topic": ("Тема",),
    "element": ("Код КЭС", "КЭС"),
    "codifier": ("Кодификатор",),
    "grade": ("Класс", "Параллель"),
    "area": ("Область компетенций", "Область"),
    "score": ("Балл",),
    "max_score": ("Максимум", "Максимальный балл"),
}
REQUIRED = frozenset({"school", "full_name", "subject", "title", "date", "score", "max_score"})


@dataclass
class TopicRow:
    row: int
    school_code: str
    full_name: str
    code: str
    subject: str = ""
    title: str = ""
    taken_on: dt.date | None = None
    topic: str = ""
    element_code: str = ""
    codifier: str = ""
    grade: str = ""
    area: str = "subject"
    score: float | None = None
    max_score: float | None = None
    school: object = None
    teacher: object = None
    element: object = None


def sniff(sheets: list[Sheet]) -> int:
    return tabular.sniff_table(sheets, COLUMNS, REQUIRED)


def _read(table: tabular.Table, parsed: Parsed) -> list[TopicRow]:
    rows = []
    for line in table.rows():
        where = {"sheet": table.sheet.name, "row": line.line}
        error = functools.partial(line.error, parsed)

        record = TopicRow(row=line.line, school_code=line.text("school"),
                          full_name=" ".join(line.text("full_name").split())[:255], code=line.text("code")[:64],
                          title=line.text("title")[:255], topic=line.text("topic")[:500],
                          element_code=line.text("element"), codifier=line.text("codifier").lower(),
                          grade=line.text("grade"))
        if not record.school_code:
            error(_("Не указан код школы."), "school")
        if not record.full_name and not record.code:
            error(_("Не указан учитель: заполните ФИО или код учителя."), "full_name")
        record.subject = tabular.subject_code(line.get("subject")) or ""
        if not record.subject:
            error(_("Предмет «{value}» не понят: укажите код (ma, ru, …) или название предмета.").format(
                value=line.text("subject")), "subject")
        if not record.title:
            error(_("Не указано название диагностики."), "title")
        try:
            record.taken_on = tabular.parse_date(line.get("date"))
        except CellError:
            record.taken_on = None
        if record.taken_on is None:
            error(_("Дата «{value}» не понята: ожидается, например, 24.05.2025.").format(value=line.text("date")),
                  "date")
        try:
            record.area = tabular.parse_choice(line.get("area"), tabular.COMPETENCE_AREAS) or "subject"
        except CellError:
            error(_("Область компетенций «{value}» не понята: ожидается предметные, методические, "
                    "психолого-педагогические, коммуникативные или цифровые.").format(value=line.text("area")), "area")
        for name in ("score", "max_score"):
            try:
                setattr(record, name, tabular.parse_number(line.get(name)))
            except CellError:
                error(_("«{value}» не является числом.").format(value=line.text(name)), name)
                continue
            if getattr(record, name) is None:
                error(_("Не указан балл.") if name == "score" else _("Не указан максимальный балл."), name)
            elif getattr(record, name) < 0:
                error(_("Балл не может быть отрицательным."), name)
        if record.score is not None and record.max_score is not None and record.score > record.max_score:
            error(_("Балл ({score:g}) больше максимального ({max:g}).").format(
                score=record.score, max=record.max_score), "score")
        if not record.topic and not record.element_code:
            parsed.warning(_("Не указана тема: балл учтён как результат по области компетенций."),
                           column=table.column("topic"), **where)
        rows.append(record)
    return rows


def _element(record: TopicRow) -> tuple[ContentElement | None, list[str]]:
    """The content element a topic's code names: in the named codifier (`vpr-ma-5`), or in the codifier
    of the named grade, or in the only codifier of the subject that has the code. Returns the element
    (None when not found or ambiguous) and the codifiers that have the code."""
    found = ContentElement.objects.filter(subject__code=record.subject, code=record.element_code)
    if record.codifier:
        found = found.filter(codifier=record.codifier)
    elif record.grade.isdigit():
        found = found.filter(codifier__endswith=f"-{int(record.grade)}")
    by_codifier = {element.codifier: element for element in found}
    if len(by_codifier) == 1:
        return next(iter(by_codifier.values())), list(by_codifier)
    return None, sorted(by_codifier)


def _resolve(rows: list[TopicRow], table: tabular.Table, parsed: Parsed, user) -> bool:
    sheet = table.sheet.name
    schools = tabular.SchoolResolver(parsed, user)
    schools.codes(r.school_code for r in rows)
    for record in rows:
        if record.school_code:
            record.school = schools.get(record.school_code, record.row, table.column("school"), sheet)
    index = tabular.TeacherIndex({r.school for r in rows if r.school})
    elements: dict[tuple, tuple[ContentElement | None, list[str]]] = {}
    seen: dict[tuple, int] = {}
    for record in rows:
        if record.school is not None and (record.code or record.full_name):
            record.teacher, why = index.find(record.school, record.code, record.full_name)
            if record.teacher is None:
                parsed.error(tabular.teacher_problem(why, record.school_code, record.code), sheet=sheet,
                             row=record.row, column=table.column("code" if record.code else "full_name"))
        if record.element_code and record.subject:
            key = (record.subject, record.element_code, record.codifier, record.grade)
            if key not in elements:
                elements[key] = _element(record)
            record.element, candidates = elements[key]
            if record.element is None and len(candidates) > 1:
                # the same code means different topics in the codifiers of different grades: never guess
                parsed.warning(_("Код КЭС {code} есть в нескольких кодификаторах ({codifiers}); укажите класс или "
                                 "кодификатор. Тема сохранена текстом.").format(
                                     code=record.element_code, codifiers=", ".join(candidates)),
                               sheet=sheet, row=record.row, column=table.column("element"))
            elif record.element is None:
                parsed.warning(_("Элемента содержания {code} по этому предмету нет в кодификаторах; тема сохранена "
                                 "текстом.").format(code=record.element_code), sheet=sheet, row=record.row,
                               column=table.column("element"))
                if not record.topic:
                    record.topic = record.element_code
            elif not record.topic:
                record.topic = record.element.name[:500]
        if record.teacher is not None:
            key = (record.teacher.pk, record.subject, record.title, record.taken_on, record.topic, record.area)
            if key in seen:
                parsed.error(_("Эта тема этой диагностики учителя уже указана в строке {first}.").format(
                    first=seen[key]), sheet=sheet, row=record.row, column=table.column("topic"))
            else:
                seen[key] = record.row
    return schools.blocking


def _scope(good: list[TopicRow]):
    scope = defaultdict(set)
    for record in good:
        scope[record.title].add(record.school.pk)
    return scope


def _existing(scope):
    result = TeacherDiagnostic.objects.none()
    for title, schools in scope.items():
        result = result | TeacherDiagnostic.objects.filter(title=title, teacher__school_id__in=schools)
    return result


def _content(diagnostics) -> set:
    return {
        (d.teacher_id, d.subject.code, d.title, d.taken_on, s.topic, s.content_element_id, s.competence_area,
         s.score, s.max_score)
        for d in diagnostics.select_related("subject").prefetch_related("scores") for s in d.scores.all()
    }


def import_parsed(path: Path, sheets: list[Sheet], *, checksum: str, options, outcome):
    path = Path(path)
    parsed = Parsed(format=FORMAT, file=path.name)
    table = tabular.find_table(sheets, COLUMNS, REQUIRED)
    if table is None:
        return tabular.reject_without_header(
            path, parsed, tabular.missing_columns_message(COLUMNS, REQUIRED, _("диагностики учителей")),
            checksum=checksum, options=options, outcome=outcome)
    rows = _read(table, parsed)
    blocking = _resolve(rows, table, parsed, options.acting_user)

    def wanted(good):
        return {(r.teacher.pk, r.subject, r.title, r.taken_on, r.topic,
                 r.element.pk if r.element else None, r.area, r.score, r.max_score) for r in good}

    def unchanged(previous, good) -> bool:
        return _content(_existing(_scope(good))) == wanted(good)

    def save(upload, good: list[TopicRow]) -> dict:
        old = _existing(_scope(good))
        previous = set(old.values_list("upload_id", flat=True))
        DiagnosticScore.objects.filter(diagnostic__in=old).delete()
        removed = old.delete()[1].get(TeacherDiagnostic._meta.label, 0)
        groups: dict[tuple, list[TopicRow]] = defaultdict(list)
        for record in good:
            groups[(record.teacher.pk, record.subject, record.title, record.taken_on)].append(record)
        scores = []
        for (_t, subject_code, title, taken_on), records in groups.items():
            diagnostic = TeacherDiagnostic.objects.create(
                teacher=records[0].teacher, subject=subject_of(subject_code), title=title, taken_on=taken_on,
                score=sum(r.score for r in records), max_score=sum(r.max_score for r in records), upload=upload)
            scores += [DiagnosticScore(diagnostic=diagnostic, topic=r.topic, content_element=r.element,
                                       competence_area=r.area, score=r.score, max_score=r.max_score) for r in records]
        DiagnosticScore.objects.bulk_create(scores)
        replaced = tabular.mark_replaced(
            upload, previous, lambda pk: TeacherDiagnostic.objects.filter(upload_id=pk).exists())
        upload.organisation = tabular.common_parent(list({r.school.pk: r.school for r in good}.values()))
        return {"diagnostics": len(groups), "topics": len(scores), "diagnostics_replaced": removed,
                "replaced_uploads": replaced}

    return tabular.complete(
        path, parsed, checksum=checksum, options=options, outcome=outcome, rows=rows, save=save,
        header_row=table.header_row, blocking=blocking, unchanged=unchanged,
        done_message=lambda c: _("Загружено диагностик: {count}, результатов по темам: {topics}.").format(
            count=c.get("diagnostics", 0), topics=c.get("topics", 0)),
    )
