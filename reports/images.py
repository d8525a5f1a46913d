"""The reportlab charts of the documents as PNG and SVG files (for Word and for pasting).

The PDF documents draw their charts as reportlab vector drawings
(:mod:`reports.drawings`).  Word documents need images, and editors paste
charts into their own documents, so the very same drawings are also written
as PNG (for Word, and for programs without SVG) and SVG (scalable).  Drawing
them again with another plotting library would give a second picture of the
same data that could drift from the first; this module walks the drawing's
shapes instead:

- PNG: rasterised with Pillow at ``dpi``, drawn at twice the size and
  reduced (anti-aliasing), text set in the shipped font
  (:mod:`reports.fonts`), so Chinese renders on every machine;
- SVG: every text is converted to glyph outlines of the shipped font
  (``<path>`` definitions reused by ``<use>``), so the file shows the same
  on a machine without the font and embeds no font file (the rule for SVG
  of ENGINEERING.md), and shapes are plain SVG elements.

The shapes used by :mod:`reports.drawings` are supported: ``Rect``,
``Line``, ``Circle``, ``PolyLine``, ``Polygon``, ``String`` and ``Group``
(with its affine transform).  Output is deterministic (no timestamps).
"""

from __future__ import annotations

import io
import math
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont
from reportlab.graphics.shapes import Circle, Group, Line, Polygon, PolyLine, Rect, String

from reports.fonts import BOLD_PATH, REGULAR_PATH, REPORTLAB_BOLD

#: the PNG resolution: sharp when a chart fills a page's width in Word
DPI = 200
#: drawn at this multiple of the final size and reduced, for smooth edges
SUPERSAMPLE = 2

_IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _compose(outer, inner):
    """The affine transform ``outer ∘ inner`` (reportlab order ``a b c d e f``)."""
    a1, b1, c1, d1, e1, f1 = outer
    a2, b2, c2, d2, e2, f2 = inner
    return (a1 * a2 + c1 * b2, b1 * a2 + d1 * b2, a1 * c2 + c1 * d2, b1 * c2 + d1 * d2,
            a1 * e2 + c1 * f2 + e1, b1 * e2 + d1 * f2 + f1)


def _apply(m, x, y):
    a, b, c, d, e, f = m
    return a * x + c * y + e, b * x + d * y + f


def _walk(shape, m=_IDENTITY):
    """Every leaf shape with the transform that places it."""
    if isinstance(shape, Group):
        m = _compose(m, tuple(shape.transform)) if getattr(shape, "transform", None) is not None else m
        for child in shape.contents:
            yield from _walk(child, m)
    else:
        yield shape, m


def _leaves(drawing):
    for shape in drawing.contents:
        yield from _walk(shape)


def _hex(color) -> str | None:
    if color is None:
        return None
    return "#{:02x}{:02x}{:02x}".format(*(int(round(255 * v)) for v in (color.red, color.green, color.blue)))


def _rgb(color):
    return None if color is None else tuple(int(round(255 * v)) for v in (color.red, color.green, color.blue))


def _scale_of(m) -> float:
    return math.sqrt(abs(m[0] * m[3] - m[1] * m[2]))


def _font_path(name: str) -> Path:
    return BOLD_PATH if name == REPORTLAB_BOLD else REGULAR_PATH


# ---------------------------------------------------------------------------
# PNG
# ---------------------------------------------------------------------------

@lru_cache(maxsize=64)
def _pil_font(path: str, size_px: int):
    return ImageFont.truetype(path, size_px)


def drawing_png(drawing, dpi: int = DPI) -> bytes:
    """The drawing rasterised as PNG bytes (white background)."""
    k = dpi / 72.0 * SUPERSAMPLE
    width, height = int(math.ceil(drawing.width * k)), int(math.ceil(drawing.height * k))
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)

    def dev(m, x, y):
        px, py = _apply(m, x, y)
        return px * k, (drawing.height - py) * k

    def stroke_width(shape, m):
        return max(1, int(round((shape.strokeWidth or 1) * _scale_of(m) * k)))

    for shape, m in _leaves(drawing):
        if isinstance(shape, Rect):
            pts = [dev(m, x, y) for x, y in ((shape.x, shape.y), (shape.x + shape.width, shape.y),
                                              (shape.x + shape.width, shape.y + shape.height),
                                              (shape.x, shape.y + shape.height))]
            fill, outline = _rgb(shape.fillColor), _rgb(shape.strokeColor)
            if fill is not None:
                draw.polygon(pts, fill=fill)
            if outline is not None and shape.strokeWidth:
                draw.line(pts + pts[:1], fill=outline, width=stroke_width(shape, m))
        elif isinstance(shape, Line):
            _png_line(draw, [dev(m, shape.x1, shape.y1), dev(m, shape.x2, shape.y2)], shape, m, k)
        elif isinstance(shape, PolyLine):
            p = shape.points
            _png_line(draw, [dev(m, p[i], p[i + 1]) for i in range(0, len(p) - 1, 2)], shape, m, k)
        elif isinstance(shape, Polygon):
            p = shape.points
            pts = [dev(m, p[i], p[i + 1]) for i in range(0, len(p) - 1, 2)]
            if _rgb(shape.fillColor) is not None:
                draw.polygon(pts, fill=_rgb(shape.fillColor))
            if _rgb(shape.strokeColor) is not None and shape.strokeWidth:
                draw.line(pts + pts[:1], fill=_rgb(shape.strokeColor), width=stroke_width(shape, m))
        elif isinstance(shape, Circle):
            cx, cy = dev(m, shape.cx, shape.cy)
            r = shape.r * _scale_of(m) * k
            box = [cx - r, cy - r, cx + r, cy + r]
            outline = _rgb(shape.strokeColor) if shape.strokeWidth else None
            draw.ellipse(box, fill=_rgb(shape.fillColor), outline=outline,
                         width=stroke_width(shape, m) if outline is not None else 0)
        elif isinstance(shape, String):
            _png_text(image, draw, shape, m, dev, k)
    # a box filter is exact for an integer reduction and several times faster than Lanczos
    out = image.reduce(SUPERSAMPLE)
    buffer = io.BytesIO()
    out.save(buffer, format="PNG", dpi=(dpi, dpi), compress_level=6)
    return buffer.getvalue()


def _png_line(draw, pts, shape, m, k):
    color = _rgb(shape.strokeColor)
    if color is None or not shape.strokeWidth or len(pts) < 2:
        return
    width = max(1, int(round(shape.strokeWidth * _scale_of(m) * k)))
    dash = getattr(shape, "strokeDashArray", None)
    if not dash:
        draw.line(pts, fill=color, width=width, joint="curve")
        return
    pattern = [max(d * _scale_of(m) * k, 1.0) for d in dash]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        length = math.hypot(x1 - x0, y1 - y0)
        pos, i, on = 0.0, 0, True
        while pos < length:
            step = min(pattern[i % len(pattern)], length - pos)
            if on:
                a, b = pos / length, (pos + step) / length
                draw.line([(x0 + (x1 - x0) * a, y0 + (y1 - y0) * a), (x0 + (x1 - x0) * b, y0 + (y1 - y0) * b)],
                          fill=color, width=width)
            pos += step
            i += 1
            on = not on


def _png_text(image, draw, shape, m, dev, k):
    if not shape.text:
        return
    size = max(1, int(round(shape.fontSize * _scale_of(m) * k)))
    font = _pil_font(str(_font_path(shape.fontName)), size)
    anchor = {"start": "ls", "middle": "ms", "end": "rs"}.get(shape.textAnchor, "ls")
    color = _rgb(shape.fillColor) or (0, 0, 0)
    x, y = dev(m, shape.x, shape.y)
    angle = math.degrees(math.atan2(m[1], m[0]))
    if abs(angle) < 0.01:
        draw.text((x, y), shape.text, font=font, fill=color, anchor=anchor)
        return
    # a rotated label (an axis title): set centred on its own layer, rotated, and placed so that the
    # text's centre lands where the drawing's transform puts it
    width_user = font.getlength(shape.text) / (_scale_of(m) * k)
    lx = {"start": width_user / 2, "end": -width_user / 2}.get(shape.textAnchor, 0.0)
    cx, cy = dev(m, shape.x + lx, shape.y + 0.35 * shape.fontSize)
    left, top, right, bottom = font.getbbox(shape.text, anchor="mm")
    layer = Image.new("RGBA", (int(right - left) + 4, int(bottom - top) + 4), (255, 255, 255, 0))
    ImageDraw.Draw(layer).text((layer.size[0] / 2, layer.size[1] / 2), shape.text, font=font, fill=color + (255,),
                               anchor="mm")
    rotated = layer.rotate(angle, expand=True, resample=Image.BICUBIC)
    image.paste(rotated, (int(round(cx - rotated.size[0] / 2)), int(round(cy - rotated.size[1] / 2))), rotated)


# ---------------------------------------------------------------------------
# SVG
# ---------------------------------------------------------------------------

@lru_cache(maxsize=2)
def _ttfont(path: str):
    font = TTFont(path, lazy=True)
    return font, font.getGlyphSet(), font.getBestCmap(), font["head"].unitsPerEm, font["hmtx"]


@lru_cache(maxsize=8192)
def _glyph_path(path: str, name: str) -> str:
    """A glyph's outline as SVG path data in font units (the same few hundred glyphs recur in every chart)."""
    _, glyphset, _, _, _ = _ttfont(path)
    pen = SVGPathPen(glyphset)
    glyphset[name].draw(pen)
    return pen.getCommands()


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))


def drawing_svg(drawing) -> str:
    """The drawing as SVG text: shapes as SVG elements, every text as outlines of the shipped font."""
    glyphs: dict[tuple[str, str], str] = {}
    body: list[str] = []

    def glyph_id(path: Path, name: str) -> str:
        key = (str(path), name)
        if key not in glyphs:
            glyphs[key] = f"g{len(glyphs)}"
        return glyphs[key]

    def paint(shape, fill=True):
        attrs = []
        f = _hex(getattr(shape, "fillColor", None)) if fill else None
        attrs.append(f'fill="{f}"' if f else 'fill="none"')
        s = _hex(getattr(shape, "strokeColor", None))
        if s and getattr(shape, "strokeWidth", 0):
            attrs.append(f'stroke="{s}" stroke-width="{_num(shape.strokeWidth)}"')
            dash = getattr(shape, "strokeDashArray", None)
            if dash:
                attrs.append(f'stroke-dasharray="{" ".join(_num(d) for d in dash)}"')
        return " ".join(attrs)

    for shape, m in _leaves(drawing):
        tf = "" if m == _IDENTITY else f' transform="matrix({" ".join(_num(v) for v in m)})"'
        if isinstance(shape, Rect):
            body.append(f'<rect x="{_num(shape.x)}" y="{_num(shape.y)}" width="{_num(shape.width)}" '
                        f'height="{_num(shape.height)}" {paint(shape)}{tf}/>')
        elif isinstance(shape, Line):
            body.append(f'<line x1="{_num(shape.x1)}" y1="{_num(shape.y1)}" x2="{_num(shape.x2)}" '
                        f'y2="{_num(shape.y2)}" {paint(shape, fill=False)}{tf}/>')
        elif isinstance(shape, (PolyLine, Polygon)):
            pts = " ".join(_num(v) for v in shape.points)
            tag = "polygon" if isinstance(shape, Polygon) else "polyline"
            body.append(f'<{tag} points="{pts}" {paint(shape, fill=isinstance(shape, Polygon))}{tf}/>')
        elif isinstance(shape, Circle):
            body.append(f'<circle cx="{_num(shape.cx)}" cy="{_num(shape.cy)}" r="{_num(shape.r)}" {paint(shape)}{tf}/>')
        elif isinstance(shape, String) and shape.text:
            path = _font_path(shape.fontName)
            font, glyphset, cmap, upm, hmtx = _ttfont(str(path))
            uses, x = [], 0
            for ch in shape.text:
                name = cmap.get(ord(ch), ".notdef")
                if ch.strip():
                    uses.append(f'<use xlink:href="#{glyph_id(path, name)}" x="{x}"/>')
                x += hmtx[name][0]
            scale = shape.fontSize / upm
            shift = {"middle": -x * scale / 2, "end": -x * scale}.get(shape.textAnchor, 0.0)
            color = _hex(shape.fillColor) or "#000000"
            body.append(f'<g fill="{color}"{tf}><g transform="translate({_num(shape.x + shift)} {_num(shape.y)}) '
                        f'scale({scale:.6f})"><title>{escape(shape.text)}</title>{"".join(uses)}</g></g>')
    defs = [f'<path id="{gid}" d="{_glyph_path(path, name)}"/>' for (path, name), gid in glyphs.items()]
    w, h = drawing.width, drawing.height
    return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'width="{_num(w)}pt" height="{_num(h)}pt" viewBox="0 0 {_num(w)} {_num(h)}">'
            f'<rect width="100%" height="100%" fill="#ffffff"/><defs>{"".join(defs)}</defs>'
            f'<g transform="matrix(1 0 0 -1 0 {_num(h)})">{"".join(body)}</g></svg>\n')


def write_chart(drawing, base: Path) -> list[Path]:
    """``base.png`` and ``base.svg`` of one drawing; returns both paths."""
    base.parent.mkdir(parents=True, exist_ok=True)
    png, svg = base.with_suffix(".png"), base.with_suffix(".svg")
    png.write_bytes(drawing_png(drawing))
    svg.write_text(drawing_svg(drawing), encoding="utf-8")
    return [png, svg]
