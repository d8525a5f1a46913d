"""What a department's scorecard shows: :class:`ScorecardContent`, built from the typed result.

:func:`scorecard_content` gathers everything a scorecard shows from an
:class:`~evaluation.result.EvaluationResult` (only the department's own
disaggregated data; other departments appear only in city aggregates and
ranks).  The renderers (:mod:`reports.scorecard_pdf`,
:mod:`reports.scorecard_xlsx`) read this content and nothing else, so they
cannot disagree.  Content only: no renderer is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evaluation.result import EvaluationResult
from reports import facts
from reports.chart_data import priority_data, profile_data, quadrant_data
from reports.format import Fact, level_text, missing, natural_order
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


@dataclass(frozen=True)
class ScorecardContent:
    """Everything one department's scorecard shows, in one language.

    ``change_info`` is the department's ``index`` row of the year's change
    since the previous recorded year (:attr:`EvaluationResult.trends`, as a
    dict; empty when there is no earlier year); ``ranks`` is :func:`reports.facts.rank_info`; ``quadrant`` and
    ``priorities`` are :func:`reports.charts.quadrant_data` and
    :func:`reports.charts.priority_data` output; ``rates`` the AAPOR outcome
    rates; ``quality_text`` the gates and response rate in words.
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
    trend: pd.Series
    ranks: dict
    headline: list
    flags: list
    profile: pd.DataFrame
    dimensions: pd.DataFrame
    indicators: pd.DataFrame
    quadrant: pd.DataFrame
    priorities: pd.DataFrame
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
        Fact(label("grade", lang), f"{row['grade']} {grade_name}".strip(), "text"),
        Fact(label("is_borderline", lang), label("yes" if bool(row["borderline"]) else "no", lang), "text"),
    ]
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
    if not missing(change_info.get("change_ci_low")):
        headline += [Fact(f"{label('change', lang)} · {label(k, lang)}", change_info[c], "points")
                     for c, k in (("change_ci_low", "ci_low"), ("change_ci_high", "ci_high"))]
    headline += [Fact(label(c, lang), row[c], "score") for c in ("index_raw", "g1_deduction")]
    headline += [Fact(label(c, lang), row[c], "int") for c in ("n_survey", "n_callback", "n_visit")]

    flags = [flag_text(code, lang, **facts.flag_fields(result)) for code in split_flags(row["flags"])]

    dims = result.dimensions
    own_dims = dims[dims["department_id"] == department_id]
    profile = profile_data(dims, deps, department_id, lang=lang)
    profile["flag"] = own_dims.set_index("dimension_id")["flag"].reindex(profile["dimension_id"]).to_numpy()
    if result.trends is not None:
        ch = result.trends.changes
        own_ch = ch[(ch["department_id"] == department_id) & (ch["measure"] != "index")].set_index("measure")
        profile["change"] = own_ch["change"].reindex(profile["dimension_id"]).to_numpy(float)

    inds = result.indicators
    own_inds = natural_order(inds[inds["department_id"] == department_id], "indicator_id")
    quality_row = _one_row(result.quality, department_id)
    quality = _facts(row, [("n_survey", "int"), ("n_callback", "int"), ("n_visit", "int")], lang)
    quality += _facts(quality_row, QUALITY_FIELDS, lang)
    rates = [] if quality_row is None else [
        Fact(label(RATE_LABELS[col], lang), quality_row[col], kind) for col, kind in RATE_FIELDS
        if col in quality_row.index]
    drivers = result.priorities.drivers if result.priorities is not None else None
    quadrant = quadrant_data(inds, department_id, lang=lang, drivers=drivers, category=str(row["category"]))
    priorities = priority_data(inds, department_id, lang=lang,
                               priorities=result.priorities.priorities if result.priorities is not None else None)
    notes = facts.method_notes(result, lang, n_indicators=int(own_inds["indicator_id"].nunique()))
    notes += [label("method_average", lang),
              label("method_priorities" if priorities.attrs.get("basis") == "supplied"
                    else "method_priorities_fallback", lang), label("own_data_note", lang)]
    if bool(row["borderline"]):
        notes.append(label("borderline_note", lang))
    if not missing(change):
        notes.append(label("trends_note_adjusted", lang, level=level_text(level),
                           method=facts.adjustment_label(result, lang)))
    return ScorecardContent(
        lang=lang, year=result.year, department_id=department_id,
        name=str(row[name_column("department", lang)]),
        category_name=str(row[name_column("category_name", lang)]),
        tier=str(row["tier"]), level=level, row=row, n_departments=len(deps), n_in_category=n_cat,
        change=change, change_info=change_info, trend=facts.trend_series(result, department_id), ranks=ranks,
        headline=headline, flags=flags, profile=profile, dimensions=own_dims, indicators=own_inds,
        quadrant=quadrant, priorities=priorities, quality=quality, rates=rates,
        quality_text=facts.quality_sentences(result, row, quality_row, lang),
        haocha=_facts(quality_row, HAOCHA_FIELDS, lang), reform=_reform_facts(result, quality_row, lang),
        notes=notes, manifest=facts.manifest_facts(result, lang), footer=facts.footer(result, lang),
    )


def _reform_facts(result: EvaluationResult, quality_row: pd.Series | None, lang: str) -> list[Fact]:
    """The framework's objective reform figures, named by their indicators (shares and ratios as percentages)."""
    if quality_row is None:
        return []
    meta = {i.id: i for i in result.framework.indicators}
    return [Fact(meta[iid].name if lang == "zh" else meta[iid].name_en, quality_row[col],
                 "share" if meta[iid].measure in ("share", "ratio") else "raw")
            for col, iid in result.framework.roles.reform_figures.items()]


def quadrant_notes(c: ScorecardContent) -> list[str]:
    """What the quadrant chart shows: the importance model and, for survey items, their names."""
    lang, q = c.lang, c.quadrant
    if q.attrs.get("basis") != "drivers":
        return [label("quad_note_weights", lang)]
    notes = [label("quad_note", lang, model=label(f"model_{q.attrs.get('model') or 'city'}", lang))]
    if q.attrs.get("scope") in ("category", "city"):
        notes.append(label("quad_note_scope", lang, scope=label(f"scope_{q.attrs['scope']}", lang)))
    sep = "；" if lang == "zh" else "; "
    notes.append(sep.join(f"{r.indicator_id} {r.name}" for r in q.itertuples(index=False)))
    return notes
