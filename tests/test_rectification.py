"""The rectification cycle: the 整改 workbook written with a year's documents, returned, read back next year.

The demo's 2024 workbook is filled in as a department would (statuses in
either language), declared under ``[rectification]`` for 2025, and the 2025
run judges every item again from the 2025 evidence; the scorecards show the
follow-up.  The project keys the documents state are checked on the way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math

import openpyxl
import pytest

from evaluation.result import ReportContext
from minping.pipeline import evaluate_loaded, report_context
from reports.rectification_xlsx import render_rectification_xlsx
from reports.scorecard import scorecard_content
from surveys.errors import DataValidationError, FrameworkError
from surveys.ingest import load_year
from surveys.project import load_project
from surveys.rectification import (
    COLUMNS,
    READ_COLUMNS,
    STATUSES,
    header,
    read_rectification,
)


@pytest.fixture(scope="module")
def workbook_2024(demo_runs, tmp_path_factory):
    """The 2024 workbook as the pipeline wrote it, then filled in: every third item reported done."""
    result = demo_runs[1].result
    path = render_rectification_xlsx(result, tmp_path_factory.mktemp("rect") / "zh.xlsx", lang="zh")
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    heads = [c.value for c in ws[1]]
    status = heads.index(header("status", "zh")) + 1
    for r in range(2, ws.max_row + 1):
        ws.cell(row=r, column=status).value = ["已整改", "整改中", None][r % 3]
    filled = path.with_name("filled.xlsx")
    wb.save(filled)
    return result, path, filled


def test_workbook_columns_deadline_and_drop_down(workbook_2024):
    result, path, _ = workbook_2024
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]] == [header(c, "zh") for c in COLUMNS]
    assert ws.max_row - 1 == len(result.findings.problems)  # one row per department and problem
    deadline = ws.cell(row=2, column=list(COLUMNS).index("deadline") + 1)
    assert deadline.value.date() == dt.date(2025, 4, 20)  # the demo's 2024 report date plus one month
    [check] = ws.data_validations.dataValidation
    assert check.type == "list" and all(pair[0] in check.formula1 for pair in STATUSES.values())
    assert wb.sheetnames[1] == "说明"


def test_read_back_either_language(workbook_2024, tmp_path):
    result, path, filled = workbook_2024
    back = read_rectification(filled, department_ids={d.id for d in result.framework.departments})
    assert list(back.columns) == READ_COLUMNS
    assert len(back) == len(result.findings.problems)
    assert set(back["status"]) == {"done", "in_progress", ""}
    problems = result.findings.problems.sort_values(["department_id", "problem_no"])
    merged = back.merge(problems, on=["department_id", "key"], suffixes=("", "_now"))
    assert len(merged) == len(back) and (merged["kind"] == merged["kind_now"]).all()
    en = render_rectification_xlsx(result, tmp_path / "en.xlsx", lang="en")
    assert len(read_rectification(en)) == len(back)


def test_read_back_reports_every_problem(workbook_2024, tmp_path):
    _, path, _ = workbook_2024
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    heads = [c.value for c in ws[1]]
    ws.cell(row=2, column=heads.index(header("status", "zh")) + 1).value = "差不多了"
    ws.cell(row=3, column=heads.index(header("key", "zh")) + 1).value = None
    ws.cell(row=4, column=heads.index(header("department_id", "zh")) + 1).value = "Q99"
    broken = tmp_path / "broken.xlsx"
    wb.save(broken)
    with pytest.raises(DataValidationError) as info:
        read_rectification(broken, department_ids={"A01"})
    text = str(info.value)
    assert "unknown status" in text and "row 2" in text and "the cell is empty" in text and "Q99" in text
    ws.delete_cols(heads.index(header("kind", "zh")) + 1)
    wb.save(broken)
    with pytest.raises(DataValidationError, match="类别代码"):
        read_rectification(broken)


def test_next_year_judges_last_years_problems(demo_project, workbook_2024, tmp_path):
    """Declared under [rectification], the returned workbook is judged from 2025's evidence and shown."""
    _, _, filled = workbook_2024
    text = demo_project.read_text(encoding="utf-8")
    target = demo_project.parent / "returned_2024.xlsx"
    target.write_bytes(filled.read_bytes())
    # a second project file beside the demo's, so that its data paths hold
    declared = demo_project.with_name("project_rect.toml")
    declared.write_text(text + '\n[rectification]\n2025 = "returned_2024.xlsx"\n', encoding="utf-8")
    project = load_project(declared)
    assert project.rectifications == {2025: target}
    framework = project.load_framework()
    result = evaluate_loaded(project, framework, load_year(project, framework, 2025))
    follow = result.findings.follow_up
    assert len(follow) == len(read_rectification(target))
    assert set(follow["verdict"]) <= {"fixed", "not_fixed", "reopened", "not_verifiable"}
    assert {"fixed", "not_fixed", "reopened"} <= set(follow["verdict"])
    reopened = follow[follow["verdict"] == "reopened"]
    assert (reopened["reported_status"] == "done").all()
    counted = reopened[~reopened["kind"].isin(["indicator", "gate_g2"])]  # those two kinds have no count
    assert counted["count"].notna().all()
    # a renamed or merged department's problems arrive under its successor (the demo's crosswalk is 2024)
    assert set(follow["department_id"]) <= set(result.departments["department_id"])
    dep = follow["department_id"].iloc[0]
    c = scorecard_content(result, dep)
    assert c.follow_up is not None and len(c.follow_up.rows) == int((follow["department_id"] == dep).sum())
    assert "2024年问题" in c.follow_up_text


def test_project_keys_for_the_documents(demo_project, tmp_path):
    project = load_project(demo_project)
    assert project.city == "演示市" and project.evaluator and project.report_dates[2025] == dt.date(2026, 3, 20)
    ctx = report_context(project, 2025)
    assert ctx.deadline == dt.date(2026, 4, 20) and ctx.period_declared
    assert ReportContext(report_date=dt.date(2026, 1, 31)).deadline == dt.date(2026, 2, 28)  # month end
    assert ReportContext(report_date=dt.date(2026, 12, 15), rectification_months=2).deadline == dt.date(2027, 2, 15)
    assert ReportContext().deadline is None
    text = demo_project.read_text(encoding="utf-8").replace('city = "演示市"', 'city = 3')
    text = text.replace("[project]", '[project]\nrectification_months = 0\nreport_dates = { 2025 = "2026-13-01" }', 1)
    text = text.replace("report_dates = { 2023", "report_datez = { 2023")
    bad = demo_project.with_name("project_bad.toml")
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(FrameworkError) as info:
        load_project(bad)
    problems = str(info.value)
    assert "city = 3 is not text" in problems and "rectification_months = 0" in problems
    assert "2026-13-01" in problems and "report_datez" in problems


def test_manifest_is_strict_json(demo_runs):
    """NaN is not JSON: the manifest must parse with a parser that refuses it."""
    def refuse(token):
        raise ValueError(f"{token} in manifest.json")

    for run in demo_runs:
        data = json.loads((run.out_dir / "manifest.json").read_text(encoding="utf-8"), parse_constant=refuse)
        assert data["year"] == run.year
        numbers = []

        def walk(v):
            if isinstance(v, dict):
                for x in v.values():
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)
            elif isinstance(v, float):
                numbers.append(v)

        walk(data)
        assert all(math.isfinite(x) for x in numbers)


def test_result_without_context_says_so(demo_result):
    bare = dataclasses.replace(demo_result, context=None)
    from reports.city_content import city_content

    cover = {f.label: f.value for f in city_content(bare, "zh").cover}
    assert "未注明" in cover["评估城市"] and "未注明" in cover["报告日期"]
    assert scorecard_content(bare, bare.departments["department_id"].iloc[0]).deadline == "报告送达后1个月内"
