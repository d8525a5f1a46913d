"""Reliability of scales and of raters.

- :func:`krippendorff_alpha` -- agreement of coders on units (site-visit
  checklists scored by two evaluators), any metric, missing values allowed;
- :func:`cronbach_alpha` -- internal consistency of a multi-item scale, raw and
  standardised, optionally with design weights, with corrected item-total
  correlations and alpha if an item is deleted;
- :func:`mcdonald_omega` -- omega total from a one-factor model;
- :func:`icc` -- Shrout & Fleiss (1979) intraclass correlations for a balanced
  targets x raters matrix.

Missing answers: the scale statistics use listwise deletion (a respondent with
any missing item, or a missing weight, is left out; the result says how many);
Krippendorff's alpha uses every pairable value, as the coefficient is designed
to do.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from surveys.errors import (
    DataValidationError,
    InsufficientDataError,
    MethodologyError,
    MinpingWarning,
    Problem,
)

__all__ = [
    "KRIPPENDORFF_LEVELS",
    "KrippendorffResult",
    "CronbachResult",
    "OmegaResult",
    "ICCResult",
    "krippendorff_alpha",
    "cronbach_alpha",
    "mcdonald_omega",
    "icc",
]

KRIPPENDORFF_LEVELS = ("nominal", "ordinal", "interval", "ratio")


# ---------------------------------------------------------------------------
# Krippendorff's alpha
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KrippendorffResult:
    """Krippendorff's alpha and its ingredients.

    Attributes
    ----------
    alpha : float
        1 − D_o / D_e.
    level : str
        Metric: ``"nominal"``, ``"ordinal"``, ``"interval"`` or ``"ratio"``.
    observed_disagreement, expected_disagreement : float
        D_o and D_e.
    n_values : int
        Pairable values n (values in units coded by at least two coders).
    n_units : int
        Pairable units.
    n_coders : int
        Rows of the input.
    """

    alpha: float
    level: str
    observed_disagreement: float
    expected_disagreement: float
    n_values: int
    n_units: int
    n_coders: int

    def to_frame(self) -> pd.DataFrame:
        """One row with every attribute as a column."""
        return pd.DataFrame([asdict(self)])


def krippendorff_alpha(data: pd.DataFrame | Sequence | np.ndarray, level: str = "nominal") -> KrippendorffResult:
    """Krippendorff's alpha for a coders x units matrix with missing values.

    Parameters
    ----------
    data : 2-D array-like or DataFrame
        One row per coder, one column per unit; missing values as NaN/None.
        Nominal values may be any hashable labels; the other levels need numbers.
    level : {"nominal", "ordinal", "interval", "ratio"}
        Metric of the values.

    Returns
    -------
    KrippendorffResult

    Raises
    ------
    InsufficientDataError
        No unit coded by two coders, or every pairable value identical (alpha
        is then undefined: there is no variation to agree on).
    DataValidationError
        Non-numeric values with a numeric level; negative values for ratio.
    MethodologyError
        Unknown level.

    Notes
    -----
    Coincidence-matrix method (Krippendorff 2011, "Computing Krippendorff's
    alpha-reliability"): for each unit u with m_u ≥ 2 values,
    o_ck += n_uc (n_uk − [c = k]) / (m_u − 1); n_c = Σ_k o_ck, n = Σ_c n_c;
    D_o = Σ o_ck δ²_ck / n, D_e = Σ n_c n_k δ²_ck / (n (n − 1)).
    δ²: nominal [c ≠ k]; ordinal (Σ_{g=c}^{k} n_g − (n_c + n_k)/2)²;
    interval (c − k)²; ratio ((c − k)/(c + k))².

    Reproduces Krippendorff's (2011) 4 coders x 12 units example: nominal
    0.743421, ordinal 0.815388, interval 0.849107, ratio 0.797403, the same
    values as the PyPI ``krippendorff`` package.
    """
    if level not in KRIPPENDORFF_LEVELS:
        raise MethodologyError(
            "Unknown level of measurement for Krippendorff's alpha",
            [Problem(f"level {level!r} is not known", value=level, fix=f"use one of {list(KRIPPENDORFF_LEVELS)}")],
        )
    frame = pd.DataFrame(data)
    n_coders = frame.shape[0]
    # The long table unit by unit, coder by coder (what ``melt`` gives) from one column-major ravel:
    # ``melt`` of a raters x 12,000-visit frame took seconds per checklist item.
    values_in = frame.to_numpy().ravel(order="F")
    units_in = np.repeat(pd.factorize(frame.columns)[0], n_coders)  # equal labels are one unit, as in melt
    long = pd.DataFrame({"unit": units_in, "value": values_in})
    long = long[long["value"].notna()]
    if level != "nominal":
        numeric = pd.to_numeric(long["value"], errors="coerce")
        bad = numeric.isna()
        if bad.any():
            raise DataValidationError(
                f"{level.capitalize()} Krippendorff's alpha needs numeric values",
                [Problem(f"{int(bad.sum())} non-numeric value(s)", value=long["value"][bad].unique()[:5].tolist(),
                         fix="code the categories as numbers in their order, or use level='nominal'")],
            )
        long = long.assign(value=numeric.astype(float))
        if level == "ratio" and (long["value"] < 0).any():
            raise DataValidationError(
                "Ratio Krippendorff's alpha needs non-negative values",
                [Problem("negative value(s) found", value=float(long["value"].min()),
                         fix="use level='interval' for values without a natural zero")],
            )
    unit_codes, _ = pd.factorize(long["unit"])
    value_codes, values = pd.factorize(long["value"], sort=level != "nominal")
    n_units_coded = unit_codes.max() + 1 if len(unit_codes) else 0
    counts = np.bincount(unit_codes * len(values) + value_codes,
                         minlength=n_units_coded * len(values)).reshape(n_units_coded, len(values)).astype(float)
    m = counts.sum(axis=1)
    counts = counts[m >= 2]
    m = m[m >= 2]
    if counts.shape[0] == 0:
        raise InsufficientDataError(
            "Krippendorff's alpha needs pairable values",
            [Problem("no unit was coded by two or more coders", fix="have at least two coders code the same units")],
        )
    weighted = counts / (m - 1.0)[:, None]
    o = weighted.T @ counts - np.diag(weighted.sum(axis=0))
    n_c = o.sum(axis=1)
    n = n_c.sum()
    delta = _delta(level, np.asarray(values, dtype=object), n_c)
    d_o = float((o * delta).sum() / n)
    d_e = float((np.outer(n_c, n_c) * delta).sum() / (n * (n - 1.0)))
    if d_e == 0.0:
        raise InsufficientDataError(
            "Krippendorff's alpha is undefined without variation",
            [Problem("every pairable value is the same, so expected disagreement is 0",
                     value=str(values[int(np.argmax(n_c))]),
                     fix="report raw agreement instead, or code more varied units")],
        )
    return KrippendorffResult(
        alpha=1.0 - d_o / d_e,
        level=level,
        observed_disagreement=d_o,
        expected_disagreement=d_e,
        n_values=int(round(n)),
        n_units=int(counts.shape[0]),
        n_coders=int(n_coders),
    )


def _delta(level: str, values: np.ndarray, n_c: np.ndarray) -> np.ndarray:
    k = len(values)
    if level == "nominal":
        return 1.0 - np.eye(k)
    v = values.astype(float)
    if level == "interval":
        return (v[:, None] - v[None, :]) ** 2
    if level == "ratio":
        total = v[:, None] + v[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(total > 0, (v[:, None] - v[None, :]) / np.where(total > 0, total, 1.0), 0.0)
        return r**2
    # ordinal: values are sorted, so rank order is index order
    cum = np.cumsum(n_c)
    lo = np.minimum.outer(np.arange(k), np.arange(k))
    hi = np.maximum.outer(np.arange(k), np.arange(k))
    between = cum[hi] - cum[lo] + n_c[lo] - (n_c[lo] + n_c[hi]) / 2.0
    return between**2


# ---------------------------------------------------------------------------
# Scale reliability: Cronbach's alpha and McDonald's omega
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CronbachResult:
    """Cronbach's alpha of a scale.

    Attributes
    ----------
    alpha : float
        Raw alpha, k/(k − 1) · (1 − Σ σ²_i / σ²_total).
    alpha_standardized : float
        Alpha of the standardised items, k r̄ / (1 + (k − 1) r̄).
    items : pd.DataFrame
        One row per item: ``item_total_corr`` (correlation with the sum of the
        other items), ``alpha_if_deleted``, ``alpha_std_if_deleted`` (NaN when
        only one item would remain).
    k : int
        Number of items.
    n : int
        Respondents used (complete on every item and the weight).
    n_dropped : int
        Respondents left out by listwise deletion.
    weighted : bool
        Whether design weights were used.
    """

    alpha: float
    alpha_standardized: float
    items: pd.DataFrame
    k: int
    n: int
    n_dropped: int
    weighted: bool

    def to_frame(self) -> pd.DataFrame:
        """The per-item table with the scale's ``alpha`` and ``alpha_standardized`` repeated."""
        return self.items.assign(alpha=self.alpha, alpha_standardized=self.alpha_standardized)


@dataclass(frozen=True)
class OmegaResult:
    """McDonald's omega total from a one-factor model.

    Attributes
    ----------
    omega_total : float
        1 − Σ ψ_i / 1'R1 (R the item correlation matrix).
    loadings : pd.Series
        Standardised loadings λ_i (signed so that their sum is positive).
    uniquenesses : pd.Series
        ψ_i = 1 − λ_i².
    method : str
        ``"minres_one_factor"``.
    n, n_dropped : int
        Respondents used and left out by listwise deletion.
    weighted : bool
        Whether design weights were used.
    heywood : bool
        Whether a loading reached |λ| ≥ 1 (a Heywood case; ψ ≤ 0).
    """

    omega_total: float
    loadings: pd.Series
    uniquenesses: pd.Series
    method: str
    n: int
    n_dropped: int
    weighted: bool
    heywood: bool

    def to_frame(self) -> pd.DataFrame:
        """One row per item: ``loading``, ``uniqueness``, ``omega_total``, ``method``."""
        return pd.DataFrame({"loading": self.loadings, "uniqueness": self.uniquenesses,
                             "omega_total": self.omega_total, "method": self.method})


def _scale_covariance(items, weights, min_items: int, what: str) -> tuple[pd.DataFrame, int, int]:
    """Weighted covariance of complete cases; returns (cov, n used, n dropped)."""
    frame = pd.DataFrame(items)
    problems: list[Problem] = []
    if frame.shape[1] < min_items:
        problems.append(Problem(f"{what} needs at least {min_items} items", value=frame.shape[1],
                                fix="give one column per item"))
    numeric = all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in frame.dtypes)
    # columns that are numbers already (the survey's item scores) need no parsing, and can hold no text
    x = frame if numeric else frame.apply(pd.to_numeric, errors="coerce")
    if not numeric:
        nonnumeric = x.isna() & frame.notna()
        for col in frame.columns[nonnumeric.any()]:
            problems.append(Problem("non-numeric answers", column=str(col),
                                    value=frame.loc[nonnumeric[col], col].unique()[:5].tolist(),
                                    fix="convert labels to scale points before computing reliability"))
    w = np.ones(len(frame)) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (len(frame),):
        problems.append(Problem(f"{w.size} weights for {len(frame)} respondents",
                                fix="give one weight per respondent"))
    elif np.any(w < 0) or np.any(np.isinf(w)):
        problems.append(Problem("negative or infinite weights", value=float(np.nanmin(w)),
                                fix="use non-negative finite design weights"))
    if problems:
        raise DataValidationError(f"Cannot compute {what}", problems)
    values = x.to_numpy(dtype=float, na_value=np.nan)
    keep = ~np.isnan(values).any(axis=1) & ~np.isnan(w)
    x, w = values[keep], w[keep]
    if keep.sum() < 2 or (w > 0).sum() < 2:
        raise InsufficientDataError(
            f"Too few complete respondents for {what}",
            [Problem(f"{int(keep.sum())} respondent(s) answered every item", fix="use more respondents")],
        )
    mean = w @ x / w.sum()
    centred = x - mean
    cov = (centred * w[:, None]).T @ centred / w.sum()
    constant = [str(c) for c, v in zip(frame.columns, np.diag(cov)) if v <= 0]
    if constant:
        # the answers are valid; they only leave nothing to correlate (every respondent gave the same answer)
        raise InsufficientDataError(
            f"Cannot compute {what}",
            [Problem("item has no variance among complete respondents", column=c,
                     fix="drop the item from the scale") for c in constant],
        )
    return pd.DataFrame(cov, index=frame.columns, columns=frame.columns), int(keep.sum()), int((~keep).sum())


def _alpha(cov: np.ndarray) -> float:
    k = cov.shape[0]
    if k < 2:
        return float("nan")
    return k / (k - 1.0) * (1.0 - np.trace(cov) / cov.sum())


def _correlation(cov: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.diag(cov))
    return cov / np.outer(sd, sd)


def cronbach_alpha(items: pd.DataFrame, weights: Sequence[float] | pd.Series | None = None) -> CronbachResult:
    """Cronbach's alpha, raw and standardised, with item diagnostics.

    Parameters
    ----------
    items : pd.DataFrame
        One row per respondent, one column per item (at least 2), numeric,
        oriented the same way (reverse-keyed items recoded beforehand).
    weights : sequence of float, optional
        Design weights; the covariance matrix is then the weighted one.

    Returns
    -------
    CronbachResult

    Raises
    ------
    DataValidationError
        Fewer than 2 items, non-numeric answers, bad weights.
    InsufficientDataError
        Fewer than 2 complete respondents, or an item without variance among
        them (every respondent gave the same answer).

    Notes
    -----
    With C the (weighted) covariance matrix of the complete cases,
    α = k/(k − 1) (1 − tr C / 1'C1); α_std is the same formula on the
    correlation matrix, equal to k r̄/(1 + (k − 1) r̄). The corrected item-total
    correlation of item i is corr(x_i, Σ_{j≠i} x_j) from C. Alpha depends on C
    only up to a factor, so the weighted and unweighted normalisations
    (Σw, n or n − 1) give the same alpha; with integer weights it equals the
    alpha of the data with each row repeated that many times.

    Matches R ``psych::alpha`` 2.2.9 (raw_alpha, std.alpha, r.drop,
    alpha.drop) and equals ICC(3,k) of the same matrix (Hoyt 1941).
    """
    cov_frame, n, dropped = _scale_covariance(items, weights, 2, "Cronbach's alpha")
    cov = cov_frame.to_numpy()
    corr = _correlation(cov)
    k = cov.shape[0]
    rows = []
    for i in range(k):
        rest = [j for j in range(k) if j != i]
        cov_rest = cov[np.ix_(rest, rest)]
        item_rest = cov[i, rest].sum() / np.sqrt(cov[i, i] * cov_rest.sum())
        rows.append((item_rest, _alpha(cov_rest), _alpha(corr[np.ix_(rest, rest)])))
    table = pd.DataFrame(rows, index=cov_frame.index,
                         columns=["item_total_corr", "alpha_if_deleted", "alpha_std_if_deleted"])
    return CronbachResult(alpha=_alpha(cov), alpha_standardized=_alpha(corr), items=table, k=k, n=n,
                          n_dropped=dropped, weighted=weights is not None)


def mcdonald_omega(items: pd.DataFrame, weights: Sequence[float] | pd.Series | None = None) -> OmegaResult:
    """McDonald's omega total from a one-factor minimum-residual model.

    Parameters
    ----------
    items : pd.DataFrame
        One row per respondent, one column per item (at least 3), numeric.
    weights : sequence of float, optional
        Design weights (weighted correlation matrix).

    Returns
    -------
    OmegaResult

    Raises
    ------
    DataValidationError, InsufficientDataError
        As for :func:`cronbach_alpha` (3 items needed to identify one factor).

    Warns
    -----
    MinpingWarning
        On a Heywood case (a loading of magnitude 1 or more).

    Notes
    -----
    Estimation: one factor fitted to the item correlation matrix R by minimum
    residual (unweighted least squares): λ minimises Σ_{i<j} (r_ij − λ_i λ_j)²
    (``scipy.optimize.least_squares`` from the first principal component),
    ψ_i = 1 − λ_i². Omega total is 1 − Σψ_i / 1'R1, i.e. the share of the
    observed variance of the standardised sum score that the common factor
    explains (the ``omega.tot`` of R ``psych::omega``; McDonald 1999 ch. 6).
    With a perfectly fitting model this equals (Σλ)² / ((Σλ)² + Σψ).

    Matches R ``psych::omega(nfactors = 1, fm = "minres")`` 2.2.9.
    """
    cov_frame, n, dropped = _scale_covariance(items, weights, 3, "McDonald's omega")
    r = _correlation(cov_frame.to_numpy())
    k = r.shape[0]
    iu = np.triu_indices(k, 1)

    def residuals(lam):
        return r[iu] - np.outer(lam, lam)[iu]

    values, vectors = np.linalg.eigh(r)
    start = vectors[:, -1] * np.sqrt(values[-1])
    fit = optimize.least_squares(residuals, start, xtol=1e-14, ftol=1e-14, gtol=1e-14)
    lam = fit.x if fit.x.sum() >= 0 else -fit.x
    heywood = bool(np.any(np.abs(lam) >= 1.0))
    if heywood:
        warnings.warn(
            "One-factor model for omega hit a Heywood case (a loading of magnitude >= 1); omega is "
            "unreliable. Check for near-duplicate items or too few respondents.",
            MinpingWarning, stacklevel=2,
        )
    psi = 1.0 - lam**2
    return OmegaResult(
        omega_total=float(1.0 - psi.sum() / r.sum()),
        loadings=pd.Series(lam, index=cov_frame.index, name="loading"),
        uniquenesses=pd.Series(psi, index=cov_frame.index, name="uniqueness"),
        method="minres_one_factor",
        n=n,
        n_dropped=dropped,
        weighted=weights is not None,
        heywood=heywood,
    )


# ---------------------------------------------------------------------------
# Intraclass correlation
# ---------------------------------------------------------------------------

ICC_TYPES = ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)")
_ICC_DESCRIPTIONS = (
    "one-way random, single rater",
    "two-way random, single rater, absolute agreement",
    "two-way mixed, single rater, consistency",
    "one-way random, mean of k raters",
    "two-way random, mean of k raters, absolute agreement",
    "two-way mixed, mean of k raters, consistency",
)


@dataclass(frozen=True)
class ICCResult:
    """Shrout & Fleiss intraclass correlations.

    Attributes
    ----------
    icc : pd.Series
        Indexed by ``ICC_TYPES``: ICC(1,1), ICC(2,1), ICC(3,1), ICC(1,k),
        ICC(2,k), ICC(3,k).
    ms_targets, ms_raters, ms_error, ms_within : float
        Mean squares BMS, JMS, EMS (two-way) and WMS (one-way).
    n_targets, n_raters : int
        Shape of the balanced matrix.
    """

    icc: pd.Series
    ms_targets: float
    ms_raters: float
    ms_error: float
    ms_within: float
    n_targets: int
    n_raters: int

    def to_frame(self) -> pd.DataFrame:
        """One row per ICC type: ``icc``, ``description``, ``f``, ``df1``, ``df2``, ``p``
        (F test of no target variance: BMS/WMS for ICC(1,·), BMS/EMS otherwise)."""
        n, k = self.n_targets, self.n_raters
        f_one, f_two = self.ms_targets / self.ms_within, self.ms_targets / self.ms_error
        df_one, df_two = n * (k - 1), (n - 1) * (k - 1)
        f = [f_one, f_two, f_two] * 2
        df2 = [df_one, df_two, df_two] * 2
        return pd.DataFrame(
            {"icc": self.icc, "description": _ICC_DESCRIPTIONS, "f": f, "df1": n - 1, "df2": df2,
             "p": [float(stats.f.sf(fi, n - 1, d)) for fi, d in zip(f, df2)]},
            index=self.icc.index,
        )


def icc(ratings: pd.DataFrame | Sequence | np.ndarray) -> ICCResult:
    """Intraclass correlations of a balanced targets x raters matrix.

    Parameters
    ----------
    ratings : 2-D array-like or DataFrame
        One row per target (e.g. a service window visit), one column per rater;
        numeric, no missing value (a balanced design).

    Returns
    -------
    ICCResult

    Raises
    ------
    DataValidationError
        Missing or non-numeric ratings, fewer than 2 targets or raters.
    InsufficientDataError
        No variation at all (every mean square 0).

    Notes
    -----
    Two-way ANOVA without replication, n targets and k raters:
    BMS = k Σ_i (x̄_i· − x̄)²/(n − 1), JMS = n Σ_j (x̄_·j − x̄)²/(k − 1),
    EMS = Σ (x_ij − x̄_i· − x̄_·j + x̄)²/((n − 1)(k − 1)),
    WMS = (SS_raters + SS_error)/(n(k − 1)).

    ICC(1,1) = (BMS − WMS)/(BMS + (k − 1)WMS);
    ICC(2,1) = (BMS − EMS)/(BMS + (k − 1)EMS + k(JMS − EMS)/n);
    ICC(3,1) = (BMS − EMS)/(BMS + (k − 1)EMS);
    ICC(1,k) = (BMS − WMS)/BMS; ICC(2,k) = (BMS − EMS)/(BMS + (JMS − EMS)/n);
    ICC(3,k) = (BMS − EMS)/BMS.

    Reproduces Shrout & Fleiss (1979, Psychological Bulletin 86:420-428)
    Table 4 (.17, .29, .71, .44, .62, .91) and R ``psych::ICC(lmer = FALSE)``.
    """
    frame = pd.DataFrame(ratings)
    x = frame.apply(pd.to_numeric, errors="coerce")
    problems: list[Problem] = []
    if frame.shape[0] < 2 or frame.shape[1] < 2:
        problems.append(Problem("an ICC needs at least 2 targets (rows) and 2 raters (columns)",
                                value=frame.shape, fix="add targets or raters"))
    missing = x.isna()
    if missing.any().any():
        rows = frame.index[missing.any(axis=1)].tolist()
        problems.append(Problem(f"{int(missing.sum().sum())} missing or non-numeric rating(s) in targets "
                                f"{rows[:5]}", fix="drop incompletely rated targets (ratings.dropna()) or "
                                                   "use krippendorff_alpha, which allows missing ratings"))
    if problems:
        raise DataValidationError("Cannot compute intraclass correlations", problems)
    a = x.to_numpy(dtype=float)
    n, k = a.shape
    grand = a.mean()
    row_means, col_means = a.mean(axis=1), a.mean(axis=0)
    ss_rows = k * ((row_means - grand) ** 2).sum()
    ss_cols = n * ((col_means - grand) ** 2).sum()
    ss_err = ((a - row_means[:, None] - col_means[None, :] + grand) ** 2).sum()
    bms, jms = ss_rows / (n - 1), ss_cols / (k - 1)
    ems = ss_err / ((n - 1) * (k - 1))
    wms = (ss_cols + ss_err) / (n * (k - 1))
    if bms == 0 and wms == 0:
        raise InsufficientDataError(
            "Intraclass correlation is undefined without variation",
            [Problem("every rating is identical", fix="report raw agreement instead")],
        )
    values = (
        (bms - wms) / (bms + (k - 1) * wms),
        (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n),
        (bms - ems) / (bms + (k - 1) * ems),
        (bms - wms) / bms,
        (bms - ems) / (bms + (jms - ems) / n),
        (bms - ems) / bms,
    )
    return ICCResult(
        icc=pd.Series(values, index=list(ICC_TYPES), name="icc", dtype=float),
        ms_targets=float(bms), ms_raters=float(jms), ms_error=float(ems), ms_within=float(wms),
        n_targets=n, n_raters=k,
    )
