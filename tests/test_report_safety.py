"""Untrusted text stays inert in XLSX and CSV; names are safe for sheets and files."""

from __future__ import annotations

import csv

import numpy as np
import openpyxl
import pandas as pd
import pytest

from reports.safety import (csv_field, is_formula_like, safe_cell_value, safe_filename, set_cell, sheet_title,
                            write_csv)
from surveys.errors import DataValidationError
from tests.fixtures.report_checks import formula_cells

DANGEROUS = ['=HYPERLINK("http://x.example","点我")', "+1+2", "-3+4", "@SUM(A1)", "\tcmd", "\rx", "\nx"]


@pytest.mark.parametrize("text", DANGEROUS)
def test_formula_like_detected(text):
    assert is_formula_like(text)


@pytest.mark.parametrize("text", ["统计局", "A01", "a=b", "", " =x"])
def test_plain_text_not_formula_like(text):
    assert not is_formula_like(text)


def test_xlsx_cells_keep_text_inert_and_numbers_numeric(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    for i, text in enumerate(DANGEROUS, start=1):
        set_cell(ws.cell(row=i, column=1), text)
    set_cell(ws.cell(row=1, column=2), np.float64(87.25), "0.0")
    set_cell(ws.cell(row=2, column=2), np.int64(12), "0")
    set_cell(ws.cell(row=3, column=2), float("nan"), "0.0")
    set_cell(ws.cell(row=4, column=2), "统计局\x01")
    set_cell(ws.cell(row=5, column=2), pd.NA)
    path = tmp_path / "t.xlsx"
    wb.save(path)

    assert formula_cells(path) == []
    back = openpyxl.load_workbook(path).active
    for i, text in enumerate(DANGEROUS, start=1):
        cell = back.cell(row=i, column=1)
        assert cell.data_type == "s"
        assert cell.value.replace("\r\n", "\n").strip("\r\n\t") == text.strip("\r\n\t")
        assert cell.quotePrefix
    assert back["B1"].value == 87.25 and back["B1"].data_type == "n" and back["B1"].number_format == "0.0"
    assert back["B2"].value == 12 and isinstance(back["B2"].value, int)
    assert back["B3"].value is None and back["B5"].value is None
    assert back["B4"].value == "统计局"


def test_safe_cell_value_converts_numpy_and_missing():
    assert type(safe_cell_value(np.float32(1.5))) is float
    assert safe_cell_value(np.inf) is None
    assert safe_cell_value(None) is None
    assert safe_cell_value(True) is True


def test_csv_field_prefixes_formulas():
    assert csv_field("=1+2") == "'=1+2"
    assert csv_field("-2") == "'-2"
    assert csv_field("统计局") == "统计局"
    assert csv_field(float("nan")) == ""


def test_write_csv_bom_quotes_and_prefix(tmp_path):
    frame = pd.DataFrame({
        "name": ['=HYPERLINK("http://x")', '说"好"', "统计局", None],
        "value": [1.5, -2.0, np.nan, 3.0],
        "n": [1, 2, 3, 4],
    })
    path = write_csv(frame, tmp_path / "out.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["name", "value", "n"]
    assert rows[1][0] == '\'=HYPERLINK("http://x")'
    assert rows[2][0] == '说"好"'
    assert rows[1][1] == "1.5" and rows[2][1] == "-2.0"
    assert rows[3][1] == ""
    text = raw.decode("utf-8-sig")
    assert '"说""好"""' in text  # embedded quotes doubled inside a quoted field
    assert "\n-2.0" not in text and ",-2.0," in text  # a numeric minus stays a number


def test_sheet_title_rules():
    assert sheet_title("a[b]:c*d?e/f\\g") == "a_b__c_d_e_f_g"
    assert len(sheet_title("维" * 40)) == 31
    assert sheet_title("''") == "Sheet"
    taken = {"排名", "Sheet"}
    assert sheet_title("排名", taken=taken) == "排名~2"
    assert sheet_title("sheet", taken=taken) == "sheet~2"
    long = sheet_title("x" * 40, taken={"x" * 31})
    assert len(long) == 31 and long.endswith("~2")


@pytest.mark.parametrize("good", ["A01", "E03", "b_91", "D-92.x"])
def test_safe_filename_accepts_ids(good):
    assert safe_filename(good) == good


@pytest.mark.parametrize("bad", ["../A01", "A01/../../x", "a/b", "a\\b", "统计局", "", "..", "A01 ", ".hidden",
                                 "x" * 65, "A01\x00"])
def test_safe_filename_rejects_path_characters(bad):
    with pytest.raises(DataValidationError) as err:
        safe_filename(bad)
    assert "department_id" in str(err.value)
