"""The 整改 workbook as the departments return it: last year's problems with their rectification status.

Each year's documents include a citywide rectification workbook
(``report/<lang>/rectification.xlsx``): one row per department and problem,
with the evidence, the points at stake, the owner, the deadline and a status
column for the department to fill in.  Returned, it is declared under
``[rectification]`` in ``project.toml`` for the next year, whose run reads it
with :func:`read_rectification` and judges every problem again from the new
evidence (:func:`evaluation.problems.follow_up`).

The columns are found by their headers in either language (:data:`COLUMNS`,
the one source the workbook writer also uses).  The status is one of
:data:`STATUSES` (a blank cell: not reported).  Every problem of the file is
reported at once, each with its row and fix.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import DataValidationError, Problem
from .readers import read_table

#: canonical name -> (Chinese header, English header) of the workbook's columns
COLUMNS: dict[str, tuple[str, str]] = {
    "year": ("评估年度", "Evaluation year"),
    "department_id": ("部门编号", "Department ID"),
    "department": ("部门", "Department"),
    "problem_no": ("序号", "No."),
    "kind_label": ("问题类别", "Kind of problem"),
    "problem": ("问题", "Problem"),
    "evidence": ("证据", "Evidence"),
    "count": ("数量", "Count"),
    "base": ("核查总数", "Checked"),
    "points_at_stake": ("可提升分值", "Points at stake"),
    "beyond_noise": ("超出抽样误差", "Beyond sampling noise"),
    "owner": ("责任单位", "Owner"),
    "deadline": ("整改期限", "Deadline"),
    "status": ("整改状态", "Status"),
    "note": ("整改情况说明", "Department's note"),
    "key": ("问题代码", "Problem code"),
    "kind": ("类别代码", "Kind code"),
}
#: columns a returned workbook must keep
REQUIRED = ("year", "department_id", "key", "kind", "status")
#: status code -> (Chinese, English) as the workbook's drop-down offers them
STATUSES: dict[str, tuple[str, str]] = {
    "open": ("未整改", "not started"),
    "in_progress": ("整改中", "in progress"),
    "done": ("已整改", "done"),
}
#: columns of the frame :func:`read_rectification` returns (``evaluation.problems.PREVIOUS_COLUMNS``)
READ_COLUMNS = ["year", "department_id", "problem_no", "kind", "key", "count", "base", "status", "owner", "note"]


def header(column: str, lang: str) -> str:
    """The header of ``column`` in ``lang`` (``"zh"`` or ``"en"``)."""
    zh, en = COLUMNS[column]
    return zh if lang == "zh" else en


def status_label(code: str, lang: str) -> str:
    """A status code as the workbook's drop-down shows it."""
    zh, en = STATUSES[code]
    return zh if lang == "zh" else en


def read_rectification(path: str | Path, *, department_ids=None) -> pd.DataFrame:
    """Read a returned 整改 workbook (either language).

    Parameters
    ----------
    path : the workbook (XLSX, or a CSV exported from it)
    department_ids : optional ids of the register; a row naming another id is a problem

    Returns
    -------
    DataFrame
        :data:`READ_COLUMNS`; ``status`` is a code of :data:`STATUSES` or ``""``
        (not reported); ``count``, ``base`` and ``problem_no`` are numbers
        (NaN when empty).

    Raises
    ------
    DataValidationError
        Listing every problem: a required column missing, a row without a
        department or problem code, a year or number that is not one, an
        unknown status or department.
    """
    raw = read_table(path)
    frame, rows = raw.frame, raw.source_rows
    where = str(raw.path)
    names = {label.strip().lower(): canon for canon, pair in COLUMNS.items() for label in pair}
    found = {names[c.strip().lower()]: c for c in frame.columns if c.strip().lower() in names}
    problems = [Problem(f"the column '{header(c, 'zh')}' / '{header(c, 'en')}' is missing", file=where,
                        fix="return the workbook minping wrote with its columns unchanged (fill in the status and "
                            "note columns only)", code="missing_column") for c in REQUIRED if c not in found]
    if problems:
        raise DataValidationError("The returned rectification workbook cannot be read", problems)
    out = pd.DataFrame({c: frame[found[c]] if c in found else pd.Series(pd.NA, index=frame.index, dtype="string")
                        for c in ("year", "department_id", "problem_no", "kind", "key", "count", "base", "status",
                                  "owner", "note")})
    labels = {label: code for code, pair in STATUSES.items() for label in (*pair, code)}
    for i in range(len(out)):
        row = int(rows[i])
        for col in ("department_id", "key", "kind"):
            if pd.isna(out.at[i, col]) or not str(out.at[i, col]).strip():
                problems.append(Problem("the cell is empty", file=where, row=row, column=found[col],
                                        fix="keep the technical columns as minping wrote them", code="missing_value"))
        status = out.at[i, "status"]
        if not pd.isna(status) and str(status).strip() not in labels:
            problems.append(Problem("unknown status", file=where, row=row, column=found["status"], value=str(status),
                                    fix=f"choose one of {', '.join(p[0] for p in STATUSES.values())} "
                                        f"(or {', '.join(p[1] for p in STATUSES.values())}), or leave it empty"))
        dep = out.at[i, "department_id"]
        if department_ids is not None and not pd.isna(dep) and str(dep).strip() not in set(department_ids):
            problems.append(Problem("department not in the register", file=where, row=row,
                                    column=found["department_id"], value=str(dep),
                                    fix="keep the department ids minping wrote"))
    numbers = {}
    for col in ("year", "problem_no", "count", "base"):
        values = pd.to_numeric(out[col], errors="coerce")
        bad = values.isna() & out[col].notna()
        problems += [Problem("not a number", file=where, row=int(rows[i]), column=found.get(col, col),
                             value=str(out.at[i, col]), fix="keep the numbers minping wrote")
                     for i in bad[bad].index]
        numbers[col] = values
    missing_year = numbers["year"].isna() & out["year"].isna()
    problems += [Problem("the cell is empty", file=where, row=int(rows[i]), column=found["year"],
                         fix="keep the evaluation year minping wrote", code="missing_value")
                 for i in missing_year[missing_year].index]
    if problems:
        raise DataValidationError("The returned rectification workbook has problems", problems)
    result = pd.DataFrame({
        "year": numbers["year"].astype(int), "department_id": out["department_id"].astype(str).str.strip(),
        "problem_no": numbers["problem_no"], "kind": out["kind"].astype(str).str.strip(),
        "key": out["key"].astype(str).str.strip(), "count": numbers["count"], "base": numbers["base"],
        "status": [labels[str(s).strip()] if not pd.isna(s) else "" for s in out["status"]],
        "owner": out["owner"].fillna("").astype(str), "note": out["note"].fillna("").astype(str)})
    return result[READ_COLUMNS]
