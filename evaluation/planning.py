"""Sampling plans before fieldwork: how many units per department and channel, and what they buy.

Pure computations (no files): per-unit variances from last year's results,
the allocation of a budget (or a target precision) across departments and
their sampled tables, the expected standard error and interval half-width of
every department's index and sampled indicators, the expected width of the
rank intervals, and the random draws (callback cases, site-visit days).
:mod:`minping.plan` reads the inputs and writes the plan.

The variance model
    The index of department ``d`` is ``I_d = sum_k w_k s_dk`` (``w_k`` the
    nominal share of indicator ``k``).  The sampled tables ``t`` (survey,
    callback interviews, site visits, service guides) are independent
    samples, so::

        Var(I_d) = sum_t V_dt (1 / n_dt - 1 / N_dt)          (fpc tables)
                 = sum_t V_dt / n_dt                          (other tables)

    with ``n_dt`` the units (completes, visits, guides), ``N_dt`` the
    population when the table's design corrects for a finite population, and
    ``V_dt`` the per-unit variance of table ``t``'s contribution
    ``sum_{k in t} w_k s_dk``, design effect included (Kish 1965: a
    variance per unit measured under the design carries its design effect).

Per-unit variances (:func:`unit_variances_from_components`, :func:`unit_variances_from_indicators`)
    *Exact*: from a ``variance_components`` frame (each sampled table's
    contribution to the variance of a department's index, with its units,
    PSUs and degrees of freedom): ``V_dt = variance_dt * n_dt``.

    *Approximation* from the indicators alone: per unit of table ``t``,
    indicator ``k`` has variance ``u_dk = se_dk^2 n_dt`` (``n_dt`` the units
    of the table, so item non-response and the design effect are inside), and
    the indicators of one table are taken as correlated with one common
    correlation ``rho``::

        V_dt = sum_k a_k^2 + rho * sum_{k != l} a_k a_l,      a_k = w_k sqrt(u_dk)

    ``rho`` is calibrated on last year's index standard errors
    (:func:`calibrate_correlation`): at last year's sizes the model gives
    ``se_d^2 = A_d + rho B_d`` with ``A_d = sum_k w_k^2 se_k^2`` and
    ``B_d = sum_t sum_{k != l in t} w_k w_l se_k se_l``, so
    ``rho = sum_d (se_d^2 - A_d) / sum_d B_d`` clipped to [0, 1].  It ignores
    the renormalisation of weights over missing indicators and treats the
    interval-based ``se`` of a share at 0 or 1 (Wilson) as if it scaled with
    ``1 / sqrt(n)``.

    *Moderation* (:func:`moderate_unit_variances`): a variance estimated from
    three site visits is nearly noise, so each is pulled toward the median of
    its table across departments by its degrees of freedom ``nu``:
    ``V* = (nu V + nu_0 Vbar) / (nu + nu_0)`` (the moderated variance of
    Smyth 2004, with a prior of ``nu_0`` degrees of freedom).

    *First year* (:func:`default_unit_variances`): ``V_t = (W_t sigma_t)^2``
    with ``W_t`` the table's share of the index and ``sigma_t`` the per-unit
    standard deviation of its weighted mean score (:data:`DEFAULT_UNIT_SD`).

Allocation (:func:`allocate`)
    Within a department the budget ``B_d`` is split across tables to
    minimise ``Var(I_d)``: the Lagrangian gives ``n_t = lambda sqrt(V_t / c_t)``
    (Cochran 1977, §5.5, with tables in place of strata), without bounds
    ``n_t = B_d sqrt(V_t / c_t) / sum_u sqrt(V_u c_u)`` and then
    ``Var = K_d / B_d - sum_t V_t / N_t`` with ``K_d = (sum_t sqrt(V_t c_t))^2``.
    The finite population correction subtracts a constant and does not move
    the optimum.  With minimum (the framework's gate G4) and maximum sizes the
    optimum is ``n_t = clip(lambda sqrt(V_t / c_t), m_t, M_t)`` with ``lambda``
    found by bisection (the Karush–Kuhn–Tucker conditions of the bounded
    problem).  Across departments:

    - ``equal_precision``: one target variance ``v`` for every department
      (the fair choice when the purpose is a ranking); the budget fixes
      ``v`` through ``sum_d B_d(v) = B``, or a target half-width ``h`` fixes
      ``v = (h / z)^2``.
    - ``proportional``: ``B_d`` proportional to the case volume ``N_d``
      (Cochran 1977, §5.3).
    - ``neyman``: ``B_d`` proportional to ``N_d sqrt(K_d)``, which minimises
      the variance of the volume-weighted city mean (Cochran 1977, §5.5,
      optimum allocation with costs; Neyman 1934).
    - ``fixed``: given units per department and table (the habit, e.g. 100
      questionnaires and 100 callbacks each).

    Sizes are rounded to whole units within their bounds and every reported
    standard error is that of the rounded plan.

Expected rank intervals (:func:`expected_rank_intervals`)
    The ranking step (:func:`evaluation.ranking.rank_intervals`) repeated on
    simulated estimates ``I_d + se_d Z`` around assumed true indices: the
    mean lower and upper end and the mean width ``rank_high - rank_low``.
    The assumed true indices are last year's, pulled toward their mean by
    ``k = sqrt(1 - mean(se^2) / var(I))`` (:func:`assumed_true_index`), so
    that last year's sampling noise does not spread them.

Draws (:func:`draw_callback_sample`, :func:`schedule_visits`)
    Callback cases: within each department the case records are sorted by
    matter, month handled and case id and drawn systematically with a
    fractional interval ``N_d / m_d`` and a random start (Cochran 1977,
    ch. 8): every record has inclusion
    probability ``m_d / N_d``, and every matter type gets its proportional
    share within one case (implicit stratification by matter).  The call
    order is then randomised, so a list stopped early is still a random
    subsample.  Site visits: the fieldwork days are cut into as many equal
    segments as the department has visits and one day is drawn in each
    (spread over the season), with a random half day, the halls in random
    order and a random set of mystery visits.  Every draw comes from
    ``evaluation.seeds.stream(seed, "plan", year, <what>, <department>)``,
    so adding a department never moves another's draw.

References
----------
Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed. Wiley: ch. 4 (the
estimation of sample size), ch. 5 (stratified sampling: proportional
allocation in §5.3, optimum allocation in §5.5), ch. 8 (systematic sampling).
Lohr, S. L. (2010). *Sampling: Design and Analysis*, 2nd ed. Brooks/Cole:
ch. 2 (sample size of a simple random sample), ch. 3 (allocation in
stratified sampling), ch. 7 (design effects).
Kish, L. (1965). *Survey Sampling*. Wiley (design effect).
Neyman, J. (1934). On the two different aspects of the representative method.
*JRSS* 97, 558–625.
Smyth, G. K. (2004). Linear models and empirical Bayes methods for assessing
differential expression. *Stat. Appl. Genet. Mol. Biol.* 3(1), art. 3.
Goldstein, H. & Spiegelhalter, D. J. (1996). League tables and their
limitations. *JRSS A* 159, 385–443.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from surveys.errors import MethodologyError, Problem
from surveys.framework import Framework
from surveys.schema import SAMPLED_CHANNELS

from .ranking import rank_intervals
from .seeds import stream

__all__ = [
    "ALLOCATION_METHODS", "DEFAULT_UNIT_SD", "DRAW_COLUMNS", "PLAN_DEPARTMENT_COLUMNS", "PLAN_INDICATOR_COLUMNS",
    "PLAN_UNIT_COLUMNS", "UNIT_VARIANCE_COLUMNS", "VARIANCE_COMPONENT_COLUMNS", "VISIT_COLUMNS", "Allocation",
    "allocate", "assumed_true_index", "calibrate_correlation", "default_unit_variances", "draw_callback_sample",
    "expected_rank_intervals", "fill_unit_variances", "indicator_precision", "indicator_unit_variances",
    "moderate_unit_variances", "neyman_allocation", "optimal_split", "proportion_sample_size",
    "proportional_allocation", "sample_size", "sampled_tables", "schedule_visits", "systematic_sample",
    "unit_variances_from_components", "unit_variances_from_indicators", "z_value",
]

ALLOCATION_METHODS = ("equal_precision", "proportional", "neyman", "fixed")

#: the exact input, when the results provide it: each sampled table's contribution to a department's index variance
VARIANCE_COMPONENT_COLUMNS = ["department_id", "channel", "table", "variance", "n", "n_psu", "df"]

#: per department and sampled table: the per-unit variance of the table's contribution to the index
UNIT_VARIANCE_COLUMNS = ["department_id", "table", "channel", "unit_variance", "unit_variance_raw", "n", "df",
                         "source"]

#: per department and sampled table: the plan
PLAN_UNIT_COLUMNS = [
    "department_id", "table", "channel", "unit_variance", "variance_source", "cost", "population", "fpc",
    "minimum", "maximum", "n_optimal", "units", "rate", "contacts", "unit_cost_total", "variance", "se",
]

#: per department: what the plan buys
PLAN_DEPARTMENT_COLUMNS = [
    "department_id", "budget", "variance", "se", "half_width", "target_reached", "bound",
]

#: per department and sampled indicator: expected precision
PLAN_INDICATOR_COLUMNS = [
    "department_id", "indicator_id", "table", "channel", "weight", "unit_variance", "units", "se", "df",
    "half_width",
]

#: the callback draw without personal data: one row per drawn case record
DRAW_COLUMNS = [
    "department_id", "case_id", "matter", "handled_month", "frame_position", "frame_size", "drawn",
    "inclusion_probability", "weight", "matter_size", "matter_drawn", "call_order",
]

#: the site-visit schedule: one row per visit
VISIT_COLUMNS = ["department_id", "visit_no", "date", "half_day", "hall", "visit_type"]

#: First-year per-unit standard deviation of a sampled table's weighted mean score (0-100 points),
#: sigma_t in V_t = (W_t sigma_t)^2.  Calibrated on the demo's results (median over departments of
#: the indicator approximation, years 2023-2025, rounded): a questionnaire's weighted mean over its
#: items varies with SD ~15 points between respondents; a callback interview ~30 (its
#: distance-to-frontier share of no improper demands, a 10-point band of the raw share stretched
#: to 0-100, dominates); a site visit ~3 (a visit's checklist mean and timed wait vary little once
#: the department is fixed); one service guide ~25 (a pass/fail check).
DEFAULT_UNIT_SD = {"survey": 15.0, "callback_interviews": 30.0, "visits": 3.0, "guides": 25.0}
#: the same for a sampled table not listed above
DEFAULT_OTHER_SD = 25.0

_BISECTION_STEPS = 200


def z_value(level: float) -> float:
    """The two-sided normal critical value ``z_{(1 + level) / 2}`` of a confidence ``level``."""
    if not 0.0 < level < 1.0:
        raise MethodologyError("Invalid confidence level", [Problem(
            f"level must lie strictly between 0 and 1, found {level!r}",
            fix="pass the framework's confidence_level")])
    return float(stats.norm.ppf(0.5 + level / 2))


# ---------------------------------------------------------------------------
# textbook sample sizes and allocations
# ---------------------------------------------------------------------------


def sample_size(variance: float, half_width: float, *, level: float, population: float | None = None,
                deff: float = 1.0) -> float:
    """Units needed to estimate a mean to ``+/- half_width`` at ``level`` (not rounded).

    Parameters
    ----------
    variance : per-unit variance ``S^2`` of the variable (population variance)
    half_width : the margin of error ``e``
    level : confidence level
    population : population size ``N`` for the finite population correction (None: infinite)
    deff : design effect of the planned design against simple random sampling

    Returns
    -------
    float
        ``n = n_0 / (1 + n_0 / N)`` with ``n_0 = deff z^2 S^2 / e^2``.

    Notes
    -----
    Cochran (1977), §4.4 and §4.6: ``n_0 = (z S / e)^2`` and, sampling without
    replacement from ``N``, ``n = n_0 / (1 + n_0 / N)``.  The design effect
    multiplies the variance per unit (Kish 1965: ``Var = deff S^2 (1 - n/N) / n``),
    so it enters ``n_0`` before the correction.  Worked example (the
    classic one of Lohr 2010, ch. 2): ``S^2 = 0.25`` (a share near 1/2), ``e = 0.03``, 95%, ``N = 1251``
    gives ``n_0 = 1.96^2 * 0.25 / 0.03^2 = 1067.1`` and ``n = 575.9``.
    """
    z = z_value(level)
    if half_width <= 0 or variance < 0 or deff <= 0:
        raise MethodologyError("Cannot size a sample", [Problem(
            f"half_width = {half_width!r}, variance = {variance!r}, deff = {deff!r}",
            fix="use a positive half-width, a non-negative variance and a positive design effect")])
    n0 = deff * z * z * variance / (half_width * half_width)
    if population is None or not np.isfinite(population):
        return float(n0)
    return float(n0 / (1.0 + n0 / population))


def proportion_sample_size(p: float, half_width: float, *, level: float, population: float | None = None,
                           deff: float = 1.0) -> float:
    """Units needed to estimate a share near ``p`` to ``+/- half_width``.

    :func:`sample_size` with ``S^2 = p (1 - p)`` (Cochran 1977, §4.4).
    """
    if not 0.0 <= p <= 1.0:
        raise MethodologyError("Cannot size a sample", [Problem(f"p = {p!r}", fix="give a share between 0 and 1")])
    return sample_size(p * (1.0 - p), half_width, level=level, population=population, deff=deff)


def proportional_allocation(n: float, sizes) -> np.ndarray:
    """Proportional allocation ``n_h = n N_h / sum N`` (Cochran 1977, §5.3); not rounded."""
    sizes = np.asarray(sizes, float)
    return n * sizes / sizes.sum()


def neyman_allocation(n: float, sizes, sds, costs=None) -> np.ndarray:
    """Neyman (optimum) allocation of ``n`` units over strata; not rounded.

    ``n_h = n (N_h S_h / sqrt(c_h)) / sum_g (N_g S_g / sqrt(c_g))``; with equal
    costs (``costs`` None) this is Neyman's ``n_h proportional to N_h S_h``
    (Cochran 1977, §5.5; Lohr 2010, ch. 3).
    """
    sizes, sds = np.asarray(sizes, float), np.asarray(sds, float)
    c = np.ones_like(sizes) if costs is None else np.asarray(costs, float)
    score = sizes * sds / np.sqrt(c)
    return n * score / score.sum()


def optimal_split(unit_variances, costs, *, budget: float | None = None, variance: float | None = None) -> np.ndarray:
    """Units per table minimising ``sum V_t / n_t`` at cost ``sum c_t n_t`` (no bounds, not rounded).

    Give ``budget`` (the variance is then ``K / budget``) or the target
    ``variance`` (the budget is then ``K / variance``), ``K = (sum_t sqrt(V_t c_t))^2``.

    Notes
    -----
    ``n_t = budget sqrt(V_t / c_t) / sum_u sqrt(V_u c_u)``: Cochran (1977),
    §5.5, with the sampled tables of one department in place of
    strata.
    """
    v = np.asarray(unit_variances, float)
    c = np.asarray(costs, float)
    k_root = np.sum(np.sqrt(v * c))
    if (budget is None) == (variance is None):
        raise MethodologyError("optimal_split needs a budget or a variance", [Problem(
            "give exactly one of budget= and variance=", fix="pass budget=... or variance=...")])
    if budget is None:
        budget = k_root ** 2 / variance
    return budget * np.sqrt(v / c) / k_root


# ---------------------------------------------------------------------------
# per-unit variances
# ---------------------------------------------------------------------------


def sampled_tables(framework: Framework) -> dict[str, str]:
    """Sampled table -> channel, for every table an indicator of ``framework`` reads from a sampled channel."""
    out: dict[str, str] = {}
    for ind in framework.indicators:
        if ind.channel in SAMPLED_CHANNELS:
            out.setdefault(ind.table, ind.channel)
    return out


def _indicator_tables(framework: Framework) -> pd.DataFrame:
    return pd.DataFrame([{"indicator_id": i.id, "table": i.table, "channel": i.channel}
                         for i in framework.indicators if i.channel in SAMPLED_CHANNELS])


def indicator_unit_variances(indicators: pd.DataFrame, framework: Framework, *,
                             units: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per department and sampled indicator: the variance per unit of its table, ``u = se^2 n_unit``.

    Parameters
    ----------
    indicators : department x indicator with ``department_id, indicator_id, weight, se, n``
        (a result's ``indicators`` or the history's)
    framework : says which table each indicator reads
    units : optional ``department_id, table, n``: the units of each table
        (completes, visits); default the largest ``n`` of the table's
        indicators in the department

    Returns
    -------
    DataFrame
        ``department_id, indicator_id, table, channel, weight, se, n_unit, unit_variance, df``
        (``df = n_unit - 1``).
    """
    meta = _indicator_tables(framework)
    ind = indicators[["department_id", "indicator_id", "weight", "se", "n"]].merge(meta, on="indicator_id")
    ind = ind[ind["se"].notna() & ind["n"].notna() & (ind["n"] > 0)].copy()
    largest = ind.groupby(["department_id", "table"])["n"].transform("max")
    if units is not None and len(units):
        given = ind[["department_id", "table"]].merge(units[["department_id", "table", "n"]],
                                                       on=["department_id", "table"], how="left")["n"]
        n_unit = np.where(given.notna().to_numpy() & (given.to_numpy(float) > 0), given.to_numpy(float),
                          largest.to_numpy(float))
    else:
        n_unit = largest.to_numpy(float)
    ind["n_unit"] = n_unit
    ind["unit_variance"] = ind["se"].to_numpy(float) ** 2 * n_unit
    ind["df"] = np.maximum(n_unit - 1.0, 0.0)
    return ind[["department_id", "indicator_id", "table", "channel", "weight", "se", "n_unit", "unit_variance", "df"]]


def calibrate_correlation(indicators: pd.DataFrame, departments: pd.DataFrame, framework: Framework) -> float:
    """The common within-table correlation ``rho`` that reproduces last year's index SEs on average.

    ``rho = sum_d (se_d^2 - A_d) / sum_d B_d`` clipped to [0, 1] (module
    notes); 0 when no department has both an index SE and two indicators
    of one table.

    Parameters
    ----------
    indicators : department x indicator (``department_id, indicator_id, weight, se``)
    departments : ``department_id, se`` (the index standard error)
    framework : which table each indicator reads
    """
    meta = _indicator_tables(framework)
    ind = indicators[["department_id", "indicator_id", "weight", "se"]].merge(meta, on="indicator_id")
    ind = ind[ind["se"].notna()]
    ind = ind.assign(a=ind["weight"].to_numpy(float) * ind["se"].to_numpy(float))
    a2 = (ind["a"] ** 2).groupby(ind["department_id"]).sum()
    per_table = ind.groupby(["department_id", "table"])["a"].agg(["sum", lambda a: float((a ** 2).sum())])
    per_table.columns = ["s", "s2"]
    b = (per_table["s"] ** 2 - per_table["s2"]).groupby(level="department_id").sum()
    se = departments.drop_duplicates("department_id").set_index("department_id")["se"].astype(float)
    common = a2.index.intersection(se.dropna().index).intersection(b.index)
    big_a, big_b, se2 = a2[common], b[common], se[common] ** 2
    if big_b.sum() <= 0:
        return 0.0
    return float(np.clip((se2 - big_a).sum() / big_b.sum(), 0.0, 1.0))


def unit_variances_from_indicators(indicators: pd.DataFrame, framework: Framework, *, rho: float,
                                   units: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per department and sampled table: the per-unit variance of its index contribution (approximation).

    ``V_dt = sum_k a_k^2 + rho sum_{k != l} a_k a_l`` with ``a_k = w_k sqrt(u_k)``
    (module notes); ``df = n_unit - 1``.

    Returns
    -------
    DataFrame
        :data:`UNIT_VARIANCE_COLUMNS` (``source`` = ``"indicators"``; the
        moderated ``unit_variance`` equals the raw one until
        :func:`moderate_unit_variances`).
    """
    if not 0.0 <= rho <= 1.0:
        raise MethodologyError("Invalid within-table correlation", [Problem(
            f"rho = {rho!r}", fix="use a correlation between 0 and 1")])
    u = indicator_unit_variances(indicators, framework, units=units)
    u = u.assign(a=u["weight"].to_numpy(float) * np.sqrt(u["unit_variance"].to_numpy(float)))
    g = u.groupby(["department_id", "table"], sort=True)
    out = g.agg(channel=("channel", "first"), s=("a", "sum"), s2=("a", lambda a: float((a ** 2).sum())),
                n=("n_unit", "max")).reset_index()
    out["unit_variance_raw"] = out["s2"] + rho * (out["s"] ** 2 - out["s2"])
    out["unit_variance"] = out["unit_variance_raw"]
    out["df"] = np.maximum(out["n"] - 1.0, 0.0)
    out["source"] = "indicators"
    return out[UNIT_VARIANCE_COLUMNS]


def unit_variances_from_components(components: pd.DataFrame) -> pd.DataFrame:
    """Per department and sampled table: the per-unit variance from a ``variance_components`` frame.

    Parameters
    ----------
    components : :data:`VARIANCE_COMPONENT_COLUMNS`: each sampled table's
        contribution ``variance`` to the variance of the department's index,
        its units ``n``, PSUs ``n_psu`` and degrees of freedom ``df``

    Returns
    -------
    DataFrame
        :data:`UNIT_VARIANCE_COLUMNS` with ``unit_variance = variance * n``
        (exact at last year's design), ``df`` as given (else ``n_psu - 1``,
        else ``n - 1``), ``source`` = ``"components"``.
    """
    missing = [c for c in ("department_id", "table", "variance", "n") if c not in components.columns]
    if missing:
        raise MethodologyError("The variance components lack columns", [Problem(
            f"missing {missing}", fix=f"give the columns {VARIANCE_COMPONENT_COLUMNS}")])
    c = components[components["variance"].notna() & (components["n"] > 0)].copy()
    g = c.groupby(["department_id", "table"], sort=True)
    out = g.agg(variance=("variance", "sum"), n=("n", "max")).reset_index()
    out["channel"] = g["channel"].first().to_numpy() if "channel" in c.columns else None
    df = pd.Series(np.nan, index=out.index)
    if "df" in c.columns:
        df = pd.Series(g["df"].max().to_numpy(float), index=out.index)
    if "n_psu" in c.columns:
        df = df.fillna(pd.Series(g["n_psu"].max().to_numpy(float) - 1.0, index=out.index))
    out["df"] = df.fillna(out["n"] - 1.0).clip(lower=0.0)
    out["unit_variance_raw"] = out["variance"] * out["n"]
    out["unit_variance"] = out["unit_variance_raw"]
    out["source"] = "components"
    return out[UNIT_VARIANCE_COLUMNS]


def moderate_unit_variances(frame: pd.DataFrame, *, prior_df: float = 10.0, by: str = "table") -> pd.DataFrame:
    """Pull each per-unit variance toward its table's median by its degrees of freedom.

    ``V* = (nu V + nu_0 Vbar_t) / (nu + nu_0)`` with ``Vbar_t`` the median of
    table ``t`` across departments and ``nu_0 = prior_df`` (Smyth 2004).  A
    department with 300 completes keeps nearly its own value; one with three
    site visits gets mostly the city's (and a variance of 0, four visits all
    scoring 100, does not promise a perfect estimate).  ``unit_variance_raw``
    keeps the department's own estimate.  ``by`` names the column whose
    groups share a median (``indicator_id`` for indicator-level variances).
    """
    if prior_df < 0:
        raise MethodologyError("Invalid prior degrees of freedom", [Problem(
            f"prior_df = {prior_df!r}", fix="use 0 (no moderation) or a positive number such as 10")])
    out = frame.copy()
    if "unit_variance_raw" not in out.columns:
        out["unit_variance_raw"] = out["unit_variance"]
    pooled = out.groupby(by)["unit_variance_raw"].transform("median")
    nu = out["df"].to_numpy(float)
    raw = out["unit_variance_raw"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mod = (nu * raw + prior_df * pooled.to_numpy(float)) / (nu + prior_df)
    out["unit_variance"] = np.where(np.isfinite(mod), mod, raw)
    return out


def default_unit_variances(framework: Framework, department_ids, *, sd: dict[str, float] | None = None) -> pd.DataFrame:
    """First-year per-unit variances: ``V_t = (W_t sigma_t)^2`` for every department and sampled table.

    ``W_t`` is the nominal share of the index of table ``t``'s indicators and
    ``sigma_t`` the per-unit SD of its weighted mean score
    (:data:`DEFAULT_UNIT_SD`, overridden per table by ``sd``).
    """
    sd = {**DEFAULT_UNIT_SD, **(sd or {})}
    nominal = framework.nominal_weights()
    share: dict[str, float] = {}
    for ind in framework.indicators:
        if ind.channel in SAMPLED_CHANNELS:
            share[ind.table] = share.get(ind.table, 0.0) + nominal[ind.id]
    tables = sampled_tables(framework)
    rows = [{"department_id": d, "table": t, "channel": tables[t],
             "unit_variance_raw": (share[t] * sd.get(t, DEFAULT_OTHER_SD)) ** 2, "n": np.nan, "df": 0.0,
             "source": "default"} for d in department_ids for t in tables]
    out = pd.DataFrame(rows, columns=[c for c in UNIT_VARIANCE_COLUMNS if c != "unit_variance"])
    out["unit_variance"] = out["unit_variance_raw"]
    return out[UNIT_VARIANCE_COLUMNS]


def fill_unit_variances(frame: pd.DataFrame, department_ids, tables: dict[str, str], *,
                        predecessors: dict[str, tuple[str, ...]] | None = None,
                        defaults: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per planned department and sampled table, borrowing where a department has no figure.

    In order: the department's own figure; the mean of its predecessors'
    (``predecessors``: department -> ids in the crosswalk); the median of
    the table across departments (``source`` = ``"pooled"``); the first-year
    default (``defaults``, from :func:`default_unit_variances`).
    """
    own = frame.set_index(["department_id", "table"])
    rows = []
    pooled = frame.groupby("table")[["unit_variance", "unit_variance_raw"]].median()
    dflt = defaults.set_index(["department_id", "table"]) if defaults is not None else None
    for d in department_ids:
        for t, ch in tables.items():
            if (d, t) in own.index:
                r = own.loc[(d, t)]
                rows.append({"department_id": d, "table": t, "channel": ch, **{c: r[c] for c in (
                    "unit_variance", "unit_variance_raw", "n", "df", "source")}})
                continue
            preds = [p for p in (predecessors or {}).get(d, ()) if (p, t) in own.index]
            if preds:
                sub = own.loc[[(p, t) for p in preds]]
                rows.append({"department_id": d, "table": t, "channel": ch,
                             "unit_variance": float(sub["unit_variance"].mean()),
                             "unit_variance_raw": float(sub["unit_variance_raw"].mean()),
                             "n": float(sub["n"].sum()), "df": float(sub["df"].sum()), "source": "predecessors"})
            elif t in pooled.index:
                rows.append({"department_id": d, "table": t, "channel": ch,
                             "unit_variance": float(pooled.loc[t, "unit_variance"]),
                             "unit_variance_raw": float(pooled.loc[t, "unit_variance_raw"]),
                             "n": np.nan, "df": 0.0, "source": "pooled"})
            elif dflt is not None and (d, t) in dflt.index:
                r = dflt.loc[(d, t)]
                rows.append({"department_id": d, "table": t, "channel": ch, "unit_variance": r["unit_variance"],
                             "unit_variance_raw": r["unit_variance_raw"], "n": np.nan, "df": 0.0,
                             "source": "default"})
    return pd.DataFrame(rows, columns=UNIT_VARIANCE_COLUMNS)


# ---------------------------------------------------------------------------
# allocation
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Allocation:
    """A sampling plan's sizes and the precision they buy.

    Attributes
    ----------
    method : one of :data:`ALLOCATION_METHODS`
    level : confidence level of the half-widths
    units : :data:`PLAN_UNIT_COLUMNS`, one row per department and sampled
        table: ``n_optimal`` (continuous optimum), ``units`` (rounded plan:
        completes, visits, guides), ``contacts`` (units over ``rate``,
        rounded up), ``unit_cost_total`` (units x cost), ``variance``
        (contribution to the index variance) and its square root ``se``
    departments : :data:`PLAN_DEPARTMENT_COLUMNS`: ``budget`` (cost of the
        rounded plan), index ``variance``, ``se``, ``half_width`` (``z se``),
        ``target_reached`` (False when the bounds keep the department from
        the common target), ``bound`` (``minimum`` when every table sits at
        its minimum, ``<table>=maximum`` for every table held at its maximum,
        else empty)
    budget : the budget asked for (NaN when a target was given)
    target_variance : the common target variance (equal precision), or the
        ceiling a target half-width sets (proportional, Neyman), else NaN
    total_cost : cost of the rounded plan
    """

    method: str
    level: float
    units: pd.DataFrame
    departments: pd.DataFrame
    budget: float
    target_variance: float
    total_cost: float
    notes: tuple[str, ...] = field(default_factory=tuple)


class _Matrix:
    """Departments x tables as arrays (absent tables have no variance, no cost and no units)."""

    def __init__(self, units: pd.DataFrame):
        self.deps = list(dict.fromkeys(units["department_id"]))
        self.tabs = list(dict.fromkeys(units["table"]))
        full = pd.MultiIndex.from_product([self.deps, self.tabs], names=["department_id", "table"])
        u = units.set_index(["department_id", "table"]).reindex(full)
        shape = (len(self.deps), len(self.tabs))

        def arr(col, fill):
            return u[col].to_numpy(float, na_value=np.nan).reshape(shape) if col in u else np.full(shape, fill)

        self.present = u["unit_variance"].notna().to_numpy().reshape(shape)
        self.v = np.where(self.present, arr("unit_variance", 0.0), 0.0)
        self.c = np.where(self.present, arr("cost", 1.0), 1.0)
        self.m = np.where(self.present, np.nan_to_num(arr("minimum", 0.0), nan=0.0), 0.0)
        mx = arr("maximum", np.inf)
        self.mx = np.where(self.present, np.where(np.isnan(mx), np.inf, mx), 0.0)
        pop = arr("population", np.nan)
        fpc = u["fpc"].fillna(False).astype(bool).to_numpy().reshape(shape) if "fpc" in u else np.zeros(shape, bool)
        finite = self.present & fpc & np.isfinite(pop) & (pop > 0)
        self.inv_n_pop = np.where(finite, 1.0 / np.where(finite, pop, 1.0), 0.0)
        self.mx = np.minimum(self.mx, np.where(self.present & np.isfinite(pop) & (pop > 0), pop, np.inf))
        self.m = np.minimum(self.m, self.mx)
        self.ratio = np.sqrt(self.v / self.c)

    def sizes(self, lam: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            raw = np.where(self.ratio > 0, lam[:, None] * self.ratio, 0.0)
        return np.where(self.present, np.clip(raw, self.m, self.mx), 0.0)

    def variance(self, n: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            term = np.where(self.present & (n > 0), self.v / np.where(n > 0, n, 1.0) - self.v * self.inv_n_pop,
                            np.where(self.present & (self.v > 0), np.inf, 0.0))
        return np.maximum(term, 0.0).sum(axis=1)

    def cost(self, n: np.ndarray) -> np.ndarray:
        return np.where(self.present, self.c * n, 0.0).sum(axis=1)

    def floor(self) -> tuple[np.ndarray, np.ndarray]:
        """Per department the variance with every capped table at its maximum (the rest adding nothing),
        and whether some table with variance has no maximum (so the floor is approached, never reached)."""
        capped = self.present & np.isfinite(self.mx) & (self.mx > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            term = np.where(capped, self.v / np.where(capped, self.mx, 1.0) - self.v * self.inv_n_pop, 0.0)
        open_ended = np.any(self.present & ~np.isfinite(self.mx) & (self.v > 0), axis=1)
        return np.maximum(term, 0.0).sum(axis=1), open_ended

    def reachable(self, variance: np.ndarray) -> np.ndarray:
        low, open_ended = self.floor()
        return np.where(open_ended, variance > low * (1 + 1e-9), variance >= low * (1 - 1e-9))

    def capped_lambda(self) -> np.ndarray:
        """Per department the lambda at which every capped table reaches its maximum."""
        capped = self.present & np.isfinite(self.mx) & (self.ratio > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            lam = np.where(capped, self.mx / np.where(capped, self.ratio, 1.0), 0.0)
        return lam.max(axis=1)

    def solve(self, *, variance: np.ndarray | None = None, budget: np.ndarray | None = None) -> np.ndarray:
        """Per department the lambda whose bounded optimum reaches ``variance`` (or spends ``budget``).

        A variance below what the maxima allow gives ``inf`` (the cost of an unreachable target is
        infinite, which keeps the cost monotone for the bisection across departments).
        """
        k = len(self.deps)
        ok = self.reachable(variance) if variance is not None else np.ones(k, bool)
        lo, hi = np.full(k, 1e-12), np.full(k, 1.0)
        for _ in range(400):   # bracket: grow hi until it reaches the target or every table is capped
            n = self.sizes(hi)
            done = (self.variance(n) <= variance) if variance is not None else (self.cost(n) >= budget)
            capped = np.all((n >= self.mx) | ~self.present | (self.ratio == 0), axis=1)
            if np.all(done | capped | ~ok):
                break
            hi = np.where(done | capped | ~ok, hi, hi * 4.0)
        for _ in range(_BISECTION_STEPS):
            mid = np.sqrt(lo * hi)
            n = self.sizes(mid)
            over = (self.variance(n) <= variance) if variance is not None else (self.cost(n) >= budget)
            hi, lo = np.where(over, mid, hi), np.where(over, lo, mid)
        return np.where(ok, hi, np.inf)


def allocate(units: pd.DataFrame, *, method: str = "equal_precision", level: float, budget: float | None = None,
             target_half_width: float | None = None,
             fixed: dict[str, float] | pd.DataFrame | None = None) -> Allocation:
    """Allocate units to departments and sampled tables.

    Parameters
    ----------
    units : one row per department and sampled table with ``department_id,
        table, unit_variance, cost`` and optionally ``channel, population``
        (units in the population), ``fpc`` (bool: the design corrects for the
        finite population), ``minimum``, ``maximum`` (units), ``rate``
        (expected units per contact: response or completion rate),
        ``volume`` (the department's case volume, for ``proportional`` and
        ``neyman``), ``variance_source``
    method : ``equal_precision``, ``proportional``, ``neyman`` or ``fixed``
    level : confidence level of the half-widths
    budget : total cost to spend
    target_half_width : instead of a budget: the index half-width every
        department should reach (``equal_precision``), or the largest
        half-width any department may have (``proportional``, ``neyman``)
    fixed : ``fixed`` only: units per table (a dict; the same for every
        department), or a frame ``department_id, table, units`` (e.g. last
        year's sizes); tables not given keep their ``minimum``

    Returns
    -------
    Allocation

    Notes
    -----
    See the module notes for the model.  The budget split within each
    department is the bounded optimum ``n_t = clip(lambda sqrt(V_t / c_t),
    m_t, M_t)``; ``M_t`` is at most the population.  ``proportional`` and
    ``neyman`` scale every department's budget share by one factor chosen by
    bisection so that the plan spends ``budget`` after the minimum sizes
    (or so that the widest half-width equals the target).  Without bounds
    and with one table, ``equal_precision`` with a target reduces to
    :func:`sample_size`.
    """
    if method not in ALLOCATION_METHODS:
        raise MethodologyError("Unknown allocation method", [Problem(
            f"allocation = {method!r}", fix=f"use one of {list(ALLOCATION_METHODS)}")])
    z = z_value(level)
    if method != "fixed" and (budget is None) == (target_half_width is None):
        raise MethodologyError("A plan needs a budget or a target half-width", [Problem(
            f"budget = {budget!r}, target_half_width = {target_half_width!r}",
            fix="give exactly one of them (the other follows from the plan)")])
    for name, value in (("budget", budget), ("target_half_width", target_half_width)):
        if value is not None and not (np.isfinite(value) and value > 0):
            raise MethodologyError("Invalid plan setting", [Problem(f"{name} = {value!r}",
                                                                    fix=f"give a positive {name}")])
    bad = units[(units["cost"].isna()) | (units["cost"] <= 0)]
    if len(bad):
        raise MethodologyError("Every sampled table needs a positive cost per unit", [Problem(
            f"cost {r.cost!r}", department=r.department_id, column=r.table, fix="declare its cost per unit")
            for r in bad.itertuples()])
    mat = _Matrix(units)
    target_var = np.nan
    notes: list[str] = []
    if method == "fixed":
        if isinstance(fixed, pd.DataFrame):
            full = pd.MultiIndex.from_product([mat.deps, mat.tabs], names=["department_id", "table"])
            want = (fixed.set_index(["department_id", "table"])["units"].reindex(full).to_numpy(float)
                    .reshape(len(mat.deps), len(mat.tabs)))
        else:
            want = np.array([[(fixed or {}).get(t, np.nan) for t in mat.tabs]] * len(mat.deps), float)
        n = np.where(mat.present, np.clip(np.where(np.isnan(want), mat.m, want), mat.m, mat.mx), 0.0)
    elif method == "equal_precision":
        if target_half_width is not None:
            target_var = (target_half_width / z) ** 2
        else:
            target_var = _equal_precision_variance(mat, budget)
        lam = mat.solve(variance=np.full(len(mat.deps), target_var))
        n = mat.sizes(np.where(np.isfinite(lam), lam, mat.capped_lambda()))
        if not np.isfinite(lam).all():
            notes.append("target out of reach for " + ", ".join(np.asarray(mat.deps)[~np.isfinite(lam)])
                         + ": planned with every capped table at its maximum")
    else:
        vol = units.drop_duplicates("department_id").set_index("department_id")
        volume = (vol["volume"].reindex(mat.deps).to_numpy(float) if "volume" in vol
                  else np.full(len(mat.deps), np.nan))
        if np.isnan(volume).all():
            notes.append("no case volumes: departments weighted equally")
            volume = np.ones(len(mat.deps))
        volume = np.where(np.isnan(volume), np.nanmedian(volume), volume)
        if method == "proportional":
            share = volume
        else:
            share = volume * np.sqrt(mat.v * mat.c).sum(axis=1)
        share = share / share.sum()
        if target_half_width is not None:
            target_var = (target_half_width / z) ** 2
        n = _scaled_budgets(mat, share, budget=budget, max_variance=None if target_half_width is None
                            else target_var)
    n_opt = n.copy()
    whole = np.where(mat.present, np.clip(np.round(n), np.ceil(mat.m - 1e-9), np.floor(mat.mx + 1e-9)), 0.0)
    return _result(units, mat, method, level, z, n_opt, whole, budget, target_var, notes)


def _equal_precision_variance(mat: _Matrix, budget: float) -> float:
    """The common variance whose bounded per-department optima together cost ``budget``."""
    k = len(mat.deps)

    def cost(v: float) -> float:
        return float(mat.cost(mat.sizes(mat.solve(variance=np.full(k, v)))).sum())

    at_min = mat.sizes(np.zeros(k))
    if budget <= mat.cost(at_min).sum():
        return float(mat.variance(at_min).max())
    hi = float(mat.variance(at_min).max())
    if not np.isfinite(hi):                       # no minimum sizes: find a variance the budget affords
        hi = 1.0
        while cost(hi) > budget:
            hi *= 4.0
    lo = hi
    while cost(lo) <= budget and lo > 1e-12:      # and one it does not
        lo /= 4.0
    for _ in range(100):
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if cost(mid) > budget else (lo, mid)
    return float(hi)


def _scaled_budgets(mat: _Matrix, share: np.ndarray, *, budget: float | None, max_variance: float | None) -> np.ndarray:
    """Sizes when department ``d`` gets ``s * share_d`` (at least its minimum sizes), ``s`` fitted to the goal.

    With ``max_variance``, departments that cannot reach it at any budget are left out of the goal.
    """
    keep = mat.reachable(np.full(len(mat.deps), max_variance)) if budget is None else np.ones(len(mat.deps), bool)

    def sizes(s: float) -> np.ndarray:
        return mat.sizes(mat.solve(budget=s * share))

    def reached(n: np.ndarray) -> bool:
        if budget is not None:
            return mat.cost(n).sum() >= budget
        return bool(np.all(mat.variance(n)[keep] <= max_variance))

    lo, hi = 0.0, 1.0
    for _ in range(400):
        n = sizes(hi)
        if reached(n) or np.all((n >= mat.mx) | ~mat.present):
            break
        hi *= 4.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if reached(sizes(mid)) else (mid, hi)
    return sizes(hi)


def _result(units, mat: _Matrix, method, level, z, n_opt, whole, budget, target_var, notes) -> Allocation:
    idx = pd.MultiIndex.from_product([mat.deps, mat.tabs], names=["department_id", "table"])
    frame = pd.DataFrame({"n_optimal": n_opt.ravel(), "units": whole.ravel()}, index=idx)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.where(mat.present & (whole > 0), mat.v / np.where(whole > 0, whole, 1.0) - mat.v * mat.inv_n_pop,
                       np.where(mat.present & (mat.v > 0), np.inf, 0.0))
    frame["variance"] = np.maximum(var, 0.0).ravel()
    produced = ["n_optimal", "units", "variance", "se", "contacts", "unit_cost_total"]
    out = (units.drop(columns=[c for c in produced if c in units.columns]).set_index(["department_id", "table"])
           .join(frame, how="left").reset_index())
    for col, fill in (("channel", None), ("population", np.nan), ("fpc", False), ("minimum", 0.0),
                      ("maximum", np.nan), ("rate", 1.0), ("variance_source", None)):
        if col not in out.columns:
            out[col] = fill
    out["fpc"] = out["fpc"].fillna(False).astype(bool)
    out["rate"] = out["rate"].fillna(1.0)
    out["units"] = out["units"].astype(int)
    out["contacts"] = np.ceil(out["units"] / out["rate"] - 1e-9).astype(int)
    out["unit_cost_total"] = out["units"] * out["cost"]
    out["se"] = np.sqrt(out["variance"])
    dep_var = pd.Series(mat.variance(whole), index=mat.deps)
    at_min = np.all((whole <= mat.m + 1e-9) | ~mat.present, axis=1)
    at_max = (whole >= mat.mx - 1e-9) & mat.present & np.isfinite(mat.mx) & (mat.mx > mat.m)
    tabs = np.asarray(mat.tabs)
    capped = [";".join(f"{t}=maximum" for t in tabs[row]) for row in at_max]
    deps = pd.DataFrame({
        "department_id": mat.deps,
        "budget": (mat.c * whole).sum(axis=1),
        "variance": dep_var.to_numpy(),
    })
    deps["se"] = np.sqrt(deps["variance"])
    deps["half_width"] = z * deps["se"]
    if np.isfinite(target_var):
        deps["target_reached"] = deps["variance"] <= target_var * (1 + 1e-6) + _rounding_slack(mat, whole)
    else:
        deps["target_reached"] = pd.NA
    deps["bound"] = [c if c else ("minimum" if m else "") for c, m in zip(capped, at_min)]
    total = float(deps["budget"].sum())
    return Allocation(method, level, out[PLAN_UNIT_COLUMNS + [c for c in out.columns if c not in PLAN_UNIT_COLUMNS]],
                      deps[PLAN_DEPARTMENT_COLUMNS], float("nan") if budget is None else float(budget),
                      float(target_var), total, tuple(notes))


def _rounding_slack(mat: _Matrix, whole: np.ndarray) -> np.ndarray:
    """How much rounding to whole units can raise a department's variance (half a unit per table)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = np.maximum(whole - 0.5, 0.5)
        slack = np.where(mat.present & (whole > 0), mat.v / lower - mat.v / np.where(whole > 0, whole, 1.0), 0.0)
    return slack.sum(axis=1)


def indicator_precision(indicator_units: pd.DataFrame, allocation: Allocation) -> pd.DataFrame:
    """Expected SE and half-width of every sampled indicator under the plan.

    ``se_k = sqrt(u_k (1 / n_t - 1 / N_t))`` with ``u_k`` from
    :func:`indicator_unit_variances` and ``n_t`` the planned units of its
    table; the half-width uses the t quantile on ``n_t - 1`` degrees of
    freedom (a design without clusters; a clustered survey has fewer).

    Returns
    -------
    DataFrame
        :data:`PLAN_INDICATOR_COLUMNS`.
    """
    plan = allocation.units[["department_id", "table", "units", "population", "fpc"]]
    out = indicator_units.merge(plan, on=["department_id", "table"], how="inner")
    n = out["units"].to_numpy(float)
    pop = out["population"].to_numpy(float)
    inv_pop = np.where(out["fpc"].to_numpy(bool) & np.isfinite(pop) & (pop > 0), 1.0 / np.where(pop > 0, pop, 1), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.where(n > 0, out["unit_variance"].to_numpy(float) * (1.0 / np.where(n > 0, n, 1) - inv_pop), np.inf)
    out["se"] = np.sqrt(np.maximum(var, 0.0))
    out["df"] = np.maximum(n - 1.0, 1.0)
    q = stats.t.ppf(0.5 + allocation.level / 2, out["df"].to_numpy(float))
    out["half_width"] = q * out["se"]
    out["units"] = out["units"].astype(int)
    return out[PLAN_INDICATOR_COLUMNS].sort_values(["department_id", "indicator_id"]).reset_index(drop=True)


# ---------------------------------------------------------------------------
# expected rank intervals
# ---------------------------------------------------------------------------


def assumed_true_index(departments: pd.DataFrame) -> pd.Series:
    """Last year's indices pulled toward their mean so that their spread is the true one's.

    ``mu_d = m + k (I_d - m)`` with ``k = sqrt(max(0, 1 - mean(se^2) / var(I)))``
    (method of moments: the variance of estimates is the variance of the true
    values plus the sampling variance).

    Parameters
    ----------
    departments : ``department_id, index, se``

    Returns
    -------
    Series of the assumed true index by department id.
    """
    d = departments.dropna(subset=["index"]).drop_duplicates("department_id").set_index("department_id")
    est = d["index"].astype(float)
    if len(est) < 2:
        return est
    se2 = d["se"].astype(float).fillna(0.0) ** 2
    var = float(est.var(ddof=1))
    k = np.sqrt(max(0.0, 1.0 - float(se2.mean()) / var)) if var > 0 else 0.0
    m = float(est.mean())
    return m + k * (est - m)


def expected_rank_intervals(assumed: pd.DataFrame, se: pd.Series, *, level: float, seed: int, year: int,
                            group: str | None = None, replicates: int = 20, n_draws: int = 1000,
                            scope: str = "overall") -> pd.DataFrame:
    """Expected marginal rank interval of every department under a plan's standard errors.

    Parameters
    ----------
    assumed : ``department_id, index`` (assumed true indices, see
        :func:`assumed_true_index`) and ``group`` if given
    se : planned index standard error by department id
    level : confidence level of the rank intervals
    seed, year : the project's seed and the planning year (stream ``plan``)
    group : rank within this column (e.g. ``category``)
    replicates : simulated evaluations averaged
    n_draws : draws of each simulated ranking (as in the evaluation)
    scope : a label of the stream (``overall``, ``category``; several plans
        of one year use different scopes)

    Returns
    -------
    DataFrame
        ``department_id, rank_low, rank_high, rank_width``: the means over the
        replicates of the interval's ends and of its width
        ``rank_high - rank_low`` (0 = the rank is certain).

    Notes
    -----
    Each replicate draws estimates ``I_d + se_d Z`` and ranks them as
    :func:`evaluation.ranking.rank_intervals` does (Goldstein & Spiegelhalter
    1996), so the width is what next year's evaluation is expected to publish
    if the assumed indices are right.
    """
    rng = stream(seed, "plan", year, "rank", scope)
    base = assumed.copy()
    base["se"] = base["department_id"].map(se).astype(float)
    cols = ["department_id", "index", "se"] + ([group] if group else [])
    base = base[cols].dropna(subset=["index"]).reset_index(drop=True)
    lows, highs, widths = [], [], []
    for _ in range(replicates):
        sim = base.copy()
        sim["index"] = base["index"] + base["se"].fillna(0.0) * rng.standard_normal(len(base))
        ri = rank_intervals(sim, level=level, n_draws=n_draws, seed=int(rng.integers(2**32)), group=group)
        ri = ri.set_index("department_id").reindex(base["department_id"])
        lows.append(ri["rank_low"].to_numpy(float))
        highs.append(ri["rank_high"].to_numpy(float))
        widths.append((ri["rank_high"] - ri["rank_low"]).to_numpy(float))
    return pd.DataFrame({"department_id": base["department_id"], "rank_low": np.mean(lows, axis=0),
                         "rank_high": np.mean(highs, axis=0), "rank_width": np.mean(widths, axis=0)})


# ---------------------------------------------------------------------------
# draws
# ---------------------------------------------------------------------------


def systematic_sample(size: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Positions (0-based, ascending) of a systematic sample of ``n`` from ``size`` with a random start.

    Fractional interval ``k = size / n``, start ``u ~ U[0, k)``, positions
    ``floor(u + j k)`` for ``j = 0..n-1``: every position has inclusion
    probability ``n / size`` exactly (Cochran 1977, ch. 8).  ``n >= size``
    takes every position.
    """
    if n <= 0 or size <= 0:
        return np.empty(0, dtype=np.int64)
    if n >= size:
        return np.arange(size, dtype=np.int64)
    k = size / n
    start = rng.uniform(0.0, k)
    return np.minimum(np.floor(start + k * np.arange(n)).astype(np.int64), size - 1)


def draw_callback_sample(frame: pd.DataFrame, contacts: pd.Series, *, seed: int, year: int) -> pd.DataFrame:
    """Draw the callback cases: systematic within department over records sorted by matter and month.

    Parameters
    ----------
    frame : case records, one row each: ``department_id, case_id`` and
        optionally ``matter`` (the matter type), ``handled_month``; no
        phone number is needed or returned
    contacts : cases to draw per department id
    seed, year : the project's seed and the planning year; department ``d``
        draws from ``stream(seed, "plan", year, "callback", d)``

    Returns
    -------
    DataFrame
        :data:`DRAW_COLUMNS`, one row per drawn case: its position in the
        department's sorted frame, the frame size ``N_d``, cases drawn
        ``m_d``, inclusion probability ``m_d / N_d`` and weight
        ``N_d / m_d``, the size of its matter type in the frame and the
        cases drawn from it, and its place in the randomised call order.
        A department with fewer records than contacts is drawn whole.

    Notes
    -----
    Sorting by matter before a systematic draw is implicit stratification:
    each matter type gets ``m_d N_h / N_d`` cases within one (Cochran 1977,
    ch. 8), without rounding any small matter type to zero probability.
    """
    rows = []
    f = frame.copy()
    for c in ("matter", "handled_month"):
        if c not in f.columns:
            f[c] = pd.NA
    f["_matter_key"] = f["matter"].astype("string").fillna("")
    f["_month_key"] = f["handled_month"].astype("string").fillna("")
    f["_case_key"] = f["case_id"].astype("string")
    for dep in sorted(contacts.index):
        m = int(contacts[dep])
        sub = f[f["department_id"] == dep].sort_values(["_matter_key", "_month_key", "_case_key"], kind="stable")
        size = len(sub)
        if m <= 0 or size == 0:
            continue
        rng = stream(seed, "plan", year, "callback", dep)
        pos = systematic_sample(size, m, rng)
        drawn = sub.iloc[pos]
        k = len(pos)
        matter_size = sub["_matter_key"].value_counts()
        matter_drawn = drawn["_matter_key"].value_counts()
        rows.append(pd.DataFrame({
            "department_id": dep, "case_id": drawn["case_id"].to_numpy(), "matter": drawn["matter"].to_numpy(),
            "handled_month": drawn["handled_month"].to_numpy(), "frame_position": pos + 1, "frame_size": size,
            "drawn": k, "inclusion_probability": k / size, "weight": size / k,
            "matter_size": drawn["_matter_key"].map(matter_size).to_numpy(),
            "matter_drawn": drawn["_matter_key"].map(matter_drawn).to_numpy(),
            "call_order": rng.permutation(k) + 1,
        }))
    if not rows:
        return pd.DataFrame(columns=DRAW_COLUMNS)
    out = pd.concat(rows, ignore_index=True)
    return out.sort_values(["department_id", "call_order"], kind="stable").reset_index(drop=True)[DRAW_COLUMNS]


def schedule_visits(visits: pd.Series, days, *, seed: int, year: int, halls: dict[str, list[str]] | None = None,
                    mystery_share: float = 0.5) -> pd.DataFrame:
    """The site-visit schedule: halls x days, randomised, spread over the fieldwork season.

    Parameters
    ----------
    visits : visits per department id
    days : the fieldwork days (dates), in order
    seed, year : the project's seed and the planning year; department ``d``
        draws from ``stream(seed, "plan", year, "visits", d)``
    halls : department id -> its halls (default: one hall, named by the id)
    mystery_share : share of mystery visits (the rest announced)

    Returns
    -------
    DataFrame
        :data:`VISIT_COLUMNS`: ``visit_no`` 1.. in date order, ``date``,
        ``half_day`` (``morning`` / ``afternoon``), ``hall``, ``visit_type``
        (``announced`` / ``mystery``, the codes of the visits table).

    Notes
    -----
    With ``n`` visits the ``D`` days are cut into ``n`` consecutive segments
    of ``D / n`` days and one day is drawn uniformly in each (stratified in
    time, so visits do not bunch in one month); with more visits than days,
    days repeat.  ``round(n * mystery_share)`` visits, chosen at random, are
    mystery visits; the halls are visited in a random order, cycling.
    """
    days = list(days)
    if not days:
        raise MethodologyError("No fieldwork days for the site visits", [Problem(
            "the fieldwork period holds no working day", fix="give a fieldwork period with working days")])
    if not 0.0 <= mystery_share <= 1.0:
        raise MethodologyError("Invalid mystery share", [Problem(
            f"mystery_share = {mystery_share!r}", fix="give a share between 0 and 1")])
    rows = []
    n_days = len(days)
    for dep in sorted(visits.index):
        n = int(visits[dep])
        if n <= 0:
            continue
        rng = stream(seed, "plan", year, "visits", dep)
        edges = np.floor(np.linspace(0, n_days, n + 1)).astype(int)
        picks = []
        for j in range(n):
            lo, hi = edges[j], max(edges[j + 1], edges[j] + 1)
            picks.append(days[min(int(rng.integers(lo, hi)), n_days - 1)])
        half_day = np.where(rng.random(n) < 0.5, "morning", "afternoon")
        own = list((halls or {}).get(dep) or [dep])
        order = [own[i] for i in rng.permutation(len(own))]
        hall = [order[j % len(order)] for j in range(n)]
        kind = np.array(["announced"] * n, dtype=object)
        kind[rng.permutation(n)[:int(round(n * mystery_share))]] = "mystery"
        rows.append(pd.DataFrame({"department_id": dep, "visit_no": np.arange(1, n + 1), "date": picks,
                                  "half_day": half_day, "hall": hall, "visit_type": kind}))
    if not rows:
        return pd.DataFrame(columns=VISIT_COLUMNS)
    return pd.concat(rows, ignore_index=True)[VISIT_COLUMNS]
