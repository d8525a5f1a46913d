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
from reports.scorecard import ScorecardContent


def _raw_format(c: ScorecardContent, indicator_id: str) -> str:
    """The number format of an indicator's raw value: percent for shares and rates, one decimal otherwise."""
    unit = c.indicator_table.rows[[r[0] for r in c.indicator_table.rows].index(indicator_id)][3]
    return workbook.XLSX_FORMATS["share"] if str(unit).endswith("%") else workbook.XLSX_FORMATS["score"]


def render_scorecard_xlsx(c: ScorecardContent, path: str | Path) -> Path:
    """Write one department's scorecard as a workbook; numbers are stored as numbers.

    Sheets (names in ``lang``): summary (headline figures, the index before
    gates, the change and its adjusted interval, flags), dimensions (with the
    change and its verdict, and a native bar chart on a 0–100 axis against
    the city average and the category best), indicators (raw values in their
    units and scoring rules), data quality (every rate a fraction with a
    percent format), the problem list with the quadrant chart's rows and last
    year's follow-up, notes (method and manifest).  Every text cell is inert
    (no formulas from input strings).
    """
    lang = c.lang
    wb = workbook.new_workbook(f"{c.name} {c.year}")
    taken: set[str] = set()

    def sheet(key):
        ws = wb.create_sheet(sheet_title(label(key, lang), taken=taken))
        taken.add(ws.title)
        return ws

    ws = sheet("sheet_summary")
    facts = [Fact(label("department", lang), c.name, "text"), Fact(label("id", lang), c.department_id, "text"),
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
    ws.column_dimensions["B"].width = 48

    ws = sheet("sheet_dimensions")
    p = c.profile
    cols = [("dimension_id", "id", "text"), ("name", "dimension", "text"), ("weight", "weight_pct", "int"),
            ("estimate", "score", "score"), ("ci_low", "ci_low", "score"), ("ci_high", "ci_high", "score"),
            ("city_average", "city_average", "score"), ("category_best", "category_best", "score")]
    if "change" in p:
        cols += [("change", "change_short", "points"), ("change_adj_ci_low", "adjusted_interval", "points"),
                 ("change_adj_ci_high", "adjusted_interval", "points"), ("change_verdict", "change_test", "text")]
    own = c.dimensions.set_index("dimension_id")
    extra = [(col, col, kind) for col, kind in (("se", "score"), ("missing_weight_share", "share"), ("flag", "text"))
             if col in own.columns]
    cols += [(col, key, kind) for col, key, kind in extra]
    heads = [label(k, lang) for _, k, _ in cols]
    for j, (col, _, _) in enumerate(cols):
        if col in ("change_adj_ci_low", "change_adj_ci_high"):
            end = label("ci_low" if col.endswith("low") else "ci_high", lang)
            heads[j] = f"{label('adjusted_interval', lang)} · {end}"
    rows = []
    for _, r in p.iterrows():
        rows.append([r.get(col) if col in p.columns else own[col].get(r["dimension_id"]) for col, _, _ in cols])
    workbook.write_table(ws, heads, rows, [k for _, _, k in cols], widths=[8, 30, 8, 9, 10, 10, 10, 10] + [11] * 8)
    if len(rows):
        last = len(rows) + 1
        workbook.xlsx_bar_chart(
            ws, title=label("profile_title", lang), categories=Reference(ws, min_col=2, min_row=2, max_row=last),
            series=[Reference(ws, min_col=col, max_col=col, min_row=1, max_row=last) for col in (4, 7, 8)],
            colors=[SERIES_COLORS[k] for k in ("department", "city_average", "category_best")],
            anchor=f"A{last + 3}", y_max=100)

    ws = sheet("sheet_indicators")
    name_col = name_column("indicator", lang)
    printed = {r[0]: r for r in c.indicator_table.rows}
    heads = [label(k, lang) for k in ("id", "indicator", "dimension", "channel", "raw_value", "raw_se")]
    heads += [label("unit_shown", lang), label("rule", lang)]
    heads += [label(k, lang) for k in ("score", "se", "ci_low", "ci_high", "weight", "n", "top2", "bottom2")]
    kinds = ["text"] * 4 + ["raw", "raw", "text", "text", "score", "score", "score", "score", "weight", "int", "share",
                            "share"]
    rows = []
    for _, r in c.indicators.iterrows():
        line = printed.get(str(r["indicator_id"]))
        rows.append([r["indicator_id"], r[name_col], r["dimension_id"], channel_name(r["channel"], lang),
                     r["raw_value"], r["raw_se"], line[3] if line else None, line[4] if line else None, r["score"],
                     r["se"], r["ci_low"], r["ci_high"], r["weight"], r["n"], r["top2"], r["bottom2"]])
    workbook.write_table(ws, heads, rows, kinds, widths=[7, 30, 8, 9, 10, 10, 12, 18, 8, 8, 10, 10, 8, 8, 9, 9],
                         freeze="C2")
    for i, r in enumerate(rows, start=2):
        # each raw value in its own unit: a share as a percent, a Likert mean or a wait with one decimal
        fmt_ = _raw_format(c, str(r[0]))
        for col in (5, 6):
            if not missing(ws.cell(row=i, column=col).value):
                ws.cell(row=i, column=col).number_format = fmt_
    workbook.write_note(ws, len(rows) + 3, c.rule_note, columns=8)

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

    ws = sheet("sheet_problems")
    spec = c.problems_all
    workbook.xlsx_table(ws, spec, widths=[5, 14, 30, 60, 10, 10, 10, 12, 18])
    row = len(spec.rows) + 3
    row = workbook.write_note(ws, row, label("deadline_line", lang, deadline=c.deadline), columns=9)
    row = workbook.write_note(ws, row, c.problems_note, columns=9) + 1
    q = c.quadrant
    if q.attrs.get("basis") == "drivers":
        set_cell(ws.cell(row=row, column=1), label("quadrant_title", lang))

        def quad(code):
            return label(f"quad_{code}", lang) if isinstance(code, str) and code else None

        workbook.write_table(ws, [label("id", lang), label("indicator", lang), label("importance_short", lang),
                                  label("performance", lang), label("quadrant", lang), "#"],
                             [[r.indicator_id, r.name, r.importance, r.performance,
                               label("quad_outcome", lang) if r.outcome else quad(r.quadrant),
                               None if missing(r.problem_no) else int(r.problem_no)]
                              for r in q.itertuples(index=False)], ["text", "text", "score", "score", "text", "int"],
                             start_row=row + 1, freeze=None)
        row += len(q) + 3
    for text in c.quadrant_notes:
        row = workbook.write_note(ws, row, text, columns=6)
    if c.follow_up is not None:
        row += 1
        set_cell(ws.cell(row=row, column=1), label("sec_follow_up", lang))
        if c.follow_up_text:
            row = workbook.write_note(ws, row + 1, c.follow_up_text, columns=6) - 1
        workbook.xlsx_table(ws, c.follow_up, start_row=row + 1, freeze=None)

    ws = sheet("sheet_notes")
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 70
    row = 1
    for text in c.notes:
        row = workbook.write_note(ws, row, text, columns=2)
    workbook.write_facts(ws, c.manifest, start_row=row + 1, header=(label("manifest", lang), label("value", lang)))
    return workbook.save_workbook(wb, Path(path))
