"""Earlier years in the documents: the change since last year, the trend line and the movers.

The renderers accept ``history`` in any of the shapes the pipeline produces:

- a plain frame ``year, department_id, index`` (optionally ``se``): earlier
  years' department results already mapped through the framework's crosswalk;
- the history store's frames (a mapping with a ``departments`` frame, as
  ``minping.history.load_history`` returns it);
- the output of :func:`evaluation.trends.trends` (a mapping with a ``trends``
  frame), alone or merged with the store's frames: its tested changes, with
  the crosswalk applied, the Holm/BH-adjusted test and the comparability
  verdict, are then shown as they are;
- one result-like object or a sequence of them (each with ``departments``).

Nothing here estimates anything new: with a ``trends`` frame the numbers are
the evaluation's; with a plain frame the change is the difference of the two
published indices and, when both standard errors are known, its normal
interval ``change +/- z sqrt(se_t^2 + se_s^2)`` (the two years are
independent samples; the formula of :mod:`evaluation.trends`), without a
multiplicity adjustment, which the documents say.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

#: Columns of :func:`change_table`.
CHANGE_COLUMNS = ["department_id", "previous_year", "previous_index", "change", "change_ci_low", "change_ci_high",
                  "significant", "comparable", "adjusted", "flags"]


def _is_trends(history) -> bool:
    return isinstance(history, Mapping) and isinstance(history.get("trends"), pd.DataFrame)


def history_frame(history) -> pd.DataFrame | None:
    """Earlier indices as a frame ``year``, ``department_id``, ``index``, ``se`` (NaN when unknown).

    See the module docstring for the accepted shapes.  Rows of departments that
    were renamed or merged are matched only through their register id, so pass
    histories already mapped through the framework's crosswalk (or the trends
    output, which is).
    """
    if history is None:
        return None
    if isinstance(history, pd.DataFrame):
        frames = [history]
    elif isinstance(history, Mapping):
        frames = []
        if isinstance(history.get("departments"), pd.DataFrame):
            frames.append(history["departments"])
        if _is_trends(history):
            t = history["trends"]
            t = t[t["measure"] == "index"].rename(columns={"estimate": "index"})
            frames.append(t)
    elif hasattr(history, "departments"):
        frames = [history.departments]
    else:
        frames = [h if isinstance(h, pd.DataFrame) else h.departments for h in history]
    cols = ["year", "department_id", "index"]
    frames = [f for f in frames if all(c in f.columns for c in cols)]
    if not frames:
        return None
    out = pd.concat([f[cols + (["se"] if "se" in f.columns else [])] for f in frames], ignore_index=True)
    if "se" not in out:
        out["se"] = np.nan
    out["department_id"] = out["department_id"].astype(str)
    out["year"] = out["year"].astype(int)
    out["index"] = pd.to_numeric(out["index"], errors="coerce").astype(float)
    out["se"] = pd.to_numeric(out["se"], errors="coerce").astype(float)
    return out.drop_duplicates(["year", "department_id"], keep="last").reset_index(drop=True)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA


def index_change(departments, history, department_id: str, year: int) -> float:
    """This year's index minus last year's (the ``change`` column wins when present); NaN if unknown.

    ``history`` is a frame from :func:`history_frame`.
    """
    row = departments[departments["department_id"].astype(str) == str(department_id)]
    if not len(row):
        return float("nan")
    if "change" in row.columns and not _missing(row["change"].iloc[0]):
        return float(row["change"].iloc[0])
    if history is None:
        return float("nan")
    prev = history[(history["department_id"] == str(department_id)) & (history["year"] == year - 1)]
    if not len(prev) or _missing(prev["index"].iloc[0]):
        return float("nan")
    return float(row["index"].iloc[0]) - float(prev["index"].iloc[0])


def trend_series(departments, history, department_id: str, year: int) -> pd.Series:
    """Index by year for one department (history plus this year)."""
    row = departments[departments["department_id"].astype(str) == str(department_id)]
    points = {}
    if history is not None:
        own = history[(history["department_id"] == str(department_id)) & (history["year"] < year)]
        points.update(dict(zip(own["year"].astype(int), own["index"].astype(float))))
    if len(row):
        points[int(year)] = float(row["index"].iloc[0])
    return pd.Series(points, dtype=float).sort_index()


def change_table(departments: pd.DataFrame, history, year: int, *, level: float = 0.95) -> pd.DataFrame:
    """The change since last year of every department of ``departments`` (:data:`CHANGE_COLUMNS`).

    ``history`` in any accepted shape (module docstring).  From a ``trends``
    frame: its ``index`` rows of ``year`` (``change``, its interval,
    ``significant`` after the adjustment named there, ``comparable``),
    ``adjusted`` True.  Otherwise ``change`` is this year's index minus
    ``year - 1``'s, the interval is the normal one when both standard errors
    are known, ``significant`` means the interval excludes 0 (unadjusted),
    ``comparable`` is NA (not known) and ``adjusted`` False.  A ``change``
    column of ``departments`` wins over both.  Departments without a previous
    year have NaN.
    """
    from scipy import stats

    ids = departments["department_id"].astype(str).to_numpy()
    out = pd.DataFrame({"department_id": ids})
    for col in CHANGE_COLUMNS[1:]:
        out[col] = np.nan
    out = out.astype({"significant": object, "comparable": object, "adjusted": bool, "flags": object})
    out["significant"] = None
    out["comparable"] = None
    out["adjusted"] = False
    out["flags"] = ""
    if _is_trends(history):
        t = history["trends"]
        t = t[(t["measure"] == "index") & (t["year"].astype(int) == int(year))].copy()
        t["department_id"] = t["department_id"].astype(str)
        t = t.drop_duplicates("department_id").set_index("department_id").reindex(ids)
        out["previous_year"] = t["previous_year"].to_numpy(dtype=float)
        out["previous_index"] = t["previous_estimate"].to_numpy(dtype=float)
        out["change"] = t["change"].to_numpy(dtype=float)
        out["change_ci_low"] = t["change_ci_low"].to_numpy(dtype=float)
        out["change_ci_high"] = t["change_ci_high"].to_numpy(dtype=float)
        out["significant"] = [None if _missing(v) else bool(v) for v in t["significant"]]
        out["comparable"] = [None if _missing(v) else bool(v) for v in t["comparable"]]
        out["adjusted"] = True
        out["flags"] = [v if isinstance(v, str) else "" for v in t["flags"]]
    else:
        hist = history_frame(history)
        if hist is not None:
            prev = hist[hist["year"] == int(year) - 1].set_index("department_id").reindex(ids)
            now = departments.assign(department_id=departments["department_id"].astype(str)).set_index(
                "department_id").reindex(ids)
            se_now = now["se"].astype(float) if "se" in now else pd.Series(np.nan, index=now.index)
            change = now["index"].astype(float).to_numpy() - prev["index"].to_numpy(dtype=float)
            half = stats.norm.ppf(0.5 + level / 2) * np.sqrt(se_now.to_numpy() ** 2 + prev["se"].to_numpy() ** 2)
            has_prev = ~np.isnan(prev["index"].to_numpy(dtype=float))
            out["previous_year"] = np.where(has_prev, int(year) - 1, np.nan)
            out["previous_index"] = prev["index"].to_numpy(dtype=float)
            out["change"] = change
            out["change_ci_low"] = change - half
            out["change_ci_high"] = change + half
            out["significant"] = [None if np.isnan(lo) or np.isnan(hi) else bool(lo > 0 or hi < 0)
                                  for lo, hi in zip(out["change_ci_low"], out["change_ci_high"])]
            out["comparable"] = None
    if "change" in departments.columns:
        given = departments["change"].astype(float).to_numpy()
        has = ~np.isnan(given)
        out.loc[has, "change"] = given[has]
    return out[CHANGE_COLUMNS]


def movers(changes: pd.DataFrame, *, k: int = 3) -> dict[str, pd.DataFrame]:
    """The ``k`` most improved and most declined departments by index change.

    Changes marked not comparable are left out (a changed definition is not
    an improvement).  Ties by ``department_id``.  Returns
    ``{"improved": ..., "declined": ...}``, rows of :func:`change_table`.
    """
    usable = changes[changes["change"].notna() & (changes["comparable"].map(lambda v: v is not False))]
    up = usable[usable["change"] > 0].sort_values(["change", "department_id"], ascending=[False, True],
                                                  kind="mergesort")
    down = usable[usable["change"] < 0].sort_values(["change", "department_id"], ascending=[True, True],
                                                    kind="mergesort")
    return {"improved": up.head(k).reset_index(drop=True), "declined": down.head(k).reset_index(drop=True)}


def adjustment_label(history, lang: str) -> str:
    """The multiplicity adjustment a ``trends`` frame names, in words (Holm when it names none)."""
    from reports.labels import LABELS, label

    t = history.get("trends") if isinstance(history, Mapping) else None
    method = "holm"
    if isinstance(t, pd.DataFrame) and "p_adjust_method" in t and t["p_adjust_method"].notna().any():
        method = str(t["p_adjust_method"].dropna().iloc[0])
    key = f"adjust_{method}"
    return label(key, lang) if key in LABELS else method
