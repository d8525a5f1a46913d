"""Canonical tables: the single source of column names for every channel.

Each input file is mapped (by the project file's column mapping) onto one of
these tables.  A :class:`ColumnSpec` says how a column is parsed and whether a
row without it can be used.  ``derived`` lists the fields that
:mod:`surveys.derive` adds after parsing; indicators may read those too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CHANNELS: dict[str, tuple[str, str]] = {
    "S": ("问卷调查", "Questionnaire survey"),
    "C": ("电话回访", "Phone callback"),
    "V": ("现场评估", "Site visit"),
    "A": ("行政数据", "Administrative data"),
    "H": ("好差评", "Good/bad service ratings"),
}

#: channels with sampling error (the others are censuses unless configured otherwise)
SAMPLED_CHANNELS = ("S", "C", "V")


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column.

    ``kind`` is one of ``id``, ``department``, ``date``, ``month``, ``code``,
    ``number``, ``count``, ``text``, ``phone``, ``category``, ``flag``.  For
    ``code`` columns ``scale`` names the framework scale whose labels and
    valid codes apply; for ``category`` columns ``labels`` maps the file's
    text onto canonical values.
    """

    name: str
    kind: str
    required: bool = False
    scale: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    zh: str = ""


@dataclass(frozen=True)
class TableSpec:
    name: str
    channel: str
    zh: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...] = ()
    derived: tuple[str, ...] = ()
    date_column: str | None = None

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


SURVEY_ITEMS = {
    "q_overall": ("satisfaction", "总体满意度"),
    "q_easier": ("easier", "与一年前相比办事难易"),
    "q_speed": ("satisfaction", "办事效率满意度"),
    "q_ease": ("satisfaction", "办事便捷度满意度"),
    "q_courtesy": ("satisfaction", "服务态度满意度"),
    "q_competence": ("satisfaction", "业务能力满意度"),
    "q_info": ("satisfaction", "信息获取满意度"),
    "q_fair": ("agreement", "受到公平对待"),
}

CHECKLIST_ITEMS = tuple(f"c{i:02d}" for i in range(1, 26))

CALLBACK_OUTCOMES = {
    "成功访问": "complete",
    "部分完成": "partial",
    "拒访": "refusal",
    "中途挂断": "breakoff",
    "无人接听": "no_answer",
    "占线": "busy",
    "关机停机": "switched_off",
    "空号错号": "wrong_number",
    "非本人办理": "never_handled",
    "其他": "other",
}

_TYPE = (("群众", "citizen"), ("个人", "citizen"), ("企业", "enterprise"))
_MODE = (("窗口", "hall"), ("现场", "hall"), ("短信", "sms"), ("微信", "sms"), ("企业库", "panel"))
_VISIT = (("明察", "announced"), ("暗访", "mystery"))
_DEFAULT = (("主动评价", "0"), ("默认好评", "1"), ("默认", "1"))
_OUTCOME = tuple(CALLBACK_OUTCOMES.items())

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec(
            "survey", "S", "问卷调查",
            (
                ColumnSpec("response_id", "id", True, zh="问卷编号"),
                ColumnSpec("department_id", "department", True, zh="部门"),
                ColumnSpec("interview_date", "date", True, zh="调查日期"),
                ColumnSpec("respondent_type", "category", labels=_TYPE, zh="受访者类型"),
                ColumnSpec("mode", "category", labels=_MODE, zh="调查方式"),
                ColumnSpec("phone", "phone", zh="手机号"),
                ColumnSpec("duration_sec", "number", zh="答题时长（秒）"),
                ColumnSpec("weight", "number", zh="权重"),
                ColumnSpec("stratum", "text", zh="层"),
                ColumnSpec("cluster", "text", zh="调查点日"),
                *(ColumnSpec(k, "code", scale=v[0], zh=v[1]) for k, v in SURVEY_ITEMS.items()),
                ColumnSpec("comment", "text", zh="意见建议"),
            ),
            key=("response_id",),
            date_column="interview_date",
        ),
        TableSpec(
            "callback_attempts", "C", "回访拨打记录",
            (
                ColumnSpec("case_id", "id", True, zh="办件编号"),
                ColumnSpec("department_id", "department", True, zh="部门"),
                ColumnSpec("phone", "phone", zh="联系电话"),
                ColumnSpec("handled_month", "month", zh="办件月份"),
                ColumnSpec("attempt_no", "count", True, zh="拨打次序"),
                ColumnSpec("called_at", "date", zh="拨打时间"),
                ColumnSpec("outcome", "category", True, labels=_OUTCOME, zh="拨打结果"),
            ),
            key=("case_id", "attempt_no"),
            date_column="called_at",
        ),
        TableSpec(
            "callback_interviews", "C", "回访问卷",
            (
                ColumnSpec("case_id", "id", True, zh="办件编号"),
                ColumnSpec("department_id", "department", True, zh="部门"),
                ColumnSpec("cb_overall", "code", scale="satisfaction", zh="总体满意度"),
                ColumnSpec("days_reported", "number", zh="实际办理天数"),
                ColumnSpec("promised_days", "number", zh="承诺办理天数"),
                ColumnSpec("trips", "code", scale="trips", zh="跑动次数"),
                ColumnSpec("told_once", "code", scale="yesno", zh="是否一次性告知"),
                ColumnSpec("improper_demand", "code", scale="yesno", zh="有无不当要求"),
            ),
            key=("case_id",),
            derived=("within_promised",),
        ),
        TableSpec(
            "visits", "V", "现场评估",
            (
                ColumnSpec("visit_id", "id", True, zh="评估编号"),
                ColumnSpec("department_id", "department", True, zh="部门"),
                ColumnSpec("visit_date", "date", True, zh="评估日期"),
                ColumnSpec("visit_type", "category", labels=_VISIT, zh="评估方式"),
                ColumnSpec("rater", "text", zh="评估员"),
                ColumnSpec("wait_minutes", "number", zh="等候时长（分钟）"),
                *(ColumnSpec(c, "code", scale="checklist", zh=c) for c in CHECKLIST_ITEMS),
                ColumnSpec("scenario_all_listed", "code", scale="yesno", zh="一次性告知情景测试"),
            ),
            key=("visit_id", "rater"),
            derived=("checklist_score",),
            date_column="visit_date",
        ),
        TableSpec(
            "guides", "V", "办事指南核查",
            (
                ColumnSpec("department_id", "department", True, zh="部门"),
                ColumnSpec("guide_id", "id", True, zh="指南编号"),
                ColumnSpec("check_date", "date", zh="核查日期"),
                ColumnSpec("accurate", "code", True, scale="yesno", zh="是否准确"),
            ),
            key=("department_id", "guide_id"),
        ),
        TableSpec(
            "admin_monthly", "A", "行政数据（月度）",
            (
                ColumnSpec("department_id", "department", True, zh="部门"),
                ColumnSpec("month", "month", True, zh="月份"),
                ColumnSpec("cases_received", "number", True, zh="受理件数"),
                ColumnSpec("cases_closed", "number", True, zh="办结件数"),
                ColumnSpec("closed_on_time", "number", True, zh="按时办结件数"),
                ColumnSpec("cases_online", "number", zh="全程网办件数"),
                ColumnSpec("cases_one_window", "number", zh="一窗受理件数"),
            ),
            key=("department_id", "month"),
        ),
        TableSpec(
            "admin_matters", "A", "行政数据（事项）",
            (
                ColumnSpec("department_id", "department", True, zh="部门"),
                ColumnSpec("matter_id", "id", True, zh="事项编码"),
                ColumnSpec("matter_name", "text", zh="事项名称"),
                ColumnSpec("annual_volume", "number", True, zh="年办件量"),
                ColumnSpec("statutory_days", "number", zh="法定时限"),
                ColumnSpec("promised_days", "number", zh="承诺时限"),
                ColumnSpec("docs_baseline", "number", zh="改革前材料数"),
                ColumnSpec("docs_current", "number", zh="现行材料数"),
            ),
            key=("department_id", "matter_id"),
            derived=("compression_x_volume", "docs_removed"),
        ),
        TableSpec(
            "ratings", "H", "好差评",
            (
                ColumnSpec("rating_id", "id", True, zh="评价编号"),
                ColumnSpec("department_id", "department", True, zh="部门"),
                ColumnSpec("rated_at", "date", True, zh="评价时间"),
                ColumnSpec("level", "code", True, scale="satisfaction", zh="评价等级"),
                ColumnSpec("default_rating", "category", labels=_DEFAULT, zh="评价方式"),
                ColumnSpec("deadline_days", "number", zh="整改时限（工作日）"),
                ColumnSpec("rectified_at", "date", zh="整改完成时间"),
                ColumnSpec("callback_level", "code", scale="satisfaction", zh="整改回访满意度"),
            ),
            key=("rating_id",),
            derived=("is_bad", "rectified_on_time", "rectification_called_back", "rectification_satisfied"),
            date_column="rated_at",
        ),
    )
}


def table_fields(table: str) -> tuple[str, ...]:
    """Every field an indicator may read from ``table`` (columns and derived)."""
    spec = TABLES[table]
    return spec.names + spec.derived


@dataclass(frozen=True)
class ChannelData:
    """Validated canonical tables of one evaluation year, plus their designs.

    ``tables`` maps a canonical table name to its DataFrame (columns as in
    :data:`TABLES`, ``department_id`` resolved against the register, codes as
    floats, N/A as NaN, derived fields added).  ``designs`` maps a table name
    to its sampling design as column names (weights / strata / cluster / fpc).
    ``flags`` holds the data flags of the ledger (``table, department_id,
    flag, n, detail``: quality screens and plausibility rules in ``flag`` mode).
    """

    year: int
    tables: dict = field(default_factory=dict)
    designs: dict = field(default_factory=dict)
    flags: object = None

    def get(self, name: str):
        return self.tables.get(name)
