"""The quarantine ledger: every input row is either used or listed with its reason, every cleared cell too.

For every file, ``rows_in = rows_used + rows_quarantined`` (blank lines are not
rows and are counted separately).  A row with several problems is listed once
per problem but counted once.

Cells.  A value that cannot be read in an *optional* field (an answer, a
duration, a category such as the respondent type) does not cost the row: the
cell is cleared (read as missing) and listed in the cells table
(:meth:`Ledger.cells_frame`, written as ``cleared_cells.csv``) with file,
source row, department, column, the value as found (masked) and the reason;
the respondent's other answers stay in use.  Required fields (ids, the
department, the dates and codes a table cannot do without) and the design
columns still quarantine the row.  The cells listed are those of used rows:
a row set aside later takes its cleared cells with it, so for every file and
column, filled cells of used rows = values read + cells cleared (+ N/A
answers).  ``cells_cleared`` in :meth:`Ledger.counts_frame` counts them per
file, and :meth:`Ledger.unread_frame` gives every value that could not be
read, with its count, for the lines a project adds to read it
(:mod:`surveys.recode`).

The ledger is the privacy gate of everything it records: the department
text and the detail of every entry, and the detail of every flag, pass
through :func:`surveys.privacy.mask_text` as they are recorded, so a phone or
ID number typed into any column (a department, an answer, an id) never
reaches ``quarantine.csv`` or the flag table.  Details quoting a cell are cut
to :data:`MAX_DETAIL_CHARS` characters (after masking).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .privacy import mask_text

#: longest detail (a quoted cell) kept in the ledger; a longer one is cut and ends with "…"
MAX_DETAIL_CHARS = 200

#: a file without a column the framework's indicators read: file, table, column, indicators (``;``-joined ids)
ABSENT_COLUMNS = ["file", "table", "column", "indicators"]

#: reason code -> (readable reason zh, readable reason en)
REASONS: dict[str, tuple[str, str]] = {
    "code_out_of_range": ("代码超出量表范围", "code outside the scale"),
    "not_a_number": ("数值字段含非数字内容", "text in a numeric field"),
    "bad_date": ("日期无法识别或不存在", "unreadable or impossible date"),
    "duplicate_id": ("编号重复（保留首次出现）", "duplicate id (first occurrence kept)"),
    "unknown_department": ("部门名称不在部门名录中", "department not in the register"),
    "department_not_active": ("该部门在本年度不存在（已更名或合并）", "department does not exist in this year"),
    "missing_required": ("必填字段为空", "required value missing"),
    "outside_period": ("日期不在评估期内", "date outside the evaluation period"),
    "duplicate_respondent": ("同一手机号同月同部门重复作答", "same phone, department and month answered twice"),
    "screened_straight_lining": ("所有量表题答案相同（直线作答）", "identical answers to every Likert item"),
    "screened_speeder": ("答题时间过短", "completed faster than the speeder threshold"),
    "no_final_disposition": ("回访问卷无对应的成功拨打记录", "callback interview without a completed call"),
    "bad_category": ("分类字段取值无法识别", "unrecognised category value"),
    "bad_duration": ("时长无法识别", "unreadable duration"),
    "screened_same_source": ("同一IP或设备短时间内多次提交", "many questionnaires from one IP address or device in a short time"),
    "screened_identical_text": ("与其他受访者的文字意见完全相同", "free-text answer identical to other respondents'"),
    # plausibility rules (surveys.plausibility): also the flag codes of rules in flag mode
    "weight_invalid": ("权重缺失、非正数、非有限值或大于10亿",
                       "design weight missing, not finite, not positive or above 1e9"),
    "weight_outlier": ("权重偏离所在部门（层）中位数过远，疑似小数点错误",
                       "design weight far from its department's (stratum's) median: a misplaced decimal point?"),
    "negative_number": ("数量、天数、时长或材料数为负数", "negative count, volume, number of days or minutes"),
    "rate_above_100": ("子项数大于总数（比率超过100%）", "a subset above its whole (a rate above 100%)"),
    "promised_above_statutory": ("承诺时限长于法定时限", "promised days above statutory days"),
    "docs_increased": ("现行材料数多于改革前", "more documents required now than at the baseline"),
    "implausible_date": ("日期早于最早可信日期或晚于评估期",
                         "date before the earliest plausible date or after the period"),
    "rectified_before_rating": ("整改完成时间早于评价时间", "rectified before the rating was given"),
    "no_call_record": ("回访问卷无对应的拨打记录", "callback interview without a call record"),
}


#: columns of the cells table (``cleared_cells.csv``)
CELL_COLUMNS = ["file", "table", "source_row", "department", "column", "value", "reason_code", "reason", "reason_en"]
#: columns of the table of values not read (:meth:`Ledger.unread_frame`)
UNREAD_COLUMNS = ["file", "table", "column", "value", "n", "reason_code"]


@dataclass
class Ledger:
    """Collects quarantined rows, cleared cells and per-file counts while a year is loaded."""

    entries: list[dict] = field(default_factory=list)
    counts: list[dict] = field(default_factory=list)
    flags: list[dict] = field(default_factory=list)
    cells: list[dict] = field(default_factory=list)
    #: (file, table, column) -> filled cells in the used rows
    filled: dict = field(default_factory=dict)
    #: (file, table, column, value, reason code) -> cells or rows holding a value that could not be read
    unread: dict = field(default_factory=dict)
    #: files without a column the framework's indicators read (:data:`ABSENT_COLUMNS`)
    absent: list[dict] = field(default_factory=list)

    def quarantine(self, *, file: str, table: str, source_rows, departments, code: str, detail=None) -> None:
        """Record rows (arrays of equal length) quarantined for ``code``."""
        zh, en = REASONS[code]
        details = detail if detail is not None else [""] * len(source_rows)
        for row, dept, det in zip(source_rows, departments, details):
            det = safe_text(det)
            self.entries.append({
                "file": file, "table": table, "source_row": int(row),
                "department": "" if pd.isna(dept) else safe_text(dept),
                "reason_code": code, "reason": zh + (f"：{det}" if det else ""),
                "reason_en": en + (f": {det}" if det else ""),
            })

    def clear_cells(self, *, file: str, table: str, column: str, source_rows, departments, values, code: str,
                    detail=None) -> None:
        """Record cells of ``column`` (arrays of equal length, one per row) cleared for ``code``."""
        zh, en = REASONS[code]
        details = detail if detail is not None else [""] * len(source_rows)
        for row, dept, value, det in zip(source_rows, departments, values, details):
            det = safe_text(det)
            self.cells.append({
                "file": file, "table": table, "source_row": int(row),
                "department": "" if pd.isna(dept) else safe_text(dept), "column": column,
                "value": safe_text(value), "reason_code": code, "reason": zh + (f"：{det}" if det else ""),
                "reason_en": en + (f": {det}" if det else ""),
            })

    def note_filled(self, *, file: str, table: str, column: str, n: int) -> None:
        """``n`` more filled cells of ``column`` in used rows of ``file`` (the base of a column's loss)."""
        key = (file, table, column)
        self.filled[key] = self.filled.get(key, 0) + int(n)

    def note_unread(self, *, file: str, table: str, column: str, values, code: str) -> None:
        """Values of ``column`` that could not be read (one per cell or row), counted per distinct value."""
        for value, n in pd.Series([safe_text(v) for v in values], dtype=object).value_counts(sort=False).items():
            key = (file, table, column, value, code)
            self.unread[key] = self.unread.get(key, 0) + int(n)

    def late_quarantine(self, rows: pd.DataFrame, *, table: str, code: str, detail=None) -> None:
        """Quarantine already-counted rows (carrying ``_file``, ``_row`` and ``_dept_text``), keeping counts true.

        The cells cleared in those rows leave the cells table with them (the
        row's reason is what the books keep).
        """
        if rows.empty:
            return
        gone = set(zip(rows["_file"].astype(str), rows["_row"].astype(int)))
        if self.cells:
            self.cells = [c for c in self.cells if c["table"] != table or (c["file"], c["source_row"]) not in gone]
        for fname, grp in rows.groupby("_file", sort=True):
            det = None if detail is None else list(pd.Series(detail, index=rows.index)[grp.index])
            self.quarantine(file=str(fname), table=table, source_rows=grp["_row"].tolist(),
                            departments=grp["_dept_text"].tolist(), code=code, detail=det)
            for rec in self.counts:
                if rec["file"] == fname and rec["table"] == table:
                    rec["rows_used"] -= len(grp)
                    rec["rows_quarantined"] += len(grp)

    def count(self, *, file: str, table: str, rows_in: int, rows_used: int, blank_rows: int = 0) -> None:
        self.counts.append({"file": file, "table": table, "rows_in": int(rows_in), "rows_used": int(rows_used),
                            "rows_quarantined": int(rows_in - rows_used), "blank_rows": int(blank_rows)})

    def flag_rows(self, *, table: str, code: str, departments, examples: dict) -> None:
        """Flag the department of each row (``departments``, one per row) with ``code``, keeping the rows.

        One flag per table, department and code: ``n`` adds up over calls
        (files, record batches) and ``detail`` is ``kept; e.g. <example>``
        with the department's first example (``examples``: department ->
        text).
        """
        known = {(rec["table"], rec["department_id"], rec["flag"]): rec for rec in self.flags}
        for dept, n in pd.Series(departments).value_counts(sort=False).items():
            rec = known.get((table, dept, code))
            if rec is not None:
                rec["n"] += int(n)
            else:
                self.flag(table=table, department_id=dept, code=code, n=int(n),
                          detail=f"kept; e.g. {examples.get(dept, '')}")

    def flag(self, *, table: str, department_id: str, code: str, n: int, detail: str = "") -> None:
        self.flags.append({"table": table, "department_id": department_id, "flag": code, "n": int(n),
                           "detail": safe_text(detail)})

    def frame(self) -> pd.DataFrame:
        cols = ["file", "table", "source_row", "department", "reason_code", "reason", "reason_en"]
        df = pd.DataFrame(self.entries, columns=cols)
        return df.sort_values(["file", "source_row", "reason_code"], kind="stable").reset_index(drop=True)

    def counts_frame(self) -> pd.DataFrame:
        """Per file and table: ``rows_in, rows_used, rows_quarantined, blank_rows, cells_cleared``."""
        out = pd.DataFrame(self.counts, columns=["file", "table", "rows_in", "rows_used", "rows_quarantined",
                                                 "blank_rows"])
        cleared = pd.Series([(c["file"], c["table"]) for c in self.cells], dtype=object).value_counts()
        out["cells_cleared"] = [int(cleared.get((f, t), 0)) for f, t in zip(out["file"], out["table"])]
        return out

    def cells_frame(self) -> pd.DataFrame:
        """Every cleared cell (:data:`CELL_COLUMNS`), by file, source row and column."""
        df = pd.DataFrame(self.cells, columns=CELL_COLUMNS)
        return df.sort_values(["file", "source_row", "column"], kind="stable").reset_index(drop=True)

    def unread_frame(self) -> pd.DataFrame:
        """Every value that could not be read, with the number of cells or rows holding it (:data:`UNREAD_COLUMNS`)."""
        rows = [{"file": f, "table": t, "column": c, "value": v, "n": n, "reason_code": code}
                for (f, t, c, v, code), n in self.unread.items()]
        return pd.DataFrame(rows, columns=UNREAD_COLUMNS)

    def flags_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.flags, columns=["table", "department_id", "flag", "n", "detail"])

    def note_absent(self, *, file: str, table: str, column: str, indicators) -> None:
        """A file of ``table`` has no ``column``, which the framework's ``indicators`` read."""
        self.absent.append({"file": file, "table": table, "column": column, "indicators": ";".join(indicators)})

    def absent_frame(self) -> pd.DataFrame:
        """Files lacking a column an indicator reads (:data:`ABSENT_COLUMNS`), in the order found."""
        return pd.DataFrame(self.absent, columns=ABSENT_COLUMNS)


def safe_text(value) -> str:
    """The text of ``value`` as the ledger records it: masked (:func:`surveys.privacy.mask_text`), then cut
    to :data:`MAX_DETAIL_CHARS` characters; "" for a missing value."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    text = mask_text(str(value))
    return text if len(text) <= MAX_DETAIL_CHARS else text[:MAX_DETAIL_CHARS - 1] + "…"
