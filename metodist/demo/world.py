"""The demo municipality as plain data, before any file or database: schools, pupils moving up a grade
each year, teachers with their classes, and the truth planted in them. No Django here.

Everything is drawn from one `numpy.random.Generator` seeded by the caller, in a fixed order, so the
same seed gives the same municipality.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from metodist.demo import names

YEARS = (2023, 2024, 2025)  # academic years by their first calendar year: 2023/2024 … 2025/2026
LETTERS = "АБВГД"
REGION = ("demo-reg", "Демонстрационная область")
MUNICIPALITY = ("demo-m01", "Демонстрационный городской округ")
INSTITUTE = ("demo-iro", "Демонстрационный институт развития образования", "ИРО")
METHOD_SERVICE = ("demo-m01-mms", "Муниципальная методическая служба Демонстрационного городского округа", "ММС")
AUTHORITY = ("demo-m01-uo", "Управление образования Демонстрационного городского округа", "УО")


@dataclass
class School:
    no: int
    kind: str  # гимназия | лицей | СОШ | ООШ
    name: str
    rural: bool
    growth_point: bool
    letters: int  # classes per grade 1–9
    senior_letters: int  # classes per grade 10–11
    size: float  # mean class size
    iss: float  # social index: the lower, the harder the school's social conditions
    role: str = ""  # low | resilient | inflated | ""
    effect: float = 0.0  # school effect on pupils' results (logits)
    layout: str = "school"  # how it sends ВПР results: school | region | csv

    @property
    def code(self) -> str:
        return f"edu9{self.no:05d}"

    @property
    def short_name(self) -> str:
        return f"МБОУ {self.name}" if self.kind in ("СОШ", "ООШ") else f"МБОУ «{self.name}»"

    @property
    def full_name(self) -> str:
        words = {
            "гимназия": "Муниципальное бюджетное общеобразовательное учреждение «{n}»",
            "лицей": "Муниципальное автономное общеобразовательное учреждение «{n}»",
            "СОШ": "Муниципальное бюджетное общеобразовательное учреждение {n}",
            "ООШ": "Муниципальное бюджетное общеобразовательное учреждение {n}",
        }
        return words[self.kind].format(n=self.name)

    def letters_of(self, grade: int) -> str:
        if grade >= 10:
            return LETTERS[: self.senior_letters]
        return LETTERS[: self.letters]


#: (no, kind, name, rural, Точка роста, letters, senior letters, class size, ИСС, role)
SCHOOLS = [
    (1, "гимназия", "Гимназия № 1", False, False, 4, 2, 27, 0.86, ""),
    (2, "лицей", "Лицей № 2", False, False, 3, 2, 27, 0.82, ""),
    (3, "СОШ", "«СОШ № 3»", False, False, 3, 1, 25, 0.63, ""),
    (4, "СОШ", "«СОШ № 4»", False, False, 3, 1, 25, 0.58, ""),
    (5, "СОШ", "«СОШ № 5»", False, False, 2, 1, 23, 0.55, ""),
    (6, "СОШ", "«СОШ № 6»", False, False, 2, 1, 22, 0.50, ""),
    (7, "СОШ", "«СОШ № 7»", False, False, 2, 1, 22, 0.48, "inflated"),
    (8, "СОШ", "«СОШ № 8»", False, False, 2, 1, 22, 0.45, ""),
    (9, "СОШ", "«СОШ № 9»", False, False, 2, 1, 21, 0.42, ""),
    (10, "СОШ", "«СОШ № 10»", False, False, 2, 1, 21, 0.36, ""),
    (11, "СОШ", "«СОШ № 11»", False, False, 1, 1, 24, 0.52, ""),
    (12, "СОШ", "«СОШ № 12»", False, False, 2, 1, 21, 0.40, ""),
    (13, "СОШ", "«СОШ № 13 с углублённым изучением отдельных предметов»", False, False, 2, 1, 25, 0.68, ""),
    (14, "СОШ", "«Берёзовская СОШ»", True, True, 2, 1, 16, 0.34, ""),
    (15, "СОШ", "«Заречная СОШ»", True, False, 1, 1, 15, 0.16, "low"),
    (16, "СОШ", "«Покровская СОШ»", True, True, 1, 1, 16, 0.18, "resilient"),
    (17, "СОШ", "«Никольская СОШ»", True, True, 1, 1, 15, 0.30, ""),
    (18, "СОШ", "«Сосновская СОШ»", True, False, 1, 1, 14, 0.28, ""),
    (19, "СОШ", "«Ильинская СОШ»", True, True, 1, 1, 15, 0.26, ""),
    (20, "СОШ", "«Троицкая СОШ»", True, False, 1, 1, 14, 0.32, ""),
    (21, "СОШ", "«Каменская СОШ»", True, False, 1, 1, 13, 0.24, ""),
    (22, "СОШ", "«Луговская СОШ»", True, False, 1, 1, 13, 0.22, ""),
    (23, "СОШ", "«Красносельская СОШ»", True, False, 1, 1, 14, 0.29, ""),
    (24, "СОШ", "«Михайловская СОШ»", True, True, 1, 1, 14, 0.27, ""),
    (25, "ООШ", "«Лесная ООШ»", True, False, 1, 0, 10, 0.12, "low"),
    (26, "ООШ", "«Озёрная ООШ»", True, False, 1, 0, 10, 0.20, ""),
    (27, "ООШ", "«Полянская ООШ»", True, False, 1, 0, 9, 0.22, ""),
    (28, "ООШ", "«Дубровская ООШ»", True, False, 1, 0, 9, 0.18, ""),
    (29, "ООШ", "«Ключевская ООШ»", True, False, 1, 0, 10, 0.25, ""),
    (30, "ООШ", "«Высоковская ООШ»", True, False, 1, 0, 9, 0.21, ""),
]
#: the schools a small build keeps first: every planted truth lives in them
PRIORITY = [1, 2, 4, 5, 7, 15, 25, 16, 3, 6, 14, 26, 8, 17, 9, 27, 10, 18, 11, 19, 12, 28, 13, 20, 21, 29, 22, 23,
            30, 24]
ROLE_EFFECTS = {"low": -0.85, "resilient": 1.15, "inflated": 0.1, "": 0.0}
NOT_TAUGHT_SCHOOL = 26  # «Озёрная ООШ» writes «не пройд.» for one task of one work

#: planted teacher deficits: (school no, subject, the teacher's place, codifier, element code)
#: place: ("letter", i) — the subject teacher of grades 5–9 of the i-th letter; ("primary", grade, i)
DEFICITS = [
    (1, "ma", ("letter", 1), "vpr-ma-7", "6"),
    (4, "ma", ("letter", 0), "vpr-ma-7", "8"),
    (2, "ru", ("letter", 2), "vpr-ru-6", "8.1"),
    (5, "ru", ("letter", 0), "vpr-ru-6", "3.9"),
    (4, "ru", ("primary", 4, 1), "vpr-ru-4", "8.5"),
]
DEFICIT_LOGIT = 1.9
#: the course of the second year: ma teachers of grades 5–9; its element in ВПР mathematics grade 6
COURSE = {
    "title": "КПК «Методика обучения решению текстовых задач в 5–6 классах» (72 ч)",
    "hours": 72,
    "academic_year": 2024,
    "starts": dt.date(2024, 10, 7),
    "ends": dt.date(2024, 12, 13),
    "subject": "ma",
    "codifier": "vpr-ma-6",
    "element": "3",
    "before_logit": 0.35,  # the participants' classes were weak on the element before the course
    "after_logit": -0.45,  # … and better than the rest after it
}


@dataclass
class Pupil:
    id: int
    school: School
    female: bool
    ability: float
    surname: str
    name: str
    patronymic: str
    birth: dt.date


@dataclass
class Teacher:
    code: str
    school: School
    full_name: str
    female: bool
    category: str  # высшая | первая | соответствие | без категории
    experience: int
    subjects: list[str]
    classes: list[tuple[int, str]]  # the same classes (grade, letter) every year
    effect: float
    place: tuple = ()
    skill: float = 0.0  # subject knowledge, for the diagnostics

    def teaches(self, subject: str, grade: int, letter: str) -> bool:
        return subject in self.subjects and (grade, letter) in self.classes


@dataclass
class World:
    seed: int
    schools: list[School]
    pupils: list[Pupil]
    teachers: list[Teacher]
    #: academic year → (school no, grade, letter) → pupil ids
    rosters: dict[int, dict[tuple[int, int, str], list[int]]]
    deficits: list[dict] = field(default_factory=list)
    course_participants: list[Teacher] = field(default_factory=list)
    course_candidates: list[Teacher] = field(default_factory=list)

    def school(self, no: int) -> School:
        return next(s for s in self.schools if s.no == no)

    def teacher_of(self, school: School, subject: str, grade: int, letter: str) -> Teacher | None:
        for teacher in self.teachers_by_school.get(school.no, []):
            if teacher.teaches(subject, grade, letter):
                return teacher
        return None

    @property
    def teachers_by_school(self) -> dict[int, list[Teacher]]:
        cache = getattr(self, "_by_school", None)
        if cache is None:
            cache = {}
            for teacher in self.teachers:
                cache.setdefault(teacher.school.no, []).append(teacher)
            self._by_school = cache
        return cache


def make_world(seed: int, scale: int | None = None) -> World:
    rng = np.random.default_rng(seed)
    keep = set(PRIORITY[: scale or len(PRIORITY)])
    schools = []
    for no, kind, name, rural, growth, letters, senior, size, iss, role in SCHOOLS:
        effect = 1.6 * (iss - 0.5) + rng.normal(0, 0.12) + ROLE_EFFECTS[role]
        if no not in keep:
            continue
        layout = "csv" if kind == "ООШ" and no % 2 == 0 else ("region" if no % 2 else "school")
        schools.append(School(no=no, kind=kind, name=name, rural=rural, growth_point=growth, letters=letters,
                              senior_letters=senior, size=size, iss=iss, role=role, effect=float(effect),
                              layout=layout))
    pupils: list[Pupil] = []
    rosters: dict[int, dict[tuple[int, int, str], list[int]]] = {y: {} for y in YEARS}

    def new_pupil(school: School, grade: int, year: int) -> int:
        female = bool(rng.random() < 0.5)
        surname, first, patronymic = names.full_name(rng, female)
        born = dt.date(year - grade - 6, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365)))
        ability = float(rng.normal(0, 1))
        pupils.append(Pupil(len(pupils), school, female, ability, surname, first, patronymic, born))
        return len(pupils) - 1

    def class_size(school: School, grade: int) -> int:
        base = school.size * (0.85 if grade >= 10 else 1.0)
        return max(5, int(round(rng.normal(base, 2.0))))

    first = YEARS[0]
    for school in schools:
        for grade in range(1, 12):
            for letter in school.letters_of(grade):
                rosters[first][(school.no, grade, letter)] = [
                    new_pupil(school, grade, first) for _ in range(class_size(school, grade))]
    for year in YEARS[1:]:
        before, now = rosters[year - 1], rosters[year]
        for school in schools:
            for grade in range(2, 12):
                if grade == 10:
                    continue
                for letter in school.letters_of(grade):
                    now[(school.no, grade, letter)] = list(before.get((school.no, grade - 1, letter), []))
            leavers = [p for letter in school.letters_of(9) for p in before.get((school.no, 9, letter), [])]
            seniors = school.letters_of(10)
            if seniors:
                ranked = sorted(leavers, key=lambda p: -(pupils[p].ability + rng.normal(0, 0.7)))
                stay = ranked[: int(len(seniors) * school.size * 0.85)]
                for i, letter in enumerate(seniors):
                    now[(school.no, 10, letter)] = sorted(stay[i::len(seniors)])
            for letter in school.letters_of(1):
                now[(school.no, 1, letter)] = [new_pupil(school, 1, year) for _ in range(class_size(school, 1))]

    teachers = _make_teachers(rng, schools)
    world = World(seed=seed, schools=schools, pupils=pupils, teachers=teachers, rosters=rosters)
    _plant_deficits(world)
    _choose_course(world, rng)
    return world


CATEGORIES = ["высшая", "первая", "соответствие", "без категории"]


def _make_teachers(rng: np.random.Generator, schools: list[School]) -> list[Teacher]:
    teachers: list[Teacher] = []
    for school in schools:
        seq = 0

        def add(subjects, classes, place, school=school):
            nonlocal seq
            seq += 1
            female = bool(rng.random() < 0.85)
            surname, first, patronymic = names.full_name(rng, female)
            experience = int(rng.integers(1, 38))
            category = CATEGORIES[int(rng.choice(4, p=[0.35, 0.35, 0.2, 0.1]))] if experience > 3 else "без категории"
            teachers.append(Teacher(
                code=f"T{school.no:02d}{seq:02d}", school=school, full_name=f"{surname} {first} {patronymic}",
                female=female, category=category, experience=experience, subjects=subjects, classes=classes,
                effect=float(rng.normal(0, 0.2)), place=place, skill=float(rng.normal(0, 0.08)),
            ))

        for grade in range(1, 5):
            for i, letter in enumerate(school.letters_of(grade)):
                add(["ru", "ma"], [(grade, letter)], ("primary", grade, i))
        for subject in ("ma", "ru"):
            for i, letter in enumerate(school.letters_of(5)):
                classes = [(g, letter) for g in range(5, 10)]
                if school.letters == 1 or (i == 0 and school.letters < 3):
                    classes += [(g, s) for g in (10, 11) for s in school.letters_of(g) if i == 0]
                add([subject], classes, ("letter", i))
            if school.senior_letters and school.letters >= 3:
                add([subject], [(g, s) for g in (10, 11) for s in school.letters_of(g)], ("senior", 0))
    return teachers


def _find(world: World, school_no: int, subject: str, place: tuple) -> Teacher | None:
    for teacher in world.teachers_by_school.get(school_no, []):
        if subject in teacher.subjects and teacher.place == place:
            return teacher
    return None


def _plant_deficits(world: World) -> None:
    for school_no, subject, place, codifier, element in DEFICITS:
        teacher = _find(world, school_no, subject, place)
        if teacher is None:
            raise ValueError(f"the planted teacher {school_no}/{subject}/{place} is not in the demo")
        world.deficits.append({"teacher": teacher, "subject": subject, "codifier": codifier, "element": element})


def _choose_course(world: World, rng: np.random.Generator) -> None:
    """Mathematics teachers of grades 5–9 in ordinary schools: some attend the course, the rest are the pool
    the comparison group is matched from."""
    planted = {d["teacher"].code for d in world.deficits}
    eligible = [t for t in world.teachers if t.place and t.place[0] == "letter" and "ma" in t.subjects
                and not t.school.role and t.code not in planted]
    count = max(3, min(8, len(eligible) // 2 - 1))
    chosen = sorted(rng.choice(len(eligible), size=count, replace=False).tolist())
    world.course_participants = [eligible[i] for i in chosen]
    world.course_candidates = [t for i, t in enumerate(eligible) if i not in chosen]
