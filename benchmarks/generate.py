"""Region-scale ВПР files for the import benchmark, written with XlsxWriter in constant-memory mode.

    python -m benchmarks.generate [--schools 600] [--works-per-file 50] [--single-works 25000]

What is generated (a fictitious region 99, «Тестовая область»):
- `forms/`: one ВПР upload form per school and work, in the layout of a region's collected forms
  (real-samples/vpr-2022-upload-forms): sheet `Классы` (school, class, textbook code, from which the
  importer reads the subject and grade) and sheet `Протокол` (Пользователь | Код региона | Регион |
  Муниципалитет `reg99_m001 | name` | Школа `edu990001 | name` | Дата загрузки | Код | Вариант |
  `1 (1б)` … | Наименование класса | Пол | Отметка за предыдущий … | Итого баллов). Ten works
  (subject × grade) per school, the task lists of the shipped specifications (metodist/reference/specs),
  about 15 tasks each; 600 schools × 10 works × 50 pupils = 300,000 works, ≈ 4.8 million task scores.
- `regional.csv`: one file in the vpr-regional layout (Логин ОО | Код участника | … | балл за 1 | …),
  all schools, about 25,000 works of one more work.
- `region-form.xlsx`: about 25,000 works of another work as one region-wide ВПР form.

Real files' quirks are planted at realistic rates: X for no answer, a rare «не пройд.», absent pupils
(«отсутствовал», blank task cells), «нет отметки», a rare total that is not the sum of the tasks.
Files are cached under var/bench/data-<parameters>/; `manifest.json` is written last and marks a
complete set, so a rerun with the same parameters does not regenerate.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import random
import shutil
import time
from dataclasses import asdict, dataclass
from multiprocessing import Pool
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SPECS_DIR = ROOT / "metodist" / "reference" / "specs"
BENCH_DIR = ROOT / "var" / "bench"
GENERATOR_VERSION = 1

#: the works every school writes (one file each): 10 works, 16 tasks on average
FORM_WORKS = [
    "vpr-2021-ru-4", "vpr-2021-ma-5", "vpr-2021-ma-6", "vpr-2021-ob-6", "vpr-2021-ma-7",
    "vpr-2021-bi-7", "vpr-2021-ob-7", "vpr-2021-is-7", "vpr-2021-ma-8", "vpr-2021-is-8",
]
REGIONAL_WORK = "vpr-2021-ma-4"  # the vpr-regional file
REGION_FORM_WORK = "vpr-2021-hi-11"  # the one region-wide ВПР form
FULL_SCHOOLS = 600
FULL_SINGLE_WORKS = 25_000

REGION = ("reg990000", "Тестовая область")
UPLOAD_DATE = "17.03.2021 10:{minute:02d}:{second:02d}"
TEXTBOOK_PREFIX = {"ma": "ma", "ru": "ru", "bi": "bio", "ob": "ob", "is": "is", "hi": "him", "okr": "okr", "fi": "fiz"}
LETTERS = "АБВГДЕЖИК"
CLASS_SIZE = 28
FORM_HEAD = ["Пользователь", "Код региона", "Регион", "Муниципалитет", "Школа", "Дата загрузки", "Код", "Вариант"]
FORM_TAIL = ["Наименование класса", "Пол", "Отметка за предыдущий триместр/ четверть/полугодие", "Итого баллов"]
CLASSES_HEAD = ["Пользователь", "Код региона", "Регион", "Муниципалитет", "Школа", "Дата загрузки",
                'Буква (цифра) класса. Введите "нет" - если отсутствует', "Основной учебник по предмету",
                "Другое (автор учебника)", "Другое (название учебника)"]
REGIONAL_HEAD = ["Логин ОО", "Код участника", "Отметка за предыдущий период", "Пол", "Класс", "Вариант",
                 "Сумма баллов"]
SCHOOL_KINDS = ["МБОУ «СОШ № {n}»", "МБОУ «Гимназия № {n}»", "МКОУ «{n}-я ООШ»", "МБОУ «Лицей № {n}»",
                "МКОУ «Сельская СОШ № {n}»"]


@dataclass(frozen=True)
class Params:
    schools: int = FULL_SCHOOLS
    works_per_file: int = 50
    single_works: int = FULL_SINGLE_WORKS
    seed: int = 2021

    @classmethod
    def scaled(cls, schools: int, works_per_file: int = 50, single_works: int | None = None) -> Params:
        if single_works is None:
            single_works = max(500, round(FULL_SINGLE_WORKS * schools / FULL_SCHOOLS))
        return cls(schools=schools, works_per_file=works_per_file, single_works=single_works)

    def key(self) -> str:
        specs = {code: load_spec(code)["tasks"] for code in [*FORM_WORKS, REGIONAL_WORK, REGION_FORM_WORK]}
        digest = hashlib.sha256(json.dumps([GENERATOR_VERSION, asdict(self), specs], sort_keys=True,
                                           ensure_ascii=False, default=str).encode()).hexdigest()[:8]
        return f"s{self.schools}-w{self.works_per_file}-r{self.single_works}-{digest}"


def load_spec(code: str) -> dict:
    path = SPECS_DIR / f"{code}.yaml"
    if not path.exists():
        raise SystemExit(f"Нет спецификации {path}: бенчмарк использует поставляемые спецификации.")
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


# --- the region -----------------------------------------------------------------------------------

def region_tree(schools: int) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """Municipalities (code, name) and schools (code, name, municipality code): ten schools a municipality."""
    municipalities = [(f"reg99_m{m + 1:03d}", f"Муниципальный округ № {m + 1}") for m in range(math.ceil(schools / 10))]
    result = []
    for s in range(schools):
        name = SCHOOL_KINDS[s % len(SCHOOL_KINDS)].format(n=s + 1)
        result.append((f"edu99{s + 1:04d}", name, municipalities[s // 10][0]))
    return municipalities, result


def school_size(index: int, schools: int, base: int) -> int:
    """Pupils of a school in one grade: schools come in pairs (+d, −d), so the region's total is exact."""
    pair = index // 2
    if index == schools - 1 and schools % 2:
        return base
    d = (pair * 37 % 31) - 15
    d = max(-(base - 5), min(d, base))
    return base + d if index % 2 == 0 else base - d


# --- one pupil ------------------------------------------------------------------------------------

def _pupil_scores(rng: random.Random, tasks: list[dict], ability: float) -> list[object]:
    cells: list[object] = []
    for position, task in enumerate(tasks):
        maximum = task["max_score"]
        p = min(0.97, max(0.03, ability * (1.25 - 0.05 * (position % 10))))
        score = sum(1 for _ in range(maximum) if rng.random() < p)
        if score == 0 and rng.random() < 0.15:
            cells.append("X" if rng.random() < 0.8 else "х")
        elif score == 0 and rng.random() < 0.002:
            cells.append("не пройд.")
        else:
            cells.append(score)
    return cells


def _mark(total: int, scale: dict) -> int:
    mark = 2
    for m, minimum in sorted((int(k), int(v)) for k, v in scale.items()):
        if total >= minimum:
            mark = m
    return mark


def _journal(rng: random.Random, total: int, scale: dict) -> object:
    if rng.random() < 0.01:
        return "нет отметки"
    mark = _mark(total, scale) + rng.choice((0, 0, 0, 1, 1, -1))
    return min(5, max(2, mark))


def _pupils(rng: random.Random, spec: dict, present: int, absent: int, school_effect: float):
    """(participant number, class letter, gender, variant, cells, total, journal) for every pupil."""
    tasks = spec["tasks"]
    classes = max(1, math.ceil((present + absent) / CLASS_SIZE))
    for number in range(1, present + absent + 1):
        letter = LETTERS[(number - 1) * classes // (present + absent)]
        gender = rng.choice(("м", "ж"))
        if number > present:
            yield number, letter, gender, "отсутствовал", [None] * len(tasks), None, _journal(rng, 0, {"3": 0})
            continue
        ability = min(0.95, max(0.05, rng.gauss(0.6 + school_effect, 0.18)))
        cells = _pupil_scores(rng, tasks, ability)
        total = sum(c for c in cells if isinstance(c, int))
        written = total + 1 if rng.random() < 0.002 else total
        yield number, letter, gender, rng.choice((1, 2)), cells, written, _journal(rng, total, spec["grade_scale"])


def task_headers(spec: dict) -> list[str]:
    return [f"{t['number']} ({t['max_score']}б)" for t in spec["tasks"]]


def textbook(spec: dict) -> str:
    prefix = TEXTBOOK_PREFIX[spec["subject"]]
    return f"{prefix}{spec['grade']}.1 | 1.2.{spec['grade']}.1 | Учебник. {spec['title']}"


# --- files ----------------------------------------------------------------------------------------

def _write_form(path: Path, spec: dict, schools: list[tuple[str, str, str, int, int, float]],
                municipalities: dict[str, str], seed: int) -> tuple[int, int, int]:
    """One ВПР form (one or many schools); returns (rows, present works, task scores)."""
    import xlsxwriter

    rng = random.Random(seed)
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    classes_sheet = workbook.add_worksheet("Классы")
    protocol = workbook.add_worksheet("Протокол")
    classes_sheet.write_row(0, 0, CLASSES_HEAD)
    protocol.write_row(0, 0, [*FORM_HEAD, *task_headers(spec), *FORM_TAIL])
    grade = spec["grade"]
    region = f"{REGION[0]} | {REGION[1]}"
    rows = present_total = scores = 0
    class_row = 1
    for code, name, municipality, present, absent, effect in schools:
        date = UPLOAD_DATE.format(minute=rng.randrange(60), second=rng.randrange(60))
        common = [code, 99, region, f"{municipality} | {municipalities[municipality]}", f"{code} | {name}", date]
        for letter in LETTERS[:max(1, math.ceil((present + absent) / CLASS_SIZE))]:
            classes_sheet.write_row(class_row, 0, [*common, letter, textbook(spec), "", ""])
            class_row += 1
        for number, letter, gender, variant, cells, total, journal in _pupils(rng, spec, present, absent, effect):
            rows += 1
            if total is not None:
                present_total += 1
                scores += len(cells)
            protocol.write_row(rows, 0, [
                *common, grade * 10000 + number, variant, *["" if c is None else c for c in cells],
                f"{grade}{letter}", gender, journal, "" if total is None else total,
            ])
    workbook.close()
    return rows, present_total, scores


def _write_regional(path: Path, spec: dict, schools: list[tuple[str, str, str, int, int, float]], seed: int):
    rng = random.Random(seed)
    grade = spec["grade"]
    rows = present_total = scores = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, delimiter=";")
        out.writerow([*REGIONAL_HEAD, *[f"балл за {n}" for n in range(1, len(spec["tasks"]) + 1)]])
        for code, _name, _municipality, present, absent, effect in schools:
            for number, letter, gender, variant, cells, total, journal in _pupils(rng, spec, present, absent, effect):
                rows += 1
                if total is not None:
                    present_total += 1
                    scores += len(cells)
                out.writerow([code, grade * 10000 + number, journal, gender, f"{grade}{letter}", variant,
                              "" if total is None else total, *["" if c is None else c for c in cells]])
    return rows, present_total, scores


def _school_effect(index: int) -> float:
    return ((index * 7919) % 100 - 50) / 400  # ±0.125: schools differ


def _form_job(job: tuple) -> tuple[str, int, int, int]:
    relative, out_dir, code_of_work, school, municipalities, seed = job
    spec = load_spec(code_of_work)
    rows, present, scores = _write_form(Path(out_dir) / relative, spec, [school], municipalities, seed)
    return relative, rows, present, scores


def generate(params: Params, *, workers: int | None = None, quiet: bool = False) -> Path:
    """Write the file set for `params` (or find it cached); return its directory."""
    out_dir = BENCH_DIR / f"data-{params.key()}"
    if (out_dir / "manifest.json").exists():
        return out_dir
    if out_dir.exists():
        shutil.rmtree(out_dir)
    (out_dir / "forms").mkdir(parents=True)
    started = time.perf_counter()
    municipalities, schools = region_tree(params.schools)
    mun_names = dict(municipalities)
    jobs = []
    for index, (code, name, municipality) in enumerate(schools):
        for w, work in enumerate(FORM_WORKS):
            present = school_size(index, params.schools, params.works_per_file)
            absent = 1 if (index + w) % 3 == 0 else 0
            school = (code, name, municipality, present, absent, _school_effect(index))
            relative = f"forms/{code}_{work}.xlsx"
            jobs.append((relative, str(out_dir), work, school, mun_names, params.seed * 1_000_003 + index * 100 + w))
    files, totals = [], {"rows": 0, "works": 0, "task_scores": 0}
    workers = workers or min(2, os.cpu_count() or 1)
    with Pool(workers) as pool:
        for done, (relative, rows, present, scores) in enumerate(pool.imap(_form_job, jobs, chunksize=20), 1):
            files.append(relative)
            totals["rows"] += rows
            totals["works"] += present
            totals["task_scores"] += scores
            if not quiet and done % max(1, len(jobs) // 10) == 0:
                print(f"  generated {done}/{len(jobs)} forms", flush=True)

    def spread(total: int) -> list[tuple[str, str, str, int, int, float]]:
        per, extra = divmod(total, params.schools)
        return [(code, name, municipality, per + (1 if i < extra else 0), 1 if i % 4 == 0 else 0, _school_effect(i))
                for i, (code, name, municipality) in enumerate(schools)]

    regional_spec = load_spec(REGIONAL_WORK)
    rows, present, scores = _write_regional(out_dir / "regional.csv", regional_spec, spread(params.single_works),
                                            params.seed + 1)
    regional = {"path": "regional.csv", "assessment": REGIONAL_WORK, "format": "vpr-regional", "rows": rows,
                "works": present, "task_scores": scores}
    big_spec = load_spec(REGION_FORM_WORK)
    rows, present, scores = _write_form(out_dir / "region-form.xlsx", big_spec, spread(params.single_works),
                                        mun_names, params.seed + 2)
    region_form = {"path": "region-form.xlsx", "assessment": REGION_FORM_WORK, "format": "vpr-form", "rows": rows,
                   "works": present, "task_scores": scores}
    manifest = {
        "params": asdict(params), "key": params.key(), "generator_version": GENERATOR_VERSION,
        "region": list(REGION), "municipalities": municipalities, "schools": schools,
        "form_works": FORM_WORKS, "files": files, "forms": totals,
        "regional": regional, "region_form": region_form,
        "bytes": sum(p.stat().st_size for p in out_dir.rglob("*") if p.is_file()),
        "seconds": round(time.perf_counter() - started, 1),
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return out_dir


def main() -> None:
    parser = argparse.ArgumentParser(description="Generate region-scale ВПР files for the import benchmark.")
    parser.add_argument("--schools", type=int, default=FULL_SCHOOLS)
    parser.add_argument("--works-per-file", type=int, default=50)
    parser.add_argument("--single-works", type=int, default=None,
                        help="works in the regional file and in the region-wide form (default 25,000 × schools/600)")
    args = parser.parse_args()
    params = Params.scaled(args.schools, args.works_per_file, args.single_works)
    out_dir = generate(params)
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    print(f"{out_dir}: {len(manifest['files'])} forms, {manifest['forms']['works']} works, "
          f"{manifest['forms']['task_scores']} task scores, {manifest['bytes'] / 1e6:.0f} MB, "
          f"generated in {manifest['seconds']} s")


if __name__ == "__main__":
    main()
