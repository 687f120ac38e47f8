"""Assessment specifications in and out of the database.

A specification is a plain dict (the YAML files shipped in `specs/`, or an XLSX a methodologist
uploads): tasks in order with maximum, type, level, content elements and skills; the grade scale.
`save_spec()` writes one into the database; `ensure_shipped_specs()` loads every shipped one that is
missing or changed, so no command needs a separate set-up step.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml
from django.db import transaction
from django.utils.translation import gettext as _

from metodist.core.models import Subject
from metodist.reference.models import Assessment, ContentElement, GradeScale, ScaleKind, Skill, Task

SPECS_DIR = Path(__file__).resolve().parent / "specs"

#: subject codes as the federal system writes them, with their Russian names
SUBJECTS = {
    "ru": "Русский язык", "ma": "Математика", "okr": "Окружающий мир", "is": "История",
    "ob": "Обществознание", "gg": "География", "bi": "Биология", "fi": "Физика", "hi": "Химия",
    "en": "Английский язык", "de": "Немецкий язык", "fr": "Французский язык", "inf": "Информатика",
    "lit": "Литература", "es": "Испанский язык", "zh": "Китайский язык",
}
LEVELS = {"B": "B", "Б": "B", "P": "P", "П": "P", "V": "V", "В": "V", "": ""}
TASK_TYPES = {"short": "short", "extended": "extended", "КО": "short", "РО": "extended", "ВО": "short", "": ""}


class SpecError(ValueError):
    """A specification that cannot be saved; the message is Russian and says why."""


def subject(code: str) -> Subject:
    code = code.strip().lower()
    return Subject.objects.get_or_create(code=code, defaults={"name": SUBJECTS.get(code, code)})[0]


def spec_checksum(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def check_spec(data: dict) -> list[str]:
    """Every problem of a specification, as Russian sentences; empty when it can be saved."""
    problems = []
    for key in ("code", "programme", "subject", "grade", "year", "tasks"):
        if key not in data or data[key] in (None, ""):
            problems.append(_("В спецификации не указано поле «{key}».").format(key=key))
    if problems:
        return problems
    numbers = [str(t.get("number", "")).strip() for t in data["tasks"]]
    for number in sorted({n for n in numbers if numbers.count(n) > 1}):
        problems.append(_("Задание {task} указано дважды.").format(task=number))
    for task in data["tasks"]:
        maximum = task.get("max_score")
        if not isinstance(maximum, int) or maximum < 0:
            problems.append(_("У задания {task} неверный максимальный балл «{value}».").format(
                task=task.get("number"), value=maximum))
        if str(task.get("level") or "").strip() not in LEVELS:
            problems.append(_("У задания {task} неизвестный уровень сложности «{value}».").format(
                task=task.get("number"), value=task.get("level")))
    total = sum(t.get("max_score") or 0 for t in data["tasks"] if isinstance(t.get("max_score"), int))
    max_primary = data.get("max_primary")
    if max_primary is not None and max_primary != total and not data.get("partial"):
        problems.append(_("Сумма максимальных баллов заданий ({total}) не равна максимальному первичному "
                          "баллу ({max}).").format(total=total, max=max_primary))
    scale = data.get("grade_scale") or {}
    previous = -1
    for mark in sorted(int(m) for m in scale):
        minimum = int(scale[mark] if mark in scale else scale[str(mark)])
        if minimum < previous:
            problems.append(_("Шкала перевода не возрастает: отметка {mark} начинается с {min}.").format(
                mark=mark, min=minimum))
        if max_primary is not None and minimum > max_primary:
            problems.append(_("Порог отметки {mark} ({min}) больше максимального балла.").format(mark=mark, min=minimum))
        previous = minimum
    element_codes = {str(e["code"]) for e in data.get("content_elements") or []}
    skill_codes = {str(s["code"]) for s in data.get("skills") or []}
    for task in data["tasks"]:
        for code in task.get("content_elements") or []:
            if element_codes and str(code) not in element_codes:
                problems.append(_("Задание {task} ссылается на элемент содержания {code}, которого нет в списке.").format(
                    task=task.get("number"), code=code))
        for code in task.get("skills") or []:
            if skill_codes and str(code) not in skill_codes:
                problems.append(_("Задание {task} ссылается на умение {code}, которого нет в списке.").format(
                    task=task.get("number"), code=code))
    return problems


@transaction.atomic
def save_spec(data: dict, *, owner=None) -> Assessment:
    """Create or update an assessment from its specification. Tasks are matched by number, so the
    results already imported keep their tasks; a task with results cannot be removed."""
    problems = check_spec(data)
    if problems:
        raise SpecError(" ".join(problems))
    checksum = spec_checksum(data)
    code = str(data["code"]).strip().lower()
    existing = Assessment.objects.filter(code=code).first()
    if existing and existing.spec_checksum == checksum:
        return existing
    subj = subject(str(data["subject"]))
    tasks = data["tasks"]
    max_primary = data.get("max_primary") or sum(t["max_score"] for t in tasks)
    fields = dict(
        programme=str(data["programme"]).upper(), subject=subj, grade=int(data["grade"]), year=int(data["year"]),
        title=data.get("title") or f"{data['programme']} {data['year']}. {subj.name}. {data['grade']} класс",
        variants=[int(v) for v in data.get("variants") or []], max_primary=max_primary,
        source=data.get("source", ""), partial=bool(data.get("partial")),
        partial_reason=data.get("partial_reason", ""), owner=owner, spec_checksum=checksum,
    )
    if existing:
        for key, value in fields.items():
            setattr(existing, key, value)
        existing.save()
        assessment = existing
    else:
        assessment = Assessment.objects.create(code=code, **fields)
    codifier = assessment.codifier
    elements = _codes(ContentElement, codifier, subj, data.get("content_elements") or [], tasks, "content_elements")
    skills = _codes(Skill, codifier, subj, data.get("skills") or [], tasks, "skills")

    old = {t.number: t for t in assessment.tasks.all()}
    wanted = [str(t["number"]).strip() for t in tasks]
    removed = [t for n, t in old.items() if n not in wanted]
    for task in removed:
        if task.scores.exists():
            raise SpecError(_("Задание {task} нельзя удалить из работы {code}: по нему уже загружены результаты.").format(
                task=task.number, code=code))
        task.delete()
    # positions are unique: move the kept tasks out of the way before renumbering
    for offset, task in enumerate(assessment.tasks.all()):
        Task.objects.filter(pk=task.pk).update(position=10000 + offset)
    for position, item in enumerate(tasks, start=1):
        number = str(item["number"]).strip()
        task = old.get(number) or Task(assessment=assessment, number=number)
        task.position = position
        task.max_score = int(item["max_score"])
        task.task_type = TASK_TYPES.get(str(item.get("task_type") or ""), "")
        task.level = LEVELS.get(str(item.get("level") or "").strip(), "")
        task.description = item.get("description") or ""
        task.save()
        task.content_elements.set([elements[str(c)] for c in item.get("content_elements") or []])
        task.skills.set([skills[str(c)] for c in item.get("skills") or []])

    assessment.scales.all().delete()
    if data.get("grade_scale"):
        thresholds = {str(int(k)): int(v) for k, v in data["grade_scale"].items()}
        GradeScale.objects.create(assessment=assessment, kind=ScaleKind.MARK, thresholds=thresholds,
                                  note=data.get("grade_scale_note") or "")
    if data.get("test_scale"):
        GradeScale.objects.create(assessment=assessment, kind=ScaleKind.TEST_SCORE,
                                  thresholds=[int(v) for v in data["test_scale"]])
    return assessment


def _codes(model, codifier, subj, listed, tasks, key) -> dict:
    names = {str(item["code"]): item.get("name") or "" for item in listed}
    for task in tasks:
        for code in task.get(key) or []:
            names.setdefault(str(code), "")
    result = {}
    existing = {o.code: o for o in model.objects.filter(codifier=codifier, code__in=list(names))}
    for code, name in names.items():
        obj = existing.get(code)
        if obj is None:
            obj = model.objects.create(codifier=codifier, subject=subj, code=code, name=name or code)
        elif name and obj.name != name:
            obj.name = name
            obj.save(update_fields=["name"])
        result[code] = obj
    return result


def shipped_specs() -> list[Path]:
    return sorted(SPECS_DIR.glob("*.yaml"))


def read_spec_file(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def ensure_shipped_specs() -> int:
    """Load every shipped specification that is missing or changed; return how many were written."""
    written = 0
    current = dict(Assessment.objects.values_list("code", "spec_checksum"))
    for path in shipped_specs():
        data = read_spec_file(path)
        if current.get(str(data.get("code", "")).lower()) == spec_checksum(data):
            continue
        save_spec(data)
        written += 1
    return written
