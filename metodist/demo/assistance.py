"""Stage 5 of the demo: the methodological help a municipality gives over two years, as the records of the
institute, the method service and the schools would have it by December 2026.

* The planted course (`world.COURSE`, 2024/2025): 72 hours with its 48-hour subject module, given by the
  institute, aimed at «Текстовые задачи» of ВПР mathematics grade 6, with exactly the planted participants
  (read from truth.json) who completed it, and its pre-course and final questionnaires (imported in
  stage 1) linked to it. Stage 6 must find its effect.
* A second course of 2024/2025 (Russian, reading a text) whose participants were NOT planted to improve:
  stage 6 must not claim an effect for it.
* Courses of 2025/2026 on the planted teachers' weak elements, a methodological one, and one of 2026/2027
  still taking applications.
* Events of every kind with attendance and satisfaction; teachers' requests, some answered with help;
  development routes (ИОМ) of the planted deficit teachers proposed from the 2024/2025 analysis by the
  same function the pages call, approved and mostly carried out; mentorships (two from the routes, one for a
  young teacher); the mentor school «Покровская СОШ» (edu900016) for «Заречная СОШ» (edu900015) with the
  transition plan build_plans made; roadmap actions linked to the course and events they send teachers to.
Rerunning changes nothing once the planted course exists."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from metodist.demo.activities import DIAGNOSTICS
from metodist.demo.world import COURSE, INSTITUTE, METHOD_SERVICE, MUNICIPALITY


def _truth(data_dir: Path | None, seed: int | None, scale: int | None) -> dict:
    """The demo's truth.json, or the same facts recomputed from the world when the file is not there."""
    path = Path(data_dir or settings.DATA_DIR) / "demo" / "truth.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    if seed is None:
        return {}
    from metodist.demo.world import make_world

    world = make_world(seed, scale)
    return {"seed": seed, "course": {"participants": [{"school": t.school.code, "teacher": t.code}
                                                      for t in world.course_participants]},
            "teacher_deficits": [{"school": d["teacher"].school.code, "teacher": d["teacher"].code,
                                  "subject": d["subject"], "codifier": d["codifier"], "element": d["element"]}
                                 for d in world.deficits]}


def _element(codifier: str, code: str):
    from metodist.reference.models import ContentElement

    return ContentElement.objects.filter(codifier=codifier, code=code).first()


def _elements(*pairs):
    return [e for e in (_element(c, k) for c, k in pairs) if e is not None]


def _teacher(school: str, code: str):
    from metodist.core.models import Teacher

    return Teacher.objects.filter(school__code=school, code=code).select_related("school").first()


def _at(day: datetime.date, hour: int = 10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


def build_assistance(echo=print, *, data_dir: Path | None = None, seed: int | None = None,
                     scale: int | None = None) -> dict:
    from metodist.assistance.models import Course

    if Course.objects.filter(title=COURSE["title"]).exists():
        return {"courses": Course.objects.count()}
    truth = _truth(data_dir, seed, scale)
    if not truth.get("course"):
        echo("Методическая помощь: нет truth.json демонстрации — пропущено.")
        return {}
    with transaction.atomic():
        made = _build(truth, np.random.default_rng([int(truth.get("seed") or 2026), 5]))
    made = {k: v for k, v in made.items() if not k.startswith("_")}
    echo("Методическая помощь: курсов {courses}, мероприятий {events}, запросов {requests}, ИОМ {routes}, "
         "наставничество {mentorships}, школ-шефов {pairings}.".format(**made))
    return made


def _build(truth: dict, rng) -> dict:
    from metodist.assistance.models import Course, Event, MentorSchool, Mentorship
    from metodist.core.models import AcademicYear, Organisation, Subject, Teacher

    orgs = {o.code: o for o in Organisation.objects.filter(code__in=[
        INSTITUTE[0], METHOD_SERVICE[0], MUNICIPALITY[0], "edu900001", "edu900002", "edu900015", "edu900016"])}
    users = {u.username: u for u in get_user_model().objects.filter(
        username__in=["methodologist", "school_admin", "association_head", "region_admin"])}
    subjects = {s.code: s for s in Subject.objects.filter(code__in=["ma", "ru"])}
    year = {y: AcademicYear.objects.get_or_create(start_year=y)[0] for y in (2024, 2025, 2026)}
    teachers = list(Teacher.objects.filter(school__parent__code=MUNICIPALITY[0]).select_related("school")
                    .prefetch_related("subjects").order_by("school__code", "code"))
    planted_codes = {(d["school"], d["teacher"]) for d in truth.get("teacher_deficits", [])}
    course_codes = {(p["school"], p["teacher"]) for p in truth["course"]["participants"]}
    ctx = {"orgs": orgs, "users": users, "subjects": subjects, "year": year, "teachers": teachers,
           "planted": planted_codes, "participants": course_codes, "rng": rng, "truth": truth}

    courses = _courses(ctx)
    events = _events(ctx, courses)
    routes = _routes(ctx)
    _mentorships(ctx, routes)
    pairing = _pairing(ctx)
    requests = _requests(ctx, courses, events)
    _link_actions(ctx, courses, events)
    return {"courses": Course.objects.count(), "events": Event.objects.count(), "requests": requests,
            "routes": len(routes), "mentorships": Mentorship.objects.count(),
            "pairings": MentorSchool.objects.count() if pairing else 0, "_courses": courses, "_events": events}


# --- courses ---------------------------------------------------------------------------------------------

def _teachers_of(ctx, subject: str):
    """Teachers of one subject only (so primary teachers, who teach both, are not among them)."""
    out = []
    for t in ctx["teachers"]:
        codes = {s.code for s in t.subjects.all()}
        if codes != {subject}:
            continue
        out.append(t)
    return out


def _course(ctx, *, title, year, starts, ends, hours, format, subject, elements, modules, areas=(), deficits="",
            description=""):
    from metodist.assistance.models import Course, CourseModule

    course = Course.objects.create(
        title=title, provider=ctx["orgs"][INSTITUTE[0]], academic_year=ctx["year"][year], starts=starts, ends=ends,
        hours=hours, format=format, subject=ctx["subjects"].get(subject) if subject else None,
        competence_areas=list(areas), deficits=deficits, description=description,
        created_by=ctx["users"].get("region_admin"))
    course.content_elements.set(elements)
    CourseModule.objects.bulk_create([CourseModule(course=course, position=n, title=t, hours=h, kind=k)
                                      for n, (t, h, k) in enumerate(modules, 1)])
    return course


def _courses(ctx) -> dict:
    from metodist.assistance.courses import enrol, link_surveys
    from metodist.assistance.models import CourseFormat, Enrolment, EnrolmentStatus

    rng = ctx["rng"]
    out = {}
    planted = _course(
        ctx, title=COURSE["title"], year=COURSE["academic_year"], starts=COURSE["starts"], ends=COURSE["ends"],
        hours=COURSE["hours"], format=CourseFormat.MIXED, subject=COURSE["subject"],
        elements=_elements((COURSE["codifier"], COURSE["element"])),
        modules=[("Нормативные основы и оценочные процедуры: ФГОС ООО, ВПР, анализ результатов", 24, "invariant"),
                 ("Методика обучения решению текстовых задач в 5–6 классах: типы задач, моделирование условия, "
                  "схемы и таблицы, разбор ошибок", 48, "subject")],
        areas=["subject", "methodological"],
        deficits="Низкое выполнение заданий на текстовые задачи (ВПР, математика, 6 класс) в классах слушателей; "
                  "затруднения учителей в методике обучения решению текстовых задач (предметная диагностика, "
                  "октябрь 2024 г.).",
        description="Очно-дистанционные занятия: 4 очных дня в ИРО, остальное — на платформе института. Итоговая "
                    "работа — банк текстовых задач по типам с методическими комментариями.")
    people = [t for t in (_teacher(s, c) for s, c in sorted(ctx["participants"])) if t is not None]
    enrol(planted, people, status=EnrolmentStatus.COMPLETED)
    works = ["Банк текстовых задач на движение с решениями", "Банк задач на части и доли",
             "Технологическая карта урока «Задачи на проценты»", "Схемы к условию задачи: подборка для 5 класса"]
    for n, enrolment in enumerate(Enrolment.objects.filter(course=planted).order_by("teacher__code")):
        enrolment.final_work, enrolment.grade = works[n % len(works)], "зачтено"
        enrolment.save(update_fields=["final_work", "grade"])
    link_surveys(planted)
    out["planted"] = planted

    # the second course of 2024/2025: Russian teachers, nothing planted in their classes
    russian = [t for t in _teachers_of(ctx, "ru") if (t.school.code, t.code) not in ctx["planted"]
               and t.school.code not in ("edu900007", "edu900015", "edu900016", "edu900025")]
    second = _course(
        ctx, title="КПК «Подготовка обучающихся к ВПР по русскому языку: работа с лексическим значением слова» (36 ч)",
        year=2024, starts=datetime.date(2025, 1, 20), ends=datetime.date(2025, 2, 14), hours=36,
        format=CourseFormat.DISTANCE, subject="ru", elements=_elements(("vpr-ru-6", "7.1")),
        modules=[("Оценочные процедуры по русскому языку", 12, "invariant"),
                 ("Лексическое значение слова: способы толкования, задания ВПР", 24, "subject")],
        areas=["subject"], deficits="Запросы учителей русского языка на курсы (анкетирование ММС, сентябрь 2024 г.).")
    chosen = russian[:5]
    enrol(second, chosen[:4], status=EnrolmentStatus.COMPLETED)
    enrol(second, chosen[4:], status=EnrolmentStatus.DROPPED)
    out["second"] = second

    out["geometry"] = _course(
        ctx, title="КПК «Геометрия и вероятность в 7–9 классах: трудные темы ВПР и ОГЭ» (36 ч)", year=2025,
        starts=datetime.date(2025, 10, 13), ends=datetime.date(2025, 11, 28), hours=36, format=CourseFormat.MIXED,
        subject="ma", elements=_elements(("vpr-ma-7", "6"), ("vpr-ma-7", "8")),
        modules=[("Результаты ВПР и ОГЭ 2025 года: проблемные поля региона", 8, "invariant"),
                 ("Геометрические задачи: от чертежа к доказательству", 14, "subject"),
                 ("Статистика и теория вероятностей в основной школе", 14, "subject")],
        areas=["subject"], deficits="Дефициты учителей математики по темам «Геометрия» и «Статистика и теория "
                                    "вероятностей» (предметная диагностика 2024 г., результаты ВПР 7 класса).")
    out["russian"] = _course(
        ctx, title="КПК «Трудные темы русского языка в 5–9 классах: фонетика, лексика, фразеология» (36 ч)",
        year=2025, starts=datetime.date(2025, 11, 10), ends=datetime.date(2025, 12, 19), hours=36,
        format=CourseFormat.DISTANCE, subject="ru", elements=_elements(("vpr-ru-6", "3.9"), ("vpr-ru-6", "8.1")),
        modules=[("Оценочные процедуры по русскому языку: анализ заданий", 8, "invariant"),
                 ("Фонетика и морфемика: соотношение звуков и букв, виды морфем", 14, "subject"),
                 ("Лексика и фразеология: значение слова и фразеологизма в заданиях ВПР", 14, "subject")],
        areas=["subject"],
        deficits="Дефициты учителей русского языка по предметной диагностике 2024 г.")
    out["primary"] = _course(
        ctx, title="КПК «Работа с текстом в начальной школе: план, пересказ, собственный текст» (72 ч)",
        year=2025, starts=datetime.date(2026, 1, 12), ends=datetime.date(2026, 3, 6), hours=72,
        format=CourseFormat.MIXED, subject="ru", elements=_elements(("vpr-ru-4", "8.5")),
        modules=[("Нормативные основы начального общего образования", 24, "invariant"),
                 ("Методика обучения работе с текстом в 1–4 классах", 48, "subject")], areas=["subject"],
        deficits="Составление плана текста (ВПР, русский язык, 4 класс).")
    out["assessment"] = _course(
        ctx, title="КПК «Формирующее оценивание на уроке» (36 ч)", year=2025, starts=datetime.date(2026, 2, 2),
        ends=datetime.date(2026, 3, 27), hours=36, format=CourseFormat.DISTANCE, subject=None, elements=[],
        modules=[("Оценивание для обучения: принципы и приёмы", 18, "invariant"),
                 ("Обратная связь на уроке, в том числе с цифровыми ресурсами", 18, "variable")],
        areas=["methodological", "digital"],
        deficits="Затруднения, отмеченные экспертами при аттестации: формирующее оценивание, обратная связь.")
    out["next"] = _course(
        ctx, title="КПК «Функциональная грамотность на уроках математики» (72 ч)", year=2026,
        starts=datetime.date(2027, 1, 18), ends=datetime.date(2027, 3, 19), hours=72, format=CourseFormat.FIELD,
        subject="ma", elements=_elements(("vpr-ma-7", "7"), ("vpr-ma-7", "9")),
        modules=[("Функциональная грамотность: рамка оценки", 24, "invariant"),
                 ("Контекстные задачи на уроках математики 5–9 классов", 48, "subject")],
        areas=["subject", "methodological"], deficits="Запросы школ по итогам ВПР 2026 года.")

    maths = [t for t in _teachers_of(ctx, "ma") if (t.school.code, t.code) not in ctx["participants"]]
    others = [t for t in maths if (t.school.code, t.code) not in ctx["planted"]]
    picked = [others[int(i)] for i in sorted(rng.choice(len(others), size=min(4, len(others)), replace=False))]
    enrol(out["geometry"], picked[:3], status=EnrolmentStatus.COMPLETED)
    enrol(out["geometry"], picked[3:], status=EnrolmentStatus.DROPPED)
    enrol(out["next"], picked[:2] + maths[-2:], status=EnrolmentStatus.APPLIED)
    any_subject = [t for t in ctx["teachers"] if (t.school.code, t.code) not in ctx["planted"]]
    chosen = [any_subject[int(i)] for i in sorted(rng.choice(len(any_subject), size=min(6, len(any_subject)),
                                                             replace=False))]
    enrol(out["assessment"], chosen, status=EnrolmentStatus.COMPLETED)
    fresh = [t for t in russian if t not in chosen][-2:]
    enrol(out["russian"], fresh, status=EnrolmentStatus.COMPLETED)
    primary = [t for t in ctx["teachers"] if {s.code for s in t.subjects.all()} == {"ru", "ma"}
               and (t.school.code, t.code) not in ctx["planted"]]
    enrol(out["primary"], primary[:3], status=EnrolmentStatus.COMPLETED)
    return out


# --- events ----------------------------------------------------------------------------------------------

def _problem_fields(ctx, subject: str, organisation: str, start_year: int, limit: int = 3):
    from metodist.analysis.models import ProblemField, RunStatus

    return list(ProblemField.objects.filter(
        run__status=RunStatus.DONE, run__academic_year__start_year=start_year, flagged=True,
        organisation__code=organisation, field_kind="content_element", assessment__subject__code=subject,
        group_level__in=["school", "municipality"]).order_by("-priority")[:limit])


def _attend(ctx, event, teachers, *, share_rated: float = 0.8, mean: float = 4.3):
    from metodist.assistance.models import EventAttendance

    rng = ctx["rng"]
    rows = []
    for t in teachers:
        came = bool(rng.random() < 0.9)
        rating = None
        if came and rng.random() < share_rated:
            rating = int(np.clip(round(rng.normal(mean, 0.7)), 1, 5))
        rows.append(EventAttendance(event=event, teacher=t, attended=came, satisfaction=rating))
    EventAttendance.objects.bulk_create(rows)


def _events(ctx, courses) -> dict:
    from metodist.assistance.models import Event, EventKind

    orgs, rng = ctx["orgs"], ctx["rng"]
    maths = _teachers_of(ctx, "ma")
    russian = _teachers_of(ctx, "ru")
    primary = [t for t in ctx["teachers"] if {s.code for s in t.subjects.all()} == {"ru", "ma"}]
    service, municipality, institute = orgs[METHOD_SERVICE[0]], orgs[MUNICIPALITY[0]], orgs[INSTITUTE[0]]
    presenter = next((t for t in (_teacher(s, c) for s, c in sorted(ctx["participants"])) if t), None)
    out = {}

    def event(key, kind, title, organiser, date, *, audience=None, audience_text="", subject=None, elements=(),
              fields=(), topic="", place="", link="", ends=None, who=None, people=(), mean=4.3, result=""):
        made = Event.objects.create(
            kind=kind, title=title, topic=topic, organiser=organiser, audience=audience, audience_text=audience_text,
            date=date, ends=ends, place=place, link=link, subject=ctx["subjects"].get(subject) if subject else None,
            presenter=who, result=result, created_by=ctx["users"].get("methodologist"))
        made.content_elements.set(elements)
        made.problem_fields.set(fields)
        if people:
            _attend(ctx, made, people, mean=mean)
        out[key] = made
        return made

    def sample(pool, size):
        pool = list(pool)
        if not pool:
            return []
        return [pool[int(i)] for i in sorted(rng.choice(len(pool), size=min(size, len(pool)), replace=False))]

    event("seminar_ma", EventKind.SEMINAR, "Семинар «Результаты ВПР 2024 года по математике: проблемные поля "
          "муниципалитета»", service, datetime.date(2024, 11, 20), audience=municipality,
          audience_text="учителя математики 5–9 классов", subject="ma",
          fields=_problem_fields(ctx, "ma", MUNICIPALITY[0], 2023), place="Управление образования, актовый зал",
          people=sample(maths, 14), mean=4.1,
          result="Определены темы для курсов и заседаний ГМО: текстовые задачи, геометрия.")
    event("master_text", EventKind.MASTER_CLASS, "Мастер-класс «Схемы и таблицы к условию текстовой задачи»",
          presenter.school if presenter else service, datetime.date(2025, 2, 12), audience=municipality,
          audience_text="учителя математики 5–6 классов", subject="ma",
          elements=_elements((COURSE["codifier"], COURSE["element"])), who=presenter,
          place=presenter.school.short_name if presenter else "", people=sample(maths, 9), mean=4.6,
          topic="Опыт слушателя КПК: моделирование условия задачи схемой, таблицей, отрезками.")
    weak_school = orgs.get("edu900015")
    mentor_school = orgs.get("edu900016")
    if weak_school and mentor_school:
        event("open_lesson", EventKind.OPEN_LESSON, "Открытый урок математики в 6 классе «Задачи на части»",
              mentor_school, datetime.date(2025, 3, 5), audience=weak_school,
              audience_text="учителя математики школы, которой помогает школа-шеф", subject="ma",
              elements=_elements((COURSE["codifier"], COURSE["element"])), place=mentor_school.short_name,
              people=[t for t in ctx["teachers"] if t.school_id == weak_school.pk], mean=4.5)
    event("round_table", EventKind.ROUND_TABLE, "Круглый стол «Объективность оценивания: отметка в журнале и "
          "результаты ВПР»", service, datetime.date(2025, 4, 10), audience=municipality,
          audience_text="заместители директоров, руководители ШМО", place="Управление образования",
          people=sample(ctx["teachers"], 12), mean=3.9,
          result="Решено проводить перекрёстную проверку работ в школах с признаками необъективности.")
    event("webinar_geometry", EventKind.WEBINAR, "Вебинар «Геометрические задачи ВПР 7 класса: типичные ошибки»",
          institute, datetime.date(2025, 10, 22), audience_text="учителя математики 7–9 классов", subject="ma",
          elements=_elements(("vpr-ma-7", "6")), link="https://iro.example/webinars/geometry-7",
          people=sample(maths, 11), mean=4.2)
    if weak_school:
        event("field_session", EventKind.FIELD_SESSION, "Выездное тематическое занятие ИРО в МБОУ «Заречная СОШ»: "
              "разбор результатов ВПР по математике", institute, datetime.date(2025, 11, 12), audience=weak_school,
              audience_text="педагогический коллектив", subject="ma",
              fields=_problem_fields(ctx, "ma", "edu900015", 2024), place=weak_school.short_name,
              people=[t for t in ctx["teachers"] if t.school_id == weak_school.pk], mean=4.4)
    event("seminar_ru", EventKind.SEMINAR, "Семинар ГМО учителей русского языка «Соотношение звуков и букв: как "
          "учить и как проверять»", service, datetime.date(2025, 11, 26), audience=municipality,
          audience_text="учителя русского языка 5–9 классов", subject="ru",
          elements=_elements(("vpr-ru-6", "3.9"), ("vpr-ru-6", "8.1")), place="МБОУ «Лицей № 2»",
          people=sample(russian, 12), mean=4.3)
    if "edu900001" in orgs:
        event("week_ma", EventKind.SUBJECT_WEEK, "Предметная неделя математики", orgs["edu900001"],
              datetime.date(2025, 12, 1), ends=datetime.date(2025, 12, 6), audience=orgs["edu900001"],
              audience_text="учителя и обучающиеся 5–11 классов", subject="ma",
              people=[t for t in maths if t.school_id == orgs["edu900001"].pk], mean=4.7)
    event("webinar_probability", EventKind.WEBINAR, "Вебинар «Вероятность и статистика в 7 классе: с чего "
          "начать»", institute, datetime.date(2026, 1, 21), audience_text="учителя математики 7 классов",
          subject="ma", elements=_elements(("vpr-ma-7", "8")), link="https://iro.example/webinars/probability-7",
          people=sample(maths, 10), mean=4.0)
    if "edu900002" in orgs:
        event("decade_ru", EventKind.SUBJECT_DECADE, "Декада русского языка и литературы", orgs["edu900002"],
              datetime.date(2026, 1, 19), ends=datetime.date(2026, 1, 30), audience=orgs["edu900002"],
              audience_text="учителя и обучающиеся 5–11 классов", subject="ru",
              people=[t for t in russian if t.school_id == orgs["edu900002"].pk], mean=4.6)
    event("master_primary", EventKind.MASTER_CLASS, "Мастер-класс «План текста: от вопросов к пунктам»", service,
          datetime.date(2026, 2, 11), audience=municipality, audience_text="учителя начальных классов",
          subject="ru", elements=_elements(("vpr-ru-4", "8.5")), place="МБОУ «Гимназия № 1»",
          people=sample(primary, 10), mean=4.5)
    if mentor_school:
        event("open_doors", EventKind.OPEN_DOORS, "День открытых дверей в Центре «Точка роста» МБОУ «Покровская "
              "СОШ»", mentor_school, datetime.date(2026, 3, 27), audience=municipality,
              audience_text="учителя сельских школ", place=mentor_school.short_name,
              people=sample(ctx["teachers"], 10), mean=4.8)
    event("consultation", EventKind.CONSULTATION, "Консультация методиста «Анализ результатов ВПР по классу: как "
          "читать отчёты»", service, datetime.date(2026, 10, 14), audience=municipality,
          audience_text="учителя, впервые анализирующие ВПР", people=sample(ctx["teachers"], 6), mean=4.4)
    event("seminar_next", EventKind.SEMINAR, "Семинар «Итоги ВПР 2026 года: что изменилось после курсов»",
          service, datetime.date(2026, 12, 16), audience=municipality, audience_text="руководители ШМО",
          fields=_problem_fields(ctx, "ma", MUNICIPALITY[0], 2025), subject="ma", place="Управление образования")
    event("month_ru", EventKind.MONTH, "Месячник русского языка", service, datetime.date(2027, 2, 1),
          ends=datetime.date(2027, 2, 28), audience=municipality, subject="ru",
          audience_text="школы муниципалитета")
    return out


# --- routes, mentoring, the mentor school ------------------------------------------------------------------

def _routes(ctx) -> list:
    from metodist.analysis.models import AnalysisRun, DeficitProfile, RunStatus
    from metodist.assistance.courses import AssistanceError, set_enrolment
    from metodist.assistance.models import Enrolment, EnrolmentStatus, ItemKind, ItemStatus
    from metodist.assistance.routes import approve_route, propose_route, set_item_status

    # the analysis of the year of the teachers' diagnostic (October 2024): routes for 2025/2026, carried out
    diagnosed = DIAGNOSTICS[0][2]
    start = diagnosed.year if diagnosed.month >= 9 else diagnosed.year - 1
    profiles = DeficitProfile.objects.filter(run__status=RunStatus.DONE, scope="personal", teacher__isnull=False)
    run_id = (profiles.filter(run__academic_year__start_year=start).order_by("-run__finished_at")
              .values_list("run", flat=True).first()
              or profiles.order_by("-run__academic_year__start_year", "-run__finished_at").values_list(
                  "run", flat=True).first())
    if run_id is None:
        return []
    run = AnalysisRun.objects.select_related("academic_year").get(pk=run_id)
    users = ctx["users"]
    made = []
    for n, d in enumerate(ctx["truth"].get("teacher_deficits", [])):
        teacher = _teacher(d["school"], d["teacher"])
        if teacher is None:
            continue
        try:
            route = propose_route(teacher, run, user=users.get("association_head") or users.get("methodologist"))
        except AssistanceError:
            continue
        made.append(route)
        last = n == len(ctx["truth"]["teacher_deficits"]) - 1
        if last:
            continue  # the last one stays a draft, as one always does
        approve_route(route, users["methodologist"], comment="Рассмотрено на заседании ШМО, протокол № 1")
        start = route.academic_year.start_year
        for k, item in enumerate(route.items.order_by("position")):
            past = item.due is not None and item.due < datetime.date(start + 1, 6, 1)
            if item.kind == ItemKind.COURSE and item.link_id:
                enrolment, _created = Enrolment.objects.get_or_create(
                    course_id=item.link_id, teacher=teacher, defaults={"status": EnrolmentStatus.APPLIED})
                if past:
                    set_enrolment(enrolment, status=EnrolmentStatus.COMPLETED,
                                  final_work="Итоговая работа по теме курса", grade="зачтено")
            if past and k % 4 != 3:
                set_item_status(item, ItemStatus.DONE, users["methodologist"], done_at=item.due)
    return made


def _mentorships(ctx, routes) -> list:
    from metodist.assistance.events import mentorship_from_item
    from metodist.assistance.models import ItemKind, MentoringStatus, Mentorship

    made = []
    for route in routes[:2]:
        item = route.items.filter(kind=ItemKind.MENTORSHIP, mentor__isnull=False).first()
        if item is not None:
            mentorship = mentorship_from_item(item, user=ctx["users"].get("methodologist"),
                                              starts=datetime.date(route.academic_year.start_year, 9, 20))
            mentorship.result = "Посещено и разобрано шесть уроков; наставляемый провёл открытый урок."
            mentorship.status = MentoringStatus.COMPLETED
            mentorship.save(update_fields=["result", "status"])
            made.append(mentorship)
    busy = {m.mentor_id for m in made} | {m.mentee_id for m in made} | {r.teacher_id for r in routes}
    young = sorted((t for t in ctx["teachers"] if t.experience_years is not None and t.experience_years <= 3
                    and t.pk not in busy and (t.school.code, t.code) not in ctx["planted"]),
                   key=lambda t: (t.experience_years, t.school.code, t.code))
    for mentee in young[:1]:
        same = [t for t in ctx["teachers"] if t.school_id == mentee.school_id and t.pk != mentee.pk and t.pk not in busy
                and {s.pk for s in t.subjects.all()} & {s.pk for s in mentee.subjects.all()}
                and t.qualification_category in ("highest", "first")]
        if not same:
            continue
        mentor = max(same, key=lambda t: (t.experience_years or 0, t.code))
        made.append(Mentorship.objects.create(
            mentor=mentor, mentee=mentee, academic_year=ctx["year"][2026], subject=next(iter(mentee.subjects.all()),
                                                                                      None),
            starts=datetime.date(2026, 9, 15), ends=datetime.date(2027, 5, 31), status=MentoringStatus.ACTIVE,
            goals="Адаптация молодого специалиста: планирование уроков, оценивание, работа с родителями.",
            created_by=ctx["users"].get("school_admin")))
    return made


def _pairing(ctx):
    from metodist.assistance.models import MentoringStatus, MentorSchool
    from metodist.planning.models import Roadmap, RoadmapKind

    orgs = ctx["orgs"]
    if "edu900015" not in orgs or "edu900016" not in orgs:
        return None
    roadmap = (Roadmap.objects.filter(kind=RoadmapKind.SCHOOL_TRANSITION, organisation=orgs["edu900015"],
                                      mentor_school=orgs["edu900016"]).select_related("academic_year")
               .order_by("-academic_year__start_year").first())
    year = roadmap.academic_year if roadmap else ctx["year"][2025]
    pairing = MentorSchool.objects.create(
        mentor_school=orgs["edu900016"], school=orgs["edu900015"], academic_year=year, roadmap=roadmap,
        starts=datetime.date(year.start_year, 9, 1), ends=datetime.date(year.start_year + 1, 6, 30),
        status=MentoringStatus.ACTIVE, created_by=ctx["users"].get("methodologist"),
        plan="1. Взаимопосещение уроков математики и русского языка — не реже раза в четверть.\n"
             "2. Совместные заседания ШМО по проблемным полям ВПР (октябрь, январь, март).\n"
             "3. Открытые уроки учителей школы-шефа для учителей школы (по графику).\n"
             "4. Совместная диагностическая работа по математике в феврале и её разбор.\n"
             "5. Наставники из школы-шефа для учителей, чьи классы показали низкие результаты.")
    pairing.content_elements.set(_weakest_elements(orgs["edu900015"], roadmap, year.start_year - 1))
    return pairing


def _weakest_elements(school, roadmap, start_year: int, per_subject: int = 2) -> list[int]:
    """What the joint plan works on: the content elements of the transition plan's goals, else the school's
    elements furthest below their reference in the analysis the plan was drawn from (a school low on
    everything may have no single element flagged)."""
    from metodist.analysis.models import ProblemField, RunStatus

    if roadmap is not None:
        found = list(roadmap.indicators.filter(content_element__isnull=False).values_list("content_element_id",
                                                                                       flat=True))
        if found:
            return found
    out: list[int] = []
    for subject in ("ma", "ru"):
        fields = (ProblemField.objects.filter(run__status=RunStatus.DONE, run__academic_year__start_year=start_year,
                                              organisation=school, group_level="school",
                                              field_kind="content_element", assessment__subject__code=subject)
                  .order_by("difference", "pk").values_list("content_element_id", flat=True))
        out += [pk for pk in dict.fromkeys(fields) if pk not in out][:per_subject]
    return out


# --- requests and the roadmaps' links --------------------------------------------------------------------

REQUESTS = [
    ("methodological", "ma", "Как организовать работу с текстовыми задачами в классе, где половина детей не может "
     "прочитать условие?", "course"),
    ("subject", "ma", "Затрудняюсь объяснять решение геометрических задач в 7 классе: дети не видят, с чего начать.",
     "mentoring"),
    ("psychological", None, "Как работать с обучающимися с низкой учебной мотивацией в 8 классе?", "event"),
    ("digital", None, "Хочу давать быструю обратную связь с помощью цифровых ресурсов, но не знаю, какие выбрать.",
     "event"),
    ("subject", "ru", "Обучающиеся путают звуки и буквы при фонетическом разборе — нужны приёмы и упражнения.",
     "event"),
    ("methodological", "ru", "Как готовить к ВПР, не превращая уроки в «натаскивание» на задания?", "consultation"),
    ("communicative", None, "Как выстроить разговор с родителями о низких результатах ВПР класса?", "consultation"),
    ("methodological", "ma", "Формирующее оценивание: с чего начать в 5 классе?", "course"),
    ("subject", "ma", "Задачи по теории вероятностей в 7 классе: не хватает методических материалов.", "course"),
    ("methodological", "ru", "Анализ результатов ВПР по классу: как читать отчёты и что делать дальше?",
     "consultation"),
    ("subject", "ru", "План текста в 4 классе: дети пересказывают вместо того, чтобы выделять части.", "event"),
    ("methodological", "ma", "Нужна помощь в составлении рабочей программы с учётом проблемных полей класса.",
     "consultation"),
    ("psychological", None, "Тревожность обучающихся перед ОГЭ: как снизить её на уроках?", "any"),
    ("subject", "ma", "Функциональная грамотность: где брать контекстные задачи по математике?", "course"),
]


def _requests(ctx, courses, events) -> int:
    from metodist.assistance.models import AssistanceRequest, Mentorship, PreferredForm, RequestStatus
    from metodist.core.models import Subject

    rng = ctx["rng"]
    teachers = ctx["teachers"]
    planted = [t for t in (_teacher(d["school"], d["teacher"]) for d in ctx["truth"].get("teacher_deficits", []))
               if t is not None]
    subjects = {s.code: s for s in Subject.objects.filter(code__in=["ma", "ru"])}
    by_subject = {code: [t for t in teachers if code in {s.code for s in t.subjects.all()}] for code in ("ma", "ru")}
    answers = {
        "course": (courses.get("geometry"), None),
        "event": (None, events.get("seminar_ru") or events.get("webinar_geometry")),
        "consultation": (None, events.get("consultation")),
    }
    methodologist = ctx["users"].get("methodologist")
    made = 0
    for n, (area, subject, text, form) in enumerate(REQUESTS):
        if n < len(planted) and (subject is None or subject in {s.code for s in planted[n].subjects.all()}):
            teacher = planted[n]
        else:
            pool = by_subject.get(subject) or teachers
            teacher = pool[int(rng.integers(len(pool)))]
        created = datetime.date(2025, 9, 15) + datetime.timedelta(days=int(n * 29 + rng.integers(0, 10)))
        item = AssistanceRequest.objects.create(
            teacher=teacher, subject=subjects.get(subject) if subject else None, competence_area=area, text=text,
            preferred_form=form if form in PreferredForm.values else PreferredForm.ANY)
        status = [RequestStatus.ANSWERED, RequestStatus.ANSWERED, RequestStatus.CLOSED, RequestStatus.IN_WORK,
                  RequestStatus.NEW][n % 5] if created < datetime.date(2026, 10, 1) else RequestStatus.NEW
        updates = {"created_at": _at(created, 9 + n % 6), "status": status}
        if status in (RequestStatus.ANSWERED, RequestStatus.CLOSED):
            course, event = answers.get(form, (None, None))
            mentorship = Mentorship.objects.filter(mentee=teacher).first() if form == "mentoring" else None
            if subject == "ma" and form == "course" and "вероятност" in text:
                course = courses.get("geometry")
            if subject == "ma" and form == "course" and "Формирующее" in text:
                course = courses.get("assessment")
            if "План текста" in text:
                event = events.get("master_primary")
            if "Функциональная" in text:
                course = courses.get("next")
            parts = []
            if course is not None:
                parts.append(f"Рекомендуем курс {course.title} ({course.starts:%d.%m.%Y} – {course.ends:%d.%m.%Y}); "
                             "заявку подаёт школа.")
            if event is not None:
                parts.append(f"Приглашаем: {event.get_kind_display()} «{event.title}», {event.date:%d.%m.%Y}.")
            if mentorship is not None:
                parts.append(f"Закреплён наставник: {mentorship.mentor.full_name}.")
            if not parts:
                parts.append("Консультация методиста ММС — по вторникам, 14:00–16:00, каб. 12; материалы по теме "
                             "размещены на сайте методической службы.")
            updates.update(answer=" ".join(parts), help_course=course, help_event=event, help_mentorship=mentorship,
                           answered_by=methodologist, answered_at=_at(created + datetime.timedelta(days=6), 15))
        elif status == RequestStatus.IN_WORK:
            updates["answer"] = "Подбираем наставника в школе-шефе."
        AssistanceRequest.objects.filter(pk=item.pk).update(**updates)
        made += 1
    return made


def _link_actions(ctx, courses, events) -> None:
    """The municipal mathematics roadmap sends teachers to the geometry course and the webinar: link its
    actions to them (RoadmapAction.link_kind / link_id)."""
    from metodist.planning.models import Roadmap, RoadmapAction, RoadmapKind

    roadmap = (Roadmap.objects.filter(kind=RoadmapKind.MUNICIPAL, organisation__code=MUNICIPALITY[0],
                                      academic_year__start_year=2025).order_by("pk").first())
    if roadmap is None:
        return
    actions = list(RoadmapAction.objects.filter(roadmap=roadmap, link_kind="").order_by("position"))
    links = [("«Геометрия»", "course", courses.get("geometry")),
             ("геометрических фигур", "event", events.get("webinar_geometry")),
             ("«Статистика и теория вероятностей»", "event", events.get("webinar_probability"))]
    used: set[int] = set()
    for words, kind, target in links:
        action = next((a for a in actions if words in a.title and a.pk not in used and "Включить" in a.title), None)
        if action is not None and target is not None:
            used.add(action.pk)
            RoadmapAction.objects.filter(pk=action.pk).update(link_kind=kind, link_id=target.pk)
