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
import io
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataValidationError, Problem
from .grid import DEFAULT_LIMITS, EXPORT_FIX, RawTable, ReadLimits, arrow_text, assemble, table_error, text_column
from .workbooks import read_xlsx

__all__ = ["DEFAULT_LIMITS", "EXCEL_SUFFIXES", "PARQUET_SUFFIXES", "TEXT_SUFFIXES", "RawTable", "ReadLimits",
           "detect_encoding", "read_table"]

TEXT_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
DELIMITERS = (",", "\t", ";", "|")

# Characters that separate fields in files some tools write, but that no CSV
# reader treats as a delimiter; found in a one-column header they explain it.
_SAMPLE_CHARS = 1 << 16
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
_QUOTE_FIX = "close the quote or remove the stray '\"' at the start of the value, or " + EXPORT_FIX


#: what Python's csv module may hold in one field while a file is read (our own cell limit applies after)
_CSV_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)


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
        raise table_error(path, _unsupported(suffix))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise table_error(path, Problem(f"cannot open the file: {exc.strerror or exc}",
                                   fix="check the path and that the file is readable",
                                   code="unreadable")) from exc
    if not raw:
        raise table_error(path, Problem("the file is empty (0 bytes)",
                                   fix="the export or download did not finish; " + EXPORT_FIX,
                                   code="empty_file"))
    if suffix in EXCEL_SUFFIXES:
        # Imported here: surveys.workbooks builds on this module's shared layout.

        name, frame, source_rows, blanks = read_xlsx(path, raw, sheet, header_rows, limits)
        return RawTable(frame, path, source_rows, None, name, blanks)
    if suffix in PARQUET_SUFFIXES:
        frame = _read_parquet(path, raw)
        return RawTable(frame, path, np.arange(2, len(frame) + 2, dtype=np.int64), None, None, 0)
    try:
        text, used = _decode(raw, encoding)
    except DataValidationError as exc:
        raise table_error(path, *exc.problems) from None
    sep = delimiter or _sniff(text)
    # Python's csv field limit (131,072 characters by default, process-wide) is raised while the file is
    # read and restored after: a long cell reaches assemble, which checks it against limits.max_cell_chars.
    previous = csv.field_size_limit(_CSV_FIELD_LIMIT)
    try:
        frame, source_rows, blanks = assemble(path, _text_rows(path, text, sep), header_rows, None,
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
        raise table_error(None, Problem(f"unknown encoding '{encoding}'",
                                   fix="use a Python codec name such as 'gb18030' or 'utf-8', "
                                       "or leave the encoding unset to detect it", code="encoding")) from None
    except UnicodeDecodeError as exc:
        try:
            hint = f"it looks like {_auto_decode(raw)[1]}: pass that encoding"
        except DataValidationError:
            hint = EXPORT_FIX
        raise table_error(None, Problem(f"the file is not valid {encoding} (byte {exc.start})",
                                   fix=hint + ", or leave the encoding unset to detect it",
                                   code="encoding")) from None


def _auto_decode(raw: bytes) -> tuple[str, str]:
    for signature, what, fix in _SIGNATURES:
        if raw.startswith(signature):
            raise table_error(None, Problem(f"this is binary data, it looks like {what}, not a delimited text table",
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
    return table_error(None, Problem(f"the file holds binary data, not a delimited text table: {why}",
                                fix="check that this is the right file; " + EXPORT_FIX,
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
        raise table_error(path, Problem(f"the row cannot be parsed as delimited text ({exc})",
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
                raise table_error(path, Problem("a quoted value is never closed: the rest of the file was read "
                                           "as one cell", fix=_QUOTE_FIX, row=number,
                                           code="unclosed_quote")) from None


# ------------------------------------------------------------- shared layout


def _unsupported(suffix: str) -> Problem:
    known = ", ".join(sorted(TEXT_SUFFIXES | EXCEL_SUFFIXES | PARQUET_SUFFIXES))
    fix = {".xls": "open it in Excel/WPS and save it as .xlsx (Excel 97-2003 workbooks are not read)",
           ".et": "open it in WPS and save it as .xlsx"}.get(suffix, "save the table as .xlsx or CSV (UTF-8)")
    return Problem(f"unsupported file type '{suffix or '(no extension)'}' (readable: {known})",
                   fix=fix, code="unsupported_format")


# -------------------------------------------------------------------- parquet


def _read_parquet(path: Path, raw: bytes) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(raw))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise table_error(path, Problem(f"not a valid Parquet file ({exc})", fix="export the table again",
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
        text = arrow_text(column)
        if text is None:
            problems.append(Problem(f"column '{name}' holds {column.type} values, which are not table cells",
                                    fix="flatten the column to text or numbers before export",
                                    column=name, code="unsupported_column"))
        else:
            columns[name] = text_column(text)
    if table.num_rows == 0:
        problems.append(Problem("the file has columns but no data rows",
                                fix="check that this is the right file", code="no_data_rows"))
    if problems:
        raise table_error(path, *problems)
    return pd.DataFrame(columns)


