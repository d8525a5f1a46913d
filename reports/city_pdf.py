"""The city report as an A4 PDF (see :mod:`reports.city` for what it contains)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from reportlab.platypus import CondPageBreak, KeepTogether, PageBreak, Spacer

from evaluation.result import EvaluationResult
from reports import city_sections as sections
from reports import pdf
from reports.chart_data import grade_counts, ranking_data
from reports.city import (appendix_table, category_names, city_summary, dimension_table, flag_summary, method_facts,
                          weights_table)
from reports.drawings import (funnel_drawing, grade_drawing, heat_color, rank_band_drawing, ranking_drawing,
                              text_width)
from reports.facts import footer, framework_name, manifest_facts, tie_groups
from reports.format import TableSpec, level_text, missing
from reports.labels import check_lang, label, name_column


def _heatmap_flowable(spec: TableSpec, styles, width):
    values = np.array([[np.nan if missing(v) else float(v) for v in row[2:]] for row in spec.rows])
    lo = np.nanmin(values) if np.isfinite(values).any() else 0.0
    cmds = []
    for i, row in enumerate(values, start=1):
        for j, v in enumerate(row, start=2):
            cmds.append(("BACKGROUND", (j, i), (j, i), heat_color(v, lo, 100.0)))
    n_dims = len(spec.headers) - 3
    name_w = width * 0.26
    widths = [width * 0.06, name_w] + [(width - name_w - width * 0.06) / (n_dims + 1)] * (n_dims + 1)
    return pdf.pdf_table(spec, styles, widths, extra=cmds)


def _table(spec: TableSpec | None, s, width, *, flexible=(0,), lang: str):
    """A TableSpec with widths fitted to its content (smaller type if it must); None stays None."""
    if spec is None or not spec.rows:
        return None
    return pdf.fitted_table(spec, s, width, flexible=list(flexible), lang=lang)


def _scope_section(result, s, width, lang: str) -> list:
    n_dims = result.dimensions["dimension_id"].nunique()
    story = [pdf.P(label("sec_scope", lang), s["h1"])]
    story += [pdf.P(t, s["body"]) for t in method_facts(result, lang)]
    ahp = sections.ahp_table(result, lang)
    if ahp is not None:
        story += [pdf.P(label("sec_method_weights", lang), s["h2"]), _table(ahp, s, width, lang=lang),
                  pdf.P(sections.ahp_note(result, lang), s["note"])]
    story += [KeepTogether([pdf.P(label("sec_weights", lang), s["h2"]),
                            pdf.pdf_table(weights_table(result, lang), s,
                                             [width * f for f in (0.1, 0.6, 0.15, 0.15)], bold_rows={n_dims})])]
    inds = sections.indicator_weights_table(result, lang)
    story += [pdf.P(label("sec_effective_weights", lang), s["h2"]),
              pdf.pdf_table(inds, s, [width * f for f in (0.08, 0.48, 0.1, 0.1, 0.12, 0.12)]),
              pdf.P(label("ew_note", lang), s["note"]), PageBreak()]
    return story


def _sampling_and_reliability(result, s, width, lang: str) -> list:
    rel = sections.reliability_table(result, lang)
    ir = sections.interrater_facts(result, lang)
    ag = sections.agreement_facts(result, lang)
    story = [pdf.P(label("sec_sampling", lang), s["h1"]),
             pdf.fact_table(sections.sampling_facts(result, lang), s, width, columns=2)]
    if rel is None and not ir and not ag:
        return story
    story += [CondPageBreak(200), pdf.P(label("sec_reliability", lang), s["h1"])]
    if rel is not None:
        name_w = width * 0.3
        story += [pdf.pdf_table(rel, s, [name_w] + [(width - name_w) / (len(rel.headers) - 1)]
                                   * (len(rel.headers) - 1)),
                  pdf.P(label("reliability_note", lang), s["note"])]
    story += [pdf.P(label("interrater_title", lang), s["h2"])]
    if ir:
        story.append(pdf.fact_table(ir, s, width, columns=2))
        low = sections.interrater_low_items(result, lang)
        if low:
            story.append(pdf.P(low, s["body"]))
    else:
        story.append(pdf.P(label("ir_none", lang), s["body"]))
    story += [pdf.P(label("agreement_title", lang), s["h2"])]
    story += [pdf.fact_table(ag, s, width, columns=2)] if ag else [pdf.P(label("ag_none", lang), s["body"])]
    return story + [Spacer(1, 4)]


#: rows of a ranking-type chart on one page; longer lists (a province's hundreds of
#: departments) continue over several charts instead of shrinking rows past legibility
ROWS_PER_CHART = 55


def _chunks(frame: pd.DataFrame, size: int = ROWS_PER_CHART) -> list[pd.DataFrame]:
    return [frame.iloc[i:i + size] for i in range(0, len(frame), size)] or [frame]


def _value_range(data: pd.DataFrame) -> tuple[float, float]:
    lo = np.floor(np.nanmin(data[["ci_low", "index"]].to_numpy(float))) - 0.5
    hi = np.ceil(np.nanmax(data[["ci_high", "index"]].to_numpy(float))) + 0.5
    return lo, hi


def _ranking_section(result, s, width, lang: str, cats: dict) -> list:
    deps = result.departments
    level = level_text(result.level)
    data = ranking_data(deps, lang=lang, ties=tie_groups(result, "overall"))
    has_ties = data["tie_group"].notna().any()
    note = label("ranking_note" if has_ties else "ranking_title", lang, level=level)
    label_width = min(width * 0.36, max(text_width(str(n), 7.0) for n in data["name"]) + 22)
    lo, hi = _value_range(data)
    story = [pdf.P(label("sec_ranking", lang), s["h1"]), pdf.P(note, s["note"])]
    if len(data) <= ROWS_PER_CHART:
        story.append(ranking_drawing(data, width, lang=lang, group_names=cats,
                                     row_height=min(13.0, 620 / max(1, len(data)))))
    else:
        story += [ranking_drawing(part, width, lang=lang, group_names=cats, row_height=11.0, x_range=(lo, hi),
                                  label_width=label_width) for part in _chunks(data)]
    story += [PageBreak(), pdf.P(label("sec_ranking_category", lang), s["h1"]), pdf.P(note, s["note"])]
    cat_ties = tie_groups(result, "category")
    for cat in sorted(cats, key=str):
        sub = ranking_data(deps, lang=lang, category=cat, ties=cat_ties)
        charts = [ranking_drawing(part, width, lang=lang, x_range=(lo, hi), row_height=11.0,
                                  label_width=label_width, rank_column="rank_in_category") for part in _chunks(sub)]
        story.append(KeepTogether([pdf.P(f"{cat} {cats[cat]}", s["h2"]), charts[0]]))
        story += charts[1:]
    return story


def _grades_section(result, s, width, lang: str, cats: dict) -> list:
    counts = grade_counts(result.departments)
    spec = TableSpec([label("category", lang)] + list(counts.columns) + [label("total", lang)],
                     ["text"] + ["int"] * (len(counts.columns) + 1),
                     [[f"{c} {cats.get(c, c)}"] + [int(v) for v in counts.loc[c]] + [int(counts.loc[c].sum())]
                      for c in counts.index]
                     + [[label("total", lang)] + [int(v) for v in counts.sum()] + [int(counts.to_numpy().sum())]])
    return [CondPageBreak(260), pdf.P(label("sec_grades", lang), s["h1"]),
            grade_drawing(counts, width * 0.7, 170, lang=lang, group_names=cats), Spacer(1, 6),
            pdf.pdf_table(spec, s, [width * 0.4] + [width * 0.6 / (len(counts.columns) + 1)]
                             * (len(counts.columns) + 1), bold_rows={len(counts.index)}), Spacer(1, 10)]


def _funnel_section(result, s, width, lang: str) -> list:
    funnel = sections.optional_table(result.robustness, "funnel")
    story = []
    if funnel is not None:
        od = funnel["overdispersion"].iloc[0]
        names = dict(zip(result.departments["department_id"].astype(str),
                         result.departments[name_column("department", lang)].astype(str)))
        story += [CondPageBreak(380), pdf.P(label("sec_funnel", lang), s["h1"]),
                  pdf.P(label("funnel_note", lang, od=label("funnel_od", lang) if od not in ("none", "") else ""),
                           s["note"]),
                  funnel_drawing(funnel, result.robustness.funnel_limits, width, 300, lang=lang, names=names),
                  Spacer(1, 4), pdf.P(sections.funnel_outside(result, lang) or "", s["body"]), Spacer(1, 6)]
    shrink = sections.shrinkage_table(result, lang)
    if shrink is not None and shrink.rows:
        story += [CondPageBreak(160), pdf.P(label("sec_shrinkage", lang), s["h1"]),
                  pdf.P(label("shrink_note", lang), s["note"]), Spacer(1, 2),
                  _table(shrink, s, width, lang=lang)]
    return story + ([PageBreak()] if story else [])


def _sensitivity_section(result, s, width, lang: str) -> list:
    choices = sections.sensitivity_choice_table(result, lang)
    bands = sections.sensitivity_band_data(result, lang)
    if choices is None and bands is None:
        return []
    story = [pdf.P(label("sec_sensitivity", lang), s["h1"])]
    n = sections.n_variants(result)
    story.append(pdf.P(label("sens_note", lang, n=n if n is not None else "—"), s["body"]))
    driver = sections.sensitivity_driver(result, lang)
    if driver:
        story.append(pdf.P(driver, s["body"]))
    if choices is not None:
        story += [Spacer(1, 3), _table(choices, s, width, flexible=(0, 1), lang=lang),
                  pdf.P(label("sens_indices_note", lang), s["note"])]
    if bands is not None:
        story += [CondPageBreak(240), pdf.P(label("sens_band_title", lang), s["h2"]),
                  pdf.P(label("sens_band_legend", lang), s["note"]),
                  *[rank_band_drawing(part, width, n_departments=len(result.departments), lang=lang,
                                      row_height=min(10.5, 560 / max(1, len(part))))
                    for part in _chunks(bands)]]
    return story + [PageBreak()]


def _trends_section(result: EvaluationResult, s, width, lang: str) -> list:
    if result.trends is None:
        return []
    facts = sections.change_facts(result, lang)
    level = level_text(result.level)
    years = sorted(int(y) for y in result.trends.series["year"].unique())
    story = [pdf.P(label("sec_trends", lang), s["h1"]),
             pdf.P(label("history_years", lang, years=", ".join(map(str, years))), s["body"]),
             pdf.fact_table(facts, s, width, columns=2), Spacer(1, 4)]
    for which, key in (("improved", "most_improved"), ("declined", "most_declined")):
        spec = sections.movers_table(result, lang, which)
        story.append(pdf.P(label(key, lang), s["h2"]))
        story.append(pdf.pdf_table(spec, s, [width * f for f in (0.34, 0.11, 0.11, 0.11, 0.17, 0.16)])
                     if spec.rows else pdf.P(label("no_movers", lang), s["body"]))
    data = sections.change_chart_data(result, lang)
    if data is not None:
        span = np.nanmax(np.abs(data[["ci_low", "ci_high", "index"]].to_numpy(float)))
        span = float(np.ceil(span + 0.5)) if np.isfinite(span) else 5.0
        story += [CondPageBreak(200), pdf.P(label("change_chart_title", lang, level=level), s["h2"])]
        story += [ranking_drawing(part, width, lang=lang, row_height=min(11.0, 480 / max(1, len(part))),
                                  x_range=(-span, span), edges=(), reference=0.0, signed=True,
                                  group_names=category_names(result.departments, lang))
                  for part in _chunks(data, 43)]
    story.append(pdf.P(sections.trends_note(result, lang), s["note"]))
    return story + [PageBreak()]


def _quality_section(result, s, width, lang: str) -> list:
    story = [pdf.P(label("sec_city_quality", lang), s["h1"])]
    facts = sections.quality_facts(result, lang)
    if facts:
        story += [pdf.fact_table(facts, s, width, columns=3), Spacer(1, 4)]
    qspec = sections.quality_table(result, lang)
    story.append(pdf.fitted_table(qspec, s, width, flexible=[0], lang=lang))
    flags = flag_summary(result, lang)
    if flags.rows:
        story += [Spacer(1, 6), pdf.pdf_table(flags, s, [width * 0.2, width * 0.15, width * 0.65])]
    else:
        story.append(pdf.P(label("no_flags", lang), s["body"]))
    return story + [PageBreak()]


def render_city_pdf(result: EvaluationResult, path: str | Path, *, lang: str = "zh") -> Path:
    """Write the city report as an A4 PDF; return the path (byte-identical for equal input)."""

    check_lang(lang)
    s = pdf.pdf_styles(lang)
    width = pdf.content_width()
    deps = result.departments
    year = result.year
    cats = category_names(deps, lang)
    n_dims = result.dimensions["dimension_id"].nunique()
    n_inds = result.indicators["indicator_id"].nunique()

    story = [Spacer(1, 150), pdf.P(label("city_title", lang, year=year), s["cover"]), Spacer(1, 10),
             pdf.P(label("city_subtitle", lang, n=len(deps), k=n_dims, m=n_inds), s["cover_sub"]),
             pdf.P(f"{label('framework', lang)}: {framework_name(result, lang)}", s["cover_sub"]),
             Spacer(1, 40), pdf.fact_table(city_summary(result, lang), s, width * 0.6, columns=1), Spacer(1, 30),
             pdf.fact_table(manifest_facts(result, lang), s, width, columns=1), PageBreak()]
    story += _scope_section(result, s, width, lang)
    story += _sampling_and_reliability(result, s, width, lang) + [PageBreak()]
    story += _ranking_section(result, s, width, lang, cats)
    story += _grades_section(result, s, width, lang, cats)
    story += _funnel_section(result, s, width, lang)
    story += [pdf.P(label("sec_heatmap", lang), s["h1"]),
              _heatmap_flowable(dimension_table(result, lang), s, width), PageBreak()]
    story += _sensitivity_section(result, s, width, lang)
    story += _trends_section(result, s, width, lang)
    story += _quality_section(result, s, width, lang)

    app = appendix_table(result, lang)
    legend = ("；" if lang == "zh" else "; ").join(f"{c} {n}" for c, n in sorted(cats.items()))
    story += [pdf.P(label("sec_appendix", lang), s["h1"]),
              pdf.fitted_table(app, s, width, flexible=[app.headers.index(label("department", lang))],
                                  lang=lang),
              Spacer(1, 3), pdf.P(f"{label('category', lang)}: {legend}", s["note"])]

    return pdf.build_pdf(Path(path), story, title=label("city_title", lang, year=year),
                         subject=label("city_title", lang, year=year), footer=footer(result, lang), lang=lang)
