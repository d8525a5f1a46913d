"""The results history (SQLite): recording, idempotent re-runs, published imports, the trend command, the demo."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

from evaluation.trends import history_frames, trends
from minping import history
from minping.history import (
    case_volumes,
    history_path,
    load_history,
    record_result,
)
from minping.published import import_published
from minping.trend import add_trend_parser
from surveys.errors import DataValidationError, InsufficientDataError

README_QUERY = 'SELECT year, department, "index", se FROM departments WHERE department_id = \'A03\' ORDER BY year'


def manifest_of(run) -> dict:
    return json.loads((run.out_dir / "manifest.json").read_text(encoding="utf-8"))


def record_all(db, runs) -> None:
    for run in runs:
        record_result(db, run.result, manifest_of(run), volumes=case_volumes(run.input.tables))


@pytest.fixture(scope="module")
def db(demo_runs, tmp_path_factory):
    path = tmp_path_factory.mktemp("history") / "history.sqlite"
    record_all(path, demo_runs)
    return path


def count(db, table: str) -> pd.Series:
    with sqlite3.connect(db) as con:
        return pd.read_sql_query(f"SELECT year, COUNT(*) AS n FROM {table} GROUP BY year", con).set_index("year")["n"]


def test_round_trip_keeps_every_estimate(db, demo_runs):
    h = load_history(db)
    assert list(h["runs"]["year"]) == [2023, 2024, 2025] and set(h["runs"]["source"]) == {"run"}
    for run in demo_runs:
        year = run.year
        assert h["runs"].set_index("year").at[year, "manifest_sha256"] == manifest_of(run)["manifest_sha256"]
        got = h["departments"][h["departments"]["year"] == year].set_index("department_id")
        want = run.result.departments.set_index("department_id")
        assert set(got.index) == set(want.index)
        np.testing.assert_allclose(got.loc[want.index, "index"], want["index"])
        np.testing.assert_allclose(got.loc[want.index, "se"], want["se"])
        assert len(h["indicators"][h["indicators"]["year"] == year]) == len(run.result.indicators)
        assert len(h["dimensions"][h["dimensions"]["year"] == year]) == len(run.result.dimensions)
    defs = h["definitions"]
    assert len(defs) == 3 * 23 and set(defs["version"]) == {"1"} and set(defs["framework_id"]) == {"fgf-default"}
    assert set(map(tuple, h["crosswalk"][["successor", "predecessor", "kind"]].to_numpy())) == {
        ("D02", "D92", "rename"), ("B01", "B91", "merge"), ("B01", "B92", "merge")}
    manifest = json.loads(h["runs"].at[0, "manifest"])
    assert manifest["framework"]["id"] == "fgf-default"


def test_trends_from_the_file_equal_trends_in_memory(db, demo_runs):
    volumes = {run.year: case_volumes(run.input.tables) for run in demo_runs}
    memory = trends(history_frames([r.result for r in demo_runs], volumes=volumes), level=0.95, seed=5)
    stored = trends(load_history(db), level=0.95, seed=5)
    for key in ("trends", "rank_changes", "movers"):
        pd.testing.assert_frame_equal(stored[key], memory[key], check_dtype=False)


def test_rerunning_a_year_leaves_one_copy(db, demo_runs):
    before = {t: count(db, t) for t in ("runs", "departments", "dimensions", "indicators", "definitions")}
    run = demo_runs[1]
    written = record_result(db, run.result, manifest_of(run), volumes=case_volumes(run.input.tables),
                            recorded_at="2030-01-01T00:00:00+00:00")
    assert written["departments"] == len(run.result.departments)
    for table, n in before.items():
        pd.testing.assert_series_equal(count(db, table), n)
    runs = load_history(db)["runs"].set_index("year")
    assert runs.at[2024, "recorded_at"] == "2030-01-01T00:00:00+00:00"
    assert runs.at[2023, "recorded_at"] != "2030-01-01T00:00:00+00:00"


def test_a_failed_write_leaves_the_previous_copy(db, demo_runs, monkeypatch):
    before = load_history(db, years=[2025])["departments"]
    calls = {"n": 0}
    real = history._native

    def failing(v):
        calls["n"] += 1
        if calls["n"] > 500:
            raise RuntimeError("disk full")
        return real(v)

    monkeypatch.setattr(history, "_native", failing)
    with pytest.raises(RuntimeError):
        record_result(db, demo_runs[2].result, manifest_of(demo_runs[2]))
    monkeypatch.undo()
    pd.testing.assert_frame_equal(load_history(db, years=[2025])["departments"], before)


def test_the_readme_query(db, demo_runs):
    with sqlite3.connect(db) as con:
        rows = con.execute(README_QUERY).fetchall()
    assert [r[0] for r in rows] == [2023, 2024, 2025]
    for (year, name, index, se), run in zip(rows, demo_runs):
        dep = run.result.departments.set_index("department_id").loc["A03"]
        assert name == dep["department"] and index == pytest.approx(dep["index"]) and se == pytest.approx(dep["se"])


def test_demo_rename_and_merge_follow_the_truth(db, demo_project, demo_runs):
    tr = trends(load_history(db), level=0.95, seed=1)["trends"]
    idx = tr[tr["measure"] == "index"].set_index(["year", "department_id"])
    deps23 = demo_runs[0].result.departments.set_index("department_id")["index"]
    vol = case_volumes(demo_runs[0].input.tables)
    b01 = idx.loc[(2024, "B01")]
    assert b01["mapping"] == "merge" and b01["predecessors"] == "B91;B92"
    expected = (vol["B91"] * deps23["B91"] + vol["B92"] * deps23["B92"]) / (vol["B91"] + vol["B92"])
    assert b01["previous_estimate"] == pytest.approx(expected)
    d02 = idx.loc[(2024, "D02")]
    assert d02["mapping"] == "rename" and d02["previous_estimate"] == pytest.approx(deps23["D92"])
    truth = pd.read_csv(demo_project.parent / "truth" / "changes.csv", encoding="utf-8-sig")
    both = truth.merge(tr[tr["measure"] == "index"], on=["year", "department_id"], suffixes=("_true", ""))
    assert len(both) == len(truth) and (both["predecessors_true"] == both["predecessors"]).all()
    covered = (both["change_ci_low"] <= both["change_true"]) & (both["change_true"] <= both["change_ci_high"])
    assert covered.mean() >= 0.85, covered.mean()


# ---------------------------------------------------------------------------
# published rankings
# ---------------------------------------------------------------------------

def write_book(path, header, rows):
    wb = Workbook()
    ws = wb.active
    ws.title = "排名"
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


@pytest.fixture()
def small_db(tmp_path, demo_runs):
    path = tmp_path / "history.sqlite"
    run = demo_runs[0]
    record_result(path, run.result, manifest_of(run), volumes=case_volumes(run.input.tables))
    return path


def published_rows(run, *, shift=1.0, se=None):
    deps = run.result.departments.sort_values("rank")
    rows = []
    for k, (_, d) in enumerate(deps.iterrows()):
        row = [k + 1, d["department"], f"{d['index'] - shift:.6f}"]
        if se is not None:
            row.append(se)
        rows.append(row + [d["grade"]])
    return rows


def test_import_with_standard_errors(small_db, demo_runs, tmp_path):
    run = demo_runs[0]
    book = write_book(tmp_path / "2022.xlsx", ["排名", "部门名称", "综合指数（分）", "标准误", "等级"],
                      published_rows(run, se=1.0))
    out = import_published(small_db, book, 2022, framework=run.result.framework)
    assert len(out) == len(run.result.departments) and (out["se"] == 1.0).all()
    h = load_history(small_db)
    assert h["runs"].set_index("year").at[2022, "source"] == "import"
    tr = trends(h, [2022, 2023], level=0.95, seed=1)["trends"]
    r = tr[(tr["year"] == 2023) & (tr["department_id"] == "A03") & (tr["measure"] == "index")].iloc[0]
    se23 = run.result.departments.set_index("department_id").at["A03", "se"]
    assert r["change"] == pytest.approx(1.0, abs=1e-5)
    assert r["change_se"] == pytest.approx(np.sqrt(1.0 + se23 ** 2))
    assert np.isfinite(r["p_value"]) and pd.isna(r["comparable"]) and "definitions_unknown" in r["flags"]


def test_import_without_standard_errors_says_the_change_is_not_testable(small_db, demo_runs, tmp_path):
    run = demo_runs[0]
    book = write_book(tmp_path / "2022.xlsx", ["排名", "单位名称", "得分", "等级"], published_rows(run))
    out = import_published(small_db, book, 2022, framework=run.result.framework)
    assert out["se"].isna().all() and (out["flags"] == "imported;no_se").all()
    res = trends(load_history(small_db), [2022, 2023], level=0.95, seed=1)
    idx = res["trends"][(res["trends"]["year"] == 2023) & (res["trends"]["measure"] == "index")]
    assert np.allclose(idx["change"], 1.0, atol=1e-5)
    assert idx["p_value"].isna().all() and idx["significant"].isna().all()
    assert idx["note"].str.contains("无标准误，无法检验").all()
    assert idx["note"].str.contains("no standard error: change not testable").all()
    assert res["rank_changes"]["rank_change_low"].isna().all()


def test_import_recovers_the_standard_error_from_an_interval(small_db, demo_runs, tmp_path):
    run = demo_runs[0]
    fw = run.result.framework
    book = write_book(tmp_path / "2022.xlsx", ["部门编号", "指数", "95%置信区间"],
                      [["A01", 80.0, "78.04–81.96"], ["A02", "85分", "[83, 87]"]])
    out = import_published(small_db, book, 2022, framework=fw).set_index("department_id")
    assert out.at["A01", "se"] == pytest.approx(1.96 / 1.959964, rel=1e-4)
    assert out.at["A02", "index"] == 85.0 and out.at["A02", "ci_low"] == 83.0
    assert out.at["A01", "category"] == fw.department("A01").category


def test_import_with_a_column_map_and_names_from_the_history(small_db, demo_runs, tmp_path):
    name = demo_runs[0].result.departments.set_index("department_id").at["A03", "department"]
    book = write_book(tmp_path / "p.xlsx", ["评估对象", "评估得分"], [[name, 77.5]])
    out = import_published(small_db, book, 2022, column_map={"评估对象": "department", "评估得分": "index"},
                           level=0.95)
    assert list(out["department_id"]) == ["A03"] and out["index"].iloc[0] == 77.5


def test_import_problems_name_row_and_fix(small_db, demo_runs, tmp_path):
    fw = demo_runs[0].result.framework
    book = write_book(tmp_path / "bad.xlsx", ["部门名称", "综合指数"], [["发展和改革委员会", 80], ["不存在局", 70],
                                                                  ["发展和改革委员会", 81], ["商务局", "八十"]])
    with pytest.raises(DataValidationError) as err:
        import_published(small_db, book, 2022, framework=fw)
    text = str(err.value)
    assert "row 3" in text and "不存在局" in text and "alias" in text
    assert "appears twice" in text and "row 5" in text and "八十" in text
    no_index = write_book(tmp_path / "noindex.xlsx", ["部门名称", "备注"], [["商务局", "x"]])
    with pytest.raises(DataValidationError, match="column_map"):
        import_published(small_db, no_index, 2022, framework=fw)
    assert 2022 not in set(load_history(small_db)["runs"]["year"])


def test_an_import_replaces_a_run_of_the_same_year(small_db, demo_runs, tmp_path):
    run = demo_runs[0]
    name = run.result.departments["department"].iloc[0]
    book = write_book(tmp_path / "2023.xlsx", ["部门名称", "综合指数"], [[name, 90]])
    import_published(small_db, book, 2023, framework=run.result.framework)
    h = load_history(small_db)
    assert len(h["departments"]) == 1 and h["indicators"].empty and h["dimensions"].empty
    assert h["runs"]["source"].tolist() == ["import"]


def test_files_that_are_not_a_history(tmp_path):
    with pytest.raises(InsufficientDataError, match="minping run"):
        load_history(tmp_path / "missing.sqlite")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(DataValidationError, match="not a minping history"):
        load_history(junk)


# ---------------------------------------------------------------------------
# the command
# ---------------------------------------------------------------------------

def test_trend_command(demo_project, demo_runs, tmp_path, capsys):
    project = tmp_path / "project"
    project.mkdir()
    for name in ("project.toml", "framework.toml"):
        shutil.copy(demo_project.parent / name, project / name)
    os.symlink(demo_project.parent / "data", project / "data")
    record_all(history_path(project), demo_runs[1:])
    book = write_book(tmp_path / "2023.xlsx", ["排名", "部门名称", "综合指数", "等级"], published_rows(demo_runs[0]))
    parser = argparse.ArgumentParser()
    add_trend_parser(parser.add_subparsers())
    args = parser.parse_args(["trend", str(project), "--p-adjust", "bh", "--out", str(tmp_path / "out"),
                              "--import-published", "2023", str(book)])
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "imported" in printed and "no standard errors" in printed
    assert "most improved" in printed and "Benjamini-Hochberg" in printed and "2024 -> 2025" in printed
    assert "无标准误，无法检验" in printed
    tr = pd.read_csv(tmp_path / "out" / "trends.csv", encoding="utf-8-sig")
    assert set(tr["year"]) == {2023, 2024, 2025}
    assert set(tr.loc[tr["p_value"].notna(), "p_adjust_method"]) == {"bh"}
    assert (tmp_path / "out" / "rank_changes.csv").exists() and (tmp_path / "out" / "movers.csv").exists()
