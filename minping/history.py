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
import re
import sqlite3
import unicodedata
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.trends import HISTORY_COLUMNS, history_frames
from surveys.errors import DataValidationError, InsufficientDataError, Problem
from surveys.normalize import parse_numbers
from surveys.readers import read_table

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

def record_result(db_path: str | Path, result, manifest: Mapping | None = None, *,
                  volumes: Mapping[str, float] | None = None, recorded_at: str | None = None) -> dict[str, int]:
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
    runs["recorded_at"] = recorded_at or _now()
    frames["runs"] = runs
    return _replace_year(db_path, int(result.year), frames)


def import_published(db_path: str | Path, xlsx_path: str | Path, year: int, *,
                     column_map: Mapping[str, str] | None = None, framework=None, level: float = 0.95,
                     volumes: Mapping[str, float] | None = None, sheet: str | int | None = None,
                     header_rows: int = 1, recorded_at: str | None = None) -> pd.DataFrame:
    """Record a previous year's published ranking when its raw data are gone.

    Parameters
    ----------
    db_path : the history file
    xlsx_path : the published table (XLSX, or CSV / TXT: any file
        :func:`surveys.readers.read_table` reads), one row per department
    year : the year it reports
    column_map : header in the file -> one of ``department_id``,
        ``department``, ``index``, ``se``, ``ci_low``, ``ci_high``, ``ci`` (one
        cell such as ``83.1–87.5``), ``rank``, ``grade``, ``category``.
        Headers not mapped are recognised from common names (部门, 单位名称,
        综合指数, 得分, 标准误, 置信区间, 排名, 等级, 类别 ...).
    framework : resolves department names, aliases and categories through
        its register (default: the names already in the history); its
        crosswalk is recorded too
    level : confidence level of a published interval, to recover the
        standard error as ``(ci_high - ci_low) / (2 z)``
    volumes : case volume per department id, if known (for merges)
    sheet, header_rows : passed to :func:`surveys.readers.read_table`

    Returns
    -------
    DataFrame
        The department rows recorded (:data:`evaluation.trends.HISTORY_COLUMNS`).
        Without a standard error or interval, ``se`` is missing and every
        change against this year is reported as not testable: a published
        point estimate supports a difference, not a test.

    Raises
    ------
    DataValidationError
        no department or index column, unreadable numbers, unknown or
        duplicate departments, each with its row and fix.
    """
    path = Path(xlsx_path)
    raw = read_table(path, sheet=sheet, header_rows=header_rows)
    cols = _map_columns(list(raw.frame.columns), column_map, path)
    frame = pd.DataFrame({canon: raw.frame[src] for src, canon in cols.items()})
    rows = raw.source_rows
    problems: list[Problem] = []
    values = {}
    for name in ("index", "se", "ci_low", "ci_high", "rank"):
        if name in frame:
            values[name], bad = parse_numbers(frame[name], percent="points")
            problems += [Problem("not a number", file=str(path), row=int(rows[i]), column=_source(cols, name),
                                 value=frame[name].iloc[i], fix="write a plain number such as 85.3")
                         for i in np.flatnonzero(bad.to_numpy())]
    if "ci" in frame:
        values["ci_low"], values["ci_high"], bad = _parse_interval(frame["ci"])
        problems += [Problem("not an interval", file=str(path), row=int(rows[i]), column=_source(cols, "ci"),
                             value=frame["ci"].iloc[i], fix="write the interval as 83.1-87.5 or [83.1, 87.5]")
                     for i in np.flatnonzero(bad)]
    lookup, names, categories = _register(db_path, framework)
    key = frame["department_id"] if "department_id" in frame else frame["department"]
    ids = [lookup.get(_name_key(k)) if isinstance(k, str) else None for k in key]
    seen: dict[str, int] = {}
    for i, (k, d) in enumerate(zip(key, ids)):
        if d is None:
            problems.append(Problem("department not in the register", file=str(path), row=int(rows[i]),
                                    column=_source(cols, key.name), value=k,
                                    fix="correct the name, add it as an alias in framework.toml, or pass the "
                                        "framework whose register knows it"))
        elif d in seen:
            problems.append(Problem(f"department {d} appears twice (also row {seen[d]})", file=str(path),
                                    row=int(rows[i]), value=k, fix="keep one row per department"))
        else:
            seen[d] = int(rows[i])
    if problems:
        raise DataValidationError(f"The published ranking {path.name} cannot be imported", problems)
    n = len(frame)
    out = pd.DataFrame({"year": int(year), "department_id": ids})
    out["department"] = [names.get(d, str(k)) for d, k in zip(ids, key)]
    out["category"] = (frame["category"].astype(object).to_numpy() if "category" in frame
                       else [categories.get(d) for d in ids])
    out["index"] = values["index"].to_numpy(float)
    lo = values.get("ci_low", pd.Series(np.nan, index=frame.index)).to_numpy(float)
    hi = values.get("ci_high", pd.Series(np.nan, index=frame.index)).to_numpy(float)
    se = values["se"].to_numpy(float) if "se" in values else np.full(n, np.nan)
    z = stats.norm.ppf(0.5 + level / 2)
    se = np.where(np.isnan(se), (hi - lo) / (2 * z), se)
    out["se"], out["ci_low"], out["ci_high"] = se, lo, hi
    out["rank"] = values["rank"].to_numpy(float) if "rank" in values else np.nan
    out["grade"] = frame["grade"].astype(object).to_numpy() if "grade" in frame else None
    out["flags"] = np.where(np.isnan(se), "imported;no_se", "imported")
    out["case_volume"] = out["department_id"].map(pd.Series(volumes or {}, dtype=float))
    for c in HISTORY_COLUMNS["departments"]:
        if c not in out.columns:
            out[c] = np.nan
    out = out[HISTORY_COLUMNS["departments"]]
    crosswalk = (_crosswalk_rows(framework) if framework is not None
                 else pd.DataFrame(columns=HISTORY_COLUMNS["crosswalk"]))
    runs = pd.DataFrame([{
        "year": int(year), "source": "import", "framework_id": getattr(framework, "id", None),
        "framework_version": getattr(framework, "version", None),
        "framework_sha256": getattr(framework, "sha256", None),
        "toolkit_version": None, "manifest_sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "level": level,
        "seed": None, "recorded_at": recorded_at or _now(), "source_file": path.name,
        "manifest": json.dumps({"source_file": path.name, "columns": cols, "sheet": raw.sheet, "level": level},
                               ensure_ascii=False, sort_keys=True)}])
    empty = {k: pd.DataFrame(columns=HISTORY_COLUMNS[k]) for k in ("dimensions", "indicators", "definitions")}
    _replace_year(db_path, int(year), {"runs": runs, "departments": out, "crosswalk": crosswalk, **empty})
    return out


def _crosswalk_rows(framework) -> pd.DataFrame:
    return pd.DataFrame([{"year": e.year, "successor": e.successor, "predecessor": p, "kind": e.kind}
                         for e in framework.crosswalk for p in e.predecessors], columns=HISTORY_COLUMNS["crosswalk"])


# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------

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

def _now() -> str:
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


def _replace_year(db_path: str | Path, year: int, frames: Mapping[str, pd.DataFrame]) -> dict[str, int]:
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
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return written


_SYNONYMS = {
    "department_id": ["department_id", "部门编号", "部门代码", "单位编号", "单位代码", "编号", "代码", "id"],
    "department": ["department", "部门", "部门名称", "单位", "单位名称", "被评估单位", "被评估部门", "name"],
    "index": ["index", "综合指数", "满意度指数", "指数", "综合得分", "得分", "总分", "综合评分", "score"],
    "se": ["se", "标准误", "标准误差", "standard error", "std. error"],
    "ci_low": ["ci_low", "置信区间下限", "区间下限", "下限", "lower"],
    "ci_high": ["ci_high", "置信区间上限", "区间上限", "上限", "upper"],
    "ci": ["ci", "置信区间", "95%置信区间", "95% ci", "区间"],
    "rank": ["rank", "排名", "名次", "排序"],
    "grade": ["grade", "等级", "评级", "档次"],
    "category": ["category", "类别", "分类", "组别"],
}
_CANONICAL = set(_SYNONYMS)


def _header_key(name: str) -> str:
    text = unicodedata.normalize("NFKC", str(name)).strip().lower()
    return re.sub(r"\s*\([^)]*\)\s*$", "", text).strip()


def _name_key(name: str) -> str:
    return unicodedata.normalize("NFKC", str(name)).strip()


def _map_columns(headers: list[str], column_map: Mapping[str, str] | None, path: Path) -> dict[str, str]:
    """File header -> canonical name: the explicit map first, then the common names."""
    problems = []
    out: dict[str, str] = {}
    for src, canon in (column_map or {}).items():
        if canon not in _CANONICAL:
            problems.append(Problem(f"column_map sends '{src}' to unknown name '{canon}'", file=str(path),
                                    fix=f"use one of {sorted(_CANONICAL)}"))
        elif src not in headers:
            problems.append(Problem(f"column_map names '{src}', which is not a header of the file", file=str(path),
                                    value=headers, fix="use the header exactly as the file shows it"))
        else:
            out[src] = canon
    taken = set(out.values())
    for h in headers:
        if h in out:
            continue
        for canon, names in _SYNONYMS.items():
            if canon not in taken and _header_key(h) in names:
                out[h] = canon
                taken.add(canon)
                break
    if "index" not in taken:
        problems.append(Problem("no column with the index", file=str(path), value=headers,
                                fix="pass column_map={'<header>': 'index'}"))
    if not taken & {"department_id", "department"}:
        problems.append(Problem("no column naming the department", file=str(path), value=headers,
                                fix="pass column_map={'<header>': 'department'} (or 'department_id')"))
    if problems:
        raise DataValidationError(f"The published ranking {path.name} cannot be imported", problems)
    return out


def _source(cols: dict[str, str], canon: str) -> str:
    return next((src for src, c in cols.items() if c == canon), canon)


def _parse_interval(s: pd.Series):
    """``83.1–87.5``, ``83.1~87.5``, ``83.1至87.5``, ``[83.1, 87.5]`` -> (low, high, bad)."""
    text = s.astype("string").str.normalize("NFKC").str.strip()
    parts = text.str.extract(r"^[\[(]?\s*(-?\d+(?:\.\d+)?)\s*(?:-|–|—|~|至|,|，)\s*(-?\d+(?:\.\d+)?)\s*[\])]?$")
    lo = pd.to_numeric(parts[0], errors="coerce")
    hi = pd.to_numeric(parts[1], errors="coerce")
    bad = (text.notna() & (text != "") & lo.isna()).to_numpy(bool)
    return lo, hi, bad


def _register(db_path: str | Path, framework) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Name -> id lookup, id -> name, id -> category: from the framework, else from the history."""
    if framework is not None:
        lookup = {_name_key(k): v for k, v in framework.name_lookup().items()}
        names = {d.id: d.name for d in framework.departments}
        cats = {d.id: d.category for d in framework.departments}
        return lookup, names, cats
    lookup, names, cats = {}, {}, {}
    if Path(db_path).exists():
        deps = load_history(db_path)["departments"].sort_values("year")
        for _, r in deps.iterrows():
            for key in (r["department_id"], r["department"], r["department_en"]):
                if isinstance(key, str) and key:
                    lookup[_name_key(key)] = r["department_id"]
            names[r["department_id"]] = r["department"]
            cats[r["department_id"]] = r["category"]
    if not lookup:
        raise DataValidationError("Cannot resolve department names", [Problem(
            "no framework given and the history holds no departments", file=str(db_path),
            fix="pass the framework (its register resolves names and aliases)")])
    return lookup, names, cats
