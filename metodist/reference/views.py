"""Reference data pages (stage 1): the assessments with their tasks, content elements, skills and grade
scales. Reference data is not protected: every signed-in user with a role reads it; only the number of
works loaded is counted over what the user may see."""

from __future__ import annotations

from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from metodist.core.access import role_required
from metodist.documents.common import Table
from metodist.documents.downloads import wants_xlsx, xlsx_response
from metodist.reference.forms import AssessmentFilter
from metodist.reference.models import Assessment, ContentElement, GradeScale, ScaleKind, Skill

#: the letters of the difficulty levels as the specifications print them
LEVEL_LETTERS = {"B": "Б", "P": "П", "V": "В"}
MARKS = (2, 3, 4, 5)


def mark_scale(scales) -> GradeScale | None:
    return next((s for s in scales if s.kind == ScaleKind.MARK), None)


def scale_state(assessment: Assessment, scales) -> tuple[bool, str]:
    """Whether the mark scale is complete, and a sentence saying what it is or what is missing."""
    scale = mark_scale(scales)
    test = next((s for s in scales if s.kind == ScaleKind.TEST_SCORE), None)
    if scale is None:
        if test is not None:
            return True, _("Есть шкала перевода в тестовый балл.")
        return False, _("Шкала перевода не указана в спецификации.")
    missing = [m for m in (3, 4, 5) if str(m) not in scale.thresholds]
    if missing:
        marks = ", ".join(f"«{m}»" for m in missing)
        return False, ngettext("Шкала неполная: нет порога отметки {marks}.",
                               "Шкала неполная: нет порогов отметок {marks}.", len(missing)).format(marks=marks)
    return True, _("Шкала полная.")


def scale_rows(scale: GradeScale, max_primary: int) -> list[list]:
    """Each mark with its range of primary scores (from, to); a bound the scale does not give is None."""
    thresholds = {int(k): int(v) for k, v in scale.thresholds.items()}
    thresholds.setdefault(2, 0)
    rows = []
    for mark in MARKS:
        low = thresholds.get(mark)
        if low is None:
            high = None
        elif mark == MARKS[-1]:
            high = max_primary
        else:
            high = thresholds[mark + 1] - 1 if mark + 1 in thresholds else None
        rows.append([mark, low, high])
    return rows


def codes(items) -> str:
    return "; ".join(f"{item.code} {item.name}".strip() for item in items)


@role_required
def assessments(request):
    """Every assessment of the reference with its number of tasks, maximum, grade scale and works loaded."""
    from metodist.collection.models import Work

    form = AssessmentFilter(request.GET or None)
    listed = form.apply(
        Assessment.objects.select_related("subject").prefetch_related("scales")
        .annotate(task_count=Count("tasks"), task_max=Sum("tasks__max_score"))
    )
    listed = list(listed)
    loaded = dict(
        Work.objects.visible_to(request.user).filter(assessment__in=[a.pk for a in listed])
        .values("assessment").annotate(n=Count("pk", filter=Q(absent=False))).values_list("assessment", "n")
    )
    rows, links, marked = [], [], set()
    for r, assessment in enumerate(listed):
        complete, state = scale_state(assessment, assessment.scales.all())
        if not complete:
            marked.add((r, 6))
        rows.append([
            assessment.code, assessment.title, assessment.grade, assessment.year, assessment.task_count, assessment.max_primary,
            state, loaded.get(assessment.pk, 0),
        ])
        links.append(reverse("reference:assessment", args=[assessment.code]))
    table = Table(
        _("Оценочные процедуры"), _("Процедуры"),
        [_("Код"), _("Работа"), _("Класс"), _("Год"), _("Заданий"), _("Максимальный первичный балл"),
         _("Шкала перевода"), _("Загружено работ")],
        rows, widths=[18, 44, 7, 7, 9, 14, 40, 12], marked=marked,
    )
    if wants_xlsx(request):
        return xlsx_response([table], _("Оценочные процедуры"))
    return render(request, "reference/assessments.html", {
        "current_stage": 1, "form": form, "table": table, "rows": list(zip(links, table.rows, strict=True)), "count": len(listed),
    })


@role_required
def assessment(request, code: str):
    """One assessment: its tasks, the grade scale and the content elements and skills of its codifier."""
    from metodist.collection.models import Work

    found = get_object_or_404(Assessment.objects.select_related("subject", "owner"), code=code)
    tasks = list(found.tasks.order_by("position").prefetch_related("content_elements", "skills"))
    scales = list(found.scales.all())
    complete, state = scale_state(found, scales)
    task_table = Table(
        _("Задания работы"), _("Задания"),
        [_("Задание"), _("Максимальный балл"), _("Тип"), _("Уровень"), _("Элементы содержания (КЭС)"),
         _("Проверяемые умения")],
        [[t.number, t.max_score, t.get_task_type_display() or None, LEVEL_LETTERS.get(t.level) or None,
          codes(t.content_elements.all()) or None, codes(t.skills.all()) or None] for t in tasks],
        widths=[9, 10, 22, 9, 50, 60],
        note=_("Уровень сложности: Б — базовый, П — повышенный, В — высокий."),
    )
    tables = [task_table]
    scale = mark_scale(scales)
    scale_table = None
    if scale is not None:
        scale_table = Table(
            _("Шкала перевода первичного балла в отметку"), _("Шкала"),
            [_("Отметка"), _("Первичный балл от"), _("Первичный балл до")],
            scale_rows(scale, found.max_primary), widths=[10, 18, 18], note=scale.note,
        )
        tables.append(scale_table)
    test = next((s for s in scales if s.kind == ScaleKind.TEST_SCORE), None)
    test_table = None
    if test is not None:
        test_table = Table(_("Перевод первичного балла в тестовый"), _("Тестовый балл"),
                           [_("Первичный балл"), _("Тестовый балл")],
                           [[p, int(v)] for p, v in enumerate(test.thresholds)], widths=[14, 14])
        tables.append(test_table)
    by_element, by_skill = {}, {}
    for task in tasks:
        for element in task.content_elements.all():
            by_element.setdefault(element.pk, []).append(task.number)
        for skill in task.skills.all():
            by_skill.setdefault(skill.pk, []).append(task.number)
    elements = list(ContentElement.objects.filter(codifier=found.codifier).order_by("code"))
    skills = list(Skill.objects.filter(codifier=found.codifier).order_by("code"))
    element_table = Table(
        _("Элементы содержания кодификатора {codifier}").format(codifier=found.codifier), _("КЭС"),
        [_("Код"), _("Элемент содержания"), _("Задания этой работы")],
        [[e.code, e.name, ", ".join(by_element.get(e.pk, [])) or None] for e in elements], widths=[10, 70, 20],
    )
    skill_table = Table(
        _("Проверяемые умения кодификатора {codifier}").format(codifier=found.codifier), _("Умения"),
        [_("Код"), _("Умение"), _("Задания этой работы")],
        [[s.code, s.name, ", ".join(by_skill.get(s.pk, [])) or None] for s in skills], widths=[10, 70, 20],
    )
    tables += [element_table, skill_table]
    if wants_xlsx(request):
        return xlsx_response(tables, found.code, title_lines=[found.title, found.source])
    loaded = Work.objects.visible_to(request.user).filter(assessment=found, absent=False).count()
    return render(request, "reference/assessment.html", {
        "current_stage": 1, "assessment": found, "task_table": task_table, "scale_table": scale_table,
        "test_table": test_table, "element_table": element_table, "skill_table": skill_table,
        "scale_complete": complete, "scale_state": state, "loaded": loaded,
        "task_total": sum(t.max_score for t in tasks),
    })


urlpatterns = [
    path("", assessments, name="assessments"),
    path("<slug:code>/", assessment, name="assessment"),
]
