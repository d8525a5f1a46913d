"""What the city report shows: its tables and facts, built from the typed result (content only).

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
Both are built from the :class:`~reports.format.TableSpec` tables here and in
:mod:`reports.city_sections` (renderers: :mod:`reports.city_pdf`,
:mod:`reports.city_xlsx`), so they cannot disagree.
"""

from __future__ import annotations

import pandas as pd

from evaluation.result import EvaluationResult
from reports import city_sections as sections
from reports.chart_data import department_order, grade_counts, ranking_data
from reports.facts import flag_fields, flag_short, index_changes, method_notes, tie_groups
from reports.format import DASH, Fact, TableSpec, fmt_interval, level_text, missing, natural_key, natural_order
from reports.labels import flag_text, label, name_column, split_flags


def names_of(frame: pd.DataFrame, base: str, lang: str) -> pd.Series:
    return frame[name_column(base, lang)].astype(str)


def category_names(departments: pd.DataFrame, lang: str) -> dict:
    """Category code -> category name in ``lang``."""
    first = departments.drop_duplicates("category")
    return dict(zip(first["category"].astype(str), names_of(first, "category_name", lang)))


def _ordered(result, lang: str) -> pd.DataFrame:
    """Departments in ranking order, indexed by id, with the tie groups of both scopes joined."""
    deps = result.departments
    order = department_order(deps, lang=lang)["department_id"]
    d = deps.set_index(deps["department_id"].astype(str)).loc[order]
    for scope, prefix in (("overall", ""), ("category", "category_")):
        t = tie_groups(result, scope).set_index("department_id").reindex(d.index)
        for col in ("tie_group", "tie_group_size", "rank_sim_low", "rank_sim_high"):
            d[f"{prefix}{col}"] = t[col].to_numpy()
    return d


def _change_column(result: EvaluationResult, index) -> pd.Series | None:
    changes = index_changes(result)
    return None if changes is None else changes["change"].reindex(index)


def ranking_table(result: EvaluationResult, lang: str) -> TableSpec:
    """All departments in ranking order: ranks with marginal and simultaneous intervals, tie groups, index."""
    d = _ordered(result, lang)
    cat_rank = label("rank_in_category", lang)
    cols: list[tuple[str, str, object]] = [
        (label("rank", lang), "int", d.get("rank")),
        (f"{label('rank_interval', lang)} · {label('ci_low', lang)}", "int", d.get("rank_low")),
        (f"{label('rank_interval', lang)} · {label('ci_high', lang)}", "int", d.get("rank_high")),
        (label("id", lang), "text", d.index.to_series()),
        (label("department", lang), "text", names_of(d, "department", lang)),
        (label("category", lang), "text", names_of(d, "category_name", lang)),
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
        (label("change", lang), "points", _change_column(result, d.index)),
        (label("n_survey", lang), "int", d.get("n_survey")),
        (label("n_callback", lang), "int", d.get("n_callback")),
        (label("n_visit", lang), "int", d.get("n_visit")),
        (label("flags", lang), "text", d["flags"].map(lambda v: flag_short(v, lang)) if "flags" in d else None),
    ]
    cols = [c for c in cols if c[2] is not None]
    rows = [list(r) for r in zip(*[list(c[2]) for c in cols])]
    return TableSpec([c[0] for c in cols], [c[1] for c in cols], rows)


def appendix_table(result: EvaluationResult, lang: str) -> TableSpec:
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
        return [DASH if missing(g) else label("group_short", lang, n=int(g)) for g in d[col]]

    grade = [label("not_evaluated_row", lang, reason=label(f"reason_{r}", lang)) if missing(i) else
             f"{g} {n}" + (f" · {label('borderline', lang)}" if bool(b) else "")
             for g, n, b, i, r in zip(d["grade"], d[name_column("grade_name", lang)], d["borderline"], d["index"],
                                      d["not_evaluated_reason"])]
    level = level_text(result.level)
    change = _change_column(result, d.index)
    cols = [
        (label("rank", lang), "int", d.get("rank")),
        (label("rank_interval", lang), "text", span("rank_low", "rank_high", 0)),
        (label("rank_sim", lang), "text", span("rank_sim_low", "rank_sim_high", 0)),
        (label("tie_group", lang), "text", group("tie_group")),
        (label("department", lang), "text", names_of(d, "department", lang)),
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
    dim_ids = sorted(wide.columns, key=natural_key)
    names = dict(zip(dims["dimension_id"], names_of(dims, "dimension", lang)))
    headers = [label("rank", lang), label("department", lang), label("index", lang)]
    headers += [f"{d} {names.get(d, '')}" for d in dim_ids]
    rows = [[r.rank if "rank" in order else None, r.name, r.index] + [wide.loc[r.department_id, d] for d in dim_ids]
            for r in order.itertuples(index=False)]
    return TableSpec(headers, ["int", "text", "score"] + ["score"] * len(dim_ids), rows)


def weights_table(result, lang: str) -> TableSpec:
    dims = result.dimensions.drop_duplicates("dimension_id")
    inds = result.indicators
    counts = inds.drop_duplicates(["dimension_id", "indicator_id"]).groupby("dimension_id").size()
    dims = natural_order(dims, "dimension_id")
    rows = [[r["dimension_id"], r[name_column("dimension", lang)], r["weight"], int(counts.get(r["dimension_id"], 0))]
            for _, r in dims.iterrows()]
    rows.append([label("total", lang), "", float(dims["weight"].sum()), int(counts.sum())])
    return TableSpec([label("id", lang), label("dimension", lang), label("weight", lang),
                      label("n_indicators", lang)], ["text", "text", "int", "int"], rows)


def flag_summary(result, lang: str) -> TableSpec:
    """Each flag code that occurs, explained in words, with the number of departments carrying it."""
    counts: dict[str, int] = {}
    for value in result.departments["flags"]:
        for code in split_flags(value):
            counts[code] = counts.get(code, 0) + 1
    rows = [[flag_short(code, lang), n, flag_text(code, lang, **flag_fields(result))]
            for code, n in sorted(counts.items())]
    return TableSpec([label("flag", lang), label("n_flagged", lang), label("meaning", lang)], ["text", "int", "text"],
                     rows)


def method_facts(result, lang: str) -> list[str]:
    """The method paragraphs of the city report (index, grades, gates, weighting method, averages)."""
    notes = method_notes(result, lang, n_indicators=int(result.indicators["indicator_id"].nunique()))
    return notes + [label("method_weights", lang, method=sections.weight_method_text(result, lang)),
                    label("method_average", lang)]


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
    "weights_table",
]
