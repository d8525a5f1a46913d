"""Closed forms, invariances and error handling of the design-based estimators."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from evaluation.calibration import poststratify, rake, weight_diagnostics, weight_diagnostics_by
from evaluation.design import (
    ESTIMATE_COLUMNS,
    Design,
    design_mean,
    design_ratio,
    design_total,
    prepare_design,
    proportion_ci,
)
from evaluation.replicates import (
    bootstrap_domain_means,
    bootstrap_weights,
    jk1_weights,
    jkn_weights,
    replicate_mean,
    replicate_se,
    replicate_total,
)
from surveys.errors import DataValidationError, MethodologyError, MinpingWarning
from tests.conftest import REFERENCE

SURVEY = REFERENCE / "survey"


@pytest.fixture(scope="module")
def apiclus1() -> pd.DataFrame:
    return pd.read_csv(SURVEY / "apiclus1.csv")


def _one(frame):
    assert len(frame) == 1
    return frame.iloc[0]


# ---------------------------------------------------------------------------- closed forms

def test_srs_mean_closed_form():
    # n = 10 of N = 100: SE = s / sqrt(n) * sqrt(1 - n/N), weights derived as N/n = 10
    y = np.arange(1.0, 11.0)
    data = pd.DataFrame({"y": y, "N": 100})
    row = _one(design_mean(data, "y", Design(fpc="N")))
    s = math.sqrt(((y - 5.5) ** 2).sum() / 9)        # 3.0276503540974917
    assert row["estimate"] == pytest.approx(5.5, rel=1e-12)
    assert row["se"] == pytest.approx(s / math.sqrt(10) * math.sqrt(1 - 10 / 100), rel=1e-12)
    assert row["n"] == 10 and row["n_eff"] == pytest.approx(10.0)
    assert row["df"] == 9
    # the SRSWOR variance is the design variance here
    assert row["deff"] == pytest.approx(1.0, rel=1e-12)
    total = _one(design_total(data, "y", Design(fpc="N")))
    assert total["estimate"] == pytest.approx(550.0, rel=1e-12)
    assert total["se"] == pytest.approx(100 * row["se"], rel=1e-12)
    # a sampling fraction instead of a population size gives the same answer
    frac = _one(design_mean(data.assign(f=0.1), "y", Design(fpc="f")))
    assert frac["se"] == pytest.approx(row["se"], rel=1e-12)


def test_srs_with_replacement_without_fpc():
    y = np.array([2.0, 4.0, 9.0, 1.0])
    row = _one(design_mean(pd.DataFrame({"y": y}), "y", Design()))
    assert row["se"] == pytest.approx(y.std(ddof=1) / 2, rel=1e-12)
    assert math.isnan(row["deff"])    # weights of 1 sum to n: no population to compare with


def test_stratified_closed_form():
    # two strata: N = (40, 60), samples of 4 and 3
    y1, y2 = np.array([3.0, 5.0, 6.0, 10.0]), np.array([1.0, 2.0, 6.0])
    data = pd.DataFrame({
        "y": np.concatenate([y1, y2]), "h": ["a"] * 4 + ["b"] * 3, "N": [40] * 4 + [60] * 3,
        "w": [10.0] * 4 + [20.0] * 3,
    })
    shares = np.array([0.4, 0.6])
    means = np.array([y1.mean(), y2.mean()])
    var = (shares ** 2 * (1 - np.array([4 / 40, 3 / 60])) * np.array([y1.var(ddof=1) / 4, y2.var(ddof=1) / 3])).sum()
    for design in (Design(weights="w", strata="h", fpc="N"), Design(strata="h", fpc="N")):
        row = _one(design_mean(data, "y", design))
        assert row["estimate"] == pytest.approx((shares * means).sum(), rel=1e-12)
        assert row["se"] == pytest.approx(math.sqrt(var), rel=1e-12)
        assert row["df"] == 7 - 2


def test_cluster_total_closed_form():
    # one stage, 4 PSUs of 20: V = (1 - f) n/(n-1) sum (t_i - tbar)^2 with t_i the weighted PSU totals
    data = pd.DataFrame({"psu": [1, 1, 2, 3, 3, 3, 4], "y": [1.0, 2.0, 4.0, 0.0, 1.0, 1.0, 6.0], "w": 5.0,
                         "N": 20})
    t = np.array([15.0, 20.0, 10.0, 30.0])
    row = _one(design_total(data, "y", Design(weights="w", cluster="psu", fpc="N")))
    assert row["estimate"] == pytest.approx(75.0)
    assert row["se"] == pytest.approx(math.sqrt((1 - 4 / 20) * 4 / 3 * ((t - t.mean()) ** 2).sum()), rel=1e-12)
    assert row["df"] == 3


def test_ratio_closed_form():
    data = pd.DataFrame({"y": [2.0, 3.0, 5.0, 4.0], "x": [1.0, 2.0, 2.0, 3.0]})
    row = _one(design_ratio(data, "y", "x", Design()))
    r = 14 / 8
    e = (data["y"] - r * data["x"]) / 8
    assert row["estimate"] == pytest.approx(r)
    assert row["se"] == pytest.approx(math.sqrt(4 / 3 * (e ** 2).sum()), rel=1e-12)


# ---------------------------------------------------------------------------- invariances

def _synthetic(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    h = rng.integers(0, 4, n)
    return pd.DataFrame({
        "h": h, "psu": rng.integers(0, 12, n), "dept": rng.choice(["甲", "乙", "丙"], n),
        "y": rng.normal(60 + 5 * h, 10, n), "w": rng.uniform(1, 4, n) * (1 + h), "N": 40,
    })


def test_invariant_to_row_order():
    data = _synthetic()
    design = Design(weights="w", strata="h", cluster="psu", fpc="N")
    a = design_mean(data, "y", design, by="dept")
    b = design_mean(data.sample(frac=1.0, random_state=3), "y", design, by="dept")
    pd.testing.assert_frame_equal(a, b, rtol=1e-10)


def test_mean_invariant_to_weight_scale():
    data = _synthetic()
    design = Design(weights="w", strata="h", cluster="psu")
    a = design_mean(data, "y", design, by="dept")
    b = design_mean(data.assign(w=data["w"] * 37.5), "y", design, by="dept")
    for col in ("estimate", "se", "ci_low", "ci_high", "n_eff", "df"):
        np.testing.assert_allclose(a[col], b[col], rtol=1e-10)
    ta = design_total(data, "y", design, by="dept")
    tb = design_total(data.assign(w=data["w"] * 37.5), "y", design, by="dept")
    np.testing.assert_allclose(tb["se"], 37.5 * ta["se"], rtol=1e-10)


def test_prepared_design_gives_same_result():
    data = _synthetic()
    design = Design(weights="w", strata="h", cluster="psu", fpc="N")
    prep = prepare_design(data, design)
    pd.testing.assert_frame_equal(design_mean(data, "y", design, by="dept"), design_mean(data, "y", prep, by="dept"))
    with pytest.raises(MethodologyError, match="other rows"):
        design_mean(data.iloc[:10], "y", prep)


# ---------------------------------------------------------------------------- domains

def test_domain_is_not_a_subset(apiclus1):
    design = Design(weights="pw", cluster="dnum", fpc="fpc")
    domain = design_mean(apiclus1, "api00", design, by="stype").set_index("stype").loc["H"]
    subset = _one(design_mean(apiclus1[apiclus1["stype"] == "H"], "api00", design))
    assert domain["estimate"] == pytest.approx(subset["estimate"], rel=1e-12)
    # the subset forgets the PSUs without high schools: a different (wrong) standard error and df
    assert abs(domain["se"] - subset["se"]) > 1.0
    assert domain["df"] == 7 and subset["df"] == 7
    # explicit domain estimator: linearised variable zero outside the domain, full design
    ind = (apiclus1["stype"] == "H").to_numpy()
    w, y = apiclus1["pw"].to_numpy(), apiclus1["api00"].to_numpy(float)
    mean = (w * y)[ind].sum() / w[ind].sum()
    z = np.where(ind, w * (y - mean) / w[ind].sum(), 0.0)
    t = pd.Series(z).groupby(apiclus1["dnum"].to_numpy()).sum().to_numpy()
    v = (1 - len(t) / 757) * len(t) / (len(t) - 1) * ((t - t.mean()) ** 2).sum()
    assert domain["se"] == pytest.approx(math.sqrt(v), rel=1e-12)


def test_missing_values_are_a_domain(apiclus1):
    design = Design(weights="pw", cluster="dnum", fpc="fpc")
    data = apiclus1.assign(y=apiclus1["api00"].astype(float))
    data.loc[data.index[::7], "y"] = np.nan
    with_nan = _one(design_mean(data, "y", design))
    as_domain = design_mean(data.assign(ok=data["y"].notna()), "y", design, by="ok").set_index("ok").loc[True]
    assert with_nan["n"] == data["y"].notna().sum()
    for col in ("estimate", "se", "deff", "df"):
        assert with_nan[col] == pytest.approx(as_domain[col], rel=1e-12)


def test_several_by_columns_and_missing_by():
    data = _synthetic()
    data.loc[data.index[:5], "dept"] = None
    out = design_mean(data, "y", Design(weights="w", strata="h"), by=["dept", "h"])
    assert list(out.columns) == ["dept", "h", *ESTIMATE_COLUMNS]
    assert len(out) == 12 and out["n"].sum() == len(data) - 5
    expected = data.dropna(subset=["dept"]).groupby(["dept", "h"]).apply(
        lambda g: np.average(g["y"], weights=g["w"]), include_groups=False)
    got = out.set_index(["dept", "h"])["estimate"]
    np.testing.assert_allclose(got.loc[expected.index], expected.to_numpy(), rtol=1e-12)


def test_empty_domain_gives_nan():
    data = pd.DataFrame({"g": pd.Categorical(["a", "a", "b"]), "y": [1.0, 3.0, np.nan]})
    out = design_mean(data, "y", Design(), by="g").set_index("g")
    assert out.loc["b", "n"] == 0 and math.isnan(out.loc["b", "estimate"])
    assert out.loc["a", "estimate"] == 2.0


# ---------------------------------------------------------------------------- proportions

def test_beta_interval_at_zero():
    data = pd.DataFrame({"y": [0, 0, 0, 0, 0], "h": [1, 1, 2, 2, 2]})
    row = _one(proportion_ci(data, "y", Design(strata="h"), method="beta", level=0.95))
    assert row["estimate"] == 0 and row["ci_low"] == 0
    # Clopper-Pearson with n* = n = 5 and t-adjustment (t_4 / t_3)^2
    assert 0.3 < row["ci_high"] < 0.8
    assert math.isnan(_one(proportion_ci(data, "y", Design(strata="h"), method="logit", level=0.95))["ci_low"])


def test_proportion_rejects_non_binary():
    with pytest.raises(DataValidationError, match="not a 0/1 indicator"):
        proportion_ci(pd.DataFrame({"y": [0, 1, 2]}), "y", Design(), level=0.95)
    with pytest.raises(MethodologyError, match="unknown proportion interval"):
        proportion_ci(pd.DataFrame({"y": [0, 1, 1]}), "y", Design(), method="clopper", level=0.95)


# ---------------------------------------------------------------------------- calibration

MARGINS = {"stype": {"E": 4421, "H": 755, "M": 1018}, "sch.wide": {"No": 1072, "Yes": 5122}}
DCLUS1 = Design(weights="pw", cluster="dnum", fpc="fpc")


def test_poststratified_weights_meet_counts(apiclus1):
    cal = poststratify(apiclus1, DCLUS1, "stype", MARGINS["stype"])
    sums = pd.Series(cal.weights).groupby(apiclus1["stype"].to_numpy()).sum()
    np.testing.assert_allclose(sums.loc[["E", "H", "M"]], [4421, 755, 1018], rtol=1e-12)
    assert np.abs(cal.gaps["gap"]).max() < 1e-9
    assert cal.diagnostics["n"] == len(apiclus1)


def test_tight_rake_meets_margins_and_reports(apiclus1):
    cal = rake(apiclus1, DCLUS1, MARGINS, tight=True)
    assert cal.converged
    assert np.abs(cal.gaps["gap"]).max() < 1e-6
    assert cal.convergence["sweeps"].iloc[0] <= 100
    d = cal.diagnostics
    assert d["deff_kish"] == pytest.approx(1 + d["cv"] ** 2, rel=1e-12)
    assert d["n_eff"] == pytest.approx(d["n"] / d["deff_kish"], rel=1e-12)
    assert d["ratio"] == pytest.approx(d["max"] / d["min"])


def test_rake_per_domain_equals_separate_rakes(apiclus1):
    data = apiclus1.assign(region=np.where(apiclus1["dnum"] % 2 == 0, "north", "south"))
    design = Design(weights="pw", cluster="dnum")
    pops = {}
    for region, part in data.groupby("region"):
        share = part["pw"].sum() / data["pw"].sum()
        pops[region] = {"stype": {k: v * share for k, v in MARGINS["stype"].items()},
                        "sch.wide": {k: v * share for k, v in MARGINS["sch.wide"].items()}}
    margins = {m: {r: pops[r][m] for r in pops} for m in ("stype", "sch.wide")}
    joint = rake(data, design, margins, by="region")
    assert set(joint.convergence["region"]) == {"north", "south"}
    for region in ("north", "south"):
        mask = (data["region"] == region).to_numpy()
        alone = rake(data[mask], design, pops[region])
        np.testing.assert_allclose(joint.weights[mask], alone.weights, rtol=1e-12)


def test_calibrated_domain_paths_agree(apiclus1):
    # cells cut across the domains (by=sch.wide after raking on sch.wide and stype): per-domain path;
    # the same domain as the only non-missing rows goes through the single-vector path
    cal = rake(apiclus1, DCLUS1, MARGINS)
    by_domain = design_mean(apiclus1, "api00", DCLUS1, by="stype", calibration=cal).set_index("stype")
    for level in ("E", "H", "M"):
        y = apiclus1["api00"].where(apiclus1["stype"] == level)
        alone = _one(design_mean(apiclus1.assign(y=y), "y", DCLUS1, calibration=cal))
        assert by_domain.loc[level, "se"] == pytest.approx(alone["se"], rel=1e-12)


def test_poststratified_se_smaller_for_the_stratifier(apiclus1):
    # a post-stratifier's own proportions are known exactly after post-stratification
    data = apiclus1.assign(elem=(apiclus1["stype"] == "E").astype(float))
    cal = poststratify(data, DCLUS1, "stype", MARGINS["stype"])
    row = _one(design_mean(data, "elem", DCLUS1, calibration=cal))
    assert row["estimate"] == pytest.approx(4421 / 6194, rel=1e-12)
    assert row["se"] < 1e-10


def test_infeasible_margins_name_the_margin(apiclus1):
    with pytest.raises(MethodologyError, match="margin 'stype'") as err:
        rake(apiclus1, DCLUS1, {"stype": {"E": 4421, "H": 755}, "sch.wide": MARGINS["sch.wide"]})
    assert "'M'" in str(err.value)
    with pytest.raises(MethodologyError, match="margin 'stype'.*no respondent"):
        rake(apiclus1, DCLUS1, {"stype": {**MARGINS["stype"], "X": 5}, "sch.wide": MARGINS["sch.wide"]})
    with pytest.raises(MethodologyError, match="margin 'sch.wide' cannot be met together"):
        rake(apiclus1, DCLUS1, {"stype": MARGINS["stype"], "sch.wide": {"No": 1072, "Yes": 6000}})
    with pytest.raises(MethodologyError, match="margin '.*' cannot be met"):
        rake(apiclus1, DCLUS1, MARGINS, tight=True, bounds=(0.99, 1.01))
    with pytest.raises(MethodologyError, match="cell .*'E'.*population count 0"):
        poststratify(apiclus1, DCLUS1, "stype", {"E": 0, "H": 755, "M": 1018})
    part = poststratify(apiclus1, DCLUS1, "stype", {**MARGINS["stype"], "X": 5}, partial=True)
    assert set(part.gaps["level"]) == {"E", "H", "M"}


def test_rake_warns_when_not_converged(apiclus1):
    with pytest.warns(MinpingWarning, match="did not meet the margins in 1 sweeps"):
        cal = rake(apiclus1, DCLUS1, MARGINS, epsilon=1e-10, maxit=1)
    assert not cal.converged


def test_trim_keeps_total_and_bounds(apiclus1):
    cal = rake(apiclus1, DCLUS1, MARGINS, tight=True, trim=(0.9, 1.5))
    w, mean = cal.weights, cal.weights.mean()
    assert w.sum() == pytest.approx(6194, rel=1e-9)
    assert w.max() <= 1.5 * mean * (1 + 1e-9) and w.min() >= 0.9 * mean * (1 - 1e-9)


def test_weight_diagnostics_hand_values():
    d = weight_diagnostics([1.0, 1.0, 2.0, 4.0, 0.0])
    assert (d["n"], d["n_zero"], d["min"], d["max"], d["ratio"]) == (4, 1, 1.0, 4.0, 4.0)
    assert d["n_eff"] == pytest.approx(64 / 22)
    assert d["deff_kish"] == pytest.approx(4 * 22 / 64)
    by = weight_diagnostics_by(pd.DataFrame({"g": ["a", "a", "b"]}), [1.0, 3.0, 2.0], "g")
    assert list(by["n_eff"]) == [pytest.approx(16 / 10), 1.0]


# ---------------------------------------------------------------------------- replicates

def test_jackknife_total_equals_linearisation(apiclus1):
    # for a total the JK1 variance equals the linearisation one exactly
    reps = jk1_weights(apiclus1, DCLUS1)
    jk = _one(replicate_total(apiclus1, "enroll", reps, centre="full"))
    lin = _one(design_total(apiclus1, "enroll", DCLUS1))
    assert jk["estimate"] == pytest.approx(lin["estimate"], rel=1e-12)
    assert jk["se"] == pytest.approx(lin["se"], rel=1e-10)
    strat = pd.read_csv(SURVEY / "apistrat.csv")
    design = Design(weights="pw", strata="stype", fpc="fpc")
    jkn = _one(replicate_total(strat, "enroll", jkn_weights(strat, design), centre="full"))
    assert jkn["se"] == pytest.approx(_one(design_total(strat, "enroll", design))["se"], rel=1e-10)
    with pytest.raises(MethodologyError, match="JK1 is for unstratified"):
        jk1_weights(strat, design)


def _stratified_sample(n=40_000, seed=11):
    rng = np.random.default_rng(seed)
    h = rng.integers(0, 5, n)
    y = rng.normal(50 + 4 * h, 12, n) + rng.exponential(5, n)
    w = rng.uniform(1, 3, n) * (2 + h)
    return h, y, w


@pytest.mark.parametrize("method", ["poisson", "rescaled"])
def test_bootstrap_domain_means_close_to_linearisation(method):
    h, y, w = _stratified_sample()
    lin = design_mean(pd.DataFrame({"h": h, "y": y, "w": w}), "y", Design(weights="w", strata="h"), by="h")
    reps = bootstrap_domain_means(y, w, h, 400, np.random.default_rng(1), strata=h, method=method,
                                  chunk_rows=1000)
    assert reps.shape == (5, 400)
    ratio = replicate_se(reps, scale=1 / 399) / lin["se"].to_numpy()
    assert np.all(np.abs(ratio - 1) < 0.15)
    assert abs(ratio.mean() - 1) < 0.06
    np.testing.assert_allclose(reps.mean(axis=1), lin["estimate"], atol=4 * lin["se"].max() / 20)


def test_bootstrap_domain_means_with_clusters(apiclus1):
    g = pd.factorize(apiclus1["stype"], sort=True)[0]
    reps = bootstrap_domain_means(apiclus1["api00"], apiclus1["pw"], g, 3000, np.random.default_rng(2),
                                  clusters=apiclus1["dnum"], method="rescaled")
    lin = design_mean(apiclus1, "api00", Design(weights="pw", cluster="dnum"), by="stype")
    np.testing.assert_allclose(replicate_se(reps, scale=1 / 2999), lin["se"], rtol=0.1)


def test_bootstrap_is_reproducible():
    h, y, w = _stratified_sample(5000)
    a = bootstrap_domain_means(y, w, h, 200, np.random.default_rng(7), chunk_rows=512)
    b = bootstrap_domain_means(y, w, h, 200, np.random.default_rng(7), chunk_rows=512)
    np.testing.assert_array_equal(a, b)
    c = bootstrap_domain_means(y, w, h, 200, np.random.default_rng(8), chunk_rows=512)
    assert not np.array_equal(a, c)
    # another row order is another random draw of the same bootstrap
    order = np.random.default_rng(0).permutation(len(y))
    d = bootstrap_domain_means(y[order], w[order], h[order], 200, np.random.default_rng(7), chunk_rows=512)
    np.testing.assert_allclose(replicate_se(d, scale=1 / 199), replicate_se(a, scale=1 / 199), rtol=0.3)


def test_bootstrap_weights_close_to_linearisation():
    h, y, w = _stratified_sample(4000)
    data = pd.DataFrame({"h": h, "y": y, "w": w})
    design = Design(weights="w", strata="h")
    reps = bootstrap_weights(data, design, 500, np.random.default_rng(4))
    boot = replicate_mean(data, "y", reps, by="h")
    lin = design_mean(data, "y", design, by="h")
    ratio = boot["se"].to_numpy() / lin["se"].to_numpy()
    assert np.all(np.abs(ratio - 1) < 0.15)


def test_replicate_se_formula():
    theta = np.array([[1.0, 2.0, 3.0, 6.0]])
    assert replicate_se(theta, scale=0.5)[0] == pytest.approx(math.sqrt(0.5 * 14))
    assert replicate_se(theta, scale=0.5, centre="full", estimate=[2.0])[0] == pytest.approx(math.sqrt(0.5 * 18))
    with pytest.warns(MinpingWarning, match="left out"):
        se = replicate_se(np.array([[1.0, np.nan, 3.0]]), scale=1.0)
    assert se[0] == pytest.approx(math.sqrt(2.0))


# ---------------------------------------------------------------------------- bad input

def test_bad_design_inputs():
    data = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "w": [1.0, -2.0, 1.0, np.nan], "h": ["a", "a", None, "b"],
                         "N": [10, 12, 10, 10]})
    with pytest.raises(DataValidationError, match="weight"):
        design_mean(data, "y", Design(weights="w"))
    with pytest.raises(DataValidationError, match="stratum column 'h' has missing values"):
        design_mean(data, "y", Design(strata="h"))
    with pytest.raises(DataValidationError, match="fpc varies within stratum"):
        design_mean(data.assign(h=["a", "a", "b", "b"]), "y", Design(strata="h", fpc="N"))
    with pytest.raises(DataValidationError, match="population size below"):
        design_mean(data.assign(N=1.5), "y", Design(fpc="N"))
    with pytest.raises(DataValidationError, match="column 'nope' not found"):
        design_mean(data, "nope", Design())
    with pytest.raises(DataValidationError, match="weight column 'nope' not found"):
        design_mean(data, "y", Design(weights="nope"))
    with pytest.raises(MethodologyError, match="lonely_psu"):
        Design(lonely_psu="ignore")
    with pytest.raises(MethodologyError, match="confidence level"):
        design_mean(data, "y", Design(), level=95)
    with pytest.raises(MethodologyError, match="df="):
        design_mean(data, "y", Design(), df="satterthwaite")


def test_lonely_psu_rules():
    data = pd.DataFrame({"y": [1.0, 5.0, 3.0, 8.0], "h": ["a", "a", "a", "b"]})
    with pytest.raises(MethodologyError, match=r"stratum \['b'\] has a single PSU"):
        design_mean(data, "y", Design(strata="h"))
    removed = _one(design_mean(data, "y", Design(strata="h", lonely_psu="remove")))
    # only stratum a contributes: 3/2 sum (z - zbar)^2 with z = (y - ybar) / 4 over its three rows
    z = (np.array([1.0, 5.0, 3.0]) - 17 / 4) / 4
    assert removed["se"] == pytest.approx(math.sqrt(3 / 2 * ((z - z.mean()) ** 2).sum()), rel=1e-12)
    assert _one(design_mean(data, "y", Design(strata="h", lonely_psu="certainty")))["se"] == removed["se"]
    adjusted = _one(design_mean(data, "y", Design(strata="h", lonely_psu="adjust")))
    assert adjusted["se"] > removed["se"]
    # a domain that does not touch the lonely stratum is estimable under "fail"
    dom = design_mean(data.assign(d=["x", "x", "x", "z"]).assign(y=[1.0, 5.0, 3.0, np.nan]), "y",
                      Design(strata="h"))
    assert dom["se"].notna().all()

