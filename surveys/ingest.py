"""Load one evaluation year: read every input, validate it, and keep the books.

:func:`load_year` reads each input file of the project for a year, maps its
columns onto the canonical table, parses every value, and sorts every row
into *used* or *quarantined* (with a reason code) in a :class:`Ledger`.
Structural problems (unreadable file, missing required column, a department
column that matches the register for hardly any row, ...) are collected over
all files and raised together as one :class:`DataValidationError`.

Phone numbers are hashed and masked here, at the door (:mod:`surveys.privacy`).
"""

from __future__ import annotations

import unicodedata
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import derive, screens
from .errors import DataValidationError, MinpingWarning, Problem
from .framework import Framework
from .ledger import Ledger
from .normalize import parse_codes, parse_dates, parse_numbers
from .privacy import hash_phone, mask_phone, scrub_text
from .project import InputSpec, Project
from .readers import read_table
from .schema import TABLES, ChannelData, TableSpec

#: share of rows whose department must match the register, below which the column is a structural problem
MIN_DEPARTMENT_MATCH = 0.5


@dataclass
class YearInput:
    """Everything loaded for one year: the validated tables and the books."""

    data: ChannelData
    ledger: Ledger
    files: list[dict] = field(default_factory=list)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return self.data.tables


def load_year(project: Project, framework: Framework, year: int) -> YearInput:
    """Read, validate and derive every input table of ``year``."""
    ledger = Ledger()
    problems: list[Problem] = []
    parts: dict[str, list[pd.DataFrame]] = {}
    designs: dict[str, dict] = {}
    files = []
    lookup = framework.name_lookup()
    period = project.periods.get(year)
    for spec in project.inputs_for(year):
        try:
            df = _load_file(spec, framework, lookup, year, period, ledger, problems, project.salt,
                            label=_label(spec.path, project.root))
        except DataValidationError as exc:
            problems.extend(exc.problems or [Problem(exc.summary, file=str(spec.path))])
            continue
        if df is None:
            continue
        files.append({"year": year, "table": spec.table, "path": str(spec.path)})
        parts.setdefault(spec.table, []).append(df)
        if spec.design:
            designs[spec.table] = dict(spec.design)
    if problems:
        raise DataValidationError(f"The inputs for {year} cannot be used", problems)
    tables = {}
    for name, dfs in parts.items():
        df = pd.concat(dfs, ignore_index=True) if len(dfs) > 1 else dfs[0]
        if len(dfs) > 1:
            df = _drop_duplicate_keys(df, TABLES[name], ledger)
        tables[name] = df
    tables = screens.apply(tables, framework, ledger)
    tables = derive.derive_all(tables)
    for name, df in tables.items():
        tables[name] = df.drop(columns=["_file", "_row", "_dept_text"], errors="ignore")
    return YearInput(ChannelData(year, tables, designs), ledger, files)


# ---------------------------------------------------------------------------


def _norm_header(name: str) -> str:
    return unicodedata.normalize("NFKC", str(name)).strip()


def _map_columns(raw: pd.DataFrame, spec: InputSpec, table: TableSpec, problems: list[Problem]) -> pd.DataFrame:
    """Rename the file's columns to canonical names (mapping, canonical name, or template header)."""
    mapping = {_norm_header(k): v for k, v in spec.columns.items()}
    by_zh = {_norm_header(c.zh): c.name for c in table.columns if c.zh}
    rename = {}
    for col in raw.columns:
        key = _norm_header(col)
        target = mapping.get(key) or (key if key in table.names else None) or by_zh.get(key)
        if target:
            rename[col] = target
    ignored = [c for c in raw.columns if c not in rename]
    if ignored:
        # Not an error: field files often carry interviewer or note columns.  Named,
        # so that a column the mapping forgot is not dropped unnoticed.
        warnings.warn(f"{spec.path}: column(s) {', '.join(map(repr, ignored))} match no column of table "
                      f"'{table.name}' and are ignored; if one holds a canonical column, map it under "
                      f"[inputs.columns] in project.toml", MinpingWarning, stacklevel=4)
    df = raw.rename(columns=rename)
    df = df[[c for c in df.columns if c in table.names]]
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
    return df.loc[:, ~df.columns.duplicated()]


def _label(path, root) -> str:
    """How a file is named in the ledger: its path relative to the project folder (POSIX separators)."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def _load_file(spec, framework, lookup, year, period, ledger: Ledger, problems, salt, *, label: str):
    table = TABLES[spec.table]
    raw = read_table(spec.path, sheet=spec.sheet, header_rows=spec.header_rows, delimiter=spec.delimiter,
                     encoding=spec.encoding)
    n_before = len(problems)
    df = _map_columns(raw.frame, spec, table, problems)
    if len(problems) > n_before:
        return None
    fname = label
    df = df.copy()
    df["_file"] = fname
    df["_row"] = np.asarray(raw.source_rows)
    bad_reason = pd.Series("", index=df.index, dtype=object)
    bad_detail = pd.Series("", index=df.index, dtype=object)

    def mark(mask: pd.Series, code: str, detail) -> None:
        mask = mask & (bad_reason == "")
        if mask.any():
            bad_reason[mask] = code
            bad_detail[mask] = detail[mask] if isinstance(detail, pd.Series) else detail

    # department
    dept_text = df["department_id"].astype("string").map(
        lambda v: unicodedata.normalize("NFKC", v).strip() if isinstance(v, str) else v)
    dept_id = dept_text.map(lookup)
    df["_dept_text"] = df["department_id"]
    known = dept_id.notna()
    nonblank = dept_text.notna() & (dept_text != "")
    if nonblank.sum() and known.sum() < MIN_DEPARTMENT_MATCH * nonblank.sum():
        examples = ", ".join(repr(x) for x in dept_text[nonblank & ~known].unique()[:5])
        problems.append(Problem(
            f"only {int(known.sum())} of {int(nonblank.sum())} rows name a department in the register "
            f"(e.g. {examples})", file=str(spec.path), column="department_id",
            fix="map the right column to department_id, or add the names as aliases in the framework's register"))
        return None
    mark(~nonblank, "missing_required", "部门/department")
    mark(nonblank & ~known, "unknown_department", dept_text.astype(object))
    active = {d.id for d in framework.departments if d.active(year)}
    mark(known & ~dept_id.isin(active), "department_not_active", dept_text.astype(object))
    df["department_id"] = dept_id

    for col in table.columns:
        if col.name not in df.columns or col.name == "department_id":
            continue
        s = df[col.name]
        text = s.astype("string").str.strip()
        blank = text.isna() | (text == "")
        if col.required:
            mark(blank, "missing_required", col.name)
        if col.kind in ("number", "count"):
            values, bad = parse_numbers(s)
            mark(bad, "not_a_number", col.name + "=" + text.fillna("").astype(object))
            df[col.name] = values
        elif col.kind == "code":
            scale = framework.scales[col.scale]
            codes, bad, _na = parse_codes(s, scale.labels, scale.codes, scale.na_codes)
            mark(bad, "code_out_of_range", col.name + "=" + text.fillna("").astype(object))
            df[col.name] = codes
        elif col.kind == "date":
            values, bad = parse_dates(s)
            mark(bad, "bad_date", col.name + "=" + text.fillna("").astype(object))
            df[col.name] = values
        elif col.kind == "month":
            values, bad = parse_dates(text.where(~text.str.fullmatch(r"\d{4}\D\d{1,2}\D?", na=False),
                                                 text.str.replace(r"\D", "-", regex=True).str.rstrip("-") + "-01"))
            mark(bad, "bad_date", col.name + "=" + text.fillna("").astype(object))
            df[col.name] = values.dt.strftime("%Y-%m").astype("string")
        elif col.kind == "category":
            labels = dict(col.labels)
            canon = set(labels.values())
            norm = text.map(lambda v: unicodedata.normalize("NFKC", v).strip() if isinstance(v, str) else v)
            mapped = norm.map(lambda v: labels.get(v, v if v in canon else None) if isinstance(v, str) else None)
            mark(~blank & mapped.isna(), "bad_category", col.name + "=" + text.fillna("").astype(object))
            df[col.name] = mapped.astype("string")
            if col.name == "default_rating":
                df[col.name] = pd.to_numeric(mapped, errors="coerce").astype("float64")
        elif col.kind == "phone":
            df["phone_hash"] = hash_phone(s, salt)
            df["phone_masked"] = mask_phone(s)
            df = df.drop(columns=[col.name])
        elif col.kind == "text":
            df[col.name] = scrub_text(text)
        elif col.kind == "id":
            df[col.name] = text

    # outside the evaluation period (a screen: quarantine, flag or off)
    if table.date_column and table.date_column in df.columns and period is not None:
        mode = framework.screens.outside_period
        d = df[table.date_column]
        outside = d.notna() & ((d < pd.Timestamp(period[0])) | (d > pd.Timestamp(period[1]) + pd.Timedelta(days=1)))
        if mode == "quarantine":
            mark(outside, "outside_period", table.date_column + "=" + d.dt.strftime("%Y-%m-%d").fillna(""))

    # duplicate keys within the file (first kept)
    key = [k for k in table.key if k in df.columns]
    if key:
        ok = bad_reason == ""
        dup = df[key].duplicated(keep="first") & ok
        mark(dup, "duplicate_id", df[key[0]].astype("string").fillna("").astype(object))

    bad = bad_reason != ""
    if bad.any():
        q = df.loc[bad]
        for code, grp in q.groupby(bad_reason[bad], sort=True):
            ledger.quarantine(file=fname, table=spec.table, source_rows=grp["_row"].tolist(),
                              departments=grp["_dept_text"].tolist(), code=code,
                              detail=bad_detail[grp.index].tolist())
    used = df.loc[~bad].reset_index(drop=True)
    ledger.count(file=fname, table=spec.table, rows_in=len(df), rows_used=len(used), blank_rows=raw.blank_rows)
    return used


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
