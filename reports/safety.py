"""Neutralise untrusted text before it reaches a spreadsheet, a CSV file or a file name.

Department names, free-text answers and ids come from outside.  A spreadsheet
program treats a cell starting with ``= + - @`` (and, in some, tab, CR or LF)
as a formula, which can fetch URLs or run commands ("CSV/formula injection",
OWASP).  openpyxl and pandas store any string starting with ``=`` as a live
formula.  The functions here keep such text inert:

- XLSX: :func:`set_cell` / :func:`safe_cell_value` store strings as strings
  (``data_type = 's'``) and mark dangerous ones with ``quotePrefix`` so that
  Excel and LibreOffice show the leading character literally.
- CSV: :func:`csv_field` / :func:`write_csv` follow the OWASP recommendation
  (prefix ``'``, quote every text field, double embedded quotes), UTF-8 with a
  BOM so that Excel detects the encoding.
- :func:`sheet_title` and :func:`safe_filename` make names that Excel and file
  systems accept without surprises.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from surveys.errors import DataValidationError, Problem

#: First characters that make a spreadsheet program read a cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def is_formula_like(text: str) -> bool:
    """True when ``text`` would be read as a formula by a spreadsheet program."""
    return isinstance(text, str) and text.startswith(FORMULA_TRIGGERS)


def safe_cell_value(value: object) -> object:
    """Value fit for an openpyxl cell: numbers stay numbers, NaN becomes empty.

    Strings are returned unchanged; :func:`set_cell` marks them as text.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    try:

        if isinstance(value, np.generic):
            value = value.item()
    except ImportError:  # numpy is a hard dependency; this only keeps the helper standalone
        pass
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if value is not None and type(value).__name__ in {"NAType", "NaTType"}:
        return None
    return value


def set_cell(cell, value: object, number_format: str | None = None) -> None:
    """Write ``value`` to an openpyxl ``cell`` so that no input text becomes a formula.

    Parameters
    ----------
    cell : openpyxl.cell.Cell
    value : object
        Numbers are stored as numbers (with ``number_format`` if given); strings
        as inline text (``data_type = 's'``), with ``quotePrefix`` when they start
        with one of :data:`FORMULA_TRIGGERS`.
    number_format : str, optional
        Excel number format for numeric values.
    """
    value = safe_cell_value(value)
    if isinstance(value, str):

        # Control characters would make the XML invalid; Excel caps a cell at 32,767.
        value = ILLEGAL_CHARACTERS_RE.sub("", value)[:32767]
        # Assigning through .value would let openpyxl turn "=..." into a formula.
        cell._value = value
        cell.data_type = "s"
        if is_formula_like(value):
            cell.quotePrefix = True
        return
    cell.value = value
    if number_format and isinstance(value, (int, float)) and not isinstance(value, bool):
        cell.number_format = number_format


def csv_field(value: object) -> str:
    """One CSV field as text, with a formula-like string prefixed by ``'`` (OWASP)."""
    value = safe_cell_value(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    if is_formula_like(text):
        text = "'" + text
    return text


def write_csv(frame, path: str | Path) -> Path:
    """Write a DataFrame as a CSV file that spreadsheet programs open safely.

    UTF-8 with a byte-order mark (Excel needs it to detect UTF-8), every
    non-numeric field quoted with embedded quotes doubled, and formula-like
    text prefixed with ``'``.  Numbers are written in full precision.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
        writer.writerow([csv_field(c) for c in frame.columns])
        for row in frame.itertuples(index=False, name=None):
            out: list[object] = []
            for value in row:
                value = safe_cell_value(value)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    out.append(value)
                else:
                    out.append(csv_field(value))
            writer.writerow(out)
    return path


def sheet_title(text: str, *, taken: set[str] | None = None) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of ``[]:*?/\\``.

    Leading/trailing apostrophes are dropped (Excel forbids them); an empty
    result becomes ``"Sheet"``.  With ``taken`` the name is made unique
    (case-insensitively, as Excel compares them) by a ``~2``, ``~3`` suffix.
    """
    name = _SHEET_FORBIDDEN.sub("_", str(text)).strip().strip("'") or "Sheet"
    name = name[:31]
    if taken is None:
        return name
    lowered = {t.lower() for t in taken}
    candidate, k = name, 2
    while candidate.lower() in lowered:
        suffix = f"~{k}"
        candidate = name[: 31 - len(suffix)] + suffix
        k += 1
    return candidate


def safe_filename(department_id: str) -> str:
    """Return ``department_id`` if it is a plain register id usable as a file name.

    Only ASCII letters, digits, ``_ . -`` are accepted (first character a
    letter or digit, at most 64); anything else (path separators, ``..``,
    spaces, Chinese names) is refused, so a file name can never escape the
    output folder or carry a department's name.

    Raises
    ------
    surveys.errors.DataValidationError
        If the id contains anything else.
    """
    text = str(department_id)
    if not _SAFE_ID.match(text) or ".." in text:
        raise DataValidationError(
            "department id cannot be used as a file name",
            [Problem(
                message="a department id may contain only ASCII letters, digits, '_', '.' and '-' "
                        "(no path characters, no '..', at most 64 characters)",
                value=text,
                column="department_id",
                fix="use the register id from the framework (e.g. 'A01'), not the name",
            )],
        )
    return text
