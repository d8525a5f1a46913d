"""The city report as an A4 PDF: the blocks of :class:`reports.city_content.CityContent` laid out in order."""

from __future__ import annotations

from pathlib import Path

from reportlab.lib import colors
from reportlab.platypus import CondPageBreak, PageBreak, Spacer

from reports import pdf
from reports.city_content import CityContent
from reports.drawings import chart_drawing
from reports.labels import label


def _block(b, s, width, lang: str) -> list:
    if b.kind == "heading":
        return [pdf.P(b.text, s[{1: "h1", 2: "h2", 3: "h3"}[b.level]])]
    if b.kind in ("text", "note", "small", "warn"):
        return [pdf.P(b.text, s[{"text": "body"}.get(b.kind, b.kind)])]
    if b.kind == "item":
        return [pdf.P(b.text, s["item"])]
    if b.kind == "table":
        spec = b.table
        bold = set(b.options.get("bold_rows", ()))
        if b.options.get("bold_last"):
            bold.add(len(spec.rows) - 1)
        extra = [("BACKGROUND", (j, i + 1), (j, i + 1), colors.HexColor(c))
                 for (i, j), c in b.options.get("fills", {}).items()]
        if b.widths is not None:
            return [pdf.pdf_table(spec, s, [width * f for f in b.widths], extra=extra, bold_rows=bold), Spacer(1, 4)]
        return [pdf.fitted_table(spec, s, width, flexible=list(b.flexible), lang=lang, extra=extra, bold_rows=bold),
                Spacer(1, 4)]
    if b.kind == "facts":
        return [pdf.fact_table(list(b.facts), s, width, columns=b.columns), Spacer(1, 4)]
    if b.kind == "chart":
        return [chart_drawing(b.chart, b.data, width, lang=lang, **b.options), Spacer(1, 4)]
    if b.kind == "page":
        return [PageBreak()]
    if b.kind == "keep":
        return [CondPageBreak(b.options.get("height", 200))]
    raise ValueError(f"unknown block {b.kind!r}")


def render_city_pdf(c: CityContent, path: str | Path) -> Path:
    """Write the city report as an A4 PDF; return the path (byte-identical for equal content)."""
    lang = c.lang
    s = pdf.pdf_styles(lang)
    width = pdf.content_width()
    story = [Spacer(1, 120), pdf.P(c.title, s["cover"]), Spacer(1, 30),
             pdf.fact_table(list(c.cover), s, width * 0.8, columns=1), Spacer(1, 30),
             pdf.fact_table(list(c.summary), s, width * 0.5, columns=1), PageBreak()]
    for b in c.blocks:
        story += _block(b, s, width, lang)
    return pdf.build_pdf(Path(path), story, title=c.title, subject=label("city_title", lang, year=c.year),
                         footer=c.footer, lang=lang)
