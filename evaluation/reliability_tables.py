"""Reliability checks of one evaluation year: scale reliability, inter-rater agreement, survey–callback agreement.

Scale reliability (:func:`reliability_table`)
    For every dimension measured by two or more survey Likert items and for
    the whole survey Likert battery: Cronbach's alpha raw and standardised,
    unweighted and with the survey weights, corrected item-total
    correlations and alpha if an item is deleted; McDonald's omega total
    (one-factor minres) for scales of three or more items.  Item codes are
    used as they are (alpha and omega are unchanged by the presets' affine
    scoring); listwise deletion, city-wide.  Computed by
    :mod:`evaluation.reliability`.

Inter-rater agreement (:func:`interrater_table`)
    Visits rated by two or more raters (same ``visit_id``, different
    ``rater``): Krippendorff's alpha per checklist item (``checklist``: the
    framework's checklist items) at the ordinal level
    (codes 0 / 0.5 / 1), on ``checklist_score`` and the visits' number items (timed waits) at the
    interval level, and the intraclass correlation of ``checklist_score`` on
    the visits with the most common number of raters (a balanced
    visits x rater-slot matrix).  Raters differ from visit to visit, so the
    one-way ICC(1,1) (single rater) and ICC(1,k) (mean of k raters) apply.

Survey–callback agreement (:func:`agreement_table`)
    Pearson and Spearman correlation of the departments' scores on two
    measures of the same thing (the framework's declared survey and callback
    overall-satisfaction indicators), the mean difference (survey -
    callback) with its t interval, and Bland–Altman (1986) limits of
    agreement ``mean +/- 1.96 SD``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from surveys.errors import InsufficientDataError
from surveys.framework import Framework

from .reliability import cronbach_alpha, icc, krippendorff_alpha, mcdonald_omega

__all__ = [
    "AGREEMENT_COLUMNS",
    "AGREEMENT_POINT_COLUMNS",
    "INTERRATER_COLUMNS",
    "RELIABILITY_COLUMNS",
    "agreement_table",
    "interrater_table",
    "reliability_table",
]

RELIABILITY_COLUMNS = [
    "scale_id", "scale", "scale_en", "level", "item", "indicator_id", "k", "n", "n_dropped", "alpha",
    "alpha_standardized", "alpha_weighted", "alpha_standardized_weighted", "omega_total", "omega_total_weighted",
    "item_total_corr", "item_total_corr_weighted", "alpha_if_deleted", "alpha_if_deleted_weighted", "note",
]
INTERRATER_COLUMNS = ["measure", "level", "alpha", "n_units", "n_values", "n_raters", "icc_type", "icc",
                      "icc_k", "n_icc_units", "n_double_rated", "note"]
AGREEMENT_POINT_COLUMNS = ["survey_indicator", "callback_indicator", "department_id", "survey", "callback", "mean",
                           "diff"]
AGREEMENT_COLUMNS = ["survey_indicator", "callback_indicator", "n", "pearson_r", "pearson_p", "spearman_rho",
                     "spearman_p", "mean_diff", "mean_diff_ci_low", "mean_diff_ci_high", "sd_diff", "loa_low",
                     "loa_high", "level"]


def _survey_scales(framework: Framework, survey: pd.DataFrame) -> list[tuple[str, str, str, list]]:
    items = [i for i in framework.indicators if i.table == "survey" and i.measure == "likert" and i.field in survey]
    scales = []
    for dim in framework.dimensions:
        members = [i for i in items if i.dimension == dim.id]
        if len(members) >= 2:
            scales.append((dim.id, dim.name, dim.name_en, members))
    if len(items) >= 3:
        scales.append(("survey_battery", "问卷满意度量表", "Survey Likert battery", items))
    return scales


def reliability_table(survey: pd.DataFrame, framework: Framework, *, weights: str | None = None) -> pd.DataFrame:
    """Scale reliability of the survey's multi-item dimensions and of the whole battery.

    Returns
    -------
    DataFrame with RELIABILITY_COLUMNS: one ``level='scale'`` row per scale
    (``k`` items, ``n`` complete respondents, ``n_dropped``, the alphas and
    omegas; ``*_weighted`` with the survey weights) followed by one
    ``level='item'`` row per item (``item_total_corr``, ``alpha_if_deleted``,
    unweighted and weighted).  ``note`` says why a figure is missing (e.g.
    too few items for omega) or that omega hit a Heywood case.
    """
    rows = []
    w = survey[weights] if weights and weights in survey else None
    for sid, name, name_en, members in _survey_scales(framework, survey):
        items = survey[[i.field for i in members]].astype(float)
        base = {"scale_id": sid, "scale": name, "scale_en": name_en}
        try:
            raw = cronbach_alpha(items)
            wtd = cronbach_alpha(items, weights=w) if w is not None else None
        except InsufficientDataError as exc:
            why = "; ".join(f"{p.column}: {p.message}" if p.column else p.message for p in exc.problems)
            rows.append({**base, "level": "scale", "k": len(members),
                         "note": f"{exc.summary} ({why})" if why else exc.summary})
            continue
        notes = []
        omega = omega_w = np.nan
        if len(members) >= 3:
            o = mcdonald_omega(items)
            omega = o.omega_total
            ow = mcdonald_omega(items, weights=w) if w is not None else None
            omega_w = ow.omega_total if ow is not None else np.nan
            if o.heywood or (ow is not None and ow.heywood):
                notes.append("omega: Heywood case")
        else:
            notes.append("omega needs 3 or more items")
        rows.append({**base, "level": "scale", "item": "", "indicator_id": "", "k": raw.k, "n": raw.n,
                     "n_dropped": raw.n_dropped, "alpha": raw.alpha, "alpha_standardized": raw.alpha_standardized,
                     "alpha_weighted": wtd.alpha if wtd else np.nan,
                     "alpha_standardized_weighted": wtd.alpha_standardized if wtd else np.nan,
                     "omega_total": omega, "omega_total_weighted": omega_w, "note": "; ".join(notes)})
        for ind in members:
            r = raw.items.loc[ind.field]
            rw = wtd.items.loc[ind.field] if wtd else None
            rows.append({**base, "level": "item", "item": ind.field, "indicator_id": ind.id, "k": raw.k,
                         "item_total_corr": r["item_total_corr"], "alpha_if_deleted": r["alpha_if_deleted"],
                         "item_total_corr_weighted": rw["item_total_corr"] if rw is not None else np.nan,
                         "alpha_if_deleted_weighted": rw["alpha_if_deleted"] if rw is not None else np.nan,
                         "note": ""})
    return pd.DataFrame(rows, columns=RELIABILITY_COLUMNS)


def interrater_table(visits: pd.DataFrame | None, checklist: tuple[str, ...] = (),
                     numbers: tuple[str, ...] = ()) -> pd.DataFrame:
    """Agreement between raters of the same site visit (see the module notes).

    Returns
    -------
    DataFrame with INTERRATER_COLUMNS: one row per checklist item (ordinal),
    ``checklist_score`` and each number item (``numbers``, interval): ``alpha``,
    ``n_units`` (double-rated visits with a pairable value), ``n_values``,
    ``n_raters``; for ``checklist_score`` also ``icc`` (ICC(1,1)), ``icc_k``
    (ICC(1,k)) and ``n_icc_units``; ``n_double_rated`` (visits with two or
    more raters) on every row.  Empty when no visit has two raters.
    """
    if visits is None or visits.empty or "rater" not in visits:
        return pd.DataFrame(columns=INTERRATER_COLUMNS)
    v = visits[visits["rater"].notna()]
    raters_per_visit = v.groupby("visit_id")["rater"].nunique()
    double = raters_per_visit[raters_per_visit >= 2].index
    if len(double) == 0:
        return pd.DataFrame(columns=INTERRATER_COLUMNS)
    v = v[v["visit_id"].isin(double)]
    measures = [(c, "ordinal") for c in checklist if c in v]
    measures += [(c, "interval") for c in ("checklist_score", *numbers) if c in v]
    rows = []
    for col, level in measures:
        matrix = v.pivot_table(index="rater", columns="visit_id", values=col, aggfunc="first")
        row = {"measure": col, "level": level, "n_raters": matrix.shape[0], "n_double_rated": len(double),
               "note": ""}
        try:
            k = krippendorff_alpha(matrix, level=level)
            row.update(alpha=k.alpha, n_units=k.n_units, n_values=k.n_values)
        except InsufficientDataError as exc:
            row.update(alpha=np.nan, n_units=int((matrix.notna().sum() >= 2).sum()), n_values=np.nan,
                       note=exc.summary)
        if col == "checklist_score":
            found = _balanced_icc(v, col)
            why = found.pop("note", "")
            row.update(found, note="; ".join(n for n in (row["note"], why) if n))
        rows.append(row)
    return pd.DataFrame(rows, columns=INTERRATER_COLUMNS)


def _balanced_icc(v: pd.DataFrame, col: str) -> dict:
    sub = v[v[col].notna()].sort_values(["visit_id", "rater"])
    counts = sub.groupby("visit_id")["rater"].nunique()
    counts = counts[counts >= 2]
    if counts.empty:
        return {"icc_type": "ICC(1,1)", "icc": np.nan, "icc_k": np.nan, "n_icc_units": 0}
    k = int(counts.mode().max())
    sub = sub[sub["visit_id"].isin(counts[counts == k].index)].drop_duplicates(["visit_id", "rater"])
    sub = sub.assign(_slot=sub.groupby("visit_id").cumcount())
    wide = sub.pivot(index="visit_id", columns="_slot", values=col)
    out = {"icc_type": "ICC(1,1)", "icc": np.nan, "icc_k": np.nan, "n_icc_units": len(wide)}
    if len(wide) >= 2:
        try:
            res = icc(wide)
            out.update(icc=res.icc["ICC(1,1)"], icc_k=res.icc["ICC(1,k)"])
        except InsufficientDataError as exc:
            out["note"] = f"ICC: {exc.summary}"   # said in the table's note, as alpha's reason is
    return out


def agreement_table(indicators: pd.DataFrame, *, survey: str, callback: str,
                    level: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Department-level agreement of two measures of overall satisfaction.

    Returns
    -------
    (summary, points)
        ``summary`` has AGREEMENT_COLUMNS (one row; ``n`` departments with both
        scores; ``mean_diff`` = survey - callback with its t interval at
        ``level``; ``loa_low``/``loa_high`` = mean_diff -/+ 1.96 sd_diff, the
        Bland–Altman 95% limits).  ``points`` has ``department_id, survey,
        callback, mean, diff`` for the Bland–Altman plot.
    """
    wide = indicators[indicators["indicator_id"].isin([survey, callback])].pivot_table(
        index="department_id", columns="indicator_id", values="score", aggfunc="first")
    wide = wide.reindex(columns=[survey, callback]).dropna()
    a, b = wide[survey].to_numpy(float), wide[callback].to_numpy(float)
    points = pd.DataFrame({"survey_indicator": survey, "callback_indicator": callback, "department_id": wide.index,
                           "survey": a, "callback": b, "mean": (a + b) / 2, "diff": a - b},
                          columns=AGREEMENT_POINT_COLUMNS)
    row = {"survey_indicator": survey, "callback_indicator": callback, "n": len(a), "level": level}
    if len(a) >= 3 and np.ptp(a) > 0 and np.ptp(b) > 0:
        row["pearson_r"], row["pearson_p"] = (float(x) for x in stats.pearsonr(a, b))
        row["spearman_rho"], row["spearman_p"] = (float(x) for x in stats.spearmanr(a, b))
    if len(a) >= 2:
        d = a - b
        sd = float(d.std(ddof=1))
        half = stats.t.ppf(0.5 + level / 2, len(d) - 1) * sd / np.sqrt(len(d))
        row.update(mean_diff=float(d.mean()), mean_diff_ci_low=float(d.mean() - half),
                   mean_diff_ci_high=float(d.mean() + half), sd_diff=sd,
                   loa_low=float(d.mean() - 1.96 * sd), loa_high=float(d.mean() + 1.96 * sd))
    return pd.DataFrame([row], columns=AGREEMENT_COLUMNS), points
