"""Index variance across channels, degrees of freedom, share intervals and the bootstrap's randomness.

Hand-computable fixtures: two sampled tables (survey, callback interviews) drawn independently, a
department of each kind of degenerate component, the framework's share interval, and the bootstrap
drawing from the named seed stream with re-calibrated replicates.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from evaluation.bootstrap import bootstrap_scores
from evaluation.design import Design, design_mean, proportion_ci
from evaluation.index import VARIANCE_COMPONENT_COLUMNS, aggregate, satterthwaite
from evaluation.indicators import estimate_indicators
from surveys.framework import parse_framework
from surveys.project import CalibrationSpec
from surveys.schema import ChannelData

SCALE = {"kind": "likert", "codes": [1, 2, 3, 4, 5], "na_codes": [9], "top_box": [4, 5], "bottom_box": [1, 2]}


def _framework(**head):
    return parse_framework({
        "framework": {"id": "two", "version": "1", "confidence_level": 0.95, **head},
        "scales": {"satisfaction": SCALE},
        "items": [{"table": "survey", "id": "q_overall", "scale": "satisfaction"},
                  {"table": "survey", "id": "q_speed", "scale": "satisfaction"},
                  {"table": "callback_interviews", "id": "cb_overall", "scale": "satisfaction"}],
        "dimensions": [{"id": "D1", "weight": 60}, {"id": "D2", "weight": 40}],
        "indicators": [
            {"id": "S1", "dimension": "D1", "channel": "S", "table": "survey", "field": "q_overall",
             "scale": "satisfaction", "measure": "likert", "transform": {"kind": "likert"}, "weight": 0.5},
            {"id": "C1", "dimension": "D1", "channel": "C", "table": "callback_interviews", "field": "cb_overall",
             "scale": "satisfaction", "measure": "likert", "transform": {"kind": "likert"}, "weight": 0.5},
            {"id": "S2", "dimension": "D2", "channel": "S", "table": "survey", "field": "q_speed",
             "scale": "satisfaction", "measure": "share", "success": [4, 5], "transform": {"kind": "percent"},
             "weight": 1.0},
        ],
        "grades": [{"grade": "A", "min": 90}, {"grade": "D", "min": 0}],
        "categories": [{"id": "C"}],
        "departments": [{"id": d, "category": "C", "tier": "L"} for d in ("P", "Q", "R")],
    })


def _data():
    rng = np.random.default_rng(11)
    survey = pd.DataFrame({
        "department_id": np.repeat(["P", "Q", "R"], [24, 18, 12]),
        "cluster": np.concatenate([np.repeat(np.arange(4), 6), np.repeat(np.arange(3), 6), np.repeat(np.arange(2), 6)])
        .astype(str),
        "weight": rng.uniform(1, 3, 54),
        "q_overall": rng.integers(2, 6, 54).astype(float),
        "q_speed": rng.integers(1, 6, 54).astype(float),
    })
    survey.loc[survey["department_id"] == "R", "q_speed"] = 5.0        # R: every respondent satisfied
    callbacks = pd.DataFrame({"department_id": np.repeat(["P", "Q", "R"], [30, 20, 1]),
                              "cb_overall": rng.integers(1, 6, 51).astype(float)})
    return ChannelData(2024, {"survey": survey, "callback_interviews": callbacks},
                       {"survey": {"weights": "weight", "cluster": "cluster"}})


def test_index_variance_adds_the_channels_and_takes_satterthwaite_df():
    fw = _framework()
    data = _data()
    est = estimate_indicators(data, fw)
    agg = aggregate(est, fw)
    comp = agg.variance_components
    assert list(comp.columns) == VARIANCE_COMPONENT_COLUMNS
    p = comp[comp["department_id"] == "P"].set_index("table")
    # the survey part: the design variance of sum_i c_i z_i over the survey indicators, by hand with design_mean
    survey = data.tables["survey"].copy()
    s1 = (survey["q_overall"] - 1) * 25
    s2 = 100.0 * survey["q_speed"].isin([4, 5])
    sub = survey[survey["department_id"] == "P"]
    design = Design(weights="weight", cluster="cluster")
    m1 = np.average(s1[sub.index], weights=sub["weight"])
    m2 = np.average(s2[sub.index], weights=sub["weight"])
    # index = 0.6 (0.5 S1 + 0.5 C1) + 0.4 S2: u = 0.3 (s1 - m1) + 0.4 (s2 - m2) over the weights' total
    combo = sub.assign(u=0.3 * (s1[sub.index] - m1) + 0.4 * (s2[sub.index] - m2))
    v_survey = design_mean(combo, "u", design)["se"].iloc[0] ** 2
    assert p.loc["survey", "variance"] == pytest.approx(v_survey)
    assert (p.loc["survey", "n"], p.loc["survey", "n_psu"], p.loc["survey", "df"]) == (24, 4, 3)
    cb = data.tables["callback_interviews"]
    c = (cb.loc[cb["department_id"] == "P", "cb_overall"] - 1) * 25
    v_cb = 0.3 ** 2 * c.var(ddof=1) / len(c)
    assert p.loc["callback_interviews", "variance"] == pytest.approx(v_cb)
    assert p.loc["callback_interviews", "df"] == 29
    row = agg.index.set_index("department_id").loc["P"]
    assert row["se"] ** 2 == pytest.approx(v_survey + v_cb)
    assert row["df"] == pytest.approx(satterthwaite([v_survey, v_cb], [3, 29]))
    # a dimension drawn from one channel keeps that channel's df
    dims = agg.dimensions.set_index(["department_id", "dimension_id"])
    assert dims.loc[("P", "D2"), "df"] == 3


def test_degenerate_components_are_flagged_and_only_they_take_the_rule():
    fw = _framework()
    est = estimate_indicators(_data(), fw)
    ind = est.frame.set_index(["department_id", "indicator_id"])
    # R's share of satisfied respondents is 1; R's single callback interview
    assert ind.loc[("R", "S2"), "se_rule"] == "pooled" and ind.loc[("R", "S2"), "degenerate"] == "identical"
    assert ind.loc[("R", "C1"), "se_rule"] == "pooled" and ind.loc[("R", "C1"), "degenerate"] == "single_unit"
    others = ind.drop(index=[("R", "S2"), ("R", "C1")])
    assert (others["se_rule"] == "linearisation").all() and (others["degenerate"] == "").all()
    assert (others["extra_var"] == 0).all() and np.isfinite(ind.loc[("R", "S2"), "extra_var"])
    assert ind.loc[("R", "S2"), "se"] > 0 and np.isinf(ind.loc[("R", "S2"), "df"])
    agg = aggregate(est, fw)
    r = agg.variance_components[agg.variance_components["department_id"] == "R"].set_index("table")
    # the pooled terms enter the table they belong to, with infinite df
    assert r.loc["callback_interviews", "variance_pooled"] == pytest.approx(0.3 ** 2 * ind.loc[("R", "C1"), "se"] ** 2)
    assert r.loc["callback_interviews", "variance"] == pytest.approx(r.loc["callback_interviews", "variance_pooled"])
    assert np.isinf(r.loc["callback_interviews", "df"])


@pytest.mark.parametrize("name,method", [("logit", "logit"), ("korn_graubard", "beta"), ("wilson", "wilson")])
def test_share_interval_is_the_framework_setting(name, method):
    fw = _framework(share_interval=name)
    data = _data()
    est = estimate_indicators(data, fw)
    survey = data.tables["survey"].assign(ok=lambda f: f["q_speed"].isin([4, 5]).astype(float))
    design = Design(weights="weight", strata="department_id", cluster="cluster")
    want = proportion_ci(survey, "ok", design, by="department_id", method=method, level=0.95).set_index(
        "department_id")
    got = est.frame[est.frame["indicator_id"] == "S2"].set_index("department_id")
    for d in ("P", "Q"):
        assert got.loc[d, "raw_se"] == pytest.approx(want.loc[d, "se"], rel=1e-10)
        assert got.loc[d, "se"] == pytest.approx(100 * want.loc[d, "se"], rel=1e-10)
        assert (got.loc[d, "ci_low"], got.loc[d, "ci_high"]) == pytest.approx(
            (100 * want.loc[d, "ci_low"], 100 * want.loc[d, "ci_high"]), rel=1e-9)
        assert got.loc[d, "df"] == want.loc[d, "df"]
    top = est.frame[est.frame["indicator_id"] == "S1"].set_index("department_id")
    box = survey.assign(top=survey["q_overall"].isin([4, 5]).astype(float))
    want = proportion_ci(box, "top", design, by="department_id", method=method, level=0.95).set_index(
        "department_id")
    np.testing.assert_allclose(top.loc[["P", "Q"], "top2_se"], want.loc[["P", "Q"], "se"], rtol=1e-10)
    np.testing.assert_allclose(top.loc[["P", "Q"], "top2_ci_high"], want.loc[["P", "Q"], "ci_high"], rtol=1e-9)


def test_bootstrap_draws_from_its_named_stream_and_recalibrates():
    fw = _framework()
    data = _data()
    est = estimate_indicators(data, fw)
    a = bootstrap_scores(est, fw, n_replicates=20, seed=5)[1]["S1"]
    b = bootstrap_scores(est, fw, n_replicates=20, seed=5)[1]["S1"]
    c = bootstrap_scores(est, fw, n_replicates=20, seed=6)[1]["S1"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # a calibrated table's replicates are re-calibrated; a single cell per department only rescales the
    # weights within the department, so every replicate mean is the uncalibrated one
    margins = pd.DataFrame({"department_id": ["P", "Q", "R"], "variable": "cluster_all", "level": "x",
                            "total": [100.0, 80.0, 60.0]})
    survey = data.tables["survey"].assign(cluster_all="x")
    cal = replace(data, tables={**data.tables, "survey": survey},
                  designs={"survey": {"weights": "weight", "cluster": "cluster",
                                      "calibrate": CalibrationSpec("poststratify", margins=margins)}})
    est = estimate_indicators(cal, fw)
    assert est.calibrations["survey"].weights.sum() == pytest.approx(240.0)
    scores = bootstrap_scores(est, fw, n_replicates=10, seed=5)[1]["S1"]
    plain = bootstrap_scores(estimate_indicators(data, fw), fw, n_replicates=10, seed=5)[1]["S1"]
    np.testing.assert_allclose(scores, plain, rtol=1e-12)
