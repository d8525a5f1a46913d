"""Tests of evaluation.outcome_rates (AAPOR Standard Definitions)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from evaluation.outcome_rates import (
    OUTCOME_CODES,
    RATE_NAMES,
    disposition_counts,
    outcome_rates,
    outcome_rates_by_group,
)
from surveys.errors import DataValidationError, MethodologyError

# Reference README section 2 (same values as R outcomerate).
COUNTS = {"I": 4, "P": 2, "R": 1, "NC": 1, "O": 1, "UH": 1, "UO": 1, "NE": 1}
REFERENCE = {
    "RR1": 0.363636, "RR2": 0.545455, "RR3": 0.370370, "RR4": 0.555556, "RR5": 0.444444,
    "RR6": 0.666667, "COOP1": 0.5, "COOP2": 0.75, "COOP3": 0.571429, "COOP4": 0.857143,
    "REF1": 0.090909, "REF2": 0.092593, "REF3": 0.111111, "CON1": 0.727273, "CON2": 0.740741,
    "CON3": 0.888889, "LOC1": 0.818182, "LOC2": 0.833333,
}

# Reference README section 2, weighted example.
WEIGHTED_CODES = ["I", "P", "I", "UO", "R", "I", "NC", "I", "O", "P", "UH"]
WEIGHTS = [1.3] * 6 + [2.5] * 5


def test_reference_counts():
    r = outcome_rates(COUNTS)
    assert r.e == pytest.approx(0.9, abs=1e-12)  # (4+2+1+1+1)/(4+2+1+1+1+1)
    assert r.e_method == "proportional"
    assert list(r.rates.index) == list(RATE_NAMES)
    for name, value in REFERENCE.items():
        assert r.rates[name] == pytest.approx(value, abs=1e-6), name
    assert (r.n, r.weighted_n) == (12.0, 12.0)


def test_reference_closed_forms():
    r = outcome_rates(COUNTS).rates
    # I+P = 6, R+NC+O = 3, UH+UO = 2, e = 0.9
    assert r["RR1"] == pytest.approx(4 / 11, rel=1e-12)
    assert r["RR4"] == pytest.approx(6 / 10.8, rel=1e-12)
    assert r["COOP3"] == pytest.approx(4 / 7, rel=1e-12)
    assert r["CON2"] == pytest.approx(8 / 10.8, rel=1e-12)
    assert r["LOC2"] == pytest.approx(9 / 10.8, rel=1e-12)


def test_weighted_reference():
    r = outcome_rates(codes=WEIGHTED_CODES, weights=WEIGHTS)
    assert r.rates["RR2"] == pytest.approx(10.2 / 20.3, rel=1e-12)
    assert r.rates["CON1"] == pytest.approx(14 / 20.3, rel=1e-12)
    assert round(r.rates["RR2"], 4) == 0.5025 and round(r.rates["CON1"], 4) == 0.6897
    assert r.n == 11 and r.weighted_n == pytest.approx(20.3)
    assert r.counts["I"] == pytest.approx(6.4)


def test_codes_and_counts_agree():
    codes = [k for k, v in COUNTS.items() for _ in range(v)]
    from_codes = outcome_rates(codes=codes)
    pd.testing.assert_series_equal(from_codes.rates, outcome_rates(COUNTS).rates)
    pd.testing.assert_series_equal(from_codes.counts, disposition_counts(codes))


def test_given_e_and_its_limits():
    r = outcome_rates(COUNTS, e=0.5)
    assert r.e_method == "given" and r.e == 0.5
    assert r.rates["RR3"] == pytest.approx(4 / 10, rel=1e-12)
    one, zero = outcome_rates(COUNTS, e=1).rates, outcome_rates(COUNTS, e=0).rates
    for a, b in (("RR3", "RR1"), ("RR4", "RR2"), ("REF2", "REF1"), ("CON2", "CON1"), ("LOC2", "LOC1")):
        assert one[a] == pytest.approx(one[b], rel=1e-12)
    for a, b in (("RR3", "RR5"), ("RR4", "RR6"), ("REF2", "REF3"), ("CON2", "CON3")):
        assert zero[a] == pytest.approx(zero[b], rel=1e-12)


def test_weights_rescaling_and_row_order_invariance():
    base = outcome_rates(codes=WEIGHTED_CODES, weights=WEIGHTS).rates
    scaled = outcome_rates(codes=WEIGHTED_CODES, weights=np.array(WEIGHTS) * 37.5).rates
    pd.testing.assert_series_equal(base, scaled, rtol=1e-12)
    order = np.random.default_rng(3).permutation(len(WEIGHTS))
    shuffled = outcome_rates(codes=[WEIGHTED_CODES[i] for i in order],
                             weights=[WEIGHTS[i] for i in order]).rates
    pd.testing.assert_series_equal(base, shuffled, rtol=1e-12)


def test_rates_bounded_and_ordered():
    rng = np.random.default_rng(11)
    for _ in range(20):
        counts = dict(zip(OUTCOME_CODES, rng.integers(0, 20, size=8)))
        counts["I"] += 1
        r = outcome_rates(counts).rates
        assert ((r >= 0) & (r <= 1)).all()
        assert r["RR1"] <= r["RR3"] <= r["RR5"]
        assert r["RR1"] <= r["RR2"] and r["COOP1"] <= r["COOP3"]


def test_zero_denominators_are_nan():
    r = outcome_rates({"NE": 3})
    assert r.rates.isna().all()
    assert r.e == 0.0
    unknown_only = outcome_rates({"UH": 3})
    assert math.isnan(unknown_only.e)
    assert unknown_only.rates["RR1"] == 0.0 and math.isnan(unknown_only.rates["RR3"])


def test_mapping_of_project_codes():
    mapping = {"完成": "I", "拒访": "R", "无人接听": "NC", "空号": "NE", "未办理": "NE"}
    codes = ["完成", "完成", "拒访", "无人接听", "空号", "未办理", "完成"]
    r = outcome_rates(codes=codes, mapping=mapping)
    assert r.counts["NE"] == 2 and r.counts["I"] == 3
    assert r.rates["RR1"] == pytest.approx(3 / 5)
    assert r.e == pytest.approx(5 / 7)


def test_by_group():
    frame = pd.DataFrame({
        "dept": ["b"] * 5 + ["a"] * 6,
        "disp": WEIGHTED_CODES[6:] + WEIGHTED_CODES[:6],
        "w": WEIGHTS[6:] + WEIGHTS[:6],
    })
    out = outcome_rates_by_group(frame, "dept", "disp", "w")
    assert list(out.index) == ["a", "b"] and out.index.name == "dept"
    assert list(out.columns) == [*RATE_NAMES, "e", "e_method", "n", "weighted_n"]
    for g, sub in frame.groupby("dept"):
        one = outcome_rates(codes=sub["disp"], weights=sub["w"])
        pd.testing.assert_series_equal(out.loc[g, list(RATE_NAMES)].astype(float), one.rates,
                                       check_names=False, rtol=1e-12)
        assert out.loc[g, "e"] == pytest.approx(one.e)
        assert out.loc[g, "n"] == len(sub) and out.loc[g, "weighted_n"] == pytest.approx(sub["w"].sum())
    unweighted = outcome_rates_by_group(frame, "dept", "disp", e=0.8)
    assert (unweighted["weighted_n"] == unweighted["n"]).all()
    assert set(unweighted["e_method"]) == {"given"}
    shuffled = outcome_rates_by_group(frame.sample(frac=1, random_state=5), "dept", "disp", "w")
    pd.testing.assert_frame_equal(out, shuffled)


@pytest.mark.parametrize(
    "kwargs, error, fragment",
    [
        (dict(codes=["I", "X"]), DataValidationError, "disposition 'X'"),
        (dict(codes=["I", None]), DataValidationError, "<missing>"),
        (dict(codes=["I"], weights=[1, 2]), DataValidationError, "2 weights for 1 cases"),
        (dict(codes=["I", "R"], weights=[1, -2]), DataValidationError, "negative"),
        (dict(counts={"I": 1, "Q": 2}), DataValidationError, "not an AAPOR category"),
        (dict(counts={"I": -1}), DataValidationError, "non-negative"),
        (dict(counts={"I": 1}, weights=[1]), DataValidationError, "codes="),
        (dict(counts={"I": 1}, codes=["I"]), DataValidationError, "exactly one"),
        (dict(), DataValidationError, "exactly one"),
        (dict(counts={"I": 1}, e=1.5), MethodologyError, "between 0 and 1"),
        (dict(counts={"I": 1}, e="cases"), MethodologyError, "proportional"),
        (dict(codes=["x"], mapping={"x": "done"}), DataValidationError, "outside AAPOR"),
    ],
)
def test_errors(kwargs, error, fragment):
    with pytest.raises(error) as err:
        outcome_rates(**kwargs)
    assert fragment in str(err.value)


def test_by_group_errors():
    frame = pd.DataFrame({"dept": ["a", None], "disp": ["I", "R"]})
    with pytest.raises(DataValidationError, match="column not found"):
        outcome_rates_by_group(frame, "department", "disp")
    with pytest.raises(DataValidationError, match="no value"):
        outcome_rates_by_group(frame, "dept", "disp")
