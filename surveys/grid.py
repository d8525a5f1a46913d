"""Cells to a table: the part of reading that text files and workbooks share.

:mod:`surveys.readers` (text files, Parquet) and :mod:`surveys.workbooks`
(XLSX) both hand their rows of cells to :func:`assemble`, which finds the
header (one row or two merged rows), checks the limits (:class:`ReadLimits`)
and returns a :class:`RawTable`.  The structural problems every reader can
meet are built here, so that they are worded alike.
"""

from __future__ import annotations

import dataclasses
import sys
import unicodedata
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataValidationError, Problem

#: rows converted to columns at a time while a table is assembled (bounds the memory of the row lists)
BATCH_ROWS = 50_000


DELIMITER_NAMES = {
    "，": "full-width comma '，'",
    "；": "full-width semicolon '；'",
    "｜": "full-width bar '｜'",
    "、": "enumeration comma '、'",
    ",": "comma ','",
    "\t": "tab",
    ";": "semicolon ';'",
    "|": "bar '|'",
}


EXPORT_FIX = "export the table again as CSV (UTF-8) or .xlsx"


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on what reading one file may cost (see the module's Limits section).

    Attributes
    ----------
    max_cell_chars : int
        Longest cell in characters: 262,144 (2**18), twice Python's csv
        default of 131,072 and eight times Excel's own 32,767-character cell
        limit; no free-text answer comes near it.
    max_columns : int
        Most columns a table may have: 1,024.  The widest canonical table
        has 33 columns; exports carry extra columns, but not a thousand.
    max_cells : int
        Workbooks: most cells a sheet may span, rows x columns, both as its
        dimension declares and as read: 50,000,000, a full Excel sheet of
        1,048,576 rows by 48 columns.
    max_uncompressed_bytes : int
        Workbooks: most bytes all parts of the zip archive may expand to:
        1 GiB (2**30).
    max_compression_ratio : float
        Workbooks: highest uncompressed / compressed size of a zip part of
        more than 1 MiB: 100.  Real sheets compress 5-20 times; a
        decompression bomb about 1,000 times.
    """

    max_cell_chars: int = 1 << 18
    max_columns: int = 1024
    max_cells: int = 50_000_000
    max_uncompressed_bytes: int = 1 << 30
    max_compression_ratio: float = 100.0


#: the limits :func:`read_table` applies unless told otherwise
DEFAULT_LIMITS = ReadLimits()


RAISE_FIX = ("if the file is genuine, split it into several files (each an [[inputs]] entry of the project), or "
              "read it from Python with read_table(..., limits=ReadLimits(...)) or load_year(..., limits=...)")


@dataclass(frozen=True, eq=False)
class RawTable:
    """A table as read from one file, before any interpretation.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per data row of the file; every cell a ``str`` (dtype
        ``string``) or ``pd.NA`` when the cell is empty or only whitespace.
        Columns are the header names as in the file, stripped; a multi-row
        header is flattened (see :func:`read_table`).  The index is 0..n-1.
    path : pathlib.Path
        The file read.
    source_rows : numpy.ndarray
        ``int64``, one per frame row: the row number Excel shows for it,
        counting the header and blank rows (the first data row under a
        one-row header is 2).  A quoted CSV value with line breaks is one
        record and one row number, as in Excel.
    encoding : str or None
        Encoding of a text file (``utf-8``, ``utf-8-sig``, ``gb18030``,
        ``utf-16``, ``utf-16-le``, ...); None for workbooks and Parquet.
    sheet : str or None
        Name of the worksheet read from a workbook; None for other files.
    blank_rows : int
        Blank rows between the header and the last data row (skipped, they
        are not data).  Blank rows after the last data row are not counted:
        workbooks often carry formatted but empty rows below the data.
    delimiter : str or None
        Field delimiter of a text file; None for other files.
    """

    frame: pd.DataFrame
    path: Path
    source_rows: np.ndarray
    encoding: str | None
    sheet: str | None
    blank_rows: int
    delimiter: str | None = None


def assemble(
    path: Path,
    rows: Iterable[tuple[int, list[str]]],
    header_rows: int,
    merges: Sequence[tuple[int, int, int, int]] | None,
    *,
    ragged_as_rows: bool,
    delimiter: str | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    max_cells: int | None = None,
) -> tuple[pd.DataFrame, np.ndarray, int]:
    """Header, data rows and row numbers from numbered rows of cell texts ("" when empty).

    Every cell is checked against ``limits.max_cell_chars`` and the table's
    width against ``limits.max_columns``; with ``max_cells`` (workbooks) the
    data rows times the width may not pass it either.

    ``merges`` are a workbook's merged ranges as (first row, last row, first
    column, last column), rows numbered from 1, columns from 0; None when
    merges are unknown (text files) and the group-over-items rule applies.
    Data rows are moved into pyarrow arrays in batches: a Python list per
    row would cost gigabytes and long garbage-collector pauses on the
    millions of rows a 好差评 export holds.
    """
    rows = iter(rows)
    row_limit = sys.maxsize  # data rows the sheet may have at the table's width (max_cells)
    header: list[list[str]] = []
    header_numbers: list[int] = []
    for number, cells in rows:
        if header or "".join(cells).strip():
            header.append([c.strip() for c in cells])
            header_numbers.append(number)
            if len(header) == header_rows:
                break
    if not header:
        raise table_error(path, Problem("the file holds no table, only blank rows", fix=EXPORT_FIX, code="empty_file"))
    width = max(map(len, header))
    if width > limits.max_columns:
        raise table_error(path, too_many_columns(width, limits, header_numbers[-1]))
    if max_cells is not None:
        row_limit = max_cells // width
    if delimiter is not None and width == 1 and (problems := delimiter_problems(header[0][0], delimiter)):
        raise table_error(path, *problems)
    spans = None
    if merges is not None:
        spans = [[(c0, c1) for r0, _, c0, c1 in merges if r0 == number and c1 > c0] for number in header_numbers]
        if not any(spans[:-1]):
            spans = None  # a group typed once over its items, never merged: as in text files
    names = flatten_header([h + [""] * (width - len(h)) for h in header], spans)
    chunks: list[list] = [[] for _ in range(width)]
    numbers = array("q")
    ragged: set[int] = set()
    unnamed: set[int] = set()

    def flush(batch: list[list[str]], batch_numbers: Sequence[int]) -> None:
        import pyarrow as pa

        for cells, number in zip(batch, batch_numbers):
            if len(cells) > width:
                extra = [j for j in range(width, len(cells)) if cells[j].strip()]
                if extra and ragged_as_rows:
                    ragged.add(number)
                unnamed.update(extra)
                del cells[width:]
            elif len(cells) < width:
                cells.extend([""] * (width - len(cells)))
        for j in range(width):
            column = [cells[j] for cells in batch]
            if names[j]:
                chunks[j].append(pa.array(column, type=pa.large_string()))
                check_lengths(path, chunks[j][-1], batch_numbers, names[j], limits)
            elif "".join(column).strip():
                unnamed.add(j)

    blanks = pending = 0
    batch: list[list[str]] = []
    for number, cells in rows:
        if not "".join(cells).strip():
            pending += 1
            continue
        blanks, pending = blanks + pending, 0
        batch.append(cells)
        numbers.append(number)
        if len(numbers) > row_limit:
            raise table_error(path, too_many_cells(f"{len(numbers):,} data rows (to row {number}) by {width} columns",
                                               limits))
        if len(batch) == BATCH_ROWS:
            flush(batch, numbers[-BATCH_ROWS:])
            batch = []
    flush(batch, numbers[len(numbers) - len(batch):])
    problems = []
    if not numbers:
        problems.append(Problem("the file has a header but no data rows",
                                fix="check that this is the right file and that the export included the data",
                                code="no_data_rows"))
    for j in sorted(j for j in unnamed if j < width or not ragged_as_rows):
        problems.append(Problem(f"column {column_letter(j)} has values but no header",
                                fix="give the column a name in the header row, or delete it" + title_hint(header),
                                column=column_letter(j), code="unnamed_column"))
    if ragged:
        listed = sorted(ragged)
        shown = ", ".join(map(str, listed[:10])) + (", ..." if len(listed) > 10 else "")
        problems.append(Problem(
            f"{len(listed)} row(s) have more fields than the header's {width} (rows {shown})",
            fix=f"a value containing the delimiter ({DELIMITER_NAMES.get(delimiter or '', delimiter)}) is not "
                "quoted: put such values in double quotes, or " + EXPORT_FIX,
            row=listed[0], code="ragged_row"))
    keep = [j for j in range(width) if names[j]]
    for name, n in Counter(names[j] for j in keep).items():
        if n > 1:
            where = ", ".join(column_letter(j) for j in keep if names[j] == name)
            problems.append(Problem(f"duplicate column name '{name}' (columns {where})",
                                    fix="rename or delete the duplicates so that every column name is unique",
                                    column=name, code="duplicate_columns"))
    if problems:
        raise table_error(path, *problems)
    frame = pd.DataFrame({names[j]: text_column(chunks[j]) for j in keep})
    return frame, np.frombuffer(numbers, dtype=np.int64).copy(), blanks


def flatten_header(header: list[list[str]], spans: list[list[tuple[int, int]]] | None) -> list[str]:
    """One name per column from the header rows (rule in :func:`read_table`)."""
    header = [["" if c.startswith("Unnamed:") else c for c in row] for row in header]
    bottom = header[-1]
    for r, row in enumerate(header[:-1]):
        for first, last in spans[r] if spans is not None else group_spans(row, bottom):
            for j in range(first + 1, min(last, len(row) - 1) + 1):
                if not row[j] and bottom[j]:
                    row[j] = row[first]
    names = []
    for j in range(len(bottom)):
        parts: list[str] = []
        for row in header:
            if row[j] and (not parts or parts[-1] != row[j]):
                parts.append(row[j])
        names.append("_".join(parts))
    return names


def group_spans(upper: list[str], bottom: list[str]) -> list[tuple[int, int]]:
    spans = []
    for j, value in enumerate(upper):
        if value and bottom[j]:
            k = j
            while k + 1 < len(upper) and not upper[k + 1] and bottom[k + 1]:
                k += 1
            spans.append((j, k))
    return spans


def text_column(values) -> pd.Series:
    """A ``string`` column from pyarrow text (an array or a list of chunks); blank cells become NA."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, list):
        values = pa.chunked_array(values, type=pa.large_string())
    values = values.cast(pa.large_string())
    blank = pc.equal(pc.utf8_trim_whitespace(values), "")
    return pd.Series(pd.arrays.ArrowStringArray(pc.if_else(blank, pa.scalar(None, values.type), values)))


def delimiter_problems(header: str, used: str) -> list[Problem]:
    found = [c for c in DELIMITER_NAMES if c != used and c in header]
    if not found:
        return []
    char = max(found, key=header.count)
    name = DELIMITER_NAMES[char]
    if unicodedata.east_asian_width(char) in "FW":
        fix = (f"re-save the file as CSV from Excel/WPS (which separates fields with ','), "
               f"or pass delimiter='{char}' if every row uses {name}")
    else:
        fix = f"pass delimiter={char!r}, or leave the delimiter unset to detect it"
    return [Problem(f"the file parses to a single column although its header contains {name} "
                    f"{header.count(char)} time(s): the fields are separated by {name}",
                    fix=fix, value=header[:80], code="bad_delimiter")]


def title_hint(header: list[list[str]]) -> str:
    filled = [c for c in header[0] if c]
    if len(filled) == 1:
        return f" (if '{filled[0]}' is a title above the header, delete that row)"
    return ""


def column_letter(j: int) -> str:
    """Spreadsheet column letter of 0-based column ``j`` (0 -> A, 26 -> AA)."""
    out = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


def check_lengths(path: Path, values, numbers: Sequence[int], name: str, limits: ReadLimits) -> None:
    """Raise ``cell_too_long`` for the first cell of ``values`` (a pyarrow text array) over the limit."""
    import pyarrow.compute as pc

    # Bytes are at least characters: the cheap byte count settles nearly every batch.
    longest = pc.max(pc.binary_length(values)).as_py()
    if longest is None or longest <= limits.max_cell_chars:
        return
    lengths = pc.utf8_length(values).to_numpy(zero_copy_only=False)
    over = np.flatnonzero(lengths > limits.max_cell_chars)
    if len(over):
        k = int(over[0])
        raise table_error(path, Problem(
            f"the cell holds {int(lengths[k]):,} characters, more than the limit of {limits.max_cell_chars:,} "
            f"(ReadLimits.max_cell_chars)", row=int(numbers[k]), column=name, code="cell_too_long",
            fix="shorten the text (a spreadsheet holds at most 32,767 characters in a cell); " + RAISE_FIX))


def too_many_columns(width: int, limits: ReadLimits, row: int) -> Problem:
    return Problem(f"the table has {width:,} columns (to column {column_letter(width - 1)}), more than the limit of "
                   f"{limits.max_columns:,} (ReadLimits.max_columns)", row=row, code="too_many_columns",
                   fix="delete the columns that do not belong to the table (stray cells far to the right of it "
                       "count too); " + RAISE_FIX)


def too_many_cells(what: str, limits: ReadLimits) -> Problem:
    return Problem(f"the sheet spans {what}, more than the limit of {limits.max_cells:,} cells "
                   f"(ReadLimits.max_cells)", code="too_many_cells",
                   fix="delete the empty but used rows and columns below and right of the table (Ctrl+End in "
                       "Excel shows where the sheet ends) and save, or save the sheet as CSV UTF-8; " + RAISE_FIX)


def table_error(path: Path | None, *problems: Problem) -> DataValidationError:
    if path is not None:
        problems = tuple(dataclasses.replace(p, file=str(path)) for p in problems)
    where = f"cannot read {path}" if path is not None else "cannot read the data"
    return DataValidationError(where, list(problems))


def arrow_text(column):
    """A pyarrow text array of a Parquet column (rules in :func:`read_table`); None if not cell-like."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = kind.value_type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column
    if pa.types.is_boolean(kind):
        return pc.if_else(column, "TRUE", "FALSE")
    if pa.types.is_floating(kind):
        return pc.cast(pc.if_else(pc.is_nan(column), None, column), pa.string())
    if pa.types.is_integer(kind) or pa.types.is_decimal(kind) or pa.types.is_date(kind):
        return pc.cast(column, pa.string())
    if pa.types.is_timestamp(kind):
        stamps = column.to_pandas()
        known = stamps.dropna()
        fmt = "%Y-%m-%d %H:%M:%S"
        if (known.dt.microsecond != 0).any() or (known.dt.nanosecond != 0).any():
            fmt += ".%f"
        elif (known.dt.normalize() == known).all() and kind.tz is None:
            fmt = "%Y-%m-%d"
        if kind.tz is not None:
            fmt += "%z"
        return pa.array(stamps.dt.strftime(fmt), type=pa.string(), from_pandas=True)
    return None
