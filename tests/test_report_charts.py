"""What each chart shows (hand-computable frames) and that the matplotlib charts draw."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reports import chart_data, charts
from tests.fixtures.report_checks import has_cjk


def _deps():
    return pd.DataFrame({
        "department_id": ["X1", "X2", "Y1"],
        "department": ["甲局", "乙局", "丙局"],
        "department_en": ["Alpha", "Beta", "Gamma"],
        "category": ["A", "A", "B"],
        "category_name": ["甲类", "甲类", "乙类"],
        "category_name_en": ["Cat A", "Cat A", "Cat B"],
        "index": [80.0, 90.0, 85.0],
        "ci_low": [78.0, 88.0, 80.0],
        "ci_high": [82.0, 92.0, 90.0],
        "rank": [3, 1, 2],
        "grade": ["B", "A", "B"],
    })


def _dims():
    rows = []
    for dep, (d1, d2) in {"X1": (70.0, 80.0), "X2": (90.0, 60.0), "Y1": (95.0, 100.0)}.items():
        rows.append(dict(department_id=dep, dimension_id="D1", dimension="维一", dimension_en="One", weight=60.0,
                         estimate=d1, ci_low=d1 - 1, ci_high=d1 + 1))
        rows.append(dict(department_id=dep, dimension_id="D2", dimension="维二", dimension_en="Two", weight=40.0,
                         estimate=d2, ci_low=d2 - 1, ci_high=d2 + 1))
    return pd.DataFrame(rows)


def _inds():
    # weights 0.4/0.3/0.2/0.1, scores 60/90/50/95: mean weight 25%, mean score 73.75
    return pd.DataFrame({
        "department_id": ["X1"] * 4 + ["X2"],
        "indicator_id": ["D1.1", "D1.2", "D2.1", "D2.2", "D1.1"],
        "indicator": ["一", "二", "三", "四", "一"],
        "indicator_en": ["one", "two", "three", "four", "one"],
        "weight": [0.4, 0.3, 0.2, 0.1, 1.0],
        "score": [60.0, 90.0, 50.0, 95.0, 10.0],
    })


def test_ranking_data_orders_by_rank_and_groups():
    data = chart_data.ranking_data(_deps(), lang="en")
    assert list(data["department_id"]) == ["X2", "Y1", "X1"]
    assert list(data["name"]) == ["Beta", "Gamma", "Alpha"]
    assert list(data["group"]) == ["A", "B", "A"]
    assert data["tie_group"].isna().all()
    tied = chart_data.ranking_data(_deps().assign(tie_group=[2, 1, 1]))
    assert list(tied["group"]) == ["A", "B", "A"]  # colours stay with the category
    assert list(tied["tie_group"]) == [1, 1, 2]
    only_a = chart_data.ranking_data(_deps(), category="A")
    assert list(only_a["department_id"]) == ["X2", "X1"]
    ties = pd.DataFrame({"department_id": ["X1", "X2"], "tie_group": [2, 1]})
    within = chart_data.ranking_data(_deps(), category="A", ties=ties)
    assert list(within["tie_group"]) == [1, 2]


def test_tie_bands_are_consecutive_runs():
    assert chart_data.tie_bands(pd.Series([1, 1, 2, 3, 3, 3])) == [(0, 1, 1), (2, 2, 2), (3, 5, 3)]
    assert chart_data.tie_bands(pd.Series([np.nan, 1, 1])) == [(1, 2, 1)]
    assert chart_data.tie_bands(pd.Series([], dtype=float)) == []


def test_ranking_data_without_optional_columns():
    data = chart_data.ranking_data(_deps().drop(columns=["ci_low", "ci_high", "rank"]))
    assert list(data["department_id"]) == ["X2", "Y1", "X1"]
    assert data["ci_low"].isna().all()


def test_profile_data_city_average_and_category_best():
    prof = chart_data.profile_data(_dims(), _deps(), "X1", lang="zh")
    assert list(prof["dimension_id"]) == ["D1", "D2"]
    assert prof["estimate"].tolist() == [70.0, 80.0]
    assert prof["city_average"].tolist() == pytest.approx([(70 + 90 + 95) / 3, (80 + 60 + 100) / 3])
    assert prof["category_best"].tolist() == [90.0, 80.0]  # Y1 is in another category
    assert list(prof["name"]) == ["维一", "维二"]


def test_profile_data_invariant_to_row_order():
    dims = _dims()
    shuffled = dims.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(chart_data.profile_data(dims, _deps(), "Y1"),
                                  chart_data.profile_data(shuffled, _deps(), "Y1"))


def test_quadrant_data_by_hand():
    quad = chart_data.quadrant_data(_inds(), "X1")
    assert quad.attrs["importance_ref"] == pytest.approx(25.0)
    assert quad.attrs["performance_ref"] == pytest.approx(73.75)
    assert dict(zip(quad["indicator_id"], quad["quadrant"])) == {
        "D1.1": "concentrate_here", "D1.2": "keep_up", "D2.1": "low_priority", "D2.2": "possible_overkill"}
    assert quad.attrs["basis"] == "weights"


def _drivers():
    rows = []
    for scope, key, perf in (("city", "", (70.0, 90.0)), ("category", "A", (60.0, 80.0)),
                             ("department", "X1", (50.0, 95.0))):
        for iid, imp, p in (("D1.2", 0.04, perf[0]), ("D2.1", 0.01, perf[1])):
            rows.append(dict(scope=scope, scope_id=key, indicator_id=iid, indicator="名" + iid,
                             indicator_en="name " + iid, importance=imp, importance_source="category:A",
                             performance=p, importance_split=0.025, performance_split=sum(perf) / 2,
                             quadrant="concentrate_here" if iid == "D1.2" else "possible_overkill"))
    return pd.DataFrame(rows)


def test_quadrant_data_from_drivers_by_scope():
    quad = chart_data.quadrant_data(_inds(), "X1", drivers=_drivers(), category="A", lang="en")
    assert quad.attrs["scope"] == "department" and quad.attrs["model"] == "category"
    assert quad["performance"].tolist() == [50.0, 95.0]
    assert quad["importance"].tolist() == pytest.approx([4.0, 1.0])  # LMG share in percent
    assert quad.attrs["importance_ref"] == pytest.approx(2.5)
    assert list(quad["quadrant"]) == ["concentrate_here", "possible_overkill"]
    assert list(quad["name"]) == ["name D1.2", "name D2.1"]
    other = chart_data.quadrant_data(_inds(), "X2", drivers=_drivers(), category="A")
    assert other.attrs["scope"] == "category" and other["performance"].tolist() == [60.0, 80.0]
    lone = chart_data.quadrant_data(_inds(), "X2", drivers=_drivers(), category="B")
    assert lone.attrs["scope"] == "city" and lone["performance"].tolist() == [70.0, 90.0]


def test_priority_data_points_to_gain():
    pri = chart_data.priority_data(_inds(), "X1", k=3)
    # gains: 0.4*40=16, 0.3*10=3, 0.2*50=10, 0.1*5=0.5
    assert list(pri["indicator_id"]) == ["D1.1", "D2.1", "D1.2"]
    assert pri["gain"].tolist() == pytest.approx([16.0, 10.0, 3.0])
    assert pri.attrs["basis"] == "headroom"
    shuffled = chart_data.priority_data(_inds().iloc[::-1], "X1", k=3)
    pd.testing.assert_frame_equal(pri, shuffled)


def test_priority_data_uses_supplied_priorities():
    given = pd.DataFrame({"department_id": ["X1", "X1"], "indicator_id": ["D2.2", "D1.2"], "priority": [2, 1]})
    pri = chart_data.priority_data(_inds(), "X1", priorities=given)
    assert list(pri["indicator_id"]) == ["D1.2", "D2.2"]
    assert pri["gain"].tolist() == pytest.approx([3.0, 0.5])  # filled in: weight x (100 - score)
    assert pri.attrs["basis"] == "supplied"
    full = given.assign(gap=[0.25, 1.5], category_best_score=[97.5, 95.0], quadrant=["", "keep_up"],
                        indicator_en=["four (given)", "two (given)"])
    pri = chart_data.priority_data(_inds(), "X1", priorities=full, lang="en")
    assert pri["gain"].tolist() == [1.5, 0.25] and pri["category_best"].tolist() == [95.0, 97.5]
    assert pri["quadrant"].iloc[0] == "keep_up" and pd.isna(pri["quadrant"].iloc[1])
    assert list(pri["name"]) == ["two (given)", "four (given)"]


def test_grade_counts_lists_every_grade():
    counts = chart_data.grade_counts(_deps())
    assert list(counts.columns) == ["A", "B", "C", "D"]
    assert counts.loc["A"].tolist() == [1, 1, 0, 0]
    assert int(counts.to_numpy().sum()) == 3


def test_heatmap_data_ranking_order():
    wide = chart_data.heatmap_data(_dims(), _deps(), lang="en")
    assert list(wide.index) == ["Beta", "Gamma", "Alpha"]
    assert wide.loc["Alpha", "D2"] == 80.0


def _texts(ax):
    out = [t.get_text() for t in ax.get_yticklabels() + ax.get_xticklabels()]
    out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()] + [t.get_text() for t in ax.texts]
    legend = ax.get_legend()
    if legend is not None:
        out += [t.get_text() for t in legend.get_texts()]
    return " ".join(out)


@pytest.fixture(scope="module")
def result(demo_result):
    return demo_result


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_matplotlib_charts_draw_in_language(result, lang):
    deps, dims, inds = result.departments.dropna(subset=["index"]), result.dimensions, result.indicators
    n = deps["n_survey"].astype(float)
    funnel = pd.DataFrame({"n": n, "index": deps["index"], "city_mean": 83.0,
                           "lower95": 83 - 45 / np.sqrt(n), "upper95": 83 + 45 / np.sqrt(n),
                           "lower998": 83 - 70 / np.sqrt(n), "upper998": 83 + 70 / np.sqrt(n)})
    grid = np.geomspace(20, 450, 30)
    limits = pd.DataFrame({"overdispersion": "none", "n": grid, "lower95": 83 - 45 / np.sqrt(grid),
                           "upper95": 83 + 45 / np.sqrt(grid), "lower998": 83 - 70 / np.sqrt(grid),
                           "upper998": 83 + 70 / np.sqrt(grid)})
    made = [
        charts.ranking_chart(deps, level=result.level, lang=lang, highlight="B05",
                             ties=result.ranking.rank_uncertainty.query("scope == 'overall'")),
        charts.ranking_chart(deps.drop(columns=["ci_low", "ci_high"]), level=result.level, lang=lang, category="A"),
        charts.profile_chart(dims, deps, "B05", lang=lang),
        charts.quadrant_chart(inds, "B05", lang=lang),
        charts.quadrant_chart(inds, "B05", lang=lang, drivers=result.priorities.drivers, category="B"),
        charts.grade_distribution_chart(deps, lang=lang),
        charts.funnel_chart(funnel, limits, lang=lang),
        charts.funnel_chart(funnel.drop(columns=["lower998", "upper998"]), lang=lang),
        charts.funnel_chart(deps.rename(columns={"n_survey": "n"}), lang=lang),
        charts.heatmap_chart(dims, deps, lang=lang),
        charts.sparkline(pd.Series([80.0, 82.0, 83.5], index=[2023, 2024, 2025]), lang=lang),
    ]
    for ax in made:
        ax.figure.canvas.draw()
    text = " ".join(_texts(ax) for ax in made)
    if lang == "zh":
        assert "统计局" not in text and "生态环境局" in text and "综合指数" in text  # only evaluated departments
    else:
        assert "Ecology and Environment Bureau" in text and not has_cjk(text)


def test_ranking_chart_uses_given_axes(result):
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    assert charts.ranking_chart(result.departments, level=result.level, ax=ax) is ax
    assert len(ax.get_yticklabels()) == int(result.departments["index"].notna().sum())


def test_funnel_chart_draws_supplied_limits_only(result):
    deps = result.departments.dropna(subset=["index"])
    funnel = pd.DataFrame({"n": [50.0, 100.0, 300.0], "index": [70.0, 85.0, 84.0], "city_mean": 83.0,
                           "lower95": [77.0, 79.0, 81.0], "upper95": [89.0, 87.0, 85.0],
                           "position": ["below_95", "within", "within"]})
    ax = charts.funnel_chart(funnel)
    assert len(ax.lines) == 3  # two limit curves and the city mean
    assert [list(line.get_ydata()) for line in ax.lines[:2]] == [[77.0, 79.0, 81.0], [89.0, 87.0, 85.0]]
    colors = ax.collections[0].get_facecolors()
    assert tuple(colors[0]) != tuple(colors[1])  # the point below the 95% limit stands out
    bare = charts.funnel_chart(deps.rename(columns={"n_survey": "n"}))
    assert len(bare.lines) == 0
