"""Weight adjustment to known population totals: post-stratification, raking and linear (GREG) calibration.

Every function returns a :class:`Calibrated` holding the adjusted weights and
what the variance estimators need to make their standard errors
calibration-aware: pass it as ``calibration=`` to
:func:`~evaluation.design.design_mean` and friends.  The standard error is
then computed from the residuals of the influence values on the adjustment
model, as R ``survey`` does, not as if the adjusted weights were fixed.
:meth:`Calibrated.refit` applies the same adjustment to other starting
weights, e.g. every column of a set of replicate weights, so that replicate
variances see the calibration too (R's ``calibrate`` / ``rake`` /
``postStratify`` on a replicate design).

- :func:`poststratify`: cells of one or more categorical variables;
- :func:`rake`: iterative proportional fitting to several categorical margins;
- :func:`calibrate_linear`: the linear (GREG) calibration of Deville and
  Särndal (1992) to categorical counts and continuous totals, ``w* = w (1 +
  x' lambda)``, R ``calibrate(..., calfun = "linear")``.

Adjustment may be done separately per domain (``by="department"``): the
population counts are then given per domain and every domain is adjusted,
and for raking judged converged, on its own, exactly as running R on each
domain's rows would.

Tested against R ``survey`` 4.1.1 (``postStratify``, ``rake``,
``calibrate(calfun="linear")``, each also on JK1 replicate weights) on the
``apiclus1`` cluster sample to 1e-8 relative; see
``tests/test_design_reference.py`` and ``tests/reference/design_reference.R``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from surveys.errors import DataValidationError, MethodologyError, MinpingWarning, Problem

from .linearisation import Design, domain_codes, prepare_design

__all__ = [
    "CALIBRATION_METHODS",
    "Calibrated",
    "calibrate_linear",
    "poststratify",
    "rake",
    "weight_diagnostics",
    "weight_diagnostics_by",
]

CALIBRATION_METHODS = ("poststratify", "rake", "linear")

# R's svyrecvar removes raking margins by a fixed number of backfitting passes.
_R_RAKING_PASSES = 10
# Margins of one domain whose population totals differ by more than this
# (relative) cannot all be met.
_TOTAL_TOLERANCE = 1e-6
# When raking stops short, it is continued (on a copy) for this many tight
# sweeps; a margin still missed by more than _INFEASIBLE_GAP (relative) is
# infeasible, otherwise maxit was merely too small.
_DIAGNOSTIC_SWEEPS = 1000
_INFEASIBLE_GAP = 1e-6


@dataclass(frozen=True, eq=False)
class _PostStep:
    codes: np.ndarray
    old: np.ndarray
    new: np.ndarray
    target: np.ndarray = None      # population count per cell

    def refit(self, w: np.ndarray) -> np.ndarray:
        """Post-stratify other starting weights (columns of ``w``) to the same counts."""
        k = len(self.target)
        ind = sparse.csr_matrix((np.ones(len(self.codes)), (self.codes, np.arange(len(self.codes)))),
                                shape=(k, len(self.codes)))
        current = ind @ w
        with np.errstate(invalid="ignore", divide="ignore"):
            factor = np.where(current > 0, self.target.reshape((k,) + (1,) * (w.ndim - 1)) / current, 1.0)
        return w * factor[self.codes]

    def residualise(self, x: np.ndarray) -> np.ndarray:
        # R svyrecvar: psmeans <- rowsum(x * oldw / psw, g) / sum_g(oldw); x - psmeans[g] * psw
        psw = np.where((self.new == 0) & (self.old == 0), 1.0, self.new)
        k = int(self.codes.max()) + 1
        with np.errstate(invalid="ignore", divide="ignore"):
            num = np.bincount(self.codes, weights=np.where(psw != 0, x * self.old / psw, 0.0), minlength=k)
            den = np.bincount(self.codes, weights=self.old, minlength=k)
            means = np.where(den != 0, num / den, 0.0)
        return x - means[self.codes] * psw


@dataclass(frozen=True, eq=False)
class _RakeStep:
    margins: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]   # (codes, psw, rows with psw > 0)
    fit: tuple = ()       # (margins, dom, sweeps per domain, w0, bounds, trim) to refit other weights

    def refit(self, w: np.ndarray) -> np.ndarray:
        """Rake other starting weights to the same margins, for as many sweeps as the fit took in each domain.

        R's ``rake`` on a replicate design post-stratifies every replicate in
        each sweep and stops when the full-sample weights converge; the
        replicates get the same number of sweeps here.
        """
        ms, dom, sweeps, w0, bounds, trim = self.fit
        w = np.array(w, dtype=float, copy=True)
        col = (slice(None),) + (None,) * (w.ndim - 1)
        for sweep in range(int(sweeps.max(initial=0))):
            rows = (sweeps > sweep)[dom]
            for m in ms:
                k = len(m.target)
                ind = sparse.csr_matrix((np.ones(len(m.codes)), (m.codes, np.arange(len(m.codes)))),
                                        shape=(k, len(m.codes)))
                current = ind @ w
                with np.errstate(invalid="ignore", divide="ignore"):
                    factor = np.where(current > 0, m.target[col] / current, 1.0)
                w = np.where(rows[col], w * factor[m.codes], w)
                if bounds is not None:
                    with np.errstate(invalid="ignore", divide="ignore"):
                        g = np.clip(w / w0[col], bounds[0], bounds[1])
                    w = np.where(rows[col] & (w0 > 0)[col], w0[col] * g, w)
        if trim is not None:
            n_dom = int(dom.max()) + 1 if len(dom) else 0
            w = w if w.ndim == 1 else w.copy()
            if w.ndim == 1:
                w = _trim(w, dom, n_dom, trim)
            else:
                for r in range(w.shape[1]):
                    w[:, r] = _trim(w[:, r], dom, n_dom, trim)
        return w

    def residualise(self, x: np.ndarray) -> np.ndarray:
        # R svyrecvar: 10 times, for each margin: x <- x - psw * ave(x / psw, margin)
        for _ in range(_R_RAKING_PASSES):
            for codes, psw, count in self.margins:
                with np.errstate(invalid="ignore", divide="ignore"):
                    u = np.where(psw > 0, x / psw, 0.0)
                    means = np.where(count > 0, np.bincount(codes, weights=u, minlength=len(count)) / count, 0.0)
                x = x - psw * means[codes]
        return x

    @property
    def codes(self) -> tuple[np.ndarray, ...]:
        return tuple(m[0] for m in self.margins)


@dataclass(frozen=True, eq=False)
class _LinearStep:
    """Linear (GREG) calibration, block-diagonal by domain.

    ``x`` is the sparse model matrix (rows x the columns of every domain's
    own auxiliary variables); ``rows[j]`` and ``cols[j]`` are the rows and
    columns of domain block ``j``, ``block`` the block of each row;
    ``target`` is the population total of each column, ``w0`` the starting
    weights, ``g`` the calibration factors and ``tinv[j]`` the
    pseudo-inverse of ``sum_k w0_k x_k x_k'`` over block ``j``.
    """

    x: sparse.csr_matrix
    block: np.ndarray
    rows: tuple[np.ndarray, ...]
    cols: tuple[np.ndarray, ...]
    target: np.ndarray
    w0: np.ndarray
    g: np.ndarray
    tinv: tuple[np.ndarray, ...]

    @property
    def codes(self) -> np.ndarray:
        return self.block

    def residualise(self, z: np.ndarray) -> np.ndarray:
        # R svyrecvar: qr.resid(qr(X sqrt(w0)), z / (g sqrt(w0))) * g sqrt(w0), i.e. z - w* x'B with B the
        # w0-weighted least-squares coefficient of z / w* on x, block by block
        with np.errstate(invalid="ignore", divide="ignore"):
            u = np.where(self.g != 0, z / self.g, 0.0)
        xu = self.x.T @ u
        beta = np.zeros(len(self.target))
        for cols, tinv in zip(self.cols, self.tinv):
            beta[cols] = tinv @ xu[cols]
        return z - self.w0 * self.g * (self.x @ beta)

    def refit(self, w: np.ndarray) -> np.ndarray:
        """Calibrate other starting weights (columns of ``w``) to the same totals."""
        w = np.asarray(w, dtype=float)
        wide = w.reshape(len(w), -1).copy()
        for rows, cols in zip(self.rows, self.cols):
            xd = self.x[rows][:, cols].toarray()
            wide[rows] = wide[rows] * _linear_g(xd, wide[rows], self.target[cols])
        return wide.reshape(w.shape)


def _linear_g(x: np.ndarray, w: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Linear calibration factors ``g = 1 + x' lambda`` for each column of weights ``w`` (rows x R)."""
    xw = x.T @ w                                                     # achieved totals, p x R
    gram = np.einsum("ip,iq,ir->rpq", x, x, w)                       # R x p x p
    lam = np.einsum("rpq,qr->pr", _pinv_scaled(gram), target[:, None] - xw)
    return 1.0 + x @ lam


def _pinv_scaled(gram: np.ndarray) -> np.ndarray:
    """Pseudo-inverse of symmetric ``gram`` (or a stack of them) after scaling to unit diagonal.

    Counts and totals of a continuous variable can differ by six orders of
    magnitude; the scaling keeps the margins met to rounding error.
    """
    d = np.sqrt(np.abs(np.diagonal(gram, axis1=-2, axis2=-1)))
    d = np.where(d > 0, d, 1.0)
    outer = d[..., :, None] * d[..., None, :]
    return np.linalg.pinv(gram / outer, hermitian=True) / outer


@dataclass(frozen=True, eq=False)
class Calibrated:
    """Adjusted weights and the adjustment model, for calibration-aware standard errors.

    Attributes
    ----------
    weights : ndarray
        Adjusted weights, aligned with the rows of the data frame.
    design : Design
        The design the adjustment started from.
    n_rows : int
    method : {"poststratify", "rake", "linear"}
    margins : tuple of str
        Adjustment variables (one entry per margin; for post-stratification
        the joined cell variables; for linear calibration the categorical
        then the continuous variables, and ``"(population)"`` when the
        population size is a separate total).
    by : tuple of str
        Domain columns adjusted separately (empty: one adjustment).
    converged : bool
        Whether every domain converged (always True for post-stratification).
    convergence : pandas.DataFrame or None
        Raking only: ``by`` columns, ``sweeps``, ``converged``,
        ``last_change`` (largest change of the joint table in the last
        sweep), ``epsilon`` (the threshold used).
    gaps : pandas.DataFrame
        One row per margin cell: ``by`` columns, ``margin``, ``level``,
        ``target``, ``achieved`` (sum of adjusted weights, or the weighted
        total of a continuous variable, whose ``level`` is empty), ``gap``
        (achieved - target).
    diagnostics : dict
        :func:`weight_diagnostics` of the adjusted weights, plus ``g_min``
        and ``g_max`` (range of adjusted / original weight).
    """

    weights: np.ndarray
    design: Design
    n_rows: int
    method: str
    margins: tuple[str, ...]
    by: tuple[str, ...]
    converged: bool
    convergence: pd.DataFrame | None
    gaps: pd.DataFrame
    diagnostics: dict
    steps: tuple = field(repr=False, default=())

    def residualise(self, z: np.ndarray) -> np.ndarray:
        """Residuals of weighted influence values ``z`` on the adjustment model (R's svyrecvar)."""
        for step in self.steps:
            z = step.residualise(z)
        return z

    def refit(self, weights: np.ndarray) -> np.ndarray:
        """The same adjustment applied to other starting weights.

        Parameters
        ----------
        weights : ndarray, shape (n_rows,) or (n_rows, R)
            E.g. replicate weights made from the same rows and design.

        Returns
        -------
        ndarray of the same shape: every column post-stratified, raked (for
        as many sweeps as the full-sample fit took in each domain) or
        linearly calibrated to the same population totals, as R re-calibrates
        the replicate weights of a replicate design.
        """
        w = np.asarray(weights, dtype=float)
        if w.shape[0] != self.n_rows:
            raise MethodologyError(
                "the weights to re-calibrate belong to other rows",
                [Problem(f"{w.shape[0]} rows of weights, the calibration has {self.n_rows}",
                         fix="make the replicate weights from the calibrated data frame", code="shape_mismatch")])
        for step in self.steps:
            w = step.refit(w)
        return w

    def nested_in(self, dom: np.ndarray) -> bool:
        """Whether every adjustment cell lies within one domain of ``dom``."""
        for step in self.steps:
            for codes in (step.codes if isinstance(step, _RakeStep) else (step.codes,)):
                some = np.zeros(int(codes.max()) + 1, dtype=np.intp)
                some[codes] = np.arange(len(codes))
                if not np.array_equal(dom[some][codes], dom):
                    return False
        return True


def weight_diagnostics(weights) -> dict:
    """Summary of a weight vector.

    Returns
    -------
    dict
        ``n`` (positive weights), ``n_zero``, ``sum``, ``mean``, ``min``,
        ``max``, ``ratio`` (max / min), ``cv`` (population standard deviation
        over mean), ``deff_kish`` (``n sum w^2 / (sum w)^2 = 1 + cv^2``, Kish's
        design effect from unequal weighting) and ``n_eff``
        (``(sum w)^2 / sum w^2``), all over the positive weights.
    """
    w = np.asarray(weights, dtype=float)
    pos = w[w > 0]
    n = len(pos)
    if n == 0:
        return {"n": 0, "n_zero": int((w == 0).sum()), "sum": 0.0, "mean": np.nan, "min": np.nan,
                "max": np.nan, "ratio": np.nan, "cv": np.nan, "deff_kish": np.nan, "n_eff": 0.0}
    s, s2 = pos.sum(), (pos * pos).sum()
    mean = s / n
    return {"n": n, "n_zero": int((w == 0).sum()), "sum": float(s), "mean": float(mean),
            "min": float(pos.min()), "max": float(pos.max()), "ratio": float(pos.max() / pos.min()),
            "cv": float(pos.std() / mean), "deff_kish": float(n * s2 / (s * s)), "n_eff": float(s * s / s2)}


def weight_diagnostics_by(data: pd.DataFrame, weights, by: str | Sequence[str]) -> pd.DataFrame:
    """:func:`weight_diagnostics` per domain: the ``by`` columns, then one column per entry."""
    codes, labels = domain_codes(data, by)
    k = len(labels)
    w = np.asarray(weights, dtype=float)
    pos = (w > 0) & (codes >= 0)
    c, wp = codes[pos], w[pos]
    n = np.bincount(c, minlength=k)
    s = np.bincount(c, weights=wp, minlength=k)
    s2 = np.bincount(c, weights=wp * wp, minlength=k)
    lo, hi = np.full(k, np.inf), np.full(k, -np.inf)
    np.minimum.at(lo, c, wp)
    np.maximum.at(hi, c, wp)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s / n
        var = np.maximum(s2 / n - mean * mean, 0.0)
        out = pd.DataFrame({
            "n": n, "n_zero": np.bincount(codes[(w == 0) & (codes >= 0)], minlength=k), "sum": s, "mean": mean,
            "min": np.where(n > 0, lo, np.nan), "max": np.where(n > 0, hi, np.nan), "ratio": hi / lo,
            "cv": np.sqrt(var) / mean, "deff_kish": n * s2 / (s * s), "n_eff": np.where(s2 > 0, s * s / s2, 0.0),
        })
    out.loc[n == 0, "ratio"] = np.nan
    return pd.concat([labels.reset_index(drop=True), out], axis=1)


# ----------------------------------------------------------------------------- population counts

def _flatten(population, keys: list[str], what: str) -> dict[tuple, float]:
    if isinstance(population, pd.DataFrame):
        missing = [k for k in keys if k not in population.columns]
        values = [c for c in population.columns if c not in keys]
        if missing or len(values) != 1:
            raise MethodologyError(
                f"population counts for {what} have the wrong columns",
                [Problem(f"expected the columns {keys} and one count column, found {list(population.columns)}",
                         fix="give one row per cell with the cell's columns and a count column",
                         code="bad_population")])
        items = zip(population[keys].itertuples(index=False, name=None), population[values[0]])
    elif isinstance(population, pd.Series):
        items = ((k if isinstance(k, tuple) else (k,), v) for k, v in population.items())
    elif isinstance(population, Mapping):
        items = _walk(population, ())
    else:
        raise MethodologyError(
            f"population counts for {what} must be a mapping, Series or DataFrame",
            [Problem("unexpected type", value=type(population).__name__,
                     fix="e.g. {'E': 4421, 'H': 755, 'M': 1018}", code="bad_population")])
    out: dict[tuple, float] = {}
    problems = []
    for key, value in items:
        if len(key) != len(keys):
            problems.append(Problem(f"cell {key!r} does not name {len(keys)} value(s) ({', '.join(keys)})",
                                    fix="key each count by the domain value(s) then the level",
                                    code="bad_population"))
            continue
        try:
            v = float(value)
        except (TypeError, ValueError):
            v = np.nan
        if not np.isfinite(v) or v < 0:
            problems.append(Problem(f"population count of {key!r} is not a non-negative number", value=value,
                                    fix="give counts as numbers >= 0", code="bad_population"))
            continue
        out[key] = v
    if problems:
        raise MethodologyError(f"population counts for {what} cannot be used", problems)
    return out


def _walk(mapping: Mapping, prefix: tuple):
    for k, v in mapping.items():
        if isinstance(v, Mapping):
            yield from _walk(v, prefix + (k,))
        else:
            yield prefix + (k if isinstance(k, tuple) else (k,)), v


@dataclass(frozen=True, eq=False)
class _Margin:
    name: str
    codes: np.ndarray        # cell of each row
    cell_labels: list[tuple]
    target: np.ndarray       # population count per cell
    cell_dom: np.ndarray     # domain of each cell


def _margin(data, w, dom, by: list[str], cols: list[str], population, name: str, *, partial=False) -> _Margin:
    keys = by + cols
    for c in keys:
        if c in data.columns and data[c].isna().any():
            raise DataValidationError(
                f"adjustment variable '{c}' has missing values",
                [Problem(f"{int(data[c].isna().sum())} row(s) have no value", column=c,
                         fix="impute or drop those rows before adjusting the weights", code="missing_value")])
    codes, labels = domain_codes(data, keys)
    cells = list(labels.itertuples(index=False, name=None))
    pop = _flatten(population, keys, f"margin '{name}'")
    sample = np.bincount(codes, weights=w, minlength=len(cells))
    target = np.zeros(len(cells))
    problems = []
    for i, cell in enumerate(cells):
        if cell in pop:
            target[i] = pop[cell]
            if pop[cell] == 0 and sample[i] > 0:
                problems.append(Problem(f"margin '{name}', cell {cell!r}: population count 0 but sample weight "
                                        f"{sample[i]:g}", fix="check the count or drop those respondents",
                                        code="infeasible_margin"))
        elif sample[i] > 0:
            problems.append(Problem(f"margin '{name}', cell {cell!r} is in the sample but not in the population "
                                    "counts", fix="add its population count", code="infeasible_margin"))
    index = {c: i for i, c in enumerate(cells)}
    for cell, count in pop.items():
        i = index.get(cell)
        if count > 0 and (i is None or sample[i] == 0):
            if partial:
                continue
            problems.append(Problem(f"margin '{name}', cell {cell!r} has population count {count:g} but no "
                                    "respondent with positive weight", fix="collapse it with a neighbouring "
                                    "level, or drop it (partial=True for post-stratification)",
                                    code="infeasible_margin"))
    if problems:
        raise MethodologyError(f"margin '{name}' cannot be met", problems)
    some = np.zeros(len(cells), dtype=np.intp)
    some[codes] = np.arange(len(codes))
    return _Margin(name, codes.astype(np.intp), cells, target, dom[some])


def _domains(data: pd.DataFrame, by) -> tuple[list[str], np.ndarray, pd.DataFrame]:
    cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    dom, labels = domain_codes(data, cols or None)
    if (dom < 0).any():
        raise DataValidationError(
            f"domain column(s) {cols} have missing values",
            [Problem(f"{int((dom < 0).sum())} row(s) belong to no domain", fix="fill in the domain of every row",
                     code="missing_value")])
    return cols, dom, labels


def _gaps(margins: list[_Margin], w: np.ndarray, by: list[str]) -> pd.DataFrame:
    rows = []
    for m in margins:
        achieved = np.bincount(m.codes, weights=w, minlength=len(m.cell_labels))
        for cell, t, a in zip(m.cell_labels, m.target, achieved):
            rows.append((*cell[:len(by)], m.name, cell[len(by):] if len(cell) - len(by) > 1 else cell[-1],
                         t, a, a - t))
    return pd.DataFrame(rows, columns=[*by, "margin", "level", "target", "achieved", "gap"])


def _diagnostics(w: np.ndarray, w0: np.ndarray) -> dict:
    out = weight_diagnostics(w)
    pos = w0 > 0
    g = w[pos] / w0[pos]
    out.update(g_min=float(g.min()) if len(g) else np.nan, g_max=float(g.max()) if len(g) else np.nan)
    return out


# ----------------------------------------------------------------------------- post-stratification

def poststratify(data: pd.DataFrame, design: Design, strata: str | Sequence[str], population, *,
                 by: str | Sequence[str] | None = None, partial: bool = False) -> Calibrated:
    """Post-stratify the design weights to known population counts.

    Parameters
    ----------
    data : pandas.DataFrame
    design : Design
    strata : str or sequence of str
        Post-stratification variable(s); cells are their cross-classification.
    population : mapping, Series or DataFrame
        Population count of every cell: ``{level: N}``; tuple keys (or
        nested mappings, or a MultiIndex Series) for several variables; or a
        DataFrame with the cell columns and one count column.  With ``by``,
        keys start with the domain value(s): ``{("dept A", "male"): 120, ...}``
        or ``{"dept A": {"male": 120, ...}, ...}``.
    by : str or sequence of str, optional
        Domain columns; each domain is post-stratified to its own counts.
    partial : bool
        Ignore population cells with no respondent (R's ``partial=TRUE``)
        instead of raising.

    Returns
    -------
    Calibrated

    Raises
    ------
    MethodologyError
        A sample cell is missing from the counts, a counted cell has no
        respondent (unless ``partial``), or a cell with respondents has count 0;
        the message names the cell.

    Notes
    -----
    ``w*_k = w_k N_c / sum_{j in c} w_j`` for the cell ``c`` of row ``k``.
    Influence values are then replaced by ``z_k - w*_k m_c`` with ``m_c`` the
    mean of ``z / w*`` in the cell weighted by the original weights (R's
    ``svyrecvar``).  Reproduces ``postStratify`` of R ``survey`` 4.1.1.
    """
    prep = prepare_design(data, design)
    w0 = prep.weights
    by_cols, dom, _ = _domains(data, by)
    cols = [strata] if isinstance(strata, str) else list(strata)
    name = "*".join(cols)
    m = _margin(data, w0, dom, by_cols, cols, population, name, partial=partial)
    sample = np.bincount(m.codes, weights=w0, minlength=len(m.target))
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(sample > 0, m.target / sample, 1.0)
    w = w0 * factor[m.codes]
    step = _PostStep(m.codes, w0, w, m.target)
    return Calibrated(w, design, len(data), "poststratify", (name,), tuple(by_cols), True, None,
                      _gaps([m], w, by_cols), _diagnostics(w, w0), (step,))


# ----------------------------------------------------------------------------- raking

def rake(data: pd.DataFrame, design: Design, margins: Mapping[str, object], *,
         by: str | Sequence[str] | None = None, epsilon: float = 1.0, maxit: int = 10, tight: bool = False,
         bounds: tuple[float, float] | None = None, trim: tuple[float, float] | None = None) -> Calibrated:
    """Rake the design weights to known margins (iterative proportional fitting).

    Parameters
    ----------
    data : pandas.DataFrame
    design : Design
    margins : mapping
        ``{column: population counts}``, the counts given as for
        :func:`poststratify` (with ``by``, keyed by domain value(s) then level).
        Margins are fitted in the order given.
    by : str or sequence of str, optional
        Domain columns; each domain is raked, and judged converged, on its own.
    epsilon, maxit : float, int
        R's defaults: stop when no cell of the joint table of all margin
        variables changes by ``epsilon`` or more in a sweep, after at most
        ``maxit`` sweeps.  ``epsilon < 1`` is relative to the domain's sum of
        design weights, as in R.
    tight : bool
        Shorthand for ``epsilon=1e-10, maxit=100`` (run to convergence).
    bounds : (float, float), optional
        Bounds ``(L, U)`` on the adjustment factor ``w* / w``, with
        ``L <= 1 <= U``, enforced after every margin step.
    trim : (float, float), optional
        After raking, keep the weights of each domain within
        ``(lower, upper)`` times the domain's mean weight, moving the excess
        to the other weights in proportion (repeated until none is outside).
        Margins are then met only approximately (see ``gaps``).

    Returns
    -------
    Calibrated

    Raises
    ------
    MethodologyError
        A margin cannot be met: cells missing from the counts or without
        respondents, margins of one domain with different totals, or (when
        the iteration stops short of the margins) margins that stay missed by
        more than 1e-6 relative when the fit is continued for 1000 tight
        sweeps, e.g. because of ``bounds`` or empty cells.  The message names
        the margin and level.

    Warns
    -----
    MinpingWarning
        The iteration stopped at ``maxit`` without converging although the
        margins can be met (as R warns); the weights returned are those after
        ``maxit`` sweeps.

    Notes
    -----
    Each sweep post-stratifies to every margin in turn.  The standard errors
    of later estimates use R's residualisation for raking: starting from the
    influence values ``z``, ten passes of ``z <- z - p_j ave_j(z / p_j)`` over
    the margins ``j``, where ``p_j`` are the weights right after margin ``j``
    in the last sweep and ``ave_j`` is the unweighted mean within the
    margin's cells.  With ``bounds`` or ``trim`` the same residualisation is
    used as an approximation.  Reproduces ``rake`` of R ``survey`` 4.1.1
    (default and ``control=list(epsilon=1e-10, maxit=100)``).
    """
    if tight:
        epsilon, maxit = 1e-10, 100
    if not margins:
        raise MethodologyError("no margins to rake to",
                               [Problem("margins is empty", fix="give {column: counts}", code="bad_argument")])
    if not (epsilon > 0 and int(maxit) == maxit and maxit >= 1):
        raise MethodologyError("epsilon must be positive and maxit a positive integer",
                               [Problem("bad convergence settings", value=(epsilon, maxit),
                                        fix="use e.g. epsilon=1, maxit=10", code="bad_argument")])
    _check_pair(bounds, "bounds")
    _check_pair(trim, "trim")
    prep = prepare_design(data, design)
    w0 = prep.weights
    by_cols, dom, dom_labels = _domains(data, by)
    n_dom = len(dom_labels)
    ms = [_margin(data, w0, dom, by_cols, [col], pop, col) for col, pop in margins.items()]
    _check_totals(ms, n_dom, dom_labels)

    joint, _ = domain_codes(data, by_cols + [m.name for m in ms])
    n_joint = int(joint.max()) + 1
    some = np.zeros(n_joint, dtype=np.intp)
    some[joint] = np.arange(len(joint))
    joint_dom = dom[some]
    w0_dom = np.bincount(dom, weights=w0, minlength=n_dom)
    eps = np.where(epsilon < 1, epsilon * w0_dom, epsilon)

    fit = _ipf(w0, w0, ms, joint, joint_dom, dom, n_dom, eps, int(maxit), bounds)
    w, psw, sweeps, converged, change = fit
    gaps = _gaps(ms, w, by_cols)
    missed = np.abs(gaps["gap"].to_numpy()) > np.maximum(_gap_tolerance(gaps, ms, eps), 1e-9)
    if not converged.all() or (bounds is not None and missed.any()):
        # decide between "infeasible" and "slow": carry on from here to a tight convergence
        tight_eps = 1e-10 * w0_dom
        more = _ipf(w, w0, ms, joint, joint_dom, dom, n_dom, tight_eps, _DIAGNOSTIC_SWEEPS, bounds)
        _report_unmet(_gaps(ms, more[0], by_cols), gaps, by_cols, int(maxit))
    if trim is not None:
        w = _trim(w, dom, n_dom, trim)
        gaps = _gaps(ms, w, by_cols)
    step = _RakeStep(tuple((m.codes, p, np.bincount(m.codes, weights=(p > 0).astype(float),
                                                    minlength=len(m.target))) for m, p in zip(ms, psw)),
                     (tuple(ms), dom, sweeps.copy(), w0, bounds, trim))
    conv = dom_labels.reset_index(drop=True).copy()
    conv["sweeps"], conv["converged"], conv["last_change"], conv["epsilon"] = sweeps, converged, change, eps
    return Calibrated(w, design, len(data), "rake", tuple(m.name for m in ms), tuple(by_cols),
                      bool(converged.all()), conv, gaps, _diagnostics(w, w0), (step,))


# ----------------------------------------------------------------------------- linear (GREG) calibration

POPULATION = "(population)"


def calibrate_linear(data: pd.DataFrame, design: Design, *, categorical: Mapping[str, object] | None = None,
                     continuous: Mapping[str, object] | None = None, population=None,
                     by: str | Sequence[str] | None = None) -> Calibrated:
    """Linear (GREG) calibration of the design weights to categorical counts and continuous totals.

    Parameters
    ----------
    data : pandas.DataFrame
    design : Design
    categorical : mapping, optional
        ``{column: population counts}``, the counts given as for
        :func:`poststratify` (with ``by``, keyed by domain value(s) then
        level).  Every margin must describe the same population size.
    continuous : mapping, optional
        ``{column: population total}`` of numeric columns; with ``by``, each
        total is a mapping ``{domain value: total}`` (or a Series / a
        DataFrame with the ``by`` columns and one total column).
    population : float or mapping, optional
        Population size (the total of the intercept), per domain with
        ``by``.  Needed when no categorical margin gives it; with categorical
        margins it must agree with them.  Without it and without categorical
        margins the calibration has no intercept (R's ``~ x - 1``).
    by : str or sequence of str, optional
        Domain columns; each domain is calibrated to its own totals.

    Returns
    -------
    Calibrated
        ``method = "linear"``.

    Raises
    ------
    MethodologyError
        No totals; a category or domain without its total; totals that do
        not describe the same population; an auxiliary variable that is
        missing or not numeric.

    Notes
    -----
    With ``x_k`` the auxiliary vector of row ``k`` (one indicator per level of
    each categorical margin, the continuous variables, and 1 when
    ``population`` is given), ``w*_k = w_k g_k``, ``g_k = 1 + x_k' lambda``,
    ``lambda = T^+ (t_x - sum_k w_k x_k)``, ``T = sum_k w_k x_k x_k'``
    (Deville & Särndal 1992; a pseudo-inverse, so several categorical
    margins need no reference level).  Weights may turn negative when the
    totals are far from the sample's; ``diagnostics["g_min"]`` shows it.  The
    standard errors use the residuals ``z_k - w*_k x_k' B`` with ``B`` the
    ``w``-weighted regression of ``z / w*`` on ``x`` (R's ``svyrecvar`` for
    ``greg_calibration``).  Reproduces ``calibrate(design, formula,
    population, calfun = "linear")`` of R ``survey`` 4.1.1.
    """
    categorical = dict(categorical or {})
    continuous = dict(continuous or {})
    if not categorical and not continuous and population is None:
        raise MethodologyError("no totals to calibrate to", [Problem(
            "categorical, continuous and population are all empty",
            fix="give categorical={column: counts} and/or continuous={column: total}", code="bad_argument")])
    prep = prepare_design(data, design)
    w0 = prep.weights
    by_cols, dom, dom_labels = _domains(data, by)
    n_dom = len(dom_labels)
    n = len(data)
    ms = [_margin(data, w0, dom, by_cols, [col], pop, col) for col, pop in categorical.items()]
    pop_margin = None
    if population is not None:
        pop_margin = _population_margin(population, dom, dom_labels, by_cols)
    if ms or pop_margin is not None:
        _check_totals(ms + ([pop_margin] if pop_margin is not None else []), n_dom, dom_labels)

    # model matrix: per domain, its own columns (block-diagonal), categorical dummies, continuous, intercept
    col_dom: list[int] = []
    entries_r: list[np.ndarray] = []
    entries_c: list[np.ndarray] = []
    entries_v: list[np.ndarray] = []
    targets: list[float] = []
    names: list[str] = []
    for m in ms:
        start = len(col_dom)
        entries_r.append(np.arange(n))
        entries_c.append(start + m.codes)
        entries_v.append(np.ones(n))
        col_dom.extend(m.cell_dom.tolist())
        targets.extend(m.target.tolist())
        names.append(m.name)
    cont = {}
    for col, total in continuous.items():
        x = _continuous_column(data, col)
        t = _continuous_totals(total, col, dom_labels, by_cols)
        start = len(col_dom)
        entries_r.append(np.arange(n))
        entries_c.append(start + dom)
        entries_v.append(x)
        col_dom.extend(range(n_dom))
        targets.extend(t.tolist())
        names.append(col)
        cont[col] = (x, t)
    if pop_margin is not None:
        start = len(col_dom)
        entries_r.append(np.arange(n))
        entries_c.append(start + dom)
        entries_v.append(np.ones(n))
        col_dom.extend(range(n_dom))
        targets.extend(pop_margin.target.tolist())
        names.append(POPULATION)
    col_dom_a = np.asarray(col_dom, dtype=np.intp)
    x = sparse.csr_matrix((np.concatenate(entries_v), (np.concatenate(entries_r), np.concatenate(entries_c))),
                          shape=(n, len(col_dom_a)))
    target = np.asarray(targets, dtype=float)
    rows = tuple(np.flatnonzero(dom == d) for d in range(n_dom))
    cols = tuple(np.flatnonzero(col_dom_a == d) for d in range(n_dom))
    g = np.ones(n)
    tinv = []
    for r, c in zip(rows, cols):
        xd = x[r][:, c].toarray()
        ti = _pinv_scaled((xd * w0[r][:, None]).T @ xd)
        tinv.append(ti)
        g[r] = 1.0 + xd @ (ti @ (target[c] - xd.T @ w0[r]))
    w = w0 * g
    step = _LinearStep(x, dom.astype(np.intp), rows, cols, target, w0, g, tuple(tinv))
    gaps = _gaps(ms, w, by_cols)
    extra = []
    for col, (xv, t) in cont.items():
        achieved = np.bincount(dom, weights=w * xv, minlength=n_dom)
        for d in range(n_dom):
            extra.append((*tuple(dom_labels.iloc[d]), col, "", t[d], achieved[d], achieved[d] - t[d]))
    if pop_margin is not None:
        achieved = np.bincount(dom, weights=w, minlength=n_dom)
        for d in range(n_dom):
            extra.append((*tuple(dom_labels.iloc[d]), POPULATION, "", pop_margin.target[d], achieved[d],
                          achieved[d] - pop_margin.target[d]))
    if extra:
        gaps = pd.concat([gaps, pd.DataFrame(extra, columns=gaps.columns)], ignore_index=True)
    return Calibrated(w, design, n, "linear", tuple(names), tuple(by_cols), True, None, gaps,
                      _diagnostics(w, w0), (step,))


def _continuous_column(data: pd.DataFrame, col: str) -> np.ndarray:
    if col not in data.columns:
        raise DataValidationError(f"calibration variable '{col}' not found", [Problem(
            "the auxiliary variable is missing", column=col, fix="name an existing numeric column",
            code="missing_column")])
    try:
        x = data[col].to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        raise DataValidationError(f"calibration variable '{col}' is not numeric", [Problem(
            "a continuous total needs a numeric column", column=col, value=str(data[col].dtype),
            fix="give categorical counts for a categorical variable, or convert the column to numbers",
            code="not_numeric")]) from None
    if not np.isfinite(x).all():
        raise DataValidationError(f"calibration variable '{col}' has missing values", [Problem(
            f"{int((~np.isfinite(x)).sum())} row(s) have no value", column=col,
            fix="impute or drop those rows before calibrating", code="missing_value")])
    return x


def _domain_values(values, what: str, dom_labels: pd.DataFrame, by: list[str]) -> np.ndarray:
    """One number per domain from a number (no ``by``), a mapping, a Series or a DataFrame."""
    n_dom = len(dom_labels)
    if not by:
        try:
            return np.array([float(values)])
        except (TypeError, ValueError):
            raise MethodologyError(f"the total of {what} is not a number", [Problem(
                "without by= a total is one number", value=values,
                fix="give the population total as a number, or calibrate by domain", code="bad_population")]) from None
    flat = _flatten(values, by, what)
    out = np.full(n_dom, np.nan)
    missing = []
    for d, key in enumerate(dom_labels.itertuples(index=False, name=None)):
        if key in flat:
            out[d] = flat[key]
        else:
            missing.append(key)
    if missing:
        raise MethodologyError(f"the total of {what} is missing for some domains", [Problem(
            f"no total for domain {k!r}", fix="give a total for every domain with respondents",
            code="infeasible_margin") for k in missing[:5]])
    return out


def _continuous_totals(total, col: str, dom_labels: pd.DataFrame, by: list[str]) -> np.ndarray:
    return _domain_values(total, f"'{col}'", dom_labels, by)


def _population_margin(population, dom: np.ndarray, dom_labels: pd.DataFrame, by: list[str]) -> _Margin:
    t = _domain_values(population, "the population", dom_labels, by)
    return _Margin(POPULATION, dom.astype(np.intp), [tuple(r) for r in dom_labels.itertuples(index=False)],
                   t, np.arange(len(dom_labels)))


def _check_pair(pair, name: str) -> None:
    if pair is None:
        return
    ok = (isinstance(pair, (tuple, list)) and len(pair) == 2 and 0 <= pair[0] <= 1 <= pair[1])
    if not ok:
        raise MethodologyError(
            f"{name} must be a pair (low, high) with low <= 1 <= high",
            [Problem(f"{name} cannot keep the weights' total", value=pair, fix=f"e.g. {name}=(0.3, 3.0)",
                     code="bad_argument")])


def _check_totals(ms: list[_Margin], n_dom: int, dom_labels: pd.DataFrame) -> None:
    totals = np.array([np.bincount(m.cell_dom, weights=m.target, minlength=n_dom) for m in ms])
    ref = totals[0]
    problems = []
    for m, t in zip(ms[1:], totals[1:]):
        off = np.abs(t - ref) > _TOTAL_TOLERANCE * np.maximum(np.abs(ref), 1.0)
        for d in np.flatnonzero(off):
            where = "" if dom_labels.shape[1] == 0 else f" in domain {tuple(dom_labels.iloc[d])}"
            problems.append(Problem(f"margin '{m.name}' totals {t[d]:g} but margin '{ms[0].name}' totals "
                                    f"{ref[d]:g}{where}", fix="the margins must describe the same population; "
                                    "rescale one of them", code="infeasible_margin"))
    if problems:
        first = next(m.name for m, t in zip(ms[1:], totals[1:])
                     if (np.abs(t - ref) > _TOTAL_TOLERANCE * np.maximum(np.abs(ref), 1.0)).any())
        raise MethodologyError(f"margin '{first}' cannot be met together with margin '{ms[0].name}'", problems)


def _ipf(w_start, w0, ms, joint, joint_dom, dom, n_dom, eps, maxit, bounds):
    """Iterative proportional fitting with R's stopping rule, each domain stopping on its own."""
    n_joint = len(joint_dom)
    w = w_start.copy()
    psw = [w.copy() for _ in ms]
    active = np.ones(n_dom, dtype=bool)
    sweeps = np.zeros(n_dom, dtype=int)
    change = np.full(n_dom, np.nan)
    old = np.bincount(joint, weights=w, minlength=n_joint)
    for _ in range(maxit):
        rows = active[dom]
        for m, p in zip(ms, psw):
            current = np.bincount(m.codes, weights=w, minlength=len(m.target))
            with np.errstate(invalid="ignore", divide="ignore"):
                factor = np.where(active[m.cell_dom] & (current > 0), m.target / current, 1.0)
            w = w * factor[m.codes]
            if bounds is not None:
                with np.errstate(invalid="ignore", divide="ignore"):
                    g = np.clip(w / w0, bounds[0], bounds[1])
                w = np.where(rows & (w0 > 0), w0 * g, w)
            p[rows] = w[rows]
        new = np.bincount(joint, weights=w, minlength=n_joint)
        delta = np.zeros(n_dom)
        np.maximum.at(delta, joint_dom, np.abs(new - old))
        sweeps[active] += 1
        change[active] = delta[active]
        active &= ~(delta < eps)
        old = new
        if not active.any():
            break
    return w, psw, sweeps, ~active, change


def _gap_tolerance(gaps: pd.DataFrame, ms: list[_Margin], eps: np.ndarray) -> np.ndarray:
    """The stopping threshold of each margin cell's domain."""
    return np.concatenate([eps[m.cell_dom] for m in ms])


def _report_unmet(final: pd.DataFrame, gaps: pd.DataFrame, by: list[str], maxit: int) -> None:
    """Raise if margins stay unmet after a long tight run; otherwise warn that maxit was too small."""
    def worst(frame):
        rel = (frame["gap"].abs() / frame["target"].where(frame["target"] > 0, 1.0)).to_numpy()
        row = frame.iloc[int(np.argmax(rel))]
        where = "" if not by else f" in domain {tuple(row[c] for c in by)}"
        return rel.max(), row, (f"margin '{row['margin']}' level {row['level']!r}{where}: target "
                                f"{row['target']:g}, reached {row['achieved']:g}")

    rel, row, text = worst(final)
    if rel > _INFEASIBLE_GAP:
        raise MethodologyError(
            f"margin '{row['margin']}' cannot be met",
            [Problem(text + f" after {_DIAGNOSTIC_SWEEPS} sweeps", fix="widen the bounds, collapse sparse levels, "
                     "or check that the margins describe the same population", code="infeasible_margin")])
    _, _, text = worst(gaps)
    warnings.warn(f"raking did not meet the margins in {maxit} sweeps ({text}); use tight=True or a larger "
                  "maxit", MinpingWarning, stacklevel=3)


def _trim(w: np.ndarray, dom: np.ndarray, n_dom: int, trim: tuple[float, float]) -> np.ndarray:
    w = w.copy()
    pos = w > 0
    d = np.where(pos, dom, -1)
    keep = d >= 0
    count = np.bincount(d[keep], minlength=n_dom)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(d[keep], weights=w[keep], minlength=n_dom) / count
    lo, hi = trim[0] * mean[np.maximum(d, 0)], trim[1] * mean[np.maximum(d, 0)]
    for _ in range(200):
        clipped = np.where(pos, np.clip(w, lo, hi), w)
        excess = np.bincount(d[keep], weights=(w - clipped)[keep], minlength=n_dom)
        free = pos & (clipped > lo) & (clipped < hi)
        room = np.bincount(d[free], weights=clipped[free], minlength=n_dom)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(room > 0, 1 + excess / room, 1.0)
        w = np.where(free, clipped * scale[np.maximum(d, 0)], clipped)
        if np.all((w[pos] >= lo[pos] * (1 - 1e-12)) & (w[pos] <= hi[pos] * (1 + 1e-12))):
            break
    return w
