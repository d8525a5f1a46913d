"""Exports as evaluators receive them (tests/make_exports.py), read with a project file only.

问卷星 downloads (xlsx and csv), a call centre's GBK log with one row per
call, and a two-rater checklist workbook validate and run with presets,
mappings and recodes, no pre-processing; the books account for every row and
every cleared cell; what the files hold by construction (durations, skip
markers, respondent types, the calls and their final results, the burst of
staff-filled questionnaires) is what the tables hold.  Malformed variants
stop with the values that could not be read and the lines to add, and read
once those lines are added.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from make_exports import DEPARTMENTS, PRAISE, write_exports
from minping.cli import main
from surveys.errors import DataValidationError, MinpingWarning
from surveys.ingest import load_year
from surveys.project import load_project
from surveys.readers import read_table


def load(folder):
    project = load_project(folder / "project.toml")
    framework = project.load_framework()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MinpingWarning)
        return load_year(project, framework, 2024), framework


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exports")
    truth = write_exports(folder)
    loaded, framework = load(folder)
    return folder, truth, loaded, framework


def test_exports_validate_and_run_with_a_project_file_only(exports, capsys):
    folder = exports[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MinpingWarning)
        assert main(["validate", str(folder)]) == 0
        assert main(["run", str(folder), "--no-reports"]) == 0
    out = capsys.readouterr().out
    assert "cleared cells by column and reason" in out
    results = folder / "output" / "2024"
    assert (results / "cleared_cells.csv").is_file() and (results / "quarantine.csv").is_file()
    deps = pd.read_csv(results / "results" / "departments.csv", encoding="utf-8-sig")
    assert deps["index"].notna().sum() == len(DEPARTMENTS)
    themes = pd.read_csv(results / "results" / "comment_themes.csv", encoding="utf-8-sig")
    assert {"queue", "repeat_trips", "documents", "attitude", "system", "buck_passing"} <= set(themes["theme"])


def test_the_books_account_for_every_row_and_every_cleared_cell(exports):
    folder, truth, loaded, _ = exports
    counts = loaded.ledger.counts_frame().set_index(["file", "table"])
    assert (counts["rows_in"] == counts["rows_used"] + counts["rows_quarantined"]).all()
    for file, n in truth.survey_rows.items():
        assert counts.loc[(file, "survey"), "rows_in"] == n
    assert counts.loc[("data/回访记录_呼叫中心.csv", "callback_attempts"), "rows_in"] == truth.calls
    assert counts.loc[("data/现场评估_两人评分.xlsx", "visits"), "rows_in"] == truth.visits
    # nothing of these files is set aside but the one answer no recode reads (满意了): a cell, not the row
    assert loaded.ledger.frame().empty
    cells = loaded.ledger.cells_frame()
    assert cells[["column", "value", "reason_code"]].values.tolist() == [["q_overall", "满意了", "code_out_of_range"]]
    assert counts["cells_cleared"].sum() == len(cells)
    assert len(loaded.tables["survey"]) == sum(truth.survey_rows.values())

    # every filled answer of the questionnaires is read, an N/A answer, a skip marker, or a cleared cell
    survey = loaded.tables["survey"]
    for file, prefix in (("data/问卷星_群众版.xlsx", "群众-"), ("data/问卷星_企业版.csv", "企业-")):
        raw = read_table(folder / file).frame
        mine = survey[survey["response_id"].str.startswith(prefix)].reset_index(drop=True)
        assert mine["response_id"].tolist() == [prefix + r for r in raw["序号"]]
        for question, item in ((raw.columns[8], "q_overall"), ("4(服务态度满意度)", "q_courtesy"),
                               (raw.columns[14], "q_easier")):
            text = raw[question]
            marker = text.isin(["(跳过)", "(空)"])
            na = text.isin(["不了解", "不适用"])
            lost = ((cells["file"] == file) & (cells["column"] == item)).sum()
            assert mine[item].notna().sum() + marker.sum() + na.sum() + lost == text.notna().sum(), (file, item)


def test_wjx_conventions_are_read_as_the_platform_means_them(exports):
    folder, truth, loaded, _ = exports
    survey = loaded.tables["survey"]
    raw = pd.concat([read_table(folder / f).frame for f in truth.survey_rows], ignore_index=True)
    # 所用时间 with units, in seconds
    expected = raw["所用时间"].map(lambda t: truth.durations.get(t, 41.0 if t == "41秒" else np.nan))
    assert np.allclose(survey["duration_sec"].to_numpy(dtype=float), expected.to_numpy(dtype=float))
    # the skip markers are item non-response, never a cleared cell
    # (the two questionnaires number the question differently: one column each)
    skipped = raw.filter(like="与一年前相比").bfill(axis=1).iloc[:, 0].eq("(跳过)").fillna(False)
    assert skipped.sum() > 10 and survey.loc[skipped.to_numpy(dtype=bool), "q_easier"].isna().all()
    assert survey["comment"].isin(["(空)"]).sum() == 0
    # the questionnaire's respondent types, recoded in the project
    assert set(survey["respondent_type"]) == {"citizen", "enterprise"}
    assert (survey.loc[raw["2、您的身份："].isin(["企业（含个体工商户）", "个体户"]).to_numpy(), "respondent_type"]
            == "enterprise").all()
    # 很满意 read as 5 (a recode); the platform's IP address kept as a hash only
    assert (survey.loc[raw["3、总体满意度："].isin(["很满意"]).to_numpy(), "q_overall"] == 5).all()
    assert "ip_address" not in survey.columns and survey["ip_address_hash"].notna().all()
    assert survey["response_id"].is_unique


def test_known_platform_columns_raise_no_warning(tmp_path):
    write_exports(tmp_path)
    project = load_project(tmp_path / "project.toml")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_year(project, project.load_framework(), 2024)
    texts = [str(w.message) for w in caught if issubclass(w.category, MinpingWarning)]
    assert not [t for t in texts if "are ignored" in t], texts
    # the one unreadable answer is named, with the line that would read it
    (named,) = [t for t in texts if "could not be read" in t]
    assert "'满意了' (1)" in named and '"满意了" = ""' in named and "[tables.survey.recode.q_overall]" in named


def test_the_call_log_is_read_one_row_per_call(exports):
    _, truth, loaded, framework = exports
    from surveys.callbacks import final_dispositions

    calls = loaded.tables["callback_attempts"]
    assert len(calls) == truth.calls
    # numbered by call time within each case
    ordered = calls.sort_values(["case_id", "attempt_no"])
    assert (ordered.groupby("case_id")["called_at"].apply(lambda t: t.is_monotonic_increasing)).all()
    assert (ordered.groupby("case_id")["attempt_no"].apply(lambda n: n.tolist() == list(range(1, len(n) + 1)))).all()
    # the interview of a case is its connected call with answers: one per completed case, none quarantined
    interviews = loaded.tables["callback_interviews"]
    assert len(interviews) == truth.interviews and interviews["case_id"].is_unique
    assert interviews["cb_overall"].notna().all()
    # the final disposition of every case is the one it was written with
    final = final_dispositions(calls).set_index("case_id")["disposition"]
    assert final.to_dict() == {case: status for case, (_, status) in truth.cases.items()}
    assert loaded.data.recordable >= {"complete", "never_handled", "wrong_number", "refusal"}


def test_g1_and_the_aapor_rates_follow_from_the_log(exports):
    _, truth, loaded, framework = exports
    from evaluation.quality import callback_quality

    quality = callback_quality(loaded.data).set_index("department_id")
    ids = framework.name_lookup()
    cases = pd.DataFrame([(ids[d], s) for d, s in truth.cases.values()], columns=["department_id", "status"])
    got = cases.groupby("department_id")["status"].value_counts().unstack(fill_value=0)
    g1 = 100 * got["complete"] / (got["complete"] + got.get("never_handled", 0))
    assert np.allclose(quality.loc[g1.index, "g1_authenticity"], g1)
    assert np.allclose(quality.loc[got.index, "callback_completion"], got["complete"] / got.sum(axis=1))
    assert quality["rr1"].between(0, 1).all()
    padded = ids[DEPARTMENTS[-1]]
    assert quality.loc[padded, "g1_authenticity"] < 80


def test_the_two_rater_checklist_reads_without_a_mapping_of_its_items(exports):
    _, truth, loaded, framework = exports
    visits = loaded.tables["visits"]
    assert len(visits) == truth.visits and set(visits["rater"]) == {"张三", "李四"}
    items = framework.item_ids("visits", kind="checklist")
    assert visits[list(items)].notna().mean().mean() > 0.9
    assert visits["wait_minutes"].between(3, 40).all() and visits["checklist_score"].between(0, 1).all()


def test_staff_filled_questionnaires_are_flagged(exports):
    _, truth, loaded, framework = exports
    flags = loaded.ledger.flags_frame().set_index(["flag", "department_id"])
    dept = framework.name_lookup()[truth.burst_department]
    assert flags.loc[("same_source", dept), "n"] == truth.burst_rows
    assert flags.loc[("identical_text", dept), "n"] >= truth.burst_rows
    assert (loaded.tables["survey"]["comment"] == PRAISE).sum() == truth.burst_rows  # flagged, kept


def test_variant_with_unknown_labels_stops_with_the_lines_to_add_and_reads_once_they_are_added(tmp_path, capsys):
    truth = write_exports(tmp_path, variant="unknown_labels")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MinpingWarning)
        assert main(["validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "column 'q_overall' of table 'survey' lost" in err and "[tables.survey.recode.q_overall]" in err
    for value, n in truth.unreadable.items():
        assert f"'{value}'" in err and f'"{value}" = ""' in err
    # the lines, filled in, read them
    lines = "\n[tables.survey.recode.q_overall]\n" + "\n".join(
        f'"{v}" = {c}' for v, c in {"很好": 4, "还可以": 3, "一般般": 3, "满意了": 4, "很满意": 5}.items()) + "\n"
    text = (tmp_path / "project.toml").read_text(encoding="utf-8").replace('[tables.survey.recode.q_overall]\n"很满意" = 5\n', "")
    (tmp_path / "project.toml").write_text(text + lines, encoding="utf-8")
    loaded, _ = load(tmp_path)
    assert loaded.ledger.cells_frame().empty and loaded.tables["survey"]["q_overall"].notna().mean() > 0.9


def test_variant_with_broken_durations_names_them(tmp_path):
    write_exports(tmp_path, variant="broken_durations")
    with pytest.raises(DataValidationError) as info:
        load(tmp_path)
    text = str(info.value)
    assert "column 'duration_sec' of table 'survey' lost" in text and "bad_duration" in text
    assert all(f'"{v}" = ""' in text for v in ("八十六秒", "约2分钟", "2:15"))
    assert "accept_loss" in text
    # accepted for these inputs: the durations are cleared, the questionnaires used
    text = (tmp_path / "project.toml").read_text(encoding="utf-8").replace('id_prefix = "群众-"',
                                                                          'id_prefix = "群众-"\naccept_loss = 0.5')
    (tmp_path / "project.toml").write_text(text.replace('id_prefix = "企业-"', 'id_prefix = "企业-"\naccept_loss = 0.5'),
                                           encoding="utf-8")
    loaded, _ = load(tmp_path)
    cells = loaded.ledger.cells_frame()
    assert set(cells.loc[cells["column"] == "duration_sec", "value"]) == {"八十六秒", "约2分钟", "2:15"}
    assert loaded.ledger.frame().empty


def test_variant_with_unknown_call_results_stops_with_the_lines_to_add(tmp_path):
    truth = write_exports(tmp_path, variant="unknown_results")
    with pytest.raises(DataValidationError) as info:
        load(tmp_path)
    (problem,) = info.value.problems
    assert problem.code == "unknown_call_result" and problem.column == "outcome"
    assert "[tables.callback_attempts.recode.outcome]" in problem.fix
    for value in ("转人工", "呼损"):
        n = truth.unreadable[value]
        assert f"'{value}' ({n})" in problem.message and f'"{value}" = ""   # {n} in the file' in problem.fix
    text = (tmp_path / "project.toml").read_text(encoding="utf-8")
    (tmp_path / "project.toml").write_text(
        text + '\n[tables.callback_attempts.recode.outcome]\n"转人工" = "other"\n"呼损" = "no_answer"\n', encoding="utf-8")
    loaded, _ = load(tmp_path)
    assert len(loaded.tables["callback_attempts"]) == truth.calls


def test_call_results_that_cannot_record_never_handled_leave_g1_unassessed(tmp_path):
    from evaluation.coverage import checks
    from evaluation.quality import callback_quality

    write_exports(tmp_path, variant="no_never_handled")
    loaded, framework = load(tmp_path)
    assert "never_handled" not in loaded.data.recordable
    g1 = checks(loaded.data, framework).set_index("check").loc["G1_authenticity"]
    assert not g1["assessed"] and g1["reason_code"] == "vocabulary_cannot_record"
    assert callback_quality(loaded.data)["g1_authenticity"].isna().all()
    # the centre's code for it, declared although it did not occur this year: G1 is measured (100%)
    text = (tmp_path / "project.toml").read_text(encoding="utf-8")
    (tmp_path / "project.toml").write_text(text + '\n[tables.callback_attempts.recode.outcome]\n"非本人" = "never_handled"\n',
                                           encoding="utf-8")
    loaded, framework = load(tmp_path)
    assert checks(loaded.data, framework).set_index("check").loc["G1_authenticity", "assessed"]
    assert (callback_quality(loaded.data)["g1_authenticity"] == 100).all()


def test_a_boolean_parquet_column_for_a_likert_item_is_a_structural_error(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 40
    pq.write_table(pa.table({
        "问卷编号": [f"S{i}" for i in range(n)], "部门": ["税务局"] * n, "调查日期": ["2024-03-05"] * n,
        "总体满意度": pa.array([i % 2 == 0 for i in range(n)]), "是否受到公平对待": pa.array([True] * n)}),
        tmp_path / "survey.parquet")
    (tmp_path / "project.toml").write_text(
        '[project]\nyears = [2024]\nsalt = "s"\n[[inputs]]\nyear = 2024\ntable = "survey"\npath = "survey.parquet"\n'
        '[inputs.columns]\n"是否受到公平对待" = "q_fair"\n', encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        load(tmp_path)
    found = {(p.column, p.code) for p in info.value.problems}
    assert found == {("总体满意度", "column_type"), ("是否受到公平对待", "column_type")}
    assert all(p.file == str(tmp_path / "survey.parquet") for p in info.value.problems)
    assert "q_overall" in str(info.value) and "bool" in str(info.value)
