"""Teacher data pages: diagnostics, surveys, attestations and deficits scoped by role (a teacher his own,
a school its teachers, a municipality its schools; another's object by id is 404), and the hand-entry
forms: a valid save writes an audit row, invalid input gets Russian errors, the choices are limited to what
the user may see, a viewer gets 403."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from lxml import html

from metodist.collection.models import (
    Attestation,
    CompetenceArea,
    DeficitScope,
    DeficitSource,
    DiagnosticScore,
    ProfessionalDeficit,
    Survey,
    SurveyResponse,
    TeacherDiagnostic,
)
from metodist.core.models import (
    AcademicYear,
    AssociationScope,
    AuditEntry,
    MethodAssociation,
    RoleAssignment,
    Subject,
    Teacher,
)

YEAR = 2025  # the academic year 2025/2026 of the data below
ON = dt.date(2025, 10, 15)


def user_with(username: str, role: str | None = None, organisation=None, teacher: Teacher | None = None):
    user = get_user_model().objects.create_user(username, password="x")
    if role:
        RoleAssignment.objects.create(user=user, role=role, organisation=organisation)
    if teacher is not None:
        teacher.user = user
        teacher.save(update_fields=["user"])
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def tables(response) -> dict[str, list[list[str]]]:
    tree = html.fromstring(response.content.decode())
    found = {}
    for table in tree.iter("table"):
        caption = table.find("caption")
        title = caption.text.strip() if caption is not None and caption.text else ""
        found[title] = [[" ".join(td.text_content().split()) for td in tr.findall("td")]
                        for tr in table.find("tbody").findall("tr") if not tr.find_class("empty")]
    return found


def diagnose(teacher, subject, scores, title="Предметная диагностика", on=ON):
    """A diagnostic with topic scores [(topic, score, max)]; total = sums."""
    diagnostic = TeacherDiagnostic.objects.create(
        teacher=teacher, subject=subject, title=title, taken_on=on,
        score=sum(s for _t, s, _m in scores), max_score=sum(m for _t, _s, m in scores))
    for topic, score, maximum in scores:
        DiagnosticScore.objects.create(diagnostic=diagnostic, topic=topic, score=score, max_score=maximum)
    return diagnostic


@pytest.fixture
def world(region_tree):
    t = region_tree
    ma = Subject.objects.create(code="ma", name="Математика")
    ru = Subject.objects.create(code="ru", name="Русский язык")
    teachers = {
        "a": Teacher.objects.create(school=t["school11"], full_name="Аистова Анна"),
        "b": Teacher.objects.create(school=t["school11"], full_name="Белов Борис"),
        "c": Teacher.objects.create(school=t["school12"], full_name="Волков Виктор"),
        "d": Teacher.objects.create(school=t["school21"], full_name="Громова Галина"),
    }
    diagnostics = {
        # Аистова: «Дроби» 1 of 4 (25 % < 50 %), «Проценты» 3 of 4: 4 of 8 = 50 % overall
        "a": diagnose(teachers["a"], ma, [("Дроби", 1, 4), ("Проценты", 3, 4)]),
        "b": diagnose(teachers["b"], ma, [("Дроби", 4, 4), ("Проценты", 2, 4)]),
        "c": diagnose(teachers["c"], ma, [("Дроби", 3, 4)]),
        "d": diagnose(teachers["d"], ma, [("Дроби", 0, 4)]),
    }
    survey = Survey.objects.create(title="Входное анкетирование КПК", stage="entry", organisation=t["mun1"],
                                   conducted_on=ON, questions=["Формат обучения"])
    answers = [("a", "очно", 5), ("b", "дистанционно", 4), ("c", "очно", 2), ("d", "очно", 1)]
    for key, answer, satisfaction in answers:
        SurveyResponse.objects.create(survey=survey, teacher=teachers[key], answers={"Формат обучения": answer},
                                      satisfaction=satisfaction)
    for key in teachers:
        Attestation.objects.create(teacher=teachers[key], held_on=ON, category="first",
                                   difficulties=[{"area": "methodological", "text": f"Затруднение {key}"}])
    gmo = MethodAssociation.objects.create(name="ГМО учителей математики", scope=AssociationScope.MUNICIPALITY,
                                           organisation=t["mun1"], head=teachers["b"])
    gmo.subjects.set([ma])
    other = MethodAssociation.objects.create(name="ГМО учителей математики района 2",
                                             scope=AssociationScope.MUNICIPALITY, organisation=t["mun2"])
    users = {
        "methodologist": user_with("metod", "methodologist", t["mun1"]),
        "methodologist2": user_with("metod2", "methodologist", t["mun2"]),
        "school_admin": user_with("admin11", "school_admin", t["school11"]),
        "school_admin21": user_with("admin21", "school_admin", t["school21"]),
        "teacher": user_with("teacher_a", "teacher", t["school11"], teachers["a"]),
        "head": user_with("head_b", "association_head", t["school11"], teachers["b"]),
        "viewer": user_with("viewer", "viewer", t["mun1"]),
        "nobody": user_with("nobody"),
    }
    return {**t, "ma": ma, "ru": ru, "teachers": teachers, "diagnostics": diagnostics, "survey": survey,
            "gmo": gmo, "other_gmo": other, "users": users}


def names_in(rows, column=0) -> set[str]:
    return {row[column] for row in rows}


def test_diagnostics_are_scoped_by_role(world):
    caption = "Предметные диагностики учителей"
    seen = {}
    for role in ("methodologist", "school_admin", "teacher", "methodologist2"):
        response = client_for(world["users"][role]).get(f"/collection/teachers/diagnostics/?year={YEAR}")
        assert response.status_code == 200
        seen[role] = names_in(tables(response)[caption])
    assert seen["methodologist"] == {"Аистова Анна", "Белов Борис", "Волков Виктор"}
    assert seen["school_admin"] == {"Аистова Анна", "Белов Борис"}
    assert seen["teacher"] == {"Аистова Анна"}
    assert seen["methodologist2"] == {"Громова Галина"}


def test_diagnostic_rows_mark_topics_below_the_threshold(world):
    response = client_for(world["users"]["school_admin"]).get(f"/collection/teachers/diagnostics/?year={YEAR}")
    rows = {row[0]: row for row in tables(response)["Предметные диагностики учителей"]}
    # columns: teacher, school, subject, title, date, score, max, %, weak topics
    assert rows["Аистова Анна"][4:9] == ["15.10.2025", "4", "8", "50", "Дроби"]  # 1/4 = 25 % < 50 %
    assert rows["Белов Борис"][7:9] == ["75", "—"]  # 2/4 = 50 % is not below the threshold
    tree = html.fromstring(response.content.decode())
    flagged = [" ".join(td.text_content().split()) for td in tree.find_class("flag")]
    assert flagged == ["Дроби"]


def test_diagnostic_page_by_id_is_404_outside_the_scope(world):
    d = world["diagnostics"]
    users = world["users"]
    own = client_for(users["school_admin"]).get(f"/collection/teachers/diagnostics/{d['a'].pk}/")
    assert own.status_code == 200
    topics = {row[0]: row for row in tables(own)["Результаты по темам"]}
    assert topics["Дроби"][3:] == ["1", "4", "25"] and topics["Проценты"][3:] == ["3", "4", "75"]
    assert tables(own)["Результаты по областям компетенций"] == [["предметные", "4", "8", "50"]]
    assert client_for(users["school_admin"]).get(f"/collection/teachers/diagnostics/{d['d'].pk}/").status_code == 404
    assert client_for(users["school_admin21"]).get(f"/collection/teachers/diagnostics/{d['a'].pk}/").status_code == 404
    assert client_for(users["teacher"]).get(f"/collection/teachers/diagnostics/{d['b'].pk}/").status_code == 404
    assert client_for(users["teacher"]).get(f"/collection/teachers/diagnostics/{d['a'].pk}/").status_code == 200
    assert client_for(users["methodologist2"]).get(f"/collection/teachers/diagnostics/{d['c'].pk}/").status_code == 404
    assert client_for(users["methodologist"]).get("/collection/teachers/diagnostics/999999/").status_code == 404


def test_survey_summary_counts_the_visible_answers(world):
    survey = world["survey"]
    response = client_for(world["users"]["methodologist"]).get(f"/collection/teachers/surveys/?year={YEAR}")
    (row,) = tables(response)["Анкетирования"]
    # the answers belong to the survey's organisation (municipality 1): all four, 5 + 4 + 2 + 1
    assert row[0] == "Входное анкетирование КПК" and row[4:] == ["1", "4", "3"]
    page = client_for(world["users"]["methodologist"]).get(f"/collection/teachers/surveys/{survey.pk}/")
    answers = tables(page)["Ответы по вопросам"]
    assert answers == [["Формат обучения", "очно", "3", "75"], ["Формат обучения", "дистанционно", "1", "25"]]
    satisfaction = {row[0]: row[1] for row in tables(page)["Удовлетворённость"]}
    assert satisfaction == {"5": "1", "4": "1", "3": "0", "2": "1", "1": "1"}
    # a survey of the municipality is not a school's: its page is 404 for a school administrator
    assert client_for(world["users"]["school_admin"]).get(f"/collection/teachers/surveys/{survey.pk}/") \
        .status_code == 404
    assert client_for(world["users"]["methodologist2"]).get(f"/collection/teachers/surveys/{survey.pk}/") \
        .status_code == 404
    assert client_for(world["users"]["teacher"]).get(f"/collection/teachers/surveys/{survey.pk}/").status_code == 404


def test_attestations_and_deficits_are_scoped(world):
    teachers = world["teachers"]
    year = AcademicYear.objects.create(start_year=YEAR)
    for key in ("a", "d"):
        ProfessionalDeficit.objects.create(scope=DeficitScope.PERSONAL, organisation=teachers[key].school,
                                           teacher=teachers[key], academic_year=year, topic=f"Дефицит {key}",
                                           source=DeficitSource.DIAGNOSTIC, subject=world["ma"])
    ProfessionalDeficit.objects.create(scope=DeficitScope.CORPORATE, organisation=world["mun1"],
                                       association=world["gmo"], academic_year=year, topic="Текстовые задачи",
                                       source=DeficitSource.ASSOCIATION, subject=world["ma"])
    rows = tables(client_for(world["users"]["school_admin"]).get(f"/collection/teachers/attestations/?year={YEAR}"))
    assert names_in(rows["Аттестация педагогических работников"]) == {"Аистова Анна", "Белов Борис"}
    assert rows["Аттестация педагогических работников"][0][4].startswith("методические: Затруднение")
    rows = tables(client_for(world["users"]["teacher"]).get(f"/collection/teachers/attestations/?year={YEAR}"))
    assert names_in(rows["Аттестация педагогических работников"]) == {"Аистова Анна"}
    methodologist = tables(client_for(world["users"]["methodologist"]).get(f"/collection/teachers/deficits/?year={YEAR}"))
    assert names_in(methodologist["Персональные профессиональные дефициты"]) == {"Аистова Анна"}
    assert [r[4] for r in methodologist["Корпоративные дефициты: выводы методических объединений"]] == \
        ["Текстовые задачи"]
    teacher = tables(client_for(world["users"]["teacher"]).get(f"/collection/teachers/deficits/?year={YEAR}"))
    assert names_in(teacher["Персональные профессиональные дефициты"]) == {"Аистова Анна"}
    assert teacher["Корпоративные дефициты: выводы методических объединений"] == []
    head = tables(client_for(world["users"]["head"]).get(f"/collection/teachers/deficits/?year={YEAR}"))
    assert [r[1] for r in head["Корпоративные дефициты: выводы методических объединений"]] == \
        ["ГМО учителей математики"]


def test_list_pages_do_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    client = client_for(world["users"]["methodologist"])
    pages = ["/collection/teachers/", "/collection/teachers/diagnostics/", "/collection/teachers/surveys/",
             "/collection/teachers/attestations/", "/collection/teachers/deficits/"]
    client.get(f"/collection/teachers/?year={YEAR}")  # the year is kept in the session
    before = {}
    for url in pages:
        with django_assert_max_num_queries(22), CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        before[url] = len(queries)
    ma = world["ma"]
    for n in range(12):  # more teachers, diagnostics, attestations: the same number of queries
        teacher = Teacher.objects.create(school=world["school12"], full_name=f"Учитель {n:02d}")
        diagnose(teacher, ma, [("Дроби", 1, 4), ("Проценты", n % 5, 4)])
        Attestation.objects.create(teacher=teacher, held_on=ON, category="highest")
    client.get(pages[0])  # the new teachers' data moved the cycle's figures: counted again once, for all pages
    for url in pages:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert len(queries) <= before[url], url
    assert len(tables(client.get(pages[1]))["Предметные диагностики учителей"]) == 3 + 12
    assert response.status_code == 200


def test_xlsx_of_diagnostics(world):
    response = client_for(world["users"]["school_admin"]).get(f"/collection/teachers/diagnostics/?year={YEAR}&xlsx=1")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = [r for r in book["Диагностики"].iter_rows(min_row=2, values_only=True) if r[1] is not None]
    assert sorted((r[0], r[5], r[6]) for r in rows) == [("Аистова Анна", 4, 8), ("Белов Борис", 6, 8)]


# --- forms ------------------------------------------------------------------------------------------

def test_attestation_form_saves_with_an_audit_row(world):
    admin = world["users"]["school_admin"]
    client = client_for(admin)
    teacher = world["teachers"]["b"]
    form = client.get("/collection/teachers/attestations/new/")
    assert form.status_code == 200
    choices = set(form.context["form"].fields["teacher"].queryset)
    assert choices == {world["teachers"]["a"], teacher}  # the school's teachers only
    response = client.post("/collection/teachers/attestations/new/", {
        "teacher": teacher.pk, "held_on": "2026-03-02", "category": "highest", "difficulty_area": "digital",
        "difficulties_text": "Не использует цифровые лаборатории\n\nНе ведёт электронный журнал вовремя",
        "note": "Соответствует высшей категории.",
    })
    assert response.status_code == 302
    saved = Attestation.objects.get(teacher=teacher, held_on=dt.date(2026, 3, 2))
    assert saved.category == "highest" and saved.difficulties == [
        {"area": "digital", "text": "Не использует цифровые лаборатории"},
        {"area": "digital", "text": "Не ведёт электронный журнал вовремя"}]
    audit = AuditEntry.objects.get(action="enter:attestation")
    assert audit.user == admin and audit.object_id == str(saved.pk) and audit.organisation == world["school11"]


def test_attestation_form_errors_are_russian(world):
    client = client_for(world["users"]["school_admin"])
    response = client.post("/collection/teachers/attestations/new/", {"held_on": "31.02.2026", "category": ""})
    assert response.status_code == 200
    text = response.content.decode()
    assert "Обязательное поле." in text and "Введите правильную дату." in text
    # another school's teacher is not a choice
    response = client.post("/collection/teachers/attestations/new/", {
        "teacher": world["teachers"]["d"].pk, "held_on": "2026-03-02", "category": "first", "note": "Замечаний нет.",
        "difficulty_area": "subject"})
    assert "Выберите корректный вариант" in response.content.decode()
    # the same teacher and date twice
    Attestation.objects.create(teacher=world["teachers"]["a"], held_on=dt.date(2026, 3, 2), category="first")
    response = client.post("/collection/teachers/attestations/new/", {
        "teacher": world["teachers"]["a"].pk, "held_on": "2026-03-02", "category": "first", "note": "Замечаний нет.",
        "difficulty_area": "subject"})
    assert "уже существует" in response.content.decode()
    response = client.post("/collection/teachers/attestations/new/", {
        "teacher": world["teachers"]["a"].pk, "held_on": "2026-03-03", "category": "first", "difficulty_area": "subject"})
    assert "Укажите затруднения или заключение экспертной группы." in response.content.decode()
    assert Attestation.objects.filter(held_on__gte=dt.date(2026, 1, 1)).count() == 1
    assert not AuditEntry.objects.filter(action="enter:attestation").exists()


def test_personal_deficit_form(world):
    methodologist = world["users"]["methodologist"]
    client = client_for(methodologist)
    assert set(client.get("/collection/teachers/deficits/new/").context["form"].fields["teacher"].queryset) == {
        world["teachers"][k] for k in "abc"}
    response = client.post("/collection/teachers/deficits/new/", {
        "teacher": world["teachers"]["c"].pk, "year": YEAR, "subject": world["ma"].pk,
        "competence_area": CompetenceArea.METHODOLOGICAL, "topic": "Формирующее оценивание",
        "source": DeficitSource.ATTESTATION, "note": ""})
    assert response.status_code == 302, response.content.decode()
    deficit = ProfessionalDeficit.objects.get(topic="Формирующее оценивание")
    assert (deficit.scope, deficit.organisation, deficit.academic_year.start_year) == (
        DeficitScope.PERSONAL, world["school12"], YEAR)
    assert AuditEntry.objects.filter(action="enter:deficit", object_id=str(deficit.pk), user=methodologist).exists()
    # a teacher may note his own deficit and no one else's
    teacher = client_for(world["users"]["teacher"])
    assert list(teacher.get("/collection/teachers/deficits/new/").context["form"].fields["teacher"].queryset) == [
        world["teachers"]["a"]]
    response = teacher.post("/collection/teachers/deficits/new/", {
        "teacher": world["teachers"]["b"].pk, "year": YEAR, "competence_area": "subject", "topic": "Чужой",
        "source": DeficitSource.REQUEST})
    assert response.status_code == 200 and "Выберите корректный вариант" in response.content.decode()
    assert not ProfessionalDeficit.objects.filter(topic="Чужой").exists()


def test_association_finding_form(world):
    head = world["users"]["head"]
    client = client_for(head)
    form = client.get("/collection/teachers/findings/new/")
    assert list(form.context["form"].fields["association"].queryset) == [world["gmo"]]
    response = client.post("/collection/teachers/findings/new/", {
        "association": world["gmo"].pk, "year": YEAR, "subject": world["ru"].pk, "competence_area": "subject",
        "topic": "Текстовые задачи"})
    assert "не ведёт предмет «Русский язык»" in response.content.decode()
    response = client.post("/collection/teachers/findings/new/", {
        "association": world["gmo"].pk, "year": YEAR, "subject": world["ma"].pk, "competence_area": "subject",
        "topic": "Текстовые задачи на движение", "note": "Половина учителей не решает задачи повышенного уровня."})
    assert response.status_code == 302
    finding = ProfessionalDeficit.objects.get(topic="Текстовые задачи на движение")
    assert (finding.scope, finding.source, finding.organisation, finding.association) == (
        DeficitScope.CORPORATE, DeficitSource.ASSOCIATION, world["mun1"], world["gmo"])
    assert AuditEntry.objects.get(action="enter:finding").object_id == str(finding.pk)
    # another municipality's association is not a choice for a school of municipality 2
    other = client_for(world["users"]["school_admin21"])
    choices = set(other.get("/collection/teachers/findings/new/").context["form"].fields["association"].queryset)
    assert world["gmo"] not in choices
    response = other.post("/collection/teachers/findings/new/", {
        "association": world["gmo"].pk, "year": YEAR, "subject": world["ma"].pk, "competence_area": "subject",
        "topic": "Чужой вывод"})
    assert response.status_code == 200 and not ProfessionalDeficit.objects.filter(topic="Чужой вывод").exists()


def test_who_may_use_the_forms(world):
    users = world["users"]
    forms = ["/collection/teachers/attestations/new/", "/collection/teachers/deficits/new/",
             "/collection/teachers/findings/new/"]
    expected = {
        "viewer": [403, 403, 403],
        "teacher": [403, 200, 403],
        "head": [403, 403, 200],
        "school_admin": [200, 200, 200],
        "methodologist": [200, 200, 200],
        "nobody": [403, 403, 403],
    }
    for role, codes in expected.items():
        client = client_for(users[role])
        assert [client.get(url).status_code for url in forms] == codes, role
    viewer = client_for(users["viewer"])
    response = viewer.post(forms[0], {"teacher": world["teachers"]["a"].pk, "held_on": "2026-03-02",
                                      "category": "first", "note": "x", "difficulty_area": "subject"})
    assert response.status_code == 403 and not Attestation.objects.filter(held_on=dt.date(2026, 3, 2)).exists()
    assert Client().get(forms[0]).status_code == 302
    assert client_for(users["nobody"]).get("/collection/teachers/").status_code == 403
    assert client_for(users["viewer"]).get("/collection/teachers/").status_code == 200
