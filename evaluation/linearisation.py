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

Conventions (those of R ``survey`` 4.1.1, ``svydesign``):

- PSUs are identified within their stratum (R's ``nest=TRUE``): the same
  cluster id in two strata is two PSUs.  Units of a later stage are
  identified within their parent unit (R always nests later stages).
- ``fpc`` is the stratum's population size in PSUs, or, if every value is at
  most 1, the sampling fraction.  Without ``fpc`` sampling is taken to be with
  replacement (no correction), and only the first stage counts.
- Multistage designs (``cluster=("psu", "ssu")``, ``fpc=("N1", "N2")``, R's
  ``svydesign(ids=~psu+ssu, fpc=~N1+N2)``): ``N2`` is the number of
  second-stage units in the row's PSU (constant within the PSU).  The
  variance is R's recursive multistage formula (``svyrecvar``): the
  first-stage between-PSU term, plus for every PSU the variance of its
  second-stage units' totals within it, weighted by the first-stage sampling
  fraction ``n_h / N_h``, and so on for later stages.  With fpc at each stage
  given as population sizes, a value above 1 anywhere makes every fpc a
  population size; if every value is at most 1 they are sampling fractions.
- Without a weight column the weights are derived from ``fpc`` (the product
  over stages of ``N / n``, or of ``1 / f``), or are 1 when there is no
  ``fpc`` either.
- A stratum (or, at a later stage, a parent unit) with one sampled unit
  cannot estimate its own variance; ``lonely_psu`` chooses what to do, as R's
  ``options(survey.lonely.psu=)``; a unit sampled with certainty (its fpc
  equal to the sample count) contributes nothing and never fails.
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
    "DomainCells",
    "LaterStage",
    "PreparedDesign",
    "check_level",
    "critical_value",
    "design_df",
    "domain_cells",
    "domain_codes",
    "factorize_sorted",
    "group_sum",
    "linearised_variance",
    "prepare_design",
    "srs_variance",
    "strata_domain_variance",
    "t_interval",
]

LONELY_PSU_RULES = ("fail", "remove", "certainty", "adjust")

# Above this many (domain x PSU) cells, PSU totals are formed with np.unique
# instead of a dense bincount, to bound memory.
_DENSE_CELL_LIMIT = 20_000_000
# A stratum or unit whose finite population correction 1 - f is below this was taken whole (R's 1e-7).
_CERTAIN = 1e-7


@dataclass(frozen=True)
class Design:
    """A sampling design, as column names of a data frame.

    Parameters
    ----------
    weights : str or None
        Sampling weight column (population units per respondent).  ``None``:
        derived from ``fpc`` if given, else 1.
    strata : str or None
        Stratum column (of the first stage).  ``None``: one stratum.
    cluster : str, sequence of str, or None
        Primary sampling unit (PSU) id column, identified within strata; a
        sequence names the sampling unit of each stage in turn (R's
        ``ids=~psu+ssu``).  ``None``: every row is its own PSU.
    fpc : str, sequence of str, or None
        Population size of the row's stratum in PSUs (constant within a
        stratum), or the sampling fraction when every value is at most 1.
        With several stages, one column per stage: the population size (or
        sampling fraction) of the row's unit at that stage within its parent
        unit.  ``None``: sampling with replacement, no finite population
        correction, later stages ignored.
    lonely_psu : {"fail", "remove", "certainty", "adjust"}
        What a stratum with a single PSU contributes to a variance:
        ``"fail"`` raises :class:`~surveys.errors.MethodologyError` (R's
        default); ``"remove"`` and ``"certainty"`` contribute nothing;
        ``"adjust"`` centres the PSU total at the overall mean (zero for
        influence values) instead of the stratum mean.  The same rule applies
        to a parent unit with one sampled unit at a later stage.

    Notes
    -----
    A sequence of one column is the same design as the column itself; the
    attributes keep the form given otherwise.  :attr:`clusters` and
    :attr:`fpcs` always give tuples.
    """

    weights: str | None = None
    strata: str | None = None
    cluster: str | tuple[str, ...] | None = None
    fpc: str | tuple[str, ...] | None = None
    lonely_psu: str = "fail"

    def __post_init__(self) -> None:
        for name in ("cluster", "fpc"):
            value = getattr(self, name)
            if isinstance(value, (list, tuple)):
                value = tuple(str(v) for v in value)
                object.__setattr__(self, name, None if not value else value[0] if len(value) == 1 else value)
        if self.lonely_psu not in LONELY_PSU_RULES:
            raise MethodologyError(
                f"unknown lonely_psu rule {self.lonely_psu!r}",
                [Problem("lonely_psu must name a known rule", fix=f"use one of {', '.join(LONELY_PSU_RULES)}",
                         value=self.lonely_psu, code="bad_argument")])
        stages = max(len(self.clusters), 1)
        if self.fpc is not None and len(self.fpcs) != stages:
            raise MethodologyError(
                "the design needs one fpc per sampling stage",
                [Problem(f"{stages} stage(s) of clusters {list(self.clusters)} but fpc {list(self.fpcs)}",
                         value=self.fpc, fix="give fpc as a list with one column per cluster stage "
                         "(R's fpc=~N1+N2 with ids=~psu+ssu), or no fpc (with replacement)",
                         code="bad_design")])

    @property
    def clusters(self) -> tuple[str, ...]:
        """The cluster columns of every stage (empty: rows are the PSUs)."""
        return () if self.cluster is None else (self.cluster,) if isinstance(self.cluster, str) else self.cluster

    @property
    def fpcs(self) -> tuple[str, ...]:
        """The fpc columns of every stage (empty: no finite population correction)."""
        return () if self.fpc is None else (self.fpc,) if isinstance(self.fpc, str) else self.fpc

    @property
    def psu(self) -> str | None:
        """The first-stage cluster column (``None``: rows are the PSUs)."""
        return self.clusters[0] if self.clusters else None

    def columns(self) -> tuple[str, ...]:
        """The column names the design uses, in a fixed order."""
        return tuple(c for c in (self.weights, self.strata, *self.clusters, *self.fpcs) if c is not None)


@dataclass(frozen=True, eq=False)
class LaterStage:
    """Units of one later sampling stage (the second or beyond), nested in the previous stage's units.

    Attributes
    ----------
    unit : ndarray of intp, shape (n_rows,)
        Code of each row's unit at this stage, ``0 .. n_units - 1``.
    parent : ndarray of intp, shape (n_units,)
        Code of each unit's parent (the previous stage's unit; a PSU code at
        the second stage).
    n_sampled : ndarray of int, shape (n_parents,)
        Units sampled in each parent.
    fpc_factor : ndarray, shape (n_parents,)
        ``1 - f`` of each parent's units (1 without finite population correction).
    carry : ndarray, shape (n_parents,)
        Product of the sampling fractions of the earlier stages along the
        parent's ancestry: the factor R's ``multistage`` puts on this stage's
        variance.
    """

    unit: np.ndarray
    parent: np.ndarray
    n_sampled: np.ndarray
    fpc_factor: np.ndarray
    carry: np.ndarray
    fraction: np.ndarray     # n / N of each parent's units: the carry of the next stage


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
    stages : tuple of LaterStage
        The second and later stages of a multistage design with finite
        population corrections (empty for one stage, or without fpc, when R
        uses the first stage only).
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
    stages: tuple[LaterStage, ...] = ()

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
        stratum (or, at a later stage, within a unit of the previous stage) or
        is smaller than the number of units sampled.
    """
    n = len(data)
    if design.strata is not None:
        stratum, strata_labels = _codes(data, design.strata, "stratum")
    else:
        stratum, strata_labels = np.zeros(n, dtype=np.intp), pd.Index([None])
    n_strata = len(strata_labels)

    psu = psu_stratum = None
    clusters = design.clusters
    if clusters:
        cluster, cluster_labels = _codes(data, clusters[0], "cluster")
        # nest PSUs within strata: the key is the (stratum, cluster) pair
        key = stratum.astype(np.int64) * max(len(cluster_labels), 1) + cluster
        psu, some = _factorize_first(key)
        psu_stratum = stratum[some]
        n_psu = np.bincount(psu_stratum, minlength=n_strata)
    else:
        n_psu = np.bincount(stratum, minlength=n_strata)

    problems: list[Problem] = []
    fpcs = [_fpc_values(data, c) for c in design.fpcs]
    # as R's as.fpc: every fpc at most 1 means sampling fractions, otherwise population sizes
    fractions = bool(fpcs) and all(bool(np.all(v <= 1)) for v in fpcs)
    fpc_factor = np.ones(n_strata)
    fraction1 = np.ones(n_strata)
    pop = None
    if fpcs:
        fpc = fpcs[0]
        first_row = _some_index(stratum, n_strata)
        per_stratum = fpc[first_row]
        varies = fpc != per_stratum[stratum]
        if varies.any():
            h = np.unique(stratum[varies])
            problems.append(Problem(
                f"fpc varies within stratum {list(strata_labels[h[:5]])}", column=design.fpcs[0],
                fix="the fpc must be the same on every row of a stratum", code="fpc_varies"))
        elif fractions:
            fpc_factor = 1.0 - per_stratum
            pop = n_psu / per_stratum
            fraction1 = per_stratum
        else:
            short = per_stratum < n_psu
            if short.any():
                h = np.flatnonzero(short)[:5]
                problems.append(Problem(
                    f"population size below the number of PSUs sampled in stratum {list(strata_labels[h])}",
                    column=design.fpcs[0], value=[float(per_stratum[i]) for i in h],
                    fix="fpc counts PSUs in the stratum's population; give a value at least the sample count",
                    code="fpc_too_small"))
            fpc_factor = (per_stratum - n_psu) / per_stratum
            pop = per_stratum
            with np.errstate(divide="ignore", invalid="ignore"):
                fraction1 = n_psu / per_stratum

    stages: list[LaterStage] = []
    later_weight = np.ones(n)
    if len(clusters) > 1:
        # R uses the later stages only with a finite population correction; the ids must be usable anyway
        codes = [_codes(data, c, "cluster")[0] for c in clusters[1:]]
        if fpcs and psu is not None and not problems:
            prev_unit, prev_parent = psu, psu_stratum
            prev_carry, prev_fraction = np.ones(n_strata), fraction1
            for k, code in enumerate(codes, start=1):
                stage = _later_stage(prev_unit, prev_parent, prev_carry, prev_fraction, code, fpcs[k],
                                     fractions, design.fpcs[k], k + 1, problems)
                if stage is None:
                    break
                stages.append(stage)
                with np.errstate(divide="ignore"):
                    later_weight = later_weight / stage.fraction[stage.parent[stage.unit]]
                prev_unit, prev_parent = stage.unit, stage.parent
                prev_carry, prev_fraction = stage.carry, stage.fraction

    derived = design.weights is None
    if derived:
        if pop is None:
            weights = np.ones(n)
        else:
            with np.errstate(divide="ignore"):
                weights = (pop / n_psu)[stratum] * later_weight
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
                          np.asarray(fpc_factor, dtype=float), derived, tuple(stages))


def _fpc_values(data: pd.DataFrame, column: str) -> np.ndarray:
    fpc = _numeric(data, column, "fpc")
    bad = ~np.isfinite(fpc) | (fpc <= 0)
    if bad.any():
        raise DataValidationError(
            f"fpc column '{column}' has missing, zero or negative values",
            [Problem(f"{int(bad.sum())} row(s) without a usable population size ({_where(data, bad)})",
                     fix="give the population size (in sampling units) on every row", column=column,
                     code="bad_fpc")])
    return fpc


def _later_stage(prev_unit, prev_parent, prev_carry, prev_fraction, code, fpc, fractions: bool, column: str,
                 stage_no: int, problems: list[Problem]) -> LaterStage | None:
    """Encode one later stage: units nested in the previous stage's units, their fpc and carried fraction."""
    n_prev = int(prev_unit.max()) + 1 if len(prev_unit) else 0
    key = prev_unit.astype(np.int64) * (int(code.max()) + 1 if len(code) else 1) + code
    unit, some = _factorize_first(key)
    parent = prev_unit[some]
    n_sampled = np.bincount(parent, minlength=n_prev)
    per_parent = fpc[_some_index(prev_unit, n_prev)]
    if (fpc != per_parent[prev_unit]).any():
        problems.append(Problem(
            f"fpc of stage {stage_no} varies within a unit of stage {stage_no - 1}", column=column,
            fix=f"give, on every row of a stage-{stage_no - 1} unit, the number of stage-{stage_no} units in its "
                "population", code="fpc_varies"))
        return None
    if fractions:
        factor, fraction = 1.0 - per_parent, per_parent
    else:
        short = per_parent < n_sampled
        if short.any():
            problems.append(Problem(
                f"population size below the number of stage-{stage_no} units sampled in "
                f"{int(short.sum())} unit(s) of stage {stage_no - 1}", column=column,
                value=[float(v) for v in per_parent[short][:5]],
                fix="the fpc of a later stage counts the units of its parent's population; give at least the "
                    "number sampled", code="fpc_too_small"))
            return None
        factor, fraction = (per_parent - n_sampled) / per_parent, n_sampled / per_parent
    # R's multistage: a stage's variance is multiplied by the sampling fraction of every stage above it
    carry = prev_carry[prev_parent] * prev_fraction[prev_parent]
    return LaterStage(unit, parent, n_sampled, np.asarray(factor, dtype=float), carry,
                      np.asarray(fraction, dtype=float))


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
    correction, as R ``survey``'s ``svyrecvar`` for one stage.  A multistage
    design with fpc (``prep.stages``) adds, for every unit ``i`` of the
    previous stage with ``m_i`` sampled units ``j`` of the next::

        carry_i (1 - f_i) m_i / (m_i - 1) sum_j (t_ij - mean_i(t))^2

    with ``carry_i`` the product of the sampling fractions ``n / N`` of the
    stages above (R's recursive ``multistage``).  The sum of squares is
    computed in two passes (centred), not as ``sum t^2 - n mean^2``.
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
    v = _between_psu(prep, t, key, n_dom)
    for k, stage in enumerate(prep.stages, start=2):
        v = v + _stage_variance(prep, stage, k, z, dom, n_dom)
    return v


def _between_psu(prep: PreparedDesign, t: np.ndarray, key: np.ndarray, n_dom: int) -> np.ndarray:
    """First-stage variance per domain from PSU totals ``t`` of the domains' cells.

    ``key`` is ``domain * n_strata + stratum`` of each total, or ``n_dom *
    n_strata`` for a total to leave out (a PSU without a row of the domain:
    it counts as a PSU with total zero, through ``n_h - m``).
    """
    H = prep.n_strata
    size = n_dom * H
    n_h = np.append(np.tile(prep.n_psu.astype(float), n_dom), 1.0)
    m = np.bincount(key, minlength=size + 1)
    s1 = np.bincount(key, weights=t, minlength=size + 1)
    tbar = s1 / n_h
    dev = t - tbar[key]
    ss = (np.bincount(key, weights=dev * dev, minlength=size + 1) + (n_h - m) * tbar * tbar)[:size]
    m = m[:size]

    lonely = prep.n_psu == 1
    factor = _stratum_factor(prep, lambda certain: ((m.reshape(n_dom, H) > 0) & certain[None, :]).any(axis=0))
    if lonely.any() and prep.design.lonely_psu == "adjust":
        raw = np.bincount(key, weights=t * t, minlength=size + 1)[:size]
        ss = np.where(np.tile(lonely, n_dom), raw, ss)
    return (ss.reshape(n_dom, H) * factor[None, :]).sum(axis=1)


def strata_domain_variance(prep: PreparedDesign, z: np.ndarray, bins: np.ndarray,
                           n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`linearised_variance` when the domains are the strata and every row is a PSU, and the domain totals.

    ``bins`` is each row's stratum, or ``n_strata`` for a row outside every
    domain (no value); ``n`` the rows of each domain.  A domain then lies in
    one stratum, so the first-stage sums need no (domain, stratum) key: the
    same sums, in the same order, as :func:`_between_psu` forms them, and the
    same variances; ``n`` serves as the PSU count.  Returns the variances and
    ``sum z`` per domain.  Single stage only (``prep.stages`` empty, rows the PSUs).
    """
    H = prep.n_strata
    n_h = prep.n_psu.astype(float)
    s1 = np.bincount(bins, weights=z, minlength=H + 1)[:H]
    tbar = s1 / n_h
    dev = z - np.append(tbar, 0.0)[bins]
    ss = np.bincount(bins, weights=dev * dev, minlength=H + 1)[:H] + (n_h - n) * tbar * tbar
    lonely = prep.n_psu == 1
    factor = _stratum_factor(prep, lambda certain: (n > 0) & certain)
    if lonely.any() and prep.design.lonely_psu == "adjust":
        ss = np.where(lonely, np.bincount(bins, weights=z * z, minlength=H + 1)[:H], ss)
    return ss * factor, s1


def _stratum_factor(prep: PreparedDesign, touched) -> np.ndarray:
    """Each stratum's first-stage variance factor (fpc and n_h / (n_h - 1); 1 for a lonely PSU).

    ``touched(lonely)`` gives, from the strata with a lonely PSU, those a
    domain has values in; under ``lonely_psu = "fail"`` such a stratum stops
    the estimate.  A PSU taken with certainty (fpc equal to the sample) has
    no variance and is no lonely PSU (as in R).
    """
    lonely = prep.n_psu == 1
    if lonely.any() and prep.design.lonely_psu == "fail":
        hit = touched(lonely & (prep.fpc_factor >= _CERTAIN))
        if hit.any():
            h = np.flatnonzero(hit)[:5]
            raise MethodologyError(
                "a stratum has only one PSU, so its variance cannot be estimated",
                [Problem(f"stratum {list(prep.strata_labels[h])} has a single PSU", column=prep.design.strata,
                         fix="merge the stratum with a similar one, or set Design(lonely_psu='remove' | "
                             "'certainty' | 'adjust')", code="lonely_psu")])
    return prep.fpc_factor * np.where(lonely, 1.0, prep.n_psu / np.maximum(prep.n_psu - 1, 1))


# ----------------------------------------------------------------------------- cells: one preparation, many variables


@dataclass(frozen=True, eq=False)
class DomainCells:
    """A prepared design's first-stage PSUs split by domain, formed once for every variable of the rows.

    A *cell* is a (domain, PSU) pair with at least one row, or a row when
    the rows are the PSUs; cells are numbered in order of ``domain x PSU``,
    the order in which :func:`linearised_variance` lists PSU totals, so that
    sums over a cell's rows (:meth:`sums`), taken in row order by
    ``np.bincount``, and every figure built on them are the same numbers.

    Attributes
    ----------
    prep : PreparedDesign
    dom : ndarray of intp, shape (n_rows,)
        Domain of each row (``-1``: none).
    n_dom : int
    cell : ndarray of intp, shape (n_rows,)
        Cell of each row; ``n_cells`` for a row outside every domain.
    n_cells : int
    cell_dom : ndarray of intp, shape (n_cells,)
        Domain of each cell.
    cell_key : ndarray of intp, shape (n_cells,)
        ``domain * n_strata + stratum`` of each cell.
    """

    prep: PreparedDesign
    dom: np.ndarray
    n_dom: int
    cell: np.ndarray
    n_cells: int
    cell_dom: np.ndarray
    cell_key: np.ndarray

    @property
    def by_rows(self) -> bool:
        """Whether the cells are the rows (no clusters)."""
        return self.prep.psu is None

    def sums(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` over the rows of each cell (rows outside every domain left out)."""
        if self.by_rows:
            return np.where(self.dom >= 0, values, 0.0)
        return np.bincount(self.cell, weights=values, minlength=self.n_cells + 1)[:self.n_cells]

    def counts(self, mask: np.ndarray) -> np.ndarray:
        """Rows of ``mask`` in each cell."""
        if self.by_rows:
            return (mask & (self.dom >= 0)).astype(np.intp)
        return np.bincount(self.cell[mask], minlength=self.n_cells + 1)[:self.n_cells]

    def variance(self, totals: np.ndarray, present: np.ndarray) -> np.ndarray:
        """:func:`linearised_variance` per domain from the cells' totals of ``z``.

        ``present``: the cells that hold a row of the domain's variable (a
        cell without one is a PSU with total zero).  First stage only: a
        multistage design with finite population corrections needs the rows
        (:func:`linearised_variance`).
        """
        size = self.n_dom * self.prep.n_strata
        return _between_psu(self.prep, totals, np.where(present, self.cell_key, size), self.n_dom)

    def df(self, present: np.ndarray) -> np.ndarray:
        """:func:`design_df` per domain: PSUs minus strata among the ``present`` cells."""
        size = self.n_dom * self.prep.n_strata
        m = np.bincount(self.cell_key[present], minlength=size).reshape(self.n_dom, self.prep.n_strata)
        return (m.sum(axis=1) - (m > 0).sum(axis=1)).astype(float)

    def per_domain(self, values: np.ndarray) -> np.ndarray:
        """Sum of per-cell ``values`` over each domain's cells."""
        return np.bincount(self.cell_dom, weights=values, minlength=self.n_dom)


def domain_cells(prep: PreparedDesign, dom: np.ndarray, n_dom: int) -> DomainCells:
    """The cells of ``prep``'s rows in the domains ``dom`` (``-1``: no domain); see :class:`DomainCells`."""
    H = prep.n_strata
    dom = np.asarray(dom).astype(np.intp, copy=False)
    inside = dom >= 0
    if prep.psu is None:
        n = prep.n_rows
        cell = np.where(inside, np.arange(n), n)
        return DomainCells(prep, dom, n_dom, cell, n, np.where(inside, dom, 0),
                           np.where(inside, dom * H + prep.stratum, n_dom * H))
    P = prep.n_psu_total
    key = dom.astype(np.int64) * P + prep.psu
    if n_dom * P <= _DENSE_CELL_LIMIT:
        present = np.bincount(key[inside], minlength=n_dom * P) > 0
        ids = np.flatnonzero(present)
        remap = np.cumsum(present) - 1
        cell = np.where(inside, remap[np.where(inside, key, 0)], len(ids))
    else:
        ids, inverse = np.unique(key[inside], return_inverse=True)
        cell = np.full(len(dom), len(ids), dtype=np.intp)
        cell[inside] = inverse.ravel()
    cell_dom = (ids // P).astype(np.intp)
    return DomainCells(prep, dom, n_dom, cell.astype(np.intp, copy=False), len(ids), cell_dom,
                       cell_dom * H + prep.psu_stratum[ids % P])


def _stage_variance(prep: PreparedDesign, stage: LaterStage, stage_no: int, z: np.ndarray, dom: np.ndarray,
                    n_dom: int) -> np.ndarray:
    """Variance of a later stage (R's ``multistage`` recursion): within each parent unit, the centred
    sum of squares of its units' totals, scaled by ``(1 - f) n / (n - 1)`` and by the sampling fractions
    of the stages above (``carry``)."""
    U = len(stage.parent)
    P = len(stage.n_sampled)
    keep = dom >= 0
    cell = np.where(keep, dom.astype(np.int64) * U + stage.unit, n_dom * U)
    if n_dom * U <= _DENSE_CELL_LIMIT:
        counts = np.bincount(cell, minlength=n_dom * U + 1)[:n_dom * U]
        sums = np.bincount(cell, weights=z, minlength=n_dom * U + 1)[:n_dom * U]
        ids = np.flatnonzero(counts)
        t = sums[ids]
    else:
        ids, inverse = np.unique(cell[keep], return_inverse=True)
        t = np.bincount(inverse, weights=z[keep])
    key = (ids // U) * P + stage.parent[ids % U]
    n_p = np.tile(stage.n_sampled.astype(float), n_dom)
    m = np.bincount(key, minlength=n_dom * P)
    s1 = np.bincount(key, weights=t, minlength=n_dom * P)
    with np.errstate(invalid="ignore", divide="ignore"):
        tbar = np.where(n_p > 0, s1 / n_p, 0.0)
    dev = t - tbar[key]
    ss = np.bincount(key, weights=dev * dev, minlength=n_dom * P) + (n_p - m) * tbar * tbar
    lonely = stage.n_sampled == 1
    certain = stage.fpc_factor < _CERTAIN
    scale = np.where(certain, 0.0, stage.fpc_factor * np.where(lonely, 1.0, stage.n_sampled
                                                                / np.maximum(stage.n_sampled - 1, 1)))
    if (lonely & ~certain).any():
        touched = (m.reshape(n_dom, P) > 0) & (lonely & ~certain)[None, :]
        rule = prep.design.lonely_psu
        if rule == "fail" and touched.any():
            raise MethodologyError(
                f"a unit of stage {stage_no - 1} has only one sampled unit at stage {stage_no}, so its "
                "variance cannot be estimated",
                [Problem(f"{int(touched.any(axis=0).sum())} unit(s) of stage {stage_no - 1} with a single "
                         f"stage-{stage_no} unit", column=prep.design.clusters[stage_no - 1],
                         fix="give the fpc of that stage (a unit taken with certainty has no variance), or set "
                             "Design(lonely_psu='remove' | 'certainty' | 'adjust')", code="lonely_psu")])
        if rule == "adjust":
            raw = np.bincount(key, weights=t * t, minlength=n_dom * P)
            ss = np.where(np.tile(lonely, n_dom), raw, ss)
    return (ss.reshape(n_dom, P) * (scale * stage.carry)[None, :]).sum(axis=1)


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
            [Problem("the confidence level must be a probability", value=level, fix="use a probability, e.g. the framework's confidence_level",
                     code="bad_argument")])


def srs_variance(w: np.ndarray, dom: np.ndarray, n_dom: int, u: np.ndarray, srs: str = "wor", *,
                 n: np.ndarray | None = None, total: np.ndarray | None = None,
                 wu_total: np.ndarray | None = None) -> np.ndarray:
    """Variance of ``sum_k w_k u_k`` per domain under simple random sampling of the domain's size.

    The reference of the design effect, as R ``svytotal(..., deff=TRUE)``:
    ``s^2 N^2 (N - n) / (N n)`` (``srs="wor"``) or ``s^2 N^2 / n`` (``"wr"``),
    with ``n`` the domain's rows with non-zero weight, ``N = sum w`` and
    ``s^2 = n / (n - 1) sum w (u - ubar)^2 / N`` the weighted variance of
    ``u``.  NaN where ``N <= n`` for ``"wor"`` (weights not scaled to a
    population: R gives NA).  ``n``, ``total`` (``N``) and ``wu_total``
    (``sum w u``), when the caller has them for the same rows, are not summed
    again.
    """
    bins = np.where((w != 0) & (dom >= 0), dom, n_dom)
    n = group_sum(bins, None, n_dom) if n is None else n
    big_n = group_sum(bins, w, n_dom) if total is None else total
    with np.errstate(invalid="ignore", divide="ignore"):
        ubar = np.append((group_sum(bins, w * u, n_dom) if wu_total is None else wu_total) / big_n, 0.0)
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
