"""The results history: every recorded year of a project in one SQLite file.

``<project folder>/history.sqlite`` holds, per year, the department,
dimension and indicator estimates with their standard errors, the version of
every indicator's definition, the crosswalk and the run's manifest.  Year over
year comparisons (:mod:`evaluation.trends`, ``minping trend``) read it back.

Why SQLite: it ships with Python (the standard library's :mod:`sqlite3`, no
new dependency), the history is one portable file that DB Browser, DBeaver,
R (RSQLite), DuckDB, Excel's ODBC driver or the ``sqlite3`` shell open as it
is, and a city's history (tens of departments x a few dozen indicators x a
few years) is far too small for a columnar engine such as DuckDB to pay off.

Tables (``"index"`` is an SQL keyword: quote it in queries)::

    meta         key, value                      (schema_version)
    runs         one row per year: source ('run' | 'import'), framework id,
                 version and sha256, toolkit version, manifest_sha256,
                 confidence level, seed, recorded_at (UTC), source_file,
                 manifest (the manifest as JSON)
    departments  year x department: the results columns of departments.csv
                 that comparisons need, plus case_volume
    dimensions   year x department x dimension: estimate, se, ci_low, ci_high
    indicators   year x department x indicator: raw_value, raw_se, score, se,
                 interval, n and definition_version
    definitions  year x indicator: definition version, within-dimension
                 weight, dimension weight (the framework of that year)
    crosswalk    recorded_year, year, successor, predecessor, kind

Recording a year replaces every row of that year in one transaction, so
running a year twice leaves one copy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Callable, Mapping
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.result import EvaluationResult
from evaluation.trends import HISTORY_COLUMNS, history_frames
from surveys.errors import DataValidationError, InsufficientDataError, Problem

SCHEMA_VERSION = "1"
HISTORY_FILE = "history.sqlite"

_TEXT = {"source", "framework_id", "framework_version", "framework_sha256", "toolkit_version", "manifest_sha256",
         "recorded_at", "source_file", "manifest", "department_id", "department", "department_en", "category",
         "tier", "grade", "flags", "dimension_id", "dimension", "dimension_en", "indicator_id", "indicator",
         "indicator_en", "channel", "definition_version", "version", "successor", "predecessor", "kind"}
_INTEGER = {"year", "recorded_year", "seed", "rank", "rank_low", "rank_high", "rank_in_category",
            "rank_in_category_low", "rank_in_category_high", "n_survey", "n_callback", "n_visit"}
_KEYS = {"runs": ["year"], "departments": ["year", "department_id"],
         "dimensions": ["year", "department_id", "dimension_id"],
         "indicators": ["year", "department_id", "indicator_id"], "definitions": ["year", "indicator_id"],
         "crosswalk": ["recorded_year", "year", "successor", "predecessor"]}
_COLUMNS = {**HISTORY_COLUMNS, "runs": HISTORY_COLUMNS["runs"] + ["manifest"],
            "crosswalk": ["recorded_year"] + HISTORY_COLUMNS["crosswalk"]}


def history_path(project_root: str | Path) -> Path:
    """Where a project keeps its history: ``<project folder>/history.sqlite``."""
    return Path(project_root) / HISTORY_FILE


def case_volumes(tables: Mapping[str, pd.DataFrame]) -> dict[str, float]:
    """Cases received per department over the year (``admin_monthly.cases_received`` summed); empty without it."""
    adm = tables.get("admin_monthly")
    if adm is None or "cases_received" not in adm.columns or adm.empty:
        return {}
    return adm.groupby("department_id")["cases_received"].sum(min_count=1).dropna().astype(float).to_dict()


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------

def record_result(db_path: str | Path, result: EvaluationResult, manifest: Mapping | None = None, *,
                  volumes: Mapping[str, float] | None = None, recorded_at: str | None = None,
                  before_commit: Callable[[], object] | None = None) -> dict[str, int]:
    """Record one evaluated year, replacing whatever the history held for it.

    Parameters
    ----------
    db_path : the history file (created with its tables if missing)
    result : :class:`evaluation.result.EvaluationResult`
    manifest : the year's manifest (``manifest.json``); stored as JSON, its
        ``manifest_sha256`` in ``runs``
    volumes : case volume per department id (the administrative data's cases
        received, see :func:`case_volumes`); used to combine merged
        departments.  Without it a ``case_volume`` or ``cases_received``
        column of ``result.quality`` is used if present.
    recorded_at : ISO timestamp to store (default: now, UTC)
    before_commit : called inside the transaction, just before it commits (the
        pipeline swaps the year's output folder in here, so the history and
        the published folder change in one step; if it raises, nothing is recorded)

    Returns
    -------
    dict
        Rows written per table.
    """
    frames = history_frames(result, volumes={int(result.year): volumes} if volumes is not None else None)
    manifest = dict(manifest or {})
    runs = frames["runs"].copy()
    body = json.dumps(manifest, ensure_ascii=False, sort_keys=True, default=str)
    runs["manifest_sha256"] = manifest.get("manifest_sha256") or hashlib.sha256(body.encode()).hexdigest()
    runs["manifest"] = body
    runs["recorded_at"] = recorded_at or now_utc()
    frames["runs"] = runs
    return replace_year(db_path, int(result.year), frames, before_commit=before_commit)


def merged_history(history: Mapping[str, pd.DataFrame], result: EvaluationResult,
                   volumes: Mapping[str, float] | None = None) -> dict[str, pd.DataFrame]:
    """The history frames with ``result``'s year replaced by ``result`` (in memory; nothing is written)."""
    year = int(result.year)
    new = history_frames(result, volumes={year: volumes} if volumes is not None else None)
    out = {}
    for key, cols in HISTORY_COLUMNS.items():
        old = history.get(key, pd.DataFrame(columns=cols))
        if key != "crosswalk":
            old = old[old["year"].astype(int) != year]
        parts = [f for f in (old, new[key]) if len(f)]
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
        out[key] = frame.drop_duplicates(ignore_index=True) if key == "crosswalk" else frame
    return out


# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------

def load_history_or_empty(db_path: str | Path) -> dict[str, pd.DataFrame]:
    """:func:`load_history`, or empty frames when the project has recorded no year yet."""
    if not Path(db_path).exists():
        return {key: pd.DataFrame(columns=cols) for key, cols in HISTORY_COLUMNS.items()}
    return load_history(db_path)


def load_history(db_path: str | Path, years=None) -> dict[str, pd.DataFrame]:
    """Read the history back as the frames :func:`evaluation.trends.trends` takes.

    Parameters
    ----------
    db_path : the history file
    years : only these years (default: all); the crosswalk is always complete

    Returns
    -------
    dict of DataFrame
        ``runs`` (with the ``manifest`` JSON), ``departments``,
        ``dimensions``, ``indicators``, ``definitions``, ``crosswalk``
        (columns of :data:`evaluation.trends.HISTORY_COLUMNS`).
    """
    path = Path(db_path)
    if not path.exists():
        raise InsufficientDataError("No results history", [Problem(
            "the history file does not exist", file=str(path),
            fix="evaluate the years with `minping run PROJECT` (each run is recorded) or import a published "
                "ranking with `minping trend PROJECT --import-published YEAR FILE.xlsx`")])
    out = {}
    with closing(_connect(path)) as con:
        for table, cols in _COLUMNS.items():
            sql = f"SELECT {', '.join(_q(c) for c in cols)} FROM {table}"
            params: list = []
            if years is not None and table != "crosswalk":
                ys = [int(y) for y in years]
                sql += f" WHERE year IN ({', '.join('?' * len(ys))})"
                params = ys
            sql += " ORDER BY " + ", ".join(_q(c) for c in _KEYS[table])
            out[table] = pd.read_sql_query(sql, con, params=params)
    cw = out["crosswalk"].drop(columns="recorded_year").drop_duplicates(ignore_index=True)
    out["crosswalk"] = cw
    return out


# ---------------------------------------------------------------------------
# internals
# ---------------------------------------------------------------------------

def now_utc() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the history and check it is one, of this schema version."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        for table, cols in _COLUMNS.items():
            defs = ", ".join(f"{_q(c)} {'TEXT' if c in _TEXT else 'INTEGER' if c in _INTEGER else 'REAL'}"
                             for c in cols)
            keys = ", ".join(_q(c) for c in _KEYS[table])
            con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({defs}, PRIMARY KEY ({keys}))")
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            con.execute("INSERT INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
        elif row[0] != SCHEMA_VERSION:
            raise DataValidationError("The results history has another layout", [Problem(
                f"schema version {row[0]}, this minping writes version {SCHEMA_VERSION}", file=str(path),
                fix="use the minping version that wrote it, or move the file away and rerun the years")])
    except sqlite3.DatabaseError as exc:
        con.close()
        raise DataValidationError("The results history cannot be opened", [Problem(
            f"{exc}", file=str(path), fix="the file is not a minping history (SQLite); move it away or "
                                          "restore it from a backup")]) from None
    except BaseException:
        con.close()
        raise
    return con


def _native(v):
    """A value sqlite3 can bind: None for missing, Python int/float/str otherwise."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if np.isnan(v) else float(v)
    if isinstance(v, (int, str)):
        return v
    return str(v)


def replace_year(db_path: str | Path, year: int, frames: Mapping[str, pd.DataFrame], *,
                 before_commit: Callable[[], object] | None = None) -> dict[str, int]:
    """Replace every row of ``year`` by ``frames`` (columns of :data:`HISTORY_COLUMNS`) in one transaction.

    ``before_commit`` runs inside the transaction, after the rows are written;
    if it raises, the transaction is rolled back.
    """
    path = Path(db_path)
    written = {}
    with closing(_connect(path)) as con:
        con.execute("BEGIN IMMEDIATE")
        try:
            for table, cols in _COLUMNS.items():
                key = "recorded_year" if table == "crosswalk" else "year"
                con.execute(f"DELETE FROM {table} WHERE {key} = ?", (year,))
                frame = frames.get(table, pd.DataFrame(columns=cols))
                if table == "crosswalk":
                    frame = frame.assign(recorded_year=year)
                frame = frame.reindex(columns=cols)
                rows = [tuple(_native(v) for v in row) for row in frame.itertuples(index=False, name=None)]
                marks = ", ".join("?" * len(cols))
                con.executemany(f"INSERT INTO {table} ({', '.join(_q(c) for c in cols)}) VALUES ({marks})", rows)
                written[table] = len(rows)
            if before_commit is not None:
                before_commit()
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return written
