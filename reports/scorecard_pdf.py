"""The scorecard as an A4 PDF (one to two pages), drawn from :class:`reports.scorecard.ScorecardContent`."""

from __future__ import annotations

from pathlib import Path

from reportlab.lib import colors
from reportlab.platypus import CondPageBreak, KeepTogether, Spacer, Table, TableStyle

from reports import pdf
from reports.drawings import profile_drawing, quadrant_drawing, sparkline_drawing
from reports.facts import sim_interval_text, tie_text
from reports.format import fmt, fmt_interval, fmt_rank, level_text
from reports.labels import label, name_column
from reports.scorecard import ScorecardContent


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

    ci = [f"{label('interval', lang, level=level)} {fmt_interval(row.get('ci_low'), row.get('ci_high'))}"]
    if c.index_note:
        ci.append(c.index_note)
    change_lines = list(c.change_lines) + ([c.trend_note] if c.trend_note else [])
    change_cell = [pdf.P(label("change", lang), styles["kpi_label"]),
                   pdf.P(fmt(c.change, "points"), styles["kpi_value"])]
    if change_lines:
        change_cell.append(pdf.P("<br/>".join(pdf.esc(t) for t in change_lines), styles["kpi_sub"], raw=True))
    if len(c.trend.dropna()) >= 2:
        change_cell.append(sparkline_drawing(c.trend, width * 0.24 - 12, 24))
    elif not change_lines:
        change_cell.append(pdf.P(" ", styles["kpi_sub"]))

    def cell(key, value, sub, raw=False):
        return [pdf.P(label(key, lang), styles["kpi_label"]), pdf.P(value, styles["kpi_value"]),
                pdf.P(sub, styles["kpi_sub"], raw=raw)]

    grade_sub = "<br/>".join(pdf.esc(t) for t in (c.grade_note, border) if t.strip()) or " "
    cells = [
        cell("index", fmt(row["index"]), "<br/>".join(pdf.esc(t) for t in ci), raw=True),
        cell("grade", grade, grade_sub, raw=True),
        cell("rank_overall", label("of_n", lang, rank=fmt_rank(row.get("rank")), n=c.n_departments),
             rank_sub("rank", "overall"), raw=True),
        cell("rank_in_category", label("of_n", lang, rank=fmt_rank(row.get("rank_in_category")),
                                       n=c.n_in_category), rank_sub("rank_in_category", "category"), raw=True),
        change_cell,
    ]
    table = Table([cells], colWidths=[width * f for f in (0.19, 0.19, 0.19, 0.19, 0.24)])
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
    spec = c.dimension_table
    fixed = [0.07, 0.07, 0.13, 0.1, 0.1] + ([0.08, 0.12] if len(spec.headers) > 6 else [])
    return pdf.pdf_table(spec, styles, [width * (1 - sum(fixed))] + [width * f for f in fixed])


def _indicator_table(c: ScorecardContent, styles, width):
    """The indicators as the content prints them (raw values in their units, scoring rules)."""
    spec = c.indicator_table
    # the name and the scoring rule take what the numbers leave, so that rows stay on one line
    widths = pdf.auto_widths(spec, width, flexible=[1, 4], lang=c.lang, size=6.8)
    return pdf.pdf_table(spec, styles, widths, size=6.8)


def _problem_block(c: ScorecardContent, styles, width) -> list:
    """The problem list (整改清单) with its note, then the quadrant chart that shares its rows."""
    s = styles
    story = [pdf.P(label("deadline_line", c.lang, deadline=c.deadline), s["body"]), Spacer(1, 2)]
    if c.problems.rows:
        spec = c.problems
        widths = [width * f for f in (0.04, 0.64, 0.09, 0.12, 0.11)]
        story.append(pdf.pdf_table(spec, s, widths, size=7.0))
        if c.problems_more:
            story.append(pdf.P(label("problems_more", c.lang, n=c.problems_more), s["note"]))
    else:
        story.append(pdf.P(label("no_problems", c.lang), s["body"]))
    story.append(pdf.P(c.problems_note, s["small"]))
    if c.quadrant.attrs.get("basis") == "drivers":
        left_w = width * 0.5
        chart = quadrant_drawing(c.quadrant, left_w, 148, lang=c.lang)
        notes = [pdf.P(label("quadrant_title", c.lang), s["h2"])] + [pdf.P(t, s["small"]) for t in c.quadrant_notes]
        block = Table([[chart, notes]], colWidths=[left_w + 8, width - left_w - 8])
        block.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), s["body"].fontName),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                   ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
        story += [Spacer(1, 3), block]
    else:
        story.append(pdf.P(c.quadrant_notes[0], s["note"]))
    return story


def _follow_up_block(c: ScorecardContent, styles, width) -> list:
    if c.follow_up is None:
        return []
    story = [pdf.P(label("sec_follow_up", c.lang), styles["h2"])]
    if c.follow_up_text:
        story.append(pdf.P(c.follow_up_text, styles["body"]))
    story.append(pdf.pdf_table(c.follow_up, styles, [width * f for f in (0.05, 0.37, 0.14, 0.13, 0.14, 0.17)],
                               size=7.0))
    return story


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
              pdf.P(c.rule_note, s["small"]),
              CondPageBreak(320), pdf.P(label("sec_problems", lang), s["h1"])]
    story += _problem_block(c, s, width)
    story += _follow_up_block(c, s, width)
    # data quality and method stay together: on page 2 when they fit, else all on a page of their own
    # (never a last page holding two stray lines)
    tail = [pdf.P(label("sec_quality", lang), s["h1"])]
    tail += [pdf.P(t, s["body"]) for t in c.quality_text]
    facts = _quality_facts(c)
    if facts:
        tail += [Spacer(1, 3), pdf.fact_table(facts, s, width, columns=2)]
    for key, facts in (("sec_haocha", c.haocha), ("sec_reform", c.reform)):
        if facts:
            tail += [pdf.P(label(key, lang), s["h2"]), pdf.fact_table(facts, s, width, columns=2)]
    tail.append(pdf.P(label("sec_method", lang), s["h1"]))
    tail += [pdf.P(text, s["small"]) for text in c.notes]
    tail += [Spacer(1, 3), pdf.fact_table(c.manifest[:1], s, width, columns=1),
             pdf.fact_table(c.manifest[1:], s, width, columns=2)]
    story.append(KeepTogether(tail))
    return pdf.build_pdf(Path(path), story, title=f"{c.name} {c.year}",
                         subject=label("scorecard_title", lang, year=c.year), footer=c.footer, lang=lang)
