"""Data-quality figures per department: callbacks, 好差评 and the objective reform figures.

Callbacks (one final disposition per drawn case, :mod:`surveys.callbacks`):

- ``callback_completion`` = completes (I + P) / cases drawn (gate G3)
- ``wrong_number_rate``, ``never_handled_rate`` = share of cases drawn (G3)
- ``g1_authenticity`` (percent) = among reached contacts whose authenticity
  was asked, the share confirming person + matter + month:
  (I + P) / (I + P + never handled) x 100 (gate G1); empty when the year's
  call results cannot record a never-handled case
  (:func:`evaluation.coverage.records_authenticity`), so no gate reads 100%
- AAPOR RR1-RR6, COOP1-4, REF1-3, CON1-3 with ``e`` estimated proportionally
  (:mod:`evaluation.outcome_rates`)

好差评 (GB/T 39734-2020 / 39735-2020 definitions; levels 4-5 good, 1-2 bad):

- ``haocha_good_rate`` good / all ratings; ``haocha_active_good_rate`` good /
  active (non-default) ratings; ``haocha_default_share`` system-default ratings / all
  (the no-rating rate: cases closed without an active rating);
  ``haocha_bad_rate`` bad / all; ``rectified_on_time_rate`` bad reviews rectified within
  the deadline / bad reviews; ``rectification_callback_rate`` bad reviews called
  back / bad reviews; ``rectification_satisfaction`` callbacks rated 3-5 / callbacks.
- ``g2_gap`` (percentage points) = 好差评 good rate - callback top-2-box rate of
  overall satisfaction (the framework's ``[roles] inflation_indicator``) (gate G2).

Evidence beside every gated rate: the interval
at the confidence level and a one-sided p-value of the test that the
interval inverts, against the gate's threshold (the alternative is
non-compliance), so that a gate can act on evidence
(``framework.gate_rule = "evidence"``, :mod:`evaluation.gates`):

- G1 ``g1_ci_low``, ``g1_ci_high`` (percent), ``g1_p`` (H1: authenticity
  below ``g1_threshold``), ``g1_audit_p`` (H1: below ``g1_audit_threshold``);
- G3 ``g3_completion_ci_low``, ``g3_completion_ci_high``, ``g3_completion_p``
  (H1: completion below ``g3_min_completion``), ``g3_wrong_number_ci_low``,
  ``g3_wrong_number_ci_high``, ``g3_wrong_number_p`` (H1: wrong numbers above
  ``g3_max_wrong_number``).  The callback cases are drawn at random from each
  department's case records, so these rates are binomial proportions of the
  cases drawn (G1: of the contacts reached): Wilson score intervals and the
  score test they invert (Wilson 1927; Agresti & Coull 1998), without the
  finite population correction (conservative when a large share of a small
  department's cases is drawn);
- G2 ``g2_se``, ``g2_ci_low``, ``g2_ci_high`` (points), ``g2_p`` (H1: gap
  above ``g2_threshold``).  The 好差评 good rate is a census of the ratings
  (no sampling error); the callback top-2 share is design-based
  (:mod:`evaluation.indicators`), so the gap's interval is the good rate
  minus the top-2 share's interval (the framework's ``share_interval``) and
  ``g2_se`` is 100 times the top-2 share's standard error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from surveys.aggregate import COUNT, department_sums, is_aggregated, rating_terms
from surveys.callbacks import final_dispositions
from surveys.framework import Framework
from surveys.schema import ChannelData

from .coverage import records_authenticity
from .design import interval_p_value, proportion_interval
from .outcome_rates import outcome_rates_by_group

#: the evidence columns beside the gated rates (module notes)
GATE_EVIDENCE_COLUMNS = [
    "g1_ci_low", "g1_ci_high", "g1_p", "g1_audit_p", "g2_se", "g2_ci_low", "g2_ci_high", "g2_p",
    "g3_completion_ci_low", "g3_completion_ci_high", "g3_completion_p", "g3_wrong_number_ci_low",
    "g3_wrong_number_ci_high", "g3_wrong_number_p",
]

QUALITY_RATES = ["RR1", "RR2", "RR3", "RR4", "RR5", "RR6", "COOP1", "COOP2", "COOP3", "COOP4", "REF1", "REF2",
                 "REF3", "CON1", "CON2", "CON3"]


def callback_quality(data: ChannelData) -> pd.DataFrame:
    """Per department: callback sample, dispositions, G1, G3 inputs and AAPOR rates."""
    att = data.tables.get("callback_attempts")
    if att is None or att.empty:
        return pd.DataFrame(columns=["department_id"])
    disp = final_dispositions(att)
    counts = disp.pivot_table(index="department_id", columns="disposition", values="case_id", aggfunc="count",
                              fill_value=0)
    get = lambda k: counts[k] if k in counts.columns else pd.Series(0, index=counts.index)  # noqa: E731
    drawn = counts.sum(axis=1)
    reached_ok = get("complete") + get("partial")
    out = pd.DataFrame({
        "n_callback_drawn": drawn,
        "n_callback_complete": get("complete") + get("partial"),
        "callback_completion": reached_ok / drawn,
        "wrong_number_rate": get("wrong_number") / drawn,
        "never_handled_rate": get("never_handled") / drawn,
        "g1_authenticity": 100.0 * reached_ok / (reached_ok + get("never_handled")).where(
            (reached_ok + get("never_handled")) > 0),
        "mean_attempts": disp.groupby("department_id")["attempts"].mean(),
    })
    if not records_authenticity(data):
        out["g1_authenticity"] = np.nan
    rates = outcome_rates_by_group(disp, "department_id", "aapor")
    rates = rates[QUALITY_RATES + ["e"]].rename(columns=lambda c: c.lower() if c != "e" else "aapor_e")
    out = out.join(rates)
    out.index.name = "department_id"
    return out.reset_index()


def haocha_quality(data: ChannelData) -> pd.DataFrame:
    """Per department: 好差评 rates (GB/T 39734/39735 definitions, see module notes)."""
    r = data.tables.get("ratings")
    if r is None or r.empty:
        return pd.DataFrame(columns=["department_id"])
    # The records or their sufficient statistics (surveys.aggregate): every figure is a ratio of sums.
    if not is_aggregated(r):
        r = pd.concat([r, rating_terms(r)], axis=1)
        if "default_rating" not in r.columns:
            r["default_rating"] = 0.0
    fields = ["good", "active_good", "default_rating", "is_bad", "rectified_on_time", "rectification_called_back",
              "rectification_satisfied"]
    s = department_sums(r, fields).fillna({f: 0.0 for f in fields})
    n = s[COUNT]
    default = s["default_rating"]
    active = n - default
    bad = s["is_bad"].where(s["is_bad"] > 0)
    out = pd.DataFrame({
        "haocha_n": n,
        "haocha_good_rate": s["good"] / n,
        "haocha_active_good_rate": s["active_good"] / active.where(active > 0),
        "haocha_default_share": default / n,
        "haocha_bad_rate": s["is_bad"] / n,
        "rectified_on_time_rate": s["rectified_on_time"] / bad,
        "rectification_callback_rate": s["rectification_called_back"] / bad,
        "rectification_satisfaction": s["rectification_satisfied"] / s["rectification_called_back"].where(
            s["rectification_called_back"] > 0),
    })
    out.index.name = "department_id"
    return out.reset_index()


def quality_table(data: ChannelData, indicators: pd.DataFrame, framework: Framework, *,
                  level: float | None = None) -> pd.DataFrame:
    """All quality figures per department, plus G2, the objective reform figures and the gates' evidence.

    G2 compares the 好差评 good-review rate with the top-2-box rate of the
    framework's ``[roles] inflation_indicator``; the objective reform figures
    are the raw values of the indicators named in ``[roles] reform_figures``
    (one column per figure name).  A role the framework does not declare
    gives no column (G2: ``callback_top2`` and ``g2_gap`` stay empty).
    Beside the gated rates stand GATE_EVIDENCE_COLUMNS (module notes), with
    the framework's gate thresholds and share interval, at ``level``
    (default: the framework's confidence level).
    """
    roles = framework.roles
    cb = callback_quality(data)
    hc = haocha_quality(data)
    depts = sorted(set(indicators["department_id"]) | set(cb.get("department_id", [])) |
                   set(hc.get("department_id", [])))
    out = pd.DataFrame({"department_id": depts, "year": data.year})
    out = out.merge(cb, on="department_id", how="left").merge(hc, on="department_id", how="left")
    raw = indicators.set_index(["department_id", "indicator_id"])
    present = set(raw.index.get_level_values(1))

    def of(iid: str | None, column: str) -> pd.Series:
        return raw[column].xs(iid, level="indicator_id") if iid in present else pd.Series(dtype=float)

    out["callback_top2"] = out["department_id"].map(of(roles.inflation_indicator, "top2"))
    out["g2_gap"] = 100.0 * (out.get("haocha_good_rate", np.nan) - out["callback_top2"])
    for col, iid in roles.reform_figures.items():
        out[col] = out["department_id"].map(of(iid, "raw_value"))
    level = framework.confidence_level if level is None else level
    return _gate_evidence(out, raw, roles.inflation_indicator, framework, level)


def _wilson(successes, trials, level: float, threshold: float, side: str):
    """Wilson interval of ``successes / trials`` and the one-sided score-test p against ``threshold``."""
    n = np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n > 0, np.asarray(successes, dtype=float) / n, np.nan)
        se = np.sqrt(p * (1 - p) / n)
    lo, hi = proportion_interval(p, se, n, np.inf, level, "wilson")
    pv = interval_p_value(p, se, n, np.inf, threshold, method="wilson", side=side)
    return lo, hi, pv


def _gate_evidence(out: pd.DataFrame, raw: pd.DataFrame, g2_indicator: str | None, framework: Framework,
                   level: float) -> pd.DataFrame:
    g = framework.gates
    for col in GATE_EVIDENCE_COLUMNS:
        out[col] = np.nan
    ok = out["n_callback_complete"].fillna(0.0).to_numpy(float) if "n_callback_complete" in out \
        else np.zeros(len(out))
    drawn = out["n_callback_drawn"].fillna(0.0).to_numpy(float) if "n_callback_drawn" in out \
        else np.zeros(len(out))
    never = out["never_handled_rate"].fillna(0.0).to_numpy(float) * drawn if "never_handled_rate" in out \
        else np.zeros(len(out))
    wrong = out["wrong_number_rate"].fillna(0.0).to_numpy(float) * drawn if "wrong_number_rate" in out \
        else np.zeros(len(out))
    reached = ok + never
    lo, hi, p = _wilson(ok, reached, level, g.g1_threshold / 100.0, "below")
    out["g1_ci_low"], out["g1_ci_high"], out["g1_p"] = 100.0 * lo, 100.0 * hi, p
    out["g1_audit_p"] = _wilson(ok, reached, level, g.g1_audit_threshold / 100.0, "below")[2]
    if "g1_authenticity" in out:
        # no rate, no evidence: G1 not measured (the call results cannot record a never-handled case)
        out.loc[out["g1_authenticity"].isna(), ["g1_ci_low", "g1_ci_high", "g1_p", "g1_audit_p"]] = np.nan
    lo, hi, p = _wilson(ok, drawn, level, g.g3_min_completion, "below")
    out["g3_completion_ci_low"], out["g3_completion_ci_high"], out["g3_completion_p"] = lo, hi, p
    lo, hi, p = _wilson(np.rint(wrong), drawn, level, g.g3_max_wrong_number, "above")
    out["g3_wrong_number_ci_low"], out["g3_wrong_number_ci_high"], out["g3_wrong_number_p"] = lo, hi, p

    if g2_indicator in raw.index.get_level_values(1):
        row = raw.xs(g2_indicator, level="indicator_id").reindex(out["department_id"])
        share = row["top2"].to_numpy(float)
        se = row["top2_se"].to_numpy(float)
        good = out["haocha_good_rate"].to_numpy(float) if "haocha_good_rate" in out else np.full(len(out), np.nan)
        out["g2_se"] = 100.0 * se
        out["g2_ci_low"] = 100.0 * (good - row["top2_ci_high"].to_numpy(float))
        out["g2_ci_high"] = 100.0 * (good - row["top2_ci_low"].to_numpy(float))
        # a share at 0 or 1 carries the pooled (Wald, normal) interval of the indicators' rule
        pooled = (share == 0) | (share == 1)
        method = framework.share_interval_method
        p_share = interval_p_value(share, se, row["n"].to_numpy(float), row["df"].to_numpy(float),
                                   good - g.g2_threshold / 100.0, method=method, side="below")
        p_pooled = interval_p_value(share, se, row["n"].to_numpy(float), np.inf, good - g.g2_threshold / 100.0,
                                    method="wald", side="below")
        out["g2_p"] = np.where(pooled, p_pooled, p_share)
    return out
