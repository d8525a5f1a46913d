"""Drivers of overall satisfaction and improvement priorities.

Importance–performance analysis (the GB/T 19038-2009 four-quadrant chart)
    *Importance* of each survey-measured indicator is its contribution to
    the overall-satisfaction item (the framework's ``[roles] outcome``) in a design-weighted
    linear regression of the overall item score on the other survey Likert
    items, fitted city-wide and per comparison category:

    - ``method="lmg"`` (default): the LMG / Shapley decomposition of R²
      (Lindeman, Merenda & Gold 1980; Grömping 2006, R ``relaimpo``
      ``type="lmg"``): each item's R² increase averaged over all orders of
      entry.  Shares are non-negative and sum to R², so correlated items are
      not played off against each other;
    - ``method="wls"``: the weighted least-squares coefficient (all items are
      on the same 0-100 score scale).

    Regressions use complete cases (listwise deletion) and the survey
    weights (weighted covariance matrix; the weighted least-squares
    coefficients from it, with sandwich standard errors clustered on the
    design's PSUs when declared, else HC1, as ``statsmodels`` WLS gives them).  A category with fewer than ``min_n`` complete
    respondents borrows the city-wide importance (``importance_source``).

    *Performance* is the score: the department's, or the unweighted mean over
    the departments of the category or the city (each department counts
    once, as in the ranking).

    *Quadrant*: an indicator is of high importance when its importance is at
    least the mean importance of the indicators in the chart, and of high
    performance when its performance is at least the mean performance of the
    chart's indicators.  High importance and low performance:
    ``concentrate_here`` (重点改进区); high and high: ``keep_up``
    (继续保持区); low and low: ``low_priority`` (次要改进区); low
    importance and high performance: ``possible_overkill`` (过度投入区).

Improvement priorities
    For every indicator of a department (all channels) that is not an
    outcome (``[roles] outcomes``: what the actions should achieve, never an
    action), the *gap* is the
    number of index points lost against a perfect score,
    ``gap = w_index (100 - score)`` with ``w_index`` the indicator's effective
    share of the department's index (:func:`evaluation.index.effective_weights`,
    renormalised over the indicators present).  The three largest gaps are the
    department's priorities; equal gaps follow framework order.
"""

from __future__ import annotations

from itertools import combinations
from math import factorial

import numpy as np
import pandas as pd

from surveys.errors import InsufficientDataError, MethodologyError, Problem
from surveys.framework import Framework

from .index import effective_weights
from .transforms import likert_item_scores

__all__ = [
    "DRIVER_COLUMNS",
    "PRIORITY_COLUMNS",
    "QUADRANTS",
    "importance",
    "importance_performance",
    "improvement_priorities",
    "item_scores",
    "lmg",
    "quadrant",
]

QUADRANTS = {
    "concentrate_here": ("重点改进区", "Concentrate here"),
    "keep_up": ("继续保持区", "Keep up the good work"),
    "low_priority": ("次要改进区", "Low priority"),
    "possible_overkill": ("过度投入区", "Possible overkill"),
}
DRIVER_COLUMNS = [
    "scope", "scope_id", "indicator_id", "indicator", "indicator_en", "item", "importance", "importance_method",
    "importance_source", "coef", "coef_se", "std_coef", "lmg", "r2", "n_model", "performance",
    "importance_split", "performance_split", "quadrant", "quadrant_zh", "quadrant_en",
]
PRIORITY_COLUMNS = [
    "department_id", "department", "category", "priority", "indicator_id", "indicator", "indicator_en",
    "dimension_id", "channel", "score", "weight", "gap", "category_mean_score", "category_best_score",
    "city_mean_score", "quadrant",
    "quadrant_zh", "quadrant_en",
]
IMPORTANCE_METHODS = ("lmg", "wls")


def _weighted_cov(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    mean = w @ x / w.sum()
    c = x - mean
    return (c * w[:, None]).T @ c / w.sum()


def lmg(cov) -> np.ndarray:
    """LMG (Shapley) shares of R² from the covariance matrix of ``[y, x_1, ..., x_p]``.

    Returns
    -------
    ndarray of length p, summing to the R² of the full regression.

    Notes
    -----
    ``R²(S) = c_S' C_SS^-1 c_S / var(y)`` for every subset S of predictors;
    ``LMG_j = sum_{S not containing j} |S|! (p - |S| - 1)! / p! [R²(S + j) - R²(S)]``.
    """
    cov = np.asarray(cov, dtype=float)
    p = cov.shape[0] - 1
    vy, cxy, cxx = cov[0, 0], cov[0, 1:], cov[1:, 1:]
    r2 = {(): 0.0}
    for size in range(1, p + 1):
        for s in combinations(range(p), size):
            idx = list(s)
            r2[s] = float(cxy[idx] @ np.linalg.solve(cxx[np.ix_(idx, idx)], cxy[idx]) / vy)
    out = np.zeros(p)
    for s, value in r2.items():
        weight = factorial(len(s)) * factorial(p - len(s) - 1) / factorial(p) if len(s) < p else 0.0
        for j in range(p):
            if j not in s:
                out[j] += weight * (r2[tuple(sorted(s + (j,)))] - value)
    return out


def item_scores(survey: pd.DataFrame, framework: Framework, *, preset: str | None = None,
                outcome: str) -> tuple[pd.DataFrame, str, list[str]]:
    """Item scores of the survey Likert indicators (one column per indicator id).

    Returns ``(frame, outcome id, predictor ids)``; predictors are the other
    Likert indicators read from the outcome's table, less the framework's
    other declared outcomes (``[roles] outcomes``).
    """
    ids = {i.id: i for i in framework.indicators}
    if outcome not in ids or ids[outcome].measure != "likert":
        raise MethodologyError("No overall-satisfaction item to explain", [Problem(
            f"indicator {outcome!r} is not a Likert indicator of the framework",
            fix="pass outcome= the id of the overall-satisfaction survey indicator")])
    table = ids[outcome].table
    items = [i for i in framework.indicators if i.table == table and i.measure == "likert" and i.field in survey]
    out = pd.DataFrame(index=survey.index)
    for ind in items:
        mapping = framework.likert_scores(ind.scale, ind.transform.preset or preset)
        out[ind.id] = likert_item_scores(survey[ind.field].to_numpy(float), mapping)
    # other outcomes (e.g. a sense of reform gain) are results too, not service aspects a department acts on
    return out, outcome, [i.id for i in items if i.id != outcome and i.id not in framework.roles.outcomes]


def importance(frame: pd.DataFrame, y: str, xs: list[str], *, weights: str | None = None,
               cluster: str | None = None) -> pd.DataFrame:
    """Design-weighted regression of ``y`` on ``xs``: coefficients and LMG shares.

    Returns
    -------
    DataFrame indexed by the predictors with ``coef``, ``coef_se`` (cluster-
    robust on ``cluster`` when given, else HC1), ``std_coef`` (coefficient x
    weighted SD of x / weighted SD of y), ``lmg`` (share of R²), ``r2``,
    ``n_model`` (complete cases used).

    Raises
    ------
    InsufficientDataError
        Fewer complete cases than predictors + 2, or a predictor without variance.
    """
    cols = [y, *xs]
    w = frame[weights].to_numpy(float) if weights else np.ones(len(frame))
    groups = pd.factorize(frame[cluster])[0] if cluster and cluster in frame else None
    return _importance(frame[cols].to_numpy(float), w, groups, xs)


def _importance(data: np.ndarray, w: np.ndarray, groups: np.ndarray | None, xs: list[str]) -> pd.DataFrame:
    """:func:`importance` on arrays: ``data`` = outcome then predictors, one row per respondent; ``groups``
    the cluster code of each row, or None for HC1."""
    keep = ~np.isnan(data).any(axis=1) & np.isfinite(w) & (w > 0)
    data, w = data[keep], w[keep]
    cov = _weighted_cov(data, w) if len(data) else np.zeros((data.shape[1], data.shape[1]))
    if len(data) < len(xs) + 2 or np.any(np.diag(cov) <= 0):
        raise InsufficientDataError("Too few usable answers to estimate driver importance", [Problem(
            f"{len(data)} complete respondent(s) for {len(xs)} predictors, or an item without variance",
            fix="pool categories or lower min_n")])
    if groups is not None:
        # clusters numbered among the rows used, in order of appearance (as pd.factorize would)
        groups = pd.factorize(groups[keep])[0]
    coef, coef_se = _wls(data, w, cov, groups)
    sd = np.sqrt(np.diag(cov))
    shares = lmg(cov)
    return pd.DataFrame({"coef": coef, "coef_se": coef_se, "std_coef": coef * sd[1:] / sd[0],
                         "lmg": shares, "r2": shares.sum(), "n_model": len(data)},
                        index=pd.Index(xs, name="indicator_id"))


def _wls(data: np.ndarray, w: np.ndarray, cov: np.ndarray, groups: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Slopes of the weighted regression of ``data[:, 0]`` on ``data[:, 1:]`` (with an intercept) and their
    sandwich standard errors, from the weighted covariance matrix and one pass over the rows for the scores.

    The slopes solve ``C_xx b = c_xy`` (``cov``, the weighted covariance of
    the complete cases): the normal equations in centred form, well
    conditioned for 0-100 item scores.  With the regressors centred at their
    weighted means the intercept's block of ``X'WX`` separates, so the slopes'
    covariance is ``B M B`` with ``B = (sum w C_xx)^-1`` and ``M`` the
    cross-product of the scores ``w x~ e``: summed per cluster with the
    correction ``G / (G - 1) (n - 1) / (n - k)`` (``groups`` given), or per
    row times ``n / (n - k)`` (HC1).  These are the estimates and standard
    errors of ``statsmodels`` ``WLS(...).fit(cov_type="cluster" | "HC1")``
    (``tests/test_drivers.py``), without its SVD of the whole design.
    """
    y, x = data[:, 0], data[:, 1:]
    total = w.sum()
    coef = np.linalg.solve(cov[1:, 1:], cov[1:, 0])
    xbar, ybar = w @ x / total, w @ y / total
    xc = x - xbar
    resid = (y - ybar) - xc @ coef
    scores = xc * (w * resid)[:, None]
    n, k = len(y), x.shape[1] + 1
    if groups is not None:
        n_groups = int(groups.max()) + 1 if len(groups) else 0
        summed = np.column_stack([np.bincount(groups, weights=scores[:, j], minlength=n_groups)
                                  for j in range(scores.shape[1])])
        meat = summed.T @ summed * (n_groups / (n_groups - 1.0) * (n - 1.0) / (n - k))
    else:
        meat = scores.T @ scores * (n / (n - k))
    bread = np.linalg.inv(total * cov[1:, 1:])
    return coef, np.sqrt(np.diag(bread @ meat @ bread))


def quadrant(imp: pd.Series, perf: pd.Series) -> tuple[pd.Series, float, float]:
    """Quadrant code per indicator, split at the mean importance and the mean performance."""
    si, sp = float(imp.mean()), float(perf.mean())
    hi, hp = imp >= si, perf >= sp
    code = np.select([hi & ~hp, hi & hp, ~hi & ~hp], ["concentrate_here", "keep_up", "low_priority"],
                     "possible_overkill")
    return pd.Series(code, index=imp.index), si, sp


def importance_performance(indicators: pd.DataFrame, departments: pd.DataFrame, survey: pd.DataFrame,
                           framework: Framework, *, preset: str | None = None, weights: str | None = None,
                           cluster: str | None = None, method: str = "lmg", outcome: str,
                           min_n: int = 100) -> pd.DataFrame:
    """Importance–performance table city-wide, per category and per department.

    Parameters
    ----------
    indicators : department x indicator table of the result (``score``)
    departments : departments table (``department_id``, ``category``)
    survey : the survey table (item codes, ``department_id``, design columns)
    preset : Likert preset of the item scores (the result's)
    weights, cluster : survey weight and PSU columns (``None``: unweighted / HC1)
    method : ``"lmg"`` or ``"wls"`` (which column becomes ``importance``)
    outcome : id of the overall-satisfaction indicator
    min_n : complete respondents a category needs for its own model

    Returns
    -------
    DataFrame with DRIVER_COLUMNS: ``scope`` ('city', 'category',
    'department') and ``scope_id``; per survey predictor ``importance`` (the
    chosen measure), ``importance_method``, ``importance_source`` ('city' or
    'category:<id>', the model used), ``coef``, ``coef_se``, ``std_coef``,
    ``lmg``, ``r2``, ``n_model``, ``performance`` (score), the two splits and
    the quadrant (code, zh, en).  Departments use their category's importance.
    """
    if method not in IMPORTANCE_METHODS:
        raise MethodologyError("Unknown importance method", [Problem(
            f"method {method!r}", fix=f"use one of {list(IMPORTANCE_METHODS)}")])
    scores, y, xs = item_scores(survey, framework, preset=preset, outcome=outcome)
    cat_of = departments.set_index("department_id")["category"]
    meta = {i.id: i for i in framework.indicators}
    # one array of the answers, and each respondent's category through its department's code: a category's
    # model reads its rows by index, never a copy of the survey frame
    data = scores[[y, *xs]].to_numpy(float)
    w = survey[weights].to_numpy(float) if weights else np.ones(len(survey))
    groups = pd.factorize(survey[cluster])[0] if cluster and cluster in survey else None
    dept_codes, depts = pd.factorize(survey["department_id"])
    categories = sorted(departments["category"].dropna().unique())
    cat_codes = np.append(pd.Index(categories).get_indexer(pd.Index(depts).map(cat_of)), -1)[dept_codes]
    complete = ~np.isnan(data).any(axis=1)
    city = _importance(data, w, groups, xs).assign(importance_source="city")
    models = {}
    for k, cat in enumerate(categories):
        rows = np.flatnonzero(cat_codes == k)
        models[cat] = (_importance(data[rows], w[rows], None if groups is None else groups[rows], xs).assign(
            importance_source=f"category:{cat}") if complete[rows].sum() >= min_n else city)
    perf = indicators[indicators["indicator_id"].isin(xs)].pivot_table(
        index="department_id", columns="indicator_id", values="score", aggfunc="first").reindex(columns=xs)
    perf = perf[perf.index.isin(departments["department_id"])]
    cats = perf.index.map(cat_of)
    charts = [("city", "", city, perf.mean(axis=0))]
    for cat, model in models.items():
        charts.append(("category", cat, model, perf[cats == cat].mean(axis=0)))
    for dep, row in perf.iterrows():
        charts.append(("department", dep, models.get(cat_of.get(dep), city), row))
    rows = []
    for scope, sid, model, performance in charts:
        t = model.copy()
        t["importance"] = t["lmg"] if method == "lmg" else t["coef"]
        t["performance"] = performance.reindex(t.index).to_numpy(float)
        t = t[t["performance"].notna()]
        if t.empty:
            continue
        t["quadrant"], t["importance_split"], t["performance_split"] = quadrant(t["importance"], t["performance"])
        t["scope"], t["scope_id"], t["importance_method"] = scope, sid, method
        rows.append(t.reset_index())
    out = pd.concat(rows, ignore_index=True)
    out["indicator"] = out["indicator_id"].map(lambda k: meta[k].name)
    out["indicator_en"] = out["indicator_id"].map(lambda k: meta[k].name_en)
    out["item"] = out["indicator_id"].map(lambda k: meta[k].field)
    out["quadrant_zh"] = out["quadrant"].map(lambda q: QUADRANTS[q][0])
    out["quadrant_en"] = out["quadrant"].map(lambda q: QUADRANTS[q][1])
    return out[DRIVER_COLUMNS]


def improvement_priorities(indicators: pd.DataFrame, departments: pd.DataFrame, framework: Framework, *,
                           k: int = 3, drivers: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ``k`` indicators where each department loses the most index points.

    Returns
    -------
    DataFrame with PRIORITY_COLUMNS: ``priority`` (1 = largest gap),
    ``score``, ``weight`` (effective share of the index), ``gap``
    (``weight * (category best score - score)``: index points gained by
    reaching the category's best on that indicator; ties broken by
    ``weight * (100 - score)``), the category and city mean
    scores of the indicator (unweighted over departments), and, for
    survey-measured indicators when ``drivers`` is given, the department's
    quadrant.
    """
    scored = indicators[indicators["score"].notna() & indicators["department_id"].isin(departments["department_id"])]
    ew = effective_weights(scored, framework)
    # outcomes ([roles] outcomes) measure what improvements should achieve: never a priority to act on
    scored = scored[~scored["indicator_id"].isin(framework.roles.outcomes)]
    t = scored.merge(ew[["department_id", "indicator_id", "w_index"]], on=["department_id", "indicator_id"])
    info = departments.set_index("department_id")
    t["category"] = t["department_id"].map(info["category"])
    t["department"] = t["department_id"].map(info["department"]) if "department" in info else t["department_id"]
    t["weight"] = t["w_index"]
    t["city_mean_score"] = t.groupby("indicator_id")["score"].transform("mean")
    t["category_mean_score"] = t.groupby(["category", "indicator_id"])["score"].transform("mean")
    t["category_best_score"] = t.groupby(["category", "indicator_id"])["score"].transform("max")
    # The index points the department would gain by reaching its category's best score on the
    # indicator: ranks indicators by what is both weighty and attainably behind peers, rather than
    # by weight alone (Likert scores sit lower than shares for everyone, so 100 - score would name
    # overall satisfaction first for every department).
    t["gap"] = t["weight"] * (t["category_best_score"] - t["score"]).clip(lower=0.0)
    t["_headroom"] = t["weight"] * (100.0 - t["score"])
    order = {i.id: n for n, i in enumerate(framework.indicators)}
    t["_order"] = t["indicator_id"].map(order)
    t = t.sort_values(["department_id", "gap", "_headroom", "_order"], ascending=[True, False, False, True])
    t["priority"] = t.groupby("department_id").cumcount() + 1
    t = t[t["priority"] <= k]
    q = pd.Series(dtype=object)
    if drivers is not None and len(drivers):
        d = drivers[drivers["scope"] == "department"]
        q = d.set_index(["scope_id", "indicator_id"])["quadrant"]
    keys = pd.MultiIndex.from_frame(t[["department_id", "indicator_id"]])
    t["quadrant"] = q.reindex(keys).fillna("").to_numpy() if len(q) else ""
    t["quadrant_zh"] = t["quadrant"].map(lambda c: QUADRANTS[c][0] if c else "")
    t["quadrant_en"] = t["quadrant"].map(lambda c: QUADRANTS[c][1] if c else "")
    return t[PRIORITY_COLUMNS].reset_index(drop=True)
