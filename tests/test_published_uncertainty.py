"""What ``minping run`` publishes is the design-based uncertainty, and the two claims that set it apart hold.

1. An independent stratified cluster survey (``tests/reference/published_case.py``: four departments as
   strata, 3-8 intercept days as clusters, unequal weights, the N/A code 9) goes through the command
   line; the published ``results/indicators.csv``, ``dimensions.csv`` and ``departments.csv`` give the
   estimates, ``se``, ``ci_low``, ``ci_high`` and ``df`` that R ``survey`` 4.1.1 gives
   (``tests/reference/published_case.R`` wrote ``published_case_r.csv``):

   - indicators: ``svymean`` of the item scores on the department's design (``subset(des, department_id ==
     d)``, N/A rows excluded), ``confint`` on ``degf`` for means, ``svyciprop(method = "logit", df =
     degf)`` for shares, mapped through the score transform (a distance to frontier for one share);
   - top-2 and bottom-2 box shares of the Likert items: ``svymean`` and ``svyciprop(method = "logit")``;
   - dimensions and the index: ``svycontrast`` of ``svyratio(~y1 + ... + y5, ~a1 + ... + a5, covmat =
     TRUE)`` (each indicator's mean over its own answered rows) with the effective weights times the
     score slopes, interval on ``degf`` of the department's design;

   once as drawn, once raked department by department to respondent type and mode
   (``[inputs.calibrate]``; R: ``rake(des, list(~department_id + respondent_type, ~department_id + mode),
   ..., control = list(epsilon = 1e-10, maxit = 100))``).  The framework has survey indicators only, so
   no gate moves the index (``index`` = ``index_raw``).

2. Hand-computed fixtures that fail if the index variance treats indicators answered by the same
   respondents as independent, or if marginal rank intervals are taken at the wrong quantiles.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from evaluation.index import aggregate, satterthwaite
from evaluation.indicators import estimate_indicators
from evaluation.ranking import rank_intervals
from minping.cli import main
from surveys.framework import parse_framework
from surveys.schema import ChannelData
from tests.conftest import REFERENCE

TOL = 1e-6


def _case_module():
    spec = importlib.util.spec_from_file_location("published_case", REFERENCE / "published_case.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def golden() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "published_case_r.csv")


def _run(tmp_path_factory, calibrate: bool) -> dict[str, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("raked" if calibrate else "plain")
    project = _case_module().write_case(folder, calibrate=calibrate)
    out = folder / "out"
    code = main(["run", str(project), "--no-reports", "--out", str(out)])
    assert code == 0
    res = out / "2024" / "results"
    return {name: pd.read_csv(res / f"{name}.csv", encoding="utf-8-sig")
            for name in ("indicators", "dimensions", "departments")}


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    return _run(tmp_path_factory, calibrate=False)


@pytest.fixture(scope="module")
def raked(tmp_path_factory):
    return _run(tmp_path_factory, calibrate=True)


def _published(results: dict[str, pd.DataFrame], level: str, dept: str, ident: str, quantity: str) -> float:
    if level in ("indicator", "top2", "bottom2"):
        ind = results["indicators"]
        row = ind[(ind["department_id"] == dept) & (ind["indicator_id"] == ident)].iloc[0]
        if level == "indicator":
            col = "score" if quantity == "estimate" else quantity
        else:
            col = {"estimate": level, "df": "df"}.get(quantity, f"{level}_{quantity}")
    elif level == "dimension":
        dims = results["dimensions"]
        row = dims[(dims["department_id"] == dept) & (dims["dimension_id"] == ident)].iloc[0]
        col = quantity
    else:
        deps = results["departments"]
        row = deps[deps["department_id"] == dept].iloc[0]
        col = "index_raw" if quantity == "estimate" else quantity
    return float(row[col])


def _compare(results, golden, run):
    expected = golden[golden["run"] == run]
    assert len(expected) == 280                  # 4 departments x (5 indicators + 6 boxes + 2 dimensions + index) x 5
    off = []
    for _, g in expected.iterrows():
        got = _published(results, g["level"], g["department_id"], g["id"], g["quantity"])
        if not abs(got - g["value"]) <= TOL:
            off.append((g["department_id"], g["level"], g["id"], g["quantity"], got, g["value"]))
    assert not off, off


def test_published_tables_equal_r_survey(plain, golden):
    _compare(plain, golden, "plain")
    deps = plain["departments"].set_index("department_id")
    # no gate moved the index, and a department with 3 intercept days has 2 design df
    assert np.allclose(deps["index"], deps["index_raw"])
    assert deps.loc["X01", "df"] == 2 and deps.loc["X04", "df"] == 7
    ind = plain["indicators"]
    assert (ind["se_rule"] == "linearisation").all() and ind["degenerate"].isna().all()


def test_calibrated_tables_equal_r_survey(raked, golden):
    _compare(raked, golden, "raked")


def test_calibration_changes_the_published_numbers(plain, raked):
    a = plain["departments"].set_index("department_id")["se"]
    b = raked["departments"].set_index("department_id")["se"]
    assert not np.allclose(a, b)


# ---------------------------------------------------------------------------- hand-computed fixtures

TINY = {
    "framework": {"id": "tiny", "version": "1", "confidence_level": 0.95},
    "scales": {"satisfaction": {"kind": "likert", "codes": [1, 2, 3, 4, 5], "na_codes": [9], "top_box": [4, 5],
                                "bottom_box": [1, 2]}},
    "items": [{"table": "survey", "id": "q_overall", "scale": "satisfaction"},
              {"table": "survey", "id": "q_speed", "scale": "satisfaction"}],
    "dimensions": [{"id": "D1", "weight": 100}],
    "indicators": [
        {"id": "A", "dimension": "D1", "channel": "S", "table": "survey", "field": "q_overall",
         "scale": "satisfaction", "measure": "likert", "transform": {"kind": "likert"}, "weight": 0.5},
        {"id": "B", "dimension": "D1", "channel": "S", "table": "survey", "field": "q_speed",
         "scale": "satisfaction", "measure": "likert", "transform": {"kind": "likert"}, "weight": 0.5},
    ],
    "grades": [{"grade": "A", "min": 90}, {"grade": "D", "min": 0}],
    "categories": [{"id": "C"}],
    "departments": [{"id": "X", "category": "C", "tier": "L"}],
}


def _tiny(a_codes, b_codes):
    fw = parse_framework(TINY)
    survey = pd.DataFrame({"department_id": "X", "q_overall": np.asarray(a_codes, float),
                           "q_speed": np.asarray(b_codes, float)})
    est = estimate_indicators(ChannelData(2024, {"survey": survey}), fw)
    return est, aggregate(est, fw)


def test_index_variance_keeps_the_covariance_of_items_answered_by_the_same_respondents():
    # five respondents, weights 1, no clusters: SRS with replacement within the department.  The
    # index is (A + B) / 2 of the item scores (linear preset: code 5 -> 100, 4 -> 75, 3 -> 50).
    a = np.array([100.0, 75, 50, 100, 75])
    b = np.array([100.0, 75, 75, 100, 50])
    est, agg = _tiny([5, 4, 3, 5, 4], [5, 4, 4, 5, 3])
    n = 5
    u = 0.5 * (a - a.mean()) + 0.5 * (b - b.mean())
    var_index = (u ** 2).sum() / (n * (n - 1))                 # the variance of the mean of u
    var_a = ((a - a.mean()) ** 2).sum() / (n * (n - 1))
    var_b = ((b - b.mean()) ** 2).sum() / (n * (n - 1))
    cov_ab = ((a - a.mean()) * (b - b.mean())).sum() / (n * (n - 1))
    assert var_index == pytest.approx(0.25 * var_a + 0.25 * var_b + 0.5 * cov_ab)
    row = agg.index.iloc[0]
    assert row["index"] == pytest.approx(0.5 * a.mean() + 0.5 * b.mean())
    assert row["se"] ** 2 == pytest.approx(var_index)
    # treating A and B as independent would give 0.25 var_a + 0.25 var_b: a different number here
    assert abs(row["se"] ** 2 - (0.25 * var_a + 0.25 * var_b)) > 1.0
    assert row["df"] == 4
    half = 2.7764451051977987 * np.sqrt(var_index)             # t quantile, 4 df
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((row["index"] - half, min(100.0, row["index"] + half)))
    comp = agg.variance_components.iloc[0]
    assert (comp["table"], comp["n"], comp["n_psu"], comp["df"]) == ("survey", 5, 5, 4)
    assert comp["variance"] == pytest.approx(var_index)


def test_perfectly_correlated_and_opposite_items():
    # the same answers twice: the index varies as one item (covariance = variance), not as half of it
    est, agg = _tiny([5, 4, 3, 5, 4], [5, 4, 3, 5, 4])
    se_a = est.frame.set_index("indicator_id").loc["A", "se"]
    assert agg.index.iloc[0]["se"] == pytest.approx(se_a)
    # mirrored answers cancel exactly: the index is the same for every respondent
    est, agg = _tiny([5, 4, 3, 2, 1], [1, 2, 3, 4, 5])
    assert agg.index.iloc[0]["se"] == pytest.approx(0.0, abs=1e-12)


def test_satterthwaite_by_hand():
    # two channels: variance 4 on 2 df and 1 on 20 df
    assert satterthwaite([4.0, 1.0], [2.0, 20.0]) == pytest.approx(25 / (16 / 2 + 1 / 20))
    assert satterthwaite([4.0, 1.0], [2.0, np.inf]) == pytest.approx(25 / 8)
    assert np.isinf(satterthwaite([0.0, 0.0], [2.0, 3.0]))


def _three(tail: float) -> pd.DataFrame:
    # A at 100 and C at 0 exactly; B at 50 with se such that P(B > 100) = P(B < 0) = tail
    from scipy import stats

    s = 50.0 / stats.norm.isf(tail)
    return pd.DataFrame({"department_id": ["A", "B", "C"], "index": [100.0, 50.0, 0.0], "se": [0.0, s, 0.0]})


@pytest.mark.parametrize("tail,level,expected", [
    # B is first with probability `tail`, third with probability `tail`, else second: its marginal rank
    # interval is [1, 3] exactly when tail exceeds (1 - level) / 2, else [2, 2]
    (0.04, 0.95, (1, 3)),
    (0.01, 0.95, (2, 2)),
    (0.07, 0.90, (1, 3)),
    (0.035, 0.90, (2, 2)),
])
def test_marginal_rank_interval_takes_the_two_sided_quantiles(tail, level, expected):
    r = rank_intervals(_three(tail), level=level, n_draws=40000, seed=3).set_index("department_id")
    assert (r.loc["B", "rank_low"], r.loc["B", "rank_high"]) == expected
    assert (r.loc["A", "rank_low"], r.loc["A", "rank_high"]) == ((1, 2) if tail > (1 - level) / 2 else (1, 1))
    assert r.loc["B", "p_top"] == pytest.approx(1.0, abs=1e-12)       # top 3 of 3
