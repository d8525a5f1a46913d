"""The malformed-input corpus (tests/corpus/) against the readers and normalisers.

Structural cases found by the readers must raise with the expected message, the
file's name and a fix.  Every other file must read, with the row numbers a
person opening it would see, and carry exactly the row problems that
expected.csv lists; they are found here with the normalisers and plain checks,
the way the ingest layer must find them (its own tests check its reason codes).
"""

from __future__ import annotations

import csv
import importlib.util
import re
import sys
import tomllib
import warnings
from collections import defaultdict

import pandas as pd
import pytest
from conftest import ROOT

from surveys.errors import DataValidationError, MinpingWarning
from surveys.normalize import parse_codes, parse_dates, parse_numbers
from surveys.readers import RawTable, read_table

CORPUS = ROOT / "tests" / "corpus"
_spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
make_corpus = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(make_corpus)

with open(CORPUS / "expected.csv", encoding="utf-8", newline="") as _handle:
    EXPECTED = list(csv.DictReader(_handle))
SAT = tomllib.loads((ROOT / "surveys" / "frameworks" / "default.toml").read_text(encoding="utf-8"))["scales"][
    "satisfaction"]


def by_stage(stage):
    return [pytest.param(case, id=case["file"]) for case in EXPECTED if case["stage"] == stage]


def read(name, root=CORPUS) -> RawTable:
    path = root / name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MinpingWarning)
        return read_table(path, header_rows=2 if name.startswith("merged_header") else 1)


def column(table: RawTable, name: str) -> str:
    """The frame column whose (possibly flattened) name ends with ``name``."""
    (found,) = [c for c in table.frame.columns if c == name or c.endswith("_" + name)]
    return found


def row_problems(table: RawTable) -> dict[str, set[int]]:
    """Source rows per reason code, as the ingest layer must find them for the corpus layout."""
    frame, rows = table.frame, table.source_rows
    found: dict[str, set[int]] = defaultdict(set)

    def mark(code, mask):
        found[code] |= set(rows[mask.to_numpy(dtype=bool)].tolist())

    for name in make_corpus.REQUIRED:
        mark("missing_required", frame[column(table, name)].isna())
    dates, bad = parse_dates(frame[column(table, "调查日期")])
    mark("bad_date", bad)
    start, end = (pd.Timestamp(d) for d in make_corpus.PERIOD)
    mark("outside_period", (dates < start) | (dates >= end + pd.Timedelta(days=1)))
    for name in frame.columns:
        if re.search(r"Q\d", name):
            _, bad, _ = parse_codes(frame[name], SAT["labels"], SAT["codes"], SAT["na_codes"])
            mark("code_out_of_range", bad)
    if any(c.endswith(make_corpus.WAIT) for c in frame.columns):
        values, bad = parse_numbers(frame[column(table, make_corpus.WAIT)], units=("分钟",))
        mark("not_a_number", bad)
        mark("negative_number", values < 0)
    ids = frame[column(table, "问卷编号")].str.strip()
    mark("duplicate_id", ids.notna() & ids.duplicated(keep=False))
    departments = frame[column(table, "部门")].str.strip()
    mark("unknown_department", departments.notna() & ~departments.isin(make_corpus.KNOWN_DEPARTMENTS))
    return {code: rows for code, rows in found.items() if rows}


def test_expected_csv_describes_every_corpus_file():
    listed = [case["file"] for case in EXPECTED]
    present = sorted(p.name for p in CORPUS.iterdir() if p.name not in ("README.md", "expected.csv", "make_corpus.py"))
    assert sorted(listed) == present and len(set(listed)) == len(listed)
    assert len(listed) >= 25
    for case in EXPECTED:
        assert case["kind"] in ("structural", "row") and case["stage"] in ("read", "ingest") and case["note"]
        if case["kind"] == "row":
            assert case["expected"] in make_corpus.REASON_CODES and case["rows"]


@pytest.mark.parametrize("case", by_stage("read"))
def test_structural_problem_is_reported_with_file_and_fix(case):
    path = CORPUS / case["file"]
    with pytest.raises(DataValidationError) as info:
        read_table(path)
    message = str(info.value)
    assert case["expected"] in message
    assert case["file"] in message
    for problem in info.value.problems:
        assert problem.file == str(path) and problem.fix
        assert problem.fix in message


@pytest.mark.parametrize("case", by_stage("ingest"))
def test_file_reads_with_exactly_the_expected_row_problems(case):
    table = read(case["file"])
    assert len(table.frame) == len(table.source_rows) > 0
    if case["kind"] == "structural":
        wanted = case["column"].split(";")
        if case["file"].startswith("missing"):
            assert not set(wanted) & set(table.frame.columns)
        else:
            assert set(wanted) <= set(table.frame.columns)
        return
    expected_rows = {int(r) for r in case["rows"].split(";")}
    assert row_problems(table) == {case["expected"]: expected_rows}
    for name in case["column"].split(";"):
        assert name in table.frame.columns


def test_row_numbers_skip_blank_lines_and_embedded_newlines():
    table = read("blank_lines.csv")
    assert table.source_rows.tolist() == [2, 5, 6, 8, 9, 10]
    assert table.blank_rows == 3
    table = read("embedded_newlines.csv")
    assert table.source_rows.tolist() == [2, 3, 4, 5, 6, 7]
    assert table.frame["意见建议"].iloc[1] == "建议：\r\n1. 延长时间\r\n2. 增加自助机"


def test_encodings_and_delimiters_are_detected():
    seen = {name: (read(name).encoding, read(name).delimiter) for name in
            ("gbk_no_bom.csv", "utf16_unicode_text.txt", "utf8_bom_semicolon.csv", "date_formats.csv")}
    assert seen == {"gbk_no_bom.csv": ("gb18030", ","), "utf16_unicode_text.txt": ("utf-16", "\t"),
                    "utf8_bom_semicolon.csv": ("utf-8-sig", ";"), "date_formats.csv": ("utf-8", ",")}
    assert read("gbk_no_bom.csv").frame["意见建议"].iloc[0] == "王喆同志耐心细致"


def test_free_text_stays_verbatim():
    text = read("formula_injection.csv").frame["意见建议"].tolist()
    assert text[:5] == ['=HYPERLINK("http://example.com","点击")', "+8617000000001", "-无意见", "@SUM(A1:A2)", "\t=1+1"]
    long_text = read("long_free_text.csv").frame["意见建议"].iloc[1]
    assert len(long_text) == 21004
    assert len(read("longer_than_csv_limit.csv").frame["意见建议"].iloc[1]) == 140_002
    assert read("department_path_chars.csv").frame["部门"].iloc[1] == "../../税务局"


def test_workbooks_and_parquet_read_as_text():
    with pytest.warns(MinpingWarning, match="填表说明"):
        assert read_table(CORPUS / "second_sheet.xlsx").sheet == "调查数据"
    typed = read("excel_cell_types.xlsx").frame
    assert typed["问卷编号"].iloc[0] == "20240001" and typed["手机号"].iloc[0] == "17000000001"
    assert typed["调查日期"].tolist() == ["2024-03-05", "2024-03-06 14:30:00", "2023-12-31", "45360", "2024年3月9日",
                                      "2024-03-10"]
    assert typed[make_corpus.WAIT].tolist()[:2] == ["12.5", "11"]
    merged = read("merged_header.xlsx")
    assert merged.source_rows.tolist() == [3, 4, 5, 6, 7, 8]
    assert list(merged.frame.columns) == list(read("merged_header.csv").frame.columns)
    parquet = read("survey.parquet").frame
    assert parquet["调查日期"].iloc[0] == "2024-03-05" and parquet[make_corpus.WAIT].tolist()[:2] == ["12.5", "8"]


def test_the_corpus_is_what_make_corpus_writes(tmp_path):
    make_corpus.write(tmp_path)
    assert (tmp_path / "expected.csv").read_bytes() == (CORPUS / "expected.csv").read_bytes()
    for case in EXPECTED:
        name = case["file"]
        if case["stage"] == "read":
            codes = []
            for root in (CORPUS, tmp_path):
                with pytest.raises(DataValidationError) as info:
                    read_table(root / name)
                codes.append([p.code for p in info.value.problems])
            assert codes[0] == codes[1], name
        else:
            ours, fresh = read(name), read(name, tmp_path)
            pd.testing.assert_frame_equal(ours.frame, fresh.frame)
            assert ours.source_rows.tolist() == fresh.source_rows.tolist()
