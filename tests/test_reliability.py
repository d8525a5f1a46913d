"""Tests of evaluation.reliability: Krippendorff's alpha, Cronbach's alpha, omega, ICC."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.reliability import (
    ICC_TYPES,
    KRIPPENDORFF_LEVELS,
    cronbach_alpha,
    icc,
    krippendorff_alpha,
    mcdonald_omega,
)
from surveys.errors import DataValidationError, InsufficientDataError, MethodologyError, MinpingWarning

nan = np.nan

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", 4 coders x 12 units;
# reference README section 3.
KRIPP = np.array([
    [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
])

# Shrout & Fleiss (1979), Psychological Bulletin 86:420-428, Table 2: 6 targets x 4 judges.
SHROUT_FLEISS = pd.DataFrame(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
    columns=["j1", "j2", "j3", "j4"],
)

# A 12 x 5 Likert fixture; its R psych values are quoted beside each test.
LIKERT = pd.DataFrame(
    [[5, 4, 5, 4, 3], [4, 4, 4, 3, 3], [3, 3, 4, 3, 2], [5, 5, 5, 5, 4], [2, 3, 2, 2, 2],
     [4, 3, 4, 4, 3], [3, 2, 3, 3, 3], [5, 4, 4, 5, 4], [1, 2, 2, 1, 2], [4, 5, 4, 4, 5],
     [3, 3, 3, 2, 3], [2, 2, 3, 3, 1]],
    columns=["q1", "q2", "q3", "q4", "q5"],
)


# --- Krippendorff's alpha ----------------------------------------------------


@pytest.mark.parametrize(
    "level, expected",
    # reference README section 3 (same values as the PyPI krippendorff package)
    [("nominal", 0.743421), ("ordinal", 0.815388), ("interval", 0.849107), ("ratio", 0.797403)],
)
def test_krippendorff_reference(level, expected):
    r = krippendorff_alpha(KRIPP, level)
    assert r.alpha == pytest.approx(expected, abs=1e-6)
    assert r.level == level
    # units 1-11 are pairable (unit 12 has one value): 3 + 8 * 4 + 3 + 2 values
    assert (r.n_values, r.n_units, r.n_coders) == (40, 11, 4)


def test_krippendorff_binary_by_hand():
    # Krippendorff (2011) section A: 2 coders, 10 units, binary; o_00 = 10, o_01 = o_10 = 4,
    # o_11 = 2, n_0 = 14, n_1 = 6: alpha = 1 - 19 * 8 / (2 * 14 * 6) = 2/21 (0.095)
    data = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]
    assert krippendorff_alpha(data).alpha == pytest.approx(2 / 21, rel=1e-12)
    # with two values, the interval metric is a rescaled nominal one
    assert krippendorff_alpha(data, "interval").alpha == pytest.approx(2 / 21, rel=1e-12)


def test_krippendorff_perfect_agreement_and_labels():
    assert krippendorff_alpha([[1, 2, 3, nan], [1, 2, 3, 2]], "interval").alpha == 1.0
    labels = np.where(np.isnan(KRIPP), None, KRIPP.astype(object))
    named = pd.DataFrame(labels).replace({1.0: "差", 2.0: "中", 3.0: "良", 4.0: "优", 5.0: "极"})
    assert krippendorff_alpha(named).alpha == pytest.approx(krippendorff_alpha(KRIPP).alpha, rel=1e-12)


def test_krippendorff_invariances():
    rng = np.random.default_rng(2)
    shuffled = KRIPP[rng.permutation(4)][:, rng.permutation(12)]
    for level in KRIPPENDORFF_LEVELS:
        assert krippendorff_alpha(shuffled, level).alpha == pytest.approx(
            krippendorff_alpha(KRIPP, level).alpha, rel=1e-12)
    # interval alpha is invariant to a linear change of scale, ordinal to a monotone one
    assert krippendorff_alpha(10 + 3 * KRIPP, "interval").alpha == pytest.approx(0.849107, abs=1e-6)
    assert krippendorff_alpha(KRIPP**3, "ordinal").alpha == pytest.approx(0.815388, abs=1e-6)


def test_krippendorff_matches_pypi_package_on_random_data():
    kp = pytest.importorskip("krippendorff")  # cross-check where the package is installed
    rng = np.random.default_rng(42)
    for _ in range(25):
        x = rng.integers(1, 6, size=(rng.integers(2, 6), rng.integers(5, 25))).astype(float)
        x[rng.random(x.shape) < 0.2] = nan
        for level in KRIPPENDORFF_LEVELS:
            ours = krippendorff_alpha(x, level).alpha
            assert ours == pytest.approx(kp.alpha(reliability_data=x, level_of_measurement=level), abs=1e-12)


def test_krippendorff_errors():
    with pytest.raises(MethodologyError, match="use one of"):
        krippendorff_alpha(KRIPP, "cardinal")
    with pytest.raises(DataValidationError, match="numeric"):
        krippendorff_alpha([["a", "b"], ["a", "c"]], "ordinal")
    with pytest.raises(DataValidationError, match="interval"):
        krippendorff_alpha([[-1, 2], [1, 2]], "ratio")
    with pytest.raises(InsufficientDataError, match="two or more coders"):
        krippendorff_alpha([[1, nan], [nan, 2]])
    with pytest.raises(InsufficientDataError, match="same"):
        krippendorff_alpha([[3, 3, 3], [3, 3, nan]])


# --- Cronbach's alpha -------------------------------------------------------


def test_cronbach_by_hand():
    # var x1 = var x2 = 1, cov = 1/2, total variance 3: alpha = 2 (1 - 2/3) = 2/3
    r = cronbach_alpha(pd.DataFrame({"x1": [1, 2, 3], "x2": [2, 1, 3]}))
    assert r.alpha == pytest.approx(2 / 3, rel=1e-12)
    assert r.alpha_standardized == pytest.approx(2 / 3, rel=1e-12)  # r = 1/2: 2r/(1+r)
    np.testing.assert_allclose(r.items["item_total_corr"], [0.5, 0.5], rtol=1e-12)
    assert r.items["alpha_if_deleted"].isna().all()
    assert (r.k, r.n, r.n_dropped, r.weighted) == (2, 3, 0, False)


def test_cronbach_psych_reference_shrout_fleiss():
    r = cronbach_alpha(SHROUT_FLEISS)
    # R psych 2.2.9: alpha(as.data.frame(sf))
    assert r.alpha == pytest.approx(0.909315542377, abs=1e-10)  # raw_alpha
    assert r.alpha_standardized == pytest.approx(0.926943646259, abs=1e-10)  # std.alpha
    np.testing.assert_allclose(r.items["alpha_if_deleted"],
                               [0.883392226148, 0.866504854369, 0.871548619448, 0.917874396135], atol=1e-10)
    np.testing.assert_allclose(r.items["alpha_std_if_deleted"],
                               [0.914262783818, 0.890696036424, 0.895950165442, 0.917819863840], atol=1e-10)
    np.testing.assert_allclose(r.items["item_total_corr"],  # r.drop
                               [0.805787370352, 0.859304050960, 0.844479282223, 0.790203664657], atol=1e-10)
    # Hoyt (1941): alpha equals ICC(3,k) of the same matrix
    assert r.alpha == pytest.approx(icc(SHROUT_FLEISS).icc["ICC(3,k)"], rel=1e-12)


def test_cronbach_psych_reference_likert():
    r = cronbach_alpha(LIKERT)
    # R psych 2.2.9: alpha(d)
    assert r.alpha == pytest.approx(0.940023068051, abs=1e-10)
    assert r.alpha_standardized == pytest.approx(0.941062145069, abs=1e-10)
    np.testing.assert_allclose(
        r.items["alpha_if_deleted"],
        [0.906855314132, 0.927137119908, 0.926127635805, 0.923408845739, 0.943453615374], atol=1e-10)
    np.testing.assert_allclose(
        r.items["item_total_corr"],
        [0.941441922430, 0.834529744777, 0.849438130734, 0.854569557349, 0.737754874413], atol=1e-10)
    assert list(r.to_frame().columns) == ["item_total_corr", "alpha_if_deleted", "alpha_std_if_deleted",
                                          "alpha", "alpha_standardized"]


def test_weighted_cronbach_equals_replicated_rows():
    w = np.array([1, 3, 2, 1, 1, 4, 2, 1, 1, 2, 3, 1])
    replicated = LIKERT.loc[LIKERT.index.repeat(w)]
    weighted = cronbach_alpha(LIKERT, weights=w)
    plain = cronbach_alpha(replicated)
    assert weighted.weighted
    assert weighted.alpha == pytest.approx(plain.alpha, rel=1e-12)
    assert weighted.alpha_standardized == pytest.approx(plain.alpha_standardized, rel=1e-12)
    pd.testing.assert_frame_equal(weighted.items, plain.items, rtol=1e-10)
    assert cronbach_alpha(LIKERT, weights=w * 0.37).alpha == pytest.approx(weighted.alpha, rel=1e-12)
    assert cronbach_alpha(LIKERT, weights=np.ones(12)).alpha == pytest.approx(
        cronbach_alpha(LIKERT).alpha, rel=1e-12)
    order = np.random.default_rng(4).permutation(12)
    assert cronbach_alpha(LIKERT.iloc[order], weights=w[order]).alpha == pytest.approx(weighted.alpha, rel=1e-12)


def test_cronbach_listwise_deletion():
    holed = LIKERT.astype(float)
    holed.iloc[2, 1] = nan
    holed.iloc[7, 4] = nan
    r = cronbach_alpha(holed)
    assert (r.n, r.n_dropped) == (10, 2)
    assert r.alpha == pytest.approx(cronbach_alpha(holed.dropna()).alpha, rel=1e-12)
    w = np.ones(12)
    w[0] = nan  # a missing weight drops the respondent too
    assert cronbach_alpha(holed, weights=w).n == 9


def test_cronbach_errors():
    with pytest.raises(DataValidationError, match="at least 2 items"):
        cronbach_alpha(LIKERT[["q1"]])
    with pytest.raises(DataValidationError, match="non-numeric"):
        cronbach_alpha(LIKERT.astype(object).assign(q2="满意"))
    with pytest.raises(InsufficientDataError, match="no variance"):  # a scale row's note, never a stopped run
        cronbach_alpha(LIKERT.assign(q3=4))
    with pytest.raises(DataValidationError, match="3 weights for 12"):
        cronbach_alpha(LIKERT, weights=[1, 2, 3])
    with pytest.raises(DataValidationError, match="negative"):
        cronbach_alpha(LIKERT, weights=[-1] + [1] * 11)
    with pytest.raises(InsufficientDataError, match="answered every item"):
        cronbach_alpha(LIKERT.iloc[:1])


# --- McDonald's omega ---------------------------------------------------------


def test_omega_psych_reference():
    r = mcdonald_omega(LIKERT)
    # R psych 2.2.9: omega(d, nfactors = 1, fm = "minres")$omega.tot and fa(...)$loadings;
    # psych's optimiser stops at about 1e-7 from the least-squares optimum reached here
    assert r.omega_total == pytest.approx(0.942760817884, abs=1e-6)
    np.testing.assert_allclose(
        r.loadings, [0.988460716763, 0.857299376762, 0.879836843229, 0.887142792666, 0.754231163236],
        atol=1e-6)
    np.testing.assert_allclose(r.uniquenesses, 1 - r.loadings**2, rtol=1e-12)
    assert r.method == "minres_one_factor" and not r.heywood
    assert list(r.to_frame().columns) == ["loading", "uniqueness", "omega_total", "method"]


def test_omega_recovers_known_truth():
    rng = np.random.default_rng(20240601)
    lam = np.array([0.8, 0.7, 0.6, 0.5])
    n = 20_000
    f = rng.standard_normal(n)
    x = f[:, None] * lam + rng.standard_normal((n, 4)) * np.sqrt(1 - lam**2)
    r = mcdonald_omega(pd.DataFrame(x))
    true_omega = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())  # 0.7494
    assert r.omega_total == pytest.approx(true_omega, abs=0.01)
    np.testing.assert_allclose(r.loadings, lam, atol=0.03)


def test_omega_weighted_and_sign():
    w = np.array([1, 3, 2, 1, 1, 4, 2, 1, 1, 2, 3, 1])
    replicated = LIKERT.loc[LIKERT.index.repeat(w)]
    assert mcdonald_omega(LIKERT, weights=w).omega_total == pytest.approx(
        mcdonald_omega(replicated).omega_total, abs=1e-9)
    # flipping every item flips every loading's sign; omega is unchanged
    assert mcdonald_omega(-LIKERT).omega_total == pytest.approx(mcdonald_omega(LIKERT).omega_total, abs=1e-9)


def test_omega_heywood_warns():
    rng = np.random.default_rng(8)
    u, v, w2, w3 = rng.standard_normal((4, 400))
    data = pd.DataFrame({"a": u + v, "b": u + 0.5 * w2, "c": v + 0.5 * w3})
    with pytest.warns(MinpingWarning, match="Heywood"):
        r = mcdonald_omega(data)
    assert r.heywood


def test_omega_needs_three_items():
    with pytest.raises(DataValidationError, match="at least 3 items"):
        mcdonald_omega(LIKERT[["q1", "q2"]])


# --- ICC ------------------------------------------------------------------------


def test_icc_shrout_fleiss_published():
    r = icc(SHROUT_FLEISS)
    # Shrout & Fleiss (1979), Table 4, two decimals
    published = {"ICC(1,1)": 0.17, "ICC(2,1)": 0.29, "ICC(3,1)": 0.71,
                 "ICC(1,k)": 0.44, "ICC(2,k)": 0.62, "ICC(3,k)": 0.91}
    for name, value in published.items():
        assert round(r.icc[name], 2) == value, name
    assert list(r.icc.index) == list(ICC_TYPES)


def test_icc_psych_reference():
    frame = icc(SHROUT_FLEISS).to_frame()
    # R psych 2.2.9: ICC(sf, lmer = FALSE)$results
    np.testing.assert_allclose(
        frame["icc"],
        [0.165741768405, 0.289763779528, 0.714840714841, 0.442797133679, 0.620050547599, 0.909315542377],
        atol=1e-11)
    np.testing.assert_allclose(frame["f"], [1.79467849224, 11.02724795640, 11.02724795640] * 2, atol=1e-10)
    assert list(frame["df2"]) == [18, 15, 15] * 2 and set(frame["df1"]) == {5}
    assert frame.loc["ICC(2,1)", "p"] == pytest.approx(0.000134566516484, rel=1e-8)


def test_icc_by_hand():
    a = np.array([[1.0, 2.0], [3.0, 5.0], [5.0, 5.0]])
    r = icc(a)
    # row means 1.5, 4, 5 (grand 3.5): BMS = 2 * (4 + 0.25 + 2.25) / 2 = 6.5
    # column means 3, 4: JMS = 3 * (0.25 + 0.25) / 1 = 1.5
    # residuals 0, 0, -0.5, 0.5, 0.5, -0.5: SSE = 1, EMS = 1 / (2 * 1) = 0.5
    assert (r.ms_targets, r.ms_raters, r.ms_error) == pytest.approx((6.5, 1.5, 0.5))
    assert r.icc["ICC(3,1)"] == pytest.approx(6 / 7)
    assert r.icc["ICC(2,1)"] == pytest.approx(6 / (6.5 + 0.5 + 2 * 1.0 / 3))
    identical = icc([[1, 1], [2, 2], [4, 4]])
    assert np.allclose(identical.icc, 1.0)


def test_icc_invariances():
    base = icc(SHROUT_FLEISS).icc
    rng = np.random.default_rng(9)
    permuted = SHROUT_FLEISS.iloc[rng.permutation(6), rng.permutation(4)]
    pd.testing.assert_series_equal(icc(permuted).icc, base, rtol=1e-12)
    pd.testing.assert_series_equal(icc(SHROUT_FLEISS * 2 + 7).icc, base, rtol=1e-12)


def test_icc_errors():
    holed = SHROUT_FLEISS.astype(float)
    holed.iloc[1, 2] = nan
    with pytest.raises(DataValidationError, match="krippendorff_alpha"):
        icc(holed)
    with pytest.raises(DataValidationError, match="at least 2 targets"):
        icc(SHROUT_FLEISS[["j1"]])
    with pytest.raises(InsufficientDataError, match="identical"):
        icc([[3, 3], [3, 3]])
