"""The city report as a Word document: the blocks of :class:`reports.city_content.CityContent` in order.

Headings are Word headings (the navigation pane shows the report's
structure), tables are Word tables with their header rows repeated, charts
are the PDF's drawings as pictures (:mod:`reports.images`), so an editor
changes the words and keeps the layout.
"""

from __future__ import annotations

from pathlib import Path

from reports import word
from reports.city_content import CityContent
from reports.drawings import chart_drawing
from reports.labels import label

#: the drawing width in points the PDF uses (A4 less its margins); pictures are scaled to the Word text width
DRAWING_WIDTH = 515.0


def render_city_docx(c: CityContent, path: str | Path, *, pictures: dict | None = None) -> Path:
    """Write the city report as a Word document; return the path (byte-identical for equal content).

    ``pictures`` maps a chart block's ``name`` to its PNG bytes when the
    caller has rendered them already (the chart files of
    :func:`reports.render.render_reports`); other charts are rendered here.
    """
    lang = c.lang
    doc = word.new_document(lang, title=c.title, subject=label("city_title", lang, year=c.year))
    word.footer(doc, c.footer)
    for _ in range(4):
        word.paragraph(doc, "")
    doc.add_heading(c.title, level=0).alignment = 1
    word.fact_table(doc, list(c.cover), columns=1, size=10)
    word.fact_table(doc, list(c.summary), columns=1, size=10)
    word.page_break(doc)
    pending_page = False
    for b in c.blocks:
        if b.kind == "page":
            pending_page = True
            continue
        if pending_page:
            word.page_break(doc)
            pending_page = False
        if b.kind == "heading":
            word.heading(doc, b.text, b.level)
        elif b.kind in ("text", "item"):
            word.paragraph(doc, b.text)
        elif b.kind in ("note", "small", "warn"):
            word.paragraph(doc, b.text, b.kind)
        elif b.kind == "table":
            bold = set(b.options.get("bold_rows", ()))
            if b.options.get("bold_last"):
                bold.add(len(b.table.rows) - 1)
            widths = [word.TEXT_WIDTH_CM * f for f in b.widths] if b.widths is not None else None
            word.table(doc, b.table, widths_cm=widths, flexible=tuple(b.flexible), lang=lang, size=7.5,
                       fills=b.options.get("fills"), bold_rows=bold)
        elif b.kind == "facts":
            word.fact_table(doc, list(b.facts), columns=b.columns)
        elif b.kind == "chart":
            drawing = chart_drawing(b.chart, b.data, DRAWING_WIDTH, lang=lang, **b.options)
            png = (pictures or {}).get(b.name)
            word.picture(doc, drawing, width_cm=word.TEXT_WIDTH_CM * drawing.width / DRAWING_WIDTH, png=png)
        elif b.kind == "keep":
            continue  # Word keeps headings with the next paragraph by style
        else:
            raise ValueError(f"unknown block {b.kind!r}")
    return word.save_document(doc, Path(path))
