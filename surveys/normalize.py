"""Turn the text cells of a :class:`~surveys.readers.RawTable` into values.

Field exports write numbers, codes and dates in many ways: full-width digits
(``８７．５``), decorated numbers (``98%``, ``1,234``, ``85分``), scale labels
instead of codes (``非常满意``), dates as ``2024年3月5日``, ``2024/3/5``,
``20240305`` or Excel serial numbers.  Each parser here returns the values
together with a boolean mask of *bad* cells (present but not understood) so
that the caller can quarantine those rows with a reason; empty cells and
placeholder tokens (``—``, ``-``, ``无``, ``/``, ``N/A``) are *missing*, not bad.

Every parser works on the distinct values of the column and broadcasts the
result back (``pd.factorize``), with vectorised string operations on those
distinct values, so a column of millions of rows with a few thousand
distinct entries costs little more than the factorisation.  The regular
expressions are written for RE2 (``[0-9]``, no look-around or
back-references) so that pyarrow runs them, not a Python loop.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import FrameworkError, Problem

__all__ = [
    "DEFAULT_UNITS",
    "MISSING_TOKENS",
    "parse_bool",
    "parse_codes",
    "parse_dates",
    "parse_numbers",
    "to_halfwidth",
]

#: Cell texts that mean "no answer" (compared after NFKC, case folding and
#: removal of whitespace).
MISSING_TOKENS = frozenset({"", "-", "--", "—", "——", "–", "/", "无", "暂无", "n/a", "na", "#n/a", "null",
                            "none", "nan"})
#: Unit suffixes :func:`parse_numbers` strips by default.  Hours and seconds
#: are deliberately absent: in a column of minutes "2小时" must be bad, not 2.
DEFAULT_UNITS = ("分钟", "分", "个工作日", "工作日", "天", "日", "次", "元", "个", "件", "人")

_TRUE = frozenset({"是", "有", "是的", "对", "y", "yes", "true", "t", "1", "√", "✓", "✔"})
_FALSE = frozenset({"否", "没有", "无", "不是", "错", "n", "no", "false", "f", "0", "×", "✗", "✘"})
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[+-]?[0-9]+)?"
_THOUSANDS = r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?"
_SPACE = "[ \t\r\n\x0b\x0c]+"  # after NFKC every Unicode space is one of these
# Excel serial day numbers of 1990-01-01 and 2100-12-31.  Excel counts
# 1900-02-29, a day that never was, so from serial 61 on the serial is the
# number of days since 1899-12-30; that epoch is used below.
_SERIAL_MIN, _SERIAL_MAX = 32874, 73415
_EXCEL_EPOCH = np.datetime64("1899-12-30", "s")
_DATE = (r"^(?P<year>[0-9]{4})(?P<sep1>[-/.])(?P<month>[0-9]{1,2})(?P<sep2>[-/.])(?P<day>[0-9]{1,2})"
         r"(?:(?: +|t)(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})"
         r"(?::(?P<second>[0-9]{2})(?P<fraction>\.[0-9]{1,9})?)?)?(?:z|[+-][0-9]{2}:?[0-9]{2})?$")
_COMPACT_DATE = r"^(?P<year>[0-9]{4})(?P<month>[0-9]{2})(?P<day>[0-9]{2})$"


def name_key(text: object) -> str:
    """The form in which names are matched (register names, aliases, headers): NFKC, outer space stripped.

    The one rule for every name lookup, so that a name with full-width
    brackets or digits matches the same name typed half-width.
    """
    return unicodedata.normalize("NFKC", str(text)).strip()


def to_halfwidth(s: pd.Series) -> pd.Series:
    """Unicode NFKC normalisation of a text column.

    Full-width digits, letters and punctuation become their ASCII forms
    (``８７．５`` -> ``87.5``, ``－３`` -> ``-3``, ``％`` -> ``%``, the
    ideographic space -> a space); Chinese characters are unchanged.

    Returns
    -------
    pandas.Series
        dtype ``string``, same index, ``pd.NA`` where ``s`` is missing.
    """
    return _as_text(s).str.normalize("NFKC")


def parse_numbers(s: pd.Series, *, percent: str = "fraction",
                  units: Sequence[str] = DEFAULT_UNITS) -> tuple[pd.Series, pd.Series]:
    """Parse decorated numbers written by people and spreadsheets.

    Accepted after NFKC: plain and signed numbers (``-3``, ``+2``, ``1e3``),
    thousands separators in their proper places (``1,234``, ``1,234.5``; but
    ``1,5`` is bad: a decimal comma cannot be told from a typo), a trailing
    ``%``, and one trailing unit from ``units`` (``85分``, ``３天``,
    ``12.5分钟``).  ``−`` (U+2212) counts as a minus sign.  Empty cells and
    :data:`MISSING_TOKENS` (``—``, ``-``, ``无``, ``/``, ``N/A`` ...) are
    missing, not bad.

    Parameters
    ----------
    s : pandas.Series
        Text (or already numeric) column.
    percent : {"fraction", "points"}
        ``98%`` becomes 0.98 (``"fraction"``) or 98.0 (``"points"``).
        Values without ``%`` are never rescaled.
    units : sequence of str
        Unit suffixes to accept; pass the one unit of the column (e.g.
        ``("分钟",)``) to make other units bad.

    Returns
    -------
    values : pandas.Series
        float64, NaN where missing or bad.
    bad : pandas.Series
        bool, True where the cell holds text that is not a number.
    """
    if percent not in ("fraction", "points"):
        raise ValueError(f"percent must be 'fraction' or 'points', got {percent!r}")
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("float64"), pd.Series(False, index=s.index)
    codes, text = _distinct(s)
    unit = "|".join(sorted(map(re.escape, units), key=len, reverse=True))
    pattern = rf"^(?P<number>{_NUMBER}|{_THOUSANDS})(?P<percent>%)?" + (f"(?:{unit})?$" if unit else "$")
    parts = _extract(text.str.replace("−", "-", regex=False), pattern)
    values = _to_float(parts["number"].str.replace(",", "", regex=False))
    if percent == "fraction":
        values = np.where(parts["percent"].notna().to_numpy(), values / 100.0, values)
    missing = text.isin(MISSING_TOKENS).to_numpy()
    bad = ~missing & np.isnan(values)
    return _spread(codes, values, np.nan, s.index), _spread(codes, bad, False, s.index)


def parse_codes(
    s: pd.Series,
    labels: Mapping[str, float | str | None],
    valid: Sequence[float],
    na_codes: Sequence[float] = (),
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse answers given as scale codes or as their labels.

    A cell may hold a code (``5``, ``５``, ``5.0``) or a label of ``labels``
    (``非常满意``, `` 满意 ``, full-width or with inner spaces: labels and
    cells are compared after NFKC, case folding and removal of whitespace).
    A label whose value is ``"na"``, None or one of ``na_codes`` means "not
    applicable / don't know" (excluded, not zero).

    Parameters
    ----------
    s : pandas.Series
        Text (or numeric) column of answers.
    labels : mapping of str to float, "na" or None
        Label text -> code, e.g. a scale's ``labels`` from the framework;
        ``"na"`` (as in the framework file) or None marks an N/A label.
    valid : sequence of float
        Codes that are answers on the scale (e.g. 1..5).
    na_codes : sequence of float
        Codes that mean not applicable (e.g. 9).

    Returns
    -------
    codes : pandas.Series
        float64: the code where valid, NaN where N/A, missing or bad.
    bad : pandas.Series
        bool: a code outside ``valid`` and ``na_codes``, or text that is
        neither a label nor a number (reason ``code_out_of_range``).
    na : pandas.Series
        bool: an N/A answer (code in ``na_codes`` or an N/A label).

    Raises
    ------
    FrameworkError
        When a label maps to a code that is neither valid nor N/A.
    """
    valid_set = {float(v) for v in valid}
    na_set = {float(v) for v in na_codes}
    lookup: dict[str, float] = {}
    for label, code in labels.items():
        key = _key(label)
        if code is None or isinstance(code, str) and code.strip().lower() == "na":
            lookup[key] = float("inf")  # marker for N/A, never a code
        elif float(code) in valid_set or float(code) in na_set:
            lookup[key] = float(code)
        else:
            raise FrameworkError("inconsistent answer scale", [Problem(
                f"label '{label}' maps to code {code}, which is neither a valid code {sorted(valid_set)} "
                f"nor an N/A code {sorted(na_set)}", fix="correct the label's code in the framework",
                value=code, code="bad_scale")])
    codes, text = _distinct(s)
    mapped = text.map(lookup).astype("float64").to_numpy(na_value=np.nan)
    numeric = _to_float(text.where(text.str.fullmatch(_NUMBER).fillna(False)))
    value = np.where(np.isnan(mapped), numeric, mapped)
    missing = text.isin(MISSING_TOKENS).to_numpy() & np.isnan(mapped)
    is_na = (value == np.inf) | np.isin(value, list(na_set))
    ok = np.isin(value, list(valid_set))
    bad = ~(ok | is_na | missing)
    value = np.where(ok, value, np.nan)
    return (_spread(codes, value, np.nan, s.index), _spread(codes, bad, False, s.index),
            _spread(codes, is_na, False, s.index))


def parse_dates(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse the date (and time) notations found in Chinese field exports.

    Accepted after NFKC: ``2024年3月5日`` (also 号, and a time such as
    ``14:30`` or ``14时30分``), ``2024-03-05``, ``2024/3/5``, ``2024.3.5``
    (the same separator twice), each optionally with a time ``14:30[:00]``
    after a space or ``T`` (ISO 8601; a ``Z`` or ``+08:00`` offset is dropped
    and the wall-clock time kept), ``20240305``, and Excel serial day numbers
    from 32874 (1990-01-01) to 73415 (2100-12-31), whose fraction is the time
    of day.  Day-first or month-first dates (``5/3/2024``) and two-digit
    years are bad: they cannot be read unambiguously.

    Returns
    -------
    dates : pandas.Series
        ``datetime64[ns]``, NaT where missing or bad.
    bad : pandas.Series
        bool: present but not a date, or an impossible one
        (``2024-02-30``, ``2024年13月1日``, ``25:00``).

    Notes
    -----
    Serials use the 1899-12-30 epoch, which absorbs Excel's fictitious
    1900-02-29 for every serial after 60; the 1904 date system of old Mac
    workbooks is not recognised (openpyxl already converts real date cells).
    """
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        dates = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        return dates.astype("datetime64[ns]"), pd.Series(False, index=s.index)
    codes, text = _distinct(s, space=" ")
    text = (text.str.replace(r" ?年 ?([0-9]{1,2}) ?月 ?([0-9]{1,2}) ?[日号]?", r"-\1-\2 ", regex=True)
            .str.replace(r"([0-9]) ?[时点] ?([0-9])", r"\1:\2", regex=True)
            .str.replace(r"([0-9]) ?分 ?([0-9])", r"\1:\2", regex=True)
            .str.replace(r"([0-9]) ?[分秒]$", r"\1", regex=True).str.strip())
    fields = ["year", "month", "day", "hour", "minute", "second", "fraction"]
    parts = _extract(text, _DATE, fields)
    parts = parts.where(parts["sep1"] == parts["sep2"]).fillna(_extract(text, _COMPACT_DATE, fields))
    numbers = parts[fields[:6]].copy()
    clock = numbers[["hour", "minute", "second"]].fillna(0.0)
    numbers[["hour", "minute", "second"]] = clock.where(clock.lt([24, 60, 60]).all(axis=1))
    stamps = pd.to_datetime(numbers, errors="coerce")
    stamps = stamps + pd.to_timedelta(parts["fraction"].fillna(0.0).to_numpy(), unit="s")
    serial = _to_float(text.where(parts["year"].isna() & text.str.fullmatch(r"[0-9]+(?:\.[0-9]+)?").fillna(False)))
    in_range = (serial >= _SERIAL_MIN) & (serial < _SERIAL_MAX + 1)
    seconds = np.round(np.where(in_range, serial, 0.0) * 86400.0).astype("int64")
    from_serial = (_EXCEL_EPOCH + seconds.astype("timedelta64[s]")).astype("datetime64[ns]")
    values = np.where(in_range, from_serial, stamps.to_numpy(dtype="datetime64[ns]"))
    missing = text.isin(MISSING_TOKENS).to_numpy()
    bad = ~missing & np.isnat(values)
    return (_spread(codes, values, np.datetime64("NaT", "ns"), s.index),
            _spread(codes, bad, False, s.index))


def parse_bool(s: pd.Series, *, true: Sequence[str] = (), false: Sequence[str] = ()) -> tuple[pd.Series, pd.Series]:
    """Parse yes/no answers.

    True: 是 有 是的 对 Y yes true T 1 √ ✓; False: 否 没有 无 不是 错 N no
    false F 0 × ✗ (after NFKC, case folding and removal of whitespace; ``1.0``
    and ``0.0`` count as 1 and 0).  ``true`` and ``false`` add tokens.  Here
    ``无`` means no, not missing.

    Returns
    -------
    values : pandas.Series
        dtype ``boolean``, ``pd.NA`` where missing or bad.
    bad : pandas.Series
        bool: present but neither a yes nor a no.
    """
    yes = _TRUE | {_key(t) for t in true}
    no = (_FALSE | {_key(t) for t in false}) - {_key(t) for t in true}
    codes, text = _distinct(s)
    text = text.str.replace(r"^([01])\.0*$", r"\1", regex=True)
    is_yes = text.isin(yes).to_numpy()
    is_no = text.isin(no).to_numpy() & ~is_yes
    missing = text.isin(MISSING_TOKENS - no).to_numpy()
    bad = ~(is_yes | is_no | missing)
    state = np.where(is_yes, 1, np.where(is_no, 0, -1)).astype("int8")
    spread = _spread(codes, state, -1, s.index)
    values = pd.Series(pd.array(spread == 1, dtype="boolean"), index=s.index).mask(spread.eq(-1))
    return values, _spread(codes, bad, False, s.index)


# --------------------------------------------------------------------- helpers


def _as_text(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.StringDtype):
        return s
    if s.dtype == object:
        return s.map(lambda v: v if v is None or isinstance(v, str) or pd.isna(v) else str(v)).astype("string")
    return s.astype("string")


def _key(value: str) -> str:
    """The comparison form of a token: NFKC, lower case, without whitespace."""
    return re.sub(_SPACE, "", unicodedata.normalize("NFKC", str(value)).lower())


def _canonical(text: pd.Series, space: str = "") -> pd.Series:
    """:func:`_key` of every value of a text column (whitespace runs become ``space``)."""
    return text.str.normalize("NFKC").str.lower().str.replace(_SPACE, space, regex=True).str.strip()


def _distinct(s: pd.Series, space: str = "") -> tuple[np.ndarray, pd.Series]:
    """Factor codes of ``s`` (-1 where missing) and its distinct values in comparison form."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes, _canonical(_as_text(pd.Series(uniques)), space)


def _extract(text: pd.Series, pattern: str, numeric: Sequence[str] = ()) -> pd.DataFrame:
    """Named groups of ``pattern`` (RE2) per value, NaN where absent or no match.

    pandas runs ``str.extract`` in Python even on pyarrow strings; pyarrow's
    ``extract_regex`` does it in C++.  Groups named in ``numeric`` (digits
    only by construction of the pattern) come back as float64.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.extract_regex(pa.array(text.array, type=pa.string()), pattern)
    if isinstance(found, pa.ChunkedArray):
        found = found.combine_chunks()
    groups = {}
    for field in found.type:
        values = found.field(field.name)
        values = pc.if_else(pc.equal(values, ""), None, values)
        if field.name in numeric:
            groups[field.name] = pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
        else:
            groups[field.name] = pd.Series(values.to_pandas(), dtype="string")
    return pd.DataFrame(groups)


def _to_float(text: pd.Series) -> np.ndarray:
    return pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _spread(codes: np.ndarray, values, fill, index: pd.Index) -> pd.Series:
    """Broadcast per-distinct-value results back to the rows; ``fill`` where missing."""
    values = np.asarray(values)
    table = np.append(values, np.asarray([fill], dtype=values.dtype))
    return pd.Series(table[codes], index=index)
