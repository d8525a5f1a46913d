"""Word scaffolding (python-docx): styles, headings, tables from table specs, charts as pictures, saving.

Chinese government deliverables are edited in Word or WPS before they are
sent, so the documents are also written as ``.docx`` with real headings
(navigable, numbered by their text), real tables (header rows repeated on
every page) and the charts as pictures (the PDF's own drawings rendered by
:mod:`reports.images`), so that an editor can change the words and keep the
layout.  Fonts are named, not embedded: Chinese documents ask for 宋体 in
the text and 黑体 in headings, which every Chinese Word or WPS installation
has; English documents use Arial.  Equal content gives byte-identical files
(fixed document properties and ZIP timestamps).
"""

from __future__ import annotations

import io
from pathlib import Path
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt, RGBColor

from reports.format import Fact, TableSpec, fmt
from reports.images import drawing_png
from reports.pdf import auto_widths
from reports.workbook import FIXED_TIME, fixed_zip

#: body and heading fonts per language (Latin, East Asian)
FONTS = {"zh": {"body": ("Times New Roman", "宋体"), "heading": ("Arial", "黑体")},
         "en": {"body": ("Arial", "宋体"), "heading": ("Arial", "黑体")}}
PAGE_WIDTH_CM = 21.0
MARGIN_CM = 2.0
TEXT_WIDTH_CM = PAGE_WIDTH_CM - 2 * MARGIN_CM
GREY = RGBColor(0x55, 0x55, 0x55)
ACCENT = RGBColor(0x0B, 0x3C, 0x5D)
WARN = RGBColor(0xB0, 0x3A, 0x00)


def _fonts(run_or_style, latin: str, east_asian: str) -> None:
    run_or_style.font.name = latin
    rpr = run_or_style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), latin)
    fonts.set(qn("w:eastAsia"), east_asian)


def new_document(lang: str, *, title: str, subject: str):
    """An A4 document with the house styles and fixed properties."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(PAGE_WIDTH_CM), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(MARGIN_CM))
    styles = doc.styles
    body = FONTS[lang]["body"]
    head = FONTS[lang]["heading"]
    normal = styles["Normal"]
    _fonts(normal, *body)
    normal.font.size = Pt(10.5)
    normal.paragraph_format.space_after = Pt(4)
    normal.paragraph_format.line_spacing = 1.15
    for name, size, color in (("Title", 20, ACCENT), ("Heading 1", 15, ACCENT), ("Heading 2", 12, ACCENT),
                              ("Heading 3", 10.5, None)):
        style = styles[name]
        _fonts(style, *head)
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.color.rgb = color if color is not None else RGBColor(0, 0, 0)
        style.paragraph_format.space_before = Pt(10 if name != "Title" else 0)
        style.paragraph_format.space_after = Pt(4)
        style.paragraph_format.keep_with_next = True
    props = doc.core_properties
    props.author = "minping"
    props.last_modified_by = "minping"
    props.title = title
    props.subject = subject
    props.created = FIXED_TIME
    props.modified = FIXED_TIME
    props.revision = 1
    props.language = "zh-CN" if lang == "zh" else "en"
    return doc


def heading(doc, text: str, level: int = 1):
    return doc.add_heading(text, level=level)


def paragraph(doc, text: str, kind: str = "body", *, align=None):
    """A paragraph: ``body``, ``note`` (small grey), ``small``, ``warn`` (bold, dark orange) or ``subtitle``."""
    p = doc.add_paragraph()
    run = p.add_run(text)
    if kind in ("note", "small"):
        run.font.size = Pt(8 if kind == "note" else 7.5)
        run.font.color.rgb = GREY
    elif kind == "warn":
        run.bold = True
        run.font.color.rgb = WARN
    elif kind == "subtitle":
        run.font.size = Pt(12)
        run.font.color.rgb = GREY
    if align == "center":
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return p


def page_break(doc) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _run(text: str, *, size: float, bold: bool = False) -> str:
    props = f'<w:sz w:val="{int(round(size * 2))}"/><w:szCs w:val="{int(round(size * 2))}"/>'
    if bold:
        props = "<w:b/>" + props
    runs = []
    for k, line in enumerate(str(text).split("\n")):
        if k:
            runs.append(f"<w:r><w:rPr>{props}</w:rPr><w:br/></w:r>")
        runs.append(f'<w:r><w:rPr>{props}</w:rPr><w:t xml:space="preserve">{escape(line)}</w:t></w:r>')
    return "".join(runs)


def table(doc, spec: TableSpec, *, widths_cm: list[float] | None = None, size: float = 8.0, header: bool = True,
          flexible: tuple[int, ...] = (0,), lang: str = "zh", bold_row: int | None = None, bold_size: float = 13.0,
          bold_rows: set | None = None, fills: dict | None = None):
    """A :class:`TableSpec` as a Word table: header row shaded and repeated on every page, numbers right-aligned.

    Column widths are ``widths_cm`` or fitted to the content (the PDF's rule,
    :func:`reports.pdf.auto_widths`, with ``flexible`` columns taking the
    rest).  ``bold_row`` sets one data row large and bold (key figures),
    ``bold_rows`` sets rows bold (totals), ``fills`` maps ``(row, column)``
    of the data rows to a background colour (a heatmap).  The
    table is written as one piece of WordprocessingML: python-docx's cell by
    cell API costs a third of a second per scorecard.
    """
    if widths_cm is None:
        points = auto_widths(spec, TEXT_WIDTH_CM / 2.54 * 72, flexible=list(flexible), lang=lang, size=size)
        widths_cm = [w / 72 * 2.54 for w in points]
    twips = [int(round(w / 2.54 * 1440)) for w in widths_cm]
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in twips)
    rows = []
    if header:
        cells = "".join(
            f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/><w:shd w:val="clear" w:color="auto" w:fill="E8EEF4"/>'
            f'</w:tcPr><w:p><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/><w:jc w:val="center"/>'
            f'</w:pPr>{_run(h, size=size, bold=True)}</w:p></w:tc>' for h, w in zip(spec.headers, twips))
        rows.append(f'<w:tr><w:trPr><w:tblHeader/></w:trPr>{cells}</w:tr>')
    fills = fills or {}
    for i, values in enumerate(spec.rows):
        big = bold_row is not None and i == bold_row
        bold = big or (bold_rows is not None and i in bold_rows)
        cells = []
        for j, (value, kind, w) in enumerate(zip(values, spec.kinds, twips)):
            jc = '<w:jc w:val="right"/>' if kind != "text" else ""
            fill = (f'<w:shd w:val="clear" w:color="auto" w:fill="{fills[i, j].lstrip("#")}"/>'
                    if (i, j) in fills else "")
            cells.append(f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/>{fill}</w:tcPr><w:p><w:pPr>'
                         f'<w:spacing w:after="0" w:line="240" w:lineRule="auto"/>{jc}</w:pPr>'
                         f'{_run(fmt(value, kind), size=bold_size if big else size, bold=bold)}</w:p></w:tc>')
        rows.append(f"<w:tr>{''.join(cells)}</w:tr>")
    xml = (f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="{sum(twips)}" w:type="dxa"/>'
           f'<w:jc w:val="center"/><w:tblLayout w:type="fixed"/><w:tblCellMar><w:left w:w="60" w:type="dxa"/>'
           f'<w:right w:w="60" w:type="dxa"/></w:tblCellMar></w:tblPr><w:tblGrid>{grid}</w:tblGrid>'
           f'{"".join(rows)}</w:tbl>')
    body = doc.element.body
    body.insert(len(body) - 1, parse_xml(xml))  # before the section properties, which stay last
    doc.add_paragraph().paragraph_format.space_after = Pt(2)


def fact_table(doc, facts: list[Fact], *, columns: int = 2, size: float = 8.0):
    """Facts as label/value pairs, ``columns`` pairs per row."""
    rows = []
    for i in range(0, len(facts), columns):
        row = []
        for f in facts[i:i + columns]:
            row += [f.label, fmt(f.value, f.kind)]
        row += [""] * (2 * columns - len(row))
        rows.append(row)
    spec = TableSpec([""] * 2 * columns, ["text"] * 2 * columns, rows)
    pair = TEXT_WIDTH_CM / columns
    return table(doc, spec, widths_cm=[pair * 0.68, pair * 0.32] * columns if columns > 1 else [pair * 0.3,
                                                                                             pair * 0.7],
                 size=size, header=False)


def picture(doc, drawing, *, width_cm: float | None = None, png: bytes | None = None):
    """A chart (a reportlab drawing of :mod:`reports.drawings`) as a PNG picture, centred.

    ``png``: the drawing's PNG when the caller has rendered it already (it is
    then not rendered twice).
    """
    width_cm = width_cm or min(TEXT_WIDTH_CM, drawing.width / 72 * 2.54)
    doc.add_picture(io.BytesIO(png if png is not None else drawing_png(drawing)), width=Cm(width_cm))
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER


def footer(doc, text: str) -> None:
    p = doc.sections[0].footer.paragraphs[0]
    run = p.add_run(text)
    run.font.size = Pt(7)
    run.font.color.rgb = GREY


def save_document(doc, path: Path) -> Path:
    """Save with fixed ZIP timestamps, so that equal content gives equal bytes.

    The template's thumbnail (a picture of an empty page) is left out: Word
    and file browsers would show it for the document.
    """
    package = doc.part.package
    for rid, rel in list(package.rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            del package.rels[rid]
    raw = io.BytesIO()
    doc.save(raw)
    path.write_bytes(fixed_zip(raw.getvalue()))
    return path
