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
    "quad_note": ("重要性：问卷各项对总体满意度（D1.1）的解释份额（{model}加权回归，LMG分解）；表现：本部门得分；"
                  "参考线为各项平均值（GB/T 19038四象限图）。",
                  "Importance: share of overall satisfaction (D1.1) each survey item explains (weighted regression "
                  "{model}, LMG); performance: this department's score; lines at the means (GB/T 19038)."),
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
                      "hold for all departments at once ({level}): city {overall}, category {category}. “Tied” means "
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
    "change_chart_title": ("各部门综合指数较上年的变化及{level}区间", "Change in the index since last year, with "
                           "{level} intervals"),
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
                    "Most of the rank variation comes from “{choice}” (total-order index {total}, first-order "
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
    "ir_wait_alpha": ("等候时长 Krippendorff α（等距）", "Queue wait, Krippendorff's α (interval)"),
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
