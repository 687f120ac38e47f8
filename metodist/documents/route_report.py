"""A teacher's individual development route (ИОМ) as the DOCX schools keep and sign: an approval block in the
top right corner («УТВЕРЖДАЮ», who approved it and when, or «ПРОЕКТ»), the title with the teacher, his
school, subject and year, the deficits the route answers, the plan in the columns schools use — №,
мероприятие, форма, сроки, результат — with a mark of what is done, the progress, and the lines for the
teacher's, the mentor's and the deputy head's signatures. On a landscape page, as such plans are printed."""

from __future__ import annotations

import io

from django.utils import timezone
from django.utils.translation import gettext as _

from metodist.documents.common import (
    Table,
    add_centered,
    add_numbered,
    add_table,
    new_document,
    number,
    orientation,
)


def route_document(route) -> io.BytesIO:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    from metodist.assistance.models import ItemKind, ItemStatus, RouteStatus
    from metodist.assistance.routes import progress_share

    doc = new_document()
    orientation(doc, True)
    block = doc.add_paragraph()
    block.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if route.status == RouteStatus.APPROVED:
        who = (route.approved_by.get_full_name() or route.approved_by.username) if route.approved_by else ""
        when = timezone.localtime(route.approved_at).strftime("%d.%m.%Y") if route.approved_at else ""
        block.add_run(_("УТВЕРЖДАЮ") + "\n").bold = True
        block.add_run(_("Руководитель: {who}").format(who=who or "____________") + "\n")
        block.add_run(_("«{date}»").format(date=when))
    else:
        block.add_run(_("ПРОЕКТ") + "\n").bold = True
        block.add_run(_("Состояние: {status}").format(status=route.get_status_display()))

    teacher = route.teacher
    add_centered(doc, _("Индивидуальный образовательный маршрут педагога"), bold=True, size=14)
    add_centered(doc, _("на {year} учебный год").format(year=route.academic_year))
    subjects = ", ".join(s.name for s in teacher.subjects.all())
    facts = [
        (_("Педагог"), teacher.full_name),
        (_("Образовательная организация"), teacher.school.full_name or teacher.school.short_name),
        (_("Предмет"), subjects or "—"),
        (_("Квалификационная категория"), teacher.get_qualification_category_display()),
    ]
    if teacher.experience_years is not None:
        facts.append((_("Педагогический стаж, лет"), str(teacher.experience_years)))
    for label, value in facts:
        paragraph = doc.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(0)
        paragraph.add_run(f"{label}: ").bold = True
        paragraph.add_run(value)

    doc.add_heading(_("1. Выявленные профессиональные дефициты"), level=2)
    if route.basis:
        lines = [line.split(". ", 1)[1] if ". " in line[:4] else line for line in route.basis.splitlines() if line.strip()]
        add_numbered(doc, lines)
    else:
        doc.add_paragraph(_("Не указаны."))
    if route.run_id:
        note = doc.add_paragraph(_("Дефициты выявлены по итогам анализа {year} учебного года: предметная диагностика, "
                                   "результаты оценочных процедур классов учителя, заключения аттестации.").format(
            year=route.run.academic_year))
        note.runs[0].font.size = Pt(10)

    items = list(route.items.all())
    doc.add_heading(_("2. План"), level=2)
    add_table(doc, Table(
        "", "", [_("№"), _("Мероприятие"), _("Форма"), _("Сроки"), _("Результат"), _("Отметка о выполнении")],
        [[str(i.position), i.title, i.form or i.get_kind_display(),
          i.due.strftime("%d.%m.%Y") if i.due else "",
          i.result, (_("выполнено {date}").format(date=i.done_at.strftime("%d.%m.%Y")) if i.done_at else _("выполнено"))
          if i.status == ItemStatus.DONE else ""] for i in items],
        widths=[4, 60, 26, 12, 36, 16], font=10))
    share = progress_share([i.status for i in items])
    if share is not None:
        done = sum(1 for i in items if i.status == ItemStatus.DONE)
        doc.add_paragraph(_("Выполнено пунктов: {done} из {total} ({pct} %).").format(
            done=done, total=len(items), pct=number(100 * share)))

    mentors = [i.mentor for i in items if i.kind == ItemKind.MENTORSHIP and i.mentor_id]
    doc.add_paragraph()
    signatures = [_("Педагог"), _("Наставник") + (f" ({mentors[0].full_name})" if mentors else ""),
                  _("Заместитель директора")]
    for label in signatures:
        paragraph = doc.add_paragraph(f"{label}: ____________________ / ____________________")
        paragraph.paragraph_format.space_after = Pt(10)
    stream = io.BytesIO()
    doc.save(stream)
    stream.seek(0)
    return stream
