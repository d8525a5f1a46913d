"""The fonts every minping report embeds, and how to hand them to matplotlib and reportlab.

The reports carry their own TrueType (glyf) subset of Noto Sans SC (SIL Open
Font License 1.1, see ``reports/fonts/OFL.txt``) so that Chinese renders the
same on every machine, whether or not a CJK font is installed.  The subset
covers all of GBK (so respondents' and places' names such as 喆 堃 镕 render),
Latin, digits, punctuation and full-width forms; ``reports/fonts/build_fonts.py``
rebuilds it from the upstream variable font.

Nothing here runs at import time: fonts are registered only when
:func:`matplotlib_style` is entered or :func:`register_reportlab` is called.
matplotlib is imported inside the matplotlib functions, so that the PDF and
Excel documents never load it (notebook charts only, :mod:`reports.charts`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from surveys.errors import MinpingError

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR_PATH = FONT_DIR / "NotoSansSCSubset-Regular.ttf"
BOLD_PATH = FONT_DIR / "NotoSansSCSubset-Bold.ttf"
LICENSE_PATH = FONT_DIR / "OFL.txt"

#: Family name stored in the font files (what matplotlib looks up).
FAMILY = "Noto Sans SC Subset"
#: Names under which :func:`register_reportlab` registers the two faces.
REPORTLAB_REGULAR = "NotoSansSCSubset-Regular"
REPORTLAB_BOLD = "NotoSansSCSubset-Bold"


def font_paths() -> dict[str, Path]:
    """Paths of the shipped font files, by style (``regular``, ``bold``)."""
    return {"regular": REGULAR_PATH, "bold": BOLD_PATH}


def _check_files() -> None:
    missing = [str(p) for p in (REGULAR_PATH, BOLD_PATH) if not p.is_file()]
    if missing:
        raise MinpingError(
            f"report fonts not found: {', '.join(missing)}; expected the TrueType files "
            "shipped in reports/fonts/. Fix: reinstall minping or run "
            "`python reports/fonts/build_fonts.py`"
        )


def register_matplotlib() -> str:
    """Add the shipped fonts to matplotlib's font manager (once) and return the family name."""
    from matplotlib import font_manager

    _check_files()
    known = {Path(f.fname).resolve() for f in font_manager.fontManager.ttflist}
    for path in (REGULAR_PATH, BOLD_PATH):
        if path.resolve() not in known:
            font_manager.fontManager.addfont(str(path))
    return FAMILY


def matplotlib_rc() -> dict[str, object]:
    """The rcParams the report charts use (font, embedding, accessible defaults)."""
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [FAMILY, "DejaVu Sans"],
        # Type 42 embeds a subset of the TrueType font and keeps text extractable.
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        # SVG viewers may lack the font: draw glyphs as paths.
        "svg.fonttype": "path",
        # Noto Sans SC has U+2212, but a hyphen-minus keeps copied numbers parseable.
        "axes.unicode_minus": False,
        "svg.hashsalt": "minping",
        "figure.dpi": 100,
        "savefig.dpi": 200,
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.labelsize": 9,
        "legend.fontsize": 8,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }


@contextlib.contextmanager
def matplotlib_style() -> Iterator[None]:
    """Context manager: register the shipped fonts and apply the report rcParams.

    Examples
    --------
    >>> from reports.fonts import matplotlib_style
    >>> with matplotlib_style():                        # doctest: +SKIP
    ...     ax = ranking_chart(result.departments)
    ...     ax.figure.savefig("ranking.pdf")
    """
    import matplotlib

    register_matplotlib()
    with matplotlib.rc_context(matplotlib_rc()):
        yield


def register_reportlab() -> tuple[str, str]:
    """Register the two faces with reportlab (idempotent); return (regular, bold) names.

    Also registers the pair as a font family so that ``<b>`` in paragraphs
    switches to the bold face.
    """

    registered = set(pdfmetrics.getRegisteredFontNames())
    if REPORTLAB_REGULAR not in registered or REPORTLAB_BOLD not in registered:
        _check_files()
        pdfmetrics.registerFont(TTFont(REPORTLAB_REGULAR, str(REGULAR_PATH)))
        pdfmetrics.registerFont(TTFont(REPORTLAB_BOLD, str(BOLD_PATH)))
        addMapping(REPORTLAB_REGULAR, 0, 0, REPORTLAB_REGULAR)
        addMapping(REPORTLAB_REGULAR, 1, 0, REPORTLAB_BOLD)
        addMapping(REPORTLAB_REGULAR, 0, 1, REPORTLAB_REGULAR)
        addMapping(REPORTLAB_REGULAR, 1, 1, REPORTLAB_BOLD)
    return REPORTLAB_REGULAR, REPORTLAB_BOLD
