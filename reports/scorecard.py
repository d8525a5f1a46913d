"""Department scorecards: a one- to two-page A4 PDF and a workbook per department.

:func:`scorecard_content` gathers everything a scorecard shows from an
evaluation result (only the department's own disaggregated data; other
departments appear only in city aggregates and ranks).  The PDF and XLSX
renderers both read that content, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from reports import extras, layout, workbook
from reports.charts import SERIES_COLORS, priority_data, profile_data, quadrant_data
from reports.history import adjustment_label, change_table, history_frame, trend_series
from reports.labels import LABELS, check_lang, flag_text, label, name_column, split_flags
from reports.layout import Fact
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
REFORM_FIELDS = [("online_rate", "share"), ("time_compression", "share"), ("docs_reduction", "share"),
                 ("one_trip_rate", "share"), ("on_time_rate", "share")]


@dataclass(frozen=True)
class ScorecardContent:
    """Everything one department's scorecard shows, in one language.

    ``change_info`` is the department's row of :func:`reports.history.change_table`
    (as a dict); ``ranks`` is :func:`reports.extras.rank_info`; ``quadrant`` and
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


def _facts(frame_row: pd.Series | None, fields, lang) -> list[Fact]:
    if frame_row is None:
        return []
    return [Fact(label(col, lang), frame_row[col], kind) for col, kind in fields if col in frame_row.index]


def _one_row(frame: pd.DataFrame | None, department_id: str) -> pd.Series | None:
    if frame is None or "department_id" not in frame:
        return None
    rows = frame[frame["department_id"].astype(str) == department_id]
    return rows.iloc[0] if len(rows) else None


def supplied_priorities(result) -> pd.DataFrame | None:
    """A ``priorities`` frame from the result (attribute or ``extra`` table), if the evaluation made one."""
    frame = getattr(result, "priorities", None)
    if frame is None:
        frame = (getattr(result, "extra", None) or {}).get("priorities")
    return frame


def method_notes(result, lang: str, *, n_indicators: int) -> list[str]:
    """The method paragraphs shared by scorecards and the city report."""
    rules = layout.framework_rules(result)
    gates = rules["gates"]
    level = layout.level_text(layout.confidence_level(result))
    return [
        label("method_index", lang, m=n_indicators, level=level),
        label("method_grades", lang, bands=layout.grade_bands_text(rules, lang)),
        label("method_gates", lang, g1=f"{gates.get('g1_threshold', 95):g}",
              per=f"{gates.get('g1_deduction_per_point', 0.5):g}", cap=f"{gates.get('g1_max_deduction', 5):g}",
              audit=f"{gates.get('g1_audit_threshold', 80):g}", g2=f"{gates.get('g2_threshold', 10):g}",
              s=f"{gates.get('g4_min_survey', 50):g}", c=f"{gates.get('g4_min_callback', 30):g}"),
    ]


def manifest_facts(result, lang: str) -> list[Fact]:
    prov = layout.provenance(result)
    ident = " ".join(str(prov[k]) for k in ("framework_id", "framework_version") if prov.get(k))
    return [
        Fact(label("manifest_hash", lang), layout.manifest_hash(prov), "text"),
        Fact(label("toolkit_version", lang), prov.get("toolkit_version") or prov.get("version")
             or label("unknown", lang), "text"),
        Fact(label("framework_id", lang), ident or label("unknown", lang), "text"),
        Fact(label("seed", lang), prov.get("seed", label("unknown", lang)), "text"),
        Fact(label("level", lang), layout.level_text(layout.confidence_level(result)), "text"),
    ]


def channel_name(code: object, lang: str) -> str:
    """The channel code (S, C, V, A, H) as a word in ``lang``."""
    key = f"channel_{code}"
    return label(key, lang) if key in LABELS else str(code)


def scorecard_content(result, department_id: str, *, lang: str = "zh", history=None) -> ScorecardContent:
    """Gather what one department's scorecard shows.

    Parameters
    ----------
    result : EvaluationResult-like
        Needs ``year``, ``departments``, ``dimensions``, ``indicators``; uses
        ``quality``, ``provenance``, ``framework`` and the tables of
        ``extra`` (``rank_uncertainty``, ``drivers``, ``priorities``) when
        present.
    department_id : str
        Register id of the department.
    lang : {"zh", "en"}
    history : optional
        Earlier years in any shape :mod:`reports.history` accepts, for the
        change since last year and the trend line.
    """
    check_lang(lang)
    department_id = str(department_id)
    deps = result.departments
    row = _one_row(deps, department_id)
    if row is None:
        raise DataValidationError("department not in the result", [Problem(
            message="no row for this department in result.departments", value=department_id,
            column="department_id", fix="render scorecards only for departments that were evaluated")])
    year = int(getattr(result, "year", row.get("year", 0)))
    level = layout.confidence_level(result)
    hist = history_frame(history)
    changes = change_table(deps, history, year, level=level)
    change_info = changes[changes["department_id"] == department_id].iloc[0].to_dict()
    change = float(change_info["change"])
    trend = trend_series(deps, hist, department_id, year)
    rules = layout.framework_rules(result)
    n_cat = int((deps["category"] == row["category"]).sum())
    ranks = extras.rank_info(result, department_id)

    grade_name = row.get(name_column("grade_name", lang), "")
    headline = [
        Fact(label("index", lang), row["index"], "score"),
        Fact(label("ci_low", lang), row.get("ci_low"), "score"),
        Fact(label("ci_high", lang), row.get("ci_high"), "score"),
        Fact(label("se", lang), row.get("se"), "score"),
        Fact(label("grade", lang), f"{row.get('grade', '')} {grade_name}".strip(), "text"),
        Fact(label("is_borderline", lang), label("yes" if bool(row.get("borderline", False)) else "no", lang),
             "text"),
    ]
    for scope, key, prefix in (("overall", "rank_overall", "rank"), ("category", "rank_in_category",
                                                                       "rank_in_category")):
        headline.append(Fact(label(key, lang), row.get(prefix), "int"))
        headline += [Fact(f"{label(key, lang)} · {label('rank_interval', lang)} · {label(k, lang)}", row.get(c), "int")
                     for c, k in ((f"{prefix}_low", "ci_low"), (f"{prefix}_high", "ci_high")) if c in row.index]
        info = ranks[scope]
        if info["rank_sim_low"] is not None:
            headline += [Fact(f"{label(key, lang)} · {label('rank_sim', lang)} · {label(k, lang)}", info[c], "int")
                         for c, k in (("rank_sim_low", "ci_low"), ("rank_sim_high", "ci_high"))]
        if info["tie_group_size"] is not None:
            headline.append(Fact(f"{label(key, lang)} · {label('tie_group', lang)}",
                                 extras.tie_text(info["tie_group_size"], lang), "text"))
    headline += [Fact(f"{label(c, lang)}", row.get(c), "share") for c in ("p_top3", "p_bottom3") if c in row.index]
    headline += [Fact(label("count", lang), len(deps), "int"),
                 Fact(label("change", lang), change, "points")]
    if not layout.missing(change_info["change_ci_low"]):
        headline += [Fact(f"{label('change', lang)} · {label(k, lang)}", change_info[c], "points")
                     for c, k in (("change_ci_low", "ci_low"), ("change_ci_high", "ci_high"))]
    headline += [Fact(label(c, lang), row.get(c), "score") for c in ("index_raw", "g1_deduction") if c in row.index]
    headline += [Fact(label(c, lang), row.get(c), "int") for c in ("n_survey", "n_callback", "n_visit")
                 if c in row.index]

    flags = [flag_text(code, lang, **layout.flag_fields(rules)) for code in split_flags(row.get("flags"))]

    dims = result.dimensions
    own_dims = dims[dims["department_id"].astype(str) == department_id]
    profile = profile_data(dims, deps, department_id, lang=lang)
    if "flag" in own_dims:
        profile["flag"] = own_dims.set_index("dimension_id")["flag"].reindex(profile["dimension_id"]).to_numpy()
    if "change" in own_dims:
        profile["change"] = own_dims.set_index("dimension_id")["change"].reindex(profile["dimension_id"]).to_numpy()

    inds = result.indicators
    own_inds = layout.natural_order(inds[inds["department_id"].astype(str) == department_id], "indicator_id")
    quality_row = _one_row(getattr(result, "quality", None), department_id)
    quality = _facts(row, [("n_survey", "int"), ("n_callback", "int"), ("n_visit", "int")], lang)
    quality += _facts(quality_row, QUALITY_FIELDS, lang)
    rates = [] if quality_row is None else [
        Fact(label(RATE_LABELS[col], lang), quality_row[col], kind) for col, kind in RATE_FIELDS
        if col in quality_row.index]
    quadrant = quadrant_data(inds, department_id, lang=lang, drivers=extras.extra(result, "drivers"),
                             category=str(row["category"]))
    priorities = priority_data(inds, department_id, lang=lang, priorities=supplied_priorities(result))
    notes = method_notes(result, lang, n_indicators=int(own_inds["indicator_id"].nunique()))
    notes += [label("method_average", lang),
              label("method_priorities" if priorities.attrs.get("basis") == "supplied"
                    else "method_priorities_fallback", lang), label("own_data_note", lang)]
    if bool(row.get("borderline", False)):
        notes.append(label("borderline_note", lang))
    if not layout.missing(change_info["change"]):
        notes.append(label("trends_note_adjusted", lang, level=layout.level_text(level),
                           method=adjustment_label(history, lang)) if change_info["adjusted"]
                     else label("trends_note_plain", lang, level=layout.level_text(level)))
    return ScorecardContent(
        lang=lang, year=year, department_id=department_id,
        name=str(row[name_column("department", lang)]),
        category_name=str(row.get(name_column("category_name", lang), row.get("category", ""))),
        tier=str(row.get("tier", "")), level=level, row=row, n_departments=len(deps), n_in_category=n_cat,
        change=change, change_info=change_info, trend=trend, ranks=ranks, headline=headline, flags=flags,
        profile=profile, dimensions=own_dims, indicators=own_inds, quadrant=quadrant, priorities=priorities,
        quality=quality, rates=rates,
        quality_text=extras.quality_sentences(row, quality_row, rules["gates"], lang),
        haocha=_facts(quality_row, HAOCHA_FIELDS, lang),
        reform=_facts(quality_row, REFORM_FIELDS, lang), notes=notes, manifest=manifest_facts(result, lang),
    )


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


def render_scorecard_pdf(result, department_id: str, path: str | Path, *, lang: str = "zh", history=None,
                         content: ScorecardContent | None = None) -> Path:
    """Write one department's scorecard as an A4 PDF (one to two pages); return the path.

    See :func:`reports.scorecard_pdf.render_scorecard_pdf`.
    """
    from reports.scorecard_pdf import render_scorecard_pdf as render

    return render(result, department_id, path, lang=lang, history=history, content=content)


# ---------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------

def render_scorecard_xlsx(result, department_id: str, path: str | Path, *, lang: str = "zh", history=None,
                          content: ScorecardContent | None = None) -> Path:
    """Write one department's scorecard as a workbook; numbers are stored as numbers.

    Sheets (names in ``lang``): summary (headline figures and flags),
    dimensions (with a native bar chart against the city average and the
    category best), indicators, data quality, priorities, notes (method and
    manifest).  Every text cell is inert (no formulas from input strings).
    """
    from openpyxl.chart import Reference

    from reports.safety import set_cell, sheet_title

    c = content or scorecard_content(result, department_id, lang=lang, history=history)
    lang = c.lang
    wb = workbook.new_workbook(f"{c.name} {c.year}")
    taken: set[str] = set()

    def sheet(key):
        ws = wb.create_sheet(sheet_title(label(key, lang), taken=taken))
        taken.add(ws.title)
        return ws

    ws = sheet("sheet_summary")
    facts = [Fact(label("department", lang), c.name, "text"), Fact("ID", c.department_id, "text"),
             Fact(label("category", lang), c.category_name, "text"), Fact(label("year", lang), c.year, "int")]
    nxt = workbook.write_facts(ws, facts + c.headline, header=(label("item", lang), label("value", lang)))
    for text in c.flags:
        set_cell(ws.cell(row=nxt, column=1), label("flags", lang))
        set_cell(ws.cell(row=nxt, column=2), text)
        nxt += 1
    if len(c.trend.dropna()) >= 2:
        workbook.write_table(ws, [label("year", lang), label("index", lang)],
                             [[int(y), v] for y, v in c.trend.dropna().items()], ["int", "score"],
                             start_row=nxt + 1, freeze=None)
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 44
    ws.column_dimensions["B"].width = 40

    ws = sheet("sheet_dimensions")
    p = c.profile
    cols = [("dimension_id", "id", "text"), ("name", "dimension", "text"), ("weight", "weight", "int"),
            ("estimate", "score", "score"), ("ci_low", "ci_low", "score"), ("ci_high", "ci_high", "score"),
            ("city_average", "city_average", "score"), ("category_best", "category_best", "score")]
    own = c.dimensions.set_index("dimension_id")
    extra = [(col, col, kind) for col, kind in (("se", "score"), ("missing_weight_share", "share"), ("flag", "text"))
             if col in own.columns]
    cols += [(col, key, kind) for col, key, kind in extra]
    rows = []
    for _, r in p.iterrows():
        line = [r.get(col) if col in p.columns else own[col].get(r["dimension_id"]) for col, _, _ in cols]
        rows.append(line)
    workbook.write_table(ws, [label(k, lang) for _, k, _ in cols], rows, [k for _, _, k in cols],
                       widths=[8, 30, 8, 9, 10, 10, 10, 10, 9, 12, 10])
    if len(rows):
        last = len(rows) + 1
        workbook.xlsx_bar_chart(
            ws, title=label("profile_title", lang), categories=Reference(ws, min_col=2, min_row=2, max_row=last),
            series=[Reference(ws, min_col=col, max_col=col, min_row=1, max_row=last) for col in (4, 7, 8)],
            colors=[SERIES_COLORS[k] for k in ("department", "city_average", "category_best")],
            anchor=f"A{last + 3}", y_max=100)

    ws = sheet("sheet_indicators")
    name_col = name_column("indicator", lang)
    icols = [("indicator_id", "id", "text"), (name_col, "indicator", "text"), ("dimension_id", "dimension", "text"),
             ("channel", "channel", "text"), ("raw_value", "raw_value", "raw"), ("raw_se", "raw_se", "raw"),
             ("score", "score", "score"), ("se", "se", "score"), ("ci_low", "ci_low", "score"),
             ("ci_high", "ci_high", "score"), ("weight", "weight", "weight"), ("n", "n", "int"),
             ("top2", "top2", "share"), ("bottom2", "bottom2", "share"), ("change", "change_short", "points"),
             ("comparable", "comparable", "text")]
    icols = [t for t in icols if t[0] in c.indicators.columns]

    def value(r, col):
        if col == "comparable":
            return None if layout.missing(r[col]) else label("yes" if bool(r[col]) else "no", lang)
        if col == "channel":
            return channel_name(r[col], lang)
        return r[col]

    rows = [[value(r, col) for col, _, _ in icols] for _, r in c.indicators.iterrows()]
    workbook.write_table(ws, [label(k, lang) for _, k, _ in icols], rows, [k for _, _, k in icols],
                       widths=[7, 30, 8, 9, 10, 10, 8, 8, 10, 10, 8, 8, 9, 9, 9, 8], freeze="C2")

    ws = sheet("sheet_quality")
    nxt = 1
    for key, facts in (("sec_quality", c.quality + c.rates), ("sec_haocha", c.haocha), ("sec_reform", c.reform)):
        if facts:
            nxt = workbook.write_facts(ws, facts, start_row=nxt, header=(label(key, lang), label("value", lang))) + 1
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 44
    ws.column_dimensions["B"].width = 14
    for text in c.quality_text:
        nxt = workbook.write_note(ws, nxt, text, columns=2)

    ws = sheet("sheet_priorities")
    gain_key = "priority_gap" if c.priorities.attrs.get("basis") == "supplied" else "priority_gain"
    pcols = [("indicator_id", "id", "text"), ("name", "indicator", "text"), ("score", "score", "score"),
             ("weight", "weight", "weight"), ("category_best", "category_best_score", "score"),
             ("gain", gain_key, "coef"), ("quadrant", "quadrant", "text")]

    def quad(code):
        return label(f"quad_{code}", lang) if isinstance(code, str) and code else None

    rows = [[r["indicator_id"], r["name"], r["score"], r["weight"], r["category_best"], r["gain"],
             quad(r["quadrant"]), label("due_text", lang)] for _, r in c.priorities.iterrows()]
    workbook.write_table(ws, [label(k, lang) for _, k, _ in pcols] + [label("due", lang)], rows,
                       [k for _, _, k in pcols] + ["text"], widths=[8, 30, 8, 8, 10, 12, 14, 24])
    q = c.quadrant
    start = len(rows) + 3
    set_cell(ws.cell(row=start, column=1), label("quadrant_title", lang))
    workbook.write_table(ws, [label("id", lang), label("indicator", lang), label("importance_short", lang),
                              label("performance", lang), label("quadrant", lang)],
                         [[r.indicator_id, r.name, r.importance, r.performance, quad(r.quadrant)]
                          for r in q.itertuples(index=False)], ["text", "text", "score", "score", "text"],
                         start_row=start + 1, freeze=None)
    row = start + len(q) + 3
    for text in quadrant_notes(c):
        row = workbook.write_note(ws, row, text, columns=6)

    ws = sheet("sheet_notes")
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 70
    row = 1
    for text in c.notes:
        row = workbook.write_note(ws, row, text, columns=2)
    workbook.write_facts(ws, c.manifest, start_row=row + 1, header=(label("manifest", lang), label("value", lang)))
    return workbook.save_workbook(wb, Path(path))
