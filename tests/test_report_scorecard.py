"""Department scorecards read back: PDF text and fonts, workbook cells, types and formats."""

from __future__ import annotations

import dataclasses
import math
import re

import openpyxl
import pandas as pd
import pytest

from reports.scorecard import render_scorecard_pdf, render_scorecard_xlsx, scorecard_content
from surveys.errors import DataValidationError
from tests.fixtures.report_checks import formula_cells, has_cjk, pdf_fonts, pdf_pages, pdf_text
from tests.fixtures.report_result import make_history, make_result

DEP = "B05"


@pytest.fixture(scope="module")
def result():
    return make_result()


@pytest.fixture(scope="module")
def history(result):
    return make_history(result)


@pytest.fixture(scope="module")
def files(result, history, tmp_path_factory):
    out = tmp_path_factory.mktemp("scorecards")
    made = {}
    for lang in ("zh", "en"):
        made[lang, "pdf"] = render_scorecard_pdf(result, DEP, out / f"{lang}.pdf", lang=lang, history=history)
        made[lang, "xlsx"] = render_scorecard_xlsx(result, DEP, out / f"{lang}.xlsx", lang=lang, history=history)
    return made


def _row(result, dep=DEP):
    return result.departments.set_index("department_id").loc[dep]


def test_content_change_from_history(result, history):
    c = scorecard_content(result, DEP, history=history)
    prev = history[(history.department_id == DEP) & (history.year == result.year - 1)]["index"].iloc[0]
    assert c.change == pytest.approx(_row(result)["index"] - prev)
    assert list(c.trend.index) == [2023, 2024, 2025]
    assert math.isnan(scorecard_content(result, DEP).change)


def test_content_change_column_wins(result, history):
    deps = result.departments.assign(change=1.25)
    c = scorecard_content(dataclasses.replace(result, departments=deps), DEP, history=history)
    assert c.change == 1.25


def test_unknown_department_raises(result):
    with pytest.raises(DataValidationError, match="department"):
        scorecard_content(result, "Z99")


def test_pdf_zh_content(result, files):
    text = pdf_text(files["zh", "pdf"])
    row = _row(result)
    assert row["department"] in text
    assert f"{row['index']:.1f}" in text
    assert f"{int(row['rank'])} / {len(result.departments)}" in text
    assert "维度得分" in text and "指标明细" in text and "改进重点" in text
    assert f"{row['ci_low']:.1f}–{row['ci_high']:.1f}" in text
    assert "临界" in text  # B05 is borderline in the fixture
    assert "办件记录真实率低于95%" in text  # G1_deduction explained in words
    assert 1 <= pdf_pages(files["zh", "pdf"]) <= 2


def test_pdf_shows_only_own_data(result, files):
    text = pdf_text(files["zh", "pdf"])
    others = [n for d, n in zip(result.departments.department_id, result.departments.department) if d != DEP]
    assert not [n for n in others if n in text]


def test_pdf_en_has_no_cjk(result, files):
    text = pdf_text(files["en", "pdf"])
    assert _row(result)["department_en"] in text
    assert "Dimension scores" in text
    assert not has_cjk(text), sorted({ch for ch in text if has_cjk(ch)})
    assert 1 <= pdf_pages(files["en", "pdf"]) <= 2


def test_pdf_fonts_embedded(files):
    for lang in ("zh", "en"):
        found = pdf_fonts(files[lang, "pdf"])
        assert found and all(found.values()), found
        assert all("NotoSansSCSubset" in name for name in found)


def test_xlsx_sheets_types_and_formats(result, files):
    wb = openpyxl.load_workbook(files["zh", "xlsx"])
    assert wb.sheetnames == ["概览", "维度", "指标", "数据质量", "改进重点", "说明"]
    ws = wb["指标"]
    assert ws.freeze_panes == "C2"
    heads = [c.value for c in ws[1]]
    score_col = heads.index("得分") + 1
    weight_col = heads.index("权重") + 1
    own = result.indicators[result.indicators.department_id == DEP]
    assert ws.max_row == len(own) + 1
    for r in range(2, ws.max_row + 1):
        score = ws.cell(row=r, column=score_col)
        assert score.data_type == "n" and isinstance(score.value, float)
        assert score.number_format == "0.0"
        assert ws.cell(row=r, column=weight_col).number_format == "0.0%"
    d11 = own.set_index("indicator_id").loc["D1.1"]
    assert ws.cell(row=2, column=1).value == "D1.1"
    assert ws.cell(row=2, column=score_col).value == pytest.approx(d11["score"])  # stored unrounded
    summary = {r[0].value: r[1] for r in wb["概览"].iter_rows(min_row=2)}
    assert summary["综合指数"].value == pytest.approx(_row(result)["index"])
    assert summary["全市排名"].value == int(_row(result)["rank"])
    assert formula_cells(files["zh", "xlsx"]) == []


def test_xlsx_en_sheet_names_and_no_cjk(files):
    wb = openpyxl.load_workbook(files["en", "xlsx"])
    assert wb.sheetnames == ["Summary", "Dimensions", "Indicators", "Quality", "Priorities", "Notes"]
    texts = [c.value for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [t for t in texts if has_cjk(t)]


def test_formula_like_names_stay_text(result, tmp_path):
    evil = '=HYPERLINK("http://evil.example","点击")'
    deps = result.departments.copy()
    deps.loc[deps.department_id == DEP, ["department", "department_en"]] = evil
    inds = result.indicators.copy()
    inds.loc[inds.indicator_id == "D1.1", "indicator"] = "+cmd|' /C calc'!A0"
    bad = dataclasses.replace(result, departments=deps, indicators=inds)
    path = render_scorecard_xlsx(bad, DEP, tmp_path / "x.xlsx")
    assert formula_cells(path) == []
    wb = openpyxl.load_workbook(path)
    cell = wb["概览"]["B2"]
    assert cell.value == evil and cell.data_type == "s" and cell.quotePrefix
    pdf = render_scorecard_pdf(bad, DEP, tmp_path / "x.pdf")
    assert "HYPERLINK" in pdf_text(pdf)  # escaped into text, not markup


def test_optional_columns_absent(result, tmp_path):
    deps = result.departments.drop(columns=["rank_low", "rank_high", "rank_in_category_low",
                                            "rank_in_category_high", "borderline", "index_raw", "g1_deduction"])
    dims = result.dimensions.drop(columns=["ci_low", "ci_high", "se", "missing_weight_share", "flag"])
    inds = result.indicators.drop(columns=["ci_low", "ci_high", "top2", "bottom2", "raw_se"])
    thin = dataclasses.replace(result, departments=deps, dimensions=dims, indicators=inds, quality=None,
                               provenance={}, extra={})
    pdf = render_scorecard_pdf(thin, DEP, tmp_path / "thin.pdf")
    text = pdf_text(pdf)
    assert not re.search(r"排名区间 \d", text) and "好差评条数" not in text
    assert "同时排名区间" not in text and "无显著差异" not in text
    assert _row(result)["department"] in text
    wb = openpyxl.load_workbook(render_scorecard_xlsx(thin, DEP, tmp_path / "thin.xlsx"))
    heads = [c.value for c in wb["指标"][1]]
    assert "区间下限" not in heads and "得分" in heads


def test_supplied_priorities_are_used(result):
    pri = pd.DataFrame({"department_id": [DEP], "indicator_id": ["D5.1"], "priority": [1]})
    c = scorecard_content(dataclasses.replace(result, extra={"priorities": pri}), DEP)
    assert list(c.priorities["indicator_id"]) == ["D5.1"]


def test_evaluation_priorities_shown_with_gap_and_quadrant(result, files):
    given = result.extra["priorities"]
    own = given[given.department_id == DEP].sort_values("priority")
    c = scorecard_content(result, DEP)
    assert list(c.priorities["indicator_id"]) == list(own["indicator_id"])
    assert c.priorities["gain"].tolist() == pytest.approx(own["gap"].tolist())  # the evaluation's gap, not redone
    assert c.priorities["category_best"].tolist() == pytest.approx(own["category_best_score"].tolist())
    text = pdf_text(files["zh", "pdf"])
    assert "类别最佳得分−本部门得分" in text  # the method note names the rule that was applied
    for iid, gap in zip(own["indicator_id"], own["gap"]):
        assert iid in text and f"{gap:.2f}" in text
    fallback = scorecard_content(dataclasses.replace(result, extra={}), DEP)
    assert "100−得分" in " ".join(fallback.notes)


def test_quadrant_from_drivers(result, files):
    drivers = result.extra["drivers"]
    own = drivers[(drivers.scope == "department") & (drivers.scope_id == DEP)]
    c = scorecard_content(result, DEP)
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
    no_dep = dataclasses.replace(result, extra={**result.extra, "drivers": drivers[drivers.scope != "department"]})
    assert scorecard_content(no_dep, DEP).quadrant.attrs["scope"] == "category"
    city_only = dataclasses.replace(result, extra={**result.extra, "drivers": drivers[drivers.scope == "city"]})
    assert scorecard_content(city_only, DEP).quadrant.attrs["scope"] == "city"


def test_tie_group_and_simultaneous_interval(result, files):
    ru = result.extra["rank_uncertainty"]
    overall = ru[(ru.scope == "overall") & (ru.department_id == DEP)].iloc[0]
    category = ru[(ru.scope == "category") & (ru.department_id == DEP)].iloc[0]
    text = pdf_text(files["zh", "pdf"]).replace("\n", "")
    n = int(overall["tie_group_size"]) - 1
    assert (f"与{n}个部门无显著差异" if n else "与其他部门均有显著差异") in text
    assert f"全市{int(overall['rank_sim_low'])}–{int(overall['rank_sim_high'])}" in text
    assert f"类别内{int(category['rank_sim_low'])}–{int(category['rank_sim_high'])}" in text
    en = pdf_text(files["en", "pdf"]).replace("\n", " ")
    assert "statistically tied with" in en or "distinguishable from all others" in en
    assert "Simultaneous rank intervals" in en or "simultaneous rank intervals" in en


def test_tie_text_counts_the_others():
    from reports.extras import tie_text

    assert tie_text(1, "zh") == "与其他部门均有显著差异"
    assert tie_text(2, "en") == "statistically tied with 1 department"
    assert tie_text(8, "zh") == "与7个部门无显著差异"
    assert tie_text(None, "zh") == ""


def test_quality_in_words(result, tmp_path):
    quality = result.quality.assign(rr1=0.62, rr3=0.675, aapor_e=0.8912)
    variant = dataclasses.replace(result, quality=quality)
    text = pdf_text(render_scorecard_pdf(variant, DEP, tmp_path / "q.pdf")).replace("\n", "")
    q = result.quality.set_index("department_id").loc[DEP]
    row = _row(result)
    # B05: G1 91.0% -> below 95, deduction 0.5 x 4 = 2.0 points
    assert f"办件记录真实率（G1）{q['g1_authenticity']:.1f}%，低于95%的门槛，扣{row['g1_deduction']:.1f}分" in text
    assert "未超过10个百分点的提示线" in text  # G2 4.0 points
    assert "达到最低样本要求" in text
    assert "AAPOR RR3 67.5%" in text and "e = 0.89" in text and "RR1 62.0%" in text
    small = pdf_text(render_scorecard_pdf(variant, "D08", tmp_path / "d08.pdf")).replace("\n", "")
    assert "低于最低样本要求" in small and "样本不足，结果仅供参考" in small
    inflated = pdf_text(render_scorecard_pdf(variant, "A03", tmp_path / "a03.pdf", lang="en")).replace("\n", " ")
    assert "exceeds the independent callback's by 14.2 points (G2)" in inflated
    wb = openpyxl.load_workbook(render_scorecard_xlsx(variant, DEP, tmp_path / "q.xlsx"))
    cells = {r[0].value: r[1].value for r in wb["数据质量"].iter_rows() if r[0].value}
    assert cells["回访应答率（AAPOR RR3）"] == pytest.approx(0.675)
    assert cells["估计合格率e（AAPOR）"] == pytest.approx(0.8912)


def test_change_interval_and_comparable_column(result, history, tmp_path):
    c = scorecard_content(result, DEP, history=history)
    prev = history[(history.department_id == DEP) & (history.year == result.year - 1)]["index"].iloc[0]
    assert c.change_info["previous_index"] == pytest.approx(prev)
    assert math.isnan(c.change_info["change_ci_low"])  # the plain history has no standard errors
    with_se = history.assign(se=1.0)
    c = scorecard_content(result, DEP, history=with_se)
    half = 1.959963984540054 * math.sqrt(_row(result)["se"] ** 2 + 1.0)
    assert c.change_info["change_ci_low"] == pytest.approx(c.change - half)
    inds = result.indicators.assign(comparable=result.indicators.indicator_id != "D2.1")
    variant = dataclasses.replace(result, indicators=inds)
    text = pdf_text(render_scorecard_pdf(variant, DEP, tmp_path / "c.pdf", history=with_se))
    assert "可比" in text and "95%区间" in text
    wb = openpyxl.load_workbook(render_scorecard_xlsx(variant, DEP, tmp_path / "c.xlsx"))
    ws = wb["指标"]
    heads = [x.value for x in ws[1]]
    col = heads.index("可比") + 1
    values = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=col).value for r in range(2, ws.max_row + 1)}
    assert values["D2.1"] == "否" and values["D1.1"] == "是"


def test_change_from_trends_frames(result):
    trends = pd.DataFrame({"year": [result.year], "previous_year": [result.year - 1], "department_id": [DEP],
                           "measure": ["index"], "estimate": [_row(result)["index"]], "se": [0.8],
                           "previous_estimate": [80.0], "change": [1.5], "change_ci_low": [-0.5],
                           "change_ci_high": [3.5], "significant": [False], "comparable": [True],
                           "p_adjust_method": ["holm"], "flags": [""]})
    c = scorecard_content(result, DEP, history={"trends": trends}, lang="en")
    assert c.change == 1.5 and c.change_info["adjusted"] and c.change_info["significant"] is False
    assert any("Holm" in note for note in c.notes)


def test_worst_case_fits_two_pages(result, tmp_path):
    deps = result.departments.copy()
    deps.loc[deps.department_id == DEP, "flags"] = ("G1_deduction;G1_audit;G2_inflation;G3_completion;"
                                                    "G3_wrong_number;G4_small_sample")
    deps.loc[deps.department_id == DEP, "borderline"] = True
    inds = result.indicators.assign(comparable=True, change=0.5)
    variant = dataclasses.replace(result, departments=deps, indicators=inds)
    history = make_history(result).assign(se=1.0)
    for lang in ("zh", "en"):
        path = render_scorecard_pdf(variant, DEP, tmp_path / f"{lang}.pdf", lang=lang, history=history)
        assert pdf_pages(path) <= 2, lang


def test_level_and_quality_columns_as_evaluation_names_them(result, tmp_path):
    quality = result.quality.rename(columns={"haocha_no_rating_rate": "haocha_default_share"}).assign(
        rr1=0.5, on_time_rate=0.97)
    variant = dataclasses.replace(result, level=0.9, quality=quality)
    text = pdf_text(render_scorecard_pdf(variant, DEP, tmp_path / "v.pdf"))
    assert "90%置信区间" in text and "95%置信区间" not in text
    assert "默认好评占比" in text and "AAPOR RR1 50.0%" in text and "按时办结率" in text
