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
same_source                       ``same_source_min`` or more questionnaires from one IP
                                  address, or one device / platform account, within
                                  ``same_source_minutes`` of each other: every questionnaire of
                                  such a burst is screened
identical_text                    the same free-text answer (comment or text item, compared
                                  without spaces and punctuation), at least
                                  ``identical_text_min_chars`` characters long, from
                                  ``identical_text_min`` or more respondents of one
                                  department: all of them
================================  ==========================================================

Why these two.  Questionnaires a department's staff fill in themselves come
in bursts from the hall's computer or one phone, and often carry the same
praise word for word; genuine respondents do neither.  But a service hall's
tablet or Wi-Fi legitimately sends many questionnaires from one address,
and short comments (无, 很好, 满意) are identical by nature: so both screens
flag by default, the text screen ignores short answers, and the burst
screen needs submission times with the time of day (a date alone cannot
tell a burst from a busy day: the screen is skipped with a warning).
IP addresses and device ids are compared as salted hashes
(:func:`surveys.privacy.hash_identifier`); no address is kept.

``outside_period`` is applied while each file is parsed (:mod:`surveys.ingest`).
Flags are recorded per department in the ledger's flag table.
"""

from __future__ import annotations

import re
import unicodedata
import warnings

import numpy as np
import pandas as pd

from .errors import MinpingWarning
from .framework import Framework
from .ledger import Ledger

#: what identical texts are compared without: spaces and punctuation of either width
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
#: the source columns of the burst screen (hashed at the door), with how a flag names them
SOURCES = (("ip_address_hash", "IP"), ("device_id_hash", "device"))


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
        if sc.same_source != "off":
            checks.append(("same_source", sc.same_source, same_source(survey, sc.same_source_min,
                                                                      sc.same_source_minutes), ""))
        texts = ["comment", *framework.item_ids("survey", kind=None)]
        texts = [c for c in texts if c in survey.columns and (c == "comment" or
                                                             framework.item("survey", c).kind == "text")]
        if sc.identical_text != "off" and texts:
            checks.append(("identical_text", sc.identical_text, identical_text(
                survey[texts], sc.identical_text_min, sc.identical_text_min_chars,
                groups=survey["department_id"]), ""))
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


def same_source(survey: pd.DataFrame, n_min: int, minutes: float) -> pd.Series:
    """Questionnaires in a burst: ``n_min`` or more from one hashed IP or device within ``minutes``.

    For each source, a questionnaire is in a burst when a window of
    ``minutes`` that holds it holds ``n_min`` or more questionnaires of that
    source (submission times from ``interview_date``).  False where the
    source or the time is missing; all False, with a warning, when the
    submission times carry no time of day.
    """
    out = pd.Series(False, index=survey.index)
    present = [c for c, _ in SOURCES if c in survey.columns and survey[c].notna().any()]
    if not present or n_min < 2:
        return out
    when = survey["interview_date"]
    if when.notna().any() and (when.dropna() == when.dropna().dt.normalize()).all():
        warnings.warn("the same-source screen needs submission times with the time of day; the survey's dates "
                      "have none, so bursts from one IP address or device were not looked for", MinpingWarning,
                      stacklevel=3)
        return out
    span = np.timedelta64(int(round(minutes * 60)), "s")
    for column in present:
        frame = pd.DataFrame({"s": survey[column], "t": when}).dropna()
        frame = frame.sort_values(["s", "t"], kind="stable")
        t = frame["t"].to_numpy(dtype="datetime64[ns]")
        hit = np.zeros(len(frame), dtype=bool)
        for start, stop in _runs(frame["s"].to_numpy(dtype=object)):
            times = t[start:stop]
            if len(times) < n_min:
                continue
            # the window starting at each questionnaire: how many fall within it
            ends = np.searchsorted(times, times + span, side="right")
            full = np.flatnonzero(ends - np.arange(len(times)) >= n_min)
            if len(full):
                # every questionnaire from a full window's start to its end is in the burst
                cover = np.zeros(len(times) + 1, dtype=np.int64)
                np.add.at(cover, full, 1)
                np.add.at(cover, ends[full], -1)
                hit[start:stop] = np.cumsum(cover)[:-1] > 0
        out.loc[frame.index[hit]] = True
    return out


def identical_text(texts: pd.DataFrame, n_min: int, min_chars: int, *, groups: pd.Series | None = None) -> pd.Series:
    """Respondents with a free-text answer that ``n_min`` or more respondents (of their group) gave word for word.

    Answers are compared after NFKC, case folding and removal of spaces and
    punctuation; answers shorter than ``min_chars`` characters in that form
    are never screened (无, 很好, 没有意见 are common by nature).  ``groups``
    (the department) limits the comparison to respondents of one group:
    staff who fill in questionnaires do it for their own department.
    """
    out = pd.Series(False, index=texts.index)
    group = groups.astype(str) if groups is not None else pd.Series("", index=texts.index)
    for column in texts.columns:
        # each distinct answer normalised once
        codes, uniques = pd.factorize(texts[column])
        normal = np.array([_NOISE.sub("", unicodedata.normalize("NFKC", str(v)).casefold()) for v in uniques] + [np.nan],
                          dtype=object)
        key = pd.Series(normal[codes], index=texts.index, dtype=object)
        # a column left empty everywhere reads as floats: no answer is long enough
        long = key.notna() & (key.astype("string").str.len() >= min_chars).fillna(False).astype(bool)
        pairs = group[long] + "\x1f" + key[long].astype(str)
        counts = pairs.map(pairs.value_counts())
        out |= (counts >= n_min).reindex(texts.index, fill_value=False)
    return out


def _runs(values: np.ndarray):
    """(start, stop) of each run of equal values in a sorted array."""
    if not len(values):
        return
    edges = np.flatnonzero(values[1:] != values[:-1]) + 1
    bounds = np.concatenate([[0], edges, [len(values)]])
    yield from zip(bounds[:-1], bounds[1:])
