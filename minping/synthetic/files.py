"""Write a demo project: the files evaluators actually receive, the project file and the truth.

Layout of the folder written by :func:`write_demo_project`::

    project.toml                       the project file (format below)
    framework.toml                     a copy of the framework (plus cloned departments, if any)
    data/<year>/survey_<year>.csv               UTF-8 with BOM; Likert as label text
    data/<year>/callback_attempts_<year>.csv    GB18030 without BOM (call-centre export), CRLF
    data/<year>/callback_interviews_<year>.csv  UTF-8
    data/<year>/visits_<year>.xlsx              two-row merged header, checklist as 达标/部分达标/不达标/不适用
    data/<year>/guides_<year>.txt               UTF-16 tab-separated "Unicode text", CRLF
    data/<year>/admin_<year>.xlsx               sheets 说明 (instructions), 月度数据, 事项清单
    data/<year>/ratings_<year>.csv              UTF-8; level codes; dates as 2024/3/5 14:30 or 2024年3月5日
    truth/truth_<year>.csv             per department: true indicator, dimension and index scores, ranks, phi, gamma
    truth/indicators_<year>.csv        per department and indicator: true raw value and score
    truth/params_<year>.csv            per department: the generator's parameters
    truth/injected_<year>.csv          the problems planted in the survey file, for reconciliation (action:
                                       quarantine, clear_cell or keep)
    truth/changes.csv                  true index change of continuing departments (across the crosswalk)

Departments appear by their Chinese register name.  Every truth file is UTF-8
with a BOM.  The same seed writes byte-identical files (workbooks carry fixed
timestamps).

project.toml
------------
Read by :func:`surveys.project.load_project`::

    [project]
    name = "演示市放管服改革第三方评估"
    name_en = "Demo city administrative-service reform evaluation"
    framework = "framework.toml"          # relative to project.toml
    years = [2023, 2024, 2025]
    seed = 20261125
    salt = "demo-salt-change-me"          # for hashing phone numbers; MINPING_SALT overrides
    city = "演示市"                        # what the documents' covers state (also city_en, evaluator,
    evaluator = "演示大学第三方评估研究院"    # evaluator_en)
    report_dates = { 2023 = "2024-03-20", 2024 = "2025-03-20", 2025 = "2026-03-20" }

    [periods]
    2023 = ["2023-01-01", "2023-12-31"]   # evaluation period per year

    [[inputs]]
    year = 2023
    table = "survey"                      # a canonical table name
    path = "data/2023/survey_2023.csv"    # relative to project.toml
    encoding = "utf-8-sig"                # optional; also sheet, header_rows, delimiter
    [inputs.columns]                      # evaluator's column name -> canonical name
    "问卷编号" = "response_id"
    [inputs.design]                       # optional: weights / strata / cluster / fpc (canonical names)
    weights = "weight"
    cluster = "cluster"

The department column maps to ``department_id`` and holds register names,
which the loader resolves through the register.  With ``header_rows = 2`` the
column names are the two header rows joined by ``_`` (``基本信息_评估编号``,
``检查项目_c01 窗口标识清晰``), as :func:`surveys.readers.read_table` flattens them.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from surveys.framework import DEFAULT_FRAMEWORK
from surveys.schema import CALLBACK_OUTCOMES

from .config import CHECKLIST_ITEMS, SURVEY_ITEMS

from .config import SimulatedYear, SimulationConfig
from .departments import Register, build_register, stream
from .simulate import simulate_year
from .truth import true_changes

PROJECT_NAME = "演示市放管服改革第三方评估"
PROJECT_NAME_EN = "Demo city administrative-service reform evaluation"
SALT = "demo-salt-change-me"
#: the facts the demo's documents state (a fictitious city and evaluator)
CITY, CITY_EN = "演示市", "Demo City"
EVALUATOR, EVALUATOR_EN = "演示大学第三方评估研究院", "Demo University Institute for Third-Party Evaluation"
STREAM_FILES = 5
FIXED_TIME = dt.datetime(2026, 1, 1)
ZIP_TIME = (2026, 1, 1, 0, 0, 0)

LABELS = {
    "satisfaction": ({5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}, "不了解"),
    "easier": ({5: "容易多了", 4: "容易一些", 3: "差不多", 2: "难一些", 1: "难多了"}, "首次办理"),
    "agreement": ({5: "非常同意", 4: "同意", 3: "一般", 2: "不同意", 1: "非常不同意"}, "不了解"),
}
OUTCOME_LABEL = {v: k for k, v in CALLBACK_OUTCOMES.items()}
CHECKLIST_LABEL = {1.0: "达标", 0.5: "部分达标", 0.0: "不达标"}
CHECKLIST_NAMES = (
    "窗口标识清晰", "工作人员佩戴工牌", "首问负责落实", "办事指南公开", "收费标准公示", "投诉渠道公示",
    "叫号系统运行正常", "等候区座位充足", "自助设备可用", "导办人员在岗", "网办引导服务", "使用文明用语",
    "着装规范", "无脱岗离岗", "无玩手机等违纪行为", "一次性告知落实", "容缺受理落实", "评价器可用",
    "不诱导好评", "帮办代办服务", "无障碍设施", "便民设施齐全", "环境整洁", "出具受理凭证", "限时办结公示")
FORMULA = '=HYPERLINK("http://example.com/survey","查看详情")'
INSTRUCTIONS = (
    "行政数据报送表（演示）",
    "一、月度数据：按月填报受理、办结、按时办结、全程网办、一窗受理件数。",
    "二、事项清单：每个政务服务事项一行，填写年办件量、法定与承诺时限（工作日）、改革前后申请材料数。",
    "三、数据由各部门自行报送，评估机构将与回访和现场核查结果比对。",
)

# Evaluator column name -> canonical name, per file; the file's columns in this order.
SURVEY_COLUMNS = {
    "问卷编号": "response_id", "部门": "department_id", "调查日期": "interview_date", "受访者类型": "respondent_type",
    "调查方式": "mode", "手机号": "phone", "答题时长（秒）": "duration_sec", "权重": "weight", "调查点日": "cluster",
    **{f"Q{k + 1} {zh}": item for k, (item, (_, zh)) in enumerate(SURVEY_ITEMS.items())},
    "意见建议": "comment",
}
ATTEMPT_COLUMNS = {"办件编号": "case_id", "部门": "department_id", "联系电话": "phone", "办件月份": "handled_month",
                   "拨打次序": "attempt_no", "拨打时间": "called_at", "拨打结果": "outcome"}
INTERVIEW_COLUMNS = {"办件编号": "case_id", "部门": "department_id", "总体满意度": "cb_overall",
                     "实际办理天数": "days_reported", "承诺办理天数": "promised_days", "跑动次数": "trips",
                     "是否一次性告知": "told_once", "有无不当要求": "improper_demand"}
VISIT_GROUPS = (
    ("基本信息", {"评估编号": "visit_id", "部门": "department_id", "评估日期": "visit_date", "评估方式": "visit_type",
              "评估员": "rater", "等候时长（分钟）": "wait_minutes"}),
    ("检查项目", {f"{c} {name}": c for c, name in zip(CHECKLIST_ITEMS, CHECKLIST_NAMES)}),
    ("情景测试", {"一次性告知情景测试": "scenario_all_listed"}),
)
GUIDE_COLUMNS = {"部门": "department_id", "指南编号": "guide_id", "核查日期": "check_date", "是否准确": "accurate"}
MONTHLY_COLUMNS = {"部门": "department_id", "月份": "month", "受理件数": "cases_received", "办结件数": "cases_closed",
                   "按时办结件数": "closed_on_time", "全程网办件数": "cases_online", "一窗受理件数": "cases_one_window"}
MATTER_COLUMNS = {"部门": "department_id", "事项编码": "matter_id", "事项名称": "matter_name", "年办件量": "annual_volume",
                  "法定时限（工作日）": "statutory_days", "承诺时限（工作日）": "promised_days",
                  "改革前材料数": "docs_baseline", "现行材料数": "docs_current"}
RATING_COLUMNS = {"评价编号": "rating_id", "部门": "department_id", "评价时间": "rated_at", "评价等级": "level",
                  "评价方式": "default_rating", "整改时限（工作日）": "deadline_days", "整改完成时间": "rectified_at",
                  "整改回访满意度": "callback_level"}


def write_demo_project(out_dir: str | Path, *, seed: int | None = None,
                       config: SimulationConfig | None = None) -> Path:
    """Simulate every year and write the demo project folder.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write (created; files already there are overwritten).
    seed : int, optional
        Seed of the data; overrides ``config.seed`` when both are given.
    config : SimulationConfig, optional
        Default ``SimulationConfig()``.

    Returns
    -------
    Path
        The written ``project.toml``.
    """
    config = config or SimulationConfig()
    if seed is not None:
        config = replace(config, seed=int(seed))
    out = Path(out_dir)
    register = build_register(config)
    years = {y: simulate_year(config, y, register=register) for y in config.years}
    (out / "truth").mkdir(parents=True, exist_ok=True)
    (out / "framework.toml").write_text(_framework_text(config, register), encoding="utf-8")
    inputs = []
    for year, sim in years.items():
        folder = out / "data" / str(year)
        folder.mkdir(parents=True, exist_ok=True)
        names = register.params["department"]
        inputs += _write_year(sim, folder, f"data/{year}", names, stream(config, STREAM_FILES, year), out / "truth")
        _csv(sim.truth, out / "truth" / f"truth_{year}.csv")
        _csv(sim.truth_indicators, out / "truth" / f"indicators_{year}.csv")
        _csv(sim.params, out / "truth" / f"params_{year}.csv")
    _csv(true_changes(years, register.framework), out / "truth" / "changes.csv")
    path = out / "project.toml"
    path.write_text(_project_toml(config, inputs), encoding="utf-8")
    return path


# ---------------------------------------------------------------- one year


def _write_year(sim: SimulatedYear, folder: Path, rel: str, names: pd.Series, rng: np.random.Generator,
                truth_dir: Path) -> list[dict]:
    y = sim.year
    t = sim.tables
    inputs = []

    survey, injected = _survey_frame(t["survey"], names, y, rng)
    _csv(survey, folder / f"survey_{y}.csv", encoding="utf-8-sig")
    injected.insert(0, "file", f"{rel}/survey_{y}.csv")
    _csv(injected, truth_dir / f"injected_{y}.csv")
    inputs.append(_input(y, "survey", f"{rel}/survey_{y}.csv", SURVEY_COLUMNS, encoding="utf-8-sig",
                         design={"weights": "weight", "cluster": "cluster"}))

    att = t["callback_attempts"]
    frame = _renamed(att.assign(department_id=att["department_id"].map(names),
                                called_at=att["called_at"].dt.strftime("%Y-%m-%d %H:%M"),
                                outcome=att["outcome"].map(OUTCOME_LABEL)), ATTEMPT_COLUMNS)
    _csv(frame, folder / f"callback_attempts_{y}.csv", encoding="gb18030", crlf=True)
    inputs.append(_input(y, "callback_attempts", f"{rel}/callback_attempts_{y}.csv", ATTEMPT_COLUMNS,
                         encoding="gb18030"))

    partial = set(att.loc[att["outcome"] == "partial", "case_id"])
    _csv(_interview_frame(t["callback_interviews"], names, partial), folder / f"callback_interviews_{y}.csv",
         encoding="utf-8")
    inputs.append(_input(y, "callback_interviews", f"{rel}/callback_interviews_{y}.csv", INTERVIEW_COLUMNS,
                         encoding="utf-8"))

    _visits_workbook(t["visits"], names, folder / f"visits_{y}.xlsx")
    visit_columns = {f"{group}_{zh}": canon for group, cols in VISIT_GROUPS for zh, canon in cols.items()}
    inputs.append(_input(y, "visits", f"{rel}/visits_{y}.xlsx", visit_columns, sheet="现场评估", header_rows=2))

    g = t["guides"]
    guides = _renamed(g.assign(department_id=g["department_id"].map(names),
                               check_date=g["check_date"].dt.strftime("%Y-%m-%d"),
                               accurate=np.where(g["accurate"] == 1, "是", "否")), GUIDE_COLUMNS)
    text = "\ufeff" + guides.to_csv(sep="\t", index=False, lineterminator="\r\n")
    (folder / f"guides_{y}.txt").write_bytes(text.encode("utf-16-le"))
    inputs.append(_input(y, "guides", f"{rel}/guides_{y}.txt", GUIDE_COLUMNS, encoding="utf-16", delimiter="\t"))

    _admin_workbook(t["admin_monthly"], t["admin_matters"], names, folder / f"admin_{y}.xlsx")
    inputs.append(_input(y, "admin_monthly", f"{rel}/admin_{y}.xlsx", MONTHLY_COLUMNS, sheet="月度数据"))
    inputs.append(_input(y, "admin_matters", f"{rel}/admin_{y}.xlsx", MATTER_COLUMNS, sheet="事项清单"))

    _csv(_ratings_frame(t["ratings"], names), folder / f"ratings_{y}.csv", encoding="utf-8")
    inputs.append(_input(y, "ratings", f"{rel}/ratings_{y}.csv", RATING_COLUMNS, encoding="utf-8"))
    return inputs


def _input(year: int, table: str, path: str, columns: dict, **extra) -> dict:
    return {"year": year, "table": table, "path": path, "columns": columns, **extra}


def _renamed(frame: pd.DataFrame, columns: dict) -> pd.DataFrame:
    return frame[list(columns.values())].set_axis(list(columns), axis=1)


def _number(values: pd.Series) -> pd.Series:
    """Numbers as an evaluator's export writes them: integers without '.0', blanks for missing."""
    out = values.map(lambda v: "" if pd.isna(v) else (str(int(v)) if float(v).is_integer() else repr(float(v))))
    return out.astype(object)


def _labels(values: pd.Series, scale: str) -> pd.Series:
    labels, na = LABELS[scale]
    return values.map(labels).fillna(na).astype(object)


FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


def _survey_frame(s: pd.DataFrame, names: pd.Series, year: int, rng: np.random.Generator):
    """The survey export with planted problems, and the record of what was planted."""
    f = pd.DataFrame({
        "response_id": s["response_id"], "department_id": s["department_id"].map(names),
        "interview_date": s["interview_date"].dt.strftime("%Y-%m-%d"),
        "respondent_type": s["respondent_type"].map({"citizen": "群众", "enterprise": "企业"}),
        "mode": s["mode"].map({"hall": "窗口", "sms": "短信", "panel": "企业库"}),
        "phone": s["phone"], "duration_sec": _number(s["duration_sec"]), "weight": _number(s["weight"]),
        "cluster": s["cluster"],
    })
    wide = rng.random(len(f)) < 0.05
    f.loc[wide, "duration_sec"] = f.loc[wide, "duration_sec"].str.translate(FULL_WIDTH)
    for item, (scale, _) in SURVEY_ITEMS.items():
        f[item] = _labels(s[item], scale)
    f["comment"] = s["comment"].fillna("").astype(object)
    n = len(f)
    n_range = max(1, round(0.003 * n))
    picks = rng.choice(n, n_range + 5, replace=False)
    take = np.split(picks, np.cumsum([n_range, 2, 2, 1]))
    bad = f.iloc[take[0]].copy()
    bad["response_id"] = bad["response_id"] + "B"
    items = list(SURVEY_ITEMS)
    for r, col in zip(range(len(bad)), rng.integers(0, len(items), len(bad))):
        bad.iat[r, bad.columns.get_loc(items[col])] = "6"
    # A copy with a day that never was costs the whole row (the interview date is required); an answer outside
    # its scale alone would only cost its cell. The originals' time taken, written unreadably, costs one cell.
    bad["interview_date"] = f"{year}-02-30"
    f.iloc[take[0], f.columns.get_loc("duration_sec")] = "约两分钟"
    dup = f.iloc[take[1]].copy()
    late = f.iloc[take[2]].copy()
    late["response_id"] = late["response_id"] + "C"
    late["interview_date"] = [f"{year - 1}-12-{d}" for d in rng.integers(18, 31, len(late))]
    f.iloc[take[3], f.columns.get_loc("comment")] = FORMULA
    # Planted rows sit at random places; a duplicate always after its original, so "first kept" keeps it.
    key = np.concatenate([np.arange(n, dtype=float), rng.uniform(0, n, len(bad)),
                          take[1] + rng.uniform(0.5, 1.0, len(dup)) * (n - take[1]), rng.uniform(0, n, len(late))])
    out = pd.concat([f, bad, dup, late], ignore_index=True).iloc[np.argsort(key, kind="stable")]
    injected = pd.DataFrame({
        "year": year, "table": "survey",
        "issue": ["bad_date", "bad_duration", "duplicate_id", "outside_period", "formula_text"],
        "action": ["quarantine", "clear_cell", "quarantine", "quarantine", "keep"],
        "n_rows": [len(bad), len(bad), len(dup), len(late), 1],
        "ids": [";".join(x["response_id"]) for x in (bad, f.iloc[take[0]], dup, late)]
               + [f.iloc[take[3][0]]["response_id"]],
    })
    return _renamed(out, SURVEY_COLUMNS), injected


def _interview_frame(iv: pd.DataFrame, names: pd.Series, partial: set) -> pd.DataFrame:
    part = iv["case_id"].isin(partial)

    def yesno(values, yes, no):
        out = values.map({1.0: yes, 0.0: no}).fillna("记不清").astype(object)
        out[part & values.isna()] = ""
        return out

    frame = iv.assign(department_id=iv["department_id"].map(names),
                      cb_overall=_labels(iv["cb_overall"], "satisfaction"),
                      days_reported=_number(iv["days_reported"]), promised_days=_number(iv["promised_days"]),
                      trips=iv["trips"].map({0.0: "0次", 1.0: "1次", 2.0: "2次", 3.0: "3次及以上"}).fillna("记不清"),
                      told_once=yesno(iv["told_once"], "是", "否"),
                      improper_demand=yesno(iv["improper_demand"], "有", "没有"))
    return _renamed(frame, INTERVIEW_COLUMNS)


def _ratings_frame(r: pd.DataFrame, names: pd.Series) -> pd.DataFrame:
    rated = r["rated_at"]
    day = rated.dt.year.astype(str) + "年" + rated.dt.month.astype(str) + "月" + rated.dt.day.astype(str) + "日"
    default = r["default_rating"] == 1
    frame = r.assign(
        department_id=r["department_id"].map(names),
        rated_at=np.where(default, day, _slashed(rated)),
        level=_number(r["level"]),
        default_rating=np.where(default, "默认好评", "主动评价"),
        deadline_days=_number(r["deadline_days"]),
        rectified_at=_slashed(r["rectified_at"]),
        callback_level=_number(r["callback_level"]))
    return _renamed(frame, RATING_COLUMNS)


def _slashed(ts: pd.Series) -> pd.Series:
    """Timestamps as 2024/3/5 14:30 (blank for NaT)."""
    text = (ts.dt.year.astype("Int64").astype(str) + "/" + ts.dt.month.astype("Int64").astype(str) + "/"
            + ts.dt.day.astype("Int64").astype(str) + " " + ts.dt.hour.astype("Int64").astype(str) + ":"
            + ts.dt.minute.astype("Int64").astype(str).str.zfill(2))
    return text.where(ts.notna(), "").astype(object)


# ---------------------------------------------------------------- workbooks


def _visits_workbook(v: pd.DataFrame, names: pd.Series, path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "现场评估"
    col = 1
    for group, cols in VISIT_GROUPS:
        ws.cell(row=1, column=col, value=group).alignment = Alignment(horizontal="center")
        ws.cell(row=1, column=col).font = Font(bold=True)
        if len(cols) > 1:
            ws.merge_cells(start_row=1, start_column=col, end_row=1, end_column=col + len(cols) - 1)
        for k, zh in enumerate(cols):
            ws.cell(row=2, column=col + k, value=zh).font = Font(bold=True)
        col += len(cols)
    labels = {"announced": "明察", "mystery": "暗访"}
    for r in v.itertuples(index=False):
        row = [r.visit_id, names[r.department_id], r.visit_date.to_pydatetime(), labels[r.visit_type], r.rater,
               float(r.wait_minutes)]
        row += [CHECKLIST_LABEL.get(getattr(r, c), "不适用") for c in CHECKLIST_ITEMS]
        row.append("" if np.isnan(r.scenario_all_listed) else ("是" if r.scenario_all_listed == 1 else "否"))
        ws.append([x if x != "" else None for x in row])
    for cell in ws["C"][2:]:
        cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A3"
    _save(wb, path)


def _admin_workbook(monthly: pd.DataFrame, matters: pd.DataFrame, names: pd.Series, path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "说明"
    for line in INSTRUCTIONS:
        ws.append([line])
    for title, frame, columns in (("月度数据", monthly, MONTHLY_COLUMNS), ("事项清单", matters, MATTER_COLUMNS)):
        sheet = wb.create_sheet(title)
        data = _renamed(frame.assign(department_id=frame["department_id"].map(names)), columns)
        sheet.append(list(data.columns))
        for row in data.itertuples(index=False):
            sheet.append([int(x) if isinstance(x, float) and x.is_integer() else x for x in row])
        sheet.freeze_panes = "A2"
    _save(wb, path)


def _save(wb: Workbook, path: Path) -> None:
    """Save with fixed timestamps (document properties and zip entries), so equal data give equal bytes."""
    wb.properties.creator = "minping"
    wb.properties.created = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + stamp.encode() + rb"\g<2>", data)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=ZIP_TIME), data,
                         compress_type=zipfile.ZIP_DEFLATED)
    path.write_bytes(out.getvalue())


# ---------------------------------------------------------------- text files


def _csv(frame: pd.DataFrame, path: Path, *, encoding: str = "utf-8-sig", crlf: bool = False) -> None:
    text = frame.to_csv(index=False, lineterminator="\r\n" if crlf else "\n")
    path.write_bytes(text.encode(encoding))


def _framework_text(config: SimulationConfig, register: Register) -> str:
    """The framework file, with the cloned departments of a province-scale run appended."""
    text = Path(config.framework or DEFAULT_FRAMEWORK).read_text(encoding="utf-8-sig")
    if register.clones:
        text += "\n# Departments cloned for a province-scale simulation.\n"
    for d in register.clones:
        text += (f"\n[[departments]]\nid = {_q(d.id)}\nname = {_q(d.name)}\nname_en = {_q(d.name_en)}\n"
                 f"category = {_q(d.category)}\ntier = {_q(d.tier)}\n" + ("optional = true\n" if d.optional else ""))
    return text


def _q(s: str) -> str:
    return json.dumps(str(s), ensure_ascii=False)


def _project_toml(config: SimulationConfig, inputs: list[dict]) -> str:
    lines = ["[project]", f"name = {_q(PROJECT_NAME)}", f"name_en = {_q(PROJECT_NAME_EN)}",
             'framework = "framework.toml"', f"years = [{', '.join(str(y) for y in config.years)}]",
             f"seed = {int(config.seed)}",
             f"salt = {_q(SALT)}          # for hashing phone numbers; the MINPING_SALT environment variable overrides",
             f"city = {_q(CITY)}", f"city_en = {_q(CITY_EN)}", f"evaluator = {_q(EVALUATOR)}",
             f"evaluator_en = {_q(EVALUATOR_EN)}",
             "report_dates = { " + ", ".join(f'{y} = "{y + 1}-03-20"' for y in config.years)
             + " }   # each year's report; rectification is due a month later",
             "", "[periods]"]
    lines += [f'{y} = ["{y}-01-01", "{y}-12-31"]' for y in config.years]
    for spec in inputs:
        lines += ["", "[[inputs]]", f"year = {spec['year']}", f"table = {_q(spec['table'])}",
                  f"path = {_q(spec['path'])}"]
        for key in ("encoding", "sheet", "delimiter"):
            if key in spec:
                lines.append(f"{key} = {_q(spec[key])}")
        if "header_rows" in spec:
            lines.append(f"header_rows = {int(spec['header_rows'])}")
        lines.append("[inputs.columns]")
        lines += [f"{_q(k)} = {_q(v)}" for k, v in spec["columns"].items()]
        if spec.get("design"):
            lines.append("[inputs.design]")
            lines += [f"{k} = {_q(v)}" for k, v in spec["design"].items()]
    return "\n".join(lines) + "\n"
