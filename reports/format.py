"""Numbers and tables as the documents show them: facts, table specs, formats (no renderer imported here).

A *fact* is one labelled value with a kind (``score``, ``share``, ``percent``,
``points``, ``int``, ``text``, ...).  The PDF renderers format it as text;
the XLSX renderers store the number with the matching Excel number format
(:data:`reports.workbook.XLSX_FORMATS`).  Both read the same facts and
:class:`TableSpec` tables, so the documents cannot disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DASH = "—"


@dataclass(frozen=True)
class Fact:
    """One labelled value of a document (``kind`` chooses its format)."""

    label: str
    value: object
    kind: str = "score"


# ---------------------------------------------------------------------------
# numbers as text
# ---------------------------------------------------------------------------

def missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(math.isnan(float(value)))
    except (TypeError, ValueError):
        return type(value).__name__ in {"NAType", "NaTType"}


def fmt(value: object, kind: str = "score", digits: int = 1) -> str:
    """A value as report text; missing values as an em dash."""
    if kind == "text":
        return DASH if missing(value) or value == "" else str(value)
    if missing(value):
        return DASH
    x = float(value)
    if kind == "int":
        return f"{int(round(x)):d}"
    if kind in ("share", "weight"):
        return f"{x * 100:.{digits}f}%"
    if kind == "percent":
        return f"{x:.{digits}f}%"
    if kind == "points":
        # -0.04 would print as "-0.0": a sign on nothing
        return f"{round(x, digits) + 0.0:+.{digits}f}"
    if kind == "raw":
        return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"
    if kind == "coef":
        return f"{x:.{max(digits, 2)}f}"
    if kind == "gain":
        # index points at stake: two decimals, so that the small ones still differ
        return f"{x:.2f}"
    return f"{x:.{digits}f}"


def fmt_interval(low: object, high: object, digits: int = 1) -> str:
    if missing(low) or missing(high):
        return DASH
    return f"{float(low):.{digits}f}–{float(high):.{digits}f}"


def fmt_change_interval(low: object, high: object, digits: int = 1) -> str:
    """An interval of a change, both bounds signed (``-8.3 … +1.1``): a dash would read as a minus."""
    if missing(low) or missing(high):
        return DASH
    return f"{fmt(low, 'points', digits)} … {fmt(high, 'points', digits)}"


def fmt_rank(rank: object, low: object = None, high: object = None) -> str:
    """``12`` or ``12 (8–17)`` when the rank interval is known."""
    if missing(rank):
        return DASH
    text = f"{int(rank)}"
    if not missing(low) and not missing(high):
        text += f" ({int(low)}–{int(high)})"
    return text


def level_text(level: float) -> str:
    return f"{float(level) * 100:g}%"


# ---------------------------------------------------------------------------
# ids
# ---------------------------------------------------------------------------

def natural_key(text) -> tuple:
    """Sort key of an id so that D1.2 comes before D1.10."""
    parts = str(text).replace("-", ".").split(".")
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def natural_order(frame, column: str):
    """``frame`` sorted by ``column`` in natural id order (stable)."""
    order = sorted(range(len(frame)), key=lambda i: natural_key(frame[column].iloc[i]))
    return frame.iloc[order]


# ---------------------------------------------------------------------------
# a table once, rendered to PDF and XLSX
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class TableSpec:
    """Column heads, a kind per column (see :data:`reports.workbook.XLSX_FORMATS`) and rows of raw values."""

    headers: list
    kinds: list
    rows: list
