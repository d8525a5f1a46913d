"""Small departments: Fay–Herriot shrinkage and funnel-plot control limits.

Both are companions of the official index, never replacements: the unshrunk
index stays the published one.

Fay–Herriot empirical Bayes (:func:`fay_herriot`)
    Fay & Herriot (1979); Rao & Molina (2015), *Small Area Estimation*,
    chapter 6.  The sampling model ``y_d ~ N(theta_d, psi_d)`` with the
    design variance ``psi_d = se_d^2`` taken as known, and the linking model
    ``theta_d ~ N(x_d' beta, A)`` with ``x_d`` the indicator of the
    department's comparison category (so ``x_d' beta`` is the category
    mean).  The best predictor shrinks the estimate toward the category mean
    by the factor ``B_d = psi_d / (psi_d + A)``::

        theta_d_hat = (1 - B_d) y_d + B_d x_d' beta_hat

    ``beta_hat`` is the generalised least-squares estimate with weights
    ``1 / (A + psi_d)``.  ``A`` (the between-department variance within a
    category) is estimated by REML (default: the root of the restricted
    likelihood score ``y'P^2 y - tr P = 0``, P the REML projection) or by the
    Fay–Herriot moment estimator, the root of
    ``sum_d (y_d - x_d' beta_hat(A))^2 / (A + psi_d) = m - p`` (the
    Paule–Mandel estimator of meta-analysis); both are 0 when the equation has
    no positive root.

    Mean squared error (``mse="prasad_rao"``), second-order correct:
    ``g1 = (1 - B_d) psi_d``; ``g2 = B_d^2 x_d' (X' V^-1 X)^-1 x_d``;
    ``g3 = B_d^2 Vbar(A_hat) / (A + psi_d)`` with
    ``Vbar = 2 / sum (A + psi)^-2`` for REML and
    ``Vbar = 2 m / (sum (A + psi)^-1)^2`` for the moment estimator;
    REML: ``mse = g1 + g2 + 2 g3`` (Datta & Lahiri 2000); moment estimator:
    ``mse = g1 + g2 + 2 g3 - B_d^2 b(A_hat)`` with the bias
    ``b = 2 [m sum (A+psi)^-2 - (sum (A+psi)^-1)^2] / (sum (A+psi)^-1)^3``
    (Datta, Rao & Smith 2005), as R ``sae::mseFH`` computes them.
    ``mse="g1"`` gives the naive posterior variance ``g1`` alone.

Funnel plot (:func:`funnel`)
    Spiegelhalter (2005), "Funnel plots for comparing institutional
    performance", *Statistics in Medicine* 24:1185-1202.  The precision of a
    department's index is expressed through its number of respondents ``n``
    (survey completes + callback interviews).  With a pooled per-respondent
    standard deviation ``sigma`` and the city mean ``theta_0`` the control
    limits at ``n`` are ``theta_0 +/- z_p sqrt(sigma^2 / n + tau^2)`` for
    ``p`` = 95% (``z = 1.960``) and 99.8% (``z = 3.090``).  ``tau^2 = 0``
    without overdispersion; the additive random-effects option estimates
    ``tau^2`` as in Spiegelhalter (2005, section 3.2): z-scores
    ``z_d = (y_d - theta_0) / s_d`` with ``s_d = sigma / sqrt(n_d)``,
    Winsorised at the 10% and 90% points, ``phi = sum z_d^2 / I`` and
    ``tau^2 = max(0, (I phi - (I - 1)) / (sum w_d - sum w_d^2 / sum w_d))``,
    ``w_d = 1 / s_d^2`` (the DerSimonian–Laird form; without Winsorising and
    with ``theta_0`` the precision-weighted mean it is the DerSimonian–Laird
    estimator itself).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

from surveys.errors import InsufficientDataError, MethodologyError, Problem

__all__ = ["FUNNEL_COLUMNS", "FUNNEL_LIMIT_COLUMNS", "SHRINKAGE_COLUMNS", "fay_herriot", "funnel"]

SHRINKAGE_COLUMNS = [
    "department_id", "category", "index", "se", "category_mean", "A", "shrinkage", "shrunk", "shrunk_se",
    "g1", "g2", "g3", "method", "mse_method", "small_sample",
]
FUNNEL_COLUMNS = [
    "department_id", "category", "n", "index", "se", "city_mean", "sigma", "tau2", "overdispersion", "z",
    "lower95", "upper95", "lower998", "upper998", "position", "small_sample",
]
FUNNEL_LIMIT_COLUMNS = ["overdispersion", "n", "lower95", "upper95", "lower998", "upper998"]

FH_METHODS = ("reml", "fh")
MSE_METHODS = ("prasad_rao", "g1")
Z95 = float(stats.norm.ppf(0.975))
Z998 = float(stats.norm.ppf(0.999))


def _design(categories: pd.Series) -> tuple[np.ndarray, list]:
    levels = sorted(categories.unique())
    return (categories.to_numpy()[:, None] == np.array(levels)[None, :]).astype(float), levels


def _gls(y, x, v):
    xv = x / v[:, None]
    q = np.linalg.inv(x.T @ xv)
    beta = q @ (xv.T @ y)
    return beta, q


def _reml_score(a, y, x, psi):
    """Derivative of the restricted log-likelihood in A: (-tr P + y'PPy) / 2."""
    v = a + psi
    beta, q = _gls(y, x, v)
    r = y - x @ beta
    trace_p = (1.0 / v).sum() - np.trace(q @ (x.T @ (x / v[:, None] ** 2)))
    return 0.5 * ((r**2 / v**2).sum() - trace_p)


def _fh_score(a, y, x, psi):
    beta, _ = _gls(y, x, a + psi)
    return float(((y - x @ beta) ** 2 / (a + psi)).sum() - (x.shape[0] - x.shape[1]))


def _estimate_a(y, x, psi, method: str) -> float:
    """Root of the REML score or of the moment equation; 0 when the root would be negative."""
    score = _reml_score if method == "reml" else _fh_score
    if score(0.0, y, x, psi) <= 0:
        return 0.0
    upper = max(float(np.var(y)), float(psi.max()), 1e-8)
    while score(upper, y, x, psi) > 0:
        upper *= 4.0
    return float(optimize.brentq(score, 0.0, upper, args=(y, x, psi), xtol=1e-15 * upper,
                                 rtol=4 * np.finfo(float).eps, maxiter=500))


def fay_herriot(frame: pd.DataFrame, *, estimate: str = "index", se: str = "se", group: str = "category",
                method: str = "reml", mse: str = "prasad_rao") -> pd.DataFrame:
    """Empirical-Bayes (Fay–Herriot) shrinkage of department indices toward their category mean.

    Parameters
    ----------
    frame : one row per department with ``department_id``, ``estimate``, ``se``
        and ``group``; an optional ``flags`` column marks ``G4_small_sample``
    method : ``"reml"`` (restricted maximum likelihood) or ``"fh"`` (the
        Fay–Herriot moment estimator) for the model variance ``A``
    mse : ``"prasad_rao"`` (second-order, see the module notes) or ``"g1"``

    Returns
    -------
    DataFrame with SHRINKAGE_COLUMNS: ``index`` and ``se`` (unshrunk, the
    official figures), ``category_mean`` (GLS estimate of the department's
    category mean), ``A`` (estimated between-department variance, one value
    for all), ``shrinkage`` (B_d, 0 = kept as is, 1 = replaced by the category
    mean), ``shrunk`` (the empirical best predictor), ``shrunk_se`` (square
    root of the estimated MSE), ``g1``, ``g2``, ``g3`` (MSE components),
    ``method``, ``mse_method``, ``small_sample`` (G4 flag).

    Raises
    ------
    MethodologyError
        Unknown method, or a department without a positive standard error.
    InsufficientDataError
        Fewer departments than categories plus one.

    Notes
    -----
    Formulas in the module docstring.  ``A``, the shrunk estimates and
    ``g1 + g2`` agree with R ``metafor::rma(yi, vi, mods = ~ category,
    method = "REML" | "PM")`` and its ``blup()`` (whose standard error is
    ``sqrt(g1 + g2)``).
    """
    if method not in FH_METHODS or mse not in MSE_METHODS:
        raise MethodologyError("Unknown Fay–Herriot option", [Problem(
            f"method {method!r}, mse {mse!r}", fix=f"use method in {list(FH_METHODS)} and mse in {list(MSE_METHODS)}")])
    data = frame[frame[estimate].notna()].reset_index(drop=True)
    y = data[estimate].to_numpy(float)
    psi = data[se].to_numpy(float) ** 2
    bad = ~(psi > 0)
    if bad.any():
        raise MethodologyError("Fay–Herriot shrinkage needs a sampling variance for every department", [Problem(
            "standard error missing or zero", department=str(d), fix="leave census-only departments out")
            for d in data.loc[bad, "department_id"]])
    x, _ = _design(data[group].astype(str))
    m, p = x.shape
    if m <= p:
        raise InsufficientDataError("Too few departments for Fay–Herriot shrinkage", [Problem(
            f"{m} departments in {p} categories", fix="shrink toward the city mean (one group) or skip shrinkage")])
    a = _estimate_a(y, x, psi, method)
    v = a + psi
    beta, q = _gls(y, x, v)
    fitted = x @ beta
    b = psi / v
    g1 = (1.0 - b) * psi
    g2 = b**2 * np.einsum("ij,jk,ik->i", x, q, x)
    if method == "reml":
        var_a = 2.0 / (v**-2).sum()
        bias = 0.0
    else:
        s1, s2 = (1.0 / v).sum(), (v**-2).sum()
        var_a = 2.0 * m / s1**2
        bias = 2.0 * (m * s2 - s1**2) / s1**3
    g3 = b**2 * var_a / v
    total = g1 + g2 + 2.0 * g3 - b**2 * bias if mse == "prasad_rao" else g1
    flags = data["flags"].fillna("").astype(str) if "flags" in data else pd.Series("", index=data.index)
    out = pd.DataFrame({
        "department_id": data["department_id"].to_numpy(), "category": data[group].to_numpy(),
        "index": y, "se": np.sqrt(psi), "category_mean": fitted, "A": a, "shrinkage": b,
        "shrunk": (1.0 - b) * y + b * fitted, "shrunk_se": np.sqrt(np.maximum(total, 0.0)),
        "g1": g1, "g2": g2, "g3": g3, "method": method, "mse_method": mse,
        "small_sample": flags.str.contains("G4_small_sample").to_numpy(),
    })
    return out[SHRINKAGE_COLUMNS]


def _winsorise(z: np.ndarray, share: float) -> np.ndarray:
    if share <= 0 or len(z) < 3:
        return z
    lo, hi = np.quantile(z, [share, 1.0 - share])
    return np.clip(z, lo, hi)


def funnel(frame: pd.DataFrame, *, estimate: str = "index", se: str = "se", n: str = "n",
           overdispersion: str = "additive", winsorise: float = 0.10, target: str = "mean",
           grid_size: int = 100) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Funnel-plot data: control limits around the city mean by sample size.

    Parameters
    ----------
    frame : one row per department with ``department_id``, ``category``,
        ``estimate``, ``se`` and ``n`` (the sample size carrying the sampling
        error, e.g. survey completes + callback interviews); optional ``flags``
    overdispersion : ``"none"`` or ``"additive"`` (random-effects ``tau^2``)
    winsorise : share Winsorised in each tail of the z-scores before ``tau^2``
        is estimated (Spiegelhalter 2005 uses 10%)
    target : ``"mean"`` (unweighted mean of the departments' indices, each
        department counting once as in the ranking) or ``"weighted"``
        (precision-weighted mean, weights ``n_d``)
    grid_size : points of the limit curves

    Returns
    -------
    (funnel, limits) : tuple of DataFrames
        ``funnel`` has FUNNEL_COLUMNS per department: ``n``, ``index``, ``se``,
        ``city_mean``, ``sigma`` (pooled per-respondent SD), ``tau2``,
        ``overdispersion``, ``z`` (``(index - city_mean) / sqrt(sigma^2/n + tau^2)``),
        the four limits at the department's ``n``, ``position`` (one of
        ``above_998``, ``above_95``, ``within``, ``below_95``, ``below_998``)
        and ``small_sample``.  ``limits`` has FUNNEL_LIMIT_COLUMNS on a
        geometric grid of ``n`` from half the smallest to 1.5 times the
        largest department: first for the requested ``overdispersion``
        (the one the department rows use) and then, when that is
        ``'additive'``, for ``'none'`` as well.

    Notes
    -----
    ``sigma_d = se_d sqrt(n_d)`` is each department's per-respondent SD
    implied by its design-based standard error (so design effects are kept);
    the pooled ``sigma^2 = sum n_d sigma_d^2 / sum n_d``.  Departments with
    ``n = 0`` or no standard error are left out.  See the module docstring
    for ``tau^2`` (Spiegelhalter 2005).
    """
    if overdispersion not in ("none", "additive") or target not in ("mean", "weighted"):
        raise MethodologyError("Unknown funnel option", [Problem(
            f"overdispersion {overdispersion!r}, target {target!r}",
            fix="use overdispersion 'none' or 'additive' and target 'mean' or 'weighted'")])
    data = frame[frame[estimate].notna() & (frame[n] > 0) & (frame[se] > 0)].reset_index(drop=True)
    if len(data) < 2:
        raise InsufficientDataError("A funnel plot needs at least two departments with a sample", [Problem(
            f"{len(data)} department(s) with an index, a standard error and n > 0", fix="check the inputs")])
    y = data[estimate].to_numpy(float)
    nn = data[n].to_numpy(float)
    sig2_d = data[se].to_numpy(float) ** 2 * nn
    sigma2 = float((nn * sig2_d).sum() / nn.sum())
    theta0 = float(y.mean()) if target == "mean" else float((nn * y).sum() / nn.sum())
    s2 = sigma2 / nn
    tau2 = 0.0
    if overdispersion == "additive":
        z0 = _winsorise((y - theta0) / np.sqrt(s2), winsorise)
        w = 1.0 / s2
        k = len(y)
        tau2 = max(0.0, float((np.sum(z0**2) - (k - 1)) / (w.sum() - (w**2).sum() / w.sum())))

    def limits(nv, t2):
        half = np.sqrt(sigma2 / nv + t2)
        return theta0 - Z95 * half, theta0 + Z95 * half, theta0 - Z998 * half, theta0 + Z998 * half

    lo95, hi95, lo998, hi998 = limits(nn, tau2)
    z = (y - theta0) / np.sqrt(s2 + tau2)
    position = np.select([y > hi998, y > hi95, y < lo998, y < lo95], ["above_998", "above_95", "below_998",
                                                                      "below_95"], "within")
    flags = data["flags"].fillna("").astype(str) if "flags" in data else pd.Series("", index=data.index)
    out = pd.DataFrame({
        "department_id": data["department_id"].to_numpy(), "category": data["category"].to_numpy(),
        "n": nn, "index": y, "se": data[se].to_numpy(float), "city_mean": theta0, "sigma": np.sqrt(sigma2),
        "tau2": tau2, "overdispersion": overdispersion, "z": z, "lower95": lo95, "upper95": hi95,
        "lower998": lo998, "upper998": hi998, "position": position,
        "small_sample": flags.str.contains("G4_small_sample").to_numpy(),
    })
    grid = np.geomspace(max(nn.min() / 2.0, 1.0), nn.max() * 1.5, grid_size)
    curves = []
    # the requested curves first (what a plot draws by default), then the plain ones for comparison
    for kind, t2 in ((overdispersion, tau2), ("none", 0.0)):
        if kind == "none" and curves and overdispersion == "none":
            continue
        lo95g, hi95g, lo998g, hi998g = limits(grid, t2)
        curves.append(pd.DataFrame({"overdispersion": kind, "n": grid, "lower95": lo95g, "upper95": hi95g,
                                    "lower998": lo998g, "upper998": hi998g}))
    return out[FUNNEL_COLUMNS], pd.concat(curves, ignore_index=True)[FUNNEL_LIMIT_COLUMNS]
