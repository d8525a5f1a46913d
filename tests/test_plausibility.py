"""Plausibility rules (surveys.plausibility): values that parse but cannot be true never reach an estimate.

Each defect below changed a grade without a warning before the rules
existed: a weight with a lost decimal point, a weight of 1e300, callback
interviews no call produced, administrative rates of 300%, a rectification
dated 1970 or before its rating.  Every test loads a small project through
:func:`surveys.ingest.load_year` with the shipped framework, whose
``[plausibility]`` defaults are the ones under test, and checks the mode's
outcome: ``stop`` (one error naming file, rows, column, values and fix),
``quarantine`` (rows in the ledger, books reconciled) or ``flag`` (rows kept,
the department flagged in the ledger's flag table).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from surveys.errors import DataValidationError, FrameworkError, MinpingWarning
from surveys.framework import PLAUSIBILITY_MODES, Plausibility, load_framework, parse_framework
from surveys.ingest import load_year
from surveys.project import load_project

DEPTS = ("税务局", "公安局", "民政局")


@pytest.fixture(scope="module")
def framework():
    return load_framework()


def with_rules(framework, **modes):
    return dataclasses.replace(framework, plausibility=dataclasses.replace(framework.plausibility, **modes))


def write_project(folder, tables: dict[str, list[list]], designs: dict[str, dict] | None = None):
    """One input per table, canonical headers, year 2024 (calendar period)."""
    lines = ["[project]", 'name = "plausibility"', 'framework = "default"', "years = [2024]", 'salt = "s"']
    for name, rows in tables.items():
        file = folder / f"{name}.csv"
        with open(file, "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(rows)
        lines += ["[[inputs]]", "year = 2024", f'table = "{name}"', f'path = "{file.name}"']
        if designs and name in designs:
            lines += ["[inputs.design]"] + [f'{k} = "{v}"' for k, v in designs[name].items()]
    (folder / "project.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_project(folder / "project.toml")


def survey(weights: dict[int, object] | None = None, n: int = 12) -> list[list]:
    """``n`` survey rows over three departments, weight 212.7348 unless given (by spreadsheet row)."""
    rows = [["response_id", "department_id", "interview_date", "q_overall", "weight"]]
    for i in range(n):
        row = i + 2
        rows.append([f"S{i:03d}", DEPTS[i % 3], "2024-03-05", str(4 + i % 2),
                     str((weights or {}).get(row, "212.7348"))])
    return rows


def load(tmp_path, framework, tables, designs=None):
    return load_year(write_project(tmp_path, tables, designs), framework, 2024)


def stopped(tmp_path, framework, tables, designs=None) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        load(tmp_path, framework, tables, designs)
    return info.value


def reconciled(loaded) -> None:
    counts = loaded.ledger.counts_frame()
    assert (counts["rows_in"] == counts["rows_used"] + counts["rows_quarantined"]).all()
    ledger = loaded.ledger.frame()
    per_file = ledger.drop_duplicates(["file", "source_row"]).groupby("file").size()
    for rec in counts.to_dict(orient="records"):
        assert per_file.get(rec["file"], 0) == rec["rows_quarantined"], rec


# ---------------------------------------------------------------- the framework section


def test_defaults_are_declared_in_the_shipped_framework(framework):
    assert framework.plausibility == Plausibility()
    rules = framework.plausibility
    assert {getattr(rules, r) for r in rules.rules} <= set(PLAUSIBILITY_MODES)
    assert rules.weight_outlier == "stop" and rules.weight_invalid == "stop" and rules.implausible_date == "stop"
    assert rules.earliest_date == dt.date(2015, 1, 1) and rules.weight_ratio == 50 and rules.late_days == 90
    from surveys.framework import DEFAULT_FRAMEWORK

    text = DEFAULT_FRAMEWORK.read_text(encoding="utf-8")
    section = text[text.index("[plausibility]"):text.index("[[categories]]")]
    for name in Plausibility.__dataclass_fields__:
        assert f"\n{name} = " in section, name  # every rule and setting is written out, with its comment


def test_every_rule_has_a_reason_and_a_fix():
    from surveys.ledger import REASONS
    from surveys.plausibility import FIXES

    for rule in Plausibility().rules:
        assert rule in REASONS and rule in FIXES


def minimal(**section) -> dict:
    import tomllib

    from surveys.framework import DEFAULT_FRAMEWORK

    data = tomllib.loads(DEFAULT_FRAMEWORK.read_text(encoding="utf-8"))
    data["plausibility"] = section
    return data


def test_unknown_keys_and_bad_values_are_errors_with_a_suggestion():
    with pytest.raises(FrameworkError) as info:
        parse_framework(minimal(weight_ration=30, rate_above_100="quarantined", weight_ratio=1,
                                late_days=-1, earliest_date="2015-13-01"))
    message = str(info.value)
    assert "unknown setting 'weight_ration'" in message and "did you mean 'weight_ratio'?" in message
    assert "'quarantined' is not a mode" in message and "did you mean 'quarantine'?" in message
    assert "weight_ratio = 1 is not a factor above 1" in message
    assert "late_days = -1" in message and "earliest_date = '2015-13-01' is not a date" in message
    assert len(info.value.problems) == 5


def test_settings_parse_into_the_frozen_dataclass():
    fw = parse_framework(minimal(weight_outlier="flag", weight_ratio=20, earliest_date=dt.date(2018, 1, 1),
                                 late_days=30))
    assert fw.plausibility == Plausibility(weight_outlier="flag", weight_ratio=20.0,
                                           earliest_date=dt.date(2018, 1, 1), late_days=30)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fw.plausibility.weight_ratio = 3


# ---------------------------------------------------------------- weights


def test_a_weight_with_a_lost_decimal_point_stops_the_run(tmp_path, framework):
    error = stopped(tmp_path, framework, {"survey": survey({5: "2127348"})}, {"survey": {"weights": "weight"}})
    (problem,) = error.problems
    assert problem.code == "weight_outlier" and problem.column == "weight"
    assert problem.file.endswith("survey.csv") and problem.row == 5
    text = str(error)
    assert "weight=2127348" in text and "10,000 times the median 212.7348" in text
    assert "decimal point" in problem.fix and "weight_ratio" in problem.fix and "quarantine" in problem.fix


def test_a_weight_with_a_misplaced_decimal_point_the_other_way(tmp_path, framework):
    error = stopped(tmp_path, framework, {"survey": survey({3: "0.2127348", 4: "2.127348"})},
                    {"survey": {"weights": "weight"}})
    (problem,) = error.problems
    assert "2 row(s): rows 3 and 4" in str(error) and "weight=0.2127348, 1/1,000 of the median 212.7348" in str(error)
    assert "weight=2.127348, 1/100 of the median" in str(error)


def test_weight_outliers_in_quarantine_and_flag_mode(tmp_path, framework):
    tables = {"survey": survey({5: "2127348"})}
    design = {"survey": {"weights": "weight"}}
    loaded = load(tmp_path, with_rules(framework, weight_outlier="quarantine"), tables, design)
    ledger = loaded.ledger.frame()
    assert ledger[["source_row", "reason_code"]].values.tolist() == [[5, "weight_outlier"]]
    assert "2127348" in ledger["reason_en"].iloc[0]
    assert loaded.tables["survey"]["weight"].max() == pytest.approx(212.7348)
    reconciled(loaded)
    loaded = load(tmp_path, with_rules(framework, weight_outlier="flag"), tables, design)
    assert loaded.ledger.frame().empty and loaded.tables["survey"]["weight"].max() == 2127348
    flags = loaded.ledger.flags_frame()
    assert flags[["table", "department_id", "flag", "n"]].values.tolist() == [
        ["survey", framework.name_lookup()[DEPTS[0]], "weight_outlier", 1]]
    assert flags["detail"].iloc[0].startswith("kept; e.g. survey.csv row 5: weight=2127348")


def test_weights_are_compared_within_department_and_stratum(tmp_path, framework):
    rows = survey(n=12)
    rows[0].append("stratum")
    for i, row in enumerate(rows[1:]):
        # two strata of each department with weights 100 times apart: legitimate, not outliers
        stratum = "enterprise" if i % 2 else "citizen"
        row[4] = "2.5" if stratum == "enterprise" else "250"
        row.append(stratum)
    error = stopped(tmp_path, framework, {"survey": rows}, {"survey": {"weights": "weight"}})
    assert {p.code for p in error.problems} == {"weight_outlier"}
    loaded = load(tmp_path, framework, {"survey": rows}, {"survey": {"weights": "weight", "strata": "stratum"}})
    assert loaded.ledger.frame().empty and len(loaded.tables["survey"]) == 12


@pytest.mark.parametrize("value", ["1e300", "0", "-3", "", "1e400"])
def test_invalid_weights_stop_the_run(tmp_path, framework, value):
    error = stopped(tmp_path, framework, {"survey": survey({4: value})}, {"survey": {"weights": "weight"}})
    (problem,) = error.problems
    assert problem.code == "weight_invalid" and problem.row == 4 and problem.column == "weight"


def test_weights_are_only_checked_where_the_design_declares_them(tmp_path, framework):
    loaded = load(tmp_path, framework, {"survey": survey({4: "2127348"})})
    assert loaded.ledger.frame().empty


def test_a_design_column_the_table_lacks_is_a_structural_problem(tmp_path, framework):
    rows = [["case_id", "department_id", "cb_overall"], ["C1", DEPTS[0], "4"]]
    error = stopped(tmp_path, framework, {"callback_interviews": rows},
                    {"callback_interviews": {"weights": "w"}})
    (problem,) = error.problems
    assert problem.code == "design_column_missing" and "'w' as weights" in str(error)


# ---------------------------------------------------------------- callbacks


def attempts(cases: dict[str, list[str]]) -> list[list]:
    rows = [["case_id", "department_id", "attempt_no", "called_at", "outcome"]]
    for case, outcomes in cases.items():
        for k, outcome in enumerate(outcomes, start=1):
            rows.append([case, DEPTS[0], str(k), f"2024-04-0{k}", outcome])
    return rows


def interviews(cases: list[str]) -> list[list]:
    return [["case_id", "department_id", "cb_overall"]] + [[c, DEPTS[0], "5"] for c in cases]


def test_callback_interviews_without_a_call_record_are_quarantined(tmp_path, framework):
    tables = {"callback_attempts": attempts({"C1": ["无人接听", "成功访问"], "C2": ["部分完成"], "C3": ["拒访"]}),
              "callback_interviews": interviews(["C1", "C2", "C3", "C4", "C5"])}
    loaded = load(tmp_path, framework, tables)
    ledger = loaded.ledger.frame()
    got = ledger[["file", "source_row", "reason_code"]].values.tolist()
    assert got == [["callback_interviews.csv", 4, "no_final_disposition"],
                   ["callback_interviews.csv", 5, "no_call_record"],
                   ["callback_interviews.csv", 6, "no_call_record"]]
    assert ledger["reason_en"].tolist()[1] == "callback interview without a call record: case_id=C4"
    assert "final call disposition refusal" in ledger["reason_en"].iloc[0]
    assert sorted(loaded.tables["callback_interviews"]["case_id"]) == ["C1", "C2"]
    reconciled(loaded)
    counts = loaded.ledger.counts_frame().set_index("table")
    assert counts.loc["callback_interviews", ["rows_in", "rows_used", "rows_quarantined"]].tolist() == [5, 2, 3]


def test_a_call_record_of_another_department_is_no_call_record(tmp_path, framework):
    rows = interviews(["C1"])
    rows[1][1] = DEPTS[1]
    loaded = load(tmp_path, framework, {"callback_attempts": attempts({"C1": ["成功访问"]}),
                                        "callback_interviews": rows})
    assert loaded.ledger.frame()["reason_code"].tolist() == ["no_call_record"]


def test_interviews_without_any_call_records_are_named_in_a_warning(tmp_path, framework):
    with pytest.warns(MinpingWarning, match="no call records"):
        loaded = load(tmp_path, framework, {"callback_interviews": interviews(["C1", "C2"])})
    assert len(loaded.tables["callback_interviews"]) == 2


def test_callback_interviews_without_a_call_record_can_stop_the_run(tmp_path, framework):
    tables = {"callback_attempts": attempts({"C1": ["成功访问"]}),
              "callback_interviews": interviews(["C1", "C7", "C8"])}
    with pytest.raises(DataValidationError) as info:
        load(tmp_path, with_rules(framework, no_call_record="stop"), tables)
    (problem,) = info.value.problems
    assert problem.code == "no_call_record" and "rows 3 and 4" in str(info.value) and "case_id=C7" in str(info.value)


# ---------------------------------------------------------------- administrative data


def monthly(changes: dict[tuple[int, str], str] | None = None) -> list[list]:
    header = ["department_id", "month", "cases_received", "cases_closed", "closed_on_time", "cases_online",
              "cases_one_window"]
    rows = [header]
    for m in range(1, 7):
        rows.append([DEPTS[0], f"2024-{m:02d}", "1000", "900", "880", "950", "700"])
    for (row, column), value in (changes or {}).items():
        rows[row - 1][header.index(column)] = value
    return rows


def test_administrative_rates_above_100_percent_are_quarantined(tmp_path, framework):
    changes = {(3, "closed_on_time"): "2700", (4, "cases_online"): "3000", (6, "cases_closed"): "-900"}
    loaded = load(tmp_path, framework, {"admin_monthly": monthly(changes)})
    ledger = loaded.ledger.frame()
    assert ledger[["source_row", "reason_code"]].values.tolist() == [
        [3, "rate_above_100"], [4, "rate_above_100"], [6, "negative_number"]]
    assert ledger["reason_en"].tolist()[:2] == [
        "a subset above its whole (a rate above 100%): closed_on_time=2700 > cases_closed=900",
        "a subset above its whole (a rate above 100%): cases_online=3000 > cases_received=1000"]
    admin = loaded.tables["admin_monthly"]
    assert (admin["closed_on_time"] <= admin["cases_closed"]).all() and len(admin) == 3
    reconciled(loaded)


@pytest.mark.filterwarnings("ignore::surveys.errors.MinpingWarning")
def test_the_300_percent_rate_no_longer_reaches_full_marks(tmp_path, framework):
    from evaluation.evaluate import evaluate

    rows = monthly({(r, "closed_on_time"): "2700" for r in range(2, 8)})
    rows += [[DEPTS[1]] + row[1:] for row in monthly()[1:]]
    loaded = load(tmp_path, framework, {"admin_monthly": rows})
    ids = framework.name_lookup()
    assert set(loaded.tables["admin_monthly"]["department_id"]) == {ids[DEPTS[1]]}
    indicators = evaluate(loaded.data, framework, seed=1).indicators.set_index(["department_id", "indicator_id"])
    on_time = indicators["raw_value"].xs("D2.2", level="indicator_id")
    assert on_time.get(ids[DEPTS[0]], np.nan) != on_time.get(ids[DEPTS[0]], np.nan)  # missing, not 300%
    assert on_time[ids[DEPTS[1]]] == pytest.approx(880 / 900)


def matters(changes=None) -> list[list]:
    header = ["department_id", "matter_id", "annual_volume", "statutory_days", "promised_days", "docs_baseline",
              "docs_current"]
    rows = [header] + [[DEPTS[i % 2], f"M{i}", "120", "20", "5", "10", "6"] for i in range(6)]
    for (row, column), value in (changes or {}).items():
        rows[row - 1][header.index(column)] = value
    return rows


def test_promised_above_statutory_and_more_documents_are_flagged_and_kept(tmp_path, framework):
    changes = {(2, "promised_days"): "30", (4, "promised_days"): "25", (3, "docs_current"): "12"}
    loaded = load(tmp_path, framework, {"admin_matters": matters(changes)})
    assert loaded.ledger.frame().empty and len(loaded.tables["admin_matters"]) == 6
    flags = loaded.ledger.flags_frame().sort_values(["flag", "department_id"])
    ids = framework.name_lookup()
    assert flags[["table", "department_id", "flag", "n"]].values.tolist() == [
        ["admin_matters", ids[DEPTS[1]], "docs_increased", 1],
        ["admin_matters", ids[DEPTS[0]], "promised_above_statutory", 2]]
    assert flags["detail"].iloc[1] == "kept; e.g. admin_matters.csv row 2: promised_days=30 > statutory_days=20"


def test_flag_rules_can_stop_the_run(tmp_path, framework):
    error = stopped(tmp_path, with_rules(framework, promised_above_statutory="stop"),
                    {"admin_matters": matters({(3, "promised_days"): "30"})})
    (problem,) = error.problems
    assert problem.code == "promised_above_statutory" and problem.row == 3 and "swapped" in problem.fix
    assert "e.g. row 3: promised_days=30 > statutory_days=20" in problem.message


# ---------------------------------------------------------------- dates and 好差评


def ratings(changes=None) -> list[list]:
    header = ["rating_id", "department_id", "rated_at", "level", "deadline_days", "rectified_at", "callback_level"]
    rows = [header]
    for i in range(8):
        bad = i % 2 == 0
        rows.append([f"R{i}", DEPTS[0], f"2024-05-{i + 6:02d}", "1" if bad else "5", "5" if bad else "",
                     f"2024-05-{i + 8:02d}" if bad else "", "4" if bad else ""])
    for (row, column), value in (changes or {}).items():
        rows[row - 1][header.index(column)] = value
    return rows


def test_a_rectification_dated_1970_stops_the_run(tmp_path, framework):
    error = stopped(tmp_path, framework, {"ratings": ratings({(2, "rectified_at"): "1970-01-01",
                                                              (4, "rectified_at"): "1970-01-01"})})
    (problem,) = error.problems
    assert problem.code == "implausible_date" and problem.column == "rectified_at"
    assert "rows 2 and 4" in str(error) and "rectified_at=1970-01-01 (before 2015-01-01)" in str(error)
    assert "zero date" in problem.fix


def test_a_rectification_before_its_rating_is_kept_but_never_on_time(tmp_path, framework):
    loaded = load(tmp_path, framework, {"ratings": ratings({(2, "rectified_at"): "2024-05-01"})})
    assert loaded.ledger.frame().empty
    (flag,) = loaded.ledger.flags_frame().to_dict(orient="records")
    assert flag["flag"] == "rectified_before_rating" and flag["n"] == 1
    assert "rectified_at=2024-05-01 before rated_at=2024-05-06" in flag["detail"]
    r = loaded.tables["ratings"].set_index("rating_id")
    assert r.loc["R0", "is_bad"] == 1 and r.loc["R0", "rectified_on_time"] == 0
    assert r.loc["R2", "rectified_on_time"] == 1


def test_streamed_ratings_follow_the_same_rules(tmp_path, framework):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = ratings({(2, "rectified_at"): "2024-05-01", (6, "rectified_at"): "2024-05-02"})
    frame = pd.DataFrame(rows[1:], columns=rows[0])
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "ratings.parquet")
    (tmp_path / "project.toml").write_text(
        '[project]\nname = "p"\nframework = "default"\nyears = [2024]\nsalt = "s"\n'
        '[[inputs]]\nyear = 2024\ntable = "ratings"\npath = "ratings.parquet"\n', encoding="utf-8")
    loaded = load_year(load_project(tmp_path / "project.toml"), framework, 2024, batch_rows=3)
    (flag,) = loaded.ledger.flags_frame().to_dict(orient="records")
    assert flag["flag"] == "rectified_before_rating" and flag["n"] == 2
    frame.loc[0, "rectified_at"] = "1970-01-01"
    frame.loc[4, "rectified_at"] = "1970-01-01"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "ratings.parquet")
    with pytest.raises(DataValidationError) as info:
        load_year(load_project(tmp_path / "project.toml"), framework, 2024, batch_rows=3)
    (problem,) = info.value.problems
    assert problem.code == "implausible_date" and "2 row(s): rows 2 and 6" in str(info.value)


def test_dates_after_the_period_end(tmp_path, framework):
    ok = ratings({(2, "rectified_at"): "2025-02-15"})        # within late_days of 2024-12-31
    assert load(tmp_path, framework, {"ratings": ok}).ledger.frame().empty
    late = ratings({(2, "rectified_at"): "2025-06-01"})
    error = stopped(tmp_path, framework, {"ratings": late})
    assert "rectified_at=2025-06-01 (after 2025-03-31)" in str(error)
    rows = monthly()
    rows[6][1] = "2025-01"                                    # a month after the period: no grace
    error = stopped(tmp_path, framework, {"admin_monthly": rows})
    assert "month=2025-01-01 (after 2024-12-31)" in str(error)


def test_a_tables_own_date_column_is_left_to_the_period_screen(tmp_path, framework):
    rows = survey()
    rows[3][2] = "2025-06-01"
    rows[6][2] = "2025-01-01"  # midnight after the last day is outside
    loaded = load(tmp_path, framework, {"survey": rows})
    assert loaded.ledger.frame()["reason_code"].tolist() == ["outside_period"] * 2
    # in flag mode the rows are kept and their department flagged (the flag mode used to do nothing)
    flagging = dataclasses.replace(framework, screens=dataclasses.replace(framework.screens, outside_period="flag"))
    loaded = load(tmp_path, flagging, {"survey": rows})
    assert loaded.ledger.frame().empty and len(loaded.tables["survey"]) == 12
    flags = loaded.ledger.flags_frame()
    assert flags[["flag", "n"]].values.tolist() == [["outside_period", 2]]
    assert flags["detail"].iloc[0] == "kept; e.g. survey.csv row 4: interview_date=2025-06-01"


# ---------------------------------------------------------------- together


@pytest.mark.filterwarnings("ignore::surveys.errors.MinpingWarning")
def test_stops_of_every_file_are_raised_together_with_structural_problems(tmp_path, framework):
    broken = [["response_id", "department_id"], ["S1", DEPTS[0]]]  # no interview_date
    tables = {"survey": survey({5: "2127348"}), "admin_matters": matters(),
              "ratings": ratings({(2, "rectified_at"): "1970-01-01"})}
    project = write_project(tmp_path, tables, {"survey": {"weights": "weight"}})
    with open(tmp_path / "visits.csv", "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(broken)
    text = (tmp_path / "project.toml").read_text(encoding="utf-8")
    text += '[[inputs]]\nyear = 2024\ntable = "visits"\npath = "visits.csv"\n'
    (tmp_path / "project.toml").write_text(text, encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        load_year(load_project(tmp_path / "project.toml"), framework, 2024)
    codes = [p.code for p in info.value.problems]
    assert set(codes) == {"implausible_date", "invalid", "weight_outlier"}  # invalid: the visits file's columns
    assert codes.count("weight_outlier") == codes.count("implausible_date") == 1
    assert project is not None


def test_every_mode_keeps_the_books(tmp_path, framework):
    tables = {"survey": survey({5: "2127348", 7: "-2"}),
              "admin_monthly": monthly({(3, "closed_on_time"): "2700"}),
              "admin_matters": matters({(3, "promised_days"): "30"}),
              "ratings": ratings({(2, "rectified_at"): "2024-05-01", (4, "rectified_at"): "1970-01-01"}),
              "callback_attempts": attempts({"C1": ["成功访问"]}),
              "callback_interviews": interviews(["C1", "C9"])}
    for mode in ("quarantine", "flag"):
        rules = {r: mode for r in Plausibility().rules}
        loaded = load(tmp_path, with_rules(framework, **rules), tables, {"survey": {"weights": "weight"}})
        reconciled(loaded)
        found = set(loaded.ledger.frame()["reason_code"]) if mode == "quarantine" else set(
            loaded.ledger.flags_frame()["flag"])
        assert found == {"weight_outlier", "weight_invalid", "rate_above_100", "promised_above_statutory",
                         "rectified_before_rating", "implausible_date", "no_call_record"}, mode
        assert np.isfinite(loaded.tables["survey"]["weight"]).all()
