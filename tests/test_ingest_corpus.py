"""The malformed-input corpus (tests/corpus/) through the ingest layer.

Every file of ``expected.csv`` is loaded with :func:`surveys.ingest.load_year`
from a one-input project (period 2024, the default framework, a column
mapping from the corpus's Chinese headers onto the canonical survey table).
Structural cases must stop the year with a :class:`DataValidationError`
naming the file, the expected text and a fix.  Row cases must quarantine
exactly the listed source rows with the expected reason, keep the books
(rows in = rows used + rows quarantined) and lose nothing else: every value
present in a used row is present after ingest.  Cell cases (a value of an
optional column that cannot be read, or cannot be true) must clear exactly
that cell, list it in the cells table with its reason, and keep every row
and every other value.
"""

from __future__ import annotations

import csv
import json
import warnings

import pandas as pd
import pytest
from conftest import ROOT

from surveys.errors import DataValidationError, MinpingWarning
from surveys.framework import load_framework
from surveys.ingest import load_year
from surveys.normalize import MISSING_TOKENS, parse_codes
from surveys.privacy import scrub_text
from surveys.project import load_project
from surveys.readers import read_table

CORPUS = ROOT / "tests" / "corpus"
with open(CORPUS / "expected.csv", encoding="utf-8", newline="") as _handle:
    EXPECTED = list(csv.DictReader(_handle))

#: corpus header -> canonical survey column; the waiting time is the corpus's
#: only number and the survey's only number column is duration_sec
HEADERS = {
    "问卷编号": "response_id", "部门": "department_id", "调查日期": "interview_date",
    "Q1总体满意度": "q_overall", "Q2办事效率满意度": "q_speed", "Q3服务态度满意度": "q_courtesy",
    "手机号": "phone", "意见建议": "comment", "等候时长(分钟)": "duration_sec", "权重": "weight",
}
CODES = ("q_overall", "q_speed", "q_courtesy")
#: expected.csv: named in a warning, not an error
WARNED = {"unknown_extra_columns.csv"}
#: files whose 权重 column is declared as the design weights (the plausibility rules on weights apply)
WEIGHTED = {c["file"] for c in EXPECTED if "权重" in c["column"].split(";")}


def header_rows(name: str) -> int:
    return 2 if name.startswith("merged_header") else 1


def file_headers(name: str) -> dict[str, str]:
    if header_rows(name) == 1:
        return dict(HEADERS)
    return {("满意度评价_" + k if k.startswith("Q") else k): v for k, v in HEADERS.items()}


def write_project(folder, inputs: list[str]):
    """A project with one survey input per corpus file, period 2024, default framework."""
    lines = ["[project]", 'name = "corpus"', 'framework = "default"', "years = [2024]", 'salt = "corpus-salt"',
             "[periods]", '2024 = ["2024-01-01", "2024-12-31"]']
    for name in inputs:
        lines += ["[[inputs]]", "year = 2024", 'table = "survey"',
                  f"path = {json.dumps(str(CORPUS / name), ensure_ascii=False)}",
                  f"header_rows = {header_rows(name)}", "[inputs.columns]"]
        lines += [f"{json.dumps(k, ensure_ascii=False)} = {json.dumps(v)}" for k, v in file_headers(name).items()]
        if name in WEIGHTED:
            lines += ["[inputs.design]", 'weights = "weight"']
    path = folder / "project.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_project(path)


@pytest.fixture(scope="module")
def framework():
    return load_framework()


def load(tmp_path, framework, *names):
    project = write_project(tmp_path, list(names))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_year(project, framework, 2024)
    return loaded, [w for w in caught if issubclass(w.category, MinpingWarning)]


def raw_canonical(name: str) -> tuple[pd.DataFrame, list[int]]:
    """The file as read, renamed to canonical columns, and its source rows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MinpingWarning)
        raw = read_table(CORPUS / name, header_rows=header_rows(name))
    return raw.frame.rename(columns=file_headers(name)), raw.source_rows.tolist()


def cases(kind):
    return [pytest.param(c, id=c["file"]) for c in EXPECTED if c["kind"] == kind and c["file"] not in WARNED]


@pytest.mark.parametrize("case", cases("structural"))
def test_structural_problem_stops_the_year(case, tmp_path, framework):
    path = CORPUS / case["file"]
    with pytest.raises(DataValidationError) as info:
        load(tmp_path, framework, case["file"])
    message = str(info.value)
    assert case["expected"] in message and case["file"] in message and "Fix: " in message
    assert info.value.problems
    for problem in info.value.problems:
        assert problem.file == str(path) and problem.fix


def test_unknown_columns_are_named_in_a_warning_and_every_row_is_used(tmp_path, framework):
    (case,) = [c for c in EXPECTED if c["file"] == "unknown_extra_columns.csv"]
    loaded, caught = load(tmp_path, framework, case["file"])
    (warning,) = [w for w in caught if "match no column" in str(w.message)]
    text = str(warning.message)
    assert case["file"] in text and "[inputs.columns]" in text
    assert all(f"'{name}'" in text for name in case["column"].split(";"))
    assert loaded.ledger.frame().empty
    counts = loaded.ledger.counts_frame()
    assert counts[["rows_in", "rows_used", "rows_quarantined"]].values.tolist() == [[6, 6, 0]]


@pytest.mark.parametrize("case", cases("row"))
def test_rows_are_quarantined_with_their_reason_and_nothing_else_is_lost(case, tmp_path, framework):
    name, code = case["file"], case["expected"]
    listed = sorted(int(r) for r in case["rows"].split(";"))
    # expected.csv lists every row sharing an id; the first of them is kept
    wanted = listed[1:] if code == "duplicate_id" else listed
    loaded, _ = load(tmp_path, framework, name)

    ledger = loaded.ledger.frame()
    assert sorted(zip(ledger["source_row"], ledger["reason_code"])) == [(r, code) for r in wanted]
    assert set(ledger["file"]) == {name} and set(ledger["table"]) == {"survey"}
    assert ledger["reason"].str.len().gt(0).all() and ledger["reason_en"].str.len().gt(0).all()

    raw, rows = raw_canonical(name)
    (counts,) = loaded.ledger.counts_frame().to_dict(orient="records")
    survey = loaded.tables["survey"]
    assert counts["rows_in"] == len(raw) == counts["rows_used"] + counts["rows_quarantined"]
    assert counts["rows_quarantined"] == len(wanted) and counts["rows_used"] == len(survey)

    used = raw[[r not in wanted for r in rows]].reset_index(drop=True)
    assert survey["response_id"].tolist() == used["response_id"].str.strip().tolist()
    assert_values_kept(used, survey, framework)


@pytest.mark.parametrize("case", cases("cell"))
def test_cells_are_cleared_with_their_reason_and_the_rows_kept(case, tmp_path, framework):
    name, code = case["file"], case["expected"]
    wanted = sorted(int(r) for r in case["rows"].split(";"))
    loaded, _ = load(tmp_path, framework, name)
    assert loaded.ledger.frame().empty

    cells = loaded.ledger.cells_frame()
    column = file_headers(name)[case["column"]]
    assert sorted(zip(cells["source_row"], cells["reason_code"], cells["column"])) == [
        (r, code, column) for r in wanted]
    assert set(cells["file"]) == {name} and set(cells["table"]) == {"survey"}
    assert cells["reason"].str.len().gt(0).all() and cells["value"].str.len().gt(0).all()

    raw, rows = raw_canonical(name)
    (counts,) = loaded.ledger.counts_frame().to_dict(orient="records")
    survey = loaded.tables["survey"]
    assert counts["rows_in"] == counts["rows_used"] == len(raw) == len(survey)
    assert counts["cells_cleared"] == len(wanted)
    cleared = [rows.index(r) for r in wanted]
    assert survey.loc[cleared, column].isna().all()
    kept = raw.copy()
    kept.loc[cleared, column] = pd.NA
    assert survey["response_id"].tolist() == raw["response_id"].str.strip().tolist()
    assert_values_kept(kept, survey, framework)


def assert_values_kept(raw: pd.DataFrame, survey: pd.DataFrame, framework) -> None:
    """Every value present in a used raw row is present after ingest (N/A answers aside)."""
    register = {d.id for d in framework.departments}
    assert survey["department_id"].isin(register).all()
    assert survey["interview_date"].notna().all()
    scale = framework.scales["satisfaction"]
    for column in CODES:
        _, _, na = parse_codes(raw[column], scale.labels, scale.codes, scale.na_codes)
        present = raw[column].notna() & ~na
        assert survey.loc[present, column].notna().all(), column
        assert survey.loc[~present, column].isna().all(), column
    if "duration_sec" in raw.columns:
        present = raw["duration_sec"].notna() & ~raw["duration_sec"].str.strip().isin(MISSING_TOKENS)
        assert survey.loc[present, "duration_sec"].notna().all()
    assert "phone" not in survey.columns
    phone = raw["phone"].notna()
    assert survey.loc[phone, "phone_hash"].notna().all() and survey.loc[phone, "phone_masked"].notna().all()
    expected = scrub_text(raw["comment"].str.strip())
    pd.testing.assert_series_equal(survey["comment"].astype(object), expected.astype(object), check_names=False)


def test_untrusted_text_survives_as_data(tmp_path, framework):
    loaded, _ = load(tmp_path, framework, "formula_injection.csv")
    comments = loaded.tables["survey"]["comment"].tolist()
    # the tab before "=1+1" is surrounding whitespace; what a spreadsheet would run stays, to be neutralised
    # on export (reports.safety)
    # the last row's Q1 '=5' is not a code: that cell is cleared, the row and its comment are kept
    raw = ['=HYPERLINK("http://example.com","点击")', "+8617000000001", "-无意见", "@SUM(A1:A2)", "=1+1",
           "材料一次告知，点赞"]
    assert comments == scrub_text(pd.Series(raw)).tolist()
    # the "+" case is a phone number typed with +86: it is masked at the door, so it no longer starts with "+"
    assert [c[0] for c in comments] == ["=", "1", "-", "@", "=", "材"]
    assert comments[1] == "170****0001"

    loaded, _ = load(tmp_path, framework, "long_free_text.csv")
    assert len(loaded.tables["survey"]["comment"].iloc[1]) == 21004
    loaded, _ = load(tmp_path, framework, "longer_than_csv_limit.csv")
    assert len(loaded.tables["survey"]["comment"].iloc[1]) == 140_002

    loaded, _ = load(tmp_path, framework, "department_path_chars.csv")
    ledger = loaded.ledger.frame()
    assert ledger["department"].tolist() == ["../../税务局", "市场监督管理局/窗口.."]


def test_ids_repeated_across_files_are_quarantined_under_their_own_file(tmp_path, framework):
    # outside_period.csv uses S2024-0002/3/4/6 (rows 2 and 6 fall outside 2024); duplicate_ids.csv repeats
    # S2024-0001 within itself (row 5) and S2024-0002/3/6 from the first file (rows 3, 4, 7).  Its
    # S2024-0001 (row 2) and S2024-0005 (row 6) are first used occurrences, as their twins were quarantined.
    loaded, _ = load(tmp_path, framework, "outside_period.csv", "duplicate_ids.csv")
    ledger = loaded.ledger.frame()
    got = sorted(zip(ledger["file"], ledger["source_row"], ledger["reason_code"]))
    assert got == [("duplicate_ids.csv", 3, "duplicate_id"), ("duplicate_ids.csv", 4, "duplicate_id"),
                   ("duplicate_ids.csv", 5, "duplicate_id"), ("duplicate_ids.csv", 7, "duplicate_id"),
                   ("outside_period.csv", 2, "outside_period"), ("outside_period.csv", 6, "outside_period")]
    across = ledger[(ledger["file"] == "duplicate_ids.csv") & (ledger["source_row"] != 5)]
    assert across["reason_en"].str.contains("outside_period.csv:S2024-000").all()
    counts = loaded.ledger.counts_frame().set_index("file")
    assert counts.loc["outside_period.csv", ["rows_in", "rows_used", "rows_quarantined"]].tolist() == [6, 4, 2]
    assert counts.loc["duplicate_ids.csv", ["rows_in", "rows_used", "rows_quarantined"]].tolist() == [6, 2, 4]
    assert sorted(loaded.tables["survey"]["response_id"]) == [
        "S2024-0001", "S2024-0002", "S2024-0003", "S2024-0004", "S2024-0005", "S2024-0006"]
