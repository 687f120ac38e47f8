"""Writes the XLSX samples of the spec, teachers and diagnostics importers (run from anywhere):
.venv/bin/python tests/samples/spec/make_samples.py"""

import datetime as dt
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent


def spec(path: Path, *, tasks, scale) -> None:
    book = xlsxwriter.Workbook(str(path))
    work = book.add_worksheet("Работа")
    for i, (key, value) in enumerate([
        ("Код", "reg-2025-ma-7"), ("Программа", "Региональный мониторинг"), ("Предмет", "Математика"),
        ("Класс", 7), ("Год", 2025), ("Название", "Региональный мониторинг 2025. Математика. 7 класс"),
        ("Источник", "Спецификация ИРО, 2025"), ("Варианты", "1; 2"),
    ]):
        work.write(i, 0, key)
        work.write(i, 1, value)
    sheet = book.add_worksheet("Задания")
    sheet.write_row(0, 0, ["Номер", "Максимальный балл", "Тип", "Уровень", "КЭС", "КТ", "Описание"])
    for i, row in enumerate(tasks, start=1):
        sheet.write_row(i, 0, row)
    sheet = book.add_worksheet("Шкала")
    sheet.write_row(0, 0, ["Отметка", "Минимальный балл"])
    for i, row in enumerate(scale, start=1):
        sheet.write_row(i, 0, row)
    sheet = book.add_worksheet("КЭС")
    sheet.write_row(0, 0, ["Код", "Название"])
    for i, row in enumerate([("1.1", "Натуральные числа"), ("1.2", "Дроби"), ("2.1", "Линейные уравнения"),
                             ("3.1", "Треугольники")], start=1):
        sheet.write_row(i, 0, row)
    sheet = book.add_worksheet("КТ")
    sheet.write_row(0, 0, ["Код", "Название"])
    for i, row in enumerate([("1", "Выполнять вычисления"), ("2", "Решать уравнения"), ("3", "Решать задачи")],
                            start=1):
        sheet.write_row(i, 0, row)
    book.close()


TASKS = [
    ["1", 1, "КО", "Б", "1.1", "1", "Действия с натуральными числами"],
    ["2", 1, "КО", "Б", "1.2", "1", "Действия с дробями"],
    ["3", 2, "РО", "П", "2.1; 1.2", "2", "Линейное уравнение"],
    ["4", 3, "РО", "В", "3.1", "3", "Задача на доказательство"],
]
spec(HERE / "reg-2025-ma-7.xlsx", tasks=TASKS, scale=[(2, 0), (3, 2), (4, 4), (5, 6)])
# the corrected version: task 4 is worth 2, the scale moves
spec(HERE / "reg-2025-ma-7-corrected.xlsx", tasks=[*TASKS[:3], ["4", 2, "РО", "В", "3.1", "3", "Задача"]],
     scale=[(2, 0), (3, 2), (4, 4), (5, 5)])

# teachers as a workbook with a title above the header and a date cell elsewhere
book = xlsxwriter.Workbook(str(HERE.parent / "teachers" / "teachers.xlsx"))
sheet = book.add_worksheet("Нагрузка")
sheet.write(0, 0, "Тарификация педагогических работников на 2024/2025 учебный год")
sheet.write_row(2, 0, ["Код школы", "ФИО", "Код учителя", "Предмет", "Учебный год", "Классы", "Категория", "Стаж"])
sheet.write_row(3, 0, ["edu221002", "Орлова Вера Николаевна", "", "ru", "2024/2025", "5а, 5б", "первая", 12])
sheet.write_row(4, 0, ["edu221002", "Орлова Вера Николаевна", "", "Литература", "2024/2025", "5а, 5б", "первая", 12])
book.close()

# diagnostics as a workbook with real date cells
book = xlsxwriter.Workbook(str(HERE.parent / "diagnostics" / "diagnostics.xlsx"))
sheet = book.add_worksheet("Диагностика")
dates = book.add_format({"num_format": "dd.mm.yyyy"})
sheet.write_row(0, 0, ["Код школы", "ФИО", "Код учителя", "Предмет", "Диагностика", "Дата", "Тема", "Код КЭС",
                       "Область компетенций", "Балл", "Максимум"])
sheet.write_row(1, 0, ["edu222001", "Сидорова Анна Олеговна", "S17", "ma", "Входная диагностика"])
sheet.write_datetime(1, 5, dt.datetime(2024, 9, 20), dates)
sheet.write_row(1, 6, ["Дроби", "", "предметные", 3, 4])
book.close()
