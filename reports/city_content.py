"""What the city report says, in order: :class:`CityContent`, built once from the typed result.

The report follows the structure its readers expect from a Chinese
third-party evaluation report, conclusions first and diagnostics last:

- cover: city, evaluator, evaluation period, report date, framework (a fact
  the project file does not state is said to be not stated, never invented);
- 一、总体情况: the citywide index with its interval and its change since
  last year (the adjusted interval and verdict of one test), the gate
  deductions, the dimensions and reform figures, the departments not
  evaluated and why, last year's rectification follow-up;
- 二、排名与等次: the top and bottom three with the probability of their
  position in words, tie groups, the ranking and grade charts, category
  rankings;
- 三、存在的主要问题: the findings shared across departments, then each
  department's main problems (from the evaluation's problem lists);
- 四、整改建议: one recommendation per kind of finding, citing its evidence,
  and the dated rectification cycle;
- 附录：方法说明与稳健性: method and weights, sampling and reliability,
  sensitivity, small departments and the funnel plot, dimension scores,
  change since last year, data quality, every department's result, the
  reproducibility record.

The content is a sequence of :class:`Block` (headings, paragraphs, tables,
facts, charts, page breaks) that the PDF (:mod:`reports.city_pdf`) and Word
(:mod:`reports.city_docx`) renderers walk alike, so the two cannot
disagree; charts are named (``chart``) and their data prepared here
(:mod:`reports.chart_data`), drawn by :func:`reports.drawings.chart_drawing`.
Content only: no renderer is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation.result import EvaluationResult
from reports import city_sections as sections
from reports import findings
from reports.chart_data import grade_counts, heat_hex, ranking_data
from reports.city import (appendix_table, category_names, dimension_table, flag_summary, method_facts, weights_table)
from reports.facts import adjustment_label, footer, framework_name, manifest_facts, tie_groups
from reports.format import Fact, TableSpec, fmt, fmt_change_interval, level_text, missing
from reports.labels import check_lang, label, name_column

#: rows of a ranking-type chart on one page; longer lists (a province's hundreds of
#: departments) continue over several charts instead of shrinking rows past legibility
ROWS_PER_CHART = 55
#: shared findings told in words in section 三 (the 2018 report named eight areas)
COMMON_SHOWN = 8


@dataclass(frozen=True)
class Block:
    """One element of a document, in reading order.

    ``kind``: ``heading`` (``text``, ``level`` 1–3), ``text`` / ``note`` /
    ``small`` / ``warn`` (a paragraph), ``item`` (a numbered paragraph),
    ``table`` (``table``; ``flexible`` columns take the spare width,
    ``widths`` fixes the fractions of the text width; ``options["fills"]``
    maps ``(row, column)`` of the data rows to a background colour),
    ``facts`` (``facts`` as label/value pairs, ``columns`` pairs per row),
    ``chart`` (``chart`` names the drawing, ``data`` and ``options`` feed it,
    ``name`` names its PNG/SVG files), ``page`` (a page break) and ``keep``
    (keep the next ``options["height"]`` points on one page).
    """

    kind: str
    text: str = ""
    level: int = 1
    table: TableSpec | None = None
    flexible: tuple = (0,)
    widths: tuple | None = None
    facts: tuple = ()
    columns: int = 2
    chart: str = ""
    data: object = None
    options: dict = field(default_factory=dict)
    name: str = ""


@dataclass(frozen=True)
class CityContent:
    """The city report in one language: title, cover lines, blocks in reading order, footer."""

    lang: str
    year: int
    title: str
    cover: tuple
    summary: tuple
    blocks: tuple
    footer: str


def H(text: str, level: int = 1) -> Block:  # noqa: N802 - block constructors read as the document does
    return Block("heading", text=text, level=level)


def P(text: str, kind: str = "text") -> Block:  # noqa: N802
    return Block(kind, text=text)


def T(spec: TableSpec | None, **kw) -> list[Block]:  # noqa: N802
    return [] if spec is None or not spec.rows else [Block("table", table=spec, **kw)]


def F(facts, columns: int = 2) -> list[Block]:  # noqa: N802
    return [Block("facts", facts=tuple(facts), columns=columns)] if facts else []


def C(chart: str, data, name: str, **options) -> Block:  # noqa: N802
    return Block("chart", chart=chart, data=data, name=name, options=options)


PAGE = Block("page")


def city_content(result: EvaluationResult, lang: str = "zh") -> CityContent:
    """Build the city report's content (see the module notes for its structure)."""
    check_lang(lang)
    blocks = (overall(result, lang) + [PAGE] + ranking(result, lang) + [PAGE] + problems(result, lang)
              + recommendations(result, lang) + [PAGE] + appendix(result, lang))
    return CityContent(lang=lang, year=result.year, title=_title(result, lang), cover=tuple(_cover(result, lang)),
                       summary=tuple(_summary(result, lang)), blocks=tuple(blocks), footer=footer(result, lang))


# ---------------------------------------------------------------------------
# cover
# ---------------------------------------------------------------------------

def _title(result: EvaluationResult, lang: str) -> str:
    ctx = result.context
    city = (ctx.city if lang == "zh" else ctx.city_en) if ctx is not None else ""
    return label("city_title_city", lang, city=city, year=result.year) if city else label("city_title", lang,
                                                                                         year=result.year)


def _cover(result: EvaluationResult, lang: str) -> list[Fact]:
    """City, evaluator, period, report date and framework; each fact not stated is said to be so."""
    ctx = result.context

    def stated(value: str, key: str) -> str:
        return value if value else label("cover_not_stated", lang, name=key)

    city = stated((ctx.city if lang == "zh" else ctx.city_en) if ctx else "", "city" if lang == "zh" else "city_en")
    evaluator = stated((ctx.evaluator if lang == "zh" else ctx.evaluator_en) if ctx else "",
                       "evaluator" if lang == "zh" else "evaluator_en")
    if ctx is not None and ctx.period_start is not None:
        start, end = findings.date_text(ctx.period_start, lang), findings.date_text(ctx.period_end, lang)
        period = label("period_range" if ctx.period_declared else "cover_period_default", lang, start=start, end=end)
    else:
        period = label("cover_not_stated", lang, name="[periods]")
    report_date = (findings.date_text(ctx.report_date, lang) if ctx is not None and ctx.report_date is not None
                   else label("cover_not_stated", lang, name="report_dates"))
    return [Fact(label("cover_city", lang), city, "text"), Fact(label("cover_evaluator", lang), evaluator, "text"),
            Fact(label("cover_period", lang), period, "text"), Fact(label("cover_report_date", lang), report_date,
                                                                    "text"),
            Fact(label("cover_framework", lang), framework_name(result, lang), "text")]


def _summary(result: EvaluationResult, lang: str) -> list[Fact]:
    deps = result.departments
    evaluated = deps[deps["index"].notna()]
    city = _city_row(result, "index")
    counts = grade_counts(evaluated)
    out = [Fact(label("count", lang), len(evaluated), "int")]
    if city is not None:
        out.append(Fact(label("index", lang), city["estimate"], "score"))
    return out + [Fact(f"{label('grade', lang)} {g}", int(counts[g].sum()), "int") for g in counts.columns]


def _city_row(result: EvaluationResult, measure: str) -> pd.Series | None:
    if result.findings is None:
        return None
    city = result.findings.city
    rows = city[city["measure"] == measure]
    return rows.iloc[0] if len(rows) and not missing(rows["estimate"].iloc[0]) else None


def _city_change(result: EvaluationResult, measure: str) -> pd.Series | None:
    if result.trends is None:
        return None
    rows = result.trends.city[result.trends.city["measure"] == measure]
    return rows.iloc[0] if len(rows) else None


def _verdict(row, lang: str) -> str:
    if missing(row["significant"]):
        return label("no_se_text", lang)
    return label("significant" if bool(row["significant"]) else "not_significant", lang)


# ---------------------------------------------------------------------------
# 一、总体情况
# ---------------------------------------------------------------------------

def overall(result: EvaluationResult, lang: str) -> list[Block]:
    deps = result.departments
    evaluated = deps[deps["index"].notna()]
    level = level_text(result.level)
    out = [H(label("s1", lang))]
    city = _city_row(result, "index")
    counts = grade_counts(evaluated).sum()
    change = _city_change(result, "index")
    if change is not None and not missing(change["change"]):
        change_text = label("s1_change", lang, change=fmt(change["change"], "points"),
                            method=adjustment_label(result, lang), alevel=level,
                            interval=fmt_change_interval(change["change_adj_ci_low"], change["change_adj_ci_high"]),
                            verdict=_verdict(change, lang))
    else:
        change_text = label("s1_no_change", lang)
    if city is not None:
        out.append(P(label("s1_verdict", lang, year=result.year, n=len(evaluated), index=fmt(city["estimate"]),
                           level=level, low=fmt(city["ci_low"]), high=fmt(city["ci_high"]), change=change_text,
                           **{g.lower(): int(counts.get(g, 0)) for g in ("A", "B", "C", "D")})))
    out.append(P(_gates_text(result, lang)))
    if result.findings is not None and len(result.findings.problems):
        p = result.findings.problems
        out.append(P(label("s1_problems", lang, n=len(p), m=p["department_id"].nunique(),
                           k=int(p["beyond_noise"].fillna(False).astype(bool).sum()))))
    follow = findings.follow_up_summary(result, lang)
    if follow:
        out.append(P(label("s4_follow_up", lang, summary=follow)))
    missing_deps = deps[deps["index"].isna()]
    if len(missing_deps):
        names = findings.department_names(result, lang)
        items = [f"{names.get(r.department_id, r.department_id)}（{label(f'reason_{r.not_evaluated_reason}', lang)}）"
                 if lang == "zh" else f"{names.get(r.department_id, r.department_id)} "
                                      f"({label(f'reason_{r.not_evaluated_reason}', lang)})"
                 for r in missing_deps.itertuples(index=False)]
        out.append(P(label("s1_not_evaluated", lang, items=findings.listing(items, lang))))
    out += [H(label("s1_dimensions", lang), 2)] + T(_dimension_summary(result, lang), flexible=(0,))
    reform = _reform_table(result, lang)
    if reform is not None:
        out += [H(label("s1_reform", lang), 2)] + T(reform, widths=(0.4, 0.15, 0.3, 0.15))
    return out + _grades(result, lang)


def _grades(result: EvaluationResult, lang: str) -> list[Block]:
    """The grade distribution by category: chart and table."""
    deps = result.departments
    cats = category_names(deps, lang)
    counts = grade_counts(deps[deps["index"].notna()])
    spec = TableSpec([label("category", lang)] + list(counts.columns) + [label("total", lang)],
                     ["text"] + ["int"] * (len(counts.columns) + 1),
                     [[f"{c} {cats.get(c, c)}"] + [int(v) for v in counts.loc[c]] + [int(counts.loc[c].sum())]
                      for c in counts.index]
                     + [[label("total", lang)] + [int(v) for v in counts.sum()] + [int(counts.to_numpy().sum())]])
    return [Block("keep", options={"height": 300}), H(label("sec_grades", lang), 2),
            C("grades", counts, "grades", group_names=cats, scale=0.7, height=170)] + T(
        spec, widths=(0.4,) + (0.6 / (len(counts.columns) + 1),) * (len(counts.columns) + 1),
        options={"bold_last": True})




def _gates_text(result: EvaluationResult, lang: str) -> str:
    g = result.framework.gates
    deps = result.departments[result.departments["index"].notna()]
    q = result.quality
    if "g1_authenticity" not in q or not q["g1_authenticity"].notna().any():
        return label("s1_no_g1", lang)
    deducted = deps[deps["g1_deduction"].fillna(0) > 0]
    if not len(deducted):
        return label("s1_no_gates", lang, thr=f"{g.g1_threshold:g}")
    raw = _city_row(result, "index_raw")
    audit = int(deps["flags"].fillna("").str.contains("G1_audit", regex=False).sum())
    text = label("s1_gates", lang, raw=fmt(raw["estimate"]) if raw is not None else "—", n=len(deducted),
                 thr=f"{g.g1_threshold:g}", total=f"{deducted['g1_deduction'].sum():.1f}")
    if audit:
        text += label("s1_gates_audit", lang, audit=audit, audit_thr=f"{g.g1_audit_threshold:g}")
    return text


def _dimension_summary(result: EvaluationResult, lang: str) -> TableSpec | None:
    """Each dimension's city score with its interval and its change (adjusted interval and verdict)."""
    if result.findings is None:
        return None
    city = result.findings.city
    dims = city[city["kind"] == "dimension"]
    names = dict(zip(result.dimensions["dimension_id"], result.dimensions[name_column("dimension", lang)]))
    level = level_text(result.level)
    heads = [label("dimension", lang), label("dim_city_score", lang), label("interval", lang, level=level)]
    kinds = ["text", "score", "text"]
    has_change = result.trends is not None
    if has_change:
        heads += [label("change_short", lang), label("adjusted_interval", lang), label("change_test", lang)]
        kinds += ["points", "text", "text"]
    rows = []
    for _, r in dims.iterrows():
        line = [f"{r['measure']} {names.get(r['measure'], '')}", r["estimate"],
                f"{fmt(r['ci_low'])}–{fmt(r['ci_high'])}"]
        if has_change:
            c = _city_change(result, r["measure"])
            if c is None or missing(c["change"]):
                line += [None, "—", "—"]
            else:
                line += [c["change"], fmt_change_interval(c["change_adj_ci_low"], c["change_adj_ci_high"]),
                         _verdict(c, lang)]
        rows.append(line)
    return TableSpec(heads, kinds, rows)


def _reform_table(result: EvaluationResult, lang: str) -> TableSpec | None:
    if result.findings is None:
        return None
    city = result.findings.city
    reform = city[city["kind"] == "reform"]
    if not len(reform):
        return None
    specs = findings.indicator_specs(result)
    roles = result.framework.roles.reform_figures
    rows = []
    for _, r in reform.iterrows():
        spec = specs.get(roles.get(r["measure"], ""))
        name = (spec.name if lang == "zh" else spec.name_en) if spec is not None else r["measure"]
        shown = (lambda v: findings.raw_text(spec, v, lang)) if spec is not None else (lambda v: fmt(v, "raw"))
        rows.append([name, shown(r["estimate"]), f"{shown(r['minimum'])}–{shown(r['maximum'])}",
                     int(r["n_departments"])])
    return TableSpec([label("reform_figure", lang), label("reform_mean", lang), label("reform_range", lang),
                      label("count", lang)], ["text", "text", "text", "int"], rows)


# ---------------------------------------------------------------------------
# 二、排名与等次
# ---------------------------------------------------------------------------

def ranking(result: EvaluationResult, lang: str) -> list[Block]:
    deps = result.departments
    evaluated = deps[deps["index"].notna()].sort_values(["rank", "department_id"])
    names = findings.department_names(result, lang)
    level = level_text(result.level)
    out = [H(label("s2", lang))]

    def item(r, key, p):
        return label(key, lang, name=names.get(r.department_id, r.department_id), rank=int(r.rank),
                     index=fmt(r.index), p=findings.probability_text(float(p)),
                     word=findings.probability_word(float(p), lang))

    if len(evaluated) >= 6:
        top = [item(r, "s2_top_item", r.p_top3) for r in evaluated.head(3).itertuples(index=False)]
        bottom = [item(r, "s2_bottom_item", r.p_bottom3) for r in evaluated.tail(3).itertuples(index=False)]
        out.append(P(label("s2_top", lang, names=findings.listing(top, lang))))
        out.append(P(label("s2_bottom", lang, names=findings.listing(bottom, lang))))
        out.append(P(label("p_note", lang), "note"))
    out.append(P(_ties_text(result, lang)))
    cats = category_names(deps, lang)
    data = ranking_data(deps, lang=lang, ties=tie_groups(result, "overall"))
    has_ties = data["tie_group"].notna().any()
    out += [H(label("sec_ranking", lang), 2),
            P(label("ranking_note" if has_ties else "ranking_title", lang, level=level), "note")]
    lo, hi = _value_range(data)
    for k, part in enumerate(_chunks(data)):
        out.append(C("ranking", part, f"ranking_{k + 1}" if len(data) > ROWS_PER_CHART else "ranking",
                     group_names=cats, row_height=min(13.0, 620 / max(1, len(part))) if len(data) <= ROWS_PER_CHART
                     else 11.0, x_range=(lo, hi)))
    out += [H(label("sec_ranking_category", lang), 2),
            P(label("ranking_note_category", lang, level=level), "note")]
    cat_ties = tie_groups(result, "category")
    for cat in sorted(cats, key=str):
        sub = ranking_data(deps, lang=lang, category=cat, ties=cat_ties)
        out += [Block("keep", options={"height": 60 + 11 * min(len(sub), ROWS_PER_CHART)}),
                H(f"{cat} {cats[cat]}", 3)]
        out += [C("ranking", part, f"ranking_category_{cat}" + (f"_{k + 1}" if len(sub) > ROWS_PER_CHART else ""),
                  x_range=(lo, hi), row_height=11.0, rank_column="rank_in_category")
                for k, part in enumerate(_chunks(sub))]
    return out


def _ties_text(result: EvaluationResult, lang: str) -> str:
    """The tie groups of the overall ranking in words (groups of more than one department)."""
    ties = tie_groups(result, "overall")
    deps = result.departments.set_index("department_id")
    parts = []
    for g, rows in ties.dropna(subset=["tie_group"]).groupby("tie_group", sort=True):
        ranks = deps.loc[rows["department_id"], "rank"].dropna()
        if len(ranks) > 1:
            parts.append(label("s2_tie_group", lang, first=int(ranks.min()), last=int(ranks.max()), n=len(ranks)))
    return label("s2_ties", lang, groups=findings.sep(lang).join(parts) if parts else label("s2_no_ties", lang))


def _chunks(frame: pd.DataFrame, size: int = ROWS_PER_CHART) -> list[pd.DataFrame]:
    return [frame.iloc[i:i + size] for i in range(0, len(frame), size)] or [frame]


def _value_range(data: pd.DataFrame) -> tuple[float, float]:
    lo = np.floor(np.nanmin(data[["ci_low", "index"]].to_numpy(float))) - 0.5
    hi = np.ceil(np.nanmax(data[["ci_high", "index"]].to_numpy(float))) + 0.5
    return lo, hi


# ---------------------------------------------------------------------------
# 三、存在的主要问题 and 四、整改建议
# ---------------------------------------------------------------------------

def problems(result: EvaluationResult, lang: str) -> list[Block]:
    out = [H(label("s3", lang)), P(label("s3_intro", lang)), H(label("s3_common", lang), 2)]
    items = findings.common_items(result, lang, top=COMMON_SHOWN)
    out += [Block("item", text=f"{k}. {t}" if lang == "en" else f"{k}．{t}") for k, t in enumerate(items, start=1)]
    # English heads wrap only between words: their columns are as wide as their longest word
    common = (0.24, 0.07, 0.09, 0.1, 0.08, 0.09, 0.33) if lang == "zh" else (0.2, 0.11, 0.08, 0.09, 0.08, 0.1, 0.34)
    out += T(findings.common_table(result, lang, top=12), widths=common)
    own = (0.2, 0.72, 0.08) if lang == "zh" else (0.2, 0.7, 0.1)
    out += [H(label("s3_own", lang), 2)] + T(findings.own_problems_table(result, lang), widths=own)
    return out


def recommendations(result: EvaluationResult, lang: str) -> list[Block]:
    out = [H(label("s4", lang)), P(label("s4_intro", lang, deadline=findings.deadline_text(result, lang)))]
    recs = findings.recommendations(result, lang)
    deps = result.departments
    failing = deps[(deps["grade"] == _lowest_grade(result)) & deps["index"].notna()]
    if len(failing):
        recs.append(label("s4_d_grade", lang, names=findings.names_text(result, list(failing["department_id"]), lang,
                                                                         limit=10)))
    out += [Block("item", text=f"{k}. {t}" if lang == "en" else f"（{_cn(k)}）{t}") for k, t in
            enumerate(recs, start=1)]
    if result.context is None or result.context.report_date is None:
        out.append(P(label("deadline_note_missing", lang), "note"))
    return out


def _lowest_grade(result: EvaluationResult) -> str:
    return min(result.framework.grades, key=lambda b: b.min).grade


def _cn(k: int) -> str:
    digits = "零一二三四五六七八九"
    if k < 10:
        return digits[k]
    if k < 20:
        return "十" + (digits[k % 10] if k % 10 else "")
    return digits[k // 10] + "十" + (digits[k % 10] if k % 10 else "")


# ---------------------------------------------------------------------------
# 附录：方法说明与稳健性
# ---------------------------------------------------------------------------

def appendix(result: EvaluationResult, lang: str) -> list[Block]:
    level = level_text(result.level)
    n_dims = result.dimensions["dimension_id"].nunique()
    out = [H(label("sa", lang)), H(label("app_method", lang), 2)]
    out += [P(t) for t in method_facts(result, lang)]
    ahp = sections.ahp_table(result, lang)
    if ahp is not None:
        out += [H(label("sec_method_weights", lang), 3)] + T(ahp) + [P(sections.ahp_note(result, lang), "note")]
    out += [H(label("sec_weights", lang), 3)] + T(weights_table(result, lang), widths=(0.1, 0.6, 0.15, 0.15),
                                                  options={"bold_rows": (n_dims,)})
    out += [H(label("sec_effective_weights", lang), 3)] + T(sections.indicator_weights_table(result, lang),
                                                            widths=(0.08, 0.48, 0.1, 0.1, 0.12, 0.12))
    out += [P(label("ew_note", lang), "note"), PAGE]

    out += [H(label("app_sampling", lang), 2)] + F(sections.sampling_facts(result, lang))
    rel = sections.reliability_table(result, lang)
    ir, ag = sections.interrater_facts(result, lang), sections.agreement_facts(result, lang)
    if rel is not None or ir or ag:
        out += [H(label("sec_reliability", lang), 3)]
        if rel is not None:
            out += T(rel, flexible=(0,)) + [P(label("reliability_note", lang), "note")]
        out += [H(label("interrater_title", lang), 3)]
        if ir:
            out += F(ir)
            low = sections.interrater_low_items(result, lang)
            out += [P(low)] if low else []
        else:
            out.append(P(label("ir_none", lang)))
        out += [H(label("agreement_title", lang), 3)] + (F(ag) if ag else [P(label("ag_none", lang))])

    choices = sections.sensitivity_choice_table(result, lang)
    bands = sections.sensitivity_band_data(result, lang)
    if choices is not None or bands is not None:
        n = sections.n_variants(result)
        out += [PAGE, H(label("app_sensitivity", lang), 2), P(label("sens_note", lang, n=n if n is not None else "—"))]
        driver = sections.sensitivity_driver(result, lang)
        out += [P(driver)] if driver else []
        if choices is not None:
            out += T(choices, flexible=(0, 1)) + [P(label("sens_indices_note", lang), "note")]
        if bands is not None:
            out += [Block("keep", options={"height": 240}), H(label("sens_band_title", lang), 3),
                    P(label("sens_band_legend", lang), "note")]
            out += [C("rank_band", part, "sensitivity" + (f"_{k + 1}" if len(bands) > ROWS_PER_CHART else ""),
                      n_departments=len(result.departments), row_height=min(10.5, 560 / max(1, len(part))))
                    for k, part in enumerate(_chunks(bands))]

    funnel = sections.optional_table(result.robustness, "funnel")
    shrink = sections.shrinkage_table(result, lang)
    if funnel is not None or (shrink is not None and shrink.rows):
        out += [PAGE, H(label("app_small", lang), 2)]
        if funnel is not None:
            od = funnel["overdispersion"].iloc[0]
            names = dict(zip(result.departments["department_id"].astype(str),
                             result.departments[name_column("department", lang)].astype(str)))
            out += [P(label("funnel_note", lang, od=label("funnel_od", lang) if od not in ("none", "") else ""),
                      "note"),
                    C("funnel", funnel, "funnel", limits=result.robustness.funnel_limits, names=names, height=280),
                    P(sections.funnel_outside(result, lang) or "")]
        if shrink is not None and shrink.rows:
            out += [H(label("sec_shrinkage", lang), 3), P(label("shrink_note", lang), "note")] + T(shrink)

    heat = dimension_table(result, lang)
    legend = []
    if lang == "en":
        # English dimension names do not fit a narrow column without breaking words: ids above, names below
        ids = [h.split(" ", 1)[0] for h in heat.headers[3:]]
        legend = [P(findings.sep(lang).join(heat.headers[3:]), "note")]
        heat = TableSpec(heat.headers[:3] + ids, heat.kinds, heat.rows)
    out += [PAGE, H(label("app_heatmap", lang), 2)] + T(heat, widths=_heat_widths(heat),
                                                        options={"fills": _heat_fills(heat)}) + legend

    if result.trends is not None:
        out += [PAGE, H(label("app_trends", lang), 2)]
        years = sorted(int(y) for y in result.trends.series["year"].unique())
        out += [P(label("history_years", lang, years=", ".join(map(str, years))))]
        out += [P(t) for t in _mapping_notes(result, lang)]
        out += F(sections.change_facts(result, lang))
        for which, key in (("improved", "most_improved"), ("declined", "most_declined")):
            spec = sections.movers_table(result, lang, which)
            out += [H(label(key, lang), 3)]
            out += (T(spec, widths=(0.3, 0.1, 0.1, 0.1, 0.22, 0.18)) if spec is not None and spec.rows
                    else [P(label("no_movers", lang))])
        data = sections.change_chart_data(result, lang)
        if data is not None:
            span = np.nanmax(np.abs(data[["ci_low", "ci_high", "index"]].to_numpy(float)))
            span = float(np.ceil(span + 0.5)) if np.isfinite(span) else 5.0
            out += [Block("keep", options={"height": 200}),
                    H(label("change_chart_title", lang, level=level, method=adjustment_label(result, lang)), 3)]
            out += [C("ranking", part, "change" + (f"_{k + 1}" if len(data) > 43 else ""),
                      row_height=min(11.0, 480 / max(1, len(part))), x_range=(-span, span), edges=(),
                      reference=0.0, signed=True, group_names=category_names(result.departments, lang))
                    for k, part in enumerate(_chunks(data, 43))]
        out.append(P(sections.trends_note(result, lang), "note"))

    out += [PAGE, H(label("app_quality", lang), 2)] + F(sections.quality_facts(result, lang), columns=3)
    out += T(sections.quality_table(result, lang), flexible=(0,))
    flags = flag_summary(result, lang)
    out += T(flags, widths=(0.2, 0.15, 0.65)) if flags.rows else [P(label("no_flags", lang))]

    app = appendix_table(result, lang)
    cats = category_names(result.departments, lang)
    legend = findings.sep(lang).join(f"{c} {n}" for c, n in sorted(cats.items()))
    out += [PAGE, H(label("app_results", lang), 2)] + T(app, flexible=(app.headers.index(label("department", lang)),))
    out += [P(f"{label('category', lang)}: {legend}", "note")]
    out += [H(label("app_manifest", lang), 2)] + F(manifest_facts(result, lang), columns=1)
    return out


def _mapping_notes(result: EvaluationResult, lang: str) -> list[str]:
    """Departments compared with predecessors, new ones and those not evaluated last year, in words."""
    changes = result.trends.changes
    rows = changes[changes["measure"] == "index"]
    names = findings.department_names(result, lang)
    out = []
    for r in rows.itertuples(index=False):
        preds = [names.get(x, x) for x in str(r.predecessors or "").split(";") if x]
        flags = str(r.flags or "").split(";")
        name = names.get(r.department_id, r.department_id)
        if r.mapping == "new":
            dep = {d.id: d for d in result.framework.departments}.get(r.department_id)
            text = (label("change_new_since", lang, year=dep.first_year) if dep is not None and dep.first_year
                    else label("change_new", lang))
        elif "previous_not_evaluated" in flags:
            text = label("change_previous_missing", lang, year=int(result.trends.previous_year))
        elif r.mapping == "merge" and preds:
            text = label("change_merged", lang, names=findings.listing(preds, lang))
        elif r.mapping == "rename" and preds:
            text = label("change_renamed", lang, names=preds[0])
        else:
            continue
        out.append(f"{name}：{text}。" if lang == "zh" else f"{name}: {text}.")
    return out


def _heat_widths(spec: TableSpec) -> tuple:
    n_dims = len(spec.headers) - 3
    name = 0.26
    rest = (1 - name - 0.06) / (n_dims + 1)
    return (0.06, name) + (rest,) * (n_dims + 1)


def _heat_fills(spec: TableSpec) -> dict:
    """Background of every score cell: white to blue from the lowest score shown to 100."""
    values = np.array([[np.nan if missing(v) else float(v) for v in row[2:]] for row in spec.rows], dtype=float)
    lo = float(np.nanmin(values)) if np.isfinite(values).any() else 0.0
    return {(i, j + 2): heat_hex(v, lo, 100.0) for i, row in enumerate(values) for j, v in enumerate(row)
            if np.isfinite(v)}
