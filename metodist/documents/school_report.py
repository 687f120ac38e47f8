"""The analytical report of a school (аналитическая справка по результатам …) on one assessment: the four
standard reports beside the parent levels, the two charts, the problem fields of the school's classes and
teachers from the latest finished analysis, conclusions written from the numbers and recommendations.

`school_report_docx` writes what a deputy head signs; `school_report_xlsx` writes the same tables, one
sheet each. Both are built from `build_school_report`, so the two documents never disagree."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from metodist.analysis.standard_reports import ReportError, StandardReport, standard_report
from metodist.documents.common import (
    Table,
    Workbook,
    academic_year,
    add_centered,
    add_numbered,
    add_table,
    latest_run,
    new_document,
    number,
    orientation,
    percent,
    resolve_assessments,
)

__all__ = ["SchoolReport", "Table", "build_school_report", "build_school_reports", "number", "percent",
           "school_report_docx", "school_report_xlsx"]

LOW_SOLVE_RATE = 50.0  # a task below this share is named in the conclusions as weakly done
LOWEST_TASKS = 3


@dataclass
class SchoolReport:
    school_code: str
    school_name: str
    school_full_name: str
    assessment_code: str
    assessment_title: str
    date: datetime.date
    standard: StandardReport
    level_phrases: list[str]  # per parent level: «по муниципалитету», «по региону», …
    run_id: int | None
    problem_fields: list  # ProblemField rows, flagged, of the school's classes and teachers
    tables: list[Table]
    conclusions: list[str]
    recommendations: list[str]
    problem_note: str


# --- building ----------------------------------------------------------------------------------------

def _level_phrase(kind: str | None) -> str:
    from metodist.core.models import OrganisationKind

    return {
        OrganisationKind.MUNICIPALITY: _("по муниципалитету"),
        OrganisationKind.REGION: _("по региону"),
        None: _("по всем данным"),
    }.get(kind, _("по вышестоящей организации"))


def build_school_report(school_code: str, assessment_code: str, *, engine: str = "default",
                        date: datetime.date | None = None) -> SchoolReport:
    """Everything the two documents show. Raises ReportError (Russian message) for unknown codes or when
    the school wrote no works of the assessment."""
    from metodist.core.models import Organisation, OrganisationKind
    from metodist.reference.models import Assessment

    school = Organisation.objects.filter(code=school_code).first()
    if school is None:
        raise ReportError(_("Организация с кодом «{code}» не найдена.").format(code=school_code))
    if school.kind != OrganisationKind.SCHOOL:
        raise ReportError(_("Организация «{name}» ({code}) не школа: справка по школе строится только для "
                            "школы.").format(name=school.short_name, code=school_code))
    report = standard_report(assessment_code, school_code, engine=engine)
    if not report.own.participants:
        raise ReportError(_("У школы «{name}» нет работ «{title}».").format(
            name=school.short_name, title=report.assessment_title))
    assessment = Assessment.objects.get(code=assessment_code)
    kinds = dict(Organisation.objects.filter(code__in=[p.code for p in report.parents if p.code])
                 .values_list("code", "kind"))
    phrases = [_level_phrase(kinds.get(p.code) if p.code else None) for p in report.parents]
    run, fields = _problem_fields(school, assessment)
    if run is None:
        note = _("Анализ результатов за {year} учебный год ещё не выполнялся, поэтому проблемные поля классов "
                 "и учителей в справку не вошли.").format(year=academic_year(assessment.year - 1))
    elif not fields:
        note = _("По данным анализа от {date} проблемных полей у классов и учителей школы по этой работе не "
                 "выявлено.").format(date=run.finished_at.strftime("%d.%m.%Y"))
    else:
        note = ngettext(
            "По данным анализа от {date} выявлено {n} проблемное поле классов и учителей школы.",
            "По данным анализа от {date} выявлено {n} проблемных полей классов и учителей школы.",
            len(fields)).format(date=run.finished_at.strftime("%d.%m.%Y"), n=len(fields))
    return SchoolReport(
        school_code=school.code, school_name=school.short_name, school_full_name=school.full_name or school.short_name,
        assessment_code=report.assessment_code, assessment_title=report.assessment_title,
        date=date or datetime.date.today(), standard=report, level_phrases=phrases,
        run_id=run.pk if run else None, problem_fields=fields, tables=tables(report, fields),
        conclusions=conclusions(report, phrases), recommendations=recommendations(report, fields),
        problem_note=note,
    )


def build_school_reports(school_code: str, assessment_code: str | None = None, *, year: int | None = None,
                         engine: str = "default", date: datetime.date | None = None) -> list[SchoolReport]:
    """One report per assessment: the one named, or every assessment of the academic year `year` (its first
    calendar year: 2025 for 2025/2026) the school wrote. Raises ReportError (Russian message)."""
    from metodist.core.models import Organisation, OrganisationKind

    school = Organisation.objects.filter(code=school_code).first()
    if school is None:
        raise ReportError(_("Организация с кодом «{code}» не найдена.").format(code=school_code))
    if school.kind != OrganisationKind.SCHOOL:
        raise ReportError(_("Организация «{name}» ({code}) не школа: справка по школе строится только для "
                            "школы.").format(name=school.short_name, code=school_code))
    found = resolve_assessments(school, assessment_code, year)
    return [build_school_report(school_code, a.code, engine=engine, date=date) for a in found]


def _problem_fields(school, assessment):
    """The latest finished analysis of the assessment's academic year whose scope holds the school, and
    its flagged problem fields of the school's classes and teachers."""
    from metodist.analysis.models import GroupLevel, ProblemField

    run = latest_run(school, assessment.year - 1)
    if run is None:
        return None, []
    fields = list(
        ProblemField.objects.filter(run=run, assessment=assessment, organisation=school, flagged=True,
                                    group_level__in=[GroupLevel.CLASS, GroupLevel.TEACHER])
        .select_related("school_class", "teacher", "content_element", "skill")
        .order_by("-priority", "pk")
    )
    return run, fields


def _field_name(pf) -> str:
    return pf.topic


def _group_name(pf) -> str:
    if pf.teacher_id:
        return pf.teacher.full_name
    if pf.school_class_id:
        return _("{klass} класс").format(klass=str(pf.school_class))
    return pf.get_group_level_display()


def tables(report: StandardReport, fields: list) -> list[Table]:
    levels = [report.own, *report.parents]
    marks = Table(
        _("Статистика по отметкам"), _("Отметки"),
        [_("Организация"), _("Участников"), "«2», %", "«3», %", "«4», %", "«5», %", _("Успеваемость, %"),
         _("Качество, %")],
        [[level.name, level.participants, *(level.marks_pct[m] for m in (2, 3, 4, 5)), level.success_pct,
          level.quality_pct] for level in levels],
        pct={2, 3, 4, 5, 6, 7}, widths=[36, 12, 9, 9, 9, 9, 15, 12],
    )

    parent = report.parents[0] if report.parents else None
    minimum_of = {v: m for m, v in report.thresholds.items() if m > 2}
    own_total = sum(report.own.scores.values())
    parent_total = sum(parent.scores.values()) if parent else 0
    headers = [_("Первичный балл"), _("Участников"), _("Доля, %")]
    if parent:
        headers.append(_("Доля, % ({name})").format(name=parent.name))
    headers.append(_("Порог отметки"))
    score_rows = []
    for score, n in report.own.scores.items():
        row = [score, n, 100 * n / own_total if own_total else None]
        if parent:
            row.append(100 * parent.scores.get(score, 0) / parent_total if parent_total else None)
        mark = minimum_of.get(score)
        row.append(_("от этого балла «{mark}»").format(mark=mark) if mark else "")
        score_rows.append(row)
    scores = Table(_("Распределение первичных баллов"), _("Баллы"), headers, score_rows,
                   pct={2, 3} if parent else {2}, widths=[15, 12, 10, 24, 22][:len(headers)])
    if not parent:
        scores.widths = [15, 12, 10, 22]

    task_rows = []
    rates = [level.solve_rate_pct for level in levels]
    for task in report.tasks:
        elements = "; ".join(f"{code} {name}".strip() for code, name in task.content_elements)
        task_rows.append([task.number, task.max_score, elements, *(r[task.number] for r in rates)])
    tasks_table = Table(
        _("Выполнение заданий"), _("Задания"),
        [_("Задание"), _("Макс. балл"), _("Элементы содержания (КЭС)"),
         *(_("{name}, %").format(name=level.name) for level in levels)],
        task_rows, pct=set(range(3, 3 + len(levels))), widths=[11, 9, 25, *([20] * len(levels))], font=8,
    )

    journal_rows = []
    for level in levels:
        pct = level.journal_pct
        journal_rows.append([level.name, *(v for k in ("lower", "confirmed", "higher")
                                           for v in (level.journal[k], pct[k])), level.compared])
    journal = Table(
        _("Сравнение отметок за работу с отметками по журналу"), _("Журнал"),
        [_("Организация"), _("Понизили, чел."), _("Понизили, %"), _("Подтвердили, чел."), _("Подтвердили, %"),
         _("Повысили, чел."), _("Повысили, %"), _("Всего")],
        journal_rows, pct={2, 4, 6}, widths=[36, 12, 12, 14, 14, 12, 12, 10],
    )
    result = [marks, scores, tasks_table]
    if report.own.compared:
        result.append(journal)
    if fields:
        result.append(Table(
            _("Проблемные поля классов и учителей"), _("Проблемные поля"),
            [_("Класс или учитель"), _("Элемент содержания или умение"), _("Участников"), _("Выполнение, %"),
             _("Для сравнения, %"), _("Разница, п. п."), _("Пояснение")],
            [[_group_name(pf), _field_name(pf), pf.pupils, pf.solve_rate, pf.reference, pf.difference,
              pf.explanation] for pf in fields],
            pct={3, 4, 5}, widths=[24, 40, 12, 14, 16, 14, 60],
        ))
    return result


# --- words ------------------------------------------------------------------------------------------

def _compare_sentence(what: str, value: float | None, other: float | None, phrase: str) -> str | None:
    if value is None or other is None:
        return None
    if round(value, 1) < round(other, 1):
        text = _("{what} {value} ниже, чем {level} ({other}).")
    elif round(value, 1) > round(other, 1):
        text = _("{what} {value} выше, чем {level} ({other}).")
    else:
        text = _("{what} {value} совпадает с показателем {level}.")
    return text.format(what=what, value=percent(value), level=phrase, other=percent(other))


def _lowest_tasks(report: StandardReport) -> list:
    rates = report.own.solve_rate_pct
    known = [t for t in report.tasks if rates.get(t.number) is not None]
    low = sorted(known, key=lambda t: (rates[t.number], t.position))
    weak = [t for t in low if rates[t.number] < LOW_SOLVE_RATE]
    return (weak or low)[:LOWEST_TASKS]


def _task_phrase(report: StandardReport, task) -> str:
    rate = percent(report.own.solve_rate_pct[task.number])
    if task.content_elements:
        elements = "; ".join(f"{code} «{name}»" if name else code for code, name in task.content_elements)
        return _("№ {number} ({rate}; КЭС {elements})").format(number=task.number, rate=rate, elements=elements)
    return _("№ {number} ({rate})").format(number=task.number, rate=rate)


def conclusions(report: StandardReport, phrases: list[str]) -> list[str]:
    own = report.own
    result = [ngettext(
        "Работу «{title}» писал {n} обучающийся школы.",
        "Работу «{title}» писали {n} обучающихся школы.", own.participants,
    ).format(title=report.assessment_title, n=own.participants)]
    if own.with_mark:
        result.append(_("Отметку «5» получили {p5}, «4» — {p4}, «3» — {p3}, «2» — {p2} участников.").format(
            **{f"p{m}": percent(own.marks_pct[m]) for m in MARKS_DESC}))
    else:
        result.append(_("Отметок за эту работу в данных нет, поэтому результаты сравниваются по первичному баллу."))
    for what, attr in ((_("Успеваемость"), "success_pct"), (_("Качество знаний"), "quality_pct")):
        for parent, phrase in list(zip(report.parents, phrases, strict=True))[:2]:
            sentence = _compare_sentence(what, getattr(own, attr), getattr(parent, attr), phrase)
            if sentence:
                result.append(sentence)
    low = _lowest_tasks(report)
    if low:
        weak = [t for t in low if own.solve_rate_pct[t.number] < LOW_SOLVE_RATE]
        phrases_ = ", ".join(_task_phrase(report, t) for t in low)
        if weak:
            result.append(ngettext(
                "Меньше чем наполовину выполнено задание {tasks}.",
                "Меньше чем наполовину выполнены задания {tasks}.", len(weak)).format(tasks=phrases_))
        else:
            result.append(ngettext(
                "Все задания выполнены не менее чем наполовину; ниже всего выполнено задание {tasks}.",
                "Все задания выполнены не менее чем наполовину; ниже всего выполнены задания {tasks}.",
                len(low)).format(tasks=phrases_))
    if own.compared:
        pct = own.journal_pct
        result.append(_("Отметку по журналу подтвердили {confirmed} из {total} участников ({pc}), понизили "
                        "{lower} ({pl}), повысили {higher} ({ph}).").format(
            confirmed=own.journal["confirmed"], total=own.compared, pc=percent(pct["confirmed"]),
            lower=own.journal["lower"], pl=percent(pct["lower"]), higher=own.journal["higher"],
            ph=percent(pct["higher"])))
    not_taught = [row for row in report.not_taught if row.school_code == own.code]
    if not_taught:
        result.append(ngettext(
            "Тема задания {tasks} к моменту работы ещё не пройдена у части участников («не пройд.»).",
            "Темы заданий {tasks} к моменту работы ещё не пройдены у части участников («не пройд.»).",
            len(not_taught)).format(tasks=", ".join(row.task for row in not_taught)))
    return result


MARKS_DESC = (5, 4, 3, 2)


def recommendations(report: StandardReport, fields: list) -> list[str]:
    result = []
    by_field: dict[str, list] = {}
    for pf in fields:
        by_field.setdefault(_field_name(pf), []).append(pf)
    for name, group in by_field.items():
        classes = [_group_name(pf) for pf in group if not pf.teacher_id]
        teachers = [pf.teacher.full_name for pf in group if pf.teacher_id]
        worst = min(group, key=lambda pf: pf.difference)
        if classes:
            result.append(_("Запланировать повторение и отработку темы «{field}» ({groups}): выполнение "
                            "{rate} при {reference} для сравнения.").format(
                field=name, groups=", ".join(classes), rate=percent(worst.solve_rate),
                reference=percent(worst.reference)))
        if teachers:
            result.append(_("Обсудить на методическом объединении приёмы обучения теме «{field}» с "
                            "участием учителей: {teachers}; при необходимости включить тему в план "
                            "повышения квалификации.").format(field=name, teachers=", ".join(teachers)))
    if not fields:
        low = _lowest_tasks(report)
        elements = []
        for task in low:
            for code, element in task.content_elements:
                label = f"{code} «{element}»" if element else code
                if label not in elements:
                    elements.append(label)
        if elements:
            result.append(_("Включить в уроки повторения задания на элементы содержания с наименьшим "
                            "выполнением: {elements}.").format(elements="; ".join(elements)))
        elif low:
            result.append(_("Включить в уроки повторения задания, похожие на задания {tasks}.").format(
                tasks=", ".join(t.number for t in low)))
    own = report.own
    if own.compared and own.journal_pct["lower"] is not None and own.journal_pct["lower"] >= 15:
        result.append(_("Сверить критерии текущего оценивания с критериями работы: отметку по журналу "
                        "понизили {pct} участников.").format(pct=percent(own.journal_pct["lower"])))
    result.append(_("Повторно проанализировать результаты после следующей оценочной процедуры, чтобы "
                    "проверить, дали ли меры результат."))
    return result


# --- DOCX -------------------------------------------------------------------------------------------

def _docx_section(doc, data: SchoolReport, prefix: str) -> None:
    """One assessment's part of the document; headings numbered after `prefix` («», «2.»)."""
    from docx.shared import Cm

    from metodist.documents.charts import marks_distribution_spec, task_completion_spec, to_png

    doc.add_heading(_("{prefix}1. Выводы").format(prefix=prefix), level=2)
    for sentence in data.conclusions:
        doc.add_paragraph(sentence, style="List Bullet")
    for number_, table in enumerate(data.tables, start=2):
        orientation(doc, table.wide)
        doc.add_heading(f"{prefix}{number_}. {table.title}", level=2)
        add_table(doc, table)
        if number_ == 2 and data.standard.own.with_mark:
            doc.add_picture(io.BytesIO(to_png(marks_distribution_spec(data.standard))), width=Cm(16))
        if number_ == 4:
            doc.add_picture(io.BytesIO(to_png(task_completion_spec(data.standard))), width=Cm(17))
        if number_ == 3 and not data.standard.thresholds:
            doc.add_paragraph(_("Шкала перевода баллов в отметки для этой работы не загружена."))
    orientation(doc, False)
    doc.add_heading(_("{prefix}{n}. Проблемные поля классов и учителей").format(
        prefix=prefix, n=len(data.tables) + 2), level=2)
    doc.add_paragraph(data.problem_note)
    for pf in data.problem_fields:
        if pf.explanation:
            doc.add_paragraph(f"{_group_name(pf)}, {_field_name(pf)}: {pf.explanation}", style="List Bullet")
    doc.add_heading(_("{prefix}{n}. Рекомендации").format(prefix=prefix, n=len(data.tables) + 3), level=2)
    add_numbered(doc, data.recommendations)


def school_report_docx(school_code: str, assessment_code: str | None, path, *, year: int | None = None,
                       engine: str = "default", date: datetime.date | None = None) -> Path:
    """The report as a DOCX file at `path`: of one assessment, or with `year` and no assessment of every
    assessment of that academic year the school wrote, a part each; returns the path."""
    reports = build_school_reports(school_code, assessment_code, year=year, engine=engine, date=date)
    first = reports[0]
    doc = new_document()
    add_centered(doc, first.school_full_name, bold=True)
    add_centered(doc, _("Аналитическая справка"), bold=True, size=16)
    if len(reports) == 1:
        add_centered(doc, _("по результатам работы «{title}»").format(title=first.assessment_title))
    else:
        add_centered(doc, _("по результатам оценочных процедур {year} учебного года").format(
            year=academic_year(year)))
    add_centered(doc, first.date.strftime("%d.%m.%Y"))
    if len(reports) == 1:
        doc.add_paragraph(_("Организация: {name} (код {code}). Работа: {title} (код {work}).").format(
            name=first.school_name, code=first.school_code, title=first.assessment_title,
            work=first.assessment_code))
        _docx_section(doc, first, "")
    else:
        doc.add_paragraph(ngettext(
            "Организация: {name} (код {code}). В справку вошла {n} работа {year} учебного года: {works}.",
            "Организация: {name} (код {code}). В справку вошли {n} работы {year} учебного года: {works}.",
            len(reports)).format(name=first.school_name, code=first.school_code, n=len(reports),
                                 year=academic_year(year), works="; ".join(r.assessment_title for r in reports)))
        for part, data in enumerate(reports, start=1):
            orientation(doc, False)
            doc.add_heading(_("{n}. {title}").format(n=part, title=data.assessment_title), level=1)
            _docx_section(doc, data, f"{part}.")
    orientation(doc, False)
    doc.add_paragraph()
    doc.add_paragraph(_("Заместитель директора ____________________ / ____________________ /"))
    path = Path(path)
    doc.save(str(path))
    return path


# --- XLSX -------------------------------------------------------------------------------------------

def school_report_xlsx(school_code: str, assessment_code: str | None, path, *, year: int | None = None,
                       engine: str = "default", date: datetime.date | None = None) -> Path:
    """The report's tables as an XLSX file at `path`, one sheet each (frozen header row, 0.0 for %),
    and a first sheet with the conclusions and recommendations; with several assessments (`year`) the
    sheets of each are prefixed with its number; returns the path."""
    reports = build_school_reports(school_code, assessment_code, year=year, engine=engine, date=date)
    path = Path(path)
    book = Workbook(path)
    first = reports[0]
    lines: list[tuple[str, str | None]] = [(first.school_full_name, "bold")]
    if len(reports) > 1:
        lines.append((_("Аналитическая справка по результатам оценочных процедур {year} учебного года").format(
            year=academic_year(year)), "bold"))
    lines.append((first.date.strftime("%d.%m.%Y"), None))
    for data in reports:
        lines += [("", None), (_("Аналитическая справка по результатам работы «{title}»").format(
            title=data.assessment_title), "bold"), (_("Выводы"), "bold"), *((s, "wrap") for s in data.conclusions),
            ("", None), (_("Проблемные поля классов и учителей"), "bold"), (data.problem_note, "wrap"), ("", None),
            (_("Рекомендации"), "bold"), *((s, "wrap") for s in data.recommendations)]
    book.text_sheet(_("Справка"), lines)
    for part, data in enumerate(reports, start=1):
        for table in data.tables:
            book.table_sheet(table, table.sheet if len(reports) == 1 else f"{part}. {table.sheet}")
    book.close()
    return path
