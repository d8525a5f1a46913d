"""Workbook scaffolding: typed cells with number formats, header rows, native charts, reproducible saving.

Numbers are stored as numbers with the Excel number format of their kind
(:data:`XLSX_FORMATS`); text goes through
:func:`reports.safety.set_cell` so that no input string becomes a formula.
Saving fixes every timestamp (document properties and ZIP entries), so equal
input gives byte-identical files.
"""

from __future__ import annotations

import datetime as _dt
import io
import math
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from reports.format import Fact, TableSpec, missing
from reports.safety import set_cell

#: every document property and ZIP entry carries this time, so equal input gives byte-identical files
FIXED_TIME = _dt.datetime(2000, 1, 1, 0, 0, 0)

# Excel number format per fact kind.  Every rate is stored as a fraction with a percent format: a "percent"
# value (a figure the evaluation keeps in percentage points, such as G1) is divided by 100 when written
# (:func:`cell_value`), so that all rates of a workbook compute alike.
XLSX_FORMATS = {
    "score": "0.0",
    "share": "0.0%",
    "percent": "0.0%",
    "points": "+0.0;-0.0;0.0",
    "int": "0",
    "weight": "0.0%",
    "raw": "0.000",
    "coef": "0.000",
    "gain": "0.00",
    "date": "yyyy-mm-dd",
}


def new_workbook(title: str):
    """An empty workbook (no default sheet) with fixed document properties."""
    wb = Workbook()
    wb.remove(wb.active)
    props = wb.properties
    props.creator = "minping"
    props.lastModifiedBy = "minping"
    props.title = title
    props.created = FIXED_TIME
    props.modified = FIXED_TIME
    return wb


def header_style(ws, ncols: int, row: int = 1) -> None:
    fill = PatternFill("solid", fgColor="E8EEF4")
    for col in range(1, ncols + 1):
        cell = ws.cell(row=row, column=col)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def cell_value(value, kind: str):
    """The value stored for a fact of ``kind``: rates in percentage points become fractions."""
    if kind == "percent" and isinstance(value, (int, float)) and not isinstance(value, bool) and not missing(value):
        return float(value) / 100.0
    return value


def write_table(ws, header: list[str], rows: list[list], kinds: list[str], *, widths: list[float] | None = None,
                start_row: int = 1, freeze: str | None = "A2") -> None:
    """A header row and typed rows; numbers keep their type and get the kind's number format."""
    for j, text in enumerate(header, start=1):
        set_cell(ws.cell(row=start_row, column=j), text)
    header_style(ws, len(header), start_row)
    for i, row in enumerate(rows, start=start_row + 1):
        for j, (value, kind) in enumerate(zip(row, kinds), start=1):
            set_cell(ws.cell(row=i, column=j), cell_value(value, kind), XLSX_FORMATS.get(kind))
    if freeze:
        ws.freeze_panes = freeze
    for j, width in enumerate(widths or [], start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.row_dimensions[start_row].height = header_height(ws, header)


def _text_units(text: str) -> int:
    """Width of ``text`` in spreadsheet column units (a CJK character takes two)."""
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in str(text))


def header_height(ws, header: list[str]) -> float:
    """Row height (points) that shows every wrapped header of ``ws``'s columns in full."""
    lines = 1
    for j, text in enumerate(header, start=1):
        width = ws.column_dimensions[get_column_letter(j)].width or 8.43
        lines = max(lines, math.ceil(_text_units(text) / max(width - 1.5, 1.0)))
    return max(30.0, 14.0 * lines + 4.0)


def write_facts(ws, facts: list[Fact], *, start_row: int = 1, header: tuple[str, str] | None = None) -> int:
    """Facts as two columns (label, value); returns the next free row."""
    row = start_row
    if header:
        set_cell(ws.cell(row=row, column=1), header[0])
        set_cell(ws.cell(row=row, column=2), header[1])
        header_style(ws, 2, row)
        row += 1
    for fact in facts:
        set_cell(ws.cell(row=row, column=1), fact.label)
        value = fact.value
        if fact.kind != "text" and missing(value):
            value = None
        set_cell(ws.cell(row=row, column=2), cell_value(value, fact.kind), XLSX_FORMATS.get(fact.kind))
        row += 1
    return row


def save_workbook(wb, path: Path) -> Path:
    """Save with fixed timestamps inside the archive so that equal input gives equal bytes."""
    for ws in wb.worksheets:
        # Print every sheet across the page width; as many pages down as needed.
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        # ExcelWriter directly: save_workbook() would stamp the current time as "modified".
        ExcelWriter(wb, archive).save()
    path.write_bytes(fixed_zip(raw.getvalue()))
    return path


def fixed_zip(data: bytes) -> bytes:
    """An Office file (a ZIP) rewritten with fixed entry timestamps and permissions (equal input, equal bytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def xlsx_table(ws, spec: TableSpec, *, widths: list[float] | None = None, freeze: str | None = "A2",
               start_row: int = 1) -> None:
    write_table(ws, spec.headers, spec.rows, spec.kinds, widths=widths, freeze=freeze, start_row=start_row)


def xlsx_bar_chart(ws, *, title: str, categories, series: list, colors: list[str], anchor: str,
                   horizontal: bool = True, y_max: float | None = None, width: float = 18, height: float = 9):
    """A native bar chart in the palette; data labels switched off explicitly (LibreOffice shows them otherwise)."""
    chart = BarChart()
    chart.type = "bar" if horizontal else "col"
    chart.title = title
    for ref in series:
        chart.add_data(ref, titles_from_data=True)
    chart.set_categories(categories)
    for s, color in zip(chart.series, colors):
        s.graphicalProperties.solidFill = color.lstrip("#")
        s.graphicalProperties.line.solidFill = color.lstrip("#")
    chart.dataLabels = DataLabelList()
    for flag in ("showVal", "showCatName", "showSerName", "showLegendKey", "showPercent"):
        setattr(chart.dataLabels, flag, False)
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    if horizontal:
        chart.x_axis.scaling.orientation = "maxMin"  # first category on top, as in the table
        chart.y_axis.crosses = "max"  # keeps the value axis at the bottom once categories are reversed
    chart.y_axis.scaling.min = 0
    if y_max is not None:
        chart.y_axis.scaling.max = y_max
    chart.y_axis.number_format = "0"
    chart.y_axis.majorGridlines = None
    chart.width, chart.height = width, height
    ws.add_chart(chart, anchor)
    return chart


def write_note(ws, row: int, text: str, *, columns: int = 8) -> int:
    """A paragraph of text across the first ``columns`` columns, wrapped (so it neither overflows the print
    area nor widens it); returns the next row."""
    cell = ws.cell(row=row, column=1)
    set_cell(cell, text)
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    if columns > 1:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=columns)
    total = sum((ws.column_dimensions[get_column_letter(j)].width or 8.43) for j in range(1, columns + 1))
    lines = max(1, math.ceil(_text_units(text) / max(total - 2, 1.0)))
    ws.row_dimensions[row].height = 15.0 * lines + 2
    return row + 1


def fit_width(values, *, minimum: float = 8.0, maximum: float = 50.0) -> float:
    """A column width that shows the longest of ``values`` (CJK characters count double)."""
    longest = max((_text_units(v) for v in values if v is not None), default=0)
    return float(min(maximum, max(minimum, longest + 2)))
