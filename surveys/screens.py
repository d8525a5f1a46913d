"""Quality screens on validated rows, each set in the framework to flag, quarantine or off.

================================  ==========================================================
screen                            rule
================================  ==========================================================
duplicate_respondent              survey rows with the same hashed phone, department and
                                  interview month: the first is kept, later ones screened
straight_lining                   a survey respondent who answered at least
                                  ``straight_lining_min_items`` Likert items, all identically
speeder                           survey completion time under ``speeder_seconds``
phone_on_many_cases               one hashed phone on ``phone_on_many_cases_min`` or more
                                  callback cases of a department (a padding signal; always a
                                  department-level flag, rows are kept)
================================  ==========================================================

``outside_period`` is applied while each file is parsed (:mod:`surveys.ingest`).
Flags are recorded per department in the ledger's flag table.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .framework import Framework
from .ledger import Ledger


def apply(tables: dict[str, pd.DataFrame], framework: Framework, ledger: Ledger) -> dict[str, pd.DataFrame]:
    out = dict(tables)
    sc = framework.screens
    survey = out.get("survey")
    if survey is not None and len(survey):
        checks = []
        if "phone_hash" in survey.columns:
            month = survey["interview_date"].dt.to_period("M").astype(str)
            dup = survey["phone_hash"].notna() & pd.DataFrame(
                {"p": survey["phone_hash"], "d": survey["department_id"], "m": month}).duplicated(keep="first")
            checks.append(("duplicate_respondent", sc.duplicate_respondent, dup, ""))
        items = [c for c in framework.item_ids("survey", kind="likert") if c in survey.columns]
        if items:
            straight = _straight_lining(survey[items], sc.straight_lining_min_items)
            checks.append(("straight_lining", sc.straight_lining, straight, ""))
        if "duration_sec" in survey.columns:
            speeder = survey["duration_sec"] < sc.speeder_seconds
            checks.append(("speeder", sc.speeder, speeder, ""))
        drop = pd.Series(False, index=survey.index)
        for code, mode, mask, detail in checks:
            mask = mask.fillna(False) & ~drop
            if mode == "off" or not mask.any():
                continue
            if mode == "quarantine":
                ledger.late_quarantine(survey.loc[mask], table="survey", code=_code(code))
                drop |= mask
            for dept, n in survey.loc[mask].groupby("department_id").size().items():
                ledger.flag(table="survey", department_id=dept, code=code, n=n,
                            detail="quarantined" if mode == "quarantine" else "kept")
        out["survey"] = survey.loc[~drop].reset_index(drop=True)
    attempts = out.get("callback_attempts")
    if attempts is not None and len(attempts) and "phone_hash" in attempts.columns \
            and sc.phone_on_many_cases != "off":
        cases = attempts.drop_duplicates(["department_id", "case_id"])
        per_phone = cases.dropna(subset=["phone_hash"]).groupby(["department_id", "phone_hash"]).size()
        many = per_phone[per_phone >= sc.phone_on_many_cases_min]
        for dept, grp in many.groupby(level=0):
            ledger.flag(table="callback_attempts", department_id=dept, code="phone_on_many_cases",
                        n=int(grp.sum()), detail=f"{len(grp)} phone(s) on {int(grp.sum())} cases")
    return out


def _straight_lining(answers: pd.DataFrame, min_items: int) -> pd.Series:
    """Rows with at least ``min_items`` answers, all identical (missing answers ignored).

    "Largest answer equals smallest" is the test ``nunique(axis=1) == 1`` makes, without its Python loop
    over rows (2 M respondents: seconds instead of minutes); answers that are not numbers keep ``nunique``.
    """
    answered = answers.notna().sum(axis=1)
    try:
        values = answers.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        same = answers.nunique(axis=1, dropna=True) == 1
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a row without answers: its max is NaN, not equal
            same = pd.Series(np.fmax.reduce(values, axis=1) == np.fmin.reduce(values, axis=1), index=answers.index)
    return (answered >= min_items) & same


def _code(screen: str) -> str:
    return {"duplicate_respondent": "duplicate_respondent"}.get(screen, "screened_" + screen)
