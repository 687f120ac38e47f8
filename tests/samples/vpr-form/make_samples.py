"""Make the small sample files of the vpr-form tests from the real files in ../shared/real-samples.

Run from the project root: `.venv/bin/python tests/samples/vpr-form/make_samples.py`. The excerpts are
public data (pupils appear only as participant codes); the outputs are committed, so the tests do not
need the real files.
"""

from __future__ import annotations

import csv
from pathlib import Path

import xlsxwriter
from python_calamine import CalamineWorkbook

HERE = Path(__file__).resolve().parent
REAL = HERE.parents[3] / "shared" / "real-samples"
FORMS = REAL / "vpr-2022-upload-forms"
RU4_CSV = REAL / "fis-oko-reports" / "individual-results-RU4-2026-one-school-partial.csv"


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> None:
    workbook = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None or value == "":
                    continue
                sheet.write(r, c, value)
    workbook.close()


def excerpt(source: Path, protocol_rows: list[int], classes_rows: int = 5) -> dict[str, list[list[object]]]:
    """Sheets `Классы` (header + first rows) and `Протокол` (header + the given 1-based rows)."""
    workbook = CalamineWorkbook.from_path(str(source))
    classes = workbook.get_sheet_by_name("Классы").to_python()
    protocol = workbook.get_sheet_by_name("Протокол").to_python()
    return {
        "Классы": classes[: classes_rows + 1],
        "Протокол": [protocol[0]] + [protocol[n - 1] for n in protocol_rows],
    }


def region_files() -> None:
    # 4/Математика: row 2 is «отсутствовал»; two schools
    write_xlsx(HERE / "region-ma4-2022.xlsx", excerpt(FORMS / "4" / "Математика.xlsx", list(range(2, 31))))
    # 11/История: totals skip 10К2 (loading warns and recomputes); row 87 has a score above its maximum
    write_xlsx(HERE / "region-is11-2022.xlsx", excerpt(FORMS / "11" / "История.xlsx", [*range(2, 31), 87]))


RU4_TASKS = ["1 (2б)", "2 (1б)", "3 (2б)", "4 (3б)", "5 (2б)", "6 (1б)", "7 (1б)", "8 (2б)", "9.1 (1б)",
             "9.2 (2б)", "10.1 (1б)", "10.2 (2б)", "11 (1б)", "12.1 (2б)", "12.2 (1б)"]
JOURNAL = "Отметка за предыдущий триместр/ четверть/полугодие"


def school_file() -> None:
    """The 2026 school form (sheet `Протокол` of the blank form) filled with the first 20 pupils of the
    «Индивидуальные результаты» excerpt, plus the values real forms hold: X in Latin and Cyrillic,
    «не пройд.», '3.0', «отсутствовал», a blank row of a listed pupil, «нет отметки»."""
    with open(RU4_CSV, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:20]
    header = ["Код участника", "Вариант", *RU4_TASKS, "Порядковый номер класса", JOURNAL, "Итого баллов"]
    out = [header]
    for row in rows:
        scores: list[object] = [int(row[t]) for t in RU4_TASKS]
        out.append([int(row["Код участника"]), int(row["Вариант"]), *scores, int(row["Класс"]),
                    int(row["Отметка по журналу"]), int(row["Первичный балл"])])
    # planted values (rows 22–26 of the sheet)
    out.append([40101, 1, "X", 1, "х", 3, 2, 1, 1, 2, 1, 2, 1, 2, 1, 2, 1, 1, "нет отметки", 20])
    out.append([40102, 2, "не пройд.", 1, 2, 3, 2, 1, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 4, 22])
    out.append([40103, 1, 2, 1, 2, "3.0", "x", "Х", 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, "5", 21])
    out.append([40104, "отсутствовал", *[None] * 15, 2, 3, 0])
    out.append([40105, None, *[None] * 15, 2, None, 0])
    write_xlsx(HERE / "school-ru4-2026.xlsx", {"Протокол": out})


def report_file() -> None:
    """The «Индивидуальные результаты» excerpt as it is (50 pupils of one school)."""
    (HERE / "individual-results-ru4-2026.csv").write_bytes(RU4_CSV.read_bytes())


if __name__ == "__main__":
    region_files()
    school_file()
    report_file()
