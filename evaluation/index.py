"""From indicator scores to dimension scores and the composite index.

Aggregation (weighted arithmetic mean, COINr-style framework weights)::

    dimension score  D_dk = sum_i w_i s_i / sum_i w_i      over the indicators i of k present for d
    index            I_d  = sum_k W_k D_dk / sum_k W_k     over the dimensions k present for d

so weights are renormalised over what is present; a dimension missing more
than ``framework.missing_dimension_flag`` of its weight is flagged.

Variance (Taylor linearisation across channels).  The survey, callback and
site-visit samples are independent, so the variance of a weighted sum of
scores is the sum over sampled tables of the design variance of the
linearised total ``sum_r w_r u_r`` with
``u_r = sum_i c_i * slope_i * z_ri`` (``z_ri`` the influence value of
indicator i for row r, ``c_i`` its effective weight).  This keeps the
covariance between indicators answered by the same respondents.
Administrative and 好差评 data are censuses and add no variance.  Each
indicator's influence values are scaled so that its own variance equals its
reported score ``se`` (see :func:`evaluation.indicators._finish`), and an
indicator estimated at 0 or 1 (linearised variance 0) adds its Wilson-based
variance as an independent term.  Intervals
are normal-theory (``estimate +/- z * se``), cut to the score range 0-100.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from surveys.framework import Framework

from .design import design_total
from .indicators import IndicatorEstimates

DIMENSION_COLUMNS = ["year", "department_id", "dimension_id", "dimension", "dimension_en", "weight", "estimate",
                     "se", "ci_low", "ci_high", "missing_weight_share", "flag"]


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


def _variance(est: IndicatorEstimates, coef: pd.DataFrame, group_cols: list[str]) -> pd.Series:
    """Design variance of sum_i coef_i * score_i per group (department [, dimension])."""
    total = pd.Series(0.0, index=pd.MultiIndex.from_frame(coef[group_cols].drop_duplicates()) if len(group_cols) > 1
                      else pd.Index(coef[group_cols[0]].unique(), name=group_cols[0]))
    slopes = est.frame.set_index(["department_id", "indicator_id"])["slope"]
    coef = coef.copy()
    coef["c"] = coef["coef"] * slopes.reindex(pd.MultiIndex.from_frame(coef[["department_id", "indicator_id"]])).to_numpy()
    for table, rows in est.influence.items():
        zcols = [c for c in rows.columns if c.startswith("z_")]
        if not zcols:
            continue
        ids = [c[2:] for c in zcols]
        keys = [k for k in group_cols if k != "department_id"]
        groups = coef[keys].drop_duplicates().itertuples(index=False) if keys else [()]
        for g in groups:
            sub = coef
            for k, v in zip(keys, g):
                sub = sub[sub[k] == v]
            wide = sub.pivot_table(index="department_id", columns="indicator_id", values="c", aggfunc="sum")
            wide = wide.reindex(columns=ids).fillna(0.0)
            if not np.any(wide.to_numpy()):
                continue
            cmat = wide.reindex(rows["department_id"]).fillna(0.0).to_numpy()
            u = np.einsum("ij,ij->i", cmat, rows[zcols].to_numpy(float))
            frame = rows.drop(columns=zcols).assign(_u=u)
            res = design_total(frame, "_u", est.designs[table], by="department_id")
            var = pd.Series(res["se"].to_numpy(float) ** 2, index=res["department_id"].to_numpy())
            if keys:
                idx = pd.MultiIndex.from_tuples([(d, *g) for d in var.index], names=group_cols)
                var.index = idx
            total = total.add(var, fill_value=0.0)
    extra = est.frame.set_index(["department_id", "indicator_id"])["extra_var"]
    ev = coef["coef"] ** 2 * extra.reindex(pd.MultiIndex.from_frame(coef[["department_id", "indicator_id"]])).to_numpy()
    ev = pd.Series(np.nan_to_num(ev), index=pd.MultiIndex.from_frame(coef[group_cols]) if len(group_cols) > 1
                   else pd.Index(coef[group_cols[0]], name=group_cols[0])).groupby(level=list(range(len(group_cols)))).sum()
    return total.add(ev, fill_value=0.0)


def aggregate(est: IndicatorEstimates, framework: Framework, *, level: float | None = None):
    """Dimension scores and the composite index with standard errors and intervals.

    Returns
    -------
    (dimensions, index) : tuple of DataFrames
        ``dimensions`` has DIMENSION_COLUMNS; ``index`` has ``department_id,
        index, se, ci_low, ci_high, missing_dimensions``.
    """
    level = framework.confidence_level if level is None else level
    z = stats.norm.ppf(0.5 + level / 2)
    ind = est.frame
    ew = effective_weights(ind, framework)
    scored = ew.merge(ind[["department_id", "indicator_id", "score"]], on=["department_id", "indicator_id"])

    dim = scored.assign(ws=scored["w_dim"] * scored["score"]).groupby(["department_id", "dimension_id"], sort=True)
    dims = dim["ws"].sum().rename("estimate").reset_index()
    var_d = _variance(est, scored.rename(columns={"w_dim": "coef"}), ["department_id", "dimension_id"])
    dims["se"] = np.sqrt(var_d.reindex(pd.MultiIndex.from_frame(dims[["department_id", "dimension_id"]])).fillna(0.0)
                         .to_numpy())
    within = {i.id: i.weight for i in framework.indicators}
    present_w = scored.assign(w=scored["indicator_id"].map(within)).groupby(["department_id", "dimension_id"])["w"].sum()
    dims["missing_weight_share"] = 1.0 - present_w.reindex(
        pd.MultiIndex.from_frame(dims[["department_id", "dimension_id"]])).to_numpy()
    dims["missing_weight_share"] = dims["missing_weight_share"].clip(lower=0.0).round(12)
    dims["flag"] = np.where(dims["missing_weight_share"] > framework.missing_dimension_flag, "dimension_missing", "")
    meta = {d.id: d for d in framework.dimensions}
    dims["dimension"] = dims["dimension_id"].map(lambda k: meta[k].name)
    dims["dimension_en"] = dims["dimension_id"].map(lambda k: meta[k].name_en)
    dims["weight"] = dims["dimension_id"].map(lambda k: meta[k].weight)
    dims["ci_low"] = (dims["estimate"] - z * dims["se"]).clip(lower=0.0)
    dims["ci_high"] = (dims["estimate"] + z * dims["se"]).clip(upper=100.0)
    dims["year"] = est.frame["year"].iloc[0] if len(est.frame) else np.nan

    idx = scored.assign(ws=scored["w_index"] * scored["score"]).groupby("department_id", sort=True)["ws"].sum()
    var_i = _variance(est, scored.rename(columns={"w_index": "coef"}), ["department_id"])
    index = pd.DataFrame({"department_id": idx.index, "index": idx.to_numpy()})
    index["se"] = np.sqrt(var_i.reindex(idx.index).fillna(0.0).to_numpy())
    index["ci_low"] = (index["index"] - z * index["se"]).clip(lower=0.0)
    index["ci_high"] = (index["index"] + z * index["se"]).clip(upper=100.0)
    all_dims = [d.id for d in framework.dimensions]
    have = dims.groupby("department_id")["dimension_id"].apply(set)
    index["missing_dimensions"] = index["department_id"].map(
        lambda d: ";".join(k for k in all_dims if k not in have.get(d, set())))
    return dims[DIMENSION_COLUMNS], index


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
