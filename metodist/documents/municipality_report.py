"""The analytical report of a municipality (аналитическая справка муниципалитета) on one assessment or on
every assessment of an academic year its schools wrote: per assessment the four standard reports of the
municipality beside the region, the table of its schools (with the statuses of the latest finished
analysis), the problem fields of the schools by content element, conclusions written from the numbers;
then the objectivity list of the analysis and recommendations to the municipal method service.

`municipality_report_docx` writes what a municipal methodologist signs; `municipality_report_xlsx` the
same tables, one sheet each. Both are built from `build_municipality_report`.

The schools' figures come from the same grouped aggregates as the standard reports (per school: works by
mark and journal mark, by primary score, sums of scores per task), so a school's row and the
municipality's totals are counted the same way."""

from __future__ import annotations

import datetime
import io
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from metodist.analysis.standard_reports import MARKS, ReportError, StandardReport, standard_report
from metodist.documents.common import (
    Table,
    Workbook,
    academic_year,
    add_centered,
    add_numbered,
    add_table,
    latest_run,
    new_document,
    orientation,
    percent,
    resolve_assessments,
)

#: schools per problem-field table in DOCX (more columns would not fit a landscape page)
SCHOOLS_PER_TABLE = 15
#: how many content elements and schools the conclusions name at most
NAMED = 5
#: a school whose quality is at least this many points above the municipality's may mentor (if not flagged)
MENTOR_MARGIN = 10.0


@dataclass
class SchoolRow:
    code: str
    name: str
    participants: int
    marks: dict[int, int]
    mean_primary_pct: float | None
    statuses: list[str] = field(default_factory=list)  # status kinds of the run (SchoolStatusKind values)
    objectivity: bool = False  # Metodist's objectivity signals tripped on this work

    @property
    def with_mark(self) -> int:
        return sum(self.marks.values())

    @property
    def marks_pct(self) -> dict[int, float | None]:
        total = self.with_mark
        return {m: (100 * n / total if total else None) for m, n in self.marks.items()}

    @property
    def success_pct(self) -> float | None:
        total = self.with_mark
        return 100 * (total - self.marks[2]) / total if total else None

    @property
    def quality_pct(self) -> float | None:
        total = self.with_mark
        return 100 * (self.marks[4] + self.marks[5]) / total if total else None


@dataclass
class ElementRow:
    """One content element of an assessment: its solve rate in every school, the municipality and region,
    and where the analysis flagged it (school code → who: «школа», a class, a teacher)."""

    code: str
    name: str
    rates: dict[str, float | None]
    municipality: float | None
    region: float | None
    flagged: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Section:
    assessment_code: str
    assessment_title: str
    max_primary: int
    standard: StandardReport
    schools: list[SchoolRow]  # sorted by mean primary score, best first
    mean_primary_pct: float | None  # the municipality's
    elements: list[ElementRow]
    municipal_fields: list  # ProblemField rows of the municipality itself, flagged
    tables: list[Table] = field(default_factory=list)
    conclusions: list[str] = field(default_factory=list)


@dataclass
class ObjectivityRow:
    rank: int
    code: str
    name: str
    score: float
    tripped: list[str]  # «работа: сигнал» of Metodist's tripped signals
    federal: list[str]  # names of the federal markers tripped
    explanation: str


@dataclass
class MunicipalityReport:
    code: str
    name: str
    full_name: str
    region_name: str | None
    year: int  # first calendar year of the academic year
    date: datetime.date
    run_id: int | None
    run_date: str | None
    sections: list[Section]
    statuses: dict[str, list[str]]  # school code → status kinds of the run
    objectivity: list[ObjectivityRow]
    summary: Table | None  # the works of the year, when there are several
    conclusions: list[str]  # over the whole document
    recommendations: list[str]
    analysis_note: str


def _status_label(kind: str) -> str:
    from metodist.analysis.models import SchoolStatusKind

    return {
        SchoolStatusKind.LOW_RESULTS: _("низкие результаты"),
        SchoolStatusKind.DIFFICULT_CONTEXT: _("сложные условия"),
        SchoolStatusKind.RESILIENT: _("резильентная"),
        SchoolStatusKind.HIGH_PERFORMER: _("высокие результаты"),
    }.get(kind, kind)


# --- building ----------------------------------------------------------------------------------------

def build_municipality_report(code: str, assessment_code: str | None = None, year: int | None = None, *,
                              engine: str = "default", date: datetime.date | None = None) -> MunicipalityReport:
    """Everything the two documents show: one assessment, or with `year` (first calendar year of the
    academic year) and no assessment every assessment of that year the municipality's schools wrote.
    Raises ReportError (Russian message) for unknown codes, an organisation that is not a municipality,
    an assessment of another year or no works."""
    from metodist.analysis.engine import connect, quiet
    from metodist.analysis.standard_reports import _aggregate
    from metodist.core.models import Organisation, OrganisationKind

    municipality = Organisation.objects.filter(code=code).first()
    if municipality is None:
        raise ReportError(_("Организация с кодом «{code}» не найдена.").format(code=code))
    if municipality.kind != OrganisationKind.MUNICIPALITY:
        raise ReportError(_("Организация «{name}» ({code}) не муниципалитет: справка муниципалитета строится "
                            "только для муниципального образования.").format(name=municipality.short_name, code=code))
    assessments = resolve_assessments(municipality, assessment_code, year)
    if year is None:
        year = assessments[0].year - 1
    run = latest_run(municipality, year)
    statuses: dict[str, list[str]] = defaultdict(list)
    objectivity: list[ObjectivityRow] = []
    tripped_on: dict[tuple[str, str], int] = defaultdict(int)  # (school, assessment) → Metodist signals tripped
    if run is not None:
        statuses, objectivity, tripped_on = _run_findings(run, municipality)
    names = dict(Organisation.objects.filter(path__startswith=municipality.path, kind=OrganisationKind.SCHOOL)
                 .values_list("pk", "short_name"))
    codes = dict(Organisation.objects.filter(pk__in=names).values_list("pk", "code"))

    sections = []
    for assessment in assessments:
        report = standard_report(assessment.code, code, engine=engine)
        if not report.own.participants:
            if assessment_code is not None:
                raise ReportError(_("У школ муниципалитета «{name}» нет работ «{title}».").format(
                    name=municipality.short_name, title=assessment.title))
            continue
        with quiet():
            aggregates = _aggregate(connect(engine, assessments=[assessment.pk]), assessment.pk)
        section = _section(report, assessment, aggregates, municipality, names, codes, statuses, tripped_on, run)
        sections.append(section)
    region = next((p.name for p in sections[0].standard.parents if p.code), None) if sections else None
    run_date = run.finished_at.strftime("%d.%m.%Y") if run else None
    if run is None:
        note = _("Анализ результатов за {year} учебный год ещё не выполнялся, поэтому статусы школ, проблемные "
                 "поля и список объективности в справку не вошли.").format(year=academic_year(year))
    else:
        note = _("Статусы школ, проблемные поля и список объективности — по данным анализа от {date} "
                 "(№ {run}).").format(date=run_date, run=run.pk)
    data = MunicipalityReport(
        code=municipality.code, name=municipality.short_name,
        full_name=municipality.full_name or municipality.short_name, region_name=region, year=year,
        date=date or datetime.date.today(), run_id=run.pk if run else None, run_date=run_date, sections=sections,
        statuses=dict(statuses), objectivity=objectivity, summary=None, conclusions=[], recommendations=[],
        analysis_note=note,
    )
    for section in sections:
        section.tables = section_tables(section, data)
        section.conclusions = section_conclusions(section, data)
    if len(sections) > 1:
        data.summary = summary_table(data)
    data.conclusions = overall_conclusions(data)
    data.recommendations = recommendations(data)
    return data


def _run_findings(run, municipality):
    """The run's school statuses, objectivity list (schools with a risk score or a federal marker) and the
    number of Metodist's tripped signals per school and work, for the municipality's schools."""
    from metodist.analysis.models import ObjectivityResult, ObjectivitySignal, SchoolStatus, SignalSource
    from metodist.analysis.objectivity import marker_name
    from metodist.analysis.objectivity_signals import signal_name

    statuses: dict[str, list[str]] = defaultdict(list)
    for school, kind in (SchoolStatus.objects.filter(run=run, school__path__startswith=municipality.path)
                         .order_by("school__code", "kind").values_list("school__code", "kind")):
        statuses[school].append(kind)
    tripped_on: dict[tuple[str, str], int] = defaultdict(int)
    tripped: dict[str, list[str]] = defaultdict(list)
    for school, work, signal in (ObjectivitySignal.objects.filter(
            result__run=run, result__school__path__startswith=municipality.path, source=SignalSource.METODIST,
            tripped=True).order_by("assessment__code", "code")
            .values_list("result__school__code", "assessment__code", "code")):
        tripped_on[(school, work)] += 1
        tripped[school].append(_("{work}: {name}").format(work=work, name=signal_name(signal)))
    rows = []
    for result in (ObjectivityResult.objects.filter(run=run, school__path__startswith=municipality.path)
                   .select_related("school").order_by("rank")):
        code = result.school.code
        if result.score <= 0 and not result.federal_markers and not tripped[code]:
            continue
        rows.append(ObjectivityRow(result.rank, code, result.school.short_name, result.score, tripped[code],
                                   [marker_name(m) for m in result.federal_markers], result.explanation))
    return statuses, rows, tripped_on


def _section(report, assessment, aggregates, municipality, names, codes, statuses, tripped_on, run) -> Section:
    from metodist.analysis.models import FieldKind, GroupLevel, ProblemField

    marks: dict[int, dict[int, int]] = {}
    participants: dict[int, int] = defaultdict(int)
    for school_id, path, mark, _journal, n in aggregates["marks"]:
        if not path.startswith(municipality.path):
            continue
        participants[school_id] += n
        counts = marks.setdefault(school_id, dict.fromkeys(MARKS, 0))
        if mark in MARKS:
            counts[mark] += n
    score_sum: dict[int, int] = defaultdict(int)
    scored: dict[int, int] = defaultdict(int)
    for school_id, path, score, n in aggregates["scores"]:
        if score is None or not path.startswith(municipality.path):
            continue
        score_sum[school_id] += score * n
        scored[school_id] += n
    numbers = dict(assessment.tasks.values_list("pk", "number"))
    task_sums: dict[int, dict[str, int]] = defaultdict(dict)
    for school_id, path, task_id, total, _not_taught in aggregates["tasks"]:
        if path.startswith(municipality.path) and task_id in numbers:
            task_sums[school_id][numbers[task_id]] = total

    def mean_pct(total: int, n: int) -> float | None:
        return 100 * total / n / assessment.max_primary if n and assessment.max_primary else None

    schools = []
    for school_id, n in participants.items():
        code = codes.get(school_id, str(school_id))
        schools.append(SchoolRow(
            code=code, name=names.get(school_id, code), participants=n, marks=dict(marks[school_id]),
            mean_primary_pct=mean_pct(score_sum[school_id], scored[school_id]),
            statuses=list(statuses.get(code, [])), objectivity=tripped_on.get((code, assessment.code), 0) > 0,
        ))
    schools.sort(key=lambda s: (-(s.mean_primary_pct if s.mean_primary_pct is not None else -1), s.code))
    municipal_mean = mean_pct(sum(score_sum.values()), sum(scored.values()))

    # content elements: points / (maximum × present works) over the element's tasks, per school
    by_element: dict[str, list] = {}
    element_names: dict[str, str] = {}
    for task in report.tasks:
        for element_code, element_name in task.content_elements:
            by_element.setdefault(element_code, []).append(task)
            element_names[element_code] = element_name
    code_of = {codes.get(pk, str(pk)): pk for pk in participants}
    region = report.parents[0] if report.parents else None

    def rate(sums: dict[str, int], works: int, tasks) -> float | None:
        possible = sum(t.max_score for t in tasks) * works
        return 100 * sum(sums.get(t.number, 0) for t in tasks) / possible if possible else None

    flagged: dict[tuple[str, str], list[str]] = defaultdict(list)
    municipal_fields = []
    if run is not None:
        for pf in (ProblemField.objects.filter(
                run=run, assessment=assessment, flagged=True, field_kind=FieldKind.CONTENT_ELEMENT,
                organisation__path__startswith=municipality.path,
                group_level__in=[GroupLevel.SCHOOL, GroupLevel.CLASS, GroupLevel.TEACHER])
                .select_related("organisation", "school_class", "teacher", "content_element")
                .order_by("organisation__code", "group_level", "pk")):
            if pf.group_level == GroupLevel.SCHOOL:
                who = _("школа")
            elif pf.teacher_id:
                who = pf.teacher.full_name
            else:
                who = _("{klass} класс").format(klass=str(pf.school_class))
            flagged[(pf.organisation.code, pf.content_element.code)].append(who)
        municipal_fields = list(ProblemField.objects.filter(
            run=run, assessment=assessment, flagged=True, group_level=GroupLevel.MUNICIPALITY,
            organisation=municipality).select_related("content_element", "skill").order_by("-priority", "pk"))
    elements = []
    for element_code, tasks in by_element.items():
        elements.append(ElementRow(
            code=element_code, name=element_names[element_code],
            rates={s.code: rate(task_sums[code_of[s.code]], s.participants, tasks) for s in schools},
            municipality=rate(report.own.task_sums, report.own.participants, tasks),
            region=rate(region.task_sums, region.participants, tasks) if region else None,
            flagged={s.code: flagged[(s.code, element_code)] for s in schools if flagged.get((s.code, element_code))},
        ))
    return Section(
        assessment_code=assessment.code, assessment_title=assessment.title, max_primary=assessment.max_primary,
        standard=report, schools=schools, mean_primary_pct=municipal_mean, elements=elements,
        municipal_fields=municipal_fields,
    )


def _difference(value: float | None, reference: float | None) -> float | None:
    return None if value is None or reference is None else value - reference


def _statuses_text(school: SchoolRow) -> str:
    labels = [_status_label(kind) for kind in school.statuses]
    if school.objectivity:
        labels.append(_("риск необъективности"))
    return ", ".join(labels)


def section_tables(section: Section, data: MunicipalityReport) -> list[Table]:
    report = section.standard
    levels = [report.own, *report.parents]
    marks = Table(
        _("Статистика по отметкам"), _("Отметки"),
        [_("Организация"), _("Участников"), "«2», %", "«3», %", "«4», %", "«5», %", _("Успеваемость, %"),
         _("Качество, %")],
        [[level.name, level.participants, *(level.marks_pct[m] for m in MARKS), level.success_pct,
          level.quality_pct] for level in levels],
        pct={2, 3, 4, 5, 6, 7}, widths=[36, 12, 9, 9, 9, 9, 15, 12],
    )
    own = report.own
    school_rows = []
    for number_, s in enumerate(section.schools, start=1):
        school_rows.append([
            number_, s.name, s.code, s.participants, *(s.marks_pct[m] for m in MARKS), s.success_pct,
            s.quality_pct, s.mean_primary_pct, _difference(s.mean_primary_pct, section.mean_primary_pct),
            _statuses_text(s),
        ])
    school_rows.append(["", _("Муниципалитет"), own.code, own.participants, *(own.marks_pct[m] for m in MARKS),
                        own.success_pct, own.quality_pct, section.mean_primary_pct, None, ""])
    schools = Table(
        _("Результаты школ"), _("Школы"),
        [_("№"), _("Школа"), _("Код"), _("Участников"), "«2», %", "«3», %", "«4», %", "«5», %", _("Успеваемость, %"),
         _("Качество, %"), _("Средний первичный балл, % от максимума"), _("Разница со средним по муниципалитету, п. п."),
         _("Статус по данным анализа")],
        school_rows, pct={4, 5, 6, 7, 8, 9, 10, 11}, widths=[4, 21, 10, 10, 6, 6, 6, 6, 12, 10, 12, 12, 20],
        marked={(r, 8) for r, s in enumerate(section.schools)
                if s.success_pct is not None and own.success_pct is not None
                and round(s.success_pct, 1) < round(own.success_pct, 1)},
        freeze_columns=2, font=8,
        note=_("Школы — по убыванию среднего первичного балла. Выделена успеваемость ниже, чем по "
               "муниципалитету. {note}").format(note=data.analysis_note),
    )
    task_rows = []
    for task in report.tasks:
        elements = "; ".join(f"{c} {n}".strip() for c, n in task.content_elements)
        task_rows.append([task.number, task.max_score, elements, *(lv.solve_rate_pct[task.number] for lv in levels)])
    tasks = Table(
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
    own_tables = [marks, tasks] if own.with_mark else [tasks]
    if own.compared:
        own_tables.append(journal)
    return [*own_tables, schools, *element_tables(section)]


def element_tables(section: Section, per_table: int | None = None) -> list[Table]:
    """Content elements × schools (schools numbered as in the table of schools), the municipality and the
    region; cells where the analysis flagged a problem field of the school or its class or teacher are
    marked. Split by `per_table` schools (DOCX); one table when None (XLSX)."""
    if not section.elements:
        return []
    numbered = list(enumerate(section.schools, start=1))
    chunks = [numbered] if per_table is None else [numbered[i:i + per_table]
                                                    for i in range(0, len(numbered), per_table)] or [[]]
    result = []
    for part, chunk in enumerate(chunks, start=1):
        headers = [_("Элемент содержания (КЭС)"), *(str(n) for n, _s in chunk), _("Муниципалитет"), _("Регион")]
        rows, marked = [], set()
        for r, element in enumerate(section.elements):
            row = [f"{element.code} {element.name}".strip()]
            for c, (_n, school) in enumerate(chunk, start=1):
                row.append(element.rates.get(school.code))
                if element.flagged.get(school.code):
                    marked.add((r, c))
            rows.append([*row, element.municipality, element.region])
        title = _("Проблемные поля школ по элементам содержания, % выполнения")
        if len(chunks) > 1:
            title = _("{title} (часть {part} из {parts})").format(title=title, part=part, parts=len(chunks))
        legend = "; ".join(f"{n} — {s.name}" for n, s in chunk)
        result.append(Table(
            title, _("Элементы содержания"), headers, rows, pct=set(range(1, len(headers))),
            widths=[34, *([7] * len(chunk)), 11, 9], marked=marked, freeze_columns=1, font=8, digits=0,
            note=_("Столбцы — школы по номерам таблицы результатов школ: {legend}. Выделено проблемное поле "
                   "школы, её класса или учителя по данным анализа.").format(legend=legend),
        ))
    return result


def summary_table(data: MunicipalityReport) -> Table:
    rows = []
    for section in data.sections:
        own = section.standard.own
        region = section.standard.parents[0] if section.standard.parents else None
        rows.append([section.assessment_title, len(section.schools), own.participants,
                     *(own.marks_pct[m] for m in MARKS), own.success_pct, own.quality_pct, section.mean_primary_pct,
                     region.success_pct if region else None, region.quality_pct if region else None])
    return Table(
        _("Работы {year} учебного года").format(year=academic_year(data.year)), _("Работы года"),
        [_("Работа"), _("Школ"), _("Участников"), "«2», %", "«3», %", "«4», %", "«5», %", _("Успеваемость, %"),
         _("Качество, %"), _("Средний первичный балл, %"), _("Успеваемость по региону, %"),
         _("Качество по региону, %")],
        rows, pct={3, 4, 5, 6, 7, 8, 9, 10, 11}, widths=[25, 6, 10, 6, 6, 6, 6, 12, 10, 12, 12, 10], font=8,
    )


# --- words ------------------------------------------------------------------------------------------

def _names(schools: list[SchoolRow], figure) -> str:
    return ", ".join(f"{s.name} ({percent(figure(s))})" for s in schools[:NAMED]) + ("…" if len(schools) > NAMED else "")


def below_success(section: Section) -> list[SchoolRow]:
    """Schools whose success (as printed, to 0.1) is below the municipality's, weakest first."""
    own = section.standard.own.success_pct
    if own is None:
        return []
    found = [s for s in section.schools if s.success_pct is not None and round(s.success_pct, 1) < round(own, 1)]
    return sorted(found, key=lambda s: (s.success_pct, s.code))


def problem_elements(section: Section) -> list[tuple[ElementRow, int]]:
    """Content elements flagged in at least one school, by the number of schools (most first)."""
    counted = [(e, len(e.flagged)) for e in section.elements if e.flagged]
    return sorted(counted, key=lambda pair: (-pair[1], pair[0].municipality if pair[0].municipality is not None
                                             else 100, pair[0].code))


def section_conclusions(section: Section, data: MunicipalityReport) -> list[str]:
    own = section.standard.own
    region = section.standard.parents[0] if section.standard.parents else None
    n_schools = len(section.schools)
    result = [ngettext(
        "Работу «{title}» писали {n} обучающихся из {k} школы муниципалитета.",
        "Работу «{title}» писали {n} обучающихся из {k} школ муниципалитета.", n_schools,
    ).format(title=section.assessment_title, n=own.participants, k=n_schools)]
    if own.with_mark:
        result.append(_("Отметку «5» получили {p5}, «4» — {p4}, «3» — {p3}, «2» — {p2} участников.").format(
            **{f"p{m}": percent(own.marks_pct[m]) for m in MARKS}))
    else:
        result.append(_("Отметок за эту работу в данных нет, поэтому результаты сравниваются по первичному баллу."))
    if region is not None:
        for what, attr in ((_("Успеваемость"), "success_pct"), (_("Качество знаний"), "quality_pct")):
            value, other = getattr(own, attr), getattr(region, attr)
            if value is None or other is None:
                continue
            if round(value, 1) < round(other, 1):
                text = _("{what} по муниципалитету {value} ниже, чем по региону ({other}).")
            elif round(value, 1) > round(other, 1):
                text = _("{what} по муниципалитету {value} выше, чем по региону ({other}).")
            else:
                text = _("{what} по муниципалитету {value} совпадает с показателем по региону.")
            result.append(text.format(what=what, value=percent(value), other=percent(other)))
    below = below_success(section)
    if below:
        result.append(ngettext(
            "У {n} школы из {k} успеваемость ниже, чем по муниципалитету ({own}): {schools}.",
            "У {n} школ из {k} успеваемость ниже, чем по муниципалитету ({own}): {schools}.", len(below),
        ).format(n=len(below), k=n_schools, own=percent(own.success_pct),
                 schools=_names(below, lambda s: s.success_pct)))
    elif own.success_pct is not None:
        result.append(_("Ни у одной школы успеваемость не ниже, чем по муниципалитету ({own}).").format(
            own=percent(own.success_pct)))
    scored = [s for s in section.schools if s.mean_primary_pct is not None]
    if len(scored) >= 2:
        top, bottom = scored[0], scored[-1]
        result.append(_("Средний первичный балл по муниципалитету — {own} от максимума; выше всего у школы "
                        "{top} ({top_pct}), ниже всего у школы {bottom} ({bottom_pct}).").format(
            own=percent(section.mean_primary_pct), top=top.name, top_pct=percent(top.mean_primary_pct),
            bottom=bottom.name, bottom_pct=percent(bottom.mean_primary_pct)))
    low = [s for s in section.schools if "low_results" in s.statuses]
    if low:
        result.append(ngettext(
            "По данным анализа школа с низкими образовательными результатами: {schools}.",
            "По данным анализа школы с низкими образовательными результатами: {schools}.", len(low),
        ).format(schools=", ".join(s.name for s in low)))
    elements = problem_elements(section)
    if elements:
        parts = [ngettext("{code} «{name}» — в {n} школе", "{code} «{name}» — в {n} школах", n).format(
            code=e.code, name=e.name, n=n) for e, n in elements[:NAMED]]
        result.append(_("Проблемные поля школ (школы, её классов или учителей) чаще всего по элементам "
                        "содержания: {items}.").format(items="; ".join(parts)))
    elif data.run_id is not None and section.elements:
        result.append(_("Проблемных полей школ по элементам содержания этой работы анализ не выявил."))
    weakest = sorted((e for e in section.elements if e.municipality is not None),
                     key=lambda e: (e.municipality, e.code))[:3]
    if weakest:
        result.append(_("Ниже всего по муниципалитету выполнены элементы содержания: {items}.").format(
            items="; ".join(f"{e.code} «{e.name}» ({percent(e.municipality)})" for e in weakest)))
    if section.municipal_fields:
        result.append(_("Проблемные поля муниципалитета в целом: {items}.").format(items="; ".join(
            f"{pf.topic} ({percent(pf.solve_rate)} при "
            f"{percent(pf.reference)} по региону)" for pf in section.municipal_fields[:NAMED])))
    flagged = [s for s in section.schools if s.objectivity]
    if flagged:
        result.append(ngettext(
            "Сигналы необъективности результатов этой работы сработали у школы: {schools}.",
            "Сигналы необъективности результатов этой работы сработали у школ: {schools}.", len(flagged),
        ).format(schools=", ".join(s.name for s in flagged)))
    if own.compared and own.journal_pct["higher"] is not None:
        result.append(_("Отметку по журналу подтвердили {pc} участников, понизили {pl}, повысили {ph}.").format(
            pc=percent(own.journal_pct["confirmed"]), pl=percent(own.journal_pct["lower"]),
            ph=percent(own.journal_pct["higher"])))
    return result


def overall_conclusions(data: MunicipalityReport) -> list[str]:
    """What holds over the whole document: the analysis' statuses and the objectivity list."""
    result = []
    names = {s.code: s.name for section in data.sections for s in section.schools}
    rated = sorted((s for s in data.sections if s.standard.own.success_pct is not None),
                   key=lambda s: (s.standard.own.success_pct, s.assessment_code))
    if len(rated) >= 2:
        result.append(_("Успеваемость по муниципалитету ниже всего по работе «{low}» ({low_pct}), выше всего — по "
                        "работе «{high}» ({high_pct}).").format(
            low=rated[0].assessment_title, low_pct=percent(rated[0].standard.own.success_pct),
            high=rated[-1].assessment_title, high_pct=percent(rated[-1].standard.own.success_pct)))
    if data.run_id is None:
        return [*result, data.analysis_note]
    by_kind: dict[str, list[str]] = defaultdict(list)
    for code, kinds in sorted(data.statuses.items()):
        for kind in kinds:
            by_kind[kind].append(names.get(code, code))
    for kind in ("low_results", "difficult_context", "resilient", "high_performer"):
        if by_kind.get(kind):
            result.append(_("{status}: {schools}.").format(
                status=_status_label(kind).capitalize(), schools=", ".join(by_kind[kind])))
    if not by_kind:
        result.append(_("Особых статусов школ муниципалитета анализ не выявил."))
    risky = [row for row in data.objectivity if row.tripped]
    if risky:
        result.append(ngettext(
            "Сигналы необъективности результатов сработали у {n} школы: {schools}.",
            "Сигналы необъективности результатов сработали у {n} школ: {schools}.", len(risky),
        ).format(n=len(risky), schools=", ".join(
            ngettext("{name} ({k} сигнал)", "{name} ({k} сигналов)", len(r.tripped)).format(
                name=r.name, k=len(r.tripped)) for r in risky)))
    else:
        result.append(_("Сигналов необъективности результатов у школ муниципалитета нет."))
    return result


def needs_help(data: MunicipalityReport) -> dict[str, tuple[int, int, bool]]:
    """Schools that need targeted help: a low-results status of the analysis, or success below the
    municipality's in more than half of the works they wrote. School code → (works below, works written,
    low-results status), those with the status first, then by the share below."""
    below: dict[str, int] = defaultdict(int)
    written: dict[str, int] = defaultdict(int)
    low: set[str] = set()
    for section in data.sections:
        for s in below_success(section):
            below[s.code] += 1
        for s in section.schools:
            written[s.code] += 1
            if "low_results" in s.statuses:
                low.add(s.code)
    chosen = [c for c in written if c in low or 2 * below[c] > written[c]]
    chosen.sort(key=lambda c: (c not in low, -below[c] / written[c], c))
    return {c: (below[c], written[c], c in low) for c in chosen}


def mentor_schools(data: MunicipalityReport) -> list[str]:
    """Schools that could mentor: resilient or high-performing by the analysis, or with quality at least
    MENTOR_MARGIN points above the municipality's in more than half of the works they wrote; resilient
    first (they know difficult conditions), then high performers, then by that share."""
    strong: dict[str, int] = defaultdict(int)
    written: dict[str, int] = defaultdict(int)
    kinds: dict[str, list[str]] = {}
    for section in data.sections:
        own = section.standard.own.quality_pct
        for s in section.schools:
            written[s.code] += 1
            kinds[s.code] = s.statuses
            if own is not None and s.quality_pct is not None and s.quality_pct >= own + MENTOR_MARGIN:
                strong[s.code] += 1
    chosen = [c for c in written if "resilient" in kinds[c] or "high_performer" in kinds[c]
              or 2 * strong[c] > written[c]]
    chosen.sort(key=lambda c: ("resilient" not in kinds[c], "high_performer" not in kinds[c],
                               -strong[c] / written[c], c))
    return chosen


def recommendations(data: MunicipalityReport) -> list[str]:
    """Addressed to the municipal method service."""
    result = []
    names = {s.code: s.name for section in data.sections for s in section.schools}
    needing = needs_help(data)
    if needing:
        parts = []
        for code, (below, written, low) in needing.items():
            share = ngettext("успеваемость ниже муниципальной в {k} из {n} работы",
                             "успеваемость ниже муниципальной в {k} из {n} работ", written).format(k=below, n=written)
            if low and below:
                parts.append(_("{name} (низкие образовательные результаты по данным анализа; {share})").format(
                    name=names[code], share=share))
            elif low:
                parts.append(_("{name} (низкие образовательные результаты по данным анализа)").format(
                    name=names[code]))
            else:
                parts.append(_("{name} ({share})").format(name=names[code], share=share))
        result.append(_("Оказать адресную методическую помощь школам: {schools}; включить их в план работы "
                        "муниципальной рабочей группы по низким результатам.").format(schools="; ".join(parts)))
    counts: dict[tuple[str, str], set[str]] = defaultdict(set)
    for section in data.sections:
        for element, _n in problem_elements(section):
            counts[(element.code, element.name)].update(element.flagged)
    if counts:
        top = sorted(counts.items(), key=lambda item: (-len(item[1]), item[0]))[:NAMED]
        result.append(_("Провести на заседаниях ГМО (РМО) семинары и мастер-классы по элементам содержания, "
                        "которые стали проблемными полями в школах: {items}.").format(items="; ".join(
                            ngettext("{code} «{name}» ({n} школа)", "{code} «{name}» ({n} школ)", len(schools))
                            .format(code=code, name=name, n=len(schools)) for (code, name), schools in top)))
    else:
        weakest = []
        for section in data.sections:
            weakest += [e for e in section.elements if e.municipality is not None]
        weakest = sorted(weakest, key=lambda e: (e.municipality, e.code))[:3]
        if weakest:
            result.append(_("Провести на заседаниях ГМО (РМО) семинары по элементам содержания с наименьшим "
                            "выполнением по муниципалитету: {items}.").format(
                items="; ".join(f"{e.code} «{e.name}»" for e in weakest)))
    risky = {row.code for row in data.objectivity if row.tripped}
    mentors = [c for c in mentor_schools(data) if c not in risky and c not in needing]
    if mentors and needing:
        result.append(_("Рассмотреть как школы-наставники для школ, которым нужна помощь, школы с высокими "
                        "результатами: {schools}; организовать взаимные посещения уроков и обмен практиками.")
                      .format(schools=", ".join(names[c] for c in mentors[:NAMED])))
    if risky:
        result.append(_("Проверить объективность результатов (перепроверка работ, присутствие независимых "
                        "наблюдателей на следующей процедуре) в школах: {schools}.").format(
            schools=", ".join(row.name for row in data.objectivity if row.tripped)))
    if data.run_id is None:
        result.append(_("Выполнить анализ результатов года (metodist analyse), чтобы в справку вошли статусы "
                        "школ, проблемные поля и список объективности."))
    result.append(_("Повторно проанализировать результаты после следующей оценочной процедуры, чтобы "
                    "проверить, дали ли меры результат."))
    return result


# --- DOCX -------------------------------------------------------------------------------------------

def municipality_report_docx(code: str, assessment_code: str | None, path, *, year: int | None = None,
                             engine: str = "default", date: datetime.date | None = None) -> Path:
    """The report as a DOCX file at `path`; returns the path."""
    return write_docx(build_municipality_report(code, assessment_code, year, engine=engine, date=date), path)


def write_docx(data: MunicipalityReport, path) -> Path:
    """A built report as a DOCX file at `path`; returns the path."""
    from docx.shared import Cm

    from metodist.documents.charts import marks_distribution_spec, schools_spec, task_completion_spec, to_png

    doc = new_document()
    add_centered(doc, data.full_name, bold=True)
    add_centered(doc, _("Аналитическая справка"), bold=True, size=16)
    if len(data.sections) == 1:
        add_centered(doc, _("по результатам работы «{title}»").format(title=data.sections[0].assessment_title))
    else:
        add_centered(doc, _("по результатам оценочных процедур {year} учебного года").format(
            year=academic_year(data.year)))
    add_centered(doc, data.date.strftime("%d.%m.%Y"))
    if len(data.sections) == 1:
        doc.add_paragraph(_("Муниципалитет: {name} (код {code}). Работа: {title} (код {work}).").format(
            name=data.name, code=data.code, title=data.sections[0].assessment_title,
            work=data.sections[0].assessment_code))
    else:
        doc.add_paragraph(ngettext(
            "Муниципалитет: {name} (код {code}). В справку вошла {n} работа {year} учебного года (таблица 2).",
            "Муниципалитет: {name} (код {code}). В справку вошли {n} работы {year} учебного года (таблица 2).",
            len(data.sections)).format(name=data.name, code=data.code, year=academic_year(data.year),
                                       n=len(data.sections)))
    doc.add_paragraph(data.analysis_note)

    doc.add_heading(_("1. Общие выводы"), level=2)
    for sentence in data.conclusions:
        doc.add_paragraph(sentence, style="List Bullet")
    if data.summary is not None:
        orientation(doc, data.summary.wide)
        doc.add_heading(_("2. {title}").format(title=data.summary.title), level=2)
        add_table(doc, data.summary)
    first_part = 3 if data.summary is not None else 2
    for part, section in enumerate(data.sections, start=first_part):
        orientation(doc, False)
        doc.add_heading(_("{n}. {title}").format(n=part, title=section.assessment_title), level=1)
        doc.add_heading(_("{n}.1. Выводы").format(n=part), level=2)
        for sentence in section.conclusions:
            doc.add_paragraph(sentence, style="List Bullet")
        docx_tables = [t for t in section.tables if t.sheet != _("Элементы содержания")]
        docx_tables += element_tables(section, SCHOOLS_PER_TABLE)
        for sub, table in enumerate(docx_tables, start=2):
            orientation(doc, table.wide)
            doc.add_heading(f"{part}.{sub}. {table.title}", level=2)
            add_table(doc, table)
            if table.sheet == _("Отметки") and section.standard.own.with_mark:
                doc.add_picture(io.BytesIO(to_png(marks_distribution_spec(section.standard))), width=Cm(15))
            elif table.sheet == _("Школы") and section.schools:
                doc.add_picture(io.BytesIO(to_png(schools_spec(section))), width=Cm(17))
            elif table.sheet == _("Задания"):
                doc.add_picture(io.BytesIO(to_png(task_completion_spec(section.standard))), width=Cm(17))
                if not section.standard.own.compared:
                    doc.add_paragraph(_("Отметок по журналу в данных этой работы нет, поэтому сравнения отметок с "
                                        "журналом нет."))
        if not section.elements:
            doc.add_paragraph(_("В спецификации работы задания не связаны с элементами содержания (КЭС), поэтому "
                                "таблицы проблемных полей по элементам содержания нет."))
    last = first_part + len(data.sections)
    orientation(doc, True)
    doc.add_heading(_("{n}. Объективность результатов").format(n=last), level=2)
    if data.run_id is None:
        doc.add_paragraph(data.analysis_note)
    elif not data.objectivity:
        doc.add_paragraph(_("По данным анализа признаков и сигналов необъективности у школ муниципалитета нет."))
    else:
        add_table(doc, objectivity_table(data))
    orientation(doc, False)
    doc.add_heading(_("{n}. Рекомендации муниципальной методической службе").format(n=last + 1), level=2)
    add_numbered(doc, data.recommendations)
    doc.add_paragraph()
    doc.add_paragraph(_("Руководитель муниципальной методической службы ____________ / ______________ /"))
    path = Path(path)
    doc.save(str(path))
    return path


def objectivity_table(data: MunicipalityReport) -> Table:
    return Table(
        _("Объективность результатов"), _("Объективность"),
        [_("Место"), _("Школа"), _("Код"), _("Балл риска"), _("Пояснение")],
        [[r.rank, r.name, r.code, r.score, r.explanation] for r in data.objectivity],
        widths=[7, 22, 11, 8, 77], font=8, freeze_columns=2,
        marked={(i, 3) for i, r in enumerate(data.objectivity) if r.tripped},
        note=_("Место — в списке школ региона по убыванию балла риска. Выделены школы, у которых сработал хотя бы "
               "один сигнал Методиста. Признак федеральной методики по среднему баллу сам по себе бывает и у "
               "сильной школы."),
    )


# --- XLSX -------------------------------------------------------------------------------------------

def municipality_report_xlsx(code: str, assessment_code: str | None, path, *, year: int | None = None,
                             engine: str = "default", date: datetime.date | None = None) -> Path:
    """The report's tables as an XLSX file at `path`: a first sheet with the conclusions and
    recommendations, the summary of the year's works, per work its tables (sheet names prefixed with the
    work's number when there are several), the objectivity list; frozen headers, 0.0 for %."""
    return write_xlsx(build_municipality_report(code, assessment_code, year, engine=engine, date=date), path)


def write_xlsx(data: MunicipalityReport, path) -> Path:
    """A built report as an XLSX file at `path`; returns the path."""
    path = Path(path)
    book = Workbook(path)
    lines: list[tuple[str, str | None]] = [
        (data.full_name, "bold"), (_("Аналитическая справка по результатам оценочных процедур {year} учебного "
                                     "года").format(year=academic_year(data.year)), "bold"),
        (data.date.strftime("%d.%m.%Y"), None), (data.analysis_note, "wrap"), ("", None),
        (_("Общие выводы"), "bold"), *((s, "wrap") for s in data.conclusions)]
    for section in data.sections:
        lines += [("", None), (_("Выводы по работе «{title}»").format(title=section.assessment_title), "bold"),
                  *((s, "wrap") for s in section.conclusions)]
    lines += [("", None), (_("Рекомендации муниципальной методической службе"), "bold"),
              *((s, "wrap") for s in data.recommendations)]
    book.text_sheet(_("Справка"), lines)
    if data.summary is not None:
        book.table_sheet(data.summary)
    for part, section in enumerate(data.sections, start=1):
        for table in section.tables:
            book.table_sheet(table, table.sheet if len(data.sections) == 1 else f"{part}. {table.sheet}")
    if data.objectivity:
        book.table_sheet(objectivity_table(data))
    book.close()
    return path


__all__ = ["MunicipalityReport", "build_municipality_report", "municipality_report_docx",
           "municipality_report_xlsx", "write_docx", "write_xlsx"]
