"""A department's scorecard as a Word document, drawn from :class:`reports.scorecard.ScorecardContent`.

The same content and order as the PDF (:mod:`reports.scorecard_pdf`): key
figures, dimension scores (chart and table), indicators, the problem list
with the quadrant chart, last year's follow-up, data quality and method;
charts are the PDF's drawings as pictures.
"""

from __future__ import annotations

from pathlib import Path

from reports import word
from reports.drawings import profile_drawing, quadrant_drawing
from reports.facts import sim_interval_text, tie_text
from reports.format import TableSpec, fmt, fmt_interval, fmt_rank, level_text
from reports.labels import label, name_column
from reports.scorecard import ScorecardContent


def _kpi(c: ScorecardContent) -> TableSpec:
    """The five key figures as a table: a label row, a value row and a row of explanations."""
    row, lang = c.row, c.lang
    level = level_text(c.level)
    grade = f"{row['grade']} {row[name_column('grade_name', lang)]}".strip()

    def rank_sub(prefix, scope):
        parts = [f"{label('rank_interval', lang)} {fmt_interval(row[f'{prefix}_low'], row[f'{prefix}_high'], 0)}"]
        tie = tie_text(c.ranks[scope]["tie_group_size"], lang)
        return "\n".join(parts + ([tie] if tie else []))

    index_sub = [f"{label('interval', lang, level=level)} {fmt_interval(row['ci_low'], row['ci_high'])}"]
    index_sub += [c.index_note] if c.index_note else []
    grade_sub = [t for t in (c.grade_note, label("borderline", lang) if bool(row["borderline"]) else "") if t]
    change_sub = list(c.change_lines) + ([c.trend_note] if c.trend_note else [])
    heads = [label(k, lang) for k in ("index", "grade", "rank_overall", "rank_in_category", "change")]
    values = [fmt(row["index"]), grade, label("of_n", lang, rank=fmt_rank(row["rank"]), n=c.n_departments),
              label("of_n", lang, rank=fmt_rank(row["rank_in_category"]), n=c.n_in_category), fmt(c.change, "points")]
    subs = ["\n".join(index_sub), "\n".join(grade_sub), rank_sub("rank", "overall"),
            rank_sub("rank_in_category", "category"), "\n".join(change_sub)]
    return TableSpec(heads, ["text"] * 5, [values, subs])


def scorecard_drawings(c: ScorecardContent) -> dict:
    """The scorecard's charts as the Word document and the chart files show them: ``profile``, ``quadrant``."""
    out = {"profile": profile_drawing(c.profile, 515, lang=c.lang)}
    if c.quadrant.attrs.get("basis") == "drivers":
        out["quadrant"] = quadrant_drawing(c.quadrant, 300, 200, lang=c.lang)
    return out


def render_scorecard_docx(c: ScorecardContent, path: str | Path, *, pictures: dict | None = None) -> Path:
    """Write one department's scorecard as a Word document; return the path (byte-identical for equal content).

    ``pictures`` maps the names of :func:`scorecard_drawings` to PNG bytes
    the caller has rendered already (for the chart files); the others are
    rendered here.
    """
    pictures = pictures or {}
    drawings = scorecard_drawings(c)
    lang = c.lang
    doc = word.new_document(lang, title=f"{c.name} {c.year}", subject=label("scorecard_title", lang, year=c.year))
    word.footer(doc, c.footer)
    doc.add_heading(c.name, level=0)
    tier = f" · {label('tier', lang)} {c.tier}" if c.tier else ""
    word.paragraph(doc, f"{label('scorecard_title', lang, year=c.year)} · {label('category', lang)}: "
                        f"{c.category_name}{tier}", "subtitle")
    word.table(doc, _kpi(c), widths_cm=[word.TEXT_WIDTH_CM * f for f in (0.19, 0.19, 0.19, 0.19, 0.24)], size=8,
               bold_row=0, lang=lang)
    overall, category = c.ranks["overall"], c.ranks["category"]
    if overall["rank_sim_low"] is not None or category["rank_sim_low"] is not None:
        word.paragraph(doc, label("rank_sim_note", lang, level=level_text(c.level),
                                  overall=sim_interval_text(overall), category=sim_interval_text(category)), "note")
    for text in c.flags:
        word.paragraph(doc, "! " + text, "warn")

    word.heading(doc, label("sec_dimensions", lang), 1)
    word.picture(doc, drawings["profile"], width_cm=word.TEXT_WIDTH_CM, png=pictures.get("profile"))
    word.table(doc, c.dimension_table, size=8, lang=lang)
    word.heading(doc, label("sec_indicators", lang), 1)
    word.table(doc, c.indicator_table, size=7, flexible=(1, 4), lang=lang)
    word.paragraph(doc, c.rule_note, "small")

    word.heading(doc, label("sec_problems", lang), 1)
    word.paragraph(doc, label("deadline_line", lang, deadline=c.deadline))
    if c.problems.rows:
        w = word.TEXT_WIDTH_CM
        word.table(doc, c.problems, widths_cm=[w * f for f in (0.05, 0.63, 0.1, 0.1, 0.12)], size=8)
        if c.problems_more:
            word.paragraph(doc, label("problems_more", lang, n=c.problems_more), "note")
    else:
        word.paragraph(doc, label("no_problems", lang))
    word.paragraph(doc, c.problems_note, "small")
    if c.quadrant.attrs.get("basis") == "drivers":
        word.heading(doc, label("quadrant_title", lang), 2)
        word.picture(doc, drawings["quadrant"], width_cm=11, png=pictures.get("quadrant"))
    for text in c.quadrant_notes:
        word.paragraph(doc, text, "small")
    if c.follow_up is not None:
        word.heading(doc, label("sec_follow_up", lang), 2)
        if c.follow_up_text:
            word.paragraph(doc, c.follow_up_text)
        word.table(doc, c.follow_up, size=8, flexible=(1,), lang=lang)

    word.heading(doc, label("sec_quality", lang), 1)
    for text in c.quality_text:
        word.paragraph(doc, text)
    said = {label(k, lang) for k in ("n_survey", "n_callback", "g1_authenticity", "g2_gap")}
    facts = [f for f in c.quality if f.label not in said]
    if facts:
        word.fact_table(doc, facts)
    for key, facts in (("sec_haocha", c.haocha), ("sec_reform", c.reform)):
        if facts:
            word.heading(doc, label(key, lang), 2)
            word.fact_table(doc, facts)
    word.heading(doc, label("sec_method", lang), 1)
    for text in c.notes:
        word.paragraph(doc, text, "small")
    word.fact_table(doc, c.manifest, columns=1)
    return word.save_document(doc, Path(path))
