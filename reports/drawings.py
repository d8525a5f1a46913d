"""Vector charts for the PDF reports, drawn with reportlab graphics.

They show the same data as the matplotlib charts in :mod:`reports.charts`
(the ``*_data`` functions there decide what is shown) but are drawn as
reportlab shapes: the text stays text in the shipped font (embedded,
extractable), and a scorecard's charts cost milliseconds instead of the ~0.7 s
a matplotlib PDF figure takes.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from reports.charts import GRADE_COLORS, PALETTE, QUADRANT_COLORS, SERIES_COLORS, group_colors
from reports.labels import label


def _fonts():
    from reports.fonts import register_reportlab

    return register_reportlab()


def _color(hex_code: str):
    from reportlab.lib import colors

    return colors.HexColor(hex_code)


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in points of ``text`` set in the shipped font."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

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
    from reportlab.graphics.shapes import Drawing

    drawing = Drawing(width, height)
    drawing.initialFontName = _fonts()[0]
    drawing.initialFontSize = 7
    return drawing


def _string(x, y, text, size=7.0, anchor="start", color="#000000", bold=False):
    from reportlab.graphics.shapes import String

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
    from reportlab.graphics.shapes import Line

    scale = (x1 - x0) / (hi - lo)
    drawing.add(Line(x0, y, x1, y, strokeColor=_color("#444444"), strokeWidth=0.5))
    for t in ticks:
        x = x0 + (t - lo) * scale
        drawing.add(Line(x, y, x, y - 2.5, strokeColor=_color("#444444"), strokeWidth=0.5))
        drawing.add(_string(x, y - 9, f"{t:g}", size, "middle", "#333333"))
    if title:
        drawing.add(_string((x0 + x1) / 2, y - 19, title, size + 0.5, "middle", "#333333"))


def _legend(drawing, x, y, items: list[tuple[str, str]], size=6.5, max_width=None):
    """Colour swatches with names, left to right, wrapping at ``max_width``."""
    from reportlab.graphics.shapes import Rect

    cx, cy = x, y
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
                    rank_column: str = "rank", label_width: float | None = None):
    """Dot (index) and bar (interval) per department, best at the top.

    ``data`` is :func:`reports.charts.ranking_data` output.  Each row carries
    the rank, the name and the index value as text; the grade boundaries
    70/80/90 are dotted lines.  Colours follow ``group`` (tie group or
    category), explained in a legend when ``group_names`` is given.  Pass
    ``x_range`` and ``label_width`` to align several charts.
    """
    from reportlab.graphics.shapes import Circle, Line, Rect

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
    x0, x1 = label_w + 4, width - 34
    legend_h = 14 if group_names else 0
    bottom = 24 + legend_h
    height = bottom + n * row_height + 4
    drawing = _new_drawing(width, height)
    scale = (x1 - x0) / (hi - lo)
    colors_ = group_colors(data["group"])

    def xpos(v):
        return x0 + (float(v) - lo) * scale

    for edge in (70, 80, 90):
        if lo < edge < hi:
            drawing.add(Line(xpos(edge), bottom, xpos(edge), height - 2, strokeColor=_color(PALETTE["grey"]),
                             strokeWidth=0.5, strokeDashArray=[1, 2]))
    for i, row in enumerate(data.itertuples(index=False)):
        y = height - 4 - (i + 0.5) * row_height
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
        drawing.add(_string(end + 3, y - size * 0.35, f"{row.index:.1f}", size - 0.5, "start", "#333333"))
    _x_axis(drawing, x0, x1, bottom, lo, hi, _ticks(lo, hi), None)
    if group_names:
        items = [(str(group_names.get(g, g)), colors_[g]) for g in colors_]
        _legend(drawing, x0, 2, items, max_width=x1 - x0)
    return drawing


def profile_drawing(data: pd.DataFrame, width: float, *, lang: str = "zh"):
    """Grouped bars per dimension: this department, city average, category best."""
    from reportlab.graphics.shapes import Rect

    size = 7.0
    series = [("estimate", "this_department", SERIES_COLORS["department"]),
              ("city_average", "city_average", SERIES_COLORS["city_average"]),
              ("category_best", "category_best", SERIES_COLORS["category_best"])]
    bar, gap = 5.0, 6.0
    group_h = 3 * bar + gap
    label_w = min(width * 0.34, max([text_width(t, size) for t in data["name"]] + [20]) + 6)
    x0, x1 = label_w + 4, width - 30
    bottom = 30
    height = bottom + len(data) * group_h + 4
    values = data[["estimate", "city_average", "category_best"]].to_numpy(dtype=float)
    low = np.nanmin(values) if np.isfinite(values).any() else 0.0
    lo, hi = max(0.0, math.floor(low / 10) * 10 - 10), 100.0
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
    _x_axis(drawing, x0, x1, bottom, lo, hi, _ticks(lo, hi, 5))
    _legend(drawing, x0, 2, [(label(key, lang), color) for _, key, color in series])
    return drawing


def quadrant_drawing(data: pd.DataFrame, width: float, height: float, *, lang: str = "zh"):
    """GB/T 19038 importance–performance chart; points labelled with indicator ids."""
    from reportlab.graphics.shapes import Circle, Line, Rect

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
    corners = {"q_surplus": (x0 + 3, y1 - 9, "start"), "q_keep": (x1 - 3, y1 - 9, "end"),
               "q_low": (x0 + 3, y0 + 3, "start"), "q_fix": (x1 - 3, y0 + 3, "end")}
    for key, (x, y, anchor) in corners.items():
        drawing.add(_string(x, y, label(key, lang), 7, anchor, QUADRANT_COLORS[key], bold=True))
    placed: list[tuple[float, float, float, float]] = []
    order = np.argsort(-perf, kind="mergesort")
    for i in order:
        row = data.iloc[i]
        x, y = px(row["importance"]), py(row["performance"])
        drawing.add(Circle(x, y, 2.2, fillColor=_color(QUADRANT_COLORS[row["quadrant"]]), strokeColor=None))
        text = row["indicator_id"]
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
    drawing.add(_string((x0 + x1) / 2, 4, label("importance", lang), 6.5, "middle", "#333333"))
    from reportlab.graphics.shapes import Group

    ylab = Group(_string(0, 0, label("performance", lang), 6.5, "middle", "#333333"))
    ylab.translate(8, (y0 + y1) / 2)
    ylab.rotate(90)
    drawing.add(ylab)
    return drawing


def grade_drawing(counts: pd.DataFrame, width: float, height: float, *, lang: str = "zh",
                  group_names: dict | None = None):
    """Stacked bars: departments per grade (columns of ``counts``) by category (rows)."""
    from reportlab.graphics.shapes import Line, Rect

    drawing = _new_drawing(width, height)
    legend_h = 14 if group_names else 0
    x0, x1, y0, y1 = 24, width - 6, 18 + legend_h, height - 12
    totals = counts.sum(axis=0)
    top = max(1, int(totals.max()))
    colors_ = group_colors(counts.index)
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
    if group_names:
        _legend(drawing, x0, 2, [(str(group_names.get(c, c)), colors_[c]) for c in counts.index],
                max_width=x1 - x0)
    return drawing


def sparkline_drawing(series: pd.Series, width: float = 90, height: float = 26):
    """Index by year as a small line with the first and last years and the last value."""
    from reportlab.graphics.shapes import Circle, PolyLine

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
    """Light sequential fill (white to blue) for a heatmap cell; text stays black and readable."""
    from reportlab.lib import colors

    if value is None or not np.isfinite(value):
        return colors.white
    t = 0.0 if hi <= lo else min(1.0, max(0.0, (value - lo) / (hi - lo)))
    start, end = (0.97, 0.98, 1.0), (0.42, 0.68, 0.84)
    return colors.Color(*(s + (e - s) * t for s, e in zip(start, end)))
