"""Sensitivity of the ranking to methodological choices, and the robustness tables end to end."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from evaluation.evaluate import evaluate
from evaluation.index import aggregate
from evaluation.indicators import IndicatorEstimates, estimate_indicators
from evaluation.ranking import RANK_UNCERTAINTY_COLUMNS
from evaluation.robustness import robustness_tables
from evaluation.sensitivity import (
    SENSITIVITY_COLUMNS,
    SENSITIVITY_SUMMARY_COLUMNS,
    SensitivityOptions,
    affine_map,
    preset_scores,
    sensitivity_analysis,
    variant_index,
)
from surveys.derive import derive_all
from surveys.errors import MethodologyError
from surveys.framework import load_framework, parse_framework
from minping.synthetic.config import CHECKLIST_ITEMS
from surveys.schema import ChannelData

# ------------------------------------------------------------------ a framework small enough to add up by hand

TINY = parse_framework({
    "framework": {"id": "tiny", "version": "1", "likert_preset": "linear"},
    "likert_presets": {"convex": [0, 10, 30, 60, 100]},
    "scales": {"satisfaction": {"kind": "likert", "codes": [1, 2, 3, 4, 5], "top_box": [4, 5], "bottom_box": [1, 2]},
               "yesno": {"kind": "binary", "codes": [0, 1]}},
    "items": [{"table": "survey", "id": "q_overall", "scale": "satisfaction"},
              {"table": "callback_interviews", "id": "told_once", "scale": "yesno"}],
    "dimensions": [{"id": "D1", "weight": 60}, {"id": "D2", "weight": 40}],
    "indicators": [
        {"id": "I1", "dimension": "D1", "channel": "S", "table": "survey", "field": "q_overall",
         "scale": "satisfaction", "measure": "likert", "transform": {"kind": "likert"}, "weight": 0.5},
        {"id": "I2", "dimension": "D1", "channel": "C", "table": "callback_interviews", "field": "told_once",
         "scale": "yesno", "measure": "share", "success": [1], "transform": {"kind": "percent"}, "weight": 0.5},
        {"id": "I3", "dimension": "D2", "channel": "A", "table": "admin_monthly", "field": "closed_on_time",
         "denominator": "cases_closed", "measure": "ratio", "transform": {"kind": "percent"}, "weight": 1.0},
    ],
    "grades": [{"grade": "A", "min": 0}],
    "categories": [{"id": "X"}, {"id": "Y"}],
    "departments": [{"id": d, "name": d, "category": c} for d, c in zip("abcde", "XXYYX")],
})

# scores I1, I2, I3; c has no callback (I2 missing); e equals a exactly
SCORES = {"a": (80, 60, 90), "b": (90, 90, 50), "c": (60, np.nan, 100), "d": (70, 70, 70), "e": (80, 60, 90)}
# index = 0.6 * D1 + 0.4 * D2 with D1 renormalised over what is present
INDEX = {"a": 78.0, "b": 74.0, "c": 76.0, "d": 70.0, "e": 78.0}


def tiny_result(deduct_b: float = 0.0):
    rows = []
    for dep, scores in SCORES.items():
        for iid, s in zip(("I1", "I2", "I3"), scores):
            if not np.isnan(s):
                rows.append({"year": 2025, "department_id": dep, "indicator_id": iid,
                             "dimension_id": "D2" if iid == "I3" else "D1", "score": float(s),
                             "raw_value": float(s) if iid == "I1" else s / 100.0, "slope": 1.0,
                             "extra_var": 0.0})
    indicators = pd.DataFrame(rows)
    index = aggregate(IndicatorEstimates(indicators, {}, {}), TINY).index
    deps = index[["department_id", "index"]].rename(columns={"index": "index_raw"})
    deps["category"] = deps["department_id"].map({d.id: d.category for d in TINY.departments})
    deps["index"] = deps["index_raw"] - np.where(deps["department_id"] == "b", deduct_b, 0.0)
    return indicators, deps


def test_hand_fixture_matches_the_index_step():
    _, deps = tiny_result()
    assert dict(zip(deps["department_id"], deps["index"])) == pytest.approx(INDEX)


def test_variants_by_hand():
    ind, deps = tiny_result(deduct_b=1.5)
    v = lambda **kw: variant_index(ind, deps, TINY, **kw).to_dict()  # noqa: E731
    assert v() == dict(zip(deps["department_id"], deps["index"]))          # nominal: the published index
    assert v(leave_out_dimension="D2") == pytest.approx({"a": 70, "b": 90 - 1.5, "c": 60, "d": 70, "e": 70})
    # without the survey, c has no D1 left: its index is D2 alone
    assert v(leave_out_channel="S") == pytest.approx({"a": 72, "b": 74 - 1.5, "c": 100, "d": 70, "e": 72})
    assert v(dimension_weights={"D1": 50, "D2": 50}) == pytest.approx(
        {"a": 80, "b": 70 - 1.5, "c": 80, "d": 70, "e": 80})
    assert v(indicator_weights={"I1": 1.0, "I2": 3.0}) == pytest.approx(
        {"a": 0.6 * 65 + 36, "b": 74 - 1.5, "c": 76, "d": 70, "e": 0.6 * 65 + 36})
    geo = v(aggregation="geometric")
    assert geo["a"] == pytest.approx(70**0.6 * 90**0.4) and geo["b"] == pytest.approx(90**0.6 * 50**0.4 - 1.5)
    # cn_common = 20 + 0.8 x linear, item by item, hence for the mean score of I1
    cn = v(preset="cn_common")
    assert cn == pytest.approx({"a": 79.2, "b": 74.6 - 1.5, "c": 80.8, "d": 71.8, "e": 79.2})


def test_affine_presets():
    assert affine_map(TINY, "satisfaction", "linear", "cn_common") == pytest.approx((20.0, 0.8))
    assert affine_map(TINY, "satisfaction", "cn_common", "linear") == pytest.approx((-25.0, 1.25))
    assert affine_map(TINY, "satisfaction", "linear", "convex") is None
    ind, _ = tiny_result()
    with pytest.raises(MethodologyError, match="affine"):
        preset_scores(ind, TINY, "convex", nominal="linear")


@pytest.mark.parametrize("weights", ["dirichlet", "uniform"])
def test_zero_perturbation_reproduces_the_nominal_ranking_exactly(weights):
    ind, deps = tiny_result(deduct_b=1.5)
    fixed = replace(SensitivityOptions.fixed("linear"), weights=weights)
    out = sensitivity_analysis(ind, deps, TINY, n_draws=50, seed=3, options=fixed)
    nominal = deps["index"].rank(ascending=False, method="min").to_numpy()
    assert (out.ranks.to_numpy() == nominal[None, :]).all()          # a and e tie at rank 1 in every variant
    overall = out.departments[out.departments["scope"] == "overall"]
    assert (overall["median_rank"] == overall["nominal_rank"]).all()
    assert (overall["rank_p05"] == overall["nominal_rank"]).all()
    assert (overall["rank_p95"] == overall["nominal_rank"]).all()
    assert (out.departments["mean_abs_shift"] == 0).all() and (out.departments["p_nominal_rank"] == 1).all()
    assert out.summary["choice"].tolist() == ["all", "all"]


def test_a_choice_without_alternatives_has_no_effect_and_a_lone_choice_explains_everything():
    ind, deps = tiny_result()
    opt = replace(SensitivityOptions.fixed("linear"), presets=("linear", "linear"), leave_out_dimension=True)
    out = sensitivity_analysis(ind, deps, TINY, n_draws=400, seed=1, options=opt)
    s = out.summary[out.summary["scope"] == "overall"].set_index("choice")
    assert s.loc["likert_preset", "first_order"] == 0.0 and s.loc["likert_preset", "total_order"] == 0.0
    assert s.loc["likert_preset", "mean_abs_rank_shift"] == 0.0
    # leave_out_dimension is the only choice that moves anything: first-order and total indices near 1
    assert s.loc["leave_out_dimension", "first_order"] == pytest.approx(1.0, abs=0.15)
    assert s.loc["leave_out_dimension", "total_order"] == pytest.approx(1.0, abs=0.15)
    # one at a time: dropping D1 gives ranks c1 a2 e2 d4 b5, dropping D2 gives b1 a2 d2 e2 c5
    # against nominal a1 e1 c3 b4 d5 (order a b c d e): shifts (1,1,2,1,1) and (1,3,2,3,1) -> mean 16/10
    assert s.loc["leave_out_dimension", "mean_abs_rank_shift"] == pytest.approx(1.6)
    assert s.loc["leave_out_dimension", "max_abs_rank_shift"] == 3


AFFINE = SensitivityOptions(presets=("linear", "cn_common"))


def test_full_analysis_is_seeded_and_consistent():
    ind, deps = tiny_result()
    a = sensitivity_analysis(ind, deps, TINY, n_draws=100, seed=9, options=AFFINE)
    b = sensitivity_analysis(ind.sample(frac=1.0, random_state=1), deps, TINY, n_draws=100, seed=9, options=AFFINE)
    pd.testing.assert_frame_equal(a.departments, b.departments)
    assert list(a.departments.columns) == SENSITIVITY_COLUMNS
    assert list(a.summary.columns) == SENSITIVITY_SUMMARY_COLUMNS
    d = a.departments
    assert ((d["rank_min"] <= d["rank_p05"]) & (d["rank_p05"] <= d["median_rank"])
            & (d["median_rank"] <= d["rank_p95"]) & (d["rank_p95"] <= d["rank_max"])).all()
    assert ((d["rank_min"] <= d["nominal_rank"]) & (d["nominal_rank"] <= d["rank_max"])).all()
    assert set(a.summary["choice"]) == {"indicator_weights", "dimension_weights", "aggregation", "likert_preset",
                                        "leave_out_channel", "leave_out_dimension", "all"}
    # a variant that drops channel A and dimension D1 leaves nobody an indicator; c, without I2, is also
    # left empty by dropping S and D2: such variants give no rank (n_variants counts the others)
    n = d[d["scope"] == "overall"].set_index("department_id")["n_variants"]
    assert n.drop("c").nunique() == 1 and n["c"] < n["a"] < 200


def test_refuses_a_result_its_scores_do_not_reproduce():
    ind, deps = tiny_result()
    ind.loc[0, "score"] += 1.0
    with pytest.raises(MethodologyError, match="do not reproduce"):
        sensitivity_analysis(ind, deps, TINY, n_draws=10, options=AFFINE)
    with pytest.raises(MethodologyError):
        sensitivity_analysis(*tiny_result(), TINY, options=SensitivityOptions(aggregations=("harmonic",)))
    with pytest.raises(MethodologyError):
        sensitivity_analysis(*tiny_result(), TINY, options=SensitivityOptions(presets=("three_level",)))


# ------------------------------------------------------------------ a small year of channel data

def _codes(latent):
    return 1.0 + (np.asarray(latent, float)[:, None] > np.array([-2.2, -1.4, -0.4, 0.8])[None, :]).sum(axis=1)


def channel_data(departments, seed=0, year=2025):
    """Every canonical table for a few departments; quality q_d drives every channel."""
    rng = np.random.default_rng(seed)
    t = {k: [] for k in ("survey", "callback_attempts", "callback_interviews", "visits", "guides", "admin_monthly",
                         "admin_matters", "ratings")}
    items = ["q_easier", "q_speed", "q_ease", "q_courtesy", "q_competence", "q_info", "q_fair"]
    for k, dep in enumerate(departments):
        q, n = rng.normal(0, 0.5), (90, 45)[k % 2]
        person = q + rng.normal(0, 0.8, n)
        s = pd.DataFrame({"response_id": [f"{dep}-{i}" for i in range(n)], "department_id": dep,
                          "weight": rng.uniform(0.5, 2.0, n), "cluster": [f"{dep}-{i % 5}" for i in range(n)]})
        for item in items:
            s[item] = _codes(person + rng.normal(0, 0.6, n))
        s["q_overall"] = _codes(0.5 * person + 0.35 * (s["q_speed"] - 4) + rng.normal(0, 0.5, n))
        for item in [*items, "q_overall"]:
            s.loc[rng.random(n) < 0.04, item] = np.nan
        t["survey"].append(s)
        cases = [f"{dep}-k{i}" for i in range(40)]
        out = rng.choice(["complete", "no_answer", "wrong_number"], p=[0.8, 0.12, 0.08], size=40)
        t["callback_attempts"].append(pd.DataFrame({"case_id": cases, "department_id": dep, "attempt_no": 1,
                                                    "outcome": out}))
        done = [c for c, o in zip(cases, out) if o == "complete"]
        lat = q + rng.normal(0, 0.9, len(done))
        t["callback_interviews"].append(pd.DataFrame({
            "case_id": done, "department_id": dep, "cb_overall": _codes(lat),
            "days_reported": rng.integers(1, 12, len(done)).astype(float), "promised_days": 8.0,
            "trips": np.clip(np.round(1.2 - 0.5 * lat + rng.normal(0, 0.7, len(done))), 0, 3),
            "told_once": (rng.random(len(done)) < 0.85).astype(float),
            "improper_demand": (rng.random(len(done)) < 0.04).astype(float)}))
        for v in range(3):
            p = np.clip(0.8 + 0.1 * q + rng.normal(0, 0.1, len(CHECKLIST_ITEMS)), 0, 1)
            for rater in (["r1", "r2"] if v < 2 else ["r3"]):
                row = {"visit_id": f"{dep}-v{v}", "department_id": dep, "rater": rater,
                       "wait_minutes": float(np.exp(rng.normal(2.8 - 0.3 * q, 0.3)))}
                row.update({c: float(rng.choice([1.0, 0.5, 0.0], p=[pi, (1 - pi) / 2, (1 - pi) / 2]))
                            for c, pi in zip(CHECKLIST_ITEMS, p)})
                t["visits"].append(pd.DataFrame([row]))
        t["guides"].append(pd.DataFrame({"department_id": dep, "guide_id": [f"g{i}" for i in range(8)],
                                         "accurate": (rng.random(8) < 0.85).astype(float)}))
        rec = rng.integers(200, 400, 12)
        t["admin_monthly"].append(pd.DataFrame({
            "department_id": dep, "month": [f"{year}-{i:02d}" for i in range(1, 13)], "cases_received": rec,
            "cases_closed": rec, "closed_on_time": np.round(rec * (0.95 + 0.01 * q)),
            "cases_online": np.round(rec * (0.8 + 0.05 * q)), "cases_one_window": np.round(rec * (0.75 + 0.05 * q))}))
        stat = rng.integers(15, 40, 4).astype(float)
        t["admin_matters"].append(pd.DataFrame({
            "department_id": dep, "matter_id": [f"m{i}" for i in range(4)], "annual_volume": 500.0,
            "statutory_days": stat, "promised_days": np.round(stat * rng.uniform(0.4, 0.8, 4)),
            "docs_baseline": 10.0, "docs_current": rng.integers(5, 9, 4).astype(float)}))
        level = np.clip(np.round(4.2 + 0.4 * q + rng.normal(0, 0.9, 100)), 1, 5)
        rated = pd.Timestamp(f"{year}-03-01") + pd.to_timedelta(rng.integers(0, 200, 100), unit="D")
        t["ratings"].append(pd.DataFrame({
            "rating_id": [f"{dep}-h{i}" for i in range(100)], "department_id": dep, "rated_at": rated,
            "level": level, "default_rating": 0.0, "deadline_days": 10.0,
            "rectified_at": rated + pd.to_timedelta(rng.integers(1, 20, 100), unit="D"),
            "callback_level": np.where(level <= 2, rng.integers(2, 6, 100), np.nan)}))
    tables = derive_all({k: pd.concat(v, ignore_index=True) for k, v in t.items()}, checklist=CHECKLIST_ITEMS)
    return ChannelData(year=year, tables=tables, designs={"survey": {"weights": "weight", "cluster": "cluster"}})


@pytest.fixture(scope="module")
def year():
    fw = load_framework()
    deps = [d.id for d in fw.departments_in(2025) if d.category in ("A", "B")][:12]
    data = channel_data(deps, seed=4)
    return fw, data, evaluate(data, fw, seed=11, n_draws=300)


def test_affine_rescoring_equals_re_estimation(year):
    fw, data, res = year
    mapped = preset_scores(res.indicators, fw, "cn_common", nominal="linear")
    direct = estimate_indicators(data, fw, preset="cn_common").frame
    np.testing.assert_allclose(mapped.to_numpy(), direct["score"].to_numpy(), rtol=1e-12)
    # a non-affine preset is re-estimated from the data
    convex = replace(fw, likert_presets={**fw.likert_presets, "convex": (0.0, 10.0, 30.0, 60.0, 100.0)})
    again = preset_scores(res.indicators, convex, "convex", nominal="linear", data=data)
    expected = estimate_indicators(data, convex, preset="convex").frame["score"]
    np.testing.assert_allclose(again.to_numpy(), expected.to_numpy(), rtol=1e-12)


def test_zero_perturbation_on_an_evaluated_year(year):
    fw, data, res = year
    deps = res.departments.dropna(subset=["index"])
    out = sensitivity_analysis(res.indicators, deps, fw, n_draws=20, seed=1,
                               options=SensitivityOptions.fixed("linear"))
    assert (out.ranks.to_numpy() == deps["rank"].to_numpy(float)[None, :]).all()
    cat = out.departments[out.departments["scope"] == "category"].set_index("department_id")
    assert (cat["median_rank"] == deps.set_index("department_id")["rank_in_category"].reindex(cat.index)).all()


def test_robustness_tables(year):
    fw, data, res = year
    rob, rel, pri = robustness_tables(res, data, rng=np.random.default_rng(11), sensitivity_draws=60)
    d = res.departments.set_index("department_id")
    n = int(res.departments["index"].notna().sum())  # the register's other departments: listed, not evaluated
    assert n == 12 and len(rob.shrinkage) == n and rob.shrinkage["shrinkage"].between(0, 1).all()
    assert (rob.funnel["n"] == d.loc[rob.funnel["department_id"], ["n_survey", "n_callback"]].sum(axis=1)
            .to_numpy()).all()
    assert (pri.priorities.groupby("department_id").size() == 3).all()
    assert rel.interrater["n_double_rated"].iloc[0] == 2 * n
    assert rel.agreement["n"].iloc[0] == n
    assert set(rel.scales["scale_id"]) == {"D1", "D4", "survey_battery"}


def test_ranks_have_one_owner(year):
    """The departments table's rank columns are the ranking step's table, not a second simulation."""
    fw, data, res = year
    ru = res.ranking.rank_uncertainty
    assert list(ru.columns) == RANK_UNCERTAINTY_COLUMNS and len(ru) == 2 * int(res.departments["index"].notna().sum())
    d = res.departments.set_index("department_id")
    o = ru[ru["scope"] == "overall"].set_index("department_id")
    for col in ("rank", "rank_low", "rank_high", "rank_sim_low", "rank_sim_high", "tie_group", "p_top3",
                "p_bottom3"):
        assert (o[col] == d.loc[o.index, col]).all(), col
    c = ru[ru["scope"] == "category"].set_index("department_id")
    for col, dcol in (("rank", "rank_in_category"), ("rank_low", "rank_in_category_low"),
                      ("rank_high", "rank_in_category_high")):
        assert (c[col] == d.loc[c.index, dcol]).all(), col
    assert ((o["rank_sim_low"] <= o["rank_low"]) & (o["rank_high"] <= o["rank_sim_high"])).all()