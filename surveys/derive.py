"""Derived fields added to the canonical tables after parsing.

==========================  ==================================================================
table.field                 definition
==========================  ==================================================================
callback_interviews.        1 if the reported processing days are at most the promised days,
within_promised             0 if more, NaN if either is missing
visits.checklist_score      mean of the visit's checklist items (the framework's visit items on a
                            scale of kind ``checklist``: 1 / 0.5 / 0), N/A items excluded; NaN
                            when every item is N/A
admin_matters.              annual_volume x (statutory - promised) / statutory days, so that the
compression_x_volume        ratio over annual_volume is the volume-weighted compression
admin_matters.docs_removed  docs_baseline - docs_current
ratings.is_bad              1 for levels 1-2 (不满意, 非常不满意: a 差评), else 0
ratings.rectified_on_time   1 if a bad review was rectified within its deadline in working days
                            (Mon-Fri, numpy.busday_count from the rating date), else 0; a bad
                            review without a deadline gets the longest local deadline, 15 days;
                            a rectification dated before the rating is never on time
ratings.rectification_      1 if a bad review has a callback level, else 0
called_back
ratings.rectification_      1 if that callback was rated 基本满意 or better (levels 3-5), else 0
satisfied
==========================  ==================================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DEFAULT_DEADLINE_DAYS = 15


def derive_all(tables: dict[str, pd.DataFrame], *, checklist: tuple[str, ...] = ()) -> dict[str, pd.DataFrame]:
    """Every derived field of the tables present; ``checklist``: the checklist items of the visits."""
    out = dict(tables)
    for name, fn in _DERIVERS.items():
        if name in out:
            out[name] = fn(out[name].copy(), checklist) if name == "visits" else fn(out[name].copy())
    return out


def _callback(df: pd.DataFrame) -> pd.DataFrame:
    if {"days_reported", "promised_days"} <= set(df.columns):
        ok = df["days_reported"].notna() & df["promised_days"].notna()
        df["within_promised"] = np.where(ok, (df["days_reported"] <= df["promised_days"]).astype(float), np.nan)
    else:
        df["within_promised"] = np.nan
    return df


def _visits(df: pd.DataFrame, checklist: tuple[str, ...]) -> pd.DataFrame:
    items = [c for c in checklist if c in df.columns]
    df["checklist_score"] = df[items].mean(axis=1, skipna=True) if items else np.nan
    return df


def _matters(df: pd.DataFrame) -> pd.DataFrame:
    stat = df.get("statutory_days")
    prom = df.get("promised_days")
    if stat is not None and prom is not None:
        ratio = np.where(stat > 0, (stat - prom) / stat, np.nan)
        df["compression_x_volume"] = df["annual_volume"] * ratio
    else:
        df["compression_x_volume"] = np.nan
    if {"docs_baseline", "docs_current"} <= set(df.columns):
        df["docs_removed"] = df["docs_baseline"] - df["docs_current"]
    else:
        df["docs_removed"] = np.nan
    return df


def _ratings(df: pd.DataFrame) -> pd.DataFrame:
    level = df["level"]
    bad = level.notna() & (level <= 2)
    df["is_bad"] = bad.astype(float)
    rated = df["rated_at"].to_numpy(dtype="datetime64[D]")
    rect = df["rectified_at"] if "rectified_at" in df.columns else pd.Series(pd.NaT, index=df.index)
    rect_d = rect.to_numpy(dtype="datetime64[D]")
    has = bad.to_numpy() & ~np.isnat(rect_d) & ~np.isnat(rated)
    days = np.full(len(df), np.nan)
    if has.any():
        days[has] = np.busday_count(rated[has], rect_d[has])
    deadline = (df["deadline_days"] if "deadline_days" in df.columns else pd.Series(np.nan, index=df.index))
    deadline = deadline.fillna(DEFAULT_DEADLINE_DAYS).to_numpy()
    # A rectification dated before its rating (kept by the plausibility rule rectified_before_rating) is no
    # rectification of that rating: never on time.
    # A file without the column says nothing about rectification: empty, never a rate of zero.
    df["rectified_on_time"] = ((has & (days >= 0) & (days <= deadline)).astype(float)
                               if "rectified_at" in df.columns else np.nan)
    if "callback_level" in df.columns:
        cb = df["callback_level"]
        called = bad & cb.notna()
        df["rectification_called_back"] = called.astype(float)
        df["rectification_satisfied"] = (called & (cb >= 3)).astype(float)
    else:
        df["rectification_called_back"] = df["rectification_satisfied"] = np.nan
    return df


#: table -> derived field -> the file columns it is computed from ("checklist": the visit's checklist items)
DERIVED_FROM: dict[str, dict[str, tuple[str, ...]]] = {
    "callback_interviews": {"within_promised": ("days_reported", "promised_days")},
    "visits": {"checklist_score": ("checklist",)},
    "admin_matters": {"compression_x_volume": ("annual_volume", "statutory_days", "promised_days"),
                      "docs_removed": ("docs_baseline", "docs_current")},
    "ratings": {"is_bad": ("level",), "rectified_on_time": ("rectified_at",),
                "rectification_called_back": ("callback_level",), "rectification_satisfied": ("callback_level",)},
}


def source_columns(table: str, field: str, *, checklist: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The columns of a file of ``table`` that ``field`` is read or derived from (the field itself unless derived).

    A derived field whose sources are missing would come out empty or zero
    for every row (see the definitions above), so the reader checks these
    columns, not the derived name.
    """
    sources = DERIVED_FROM.get(table, {}).get(field)
    if sources is None:
        return (field,)
    return tuple(c for s in sources for c in (checklist if s == "checklist" else (s,)))


_DERIVERS = {
    "callback_interviews": _callback,
    "visits": _visits,
    "admin_matters": _matters,
    "ratings": _ratings,
}
