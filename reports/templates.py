"""Input templates for field teams: one XLSX workbook per canonical table.

A template is a canonical table of the framework (``Framework.tables``: the
structural columns and the framework's declared items) as a field
team fills it in: the Chinese column headers (:attr:`ColumnSpec.zh`, which
:func:`surveys.ingest.load_year` maps without a column mapping in the project
file), a drop-down list on every coded column (the labels of the framework's
scale), every category column (:attr:`ColumnSpec.labels`) and the department
column (the names in the framework's register), and an instructions sheet
(说明) that lists each column, whether it is required, its allowed values and
its format.  A filled template reads back through the ingest layer as it is.

Workbook layout: the data sheet first (named after the table, so the reader
picks it without a warning), then 说明, then the hidden sheet 选项 holding
the drop-down lists (Excel limits a list typed into the validation itself to
255 characters, which the department register exceeds).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from reports.safety import set_cell, sheet_title
from reports.workbook import FIXED_TIME
from surveys.framework import Framework
from surveys.schema import ColumnSpec, TableSpec

__all__ = ["TemplateColumn", "template_columns", "write_templates"]

#: last row a drop-down and a column format reach (Excel's last row)
LAST_ROW = 1_048_576
INSTRUCTIONS_SHEET = "说明"
LISTS_SHEET = "选项"
_FORMATS = {"id": "@", "phone": "@", "month": "@", "text": "@", "date": "yyyy-mm-dd",
            "timestamp": "yyyy-mm-dd hh:mm", "number": "General", "count": "0"}
_GENERAL_NOTES = (
    "1. 每行填写一条记录；请勿修改、删除或调换第一行的列名，也不要在表格上方插入标题行。",
    "2. 带下拉箭头的列请从下拉列表中选择；“不适用”“不了解”等选项表示无法作答，不计入得分。",
    "3. 日期写作 2024-03-05（也可写 2024年3月5日、2024/3/5）；时间写作 2024-03-05 14:30；月份写作 2024-03。",
    "4. 数字只填数字，不带单位或文字（如 15，而非“约15分钟”）。",
    "5. 手机号仅用于核实与查重，导入时即加密处理，不会出现在任何报告中。",
    "6. 必填列为空的行不会计入评估，并在隔离清单中列出。",
)


@dataclass(frozen=True)
class TemplateColumn:
    """One column of a template as the instructions sheet describes it.

    Attributes
    ----------
    header : str
        The Chinese header written in the template (``ColumnSpec.zh``).
    name : str
        The canonical column it maps to.
    required : bool
        Whether a row without a value is quarantined (``missing_required``).
    choices : tuple of str
        The drop-down list (scale labels, category labels or department
        names); empty for free columns.
    fmt : str
        ``id``, ``phone``, ``month``, ``text``, ``date``, ``timestamp``,
        ``number``, ``count``, or ``choice`` for drop-down columns.
    note : str
        The format and meaning, in Chinese, for the instructions sheet.
    """
    header: str
    name: str
    required: bool
    choices: tuple[str, ...]
    fmt: str
    note: str


def template_columns(framework: Framework, table: str, *, year: int | None = None) -> list[TemplateColumn]:
    """Describe every column of ``table``'s template.

    Parameters
    ----------
    framework : Framework
        Supplies the scale labels of coded columns and the department register.
    table : str
        A key of ``framework.tables``.
    year : int, optional
        Offer only the departments that exist in ``year``; every department
        of the register when None.

    Returns
    -------
    list of TemplateColumn
        In the order of the canonical table.
    """
    spec = framework.tables[table]
    departments = tuple(d.name for d in framework.departments if year is None or d.active(year))
    return [_describe(spec, col, framework, departments) for col in spec.columns]


def write_templates(framework: Framework, out_dir: str | Path, *, year: int | None = None,
                    tables: tuple[str, ...] | None = None) -> list[Path]:
    """Write one XLSX input template per canonical table.

    Parameters
    ----------
    framework : Framework
        The evaluation framework (scales and department register).
    out_dir : str or Path
        Folder to write to (created if missing); existing templates are
        overwritten.
    year : int, optional
        Offer only the departments that exist in ``year`` in the department
        drop-down; every department of the register when None.
    tables : tuple of str, optional
        Canonical tables to write; when None, the tables the framework's
        indicators need (``framework.tables_read()``).

    Returns
    -------
    list of pathlib.Path
        The files written, named ``<table>_<Chinese name>.xlsx``, in the
        order of ``framework.tables``.

    Notes
    -----
    Each workbook holds the data sheet (headers ``ColumnSpec.zh``, frozen,
    columns formatted as text, date or number by kind, a list validation
    that refuses values outside the drop-down), the instructions sheet 说明
    (one row per column: header, canonical name, required, allowed values,
    format) and the hidden sheet 选项 with the lists.  Header, list and
    instruction text is written through :func:`reports.safety.set_cell`, so
    no label or department name can become a formula.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in tables or framework.tables_read():
        spec = framework.tables[name]
        columns = template_columns(framework, name, year=year)
        book = Workbook()
        book.remove(book.active)
        book.properties.creator = "minping"
        book.properties.title = f"{spec.zh}填报模板"
        book.properties.created = book.properties.modified = FIXED_TIME
        data = book.create_sheet(sheet_title(spec.zh))
        notes = book.create_sheet(INSTRUCTIONS_SHEET)
        lists = book.create_sheet(LISTS_SHEET)
        lists.sheet_state = "hidden"
        _data_sheet(data, lists, columns)
        _instructions(notes, spec, columns)
        path = out / f"{spec.name}_{spec.zh}.xlsx"
        book.save(path)
        paths.append(path)
    return paths


# ---------------------------------------------------------------------------


def _describe(spec: TableSpec, col: ColumnSpec, framework: Framework, departments: tuple[str, ...]) -> TemplateColumn:
    others = [spec.column(k).zh for k in spec.key if k != col.name]
    unique = ("每行唯一" if not others else f"与“{'”“'.join(others)}”一起每行唯一") if col.name in spec.key else ""
    if col.kind == "department":
        return TemplateColumn(col.zh, col.name, col.required, departments, "choice",
                              _join("从下拉列表选择部门全称（部门名录）", unique))
    if col.kind == "code":
        scale = framework.scales[col.scale]
        na = [label for label, code in scale.labels.items() if code is None]
        note = "从下拉列表选择" + (f"；{'、'.join(na)} 表示无法作答，不计入得分" if na else "")
        return TemplateColumn(col.zh, col.name, col.required, tuple(scale.labels), "choice", note)
    if col.kind == "category":
        return TemplateColumn(col.zh, col.name, col.required, tuple(label for label, _ in col.labels), "choice",
                              "从下拉列表选择")
    if col.kind == "date":
        # ``*_at`` columns are time stamps; the others are days
        if col.name.endswith("_at"):
            return TemplateColumn(col.zh, col.name, col.required, (), "timestamp",
                                  "日期时间，如 2024-03-05 14:30（时间可省略）")
        return TemplateColumn(col.zh, col.name, col.required, (), "date", "日期，如 2024-03-05")
    notes = {
        "id": _join("编号（按文本填写，保留前导零）", unique),
        "month": "年月，如 2024-03",
        "number": "数字，如 12.5；不带单位",
        "count": "整数，如 3",
        "phone": "11位手机号，只填数字；导入时即加密",
        "text": "文本",
    }
    return TemplateColumn(col.zh, col.name, col.required, (), col.kind, notes.get(col.kind, "文本"))


def _join(*parts: str) -> str:
    return "；".join(p for p in parts if p)


def _data_sheet(ws, lists, columns: list[TemplateColumn]) -> None:
    fill = {True: PatternFill("solid", fgColor="FCE4D6"), False: PatternFill("solid", fgColor="E8EEF4")}
    list_column = 0
    for j, col in enumerate(columns, start=1):
        letter = get_column_letter(j)
        cell = ws.cell(row=1, column=j)
        set_cell(cell, col.header)
        cell.font = Font(bold=True)
        cell.fill = fill[col.required]
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        widest = max([len(col.header), *map(len, col.choices)])
        ws.column_dimensions[letter].width = max(10, min(40, 2 * widest + 4))
        ws.column_dimensions[letter].number_format = _FORMATS.get(col.fmt, "General")
        target = f"{letter}2:{letter}{LAST_ROW}"
        if col.choices:
            list_column += 1
            source = get_column_letter(list_column)
            set_cell(lists.cell(row=1, column=list_column), col.header)
            for i, choice in enumerate(col.choices, start=2):
                set_cell(lists.cell(row=i, column=list_column), choice)
            ref = f"{quote_sheetname(LISTS_SHEET)}!${source}$2:${source}${len(col.choices) + 1}"
            dv = DataValidation(type="list", formula1=ref, allow_blank=True, showErrorMessage=True,
                                errorStyle="stop", errorTitle="无效的值",
                                error=f"“{col.header}”请从下拉列表中选择。")
        elif col.fmt in ("number", "count"):
            dv = DataValidation(type="whole" if col.fmt == "count" else "decimal", operator="greaterThanOrEqual",
                                formula1="0", allow_blank=True, showErrorMessage=True, errorStyle="stop",
                                errorTitle="无效的值", error=f"“{col.header}”只填不小于 0 的数字，不带单位。")
        else:
            continue
        dv.add(target)
        ws.add_data_validation(dv)
    ws.row_dimensions[1].height = 30
    ws.freeze_panes = "A2"


def _instructions(ws, spec: TableSpec, columns: list[TemplateColumn]) -> None:
    set_cell(ws.cell(row=1, column=1), f"填表说明：{spec.zh}（{spec.name}）")
    ws.cell(row=1, column=1).font = Font(bold=True, size=13)
    row = 2
    for note in _GENERAL_NOTES:
        set_cell(ws.cell(row=row, column=1), note)
        row += 1
    row += 1
    header = ("列名", "字段", "是否必填", "可选值", "格式说明")
    for j, text in enumerate(header, start=1):
        set_cell(ws.cell(row=row, column=j), text)
        ws.cell(row=row, column=j).font = Font(bold=True)
    for col in columns:
        row += 1
        values = (col.header, col.name, "是" if col.required else "否", "、".join(col.choices), col.note)
        for j, value in enumerate(values, start=1):
            set_cell(ws.cell(row=row, column=j), value)
            ws.cell(row=row, column=j).alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCDE", (22, 18, 10, 60, 50)):
        ws.column_dimensions[letter].width = width
