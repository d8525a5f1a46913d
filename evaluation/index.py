"""From indicator scores to dimension scores and the composite index.

Aggregation (weighted arithmetic mean, COINr-style framework weights)::

    dimension score  D_dk = sum_i w_i s_i / sum_i w_i      over the indicators i of k present for d
    index            I_d  = sum_k W_k D_dk / sum_k W_k     over the dimensions k present for d

so weights are renormalised over what is present; a dimension missing more
than ``framework.missing_dimension_flag`` of its weight is flagged.

Variance (Taylor linearisation).  A dimension score or the index is a linear
combination ``sum_i c_i s_i`` of indicator scores with the effective weights
``c_i``; each score is ``s_i = f_i(ybar_i)`` with ``ybar_i`` a design-based
mean.  Its linearised variance is, per sampled table ``t`` (survey, callback
interviews, site visits, guide checks, drawn independently), the design
variance of the total of ``u_r = sum_i c_i f_i'(ybar_i) z_ri`` with ``z_ri``
the weighted influence value of indicator ``i`` for row ``r``
(:mod:`evaluation.indicators`): every indicator answered by the same
respondents enters one ``u``, so their covariance is kept -- the variance is
that of R ``survey``'s ``svycontrast`` of the indicator means.  The design
variance honours strata, clusters at every stage, finite population
corrections and, for a calibrated table, the residuals on the calibration
model.  A degenerate component (``se_rule = "pooled"``) adds ``c_i^2`` times
its pooled score variance as an independent term.  Administrative and
好差评 data are censuses and add nothing.  Nothing is rescaled to an
interval.

Degrees of freedom (Satterthwaite across channels).  The variance is a sum of
independent estimated pieces: per table ``V_t`` with the department's design
degrees of freedom in that table ``df_t`` (PSUs minus strata among its rows),
and the pooled terms, whose variance comes from many departments
(infinite df).  The interval uses the Welch-Satterthwaite degrees of
freedom ``df = (sum V)^2 / sum_t (V_t^2 / df_t)`` (Satterthwaite 1946; Welch
1947): the standard approximation for a sum of independent variance
estimates, and one a reviewer can recompute from the published variance
components.  With a single sampled table it is that table's design df, as
``confint(svycontrast(...), df = degf(domain design))`` in R ``survey``; a
channel with few clusters that carries much of the variance pulls it down, a
channel with many clusters barely counts.  Why not simply the department's
survey df: the survey often carries half the variance or less, and the
callbacks (a hundred interviews) would then be treated as if they had the
survey's handful of intercept days.  ``df_t`` is at least 1 when ``V_t > 0``.
Intervals are ``estimate -/+ t_df se``, cut to the score range 0-100 for
display (``se`` is never changed by the cut).

The variance per department and sampled table, with the units and PSUs
behind it, is returned as ``variance_components`` (for sampling plans).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from surveys.framework import Framework
from surveys.schema import TABLES

from .design import domain_variance
from .indicators import IndicatorEstimates
from .linearisation import critical_value

DIMENSION_COLUMNS = ["year", "department_id", "dimension_id", "dimension", "dimension_en", "weight", "estimate",
                     "se", "ci_low", "ci_high", "df", "missing_weight_share", "flag"]
INDEX_COLUMNS = ["department_id", "index", "se", "ci_low", "ci_high", "df", "missing_dimensions"]
VARIANCE_COMPONENT_COLUMNS = ["department_id", "channel", "table", "variance", "variance_pooled", "n", "n_psu",
                              "df"]


@dataclass(frozen=True)
class Aggregation:
    """Dimension scores, the index and the index variance by channel.

    Attributes
    ----------
    dimensions : pandas.DataFrame
        DIMENSION_COLUMNS: department x dimension, ``estimate``, ``se``,
        interval at the level, ``df``, ``missing_weight_share``, ``flag``.
    index : pandas.DataFrame
        INDEX_COLUMNS: ``department_id, index, se, ci_low, ci_high, df,
        missing_dimensions``.
    variance_components : pandas.DataFrame
        VARIANCE_COMPONENT_COLUMNS: per department and sampled table, the
        table's contribution to the index variance (``variance``, of which
        ``variance_pooled`` from degenerate components), the department's
        units ``n`` (rows with positive weight) and PSUs ``n_psu`` in the table,
        and ``df``, the Satterthwaite degrees of freedom of that contribution
        (the table's design df when nothing is pooled).  Summing ``variance``
        over a department's tables gives ``se^2`` of the index, and
        Satterthwaite over them its ``df``.
    """

    dimensions: pd.DataFrame
    index: pd.DataFrame
    variance_components: pd.DataFrame


def effective_weights(indicators: pd.DataFrame, framework: Framework) -> pd.DataFrame:
    """Per department x indicator: ``w_dim`` (renormalised within its dimension) and ``w_index``.

    Also returns ``dim_weight`` (the dimension's renormalised share of the index).
    """
    present = indicators.loc[indicators["score"].notna(), ["department_id", "indicator_id", "dimension_id"]].copy()
    within = {i.id: i.weight for i in framework.indicators}
    dimw = {d.id: d.weight for d in framework.dimensions}
    present["w"] = present["indicator_id"].map(within)
    present["w_dim"] = present["w"] / present.groupby(["department_id", "dimension_id"])["w"].transform("sum")
    dims = present.drop_duplicates(["department_id", "dimension_id"])[["department_id", "dimension_id"]].copy()
    dims["W"] = dims["dimension_id"].map(dimw)
    dims["dim_weight"] = dims["W"] / dims.groupby("department_id")["W"].transform("sum")
    present = present.merge(dims[["department_id", "dimension_id", "dim_weight"]], on=["department_id", "dimension_id"])
    present["w_index"] = present["w_dim"] * present["dim_weight"]
    return present.drop(columns="w")


def _table_parts(est: IndicatorEstimates, coef: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per group (department [x dimension]) and sampled table: linearised and pooled variance, df, n, PSUs.

    ``coef`` has ``department_id, indicator_id``, the ``keys`` and ``coef``
    (the effective weight of the indicator in the group's score).
    """
    ind = est.frame.set_index(["department_id", "indicator_id"])
    at = pd.MultiIndex.from_frame(coef[["department_id", "indicator_id"]])
    coef = coef.assign(c=coef["coef"].to_numpy() * ind["slope"].reindex(at).fillna(0.0).to_numpy(),
                       pooled=coef["coef"].to_numpy() ** 2 * ind["extra_var"].reindex(at).fillna(0.0).to_numpy())
    out = []
    extra = [k for k in keys if k != "department_id"]
    groups = list(coef[extra].drop_duplicates().itertuples(index=False, name=None)) if extra else [()]
    for table, inf in est.influence.items():
        ids = list(inf.ids)
        cells, depts = inf.cells, inf.departments
        prep = cells.prep
        w = inf.calibration.weights if inf.calibration is not None else prep.weights
        # the department's units, PSUs and design df in the table (rows with positive weight), from its cells
        units = cells.counts(w > 0)
        n_units = np.rint(cells.per_domain(units)).astype(np.int64)
        n_psu = np.bincount(cells.cell_dom[units > 0], minlength=cells.n_dom)
        df_t = cells.df(units > 0)
        in_table = coef[coef["indicator_id"].isin(ids)]
        for g in groups:
            sub = in_table
            for k, v in zip(extra, g):
                sub = sub[sub[k] == v]
            wide = sub.pivot_table(index="department_id", columns="indicator_id", values="c", aggfunc="sum")
            wide = wide.reindex(index=depts, columns=ids).fillna(0.0).to_numpy()
            pooled = sub.groupby("department_id")["pooled"].sum().reindex(depts).fillna(0.0).to_numpy()
            involved = sub.groupby("department_id").size().reindex(depts).fillna(0).to_numpy() > 0
            if not involved.any():
                continue
            if inf.totals is not None:
                # the combination's total in every cell, from the indicators' cell totals: no pass over rows
                t = np.einsum("ij,ij->i", wide[cells.cell_dom], inf.totals)
                v = cells.variance(t, cells.dom >= 0 if cells.by_rows else np.ones(cells.n_cells, dtype=bool))
            else:
                u = np.einsum("ij,ij->i", wide[np.maximum(cells.dom, 0)], inf.rows)
                v = domain_variance(prep, u, cells.dom, cells.n_dom, inf.calibration)
            frame = pd.DataFrame({"department_id": depts, "table": table, "variance_linearised": v,
                                  "variance_pooled": pooled, "n": n_units, "n_psu": n_psu, "df_table": df_t})
            for k, val in zip(extra, g):
                frame[k] = val
            out.append(frame[involved])
    cols = keys + ["table", "variance_linearised", "variance_pooled", "n", "n_psu", "df_table"]
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)


def satterthwaite(variance: np.ndarray, df: np.ndarray) -> float:
    """Welch-Satterthwaite degrees of freedom of a sum of independent variance estimates.

    ``(sum V)^2 / sum (V^2 / df)``; pieces with infinite ``df`` (or zero
    variance) add nothing to the denominator; infinite when every piece has
    infinite ``df`` or the sum is zero.
    """
    v = np.asarray(variance, dtype=float)
    d = np.asarray(df, dtype=float)
    total = v.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        den = np.where((v > 0) & np.isfinite(d), v * v / d, 0.0).sum()
    return float(total * total / den) if den > 0 and total > 0 else np.inf


def _combine(parts: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Variance, se and Satterthwaite df per group from its tables' parts."""
    if parts.empty:
        return pd.DataFrame({**{k: pd.Series(dtype=object) for k in keys}, "variance": pd.Series(dtype=float),
                             "df": pd.Series(dtype=float)})
    parts = parts.assign(df_table=np.where((parts["variance_linearised"] > 0) & (parts["df_table"] < 1), 1.0,
                                           parts["df_table"]))
    rows = []
    for key, g in parts.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        pieces = np.concatenate([g["variance_linearised"].to_numpy(), g["variance_pooled"].to_numpy()])
        dfs = np.concatenate([g["df_table"].to_numpy(float), np.full(len(g), np.inf)])
        rows.append((*key, float(pieces.sum()), satterthwaite(pieces, dfs)))
    return pd.DataFrame(rows, columns=keys + ["variance", "df"])


def _interval(estimate, se, df, level):
    q = critical_value(df, level)
    return np.clip(estimate - q * se, 0.0, 100.0), np.clip(estimate + q * se, 0.0, 100.0)


def aggregate(est: IndicatorEstimates, framework: Framework, *, level: float | None = None) -> Aggregation:
    """Dimension scores and the composite index with standard errors, df and intervals.

    Parameters
    ----------
    est : the indicator estimates (:func:`evaluation.indicators.estimate_indicators`)
    framework : the framework (weights, dimensions)
    level : confidence level of the intervals (default: the framework's)

    Returns
    -------
    Aggregation
        ``dimensions`` (DIMENSION_COLUMNS), ``index`` (INDEX_COLUMNS) and
        ``variance_components`` (VARIANCE_COMPONENT_COLUMNS); see the module
        notes for the variance and the degrees of freedom.

    Notes
    -----
    The index and dimension ``se`` equal R ``survey``'s ``svycontrast`` of
    the department's indicator means with the effective weights (times the
    score transforms' slopes), and the interval ``confint(..., df=...)``
    with the df above (``tests/test_published_uncertainty.py``).
    """
    level = framework.confidence_level if level is None else level
    ind = est.frame
    ew = effective_weights(ind, framework)
    scored = ew.merge(ind[["department_id", "indicator_id", "score"]], on=["department_id", "indicator_id"])

    dim = scored.assign(ws=scored["w_dim"] * scored["score"]).groupby(["department_id", "dimension_id"], sort=True)
    dims = dim["ws"].sum().rename("estimate").reset_index()
    dim_parts = _table_parts(est, scored.rename(columns={"w_dim": "coef"}), ["department_id", "dimension_id"])
    dvar = _combine(dim_parts, ["department_id", "dimension_id"]).set_index(["department_id", "dimension_id"])
    at = pd.MultiIndex.from_frame(dims[["department_id", "dimension_id"]])
    dims["se"] = np.sqrt(dvar["variance"].reindex(at).fillna(0.0).to_numpy())
    dims["df"] = dvar["df"].reindex(at).fillna(np.inf).to_numpy()
    within = {i.id: i.weight for i in framework.indicators}
    present_w = scored.assign(w=scored["indicator_id"].map(within)).groupby(["department_id", "dimension_id"])["w"].sum()
    dims["missing_weight_share"] = 1.0 - present_w.reindex(at).to_numpy()
    dims["missing_weight_share"] = dims["missing_weight_share"].clip(lower=0.0).round(12)
    dims["flag"] = np.where(dims["missing_weight_share"] > framework.missing_dimension_flag, "dimension_missing", "")
    meta = {d.id: d for d in framework.dimensions}
    dims["dimension"] = dims["dimension_id"].map(lambda k: meta[k].name)
    dims["dimension_en"] = dims["dimension_id"].map(lambda k: meta[k].name_en)
    dims["weight"] = dims["dimension_id"].map(lambda k: meta[k].weight)
    dims["ci_low"], dims["ci_high"] = _interval(dims["estimate"].to_numpy(), dims["se"].to_numpy(),
                                                dims["df"].to_numpy(), level)
    dims["year"] = est.frame["year"].iloc[0] if len(est.frame) else np.nan

    idx = scored.assign(ws=scored["w_index"] * scored["score"]).groupby("department_id", sort=True)["ws"].sum()
    idx_parts = _table_parts(est, scored.rename(columns={"w_index": "coef"}), ["department_id"])
    ivar = _combine(idx_parts, ["department_id"]).set_index("department_id")
    index = pd.DataFrame({"department_id": idx.index, "index": idx.to_numpy()})
    index["se"] = np.sqrt(ivar["variance"].reindex(idx.index).fillna(0.0).to_numpy())
    index["df"] = ivar["df"].reindex(idx.index).fillna(np.inf).to_numpy()
    index["ci_low"], index["ci_high"] = _interval(index["index"].to_numpy(), index["se"].to_numpy(),
                                                  index["df"].to_numpy(), level)
    all_dims = [d.id for d in framework.dimensions]
    have = dims.groupby("department_id")["dimension_id"].apply(set)
    index["missing_dimensions"] = index["department_id"].map(
        lambda d: ";".join(k for k in all_dims if k not in have.get(d, set())))
    return Aggregation(dims[DIMENSION_COLUMNS], index[INDEX_COLUMNS], _components(idx_parts))


def _components(parts: pd.DataFrame) -> pd.DataFrame:
    if parts.empty:
        return pd.DataFrame(columns=VARIANCE_COMPONENT_COLUMNS)
    out = parts.copy()
    out["channel"] = out["table"].map(lambda t: TABLES[t].channel)
    lin, pooled = out["variance_linearised"].to_numpy(), out["variance_pooled"].to_numpy()
    out["variance"] = lin + pooled
    df_t = np.where((lin > 0) & (out["df_table"] < 1), 1.0, out["df_table"].to_numpy(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["df"] = np.where((lin > 0) & np.isfinite(df_t), (lin + pooled) ** 2 / (lin * lin / df_t), np.inf)
    return out.sort_values(["department_id", "table"]).reset_index(drop=True)[VARIANCE_COMPONENT_COLUMNS]


def variance_shares(indicators: pd.DataFrame, index: pd.DataFrame, framework: Framework) -> pd.DataFrame:
    """Nominal weight beside each indicator's actual share of the index's variance across departments.

    With ``I_d = sum_i c_di s_di`` (``c`` the effective weights after
    renormalisation), the variance of the index across departments splits as
    ``var(I) = sum_i cov(c_i s_i, I)``; the share of indicator i is
    ``cov(c_i s_i, I) / var(I)`` (shares sum to 1; an indicator whose scores
    barely differ between departments carries little of the ranking whatever its
    nominal weight; OECD/JRC Handbook on Constructing Composite Indicators, 2008,
    on effective versus nominal weights).  Census indicators count like the others.

    Returns ``indicator_id, indicator, indicator_en, dimension_id, nominal_weight,
    variance_share, score_sd`` (score_sd: spread of the indicator's scores across
    departments).
    """
    ew = effective_weights(indicators, framework)
    s = ew.merge(indicators[["department_id", "indicator_id", "score"]], on=["department_id", "indicator_id"])
    s["contrib"] = s["w_index"] * s["score"]
    wide = s.pivot_table(index="department_id", columns="indicator_id", values="contrib", aggfunc="sum").fillna(0.0)
    total = index.set_index("department_id")["index"].reindex(wide.index)
    ok = total.notna()
    wide, total = wide[ok], total[ok]
    var = float(np.var(total.to_numpy(), ddof=1)) if len(total) > 1 else np.nan
    cov = {c: float(np.cov(wide[c].to_numpy(), total.to_numpy(), ddof=1)[0, 1]) if len(total) > 1 else np.nan
           for c in wide.columns}
    sd = s.groupby("indicator_id")["score"].std()
    nominal = framework.nominal_weights()
    rows = []
    for ind in framework.indicators:
        rows.append({"indicator_id": ind.id, "indicator": ind.name, "indicator_en": ind.name_en,
                     "dimension_id": ind.dimension, "nominal_weight": nominal[ind.id],
                     "variance_share": cov.get(ind.id, np.nan) / var if var and var > 0 else np.nan,
                     "score_sd": sd.get(ind.id, np.nan)})
    return pd.DataFrame(rows)
