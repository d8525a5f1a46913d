"""The known truth: the framework applied to population expectations, without sampling noise."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from evaluation.transforms import score
from surveys.derive import derive_all
from surveys.framework import Framework, Indicator

from . import links
from .config import SimulationConfig
from .departments import Register

_BINARY = np.array([0.0, 1.0])
_LIKERT = np.arange(1.0, 6.0)


def population_values(config: SimulationConfig, register: Register, ids: list[str],
                      eta: dict[str, np.ndarray]) -> dict[tuple[str, str], tuple[str, np.ndarray, np.ndarray]]:
    """Population distribution or value of every sampled field, per department.

    Returns
    -------
    dict
        ``(table, field) -> ("dist", codes, probs)`` with ``probs`` of shape
        (departments, codes) over the valid answers (N/A is missing completely
        at random, so it does not change them), or ``("value", None, values)``.
    """
    p = register.params.loc[ids]
    ent = p["enterprise_share"].to_numpy()
    gamma = p["gamma"].to_numpy()
    s_survey, s_phone = links.survey_sd(config), links.phone_sd(config)

    def binary(prob):
        return ("dist", _BINARY, np.stack([1 - prob, prob], axis=-1))

    out: dict = {}
    for item in links.SURVEY_ITEMS:
        mu = eta[item] + links.item_offset(config, item)
        out[("survey", item)] = ("dist", _LIKERT, links.likert_population(config, mu, ent, s_survey))
    out[("callback_interviews", "cb_overall")] = (
        "dist", _LIKERT, links.likert_population(config, eta["cb_overall"] + config.callback_offset, ent, s_phone))
    out[("callback_interviews", "within_promised")] = binary(links.share("within_promised", eta["within_promised"]))
    out[("callback_interviews", "trips")] = ("dist", np.arange(4.0), links.trips_distribution(eta["trips"]))
    out[("callback_interviews", "told_once")] = binary(links.share("told_once", eta["told_once"]))
    out[("callback_interviews", "improper_demand")] = binary(1 - links.share("no_improper", eta["no_improper"]))
    out[("visits", "wait_minutes")] = ("value", None, links.wait_mean(eta["wait"]))
    out[("visits", "checklist_score")] = ("value", None, links.checklist_mean(eta["checklist"],
                                                                              register.checklist_ease))
    out[("visits", "scenario_all_listed")] = binary(links.share("scenario", eta["scenario"]))
    out[("guides", "accurate")] = binary(links.share("guide_accurate", eta["guide_accurate"]))
    out[("ratings", "level")] = ("dist", _LIKERT, links.rating_distribution(config, eta["cb_overall"], ent, gamma))
    return out


def indicator_truth(framework: Framework, population: dict, census: dict[str, pd.DataFrame],
                    ids: list[str]) -> pd.DataFrame:
    """True raw value and score of every indicator for every department.

    Likert indicators: the expected item score under the framework's preset
    over the population's respondent mix; shares: probabilities of the
    success codes; means: population means.  Fields of the censuses
    (administrative tables without the claims inflation, 好差评 ratings) are
    ratios over the census itself, which has no sampling error.  Fields the
    generator does not produce give NaN.

    Returns
    -------
    DataFrame
        ``department_id, indicator_id, dimension_id, raw_value, score, top2,
        bottom2`` (top2 / bottom2 = probability of codes 4-5 / 1-2 for Likert
        indicators, NaN otherwise).
    """
    census = derive_all(census)
    rows = []
    for ind in framework.indicators:
        raw, top2, bottom2 = _raw(framework, ind, population.get((ind.table, ind.field)), census, ids)
        rows.append(pd.DataFrame({
            "department_id": ids, "indicator_id": ind.id, "dimension_id": ind.dimension, "raw_value": raw,
            "score": score(ind.transform, raw), "top2": top2, "bottom2": bottom2}))
    return pd.concat(rows, ignore_index=True)


def _raw(framework: Framework, ind: Indicator, pop, census: dict[str, pd.DataFrame], ids: list[str]):
    nan = np.full(len(ids), np.nan)
    if pop is None:
        table = census.get(ind.table)
        if ind.measure != "ratio" or table is None or ind.field not in table or ind.denominator not in table:
            return nan, nan, nan
        sums = table.groupby("department_id")[[ind.field, ind.denominator]].sum().reindex(ids)
        return (sums[ind.field] / sums[ind.denominator]).to_numpy(), nan, nan
    kind, codes, values = pop
    if kind == "value":
        return values, nan, nan
    if ind.measure == "likert":
        scores = framework.likert_scores(ind.scale, ind.transform.preset)
        weights = np.array([scores.get(c, np.nan) for c in codes])
        scale = framework.scales[ind.scale]
        top = np.isin(codes, scale.top_box)
        bottom = np.isin(codes, scale.bottom_box)
        return values @ weights, values[:, top].sum(axis=1), values[:, bottom].sum(axis=1)
    if ind.measure == "share":
        return values[:, np.isin(codes, ind.success)].sum(axis=1), nan, nan
    return values @ codes, nan, nan


def truth_tables(config: SimulationConfig, register: Register, year: int, ids: list[str], q: np.ndarray,
                 indicators: pd.DataFrame, population: dict) -> pd.DataFrame:
    """One row per department: true scores, index, ranks and the misconduct parameters.

    Columns: ``year, department_id, department, department_en, category,
    tier, phi, gamma, honest, q``, one column per dimension id (true
    dimension score: within-dimension weights renormalised over the
    indicators present), ``index`` (dimension weights / 100, renormalised over
    the dimensions present), ``rank`` (1 = best) and ``rank_in_category``,
    ``grade``, the expected gate figures ``g1`` (percent), ``g2`` (percentage
    points), ``completion``, ``wrong_number_rate``, ``never_handled_rate``, and
    one column per indicator id with its true score.
    """
    fw = register.framework
    p = register.params.loc[ids]
    wide = indicators.pivot(index="department_id", columns="indicator_id", values="score").reindex(ids)
    dims = {}
    for dim in fw.dimensions:
        inds = [i for i in fw.indicators if i.dimension == dim.id]
        dims[dim.id] = _weighted(wide[[i.id for i in inds]].to_numpy(), np.array([i.weight for i in inds]))
    dim_frame = pd.DataFrame(dims, index=ids)
    index = _weighted(dim_frame.to_numpy(), np.array([d.weight for d in fw.dimensions]))
    disp = links.disposition_probabilities(config, p["phi"].to_numpy())
    _, _, cb = population[("callback_interviews", "cb_overall")]
    _, _, hc = population[("ratings", "level")]
    out = pd.DataFrame({
        "year": year, "department_id": ids, "department": p["department"].to_numpy(),
        "department_en": p["department_en"].to_numpy(), "category": p["category"].to_numpy(),
        "tier": p["tier"].to_numpy(), "phi": p["phi"].to_numpy(), "gamma": p["gamma"].to_numpy(),
        "honest": ((p["phi"] == 0) & (p["gamma"] == 0)).to_numpy(), "q": q,
    })
    for k in dim_frame.columns:
        out[k] = dim_frame[k].to_numpy()
    out["index"] = index
    out["rank"] = out["index"].rank(ascending=False, method="min").astype(int)
    out["rank_in_category"] = out.groupby("category")["index"].rank(ascending=False, method="min").astype(int)
    out["grade"] = [fw.grade_for(x).grade for x in index]
    out["g1"] = links.expected_g1(config, p["phi"].to_numpy())
    out["g2"] = 100.0 * (hc[:, 3:].sum(axis=1) - cb[:, 3:].sum(axis=1))
    out["completion"] = disp["complete"] + disp.get("partial", 0.0)
    out["wrong_number_rate"] = disp["wrong_number"]
    out["never_handled_rate"] = disp["never_handled"]
    for k in wide.columns:
        out[k] = wide[k].to_numpy()
    return out


def _weighted(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Row-wise weighted mean over the non-missing columns (weights renormalised)."""
    present = ~np.isnan(values)
    w = np.where(present, weights[None, :], 0.0)
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (np.nan_to_num(values) * w).sum(axis=1) / total, np.nan)


def true_changes(years: dict, framework: Framework) -> pd.DataFrame:
    """True index change of every department present in two consecutive simulated years.

    A successor is compared with its predecessors combined: the case-volume
    weighted mean of their true indices in the previous year (the crosswalk
    of the framework).

    Returns
    -------
    DataFrame
        ``year, department_id, previous_year, predecessors`` (";"-joined),
        ``index, index_previous, change``.
    """
    rows = []
    ordered = sorted(years)
    for prev, year in itertools.pairwise(ordered):
        before = years[prev].truth.set_index("department_id")
        volume = years[prev].params.set_index("department_id")["volume"]
        for _, r in years[year].truth.iterrows():
            pred = [d for d in framework.predecessors(r["department_id"], year) if d in before.index]
            if not pred:
                continue
            vol = volume.loc[pred].to_numpy()
            previous = float((before.loc[pred, "index"].to_numpy() * vol).sum() / vol.sum())
            rows.append({"year": year, "department_id": r["department_id"], "previous_year": prev,
                         "predecessors": ";".join(pred), "index": r["index"], "index_previous": previous,
                         "change": r["index"] - previous})
    cols = ["year", "department_id", "previous_year", "predecessors", "index", "index_previous", "change"]
    return pd.DataFrame(rows, columns=cols)
