"""Every table of a page can be downloaded as XLSX: a page builds its tables as `documents.common.Table`
(the same tables the analytical reports write), renders them with `core/_table.html`, and answers
`?xlsx=1` with all of them, one sheet each, through `xlsx_response`."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from django.http import FileResponse

from metodist.documents.common import Table, Workbook


def wants_xlsx(request) -> bool:
    return request.GET.get("xlsx") == "1"


def safe_file_name(name: str) -> str:
    """A file name a user's system accepts: letters (Cyrillic too), digits, dot, dash, underscore."""
    cleaned = re.sub(r"[^\w.\-]+", "_", name, flags=re.UNICODE).strip("._")
    return cleaned or "metodist"


def xlsx_response(tables: list[Table], file_name: str, *, title_lines: list[str] | None = None) -> FileResponse:
    """The tables as one XLSX download (a first sheet with `title_lines` when given)."""
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115 - FileResponse closes it
    handle.close()
    path = Path(handle.name)
    book = Workbook(path)
    if title_lines:
        book.text_sheet("Сведения", [(line, "bold" if i == 0 else "wrap") for i, line in enumerate(title_lines)])
    for table in tables:
        book.table_sheet(table)
    book.close()
    stream = path.open("rb")
    path.unlink()  # the open handle keeps the data until the response is sent (POSIX)
    name = safe_file_name(file_name)
    if not name.endswith(".xlsx"):
        name += ".xlsx"
    return FileResponse(stream, as_attachment=True, filename=name,
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
