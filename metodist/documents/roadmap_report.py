"""A roadmap as the DOCX schools keep and sign: an approval block in the top right corner («УТВЕРЖДАЮ»,
the head, the date), the title, the goals as measured indicators (baseline, target, values measured since),
and the plan of actions in the columns schools use: №, мероприятие, сроки, ответственный, ожидаемый
результат, показатель. On a landscape page, as such plans are printed."""

from __future__ import annotations

import io

from django.utils import timezone
from django.utils.translation import gettext as _

from metodist.documents.common import (
    Table,
    add_centered,
    add_table,
    new_document,
    number,
    orientation,
)


def roadmap_document(roadmap) -> io.BytesIO:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    from metodist.planning.models import RoadmapStatus
    from metodist.planning.roadmaps import indicator_rows

    doc = new_document()
    orientation(doc, True)
    block = doc.add_paragraph()
    block.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if roadmap.status == RoadmapStatus.APPROVED:
        who = roadmap.approved_by.get_full_name() or roadmap.approved_by.username if roadmap.approved_by else ""
        when = timezone.localtime(roadmap.approved_at).strftime("%d.%m.%Y") if roadmap.approved_at else ""
        block.add_run(_("УТВЕРЖДАЮ") + "\n").bold = True
        block.add_run(_("Руководитель: {who}").format(who=who or "____________") + "\n")
        block.add_run(_("«{date}»").format(date=when))
    else:
        block.add_run(_("ПРОЕКТ") + "\n").bold = True
        block.add_run(_("Состояние: {status}").format(status=roadmap.get_status_display()))
    if roadmap.discussion_protocol:
        block.add_run("\n" + _("Рассмотрено: {protocol}").format(protocol=roadmap.discussion_protocol))
    add_centered(doc, roadmap.title, bold=True, size=14)
    add_centered(doc, roadmap.organisation.full_name or roadmap.organisation.short_name)
    if roadmap.mentor_school_id:
        add_centered(doc, _("Школа-наставник: {name}").format(name=roadmap.mentor_school.short_name))
    if roadmap.run_id:
        intro = doc.add_paragraph(_(
            "Составлена по итогам анализа результатов {year} учебного года. Показатели измеряются системой по "
            "результатам оценочных процедур: базовое значение — {base} учебный год, итоговое — {year_plan}.").format(
            year=roadmap.run.academic_year, base=roadmap.run.academic_year, year_plan=roadmap.academic_year))
        intro.runs[0].font.size = Pt(11)

    years, rows = indicator_rows(roadmap)
    doc.add_heading(_("1. Цели и показатели"), level=2)
    add_table(doc, Table(
        "", "", [_("№"), _("Цель"), _("Показатель"), _("Базовое значение"), _("Целевое значение"),
                 *[f"{y}/{y + 1}" for y in years]],
        [[r["indicator"].position, r["indicator"].goal, r["indicator"].get_statistic_display(),
          _pct(r["indicator"].baseline), _pct(r["indicator"].target),
          *[_pct(v.value) if v else "—" for v in r["values"]]] for r in rows],
        widths=[4, 60, 26, 12, 12, *([11] * len(years))], font=10))

    doc.add_heading(_("2. Мероприятия"), level=2)
    actions = roadmap.actions.select_related("owner_teacher", "owner_organisation", "indicator")
    add_table(doc, Table(
        "", "", [_("№"), _("Мероприятие"), _("Сроки"), _("Ответственный"), _("Ожидаемый результат"), _("Показатель")],
        [[str(a.position), a.title, _dates(a), a.owner, a.expected_result,
          (_("№{n}: {baseline} → {target}").format(n=a.indicator.position, baseline=_pct(a.indicator.baseline),
                                                   target=_pct(a.indicator.target)) if a.indicator_id else "")] for a in actions],
        widths=[4, 60, 16, 24, 34, 20], font=10))
    stream = io.BytesIO()
    doc.save(stream)
    stream.seek(0)
    return stream


def _pct(value) -> str:
    return "—" if value is None else f"{number(value)} %"


def _dates(action) -> str:
    if action.start:
        return f"{action.start:%d.%m.%Y} – {action.due:%d.%m.%Y}"
    return _("до {date}").format(date=f"{action.due:%d.%m.%Y}")
