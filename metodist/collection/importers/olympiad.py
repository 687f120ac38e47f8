"""Results of the All-Russian olympiad (ВсОШ), one row per pupil × subject × stage.

    Код школы | Фамилия | Имя | Отчество | Дата рождения | Класс | Предмет | Учебный год | Этап | Статус |
    Балл | Максимальный балл

A pupil is stored only as the keyed pseudonym of his surname, name, patronymic and birth date
(`core.models.pseudonym`); the names and the birth date are read, hashed and dropped, never stored and
never repeated in a message. "The same file" is the results of the same schools in the same subjects,
years and stages: importing replaces them.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from metodist.collection.importers import tabular
from metodist.collection.importers.base import CellError, Parsed, Sheet
from metodist.collection.models import OlympiadResult, OlympiadStage, OlympiadStatus
from metodist.core.models import AcademicYear, Pupil, pseudonym
from metodist.reference.specs import subject as subject_of

FORMAT = "olympiad"
BATCH = 5000

COLUMNS = {
    "school": ("Код школы", "Код ОО"),
    "surname": ("Фамилия",),
    "name": ("Имя",),
    "patronymic": ("Отчество",),
    "birth_date": ("Дата рождения",),
    "grade": ("Класс", "Класс обучения"),
    "subject": ("Предмет",),
    "year": ("Учебный год",),
    "stage": ("Этап",),
    "status": ("Статус", "Статус участника"),
    "score": ("Балл", "Результат", "Набранный балл"),
    "max_score": ("Максимальный балл", "Максимум"),
}
REQUIRED = frozenset({"school", "surname", "name", "grade", "subject", "year", "stage", "status", "score"})
STAGES = {"школьный": OlympiadStage.SCHOOL, "муниципальный": OlympiadStage.MUNICIPAL,
          "региональный": OlympiadStage.REGIONAL, "заключительный": OlympiadStage.FINAL}
STAGES.update({s.value: s for s in OlympiadStage})
STATUSES = {"участник": OlympiadStatus.PARTICIPANT, "призер": OlympiadStatus.PRIZE_WINNER,
            "победитель": OlympiadStatus.WINNER}
STATUSES.update({s.value: s for s in OlympiadStatus})


@dataclass
class OlympiadRow:
    row: int
    school_code: str
    pupil_key: str = ""  # the pseudonym: the only trace of the pupil's identity
    grade: int | None = None
    subject: str = ""
    year: int | None = None
    stage: str = ""
    status: str = ""
    score: float | None = None
    max_score: float | None = None
    school: object = None


def sniff(sheets: list[Sheet]) -> int:
    return tabular.sniff_table(sheets, COLUMNS, REQUIRED)


def _read(table: tabular.Table, parsed: Parsed) -> list[OlympiadRow]:
    rows = []
    for line in table.rows():
        error = functools.partial(line.error, parsed)

        record = OlympiadRow(row=line.line, school_code=line.text("school"))
        if not record.school_code:
            error(_("Не указан код школы."), "school")
        surname, name, patronymic = line.text("surname"), line.text("name"), line.text("patronymic")
        if not surname:
            error(_("Не указана фамилия участника."), "surname")
        if not name:
            error(_("Не указано имя участника."), "name")
        try:
            birth_date = tabular.parse_date(line.get("birth_date"))
        except CellError:
            birth_date = None
            error(_("Дата рождения не понята: ожидается, например, 31.12.2012."), "birth_date")
        else:
            if birth_date is None and "birth_date" in table.columns:
                error(_("Не указана дата рождения: без неё участников с одинаковыми ФИО не различить."),
                      "birth_date")
        record.pupil_key = pseudonym("person", surname, name, patronymic, birth_date.isoformat() if birth_date else "")
        try:
            record.grade = tabular.parse_grade(line.get("grade"))
        except CellError:
            error(_("Класс «{value}» не понят: ожидается число от 1 до 11.").format(value=line.text("grade")), "grade")
        record.subject = tabular.subject_code(line.get("subject")) or ""
        if not record.subject:
            error(_("Предмет «{value}» не понят: укажите код (ma, ru, …) или название предмета.").format(
                value=line.text("subject")), "subject")
        try:
            record.year = tabular.parse_academic_year(line.get("year"))
        except CellError:
            error(_("Учебный год «{value}» не понят: ожидается, например, 2024/2025.").format(
                value=line.text("year")), "year")
        if record.year is None and not line.has("year"):
            error(_("Не указан учебный год."), "year")
        if record.grade is None and not line.has("grade"):
            error(_("Не указан класс."), "grade")
        for name_, choices, message in (
            ("stage", STAGES, _("Этап «{value}» не понят: ожидается школьный, муниципальный, региональный или "
                                "заключительный.")),
            ("status", STATUSES, _("Статус «{value}» не понят: ожидается участник, призёр или победитель.")),
        ):
            try:
                value = tabular.parse_choice(line.get(name_), choices)
            except CellError:
                value = None
            if value is None:
                error(message.format(value=line.text(name_)), name_)
            setattr(record, name_, value or "")
        for name_ in ("score", "max_score"):
            try:
                value = tabular.parse_number(line.get(name_))
            except CellError:
                error(_("«{value}» не является числом.").format(value=line.text(name_)), name_)
                continue
            if value is not None and value < 0:
                error(_("Балл не может быть отрицательным."), name_)
                continue
            setattr(record, name_, value)
        if record.score is not None and record.max_score is not None and record.score > record.max_score:
            error(_("Балл ({score:g}) больше максимального ({max:g}).").format(score=record.score, max=record.max_score),
                  "score")
        rows.append(record)
    return rows


def _resolve(rows: list[OlympiadRow], table: tabular.Table, parsed: Parsed, user) -> bool:
    sheet = table.sheet.name
    schools = tabular.SchoolResolver(parsed, user)
    schools.codes(r.school_code for r in rows)
    seen: dict[tuple, int] = {}
    for record in rows:
        if record.school_code:
            record.school = schools.get(record.school_code, record.row, table.column("school"), sheet)
        key = (record.pupil_key, record.subject, record.year, record.stage)
        if record.subject and record.year and record.stage:
            if key in seen:
                parsed.error(_("Результат этого участника по этому предмету и этапу уже указан в строке {first}.").format(
                    first=seen[key]), sheet=sheet, row=record.row, column=table.column("surname"))
            else:
                seen[key] = record.row
    return schools.blocking


def _scope(good):
    scope = defaultdict(set)
    for record in good:
        scope[(record.subject, record.year, record.stage)].add(record.school.pk)
    return scope


def _existing(good):
    result = OlympiadResult.objects.none()
    for (subject, year, stage), schools in _scope(good).items():
        result = result | OlympiadResult.objects.filter(
            subject__code=subject, academic_year__start_year=year, stage=stage, school_id__in=schools)
    # a pupil of the file whose result in the same subject, year and stage was brought under another school
    wanted = {(r.pupil_key, r.subject, r.year, r.stage) for r in good}
    keys = sorted({r.pupil_key for r in good})
    clash = []
    for start in range(0, len(keys), BATCH):
        for pk, *key in OlympiadResult.objects.filter(pupil__pseudonym__in=keys[start:start + BATCH]).values_list(
                "pk", "pupil__pseudonym", "subject__code", "academic_year__start_year", "stage"):
            if tuple(key) in wanted:
                clash.append(pk)
    if clash:
        result = result | OlympiadResult.objects.filter(pk__in=clash)
    return result


def _state(record) -> tuple:
    return (record.pupil_key, record.school.pk, record.subject, record.year, record.grade, record.stage,
            record.status, record.score, record.max_score)


def import_parsed(path: Path, sheets: list[Sheet], *, checksum: str, options, outcome):
    path = Path(path)
    parsed = Parsed(format=FORMAT, file=path.name)
    table = tabular.find_table(sheets, COLUMNS, REQUIRED)
    if table is None:
        return tabular.reject_without_header(
            path, parsed, tabular.missing_columns_message(COLUMNS, REQUIRED, _("результатов олимпиады")),
            checksum=checksum, options=options, outcome=outcome)
    rows = _read(table, parsed)
    blocking = _resolve(rows, table, parsed, options.acting_user)

    def unchanged(previous, good) -> bool:
        have = {(r.pupil.pseudonym, r.school_id, r.subject.code, r.academic_year.start_year, r.grade, r.stage,
                 r.status, r.score, r.max_score)
                for r in _existing(good).select_related("pupil", "subject", "academic_year")}
        return have == {_state(r) for r in good}

    def save(upload, good: list[OlympiadRow]) -> dict:
        old = _existing(good)
        previous = set(old.values_list("upload_id", flat=True))
        removed = old.delete()[0]
        keys = {r.pupil_key for r in good}
        pupils = dict(Pupil.objects.filter(pseudonym__in=keys).values_list("pseudonym", "pk"))
        new = {}
        for record in good:
            if record.pupil_key not in pupils and record.pupil_key not in new:
                new[record.pupil_key] = Pupil(pseudonym=record.pupil_key, school=record.school)
        for pupil in Pupil.objects.bulk_create(list(new.values())):
            pupils[pupil.pseudonym] = pupil.pk
        years = {y: AcademicYear.objects.get_or_create(start_year=y)[0] for y in {r.year for r in good}}
        subjects = {c: subject_of(c) for c in {r.subject for r in good}}
        OlympiadResult.objects.bulk_create([
            OlympiadResult(pupil_id=pupils[r.pupil_key], school=r.school, subject=subjects[r.subject],
                           academic_year=years[r.year], grade=r.grade, stage=r.stage, status=r.status,
                           score=r.score, max_score=r.max_score, upload=upload) for r in good])
        replaced = tabular.mark_replaced(
            upload, previous, lambda pk: OlympiadResult.objects.filter(upload_id=pk).exists())
        upload.organisation = tabular.common_parent(list({r.school.pk: r.school for r in good}.values()))
        return {"results": len(good), "pupils_created": len(new), "results_replaced": removed,
                "replaced_uploads": replaced}

    return tabular.complete(
        path, parsed, checksum=checksum, options=options, outcome=outcome, rows=rows, save=save,
        header_row=table.header_row, blocking=blocking, unchanged=unchanged,
        done_message=lambda c: _("Загружено результатов олимпиады: {count}.").format(count=c.get("results", 0)),
    )
