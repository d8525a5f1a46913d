"""Charts of an evaluation result drawn with matplotlib, for notebooks and stand-alone figures.

What each chart shows is defined once in :mod:`reports.chart_data` (the PDF
renderers draw the same data with reportlab graphics).  Plot functions take
``ax=None`` (a new :class:`matplotlib.figure.Figure` is created, never
pyplot's global state) and return the Axes.  matplotlib is imported inside
them, so that importing :mod:`reports` costs nothing for a user who never
plots (statsmodels' rule for its graphics).  Draw and save inside
:func:`reports.fonts.matplotlib_style` so that Chinese renders with the
shipped font and PDF output embeds it (Type 42)::

    with matplotlib_style():
        ax = ranking_chart(result.departments, level=result.level)
        ax.figure.savefig("ranking.pdf")
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reports.chart_data import (PALETTE, QUADRANT_COLORS, SERIES_COLORS, dimension_names, grade_counts, group_colors,
                                has_values, heatmap_data, profile_data, quadrant_data, ranking_data, tie_bands)
from reports.fonts import matplotlib_style
from reports.format import level_text
from reports.labels import label, name_column


def _axes(ax, size):
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=size, layout="constrained").add_subplot()


def ranking_chart(departments: pd.DataFrame, *, level: float, lang: str = "zh", category: str | None = None,
                  ties: pd.DataFrame | None = None, highlight: str | None = None, ax=None):
    """Dot-and-interval ranking: index (dot) and confidence interval (bar) per department.

    Coloured by category; tie groups (``ties`` or the frame's ``tie_group``,
    see :func:`ranking_data`) as alternating grey bands; grade boundaries
    70/80/90 as dotted lines.  Returns the Axes.
    """
    data = ranking_data(departments, lang=lang, category=category, ties=ties)
    with matplotlib_style():
        ax = _axes(ax, (6.5, 0.22 * len(data) + 1.0))
        colors = group_colors(data["group"])
        y = np.arange(len(data))[::-1]
        for k, (first, last, _) in enumerate(tie_bands(data["tie_group"])):
            if k % 2 == 0:
                ax.axhspan(y[last] - 0.5, y[first] + 0.5, color="#EEEEEE", zorder=0, lw=0)
        if has_values(data, "ci_low", "ci_high"):
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
        ax.set_title(label("ranking_title", lang, level=level_text(level)))
    return ax


def profile_chart(dimensions: pd.DataFrame, departments: pd.DataFrame, department_id: str,
                  *, lang: str = "zh", ax=None):
    """Grouped bars per dimension: this department, city average, category best."""
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
            if has_values(curves, low, high):
                level = "95%" if low.endswith("95") else "99.8%"
                ax.plot(curves[cx], curves[low], color=PALETTE["grey"], lw=0.9, ls=style,
                        label=f"{label('control_limits', lang)} {level}")
                ax.plot(curves[cx], curves[high], color=PALETTE["grey"], lw=0.9, ls=style)
                drawn = True
        if has_values(data, "city_mean"):
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
