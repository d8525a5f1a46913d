"""Plausibility rules: values that parse but cannot be true are stopped, set aside or flagged, never averaged in.

Parsing (:mod:`surveys.normalize`) knows whether a cell is a number or a date;
it cannot know that a survey weight of 2127348 is 212.7348 with its decimal
point lost, that 310 cases closed on time out of 100 closed is impossible, or
that a rectification dated 1970 is an empty cell exported as a zero date.
Each of those changed a grade without a warning: the weight moved a
department from B to A, the 310% was capped to full marks, the 1970
rectification counted as rectified on time.  The rules below find them.

===========================  ==============================================================  ==========
rule (reason and flag code)  rows it finds                                                   default
===========================  ==============================================================  ==========
``weight_invalid``           the design weight (``weights`` under ``[inputs.design]``) is      stop
                             missing, not finite, zero or negative, or above
                             :data:`MAX_WEIGHT`
``weight_outlier``           a design weight more than ``weight_ratio`` (50) times, or less    stop
                             than 1/``weight_ratio`` of, the median weight of its department
                             (and stratum, when strata are declared), over every file of
                             the table
``negative_number``          a negative value in a number or count column (counts, volumes,    quarantine
                             days, minutes, documents, durations, attempt numbers)
``rate_above_100``           an administrative subset above its whole (:data:`SUBSETS`):       quarantine
                             closed on time > closed; fully online or one-window > received
``promised_above_statutory`` a matter's promised days above its statutory days                 flag
``docs_increased``           a matter's current documents above its baseline                   flag
``implausible_date``         a date (or month) before ``earliest_date`` (2015-01-01), or       stop
                             after the period end: a month or handled month after it; a
                             rectification or guide check (:data:`TRAILING_DATES`) more
                             than ``late_days`` (90) after it
``rectified_before_rating``  a 好差评 rectification dated (by day) before its rating            flag
``no_call_record``           a callback interview whose case (department and case id) has      quarantine
                             no call attempt in the call records
``no_final_disposition``     a callback interview whose case's final call disposition          quarantine
                             (:mod:`surveys.callbacks`) is not complete or partial
===========================  ==============================================================  ==========

Why these defaults.  A wrong weight is not contained to its row: it shifts
its department's whole estimate, and which of two weights is right cannot be
guessed, so weights stop the run.  A negative count or a subset above its
whole is impossible; the row is set aside and the department's other rows
(months, matters, respondents) still measure it.  Promised days above
statutory days and documents added since the baseline can be true; they are
scored against the department (negative compression, negative reduction), so
keeping them never flatters it, and the flag asks the evaluator to rule out
swapped columns or a typing error.  An impossible date is usually an export
fault that touches many rows (a zero date for an empty cell), and setting a
好差评 record aside would drop a bad review from the department's count, so
dates stop the run.  A rectification before its rating is kept, so that the
bad review still counts, but :mod:`surveys.derive` never counts it as
rectified on time.  An interview that no completed call produced is not
evidence of anything (padded case lists and fabricated interviews look like
this), so it is set aside; G1 and the completion rates read the call records.

Modes (:data:`surveys.framework.PLAUSIBILITY_MODES`), chosen per rule in the
framework's ``[plausibility]`` section: ``stop`` raises one
:class:`~surveys.errors.DataValidationError` after every file has been read,
with a problem per file, rule and column naming the rows, the values and the
fix; ``quarantine`` lists the rows in the ledger with the rule as reason code
(for a value of an optional column, a negative waiting time or a
rectification dated 1970, the ingest layer clears that cell instead and lists
it among the ledger's cells: the row's other values still count);
``flag`` keeps the rows and records the rule per department in the ledger's
flag table (``Ledger.flags_frame()``, ``results/screen_flags.csv``), with the
number of rows and the first example.

Only rows that pass every other check are examined, so a row is listed once,
under its first reason.  Row rules are checked file by file (and record
batch by record batch when a table is streamed), within
:func:`surveys.ingest.load_year`; the weight medians and the call records
are checked across every file of the year once all are read.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .callbacks import final_dispositions
from .errors import MinpingWarning, Problem, listing
from .framework import Plausibility
from .ledger import REASONS, Ledger
from .schema import TableSpec

__all__ = ["COMPLETED", "MAX_WEIGHT", "SUBSETS", "TRAILING_DATES", "Checker", "Finding", "row_findings"]

#: a design weight above this is invalid: no population a city evaluation samples from is larger, and the
#: squares of larger weights lose the precision a variance needs (a weight of 1e300 gave a zero SE)
MAX_WEIGHT = 1e9
#: per table, (subset, whole) column pairs: the subset counts cases among those the whole counts
SUBSETS: dict[str, tuple[tuple[str, str], ...]] = {
    "admin_monthly": (("closed_on_time", "cases_closed"), ("cases_online", "cases_received"),
                      ("cases_one_window", "cases_received")),
}
#: (table, column) of dates that may fall after the period end, by up to ``late_days``: a bad review given in
#: December is rectified in January, guides are checked after the year they describe
TRAILING_DATES = frozenset({("ratings", "rectified_at"), ("guides", "check_date")})
#: final call dispositions that produce an interview
COMPLETED = ("complete", "partial")

_SWITCH = "set {code} = \"{other}\" under [plausibility] in the framework file"
FIXES: dict[str, str] = {
    "weight_invalid": "give every row a positive weight (or remove the row); if the column does not hold weights, "
                      "correct weights under [inputs.design] in project.toml",
    "weight_outlier": "look for a lost or misplaced decimal point and correct the weights; if such weights are "
                      "intended, raise weight_ratio under [plausibility] in the framework file",
    "negative_number": "correct the value: counts, volumes, days, minutes and documents cannot be negative",
    "rate_above_100": "a subset cannot exceed its whole (closed on time <= closed; fully online and one-window <= "
                      "received): ask the department for corrected figures",
    "promised_above_statutory": "check that the promised and statutory days are not swapped; if the figures are "
                                "right, keep them (they are scored as negative compression)",
    "docs_increased": "check that the baseline and current document counts are not swapped or mistyped; if "
                      "documents were added, keep them (they are scored as negative reduction)",
    "implausible_date": "correct the dates; a date such as 1970-01-01 or 1900-01-00 usually is an empty cell "
                        "exported as a zero date: leave such cells empty",
    "rectified_before_rating": "correct the rectification date in the 好差评 export (it must be on or after the "
                               "rating date)",
    "no_call_record": "add the case's call attempts to the call records, or correct the case id or department of "
                      "the interview",
    "no_final_disposition": "check the call record: an interview needs a call whose outcome is 成功访问 or 部分完成",
}


@dataclass(frozen=True)
class Finding:
    """Rows of a frame that a rule found.

    Attributes
    ----------
    code : str
        The rule (a field of :class:`~surveys.framework.Plausibility`).
    mask : numpy.ndarray
        bool, one per row of the frame.
    column : str
        The column named in a stopping problem.
    detail : callable
        Positions (int array) -> one text per position, e.g.
        ``closed_on_time=310 > cases_closed=100``.
    """

    code: str
    mask: np.ndarray
    column: str
    detail: Callable[[np.ndarray], list[str]]


def row_findings(df: pd.DataFrame, table: TableSpec, design: Mapping[str, str] | None, rules: Plausibility,
                 period: tuple[dt.date, dt.date] | None, stamps: Mapping[str, pd.Series]) -> list[Finding]:
    """The row rules on one parsed frame (every row; the caller keeps those still in use).

    Parameters
    ----------
    df : pandas.DataFrame
        Canonical columns, parsed (numbers float, dates datetime64).
    table : TableSpec
    design : mapping or None
        The input's ``[inputs.design]``; its ``weights`` column is checked.
    rules : Plausibility
    period : (date, date) or None
        The evaluation period of the year.
    stamps : mapping of str to pandas.Series
        Per date and month column, its values as ``datetime64`` (a month
        as its first day).

    Returns
    -------
    list of Finding
        In the order the rules are applied.
    """
    out: list[Finding] = []
    weights = (design or {}).get("weights")
    if weights in df.columns:
        w = _floats(df[weights])
        out.append(Finding("weight_invalid", ~np.isfinite(w) | (w <= 0) | (w > MAX_WEIGHT), weights,
                           _values(weights, w)))
    for col in table.columns:
        if col.kind in ("number", "count") and col.name in df.columns and col.name != weights:
            x = _floats(df[col.name])
            out.append(Finding("negative_number", x < 0, col.name, _values(col.name, x)))
    for part, whole in SUBSETS.get(table.name, ()):
        if {part, whole} <= set(df.columns):
            out.append(_above("rate_above_100", df, part, whole))
    if table.name == "admin_matters":
        if {"promised_days", "statutory_days"} <= set(df.columns):
            out.append(_above("promised_above_statutory", df, "promised_days", "statutory_days"))
        if {"docs_current", "docs_baseline"} <= set(df.columns):
            out.append(_above("docs_increased", df, "docs_current", "docs_baseline"))
    earliest = np.datetime64(rules.earliest_date, "ns")
    end = None if period is None else np.datetime64(period[1], "ns") + np.timedelta64(1, "D")
    for col in table.columns:
        if col.name not in stamps:
            continue
        d = stamps[col.name].to_numpy(dtype="datetime64[ns]")
        bound = np.full(len(d), np.datetime64("NaT", "ns"))
        early = d < earliest
        late = np.zeros(len(d), dtype=bool)
        if end is not None and col.name != table.date_column:
            limit = end + np.timedelta64(rules.late_days, "D") if (table.name, col.name) in TRAILING_DATES else end
            late = d >= limit
            bound = np.where(late, limit - np.timedelta64(1, "D"), bound)
        out.append(Finding("implausible_date", early | late, col.name,
                           _dates(col.name, d, early, earliest, bound)))
    if table.name == "ratings" and {"rated_at", "rectified_at"} <= set(stamps):
        rated = stamps["rated_at"].to_numpy(dtype="datetime64[D]")
        rect = stamps["rectified_at"].to_numpy(dtype="datetime64[D]")
        before = rect < rated

        def detail(idx, rated=rated, rect=rect):
            return [f"rectified_at={rect[i]} before rated_at={rated[i]}" for i in idx]
        out.append(Finding("rectified_before_rating", before, "rectified_at", detail))
    return out


class Checker:
    """Applies the rules of a year's load and settles what they find by each rule's mode.

    Parameters
    ----------
    rules : Plausibility
    ledger : Ledger
        Where quarantined rows and flags go.
    paths : mapping of str to str
        Ledger label of each input file -> its path as problems name it.
    """

    def __init__(self, rules: Plausibility, ledger: Ledger, paths: Mapping[str, str]):
        self.rules = rules
        self.ledger = ledger
        self.paths = dict(paths)
        self._stops: dict[tuple[str, str, str], dict] = {}

    # -- row rules ---------------------------------------------------------------------------
    def check_rows(self, df: pd.DataFrame, table: TableSpec, design, period, stamps, *,
                   ok: Callable[[], np.ndarray], quarantine: Callable[[np.ndarray, str, Callable, str], None]) -> None:
        """Settle :func:`row_findings` on one parsed frame (carrying ``_file``, ``_row``, ``department_id``).

        ``ok()`` gives the rows still in use; ``quarantine(mask, code,
        detail, column)`` sets aside what the rule found the way the caller
        keeps its books: the row, or (for an optional ``column``) the cell.
        """
        for finding in row_findings(df, table, design, self.rules, period, stamps):
            self._settle(finding, df, table.name, ok(), quarantine)

    # -- table rules -------------------------------------------------------------------------
    def check_tables(self, tables: dict[str, pd.DataFrame], designs: Mapping[str, Mapping[str, str]], *,
                     skip=()) -> dict[str, pd.DataFrame]:
        """Weights against their group's median and callback interviews against the call records.

        ``tables`` are the year's row-level tables (all files of each
        concatenated, carrying ``_file``, ``_row``, ``_dept_text``); tables
        in ``skip`` (a file of theirs could not be read) are left alone.
        Returns the tables without the rows set aside.
        """
        out = dict(tables)
        for name, df in tables.items():
            design = designs.get(name) or {}
            weights = design.get("weights")
            if name in skip or weights not in df.columns or df.empty:
                continue
            out[name] = self._settle_table([self._outliers(df, weights, design.get("strata"))], df, name)
        interviews, attempts = out.get("callback_interviews"), out.get("callback_attempts")
        if interviews is not None and len(interviews) and not {"callback_interviews", "callback_attempts"} & set(skip):
            if attempts is None:
                warnings.warn("the year has callback interviews but no call records (callback_attempts): the "
                              "interviews cannot be checked against the calls that produced them, and the "
                              "callback completion and authenticity gates cannot be computed; add the call-centre "
                              "export as a callback_attempts input", MinpingWarning, stacklevel=3)
            else:
                out["callback_interviews"] = self._settle_table(self._calls(interviews, attempts), interviews,
                                                                "callback_interviews")
        return out

    def problems(self) -> list[Problem]:
        """One problem per file, rule and column found in ``stop`` mode."""
        out = []
        for (path, code, column), found in self._stops.items():
            n, rows = found["n"], found["rows"]
            examples = "; ".join(found["examples"])
            out.append(Problem(
                f"{REASONS[code][1]} ({code}): {n} row(s): {'row' if n == 1 else 'rows'} "
                f"{listing(rows[:5], shown=5, total=n)}; e.g. {examples}",
                fix=FIXES[code] + "; or, to set such rows aside, " + _SWITCH.format(code=code, other="quarantine"),
                file=path, row=rows[0] if n == 1 else None, column=column, code=code))
        return out

    # -- internals ---------------------------------------------------------------------------
    def _settle(self, finding: Finding, rows: pd.DataFrame, table: str, ok: np.ndarray,
                quarantine: Callable[[np.ndarray, str, Callable, str], None]) -> None:
        mask = np.asarray(finding.mask, dtype=bool) & ok
        if not mask.any():
            return
        mode = getattr(self.rules, finding.code)
        if mode in ("quarantine", "stop"):
            # Rows that stop the year are set aside too, so that no later rule lists them again; the
            # ledger of a year that stops is never written.
            quarantine(mask, finding.code, finding.detail, finding.column)
            if mode == "quarantine":
                return
        idx = np.flatnonzero(mask)
        files = rows["_file"].to_numpy()[idx]
        numbers = rows["_row"].to_numpy()[idx]
        if mode == "stop":
            for label in dict.fromkeys(files):
                mine = idx[files == label]
                found = self._stops.setdefault((self.paths.get(label, label), finding.code, finding.column),
                                               {"n": 0, "rows": [], "examples": []})
                found["n"] += len(mine)
                found["rows"] += rows["_row"].to_numpy()[mine][:5 - len(found["rows"])].tolist()
                room = 3 - len(found["examples"])
                if room > 0:
                    shown = mine[:room]
                    found["examples"] += [f"row {r}: {d}" for r, d in
                                          zip(rows["_row"].to_numpy()[shown], finding.detail(shown), strict=True)]
            return
        first = {}
        departments = rows["department_id"].to_numpy()[idx]
        for k, dept in enumerate(departments):
            first.setdefault(dept, k)
        shown = np.array([idx[k] for k in first.values()], dtype=np.int64)
        examples = {dept: f"{files[k]} row {numbers[k]}: {text}"
                    for (dept, k), text in zip(first.items(), finding.detail(shown), strict=True)}
        self.ledger.flag_rows(table=table, code=finding.code, departments=departments, examples=examples)

    def _settle_table(self, findings: list[Finding], df: pd.DataFrame, table: str) -> pd.DataFrame:
        """Settle findings on a whole table (rows already counted in the ledger); return the rows kept."""
        dropped = np.zeros(len(df), dtype=bool)

        def quarantine(mask, code, detail, column):
            idx = np.flatnonzero(mask)
            self.ledger.late_quarantine(df.iloc[idx], table=table, code=code, detail=detail(idx))
            dropped[idx] = True

        for finding in findings:
            self._settle(finding, df, table, ~dropped, quarantine)
        return df.loc[~dropped].reset_index(drop=True) if dropped.any() else df

    def _outliers(self, df: pd.DataFrame, weights: str, strata: str | None) -> Finding:
        groups = ["department_id"] + ([strata] if strata in df.columns and strata != "department_id" else [])
        w = _floats(df[weights])
        median = df.groupby(groups, dropna=False, sort=False)[weights].transform("median").to_numpy(dtype=float)
        ratio = w / median  # weights reaching this rule are positive and finite (weight_invalid)
        bound = self.rules.weight_ratio
        where = "department and stratum" if len(groups) > 1 else "department"

        def detail(idx):
            out = []
            for i in idx:
                factor = f"{ratio[i]:,.0f} times" if ratio[i] >= 1 else f"1/{1 / ratio[i]:,.0f} of"
                out.append(f"{weights}={_num(w[i])}, {factor} the median {median[i]:.7g} of its {where}")
            return out
        return Finding("weight_outlier", (ratio > bound) | (ratio < 1 / bound), weights, detail)

    def _calls(self, interviews: pd.DataFrame, attempts: pd.DataFrame) -> list[Finding]:
        final = final_dispositions(attempts)[["department_id", "case_id", "disposition"]]
        keys = interviews[["department_id", "case_id"]].astype(object)
        found = keys.merge(final.astype(object), on=["department_id", "case_id"], how="left")["disposition"]
        found = found.to_numpy(dtype=object)
        case = interviews["case_id"].astype("string").fillna("").to_numpy(dtype=object)
        missing = pd.isna(found)
        incomplete = ~missing & ~np.isin(found.astype(str), COMPLETED)

        def no_record(idx):
            return [f"case_id={case[i]}" for i in idx]

        def not_completed(idx):
            return [f"case_id={case[i]}, final call disposition {found[i]}" for i in idx]
        return [Finding("no_call_record", missing, "case_id", no_record),
                Finding("no_final_disposition", incomplete, "case_id", not_completed)]


# ------------------------------------------------------------------------------------------ helpers


def _floats(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _num(v: float) -> str:
    """A value as a message shows it: whole numbers without ``.0``, others in shortest round-trip form."""
    if np.isnan(v):
        return "(empty)"
    if np.isfinite(v) and float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def _values(name: str, x: np.ndarray) -> Callable[[np.ndarray], list[str]]:
    return lambda idx: [f"{name}={_num(x[i])}" for i in idx]


def _above(code: str, df: pd.DataFrame, part: str, whole: str) -> Finding:
    a, b = _floats(df[part]), _floats(df[whole])
    return Finding(code, a > b, part, lambda idx: [f"{part}={_num(a[i])} > {whole}={_num(b[i])}" for i in idx])


def _dates(name: str, d: np.ndarray, early: np.ndarray, earliest: np.datetime64,
           bound: np.ndarray) -> Callable[[np.ndarray], list[str]]:
    def detail(idx):
        out = []
        for i in idx:
            when = np.datetime_as_string(d[i], unit="D")
            if early[i]:
                out.append(f"{name}={when} (before {np.datetime_as_string(earliest, unit='D')})")
            else:
                out.append(f"{name}={when} (after {np.datetime_as_string(bound[i], unit='D')})")
        return out
    return detail
