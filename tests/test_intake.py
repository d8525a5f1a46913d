"""The pieces of reading exports as they come, each by hand: presets, recodes, durations, call logs, screens,
the cells of the ledger, the loss check, comment themes and the G1 vocabulary."""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pandas as pd
import pytest

from surveys.callbacks import CALL_RESULTS, DISPOSITIONS, number_attempts, recordable_dispositions, resolve_connected
from surveys.errors import DataValidationError, FrameworkError, MinpingWarning
from surveys.framework import CommentTheme, load_framework
from surveys.ingest import load_year
from surveys.ledger import Ledger
from surveys.normalize import parse_durations
from surveys.presets import available_presets, header_key, load_preset
from surveys.project import load_project
from surveys.schema import ChannelData


@pytest.fixture(scope="module")
def framework():
    return load_framework()


def project(tmp_path, inputs: list[dict], extra: str = ""):
    """A 2024 project; each input: table, rows (header first), and optional TOML lines."""
    lines = ["[project]", "years = [2024]", 'salt = "s"', extra]
    for k, spec in enumerate(inputs):
        name = spec.get("name", f"in{k}.csv")
        with open(tmp_path / name, "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(spec["rows"])
        lines += ["[[inputs]]", "year = 2024", f'table = "{spec["table"]}"', f'path = "{name}"', *spec.get("toml", [])]
    (tmp_path / "project.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_project(tmp_path / "project.toml")


def load(tmp_path, framework, inputs, extra=""):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MinpingWarning)
        return load_year(project(tmp_path, inputs, extra), framework, 2024)


def survey_rows(n=12, **columns):
    header = ["response_id", "department_id", "interview_date", *columns]
    rows = [header]
    for i in range(n):
        rows.append([f"S{i}", ("税务局", "公安局")[i % 2], "2024-03-05",
                     *[v[i] if isinstance(v, list) else v for v in columns.values()]])
    return rows


# ------------------------------------------------------------------------------------------ presets


@pytest.mark.parametrize("name", available_presets())
def test_every_shipped_preset_loads_and_says_what_it_assumes(name):
    preset = load_preset(name)
    assert preset.tables == ("survey",) and preset.columns and preset.missing and preset.numbering
    assert set(preset.columns.values()) <= {"response_id", "interview_date", "duration_sec", "ip_address", "device_id"}
    text = (preset.source and open(preset.source, encoding="utf-8").read())
    assert "What this preset assumes" in text


def test_the_presets_shipped_are_the_three_platforms():
    assert available_presets() == ("tencent", "wenjuan", "wjx")


@pytest.mark.parametrize("header, text", [
    ("3、您对本次办事的总体满意度：", "您对本次办事的总体满意度"),
    ("6(服务态度)", "服务态度"),
    ("Q3.总体满意度", "总体满意度"),
    ("第3题：总体满意度", "总体满意度"),
    ("3.您的身份 [单选题]", "您的身份"),
    ("１２．意见建议（多行文本题）", "意见建议"),
    ("问卷编号", "问卷编号"),
    ("Q1总体满意度", "Q1总体满意度"),       # no separator: not a question number
    ("2024年受理件数", "2024年受理件数"),
])
def test_question_numbering_and_type_notes_are_stripped(header, text):
    assert header_key(load_preset("tencent").clean(header)) == header_key(text)


def test_an_unknown_preset_or_one_for_another_table_is_refused_with_a_fix(tmp_path):
    with pytest.raises(FrameworkError) as info:
        project(tmp_path, [{"table": "survey", "rows": [["a"]], "toml": ['preset = "wxj"']}])
    assert "did you mean 'wjx'" in str(info.value)
    with pytest.raises(FrameworkError) as info:
        project(tmp_path, [{"table": "visits", "rows": [["a"]], "toml": ['preset = "wjx"']}])
    assert "preset 'wjx' is for table(s) survey" in str(info.value)


def test_reading_keys_are_checked_when_the_project_loads(tmp_path):
    rows = [["a"]]
    bad = [['accept_loss = 1.5'], ['accept_loss = "yes"'], ['missing = [1, 2]'], ['id_prefix = 3'],
           ['[inputs.recode.q_overall]', '"很满意" = ""'], ['[inputs.recode.q_overall]', '"很满意" = true'],
           ['[inputs.recodes.q_overall]', '"很满意" = 5']]
    for toml in bad:
        with pytest.raises(FrameworkError):
            project(tmp_path, [{"table": "survey", "rows": rows, "toml": toml}])
    good = project(tmp_path, [{"table": "survey", "rows": rows, "toml": ["accept_loss = true", 'missing = ["未答"]']}],
                   extra='[tables.survey]\nmissing = ["(跳过)"]\n[tables.survey.recode.q_overall]\n"很满意" = 5')
    (spec,) = good.inputs
    assert spec.accept_loss == 1.0 and spec.missing == ("(跳过)", "未答") and spec.recode == {"q_overall": {"很满意": 5}}


# ------------------------------------------------------------------------------------------ recodes


def test_recodes_read_several_labels_as_one_value_before_validation(tmp_path, framework):
    rows = survey_rows(q_overall=["很满意", "还行", "说不清", "5", "非常满意", "满意"] * 2,
                       respondent_type=["个体户", "企业（含个体工商户）", "群众", "个人", "民企", "企业"] * 2)
    toml = ["[inputs.recode.q_overall]", '"很满意" = 5', '"还行" = "基本满意"', '"说不清" = "na"',
            '[inputs.recode."您的身份"]', '"个体户" = "enterprise"', '"企业（含个体工商户）" = "企业"', '"民企" = "enterprise"',
            "[inputs.columns]", '"您的身份" = "respondent_type"']
    rows[0][4] = "您的身份"
    loaded = load(tmp_path, framework, [{"table": "survey", "rows": rows, "toml": toml}])
    survey = loaded.tables["survey"]
    assert np.allclose(survey["q_overall"].fillna(-1).tolist()[:6], [5, 3, -1, 5, 5, 4])  # 说不清: N/A
    assert survey["respondent_type"].tolist()[:6] == ["enterprise", "enterprise", "citizen", "citizen", "enterprise",
                                                       "enterprise"]
    assert loaded.ledger.cells_frame().empty


@pytest.mark.parametrize("column, target, words", [
    ("q_overall", "7", "not a code of scale 'satisfaction'"),
    ("q_overall", "很好", "not a code or label of the scale"),
    ("respondent_type", "company", "not a value of the column"),
    ("outcome", "done", "not a disposition or a known call result"),
    ("nonsense", "x", "neither a column of table"),
])
def test_a_recode_to_something_the_column_cannot_hold_is_refused(tmp_path, framework, column, target, words):
    table = "callback_attempts" if column == "outcome" else "survey"
    rows = survey_rows() if table == "survey" else [["case_id", "department_id", "outcome", "called_at"],
                                                    ["C1", "税务局", "接通", "2024-03-05 10:00"]]
    with pytest.raises(DataValidationError) as info:
        load(tmp_path, framework, [{"table": table, "rows": rows, "toml": [f"[inputs.recode.{column}]",
                                                                            f'"x" = "{target}"']}])
    assert words in str(info.value)


def test_item_nonresponse_markers_are_missing_not_bad(tmp_path, framework):
    rows = survey_rows(q_overall=["(跳过)", "(空)", "-3", "满意"] * 3, comment=["(空)", "好", "", "(跳过)"] * 3)
    loaded = load(tmp_path, framework, [{"table": "survey", "rows": rows, "toml": ['missing = ["(跳过)", "(空)", "-3"]']}])
    survey = loaded.tables["survey"]
    assert survey["q_overall"].notna().sum() == 3 and survey["comment"].notna().sum() == 3
    assert loaded.ledger.cells_frame().empty and loaded.ledger.frame().empty


# ------------------------------------------------------------------------------------------ durations


def test_durations_are_read_in_seconds():
    values, bad = parse_durations(pd.Series(["86秒", "2分15秒", "1小时2分3秒", "120", "0:02:15", "2:15", "八十六秒",
                                             "３分钟", "—", None]))
    assert values.tolist()[:5] == [86, 135, 3723, 120, 135] and values.iloc[7] == 180
    assert bad.tolist() == [False] * 5 + [True, True, False, False, False]


# ------------------------------------------------------------------------------------------ cells and the loss check


def test_a_bad_optional_cell_costs_the_cell_and_a_bad_required_one_the_row(tmp_path, framework):
    rows = survey_rows(q_overall=["满意"] * 12, q_speed=["满意"] * 12, duration_sec=["86秒"] * 12)
    rows[2][3] = "满意了"              # an answer: the cell
    rows[3][5] = "很久"                 # a duration: the cell
    rows[4][2] = "三月五日"             # the interview date: the row
    loaded = load(tmp_path, framework, [{"table": "survey", "rows": rows}])
    cells = loaded.ledger.cells_frame()
    assert cells[["source_row", "column", "value", "reason_code"]].values.tolist() == [
        [3, "q_overall", "满意了", "code_out_of_range"], [4, "duration_sec", "很久", "bad_duration"]]
    assert loaded.ledger.frame()[["source_row", "reason_code"]].values.tolist() == [[5, "bad_date"]]
    survey = loaded.tables["survey"].set_index("response_id")
    assert np.isnan(survey.loc["S1", "q_overall"]) and survey.loc["S1", "q_speed"] == 4
    counts = loaded.ledger.counts_frame().iloc[0]
    assert (counts["rows_in"], counts["rows_used"], counts["rows_quarantined"], counts["cells_cleared"]) == (12, 11, 1, 2)


def test_a_design_column_still_quarantines_the_row(tmp_path, framework):
    rows = survey_rows(weight=["1.5"] * 12)
    rows[2][3] = "一点五"
    loaded = load(tmp_path, framework, [{"table": "survey", "rows": rows, "toml": ["[inputs.design]",
                                                                                 'weights = "weight"']}])
    assert loaded.ledger.frame()["reason_code"].tolist() == ["not_a_number"]
    assert loaded.ledger.cells_frame().empty


def test_a_row_set_aside_later_takes_its_cleared_cells_with_it():
    ledger = Ledger()
    ledger.count(file="f", table="survey", rows_in=3, rows_used=3)
    ledger.clear_cells(file="f", table="survey", column="q", source_rows=[2, 3], departments=["A", "B"],
                       values=["x", "y"], code="code_out_of_range")
    ledger.late_quarantine(pd.DataFrame({"_file": ["f"], "_row": [2], "_dept_text": ["A"]}), table="survey",
                           code="duplicate_respondent")
    assert ledger.cells_frame()["source_row"].tolist() == [3]
    assert ledger.counts_frame()[["rows_used", "rows_quarantined", "cells_cleared"]].values.tolist() == [[2, 1, 1]]


def test_losing_most_of_a_file_stops_unless_the_project_accepts_it(tmp_path, framework):
    rows = survey_rows(n=40)
    for r in rows[3:31]:
        r[2] = "2024年3月"              # a month is no interview date: 28 of 40 rows lost
    # 70%: more than the 20% the default framework allows
    with pytest.raises(DataValidationError) as info:
        load(tmp_path, framework, [{"table": "survey", "rows": rows}])
    text = str(info.value)
    assert "lost too much" in text and "lost 28 of its 40 rows (70%" in text and "bad_date 28" in text
    assert "accept_loss = 0.7" in text
    loaded = load(tmp_path, framework, [{"table": "survey", "rows": rows, "toml": ["accept_loss = 0.75"]}])
    assert len(loaded.tables["survey"]) == 12


def test_a_few_lost_rows_of_a_small_file_are_the_ledgers_business(tmp_path, framework):
    rows = survey_rows(n=8)
    for r in rows[1:5]:
        r[2] = "不详"
    loaded = load(tmp_path, framework, [{"table": "survey", "rows": rows}])
    assert len(loaded.ledger.frame()) == 4


# ------------------------------------------------------------------------------------------ call logs


def test_connected_calls_become_complete_with_answers_and_other_without():
    outcome = pd.Series(["connected", "connected", "connected", "refusal"])
    answered = pd.Series([True, False, pd.NA, pd.NA], dtype="boolean")
    interviewed = pd.Series([False, False, True, False])
    assert resolve_connected(outcome, answered, interviewed).tolist() == ["complete", "other", "complete", "refusal"]


def test_attempts_are_numbered_by_call_time_within_a_case():
    calls = pd.DataFrame({"department_id": ["A"] * 4, "case_id": ["C1", "C2", "C1", "C1"],
                          "called_at": pd.to_datetime(["2024-03-05 10:00", "2024-03-01 09:00", "2024-03-02 09:00",
                                                       "2024-03-09 09:00"]),
                          "_row": [2, 3, 4, 5]})
    assert number_attempts(calls, ["called_at", "_row"]).tolist() == [2, 1, 1, 3]


def test_the_call_result_vocabulary_records_only_dispositions():
    assert set(CALL_RESULTS.values()) <= {*DISPOSITIONS, "connected"}
    for word in ("接通", "无人接听", "空号", "停机", "关机", "忙音", "拒访", "非本人", "中途挂断"):
        assert word in CALL_RESULTS
    assert recordable_dispositions({"complete", "refusal"}, {"connected"}) == {"complete", "refusal", "other"}


def test_a_log_with_attempt_numbers_and_a_separate_interview_file_is_read_as_before(tmp_path, framework):
    attempts = [["case_id", "department_id", "attempt_no", "called_at", "outcome"],
                ["C1", "税务局", "1", "2024-03-05 10:00", "无人接听"], ["C1", "税务局", "2", "2024-03-06 10:00", "接通"],
                ["C2", "税务局", "1", "2024-03-05 11:00", "接通"]]
    interviews = [["case_id", "department_id", "cb_overall"], ["C1", "税务局", "5"]]
    loaded = load(tmp_path, framework, [{"table": "callback_attempts", "rows": attempts},
                                        {"table": "callback_interviews", "rows": interviews}])
    calls = loaded.tables["callback_attempts"].sort_values(["case_id", "attempt_no"])
    # 接通 with an interview on file is the completed call; 接通 without one is a contact without interview
    assert calls["outcome"].tolist() == ["no_answer", "complete", "other"]
    assert loaded.ledger.frame().empty and len(loaded.tables["callback_interviews"]) == 1


def test_the_same_call_exported_twice_is_a_duplicate(tmp_path, framework):
    log = [["工单编号", "部门", "呼叫时间", "呼叫结果"], ["C1", "税务局", "2024-03-05 10:00", "无人接听"],
           ["C1", "税务局", "2024-03-05 10:00", "无人接听"], ["C1", "税务局", "2024-03-06 10:00", "拒访"]]
    toml = ["[inputs.columns]", '"工单编号" = "case_id"', '"部门" = "department_id"', '"呼叫时间" = "called_at"',
            '"呼叫结果" = "outcome"']
    loaded = load(tmp_path, framework, [{"table": "callback_attempts", "rows": log, "toml": toml}])
    assert loaded.ledger.frame()[["source_row", "reason_code"]].values.tolist() == [[3, "duplicate_id"]]
    assert loaded.tables["callback_attempts"]["attempt_no"].tolist() == [1, 2]


def test_a_log_without_attempt_numbers_or_call_times_is_refused(tmp_path, framework):
    log = [["case_id", "department_id", "outcome"], ["C1", "税务局", "接通"]]
    with pytest.raises(DataValidationError) as info:
        load(tmp_path, framework, [{"table": "callback_attempts", "rows": log}])
    assert info.value.problems[0].code == "missing_key" and "called_at" in str(info.value)


# ------------------------------------------------------------------------------------------ screens


def test_bursts_from_one_source_and_identical_texts(tmp_path, framework):
    n = 14
    times = [f"2024-03-05 10:{m:02d}:00" for m in range(0, 8)] + [f"2024-0{m}-11 09:00:00" for m in range(3, 9)]
    ips = ["10.0.0.1(湖北-荆州)"] * 6 + ["10.0.0.1(湖北-武汉)", "10.0.0.2"] + [f"10.0.1.{i}" for i in range(6)]
    comments = ["服务态度非常好，办事效率非常高！"] * 3 + ["服务态度非常好 办事效率非常高"] + ["很好"] * 5 + [""] * 5
    rows = [["response_id", "department_id", "interview_date", "ip_address", "comment"]]
    rows += [[f"S{i}", "税务局", times[i], ips[i], comments[i]] for i in range(n)]
    loaded = load(tmp_path, framework, [{"table": "survey", "rows": rows}])
    flags = loaded.ledger.flags_frame().set_index("flag")
    assert flags.loc["same_source", "n"] == 7          # one address (two places it resolved to), seven in 6 minutes
    assert flags.loc["identical_text", "n"] == 4       # 很好 is too short to tell anything
    assert "ip_address" not in loaded.tables["survey"].columns


def test_the_burst_screen_needs_times_of_day(tmp_path, framework):
    rows = [["response_id", "department_id", "interview_date", "ip_address"]]
    rows += [[f"S{i}", "税务局", "2024-03-05", "10.0.0.1"] for i in range(8)]
    with pytest.warns(MinpingWarning, match="time of day"):
        loaded = load_year(project(tmp_path, [{"table": "survey", "rows": rows}]), framework, 2024)
    assert "same_source" not in set(loaded.ledger.flags_frame()["flag"])


def test_screens_can_quarantine(tmp_path, framework):
    from dataclasses import replace

    rows = [["response_id", "department_id", "interview_date", "comment"]]
    rows += [[f"S{i}", "税务局", "2024-03-05", "材料一次告知，服务非常周到" if i < 3 else f"第{i}位"] for i in range(6)]
    strict = replace(framework, screens=replace(framework.screens, identical_text="quarantine"))
    loaded = load(tmp_path, strict, [{"table": "survey", "rows": rows}])
    assert loaded.ledger.frame()["reason_code"].tolist() == ["screened_identical_text"] * 3
    assert len(loaded.tables["survey"]) == 3


# ------------------------------------------------------------------------------------------ comments


def test_comment_themes_by_hand(framework):
    from evaluation.comments import COMMENT_THEME_COLUMNS, comment_themes

    survey = pd.DataFrame({
        "department_id": ["A03", "A03", "A03", "A03", "C03", "C03"],
        "comment": ["排队时间太长，材料太多", "不用排队，很方便", "跑了好几趟，电话打不通，我的手机 13912345678", None,
                    "排队太久了", "收费合理，没有乱收费"]})
    interviews = pd.DataFrame({"department_id": ["A03"], "comment": ["窗口推来推去"]})
    table = comment_themes(ChannelData(2024, {"survey": survey, "callback_interviews": interviews}), framework)
    assert list(table.columns) == COMMENT_THEME_COLUMNS
    got = {(r.department_id, r.theme): r.n for r in table.itertuples()}
    assert got == {("A03", "queue"): 1, ("A03", "documents"): 1, ("A03", "repeat_trips"): 1,
                   ("A03", "unclear"): 1, ("A03", "buck_passing"): 1, ("C03", "queue"): 1}
    a03 = table[table["department_id"] == "A03"]
    assert (a03["n_comments"] == 4).all() and np.allclose(a03["share"], 0.25)
    quote = a03.set_index("theme").loc["repeat_trips", "examples"]
    assert "139****5678" in quote and "13912345678" not in quote and quote.startswith("“")


def test_a_framework_extends_the_lexicon():
    import tomllib

    from surveys.framework import DEFAULT_FRAMEWORK, parse_framework

    data = tomllib.loads(DEFAULT_FRAMEWORK.read_text(encoding="utf-8"))
    data["comment_themes"] = [{"id": "parking", "name": "停车难", "name_en": "Parking", "keywords": ["停车难", "没地方停车"]},
                              {"id": "fees", "name": "收费", "keywords": ["乱收费"]}]
    fw = parse_framework(data)
    ids = [t.id for t in fw.comment_themes]
    assert ids[-1] == "parking" and ids.count("fees") == 1
    assert fw.comment_themes[ids.index("fees")] == CommentTheme("fees", "收费", "收费", ("乱收费",))
    data["comment_themes"] = [{"id": "x"}]
    with pytest.raises(FrameworkError, match="no keywords"):
        parse_framework(data)


# ------------------------------------------------------------------------------------------ G1


def test_g1_is_not_assessed_when_the_call_results_cannot_record_never_handled(framework):
    from evaluation.coverage import checks

    calls = pd.DataFrame({"department_id": ["A03"], "case_id": ["C1"], "outcome": ["complete"]})
    row = lambda data: checks(data, framework).set_index("check").loc["G1_authenticity"]  # noqa: E731
    assert row(ChannelData(2024, {"callback_attempts": calls}))["assessed"]
    unable = row(ChannelData(2024, {"callback_attempts": calls}, recordable=frozenset({"complete", "refusal"})))
    assert not unable["assessed"] and unable["reason_code"] == "vocabulary_cannot_record"
    assert "never-handled" in unable["reason_en"] and "非本人办理" in unable["reason_zh"]
