"""Department scorecards: a one- to two-page A4 PDF and a workbook per department.

:func:`scorecard_content` gathers everything a scorecard shows from an
evaluation result (only the department's own disaggregated data; other
departments appear only in city aggregates and ranks).  The PDF and XLSX
renderers both read that content, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from reports import layout, workbook
from reports.charts import SERIES_COLORS, priority_data, profile_data, quadrant_data
from reports.labels import LABELS, check_lang, flag_text, label, name_column, split_flags
from reports.layout import Fact, fmt, fmt_interval, fmt_rank
from surveys.errors import DataValidationError, Problem

QUALITY_FIELDS = [("n_callback_drawn", "int"), ("n_callback_complete", "int"), ("callback_completion", "share"),
                  ("wrong_number_rate", "share"), ("never_handled_rate", "share"), ("g1_authenticity", "percent"),
                  ("g2_gap", "points")]
HAOCHA_FIELDS = [("haocha_n", "int"), ("haocha_good_rate", "share"), ("haocha_active_good_rate", "share"),
                 ("haocha_default_share", "share"), ("haocha_no_rating_rate", "share"), ("haocha_bad_rate", "share"),
                 ("rectified_on_time_rate", "share"), ("rectification_callback_rate", "share"),
                 ("rectification_satisfaction", "share")]
REFORM_FIELDS = [("online_rate", "share"), ("time_compression", "share"), ("docs_reduction", "share"),
                 ("one_trip_rate", "share"), ("on_time_rate", "share")]


@dataclass(frozen=True)
class ScorecardContent:
    """Everything one department's scorecard shows, in one language."""

    lang: str
    year: int
    department_id: str
    name: str
    category_name: str
    tier: str
    level: float
    row: pd.Series
    n_departments: int
    n_in_category: int
    change: float
    trend: pd.Series
    headline: list
    flags: list
    profile: pd.DataFrame
    dimensions: pd.DataFrame
    indicators: pd.DataFrame
    quadrant: pd.DataFrame
    priorities: pd.DataFrame
    quality: list
    haocha: list
    reform: list
    notes: list
    manifest: list


def _facts(frame_row: pd.Series | None, fields, lang) -> list[Fact]:
    if frame_row is None:
        return []
    return [Fact(label(col, lang), frame_row[col], kind) for col, kind in fields if col in frame_row.index]


def _one_row(frame: pd.DataFrame | None, department_id: str) -> pd.Series | None:
    if frame is None or "department_id" not in frame:
        return None
    rows = frame[frame["department_id"].astype(str) == department_id]
    return rows.iloc[0] if len(rows) else None


def supplied_priorities(result) -> pd.DataFrame | None:
    """A ``priorities`` frame from the result (attribute or ``extra`` table), if the evaluation made one."""
    frame = getattr(result, "priorities", None)
    if frame is None:
        frame = (getattr(result, "extra", None) or {}).get("priorities")
    return frame


def method_notes(result, lang: str, *, n_indicators: int) -> list[str]:
    """The method paragraphs shared by scorecards and the city report."""
    rules = layout.framework_rules(result)
    gates = rules["gates"]
    level = layout.level_text(layout.confidence_level(result))
    return [
        label("method_index", lang, m=n_indicators, level=level),
        label("method_grades", lang, bands=layout.grade_bands_text(rules, lang)),
        label("method_gates", lang, g1=f"{gates.get('g1_threshold', 95):g}",
              per=f"{gates.get('g1_deduction_per_point', 0.5):g}", cap=f"{gates.get('g1_max_deduction', 5):g}",
              audit=f"{gates.get('g1_audit_threshold', 80):g}", g2=f"{gates.get('g2_threshold', 10):g}",
              s=f"{gates.get('g4_min_survey', 50):g}", c=f"{gates.get('g4_min_callback', 30):g}"),
    ]


def manifest_facts(result, lang: str) -> list[Fact]:
    prov = layout.provenance(result)
    ident = " ".join(str(prov[k]) for k in ("framework_id", "framework_version") if prov.get(k))
    return [
        Fact(label("manifest_hash", lang), layout.manifest_hash(prov), "text"),
        Fact(label("toolkit_version", lang), prov.get("toolkit_version") or prov.get("version")
             or label("unknown", lang), "text"),
        Fact(label("framework_id", lang), ident or label("unknown", lang), "text"),
        Fact(label("seed", lang), prov.get("seed", label("unknown", lang)), "text"),
        Fact(label("level", lang), layout.level_text(layout.confidence_level(result)), "text"),
    ]


def scorecard_content(result, department_id: str, *, lang: str = "zh", history=None) -> ScorecardContent:
    """Gather what one department's scorecard shows.

    Parameters
    ----------
    result : EvaluationResult-like
        Needs ``year``, ``departments``, ``dimensions``, ``indicators``; uses
        ``quality``, ``provenance``, ``framework`` and an optional
        ``priorities`` frame when present.
    department_id : str
        Register id of the department.
    lang : {"zh", "en"}
    history : DataFrame or results, optional
        Earlier years (see :func:`reports.layout.history_frame`) for the
        change since last year and the trend line.
    """
    check_lang(lang)
    department_id = str(department_id)
    deps = result.departments
    row = _one_row(deps, department_id)
    if row is None:
        raise DataValidationError("department not in the result", [Problem(
            message="no row for this department in result.departments", value=department_id,
            column="department_id", fix="render scorecards only for departments that were evaluated")])
    year = int(getattr(result, "year", row.get("year", 0)))
    level = layout.confidence_level(result)
    hist = layout.history_frame(history)
    change = layout.index_change(deps, hist, department_id, year)
    trend = layout.trend_series(deps, hist, department_id, year)
    rules = layout.framework_rules(result)
    n_cat = int((deps["category"] == row["category"]).sum())

    grade_name = row.get(name_column("grade_name", lang), "")
    headline = [
        Fact(label("index", lang), row["index"], "score"),
        Fact(label("ci_low", lang), row.get("ci_low"), "score"),
        Fact(label("ci_high", lang), row.get("ci_high"), "score"),
        Fact(label("se", lang), row.get("se"), "score"),
        Fact(label("grade", lang), f"{row.get('grade', '')} {grade_name}".strip(), "text"),
        Fact(label("borderline", lang), label("yes" if bool(row.get("borderline", False)) else "no", lang), "text"),
        Fact(label("rank_overall", lang), row.get("rank"), "int"),
    ]
    headline += [Fact(f"{label('rank_overall', lang)} · {label(k, lang)}", row.get(c), "int")
                 for c, k in (("rank_low", "ci_low"), ("rank_high", "ci_high")) if c in row.index]
    headline.append(Fact(label("rank_in_category", lang), row.get("rank_in_category"), "int"))
    headline += [Fact(f"{label('rank_in_category', lang)} · {label(k, lang)}", row.get(c), "int")
                 for c, k in (("rank_in_category_low", "ci_low"), ("rank_in_category_high", "ci_high"))
                 if c in row.index]
    headline += [Fact(label("count", lang), len(deps), "int"),
                 Fact(label("change", lang), change, "points")]
    headline += [Fact(label(c, lang), row.get(c), "score") for c in ("index_raw", "g1_deduction") if c in row.index]
    headline += [Fact(label(c, lang), row.get(c), "int") for c in ("n_survey", "n_callback", "n_visit")
                 if c in row.index]

    flags = [flag_text(code, lang, **layout.flag_fields(rules)) for code in split_flags(row.get("flags"))]

    dims = result.dimensions
    own_dims = dims[dims["department_id"].astype(str) == department_id]
    profile = profile_data(dims, deps, department_id, lang=lang)
    if "flag" in own_dims:
        profile["flag"] = own_dims.set_index("dimension_id")["flag"].reindex(profile["dimension_id"]).to_numpy()
    if "change" in own_dims:
        profile["change"] = own_dims.set_index("dimension_id")["change"].reindex(profile["dimension_id"]).to_numpy()

    inds = result.indicators
    own_inds = layout.natural_order(inds[inds["department_id"].astype(str) == department_id], "indicator_id")
    quality_row = _one_row(getattr(result, "quality", None), department_id)
    quality = _facts(row, [("n_survey", "int"), ("n_callback", "int"), ("n_visit", "int")], lang)
    quality += _facts(quality_row, QUALITY_FIELDS, lang)
    if quality_row is not None:
        for k in range(1, 7):
            col = next((c for c in (f"rr{k}", f"RR{k}") if c in quality_row.index), None)
            if col is not None:
                quality.append(Fact(f"AAPOR RR{k}", quality_row[col], "share"))
    notes = method_notes(result, lang, n_indicators=int(own_inds["indicator_id"].nunique()))
    notes += [label("method_average", lang), label("method_priorities", lang), label("own_data_note", lang)]
    if bool(row.get("borderline", False)):
        notes.append(label("borderline_note", lang))
    return ScorecardContent(
        lang=lang, year=year, department_id=department_id,
        name=str(row[name_column("department", lang)]),
        category_name=str(row.get(name_column("category_name", lang), row.get("category", ""))),
        tier=str(row.get("tier", "")), level=level, row=row, n_departments=len(deps), n_in_category=n_cat,
        change=change, trend=trend, headline=headline, flags=flags, profile=profile, dimensions=own_dims,
        indicators=own_inds, quadrant=quadrant_data(inds, department_id, lang=lang),
        priorities=priority_data(inds, department_id, lang=lang, priorities=supplied_priorities(result)),
        quality=quality, haocha=_facts(quality_row, HAOCHA_FIELDS, lang),
        reform=_facts(quality_row, REFORM_FIELDS, lang), notes=notes, manifest=manifest_facts(result, lang),
    )


# ---------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------

def _kpi_table(c: ScorecardContent, styles, width):
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    from reports.drawings import sparkline_drawing

    row, lang = c.row, c.lang
    level = layout.level_text(c.level)
    grade = f"{row.get('grade', '')} {row.get(name_column('grade_name', lang), '')}".strip()
    border = label("borderline", lang) if bool(row.get("borderline", False)) else " "
    rank_sub = (f"{label('rank_interval', lang)} {layout.fmt_interval(row['rank_low'], row['rank_high'], 0)}"
                if "rank_low" in row.index and "rank_high" in row.index else " ")
    cat_sub = (f"{label('rank_interval', lang)} "
               f"{layout.fmt_interval(row['rank_in_category_low'], row['rank_in_category_high'], 0)}"
               if "rank_in_category_low" in row.index and "rank_in_category_high" in row.index else " ")
    ci = (f"{label('interval', lang, level=level)} {fmt_interval(row.get('ci_low'), row.get('ci_high'))}"
          if "ci_low" in row.index else " ")
    change_cell = [layout.P(label("change", lang), styles["kpi_label"]),
                   layout.P(fmt(c.change, "points"), styles["kpi_value"])]
    if len(c.trend.dropna()) >= 2:
        change_cell.append(sparkline_drawing(c.trend, width / 5 - 12, 24))
    else:
        change_cell.append(layout.P(" ", styles["kpi_sub"]))

    def cell(key, value, sub):
        return [layout.P(label(key, lang), styles["kpi_label"]), layout.P(value, styles["kpi_value"]),
                layout.P(sub, styles["kpi_sub"])]

    cells = [
        cell("index", fmt(row["index"]), ci),
        cell("grade", grade, border),
        cell("rank_overall", label("of_n", lang, rank=fmt_rank(row.get("rank")), n=c.n_departments), rank_sub),
        cell("rank_in_category", label("of_n", lang, rank=fmt_rank(row.get("rank_in_category")),
                                       n=c.n_in_category), cat_sub),
        change_cell,
    ]
    table = Table([cells], colWidths=[width / 5] * 5)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), styles["body"].fontName),
        ("BOX", (0, 0), (-1, -1), 0.6, colors.HexColor("#0B3C5D")),
        ("LINEAFTER", (0, 0), (-2, -1), 0.3, colors.HexColor("#BBBBBB")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (0, 0), (-1, -1), "CENTER"),
        ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#F4F7FA")),
        ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]))
    return table


def _dimension_table(c: ScorecardContent, styles, width):
    lang, s = c.lang, styles
    has_change = "change" in c.profile
    head = ["dimension", "weight_pct", "score", "interval", "city_average", "category_best"]
    heads = [label(k, lang, level=layout.level_text(c.level)) if k == "interval" else label(k, lang) for k in head]
    if has_change:
        heads.append(label("change_short", lang))
    rows = [[layout.P(h, s["head"]) for h in heads]]
    for r in c.profile.itertuples(index=False):
        line = [layout.P(f"{r.dimension_id} {r.name}", s["cell"]), fmt(r.weight, "int"), fmt(r.estimate),
                fmt_interval(r.ci_low, r.ci_high), fmt(r.city_average), fmt(r.category_best)]
        if has_change:
            line.append(fmt(r.change, "points"))
        rows.append(line)
    fixed = [0.08, 0.09, 0.15, 0.12, 0.12] + ([0.09] if has_change else [])
    widths = [width * (1 - sum(fixed))] + [width * f for f in fixed]
    return layout.grid_table(rows, widths)


def channel_name(code: object, lang: str) -> str:
    """The channel code (S, C, V, A, H) as a word in ``lang``."""
    key = f"channel_{code}"
    return label(key, lang) if key in LABELS else str(code)


def _indicator_table(c: ScorecardContent, styles, width):
    lang, s = c.lang, styles
    inds = c.indicators
    has_change = "change" in inds
    has_ci = "ci_low" in inds and "ci_high" in inds
    heads = [label("id", lang), label("indicator", lang), label("channel", lang), label("raw_value", lang),
             label("score", lang)]
    if has_ci:
        heads.append(label("interval", lang, level=layout.level_text(c.level)))
    heads += [label("weight", lang), label("n", lang), label("top2", lang), label("bottom2", lang)]
    if has_change:
        heads.append(label("change_short", lang))
    rows = [[layout.P(h, s["head"]) for h in heads]]
    name_col = name_column("indicator", lang)
    for _, r in inds.iterrows():
        line = [layout.P(r["indicator_id"], s["cell"]), layout.P(r[name_col], s["cell"]),
                layout.P(channel_name(r["channel"], lang), s["cell_c"]), fmt(r.get("raw_value"), "raw"),
                fmt(r["score"])]
        if has_ci:
            line.append(fmt_interval(r["ci_low"], r["ci_high"]))
        line += [fmt(r["weight"], "weight"), fmt(r.get("n"), "int"), fmt(r.get("top2"), "share"),
                 fmt(r.get("bottom2"), "share")]
        if has_change:
            line.append(fmt(r["change"], "points"))
        rows.append(line)
    fixed = [0.06, 0.09, 0.085, 0.07] + ([0.12] if has_ci else []) + [0.075, 0.07, 0.075, 0.075]
    fixed += [0.075] if has_change else []
    widths = [width * fixed[0], width * (1 - sum(fixed))] + [width * f for f in fixed[1:]]
    return layout.grid_table(rows, widths)


def _priority_block(c: ScorecardContent, styles, width):
    from reportlab.platypus import Table, TableStyle

    from reports.drawings import quadrant_drawing

    lang, s = c.lang, styles
    left_w = width * 0.46
    right_w = width - left_w - 8
    chart = quadrant_drawing(c.quadrant, left_w, 190, lang=lang)
    if len(c.priorities):
        rows = [[layout.P(h, s["head"]) for h in ("#", label("indicator", lang), label("score", lang),
                                                   label("priority_gain", lang), label("due", lang))]]
        for k, r in enumerate(c.priorities.itertuples(index=False), start=1):
            text = f"{layout.esc(r.indicator_id)} {layout.esc(r.name)}"
            if isinstance(r.quadrant, str):
                text += f"<br/><font size='6.5' color='#555555'>{layout.esc(label(r.quadrant, lang))}</font>"
            rows.append([layout.P(str(k), s["cell_c"]), layout.P(text, s["cell"], raw=True),
                         fmt(r.score), fmt(r.gain, "score", 2),
                         layout.P(label("due_text", lang), s["cell"])])
        table = layout.grid_table(rows, [right_w * f for f in (0.07, 0.37, 0.12, 0.14, 0.30)])
    else:
        table = layout.P(label("no_priorities", lang), s["body"])
    block = Table([[chart, table]], colWidths=[left_w + 8, right_w])
    block.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), s["body"].fontName),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return block


def render_scorecard_pdf(result, department_id: str, path: str | Path, *, lang: str = "zh", history=None,
                         content: ScorecardContent | None = None) -> Path:
    """Write one department's scorecard as an A4 PDF (one to two pages); return the path.

    Charts are reportlab vector drawings in the shipped font (embedded,
    text extractable).  The file is byte-identical for equal input.
    """
    from reportlab.platypus import CondPageBreak, Spacer

    from reports.drawings import profile_drawing

    c = content or scorecard_content(result, department_id, lang=lang, history=history)
    lang = c.lang
    s = layout.pdf_styles(lang)
    width = layout.content_width()
    tier = f" · {label('tier', lang)} {c.tier}" if c.tier else ""
    story = [
        layout.P(c.name, s["title"]),
        layout.P(f"{label('scorecard_title', lang, year=c.year)} · {label('category', lang)}: {c.category_name}"
                 f"{tier}", s["subtitle"]),
        Spacer(1, 6),
        _kpi_table(c, s, width),
    ]
    for text in c.flags:
        story.append(layout.P("! " + text, s["warn"]))
    story += [layout.P(label("sec_dimensions", lang), s["h1"]), profile_drawing(c.profile, width, lang=lang),
              Spacer(1, 4), _dimension_table(c, s, width),
              CondPageBreak(120), layout.P(label("sec_indicators", lang), s["h1"]), _indicator_table(c, s, width),
              CondPageBreak(220), layout.P(label("sec_priorities", lang), s["h1"]), _priority_block(c, s, width)]
    for key, facts in (("sec_quality", c.quality), ("sec_haocha", c.haocha), ("sec_reform", c.reform)):
        if facts:
            story += [layout.P(label(key, lang), s["h1"]), layout.fact_table(facts, s, width, columns=2)]
    story.append(layout.P(label("sec_method", lang), s["h1"]))
    story += [layout.P(text, s["note"]) for text in c.notes]
    story += [Spacer(1, 3), layout.fact_table(c.manifest[:1], s, width, columns=1),
              layout.fact_table(c.manifest[1:], s, width, columns=2)]
    prov = layout.provenance(result)
    footer = label("footer", lang, version=prov.get("toolkit_version", ""),
                   hash=layout.manifest_hash(prov)[:12])
    return layout.build_pdf(Path(path), story, title=f"{c.name} {c.year}", subject=label("scorecard_title", lang,
                            year=c.year), footer=footer, lang=lang)


# ---------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------

def render_scorecard_xlsx(result, department_id: str, path: str | Path, *, lang: str = "zh", history=None,
                          content: ScorecardContent | None = None) -> Path:
    """Write one department's scorecard as a workbook; numbers are stored as numbers.

    Sheets (names in ``lang``): summary (headline figures and flags),
    dimensions (with a native bar chart against the city average and the
    category best), indicators, data quality, priorities, notes (method and
    manifest).  Every text cell is inert (no formulas from input strings).
    """
    from openpyxl.chart import Reference

    from reports.safety import set_cell, sheet_title

    c = content or scorecard_content(result, department_id, lang=lang, history=history)
    lang = c.lang
    wb = workbook.new_workbook(f"{c.name} {c.year}")
    taken: set[str] = set()

    def sheet(key):
        ws = wb.create_sheet(sheet_title(label(key, lang), taken=taken))
        taken.add(ws.title)
        return ws

    ws = sheet("sheet_summary")
    facts = [Fact(label("department", lang), c.name, "text"), Fact("ID", c.department_id, "text"),
             Fact(label("category", lang), c.category_name, "text"), Fact(label("year", lang), c.year, "int")]
    nxt = workbook.write_facts(ws, facts + c.headline, header=(label("item", lang), label("value", lang)))
    for text in c.flags:
        set_cell(ws.cell(row=nxt, column=1), label("flags", lang))
        set_cell(ws.cell(row=nxt, column=2), text)
        nxt += 1
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 40

    ws = sheet("sheet_dimensions")
    p = c.profile
    cols = [("dimension_id", "id", "text"), ("name", "dimension", "text"), ("weight", "weight", "int"),
            ("estimate", "score", "score"), ("ci_low", "ci_low", "score"), ("ci_high", "ci_high", "score"),
            ("city_average", "city_average", "score"), ("category_best", "category_best", "score")]
    own = c.dimensions.set_index("dimension_id")
    extra = [(col, col, kind) for col, kind in (("se", "score"), ("missing_weight_share", "share"), ("flag", "text"))
             if col in own.columns]
    cols += [(col, key, kind) for col, key, kind in extra]
    rows = []
    for _, r in p.iterrows():
        line = [r.get(col) if col in p.columns else own[col].get(r["dimension_id"]) for col, _, _ in cols]
        rows.append(line)
    workbook.write_table(ws, [label(k, lang) for _, k, _ in cols], rows, [k for _, _, k in cols],
                       widths=[8, 30, 8, 9, 10, 10, 10, 10, 9, 12, 10])
    if len(rows):
        last = len(rows) + 1
        workbook.xlsx_bar_chart(
            ws, title=label("profile_title", lang), categories=Reference(ws, min_col=2, min_row=2, max_row=last),
            series=[Reference(ws, min_col=col, max_col=col, min_row=1, max_row=last) for col in (4, 7, 8)],
            colors=[SERIES_COLORS[k] for k in ("department", "city_average", "category_best")],
            anchor=f"A{last + 3}", y_max=100)

    ws = sheet("sheet_indicators")
    name_col = name_column("indicator", lang)
    icols = [("indicator_id", "id", "text"), (name_col, "indicator", "text"), ("dimension_id", "dimension", "text"),
             ("channel", "channel", "text"), ("raw_value", "raw_value", "raw"), ("raw_se", "raw_se", "raw"),
             ("score", "score", "score"), ("se", "se", "score"), ("ci_low", "ci_low", "score"),
             ("ci_high", "ci_high", "score"), ("weight", "weight", "weight"), ("n", "n", "int"),
             ("top2", "top2", "share"), ("bottom2", "bottom2", "share"), ("change", "change_short", "points")]
    icols = [t for t in icols if t[0] in c.indicators.columns]
    rows = [[r[col] for col, _, _ in icols] for _, r in c.indicators.iterrows()]
    workbook.write_table(ws, [label(k, lang) for _, k, _ in icols], rows, [k for _, _, k in icols],
                       widths=[7, 30, 8, 7, 10, 10, 8, 8, 10, 10, 8, 8, 9, 9, 9], freeze="C2")

    ws = sheet("sheet_quality")
    nxt = 1
    for key, facts in (("sec_quality", c.quality), ("sec_haocha", c.haocha), ("sec_reform", c.reform)):
        if facts:
            nxt = workbook.write_facts(ws, facts, start_row=nxt, header=(label(key, lang), label("value", lang))) + 1
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 38
    ws.column_dimensions["B"].width = 14

    ws = sheet("sheet_priorities")
    pcols = [("indicator_id", "id", "text"), ("name", "indicator", "text"), ("score", "score", "score"),
             ("weight", "weight", "weight"), ("gain", "priority_gain", "score"), ("quadrant", "quadrant", "text")]
    rows = [[r["indicator_id"], r["name"], r["score"], r["weight"], r["gain"],
             label(r["quadrant"], lang) if isinstance(r["quadrant"], str) else None] + [label("due_text", lang)]
            for _, r in c.priorities.iterrows()]
    workbook.write_table(ws, [label(k, lang) for _, k, _ in pcols] + [label("due", lang)], rows,
                       [k for _, _, k in pcols] + ["text"], widths=[8, 30, 8, 8, 12, 14, 24])

    ws = sheet("sheet_notes")
    for i, text in enumerate(c.notes, start=1):
        set_cell(ws.cell(row=i, column=1), text)
    workbook.write_facts(ws, c.manifest, start_row=len(c.notes) + 2,
                       header=(label("manifest", lang), label("value", lang)))
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 70
    return workbook.save_workbook(wb, Path(path))
