"""The city report: every department's results, as an A4 PDF and a workbook.

The PDF (:mod:`reports.city_pdf`) has a cover, the scope and method (weights
and the weighting method, nominal against variance-share weights, grade bands,
gates, reliability and agreement), the ranking with intervals and tie groups
overall and within each comparison category, the grade distribution, the
funnel plot with the shrinkage of small departments, the dimension scores of
all departments, the sensitivity of the ranking, the change since last year
(with history), a data-quality summary and an appendix table of all
departments.  The workbook holds the same tables as numbers (ranking with tie
groups, simultaneous intervals and conditional formatting, dimensions,
indicators, quality, small samples and funnel, sensitivity, trends,
methodology and weights with the weighting record, reliability, manifest).
Both are built from the :class:`~reports.layout.TableSpec` tables here and in
:mod:`reports.city_sections`, so they cannot disagree.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reports import city_sections as sections
from reports import layout, workbook
from reports.charts import grade_counts, ranking_data
from reports.extras import flag_short, tie_groups
from reports.labels import check_lang, flag_text, label, name_column, split_flags
from reports.layout import Fact, TableSpec, fmt_interval
from reports.scorecard import channel_name, manifest_facts, method_notes


def _names(frame: pd.DataFrame, base: str, lang: str) -> pd.Series:
    return frame[name_column(base, lang)].astype(str)


def category_names(departments: pd.DataFrame, lang: str) -> dict:
    """Category code -> category name in ``lang``."""
    first = departments.drop_duplicates("category")
    return dict(zip(first["category"].astype(str), _names(first, "category_name", lang)))


def _ordered(result, lang: str) -> pd.DataFrame:
    """Departments in ranking order, indexed by id, with the tie groups of both scopes joined."""
    deps = result.departments
    order = ranking_data(deps, lang=lang)["department_id"]
    d = deps.set_index(deps["department_id"].astype(str)).loc[order]
    for scope, prefix in (("overall", ""), ("category", "category_")):
        ties = tie_groups(result, scope)
        if ties is None:
            continue
        t = ties.set_index("department_id").reindex(d.index)
        for col in ("tie_group", "tie_group_size", "rank_sim_low", "rank_sim_high"):
            d[f"{prefix}{col}"] = t[col].to_numpy()
    return d


def _change_column(result, history, index) -> pd.Series | None:
    ch = sections.changes(result, history)
    if ch is None:
        return None
    return ch.set_index("department_id").reindex(index)["change"]


def ranking_table(result, lang: str, *, history=None) -> TableSpec:
    """All departments in ranking order: ranks with marginal and simultaneous intervals, tie groups, index."""
    d = _ordered(result, lang)
    cat_rank = label("rank_in_category", lang)
    cols: list[tuple[str, str, object]] = [
        (label("rank", lang), "int", d.get("rank")),
        (f"{label('rank_interval', lang)} · {label('ci_low', lang)}", "int", d.get("rank_low")),
        (f"{label('rank_interval', lang)} · {label('ci_high', lang)}", "int", d.get("rank_high")),
        ("ID", "text", d.index.to_series()),
        (label("department", lang), "text", _names(d, "department", lang)),
        (label("category", lang), "text", _names(d, "category_name", lang)),
        (label("index", lang), "score", d["index"]),
        (label("se", lang), "score", d.get("se")),
        (label("ci_low", lang), "score", d.get("ci_low")),
        (label("ci_high", lang), "score", d.get("ci_high")),
        (label("grade", lang), "text", d.get("grade")),
        (label("grade_name", lang), "text", d.get(name_column("grade_name", lang))),
        (label("borderline", lang), "text",
         d["borderline"].map(lambda b: label("borderline", lang) if bool(b) else "") if "borderline" in d else None),
        (label("tie_group", lang), "int", d.get("tie_group")),
        (label("tie_group_size", lang), "int", d.get("tie_group_size")),
        (f"{label('rank_sim', lang)} · {label('ci_low', lang)}", "int", d.get("rank_sim_low")),
        (f"{label('rank_sim', lang)} · {label('ci_high', lang)}", "int", d.get("rank_sim_high")),
        (label("p_top3", lang), "share", d.get("p_top3")),
        (label("p_bottom3", lang), "share", d.get("p_bottom3")),
        (cat_rank, "int", d.get("rank_in_category")),
        (f"{cat_rank} · {label('rank_interval', lang)} · {label('ci_low', lang)}", "int", d.get("rank_in_category_low")),
        (f"{cat_rank} · {label('rank_interval', lang)} · {label('ci_high', lang)}", "int",
         d.get("rank_in_category_high")),
        (f"{cat_rank} · {label('tie_group', lang)}", "int", d.get("category_tie_group")),
        (f"{cat_rank} · {label('rank_sim', lang)} · {label('ci_low', lang)}", "int", d.get("category_rank_sim_low")),
        (f"{cat_rank} · {label('rank_sim', lang)} · {label('ci_high', lang)}", "int",
         d.get("category_rank_sim_high")),
        (label("change", lang), "points", _change_column(result, history, d.index)),
        (label("n_survey", lang), "int", d.get("n_survey")),
        (label("n_callback", lang), "int", d.get("n_callback")),
        (label("n_visit", lang), "int", d.get("n_visit")),
        (label("flags", lang), "text", d["flags"].map(lambda v: flag_short(v, lang)) if "flags" in d else None),
    ]
    cols = [c for c in cols if c[2] is not None]
    rows = [list(r) for r in zip(*[list(c[2]) for c in cols])]
    return TableSpec([c[0] for c in cols], [c[1] for c in cols], rows)


def appendix_table(result, lang: str, *, history=None) -> TableSpec:
    """The printed appendix: ranking order, intervals shown as text ranges, tie groups as group numbers.

    Sample sizes are in the data-quality table; the workbook's ranking sheet has every figure.
    """
    d = _ordered(result, lang)

    def span(low, high, digits):
        if low not in d or high not in d:
            return None
        return [fmt_interval(a, b, digits) for a, b in zip(d[low], d[high])]

    def group(col):
        if col not in d:
            return None
        return [layout.DASH if layout.missing(g) else label("group_short", lang, n=int(g)) for g in d[col]]

    grade = [f"{g} {n}" + (f" · {label('borderline', lang)}" if bool(b) else "")
             for g, n, b in zip(d["grade"], d[name_column("grade_name", lang)],
                                d["borderline"] if "borderline" in d else [False] * len(d))]
    level = layout.level_text(layout.confidence_level(result))
    change = _change_column(result, history, d.index)
    cols = [
        (label("rank", lang), "int", d.get("rank")),
        (label("rank_interval", lang), "text", span("rank_low", "rank_high", 0)),
        (label("rank_sim", lang), "text", span("rank_sim_low", "rank_sim_high", 0)),
        (label("tie_group", lang), "text", group("tie_group")),
        (label("department", lang), "text", _names(d, "department", lang)),
        (label("category_code", lang), "text", d["category"].astype(str)),
        (label("index", lang), "score", d["index"]),
        (label("interval", lang, level=level), "text", span("ci_low", "ci_high", 1)),
        (label("grade", lang), "text", grade),
        (label("rank_in_category", lang), "int", d.get("rank_in_category")),
        (label("rank_interval", lang) + " ", "text", span("rank_in_category_low", "rank_in_category_high", 0)),
        (label("change_short", lang), "points", list(change) if change is not None else None),
    ]
    cols = [c for c in cols if c[2] is not None]
    rows = [list(r) for r in zip(*[list(c[2]) for c in cols])]
    return TableSpec([c[0].strip() for c in cols], [c[1] for c in cols], rows)


def dimension_table(result, lang: str) -> TableSpec:
    """Departments (ranking order) by dimension score, with the index."""
    deps, dims = result.departments, result.dimensions
    order = ranking_data(deps, lang=lang)
    wide = dims.pivot_table(index="department_id", columns="dimension_id", values="estimate", aggfunc="first")
    wide = wide.reindex(order["department_id"])
    dim_ids = sorted(wide.columns, key=layout.natural_key)
    names = dict(zip(dims["dimension_id"], _names(dims, "dimension", lang)))
    headers = [label("rank", lang), label("department", lang), label("index", lang)]
    headers += [f"{d} {names.get(d, '')}" for d in dim_ids]
    rows = [[r.rank if "rank" in order else None, r.name, r.index] + [wide.loc[r.department_id, d] for d in dim_ids]
            for r in order.itertuples(index=False)]
    return TableSpec(headers, ["int", "text", "score"] + ["score"] * len(dim_ids), rows)


def weights_table(result, lang: str) -> TableSpec:
    dims = result.dimensions.drop_duplicates("dimension_id")
    inds = result.indicators
    counts = inds.drop_duplicates(["dimension_id", "indicator_id"]).groupby("dimension_id").size()
    dims = layout.natural_order(dims, "dimension_id")
    rows = [[r["dimension_id"], r[name_column("dimension", lang)], r["weight"], int(counts.get(r["dimension_id"], 0))]
            for _, r in dims.iterrows()]
    rows.append([label("total", lang), "", float(dims["weight"].sum()), int(counts.sum())])
    return TableSpec([label("id", lang), label("dimension", lang), label("weight", lang),
                      label("n_indicators", lang)], ["text", "text", "int", "int"], rows)


def flag_summary(result, lang: str) -> TableSpec:
    """Each flag code that occurs, explained in words, with the number of departments carrying it."""
    rules = layout.framework_rules(result)
    counts: dict[str, int] = {}
    for value in result.departments.get("flags", pd.Series(dtype=object)):
        for code in split_flags(value):
            counts[code] = counts.get(code, 0) + 1
    rows = [[flag_short(code, lang), n, flag_text(code, lang, **layout.flag_fields(rules))]
            for code, n in sorted(counts.items())]
    return TableSpec([label("flag", lang), label("n_flagged", lang), label("meaning", lang)], ["text", "int", "text"],
                     rows)


def method_facts(result, lang: str) -> list[str]:
    """The method paragraphs of the city report (index, grades, gates, weighting method, averages)."""
    notes = method_notes(result, lang, n_indicators=int(result.indicators["indicator_id"].nunique()))
    return notes + [label("method_weights", lang, method=sections.weight_method_text(result, lang)),
                    label("method_average", lang)]


def render_city_pdf(result, path: str | Path, *, lang: str = "zh", history=None) -> Path:
    """Write the city report as an A4 PDF; return the path (see :func:`reports.city_pdf.render_city_pdf`)."""
    from reports.city_pdf import render_city_pdf as render

    return render(result, path, lang=lang, history=history)


# ---------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------

def render_city_xlsx(result, path: str | Path, *, lang: str = "zh", history=None) -> Path:
    """Write the city workbook; return the path (byte-identical for equal input).

    Sheets: ranking (tie groups, marginal and simultaneous rank intervals,
    frozen header and name columns, colour scale on the index, grade fills),
    dimensions (colour scale), indicators (long format: one row per
    department and indicator), quality, small samples and funnel (when the
    result has them), sensitivity (idem), trends (with ``history``),
    methodology and weights (weighting record, nominal against
    variance-share weights), reliability (idem), manifest.  Numbers are
    stored as numbers with number formats; no cell holds a formula.
    """
    from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
    from openpyxl.styles import PatternFill
    from openpyxl.utils import get_column_letter

    from reports.charts import GRADE_COLORS
    from reports.safety import sheet_title

    check_lang(lang)
    year = int(getattr(result, "year", 0))
    wb = workbook.new_workbook(label("city_title", lang, year=year))
    taken: set[str] = set()

    def sheet(key):
        ws = wb.create_sheet(sheet_title(label(key, lang), taken=taken))
        taken.add(ws.title)
        return ws

    ws = sheet("sheet_ranking")
    spec = ranking_table(result, lang, history=history)
    widths = [9 if k != "text" else 10 for k in spec.kinds]
    for key in ("department", "category"):
        j = spec.headers.index(label(key, lang))
        widths[j] = workbook.fit_width([r[j] for r in spec.rows], minimum=16)
    workbook.xlsx_table(ws, spec, widths=widths, freeze="F2")
    n = len(spec.rows) + 1
    if n > 1:
        col = get_column_letter(spec.headers.index(label("index", lang)) + 1)
        ws.conditional_formatting.add(f"{col}2:{col}{n}", ColorScaleRule(
            start_type="min", start_color="F8696B", mid_type="percentile", mid_value=50, mid_color="FFEB84",
            end_type="max", end_color="63BE7B"))
        gcol = get_column_letter(spec.headers.index(label("grade", lang)) + 1)
        for grade, color in GRADE_COLORS.items():
            ws.conditional_formatting.add(f"{gcol}2:{gcol}{n}", CellIsRule(
                operator="equal", formula=[f'"{grade}"'], fill=PatternFill("solid", bgColor=color.lstrip("#"))))
    ws.auto_filter.ref = f"A1:{get_column_letter(len(spec.headers))}{n}"

    ws = sheet("sheet_dimensions")
    spec = dimension_table(result, lang)
    workbook.xlsx_table(ws, spec, widths=[7, workbook.fit_width([r[1] for r in spec.rows], minimum=16), 9]
                        + [16] * (len(spec.headers) - 3), freeze="C2")
    if spec.rows:
        last = get_column_letter(len(spec.headers))
        ws.conditional_formatting.add(f"C2:{last}{len(spec.rows) + 1}", ColorScaleRule(
            start_type="min", start_color="F7FBFF", end_type="max", end_color="6BAED6"))

    ws = sheet("sheet_indicators")
    inds = result.indicators
    names = dict(zip(result.departments["department_id"].astype(str), _names(result.departments, "department", lang)))
    order = {d: i for i, d in enumerate(ranking_data(result.departments, lang=lang)["department_id"])}
    inds = inds.assign(_o=inds["department_id"].astype(str).map(order))
    inds = inds.iloc[sorted(range(len(inds)), key=lambda i: (inds["_o"].iloc[i],
                                                            layout.natural_key(inds["indicator_id"].iloc[i])))]
    icols = [("raw_value", "raw_value", "raw"), ("raw_se", "raw_se", "raw"), ("score", "score", "score"),
             ("se", "se", "score"), ("ci_low", "ci_low", "score"), ("ci_high", "ci_high", "score"),
             ("weight", "weight", "weight"), ("n", "n", "int"), ("top2", "top2", "share"),
             ("bottom2", "bottom2", "share")]
    icols = [c for c in icols if c[0] in inds.columns]
    headers = ["ID", label("department", lang), label("id", lang), label("indicator", lang), label("dimension", lang),
               label("channel", lang)] + [label(k, lang) for _, k, _ in icols]
    name_col = name_column("indicator", lang)
    rows = [[r["department_id"], names.get(str(r["department_id"]), ""), r["indicator_id"], r[name_col],
             r["dimension_id"], channel_name(r["channel"], lang)] + [r[c] for c, _, _ in icols] for _, r in inds.iterrows()]
    workbook.write_table(ws, headers, rows, ["text"] * 6 + [k for _, _, k in icols],
                       widths=[7, workbook.fit_width(names.values(), minimum=16), 7,
                               workbook.fit_width([r[3] for r in rows], minimum=16), 8, 9] + [10] * len(icols),
                       freeze="E2")
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"

    ws = sheet("sheet_quality")
    spec = sections.quality_table(result, lang)
    name_w = workbook.fit_width([r[0] for r in spec.rows], minimum=16)
    workbook.xlsx_table(ws, spec, widths=[name_w] + [12] * (len(spec.headers) - 2) + [30], freeze="B2")
    row = len(spec.rows) + 3
    facts = sections.quality_facts(result, lang)
    if facts:
        row = workbook.write_facts(ws, facts, start_row=row) + 1
    flags = flag_summary(result, lang)
    if flags.rows:
        workbook.xlsx_table(ws, flags, start_row=row, freeze="B2")

    small = [(label("sec_shrinkage", lang), sections.shrinkage_table(result, lang, every=True)),
             (label("sec_funnel", lang), sections.funnel_table(result, lang))]
    if any(spec is not None for _, spec in small):
        ws = sheet("sheet_shrinkage")
        _stack(ws, small, notes=[label("shrink_note", lang)],
               widths=[workbook.fit_width(_names(result.departments, "department", lang), minimum=16)] + [12] * 10)

    sens = [(label("sec_sensitivity", lang), sections.sensitivity_choice_table(result, lang)),
            (label("sens_band_title", lang), sections.sensitivity_table(result, lang)),
            (f"{label('sens_band_title', lang)} · {label('rank_in_category', lang)}",
             sections.sensitivity_table(result, lang, scope="category")),
            (f"{label('sec_sensitivity', lang)} · {label('rank_in_category', lang)}",
             sections.sensitivity_choice_table(result, lang, scope="category"))]
    if any(spec is not None for _, spec in sens):
        ws = sheet("sheet_sensitivity")
        driver = sections.sensitivity_driver(result, lang)
        _stack(ws, sens, notes=[t for t in (driver, label("sens_indices_note", lang)) if t],
               widths=[20, 44, 10, 10, 10, 10, 10, 10, 10, 10])

    trends = sections.trends_table(result, history, lang) if history is not None else None
    if trends is not None:
        ws = sheet("sheet_trends")
        widths = [7, workbook.fit_width([r[1] for r in trends.rows], minimum=16)] + [10] * (len(trends.headers) - 4)
        _stack(ws, [(label("sec_trends", lang), trends)], widths=widths + [18, 12])

    ws = sheet("sheet_method")
    for j, w in enumerate((14, 40, 14, 14, 14, 26, 12, 16), start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    row = 1
    for text in method_facts(result, lang):
        row = workbook.write_note(ws, row, text)
    ahp = sections.ahp_table(result, lang)
    notes = [sections.ahp_note(result, lang)] if ahp is not None else []
    _stack(ws, [(label("sec_weights", lang), weights_table(result, lang)),
                (label("sec_effective_weights", lang), sections.indicator_weights_table(result, lang)),
                (label("sec_method_weights", lang), ahp),
                (label("sec_method_weights", lang) + " · " + label("w_method", lang),
                 sections.weighting_record_table(result, lang))],
           notes=notes + [label("ew_note", lang)], start_row=row + 1, widths=[14, 40, 14, 14, 14, 26, 12, 16])

    rel = [(label("sec_reliability", lang), sections.reliability_table(result, lang)),
           (label("scale_item", lang), sections.reliability_table(result, lang, items=True))]
    ir, ag = sections.interrater_facts(result, lang), sections.agreement_facts(result, lang)
    if any(spec is not None for _, spec in rel) or ir or ag:
        ws = sheet("sheet_reliability")
        row = _stack(ws, rel, notes=[label("reliability_note", lang)], widths=[48, 14, 10, 14, 14, 14, 14, 14])
        for title, facts in ((label("interrater_title", lang), ir), (label("agreement_title", lang), ag)):
            if facts:
                row = workbook.write_facts(ws, facts, start_row=row, header=(title, label("value", lang))) + 1

    ws = sheet("sheet_manifest")
    facts = manifest_facts(result, lang)
    facts += [Fact(str(k), v if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v),
                   "raw" if isinstance(v, float) else ("int" if isinstance(v, int) and not isinstance(v, bool)
                                                       else "text"))
              for k, v in layout.flatten(layout.provenance(result))]
    workbook.write_facts(ws, facts, header=(label("key", lang), label("value", lang)))
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 50
    ws.column_dimensions["B"].width = 70
    return workbook.save_workbook(wb, Path(path))


def _stack(ws, parts, *, notes=(), start_row: int = 1, widths=None) -> int:
    """Titled tables one below the other (absent ones skipped), then the notes; returns the next free row."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from reports.safety import set_cell

    for j, w in enumerate(widths or [], start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    row = start_row
    for title, spec in parts:
        if spec is None:
            continue
        set_cell(ws.cell(row=row, column=1), title)
        ws.cell(row=row, column=1).font = Font(bold=True)
        workbook.xlsx_table(ws, spec, start_row=row + 1, freeze=None)
        row += len(spec.rows) + 3
    for text in notes:
        row = workbook.write_note(ws, row, text, columns=max(2, min(8, len(widths or []))))
    return row + 1


def city_summary(result, lang: str = "zh") -> list[Fact]:
    """Headline facts of the city report (number of departments, average index, grade counts)."""
    deps = result.departments
    counts = grade_counts(deps)
    facts = [Fact(label("count", lang), len(deps), "int"),
             Fact(label("city_average", lang), float(deps["index"].mean()), "score")]
    return facts + [Fact(f"{label('grade', lang)} {g}", int(counts[g].sum()), "int") for g in counts.columns]


__all__ = [
    "appendix_table",
    "city_summary",
    "dimension_table",
    "flag_summary",
    "method_facts",
    "ranking_table",
    "render_city_pdf",
    "render_city_xlsx",
    "weights_table",
]
