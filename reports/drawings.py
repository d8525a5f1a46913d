"""Vector charts for the PDF reports, drawn with reportlab graphics.

They show the same data as the matplotlib charts in :mod:`reports.charts`
(the ``*_data`` functions of :mod:`reports.chart_data` decide what is shown) but are drawn as
reportlab shapes: the text stays text in the shipped font (embedded,
extractable), and a scorecard's charts cost milliseconds instead of the ~0.7 s
a matplotlib PDF figure takes.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from reportlab.graphics.shapes import Circle, Drawing, Group, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from reports.chart_data import (GRADE_COLORS, PALETTE, QUADRANT_COLORS, SERIES_COLORS, group_colors, heat_hex,
                                tie_bands)
from reports.fonts import register_reportlab
from reports.labels import label


def _fonts():
    return register_reportlab()


def _color(hex_code: str):
    return colors.HexColor(hex_code)


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in points of ``text`` set in the shipped font."""
    regular, bold_name = _fonts()
    return stringWidth(text, bold_name if bold else regular, size)


def _fit(text: str, size: float, width: float) -> str:
    """Shorten ``text`` with an ellipsis so that it fits ``width`` points."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def _new_drawing(width: float, height: float):
    """A Drawing whose initial font is the shipped one (else reportlab references Helvetica)."""
    drawing = Drawing(width, height)
    drawing.initialFontName = _fonts()[0]
    drawing.initialFontSize = 7
    return drawing


def _string(x, y, text, size=7.0, anchor="start", color="#000000", bold=False):
    regular, bold_name = _fonts()
    return String(x, y, text, fontName=bold_name if bold else regular, fontSize=size,
                  fillColor=_color(color), textAnchor=anchor)


def _ticks(lo: float, hi: float, target: int = 6) -> list[float]:
    span = hi - lo
    raw = span / max(target, 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=magnitude)
    first = math.ceil(lo / step) * step
    return [round(first + k * step, 10) for k in range(int((hi - first) / step + 1e-9) + 1)]


def _x_axis(drawing, x0, x1, y, lo, hi, ticks, title=None, size=6.5):
    scale = (x1 - x0) / (hi - lo)
    drawing.add(Line(x0, y, x1, y, strokeColor=_color("#444444"), strokeWidth=0.5))
    for t in ticks:
        x = x0 + (t - lo) * scale
        drawing.add(Line(x, y, x, y - 2.5, strokeColor=_color("#444444"), strokeWidth=0.5))
        drawing.add(_string(x, y - 9, f"{t:g}", size, "middle", "#333333"))
    if title:
        drawing.add(_string((x0 + x1) / 2, y - 19, title, size + 0.5, "middle", "#333333"))


def _legend_rows(items: list[tuple[str, str]], size=6.5, max_width=None) -> int:
    """How many rows :func:`_legend` needs for ``items`` within ``max_width``."""
    rows, cx = 1, 0.0
    for text, _ in items:
        w = 10 + text_width(text, size) + 10
        if max_width and cx + w > max_width and cx > 0:
            rows, cx = rows + 1, 0.0
        cx += w
    return rows


def legend_height(items: list[tuple[str, str]], size=6.5, max_width=None) -> float:
    """Height to reserve at the bottom of a drawing for its legend."""
    return 14 + (_legend_rows(items, size, max_width) - 1) * (size + 4) if items else 0


def _legend(drawing, x, y, items: list[tuple[str, str]], size=6.5, max_width=None):
    """Colour swatches with names, left to right, wrapping at ``max_width``; the last row sits at ``y``."""
    cx, cy = x, y + (_legend_rows(items, size, max_width) - 1) * (size + 4)
    for text, color in items:
        w = 10 + text_width(text, size) + 10
        if max_width and cx + w > x + max_width and cx > x:
            cx, cy = x, cy - size - 4
        drawing.add(Rect(cx, cy, 7, 7, fillColor=_color(color), strokeColor=None))
        drawing.add(_string(cx + 10, cy + 0.5, text, size))
        cx += w
    return cy


def ranking_drawing(data: pd.DataFrame, width: float, *, lang: str = "zh", group_names: dict | None = None,
                    highlight: str | None = None, row_height: float = 11.0, x_range=None,
                    rank_column: str = "rank", label_width: float | None = None, edges=(70, 80, 90),
                    reference: float | None = None, signed: bool = False):
    """Dot (index) and bar (interval) per department, best at the top.

    ``data`` is :func:`reports.charts.ranking_data` output.  Each row carries
    the rank, the name and the index value as text; the grade boundaries
    70/80/90 are dotted lines.  Colours follow ``group`` (the category),
    explained in a legend when ``group_names`` is given.  Tie groups
    (``tie_group``) are alternating grey bands with the group number at the
    right edge.  Pass ``x_range`` and ``label_width`` to align several charts.
    The same drawing shows changes: ``edges=()``, ``reference=0`` (a solid
    line) and ``signed=True`` (values printed with their sign).
    """


    n = len(data)
    has_ci = data["ci_low"].notna().any() and data["ci_high"].notna().any()
    lo_vals = data["ci_low"] if has_ci else data["index"]
    hi_vals = data["ci_high"] if has_ci else data["index"]
    lo = math.floor(np.nanmin(lo_vals.to_numpy(dtype=float)) - 0.5) if x_range is None else x_range[0]
    hi = math.ceil(np.nanmax(hi_vals.to_numpy(dtype=float)) + 0.5) if x_range is None else x_range[1]
    if hi - lo < 5:
        lo, hi = lo - 2, hi + 2
    size = 7.0 if row_height >= 10 else 6.3
    ranks = [str(int(r)) if pd.notna(r) else "" for r in data.get(rank_column, pd.Series([None] * n))]
    names = list(data["name"])
    label_w = label_width or min(width * 0.36, max([text_width(t, size) for t in names] + [20]) + 22)
    bands = tie_bands(data["tie_group"]) if "tie_group" in data else []
    x0, x1 = label_w + 4, width - 34 - (18 if bands else 0)
    colors_ = group_colors(data["group"])
    legend_items = [(str(group_names.get(g, g)), colors_[g]) for g in colors_] if group_names else []
    legend_h = legend_height(legend_items, max_width=x1 - x0)
    bottom = 24 + legend_h
    height = bottom + n * row_height + 4
    drawing = _new_drawing(width, height)
    scale = (x1 - x0) / (hi - lo)

    def xpos(v):
        return x0 + (float(v) - lo) * scale

    def ypos(i):
        return height - 4 - (i + 0.5) * row_height

    for k, (first, last, group) in enumerate(bands):
        top, low = ypos(first) + row_height / 2, ypos(last) - row_height / 2
        if k % 2 == 0:
            drawing.add(Rect(label_w - 2, low, width - label_w + 2, top - low, fillColor=_color("#EDEDED"),
                             strokeColor=None))
        drawing.add(Line(width - 16, low + 1.5, width - 16, top - 1.5, strokeColor=_color("#777777"),
                         strokeWidth=0.6))
        drawing.add(_string(width - 1, (top + low) / 2 - 2.2, label("group_short", lang, n=int(group)), 6.0,
                            "end", "#555555"))
    for edge in edges:
        if lo < edge < hi:
            drawing.add(Line(xpos(edge), bottom, xpos(edge), height - 2, strokeColor=_color(PALETTE["grey"]),
                             strokeWidth=0.5, strokeDashArray=[1, 2]))
    if reference is not None and lo < reference < hi:
        drawing.add(Line(xpos(reference), bottom, xpos(reference), height - 2, strokeColor=_color("#444444"),
                         strokeWidth=0.6))
    for i, row in enumerate(data.itertuples(index=False)):
        y = ypos(i)
        is_hl = highlight is not None and row.department_id == highlight
        if is_hl:
            drawing.add(Rect(0, y - row_height / 2, width, row_height, fillColor=_color("#FFF3C4"), strokeColor=None))
        drawing.add(_string(14, y - size * 0.35, ranks[i], size, "end", "#555555"))
        drawing.add(_string(label_w, y - size * 0.35, _fit(names[i], size, label_w - 20), size, "end",
                            bold=is_hl))
        color = _color(colors_.get(row.group, PALETTE["blue"]))
        if has_ci and pd.notna(row.ci_low) and pd.notna(row.ci_high):
            drawing.add(Line(xpos(row.ci_low), y, xpos(row.ci_high), y, strokeColor=color, strokeWidth=1.6))
            end = xpos(row.ci_high)
        else:
            end = xpos(row.index)
        drawing.add(Circle(xpos(row.index), y, 2.3, fillColor=color, strokeColor=_color("#FFFFFF"),
                           strokeWidth=0.4))
        drawing.add(_string(end + 3, y - size * 0.35, f"{round(row.index, 1) + 0.0:+.1f}" if signed else f"{row.index:.1f}",
                            size - 0.5, "start", "#333333"))
    _x_axis(drawing, x0, x1, bottom, lo, hi, _ticks(lo, hi), None)
    if legend_items:
        _legend(drawing, x0, 2, legend_items, max_width=x1 - x0)
    return drawing


def profile_drawing(data: pd.DataFrame, width: float, *, lang: str = "zh"):
    """Grouped bars per dimension: this department, city average, category best.

    Bars start at 0 on a fixed 0–100 axis, the same for every department, so
    that a bar's length is its score and two scorecards compare at a glance.
    """
    size = 7.0
    series = [("estimate", "this_department", SERIES_COLORS["department"]),
              ("city_average", "city_average", SERIES_COLORS["city_average"]),
              ("category_best", "category_best", SERIES_COLORS["category_best"])]
    bar, gap = 3.8, 4.0
    group_h = 3 * bar + gap
    label_w = min(width * 0.34, max([text_width(t, size) for t in data["name"]] + [20]) + 6)
    x0, x1 = label_w + 4, width - 30
    bottom = 30
    height = bottom + len(data) * group_h + 4
    lo, hi = 0.0, 100.0
    scale = (x1 - x0) / (hi - lo)
    drawing = _new_drawing(width, height)
    for i, row in enumerate(data.itertuples(index=False)):
        top = height - 4 - i * group_h
        drawing.add(_string(label_w, top - 1.5 * bar - size * 0.35, _fit(row.name, size, label_w - 4), size, "end"))
        for k, (col, _, color) in enumerate(series):
            value = getattr(row, col)
            if pd.isna(value):
                continue
            y = top - (k + 1) * bar
            drawing.add(Rect(x0, y, max(0.0, (float(value) - lo) * scale), bar - 0.6, fillColor=_color(color),
                             strokeColor=None))
            if k == 0:
                drawing.add(_string(x0 + (float(value) - lo) * scale + 2, y + 0.6, f"{value:.1f}", 5.8, "start",
                                    "#333333"))
    for t in _ticks(lo, hi, 5):
        if lo < t < hi:
            drawing.add(Line(x0 + (t - lo) * scale, bottom, x0 + (t - lo) * scale, height - 4,
                             strokeColor=_color("#E4E4E4"), strokeWidth=0.4))
    _x_axis(drawing, x0, x1, bottom, lo, hi, _ticks(lo, hi, 5))
    _legend(drawing, x0, 2, [(label(key, lang), color) for _, key, color in series])
    return drawing


def quadrant_drawing(data: pd.DataFrame, width: float, height: float, *, lang: str = "zh"):
    """GB/T 19038 importance–performance chart; points labelled with indicator ids."""
    drawing = _new_drawing(width, height)
    x0, x1, y0, y1 = 30, width - 6, 28, height - 6
    imp, perf = data["importance"].to_numpy(float), data["performance"].to_numpy(float)
    if not len(data):
        return drawing
    xlo, xhi = 0.0, math.ceil(np.nanmax(imp) + 1)
    ylo = max(0.0, math.floor((np.nanmin(perf) - 3) / 5) * 5)
    yhi = min(100.0, math.ceil((np.nanmax(perf) + 3) / 5) * 5)
    if yhi - ylo < 10:
        ylo, yhi = max(0.0, yhi - 10), max(10.0, yhi)
    ticks_y = _ticks(ylo, yhi, 5)
    yhi += 0.08 * (yhi - ylo)  # headroom so that points at 100 and the corner labels do not collide

    def px(v):
        return x0 + (v - xlo) / (xhi - xlo) * (x1 - x0)

    def py(v):
        return y0 + (v - ylo) / (yhi - ylo) * (y1 - y0)

    drawing.add(Rect(x0, y0, x1 - x0, y1 - y0, fillColor=None, strokeColor=_color("#888888"), strokeWidth=0.5))
    rx, ry = px(data.attrs["importance_ref"]), py(data.attrs["performance_ref"])
    drawing.add(Line(rx, y0, rx, y1, strokeColor=_color("#888888"), strokeWidth=0.6))
    drawing.add(Line(x0, ry, x1, ry, strokeColor=_color("#888888"), strokeWidth=0.6))
    corners = {"possible_overkill": (x0 + 3, y1 - 9, "start"), "keep_up": (x1 - 3, y1 - 9, "end"),
               "low_priority": (x0 + 3, y0 + 3, "start"), "concentrate_here": (x1 - 3, y0 + 3, "end")}
    for key, (x, y, anchor) in corners.items():
        drawing.add(_string(x, y, label(f"quad_{key}", lang), 7, anchor, QUADRANT_COLORS[key], bold=True))
    placed: list[tuple[float, float, float, float]] = []
    order = np.argsort(-perf, kind="mergesort")
    for i in order:
        row = data.iloc[i]
        x, y = px(row["importance"]), py(row["performance"])
        color = _color(QUADRANT_COLORS[row["quadrant"]])
        outcome = bool(row["outcome"]) if "outcome" in data else False
        # an outcome is hollow: it shows where satisfaction stands, it is never an action of the list
        drawing.add(Circle(x, y, 2.2, fillColor=_color("#FFFFFF") if outcome else color,
                           strokeColor=color if outcome else None, strokeWidth=0.8))
        text = row["indicator_id"]
        if "problem_no" in data and pd.notna(row["problem_no"]):
            text += f" ({int(row['problem_no'])})"
        w = text_width(text, 5.5)
        for dx, dy in ((3, 1), (3, -6.5), (-3 - w, 1), (-3 - w, -6.5), (3, 7), (3, -13)):
            box = (x + dx, y + dy, x + dx + w, y + dy + 5.5)
            if all(box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3] for b in placed):
                break
        placed.append(box)
        drawing.add(_string(box[0], box[1], text, 5.5, "start", "#333333"))
    for t in _ticks(xlo, xhi, 5):
        drawing.add(_string(px(t), y0 - 8, f"{t:g}", 6, "middle", "#333333"))
    for t in ticks_y:
        drawing.add(_string(x0 - 3, py(t) - 2, f"{t:g}", 6, "end", "#333333"))
    xlabel = "importance_lmg" if data.attrs.get("basis") == "drivers" else "importance"
    drawing.add(_string((x0 + x1) / 2, 4, label(xlabel, lang), 6.5, "middle", "#333333"))

    ylab = Group(_string(0, 0, label("performance", lang), 6.5, "middle", "#333333"))
    ylab.translate(8, (y0 + y1) / 2)
    ylab.rotate(90)
    drawing.add(ylab)
    return drawing


def grade_drawing(counts: pd.DataFrame, width: float, height: float, *, lang: str = "zh",
                  group_names: dict | None = None):
    """Stacked bars: departments per grade (columns of ``counts``) by category (rows)."""
    drawing = _new_drawing(width, height)
    colors_ = group_colors(counts.index)
    legend_items = [(str(group_names.get(c, c)), colors_[c]) for c in counts.index] if group_names else []
    legend_h = legend_height(legend_items, max_width=width - 30)
    x0, x1, y0, y1 = 24, width - 6, 18 + legend_h, height - 12
    totals = counts.sum(axis=0)
    top = max(1, int(totals.max()))
    slot = (x1 - x0) / max(1, len(counts.columns))
    for t in _ticks(0, top, 4):
        if float(t).is_integer():
            y = y0 + t / top * (y1 - y0)
            drawing.add(Line(x0, y, x1, y, strokeColor=_color("#DDDDDD"), strokeWidth=0.4))
            drawing.add(_string(x0 - 3, y - 2, f"{int(t)}", 6, "end", "#333333"))
    for j, grade in enumerate(counts.columns):
        base = y0
        bx = x0 + j * slot + slot * 0.2
        for cat in counts.index:
            value = int(counts.loc[cat, grade])
            if value:
                h = value / top * (y1 - y0)
                drawing.add(Rect(bx, base, slot * 0.6, h, fillColor=_color(colors_[cat]), strokeColor=_color("#FFFFFF"),
                                 strokeWidth=0.5))
                base += h
        drawing.add(_string(bx + slot * 0.3, base + 2, f"{int(totals[grade])}", 7, "middle", bold=True))
        drawing.add(_string(bx + slot * 0.3, y0 - 9, str(grade), 7.5, "middle", GRADE_COLORS.get(grade, "#000000"),
                            bold=True))
    drawing.add(Line(x0, y0, x1, y0, strokeColor=_color("#444444"), strokeWidth=0.5))
    if legend_items:
        _legend(drawing, x0, 2, legend_items, max_width=x1 - x0)
    return drawing


def sparkline_drawing(series: pd.Series, width: float = 90, height: float = 26):
    """Index by year as a small line with the first and last years and the last value."""
    data = series.dropna().sort_index()
    drawing = _new_drawing(width, height)
    if len(data) < 2:
        return drawing
    years = data.index.astype(int).to_numpy()
    vals = data.to_numpy(float)
    x0, x1, y0, y1 = 14, width - 22, 9, height - 3
    vlo, vhi = vals.min() - 0.5, vals.max() + 0.5
    pts = []
    for yr, v in zip(years, vals):
        pts += [x0 + (yr - years[0]) / max(1, years[-1] - years[0]) * (x1 - x0),
                y0 + (v - vlo) / (vhi - vlo) * (y1 - y0)]
    drawing.add(PolyLine(pts, strokeColor=_color(PALETTE["blue"]), strokeWidth=1.1))
    drawing.add(Circle(pts[-2], pts[-1], 1.8, fillColor=_color(PALETTE["blue"]), strokeColor=None))
    drawing.add(_string(pts[-2] + 3, pts[-1] - 2, f"{vals[-1]:.1f}", 6, "start", "#333333"))
    drawing.add(_string(x0, 0, str(years[0]), 5.5, "middle", "#555555"))
    drawing.add(_string(x1, 0, str(years[-1]), 5.5, "middle", "#555555"))
    return drawing


def heat_color(value: float, lo: float, hi: float):
    """Light sequential fill (white to blue) for a heatmap cell (:func:`reports.chart_data.heat_hex`)."""
    return colors.HexColor(heat_hex(value, lo, hi))


def chart_drawing(chart: str, data, width: float, *, lang: str = "zh", **options):
    """The drawing of a named chart of a document's content (:class:`reports.city_content.Block`).

    ``chart`` is ``ranking`` (also the change chart), ``grades``, ``funnel``
    or ``rank_band``; ``options`` are the content's.  One dispatch for the
    PDF, the Word document and the PNG/SVG files, so all three show the same
    drawing.
    """
    if chart == "ranking":
        names = list(data["name"])
        label_width = min(width * 0.36, max([text_width(str(n), 7.0) for n in names] + [20]) + 22)
        kw = {k: options[k] for k in ("row_height", "x_range", "rank_column", "edges", "reference", "signed")
              if k in options}
        return ranking_drawing(data, width, lang=lang, group_names=options.get("group_names"),
                               label_width=label_width, **kw)
    if chart == "grades":
        return grade_drawing(data, width * options.get("scale", 1.0), options.get("height", 170), lang=lang,
                             group_names=options.get("group_names"))
    if chart == "funnel":
        return funnel_drawing(data, options.get("limits"), width, options.get("height", 300), lang=lang,
                              names=options.get("names"))
    if chart == "rank_band":
        return rank_band_drawing(data, width, n_departments=options["n_departments"], lang=lang,
                                 row_height=options.get("row_height", 10.5))
    raise ValueError(f"unknown chart {chart!r}")


FUNNEL_COLORS = {"above_998": PALETTE["vermillion"], "below_998": PALETTE["vermillion"],
                 "above_95": PALETTE["orange"], "below_95": PALETTE["orange"], "within": PALETTE["blue"]}


def _segments(xs, ys, lo: float, hi: float) -> list[list[float]]:
    """Runs of consecutive points with ``lo <= y <= hi`` as flat coordinate lists (curves leave the plot)."""
    runs, current = [], []
    for x, y in zip(xs, ys):
        if np.isfinite(y) and lo <= y <= hi:
            current += [x, y]
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return [r for r in runs if len(r) >= 4]


def funnel_drawing(funnel: pd.DataFrame, limits: pd.DataFrame | None, width: float, height: float, *,
                   lang: str = "zh", names: dict | None = None):
    """Funnel plot: index against respondents, control limits as curves, departments outside 95% named.

    ``funnel`` and ``limits`` are ``result.extra["funnel"]`` and
    ``["funnel_limits"]``; the curves drawn are those of the funnel rows'
    ``overdispersion`` setting.  ``names`` maps department ids to the names
    printed beside the points outside the 95% limits.
    """

    drawing = _new_drawing(width, height)
    data = funnel[funnel["n"].notna() & funnel["index"].notna()].sort_values(["n", "department_id"],
                                                                              kind="mergesort")
    if not len(data):
        return drawing
    curves = None
    if limits is not None and len(limits):
        curves = limits
        if "overdispersion" in limits:
            want = data["overdispersion"].iloc[0] if "overdispersion" in data else limits["overdispersion"].iloc[0]
            pick = limits[limits["overdispersion"] == want]
            curves = pick if len(pick) else limits[limits["overdispersion"] == limits["overdispersion"].iloc[0]]
        curves = curves.sort_values("n", kind="mergesort")
    legend_items = [(label("pos_within", lang), FUNNEL_COLORS["within"]),
                    (_outside_label(lang, "95"), FUNNEL_COLORS["above_95"]),
                    (_outside_label(lang, "998"), FUNNEL_COLORS["above_998"])]
    legend_h = legend_height(legend_items, max_width=width - 38)
    x0, x1, y0, y1 = 30, width - 8, 26 + legend_h, height - 6
    xs = data["n"].to_numpy(float)
    span_x = np.concatenate([xs, curves["n"].to_numpy(float)]) if curves is not None else xs
    xlo = 0.0
    xhi = float(_ticks(0, float(np.nanmax(span_x)) * 1.02, 6)[-1])
    if xhi < np.nanmax(span_x):
        xhi = float(np.nanmax(span_x)) * 1.05
    ys = data["index"].to_numpy(float)
    lows = [ys]
    if curves is not None and "lower998" in curves:
        lows.append(curves["lower998"].to_numpy(float))
    elif curves is not None and "lower95" in curves:
        lows.append(curves["lower95"].to_numpy(float))
    ylo = math.floor(np.nanmin(np.concatenate(lows)) / 5) * 5
    yhi = min(100.0, math.ceil((np.nanmax(ys) + 4) / 5) * 5)
    if curves is not None and "upper95" in curves:
        yhi = min(100.0, max(yhi, math.ceil(float(np.nanmax(curves["upper95"])) / 5) * 5))

    def px(v):
        return x0 + (v - xlo) / (xhi - xlo) * (x1 - x0)

    def py(v):
        return y0 + (v - ylo) / (yhi - ylo) * (y1 - y0)

    grey = _color("#666666")
    for t in _ticks(ylo, yhi, 5):
        drawing.add(Line(x0, py(t), x1, py(t), strokeColor=_color("#EEEEEE"), strokeWidth=0.4))
        drawing.add(_string(x0 - 3, py(t) - 2, f"{t:g}", 6, "end", "#333333"))
    if curves is not None:
        for low, high, dash in (("lower95", "upper95", [3, 2]), ("lower998", "upper998", [1, 1.5])):
            for col in (low, high):
                if col not in curves:
                    continue
                pts = [(px(n), py(v), v) for n, v in zip(curves["n"], curves[col])]
                for seg in _segments([p[0] for p in pts], [p[2] for p in pts], ylo, yhi):
                    coords = [seg[i] if i % 2 == 0 else py(seg[i]) for i in range(len(seg))]
                    drawing.add(PolyLine(coords, strokeColor=grey, strokeWidth=0.7, strokeDashArray=dash))
    if "city_mean" in data and data["city_mean"].notna().any():
        mean = float(data["city_mean"].dropna().iloc[0])
        drawing.add(Line(x0, py(mean), x1, py(mean), strokeColor=_color("#222222"), strokeWidth=0.7))
    placed: list[tuple[float, float, float, float]] = []
    for r in data.itertuples(index=False):
        position = getattr(r, "position", "within") if "position" in data else "within"
        color = FUNNEL_COLORS.get(position, PALETTE["blue"])
        x, y = px(r.n), py(min(max(r.index, ylo), yhi))
        drawing.add(Circle(x, y, 2.2, fillColor=_color(color), strokeColor=_color("#FFFFFF"), strokeWidth=0.3))
        if position != "within" and names is not None:
            text = _fit(str(names.get(r.department_id, r.department_id)), 6.0, 170)
            w = text_width(text, 6.0)
            for dx, dy in ((4, -2), (4, 4), (-4 - w, -2), (-4 - w, 4), (4, -9), (-4 - w, -9)):
                box = (x + dx, y + dy, x + dx + w, y + dy + 6)
                inside = box[0] >= x0 and box[2] <= x1
                if inside and all(box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3]
                                  for b in placed):
                    break
            placed.append(box)
            drawing.add(_string(box[0], box[1], text, 6.0, "start", "#333333"))
    drawing.add(Line(x0, y0, x1, y0, strokeColor=_color("#444444"), strokeWidth=0.5))
    drawing.add(Line(x0, y0, x0, y1, strokeColor=_color("#444444"), strokeWidth=0.5))
    for t in _ticks(xlo, xhi, 6):
        drawing.add(Line(px(t), y0, px(t), y0 - 2.5, strokeColor=_color("#444444"), strokeWidth=0.5))
        drawing.add(_string(px(t), y0 - 9, f"{t:g}", 6, "middle", "#333333"))
    drawing.add(_string((x0 + x1) / 2, y0 - 19, label("funnel_n", lang), 6.5, "middle", "#333333"))

    ylab = Group(_string(0, 0, label("index", lang), 6.5, "middle", "#333333"))
    ylab.translate(8, (y0 + y1) / 2)
    ylab.rotate(90)
    drawing.add(ylab)
    _legend(drawing, x0, 2, legend_items, max_width=x1 - x0)
    return drawing


def _outside_label(lang: str, which: str) -> str:
    """"above or below the 95% limit" in one legend entry."""
    above, below = label(f"pos_above_{which}", lang), label(f"pos_below_{which}", lang)
    return f"{above} / {below}"


def rank_band_drawing(data: pd.DataFrame, width: float, *, n_departments: int, lang: str = "zh",
                      row_height: float = 10.5):
    """Per department (published rank order): median rank (dot), 5–95% band (bar), published rank (tick).

    ``data`` has ``name``, ``nominal_rank``, ``median_rank``, ``rank_p05``,
    ``rank_p95`` (``result.extra["sensitivity"]`` rows of one scope, names
    joined).  Rank 1 is at the left.
    """

    n = len(data)
    size = 6.8
    label_w = min(width * 0.36, max([text_width(str(t), size) for t in data["name"]] + [20]) + 22)
    x0, x1 = label_w + 6, width - 8
    bottom = 24
    height = bottom + n * row_height + 4
    drawing = _new_drawing(width, height)
    lo, hi = 0.5, float(n_departments) + 0.5

    def xpos(v):
        return x0 + (float(v) - lo) / (hi - lo) * (x1 - x0)

    for t in _ticks(1, n_departments, 8):
        if float(t).is_integer():
            drawing.add(Line(xpos(t), bottom, xpos(t), height - 2, strokeColor=_color("#EEEEEE"), strokeWidth=0.4))
    blue = _color(PALETTE["blue"])
    for i, r in enumerate(data.itertuples(index=False)):
        y = height - 4 - (i + 0.5) * row_height
        drawing.add(_string(14, y - size * 0.35, fmt_rank_text(r.nominal_rank), size, "end", "#555555"))
        drawing.add(_string(label_w, y - size * 0.35, _fit(str(r.name), size, label_w - 20), size, "end"))
        if pd.notna(r.rank_p05) and pd.notna(r.rank_p95):
            drawing.add(Line(xpos(r.rank_p05), y, xpos(r.rank_p95), y, strokeColor=blue, strokeWidth=1.6))
        if pd.notna(r.nominal_rank):
            drawing.add(Line(xpos(r.nominal_rank), y - 3.5, xpos(r.nominal_rank), y + 3.5,
                             strokeColor=_color("#222222"), strokeWidth=0.9))
        if pd.notna(r.median_rank):
            drawing.add(Circle(xpos(r.median_rank), y, 2.1, fillColor=_color(PALETTE["orange"]),
                               strokeColor=_color("#FFFFFF"), strokeWidth=0.3))
    ticks = [t for t in _ticks(1, n_departments, 8) if float(t).is_integer()]
    _x_axis(drawing, x0, x1, bottom, lo, hi, ticks, None)
    drawing.add(_string((x0 + x1) / 2, 2, label("rank", lang), 6.5, "middle", "#333333"))
    return drawing


def fmt_rank_text(value) -> str:
    return "" if pd.isna(value) else str(int(value))
