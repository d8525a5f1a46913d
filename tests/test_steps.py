"""Hand-computable fixtures for the plain steps: transforms, dispositions, derived fields, gates, ranks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.gates import apply_gates
from evaluation.ranking import rank_intervals
from evaluation.transforms import score, score_interval, slope
from surveys.callbacks import final_dispositions
from surveys.derive import derive_all
from surveys.framework import Transform, load_framework


@pytest.fixture(scope="module")
def fw():
    return load_framework()


def test_dtf_and_percent():
    t = Transform("dtf", worst=0.9, frontier=1.0)
    assert score(t, [0.85, 0.95, 1.0]) == pytest.approx([0.0, 50.0, 100.0])
    # beyond the worst the score does not move; exactly at the frontier a share of 1 can only move into
    # the range, so the one-sided derivative carries its sampling error
    assert slope(t, [0.85, 0.95, 1.0]) == pytest.approx([0.0, 1000.0, 1000.0])
    wait = Transform("dtf", worst=45, frontier=5)           # lower is better
    assert score(wait, [45, 25, 5, 2]) == pytest.approx([0, 50, 100, 100])
    assert slope(wait, [25])[0] == pytest.approx(-2.5)
    assert slope(wait, [2])[0] == 0.0
    lo, hi = score_interval(wait, np.array([20.0]), np.array([30.0]))
    assert (lo[0], hi[0]) == pytest.approx((37.5, 62.5))
    assert score(Transform("percent"), [0.873]) == pytest.approx([87.3])


def test_final_disposition_precedence():
    att = pd.DataFrame({
        "department_id": ["A01"] * 7,
        "case_id": ["c1", "c1", "c1", "c2", "c2", "c3", "c4"],
        "outcome": ["no_answer", "busy", "complete", "refusal", "never_handled", "switched_off", "wrong_number"],
    })
    d = final_dispositions(att).set_index("case_id")
    assert d.loc["c1", "disposition"] == "complete" and d.loc["c1", "attempts"] == 3
    assert d.loc["c2", "disposition"] == "never_handled" and d.loc["c2", "aapor"] == "NE"
    assert d.loc["c3", "aapor"] == "UH"
    assert d.loc["c4", "disposition"] == "wrong_number"


def test_derived_fields():
    tables = {
        "callback_interviews": pd.DataFrame({"days_reported": [3, 8, np.nan], "promised_days": [5, 5, 5]}),
        "visits": pd.DataFrame({"c01": [1, 0.5], "c02": [0, np.nan], "c03": [np.nan, np.nan]}),
        "admin_matters": pd.DataFrame({"annual_volume": [100, 300], "statutory_days": [20, 10],
                                       "promised_days": [10, 10], "docs_baseline": [10, 4], "docs_current": [7, 4]}),
        "ratings": pd.DataFrame({
            "level": [1, 2, 5, 2],
            "rated_at": pd.to_datetime(["2024-03-04", "2024-03-04", "2024-03-04", "2024-03-08"]),  # Mon, Mon, Mon, Fri
            "deadline_days": [5, 1, np.nan, 1],
            "rectified_at": pd.to_datetime(["2024-03-08", "2024-03-07", None, "2024-03-11"]),
            "callback_level": [3, 2, np.nan, np.nan],
        }),
    }
    out = derive_all(tables, checklist=("c01", "c02", "c03"))
    assert out["callback_interviews"]["within_promised"].tolist()[:2] == [1.0, 0.0]
    assert np.isnan(out["callback_interviews"]["within_promised"].iloc[2])
    assert out["visits"]["checklist_score"].tolist() == [0.5, 0.5]
    m = out["admin_matters"]
    assert m["compression_x_volume"].sum() / m["annual_volume"].sum() == pytest.approx(100 * 0.5 / 400)
    assert m["docs_removed"].sum() / m["docs_baseline"].sum() == pytest.approx(3 / 14)
    r = out["ratings"]
    assert r["is_bad"].tolist() == [1, 1, 0, 1]
    # Mon->Fri is 4 working days (<= 5); Mon->Thu is 3 (> 1); Fri->Mon is 1 working day (<= 1)
    assert r["rectified_on_time"].tolist() == [1, 0, 0, 1]
    assert r["rectification_called_back"].tolist() == [1, 1, 0, 0]
    assert r["rectification_satisfied"].tolist() == [1, 0, 0, 0]


def test_gates_deduction_cap_and_borderline(fw):
    deps = pd.DataFrame({"department_id": ["A01", "A02", "A03"], "index": [93.0, 91.0, 85.0],
                         "se": [1.0, 1.0, 1.0], "ci_low": [91.0, 89.0, 83.0], "ci_high": [95.0, 93.0, 87.0],
                         "n_survey": [300, 300, 40], "n_callback": [100, 100, 100]})
    quality = pd.DataFrame({"department_id": ["A01", "A02", "A03"], "g1_authenticity": [99.0, 75.0, 92.0],
                            "g2_gap": [2.0, 15.0, 1.0], "callback_completion": [0.6, 0.4, 0.6],
                            "wrong_number_rate": [0.05, 0.2, 0.05]})
    out = apply_gates(deps, quality, fw).set_index("department_id")
    assert out.loc["A01", "g1_deduction"] == 0 and out.loc["A01", "grade"] == "A"
    assert not out.loc["A01", "borderline"]
    # A02: G1 75% -> deduct min(0.5 * 20, 5) = 5 -> 86, audit caps at C
    assert out.loc["A02", "g1_deduction"] == 5 and out.loc["A02", "index"] == 86
    assert out.loc["A02", "grade"] == "C"
    assert set(out.loc["A02", "flags"].split(";")) == {"G1_deduction", "G1_audit", "G2_inflation", "G3_completion",
                                                       "G3_wrong_number"}
    # A03: G1 92% -> deduct 1.5 -> 83.5, interval [81.5, 85.5] does not straddle 80 or 90; small sample
    assert out.loc["A03", "index"] == pytest.approx(83.5) and out.loc["A03", "grade"] == "B"
    assert "G4_small_sample" in out.loc["A03", "flags"]
    assert out.loc["A02", "borderline"] == (out.loc["A02", "ci_low"] < 90 <= out.loc["A02", "ci_high"]
                                            or out.loc["A02", "ci_low"] < 80 <= out.loc["A02", "ci_high"])


def test_rank_intervals_exact_and_separated():
    frame = pd.DataFrame({"department_id": list("abcd"), "index": [90.0, 80.0, 70.0, 60.0], "se": [0.0] * 4})
    r = rank_intervals(frame, level=0.95, n_draws=2000, seed=1).set_index("department_id")
    assert r["rank"].tolist() == [1, 2, 3, 4]
    assert (r["rank_low"] == r["rank"]).all() and (r["rank_high"] == r["rank"]).all()
    noisy = pd.DataFrame({"department_id": list("abc"), "index": [80.0, 79.9, 50.0], "se": [2.0, 2.0, 0.1]})
    r = rank_intervals(noisy, level=0.95, seed=1, n_draws=4000).set_index("department_id")
    assert (r.loc["a", "rank_low"], r.loc["a", "rank_high"]) == (1, 2)
    assert (r.loc["c", "rank_low"], r.loc["c", "rank_high"]) == (3, 3)
    assert r.loc["a", "p_top"] == 1.0 and 0.4 < r.loc["b", "p_top"] <= 1.0
    again = rank_intervals(noisy, level=0.95, seed=1, n_draws=4000).set_index("department_id")
    pd.testing.assert_frame_equal(r, again)


def test_variance_shares_sum_to_one_and_follow_spread():
    from evaluation.index import variance_shares

    fw = load_framework()
    rng = np.random.default_rng(3)
    rows = []
    for d in range(12):
        for ind in fw.indicators:
            # D1.1 varies a lot between departments, everything else barely
            spread = 10.0 if ind.id == "D1.1" else 0.1
            rows.append({"department_id": f"X{d:02d}", "indicator_id": ind.id, "dimension_id": ind.dimension,
                         "score": 80 + spread * rng.standard_normal()})
    ind = pd.DataFrame(rows)
    from evaluation.index import effective_weights

    ew = effective_weights(ind, fw).merge(ind, on=["department_id", "indicator_id", "dimension_id"])
    index = ew.assign(c=ew["w_index"] * ew["score"]).groupby("department_id")["c"].sum().rename("index").reset_index()
    out = variance_shares(ind, index, fw).set_index("indicator_id")
    assert out["variance_share"].sum() == pytest.approx(1.0)
    assert out.loc["D1.1", "variance_share"] > 0.9 > out.loc["D1.1", "nominal_weight"]
    assert out["nominal_weight"].sum() == pytest.approx(1.0)


def test_only_degenerate_components_take_the_pooled_variance():
    from evaluation.indicators import _pool_degenerate

    frame = pd.DataFrame({"department_id": ["A", "B", "C", "D"], "estimate": [20.0, 25.0, 30.0, 18.0],
                          "se": [4.0, 2.0, 3.0, 0.0], "n": [4, 4, 4, 2], "df": [3.0, 3.0, 3.0, 0.0],
                          "s2": [32.0, 8.0, 18.0, 0.0], "ci_low": np.nan, "ci_high": np.nan,
                          "degenerate": ["", "", "", "identical"], "se_rule": "linearisation"})
    out = _pool_degenerate(frame, 0.95, (0.0, 100.0)).set_index("department_id")
    # design effects n se^2 / s^2 = 64/32, 16/8, 36/18: median 2; element variance as a share of the
    # Bhatia-Davis bound (m - 0)(100 - m): 32/1600, 8/1875, 18/2100: median 18/2100; D's mean with half a
    # pseudo-answer at 0 and at 100: (2 * 18 + 50) / 3
    smooth = (2 * 18 + 50) / 3
    se = np.sqrt(2 * (18 / 2100) * smooth * (100 - smooth) / 2)
    assert out.loc["D", "se"] == pytest.approx(se) and out.loc["D", "se_rule"] == "pooled"
    assert np.isinf(out.loc["D", "df"])
    half = 1.959963984540054 * se
    assert (out.loc["D", "ci_low"], out.loc["D", "ci_high"]) == pytest.approx((18 - half, 18 + half))
    # the other departments keep their own linearisation standard error, interval and df
    assert out.loc["A", "se"] == 4.0 and out.loc["A", "se_rule"] == "linearisation" and out.loc["A", "df"] == 3
    assert np.isnan(out.loc["A", "ci_low"])
    # nothing to fit: the component keeps se 0 and says so
    alone = _pool_degenerate(frame.assign(se=0.0, s2=0.0, degenerate="identical"), 0.95, (0.0, 100.0))
    assert (alone["se"] == 0).all() and (alone["se_rule"] == "none").all()


def test_a_share_of_one_gets_the_jeffreys_variance():
    from evaluation.indicators import _pool_degenerate

    # two departments with 9 of 10 and 8 of 10, one with 10 of 10 (SRS: se^2 = p (1 - p) / (n - 1))
    p = np.array([0.9, 0.8, 1.0])
    frame = pd.DataFrame({"department_id": ["A", "B", "C"], "estimate": p, "n": [10, 10, 10],
                          "se": np.sqrt(p * (1 - p) / 9), "df": [9.0, 9.0, 9.0], "s2": p * (1 - p),
                          "ci_low": np.nan, "ci_high": np.nan, "degenerate": ["", "", "identical"],
                          "se_rule": "linearisation"})
    out = _pool_degenerate(frame, 0.95, (0.0, 1.0)).set_index("department_id")
    jeffreys = 10.5 / 11
    assert out.loc["C", "se"] == pytest.approx(np.sqrt(10 / 9 * jeffreys * (1 - jeffreys) / 10))


def test_frame_sizes_give_weights_and_finite_population_correction():
    from evaluation.indicators import table_design, with_frame_sizes
    from surveys.schema import ChannelData

    admin = pd.DataFrame({"department_id": ["A", "A", "B"], "cases_received": [60, 40, 50]})
    rows = pd.DataFrame({"department_id": ["A"] * 4 + ["B"] * 2, "y": [1.0, 2, 3, 4, 5, 6]})
    data = ChannelData(2024, {"admin_monthly": admin}, {"callback_interviews": {"population": "admin_cases"}})
    out = with_frame_sizes(data, "callback_interviews", rows)
    assert out["_frame_weight"].tolist() == [25.0] * 4 + [25.0] * 2
    assert out["_frame_N"].tolist() == [100] * 4 + [50] * 2
    design = table_design(data, "callback_interviews", out)
    assert design.weights == "_frame_weight" and design.fpc == "_frame_N"
    from evaluation.design import design_mean

    est = design_mean(out, "y", design, by="department_id").set_index("department_id")
    # SRS without replacement within A: s^2 / n * (1 - n / N) with s^2 = 5/3, n = 4, N = 100
    assert est.loc["A", "se"] == pytest.approx(np.sqrt(5 / 3 / 4 * (1 - 4 / 100)))


def test_a_department_missing_much_of_the_index_is_not_evaluated(demo_project):
    """150 answers all 'not applicable' leave a department without its questionnaire indicators: it is
    listed as not evaluated (missing_weight), never ranked on what remains."""
    import warnings

    from evaluation.evaluate import evaluate
    from surveys.ingest import load_year
    from surveys.project import load_project

    project = load_project(demo_project)
    fw = project.load_framework()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load_year(project, fw, 2025).data
    survey = data.tables["survey"].copy()
    victim = survey["department_id"].iloc[0]
    items = [c for c in fw.item_ids("survey") if c in survey.columns]
    survey.loc[survey["department_id"] == victim, items] = np.nan
    data = type(data)(data.year, {**data.tables, "survey": survey}, data.designs, data.flags)
    res = evaluate(data, fw, seed=1, robustness=False, n_draws=300)
    row = res.departments.set_index("department_id").loc[victim]
    assert np.isnan(row["index"]) and row["flags"] == "not_evaluated"
    assert row["not_evaluated_reason"] == "missing_weight"
    assert victim not in set(res.ranking.rank_uncertainty["department_id"])


def test_a_derived_field_without_its_source_column_is_empty_not_zero():
    """A 好差评 export without rectification columns says nothing about rectification: never a rate of 0%."""
    from surveys.derive import source_columns

    ratings = pd.DataFrame({"level": [1, 5], "rated_at": pd.to_datetime(["2024-03-04", "2024-03-05"])})
    r = derive_all({"ratings": ratings})["ratings"]
    assert r["is_bad"].tolist() == [1, 0]
    for f in ("rectified_on_time", "rectification_called_back", "rectification_satisfied"):
        assert r[f].isna().all()
    # what the reader checks for each derived field, so that a missing source is named (results/missing_columns.csv)
    assert source_columns("ratings", "rectified_on_time") == ("rectified_at",)
    assert source_columns("visits", "checklist_score", checklist=("k1", "k2")) == ("k1", "k2")
    assert source_columns("survey", "q_overall") == ("q_overall",)
