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
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from surveys.aggregate import COUNT, department_sums, is_aggregated, rating_terms
from surveys.callbacks import final_dispositions
from surveys.framework import Framework
from surveys.schema import ChannelData

from .coverage import records_authenticity
from .outcome_rates import outcome_rates_by_group

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


def quality_table(data: ChannelData, indicators: pd.DataFrame, framework: Framework) -> pd.DataFrame:
    """All quality figures per department, plus G2 and the objective reform figures.

    G2 compares the 好差评 good-review rate with the top-2-box rate of the
    framework's ``[roles] inflation_indicator``; the objective reform figures
    are the raw values of the indicators named in ``[roles] reform_figures``
    (one column per figure name).  A role the framework does not declare
    gives no column (G2: ``callback_top2`` and ``g2_gap`` stay empty).
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
    return out
