"""What the analytical reports share: numbers in Russian typography, a table of a report, the DOCX page
set-up and tables with explicit column widths (a wide table gets a landscape section of its own), the XLSX
sheets with frozen headers and number formats, and the latest finished analysis that holds an organisation."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

# numbers in Russian typography (87.46 → «87,5», «87,5 %») are core.numbers', shared with the pages and the
# analysis's explanations; re-exported here for the documents' modules
from metodist.core.numbers import number, percent  # noqa: F401

PAGE_WIDTH_CM = 21.0
PAGE_HEIGHT_CM = 29.7
SIDE_MARGIN_CM = 2.0
LANDSCAPE_MARGIN_CM = 1.5
#: a table wider than this (in XLSX characters) or with more columns goes on a landscape page
PORTRAIT_CHARS = 125
PORTRAIT_COLUMNS = 9


@dataclass
class Table:
    """One table of a report: `pct` holds the indexes of the columns that are percentages; `widths` are in
    characters (XLSX) and give the DOCX columns their proportions; `marked` holds (row, column) cells to
    highlight (a problem field); `freeze_columns` columns stay on screen in XLSX; `note` is printed under
    the table in DOCX; `font` is its DOCX size in points."""

    title: str
    sheet: str
    headers: list[str]
    rows: list[list]
    pct: set[int] = field(default_factory=set)
    widths: list[int] = field(default_factory=list)
    marked: set[tuple[int, int]] = field(default_factory=set)
    freeze_columns: int = 0
    note: str = ""
    font: float = 9
    digits: int = 1  # decimals of percentages in DOCX

    @property
    def wide(self) -> bool:
        widths = self.widths or [14] * len(self.headers)
        return len(self.headers) > PORTRAIT_COLUMNS or sum(widths) > PORTRAIT_CHARS


def academic_year(start_year: int) -> str:
    return f"{start_year}/{start_year + 1}"


# --- the analysis a report reads -----------------------------------------------------------------

def latest_run(organisation, start_year: int):
    """The latest finished analysis of the academic year (`start_year`: 2025 for 2025/2026) whose scope
    holds `organisation`, or None."""
    from metodist.analysis.models import AnalysisRun, RunStatus

    runs = (AnalysisRun.objects.filter(status=RunStatus.DONE, academic_year__start_year=start_year)
            .select_related("scope").order_by("-finished_at", "-pk"))
    return next((r for r in runs if organisation.path.startswith(r.scope.path)), None)


def resolve_assessments(organisation, assessment_code: str | None, year: int | None) -> list:
    """The assessments a report on `organisation` covers: the one named (checked to be of `year` when both
    are given), or every assessment of the academic year `year` its schools wrote. Raises ReportError
    with a Russian message."""
    from metodist.analysis.standard_reports import ReportError
    from metodist.reference.models import Assessment

    if assessment_code is None and year is None:
        raise ReportError(_("Укажите работу (--assessment) или учебный год (--year)."))
    if assessment_code is not None:
        found = Assessment.objects.filter(code=assessment_code).first()
        if found is None:
            raise ReportError(_("Работа с кодом «{code}» не найдена.").format(code=assessment_code))
        if year is not None and found.year != year + 1:
            raise ReportError(_("Работа «{title}» проводилась в {actual} учебном году, а не в {year}.").format(
                title=found.title, actual=academic_year(found.year - 1), year=academic_year(year)))
        return [found]
    found = assessments_of_year(organisation, year)
    if not found:
        raise ReportError(_("В {year} учебном году у организации «{name}» нет ни одной работы.").format(
            year=academic_year(year), name=organisation.short_name))
    return found


def assessments_of_year(organisation, start_year: int) -> list:
    """The assessments of an academic year that the organisation's schools wrote (present works)."""
    from metodist.reference.models import Assessment

    return list(Assessment.objects.filter(
        year=start_year + 1, works__school__path__startswith=organisation.path, works__absent=False,
    ).distinct().order_by("programme", "grade", "subject__code", "code"))


# --- DOCX -------------------------------------------------------------------------------------------

def new_document():
    """An A4 portrait document in Liberation Serif 12 pt."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Liberation Serif"
    style.font.size = Pt(12)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(PAGE_WIDTH_CM), Cm(PAGE_HEIGHT_CM)
    section.left_margin = section.right_margin = Cm(SIDE_MARGIN_CM)
    section.top_margin = section.bottom_margin = Cm(1.5)
    return doc


def orientation(doc, landscape: bool) -> None:
    """Lay out what follows in the wanted orientation: the current section itself while the document is
    still empty (no blank first page), else a new section on a new page, unless the current one has it."""
    from docx.enum.section import WD_ORIENT, WD_SECTION

    current = doc.sections[-1]
    if (current.orientation == WD_ORIENT.LANDSCAPE) == landscape:
        return
    empty = not any(p.text.strip() for p in doc.paragraphs) and not doc.tables and not doc.inline_shapes
    section = current if empty else doc.add_section(WD_SECTION.NEW_PAGE)
    _lay_out(section, landscape)


def _lay_out(section, landscape: bool) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Cm(PAGE_HEIGHT_CM), Cm(PAGE_WIDTH_CM)
        section.left_margin = section.right_margin = Cm(LANDSCAPE_MARGIN_CM)
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Cm(PAGE_WIDTH_CM), Cm(PAGE_HEIGHT_CM)
        section.left_margin = section.right_margin = Cm(SIDE_MARGIN_CM)
    section.top_margin = section.bottom_margin = Cm(1.5)


def usable_width_cm(doc) -> float:
    section = doc.sections[-1]
    return (section.page_width - section.left_margin - section.right_margin) / 360000


def cell_text(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return number(value, digits)
    return str(value)


def _shade(cell, colour: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), colour)
    cell._tc.get_or_add_tcPr().append(shading)


def _fixed_layout(grid) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tbl_pr = grid._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tbl_pr.append(layout)
    margins = OxmlElement("w:tblCellMar")  # narrow cell margins (1 mm) leave room for the text
    for side in ("left", "right"):
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), "57")
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    tbl_pr.append(margins)


def _repeat_header(row) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(header)


def add_table(doc, table: Table) -> None:
    """The table with its column widths fixed in proportion to `table.widths` over the page's usable
    width (autofit off, fixed layout, so Word and LibreOffice draw the same), a header row repeated on
    every page, numbers right-aligned, `marked` cells bold on a grey ground."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    widths = table.widths or [14] * len(table.headers)
    total = sum(widths)
    usable = usable_width_cm(doc) - 0.2
    cms = [Cm(usable * w / total) for w in widths]
    grid = doc.add_table(rows=1, cols=len(table.headers))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    _fixed_layout(grid)
    for column, width in zip(grid.columns, cms, strict=True):
        column.width = width
    header_row = grid.rows[0]
    _repeat_header(header_row)
    for cell, header, width in zip(header_row.cells, table.headers, cms, strict=True):
        cell.width = width
        run = cell.paragraphs[0].add_run(header)
        run.bold = True
        run.font.size = Pt(max(7, table.font - 1))
        _shade(cell, "E8EEF4")
    for r, row in enumerate(table.rows):
        cells = grid.add_row().cells
        for c, (cell, value, width) in enumerate(zip(cells, row, cms, strict=True)):
            cell.width = width
            paragraph = cell.paragraphs[0]
            run = paragraph.add_run(cell_text(value, table.digits if c in table.pct else 1))
            run.font.size = Pt(table.font)
            if isinstance(value, int | float) and not isinstance(value, bool):
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            if (r, c) in table.marked:
                run.bold = True
                _shade(cell, "D9D9D9")
    if table.note:
        paragraph = doc.add_paragraph()
        run = paragraph.add_run(table.note)
        run.italic = True
        run.font.size = Pt(9)


def add_numbered(doc, sentences: list[str]) -> None:
    """A numbered list that starts at 1 wherever it is (Word's «List Number» style would continue the
    numbering of an earlier list in the document)."""
    from docx.shared import Cm

    for n, sentence in enumerate(sentences, start=1):
        paragraph = doc.add_paragraph(f"{n}.\t{sentence}")
        paragraph.paragraph_format.left_indent = Cm(0.75)
        paragraph.paragraph_format.first_line_indent = Cm(-0.75)
        paragraph.paragraph_format.tab_stops.add_tab_stop(Cm(0.75))


def add_centered(doc, text: str, *, bold: bool = False, size: float | None = None) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)


# --- XLSX -------------------------------------------------------------------------------------------

class Workbook:
    """An XLSX workbook with the formats the reports use."""

    def __init__(self, path):
        import xlsxwriter

        self.book = xlsxwriter.Workbook(str(path))
        self.bold = self.book.add_format({"bold": True})
        self.header = self.book.add_format({"bold": True, "text_wrap": True, "valign": "top", "border": 1,
                                            "bg_color": "#E8EEF4"})
        self.pct = self.book.add_format({"num_format": "0.0"})
        self.pct_marked = self.book.add_format({"num_format": "0.0", "bold": True, "bg_color": "#F4CCCC"})
        self.integer = self.book.add_format({"num_format": "0"})
        self.wrap = self.book.add_format({"text_wrap": True, "valign": "top"})
        self.marked = self.book.add_format({"bold": True, "bg_color": "#F4CCCC"})
        self.sheet_names: set[str] = set()

    def sheet_name(self, name: str) -> str:
        """A unique sheet name of at most 31 characters without the characters Excel forbids."""
        for bad in "[]:*?/\\":
            name = name.replace(bad, " ")
        base = name[:31]
        candidate, n = base, 2
        while candidate.lower() in self.sheet_names:
            suffix = f" ({n})"
            candidate = base[:31 - len(suffix)] + suffix
            n += 1
        self.sheet_names.add(candidate.lower())
        return candidate

    def text_sheet(self, name: str, lines: list[tuple[str, str | None]]) -> None:
        """A sheet of paragraphs, one a row: (text, "bold" | "wrap" | None)."""
        sheet = self.book.add_worksheet(self.sheet_name(name))
        sheet.set_column(0, 0, 120, self.wrap)
        for r, (text, fmt) in enumerate(lines):
            if fmt:
                sheet.write_string(r, 0, text, {"bold": self.bold, "wrap": self.wrap}[fmt])
            else:
                sheet.write_string(r, 0, text)

    def table_sheet(self, table: Table, name: str | None = None) -> None:
        """One table: header row frozen (and `freeze_columns` columns), percentages as 0.0."""
        sheet = self.book.add_worksheet(self.sheet_name(name or table.sheet))
        for c, text in enumerate(table.headers):
            sheet.write_string(0, c, text, self.header)
        for r, row in enumerate(table.rows, start=1):
            for c, value in enumerate(row):
                if value is None or value == "":
                    continue
                marked = (r - 1, c) in table.marked
                if isinstance(value, int | float) and not isinstance(value, bool):
                    if c in table.pct:
                        fmt = self.pct_marked if marked else self.pct
                    else:
                        fmt = self.marked if marked else (self.integer if isinstance(value, int) else None)
                    sheet.write_number(r, c, value, fmt)
                else:
                    text = str(value)
                    sheet.write_string(r, c, text, self.marked if marked else (self.wrap if len(text) > 40 else None))
        for c, width in enumerate(table.widths or [14] * len(table.headers)):
            sheet.set_column(c, c, width)
        sheet.set_row(0, 45)
        sheet.freeze_panes(1, table.freeze_columns)
        if table.note:
            sheet.write_string(len(table.rows) + 2, 0, table.note)

    def close(self) -> None:
        self.book.close()

