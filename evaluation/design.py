"""Design-based estimates by domain: means, totals, ratios and proportions.

Every estimator takes a data frame, the column(s) to estimate, a
:class:`Design` (or a :class:`~evaluation.linearisation.PreparedDesign` made
from the same frame) and optionally ``by`` domain columns and a
:class:`~evaluation.calibration.Calibrated` weight adjustment, and returns a
tidy frame with fixed columns::

    <by columns>, estimate, se, ci_low, ci_high, n, n_eff, deff, df

- ``estimate``: the weighted estimate of the domain;
- ``se``: Taylor-linearisation standard error under the full design (strata,
  clusters, finite population correction, and the calibration model when
  the weights were adjusted);
- ``ci_low``, ``ci_high``: interval at ``level`` (an argument, recorded in
  ``frame.attrs["level"]``, never in a column name): Student t on ``df``
  degrees of freedom, normal when ``df`` is infinite; NaN when no ``level``
  is given (the estimators never assume a confidence level);
- ``n``: rows of the domain with a usable value;
- ``n_eff``: Kish effective sample size ``(sum w)^2 / sum w^2`` of those rows;
- ``deff``: design effect, the design variance over the variance of the same
  estimator under simple random sampling *without* replacement of ``n`` units
  (R ``survey``'s ``deff=TRUE``); NaN when the weights sum to no more than
  ``n`` (not scaled to a population), where R gives NA;
- ``df``: degrees of freedom of the interval (``inf`` for a normal interval).

Domains
    Domain estimation is done as ``svyby`` does it, not by subsetting: the
    linearised variable is zero outside the domain and the variance uses the
    whole design, so PSUs and strata without domain members still count.
    Rows whose value is missing are excluded as a domain (R's ``na.rm=TRUE``):
    they keep their place in the design but contribute nothing.  Rows with a
    missing ``by`` value belong to no domain.  Domains are listed in sorted
    order of their labels (categorical columns in category order); a domain
    with no usable value gives NaN estimates and ``n = 0``.

Degrees of freedom (``df="design"``)
    PSUs minus strata among the domain's usable rows with non-zero weight:
    ``degf`` of the design restricted to the domain, which is what R uses in
    ``svyby(..., svyciprop)``; for the whole sample it is ``degf(design)``
    (14 for the ``apiclus1`` cluster sample).  ``df=None`` gives normal
    intervals, a number fixes the degrees of freedom.

Proportions
    :func:`proportion_interval` turns estimates, standard errors, sample sizes
    and degrees of freedom into intervals by the methods of R's ``svyciprop``
    (logit, Korn-Graubard, Wald) or the Wilson score interval on the
    effective sample size; :func:`proportion_ci` estimates and applies it;
    :func:`interval_p_value` gives the one-sided p-value that matches an
    interval (the test that the interval inverts), for gates.

Tested against R ``survey`` 4.1.1 (``svymean``, ``svytotal``, ``svyby``,
``svyciprop``, ``confint``, ``postStratify``, ``rake``, ``calibrate``, and
multistage designs) on the California API samples to 1e-8 relative; see
``tests/test_design_reference.py`` and
``tests/test_design_multistage_calibration.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from surveys.errors import DataValidationError, MethodologyError, Problem

from .linearisation import (
    Design,
    PreparedDesign,
    check_level,
    critical_value,
    design_df,
    domain_codes,
    group_sum,
    linearised_variance,
    prepare_design,
    srs_variance,
    strata_domain_variance,
)

if TYPE_CHECKING:
    from .calibration import Calibrated

__all__ = [
    "ESTIMATE_COLUMNS",
    "PROPORTION_METHODS",
    "Design",
    "PreparedDesign",
    "design_mean",
    "design_ratio",
    "design_total",
    "domain_variance",
    "interval_p_value",
    "prepare_design",
    "proportion_ci",
    "proportion_interval",
]

ESTIMATE_COLUMNS = ("estimate", "se", "ci_low", "ci_high", "n", "n_eff", "deff", "df")
PROPORTION_METHODS = ("logit", "beta", "wald", "wilson")


@dataclass(frozen=True, eq=False)
class _Domains:
    prep: PreparedDesign
    w: np.ndarray
    dom_by: np.ndarray
    labels: pd.DataFrame
    n_dom: int
    calibration: Calibrated | None


def _setup(data: pd.DataFrame, design: Design | PreparedDesign, by, calibration) -> _Domains:
    if isinstance(design, PreparedDesign):
        prep = design
        if prep.n_rows != len(data):
            raise MethodologyError(
                "the prepared design belongs to other rows",
                [Problem(f"prepared for {prep.n_rows} rows, data has {len(data)}",
                         fix="call prepare_design on this data frame", code="design_mismatch")])
    elif isinstance(design, Design):
        prep = prepare_design(data, design)
    else:
        raise MethodologyError(
            "design must be a Design or a PreparedDesign",
            [Problem("unexpected design object", value=type(design).__name__,
                     fix="pass Design(weights=..., strata=..., cluster=..., fpc=...)", code="bad_argument")])
    w = prep.weights
    if calibration is not None:
        if calibration.n_rows != len(data) or calibration.design != prep.design:
            raise MethodologyError(
                "the calibration was computed for other rows or another design",
                [Problem(f"calibrated {calibration.n_rows} rows with {calibration.design}; "
                         f"asked for {len(data)} rows with {prep.design}",
                         fix="calibrate this data frame with this design", code="calibration_mismatch")])
        w = calibration.weights
    if isinstance(by, str) and by == prep.design.strata:
        dom_by, labels = prep.stratum, pd.DataFrame({by: prep.strata_labels})
    else:
        dom_by, labels = domain_codes(data, by)
    return _Domains(prep, w, dom_by, labels, len(labels), calibration)


def _check_args(level, df, srs) -> None:
    if level is not None:
        check_level(level)
    _check_df(df)
    _check_srs(srs)


def _check_df(df) -> None:
    if df is None or df == "design":
        return
    if isinstance(df, (int, float)) and not isinstance(df, bool) and df > 0:
        return
    raise MethodologyError(
        f"df={df!r} is not understood",
        [Problem("degrees of freedom must be 'design', None or a positive number", value=df,
                 fix="use df='design' (PSUs minus strata), None (normal) or a number", code="bad_argument")])


def _check_srs(srs: str) -> None:
    if srs not in ("wor", "wr"):
        raise MethodologyError(
            f"srs={srs!r} is not understood",
            [Problem("the design effect's reference is SRS without ('wor') or with ('wr') replacement",
                     value=srs, fix="use srs='wor' (R's deff=TRUE) or srs='wr' (deff='replace')",
                     code="bad_argument")])


def _valid_dom(ctx: _Domains, valid: np.ndarray) -> np.ndarray:
    return ctx.dom_by if valid.all() else np.where(valid, ctx.dom_by, -1)


def _variance(ctx: _Domains, z: np.ndarray, dom: np.ndarray) -> np.ndarray:
    return domain_variance(ctx.prep, z, dom, ctx.n_dom, ctx.calibration, ctx.dom_by)


def domain_variance(prep: PreparedDesign, z: np.ndarray, dom: np.ndarray, n_dom: int,
                    calibration: Calibrated | None = None, domains: np.ndarray | None = None) -> np.ndarray:
    """Design variance of the domain totals of weighted influence values, calibration-aware.

    Parameters
    ----------
    prep : PreparedDesign
    z : ndarray, shape (n_rows,)
        Weighted influence values (with the calibrated weights when there is
        a calibration), before any residualisation.
    dom : ndarray of intp
        Domain of each row (``-1``: none).
    n_dom : int
    calibration : Calibrated, optional
        The weight adjustment; ``z`` of each domain is replaced by its
        residuals on the adjustment model before the variance (R's
        ``svyrecvar``).
    domains : ndarray of intp, optional
        The domains' codes before rows were excluded (e.g. for a missing
        value); ``dom`` when not given.  After calibration the residuals of
        every row of a domain count, including rows without a value.

    Returns
    -------
    ndarray, shape (n_dom,)
    """
    if calibration is None:
        return linearised_variance(prep, z, dom, n_dom)
    domains = dom if domains is None else domains
    if calibration.nested_in(domains):
        # every calibration cell lies in one domain, so one residualised vector serves all domains; the
        # residuals of a domain's rows without a value are not zero and count, as in R
        return linearised_variance(prep, calibration.residualise(np.where(dom >= 0, z, 0.0)), domains, n_dom)
    out = np.empty(n_dom)
    for d in range(n_dom):
        out[d] = linearised_variance(prep, calibration.residualise(np.where(dom == d, z, 0.0)))[0]
    return out


def _deff(ctx: _Domains, dom: np.ndarray, u: np.ndarray, v: np.ndarray, srs: str, sums: dict) -> np.ndarray:
    """Design effect of a linear statistic ``sum w u`` (R's svytotal deff of ``u``)."""
    # without zero weights the reference's units and weight per domain are the estimate's own (``sums``)
    known = sums if "n" in sums and "sw" in sums and not (ctx.w == 0).any() else {}
    vsrs = srs_variance(ctx.w, dom, ctx.n_dom, u, srs, n=known.get("n"), total=known.get("sw"),
                        wu_total=known.get("swu"))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(vsrs > 0, v / vsrs, np.nan)


def _df(ctx: _Domains, dom: np.ndarray, df, sums: dict | None = None) -> np.ndarray:
    if df is None:
        return np.full(ctx.n_dom, np.inf)
    if df == "design":
        if sums and "df" in sums:
            return sums["df"]
        return design_df(ctx.prep, np.where(ctx.w != 0, dom, -1), ctx.n_dom)
    return np.full(ctx.n_dom, float(df))


def _frame(ctx: _Domains, cols: dict[str, np.ndarray], level: float, statistic: str) -> pd.DataFrame:
    out = ctx.labels.reset_index(drop=True).copy()
    for name in ESTIMATE_COLUMNS:
        out[name] = cols[name]
    out["n"] = out["n"].astype(np.int64)
    out.attrs.update(level=level, statistic=statistic)
    return out


def _summaries(ctx: _Domains, bins: np.ndarray, sums: dict) -> tuple[np.ndarray, np.ndarray]:
    """Rows and Kish effective size per domain; ``sums`` holds (or receives) the domains' rows ``n`` and
    weight ``sw`` over ``bins``, formed once for every figure that needs them."""
    n = sums.setdefault("n", group_sum(bins, None, ctx.n_dom))
    sw = sums["sw"] if "sw" in sums else sums.setdefault("sw", group_sum(bins, ctx.w, ctx.n_dom))
    sw2 = group_sum(bins, ctx.w * ctx.w, ctx.n_dom)
    with np.errstate(invalid="ignore", divide="ignore"):
        n_eff = np.where(sw2 > 0, sw * sw / sw2, 0.0)
    return n, n_eff


def _per_row(values: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Domain values spread to rows; rows in the ignore bin get 0."""
    return np.append(values, 0.0)[bins]


def _mean_parts(data, y, design, by, calibration):
    ctx = _setup(data, design, by, calibration)
    yv = _value(data, y)
    valid = ~np.isnan(yv)
    dom = _valid_dom(ctx, valid)
    bins = np.where(dom >= 0, dom, ctx.n_dom)
    y0 = yv if valid.all() else np.where(valid, yv, 0.0)
    big_n = group_sum(bins, ctx.w, ctx.n_dom)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = group_sum(bins, ctx.w * y0, ctx.n_dom) / big_n
        ok = big_n > 0
        # rows outside every domain, and domains without weight, get u = 0
        u = (y0 - _per_row(np.where(ok, est, 0.0), bins)) * _per_row(np.where(ok, 1 / big_n, 0.0), bins)
    sums = {"sw": big_n}
    prep = ctx.prep
    if (ctx.calibration is None and prep.psu is None and not prep.stages and ctx.dom_by is prep.stratum
            and ctx.n_dom == prep.n_strata):
        # the domains are the strata and the rows the PSUs (e.g. department = stratum, no clusters): the
        # first-stage sums per domain are the variance's, and serve the df and the design effect too
        sums["n"] = group_sum(bins, None, ctx.n_dom)
        v, sums["swu"] = strata_domain_variance(prep, ctx.w * u, bins, sums["n"])
        if not (ctx.w == 0).any():
            sums["df"] = (sums["n"] - (sums["n"] > 0)).astype(float)
    else:
        v = _variance(ctx, ctx.w * u, dom)
    return ctx, dom, bins, est, u, v, sums


def _value(data: pd.DataFrame, column: str) -> np.ndarray:
    if column not in data.columns:
        raise DataValidationError(
            f"column '{column}' not found",
            [Problem("the variable to estimate is missing", column=column, fix="name an existing column",
                     code="missing_column")])
    series = data[column]
    try:
        return series.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        raise DataValidationError(
            f"column '{column}' is not numeric",
            [Problem("only numeric (or 0/1, boolean) columns can be estimated", column=column,
                     value=str(series.dtype), fix="recode the column to numbers", code="not_numeric")]) from None


def _finish(ctx, dom, bins, est, u, v, level, df, srs, statistic, sums: dict | None = None) -> pd.DataFrame:
    sums = {} if sums is None else sums
    se = np.sqrt(v)
    dfs = _df(ctx, dom, df, sums)
    q = critical_value(dfs, level) if level is not None else np.full(ctx.n_dom, np.nan)
    n, n_eff = _summaries(ctx, bins, sums)
    deff = _deff(ctx, dom, u, v, srs, sums)
    columns = {"estimate": est, "se": se, "ci_low": est - q * se, "ci_high": est + q * se, "n": n,
               "n_eff": n_eff, "deff": deff, "df": dfs}
    return _frame(ctx, columns, level, statistic)


def design_mean(data: pd.DataFrame, y: str, design: Design | PreparedDesign, *,
                by: str | Sequence[str] | None = None, level: float | None = None, df="design",
                calibration: Calibrated | None = None, srs: str = "wor") -> pd.DataFrame:
    """Weighted mean of ``y`` in each domain, with its design-based standard error.

    Parameters
    ----------
    data : pandas.DataFrame
    y : str
        Numeric (or boolean) column; missing values are excluded as a domain.
    design : Design or PreparedDesign
    by : str or sequence of str, optional
        Domain columns (e.g. ``"department"``).
    level : float, optional
        Confidence level of the interval (none without it).
    df : "design", None or float
        Degrees of freedom of the t interval (see the module notes).
    calibration : Calibrated, optional
        Adjusted weights from :func:`~evaluation.calibration.poststratify` or
        :func:`~evaluation.calibration.rake` on the same frame and design; the
        standard error then accounts for the adjustment.
    srs : {"wor", "wr"}
        Reference of the design effect: SRS without (R's default) or with
        replacement.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, then ``estimate, se, ci_low, ci_high, n, n_eff,
        deff, df`` (see the module docstring).

    Notes
    -----
    ``ybar_d = sum_k w_k I_dk y_k / sum_k w_k I_dk``; its influence values are
    ``z_k = w_k I_dk (y_k - ybar_d) / sum w I_d``, zero outside the domain,
    and ``se^2`` is the design variance of ``sum z``
    (:func:`~evaluation.linearisation.linearised_variance`).  After weight
    adjustment ``z`` is first replaced by its residuals from the adjustment
    model, as R does.  Reproduces ``svymean`` / ``svyby(..., svymean)`` of R
    ``survey`` 4.1.1.
    """
    _check_args(level, df, srs)
    ctx, dom, bins, est, u, v, sums = _mean_parts(data, y, design, by, calibration)
    return _finish(ctx, dom, bins, est, u, v, level, df, srs, "mean", sums)


def design_total(data: pd.DataFrame, y: str, design: Design | PreparedDesign, *,
                 by: str | Sequence[str] | None = None, level: float | None = None, df="design",
                 calibration: Calibrated | None = None, srs: str = "wor") -> pd.DataFrame:
    """Weighted (population) total of ``y`` in each domain, with its standard error.

    Parameters and returned columns as :func:`design_mean`.

    Notes
    -----
    ``T_d = sum_k w_k I_dk y_k``, influence values ``z_k = w_k I_dk y_k``.
    The design effect compares with SRS without replacement of the domain's
    ``n`` from ``N_d = sum w I_d``: ``s^2 N_d^2 (N_d - n) / (N_d n)`` with
    ``s^2`` the weighted variance of ``y`` (R ``svytotal(..., deff=TRUE)``).
    Reproduces ``svytotal`` of R ``survey`` 4.1.1.
    """
    _check_args(level, df, srs)
    ctx = _setup(data, design, by, calibration)
    yv = _value(data, y)
    valid = ~np.isnan(yv)
    dom = _valid_dom(ctx, valid)
    bins = np.where(dom >= 0, dom, ctx.n_dom)
    u = np.where(dom >= 0, yv, 0.0)
    est = group_sum(bins, ctx.w * u, ctx.n_dom)
    v = _variance(ctx, ctx.w * u, dom)
    return _finish(ctx, dom, bins, est, u, v, level, df, srs, "total")


def design_ratio(data: pd.DataFrame, numerator: str, denominator: str, design: Design | PreparedDesign, *,
                 by: str | Sequence[str] | None = None, level: float | None = None, df="design",
                 calibration: Calibrated | None = None, srs: str = "wor") -> pd.DataFrame:
    """Ratio of two weighted totals in each domain, ``sum w y / sum w x``.

    Parameters and returned columns as :func:`design_mean`; rows missing
    either variable are excluded as a domain.

    Notes
    -----
    ``R_d = Y_d / X_d`` with influence values ``z_k = w_k I_dk (y_k - R_d x_k)
    / X_d``; the design effect is that of the total of ``(y - R x) / X``, as
    R ``svyratio(..., deff=TRUE)``.  A domain whose denominator total is zero
    gives NaN.  Reproduces ``svyratio`` of R ``survey`` 4.1.1.
    """
    _check_args(level, df, srs)
    ctx = _setup(data, design, by, calibration)
    yv, xv = _value(data, numerator), _value(data, denominator)
    valid = ~(np.isnan(yv) | np.isnan(xv))
    dom = _valid_dom(ctx, valid)
    bins = np.where(dom >= 0, dom, ctx.n_dom)
    y0, x0 = np.where(valid, yv, 0.0), np.where(valid, xv, 0.0)
    ty = group_sum(bins, ctx.w * y0, ctx.n_dom)
    tx = group_sum(bins, ctx.w * x0, ctx.n_dom)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = ty / tx
        ok = tx != 0
        u = (y0 - _per_row(np.where(ok, est, 0.0), bins) * x0) * _per_row(np.where(ok, 1 / tx, 0.0), bins)
    v = _variance(ctx, ctx.w * u, dom)
    return _finish(ctx, dom, bins, est, u, v, level, df, srs, "ratio")


def proportion_ci(data: pd.DataFrame, y: str, design: Design | PreparedDesign, *,
                  by: str | Sequence[str] | None = None, method: str = "logit", level: float,
                  df="design", calibration: Calibrated | None = None) -> pd.DataFrame:
    """Proportion of ``y == 1`` in each domain with an interval that respects [0, 1].

    Parameters
    ----------
    data, design, by, df, calibration
        As :func:`design_mean`.
    y : str
        A 0/1 or boolean column (missing values excluded as a domain).
    method : {"logit", "beta", "wald", "wilson"}
        See :func:`proportion_interval`.
    level : float
        Confidence level of the interval.

    Returns
    -------
    pandas.DataFrame
        Columns as :func:`design_mean`; ``estimate`` is the proportion and
        ``deff`` that of the mean.

    Notes
    -----
    Reproduces ``svyciprop(..., method = "logit" | "beta" | "mean")`` of R
    ``survey`` 4.1.1 (whose default ``df`` is ``degf(design)``).
    """
    check_level(level)
    _check_df(df)
    _check_method(method)
    yv = _value(data, y)
    present = ~np.isnan(yv)
    if not np.isin(yv[present], (0.0, 1.0)).all():
        bad = present & ~np.isin(yv, (0.0, 1.0))
        raise DataValidationError(
            f"column '{y}' is not a 0/1 indicator",
            [Problem(f"{int(bad.sum())} value(s) other than 0 and 1", column=y,
                     value=sorted(set(yv[bad].tolist()))[:5], fix="recode the outcome to 0/1 (or True/False)",
                     code="not_binary")])
    ctx, dom, bins, p, u, v, sums = _mean_parts(data, y, design, by, calibration)
    frame = _finish(ctx, dom, bins, p, u, v, level, df, "wor", f"proportion ({method})", sums)
    lo, hi = proportion_interval(p, frame["se"].to_numpy(), frame["n"].to_numpy(float), frame["df"].to_numpy(),
                                 level, method)
    frame["ci_low"], frame["ci_high"] = lo, hi
    return frame


def _check_method(method: str) -> None:
    if method not in PROPORTION_METHODS:
        raise MethodologyError(
            f"unknown proportion interval method {method!r}",
            [Problem("the method must be a known interval", value=method,
                     fix=f"use one of {', '.join(PROPORTION_METHODS)}", code="bad_argument")])


def proportion_interval(p, se, n, df, level: float, method: str = "logit") -> tuple[np.ndarray, np.ndarray]:
    """Intervals for proportions from their estimates and design-based standard errors.

    Parameters
    ----------
    p, se : array-like
        Estimated proportions and their (linearisation) standard errors.
    n : array-like
        Rows (respondents) behind each estimate; used by ``"beta"`` and, when
        ``se`` is 0, by ``"wilson"``.
    df : array-like or float
        Degrees of freedom of the quantile (``inf``: normal).
    level : float
    method : {"logit", "beta", "wald", "wilson"}

    Returns
    -------
    (low, high) : tuple of ndarray

    Notes
    -----
    With ``q`` the t quantile on ``df`` (normal if infinite):

    - logit: ``expit(logit(p) -/+ q se / (p (1 - p)))``; undefined (NaN)
      when ``p`` is 0 or 1.
    - beta (Korn & Graubard 1998): ``n* = p (1 - p) / se^2 * (t_{n-1} /
      t_df)^2`` with ``t_k`` the ``(1 - level) / 2`` quantile on ``k``
      degrees of freedom; bounds ``Beta^{-1}(a/2; n* p, n* (1 - p) + 1)`` and
      ``Beta^{-1}(1 - a/2; n* p + 1, n* (1 - p))``.  When ``se = 0`` (``p`` at
      0 or 1) ``n* = n``; the lower bound at ``p = 0`` is 0 and the upper at
      ``p = 1`` is 1.
    - wald: ``p -/+ q se``.
    - wilson: the Wilson (1927) score interval on the effective sample size
      ``m = p (1 - p) / se^2`` (``n`` when ``se = 0``):
      ``(p + q^2 / 2m -/+ q sqrt(p (1 - p) / m + q^2 / 4m^2)) / (1 + q^2 / m)``
      (Kott & Carr 1997; Dean & Pagano 2015); it never leaves [0, 1] and
      does not collapse at 0 or 1.

    logit, beta and wald reproduce ``svyciprop(..., method = "logit" |
    "beta" | "mean")`` of R ``survey`` 4.1.1.
    """
    check_level(level)
    _check_method(method)
    p = np.asarray(p, dtype=float)
    se = np.asarray(se, dtype=float)
    n = np.asarray(n, dtype=float)
    dfs = np.broadcast_to(np.asarray(df, dtype=float), p.shape)
    q = critical_value(dfs, level)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "wald":
            return p - q * se, p + q * se
        if method == "logit":
            inside = (p > 0) & (p < 1)
            eta = np.log(p / (1 - p))
            half = q * se / (p * (1 - p))
            return (np.where(inside, 1 / (1 + np.exp(-(eta - half))), np.nan),
                    np.where(inside, 1 / (1 + np.exp(-(eta + half))), np.nan))
        if method == "wilson":
            m = np.where(se > 0, p * (1 - p) / np.where(se > 0, se * se, 1.0), n)
            q2 = q * q / m
            centre = (p + q2 / 2) / (1 + q2)
            half = q / (1 + q2) * np.sqrt(p * (1 - p) / m + q * q / (4 * m * m))
            return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)
        return _korn_graubard(p, se, n, dfs, level)


def interval_p_value(estimate, se, n, df, threshold, *, method: str, side: str) -> np.ndarray:
    """One-sided p-value of the test that the interval of :func:`proportion_interval` inverts.

    Parameters
    ----------
    estimate, se, n, df : array-like
        As :func:`proportion_interval` (``method="wald"`` also serves any
        estimate, e.g. a difference of shares in points).
    threshold : float or array-like
        The value that separates compliance from non-compliance.
    method : {"logit", "beta", "wald", "wilson"}
    side : {"below", "above"}
        The alternative: the true value lies below (``"below"``) or above
        the threshold.

    Returns
    -------
    ndarray
        ``p`` such that the two-sided interval at level ``1 - 2p`` has the
        threshold on its bound: the interval at level ``L`` lies wholly on the
        alternative's side exactly when ``p < (1 - L) / 2``.  NaN where the
        interval is undefined.

    Notes
    -----
    Closed forms for wald (``T_df((x - c) / se)``), logit (the same on the
    logit scale) and wilson (the score statistic ``(p - c) / sqrt(c (1 - c) /
    m)``, on the same t quantile as the interval); beta by solving for the level at which the Korn-Graubard
    bound reaches the threshold.
    """
    _check_method(method)
    if side not in ("below", "above"):
        raise MethodologyError(f"unknown side {side!r}", [Problem(
            "the alternative is 'below' or 'above' the threshold", value=side, fix="use side='below' or 'above'",
            code="bad_argument")])
    x, se, n, c = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (estimate, se, n, threshold)))
    dfs = np.broadcast_to(np.asarray(df, dtype=float), x.shape).copy()
    if method == "beta":
        return _beta_p_value(x, se, n, dfs, c, side)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "wald":
            stat = np.where(se > 0, (x - c) / se, np.sign(x - c) * np.inf)
        elif method == "logit":
            inside = (x > 0) & (x < 1) & (c > 0) & (c < 1) & (se > 0)
            stat = np.where(inside, (np.log(x / (1 - x)) - np.log(c / (1 - c))) * x * (1 - x) / se, np.nan)
        else:
            m = np.where(se > 0, x * (1 - x) / np.where(se > 0, se * se, 1.0), n)
            stat = (x - c) / np.sqrt(c * (1 - c) / m)
        t = stat if side == "above" else -stat
        return np.where(np.isinf(dfs), stats.norm.sf(t), stats.t.sf(t, np.where(dfs > 0, dfs, np.nan)))


def _beta_p_value(x, se, n, dfs, c, side):
    """Korn-Graubard: the ``a`` at which the bound at level ``1 - 2a`` reaches the threshold."""
    from scipy import optimize

    shape = x.shape
    x, se, n, dfs, c = (np.ascontiguousarray(a, dtype=float).reshape(-1) for a in (x, se, n, dfs, c))

    def bound(i, a, upper):
        lo, hi = _korn_graubard(x[i:i + 1], se[i:i + 1], n[i:i + 1], dfs[i:i + 1], 1 - 2 * a)
        return float((hi if upper else lo)[0])

    def one_sided(i, upper):
        # p of the alternative "below" (upper bound) or "above" (lower bound); None when the estimate
        # lies on the other side (its p is then 1 minus the other one)
        tiny, half = 1e-12, 0.5 - 1e-9
        f = (lambda a: bound(i, a, upper) - c[i]) if upper else (lambda a: c[i] - bound(i, a, upper))
        if f(half) >= 0:
            return None
        if f(tiny) < 0:
            return tiny
        return optimize.brentq(f, tiny, half, xtol=1e-13)

    out = np.full(x.size, np.nan)
    for i in range(x.size):
        if not (np.isfinite(x[i]) and np.isfinite(se[i])):
            continue
        p = one_sided(i, side == "below")
        if p is None:
            other = one_sided(i, side != "below")
            p = 0.5 if other is None else 1.0 - other
        out[i] = p
    return out.reshape(shape)


def _korn_graubard(p, se, n, dfs, level):
    alpha = 1 - level
    t_n = _lower_quantile(n - 1, alpha)
    t_df = _lower_quantile(dfs, alpha)
    var = se * se
    n_star = np.where(var > 0, p * (1 - p) / np.where(var > 0, var, 1.0), n) * (t_n / t_df) ** 2
    lo = stats.beta.ppf(alpha / 2, n_star * p, n_star * (1 - p) + 1)
    hi = stats.beta.ppf(1 - alpha / 2, n_star * p + 1, n_star * (1 - p))
    lo = np.where(p == 0, 0.0, lo)
    hi = np.where(p == 1, 1.0, hi)
    return lo, hi


def _lower_quantile(df, alpha):
    df = np.asarray(df, dtype=float)
    return np.where(np.isinf(df), stats.norm.ppf(alpha / 2), stats.t.ppf(alpha / 2, np.where(df > 0, df, np.nan)))
