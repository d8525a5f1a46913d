"""A second, differently shaped project, end to end through the command line.

The county of ``tests/fixtures/second_example``: its own department ids and
names, three dimensions, its own questions and scale names (no scale called
``satisfaction``), only a questionnaire and site visits, two years with a
department renamed, and a 90% confidence level.  Nothing of the demo's world
may leak into it.  A second case runs the shipped framework on questionnaires
alone.
"""

from __future__ import annotations

import json
import shutil

import openpyxl
import pandas as pd
import pytest

from minping.cli import main
from tests.fixtures.report_checks import has_cjk, pdf_text


def read(path):
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"department_id": str}, keep_default_na=False,
                       na_values=[""])


@pytest.fixture(scope="module")
def ran(second_project):
    folder = second_project.parent
    assert main(["validate", str(folder)]) == 0
    assert main(["run", str(folder), "--lang", "both"]) == 0
    return folder / "output"


def test_validate_uses_every_row_and_writes_nothing_published(second_project, ran):
    counts = read(ran / "validate" / "2025" / "results" / "input_counts.csv")
    assert (counts["rows_in"] == counts["rows_used"]).all() and counts["rows_in"].sum() == 418


def test_run_results_are_the_countys(ran):
    deps = read(ran / "2025" / "results" / "departments.csv")
    assert set(deps["department_id"]) == {"X-GA", "X-RS", "X-SJ", "X-YB", "X-BDC", "X-MZ", "X-ZHZF"}
    assert deps["grade"].isin(["A", "B", "C"]).all()
    # no verdict from channels that were never collected: only the small questionnaire sample is flagged
    flags = dict(zip(deps["department_id"], deps["flags"].fillna("")))
    assert flags.pop("X-MZ") == "G4_small_sample"  # 30 questionnaires, the county's minimum is 40
    assert set(flags.values()) == {""}
    inds = read(ran / "2025" / "results" / "indicators.csv")
    assert set(inds["indicator_id"]) == {"MY-1", "MY-2", "XL-1", "XL-2", "XL-3", "GF-1"}
    manifest = json.loads((ran / "2025" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["confidence_level"] == 0.9 and manifest["framework"]["id"] == "county-eval"
    designs = {d["table"]: d for d in manifest["designs"]}  # the design actually used, declared once per table
    assert (designs["survey"]["weights"], designs["survey"]["clusters"]) == ("weight", "cluster")
    assert designs["visits"]["clusters"] == "rows" and designs["visits"]["weights"] == "1"
    checks = read(ran / "2025" / "results" / "checks.csv").set_index("check")
    assert not checks.loc["G1_authenticity", "assessed"]
    assert checks.loc["G1_authenticity", "reason_code"] == "channel_not_collected"
    assert checks.loc["drivers", "assessed"]
    drivers = read(ran / "2025" / "results" / "drivers.csv")
    assert set(drivers["indicator_id"]) == {"MY-2", "XL-1"}  # the other Likert questions explain MY-1


def test_documents_in_both_languages_say_the_countys_names(ran):
    zh = pdf_text(ran / "2025" / "report" / "zh" / "city_report.pdf")
    en = pdf_text(ran / "2025" / "report" / "en" / "city_report.pdf")
    assert "县综合行政执法局" in zh and "群众满意" in zh and "90%" in zh
    assert "County Comprehensive Law Enforcement Bureau" in en and not has_cjk(en)
    assert not (ran / "2025" / "report" / "zh" / "departments" / "X-CG.pdf").exists()  # gone from the register
    card = pdf_text(ran / "2025" / "report" / "zh" / "departments" / "X-ZHZF.pdf")
    assert "县综合行政执法局" in card


def test_trend_follows_the_rename(second_project, ran, capsys):
    assert main(["trend", str(second_project.parent)]) == 0
    trends = read(ran / "trends.csv")
    row = trends[(trends["year"] == 2025) & (trends["department_id"] == "X-ZHZF") & (trends["measure"] == "index")]
    assert row["mapping"].iloc[0] == "rename" and row["predecessors"].iloc[0] == "X-CG"


def test_templates_carry_the_countys_questions(second_project, tmp_path):
    assert main(["template", str(second_project.parent), "--out", str(tmp_path)]) == 0
    book = openpyxl.load_workbook(next(tmp_path.glob("survey_*.xlsx")))
    heads = [c.value for c in book.worksheets[0][1]]
    assert {"总体满意程度", "办事速度", "窗口人员态度", "跑了几次"} <= set(heads)
    assert not {h for h in heads if h and str(h).startswith("q_")}


@pytest.fixture(scope="module")
def questionnaire_only(demo_project, tmp_path_factory):
    """The demo's 2025 questionnaires alone, under the shipped framework."""
    folder = tmp_path_factory.mktemp("survey_only")
    src = demo_project.parent
    shutil.copytree(src / "data" / "2025", folder / "data" / "2025")
    shutil.copy(src / "framework.toml", folder / "framework.toml")
    text = demo_project.read_text(encoding="utf-8")
    head, _, rest = text.partition("[[inputs]]")
    blocks = ["[[inputs]]" + b for b in rest.split("[[inputs]]")]
    survey = [b for b in blocks if 'table = "survey"' in b and "year = 2025" in b]
    head = head.replace("years = [2023, 2024, 2025]", "years = [2025]")
    (folder / "project.toml").write_text(head + "".join(survey), encoding="utf-8")
    assert main(["run", str(folder), "--no-reports"]) == 0
    return folder / "output" / "2025" / "results"


def test_a_questionnaire_only_city_gets_no_flags_it_did_not_earn(questionnaire_only):
    deps = read(questionnaire_only / "departments.csv")
    flags = ";".join(deps["flags"].fillna(""))
    for code in ("G1_", "G2_", "G3_"):
        assert code not in flags
    small = deps[deps["flags"].fillna("").str.contains("G4_small_sample")]
    assert (small["n_survey"] < 50).all()  # only a questionnaire sample that is really small
    channels = read(questionnaire_only / "channels.csv").set_index("channel")
    assert channels.loc["S", "collected"] and not channels.loc[["C", "V", "A", "H"], "collected"].any()
    weights = read(questionnaire_only / "effective_weights.csv")
    total = weights.groupby("department_id")["w_index"].sum()
    assert total.round(9).eq(1.0).all()  # renormalised over the questionnaire's indicators, and said so
    checks = read(questionnaire_only / "checks.csv").set_index("check")
    assert checks.loc[["G1_authenticity", "G2_inflation", "G3_callback_quality"], "assessed"].eq(False).all()


def test_templates_only_for_the_tables_the_framework_reads(second_project, tmp_path):
    assert main(["template", str(second_project.parent), "--out", str(tmp_path)]) == 0
    assert sorted(p.name.split("_")[0] for p in tmp_path.glob("*.xlsx")) == ["survey", "visits"]


def test_a_question_column_the_file_lacks_is_listed_and_said_never_a_crash(tmp_path, capsys):
    """A questionnaire export without one of the framework's questions: the indicator is empty, and said so."""
    from tests.conftest import SECOND_EXAMPLE

    folder = tmp_path / "county"
    shutil.copytree(SECOND_EXAMPLE, folder, ignore=shutil.ignore_patterns("make_data.py", "__pycache__"))
    path = folder / "data" / "2025" / "问卷_2025.csv"
    survey = pd.read_csv(path, encoding="gb18030", dtype=str)
    survey.drop(columns=["窗口人员态度"]).to_csv(path, index=False, encoding="gb18030")
    assert main(["run", str(folder), "--year", "2025", "--lang", "en"]) == 0
    assert "no column 'taidu' (窗口人员态度) for MY-2" in capsys.readouterr().err
    results = folder / "output" / "2025" / "results"
    (row,) = read(results / "missing_columns.csv").to_dict(orient="records")
    assert (row["table"], row["column"], row["indicators"], row["none_read"]) == ("survey", "taidu", "MY-2", True)
    assert row["files"].endswith("问卷_2025.csv") and row["nominal_weight"] == pytest.approx(0.2)
    indicators = read(results / "indicators.csv")
    assert indicators.loc[indicators["indicator_id"] == "MY-2", "score"].isna().all()
    weights = read(results / "effective_weights.csv")
    assert weights.groupby("department_id")["w_index"].sum().round(9).eq(1.0).all()
    manifest = json.loads((folder / "output" / "2025" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["missing_columns"][0]["column"] == "taidu"
    text = pdf_text(folder / "output" / "2025" / "report" / "en" / "city_report.pdf")
    assert "MY-2 (column taidu, missing from every file)" in " ".join(text.split())


def test_a_year_without_a_channel_is_not_compared_as_like_for_like(tmp_path):
    """2025 without the questionnaire: the index rests on other indicators than 2024's, so its change is not tested."""
    from tests.conftest import SECOND_EXAMPLE

    folder = tmp_path / "county"
    shutil.copytree(SECOND_EXAMPLE, folder, ignore=shutil.ignore_patterns("make_data.py", "__pycache__"))
    text = (folder / "project.toml").read_text(encoding="utf-8")
    block = '[[inputs]]\nyear = 2025\ntable = "survey"\npath = "data/2025/问卷_2025.csv"\n'
    assert block in text
    (folder / "project.toml").write_text(text.replace(block, ""), encoding="utf-8")
    assert main(["run", str(folder), "--no-reports"]) == 0
    trends = read(folder / "output" / "trends.csv")
    now = trends[(trends["year"] == 2025) & (trends["department_id"] == "X-RS")].set_index("measure")
    assert now.loc["index", "flags"] == "coverage_changed" and not now.loc["index", "comparable"]
    assert pd.isna(now.loc["index", "p_value"]) and pd.notna(now.loc["index", "comparable_change"])
    assert now.loc["XL", "flags"] == "coverage_changed"      # efficiency mixes questionnaire and visit indicators
    assert now.loc["GF", "comparable"] and pd.notna(now.loc["GF", "p_value"])  # visits only, both years: tested
