"""The specifications the demo's works are scored against.

A work of a year with a shipped specification (metodist/reference/specs) uses it. A year without one
gets a demonstration copy of the nearest shipped work of the same family (programme, subject, grade):
the same tasks, maxima, levels, content elements, skills and scale, with the year changed and the title
and source saying «Демонстрационная спецификация по образцу …». ЕГЭ has no shipped specification: the
demo uses a clearly synthetic one (specs/ege-ma-11.yaml).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from metodist.reference.specs import SPECS_DIR, read_spec_file, save_spec

DEMO_SPECS_DIR = Path(__file__).resolve().parent / "specs"

#: thresholds the generator gives marks by where the specification's scale is incomplete; they agree
#: with the known part of the scale (the importer checks marks written in the file against it)
GENERATION_SCALES = {
    "vpr-ru-4": {3: 10, 4: 16, 5: 21},  # ВПР 2026 Russian 4: only «3» = 10 is known
    "oge-ma-9": {3: 8, 4: 15, 5: 22},  # ОГЭ mathematics: «3» = 8 is known
    "oge-ru-9": {3: 4, 4: 7, 5: 9},  # ОГЭ Russian, tasks 2–12 only: no scale is known
}


@dataclass
class TaskInfo:
    number: str
    max_score: int
    level: str
    task_type: str
    elements: list[str]


@dataclass
class SpecInfo:
    """What the generator needs of one work."""

    code: str
    programme: str
    subject: str
    grade: int
    year: int
    tasks: list[TaskInfo]
    scale: dict[int, int] | None  # complete mark thresholds for generation (None: no marks, e.g. ЕГЭ)
    scale_complete_in_spec: bool
    test_scale: list[int] | None = None
    element_names: dict[str, str] = field(default_factory=dict)
    demo_copy_of: str = ""

    @property
    def family(self) -> str:
        return f"{self.programme.lower()}-{self.subject}-{self.grade}"

    @property
    def codifier(self) -> str:
        return self.family

    @property
    def max_primary(self) -> int:
        return sum(t.max_score for t in self.tasks)

    def tasks_of(self, element: str) -> list[str]:
        return [t.number for t in self.tasks if element in t.elements]


def code_of(programme: str, year: int, subject: str, grade: int) -> str:
    return f"{programme.lower()}-{year}-{subject}-{grade}"


def shipped() -> dict[str, Path]:
    return {p.stem: p for p in SPECS_DIR.glob("*.yaml")}


def template_for(programme: str, year: int, subject: str, grade: int) -> tuple[dict, str]:
    """The specification a work of `year` uses: the shipped one of that year, else the shipped one of the
    nearest year of the family (a complete one first; its data and its code), else the demo's own template."""
    files = shipped()
    code = code_of(programme, year, subject, grade)
    if code in files:
        return read_spec_file(files[code]), ""
    pattern = re.compile(rf"^{programme.lower()}-(\d{{4}})-{subject}-{grade}$")
    years = sorted((int(m.group(1)), name) for name in files if (m := pattern.match(name)))
    if years:
        # a complete specification first (the 2021 works with their codifiers), then the nearest year
        candidates = [(read_spec_file(files[name]), y, name) for y, name in years]
        data, _y, name = min(candidates, key=lambda c: (bool(c[0].get("partial")), abs(c[1] - year), -c[1]))
        return data, name
    demo = DEMO_SPECS_DIR / f"{programme.lower()}-{subject}-{grade}.yaml"
    if demo.exists():
        with open(demo, encoding="utf-8") as fh:
            return yaml.safe_load(fh), "demo"
    raise LookupError(f"no specification to model {code} on")


def demo_copy(data: dict, origin: str, programme: str, year: int, subject: str, grade: int) -> dict:
    """A demonstration specification of `year` made from `data` (the shipped work `origin`, or the demo
    template when origin is 'demo')."""
    spec = copy.deepcopy(data)
    spec.update(code=code_of(programme, year, subject, grade), programme=programme, subject=subject, grade=grade,
                year=year)
    if origin == "demo":
        spec["title"] = str(spec.get("title", "")).format(year=year)
        return spec
    title = str(data.get("title") or origin).replace(str(data.get("year")), str(year))
    spec["title"] = f"{title} — демонстрационная спецификация по образцу {origin}"
    spec["source"] = (f"Демонстрационная спецификация по образцу {origin} (задания, максимальные баллы, уровни, "
                      f"КЭС/КТ и шкала перевода взяты из неё без изменений; год изменён на {year}). "
                      f"Источник образца: {data.get('source', '')}")
    return spec


def ensure_spec(programme: str, year: int, subject: str, grade: int) -> SpecInfo:
    """Make sure the work's specification is in the database (saving a demo copy when needed); describe it."""
    data, origin = template_for(programme, year, subject, grade)
    if origin:
        data = demo_copy(data, origin, programme, year, subject, grade)
    save_spec(data)
    return describe(data, origin)


def describe(data: dict, origin: str = "") -> SpecInfo:
    tasks = [
        TaskInfo(number=str(t["number"]).strip(), max_score=int(t["max_score"]), level=str(t.get("level") or ""),
                 task_type=str(t.get("task_type") or ""), elements=[str(c) for c in t.get("content_elements") or []])
        for t in data["tasks"]
    ]
    scale_data = {int(k): int(v) for k, v in (data.get("grade_scale") or {}).items()}
    complete = all(m in scale_data for m in (3, 4, 5))
    family = f"{str(data['programme']).lower()}-{data['subject']}-{data['grade']}"
    scale = scale_data if complete else GENERATION_SCALES.get(family)
    if scale is not None:
        scale = {m: scale[m] for m in (3, 4, 5)}
    return SpecInfo(
        code=str(data["code"]).lower(), programme=str(data["programme"]).upper(), subject=str(data["subject"]),
        grade=int(data["grade"]), year=int(data["year"]), tasks=tasks, scale=scale,
        scale_complete_in_spec=complete,
        test_scale=[int(v) for v in data["test_scale"]] if data.get("test_scale") else None,
        element_names={str(e["code"]): e.get("name") or "" for e in data.get("content_elements") or []},
        demo_copy_of=origin,
    )
