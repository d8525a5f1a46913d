"""Load one evaluation year: read every input, validate it, and keep the books.

:func:`load_year` reads each input file of the project for a year, maps its
columns onto the canonical table, parses every value, and sorts every row
into *used* or *quarantined* (with a reason code) in a :class:`Ledger`.
Structural problems (unreadable file, missing required column, a department
column that matches the register for hardly any row, a design column the
table does not have, ...) are collected over all files and raised together
as one :class:`DataValidationError`, with the rows that plausibility rules in
``stop`` mode found (:mod:`surveys.plausibility`).

Phone numbers are hashed and masked here, at the door (:mod:`surveys.privacy`).
"""

from __future__ import annotations

import unicodedata
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import aggregate, derive, engine, plausibility, screens
from .errors import DataValidationError, MinpingWarning, Problem
from .framework import Framework
from .ledger import Ledger
from .normalize import parse_codes, parse_dates, parse_numbers
from .privacy import hash_phone, mask_phone, scrub_text
from .project import InputSpec, Project
from .grid import RawTable, ReadLimits, arrow_text, text_column
from .readers import PARQUET_SUFFIXES, read_table
from .keys import did_you_mean
from .schema import ChannelData, TableSpec

#: share of rows whose department must match the register, below which the column is a structural problem
MIN_DEPARTMENT_MATCH = 0.5
#: tables reduced to sufficient statistics (:mod:`surveys.aggregate`) while streamed from Parquet
STREAMED_TABLES = ("ratings",)
#: records per batch of a streamed table
BATCH_ROWS = 1 << 19
#: keys of [inputs.design] that name a column of the table
DESIGN_COLUMNS = ("weights", "strata", "cluster", "fpc")


@dataclass
class YearInput:
    """Everything loaded for one year: the validated tables and the books."""

    data: ChannelData
    ledger: Ledger
    files: list[dict] = field(default_factory=list)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return self.data.tables


def load_year(project: Project, framework: Framework, year: int, *, stream: bool = True,
              batch_rows: int = BATCH_ROWS, limits: ReadLimits | None = None) -> YearInput:
    """Read, validate and derive every input table of ``year``.

    ``limits`` bounds what reading each file may cost
    (:class:`~surveys.readers.ReadLimits`; the documented defaults when None).

    With ``stream``, a table whose inputs are all Parquet goes through the
    engine (:mod:`surveys.engine`): read in record batches of ``batch_rows``
    records, each batch passing the same per-row rules, on worker processes
    for a large 好差评 table.  A table of :data:`surveys.aggregate.SUMMED` is
    derived and reduced to sufficient statistics batch by batch, so memory
    does not grow with its records; it is then the aggregate (one row per
    department and month, with ``_count``), which evaluation accepts in place
    of the records.  The ledger is the same as without streaming.
    """
    if year not in project.years:
        raise DataValidationError(f"{year} is not a year of the project", [Problem(
            f"year {year}", file=str(project.path), code="unknown_year",
            fix=f"use one of {list(project.years)}, or add {year} to [project] years with its [[inputs]]")])
    absent = [s for s in project.inputs_for(year) if not s.path.is_file()]
    if absent:
        raise DataValidationError(f"The input files of {year} are not there", [Problem(
            "input file not found", file=str(s.path), code="input_missing",
            fix="put the file there, or correct its path in project.toml (relative to the project file)")
            for s in absent])
    if not project.inputs_for(year):
        raise DataValidationError(f"No input files for {year}", [Problem(
            f"project.toml lists no [[inputs]] for {year}", file=str(project.path), code="no_inputs",
            fix=f"add [[inputs]] entries with year = {year}, one per file")])
    ledger = Ledger()
    problems: list[Problem] = []
    checker = plausibility.Checker(framework.plausibility, ledger,
                                   {project.label(s.path): str(s.path) for s in project.inputs_for(year)})
    failed: set[str] = set()  # tables with a file that could not be used
    parts: dict[str, list[pd.DataFrame]] = {}
    designs: dict[str, dict] = {}
    files = []
    # Both sides in NFKC: a register name with full-width brackets must match the same name typed half-width.
    lookup = {_norm_header(k): v for k, v in framework.name_lookup().items()}
    period = project.periods.get(year)
    specs = project.inputs_for(year)
    streamed = {t for t in {s.table for s in specs} if stream and
                {s.path.suffix.lower() in PARQUET_SUFFIXES for s in specs if s.table == t} == {True}}
    # Parquet tables go through the engine (surveys.engine); the large reduced ones start now, on the other cores
    rules = engine.Rules(_check_rows, _Tally, _column_targets, _map_columns, _parquet_file, _read_ahead)
    jobs = engine.begin(rules, specs, streamed, [project.label(s.path) for s in specs], framework, lookup, year,
                        period, project.salt, checker.paths, batch_rows=batch_rows)
    aggregated: dict[str, pd.DataFrame | None] = {}
    for spec in specs:
        if spec.table in streamed:
            if spec.table not in aggregated:
                try:
                    aggregated[spec.table] = jobs[spec.table].settle(ledger, problems, checker)
                except DataValidationError as exc:
                    problems.extend(exc.problems or [Problem(exc.summary, file=str(spec.path))])
                    aggregated[spec.table] = None
                if aggregated[spec.table] is None:
                    failed.add(spec.table)
                elif not aggregate.is_aggregated(aggregated[spec.table]):
                    parts[spec.table] = [aggregated[spec.table]]   # used rows, checked like a file's
            if aggregated[spec.table] is not None:
                files.append({"year": year, "table": spec.table, "path": str(spec.path)})
                if spec.design:
                    designs[spec.table] = dict(spec.design)
            continue
        try:
            df = _load_file(spec, framework, lookup, year, period, ledger, problems, project.salt,
                            label=project.label(spec.path), limits=limits, checker=checker)
        except DataValidationError as exc:
            problems.extend(exc.problems or [Problem(exc.summary, file=str(spec.path))])
            failed.add(spec.table)
            continue
        if df is None:
            failed.add(spec.table)
            continue
        files.append({"year": year, "table": spec.table, "path": str(spec.path)})
        parts.setdefault(spec.table, []).append(df)
        if spec.design:
            designs[spec.table] = dict(spec.design)
    tables = {}
    for name, dfs in parts.items():
        df = pd.concat(dfs, ignore_index=True) if len(dfs) > 1 else dfs[0]
        if len(dfs) > 1:
            df = _drop_duplicate_keys(df, framework.tables[name], ledger)
        tables[name] = df
    tables = checker.check_tables(tables, designs, skip=failed)
    problems += checker.problems()
    if problems:
        raise DataValidationError(f"The inputs for {year} cannot be used", problems)
    tables = screens.apply(tables, framework, ledger)
    tables = derive.derive_all(tables, checklist=framework.item_ids("visits", kind="checklist"))
    for name, df in tables.items():
        tables[name] = df.drop(columns=["_file", "_row", "_dept_text"], errors="ignore")
    tables.update({t: df for t, df in aggregated.items() if df is not None and aggregate.is_aggregated(df)})
    return YearInput(ChannelData(year, tables, designs, flags=ledger.flags_frame()), ledger, files)


# ---------------------------------------------------------------------------


def _norm_header(name: str) -> str:
    return unicodedata.normalize("NFKC", str(name)).strip()


def _map_columns(raw: pd.DataFrame, spec: InputSpec, table: TableSpec, problems: list[Problem]) -> pd.DataFrame:
    """Rename the file's columns to canonical names (mapping, canonical name, or template header)."""
    for src, canon in spec.columns.items():
        if canon not in table.names:
            problems.append(Problem(
                f"[inputs.columns] maps '{src}' to '{canon}', which table '{table.name}' does not have",
                file=str(spec.path), column=src, code="unknown_column_target",
                fix=did_you_mean(canon, table.names) + f"map it to one of {list(table.names)}, declare '{canon}' as "
                    f"an [[items]] entry of table '{table.name}' in the framework, or remove the mapping"))
    rename = _column_targets(raw.columns, spec, table)
    # columns the sampling design or the calibration names are kept even when they are not canonical
    extra = [c for c in spec.design_columns() if c in raw.columns and c not in rename and c not in table.names]
    ignored = [c for c in raw.columns if c not in rename and c not in extra]
    if ignored:
        # Not an error: field files often carry interviewer or note columns.  Named,
        # so that a column the mapping forgot is not dropped unnoticed.
        warnings.warn(f"{spec.path}: column(s) {', '.join(map(repr, ignored))} match no column of table "
                      f"'{table.name}' and are ignored; if one holds a canonical column, map it under "
                      f"[inputs.columns] in project.toml", MinpingWarning, stacklevel=4)
    df = raw.rename(columns=rename)
    df = df[[c for c in df.columns if c in table.names or c in extra]]
    seen = df.columns[df.columns.duplicated()].tolist()
    for c in seen:
        problems.append(Problem(f"two file columns map to '{c}'", file=str(spec.path), column=c,
                                fix="map only one column to each canonical name in project.toml"))
    missing = [c for c in table.required if c not in df.columns]
    for c in missing:
        col = table.column(c)
        problems.append(Problem(
            f"required column '{c}' ({col.zh}) is missing", file=str(spec.path), column=c,
            fix=f"add the column, or map the file's column to '{c}' under [inputs.columns] in project.toml"))
    for role in DESIGN_COLUMNS:
        value = spec.design.get(role)
        for name in ([value] if isinstance(value, str) else list(value or ())):
            if name in df.columns:
                continue
            # Without this, the design would silently fall back to its default (e.g. equal weights).
            have = [c.name for c in table.columns if c.kind in ("number", "text", "id")]
            problems.append(Problem(
                f"[inputs.design] names '{name}' as {role}, but the file has no column '{name}' after mapping",
                file=str(spec.path), column=name, code="design_column_missing",
                fix=f"map the file's {role} column to one of table '{table.name}''s columns ({', '.join(have)}) "
                    f"under [inputs.columns] and name that column in [inputs.design], or remove {role} from "
                    "[inputs.design]"))
    return df.loc[:, ~df.columns.duplicated()]


def _load_file(spec, framework, lookup, year, period, ledger: Ledger, problems, salt, *, label: str,
               checker: plausibility.Checker, limits: ReadLimits | None = None):
    table = framework.tables[spec.table]
    raw = _read(spec, table, limits)
    n_before = len(problems)
    df = _map_columns(raw.frame, spec, table, problems)
    if len(problems) > n_before:
        return None
    used = _check_rows(df, raw.source_rows, spec, framework, lookup, year, period, ledger, problems, salt,
                       label=label, checker=checker)
    if used is not None:
        ledger.count(file=label, table=spec.table, rows_in=len(df), rows_used=len(used), blank_rows=raw.blank_rows)
    return used


def _check_rows(df, source_rows, spec, framework, lookup, year, period, ledger: Ledger, problems, salt, *,
                label: str, checker: plausibility.Checker, keys: aggregate.KeyBook | None = None,
                tally: _Tally | None = None, columns=None):
    """The per-row rules of one file (or one record batch of it): parse, quarantine, return the used rows.

    Every value is parsed; a row that breaks a rule is quarantined in the
    ledger with the first reason found.  The plausibility row rules
    (:mod:`surveys.plausibility`) run on the rows still in use after the
    parsing rules and the period screen, before duplicate keys; ``checker``
    settles them and collects what stops the year.  ``keys`` and ``tally`` carry what a
    streamed file's batches share (repeated keys, the department match);
    without them the file is checked whole.  ``columns``: only these of the
    used rows are returned.  None when the department column is a structural
    problem.
    """
    table = framework.tables[spec.table]
    fname = label
    stamps: dict[str, pd.Series] = {}  # date and month columns as timestamps, for the plausibility rules
    df["_file"] = fname
    df["_row"] = np.asarray(source_rows)
    marks = _Marks(len(df))
    mark = marks.mark

    # department (parsed once per distinct text)
    codes, uniques = pd.factorize(_text(df["department_id"]))
    norm = np.array([unicodedata.normalize("NFKC", v).strip() for v in uniques], dtype=object)
    ids = np.array([lookup.get(v) for v in norm], dtype=object)
    active = {d.id for d in framework.departments if d.active(year)}
    nonblank = _spread(codes, norm != "", False)
    known = _spread(codes, ~pd.isna(ids), False)

    def dept_text(idx):
        return norm[codes[idx]]

    df["_dept_text"] = df["department_id"]
    unmatched = list(dict.fromkeys(norm[(norm != "") & pd.isna(ids)]))
    if tally is not None:
        tally.add(int(nonblank.sum()), int(known.sum()), unmatched)
    elif nonblank.sum() and known.sum() < MIN_DEPARTMENT_MATCH * nonblank.sum():
        problems.append(_match_problem(spec, int(known.sum()), int(nonblank.sum()), unmatched))
        return None
    mark(~nonblank, "missing_required", "部门/department")
    mark(nonblank & ~known, "unknown_department", dept_text)
    mark(known & ~_spread(codes, np.array([v in active for v in ids], dtype=bool), False),
         "department_not_active", dept_text)
    df["department_id"] = _take(ids, codes, "str", df.index)

    for col in table.columns:
        if col.name not in df.columns or col.name == "department_id":
            continue
        s = df[col.name]
        # Typed columns (numbers, timestamps from Parquet) are never blank text; text is stripped once.
        text = _text(s)
        blank = (s.isna() if text is None else text.isna() | (text == "")).to_numpy()
        cell = _cells(s, text, col.name)
        if col.required:
            mark(blank, "missing_required", col.name)
        if col.kind in ("number", "count"):
            values, bad = parse_numbers(s)
            mark(bad, "not_a_number", cell)
            df[col.name] = values
        elif col.kind == "code":
            scale = framework.scales[col.scale]
            values, bad, _na = parse_codes(s, scale.labels, scale.codes, scale.na_codes)
            mark(bad, "code_out_of_range", cell)
            df[col.name] = values
        elif col.kind == "date":
            values, bad = parse_dates(s)
            mark(bad, "bad_date", cell)
            df[col.name] = stamps[col.name] = values
        elif col.kind == "month":
            values, bad = parse_dates(text.where(~text.str.fullmatch(r"\d{4}\D\d{1,2}\D?", na=False),
                                                 text.str.replace(r"\D", "-", regex=True).str.rstrip("-") + "-01"))
            mark(bad, "bad_date", cell)
            stamps[col.name] = values
            df[col.name] = _per_distinct(values, lambda u: u.dt.strftime("%Y-%m").astype("string"))
        elif col.kind == "category":
            labels = dict(col.labels)
            canon = set(labels.values())
            kcodes, kinds = pd.factorize(text)
            mapped = np.array([labels.get(v, v if v in canon else None)
                               for v in (unicodedata.normalize("NFKC", k).strip() for k in kinds)], dtype=object)
            mark(~blank & pd.isna(_spread(kcodes, mapped, None)), "bad_category", cell)
            if col.name == "default_rating":
                number = pd.to_numeric(pd.Series(mapped, dtype=object), errors="coerce").to_numpy(dtype=float)
                df[col.name] = _spread(kcodes, number, np.nan)
            else:
                df[col.name] = _take(mapped, kcodes, "string", df.index)
        elif col.kind == "phone":
            df["phone_hash"] = hash_phone(s, salt)
            df["phone_masked"] = mask_phone(s)
            df = df.drop(columns=[col.name])
        elif col.kind == "text":
            df[col.name] = _per_distinct(text, scrub_text)
        elif col.kind == "id":
            df[col.name] = text

    # numeric design columns kept from the file (weights, fpc of a stage) are parsed like numbers
    for name in _numeric_design_columns(spec, table, df):
        values, bad = parse_numbers(df[name])
        mark(bad, "not_a_number", _cells(df[name], _text(df[name]), name))
        df[name] = values

    # outside the evaluation period (a screen: quarantine, flag or off)
    if table.date_column and table.date_column in df.columns and period is not None:
        mode = framework.screens.outside_period
        d = df[table.date_column]
        outside = d.notna() & ((d < pd.Timestamp(period[0])) | (d >= pd.Timestamp(period[1]) + pd.Timedelta(days=1)))

        def shown(idx):
            return (table.date_column + "=" + d.iloc[idx].dt.strftime("%Y-%m-%d").fillna("")).tolist()
        if mode == "quarantine":
            mark(outside.to_numpy(), "outside_period", shown)
        elif mode == "flag" and (idx := np.flatnonzero(outside.to_numpy() & marks.ok())).size:
            # kept, and said so: the department is flagged with the first example
            depts = df["department_id"].to_numpy()[idx]
            first = {dept: k for k, dept in reversed(list(enumerate(depts)))}
            texts = shown(idx[list(first.values())])
            ledger.flag_rows(table=spec.table, code="outside_period", departments=depts,
                             examples={dept: f"{fname} row {df['_row'].iloc[idx[k]]}: {t}"
                                       for (dept, k), t in zip(first.items(), texts, strict=True)})

    # values that parse but cannot be true: stopped, quarantined or flagged as the framework says
    checker.check_rows(df, table, spec.design, period, stamps, ok=marks.ok, quarantine=mark)

    # duplicate keys within the file (first kept); across files when streamed
    key = [k for k in table.key if k in df.columns]
    if key:
        first = keys.repeated_rows(df[key]) if keys is not None else df[key].duplicated(keep="first").to_numpy()
        mark(first & marks.ok(), "duplicate_id", lambda idx: df[key[0]].iloc[idx].astype("string").fillna("").tolist())
        if keys is not None:
            later, kept = keys.across(df[key], marks.ok(), fname)
            mark(later, "duplicate_id", lambda idx: [f"{kept[i]}:{v}" for i, v in zip(idx, df[key[0]].iloc[idx])])

    rows = df["_row"].to_numpy()
    for code, idx, detail in marks.by_code():
        ledger.quarantine(file=fname, table=spec.table, source_rows=rows[idx].tolist(),
                          departments=df["_dept_text"].iloc[idx].tolist(), code=code, detail=detail)
    ok = marks.ok()
    return df.loc[ok, columns if columns is not None else df.columns].reset_index(drop=True)


def _numeric_design_columns(spec, table, df) -> list[str]:
    names = [spec.design.get("weights")]
    fpc = spec.design.get("fpc")
    names += [fpc] if isinstance(fpc, str) else list(fpc or ())
    return [c for c in names if c and c in df.columns and c not in table.names]


class _Marks:
    """The first reason each row breaks, with its detail; details are built only for the rows marked."""

    def __init__(self, n: int):
        self.reason = np.zeros(n, dtype=np.int16)
        self.found: list[tuple[str, np.ndarray, list]] = []

    def ok(self) -> np.ndarray:
        return self.reason == 0

    def mark(self, mask, code: str, detail) -> None:
        """Mark rows of ``mask`` not marked yet; ``detail`` is a text or a function of their positions."""
        idx = np.flatnonzero(np.asarray(mask, dtype=bool) & (self.reason == 0))
        if not len(idx):
            return
        self.found.append((code, idx, list(detail(idx)) if callable(detail) else [detail] * len(idx)))
        self.reason[idx] = len(self.found)

    def by_code(self):
        """(code, positions, details) per reason code, codes in sorted order and positions ascending."""
        for code in sorted({c for c, _, _ in self.found}):
            parts = [(i, d) for c, i, d in self.found if c == code]
            idx = np.concatenate([i for i, _ in parts])
            detail = [x for _, d in parts for x in d]
            order = np.argsort(idx, kind="stable")
            yield code, idx[order], [detail[k] for k in order]


def _spread(codes: np.ndarray, values: np.ndarray, fill) -> np.ndarray:
    """Per-distinct ``values`` broadcast to rows by factor ``codes`` (``fill`` where the code is -1)."""
    return np.append(values, np.array([fill], dtype=values.dtype))[codes]


def _take(values: np.ndarray, codes: np.ndarray, dtype: str, index: pd.Index) -> pd.Series:
    """A text column from per-distinct ``values`` (None = missing) and factor ``codes`` (-1 = missing)."""
    return pd.Series(pd.array(list(values) + [None], dtype=dtype).take(np.where(codes < 0, len(values), codes)),
                     index=index)


def _per_distinct(s: pd.Series, fn) -> pd.Series:
    """``fn`` applied to the distinct values of ``s`` only, broadcast back (missing stays missing)."""
    codes, uniques = pd.factorize(s)
    out = fn(pd.Series(uniques, dtype=s.dtype))
    return pd.Series(out.array.take(codes, allow_fill=True), index=s.index)


def _text(s: pd.Series) -> pd.Series | None:
    """The stripped text of a text column (categorical when it came so, :func:`_typed_frame`); None for
    typed numbers and timestamps."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        stripped = s.cat.categories.str.strip()
        if stripped.is_unique and (stripped != "").all():
            return s.cat.rename_categories(stripped)
    if isinstance(s.dtype, pd.StringDtype) or s.dtype == object:
        return s.astype("string").str.strip()
    return None


def _cells(s: pd.Series, text: pd.Series | None, name: str):
    """Detail of a bad cell, ``name=<cell as the reader shows it>``, for the given positions."""
    def detail(idx):
        if text is not None:
            return (name + "=" + text.iloc[idx].astype("string").fillna("")).tolist()
        import pyarrow as pa

        shown = arrow_text(pa.array(s.iloc[idx].to_numpy(), from_pandas=True))
        return [name + "=" + ("" if v is None else v) for v in shown.to_pylist()]
    return detail


def _match_problem(spec, known: int, nonblank: int, unmatched: list) -> Problem:
    examples = ", ".join(repr(x) for x in unmatched[:5])
    return Problem(
        f"only {known} of {nonblank} rows name a department in the register (e.g. {examples})",
        file=str(spec.path), column="department_id",
        fix="map the right column to department_id, or add the names as aliases in the framework's register")


def _drop_duplicate_keys(df: pd.DataFrame, table: TableSpec, ledger: Ledger) -> pd.DataFrame:
    """Across several files of one table, keep the first occurrence of each key."""
    key = [k for k in table.key if k in df.columns]
    if not key:
        return df
    dup = df[key].duplicated(keep="first")
    if dup.any():
        q = df.loc[dup]
        # Each row is listed under its own file (a row number means nothing
        # without it); the detail names the file whose row was kept.
        kept = df.loc[~dup, [*key, "_file"]].drop_duplicates(key)
        first = q[key].merge(kept, on=key, how="left")["_file"].to_numpy()
        detail = pd.Series(first, index=q.index).astype(str) + ":" + q[key[0]].astype(str)
        for fname, grp in q.groupby("_file", sort=False):
            ledger.quarantine(file=fname, table=table.name, source_rows=grp["_row"].tolist(),
                              departments=grp["_dept_text"].tolist(), code="duplicate_id",
                              detail=detail[grp.index].tolist())
        for fname, n in q.groupby("_file").size().items():
            for rec in ledger.counts:
                if rec["file"] == fname and rec["table"] == table.name:
                    rec["rows_used"] -= int(n)
                    rec["rows_quarantined"] += int(n)
    return df.loc[~dup].reset_index(drop=True)


# --------------------------------------------------------------- Parquet, typed and streamed


def _column_targets(columns, spec: InputSpec, table: TableSpec) -> dict:
    """File column -> canonical name (by the project's mapping, the canonical name, or a header the framework
    gives the column: its Chinese name, English name or an alias)."""
    mapping = {_norm_header(k): v for k, v in spec.columns.items()}
    by_zh = {_norm_header(h): c.name for c in table.columns for h in (c.zh, c.en, *c.aliases) if h}
    rename = {}
    for col in columns:
        key = _norm_header(col)
        target = mapping.get(key) or (key if key in table.names else None) or by_zh.get(key)
        if target:
            rename[col] = target
    return rename


def _read(spec: InputSpec, table: TableSpec, limits: ReadLimits | None = None) -> RawTable:
    """The file's cells as :func:`~surveys.readers.read_table` gives them, except Parquet numbers and timestamps.

    A Parquet column that maps to a number, count or code column and holds
    numbers, or to a date column and holds timestamps or dates, stays typed:
    parsing its text again would cost more than reading it, and gives the
    same values.  Every other Parquet column is the reader's text.
    """
    if spec.path.suffix.lower() not in PARQUET_SUFFIXES:
        return read_table(spec.path, sheet=spec.sheet, header_rows=spec.header_rows, delimiter=spec.delimiter,
                          encoding=spec.encoding, limits=limits)
    pf = _parquet_file(spec.path)
    names = [str(n).strip() for n in pf.schema_arrow.names]
    kinds = {n: table.column(c).kind for n, c in _column_targets(names, spec, table).items()}
    frame = _typed_frame(pf.read(), kinds)
    return RawTable(frame, spec.path, np.arange(2, len(frame) + 2, dtype=np.int64), None, None, 0)


def _parquet_file(path):
    """An open Parquet file whose columns are table cells; else the reader's structural problem is raised."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # Read page by page: pre-buffering would hold every requested column chunk of the file at once.
        pf = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 22)
        names = [str(n).strip() for n in pf.schema_arrow.names]
        sound = (len(set(names)) == len(names) and pf.metadata.num_rows > 0
                 and all(arrow_text(pa.array([], type=f.type)) is not None for f in pf.schema_arrow))
    except (pa.ArrowException, OSError, ValueError):
        sound = False
    if not sound:
        read_table(path)  # names the problem, with its fix
        raise DataValidationError(f"cannot read {path}", [Problem(
            "the Parquet file cannot be read in record batches", file=str(path), code="corrupt_file",
            fix="export the table again")])
    return pf


def _typed_frame(data, kinds: dict[str, str]) -> pd.DataFrame:
    """A Parquet table or record batch as rows to check (typing rule in :func:`_read`)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = {}
    for name, column in zip(data.schema.names, data.columns):
        name = str(name).strip()
        kind, kind_of = kinds.get(name), column.type
        if kind in ("number", "count", "code") and (pa.types.is_integer(kind_of) or pa.types.is_floating(kind_of)):
            columns[name] = pd.Series(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False))
            continue
        if kind == "date" and (pa.types.is_timestamp(kind_of) or pa.types.is_date(kind_of)):
            try:
                stamps = column.cast(pa.timestamp("ms")) if pa.types.is_date(kind_of) else column
                stamps = pd.Series(stamps.to_pandas())
                if stamps.dt.tz is not None:
                    stamps = stamps.dt.tz_localize(None)  # wall-clock time, as the text reader keeps it
                columns[name] = stamps.astype("datetime64[ns]")
                continue
            except (pd.errors.OutOfBoundsDatetime, OverflowError, pa.ArrowInvalid):
                pass  # outside the nanosecond range: as text, where it is a bad date
        if kind in ("department", "category") and pa.types.is_dictionary(kind_of):
            # Few distinct names over many records: clean the dictionary, keep the codes.
            column = column.unify_dictionaries().combine_chunks() if isinstance(column, pa.ChunkedArray) else column
            values = text_column(arrow_text(column.dictionary))
            if values.notna().all() and values.is_unique:
                codes = pc.fill_null(column.indices, -1).to_numpy(zero_copy_only=False)
                columns[name] = pd.Series(pd.Categorical.from_codes(codes, categories=values.astype(object)))
                continue
        columns[name] = text_column(arrow_text(column))
    return pd.DataFrame(columns)


def _stream_table(specs, labels, framework, lookup, year, period, ledger: Ledger, problems, salt,
                  batch_rows: int, checker: plausibility.Checker) -> pd.DataFrame | None:
    """Check a table's Parquet files record batch by record batch and reduce them to sufficient statistics.

    Each batch passes :func:`_check_rows` (the rules of an in-memory file),
    is derived (:mod:`surveys.derive`) and reduced by
    :func:`surveys.aggregate.sufficient_statistics`; the statistics are added
    up as they come.  Duplicate keys within and across the files are found
    exactly (:class:`_KeyBook`); the department-match check counts over the
    whole file.  None when a file has a structural problem.
    """
    table = framework.tables[specs[0].table]
    n_before = len(problems)
    sources = []
    for spec, label in zip(specs, labels):
        try:
            pf = _parquet_file(spec.path)
        except DataValidationError as exc:
            problems.extend(exc.problems or [Problem(exc.summary, file=str(spec.path))])
            continue
        names = [str(n).strip() for n in pf.schema_arrow.names]
        k = len(problems)
        _map_columns(pd.DataFrame(columns=names), spec, table, problems)  # warnings and problems, once a file
        if len(problems) == k:
            targets = _column_targets(names, spec, table)
            read = [orig for orig, name in zip(pf.schema_arrow.names, names) if name in targets]
            sources.append((spec, label, pf, targets, read))
    if len(problems) > n_before:
        return None
    book = _key_book(sources, table, batch_rows)
    total = None
    for spec, label, pf, targets, read in sources:
        kinds = {n: table.column(c).kind for n, c in targets.items()}
        # What derivation and aggregation read (ids and free text are done with once the rows are checked).
        keep = [c for c in targets.values() if table.column(c).kind not in ("id", "text", "phone")]
        tally = _Tally()
        book.start_file()
        rows_in = rows_used = 0
        for frame in _read_ahead(pf.iter_batches(batch_size=batch_rows, columns=read), kinds, targets):
            rows = np.arange(rows_in + 2, rows_in + 2 + len(frame), dtype=np.int64)
            rows_in += len(frame)
            used = _check_rows(frame, rows, spec, framework, lookup, year, period, ledger, problems, salt,
                               label=label, keys=book, tally=tally, columns=keep, checker=checker)
            rows_used += len(used)
            stats = aggregate.sufficient_statistics(derive.derive_all({table.name: used})[table.name], table.name)
            total = stats if total is None else aggregate.combine([total, stats])
        if tally.problem(spec) is not None:
            problems.append(tally.problem(spec))
            continue
        ledger.count(file=label, table=table.name, rows_in=rows_in, rows_used=rows_used, blank_rows=0)
    if len(problems) > n_before:
        return None
    return total if total is not None else aggregate.combine([])


def _read_ahead(batches, kinds: dict, targets: dict):
    """Typed frames of the record batches, the next one decoded in a thread while the caller checks this one.

    Parquet decoding and Arrow conversions release the GIL, so reading
    overlaps with checking on a second core; one batch ahead bounds memory.
    """
    from concurrent.futures import ThreadPoolExecutor

    batches = iter(batches)

    def next_frame():
        batch = next(batches, None)
        return None if batch is None else _typed_frame(batch, kinds).rename(columns=targets)

    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead = pool.submit(next_frame)
        while (frame := ahead.result()) is not None:
            ahead = pool.submit(next_frame)
            yield frame


class _Tally:
    """The department-match check of a streamed file, counted over its batches."""

    def __init__(self):
        self.nonblank = self.known = 0
        self.unmatched: list[str] = []

    def add(self, nonblank: int, known: int, unmatched: list) -> None:
        self.nonblank += nonblank
        self.known += known
        self.unmatched += [u for u in unmatched if u not in self.unmatched][:5]

    def problem(self, spec) -> Problem | None:
        if self.nonblank and self.known < MIN_DEPARTMENT_MATCH * self.nonblank:
            return _match_problem(spec, self.known, self.nonblank, self.unmatched)
        return None


def _key_book(sources, table: TableSpec, batch_rows: int) -> aggregate.KeyBook:
    """The duplicate-key book of a streamed table: a first pass over the key's id columns of every file."""
    ids = [k for k in table.key if table.column(k).kind == "id"]
    common = [k for k in ids if all(k in targets.values() for _, _, _, targets, _ in sources)]

    def frames():
        for _, _, pf, targets, _ in sources:
            back = {c: n for n, c in targets.items()}
            names = {str(o).strip(): o for o in pf.schema_arrow.names}
            yield from _read_ahead(pf.iter_batches(batch_size=batch_rows, columns=[names[back[k]] for k in common]),
                                   {}, targets)

    return aggregate.KeyBook.from_frames(common, frames(), sum(pf.metadata.num_rows for _, _, pf, _, _ in sources))
