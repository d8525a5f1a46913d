"""Every user-visible label of the reports, in Chinese and English, in one place.

Names of departments, categories, dimensions, indicators and grades are not
here: they come from the result frames' ``*`` / ``*_en`` columns
(:func:`name_column`).  Everything else a reader sees (titles, column heads,
notes, flag explanations) is looked up with :func:`label`.
"""

from __future__ import annotations

from surveys.errors import MinpingError

LANGS = ("zh", "en")

# key: (zh, en).  Texts with {placeholders} are filled with str.format.
LABELS: dict[str, tuple[str, str]] = {
    # --- documents -------------------------------------------------------------
    "scorecard_title": ("{year}年度政务服务第三方评估部门成绩单",
                        "{year} third-party evaluation of government services: department scorecard"),
    "city_title": ("{year}年度政务服务第三方评估总报告",
                   "{year} third-party evaluation of government services: city report"),
    "city_subtitle": ("{n}个部门 · {k}个维度 · {m}项指标",
                      "{n} departments · {k} dimensions · {m} indicators"),
    "framework": ("评估框架", "Framework"),
    "category": ("比较类别", "Comparison category"),
    "category_code": ("类别", "Category"),
    "tier": ("办件量层级", "Case-volume tier"),
    "page": ("第{page}页", "Page {page}"),
    "footer": ("minping {version} · 清单哈希 {hash}", "minping {version} · manifest hash {hash}"),
    # --- key figures -------------------------------------------------------------
    "index": ("综合指数", "Index"),
    "index_short": ("指数", "Index"),
    "interval": ("{level}置信区间", "{level} interval"),
    "grade": ("等级", "Grade"),
    "borderline": ("临界", "borderline"),
    "borderline_note": ("临界：置信区间跨越等级分界线，等级判定存在不确定性。",
                        "Borderline: the interval straddles a grade boundary, so the grade is uncertain."),
    "rank_overall": ("全市排名", "Rank in city"),
    "rank_in_category": ("类别内排名", "Rank in category"),
    "rank": ("排名", "Rank"),
    "rank_interval": ("排名区间", "Rank interval"),
    "of_n": ("{rank} / {n}", "{rank} of {n}"),
    "change": ("较上年变化", "Change since last year"),
    "change_short": ("较上年", "Change"),
    "no_value": ("—", "—"),
    "trend": ("历年指数", "Index by year"),
    "g1_deduction": ("真实性扣分", "Authenticity deduction"),
    "index_raw": ("扣分前指数", "Index before gates"),
    # --- sections ------------------------------------------------------------------
    "sec_dimensions": ("维度得分", "Dimension scores"),
    "sec_indicators": ("指标明细", "Indicators"),
    "sec_priorities": ("改进重点与整改清单", "Improvement priorities and rectification list"),
    "sec_quality": ("样本与数据质量", "Samples and data quality"),
    "sec_haocha": ("好差评与整改", "Service ratings (haochaping) and rectification"),
    "sec_reform": ("改革客观指标", "Objective reform figures"),
    "sec_method": ("方法说明", "Method"),
    "sec_ranking": ("综合排名", "Overall ranking"),
    "sec_ranking_category": ("分类别排名", "Ranking within comparison categories"),
    "sec_grades": ("等级分布", "Grade distribution"),
    "sec_heatmap": ("维度得分一览", "Dimension scores of all departments"),
    "sec_city_quality": ("数据质量概况", "Data-quality summary"),
    "sec_appendix": ("附表：各部门评估结果", "Appendix: results of all departments"),
    "sec_scope": ("评估范围与方法", "Scope and method"),
    "sec_weights": ("维度权重", "Dimension weights"),
    # --- table heads -------------------------------------------------------------------
    "department": ("部门", "Department"),
    "dimension": ("维度", "Dimension"),
    "indicator": ("指标", "Indicator"),
    "id": ("编号", "ID"),
    "channel": ("来源", "Source"),
    "raw_value": ("原始值", "Raw value"),
    "raw_se": ("原始值标准误", "Raw value SE"),
    "score": ("得分", "Score"),
    "estimate": ("得分", "Score"),
    "se": ("标准误", "SE"),
    "ci_low": ("区间下限", "Interval low"),
    "ci_high": ("区间上限", "Interval high"),
    "weight": ("权重", "Weight"),
    "weight_pct": ("权重(%)", "Weight (%)"),
    "n": ("样本量", "n"),
    "top2": ("满意率", "Top-2 share"),
    "bottom2": ("差评率", "Bottom-2 share"),
    "city_average": ("全市平均", "City average"),
    "category_best": ("类别最佳", "Category best"),
    "this_department": ("本部门", "This department"),
    "n_indicators": ("指标数", "Indicators"),
    "missing_weight_share": ("缺失权重占比", "Missing weight share"),
    "flag": ("标记", "Flag"),
    "flags": ("提示", "Flags"),
    "count": ("部门数", "Departments"),
    "total": ("合计", "Total"),
    "item": ("项目", "Item"),
    "value": ("数值", "Value"),
    "n_survey": ("问卷样本量", "Survey n"),
    "n_callback": ("回访样本量", "Callback n"),
    "n_visit": ("现场评估次数", "Site visits"),
    "priority_gain": ("可提升分值", "Points to gain"),
    "quadrant": ("象限", "Quadrant"),
    "due": ("整改期限", "Due"),
    "due_text": ("报告送达后1个月内", "within 1 month"),
    "action": ("整改要求", "Required action"),
    "action_text": ("针对“{name}”（得分{score}）制定整改措施并报送整改情况",
                    "Plan and report measures on “{name}” (score {score})"),
    "no_priorities": ("无可计算的改进重点。", "No priorities could be computed."),
    "key": ("键", "Key"),
    "meaning": ("含义", "Meaning"),
    "grade_name": ("等级名称", "Grade name"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    # --- quality figures ------------------------------------------------------------------
    "n_callback_drawn": ("回访抽取记录数", "Callback records drawn"),
    "n_callback_complete": ("回访成功数", "Callbacks completed"),
    "callback_completion": ("回访完成率", "Callback completion rate"),
    "wrong_number_rate": ("空号错号率", "Wrong-number rate"),
    "never_handled_rate": ("否认办事率", "Never-handled rate"),
    "g1_authenticity": ("办件记录真实率（G1）", "Record authenticity (G1)"),
    "g2_gap": ("好差评与回访满意率差（G2，百分点）", "Rating vs callback gap (G2, points)"),
    "haocha_n": ("好差评条数", "Ratings received"),
    "haocha_good_rate": ("好评率", "Good-review rate"),
    "haocha_active_good_rate": ("主动评价好评率", "Good-review rate among active ratings"),
    "haocha_no_rating_rate": ("默认好评占比", "Share of default ratings"),
    "haocha_default_share": ("默认好评占比", "Share of default ratings"),
    "on_time_rate": ("按时办结率", "On-time completion"),
    "haocha_bad_rate": ("差评率", "Bad-review rate"),
    "rectified_on_time_rate": ("差评按期整改率", "Bad reviews rectified on time"),
    "rectification_callback_rate": ("整改回访率", "Rectification called back"),
    "rectification_satisfaction": ("整改满意率", "Satisfaction with rectification"),
    "online_rate": ("全程网办率", "Full online handling"),
    "time_compression": ("承诺时限压缩率", "Processing-time compression"),
    "docs_reduction": ("申请材料精简率", "Document reduction"),
    "one_trip_rate": ("最多跑一次实现率", "At most one trip"),
    "no_flags": ("无质量问题提示。", "No data-quality flags."),
    "n_flagged": ("有提示的部门数", "Departments flagged"),
    # --- flags explained in words --------------------------------------------------------
    "flag_G1_deduction": ("办件记录真实率低于{g1}%，按规则扣分。",
                          "Record authenticity below {g1}%: points deducted by rule."),
    "flag_G1_audit": ("办件记录真实率低于{audit}%，等级最高为合格，建议审计。",
                      "Record authenticity below {audit}%: grade capped at C, referred for audit."),
    "flag_G2_inflation": ("好差评好评率高出独立回访满意率{g2}个百分点以上，存在评价虚高迹象。",
                          "Service-rating (haochaping) good-review rate exceeds the independent callback by more "
                          "than {g2} points: "
                          "ratings may be inflated."),
    "flag_G3_completion": ("回访完成率偏低，回访结果代表性不足。",
                           "Low callback completion: callback results may not be representative."),
    "flag_G3_wrong_number": ("空号错号比例偏高，提供的办件记录可能不实。",
                             "Many wrong numbers: the case records supplied may be inaccurate."),
    "flag_G4_small_sample": ("样本不足，结果仅供参考。", "Insufficient sample, for reference only."),
    "flag_dimension_missing": ("有维度缺失超过30%的权重，该维度得分按现有指标重新归一。",
                               "A dimension lacks more than 30% of its weight; it was renormalised over "
                               "the indicators present."),
    "flag_not_evaluated": ("未能评估：数据不足以计算综合指数。",
                           "Not evaluated: too little data to compute the index."),
    "flag_unknown": ("提示代码：{code}", "Flag code: {code}"),
    # --- channels ---------------------------------------------------------------------------
    "channel_S": ("问卷", "Survey"),
    "channel_C": ("回访", "Callback"),
    "channel_V": ("现场", "Site visit"),
    "channel_A": ("行政数据", "Admin data"),
    "channel_H": ("好差评", "Ratings"),
    # --- quadrants (GB/T 19038 four-quadrant chart) --------------------------------------------
    "quadrant_title": ("重要性—表现四象限图", "Importance–performance quadrants"),
    "importance": ("重要性（权重，%）", "Importance (weight, %)"),
    "performance": ("表现（得分）", "Performance (score)"),
    "q_keep": ("优势区", "Keep up"),
    "q_fix": ("重点改进区", "Fix first"),
    "q_low": ("次要改进区", "Low priority"),
    "q_surplus": ("维持区", "Maintain"),
    # --- charts --------------------------------------------------------------------------------
    "ranking_title": ("综合指数与{level}置信区间", "Index with {level} intervals"),
    "profile_title": ("维度得分对比", "Dimension profile"),
    "grades_title": ("等级分布", "Grade distribution"),
    "heatmap_title": ("维度得分热力图", "Dimension scores"),
    "funnel_title": ("漏斗图：指数与样本量", "Funnel plot: index against sample size"),
    "funnel_x": ("样本量", "Sample size"),
    "control_limits": ("控制限", "Control limits"),
    "year": ("年度", "Year"),
    # --- method note ------------------------------------------------------------------------------
    "method_index": (
        "综合指数为{m}项指标得分（0—100）的加权和，权重=维度权重×维内指标权重；指标缺失时在现有指标间重新归一。"
        "区间为{level}置信区间，按抽样设计计算；排名区间反映抽样不确定性。",
        "The index is the weighted sum of {m} indicator scores (0–100); weight = dimension weight × "
        "weight within the dimension, renormalised over the indicators present. Intervals are {level} "
        "design-based confidence intervals; rank intervals show the uncertainty of the ranks."),
    "method_grades": ("等级：{bands}。", "Grades: {bands}."),
    "method_gates": (
        "记录真实率（G1）低于{g1}%按每点{per}分扣分（最多{cap}分），低于{audit}%等级最高为合格；"
        "好差评与回访满意率差（G2）超过{g2}个百分点予以提示；问卷少于{s}份或回访少于{c}份为样本不足。",
        "Record authenticity (G1) below {g1}% deducts {per} points per point (at most {cap}); below {audit}% "
        "the grade is capped at C. A service-rating–callback gap (G2) above {g2} points is flagged. Fewer than {s} "
        "survey or {c} callback interviews count as an insufficient sample."),
    "method_average": ("全市平均为各部门得分的简单平均；类别最佳为同类别部门中的最高得分。",
                       "City average: unweighted mean over departments; category best: highest score "
                       "in the comparison category."),
    "method_priorities": ("改进重点按“权重×(100−得分)”（可提升分值）由高到低选取前三项。",
                          "Priorities: the three indicators with the most points to gain, weight × (100 − score)."),
    "method_weights": ("权重方法：{method}。", "Weighting method: {method}."),
    "weight_method_default": ("框架规定的专家权重", "expert weights fixed by the framework"),
    "own_data_note": ("本成绩单仅列示本部门的分项数据；其他部门仅以全市汇总和排名出现。",
                      "This scorecard shows only this department's own detailed data; other departments "
                      "appear only in city aggregates and the ranking."),
    "manifest": ("可复现信息", "Reproducibility"),
    "manifest_hash": ("清单哈希", "Manifest hash"),
    "toolkit_version": ("工具版本", "Toolkit version"),
    "framework_id": ("框架编号与版本", "Framework id and version"),
    "seed": ("随机种子", "Seed"),
    "level": ("置信水平", "Confidence level"),
    "unknown": ("未记录", "not recorded"),
    # --- sheet names (at most 31 characters) ---------------------------------------------------------
    "sheet_summary": ("概览", "Summary"),
    "sheet_dimensions": ("维度", "Dimensions"),
    "sheet_indicators": ("指标", "Indicators"),
    "sheet_quality": ("数据质量", "Quality"),
    "sheet_priorities": ("改进重点", "Priorities"),
    "sheet_notes": ("说明", "Notes"),
    "sheet_ranking": ("排名", "Ranking"),
    "sheet_method": ("方法与权重", "Methodology"),
    "sheet_manifest": ("清单", "Manifest"),
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is a supported report language, else raise."""
    if lang not in LANGS:
        raise MinpingError(
            f"unknown report language {lang!r}; expected one of {', '.join(LANGS)}. "
            "Fix: pass lang='zh' or lang='en'"
        )
    return lang


def label(key: str, lang: str = "zh", **fields: object) -> str:
    """The label ``key`` in ``lang`` (``"zh"`` or ``"en"``), with ``{fields}`` filled in."""
    check_lang(lang)
    try:
        pair = LABELS[key]
    except KeyError:
        raise MinpingError(f"no report label {key!r}; it must be added to reports/labels.py") from None
    text = pair[0] if lang == "zh" else pair[1]
    return text.format(**fields) if fields else text


def name_column(base: str, lang: str = "zh") -> str:
    """Column holding a name in ``lang``: ``department`` (zh) or ``department_en`` (en)."""
    check_lang(lang)
    return base if lang == "zh" else f"{base}_en"


def flag_text(code: str, lang: str = "zh", **thresholds: object) -> str:
    """A data-quality flag code (``G1_audit`` ...) explained in words."""
    key = f"flag_{code}"
    if key not in LABELS:
        return label("flag_unknown", lang, code=code)
    return label(key, lang, **thresholds)


def split_flags(value: object) -> list[str]:
    """The codes of a ``;``-joined flags cell (empty, NaN or None gives [])."""
    if not isinstance(value, str):
        return []
    return [c.strip() for c in value.split(";") if c.strip()]
