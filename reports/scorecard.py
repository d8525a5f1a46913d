"""What a department's scorecard shows: :class:`ScorecardContent`, built from the typed result.

:func:`scorecard_content` gathers everything a scorecard shows from an
:class:`~evaluation.result.EvaluationResult` (only the department's own
disaggregated data; other departments appear only in city aggregates and
ranks).  The renderers (:mod:`reports.scorecard_pdf`,
:mod:`reports.scorecard_xlsx`, :mod:`reports.scorecard_docx`) read this
content and nothing else, so they cannot disagree.  Content only: no
renderer is imported here.

Page 1 explains itself: the index beside the index before gates and the
deduction, a grade capped by a gate marked with the gate, every raw value
with its unit and the scoring rule that made it a score, and the change
since last year with the interval and verdict of the same adjusted test.
Page 2 is the problem list (整改清单) of the evaluation
(``result.findings.problems``) beside the quadrant chart that shares its
rows, and last year's problems judged again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.result import EvaluationResult
from reports import facts, findings
from reports.chart_data import profile_data, quadrant_data
from reports.format import Fact, TableSpec, fmt, fmt_change_interval, level_text, missing, natural_order
from reports.labels import check_lang, flag_text, label, name_column, split_flags
from surveys.errors import DataValidationError, Problem

QUALITY_FIELDS = [("n_callback_drawn", "int"), ("n_callback_complete", "int"), ("callback_completion", "share"),
                  ("wrong_number_rate", "share"), ("never_handled_rate", "share"), ("mean_attempts", "raw"),
                  ("g1_authenticity", "percent"), ("callback_top2", "share"), ("g2_gap", "points")]
#: AAPOR outcome rates of the callbacks (result.quality); the PDF shows RR3 with its e, and RR1.
RATE_FIELDS = [("rr1", "share"), ("rr2", "share"), ("rr3", "share"), ("rr4", "share"), ("rr5", "share"),
               ("rr6", "share"), ("aapor_e", "raw")]
RATE_LABELS = {"rr1": "aapor_rr1", "rr2": "aapor_rr2", "rr3": "aapor_rr3", "rr4": "aapor_rr4", "rr5": "aapor_rr5",
               "rr6": "aapor_rr6", "aapor_e": "aapor_e"}
HAOCHA_FIELDS = [("haocha_n", "int"), ("haocha_good_rate", "share"), ("haocha_active_good_rate", "share"),
                 ("haocha_default_share", "share"), ("haocha_no_rating_rate", "share"), ("haocha_bad_rate", "share"),
                 ("rectified_on_time_rate", "share"), ("rectification_callback_rate", "share"),
                 ("rectification_satisfaction", "share")]
#: rows of the problem list printed on page 2 (all of them are in the workbooks)
PRINTED_PROBLEMS = 10
#: a gate effect on the change smaller than this (index points) is not worth a sentence
GATE_EFFECT_SHOWN = 0.05


@dataclass(frozen=True)
class ScorecardContent:
    """Everything one department's scorecard shows, in one language.

    ``change_info`` is the department's ``index`` row of the year's change
    since the previous recorded year (:attr:`EvaluationResult.trends`, as a
    dict; empty when there is none) and ``change_lines`` the same in words
    (verdict with the adjusted interval, the change before gates and the gate
    effect, predecessors, a new department or a missing year); ``ranks`` is
    :func:`reports.facts.rank_info`; ``profile`` the dimension profile with
    each dimension's change and verdict; ``indicator_table`` the indicators
    with raw values in their units and their scoring rules (``rule_note``
    explains the rules); ``quadrant`` the GB/T 19038 chart's rows with
    ``outcome`` and ``problem_no`` (empty without an importance analysis);
    ``problems`` the printed list (``problems_all`` every problem, for the
    workbook); ``follow_up`` last year's problems judged again.
    """

    lang: str
    year: int
    department_id: str
    name: str
    category_name: str
    tier: str
    level: float
    row: pd.Series
    n_departments: int
    n_in_category: int
    change: float
    change_info: dict
    change_lines: list
    trend: pd.Series
    trend_note: str
    ranks: dict
    headline: list
    index_note: str
    grade_note: str
    flags: list
    profile: pd.DataFrame
    dimensions: pd.DataFrame
    indicators: pd.DataFrame
    dimension_table: TableSpec
    indicator_table: TableSpec
    rule_note: str
    quadrant: pd.DataFrame
    quadrant_notes: list
    problems: TableSpec
    problems_all: TableSpec
    problems_more: int
    problems_note: str
    deadline: str
    follow_up: TableSpec | None
    follow_up_text: str | None
    quality: list
    rates: list
    quality_text: list
    haocha: list
    reform: list
    notes: list
    manifest: list
    footer: str


def _facts(frame_row: pd.Series | None, fields, lang) -> list[Fact]:
    if frame_row is None:
        return []
    return [Fact(label(col, lang), frame_row[col], kind) for col, kind in fields if col in frame_row.index]


def _one_row(frame: pd.DataFrame | None, department_id: str) -> pd.Series | None:
    if frame is None or "department_id" not in frame:
        return None
    rows = frame[frame["department_id"] == department_id]
    return rows.iloc[0] if len(rows) else None


def scorecard_content(result: EvaluationResult, department_id: str, *, lang: str = "zh") -> ScorecardContent:
    """Gather what one department's scorecard shows.

    Parameters
    ----------
    result : the evaluated year (with :attr:`~EvaluationResult.trends` attached
        when earlier years are recorded)
    department_id : register id of the department
    lang : {"zh", "en"}
    """
    check_lang(lang)
    department_id = str(department_id)
    deps = result.departments
    row = _one_row(deps, department_id)
    if row is None:
        raise DataValidationError("department not in the result", [Problem(
            message="no row for this department in result.departments", value=department_id,
            column="department_id", fix="render scorecards only for departments of the result")])
    level = result.level
    changes = facts.index_changes(result)
    change_info = ({} if changes is None or department_id not in changes.index
                   else changes.loc[department_id].to_dict())
    change = float(change_info.get("change", float("nan")))
    n_cat = int((deps["category"] == row["category"]).sum())
    ranks = facts.rank_info(result, department_id)

    grade_name = row[name_column("grade_name", lang)]
    headline = [
        Fact(label("index", lang), row["index"], "score"),
        Fact(label("ci_low", lang), row["ci_low"], "score"),
        Fact(label("ci_high", lang), row["ci_high"], "score"),
        Fact(label("se", lang), row["se"], "score"),
        Fact(label("index_raw", lang), row["index_raw"], "score"),
        Fact(label("g1_deduction", lang), row["g1_deduction"], "score"),
        Fact(label("grade", lang), f"{row['grade']} {grade_name}".strip(), "text"),
        Fact(label("is_borderline", lang), label("yes" if bool(row["borderline"]) else "no", lang), "text"),
    ]
    grade_note = _grade_note(result, row, lang)
    if grade_note:
        headline.append(Fact(label("flag", lang), grade_note, "text"))
    for scope, key, prefix in (("overall", "rank_overall", "rank"), ("category", "rank_in_category",
                                                                       "rank_in_category")):
        headline.append(Fact(label(key, lang), row[prefix], "int"))
        headline += [Fact(f"{label(key, lang)} · {label('rank_interval', lang)} · {label(k, lang)}", row[c], "int")
                     for c, k in ((f"{prefix}_low", "ci_low"), (f"{prefix}_high", "ci_high"))]
        info = ranks[scope]
        if info["rank_sim_low"] is not None:
            headline += [Fact(f"{label(key, lang)} · {label('rank_sim', lang)} · {label(k, lang)}", info[c], "int")
                         for c, k in (("rank_sim_low", "ci_low"), ("rank_sim_high", "ci_high"))]
        if info["tie_group_size"] is not None:
            headline.append(Fact(f"{label(key, lang)} · {label('tie_group', lang)}",
                                 facts.tie_text(info["tie_group_size"], lang), "text"))
    headline += [Fact(label(c, lang), row[c], "share") for c in ("p_top3", "p_bottom3")]
    headline += [Fact(label("count", lang), len(deps), "int"), Fact(label("change", lang), change, "points")]
    if not missing(change_info.get("change_adj_ci_low")):
        headline += [Fact(f"{label('change', lang)} · {label('adjusted_interval', lang)} · {label(k, lang)}",
                          change_info[c], "points")
                     for c, k in (("change_adj_ci_low", "ci_low"), ("change_adj_ci_high", "ci_high"))]
    change_lines = _change_lines(result, row, change_info, lang)
    headline += [Fact(label("change_test", lang), sep_join(change_lines, lang), "text")] if change_lines else []
    headline += [Fact(label(c, lang), row[c], "int") for c in ("n_survey", "n_callback", "n_visit")]

    flags = [flag_text(code, lang, **facts.flag_fields(result)) for code in split_flags(row["flags"])]

    dims = result.dimensions
    own_dims = dims[dims["department_id"] == department_id]
    profile = profile_data(dims, deps, department_id, lang=lang)
    profile["flag"] = own_dims.set_index("dimension_id")["flag"].reindex(profile["dimension_id"]).to_numpy()
    if result.trends is not None:
        ch = result.trends.changes
        own_ch = ch[(ch["department_id"] == department_id) & (ch["measure"] != "index")].set_index("measure")
        for col in ("change", "change_adj_ci_low", "change_adj_ci_high"):
            profile[col] = own_ch[col].reindex(profile["dimension_id"]).to_numpy(float)
        profile["change_verdict"] = [_verdict_short(own_ch, d, lang) for d in profile["dimension_id"]]

    inds = result.indicators
    own_inds = natural_order(inds[inds["department_id"] == department_id], "indicator_id")
    quality_row = _one_row(result.quality, department_id)
    quality = _facts(row, [("n_survey", "int"), ("n_callback", "int"), ("n_visit", "int")], lang)
    quality += _facts(quality_row, QUALITY_FIELDS, lang)
    rates = [] if quality_row is None else [
        Fact(label(RATE_LABELS[col], lang), quality_row[col], kind) for col, kind in RATE_FIELDS
        if col in quality_row.index]

    quadrant = _quadrant(result, department_id, str(row["category"]), lang)
    problems_all = findings.problem_table(result, department_id, lang, printed=False)
    printed = findings.problem_table(result, department_id, lang, limit=PRINTED_PROBLEMS)
    n_problems = len(findings.department_problems(result, department_id))

    notes = facts.method_notes(result, lang, n_indicators=int(own_inds["indicator_id"].nunique()))
    notes += [label("method_average", lang), label("own_data_note", lang)]
    if bool(row["borderline"]):
        notes.append(label("borderline_note", lang))
    if result.trends is not None:
        notes.append(label("trends_note_adjusted2", lang, method=facts.adjustment_label(result, lang)))
    if result.context is None or result.context.report_date is None:
        notes.append(label("deadline_note_missing", lang))
    trend = facts.trend_series(result, department_id)
    return ScorecardContent(
        lang=lang, year=result.year, department_id=department_id,
        name=str(row[name_column("department", lang)]),
        category_name=str(row[name_column("category_name", lang)]),
        tier=str(row["tier"]), level=level, row=row, n_departments=len(deps), n_in_category=n_cat,
        change=change, change_info=change_info, change_lines=change_lines, trend=trend,
        trend_note=_trend_note(result, trend, lang), ranks=ranks, headline=headline,
        index_note=_index_note(row, lang), grade_note=grade_note, flags=flags, profile=profile,
        dimensions=own_dims, indicators=own_inds, dimension_table=_dimension_table(profile, result.level, lang),
        indicator_table=_indicator_table(result, own_inds, lang),
        rule_note=findings.rule_notes(result, own_inds["indicator_id"], lang),
        quadrant=quadrant, quadrant_notes=_quadrant_notes(quadrant, lang),
        problems=printed, problems_all=problems_all, problems_more=max(0, n_problems - len(printed.rows)),
        problems_note=findings.problems_note(result, lang), deadline=findings.deadline_text(result, lang),
        follow_up=findings.follow_up_table(result, department_id, lang),
        follow_up_text=findings.follow_up_summary(result, lang, department_id),
        quality=quality, rates=rates, quality_text=facts.quality_sentences(result, row, quality_row, lang),
        haocha=_facts(quality_row, HAOCHA_FIELDS, lang), reform=_reform_facts(result, quality_row, lang),
        notes=notes, manifest=facts.manifest_facts(result, lang), footer=facts.footer(result, lang),
    )


def sep_join(parts, lang: str) -> str:
    return ("；" if lang == "zh" else "; ").join(parts)


def _index_note(row: pd.Series, lang: str) -> str:
    """"扣分前87.4，G1扣5.0分" when a gate moved the index, else ''."""
    deduction = 0.0 if missing(row["g1_deduction"]) else float(row["g1_deduction"])
    bonus = 0.0 if missing(row["bonus"]) else float(row["bonus"])
    if deduction <= 0 and bonus <= 0:
        return ""
    parts = [label("before_gates", lang, raw=fmt(row["index_raw"]))]
    if deduction > 0:
        parts.append(label("gate_deduction_text", lang, ded=f"{deduction:.1f}"))
    if bonus > 0:
        parts.append(label("bonus_text", lang, bonus=f"{bonus:.1f}"))
    return ("，" if lang == "zh" else ", ").join(parts)


def _grade_note(result: EvaluationResult, row: pd.Series, lang: str) -> str:
    """The gate that capped the grade, with the grade the score alone would give ('' when none did)."""
    if missing(row["index"]):
        return ""
    by_score = result.framework.grade_for(float(row["index"])).grade
    codes = split_flags(row["flags"])
    if "veto" in codes:
        return label("grade_vetoed", lang)
    if "G1_audit" in codes and by_score != row["grade"]:
        return label("grade_capped", lang, audit=f"{result.framework.gates.g1_audit_threshold:g}", grade=by_score)
    return ""


def _change_lines(result: EvaluationResult, row: pd.Series, info: dict, lang: str) -> list[str]:
    """The change since last year in words: verdict and adjusted interval, gates, predecessors, gaps."""
    if result.trends is None:
        return [label("change_none_first", lang)]
    if not info:
        return [label("change_new", lang)]
    names = findings.department_names(result, lang)
    flags = split_flags(info.get("flags"))
    lines = []
    mapping = info.get("mapping")
    preds = [p for p in str(info.get("predecessors") or "").split(";") if p]
    if mapping == "new":
        dep = {d.id: d for d in result.framework.departments}.get(str(row["department_id"]))
        first = dep.first_year if dep is not None else None
        return [label("change_new_since", lang, year=first) if first else label("change_new", lang)]
    if "previous_not_evaluated" in flags:
        return [label("change_previous_missing", lang, year=int(result.trends.previous_year))]
    method = facts.adjustment_label(result, lang)
    level = level_text(result.level)
    if info.get("comparable") is False or (not missing(info.get("comparable")) and not bool(info["comparable"])):
        lines.append(label("not_comparable", lang))
        if not missing(info.get("comparable_change")):
            lines.append(label("change_comparable", lang, n=int(info.get("n_comparable_indicators") or 0),
                               change=fmt(info["comparable_change"], "points"), method=method, level=level,
                               interval=fmt_change_interval(info.get("comparable_change_adj_ci_low"),
                                                            info.get("comparable_change_adj_ci_high"))))
    elif not missing(info.get("change_adj_ci_low")):
        verdict = label("significant" if bool(info.get("significant")) else "not_significant", lang)
        lines.append(verdict + ("：" if lang == "zh" else ": ") + label(
            "change_verdict_adj", lang, method=method, level=level,
            interval=fmt_change_interval(info["change_adj_ci_low"], info["change_adj_ci_high"])))
    elif not missing(info.get("change")):
        lines.append(label("no_se_text", lang))
    raw = _raw_change(result, str(row["department_id"]))
    if raw is not None and not missing(info.get("change")) and abs(float(info["change"]) - raw) >= GATE_EFFECT_SHOWN:
        lines.append(label("change_like_for_like", lang, raw=fmt(raw, "points"),
                           gate=fmt(float(info["change"]) - raw, "points")))
    if mapping == "merge" and preds:
        key = "change_merged_equal" if "equal_weights" in flags else "change_merged"
        lines.append(label(key, lang, names=findings.listing([names.get(p, p) for p in preds], lang)))
    elif mapping == "rename" and preds:
        lines.append(label("change_renamed", lang, names=names.get(preds[0], preds[0])))
    return lines


def _raw_change(result: EvaluationResult, department_id: str) -> float | None:
    ch = result.trends.changes
    rows = ch[(ch["department_id"] == department_id) & (ch["measure"] == "index_raw")]
    if not len(rows) or missing(rows["change"].iloc[0]):
        return None
    return float(rows["change"].iloc[0])


def _verdict_short(own: pd.DataFrame, dimension_id: str, lang: str) -> str:
    if dimension_id not in own.index:
        return ""
    r = own.loc[dimension_id]
    if not missing(r["comparable"]) and not bool(r["comparable"]):
        return label("not_comparable", lang)
    if missing(r["significant"]):
        return ""
    if not bool(r["significant"]):
        return label("verdict_short_none", lang)
    return label("verdict_short_up" if float(r["change"]) > 0 else "verdict_short_down", lang)


def _trend_note(result: EvaluationResult, trend: pd.Series, lang: str) -> str:
    """Years between the first and this one in which the department (or its predecessors) has no index."""
    if result.trends is None or len(trend.dropna()) < 1:
        return ""
    years = sorted(int(y) for y in result.trends.series["year"].unique())
    have = {int(y) for y in trend.dropna().index}
    first = min(have)
    gaps = [y for y in years if first <= y <= result.year and y not in have]
    return label("trend_missing_years", lang, years=findings.listing(gaps, lang)) if gaps else ""


def _dimension_table(profile: pd.DataFrame, level: float, lang: str) -> TableSpec:
    """The dimension scores as printed: weight, score, interval, city average, category best, change and verdict."""
    heads = [label("dimension", lang), label("weight_pct", lang), label("score", lang),
             label("interval", lang, level=level_text(level)), label("city_average", lang),
             label("category_best", lang)]
    kinds = ["text", "int", "score", "text", "score", "score"]
    has_change = "change" in profile
    if has_change:
        heads += [label("change_short", lang), label("change_test", lang)]
        kinds += ["points", "text"]
    rows = []
    for r in profile.itertuples(index=False):
        line = [f"{r.dimension_id} {r.name}", r.weight, r.estimate, _interval(r.ci_low, r.ci_high), r.city_average,
                r.category_best]
        if has_change:
            line += [r.change, r.change_verdict or "—"]
        rows.append(line)
    return TableSpec(heads, kinds, rows)


def _indicator_table(result: EvaluationResult, own: pd.DataFrame, lang: str) -> TableSpec:
    """The indicators as printed: raw value in its unit, scoring rule, score, interval, weight, n, shares."""
    specs = findings.indicator_specs(result)
    heads = [label("id", lang), label("indicator", lang), label("channel", lang), label("raw_value", lang),
             label("rule", lang), label("score", lang), label("interval", lang, level=level_text(result.level)),
             label("weight", lang), label("n", lang), label("top2", lang), label("bottom2", lang)]
    name_col = name_column("indicator", lang)
    rows = []
    for _, r in own.iterrows():
        spec = specs.get(str(r["indicator_id"]))
        rows.append([str(r["indicator_id"]), str(r[name_col]), facts.channel_name(r["channel"], lang),
                     findings.raw_text(spec, r["raw_value"], lang) if spec else fmt(r["raw_value"], "raw"),
                     findings.rule_text(spec, lang) if spec else "", r["score"],
                     _interval(r["ci_low"], r["ci_high"]), r["weight"], r["n"], r["top2"], r["bottom2"]])
    return TableSpec(heads, ["text", "text", "text", "text", "text", "score", "text", "weight", "int", "share",
                             "share"], rows)


def _interval(low, high) -> str:
    if missing(low) or missing(high):
        return "—"
    return f"{float(low):.1f}–{float(high):.1f}"


def _quadrant(result: EvaluationResult, department_id: str, category: str, lang: str) -> pd.DataFrame:
    """The GB/T 19038 chart's rows (the problem list's) with ``outcome`` and the list's ``problem_no``."""
    drivers = result.priorities.drivers if result.priorities is not None else None
    if drivers is None or not len(drivers):
        empty = pd.DataFrame(columns=["indicator_id", "name", "importance", "performance", "quadrant", "outcome",
                                      "problem_no"])
        empty.attrs.update(basis="none")
        return empty
    q = quadrant_data(result.indicators, department_id, lang=lang, drivers=drivers, category=category)
    if q.attrs.get("basis") != "drivers":
        empty = q.iloc[0:0].assign(outcome=False, problem_no=np.nan)
        empty.attrs.update(basis="none")
        return empty
    attrs = dict(q.attrs)
    outcome = result.framework.roles.outcome
    attrs["outcome_name"] = findings.indicator_name(result, outcome, lang) if outcome else ""
    q = q.assign(outcome=q["indicator_id"].isin(result.framework.roles.outcomes))
    own = findings.department_problems(result, department_id)
    listed = own[own["kind"] == "survey_item"].set_index("indicator_id")["problem_no"] if len(own) else pd.Series(
        dtype=float)
    q["problem_no"] = q["indicator_id"].map(listed).astype(float)
    q.attrs.update(attrs)
    return q


def _quadrant_notes(q: pd.DataFrame, lang: str) -> list[str]:
    """What the quadrant chart shows: the importance model, its link to the list, the survey items' names."""
    if q.attrs.get("basis") != "drivers":
        return [label("no_quadrant", lang)]
    notes = [label("quad_note", lang, model=label(f"model_{q.attrs.get('model') or 'city'}", lang),
                   outcome=q.attrs.get("outcome_name", ""))]
    if q.attrs.get("scope") in ("category", "city"):
        notes.append(label("quad_note_scope", lang, scope=label(f"scope_{q.attrs['scope']}", lang)))
    notes.append(label("quad_note_list", lang, kind=label("kind_survey_item", lang)))
    notes.append(sep_join([f"{r.indicator_id} {r.name}" for r in q.itertuples(index=False)], lang))
    return notes


def _reform_facts(result: EvaluationResult, quality_row: pd.Series | None, lang: str) -> list[Fact]:
    """The framework's objective reform figures, named by their indicators (shares and ratios as percentages)."""
    if quality_row is None:
        return []
    meta = {i.id: i for i in result.framework.indicators}
    return [Fact(meta[iid].name if lang == "zh" else meta[iid].name_en, quality_row[col],
                 "share" if meta[iid].measure in ("share", "ratio") else "raw")
            for col, iid in result.framework.roles.reform_figures.items()]
