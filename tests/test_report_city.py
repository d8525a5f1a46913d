"""The city report read back: PDF text and fonts, workbook sheets, formats and conditional formatting."""

from __future__ import annotations

import dataclasses

import openpyxl
import pytest

from reports.city import appendix_table, ranking_table, render_city_pdf, render_city_xlsx
from tests.fixtures.report_checks import formula_cells, has_cjk, pdf_fonts, pdf_text
from tests.fixtures.report_result import make_history, make_result


@pytest.fixture(scope="module")
def result():
    return make_result()


@pytest.fixture(scope="module")
def files(result, tmp_path_factory):
    out = tmp_path_factory.mktemp("city")
    history = make_history(result)
    return {lang: (render_city_pdf(result, out / f"{lang}.pdf", lang=lang, history=history),
                   render_city_xlsx(result, out / f"{lang}.xlsx", lang=lang, history=history))
            for lang in ("zh", "en")}


def test_pdf_zh_lists_every_department_with_index(result, files):
    text = pdf_text(files["zh"][0])
    for name, index in zip(result.departments.department, result.departments["index"]):
        assert name in text
        assert f"{index:.1f}" in text
    for heading in ("评估范围与方法", "综合排名", "分类别排名", "等级分布", "维度得分一览", "数据质量概况", "附表"):
        assert heading in text
    assert "样本不足，结果仅供参考" in text


def test_pdf_en_has_no_cjk(result, files):
    text = pdf_text(files["en"][0])
    assert all(name in text for name in result.departments.department_en)
    assert not has_cjk(text), sorted({ch for ch in text if has_cjk(ch)})


def test_pdf_fonts_embedded(files):
    for lang in ("zh", "en"):
        found = pdf_fonts(files[lang][0])
        assert found and all(found.values()), found


def test_ranking_table_order_and_values(result):
    spec = ranking_table(result, "zh")
    ranks = [row[0] for row in spec.rows]
    assert ranks == sorted(ranks)
    best = result.departments.sort_values("rank").iloc[0]
    assert spec.rows[0][spec.headers.index("综合指数")] == pytest.approx(best["index"])
    assert "较上年变化" not in spec.headers  # no history, no change column


def test_appendix_without_rank_intervals(result):
    deps = result.departments.drop(columns=["rank_low", "rank_high", "rank_in_category_low",
                                            "rank_in_category_high"])
    spec = appendix_table(dataclasses.replace(result, departments=deps), "zh")
    assert "排名区间" not in spec.headers
    assert len(spec.rows) == len(deps)


def test_xlsx_ranking_sheet(result, files):
    path = files["zh"][1]
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["排名", "维度", "指标", "数据质量", "方法与权重", "清单"]
    ws = wb["排名"]
    assert ws.freeze_panes == "F2"
    heads = [c.value for c in ws[1]]
    idx = heads.index("综合指数") + 1
    rank = heads.index("排名") + 1
    assert ws.max_row == len(result.departments) + 1
    for r in range(2, ws.max_row + 1):
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
    assert manifest["seed"] == result.provenance["seed"]


def test_xlsx_en_no_cjk(files):
    wb = openpyxl.load_workbook(files["en"][1])
    assert wb.sheetnames == ["Ranking", "Dimensions", "Indicators", "Quality", "Methodology", "Manifest"]
    texts = [c.value for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [t for t in texts if has_cjk(t)]


def test_tie_groups_colour_the_ranking(result):
    from reportlab.graphics.shapes import Circle

    from reports.charts import ranking_data
    from reports.drawings import ranking_drawing

    deps = result.departments.assign(tie_group=(result.departments["rank"] - 1) // 4)
    data = ranking_data(deps)
    drawing = ranking_drawing(data, 500)
    dots = [shape.fillColor.hexval() for shape in drawing.contents if isinstance(shape, Circle)]
    assert len(dots) == len(data)
    by_group: dict = {}
    for group, color in zip(data["group"], dots):
        by_group.setdefault(group, set()).add(color)
    assert all(len(colors) == 1 for colors in by_group.values())
    assert len({next(iter(c)) for c in by_group.values()}) > 1
