"""Limits on what a file may cost to read, and workbook formulas that were never calculated.

A malformed or hostile file must stop with a structural problem that names
the file, where the limit was passed and the limit, never exhaust memory or
be read as something else: a 220 KB workbook that expands to gigabytes, a
sheet that claims a million rows by 16,384 columns, a free-text answer longer
than Python's csv field limit (which used to be reported as an unclosed
quote), and formula cells whose value was never calculated (which used to be
read as blank).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest

from surveys.errors import DataValidationError
from surveys.readers import DEFAULT_LIMITS, ReadLimits, read_table

HEADER = ["问卷编号", "部门", "调查日期", "意见建议"]
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def csv_bytes(rows) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def survey(n=4, comment=lambda i: "好"):
    return [HEADER] + [[f"S{i}", "税务局", "2024-03-05", comment(i)] for i in range(n)]


def problem(path, code, **kwargs):
    with pytest.raises(DataValidationError) as info:
        read_table(path, **kwargs)
    codes = [p.code for p in info.value.problems]
    assert code in codes, str(info.value)
    (found,) = [p for p in info.value.problems if p.code == code]
    assert found.file == str(path) and found.fix
    return found, str(info.value)


def workbook(rows, *, title="调查数据") -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def replace_part(raw: bytes, name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, data if info.filename == name else src.read(info.filename))
    return out.getvalue()


def sheet_xml(rows: str, dimension: str = "") -> bytes:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'<worksheet xmlns="{MAIN_NS}">{dim}<sheetData>{rows}</sheetData></worksheet>'.encode()


def text_cell(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def header_row() -> str:
    cells = (text_cell(f"{c}1", h) for c, h in zip("ABC", ("问卷编号", "部门", "满意度"), strict=True))
    return '<row r="1">' + "".join(cells) + "</row>"


# ---------------------------------------------------------------- long cells


def test_a_cell_longer_than_pythons_csv_field_limit_is_read(tmp_path):
    text = "排队时间太长，希望增加窗口。" * 10_000 + "完"  # 140,001 characters > csv's default 131,072
    path = tmp_path / "long.csv"
    path.write_bytes(csv_bytes(survey(comment=lambda i: text if i == 1 else "好")))
    table = read_table(path)
    assert table.frame["意见建议"].iloc[1] == text
    assert table.delimiter == "," and table.source_rows.tolist() == [2, 3, 4, 5]
    assert csv.field_size_limit() == 131_072  # the process-wide setting is restored


def test_a_long_cell_in_the_first_data_row_does_not_confuse_the_delimiter(tmp_path):
    text = "a" * 200_000
    path = tmp_path / "long_first.csv"
    path.write_bytes(csv_bytes(survey(comment=lambda i: text if i == 0 else "好")))
    table = read_table(path)
    assert list(table.frame.columns) == HEADER and len(table.frame["意见建议"].iloc[0]) == 200_000


def test_a_cell_over_the_limit_names_file_row_column_and_limit(tmp_path):
    limit = DEFAULT_LIMITS.max_cell_chars
    path = tmp_path / "too_long.csv"
    path.write_bytes(csv_bytes(survey(comment=lambda i: "长" * (limit + 1) if i == 2 else "好")))
    found, message = problem(path, "cell_too_long")
    assert found.row == 4 and found.column == "意见建议"
    assert f"{limit:,}" in message and f"{limit + 1:,}" in message
    assert "quote" not in found.fix and "delimiter" not in found.fix
    assert "ReadLimits" in found.fix
    # a genuine long text is read with a raised limit
    table = read_table(path, limits=ReadLimits(max_cell_chars=limit + 1))
    assert len(table.frame["意见建议"].iloc[2]) == limit + 1
    assert csv.field_size_limit() == 131_072


def test_a_table_with_too_many_columns(tmp_path):
    n = DEFAULT_LIMITS.max_columns + 1
    path = tmp_path / "wide.csv"
    path.write_bytes(csv_bytes([[f"c{j}" for j in range(n)], [str(j) for j in range(n)]]))
    found, message = problem(path, "too_many_columns")
    assert f"{n:,}" in message and f"{DEFAULT_LIMITS.max_columns:,}" in message


# ---------------------------------------------------------------- workbooks


def test_a_workbook_that_expands_far_beyond_its_size_is_refused_before_reading(tmp_path):
    rows = header_row() + "<row>" + text_cell("A2", "S1") + "</row>" * 1 + "<row><c><v>1</v></c></row>" * 400_000
    raw = replace_part(workbook([["x"]]), "xl/worksheets/sheet1.xml", sheet_xml(rows))
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(raw)
    assert len(raw) < 100_000
    found, message = problem(path, "compression_ratio")
    assert "xl/worksheets/sheet1.xml" in message and f"{DEFAULT_LIMITS.max_compression_ratio:g}" in message


def test_total_uncompressed_size_limit(tmp_path):
    path = tmp_path / "book.xlsx"
    path.write_bytes(workbook([HEADER, ["S1", "税务局", "2024-03-05", "好"]]))
    found, message = problem(path, "too_large", limits=ReadLimits(max_uncompressed_bytes=10_000))
    assert "10,000" in message and "CSV" in found.fix
    assert read_table(path).frame.shape == (1, 4)


def test_a_sheet_claiming_a_huge_dimension(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["S1", "税务局", "2024-03-05", "好"])
    ws.cell(row=1_048_576, column=16_384, value="x")
    out = io.BytesIO()
    wb.save(out)
    path = tmp_path / "huge.xlsx"
    path.write_bytes(out.getvalue())
    assert path.stat().st_size < 20_000
    found, message = problem(path, "too_many_cells")
    assert "XFD1048576" in message and f"{DEFAULT_LIMITS.max_cells:,}" in message


def test_cells_read_are_bounded_even_when_the_dimension_lies(tmp_path):
    rows = header_row() + "".join(f'<row r="{r}">' + text_cell(f"A{r}", f"S{r}") + "</row>" for r in range(2, 60))
    path = tmp_path / "lying.xlsx"
    path.write_bytes(replace_part(workbook([["x"]]), "xl/worksheets/sheet1.xml", sheet_xml(rows, "A1:C2")))
    assert len(read_table(path).frame) == 58
    found, message = problem(path, "too_many_cells", limits=ReadLimits(max_cells=100))
    assert "100" in message


def test_a_stray_cell_far_right_of_the_table(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for i in range(6):
        ws.append([f"S{i}", "税务局", "2024-03-05", "好"])
    ws.cell(row=5, column=5000, value="?")
    out = io.BytesIO()
    wb.save(out)
    path = tmp_path / "stray.xlsx"
    path.write_bytes(out.getvalue())
    found, message = problem(path, "too_many_columns")
    assert found.row == 5 and "GJH" in message  # column 5,000


def test_formatted_empty_cells_far_right_are_not_columns(tmp_path):
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["S1", "税务局", "2024-03-05", "好"])
    ws.cell(row=2, column=3000).font = Font(bold=True)
    out = io.BytesIO()
    wb.save(out)
    path = tmp_path / "styled.xlsx"
    path.write_bytes(out.getvalue())
    assert read_table(path).frame.shape == (1, 4)


# ---------------------------------------------------------------- formulas


def test_formula_cells_without_a_calculated_value_are_a_structural_error(tmp_path):
    rows = [["问卷编号", "部门", "Q1", "Q2", "合计"]]
    rows += [[f"S{i}", "税务局", 4, 5, f"=C{i + 2}+D{i + 2}"] for i in range(14)]
    path = tmp_path / "formulas.xlsx"
    path.write_bytes(workbook(rows))
    found, message = problem(path, "uncalculated_formulas")
    assert "调查数据" in message and "E2, E3 and 12 more" in message
    assert "Excel" in found.fix and "WPS" in found.fix and "values" in found.fix


def test_formula_cells_with_a_cached_value_read_as_that_value(tmp_path):
    rows = (header_row() + '<row r="2">' + text_cell("A2", "S1") + text_cell("B2", "税务局")
            + '<c r="C2"><f>1+3</f><v>4</v></c></row>'
            + '<row r="3">' + text_cell("A3", "S2") + text_cell("B3", "税务局")
            + '<c r="C3" t="str"><f>IF(1,"","x")</f><v></v></c></row>')
    path = tmp_path / "cached.xlsx"
    path.write_bytes(replace_part(workbook([["x"]]), "xl/worksheets/sheet1.xml", sheet_xml(rows)))
    frame = read_table(path).frame
    assert frame["满意度"].iloc[0] == "4" and frame["满意度"].isna().iloc[1]


def test_limits_are_documented_in_the_read_table_docstring():
    doc = read_table.__doc__ + ReadLimits.__doc__
    for name in ("max_cell_chars", "max_columns", "max_cells", "max_uncompressed_bytes", "max_compression_ratio"):
        assert name in doc
        assert re.search(rf"{name}\b", ReadLimits.__doc__)
