"""The city report read back: PDF text and fonts, workbook sheets, formats and conditional formatting.

Built from the demo's real evaluation (``demo_result``: 2025 with the change since 2024).
"""

from __future__ import annotations

import dataclasses

import openpyxl
import pandas as pd
import pytest

from reports.city import appendix_table, ranking_table
from reports.city_content import city_content
from reports.city_pdf import render_city_pdf
from reports.city_xlsx import render_city_xlsx
from tests.fixtures.report_checks import formula_cells, has_cjk, pdf_fonts, pdf_text


@pytest.fixture(scope="module")
def result(demo_result):
    return demo_result


@pytest.fixture(scope="module")
def files(result, tmp_path_factory):
    out = tmp_path_factory.mktemp("city")
    contents = {lang: city_content(result, lang) for lang in ("zh", "en")}
    return {lang: (render_city_pdf(contents[lang], out / f"{lang}.pdf"),
                   render_city_xlsx(result, contents[lang], out / f"{lang}.xlsx"))
            for lang in ("zh", "en")}


def _pdf(result, path, lang="zh"):
    return render_city_pdf(city_content(result, lang), path)


def _xlsx(result, path, lang="zh"):
    return render_city_xlsx(result, city_content(result, lang), path)


def test_pdf_zh_lists_every_department_with_index(result, files):
    text = pdf_text(files["zh"][0])
    for name, index in zip(result.departments.department, result.departments["index"]):
        assert name in text
        assert pd.isna(index) or f"{index:.1f}" in text
    for heading in ("一、总体情况", "二、排名与等次", "三、存在的主要问题", "四、整改建议", "附录：方法说明与稳健性",
                    "（一）共性问题", "（二）各部门主要问题", "评估范围与方法", "名义权重与实际影响", "量表信度与评估一致性",
                    "现场评估的评分员一致性", "问卷与回访总体满意度的一致性", "综合排名", "分类别排名", "等级分布",
                    "小样本部门与漏斗图", "小样本部门的稳健估计", "维度得分一览", "排名的敏感性分析",
                    "各部门排名的中位数与5%–95%范围", "与上年比较", "进步最大", "退步最大", "数据质量概况",
                    "各部门评估结果", "可复现信息"):
        assert heading in text, heading
    # the sections come in the order readers expect: conclusions first, diagnostics last
    order = [text.index(h) for h in ("一、总体情况", "二、排名与等次", "三、存在的主要问题", "四、整改建议",
                                     "附录：方法说明与稳健性")]
    assert order == sorted(order)
    assert "组1" in text  # tie groups labelled beside the ranking


def test_pdf_en_has_no_cjk(result, files):
    text = pdf_text(files["en"][0])
    assert all(name in text for name in result.departments.department_en)
    assert not has_cjk(text), sorted({ch for ch in text if has_cjk(ch)})
    for heading in ("1 Overall results", "2 Ranking and grades", "3 Main problems", "4 Recommendations",
                    "Appendix: method and robustness", "Nominal weights and effective influence",
                    "Reliability and agreement", "Sensitivity of the ranking", "Change since last year",
                    "Small departments: shrinkage estimates"):
        assert heading in text, heading


def test_pdf_fonts_embedded(files):
    for lang in ("zh", "en"):
        found = pdf_fonts(files[lang][0])
        assert found and all(found.values()), found


def test_ranking_table_order_and_values(result, demo_first_result):
    spec = ranking_table(result, "zh")
    ranks = [row[0] for row in spec.rows if not pd.isna(row[0])]
    assert ranks == sorted(ranks)
    assert len(spec.rows) == len(result.departments)  # the department not evaluated is listed too, last
    assert pd.isna(spec.rows[-1][0])
    best = result.departments.sort_values("rank").iloc[0]
    assert spec.rows[0][spec.headers.index("综合指数")] == pytest.approx(best["index"])
    assert "较上年变化" in spec.headers
    assert "较上年变化" not in ranking_table(demo_first_result, "zh").headers  # no earlier year, no change column


def test_appendix_lists_every_department(result):
    spec = appendix_table(result, "zh")
    assert "排名区间" in spec.headers
    assert len(spec.rows) == len(result.departments)


def test_xlsx_ranking_sheet(result, files):
    path = files["zh"][1]
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["总体情况", "共性问题", "排名", "维度", "指标", "数据质量", "小样本与漏斗图", "敏感性",
                             "趋势", "方法与权重", "信度", "清单"]
    ws = wb["排名"]
    assert ws.freeze_panes == "F2"
    heads = [c.value for c in ws[1]]
    idx = heads.index("综合指数") + 1
    rank = heads.index("排名") + 1
    assert ws.max_row == len(result.departments) + 1
    evaluated = int(result.departments["index"].notna().sum())
    for r in range(2, evaluated + 2):
        cell = ws.cell(row=r, column=idx)
        assert cell.data_type == "n" and cell.number_format == "0.0"
        assert isinstance(ws.cell(row=r, column=rank).value, int)
    ranges = [str(cf.sqref) for cf in ws.conditional_formatting]
    col = openpyxl.utils.get_column_letter(idx)
    assert f"{col}2:{col}{ws.max_row}" in ranges
    assert formula_cells(path) == []


def test_xlsx_indicators_long_and_manifest(result, files):
    wb = openpyxl.load_workbook(files["zh"][1])
    ws = wb["指标"]
    assert ws.max_row == len(result.indicators) + 1
    manifest = {r[0].value: r[1].value for r in wb["清单"].iter_rows(min_row=2)}
    assert len(manifest["清单哈希"]) == 64
    assert manifest["随机种子"] == result.provenance.seed  # keys in words, nested settings as "group · key"
    assert manifest["设置 · likert_preset"] == "linear"
    assert not [k for k in manifest if "." in str(k).split(" · ")[0]]
    heads = [c.value for c in ws[1]]
    assert heads[:3] == ["部门编号", "部门", "指标编号"]  # no two columns named alike


def test_xlsx_en_no_cjk(files):
    wb = openpyxl.load_workbook(files["en"][1])
    assert wb.sheetnames == ["Overview", "Common problems", "Ranking", "Dimensions", "Indicators", "Quality",
                             "Small samples and funnel", "Sensitivity", "Trends", "Methodology and weights",
                             "Reliability", "Manifest"]
    heads = [c.value for c in wb["Indicators"][1]]
    assert len(heads) == len(set(heads))
    texts = [c.value for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [t for t in texts if has_cjk(t)]


def test_tie_groups_are_bands_beside_the_ranking(result):
    from reportlab.graphics.shapes import Circle, Rect, String

    from reports.chart_data import ranking_data, tie_bands
    from reports.drawings import ranking_drawing

    ranked = result.departments.dropna(subset=["index"])
    ties = pd.DataFrame({"department_id": ranked["department_id"], "tie_group": (ranked["rank"] - 1) // 4 + 1})
    data = ranking_data(result.departments, ties=ties)
    drawing = ranking_drawing(data, 500)
    bands = tie_bands(data["tie_group"])
    assert len(bands) == int(ties["tie_group"].max())
    shaded = [s for s in drawing.contents if isinstance(s, Rect) and s.fillColor is not None
              and s.fillColor.hexval() == "0xededed"]
    assert len(shaded) == (len(bands) + 1) // 2  # every other group is shaded
    labels = {s.text for s in drawing.contents if isinstance(s, String)}
    assert {f"组{int(g)}" for _, _, g in bands} <= labels
    dots = [shape.fillColor.hexval() for shape in drawing.contents if isinstance(shape, Circle)]
    by_category: dict = {}
    for cat, color in zip(data["group"], dots):
        by_category.setdefault(cat, set()).add(color)
    assert all(len(colors) == 1 for colors in by_category.values())  # dots keep the category colour


def test_ranking_sheet_has_ties_and_simultaneous_intervals(result, files):
    wb = openpyxl.load_workbook(files["zh"][1])
    ws = wb["排名"]
    heads = [c.value for c in ws[1]]
    ru = result.ranking.rank_uncertainty
    overall = ru[ru.scope == "overall"].set_index("department_id")
    category = ru[ru.scope == "category"].set_index("department_id")
    cols = {h: heads.index(h) + 1 for h in ("编号", "无差异组", "组内部门数", "同时排名区间 · 区间下限",
                                            "同时排名区间 · 区间上限", "类别内排名 · 无差异组")}
    for r in range(2, int(result.departments["index"].notna().sum()) + 2):
        dep = ws.cell(row=r, column=cols["编号"]).value
        assert ws.cell(row=r, column=cols["无差异组"]).value == overall.loc[dep, "tie_group"]
        assert ws.cell(row=r, column=cols["组内部门数"]).value == overall.loc[dep, "tie_group_size"]
        assert ws.cell(row=r, column=cols["同时排名区间 · 区间下限"]).value == overall.loc[dep, "rank_sim_low"]
        assert ws.cell(row=r, column=cols["同时排名区间 · 区间上限"]).value == overall.loc[dep, "rank_sim_high"]
        assert ws.cell(row=r, column=cols["类别内排名 · 无差异组"]).value == category.loc[dep, "tie_group"]
        assert ws.cell(row=r, column=cols["无差异组"]).number_format == "0"


def test_sensitivity_sheet_and_driver(result, files):
    wb = openpyxl.load_workbook(files["en"][1])
    ws = wb["Sensitivity"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    flat = [v for row in values for v in row if v is not None]
    assert "Leave one source out" in flat and "none, Admin data, Callback, Ratings, Survey, Site visit" in flat
    summ = result.robustness.sensitivity_summary
    top = summ[(summ.scope == "overall") & (summ.choice != "all")].sort_values("total_order").iloc[-1]
    assert any(isinstance(v, str) and f"(total-order index {top['total_order']:.2f}" in v for v in flat)
    head = next(i for i, row in enumerate(values) if row[:2] == ["Published rank", "Department"])
    sens = result.robustness.sensitivity
    first = sens[(sens.scope == "overall")].sort_values(["nominal_rank", "department_id"]).iloc[0]
    assert values[head + 1][2] == first["median_rank"] and values[head + 1][3] == first["rank_p05"]
    assert formula_cells(files["en"][1]) == []


def test_movers_are_the_evaluations(result):
    from reports.city_sections import movers_table

    movers = result.trends.movers
    names = result.departments.set_index("department_id")["department_en"]
    for which, key in (("improved", "most_improved"), ("declined", "most_declined")):
        spec = movers_table(result, "en", which)
        expected = movers[movers["list"] == key].sort_values("position")
        assert [row[0] for row in spec.rows] == [names[d] for d in expected["department_id"]]
        assert [row[3] for row in spec.rows] == pytest.approx(list(expected["change"]))


def test_no_trends_section_without_an_earlier_year(demo_first_result, tmp_path):
    text = pdf_text(_pdf(demo_first_result, tmp_path / "first.pdf"))
    assert "综合排名" in text and "与上年比较" not in text and "首个有记录的评估年度" in text


def test_ahp_weights_with_consistency(result, tmp_path):
    from reports.city_sections import ahp_table

    record = result.weighting.record.copy()
    dims = record["level"] == "dimension"
    record.loc[dims, "method"] = "ahp:eigenvector"
    record.loc[dims, "cr"] = 0.0123
    record.loc[dims, "lambda_max"] = 6.0612
    record.loc[dims, "random_index_table"] = "saaty1980"
    fw = result.framework
    variant = dataclasses.replace(result, weighting=dataclasses.replace(result.weighting, record=record),
                                  framework=dataclasses.replace(fw, weighting=dataclasses.replace(
                                      fw.weighting, method="ahp")))
    spec = ahp_table(variant, "zh")
    assert len(spec.rows) == 1 and spec.rows[0][1] == 6
    assert spec.rows[0][4] == pytest.approx(1.24)  # Saaty (1980) RI(6)
    text = pdf_text(_pdf(variant, tmp_path / "ahp.pdf"))
    assert "层次分析法（AHP，特征向量法）" in text and "0.01" in text and "Saaty (1980)" in text
    wb = openpyxl.load_workbook(_xlsx(variant, tmp_path / "ahp.xlsx", lang="en"))
    flat = [c.value for row in wb["Methodology and weights"].iter_rows() for c in row if c.value is not None]
    assert 0.0123 in flat and "analytic hierarchy process (AHP, eigenvector method)" in flat


def test_without_robustness_tables(result, tmp_path):
    bare = dataclasses.replace(result, robustness=None, reliability=None, priorities=None, trends=None)
    text = pdf_text(_pdf(bare, tmp_path / "bare.pdf"))
    assert "综合排名" in text and "排名的敏感性分析" not in text and "漏斗图" not in text
    wb = openpyxl.load_workbook(_xlsx(bare, tmp_path / "bare.xlsx"))
    assert wb.sheetnames == ["总体情况", "共性问题", "排名", "维度", "指标", "数据质量", "方法与权重", "清单"]


def test_long_rankings_continue_over_several_charts():
    import pandas as pd

    from reports.city_content import ROWS_PER_CHART, _chunks

    frame = pd.DataFrame({"x": range(300)})
    parts = _chunks(frame)
    assert len(parts) == 6 and all(len(p) <= ROWS_PER_CHART for p in parts)
    assert pd.concat(parts)["x"].tolist() == list(range(300))
    assert len(_chunks(frame.iloc[:0])) == 1


def test_cover_states_the_project_facts(result, files):
    text = pdf_text(files["zh"][0]).replace("\n", "")
    assert "演示市2025年度政务服务第三方评估总报告" in text
    for fact in ("演示大学第三方评估研究院", "2025年1月1日至2025年12月31日", "2026年3月20日"):
        assert fact in text, fact
    en = pdf_text(files["en"][0]).replace("\n", " ")
    assert "Demo City" in en and "20 Mar 2026" in en


def test_overall_section_tells_index_change_and_gates(result, files):
    text = pdf_text(files["zh"][0]).replace("\n", "")
    city = result.findings.city.set_index("measure").loc["index"]
    assert f"全市综合指数为{city['estimate']:.1f}（95%置信区间{city['ci_low']:.1f}–{city['ci_high']:.1f}）" in text
    change = result.trends.city.set_index("measure").loc["index"]
    assert f"较上年{change['change']:+.1f}（Holm法校正95%区间" in text
    deducted = result.departments[result.departments["g1_deduction"] > 0]
    assert f"{len(deducted)}个部门因办件记录真实率低于95%被扣分，合计{deducted['g1_deduction'].sum():.1f}分" in text
    missing = result.departments[result.departments["index"].isna()].iloc[0]
    assert f"未能评估的部门：{missing['department']}（各数据来源均无本部门记录）" in text


def test_bottom_three_with_probability_in_words(result, files):
    text = pdf_text(files["zh"][0]).replace("\n", "")
    ranked = result.departments.dropna(subset=["index"]).sort_values("rank")
    for r in ranked.tail(3).itertuples():
        p = r.p_bottom3
        shown = ">99.9%" if p > 0.999 else f"{100 * p:.1f}%"
        assert f"{r.department}（第{int(r.rank)}名，指数{r.index:.1f}，位列后三的概率{shown}" in text
    assert "几乎确定" in text or "很可能" in text
    en = pdf_text(files["en"][0]).replace("\n", " ")
    assert "probability of being in the bottom three" in en
    assert "the 8 departments ranked 1–8 are tied" in en or "are tied" in en


def test_main_problems_come_from_the_problem_lists(result, files):
    common = result.findings.common
    shared = common[common["n_departments"] >= 2]
    text = pdf_text(files["zh"][0]).replace("\n", "")
    assert f"涉及{int(shared.iloc[0]['n_departments'])}个部门" in text
    assert "（一）核实办件记录的真实性" in text  # the first recommendation: the gates cost points already
    assert "2026年4月20日前报送整改情况" in text


def test_city_report_as_word(result, tmp_path):
    from docx import Document

    from reports.city_docx import render_city_docx

    path = render_city_docx(city_content(result, "zh"), tmp_path / "city.docx")
    doc = Document(str(path))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    for h in ("一、总体情况", "二、排名与等次", "三、存在的主要问题", "四、整改建议", "附录：方法说明与稳健性"):
        assert h in headings, h
    assert len(doc.tables) >= 15 and len(doc.inline_shapes) >= 6  # real tables, charts as pictures
    # header rows repeat on every page
    assert all(t.rows[0]._tr.trPr is not None for t in doc.tables[2:5])


@pytest.mark.filterwarnings("ignore::surveys.errors.MinpingWarning")
def test_second_project_documents(second_project, tmp_path_factory):
    """The county: no callbacks, its own items; every page builds, problems listed where evidence exists."""
    from minping.pipeline import run_project

    out = tmp_path_factory.mktemp("county_docs")
    runs = run_project(second_project, out=out, langs=("zh", "en"), log=lambda m: None)
    result = runs[-1].result
    problems = result.findings.problems
    assert len(problems) and set(problems["kind"]) <= {"checklist", "share", "indicator", "survey_item"}
    assert not problems["indicator_id"].isin(result.framework.roles.outcomes).any()
    with_visits = set(result.departments.loc[result.departments["n_visit"] > 0, "department_id"])
    assert with_visits & set(problems["department_id"])
    zh = pdf_text(out / "2025" / "report" / "zh" / "city_report.pdf").replace("\n", "")
    assert "三、存在的主要问题" in zh and "未评估办件记录真实率" in zh and "未注明" in zh
    dep = problems["department_id"].iloc[0]
    sc = pdf_text(out / "2025" / "report" / "en" / "departments" / f"{dep}.pdf")
    assert "Problem list and required rectification" in sc and not has_cjk(sc)
