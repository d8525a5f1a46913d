"""Importance–performance analysis (LMG, design-weighted regression, GB/T 19038 quadrants) and priorities."""

from __future__ import annotations

from itertools import permutations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evaluation.drivers import (
    DRIVER_COLUMNS,
    PRIORITY_COLUMNS,
    importance,
    importance_performance,
    improvement_priorities,
    lmg,
    quadrant,
)
from surveys.framework import load_framework

FW = load_framework()
SURVEY_ITEMS = {"D1.3": "q_easier", "D2.5": "q_speed", "D3.5": "q_ease", "D4.1": "q_courtesy",
                "D4.2": "q_competence", "D5.2": "q_info", "D6.2": "q_fair"}


def test_lmg_two_predictors_by_hand():
    # unit variances, r_y1 = .5, r_y2 = .4, r_12 = .3: R2(12) = (.25 + .16 - 2 * .5 * .4 * .3) / (1 - .09)
    cov = np.array([[1.0, 0.5, 0.4], [0.5, 1.0, 0.3], [0.4, 0.3, 1.0]])
    full = 0.29 / 0.91
    expected = [0.5 * 0.25 + 0.5 * (full - 0.16), 0.5 * 0.16 + 0.5 * (full - 0.25)]
    assert lmg(cov) == pytest.approx(expected, rel=1e-12)
    assert lmg(cov * 9.0) == pytest.approx(expected, rel=1e-12)     # scale free


def test_lmg_equals_the_average_over_orders_of_weighted_r2_gains():
    rng = np.random.default_rng(1)
    n = 300
    x = rng.normal(size=(n, 3)) @ np.array([[1, 0.5, 0.2], [0, 1, 0.4], [0, 0, 1]])
    y = x @ np.array([0.8, 0.3, 0.0]) + rng.normal(size=n)
    w = rng.uniform(0.5, 3, n)

    def r2(cols):
        if not cols:
            return 0.0
        return sm.WLS(y, sm.add_constant(x[:, list(cols)]), weights=w).fit().rsquared

    gains = np.zeros(3)
    orders = list(permutations(range(3)))
    for order in orders:
        for k, j in enumerate(order):
            gains[j] += r2(order[: k + 1]) - r2(order[:k])
    frame = pd.DataFrame({"y": y, "x0": x[:, 0], "x1": x[:, 1], "x2": x[:, 2], "w": w})
    out = importance(frame, "y", ["x0", "x1", "x2"], weights="w")
    assert out["lmg"].to_numpy() == pytest.approx(gains / len(orders), rel=1e-9)
    assert out["r2"].iloc[0] == pytest.approx(r2((0, 1, 2)), rel=1e-12)
    fit = sm.WLS(y, sm.add_constant(x), weights=w).fit(cov_type="HC1")
    assert out["coef"].to_numpy() == pytest.approx(fit.params[1:], rel=1e-10)
    assert out["coef_se"].to_numpy() == pytest.approx(fit.bse[1:], rel=1e-10)
    # invariant to rescaling the weights and to row order
    again = importance(frame.assign(w=frame["w"] * 7.0).iloc[::-1], "y", ["x0", "x1", "x2"], weights="w")
    pd.testing.assert_frame_equal(out, again, check_exact=False, rtol=1e-9)


def test_quadrants_by_hand():
    imp = pd.Series([0.3, 0.1, 0.2, 0.0], index=list("abcd"))
    perf = pd.Series([60.0, 90.0, 95.0, 50.0], index=list("abcd"))
    codes, si, sp = quadrant(imp, perf)
    assert (si, sp) == pytest.approx((0.15, 73.75))
    assert codes.tolist() == ["concentrate_here", "possible_overkill", "keep_up", "low_priority"]


def survey(departments, n=150, seed=0):
    """q_overall driven by q_speed (strongly) and q_courtesy; the other items are noise."""
    rng = np.random.default_rng(seed)
    parts = []
    for k, dep in enumerate(departments):
        shift = 0.3 * k
        lat = rng.normal(shift, 1.0, (n, 7))
        codes = np.clip(np.round(3.5 + 0.8 * lat), 1, 5)
        frame = pd.DataFrame(codes, columns=list(SURVEY_ITEMS.values()))
        overall = 3.5 + 0.9 * (frame["q_speed"] - 3.5) + 0.4 * (frame["q_courtesy"] - 3.5) + rng.normal(0, 0.4, n)
        frame["q_overall"] = np.clip(np.round(overall), 1, 5)
        frame["department_id"] = dep
        frame["weight"] = rng.uniform(0.5, 2.0, n)
        frame["cluster"] = [f"{dep}-{i % 6}" for i in range(n)]
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def performance(departments, rng):
    rows = [{"department_id": d, "indicator_id": i, "score": float(rng.uniform(55, 90))}
            for d in departments for i in SURVEY_ITEMS]
    return pd.DataFrame(rows)


def test_importance_performance_table():
    deps = pd.DataFrame({"department_id": ["A01", "A02", "A03", "B02", "B03"], "category": list("AAABB")})
    data = survey(deps["department_id"], n=150)
    perf = performance(deps["department_id"], np.random.default_rng(2))
    out = importance_performance(perf, deps, data, FW, weights="weight", cluster="cluster", min_n=400,
                                 outcome="D1.1")
    assert list(out.columns) == DRIVER_COLUMNS
    # the six service items explain overall satisfaction; D1.3 (easier than a year ago) is another outcome
    assert out.groupby("scope").size().to_dict() == {"city": 6, "category": 12, "department": 30}
    assert "D1.3" not in set(out["indicator_id"])
    city = out[out["scope"] == "city"].set_index("indicator_id")
    assert city["importance"].idxmax() == "D2.5" and city["coef"].idxmax() == "D2.5"
    assert city["lmg"].sum() == pytest.approx(city["r2"].iloc[0])
    assert city["performance"].to_numpy() == pytest.approx(
        perf.groupby("indicator_id")["score"].mean().reindex(city.index).to_numpy())
    # category A has 450 complete respondents and keeps its own model; B (300 < min_n) borrows the city's
    src = out[out["scope"] == "category"].groupby("scope_id")["importance_source"].first().to_dict()
    assert src == {"A": "category:A", "B": "city"}
    dep = out[(out["scope"] == "department") & (out["scope_id"] == "B03")].set_index("indicator_id")
    assert dep["importance"].to_numpy() == pytest.approx(city["importance"].to_numpy())
    for _, chart in out.groupby(["scope", "scope_id"]):
        hi = chart["importance"] >= chart["importance"].mean()
        good = chart["performance"] >= chart["performance"].mean()
        assert ((chart["quadrant"] == "concentrate_here") == (hi & ~good)).all()
        assert ((chart["quadrant"] == "possible_overkill") == (~hi & good)).all()
    assert set(zip(out["quadrant"], out["quadrant_zh"])) <= {
        ("concentrate_here", "重点改进区"), ("keep_up", "继续保持区"), ("low_priority", "次要改进区"),
        ("possible_overkill", "过度投入区")}
    wls = importance_performance(perf, deps, data, FW, weights="weight", method="wls", outcome="D1.1")
    assert (wls["importance"] == wls["coef"]).all() and (wls["importance_method"] == "wls").all()


def all_scores(dep, **low):
    rows = [{"department_id": dep, "indicator_id": i.id, "dimension_id": i.dimension, "channel": i.channel,
             "indicator": i.name, "indicator_en": i.name_en, "score": 95.0} for i in FW.indicators]
    out = pd.DataFrame(rows)
    for key, value in low.items():
        iid = key.replace("_", ".")
        if value is None:
            out = out[out["indicator_id"] != iid]
        else:
            out.loc[out["indicator_id"] == iid, "score"] = value
    return out


def test_priorities_by_hand():
    # gap = effective index weight x (category best score - score);
    # nominal weights: D6.1 .10 x .40, D1.1 .25 x .40, D3.3 .20 x .25
    a = all_scores("A01", D6_1=40.0, D1_1=80.0, D3_3=85.0)
    peer = all_scores("A02")                         # 95 everywhere: the category's best
    # B02 is alone in its category (no gap to a peer): ties are broken by weight x (100 - score);
    # it has no callback overall satisfaction (D1.2), so D1.1 takes .40 / .65 of D1's 25 points
    b = all_scores("B02", D6_1=40.0, D1_1=80.0, D3_3=85.0, D1_2=None)
    deps = pd.DataFrame({"department_id": ["A01", "A02", "B02"], "department": ["甲", "丙", "乙"],
                         "category": ["A", "A", "B"]})
    out = improvement_priorities(pd.concat([a, peer, b]), deps, FW)
    assert list(out.columns) == PRIORITY_COLUMNS
    # D1.1 is an outcome ([roles] outcomes): it has the second largest gap but is never a priority
    assert not out["indicator_id"].isin(FW.roles.outcomes).any()
    pa = out[out["department_id"] == "A01"]
    assert pa["indicator_id"].tolist()[:2] == ["D6.1", "D3.3"] and pa["priority"].tolist() == [1, 2, 3]
    assert pa["gap"].to_numpy()[:2] == pytest.approx([0.04 * 55, 0.05 * 10])
    pb = out[out["department_id"] == "B02"]
    assert pb["indicator_id"].tolist()[:2] == ["D6.1", "D3.3"]
    assert (pb["gap"] == 0).all()
    # effective weights stay those of the full index (outcomes leave the list, not the index)
    assert pb["weight"].iloc[0] == pytest.approx(0.10 * 0.40)
    assert (out["quadrant"] == "").all()   # no drivers table given


def test_cluster_robust_standard_errors_are_statsmodels_wls():
    # the sufficient-statistics regression gives statsmodels' WLS coefficients and cluster-robust SEs
    rng = np.random.default_rng(8)
    n, p = 4000, 5
    days = rng.integers(0, 60, n)
    x = np.clip(rng.normal(70, 18, (n, p)) + rng.normal(0, 8, 60)[days][:, None], 0, 100)
    y = np.clip(x @ rng.uniform(0.0, 0.3, p) + rng.normal(0, 9, n), 0, 100)
    w = rng.uniform(0.5, 4.0, n)
    frame = pd.DataFrame(x, columns=[f"x{j}" for j in range(p)]).assign(y=y, w=w, day=days)
    frame.loc[rng.choice(n, 200, replace=False), "x2"] = np.nan      # listwise deletion
    out = importance(frame, "y", [f"x{j}" for j in range(p)], weights="w", cluster="day")
    complete = frame.dropna()
    fit = sm.WLS(complete["y"].to_numpy(), sm.add_constant(complete[[f"x{j}" for j in range(p)]].to_numpy()),
                 weights=complete["w"].to_numpy()).fit(cov_type="cluster",
                                                       cov_kwds={"groups": pd.factorize(complete["day"])[0]})
    assert out["n_model"].iloc[0] == len(complete)
    assert out["coef"].to_numpy() == pytest.approx(fit.params[1:], rel=1e-10)
    assert out["coef_se"].to_numpy() == pytest.approx(fit.bse[1:], rel=1e-10)
