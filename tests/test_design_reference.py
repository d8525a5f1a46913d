"""Design-based estimation against R ``survey`` 4.1.1 (reference README, section 1).

Every golden number below is copied from the reference README of the shared evaluation brief with the
R call that produced it; tolerance 1e-8 relative, as the README states.  Data:
the California API samples shipped with R ``survey`` (``tests/reference/survey``, see ``tests/reference/README.md``).

R designs::

    dstrat <- svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc, data=apistrat)
    dclus1 <- svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.calibration import poststratify, rake
from evaluation.design import Design, design_mean, design_ratio, design_total, proportion_ci
from evaluation.replicates import jk1_weights, replicate_mean
from tests.conftest import REFERENCE

SURVEY = REFERENCE / "survey"
REL = 1e-8
LEVEL = 0.95       # every interval in the reference README is a 95% interval

DSTRAT = Design(weights="pw", strata="stype", fpc="fpc")
DSTRAT_NOFPC = Design(weights="pw", strata="stype")
DCLUS1 = Design(weights="pw", cluster="dnum", fpc="fpc")
DCLUS1_NOFPC = Design(weights="pw", cluster="dnum")

# population counts used with postStratify / rake on dclus1
STYPE_POP = {"E": 4421, "H": 755, "M": 1018}
SCHWIDE_POP = {"No": 1072, "Yes": 5122}


@pytest.fixture(scope="module")
def apistrat() -> pd.DataFrame:
    return pd.read_csv(SURVEY / "apistrat.csv")


@pytest.fixture(scope="module")
def apiclus1() -> pd.DataFrame:
    return pd.read_csv(SURVEY / "apiclus1.csv")


def _one(frame: pd.DataFrame) -> pd.Series:
    assert len(frame) == 1
    return frame.iloc[0]


def _by(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    return frame.set_index(column)


# ---------------------------------------------------------------------------- means and totals

# (R call, design, variable, estimate, SE)
SINGLE = [
    ("svymean(~api00, dstrat)", "strat", DSTRAT, "api00", 662.2873631593, 9.4089408028),
    ("svymean(~api00, dstrat without fpc)", "strat", DSTRAT_NOFPC, "api00", 662.2873631593, 9.5361322969),
    ("svymean(~api00, dclus1)", "clus", DCLUS1, "api00", 644.1693989071, 23.5422406938),
    ("svymean(~api00, dclus1 without fpc)", "clus", DCLUS1_NOFPC, "api00", 644.1693989071, 23.7790107209),
]


@pytest.mark.parametrize("call,data,design,y,estimate,se", SINGLE, ids=[c[0] for c in SINGLE])
def test_svymean(call, data, design, y, estimate, se, apistrat, apiclus1):
    frame = apistrat if data == "strat" else apiclus1
    row = _one(design_mean(frame, y, design))
    assert row["estimate"] == pytest.approx(estimate, rel=REL)
    assert row["se"] == pytest.approx(se, rel=REL)


def test_svytotal_enroll_dstrat(apistrat):
    # svytotal(~enroll, dstrat)
    row = _one(design_total(apistrat, "enroll", DSTRAT))
    assert row["estimate"] == pytest.approx(3687177.5324382782, rel=REL)
    assert row["se"] == pytest.approx(114641.7161007803, rel=REL)


def test_svymean_deff_dclus1(apiclus1):
    # svymean(~api00, dclus1, deff=TRUE): design effect 9.34587 (5 d.p.)
    row = _one(design_mean(apiclus1, "api00", DCLUS1))
    assert round(row["deff"], 5) == 9.34587


def test_svymean_indicator_dstrat(apistrat):
    # svymean(~I(sch.wide=="Yes"), dstrat)
    data = apistrat.assign(yes=apistrat["sch.wide"] == "Yes")
    row = _one(design_mean(data, "yes", DSTRAT))
    assert row["estimate"] == pytest.approx(0.8279480114, rel=REL)
    assert row["se"] == pytest.approx(0.0243447801, rel=REL)


# svyby(~api00, ~stype, dclus1, svymean) and svyby(~api00, ~stype, dstrat, svymean)
SVYBY = {
    "clus": {"E": (648.8680555556, 22.3624088938), "H": (618.5714285714, 38.0202493594),
             "M": (631.4400000000, 31.6094652272)},
    "strat": {"E": (674.4300000000, 12.3824797939), "H": (625.8200000000, 14.9371291854),
              "M": (636.6000000000, 16.2147073082)},
}


@pytest.mark.parametrize("data", ["clus", "strat"])
def test_svyby_stype(data, apistrat, apiclus1):
    frame = apistrat if data == "strat" else apiclus1
    design = DSTRAT if data == "strat" else DCLUS1
    out = _by(design_mean(frame, "api00", design, by="stype"), "stype")
    assert list(out.index) == ["E", "H", "M"]
    for level, (estimate, se) in SVYBY[data].items():
        assert out.loc[level, "estimate"] == pytest.approx(estimate, rel=REL), level
        assert out.loc[level, "se"] == pytest.approx(se, rel=REL), level


# ---------------------------------------------------------------------------- intervals

# svyciprop(~I(stype=="E"), dclus1, method=...): estimate 0.7868852459
CIPROP = [
    ("logit", 0.6712011344, 0.8697647876),
    ("beta", 0.6687850808, 0.8780530637),    # Korn-Graubard
    ("wald", 0.6875032225, 0.8862672693),    # method="mean"
]


@pytest.mark.parametrize("method,low,high", CIPROP, ids=[c[0] for c in CIPROP])
def test_svyciprop(method, low, high, apiclus1):
    data = apiclus1.assign(elem=apiclus1["stype"] == "E")
    row = _one(proportion_ci(data, "elem", DCLUS1, method=method, level=LEVEL))
    assert row["estimate"] == pytest.approx(0.7868852459, rel=REL)
    assert row["df"] == 14
    assert row["ci_low"] == pytest.approx(low, rel=REL)
    assert row["ci_high"] == pytest.approx(high, rel=REL)


def test_confint_with_design_df(apiclus1):
    # confint(svymean(~api00, dclus1), df=degf(dclus1)) with degf = 14
    row = _one(design_mean(apiclus1, "api00", DCLUS1, df="design", level=LEVEL))
    assert row["df"] == 14
    assert row["ci_low"] == pytest.approx(593.676314463, rel=REL)
    assert row["ci_high"] == pytest.approx(694.662483351, rel=REL)
    fixed = _one(design_mean(apiclus1, "api00", DCLUS1, df=14, level=LEVEL))
    assert (fixed["ci_low"], fixed["ci_high"]) == (row["ci_low"], row["ci_high"])


def test_confint_default_z(apiclus1):
    # confint(svymean(~api00, dclus1)): the default z interval
    row = _one(design_mean(apiclus1, "api00", DCLUS1, df=None, level=LEVEL))
    assert np.isinf(row["df"])
    assert row["ci_low"] == pytest.approx(598.027455032, rel=REL)
    assert row["ci_high"] == pytest.approx(690.311342782, rel=REL)


# ---------------------------------------------------------------------------- weight adjustment

def test_poststratify_dclus1(apiclus1):
    # svymean(~api00, postStratify(dclus1, ~stype, data.frame(stype=c("E","H","M"), Freq=c(4421,755,1018))))
    cal = poststratify(apiclus1, DCLUS1, "stype", STYPE_POP)
    row = _one(design_mean(apiclus1, "api00", DCLUS1, calibration=cal))
    assert row["estimate"] == pytest.approx(642.3107882116, rel=REL)
    assert row["se"] == pytest.approx(23.9204864451, rel=REL)


def test_rake_default_dclus1(apiclus1):
    # svymean(~api00, rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide)))
    # with R's defaults control=list(maxit=10, epsilon=1)
    cal = rake(apiclus1, DCLUS1, {"stype": STYPE_POP, "sch.wide": SCHWIDE_POP})
    row = _one(design_mean(apiclus1, "api00", DCLUS1, calibration=cal))
    assert row["estimate"] == pytest.approx(641.2302468622, rel=REL)
    assert row["se"] == pytest.approx(23.7036412402, rel=REL)


def test_rake_tight_dclus1(apiclus1):
    # the same rake with control=list(epsilon=1e-10, maxit=100)
    margins = {"stype": STYPE_POP, "sch.wide": SCHWIDE_POP}
    cal = rake(apiclus1, DCLUS1, margins, tight=True)
    row = _one(design_mean(apiclus1, "api00", DCLUS1, calibration=cal))
    assert row["estimate"] == pytest.approx(641.2303209268, rel=REL)
    assert row["se"] == pytest.approx(23.7036168879, rel=REL)
    explicit = rake(apiclus1, DCLUS1, margins, epsilon=1e-10, maxit=100)
    np.testing.assert_array_equal(explicit.weights, cal.weights)


# ---------------------------------------------------------------------------- replicate weights

JK1_SCALE = 0.914839277851167       # 14/15 * (1 - 15/757)
BOOT_SCALE = 0.021865889212828


@pytest.fixture(scope="module")
def jk1() -> pd.DataFrame:
    return pd.read_csv(SURVEY / "apiclus1_jk1_repweights.csv")


@pytest.fixture(scope="module")
def boot50() -> pd.DataFrame:
    return pd.read_csv(SURVEY / "apiclus1_boot50_seed42_repweights.csv")


def _repcols(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("repw")]


def test_jk1_from_exported_weights(jk1):
    # svymean(~api00, svrepdesign(weights=~pw, repweights=<repw1..15>, type="JK1", scale=0.914839277851167))
    row = _one(replicate_mean(jk1, "api00", _repcols(jk1), weights="pw", scale=JK1_SCALE))
    assert row["estimate"] == pytest.approx(644.1693989071, rel=REL)
    assert row["se"] == pytest.approx(26.3293605895, rel=REL)
    # svyby(~api00, ~stype, <same design>, svymean)
    out = _by(replicate_mean(jk1, "api00", _repcols(jk1), weights="pw", scale=JK1_SCALE, by="stype"), "stype")
    for level, se in {"E": 25.3743035524, "H": 46.3441217452, "M": 33.6876199986}.items():
        assert out.loc[level, "se"] == pytest.approx(se, rel=REL), level


def test_bootstrap_from_exported_weights(boot50):
    # svymean(~api00, svrepdesign(..., type="bootstrap", scale=0.021865889212828)), replicate-mean centred
    row = _one(replicate_mean(boot50, "api00", _repcols(boot50), weights="pw", scale=BOOT_SCALE))
    assert row["estimate"] == pytest.approx(644.1693989071, rel=REL)
    assert row["se"] == pytest.approx(26.3596878019, rel=REL)
    out = _by(replicate_mean(boot50, "api00", _repcols(boot50), weights="pw", scale=BOOT_SCALE, by="stype"),
              "stype")
    for level, se in {"E": 25.5764007202, "H": 37.4709022220, "M": 36.4934049269}.items():
        assert out.loc[level, "se"] == pytest.approx(se, rel=REL), level


def test_generated_jk1_equals_exported(apiclus1, jk1):
    # as.svrepdesign(dclus1, type="JK1"): the project's own generator gives the exported weights and scale
    reps = jk1_weights(apiclus1, DCLUS1)
    assert reps.scale == pytest.approx(JK1_SCALE, rel=1e-12)
    assert list(apiclus1["snum"]) == list(jk1["snum"])
    np.testing.assert_allclose(reps.weights, jk1[_repcols(jk1)].to_numpy(), rtol=1e-12)
    row = _one(replicate_mean(apiclus1, "api00", reps))
    assert row["se"] == pytest.approx(26.3293605895, rel=REL)
    assert row["df"] == 14


# ---------------------------------------------------------------------------- beyond the README
# Further values computed with R 4.2.2 and survey 4.1.1 on the same data (options(digits=15)),
# for behaviour the README does not pin down: domain design effects, domain degrees of freedom in
# svyciprop, ratios, and domains of calibrated designs (whose cells cut across the domains).

def test_svyby_deff_dclus1(apiclus1):
    # deff(svyby(~api00, ~stype, dclus1, svymean, deff=TRUE))
    out = _by(design_mean(apiclus1, "api00", DCLUS1, by="stype"), "stype")
    for level, deff in {"E": 6.58367352502780, "H": 2.22825931686862, "M": 2.16389972008046}.items():
        assert out.loc[level, "deff"] == pytest.approx(deff, rel=REL), level


def test_svyratio_dclus1(apiclus1):
    # r <- svyratio(~api00, ~api99, dclus1, deff=TRUE); r$ratio, sqrt(r$var), attr(r, "deff")
    row = _one(design_ratio(apiclus1, "api00", "api99", DCLUS1))
    assert row["estimate"] == pytest.approx(1.06127281075290103, rel=REL)
    assert row["se"] == pytest.approx(0.00623083121660941, rel=REL)
    assert row["deff"] == pytest.approx(2.49151297463795496, rel=REL)


def test_svytotal_deff_dstrat(apistrat):
    # deff(svytotal(~enroll, dstrat, deff=TRUE))
    assert _one(design_total(apistrat, "enroll", DSTRAT))["deff"] == pytest.approx(0.362018122363404, rel=REL)


@pytest.mark.parametrize("method,bounds", [
    # svyby(~I(sch.wide=="Yes"), ~stype, dclus1, svyciprop, method="beta", vartype="ci")
    ("beta", {"E": (0.859765358737351, 0.955816623310151), "H": (0.521760971207249, 0.943907693670807),
              "M": (0.405708991672240, 0.885241289543765)}),
    # the same with method="logit"
    ("logit", {"E": (0.859206537056401, 0.951986801472120), "H": (0.503687967865637, 0.929812572364626),
               "M": (0.412455444697252, 0.865456261651120)}),
])
def test_svyby_svyciprop_domain_df(method, bounds, apiclus1):
    data = apiclus1.assign(yes=apiclus1["sch.wide"] == "Yes")
    out = _by(proportion_ci(data, "yes", DCLUS1, by="stype", method=method, level=LEVEL), "stype")
    # degf of each domain's subset design: PSUs with the domain's schools minus one stratum
    assert list(out["df"]) == [14, 7, 11]
    for level, (low, high) in bounds.items():
        assert out.loc[level, "ci_low"] == pytest.approx(low, rel=REL), level
        assert out.loc[level, "ci_high"] == pytest.approx(high, rel=REL), level


def test_svyby_after_rake_and_poststratify(apiclus1):
    # svyby(~api00, ~stype, rake(dclus1, ..., control=list(epsilon=1e-10, maxit=100)), svymean)
    raked = rake(apiclus1, DCLUS1, {"stype": STYPE_POP, "sch.wide": SCHWIDE_POP}, tight=True)
    out = _by(design_mean(apiclus1, "api00", DCLUS1, by="stype", calibration=raked), "stype")
    for level, (estimate, se) in {"E": (647.446579228433, 22.8084121940987),
                                  "H": (621.291861054867, 36.7431448777272),
                                  "M": (629.021538266673, 29.9628809591014)}.items():
        assert out.loc[level, "estimate"] == pytest.approx(estimate, rel=REL), level
        assert out.loc[level, "se"] == pytest.approx(se, rel=REL), level
    # svyby(~api00, ~sch.wide, postStratify(dclus1, ~stype, pop.types), svymean)
    post = poststratify(apiclus1, DCLUS1, "stype", STYPE_POP)
    out = _by(design_mean(apiclus1, "api00", DCLUS1, by="sch.wide", calibration=post), "sch.wide")
    for level, (estimate, se) in {"No": (612.062614938388, 27.3731955191233),
                                  "Yes": (647.161128404389, 24.3970669015280)}.items():
        assert out.loc[level, "estimate"] == pytest.approx(estimate, rel=REL), level
        assert out.loc[level, "se"] == pytest.approx(se, rel=REL), level
    # svytotal(~enroll, postStratify(dclus1, ~stype, pop.types))
    row = _one(design_total(apiclus1, "enroll", DCLUS1, calibration=post))
    assert row["estimate"] == pytest.approx(3680892.945119, rel=REL)
    assert row["se"] == pytest.approx(406292.63629, abs=5e-6)     # R printed 5 decimals
