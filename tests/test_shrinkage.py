"""Fay–Herriot shrinkage and funnel-plot limits: closed forms, R metafor values, known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation.shrinkage import FUNNEL_COLUMNS, FUNNEL_LIMIT_COLUMNS, SHRINKAGE_COLUMNS, fay_herriot, funnel
from surveys.errors import InsufficientDataError, MethodologyError

# R 4.2.2, metafor 3.8-1:
#   y  <- c(82.1, 85.3, 79.4, 88.0, 84.2, 80.9, 86.7, 83.5, 78.2, 87.1)
#   se <- c(1.2, 2.5, 3.1, 0.9, 1.8, 2.2, 1.5, 4.0, 2.8, 1.1)
#   cat <- c("A","A","A","A","B","B","B","C","C","C")
#   fit <- rma(yi = y, vi = se^2, mods = ~cat, method = "REML" | "PM",
#              control = list(tol = 1e-12, maxiter = 1000, threshold = 1e-12)); b <- blup(fit)
#   fit$tau2; b$pred; b$se          (blup's se is sqrt(g1 + g2): A taken as known)
# PM (Paule-Mandel) is the Fay-Herriot moment estimator.
FIXTURE = pd.DataFrame({
    "department_id": list("abcdefghij"),
    "index": [82.1, 85.3, 79.4, 88.0, 84.2, 80.9, 86.7, 83.5, 78.2, 87.1],
    "se": [1.2, 2.5, 3.1, 0.9, 1.8, 2.2, 1.5, 4.0, 2.8, 1.1],
    "category": list("AAAABBBCCC"),
})
METAFOR = {
    "reml": (10.6055302156,
             [82.3452118786, 84.8740216623, 81.6586047454, 87.7269036391, 84.1790947533, 81.9060917391,
              86.2468095959, 83.5591420420, 80.4944863684, 86.7414038492],
             [1.1484776526, 2.1034693695, 2.4187611224, 0.8778067517, 1.6543265899, 1.9443700973,
              1.4138032562, 2.9030585386, 2.3519451959, 1.0702930352]),
    "fh": (9.8824348179,
           [82.3635705493, 84.8631483320, 81.7528509164, 87.7100423245, 84.1802864940, 81.9586267314,
            86.2215597394, 83.5850754875, 80.6054799022, 86.7223122528],
           [1.1452794760, 2.0825935218, 2.3865706148, 0.8764037021, 1.6459383753, 1.9302586570,
            1.4087370129, 2.8587405896, 2.3298859968, 1.0687632595]),
}


@pytest.mark.parametrize("method", ["reml", "fh"])
def test_matches_metafor(method):
    a, pred, se = METAFOR[method]
    out = fay_herriot(FIXTURE, method=method)
    assert list(out.columns) == SHRINKAGE_COLUMNS
    assert out["A"].iloc[0] == pytest.approx(a, rel=1e-7)
    np.testing.assert_allclose(out["shrunk"], pred, rtol=1e-8)
    np.testing.assert_allclose(np.sqrt(out["g1"] + out["g2"]), se, rtol=1e-7)
    # Prasad-Rao adds the uncertainty of A: never below g1 + g2 for REML
    if method == "reml":
        assert (out["shrunk_se"] ** 2 >= out["g1"] + out["g2"]).all()


def test_equal_variances_have_the_closed_form():
    # psi equal: REML and moment estimators both give A = RSS/(m - p) - psi (truncated at 0)
    y = np.array([70.0, 74.0, 78.0, 60.0, 66.0, 63.0])
    f = pd.DataFrame({"department_id": list("abcdef"), "index": y, "se": 2.0, "category": list("AAABBB")})
    rss = ((y[:3] - y[:3].mean()) ** 2).sum() + ((y[3:] - y[3:].mean()) ** 2).sum()   # 32 + 18 = 50
    a = rss / (6 - 2) - 4.0                                                           # 8.5
    for method in ("reml", "fh"):
        out = fay_herriot(f, method=method)
        assert out["A"].iloc[0] == pytest.approx(a, rel=1e-9)
        b = 4.0 / (4.0 + a)
        assert out["shrinkage"].to_numpy() == pytest.approx(np.full(6, b))
        means = np.repeat([y[:3].mean(), y[3:].mean()], 3)
        assert out["category_mean"].to_numpy() == pytest.approx(means)
        assert out["shrunk"].to_numpy() == pytest.approx((1 - b) * y + b * means)
        assert out["g1"].to_numpy() == pytest.approx(np.full(6, (1 - b) * 4.0))
        assert out["g2"].to_numpy() == pytest.approx(np.full(6, b**2 * (4.0 + a) / 3))


def test_no_spread_beyond_sampling_error_shrinks_fully():
    f = pd.DataFrame({"department_id": list("abcd"), "index": [80.0, 80.5, 79.5, 80.2], "se": 3.0,
                      "category": "A"})
    out = fay_herriot(f)
    assert out["A"].iloc[0] == 0.0 and np.allclose(out["shrinkage"], 1.0)
    assert np.allclose(out["shrunk"], f["index"].mean())


def test_invariant_to_row_order_and_reports_small_samples():
    f = FIXTURE.assign(flags=["G4_small_sample", "", "", "", "", "G2_inflation;G4_small_sample", "", "", "", ""])
    a = fay_herriot(f).set_index("department_id")
    b = fay_herriot(f.sample(frac=1.0, random_state=3)).set_index("department_id").loc[a.index]
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9)
    assert a["small_sample"].tolist() == [True, False, False, False, False, True, False, False, False, False]


def test_shrinkage_lowers_the_error_of_small_departments_on_known_truth():
    rng = np.random.default_rng(5)
    cats = np.repeat(list("ABC"), 8)
    mu = {"A": 82.0, "B": 85.0, "C": 79.0}
    small = np.tile([True, True, True, False, False, False, False, False], 3)
    se = np.where(small, 3.0, 0.8)
    err_raw, err_shrunk, est_mse = np.zeros(24), np.zeros(24), np.zeros(24)
    reps = 200
    for _ in range(reps):
        theta = np.array([mu[c] for c in cats]) + rng.normal(0, 2.0, 24)     # A = 4
        y = theta + se * rng.standard_normal(24)
        f = pd.DataFrame({"department_id": [f"d{i}" for i in range(24)], "index": y, "se": se, "category": cats})
        out = fay_herriot(f)
        err_raw += (y - theta) ** 2
        err_shrunk += (out["shrunk"].to_numpy() - theta) ** 2
        est_mse += out["shrunk_se"].to_numpy() ** 2
    mse_raw, mse_shrunk = err_raw[small].mean() / reps, err_shrunk[small].mean() / reps
    assert mse_shrunk < 0.75 * mse_raw                 # theory: about (1 - B) = 4/13 of 9 vs 9
    assert err_shrunk[~small].mean() <= 1.05 * err_raw[~small].mean()
    # the Prasad-Rao MSE estimate tracks the realised error of the small departments
    assert est_mse[small].mean() / reps == pytest.approx(mse_shrunk, rel=0.25)


def test_refusals():
    with pytest.raises(MethodologyError):
        fay_herriot(FIXTURE, method="ml")
    with pytest.raises(MethodologyError):
        fay_herriot(FIXTURE.assign(se=[0.0] + [1.0] * 9))
    with pytest.raises(InsufficientDataError):
        fay_herriot(FIXTURE.iloc[:3].assign(category=list("ABC")))


# R metafor 3.8-1: rma(yi = y, vi = 400 / n, method = "DL")$tau2 = 8.2242630019 (QE = 21.8959583333)
FUNNEL = pd.DataFrame({"department_id": list("abcdefg"), "category": list("AABBCCC"),
                       "n": [50.0, 80, 120, 200, 300, 60, 150],
                       "index": [84.0, 79.5, 86.2, 82.0, 83.1, 90.3, 78.4]})
FUNNEL["se"] = 20.0 / np.sqrt(FUNNEL["n"])


def test_funnel_tau2_is_dersimonian_laird_without_winsorising():
    out, _ = funnel(FUNNEL, target="weighted", winsorise=0.0)
    assert out["tau2"].iloc[0] == pytest.approx(8.2242630019, rel=1e-9)
    assert out["sigma"].iloc[0] == pytest.approx(20.0)
    theta0 = np.average(FUNNEL["index"], weights=FUNNEL["n"])
    assert out["city_mean"].iloc[0] == pytest.approx(theta0)


def test_funnel_limits_by_hand():
    out, limits = funnel(FUNNEL, overdispersion="none")
    assert list(out.columns) == FUNNEL_COLUMNS and list(limits.columns) == FUNNEL_LIMIT_COLUMNS
    theta0 = FUNNEL["index"].mean()
    half = 20.0 / np.sqrt(FUNNEL["n"].to_numpy())
    z95, z998 = stats.norm.ppf(0.975), stats.norm.ppf(0.999)
    # phi and tau2 are reported whatever the limits drawn; these limits leave them out
    assert out["tau2"].iloc[0] == pytest.approx(funnel(FUNNEL)[0]["tau2"].iloc[0]) and out["tau2"].iloc[0] > 0
    assert set(limits["overdispersion"]) == {"none"}
    np.testing.assert_allclose(out["upper95"], theta0 + z95 * half)
    np.testing.assert_allclose(out["lower998"], theta0 - z998 * half)
    np.testing.assert_allclose(out["z"], (FUNNEL["index"] - theta0) / half)
    expected = np.select([out["z"] > z998, out["z"] > z95, out["z"] < -z998, out["z"] < -z95],
                         ["above_998", "above_95", "below_998", "below_95"], "within")
    assert out["position"].tolist() == expected.tolist()
    # theta0 = 83.357: f (90.3, n 60) is 2.69 SE above, g (78.4, n 150) 3.04 SE below
    assert expected.tolist() == ["within"] * 5 + ["above_95", "below_95"]
    # the curves narrow with n and bracket the city mean
    assert limits["n"].is_monotonic_increasing
    assert (np.diff(limits["upper95"]) < 0).all() and (limits["lower95"] < theta0).all()
    assert limits["n"].min() == pytest.approx(25.0) and limits["n"].max() == pytest.approx(450.0)


def test_overdispersion_widens_the_limits():
    plain, _ = funnel(FUNNEL, overdispersion="none")
    wide, limits = funnel(FUNNEL)   # additive, Winsorised 10%
    assert wide["tau2"].iloc[0] > 0
    assert (wide["upper95"] > plain["upper95"]).all() and (np.abs(wide["z"]) < np.abs(plain["z"])).all()
    assert limits["overdispersion"].unique().tolist() == ["additive", "none"]   # the rows' curves first
    # pooled sigma: n-weighted mean of se_d^2 n_d; doubling one department's SE raises it
    bumped, _ = funnel(FUNNEL.assign(se=FUNNEL["se"] * np.where(FUNNEL["department_id"] == "a", 2.0, 1.0)))
    expected = np.sqrt((FUNNEL["n"] * 400.0 * np.where(FUNNEL["department_id"] == "a", 4.0, 1.0)).sum()
                       / FUNNEL["n"].sum())
    assert bumped["sigma"].iloc[0] == pytest.approx(expected)


# A proportion (e.g. a top-2 box share) per department: x of n.  By hand, as FunnelPlotR's "PR" data type
# computes it (R/od_adjustment.R, R/calculate_limits.R): target the pooled proportion on the arcsine
# scale, s = 1 / (2 sqrt(n)), z Winsorised at the 10% and 90% quantiles (R type 7), phi = mean(z_w^2),
# tau2 = (I phi - (I - 1)) / (sum w - sum w^2 / sum w), limits sin(asin(sqrt(target)) -/+ z sqrt(s^2 + tau2))^2.
RATES = pd.DataFrame({"department_id": list("abcdefghij"), "category": list("AAAAABBBBB"),
                      "x": [45.0, 88, 130, 60, 230, 35, 150, 98, 77, 190],
                      "n": [50.0, 100, 150, 80, 250, 50, 160, 120, 90, 210]})
RATES["rate"] = RATES["x"] / RATES["n"]


def test_proportion_funnel_as_funnelplotr():
    out, limits = funnel(RATES, estimate="rate", kind="proportion", target="pooled")
    target = RATES["x"].sum() / RATES["n"].sum()
    t0 = np.arcsin(np.sqrt(target))
    s = 1 / (2 * np.sqrt(RATES["n"].to_numpy()))
    z = (np.arcsin(np.sqrt(RATES["rate"].to_numpy())) - t0) / s
    lo, hi = np.quantile(z, [0.1, 0.9])                 # numpy's default is R's type 7
    phi = np.mean(np.clip(z, lo, hi) ** 2)
    w = 1 / s ** 2
    tau2 = max(0.0, (10 * phi - 9) / (w.sum() - (w ** 2).sum() / w.sum()))
    assert out["city_mean"].iloc[0] == pytest.approx(target) and out["target"].iloc[0] == "pooled"
    assert out["phi"].iloc[0] == pytest.approx(phi) and out["tau2"].iloc[0] == pytest.approx(tau2)
    assert tau2 > 0
    half = np.sqrt(s ** 2 + tau2)
    np.testing.assert_allclose(out["lower95"], np.sin(t0 - 1.959964 * half) ** 2, rtol=1e-6)
    np.testing.assert_allclose(out["upper998"], np.sin(t0 + 3.090232 * half) ** 2, rtol=1e-6)
    np.testing.assert_allclose(out["z"], (np.arcsin(np.sqrt(RATES["rate"])) - t0) / half)
    assert (limits["upper95"] <= 1).all() and (limits["lower95"] >= 0).all()


def test_multiplicative_overdispersion_and_a_given_standard():
    out, limits = funnel(RATES, estimate="rate", kind="proportion", target=0.9, overdispersion="multiplicative")
    t0 = np.arcsin(np.sqrt(0.9))
    s = 1 / (2 * np.sqrt(RATES["n"].to_numpy()))
    z = (np.arcsin(np.sqrt(RATES["rate"].to_numpy())) - t0) / s
    lo, hi = np.quantile(z, [0.1, 0.9])
    phi = np.mean(np.clip(z, lo, hi) ** 2)
    assert out["phi"].iloc[0] == pytest.approx(phi) and phi > 1
    assert out["target"].iloc[0] == "standard" and out["city_mean"].iloc[0] == 0.9
    np.testing.assert_allclose(out["upper95"], np.sin(t0 + 1.959964 * np.sqrt(phi) * s) ** 2, rtol=1e-6)
    np.testing.assert_allclose(out["z"], z / np.sqrt(phi))
    assert limits["overdispersion"].unique().tolist() == ["multiplicative", "none"]
    # the index: phi inflates the plain limits of a mean by sqrt(phi)
    mean, _ = funnel(FUNNEL, overdispersion="multiplicative", winsorise=0.0)
    theta0 = FUNNEL["index"].mean()
    z_plain = (FUNNEL["index"] - theta0) / (20.0 / np.sqrt(FUNNEL["n"]))
    phi_mean = np.mean(z_plain ** 2)
    assert mean["phi"].iloc[0] == pytest.approx(phi_mean)
    np.testing.assert_allclose(mean["upper95"], theta0 + stats.norm.ppf(0.975) * np.sqrt(max(phi_mean, 1.0))
                               * 20.0 / np.sqrt(FUNNEL["n"]))


def test_funnel_refusals():
    with pytest.raises(MethodologyError, match="Unknown funnel"):
        funnel(RATES, estimate="rate", kind="rate")
    with pytest.raises(MethodologyError, match="target"):
        funnel(RATES, estimate="rate", kind="proportion", target="mean")
    with pytest.raises(MethodologyError, match=r"\[0, 1\]"):
        funnel(RATES, estimate="rate", kind="proportion", target=1.5)
