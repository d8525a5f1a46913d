"""Tables of the city report built from the result's robustness, reliability, weighting and trends groups.

Each function returns a :class:`~reports.format.TableSpec` (or facts, or
sentences) that every renderer lays out, so the documents cannot disagree:
the sensitivity of the ranking, the weighting record and the nominal
against variance-share weights, scale reliability, inter-rater and
survey–callback agreement, the shrinkage of small departments, the change
since last year and the data-quality summary.  A function returns None (or
an empty list) when its group was not computed (``robustness=False``), its
table is empty (too little data, or a role the framework does not declare),
or, for the change since last year, when no earlier year is recorded.
Content only: no renderer is imported here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.result import EvaluationResult
from evaluation.weighting import RANDOM_INDEX_TABLES
from reports.chart_data import department_order
from reports.facts import adjustment_label, channel_name, flag_short, index_changes
from reports.format import DASH, Fact, TableSpec, fmt, fmt_change_interval, level_text, missing, natural_key, \
    natural_order
from reports.labels import LABELS, label, name_column

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def optional_table(group, name: str) -> pd.DataFrame | None:
    """A table of an optional result group; None when the group was not computed or the table is empty."""
    frame = getattr(group, name) if group is not None else None
    return frame if frame is not None and len(frame) else None


def _dep_names(result, lang: str) -> dict:
    deps = result.departments
    return dict(zip(deps["department_id"].astype(str), deps[name_column("department", lang)].astype(str)))


def _label_or(key: str, lang: str, fallback: str) -> str:
    return label(key, lang) if key in LABELS else fallback


def _join(parts, lang: str) -> str:
    return ("；" if lang == "zh" else "; ").join(parts)


def _span(low, high) -> str:
    if missing(low) or missing(high):
        return DASH
    return f"{int(low)}–{int(high)}"


# ---------------------------------------------------------------------------
# sensitivity of the ranking
# ---------------------------------------------------------------------------

def sensitivity_table(result, lang: str, *, scope: str = "overall", printed: bool = False) -> TableSpec | None:
    """Per department (published rank order): median rank, 5–95% band, best–worst, share at rank, mean shift.

    ``printed=True`` gives the bands as text ranges (the PDF); otherwise each
    bound is its own numeric column (the workbook).
    """
    sens = optional_table(result.robustness, "sensitivity")
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
    sens = optional_table(result.robustness, "sensitivity")
    if sens is None:
        return None
    rows = sens[sens["scope"] == "overall"] if "scope" in sens else sens
    if not len(rows):
        return None
    rows = rows.sort_values(["nominal_rank", "department_id"], kind="mergesort").reset_index(drop=True)
    return rows.assign(name=rows["department_id"].astype(str).map(_dep_names(result, lang)))


def options_text(choice: str, options: object, lang: str) -> str:
    """The options of a sensitivity choice in words (the evaluation stores them as codes)."""
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
    summ = optional_table(result.robustness, "sensitivity_summary")
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
    summ = optional_table(result.robustness, "sensitivity_summary")
    if summ is None or "total_order" not in summ:
        return None
    rows = summ[(summ["scope"] == scope) & (summ["choice"] != "all")] if "scope" in summ else summ
    rows = rows[pd.to_numeric(rows["total_order"], errors="coerce").notna()]
    if not len(rows):
        return None
    top = rows.assign(_t=rows["total_order"].astype(float)).sort_values(["_t", "choice"], ascending=[False, True],
                                                                         kind="mergesort").iloc[0]
    first = fmt(top["first_order"], "coef")
    return label("sens_driver", lang, choice=_label_or(f"choice_{top['choice']}", lang, str(top["choice"])),
                 total=fmt(top["total_order"], "coef"), first=first)


def n_variants(result) -> int | None:
    sens = optional_table(result.robustness, "sensitivity")
    if sens is None or "n_variants" not in sens:
        return None
    return int(sens["n_variants"].max())


# ---------------------------------------------------------------------------
# weights and their method
# ---------------------------------------------------------------------------

def weight_method_text(result: EvaluationResult, lang: str) -> str:
    """"AHP (eigenvector method)" or "explicit expert weights", from the framework's weighting declaration."""
    spec = result.framework.weighting
    if spec.method == "ahp":
        return label("weight_method_ahp", lang, method=_label_or(f"ahp_{spec.ahp_method}", lang, spec.ahp_method))
    return label("weight_method_explicit", lang)


def ahp_table(result, lang: str) -> TableSpec | None:
    """One row per AHP comparison matrix: level, items compared, CR, λmax, RI and its table (None if no AHP)."""
    record = result.weighting.record
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
    record = result.weighting.record
    tables = sorted({str(t) for t in record["random_index_table"] if isinstance(t, str) and t}) if record is not None \
        else []
    return label("ahp_note", lang, max_cr=f"{result.framework.weighting.max_cr:g}",
                 tables=_join([_label_or(f"ri_{t}", lang, t) for t in tables], lang) or "—")


def weighting_record_table(result, lang: str) -> TableSpec | None:
    """The weighting record as it is (level, id, name, weight, method, CR, λmax, RI table), for the workbook."""
    record = result.weighting.record
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


def indicator_weights_table(result: EvaluationResult, lang: str) -> TableSpec:
    """Indicators with their nominal weight and their share of the index variance across departments."""
    shares = result.weighting.variance_shares.set_index("indicator_id")
    inds = natural_order(result.indicators.drop_duplicates("indicator_id"), "indicator_id")
    heads = [label("id", lang), label("indicator", lang), label("dimension", lang), label("channel", lang),
             label("nominal_weight", lang), label("variance_share", lang)]
    rows = [[r["indicator_id"], r[name_column("indicator", lang)], r["dimension_id"],
             channel_name(r["channel"], lang), shares["nominal_weight"].get(r["indicator_id"]),
             shares["variance_share"].get(r["indicator_id"])] for _, r in inds.iterrows()]
    return TableSpec(heads, ["text", "text", "text", "text", "weight", "share"], rows)


# ---------------------------------------------------------------------------
# reliability and agreement
# ---------------------------------------------------------------------------

def reliability_table(result, lang: str, *, items: bool = False) -> TableSpec | None:
    """Scale rows (k, n, α raw/standardised/weighted, ω) or, with ``items``, the item rows."""
    rel = optional_table(result.reliability, "scales")
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
    ir = optional_table(result.reliability, "interrater")
    if ir is None:
        return []
    by = ir.set_index("measure")
    facts = [Fact(label("ir_double", lang), ir["n_double_rated"].max(), "int")]
    if "checklist_score" in by.index:
        row = by.loc["checklist_score"]
        facts += [Fact(label("ir_checklist_alpha", lang), row["alpha"], "coef"),
                  Fact(label("ir_icc1", lang), row["icc"], "coef"), Fact(label("ir_icck", lang), row["icc_k"], "coef")]
    for measure in by.index[(by["level"] == "interval") & (by.index != "checklist_score")]:
        item = result.framework.item("visits", measure)
        name = (item.name if lang == "zh" else item.name_en) if item is not None else measure
        facts.append(Fact(label("ir_item_alpha", lang, item=name), by.loc[measure, "alpha"], "coef"))
    items = ir[ir["level"] == "ordinal"]
    if len(items):
        alphas = pd.to_numeric(items["alpha"], errors="coerce")
        facts.append(Fact(label("ir_items_median", lang, n=len(items)), float(alphas.median()), "coef"))
    return facts


def interrater_low_items(result, lang: str) -> str | None:
    """The checklist items whose Krippendorff's α is below 0.667, with their α, as one sentence."""
    ir = optional_table(result.reliability, "interrater")
    if ir is None:
        return None
    items = ir[ir["level"] == "ordinal"].assign(a=lambda f: pd.to_numeric(f["alpha"], errors="coerce"))
    low = items[items["a"] < 0.667].sort_values(["a", "measure"], kind="mergesort")
    if not len(items):
        return None
    text = _join([f"{m} ({fmt(a, 'coef')})" for m, a in zip(low["measure"], low["a"])], lang) \
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
    ag = optional_table(result.reliability, "agreement")
    if ag is None:
        return []
    level = level_text(result.level)
    out = []
    for _, r in ag.iterrows():
        out += [
            Fact(label("ag_pair", lang), f"{r['survey_indicator']} / {r['callback_indicator']}", "text"),
            Fact(label("ag_n", lang), r["n"], "int"),
            Fact(label("ag_pearson", lang), r["pearson_r"], "coef"),
            Fact(label("ag_spearman", lang), r["spearman_rho"], "coef"),
            Fact(label("ag_mean_diff", lang), r["mean_diff"], "points"),
            Fact(label("ag_mean_diff_ci", lang, level=level),
                 f"{fmt(r['mean_diff_ci_low'], 'points')} … {fmt(r['mean_diff_ci_high'], 'points')}", "text"),
            Fact(label("ag_loa", lang), f"{fmt(r['loa_low'], 'points')} … {fmt(r['loa_high'], 'points')}",
                 "text"),
        ]
    return out


# ---------------------------------------------------------------------------
# small departments
# ---------------------------------------------------------------------------

def shrinkage_table(result, lang: str, *, top: int = 6, every: bool = False) -> TableSpec | None:
    """Departments shrunk most toward their category mean (and every small-sample one); all with ``every``."""
    sh = optional_table(result.robustness, "shrinkage")
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
    fu = optional_table(result.robustness, "funnel")
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
    fu = optional_table(result.robustness, "funnel")
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
# change since last year (the evaluation's tested changes, :attr:`EvaluationResult.trends`)
# ---------------------------------------------------------------------------

def _significance(row, lang: str) -> str:
    if not missing(row["comparable"]) and not bool(row["comparable"]):
        return label("not_comparable", lang)
    if missing(row["significant"]):
        return DASH
    return label("significant" if bool(row["significant"]) else "not_significant", lang)


def movers_table(result: EvaluationResult, lang: str, which: str) -> TableSpec | None:
    """The most improved (``which="improved"``) or declined departments with interval and significance.

    The evaluation's movers lists (:func:`evaluation.trends.trends`): a
    department whose published change is not comparable enters with its
    like-for-like change over the unchanged indicators (``basis``).
    """
    if result.trends is None:
        return None
    movers = result.trends.movers
    picked = movers[movers["list"] == {"improved": "most_improved", "declined": "most_declined"}[which]]
    changes = index_changes(result)
    names = _dep_names(result, lang)
    heads = [label("department", lang), label("previous_index", lang), label("index", lang), label("change", lang),
             label("change_verdict_adj", lang, method=adjustment_label(result, lang), level=level_text(result.level),
                   interval="").strip(), label("significance", lang)]
    rows = []
    for r in picked.sort_values("position").itertuples(index=False):
        c = changes.loc[r.department_id]
        verdict = label("significant" if bool(r.significant) else "not_significant", lang)
        if r.basis == "comparable_indicators":
            verdict += " · " + label("basis_comparable", lang)
        # the interval of the same adjusted test as the verdict, so that the two cannot disagree
        rows.append([names.get(r.department_id, r.department_id), c["previous_estimate"], c["estimate"], r.change,
                     fmt_change_interval(r.change_adj_ci_low, r.change_adj_ci_high), verdict])
    return TableSpec(heads, ["text", "score", "score", "points", "text", "text"], rows)


def change_chart_data(result: EvaluationResult, lang: str) -> pd.DataFrame | None:
    """Departments with a tested change, largest first, shaped for :func:`reports.drawings.ranking_drawing`."""
    changes = index_changes(result)
    if changes is None:
        return None
    data = changes[changes["change"].notna()].reset_index()
    if not len(data):
        return None
    out = pd.DataFrame({"department_id": data["department_id"].to_numpy(),
                        "name": data["department_id"].map(_dep_names(result, lang)).to_numpy(),
                        "category": data["category"].astype(str).to_numpy(),
                        "index": data["change"].astype(float).to_numpy(),
                        "ci_low": data["change_adj_ci_low"].astype(float).to_numpy(),
                        "ci_high": data["change_adj_ci_high"].astype(float).to_numpy()})
    out["group"] = out["category"]
    out["tie_group"] = np.nan
    out = out.sort_values(["index", "department_id"], ascending=[False, True], kind="mergesort")
    out["rank"] = np.arange(1, len(out) + 1)
    return out.reset_index(drop=True)


def change_facts(result: EvaluationResult, lang: str) -> list[Fact]:
    changes = index_changes(result)
    if changes is None:
        return []
    known = changes[changes["change"].notna()]
    sig = known["significant"].fillna(False).astype(bool)
    return [Fact(label("n_changed", lang), len(known), "int"),
            Fact(label("mean_change", lang), float(known["change"].mean()) if len(known) else np.nan, "points"),
            Fact(label("n_up_significant", lang), int((sig & (known["change"] > 0)).sum()), "int"),
            Fact(label("n_down_significant", lang), int((sig & (known["change"] < 0)).sum()), "int")]


def trends_note(result: EvaluationResult, lang: str) -> str:
    return label("trends_note_adjusted2", lang, method=adjustment_label(result, lang))


def trends_table(result: EvaluationResult, lang: str) -> TableSpec | None:
    """Every department: index by year (through the crosswalk), change, its interval, significance (workbook)."""
    changes = index_changes(result)
    if changes is None:
        return None
    series = result.trends.series
    ch = result.trends.changes
    raw = ch[ch["measure"] == "index_raw"].set_index("department_id")["change"]
    years = sorted(int(y) for y in series["year"].unique() if int(y) < result.year)
    wide = series.pivot_table(index="department_id", columns="year", values="estimate", aggfunc="first")
    deps = result.departments.sort_values(["department_id"], key=lambda s: s.map(natural_key), kind="mergesort")
    names = _dep_names(result, lang)
    adj = label("adjusted_interval", lang)
    heads = [label("id", lang), label("department", lang)] + [str(y) for y in years] + [
        str(result.year), label("change", lang), f"{adj} · {label('ci_low', lang)}",
        f"{adj} · {label('ci_high', lang)}", label("significance", lang), label("comparable", lang),
        label("change_raw", lang), label("note", lang)]
    rows = []
    for r in deps.itertuples(index=False):
        dep = str(r.department_id)
        line = [dep, names.get(dep, dep)]
        line += [wide.loc[dep, y] if dep in wide.index and y in wide.columns else None for y in years]
        if dep in changes.index:
            c = changes.loc[dep]
            comparable = None if missing(c["comparable"]) else label("yes" if bool(c["comparable"]) else "no", lang)
            line += [r.index, c["change"], c["change_adj_ci_low"], c["change_adj_ci_high"], _significance(c, lang),
                     comparable, raw.get(dep), _change_note(result, c, lang)]
        else:
            line += [r.index, None, None, None, DASH, None, None, _not_evaluated_note(result, r, lang)]
        rows.append(line)
    kinds = ["text", "text"] + ["score"] * len(years) + ["score", "points", "points", "points", "text", "text",
                                                         "points", "text"]
    return TableSpec(heads, kinds, rows)


def _change_note(result: EvaluationResult, c: pd.Series, lang: str) -> str:
    """Why a change is missing or how it was mapped: new, not evaluated last year, renamed, merged."""
    flags = str(c["flags"] or "").split(";")
    names = {d.id: (d.name if lang == "zh" else d.name_en) for d in result.framework.departments}
    preds = [names.get(p, p) for p in str(c["predecessors"] or "").split(";") if p]
    if c["mapping"] == "new":
        return label("change_new", lang)
    if "previous_not_evaluated" in flags:
        return label("change_previous_missing", lang, year=int(result.trends.previous_year))
    if c["mapping"] == "merge" and preds:
        return label("change_merged", lang, names=("、" if lang == "zh" else ", ").join(preds))
    if c["mapping"] == "rename" and preds:
        return label("change_renamed", lang, names=preds[0])
    return ""


def _not_evaluated_note(result: EvaluationResult, r, lang: str) -> str:
    reason = r.not_evaluated_reason if isinstance(r.not_evaluated_reason, str) else ""
    return label("not_evaluated_row", lang, reason=label(f"reason_{reason}", lang)) if reason else ""


# ---------------------------------------------------------------------------
# data quality
# ---------------------------------------------------------------------------

def quality_facts(result, lang: str) -> list[Fact]:
    """City medians of the callback response rate (RR3), completion and record authenticity (G1)."""
    q = result.quality
    if not len(q):
        return []
    out = []
    for col, key, kind in (("rr3", "dq_rr3_median", "share"), ("callback_completion", "dq_completion_median", "share"),
                           ("g1_authenticity", "dq_g1_median", "percent")):
        if col in q:
            out.append(Fact(label(key, lang), float(pd.to_numeric(q[col], errors="coerce").median()), kind))
    return out


def quality_table(result, lang: str) -> TableSpec:
    """Per department (ranking order): samples, completion, RR3, wrong numbers, G1, G2, good-review rate, flags."""
    deps = result.departments
    order = department_order(deps, lang=lang)
    q = result.quality.set_index("department_id")
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
