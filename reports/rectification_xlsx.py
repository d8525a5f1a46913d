"""The citywide 整改 workbook: one row per department and problem, returned with a status and read back next year.

Columns are those of :data:`surveys.rectification.COLUMNS` (the one source
the reader uses too): the evidence, the points at stake, whether the gap
exceeds sampling noise, the owner (the department, which may name its
office), the dated deadline, a status column with a drop-down list
(:data:`surveys.rectification.STATUSES`) and a note for the department to
fill in, and the technical problem and kind codes the next year's run
matches on (:func:`evaluation.problems.follow_up`).  A second sheet says
how to fill it in.  No cell holds a formula; equal input gives equal bytes.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from evaluation.result import EvaluationResult
from reports import findings, workbook
from reports.labels import check_lang, label
from reports.safety import set_cell, sheet_title
from surveys.rectification import COLUMNS, STATUSES, header

WIDTHS = {"year": 8, "department_id": 9, "department": 22, "problem_no": 6, "kind_label": 14, "problem": 28,
          "evidence": 60, "count": 10, "base": 11, "points_at_stake": 10, "beyond_noise": 12, "owner": 22,
          "deadline": 14, "status": 12, "note": 40, "key": 30, "kind": 14}
KINDS = {"year": "int", "problem_no": "int", "count": "int", "base": "int", "points_at_stake": "gain"}


def rectification_rows(result: EvaluationResult, lang: str) -> list[list]:
    """Every department's problems (ranking order, then problem number) in :data:`COLUMNS` order."""
    if result.findings is None:
        return []
    ctx = result.context
    deadline = ctx.deadline if ctx is not None and ctx.deadline is not None else findings.deadline_text(result,
                                                                                                        lang)
    names = findings.department_names(result, lang)
    order = result.departments.sort_values(["rank", "department_id"], na_position="last")["department_id"]
    rows = []
    for dep in order:
        for _, r in findings.department_problems(result, dep).iterrows():
            values = {"year": result.year, "department_id": dep, "department": names.get(dep, dep),
                      "problem_no": int(r["problem_no"]), "kind_label": label(f"kind_{r['kind']}", lang),
                      "problem": findings.problem_title(result, r, lang),
                      "evidence": findings.problem_evidence(result, r, lang, examples=None), "count": r["count"],
                      "base": r["base"], "points_at_stake": r["points_at_stake"],
                      "beyond_noise": findings.noise_text(r, lang), "owner": names.get(dep, dep),
                      "deadline": deadline, "status": "", "note": "", "key": r["key"], "kind": r["kind"]}
            rows.append([values[c] for c in COLUMNS])
    return rows


def render_rectification_xlsx(result: EvaluationResult, path: str | Path, *, lang: str = "zh") -> Path:
    """Write the citywide 整改 workbook in ``lang``; return the path."""
    check_lang(lang)
    wb = workbook.new_workbook(label("rect_title", lang, year=result.year))
    ws = wb.create_sheet(sheet_title(label("sheet_rectification", lang)))
    heads = [header(c, lang) for c in COLUMNS]
    rows = rectification_rows(result, lang)
    kinds = [KINDS.get(c, "text") for c in COLUMNS]
    workbook.write_table(ws, heads, rows, kinds, widths=[WIDTHS[c] for c in COLUMNS], freeze="D2")
    cols = list(COLUMNS)
    deadline_col = cols.index("deadline") + 1
    for i in range(2, len(rows) + 2):
        cell = ws.cell(row=i, column=deadline_col)
        if not isinstance(cell.value, str):
            cell.number_format = workbook.XLSX_FORMATS["date"]
        ws.cell(row=i, column=cols.index("evidence") + 1).alignment = Alignment(wrap_text=True, vertical="top")
    if rows:
        status = get_column_letter(cols.index("status") + 1)
        choices = ",".join(pair[0] if lang == "zh" else pair[1] for pair in STATUSES.values())
        check = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True)
        check.add(f"{status}2:{status}{len(rows) + 1}")
        ws.add_data_validation(check)
        ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{len(rows) + 1}"
    for col in ("key", "kind"):
        # technical codes the next run matches on: kept visible but set apart in grey
        for i in range(1, len(rows) + 2):
            ws.cell(row=i, column=cols.index(col) + 1).font = Font(color="777777", bold=i == 1)
    ws = wb.create_sheet(sheet_title(label("sheet_instructions", lang)))
    ws.column_dimensions["A"].width = 110
    set_cell(ws.cell(row=1, column=1), label("rect_title", lang, year=result.year))
    ws.cell(row=1, column=1).font = Font(bold=True)
    row = workbook.write_note(ws, 3, label("rect_instructions", lang, year=result.year), columns=1)
    workbook.write_note(ws, row + 1, label("deadline_line", lang, deadline=findings.deadline_text(result, lang)),
                        columns=1)
    return workbook.save_workbook(wb, Path(path))
