"""Earlier years in the documents: the change since last year from a plain history or from trends frames."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from reports.history import change_table, history_frame, movers, trend_series

Z95 = 1.959963984540054


def _deps():
    return pd.DataFrame({"department_id": ["A", "B", "C", "D"], "index": [80.0, 70.0, 90.0, 60.0],
                         "se": [1.0, 2.0, 1.0, 1.0]})


def _history():
    return pd.DataFrame({"year": [2024, 2024, 2024, 2023], "department_id": ["A", "B", "C", "A"],
                         "index": [78.0, 71.0, 85.0, 75.0], "se": [1.0, 1.0, 3.0, 1.0]})


def test_change_by_hand():
    ch = change_table(_deps(), _history(), 2025).set_index("department_id")
    assert ch.loc["A", "change"] == pytest.approx(2.0)
    assert ch.loc["A", "change_ci_low"] == pytest.approx(2.0 - Z95 * math.sqrt(2.0))
    assert ch.loc["B", "change_ci_high"] == pytest.approx(-1.0 + Z95 * math.sqrt(5.0))
    assert ch.loc["C", "significant"] is False  # 5 +/- 1.96 sqrt(10) = 5 +/- 6.2
    assert ch.loc["A", "significant"] is False and ch.loc["B", "significant"] is False
    assert math.isnan(ch.loc["D", "change"]) and ch.loc["D", "significant"] is None  # no previous year
    assert not ch["adjusted"].any() and ch["comparable"].isna().all()


def test_significant_when_interval_excludes_zero():
    hist = _history().assign(se=0.1)
    deps = _deps().assign(se=0.1)
    ch = change_table(deps, hist, 2025).set_index("department_id")
    assert ch.loc["A", "significant"] is True and ch.loc["B", "significant"] is True


def test_change_invariant_to_row_order():
    a = change_table(_deps(), _history(), 2025)
    b = change_table(_deps().iloc[::-1], _history().sample(frac=1.0, random_state=2), 2025)
    pd.testing.assert_frame_equal(a.set_index("department_id").sort_index(), b.set_index("department_id").sort_index())


def test_without_se_no_interval():
    ch = change_table(_deps().drop(columns="se"), _history().drop(columns="se"), 2025)
    assert ch["change"].iloc[0] == pytest.approx(2.0)
    assert ch["change_ci_low"].isna().all() and ch["significant"].map(lambda v: v is None).all()


def test_trends_frames_are_taken_as_they_are():
    trends = pd.DataFrame({
        "year": [2025, 2025, 2024], "previous_year": [2024, 2024, np.nan], "department_id": ["A", "B", "A"],
        "measure": ["index", "index", "index"], "estimate": [80.0, 70.0, 78.0], "se": [1.0, 2.0, 1.0],
        "previous_estimate": [77.5, 71.0, np.nan], "change": [2.5, -1.0, np.nan],
        "change_ci_low": [0.1, -3.0, np.nan], "change_ci_high": [4.9, 1.0, np.nan],
        "significant": [True, False, None], "comparable": [True, False, None], "flags": ["", "definition_changed", ""]})
    ch = change_table(_deps(), {"trends": trends}, 2025).set_index("department_id")
    assert ch.loc["A", "change"] == 2.5 and ch.loc["A", "previous_index"] == 77.5  # the crosswalked figure
    assert ch.loc["A", "significant"] is True and ch.loc["B", "comparable"] is False
    assert ch["adjusted"].all()
    assert movers(ch.reset_index())["declined"].empty  # a non-comparable change is not a decline
    hist = history_frame({"trends": trends})
    assert set(hist["year"]) == {2024, 2025}


def test_movers_order_and_ties():
    ch = pd.DataFrame({"department_id": ["a", "b", "c", "d", "e"], "change": [1.0, 3.0, 1.0, -2.0, np.nan],
                       "comparable": [None] * 5})
    m = movers(ch, k=2)
    assert list(m["improved"]["department_id"]) == ["b", "a"]
    assert list(m["declined"]["department_id"]) == ["d"]


def test_history_shapes_agree():
    plain = _history()
    store = {"departments": plain.assign(department="x")}
    results = [type("R", (), {"departments": plain[plain.year == y]})() for y in (2023, 2024)]
    for shape in (store, results):
        pd.testing.assert_frame_equal(history_frame(shape).sort_values(["year", "department_id"]).reset_index(
            drop=True), history_frame(plain).sort_values(["year", "department_id"]).reset_index(drop=True))
    assert history_frame(None) is None


def test_trend_series():
    series = trend_series(_deps(), history_frame(_history()), "A", 2025)
    assert list(series.index) == [2023, 2024, 2025] and series.tolist() == [75.0, 78.0, 80.0]
