"""Stage 3 of the demo: the practice library, communities' sessions and their records, as a municipality
would have them by December 2026. Made by the same functions the pages call; nothing is typed as evidence:
every practice's evidence is counted from the demo's results.

* The course participants' joint practice (`world.COURSE`: texts problems in grades 5–6, taken up in
  2025/2026 after the 72-hour course): their classes were weak on the element before and better than the
  municipality after — its evidence must say «результаты выросли».
* The resilient «Покровская СОШ» (edu900016): its school-wide practice for pupils at risk of failing, on
  the elements where it is strongest; it has no «before» year in the demo (taken up in 2022/2023), so its
  evidence says «устойчиво выше муниципалитета».
* A gymnasium teacher's practice of Russian whose results did not move (the library says so, «не видно
  эффекта»), and a teacher's draft not yet published.
* Sessions of the ГМО, a school ШМО (a webinar) and Клуб «ЛИДЕР» (a field session at the low-results
  «Заречная СОШ»), discussing the problem fields of the analyses and presenting the practices.
Rerunning changes nothing once the course participants' practice exists."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction

from metodist.demo.assistance import _teacher, _truth
from metodist.demo.world import COURSE, MUNICIPALITY

JOINT_TITLE = "Моделирование условия текстовой задачи: схемы, таблицы и «обратный ход» в 5–6 классах"


def build_practices(echo=print, *, data_dir=None, seed: int | None = None, scale: int | None = None) -> dict:
    from metodist.practices.models import CommunitySession, Practice

    if Practice.objects.filter(title=JOINT_TITLE).exists():
        return {"practices": Practice.objects.count()}
    truth = _truth(data_dir, seed, scale)
    if not truth.get("course"):
        echo("Передовой опыт: нет truth.json демонстрации — пропущено.")
        return {}
    with transaction.atomic():
        practices = _practices(truth)
        sessions = _sessions(practices)
    from metodist.practices.evidence import recompute

    for practice in practices.values():
        recompute(practice)
    echo(f"Передовой опыт: практик {Practice.objects.count()}, заседаний сообществ {CommunitySession.objects.count()}"
         f" ({sessions}).")
    return {"practices": len(practices), "sessions": sessions}


def _element(codifier: str, code: str):
    from metodist.reference.models import ContentElement

    return ContentElement.objects.get(codifier=codifier, code=code)


def _latest_run(start_year: int):
    from metodist.analysis.models import AnalysisRun, RunStatus

    return (AnalysisRun.objects.filter(status=RunStatus.DONE, academic_year__start_year=start_year)
            .order_by("-finished_at", "-pk").first())


def _practices(truth: dict) -> dict:
    from metodist.analysis.models import ProblemField
    from metodist.core.models import Organisation, Subject, Teacher
    from metodist.practices.models import EvidenceScope, Practice, PracticeStatus

    users = {u.username: u for u in get_user_model().objects.filter(
        username__in=["methodologist", "school_admin", "teacher"])}
    maths, russian = Subject.objects.get(code="ma"), Subject.objects.get(code="ru")
    element = _element(COURSE["codifier"], COURSE["element"])
    participants = [t for t in (_teacher(p["school"], p["teacher"]) for p in truth["course"]["participants"]) if t]
    out = {}
    joint = Practice.objects.create(
        title=JOINT_TITLE, school=participants[0].school, subject=maths, grade_from=5, grade_to=6,
        summary="Пятиклассники и шестиклассники переводят условие задачи в схему или таблицу до решения и решают "
                "задачу «с конца»; типичные ошибки разбираются на следующем уроке.",
        description="Практика разработана слушателями КПК «Методика обучения решению текстовых задач в 5–6 классах» "
                    "(ИРО, 2024) как итоговая групповая работа и применяется ими с сентября 2025 года.\n"
                    "1. Каждое задание на движение, работу и части начинается со схемы (отрезки) или таблицы "
                    "«величина — значение — единица».\n2. Раз в неделю — задача, решаемая «обратным ходом».\n"
                    "3. Банк типичных ошибок класса: разбор на следующем уроке, задача-двойник в домашнем задании.\n"
                    "4. Перед ВПР — тренировочная работа в формате заданий 8–10, разбор по схемам.",
        link="https://example.org/metodist/demo/tekstovye-zadachi", started_year=COURSE["academic_year"] + 1,
        evidence_scope=EvidenceScope.TEACHER, status=PracticeStatus.PUBLISHED, competence_areas=["methodological"],
        risk_factors=["learning_failure"], created_by=users.get("methodologist"))
    joint.authors.set(participants)
    joint.content_elements.set([element])
    out["joint"] = joint

    strong = Organisation.objects.get(code="edu900016")
    run = _latest_run(max(COURSE["academic_year"], 2025))
    best = list(ProblemField.objects.filter(
        run=run, group_level="school", organisation=strong, field_kind="content_element", difference__gt=0,
        assessment__subject=maths, assessment__grade__range=(5, 9), pupils__gte=10)  # the practice's grades,
        .select_related("content_element").order_by("-difference")[:3]) if run else []  # enough works to judge
    school_practice = Practice.objects.create(
        title="Индивидуальные планы ликвидации пробелов для обучающихся с рисками учебной неуспешности в "
              "малокомплектной школе",
        school=strong, subject=maths, grade_from=5, grade_to=9,
        summary="Каждому обучающемуся с рисками — план на четверть по темам с пробелами, проверочные листы и "
                "консультации учителя и наставника-старшеклассника.",
        description="Школа ведёт с 2022/2023 учебного года. Входная диагностика в сентябре по элементам "
                    "содержания ВПР; план по темам с пробелами на четверть; еженедельные проверочные листы "
                    "на 10 минут; консультации в «Точке роста»; разговор с родителями дважды в год.",
        started_year=2022, evidence_scope=EvidenceScope.SCHOOL, status=PracticeStatus.PUBLISHED,
        competence_areas=["psychological", "methodological"], risk_factors=["learning_failure", "motivation",
                                                                               "parents"],
        created_by=users.get("methodologist"))
    school_practice.content_elements.set([f.content_element for f in best])
    head = Teacher.objects.filter(school=strong, subjects=maths).order_by("code").first()
    if head is not None:
        school_practice.authors.set([head])
    out["school"] = school_practice

    geometry = _strong_school_practice(truth, users)
    if geometry is not None:
        out["geometry"] = geometry

    planted = {(d["school"], d["teacher"]) for d in truth.get("teacher_deficits", [])}
    course = {(p["school"], p["teacher"]) for p in truth["course"]["participants"]}
    reading = _element("vpr-ru-6", "3.9") if _exists("vpr-ru-6", "3.9") else None
    candidates = [t for t in Teacher.objects.filter(school__code="edu900001", subjects=russian).order_by("code")
                  if (t.school.code, t.code) not in planted | course and t.subjects.count() == 1]
    if reading is not None and candidates:
        plain = Practice.objects.create(
            title="Смысловое чтение на уроках русского языка: приём «инсерт» и вопросы к тексту",
            school=candidates[0].school, subject=russian, grade_from=5, grade_to=7,
            summary="Работа с текстом упражнения по приёму «инсерт» и составление вопросов к тексту.",
            description="Применяется с 2025/2026 учебного года в 5–7 классах.", started_year=2025,
            evidence_scope=EvidenceScope.TEACHER, status=PracticeStatus.PUBLISHED, competence_areas=["subject"],
            created_by=users.get("school_admin"))
        plain.authors.set([candidates[0]])
        plain.content_elements.set([reading])
        out["plain"] = plain
    teacher_user = users.get("teacher")
    own = getattr(teacher_user, "teacher", None) if teacher_user else None
    if own is not None:
        draft = Practice.objects.create(
            title="Устный счёт с карточками-тренажёрами в начале урока", school=own.school,
            subject=own.subjects.first(), grade_from=5, grade_to=6,
            summary="Пять минут устного счёта в начале каждого урока по карточкам с нарастающей сложностью.",
            started_year=2026, evidence_scope=EvidenceScope.TEACHER, status=PracticeStatus.DRAFT,
            competence_areas=["methodological"], created_by=teacher_user)
        draft.authors.set([own])
        draft.content_elements.set([element])
        out["draft"] = draft
    return out


def _strong_school_practice(truth: dict, users: dict):
    """A practice of the school that stage 3 finds strongest on the first planted teacher's element (so the
    roadmaps drafted on that element get an action to study it)."""
    from metodist.analysis.models import ProblemField
    from metodist.core.models import Teacher
    from metodist.practices.matching import strong_peers
    from metodist.practices.models import EvidenceScope, Practice, PracticeStatus

    deficits = truth.get("teacher_deficits") or []
    run = _latest_run(2024)
    if not deficits or run is None:
        return None
    planted = deficits[0]
    field = (ProblemField.objects.filter(run=run, group_level="teacher", teacher__code=planted["teacher"],
                                         teacher__school__code=planted["school"],
                                         content_element__codifier=planted["codifier"],
                                         content_element__code=planted["element"])
             .select_related("run__scope", "organisation", "content_element", "assessment__subject").first())
    if field is None:
        return None
    schools = strong_peers(field)["school"]
    if not schools:
        return None
    school = schools[0].school
    author = Teacher.objects.filter(school=school, subjects=field.assessment.subject).order_by(
        "-experience_years", "code").first()
    practice = Practice.objects.create(
        title=f"Чертёж-конспект и устные задачи по готовым чертежам: {field.content_element.name.lower()}",
        school=school, subject=field.assessment.subject, grade_from=7, grade_to=9,
        summary="Каждое определение и теорема записываются чертежом с подписями; урок начинается с пяти устных "
                "задач по готовым чертежам.",
        description="Применяется в школе с 2022/2023 учебного года всеми учителями математики 7–9 классов: "
                    "единые требования к чертежу, банк задач по готовым чертежам, взаимопроверка в парах.",
        started_year=2022, evidence_scope=EvidenceScope.SCHOOL, status=PracticeStatus.PUBLISHED,
        competence_areas=["subject", "methodological"], created_by=users.get("methodologist"))
    if author is not None:
        practice.authors.set([author])
    practice.content_elements.set([field.content_element])
    return practice


def _exists(codifier: str, code: str) -> bool:
    from metodist.reference.models import ContentElement

    return ContentElement.objects.filter(codifier=codifier, code=code).exists()


def _sessions(practices: dict) -> int:
    from metodist.analysis.models import ProblemField
    from metodist.core.models import MethodAssociation, Organisation, SubjectClub
    from metodist.practices.models import CommunitySession, SessionFormat

    methodologist = get_user_model().objects.filter(username="methodologist").first()
    municipality = Organisation.objects.get(code=MUNICIPALITY[0])
    made = 0
    gmo = MethodAssociation.objects.filter(organisation=municipality, subjects__code="ma").first()
    run_2024, run_2025 = _latest_run(2024), _latest_run(2025)

    def fields(run, organisation, subject="ma", limit=4):
        if run is None:
            return []
        return list(ProblemField.objects.filter(run=run, organisation=organisation, flagged=True,
                                                group_level__in=["municipality", "school"],
                                                field_kind="content_element", assessment__subject__code=subject)
                    .order_by("-priority")[:limit])

    def session(community, **data):
        nonlocal made
        links = {k: data.pop(k, []) for k in ("participants", "problem_fields", "content_elements", "practices")}
        kind = "association" if isinstance(community, MethodAssociation) else "club"
        item = CommunitySession.objects.create(**{kind: community}, created_by=methodologist, **data)
        for name, values in links.items():
            getattr(item, name).set(values)
        made += 1
        return item

    if gmo is not None:
        members = list(gmo.members.all())
        session(gmo, number=1, date=datetime.date(2025, 8, 27), format=SessionFormat.IN_PERSON,
                place="МБОУ «СОШ № 3», актовый зал",
                topic="Итоги ВПР 2025 по математике: проблемные поля муниципалитета и задачи на 2025/2026 год",
                agenda="1. Результаты ВПР 2025 по математике (методист ММС).\n2. Проблемные поля 5–8 классов.\n"
                       "3. Муниципальная дорожная карта по математике: обсуждение проекта.",
                participants=members[: max(3, len(members) * 3 // 4)], guests=2,
                problem_fields=fields(run_2024, municipality),
                decisions="Одобрить проект муниципальной дорожной карты; включить в планы ШМО разбор текстовых задач "
                          "5–6 классов; слушателям КПК представить практику на ноябрьском заседании.",
                feedback="Полезен разбор заданий по элементам содержания; просили раздать таблицы по школам.",
                satisfaction=4.4)
        joint = practices["joint"]
        session(gmo, number=2, date=datetime.date(2025, 11, 12), format=SessionFormat.MIXED,
                place="МБОУ «Гимназия № 1»", link="https://example.org/metodist/demo/gmo-ma-2",
                topic="Текстовые задачи в 5–6 классах: практика слушателей КПК",
                agenda="1. Представление практики «" + joint.title + "».\n2. Открытый урок в 6 классе.\n"
                       "3. Обмен опытом: банк типичных ошибок.",
                participants=members[: max(3, len(members) // 2)], guests=4,
                content_elements=list(joint.content_elements.all()), practices=[joint],
                decisions="Рекомендовать практику учителям 5–6 классов; собрать банк задач-двойников к марту.",
                feedback="Понравились схемы к задачам на движение; просят видеозапись открытого урока.",
                satisfaction=4.7)
        session(gmo, number=1, date=datetime.date(2026, 8, 26), format=SessionFormat.IN_PERSON,
                place="МБОУ «СОШ № 3»",
                topic="Итоги ВПР 2026 по математике: что сдвинулось, что переходит в новый цикл",
                agenda="1. Показатели муниципальной дорожной карты: итоговые значения.\n2. Новые проблемные поля.",
                participants=members[: max(3, len(members) * 2 // 3)],
                problem_fields=fields(run_2025, municipality),
                decisions="Продолжить работу по нерешённым проблемным полям в дорожной карте 2026/2027 года.")
    low = Organisation.objects.filter(code="edu900015").first()
    shmo = MethodAssociation.objects.filter(organisation__code="edu900001", subjects__code="ru").first()
    if shmo is not None:
        session(shmo, number=3, date=datetime.date(2026, 1, 21), format=SessionFormat.WEBINAR,
                link="https://example.org/metodist/demo/shmo-ru-webinar",
                topic="Смысловое чтение на уроках русского языка",
                participants=list(shmo.members.all()),
                practices=[practices["plain"]] if "plain" in practices else [],
                decisions="Опробовать приём в 6 классах, итоги — на апрельском заседании.", satisfaction=4.1)
    club = SubjectClub.objects.filter(name="Клуб «ЛИДЕР»").first()
    if club is not None and low is not None:
        from metodist.practices.matching import weak_fields

        session(club, number=4, date=datetime.date(2025, 10, 22), format=SessionFormat.FIELD, host=low,
                place=low.short_name, topic="Выездное заседание: проблемные поля школы и опыт школы-наставника",
                agenda="1. Посещение уроков математики 5–7 классов.\n2. Разбор проблемных полей школы.\n"
                       "3. Опыт «Покровской СОШ»: индивидуальные планы ликвидации пробелов.",
                participants=list(club.members.all())[:6], guests=5,
                problem_fields=weak_fields(run_2024, low)[:4] if run_2024 else [],  # flagged, else its largest gaps
                practices=[practices["school"]],
                decisions="Закрепить за учителями школы наставников из Клуба; повторное посещение уроков в феврале.",
                feedback="Учителя школы отметили полезность разбора уроков сразу после посещения.", satisfaction=4.6)
    return made
