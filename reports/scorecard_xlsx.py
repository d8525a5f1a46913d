"""A department's scorecard as a workbook, drawn from :class:`reports.scorecard.ScorecardContent`."""

from __future__ import annotations

from pathlib import Path

from openpyxl.chart import Reference

from reports import workbook
from reports.chart_data import SERIES_COLORS
from reports.facts import channel_name
from reports.format import Fact, missing
from reports.labels import label, name_column
from reports.safety import set_cell, sheet_title
from reports.scorecard import ScorecardContent, quadrant_notes


def render_scorecard_xlsx(c: ScorecardContent, path: str | Path) -> Path:
    """Write one department's scorecard as a workbook; numbers are stored as numbers.

    Sheets (names in ``lang``): summary (headline figures and flags),
    dimensions (with a native bar chart against the city average and the
    category best), indicators, data quality, priorities, notes (method and
    manifest).  Every text cell is inert (no formulas from input strings).
    """
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
    if len(c.trend.dropna()) >= 2:
        workbook.write_table(ws, [label("year", lang), label("index", lang)],
                             [[int(y), v] for y, v in c.trend.dropna().items()], ["int", "score"],
                             start_row=nxt + 1, freeze=None)
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 44
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
             ("top2", "top2", "share"), ("bottom2", "bottom2", "share"), ("change", "change_short", "points"),
             ("comparable", "comparable", "text")]
    icols = [t for t in icols if t[0] in c.indicators.columns]

    def value(r, col):
        if col == "comparable":
            return None if missing(r[col]) else label("yes" if bool(r[col]) else "no", lang)
        if col == "channel":
            return channel_name(r[col], lang)
        return r[col]

    rows = [[value(r, col) for col, _, _ in icols] for _, r in c.indicators.iterrows()]
    workbook.write_table(ws, [label(k, lang) for _, k, _ in icols], rows, [k for _, _, k in icols],
                       widths=[7, 30, 8, 9, 10, 10, 8, 8, 10, 10, 8, 8, 9, 9, 9, 8], freeze="C2")

    ws = sheet("sheet_quality")
    nxt = 1
    for key, facts in (("sec_quality", c.quality + c.rates), ("sec_haocha", c.haocha), ("sec_reform", c.reform)):
        if facts:
            nxt = workbook.write_facts(ws, facts, start_row=nxt, header=(label(key, lang), label("value", lang))) + 1
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 44
    ws.column_dimensions["B"].width = 14
    for text in c.quality_text:
        nxt = workbook.write_note(ws, nxt, text, columns=2)

    ws = sheet("sheet_priorities")
    gain_key = "priority_gap" if c.priorities.attrs.get("basis") == "supplied" else "priority_gain"
    pcols = [("indicator_id", "id", "text"), ("name", "indicator", "text"), ("score", "score", "score"),
             ("weight", "weight", "weight"), ("category_best", "category_best_score", "score"),
             ("gain", gain_key, "coef"), ("quadrant", "quadrant", "text")]

    def quad(code):
        return label(f"quad_{code}", lang) if isinstance(code, str) and code else None

    rows = [[r["indicator_id"], r["name"], r["score"], r["weight"], r["category_best"], r["gain"],
             quad(r["quadrant"]), label("due_text", lang)] for _, r in c.priorities.iterrows()]
    workbook.write_table(ws, [label(k, lang) for _, k, _ in pcols] + [label("due", lang)], rows,
                       [k for _, _, k in pcols] + ["text"], widths=[8, 30, 8, 8, 10, 12, 14, 24])
    q = c.quadrant
    start = len(rows) + 3
    set_cell(ws.cell(row=start, column=1), label("quadrant_title", lang))
    workbook.write_table(ws, [label("id", lang), label("indicator", lang), label("importance_short", lang),
                              label("performance", lang), label("quadrant", lang)],
                         [[r.indicator_id, r.name, r.importance, r.performance, quad(r.quadrant)]
                          for r in q.itertuples(index=False)], ["text", "text", "score", "score", "text"],
                         start_row=start + 1, freeze=None)
    row = start + len(q) + 3
    for text in quadrant_notes(c):
        row = workbook.write_note(ws, row, text, columns=6)

    ws = sheet("sheet_notes")
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 70
    row = 1
    for text in c.notes:
        row = workbook.write_note(ws, row, text, columns=2)
    workbook.write_facts(ws, c.manifest, start_row=row + 1, header=(label("manifest", lang), label("value", lang)))
    return workbook.save_workbook(wb, Path(path))
