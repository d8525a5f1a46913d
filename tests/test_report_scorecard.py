"""Department scorecards read back: PDF text and fonts, workbook cells, types and formats.

Built from the demo's real evaluation (``demo_result``: 2025, with the change
since 2024 attached by the pipeline), not from a stand-in.
"""

from __future__ import annotations

import dataclasses
import math

import openpyxl
import pytest

from reports.facts import tie_text
from reports.scorecard import scorecard_content
from reports.scorecard_pdf import render_scorecard_pdf
from reports.scorecard_xlsx import render_scorecard_xlsx
from surveys.errors import DataValidationError
from tests.fixtures.report_checks import formula_cells, has_cjk, pdf_fonts, pdf_pages, pdf_text


def _pick(result, flag: str) -> str:
    """The best-ranked department carrying ``flag``."""
    deps = result.departments.dropna(subset=["index"]).sort_values("rank")
    return deps[deps["flags"].str.contains(flag, regex=False)]["department_id"].iloc[0]


@pytest.fixture(scope="module")
def dep(demo_result):
    return _pick(demo_result, "G1_deduction")


def _row(result, dep):
    return result.departments.set_index("department_id").loc[dep]


def _render(result, dep, path, lang="zh"):
    c = scorecard_content(result, dep, lang=lang)
    return render_scorecard_pdf(c, path) if path.suffix == ".pdf" else render_scorecard_xlsx(c, path)


@pytest.fixture(scope="module")
def files(demo_result, dep, tmp_path_factory):
    out = tmp_path_factory.mktemp("scorecards")
    return {(lang, kind): _render(demo_result, dep, out / f"{lang}.{kind}", lang)
            for lang in ("zh", "en") for kind in ("pdf", "xlsx")}


def test_change_is_the_evaluations_tested_change(demo_result, dep):
    c = scorecard_content(demo_result, dep)
    ch = demo_result.trends.changes
    row = ch[(ch.department_id == dep) & (ch.measure == "index")].iloc[0]
    assert c.change == pytest.approx(row["change"])
    assert c.change_info["change_ci_low"] == pytest.approx(row["change_ci_low"])
    assert list(c.trend.index) == [2023, 2024, 2025]
    assert c.trend[2025] == pytest.approx(_row(demo_result, dep)["index"])
    assert any("Holm" in n for n in scorecard_content(demo_result, dep, lang="en").notes)


def test_first_year_has_no_change(demo_first_result, dep):
    c = scorecard_content(demo_first_result, dep)
    assert math.isnan(c.change) and c.change_info == {}
    assert list(c.trend.index) == [2023]


def test_unknown_department_raises(demo_result):
    with pytest.raises(DataValidationError, match="department"):
        scorecard_content(demo_result, "Z99")


def test_pdf_zh_content(demo_result, dep, files):
    text = pdf_text(files["zh", "pdf"])
    row = _row(demo_result, dep)
    assert row["department"] in text
    assert f"{row['index']:.1f}" in text
    assert f"{int(row['rank'])} / {len(demo_result.departments)}" in text
    assert "维度得分" in text and "指标明细" in text and "问题清单与整改要求" in text
    assert f"{row['ci_low']:.1f}–{row['ci_high']:.1f}" in text
    assert "办件记录真实率低于95%" in text  # G1_deduction explained in words
    flat = text.replace("\n", "")
    # page 1 explains itself: the deduction and the index before it, units, the scoring rules
    assert f"扣分前{row['index_raw']:.1f}" in flat and f"G1扣{row['g1_deduction']:.1f}分" in flat
    assert "前沿③" in flat and "①量表题" in flat and "③前沿法" in flat
    assert 1 <= pdf_pages(files["zh", "pdf"]) <= 3


def test_pdf_shows_only_own_data(demo_result, dep, files):
    text = pdf_text(files["zh", "pdf"])
    others = [n for d, n in zip(demo_result.departments.department_id, demo_result.departments.department)
              if d != dep]
    assert not [n for n in others if n in text]


def test_pdf_en_has_no_cjk(demo_result, dep, files):
    text = pdf_text(files["en", "pdf"])
    assert _row(demo_result, dep)["department_en"] in text
    assert "Dimension scores" in text
    assert not has_cjk(text), sorted({ch for ch in text if has_cjk(ch)})
    assert "Problem list and required rectification" in text
    assert 1 <= pdf_pages(files["en", "pdf"]) <= 3


def test_pdf_fonts_embedded(files):
    for lang in ("zh", "en"):
        found = pdf_fonts(files[lang, "pdf"])
        assert found and all(found.values()), found
        assert all("NotoSansSCSubset" in name for name in found)


def test_xlsx_sheets_types_and_formats(demo_result, dep, files):
    wb = openpyxl.load_workbook(files["zh", "xlsx"])
    assert wb.sheetnames == ["概览", "维度", "指标", "数据质量", "整改清单", "说明"]
    ws = wb["指标"]
    assert ws.freeze_panes == "C2"
    heads = [c.value for c in ws[1]]
    score_col = heads.index("得分") + 1
    weight_col = heads.index("权重") + 1
    own = demo_result.indicators[demo_result.indicators.department_id == dep]
    assert [ws.cell(row=r, column=1).value for r in range(2, len(own) + 3)] == list(own["indicator_id"]) + [None]
    for r in range(2, len(own) + 2):
        score = ws.cell(row=r, column=score_col)
        assert score.data_type == "n" and isinstance(score.value, (int, float))
        assert score.number_format == "0.0"
        assert ws.cell(row=r, column=weight_col).number_format == "0.0%"
    # raw values in their unit's format: shares and rates as percentages, Likert means with one decimal
    raw_col = heads.index("原始值") + 1
    formats = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=raw_col).number_format
               for r in range(2, len(own) + 2)}
    measures = {i.id: i.measure for i in demo_result.framework.indicators}
    assert {formats[i] for i in formats if measures[i] in ("share", "ratio")} == {"0.0%"}
    assert {formats[i] for i in formats if measures[i] == "likert"} == {"0.0"}
    first = own.iloc[0]
    assert ws.cell(row=2, column=1).value == first["indicator_id"]
    assert ws.cell(row=2, column=score_col).value == pytest.approx(first["score"])  # stored unrounded
    summary = {r[0].value: r[1] for r in wb["概览"].iter_rows(min_row=2)}
    assert summary["综合指数"].value == pytest.approx(_row(demo_result, dep)["index"])
    assert summary["全市排名"].value == int(_row(demo_result, dep)["rank"])
    assert formula_cells(files["zh", "xlsx"]) == []


def test_xlsx_en_sheet_names_and_no_cjk(files):
    wb = openpyxl.load_workbook(files["en", "xlsx"])
    assert wb.sheetnames == ["Summary", "Dimensions", "Indicators", "Quality", "Problem list", "Notes"]
    texts = [c.value for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [t for t in texts if has_cjk(t)]


def test_formula_like_names_stay_text(demo_result, dep, tmp_path):
    evil = '=HYPERLINK("http://evil.example","点击")'
    deps = demo_result.departments.copy()
    deps.loc[deps.department_id == dep, ["department", "department_en"]] = evil
    inds = demo_result.indicators.copy()
    inds.loc[inds.indicator_id == inds.indicator_id.iloc[0], "indicator"] = "+cmd|' /C calc'!A0"
    bad = dataclasses.replace(demo_result, departments=deps, indicators=inds)
    path = _render(bad, dep, tmp_path / "x.xlsx")
    assert formula_cells(path) == []
    cell = openpyxl.load_workbook(path)["概览"]["B2"]
    assert cell.value == evil and cell.data_type == "s" and cell.quotePrefix
    assert "HYPERLINK" in pdf_text(_render(bad, dep, tmp_path / "x.pdf"))  # escaped into text, not markup


def test_without_robustness_tables(demo_result, dep, tmp_path):
    thin = dataclasses.replace(demo_result, robustness=None, reliability=None, priorities=None, trends=None)
    text = pdf_text(_render(thin, dep, tmp_path / "thin.pdf"))
    assert _row(demo_result, dep)["department"] in text
    c = scorecard_content(thin, dep)
    # without the importance analysis there is no quadrant chart (none drawn from weights instead), and
    # the list keeps the problems the evidence shows
    assert c.quadrant.attrs["basis"] == "none" and c.problems.rows


def test_problem_list_is_the_evaluations(demo_result, dep, files):
    """Page 2 lists the evaluation's problems, numbered as it numbered them, with points and noise verdicts."""
    own = demo_result.findings.problems
    own = own[own.department_id == dep].sort_values("problem_no")
    assert len(own)  # a department with a G1 deduction has at least that problem
    c = scorecard_content(demo_result, dep)
    assert [r[0] for r in c.problems.rows] == own["problem_no"].head(len(c.problems.rows)).tolist()
    assert [r[2] for r in c.problems.rows] == pytest.approx(own["points_at_stake"].head(len(c.problems.rows))
                                                            .tolist(), nan_ok=True)
    assert len(c.problems_all.rows) == len(own)
    gate = own[own["kind"] == "gate_g1"].iloc[0]  # the deduction is listed with the points it took
    assert gate["points_at_stake"] == pytest.approx(_row(demo_result, dep)["g1_deduction"])
    assert own["points_at_stake"].fillna(-1).is_monotonic_decreasing  # largest lever first
    first = own.iloc[0]
    text = pdf_text(files["zh", "pdf"]).replace("\n", "")
    assert "办件记录不实（G1扣分）" in text and "否认办理该事项" in text
    assert "2026年4月20日前" in text  # a dated deadline: the report date plus one month
    wb = openpyxl.load_workbook(files["zh", "xlsx"])
    ws = wb["整改清单"]
    heads = [cell.value for cell in ws[1]]
    assert heads[:4] == ["#", "问题类别", "问题", "证据"]
    points = heads.index("可提升分值") + 1
    assert ws.cell(row=2, column=points).value == pytest.approx(first["points_at_stake"])
    assert ws.cell(row=2, column=points).number_format == "0.00"


def test_no_outcome_is_ever_an_action(demo_result):
    """Outcomes ([roles] outcomes) measure what the actions should achieve: never in a problem list."""
    outcomes = set(demo_result.framework.roles.outcomes)
    assert outcomes
    problems = demo_result.findings.problems
    assert not problems["indicator_id"].isin(outcomes).any()
    for dep in problems["department_id"].unique()[:5]:
        c = scorecard_content(demo_result, dep)
        names = {demo_result.framework.indicator(i).name for i in outcomes}
        assert not any(any(n in str(cell) for n in names) for row in c.problems_all.rows for cell in row[2:3])


def test_list_agrees_with_the_quadrant(demo_result):
    """Every survey item the chart puts in 重点改进区 (not an outcome) is on the list, numbered on the chart;
    nothing from another quadrant is listed as a survey item."""
    outcomes = set(demo_result.framework.roles.outcomes)
    checked = 0
    for dep in demo_result.departments.dropna(subset=["index"])["department_id"]:
        c = scorecard_content(demo_result, dep)
        q = c.quadrant
        own = demo_result.findings.problems
        listed = own[(own.department_id == dep) & (own.kind == "survey_item")]
        expected = set(q[(q.quadrant == "concentrate_here") & ~q.indicator_id.isin(outcomes)]["indicator_id"])
        assert set(listed["indicator_id"]) == expected, dep
        numbered = q.dropna(subset=["problem_no"])
        assert dict(zip(numbered["indicator_id"], numbered["problem_no"].astype(int))) == dict(
            zip(listed["indicator_id"], listed["problem_no"]))
        assert not q[q.outcome]["problem_no"].notna().any()  # outcomes are drawn, hollow, never numbered
        checked += len(expected)
    assert checked > 0  # the demo has items in 重点改进区


def test_quadrant_from_drivers(demo_result, dep, files):
    drivers = demo_result.priorities.drivers
    own = drivers[(drivers.scope == "department") & (drivers.scope_id == dep)]
    c = scorecard_content(demo_result, dep)
    assert c.quadrant.attrs["basis"] == "drivers" and c.quadrant.attrs["scope"] == "department"
    assert sorted(c.quadrant["indicator_id"]) == sorted(own["indicator_id"])
    assert dict(zip(c.quadrant["indicator_id"], c.quadrant["quadrant"])) == dict(zip(own["indicator_id"],
                                                                                   own["quadrant"]))
    assert c.quadrant["importance"].tolist() == pytest.approx((own.set_index("indicator_id")["importance"] * 100)
                                                              .reindex(c.quadrant["indicator_id"]).tolist())
    text = pdf_text(files["zh", "pdf"])
    assert "LMG" in text and "解释份额" in text
    for code in set(own["quadrant"]):
        assert {"concentrate_here": "重点改进区", "keep_up": "继续保持区", "low_priority": "次要改进区",
                "possible_overkill": "过度投入区"}[code] in text
    # without department rows the category's are used, then the city's
    pri = demo_result.priorities
    no_dep = dataclasses.replace(demo_result, priorities=dataclasses.replace(
        pri, drivers=drivers[drivers.scope != "department"]))
    assert scorecard_content(no_dep, dep).quadrant.attrs["scope"] == "category"
    city_only = dataclasses.replace(demo_result, priorities=dataclasses.replace(
        pri, drivers=drivers[drivers.scope == "city"]))
    assert scorecard_content(city_only, dep).quadrant.attrs["scope"] == "city"


def test_tie_group_and_simultaneous_interval(demo_result, dep, files):
    ru = demo_result.ranking.rank_uncertainty
    overall = ru[(ru.scope == "overall") & (ru.department_id == dep)].iloc[0]
    category = ru[(ru.scope == "category") & (ru.department_id == dep)].iloc[0]
    text = pdf_text(files["zh", "pdf"]).replace("\n", "")
    n = int(overall["tie_group_size"]) - 1
    assert (f"与{n}个部门无显著差异" if n else "与其他部门均有显著差异") in text
    assert f"全市{int(overall['rank_sim_low'])}–{int(overall['rank_sim_high'])}" in text
    assert f"类别内{int(category['rank_sim_low'])}–{int(category['rank_sim_high'])}" in text
    en = pdf_text(files["en", "pdf"]).replace("\n", " ")
    assert "statistically tied with" in en or "distinguishable from all others" in en
    assert "Simultaneous rank intervals" in en or "simultaneous rank intervals" in en


def test_tie_text_counts_the_others():
    assert tie_text(1, "zh") == "与其他部门均有显著差异"
    assert tie_text(2, "en") == "statistically tied with 1 department"
    assert tie_text(8, "zh") == "与7个部门无显著差异"
    assert tie_text(None, "zh") == ""


def test_quality_in_words(demo_result, dep, tmp_path):
    text = pdf_text(_render(demo_result, dep, tmp_path / "q.pdf")).replace("\n", "")
    q = demo_result.quality.set_index("department_id").loc[dep]
    row = _row(demo_result, dep)
    assert f"办件记录真实率（G1）{q['g1_authenticity']:.1f}%，低于95%的门槛，扣{row['g1_deduction']:.1f}分" in text
    assert f"AAPOR RR3 {q['rr3'] * 100:.1f}%" in text and f"e = {q['aapor_e']:.2f}" in text
    deps = demo_result.departments.copy()
    mask = deps.department_id == dep
    deps.loc[mask, "n_survey"] = 20
    deps.loc[mask, "flags"] = deps.loc[mask, "flags"] + ";G4_small_sample"
    small = dataclasses.replace(demo_result, departments=deps)
    small_text = pdf_text(_render(small, dep, tmp_path / "small.pdf")).replace("\n", "")
    assert "低于最低样本要求" in small_text and "样本不足，结果仅供参考" in small_text
    inflated = _pick(demo_result, "G2_inflation")
    gap = demo_result.quality.set_index("department_id").loc[inflated, "g2_gap"]
    en = pdf_text(_render(demo_result, inflated, tmp_path / "g2.pdf", "en")).replace("\n", " ")
    assert f"exceeds the independent callback's by {gap:.1f} points (G2)" in en
    wb = openpyxl.load_workbook(_render(demo_result, dep, tmp_path / "q.xlsx"))
    cells = {r[0].value: r[1].value for r in wb["数据质量"].iter_rows() if r[0].value}
    assert cells["回访应答率（AAPOR RR3）"] == pytest.approx(q["rr3"])
    assert cells["估计合格率e（AAPOR）"] == pytest.approx(q["aapor_e"])
    # every rate of a workbook is a fraction with a percent format, G1 included (kept in points elsewhere)
    g1 = next(r[1] for r in wb["数据质量"].iter_rows() if r[0].value == "办件记录真实率（G1）")
    assert g1.value == pytest.approx(q["g1_authenticity"] / 100) and g1.number_format == "0.0%"


def test_worst_case_fits_two_pages(demo_result, dep, tmp_path):
    deps = demo_result.departments.copy()
    deps.loc[deps.department_id == dep, "flags"] = ("G1_deduction;G1_audit;G2_inflation;G3_completion;"
                                                    "G3_wrong_number;G4_small_sample")
    deps.loc[deps.department_id == dep, "borderline"] = True
    variant = dataclasses.replace(demo_result, departments=deps)
    for lang in ("zh", "en"):
        assert pdf_pages(_render(variant, dep, tmp_path / f"{lang}.pdf", lang)) <= 3, lang


def test_level_is_the_results(demo_result, dep, tmp_path):
    variant = dataclasses.replace(demo_result, level=0.9, provenance=dataclasses.replace(
        demo_result.provenance, level=0.9))
    text = pdf_text(_render(variant, dep, tmp_path / "v.pdf"))
    assert "90%置信区间" in text and "95%置信区间" not in text
