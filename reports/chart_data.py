"""What each chart of the documents shows (pandas only): one definition per chart, drawn by every renderer.

``*_data`` functions select and arrange what a chart shows: the ranking with
intervals, a department's dimension profile against the city average and
the category best, the importance–performance quadrants (GB/T 19038-2009
four-quadrant chart), improvement priorities, grade counts and the
dimension heatmap.  The PDF renderers draw them with reportlab graphics
(:mod:`reports.drawings`); :mod:`reports.charts` draws them with matplotlib
for notebooks and stand-alone figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.problems import quadrant_rows
from reports.format import natural_key
from reports.labels import name_column

# Okabe–Ito palette: distinguishable with the common colour-vision deficiencies.
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#999999",
    "black": "#000000",
}
GROUP_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#999999"]
GRADE_COLORS = {"A": "#009E73", "B": "#56B4E9", "C": "#E69F00", "D": "#D55E00"}
SERIES_COLORS = {"department": "#0072B2", "city_average": "#999999", "category_best": "#E69F00"}
#: GB/T 19038 quadrants, under the codes evaluation.drivers uses.
QUADRANT_COLORS = {"concentrate_here": "#D55E00", "keep_up": "#009E73", "low_priority": "#999999",
                   "possible_overkill": "#56B4E9"}
QUADRANTS = tuple(QUADRANT_COLORS)


def heat_hex(value: float, lo: float, hi: float) -> str:
    """Light sequential fill (white to blue) of a heatmap cell between ``lo`` and ``hi``; text stays readable."""
    if value is None or not np.isfinite(value):
        return "#FFFFFF"
    t = 0.0 if hi <= lo else min(1.0, max(0.0, (value - lo) / (hi - lo)))
    start, end = (0.97, 0.98, 1.0), (0.42, 0.68, 0.84)
    return "#{:02X}{:02X}{:02X}".format(*(int(round(255 * (a + (b - a) * t))) for a, b in zip(start, end)))


def has_values(frame: pd.DataFrame, *columns: str) -> bool:
    return all(c in frame.columns and frame[c].notna().any() for c in columns)


def group_colors(keys) -> dict[object, str]:
    """A fixed colour per group key, in sorted key order (stable across documents)."""
    ordered = sorted({k for k in keys if pd.notna(k)}, key=str)
    return {k: GROUP_COLORS[i % len(GROUP_COLORS)] for i, k in enumerate(ordered)}


# ---------------------------------------------------------------------------
# what each chart shows
# ---------------------------------------------------------------------------

def ranking_data(departments: pd.DataFrame, *, lang: str = "zh", category: str | None = None,
                 ties: pd.DataFrame | None = None) -> pd.DataFrame:
    """Departments in ranking order with their intervals.

    Parameters
    ----------
    ties : DataFrame, optional
        ``department_id``, ``tie_group`` (and ``tie_group_size``) of the scope
        shown (overall or within category), as
        ``result.extra["rank_uncertainty"]`` holds them; without it the
        departments' own ``tie_group`` column is used when present.

    Returns
    -------
    DataFrame
        ``department_id``, ``name``, ``category``, ``index``, ``ci_low``,
        ``ci_high`` (NaN when absent), ``rank``, ``rank_low``/``rank_high``,
        ``rank_sim_low``/``rank_sim_high`` and ``rank_in_category*`` when
        present, ``group`` (the category: the colour of the dots) and
        ``tie_group`` (NaN when unknown), best first.  Departments without an
        index (not evaluated) are left out: see :func:`department_order`.
    """
    frame = departments[departments["index"].notna()]
    frame = frame if category is None else frame[frame["category"] == category]
    out = pd.DataFrame({
        "department_id": frame["department_id"].astype(str),
        "name": frame[name_column("department", lang)].astype(str),
        "category": frame["category"].astype(str),
        "index": frame["index"].astype(float),
    })
    for col in ("ci_low", "ci_high"):
        out[col] = frame[col].astype(float) if col in frame else np.nan
    for col in ("rank", "rank_low", "rank_high", "rank_sim_low", "rank_sim_high", "rank_in_category",
                "rank_in_category_low", "rank_in_category_high"):
        if col in frame:
            out[col] = frame[col]
    out["group"] = out["category"]
    if ties is not None and len(ties):
        t = ties.assign(department_id=ties["department_id"].astype(str)).drop_duplicates("department_id")
        t = t.set_index("department_id")
        out["tie_group"] = out["department_id"].map(t["tie_group"]).astype(float)
    else:
        out["tie_group"] = frame["tie_group"].astype(float) if "tie_group" in frame else np.nan
    if "rank" in out:
        out = out.sort_values(["rank", "index", "department_id"], ascending=[True, False, True], kind="mergesort")
    else:
        out = out.sort_values(["index", "department_id"], ascending=[False, True], kind="mergesort")
    return out.reset_index(drop=True)


def department_order(departments: pd.DataFrame, *, lang: str = "zh") -> pd.DataFrame:
    """Every department, ranked ones best first, then those not evaluated (by id): ``department_id``, ``name``."""
    ranked = ranking_data(departments, lang=lang)[["department_id", "name"]]
    rest = departments[departments["index"].isna()].sort_values("department_id", key=lambda s: s.map(natural_key))
    rest = pd.DataFrame({"department_id": rest["department_id"].astype(str),
                         "name": rest[name_column("department", lang)].astype(str)})
    return pd.concat([ranked, rest], ignore_index=True)


def profile_data(dimensions: pd.DataFrame, departments: pd.DataFrame, department_id: str,
                 *, lang: str = "zh") -> pd.DataFrame:
    """One department's dimension scores against the city average and the category best.

    Returns
    -------
    DataFrame
        One row per dimension: ``dimension_id``, ``name``, ``weight``,
        ``estimate``, ``ci_low``, ``ci_high``, ``city_average`` (unweighted mean
        over departments), ``category_best`` (highest estimate in the
        department's comparison category).
    """
    category = departments.loc[departments["department_id"] == department_id, "category"]
    cat = category.iloc[0] if len(category) else None
    same_cat = departments.loc[departments["category"] == cat, "department_id"]
    dims = dimensions.copy()
    city = dims.groupby("dimension_id", sort=False)["estimate"].mean()
    best = dims[dims["department_id"].isin(same_cat)].groupby("dimension_id", sort=False)["estimate"].max()
    own = dims[dims["department_id"] == department_id].sort_values("dimension_id", kind="mergesort")
    out = pd.DataFrame({
        "dimension_id": own["dimension_id"].astype(str).to_numpy(),
        "name": own[name_column("dimension", lang)].astype(str).to_numpy(),
        "weight": own["weight"].astype(float).to_numpy(),
        "estimate": own["estimate"].astype(float).to_numpy(),
    })
    for col in ("ci_low", "ci_high"):
        out[col] = own[col].astype(float).to_numpy() if col in own else np.nan
    out["city_average"] = out["dimension_id"].map(city).astype(float)
    out["category_best"] = out["dimension_id"].map(best).astype(float)
    return out


def _quadrants(importance: pd.Series, performance: pd.Series, imp_ref: float, perf_ref: float) -> np.ndarray:
    high = importance >= imp_ref
    good = performance >= perf_ref
    return np.select([high & ~good, high & good, ~high & ~good],
                     ["concentrate_here", "keep_up", "low_priority"], default="possible_overkill")


def quadrant_data(indicators: pd.DataFrame, department_id: str, *, lang: str = "zh",
                  drivers: pd.DataFrame | None = None, category: str | None = None) -> pd.DataFrame:
    """Importance–performance quadrants of one department (GB/T 19038-2009 four-quadrant chart).

    With ``drivers`` (``result.priorities.drivers``, :func:`evaluation.drivers.importance_performance`)
    the chart shows the survey items: importance is the item's LMG share of
    the overall-satisfaction variance (in percent), performance its score,
    and quadrants and reference lines are the evaluation's.  The rows are
    those :func:`evaluation.problems.quadrant_rows` chooses (the
    department's own, else its category's, else the city's), the rows the
    problem list reads.  Without ``drivers`` (a notebook sketch only; the
    documents then draw no quadrant chart), every indicator of the
    department is shown with its index weight (percent) as importance and
    the means as reference lines.

    Returns
    -------
    DataFrame
        ``indicator_id``, ``name``, ``importance``, ``performance``,
        ``quadrant`` (``concentrate_here`` important and below the reference,
        ``keep_up`` important and above, ``low_priority`` less important and
        below, ``possible_overkill`` less important and above).  ``attrs``
        holds ``importance_ref``, ``performance_ref``, ``basis``
        (``"drivers"`` or ``"weights"``), ``scope`` (``department``,
        ``category``, ``city`` or ``weights``) and ``model`` (the scope of the
        regression, ``city`` or ``category``).
    """
    if drivers is not None and len(drivers):
        # the same rows the evaluation's problem list reads (one rule for the chart and the list)
        rows, scope = quadrant_rows(drivers, department_id, category)
        if scope is not None:
            rows = rows.iloc[sorted(range(len(rows)), key=lambda i: natural_key(rows["indicator_id"].iloc[i]))]
            out = pd.DataFrame({
                "indicator_id": rows["indicator_id"].astype(str).to_numpy(),
                "name": rows[name_column("indicator", lang)].astype(str).to_numpy(),
                "importance": rows["importance"].astype(float).to_numpy() * 100.0,
                "performance": rows["performance"].astype(float).to_numpy(),
                "quadrant": rows["quadrant"].astype(str).to_numpy(),
            })
            source = str(rows["importance_source"].iloc[0])
            out.attrs.update(importance_ref=float(rows["importance_split"].iloc[0]) * 100.0,
                             performance_ref=float(rows["performance_split"].iloc[0]), basis="drivers", scope=scope,
                             model="category" if source.startswith("category") else "city")
            return out
    own = indicators[(indicators["department_id"] == department_id) & indicators["score"].notna()]
    out = pd.DataFrame({
        "indicator_id": own["indicator_id"].astype(str).to_numpy(),
        "name": own[name_column("indicator", lang)].astype(str).to_numpy(),
        "importance": own["weight"].astype(float).to_numpy() * 100.0,
        "performance": own["score"].astype(float).to_numpy(),
    })
    imp_ref = float(out["importance"].mean()) if len(out) else np.nan
    perf_ref = float(out["performance"].mean()) if len(out) else np.nan
    out["quadrant"] = _quadrants(out["importance"], out["performance"], imp_ref, perf_ref)
    out.attrs.update(importance_ref=imp_ref, performance_ref=perf_ref, basis="weights", scope="weights",
                     model="")
    return out


def priority_data(indicators: pd.DataFrame, department_id: str, *, lang: str = "zh",
                  priorities: pd.DataFrame | None = None, k: int = 3) -> pd.DataFrame:
    """The department's top ``k`` improvement priorities.

    If the result supplies a ``priorities`` frame
    (:func:`evaluation.drivers.improvement_priorities`: ``department_id``,
    ``indicator_id``, ``priority`` giving the order, ``gap``,
    ``category_best_score``, ``quadrant``), its rows for the department are
    shown as they are.  Missing columns are filled from the indicators:
    ``gain`` then is ``weight × (100 − score)``.  Without the frame the
    indicators with the most points to gain, ``weight × (100 − score)``
    index points, come first (ties by id), quadrants by weight
    (:func:`quadrant_data` without drivers).

    Returns
    -------
    DataFrame
        ``indicator_id``, ``name``, ``score``, ``weight``, ``gain``,
        ``category_best`` (NaN when not supplied), ``quadrant`` (a code or
        None), at most ``k`` rows; ``attrs["basis"]`` is ``"supplied"`` or
        ``"headroom"``.
    """
    own = indicators[(indicators["department_id"] == department_id) & indicators["score"].notna()].copy()
    own["indicator_id"] = own["indicator_id"].astype(str)
    own["name"] = own[name_column("indicator", lang)].astype(str)
    own["gain"] = own["weight"].astype(float) * (100.0 - own["score"].astype(float))
    own["category_best"] = np.nan
    quad = quadrant_data(indicators, department_id, lang=lang).set_index("indicator_id")["quadrant"]
    own["quadrant"] = own["indicator_id"].map(quad)
    cols = ["indicator_id", "name", "score", "weight", "gain", "category_best", "quadrant"]
    if priorities is not None and len(priorities) and "department_id" in priorities:
        chosen = priorities[priorities["department_id"].astype(str) == str(department_id)]
        if "priority" in chosen:
            chosen = chosen.sort_values("priority", kind="mergesort")
        chosen = chosen.assign(indicator_id=chosen["indicator_id"].astype(str)).head(k)
        base = own.set_index("indicator_id").reindex(chosen["indicator_id"])
        out = pd.DataFrame({"indicator_id": chosen["indicator_id"].to_numpy()})
        name_col = name_column("indicator", lang)
        out["name"] = (chosen[name_col].astype(str).to_numpy() if name_col in chosen
                       else base["name"].to_numpy())
        for col, src in (("score", "score"), ("weight", "weight"), ("gain", "gap"),
                         ("category_best", "category_best_score")):
            out[col] = (chosen[src].astype(float).to_numpy() if src in chosen
                        else base[col].astype(float).to_numpy())
        if "quadrant" in chosen:
            out["quadrant"] = [q if q in QUADRANT_COLORS else None for q in chosen["quadrant"]]
        else:
            out["quadrant"] = base["quadrant"].to_numpy()
        out.attrs["basis"] = "supplied"
        return out[cols]
    own = own.sort_values(["gain", "indicator_id"], ascending=[False, True], kind="mergesort")
    out = own[cols].head(k).reset_index(drop=True)
    out.attrs["basis"] = "headroom"
    return out


def grade_counts(departments: pd.DataFrame, grades=("A", "B", "C", "D")) -> pd.DataFrame:
    """Number of departments by category (rows) and grade (columns), all grades present."""
    table = pd.crosstab(departments["category"].astype(str), departments["grade"].astype(str))
    return table.reindex(columns=list(grades), fill_value=0).sort_index()


def heatmap_data(dimensions: pd.DataFrame, departments: pd.DataFrame, *, lang: str = "zh") -> pd.DataFrame:
    """Dimension scores, departments (ranking order) by dimensions (id order).

    Index: department name in ``lang``; columns: ``dimension_id``.
    """
    order = ranking_data(departments, lang=lang)
    wide = dimensions.pivot_table(index="department_id", columns="dimension_id", values="estimate",
                                  aggfunc="first", sort=True)
    wide = wide.reindex(order["department_id"])
    wide.index = order["name"].to_numpy()
    return wide


def dimension_names(dimensions: pd.DataFrame, *, lang: str = "zh") -> dict[str, str]:
    """Dimension id -> name in ``lang``."""
    col = name_column("dimension", lang)
    first = dimensions.drop_duplicates("dimension_id").sort_values("dimension_id", kind="mergesort")
    return dict(zip(first["dimension_id"].astype(str), first[col].astype(str)))


def tie_bands(tie_group: pd.Series) -> list[tuple[int, int, object]]:
    """Consecutive runs of equal tie group in ranking order: ``(first row, last row, group)``."""
    runs: list[tuple[int, int, object]] = []
    for i, g in enumerate(tie_group):
        if pd.isna(g):
            continue
        if runs and runs[-1][2] == g and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i, g)
        else:
            runs.append((i, i, g))
    return runs
