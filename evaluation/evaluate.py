"""``evaluate``: one evaluation year as a composition of plain steps.

indicators (estimation) -> dimensions and index (aggregation) -> quality
figures -> gates and grades -> ranks with intervals (once, overall and
within category) -> optionally the robustness, reliability and priority
tables.  Every setting that changes a number is an argument and lands in
the provenance; every random step draws from its own named stream of the
one seed (:mod:`evaluation.seeds`), so the API, the command line and the
notebooks give the same numbers for the same seed.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from surveys.errors import MethodologyError, Problem
from surveys.framework import Framework
from surveys.schema import ChannelData

from .bootstrap import bootstrap_index
from .citywide import city_table
from .comments import comment_themes
from .coverage import channel_coverage, checks, collected_channels, missing_columns
from .gates import apply_gates
from .index import aggregate, effective_weights, variance_shares
from .indicators import design_summary, estimate_indicators
from .quality import quality_table
from .problems import build_problems, common_problems, follow_up
from .ranking import rank_uncertainty
from .result import (DEPARTMENT_COLUMNS, Comments, Coverage, EvaluationResult, Findings, Provenance, Ranking,
                     Weighting, toolkit_version)
from .robustness import robustness_tables
from .seeds import stream
from .weighting import apply_framework_weighting

VARIANCE_METHODS = ("linearisation", "bootstrap")
#: fewest bootstrap replicates that give a usable standard error and percentile interval
MIN_REPLICATES = 50
#: fewest draws of a rank simulation whose interval ends are more than noise
MIN_DRAWS = 200

#: columns of ``departments`` that come from the ranking step
RANK_COLUMNS = {"rank": "rank", "rank_low": "rank_low", "rank_high": "rank_high", "rank_sim_low": "rank_sim_low",
                "rank_sim_high": "rank_sim_high", "tie_group": "tie_group", "p_top3": "p_top3",
                "p_bottom3": "p_bottom3"}
CATEGORY_RANK_COLUMNS = {"rank": "rank_in_category", "rank_low": "rank_in_category_low",
                         "rank_high": "rank_in_category_high"}


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


def _check_settings(variance: str, n_replicates: int, n_draws: int, sensitivity_draws: int, level: float) -> None:
    problems = []
    if variance not in VARIANCE_METHODS:
        problems.append(Problem(f"variance = {variance!r}", fix=f"use one of {list(VARIANCE_METHODS)}"))
    if variance == "bootstrap" and n_replicates < MIN_REPLICATES:
        problems.append(Problem(f"{n_replicates} bootstrap replicates", value=n_replicates,
                                fix=f"use at least {MIN_REPLICATES} replicates (500 or more for intervals)"))
    if n_draws < MIN_DRAWS:
        problems.append(Problem(f"{n_draws} draws for the rank intervals", value=n_draws,
                                fix=f"use at least {MIN_DRAWS} draws"))
    if sensitivity_draws < 1:
        problems.append(Problem(f"{sensitivity_draws} sensitivity draws", value=sensitivity_draws,
                                fix="use a positive number of draws (a few hundred give about two decimals)"))
    if not 0.5 <= level < 1:
        problems.append(Problem(f"confidence level {level!r}", value=level,
                                fix="use a level in [0.5, 1), as the framework's confidence_level"))
    if problems:
        raise MethodologyError("Invalid evaluation settings", problems)


def evaluate(data: ChannelData, framework: Framework, *, seed: int, level: float | None = None,
             preset: str | None = None, n_draws: int = 2000, n_sim: int = 5000,
             adjustments: pd.DataFrame | None = None, variance: str = "linearisation", n_replicates: int = 500,
             robustness: bool = True, sensitivity_draws: int = 500,
             rectification: pd.DataFrame | None = None) -> EvaluationResult:
    """Evaluate one year of validated channel data under ``framework``.

    Parameters
    ----------
    data : validated canonical tables of the year (``surveys.ingest.load_year(...).data``)
    framework : the evaluation framework
    seed : the project's seed; every random step draws from its own named
        stream of it (:func:`evaluation.seeds.stream`, keyed by the year)
    level : confidence level of every interval (default: the framework's ``confidence_level``)
    preset : Likert preset overriding the framework's (a methodology variant)
    n_draws : draws of the marginal rank simulation (at least :data:`MIN_DRAWS`)
    n_sim : draws of the max-t critical values of the simultaneous rank intervals
    adjustments : optional bonus / veto per department (see :mod:`evaluation.gates`)
    variance : ``"linearisation"`` (Taylor, default) or ``"bootstrap"`` (Rao-Wu bootstrap within
        department and channel, :mod:`evaluation.bootstrap`) for the index and dimension intervals
    n_replicates : bootstrap replicates (at least :data:`MIN_REPLICATES`)
    robustness : also compute the robustness, reliability and priority tables
        (:func:`evaluation.robustness.robustness_tables`)
    sensitivity_draws : N of the sensitivity design
    rectification : last year's problems as the departments returned them in the 整改 workbook
        (``surveys.rectification.read_rectification``); judged again from this year's evidence
        (:func:`evaluation.problems.follow_up`)

    Returns
    -------
    EvaluationResult
        See :mod:`evaluation.result` for every table and its columns.
    """
    level = framework.confidence_level if level is None else float(level)
    _check_settings(variance, n_replicates, n_draws, sensitivity_draws, level)
    framework, record = apply_framework_weighting(framework)
    year = data.year
    est = estimate_indicators(data, framework, level=level, preset=preset)
    agg = aggregate(est, framework, level=level)
    dims, index = agg.dimensions, agg.index
    if variance == "bootstrap":
        b_index, b_dims = bootstrap_index(est, framework, n_replicates=n_replicates,
                                          seed=stream(seed, "bootstrap", year), level=level)
        boot = {"se_boot": "se", "ci_low_boot": "ci_low", "ci_high_boot": "ci_high"}
        index = index.drop(columns=["se", "ci_low", "ci_high"]).merge(
            b_index.rename(columns=boot)[["department_id", "se", "ci_low", "ci_high"]], on="department_id",
            how="left")
        dims = dims.drop(columns=["se", "ci_low", "ci_high"]).merge(
            b_dims.rename(columns=boot)[["department_id", "dimension_id", "se", "ci_low", "ci_high"]],
            on=["department_id", "dimension_id"], how="left")[dims.columns]
    quality = quality_table(data, est.frame, framework, level=level)

    active = framework.departments_in(year, include_optional=True)
    with_data = {d for df in data.tables.values() if df is not None and "department_id" in df
                 for d in df["department_id"].unique()}
    listed = [d for d in active if not d.optional or d.id in with_data]
    reg = pd.DataFrame([{
        "department_id": d.id, "department": d.name, "department_en": d.name_en, "category": d.category,
        "category_name": framework.category(d.category).name,
        "category_name_en": framework.category(d.category).name_en, "tier": d.tier} for d in listed])
    index, short = _enough_weight(index, est.frame, data, framework)
    deps = reg.merge(index, on="department_id", how="left")
    sizes = sample_sizes(data)
    for c in ("n_survey", "n_callback", "n_visit"):
        deps[c] = deps["department_id"].map(sizes[c] if c in sizes else pd.Series(dtype=float)).fillna(0).astype(int)
    deps = apply_gates(deps, quality, framework, adjustments, collected=collected_channels(data))
    deps["flags"] = _with_data_flags(deps, data, framework)
    # A department without an index is listed, not dropped: no gate verdicts, the reason in words.
    unscored = deps["index"].isna()
    deps.loc[unscored, "flags"] = "not_evaluated"
    deps["not_evaluated_reason"] = np.select(
        [~unscored, deps["department_id"].isin(short), deps["department_id"].isin(with_data)],
        ["", "missing_weight", "no_scored_indicator"], "no_data")
    deps["year"] = year

    ranks = rank_uncertainty(deps, level=level, n_draws=n_draws, n_sim=n_sim, seed=stream(seed, "rank", year))
    deps = _with_ranks(deps, ranks)

    prov = Provenance(
        toolkit_version=toolkit_version(), framework_id=framework.id, framework_version=framework.version,
        framework_sha256=framework.sha256, seed=seed, level=level,
        settings={"likert_preset": preset or framework.likert_preset, "n_draws": n_draws, "n_sim": n_sim,
                  "variance": variance, "n_replicates": n_replicates if variance == "bootstrap" else None,
                  "robustness": robustness, "sensitivity_draws": sensitivity_draws if robustness else None,
                  "adjustments": adjustments is not None and len(adjustments) > 0},
        methods={"variance": "taylor_linearisation" if variance == "linearisation" else "bootstrap_rao_wu",
                 "rank": "simulation_t_design_df_independent",
                 "rank_simultaneous": "max_t_stepdown_romano_wolf", "share_interval": framework.share_interval,
                 "gate_rule": framework.gate_rule,
                 "weights": framework.weighting.method},
        weights=tuple(record.to_dict(orient="records")))
    result = EvaluationResult(
        year=year, framework=framework, level=level, departments=deps[DEPARTMENT_COLUMNS].reset_index(drop=True),
        dimensions=dims, indicators=est.frame, quality=quality, ranking=Ranking(rank_uncertainty=ranks),
        weighting=Weighting(effective=effective_weights(est.frame, framework),
                            variance_shares=variance_shares(est.frame, index, framework), record=record),
        coverage=Coverage(channels=channel_coverage(data, framework), checks=checks(data, framework),
                          designs=design_summary(data), missing_columns=missing_columns(data, framework)),
        provenance=prov, variance_components=agg.variance_components,
        comments=Comments(themes=comment_themes(data, framework)))
    if robustness:
        rob, rel, pri = robustness_tables(result, data, rng=stream(seed, "sensitivity", year),
                                          sensitivity_draws=sensitivity_draws)
        result = replace(result, robustness=rob, reliability=rel, priorities=pri)
    return replace(result, findings=findings(result, data, rectification))


def findings(result: EvaluationResult, data: ChannelData, rectification: pd.DataFrame | None) -> Findings:
    """The citywide figures, the problem lists and last year's follow-up of an evaluated year."""
    fw = result.framework
    drivers = result.priorities.drivers if result.priorities is not None else None
    problems, checked = build_problems(data, fw, result.departments, result.indicators, result.weighting.effective,
                                       result.quality, level=result.level, drivers=drivers,
                                       comment_themes=result.comments.themes)
    successors = {p: e.successor for e in fw.crosswalk if e.year == result.year for p in e.predecessors}
    return Findings(
        city=city_table(result.year, result.departments, result.dimensions, result.quality, fw.roles.reform_figures,
                        level=result.level),
        problems=problems, common=common_problems(problems, result.year),
        follow_up=follow_up(rectification, problems, checked, year=result.year, successors=successors))


def _enough_weight(index: pd.DataFrame, indicators: pd.DataFrame, data: ChannelData,
                   framework: Framework) -> tuple[pd.DataFrame, set[str]]:
    """The index without the departments whose scored indicators carry too little of its weight.

    Over the indicators whose table has rows this year (a table not
    collected is missing for everyone, and renormalised away alike), a
    department whose scored indicators carry less than ``1 -
    framework.max_missing_weight`` of the nominal weight is not evaluated:
    its index would rest on a different, smaller framework than the others'.
    Returns ``(index, ids set aside)``.
    """
    nominal = framework.nominal_weights()
    have = {name for name, df in data.tables.items() if df is not None and len(df)}
    possible = sum(w for iid, w in nominal.items() if framework.indicator(iid).table in have)
    scored = indicators[indicators["score"].notna()]
    present = scored.groupby("department_id")["indicator_id"].agg(lambda s: sum(nominal[i] for i in s))
    share = (present / possible).reindex(index["department_id"]).fillna(0.0) if possible > 0 else None
    if share is None:
        return index, set()
    short = set(share[share < 1 - framework.max_missing_weight - 1e-12].index)
    return index[~index["department_id"].isin(short)].reset_index(drop=True), short


def _with_data_flags(deps: pd.DataFrame, data: ChannelData, framework: Framework) -> pd.Series:
    """The gate flags plus the plausibility rules the department's data set off in ``flag`` mode.

    The quality screens (straight-lining, speeders, ...) flag respondents,
    not departments: they stay in ``results/screen_flags.csv``.
    """
    rules = {name for name, value in vars(framework.plausibility).items() if isinstance(value, str)}
    flags = data.flags if data.flags is not None else pd.DataFrame(columns=["department_id", "flag"])
    found = flags[flags["flag"].isin(rules)].groupby("department_id")["flag"].apply(
        lambda s: sorted(set(s)))
    own = deps["department_id"].map(found)
    return pd.Series([";".join([*(f.split(";") if f else []), *(extra if isinstance(extra, list) else [])])
                      for f, extra in zip(deps["flags"].fillna(""), own)], index=deps.index)


def _with_ranks(deps: pd.DataFrame, ranks: pd.DataFrame) -> pd.DataFrame:
    """The departments with their rank columns from the ranking step, best first (unranked last)."""
    overall = ranks[ranks["scope"] == "overall"].set_index("department_id")
    within = ranks[ranks["scope"] == "category"].set_index("department_id")
    deps = deps.copy()
    for source, target in RANK_COLUMNS.items():
        deps[target] = deps["department_id"].map(overall[source])
    for source, target in CATEGORY_RANK_COLUMNS.items():
        deps[target] = deps["department_id"].map(within[source])
    for c in DEPARTMENT_COLUMNS:
        if c not in deps.columns:
            deps[c] = np.nan
    return deps.sort_values(["rank", "department_id"], na_position="last").reset_index(drop=True)
