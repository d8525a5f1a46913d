"""The evidence-based problem list (整改清单) of every department, the common problems, and last year's follow-up.

A department head acts on concrete, countable findings, each traced to the
evidence that shows it.  :func:`build_problems` reads the validated channel
data and the evaluated year and lists, per evaluated department, one row per
finding (:data:`PROBLEM_COLUMNS`).  What counts as a finding is decided by
the framework (tables, fields, transforms and ``[roles]``), never by an
indicator id:

================  ===========================================================  ===================================
kind              the evidence                                                  points at stake
================  ===========================================================  ===================================
``gate_g1``       callback contacts who never handled the recorded matter       the G1 deduction actually applied
                  (record authenticity below the gate threshold)
``never_handled`` the same, when authenticity stays above the threshold        none (no deduction)
``gate_g2``       好差评 good-review rate above the independent callback's     none (a flag)
``gate_g3``       wrong or invalid numbers among the callback cases drawn       none (a flag)
``checklist``     a checklist criterion not (fully) met at site visits          the index points if it were met at
                  (visits counted; raters of one visit averaged)                every visit
``share``         answers that fail a share indicator of a sampled table:       the index points if every answer
                  callback complaints (not told everything at once, an          succeeded
                  improper demand, two or more trips, later than promised),
                  inaccurate service guides (their ids as examples), failed
                  scenario tests
``census_share``  records that fail a census rate whose target is the full      the index points at a rate of 1
                  share: bad reviews not rectified on time, rectifications
                  not satisfying, cases closed late, not online, not at the
                  one window
``survey_item``   a survey item in the GB/T 19038 重点改进区 (important, below   the index points if it reached the
                  the reference) of the department's quadrant chart             category's best score
``indicator``     any other indicator whose score lies below the city mean     the index points if it reached the
                  beyond sampling noise (a queue wait, a compression rate)      category's best score
``comment_theme`` a complaint theme of the open comments (when a themes         none
                  table is given, see below)
================  ===========================================================  ===================================

Points at stake are index points (before gates) computed with the
department's effective weight of the indicator (renormalised over the
indicators present, :func:`evaluation.index.effective_weights`) and the
indicator's own score transform, e.g. for a share ``w_index (score(1) -
score)``.  For a checklist criterion ``k`` the visit's checklist score is
the mean of its rated criteria, so meeting ``k`` everywhere raises the raw
checklist value by ``mean_visits((1 - v_k) / K_visit)`` (``v_k`` the
criterion's value averaged over the visit's raters, ``K_visit`` the
criteria rated), visits counted equally.

Whether the gap exceeds sampling noise (``beyond_noise``)
    The reference is the city mean of the indicator's score over the
    evaluated departments (each counting once, as the scorecards' "city
    average").  The gap is ``reference - score``; it exceeds sampling noise
    when the indicator's interval at the result's level lies wholly below the
    reference (``ci_high < reference``), a one-sided test at ``(1 - level) /
    2``; for a census (administrative data, 好差评) there is no sampling
    error and any score below the reference counts.  Rows of a checklist
    criterion carry the verdict of the checklist indicator.  Gate rows take
    the evidence the quality table holds beside each gated rate
    (:data:`evaluation.quality.GATE_EVIDENCE_COLUMNS`: Wilson intervals for
    G1 and G3, the gap's interval for G2): beyond noise when the interval
    lies wholly on the wrong side of the gate's threshold.  Comment themes
    carry no verdict (NA).

Agreement with the quadrant chart
    ``survey_item`` rows are exactly the department's quadrant rows in
    ``concentrate_here`` that are not outcomes; the chart and the list read
    the same rows (:func:`quadrant_rows`), so they cannot disagree.
    Outcomes (``[roles] outcomes``) are never listed: they measure what the
    actions should achieve.

Privacy
    Examples name only what the evaluator observed (guide ids, visit ids),
    never a case number of a callback or a respondent: a department must not
    be able to tell who complained.

Extension point: comment themes
    A table of complaint themes per department (:data:`COMMENT_THEME_COLUMNS`:
    ``department_id, theme, theme_zh, theme_en, n, examples``), when an
    analysis of the open comments provides it, is passed as
    ``comment_themes`` and becomes rows of kind ``comment_theme``
    (``key = "comment.<theme>"``, ``count = n``, labels from ``theme_zh`` /
    ``theme_en``, ``examples`` as given, no points and no noise verdict).
    Nothing else changes: the documents, the 整改 workbook and the follow-up
    read the rows like any other.

Follow-up (:func:`follow_up`)
    Last year's problem list, as the departments returned it in the 整改
    workbook (with their status), is judged from this year's evidence with
    the same rules: ``fixed`` (the evidence was checked again and the
    problem is gone), ``not_fixed`` (still there), ``reopened`` (still
    there although the department reported it fixed) or ``not_verifiable``
    (no evidence this year: the channel was not observed for the
    department).  Renamed and merged departments inherit their predecessors'
    problems through the crosswalk.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from surveys.aggregate import department_sums
from surveys.framework import Framework, Indicator
from surveys.schema import SAMPLED_CHANNELS, ChannelData

from .comments import COMMENT_THEME_COLUMNS
from .transforms import score as transform_score

PROBLEM_COLUMNS = [
    "year", "department_id", "problem_no", "kind", "key", "indicator_id", "dimension_id", "channel", "item",
    "item_label", "item_label_en", "count", "base", "rate", "examples", "raw_value", "reference_raw", "score",
    "ci_low", "ci_high", "reference", "gap", "beyond_noise", "census", "points_at_stake", "points_basis",
    "quadrant",
]
COMMON_PROBLEM_COLUMNS = [
    "year", "key", "kind", "indicator_id", "item", "item_label", "item_label_en", "n_departments", "departments",
    "count", "base", "n_beyond_noise", "points_at_stake",
]
FOLLOW_UP_COLUMNS = [
    "year", "previous_year", "department_id", "previous_department_id", "previous_problem_no", "key", "kind",
    "indicator_id", "item", "previous_count", "previous_base", "reported_status", "owner", "note", "count", "base",
    "verdict",
]
#: columns of last year's problems read back from the 整改 workbook (``surveys.rectification``)
PREVIOUS_COLUMNS = ["year", "department_id", "problem_no", "kind", "key", "count", "base", "status", "owner", "note"]
#: the order kinds are listed in at equal points
KINDS = ("gate_g1", "checklist", "share", "census_share", "survey_item", "indicator", "never_handled", "gate_g2",
         "gate_g3", "comment_theme")
VERDICTS = ("fixed", "not_fixed", "reopened", "not_verifiable")
#: reported statuses of the 整改 workbook (``surveys.rectification``): "done" claims the problem fixed
REPORTED_DONE = "done"

_EMPTY_KEYS = ["department_id", "key"]


def checklist_labels(framework: Framework) -> dict[str, tuple[str, str]]:
    """Checklist criterion id -> (Chinese, English) text as the framework declares it (``[[items]]``).

    A criterion the framework names without a text of its own (its name is
    its id) gets none: the documents then show the id.  Texts are never
    invented.
    """
    out = {}
    for item_id in framework.item_ids("visits", kind="checklist"):
        item = framework.item("visits", item_id)
        names = (item.name if item.name != item_id else "", item.name_en if item.name_en != item_id else "")
        out[item_id] = names
    return out


def quadrant_rows(drivers: pd.DataFrame | None, department_id: str, category: str | None) -> tuple[pd.DataFrame,
                                                                                                    str | None]:
    """The importance–performance rows a department's quadrant chart shows, and their scope.

    The department's own rows of ``drivers`` (:func:`evaluation.drivers.importance_performance`);
    without them its category's, then the city's.  Rows need an importance
    and a performance.  Returns ``(rows, scope)``; ``scope`` is None (and the
    frame empty) without drivers.
    """
    if drivers is None or not len(drivers):
        return pd.DataFrame(columns=drivers.columns if drivers is not None else []), None
    scope_ids = drivers["scope_id"].fillna("").astype(str)
    usable = drivers["importance"].notna() & drivers["performance"].notna()
    for scope, key in (("department", department_id), ("category", category), ("city", "")):
        if key is None:
            continue
        found = drivers[(drivers["scope"] == scope) & (scope_ids == str(key)) & usable]
        if len(found):
            return found, scope
    return drivers.iloc[0:0], None


# ---------------------------------------------------------------------------
# the list
# ---------------------------------------------------------------------------

def build_problems(data: ChannelData, framework: Framework, departments: pd.DataFrame, indicators: pd.DataFrame,
                   effective: pd.DataFrame, quality: pd.DataFrame, *, level: float,
                   drivers: pd.DataFrame | None = None,
                   comment_themes: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every evaluated department's problem list, and which evidence was checked.

    Parameters
    ----------
    data : the year's validated channel data
    framework : the framework used (with the weights actually used)
    departments : ``result.departments`` (evaluated departments have an index)
    indicators : ``result.indicators``
    effective : ``result.weighting.effective`` (``w_index`` per department and indicator)
    quality : ``result.quality`` (callback dispositions, G1, G2)
    level : confidence level of the noise verdicts
    drivers : ``result.priorities.drivers`` (None: no survey-item findings)
    comment_themes : optional themes table (:data:`COMMENT_THEME_COLUMNS`)

    Returns
    -------
    (problems, checked)
        ``problems`` (:data:`PROBLEM_COLUMNS`), per department numbered from
        1 by points at stake (largest first; rows without points last);
        ``checked``: ``department_id, key, base`` of every finding the
        evidence of this year could show, present or not (what
        :func:`follow_up` judges from).
    """
    scored = departments[departments["index"].notna()]
    ids = set(scored["department_id"])
    category = scored.set_index("department_id")["category"]
    meta = {i.id: i for i in framework.indicators}
    outcomes = set(framework.roles.outcomes)
    ind = _indicator_frame(indicators, effective, category, level, ids)
    rows: list[dict] = []
    checked: list[pd.DataFrame] = []

    g_rows, g_checked = _gate_rows(scored, quality, framework)
    rows += g_rows
    checked.append(g_checked)

    for iid, spec in meta.items():
        if iid in outcomes:
            continue
        own = ind[ind["indicator_id"] == iid].set_index("department_id")
        if not len(own):
            continue
        table = data.tables.get(spec.table)
        sampled = spec.channel in SAMPLED_CHANNELS
        if spec.table == "visits" and spec.field == "checklist_score":
            r, c = _checklist_rows(table, spec, own, ids, framework)
        elif spec.measure == "share" and sampled:
            r, c = _share_rows(table, spec, own, ids)
        elif spec.measure == "ratio" and not sampled and _full_share_target(spec):
            r, c = _census_share_rows(table, spec, own, ids)
        elif spec.measure == "likert" and spec.table == "survey":
            continue  # the quadrant decides (below)
        else:
            r, c = _shortfall_rows(spec, own)
        rows += r
        checked.append(c)

    q_rows, q_checked = _survey_item_rows(drivers, ind, framework, outcomes, scored, data.tables.get("survey"))
    rows += q_rows
    checked.append(q_checked)

    if comment_themes is not None:
        t_rows, t_checked = _comment_rows(comment_themes, ids)
        rows += t_rows
        checked.append(t_checked)

    problems = pd.DataFrame(rows, columns=[c for c in PROBLEM_COLUMNS if c not in ("year", "problem_no")])
    problems = _numbered(problems, meta)
    problems["year"] = data.year
    checked_frame = pd.concat([c for c in checked if len(c)], ignore_index=True) if any(len(c) for c in checked) \
        else pd.DataFrame(columns=["department_id", "key", "base"])
    return problems[PROBLEM_COLUMNS], checked_frame.drop_duplicates(_EMPTY_KEYS, ignore_index=True)


def _indicator_frame(indicators: pd.DataFrame, effective: pd.DataFrame, category: pd.Series, level: float,
                     ids: set) -> pd.DataFrame:
    """Indicator rows of evaluated departments with effective weight, city mean, category best and verdict."""
    ind = indicators[indicators["department_id"].isin(ids) & indicators["score"].notna()].copy()
    ind = ind.merge(effective[["department_id", "indicator_id", "w_index"]], on=["department_id", "indicator_id"],
                    how="left")
    ind["category"] = ind["department_id"].map(category)
    ind["reference"] = ind.groupby("indicator_id")["score"].transform("mean")
    ind["reference_raw"] = ind.groupby("indicator_id")["raw_value"].transform("mean")
    ind["category_best"] = ind.groupby(["category", "indicator_id"])["score"].transform("max")
    census = ind["census"].fillna(False).astype(bool)
    upper = np.where(census, ind["score"], ind["ci_high"])
    ind["beyond_noise"] = np.where(np.isfinite(upper), upper < ind["reference"], False)
    ind["gap"] = ind["reference"] - ind["score"]
    ind["census"] = census
    return ind


def _full_share_target(spec: Indicator) -> bool:
    """A census rate whose target is the full share (so ``denominator - numerator`` counts failures)."""
    t = spec.transform
    if t.kind == "percent":
        return True
    return t.kind == "dtf" and t.frontier is not None and t.worst is not None and t.frontier == 1.0 and t.worst < 1.0


def _base_row(spec: Indicator, own: pd.Series) -> dict:
    """The indicator's figures every row of it carries."""
    return {"indicator_id": spec.id, "dimension_id": spec.dimension, "channel": spec.channel,
            "raw_value": own["raw_value"], "reference_raw": own["reference_raw"], "score": own["score"],
            "ci_low": own["ci_low"], "ci_high": own["ci_high"], "reference": own["reference"], "gap": own["gap"],
            "beyond_noise": bool(own["beyond_noise"]), "census": bool(own["census"]), "item_label": "",
            "item_label_en": "", "examples": "", "quadrant": ""}


def _gain(spec: Indicator, own: pd.Series, raw_fixed: float) -> float:
    """Index points from moving the indicator's raw value to ``raw_fixed`` (its own transform)."""
    fixed = float(transform_score(spec.transform, raw_fixed))
    return float(own["w_index"]) * max(fixed - float(own["score"]), 0.0)


def _share_rows(table: pd.DataFrame | None, spec: Indicator, own: pd.DataFrame, ids: set):
    """Answers failing a share indicator of a sampled table, per department."""
    key = f"{spec.table}.{spec.field}"
    if table is None or table.empty or spec.field not in table:
        return [], _checked_empty()
    df = table[table["department_id"].isin(ids)]
    if spec.table == "visits":
        # raters of one visit are combined: a visit fails when not every rater saw the success
        ok = df[spec.field].isin(spec.success).astype(float).where(df[spec.field].notna())
        df = pd.DataFrame({"department_id": df["department_id"], "unit": df["visit_id"], "ok": ok})
        df = df.groupby(["department_id", "unit"], sort=True)["ok"].mean().reset_index()
        df = df[df["ok"].notna()].assign(fail=lambda f: f["ok"] < 1)
    else:
        valid = df[spec.field].notna()
        unit = df["guide_id"] if spec.table == "guides" else pd.Series("", index=df.index)
        df = pd.DataFrame({"department_id": df["department_id"], "unit": unit,
                           "fail": ~df[spec.field].isin(spec.success)})[valid]
    counts = df.groupby("department_id").agg(count=("fail", "sum"), base=("fail", "size"))
    rows = []
    for dep, c in counts.iterrows():
        if dep not in own.index or c["count"] <= 0:
            continue
        examples = ""
        if spec.table in ("guides", "visits"):
            examples = ";".join(sorted(str(u) for u in df.loc[(df["department_id"] == dep) & df["fail"], "unit"]))
        rows.append({**_base_row(spec, own.loc[dep]), "department_id": dep, "kind": "share", "key": key,
                     "item": spec.field, "count": float(c["count"]), "base": float(c["base"]),
                     "rate": c["count"] / c["base"], "examples": examples,
                     "points_at_stake": _gain(spec, own.loc[dep], 1.0), "points_basis": "fix_all"})
    return rows, pd.DataFrame({"department_id": counts.index, "key": key, "base": counts["base"].to_numpy(float)})


def _census_share_rows(table: pd.DataFrame | None, spec: Indicator, own: pd.DataFrame, ids: set):
    """Records failing a census rate with a full-share target: ``Σ denominator - Σ numerator``."""
    key = f"{spec.table}.{spec.field}"
    if table is None or table.empty:
        return [], _checked_empty()
    sums = department_sums(table[table["department_id"].isin(ids)], [spec.field, spec.denominator])
    num, den = sums[spec.field].fillna(0.0), sums[spec.denominator]
    rows = []
    for dep in sums.index:
        base = den.get(dep)
        if dep not in own.index or not (base and base > 0):
            continue
        count = float(base - num.get(dep, 0.0))
        if count <= 0:
            continue
        rows.append({**_base_row(spec, own.loc[dep]), "department_id": dep, "kind": "census_share", "key": key,
                     "item": spec.field, "count": count, "base": float(base), "rate": count / float(base),
                     "points_at_stake": _gain(spec, own.loc[dep], 1.0), "points_basis": "fix_all"})
    base = den[den > 0]
    return rows, pd.DataFrame({"department_id": base.index, "key": key, "base": base.to_numpy(float)})


def _checklist_rows(table: pd.DataFrame | None, spec: Indicator, own: pd.DataFrame, ids: set,
                    framework: Framework):
    """Checklist criteria not (fully) met at site visits, per department and criterion."""
    if table is None or table.empty:
        return [], _checked_empty()
    items = [c for c in framework.item_ids("visits", kind="checklist") if c in table.columns]
    df = table[table["department_id"].isin(ids)]
    if not items or df.empty:
        return [], _checked_empty()
    rated = df[items].notna()
    n_rated = rated.sum(axis=1).where(lambda s: s > 0)
    # per rater row: what meeting each criterion adds to that row's checklist score
    lift = (1.0 - df[items]).div(n_rated, axis=0)
    keys = [df["department_id"], df["visit_id"]]
    visit_value = df[items].groupby(keys, sort=True).mean()
    visit_lift = lift.groupby(keys, sort=True).mean()
    # per department and criterion at once: visits rated, visits short of it, and the lift of meeting it
    deps = visit_value.index.get_level_values(0)
    values = visit_value.to_numpy(dtype=float)
    by_dep = visit_value.groupby(level=0, sort=True)
    n_visits = by_dep.size()
    base = visit_value.notna().groupby(level=0, sort=True).sum()
    n_short = (visit_value < 1).groupby(level=0, sort=True).sum()
    gains = visit_lift.fillna(0.0).groupby(level=0, sort=True).sum().div(n_visits, axis=0)
    visit_ids = visit_value.index.get_level_values(1).astype(str).to_numpy()
    labels = checklist_labels(framework)
    rows, checked = [], []
    for dep in base.index:
        o = own.loc[dep] if dep in own.index else None
        mine = np.flatnonzero(deps == dep)
        for k, item in enumerate(items):
            if not base.at[dep, item]:
                continue
            checked.append({"department_id": dep, "key": f"visits.{item}", "base": float(base.at[dep, item])})
            count = int(n_short.at[dep, item])
            if not count or o is None:
                continue
            short = mine[values[mine, k] < 1]
            zh, en = labels.get(item, ("", ""))
            n = float(base.at[dep, item])
            rows.append({**_base_row(spec, o), "department_id": dep, "kind": "checklist", "key": f"visits.{item}",
                         "item": item, "item_label": zh, "item_label_en": en, "count": float(count),
                         "base": n, "rate": count / n, "examples": ";".join(sorted(visit_ids[short])),
                         "points_at_stake": _gain(spec, o, float(o["raw_value"]) + float(gains.at[dep, item])),
                         "points_basis": "fix_all"})
    return rows, pd.DataFrame(checked, columns=["department_id", "key", "base"])


def _shortfall_rows(spec: Indicator, own: pd.DataFrame):
    """Any other indicator: listed when its score lies below the city mean beyond sampling noise."""
    key = f"{spec.table}.{spec.field}"
    rows = []
    for dep, o in own.iterrows():
        if not bool(o["beyond_noise"]):
            continue
        gain = float(o["w_index"]) * max(float(o["category_best"]) - float(o["score"]), 0.0)
        rows.append({**_base_row(spec, o), "department_id": dep, "kind": "indicator", "key": key, "item": spec.field,
                     "count": np.nan, "base": float(o["n"]) if pd.notna(o["n"]) else np.nan, "rate": np.nan,
                     "points_at_stake": gain, "points_basis": "category_best"})
    return rows, pd.DataFrame({"department_id": own.index, "key": key, "base": own["n"].to_numpy(float)})


def _survey_item_rows(drivers, ind: pd.DataFrame, framework: Framework, outcomes: set, scored: pd.DataFrame,
                      survey: pd.DataFrame | None):
    """Survey items the department's quadrant chart puts in 重点改进区 (outcomes excluded)."""
    if drivers is None or not len(drivers):
        return [], _checked_empty()
    meta = {i.id: i for i in framework.indicators}
    by = ind.set_index(["department_id", "indicator_id"])
    # each department's survey rows, found once
    where = survey.groupby("department_id", sort=False, observed=True).indices if survey is not None else {}
    rows, checked = [], []
    for dep, cat in zip(scored["department_id"], scored["category"]):
        quad, _ = quadrant_rows(drivers, dep, cat)
        for r in quad.itertuples(index=False):
            iid = str(r.indicator_id)
            if iid in outcomes or iid not in meta or (dep, iid) not in by.index:
                continue
            spec = meta[iid]
            checked.append({"department_id": dep, "key": f"{spec.table}.{spec.field}", "base": np.nan})
            if r.quadrant != "concentrate_here":
                continue
            o = by.loc[(dep, iid)]
            count, base = _bottom_box(survey, spec, where.get(dep, ()), framework)
            gain = float(o["w_index"]) * max(float(o["category_best"]) - float(o["score"]), 0.0)
            rows.append({**_base_row(spec, o), "department_id": dep, "kind": "survey_item",
                         "key": f"{spec.table}.{spec.field}", "item": spec.field, "count": count, "base": base,
                         "rate": count / base if base else np.nan, "points_at_stake": gain,
                         "points_basis": "category_best", "quadrant": "concentrate_here"})
    return rows, pd.DataFrame(checked, columns=["department_id", "key", "base"])


def _bottom_box(survey: pd.DataFrame | None, spec: Indicator, rows, framework: Framework) -> tuple[float, float]:
    """Respondents (the survey's ``rows`` of one department) answering in the item's bottom box (不满意 or
    worse), of those answering.

    Unweighted counts of answers: the evidence as recorded (the score and its
    interval are the design-based estimates).
    """
    scale = framework.scales.get(spec.scale) if spec.scale else None
    if survey is None or spec.field not in survey or scale is None:
        return np.nan, np.nan
    answers = survey[spec.field].iloc[np.asarray(rows, dtype=np.int64)]
    valid = answers.isin(scale.codes)
    return float(answers[valid].isin(scale.bottom_box).sum()), float(valid.sum())


def _gate_rows(scored: pd.DataFrame, quality: pd.DataFrame, framework: Framework):
    """Gate deductions and flags with their evidence (callback dispositions, G2 gap)."""
    g = framework.gates
    q = quality.set_index("department_id")
    rows, checked = [], []
    empty = {"indicator_id": "", "dimension_id": "", "channel": "C", "item": "", "item_label": "",
             "item_label_en": "", "examples": "", "raw_value": np.nan, "reference_raw": np.nan, "quadrant": "",
             "census": False}
    for dep, row in scored.set_index("department_id").iterrows():
        if dep not in q.index:
            continue
        qr = q.loc[dep]
        flags = set(str(row["flags"]).split(";")) if isinstance(row["flags"], str) else set()
        drawn = _num(qr, "n_callback_drawn")
        if np.isfinite(drawn) and drawn > 0:
            never = round(_num(qr, "never_handled_rate") * drawn)
            reached = _num(qr, "n_callback_complete") + never
            checked.append({"department_id": dep, "key": "gate.G1", "base": reached})
            checked.append({"department_id": dep, "key": "callback.never_handled", "base": reached})
            checked.append({"department_id": dep, "key": "gate.G3_wrong_number", "base": drawn})
            g1 = _num(qr, "g1_authenticity")
            deduction = _num(row, "g1_deduction")
            if never > 0 and np.isfinite(g1) and reached > 0:
                high = _num(qr, "g1_ci_high")
                gated = np.isfinite(deduction) and deduction > 0
                rows.append({**empty, "department_id": dep, "kind": "gate_g1" if gated else "never_handled",
                             "key": "gate.G1" if gated else "callback.never_handled", "count": float(never),
                             "base": float(reached), "rate": never / reached, "score": g1,
                             "ci_low": _num(qr, "g1_ci_low"), "ci_high": high, "reference": g.g1_threshold,
                             "gap": g.g1_threshold - g1,
                             "beyond_noise": bool(high < g.g1_threshold) if np.isfinite(high) else pd.NA,
                             "points_at_stake": float(deduction) if gated else np.nan,
                             "points_basis": "deduction" if gated else "flag"})
            wrong = round(_num(qr, "wrong_number_rate") * drawn)
            if "G3_wrong_number" in flags and wrong > 0:
                low = 100.0 * _num(qr, "g3_wrong_number_ci_low")
                rows.append({**empty, "department_id": dep, "kind": "gate_g3", "key": "gate.G3_wrong_number",
                             "count": float(wrong), "base": float(drawn), "rate": wrong / drawn,
                             "score": 100.0 * wrong / drawn, "ci_low": low,
                             "ci_high": 100.0 * _num(qr, "g3_wrong_number_ci_high"),
                             "reference": 100.0 * g.g3_max_wrong_number,
                             "gap": 100.0 * (wrong / drawn - g.g3_max_wrong_number),
                             "beyond_noise": bool(low > 100.0 * g.g3_max_wrong_number) if np.isfinite(low) else pd.NA,
                             "points_at_stake": np.nan, "points_basis": "flag"})
        gap = _num(qr, "g2_gap")
        if np.isfinite(gap):
            checked.append({"department_id": dep, "key": "gate.G2", "base": np.nan})
            if "G2_inflation" in flags:
                low = _num(qr, "g2_ci_low")
                rows.append({**empty, "channel": "H", "department_id": dep, "kind": "gate_g2", "key": "gate.G2",
                             "count": np.nan, "base": np.nan, "rate": np.nan, "score": gap, "ci_low": low,
                             "ci_high": _num(qr, "g2_ci_high"), "reference": g.g2_threshold,
                             "gap": gap - g.g2_threshold,
                             "beyond_noise": bool(low > g.g2_threshold) if np.isfinite(low) else pd.NA,
                             "points_at_stake": np.nan, "points_basis": "flag"})
    return rows, pd.DataFrame(checked, columns=["department_id", "key", "base"])


def _comment_rows(themes: pd.DataFrame, ids: set):
    missing = [c for c in COMMENT_THEME_COLUMNS if c not in themes.columns]
    if missing:
        raise ValueError(f"comment themes lack the columns {missing} (see evaluation.comments.COMMENT_THEME_COLUMNS)")
    t = themes[themes["department_id"].isin(ids) & (pd.to_numeric(themes["n"], errors="coerce") > 0)]
    rows = [{"department_id": r.department_id, "kind": "comment_theme", "key": f"comment.{r.theme}",
             "indicator_id": "", "dimension_id": "", "channel": "S", "item": str(r.theme),
             "item_label": str(r.theme_zh), "item_label_en": str(r.theme_en), "count": float(r.n), "base": np.nan,
             "rate": np.nan, "examples": "" if pd.isna(r.examples) else str(r.examples), "raw_value": np.nan,
             "reference_raw": np.nan, "score": np.nan, "ci_low": np.nan, "ci_high": np.nan, "reference": np.nan,
             "gap": np.nan, "beyond_noise": pd.NA, "census": False, "points_at_stake": np.nan,
             "points_basis": "flag", "quadrant": ""} for r in t.itertuples(index=False)]
    deps = sorted(set(themes["department_id"]) & ids)
    checked = pd.DataFrame([{"department_id": d, "key": f"comment.{k}", "base": np.nan}
                            for d in deps for k in themes["theme"].unique()], columns=["department_id", "key", "base"])
    return rows, checked


def _numbered(problems: pd.DataFrame, meta: dict) -> pd.DataFrame:
    """Per department: largest points at stake first, then by kind and framework order; numbered from 1."""
    if not len(problems):
        return problems.assign(problem_no=pd.Series(dtype=int))
    order = {i: k for k, i in enumerate(meta)}
    p = problems.assign(_pts=problems["points_at_stake"].astype(float).fillna(-1.0),
                        _kind=problems["kind"].map({k: i for i, k in enumerate(KINDS)}),
                        _ind=problems["indicator_id"].map(order).fillna(len(order)))
    p = p.sort_values(["department_id", "_pts", "_kind", "_ind", "key"], ascending=[True, False, True, True, True],
                      kind="mergesort")
    p["problem_no"] = p.groupby("department_id").cumcount() + 1
    return p.drop(columns=["_pts", "_kind", "_ind"]).reset_index(drop=True)


def _checked_empty() -> pd.DataFrame:
    return pd.DataFrame(columns=["department_id", "key", "base"])


def _num(row: pd.Series, col: str) -> float:
    if col not in row.index or pd.isna(row[col]):
        return float("nan")
    return float(row[col])


# ---------------------------------------------------------------------------
# across departments, and across years
# ---------------------------------------------------------------------------

def common_problems(problems: pd.DataFrame, year: int) -> pd.DataFrame:
    """Each finding that occurs, with the departments showing it (:data:`COMMON_PROBLEM_COLUMNS`).

    ``count`` and ``base`` are summed over the departments (NaN where the
    kind has none), ``n_beyond_noise`` counts the departments whose gap
    exceeds sampling noise, ``points_at_stake`` is the sum over departments;
    ``departments`` lists the ids ";"-joined, most points at stake first.
    Sorted by the index points at stake summed over the departments (what
    the finding costs the city; gate deductions included), then by the
    number of departments; findings without points (flags, comment
    themes) follow by the number of departments.
    """
    if not len(problems):
        return pd.DataFrame(columns=COMMON_PROBLEM_COLUMNS)
    rows = []
    for key, g in problems.groupby("key", sort=True):
        g = g.sort_values(["points_at_stake", "department_id"], ascending=[False, True], na_position="last",
                          kind="mergesort")
        first = g.iloc[0]
        rows.append({"year": year, "key": key, "kind": first["kind"], "indicator_id": first["indicator_id"],
                     "item": first["item"], "item_label": first["item_label"], "item_label_en": first["item_label_en"],
                     "n_departments": g["department_id"].nunique(), "departments": ";".join(g["department_id"]),
                     "count": g["count"].sum(min_count=1), "base": g["base"].sum(min_count=1),
                     "n_beyond_noise": int(g["beyond_noise"].fillna(False).astype(bool).sum()),
                     "points_at_stake": g["points_at_stake"].sum(min_count=1)})
    out = pd.DataFrame(rows, columns=COMMON_PROBLEM_COLUMNS)
    out["_kind"] = out["kind"].map({k: i for i, k in enumerate(KINDS)})
    out = out.sort_values(["points_at_stake", "n_departments", "_kind", "key"], ascending=[False, False, True, True],
                          na_position="last", kind="mergesort")
    return out.drop(columns="_kind").reset_index(drop=True)


def follow_up(previous: pd.DataFrame | None, problems: pd.DataFrame, checked: pd.DataFrame, *, year: int,
              successors: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Last year's problems judged from this year's evidence (:data:`FOLLOW_UP_COLUMNS`).

    Parameters
    ----------
    previous : last year's problems with the departments' statuses
        (:data:`PREVIOUS_COLUMNS`, as ``surveys.rectification.read_rectification`` gives them);
        None or empty gives an empty table
    problems, checked : this year's :func:`build_problems` output
    year : this year
    successors : previous department id -> this year's id (renames and merges of the crosswalk)

    Returns
    -------
    DataFrame
        One row per previous problem: ``verdict`` ``fixed`` (checked again,
        gone), ``not_fixed`` (still there), ``reopened`` (still there though
        reported done) or ``not_verifiable`` (no evidence this year), with
        this year's ``count`` and ``base`` where the problem is still there.
    """
    if previous is None or not len(previous):
        return pd.DataFrame(columns=FOLLOW_UP_COLUMNS)
    successors = dict(successors or {})
    now = problems.set_index(["department_id", "key"])
    seen = set(zip(checked["department_id"], checked["key"]))
    kinds = problems.drop_duplicates("key").set_index("key")
    rows = []
    for r in previous.itertuples(index=False):
        dep = successors.get(str(r.department_id), str(r.department_id))
        here = (dep, r.key) in now.index
        if here:
            verdict = "reopened" if r.status == REPORTED_DONE else "not_fixed"
        elif (dep, r.key) in seen:
            verdict = "fixed"
        else:
            verdict = "not_verifiable"
        cur = now.loc[(dep, r.key)] if here else None
        if isinstance(cur, pd.DataFrame):
            cur = cur.iloc[0]
        kind = kinds["kind"].get(r.key, r.kind)
        rows.append({"year": year, "previous_year": int(r.year), "department_id": dep,
                     "previous_department_id": str(r.department_id), "previous_problem_no": r.problem_no,
                     "key": r.key, "kind": kind, "indicator_id": cur["indicator_id"] if here else "",
                     "item": r.key.split(".", 1)[-1], "previous_count": r.count, "previous_base": r.base,
                     "reported_status": r.status, "owner": r.owner, "note": r.note,
                     "count": cur["count"] if here else np.nan, "base": cur["base"] if here else np.nan,
                     "verdict": verdict})
    out = pd.DataFrame(rows, columns=FOLLOW_UP_COLUMNS)
    return out.sort_values(["department_id", "previous_problem_no"], kind="mergesort").reset_index(drop=True)

