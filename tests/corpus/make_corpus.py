"""Write the malformed-input corpus and its expected outcomes.

Run from anywhere: ``python tests/corpus/make_corpus.py [target_dir]``.  With
no argument it rewrites the files beside this script and ``expected.csv``.
Every file is small and built from the survey layout field teams use (see
README.md); each case below states what it exercises and what must happen.
"""

from __future__ import annotations

import csv
import io
import random
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent

COLUMNS = ["问卷编号", "部门", "调查日期", "Q1总体满意度", "Q2办事效率满意度", "Q3服务态度满意度", "手机号", "意见建议"]
WAIT = "等候时长(分钟)"
WEIGHT = "权重"
REQUIRED = ("问卷编号", "部门", "调查日期")
PERIOD = ("2024-01-01", "2024-12-31")
#: The demo departments (shared/DOMAIN.md); the corpus uses the first three.
KNOWN_DEPARTMENTS = (
    "市场监督管理局", "税务局", "公安局", "发展和改革委员会", "政务服务和大数据管理局", "经济和信息化局", "商务局",
    "科学技术局", "公共资源交易中心", "自然资源和规划局", "不动产登记中心", "住房和城乡建设局", "住房公积金中心",
    "城市管理执法局", "交通运输局", "水利和湖泊局", "生态环境局", "人力资源和社会保障局", "医疗保障局", "民政局",
    "卫生健康委员会", "教育局", "退役军人事务局", "司法局", "农业农村局", "应急管理局", "文化和旅游局", "林业局",
    "消防救援支队", "气象局", "烟草专卖局", "统计局", "供电公司", "水务集团", "燃气公司",
)
REASON_CODES = ("code_out_of_range", "not_a_number", "bad_date", "duplicate_id", "unknown_department",
                "missing_required", "outside_period", "negative_number")
#: surveys.readers.ReadLimits defaults the limit cases are built against
MAX_CELL_CHARS = 1 << 18
MAX_COLUMNS = 1024

_DEPTS = ("市场监督管理局", "税务局", "公安局")
_ANSWERS = ("非常满意", "满意", "基本满意", "满意", "非常满意", "不满意", "满意", "不了解")
_TEXTS = ("办事很顺利", "", "希望增加周末窗口", "工作人员态度好", "", "材料一次告知，点赞", "停车不方便", "")


@dataclass(frozen=True)
class Case:
    file: str
    kind: str       # structural | row
    stage: str      # read: read_table must raise; ingest: the file reads, the ingest layer finds the problem
    expected: str   # substring of the error message (structural) or quarantine reason code (row)
    note: str
    rows: str = ""  # source rows (as a spreadsheet numbers them) the ingest must quarantine, ';'-separated
    column: str = ""


def survey_rows(n: int = 6, *, codes: bool = False, wait: bool = False, weight: bool = False) -> list[list[str]]:
    """``n`` clean survey answers (header first); ids S2024-0001...; weights 212.7348 and 198.5 when asked."""
    rows = [COLUMNS + ([WAIT] if wait else []) + ([WEIGHT] if weight else [])]
    for i in range(n):
        answers = [str((i + k) % 5 + 1) if codes else _ANSWERS[(i + k) % len(_ANSWERS)] for k in range(3)]
        row = [f"S2024-{i + 1:04d}", _DEPTS[i % 3], f"2024-03-{i % 28 + 1:02d}", *answers,
               f"1700000{i + 1:04d}", _TEXTS[i % len(_TEXTS)]]
        rows.append(row + ([str(5 + 3 * i)] if wait else []) + ([("212.7348", "198.5")[i // 3 % 2]] if weight else []))
    return rows


def delimited(rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8",
              quoting: int = csv.QUOTE_MINIMAL) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n", quoting=quoting).writerows(rows)
    return out.getvalue().encode(encoding)


def workbook(sheets: dict[str, list[list[object]]], merges: dict[str, list[str]] | None = None) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        for ref in (merges or {}).get(name, []):
            sheet.merge_cells(ref)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def replace_part(raw: bytes, name: str, data: bytes) -> bytes:
    """The workbook ``raw`` with its zip part ``name`` replaced by ``data``."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, data if info.filename == name else src.read(info.filename))
    return out.getvalue()


def set_cell(rows: list[list[str]], row: int, column: str, value: str) -> None:
    """Set a cell by its spreadsheet row number (header = 1) and column name."""
    rows[row - 1][rows[0].index(column)] = value


def build() -> tuple[dict[str, bytes], list[Case]]:
    files: dict[str, bytes] = {}
    cases: list[Case] = []

    def add(case: Case, content: bytes) -> None:
        files[case.file] = content
        cases.append(case)

    # --- structural problems read_table must report -------------------------
    add(Case("empty.csv", "structural", "read", "empty (0 bytes)", "0-byte file"), b"")
    add(Case("header_only.csv", "structural", "read", "no data rows", "a header line and nothing else"),
        delimited(survey_rows(0)))
    add(Case("blank_only.csv", "structural", "read", "only blank rows", "blank lines and empty delimiters"),
        b"\r\n\r\n,,,,\r\n\r\n")
    add(Case("binary_data.csv", "structural", "read", "binary data", "random bytes (with NULs) named .csv"),
        random.Random(20240305).randbytes(2048))
    rows = survey_rows()
    add(Case("fullwidth_comma_delimiter.csv", "structural", "read", "full-width comma",
             "fields separated by the full-width comma '，' (wrong delimiter)"),
        "\r\n".join("，".join(r) for r in rows).encode("utf-8"))
    rows = survey_rows()
    rows[0][5] = "Q1总体满意度"
    add(Case("duplicate_columns.csv", "structural", "read", "duplicate column name 'Q1总体满意度'",
             "Q1总体满意度 appears twice (columns D and F)"), delimited(rows))
    rows = survey_rows()
    text = delimited(rows).decode()
    text = text.replace("希望增加周末窗口", "希望增加周末窗口,延长午间服务")
    add(Case("unquoted_delimiter.csv", "structural", "read", "more fields than the header",
             "a free-text answer with an unquoted comma shifts row 4 by one field"), text.encode())
    text = delimited(survey_rows()).decode().replace("工作人员态度好", '"工作人员态度好')
    add(Case("unclosed_quote.csv", "structural", "read", "never closed",
             "a free-text answer opens a quote that is never closed"), text.encode())
    sheet = workbook({"调查数据": survey_rows()})
    add(Case("workbook_named.csv", "structural", "read", "Excel workbook", "an .xlsx workbook named .csv"), sheet)
    add(Case("empty.xlsx", "structural", "read", "empty (0 bytes)", "0-byte .xlsx"), b"")
    add(Case("corrupt.xlsx", "structural", "read", "not a valid .xlsx",
             "an .xlsx cut off in transfer (first half of a real workbook)"), sheet[: len(sheet) // 2])
    add(Case("legacy_format.xls", "structural", "read", "unsupported file type '.xls'",
             "an Excel 97-2003 workbook (OLE header)"),
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    # --- limits (surveys.readers.ReadLimits) and uncalculated formulas ---------
    rows = survey_rows()
    set_cell(rows, 4, "意见建议", "x" * (MAX_CELL_CHARS + 1))
    add(Case("cell_over_limit.csv", "structural", "read", "ReadLimits.max_cell_chars",
             f"a {MAX_CELL_CHARS + 1:,}-character answer in row 4: over the cell limit, named with its row, column "
             "and the limit (never as a quote or delimiter problem)"), delimited(rows))
    rows = [r + [f"附加{j}" if k == 0 else "" for j in range(MAX_COLUMNS - len(r) + 1)] for k, r in
            enumerate(survey_rows())]
    add(Case("too_many_columns.csv", "structural", "read", "ReadLimits.max_columns",
             f"a header of {MAX_COLUMNS + 1:,} columns"), delimited(rows))
    sheet_xml = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                 + '<row><c t="inlineStr"><is><t>问卷编号</t></is></c></row>' + "<row><c><v>1</v></c></row>" * 400_000
                 + "</sheetData></worksheet>").encode()
    add(Case("decompression_bomb.xlsx", "structural", "read", "ReadLimits.max_compression_ratio",
             "a 40 KB workbook whose sheet expands about 1,000 times (to 10 MB): refused before it is read"),
        replace_part(workbook({"调查数据": [["x"]]}), "xl/worksheets/sheet1.xml", sheet_xml))
    add(Case("huge_dimension.xlsx", "structural", "read", "ReadLimits.max_cells",
             "six answers and one stray cell at XFD1048576: the sheet spans 17 billion cells"), huge_dimension())
    rows = survey_rows(codes=True)
    set_cell(rows, 3, "Q1总体满意度", "=2+3")
    set_cell(rows, 6, "Q1总体满意度", "=B6")
    add(Case("uncalculated_formulas.xlsx", "structural", "read", "no calculated value (D3 and D6)",
             "formulas in Q1 (rows 3 and 6) written by a program that never calculated them: they would read as "
             "blank"), workbook({"调查数据": rows}))
    # --- structural problems the ingest layer must report (the file reads) ---
    rows = [r[:2] + r[3:] for r in survey_rows()]
    add(Case("missing_required_column.csv", "structural", "ingest", "调查日期",
             "the required column 调查日期 is absent", column="调查日期"), delimited(rows))
    rows = [r + extra for r, extra in zip(survey_rows(), [["调查员", "备注"]] + [["张三", ""]] * 6)]
    add(Case("unknown_extra_columns.csv", "structural", "ingest", "调查员",
             "two columns no mapping knows (调查员, 备注): named in a warning (MinpingWarning), not an error; "
             "every row is used", column="调查员;备注"), delimited(rows))
    rows = survey_rows(12, weight=True)
    set_cell(rows, 5, WEIGHT, "2127348")
    add(Case("weight_lost_decimal.csv", "structural", "ingest", "10,000 times the median 212.7348",
             "design weights (权重, declared under [inputs.design]); row 5's 212.7348 lost its decimal point: "
             "the year stops (weight_outlier)", column=WEIGHT), delimited(rows))
    rows = survey_rows(weight=True)
    set_cell(rows, 3, WEIGHT, "1e300")
    set_cell(rows, 6, WEIGHT, "0")
    add(Case("weight_not_positive_finite.csv", "structural", "ingest", "2 row(s): rows 3 and 6",
             "design weights 1e300 (which gave a zero SE) and 0: the year stops (weight_invalid)", column=WEIGHT),
        delimited(rows))
    rows = survey_rows()
    for row, office in enumerate(("第一办事处", "第二办事处", "城东窗口", "城西窗口", "综合窗口", "税务局"), start=2):
        set_cell(rows, row, "部门", office)
    add(Case("unregistered_departments.csv", "structural", "ingest", "name a department in the register",
             "部门 holds service-hall names, not departments: 1 of 6 rows matches the register, so the column "
             "(or its mapping) is wrong, not the rows", column="部门"), delimited(rows))
    # --- row-level problems: the file reads, the ingest layer quarantines rows ---
    rows = survey_rows()
    set_cell(rows, 2, "意见建议", "王喆同志耐心细致")  # 喆 exists in GBK, not in GB2312
    set_cell(rows, 4, "部门", "市场监管局")
    add(Case("gbk_no_bom.csv", "row", "ingest", "unknown_department",
             "GBK without BOM (text with 喆); 市场监管局 is a short form, not a department name",
             rows="4", column="部门"), delimited(rows, encoding="gbk"))
    rows = survey_rows()
    set_cell(rows, 3, "调查日期", "2024-02-30")
    add(Case("utf16_unicode_text.txt", "row", "ingest", "bad_date",
             "Excel 'Unicode text': UTF-16 LE with BOM, tab-separated; 2024-02-30 does not exist",
             rows="3", column="调查日期"), b"\xff\xfe" + delimited(rows, delimiter="\t", encoding="utf-16-le"))
    rows = survey_rows(wait=True)
    set_cell(rows, 5, WAIT, "很久")
    add(Case("utf8_bom_semicolon.csv", "row", "ingest", "not_a_number",
             "UTF-8 with BOM, ';'-separated; waiting time '很久'", rows="5", column=WAIT),
        b"\xef\xbb\xbf" + delimited(rows, delimiter=";"))
    rows = survey_rows(codes=True)
    set_cell(rows, 3, "Q1总体满意度", "6")
    set_cell(rows, 5, "Q1总体满意度", "0")
    set_cell(rows, 6, "Q1总体满意度", "9")
    set_cell(rows, 7, "Q1总体满意度", "不了解")
    add(Case("out_of_range_codes.csv", "row", "ingest", "code_out_of_range",
             "codes 6 and 0 on a 1-5 scale; 9 and 不了解 are N/A, not errors", rows="3;5",
             column="Q1总体满意度"), delimited(rows))
    rows = survey_rows(wait=True)
    for row, value in ((2, "10分钟"), (3, "约10分钟"), (4, "１５"), (5, "—"), (6, "很久"), (7, "12.5")):
        set_cell(rows, row, WAIT, value)
    add(Case("text_in_numeric.csv", "row", "ingest", "not_a_number",
             "约10分钟 and 很久 are not numbers; 10分钟, １５, 12.5 are; — is missing", rows="3;6",
             column=WAIT), delimited(rows))
    rows = survey_rows(codes=True, wait=True)
    table = str.maketrans("0123456789.-", "０１２３４５６７８９．－")
    for r in rows[1:]:
        for name in ("调查日期", "Q1总体满意度", "Q2办事效率满意度", "手机号", WAIT):
            r[rows[0].index(name)] = r[rows[0].index(name)].translate(table)
    set_cell(rows, 4, "Q2办事效率满意度", "６")
    add(Case("fullwidth_digits.csv", "row", "ingest", "code_out_of_range",
             "dates, codes, phones and waits in full-width digits are valid; the full-width ６ is out of range",
             rows="4", column="Q2办事效率满意度"), delimited(rows))
    rows = survey_rows(9)
    for row, value in enumerate(("2024年3月5日", "2024/3/6", "2024-03-07", "2024.3.8", "20240309",
                                 "2024年03月11日 14:30", "45366", "2024-02-30", "2024年13月1日"), start=2):
        set_cell(rows, row, "调查日期", value)
    add(Case("date_formats.csv", "row", "ingest", "bad_date",
             "seven date notations (45366 is an Excel serial for 2024-03-15); 2024-02-30 and 2024年13月1日 "
             "are impossible", rows="9;10", column="调查日期"), delimited(rows))
    rows = survey_rows()
    set_cell(rows, 5, "问卷编号", "S2024-0001")
    add(Case("duplicate_ids.csv", "row", "ingest", "duplicate_id",
             "rows 2 and 5 share S2024-0001; rows lists every row sharing the id", rows="2;5",
             column="问卷编号"), delimited(rows))
    rows = survey_rows()
    set_cell(rows, 3, "部门", "市场监督局")
    set_cell(rows, 6, "部门", "民政部")
    set_cell(rows, 7, "部门", " 税务局 ")
    add(Case("unknown_department.csv", "row", "ingest", "unknown_department",
             "a typo (市场监督局) and a ministry (民政部); ' 税务局 ' with spaces is 税务局", rows="3;6",
             column="部门"), delimited(rows))
    rows = survey_rows()
    set_cell(rows, 6, "部门", "")
    text = delimited(rows).decode().split("\r\n")
    text = text[:2] + ["", ""] + text[2:4] + [",,,,,,,"] + text[4:]
    add(Case("blank_lines.csv", "row", "ingest", "missing_required",
             "blank lines at rows 3-4 and an all-empty row 7 are skipped but counted; the row with no 部门 "
             "is row 9", rows="9", column="部门"), "\r\n".join(text).encode())
    rows = survey_rows()
    set_cell(rows, 2, "意见建议", "第一，窗口少；\n第二，排队久")
    set_cell(rows, 3, "意见建议", "建议：\r\n1. 延长时间\r\n2. 增加自助机")
    set_cell(rows, 5, "Q1总体满意度", "8")
    add(Case("embedded_newlines.csv", "row", "ingest", "code_out_of_range",
             "quoted answers with line breaks (LF, CRLF) are one row each; Q1 = 8 sits in row 5 "
             "(physical line 8)", rows="5", column="Q1总体满意度"), delimited(rows))
    rows = survey_rows()
    set_cell(rows, 3, "意见建议", "办事大厅" + "排队时间太长，希望增加窗口。" * 1500)
    set_cell(rows, 6, "问卷编号", "")
    add(Case("long_free_text.csv", "row", "ingest", "missing_required",
             "a 21,004-character answer is kept whole; row 6 has no 问卷编号", rows="6", column="问卷编号"),
        delimited(rows))
    rows = survey_rows()
    set_cell(rows, 3, "意见建议", "窗口" + "排队时间太长，希望增加窗口。" * 10_000)
    set_cell(rows, 5, "调查日期", "")
    add(Case("longer_than_csv_limit.csv", "row", "ingest", "missing_required",
             "a 140,002-character answer (more than Python's csv field limit of 131,072) is kept whole; row 5 has "
             "no 调查日期", rows="5", column="调查日期"), delimited(rows))
    rows = survey_rows(wait=True)
    set_cell(rows, 4, WAIT, "-5")
    set_cell(rows, 6, WAIT, "－１２")
    add(Case("negative_number.csv", "row", "ingest", "negative_number",
             "waiting times of -5 and a full-width －１２ minutes cannot be", rows="4;6", column=WAIT), delimited(rows))
    rows = survey_rows()
    for row, value in ((2, '=HYPERLINK("http://example.com","点击")'), (3, "+8617000000001"),
                       (4, "-无意见"), (5, "@SUM(A1:A2)"), (6, "\t=1+1")):
        set_cell(rows, row, "意见建议", value)
    set_cell(rows, 7, "Q1总体满意度", "=5")
    add(Case("formula_injection.csv", "row", "ingest", "code_out_of_range",
             "free text starting with = + - @ tab stays text (and must be neutralised on export); "
             "Q1 '=5' is not a code", rows="7", column="Q1总体满意度"), delimited(rows))
    rows = survey_rows()
    set_cell(rows, 3, "部门", "../../税务局")
    set_cell(rows, 5, "部门", "市场监督管理局/窗口..")
    add(Case("department_path_chars.csv", "row", "ingest", "unknown_department",
             "department names with / and ..: unknown, and never to be used as a path", rows="3;5",
             column="部门"), delimited(rows))
    rows = survey_rows()
    set_cell(rows, 3, "调查日期", "")
    set_cell(rows, 5, "部门", "   ")
    add(Case("missing_required_value.csv", "row", "ingest", "missing_required",
             "an empty 调查日期 and a 部门 of spaces", rows="3;5", column="调查日期;部门"), delimited(rows))
    rows = survey_rows()
    set_cell(rows, 2, "调查日期", "2023-12-31")
    set_cell(rows, 6, "调查日期", "2025-01-02")
    add(Case("outside_period.csv", "row", "ingest", "outside_period",
             "valid dates outside the 2024 survey period", rows="2;6", column="调查日期"), delimited(rows))
    # --- workbooks and Parquet -------------------------------------------------
    rows = survey_rows()
    rows[0] = ["问卷编号", "部门", "调查日期", "满意度评价", None, None, "手机号", "意见建议"]
    rows.insert(1, [None, None, None, "Q1总体满意度", "Q2办事效率满意度", "Q3服务态度满意度", None, None])
    rows[4][4] = "6"  # spreadsheet row 5
    add(Case("merged_header.xlsx", "row", "ingest", "code_out_of_range",
             "two-row header: 满意度评价 merged over D1:F1 (names 满意度评价_Q1总体满意度 ...), the other headers "
             "merged over two rows; data from row 3; Q2 = 6 in row 5", rows="5",
             column="满意度评价_Q2办事效率满意度"),
        workbook({"调查数据": rows}, {"调查数据": ["A1:A2", "B1:B2", "C1:C2", "D1:F1", "G1:G2", "H1:H2"]}))
    add(Case("merged_header.csv", "row", "ingest", "code_out_of_range",
             "the same two-row header saved as CSV (merges lost: 满意度评价 only above Q1)", rows="5",
             column="满意度评价_Q2办事效率满意度"), delimited([[v or "" for v in r] for r in rows]))
    rows = survey_rows()
    set_cell(rows, 6, "问卷编号", "S2024-0002")
    notes = [["填表说明"], ["1. 每行一份问卷"], ["2. 满意度请填写 非常满意/满意/基本满意/不满意/非常不满意/不了解"],
             ["3. 手机号仅用于回访核实"]]
    add(Case("second_sheet.xlsx", "row", "ingest", "duplicate_id",
             "first sheet 填表说明 holds instructions, the data is on sheet 调查数据; rows 3 and 6 share "
             "S2024-0002", rows="3;6", column="问卷编号"),
        workbook({"填表说明": notes, "调查数据": rows}))
    add(Case("excel_cell_types.xlsx", "row", "ingest", "outside_period",
             "numbers, date cells, a datetime, a date typed as the serial 45360 and phones stored as numbers "
             "read as text; the date cell 2023-12-31 is outside the period", rows="4", column="调查日期"),
        workbook({"Sheet1": typed_rows()}))
    add(Case("survey.parquet", "row", "ingest", "missing_required",
             "typed Parquet (int ids, date32, int codes, float waits); a null 部门 in row 4", rows="4",
             column="部门"), parquet())
    return files, cases


def huge_dimension() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "调查数据"
    for row in survey_rows():
        sheet.append(row)
    sheet.cell(row=1_048_576, column=16_384, value="x")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def typed_rows() -> list[list[object]]:
    import datetime as dt

    rows: list[list[object]] = [COLUMNS + [WAIT]]
    dates = [dt.datetime(2024, 3, 5), dt.datetime(2024, 3, 6, 14, 30), dt.datetime(2023, 12, 31), 45360,
             "2024年3月9日", dt.date(2024, 3, 10)]
    for i, date in enumerate(dates):
        rows.append([20240001 + i, _DEPTS[i % 3], date, (i % 5) + 1, 5 - (i % 5), 9 if i == 1 else 4,
                     17000000001 + i, _TEXTS[i], 12.5 if i == 0 else 10 + i])
    return rows


def parquet() -> bytes:
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 5
    table = pa.table({
        "问卷编号": pa.array([20240001 + i for i in range(n)], pa.int64()),
        "部门": pa.array([_DEPTS[i % 3] if i != 2 else None for i in range(n)]),
        "调查日期": pa.array([dt.date(2024, 3, 5 + i) for i in range(n)], pa.date32()),
        "Q1总体满意度": pa.array([5, 4, 3, 9, 1], pa.int8()),
        "Q2办事效率满意度": pa.array([4, 4, 5, 2, 3], pa.int8()),
        "Q3服务态度满意度": pa.array([5, 5, 4, 4, 3], pa.int8()),
        "手机号": pa.array([f"1700000{i + 1:04d}" for i in range(n)]),
        "意见建议": pa.array([_TEXTS[i] or None for i in range(n)]),
        WAIT: pa.array([12.5, 8.0, None, 30.25, 5.0], pa.float64()),
    })
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def write(target: Path) -> list[Case]:
    files, cases = build()
    target.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (target / name).write_bytes(content)
    with open(target / "expected.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["file", "kind", "expected", "note", "stage", "rows", "column"])
        for c in cases:
            writer.writerow([c.file, c.kind, c.expected, c.note, c.stage, c.rows, c.column])
    return cases


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
