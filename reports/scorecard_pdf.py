"""The scorecard as an A4 PDF (one to two pages), drawn from :class:`reports.scorecard.ScorecardContent`."""

from __future__ import annotations

from pathlib import Path

from reportlab.lib import colors
from reportlab.platypus import CondPageBreak, Spacer, Table, TableStyle

from reports import pdf
from reports.drawings import profile_drawing, quadrant_drawing, sparkline_drawing
from reports.facts import channel_name, sim_interval_text, tie_text
from reports.format import TableSpec, fmt, fmt_change_interval, fmt_interval, fmt_rank, level_text, missing
from reports.labels import label, name_column
from reports.scorecard import ScorecardContent, quadrant_notes


def _kpi_table(c: ScorecardContent, styles, width):
    row, lang = c.row, c.lang
    level = level_text(c.level)
    grade = f"{row.get('grade', '')} {row.get(name_column('grade_name', lang), '')}".strip()
    border = label("borderline", lang) if bool(row.get("borderline", False)) else " "

    def rank_sub(prefix, scope):
        lines = []
        if f"{prefix}_low" in row.index and f"{prefix}_high" in row.index:
            lines.append(f"{label('rank_interval', lang)} "
                         f"{fmt_interval(row[f'{prefix}_low'], row[f'{prefix}_high'], 0)}")
        tie = tie_text(c.ranks[scope]["tie_group_size"], lang)
        if tie:
            lines.append(tie)
        return "<br/>".join(pdf.esc(t) for t in lines) or " "

    ci = (f"{label('interval', lang, level=level)} {fmt_interval(row.get('ci_low'), row.get('ci_high'))}"
          if "ci_low" in row.index else " ")
    info = c.change_info
    change_lines = []
    if not missing(info.get("change_ci_low")):
        change_lines.append(label("change_interval", lang, level=level, interval=fmt_change_interval(
            info["change_ci_low"], info["change_ci_high"])))
    if info.get("comparable") is False:
        change_lines.append(label("not_comparable", lang))
    elif info.get("significant") is not None:
        change_lines.append(label("significant" if info["significant"] else "not_significant", lang))
    change_cell = [pdf.P(label("change", lang), styles["kpi_label"]),
                   pdf.P(fmt(c.change, "points"), styles["kpi_value"])]
    if change_lines:
        change_cell.append(pdf.P("<br/>".join(pdf.esc(t) for t in change_lines), styles["kpi_sub"], raw=True))
    if len(c.trend.dropna()) >= 2:
        change_cell.append(sparkline_drawing(c.trend, width / 5 - 12, 24))
    elif not change_lines:
        change_cell.append(pdf.P(" ", styles["kpi_sub"]))

    def cell(key, value, sub, raw=False):
        return [pdf.P(label(key, lang), styles["kpi_label"]), pdf.P(value, styles["kpi_value"]),
                pdf.P(sub, styles["kpi_sub"], raw=raw)]

    cells = [
        cell("index", fmt(row["index"]), ci),
        cell("grade", grade, border),
        cell("rank_overall", label("of_n", lang, rank=fmt_rank(row.get("rank")), n=c.n_departments),
             rank_sub("rank", "overall"), raw=True),
        cell("rank_in_category", label("of_n", lang, rank=fmt_rank(row.get("rank_in_category")),
                                       n=c.n_in_category), rank_sub("rank_in_category", "category"), raw=True),
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


def _rank_note(c: ScorecardContent) -> str | None:
    """The footnote with the simultaneous rank intervals (None when the result has none)."""
    overall, category = c.ranks["overall"], c.ranks["category"]
    if overall["rank_sim_low"] is None and category["rank_sim_low"] is None:
        return None
    return label("rank_sim_note", c.lang, level=level_text(c.level), overall=sim_interval_text(overall),
                 category=sim_interval_text(category))


def _dimension_table(c: ScorecardContent, styles, width):
    lang, s = c.lang, styles
    has_change = "change" in c.profile
    head = ["dimension", "weight_pct", "score", "interval", "city_average", "category_best"]
    heads = [label(k, lang, level=level_text(c.level)) if k == "interval" else label(k, lang) for k in head]
    if has_change:
        heads.append(label("change_short", lang))
    rows = [[pdf.P(h, s["head"]) for h in heads]]
    for r in c.profile.itertuples(index=False):
        line = [pdf.P(f"{r.dimension_id} {r.name}", s["cell"]), fmt(r.weight, "int"), fmt(r.estimate),
                fmt_interval(r.ci_low, r.ci_high), fmt(r.city_average), fmt(r.category_best)]
        if has_change:
            line.append(fmt(r.change, "points"))
        rows.append(line)
    fixed = [0.08, 0.09, 0.15, 0.12, 0.12] + ([0.09] if has_change else [])
    widths = [width * (1 - sum(fixed))] + [width * f for f in fixed]
    return pdf.grid_table(rows, widths)


def comparable_text(value, lang: str) -> str:
    if value is None or missing(value):
        return "—"
    return label("yes" if bool(value) else "no", lang)


def _indicator_table(c: ScorecardContent, styles, width):
    lang, s = c.lang, styles
    inds = c.indicators
    has_change = "change" in inds
    has_ci = "ci_low" in inds and "ci_high" in inds
    has_comparable = "comparable" in inds
    heads = [label("id", lang), label("indicator", lang), label("channel", lang), label("raw_value", lang),
             label("score", lang)]
    if has_ci:
        heads.append(label("interval", lang, level=level_text(c.level)))
    heads += [label("weight", lang), label("n", lang), label("top2", lang), label("bottom2", lang)]
    if has_change:
        heads.append(label("change_short", lang))
    if has_comparable:
        heads.append(label("comparable", lang))
    name_col = name_column("indicator", lang)
    texts = []
    for _, r in inds.iterrows():
        line = [str(r["indicator_id"]), str(r[name_col]), channel_name(r["channel"], lang),
                fmt(r.get("raw_value"), "raw"), fmt(r["score"])]
        if has_ci:
            line.append(fmt_interval(r["ci_low"], r["ci_high"]))
        line += [fmt(r["weight"], "weight"), fmt(r.get("n"), "int"), fmt(r.get("top2"), "share"),
                 fmt(r.get("bottom2"), "share")]
        if has_change:
            line.append(fmt(r["change"], "points"))
        if has_comparable:
            line.append(comparable_text(r["comparable"], lang))
        texts.append(line)
    # Numbers and short words get what they need; the indicator name takes the rest (one line where it can).
    widths = pdf.auto_widths(TableSpec(heads, ["text"] * len(heads), texts), width, flexible=[1],
                                lang=lang)
    rows = [[pdf.P(h, s["head"]) for h in heads]]
    for line in texts:
        rows.append([pdf.P(line[0], s["cell"]), pdf.P(line[1], s["cell"]), pdf.P(line[2], s["cell_c"])]
                    + line[3:])
    return pdf.grid_table(rows, widths)


def _priority_block(c: ScorecardContent, styles, width):
    lang, s = c.lang, styles
    left_w = width * 0.46
    right_w = width - left_w - 8
    chart = quadrant_drawing(c.quadrant, left_w, 172, lang=lang)
    left = [chart] + [pdf.P(t, s["small"]) for t in quadrant_notes(c)]
    if len(c.priorities):
        has_best = c.priorities["category_best"].notna().any()
        heads = ["#", label("indicator", lang), label("score", lang)]
        heads += [label("category_best_score", lang)] if has_best else []
        heads += [label("priority_gap" if has_best else "priority_gain", lang), label("due", lang)]
        rows = [[pdf.P(h, s["head"]) for h in heads]]
        for k, r in enumerate(c.priorities.itertuples(index=False), start=1):
            text = f"{pdf.esc(r.indicator_id)} {pdf.esc(r.name)}"
            if isinstance(r.quadrant, str) and r.quadrant:
                text += (f"<br/><font size='6.5' color='#555555'>{pdf.esc(label(f'quad_{r.quadrant}', lang))}"
                         "</font>")
            line = [pdf.P(str(k), s["cell_c"]), pdf.P(text, s["cell"], raw=True), fmt(r.score)]
            line += [fmt(r.category_best)] if has_best else []
            line += [fmt(r.gain, "score", 2), pdf.P(label("due_text", lang), s["cell"])]
            rows.append(line)
        fractions = (0.06, 0.34, 0.1, 0.12, 0.12, 0.26) if has_best else (0.07, 0.37, 0.12, 0.14, 0.30)
        table = pdf.grid_table(rows, [right_w * f for f in fractions])
    else:
        table = pdf.P(label("no_priorities", lang), s["body"])
    block = Table([[left, table]], colWidths=[left_w + 8, right_w])
    block.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), s["body"].fontName),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return block


def _quality_facts(c: ScorecardContent) -> list:
    """Sample and quality facts for the PDF, less those the sentences above already state.

    The sentences give G1, G2, the sample sizes and the AAPOR RR3 (with its e)
    and RR1; the workbook keeps every figure.
    """
    said = {label(k, c.lang) for k in ("n_survey", "n_callback", "g1_authenticity", "g2_gap")} if c.quality_text \
        else set()
    return [f for f in c.quality if f.label not in said]


def render_scorecard_pdf(c: ScorecardContent, path: str | Path) -> Path:
    """Write one department's scorecard as an A4 PDF (one to two pages); return the path.

    Charts are reportlab vector drawings in the shipped font (embedded,
    text extractable).  The file is byte-identical for equal content.
    """
    lang = c.lang
    s = pdf.pdf_styles(lang)
    width = pdf.content_width()
    tier = f" · {label('tier', lang)} {c.tier}" if c.tier else ""
    story = [
        pdf.P(c.name, s["title"]),
        pdf.P(f"{label('scorecard_title', lang, year=c.year)} · {label('category', lang)}: {c.category_name}"
                 f"{tier}", s["subtitle"]),
        Spacer(1, 6),
        _kpi_table(c, s, width),
    ]
    note = _rank_note(c)
    if note:
        story += [Spacer(1, 2), pdf.P(note, s["note"])]
    for text in c.flags:
        story.append(pdf.P("! " + text, s["warn"]))
    story += [pdf.P(label("sec_dimensions", lang), s["h1"]), profile_drawing(c.profile, width, lang=lang),
              Spacer(1, 4), _dimension_table(c, s, width),
              CondPageBreak(120), pdf.P(label("sec_indicators", lang), s["h1"]), _indicator_table(c, s, width),
              CondPageBreak(240), pdf.P(label("sec_priorities", lang), s["h1"]), _priority_block(c, s, width)]
    story += [pdf.P(label("sec_quality", lang), s["h1"])]
    story += [pdf.P(t, s["body"]) for t in c.quality_text]
    facts = _quality_facts(c)
    if facts:
        story += [Spacer(1, 3), pdf.fact_table(facts, s, width, columns=2)]
    for key, facts in (("sec_haocha", c.haocha), ("sec_reform", c.reform)):
        if facts:
            story += [pdf.P(label(key, lang), s["h2"]), pdf.fact_table(facts, s, width, columns=2)]
    story.append(pdf.P(label("sec_method", lang), s["h1"]))
    story += [pdf.P(text, s["small"]) for text in c.notes]
    story += [Spacer(1, 3), pdf.fact_table(c.manifest[:1], s, width, columns=1),
              pdf.fact_table(c.manifest[1:], s, width, columns=2)]
    return pdf.build_pdf(Path(path), story, title=f"{c.name} {c.year}",
                         subject=label("scorecard_title", lang, year=c.year), footer=c.footer, lang=lang)
