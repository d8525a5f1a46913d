"""Tests of surveys.readers: encodings, delimiters, row numbers, headers, workbooks, Parquet."""

from __future__ import annotations

import csv
import datetime as dt
import io
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveys.errors import DataValidationError, MinpingWarning
from surveys.readers import RawTable, detect_encoding, read_table

HEADER = ["问卷编号", "部门", "调查日期", "意见建议"]


def write(tmp_path, name, content: bytes | str, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def problems_of(path, code, **kwargs):
    """Read ``path`` expecting a DataValidationError with a problem of ``code``; return all problems."""
    with pytest.raises(DataValidationError) as info:
        read_table(path, **kwargs)
    error = info.value
    assert str(path) in str(error)
    for problem in error.problems:
        assert problem.file == str(path)
        assert problem.fix, problem
    assert code in [p.code for p in error.problems], [p.code for p in error.problems]
    return error.problems


def values(table: RawTable) -> list[list[object]]:
    return [[None if pd.isna(v) else v for v in row] for row in table.frame.itertuples(index=False)]


def book(sheets: dict[str, list[list[object]]], merges=None, hidden=()) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
        for ref in (merges or {}).get(name, []):
            ws.merge_cells(ref)
        if name in hidden:
            ws.sheet_state = "hidden"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ------------------------------------------------------------------ encodings


@pytest.mark.parametrize(("raw", "expected"), [
    ("问卷编号,部门\nS1,税务局\n".encode(), "utf-8"),
    (b"\xef\xbb\xbf" + "问卷编号,部门\n".encode(), "utf-8-sig"),
    ("问卷编号\t部门\n".encode("utf-16"), "utf-16"),
    (b"\xfe\xff" + "问卷编号\t部门\n".encode("utf-16-be"), "utf-16"),
    ("id\t部门\r\nS1\t税务局\r\n".encode("utf-16-le"), "utf-16-le"),
    ("id\t部门\r\nS1\t税务局\r\n".encode("utf-16-be"), "utf-16-be"),
    ("问卷编号,部门,意见\nS1,税务局,王喆同志很好\n".encode("gbk"), "gb18030"),
    ("部".encode(), "utf-8"),  # 3 bytes that GB18030 would also accept, as garbage
])
def test_detect_encoding(raw, expected):
    assert detect_encoding(raw) == expected


def test_detect_encoding_rejects_binary():
    with pytest.raises(DataValidationError) as info:
        detect_encoding(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    assert info.value.problems[0].code == "binary_file"


def test_gbk_file_without_bom_reads_every_character(tmp_path):
    rows = [HEADER, ["S1", "税务局", "2024-03-05", "王喆同志耐心细致"], ["S2", "公安局", "2024-03-06", "镕、堃都能显示"]]
    path = write(tmp_path, "gbk.csv", "\r\n".join(",".join(r) for r in rows).encode("gbk"))
    table = read_table(path)
    assert table.encoding == "gb18030"
    assert list(table.frame.columns) == HEADER
    assert values(table) == rows[1:]


def test_utf16_unicode_text_is_tab_separated(tmp_path):
    rows = [HEADER, ["S1", "税务局", "2024-03-05", "很好, 谢谢"]]
    path = write(tmp_path, "export.txt", "\r\n".join("\t".join(r) for r in rows).encode("utf-16"))
    table = read_table(path)
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert values(table) == rows[1:]
    assert table.source_rows.tolist() == [2]


def test_neither_utf8_nor_gb18030_falls_back_to_charset_normalizer(tmp_path):
    from charset_normalizer import from_bytes

    raw = "id,name,city\n1,Café Müller,Zürich\n2,Zoë Brontë,Besançon\n".encode("cp1252")
    table = read_table(write(tmp_path, "latin.csv", raw))
    # Its guess for short Western text is often a sibling code page; only the wiring is ours.
    assert table.encoding == from_bytes(raw).best().encoding
    assert list(table.frame.columns) == ["id", "name", "city"]
    assert table.frame["id"].tolist() == ["1", "2"]


def test_given_encoding_that_does_not_fit_names_the_right_one(tmp_path):
    path = write(tmp_path, "gbk.csv", "部门,意见\n税务局,满意\n".encode("gbk"))
    problems = problems_of(path, "encoding", encoding="utf-8")
    assert "gb18030" in problems[0].fix


@pytest.mark.parametrize(("content", "fragment"), [
    (bytes(range(256)) * 4, "NUL bytes"),
    (b"PK\x03\x04" + bytes(100), "Excel workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "97-2003"),
    (b"PAR1" + bytes(10), "Parquet"),
    (b"\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11" * 20 + b"abc", "control characters"),
])
def test_binary_data_named_csv(tmp_path, content, fragment):
    path = write(tmp_path, "data.csv", content)
    problems = problems_of(path, "binary_file")
    assert fragment in problems[0].message


# ----------------------------------------------------------------- delimiters


@pytest.mark.parametrize("sep", [",", "\t", ";", "|"])
def test_delimiter_is_sniffed(tmp_path, sep):
    rows = [HEADER, ["S1", "税务局", "2024-03-05", "排队久, 但态度好; 满意|"], ["S2", "公安局", "2024-03-06", ""]]
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\n").writerows(rows)
    table = read_table(write(tmp_path, "t.csv", out.getvalue()))
    assert table.delimiter == sep
    assert values(table) == [rows[1], ["S2", "公安局", "2024-03-06", None]]


def test_delimiter_sniffed_from_the_start_of_a_long_file(tmp_path):
    body = "".join(f"S{i:05d};税务局;2024-03-05;\"窗口少; 排队久, 希望改进\"\n" for i in range(3000))
    path = write(tmp_path, "t.csv", "问卷编号;部门;调查日期;意见建议\n" + body)
    assert len(path.read_text(encoding="utf-8")) > 65536
    table = read_table(path)
    assert table.delimiter == ";" and len(table.frame) == 3000
    assert table.source_rows[-1] == 3001 and table.frame["意见建议"].iloc[-1] == "窗口少; 排队久, 希望改进"


def test_fullwidth_comma_delimiter_is_explained(tmp_path):
    path = write(tmp_path, "t.csv", "问卷编号，部门，调查日期\nS1，税务局，2024-03-05\n")
    (problem,) = problems_of(path, "bad_delimiter")
    assert "'，'" in problem.message and "single column" in problem.message
    assert "delimiter='，'" in problem.fix


def test_fullwidth_semicolon_delimiter_is_explained(tmp_path):
    path = write(tmp_path, "t.csv", "问卷编号；部门；调查日期\nS1；税务局；2024-03-05\n")
    (problem,) = problems_of(path, "bad_delimiter")
    assert "'；'" in problem.message


def test_wrong_explicit_delimiter_suggests_the_one_in_the_header(tmp_path):
    path = write(tmp_path, "t.csv", "问卷编号;部门\nS1;税务局\n")
    (problem,) = problems_of(path, "bad_delimiter", delimiter=",")
    assert "delimiter=';'" in problem.fix


def test_a_genuine_single_column_file_reads(tmp_path):
    table = read_table(write(tmp_path, "ids.csv", "问卷编号\nS1\nS2\n"))
    assert list(table.frame.columns) == ["问卷编号"]
    assert table.source_rows.tolist() == [2, 3]


# ---------------------------------------------------------------- row numbers


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_row_numbers_count_blank_lines_and_records(tmp_path, newline):
    lines = [
        "问卷编号,部门,意见建议",        # row 1
        "S1,税务局,好",                 # row 2
        "",                             # row 3 blank
        "S2,公安局,\"第一行\n第二行\"",   # row 4: one record over two physical lines
        ",,",                           # row 5 all empty
        "S3,税务局,\"a\r\nb\r\nc\"",     # row 6: three physical lines
        "S4,公安局,",                   # row 7
        "",                             # trailing blank: not counted
    ]
    table = read_table(write(tmp_path, "t.csv", newline.join(lines) + newline))
    assert table.frame["问卷编号"].tolist() == ["S1", "S2", "S3", "S4"]
    assert table.source_rows.tolist() == [2, 4, 6, 7]
    assert table.source_rows.dtype == np.int64
    assert table.blank_rows == 2
    assert table.frame["意见建议"].iloc[1] == "第一行\n第二行"
    assert table.frame["意见建议"].iloc[2] == "a\r\nb\r\nc"


def test_blank_lines_above_the_header_keep_numbering(tmp_path):
    table = read_table(write(tmp_path, "t.csv", "\n,,\n问卷编号,部门\nS1,税务局\n"))
    assert table.source_rows.tolist() == [4]
    assert table.blank_rows == 0


def test_cells_are_text_with_na_for_empty_and_whitespace(tmp_path):
    table = read_table(write(tmp_path, "t.csv", " 问卷编号 ,部门,意见\nS1, 满意 ,   \nS2,,=1+1\n"))
    assert list(table.frame.columns) == ["问卷编号", "部门", "意见"]
    assert all(isinstance(t, pd.StringDtype) for t in table.frame.dtypes)
    assert values(table) == [["S1", " 满意 ", None], ["S2", None, "=1+1"]]
    assert table.frame.index.tolist() == [0, 1]


def test_short_rows_are_padded_and_trailing_empty_columns_dropped(tmp_path):
    table = read_table(write(tmp_path, "t.csv", "a,b,c,,\n1,2,,,\n3\n"))
    assert list(table.frame.columns) == ["a", "b", "c"]
    assert values(table) == [["1", "2", None], ["3", None, None]]


# --------------------------------------------------------- structural problems


@pytest.mark.parametrize(("content", "code"), [
    (b"", "empty_file"),
    (b"\r\n\r\n,,,\r\n", "empty_file"),
    ("问卷编号,部门\r\n".encode(), "no_data_rows"),
    ("问卷编号,部门\r\n\r\n,\r\n".encode(), "no_data_rows"),
])
def test_empty_and_header_only(tmp_path, content, code):
    problems_of(write(tmp_path, "t.csv", content), code)


def test_duplicate_columns_are_listed_with_their_letters(tmp_path):
    path = write(tmp_path, "t.csv", "问卷编号,Q1,部门,Q1, 部门\nS1,5,税务局,4,公安局\n")
    problems = problems_of(path, "duplicate_columns")
    messages = " ".join(p.message for p in problems)
    assert "'Q1' (columns B, D)" in messages and "'部门' (columns C, E)" in messages


def test_several_problems_are_reported_together(tmp_path):
    path = write(tmp_path, "t.csv", "问卷编号,Q1,,Q1\nS1,5,x,4\n")
    problems = problems_of(path, "duplicate_columns")
    codes = {p.code for p in problems}
    assert codes == {"duplicate_columns", "unnamed_column"}
    assert [p.column for p in problems if p.code == "unnamed_column"] == ["C"]


def test_rows_with_too_many_fields_are_listed(tmp_path):
    path = write(tmp_path, "t.csv", "问卷编号,部门,意见\nS1,税务局,好\n\nS2,公安局,排队久,态度好\nS3,税务局,慢,,\n")
    (problem,) = problems_of(path, "ragged_row")
    assert problem.row == 4 and "(rows 4)" in problem.message
    assert "quote" in problem.fix


def test_unclosed_quote_is_reported_with_its_row(tmp_path):
    path = write(tmp_path, "t.csv", '问卷编号,意见\nS1,好\nS2,"没有闭合\nS3,好\nS4,好\n')
    (problem,) = problems_of(path, "unclosed_quote")
    assert problem.row == 3


def test_title_row_above_the_header_is_hinted(tmp_path):
    path = write(tmp_path, "t.csv", "2024年满意度调查,,\n问卷编号,部门,意见\nS1,税务局,好\n")
    problems = problems_of(path, "unnamed_column")
    assert "title" in problems[0].fix


@pytest.mark.parametrize("name", ["t.docx", "t.xls", "t"])
def test_unsupported_extension(tmp_path, name):
    (problem,) = problems_of(write(tmp_path, name, b"x"), "unsupported_format")
    assert (".xlsx" in problem.fix)


def test_missing_file(tmp_path):
    problems_of(tmp_path / "nowhere.csv", "unreadable")


# ------------------------------------------------------------- header flattening


def test_two_row_csv_header_groups_items(tmp_path):
    text = ("问卷编号,检查项目,,,满意度,意见建议\n"
            ",整洁,标识,态度,满意度,\n"
            "S1,1,0.5,1,5,好\n")
    table = read_table(write(tmp_path, "t.csv", text), header_rows=2)
    assert list(table.frame.columns) == ["问卷编号", "检查项目_整洁", "检查项目_标识", "检查项目_态度", "满意度", "意见建议"]
    assert table.source_rows.tolist() == [3]


def test_unnamed_parts_of_pandas_exports_are_dropped(tmp_path):
    text = "问卷编号,检查项目,检查项目\nUnnamed: 0_level_1,整洁,标识\nS1,1,0\n"
    table = read_table(write(tmp_path, "t.csv", text), header_rows=2)
    assert list(table.frame.columns) == ["问卷编号", "检查项目_整洁", "检查项目_标识"]


def test_xlsx_merged_two_row_header(tmp_path):
    rows = [
        ["问卷编号", "部门", "检查项目", None, None, "备注", "意见建议", None, None],
        [None, None, "整洁", "标识", "态度", None, None, None, None],
        ["S1", "税务局", 1, 0.5, 0, "无", "好", None, None],
        ["S2", "公安局", 1, 1, 1, None, "很好", None, None],
    ]
    merges = ["A1:A2", "B1:B2", "C1:E1", "F1:F2", "G1:I2", "G3:I3", "G4:I4"]
    path = write(tmp_path, "t.xlsx", book({"数据": rows}, {"数据": merges}))
    table = read_table(path, header_rows=2)
    # G1:I2 is one wide free-text column: its merged neighbours H, I are not columns.
    assert list(table.frame.columns) == ["问卷编号", "部门", "检查项目_整洁", "检查项目_标识", "检查项目_态度", "备注",
                                         "意见建议"]
    assert values(table) == [["S1", "税务局", "1", "0.5", "0", "无", "好"], ["S2", "公安局", "1", "1", "1", None, "很好"]]
    assert table.source_rows.tolist() == [3, 4]
    assert table.sheet == "数据"


def test_xlsx_group_header_without_merge_uses_the_group_rule(tmp_path):
    rows = [["问卷编号", "检查项目", None, "备注"], [None, "整洁", "标识", None], ["S1", 1, 0, None]]
    table = read_table(write(tmp_path, "t.xlsx", book({"s": rows})), header_rows=2)
    assert list(table.frame.columns) == ["问卷编号", "检查项目_整洁", "检查项目_标识", "备注"]


def test_xlsx_merged_group_over_an_unrelated_column_is_not_extended(tmp_path):
    # The group 检查项目 spans C:D only; E has its own bottom name and no group.
    rows = [["问卷编号", None, "检查项目", None, None], ["问卷编号", "部门", "整洁", "标识", "备注"], ["S1", "税务局", 1, 0, "x"]]
    table = read_table(write(tmp_path, "t.xlsx", book({"s": rows}, {"s": ["C1:D1"]})), header_rows=2)
    assert list(table.frame.columns) == ["问卷编号", "部门", "检查项目_整洁", "检查项目_标识", "备注"]


def test_xlsx_vertically_merged_data_cells_fill_down(tmp_path):
    rows = [["部门", "问卷编号"], ["税务局", "S1"], [None, "S2"], [None, "S3"], ["公安局", "S4"]]
    table = read_table(write(tmp_path, "t.xlsx", book({"s": rows}, {"s": ["A2:A4"]})))
    assert table.frame["部门"].tolist() == ["税务局", "税务局", "税务局", "公安局"]


# --------------------------------------------------------------------- workbooks


def test_xlsx_cells_become_deterministic_text(tmp_path):
    rows = [
        ["问卷编号", "调查日期", "手机号", "等候", "是否", "时间", "比例"],
        [20240001, dt.datetime(2024, 3, 5), 17000000001, 12.5, True, dt.time(14, 30), 0.1],
        [20240002, dt.datetime(2024, 3, 6, 14, 30, 0, 999_700), 17000000002.0, 3.0, False, None, 1e20],
        [20240003, dt.date(2024, 3, 7), "170-0000-0003", 45360, None, None, -0.25],
    ]
    table = read_table(write(tmp_path, "t.xlsx", book({"s": rows})))
    assert values(table) == [
        ["20240001", "2024-03-05", "17000000001", "12.5", "TRUE", "14:30:00", "0.1"],
        ["20240002", "2024-03-06 14:30:01", "17000000002", "3", "FALSE", None, "1e+20"],
        ["20240003", "2024-03-07", "170-0000-0003", "45360", None, None, "-0.25"],
    ]
    assert table.encoding is None and table.delimiter is None


def test_xlsx_row_numbers_with_blank_rows(tmp_path):
    rows = [[None], ["问卷编号", "部门"], ["S1", "税务局"], [None, None], ["S2", "公安局"], [None], [None]]
    table = read_table(write(tmp_path, "t.xlsx", book({"s": rows})))
    assert table.source_rows.tolist() == [3, 5]
    assert table.blank_rows == 1


def test_sheet_by_name_index_and_folded_name(tmp_path):
    data = {"A": [["x"], ["1"]], "调查数据": [["问卷编号", "部门"], ["S1", "税务局"]], "Extra": [["y", "z"], ["2", "3"]]}
    path = write(tmp_path, "t.xlsx", book(data))
    assert read_table(path, sheet="调查数据").sheet == "调查数据"
    assert read_table(path, sheet=2).sheet == "Extra"
    assert read_table(path, sheet=" extra ").frame.columns.tolist() == ["y", "z"]
    (problem,) = problems_of(path, "sheet_not_found", sheet="数据")
    assert "调查数据" in problem.message
    problems_of(path, "sheet_not_found", sheet=3)


@pytest.mark.parametrize(("first", "hidden", "reason"), [
    ({"Sheet1": []}, (), "empty"),
    ({"填表说明": [["说明"], ["1. 每行一份问卷"], ["2. 请勿修改表头"]]}, (), "instructions"),
    ({"Notes": [["本表由调查公司填写", "2024年3月"]]}, (), "instructions"),
    ({"选项": [["非常满意", "满意"], ["是", "否"]]}, ("选项",), "hidden"),
])
def test_first_data_sheet_is_read_and_named(tmp_path, first, hidden, reason):
    data = {**first, "调查数据": [["问卷编号", "部门"], ["S1", "税务局"]]}
    path = write(tmp_path, "t.xlsx", book(data, hidden=hidden))
    with pytest.warns(MinpingWarning, match=f"read sheet '调查数据'; skipped '{next(iter(first))}' \\({reason}\\)"):
        table = read_table(path)
    assert table.sheet == "调查数据"
    assert values(table) == [["S1", "税务局"]]


def test_first_sheet_with_data_is_read_without_warning(tmp_path):
    path = write(tmp_path, "t.xlsx", book({"数据": [["问卷编号", "部门"], ["S1", "税务局"]], "说明": [["x"]]}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_table(path).sheet == "数据"


def test_workbook_without_data(tmp_path):
    problems_of(write(tmp_path, "t.xlsx", book({"a": [], "b": []})), "empty_file")


def test_xlsx_header_only(tmp_path):
    problems_of(write(tmp_path, "t.xlsx", book({"a": [["问卷编号", "部门"]]})), "no_data_rows")


def test_xlsx_duplicate_and_unnamed_columns(tmp_path):
    rows = [["问卷编号", "部门", "部门", None], ["S1", "税务局", "公安局", "x"]]
    problems = problems_of(write(tmp_path, "t.xlsx", book({"a": rows})), "duplicate_columns")
    assert {p.code for p in problems} == {"duplicate_columns", "unnamed_column"}


@pytest.mark.parametrize(("content", "fragment"), [
    (b"", "empty (0 bytes)"),
    (b"PK\x03\x04" + bytes(300), "truncated or damaged"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(300), "password-protected"),
    (b"<html><table><tr><td>1</td></tr></table></html>", "HTML"),
    ("问卷编号,部门\nS1,税务局\n".encode(), "text file"),
])
def test_broken_xlsx(tmp_path, content, fragment):
    path = write(tmp_path, "t.xlsx", content)
    with pytest.raises(DataValidationError) as info:
        read_table(path)
    (problem,) = info.value.problems
    assert fragment in problem.message and problem.fix and problem.file == str(path)


def test_zip_that_is_not_a_workbook(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("data.csv", "a,b\n1,2\n")
    (problem,) = problems_of(write(tmp_path, "t.xlsx", out.getvalue()), "corrupt_file")
    assert "unzip" in problem.fix


def test_workbook_with_a_damaged_sheet(tmp_path):
    good = zipfile.ZipFile(io.BytesIO(book({"s": [["a", "b"], ["1", "2"]]})))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as damaged:
        for item in good.infolist():
            content = good.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                content = content[: len(content) // 2]
            damaged.writestr(item, content)
    (problem,) = problems_of(write(tmp_path, "t.xlsx", out.getvalue()), "corrupt_file")
    assert "save it again" in problem.fix


# ----------------------------------------------------------------------- parquet


def test_parquet_values_become_lossless_text(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "id": pa.array([1, 2, None], pa.int64()),
        "x": pa.array([2.0, 0.1, float("nan")]),
        "ok": pa.array([True, False, None]),
        "day": pa.array([dt.date(2024, 3, 5), None, dt.date(2024, 3, 7)], pa.date32()),
        "at": pa.array([dt.datetime(2024, 3, 5), dt.datetime(2024, 3, 6), None], pa.timestamp("ms")),
        "when": pa.array([dt.datetime(2024, 3, 5, 14, 30), None, dt.datetime(2024, 3, 5, 8, 0, 0, 500_000)],
                         pa.timestamp("us")),
        "dept": pa.array(["税务局", "公安局", " "]).dictionary_encode(),
        "text": pa.array(["好", "", None]),
    })
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    raw = read_table(path)
    assert values(raw) == [
        ["1", "2", "TRUE", "2024-03-05", "2024-03-05", "2024-03-05 14:30:00.000000", "税务局", "好"],
        ["2", "0.1", "FALSE", None, "2024-03-06", None, "公安局", None],
        [None, None, None, "2024-03-07", None, "2024-03-05 08:00:00.500000", None, None],
    ]
    assert raw.source_rows.tolist() == [2, 3, 4]
    assert (raw.encoding, raw.sheet, raw.blank_rows) == (None, None, 0)


def test_parquet_problems(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1" + bytes(50))
    problems_of(path, "corrupt_file")
    empty = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"a": pa.array([], pa.string())}), empty)
    problems_of(empty, "no_data_rows")
    nested = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"a": [[1, 2]], "b": ["x"]}), nested)
    problems_of(nested, "unsupported_column")


# ---------------------------------------------------------------------- property


_cell = st.text(alphabet=st.sampled_from(list("满意税务局abc 123,;|\"'\n\r\t=-+@，。")), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.lists(_cell, min_size=3, max_size=3), min_size=1, max_size=8),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]),
       sep=st.sampled_from([",", "\t", ";"]))
def test_any_table_round_trips(tmp_path, cells, encoding, sep):
    rows = [[f"S{i}", *r] for i, r in enumerate(cells)]  # a filled first column: no row is blank
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\r\n").writerows([["问卷编号", "部门", "意见", "备注"], *rows])
    path = write(tmp_path, "t.csv", out.getvalue().encode(encoding))
    table = read_table(path)
    assert table.delimiter == sep
    assert table.source_rows.tolist() == list(range(2, len(rows) + 2))
    assert values(table) == [[v if v.strip() else None for v in r] for r in rows]

