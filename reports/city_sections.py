"""Tables of the city report built from the evaluation's robustness tables and the history.

Each function returns a :class:`~reports.layout.TableSpec` (or facts, or
sentences) that the PDF and the workbook both render, so they cannot
disagree: the sensitivity of the ranking, the weighting record and the
nominal against variance-share weights, scale reliability, inter-rater and
survey–callback agreement, the shrinkage of small departments, the change
since last year and the data-quality summary.  A function returns None (or
an empty list) when the result lacks its table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reports import layout
from reports.extras import extra, flag_short
from reports.history import change_table, history_frame, movers
from reports.labels import LABELS, label, name_column
from reports.layout import Fact, TableSpec, missing, natural_key

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _dep_names(result, lang: str) -> dict:
    deps = result.departments
    return dict(zip(deps["department_id"].astype(str), deps[name_column("department", lang)].astype(str)))


def _label_or(key: str, lang: str, fallback: str) -> str:
    return label(key, lang) if key in LABELS else fallback


def _join(parts, lang: str) -> str:
    return ("；" if lang == "zh" else "; ").join(parts)


def _span(low, high) -> str:
    if missing(low) or missing(high):
        return layout.DASH
    return f"{int(low)}–{int(high)}"


# ---------------------------------------------------------------------------
# sensitivity of the ranking
# ---------------------------------------------------------------------------

def sensitivity_table(result, lang: str, *, scope: str = "overall", printed: bool = False) -> TableSpec | None:
    """Per department (published rank order): median rank, 5–95% band, best–worst, share at rank, mean shift.

    ``printed=True`` gives the bands as text ranges (the PDF); otherwise each
    bound is its own numeric column (the workbook).
    """
    sens = extra(result, "sensitivity")
    if sens is None:
        return None
    rows = sens[sens["scope"] == scope] if "scope" in sens else sens
    if not len(rows):
        return None
    rows = rows.sort_values(["nominal_rank", "department_id"], kind="mergesort")
    names = _dep_names(result, lang)
    heads = [label("nominal_rank", lang), label("department", lang)]
    kinds = ["int", "text"]
    if scope == "category":
        heads.insert(1, label("category_code", lang))
        kinds.insert(1, "text")
    heads += [label("median_rank", lang)]
    kinds += ["score"]
    if printed:
        heads += [label("rank_band", lang), label("rank_range", lang)]
        kinds += ["text", "text"]
    else:
        heads += [f"{label('rank_band', lang)} · {label('ci_low', lang)}",
                  f"{label('rank_band', lang)} · {label('ci_high', lang)}",
                  f"{label('rank_range', lang)} · {label('ci_low', lang)}",
                  f"{label('rank_range', lang)} · {label('ci_high', lang)}"]
        kinds += ["int", "int", "int", "int"]
    heads += [label("p_nominal_rank", lang), label("mean_abs_shift", lang)]
    kinds += ["share", "score"]
    out = []
    for r in rows.itertuples(index=False):
        line = [r.nominal_rank, names.get(str(r.department_id), str(r.department_id))]
        if scope == "category":
            line.insert(1, r.category)
        line.append(r.median_rank)
        if printed:
            line += [_span(r.rank_p05, r.rank_p95), _span(r.rank_min, r.rank_max)]
        else:
            line += [r.rank_p05, r.rank_p95, r.rank_min, r.rank_max]
        line += [r.p_nominal_rank, r.mean_abs_shift]
        out.append(line)
    return TableSpec(heads, kinds, out)


def sensitivity_band_data(result, lang: str) -> pd.DataFrame | None:
    """The overall sensitivity rows with names, for :func:`reports.drawings.rank_band_drawing`."""
    sens = extra(result, "sensitivity")
    if sens is None:
        return None
    rows = sens[sens["scope"] == "overall"] if "scope" in sens else sens
    if not len(rows):
        return None
    rows = rows.sort_values(["nominal_rank", "department_id"], kind="mergesort").reset_index(drop=True)
    return rows.assign(name=rows["department_id"].astype(str).map(_dep_names(result, lang)))


def options_text(choice: str, options: object, lang: str) -> str:
    """The options of a sensitivity choice in words (the evaluation stores them as codes)."""
    from reports.scorecard import channel_name

    text = "" if missing(options) else str(options)
    parts = [p for p in text.split(";") if p]
    if choice in ("indicator_weights", "dimension_weights"):
        for kind in ("dirichlet", "uniform"):
            if text.startswith(kind):
                return label(f"opt_{kind}", lang)
        return text
    if choice == "all":
        return label("opt_joint", lang)
    words = []
    for p in parts:
        if p == "none":
            words.append(label("opt_none", lang))
        elif choice == "aggregation":
            words.append(_label_or(f"opt_{p}", lang, p))
        elif choice == "likert_preset":
            words.append(_label_or(f"preset_{p}", lang, p))
        elif choice == "leave_out_channel":
            words.append(channel_name(p, lang))
        else:
            words.append(p)
    return ("、" if lang == "zh" else ", ").join(words)


def sensitivity_choice_table(result, lang: str, *, scope: str = "overall") -> TableSpec | None:
    """Per methodological choice: variants, mean and largest rank shift, share moved, Sobol-type indices."""
    summ = extra(result, "sensitivity_summary")
    if summ is None:
        return None
    rows = summ[summ["scope"] == scope] if "scope" in summ else summ
    if not len(rows):
        return None
    heads = [label(k, lang) for k in ("choice", "options", "n_variants", "mean_abs_shift", "max_abs_shift",
                                      "share_moved", "first_order", "total_order")]
    kinds = ["text", "text", "int", "coef", "int", "share", "coef", "coef"]
    out = [[_label_or(f"choice_{r.choice}", lang, str(r.choice)), options_text(r.choice, r.options, lang),
            r.n_oat_variants, r.mean_abs_rank_shift, r.max_abs_rank_shift, r.share_departments_moved,
            r.first_order, r.total_order] for r in rows.itertuples(index=False)]
    return TableSpec(heads, kinds, out)


def sensitivity_driver(result, lang: str, *, scope: str = "overall") -> str | None:
    """The sentence naming the choice with the largest total-order index."""
    summ = extra(result, "sensitivity_summary")
    if summ is None or "total_order" not in summ:
        return None
    rows = summ[(summ["scope"] == scope) & (summ["choice"] != "all")] if "scope" in summ else summ
    rows = rows[pd.to_numeric(rows["total_order"], errors="coerce").notna()]
    if not len(rows):
        return None
    top = rows.assign(_t=rows["total_order"].astype(float)).sort_values(["_t", "choice"], ascending=[False, True],
                                                                         kind="mergesort").iloc[0]
    first = layout.fmt(top["first_order"], "coef")
    return label("sens_driver", lang, choice=_label_or(f"choice_{top['choice']}", lang, str(top["choice"])),
                 total=layout.fmt(top["total_order"], "coef"), first=first)


def n_variants(result) -> int | None:
    sens = extra(result, "sensitivity")
    if sens is None or "n_variants" not in sens:
        return None
    return int(sens["n_variants"].max())


# ---------------------------------------------------------------------------
# weights and their method
# ---------------------------------------------------------------------------

def weight_method_text(result, lang: str) -> str:
    """"AHP (eigenvector method)" or "explicit expert weights", from the provenance and the weighting record."""
    prov = layout.provenance(result)
    fw = getattr(result, "framework", None)
    spec = getattr(fw, "weighting", None)
    method = prov.get("weight_method") or getattr(spec, "method", None)
    record = extra(result, "weighting")
    if method is None and record is not None and "method" in record:
        method = "ahp" if record["method"].astype(str).str.startswith("ahp").any() else "explicit"
    if method == "ahp":
        sub = ""
        if record is not None and "method" in record:
            ahp = record["method"].astype(str)
            ahp = ahp[ahp.str.startswith("ahp")]
            sub = ahp.iloc[0].split(":", 1)[-1] if len(ahp) else ""
        sub = sub or getattr(spec, "ahp_method", "eigenvector")
        return label("weight_method_ahp", lang, method=_label_or(f"ahp_{sub}", lang, sub))
    if method in (None, "explicit"):
        return label("weight_method_explicit", lang)
    return str(method)


def ahp_table(result, lang: str) -> TableSpec | None:
    """One row per AHP comparison matrix: level, items compared, CR, λmax, RI and its table (None if no AHP)."""
    from evaluation.weighting import RANDOM_INDEX_TABLES

    record = extra(result, "weighting")
    if record is None or "method" not in record:
        return None
    ahp = record[record["method"].astype(str).str.startswith("ahp")]
    if not len(ahp):
        return None
    rows = []
    for level_id, grp in ahp.groupby("level", sort=False):
        n = len(grp)
        table = str(grp["random_index_table"].iloc[0])
        ri = RANDOM_INDEX_TABLES.get(table, {}).get(n, np.nan)
        name = (label("level_dimension", lang) if level_id == "dimension"
                else label("level_indicator", lang, dim=str(level_id).split(":", 1)[-1]))
        rows.append([name, n, grp["cr"].iloc[0], grp["lambda_max"].iloc[0], ri,
                     _label_or(f"ri_{table}", lang, table)])
    heads = [label("weighting_level", lang), label("n_indicators", lang), label("cr", lang), label("lambda_max", lang),
             label("ri", lang), label("ri_table", lang)]
    return TableSpec(heads, ["text", "int", "coef", "coef", "coef", "text"], rows)


def ahp_note(result, lang: str) -> str:
    record = extra(result, "weighting")
    tables = sorted({str(t) for t in record["random_index_table"] if isinstance(t, str) and t}) if record is not None \
        else []
    spec = getattr(getattr(result, "framework", None), "weighting", None)
    max_cr = getattr(spec, "max_cr", 0.1)
    return label("ahp_note", lang, max_cr=f"{float(max_cr):g}",
                 tables=_join([_label_or(f"ri_{t}", lang, t) for t in tables], lang) or "—")


def weighting_record_table(result, lang: str) -> TableSpec | None:
    """The weighting record as it is (level, id, name, weight, method, CR, λmax, RI table), for the workbook."""
    record = extra(result, "weighting")
    if record is None:
        return None
    names = {}
    for frame, base in ((result.dimensions, "dimension"), (result.indicators, "indicator")):
        col = name_column(base, lang)
        first = frame.drop_duplicates(f"{base}_id")
        names.update(dict(zip(first[f"{base}_id"].astype(str), first[col].astype(str))))
    heads = [label("id", lang), label("indicator", lang) + " / " + label("dimension", lang),
             label("weighting_level", lang), label("weight", lang), label("w_method", lang), label("cr", lang),
             label("lambda_max", lang), label("ri_table", lang)]
    rows = []
    for r in record.itertuples(index=False):
        lvl = (label("level_dimension", lang) if r.level == "dimension"
               else label("level_indicator", lang, dim=str(r.level).split(":", 1)[-1]))
        method = str(r.method)
        method_text = (label("weight_method_explicit", lang) if method == "explicit" else
                       label("weight_method_ahp", lang, method=_label_or(f"ahp_{method.split(':', 1)[-1]}", lang,
                                                                          method)))
        table = r.random_index_table if isinstance(r.random_index_table, str) and r.random_index_table else None
        rows.append([r.id, names.get(str(r.id), ""), lvl, r.weight, method_text, r.cr, r.lambda_max,
                     _label_or(f"ri_{table}", lang, table) if table else None])
    return TableSpec(heads, ["text", "text", "text", "weight", "text", "coef", "coef", "text"], rows)


def indicator_weights_table(result, lang: str) -> TableSpec:
    """Indicators with their nominal weight and, when the result has it, their share of the index variance."""
    from reports.scorecard import channel_name

    inds = layout.natural_order(result.indicators.drop_duplicates("indicator_id"), "indicator_id")
    shares = extra(result, "weights")
    share = (shares.assign(indicator_id=shares["indicator_id"].astype(str)).set_index("indicator_id")
             if shares is not None else None)
    heads = [label("id", lang), label("indicator", lang), label("dimension", lang), label("channel", lang)]
    kinds = ["text", "text", "text", "text"]
    if share is not None:
        heads += [label("nominal_weight", lang), label("variance_share", lang)]
        kinds += ["weight", "share"]
    else:
        heads.append(label("weight", lang))
        kinds.append("weight")
    rows = []
    for _, r in inds.iterrows():
        line = [r["indicator_id"], r[name_column("indicator", lang)], r["dimension_id"],
                channel_name(r["channel"], lang)]
        if share is not None:
            iid = str(r["indicator_id"])
            nominal = share["nominal_weight"].get(iid, r["weight"]) if "nominal_weight" in share else r["weight"]
            line += [nominal, share["variance_share"].get(iid, np.nan) if "variance_share" in share else np.nan]
        else:
            line.append(r["weight"])
        rows.append(line)
    return TableSpec(heads, kinds, rows)


# ---------------------------------------------------------------------------
# reliability and agreement
# ---------------------------------------------------------------------------

def reliability_table(result, lang: str, *, items: bool = False) -> TableSpec | None:
    """Scale rows (k, n, α raw/standardised/weighted, ω) or, with ``items``, the item rows."""
    rel = extra(result, "reliability")
    if rel is None:
        return None
    scale_col = name_column("scale", lang)
    if items:
        rows = rel[rel["level"] == "item"]
        heads = [label("scale", lang), label("scale_item", lang), label("id", lang), label("item_total_corr", lang),
                 label("alpha_if_deleted", lang), f"{label('item_total_corr', lang)} · {label('alpha_weighted', lang)}",
                 f"{label('alpha_if_deleted', lang)} · {label('alpha_weighted', lang)}"]
        out = [[r[scale_col], r["item"], r["indicator_id"], r["item_total_corr"], r["alpha_if_deleted"],
                r["item_total_corr_weighted"], r["alpha_if_deleted_weighted"]] for _, r in rows.iterrows()]
        return TableSpec(heads, ["text", "text", "text", "coef", "coef", "coef", "coef"], out)
    rows = rel[rel["level"] == "scale"]
    heads = [label(k, lang) for k in ("scale", "k_items", "n_complete", "alpha", "alpha_std", "alpha_weighted",
                                      "omega", "omega_weighted")]
    out = [[r[scale_col], r["k"], r["n"], r["alpha"], r["alpha_standardized"], r["alpha_weighted"], r["omega_total"],
            r["omega_total_weighted"]] for _, r in rows.iterrows()]
    return TableSpec(heads, ["text", "int", "int", "coef", "coef", "coef", "coef", "coef"], out)


def interrater_facts(result, lang: str) -> list[Fact]:
    """Double-rated visits, Krippendorff's α and ICC of the checklist score, α of waits and of the items."""
    ir = extra(result, "interrater")
    if ir is None:
        return []
    by = ir.set_index("measure")
    facts = [Fact(label("ir_double", lang), ir["n_double_rated"].max(), "int")]
    if "checklist_score" in by.index:
        row = by.loc["checklist_score"]
        facts += [Fact(label("ir_checklist_alpha", lang), row["alpha"], "coef"),
                  Fact(label("ir_icc1", lang), row["icc"], "coef"), Fact(label("ir_icck", lang), row["icc_k"], "coef")]
    if "wait_minutes" in by.index:
        facts.append(Fact(label("ir_wait_alpha", lang), by.loc["wait_minutes", "alpha"], "coef"))
    items = ir[ir["level"] == "ordinal"]
    if len(items):
        alphas = pd.to_numeric(items["alpha"], errors="coerce")
        facts.append(Fact(label("ir_items_median", lang, n=len(items)), float(alphas.median()), "coef"))
    return facts


def interrater_low_items(result, lang: str) -> str | None:
    """The checklist items whose Krippendorff's α is below 0.667, with their α, as one sentence."""
    ir = extra(result, "interrater")
    if ir is None:
        return None
    items = ir[ir["level"] == "ordinal"].assign(a=lambda f: pd.to_numeric(f["alpha"], errors="coerce"))
    low = items[items["a"] < 0.667].sort_values(["a", "measure"], kind="mergesort")
    if not len(items):
        return None
    text = _join([f"{m} ({layout.fmt(a, 'coef')})" for m, a in zip(low["measure"], low["a"])], lang) \
        if len(low) else label("no_movers", lang)
    return f"{label('ir_items_low', lang)}{'：' if lang == 'zh' else ': '}{text}"


def sampling_facts(result, lang: str) -> list[Fact]:
    """Completed interviews and visits summed over departments, and the city medians of the callback rates."""
    deps = result.departments
    facts = [Fact(label("count", lang), len(deps), "int")]
    for col, key in (("n_survey", "n_survey"), ("n_callback", "n_callback"), ("n_visit", "n_visit")):
        if col in deps:
            facts.append(Fact(f"{label(key, lang)}{label('sum_suffix', lang)}",
                              int(pd.to_numeric(deps[col], errors="coerce").sum()), "int"))
    return facts + quality_facts(result, lang)


def agreement_facts(result, lang: str) -> list[Fact]:
    """Survey against callback overall satisfaction across departments (correlations, mean difference, LoA)."""
    ag = extra(result, "agreement")
    if ag is None:
        return []
    r = ag.iloc[0]
    level = layout.level_text(r["level"] if "level" in r and not missing(r["level"]) else 0.95)
    return [
        Fact(label("ag_pair", lang), f"{r['survey_indicator']} / {r['callback_indicator']}", "text"),
        Fact(label("ag_n", lang), r["n"], "int"),
        Fact(label("ag_pearson", lang), r["pearson_r"], "coef"),
        Fact(label("ag_spearman", lang), r["spearman_rho"], "coef"),
        Fact(label("ag_mean_diff", lang), r["mean_diff"], "points"),
        Fact(label("ag_mean_diff_ci", lang, level=level),
             f"{layout.fmt(r['mean_diff_ci_low'], 'points')} … {layout.fmt(r['mean_diff_ci_high'], 'points')}", "text"),
        Fact(label("ag_loa", lang), f"{layout.fmt(r['loa_low'], 'points')} … {layout.fmt(r['loa_high'], 'points')}",
             "text"),
    ]


# ---------------------------------------------------------------------------
# small departments
# ---------------------------------------------------------------------------

def shrinkage_table(result, lang: str, *, top: int = 6, every: bool = False) -> TableSpec | None:
    """Departments shrunk most toward their category mean (and every small-sample one); all with ``every``."""
    sh = extra(result, "shrinkage")
    if sh is None:
        return None
    sh = sh.assign(department_id=sh["department_id"].astype(str))
    small = sh["small_sample"].map(lambda v: str(v).lower() in ("true", "1")) if "small_sample" in sh else False
    sh = sh.assign(is_small=small, b_sort=sh["shrinkage"].astype(float))
    ordered = sh.sort_values(["b_sort", "department_id"], ascending=[False, True], kind="mergesort")
    picked = ordered if every else ordered[ordered["is_small"] | ordered.index.isin(ordered.index[:top])]
    deps = result.departments.set_index(result.departments["department_id"].astype(str))
    names = _dep_names(result, lang)
    heads = [label("department", lang), label("category_code", lang), label("n_survey", lang),
             label("n_callback", lang), label("index", lang), label("se", lang), label("category_mean", lang),
             label("shrinkage_factor", lang), label("shrunk", lang), label("shrunk_se", lang),
             label("small_sample", lang)]
    rows = [[names.get(r.department_id, r.department_id), r.category,
             deps["n_survey"].get(r.department_id) if "n_survey" in deps else None,
             deps["n_callback"].get(r.department_id) if "n_callback" in deps else None,
             r.index, r.se, r.category_mean, r.shrinkage, r.shrunk, r.shrunk_se,
             label("yes" if r.is_small else "no", lang)] for r in picked.itertuples(index=False)]
    return TableSpec(heads, ["text", "text", "int", "int", "score", "score", "score", "coef", "score", "score",
                             "text"], rows)


def funnel_table(result, lang: str) -> TableSpec | None:
    """Each department's respondents, index, control limits at its n and position (workbook)."""
    fu = extra(result, "funnel")
    if fu is None:
        return None
    names = _dep_names(result, lang)
    fu = fu.sort_values(["n", "department_id"], kind="mergesort")
    heads = [label("department", lang), label("funnel_n", lang), label("index", lang), label("city_mean", lang),
             f"{label('control_limits', lang)} 95% · {label('ci_low', lang)}",
             f"{label('control_limits', lang)} 95% · {label('ci_high', lang)}",
             f"{label('control_limits', lang)} 99.8% · {label('ci_low', lang)}",
             f"{label('control_limits', lang)} 99.8% · {label('ci_high', lang)}", label("position", lang)]
    rows = [[names.get(str(r.department_id), str(r.department_id)), r.n, r.index, r.city_mean, r.lower95, r.upper95,
             r.lower998, r.upper998, _label_or(f"pos_{r.position}", lang, str(r.position))]
            for r in fu.itertuples(index=False)]
    return TableSpec(heads, ["text", "int", "score", "score", "score", "score", "score", "score", "text"], rows)


def funnel_outside(result, lang: str) -> str | None:
    fu = extra(result, "funnel")
    if fu is None or "position" not in fu:
        return None
    names = _dep_names(result, lang)
    out = fu[fu["position"].astype(str) != "within"].sort_values(["index", "department_id"], kind="mergesort")
    if not len(out):
        return label("funnel_all_within", lang)
    parts = [f"{names.get(str(r.department_id), r.department_id)}（{label(f'pos_{r.position}', lang)}）"
             if lang == "zh" else f"{names.get(str(r.department_id), r.department_id)} ({label(f'pos_{r.position}', lang)})"
             for r in out.itertuples(index=False)]
    return label("funnel_outside", lang, names=_join(parts, lang) if lang == "zh" else "; ".join(parts))


# ---------------------------------------------------------------------------
# change since last year
# ---------------------------------------------------------------------------

def changes(result, history) -> pd.DataFrame | None:
    """:func:`reports.history.change_table` of the result's departments (None without history)."""
    if history is None and "change" not in result.departments:
        return None
    return change_table(result.departments, history, int(getattr(result, "year", 0)),
                        level=layout.confidence_level(result))


def _significance(row, lang: str) -> str:
    if row["comparable"] is False:
        return label("not_comparable", lang)
    if row["significant"] is None or missing(row["significant"]):
        return layout.DASH
    return label("significant" if row["significant"] else "not_significant", lang)


def movers_table(result, history, lang: str, which: str) -> TableSpec | None:
    """The three most improved (``which="improved"``) or declined departments with interval and significance."""
    ch = changes(result, history)
    if ch is None:
        return None
    picked = movers(ch)[which]
    names = _dep_names(result, lang)
    now = result.departments.set_index(result.departments["department_id"].astype(str))["index"]
    heads = [label("department", lang), label("previous_index", lang), label("index", lang), label("change", lang),
             label("change_interval", lang, level=layout.level_text(layout.confidence_level(result)), interval="")
             .strip(), label("significance", lang)]
    rows = [[names.get(r["department_id"], r["department_id"]), r["previous_index"], now.get(r["department_id"]),
             r["change"], layout.fmt_change_interval(r["change_ci_low"], r["change_ci_high"]),
             _significance(r, lang)]
            for _, r in picked.iterrows()]
    return TableSpec(heads, ["text", "score", "score", "points", "text", "text"], rows)


def change_chart_data(result, history, lang: str) -> pd.DataFrame | None:
    """Departments with a known change, largest first, shaped for :func:`reports.drawings.ranking_drawing`."""
    ch = changes(result, history)
    if ch is None:
        return None
    deps = result.departments.assign(department_id=result.departments["department_id"].astype(str))
    data = ch.merge(deps[["department_id", "category"]], on="department_id")
    data = data[data["change"].notna()]
    if not len(data):
        return None
    out = pd.DataFrame({"department_id": data["department_id"].to_numpy(),
                        "name": data["department_id"].map(_dep_names(result, lang)).to_numpy(),
                        "category": data["category"].astype(str).to_numpy(),
                        "index": data["change"].astype(float).to_numpy(),
                        "ci_low": data["change_ci_low"].astype(float).to_numpy(),
                        "ci_high": data["change_ci_high"].astype(float).to_numpy()})
    out["group"] = out["category"]
    out["tie_group"] = np.nan
    out = out.sort_values(["index", "department_id"], ascending=[False, True], kind="mergesort")
    out["rank"] = np.arange(1, len(out) + 1)
    return out.reset_index(drop=True)


def change_facts(result, history, lang: str) -> list[Fact]:
    ch = changes(result, history)
    if ch is None:
        return []
    known = ch[ch["change"].notna()]
    sig = known["significant"].map(lambda v: v is True)
    return [Fact(label("n_changed", lang), len(known), "int"),
            Fact(label("mean_change", lang), float(known["change"].mean()) if len(known) else np.nan, "points"),
            Fact(label("n_up_significant", lang), int((sig & (known["change"] > 0)).sum()), "int"),
            Fact(label("n_down_significant", lang), int((sig & (known["change"] < 0)).sum()), "int")]


def trends_table(result, history, lang: str) -> TableSpec | None:
    """Every department: index by year (history plus this year), change, its interval, significance (workbook)."""
    ch = changes(result, history)
    if ch is None:
        return None
    hist = history_frame(history)
    year = int(getattr(result, "year", 0))
    years = sorted({int(y) for y in hist["year"] if int(y) < year}) if hist is not None else []
    wide = (hist[hist["year"] < year].pivot_table(index="department_id", columns="year", values="index",
                                                  aggfunc="first") if years else pd.DataFrame())
    deps = result.departments.sort_values(["department_id"], key=lambda s: s.map(natural_key), kind="mergesort")
    names = _dep_names(result, lang)
    chg = ch.set_index("department_id")
    heads = ["ID", label("department", lang)] + [str(y) for y in years] + [
        str(year), label("change", lang), label("ci_low", lang), label("ci_high", lang), label("significance", lang),
        label("comparable", lang)]
    rows = []
    for r in deps.itertuples(index=False):
        dep = str(r.department_id)
        c = chg.loc[dep]
        line = [dep, names.get(dep, dep)]
        line += [wide.loc[dep, y] if dep in wide.index and y in wide.columns else None for y in years]
        comparable = None if c["comparable"] is None or missing(c["comparable"]) else \
            label("yes" if c["comparable"] else "no", lang)
        line += [r.index, c["change"], c["change_ci_low"], c["change_ci_high"], _significance(c, lang), comparable]
        rows.append(line)
    kinds = ["text", "text"] + ["score"] * len(years) + ["score", "points", "points", "points", "text", "text"]
    return TableSpec(heads, kinds, rows)


# ---------------------------------------------------------------------------
# data quality
# ---------------------------------------------------------------------------

def quality_facts(result, lang: str) -> list[Fact]:
    """City medians of the callback response rate (RR3), completion and record authenticity (G1)."""
    q = getattr(result, "quality", None)
    if q is None or not len(q):
        return []
    out = []
    for col, key, kind in (("rr3", "dq_rr3_median", "share"), ("callback_completion", "dq_completion_median", "share"),
                           ("g1_authenticity", "dq_g1_median", "percent")):
        if col in q:
            out.append(Fact(label(key, lang), float(pd.to_numeric(q[col], errors="coerce").median()), kind))
    return out


def quality_table(result, lang: str) -> TableSpec:
    """Per department (ranking order): samples, completion, RR3, wrong numbers, G1, G2, good-review rate, flags."""
    from reports.charts import ranking_data

    deps = result.departments
    order = ranking_data(deps, lang=lang)
    quality = getattr(result, "quality", None)
    q = (quality.set_index(quality["department_id"].astype(str)) if quality is not None and len(quality)
         else pd.DataFrame(index=pd.Index([], dtype=str)))
    d = deps.set_index(deps["department_id"].astype(str))
    fields = [("n_survey", "n_survey", "int", d), ("n_callback", "n_callback", "int", d),
              ("callback_completion", "callback_completion", "share", q), ("rr3", "rr3_short", "share", q),
              ("wrong_number_rate", "wrong_number_rate", "share", q),
              ("never_handled_rate", "never_handled_rate", "share", q),
              ("g1_authenticity", "g1_authenticity", "percent", q), ("g2_gap", "g2_gap", "points", q),
              ("haocha_good_rate", "haocha_good_rate", "share", q)]
    fields = [f for f in fields if f[0] in f[3].columns]
    headers = [label("department", lang)] + [label(k, lang) for _, k, _, _ in fields] + [label("flags", lang)]
    rows = []
    for r in order.itertuples(index=False):
        line = [r.name] + [src[f].get(r.department_id, np.nan) for f, _, _, src in fields]
        line.append(flag_short(d["flags"].get(r.department_id, ""), lang) if "flags" in d else "")
        rows.append(line)
    return TableSpec(headers, ["text"] + [k for _, _, k, _ in fields] + ["text"], rows)
