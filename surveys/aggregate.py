"""Record-level aggregation to sufficient statistics.

A census channel enters the evaluation only through sums and counts per
department: a ratio indicator is Σ numerator / Σ denominator, a mean
indicator Σ value / Σ present, and every 好差评 quality figure
(:func:`evaluation.quality.haocha_quality`) is a ratio of sums too.  Reducing
the records to one row per department and month that carries those sums
loses nothing the evaluation uses, and it is the only step whose cost grows
with the number of records.  The engine (:mod:`surveys.engine`) runs it on
each record batch of a Parquet table as the batch is validated (out of core,
on worker processes), and :func:`combine` adds the batches' statistics up;
the same reduction is one ``GROUP BY`` in SQL (:func:`sufficient_statistics_sql`),
so it can run on a database or cluster engine (DuckDB in the tests, Spark SQL
in ``benchmarks/spark.py``) while everything after it reads the small table.

The aggregated table has one row per ``department_id`` and ``month``
(``"YYYY-MM"`` of the table's date column) and the columns

- ``_count``: records;
- for every summed field ``f`` (:data:`SUMMED`): ``f``, the sum of ``f``
  over the records where it is present, and ``f__n``, the number of those
  records.

Evaluation tells the two forms apart by the ``_count`` column
(:func:`is_aggregated`) and computes every figure as Σ / Σ either way
(:func:`department_sums`), so results are identical.

A streamed table's duplicate keys are found by :class:`KeyBook`, which holds
only the keys that can repeat, so that the check stays exact without keeping
every key of tens of millions of records.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .schema import TABLES

__all__ = ["COUNT", "MONTH_SQL", "N_SUFFIX", "SUMMED", "KeyBook", "combine", "department_sums", "is_aggregated", "key_hash",
           "rating_terms", "sufficient_statistics", "sufficient_statistics_sql"]

COUNT = "_count"
N_SUFFIX = "__n"
#: Record terms of the 好差评 quality figures that are not fields of the table
#: (a good rating is level 4-5; an active rating is not a system default).
RATING_TERMS = ("good", "active_good")
#: Fields summed per aggregated table: every numeric field and derived field an
#: indicator or a quality figure may read, and the record terms.
SUMMED: dict[str, tuple[str, ...]] = {
    "ratings": ("level", "default_rating", "deadline_days", "callback_level", "is_bad", "rectified_on_time",
                "rectification_called_back", "rectification_satisfied", *RATING_TERMS),
}


def is_aggregated(df: pd.DataFrame) -> bool:
    """True for a table of sufficient statistics (it has a ``_count`` column)."""
    return COUNT in df.columns


def rating_terms(df: pd.DataFrame) -> pd.DataFrame:
    """Per 好差评 record: ``good`` (level 4-5) and ``active_good`` (good and not a system default).

    The definitions of GB/T 39734-2020: levels 4-5 are good; a record whose
    ``default_rating`` is missing counts as active.  Returns float 0/1
    columns on ``df``'s index.
    """
    good = (df["level"] >= 4).to_numpy(dtype=float)
    default = (df["default_rating"].fillna(0).to_numpy(dtype=float) if "default_rating" in df.columns
               else np.zeros(len(df)))
    return pd.DataFrame({"good": good, "active_good": good * (1.0 - default)}, index=df.index)


def sufficient_statistics(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Sums and counts of validated, derived records per department and month.

    Parameters
    ----------
    df : pandas.DataFrame
        Row-level records of canonical ``table`` after ingest (derived fields
        present).
    table : str
        A table of :data:`SUMMED`.

    Returns
    -------
    pandas.DataFrame
        ``department_id``, ``month`` (``"YYYY-MM"``, missing when the date
        is), ``_count``, and ``f`` / ``f__n`` for every ``f`` of
        ``SUMMED[table]`` (float64 sums; int64 counts); sorted by department
        and month.

    Notes
    -----
    ``f = Σ_r f_r [f_r present]`` and ``f__n = Σ_r [f_r present]`` over the
    records ``r`` of a department and month.  Sums of 0/1 and small integer
    fields are exact in float64, so the statistics of record batches added up
    (:func:`combine`) equal those of all records at once.
    """
    date = TABLES[table].date_column
    fields = SUMMED[table]
    terms = rating_terms(df) if table == "ratings" else pd.DataFrame(index=df.index)
    month = (df[date].to_numpy(dtype="datetime64[ns]").astype("datetime64[M]").astype("int64")
             if date in df.columns else np.full(len(df), _NO_MONTH))
    dept_codes, depts = pd.factorize(df["department_id"], use_na_sentinel=False)
    group, cell_month = _cells(dept_codes.astype(np.int64), month)
    count = np.bincount(group)
    cells = np.flatnonzero(count)
    out = {COUNT: count[cells].astype(np.int64)}
    for f in fields:
        source = terms[f] if f in terms.columns else df[f] if f in df.columns else None
        x = (np.full(len(df), np.nan) if source is None else
             pd.to_numeric(source, errors="coerce").to_numpy(dtype=float, na_value=np.nan))
        present = ~np.isnan(x)
        if present.all():
            out[f] = np.bincount(group, weights=x, minlength=len(count))[cells]
            out[f + N_SUFFIX] = out[COUNT]
        else:
            out[f] = np.bincount(group, weights=np.where(present, x, 0.0), minlength=len(count))[cells]
            out[f + N_SUFFIX] = np.bincount(group, weights=present, minlength=len(count))[cells].astype(np.int64)
    frame = pd.DataFrame(out)
    frame.insert(0, "department_id", np.asarray(depts, dtype=object)[cell_month[0][cells]])
    frame.insert(1, "_month", cell_month[1][cells])
    return _finish(frame)


def combine(parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Add up sufficient statistics (of record batches, files or workers) per department and month."""
    parts = [p for p in parts if p is not None and len(p)]
    if not parts:
        return pd.DataFrame(columns=["department_id", "month", COUNT])
    frame = pd.concat(parts, ignore_index=True)
    sums = frame.groupby(["department_id", "month"], sort=True, dropna=False).sum(numeric_only=True)
    out = sums.reset_index()
    for c in out.columns:
        if c == COUNT or c.endswith(N_SUFFIX):
            out[c] = out[c].astype(np.int64)
    return out


def department_sums(df: pd.DataFrame, fields: Sequence[str]) -> pd.DataFrame:
    """Per department: Σ of each field, records where it is present, and records.

    Accepts row-level records or their sufficient statistics (same result).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``department_id`` (sorted); columns ``f`` (sum, NaN when
        no record has ``f``; the ``min_count=1`` rule), ``f__n`` and
        ``_count``.
    """
    if is_aggregated(df):
        cols = [c for f in fields for c in (f, f + N_SUFFIX)] + [COUNT]
        out = df.groupby("department_id", sort=True)[cols].sum()
    else:
        g = df.groupby("department_id", sort=True)
        out = pd.DataFrame({COUNT: g.size()})
        for f in fields:
            out[f] = g[f].sum()
            out[f + N_SUFFIX] = g[f].count()
        out = out[[c for f in fields for c in (f, f + N_SUFFIX)] + [COUNT]]
    for f in fields:
        out[f] = out[f].astype(float).where(out[f + N_SUFFIX] > 0)
    return out


#: the month of a timestamp column in each SQL dialect (the only expression the dialects spell differently)
MONTH_SQL = {"duckdb": "strftime({date}, '%Y-%m')", "spark": "date_format({date}, 'yyyy-MM')",
             "trino": "format_datetime({date}, 'yyyy-MM')"}


def sufficient_statistics_sql(table: str = "ratings", source: str | None = None, dialect: str = "duckdb") -> str:
    """The aggregation of :func:`sufficient_statistics` as one SQL query.

    ``source`` names the relation of validated, derived records (default the
    table's name).  Written in the SQL that DuckDB, Spark SQL and Trino
    share, except the month (:data:`MONTH_SQL`, chosen by ``dialect``).
    ``good`` and ``active_good`` are written as their record definitions; a
    sum over no present value is 0, as in :func:`sufficient_statistics`
    (SQL's ``SUM`` would give NULL).  ``tests/test_scale.py`` runs it on
    DuckDB and ``benchmarks/spark.py`` on Spark SQL; both give the statistics
    of :func:`sufficient_statistics` exactly.
    """
    date = TABLES[table].date_column
    expr = {"good": "CASE WHEN level >= 4 THEN 1.0 ELSE 0.0 END",
            "active_good": "CASE WHEN level >= 4 THEN 1.0 - COALESCE(default_rating, 0) ELSE 0.0 END"}
    month = MONTH_SQL[dialect].format(date=date)
    lines = ["SELECT department_id", f"     , {month} AS month", f"     , COUNT(*) AS {COUNT}"]
    for f in SUMMED[table]:
        e = expr.get(f, f)
        lines.append(f"     , COALESCE(SUM({e}), 0) AS {f}, COUNT({'*' if f in expr else f}) AS {f}{N_SUFFIX}")
    lines += [f"FROM {source or table}", "GROUP BY 1, 2"]
    return "\n".join(lines)


_NO_MONTH = np.iinfo("int64").min


def _cells(dept: np.ndarray, month: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Cell number of each record on the department x month grid, and each cell's (department code, month).

    The grid is dense over the months present (a year of records: 12 per
    department), so the sums are ``np.bincount`` without sorting; months
    spread over centuries (dates that no screen removed) fall back to the
    distinct pairs.
    """
    known = month != _NO_MONTH
    lo = int(month[known].min()) if known.any() else 0
    span = int(month[known].max()) - lo + 1 if known.any() else 0
    n_dept = int(dept.max()) + 1 if len(dept) else 0
    if n_dept * (span + 1) <= max(4 * len(dept), 1 << 16):
        slot = np.where(known, month - lo, span)
        grid = np.arange(n_dept * (span + 1))
        months = np.where(grid % (span + 1) == span, _NO_MONTH, lo + grid % (span + 1))
        return dept * (span + 1) + slot, (grid // (span + 1), months)
    pairs, group = np.unique(np.stack([dept, month]), axis=1, return_inverse=True)
    return group.ravel(), (pairs[0], pairs[1])


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    month = frame.pop("_month").to_numpy()
    known = month != _NO_MONTH
    text = np.full(len(month), None, dtype=object)
    text[known] = pd.to_datetime(month[known].astype("datetime64[M]")).strftime("%Y-%m").to_numpy()
    frame.insert(1, "month", text)
    return frame.sort_values(["department_id", "month"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------- keys of streamed records


class KeyBook:
    """Duplicate keys of a streamed table, found exactly while holding only keys that can repeat.

    A first pass hashes the key's id columns of every record of the table
    and keeps the hashes that occur more than once (8 bytes a record while
    it runs, sorted in place; then only the repeated ones).  A record whose
    hash occurs once cannot share its key with another; the records whose
    hash repeats are compared by their actual keys, in file order, as
    ``DataFrame.duplicated(keep="first")`` within a file and the cross-file
    rule of :func:`surveys.ingest._drop_duplicate_keys` would.
    ``repeated``: the sorted repeated hashes (None: nothing hashed, every key
    is compared); ``columns``: the key columns hashed.
    """

    def __init__(self, repeated: np.ndarray | None, columns: list[str]):
        self.repeated, self.columns = repeated, columns
        if repeated is not None:
            # Low bits of the repeated hashes: most records are ruled out by one look-up.
            self.bits = np.zeros(_LOW + 1, dtype=bool)
            self.bits[(repeated & np.uint64(_LOW)).astype(np.int64)] = True
        self.first_file: dict = {}
        self.in_file: set = set()
        self._last: tuple = (np.zeros(0, dtype=np.int64), [])

    @classmethod
    def from_frames(cls, columns: list[str], frames: Iterable[pd.DataFrame], n_rows: int) -> KeyBook:
        """The book of a table whose records' ``columns`` (text) come in ``frames``, ``n_rows`` in all."""
        if not columns:
            return cls(None, [])
        hashes = np.empty(n_rows, dtype=np.uint64)
        at = 0
        for frame in frames:
            hashes[at:at + len(frame)] = key_hash(frame, columns)
            at += len(frame)
        hashes = hashes[:at]
        hashes.sort()
        return cls(np.unique(hashes[1:][hashes[1:] == hashes[:-1]]), columns)

    def start_file(self) -> None:
        self.in_file = set()

    def repeated_rows(self, keys: pd.DataFrame) -> np.ndarray:
        """Rows whose key an earlier row of the same file has (every row of the file counts)."""
        if self.repeated is None:
            maybe = np.ones(len(keys), dtype=bool)
        else:
            h = key_hash(keys, self.columns)
            maybe = self.bits[(h & np.uint64(_LOW)).astype(np.int64)]
            near = np.flatnonzero(maybe)
            if len(near):
                spot = np.minimum(np.searchsorted(self.repeated, h[near]), len(self.repeated) - 1)
                maybe[near] = self.repeated[spot] == h[near]
        idx = np.flatnonzero(maybe)
        values = [tuple(None if pd.isna(v) else v for v in row)
                  for row in keys.iloc[idx].itertuples(index=False, name=None)]
        out = np.zeros(len(keys), dtype=bool)
        for i, key in zip(idx, values):
            if key in self.in_file:
                out[i] = True
            else:
                self.in_file.add(key)
        self._last = (idx, values)
        return out

    def across(self, keys: pd.DataFrame, ok: np.ndarray, label: str) -> tuple[np.ndarray, dict]:
        """Used rows (``ok``) whose key an earlier file used, and that file's label by row."""
        out, kept = np.zeros(len(keys), dtype=bool), {}
        for i, key in zip(*self._last):
            if ok[i]:
                first = self.first_file.setdefault(key, label)
                if first != label:
                    out[i], kept[i] = True, first
        return out, kept


_LOW = (1 << 22) - 1
_WORD_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype=np.uint64)


def key_hash(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """A 64-bit hash of the stripped text of ``columns`` per row; equal keys give equal hashes."""
    h = np.zeros(len(frame), dtype=np.uint64)
    for c in columns:
        h = _mix(h * np.uint64(0x100000001B3) + _text_hash(frame[c].astype("string").str.strip()))
    return h


def _text_hash(text: pd.Series) -> np.ndarray:
    """64-bit hash of each text (missing: a fixed value), eight bytes at a time from the Arrow buffers."""
    import pyarrow as pa

    arr = pa.array(text.array)
    arr = (arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr).cast(pa.large_string())
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    _, offsets, data = arr.buffers()
    offs = np.frombuffer(offsets, dtype=np.int64, count=n + 1, offset=arr.offset * 8)
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    padded = np.zeros(len(raw) + 8, dtype=np.uint8)
    padded[:len(raw)] = raw
    # Eight bytes starting at every byte: an overlapping view, read unaligned.
    words = np.ndarray((len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))
    lengths = np.diff(offs)
    at = offs[:-1].copy()
    h = lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    for k in range((int(lengths.max()) + 7) // 8):
        h ^= words[np.minimum(at, len(words) - 1)] & _WORD_MASKS[np.clip(lengths - 8 * k, 0, 8)]
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(29)
        at += 8
    return np.where(text.isna().to_numpy(), np.uint64(0x5851F42D4C957F2D), _mix(h))


def _mix(h: np.ndarray) -> np.ndarray:
    """The 64-bit finaliser of MurmurHash3 (wrapping arithmetic)."""
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))
