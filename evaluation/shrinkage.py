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
    Spiegelhalter (2005a), "Funnel plots for comparing institutional
    performance", *Statistics in Medicine* 24:1185-1202, and (2005b)
    "Handling over-dispersion of performance indicators", *Quality and Safety
    in Health Care* 14:347-351.  Each department's estimate ``y_d`` is set
    against a target ``theta_0`` with control limits at 95% (``z = 1.960``)
    and 99.8% (``z = 3.090``) that narrow with the precision of its sample
    ``n_d``; the test of each department is done on a variance-stabilised
    scale ``Y = g(y)`` with standard error ``s_d``:

    - ``kind = "mean"`` (the index, a mean of scores): ``g`` the identity,
      ``s_d = sigma / sqrt(n_d)`` with the pooled per-respondent standard
      deviation ``sigma^2 = sum n_d sigma_d^2 / sum n_d``, ``sigma_d = se_d
      sqrt(n_d)`` (so design effects are kept); target the unweighted mean of
      the departments (``"mean"``), the ``n``-weighted mean (``"weighted"``) or
      a given standard (a number);
    - ``kind = "proportion"`` (a rate ``y_d = x_d / n_d``): ``g(y) = asin(sqrt
      y)``, ``s_d = 1 / (2 sqrt(n_d))``; target the pooled proportion
      ``sum x_d / sum n_d`` (``"pooled"``) or a given standard; limits are
      transformed back by ``sin^2`` and cut to [0, 1].

    Overdispersion, estimated from the z-scores ``z_d = (Y_d - g(theta_0)) /
    s_d``, Winsorised at ``winsorise`` and ``1 - winsorise`` (10% by default;
    quantiles as R's type 7): ``phi = sum z_d^2 / I`` (Spiegelhalter 2005b).

    - ``"none"``: limits ``g(theta_0) -/+ z s``;
    - ``"multiplicative"``: ``g(theta_0) -/+ z sqrt(phi) s`` when ``phi > 1``
      (under-dispersion does not narrow the limits);
    - ``"additive"`` (random effects): ``g(theta_0) -/+ z sqrt(s^2 + tau^2)``
      with the DerSimonian-Laird form ``tau^2 = max(0, (I phi - (I - 1)) /
      (sum w_d - sum w_d^2 / sum w_d))``, ``w_d = 1 / s_d^2`` (with ``I phi <
      I - 1`` it is 0); without Winsorising and with the precision-weighted
      target it is the DerSimonian-Laird estimator itself.

    ``phi`` and ``tau2`` are reported on every row whatever the adjustment
    drawn.  The proportion case follows the ``PR`` data type of the R package
    FunnelPlotR (arcsine transform, pooled target, 10% Winsorisation,
    ``tau2`` as above).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

from surveys.errors import InsufficientDataError, MethodologyError, Problem

__all__ = ["FUNNEL_COLUMNS", "FUNNEL_KINDS", "FUNNEL_LIMIT_COLUMNS", "OVERDISPERSION", "SHRINKAGE_COLUMNS",
           "fay_herriot", "funnel"]

SHRINKAGE_COLUMNS = [
    "department_id", "category", "index", "se", "category_mean", "A", "shrinkage", "shrunk", "shrunk_se",
    "g1", "g2", "g3", "method", "mse_method", "small_sample",
]
FUNNEL_COLUMNS = [
    "department_id", "category", "n", "index", "se", "city_mean", "target", "kind", "sigma", "phi", "tau2",
    "overdispersion", "z", "lower95", "upper95", "lower998", "upper998", "position", "small_sample",
]
FUNNEL_LIMIT_COLUMNS = ["overdispersion", "n", "phi", "tau2", "lower95", "upper95", "lower998", "upper998"]
FUNNEL_KINDS = ("mean", "proportion")
OVERDISPERSION = ("none", "multiplicative", "additive")

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


def _funnel_target(target, kind: str, y: np.ndarray, nn: np.ndarray) -> tuple[float, str]:
    if isinstance(target, (int, float)) and not isinstance(target, bool):
        if kind == "proportion" and not 0.0 <= target <= 1.0:
            raise MethodologyError("A proportion's funnel target must lie in [0, 1]", [Problem(
                f"target {target!r}", fix="give the standard as a proportion, e.g. 0.9")])
        return float(target), "standard"
    allowed = ("mean", "weighted") if kind == "mean" else ("pooled",)
    if target not in allowed:
        raise MethodologyError("Unknown funnel target", [Problem(
            f"target {target!r} for kind {kind!r}", fix=f"use one of {list(allowed)} or a number (a standard)")])
    if target == "mean":
        return float(y.mean()), "mean"
    return float((nn * y).sum() / nn.sum()), target


def funnel(frame: pd.DataFrame, *, estimate: str = "index", se: str = "se", n: str = "n", kind: str = "mean",
           overdispersion: str = "additive", winsorise: float = 0.10, target="mean",
           grid_size: int = 100) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Funnel-plot data: control limits around a target by sample size (Spiegelhalter 2005).

    Parameters
    ----------
    frame : one row per department with ``department_id``, ``category``,
        ``estimate``, ``n`` (the sample size carrying the sampling error, e.g.
        survey completes + callback interviews, or a rate's denominator) and,
        for ``kind="mean"``, ``se``; optional ``flags``
    kind : ``"mean"`` (an index: identity scale, pooled per-respondent SD) or
        ``"proportion"`` (a rate in [0, 1]: arcsine scale)
    overdispersion : ``"none"``, ``"multiplicative"`` (``phi``) or
        ``"additive"`` (random-effects ``tau^2``)
    winsorise : share Winsorised in each tail of the z-scores before ``phi``
        and ``tau^2`` are estimated (Spiegelhalter 2005 uses 10%)
    target : ``"mean"`` (unweighted mean of the departments, each counting once
        as in the ranking) or ``"weighted"`` (``n``-weighted) for a mean;
        ``"pooled"`` (pooled proportion) for a proportion; or a number, a
        given standard
    grid_size : points of the limit curves

    Returns
    -------
    (funnel, limits) : tuple of DataFrames
        ``funnel`` has FUNNEL_COLUMNS per department: ``n``, ``index`` (the
        estimate), ``se``, ``city_mean`` (the target's value), ``target``
        (``mean``, ``weighted``, ``pooled`` or ``standard``), ``kind``,
        ``sigma`` (pooled per-respondent SD; NaN for proportions), ``phi``
        (overdispersion factor), ``tau2`` (between-department variance on the
        test scale), ``overdispersion`` (the adjustment of the limits), ``z``
        (the z-score on the test scale under that adjustment), the four
        limits at the department's ``n``, ``position`` (``above_998``,
        ``above_95``, ``within``, ``below_95``, ``below_998``) and
        ``small_sample``.  ``limits`` has FUNNEL_LIMIT_COLUMNS on a geometric
        grid of ``n`` from half the smallest to 1.5 times the largest
        department: first for the requested ``overdispersion`` and then, when
        that is not ``'none'``, for ``'none'`` as well.

    Notes
    -----
    Formulas in the module docstring.  ``tau2`` reproduces R ``metafor``'s
    DerSimonian-Laird estimate on the index (``test_shrinkage.py``) and the
    proportion case FunnelPlotR's ``PR`` computations.  Departments with
    ``n = 0`` (or, for a mean, no standard error) are left out.
    """
    if overdispersion not in OVERDISPERSION or kind not in FUNNEL_KINDS:
        raise MethodologyError("Unknown funnel option", [Problem(
            f"overdispersion {overdispersion!r}, kind {kind!r}",
            fix=f"use overdispersion in {list(OVERDISPERSION)} and kind in {list(FUNNEL_KINDS)}")])
    keep = frame[estimate].notna() & (frame[n] > 0)
    if kind == "mean":
        keep &= frame[se] > 0
    data = frame[keep].reset_index(drop=True)
    if len(data) < 2:
        raise InsufficientDataError("A funnel plot needs at least two departments with a sample", [Problem(
            f"{len(data)} department(s) with an estimate, a standard error and n > 0", fix="check the inputs")])
    y = data[estimate].to_numpy(float)
    nn = data[n].to_numpy(float)
    theta0, target_kind = _funnel_target(target, kind, y, nn)
    if kind == "mean":
        sig2_d = data[se].to_numpy(float) ** 2 * nn
        sigma2 = float((nn * sig2_d).sum() / nn.sum())
        forward = lambda v: np.asarray(v, dtype=float)  # noqa: E731
        back = forward
        s_of = lambda m: np.sqrt(sigma2 / m)  # noqa: E731
        se_out = data[se].to_numpy(float)
    else:
        sigma2 = np.nan
        forward = lambda v: np.arcsin(np.sqrt(np.clip(np.asarray(v, dtype=float), 0.0, 1.0)))  # noqa: E731
        back = lambda v: np.sin(np.clip(v, 0.0, np.pi / 2)) ** 2  # noqa: E731
        s_of = lambda m: 1.0 / (2.0 * np.sqrt(m))  # noqa: E731
        se_out = data[se].to_numpy(float) if se in data else np.full(len(data), np.nan)
    ty, t0, s = forward(y), float(forward(theta0)), s_of(nn)
    z0 = (ty - t0) / s
    zw = _winsorise(z0, winsorise)
    k = len(y)
    phi = float(np.sum(zw ** 2) / k)
    w = 1.0 / s ** 2
    tau2 = 0.0 if k * phi < k - 1 else max(0.0, float((k * phi - (k - 1)) / (w.sum() - (w ** 2).sum() / w.sum())))

    def half_width(m, kind_od):
        base = s_of(m)
        if kind_od == "additive":
            return np.sqrt(base ** 2 + tau2)
        if kind_od == "multiplicative":
            return np.sqrt(max(phi, 1.0)) * base
        return base

    def limits(m, kind_od):
        h = half_width(m, kind_od)
        return back(t0 - Z95 * h), back(t0 + Z95 * h), back(t0 - Z998 * h), back(t0 + Z998 * h)

    lo95, hi95, lo998, hi998 = limits(nn, overdispersion)
    z = (ty - t0) / half_width(nn, overdispersion)
    position = np.select([z > Z998, z > Z95, z < -Z998, z < -Z95], ["above_998", "above_95", "below_998",
                                                                  "below_95"], "within")
    flags = data["flags"].fillna("").astype(str) if "flags" in data else pd.Series("", index=data.index)
    out = pd.DataFrame({
        "department_id": data["department_id"].to_numpy(), "category": data["category"].to_numpy(),
        "n": nn, "index": y, "se": se_out, "city_mean": theta0, "target": target_kind, "kind": kind,
        "sigma": np.sqrt(sigma2), "phi": phi, "tau2": tau2, "overdispersion": overdispersion, "z": z,
        "lower95": lo95, "upper95": hi95, "lower998": lo998, "upper998": hi998, "position": position,
        "small_sample": flags.str.contains("G4_small_sample").to_numpy(),
    })
    grid = np.geomspace(max(nn.min() / 2.0, 1.0), nn.max() * 1.5, grid_size)
    curves = []
    # the requested curves first (what a plot draws by default), then the plain ones for comparison
    for kind_od in dict.fromkeys((overdispersion, "none")):
        lo95g, hi95g, lo998g, hi998g = limits(grid, kind_od)
        curves.append(pd.DataFrame({"overdispersion": kind_od, "n": grid, "phi": phi, "tau2": tau2,
                                    "lower95": lo95g, "upper95": hi95g, "lower998": lo998g, "upper998": hi998g}))
    return out[FUNNEL_COLUMNS], pd.concat(curves, ignore_index=True)[FUNNEL_LIMIT_COLUMNS]
