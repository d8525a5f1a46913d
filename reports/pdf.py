"""PDF scaffolding in the house style (reportlab platypus): styles, paragraphs, tables, the page.

PDFs are written with reportlab's ``invariant`` mode, so the same content
renders to byte-identical files; every text is set in the shipped font
(:mod:`reports.fonts`), embedded and extractable.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph, Table, TableStyle

from reports.fonts import register_reportlab
from reports.format import Fact, TableSpec, fmt
from reports.labels import label


def esc(text: object) -> str:
    """Untrusted text made safe for reportlab paragraph markup."""
    return escape(str(text))


def pdf_styles(lang: str) -> dict:
    """Paragraph styles with the shipped font; CJK line breaking for Chinese only."""
    regular, bold = register_reportlab()
    wrap = "CJK" if lang == "zh" else None
    base = ParagraphStyle("body", fontName=regular, fontSize=8.5, leading=11.5, wordWrap=wrap)
    grey = colors.HexColor("#555555")

    def make(name, **kw):
        return ParagraphStyle(name, parent=base, **kw)

    return {
        "body": base,
        "title": make("title", fontName=bold, fontSize=15, leading=20, spaceAfter=2),
        "subtitle": make("subtitle", fontSize=9.5, leading=13, textColor=grey),
        "cover": make("cover", fontName=bold, fontSize=22, leading=30, alignment=TA_CENTER),
        "cover_sub": make("cover_sub", fontSize=12, leading=18, alignment=TA_CENTER, textColor=grey),
        "h1": make("h1", fontName=bold, fontSize=11.5, leading=15, spaceBefore=8, spaceAfter=4,
                   textColor=colors.HexColor("#0B3C5D")),
        "h2": make("h2", fontName=bold, fontSize=10.5, leading=14, spaceBefore=6, spaceAfter=3,
                   textColor=colors.HexColor("#0B3C5D")),
        "h3": make("h3", fontName=bold, fontSize=9.5, leading=13, spaceBefore=4, spaceAfter=2),
        "item": make("item", fontSize=8.5, leading=12, leftIndent=10, firstLineIndent=-10, spaceAfter=3),
        "cell": make("cell", fontSize=7.5, leading=9.5),
        "cell_bold": make("cell_bold", fontName=bold, fontSize=7.5, leading=9.5),
        "cell_r": make("cell_r", fontSize=7.5, leading=9.5, alignment=TA_RIGHT),
        "cell_c": make("cell_c", fontSize=7.5, leading=9.5, alignment=TA_CENTER),
        "head": make("head", fontName=bold, fontSize=7.5, leading=9.5, alignment=TA_CENTER),
        "kpi_label": make("kpi_label", fontSize=7.5, leading=10, textColor=grey, alignment=TA_CENTER),
        "kpi_value": make("kpi_value", fontName=bold, fontSize=15, leading=19, alignment=TA_CENTER),
        "kpi_sub": make("kpi_sub", fontSize=7.5, leading=10, alignment=TA_CENTER),
        "note": make("note", fontSize=7, leading=9.5, textColor=grey),
        "small": make("small", fontSize=6.5, leading=8.6, textColor=grey),
        "warn": make("warn", fontName=bold, fontSize=8.5, leading=11.5, textColor=colors.HexColor("#B03A00")),
    }


def P(text: object, style, *, raw: bool = False):
    """A paragraph of untrusted text (escaped) or of trusted markup (``raw=True``)."""
    return Paragraph(str(text) if raw else esc(text), style)


def grid_table(rows: list[list], widths: list[float], *, header_rows: int = 1, repeat: bool = True,
               extra: list | None = None, zebra: bool = True, size: float = 7.5):
    """A table in the house style: light grid, grey header, optional zebra rows."""
    table = Table(rows, colWidths=widths, repeatRows=header_rows if repeat else 0)
    cmds = [
        # plain-string cells would otherwise be set in (unembedded) Helvetica
        ("FONTNAME", (0, 0), (-1, -1), register_reportlab()[0]),
        # numbers are plain strings (a Paragraph per number is the main cost of a page): right-aligned
        ("FONTSIZE", (0, 0), (-1, -1), size),
        ("LEADING", (0, 0), (-1, -1), size + 2),
        ("ALIGN", (0, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#CCCCCC")),
        ("TOPPADDING", (0, 0), (-1, -1), 1.1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.1),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header_rows:
        cmds += [("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#E8EEF4")),
                 ("LINEBELOW", (0, header_rows - 1), (-1, header_rows - 1), 0.6, colors.HexColor("#0B3C5D"))]
    if zebra:
        for r in range(header_rows + 1, len(rows), 2):
            cmds.append(("BACKGROUND", (0, r), (-1, r), colors.HexColor("#F6F8FA")))
    table.setStyle(TableStyle(cmds + (extra or [])))
    return table


def fact_table(facts: list[Fact], styles: dict, width: float, *, columns: int = 2):
    """Facts as label/value pairs, ``columns`` pairs per row."""
    cells = [[P(f.label, styles["cell"]), fmt(f.value, f.kind) if columns > 1 else P(fmt(f.value, f.kind),
                                                                                    styles["cell"])]
             for f in facts]
    rows = []
    for i in range(0, len(cells), columns):
        row = []
        for pair in cells[i:i + columns]:
            row += pair
        row += [""] * (2 * columns - len(row))
        rows.append(row)
    pair_w = width / columns
    split = 0.68 if columns > 1 else 0.3
    widths = [pair_w * split, pair_w * (1 - split)] * columns
    return grid_table(rows, widths, header_rows=0, zebra=False)


def build_pdf(path: Path, story: list, *, title: str, subject: str, footer: str, lang: str,
              page_size=None, margins_mm: float = 14.0) -> Path:
    """Write ``story`` to ``path`` as a reproducible A4 PDF with a footer on every page."""
    regular, _ = register_reportlab()
    size = page_size or A4
    margin = margins_mm * mm

    def on_page(canvas, doc):
        canvas.saveState()
        canvas.setFont(regular, 6.5)
        canvas.setFillGray(0.4)
        canvas.drawString(margin, margin * 0.5, footer)
        canvas.drawRightString(size[0] - margin, margin * 0.5, label("page", lang, page=doc.page))
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = BaseDocTemplate(buffer, pagesize=size, leftMargin=margin, rightMargin=margin, topMargin=margin,
                          bottomMargin=margin, title=title, author="minping", subject=subject,
                          creator="minping", invariant=1, initialFontName=regular,
                          lang="zh-CN" if lang == "zh" else "en")
    frame = Frame(margin, margin, size[0] - 2 * margin, size[1] - 2 * margin, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=on_page)])
    doc.build(story)
    path.write_bytes(buffer.getvalue())
    return path


def content_width(margins_mm: float = 14.0) -> float:

    return A4[0] - 2 * margins_mm * mm


def pdf_table(spec: TableSpec, styles: dict, widths: list[float], *, extra: list | None = None,
              bold_rows: set[int] | None = None, size: float = 7.5):
    """Render a :class:`TableSpec` as a reportlab table (numbers right-aligned), text at ``size`` points."""

    def sized(name):
        base = styles[name]
        if size == base.fontSize:
            return base
        return ParagraphStyle(f"{name}_{size:g}", parent=base, fontSize=size, leading=size + 2)

    head, cell, bold = sized("head"), sized("cell"), sized("cell_bold")
    regular = register_reportlab()[0]
    rows = [[P(h, head) for h in spec.headers]]
    for i, row in enumerate(spec.rows):
        cells = []
        for j, (value, kind) in enumerate(zip(row, spec.kinds)):
            text = fmt(value, kind)
            if kind != "text":
                cells.append(text)
                continue
            strong = bold_rows and i in bold_rows
            # a text that fits its column on one line is set as a plain string: a Paragraph per cell is the
            # main cost of a page, and only wrapping needs one
            if not strong and "\n" not in text and stringWidth(text, regular, size) <= widths[j] - 7:
                cells.append(text)
            else:
                cells.append(P(text, bold if strong else cell))
        rows.append(cells)
    left = [("ALIGN", (j, 1), (j, -1), "LEFT") for j, kind in enumerate(spec.kinds) if kind == "text"]
    return grid_table(rows, widths, extra=left + (extra or []), size=size)


def fitted_table(spec: TableSpec, styles: dict, width: float, *, flexible: list[int], lang: str,
                 sizes=(7.5, 6.8, 6.2), extra: list | None = None, bold_rows: set[int] | None = None):
    """:func:`pdf_table` with :func:`auto_widths`, in the largest of ``sizes`` at which every column fits."""
    size = next((x for x in sizes if natural_fits(spec, width, flexible=flexible, lang=lang, size=x)), sizes[-1])
    return pdf_table(spec, styles, auto_widths(spec, width, flexible=flexible, lang=lang, size=size), size=size,
                     extra=extra, bold_rows=bold_rows)


def auto_widths(spec: TableSpec, width: float, *, flexible: list[int], lang: str, size: float = 7.5) -> list[float]:
    """Column widths that fit each column's numbers and head words; ``flexible`` columns share the rest.

    A head may wrap: in Chinese anywhere (half its width suffices), in English
    only between words (its longest word must fit).
    """
    natural = _natural_widths(spec, flexible=flexible, lang=lang, size=size)
    flex_min = {j: min(natural[j], 0.2 * width) for j in flexible}
    fixed = sum(w for j, w in enumerate(natural) if j not in flexible)
    if fixed + sum(flex_min.values()) > width:
        scale = (width - sum(flex_min.values())) / fixed
        natural = [w if j in flexible else w * scale for j, w in enumerate(natural)]
        fixed = width - sum(flex_min.values())
    rest = width - fixed
    flex_total = sum(natural[j] for j in flexible) or 1.0
    out = list(natural)
    if rest > 1.25 * flex_total and fixed > 0:
        # More room than the flexible columns need: share it out so that no column sprawls.
        spare = rest - 1.25 * flex_total
        for j in range(len(out)):
            out[j] = natural[j] * 1.25 if j in flexible else natural[j] + spare * natural[j] / fixed
        return out
    for j in flexible:
        out[j] = rest * natural[j] / flex_total
    return out


def _natural_widths(spec: TableSpec, *, flexible: list[int], lang: str, size: float) -> list[float]:
    """Width each column needs for its numbers and head words at ``size`` points."""
    regular, bold = register_reportlab()
    pad = 7.0
    natural = []
    for j, (head, kind) in enumerate(zip(spec.headers, spec.kinds)):
        head = str(head)
        if lang == "zh":
            # Chinese heads wrap anywhere; a Latin word inside one (Cronbach, ICC) does not read well broken.
            latin = [w for w in re.findall(r"[A-Za-z0-9().,%]+", head) if len(w) > 1]
            head_w = max([stringWidth(head, bold, size) / 2] + [stringWidth(w, bold, size) for w in latin])
        else:
            head_w = max((stringWidth(w, bold, size) for w in head.split()), default=0.0)
        cells = max((stringWidth(fmt(row[j], kind), regular, size) for row in spec.rows), default=0.0)
        natural.append(max(head_w, cells) + pad)
        if kind == "text" and j not in flexible:
            natural[-1] = min(natural[-1], 62.0)  # long texts wrap rather than starve the name column
    return natural


def natural_fits(spec: TableSpec, width: float, *, flexible: list[int], lang: str, size: float = 7.5) -> bool:
    """Whether every column gets its natural width at ``size`` (flexible ones at least 20% of ``width``)."""
    natural = _natural_widths(spec, flexible=flexible, lang=lang, size=size)
    return sum(w if j not in flexible else min(w, 0.2 * width) for j, w in enumerate(natural)) <= width
