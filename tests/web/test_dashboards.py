"""The dashboards of stage 2 on the demo municipality with a stored analysis: what was planted shows where it
should (the low-results school, the school with inflated marks first in the objectivity list, the teacher
failing one content element on his page and in the heatmap), the schools table holds the figures counted
here from the Work rows, every table downloads as XLSX, and nobody reaches another school's or teacher's
dashboard, by code or by id."""

from __future__ import annotations

import io
import json
from collections import defaultdict

import openpyxl
import pytest
from django.core.cache import cache
from django.db import transaction

SEED = 11
SCALE = 8
YEAR = 2025  # 2025/2026: the works of spring 2026


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.contrib.auth import get_user_model

    from metodist.analysis.runs import run_analysis
    from metodist.core.models import Organisation, OrganisationKind, RoleAssignment, Teacher
    from metodist.demo.build import build_demo

    data_dir = tmp_path_factory.mktemp("demo")
    with django_db_blocker.unblock(), transaction.atomic():
        build_demo(seed=SEED, echo=lambda _m: None, scale=SCALE, data_dir=data_dir)
        truth = json.loads((data_dir / "demo" / "truth.json").read_text(encoding="utf-8"))
        run = run_analysis(year=YEAR)
        users = get_user_model().objects
        planted = truth["teacher_deficits"][0]
        # a methodologist of another municipality of the same region
        region = Organisation.objects.get(code=truth["region"]["code"])
        other_mun = Organisation.objects.create(kind=OrganisationKind.MUNICIPALITY, code="demo-m99",
                                                short_name="Другой район", parent=region)
        outsider = users.create_user("outsider", password="x")
        RoleAssignment.objects.create(user=outsider, role="methodologist", organisation=other_mun)
        # a teacher of another school of the same municipality
        other_school = Organisation.objects.filter(kind="school").exclude(code=planted["school"]).order_by(
            "code").first()
        stranger = users.create_user("stranger", password="x")
        other_teacher = Teacher.objects.filter(school=other_school, user__isnull=True).order_by("pk").first()
        other_teacher.user = stranger
        other_teacher.save(update_fields=["user"])
        RoleAssignment.objects.create(user=stranger, role="teacher", organisation=other_school)
        users.create_user("nobody", password="x")
        cache.clear()
        yield {"truth": truth, "run": run, "planted": planted, "other_school": other_school,
               "other_teacher": other_teacher}
        transaction.set_rollback(True)
    cache.clear()


@pytest.fixture(autouse=True)
def fresh_pages():
    """The dashboards keep their rendered content per analysis run and user (`views._content`); these
    tests read the context it is rendered from, so each starts without it."""
    from metodist.analysis import report_cache

    report_cache.clear()


def test_the_dashboard_is_built_once_and_rebuilt_after_an_import(demo, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from metodist.collection.models import Upload

    methodologist = _client(client, "methodologist")
    with CaptureQueriesContext(connection) as built:
        first = methodologist.get("/analysis/")
    assert "data" in first.context
    with CaptureQueriesContext(connection) as kept:
        second = methodologist.get("/analysis/")
    assert "data" not in second.context and len(kept) < len(built) / 2
    assert second.content.decode().count("<tr") == first.content.decode().count("<tr")
    # another user is not served this user's page; a new upload makes the page be built again
    assert "data" in _client(client, "region_admin").get("/analysis/").context
    methodologist = _client(client, "methodologist")
    Upload.objects.filter(pk=Upload.objects.order_by("-pk").values("pk")[:1]).update(finished_at=None)
    assert "data" in methodologist.get("/analysis/").context


def _client(client, username):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=username))
    return client


def _planted_teacher(demo):
    from metodist.core.models import Teacher

    return Teacher.objects.get(school__code=demo["planted"]["school"], code=demo["planted"]["teacher"])


def _planted_work(demo) -> str:
    return next(a["assessment"] for a in demo["planted"]["assessments"] if a["assessment"].split("-")[1] == "2026")


@pytest.mark.django_db
def test_the_municipality_dashboard_shows_what_was_planted(demo, client):
    truth = demo["truth"]
    response = _client(client, "methodologist").get("/analysis/")
    assert response.status_code == 200
    data = response.context["data"]
    # every planted low-results school is in the section «Школы с низкими результатами»
    low = {line.school.code for line, _status in data["low"]}
    assert {s["school"] for s in truth["low_result_schools"]} <= low
    html = response.content.decode()
    section = html[html.index('id="low"'):html.index('id="resilient"')]
    for school in truth["low_result_schools"]:
        assert school["name"] in section
    # the resilient school is in its section
    assert truth["resilient_school"]["school"] in {line.school.code for line, _s in data["resilient"]}
    # the school with inflated marks heads the objectivity list, with its reasons
    first = data["objectivity"][0]
    assert first["school"].code == truth["inflated_school"]["school"] and first["place"] == 1
    assert first["metodist"] and all(s["reason"] for s in first["metodist"])
    section = html[html.index('id="objectivity"'):html.index('id="heatmap"')]
    others = [section.index(s["name"]) for s in truth["schools"]
              if s["code"] != truth["inflated_school"]["school"] and s["name"] in section]
    assert section.index(truth["inflated_school"]["name"]) < min(others, default=len(section))
    # the badges of the schools table: the inflated school is at risk, the low-results ones are marked
    lines = {line.school.code: line for line in data["schools"]}
    assert lines[truth["inflated_school"]["school"]].risk
    for school in truth["low_result_schools"]:
        assert "bad" in {css for css, _label, _why in lines[school["school"]].badges}
    # the charts are on the page, to be drawn by the vendored library
    assert html.count('class="chart"') == 2 and "vega-embed" in html


@pytest.mark.django_db
def test_the_heatmap_marks_the_planted_teachers_element(demo, client):
    planted, work = demo["planted"], _planted_work(demo)
    response = _client(client, "methodologist").get("/analysis/", {"assessment": work})
    heat = response.context["data"]["heatmap"]
    assert heat["chosen"] == work
    codes = [code for code, _name in heat["elements"]]
    column = codes.index(planted["element"])
    row = next(line for line in heat["rows"] if line["organisation"].code == planted["school"])
    cell = row["cells"][column]
    assert cell["flagged"] and cell["css"] == "flag"
    assert any(planted["teacher_name"] in who for who in cell["groups"])
    # a school with no flagged field of this element is not red in that column
    others = [line["cells"][column] for line in heat["rows"]
              if line["is_school"] and line["organisation"].code != planted["school"] and line["cells"][column]]
    assert others and not all(c["flagged"] for c in others)
    # the heatmap table is in the page with the heat classes, and the chart's data mark the same cell
    html = response.content.decode()
    assert 'class="heat flag"' in html
    spec = response.context["heatmap_spec"]
    flagged = {(c["c"], c["e"]) for c in spec["datasets"]["cells"] if c["f"] == 1}
    assert (planted["school"], planted["element"]) in flagged


@pytest.mark.django_db
def test_the_schools_table_holds_the_figures_of_the_works(demo, client):
    from metodist.collection.models import Work

    counted = defaultdict(lambda: {"n": 0, "marked": 0, "ok": 0, "good": 0, "score": 0, "max": 0})
    for school, mark, score, maximum in Work.objects.filter(assessment__year=YEAR + 1, absent=False).values_list(
            "school__code", "mark", "primary_score", "assessment__max_primary"):
        c = counted[school]
        c["n"] += 1
        if mark is not None:
            c["marked"] += 1
            c["ok"] += mark >= 3
            c["good"] += mark >= 4
        if score is not None:
            c["score"] += score
            c["max"] += maximum
    response = _client(client, "methodologist").get("/analysis/")
    lines = {line.school.code: line for line in response.context["data"]["schools"]}
    assert set(lines) == set(counted)
    for code, c in counted.items():
        fig = lines[code].figures
        assert fig.participants == c["n"]
        assert fig.success_pct == pytest.approx(100 * c["ok"] / c["marked"])
        assert fig.quality_pct == pytest.approx(100 * c["good"] / c["marked"])
        assert fig.mean_pct == pytest.approx(100 * c["score"] / c["max"])
    # the same numbers in the XLSX download, one sheet per table
    download = client.get("/analysis/", {"xlsx": "1"})
    assert download.status_code == 200 and download["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert {"Школы", "Низкие результаты", "Резильентные", "Объективность", "Карта полей", "Воронка"} <= set(
        book.sheetnames)
    sheet = book["Школы"]
    rows = {r[1]: r for r in sheet.iter_rows(min_row=2, values_only=True) if r[1]}
    for code, c in counted.items():
        assert rows[code][3] == c["n"]
        assert rows[code][5] == pytest.approx(round(100 * c["ok"] / c["marked"], 1))


@pytest.mark.django_db
def test_the_funnel_has_binomial_limits_around_the_municipality(demo, client):
    from metodist.collection.models import Work

    marks = list(Work.objects.filter(assessment__year=YEAR + 1, absent=False, mark__isnull=False)
                 .values_list("mark", flat=True))
    p = sum(1 for m in marks if m >= 3) / len(marks)
    response = _client(client, "methodologist").get("/analysis/")
    funnel = response.context["data"]["funnel"]
    assert funnel["centre"] == pytest.approx(100 * p, abs=0.01)
    row = funnel["limits"][len(funnel["limits"]) // 2]
    half = 1.959964 * (p * (1 - p) / row["n"]) ** 0.5
    assert row["lower_95"] == pytest.approx(100 * (p - half), abs=0.01)
    assert row["upper_998"] == pytest.approx(min(100.0, 100 * (p + 3.090232 * (p * (1 - p) / row["n"]) ** 0.5)),
                                             abs=0.01)
    assert "биномиальная" in response.content.decode()


@pytest.mark.django_db
def test_the_teacher_sees_his_problem_field_and_deficits(demo, client):
    planted, work = demo["planted"], _planted_work(demo)
    response = _client(client, "teacher").get("/analysis/")
    assert response.status_code == 200
    data = response.context["data"]
    assert data["teacher"].code == planted["teacher"]
    hits = [x for x in data["field_lines"] if x["assessment"] == work and x["field"].split(" ")[0] == planted["element"]]
    assert hits, data["field_lines"]
    assert all(x["rate"] < x["reference"] for x in hits)
    assert planted["element_name"] in response.content.decode()
    assert any(d.content_element and d.content_element.code == planted["element"] for d in data["deficits"])
    classes = {str(a.school_class) for a in data["assignments"]}
    assert classes and all(w["class"] is None or str(w["class"]) in classes for w in data["works"])
    assert client.get("/analysis/", {"xlsx": "1"}).status_code == 200


@pytest.mark.django_db
def test_the_school_dashboard(demo, client):
    planted = demo["planted"]
    teacher = _planted_teacher(demo)
    response = _client(client, "school_admin").get("/analysis/")
    assert response.status_code == 200
    data = response.context["data"]
    assert data["school"].code == planted["school"]
    assert any(x["teacher_id"] == teacher.pk and x["field"].split(" ")[0] == planted["element"]
               for x in data["teacher_lines"])
    assert {y["year"] for y in data["trend"]["years"]} == {2024, 2025, 2026}
    html = response.content.decode()
    assert f"/analysis/teacher/{teacher.pk}/" in html
    assert f"assessment={_planted_work(demo)}&amp;org={planted['school']}" in html
    # the report links lead to the report pages of the system
    from django.urls import resolve

    work = data["works"][0]
    assert resolve(work["standard_url"].split("?")[0]).view_name == "analysis:standard"
    assert resolve(work["docx_url"].split("?")[0]).view_name == "analysis:school_docx"
    # the school's administration opens its teachers' dashboards
    assert client.get(f"/analysis/teacher/{teacher.pk}/").status_code == 200
    # a methodologist opens the school's dashboard from the schools table
    methodologist = _client(client, "methodologist")
    assert methodologist.get(f"/analysis/org/{planted['school']}/").context["data"]["school"].code == planted["school"]


@pytest.mark.django_db
def test_nobody_reaches_another_schools_or_teachers_dashboard(demo, client):
    planted = demo["planted"]
    teacher = _planted_teacher(demo)
    for username in ("stranger", "outsider"):
        c = _client(client, username)
        assert c.get(f"/analysis/org/{planted['school']}/").status_code == 404
        assert c.get(f"/analysis/teacher/{teacher.pk}/").status_code == 404
        assert c.get("/analysis/org/no-such-school/").status_code == 404
    # the outsider's own municipality has no schools: his dashboard is empty, not the demo's
    response = _client(client, "outsider").get("/analysis/")
    assert response.status_code == 200
    assert planted["school"] not in response.content.decode()
    # a teacher sees only himself, not a colleague of his school
    c = _client(client, "teacher")
    assert c.get(f"/analysis/teacher/{demo['other_teacher'].pk}/").status_code == 404
    assert c.get(f"/analysis/teacher/{teacher.pk}/").status_code == 200
    assert _client(client, "nobody").get("/analysis/").status_code == 403
    client.logout()
    assert client.get("/analysis/").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize(("username", "url", "limit"), [
    ("methodologist", "/analysis/", 30),
    ("region_admin", "/analysis/", 30),
    ("school_admin", "/analysis/", 30),
    ("teacher", "/analysis/", 25),
])
def test_query_counts_are_bounded(demo, client, django_assert_max_num_queries, username, url, limit):
    c = _client(client, username)
    c.get(url)  # the schools' figures are computed once per run and year, then cached
    with django_assert_max_num_queries(limit):
        assert c.get(url).status_code == 200


@pytest.mark.django_db
def test_a_year_without_analysis_says_so(demo, client):
    response = _client(client, "methodologist").get("/analysis/", {"year": "2021"})
    assert response.status_code == 200
    assert "2021/2022 учебного года ещё не выполнен" in response.content.decode()


def test_the_region_map_has_a_row_per_municipality(demo, client):
    """A region's heatmap is by municipality (each row opens the municipality's map of schools); the
    municipality's own map is by school."""
    from metodist.core.models import Organisation

    response = _client(client, "region_admin").get("/analysis/")
    heat = response.context["data"]["heatmap"]
    assert heat["by_municipality"] and heat["rows"]
    assert {line["organisation"].kind for line in heat["rows"]} <= {"region", "municipality"}
    municipality = Organisation.objects.get(code="demo-m01")
    assert f'href="/analysis/org/{municipality.code}/"' in response.content.decode().split('id="heatmap"')[1]
    heat = _client(client, "methodologist").get("/analysis/").context["data"]["heatmap"]
    assert not heat["by_municipality"] and any(line["is_school"] for line in heat["rows"])


@pytest.mark.django_db
def test_the_region_lists_its_municipalities_and_the_xlsx_every_school(demo, client):
    """A region's dashboard has a row per municipality (its schools pooled), not 600 school rows; the
    figures are recounted here from the works, and the XLSX still has a row for every school."""
    import io

    from openpyxl import load_workbook

    from metodist.analysis.models import SchoolStatus
    from metodist.collection.models import Work
    from metodist.core.models import Organisation, OrganisationKind

    c = _client(client, "region_admin")
    response = c.get("/analysis/")
    data = response.context["data"]
    page = response.content.decode()
    assert 'id="municipalities"' in page and 'id="schools"' not in page
    lines = {line.organisation.code: line for line in data["municipalities"]}
    municipalities = Organisation.objects.filter(kind=OrganisationKind.MUNICIPALITY,
                                                 children__kind=OrganisationKind.SCHOOL).distinct()
    assert set(lines) == {m.code for m in municipalities}
    spring = data["run"].academic_year.start_year + 1
    for municipality in municipalities:
        line = lines[municipality.code]
        works = Work.objects.filter(school__parent=municipality, assessment__year=spring, absent=False)
        assert line.figures.participants == works.count()
        marked = works.exclude(mark__isnull=True)
        if marked.exists():
            assert line.figures.success_pct == pytest.approx(100 * marked.exclude(mark=2).count() / marked.count())
        assert line.low == SchoolStatus.objects.filter(run=data["run"], kind="low_results",
                                                       school__parent=municipality).count()
        assert f'href="/analysis/org/{municipality.code}/"' in page
    book = load_workbook(io.BytesIO(b"".join(c.get("/analysis/", {"xlsx": "1"}).streaming_content)), read_only=True)
    schools = set(Organisation.objects.filter(kind=OrganisationKind.SCHOOL).values_list("code", flat=True))
    assert "Муниципалитеты" in book.sheetnames
    assert schools <= {row[1] for row in book["Школы"].iter_rows(values_only=True) if len(row) > 1}
    # the page's funnel table lists only the schools beyond the 95 % limits
    outside = [p for p in data["funnel"]["points"] if p["zone"] != "в пределах границ"]
    assert len(response.context["tables"]["funnel_outside"].rows) == len(outside)


@pytest.mark.django_db
def test_a_school_s_signals_beyond_the_three_strongest_are_folded(demo, client):
    """The objectivity list shows a school's three strongest signals of Metodist and folds the rest under
    «ещё N сигналов» (the demo's planted school has more than a dozen): every signal stays on the page."""
    import re

    response = _client(client, "region_admin").get("/analysis/")
    rows = response.context["data"]["objectivity"]
    many = next(row for row in rows if len(row["metodist"]) > 3)
    values = [s["value"] for s in many["metodist"]]
    assert values == sorted(values, reverse=True)  # the strongest first
    section = response.content.decode().split('id="objectivity"')[1].split("</section>")[0]
    cell = next(tr for tr in section.split("<tr>") if f'/analysis/org/{many["school"].code}/' in tr)
    signals_cell = cell.split("<td>")[2]  # (place,) school (and score), then Metodist's signals
    shown, folded = signals_cell.split("<details>")
    assert shown.count('class="badge warn"') == 3
    more = len(many["metodist"]) - 3
    assert re.search(rf"ещё {more} сигнал(а|ов)?</summary>", folded)
    assert folded.count('class="badge warn"') == more
