"""Sampling designs and the design-based (Taylor-linearisation) variance engine.

Survey weights in minping are *sampling* weights: the number of population
units a respondent stands for.  Variances are design-based (strata, clusters,
finite population corrections), never frequency-weight formulas.

A :class:`Design` names the columns of a data frame that carry the design;
:func:`prepare_design` validates them once and turns them into integer codes,
so that many estimates on the same rows (one per questionnaire item) do not
repeat that work.  The estimators built on it are in :mod:`evaluation.design`
(means, totals, ratios, proportions, which also re-exports :class:`Design`);
weight adjustment in :mod:`evaluation.calibration`; replicate weights in
:mod:`evaluation.replicates`.

Conventions (those of R ``survey`` 4.1.1, ``svydesign`` with one stage):

- PSUs are identified within their stratum (R's ``nest=TRUE``): the same
  cluster id in two strata is two PSUs.
- ``fpc`` is the stratum's population size in PSUs, or, if every value is at
  most 1, the sampling fraction.  Without ``fpc`` sampling is taken to be with
  replacement (no correction).
- Without a weight column the weights are derived from ``fpc`` (``N_h / n_h``,
  or ``1 / f_h``), or are 1 when there is no ``fpc`` either.
- A stratum with one PSU cannot estimate its own variance; ``lonely_psu``
  chooses what to do, as R's ``options(survey.lonely.psu=)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from surveys.errors import DataValidationError, MethodologyError, Problem

__all__ = [
    "LONELY_PSU_RULES",
    "Design",
    "PreparedDesign",
    "check_level",
    "critical_value",
    "design_df",
    "domain_codes",
    "factorize_sorted",
    "group_sum",
    "linearised_variance",
    "prepare_design",
    "srs_variance",
    "t_interval",
]

LONELY_PSU_RULES = ("fail", "remove", "certainty", "adjust")

# Above this many (domain x PSU) cells, PSU totals are formed with np.unique
# instead of a dense bincount, to bound memory.
_DENSE_CELL_LIMIT = 20_000_000


@dataclass(frozen=True)
class Design:
    """A one-stage sampling design, as column names of a data frame.

    Parameters
    ----------
    weights : str or None
        Sampling weight column (population units per respondent).  ``None``:
        derived from ``fpc`` if given, else 1.
    strata : str or None
        Stratum column.  ``None``: one stratum.
    cluster : str or None
        Primary sampling unit (PSU) id column, identified within strata.
        ``None``: every row is its own PSU.
    fpc : str or None
        Population size of the row's stratum in PSUs (constant within a
        stratum), or the sampling fraction when every value is at most 1.
        ``None``: sampling with replacement, no finite population correction.
    lonely_psu : {"fail", "remove", "certainty", "adjust"}
        What a stratum with a single PSU contributes to a variance:
        ``"fail"`` raises :class:`~surveys.errors.MethodologyError` (R's
        default); ``"remove"`` and ``"certainty"`` contribute nothing;
        ``"adjust"`` centres the PSU total at the overall mean (zero for
        influence values) instead of the stratum mean.
    """

    weights: str | None = None
    strata: str | None = None
    cluster: str | None = None
    fpc: str | None = None
    lonely_psu: str = "fail"

    def __post_init__(self) -> None:
        if self.lonely_psu not in LONELY_PSU_RULES:
            raise MethodologyError(
                f"unknown lonely_psu rule {self.lonely_psu!r}",
                [Problem("lonely_psu must name a known rule", fix=f"use one of {', '.join(LONELY_PSU_RULES)}",
                         value=self.lonely_psu, code="bad_argument")])

    def columns(self) -> tuple[str, ...]:
        """The column names the design uses, in a fixed order."""
        return tuple(c for c in (self.weights, self.strata, self.cluster, self.fpc) if c is not None)


@dataclass(frozen=True, eq=False)
class PreparedDesign:
    """A validated design bound to the rows of one data frame.

    Attributes
    ----------
    design : Design
    n_rows : int
    weights : ndarray, shape (n_rows,)
        Sampling weights (given or derived).
    stratum : ndarray of intp, shape (n_rows,)
        Stratum code of each row, ``0 .. n_strata - 1`` in sorted label order.
    strata_labels : pandas.Index
    psu : ndarray of intp or None
        PSU code of each row, ``0 .. n_psu_total - 1``; ``None`` when every
        row is its own PSU.
    psu_stratum : ndarray of intp or None
        Stratum code of each PSU.
    n_psu : ndarray of int, shape (n_strata,)
        Number of PSUs in each stratum.
    fpc_factor : ndarray, shape (n_strata,)
        ``1 - f_h``; 1 without finite population correction.
    weights_derived : bool
        Whether the weights were derived rather than read.
    """

    design: Design
    n_rows: int
    weights: np.ndarray
    stratum: np.ndarray
    strata_labels: pd.Index
    psu: np.ndarray | None
    psu_stratum: np.ndarray | None
    n_psu: np.ndarray
    fpc_factor: np.ndarray
    weights_derived: bool

    @property
    def n_strata(self) -> int:
        return len(self.n_psu)

    @property
    def n_psu_total(self) -> int:
        return int(self.n_psu.sum())

    @property
    def degf(self) -> int:
        """Design degrees of freedom: PSUs minus strata (R's ``degf``), positive weights only."""
        dom = np.where(self.weights != 0, 0, -1)
        return int(design_df(self, dom, 1)[0])


def _where(data: pd.DataFrame, mask: np.ndarray, limit: int = 5) -> str:
    labels = list(data.index[np.flatnonzero(mask)[:limit]])
    more = "" if int(mask.sum()) <= limit else f" and {int(mask.sum()) - limit} more"
    return f"index {labels}{more}"


def _numeric(data: pd.DataFrame, column: str, what: str) -> np.ndarray:
    """A column as float64 (missing -> NaN), or a DataValidationError saying why not."""
    if column not in data.columns:
        raise DataValidationError(
            f"{what} column '{column}' not found",
            [Problem(f"the {what} column is missing", fix=f"add column '{column}' or change the design",
                     column=column, code="missing_column")])
    series = data[column]
    if series.dtype == bool:
        return series.to_numpy(dtype=float)
    try:
        return series.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        raise DataValidationError(
            f"{what} column '{column}' is not numeric",
            [Problem(f"the {what} column must hold numbers", fix="convert the column to numbers first",
                     column=column, value=str(series.dtype), code="not_numeric")]) from None


def _codes(data: pd.DataFrame, column: str, what: str) -> tuple[np.ndarray, pd.Index]:
    if column not in data.columns:
        raise DataValidationError(
            f"{what} column '{column}' not found",
            [Problem(f"the {what} column is missing", fix=f"add column '{column}' or change the design",
                     column=column, code="missing_column")])
    codes, labels = factorize_sorted(data[column])
    missing = codes < 0
    if missing.any():
        raise DataValidationError(
            f"{what} column '{column}' has missing values",
            [Problem(f"{int(missing.sum())} row(s) have no {what} ({_where(data, missing)})",
                     fix=f"fill in the {what} of every row or drop those rows", column=column,
                     code="missing_design_value")])
    return codes.astype(np.intp, copy=False), pd.Index(labels)


def prepare_design(data: pd.DataFrame, design: Design) -> PreparedDesign:
    """Validate ``design`` against ``data`` and encode it.

    Parameters
    ----------
    data : pandas.DataFrame
    design : Design

    Returns
    -------
    PreparedDesign

    Raises
    ------
    DataValidationError
        A design column is missing, non-numeric (weights, fpc) or has missing
        values; a weight is negative or not finite; ``fpc`` varies within a
        stratum or is smaller than the number of PSUs sampled.
    """
    n = len(data)
    if design.strata is not None:
        stratum, strata_labels = _codes(data, design.strata, "stratum")
    else:
        stratum, strata_labels = np.zeros(n, dtype=np.intp), pd.Index([None])
    n_strata = len(strata_labels)

    psu = psu_stratum = None
    if design.cluster is not None:
        cluster, cluster_labels = _codes(data, design.cluster, "cluster")
        # nest PSUs within strata: the key is the (stratum, cluster) pair
        key = stratum.astype(np.int64) * max(len(cluster_labels), 1) + cluster
        psu, some = _factorize_first(key)
        psu_stratum = stratum[some]
        n_psu = np.bincount(psu_stratum, minlength=n_strata)
    else:
        n_psu = np.bincount(stratum, minlength=n_strata)

    problems: list[Problem] = []
    fpc_factor = np.ones(n_strata)
    pop = None
    if design.fpc is not None:
        fpc = _numeric(data, design.fpc, "fpc")
        bad = ~np.isfinite(fpc) | (fpc <= 0)
        if bad.any():
            raise DataValidationError(
                f"fpc column '{design.fpc}' has missing, zero or negative values",
                [Problem(f"{int(bad.sum())} row(s) without a usable population size ({_where(data, bad)})",
                         fix="give the stratum population size (in PSUs) on every row", column=design.fpc,
                         code="bad_fpc")])
        first_row = _some_index(stratum, n_strata)
        per_stratum = fpc[first_row]
        varies = fpc != per_stratum[stratum]
        if varies.any():
            h = np.unique(stratum[varies])
            problems.append(Problem(
                f"fpc varies within stratum {list(strata_labels[h[:5]])}", column=design.fpc,
                fix="the fpc must be the same on every row of a stratum", code="fpc_varies"))
        elif np.all(fpc <= 1):
            fpc_factor = 1.0 - per_stratum
            pop = n_psu / per_stratum
        else:
            short = per_stratum < n_psu
            if short.any():
                h = np.flatnonzero(short)[:5]
                problems.append(Problem(
                    f"population size below the number of PSUs sampled in stratum {list(strata_labels[h])}",
                    column=design.fpc, value=[float(per_stratum[i]) for i in h],
                    fix="fpc counts PSUs in the stratum's population; give a value at least the sample count",
                    code="fpc_too_small"))
            fpc_factor = (per_stratum - n_psu) / per_stratum
            pop = per_stratum

    derived = design.weights is None
    if derived:
        if pop is None:
            weights = np.ones(n)
        else:
            with np.errstate(divide="ignore"):
                weights = (pop / n_psu)[stratum]
    else:
        weights = _numeric(data, design.weights, "weight")
        bad = ~np.isfinite(weights) | (weights < 0)
        if bad.any():
            problems.append(Problem(
                f"{int(bad.sum())} weight(s) missing, infinite or negative ({_where(data, bad)})",
                column=design.weights, fix="sampling weights must be finite and non-negative",
                code="bad_weight"))
    if problems:
        raise DataValidationError("the sampling design cannot be used as given", problems)
    return PreparedDesign(design, n, weights, stratum, strata_labels, psu, psu_stratum, n_psu,
                          np.asarray(fpc_factor, dtype=float), derived)


def factorize_sorted(values) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize`` in sorted label order, or in order of appearance when labels do not sort.

    Labels of mixed types (e.g. numbers and text in one column) cannot be
    ordered; they are then listed as they first appear rather than refused.
    """
    try:
        return pd.factorize(values, sort=True)
    except TypeError:
        return pd.factorize(values, sort=False)


def _factorize_first(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes in order of first appearance and one row of each code."""
    codes, _ = pd.factorize(key, sort=False)
    codes = codes.astype(np.intp, copy=False)
    return codes, _some_index(codes, int(codes.max()) + 1 if len(codes) else 0)


def _some_index(codes: np.ndarray, k: int) -> np.ndarray:
    """One row index per code (which one is unspecified); used where all rows of a code agree."""
    rows = np.zeros(k, dtype=np.intp)
    rows[codes] = np.arange(len(codes), dtype=np.intp)
    return rows


def domain_codes(data: pd.DataFrame, by: str | Sequence[str] | None) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer domain codes of the rows and the domains' labels.

    Parameters
    ----------
    data : pandas.DataFrame
    by : str, sequence of str, or None
        Domain columns.  ``None``: a single domain holding every row.

    Returns
    -------
    codes : ndarray of intp
        ``0 .. n_domains - 1`` in sorted label order (categorical columns in
        category order); ``-1`` for rows with a missing value in a ``by``
        column, which belong to no domain.
    labels : pandas.DataFrame
        One row per domain, one column per ``by`` column (no columns when
        ``by`` is None).
    """
    n = len(data)
    if by is None:
        return np.zeros(n, dtype=np.intp), pd.DataFrame(index=range(1))
    cols = [by] if isinstance(by, str) else list(by)
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise DataValidationError(
            f"domain column(s) {missing} not found",
            [Problem("a 'by' column is missing", column=c, fix="name existing columns in by=",
                     code="missing_column") for c in missing])
    parts = [factorize_sorted(data[c]) for c in cols]
    if len(cols) == 1:
        codes, uniques = parts[0]
        return codes.astype(np.intp, copy=False), pd.DataFrame({cols[0]: uniques})
    sizes = [max(len(u), 1) for _, u in parts]
    combined = np.zeros(n, dtype=np.int64)
    na = np.zeros(n, dtype=bool)
    for (c, _), size in zip(parts, sizes):
        combined = combined * size + np.maximum(c, 0)
        na |= c < 0
    total = int(np.prod(sizes, dtype=float))
    if total <= _DENSE_CELL_LIMIT:
        present = np.bincount(combined[~na], minlength=total) > 0
        keys = np.flatnonzero(present)
        remap = np.cumsum(present) - 1
        codes = remap[combined]
    else:
        keys, inverse = np.unique(combined[~na], return_inverse=True)
        codes = np.empty(n, dtype=np.intp)
        codes[~na] = inverse
    codes = np.where(na, -1, codes).astype(np.intp, copy=False)
    labels = {}
    rest = keys.astype(np.int64)
    for (c, uniques), size, name in zip(parts[::-1], sizes[::-1], cols[::-1]):
        labels[name] = pd.Index(uniques).take(rest % size)
        rest = rest // size
    return codes, pd.DataFrame({name: labels[name] for name in cols})


def linearised_variance(prep: PreparedDesign, z: np.ndarray, dom: np.ndarray | None = None,
                        n_dom: int = 1) -> np.ndarray:
    """Design variance of the totals ``sum_k z_k`` of each domain.

    Parameters
    ----------
    prep : PreparedDesign
    z : ndarray, shape (n_rows,)
        Weighted influence values (``w_k`` times the linearised variable).
    dom : ndarray of intp, optional
        Domain code of each row; rows with ``-1`` contribute nothing.  The
        variance of domain ``d`` is that of ``z * [dom == d]`` under the full
        design: PSUs without rows of ``d`` count as PSUs with a zero total.
    n_dom : int

    Returns
    -------
    ndarray, shape (n_dom,)

    Notes
    -----
    With ``t_hi`` the total of ``z`` in PSU ``i`` of stratum ``h`` (``n_h``
    PSUs, sampling fraction ``f_h``)::

        V = sum_h (1 - f_h) n_h / (n_h - 1) sum_i (t_hi - mean_h(t))^2

    the with-replacement (Hansen-Hurwitz) estimator with finite population
    correction, as R ``survey``'s ``svyrecvar`` for one stage.  The sum of
    squares is computed in two passes (centred), not as
    ``sum t^2 - n mean^2``.
    """
    if dom is None:
        dom = np.zeros(prep.n_rows, dtype=np.intp)
        n_dom = 1
    H = prep.n_strata
    size = n_dom * H
    if prep.psu is None:
        # cells are rows; rows outside every domain go to a dump bin (index `size`) that is dropped
        t = z
        key = dom * H + prep.stratum
        if (dom < 0).any():
            key = np.where(dom >= 0, key, size)
    else:
        P = prep.n_psu_total
        keep = dom >= 0
        cell = np.where(keep, dom.astype(np.int64) * P + prep.psu, n_dom * P)
        if n_dom * P <= _DENSE_CELL_LIMIT:
            counts = np.bincount(cell, minlength=n_dom * P + 1)[:n_dom * P]
            sums = np.bincount(cell, weights=z, minlength=n_dom * P + 1)[:n_dom * P]
            ids = np.flatnonzero(counts)
            t = sums[ids]
        else:
            ids, inverse = np.unique(cell[keep], return_inverse=True)
            t = np.bincount(inverse, weights=z[keep])
        key = (ids // P) * H + prep.psu_stratum[ids % P]
    n_h = np.append(np.tile(prep.n_psu.astype(float), n_dom), 1.0)
    m = np.bincount(key, minlength=size + 1)
    s1 = np.bincount(key, weights=t, minlength=size + 1)
    tbar = s1 / n_h
    dev = t - tbar[key]
    ss = (np.bincount(key, weights=dev * dev, minlength=size + 1) + (n_h - m) * tbar * tbar)[:size]
    m = m[:size]

    lonely = prep.n_psu == 1
    factor = prep.fpc_factor * np.where(lonely, 1.0, prep.n_psu / np.maximum(prep.n_psu - 1, 1))
    if lonely.any():
        touched = (m.reshape(n_dom, H) > 0) & lonely[None, :]
        rule = prep.design.lonely_psu
        if rule == "fail" and touched.any():
            h = np.flatnonzero(touched.any(axis=0))[:5]
            raise MethodologyError(
                "a stratum has only one PSU, so its variance cannot be estimated",
                [Problem(f"stratum {list(prep.strata_labels[h])} has a single PSU", column=prep.design.strata,
                         fix="merge the stratum with a similar one, or set Design(lonely_psu='remove' | "
                             "'certainty' | 'adjust')", code="lonely_psu")])
        if rule == "adjust":
            raw = np.bincount(key, weights=t * t, minlength=size + 1)[:size]
            ss = np.where(np.tile(lonely, n_dom), raw, ss)
    return (ss.reshape(n_dom, H) * factor[None, :]).sum(axis=1)


def design_df(prep: PreparedDesign, dom: np.ndarray, n_dom: int) -> np.ndarray:
    """Design degrees of freedom of each domain: PSUs minus strata among the domain's rows.

    ``dom`` must already be ``-1`` for rows that do not count (outside the
    domain, missing value, zero weight).  This is R's ``degf`` of the design
    restricted to the domain (``degf(subset(design, ...))``), which is what
    ``svyby(..., svyciprop)`` uses; for the whole sample it is ``degf(design)``.
    """
    H = prep.n_strata
    size = n_dom * H
    if prep.psu is None:
        key = np.where(dom >= 0, dom * H + prep.stratum, size)
        m = np.bincount(key, minlength=size + 1)[:size].reshape(n_dom, H)
    else:
        keep = dom >= 0
        P = prep.n_psu_total
        cells = np.unique(dom[keep].astype(np.int64) * P + prep.psu[keep])
        m = np.bincount((cells // P) * H + prep.psu_stratum[cells % P], minlength=size).reshape(n_dom, H)
    return (m.sum(axis=1) - (m > 0).sum(axis=1)).astype(float)


def t_interval(estimate: np.ndarray, se: np.ndarray, df: np.ndarray | float, level: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """``estimate -/+ q se`` with ``q`` the Student t quantile on ``df`` (normal when infinite).

    ``df <= 0`` gives NaN bounds (no interval can be formed).
    """
    q = critical_value(df, level)
    return estimate - q * se, estimate + q * se


def critical_value(df: np.ndarray | float, level: float) -> np.ndarray:
    """Two-sided critical value for ``level``: t on ``df`` degrees of freedom, normal if infinite."""
    check_level(level)
    df = np.asarray(df, dtype=float)
    p = 0.5 + level / 2
    with np.errstate(invalid="ignore"):
        q = np.where(np.isinf(df), stats.norm.ppf(p), stats.t.ppf(p, np.where(df > 0, df, np.nan)))
    return q


def check_level(level: float) -> None:
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise MethodologyError(
            f"confidence level {level!r} is not between 0 and 1",
            [Problem("the confidence level must be a probability", value=level, fix="use e.g. level=0.95",
                     code="bad_argument")])


def srs_variance(w: np.ndarray, dom: np.ndarray, n_dom: int, u: np.ndarray, srs: str = "wor") -> np.ndarray:
    """Variance of ``sum_k w_k u_k`` per domain under simple random sampling of the domain's size.

    The reference of the design effect, as R ``svytotal(..., deff=TRUE)``:
    ``s^2 N^2 (N - n) / (N n)`` (``srs="wor"``) or ``s^2 N^2 / n`` (``"wr"``),
    with ``n`` the domain's rows with non-zero weight, ``N = sum w`` and
    ``s^2 = n / (n - 1) sum w (u - ubar)^2 / N`` the weighted variance of
    ``u``.  NaN where ``N <= n`` for ``"wor"`` (weights not scaled to a
    population: R gives NA).
    """
    bins = np.where((w != 0) & (dom >= 0), dom, n_dom)
    n = group_sum(bins, None, n_dom)
    big_n = group_sum(bins, w, n_dom)
    wu = w * u
    with np.errstate(invalid="ignore", divide="ignore"):
        ubar = np.append(group_sum(bins, wu, n_dom) / big_n, 0.0)
        dev = u - ubar[bins]
        s2 = n / (n - 1) * group_sum(bins, w * dev * dev, n_dom) / big_n
        if srs == "wr":
            return s2 * big_n ** 2 / n
        return np.where(big_n > n, s2 * big_n ** 2 * (big_n - n) / (big_n * n), np.nan)


def group_sum(bins: np.ndarray, values: np.ndarray | None, n: int) -> np.ndarray:
    """Sums (or counts, ``values=None``) per bin ``0 .. n - 1``; bin ``n`` collects rows to ignore."""
    if values is None:
        return np.bincount(bins, minlength=n + 1)[:n].astype(float)
    return np.bincount(bins, weights=values, minlength=n + 1)[:n]
