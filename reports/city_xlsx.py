"""The city report as a workbook: the same tables as the PDF, as numbers with number formats."""

from __future__ import annotations

from pathlib import Path

from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from evaluation.result import EvaluationResult
from reports import city_sections as sections
from reports import workbook
from reports.chart_data import GRADE_COLORS, ranking_data
from reports.city import (dimension_table, names_of, flag_summary, method_facts, ranking_table,
                          weights_table)
from reports import findings
from reports.city_content import CityContent
from reports.facts import adjustment_label, channel_name, manifest_facts, provenance_facts
from reports.format import TableSpec, missing, natural_key
from reports.labels import check_lang, label, name_column
from reports.safety import set_cell, sheet_title


def render_city_xlsx(result: EvaluationResult, content: CityContent, path: str | Path) -> Path:
    """Write the city workbook; return the path (byte-identical for equal input).

    ``content`` is the city report's (:func:`reports.city_content.city_content`)
    for the cover facts, so that the two documents state the same.

    Sheets: overview (cover facts, the citywide figures with intervals, the
    change of the city means with adjusted intervals), common problems (every
    finding across departments), last year's follow-up (when a returned
    整改 workbook was read), ranking (tie groups, marginal and simultaneous rank intervals,
    frozen header and name columns, colour scale on the index, grade fills),
    dimensions (colour scale), indicators (long format: one row per
    department and indicator), quality, small samples and funnel (when the
    result has them), sensitivity (idem), trends (when an earlier year is recorded),
    methodology and weights (weighting record, nominal against
    variance-share weights), reliability (idem), manifest.  Numbers are
    stored as numbers with number formats; no cell holds a formula.
    """
    lang = content.lang
    check_lang(lang)
    year = result.year
    wb = workbook.new_workbook(label("city_title", lang, year=year))
    taken: set[str] = set()

    def sheet(key):
        ws = wb.create_sheet(sheet_title(label(key, lang), taken=taken))
        taken.add(ws.title)
        return ws

    ws = sheet("sheet_overview")
    row = workbook.write_facts(ws, list(content.cover) + list(content.summary),
                               header=(label("item", lang), label("value", lang))) + 1
    row = _stack(ws, [(label("s1", lang), _city_figures(result, lang)),
                      (label("sec_trends", lang), _city_change_table(result, lang))],
                 start_row=row, widths=[30, 12, 12, 12, 12, 12, 12, 14, 14, 16])
    ws.freeze_panes = "A2"

    common = findings.common_table(result, lang)
    if common is not None:
        ws = sheet("sheet_common")
        workbook.xlsx_table(ws, common, widths=[36, 9, 11, 11, 11, 12, 80])
        workbook.write_note(ws, len(common.rows) + 3, label("s3_intro", lang), columns=7)
    if result.findings is not None and len(result.findings.follow_up):
        ws = sheet("sheet_follow_up")
        spec = _follow_up_all(result, lang)
        workbook.xlsx_table(ws, spec, widths=[24, 6, 40, 14, 14, 16, 14, 24])
        workbook.write_note(ws, len(spec.rows) + 3, findings.follow_up_summary(result, lang) or "", columns=8)

    ws = sheet("sheet_ranking")
    spec = ranking_table(result, lang)
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
    names = dict(zip(result.departments["department_id"].astype(str), names_of(result.departments, "department", lang)))
    order = {d: i for i, d in enumerate(ranking_data(result.departments, lang=lang)["department_id"])}
    inds = inds.assign(_o=inds["department_id"].astype(str).map(order))
    inds = inds.iloc[sorted(range(len(inds)), key=lambda i: (inds["_o"].iloc[i],
                                                            natural_key(inds["indicator_id"].iloc[i])))]
    icols = [("raw_value", "raw_value", "raw"), ("raw_se", "raw_se", "raw"), ("score", "score", "score"),
             ("se", "se", "score"), ("ci_low", "ci_low", "score"), ("ci_high", "ci_high", "score"),
             ("weight", "weight", "weight"), ("n", "n", "int"), ("top2", "top2", "share"),
             ("bottom2", "bottom2", "share")]
    icols = [c for c in icols if c[0] in inds.columns]
    headers = [label("department_id_head", lang), label("department", lang), label("indicator_id_head", lang),
               label("indicator", lang), label("dimension", lang), label("channel", lang)]
    headers += [label(k, lang) for _, k, _ in icols] + [label("rule", lang)]
    name_col = name_column("indicator", lang)
    specs = findings.indicator_specs(result)
    rows = [[r["department_id"], names.get(str(r["department_id"]), ""), r["indicator_id"], r[name_col],
             r["dimension_id"], channel_name(r["channel"], lang)] + [r[c] for c, _, _ in icols]
            + [findings.rule_text(specs[r["indicator_id"]], lang) if r["indicator_id"] in specs else ""]
            for _, r in inds.iterrows()]
    workbook.write_table(ws, headers, rows, ["text"] * 6 + [k for _, _, k in icols] + ["text"],
                         widths=[9, workbook.fit_width(names.values(), minimum=16), 9,
                                 workbook.fit_width([r[3] for r in rows], minimum=16), 8, 9] + [10] * len(icols)
                         + [18], freeze="E2")
    # each raw value in its unit's format: shares and rates as percentages, Likert means and minutes with a decimal
    raw_cols = [6 + k + 1 for k, (c, _, _) in enumerate(icols) if c in ("raw_value", "raw_se")]
    for i, r in enumerate(rows, start=2):
        spec_ = specs.get(str(r[2]))
        share = spec_ is not None and findings.raw_text(spec_, 0.5, lang).endswith("%")
        for col in raw_cols:
            ws.cell(row=i, column=col).number_format = workbook.XLSX_FORMATS["share" if share else "score"]
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
               widths=[workbook.fit_width(names_of(result.departments, "department", lang), minimum=16)] + [12] * 10)

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

    trends = sections.trends_table(result, lang)
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
    facts = manifest_facts(result, lang) + provenance_facts(result, lang)
    workbook.write_facts(ws, facts, header=(label("key_label", lang), label("value", lang)))
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 50
    ws.column_dimensions["B"].width = 70
    return workbook.save_workbook(wb, Path(path))


def _stack(ws, parts, *, notes=(), start_row: int = 1, widths=None) -> int:
    """Titled tables one below the other (absent ones skipped), then the notes; returns the next free row."""
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


def _city_figures(result: EvaluationResult, lang: str) -> TableSpec | None:
    """The citywide figures: index, index before gates and dimensions with intervals, reform figures (numbers)."""
    if result.findings is None:
        return None
    city = result.findings.city
    names = dict(zip(result.dimensions["dimension_id"], result.dimensions[name_column("dimension", lang)]))
    specs = findings.indicator_specs(result)
    rows = []
    for _, r in city.iterrows():
        if r["kind"] == "reform":
            spec = specs.get(result.framework.roles.reform_figures.get(r["measure"], ""))
            name = (spec.name if lang == "zh" else spec.name_en) if spec is not None else r["measure"]
        elif r["kind"] == "index":
            name = label(r["measure"], lang)
        else:
            name = f"{r['measure']} {names.get(r['measure'], '')}"
        rows.append([name, r["estimate"], r["se"], r["ci_low"], r["ci_high"], r["minimum"], r["maximum"],
                     int(r["n_departments"])])
    heads = [label("item", lang), label("estimate", lang), label("se", lang), label("ci_low", lang),
             label("ci_high", lang), label("minimum", lang), label("maximum", lang), label("count", lang)]
    return TableSpec(heads, ["text", "raw", "raw", "raw", "raw", "raw", "raw", "int"], rows)


def _city_change_table(result: EvaluationResult, lang: str) -> TableSpec | None:
    if result.trends is None or not len(result.trends.city):
        return None
    names = dict(zip(result.dimensions["dimension_id"], result.dimensions[name_column("dimension", lang)]))
    adj = f"{adjustment_label(result, lang)} {label('adjusted_interval', lang)}"
    rows = []
    for _, r in result.trends.city.iterrows():
        name = label(r["measure"], lang) if r["measure"] in ("index", "index_raw") else \
            f"{r['measure']} {names.get(r['measure'], '')}"
        verdict = "—" if missing(r["significant"]) else label(
            "significant" if bool(r["significant"]) else "not_significant", lang)
        rows.append([name, r["previous_estimate"], r["estimate"], r["change"], r["change_adj_ci_low"],
                     r["change_adj_ci_high"], r["p_adjusted"], verdict])
    heads = [label("item", lang), label("previous_index", lang), str(result.year), label("change", lang),
             f"{adj} · {label('ci_low', lang)}", f"{adj} · {label('ci_high', lang)}", label("p_adjusted", lang),
             label("significance", lang)]
    return TableSpec(heads, ["text", "score", "score", "points", "points", "points", "coef", "text"], rows)


def _follow_up_all(result: EvaluationResult, lang: str) -> TableSpec:
    """Every department's follow-up rows, department first."""
    names = findings.department_names(result, lang)
    rows = []
    for dep in result.findings.follow_up["department_id"].drop_duplicates():
        spec = findings.follow_up_table(result, dep, lang)
        rows += [[names.get(dep, dep)] + line for line in spec.rows]
    heads = [label("department", lang)] + spec.headers
    return TableSpec(heads, ["text"] + spec.kinds, rows)
