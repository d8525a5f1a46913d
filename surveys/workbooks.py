"""Read XLSX workbooks for :func:`surveys.readers.read_table`.

Workbooks from field teams carry instruction sheets before the data, two-row
headers with merged group cells, vertically merged data cells, and numbers,
dates and phone numbers stored as Excel values.  :func:`read_xlsx` picks the
sheet, finds the merges (which openpyxl's read-only mode does not report),
turns every cell into deterministic text and hands the numbered rows to the
layout shared with delimited text (:func:`surveys.grid.assemble`).  A
0-byte, truncated, password-protected or mislabelled file is a
:class:`~surveys.errors.DataValidationError` that says what the file really is.

Before openpyxl sees the file, the zip archive's declared part sizes are
checked against :class:`~surveys.readers.ReadLimits` (total uncompressed size,
compression ratio of each part): Python's zipfile never returns more bytes
than a part declares (a part that lies about its size fails its CRC check), so
the declared sizes bound what reading can cost.  The chosen sheet's XML is
then scanned once for its declared dimension (rows x columns against
``max_cells``), its merged ranges, and formula cells without a stored value;
while rows are read, a row reaching past ``max_columns`` and the rows x width
read so far against ``max_cells`` stop the read at once.

A formula cell stores the value the spreadsheet program calculated with it.
A workbook written by a program that never calculated its formulas (openpyxl,
many system exports) has formula cells without a value; openpyxl reads them
as empty, which would silently turn a total or a score into a blank.  They are
an ``uncalculated_formulas`` problem naming the sheet and the cells.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd

from .errors import MinpingWarning, Problem, listing
from .grid import DEFAULT_LIMITS, EXPORT_FIX, RAISE_FIX, ReadLimits, assemble, column_letter, table_error, too_many_cells

__all__ = ["read_xlsx"]

_NOTES_NAME = re.compile(r"说明|须知|封面|目录|指引|填报要求|readme|instruction|notes?\b|cover", re.IGNORECASE)
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_MERGE_START = re.compile(rb"<(?:\w+:)?mergeCells\b")
_MERGE_CELL = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Z]+\d+(?::[A-Z]+\d+)?)\"")
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\bref=\"([A-Z]+\d+(?::[A-Z]+\d+)?)\"")
# A cell holding a formula: its attributes and its content (the formula, and the stored value if any).
_NOT_CELL_TAG = rb"(?:(?!</?(?:\w+:)?c\b).)"
_FORMULA_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*)>(" + _NOT_CELL_TAG + rb"*?<(?:\w+:)?f\b" + _NOT_CELL_TAG
                           + rb"*?)</(?:\w+:)?c>", re.S)
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_EMPTY_VALUE = re.compile(rb"<(?:\w+:)?v\s*(?:/>|></(?:\w+:)?v>)")
_CELL_REF = re.compile(rb"\br=\"([A-Z]+\d+)\"")
_STRING_TYPE = re.compile(rb"\bt=\"str\"")
#: parts smaller than this are not held to the compression-ratio limit (tiny XML compresses very well)
_RATIO_MIN_BYTES = 1 << 20


def read_xlsx(path: Path, raw: bytes, sheet: str | int | None, header_rows: int,
              limits: ReadLimits = DEFAULT_LIMITS) -> tuple[str, pd.DataFrame, np.ndarray, int]:
    """Read one sheet of a workbook's bytes as text cells (rules in :func:`surveys.readers.read_table`).

    Parameters
    ----------
    path : pathlib.Path
        The file, named in every problem.
    raw : bytes
        Its content (not empty).
    sheet : str, int or None
        Sheet name or 0-based index; None picks the first visible sheet
        holding a table and warns (:class:`~surveys.errors.MinpingWarning`)
        when instruction, empty or hidden sheets were skipped before it.
    header_rows : int
        Number of header rows.
    limits : ReadLimits
        Size limits (see :mod:`surveys.readers`).

    Returns
    -------
    sheet_name : str
    frame : pandas.DataFrame
        Text cells, as :attr:`surveys.readers.RawTable.frame`.
    source_rows : numpy.ndarray
        Row number Excel shows for each frame row.
    blank_rows : int
        Blank rows between the header and the last data row.

    Raises
    ------
    DataValidationError
        ``corrupt_file`` (not a zip, truncated, damaged parts, legacy or
        password-protected workbook, HTML named .xlsx), ``sheet_not_found``,
        ``empty_file``, ``too_large``, ``compression_ratio``, ``too_many_cells``,
        ``too_many_columns``, ``uncalculated_formulas`` and the layout problems
        of :func:`surveys.readers.read_table`.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        raise table_error(path, _not_a_workbook(raw)) from None
    _check_archive(path, archive, limits)
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    # What openpyxl, zipfile and the XML parsers raise on damaged parts.
    damaged = (InvalidFileException, zipfile.BadZipFile, zlib.error, KeyError, ValueError, TypeError, EOFError,
               SyntaxError)
    try:
        with warnings.catch_warnings():
            # Warnings about styles, data validation and the like openpyxl
            # cannot keep; none of them touch cell values.
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except damaged as exc:
        raise table_error(path, _damaged(exc)) from None
    try:
        parts = _sheet_parts(archive)
        name = _choose_sheet(path, book, parts, sheet)
        scan = _scan_sheet(archive, parts[name][0]) if name in parts else _SheetScan()
        _check_sheet(path, name, scan, limits)
        frame, numbers, blanks = assemble(path, _sheet_rows(path, book[name], scan.merges, limits), header_rows,
                                           scan.merges, ragged_as_rows=False, limits=limits,
                                           max_cells=limits.max_cells)
    except damaged as exc:
        raise table_error(path, _damaged(exc)) from None
    finally:
        book.close()
    return name, frame, numbers, blanks


def _damaged(exc: Exception) -> Problem:
    return Problem(f"the file is a zip archive but not a readable Excel workbook ({type(exc).__name__}: {exc})",
                   fix="open it in Excel/WPS and save it again as .xlsx; if it is a zip of CSV files, unzip it first",
                   code="corrupt_file")


def _not_a_workbook(raw: bytes) -> Problem:
    head = raw[:512].lstrip()
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        return Problem("this is not an .xlsx file but a password-protected workbook or a legacy Excel 97-2003 "
                       "(.xls) one", fix="open it in Excel/WPS, remove any password and save it as .xlsx",
                       code="corrupt_file")
    if head[:1] == b"<":
        return Problem("this is an HTML/XML page with an Excel name (some systems export tables this way), "
                       "not an .xlsx workbook", fix="open it in Excel/WPS and save it as .xlsx",
                       code="corrupt_file")
    if b"\x00" not in raw[:4096]:
        return Problem("this is a text file with an Excel name, not an .xlsx workbook",
                       fix="rename it to .csv if it is a delimited table", code="corrupt_file")
    return Problem("not a valid .xlsx workbook (not a complete zip archive: truncated or damaged)",
                   fix="the file was probably cut off in transfer; " + EXPORT_FIX, code="corrupt_file")


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, tuple[str, str]]:
    """Sheet name -> (XML part, state) from the workbook's own index."""
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return {}
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    parts = {}
    for node in book.iter(_MAIN_NS + "sheet"):
        target = targets.get(node.get(_REL_NS + "id"), "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
        parts[node.get("name")] = (part, node.get("state", "visible"))
    return parts


class _SheetScan:
    """What one pass over a sheet's XML finds: its declared dimension, merged ranges, uncalculated formulas."""

    def __init__(self):
        self.dimension: str | None = None
        #: merged ranges as (first row, last row, first column, last column), rows from 1, columns from 0
        self.merges: list[tuple[int, int, int, int]] = []
        #: references of the first formula cells without a stored value, and how many there are
        self.uncalculated: list[str] = []
        self.n_uncalculated = 0

    def formulas(self, xml: bytes) -> None:
        """Note the formula cells of ``xml`` (whole cells only) that carry no calculated value."""
        if b"<f" not in xml and b":f" not in xml:
            return
        for match in _FORMULA_CELL.finditer(xml):
            attrs, content = match.group(1), match.group(2)
            value = _VALUE.search(content)
            # A formula whose result is the empty string stores t="str" and an empty value; that is a value.
            if (value and value.group(1).strip()) or (_STRING_TYPE.search(attrs) and (
                    value or _EMPTY_VALUE.search(content))):
                continue
            self.n_uncalculated += 1
            if len(self.uncalculated) < 2:
                ref = _CELL_REF.search(attrs)
                self.uncalculated.append(ref.group(1).decode() if ref else "?")


def _scan_sheet(archive: zipfile.ZipFile, part: str) -> _SheetScan:
    """Scan a sheet's XML once (rules in the module docstring).

    openpyxl's read-only mode reports neither merges nor whether a formula
    cell has a stored value, so the stream is read here: in chunks, each
    processed up to its last complete row; merges sit after the cell data.
    """
    from openpyxl.utils.cell import range_boundaries

    scan = _SheetScan()
    try:
        stream = archive.open(part)
    except KeyError:
        return scan
    merges = None
    with stream:
        tail = b""
        while chunk := stream.read(1 << 20):
            if merges is not None:
                merges += chunk
                continue
            buffer = tail + chunk
            if scan.dimension is None and (dim := _DIMENSION.search(buffer[:4096])):
                scan.dimension = dim.group(1).decode()
            match = _MERGE_START.search(buffer)
            if match:
                scan.formulas(buffer[:match.start()])
                merges, tail = buffer[match.start():], b""
                continue
            cut = buffer.rfind(b"row>")
            if cut < 0:
                tail = buffer
                continue
            scan.formulas(buffer[:cut + 4])
            tail = buffer[cut + 4:]
        scan.formulas(tail)
    for ref in _MERGE_CELL.findall(merges or b""):
        c0, r0, c1, r1 = range_boundaries(ref.decode())
        scan.merges.append((r0, r1, c0 - 1, c1 - 1))
    return scan


def _check_archive(path: Path, archive: zipfile.ZipFile, limits: ReadLimits) -> None:
    """Declared part sizes against the decompression limits, before anything is decompressed."""
    problems = []
    total = 0
    for info in archive.infolist():
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_MIN_BYTES and ratio > limits.max_compression_ratio:
            problems.append(Problem(
                f"the part {info.filename} expands from {info.compress_size:,} to {info.file_size:,} bytes, "
                f"{ratio:,.0f} times, more than the limit of {limits.max_compression_ratio:g} times "
                f"(ReadLimits.max_compression_ratio)", code="compression_ratio",
                fix="no spreadsheet program writes a workbook like this (real sheets compress 5-20 times): ask the "
                    "sender for the table again, saved by Excel/WPS or as CSV UTF-8; " + RAISE_FIX))
    if total > limits.max_uncompressed_bytes:
        problems.append(Problem(
            f"the workbook expands to {total:,} bytes, more than the limit of {limits.max_uncompressed_bytes:,} "
            f"bytes (ReadLimits.max_uncompressed_bytes)", code="too_large",
            fix="save the sheet as CSV UTF-8 (read without decompression limits), or split it; " + RAISE_FIX))
    if problems:
        raise table_error(path, *problems)


def _check_sheet(path: Path, name: str, scan: _SheetScan, limits: ReadLimits) -> None:
    """The chosen sheet's declared dimension and its formula cells without a value."""
    from openpyxl.utils.cell import range_boundaries

    problems = []
    if scan.dimension:
        c0, r0, c1, r1 = range_boundaries(scan.dimension if ":" in scan.dimension else
                                          f"{scan.dimension}:{scan.dimension}")
        rows, columns = r1 - r0 + 1, c1 - c0 + 1
        if rows * columns > limits.max_cells:
            problems.append(too_many_cells(f"{scan.dimension} ({rows:,} rows by {columns:,} columns, as the "
                                            f"sheet '{name}' declares)", limits))
    if scan.n_uncalculated:
        cells = listing(scan.uncalculated, shown=2, total=scan.n_uncalculated)
        problems.append(Problem(
            f"sheet '{name}': {scan.n_uncalculated} formula cell(s) have no calculated value ({cells}); the "
            "workbook was written by a program that never calculated its formulas, and they would read as blank",
            code="uncalculated_formulas",
            fix="open the file in Excel or WPS and save it (this calculates the formulas), or export values "
                "instead of formulas (in Excel: copy, Paste Special > Values)"))
    if problems:
        raise table_error(path, *problems)


def _choose_sheet(path: Path, book, parts: dict[str, tuple[str, str]], sheet: str | int | None) -> str:
    names = list(book.sheetnames)
    if sheet is not None:
        if isinstance(sheet, int) and not isinstance(sheet, bool):
            if -len(names) <= sheet < len(names):
                return names[sheet]
        elif sheet in names:
            return sheet
        else:
            folded = {n.strip().casefold(): n for n in names}
            if str(sheet).strip().casefold() in folded:
                return folded[str(sheet).strip().casefold()]
        raise table_error(path, Problem(f"the workbook has no sheet {sheet!r} (sheets: {', '.join(names)})",
                                   fix="give one of the sheet names, or a 0-based sheet index",
                                   code="sheet_not_found"))
    skipped: dict[str, str] = {}
    chosen = None
    for name in names:
        if name in parts and parts[name][1] != "visible":
            skipped[name] = "hidden"
            continue
        skipped[name] = _sheet_kind(book[name], name)
        if skipped[name] == "data":
            chosen = name
            break
    if chosen is None:
        chosen = next((n for n, kind in skipped.items() if kind == "instructions"), None)
    if chosen is None:
        raise table_error(path, Problem(f"no visible sheet holds a table (sheets: {', '.join(names)})",
                                   fix="check that this is the right file, or name the sheet to read",
                                   code="empty_file"))
    if chosen != names[0]:
        passed = ", ".join(f"'{n}' ({kind})" for n, kind in skipped.items() if n != chosen)
        warnings.warn(f"{path}: read sheet '{chosen}'; skipped {passed}. Pass sheet=... to read another sheet.",
                      MinpingWarning, stacklevel=4)
    return chosen


def _sheet_kind(worksheet, name: str) -> str:
    """'empty', 'instructions' (named so, or at most one filled cell a row) or 'data'."""
    worksheet.reset_dimensions()
    filled_rows = widest = 0
    for values in worksheet.iter_rows(values_only=True):
        filled = sum(v is not None and str(v).strip() != "" for v in values)
        if filled:
            filled_rows += 1
            widest = max(widest, filled)
            if filled_rows >= 20:
                break
    if not filled_rows:
        return "empty"
    return "instructions" if widest <= 1 or _NOTES_NAME.search(name) else "data"


def _sheet_rows(path: Path, worksheet, merges: Sequence[tuple[int, int, int, int]],
                limits: ReadLimits) -> Iterator[tuple[int, list[str]]]:
    """Numbered rows of cell texts; vertical merges fill down their first column.

    A row with a value beyond ``limits.max_columns`` stops the read
    (``too_many_columns``); formatted but empty cells at its end do not count.
    """
    starts: dict[int, list[tuple[int, int]]] = {}
    for r0, r1, c0, _ in merges:
        if r1 > r0:
            starts.setdefault(r0, []).append((c0, r1))
    active: list[tuple[int, int, str]] = []
    # Some writers record a wrong sheet size; ignoring it reads every cell.
    worksheet.reset_dimensions()
    for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
        if len(values) > limits.max_columns:
            values = _without_trailing_empty(values)
            if len(values) > limits.max_columns:
                raise table_error(path, Problem(
                    f"row {number} has a value in column {column_letter(len(values) - 1)} (column {len(values):,}), "
                    f"beyond the limit of {limits.max_columns:,} columns (ReadLimits.max_columns)", row=number,
                    column=column_letter(len(values) - 1), code="too_many_columns",
                    fix="delete the stray cells right of the table; " + RAISE_FIX))
        cells = [_excel_text(v) for v in values]
        if active:
            active = [(c0, r1, value) for c0, r1, value in active if r1 >= number]
            for c0, _, value in active:
                cells += [""] * (c0 + 1 - len(cells))
                cells[c0] = value
        for c0, r1 in starts.get(number, ()):
            active.append((c0, r1, cells[c0] if c0 < len(cells) else ""))
        yield number, cells


def _without_trailing_empty(values: tuple) -> tuple:
    end = len(values)
    while end and (values[end - 1] is None or values[end - 1] == ""):
        end -= 1
    return values[:end]


def _excel_text(value) -> str:
    """Deterministic text of an openpyxl cell value (rules in :func:`read_table`); "" when empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, dt.datetime):
        value = (value + dt.timedelta(microseconds=500_000)).replace(microsecond=0)
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, dt.timedelta):
        seconds = round(value.total_seconds())
        sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
        return f"{sign}{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return str(value)
