"""Gates with their evidence: intervals and one-sided p beside G1-G3, and the "evidence" rule.

Hand computations: the Wilson (1927) score interval ``(p + q^2/2n -/+ q sqrt(p(1-p)/n + q^2/4n^2)) /
(1 + q^2/n)`` and its score test ``z = (p - c) / sqrt(c (1 - c) / n)``; the G2 gap's interval is the
好差评 good rate (a census) minus the callback top-2 share's interval.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation.design import interval_p_value, proportion_interval
from evaluation.gates import apply_gates
from evaluation.quality import quality_table
from surveys.errors import FrameworkError
from surveys.framework import load_framework
from surveys.schema import ChannelData

Q = stats.norm.ppf(0.975)


@pytest.fixture(scope="module")
def fw():
    return load_framework()


def _wilson(x, n):
    p = x / n
    centre = (p + Q * Q / (2 * n)) / (1 + Q * Q / n)
    half = Q / (1 + Q * Q / n) * np.sqrt(p * (1 - p) / n + Q * Q / (4 * n * n))
    return centre - half, centre + half


def _attempts(dept: str, counts: dict[str, int]) -> pd.DataFrame:
    rows, k = [], 0
    for outcome, n in counts.items():
        for _ in range(n):
            k += 1
            rows.append({"department_id": dept, "case_id": f"{dept}-{k}", "attempt_no": 1, "outcome": outcome})
    return pd.DataFrame(rows)


def test_quality_table_reports_intervals_and_p_beside_the_gated_rates(fw):
    # 100 cases drawn: 60 complete, 10 never handled, 12 wrong numbers, 18 no answer
    att = _attempts("A01", {"complete": 60, "never_handled": 10, "wrong_number": 12, "no_answer": 18})
    data = ChannelData(2024, {"callback_attempts": att})
    indicators = pd.DataFrame(columns=["department_id", "indicator_id", "top2", "top2_se", "top2_ci_low",
                                       "top2_ci_high", "n", "df", "raw_value"])
    q = quality_table(data, indicators, fw).set_index("department_id").loc["A01"]
    assert q["g1_authenticity"] == pytest.approx(100 * 60 / 70)
    lo, hi = _wilson(60, 70)
    assert (q["g1_ci_low"], q["g1_ci_high"]) == pytest.approx((100 * lo, 100 * hi))
    # one-sided score test of authenticity below 95%, and below the audit threshold 80%
    for col, c in (("g1_p", 0.95), ("g1_audit_p", 0.80)):
        z = (60 / 70 - c) / np.sqrt(c * (1 - c) / 70)
        assert q[col] == pytest.approx(stats.norm.cdf(z))
    lo, hi = _wilson(60, 100)
    assert (q["g3_completion_ci_low"], q["g3_completion_ci_high"]) == pytest.approx((lo, hi))
    assert q["g3_completion_p"] == pytest.approx(stats.norm.cdf((0.6 - 0.5) / np.sqrt(0.25 / 100)))
    lo, hi = _wilson(12, 100)
    assert (q["g3_wrong_number_ci_low"], q["g3_wrong_number_ci_high"]) == pytest.approx((lo, hi))
    assert q["g3_wrong_number_p"] == pytest.approx(stats.norm.sf((0.12 - 0.15) / np.sqrt(0.15 * 0.85 / 100)))


def test_the_p_value_matches_the_interval():
    # the interval at level L excludes the threshold exactly when p < (1 - L) / 2, for every method
    p, se, n, df = 0.82, 0.04, 120, 9
    for method in ("logit", "beta", "wald", "wilson"):
        lo, hi = proportion_interval(p, se, n, df, 0.95, method)
        assert interval_p_value(p, se, n, df, hi, method=method, side="below") == pytest.approx(0.025, abs=1e-7)
        assert interval_p_value(p, se, n, df, lo, method=method, side="above") == pytest.approx(0.025, abs=1e-7)
        below = interval_p_value(p, se, n, df, 0.9, method=method, side="below")
        above = interval_p_value(p, se, n, df, 0.9, method=method, side="above")
        assert below + above == pytest.approx(1.0, abs=1e-7)


def _departments():
    return pd.DataFrame({"department_id": ["A01", "A02", "A03"], "index": [88.0, 88.0, 88.0], "se": [1.0] * 3,
                         "ci_low": [86.0] * 3, "ci_high": [90.0] * 3, "n_survey": [300] * 3, "n_callback": [100] * 3})


def _quality():
    # A01: G1 93% with an interval reaching 97% (not shown to be below 95); A02: 70%, interval up to 76%;
    # A03: G2 gap of 12 points whose interval starts at 6; completion 45% (interval up to 52%)
    return pd.DataFrame({
        "department_id": ["A01", "A02", "A03"], "g1_authenticity": [93.0, 70.0, 99.0],
        "g1_ci_low": [85.0, 64.0, 97.0], "g1_ci_high": [97.0, 76.0, 100.0],
        "g2_gap": [2.0, 14.0, 12.0], "g2_ci_low": [-3.0, 11.0, 6.0], "g2_ci_high": [7.0, 17.0, 18.0],
        "callback_completion": [0.6, 0.6, 0.45], "g3_completion_ci_low": [0.5, 0.5, 0.38],
        "g3_completion_ci_high": [0.7, 0.7, 0.52], "wrong_number_rate": [0.05, 0.2, 0.05],
        "g3_wrong_number_ci_low": [0.02, 0.16, 0.02], "g3_wrong_number_ci_high": [0.1, 0.25, 0.1]})


def test_point_rule_acts_on_the_estimate(fw):
    out = apply_gates(_departments(), _quality(), fw).set_index("department_id")
    assert out.loc["A01", "g1_deduction"] == pytest.approx(1.0)            # 0.5 x (95 - 93)
    assert out.loc["A02", "g1_deduction"] == pytest.approx(5.0) and out.loc["A02", "grade"] == "C"
    assert "G2_inflation" in out.loc["A03", "flags"] and "G3_completion" in out.loc["A03", "flags"]
    assert "G3_wrong_number" in out.loc["A02", "flags"]


def test_evidence_rule_acts_only_when_the_interval_excludes_compliance(fw):
    out = apply_gates(_departments(), _quality(), replace(fw, gate_rule="evidence")).set_index("department_id")
    assert out.loc["A01", "g1_deduction"] == 0 and "G1_deduction" not in out.loc["A01", "flags"]
    # the whole interval of A02 is below 95 and below 80: deducted by its point shortfall, audited
    assert out.loc["A02", "g1_deduction"] == pytest.approx(5.0) and out.loc["A02", "grade"] == "C"
    assert {"G1_deduction", "G1_audit", "G2_inflation", "G3_wrong_number"} <= set(out.loc["A02", "flags"].split(";"))
    assert "G2_inflation" not in out.loc["A03", "flags"] and "G3_completion" not in out.loc["A03", "flags"]
    # G4 counts respondents: the same under both rules
    small = _departments().assign(n_survey=[10, 300, 300])
    assert "G4_small_sample" in apply_gates(small, _quality(), replace(fw, gate_rule="evidence"))["flags"].iloc[0]


def test_gate_rule_is_a_checked_setting(fw):
    assert fw.gate_rule == "point"
    with pytest.raises(FrameworkError, match="evidence"):
        replace(fw, gate_rule="evidense")


def test_g2_gap_interval_is_the_good_rate_minus_the_top2_interval(fw):
    from surveys.derive import derive_all

    ratings = pd.DataFrame({"rating_id": [f"r{k}" for k in range(20)], "department_id": "A01",
                            "rated_at": pd.Timestamp("2024-05-06"), "level": [5.0] * 19 + [2.0],
                            "default_rating": 0.0, "deadline_days": np.nan, "rectified_at": pd.NaT,
                            "callback_level": np.nan})
    data = ChannelData(2024, derive_all({"ratings": ratings}))
    lo, hi = proportion_interval(0.8, 0.04, 100, 99, 0.95, "logit")
    indicators = pd.DataFrame({"department_id": ["A01"], "indicator_id": ["D1.2"], "top2": [0.8],
                               "top2_se": [0.04], "top2_ci_low": [lo], "top2_ci_high": [hi], "n": [100],
                               "df": [99.0], "raw_value": [70.0]})
    q = quality_table(data, indicators, fw).iloc[0]
    assert q["g2_gap"] == pytest.approx(100 * (0.95 - 0.8))
    assert q["g2_se"] == pytest.approx(4.0)
    assert (q["g2_ci_low"], q["g2_ci_high"]) == pytest.approx((100 * (0.95 - hi), 100 * (0.95 - lo)))
    # p of "gap above 10 points" = p of "top-2 share below 0.85" on the logit interval's own scale
    assert q["g2_p"] == pytest.approx(interval_p_value(0.8, 0.04, 100, 99, 0.85, method="logit", side="below"))
    assert 0.025 < q["g2_p"] < 0.5          # a gap of 15 points, but the interval still reaches below 10
    assert q["g2_ci_low"] < 10 < q["g2_gap"]
