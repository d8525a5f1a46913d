"""The city report: every department's results, as an A4 PDF and a workbook.

The PDF has a cover, the scope and method (dimension weights, weighting
method, grade bands, gates), the ranking with intervals overall and within
each comparison category, the grade distribution, the dimension scores of all
departments, a data-quality summary and an appendix table of all departments.
The workbook holds the same tables as numbers (ranking with conditional
formatting, dimensions, indicators, quality, methodology and weights,
manifest).  Both are built from the :class:`~reports.layout.TableSpec` tables
below, so they cannot disagree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from reports import layout, workbook
from reports.charts import grade_counts, ranking_data
from reports.labels import check_lang, flag_text, label, name_column, split_flags
from reports.layout import Fact, TableSpec, fmt_interval
from reports.scorecard import channel_name, manifest_facts, method_notes


def _names(frame: pd.DataFrame, base: str, lang: str) -> pd.Series:
    return frame[name_column(base, lang)].astype(str)


def _category_names(departments: pd.DataFrame, lang: str) -> dict:
    first = departments.drop_duplicates("category")
    return dict(zip(first["category"].astype(str), _names(first, "category_name", lang)))


def ranking_table(result, lang: str, *, history=None) -> TableSpec:
    """All departments in ranking order: rank (interval), name, category, index, interval, grade, samples."""
    deps = result.departments
    order = ranking_data(deps, lang=lang)["department_id"]
    d = deps.set_index(deps["department_id"].astype(str)).loc[order]
    hist = layout.history_frame(history)
    year = int(getattr(result, "year", 0))
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
        (label("rank_in_category", lang), "int", d.get("rank_in_category")),
        (f"{label('rank_in_category', lang)} · {label('ci_low', lang)}", "int", d.get("rank_in_category_low")),
        (f"{label('rank_in_category', lang)} · {label('ci_high', lang)}", "int", d.get("rank_in_category_high")),
        (label("change", lang), "points",
         pd.Series([layout.index_change(deps, hist, dep, year) for dep in d.index], index=d.index)
         if ("change" in deps or hist is not None) else None),
        (label("n_survey", lang), "int", d.get("n_survey")),
        (label("n_callback", lang), "int", d.get("n_callback")),
        (label("n_visit", lang), "int", d.get("n_visit")),
        (label("flags", lang), "text", d.get("flags")),
    ]
    cols = [c for c in cols if c[2] is not None]
    rows = [list(r) for r in zip(*[list(c[2]) for c in cols])]
    return TableSpec([c[0] for c in cols], [c[1] for c in cols], rows)


def appendix_table(result, lang: str, *, history=None) -> TableSpec:
    """The printed appendix: ranking order, intervals shown as text ranges."""
    deps = result.departments
    order = ranking_data(deps, lang=lang)["department_id"]
    d = deps.set_index(deps["department_id"].astype(str)).loc[order]
    hist = layout.history_frame(history)
    year = int(getattr(result, "year", 0))

    def span(low, high, digits):
        if low not in d or high not in d:
            return None
        return [fmt_interval(a, b, digits) for a, b in zip(d[low], d[high])]

    grade = [f"{g} {n}" + (f" · {label('borderline', lang)}" if bool(b) else "")
             for g, n, b in zip(d["grade"], d[name_column("grade_name", lang)],
                                d["borderline"] if "borderline" in d else [False] * len(d))]
    level = layout.level_text(layout.confidence_level(result))
    cols = [
        (label("rank", lang), "int", d.get("rank")),
        (label("rank_interval", lang), "text", span("rank_low", "rank_high", 0)),
        (label("department", lang), "text", _names(d, "department", lang)),
        (label("category_code", lang), "text", d["category"].astype(str)),
        (label("index", lang), "score", d["index"]),
        (label("interval", lang, level=level), "text", span("ci_low", "ci_high", 1)),
        (label("grade", lang), "text", grade),
        (label("rank_in_category", lang), "int", d.get("rank_in_category")),
        (label("rank_interval", lang) + " ", "text", span("rank_in_category_low", "rank_in_category_high", 0)),
        (label("change_short", lang), "points",
         [layout.index_change(deps, hist, dep, year) for dep in d.index]
         if ("change" in deps or hist is not None) else None),
        (label("n_survey", lang), "int", d.get("n_survey")),
        (label("n_callback", lang), "int", d.get("n_callback")),
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


def indicator_weights_table(result, lang: str) -> TableSpec:
    inds = layout.natural_order(result.indicators.drop_duplicates("indicator_id"), "indicator_id")
    rows = [[r["indicator_id"], r[name_column("indicator", lang)], r["dimension_id"], channel_name(r["channel"], lang),
             r["weight"]]
            for _, r in inds.iterrows()]
    return TableSpec([label("id", lang), label("indicator", lang), label("dimension", lang), label("channel", lang),
                      label("weight", lang)], ["text", "text", "text", "text", "weight"], rows)


def quality_table(result, lang: str) -> TableSpec:
    """Per department: samples, callback completion, wrong numbers, G1, G2, flags."""
    deps = result.departments
    order = ranking_data(deps, lang=lang)
    quality = getattr(result, "quality", None)
    q = (quality.set_index(quality["department_id"].astype(str)) if quality is not None and len(quality)
         else pd.DataFrame(index=pd.Index([], dtype=str)))
    d = deps.set_index(deps["department_id"].astype(str))
    fields = [("n_survey", "int", d), ("n_callback", "int", d), ("callback_completion", "share", q),
              ("wrong_number_rate", "share", q), ("never_handled_rate", "share", q),
              ("g1_authenticity", "percent", q), ("g2_gap", "points", q), ("haocha_good_rate", "share", q)]
    fields = [f for f in fields if f[0] in f[2].columns]
    headers = [label("department", lang)] + [label(f, lang) for f, _, _ in fields] + [label("flags", lang)]
    rows = []
    for r in order.itertuples(index=False):
        line = [r.name] + [src[f].get(r.department_id, np.nan) for f, _, src in fields]
        line.append("; ".join(split_flags(d["flags"].get(r.department_id, ""))) if "flags" in d else "")
        rows.append(line)
    return TableSpec(headers, ["text"] + [k for _, k, _ in fields] + ["text"], rows)


def flag_summary(result, lang: str) -> TableSpec:
    """Each flag code that occurs, explained in words, with the number of departments carrying it."""
    rules = layout.framework_rules(result)
    counts: dict[str, int] = {}
    for value in result.departments.get("flags", pd.Series(dtype=object)):
        for code in split_flags(value):
            counts[code] = counts.get(code, 0) + 1
    rows = [[code, flag_text(code, lang, **layout.flag_fields(rules)), n] for code, n in sorted(counts.items())]
    return TableSpec([label("flag", lang), label("meaning", lang), label("n_flagged", lang)], ["text", "text", "int"],
                     rows)


def method_facts(result, lang: str) -> list[str]:
    prov = layout.provenance(result)
    fw = getattr(result, "framework", None)
    method = prov.get("weight_method") or getattr(fw, "weight_method", None) or label("weight_method_default", lang)
    notes = method_notes(result, lang, n_indicators=int(result.indicators["indicator_id"].nunique()))
    return notes + [label("method_weights", lang, method=method), label("method_average", lang)]


# ---------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------

def _heatmap_flowable(spec: TableSpec, styles, width):
    from reports.drawings import heat_color

    values = np.array([[np.nan if layout.missing(v) else float(v) for v in row[2:]] for row in spec.rows])
    lo = np.nanmin(values) if np.isfinite(values).any() else 0.0
    extra = []
    for i, row in enumerate(values, start=1):
        for j, v in enumerate(row, start=2):
            extra.append(("BACKGROUND", (j, i), (j, i), heat_color(v, lo, 100.0)))
    n_dims = len(spec.headers) - 3
    name_w = width * 0.26
    widths = [width * 0.06, name_w] + [(width - name_w - width * 0.06) / (n_dims + 1)] * (n_dims + 1)
    return layout.pdf_table(spec, styles, widths, extra=extra)


def render_city_pdf(result, path: str | Path, *, lang: str = "zh", history=None) -> Path:
    """Write the city report as an A4 PDF; return the path (byte-identical for equal input)."""
    from reportlab.platypus import CondPageBreak, KeepTogether, PageBreak, Spacer

    from reports.drawings import grade_drawing, ranking_drawing, text_width

    check_lang(lang)
    s = layout.pdf_styles(lang)
    width = layout.content_width()
    deps = result.departments
    year = int(getattr(result, "year", 0))
    level = layout.level_text(layout.confidence_level(result))
    cats = _category_names(deps, lang)
    n_dims = result.dimensions["dimension_id"].nunique()
    n_inds = result.indicators["indicator_id"].nunique()
    prov = layout.provenance(result)

    counts = grade_counts(deps)
    summary = city_summary(result, lang)
    story = [Spacer(1, 150), layout.P(label("city_title", lang, year=year), s["cover"]), Spacer(1, 10),
             layout.P(label("city_subtitle", lang, n=len(deps), k=n_dims, m=n_inds), s["cover_sub"]),
             layout.P(f"{label('framework', lang)}: {layout.framework_name(result, lang)}", s["cover_sub"]),
             Spacer(1, 40), layout.fact_table(summary, s, width * 0.6, columns=1), Spacer(1, 30),
             layout.fact_table(manifest_facts(result, lang), s, width, columns=1), PageBreak()]

    story += [layout.P(label("sec_scope", lang), s["h1"])]
    story += [layout.P(t, s["body"]) for t in method_facts(result, lang)]
    story += [layout.P(label("sec_weights", lang), s["h2"]),
              layout.pdf_table(weights_table(result, lang), s, [width * f for f in (0.1, 0.6, 0.15, 0.15)],
                               bold_rows={n_dims})]
    story += [layout.P(label("sec_indicators", lang), s["h2"]),
              layout.pdf_table(indicator_weights_table(result, lang), s,
                               [width * f for f in (0.1, 0.55, 0.12, 0.11, 0.12)]), PageBreak()]

    data = ranking_data(deps, lang=lang)
    story += [layout.P(label("sec_ranking", lang), s["h1"]),
              layout.P(label("ranking_title", lang, level=level), s["note"]),
              ranking_drawing(data, width, lang=lang, group_names=cats, row_height=min(13.0, 640 / max(1, len(data)))),
              PageBreak(), layout.P(label("sec_ranking_category", lang), s["h1"])]
    label_width = min(width * 0.36, max(text_width(str(n), 7.0) for n in data["name"]) + 22)
    lo = np.floor(np.nanmin(data[["ci_low", "index"]].to_numpy(float))) - 0.5
    hi = np.ceil(np.nanmax(data[["ci_high", "index"]].to_numpy(float))) + 0.5
    for cat in sorted(cats, key=str):
        sub = ranking_data(deps, lang=lang, category=cat)
        sub["group"] = cat
        story.append(KeepTogether([layout.P(f"{cat} {cats[cat]}", s["h2"]),
                                   ranking_drawing(sub, width, lang=lang, x_range=(lo, hi), row_height=11.0,
                                                   label_width=label_width,
                                                   rank_column="rank_in_category")]))

    spec = TableSpec([label("category", lang)] + list(counts.columns) + [label("total", lang)],
                     ["text"] + ["int"] * (len(counts.columns) + 1),
                     [[f"{c} {cats.get(c, c)}"] + [int(v) for v in counts.loc[c]] + [int(counts.loc[c].sum())]
                      for c in counts.index]
                     + [[label("total", lang)] + [int(v) for v in counts.sum()] + [int(counts.to_numpy().sum())]])
    story += [CondPageBreak(260), layout.P(label("sec_grades", lang), s["h1"]),
              grade_drawing(counts, width * 0.7, 170, lang=lang, group_names=cats), Spacer(1, 6),
              layout.pdf_table(spec, s, [width * 0.4] + [width * 0.6 / (len(counts.columns) + 1)]
                               * (len(counts.columns) + 1), bold_rows={len(counts.index)}), PageBreak()]

    story += [layout.P(label("sec_heatmap", lang), s["h1"]), _heatmap_flowable(dimension_table(result, lang), s, width),
              PageBreak()]

    qspec = quality_table(result, lang)
    n_cols = len(qspec.headers)
    story += [layout.P(label("sec_city_quality", lang), s["h1"]),
              layout.pdf_table(qspec, s, layout.auto_widths(qspec, width, flexible=[0, n_cols - 1], lang=lang))]
    flags = flag_summary(result, lang)
    if flags.rows:
        story += [Spacer(1, 6), layout.pdf_table(flags, s, [width * 0.2, width * 0.65, width * 0.15])]
    else:
        story.append(layout.P(label("no_flags", lang), s["body"]))
    story.append(PageBreak())

    app = appendix_table(result, lang, history=history)
    legend = ("；" if lang == "zh" else "; ").join(f"{c} {n}" for c, n in sorted(cats.items()))
    story += [layout.P(label("sec_appendix", lang), s["h1"]),
              layout.pdf_table(app, s, layout.auto_widths(app, width, flexible=[app.headers.index(
                  label("department", lang))], lang=lang)),
              Spacer(1, 3), layout.P(f"{label('category', lang)}: {legend}", s["note"])]

    footer = label("footer", lang, version=prov.get("toolkit_version", ""), hash=layout.manifest_hash(prov)[:12])
    return layout.build_pdf(Path(path), story, title=label("city_title", lang, year=year),
                            subject=label("city_title", lang, year=year), footer=footer, lang=lang)


# ---------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------

def render_city_xlsx(result, path: str | Path, *, lang: str = "zh", history=None) -> Path:
    """Write the city workbook; return the path (byte-identical for equal input).

    Sheets: ranking (frozen header and name columns, colour scale on the index,
    grade fills), dimensions (colour scale), indicators (long format: one row
    per department and indicator), quality, methodology and weights, manifest.
    Numbers are stored as numbers with number formats; no cell holds a formula.
    """
    from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
    from openpyxl.styles import PatternFill
    from openpyxl.utils import get_column_letter

    from reports.charts import GRADE_COLORS
    from reports.safety import set_cell, sheet_title

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
    widths = [7 if k != "text" else 10 for k in spec.kinds]
    workbook.xlsx_table(ws, spec, widths=widths, freeze="F2")
    ws.column_dimensions[get_column_letter(spec.headers.index(label("department", lang)) + 1)].width = 28
    ws.column_dimensions[get_column_letter(spec.headers.index(label("category", lang)) + 1)].width = 24
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
    workbook.xlsx_table(ws, spec, widths=[7, 28, 9] + [16] * (len(spec.headers) - 3), freeze="C2")
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
             r["dimension_id"], r["channel"]] + [r[c] for c, _, _ in icols] for _, r in inds.iterrows()]
    workbook.write_table(ws, headers, rows, ["text"] * 6 + [k for _, _, k in icols],
                       widths=[7, 24, 7, 28, 8, 7] + [10] * len(icols), freeze="E2")
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"

    ws = sheet("sheet_quality")
    spec = quality_table(result, lang)
    workbook.xlsx_table(ws, spec, widths=[28] + [12] * (len(spec.headers) - 2) + [30], freeze="B2")
    flags = flag_summary(result, lang)
    if flags.rows:
        workbook.xlsx_table(ws, flags, start_row=len(spec.rows) + 3, freeze="B2")

    ws = sheet("sheet_method")
    row = 1
    for text in method_facts(result, lang):
        set_cell(ws.cell(row=row, column=1), text)
        row += 1
    row += 1
    spec = weights_table(result, lang)
    workbook.xlsx_table(ws, spec, start_row=row, freeze=None)
    row += len(spec.rows) + 2
    spec = indicator_weights_table(result, lang)
    workbook.xlsx_table(ws, spec, start_row=row, freeze=None)
    for col, w in zip("ABCDE", (10, 40, 10, 10, 10)):
        ws.column_dimensions[col].width = w

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


def city_summary(result, lang: str = "zh") -> list[Fact]:
    """Headline facts of the city report (number of departments, average index, grade counts)."""
    deps = result.departments
    counts = grade_counts(deps)
    facts = [Fact(label("count", lang), len(deps), "int"),
             Fact(label("city_average", lang), float(deps["index"].mean()), "score")]
    return facts + [Fact(f"{label('grade', lang)} {g}", int(counts[g].sum()), "int") for g in counts.columns]


__all__ = ["render_city_pdf", "render_city_xlsx", "ranking_table", "appendix_table", "dimension_table", "quality_table",
           "weights_table", "indicator_weights_table", "flag_summary", "city_summary"]
