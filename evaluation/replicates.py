"""Replicate-weight variance: jackknife and bootstrap.

Two ways in:

- *replicate weight columns* (supplied with a data set, or generated here by
  :func:`jk1_weights`, :func:`jkn_weights`, :func:`bootstrap_weights`) and
  :func:`replicate_mean` / :func:`replicate_total`, which reproduce R
  ``survey``'s ``svrepdesign`` estimates;
- :func:`bootstrap_domain_means` for large samples: replicate domain means
  without ever holding a rows x replicates matrix.

Calibrated weights (:mod:`evaluation.calibration`) get calibrated replicates
with :func:`recalibrate`: every replicate weight column is post-stratified,
raked or linearly calibrated to the same population totals as the
full-sample weights, as R ``survey`` does when ``postStratify``, ``rake`` or
``calibrate`` is applied to a replicate design; the replicate variance then
accounts for the adjustment.

The variance of a statistic from replicates ``theta_r`` is
``scale * sum_r rscales_r (theta_r - c)^2`` with ``c`` the mean of the
replicates (``centre="mean"``, R's default) or the full-sample estimate
(``centre="full"``, R's ``mse=TRUE``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse, stats

from surveys.errors import DataValidationError, MethodologyError, MinpingWarning, Problem

from .calibration import Calibrated
from .linearisation import (
    Design,
    PreparedDesign,
    check_level,
    critical_value,
    domain_codes,
    factorize_sorted,
    prepare_design,
    srs_variance,
)

__all__ = [
    "BOOTSTRAP_METHODS",
    "ReplicateWeights",
    "bootstrap_domain_means",
    "bootstrap_weights",
    "jk1_weights",
    "jkn_weights",
    "rao_wu_factors",
    "recalibrate",
    "replicate_mean",
    "replicate_se",
    "replicate_total",
]

BOOTSTRAP_METHODS = ("poisson", "rescaled")


@dataclass(frozen=True, eq=False)
class ReplicateWeights:
    """Replicate analysis weights with the constants of their variance formula.

    Attributes
    ----------
    weights : ndarray, shape (n_rows, n_replicates)
        Replicate weights (full-sample weight times the replicate factor).
    full_weights : ndarray, shape (n_rows,)
        The full-sample weights.
    scale : float
    rscales : ndarray, shape (n_replicates,)
    method : str
        ``"JK1"``, ``"JKn"`` or ``"bootstrap"`` (Rao-Wu rescaled).
    """

    weights: np.ndarray
    full_weights: np.ndarray
    scale: float
    rscales: np.ndarray
    method: str

    @property
    def n_replicates(self) -> int:
        return self.weights.shape[1]

    def frame(self, prefix: str = "repw") -> pd.DataFrame:
        """The replicate weights as columns ``{prefix}1 .. {prefix}R``."""
        return pd.DataFrame(self.weights, columns=[f"{prefix}{r + 1}" for r in range(self.n_replicates)])


def _psu_order(prep: PreparedDesign) -> np.ndarray:
    """PSU code of each row, PSUs numbered in order of first appearance."""
    return prep.psu if prep.psu is not None else np.arange(prep.n_rows, dtype=np.intp)


def jk1_weights(data: pd.DataFrame, design: Design) -> ReplicateWeights:
    """Delete-one-PSU jackknife (JK1) for an unstratified design.

    Replicate ``r`` drops PSU ``r`` (PSUs in order of first appearance) and
    multiplies the other weights by ``n / (n - 1)``; ``scale = (n - 1) / n *
    (1 - f)``.  Same weights and scale as R ``as.svrepdesign(type="JK1")``.

    Raises
    ------
    MethodologyError
        The design is stratified (use :func:`jkn_weights`) or has fewer than
        two PSUs.
    """
    prep = prepare_design(data, design)
    if design.strata is not None:
        raise MethodologyError(
            "JK1 is for unstratified designs",
            [Problem("the design has strata", column=design.strata, fix="use jkn_weights for a stratified design",
                     code="bad_design")])
    psu = _psu_order(prep)
    n = prep.n_psu_total
    if n < 2:
        raise MethodologyError("the jackknife needs at least two PSUs",
                               [Problem(f"found {n} PSU", fix="use a larger sample", code="too_few_psu")])
    factor = np.full((n, n), n / (n - 1))
    np.fill_diagonal(factor, 0.0)
    weights = prep.weights[:, None] * factor[psu]
    scale = (n - 1) / n * float(prep.fpc_factor[0])
    return ReplicateWeights(weights, prep.weights, scale, np.ones(n), "JK1")


def jkn_weights(data: pd.DataFrame, design: Design) -> ReplicateWeights:
    """Stratified delete-one-PSU jackknife (JKn).

    One replicate per PSU in a stratum with ``n_h >= 2`` PSUs: the PSU is
    dropped and the other PSUs of its stratum are multiplied by
    ``n_h / (n_h - 1)``; ``rscales = (n_h - 1) / n_h * (1 - f_h)``,
    ``scale = 1``.  Strata with one PSU give no replicate (they contribute no
    variance) unless the design's ``lonely_psu`` is ``"fail"``, which raises.
    """
    prep = prepare_design(data, design)
    psu = _psu_order(prep)
    psu_stratum = prep.psu_stratum if prep.psu is not None else prep.stratum
    lonely = prep.n_psu == 1
    if lonely.any() and design.lonely_psu == "fail":
        raise MethodologyError(
            "a stratum has only one PSU",
            [Problem(f"stratum {list(prep.strata_labels[np.flatnonzero(lonely)[:5]])} has a single PSU",
                     column=design.strata, fix="merge strata or set Design(lonely_psu='remove')",
                     code="lonely_psu")])
    reps = np.flatnonzero(~lonely[psu_stratum])
    n_h = prep.n_psu[psu_stratum[reps]].astype(float)
    row_stratum = prep.stratum
    weights = np.repeat(prep.weights[:, None], len(reps), axis=1)
    for j, p in enumerate(reps):
        h = psu_stratum[p]
        in_h = row_stratum == h
        weights[in_h, j] *= n_h[j] / (n_h[j] - 1)
        weights[psu == p, j] = 0.0
    rscales = (n_h - 1) / n_h * prep.fpc_factor[psu_stratum[reps]]
    return ReplicateWeights(weights, prep.weights, 1.0, rscales, "JKn")


def bootstrap_weights(data: pd.DataFrame, design: Design, n_replicates: int,
                      rng: np.random.Generator) -> ReplicateWeights:
    """Rao-Wu rescaled bootstrap weights, resampling PSUs within strata.

    In each stratum ``m_h = n_h - 1`` PSUs are drawn with replacement; a PSU
    drawn ``c`` times gets the factor ``1 - l_h + l_h (n_h / m_h) c`` with
    ``l_h = sqrt(m_h (1 - f_h) / (n_h - 1))`` (so ``n_h / (n_h - 1) c``
    without finite population correction).  ``scale = 1 / (R - 1)``,
    ``rscales = 1``: the variance of a linear statistic then has expectation
    equal to the linearisation variance (Rao, Wu & Yue 1992).  Strata with
    one PSU keep factor 1 unless ``lonely_psu="fail"``, which raises.
    """
    _check_replicates(n_replicates)
    prep = prepare_design(data, design)
    weights = prep.weights[:, None] * rao_wu_factors(prep, n_replicates, rng)[_psu_order(prep)]
    return ReplicateWeights(weights, prep.weights, 1.0 / (n_replicates - 1), np.ones(n_replicates), "bootstrap")


def rao_wu_factors(prep: PreparedDesign, n_replicates: int, rng: np.random.Generator) -> np.ndarray:
    """The Rao-Wu factor of every PSU in every replicate, shape (n_psu_total, n_replicates).

    PSUs are numbered as the rows' PSU codes (``prep.psu``, or the rows
    themselves without clusters).  :func:`bootstrap_weights` multiplies each
    row's weight by its PSU's factor; a statistic that is a sum over rows
    can as well sum each PSU's rows first and weight the PSU totals, from the
    same draws (``evaluation.bootstrap``).
    """
    design = prep.design
    psu_stratum = prep.psu_stratum if prep.psu is not None else prep.stratum
    if (prep.n_psu == 1).any() and design.lonely_psu == "fail":
        raise MethodologyError(
            "a stratum has only one PSU",
            [Problem(f"stratum {list(prep.strata_labels[np.flatnonzero(prep.n_psu == 1)[:5]])} has a single PSU",
                     column=design.strata, fix="merge strata or set Design(lonely_psu='remove')",
                     code="lonely_psu")])
    factors = np.ones((prep.n_psu_total, n_replicates))
    order = np.argsort(psu_stratum, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(prep.n_psu)])
    for h in range(prep.n_strata):
        n_h = int(prep.n_psu[h])
        if n_h < 2:
            continue
        members = order[bounds[h]:bounds[h + 1]]
        m_h = n_h - 1
        lam = np.sqrt(m_h * prep.fpc_factor[h] / (n_h - 1))
        draws = rng.integers(0, n_h, size=(n_replicates, m_h)) + (np.arange(n_replicates) * n_h)[:, None]
        counts = np.bincount(draws.ravel(), minlength=n_replicates * n_h).reshape(n_replicates, n_h)
        factors[members] = (1 - lam + lam * n_h / m_h * counts).T
    return factors


def recalibrate(replicates: ReplicateWeights, calibration: Calibrated) -> ReplicateWeights:
    """Replicate weights re-calibrated to the totals of ``calibration``.

    Parameters
    ----------
    replicates : ReplicateWeights
        Made from the same rows and design as the calibration (e.g.
        :func:`jk1_weights` or :func:`bootstrap_weights`).
    calibration : Calibrated
        The full-sample adjustment (:func:`~evaluation.calibration.poststratify`,
        :func:`~evaluation.calibration.rake` or
        :func:`~evaluation.calibration.calibrate_linear`).

    Returns
    -------
    ReplicateWeights
        Same method and constants; ``weights`` every replicate adjusted by
        :meth:`~evaluation.calibration.Calibrated.refit` and ``full_weights``
        the calibrated full-sample weights.

    Notes
    -----
    Reproduces the standard errors of ``postStratify``, ``rake`` and
    ``calibrate(calfun = "linear")`` applied to an ``svrepdesign`` (JK1) in R
    ``survey`` 4.1.1.
    """
    if replicates.weights.shape[0] != calibration.n_rows:
        raise MethodologyError(
            "the replicate weights and the calibration belong to different rows",
            [Problem(f"{replicates.weights.shape[0]} replicate rows, {calibration.n_rows} calibrated rows",
                     fix="make both from the same data frame", code="shape_mismatch")])
    return ReplicateWeights(calibration.refit(replicates.weights), calibration.weights, replicates.scale,
                            replicates.rscales, replicates.method)


def _check_replicates(n_replicates) -> None:
    if not (isinstance(n_replicates, (int, np.integer)) and n_replicates >= 2):
        raise MethodologyError("the bootstrap needs at least two replicates",
                               [Problem("bad number of replicates", value=n_replicates,
                                        fix="use e.g. n_replicates=1000", code="bad_argument")])


def replicate_se(replicates: np.ndarray, *, scale: float, rscales=None, centre: str = "mean",
                 estimate=None) -> np.ndarray:
    """Standard errors from replicate estimates.

    Parameters
    ----------
    replicates : ndarray, shape (n_statistics, n_replicates) or (n_replicates,)
    scale : float
    rscales : array, optional
        One per replicate; default 1.
    centre : {"mean", "full"}
        Centre on the mean of the replicates (R's default) or on
        ``estimate``, the full-sample estimates (R's ``mse=TRUE``).
    estimate : array, optional
        Required with ``centre="full"``.

    Notes
    -----
    ``se = sqrt(scale * sum_r rscales_r (theta_r - c)^2)``.  Replicates that
    are NaN (a domain without weight in that replicate) are left out, with a
    :class:`~surveys.errors.MinpingWarning`, as R's ``na.action``.
    """
    theta = np.atleast_2d(np.asarray(replicates, dtype=float))
    r = theta.shape[1]
    rs = np.ones(r) if rscales is None else np.broadcast_to(np.asarray(rscales, dtype=float), (r,))
    ok = np.isfinite(theta)
    if not ok.all():
        warnings.warn(f"{int((~ok).sum())} replicate estimate(s) were undefined and left out", MinpingWarning,
                      stacklevel=2)
    if centre == "mean":
        use = ok & (rs > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            c = np.where(use, theta, 0.0).sum(axis=1) / use.sum(axis=1)
    elif centre == "full":
        if estimate is None:
            raise MethodologyError("centre='full' needs the full-sample estimate",
                                   [Problem("estimate is missing", fix="pass estimate=...", code="bad_argument")])
        c = np.atleast_1d(np.asarray(estimate, dtype=float))
    else:
        raise MethodologyError(f"unknown centre {centre!r}",
                               [Problem("centre must be 'mean' or 'full'", value=centre,
                                        fix="use centre='mean' (R default) or 'full' (mse=TRUE)",
                                        code="bad_argument")])
    dev = np.where(ok, theta - c[:, None], 0.0)
    se = np.sqrt(scale * (dev * dev * rs[None, :]).sum(axis=1))
    return se if np.ndim(replicates) > 1 else se[0]


def _repweights(data: pd.DataFrame, repweights, weights, scale, rscales):
    if isinstance(repweights, ReplicateWeights):
        rep, full = repweights.weights, repweights.full_weights
        scale = repweights.scale if scale is None else scale
        rscales = repweights.rscales if rscales is None else rscales
    elif isinstance(repweights, np.ndarray):
        rep, full = repweights, None
    else:
        cols = list(repweights)
        missing = [c for c in cols if c not in data.columns]
        if missing:
            raise DataValidationError(
                "replicate weight columns not found",
                [Problem("a replicate weight column is missing", column=c, fix="name existing columns",
                         code="missing_column") for c in missing[:5]])
        rep, full = data[cols].to_numpy(dtype=float), None
    if weights is not None:
        full = data[weights].to_numpy(dtype=float) if isinstance(weights, str) else np.asarray(weights, float)
    if full is None or scale is None:
        raise MethodologyError(
            "replicate estimates need the full-sample weights and the scale",
            [Problem("weights= or scale= is missing", fix="pass weights='<full-sample weight column>' and the "
                     "scale of the replicate method", code="bad_argument")])
    if rep.shape[0] != len(data) or len(full) != len(data):
        raise DataValidationError(
            "replicate weights do not match the rows",
            [Problem(f"{rep.shape[0]} replicate rows, {len(full)} weights, {len(data)} data rows",
                     fix="use weights made from this data frame", code="shape_mismatch")])
    r = rep.shape[1]
    rs = np.ones(r) if rscales is None else np.broadcast_to(np.asarray(rscales, dtype=float), (r,)).copy()
    if not (np.isfinite(rep).all() and np.isfinite(full).all()):
        raise DataValidationError("replicate or full-sample weights have missing values",
                                  [Problem("weights must be finite", fix="fill or drop those rows",
                                           code="bad_weight")])
    return rep, full, float(scale), rs


def _replicate_rank_df(rep: np.ndarray) -> float:
    rows = np.unique(rep, axis=0) if rep.shape[0] <= 200_000 else rep
    if rows.shape[0] > 20_000:
        gram = rows.T @ rows
        ev = np.linalg.eigvalsh(gram)
        return float((ev > ev.max() * 1e-10).sum() - 1)
    return float(np.linalg.matrix_rank(rows) - 1)


def _replicate_estimate(data, y, repweights, statistic, *, weights, scale, rscales, by, centre, level, df,
                        srs="wor") -> pd.DataFrame:
    if level is not None:
        check_level(level)
    rep, full, scale, rs = _repweights(data, repweights, weights, scale, rscales)
    if y not in data.columns:
        raise DataValidationError(f"column '{y}' not found",
                                  [Problem("the variable to estimate is missing", column=y,
                                           fix="name an existing column", code="missing_column")])
    yv = data[y].to_numpy(dtype=float, na_value=np.nan)
    dom, labels = domain_codes(data, by)
    n_dom = len(labels)
    dom = np.where(np.isnan(yv), -1, dom)
    keep = dom >= 0
    y0 = np.where(keep, yv, 0.0)
    ind = sparse.csr_matrix((np.ones(int(keep.sum())), (dom[keep], np.flatnonzero(keep))),
                            shape=(n_dom, len(data)))
    num_r = ind @ (rep * y0[:, None])
    num = ind @ (full * y0)
    with np.errstate(invalid="ignore", divide="ignore"):
        if statistic == "mean":
            den_r, den = ind @ rep, ind @ full
            theta, est = num_r / den_r, num / den
            u = np.where(keep, (y0 - est[np.maximum(dom, 0)]) / den[np.maximum(dom, 0)], 0.0)
        else:
            theta, est, u = num_r, num, y0
    se = replicate_se(theta, scale=scale, rscales=rs, centre=centre, estimate=est)
    dfs = np.full(n_dom, np.inf if df is None else (_replicate_rank_df(rep) if df == "replicate" else float(df)))
    q = critical_value(dfs, level) if level is not None else np.full(n_dom, np.nan)
    n = np.bincount(dom[keep], minlength=n_dom)
    sw = np.bincount(dom[keep], weights=full[keep], minlength=n_dom)
    sw2 = np.bincount(dom[keep], weights=full[keep] ** 2, minlength=n_dom)
    vsrs = srs_variance(full, dom, n_dom, u, srs)
    with np.errstate(invalid="ignore", divide="ignore"):
        n_eff = np.where(sw2 > 0, sw * sw / sw2, 0.0)
        deff = np.where(vsrs > 0, se * se / vsrs, np.nan)
    out = labels.reset_index(drop=True).copy()
    for name, value in (("estimate", est), ("se", se), ("ci_low", est - q * se), ("ci_high", est + q * se),
                        ("n", n.astype(np.int64)), ("n_eff", n_eff), ("deff", deff), ("df", dfs)):
        out[name] = value
    out.attrs.update(level=level, statistic=f"replicate {statistic}")
    return out


def replicate_mean(data: pd.DataFrame, y: str, repweights, *, weights=None, scale: float | None = None,
                   rscales=None, by: str | Sequence[str] | None = None, centre: str = "mean",
                   level: float | None = None, df="replicate") -> pd.DataFrame:
    """Weighted mean of ``y`` per domain with a replicate-weight standard error.

    Parameters
    ----------
    data : pandas.DataFrame
    y : str
        Numeric column; missing values are excluded as a domain.
    repweights : ReplicateWeights, list of column names, or ndarray (n_rows, R)
    weights : str or array, optional
        Full-sample weights (taken from ``repweights`` when it is a
        :class:`ReplicateWeights`).
    scale, rscales : float, array
        Constants of the replicate method (from ``repweights`` when it is a
        :class:`ReplicateWeights`); e.g. JK1 ``(n - 1) / n * (1 - f)``.
    by : str or sequence of str, optional
    centre : {"mean", "full"}
    level : float, optional
        Confidence level of the interval (``ci_low``, ``ci_high`` are NaN without it).
    df : "replicate", None or float
        ``"replicate"``: rank of the replicate weight matrix minus one (R's
        ``degf`` of a replicate design).

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, ``estimate, se, ci_low, ci_high, n, n_eff, deff, df``
        as :func:`~evaluation.design.design_mean`; ``deff`` is the replicate
        variance over the SRS-without-replacement variance.

    Notes
    -----
    ``theta_r = sum_d w_r y / sum_d w_r`` over the domain's rows;
    ``se = sqrt(scale sum_r rscales_r (theta_r - c)^2)``.  Reproduces
    ``svymean``/``svyby`` on ``svrepdesign(type="JK1" | "bootstrap")`` of R
    ``survey`` 4.1.1 from the same replicate weights.
    """
    return _replicate_estimate(data, y, repweights, "mean", weights=weights, scale=scale, rscales=rscales,
                               by=by, centre=centre, level=level, df=df)


def replicate_total(data: pd.DataFrame, y: str, repweights, *, weights=None, scale: float | None = None,
                    rscales=None, by: str | Sequence[str] | None = None, centre: str = "mean",
                    level: float | None = None, df="replicate") -> pd.DataFrame:
    """Weighted total of ``y`` per domain with a replicate-weight standard error (as :func:`replicate_mean`)."""
    return _replicate_estimate(data, y, repweights, "total", weights=weights, scale=scale, rscales=rscales,
                               by=by, centre=centre, level=level, df=df)


# ----------------------------------------------------------------------------- fast domain bootstrap

def _poisson_table(bits: int = 16) -> np.ndarray:
    """Poisson(1) quantiles at the midpoints of 2**bits equal slices: a uniform index gives a Poisson draw."""
    k = 1 << bits
    return stats.poisson.ppf((np.arange(k) + 0.5) / k, 1.0).astype(np.float32)


def bootstrap_domain_means(values, weights, groups, n_replicates: int, rng: np.random.Generator, *,
                           strata=None, clusters=None, method: str = "poisson", n_groups: int | None = None,
                           chunk_rows: int = 2048) -> np.ndarray:
    """Bootstrap replicates of weighted domain means, in chunks.

    Parameters
    ----------
    values, weights : array, shape (n,)
        Values (NaN: excluded) and sampling weights.
    groups : array of int, shape (n,)
        Domain code ``0 .. n_groups - 1`` of each row (``-1``: no domain).
    n_replicates : int
    rng : numpy.random.Generator
    strata, clusters : array of int, optional
        Stratum and PSU codes (PSUs identified within strata).  Without
        ``clusters`` every row is a PSU.
    method : {"poisson", "rescaled"}
        ``"poisson"``: every PSU gets an independent Poisson(1) multiplier,
        drawn by looking up 16 random bits in a table of Poisson(1) quantiles
        (tail beyond 7 truncated at probability below 1/65536); strata are
        not used.  ``"rescaled"``: the Rao-Wu bootstrap of
        :func:`bootstrap_weights` without finite population correction:
        ``n_h - 1`` PSUs drawn with replacement within each stratum, factor
        ``n_h / (n_h - 1)`` times the draw count.
    n_groups : int, optional
    chunk_rows : int
        PSUs per chunk (``"poisson"``); memory is about
        ``chunk_rows * n_replicates * 6`` bytes plus the inputs.

    Returns
    -------
    ndarray, shape (n_groups, n_replicates)
        Replicate means; NaN where a domain has no weight in a replicate.
        Standard errors: ``replicate_se(out, scale=1 / (n_replicates - 1))``.

    Notes
    -----
    Values are centred at their domain's full-sample mean before the
    float32 matrix products, so that single precision does not cost
    accuracy: ``theta_rd = ybar_d + sum f_r w (y - ybar_d) / sum f_r w``.
    For a domain that is a stratum (the usual ``strata = by = department``),
    the Poisson bootstrap variance estimates ``(n - 1) / n`` times the
    linearisation variance; for a domain spanning strata it ignores the
    stratification (conservative): use ``"rescaled"`` there.
    """
    _check_replicates(n_replicates)
    if method not in BOOTSTRAP_METHODS:
        raise MethodologyError(f"unknown bootstrap method {method!r}",
                               [Problem("method must be a known bootstrap", value=method,
                                        fix=f"use one of {', '.join(BOOTSTRAP_METHODS)}", code="bad_argument")])
    y = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    g = np.asarray(groups).astype(np.intp, copy=False)
    n = len(y)
    for name, arr in (("weights", w), ("groups", g), ("strata", strata), ("clusters", clusters)):
        if arr is not None and len(arr) != n:
            raise DataValidationError("bootstrap inputs differ in length",
                                      [Problem(f"{name} has {len(arr)} entries, values {n}",
                                               fix="pass arrays of the same rows", code="shape_mismatch")])
    n_groups = int(g.max()) + 1 if n_groups is None else int(n_groups)
    h = np.zeros(n, dtype=np.intp) if strata is None else factorize_sorted(np.asarray(strata))[0]
    if clusters is not None:
        c = pd.factorize(np.asarray(clusters))[0].astype(np.int64)
        psu = pd.factorize(h.astype(np.int64) * (int(c.max()) + 1) + c)[0].astype(np.intp)

    keep = (g >= 0) & ~np.isnan(y) & (w != 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ybar = (np.bincount(g[keep], weights=(w * y)[keep], minlength=n_groups)
                / np.bincount(g[keep], weights=w[keep], minlength=n_groups))
    n_strata = int(h.max()) + 1 if n else 0

    # PSUs are ranked by stratum; "cells" are (PSU, domain) sums of the kept rows in PSU-rank order
    if clusters is None:
        # a row is a PSU: ranking rows by (stratum, domain) keeps domains contiguous in every chunk,
        # with the rows that count for nothing last in their stratum
        key = h.astype(np.int64) * (n_groups + 1) + np.where(keep, g, n_groups)
        if key.max(initial=0) < 2**16:
            key = key.astype(np.uint16)    # numpy sorts 16-bit keys by radix: linear time
        order = np.argsort(key, kind="stable")
        del key
        kept_sorted = keep[order]
        cell_psu = np.flatnonzero(kept_sorted)
        rows = order[kept_sorted]
        del order, kept_sorted
        cell_g = g[rows]
        ab = np.empty((2, len(rows)), dtype=np.float32)
        ab[0] = w[rows] * (y[rows] - ybar[cell_g])
        ab[1] = w[rows]
        del rows
        n_psu_all = n
        n_psu_h = np.bincount(h, minlength=n_strata)
    else:
        n_psu_all = int(psu.max()) + 1 if n else 0
        psu_h = np.zeros(n_psu_all, dtype=np.intp)
        psu_h[psu] = h
        psu_rank = np.empty(n_psu_all, dtype=np.intp)
        psu_rank[np.lexsort((np.arange(n_psu_all), psu_h))] = np.arange(n_psu_all)
        gk, wk = g[keep], w[keep]
        keys, inv = np.unique(psu_rank[psu[keep]].astype(np.int64) * n_groups + gk, return_inverse=True)
        cell_psu, cell_g = (keys // n_groups).astype(np.intp), (keys % n_groups).astype(np.intp)
        ab = np.vstack([np.bincount(inv, weights=wk * (y[keep] - ybar[gk])),
                        np.bincount(inv, weights=wk)]).astype(np.float32)
        n_psu_h = np.bincount(psu_h, minlength=n_strata)

    out = np.zeros((2, n_groups, n_replicates))
    if method == "poisson":
        _poisson_chunks(out, rng, n_psu_all, n_replicates, max(1, int(chunk_rows)), cell_psu, cell_g, ab)
    else:
        budget = 1 << 18     # counts per block: small enough to stay in cache
        start = np.concatenate([[0], np.cumsum(n_psu_h)])
        for hh in range(len(n_psu_h)):
            n_h = int(n_psu_h[hh])
            p0, p1 = int(start[hh]), int(start[hh + 1])
            if n_h < 2:
                ones = np.ones((n_h, n_replicates), dtype=np.float32)
                _accumulate(out, ones, p0, p1, cell_psu, cell_g, ab, slice(0, n_replicates))
                continue
            rb = max(1, min(n_replicates, budget // n_h))
            for r0 in range(0, n_replicates, rb):
                r1 = min(n_replicates, r0 + rb)
                draws = rng.integers(0, n_h, size=(r1 - r0, n_h - 1))
                draws += (np.arange(r1 - r0) * n_h)[:, None]
                counts = np.bincount(draws.ravel(), minlength=(r1 - r0) * n_h).reshape(r1 - r0, n_h)
                factors = counts.T.astype(np.float32)
                factors *= n_h / (n_h - 1)
                _accumulate(out, factors, p0, p1, cell_psu, cell_g, ab, slice(r0, r1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return ybar[:, None] + out[0] / np.where(out[1] > 0, out[1], np.nan)


#: threads that look up and multiply the Poisson chunks (the draws themselves are taken in order by the caller)
POISSON_THREADS = 2


def _poisson_chunks(out, rng, n_psu_all, n_replicates, step, cell_psu, cell_g, ab) -> None:
    """The Poisson bootstrap's chunks of PSUs: random bits drawn in order here, looked up and summed on threads.

    Chunk ``k`` always goes to thread ``k % POISSON_THREADS``, which adds its
    chunks in order into its own sums; the sums are added in thread order at
    the end, so the result does not depend on timing.  ``np.take`` and
    ``np.einsum`` release the GIL, so the threads share the cores; the
    random bits are the same, in the same order, as one loop would draw.
    """
    from concurrent.futures import ThreadPoolExecutor

    table = _poisson_table()
    threads = max(1, min(POISSON_THREADS, os.cpu_count() or 1, -(-n_psu_all // step)))
    parts = [out] + [np.zeros_like(out) for _ in range(threads - 1)]
    buffers = [np.empty((step, n_replicates), dtype=np.float32) for _ in range(threads)]

    def chunk(k, p0, p1, raw):
        idx = raw.view(np.uint16)[:(p1 - p0) * n_replicates].reshape(p1 - p0, n_replicates)
        # take with mode="clip" looks the bits up twice as fast as table[idx] (no bounds errors to raise)
        factors = np.take(table, idx, mode="clip", out=buffers[k % threads][:p1 - p0])
        _accumulate(parts[k % threads], factors, p0, p1, cell_psu, cell_g, ab, slice(0, n_replicates))

    pools = [ThreadPoolExecutor(max_workers=1) for _ in range(threads)]
    try:
        pending = []
        for k, p0 in enumerate(range(0, n_psu_all, step)):
            p1 = min(n_psu_all, p0 + step)
            if len(pending) >= 2 * threads:
                pending.pop(0).result()       # at most two chunks per thread in memory
            raw = rng.bit_generator.random_raw(-(-(p1 - p0) * n_replicates // 4))
            pending.append(pools[k % threads].submit(chunk, k, p0, p1, raw))
        for f in pending:
            f.result()
    finally:
        for pool in pools:
            pool.shutdown()
    for part in parts[1:]:
        out += part


def _accumulate(out, factors, p0, p1, cell_psu, cell_g, ab, cols) -> None:
    """Add the replicate sums of the cells of PSUs ``p0 .. p1 - 1`` (factors: one row per PSU)."""
    c0, c1 = np.searchsorted(cell_psu, [p0, p1])
    if c1 <= c0:
        return
    local = cell_psu[c0:c1] - p0
    g = cell_g[c0:c1]
    order = np.argsort(g, kind="stable")
    if np.array_equal(local, np.arange(p1 - p0)) and (np.diff(g) >= 0).all():
        f, gs, abs_ = factors, g, ab[:, c0:c1]     # one cell per PSU, already grouped: no copy
    else:
        f, gs, abs_ = factors[local[order]], g[order], ab[:, c0:c1][:, order]
    cuts = np.flatnonzero(np.diff(gs)) + 1
    for s, e in zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [len(gs)]])):
        # einsum rather than matmul: these thin products gain nothing from BLAS threads, and on a busy
        # machine the thread hand-offs made them several times slower
        out[:, gs[s], cols] += np.einsum("ki,ij->kj", abs_[:, s:e], f[s:e])
