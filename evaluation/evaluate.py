"""``evaluate``: one evaluation year as a composition of plain steps.

indicators (estimation) -> dimensions and index (aggregation) -> quality
figures -> gates and grades -> ranks with intervals.  Every setting that
changes a number is an argument and lands in the provenance.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from surveys.errors import MethodologyError, Problem
from surveys.framework import Framework
from surveys.schema import ChannelData

from .gates import apply_gates
from .index import aggregate, effective_weights, variance_shares
from .indicators import estimate_indicators
from .quality import quality_table
from .ranking import rank_intervals
from .result import DEPARTMENT_COLUMNS, EvaluationResult
from .weighting import apply_framework_weighting

TOOLKIT_VERSION = "0.1.0"


def sample_sizes(data: ChannelData) -> pd.DataFrame:
    """Per department: survey completes, callback interviews and distinct site visits used."""
    out = {}
    for col, table, key in (("n_survey", "survey", None), ("n_callback", "callback_interviews", None),
                            ("n_visit", "visits", "visit_id")):
        df = data.tables.get(table)
        if df is None or df.empty:
            out[col] = pd.Series(dtype=float)
            continue
        out[col] = df.groupby("department_id")[key].nunique() if key else df.groupby("department_id").size()
    return pd.DataFrame(out)


def evaluate(data: ChannelData, framework: Framework, *, level: float | None = None, seed: int = 0,
             preset: str | None = None, n_draws: int = 2000, adjustments: pd.DataFrame | None = None,
             variance: str = "linearisation", n_replicates: int = 500,
             robustness: bool = True, sensitivity_draws: int = 500,
             provenance: dict | None = None) -> EvaluationResult:
    """Evaluate one year of validated channel data under ``framework``.

    Parameters
    ----------
    data : validated canonical tables of the year (``surveys.ingest.load_year(...).data``)
    framework : the evaluation framework
    level : confidence level of every interval (default: the framework's)
    seed : seed of the rank simulation (and of any other random step)
    preset : Likert preset overriding the framework's (a methodology variant)
    n_draws : draws for the rank intervals
    adjustments : optional bonus / veto per department (see :mod:`evaluation.gates`)
    variance : ``"linearisation"`` (Taylor, default) or ``"bootstrap"`` (Rao-Wu bootstrap within
        department and channel, :mod:`evaluation.bootstrap`) for the index and dimension intervals
    n_replicates : bootstrap replicates
    robustness : also compute the tables of :func:`evaluation.robustness.robustness_tables`
        (simultaneous rank intervals and tie groups, shrinkage, funnel, sensitivity,
        reliability, inter-rater agreement, drivers and priorities) into ``extra``;
        ``tie_group``, ``rank_sim_low`` and ``rank_sim_high`` join ``departments``
    sensitivity_draws : Monte Carlo draws of the sensitivity analysis
    """
    level = framework.confidence_level if level is None else level
    framework, weighting = apply_framework_weighting(framework)
    year = data.year
    active = [d.id for d in framework.departments_in(year, include_optional=True)]
    est = estimate_indicators(data, framework, level=level, preset=preset)
    agg = aggregate(est, framework, level=level)
    dims, index = agg.dimensions, agg.index
    if variance not in ("linearisation", "bootstrap"):
        raise MethodologyError("Unknown variance method", [Problem(
            f"variance = {variance!r}", fix="use \"linearisation\" or \"bootstrap\"")])
    if variance == "bootstrap":
        from .bootstrap import bootstrap_index

        b_index, b_dims = bootstrap_index(est, framework, n_replicates=n_replicates, seed=seed + 7, level=level)
        index = index.drop(columns=["se", "ci_low", "ci_high"]).merge(
            b_index.rename(columns={"se_boot": "se", "ci_low_boot": "ci_low", "ci_high_boot": "ci_high"})
            [["department_id", "se", "ci_low", "ci_high"]], on="department_id", how="left")
        dims = dims.drop(columns=["se", "ci_low", "ci_high"]).merge(
            b_dims.rename(columns={"se_boot": "se", "ci_low_boot": "ci_low", "ci_high_boot": "ci_high"})
            [["department_id", "dimension_id", "se", "ci_low", "ci_high"]], on=["department_id", "dimension_id"],
            how="left")[dims.columns]
    quality = quality_table(data, est.frame, framework=framework, level=level)

    reg = pd.DataFrame([{
        "department_id": d.id, "department": d.name, "department_en": d.name_en, "category": d.category,
        "category_name": framework.category(d.category).name, "category_name_en": framework.category(d.category).name_en,
        "tier": d.tier} for d in framework.departments if d.id in active])
    deps = reg.merge(index, on="department_id", how="left")
    deps = deps[deps["index"].notna() | reg["department_id"].isin(set(q for q in quality["department_id"]))]
    sizes = sample_sizes(data)
    for c in ("n_survey", "n_callback", "n_visit"):
        deps[c] = deps["department_id"].map(sizes[c] if c in sizes else pd.Series(dtype=float)).fillna(0).astype(int)
    deps = apply_gates(deps, quality, framework, adjustments)
    deps.loc[deps["index"].isna(), "flags"] = (deps.loc[deps["index"].isna(), "flags"] + ";not_evaluated").str.strip(";")
    deps["year"] = year

    scored = deps[deps["index"].notna()]
    overall = rank_intervals(scored, level=level, n_draws=n_draws, seed=seed)
    by_cat = rank_intervals(scored, level=level, n_draws=n_draws, seed=seed + 1, group="category").rename(columns={
        "rank": "rank_in_category", "rank_low": "rank_in_category_low", "rank_high": "rank_in_category_high",
        "p_top": "p_top3_in_category", "p_bottom": "p_bottom3_in_category"})
    deps = deps.merge(overall.rename(columns={"p_top": "p_top3", "p_bottom": "p_bottom3"}), on="department_id",
                      how="left").merge(by_cat, on="department_id", how="left")
    for c in DEPARTMENT_COLUMNS:
        if c not in deps.columns:
            deps[c] = np.nan
    deps = deps.sort_values(["rank", "department_id"], na_position="last").reset_index(drop=True)

    ew = effective_weights(est.frame, framework)
    prov = {
        "toolkit_version": TOOLKIT_VERSION, "framework_id": framework.id, "framework_version": framework.version,
        "framework_sha256": framework.sha256, "seed": seed, "level": level,
        "likert_preset": preset or framework.likert_preset, "n_draws": n_draws,
        "variance_method": "taylor_linearisation" if variance == "linearisation" else
        f"bootstrap_rao_wu_{n_replicates}", "rank_method": "simulation_normal_independent",
        "weight_method": framework.weighting.method, "weights": weighting.to_dict(orient="records"),
        **(provenance or {}),
    }
    result = EvaluationResult(
        year=year, framework=framework, level=level, departments=deps[DEPARTMENT_COLUMNS],
        dimensions=dims, indicators=est.frame, quality=quality,
        extra={"effective_weights": ew, "weights": variance_shares(est.frame, index, framework),
               "weighting": weighting},
        provenance=prov,
    )
    if not robustness:
        return result
    from .robustness import robustness_tables

    tables = robustness_tables(result, data, seed=seed, level=level, sensitivity_draws=sensitivity_draws)
    ru = tables["rank_uncertainty"]
    overall = ru[ru["scope"] == "overall"].set_index("department_id")
    deps = result.departments.copy()
    for col in ("rank_sim_low", "rank_sim_high", "tie_group"):
        deps[col] = deps["department_id"].map(overall[col])
    return replace(result, departments=deps, extra={**result.extra, **tables})
