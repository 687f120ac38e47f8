"""The files the demo municipality sends in, written as schools, the method service and the regional
data-processing centre write them (layouts: docs/formats). Byte-for-byte the same for the same seed, so
importing them again is recognised as "unchanged"."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import xlsxwriter

from metodist.demo.results import WorkResults
from metodist.demo.world import AUTHORITY, INSTITUTE, METHOD_SERVICE, MUNICIPALITY, REGION, World

FIXED_TIME = dt.datetime(2026, 6, 1, 9, 0, 0)
SCHOOL_JOURNAL = "Отметка за предыдущий триместр/ четверть/полугодие"
REGION_JOURNAL = "Отметка за предыдущий период"
GENDER = {True: "Ж", False: "М"}


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    workbook.set_properties({"created": FIXED_TIME, "author": "Metodist demo"})
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None or value == "":
                    continue
                sheet.write(r, c, value)
    workbook.close()
    return path


def write_csv(path: Path, rows: list[list], encoding: str = "cp1251") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
    return path


def registry(world: World, path: Path) -> Path:
    rows = [["Код", "Наименование", "Полное наименование", "Вид", "Код вышестоящей", "ИСС", "Сельская",
             "Точка роста", "Тип"]]
    rows.append([REGION[0], REGION[1], REGION[1], "регион", "", "", "", "", ""])
    rows.append([MUNICIPALITY[0], MUNICIPALITY[1], MUNICIPALITY[1], "муниципалитет", REGION[0], "", "", "", ""])
    rows.append([INSTITUTE[0], INSTITUTE[2], INSTITUTE[1], "институт", REGION[0], "", "", "", ""])
    rows.append([METHOD_SERVICE[0], METHOD_SERVICE[2], METHOD_SERVICE[1], "методическая служба", MUNICIPALITY[0],
                 "", "", "", ""])
    rows.append([AUTHORITY[0], AUTHORITY[2], AUTHORITY[1], "орган управления", MUNICIPALITY[0], "", "", "", ""])
    for school in world.schools:
        rows.append([school.code, school.short_name, school.full_name, "школа", MUNICIPALITY[0],
                     f"{school.iss:.2f}".replace(".", ","), "да" if school.rural else "нет",
                     "да" if school.growth_point else "нет", school.kind])
    return write_xlsx(path, {"Реестр": rows})


def teachers(world: World, path: Path) -> Path:
    from metodist.demo.world import YEARS

    rows = [["Код школы", "ФИО", "Код учителя", "Предмет", "Учебный год", "Классы", "Категория", "Стаж"]]
    names = {"ma": "Математика", "ru": "Русский язык"}
    for year in YEARS:
        for teacher in world.teachers:
            for k, subject in enumerate(teacher.subjects):
                classes = ", ".join(f"{g}{letter}" for g, letter in teacher.classes)
                rows.append([teacher.school.code, teacher.full_name, teacher.code,
                             names[subject] if (k + teacher.experience) % 2 else subject, f"{year}/{year + 1}",
                             classes, teacher.category, max(0, teacher.experience + (year - 2025))])
    return write_xlsx(path, {"Нагрузка": rows})


def _task_headers(spec) -> list[str]:
    return [f"{t.number} ({t.max_score}б)" for t in spec.tasks]


def vpr_form(results: WorkResults, school, world: World, path: Path) -> Path:
    """One school's results of one ВПР work, in the school's layout (form `Протокол`, XLSX or CSV) or in
    the region's layout (the columns of a region's collected files)."""
    spec = results.spec
    rows = [r for r in results.rows if r.school is school]
    with_mark = not spec.scale_complete_in_spec  # the form carries the mark when the scale is not known
    date = dt.date(spec.year, 4, 20).isoformat()
    if school.layout == "region":
        header = ["Пользователь", "Код региона", "Регион", "Муниципалитет", "Школа", "Дата загрузки", "Код",
                  "Вариант", *_task_headers(spec), "Наименование класса", "Пол", REGION_JOURNAL]
        header += ["Отметка"] if with_mark else []
        header += ["Итого баллов"]
        out = [header]
        for r in rows:
            line = [school.code, "99", REGION[1], f"{MUNICIPALITY[0]} | {MUNICIPALITY[1]}",
                    f"{school.code} | {school.short_name}", date, int(r.participant)]
            line += _result_cells(r, spec)
            line += [f"{r.grade}{r.letter}", GENDER[world.pupils[r.pupil].female], _journal(r)]
            line += [_mark(r)] if with_mark else []
            line += [r.total if not r.absent else None]
            out.append(line)
        return write_xlsx(path, {"Протокол": out})
    header = ["Код участника", "Вариант", *_task_headers(spec), "Класс"]
    ordinal = spec.year >= 2026
    header += ["Порядковый номер класса"] if ordinal else []
    header += [SCHOOL_JOURNAL] + (["Отметка"] if with_mark else []) + ["Итого баллов"]
    out = [header]
    letters = school.letters_of(spec.grade)
    for r in rows:
        line = [int(r.participant)] + _result_cells(r, spec) + [f"{r.grade}{r.letter}"]
        line += [letters.index(r.letter) + 1] if ordinal else []
        line += [_journal(r)] + ([_mark(r)] if with_mark else []) + [r.total if not r.absent else 0]
        out.append(line)
    if school.layout == "csv":
        return write_csv(path, out)
    return write_xlsx(path, {"Протокол": out})


def _result_cells(r, spec) -> list:
    if r.absent:
        return ["отсутствовал"] + [None] * len(spec.tasks)
    return [r.variant, *r.cells]


def _journal(r):
    if r.absent:
        return None
    return r.journal if r.journal is not None else "нет отметки"


def _mark(r):
    if r.absent:
        return None
    return r.mark if r.mark is not None else "нет отметки"


EXAM_DATES = {("OGE", "ma"): (5, 24), ("OGE", "ru"): (6, 3), ("EGE", "ma"): (5, 31)}
EXAM_TITLES = {("OGE", "ma"): "ОГЭ по математике", ("OGE", "ru"): "ОГЭ по русскому языку",
               ("EGE", "ma"): "ЕГЭ по математике (профильный уровень)"}


def exam_protocol(results: WorkResults, world: World, path: Path) -> Path:
    """The regional data-processing centre's protocol: a title block, then one block per school."""
    spec = results.spec
    month, day = EXAM_DATES[(spec.programme, spec.subject)]
    when = dt.date(spec.year, month, day).strftime("%d.%m.%Y")
    kind = "основного" if spec.programme == "OGE" else "единого"
    out = [[f"Протокол проверки результатов {kind} государственного экзамена"],
           [f"Регион: {REGION[1]}"],
           [f"Экзамен: {EXAM_TITLES[(spec.programme, spec.subject)]}, {when}"], []]
    last = "Тестовый балл" if spec.programme == "EGE" else "Отметка"
    header = ["№", "Код ОО", "Класс", "Фамилия", "Имя", "Отчество", "Дата рождения", "Вариант", "Ответы части 1",
              "Ответы части 2", "Первичный балл", last]
    short = [k for k, t in enumerate(spec.tasks) if t.task_type == "short"]
    extended = [k for k, t in enumerate(spec.tasks) if t.task_type == "extended"]
    number = 0
    for school in world.schools:
        rows = [r for r in results.rows if r.school is school]
        if not rows:
            continue
        out.append([f"Код ОО: {school.code}"])
        out.append(header)
        totals = []
        for r in rows:
            number += 1
            pupil = world.pupils[r.pupil]
            line = [number, school.code, f"{r.grade}{r.letter}", pupil.surname, pupil.name, pupil.patronymic,
                    pupil.birth.strftime("%d.%m.%Y")]
            if r.absent:
                out.append(line + ["неявка", None, None, None, None])
                continue
            part1 = "".join(_short_answer(r.scores[k], spec.tasks[k].max_score) for k in short)
            part2 = "".join(_extended_answer(r.cells[k], r.scores[k], spec.tasks[k].max_score) for k in extended)
            result = r.test_score if spec.programme == "EGE" else r.mark
            out.append(line + [300 + r.variant, part1, part2 or None, r.total, result])
            totals.append((r.total, result))
        if totals:
            mean_primary = sum(t for t, _r in totals) / len(totals)
            mean_result = sum(x for _t, x in totals) / len(totals)
            out.append(["Средние", None, None, None, None, None, None, None, None, None,
                        f"{mean_primary:.1f}".replace(".", ","), f"{mean_result:.1f}".replace(".", ",")])
        out.append([])
    return write_xlsx(path, {"Протокол": out})


def _short_answer(score: int, maximum: int) -> str:
    if score == maximum:
        return "+"
    if score == 0:
        return "-"
    return str(score)


def _extended_answer(cell, score: int, maximum: int) -> str:
    if isinstance(cell, str) and cell.casefold() in ("x", "х"):
        return f"X({maximum})"
    return f"{score}({maximum})"


def table(path: Path, header: list[str], rows: list[list], sheet: str = "Лист1") -> Path:
    return write_xlsx(path, {sheet: [header, *rows]})
