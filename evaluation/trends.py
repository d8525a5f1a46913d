"""Year over year: changes with intervals and tests, rank changes, the crosswalk, comparability.

The input is a *history*: a dict of tidy frames (:data:`HISTORY_COLUMNS`),
built from evaluation results by :func:`history_frames` or read back from a
project's history file (``minping.history.load_history``).

Change and its test
    For department ``d``, measure ``m`` (the index or a dimension) and years
    ``s < t``: ``change = E_t - E_s`` with ``change_se = sqrt(se_t^2 +
    se_s^2)`` (the two years are independent samples), the normal interval
    ``change +/- z * change_se`` and the two-sided z test of no change,
    ``p = 2 (1 - Phi(|change| / change_se))``.

Multiplicity
    One family is one measure and one pair of years: the departments tested
    there.  Holm (family-wise error) or Benjamini–Hochberg (false discovery
    rate) (:func:`adjust_pvalues`, equal to statsmodels' ``multipletests``), named in
    ``p_adjust_method``; ``significant`` is ``p_adjusted < 1 - level``.
    ``change_ci_low/high`` are marginal (one department at a time).

Adjusted intervals (what the documents print beside the verdict)
    ``change_adj_ci_low/high`` are the marginal intervals at the critical
    level ``c`` of the family's adjusted test, ``change +/- z_{1 - c/2}
    change_se`` (``adjusted_level = 1 - c``), with ``alpha = 1 - level``,
    ``m`` the tests of the family and ``R`` the rejections:

    - Holm: ``c = alpha / max(m - R, 1)``.  For the departments Holm does
      not reject these are the compatible simultaneous intervals of
      Strassburger & Bretz (2008, Statistics in Medicine 27:4914–4927: the
      Bonferroni level over the hypotheses not rejected); for the rejected
      ones the same level gives an interval on the side of zero the test
      decided.
    - Benjamini–Hochberg: ``c = max(R, 1) alpha / m``, the false-coverage-rate
      adjusted intervals of Benjamini & Yekutieli (2005, JASA 100:71–81),
      whose false coverage rate over the selected departments is at most
      ``alpha``.

    Either way an adjusted interval excludes zero exactly when the adjusted
    test rejects (Holm: every rejected ``p_(i) < alpha / (m - i + 1) <=
    alpha / (m - R + 1)``, the first kept ``p_(R+1) >= alpha / (m - R)``;
    BH: rejected ``p <= p_(R) < R alpha / m``, kept ``p_(j) >= j alpha / m >
    R alpha / m``), so interval and verdict always agree.  The comparable
    change has its own family and its own ``comparable_change_adj_ci_low/high``.

Gates
    ``index_raw`` (the index before gate deductions and bonuses) is a measure
    of its own beside ``index``: its change is the like-for-like change of
    what was measured, and ``change(index) - change(index_raw)`` is the
    effect of the gates.

Crosswalk
    The predecessors of ``d`` in year ``s`` follow the crosswalk entries with
    ``s < year <= t`` (so renames and merges chain over several years).  A
    rename compares with the predecessor's figures.  A merged department is
    compared with its predecessors combined by their case volumes ``v_k`` in
    year ``s``: ``E = sum_k v_k E_k / sum_k v_k`` and ``se = sqrt(sum_k
    (v_k / sum v)^2 se_k^2)`` (independent samples); when a volume is missing
    the predecessors are combined with equal weights and the row says so.
    Predecessors without data are left out of the combination (noted).

Comparability
    An indicator is comparable between ``s`` and ``t`` when both years'
    frameworks define it with the same definition version.  The published
    change of a measure is ``comparable`` when no indicator of the measure
    changed definition, was added or was removed, and none was collected in
    only one of the two years (a channel not collected, a column no file
    had: flag ``coverage_changed``); otherwise it is shown but not tested
    ("口径调整，不可比").  Beside it, ``comparable_change`` recomputes
    both years' measure from the indicator scores present in both years with
    unchanged definitions, with the weights of year ``t`` renormalised over
    that common set (:func:`evaluation.index.effective_weights`), before any
    gate deduction or bonus.  Its variance is ``kappa * sum_i c_i^2 se_i^2``,
    where ``kappa`` (per department, year and measure) is the published
    variance over the variance the indicator standard errors would give if
    independent: it carries the cross-indicator correlation of the full
    measure over to the subset (an approximation; exact when the subset is
    the full set).

Rank change
    Ranks among the departments evaluated in both years (after the
    crosswalk), so that entries and exits move nobody.  Both years' indices
    are drawn from ``N(E, se^2)``, each draw is ranked, and the interval of
    ``rank_change = previous_rank - rank`` (positive = moved up) is the
    ``(1 -/+ level) / 2`` quantiles of the simulated differences.

Consequence flag
    ``bottom_of_category_two_years``: last in its comparison category (point
    estimate ranks, categories of at least two departments) in year ``t``
    and, for its predecessors combined, in year ``s``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd
from scipy import stats

from surveys.errors import InsufficientDataError, MethodologyError, MinpingWarning, Problem

from .citywide import city_means
from .index import effective_weights
from .ranking import point_ranks
from .seeds import stream
from .tables import TableGroup

HISTORY_COLUMNS = {
    "runs": ["year", "source", "framework_id", "framework_version", "framework_sha256", "toolkit_version",
             "manifest_sha256", "level", "seed", "recorded_at", "source_file"],
    "departments": ["year", "department_id", "department", "department_en", "category", "tier", "index", "se",
                    "ci_low", "ci_high", "index_raw", "g1_deduction", "bonus", "rank", "rank_low", "rank_high",
                    "rank_in_category", "rank_in_category_low", "rank_in_category_high", "grade", "flags",
                    "n_survey", "n_callback", "n_visit", "case_volume"],
    "dimensions": ["year", "department_id", "dimension_id", "dimension", "dimension_en", "weight", "estimate", "se",
                   "ci_low", "ci_high"],
    "indicators": ["year", "department_id", "indicator_id", "indicator", "indicator_en", "dimension_id", "channel",
                   "definition_version", "weight", "raw_value", "raw_se", "score", "se", "ci_low", "ci_high", "n"],
    "definitions": ["year", "framework_id", "framework_version", "indicator_id", "dimension_id", "version", "weight",
                    "dimension_weight"],
    "crosswalk": ["year", "successor", "predecessor", "kind"],
}

TREND_COLUMNS = [
    "year", "previous_year", "department_id", "department", "category", "measure", "mapping", "predecessors",
    "estimate", "se", "ci_low", "ci_high", "previous_estimate", "previous_se", "change", "change_se",
    "change_ci_low", "change_ci_high", "p_value", "p_adjusted", "p_adjust_method", "significant",
    "adjusted_level", "change_adj_ci_low", "change_adj_ci_high", "comparable",
    "comparable_change", "comparable_change_se", "comparable_change_ci_low", "comparable_change_ci_high",
    "comparable_p_value", "comparable_p_adjusted", "comparable_significant", "comparable_adjusted_level",
    "comparable_change_adj_ci_low", "comparable_change_adj_ci_high", "n_indicators", "n_comparable_indicators",
    "changed_indicators", "level", "flags", "note",
]
#: the measures of every department besides its dimensions, in the order they are listed
INDEX_MEASURES = ("index", "index_raw")
RANK_CHANGE_COLUMNS = [
    "year", "previous_year", "department_id", "department", "category", "mapping", "predecessors", "n_compared",
    "rank", "previous_rank", "rank_change", "rank_change_low", "rank_change_high", "p_rank_up", "rank_published",
    "previous_rank_published", "rank_in_category", "n_in_category", "previous_rank_in_category",
    "previous_n_in_category", "bottom_of_category_two_years", "level", "note",
]
#: the index of each department of a year in every recorded year up to it, mapped through the crosswalk
SERIES_COLUMNS = ["department_id", "year", "estimate", "se", "mapping"]
MOVER_COLUMNS = ["year", "previous_year", "list", "position", "department_id", "department", "change",
                 "change_ci_low", "change_ci_high", "change_adj_ci_low", "change_adj_ci_high", "p_adjusted",
                 "significant", "basis"]
#: the change of the city mean (:func:`evaluation.citywide.city_means`) since the previous year
CITY_CHANGE_COLUMNS = ["year", "previous_year", "measure", "estimate", "se", "n_departments", "previous_estimate",
                       "previous_se", "previous_n_departments", "change", "change_se", "p_value", "p_adjusted",
                       "p_adjust_method", "significant", "adjusted_level", "change_adj_ci_low", "change_adj_ci_high",
                       "level"]

P_ADJUST = ("holm", "bh")

#: flag code -> note text (Chinese / English)
NOTES = {
    "new": "新设部门，无上年数据 / new department: no previous year",
    "renamed": "更名，与前身比较 / renamed: compared with its predecessor",
    "merged": "合并，前身按办件量加权合并比较 / merged: predecessors combined by case volume",
    "equal_weights": "无办件量，前身按等权合并 / no case volumes: predecessors combined with equal weights",
    "partial_predecessors": "部分前身无上年数据 / some predecessors have no data in the previous year",
    "definition_changed": "口径调整，不可比 / definition changed, not comparable",
    "coverage_changed": "两年采集的渠道或指标不同，不可比 / a channel or indicator collected in only one of the two "
                        "years: not comparable",
    "weights_changed": "权重调整 / weights changed",
    "definitions_unknown": "上年为导入的公布结果，指标口径无法核对 / previous year imported from a published "
                           "ranking: definitions cannot be checked",
    "no_se": "无标准误，无法检验 / no standard error: change not testable",
    "not_evaluated": "本年未评估 / not evaluated this year",
    "previous_not_evaluated": "上年未评估，无上年数据 / not evaluated in the previous year: no previous figure",
}


@dataclass(frozen=True)
class Trends(TableGroup):
    """The change since the previous recorded year, as :func:`evaluation.trends.year_trends` computes it.

    ``changes``: the rows of ``year`` of :func:`evaluation.trends.trends`
    (index, index before gates and dimensions; crosswalk, adjusted tests
    and intervals, comparability); ``rank_changes`` and ``movers`` for the
    same pair of years; ``series``: the index of every department of
    ``year`` in each recorded year up to ``year``, mapped through the
    crosswalk (for trend lines); ``city``: the change of the city means
    (:func:`city_changes`).
    """

    year: int
    previous_year: int
    p_adjust: str
    changes: pd.DataFrame
    rank_changes: pd.DataFrame
    movers: pd.DataFrame
    series: pd.DataFrame
    city: pd.DataFrame
    CONTRACT = {"changes": ("trends", TREND_COLUMNS), "rank_changes": ("rank_changes", RANK_CHANGE_COLUMNS),
                "movers": ("movers", MOVER_COLUMNS), "series": ("trend_series", SERIES_COLUMNS),
                "city": ("city_changes", CITY_CHANGE_COLUMNS)}


@dataclass(frozen=True)
class _Weighted:
    id: str
    weight: float


@dataclass(frozen=True)
class _Weights:
    """The two weight levels of a stored framework, in the shape effective_weights reads."""

    indicators: tuple[_Weighted, ...]
    dimensions: tuple[_Weighted, ...]


# ---------------------------------------------------------------------------
# building a history
# ---------------------------------------------------------------------------

def history_frames(results, *, volumes: Mapping[int, Mapping[str, float]] | None = None) -> dict[str, pd.DataFrame]:
    """The history frames of one or more :class:`~evaluation.result.EvaluationResult`.

    Parameters
    ----------
    results : EvaluationResult or sequence of them (one per year)
    volumes : optional ``{year: {department_id: case volume}}``; otherwise a
        ``case_volume`` or ``cases_received`` column of ``result.quality`` is
        used when present, else the volume is missing.

    Returns
    -------
    dict of DataFrame
        Keys and columns as :data:`HISTORY_COLUMNS`.  ``definitions`` holds
        every indicator's definition version, within-dimension weight and its
        dimension's weight; ``crosswalk`` one row per successor and
        predecessor.
    """
    results = [results] if hasattr(results, "departments") else list(results)
    parts: dict[str, list[pd.DataFrame]] = {k: [] for k in HISTORY_COLUMNS}
    for r in results:
        fw, year = r.framework, int(r.year)
        deps = r.departments.copy()
        vol = (volumes or {}).get(year)
        if vol is None:
            col = next((c for c in ("case_volume", "cases_received") if c in r.quality.columns), None)
            vol = r.quality.set_index("department_id")[col] if col else {}
        deps["case_volume"] = deps["department_id"].map(pd.Series(vol, dtype=float))
        parts["departments"].append(deps)
        parts["dimensions"].append(r.dimensions)
        version = {i.id: i.version for i in fw.indicators}
        parts["indicators"].append(r.indicators.assign(definition_version=r.indicators["indicator_id"].map(version)))
        dim_w = {d.id: d.weight for d in fw.dimensions}
        parts["definitions"].append(pd.DataFrame([{
            "year": year, "framework_id": fw.id, "framework_version": fw.version, "indicator_id": i.id,
            "dimension_id": i.dimension, "version": i.version, "weight": i.weight,
            "dimension_weight": dim_w[i.dimension]} for i in fw.indicators]))
        parts["crosswalk"].append(pd.DataFrame(
            [{"year": e.year, "successor": e.successor, "predecessor": p, "kind": e.kind}
             for e in fw.crosswalk for p in e.predecessors], columns=HISTORY_COLUMNS["crosswalk"]))
        prov = r.provenance
        parts["runs"].append(pd.DataFrame([{
            "year": year, "source": "run", "framework_id": fw.id, "framework_version": fw.version,
            "framework_sha256": fw.sha256, "toolkit_version": prov.toolkit_version,
            "manifest_sha256": prov.manifest_sha256, "level": r.level, "seed": prov.seed,
            "recorded_at": None, "source_file": None}]))
    out = {}
    for key, frames in parts.items():
        frames = [f for f in frames if len(f)]
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=HISTORY_COLUMNS[key])
        for c in HISTORY_COLUMNS[key]:
            if c not in frame.columns:
                frame[c] = np.nan
        out[key] = frame[HISTORY_COLUMNS[key]].reset_index(drop=True)
    out["crosswalk"] = out["crosswalk"].drop_duplicates(ignore_index=True)
    return out


def lineage(crosswalk: pd.DataFrame, department_id: str, year: int, previous_year: int) -> tuple[str, ...]:
    """Ids in ``previous_year`` whose work ``department_id`` carries in ``year``.

    Applies the crosswalk entries dated ``previous_year < entry year <= year``
    from the latest back; a department outside the crosswalk is its own
    predecessor.
    """
    return _lineage(_steps(crosswalk), department_id, year, previous_year)


def _steps(crosswalk: pd.DataFrame) -> dict[tuple[int, str], list[str]]:
    steps: dict[tuple[int, str], list[str]] = {}
    for y, succ, pred in zip(crosswalk["year"], crosswalk["successor"], crosswalk["predecessor"]):
        steps.setdefault((int(y), str(succ)), []).append(str(pred))
    # sorted, so that the result never depends on the order rows were stored in
    return {k: sorted(set(v)) for k, v in steps.items()}


def _lineage(steps: dict, department_id: str, year: int, previous_year: int) -> tuple[str, ...]:
    ids = [department_id]
    for y in range(int(year), int(previous_year), -1):
        nxt: list[str] = []
        for d in ids:
            nxt += [p for p in steps.get((y, d), [d]) if p not in nxt]
        ids = nxt
    return tuple(ids)


# ---------------------------------------------------------------------------
# the computation
# ---------------------------------------------------------------------------

def trends(history: Mapping[str, pd.DataFrame], years=None, *, level: float, seed: int,
           p_adjust: str = "holm", n_draws: int = 2000, k: int = 3,
           frameworks: frozenset[str] | None = None) -> dict[str, pd.DataFrame]:
    """Changes between years per department and measure, rank changes and the movers.

    Parameters
    ----------
    history : dict of frames (:data:`HISTORY_COLUMNS`; ``departments`` required)
    years : years to compare, consecutive pairs of the sorted list (default:
        every year of the history)
    level : confidence level of every interval; ``1 - level`` is the
        significance level of the adjusted tests
    seed : the project seed; the rank-change simulation draws from its
        ``"trends"`` stream (:func:`evaluation.seeds.stream`) for these years
    p_adjust : ``"holm"`` or ``"bh"`` (Benjamini–Hochberg)
    n_draws : draws of the rank-change simulation
    k : length of each movers list
    frameworks : the framework ids whose years may be compared with each
        other (the current framework's id and its ``comparable_with``); two
        years recorded under frameworks outside this set, or under two
        different ids when it is None, are refused with both names: a
        different framework measures different things, and only its
        declaration says otherwise.  Versions of one framework are compared,
        indicator by indicator, through the definition versions.

    Returns
    -------
    dict of DataFrame
        ``trends`` (:data:`TREND_COLUMNS`): one row per year, department and
        measure (``index``, ``index_raw`` before gates, then the dimension
        ids); the first year carries estimates only.  ``estimate, se, ci_low,
        ci_high`` (normal interval at ``level``), ``previous_estimate,
        previous_se`` (predecessors combined per the crosswalk), ``change,
        change_se, change_ci_low, change_ci_high`` (marginal interval),
        ``p_value, p_adjusted, p_adjust_method, significant``,
        ``adjusted_level, change_adj_ci_low, change_adj_ci_high`` (the
        interval that agrees with ``significant``, see the module notes)
        (test columns empty where not comparable or without standard error),
        ``comparable`` (NA when the previous year's definitions are unknown),
        ``comparable_change`` and its ``_se``, ``_ci_low``, ``_ci_high``,
        ``comparable_p_value``, ``comparable_p_adjusted``,
        ``comparable_significant``, ``comparable_adjusted_level``,
        ``comparable_change_adj_ci_low/high``, ``n_indicators``
        (with a score this year), ``n_comparable_indicators``, ``mapping``
        (same, rename, merge, new), ``predecessors`` (";"-joined),
        ``changed_indicators`` (";"-joined ids whose definition changed), ``flags``
        (codes of :data:`NOTES`) and ``note`` (their text).

        ``rank_changes`` (:data:`RANK_CHANGE_COLUMNS`): per department and
        pair of years, ranks among the ``n_compared`` departments in both
        years, the rank change with its interval, ``p_rank_up`` (share of
        draws in which it moved up), the published ranks, category ranks and
        ``bottom_of_category_two_years``.

        ``movers`` (:data:`MOVER_COLUMNS`): per pair of years, the ``k`` most
        improved and most declined departments by index change, and by
        significant change; ``basis`` is ``published`` or, where the
        published change is not comparable, ``comparable_indicators``.

    Notes
    -----
    See the module docstring for every formula and rule.
    """
    if not 0 < level < 1:
        raise MethodologyError("Invalid confidence level", [Problem(
            f"level must lie strictly between 0 and 1, found {level!r}",
            fix="pass the confidence level of the recorded runs (the framework's confidence_level)")])
    if p_adjust not in P_ADJUST:
        raise MethodologyError("Unknown multiplicity adjustment", [Problem(
            f"p_adjust = {p_adjust!r}", fix=f"use one of {list(P_ADJUST)}")])
    h = {key: history.get(key, pd.DataFrame(columns=cols)) for key, cols in HISTORY_COLUMNS.items()}
    h["departments"] = h["departments"].astype({"year": int})
    # A fixed row order, so that nothing (the rank draws included) depends on how the history was stored.
    for key, keys in (("departments", ["year", "department_id"]), ("dimensions", ["year", "department_id",
                      "dimension_id"]), ("indicators", ["year", "department_id", "indicator_id"]),
                      ("definitions", ["year", "indicator_id"])):
        h[key] = h[key].sort_values(keys, kind="stable").reset_index(drop=True)
    available = sorted(int(y) for y in h["departments"]["year"].unique())
    years = sorted({int(y) for y in years}) if years else available
    missing = [y for y in years if y not in available]
    if missing or len(years) < 2:
        raise InsufficientDataError("Not enough years to compare", [Problem(
            f"asked for {years}, the history holds {available}" + (f"; missing {missing}" if missing else ""),
            fix="record the missing years (run them, or import their published ranking) or choose two or more "
                "years the history holds")])
    _check_frameworks(h["runs"], years, frameworks)
    z = stats.norm.ppf(0.5 + level / 2)
    rng = stream(seed, "trends", *years)
    kappa = {y: _kappa(h, y) for y in years}
    rows = [_year_rows(h, years[0])]
    ranks = []
    for s, t in pairwise(years):
        mapping = _mapping(h, s, t)
        pair = _pair(h, s, t, mapping, kappa)
        rows.append(pair)
        ranks.append(_rank_changes(h, s, t, mapping, pair, level, n_draws, rng))
    out = pd.concat(rows, ignore_index=True)
    out = _finish(out, z, level, p_adjust)
    rank_changes = pd.concat(ranks, ignore_index=True).assign(level=level)[RANK_CHANGE_COLUMNS]
    return {"trends": out, "rank_changes": rank_changes, "movers": _movers(out, k)}


def _check_frameworks(runs: pd.DataFrame, years: list[int], frameworks: frozenset[str] | None) -> None:
    """Refuse to compare years recorded under frameworks that are not declared comparable."""
    by_year = {int(y): f for y, f in zip(runs["year"], runs["framework_id"]) if isinstance(f, str) and f}
    ids = {by_year[y] for y in years if y in by_year}
    outside = ids - frameworks if frameworks is not None else (ids if len(ids) > 1 else set())
    if outside:
        listing = ", ".join(f"{y}: {by_year[y]}" for y in years if y in by_year)
        raise MethodologyError("The years were evaluated under different frameworks", [Problem(
            f"frameworks by year: {listing}",
            fix="compare only years of one framework (minping trend --years ...), or, if the frameworks measure "
                "the same things, list the earlier framework's id under [framework] comparable_with = [...] in "
                "the current framework file (indicator versions then decide what is comparable)")])


def year_trends(history: Mapping[str, pd.DataFrame], year: int, *, level: float, seed: int,
                p_adjust: str = "holm", n_draws: int = 2000, k: int = 3,
                frameworks: frozenset[str] | None = None):
    """The change of ``year`` since the previous recorded year, for that year's documents.

    :func:`trends` on the last recorded year before ``year`` and ``year``,
    plus the index series of every department of ``year`` through all
    recorded years up to it (each earlier year mapped through the crosswalk:
    a renamed department continues its predecessor's line, a merged one the
    predecessors combined by case volume, as in :func:`trends`).

    Returns
    -------
    :class:`Trends`, or None when the history holds no
    year before ``year`` (the documents then say there is no earlier year).

    When the previous year was evaluated under a framework not declared
    comparable (``frameworks``, see :func:`trends`), the change is not
    computed: None, with a :class:`~surveys.errors.MinpingWarning` naming
    both frameworks (the documents then say there is no comparable year).
    """
    deps = history.get("departments")
    if deps is None or deps.empty:
        return None
    recorded = sorted({int(y) for y in deps["year"]})
    earlier = [y for y in recorded if y < year]
    if not earlier or year not in recorded:
        return None
    try:
        _check_frameworks(history.get("runs", pd.DataFrame(columns=HISTORY_COLUMNS["runs"])), [earlier[-1], year],
                          frameworks)
    except MethodologyError as exc:
        warnings.warn(f"{year} is not compared with {earlier[-1]}: {exc.problems[0].message}", MinpingWarning,
                      stacklevel=2)
        return None
    tables = trends(history, [earlier[-1], year], level=level, seed=seed, p_adjust=p_adjust, n_draws=n_draws, k=k,
                    frameworks=frameworks)
    changes = tables["trends"][tables["trends"]["year"] == year].reset_index(drop=True)
    return Trends(year=year, previous_year=earlier[-1], p_adjust=p_adjust, changes=changes,
                  rank_changes=tables["rank_changes"], movers=tables["movers"],
                  series=_series(history, year, earlier),
                  city=city_changes(history, year, earlier[-1], level=level, p_adjust=p_adjust))


def city_changes(history: Mapping[str, pd.DataFrame], year: int, previous_year: int, *, level: float,
                 p_adjust: str = "holm") -> pd.DataFrame:
    """The change of the city means since ``previous_year`` (:data:`CITY_CHANGE_COLUMNS`).

    Each year's means are :func:`evaluation.citywide.city_means` over the
    departments evaluated that year (the published city average, no
    crosswalk: the city is the same city).  ``change_se`` treats the years
    as independent samples.  The measures (index, index before gates,
    dimensions) are one family, adjusted by ``p_adjust`` with the adjusted
    intervals of the module notes.
    """
    h = {key: history.get(key, pd.DataFrame(columns=cols)) for key, cols in HISTORY_COLUMNS.items()}
    deps = h["departments"].astype({"year": int})
    dims = h["dimensions"]
    dims = dims[dims["year"].astype(int).isin([year, previous_year])] if len(dims) else dims

    def means(y):
        d = deps[deps["year"] == y].astype({"index": float, "se": float, "index_raw": float})
        sub = dims[dims["year"].astype(int) == y].astype({"estimate": float, "se": float}) if len(dims) else None
        return city_means(d, sub).set_index("measure")

    now, then = means(year), means(previous_year)
    out = now.merge(then, left_index=True, right_index=True, suffixes=("", "_prev")).reset_index()
    out = pd.DataFrame({"year": year, "previous_year": previous_year, "measure": out["measure"],
                        "estimate": out["estimate"], "se": out["se"], "n_departments": out["n_departments"],
                        "previous_estimate": out["estimate_prev"], "previous_se": out["se_prev"],
                        "previous_n_departments": out["n_departments_prev"]})
    out["change"] = out["estimate"] - out["previous_estimate"]
    out["change_se"] = np.sqrt(out["se"] ** 2 + out["previous_se"] ** 2)
    out["p_value"] = _two_sided(out["change"], out["change_se"])
    tested = out["p_value"].notna()
    out["p_adjusted"] = np.nan
    out.loc[tested, "p_adjusted"] = adjust_pvalues(out.loc[tested, "p_value"].to_numpy(float), p_adjust)
    out["p_adjust_method"] = np.where(tested, p_adjust, "")
    out["significant"] = pd.array(np.where(tested, out["p_adjusted"] < 1 - level, False), dtype="boolean")
    out.loc[~tested, "significant"] = pd.NA
    c = critical_level(out.loc[tested, "p_adjusted"].to_numpy(float), 1 - level, p_adjust)
    out["adjusted_level"] = np.where(tested, 1 - c, np.nan)
    half = stats.norm.ppf(1 - c / 2) * out["change_se"]
    out["change_adj_ci_low"] = (out["change"] - half).where(tested)
    out["change_adj_ci_high"] = (out["change"] + half).where(tested)
    out["level"] = level
    order = {m: i for i, m in enumerate([*INDEX_MEASURES, *sorted(set(out["measure"]) - set(INDEX_MEASURES))])}
    out = out.sort_values("measure", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    return out[CITY_CHANGE_COLUMNS]


def critical_level(p_adjusted, alpha: float, method: str) -> float:
    """The critical p-value ``c`` of a family's adjusted test: ``p < c`` exactly when it rejects.

    Holm ``c = alpha / max(m - R, 1)``, Benjamini–Hochberg ``c = max(R, 1)
    alpha / m``, with ``m`` tests and ``R = #{p_adjusted < alpha}`` (see the
    module notes for why each reproduces the test's decisions and the
    references).  ``alpha`` for an empty family.
    """
    p_adjusted = np.asarray(p_adjusted, float)
    m = len(p_adjusted)
    if m == 0:
        return alpha
    rejected = int((p_adjusted < alpha).sum())
    if method == "holm":
        return alpha / max(m - rejected, 1)
    return max(rejected, 1) * alpha / m


def _series(history: Mapping[str, pd.DataFrame], year: int, earlier: list[int]) -> pd.DataFrame:
    """Index of each department of ``year`` in every earlier recorded year, through the crosswalk."""
    h = {key: history.get(key, pd.DataFrame(columns=cols)) for key, cols in HISTORY_COLUMNS.items()}
    h["departments"] = h["departments"].astype({"year": int})
    own = _measures(h, year)
    own = own[own["measure"] == "index"]
    parts = [own.assign(year=year, mapping="same")]
    for s in earlier:
        mapping = _mapping(h, s, year)
        prev = _measures(h, s)
        prev = prev[prev["measure"] == "index"].rename(columns={"department_id": "predecessor"})
        joined = mapping.dropna(subset=["predecessor"]).merge(prev, on="predecessor")
        joined = joined[joined["estimate"].notna()].copy()
        if not len(joined):
            continue
        joined["a"] = joined["a"] / joined.groupby("department_id")["a"].transform("sum")
        joined = joined.assign(ae=joined["a"] * joined["estimate"], a2v=joined["a"] ** 2 * joined["se"] ** 2)
        g = joined.groupby("department_id")
        combined = pd.DataFrame({"estimate": g["ae"].sum(),
                                 "se": np.sqrt(_strict_sum(joined["a2v"], joined["department_id"])),
                                 "mapping": g["mapping"].first()}).reset_index()
        parts.append(combined.assign(year=s))
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["department_id", "year"], kind="stable").reset_index(drop=True)[SERIES_COLUMNS]


def _measures(h, year: int) -> pd.DataFrame:
    deps = h["departments"][h["departments"]["year"] == year]
    dims = h["dimensions"][h["dimensions"]["year"].astype(int) == year] if len(h["dimensions"]) else h["dimensions"]
    out = [deps[["department_id", "index", "se"]].rename(columns={"index": "estimate"}).assign(measure="index"),
           # the gates shift the estimate, not its sampling error
           deps[["department_id", "index_raw", "se"]].rename(columns={"index_raw": "estimate"})
           .assign(measure="index_raw")]
    if len(dims):
        out.append(dims[["department_id", "dimension_id", "estimate", "se"]]
                   .rename(columns={"dimension_id": "measure"}))
    m = pd.concat(out, ignore_index=True)
    return m.astype({"estimate": float, "se": float})


def _year_rows(h, year: int) -> pd.DataFrame:
    deps = h["departments"][h["departments"]["year"] == year][["department_id", "department", "category"]]
    m = _measures(h, year).merge(deps, on="department_id", how="left")
    m["year"] = year
    m["flags"] = np.where(m["estimate"].isna(), "not_evaluated", "")
    return m


def _mapping(h, s: int, t: int) -> pd.DataFrame:
    """One row per current department and available predecessor, with its combination weight."""
    cur = h["departments"][h["departments"]["year"] == t]
    prev = h["departments"][h["departments"]["year"] == s].set_index("department_id")
    steps = _steps(h["crosswalk"])
    rows = []
    for d in cur["department_id"]:
        preds = _lineage(steps, d, t, s)
        avail = [p for p in preds if p in prev.index]
        kind = "same" if preds == (d,) else ("rename" if len(preds) == 1 else "merge")
        flags = {"same": [], "rename": ["renamed"], "merge": ["merged"]}[kind]
        if not avail:
            rows.append({"department_id": d, "predecessor": None, "a": np.nan, "mapping": "new",
                         "predecessors": ";".join(p for p in preds if p != d), "dep_flags": "new"})
            continue
        vol = pd.to_numeric(prev.loc[avail, "case_volume"], errors="coerce").to_numpy(float)
        equal = len(avail) > 1 and not np.all(np.isfinite(vol) & (vol > 0))
        a = np.ones(len(avail)) if equal or len(avail) == 1 else vol
        flags += (["equal_weights"] if equal else []) + (["partial_predecessors"] if len(avail) < len(preds) else [])
        rows += [{"department_id": d, "predecessor": p, "a": w, "mapping": kind, "predecessors": ";".join(preds),
                  "dep_flags": ";".join(flags)} for p, w in zip(avail, a)]
    return pd.DataFrame(rows, columns=["department_id", "predecessor", "a", "mapping", "predecessors", "dep_flags"])


def _definitions(h, year: int) -> pd.DataFrame:
    d = h["definitions"]
    if not len(d):
        return d
    d = d[d["year"].astype(int) == year]
    return d.astype({"version": str, "weight": float, "dimension_weight": float}).set_index("indicator_id")


def _weights(defs: pd.DataFrame) -> _Weights:
    dims = defs.drop_duplicates("dimension_id")
    return _Weights(tuple(_Weighted(i, w) for i, w in defs["weight"].items()),
                    tuple(_Weighted(d, w) for d, w in zip(dims["dimension_id"], dims["dimension_weight"])))


def _scores(h, year: int) -> pd.DataFrame:
    ind = h["indicators"]
    if not len(ind):
        return ind
    ind = ind[(ind["year"].astype(int) == year) & ind["score"].notna()]
    return ind[["department_id", "indicator_id", "dimension_id", "score", "se"]].astype({"score": float, "se": float})


def _kappa(h, year: int) -> pd.DataFrame:
    """Published variance over the variance of independent indicators, per department and measure."""
    ind, defs = _scores(h, year), _definitions(h, year)
    if not len(ind) or not len(defs):
        return pd.DataFrame(columns=["department_id", "measure", "kappa"])
    ew = effective_weights(ind, _weights(defs)).merge(ind[["department_id", "indicator_id", "se"]])
    parts = []
    for measure_col, w in (("index", "w_index"), ("dimension_id", "w_dim")):
        keys = ["department_id"] if measure_col == "index" else ["department_id", "dimension_id"]
        indep = (ew[w] ** 2 * ew["se"] ** 2).groupby([ew[k] for k in keys]).sum().rename("indep").reset_index()
        if measure_col == "index":
            indep["measure"] = "index"
        else:
            indep = indep.rename(columns={"dimension_id": "measure"})
        parts.append(indep)
    k = pd.concat(parts, ignore_index=True).merge(_measures(h, year), on=["department_id", "measure"], how="left")
    with np.errstate(invalid="ignore", divide="ignore"):
        k["kappa"] = np.where(k["indep"] > 0, k["se"] ** 2 / k["indep"], 1.0)
    return k[["department_id", "measure", "kappa"]]


def _pair(h, s: int, t: int, mapping: pd.DataFrame, kappa: dict) -> pd.DataFrame:
    """Rows of year ``t`` with the previous year ``s`` combined through the crosswalk."""
    cur = _year_rows(h, t)
    joined = mapping.dropna(subset=["predecessor"]).merge(
        _measures(h, s).rename(columns={"department_id": "predecessor"}), on="predecessor")
    joined = joined[joined["estimate"].notna()].copy()
    joined["a"] = joined["a"] / joined.groupby(["department_id", "measure"])["a"].transform("sum")
    joined["ae"] = joined["a"] * joined["estimate"]
    joined["a2v"] = joined["a"] ** 2 * joined["se"] ** 2
    g = joined.groupby(["department_id", "measure"])
    prev = pd.DataFrame({"previous_estimate": g["ae"].sum(), "previous_se": np.sqrt(_strict_sum(
        joined["a2v"], [joined["department_id"], joined["measure"]]))})
    out = cur.merge(prev.reset_index(), on=["department_id", "measure"], how="left")
    info = mapping.drop_duplicates("department_id")[["department_id", "mapping", "predecessors", "dep_flags"]]
    out = out.merge(info, on="department_id", how="left")
    out["previous_year"] = s
    comp = _comparable(h, s, t, mapping, kappa)
    out = out.merge(comp, on=["department_id", "measure"], how="left")
    imported = not len(_definitions(h, s)) or not len(_definitions(h, t))
    changed = None if imported else _changed(h, s, t)
    if imported:
        out["comparable"] = pd.NA
        out["changed_indicators"] = ""
    else:
        out["comparable"] = [not (changed["all"] if m in INDEX_MEASURES else m in changed["dims"])
                             for m in out["measure"]]
        out["changed_indicators"] = [";".join(sorted(i for i, d in changed["by_id"].items()
                                                     if m in INDEX_MEASURES or m == d)) for m in out["measure"]]
    continuing = (out["mapping"] != "new").to_numpy()
    gone = (continuing & out["previous_estimate"].isna() & out["estimate"].notna()).to_numpy()
    extra = []
    for k, (own, dep) in enumerate(zip(out["flags"], out["dep_flags"])):
        f = [x for x in (own, dep) if isinstance(x, str) and x]
        if gone[k]:
            f.append("previous_not_evaluated")
        if continuing[k] and imported:
            f.append("definitions_unknown")
        elif continuing[k] and not out["comparable"].iloc[k]:
            m = out["measure"].iloc[k]
            hit = {i for i, d in changed["by_id"].items() if m in INDEX_MEASURES or m == d}
            if hit - changed["coverage"]:
                f.append("definition_changed")
            if hit & changed["coverage"]:
                f.append("coverage_changed")
        if continuing[k] and changed is not None and changed["weights"]:
            f.append("weights_changed")
        extra.append(";".join(dict.fromkeys(";".join(f).split(";"))).strip(";"))
    out["flags"] = extra
    return out.drop(columns=["dep_flags"])


def _strict_sum(values: pd.Series, keys) -> pd.Series:
    """Group sums that stay NaN when any term is NaN (a missing standard error is not zero)."""
    return values.groupby(keys).agg(lambda x: x.sum(skipna=False))


def _changed(h, s: int, t: int) -> dict:
    """Indicators not like for like between ``s`` and ``t``; their dimensions; weight changes.

    An indicator is not like for like when its definition version differs,
    when only one year's framework has it, or when it was collected in only
    one of the two years (a score for no department at all: a channel not
    collected, a column no file had).  ``coverage``: those of the last kind.
    """
    a, b = _definitions(h, s), _definitions(h, t)
    common = a.index.intersection(b.index)
    ids = set(a.index.symmetric_difference(b.index))
    ids |= {i for i in common if a.at[i, "version"] != b.at[i, "version"]}
    scored_s, scored_t = set(_scores(h, s)["indicator_id"]), set(_scores(h, t)["indicator_id"])
    coverage = {i for i in common if i not in ids and (i in scored_s) != (i in scored_t)}
    ids |= coverage
    by_id = {i: d for frame in (a, b) for i, d in frame["dimension_id"].items() if i in ids}
    weights = bool(len(common)) and not (np.allclose(a.loc[common, "weight"], b.loc[common, "weight"])
                                         and np.allclose(a.loc[common, "dimension_weight"],
                                                         b.loc[common, "dimension_weight"]))
    return {"ids": ids, "dims": set(by_id.values()), "by_id": by_id, "all": bool(ids), "weights": weights,
            "coverage": coverage}


def _comparable(h, s: int, t: int, mapping: pd.DataFrame, kappa: dict) -> pd.DataFrame:
    """Each measure recomputed over the indicators present in both years with unchanged definitions."""
    cols = ["department_id", "measure", "comparable_estimate", "comparable_previous", "comparable_change",
            "comparable_change_se", "n_indicators", "n_comparable_indicators"]
    ind_t, ind_s = _scores(h, t), _scores(h, s)
    defs_t, defs_s = _definitions(h, t), _definitions(h, s)
    if not (len(ind_t) and len(ind_s) and len(defs_t) and len(defs_s)):
        return pd.DataFrame(columns=cols)
    counts = [ind_t.groupby("department_id").size().rename("n_indicators").reset_index().assign(measure="index"),
              ind_t.groupby(["department_id", "dimension_id"]).size().rename("n_indicators").reset_index()
              .rename(columns={"dimension_id": "measure"})]
    counts = pd.concat(counts, ignore_index=True)
    prev = mapping.dropna(subset=["predecessor"]).merge(
        ind_s.rename(columns={"department_id": "predecessor"}).drop(columns="dimension_id"), on="predecessor")
    prev["a"] = prev["a"] / prev.groupby(["department_id", "indicator_id"])["a"].transform("sum")
    combined = prev.assign(x=prev["a"] * prev["score"]).groupby(["department_id", "indicator_id"])["x"].sum()
    common = ind_t.merge(combined.rename("previous_score").reset_index(), on=["department_id", "indicator_id"])
    common = common[~common["indicator_id"].isin(_changed(h, s, t)["ids"])].copy()
    common["dimension_id"] = common["indicator_id"].map(defs_t["dimension_id"])
    if not len(common):
        return counts.assign(n_comparable_indicators=0).reindex(columns=cols)
    ew = effective_weights(common.assign(score=1.0), _weights(defs_t))
    common = common.merge(ew, on=["department_id", "indicator_id", "dimension_id"])
    prev = prev.merge(ew, on=["department_id", "indicator_id"])
    parts = []
    for measure, w in (("index", "w_index"), ("dim", "w_dim")):
        keys = ["department_id"] if measure == "index" else ["department_id", "dimension_id"]
        c = common.assign(x=common[w] * common["score"], y=common[w] * common["previous_score"],
                          v=(common[w] * common["se"]) ** 2)
        res = c.groupby(keys).agg(comparable_estimate=("x", "sum"), comparable_previous=("y", "sum"),
                                  var_now=("v", "sum"), n_comparable_indicators=("x", "size")).reset_index()
        p = prev.assign(v=(prev[w] * prev["a"] * prev["se"]) ** 2)
        p["measure"] = "index" if measure == "index" else p["dimension_id"]
        p = p.merge(kappa[s].rename(columns={"department_id": "predecessor"}), on=["predecessor", "measure"],
                    how="left")
        var_prev = _strict_sum(p["v"] * p["kappa"], [p[k] for k in keys]).rename("var_prev")
        res = res.merge(var_prev.reset_index(), on=keys, how="left")
        res["measure"] = "index" if measure == "index" else res["dimension_id"]
        res = res.merge(kappa[t], on=["department_id", "measure"], how="left")
        res["comparable_change_se"] = np.sqrt(res["var_now"] * res["kappa"] + res["var_prev"])
        parts.append(res)
    res = pd.concat(parts, ignore_index=True)
    res["comparable_change"] = res["comparable_estimate"] - res["comparable_previous"]
    res = counts.merge(res, on=["department_id", "measure"], how="left")
    res["n_comparable_indicators"] = res["n_comparable_indicators"].fillna(0).astype(int)
    return res[cols]


def _finish(out: pd.DataFrame, z: float, level: float, p_adjust: str) -> pd.DataFrame:
    """Intervals, tests, multiplicity control and notes."""
    out = out.copy()
    for c in ("previous_year", "previous_estimate", "previous_se", "comparable_change", "comparable_change_se",
              "n_indicators", "n_comparable_indicators"):
        if c not in out.columns:
            out[c] = np.nan
    for c in ("mapping", "predecessors", "changed_indicators"):
        out[c] = out[c] if c in out.columns else None
    out["comparable"] = (out["comparable"] if "comparable" in out.columns else pd.NA)
    out["comparable"] = out["comparable"].astype("boolean")
    out.loc[out["previous_estimate"].isna(), "comparable"] = pd.NA
    out["ci_low"] = out["estimate"] - z * out["se"]
    out["ci_high"] = out["estimate"] + z * out["se"]
    out["change"] = out["estimate"] - out["previous_estimate"]
    out["change_se"] = np.sqrt(out["se"] ** 2 + out["previous_se"] ** 2)
    has_change = out["change"].notna()
    no_se = has_change & ~(out["change_se"] > 0)
    tested = has_change & ~no_se & out["comparable"].fillna(True).to_numpy(bool)
    out["change_ci_low"] = (out["change"] - z * out["change_se"]).where(tested)
    out["change_ci_high"] = (out["change"] + z * out["change_se"]).where(tested)
    out["p_value"] = _two_sided(out["change"], out["change_se"]).where(tested)
    out["comparable_p_value"] = _two_sided(out["comparable_change"], out["comparable_change_se"])
    out["comparable_change_ci_low"] = out["comparable_change"] - z * out["comparable_change_se"]
    out["comparable_change_ci_high"] = out["comparable_change"] + z * out["comparable_change_se"]
    out["p_adjusted"] = np.nan
    out["comparable_p_adjusted"] = np.nan
    for idx in out.groupby(["year", "measure"]).groups.values():
        for raw, adj in (("p_value", "p_adjusted"), ("comparable_p_value", "comparable_p_adjusted")):
            p = out.loc[idx, raw]
            p = p[p.notna()]
            if len(p):
                out.loc[p.index, adj] = adjust_pvalues(p.to_numpy(float), p_adjust)
    out["p_adjust_method"] = np.where(out["p_value"].notna() | out["comparable_p_value"].notna(), p_adjust, "")
    for adj, sig in (("p_adjusted", "significant"), ("comparable_p_adjusted", "comparable_significant")):
        out[sig] = pd.array(np.where(out[adj].notna(), out[adj] < 1 - level, False), dtype="boolean")
        out.loc[out[adj].isna(), sig] = pd.NA
    _adjusted_intervals(out, level, p_adjust)
    flags = out["flags"].fillna("").astype(str)
    flags = [";".join(x for x in (f, "no_se" if n else "") if x) for f, n in zip(flags, no_se)]
    out["flags"] = flags
    out["note"] = [("; ".join(NOTES[c] for c in f.split(";") if c in NOTES)) for f in flags]
    out["level"] = level
    order = {m: i for i, m in enumerate([*INDEX_MEASURES, *sorted(set(out["measure"]) - set(INDEX_MEASURES))])}
    out = out.sort_values(["year", "department_id", "measure"], key=lambda s: s.map(order) if s.name == "measure"
                          else s, kind="stable").reset_index(drop=True)
    out["previous_year"] = out["previous_year"].astype("Int64")
    return out[TREND_COLUMNS]


def _adjusted_intervals(out: pd.DataFrame, level: float, p_adjust: str) -> None:
    """The adjusted intervals of every family (see the module notes), in place."""
    for prefix in ("", "comparable_"):
        adj, est, se = f"{prefix}p_adjusted", f"{prefix}change", f"{prefix}change_se"
        lvl, low, high = f"{prefix}adjusted_level", f"{prefix}change_adj_ci_low", f"{prefix}change_adj_ci_high"
        out[lvl] = np.nan
        out[low] = np.nan
        out[high] = np.nan
        for idx in out.groupby(["year", "measure"]).groups.values():
            family = out.loc[idx, adj]
            family = family[family.notna()]
            if not len(family):
                continue
            c = critical_level(family.to_numpy(float), 1 - level, p_adjust)
            centre = out.loc[family.index, est].to_numpy(float)
            half = stats.norm.ppf(1 - c / 2) * out.loc[family.index, se].to_numpy(float)
            out.loc[family.index, lvl] = 1 - c
            out.loc[family.index, low] = centre - half
            out.loc[family.index, high] = centre + half


def adjust_pvalues(p, method: str = "holm") -> np.ndarray:
    """Holm or Benjamini–Hochberg adjusted p-values of one family.

    Notes
    -----
    With ``p_(1) <= ... <= p_(m)``: Holm ``p~_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))``;
    Benjamini–Hochberg ``p~_(i) = min_{j >= i} min(1, m p_(j) / j)``.  Matches
    ``statsmodels.stats.multitest.multipletests`` (methods ``holm`` and
    ``fdr_bh``), which the tests check; it is not called here because its Holm
    path runs a full garbage collection on every call (0.1-0.2 s each in a
    session holding a few years of data, which dominated :func:`trends`).
    """
    p = np.asarray(p, float)
    m = len(p)
    if method not in P_ADJUST:
        raise MethodologyError("Unknown multiplicity adjustment", [Problem(
            f"method = {method!r}", fix=f"use one of {list(P_ADJUST)}")])
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    j = np.arange(1, m + 1)
    if method == "holm":
        adj = np.maximum.accumulate(np.minimum(1.0, (m - j + 1) * ranked))
    else:
        adj = np.minimum.accumulate(np.minimum(1.0, m * ranked / j)[::-1])[::-1]
    out = np.empty(m)
    out[order] = adj
    return out


def _two_sided(change: pd.Series, se: pd.Series) -> pd.Series:
    """p-value of the z test of no change; NaN without a positive standard error."""
    with np.errstate(invalid="ignore", divide="ignore"):
        p = 2 * stats.norm.sf(np.abs(change.to_numpy(float) / se.to_numpy(float)))
    return pd.Series(p, index=change.index).where(se > 0)


def _rank_changes(h, s: int, t: int, mapping: pd.DataFrame, pair: pd.DataFrame, level: float, n_draws: int,
                  rng: np.random.Generator) -> pd.DataFrame:
    deps_t = h["departments"][h["departments"]["year"] == t].set_index("department_id")
    deps_s = h["departments"][h["departments"]["year"] == s].set_index("department_id")
    idx = pair[pair["measure"] == "index"].set_index("department_id")
    field = idx[idx["estimate"].notna() & idx["previous_estimate"].notna()]
    est = field[["estimate", "previous_estimate"]].to_numpy(float)
    se = field[["se", "previous_se"]].to_numpy(float)
    out = pd.DataFrame({"department_id": field.index, "year": t, "previous_year": s,
                        "department": field["department"].to_numpy(), "category": field["category"].to_numpy(),
                        "mapping": field["mapping"].to_numpy(), "predecessors": field["predecessors"].to_numpy(),
                        "n_compared": len(field)})
    out["rank"] = point_ranks(field["estimate"]).to_numpy()
    out["previous_rank"] = point_ranks(field["previous_estimate"]).to_numpy()
    out["rank_change"] = out["previous_rank"] - out["rank"]
    out["note"] = ""
    if len(field) and np.all(np.isfinite(se)):
        draws = est[None, :, :] + se[None, :, :] * rng.standard_normal((n_draws, len(field), 2))
        ranks = np.argsort(np.argsort(-draws, axis=1, kind="stable"), axis=1, kind="stable") + 1
        diff = ranks[:, :, 1] - ranks[:, :, 0]
        out["rank_change_low"] = np.quantile(diff, (1 - level) / 2, axis=0, method="inverted_cdf")
        out["rank_change_high"] = np.quantile(diff, (1 + level) / 2, axis=0, method="inverted_cdf")
        out["p_rank_up"] = (diff > 0).mean(axis=0)
    else:
        out["rank_change_low"] = out["rank_change_high"] = out["p_rank_up"] = np.nan
        out["note"] = NOTES["no_se"]
    out["rank_published"] = deps_t["rank"].reindex(out["department_id"]).to_numpy(float)
    same = out["mapping"].isin(["same", "rename"])
    pred = out["predecessors"].where(out["mapping"] == "rename", out["department_id"])
    out["previous_rank_published"] = np.where(same, deps_s["rank"].reindex(pred).to_numpy(float), np.nan)
    # Category ranks: this year as published (point estimates); last year over the mapped field, where the
    # predecessors of a current department stand combined and departments that left keep their own row.
    now = deps_t[deps_t["index"].notna()][["category", "index"]]
    feeders = set(mapping["predecessor"].dropna())
    gone = deps_s[deps_s["index"].notna() & ~deps_s.index.isin(feeders)][["category", "index"]]
    then = pd.concat([field[["category", "previous_estimate"]].rename(columns={"previous_estimate": "index"}), gone])
    for frame, rank_col, n_col, source in ((out, "rank_in_category", "n_in_category", now),
                                           (out, "previous_rank_in_category", "previous_n_in_category", then)):
        r = source.groupby("category")["index"].rank(ascending=False, method="min")
        n = source.groupby("category")["index"].transform("size")
        frame[rank_col] = r.reindex(frame["department_id"]).to_numpy(float)
        frame[n_col] = n.reindex(frame["department_id"]).to_numpy(float)
    last_now = (out["rank_in_category"] == out["n_in_category"]) & (out["n_in_category"] >= 2)
    last_then = ((out["previous_rank_in_category"] == out["previous_n_in_category"])
                 & (out["previous_n_in_category"] >= 2))
    out["bottom_of_category_two_years"] = last_now & last_then
    return out


def _movers(out: pd.DataFrame, k: int) -> pd.DataFrame:
    idx = out[(out["measure"] == "index") & out["change"].notna()].copy()
    published = idx["comparable"].fillna(True).to_numpy(bool)
    idx["basis"] = np.where(published, "published", "comparable_indicators")
    lfl = {}
    for col, comp in (("change", "comparable_change"), ("change_ci_low", "comparable_change_ci_low"),
                      ("change_ci_high", "comparable_change_ci_high"),
                      ("change_adj_ci_low", "comparable_change_adj_ci_low"),
                      ("change_adj_ci_high", "comparable_change_adj_ci_high"), ("p_adjusted", "comparable_p_adjusted")):
        lfl[col] = np.where(published, idx[col], idx[comp])
    idx = idx.assign(**lfl)
    idx["significant"] = np.where(idx["p_adjusted"].notna(), idx["p_adjusted"] < 1 - idx["level"], False)
    idx = idx[idx["change"].notna()]
    rows = []
    for (t, s), g in idx.groupby(["year", "previous_year"]):
        lists = {"most_improved": g[g["change"] > 0].sort_values("change", ascending=False),
                 "most_declined": g[g["change"] < 0].sort_values("change"),
                 "most_improved_significant": g[g["significant"] & (g["change"] > 0)].sort_values(
                     "change", ascending=False),
                 "most_declined_significant": g[g["significant"] & (g["change"] < 0)].sort_values("change")}
        for name, sel in lists.items():
            top = sel.head(k).assign(list=name, position=np.arange(1, min(k, len(sel)) + 1))
            rows.append(top)
    if not rows:
        return pd.DataFrame(columns=MOVER_COLUMNS)
    return pd.concat(rows, ignore_index=True)[MOVER_COLUMNS]
