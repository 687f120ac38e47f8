"""The monitoring report (справка о результатах мониторинга) of a school or a municipality for an academic
year, as a DOCX: the indicators of its approved roadmaps with their baseline, values and targets (and the
chart), the execution of the actions with the roadmaps at risk, the effect of the help its teachers got,
lesson observations and satisfaction, and conclusions written from these numbers."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from metodist.documents.common import (
    Table,
    add_centered,
    add_numbered,
    add_table,
    new_document,
    number,
    orientation,
)


class _Everyone:
    """Who the command line reads as: every object (the organisation filter narrows it)."""

    is_superuser = True
    is_authenticated = True
    is_active = True


def monitoring_document(organisation, year: int, user=None) -> io.BytesIO:
    from docx.shared import Cm

    from metodist.core.models import Teacher
    from metodist.documents.charts import help_effects_spec, indicator_tracks_spec, to_png
    from metodist.monitoring import help_effects, satisfaction, tracks
    from metodist.monitoring.models import RUBRIC, LessonObservation
    from metodist.monitoring.views import effect_table, execution_table, track_table
    from metodist.planning.roadmaps import indicator_rows

    reader = user or _Everyone()
    roadmaps = [r for r in tracks.approved_roadmaps(reader) if r.organisation.path.startswith(organisation.path)
                and r.academic_year.start_year <= year + 1]
    executions = [tracks.execution_of(r) for r in roadmaps]
    found = [t for e in executions for t in e.tracks]
    teacher_ids = set(Teacher.objects.filter(school__path__startswith=organisation.path).values_list("pk", flat=True))
    effects = [h for h in help_effects.all_effects(reader)
               if any(u.teacher_id in teacher_ids for u in h.effect.participants)
               or getattr(getattr(h.obj, "school", None), "path", "").startswith(organisation.path)]
    observations = list(LessonObservation.objects.visible_to(reader).filter(
        teacher__school__path__startswith=organisation.path).select_related("teacher__school"))

    doc = new_document()
    orientation(doc, True)
    add_centered(doc, organisation.full_name or organisation.short_name, bold=True)
    add_centered(doc, _("Справка о результатах мониторинга"), bold=True, size=16)
    add_centered(doc, _("{year} учебный год").format(year=f"{year}/{year + 1}"))

    doc.add_heading(_("1. Показатели дорожных карт"), level=2)
    if found:
        add_table(doc, track_table(found))
        for roadmap in roadmaps:
            years, rows = indicator_rows(roadmap)
            if years and rows:
                doc.add_paragraph(roadmap.title)
                doc.add_picture(io.BytesIO(to_png(indicator_tracks_spec(rows, years))), width=Cm(16))
    else:
        doc.add_paragraph(_("Утверждённых дорожных карт с показателями нет."))

    doc.add_heading(_("2. Исполнение мероприятий"), level=2)
    if executions:
        add_table(doc, execution_table(executions))
    else:
        doc.add_paragraph(_("Мероприятий утверждённых дорожных карт нет."))

    doc.add_heading(_("3. Эффект методической помощи"), level=2)
    if effects:
        add_table(doc, effect_table(effects))
        measured = [h for h in effects if h.effect.did is not None]
        if measured:
            doc.add_picture(io.BytesIO(to_png(help_effects_spec(measured))), width=Cm(16))
        for h in effects:
            doc.add_paragraph(f"{h.title}: {h.effect.verdict_text}. {h.effect.explanation()}")
    else:
        doc.add_paragraph(_("Помощь учителям организации (курсы, наставничество, ИОМ) не внесена."))

    doc.add_heading(_("4. Посещения уроков и удовлетворённость"), level=2)
    if observations:
        means = []
        for code, label in RUBRIC:
            values = [o.scores[code] for o in observations if o.scores.get(code) is not None]
            means.append([str(label), number(sum(values) / len(values), 2) if values else "—"])
        add_table(doc, Table(_("Средние баллы по критериям (0–2)"), _("Критерии"),
                             [_("Критерий"), _("Средний балл")], means, widths=[80, 20]))
    else:
        doc.add_paragraph(_("Посещений уроков не внесено."))
    answers = satisfaction.summary(reader)
    if answers:
        add_table(doc, Table(_("Удовлетворённость"), _("Удовлетворённость"),
                             [_("Что"), _("Вид"), _("Ответов"), _("Средняя оценка (1–5)")],
                             [[s.title, s.kind, s.answers, number(s.mean, 2)] for s in answers],
                             widths=[60, 20, 10, 15]))

    doc.add_heading(_("5. Выводы"), level=2)
    add_numbered(doc, conclusions(found, executions, effects))
    stream = io.BytesIO()
    doc.save(stream)
    stream.seek(0)
    return stream


def conclusions(found, executions, effects) -> list[str]:
    from metodist.monitoring.tracks import TrackState

    lines = []
    if found:
        reached = sum(t.state == TrackState.REACHED for t in found)
        improved = sum(t.state == TrackState.IMPROVED for t in found)
        worse = [t for t in found if t.state == TrackState.WORSE]
        lines.append(ngettext("Из {n} показателя цель достигнута по {r}, улучшение сверх случайных колебаний — по {i}.",
                              "Из {n} показателей цель достигнута по {r}, улучшение сверх случайных колебаний — по {i}.",
                              len(found)).format(n=len(found), r=reached, i=improved))
        for t in worse:
            lines.append(_("Ухудшился показатель «{goal}»: с {b} % до {v} %; его нужно перенести в следующий цикл "
                           "с новыми мероприятиями.").format(goal=t.indicator.goal, b=number(t.baseline.value),
                                                             v=number(t.latest.value)))
    risky = [e for e in executions if e.at_risk]
    for e in risky:
        lines.append(_("Дорожная карта «{title}» под угрозой: {why}.").format(title=e.roadmap.title,
                                                                             why="; ".join(e.risks)))
    for h in effects:
        if h.effect.verdict == "helped":
            lines.append(_("«{title}» помогла: {why}").format(title=h.title, why=h.effect.explanation()))
    if not lines:
        lines.append(_("Данных для выводов пока недостаточно: показатели будут измерены по следующей загрузке "
                       "результатов."))
    return lines
