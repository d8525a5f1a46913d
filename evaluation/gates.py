"""Gates (not weighted) and grades.

- G1 record authenticity below ``g1_threshold`` (95%): deduct
  ``g1_deduction_per_point`` x (threshold - G1) points, at most
  ``g1_max_deduction``; below ``g1_audit_threshold`` (80%) the grade is capped
  at C and the department is flagged for audit.
- G2 rating-inflation gap above ``g2_threshold`` points: flag.
- G3 callback completion below ``g3_min_completion`` or wrong numbers above
  ``g3_max_wrong_number``: flag.
- G4 survey n below ``g4_min_survey`` or callback completes below
  ``g4_min_callback``: "样本不足，结果仅供参考" (for reference only).
- Optional bonus (at most ``bonus_max``) and 一票否决 (veto: grade D) come from
  an ``adjustments`` frame (department_id, bonus, veto) when the framework
  enables them.

Grades by band on the final index; ``borderline`` (临界) when the interval of
the final index straddles a band edge.  The deduction shifts the estimate
and its interval alike (it is a fixed rule applied to a measured rate).

Rule (``framework.gate_rule``)
    ``"point"`` (default, the published practice): G1-G3 act on the point
    estimate of the gated rate.  ``"evidence"``: a gate acts only when the
    interval of the gated rate at the confidence level lies wholly on the
    non-compliant side of its threshold -- G1 deducts (by the point estimate's
    shortfall) when the upper bound of the authenticity is below the
    threshold and caps the grade when it is below the audit threshold; G2
    flags when the lower bound of the gap is above its threshold; G3 flags
    when the upper bound of the completion is below the minimum or the lower
    bound of the wrong-number rate above the maximum.  Equivalently the
    one-sided p-value beside the rate (:mod:`evaluation.quality`) is below
    ``(1 - level) / 2``.  A rate without an interval does not act under
    ``"evidence"``.  G4 (sample size) is a count and is the same under both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from surveys.framework import Framework


def apply_gates(departments: pd.DataFrame, quality: pd.DataFrame, framework: Framework,
                adjustments: pd.DataFrame | None = None, *, collected: frozenset[str] = frozenset("SCVAH")
                ) -> pd.DataFrame:
    """Add ``index_raw, g1_deduction, bonus, index`` (final), ``grade``, ``borderline`` and ``flags``.

    ``departments`` needs ``department_id, index, se, ci_low, ci_high,
    n_survey, n_callback``; ``quality`` the rates of
    :func:`evaluation.quality.quality_table` and, under the ``"evidence"``
    rule, their intervals.  The rule is ``framework.gate_rule`` (module notes).
    ``collected``: the channels the year's data have; a gate whose evidence
    comes from a channel not collected gives no verdict (no small-sample flag
    for a questionnaire that was never run, no G1 from callbacks that were
    never made).
    """
    g = framework.gates
    out = departments.copy()
    q = quality.set_index("department_id")

    def col(name: str) -> pd.Series:
        return out["department_id"].map(q[name]) if name in q else pd.Series(np.nan, index=out.index)

    g1 = col("g1_authenticity")
    if framework.gate_rule == "evidence":
        # the rate counts as non-compliant only where its whole interval is (module notes)
        g1_upper = col("g1_ci_high")
        g1_shortfall = g1.where(g1_upper < g.g1_threshold)
        audit = (g1_upper < g.g1_audit_threshold).fillna(False)
        g2_flag = (col("g2_ci_low") > g.g2_threshold).fillna(False)
        comp_flag = (col("g3_completion_ci_high") < g.g3_min_completion).fillna(False)
        wrong_flag = (col("g3_wrong_number_ci_low") > g.g3_max_wrong_number).fillna(False)
    else:
        g1_shortfall = g1
        audit = (g1 < g.g1_audit_threshold).fillna(False)
        g2_flag = (col("g2_gap") > g.g2_threshold).fillna(False)
        comp_flag = (col("callback_completion") < g.g3_min_completion).fillna(False)
        wrong_flag = (col("wrong_number_rate") > g.g3_max_wrong_number).fillna(False)

    deduction = np.clip(g.g1_deduction_per_point * (g.g1_threshold - g1_shortfall.fillna(100.0)), 0.0,
                        g.g1_max_deduction)
    bonus = pd.Series(0.0, index=out.index)
    veto = pd.Series(False, index=out.index)
    if adjustments is not None and len(adjustments):
        adj = adjustments.set_index("department_id")
        if "bonus" in adj:
            bonus = out["department_id"].map(adj["bonus"]).fillna(0.0).clip(upper=g.bonus_max)
        if "veto" in adj and g.veto_enabled:
            veto = out["department_id"].map(adj["veto"]).fillna(False).astype(bool)
    out["index_raw"] = out["index"]
    out["g1_deduction"] = deduction
    out["bonus"] = bonus
    shift = bonus - deduction
    out["index"] = out["index_raw"] + shift
    out["ci_low"] = out["ci_low"] + shift
    out["ci_high"] = out["ci_high"] + shift

    bands = sorted(framework.grades, key=lambda b: -b.min)
    grade = out["index"].map(lambda v: framework.grade_for(v).grade if pd.notna(v) else "")
    cap = {b.grade: i for i, b in enumerate(bands)}
    c_grade = next((b.grade for b in bands if b.grade == "C"), None)
    if c_grade:
        grade = grade.where(~(audit & grade.map(lambda x: cap.get(x, 99) < cap[c_grade])), c_grade)
    lowest = bands[-1].grade
    grade = grade.where(~veto, lowest)
    out["grade"] = grade
    names = {b.grade: (b.name, b.name_en) for b in bands}
    out["grade_name"] = grade.map(lambda x: names.get(x, ("", ""))[0])
    out["grade_name_en"] = grade.map(lambda x: names.get(x, ("", ""))[1])
    edges = [b.min for b in bands if b.min > 0]
    out["borderline"] = [
        any(lo < e <= hi for e in edges) if pd.notna(lo) else False
        for lo, hi in zip(out["ci_low"], out["ci_high"])
    ]

    flags = {
        "G1_deduction": deduction > 0,
        "G1_audit": audit,
        "G2_inflation": g2_flag,
        "G3_completion": comp_flag,
        "G3_wrong_number": wrong_flag,
        "G4_small_sample": (("S" in collected) & (out["n_survey"].fillna(0) < g.g4_min_survey))
        | (("C" in collected) & (out["n_callback"].fillna(0) < g.g4_min_callback)),
        "veto": veto,
    }
    if "missing_dimensions" in out:
        flags["dimension_missing"] = out["missing_dimensions"].fillna("") != ""
    codes = pd.DataFrame(flags)
    out["flags"] = codes.apply(lambda r: ";".join(k for k, v in r.items() if v), axis=1) if len(out) else ""
    return out
