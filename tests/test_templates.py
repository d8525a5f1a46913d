"""Input templates: one workbook per canonical table, drop-downs, instructions, and a filled one reads back."""

from __future__ import annotations

import argparse
import datetime as dt
import warnings

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter, range_boundaries

from minping.template_cmd import add_template_parser
from reports.templates import INSTRUCTIONS_SHEET, LISTS_SHEET, write_templates
from surveys.errors import FrameworkError, MinpingWarning
from surveys.framework import load_framework
from surveys.ingest import load_year
from surveys.project import load_project

YEAR = 2024
#: the default framework's tables: the structural columns and its declared items
TABLES = load_framework().tables


@pytest.fixture(scope="module")
def framework():
    return load_framework()


@pytest.fixture(scope="module")
def templates(framework, tmp_path_factory):
    out = tmp_path_factory.mktemp("templates")
    paths = write_templates(framework, out, year=YEAR)
    assert paths == [out / f"{name}_{spec.zh}.xlsx" for name, spec in TABLES.items()]
    return dict(zip(TABLES, paths))


def dropdowns(book) -> dict[str, list[str]]:
    """Header -> the values its list validation offers, resolved through the lists sheet."""
    sheet = book.worksheets[0]
    headers = {cell.column_letter: cell.value for cell in sheet[1]}
    found = {}
    for dv in sheet.data_validations.dataValidation:
        if dv.type != "list":
            continue
        (target,) = str(dv.sqref).split()
        first_col, first_row, last_col, _ = range_boundaries(target)
        assert first_col == last_col and first_row == 2
        where, ref = dv.formula1.split("!")
        assert where.strip("'") == LISTS_SHEET
        c0, r0, c1, r1 = range_boundaries(ref.replace("$", ""))
        values = [book[LISTS_SHEET].cell(row=r, column=c0).value for r in range(r0, r1 + 1)]
        found[headers[get_column_letter(first_col)]] = values
    return found


def test_one_template_per_table_with_the_canonical_headers(templates):
    for name, path in templates.items():
        book = openpyxl.load_workbook(path)
        assert book.sheetnames[0] == TABLES[name].zh
        assert book.sheetnames[1:] == [INSTRUCTIONS_SHEET, LISTS_SHEET] and book[LISTS_SHEET].sheet_state == "hidden"
        assert [c.value for c in book.worksheets[0][1]] == [c.zh for c in TABLES[name].columns]
        assert book.worksheets[0].max_row == 1


def test_every_coded_category_and_department_column_has_its_drop_down(templates, framework):
    departments = [d.name for d in framework.departments if d.active(YEAR)]
    assert "公共资源交易中心" in departments and "国土资源局" not in departments
    for name, path in templates.items():
        offered = dropdowns(openpyxl.load_workbook(path))
        expected = {}
        for col in TABLES[name].columns:
            if col.kind == "code":
                expected[col.zh] = list(framework.scales[col.scale].labels)
            elif col.kind == "category":
                expected[col.zh] = [label for label, _ in col.labels]
            elif col.kind == "department":
                expected[col.zh] = departments
        assert offered == expected, name


def test_instructions_list_every_column_with_required_values_and_formats(templates, framework):
    for name, path in templates.items():
        rows = list(openpyxl.load_workbook(path)[INSTRUCTIONS_SHEET].iter_rows(values_only=True))
        start = [r[:3] for r in rows].index(("列名", "字段", "是否必填")) + 1
        table = {r[1]: r for r in rows[start:]}
        assert list(table) == list(TABLES[name].names)
        for col in TABLES[name].columns:
            header, _, required, allowed, fmt = table[col.name]
            assert header == col.zh and required == ("是" if col.required else "否") and fmt
            if col.kind == "code":
                assert allowed == "、".join(framework.scales[col.scale].labels)
            if col.kind == "date":
                assert "2024-03-05" in fmt
            if col.kind == "month":
                assert "2024-03" in fmt
    notes = "\n".join(str(r[0]) for r in openpyxl.load_workbook(templates["survey"])[INSTRUCTIONS_SHEET].iter_rows(
        values_only=True) if r[0])
    assert "2024年3月5日" in notes and "2024-03-05 14:30" in notes


def fill(path, rows: list[dict]) -> dict[str, list[str]]:
    """Write rows (header -> value) under the template's header; returns its drop-downs."""
    book = openpyxl.load_workbook(path)
    offered = dropdowns(book)
    sheet = book.worksheets[0]
    column = {cell.value: cell.column for cell in sheet[1]}
    for i, row in enumerate(rows, start=2):
        for header, value in row.items():
            assert header not in offered or value in offered[header], (header, value)
            sheet.cell(row=i, column=column[header], value=value)
    book.save(path)
    return offered


def test_a_filled_template_reads_back_without_a_mapping(templates, framework, tmp_path):
    survey, ratings = tmp_path / templates["survey"].name, tmp_path / templates["ratings"].name
    survey.write_bytes(templates["survey"].read_bytes())
    ratings.write_bytes(templates["ratings"].read_bytes())
    fill(survey, [
        {"问卷编号": "S-0001", "部门": "市场监督管理局", "调查日期": dt.datetime(2024, 3, 5), "受访者类型": "企业",
         "调查方式": "短信", "手机号": "13912345678", "答题时长（秒）": 300, "权重": 1.5, "调查点日": "H1-0305",
         "总体满意度": "非常满意", "与一年前相比办事难易": "容易一些", "办事效率满意度": "不了解",
         "办事便捷度满意度": "基本满意", "服务态度满意度": "不满意", "业务能力满意度": "非常不满意",
         "信息获取满意度": "满意", "受到公平对待": "同意", "意见建议": "窗口少"},
        {"问卷编号": "0002", "部门": "公共资源交易中心", "调查日期": "2024年3月6日", "受访者类型": "群众",
         "调查方式": "窗口", "总体满意度": "满意", "与一年前相比办事难易": "首次办理", "受到公平对待": "非常不同意"},
    ])
    fill(ratings, [
        {"评价编号": "R1", "部门": "税务局", "评价时间": dt.datetime(2024, 5, 6, 9, 30), "评价等级": "不满意",
         "评价方式": "主动评价", "整改时限（工作日）": 5, "整改完成时间": "2024-05-08", "整改回访满意度": "满意"},
        {"评价编号": "R2", "部门": "公安局", "评价时间": "2024-05-07 10:00", "评价等级": "非常满意",
         "评价方式": "默认好评"},
    ])
    (tmp_path / "project.toml").write_text(
        '[project]\nname = "t"\nframework = "default"\nyears = [2024]\nsalt = "t"\n'
        f'[[inputs]]\nyear = 2024\ntable = "survey"\npath = "{survey.name}"\n'
        f'[[inputs]]\nyear = 2024\ntable = "ratings"\npath = "{ratings.name}"\n', encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error", MinpingWarning)  # no skipped sheet, no unknown column
        loaded = load_year(load_project(tmp_path / "project.toml"), framework, 2024)
    assert loaded.ledger.frame().empty
    assert loaded.ledger.counts_frame()[["rows_in", "rows_used"]].values.tolist() == [[2, 2], [2, 2]]

    s = loaded.tables["survey"]
    assert s["response_id"].tolist() == ["S-0001", "0002"]
    assert s["department_id"].tolist() == ["A03", "A07"]
    assert s["interview_date"].tolist() == [pd.Timestamp("2024-03-05"), pd.Timestamp("2024-03-06")]
    assert s["respondent_type"].tolist() == ["enterprise", "citizen"]
    assert s["mode"].tolist() == ["sms", "hall"]
    assert s["phone_masked"].tolist()[0] == "139****5678" and pd.isna(s["phone_masked"].iloc[1])
    assert s["duration_sec"].tolist()[0] == 300.0 and s["weight"].tolist()[0] == 1.5
    assert s["cluster"].tolist()[0] == "H1-0305" and s["comment"].tolist()[0] == "窗口少"
    codes = s[["q_overall", "q_easier", "q_speed", "q_ease", "q_courtesy", "q_competence", "q_info", "q_fair"]]
    np.testing.assert_array_equal(codes.to_numpy(), [[5, 4, np.nan, 3, 2, 1, 4, 4],
                                                      [4, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, 1]])

    r = loaded.tables["ratings"]
    assert r["rating_id"].tolist() == ["R1", "R2"] and r["department_id"].tolist() == ["A08", "C03"]
    assert r["rated_at"].tolist() == [pd.Timestamp("2024-05-06 09:30"), pd.Timestamp("2024-05-07 10:00")]
    np.testing.assert_array_equal(r[["level", "default_rating", "deadline_days", "callback_level"]].to_numpy(),
                                  [[2, 0, 5, 4], [5, 1, np.nan, np.nan]])
    assert r["rectified_at"].iloc[0] == pd.Timestamp("2024-05-08") and pd.isna(r["rectified_at"].iloc[1])
    # Monday to Wednesday is 2 working days, within the 5 allowed
    assert r[["is_bad", "rectified_on_time", "rectification_called_back"]].to_numpy().tolist() == [
        [1, 1, 1], [0, 0, 0]]


def run_command(argv, capsys):
    parser = argparse.ArgumentParser(prog="minping")
    add_template_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code = args.func(args)
    return code, capsys.readouterr().out.split()


def test_the_template_command(tmp_path, capsys, monkeypatch):
    (tmp_path / "project.toml").write_text('[project]\nframework = "default"\nyears = [2023]\nsalt = "x"\n',
                                           encoding="utf-8")
    code, printed = run_command(["template", str(tmp_path), "--out", str(tmp_path / "t")], capsys)
    assert code == 0 and len(printed) == len(TABLES)
    offered = dropdowns(openpyxl.load_workbook(tmp_path / "t" / "survey_问卷调查.xlsx"))["部门"]
    assert "国土资源局" in offered and "公共资源交易中心" not in offered  # the project's year, 2023

    monkeypatch.chdir(tmp_path / "t")  # no project.toml here: the shipped framework, every department
    code, printed = run_command(["template", "--out", "u"], capsys)
    assert code == 0 and len(printed) == len(TABLES)
    offered = dropdowns(openpyxl.load_workbook(tmp_path / "t" / "u" / "survey_问卷调查.xlsx"))["部门"]
    assert {"国土资源局", "公共资源交易中心"} <= set(offered)

    with pytest.raises(FrameworkError, match="Cannot read the project file"):
        run_command(["template", str(tmp_path / "nowhere.toml"), "--out", str(tmp_path / "v")], capsys)
