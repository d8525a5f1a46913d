"""Weights derived from judgements or from the data, besides explicit weights.

Four methods, each a pure function returning a frozen result with a ``weights``
Series (summing to 1, indexed by criterion or indicator) and the diagnostics of
the method:

- :func:`ahp` -- analytic hierarchy process from one pairwise comparison matrix
  (principal eigenvector, 和积法 or 方根法), with λ_max, CI and CR against a
  *named* random-index table;
- :func:`ahp_group` -- several experts' matrices combined by the element-wise
  (weighted) geometric mean, then :func:`ahp`;
- :func:`entropy_weights` -- 熵权法, textbook min-max variant;
- :func:`critic_weights` -- CRITIC (Diakoulaki, Mavrotas & Papayannakis 1995).

Random-index tables (``RANDOM_INDEX_TABLES``, values in the code below):

``"saaty1980"``
    Saaty, T. L. (1980). *The Analytic Hierarchy Process*. McGraw-Hill: the
    classic table, n = 1..15 (RI(4) = 0.90).
``"saaty2005"``
    Saaty, T. L. (2005). *Theory and Applications of the Analytic Network
    Process*. RWS Publications, p. 31: n = 3..15 (RI(4) = 0.89); the values of
    ``ahpy``'s ``random_index='saaty'``.
``"donegan_dodd"``
    Donegan, H. A. & Dodd, F. J. (1991). A note on Saaty's random indexes.
    *Mathematical and Computer Modelling* 15(10), 135-137: n = 3..20 and
    25, 30, 40, ..., 100 (RI(4) = 0.8286); the values of ``ahpy``'s default
    ``random_index='dd'``.

For n = 1 and 2 every reciprocal matrix is consistent; all three tables give
RI = 0 there and CI and CR are reported as 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from surveys.errors import DataValidationError, MethodologyError, Problem

__all__ = [
    "RANDOM_INDEX_TABLES",
    "AHP_METHODS",
    "AHPResult",
    "EntropyResult",
    "CriticResult",
    "comparison_matrix",
    "ahp",
    "ahp_group",
    "entropy_weights",
    "critic_weights",
]


def _table(values: Mapping[int, float]) -> Mapping[int, float]:
    return MappingProxyType({1: 0.0, 2: 0.0, **values})


RANDOM_INDEX_TABLES: Mapping[str, Mapping[int, float]] = MappingProxyType(
    {
        "saaty1980": _table(
            dict(zip(range(3, 16), (0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49,
                                    1.51, 1.48, 1.56, 1.57, 1.59)))
        ),
        "saaty2005": _table(
            dict(zip(range(3, 16), (0.52, 0.89, 1.11, 1.25, 1.35, 1.40, 1.45, 1.49,
                                    1.52, 1.54, 1.56, 1.58, 1.59)))
        ),
        "donegan_dodd": _table(
            dict(zip(
                (*range(3, 21), 25, 30, 40, 50, 60, 70, 80, 90, 100),
                (0.4914, 0.8286, 1.0591, 1.1797, 1.2519, 1.3171, 1.3733, 1.4055, 1.4213,
                 1.4497, 1.4643, 1.4822, 1.4969, 1.5078, 1.5153, 1.5262, 1.5313, 1.5371,
                 1.5619, 1.5772, 1.5976, 1.6102, 1.6178, 1.6237, 1.6277, 1.6213, 1.6339),
            ))
        ),
    }
)
"""Random consistency indices RI(n) by table name (see the module docstring)."""

AHP_METHODS = ("eigenvector", "sum_product", "geometric")
"""Priority-vector methods: principal eigenvector, 和积法, 方根法."""

ENTROPY_VARIANT = "entropy_minmax_textbook"
CRITIC_VARIANT = "critic_minmax"


# ---------------------------------------------------------------------------
# AHP
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AHPResult:
    """Priority weights of a pairwise comparison matrix and its consistency.

    Attributes
    ----------
    weights : pd.Series
        Priority weight per criterion (sums to 1), in the matrix's label order.
    matrix : pd.DataFrame
        The (complete, reciprocal) comparison matrix used; for a group, the
        aggregated matrix.
    method : str
        ``"eigenvector"``, ``"sum_product"`` (和积法) or ``"geometric"`` (方根法).
    lambda_max : float
        Principal eigenvalue (eigenvector method) or its textbook estimate
        mean_i (A w)_i / w_i (approximate methods).
    ci, cr : float
        Consistency index (λ_max − n)/(n − 1) and ratio CI / RI.
    random_index : float
        RI(n) from ``random_index_table``.
    random_index_table : str
        Name of the random-index table (a key of ``RANDOM_INDEX_TABLES``).
    threshold : float
        CR above which the matrix counts as inconsistent.
    consistent : bool
        ``cr <= threshold``.
    n_judges : int
        Number of matrices combined (1 for :func:`ahp`).
    judge_cr : pd.Series or None
        For a group, each judge's own CR (eigenvector method, same table).
    """

    weights: pd.Series
    matrix: pd.DataFrame
    method: str
    lambda_max: float
    ci: float
    cr: float
    random_index: float
    random_index_table: str
    threshold: float
    consistent: bool
    n_judges: int = 1
    judge_cr: pd.Series | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row per criterion.

        Columns: ``weight``, ``method``, ``lambda_max``, ``ci``, ``cr``,
        ``random_index``, ``random_index_table``, ``consistent``, ``n_judges``
        (the scalars repeat on every row so that the frame stands alone).
        """
        return pd.DataFrame(
            {
                "weight": self.weights,
                "method": self.method,
                "lambda_max": self.lambda_max,
                "ci": self.ci,
                "cr": self.cr,
                "random_index": self.random_index,
                "random_index_table": self.random_index_table,
                "consistent": self.consistent,
                "n_judges": self.n_judges,
            },
            index=self.weights.index,
        )


def comparison_matrix(
    comparisons: Mapping[tuple[object, object], float] | pd.DataFrame | Sequence | np.ndarray,
    labels: Sequence[object] | None = None,
    *,
    reciprocal_tol: float = 0.05,
) -> pd.DataFrame:
    """Build and validate a complete positive reciprocal comparison matrix.

    Parameters
    ----------
    comparisons : dict, DataFrame or square array
        Either a dict ``{(a, b): a_ab}`` meaning "a is a_ab times as important as
        b" with one entry per pair (either orientation; both orientations may be
        given if they are reciprocal), or a square matrix. A DataFrame must have
        the same labels on its index and columns; an array takes ``labels``
        (default ``"c1"``, ``"c2"``, ...).
    labels : sequence, optional
        Order of the criteria. For a dict, defaults to order of first appearance.
    reciprocal_tol : float
        Largest accepted departure |a_ij · a_ji − 1|. The default 0.05 accepts
        reciprocals typed to two decimals (1/8 as 0.13 is 4% off) and rejects
        any transposed or mistyped judgement on the 1-9 scale (2 against 1/3 is
        33% off). The matrix is used as given, not re-symmetrised.

    Returns
    -------
    pd.DataFrame
        Square float matrix with criteria as index and columns.

    Raises
    ------
    DataValidationError
        Missing pairs, non-square input, mismatched labels, non-positive or
        non-finite entries, a diagonal other than 1, or non-reciprocal pairs; all
        problems are listed together.
    """
    if isinstance(comparisons, Mapping):
        frame = _matrix_from_pairs(comparisons, labels, reciprocal_tol)
    else:
        frame = _matrix_from_square(comparisons, labels)
    _check_matrix(frame, reciprocal_tol)
    return frame


def _matrix_from_pairs(pairs, labels, tol) -> pd.DataFrame:
    bad_keys = [key for key in pairs if not (isinstance(key, tuple) and len(key) == 2)]
    seen = list(dict.fromkeys(x for key in pairs if key not in bad_keys for x in key))
    order = list(labels) if labels is not None else seen
    problems = [Problem(f"key {key!r} is not a pair (a, b)", fix="write each comparison as {(a, b): value}")
                for key in bad_keys]
    problems += [Problem(f"criterion {x!r} is compared but not listed in labels",
                         fix="add it to labels or remove its comparisons") for x in seen if x not in order]
    if problems:
        raise DataValidationError("Invalid AHP comparisons", problems)
    pos = {label: i for i, label in enumerate(order)}
    a = np.full((len(order), len(order)), np.nan)
    np.fill_diagonal(a, 1.0)
    for (p, q), raw in pairs.items():
        value = _as_positive(raw, f"comparison ({p!r}, {q!r})", problems)
        i, j = pos[p], pos[q]
        if value is None:
            continue
        if i != j and not np.isnan(a[i, j]) and abs(a[i, j] - value) > tol * value:
            problems.append(Problem(f"pair ({p!r}, {q!r}) is given twice with different values", value=raw,
                                    fix=f"keep one of them or make ({q!r}, {p!r}) its reciprocal"))
            continue
        # a self-comparison other than 1 lands on the diagonal and is reported by _check_matrix
        a[i, j], a[j, i] = value, 1.0 / value
    if problems:
        raise DataValidationError("Invalid AHP comparisons", problems)
    missing = [(p, q) for i, p in enumerate(order) for q in order[i + 1:] if np.isnan(a[i, pos[q]])]
    if missing:
        raise DataValidationError(
            "Incomplete AHP comparisons",
            [Problem(f"no comparison between {p!r} and {q!r}",
                     fix="give every one of the n(n-1)/2 pairs a value") for p, q in missing],
        )
    return pd.DataFrame(a, index=order, columns=order)


def _matrix_from_square(matrix, labels) -> pd.DataFrame:
    if isinstance(matrix, pd.DataFrame):
        frame = matrix
        if (set(frame.index) != set(frame.columns) or len(frame.index) != len(frame.columns)
                or not frame.index.is_unique):
            raise DataValidationError(
                "AHP comparison matrix is not square with matching labels",
                [Problem("row labels and column labels differ",
                         value={"rows": list(frame.index), "columns": list(frame.columns)},
                         fix="use the same criteria, once each, as index and columns")],
            )
        order = list(labels) if labels is not None else list(frame.index)
        frame = frame.loc[order, order]
    else:
        arr = np.asarray(matrix)
        if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
            raise DataValidationError(
                "AHP comparison matrix is not square",
                [Problem("a pairwise comparison matrix needs n rows and n columns",
                         value=arr.shape, fix="give an n x n matrix")],
            )
        order = list(labels) if labels is not None else [f"c{i + 1}" for i in range(arr.shape[0])]
        if len(order) != arr.shape[0]:
            raise DataValidationError(
                "AHP labels do not match the matrix",
                [Problem(f"{len(order)} labels for a {arr.shape[0]} x {arr.shape[0]} matrix",
                         fix="give one label per row")],
            )
        frame = pd.DataFrame(arr, index=order, columns=order)
    try:
        return frame.astype(float)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(
            "AHP comparison matrix is not numeric",
            [Problem(str(exc), fix="enter numbers (fractions as 1/3 -> 0.3333)")],
        ) from None


def _as_positive(raw, where: str, problems: list[Problem]) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        problems.append(Problem(f"{where} is not a number", value=raw, fix="enter a positive number"))
        return None
    if not (math.isfinite(value) and value > 0):
        problems.append(Problem(f"{where} must be positive and finite", value=raw,
                                fix="use Saaty's 1/9..9 scale"))
        return None
    return value


def _check_matrix(frame: pd.DataFrame, tol: float) -> None:
    a = frame.to_numpy()
    labels = list(frame.index)
    n = a.shape[0]
    problems: list[Problem] = []
    if n == 0:
        raise DataValidationError("Empty AHP comparison matrix",
                                  [Problem("no criteria", fix="compare at least one criterion")])
    for i in range(n):
        for j in range(n):
            v = a[i, j]
            if not (np.isfinite(v) and v > 0):
                problems.append(Problem(f"entry ({labels[i]!r}, {labels[j]!r}) must be positive and finite",
                                        value=float(v), fix="use Saaty's 1/9..9 scale"))
    if not problems:
        for i in range(n):
            if abs(a[i, i] - 1.0) > tol:
                problems.append(Problem(f"diagonal entry ({labels[i]!r}, {labels[i]!r}) must be 1",
                                        value=float(a[i, i]), fix="set the diagonal to 1"))
            for j in range(i + 1, n):
                if abs(a[i, j] * a[j, i] - 1.0) > tol:
                    problems.append(Problem(
                        f"entries ({labels[i]!r}, {labels[j]!r}) and ({labels[j]!r}, {labels[i]!r}) "
                        "are not reciprocal", value=(float(a[i, j]), float(a[j, i])),
                        fix=f"set a_ji = 1/a_ij (here {1 / a[i, j]:.4g})"))
    if problems:
        raise DataValidationError("Invalid AHP comparison matrix", problems)


def _priority(a: np.ndarray, method: str) -> tuple[np.ndarray, float]:
    if method == "eigenvector":
        values, vectors = np.linalg.eig(a)
        k = int(np.argmax(values.real))
        w = np.abs(vectors[:, k].real)
        return w / w.sum(), float(values[k].real)
    if method == "sum_product":
        w = (a / a.sum(axis=0)).mean(axis=1)
    else:  # geometric
        w = np.exp(np.log(a).mean(axis=1))
        w = w / w.sum()
    return w, float(np.mean(a @ w / w))


def _check_method(method: str) -> None:
    if method not in AHP_METHODS:
        raise MethodologyError(
            "Unknown AHP method",
            [Problem(f"method {method!r} is not known", value=method,
                     fix=f"use one of {list(AHP_METHODS)}")],
        )


def _random_index(table: str, n: int) -> float:
    if table not in RANDOM_INDEX_TABLES:
        raise MethodologyError(
            "Unknown random-index table",
            [Problem(f"random_index_table {table!r} is not known", value=table,
                     fix=f"use one of {sorted(RANDOM_INDEX_TABLES)}")],
        )
    values = RANDOM_INDEX_TABLES[table]
    if n not in values:
        raise MethodologyError(
            "No published random index for this matrix size",
            [Problem(f"table {table!r} has no RI for n = {n}", value=n,
                     fix=f"use a table that covers n = {n} (donegan_dodd goes furthest), or split "
                         "the criteria into smaller groups (Saaty advises at most 9)")],
        )
    return values[n]


def _consistency(a: np.ndarray, lambda_max: float, table: str) -> tuple[float, float, float]:
    n = a.shape[0]
    ri = _random_index(table, n)
    if n <= 2:
        return 0.0, 0.0, ri
    ci = (lambda_max - n) / (n - 1)
    return ci, ci / ri, ri


def ahp(
    comparisons: Mapping[tuple[object, object], float] | pd.DataFrame | Sequence | np.ndarray,
    labels: Sequence[object] | None = None,
    *,
    method: str = "eigenvector",
    random_index_table: str = "saaty1980",
    threshold: float = 0.1,
    allow_inconsistent: bool = False,
    reciprocal_tol: float = 0.05,
) -> AHPResult:
    """Priority weights from one pairwise comparison matrix (AHP).

    Parameters
    ----------
    comparisons, labels, reciprocal_tol
        See :func:`comparison_matrix`.
    method : {"eigenvector", "sum_product", "geometric"}
        Principal right eigenvector (Saaty), 和积法 (normalise each column to sum
        1, then average each row) or 方根法 (normalised row geometric means).
    random_index_table : {"saaty1980", "saaty2005", "donegan_dodd"}
        The RI table for CR; its name is kept in the result.
    threshold : float
        CR above which the judgements are rejected (Saaty's 0.1).
    allow_inconsistent : bool
        Return the result (with ``consistent=False``) instead of raising.

    Returns
    -------
    AHPResult

    Raises
    ------
    MethodologyError
        CR > ``threshold`` and not ``allow_inconsistent``; unknown table or a
        size the table does not cover; unknown method.
    DataValidationError
        Invalid comparisons (see :func:`comparison_matrix`).

    Notes
    -----
    λ_max is the Perron eigenvalue for the eigenvector method and
    mean_i (A w)_i / w_i for the approximations; CI = (λ_max − n)/(n − 1),
    CR = CI / RI(n). For n ≤ 2, CI = CR = 0.

    Reproduces the ``ahpy`` README example (weights b 0.3917, a 0.3742,
    d 0.1349, c 0.0991; CR 0.0372 with Donegan-Dodd) and Saaty (2008,
    Int. J. Services Sciences 1(1):83-98) drinks matrix (λ_max 7.17663,
    CR 0.022).
    """
    _check_method(method)
    frame = comparison_matrix(comparisons, labels, reciprocal_tol=reciprocal_tol)
    return _ahp_from_matrix(frame, method, random_index_table, threshold, allow_inconsistent)


def _ahp_from_matrix(frame, method, table, threshold, allow_inconsistent,
                     n_judges=1, judge_cr=None) -> AHPResult:
    a = frame.to_numpy()
    w, lambda_max = _priority(a, method)
    ci, cr, ri = _consistency(a, lambda_max, table)
    consistent = bool(cr <= threshold)
    if not consistent and not allow_inconsistent:
        raise MethodologyError(
            "AHP judgements are inconsistent",
            [Problem(f"consistency ratio CR = {cr:.4f} exceeds the threshold {threshold} "
                     f"(λ_max = {lambda_max:.5f}, CI = {ci:.5f}, RI({a.shape[0]}) = {ri} "
                     f"from table {table!r})",
                     fix="revise the comparisons that contradict the others, or pass "
                         "allow_inconsistent=True to use them anyway")],
        )
    return AHPResult(
        weights=pd.Series(w, index=frame.index, name="weight"),
        matrix=frame,
        method=method,
        lambda_max=lambda_max,
        ci=ci,
        cr=cr,
        random_index=ri,
        random_index_table=table,
        threshold=threshold,
        consistent=consistent,
        n_judges=n_judges,
        judge_cr=judge_cr,
    )


def ahp_group(
    judgements: Sequence[Mapping[tuple[object, object], float] | pd.DataFrame | np.ndarray],
    labels: Sequence[object] | None = None,
    *,
    judge_weights: Sequence[float] | None = None,
    method: str = "eigenvector",
    random_index_table: str = "saaty1980",
    threshold: float = 0.1,
    allow_inconsistent: bool = False,
    reciprocal_tol: float = 0.05,
) -> AHPResult:
    """AHP for several experts: aggregate the judgements, then :func:`ahp`.

    Parameters
    ----------
    judgements : sequence of comparison dicts or matrices
        One per expert, over the same criteria (the first one's order is used
        unless ``labels`` is given).
    judge_weights : sequence of float, optional
        Non-negative weight per expert (rescaled to sum 1); equal by default.
    method, random_index_table, threshold, allow_inconsistent, reciprocal_tol
        As in :func:`ahp`; the consistency test applies to the aggregated matrix.

    Returns
    -------
    AHPResult
        ``matrix`` is the aggregated matrix, ``n_judges`` the number of experts
        and ``judge_cr`` each expert's own CR (eigenvector, same table; not
        tested against the threshold).

    Notes
    -----
    Aggregation of individual judgements (AIJ): a_ij = Π_k a_ij,k^(v_k) with
    Σ v_k = 1, the weighted geometric mean, which keeps the aggregated matrix
    reciprocal (Aczél & Saaty 1983; Forman & Peniwati 1998).
    """
    _check_method(method)
    if len(judgements) == 0:
        raise DataValidationError("No AHP judgements",
                                  [Problem("the list of expert matrices is empty",
                                           fix="give at least one comparison matrix")])
    frames = []
    for k, item in enumerate(judgements):
        try:
            frames.append(comparison_matrix(item, labels, reciprocal_tol=reciprocal_tol))
        except DataValidationError as exc:
            raise DataValidationError(f"Invalid AHP judgement of expert {k + 1}", exc.problems) from None
    order = list(frames[0].index)
    for k, f in enumerate(frames[1:], start=2):
        if set(f.index) != set(order):
            raise DataValidationError(
                "Experts compared different criteria",
                [Problem(f"expert {k} compared {sorted(map(str, f.index))}, expert 1 "
                         f"{sorted(map(str, order))}", fix="give every expert the same criteria")],
            )
    v = _judge_weights(judge_weights, len(frames))
    logs = np.stack([np.log(f.loc[order, order].to_numpy()) for f in frames])
    aggregated = pd.DataFrame(np.exp(np.tensordot(v, logs, axes=1)), index=order, columns=order)
    judge_cr = pd.Series(
        [_consistency(f.to_numpy(), _priority(f.to_numpy(), "eigenvector")[1], random_index_table)[1]
         for f in frames],
        index=pd.RangeIndex(1, len(frames) + 1, name="judge"), name="cr",
    )
    return _ahp_from_matrix(aggregated, method, random_index_table, threshold, allow_inconsistent,
                            n_judges=len(frames), judge_cr=judge_cr)


def _judge_weights(weights, k: int) -> np.ndarray:
    if weights is None:
        return np.full(k, 1.0 / k)
    v = np.asarray(weights, dtype=float)
    if v.shape != (k,) or not np.all(np.isfinite(v)) or np.any(v < 0) or v.sum() <= 0:
        raise DataValidationError(
            "Invalid expert weights",
            [Problem(f"expected {k} non-negative finite weights with a positive sum",
                     value=list(np.atleast_1d(v)), fix="give one weight per expert")],
        )
    return v / v.sum()


# ---------------------------------------------------------------------------
# Data-driven weights: entropy and CRITIC
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EntropyResult:
    """Entropy weights (熵权法).

    Attributes
    ----------
    weights : pd.Series
        w_j, summing to 1, indexed by indicator.
    entropy : pd.Series
        e_j in [0, 1].
    divergence : pd.Series
        d_j = 1 − e_j.
    cost : tuple
        Indicators treated as costs (lower is better).
    variant : str
        ``"entropy_minmax_textbook"``.
    n : int
        Number of alternatives (rows).
    """

    weights: pd.Series
    entropy: pd.Series
    divergence: pd.Series
    cost: tuple
    variant: str
    n: int

    def to_frame(self) -> pd.DataFrame:
        """One row per indicator: ``direction`` ("benefit"/"cost"), ``entropy``,
        ``divergence``, ``weight``, ``variant``."""
        return _indicator_frame(self.cost, entropy=self.entropy, divergence=self.divergence,
                                weight=self.weights, variant=self.variant)


@dataclass(frozen=True)
class CriticResult:
    """CRITIC weights.

    Attributes
    ----------
    weights : pd.Series
        w_j = C_j / Σ C_k.
    std : pd.Series
        σ_j of the normalised indicator with ``ddof``.
    conflict : pd.Series
        Σ_k (1 − r_jk).
    information : pd.Series
        C_j = σ_j · conflict_j.
    correlation : pd.DataFrame
        Pearson correlations r_jk of the normalised indicators.
    ddof : int
        1 = sample standard deviation, 0 = population.
    cost : tuple
        Indicators treated as costs.
    variant : str
        ``"critic_minmax"``.
    n : int
        Number of alternatives (rows).
    """

    weights: pd.Series
    std: pd.Series
    conflict: pd.Series
    information: pd.Series
    correlation: pd.DataFrame
    ddof: int
    cost: tuple
    variant: str
    n: int

    def to_frame(self) -> pd.DataFrame:
        """One row per indicator: ``direction``, ``std``, ``conflict``,
        ``information``, ``weight``, ``variant``, ``ddof``."""
        return _indicator_frame(self.cost, std=self.std, conflict=self.conflict,
                                information=self.information, weight=self.weights,
                                variant=self.variant, ddof=self.ddof)


def _indicator_frame(cost: tuple, **columns) -> pd.DataFrame:
    index = columns["weight"].index
    direction = ["cost" if c in cost else "benefit" for c in index]
    return pd.DataFrame({"direction": direction, **columns}, index=index)


def _minmax(data: pd.DataFrame, cost: Iterable[object], what: str) -> tuple[pd.DataFrame, tuple]:
    if not isinstance(data, pd.DataFrame):
        data = pd.DataFrame(data)
    cost = tuple(cost)
    problems: list[Problem] = []
    for c in cost:
        if c not in data.columns:
            problems.append(Problem(f"cost indicator {c!r} is not a column", value=c,
                                    fix=f"use one of {list(data.columns)}"))
    if len(data) < 2:
        problems.append(Problem(f"{what} needs at least 2 alternatives (rows)", value=len(data),
                                fix="add alternatives"))
    numeric = data.apply(pd.to_numeric, errors="coerce").astype(float)
    for col in data.columns:
        bad = numeric[col].isna() | ~np.isfinite(numeric[col])
        if bad.any():
            problems.append(Problem(f"{bad.sum()} missing or non-numeric value(s)", column=str(col),
                                    value=data.index[bad].tolist()[:5],
                                    fix="impute or drop those alternatives before deriving weights"))
        elif numeric[col].max() == numeric[col].min():
            problems.append(Problem("indicator is constant, so min-max normalisation is 0/0",
                                    column=str(col), value=float(numeric[col].iloc[0]),
                                    fix="drop the indicator: it cannot discriminate"))
    if problems:
        raise DataValidationError(f"Cannot compute {what} weights", problems)
    lo, hi = numeric.min(), numeric.max()
    z = (numeric - lo) / (hi - lo)
    for c in cost:
        z[c] = (hi[c] - numeric[c]) / (hi[c] - lo[c])
    return z, cost


def entropy_weights(data: pd.DataFrame, cost: Iterable[object] = ()) -> EntropyResult:
    """Entropy weights (熵权法), textbook min-max variant.

    Parameters
    ----------
    data : pd.DataFrame
        Alternatives (e.g. departments) as rows, indicators as columns; numeric,
        complete, no constant column.
    cost : iterable of column names
        Indicators where lower is better (normalised in reverse).

    Returns
    -------
    EntropyResult
        ``variant = "entropy_minmax_textbook"``.

    Notes
    -----
    z_ij = (x_ij − min_i x_ij)/(max − min), reversed for costs;
    p_ij = z_ij / Σ_i z_ij; e_j = −(1/ln n) Σ_i p_ij ln p_ij with 0·ln 0 = 0;
    w_j = (1 − e_j) / Σ_k (1 − e_k).

    Published variants differ (shifted normalisation, z + 0.0001, ratio to the
    column sum without min-max) and give very different weights on the same
    data, so the variant is named in the result. Matches reference case 4 of
    the project (e = 0.866569 ... 0.860641).
    """
    z, cost = _minmax(data, cost, "entropy")
    n = len(z)
    p = z / z.sum()
    plogp = p * np.log(p.where(p > 0, 1.0))  # 0 · ln 0 = 0
    e = -plogp.sum() / math.log(n)
    d = 1.0 - e
    w = d / d.sum()
    return EntropyResult(
        weights=w.rename("weight"),
        entropy=e.rename("entropy"),
        divergence=d.rename("divergence"),
        cost=cost,
        variant=ENTROPY_VARIANT,
        n=n,
    )


def critic_weights(data: pd.DataFrame, cost: Iterable[object] = (), *, ddof: int = 1) -> CriticResult:
    """CRITIC weights (Diakoulaki, Mavrotas & Papayannakis 1995).

    Parameters
    ----------
    data : pd.DataFrame
        Alternatives as rows, indicators as columns; numeric, complete, no
        constant column.
    cost : iterable of column names
        Indicators where lower is better (reversed before correlating).
    ddof : {1, 0}
        Standard deviation with n − 1 (sample, default) or n (population).

    Returns
    -------
    CriticResult
        ``variant = "critic_minmax"``.

    Notes
    -----
    z = min-max normalised data (costs reversed); σ_j = sd(z_j);
    r_jk = Pearson correlation of z_j and z_k; C_j = σ_j Σ_k (1 − r_jk);
    w_j = C_j / Σ_k C_k. The choice of ``ddof`` rescales every σ_j by the same
    factor √(n/(n−1)), so it changes ``std`` and ``information`` but not the
    weights: both reproduce reference case 4 (w = 0.148348, 0.502224,
    0.195880, 0.153548).
    """
    if ddof not in (0, 1):
        raise MethodologyError("Invalid ddof for CRITIC",
                               [Problem("ddof must be 1 (sample) or 0 (population)", value=ddof,
                                        fix="pass ddof=1 or ddof=0")])
    z, cost = _minmax(data, cost, "CRITIC")
    std = z.std(ddof=ddof)
    corr = z.corr()
    conflict = (1.0 - corr).sum()
    info = std * conflict
    return CriticResult(
        weights=(info / info.sum()).rename("weight"),
        std=std.rename("std"),
        conflict=conflict.rename("conflict"),
        information=info.rename("information"),
        correlation=corr,
        ddof=ddof,
        cost=cost,
        variant=CRITIC_VARIANT,
        n=len(z),
    )


def apply_framework_weighting(framework):
    """Apply the framework's declared weighting method; return ``(framework, record)``.

    ``explicit``: the framework is returned unchanged.  ``ahp``: dimension
    weights (scaled to sum to 100) and, for each dimension with comparisons,
    the indicator weights within it are replaced by AHP priority weights
    (:func:`ahp` with the declared method, random-index table and CR
    threshold; an inconsistent matrix raises unless allowed).  ``record`` is a
    tidy frame ``level, id, weight, method, cr, lambda_max, random_index_table``
    for the manifest and the reports.
    """
    from dataclasses import replace

    spec = framework.weighting
    rows = []
    dims = list(framework.dimensions)
    inds = list(framework.indicators)

    def run(triples, labels):
        comparisons = {(a, b): v for a, b, v in triples}
        return ahp(comparisons, labels, method=spec.ahp_method, random_index_table=spec.random_index,
                   threshold=spec.max_cr, allow_inconsistent=spec.allow_inconsistent)

    def row(level, key, weight, res=None):
        return {"level": level, "id": key, "weight": weight,
                "method": f"ahp:{res.method}" if res is not None else "explicit",
                "cr": res.cr if res is not None else np.nan,
                "lambda_max": res.lambda_max if res is not None else np.nan,
                "random_index_table": res.random_index_table if res is not None else ""}

    ahp_on = spec.method == "ahp"
    res = run(spec.dimension_comparisons, [d.id for d in dims]) if ahp_on and spec.dimension_comparisons else None
    if res is not None:
        dims = [replace(d, weight=100.0 * float(res.weights[d.id])) for d in dims]
    rows += [row("dimension", d.id, d.weight / 100.0, res) for d in dims]
    for dim in dims:
        triples = spec.indicator_comparisons.get(dim.id) if ahp_on else None
        members = [i.id for i in inds if i.dimension == dim.id]
        res = run(triples, members) if triples else None
        if res is not None:
            inds = [replace(i, weight=float(res.weights[i.id])) if i.dimension == dim.id else i for i in inds]
        rows += [row(f"indicator:{dim.id}", i.id, i.weight, res) for i in inds if i.dimension == dim.id]
    if not ahp_on:
        return framework, pd.DataFrame(rows)
    return replace(framework, dimensions=tuple(dims), indicators=tuple(inds)), pd.DataFrame(rows)
