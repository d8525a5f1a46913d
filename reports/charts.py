"""Charts of an evaluation result: the data each chart shows, and matplotlib renderings.

Two layers share one definition of every chart:

- ``*_data`` functions (pandas only) select and arrange what a chart shows:
  the ranking with intervals, a department's dimension profile against the
  city average and the category best, the importance–performance quadrants
  (GB/T 19038-2009 four-quadrant chart), improvement priorities, grade counts
  and the dimension heatmap.  The PDF renderers draw them with reportlab
  graphics (:mod:`reports.drawings`); the functions below draw them with
  matplotlib for notebooks and stand-alone figures.
- Plot functions take ``ax=None`` (a new :class:`matplotlib.figure.Figure`
  is created, never pyplot's global state) and return the Axes.  matplotlib
  is imported inside them.  Draw and save inside
  :func:`reports.fonts.matplotlib_style` so that Chinese renders with the
  shipped font and PDF output embeds it (Type 42)::

      with matplotlib_style():
          ax = ranking_chart(result.departments)
          ax.figure.savefig("ranking.pdf")
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reports.labels import label, name_column

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


def _has(frame: pd.DataFrame, *columns: str) -> bool:
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
        ``tie_group`` (NaN when unknown), best first.
    """
    frame = departments if category is None else departments[departments["category"] == category]
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

    With ``drivers`` (``result.extra["drivers"]``, :func:`evaluation.drivers.importance_performance`)
    the chart shows the survey items: importance is the item's LMG share of
    the overall-satisfaction variance (in percent), performance its score,
    and quadrants and reference lines are the evaluation's.  The department's
    own rows are used; without them the category's (``category``), else the
    city's (their performance is then a mean over departments).  Without
    ``drivers``, every indicator of the department is shown with its index
    weight (percent) as importance and the means as reference lines.

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
    if drivers is not None and len(drivers) and "scope" in drivers:
        rows, scope = None, None
        scope_ids = drivers["scope_id"].fillna("").astype(str)
        for scope, key in (("department", department_id), ("category", category), ("city", "")):
            if key is None:
                continue
            found = drivers[(drivers["scope"] == scope) & (scope_ids == str(key))]
            found = found[found["importance"].notna() & found["performance"].notna()]
            if len(found):
                rows = found
                break
        if rows is not None:
            rows = rows.iloc[sorted(range(len(rows)), key=lambda i: _id_key(rows["indicator_id"].iloc[i]))]
            out = pd.DataFrame({
                "indicator_id": rows["indicator_id"].astype(str).to_numpy(),
                "name": rows[name_column("indicator", lang)].astype(str).to_numpy(),
                "importance": rows["importance"].astype(float).to_numpy() * 100.0,
                "performance": rows["performance"].astype(float).to_numpy(),
            })
            imp_ref = float(rows["importance_split"].iloc[0]) * 100.0 if "importance_split" in rows else \
                float(out["importance"].mean())
            perf_ref = float(rows["performance_split"].iloc[0]) if "performance_split" in rows else \
                float(out["performance"].mean())
            given = rows["quadrant"].astype(str).to_numpy() if "quadrant" in rows else None
            computed = _quadrants(out["importance"], out["performance"], imp_ref, perf_ref)
            out["quadrant"] = [g if g in QUADRANT_COLORS else c for g, c in
                               zip(given if given is not None else computed, computed)]
            source = str(rows["importance_source"].iloc[0]) if "importance_source" in rows else "city"
            out.attrs.update(importance_ref=imp_ref, performance_ref=perf_ref, basis="drivers", scope=scope,
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


def _id_key(text) -> tuple:
    parts = str(text).replace("-", ".").split(".")
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


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


# ---------------------------------------------------------------------------
# matplotlib renderings
# ---------------------------------------------------------------------------

def _axes(ax, size):
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=size, layout="constrained").add_subplot()


def _level(level: float) -> str:
    return f"{level * 100:g}%"


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


def ranking_chart(departments: pd.DataFrame, *, lang: str = "zh", category: str | None = None,
                  ties: pd.DataFrame | None = None, highlight: str | None = None, level: float = 0.95, ax=None):
    """Dot-and-interval ranking: index (dot) and confidence interval (bar) per department.

    Coloured by category; tie groups (``ties`` or the frame's ``tie_group``,
    see :func:`ranking_data`) as alternating grey bands; grade boundaries
    70/80/90 as dotted lines.  Returns the Axes.
    """
    from reports.fonts import matplotlib_style

    data = ranking_data(departments, lang=lang, category=category, ties=ties)
    with matplotlib_style():
        ax = _axes(ax, (6.5, 0.22 * len(data) + 1.0))
        colors = group_colors(data["group"])
        y = np.arange(len(data))[::-1]
        for k, (first, last, _) in enumerate(tie_bands(data["tie_group"])):
            if k % 2 == 0:
                ax.axhspan(y[last] - 0.5, y[first] + 0.5, color="#EEEEEE", zorder=0, lw=0)
        if _has(data, "ci_low", "ci_high"):
            ax.hlines(y, data["ci_low"], data["ci_high"], color=[colors[g] for g in data["group"]], lw=1.6)
        ax.scatter(data["index"], y, c=[colors[g] for g in data["group"]], s=18, zorder=3)
        for edge in (70, 80, 90):
            ax.axvline(edge, color=PALETTE["grey"], lw=0.6, ls=":")
        ax.set_yticks(y, data["name"])
        if highlight is not None:
            for tick, dep in zip(ax.get_yticklabels(), data["department_id"]):
                if dep == highlight:
                    tick.set_fontweight("bold")
        ax.set_xlabel(label("index", lang))
        ax.set_title(label("ranking_title", lang, level=_level(level)))
    return ax


def profile_chart(dimensions: pd.DataFrame, departments: pd.DataFrame, department_id: str,
                  *, lang: str = "zh", ax=None):
    """Grouped bars per dimension: this department, city average, category best."""
    from reports.fonts import matplotlib_style

    data = profile_data(dimensions, departments, department_id, lang=lang)
    with matplotlib_style():
        ax = _axes(ax, (6.5, 3.2))
        y = np.arange(len(data))[::-1]
        h = 0.26
        series = [("department", "estimate", "this_department"), ("city_average", "city_average", "city_average"),
                  ("category_best", "category_best", "category_best")]
        for k, (color_key, col, lab) in enumerate(series):
            ax.barh(y + (1 - k) * h, data[col], height=h, color=SERIES_COLORS[color_key], label=label(lab, lang))
        ax.set_yticks(y, data["name"])
        low = np.nanmin(data[["estimate", "city_average", "category_best"]].to_numpy())
        ax.set_xlim(max(0.0, np.floor(low / 10) * 10 - 10), 100)
        ax.set_xlabel(label("score", lang))
        ax.legend(loc="lower right", frameon=False)
        ax.set_title(label("profile_title", lang))
    return ax


def quadrant_chart(indicators: pd.DataFrame, department_id: str, *, lang: str = "zh",
                   drivers: pd.DataFrame | None = None, category: str | None = None, ax=None):
    """GB/T 19038 importance–performance chart of one department (see :func:`quadrant_data`)."""
    from reports.fonts import matplotlib_style

    data = quadrant_data(indicators, department_id, lang=lang, drivers=drivers, category=category)
    with matplotlib_style():
        ax = _axes(ax, (4.5, 4.0))
        ax.scatter(data["importance"], data["performance"], s=20,
                   c=[QUADRANT_COLORS[q] for q in data["quadrant"]], zorder=3)
        for _, row in data.iterrows():
            ax.annotate(row["indicator_id"], (row["importance"], row["performance"]), fontsize=6,
                        xytext=(3, 2), textcoords="offset points")
        ax.axvline(data.attrs["importance_ref"], color=PALETTE["grey"], lw=0.8)
        ax.axhline(data.attrs["performance_ref"], color=PALETTE["grey"], lw=0.8)
        corners = {"keep_up": (0.98, 0.98, "right", "top"), "concentrate_here": (0.98, 0.02, "right", "bottom"),
                   "possible_overkill": (0.02, 0.98, "left", "top"), "low_priority": (0.02, 0.02, "left", "bottom")}
        for key, (x, y, ha, va) in corners.items():
            ax.text(x, y, label(f"quad_{key}", lang), transform=ax.transAxes, ha=ha, va=va, fontsize=8,
                    color=QUADRANT_COLORS[key])
        ax.set_xlabel(label("importance_lmg" if data.attrs["basis"] == "drivers" else "importance", lang))
        ax.set_ylabel(label("performance", lang))
        ax.set_title(label("quadrant_title", lang))
    return ax


def grade_distribution_chart(departments: pd.DataFrame, *, lang: str = "zh", ax=None):
    """Stacked bars: number of departments per grade, split by category."""
    from reports.fonts import matplotlib_style

    counts = grade_counts(departments)
    names = departments.drop_duplicates("category").set_index("category")[name_column("category_name", lang)]
    with matplotlib_style():
        ax = _axes(ax, (5.0, 3.0))
        colors = group_colors(counts.index)
        bottom = np.zeros(len(counts.columns))
        for cat, row in counts.iterrows():
            ax.bar(counts.columns, row.to_numpy(), bottom=bottom, color=colors[cat], label=str(names.get(cat, cat)))
            bottom += row.to_numpy()
        for x, total in zip(counts.columns, bottom):
            ax.text(x, total, f"{int(total)}", ha="center", va="bottom")
        from matplotlib.ticker import MaxNLocator

        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label("count", lang))
        ax.set_xlabel(label("grade", lang))
        ax.legend(frameon=False, fontsize=7)
        ax.set_title(label("grades_title", lang))
    return ax


FUNNEL_BANDS = (("lower95", "upper95", "--"), ("lower998", "upper998", ":"))


def funnel_chart(funnel: pd.DataFrame, limits: pd.DataFrame | None = None, *, overdispersion: str | None = None,
                 x: str = "n", y: str = "index", lang: str = "zh", ax=None):
    """Funnel plot: each department's index against its sample size, with control limits.

    Parameters
    ----------
    funnel : DataFrame
        One row per department with ``x`` (default ``n``) and ``y`` (default
        ``index``); optional ``city_mean``, the limits at the department's n
        (``lower95``, ``upper95``, ``lower998``, ``upper998``) and
        ``position`` (``above_998`` ... ``below_998``), as
        :func:`evaluation.shrinkage.funnel` returns them.
    limits : DataFrame, optional
        The limit curves on a grid of n (``n``, ``lower95`` ... ``upper998``,
        optionally ``overdispersion``).  Without it, the limits at the
        departments' own n are joined when present; without either, no limits
        are drawn (they are computed by the evaluation, never here).
    overdispersion : str, optional
        Which curves of ``limits`` to draw when it holds several (default: the
        first value found).
    """
    from reports.fonts import matplotlib_style

    data = funnel.sort_values(x, kind="mergesort")
    curves = data
    if limits is not None and len(limits):
        curves = limits
        if "overdispersion" in limits:
            which = overdispersion or limits["overdispersion"].iloc[0]
            curves = limits[limits["overdispersion"] == which]
        curves = curves.sort_values("n", kind="mergesort")
    cx = "n" if curves is not data else x
    with matplotlib_style():
        ax = _axes(ax, (5.0, 3.5))
        drawn = False
        for low, high, style in FUNNEL_BANDS:
            if _has(curves, low, high):
                level = "95%" if low.endswith("95") else "99.8%"
                ax.plot(curves[cx], curves[low], color=PALETTE["grey"], lw=0.9, ls=style,
                        label=f"{label('control_limits', lang)} {level}")
                ax.plot(curves[cx], curves[high], color=PALETTE["grey"], lw=0.9, ls=style)
                drawn = True
        if _has(data, "city_mean"):
            ax.axhline(float(data["city_mean"].iloc[0]), color=PALETTE["black"], lw=0.8)
        colors = {"above_998": PALETTE["vermillion"], "below_998": PALETTE["vermillion"],
                  "above_95": PALETTE["orange"], "below_95": PALETTE["orange"]}
        point_colors = ([colors.get(p, PALETTE["blue"]) for p in data["position"]] if "position" in data
                        else PALETTE["blue"])
        ax.scatter(data[x], data[y], s=16, c=point_colors, zorder=3)
        ax.set_xlabel(label("funnel_x", lang))
        ax.set_ylabel(label("index", lang))
        ax.set_title(label("funnel_title", lang))
        if drawn:
            ax.legend(frameon=False)
    return ax


def heatmap_chart(dimensions: pd.DataFrame, departments: pd.DataFrame, *, lang: str = "zh", ax=None):
    """Departments (ranking order) by dimensions, cells coloured and labelled with the score."""
    from reports.fonts import matplotlib_style

    data = heatmap_data(dimensions, departments, lang=lang)
    names = dimension_names(dimensions, lang=lang)
    with matplotlib_style():
        ax = _axes(ax, (6.5, 0.22 * len(data) + 1.5))
        values = data.to_numpy(dtype=float)
        image = ax.imshow(values, aspect="auto", cmap="cividis", vmin=np.nanmin(values), vmax=100)
        for (i, j), v in np.ndenumerate(values):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=6,
                        color="white" if v < (np.nanmin(values) + 100) / 2 else "black")
        ax.set_xticks(range(len(data.columns)), [f"{c}\n{names.get(c, c)}" for c in data.columns], fontsize=6)
        ax.set_yticks(range(len(data)), data.index)
        ax.figure.colorbar(image, ax=ax, shrink=0.5)
        ax.set_title(label("heatmap_title", lang))
    return ax


def sparkline(series: pd.Series, *, lang: str = "zh", ax=None):
    """A small line of a department's index by year (index of ``series`` = year)."""
    from reports.fonts import matplotlib_style

    data = series.dropna().sort_index()
    with matplotlib_style():
        ax = _axes(ax, (1.6, 0.5))
        ax.plot(data.index.astype(int), data.to_numpy(), color=PALETTE["blue"], lw=1.2, marker="o", ms=2)
        if len(data):
            ax.annotate(f"{data.iloc[-1]:.1f}", (data.index[-1], data.iloc[-1]), fontsize=6,
                        xytext=(2, 0), textcoords="offset points", va="center")
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.set_title(label("trend", lang), fontsize=6)
    return ax
