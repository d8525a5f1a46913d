"""Realistic exports evaluators receive, written from scratch, and the project file that reads them as they come.

Not the demo generator: these files imitate what the platforms and a call
centre hand over, quirks included, so that the intake is tested on the
files themselves.

- ``问卷星_群众版.xlsx``: a 问卷星 (wjx) Excel download.  The platform's own
  columns (序号, 提交答卷时间 ``2024/3/5 14:30:12``, 所用时间 ``86秒`` /
  ``2分15秒``, 来源, 来源详情, 来自IP ``223.104.63.12(湖北-荆州)``), numbered
  question headers (``3、总体满意度：``, matrix rows ``4(服务态度满意度)``),
  answers as option texts, skip markers ``(跳过)`` and ``(空)``, respondent
  types the questionnaire offered (企业（含个体工商户）, 个体户), a label the
  scale does not know (很满意, recoded in the project) and one it cannot
  read (满意了: its cell is cleared).  Department 1's hall staff filled in
  eight questionnaires from one phone within ten minutes, with the same
  praise word for word.
- ``问卷星_企业版.csv``: the enterprise questionnaire's CSV download (UTF-8
  with BOM), numbered from 1 again, its own question numbers.
- ``回访记录_呼叫中心.csv``: a call centre's GBK log, one row per call in
  time order: 工单编号, 办件部门, 联系电话, 呼叫时间, 呼叫结果 (接通 无人接听 空号
  停机 关机 忙音 拒访 非本人 中途挂断), the answers on the connected calls
  (满意度 1-5, 跑动次数, 是否一次性告知, 有无不当要求) and 回访备注.  No
  attempt numbers.
- ``现场评估_两人评分.xlsx``: a site-visit checklist workbook, two raters per
  visit, a two-row header with the 25 checklist items merged under
  检查项目, waiting times ``12分钟``.

:func:`write_exports` writes them (and ``project.toml``) into a folder and
returns what the files hold by construction (the truth the tests compare
with).  ``variant`` writes a malformed version: ``unknown_labels``,
``broken_durations``, ``unknown_results``, ``no_never_handled``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass, field
from pathlib import Path

DEPARTMENTS = ("市场监督管理局", "税务局", "公安局", "人力资源和社会保障局", "民政局", "不动产登记中心")
SATISFACTION = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
EASIER = ("容易多了", "容易一些", "差不多", "难一些", "难多了")
AGREEMENT = ("非常同意", "同意", "一般", "不同意", "非常不同意")
MATRIX = ("办事效率满意度", "办事便捷度满意度", "服务态度满意度", "业务能力满意度", "信息获取满意度")
CHECKLIST = ("窗口标识清晰", "工作人员佩戴工牌", "首问负责落实", "办事指南公开", "收费标准公示", "投诉渠道公示",
             "叫号系统运行正常", "等候区座位充足", "自助设备可用", "导办人员在岗", "网办引导服务", "使用文明用语",
             "着装规范", "无脱岗离岗", "无玩手机等违纪行为", "一次性告知落实", "容缺受理落实", "评价器可用", "不诱导好评",
             "帮办代办服务", "无障碍设施", "便民设施齐全", "环境整洁", "出具受理凭证", "限时办结公示")
COMPLAINTS = ("排队时间太长了，窗口太少", "跑了好几趟才办完", "材料太多，还要重复提交", "工作人员态度不好，很不耐烦",
              "系统卡，网上办不了", "窗口之间互相推，推来推去", "希望简化流程", "办理速度很快，点赞", "", "", "")
PRAISE = "服务态度非常好，办事效率非常高，点赞！"
#: the wjx questionnaire's question headers (numbered as the platform writes them)
WJX_QUESTIONS = {
    "department": "1、您办理事项的部门：", "type": "2、您的身份：", "overall": "3、总体满意度：",
    **{m: f"4({m})" for m in MATRIX},
    "easier": "5、与一年前相比，您觉得在本部门办事容易了吗？", "fair": "6、您在办事过程中是否受到公平对待？",
    "comment": "7、您对我们的意见和建议：",
}
#: the enterprise questionnaire: the same questions, its own numbering
ENTERPRISE_QUESTIONS = {
    "department": "1.您办理事项的部门", "type": "2.贵单位的类型", "overall": "3.总体满意度",
    **{m: f"4({m})" for m in MATRIX},
    "easier": "5.与一年前相比，您觉得在本部门办事容易了吗？", "fair": "6.您在办事过程中是否受到公平对待？",
    "comment": "7.您对我们的意见和建议",
}
RESULTS_ALL = ("接通", "无人接听", "空号", "停机", "关机", "忙音", "拒访", "非本人", "中途挂断")
#: final status of a case -> the result word the call centre writes on its last call
FINAL_WORD = {"complete": "接通", "refusal": "拒访", "wrong_number": "空号", "never_handled": "非本人",
              "breakoff": "中途挂断", "other": "接通", "no_answer": "无人接听", "busy": "忙音",
              "switched_off": "关机"}
NON_CONTACT = ("无人接听", "忙音", "关机", "停机")


@dataclass
class Truth:
    """What the exports hold by construction."""

    survey_rows: dict[str, int] = field(default_factory=dict)        # file -> data rows
    cases: dict[str, tuple[str, str]] = field(default_factory=dict)  # case -> (department name, final status)
    calls: int = 0
    interviews: int = 0
    skipped_cells: int = 0            # (跳过) / (空) markers in the survey files
    unreadable: dict[str, int] = field(default_factory=dict)        # value the project cannot read -> cells
    burst_department: str = ""
    burst_rows: int = 0
    durations: dict[str, float] = field(default_factory=dict)       # 所用时间 text -> seconds
    visits: int = 0


def write_exports(folder: Path, *, seed: int = 2024, variant: str | None = None) -> Truth:
    """Write the four exports and ``project.toml`` into ``folder`` (``data/`` beside the project file)."""
    rng = random.Random(seed)
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    truth = Truth()
    rows = _wjx(rng, truth, variant, citizens=True)
    (data / "问卷星_群众版.xlsx").write_bytes(_xlsx({"Sheet1": rows}))
    truth.survey_rows["data/问卷星_群众版.xlsx"] = len(rows) - 1
    rows = _wjx(rng, truth, variant, citizens=False)
    (data / "问卷星_企业版.csv").write_bytes(_csv(rows, "utf-8-sig"))
    truth.survey_rows["data/问卷星_企业版.csv"] = len(rows) - 1
    (data / "回访记录_呼叫中心.csv").write_bytes(_csv(_calls(rng, truth, variant), "gbk"))
    header, visits = _visits(rng, truth)
    (data / "现场评估_两人评分.xlsx").write_bytes(_xlsx({"现场评估": [*header, *visits]},
                                                   merges={"现场评估": _visit_merges()}))
    (folder / "project.toml").write_text(PROJECT, encoding="utf-8")
    return truth


#: the project file: presets, mappings and recodes only
PROJECT = '''[project]
name = "平台导出样例"
framework = "default"
years = [2024]
seed = 11
salt = "exports-salt"

[periods]
2024 = ["2024-01-01", "2024-12-31"]

# Both questionnaires are 问卷星 downloads: the platform's columns, numbering and skip markers.
[tables.survey]
preset = "wjx"

[tables.survey.columns]               # questions the framework does not name, by their text
"您办理事项的部门" = "department_id"
"您的身份" = "respondent_type"
"贵单位的类型" = "respondent_type"
"与一年前相比，您觉得在本部门办事容易了吗" = "q_easier"
"您在办事过程中是否受到公平对待" = "q_fair"
"您对我们的意见和建议" = "comment"

[tables.survey.recode.respondent_type]
"企业（含个体工商户）" = "enterprise"
"个体户" = "enterprise"
"个体工商户" = "enterprise"
"民营企业" = "enterprise"
"国有企业" = "enterprise"

[tables.survey.recode.q_overall]
"很满意" = 5

[[inputs]]
year = 2024
table = "survey"
path = "data/问卷星_群众版.xlsx"
id_prefix = "群众-"

[[inputs]]
year = 2024
table = "survey"
path = "data/问卷星_企业版.csv"
id_prefix = "企业-"

# The call centre's log: one row per call, its own headers and result words.
[[inputs]]
year = 2024
table = "callback_attempts"
path = "data/回访记录_呼叫中心.csv"
[inputs.columns]
"工单编号" = "case_id"
"办件部门" = "department_id"
"联系电话" = "phone"
"呼叫时间" = "called_at"
"呼叫结果" = "outcome"
"满意度" = "cb_overall"
"跑动次数" = "trips"
"是否一次性告知" = "told_once"
"有无不当要求" = "improper_demand"
"回访备注" = "comment"

[[inputs]]
year = 2024
table = "visits"
path = "data/现场评估_两人评分.xlsx"
header_rows = 2
[inputs.columns]
"评估员" = "rater"
'''


def _wjx(rng: random.Random, truth: Truth, variant: str | None, *, citizens: bool) -> list[list[str]]:
    questions = WJX_QUESTIONS if citizens else ENTERPRISE_QUESTIONS
    header = ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP", *questions.values()]
    rows = [header]
    per = 46 if citizens else 14
    start = dt.datetime(2024, 3, 4, 9, 0, 0)
    number = 0
    for d, dept in enumerate(DEPARTMENTS):
        for i in range(per):
            number += 1
            when = start + dt.timedelta(days=rng.randrange(0, 230), minutes=rng.randrange(0, 540),
                                        seconds=rng.randrange(0, 60))
            seconds = rng.randrange(70, 600)
            took = f"{seconds}秒" if rng.random() < 0.5 else f"{seconds // 60}分{seconds % 60}秒"
            if variant == "broken_durations" and rng.random() < 0.3:
                took = rng.choice(("八十六秒", "约2分钟", "2:15"))
                truth.unreadable[took] = truth.unreadable.get(took, 0) + 1
            else:
                truth.durations[took] = float(seconds)
            level = min(4, max(0, int(rng.gauss(1.2 + 0.15 * d, 0.9))))
            overall = SATISFACTION[level]
            if citizens and rng.random() < 0.06:
                overall = "很满意"
            if citizens and d == 2 and i == 5:
                overall = "满意了"
                truth.unreadable["满意了"] = truth.unreadable.get("满意了", 0) + 1
            if variant == "unknown_labels" and rng.random() < 0.3:
                overall = rng.choice(("很好", "还可以", "一般般"))
                truth.unreadable[overall] = truth.unreadable.get(overall, 0) + 1
            matrix = [SATISFACTION[min(4, max(0, level + rng.choice((-1, 0, 0, 1))))] for _ in MATRIX]
            first_time = rng.random() < 0.15
            easier = "(跳过)" if first_time else EASIER[min(4, max(0, level + rng.choice((0, 1))))]
            comment = _comment(rng) or "(空)"
            truth.skipped_cells += (easier == "(跳过)") + (comment == "(空)")
            kind = ("群众" if rng.random() < 0.7 else rng.choice(("企业（含个体工商户）", "个体户"))) if citizens \
                else rng.choice(("民营企业", "国有企业", "个体工商户"))
            ip = f"223.104.{rng.randrange(1, 250)}.{rng.randrange(1, 250)}(湖北-荆州)"
            rows.append([str(number), _wjx_time(when), took, rng.choice(("手机提交", "微信", "链接")),
                         rng.choice(("直接访问", "N/A")), ip, dept, kind, overall, *matrix, easier,
                         AGREEMENT[min(4, max(0, level + rng.choice((-1, 0, 1))))], comment])
        if citizens and d == 0:
            # the hall's staff, from one phone, within ten minutes: the same praise eight times
            burst = dt.datetime(2024, 6, 12, 15, 2, 0)
            for k in range(8):
                number += 1
                rows.append([str(number), _wjx_time(burst + dt.timedelta(minutes=k)), "41秒", "手机提交",
                             "直接访问", "117.136.8.9(湖北-荆州)", dept, "群众", "非常满意", *["非常满意"] * 5,
                             "容易多了", "非常同意", PRAISE])
            truth.burst_department, truth.burst_rows = dept, 8
    return rows


MATTERS = ("办营业执照", "办社保", "办不动产证", "办户口", "办医保", "办税", "办证明", "年检", "变更登记", "补办证件")


def _comment(rng: random.Random) -> str:
    """An open comment as respondents write them: a matter, a complaint or a wish, in their own words."""
    said = rng.choice(COMPLAINTS)
    if not said:
        return ""
    return (rng.choice(("", "这次", "上次")) + rng.choice(MATTERS) + rng.choice(("，", "时", "的时候")) + said
            + rng.choice(("", "。", "，希望改进", "！", "，谢谢")))


def _wjx_time(when: dt.datetime) -> str:
    """提交答卷时间 as 问卷星 writes it: 2024/3/5 14:30:12."""
    return f"{when.year}/{when.month}/{when.day} {when:%H:%M:%S}"


def _calls(rng: random.Random, truth: Truth, variant: str | None) -> list[list[str]]:
    header = ["工单编号", "办件部门", "联系电话", "呼叫时间", "呼叫结果", "满意度", "跑动次数", "是否一次性告知",
              "有无不当要求", "回访备注"]
    calls = []
    n = 0
    for d, dept in enumerate(DEPARTMENTS):
        for _ in range(40):
            n += 1
            case = f"GD2024{n:05d}"
            phone = f"170{n:08d}"
            padded = 0.2 if d == 5 else 0.02     # the last department padded its case list
            u = rng.random()
            final = ("never_handled" if u < padded else "wrong_number" if u < 2 * padded
                     else rng.choices(("complete", "refusal", "breakoff", "other", "no_answer", "busy"),
                                      (0.74, 0.08, 0.03, 0.03, 0.08, 0.04))[0])
            if variant == "no_never_handled" and final == "never_handled":
                final = "refusal"
            truth.cases[case] = (dept, final)
            tries = 1 if final not in ("no_answer", "busy") else 3
            tries = max(tries, rng.choice((1, 1, 2, 3)) if final in ("complete", "refusal", "never_handled") else tries)
            when = dt.datetime(2024, 4, 1, 9, 0) + dt.timedelta(days=rng.randrange(0, 200), minutes=rng.randrange(0, 480))
            for k in range(tries):
                last = k == tries - 1
                word = FINAL_WORD[final] if last else rng.choice(NON_CONTACT)
                if final == "switched_off":
                    word = "关机"
                if variant == "unknown_results" and not last and rng.random() < 0.3:
                    word = rng.choice(("转人工", "呼损"))
                    truth.unreadable[word] = truth.unreadable.get(word, 0) + 1
                answers = ["", "", "", "", ""]
                if last and final == "complete":
                    answers = [str(rng.choices((5, 4, 3, 2, 1), (0.45, 0.35, 0.12, 0.05, 0.03))[0]),
                               rng.choice(("0次", "1次", "1次", "2次", "3次及以上")), rng.choice(("是", "是", "否", "记不清")),
                               rng.choice(("没有", "没有", "没有", "有")), rng.choice(("", "", "办事顺利", "排队太久"))]
                    truth.interviews += 1
                calls.append([case, dept, phone, when.strftime("%Y-%m-%d %H:%M:%S"), word, *answers])
                when += dt.timedelta(hours=rng.randrange(2, 30))
    truth.calls = len(calls)
    # a call centre exports in call order, across cases
    calls.sort(key=lambda r: r[3])
    return [header, *calls]


def _visits(rng: random.Random, truth: Truth):
    top = ["评估编号", "部门", "评估日期", "评估方式", "评估员", "等候时长（分钟）"] + ["检查项目"] * len(CHECKLIST) + ["情景测试"]
    bottom = [""] * 6 + list(CHECKLIST) + ["一次性告知情景测试"]
    out = []
    for d, dept in enumerate(DEPARTMENTS):
        for v in range(3):
            visit = f"V2024-{d + 1:02d}{v + 1}"
            day = dt.date(2024, 5, 6) + dt.timedelta(days=21 * v + d)
            kind = "暗访" if v else "明察"
            wait = rng.randrange(3, 40)
            marks = [rng.choices(("达标", "部分达标", "不达标", "不适用"), (0.75, 0.12, 0.08, 0.05))[0] for _ in CHECKLIST]
            scenario = rng.choice(("是", "是", "否"))
            for rater in ("张三", "李四"):
                own = [m if rng.random() < 0.9 else rng.choice(("达标", "部分达标", "不达标")) for m in marks]
                out.append([visit, dept, day.isoformat(), kind, rater, f"{wait}分钟", *own, scenario])
                truth.visits += 1
    return [top, bottom], out


def _visit_merges() -> list[str]:
    from openpyxl.utils import get_column_letter

    first, last = 7, 6 + len(CHECKLIST)
    return [f"{c}1:{c}2" for c in "ABCDEF"] + [f"{get_column_letter(first)}1:{get_column_letter(last)}1"]


def _csv(rows: list[list[str]], encoding: str) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def _xlsx(sheets: dict[str, list[list[object]]], merges: dict[str, list[str]] | None = None) -> bytes:
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


if __name__ == "__main__":
    import sys

    print(write_exports(Path(sys.argv[1] if len(sys.argv) > 1 else "exports")))
