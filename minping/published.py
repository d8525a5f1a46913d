"""Published rankings of years whose raw data are gone, recorded in the results history.

:func:`import_published` reads a published table (XLSX, CSV, ...), resolves
its departments through the framework's register, recovers standard errors
from published intervals where it can, and records the year in the history
(:mod:`minping.history`) so that later years can be compared with it.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.trends import HISTORY_COLUMNS
from minping.history import load_history, now_utc, replace_year
from surveys.errors import DataValidationError, Problem
from surveys.normalize import name_key, parse_numbers
from surveys.readers import read_table


def import_published(db_path: str | Path, xlsx_path: str | Path, year: int, *,
                     column_map: Mapping[str, str] | None = None, framework=None, level: float | None = None,
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
        standard error as ``(ci_high - ci_low) / (2 z)`` (default: the
        framework's ``confidence_level``; without a framework it must be given)
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
    if level is None:
        if framework is None:
            raise DataValidationError("The level of the published intervals is unknown", [Problem(
                "no framework and no level given", file=str(path),
                fix="pass framework= (its confidence_level is used) or level= the level the table was published at")])
        level = framework.confidence_level
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
    ids = [lookup.get(name_key(k)) if isinstance(k, str) else None for k in key]
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
        "seed": None, "recorded_at": recorded_at or now_utc(), "source_file": path.name,
        "manifest": json.dumps({"source_file": path.name, "columns": cols, "sheet": raw.sheet, "level": level},
                               ensure_ascii=False, sort_keys=True)}])
    empty = {k: pd.DataFrame(columns=HISTORY_COLUMNS[k]) for k in ("dimensions", "indicators", "definitions")}
    replace_year(db_path, int(year), {"runs": runs, "departments": out, "crosswalk": crosswalk, **empty})
    return out


def _crosswalk_rows(framework) -> pd.DataFrame:
    return pd.DataFrame([{"year": e.year, "successor": e.successor, "predecessor": p, "kind": e.kind}
                         for e in framework.crosswalk for p in e.predecessors], columns=HISTORY_COLUMNS["crosswalk"])


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
        lookup = {name_key(k): v for k, v in framework.name_lookup().items()}
        names = {d.id: d.name for d in framework.departments}
        cats = {d.id: d.category for d in framework.departments}
        return lookup, names, cats
    lookup, names, cats = {}, {}, {}
    if Path(db_path).exists():
        deps = load_history(db_path)["departments"].sort_values("year")
        for _, r in deps.iterrows():
            for key in (r["department_id"], r["department"], r["department_en"]):
                if isinstance(key, str) and key:
                    lookup[name_key(key)] = r["department_id"]
            names[r["department_id"]] = r["department"]
            cats[r["department_id"]] = r["category"]
    if not lookup:
        raise DataValidationError("Cannot resolve department names", [Problem(
            "no framework given and the history holds no departments", file=str(db_path),
            fix="pass the framework (its register resolves names and aliases)")])
    return lookup, names, cats
