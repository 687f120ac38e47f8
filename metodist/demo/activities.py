"""Teachers' diagnostics, attestations, questionnaires and the olympiad of the demo municipality, as the
rows of the files the importers read (see docs/formats). Plain data; no Django."""

from __future__ import annotations

import datetime as dt

import numpy as np

from metodist.demo.world import COURSE, INSTITUTE, METHOD_SERVICE, YEARS, Teacher, World

SUBJECT_NAMES = {"ma": "Математика", "ru": "Русский язык"}

#: the diagnostics: (title, subject, date, codifier of the topics, topic codes, who takes it)
DIAGNOSTICS = [
    ("Предметная диагностика учителей математики", "ma", dt.date(2024, 10, 15), "vpr-ma-7",
     ["1", "2", "3", "4", "5", "6", "7", "8", "9"], "ma"),
    ("Предметная диагностика учителей русского языка", "ru", dt.date(2024, 10, 16), "vpr-ru-6",
     ["3.6", "3.9", "5.2", "7.1", "8.1", "9.2", "10.4", "11", "12.5", "12.10"], "ru"),
    ("Предметная диагностика учителей начальных классов (русский язык)", "ru", dt.date(2024, 10, 17), "vpr-ru-4",
     ["1.6", "4.5", "5.5", "6.3", "6.5", "8.5", "8.7"], "primary"),
]
METHOD_TOPICS = [
    ("Планирование урока с учётом результатов оценочных процедур", "методические"),
    ("Формирующее оценивание на уроке", "методические"),
    ("Работа с обучающимися, испытывающими трудности в обучении", "психолого-педагогические"),
    ("Использование цифровых образовательных ресурсов", "цифровые"),
]
TOPIC_MAX = 4
#: in the mathematics diagnostic, «Текстовые задачи» is code 7 of ВПР grade 7: the course's topic
COURSE_TOPIC = ("vpr-ma-7", "7")


def _is_primary(teacher: Teacher) -> bool:
    return bool(teacher.place) and teacher.place[0] == "primary"


def diagnostics(world: World, element_names: dict[str, dict[str, str]], rng: np.random.Generator) -> list[list]:
    """Rows `Код школы | ФИО | Код учителя | Предмет | Диагностика | Дата | Тема | Код КЭС | Кодификатор |
    Область компетенций | Балл | Максимум`."""
    deficits = {(d["teacher"].code, d["codifier"], d["element"]) for d in world.deficits}
    course = {t.code for t in world.course_participants}
    rows = []
    for title, subject, day, codifier, codes, who in DIAGNOSTICS:
        for teacher in world.teachers:
            if who == "primary" and not _is_primary(teacher):
                continue
            if who != "primary" and (_is_primary(teacher) or subject not in teacher.subjects):
                continue
            base = float(np.clip(0.78 + teacher.skill, 0.45, 0.97))
            for code in codes:
                p = base
                if (teacher.code, codifier, code) in deficits:
                    p = 0.1
                elif teacher.code in course and (codifier, code) == COURSE_TOPIC:
                    p = 0.4
                elif rng.random() < 0.07:
                    p = 0.4
                score = int(rng.binomial(TOPIC_MAX, p))
                rows.append([teacher.school.code, teacher.full_name, teacher.code, _subject_cell(subject, rng),
                             title, day.strftime("%d.%m.%Y"), element_names[codifier].get(code, code), code,
                             codifier, "предметные", score, TOPIC_MAX])
            for topic, area in METHOD_TOPICS:
                score = float(rng.binomial(2 * TOPIC_MAX, float(np.clip(0.7 + teacher.skill, 0.3, 0.95)))) / 2
                rows.append([teacher.school.code, teacher.full_name, teacher.code, _subject_cell(subject, rng),
                             title, day.strftime("%d.%m.%Y"), topic, "", "", area, score, TOPIC_MAX])
    return rows


def _subject_cell(subject: str, rng) -> str:
    return SUBJECT_NAMES[subject] if rng.random() < 0.5 else subject


ATTESTATION_DATES = {2023: dt.date(2024, 3, 12), 2024: dt.date(2025, 3, 11), 2025: dt.date(2026, 2, 17)}
GENERAL_DIFFICULTIES = [
    ("методические", "Не планирует дифференцированные задания для обучающихся с разным уровнем подготовки."),
    ("методические", "Редко использует формирующее оценивание на уроке."),
    ("психолого-педагогические", "Затрудняется в работе с обучающимися с низкой учебной мотивацией."),
    ("цифровые", "Не использует цифровые ресурсы для обратной связи."),
    ("коммуникативные", "Затрудняется в организации диалога с родителями по результатам обучения."),
]
CONCLUSIONS = {"высшая": "Соответствует высшей квалификационной категории.",
               "первая": "Соответствует первой квалификационной категории.",
               "соответствие": "Соответствует занимаемой должности."}


def attestations(world: World, element_names, rng: np.random.Generator) -> dict[int, list[list]]:
    """Per academic year, rows `Код школы | ФИО | Код учителя | Дата | Категория | Область компетенций |
    Затруднение | Заключение`. The planted teachers are attested in the second year, and the experts
    note their weak topic."""
    planted = {d["teacher"].code: d for d in world.deficits}
    out = {}
    for year in YEARS:
        day = ATTESTATION_DATES[year].strftime("%d.%m.%Y")
        rows = []
        for teacher in world.teachers:
            chosen = rng.random() < 0.12
            deficit = planted.get(teacher.code)
            if deficit is not None:
                chosen = year == 2024
            if not chosen:
                continue
            category = teacher.category if teacher.category != "без категории" else "соответствие"
            notes = []
            if deficit is not None:
                name = element_names[deficit["codifier"]].get(deficit["element"], deficit["element"])
                notes.append(("предметные", f"Затрудняется в методике обучения теме «{name}»."))
            for k in rng.permutation(len(GENERAL_DIFFICULTIES))[: int(rng.integers(0, 3))]:
                notes.append(GENERAL_DIFFICULTIES[k])
            if not notes:
                notes.append(("", ""))
            for area, text in notes:
                rows.append([teacher.school.code, teacher.full_name, teacher.code, day, category, area, text,
                             CONCLUSIONS[category]])
        out[year] = rows
    return out


SURVEY_COLUMNS = ["Анкетирование", "Этап", "Дата", "Организация", "Код школы", "Код учителя", "Код респондента",
                  "Удовлетворённость"]


def course_surveys(world: World, rng: np.random.Generator) -> dict[str, list[list]]:
    """The course's pre-course and final questionnaires (survey format), one row per participant."""
    difficulties = ["Текстовые задачи на движение", "Задачи на части и доли", "Задачи на проценты",
                    "Составление краткой записи условия задачи"]
    pre_q = ["Какие темы вызывают у вас наибольшие затруднения?",
             "Оцените свою готовность обучать решению текстовых задач (1–5)"]
    fin_q = ["Что из курса вы примените на уроках?",
             "Оцените свою готовность обучать решению текстовых задач (1–5)"]
    pre = [SURVEY_COLUMNS + pre_q]
    final = [SURVEY_COLUMNS + fin_q]
    for teacher in world.course_participants:
        pre.append([COURSE["title"], "докурсовое", COURSE["starts"].strftime("%d.%m.%Y"), INSTITUTE[0],
                    teacher.school.code, teacher.code, "", "", difficulties[int(rng.integers(len(difficulties)))],
                    int(rng.integers(2, 4))])
        final.append([COURSE["title"], "итоговое", COURSE["ends"].strftime("%d.%m.%Y"), INSTITUTE[0],
                      teacher.school.code, teacher.code, "", int(rng.choice([4, 5], p=[0.35, 0.65])),
                      ["Схемы и таблицы к условию задачи", "Разбор решения в парах", "Банк задач по типам"][
                          int(rng.integers(3))], int(rng.integers(4, 6))])
    return {"course-pre": pre, "course-final": final}


def municipal_survey(world: World, rng: np.random.Generator) -> list[list]:
    """An anonymous questionnaire of the method service about teachers' difficulties."""
    questions = ["Предмет", "Какие затруднения вы испытываете чаще всего?", "Какая форма помощи вам нужна?"]
    troubles = ["Анализ результатов оценочных процедур", "Подготовка обучающихся к ОГЭ",
                "Работа с обучающимися с низкой мотивацией", "Формирование функциональной грамотности",
                "Использование цифровых ресурсов"]
    forms = ["Мастер-класс", "Наставничество", "Курсы повышения квалификации", "Консультация методиста",
             "Открытые уроки коллег"]
    rows = [SURVEY_COLUMNS + questions]
    count = max(20, len(world.teachers) // 3)
    for i in range(count):
        rows.append(["Анкетирование педагогов: профессиональные затруднения", "входное", "20.09.2024",
                     METHOD_SERVICE[0], "", "", f"R-{i + 1:04d}", int(rng.choice([2, 3, 4, 5], p=[.1, .25, .4, .25])),
                     ["Математика", "Русский язык", "Начальные классы"][int(rng.integers(3))],
                     troubles[int(rng.integers(len(troubles)))], forms[int(rng.integers(len(forms)))]])
    return rows


OLYMPIAD_MAX = {("ma", "школьный"): 40, ("ru", "школьный"): 60, ("ma", "муниципальный"): 50,
                ("ru", "муниципальный"): 80, ("ma", "региональный"): 70, ("ru", "региональный"): 100}


def olympiads(world: World, rng: np.random.Generator) -> dict[int, list[list]]:
    """Per academic year, rows `Код школы | Фамилия | Имя | Отчество | Дата рождения | Класс | Предмет |
    Учебный год | Этап | Статус | Балл | Максимальный балл`."""
    out = {}
    for year in YEARS:
        label = f"{year}/{year + 1}"
        rows = []
        school_stage: dict[tuple[str, int], list[tuple[float, int, object]]] = {}
        for (school_no, grade, _letter), pupil_ids in sorted(world.rosters[year].items()):
            if grade < 5:
                continue
            school = world.school(school_no)
            for subject in ("ma", "ru"):
                for pid in pupil_ids:
                    pupil = world.pupils[pid]
                    if rng.random() > 0.35 / (1 + np.exp(-(pupil.ability - 0.3))):
                        continue
                    share = 1 / (1 + np.exp(-(1.3 * pupil.ability + school.effect + rng.normal(0, 0.5) - 0.6)))
                    school_stage.setdefault((subject, grade), []).append((float(share), pid, school))
        for (subject, grade), entries in sorted(school_stage.items(), key=lambda kv: kv[0]):
            maximum = OLYMPIAD_MAX[(subject, "школьный")]
            by_school: dict[int, list] = {}
            for entry in entries:
                by_school.setdefault(entry[2].no, []).append(entry)
            advanced = []
            for _no, group in sorted(by_school.items()):
                group.sort(key=lambda e: -e[0])
                for rank, (share, pid, school) in enumerate(group):
                    status = "участник"
                    if share >= 0.5 and rank == 0:
                        status = "победитель"
                    elif share >= 0.5 and rank <= 2:
                        status = "призёр"
                    rows.append(_olympiad_row(world, pid, school, grade, subject, label, "школьный", status,
                                              round(share * maximum), maximum))
                    if status != "участник" and grade >= 7:
                        advanced.append(pid)
            if not advanced:
                continue
            maximum = OLYMPIAD_MAX[(subject, "муниципальный")]
            scored = sorted(((float(1 / (1 + np.exp(-(1.3 * world.pupils[p].ability + rng.normal(0, 0.6) - 1.0)))), p)
                             for p in advanced), reverse=True)
            regional = []
            for rank, (share, pid) in enumerate(scored):
                status = "победитель" if rank == 0 and share >= 0.5 else (
                    "призёр" if rank <= 3 and share >= 0.5 else "участник")
                rows.append(_olympiad_row(world, pid, world.pupils[pid].school, grade, subject, label,
                                          "муниципальный", status, round(share * maximum), maximum))
                if status != "участник" and grade >= 9:
                    regional.append(pid)
            maximum = OLYMPIAD_MAX[(subject, "региональный")]
            for pid in regional:
                share = float(1 / (1 + np.exp(-(1.3 * world.pupils[pid].ability + rng.normal(0, 0.6) - 1.8))))
                status = "призёр" if share >= 0.55 else "участник"
                rows.append(_olympiad_row(world, pid, world.pupils[pid].school, grade, subject, label,
                                          "региональный", status, round(share * maximum), maximum))
        out[year] = rows
    return out


def _olympiad_row(world, pid, school, grade, subject, label, stage, status, score, maximum) -> list:
    pupil = world.pupils[pid]
    return [school.code, pupil.surname, pupil.name, pupil.patronymic, pupil.birth.strftime("%d.%m.%Y"), grade,
            SUBJECT_NAMES[subject], label, stage, status, score, maximum]
