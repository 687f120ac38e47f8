"""An assessment specification as a methodologist writes it in a workbook:

    sheet «Работа»   two columns, name | value: Код, Программа, Предмет, Класс, Год, Название, Источник
                     (optional: Варианты, Максимальный первичный балл, Кто проводит, Примечание к шкале)
    sheet «Задания»  Номер | Максимальный балл | Тип | Уровень | КЭС | КТ | Описание (codes separated by «;»)
    sheet «Шкала»    Отметка | Минимальный балл  (or Первичный балл | Тестовый балл for an ЕГЭ test scale)
    sheets «КЭС», «КТ» (optional)  Код | Название

It becomes the dict of `reference.specs` and is saved by `save_spec`. "The same file" is the
specification of the same work (its code): importing a corrected one updates the work in place; its
tasks are matched by number, so results already loaded keep their tasks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from metodist.collection.importers import tabular
from metodist.collection.importers.base import CellError, Parsed, Sheet, parse_int, text
from metodist.reference.models import Assessment, Programme

FORMAT = "spec"

WORK_SHEET, TASKS_SHEET, SCALE_SHEET = "работа", "задания", "шкала"
WORK_FIELDS = {
    "код": "code", "код работы": "code", "программа": "programme", "предмет": "subject", "класс": "grade",
    "год": "year", "год проведения": "year", "название": "title", "источник": "source", "варианты": "variants",
    "максимальный первичный балл": "max_primary", "максимальный балл": "max_primary", "кто проводит": "owner",
    "организация": "owner", "примечание к шкале": "grade_scale_note", "неполная": "partial",
    "чего не хватает": "partial_reason",
}
TASK_COLUMNS = {
    "number": ("Номер", "Номер задания", "Задание"),
    "max_score": ("Максимальный балл", "Максимум"),
    "task_type": ("Тип", "Тип задания"),
    "level": ("Уровень", "Уровень сложности"),
    "content_elements": ("КЭС", "Коды КЭС", "Элементы содержания"),
    "skills": ("КТ", "Коды КТ", "Умения", "ПР"),
    "description": ("Описание", "Что проверяет"),
}
SCALE_COLUMNS = {"mark": ("Отметка",), "minimum": ("Минимальный балл", "Минимальный первичный балл")}
TEST_SCALE_COLUMNS = {"primary": ("Первичный балл",), "test": ("Тестовый балл",)}
CODE_COLUMNS = {"code": ("Код",), "name": ("Название", "Наименование")}
PROGRAMMES = {"впр": "VPR", "огэ": "OGE", "егэ": "EGE", "региональный мониторинг": "REGIONAL",
              "муниципальный мониторинг": "MUNICIPAL", "школьная диагностика": "SCHOOL"}
PROGRAMMES.update({p.value.casefold(): p.value for p in Programme})
TASK_TYPES = {"ко": "short", "краткий": "short", "с кратким ответом": "short", "short": "short", "во": "short",
              "ро": "extended", "развернутый": "extended", "с развернутым ответом": "extended",
              "extended": "extended"}
LEVELS = {"б": "B", "b": "B", "базовый": "B", "п": "P", "p": "P", "повышенный": "P", "в": "V", "v": "V",
          "высокий": "V"}


@dataclass
class SpecRecord:
    row: int | None
    data: dict


def _sheet(sheets: list[Sheet], name: str) -> Sheet | None:
    for sheet in sheets:
        if tabular.header_key(sheet.name) == name:
            return sheet
    return None


def sniff(sheets: list[Sheet]) -> int:
    work, tasks = _sheet(sheets, WORK_SHEET), _sheet(sheets, TASKS_SHEET)
    if work is None or tasks is None:
        return 0
    if tabular.find_table([tasks], TASK_COLUMNS, {"number", "max_score"}) is None:
        return 0
    return 10


def _codes(value: object) -> list[str]:
    return [c.strip() for c in re.split(r"[;\n]", text(value)) if c.strip()]


def _read(sheets: list[Sheet], parsed: Parsed) -> dict:
    data: dict = {}
    work = _sheet(sheets, WORK_SHEET)
    where = {"sheet": work.name}
    for index, row in enumerate(work.rows):
        if not row or not text(row[0]):
            continue
        key = WORK_FIELDS.get(tabular.header_key(row[0]))
        value = row[1] if len(row) > 1 else None
        if key is None or tabular.is_blank(value):
            continue
        line = {"row": index + 1, "column": text(row[0]), **where}
        raw = text(value)
        if key == "programme":
            data[key] = PROGRAMMES.get(raw.casefold())
            if data[key] is None:
                parsed.error(_("Программа «{value}» не понята: ожидается ВПР, ОГЭ, ЕГЭ, региональный или "
                               "муниципальный мониторинг.").format(value=raw), **line)
        elif key == "subject":
            data[key] = tabular.subject_code(value)
            if data[key] is None:
                parsed.error(_("Предмет «{value}» не понят: укажите код (ma, ru, …) или название предмета.").format(
                    value=raw), **line)
        elif key in ("grade", "year", "max_primary"):
            try:
                number = parse_int(value)
                limits = {"grade": (1, 11), "year": (2000, 2100), "max_primary": (1, 1000)}[key]
                if not limits[0] <= number <= limits[1]:
                    raise CellError(value)
                data[key] = number
            except CellError:
                parsed.error(_("«{value}» не подходит: ожидается целое число от {low} до {high}.").format(
                    value=raw, low=limits[0], high=limits[1]), **line)
        elif key == "variants":
            try:
                data[key] = [parse_int(v) for v in re.split(r"[;,\s]+", raw) if v]
            except CellError:
                parsed.error(_("Варианты «{value}» не поняты: перечислите номера через «;».").format(value=raw), **line)
        elif key == "partial":
            try:
                data[key] = tabular.parse_yes_no(value)
            except CellError:
                parsed.error(_("Ожидается «да» или «нет»."), **line)
        else:
            data[key] = raw
    if "code" in data:
        data["code"] = data["code"].lower()
    data["tasks"] = _tasks(sheets, parsed)
    _scale(sheets, parsed, data)
    for sheet_name, key in (("кэс", "content_elements"), ("кт", "skills")):
        sheet = _sheet(sheets, sheet_name)
        if sheet is None:
            continue
        table = tabular.find_table([sheet], CODE_COLUMNS, {"code"})
        if table is None:
            parsed.error(_("На листе «{sheet}» не найдена строка заголовка «Код | Название».").format(sheet=sheet.name),
                         sheet=sheet.name)
            continue
        data[key] = [{"code": line.text("code"), "name": line.text("name")} for line in table.rows()
                     if line.text("code")]
    return data


def _tasks(sheets: list[Sheet], parsed: Parsed) -> list[dict]:
    sheet = _sheet(sheets, TASKS_SHEET)
    table = tabular.find_table([sheet], TASK_COLUMNS, {"number", "max_score"})
    if table is None:
        parsed.error(_("На листе «{sheet}» не найдена строка заголовка: нужны столбцы «Номер» и «Максимальный "
                       "балл».").format(sheet=sheet.name), sheet=sheet.name)
        return []
    tasks = []
    for line in table.rows():
        where = {"sheet": sheet.name, "row": line.line}
        number = line.text("number")
        if not number:
            parsed.error(_("Не указан номер задания."), column=table.column("number"), **where)
            continue
        task = {"number": number, "content_elements": _codes(line.get("content_elements")),
                "skills": _codes(line.get("skills")), "description": line.text("description")}
        try:
            maximum = parse_int(line.get("max_score"))
            if maximum is None or maximum < 0:
                raise CellError(line.get("max_score"))
            task["max_score"] = maximum
        except CellError:
            parsed.error(_("Максимальный балл задания {task} «{value}» не понят: ожидается целое число.").format(
                task=number, value=line.text("max_score")), column=table.column("max_score"), **where)
            task["max_score"] = 0
        for name, choices, message in (
            ("task_type", TASK_TYPES, _("Тип задания {task} «{value}» не понят: ожидается КО (краткий ответ) или "
                                        "РО (развёрнутый ответ).")),
            ("level", LEVELS, _("Уровень задания {task} «{value}» не понят: ожидается Б, П или В.")),
        ):
            try:
                value = tabular.parse_choice(line.get(name), choices)
            except CellError:
                value = None
                parsed.error(message.format(task=number, value=line.text(name)), column=table.column(name), **where)
            if value:
                task[name] = value
        tasks.append(task)
    return tasks


def _scale(sheets: list[Sheet], parsed: Parsed, data: dict) -> None:
    sheet = _sheet(sheets, SCALE_SHEET)
    if sheet is None:
        return
    table = tabular.find_table([sheet], SCALE_COLUMNS, {"mark", "minimum"})
    if table is not None:
        scale = {}
        for line in table.rows():
            where = {"sheet": sheet.name, "row": line.line}
            try:
                mark = parse_int(line.get("mark"))
                if mark is None or not 2 <= mark <= 5:
                    raise CellError(mark)
            except CellError:
                parsed.error(_("Отметка «{value}» не понята: ожидается 2, 3, 4 или 5.").format(
                    value=line.text("mark")), column=table.column("mark"), **where)
                continue
            try:
                minimum = parse_int(line.get("minimum"))
                if minimum is None or minimum < 0:
                    raise CellError(minimum)
            except CellError:
                parsed.error(_("Минимальный балл «{value}» не понят: ожидается целое число.").format(
                    value=line.text("minimum")), column=table.column("minimum"), **where)
                continue
            if mark in scale:
                parsed.error(_("Отметка {mark} указана дважды.").format(mark=mark), column=table.column("mark"),
                             **where)
            scale[mark] = minimum
        data["grade_scale"] = scale
        return
    table = tabular.find_table([sheet], TEST_SCALE_COLUMNS, {"primary", "test"})
    if table is None:
        parsed.error(_("На листе «{sheet}» не найдена строка заголовка «Отметка | Минимальный балл».").format(
            sheet=sheet.name), sheet=sheet.name)
        return
    points = {}
    for line in table.rows():
        try:
            points[parse_int(line.get("primary"))] = parse_int(line.get("test"))
        except CellError:
            parsed.error(_("Ожидаются целые числа."), sheet=sheet.name, row=line.line)
    if points and sorted(points) != list(range(len(points))):
        parsed.error(_("Первичные баллы шкалы должны идти подряд от 0."), sheet=sheet.name)
    data["test_scale"] = [points[k] for k in sorted(points)]


def _check_access(data: dict, parsed: Parsed, user) -> object:
    """The owner organisation (when named) and the rights of a user who is not an administrator."""
    from metodist.core.models import Organisation

    owner = None
    if data.get("owner"):
        owner = Organisation.objects.filter(code=data["owner"]).first()
        if owner is None:
            parsed.error(_("Организации с кодом {code} нет в реестре организаций.").format(code=data["owner"]),
                         sheet="Работа")
    if user is None or user.is_superuser:
        return owner
    visible = Organisation.objects.visible_to(user)
    existing = Assessment.objects.filter(code=data.get("code", "")).select_related("owner").first()
    if owner is None or not visible.filter(pk=owner.pk).exists() or (
        existing is not None and (existing.owner is None or not visible.filter(pk=existing.owner_id).exists())
    ):
        parsed.error(_("У вас нет прав загружать спецификацию работы {code}: это может сделать администратор или "
                       "организация, которая её проводит.").format(code=data.get("code", "")), sheet="Работа")
    return owner


def import_parsed(path: Path, sheets: list[Sheet], *, checksum: str, options, outcome):
    from metodist.collection.models import Upload
    from metodist.reference.specs import SpecError, check_spec, save_spec, spec_checksum

    path = Path(path)
    parsed = Parsed(format=FORMAT, file=path.name)
    missing = [name for name in ("Работа", "Задания") if _sheet(sheets, name.casefold()) is None]
    if missing:
        return tabular.reject_without_header(
            path, parsed, _("В книге нет листов {sheets}: спецификация состоит из листов «Работа», «Задания» и "
                            "«Шкала».").format(sheets=", ".join(f"«{m}»" for m in missing)),
            checksum=checksum, options=options, outcome=outcome)
    data = _read(sheets, parsed)
    owner_code = data.pop("owner", None)
    for problem in check_spec(data):
        parsed.error(problem)
    if owner_code:
        data["owner"] = owner_code
    owner = _check_access(data, parsed, options.acting_user)
    data.pop("owner", None)
    existing = Assessment.objects.filter(code=data.get("code", "")).first()
    if existing is not None and data.get("tasks"):
        wanted = {str(t["number"]) for t in data["tasks"]}
        for task in existing.tasks.exclude(number__in=wanted):
            if task.scores.exists():
                parsed.error(_("Задание {task} нельзя убрать из работы {code}: по нему уже загружены результаты.").format(
                    task=task.number, code=existing.code), sheet="Задания")

    def unchanged(previous, good) -> bool:
        current = Assessment.objects.filter(code=data["code"]).first()
        return current is not None and current.spec_checksum == spec_checksum(data)

    def save(upload, good) -> dict:
        previous = set(Upload.objects.filter(format=FORMAT, assessment__code=data["code"]).values_list("pk", flat=True))
        try:
            assessment = save_spec(data, owner=owner)
        except SpecError as exc:
            raise tabular.Rejected(str(exc)) from exc
        upload.assessment = assessment
        upload.organisation = owner
        replaced = tabular.mark_replaced(upload, previous, lambda pk: False)
        return {"assessment": assessment.code, "tasks": len(data["tasks"]),
                "content_elements": assessment.tasks.values("content_elements").exclude(
                    content_elements=None).distinct().count(),
                "replaced_uploads": replaced}

    return tabular.complete(
        path, parsed, checksum=checksum, options=options, outcome=outcome,
        rows=[SpecRecord(row=None, data=data)], save=save, blocking=bool(parsed.errors), unchanged=unchanged,
        done_message=lambda c: _("Спецификация работы {code} загружена: заданий {tasks}.").format(
            code=c.get("assessment", ""), tasks=c.get("tasks", 0)),
    )
