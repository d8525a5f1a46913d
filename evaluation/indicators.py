"""Indicator estimates per department, with design-based standard errors.

Each indicator reads one field of one canonical table.  For the sampled
channels (survey, callback, site visit) the raw value is a design-weighted
domain mean (department = domain) with a Taylor-linearisation standard error
from :mod:`evaluation.design`; administrative and 好差评 data are censuses
(standard error 0).  Scores follow :mod:`evaluation.transforms`; the score's
standard error is the raw one times the transform's slope (delta method) and
its interval is the raw interval mapped through the (monotone) transform.

Besides the table of estimates, :func:`estimate_indicators` returns, for each
sampled table, the per-row *influence values* of every indicator (the
linearised contributions ``a_r (y_r - ybar) / sum(w a)``), so that
:mod:`evaluation.index` can propagate the joint sampling error of several
indicators measured on the same respondents into dimension and index scores.

Site visits rated by several evaluators are combined before estimation: the
visit's value is the mean over its raters (documented rule; agreement is
reported separately).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from surveys.aggregate import N_SUFFIX, department_sums
from surveys.framework import Framework, Indicator
from surveys.schema import TABLES, ChannelData

from .design import Design, design_mean
from .transforms import likert_item_scores, score, score_interval

INDICATOR_COLUMNS = [
    "year", "department_id", "indicator_id", "indicator", "indicator_en", "dimension_id", "channel", "weight",
    "raw_value", "raw_se", "score", "se", "ci_low", "ci_high", "n", "top2", "bottom2", "slope", "extra_var",
    "census",
]


@dataclass(frozen=True)
class SampledTable:
    """Rows of one sampled table prepared for estimation."""

    name: str
    rows: pd.DataFrame          # department_id, design columns, one column per indicator value
    design: Design


@dataclass(frozen=True)
class IndicatorEstimates:
    frame: pd.DataFrame                     # INDICATOR_COLUMNS
    influence: dict[str, pd.DataFrame]      # table -> rows with design columns and z_<indicator id>
    designs: dict[str, Design]
    values: dict[str, pd.DataFrame] = None  # table -> rows with design columns and each indicator's item values


def with_frame_sizes(data: ChannelData, table: str, rows: pd.DataFrame) -> pd.DataFrame:
    """Add ``_frame_N`` and ``_frame_weight`` when the table's design asks for frame sizes.

    ``N_d`` = cases received by the department in the year (sum of
    ``admin_monthly.cases_received``), ``n_d`` = rows of the department in the
    table, weight ``N_d / n_d`` (the completed interviews stand for the
    department's cases: a uniform non-response adjustment within department).
    When a department has no administrative data (or fewer cases than rows),
    it keeps weight 1 and the table gets no finite population correction.
    """
    spec = data.designs.get(table, {})
    admin = data.tables.get("admin_monthly")
    if spec.get("population") != "admin_cases" or admin is None or admin.empty:
        return rows
    big_n = admin.groupby("department_id")["cases_received"].sum()
    n = rows.groupby("department_id")["department_id"].transform("size")
    frame_n = rows["department_id"].map(big_n)
    rows = rows.copy()
    frame_n = frame_n.where(frame_n >= n)
    rows["_frame_weight"] = (frame_n / n).fillna(1.0)
    if frame_n.notna().all():
        rows["_frame_N"] = frame_n
    return rows


def table_design(data: ChannelData, table: str, rows: pd.DataFrame) -> Design:
    """The declared design of ``table`` or the documented default.

    Default: each department a stratum, no clusters, weights 1, sampling with
    replacement (no finite population correction); a stratum with a single PSU
    is centred at the grand mean (R ``survey``'s ``lonely.psu = "adjust"``).
    ``population = "admin_cases"`` derives the design from frame sizes: the
    department's cases received in the administrative data ``N_d`` over the
    rows used ``n_d`` as the weight, and ``N_d`` as the finite population
    correction (sampling without replacement; see :func:`with_frame_sizes`).
    """
    spec = dict(data.designs.get(table, {}))
    if spec.get("population") == "admin_cases" and "_frame_weight" in rows.columns:
        spec.setdefault("weights", "_frame_weight")
        spec.setdefault("fpc", "_frame_N")
    weights = spec.get("weights") if spec.get("weights") in rows.columns else None
    cluster = spec.get("cluster") if spec.get("cluster") in rows.columns else None
    strata = spec.get("strata") if spec.get("strata") in rows.columns else "department_id"
    fpc = spec.get("fpc") if spec.get("fpc") in rows.columns else None
    # a department with a single visit (or respondent) cannot estimate its own variance: R's
    # "adjust" rule centres it at the grand mean instead of dropping its variance
    return Design(weights=weights, strata=strata, cluster=cluster, fpc=fpc, lonely_psu="adjust")


def _visit_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Combine raters: one row per visit, the mean of its raters' values."""
    num = df.select_dtypes("number").columns
    keep = ["department_id", "visit_id"]
    return df.groupby(keep, sort=True, as_index=False)[list(num)].mean()


def _values(ind: Indicator, df: pd.DataFrame, framework: Framework, preset: str | None) -> np.ndarray:
    x = df[ind.field].to_numpy(dtype=float)
    if ind.measure == "likert":
        return likert_item_scores(x, framework.likert_scores(ind.scale, ind.transform.preset or preset))
    if ind.measure == "share":
        valid = ~np.isnan(x)
        return np.where(valid, np.isin(x, ind.success).astype(float), np.nan)
    return x


def estimate_indicators(data: ChannelData, framework: Framework, *, level: float | None = None,
                        preset: str | None = None, departments=None) -> IndicatorEstimates:
    """Estimate every indicator of ``framework`` for every department with data.

    Returns
    -------
    IndicatorEstimates
        ``frame`` has one row per department x indicator with data:
        ``raw_value`` (mean Likert item score on the preset's 0-100 scale, a
        share, a mean, or a census ratio), ``raw_se``, ``score`` (0-100),
        ``se``, ``ci_low``/``ci_high`` (t interval with the design's degrees of
        freedom for sampled channels), ``n`` (valid responses or records),
        ``top2``/``bottom2`` (满意率 and 差评率 of Likert items), ``weight``
        (nominal share of the index), ``slope`` (d score / d raw), ``census``.
    """
    level = framework.confidence_level if level is None else level
    nominal = framework.nominal_weights()
    rows_out: list[pd.DataFrame] = []
    influence: dict[str, pd.DataFrame] = {}
    designs: dict[str, Design] = {}
    values: dict[str, pd.DataFrame] = {}
    by_table: dict[str, list[Indicator]] = {}
    for ind in framework.indicators:
        by_table.setdefault(ind.table, []).append(ind)

    for table, inds in by_table.items():
        df = data.tables.get(table)
        if df is None or df.empty:
            continue
        if departments is not None:
            df = df[df["department_id"].isin(departments)]
        census = TABLES[table].channel not in ("S", "C", "V")
        if census:
            rows_out.append(_census(df, inds, nominal))
            continue
        if table == "visits":
            df = _visit_rows(df)
        df = with_frame_sizes(data, table, df)
        design = table_design(data, table, df)
        cols = ["department_id"] + [c for c in (design.weights, design.strata, design.cluster, design.fpc)
                                    if c and c != "department_id"]
        rows = df[cols].reset_index(drop=True).copy()
        for ind in inds:
            rows[ind.id] = _values(ind, df, framework, preset)
            if ind.measure == "likert":
                codes = df[ind.field].to_numpy(dtype=float)
                scale = framework.scales[ind.scale]
                valid = np.isin(codes, scale.codes)
                rows[f"_top2_{ind.id}"] = np.where(valid, np.isin(codes, scale.top_box), np.nan)
                rows[f"_bot2_{ind.id}"] = np.where(valid, np.isin(codes, scale.bottom_box), np.nan)
        w = rows[design.weights].to_numpy(float) if design.weights else np.ones(len(rows))
        z = rows[cols].copy()
        for ind in inds:
            est = design_mean(rows, ind.id, design, by="department_id", level=level)
            est = est.set_index("department_id")
            y = rows[ind.id].to_numpy(float)
            a = ~np.isnan(y)
            ybar = rows["department_id"].map(est["estimate"]).to_numpy(float)
            wsum = pd.Series(np.where(a, w, 0.0)).groupby(rows["department_id"].to_numpy()).transform("sum").to_numpy()
            with np.errstate(invalid="ignore", divide="ignore"):
                z[f"z_{ind.id}"] = np.where(a & (wsum > 0), (np.nan_to_num(y) - ybar) / wsum, 0.0)
            frame = pd.DataFrame({
                "department_id": est.index, "indicator_id": ind.id, "raw_value": est["estimate"].to_numpy(),
                "raw_se": est["se"].to_numpy(), "n": est["n"].to_numpy(), "df": est["df"].to_numpy(),
                "n_eff": est["n_eff"].to_numpy(),
            })
            if ind.measure == "likert":
                for key, col in (("top2", f"_top2_{ind.id}"), ("bottom2", f"_bot2_{ind.id}")):
                    sub = design_mean(rows, col, design, by="department_id", level=level).set_index("department_id")
                    frame[key] = frame["department_id"].map(sub["estimate"]).to_numpy()
            frame = _borrow_for_single_units(frame[frame["n"] > 0], ind)
            rows_out.append(_finish(frame, ind, nominal, level, census=False))
        influence[table] = z
        designs[table] = design
        values[table] = rows

    if rows_out:
        out = pd.concat([r for r in rows_out if len(r)], ignore_index=True)
    else:
        out = pd.DataFrame(columns=INDICATOR_COLUMNS)
    meta = {i.id: i for i in framework.indicators}
    out["indicator"] = out["indicator_id"].map(lambda k: meta[k].name)
    out["indicator_en"] = out["indicator_id"].map(lambda k: meta[k].name_en)
    out["dimension_id"] = out["indicator_id"].map(lambda k: meta[k].dimension)
    out["channel"] = out["indicator_id"].map(lambda k: meta[k].channel)
    out["year"] = data.year
    order = {i.id: k for k, i in enumerate(framework.indicators)}
    out = out.sort_values(["department_id", "indicator_id"], key=lambda s: s.map(order) if s.name == "indicator_id"
                          else s).reset_index(drop=True)
    for c in INDICATOR_COLUMNS:
        if c not in out.columns:
            out[c] = np.nan
    return IndicatorEstimates(out[INDICATOR_COLUMNS], influence, designs, values)


def wilson_interval(p, m, q):
    """Wilson score interval for a proportion ``p`` with effective sample size ``m``.

    ``m`` is the Korn-Graubard effective sample size ``p(1 - p) / se^2``
    (capped at the number of responses), or the Kish effective size when the
    estimate is 0 or 1 and the linearised variance vanishes.  Unlike the Wald
    interval it does not collapse to a point at 0 or 1 (Wilson 1927).
    """
    p = np.asarray(p, float)
    m = np.asarray(m, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        q2 = q * q / m
        centre = (p + q2 / 2) / (1 + q2)
        half = q / (1 + q2) * np.sqrt(p * (1 - p) / m + q * q / (4 * m * m))
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def _finish(frame: pd.DataFrame, ind: Indicator, nominal, level: float, *, census: bool) -> pd.DataFrame:
    """Scores, standard errors and intervals of one indicator.

    The score interval is the raw interval mapped through the (monotone)
    transform: a t interval on the design degrees of freedom for means, a
    Wilson interval on the effective sample size for shares.  The score's
    ``se`` is that interval's half-width over its critical value (for linear
    transforms exactly ``|slope| * raw_se``; where distance-to-frontier clips,
    it stays honest instead of collapsing to 0).  ``slope`` is the factor
    that carries the influence values to the score scale in the index
    variance; ``extra_var`` is variance that the influence values cannot carry
    (an estimate at 0 or 1 whose linearised variance vanishes).
    """
    raw = frame["raw_value"].to_numpy(float)
    raw_se = frame["raw_se"].to_numpy(float)
    t = ind.transform
    frame = frame.copy()
    frame["indicator_id"] = ind.id
    frame["score"] = score(t, raw)
    if census:
        frame["slope"] = 0.0
        frame["se"] = 0.0
        frame["extra_var"] = 0.0
        frame["ci_low"] = frame["score"]
        frame["ci_high"] = frame["score"]
    else:
        dfree = frame.pop("df").to_numpy(float)
        q = np.where(np.isfinite(dfree) & (dfree > 0), stats.t.ppf(0.5 + level / 2, np.maximum(dfree, 1)),
                     stats.norm.ppf(0.5 + level / 2))
        if ind.measure == "share":
            n = frame["n"].to_numpy(float)
            with np.errstate(invalid="ignore", divide="ignore"):
                kg = np.where(raw_se > 0, raw * (1 - raw) / raw_se ** 2, np.nan)
            kish = frame["n_eff"].to_numpy(float) if "n_eff" in frame else n
            m = np.where(np.isfinite(kg) & (kg > 0), np.minimum(kg, n), kish)
            lo_raw, hi_raw = wilson_interval(raw, m, q)
        else:
            lo_raw, hi_raw = raw - q * raw_se, raw + q * raw_se
        lo, hi = score_interval(t, lo_raw, hi_raw)
        # scores live on 0-100: an interval is cut to the parameter space (a t interval on three
        # site visits can otherwise reach past 100)
        lo, hi = np.clip(lo, 0.0, 100.0), np.clip(hi, 0.0, 100.0)
        se = (hi - lo) / (2 * q)
        direction = -1.0 if (t.kind == "dtf" and t.frontier < t.worst) else 1.0
        with np.errstate(invalid="ignore", divide="ignore"):
            own = (raw_se > 0) & ~frame.get("borrowed", pd.Series(False, index=frame.index)).to_numpy(bool)
            frame["slope"] = np.where(own, direction * se / raw_se, 0.0)
        frame["extra_var"] = np.where(own, 0.0, se ** 2)
        frame["se"] = se
        frame["ci_low"], frame["ci_high"] = lo, hi
    frame["weight"] = nominal[ind.id]
    frame["census"] = census
    return frame.drop(columns=[c for c in ("df", "n_eff", "borrowed") if c in frame.columns])


def _borrow_for_single_units(frame: pd.DataFrame, ind: Indicator) -> pd.DataFrame:
    """Standard error for a department with a single sampled unit (one visit, one respondent).

    One unit cannot show its own variability, and its linearised variance is
    0.  Such a department borrows the city's pooled within-department
    variance: ``raw_se = sqrt(median_d(raw_se_d^2 * n_d) / n)`` over the
    departments with at least two units, with a normal interval; the row is
    marked so that the index variance adds it as an independent term.  Shares
    need no borrowing (their Wilson interval already has width at n = 1).
    """
    frame = frame.copy()
    small = (frame["n"] < 2).to_numpy()
    frame["borrowed"] = False
    if ind.measure == "share" or not small.any():
        return frame
    others = frame[~small & (frame["raw_se"] > 0)]
    if others.empty:
        return frame
    pooled = float(np.median(others["raw_se"] ** 2 * others["n"]))
    frame.loc[small, "raw_se"] = np.sqrt(pooled / frame.loc[small, "n"])
    frame.loc[small, "df"] = np.inf
    frame.loc[small, "borrowed"] = True
    return frame


def _census(df: pd.DataFrame, inds: list[Indicator], nominal) -> pd.DataFrame:
    """Census indicators per department from the records or their sufficient statistics.

    A ratio is Σ field / Σ denominator (``n`` = records with a denominator),
    a mean Σ field / records with the field; :func:`surveys.aggregate.department_sums`
    gives the sums from either form, so both give the same values.
    """
    out = []
    fields = list(dict.fromkeys(f for ind in inds for f in (ind.field, ind.denominator)
                                if f and (ind.measure == "ratio" or f == ind.field)))
    s = department_sums(df, fields)
    for ind in inds:
        if ind.measure == "ratio":
            den = s[ind.denominator]
            raw = s[ind.field] / den.where(den > 0)
            n = s[ind.denominator + N_SUFFIX]
        else:
            n = s[ind.field + N_SUFFIX]
            raw = s[ind.field] / n.where(n > 0)
        frame = pd.DataFrame({"department_id": raw.index, "raw_value": raw.to_numpy(float), "raw_se": 0.0,
                              "n": n.reindex(raw.index).to_numpy()})
        frame = frame[np.isfinite(frame["raw_value"])]
        out.append(_finish(frame, ind, nominal, 0.95, census=True))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()
