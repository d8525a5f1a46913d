"""Canonical tables: the single source of column names for every channel.

Each input file is mapped (by the project file's column mapping) onto one of
these tables.  A :class:`ColumnSpec` says how a column is parsed and whether a
row without it can be used.  ``derived`` lists the fields that
:mod:`surveys.derive` adds after parsing; indicators may read those too.

:data:`TABLES` holds the structural columns every evaluation has (ids,
department, dates, design columns, administrative counts, 好差评 fields).
The questions are the framework's: the questionnaire items, the callback
interview items and the site-visit checklist are declared in the framework
file (``[[items]]``, :class:`Item`), any number of them, with their labels
and scales, and :func:`tables_with_items` adds them to the tables
(``Framework.tables``).  Code that needs a table's columns reads the
framework's tables, never a fixed list of items.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .callbacks import CALL_RESULTS

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
    ``number``, ``count``, ``text``, ``phone``, ``hashed``, ``category``,
    ``flag``.  For ``code`` columns ``scale`` names the framework scale whose
    labels and valid codes apply; for ``category`` columns ``labels`` maps the
    file's text onto canonical values (the labels a template offers) and
    ``synonyms`` lists further texts read the same way but not offered.  A
    ``hashed`` column (an IP address, a device id) is personal data kept only
    as its salted hash ``<name>_hash``.  ``unit="s"`` marks a number column
    of seconds read as a duration (``86秒``, ``2分15秒``, ``0:02:15``;
    :func:`surveys.normalize.parse_durations`).
    """

    name: str
    kind: str
    required: bool = False
    scale: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    zh: str = ""
    en: str = ""
    #: further headers a file may give the column (a question's wording), matched like ``zh``
    aliases: tuple[str, ...] = ()
    #: category columns: further texts read as a canonical value, not offered by templates
    synonyms: tuple[tuple[str, str], ...] = ()
    #: number columns: ``"s"`` for a duration in seconds
    unit: str | None = None


@dataclass(frozen=True)
class TableSpec:
    name: str
    channel: str
    zh: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...] = ()
    derived: tuple[str, ...] = ()
    date_column: str | None = None
    #: the key of a file that lacks a column of ``key`` (a call log without attempt numbers: case and call time)
    alt_key: tuple[str, ...] = ()

    def key_for(self, columns) -> tuple[str, ...]:
        """The key columns of a frame with ``columns``: ``key`` when it has them all, else ``alt_key`` when it
        has those, else the key columns it has."""
        have = set(columns)
        if set(self.key) <= have or not self.alt_key:
            return tuple(k for k in self.key if k in have)
        return tuple(k for k in self.alt_key if k in have)

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


#: the tables whose questions a framework declares (``[[items]]``)
ITEM_TABLES = ("survey", "callback_interviews", "visits")
#: kinds an item may have: a code on a scale, a number, or free text
ITEM_KINDS = ("code", "number", "text")


@dataclass(frozen=True)
class Item:
    """One question of a questionnaire, a callback interview or a site-visit checklist (``[[items]]``).

    ``id`` is the canonical column name the project maps a file's column to;
    ``name`` / ``name_en`` the question or criterion in words (the documents
    show these, never the id); ``scale`` the framework scale of a coded item;
    ``kind`` ``code``, ``number`` or ``text``; ``aliases`` further headers a
    file may carry for it (matched like the Chinese name).
    """

    table: str
    id: str
    name: str
    name_en: str
    kind: str = "code"
    scale: str | None = None
    aliases: tuple[str, ...] = ()

    def column(self) -> ColumnSpec:
        return ColumnSpec(self.id, self.kind, scale=self.scale, zh=self.name, en=self.name_en, aliases=self.aliases)

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
#: the call-centre result words beyond the template's labels (:data:`surveys.callbacks.CALL_RESULTS`)
_RESULTS = tuple((k, v) for k, v in CALL_RESULTS.items() if k not in CALLBACK_OUTCOMES)

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
                ColumnSpec("duration_sec", "number", zh="答题时长（秒）", unit="s"),
                ColumnSpec("weight", "number", zh="权重"),
                ColumnSpec("stratum", "text", zh="层"),
                ColumnSpec("cluster", "text", zh="调查点日"),
                ColumnSpec("comment", "text", zh="意见建议"),
                ColumnSpec("ip_address", "hashed", zh="来源IP"),
                ColumnSpec("device_id", "hashed", zh="设备标识"),
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
                ColumnSpec("attempt_no", "count", zh="拨打次序"),
                ColumnSpec("called_at", "date", zh="拨打时间"),
                ColumnSpec("outcome", "category", True, labels=_OUTCOME, synonyms=_RESULTS, zh="拨打结果"),
            ),
            key=("case_id", "attempt_no"),
            date_column="called_at",
            alt_key=("case_id", "called_at"),
        ),
        TableSpec(
            "callback_interviews", "C", "回访问卷",
            (
                ColumnSpec("case_id", "id", True, zh="办件编号"),
                ColumnSpec("department_id", "department", True, zh="部门"),
                ColumnSpec("comment", "text", zh="回访意见"),
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
                ColumnSpec("level", "code", True, scale="haocha", zh="评价等级"),
                ColumnSpec("default_rating", "category", labels=_DEFAULT, zh="评价方式"),
                ColumnSpec("deadline_days", "number", zh="整改时限（工作日）"),
                ColumnSpec("rectified_at", "date", zh="整改完成时间"),
                ColumnSpec("callback_level", "code", scale="haocha", zh="整改回访满意度"),
            ),
            key=("rating_id",),
            derived=("is_bad", "rectified_on_time", "rectification_called_back", "rectification_satisfied"),
            date_column="rated_at",
        ),
    )
}


def tables_with_items(items: tuple[Item, ...]) -> dict[str, TableSpec]:
    """:data:`TABLES` with each table's declared items appended (in declaration order)."""
    out = {}
    for name, spec in TABLES.items():
        own = tuple(i.column() for i in items if i.table == name)
        out[name] = spec if not own else replace(spec, columns=spec.columns + own)
    return out


def table_fields(spec: TableSpec) -> tuple[str, ...]:
    """Every field an indicator may read from a table (columns and derived)."""
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
    ``recordable`` is the set of final call dispositions the year's call
    results can record (:func:`surveys.callbacks.recordable_dispositions`):
    without ``never_handled`` in it, record authenticity (gate G1) cannot be
    measured, whatever the rate would read.  None when unknown (tables built
    without the call records' vocabulary), read as "every disposition".
    ``absent`` lists the files without a column the framework's indicators
    read (:meth:`surveys.ledger.Ledger.absent_frame`); None when unknown.
    """

    year: int
    tables: dict = field(default_factory=dict)
    designs: dict = field(default_factory=dict)
    flags: object = None
    recordable: frozenset | None = None
    absent: object = None

    def get(self, name: str):
        return self.tables.get(name)
