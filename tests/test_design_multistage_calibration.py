"""Multistage designs, linear (GREG) calibration and re-calibrated replicates against R ``survey`` 4.1.1.

Every golden number stands beside the R call that produced it (R 4.2.2, ``options(digits=15)``);
``tests/reference/design_reference.R`` regenerates them all.  Data: the California API samples shipped
with R ``survey`` (``tests/reference/survey``): ``apiclus1`` (one-stage cluster sample of districts) and
``apiclus2`` (districts, then at most five schools in each; ``fpc1`` districts in the population,
``fpc2`` schools in the district).

R designs::

    dclus1 <- svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1)
    dclus2 <- svydesign(ids=~dnum+snum, fpc=~fpc1+fpc2, data=apiclus2)
    pop    <- c(`(Intercept)`=6194, stypeH=755, stypeM=1018, api99=3914069)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.calibration import calibrate_linear, poststratify, rake
from evaluation.design import Design, design_mean, design_total
from evaluation.linearisation import prepare_design
from evaluation.replicates import bootstrap_weights, jk1_weights, recalibrate, replicate_mean
from surveys.errors import DataValidationError, MethodologyError
from tests.conftest import REFERENCE

SURVEY = REFERENCE / "survey"
REL = 1e-8

DCLUS1 = Design(weights="pw", cluster="dnum", fpc="fpc")
DCLUS2 = Design(cluster=["dnum", "snum"], fpc=["fpc1", "fpc2"])
STYPE = {"E": 4421, "H": 755, "M": 1018}
SCHWIDE = {"No": 1072, "Yes": 5122}
API99_TOTAL = 3914069


@pytest.fixture(scope="module")
def apiclus1() -> pd.DataFrame:
    return pd.read_csv(SURVEY / "apiclus1.csv")


@pytest.fixture(scope="module")
def apiclus2() -> pd.DataFrame:
    return pd.read_csv(SURVEY / "apiclus2.csv")


def _one(frame: pd.DataFrame) -> pd.Series:
    assert len(frame) == 1
    return frame.iloc[0]


# ---------------------------------------------------------------------------- two-stage designs

def test_two_stage_mean_and_total(apiclus2):
    # svymean(~api00, dclus2)
    row = _one(design_mean(apiclus2, "api00", DCLUS2))
    assert row["estimate"] == pytest.approx(670.811808118081, rel=REL)
    assert row["se"] == pytest.approx(30.0990273768366, rel=REL)
    assert row["df"] == 39                                       # degf(dclus2): 40 districts - 1
    # svytotal(~enroll, dclus2, na.rm=TRUE)
    row = _one(design_total(apiclus2, "enroll", DCLUS2))
    assert row["estimate"] == pytest.approx(2639272.93, rel=REL)
    assert row["se"] == pytest.approx(799637.773648358, rel=REL)


def test_two_stage_domains(apiclus2):
    # svyby(~api00, ~stype, dclus2, svymean)
    out = design_mean(apiclus2, "api00", DCLUS2, by="stype").set_index("stype")
    for level, (estimate, se) in {"E": (692.810400866739, 29.9266042374030),
                                  "H": (598.340659340659, 17.6941671260910),
                                  "M": (642.352000000000, 45.0913163003311)}.items():
        assert out.loc[level, "estimate"] == pytest.approx(estimate, rel=REL), level
        assert out.loc[level, "se"] == pytest.approx(se, rel=REL), level


def test_two_stage_weights_from_fpc_and_fractions(apiclus2):
    # weights(dclus2)[1:3] = 18.925: N1/n1 x N2/n2 (757/40 x 1/1)
    prep = prepare_design(apiclus2, DCLUS2)
    np.testing.assert_allclose(prep.weights, apiclus2["pw"], rtol=1e-12)
    assert prep.weights[:3] == pytest.approx([18.925] * 3)
    # the same design with sampling fractions at both stages: svymean(~api00, dfrac), same values
    size = apiclus2.groupby("dnum")["snum"].transform("size")
    frac = apiclus2.assign(f1=40 / apiclus2["fpc1"], f2=size / apiclus2["fpc2"])
    row = _one(design_mean(frac, "api00", Design(cluster=("dnum", "snum"), fpc=("f1", "f2"))))
    assert row["se"] == pytest.approx(30.0990273768366, rel=REL)


def test_two_stage_without_fpc_uses_the_first_stage_only(apiclus2):
    # svymean(~api00, svydesign(ids=~dnum+snum, weights=~pw)): with replacement, later stages ignored
    two = _one(design_mean(apiclus2, "api00", Design(weights="pw", cluster=("dnum", "snum"))))
    one = _one(design_mean(apiclus2, "api00", Design(weights="pw", cluster="dnum")))
    assert two["se"] == pytest.approx(30.7115763093288, rel=REL)
    assert two["se"] == one["se"]


def test_second_stage_term_is_the_within_psu_variance_times_the_first_stage_fraction():
    # by hand: 1 stratum, N1 = 4 PSUs, 2 sampled; each PSU has N2 = 4 units, 2 sampled; weights 2 x 2
    data = pd.DataFrame({"psu": [1, 1, 2, 2], "ssu": [1, 2, 1, 2], "N1": 4, "N2": 4,
                         "y": [1.0, 3.0, 2.0, 6.0]})
    row = _one(design_total(data, "y", Design(cluster=("psu", "ssu"), fpc=("N1", "N2"))))
    w = 4.0
    t = np.array([w * 4, w * 8])                                 # PSU totals of w y
    stage1 = (1 - 2 / 4) * 2 / 1 * ((t - t.mean()) ** 2).sum()
    stage2 = sum(2 / 4 * (1 - 2 / 4) * 2 / 1 * ((w * np.array(pair) - w * np.mean(pair)) ** 2).sum()
                 for pair in ([1.0, 3.0], [2.0, 6.0]))
    assert row["estimate"] == pytest.approx(w * 12)
    assert row["se"] ** 2 == pytest.approx(stage1 + stage2)


def test_multistage_design_is_checked(apiclus2):
    with pytest.raises(MethodologyError, match="one fpc per sampling stage"):
        Design(cluster=("dnum", "snum"), fpc="fpc1")
    # a school census within a district with one school sampled is no lonely unit (fpc2 = 1), but a
    # district with one of several schools sampled is, under R's default lonely_psu = "fail"
    bad = apiclus2.assign(fpc2=apiclus2["fpc2"] + 1)
    with pytest.raises(MethodologyError, match="only one sampled unit at stage 2"):
        design_mean(bad, "api00", DCLUS2)
    with pytest.raises(DataValidationError, match="fpc of stage 2 varies"):
        design_mean(apiclus2.assign(fpc2=np.arange(len(apiclus2)) + 10), "api00", DCLUS2)
    assert Design(cluster=["dnum"], fpc=["fpc1"]) == Design(cluster="dnum", fpc="fpc1")
    assert DCLUS2.psu == "dnum" and DCLUS2.clusters == ("dnum", "snum")


# ---------------------------------------------------------------------------- linear calibration

def test_linear_calibration_to_categorical_and_continuous_totals(apiclus1):
    cal = calibrate_linear(apiclus1, DCLUS1, categorical={"stype": STYPE}, continuous={"api99": API99_TOTAL})
    # svymean(~api00, calibrate(dclus1, ~stype+api99, pop, calfun="linear"))
    row = _one(design_mean(apiclus1, "api00", DCLUS1, calibration=cal))
    assert row["estimate"] == pytest.approx(665.30907116578, rel=REL)
    assert row["se"] == pytest.approx(3.44175311640481, rel=REL)
    # svytotal(~enroll, g1)
    row = _one(design_total(apiclus1, "enroll", DCLUS1, calibration=cal))
    assert row["estimate"] == pytest.approx(3638487.20413188, rel=REL)
    assert row["se"] == pytest.approx(385524.427352479, rel=REL)
    # range(weights(g1))
    assert (cal.weights.min(), cal.weights.max()) == pytest.approx((14.1680975228498, 62.0515251409797), rel=REL)
    gaps = cal.gaps.set_index(["margin", "level"])
    assert np.abs(gaps["gap"] / gaps["target"]).max() < 1e-12
    assert cal.method == "linear" and cal.margins == ("stype", "api99")


def test_linear_calibration_domains(apiclus1):
    # svyby(~api00, ~stype, g1, svymean): domains cut across nothing here (stype is a margin)
    cal = calibrate_linear(apiclus1, DCLUS1, categorical={"stype": STYPE}, continuous={"api99": API99_TOTAL})
    out = design_mean(apiclus1, "api00", DCLUS1, by="stype", calibration=cal).set_index("stype")
    for level, (estimate, se) in {"E": (674.704045512657, 6.47806591337826),
                                  "H": (630.514879575769, 32.70004654009176),
                                  "M": (650.313425844479, 17.60625815008724)}.items():
        assert out.loc[level, "estimate"] == pytest.approx(estimate, rel=REL), level
        assert out.loc[level, "se"] == pytest.approx(se, rel=REL), level


def test_linear_calibration_intercept_and_two_categorical_margins(apiclus1):
    # calibrate(dclus1, ~api99, c(`(Intercept)`=6194, api99=3914069), calfun="linear")
    cal = calibrate_linear(apiclus1, DCLUS1, continuous={"api99": API99_TOTAL}, population=6194)
    row = _one(design_mean(apiclus1, "api00", DCLUS1, calibration=cal))
    assert row["estimate"] == pytest.approx(666.717736250273, rel=REL)
    assert row["se"] == pytest.approx(3.29588091215716, rel=REL)
    # calibrate(dclus1, ~stype+sch.wide+api99, c(6194, 755, 1018, 5122, 3914069), calfun="linear")
    cal = calibrate_linear(apiclus1, DCLUS1, categorical={"stype": STYPE, "sch.wide": SCHWIDE},
                           continuous={"api99": API99_TOTAL})
    row = _one(design_mean(apiclus1, "api00", DCLUS1, calibration=cal))
    assert row["estimate"] == pytest.approx(663.81875219763, rel=REL)
    assert row["se"] == pytest.approx(2.9101312719918, rel=REL)


def test_linear_calibration_of_a_two_stage_design(apiclus2):
    # calibrate(dclus2, ~stype, c(`(Intercept)`=6194, stypeH=755, stypeM=1018), calfun="linear")
    cal = calibrate_linear(apiclus2, DCLUS2, categorical={"stype": STYPE})
    row = _one(design_mean(apiclus2, "api00", DCLUS2, calibration=cal))
    assert row["estimate"] == pytest.approx(673.002311274467, rel=REL)
    assert row["se"] == pytest.approx(28.8318088122979, rel=REL)


def test_linear_calibration_equals_poststratification_on_one_categorical_margin(apiclus1):
    lin = calibrate_linear(apiclus1, DCLUS1, categorical={"stype": STYPE})
    post = poststratify(apiclus1, DCLUS1, "stype", STYPE)
    np.testing.assert_allclose(lin.weights, post.weights, rtol=1e-10)
    a = _one(design_mean(apiclus1, "api00", DCLUS1, calibration=lin))
    b = _one(design_mean(apiclus1, "api00", DCLUS1, calibration=post))
    assert a["se"] == pytest.approx(b["se"], rel=1e-10)


def test_linear_calibration_by_domain_equals_separate_calibrations(apiclus1):
    data = apiclus1.assign(half=np.where(apiclus1["dnum"] < 400, "a", "b"))
    sums = data.groupby("half").apply(lambda g: float((g["pw"] * g["api99"]).sum()) * 1.02, include_groups=False)
    cal = calibrate_linear(data, DCLUS1, continuous={"api99": sums.to_dict()},
                           population={"a": 3000.0, "b": 3194.0}, by="half")
    for half, n in (("a", 3000.0), ("b", 3194.0)):
        sub = data[data["half"] == half].reset_index(drop=True)
        alone = calibrate_linear(sub, DCLUS1, continuous={"api99": sums[half]}, population=n)
        np.testing.assert_allclose(cal.weights[data["half"] == half], alone.weights, rtol=1e-10)


def test_linear_calibration_refusals(apiclus1):
    with pytest.raises(MethodologyError, match="no totals"):
        calibrate_linear(apiclus1, DCLUS1)
    with pytest.raises(MethodologyError, match="cannot be met together"):
        calibrate_linear(apiclus1, DCLUS1, categorical={"stype": STYPE}, population=6000)
    with pytest.raises(MethodologyError, match="not a number"):
        calibrate_linear(apiclus1, DCLUS1, continuous={"api99": {"E": 1.0}})
    with pytest.raises(DataValidationError, match="not numeric"):
        calibrate_linear(apiclus1, DCLUS1, continuous={"stype": 1.0})


# ---------------------------------------------------------------------------- re-calibrated replicates

def test_recalibrated_jk1_replicates(apiclus1):
    reps = jk1_weights(apiclus1, DCLUS1)              # as.svrepdesign(dclus1, type="JK1")
    cases = [
        # svymean(~api00, postStratify(rj, ~stype, pop.types))
        (poststratify(apiclus1, DCLUS1, "stype", STYPE), 642.310788211582, 26.934535367426),
        # svymean(~api00, rake(rj, list(~stype, ~sch.wide), list(pop.types, pop.sch)))
        (rake(apiclus1, DCLUS1, {"stype": STYPE, "sch.wide": SCHWIDE}), 641.230246862209, 26.8734742360894),
        # the same, control=list(epsilon=1e-10, maxit=100)
        (rake(apiclus1, DCLUS1, {"stype": STYPE, "sch.wide": SCHWIDE}, tight=True), 641.2303209268,
         26.8739804273628),
        # svymean(~api00, calibrate(rj, ~stype+api99, pop, calfun="linear"))
        (calibrate_linear(apiclus1, DCLUS1, categorical={"stype": STYPE}, continuous={"api99": API99_TOTAL}),
         665.30907116578, 3.94285448376767),
    ]
    for cal, estimate, se in cases:
        row = _one(replicate_mean(apiclus1, "api00", recalibrate(reps, cal)))
        assert row["estimate"] == pytest.approx(estimate, rel=REL), cal.method
        assert row["se"] == pytest.approx(se, rel=REL), cal.method


def test_recalibrated_replicates_meet_the_totals(apiclus1):
    cal = calibrate_linear(apiclus1, DCLUS1, categorical={"stype": STYPE}, continuous={"api99": API99_TOTAL})
    reps = recalibrate(bootstrap_weights(apiclus1, DCLUS1, 20, np.random.default_rng(1)), cal)
    x = apiclus1["api99"].to_numpy(float)
    np.testing.assert_allclose(reps.weights.T @ x, API99_TOTAL, rtol=1e-10)
    for level, count in STYPE.items():
        np.testing.assert_allclose(reps.weights[(apiclus1["stype"] == level).to_numpy()].sum(axis=0), count,
                                   rtol=1e-10)
    np.testing.assert_array_equal(reps.full_weights, cal.weights)
