"""An indicator's metric against a real school's export of ВПР 2026 (Russian, grade 4) counted directly with
the csv module; the rule of the suggested target; and an indicator that measures itself when the results
of its family of works are imported (the signal of stage 1), with no one asking."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

from metodist.analysis import report_cache
from metodist.collection.importing import ImportOptions, import_file
from metodist.collection.models import UploadStatus
from metodist.core.models import AcademicYear, Organisation, OrganisationKind, Subject
from metodist.planning.metrics import Metric, measure
from metodist.planning.models import Indicator, Roadmap, RoadmapKind, Statistic, ValueKind
from metodist.planning.roadmaps import MIN_STEP, suggested_target
from metodist.reference.models import Assessment
from metodist.reference.specs import ensure_shipped_specs

RU4_CSV = Path(__file__).resolve().parents[1] / "samples" / "vpr-form" / "individual-results-ru4-2026.csv"
SCHOOL = "edu203389"


@pytest.fixture(autouse=True)
def fresh_cache():
    report_cache.clear()
    yield
    report_cache.clear()


def rows() -> list[dict]:
    with open(RU4_CSV, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def task_columns(sample: list[dict]) -> dict[str, tuple[str, int]]:
    """task number → (column, maximum) from the headers «9.1 (1б)»."""
    found = {}
    for header in sample[0]:
        match = re.fullmatch(r"(\d+(?:\.\d+)?) \((\d+)б\)", header)
        if match:
            found[match.group(1)] = (header, int(match.group(2)))
    return found


def element_solve_rate_by_hand(sample: list[dict], task_numbers: list[str]) -> float:
    columns = task_columns(sample)
    scored = sum(int(r[columns[n][0]]) for r in sample for n in task_numbers)
    possible = sum(columns[n][1] for n in task_numbers) * len(sample)
    return 100 * scored / possible


@pytest.fixture
def imported(db):
    ensure_shipped_specs()
    outcome = import_file(RU4_CSV, ImportOptions(assessment="vpr-2026-ru-4", create_organisations=True))
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()
    return Assessment.objects.get(code="vpr-2026-ru-4")


def elements_with_tasks(assessment) -> dict[str, list[str]]:
    by_element: dict[str, list[str]] = {}
    for task in assessment.tasks.prefetch_related("content_elements").order_by("position"):
        for element in task.content_elements.all():
            by_element.setdefault(element.code, []).append(task.number)
    return by_element


def test_solve_rate_of_a_content_element_is_the_points_over_the_maximum_of_its_tasks(imported):
    """The 2026 description ships without a codifier: the test maps tasks to two elements itself (one of
    them checked by tasks of different maxima), as a region's methodologist does in the reference pages."""
    from metodist.reference.models import ContentElement

    plan = {"1.1": ["1", "4", "9.2"], "2.3": ["12.1"]}
    for code, numbers in plan.items():
        element = ContentElement.objects.create(codifier="vpr-ru-4", subject=imported.subject, code=code,
                                                name=f"Тема {code}")
        for task in imported.tasks.filter(number__in=numbers):
            task.content_elements.add(element)
    report_cache.clear()
    sample = rows()
    by_element = elements_with_tasks(imported)
    assert by_element == plan
    for code, numbers in by_element.items():
        measured = measure(Metric("VPR", "ru", 4, SCHOOL, Statistic.SOLVE_RATE, element=code), 2025)
        assert measured is not None and measured.assessment_code == "vpr-2026-ru-4"
        assert measured.works == len(sample) == 50
        assert measured.value == pytest.approx(element_solve_rate_by_hand(sample, numbers), abs=0.005), code


def test_shares_of_marks_are_counted_from_the_file(imported):
    sample = rows()
    marks = Counter(int(r["Отметка"]) for r in sample)
    n = len(sample)
    expected = {
        Statistic.SUCCESS: 100 * (marks[3] + marks[4] + marks[5]) / n,
        Statistic.QUALITY: 100 * (marks[4] + marks[5]) / n,
        Statistic.MARK_2: 100 * marks[2] / n,
    }
    for statistic, value in expected.items():
        measured = measure(Metric("VPR", "ru", 4, SCHOOL, statistic), 2025)
        assert measured.value == pytest.approx(value, abs=0.005), statistic
    # no work of the family that year: nothing is measured, rather than a zero
    assert measure(Metric("VPR", "ru", 4, SCHOOL, Statistic.SUCCESS), 2024) is None


@pytest.mark.parametrize(("baseline", "reference", "higher", "target"), [
    (40.0, 60.0, True, 50.0),  # half the gap to the reference
    (58.0, 60.0, True, 58.0 + MIN_STEP),  # a small gap still moves by the minimum step
    (70.0, 60.0, True, 70.0 + MIN_STEP),  # above the reference: the minimum step further
    (98.0, 60.0, True, 100.0),  # never above 100 %
    (20.0, 10.0, False, 15.0),  # the share of «2»: down by half the gap
    (3.0, 10.0, False, 0.0),  # … and never below 0 %
    (40.0, None, True, 40.0 + MIN_STEP),  # no reference: the minimum step
])
def test_suggested_target(baseline, reference, higher, target):
    assert suggested_target(baseline, reference, higher_is_better=higher) == pytest.approx(target)


def test_suggested_target_without_a_baseline_is_left_to_the_school():
    assert suggested_target(None, 60.0) is None


@pytest.mark.django_db
def test_an_indicator_is_measured_when_its_results_are_imported():
    """The roadmap exists before the spring's results: importing them measures its indicator."""
    ensure_shipped_specs()
    region = Organisation.objects.create(kind=OrganisationKind.REGION, code="reg95", short_name="Регион")
    municipality = Organisation.objects.create(kind=OrganisationKind.MUNICIPALITY, code="reg95_m01",
                                               short_name="Урус-Мартановский муниципальный район", parent=region)
    school = Organisation.objects.create(kind=OrganisationKind.SCHOOL, code=SCHOOL, short_name="СОШ № 1",
                                         parent=municipality)
    roadmap = Roadmap.objects.create(kind=RoadmapKind.SCHOOL_SUBJECT, title="Карта", organisation=school,
                                     subject=Subject.objects.get(code="ru"),
                                     academic_year=AcademicYear.objects.get_or_create(start_year=2025)[0])
    indicator = Indicator.objects.create(
        roadmap=roadmap, goal="Успеваемость", programme="VPR", subject=roadmap.subject, grade=4, scope=school,
        statistic=Statistic.SUCCESS, baseline_year=2024, target=95)
    assert not indicator.values.exists()

    outcome = import_file(RU4_CSV, ImportOptions(assessment="vpr-2026-ru-4", create_organisations=True))
    assert outcome.status == UploadStatus.IMPORTED, outcome.as_dict()

    marks = Counter(int(r["Отметка"]) for r in rows())
    value = indicator.values.get()
    assert value.year == 2025 and value.kind == ValueKind.FINAL  # the roadmap's own year
    assert value.works == 50 and value.assessment_code == "vpr-2026-ru-4"
    assert value.value == pytest.approx(100 * (marks[3] + marks[4] + marks[5]) / 50, abs=0.005)
