"""The stage-2 report pages on a small region built by hand: every figure the pages show (marks, solve
rates, journal comparison, alpha of the item analysis, the trend) is counted here from the rows written,
not taken from the code under test; then the downloads (XLSX, DOCX), access (404 out of scope, 403 without
a role) and the number of queries."""

from __future__ import annotations

import io
import json
import re
import statistics
from collections import Counter

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from docx import Document

from metodist.analysis import report_cache
from metodist.collection.models import ScoreStatus, TaskScore, Upload, UploadStatus, Work
from metodist.core.models import (
    AcademicYear,
    Organisation,
    OrganisationKind,
    Pupil,
    RoleAssignment,
    Subject,
    Teacher,
)
from metodist.reference.models import Assessment, ContentElement, GradeScale, Skill, Task

WORK = "vpr-2026-ma-5"
EARLIER = "vpr-2025-ma-5"
TASKS = [("1", 1), ("2", 2), ("3", 1)]
#: school → rows of (scores per task, mark, journal mark); «nt» = topic not taught (0 points)
ROWS = {
    "sch_a": [((1, 2, 1), 5, 5), ((1, 0, 0), 3, 4), ((0, 1, 0), 3, 3), ((1, 2, 0), 4, 3), ((0, 0, "nt"), 2, 3)],
    "sch_b": [((1, 2, 1), 5, 4), ((0, 0, 0), 2, 2), ((1, 0, 0), 3, 3)],
    "sch_c": [((1, 1, 1), 4, 4), ((1, 2, 1), 5, 5)],
}
EARLIER_ROWS = {"sch_a": [((1, 2, 1), 5, 5), ((1, 0, 0), 2, 3), ((1, 1, 0), 3, 3), ((1, 2, 1), 5, 4)]}


def mark_of(total: int) -> int:
    return 2 if total < 1 else 3 if total < 2 else 4 if total < 4 else 5


@pytest.fixture(autouse=True)
def fresh_cache():
    report_cache.clear()
    yield
    report_cache.clear()


def _assessment(code, year, subject):
    assessment = Assessment.objects.create(code=code, programme="VPR", subject=subject, grade=5, year=year,
                                           title=f"ВПР {year}. Математика. 5 класс", max_primary=4)
    GradeScale.objects.create(assessment=assessment, thresholds={"3": 1, "4": 2, "5": 4})
    element = {n: ContentElement.objects.get_or_create(codifier="vpr-ma-5", subject=subject, code=f"1.{n}",
                                                       defaults={"name": f"Тема {n}"})[0] for n, _m in TASKS}
    skill = Skill.objects.create(codifier="vpr-ma-5", subject=subject, code=f"К{year}", name="Умение считать")
    for position, (number, maximum) in enumerate(TASKS, start=1):
        task = Task.objects.create(assessment=assessment, number=number, position=position, max_score=maximum,
                                   level="B")
        task.content_elements.add(element[number])
        task.skills.add(skill)
    return assessment


def _works(assessment, rows, orgs, teachers, pupils_of):
    tasks = list(assessment.tasks.order_by("position"))
    for school_code, school_rows in rows.items():
        school = orgs[school_code]
        upload = Upload.objects.create(file_name=f"{school_code}.xlsx", checksum="x", format="vpr-form",
                                       assessment=assessment, organisation=school, status=UploadStatus.IMPORTED)
        for i, (scores, mark, journal) in enumerate(school_rows):
            if (school_code, i) not in pupils_of:
                pupils_of[(school_code, i)] = Pupil.objects.create(pseudonym=f"{school_code}-{i}", school=school)
            pupil = pupils_of[(school_code, i)]
            total = sum(0 if s == "nt" else s for s in scores)
            assert mark_of(total) == mark or assessment.code != WORK  # the rows agree with the scale
            work = Work.objects.create(assessment=assessment, pupil=pupil, school=school, upload=upload,
                                       teacher=teachers.get(school_code), primary_score=total, mark=mark,
                                       journal_mark=journal, participant_code=str(i))
            for task, score in zip(tasks, scores, strict=True):
                TaskScore.objects.create(
                    work=work, task=task, score=0 if score == "nt" else score,
                    status=ScoreStatus.NOT_TAUGHT if score == "nt" else ScoreStatus.SCORED)
        # an absent pupil counts nowhere
        absent = Pupil.objects.create(pseudonym=f"{school_code}-absent-{assessment.code}", school=school)
        Work.objects.create(assessment=assessment, pupil=absent, school=school, upload=upload, absent=True)


@pytest.fixture
def region(db):
    subject, _c = Subject.objects.get_or_create(code="ma", defaults={"name": "Математика"})
    reg = Organisation.objects.create(kind=OrganisationKind.REGION, code="reg_t", short_name="Тестовая область")
    mun1 = Organisation.objects.create(kind=OrganisationKind.MUNICIPALITY, code="mun_1", short_name="Первый район",
                                       parent=reg)
    mun2 = Organisation.objects.create(kind=OrganisationKind.MUNICIPALITY, code="mun_2", short_name="Второй район",
                                       parent=reg)
    orgs = {"reg": reg, "mun1": mun1, "mun2": mun2}
    for code, parent, name in (("sch_a", mun1, "Школа Альфа"), ("sch_b", mun1, "Школа Бета"),
                               ("sch_c", mun2, "Школа Гамма")):
        orgs[code] = Organisation.objects.create(kind=OrganisationKind.SCHOOL, code=code, short_name=name,
                                                 full_name=f"МБОУ «{name}»", parent=parent)
    teachers = {"sch_a": Teacher.objects.create(school=orgs["sch_a"], full_name="Иванова Мария Петровна"),
                "sch_b": Teacher.objects.create(school=orgs["sch_b"], full_name="Петров Пётр Ильич")}
    pupils: dict = {}
    current = _assessment(WORK, 2026, subject)
    earlier = _assessment(EARLIER, 2025, subject)
    _works(current, ROWS, orgs, teachers, pupils)
    _works(earlier, EARLIER_ROWS, orgs, teachers, pupils)
    return {"orgs": orgs, "teachers": teachers, "assessment": current, "earlier": earlier, "subject": subject}


def user_with(role: str | None, organisation=None, *, name: str = "u", teacher=None):
    user = get_user_model().objects.create_user(username=name, password="x")
    if role:
        RoleAssignment.objects.create(user=user, role=role, organisation=organisation)
    if teacher is not None:
        teacher.user = user
        teacher.save()
    return user


@pytest.fixture
def methodologist(region):
    return user_with("methodologist", region["orgs"]["mun1"], name="metod1")


def expected_level(schools: list[str]) -> dict:
    rows = [r for s in schools for r in ROWS[s]]
    n = len(rows)
    marks = Counter(mark for _s, mark, _j in rows)
    solve = {number: 100 * sum(0 if r[0][j] == "nt" else r[0][j] for r in rows) / (maximum * n)
             for j, (number, maximum) in enumerate(TASKS)}
    journal = Counter("lower" if m < j else "higher" if m > j else "confirmed" for _s, m, j in rows)
    return {"n": n, "marks_pct": {m: 100 * marks[m] / n for m in (2, 3, 4, 5)},
            "success": 100 * (n - marks[2]) / n, "quality": 100 * (marks[4] + marks[5]) / n,
            "solve": solve, "journal": journal}


def specs(html: str) -> list[dict]:
    return [json.loads(m) for m in re.findall(r'<script id="chart-spec-\d+" type="application/json">(.*?)</script>',
                                                html, re.S)]


def spec_values(spec: dict) -> list[dict]:
    found = []

    def walk(node):
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and "values" in data:
                found.extend(data["values"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(spec)
    return found


def ru(value: float, digits: int = 1) -> str:
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def sheet_rows(content: bytes, name: str) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [list(row) for row in book[name].iter_rows(values_only=True)]


# --- the standard reports ----------------------------------------------------------------------------

def test_standard_page_shows_the_counted_figures_with_parent_levels(client, region, methodologist):
    client.force_login(methodologist)
    response = client.get(reverse("analysis:standard"), {"org": "sch_a", "assessment": WORK})
    assert response.status_code == 200
    html = response.content.decode()
    own, mun, reg = expected_level(["sch_a"]), expected_level(["sch_a", "sch_b"]), \
        expected_level(["sch_a", "sch_b", "sch_c"])
    assert response.context["current_stage"] == 2
    marks = response.context["marks_table"]
    names = [row[0] for row in marks.rows]
    assert names[:3] == ["Школа Альфа", "Первый район", "Тестовая область"]  # the parent levels beside
    for row, expected in zip(marks.rows[:3], (own, mun, reg), strict=True):
        assert row[1] == expected["n"]
        assert row[2:6] == pytest.approx([expected["marks_pct"][m] for m in (2, 3, 4, 5)])
        assert row[6] == pytest.approx(expected["success"]) and row[7] == pytest.approx(expected["quality"])
    # as printed in the page: «20», «40» … with a decimal comma
    assert f"<td class=\"num\">{ru(own['marks_pct'][3])}</td>" in html
    tasks = response.context["tasks_table"]
    for row in tasks.rows:
        assert row[2] == pytest.approx(own["solve"][row[0]])
        assert row[3] == pytest.approx(mun["solve"][row[0]])
        assert row[4] == pytest.approx(reg["solve"][row[0]])
    assert "1.1 Тема 1" in tasks.rows[0][-2] and tasks.rows[0][-1] == "К2026"
    assert "<dt>К2026</dt><dd>Умение считать</dd>" in html
    journal = response.context["journal_table"]
    assert journal.rows[0][1] == own["journal"]["lower"] == 2
    assert journal.rows[0][3] == own["journal"]["confirmed"] and journal.rows[0][5] == own["journal"]["higher"]
    assert journal.rows[1][7] == mun["n"]
    not_taught = response.context["not_taught_table"].rows
    assert not_taught == [["Школа Альфа", "sch_a", "3", 1, 5, pytest.approx(20.0)]]
    # the thresholds are marked in the score distribution
    scores = response.context["scores_table"].rows
    assert [row[-1] for row in scores] == ["", "от этого балла «3»", "от этого балла «4»", "", "от этого балла «5»"]
    assert [row[1] for row in scores] == [Counter(sum(0 if x == "nt" else x for x in r[0]) for r in ROWS["sch_a"])
                                          .get(s, 0) for s in range(5)]

    # the chart specs carry the same figures
    charts = specs(html)
    assert len(charts) == 4
    mark_values = spec_values(charts[0])
    assert {"mark": "«3»", "level": "Школа Альфа", "pct": round(own["marks_pct"][3], 1)} in mark_values
    assert {"mark": "«5»", "level": "Первый район", "pct": round(mun["marks_pct"][5], 1)} in mark_values
    task_values = [v for spec in charts for v in spec_values(spec) if "task" in v]
    assert {"task": "2", "level": "Школа Альфа", "pct": round(own["solve"]["2"], 1)} in task_values
    thresholds = [v for v in spec_values(charts[1]) if "label" in v]
    assert {(v["score"], v["label"]) for v in thresholds} == {(1, "«3»"), (2, "«4»"), (4, "«5»")}


def test_standard_xlsx_has_the_same_numbers(client, region, methodologist):
    client.force_login(methodologist)
    response = client.get(reverse("analysis:standard"), {"org": "sch_a", "assessment": WORK, "xlsx": "1"})
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    own, mun = expected_level(["sch_a"]), expected_level(["sch_a", "sch_b"])
    marks = sheet_rows(content, "Отметки")
    assert marks[0][:2] == ["Организация", "Участников"]
    assert marks[1][0] == "Школа Альфа" and marks[1][1] == own["n"]
    assert marks[1][2:8] == pytest.approx([*(own["marks_pct"][m] for m in (2, 3, 4, 5)), own["success"],
                                           own["quality"]])
    assert marks[2][0] == "Первый район" and marks[2][1] == mun["n"]
    tasks = sheet_rows(content, "Задания")
    assert {row[0]: row[2] for row in tasks[1:]} == pytest.approx(own["solve"])
    assert tasks[1][-1] == "К2026 Умение считать"
    journal = sheet_rows(content, "Журнал")
    assert [journal[1][i] for i in (1, 3, 5)] == [own["journal"][k] for k in ("lower", "confirmed", "higher")]
    assert sheet_rows(content, "Не пройдено")[1][:4] == ["Школа Альфа", "sch_a", "3", 1]


def test_a_new_upload_is_not_hidden_by_the_cache(client, region, methodologist):
    client.force_login(methodologist)
    url = reverse("analysis:standard")
    first = client.get(url, {"org": "sch_a", "assessment": WORK}).context["marks_table"].rows[0][1]
    school = region["orgs"]["sch_a"]
    upload = Upload.objects.create(file_name="more.xlsx", checksum="y", format="vpr-form",
                                   assessment=region["assessment"], organisation=school, status=UploadStatus.IMPORTED)
    pupil = Pupil.objects.create(pseudonym="late", school=school)
    Work.objects.create(assessment=region["assessment"], pupil=pupil, school=school, upload=upload, primary_score=4,
                        mark=5, journal_mark=5)
    second = client.get(url, {"org": "sch_a", "assessment": WORK}).context["marks_table"].rows[0][1]
    assert (first, second) == (5, 6)


def test_standard_page_answers_from_the_cache_with_few_queries(client, region, methodologist,
                                                               django_assert_max_num_queries):
    client.force_login(methodologist)
    url = reverse("analysis:standard")
    client.get(url, {"org": "mun_1", "assessment": WORK})  # computes and keeps the figures
    with django_assert_max_num_queries(16):
        response = client.get(url, {"org": "mun_1", "assessment": WORK})
    assert response.status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(reverse("analysis:items"), {"org": "mun_1", "assessment": WORK}).status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(reverse("analysis:items"), {"org": "mun_1", "assessment": WORK}).status_code == 200


def test_selects_hold_only_what_the_user_may_see(client, region, methodologist):
    client.force_login(methodologist)
    response = client.get(reverse("analysis:reports"), {"org": "mun_1", "assessment": WORK})
    assert response.status_code == 200
    codes = [o.code for o in response.context["organisations"]]
    assert codes == ["mun_1", "sch_a", "sch_b"]  # not the region above, not the other district's school
    assert [a.code for a in response.context["assessments"]] == [WORK, EARLIER]
    html = response.content.decode()
    assert "sch_c" not in html and reverse("analysis:municipality_docx") in html


# --- access --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["standard", "items", "trends", "cohorts", "deficits", "school_docx"])
def test_an_organisation_out_of_scope_is_not_found(client, region, name):
    other = user_with("methodologist", region["orgs"]["mun2"], name="metod2")
    client.force_login(other)
    assert client.get(reverse(f"analysis:{name}"), {"org": "sch_a", "assessment": WORK}).status_code == 404
    teacher = user_with("teacher", region["orgs"]["sch_b"], name="teacher_b", teacher=region["teachers"]["sch_b"])
    client.force_login(teacher)
    assert client.get(reverse(f"analysis:{name}"), {"org": "sch_a", "assessment": WORK}).status_code == 404
    assert client.get(reverse(f"analysis:{name}"), {"org": "no-such-code"}).status_code == 404


def test_without_a_role_forbidden_and_anonymous_sent_to_sign_in(client, region):
    url = reverse("analysis:standard")
    assert client.get(url).status_code == 302
    client.force_login(user_with(None, name="nobody"))
    assert client.get(url, {"org": "sch_a"}).status_code == 403


def test_an_assessment_without_works_in_scope_is_not_found(client, region):
    user = user_with("school_admin", region["orgs"]["sch_c"], name="admin_c")
    client.force_login(user)
    assert client.get(reverse("analysis:standard"), {"org": "sch_c", "assessment": EARLIER}).status_code == 404
    assert client.get(reverse("analysis:standard"), {"org": "sch_c", "assessment": WORK}).status_code == 200


# --- item analysis -------------------------------------------------------------------------------------

def cronbach(rows: list[tuple]) -> float:
    k = len(rows[0])
    items = [statistics.variance([r[j] for r in rows]) for j in range(k)]
    total = statistics.variance([sum(r) for r in rows])
    return k / (k - 1) * (1 - sum(items) / total)


def test_item_analysis_alpha_as_computed_by_hand(client, region, methodologist):
    client.force_login(methodologist)
    response = client.get(reverse("analysis:items"), {"org": "sch_a", "assessment": WORK})
    assert response.status_code == 200
    matrix = [tuple(0 if x == "nt" else x for x in scores) for scores, _m, _j in ROWS["sch_a"]]
    alpha = cronbach(matrix)
    assert 0 < alpha < 1
    assert response.context["analysis"]["alpha"] == pytest.approx(alpha)
    assert f'id="alpha">{ru(alpha, 3)}<' in response.content.decode()
    without_first = cronbach([r[1:] for r in matrix])
    rows = response.context["tables"][0].rows
    assert rows[0][8] == pytest.approx(without_first, abs=5e-4)  # printed to 0.001
    assert rows[1][4] == pytest.approx(100 * sum(r[1] for r in matrix) / (2 * len(matrix)), abs=0.05)  # task 2
    assert response.context["tables"][1].rows == [[s, n] for s, n in sorted(Counter(sum(r) for r in matrix).items())]
    xlsx = client.get(reverse("analysis:items"), {"org": "sch_a", "assessment": WORK, "xlsx": "1"})
    sheet = sheet_rows(b"".join(xlsx.streaming_content), "Задания")
    assert sheet[1][8] == pytest.approx(without_first)


# --- trends and cohorts --------------------------------------------------------------------------------

def test_trend_of_the_school_year_over_year(client, region, methodologist):
    client.force_login(methodologist)
    response = client.get(reverse("analysis:trends"), {"org": "sch_a", "assessment": WORK})
    assert response.status_code == 200
    rows = response.context["tables"][0].rows
    assert [r[0] for r in rows] == [2025, 2026]
    earlier = Counter(m for _s, m, _j in EARLIER_ROWS["sch_a"])
    assert rows[0][2] == 4 and rows[0][7] == pytest.approx(100 * (4 - earlier[2]) / 4)
    assert rows[1][7] == pytest.approx(expected_level(["sch_a"])["success"])
    mean = 100 * sum(sum(0 if x == "nt" else x for x in s) for s, _m, _j in ROWS["sch_a"]) / (5 * 4)
    assert rows[1][9] == pytest.approx(mean)
    values = spec_values(specs(response.content.decode())[0])
    assert {"year": "2026", "figure": "Успеваемость", "pct": round(expected_level(["sch_a"])["success"], 1)} in values


def test_cohort_links_the_same_pupils(client, region, methodologist):
    grade4 = Assessment.objects.create(code="vpr-2025-ma-4", programme="VPR", subject=region["subject"], grade=4,
                                       year=2025, title="ВПР 2025. Математика. 4 класс", max_primary=4)
    Task.objects.create(assessment=grade4, number="1", position=1, max_score=4)
    school = region["orgs"]["sch_a"]
    upload = Upload.objects.create(file_name="g4.xlsx", checksum="z", format="vpr-form", assessment=grade4,
                                   organisation=school, status=UploadStatus.IMPORTED)
    for i, (score, mark) in enumerate([(4, 5), (1, 3), (2, 4)]):
        Work.objects.create(assessment=grade4, pupil=Pupil.objects.get(pseudonym=f"sch_a-{i}"), school=school,
                            upload=upload, primary_score=score, mark=mark)
    client.force_login(methodologist)
    response = client.get(reverse("analysis:cohorts"), {"org": "sch_a", "assessment": "vpr-2025-ma-4",
                                                        "to": WORK})
    assert response.status_code == 200
    result = response.context["result"]
    assert result.pupils.pupils == 3
    assert result.pupils.before.mean_primary_pct == pytest.approx(100 * 7 / 12)
    after = [sum(0 if x == "nt" else x for x in ROWS["sch_a"][i][0]) for i in range(3)]
    assert result.pupils.after.mean_primary_pct == pytest.approx(100 * sum(after) / 12)
    transitions = response.context["tables"][-1].rows
    assert transitions[3][1:5] == [0, 0, 0, 1]  # «5» stayed «5»


# --- deficits ------------------------------------------------------------------------------------------

@pytest.fixture
def deficits(region):
    from metodist.analysis.models import AnalysisRun, DeficitProfile, RunStatus

    year, _c = AcademicYear.objects.get_or_create(start_year=2025)
    run = AnalysisRun.objects.create(academic_year=year, scope=region["orgs"]["reg"], status=RunStatus.DONE,
                                     finished_at=timezone.now())
    DeficitProfile.objects.create(
        run=run, scope="personal", organisation=region["orgs"]["sch_a"], teacher=region["teachers"]["sch_a"],
        subject=region["subject"], topic="Дроби", severity=0.8, explanation="Слабо по дробям.",
        evidence={"diagnostic": {"title": "Диагностика учителей", "date": "2025-10-01", "score": 2, "max_score": 10,
                                 "share_pct": 20.0},
                  "classes": [{"assessment": WORK, "tasks": ["2"], "works": 5, "class_rate_pct": 40.0,
                               "region_rate_pct": 60.0}],
                  "specific_gap": -18.5, "confirmed_by_results": True, "attestation": ["Путается в дробях."]})
    DeficitProfile.objects.create(
        run=run, scope="personal", organisation=region["orgs"]["sch_b"], teacher=region["teachers"]["sch_b"],
        subject=region["subject"], topic="Проценты", severity=0.6, evidence={})
    DeficitProfile.objects.create(
        run=run, scope="corporate", organisation=region["orgs"]["mun1"], subject=region["subject"], topic="Дроби",
        severity=0.75, evidence={"weak_teachers": 3, "diagnosed_teachers": 4, "mean_share_pct": 41.5},
        explanation="По теме «Дроби» 3 из 4 учителей набрали меньше половины баллов.")
    return run


def test_deficits_page_with_evidence(client, region, methodologist, deficits):
    client.force_login(methodologist)
    response = client.get(reverse("analysis:deficits"), {"org": "mun_1", "year": "2025"})
    assert response.status_code == 200
    corporate = response.context["corporate_table"].rows
    assert [(r[0], r[2], r[4], r[5]) for r in corporate] == [("Первый район", "Дроби", 3, 4)]
    personal = response.context["personal_table"].rows
    assert [r[0] for r in personal] == ["Иванова Мария Петровна", "Петров Пётр Ильич"]  # most severe first
    assert "2 из 10" in personal[0][4] and "40 % при 60 %" in personal[0][6] and personal[0][9] == "Путается в дробях."
    xlsx = client.get(reverse("analysis:deficits"), {"org": "mun_1", "year": "2025", "xlsx": "1"})
    assert sheet_rows(b"".join(xlsx.streaming_content), "Персональные")[1][0] == "Иванова Мария Петровна"


def test_a_teacher_sees_only_his_own_deficits(client, region, deficits):
    teacher = user_with("teacher", region["orgs"]["sch_a"], name="teacher_a", teacher=region["teachers"]["sch_a"])
    client.force_login(teacher)
    response = client.get(reverse("analysis:deficits"), {"org": "sch_a", "year": "2025"})
    assert [r[0] for r in response.context["personal_table"].rows] == ["Иванова Мария Петровна"]
    assert client.get(reverse("analysis:deficits"), {"org": "sch_b", "year": "2025"}).status_code == 404


# --- the analytical report -----------------------------------------------------------------------------

def test_school_docx_download_opens_and_names_the_school(client, region, methodologist):
    client.force_login(methodologist)
    response = client.get(reverse("analysis:school_docx"), {"org": "sch_a", "assessment": WORK})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    doc = Document(io.BytesIO(b"".join(response.streaming_content)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "МБОУ «Школа Альфа»" in text and "Аналитическая справка" in text
    # a municipality is not a school: no school report for it
    assert client.get(reverse("analysis:school_docx"), {"org": "mun_1", "assessment": WORK}).status_code == 404


def test_municipality_docx_download_opens(client, region, methodologist):
    pytest.importorskip("metodist.documents.municipality_report")
    client.force_login(methodologist)
    response = client.get(reverse("analysis:municipality_docx"), {"org": "mun_1", "assessment": WORK})
    assert response.status_code == 200
    doc = Document(io.BytesIO(b"".join(response.streaming_content)))
    assert "Первый район" in "\n".join(p.text for p in doc.paragraphs) + "".join(
        c.text for t in doc.tables for row in t.rows for c in row.cells)


def test_a_teacher_may_not_download_the_school_report(client, region):
    teacher = user_with("teacher", region["orgs"]["sch_a"], name="teacher_a2", teacher=region["teachers"]["sch_a"])
    client.force_login(teacher)
    assert client.get(reverse("analysis:school_docx"), {"org": "sch_a", "assessment": WORK}).status_code == 403
