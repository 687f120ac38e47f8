"""Questionnaires of teachers (course participants and others), one row per respondent.

    Анкетирование | Этап | Дата | Организация | Код школы | Код учителя | Код респондента |
    Удовлетворённость | <one column per question, its header the question text>

`Организация` is the code of who runs the survey (an institute, a municipality, a school). A
respondent is a teacher when the row gives the school and teacher codes, else anonymous, known by
his respondent code. "The same file" is the same survey (organisation, title, stage, date): importing
replaces all its answers.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from metodist.collection.importers import tabular
from metodist.collection.importers.base import CellError, Parsed, Sheet, text
from metodist.collection.models import Survey, SurveyResponse, SurveyStage

FORMAT = "survey"

COLUMNS = {
    "title": ("Анкетирование", "Анкета", "Название анкетирования"),
    "stage": ("Этап", "Этап анкетирования"),
    "date": ("Дата", "Дата проведения"),
    "organisation": ("Организация", "Код организации", "Кто проводит"),
    "school": ("Код школы", "Код ОО"),
    "teacher": ("Код учителя",),
    "respondent": ("Код респондента", "Респондент"),
    "satisfaction": ("Удовлетворенность", "Удовлетворенность (1-5)", "Удовлетворенность (1–5)"),
}
REQUIRED = frozenset({"title", "stage", "date", "organisation"})
STAGES = {
    "докурсовое": SurveyStage.PRE_COURSE, "докурсовая": SurveyStage.PRE_COURSE,
    "входное": SurveyStage.ENTRY, "входная": SurveyStage.ENTRY,
    "промежуточное": SurveyStage.INTERIM, "промежуточная": SurveyStage.INTERIM,
    "итоговое": SurveyStage.FINAL, "итоговая": SurveyStage.FINAL,
}
STAGES.update({s.value: s for s in SurveyStage})


@dataclass
class ResponseRow:
    row: int
    title: str
    stage: str = ""
    conducted_on: dt.date | None = None
    organisation_code: str = ""
    school_code: str = ""
    teacher_code: str = ""
    respondent: str = ""
    satisfaction: int | None = None
    answers: dict = field(default_factory=dict)
    organisation: object = None
    teacher: object = None

    @property
    def survey_key(self) -> tuple:
        return (self.organisation.pk, self.title, self.stage, self.conducted_on)


def sniff(sheets: list[Sheet]) -> int:
    return tabular.sniff_table(sheets, COLUMNS, REQUIRED)


def _read(table: tabular.Table, parsed: Parsed) -> list[ResponseRow]:
    rows = []
    for line in table.rows():
        error = functools.partial(line.error, parsed)

        record = ResponseRow(row=line.line, title=line.text("title")[:255],
                             organisation_code=line.text("organisation"), school_code=line.text("school"),
                             teacher_code=line.text("teacher"), respondent=line.text("respondent")[:64])
        if not record.title:
            error(_("Не указано название анкетирования."), "title")
        try:
            record.stage = tabular.parse_choice(line.get("stage"), STAGES) or ""
        except CellError:
            record.stage = ""
        if not record.stage:
            error(_("Этап «{value}» не понят: ожидается докурсовое, входное, промежуточное или итоговое.").format(
                value=line.text("stage")), "stage")
        try:
            record.conducted_on = tabular.parse_date(line.get("date"))
        except CellError:
            record.conducted_on = None
        if record.conducted_on is None:
            error(_("Дата «{value}» не понята: ожидается, например, 24.05.2025.").format(value=line.text("date")),
                  "date")
        if not record.organisation_code:
            error(_("Не указан код организации, которая проводит анкетирование."), "organisation")
        if record.teacher_code and not record.school_code:
            error(_("Указан код учителя, но не указан код школы."), "school")
        raw = line.text("satisfaction")
        if raw:
            try:
                value = tabular.parse_number(raw)
                if value is None or not value.is_integer() or not 1 <= value <= 5:
                    raise CellError(raw)
                record.satisfaction = int(value)
            except CellError:
                error(_("Удовлетворённость «{value}» не понята: ожидается число от 1 до 5.").format(value=raw),
                      "satisfaction")
        for col, header in table.extra:
            value = text(line.cells[col]) if col < len(line.cells) else ""
            if value:
                record.answers[header] = value
        rows.append(record)
    return rows


def _resolve(rows: list[ResponseRow], table: tabular.Table, parsed: Parsed, user) -> bool:
    sheet = table.sheet.name
    organisers = tabular.SchoolResolver(parsed, user, kinds=tuple(k for k, _n in _kinds()), what="organisation")
    schools = tabular.SchoolResolver(parsed, None)
    for record in rows:
        if record.organisation_code:
            record.organisation = organisers.get(record.organisation_code, record.row,
                                                 table.column("organisation"), sheet)
        if record.school_code and record.teacher_code:
            school = schools.get(record.school_code, record.row, table.column("school"), sheet)
            if school is not None:
                index = tabular.TeacherIndex([school])
                record.teacher, why = index.find(school, record.teacher_code, "")
                if record.teacher is None:
                    parsed.error(tabular.teacher_problem(why, record.school_code, record.teacher_code),
                                 sheet=sheet, row=record.row, column=table.column("teacher"))
    seen: dict[tuple, int] = {}
    for record in rows:
        who = ("teacher", record.teacher.pk) if record.teacher else (
            ("respondent", record.respondent) if record.respondent else None)
        if who is None or record.organisation is None:
            continue
        key = (record.survey_key, who)
        if key in seen:
            parsed.error(_("Этот респондент уже ответил на эту анкету в строке {first}.").format(first=seen[key]),
                         sheet=sheet, row=record.row,
                         column=table.column("teacher" if record.teacher else "respondent"))
        else:
            seen[key] = record.row
    return organisers.blocking


def _kinds():
    from metodist.core.models import OrganisationKind

    return OrganisationKind.choices


def _surveys(good: list[ResponseRow]) -> dict[tuple, list[ResponseRow]]:
    groups: dict[tuple, list[ResponseRow]] = {}
    for record in good:
        groups.setdefault(record.survey_key, []).append(record)
    return groups


def _questions(records: list[ResponseRow], table: tabular.Table) -> list[str]:
    asked = {h for r in records for h in r.answers}
    return [header for _c, header in table.extra if header in asked] or [h for _c, h in table.extra]


def _find_survey(key: tuple) -> Survey | None:
    organisation_id, title, stage, conducted_on = key
    return Survey.objects.filter(organisation_id=organisation_id, title=title, stage=stage,
                                 conducted_on=conducted_on).first()


def _response_key(record) -> tuple:
    import json

    return (record.teacher.pk if record.teacher else None, record.respondent,
            json.dumps(record.answers, sort_keys=True, ensure_ascii=False), record.satisfaction)


def import_parsed(path: Path, sheets: list[Sheet], *, checksum: str, options, outcome):
    path = Path(path)
    parsed = Parsed(format=FORMAT, file=path.name)
    table = tabular.find_table(sheets, COLUMNS, REQUIRED)
    if table is None:
        return tabular.reject_without_header(
            path, parsed, tabular.missing_columns_message(COLUMNS, REQUIRED, _("анкетирования")),
            checksum=checksum, options=options, outcome=outcome)
    rows = _read(table, parsed)
    blocking = _resolve(rows, table, parsed, options.acting_user)

    def unchanged(previous, good) -> bool:
        import json

        for key, records in _surveys(good).items():
            survey = _find_survey(key)
            if survey is None or survey.questions != _questions(records, table):
                return False
            have = Counter((r.teacher_id, r.respondent, json.dumps(r.answers, sort_keys=True, ensure_ascii=False),
                            r.satisfaction) for r in survey.responses.all())
            if have != Counter(map(_response_key, records)):
                return False
        return True

    def save(upload, good: list[ResponseRow]) -> dict:
        created = 0
        responses = []
        previous: set = set()
        removed = 0
        for key, records in _surveys(good).items():
            survey = _find_survey(key)
            questions = _questions(records, table)
            if survey is None:
                organisation_id, title, stage, conducted_on = key
                survey = Survey.objects.create(organisation_id=organisation_id, title=title, stage=stage,
                                               conducted_on=conducted_on, questions=questions)
                created += 1
            else:
                previous |= set(survey.responses.values_list("upload_id", flat=True))
                removed += survey.responses.all().delete()[0]
                if survey.questions != questions:
                    survey.questions = questions
                    survey.save(update_fields=["questions"])
            responses += [SurveyResponse(survey=survey, teacher=r.teacher, respondent=r.respondent, answers=r.answers,
                                         satisfaction=r.satisfaction, upload=upload) for r in records]
        SurveyResponse.objects.bulk_create(responses)
        replaced = tabular.mark_replaced(
            upload, previous, lambda pk: SurveyResponse.objects.filter(upload_id=pk).exists())
        upload.organisation = tabular.common_parent(list({r.organisation.pk: r.organisation for r in good}.values()))
        return {"surveys": len(_surveys(good)), "surveys_created": created, "responses": len(responses),
                "responses_replaced": removed, "replaced_uploads": replaced}

    return tabular.complete(
        path, parsed, checksum=checksum, options=options, outcome=outcome, rows=rows, save=save,
        header_row=table.header_row, blocking=blocking, unchanged=unchanged,
        done_message=lambda c: _("Загружено анкет: {responses} (анкетирований: {surveys}).").format(
            responses=c.get("responses", 0), surveys=c.get("surveys", 0)),
    )
