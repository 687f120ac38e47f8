"""Specifications into the database: save_spec, updates in place, refusals, check_spec."""

from __future__ import annotations

import copy

import pytest

from metodist.collection.models import TaskScore, Upload, UploadStatus, Work
from metodist.core.models import Organisation, OrganisationKind, Pupil
from metodist.reference.models import Assessment, ContentElement, GradeScale, ScaleKind, Skill, Task
from metodist.reference.specs import SpecError, check_spec, save_spec

SPEC = {
    "code": "VPR-2025-MA-5", "programme": "vpr", "subject": "ma", "grade": 5, "year": 2025, "max_primary": 6,
    "variants": [1, 2],
    "content_elements": [{"code": "1.1", "name": "Натуральные числа"}, {"code": "2.3", "name": "Дроби"}],
    "skills": [{"code": "1", "name": "Вычислять"}, {"code": "5", "name": "Решать задачи"}],
    "tasks": [
        {"number": "1", "max_score": 1, "task_type": "short", "level": "Б", "content_elements": ["1.1"],
         "skills": ["1"], "description": "Сложение"},
        {"number": "2", "max_score": 2, "task_type": "РО", "level": "P", "content_elements": ["1.1", "2.3"],
         "skills": ["5"]},
        {"number": "3.1", "max_score": 3, "level": "В", "content_elements": ["2.3"], "skills": ["1", "5"]},
    ],
    "grade_scale": {2: 0, 3: 2, 4: 4, 5: 5},
}


def spec(**changes) -> dict:
    data = copy.deepcopy(SPEC)
    data.update(changes)
    return data


def test_save_spec_creates_everything(db):
    assessment = save_spec(spec())
    assert assessment.code == "vpr-2025-ma-5" and assessment.programme == "VPR"
    assert (assessment.subject.code, assessment.subject.name) == ("ma", "Математика")
    assert (assessment.grade, assessment.year, assessment.max_primary, assessment.variants) == (5, 2025, 6, [1, 2])
    tasks = list(assessment.tasks.all())
    assert [(t.number, t.position, t.max_score, t.task_type, t.level) for t in tasks] == [
        ("1", 1, 1, "short", "B"), ("2", 2, 2, "extended", "P"), ("3.1", 3, 3, "", "V")]
    assert set(tasks[1].content_elements.values_list("code", flat=True)) == {"1.1", "2.3"}
    assert set(tasks[2].skills.values_list("code", flat=True)) == {"1", "5"}
    element = ContentElement.objects.get(code="2.3")
    assert element.name == "Дроби" and element.codifier == "vpr-ma-5"
    assert Skill.objects.filter(codifier="vpr-ma-5").count() == 2
    scale = GradeScale.objects.get(assessment=assessment, kind=ScaleKind.MARK)
    assert scale.thresholds == {"2": 0, "3": 2, "4": 4, "5": 5}
    assert [scale.convert(p) for p in range(7)] == [2, 2, 3, 3, 4, 5, 5]
    assert assessment.spec_checksum


def test_saving_the_same_spec_again_is_a_no_op(db):
    first = save_spec(spec())
    ids = list(first.tasks.values_list("pk", flat=True))
    again = save_spec(spec())
    assert again.pk == first.pk and list(again.tasks.values_list("pk", flat=True)) == ids
    assert Assessment.objects.count() == 1


@pytest.fixture
def with_results(region_tree):
    assessment = save_spec(spec())
    school = region_tree["school11"]
    upload = Upload.objects.create(file_name="f.xlsx", checksum="x", format="vpr-form", assessment=assessment,
                                   organisation=school, status=UploadStatus.IMPORTED)
    work = Work.objects.create(assessment=assessment, pupil=Pupil.objects.create(pseudonym="p1", school=school),
                               school=school, upload=upload, primary_score=3)
    for task in assessment.tasks.all():
        TaskScore.objects.create(work=work, task=task, score=1)
    return assessment


def test_changed_spec_updates_tasks_in_place_keeping_results(with_results):
    assessment = with_results
    before = dict(assessment.tasks.values_list("number", "pk"))
    changed = spec(title="Новое название", max_primary=8)
    changed["tasks"][2]["max_score"] = 4
    changed["tasks"][0]["description"] = "Сложение и вычитание"
    changed["tasks"].insert(0, {"number": "0", "max_score": 1})  # a new first task: the others move down
    changed["grade_scale"] = {3: 3, 4: 5, 5: 7}
    saved = save_spec(changed)
    assert saved.pk == assessment.pk and saved.title == "Новое название" and saved.max_primary == 8
    after = {t.number: t for t in saved.tasks.all()}
    for number, pk in before.items():
        assert after[number].pk == pk
    assert [(t.number, t.position) for t in saved.tasks.all()] == [("0", 1), ("1", 2), ("2", 3), ("3.1", 4)]
    assert after["3.1"].max_score == 4 and after["1"].description == "Сложение и вычитание"
    assert TaskScore.objects.filter(work__assessment=saved).count() == 3
    assert saved.scales.get().thresholds == {"3": 3, "4": 5, "5": 7}


def test_removing_a_task_with_results_is_refused(with_results):
    assessment = with_results
    checksum = assessment.spec_checksum
    changed = spec(max_primary=3, grade_scale={3: 1, 4: 2, 5: 3})
    changed["tasks"] = changed["tasks"][:2]
    with pytest.raises(SpecError) as caught:
        save_spec(changed)
    assert str(caught.value) == ("Задание 3.1 нельзя удалить из работы vpr-2025-ma-5: по нему уже загружены "
                                 "результаты.")
    assessment.refresh_from_db()
    assert assessment.spec_checksum == checksum and assessment.max_primary == 6
    assert list(assessment.tasks.values_list("number", flat=True)) == ["1", "2", "3.1"]
    assert TaskScore.objects.count() == 3


def test_removing_a_task_without_results(db):
    save_spec(spec())
    changed = spec(max_primary=3, grade_scale={3: 1, 4: 2, 5: 3})
    changed["tasks"] = changed["tasks"][:2]
    assessment = save_spec(changed)
    assert list(assessment.tasks.values_list("number", flat=True)) == ["1", "2"]
    assert not Task.objects.filter(number="3.1").exists()


def test_invalid_spec_is_not_saved(db):
    with pytest.raises(SpecError) as caught:
        save_spec(spec(max_primary=7))
    assert "Сумма максимальных баллов заданий (6) не равна максимальному первичному баллу (7)." in str(caught.value)
    assert not Assessment.objects.exists()


def test_check_spec_accepts_a_good_spec():
    assert check_spec(spec()) == []


def test_check_spec_non_monotone_scale():
    problems = check_spec(spec(grade_scale={3: 4, 4: 2, 5: 5}))
    assert "Шкала перевода не возрастает: отметка 4 начинается с 2." in problems


def test_check_spec_threshold_above_maximum():
    problems = check_spec(spec(grade_scale={3: 2, 4: 4, 5: 9}))
    assert "Порог отметки 5 (9) больше максимального балла." in problems


def test_check_spec_sum_not_max_primary():
    assert check_spec(spec(max_primary=10)) == [
        "Сумма максимальных баллов заданий (6) не равна максимальному первичному баллу (10)."]
    assert check_spec(spec(max_primary=10, partial=True)) == []


def test_check_spec_unknown_codes():
    data = spec()
    data["tasks"][0]["content_elements"] = ["9.9"]
    data["tasks"][1]["skills"] = ["77"]
    problems = check_spec(data)
    assert "Задание 1 ссылается на элемент содержания 9.9, которого нет в списке." in problems
    assert "Задание 2 ссылается на умение 77, которого нет в списке." in problems


def test_check_spec_missing_fields_duplicates_and_bad_values():
    assert "В спецификации не указано поле «year»." in check_spec({k: v for k, v in spec().items() if k != "year"})
    data = spec()
    data["tasks"].append({"number": "2", "max_score": 1})
    data["tasks"][0]["max_score"] = -1
    data["tasks"][2]["level"] = "Z"
    problems = check_spec(data)
    assert "Задание 2 указано дважды." in problems
    assert "У задания 1 неверный максимальный балл «-1»." in problems
    assert "У задания 3.1 неизвестный уровень сложности «Z»." in problems


def test_every_message_is_russian():
    data = spec(max_primary=10, grade_scale={3: 4, 4: 2, 5: 50})
    data["tasks"][0]["content_elements"] = ["9.9"]
    for message in check_spec(data):
        assert message.endswith(".") and any("а" <= ch <= "я" for ch in message.lower())


def test_owner_of_a_regional_work(region_tree):
    region = Organisation.objects.get(kind=OrganisationKind.REGION)
    assessment = save_spec(spec(code="reg-2025-ma-5", programme="REGIONAL"), owner=region)
    assert assessment.owner == region and assessment.programme == "REGIONAL"
