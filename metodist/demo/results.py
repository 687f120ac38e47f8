"""Pupils' results of one work, drawn from an item-response model with the planted effects.

The probability of each point of task j for pupil i is the logistic of
    0.75·ability_i + school effect + teacher effect + the pupil's form that day − difficulty_j − planted_ij
where difficulty_j follows the task's level (Б/П/В) plus a fixed per-task draw, shifted per work so that
the work's mean completion matches a realistic target (the marks of ВПР Russian grade 4 come out close
to the published national 5 / 33 / 44 / 18 %). `planted_ij` is a teacher's deficit on one content element
or the course's effect; the inflated school's totals are pushed over the mark thresholds afterwards.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from metodist.demo.specs import SpecInfo
from metodist.demo.world import COURSE, DEFICIT_LOGIT, NOT_TAUGHT_SCHOOL, School, Teacher, World

LEVEL_DIFFICULTY = {"B": -0.35, "P": 0.55, "V": 1.2, "": 0.1}
TARGETS = {
    "vpr-ma-4": 0.66, "vpr-ru-4": 0.66, "vpr-ma-5": 0.58, "vpr-ru-5": 0.57, "vpr-ma-6": 0.57, "vpr-ru-6": 0.56,
    "vpr-ma-7": 0.57, "oge-ma-9": 0.54, "oge-ru-9": 0.68, "ege-ma-11": 0.47,
    "vpr-2026-ru-4": 0.68,  # the shipped 2026 work: 24 points, «3» from 10
}
NOT_TAUGHT = ("vpr-2025-ma-6", "12")  # the work and task «Озёрная ООШ» had not taught yet


@dataclass
class WorkRow:
    pupil: int
    school: School
    grade: int
    letter: str
    participant: str
    teacher: Teacher | None
    variant: int | None = None
    absent: bool = False
    scores: list[int] | None = None
    cells: list[object] | None = None  # what the file writes per task: a score, X, «не пройд.»
    total: int | None = None
    mark: int | None = None
    journal: int | None = None
    test_score: int | None = None


@dataclass
class WorkResults:
    spec: SpecInfo
    rows: list[WorkRow]

    @property
    def academic_year(self) -> int:
        return self.spec.year - 1


def _stable_rng(seed: int, *keys: str) -> np.random.Generator:
    return np.random.default_rng([seed, *(zlib.crc32(k.encode()) for k in keys)])


def difficulties(seed: int, spec: SpecInfo) -> np.ndarray:
    """Per-task difficulties of the work's family: the same task is as hard every year."""
    rng = _stable_rng(seed, "difficulty", spec.family)
    return np.array([LEVEL_DIFFICULTY.get(t.level, 0.1) + rng.normal(0, 0.55) for t in spec.tasks])


def mark_of(total: int, scale: dict[int, int] | None) -> int | None:
    if scale is None:
        return None
    mark = 2
    for value in (3, 4, 5):
        if total >= scale[value]:
            mark = value
    return mark


def participants(world: World, spec: SpecInfo, rng: np.random.Generator) -> list[WorkRow]:
    year = spec.year - 1
    rows = []
    for school in world.schools:
        seq = 0
        for letter in school.letters_of(spec.grade):
            for pid in world.rosters[year].get((school.no, spec.grade, letter), []):
                seq += 1
                rows.append(WorkRow(pupil=pid, school=school, grade=spec.grade, letter=letter,
                                    participant=str(spec.grade * 10000 + seq),
                                    teacher=world.teacher_of(school, spec.subject, spec.grade, letter)))
    if spec.programme == "EGE":  # the profile exam: the stronger part of each school's leavers
        noisy = np.array([world.pupils[r.pupil].ability + rng.normal(0, 0.6) for r in rows])
        keep = []
        for school in world.schools:
            idx = [i for i, r in enumerate(rows) if r.school is school]
            ranked = sorted(idx, key=lambda i: -noisy[i])
            keep += ranked[: int(round(len(idx) * 0.55))]
        rows = [rows[i] for i in sorted(keep)]
    return rows


def planted_shift(world: World, spec: SpecInfo, row: WorkRow) -> np.ndarray:
    """Extra difficulty per task for this pupil: his teacher's deficit, the course's effect."""
    shift = np.zeros(len(spec.tasks))
    if row.teacher is None:
        return shift
    for deficit in world.deficits:
        if deficit["teacher"] is row.teacher and deficit["codifier"] == spec.family:
            shift += DEFICIT_LOGIT * np.array([deficit["element"] in t.elements for t in spec.tasks])
    if spec.family == COURSE["codifier"] and any(row.teacher is t for t in world.course_participants):
        after = spec.year - 1 > COURSE["academic_year"]
        value = COURSE["after_logit"] if after else COURSE["before_logit"]
        shift += value * np.array([COURSE["element"] in t.elements for t in spec.tasks])
    return shift


def score_work(world: World, spec: SpecInfo) -> WorkResults:
    rng = _stable_rng(world.seed, "results", spec.code)
    rows = participants(world, spec, rng)
    b = difficulties(world.seed, spec)
    maxima = np.array([t.max_score for t in spec.tasks])
    exam = spec.programme in ("OGE", "EGE")
    present = [r for r in rows if not (rng.random() < (0.02 if exam else 0.05))]
    present_ids = {id(r) for r in present}
    for r in rows:
        r.absent = id(r) not in present_ids
    if not present:
        return WorkResults(spec, rows)
    ability = np.array([
        0.75 * world.pupils[r.pupil].ability + r.school.effect + (r.teacher.effect if r.teacher else 0.0)
        + rng.normal(0, 0.25) for r in present
    ])
    target = TARGETS.get(spec.code, TARGETS.get(spec.family, 0.55)) + _stable_rng(world.seed, "year", spec.code).normal(0, 0.015)
    offset = _offset(ability, b, maxima, target)
    shifts = np.array([planted_shift(world, spec, r) for r in present])
    logits = ability[:, None] - (b[None, :] + offset) - shifts
    p = 1.0 / (1.0 + np.exp(-logits))
    scores = rng.binomial(np.broadcast_to(maxima, p.shape), p)
    scale = spec.scale
    for i, r in enumerate(present):
        row_scores = scores[i].astype(int).tolist()
        not_taught = set()
        if r.school.no == NOT_TAUGHT_SCHOOL and spec.code == NOT_TAUGHT[0]:
            k = [t.number for t in spec.tasks].index(NOT_TAUGHT[1])
            row_scores[k] = 0
            not_taught.add(k)
        if r.school.role == "inflated" and scale is not None:
            _bunch(row_scores, maxima, scale, rng, not_taught)
        r.scores = row_scores
        r.total = int(sum(row_scores))
        r.mark = mark_of(r.total, scale)
        r.variant = int(rng.integers(1, 3))
        r.cells = []
        for k, s in enumerate(row_scores):
            if k in not_taught:
                r.cells.append("не пройд.")
            elif s == 0 and rng.random() < 0.3:
                r.cells.append(["X", "Х", "x"][int(rng.integers(0, 3))])
            else:
                r.cells.append(s)
        if spec.test_scale is not None:
            r.test_score = spec.test_scale[r.total]
        if spec.programme == "VPR" and r.mark is not None and rng.random() > 0.02:
            r.journal = _journal(r.mark, r.school.role == "inflated", rng)
    return WorkResults(spec, rows)


def _offset(ability: np.ndarray, b: np.ndarray, maxima: np.ndarray, target: float) -> float:
    low, high = -6.0, 6.0
    for _ in range(40):
        mid = (low + high) / 2
        p = 1.0 / (1.0 + np.exp(-(ability[:, None] - b[None, :] - mid)))
        share = float((p * maxima).sum(axis=1).mean() / maxima.sum())
        if share > target:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _bunch(scores: list[int], maxima: np.ndarray, scale: dict[int, int], rng, frozen: set) -> None:
    """The inflated school's works: a total one or two points short of a mark's threshold is raised to it."""
    total = sum(scores)
    for mark in (3, 4, 5):
        threshold = scale[mark]
        if threshold - 2 <= total < threshold and rng.random() < 0.85:
            need = threshold - total + int(rng.random() < 0.3)
            room = [k for k in rng.permutation(len(scores)) if scores[k] < maxima[k] and k not in frozen]
            for k in room:
                if need <= 0:
                    break
                add = min(need, int(maxima[k]) - scores[k])
                scores[k] += add
                need -= add
            return


def _journal(mark: int, inflated: bool, rng) -> int:
    if inflated:
        step = int(rng.choice([0, 1, 2], p=[0.3, 0.58, 0.12]))
    else:
        step = int(rng.choice([-1, 0, 1], p=[0.12, 0.7, 0.18]))
    return int(min(5, max(2, mark + step)))


# --- measures of the planted truth, on the generated data ---------------------------------------


def solve_rate(rows: list[WorkRow], spec: SpecInfo, tasks: list[str], keep) -> tuple[float | None, int]:
    """Share of the points of `tasks` scored by the present works `keep(row)` selects; and their count."""
    index = [k for k, t in enumerate(spec.tasks) if t.number in tasks]
    got = total = works = 0
    for r in rows:
        if r.absent or not keep(r):
            continue
        works += 1
        got += sum(r.scores[k] for k in index)
        total += sum(spec.tasks[k].max_score for k in index)
    return (got / total if total else None), works
