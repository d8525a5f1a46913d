"""Read the tables evaluators actually receive, cell for cell, as text.

Field teams, call centres, departments and the 好差评 platform send CSV files in
GBK/GB18030 or UTF-8 (with or without a BOM), UTF-16 tab-separated "Unicode
text" exports, XLSX workbooks (two-row merged headers, data on a later sheet)
and Parquet.  :func:`read_table` turns any of them into a :class:`RawTable`:
every cell as ``str`` (``pd.NA`` when empty), column names as in the file, and
for every data row the row number a person opening the file would see.  It
interprets nothing: numbers, codes and dates are parsed by
:mod:`surveys.normalize`, columns are mapped and rows validated by the ingest
layer.  The workbook specifics (sheet choice, merges, cell values) live in
:mod:`surveys.workbooks`.

Structural problems (an empty file, a header without data, binary data, a
wrong delimiter, duplicate or unnamed columns, a corrupt workbook) raise
:class:`~surveys.errors.DataValidationError`; every problem names the file and
says how to fix it.  No decoding or parsing exception escapes raw.

Limits
------
What a file may cost to read is bounded (:class:`ReadLimits`), so that a
malformed or hostile file stops with a problem naming the file, the place and
the limit instead of exhausting memory:

=========================  ===============  =====================================================
limit                      default          applies to
=========================  ===============  =====================================================
``max_cell_chars``         262,144          every cell of a text file or workbook (``cell_too_long``,
                                            with row and column)
``max_columns``            1,024            every text file or workbook (``too_many_columns``)
``max_cells``              50,000,000       a worksheet's rows x columns, as declared in the
                                            sheet's dimension and as read (``too_many_cells``)
``max_uncompressed_bytes`` 1 GiB            a workbook's zip parts together (``too_large``)
``max_compression_ratio``  100              each zip part above 1 MiB (``compression_ratio``)
=========================  ===============  =====================================================

Python's csv module refuses fields over 131,072 characters; while a file is
read its limit is raised above ``max_cell_chars`` (and restored after), so a
long free-text answer is read whole and one beyond the limit is reported as
too long, never as a quoting or delimiter problem.  A genuine file beyond a
limit is read with ``read_table(..., limits=ReadLimits(...))``; a large
workbook can also be saved as CSV, which has no decompression limits.
Parquet files are columnar and typed; what reading them costs is bounded by
their size, and they are read (or streamed) without these limits.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import sys
import unicodedata
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataValidationError, Problem

__all__ = ["DEFAULT_LIMITS", "EXCEL_SUFFIXES", "PARQUET_SUFFIXES", "TEXT_SUFFIXES", "RawTable", "ReadLimits",
           "detect_encoding", "read_table"]

TEXT_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
DELIMITERS = (",", "\t", ";", "|")

# Characters that separate fields in files some tools write, but that no CSV
# reader treats as a delimiter; found in a one-column header they explain it.
_DELIMITER_NAMES = {
    "，": "full-width comma '，'",
    "；": "full-width semicolon '；'",
    "｜": "full-width bar '｜'",
    "、": "enumeration comma '、'",
    ",": "comma ','",
    "\t": "tab",
    ";": "semicolon ';'",
    "|": "bar '|'",
}
_SAMPLE_CHARS = 1 << 16
_BATCH_ROWS = 50_000
_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook or other zip archive", "rename it to .xlsx if it is a workbook"),
    (b"\xd0\xcf\x11\xe0", "a legacy Excel 97-2003 (.xls), Word or WPS file",
     "open it in Excel/WPS and save it as .xlsx or as CSV UTF-8"),
    (b"PAR1", "a Parquet file", "rename it to .parquet"),
    (b"%PDF", "a PDF document", "ask the sender for the data as .xlsx or CSV"),
)
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EXPORT_FIX = "export the table again as CSV (UTF-8) or .xlsx"
_QUOTE_FIX = "close the quote or remove the stray '\"' at the start of the value, or " + _EXPORT_FIX


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
#: what Python's csv module may hold in one field while a file is read (our own cell limit applies after)
_CSV_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)
_RAISE_FIX = ("if the file is genuine, split it into several files (each an [[inputs]] entry of the project), or "
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


def read_table(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    header_rows: int = 1,
    delimiter: str | None = None,
    encoding: str | None = None,
    limits: ReadLimits | None = None,
) -> RawTable:
    """Read a CSV/TSV/TXT, XLSX or Parquet file into a :class:`RawTable`.

    Parameters
    ----------
    path : str or Path
        ``.csv``, ``.tsv``, ``.txt`` (delimited text), ``.xlsx``/``.xlsm``,
        ``.parquet``/``.pq``.
    sheet : str, int or None
        Workbooks only: sheet name or 0-based index.  When None the first
        visible sheet holding a table is read; empty, hidden and instruction
        sheets (named 说明/须知/封面/目录/readme/notes..., or with at most one
        filled cell per row) before it are skipped, the sheet read is recorded
        in ``RawTable.sheet`` and a :class:`~surveys.errors.MinpingWarning`
        names the skipped ones.  Ignored for other files.
    header_rows : int
        Number of header rows (text and workbooks; Parquet has one).
    delimiter : str or None
        Text files: field delimiter; sniffed among ``, \\t ; |`` when None.
    encoding : str or None
        Text files: encoding; detected by :func:`detect_encoding` when None.
    limits : ReadLimits or None
        Size limits (:data:`DEFAULT_LIMITS` when None): ``max_cell_chars``,
        ``max_columns``, and for workbooks ``max_cells``,
        ``max_uncompressed_bytes`` and ``max_compression_ratio``.

    Returns
    -------
    RawTable

    Raises
    ------
    DataValidationError
        With one :class:`~surveys.errors.Problem` per structural problem
        found (``code``: ``unsupported_format``, ``unreadable``,
        ``empty_file``, ``no_data_rows``, ``binary_file``, ``encoding``,
        ``bad_delimiter``, ``unclosed_quote``, ``ragged_row``,
        ``unnamed_column``, ``duplicate_columns``, ``corrupt_file``,
        ``sheet_not_found``, ``unsupported_column``, ``cell_too_long``,
        ``too_many_columns``, ``too_many_cells``, ``too_large``,
        ``compression_ratio``, ``uncalculated_formulas``).

    Notes
    -----
    Header flattening: with several header rows, a column's name is its
    header cells from top to bottom, without empty cells, ``Unnamed: ...``
    parts (left by pandas exports) and repeats, joined by ``_``: a group
    cell 检查项目 over 整洁 gives ``检查项目_整洁``; 问卷编号 with nothing (or
    问卷编号 again) below gives ``问卷编号``.  In a workbook a horizontally
    merged header cell names every column it spans whose bottom header cell
    is filled.  In text files, which lose merges, and in workbooks whose
    header has no horizontal merge, an empty upper header cell takes the
    nearest filled one to its left if both columns have a bottom header cell
    (a group over items; a standalone column has nothing below).

    Columns with no name and no data (trailing delimiters, spacer columns)
    are dropped; a column with data but no name is an ``unnamed_column``
    problem.  In workbooks a vertically merged data cell fills the rows it
    spans in its first column, as the reader of the sheet sees it.

    Workbook cells become text deterministically: whole numbers without
    ``.0`` (so phone numbers and ids survive), other numbers in Python's
    shortest round-trip form, date cells as ``2024-03-05`` (with
    `` 14:30:00`` when they have a time, rounded to the second), booleans as
    ``TRUE``/``FALSE``.  A date typed into a general-format cell stays the
    number Excel stores (``45356``) for :func:`surveys.normalize.parse_dates`.
    Formulas give the value the spreadsheet program calculated and stored
    with them; a formula cell without one (a workbook written by a program
    that never calculated it) is an ``uncalculated_formulas`` problem naming
    the sheet and cells, never read as blank.  Parquet values are converted the same
    way and losslessly (floats in shortest round-trip form, timestamps with
    their fraction of a second and time-zone offset when present); Parquet
    rows are numbered as if the file were opened in a spreadsheet (first data
    row 2).
    """
    path = Path(path)
    limits = limits or DEFAULT_LIMITS
    if header_rows < 1:
        raise ValueError(f"header_rows must be at least 1, got {header_rows}")
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES | EXCEL_SUFFIXES | PARQUET_SUFFIXES:
        raise _error(path, _unsupported(suffix))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _error(path, Problem(f"cannot open the file: {exc.strerror or exc}",
                                   fix="check the path and that the file is readable",
                                   code="unreadable")) from exc
    if not raw:
        raise _error(path, Problem("the file is empty (0 bytes)",
                                   fix="the export or download did not finish; " + _EXPORT_FIX,
                                   code="empty_file"))
    if suffix in EXCEL_SUFFIXES:
        # Imported here: surveys.workbooks builds on this module's shared layout.
        from .workbooks import read_xlsx

        name, frame, source_rows, blanks = read_xlsx(path, raw, sheet, header_rows, limits)
        return RawTable(frame, path, source_rows, None, name, blanks)
    if suffix in PARQUET_SUFFIXES:
        frame = _read_parquet(path, raw)
        return RawTable(frame, path, np.arange(2, len(frame) + 2, dtype=np.int64), None, None, 0)
    try:
        text, used = _decode(raw, encoding)
    except DataValidationError as exc:
        raise _error(path, *exc.problems) from None
    sep = delimiter or _sniff(text)
    # Python's csv field limit (131,072 characters by default, process-wide) is raised while the file is
    # read and restored after: a long cell reaches _assemble, which checks it against limits.max_cell_chars.
    previous = csv.field_size_limit(_CSV_FIELD_LIMIT)
    try:
        frame, source_rows, blanks = _assemble(path, _text_rows(path, text, sep), header_rows, None,
                                               ragged_as_rows=True, delimiter=sep, limits=limits)
    finally:
        csv.field_size_limit(previous)
    return RawTable(frame, path, source_rows, used, None, blanks, sep)


def detect_encoding(raw: bytes) -> str:
    """Name the encoding of a delimited text file's bytes.

    Order: a byte-order mark (UTF-32, UTF-8, UTF-16), BOM-less UTF-16 (NUL
    bytes in every other position), strict UTF-8, strict GB18030 (a superset
    of GBK and GB2312; GB2312 alone would lose characters such as 喆 堃 镕),
    then charset-normalizer as a last resort.  UTF-8 comes before GB18030
    because short UTF-8 text can decode as GB18030 without error, as garbage.
    Big5 text also decodes as GB18030, as garbage, and charset-normalizer's
    guess for short Western text is often a neighbouring code page: pass the
    encoding to :func:`read_table` when it is known.

    Returns
    -------
    str
        A Python codec name: ``utf-8``, ``utf-8-sig``, ``utf-16``,
        ``utf-16-le``, ``utf-16-be``, ``utf-32``, ``gb18030``, or what
        charset-normalizer found.

    Raises
    ------
    DataValidationError
        ``binary_file`` when the bytes are not text (NUL bytes outside
        UTF-16, a known binary signature, control characters).
    """
    return _decode(raw, None)[1]


# ----------------------------------------------------------------- text files


def _decode(raw: bytes, encoding: str | None) -> tuple[str, str]:
    """The text of ``raw`` and the encoding used (given, or detected in the documented order)."""
    if encoding is None:
        return _auto_decode(raw)
    try:
        return _drop_bom(raw.decode(encoding)), encoding
    except LookupError:
        raise _error(None, Problem(f"unknown encoding '{encoding}'",
                                   fix="use a Python codec name such as 'gb18030' or 'utf-8', "
                                       "or leave the encoding unset to detect it", code="encoding")) from None
    except UnicodeDecodeError as exc:
        try:
            hint = f"it looks like {_auto_decode(raw)[1]}: pass that encoding"
        except DataValidationError:
            hint = _EXPORT_FIX
        raise _error(None, Problem(f"the file is not valid {encoding} (byte {exc.start})",
                                   fix=hint + ", or leave the encoding unset to detect it",
                                   code="encoding")) from None


def _auto_decode(raw: bytes) -> tuple[str, str]:
    for signature, what, fix in _SIGNATURES:
        if raw.startswith(signature):
            raise _error(None, Problem(f"this is binary data, it looks like {what}, not a delimited text table",
                                       fix=fix, code="binary_file"))
    for bom, name in _BOMS:
        if raw.startswith(bom):
            try:
                return _checked(_drop_bom(raw.decode(name)), name)
            except UnicodeDecodeError:
                raise _binary(f"it starts with a {name} byte-order mark but is not valid {name}") from None
    for name in _candidates(raw):
        try:
            return _checked(_drop_bom(raw.decode(name)), name)
        except (UnicodeDecodeError, LookupError):
            continue
    raise _binary("it does not decode as UTF-8, UTF-16 or GB18030 and no other encoding fits")


def _candidates(raw: bytes) -> Iterator[str]:
    """Encodings to try strictly, in order; charset-normalizer (slow) only if the others fail."""
    sample = raw[:_SAMPLE_CHARS]
    if b"\x00" in sample:
        # ASCII characters in UTF-16 leave a NUL in every other byte.
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if len(raw) % 2 == 0 and (odd > 4 * even or even > 4 * odd):
            yield "utf-16-le" if odd > even else "utf-16-be"
        raise _binary("it contains NUL bytes")
    yield "utf-8"
    yield "gb18030"
    from charset_normalizer import from_bytes

    best = from_bytes(raw[: 1 << 20]).best()
    if best is not None:
        yield best.encoding


def _checked(text: str, name: str) -> tuple[str, str]:
    sample = text[:_SAMPLE_CHARS]
    if len(_CONTROL.findall(sample)) > max(2, len(sample) // 100):
        raise _binary(f"it decodes as {name} but is full of control characters")
    return text, name


def _drop_bom(text: str) -> str:
    return text.removeprefix("\ufeff")


def _binary(why: str) -> DataValidationError:
    return _error(None, Problem(f"the file holds binary data, not a delimited text table: {why}",
                                fix="check that this is the right file; " + _EXPORT_FIX,
                                code="binary_file"))


def _sniff(text: str) -> str:
    """The candidate delimiter giving the most consistent field count, widest first."""
    sample = text[:_SAMPLE_CHARS]
    truncated = len(text) > len(sample)
    best, best_score = DELIMITERS[0], (0.0, 1)
    for sep in DELIMITERS:
        records = []
        try:
            for record in csv.reader(io.StringIO(sample, newline=""), delimiter=sep):
                if any(field.strip() for field in record):
                    records.append(len(record))
                if len(records) > 30:
                    break
        except csv.Error:
            continue
        if truncated and len(records) <= 30:
            records = records[:-1]
        if not records or records[0] < 2:
            continue
        rest = records[1:]
        score = (sum(n == records[0] for n in rest) / len(rest) if rest else 1.0, records[0])
        if score > best_score:
            best, best_score = sep, score
    return best


def _text_rows(path: Path, text: str, sep: str) -> Iterator[tuple[int, list[str]]]:
    """Records with their row numbers; a quoted field with line breaks stays one record."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    number = start_line = end_line = 0
    record: list[str] = []
    try:
        for number, record in enumerate(reader, start=1):
            start_line, end_line = end_line, reader.line_num
            yield number, record
    except csv.Error as exc:
        raise _error(path, Problem(f"the row cannot be parsed as delimited text ({exc})",
                                   fix=_QUOTE_FIX, row=number + 1, code="unclosed_quote")) from None
    # A quote opened and never closed swallows the rest of the file into the
    # last record without an error; parsing that record strictly reveals it.
    if end_line - start_line > 1 and any("\n" in f or "\r" in f for f in record):
        lines = io.StringIO(text, newline="")
        for _ in range(start_line):
            lines.readline()
        try:
            list(csv.reader(lines, delimiter=sep, strict=True))
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise _error(path, Problem("a quoted value is never closed: the rest of the file was read "
                                           "as one cell", fix=_QUOTE_FIX, row=number,
                                           code="unclosed_quote")) from None


# ------------------------------------------------------------- shared layout


def _assemble(
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
        raise _error(path, Problem("the file holds no table, only blank rows", fix=_EXPORT_FIX, code="empty_file"))
    width = max(map(len, header))
    if width > limits.max_columns:
        raise _error(path, _too_many_columns(width, limits, header_numbers[-1]))
    if max_cells is not None:
        row_limit = max_cells // width
    if delimiter is not None and width == 1 and (problems := _delimiter_problems(header[0][0], delimiter)):
        raise _error(path, *problems)
    spans = None
    if merges is not None:
        spans = [[(c0, c1) for r0, _, c0, c1 in merges if r0 == number and c1 > c0] for number in header_numbers]
        if not any(spans[:-1]):
            spans = None  # a group typed once over its items, never merged: as in text files
    names = _flatten([h + [""] * (width - len(h)) for h in header], spans)
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
                _check_lengths(path, chunks[j][-1], batch_numbers, names[j], limits)
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
            raise _error(path, _too_many_cells(f"{len(numbers):,} data rows (to row {number}) by {width} columns",
                                               limits))
        if len(batch) == _BATCH_ROWS:
            flush(batch, numbers[-_BATCH_ROWS:])
            batch = []
    flush(batch, numbers[len(numbers) - len(batch):])
    problems = []
    if not numbers:
        problems.append(Problem("the file has a header but no data rows",
                                fix="check that this is the right file and that the export included the data",
                                code="no_data_rows"))
    for j in sorted(j for j in unnamed if j < width or not ragged_as_rows):
        problems.append(Problem(f"column {_letter(j)} has values but no header",
                                fix="give the column a name in the header row, or delete it" + _title_hint(header),
                                column=_letter(j), code="unnamed_column"))
    if ragged:
        listed = sorted(ragged)
        shown = ", ".join(map(str, listed[:10])) + (", ..." if len(listed) > 10 else "")
        problems.append(Problem(
            f"{len(listed)} row(s) have more fields than the header's {width} (rows {shown})",
            fix=f"a value containing the delimiter ({_DELIMITER_NAMES.get(delimiter or '', delimiter)}) is not "
                "quoted: put such values in double quotes, or " + _EXPORT_FIX,
            row=listed[0], code="ragged_row"))
    keep = [j for j in range(width) if names[j]]
    for name, n in Counter(names[j] for j in keep).items():
        if n > 1:
            where = ", ".join(_letter(j) for j in keep if names[j] == name)
            problems.append(Problem(f"duplicate column name '{name}' (columns {where})",
                                    fix="rename or delete the duplicates so that every column name is unique",
                                    column=name, code="duplicate_columns"))
    if problems:
        raise _error(path, *problems)
    frame = pd.DataFrame({names[j]: _text_column(chunks[j]) for j in keep})
    return frame, np.frombuffer(numbers, dtype=np.int64).copy(), blanks


def _flatten(header: list[list[str]], spans: list[list[tuple[int, int]]] | None) -> list[str]:
    """One name per column from the header rows (rule in :func:`read_table`)."""
    header = [["" if c.startswith("Unnamed:") else c for c in row] for row in header]
    bottom = header[-1]
    for r, row in enumerate(header[:-1]):
        for first, last in spans[r] if spans is not None else _group_spans(row, bottom):
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


def _group_spans(upper: list[str], bottom: list[str]) -> list[tuple[int, int]]:
    spans = []
    for j, value in enumerate(upper):
        if value and bottom[j]:
            k = j
            while k + 1 < len(upper) and not upper[k + 1] and bottom[k + 1]:
                k += 1
            spans.append((j, k))
    return spans


def _text_column(values) -> pd.Series:
    """A ``string`` column from pyarrow text (an array or a list of chunks); blank cells become NA."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, list):
        values = pa.chunked_array(values, type=pa.large_string())
    values = values.cast(pa.large_string())
    blank = pc.equal(pc.utf8_trim_whitespace(values), "")
    return pd.Series(pd.arrays.ArrowStringArray(pc.if_else(blank, pa.scalar(None, values.type), values)))


def _delimiter_problems(header: str, used: str) -> list[Problem]:
    found = [c for c in _DELIMITER_NAMES if c != used and c in header]
    if not found:
        return []
    char = max(found, key=header.count)
    name = _DELIMITER_NAMES[char]
    if unicodedata.east_asian_width(char) in "FW":
        fix = (f"re-save the file as CSV from Excel/WPS (which separates fields with ','), "
               f"or pass delimiter='{char}' if every row uses {name}")
    else:
        fix = f"pass delimiter={char!r}, or leave the delimiter unset to detect it"
    return [Problem(f"the file parses to a single column although its header contains {name} "
                    f"{header.count(char)} time(s): the fields are separated by {name}",
                    fix=fix, value=header[:80], code="bad_delimiter")]


def _title_hint(header: list[list[str]]) -> str:
    filled = [c for c in header[0] if c]
    if len(filled) == 1:
        return f" (if '{filled[0]}' is a title above the header, delete that row)"
    return ""


def _letter(j: int) -> str:
    """Spreadsheet column letter of 0-based column ``j`` (0 -> A, 26 -> AA)."""
    out = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


def _check_lengths(path: Path, values, numbers: Sequence[int], name: str, limits: ReadLimits) -> None:
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
        raise _error(path, Problem(
            f"the cell holds {int(lengths[k]):,} characters, more than the limit of {limits.max_cell_chars:,} "
            f"(ReadLimits.max_cell_chars)", row=int(numbers[k]), column=name, code="cell_too_long",
            fix="shorten the text (a spreadsheet holds at most 32,767 characters in a cell); " + _RAISE_FIX))


def _too_many_columns(width: int, limits: ReadLimits, row: int) -> Problem:
    return Problem(f"the table has {width:,} columns (to column {_letter(width - 1)}), more than the limit of "
                   f"{limits.max_columns:,} (ReadLimits.max_columns)", row=row, code="too_many_columns",
                   fix="delete the columns that do not belong to the table (stray cells far to the right of it "
                       "count too); " + _RAISE_FIX)


def _too_many_cells(what: str, limits: ReadLimits) -> Problem:
    return Problem(f"the sheet spans {what}, more than the limit of {limits.max_cells:,} cells "
                   f"(ReadLimits.max_cells)", code="too_many_cells",
                   fix="delete the empty but used rows and columns below and right of the table (Ctrl+End in "
                       "Excel shows where the sheet ends) and save, or save the sheet as CSV UTF-8; " + _RAISE_FIX)


def _unsupported(suffix: str) -> Problem:
    known = ", ".join(sorted(TEXT_SUFFIXES | EXCEL_SUFFIXES | PARQUET_SUFFIXES))
    fix = {".xls": "open it in Excel/WPS and save it as .xlsx (Excel 97-2003 workbooks are not read)",
           ".et": "open it in WPS and save it as .xlsx"}.get(suffix, "save the table as .xlsx or CSV (UTF-8)")
    return Problem(f"unsupported file type '{suffix or '(no extension)'}' (readable: {known})",
                   fix=fix, code="unsupported_format")


def _error(path: Path | None, *problems: Problem) -> DataValidationError:
    if path is not None:
        problems = tuple(dataclasses.replace(p, file=str(path)) for p in problems)
    where = f"cannot read {path}" if path is not None else "cannot read the data"
    return DataValidationError(where, list(problems))


# -------------------------------------------------------------------- parquet


def _read_parquet(path: Path, raw: bytes) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(raw))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _error(path, Problem(f"not a valid Parquet file ({exc})", fix="export the table again",
                                   code="corrupt_file")) from None
    problems: list[Problem] = []
    names = [str(n).strip() for n in table.column_names]
    for name, n in Counter(names).items():
        if n > 1:
            problems.append(Problem(f"duplicate column name '{name}' ({n} columns)",
                                    fix="rename the duplicates so that every column name is unique",
                                    column=name, code="duplicate_columns"))
    columns = {}
    for name, column in zip(names, table.columns):
        text = _arrow_text(column)
        if text is None:
            problems.append(Problem(f"column '{name}' holds {column.type} values, which are not table cells",
                                    fix="flatten the column to text or numbers before export",
                                    column=name, code="unsupported_column"))
        else:
            columns[name] = _text_column(text)
    if table.num_rows == 0:
        problems.append(Problem("the file has columns but no data rows",
                                fix="check that this is the right file", code="no_data_rows"))
    if problems:
        raise _error(path, *problems)
    return pd.DataFrame(columns)


def _arrow_text(column):
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
