"""Reference data pages: the assessments list with its filters and counts, an assessment's tasks, grade
scale and codifier, and their XLSX downloads — checked against the shipped specification YAML read here."""

from __future__ import annotations

import io

import openpyxl
import pytest
import yaml
from django.contrib.auth import get_user_model
from django.test import Client
from lxml import html

from metodist.collection.models import Upload, UploadStatus, Work
from metodist.core.models import Pupil, RoleAssignment
from metodist.reference.models import Assessment
from metodist.reference.specs import SPECS_DIR, save_spec

MA5 = "vpr-2021-ma-5"


def read_yaml(code: str) -> dict:
    with open(SPECS_DIR / f"{code}.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def tables(response) -> dict[str, list[list[str]]]:
    """Every table of a page by its caption (without the download link): body rows as cell texts."""
    tree = html.fromstring(response.content.decode())
    found = {}
    for table in tree.iter("table"):
        caption = table.find("caption")
        title = caption.text.strip().rstrip(":") if caption is not None and caption.text else ""
        found[title] = [[" ".join(td.text_content().split()) for td in tr.findall("td")]
                        for tr in table.find("tbody").findall("tr")]
    return found


def user_with(username: str, role: str | None = None, organisation=None):
    user = get_user_model().objects.create_user(username, password="x")
    if role:
        RoleAssignment.objects.create(user=user, role=role, organisation=organisation)
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def spec_ma5(db):
    """A few shipped specifications (loading all of them takes long): ВПР 2021 grade 5 mathematics and
    Russian, ОГЭ 2024 mathematics and ОГЭ 2025 Russian (partial, without the marks 3–5)."""
    for code in (MA5, "vpr-2021-ru-5", "oge-2024-ma-9", "oge-2025-ru-9"):
        save_spec(read_yaml(code))
    return Assessment.objects.get(code=MA5)


@pytest.fixture
def works(spec_ma5, region_tree):
    """Three present works and one absent in school 1.1 (municipality 1), two in school 2.1 (municipality 2)."""
    upload = Upload.objects.create(file_name="f.xlsx", checksum="0" * 64, format="vpr_form",
                                   status=UploadStatus.IMPORTED, assessment=spec_ma5)
    plan = [("school11", False)] * 3 + [("school11", True)] + [("school21", False)] * 2
    for n, (school, absent) in enumerate(plan):
        pupil = Pupil.objects.create(pseudonym=f"p{n}", school=region_tree[school])
        Work.objects.create(assessment=spec_ma5, pupil=pupil, school=region_tree[school], upload=upload, absent=absent)
    return region_tree


def test_assessment_page_shows_the_tasks_of_the_spec(spec_ma5, region_tree):
    spec = read_yaml(MA5)
    client = client_for(user_with("v", "viewer", region_tree["mun1"]))
    response = client.get(f"/reference/{MA5}/")
    assert response.status_code == 200
    found = tables(response)
    tasks = found["Задания работы"]
    assert [row[0] for row in tasks] == [str(t["number"]) for t in spec["tasks"]]
    assert tasks[0][0] == "1" and tasks[-1][0] == "14" and "11.1" in [row[0] for row in tasks]
    assert [int(row[1]) for row in tasks] == [t["max_score"] for t in spec["tasks"]]
    assert sum(t["max_score"] for t in spec["tasks"]) == spec["max_primary"] == 20
    letters = {"B": "Б", "P": "П", "V": "В"}
    assert [row[3] for row in tasks] == [letters[t["level"]] for t in spec["tasks"]]
    names = {str(e["code"]): e["name"] for e in spec["content_elements"]}
    for row, task in zip(tasks, spec["tasks"], strict=True):
        for code in task["content_elements"]:
            assert f"{code} {names[str(code)]}" in row[4]
    text = response.content.decode()
    assert "<h1>ВПР 2021. Математика. 5 класс</h1>" in text
    # the codifier: every element and skill of the YAML, with the tasks that check it
    elements = found["Элементы содержания кодификатора vpr-ma-5"]
    assert [(r[0], r[1]) for r in elements] == [(str(e["code"]), e["name"]) for e in spec["content_elements"]]
    tasks_of_1 = [str(t["number"]) for t in spec["tasks"] if "1" in [str(c) for c in t["content_elements"]]]
    assert elements[0][2] == ", ".join(tasks_of_1)
    skills = found["Проверяемые умения кодификатора vpr-ma-5"]
    assert [r[0] for r in skills] == [str(s["code"]) for s in spec["skills"]]


def test_grade_scale_ranges_follow_the_thresholds(spec_ma5, region_tree):
    spec = read_yaml(MA5)
    scale = {int(k): int(v) for k, v in spec["grade_scale"].items()}
    assert scale == {2: 0, 3: 7, 4: 11, 5: 15}
    expected = [[str(m), str(scale[m]), str(scale[m + 1] - 1 if m < 5 else spec["max_primary"])] for m in (2, 3, 4, 5)]
    client = client_for(user_with("v", "viewer", region_tree["mun1"]))
    response = client.get(f"/reference/{MA5}/")
    assert tables(response)["Шкала перевода первичного балла в отметку"] == expected
    assert expected[1] == ["3", "7", "10"] and expected[3] == ["5", "15", "20"]
    assert "шкала полная" in response.content.decode()


def test_incomplete_scale_is_said_with_its_reason(spec_ma5, region_tree):
    code = "oge-2025-ru-9"
    spec = read_yaml(code)
    assert spec["partial"] and set(spec["grade_scale"]) == {2}
    client = client_for(user_with("v", "viewer", region_tree["mun1"]))
    response = client.get(f"/reference/{code}/")
    text = response.content.decode()
    assert "шкала неполная" in text
    assert "нет порогов отметок «3», «4», «5»" in text
    assert spec["partial_reason"][:60] in " ".join(html.fromstring(text).text_content().split())
    rows = tables(response)["Шкала перевода первичного балла в отметку"]
    assert rows[0] == ["2", "0", "—"] and rows[1:] == [[str(m), "—", "—"] for m in (3, 4, 5)]


def test_xlsx_has_the_same_rows(spec_ma5, region_tree):
    spec = read_yaml(MA5)
    client = client_for(user_with("v", "viewer", region_tree["mun1"]))
    response = client.get(f"/reference/{MA5}/?xlsx=1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert {"Задания", "Шкала", "КЭС", "Умения"} <= set(book.sheetnames)
    rows = list(book["Задания"].iter_rows(values_only=True))
    assert rows[0][:2] == ("Задание", "Максимальный балл")
    rows = rows[:rows.index((None,) * len(rows[0]))] if (None,) * len(rows[0]) in rows else rows  # the note below
    assert [(r[0], r[1]) for r in rows[1:]] == [(str(t["number"]), t["max_score"]) for t in spec["tasks"]]
    scale = list(book["Шкала"].iter_rows(min_row=2, max_row=5, values_only=True))
    assert scale == [(2, 0, 6), (3, 7, 10), (4, 11, 14), (5, 15, 20)]
    page = tables(client.get(f"/reference/{MA5}/"))["Элементы содержания кодификатора vpr-ma-5"]
    sheet = [[str(v) if v is not None else "—" for v in r]
             for r in book["КЭС"].iter_rows(min_row=2, values_only=True) if any(v is not None for v in r)]
    assert sheet == page


def test_list_filters_and_counts_works_the_user_may_see(works, django_assert_max_num_queries):
    spec = read_yaml(MA5)
    methodologist = client_for(user_with("m", "methodologist", works["mun1"]))
    # a constant 30: the page's own queries plus the frame's figures of the six stages (computed once, cached)
    with django_assert_max_num_queries(30):
        response = methodologist.get("/reference/?programme=VPR&grade=5&year=2021")
    assert response.status_code == 200
    rows = tables(response)
    (title,) = [t for t in rows if t.startswith("Оценочные процедуры")]
    listed = {row[0]: row for row in rows[title]}
    assert MA5 in listed and all(code.startswith("vpr-2021-") and code.endswith("-5") for code in listed)
    expected_count = Assessment.objects.filter(programme="VPR", grade=5, year=2021).count()
    assert len(listed) == expected_count > 1
    row = listed[MA5]
    assert row[4] == str(len(spec["tasks"])) and row[5] == str(spec["max_primary"])
    assert row[6] == "Шкала полная."
    assert row[7] == "3"  # the three present works of school 1.1; school 2.1 is another municipality's
    superuser = get_user_model().objects.create_superuser("root", password="x")
    listed = {r[0]: r for r in tables(client_for(superuser).get("/reference/?grade=5&year=2021"))[title]}
    assert listed[MA5][7] == "5"
    # the number of queries does not grow with the number of assessments listed
    with django_assert_max_num_queries(30):
        everything = methodologist.get("/reference/")
    assert len(tables(everything)[next(t for t in tables(everything) if t.startswith("Оценочные"))]) == \
        Assessment.objects.count()


def test_list_marks_an_incomplete_scale(spec_ma5, region_tree):
    client = client_for(user_with("v", "viewer", region_tree["mun1"]))
    response = client.get("/reference/?programme=OGE&year=2025")
    rows = tables(response)
    listed = {r[0]: r for r in rows[next(t for t in rows if t.startswith("Оценочные"))]}
    assert listed["oge-2025-ru-9"][6] == "Шкала неполная: нет порогов отметок «3», «4», «5»."


def test_access(spec_ma5, region_tree):
    anonymous = Client()
    assert anonymous.get("/reference/").status_code == 302
    assert anonymous.get(f"/reference/{MA5}/").status_code == 302
    nobody = client_for(user_with("nobody"))
    assert nobody.get("/reference/").status_code == 403
    assert nobody.get(f"/reference/{MA5}/").status_code == 403
    teacher = client_for(user_with("t", "teacher", region_tree["school21"]))
    assert teacher.get(f"/reference/{MA5}/").status_code == 200  # reference data is not protected
    assert teacher.get("/reference/vpr-1999-xx-5/").status_code == 404
