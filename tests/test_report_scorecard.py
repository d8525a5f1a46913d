"""Department scorecards read back: PDF text and fonts, workbook cells, types and formats."""

from __future__ import annotations

import dataclasses
import math

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
                               provenance={})
    pdf = render_scorecard_pdf(thin, DEP, tmp_path / "thin.pdf")
    text = pdf_text(pdf)
    assert "排名区间" not in text and "好差评条数" not in text
    assert _row(result)["department"] in text
    wb = openpyxl.load_workbook(render_scorecard_xlsx(thin, DEP, tmp_path / "thin.xlsx"))
    heads = [c.value for c in wb["指标"][1]]
    assert "区间下限" not in heads and "得分" in heads


def test_supplied_priorities_are_used(result):
    pri = pd.DataFrame({"department_id": [DEP], "indicator_id": ["D5.1"], "priority": [1]})
    c = scorecard_content(dataclasses.replace(result, extra={"priorities": pri}), DEP)
    assert list(c.priorities["indicator_id"]) == ["D5.1"]


def test_level_and_quality_columns_as_evaluation_names_them(result, tmp_path):
    quality = result.quality.rename(columns={"haocha_no_rating_rate": "haocha_default_share"}).assign(
        rr1=0.5, on_time_rate=0.97)
    variant = dataclasses.replace(result, level=0.9, quality=quality)
    text = pdf_text(render_scorecard_pdf(variant, DEP, tmp_path / "v.pdf"))
    assert "90%置信区间" in text and "95%置信区间" not in text
    assert "默认好评占比" in text and "AAPOR RR1" in text and "按时办结率" in text
