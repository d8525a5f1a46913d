"""Every user-visible label of the reports, in Chinese and English, in one place.

Names of departments, categories, dimensions, indicators and grades are not
here: they come from the result frames' ``*`` / ``*_en`` columns
(:func:`name_column`).  Everything else a reader sees (titles, column heads,
notes, flag explanations) is looked up with :func:`label`.
"""

from __future__ import annotations

from surveys.errors import MinpingError
from surveys.ledger import REASONS

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
    "is_borderline": ("是否临界", "Borderline"),
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
                    'Plan and report measures on "{name}" (score {score})'),
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
    "wrong_number_rate": ("空号错号率", "Wrong numbers"),
    "never_handled_rate": ("否认办事率", "Never handled"),
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
    "flag_data_rule": ("数据核查提示：{reason}（见数据质量清单）", "Data check: {reason} (see the data-quality ledger)"),
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
    # quadrant codes as evaluation.drivers names them
    "quad_concentrate_here": ("重点改进区", "Concentrate here"),
    "quad_keep_up": ("继续保持区", "Keep up"),
    "quad_low_priority": ("次要改进区", "Low priority"),
    "quad_possible_overkill": ("过度投入区", "Possible overkill"),
    "importance_short": ("重要性（%）", "Importance (%)"),
    "importance_lmg": ("重要性（对总体满意度的解释份额，%）", "Importance (share of overall satisfaction explained, %)"),
    "quad_note": ("重要性：问卷各项对“{outcome}”的解释份额（{model}加权回归，LMG分解）；表现：本部门得分；"
                  "参考线为各项平均值（GB/T 19038四象限图）。",
                  "Importance: share of \"{outcome}\" each survey item explains (weighted regression {model}, LMG); "
                  "performance: this department's score; lines at the means (GB/T 19038)."),
    "quad_note_scope": ("图中表现为{scope}的平均得分。", "Performance shown is the mean score of {scope}."),
    "quad_note_weights": ("重要性为指标在综合指数中的权重，表现为得分；参考线为平均值。",
                          "Importance: the indicator's weight in the index; performance: its score; reference lines "
                          "at the means."),
    "model_city": ("全市样本", "city-wide"),
    "model_category": ("本类别样本", "on this category's respondents"),
    "scope_category": ("本类别各部门", "the category's departments"),
    "scope_city": ("全市各部门", "all departments"),
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
    "method_channels": ("本年度评估依据：{used}。", "This year's evaluation rests on: {used}."),
    "method_channels_partial": (
        "本年度评估依据：{used}。指标体系中的{absent}本年度未开展，其指标（名义权重合计{share}）不计入，"
        "权重在其余指标间重新归一。",
        "This year's evaluation rests on: {used}. The framework's {absent} was not collected this year: its "
        "indicators (nominal weight {share} in all) are left out and the weights renormalised over the rest."),
    "method_columns_absent": (
        "以下指标所读的列在本年度部分或全部文件中缺失，缺失部分不计入（权重在其余指标间重新归一）：{items}。",
        "Columns some indicators read are missing from some or all of this year's files; the missing part is left "
        "out and the weights renormalised over the rest: {items}."),
    "method_checks_skipped": ("本年度未能评估：{checks}。", "Not assessed this year: {checks}."),
    "check_G1_authenticity": ("记录真实率（G1）", "record authenticity (G1)"),
    "check_G2_inflation": ("好差评虚高（G2）", "rating inflation (G2)"),
    "check_G3_callback_quality": ("回访完成率与空号率（G3）", "callback completion and wrong numbers (G3)"),
    "check_G4_survey_sample": ("问卷样本量（G4）", "questionnaire sample (G4)"),
    "check_G4_callback_sample": ("回访样本量（G4）", "callback sample (G4)"),
    "check_drivers": ("满意度驱动因素分析", "drivers of satisfaction"),
    "check_agreement": ("问卷与回访一致性", "survey–callback agreement"),
    "check_reform_figures": ("改革客观数据", "objective reform figures"),
    "share_interval_logit": ("比率类指标的区间在对数优势尺度上计算。",
                             "Intervals of shares use the logit method (as R survey's svyciprop)."),
    "share_interval_korn_graubard": ("比率类指标的区间按Korn–Graubard方法计算。",
                                     "Intervals of shares use the Korn–Graubard method."),
    "share_interval_wilson": ("比率类指标的区间按Wilson方法（有效样本量）计算。",
                              "Intervals of shares use the Wilson method on the effective sample size."),
    "gate_rule_point": ("门槛按点估计判定（通行做法）。", "Gates act on the point estimate (the published practice)."),
    "gate_rule_evidence": ("门槛仅在区间排除达标时判定。", "Gates act only when the interval excludes compliance."),
    "method_gates": (
        "记录真实率（G1）低于{g1}%按每点{per}分扣分（最多{cap}分），低于{audit}%等级最高为合格；"
        "好差评与回访满意率差（G2）超过{g2}个百分点予以提示；问卷少于{s}份或回访少于{c}份为样本不足。",
        "Record authenticity (G1) below {g1}% deducts {per} points per point (at most {cap}); below {audit}% "
        "the grade is capped at C. A service-rating–callback gap (G2) above {g2} points is flagged. Fewer than {s} "
        "survey or {c} callback interviews count as an insufficient sample."),
    "method_average": ("全市平均为各部门得分的简单平均；类别最佳为同类别部门中的最高得分。",
                       "City average: unweighted mean over departments; category best: highest score "
                       "in the comparison category."),
    "method_priorities": ("改进重点：按“有效权重×(类别最佳得分−本部门得分)”，即追上同类别最佳可提升的指数分值，由高到低取前三项；"
                          "象限仅适用于问卷指标。",
                          "Priorities: the three indicators with the most index points to gain by reaching the "
                          "category's best score, effective weight × (category best − score); quadrants apply to "
                          "survey items only."),
    "method_priorities_fallback": ("改进重点按“权重×(100−得分)”（可提升分值）由高到低选取前三项。",
                                   "Priorities: the three indicators with the most points to gain, "
                                   "weight × (100 − score)."),
    "method_weights": ("权重方法：{method}。", "Weighting method: {method}."),
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
    # --- ranks: ties and simultaneous intervals ----------------------------------------------------------
    "tied_with": ("与{n}个部门无显著差异", "statistically tied with {n} departments"),
    "tied_with_1": ("与1个部门无显著差异", "statistically tied with 1 department"),
    "tied_none": ("与其他部门均有显著差异", "distinguishable from all others"),
    "rank_sim": ("同时排名区间", "Simultaneous rank interval"),
    "rank_sim_note": ("注：排名区间为单个部门的{level}区间；同时排名区间对所有部门同时成立（{level}）：全市{overall}，"
                      "类别内{category}。“无显著差异”指同时检验不能区分两个部门的名次。",
                      "Note: rank intervals hold for one department at a time ({level}); simultaneous rank intervals "
                      "hold for all departments at once ({level}): city {overall}, category {category}. \"Tied\" means "
                      "the simultaneous test cannot tell the two departments' ranks apart."),
    "tie_group": ("无差异组", "Tie group"),
    "tie_group_size": ("组内部门数", "Tie group size"),
    "p_top3": ("进入前三概率", "P(top 3)"),
    "p_bottom3": ("位列后三概率", "P(bottom 3)"),
    "ranking_note": ("圆点为综合指数，横线为{level}置信区间，颜色表示比较类别；灰白相间的色带把统计上无显著差异的部门"
                     "归为一组（同时检验，{level}），组号见右侧。",
                     "Dots: index; bars: {level} intervals; colours: comparison categories. Alternating bands group "
                     "departments that cannot be told apart (simultaneous test, {level}); tie groups T1, T2, … on the right."),
    "group_short": ("组{n}", "T{n}"),
    # --- change since last year ---------------------------------------------------------------------------
    "change_interval": ("{level}区间 {interval}", "{level} interval {interval}"),
    "significant": ("变化显著", "significant"),
    "basis_comparable": ("按口径未变的指标计", "on unchanged indicators"),
    "not_significant": ("变化不显著", "not significant"),
    "not_comparable": ("口径调整，不可比", "not comparable"),
    "previous_index": ("上年指数", "Previous index"),
    "significance": ("显著性", "Significance"),
    "comparable": ("可比", "Comparable"),
    "sec_trends": ("与上年比较", "Change since last year"),
    "change_chart_title": ("各部门综合指数较上年的变化及经{method}校正的{level}区间",
                           "Change in the index since last year, with {method}-adjusted {level} intervals"),
    "most_improved": ("进步最大", "Most improved"),
    "most_declined": ("退步最大", "Most declined"),
    "no_movers": ("无", "none"),
    "trends_note_adjusted": ("变化区间为{level}置信区间，显著性经{method}多重比较校正；部门更名、合并按对照表与前身比较。",
                             "Change intervals are {level} intervals; significance adjusted for multiple comparisons "
                             "({method}); renamed and merged departments are compared with their predecessors."),
    "trends_note_plain": ("变化为两年公布指数之差，区间按两年独立样本计算（{level}），未作多重比较校正。",
                          "Changes are differences of the two years' published indices; intervals treat the years as "
                          "independent samples ({level}), not adjusted for multiple comparisons."),
    "adjust_holm": ("Holm法", "Holm"),
    "adjust_bh": ("Benjamini–Hochberg法", "Benjamini–Hochberg"),
    "history_years": ("历史数据年度：{years}。", "Years on record: {years}."),
    "n_changed": ("有上年数据的部门", "Departments with a previous year"),
    "n_up_significant": ("显著进步", "Significantly improved"),
    "n_down_significant": ("显著退步", "Significantly declined"),
    "mean_change": ("平均变化", "Mean change"),
    # --- data quality in words -------------------------------------------------------------------------------
    "q_g1_ok": ("办件记录真实率（G1）{g1}，不低于{thr}%的门槛，未扣分。",
                "Record authenticity (G1) is {g1}, at or above the {thr}% threshold: no deduction."),
    "q_g1_deduct": ("办件记录真实率（G1）{g1}，低于{thr}%的门槛，扣{ded}分。",
                    "Record authenticity (G1) is {g1}, below the {thr}% threshold: {ded} points deducted."),
    "q_g1_audit": ("办件记录真实率（G1）{g1}，低于{audit}%：扣{ded}分，等级最高为合格，建议审计。",
                   "Record authenticity (G1) is {g1}, below {audit}%: {ded} points deducted, grade capped at C, "
                   "referred for audit."),
    "q_g1_missing": ("未能计算办件记录真实率（G1）：无接通的回访记录。",
                     "Record authenticity (G1) not computed: no callback contact reached."),
    "q_g2_ok": ("好差评好评率与独立回访满意率之差（G2）为{gap}个百分点，未超过{thr}个百分点的提示线。",
                "Service-rating good-review rate minus the independent callback's (G2): {gap} points, within the "
                "{thr}-point alert line."),
    "q_g2_flag": ("好差评好评率比独立回访满意率高{gap}个百分点（G2），超过{thr}个百分点的提示线，评价可能虚高。",
                  "Service-rating good-review rate exceeds the independent callback's by {gap} points (G2), above "
                  "the {thr}-point alert line: ratings may be inflated."),
    "q_g2_missing": ("未能计算评价虚高差（G2）：缺少好差评或回访满意率。",
                     "Rating-inflation gap (G2) not computed: ratings or callback satisfaction missing."),
    "q_g4_ok": ("问卷{s}份、回访{c}份，达到最低样本要求（问卷{smin}份、回访{cmin}份）。",
                "Survey n = {s}, callback n = {c}: the minimum sample (survey {smin}, callback {cmin}) is met."),
    "q_g4_small": ("问卷{s}份、回访{c}份，低于最低样本要求（问卷{smin}份、回访{cmin}份）：样本不足，结果仅供参考。",
                   "Survey n = {s}, callback n = {c}: below the minimum sample (survey {smin}, callback {cmin}); "
                   "insufficient sample, for reference only."),
    "q_rr": ("电话回访应答率：AAPOR RR3 {rr3}（资格不明的号码按估计合格率e = {e}计入分母）；RR1 {rr1}（最保守口径）。",
             "Callback response rate: AAPOR RR3 {rr3} (numbers of unknown eligibility counted at the estimated "
             "eligibility rate e = {e}); RR1 {rr1} (the most conservative)."),
    "q_rr_plain": ("电话回访应答率：AAPOR RR1 {rr1}（最保守口径）。",
                   "Callback response rate: AAPOR RR1 {rr1} (the most conservative)."),
    "aapor_rr1": ("回访应答率（AAPOR RR1）", "Callback response rate (AAPOR RR1)"),
    "aapor_rr2": ("回访应答率（AAPOR RR2）", "Callback response rate (AAPOR RR2)"),
    "aapor_rr3": ("回访应答率（AAPOR RR3）", "Callback response rate (AAPOR RR3)"),
    "aapor_rr4": ("回访应答率（AAPOR RR4）", "Callback response rate (AAPOR RR4)"),
    "aapor_rr5": ("回访应答率（AAPOR RR5）", "Callback response rate (AAPOR RR5)"),
    "aapor_rr6": ("回访应答率（AAPOR RR6）", "Callback response rate (AAPOR RR6)"),
    "aapor_e": ("估计合格率e（AAPOR）", "Estimated eligibility rate e (AAPOR)"),
    "rr3_short": ("应答率RR3", "RR3"),
    "mean_attempts": ("平均拨打次数", "Mean call attempts"),
    "callback_top2": ("回访满意率", "Callback top-2 share"),
    "flag_short_G1_deduction": ("G1扣分", "G1 deduction"),
    "flag_short_data_rule": ("数据核查", "data check"),
    "flag_short_G1_audit": ("G1审计", "G1 audit"),
    "flag_short_G2_inflation": ("G2虚高", "G2 inflation"),
    "flag_short_G3_completion": ("G3完成率低", "G3 low completion"),
    "flag_short_G3_wrong_number": ("G3错号多", "G3 wrong numbers"),
    "flag_short_G4_small_sample": ("G4样本不足", "G4 small sample"),
    "flag_short_dimension_missing": ("维度缺失", "dimension missing"),
    "flag_short_not_evaluated": ("未评估", "not evaluated"),
    "sum_suffix": ("（合计）", " (total)"),
    "sec_sampling": ("抽样与应答", "Sampling and response"),
    "dq_rr3_median": ("回访应答率RR3（中位数）", "Callback RR3 (median)"),
    "dq_completion_median": ("回访完成率（中位数）", "Callback completion (median)"),
    "dq_g1_median": ("办件记录真实率G1（中位数）", "Record authenticity G1 (median)"),
    # --- priorities ------------------------------------------------------------------------------------------
    "priority_gap": ("可提升分值", "Points to gain"),
    "category_best_score": ("类别最佳", "Cat. best"),
    # --- funnel plot ---------------------------------------------------------------------------------------------
    "sec_funnel": ("漏斗图", "Funnel plot"),
    "funnel_note": ("纵轴为综合指数，横轴为受访人数（问卷+回访）；虚线为95%、点线为99.8%控制限，以全市均值为中心{od}。"
                    "落在95%控制限以外的部门标出名称。",
                    "Index against the number of respondents (survey + callback); dashed: 95%, dotted: 99.8% "
                    "control limits around the city mean{od}. Departments outside the 95% limits are named."),
    "funnel_od": ("，含部门间超离散调整", ", allowing for overdispersion between departments"),
    "funnel_n": ("受访人数（问卷+回访）", "Respondents (survey + callback)"),
    "city_mean": ("全市均值", "City mean"),
    "position": ("位置", "Position"),
    "pos_above_998": ("高于99.8%控制限", "above the 99.8% limit"),
    "pos_above_95": ("高于95%控制限", "above the 95% limit"),
    "pos_within": ("控制限以内", "within the limits"),
    "pos_below_95": ("低于95%控制限", "below the 95% limit"),
    "pos_below_998": ("低于99.8%控制限", "below the 99.8% limit"),
    "funnel_outside": ("落在95%控制限以外的部门：{names}。", "Outside the 95% limits: {names}."),
    "funnel_all_within": ("所有部门均落在95%控制限以内。", "Every department lies within the 95% limits."),
    # --- sensitivity --------------------------------------------------------------------------------------------
    "sec_sensitivity": ("排名的敏感性分析", "Sensitivity of the ranking"),
    "sens_note": ("参照OECD/JRC《综合指数构建手册》，在权重、汇总方法、量表赋分、剔除数据来源或维度等方法选择上随机变动"
                  "（共{n}个方案），观察各部门排名的变化；指标得分保持不变。",
                  "Following the OECD/JRC Handbook on Constructing Composite Indicators, the methodological choices "
                  "(weights, aggregation, Likert scoring, leaving out a source or a dimension) were varied at random "
                  "({n} variants) with the indicator scores held fixed, and each department's rank recorded."),
    "sens_driver": ("排名变动主要来自“{choice}”（总效应指数{total}，一阶指数{first}）。",
                    "Most of the rank variation comes from \"{choice}\" (total-order index {total}, first-order "
                    "{first})."),
    "sens_indices_note": ("一阶指数为单独变动该选择所致的排名方差份额（Saltelli 2010），总效应指数含与其他选择的交互作用"
                          "（Jansen 1999），按各部门排名方差加权；为蒙特卡罗估计，接近0的负值视为0。",
                          "First-order index: share of rank variance due to the choice alone (Saltelli 2010); "
                          "total-order index: including its interactions (Jansen 1999); both weighted by the "
                          "departments' rank variances; Monte Carlo estimates, small negative values are noise "
                          "around 0."),
    "sens_band_title": ("各部门排名的中位数与5%–95%范围", "Median rank and 5–95% band per department"),
    "sens_band_legend": ("圆点：排名中位数；横线：5%–95%范围；竖线：公布排名。",
                         "Dot: median rank; bar: 5–95% band; tick: published rank."),
    "nominal_rank": ("公布排名", "Published rank"),
    "median_rank": ("排名中位数", "Median rank"),
    "rank_band": ("5%–95%排名范围", "5–95% rank band"),
    "rank_range": ("最好–最差排名", "Best–worst rank"),
    "p_nominal_rank": ("保持公布名次的比例", "Share at published rank"),
    "mean_abs_shift": ("平均名次变动", "Mean rank shift"),
    "choice": ("方法选择", "Choice"),
    "options": ("变动方式", "Variants"),
    "n_variants": ("方案数", "Variants run"),
    "max_abs_shift": ("最大名次变动", "Largest rank shift"),
    "share_moved": ("名次变动的部门比例", "Departments moved"),
    "first_order": ("一阶指数", "First-order index"),
    "total_order": ("总效应指数", "Total-order index"),
    "choice_indicator_weights": ("指标权重", "Indicator weights"),
    "choice_dimension_weights": ("维度权重", "Dimension weights"),
    "choice_aggregation": ("汇总方法", "Aggregation"),
    "choice_likert_preset": ("量表赋分方案", "Likert scoring preset"),
    "choice_leave_out_channel": ("剔除一个数据来源", "Leave one source out"),
    "choice_leave_out_dimension": ("剔除一个维度", "Leave one dimension out"),
    "choice_all": ("全部选择同时变动", "All choices together"),
    "opt_dirichlet": ("围绕原权重随机抽取（Dirichlet分布）", "random draws around the nominal weights (Dirichlet)"),
    "opt_uniform": ("原权重乘以均匀随机因子后归一", "nominal weights times uniform random factors, renormalised"),
    "opt_arithmetic": ("算术平均", "arithmetic mean"),
    "opt_geometric": ("几何平均", "geometric mean"),
    "opt_none": ("不剔除", "none"),
    "opt_joint": ("各选择联合随机抽样", "all choices drawn jointly"),
    "preset_linear": ("线性（100/75/50/25/0）", "linear (100/75/50/25/0)"),
    "preset_cn_common": ("常用（100/80/60/40/20）", "common (100/80/60/40/20)"),
    "preset_three_level": ("三级（100/70/30）", "three-level (100/70/30)"),
    # --- weights and their method -----------------------------------------------------------------------------
    "sec_method_weights": ("权重方法", "Weighting method"),
    "weight_method_explicit": ("框架直接规定的专家权重", "explicit expert weights fixed by the framework"),
    "weight_method_ahp": ("层次分析法（AHP，{method}）", "analytic hierarchy process (AHP, {method})"),
    "ahp_eigenvector": ("特征向量法", "eigenvector method"),
    "ahp_sum_product": ("和积法", "sum-product method"),
    "ahp_geometric": ("方根法", "geometric-mean method"),
    "weighting_level": ("层级", "Level"),
    "level_dimension": ("维度", "Dimensions"),
    "level_indicator": ("{dim}内指标", "Indicators in {dim}"),
    "w_method": ("赋权方法", "Method"),
    "cr": ("一致性比率CR", "Consistency ratio CR"),
    "lambda_max": ("最大特征根λmax", "λmax"),
    "ri": ("随机一致性指标RI", "Random index RI"),
    "ri_table": ("RI表", "RI table"),
    "ahp_note": ("CR = CI/RI，CI = (λmax − n)/(n − 1)，n为比较项数；CR小于{max_cr}视为判断矩阵满足一致性。"
                 "RI取自{tables}。",
                 "CR = CI/RI with CI = (λmax − n)/(n − 1), n the number of items compared; a CR below {max_cr} "
                 "counts as consistent. RI from {tables}."),
    "ri_saaty1980": ("Saaty (1980)", "Saaty (1980)"),
    "ri_saaty2005": ("Saaty (2005)", "Saaty (2005)"),
    "ri_donegan_dodd": ("Donegan & Dodd (1991)", "Donegan & Dodd (1991)"),
    "sec_effective_weights": ("名义权重与实际影响", "Nominal weights and effective influence"),
    "nominal_weight": ("名义权重", "Nominal weight"),
    "variance_share": ("对指数差异的贡献", "Share of index variance"),
    "ew_note": ("名义权重为框架规定的权重；“对指数差异的贡献”为该指标在各部门综合指数差异（方差）中所占的份额。"
                "两者相差较大，说明该指标对排名的实际影响与名义权重不一致。",
                "Nominal weight: the framework's weight; share of index variance: the indicator's share of the "
                "variance of the index across departments. A large difference means the indicator moves the "
                "ranking more (or less) than its nominal weight suggests."),
    # --- reliability and agreement -----------------------------------------------------------------------------
    "sec_reliability": ("量表信度与评估一致性", "Reliability and agreement"),
    "scale": ("量表", "Scale"),
    "k_items": ("题项数", "Items"),
    "n_complete": ("完整样本", "Complete cases"),
    "alpha": ("Cronbach α", "Cronbach's α"),
    "alpha_std": ("标准化α", "Std. α"),
    "alpha_weighted": ("加权α", "Weighted α"),
    "omega": ("McDonald ω", "McDonald's ω"),
    "omega_weighted": ("加权ω", "Weighted ω"),
    "item_total_corr": ("校正题总相关", "Corrected item-total r"),
    "alpha_if_deleted": ("删除该题后α", "α if item deleted"),
    "scale_item": ("题项", "Item"),
    "reliability_note": ("按列表删除后的完整样本计算；加权值使用问卷抽样权重。ω需要至少3个题项。α ≥ 0.70为常用的可接受标准。",
                         "Complete cases (listwise); weighted values use the survey weights. ω needs three or more "
                         "items. α ≥ 0.70 is the usual benchmark."),
    "interrater_title": ("现场评估的评分员一致性", "Inter-rater agreement of site visits"),
    "ir_double": ("双人评分的走访次数", "Visits rated by two raters"),
    "ir_checklist_alpha": ("检查表得分 Krippendorff α（等距）", "Checklist score, Krippendorff's α (interval)"),
    "ir_icc1": ("检查表得分 ICC(1,1)（单人）", "Checklist score ICC(1,1) (one rater)"),
    "ir_icck": ("检查表得分 ICC(1,k)（多人平均）", "Checklist score ICC(1,k) (mean of raters)"),
    "ir_item_alpha": ("Krippendorff α（{item}）", "Krippendorff's α ({item})"),
    "ir_items_median": ("检查项 α 中位数（{n}项，顺序）", "Checklist items, median α ({n} items, ordinal)"),
    "ir_items_low": ("α低于0.667的检查项（α）", "Checklist items with α below 0.667 (α)"),
    "ir_none": ("本年没有双人评分的走访。", "No visit was rated by two raters this year."),
    "agreement_title": ("问卷与回访总体满意度的一致性", "Agreement of survey and callback overall satisfaction"),
    "ag_pair": ("比较指标", "Indicators compared"),
    "ag_n": ("部门数", "Departments"),
    "ag_pearson": ("Pearson相关系数", "Pearson r"),
    "ag_spearman": ("Spearman秩相关系数", "Spearman ρ"),
    "ag_mean_diff": ("平均差（问卷−回访）", "Mean difference (survey − callback)"),
    "ag_mean_diff_ci": ("平均差的{level}区间", "{level} interval of the mean difference"),
    "ag_loa": ("Bland–Altman 95%一致性界限", "Bland–Altman 95% limits of agreement"),
    "ag_none": ("问卷与回访的总体满意度不足以比较。", "Too few departments to compare survey and callback."),
    # --- shrinkage -------------------------------------------------------------------------------------------------
    "sec_shrinkage": ("小样本部门的稳健估计", "Small departments: shrinkage estimates"),
    "shrink_note": ("样本小的部门抽样误差较大。经验贝叶斯（Fay–Herriot）估计将其指数向本类别均值收缩，收缩系数B越大，"
                    "越依赖类别均值。收缩估计仅供参考，公布的综合指数不作调整。表中为收缩系数最大的部门及样本不足的部门。",
                    "Small samples carry large sampling errors. The empirical Bayes (Fay–Herriot) estimate shrinks "
                    "the index toward the category mean; the larger the factor B, the more it leans on the category "
                    "mean. Shrunk estimates are for reference; the published index is not adjusted. Shown: the "
                    "departments shrunk most and those with an insufficient sample."),
    "category_mean": ("类别均值", "Category mean"),
    "shrinkage_factor": ("收缩系数B", "Shrinkage B"),
    "shrunk": ("收缩估计", "Shrunk estimate"),
    "shrunk_se": ("收缩估计标准误", "Shrunk SE"),
    "small_sample": ("样本不足", "Small sample"),
    # --- sheet names (at most 31 characters) ---------------------------------------------------------
    "sheet_summary": ("概览", "Summary"),
    "sheet_dimensions": ("维度", "Dimensions"),
    "sheet_indicators": ("指标", "Indicators"),
    "sheet_quality": ("数据质量", "Quality"),
    "sheet_priorities": ("改进重点", "Priorities"),
    "sheet_notes": ("说明", "Notes"),
    "sheet_ranking": ("排名", "Ranking"),
    "sheet_method": ("方法与权重", "Methodology and weights"),
    "sheet_sensitivity": ("敏感性", "Sensitivity"),
    "sheet_trends": ("趋势", "Trends"),
    "sheet_reliability": ("信度", "Reliability"),
    "sheet_shrinkage": ("小样本与漏斗图", "Small samples and funnel"),
    "sheet_history": ("历年指数", "Index by year"),
    "sheet_manifest": ("清单", "Manifest"),
    # --- the problem list (整改清单): titles and evidence per finding ---------------------------------------
    "sec_problems": ("问题清单与整改要求", "Problem list and required rectification"),
    "problem": ("问题", "Problem"),
    "evidence": ("证据", "Evidence"),
    "points_at_stake": ("可提升分值", "Points at stake"),
    "beyond_noise": ("超出抽样误差", "Beyond noise"),
    "owner": ("责任单位", "Owner"),
    "owner_person": ("责任人", "Person in charge"),
    "owner_blank": ("（由部门填写）", "(to be filled in)"),
    "deadline": ("整改期限", "Deadline"),
    "deadline_date": ("{date}前", "by {date}"),
    "deadline_line": ("整改期限：{deadline}（各项相同）；责任人由部门填写；全部问题及证据见整改台账。",
                      "Deadline: {deadline} for every item; the department names the person in charge; every "
                      "problem with its evidence is in the rectification workbook."),
    "deadline_relative": ("报告送达后{months}个月内", "within {months} of the report"),
    "months_en": ("{n}", "{n} months"),
    "month_en": ("{n}", "{n} month"),
    "deadline_note_missing": ("项目文件未注明报告日期，整改期限按报告送达日起算。",
                              "The project file states no report date: deadlines run from the report's delivery."),
    "noise_yes": ("是", "yes"),
    "noise_no": ("否", "no"),
    "noise_census": ("全量", "census"),
    "noise_na": ("—", "—"),
    "no_problems": ("本年度评估未发现有证据支持的问题。", "This year's evidence shows no problem."),
    "problems_more": ("另有{n}项问题（可提升分值较小），见整改台账。",
                      "{n} further problems with smaller points at stake are in the rectification workbook."),
    "problems_note": ("可提升分值：问题全部整改（或达到同类别最佳）后综合指数（扣分前）可增加的分值，按本部门有效权重计算；"
                      "门槛扣分为实际扣除的分值。超出抽样误差：该指标得分的{level}置信区间整体低于全市平均"
                      "（全量数据无抽样误差，低于即为是；门槛以门槛值为参照）。问题按可提升分值由大到小排列；"
                      "结果指标（{outcomes}）反映整改成效，不列为整改事项。",
                      "Points at stake: index points (before gates) regained when the problem is fixed (or the "
                      "category's best score is reached), at this department's effective weight; for a gate, the "
                      "points deducted. Beyond noise: the indicator's {level} interval lies wholly below the city "
                      "average (census data: below it; gates: below the threshold). Largest first; outcome "
                      "indicators ({outcomes}) measure the results and are never listed as actions."),
    "problems_note_plain": ("可提升分值：问题全部整改（或达到同类别最佳）后综合指数（扣分前）可增加的分值；"
                            "门槛扣分为实际扣除的分值。超出抽样误差：该指标得分的{level}置信区间整体低于全市平均。"
                            "问题按可提升分值由大到小排列。",
                            "Points at stake: index points (before gates) regained when the problem is fixed (or the "
                            "category's best score is reached); for a gate, the points deducted. Beyond noise: the "
                            "indicator's {level} interval lies wholly below the city average. Largest first."),
    "kind_label_head": ("问题类别", "Kind"),
    "base_head": ("核查总数", "Checked"),
    "kind_gate_g1": ("门槛扣分", "Gate deduction"),
    "kind_never_handled": ("回访核实", "Callback check"),
    "kind_gate_g2": ("门槛提示", "Gate flag"),
    "kind_gate_g3": ("门槛提示", "Gate flag"),
    "kind_checklist": ("现场检查", "Site visit"),
    "kind_share": ("抽样核查", "Sampled check"),
    "kind_census_share": ("全量数据", "Census data"),
    "kind_survey_item": ("问卷（重点改进区）", "Survey (concentrate here)"),
    "kind_indicator": ("指标短板", "Indicator shortfall"),
    "kind_comment_theme": ("群众意见", "Comments"),
    "pt_gate_g1": ("办件记录不实（G1扣分）", "Case records not genuine (G1 deduction)"),
    "pe_gate_g1": ("回访接通{base}户中{count}户否认办理该事项，办件记录真实率{score}%（{level}区间{low}–{high}%），"
                   "低于{ref}%的门槛，扣{points}分",
                   "{count} of {base} callback contacts reached denied handling the matter: record authenticity "
                   "{score}% ({level} interval {low}–{high}%), below the {ref}% threshold, {points} points deducted"),
    "pt_never_handled": ("部分办件记录不实", "Some case records not genuine"),
    "pe_never_handled": ("回访接通{base}户中{count}户否认办理该事项（办件记录真实率{score}%，未低于{ref}%的门槛，未扣分）",
                         "{count} of {base} callback contacts reached denied handling the matter (authenticity "
                         "{score}%, not below the {ref}% threshold: no deduction)"),
    "pt_gate_g2": ("好差评疑似虚高（G2）", "Service ratings possibly inflated (G2)"),
    "pe_gate_g2": ("好差评好评率比独立回访满意率高{score}个百分点，超过{ref}个百分点的提示线",
                   "the good-review rate exceeds the independent callback's top-2 share by {score} points, above "
                   "the {ref}-point alert line"),
    "pt_gate_g3": ("空号错号偏多（G3）", "Many wrong numbers (G3)"),
    "pe_gate_g3": ("抽取回访的办件记录{base}条中{count}条为空号、错号（{rate}），高于{ref}%",
                   "{count} of {base} case records drawn had a wrong or invalid number ({rate}), above {ref}%"),
    "pt_checklist": ("现场检查项{item}未达标", "Checklist criterion {item} not met"),
    "pe_checklist": ("{base}次走访中{count}次未完全达标（{examples}）",
                     "not fully met at {count} of {base} visits ({examples})"),
    "pt_told_once": ("未一次性告知", "Not told everything at once"),
    "pe_told_once": ("回访{base}人中{count}人反映办事时未被一次性告知所需材料",
                     "{count} of {base} callback respondents were not told every required document at once"),
    "pt_improper_demand": ("存在不当要求", "Improper demands"),
    "pe_improper_demand": ("回访{base}人中{count}人反映办事中遇到不当要求",
                           "{count} of {base} callback respondents met an improper demand"),
    "pt_trips": ("多次跑动", "More than one trip"),
    "pe_trips": ("回访{base}人中{count}人为办成此事跑了2次及以上",
                 "{count} of {base} callback respondents needed two trips or more"),
    "pt_within_promised": ("超承诺时限办理", "Later than promised"),
    "pe_within_promised": ("回访{base}人中{count}人反映实际办理天数超过承诺时限",
                           "{count} of {base} callback respondents waited longer than the promised days"),
    "pt_accurate": ("办事指南不准确", "Inaccurate service guides"),
    "pe_accurate": ("核查办事指南{base}份中{count}份不准确（{examples}）",
                    "{count} of {base} service guides checked were inaccurate ({examples})"),
    "pt_scenario_all_listed": ("情景测试未一次性告知", "Scenario test: missing items not all listed"),
    "pe_scenario_all_listed": ("{base}次情景测试中{count}次未一次列明所缺材料（{examples}）",
                               "at {count} of {base} scenario tests not every missing item was listed ({examples})"),
    "pt_share": ("{indicator}未达标", "{indicator} not met"),
    "pe_share": ("{base}个有效回答中{count}个未达标", "{count} of {base} valid answers failed"),
    "pt_rectified_on_time": ("差评未按期整改", "Bad reviews not rectified on time"),
    "pe_rectified_on_time": ("差评{base}条中{count}条未在整改时限内完成整改",
                             "{count} of {base} bad reviews were not rectified within their deadline"),
    "pt_rectification_satisfied": ("差评整改后仍不满意", "Rectification not satisfying"),
    "pe_rectification_satisfied": ("整改回访{base}条中{count}条对整改结果不满意",
                                   "{count} of {base} rectification callbacks were not satisfied"),
    "pt_closed_on_time": ("未按时办结", "Cases closed late"),
    "pe_closed_on_time": ("办结{base}件中{count}件超过承诺时限", "{count} of {base} cases closed after the promised time"),
    "pt_cases_online": ("未全程网办", "Not handled fully online"),
    "pe_cases_online": ("受理{base}件中{count}件未实现全程网办", "{count} of {base} cases were not handled fully online"),
    "pt_cases_one_window": ("未一窗受理", "Not accepted at the one window"),
    "pe_cases_one_window": ("受理{base}件中{count}件未经综合窗口受理",
                            "{count} of {base} cases were not accepted at the comprehensive window"),
    "pt_census_share": ("{indicator}未达标", "{indicator} not met"),
    "pe_census_share": ("{base}条记录中{count}条未达标", "{count} of {base} records failed"),
    "pt_survey_item": ("{indicator}偏低（重点改进区）", "{indicator} low (concentrate here)"),
    "pe_survey_item": ("得分{score}，全市平均{ref}；问卷有效回答{base}份中{count}份不满意",
                       "score {score}, city average {ref}; {count} of {base} survey answers dissatisfied"),
    "pe_survey_item_none": ("得分{score}，全市平均{ref}（{base}份有效回答中无“不满意”，但“基本满意”偏多）",
                            "score {score}, city average {ref} (none of {base} answers dissatisfied, but many only "
                            "fairly satisfied)"),
    "pt_indicator": ("{indicator}低于全市平均", "{indicator} below the city average"),
    "pe_indicator": ("本部门{raw}，全市平均{ref_raw}（得分{score}，全市平均{ref}）",
                     "{raw} against a city average of {ref_raw} (score {score}, city average {ref})"),
    "pt_comment_theme": ("群众意见：{label}", "Comments: {label}"),
    "pe_comment_theme": ("意见建议中{count}条涉及此问题{examples}", "{count} comments raise it{examples}"),
    "examples_none": ("—", "—"),
    "examples_in_workbook": ("编号见整改台账", "ids in the rectification workbook"),
    # --- follow-up of last year's problems ------------------------------------------------------------------
    "sec_follow_up": ("上年整改复核", "Follow-up of last year's problems"),
    "verdict": ("复核结论", "Verdict"),
    "verdict_fixed": ("已整改（经复核）", "fixed (verified)"),
    "verdict_not_fixed": ("未整改", "not fixed"),
    "verdict_reopened": ("报称已整改但仍存在", "reported fixed, still present"),
    "verdict_not_verifiable": ("本年无数据，无法复核", "no evidence this year"),
    "reported_status": ("部门报告状态", "Reported status"),
    "status_blank": ("未填报", "not reported"),
    "follow_up_summary": ("{year}年问题{n}项：已整改{fixed}项，未整改{not_fixed}项，报称已整改但仍存在{reopened}项，"
                          "无法复核{unverifiable}项。",
                          "{n} problems of {year}: {fixed} fixed, {not_fixed} not fixed, {reopened} reported fixed "
                          "but still present, {unverifiable} not verifiable."),
    "follow_up_none": ("无上年整改台账（项目文件未登记返回的整改台账）。",
                       "No returned rectification workbook of last year is declared in the project file."),
    "this_year": ("本年", "This year"),
    "last_year_evidence": ("上年证据", "Last year's evidence"),
    # --- page 1 explained ----------------------------------------------------------------------------------
    "before_gates": ("扣分前{raw}", "before gates {raw}"),
    "gate_deduction_text": ("G1扣{ded}分", "G1 −{ded}"),
    "bonus_text": ("加{bonus}分", "bonus +{bonus}"),
    "grade_capped": ("因G1（真实率低于{audit}%）封顶，按分数为{grade}", "capped by G1 (authenticity below {audit}%); "
                     "by score {grade}"),
    "grade_vetoed": ("一票否决", "veto"),
    "change_verdict_adj": ("经{method}校正的{level}区间 {interval}", "{method}-adjusted {level} interval {interval}"),
    "change_like_for_like": ("扣分前变化{raw}；门槛影响{gate}", "before gates {raw}; gates {gate}"),
    "change_new": ("新设部门，无上年数据", "new department: no previous year"),
    "change_new_since": ("{year}年新设，无上年数据", "new in {year}: no previous year"),
    "change_previous_missing": ("{year}年未评估，无上年数据", "not evaluated in {year}: no previous figure"),
    "change_merged": ("与前身{names}（按办件量合并）比较", "compared with predecessors {names} (combined by case volume)"),
    "change_merged_equal": ("与前身{names}（等权合并）比较", "compared with predecessors {names} (equal weights)"),
    "change_renamed": ("与前身{names}比较", "compared with predecessor {names}"),
    "change_none_first": ("首个评估年度，无上年数据", "first year evaluated: no previous year"),
    "trend_missing_years": ("{years}年未评估", "not evaluated in {years}"),
    "change_comparable": ("口径调整，按口径未变的{n}项指标计：{change}（{method}校正{level}区间 {interval}）",
                          "definitions changed; on the {n} unchanged indicators: {change} ({method}-adjusted {level} "
                          "interval {interval})"),
    "trends_note_adjusted2": ("较上年变化：两年为独立样本；区间与显著性均经{method}多重比较校正（同一检验，区间不含0即显著）；"
                              "“扣分前”为门槛扣分前指数的变化；部门更名、合并按对照表与前身比较。",
                              "Change since last year: the two years are independent samples; the interval and the "
                              "verdict come from the same {method}-adjusted test (significant exactly when the interval "
                              "excludes 0); \"before gates\" is the change of the index before gate deductions; renamed "
                              "and merged departments are compared with their predecessors."),
    "unit_note": ("原始值：量表题为0—100分的平均题目得分；比例以百分数表示；其余注明单位。计分规则：",
                  "Raw values: Likert items are mean item scores (0–100), shares in percent. Scoring: "),
    "rule": ("计分规则", "Scoring"),
    "rule_likert": ("量表①", "Likert ①"),
    "rule_percent": ("比例②", "Share ②"),
    "rule_dtf": ("前沿③ {worst}→{frontier}", "DTF ③ {worst}→{frontier}"),
    "rule_identity": ("原值④", "As is ④"),
    "rule_note_likert": ("①量表题：各选项按{preset}赋分后取平均，原始值即得分；",
                         "① Likert: answers scored {preset}, averaged (raw = score); "),
    "rule_note_percent": ("②比例：得分=比例×100；", "② Share: score = share × 100; "),
    "rule_note_dtf": ("③前沿法：得分=100×(原始值−最差值)/(前沿值−最差值)，截断于0—100，最差值与前沿值（箭头两端）按框架固定，"
                      "可逐年比较；", "③ Distance to frontier: 100 × (raw − worst)/(frontier − worst), cut to 0–100; worst→frontier "
                      "fixed by the framework, so years compare; "),
    "rule_note_identity": ("④原值即得分；", "④ the raw value is the score; "),
    "unit_minutes": ("分钟", "min"),
    "unit_points": ("分", "pts"),
    "profile_axis": ("得分（0—100）", "Score (0–100)"),
    "quad_outcome": ("结果指标（不列为整改事项）", "outcome (never an action)"),
    "quad_note_list": ("重点改进区的问卷指标即问题清单中的“{kind}”各项（图中标注其序号）；结果指标以空心点表示，不列为整改事项。",
                       "Survey items in the concentrate-here quadrant are the list's \"{kind}\" items (their numbers "
                       "beside the points); hollow points are outcomes, never listed as actions."),
    "no_quadrant": ("未计算重要性分析（缺少问卷或总体满意度指标），不绘制四象限图。",
                    "No importance analysis (no survey or overall-satisfaction outcome): no quadrant chart."),
    "verdict_short_up": ("显著上升", "significant rise"),
    "verdict_short_down": ("显著下降", "significant fall"),
    "verdict_short_none": ("不显著", "not significant"),
    "change_test": ("变化检验", "Change test"),
    "change_raw": ("扣分前变化", "Change before gates"),
    "note": ("说明", "Note"),
    "unit_shown": ("原始值（含单位）", "Raw value (as shown)"),
    "no_se_text": ("无标准误，无法检验", "no standard error: not testable"),
    "adjusted_interval": ("校正区间", "Adjusted interval"),
    # --- the city report's structure -----------------------------------------------------------------------
    "city_title_city": ("{city}{year}年度政务服务第三方评估总报告",
                        "{city}: {year} third-party evaluation of government services, city report"),
    "cover_city": ("评估城市", "City"),
    "cover_evaluator": ("评估机构", "Evaluator"),
    "cover_period": ("评估期间", "Evaluation period"),
    "cover_report_date": ("报告日期", "Report date"),
    "cover_framework": ("评估框架", "Framework"),
    "cover_not_stated": ("未注明（项目文件[project] {name}）", "not stated (project file [project] {name})"),
    "cover_period_default": ("{start}至{end}（未注明，按自然年度）", "{start} to {end} (not stated: the calendar year)"),
    "period_range": ("{start}至{end}", "{start} to {end}"),
    "date_fmt": ("{y}年{m}月{d}日", "{d} {m} {y}"),
    "s1": ("一、总体情况", "1 Overall results"),
    "s2": ("二、排名与等次", "2 Ranking and grades"),
    "s3": ("三、存在的主要问题", "3 Main problems"),
    "s4": ("四、整改建议", "4 Recommendations"),
    "sa": ("附录：方法说明与稳健性", "Appendix: method and robustness"),
    "s3_common": ("（一）共性问题", "3.1 Problems shared across departments"),
    "s3_own": ("（二）各部门主要问题", "3.2 Main problems of each department"),
    "s1_verdict": ("{year}年度共评估{n}个部门。全市综合指数为{index}（{level}置信区间{low}–{high}），{change}"
                   "等级为优秀的{a}个、良好{b}个、合格{c}个、不合格{d}个。",
                   "{n} departments were evaluated in {year}. The city index is {index} ({level} interval "
                   "{low}–{high}){change}. Grades: {a} excellent, {b} good, {c} pass, {d} fail."),
    "s1_change": ("较上年{change}（{method}校正{alevel}区间{interval}，{verdict}）。",
                  ", {change} since last year ({method}-adjusted {alevel} interval {interval}: {verdict})"),
    "s1_no_change": ("本年度为首个有记录的评估年度，无上年数据可比。", " (first year on record: no previous year)"),
    "s1_gates": ("门槛扣分前全市指数为{raw}；{n}个部门因办件记录真实率低于{thr}%被扣分，合计{total}分。",
                 "Before gate deductions the city index is {raw}; {n} departments lost {total} points in all for "
                 "record authenticity below {thr}%."),
    "s1_gates_audit": ("其中{audit}个部门真实率低于{audit_thr}%，等级封顶为合格并建议审计。",
                       " In {audit} of them it was below {audit_thr}%: grade capped at C and referred for audit."),
    "s1_no_g1": ("本年度没有接通的电话回访，未评估办件记录真实率（G1），无门槛扣分。",
                 "No callback reached anyone this year: record authenticity (G1) was not assessed and no points "
                 "were deducted."),
    "s1_no_gates": ("所有部门办件记录真实率均不低于{thr}%，无门槛扣分。",
                    "No department's record authenticity fell below {thr}%: no gate deduction."),
    "s1_dimensions": ("各维度全市得分", "City scores by dimension"),
    "s1_reform": ("改革客观指标（各部门平均，最低—最高）", "Objective reform figures (mean over departments, lowest–highest)"),
    "s1_not_evaluated": ("未能评估的部门：{items}。", "Departments not evaluated: {items}."),
    "s1_problems": ("本年度共发现有证据支持的问题{n}项，涉及{m}个部门，其中{k}项的差距超出抽样误差。",
                    "The evidence shows {n} problems in {m} departments; in {k} of them the gap exceeds sampling noise."),
    "reason_no_data": ("各数据来源均无本部门记录", "no record in any channel"),
    "reason_no_scored_indicator": ("有记录但无有效指标得分", "records, but no indicator with a valid answer"),
    "reason_missing_weight": ("有效指标占综合指数权重过少，不予排名", "too little of the index is scored to be ranked"),
    "dim_city_score": ("全市得分", "City score"),
    "reform_figure": ("指标", "Figure"),
    "reform_mean": ("平均", "Mean"),
    "reform_range": ("最低—最高", "Lowest–highest"),
    "s2_top": ("综合指数排名前三的部门为{names}。", "The three highest-ranked departments are {names}."),
    "s2_bottom": ("排名后三位的部门为{names}。", "The three lowest-ranked departments are {names}."),
    "s2_bottom_item": ("{name}（第{rank}名，指数{index}，位列后三的概率{p}，{word}）",
                       "{name} (rank {rank}, index {index}; probability of being in the bottom three {p}: {word})"),
    "s2_top_item": ("{name}（第{rank}名，指数{index}，进入前三的概率{p}，{word}）",
                    "{name} (rank {rank}, index {index}; probability of being in the top three {p}: {word})"),
    "s2_ties": ("排名受抽样误差影响：同时检验下，{groups}。相邻名次的部门若属同一组，其先后不能视为确定。",
                "Ranks carry sampling error: under a simultaneous test, {groups}. Departments of the same group "
                "cannot be told apart."),
    "s2_tie_group": ("第{first}—{last}名的{n}个部门无显著差异", "the {n} departments ranked {first}–{last} are tied"),
    "s2_no_ties": ("同时检验下各部门名次均可区分", "every department's rank can be told apart"),
    "p_word_certain": ("几乎确定", "virtually certain"),
    "p_word_very_likely": ("很可能", "very likely"),
    "p_word_likely": ("较可能", "likely"),
    "p_word_even": ("可能性约一半", "about as likely as not"),
    "p_word_unlikely": ("可能性较小", "unlikely"),
    "p_note": ("概率为按抽样误差模拟各部门指数后名次落入前三或后三的比例；措辞：≥99%几乎确定，≥90%很可能，≥66%较可能，"
               "≥33%可能性约一半，其余可能性较小。",
               "Probabilities: share of simulations of the indices' sampling error in which the department ranks "
               "in the top or bottom three; words: ≥99% virtually certain, ≥90% very likely, ≥66% likely, ≥33% "
               "about as likely as not, otherwise unlikely."),
    "ranking_note_category": ("圆点为综合指数，横线为{level}置信区间；灰白相间的色带把本类别内统计上无显著差异的部门归为一组"
                              "（同时检验，{level}），组号见右侧。",
                              "Dots: index; bars: {level} intervals. Alternating bands group departments of the "
                              "category that cannot be told apart (simultaneous test, {level}); tie groups on the right."),
    "s3_intro": ("以下问题均来自本年度的评估证据（现场检查、电话回访、办事指南核查、好差评与行政数据），按涉及部门数排列。",
                 "Every problem below comes from this year's evidence (site visits, callbacks, guide checks, "
                 "service ratings and administrative data), ordered by the number of departments concerned."),
    "s3_common_item": ("{title}：涉及{n}个部门（{names}）{evidence}。",
                       "{title}: {n} departments ({names}){evidence}."),
    "s3_common_count": ("，合计{count}{unit}（核查{base}{unit}，占{rate}）", "; {count} {unit} in all ({rate} of {base} checked)"),
    "unit_cases": ("件", "cases"),
    "unit_records": ("条", "records"),
    "unit_people": ("人", "respondents"),
    "unit_reviews": ("条", "reviews"),
    "unit_guides": ("份", "guides"),
    "unit_visits": ("次", "visits"),
    "unit_contacts": ("户", "contacts"),
    "s3_common_noise": ("，其中{k}个部门的差距超出抽样误差", ", beyond sampling noise in {k}"),
    "n_departments_short": ("部门数", "Departments"),
    "total_count": ("合计数量", "Count"),
    "n_beyond_noise": ("超出误差部门数", "Beyond noise"),
    "points_total": ("可提升分值合计", "Points at stake (sum)"),
    "main_problems": ("主要问题（可提升分值最大的三项）", "Main problems (largest three points at stake)"),
    "n_problems": ("问题数", "Problems"),
    "and_more": ("等", " and others"),
    "s4_intro": ("各部门应对照本报告附带的整改台账逐项整改，于{deadline}报送整改情况；下一年度评估将依据同口径证据逐项复核"
                 "（已整改、未整改或报称已整改但仍存在）。",
                 "Each department should work through its list in the rectification workbook issued with this "
                 "report and report back {deadline}; next year's evaluation checks every item again on the same "
                 "evidence (fixed, not fixed, or reported fixed but still present)."),
    "s4_d_grade": ("对等级为不合格的{names}，建议由主管部门督促限期整改，并在下一年度评估中重点复核。",
                   "For the departments graded fail ({names}), the supervising office should set a deadline and "
                   "next year's evaluation should check them first."),
    "s4_follow_up": ("上年整改复核：{summary}", "Follow-up of last year: {summary}"),
    "rec_gate": ("核实办件记录的真实性：{names}的电话回访中出现否认办理或空号错号（合计{count}条），应核查报送的办件记录；"
                 "真实率低于{audit}%的部门建议审计。",
                 "Verify the case records: callbacks of {names} found people who never handled the matter or wrong "
                 "numbers ({count} in all); the records supplied should be checked, and departments below {audit}% "
                 "audited."),
    "rec_gate_g2": ("规范好差评：{names}的好差评好评率明显高于独立回访，应杜绝诱导好评与默认好评，差评如实记录。",
                    "Keep service ratings honest: {names} show good-review rates well above the independent "
                    "callbacks; prompting and default ratings should stop and bad reviews be recorded."),
    "rec_checklist": ("规范窗口服务：{n}个部门的现场检查存在未达标检查项（最常见：{items}），应对照检查表逐项整改。",
                      "Bring window service up to standard: {n} departments failed checklist criteria at site visits "
                      "(most often {items}); each criterion should be put right."),
    "rec_told_once": ("落实一次性告知：{n}个部门的回访中共{count}人反映未被一次性告知所需材料（{names}），应完善材料清单并同步更新窗口与网上指南。",
                      "Tell applicants everything at once: {count} callback respondents of {n} departments ({names}) "
                      "were not; document lists and guides should be completed and kept in step."),
    "rec_improper_demand": ("整治不当要求：{n}个部门的回访中共{count}人反映遇到不当要求（{names}），应逐件核查并纳入监督。",
                            "Stop improper demands: {count} respondents of {n} departments ({names}) met one; each "
                            "should be checked and followed up."),
    "rec_trips": ("推进“最多跑一次”：{n}个部门的回访中共{count}人跑了2次及以上（{names}），应减少到场环节、推行帮办代办。",
                  "Move toward one trip: {count} respondents of {n} departments ({names}) needed two or more trips."),
    "rec_within_promised": ("按承诺时限办结：{n}个部门的回访中共{count}人反映超过承诺时限（{names}）。",
                            "Keep promised times: {count} respondents of {n} departments ({names}) waited longer than "
                            "promised."),
    "rec_closed_on_time": ("按时办结：{n}个部门共{count}件超时办结（{names}）。",
                           "Close cases on time: {count} cases of {n} departments ({names}) closed late."),
    "rec_accurate": ("更新办事指南：{n}个部门共{count}份办事指南不准确（{names}），应逐份核对更正并公开。",
                     "Correct the service guides: {count} guides of {n} departments ({names}) were inaccurate."),
    "rec_rectified_on_time": ("落实差评整改闭环：{n}个部门共{count}条差评未按期整改（{names}）。",
                              "Close the loop on bad reviews: {count} bad reviews of {n} departments ({names}) were "
                              "not rectified on time."),
    "rec_rectification_satisfied": ("提高差评整改质量：{n}个部门共{count}条整改回访不满意（{names}）。",
                                    "Rectify to satisfaction: {count} rectification callbacks of {n} departments "
                                    "({names}) were not satisfied."),
    "rec_cases_online": ("提高全程网办比例：{n}个部门共{count}件未实现全程网办（{names}）。",
                         "Handle more cases fully online: {count} cases of {n} departments ({names}) were not."),
    "rec_cases_one_window": ("推进一窗受理：{n}个部门共{count}件未经综合窗口受理（{names}）。",
                             "Accept cases at the one window: {count} cases of {n} departments ({names}) were not."),
    "rec_survey_item": ("针对群众评价的薄弱环节：{items}在{n}个部门处于重点改进区（重要且低于参照），应作为整改重点。",
                        "Act where citizens feel it most: {items} sit in the concentrate-here quadrant for {n} "
                        "departments."),
    "rec_indicator": ("补齐短板指标：{items}在{n}个部门低于全市平均且超出抽样误差。",
                      "Close the gaps: {items} lie below the city average beyond sampling noise in {n} departments."),
    "rec_comment_theme": ("回应群众意见：{items}。", "Answer the comments: {items}."),
    "rec_generic": ("{title}：涉及{n}个部门（{names}）。", "{title}: {n} departments ({names})."),
    # --- appendix ----------------------------------------------------------------------------------------------
    "app_method": ("附录1  评估范围与方法", "A1 Scope and method"),
    "app_sampling": ("附录2  抽样、应答与信度", "A2 Sampling, response and reliability"),
    "app_sensitivity": ("附录3  排名的敏感性分析", "A3 Sensitivity of the ranking"),
    "app_small": ("附录4  小样本部门与漏斗图", "A4 Small departments and the funnel plot"),
    "app_heatmap": ("附录5  维度得分一览", "A5 Dimension scores of all departments"),
    "app_trends": ("附录6  与上年比较", "A6 Change since last year"),
    "app_quality": ("附录7  数据质量概况", "A7 Data quality"),
    "app_results": ("附录8  各部门评估结果", "A8 Results of all departments"),
    "app_manifest": ("附录9  可复现信息", "A9 Reproducibility"),
    "not_evaluated_reason": ("未评估原因", "Reason not evaluated"),
    "not_evaluated_row": ("未评估：{reason}", "not evaluated: {reason}"),
    "sheet_problems": ("整改清单", "Problem list"),
    "sheet_follow_up": ("上年整改复核", "Follow-up"),
    "sheet_common": ("共性问题", "Common problems"),
    "sheet_overview": ("总体情况", "Overview"),
    "sheet_rectification": ("整改台账", "Rectification"),
    "sheet_instructions": ("说明", "Instructions"),
    "rect_title": ("{year}年度整改台账", "{year} rectification workbook"),
    "rect_instructions": ("本台账列出{year}年度评估发现的各部门问题及证据。请各部门在“整改状态”列选择未整改、整改中或已整改，"
                          "在“整改情况说明”列填写措施与完成时间，可修改“责任单位”；请勿改动其他列（特别是“问题代码”和"
                          "“类别代码”），于整改期限前交回。下一年度评估将读取本表，并依据同口径证据逐项复核。",
                          "This workbook lists each department's problems found by the {year} evaluation, with their "
                          "evidence. Departments choose a status (not started, in progress, done) in the Status column "
                          "and describe the measures and dates in the note column, and may change the owner; please "
                          "leave the other columns (especially the problem and kind codes) unchanged and return it by "
                          "the deadline. Next year's evaluation reads it back and checks every item on the same "
                          "evidence."),
    "key_label": ("项目", "Item"),
    "department_id_head": ("部门编号", "Department ID"),
    "indicator_id_head": ("指标编号", "Indicator ID"),
    "minimum": ("最低", "Lowest"),
    "maximum": ("最高", "Highest"),
    "p_adjusted": ("校正p值", "Adjusted p"),
    "prov_toolkit_version": ("工具版本", "Toolkit version"),
    "prov_framework_id": ("框架编号", "Framework id"),
    "prov_framework_version": ("框架版本", "Framework version"),
    "prov_framework_sha256": ("框架文件SHA-256", "Framework file SHA-256"),
    "prov_seed": ("随机种子", "Seed"),
    "prov_level": ("置信水平", "Confidence level"),
    "prov_project_sha256": ("项目文件SHA-256", "Project file SHA-256"),
    "prov_manifest_sha256": ("清单哈希", "Manifest hash"),
    "prov_settings": ("设置", "Setting"),
    "prov_methods": ("方法", "Method"),
    "prov_input_sha256": ("输入文件SHA-256", "Input file SHA-256"),
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
    """A flag code (``G1_audit`` ..., or a plausibility rule of the inputs) explained in words."""
    key = f"flag_{code}"
    if key in LABELS:
        return label(key, lang, **thresholds)
    if code in REASONS:
        return label("flag_data_rule", lang, reason=REASONS[code][0 if lang == "zh" else 1])
    return label("flag_unknown", lang, code=code)


def split_flags(value: object) -> list[str]:
    """The codes of a ``;``-joined flags cell (empty, NaN or None gives [])."""
    if not isinstance(value, str):
        return []
    return [c.strip() for c in value.split(";") if c.strip()]
