"""Sampling frames: the case records a department supplies for the callback draw.

Before fieldwork every department hands over its case records (办件清单) for
the year: one row per case with the case number, the department, the
applicant's phone number, the matter and the month handled.  The callback
sample is drawn from this frame (:func:`evaluation.planning.draw_callback_sample`),
so the frame is read here with the same readers as every input
(:func:`surveys.readers.read_table`: encodings, XLSX, two-row headers) and
checked before anything is drawn.

Columns (:data:`CASE_RECORD_COLUMNS`; a file's columns are matched by the
mapping in ``project.toml``, the canonical name, or any of the Chinese
headers listed):

==============  =============================  ========  ==========================================
canonical       Chinese headers                required  meaning
==============  =============================  ========  ==========================================
case_id         办件编号, 受理编号, 业务流水号  yes       the case number, unique within a department
department_id   部门, 部门名称, 单位, 单位名称   yes       register name, alias or id
phone           联系电话, 手机号, 申请人电话     yes       the number the call centre dials (cells may
                                                          be blank: the case still belongs to the frame)
matter_id       事项编码                        no        the matter type (stratifies the draw)
matter_name     事项名称, 事项                   no        used when there is no matter_id
handled_month   办件月份, 办结日期, 受理日期     no        a month or date; kept as ``YYYY-MM``
==============  =============================  ========  ==========================================

Phone numbers stay in the returned records because the call centre needs
them; :mod:`minping.plan` writes them only into the restricted call lists.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataValidationError, Problem
from .framework import Framework
from .normalize import parse_dates
from .readers import read_table
from .schema import ColumnSpec

__all__ = ["CASE_RECORD_COLUMNS", "CaseFrame", "read_case_records"]

CASE_RECORD_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("case_id", "id", True, zh="办件编号"),
    ColumnSpec("department_id", "department", True, zh="部门"),
    ColumnSpec("phone", "phone", True, zh="联系电话"),
    ColumnSpec("matter_id", "id", zh="事项编码"),
    ColumnSpec("matter_name", "text", zh="事项名称"),
    ColumnSpec("handled_month", "month", zh="办件月份"),
)
#: further headers recognised for each column (after NFKC, case-insensitive)
HEADER_ALIASES = {
    "case_id": ("受理编号", "业务流水号", "办件号"),
    "department_id": ("部门名称", "单位", "单位名称"),
    "phone": ("手机号", "手机号码", "申请人电话", "联系方式"),
    "matter_name": ("事项",),
    "handled_month": ("办结日期", "受理日期", "办件日期"),
}
#: problems listed one by one before the rest are counted
MAX_LISTED = 50


@dataclass(frozen=True)
class CaseFrame:
    """A checked case-record frame.

    Attributes
    ----------
    records : DataFrame
        One row per case: ``department_id`` (register id), ``case_id``,
        ``phone`` (digits only, NA when blank), ``matter`` (``matter_id``,
        else ``matter_name``, else NA), ``handled_month`` (``YYYY-MM`` or
        the text as written), ``source_row`` (the row a spreadsheet shows).
    path : the file read
    sha256 : of the file's bytes
    rows_in : data rows read
    """

    records: pd.DataFrame
    path: Path
    sha256: str
    rows_in: int

    def sizes(self) -> pd.Series:
        """Case records per department id."""
        return self.records.groupby("department_id").size()

    def without_phone(self) -> pd.Series:
        """Case records without a phone number per department id."""
        return self.records["phone"].isna().groupby(self.records["department_id"]).sum()


def _key(text: object) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip().lower()


def _targets(headers: list[str], columns: dict[str, str] | None) -> tuple[dict[str, str], list[Problem]]:
    """File header -> canonical name: the mapping first, then canonical names, Chinese headers and aliases."""
    names = {c.name for c in CASE_RECORD_COLUMNS}
    problems = []
    out: dict[str, str] = {}
    for src, canon in (columns or {}).items():
        if canon not in names:
            problems.append(Problem(f"the mapping sends '{src}' to '{canon}', which a case-record frame does not have",
                                    fix=f"map it to one of {sorted(names)}"))
        elif src in headers:
            out[src] = canon
        else:
            problems.append(Problem(f"the mapping names '{src}', which is not a header of the file", value=headers,
                                    fix="write the header exactly as the file shows it"))
    taken = set(out.values())
    known = {}
    for c in CASE_RECORD_COLUMNS:
        for h in (c.name, c.zh, *HEADER_ALIASES.get(c.name, ())):
            known.setdefault(_key(h), c.name)
    for h in headers:
        canon = known.get(_key(h))
        if h not in out and canon and canon not in taken:
            out[h] = canon
            taken.add(canon)
    return out, problems


def read_case_records(path: str | Path, framework: Framework, *, year: int | None = None,
                      columns: dict[str, str] | None = None, encoding: str | None = None,
                      sheet: str | int | None = None, header_rows: int = 1,
                      delimiter: str | None = None) -> CaseFrame:
    """Read and check a case-record frame.

    Parameters
    ----------
    path : CSV/TXT (any encoding the readers detect), XLSX or Parquet
    framework : resolves department names, aliases and ids through its register
    year : if given, a department of the register that does not exist in
        ``year`` is a problem
    columns : file header -> canonical name (``[plan.frames.columns]``)
    encoding, sheet, header_rows, delimiter : as for :func:`surveys.readers.read_table`

    Returns
    -------
    CaseFrame

    Raises
    ------
    DataValidationError
        Every problem at once, each with its file, row and fix: a required
        column missing, a row without a case number, a department not in the
        register, a case number twice in one department.
    """
    path = Path(path)
    raw = read_table(path, sheet=sheet, header_rows=header_rows, delimiter=delimiter, encoding=encoding)
    frame = raw.frame
    targets, problems = _targets(list(frame.columns), columns)
    problems = [Problem(p.message, fix=p.fix, file=str(path), value=p.value) for p in problems]
    found = set(targets.values())
    for c in CASE_RECORD_COLUMNS:
        if c.required and c.name not in found:
            problems.append(Problem(f"required column '{c.name}' ({c.zh}) is missing", file=str(path), column=c.name,
                                    value=list(frame.columns),
                                    fix=f"add the column, or map the file's column to '{c.name}' under "
                                        "[plan.frames.columns] in project.toml"))
    if problems:
        raise DataValidationError(f"The case records {path.name} cannot be used", problems)
    df = pd.DataFrame({canon: frame[src] for src, canon in targets.items()})
    rows = np.asarray(raw.source_rows)
    text = {c: df[c].astype("string").str.normalize("NFKC").str.strip().replace("", pd.NA) for c in df.columns}

    lookup = {_key(k): v for k, v in framework.name_lookup().items()}
    dept_text = text["department_id"]
    ids = pd.Series([lookup.get(_key(v)) if pd.notna(v) else None for v in dept_text], index=df.index, dtype=object)
    active = {d.id for d in framework.departments if year is None or d.active(year)}
    listed: list[Problem] = []
    unlisted = 0

    def add(problem: Problem) -> None:
        nonlocal unlisted
        if len(listed) < MAX_LISTED:
            listed.append(problem)
        else:
            unlisted += 1

    case = text["case_id"]
    for i in np.flatnonzero(case.isna().to_numpy()):
        add(Problem("no case number", file=str(path), row=int(rows[i]), column="case_id",
                    fix="fill in the case number (办件编号) or delete the row"))
    for i in np.flatnonzero(ids.isna().to_numpy()):
        add(Problem("department not in the register", file=str(path), row=int(rows[i]), column="department_id",
                    value=None if pd.isna(dept_text.iloc[i]) else dept_text.iloc[i],
                    fix="write the department's register name, or add the name as an alias in framework.toml"))
    for i in np.flatnonzero((ids.notna() & ~ids.isin(active)).to_numpy()):
        add(Problem(f"department {ids.iloc[i]} does not exist in {year}", file=str(path), row=int(rows[i]),
                    column="department_id", value=dept_text.iloc[i],
                    fix="drop the department's records or correct the department"))
    key = pd.DataFrame({"d": ids, "c": case})
    dup = key.duplicated(keep="first") & key["c"].notna() & key["d"].notna()
    first_row = pd.Series(rows, index=key.index).groupby([key["d"], key["c"]]).transform("first")
    for i in np.flatnonzero(dup.to_numpy()):
        add(Problem(f"case number {case.iloc[i]} appears twice in department {ids.iloc[i]} "
                    f"(first in row {int(first_row.iloc[i])})", file=str(path), row=int(rows[i]), column="case_id",
                    fix="keep one row per case; a padded list is exactly what the callback draw must not count twice"))
    if unlisted:
        listed.append(Problem(f"... and {unlisted} more problems of the same kinds", file=str(path),
                              fix="correct the rows listed and read the file again"))
    if listed:
        raise DataValidationError(f"The case records {path.name} cannot be used", listed)

    phone = text["phone"].map(lambda v: "".join(ch for ch in v if ch.isdigit()) if pd.notna(v) else pd.NA)
    phone = phone.replace("", pd.NA).astype("string")
    matter = text.get("matter_id", pd.Series(pd.NA, index=df.index, dtype="string"))
    if "matter_name" in text:
        matter = matter.fillna(text["matter_name"])
    month = text.get("handled_month", pd.Series(pd.NA, index=df.index, dtype="string"))
    dates, _ = parse_dates(month)
    month = pd.Series(np.where(dates.notna(), dates.dt.strftime("%Y-%m"), month.astype(object)), index=df.index)
    records = pd.DataFrame({
        "department_id": ids.astype("string"), "case_id": case, "phone": phone, "matter": matter.astype("string"),
        "handled_month": month.astype("string"), "source_row": rows,
    })
    return CaseFrame(records, path, hashlib.sha256(path.read_bytes()).hexdigest(), len(records))
