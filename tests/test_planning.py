"""Sampling plans: textbook sample sizes, allocations, per-unit variances, draws, the command, privacy, and
the promise kept on the demo's truth (a small version of benchmarks/planning.py)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import planning as P
from minping.cli import main
from minping.plan import (
    CALL_LIST_COLUMNS,
    RESTRICTED_DIR,
    FrameSpec,
    load_plan_settings,
    make_plan,
    plan_dir,
    write_plan,
)
from surveys.errors import DataValidationError, FrameworkError, MethodologyError
from surveys.frames import read_case_records
from surveys.framework import load_framework
from surveys.project import load_project

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------
# textbook values (every number below can be checked with a pocket calculator)
# ---------------------------------------------------------------------------


def test_cochran_sample_size_with_fpc():
    # Cochran (1977) ch. 4 / Lohr (2010) ch. 2: a share near 1/2 to +/- 0.03 at 95% from N = 1251:
    # n0 = 1.96^2 * 0.25 / 0.03^2 = 1067.07, n = n0 / (1 + n0 / N) = 575.87 -> 576
    assert P.sample_size(0.25, 0.03, level=0.95) == pytest.approx(1067.07, abs=0.01)
    assert P.sample_size(0.25, 0.03, level=0.95, population=1251) == pytest.approx(575.87, abs=0.01)
    assert P.proportion_sample_size(0.5, 0.03, level=0.95, population=1251) == pytest.approx(575.87, abs=0.01)
    # a continuous variable: S = 20 points, e = 2 points, 95%: n0 = (1.96 * 20 / 2)^2 = 384.15
    assert P.sample_size(400.0, 2.0, level=0.95) == pytest.approx(384.15, abs=0.01)
    # 90%: z = 1.6449, n0 = 1.6449^2 * 0.25 / 0.05^2 = 270.55
    assert P.proportion_sample_size(0.5, 0.05, level=0.90) == pytest.approx(270.55, abs=0.01)


def test_design_effect_multiplies_the_variance_per_unit():
    # Kish (1965): deff 1.5 -> n0 = 1.5 * 1067.07 = 1600.61; with N = 1251: 1600.61 / (1 + 1600.61 / 1251) = 702.19
    assert P.sample_size(0.25, 0.03, level=0.95, deff=1.5) == pytest.approx(1600.61, abs=0.01)
    assert P.sample_size(0.25, 0.03, level=0.95, deff=1.5, population=1251) == pytest.approx(702.19, abs=0.01)
    assert P.sample_size(0.25, 0.03, level=0.95, deff=2.0) == pytest.approx(2 * 1067.07, abs=0.02)


def test_neyman_and_optimum_allocation():
    # Three strata N = (4000, 3000, 3000), S = (10, 20, 30), n = 100.
    # Neyman (Cochran 1977, 5.5): N S = (40000, 60000, 90000), sum 190000 -> (21.05, 31.58, 47.37)
    n = P.neyman_allocation(100, [4000, 3000, 3000], [10, 20, 30])
    assert n == pytest.approx([21.05, 31.58, 47.37], abs=0.01)
    # costs c = (1, 2, 3): N S / sqrt(c) = (40000, 42426.4, 51961.5), sum 134387.9 -> (29.76, 31.57, 38.67)
    n = P.neyman_allocation(100, [4000, 3000, 3000], [10, 20, 30], costs=[1, 2, 3])
    assert n == pytest.approx([29.76, 31.57, 38.67], abs=0.01)
    # proportional (Cochran 1977, 5.3): (40, 30, 30)
    assert P.proportional_allocation(100, [4000, 3000, 3000]) == pytest.approx([40, 30, 30])


def test_neyman_allocation_of_the_practools_example():
    # Valliant, Dever & Kreuter, Practical Tools (R PracTools, strAlloc(n.tot = 100, Nh, Sh, alloc = "neyman")):
    # n_h = 100 N_h S_h / sum(N S); the products N_h S_h are 5.759e9, 6.919e8, 1.741e9, 5.543e8, 1.463e9, 6.416e9
    nh = [215, 65, 252, 50, 149, 144]
    sh = [26787207, 10645109, 6909676, 11085034, 9817762, 44553355]
    assert P.neyman_allocation(100, nh, sh) == pytest.approx([34.64, 4.16, 10.47, 3.33, 8.80, 38.59], abs=0.01)


def test_optimal_split_across_channels_closed_form():
    # V = (16, 4) per unit, costs (4, 1), budget 100: sqrt(V c) = (8, 2), K = 100;
    # n = 100 * sqrt(V / c) / 10 = (20, 20); cost 80 + 20 = 100; variance 16/20 + 4/20 = 1.0 = K / budget
    n = P.optimal_split([16, 4], [4, 1], budget=100)
    assert n == pytest.approx([20, 20])
    assert P.optimal_split([16, 4], [4, 1], variance=1.0) == pytest.approx([20, 20])
    with pytest.raises(MethodologyError):
        P.optimal_split([16, 4], [4, 1])


def _units(deps, tables, v, cost, **extra) -> pd.DataFrame:
    rows = []
    for i, d in enumerate(deps):
        for j, t in enumerate(tables):
            row = {"department_id": d, "table": t, "channel": "S", "unit_variance": v[i][j], "cost": cost[j],
                   "minimum": 0.0}
            row.update({k: (val[i][j] if isinstance(val, list) else val) for k, val in extra.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def test_allocation_with_one_table_reduces_to_cochran():
    # per-unit variance 400, N = 2000 with the fpc, target half-width 2: n = 384.15 / (1 + 384.15 / 2000) = 322.25
    u = _units(["d1"], ["survey"], [[400.0]], [1.0], population=2000.0, fpc=True)
    a = P.allocate(u, method="equal_precision", level=0.95, target_half_width=2.0)
    expect = P.sample_size(400.0, 2.0, level=0.95, population=2000)
    assert expect == pytest.approx(322.25, abs=0.01)
    assert a.units["n_optimal"].iloc[0] == pytest.approx(expect, rel=1e-6)
    assert a.units["units"].iloc[0] == 322
    assert a.departments["half_width"].iloc[0] == pytest.approx(2.0, abs=0.005)


def test_budget_split_within_a_department_is_the_closed_form():
    u = _units(["d1"], ["survey", "callback"], [[16.0, 4.0]], [4.0, 1.0])
    a = P.allocate(u, method="equal_precision", level=0.95, budget=100.0)
    assert a.units["n_optimal"].to_numpy() == pytest.approx([20, 20], rel=1e-6)
    assert a.departments["variance"].iloc[0] == pytest.approx(1.0, rel=1e-6)
    assert a.total_cost == pytest.approx(100.0)


def test_equal_precision_gives_every_department_the_same_half_width():
    v = [[30.0, 40.0], [10.0, 80.0], [60.0, 20.0]]
    u = _units(["a", "b", "c"], ["survey", "callback"], v, [40.0, 25.0])
    a = P.allocate(u, method="equal_precision", level=0.95, budget=60000.0)
    hw = a.departments["half_width"]
    assert hw.max() - hw.min() < 0.02
    assert a.total_cost == pytest.approx(60000.0, rel=0.01)
    # the common variance K_d / B_d: budgets proportional to K_d = (sum_t sqrt(V_t c_t))^2
    k = np.array([(np.sqrt(np.array(r) * [40.0, 25.0]).sum()) ** 2 for r in v])
    budgets = (a.units["n_optimal"] * a.units["cost"]).groupby(a.units["department_id"]).sum().to_numpy()
    assert budgets / budgets.sum() == pytest.approx(k / k.sum(), rel=1e-4)


def test_proportional_and_neyman_budgets():
    v = [[30.0, 40.0], [10.0, 80.0], [60.0, 20.0]]
    vol = [[1000.0] * 2, [3000.0] * 2, [6000.0] * 2]
    u = _units(["a", "b", "c"], ["survey", "callback"], v, [40.0, 25.0], volume=vol)
    budget = 100000.0
    prop = P.allocate(u, method="proportional", level=0.95, budget=budget)
    spent = (prop.units["n_optimal"] * prop.units["cost"]).groupby(prop.units["department_id"]).sum()
    assert spent.to_numpy() / budget == pytest.approx([0.1, 0.3, 0.6], rel=1e-4)
    ney = P.allocate(u, method="neyman", level=0.95, budget=budget)
    spent = (ney.units["n_optimal"] * ney.units["cost"]).groupby(ney.units["department_id"]).sum()
    score = np.array([1000, 3000, 6000]) * np.array([np.sqrt(np.array(r) * [40.0, 25.0]).sum() for r in v])
    assert spent.to_numpy() / budget == pytest.approx(score / score.sum(), rel=1e-4)


def test_minimum_and_maximum_sizes_hold():
    u = _units(["a", "b"], ["survey", "callback"], [[30.0, 40.0], [10.0, 80.0]], [40.0, 25.0])
    u["minimum"] = np.where(u["table"] == "survey", 50.0, 30.0)
    tiny = P.allocate(u, method="equal_precision", level=0.95, budget=10.0)
    assert (tiny.units["units"] >= tiny.units["minimum"]).all()
    assert set(tiny.departments["bound"]) == {"minimum"}
    u["maximum"] = np.where(u["table"] == "callback", 60.0, np.nan)
    big = P.allocate(u, method="equal_precision", level=0.95, budget=1e6)
    cb = big.units[big.units["table"] == "callback"]
    assert (cb["units"] <= 60).all()
    # b's callbacks (80 per unit) hit the cap; a reaches the common variance below it
    bounds = big.departments.set_index("department_id")["bound"]
    assert bounds["b"] == "callback=maximum" and bounds["a"] == ""


def test_unreachable_target_is_flagged_not_infinite():
    # a capped table alone leaves variance 100 / 10 = 10 > (1 / 1.96)^2
    u = _units(["a"], ["guides", "survey"], [[100.0, 30.0]], [50.0, 40.0])
    u["maximum"] = np.where(u["table"] == "guides", 10.0, np.nan)
    a = P.allocate(u, method="equal_precision", level=0.95, target_half_width=1.0)
    assert not bool(a.departments["target_reached"].iloc[0])
    assert np.isfinite(a.total_cost)
    assert any("out of reach" in n for n in a.notes)


def test_fixed_allocation_is_the_habit():
    u = _units(["a", "b"], ["survey", "callback"], [[30.0, 40.0], [10.0, 80.0]], [40.0, 25.0])
    a = P.allocate(u, method="fixed", level=0.95, fixed={"survey": 100, "callback": 100})
    assert (a.units["units"] == 100).all()
    assert a.total_cost == pytest.approx(2 * (4000 + 2500))
    assert a.departments.set_index("department_id")["variance"]["a"] == pytest.approx(0.3 + 0.4)


def test_allocation_refuses_bad_settings():
    u = _units(["a"], ["survey"], [[30.0]], [40.0])
    with pytest.raises(MethodologyError):
        P.allocate(u, method="by_habit", level=0.95, budget=100.0)
    with pytest.raises(MethodologyError):
        P.allocate(u, method="equal_precision", level=0.95)
    with pytest.raises(MethodologyError):
        P.allocate(u.assign(cost=0.0), method="equal_precision", level=0.95, budget=100.0)


# ---------------------------------------------------------------------------
# per-unit variances
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def framework():
    return load_framework()


def test_indicator_approximation_by_hand(framework):
    # two survey indicators, w = (0.1, 0.2), se = (2, 1), 100 completes: u = (400, 100), a = (2, 2);
    # V = 2^2 + 2^2 + rho * 2 * 2 * 2 = 8 + 8 rho
    s = [i for i in framework.indicators if i.table == "survey"][:2]
    ind = pd.DataFrame({"department_id": "d", "indicator_id": [s[0].id, s[1].id], "weight": [0.1, 0.2],
                        "se": [2.0, 1.0], "n": [95.0, 100.0]})
    units = pd.DataFrame({"department_id": ["d"], "table": ["survey"], "n": [100.0]})
    for rho, expect in ((0.0, 8.0), (0.5, 12.0), (1.0, 16.0)):
        uv = P.unit_variances_from_indicators(ind, framework, rho=rho, units=units)
        assert uv["unit_variance"].iloc[0] == pytest.approx(expect)
        assert uv["df"].iloc[0] == 99
    with pytest.raises(MethodologyError):
        P.unit_variances_from_indicators(ind, framework, rho=1.5)


def test_correlation_is_calibrated_on_the_index_se(framework):
    s = [i.id for i in framework.indicators if i.table == "survey"][:3]
    c = [i.id for i in framework.indicators if i.table == "callback_interviews"][:2]
    rng = np.random.default_rng(3)
    rows, deps = [], []
    for d in range(6):
        w = rng.uniform(0.02, 0.1, 5)
        se = rng.uniform(1, 4, 5)
        rows.append(pd.DataFrame({"department_id": f"d{d}", "indicator_id": s + c, "weight": w, "se": se}))
        a = w * se
        big_a = (a ** 2).sum()
        big_b = (a[:3].sum() ** 2 - (a[:3] ** 2).sum()) + (a[3:].sum() ** 2 - (a[3:] ** 2).sum())
        deps.append({"department_id": f"d{d}", "se": np.sqrt(big_a + 0.3 * big_b)})
    assert P.calibrate_correlation(pd.concat(rows), pd.DataFrame(deps), framework) == pytest.approx(0.3)


def test_components_give_the_exact_per_unit_variance():
    comps = pd.DataFrame({"department_id": ["a", "a", "b"], "channel": ["S", "C", "S"],
                          "table": ["survey", "callback_interviews", "survey"], "variance": [0.2, 0.5, 0.1],
                          "n": [150, 100, 300], "n_psu": [8, 100, 10], "df": [7, np.nan, np.nan]})
    uv = P.unit_variances_from_components(comps).set_index(["department_id", "table"])
    assert uv.loc[("a", "survey"), "unit_variance"] == pytest.approx(30.0)
    assert uv.loc[("a", "callback_interviews"), "unit_variance"] == pytest.approx(50.0)
    assert uv.loc[("a", "survey"), "df"] == 7            # as given
    assert uv.loc[("b", "survey"), "df"] == 9            # n_psu - 1
    assert (uv["source"] == "components").all()


def test_moderation_pulls_small_samples_to_the_median():
    f = pd.DataFrame({"department_id": ["a", "b", "c"], "table": "visits", "channel": "V",
                      "unit_variance": [1.0, 4.0, 100.0], "unit_variance_raw": [1.0, 4.0, 100.0],
                      "n": [3, 3, 1000], "df": [2.0, 2.0, 999.0], "source": "indicators"})
    m = P.moderate_unit_variances(f, prior_df=10).set_index("department_id")["unit_variance"]
    # median 4: a -> (2 * 1 + 10 * 4) / 12 = 3.5; c keeps nearly 100: (999 * 100 + 40) / 1009 = 99.05
    assert m["a"] == pytest.approx(3.5)
    assert m["b"] == pytest.approx(4.0)
    assert m["c"] == pytest.approx(99.05, abs=0.01)
    assert P.moderate_unit_variances(f, prior_df=0)["unit_variance"].tolist() == [1.0, 4.0, 100.0]


def test_missing_departments_borrow_in_order(framework):
    own = pd.DataFrame({"department_id": ["a", "b"], "table": "survey", "channel": "S", "unit_variance": [10.0, 30.0],
                        "unit_variance_raw": [10.0, 30.0], "n": [100, 100], "df": [99.0, 99.0], "source": "indicators"})
    dflt = P.default_unit_variances(framework, ["a", "b", "new", "merged"])
    out = P.fill_unit_variances(own, ["a", "new", "merged"], {"survey": "S", "visits": "V"},
                                predecessors={"merged": ("a", "b")}, defaults=dflt)
    out = out.set_index(["department_id", "table"])
    assert out.loc[("a", "survey"), "source"] == "indicators"
    assert out.loc[("merged", "survey"), "unit_variance"] == pytest.approx(20.0)
    assert out.loc[("merged", "survey"), "source"] == "predecessors"
    assert out.loc[("new", "survey"), "source"] == "pooled"
    assert out.loc[("new", "visits"), "source"] == "default"
    share = sum(framework.nominal_weights()[i.id] for i in framework.indicators if i.table == "visits")
    assert out.loc[("new", "visits"), "unit_variance"] == pytest.approx((share * P.DEFAULT_UNIT_SD["visits"]) ** 2)


def test_indicator_precision_and_assumed_truth():
    alloc = P.allocate(_units(["a"], ["survey"], [[30.0]], [1.0]), method="fixed", level=0.95, fixed={"survey": 100})
    iu = pd.DataFrame({"department_id": ["a"], "indicator_id": ["k"], "table": ["survey"], "channel": ["S"],
                       "weight": [0.1], "unit_variance": [400.0]})
    out = P.indicator_precision(iu, alloc)
    assert out["se"].iloc[0] == pytest.approx(2.0)
    assert out["df"].iloc[0] == 99
    # assumed truth: var(I) = 25 (values 80 +/- 5), mean se^2 = 9: k = sqrt(1 - 9 / 25) = 0.8
    d = pd.DataFrame({"department_id": ["a", "b"], "index": [80 - 5 / np.sqrt(2), 80 + 5 / np.sqrt(2)], "se": 3.0})
    mu = P.assumed_true_index(d)
    assert (mu - 80).abs().to_numpy() == pytest.approx([0.8 * 5 / np.sqrt(2)] * 2)


def test_expected_rank_intervals_widen_with_the_se():
    assumed = pd.DataFrame({"department_id": list("abcdef"), "index": [70, 74, 78, 82, 86, 90.0],
                            "category": list("xxxyyy")})
    exact = P.expected_rank_intervals(assumed, pd.Series(0.0, index=list("abcdef")), level=0.95, seed=1, year=2026)
    assert (exact["rank_width"] == 0).all()
    assert exact.set_index("department_id")["rank_low"]["f"] == 1
    wide = P.expected_rank_intervals(assumed, pd.Series(3.0, index=list("abcdef")), level=0.95, seed=1, year=2026)
    assert (wide["rank_width"] > 0).all()
    again = P.expected_rank_intervals(assumed, pd.Series(3.0, index=list("abcdef")), level=0.95, seed=1, year=2026)
    pd.testing.assert_frame_equal(wide, again)
    cat = P.expected_rank_intervals(assumed, pd.Series(3.0, index=list("abcdef")), level=0.95, seed=1, year=2026,
                                    group="category", scope="category")
    assert cat["rank_high"].max() <= 3


# ---------------------------------------------------------------------------
# draws
# ---------------------------------------------------------------------------


def test_systematic_sample_has_equal_inclusion_probabilities():
    rng = np.random.default_rng(11)
    hits = np.zeros(10)
    for _ in range(20000):
        pos = P.systematic_sample(10, 3, rng)
        assert len(pos) == 3 and len(set(pos)) == 3 and (np.diff(pos) > 0).all()
        hits[pos] += 1
    assert hits / 20000 == pytest.approx(np.full(10, 0.3), abs=0.015)
    assert P.systematic_sample(5, 9, rng).tolist() == [0, 1, 2, 3, 4]
    assert P.systematic_sample(5, 0, rng).size == 0


def _frame(sizes: dict[str, int], seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for dep, n in sizes.items():
        rows.append(pd.DataFrame({"department_id": dep, "case_id": [f"{dep}-{i:05d}" for i in range(n)],
                                  "matter": rng.choice(["m1", "m2", "m3", "m4"], n, p=[0.5, 0.3, 0.15, 0.05]),
                                  "handled_month": rng.choice([f"2026-{m:02d}" for m in range(1, 13)], n)}))
    return pd.concat(rows, ignore_index=True)


def test_callback_draw_is_reproducible_stratified_and_independent_across_departments():
    frame = _frame({"a": 1000, "b": 400})
    contacts = pd.Series({"a": 120, "b": 50})
    draw = P.draw_callback_sample(frame, contacts, seed=9, year=2026)
    assert list(draw.columns) == P.DRAW_COLUMNS
    assert draw.groupby("department_id").size().to_dict() == {"a": 120, "b": 50}
    a = draw[draw["department_id"] == "a"]
    assert a["inclusion_probability"].iloc[0] == pytest.approx(0.12)
    assert a["weight"].sum() == pytest.approx(1000)
    assert sorted(a["call_order"]) == list(range(1, 121))
    # implicit stratification: each matter gets m N_h / N within one case
    share = a.drop_duplicates("matter").set_index("matter")
    assert (abs(share["matter_drawn"] - 120 * share["matter_size"] / 1000) < 1).all()
    again = P.draw_callback_sample(frame, contacts, seed=9, year=2026)
    pd.testing.assert_frame_equal(draw, again)
    # another department in the frame leaves this one's draw as it was
    more = P.draw_callback_sample(pd.concat([frame, _frame({"c": 300}, seed=6)]),
                                  pd.Series({"a": 120, "b": 50, "c": 30}), seed=9, year=2026)
    pd.testing.assert_frame_equal(more[more["department_id"] == "a"].reset_index(drop=True), a.reset_index(drop=True))
    other = P.draw_callback_sample(frame, contacts, seed=10, year=2026)
    assert set(other["case_id"]) != set(draw["case_id"])


def test_visit_schedule_is_spread_and_reproducible():
    days = list(pd.bdate_range("2026-03-02", "2026-11-30").date)
    visits = pd.Series({"a": 4, "b": 3, "c": 1})
    s = P.schedule_visits(visits, days, seed=3, year=2026, halls={"a": ["北厅", "南厅"]}, mystery_share=0.5)
    assert list(s.columns) == P.VISIT_COLUMNS
    assert s.groupby("department_id").size().to_dict() == {"a": 4, "b": 3, "c": 1}
    assert set(s["date"]) <= set(days)
    a = s[s["department_id"] == "a"]
    edges = np.floor(np.linspace(0, len(days), 5)).astype(int)
    for j, d in enumerate(a["date"]):
        assert edges[j] <= days.index(d) < edges[j + 1]
    assert sorted(a["hall"]) == ["北厅", "北厅", "南厅", "南厅"]
    assert (a["visit_type"] == "mystery").sum() == 2
    assert (s[s["department_id"] == "c"]["hall"] == "c").all()
    pd.testing.assert_frame_equal(s, P.schedule_visits(visits, days, seed=3, year=2026,
                                                       halls={"a": ["北厅", "南厅"]}, mystery_share=0.5))
    with pytest.raises(MethodologyError):
        P.schedule_visits(visits, [], seed=3, year=2026)


# ---------------------------------------------------------------------------
# case-record frames
# ---------------------------------------------------------------------------


def write_case_records(framework, path: Path, year: int, *, seed: int = 1, encoding: str = "gb18030") -> set[str]:
    """A case-record export as a department hands it over (Chinese headers, GB18030); returns the planted phones."""
    rng = np.random.default_rng(seed)
    rows = []
    numbers = iter(rng.choice(10**7, 200_000, replace=False))
    for d in framework.departments_in(year):
        n = int(rng.integers(120, 900))
        for i in range(n):
            rows.append({"受理编号": f"{d.id}-{year}-{i:05d}", "部门": d.name,
                         "联系电话": f"1700{next(numbers):07d}",
                         "事项名称": f"事项{int(rng.integers(1, 6))}",
                         "办结日期": f"{year}-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 28)):02d}"})
    frame = pd.DataFrame(rows)
    path.write_bytes(frame.to_csv(index=False).encode(encoding))
    return set(frame["联系电话"])


def test_case_records_are_read_with_the_project_readers(framework, tmp_path):
    path = tmp_path / "cases.csv"
    phones = write_case_records(framework, path, 2026)
    cf = read_case_records(path, framework, year=2026)
    assert set(cf.records.columns) >= {"department_id", "case_id", "phone", "matter", "handled_month"}
    assert set(cf.records["phone"]) == phones
    assert cf.records["handled_month"].str.match(r"^2026-\d\d$").all()
    assert cf.sizes().sum() == cf.rows_in


def test_case_records_with_problems_are_refused_with_every_row(framework, tmp_path):
    path = tmp_path / "cases.csv"
    pd.DataFrame({"办件编号": ["x1", "x1", None, "x3"], "部门": ["税务局", "税务局", "税务局", "不存在的局"],
                  "联系电话": ["17000000001"] * 4}).to_csv(path, index=False, encoding="utf-8-sig")
    with pytest.raises(DataValidationError) as err:
        read_case_records(path, framework, year=2026)
    text = str(err.value)
    assert "row 3" in text and "appears twice" in text
    assert "row 4" in text and "no case number" in text
    assert "row 5" in text and "not in the register" in text
    missing = tmp_path / "nophone.csv"
    pd.DataFrame({"办件编号": ["x1"], "部门": ["税务局"]}).to_csv(missing, index=False)
    with pytest.raises(DataValidationError, match="phone"):
        read_case_records(missing, framework)


# ---------------------------------------------------------------------------
# the plan on the demo, the command, privacy
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_plan(demo_project, demo_runs, tmp_path_factory):
    project = load_project(demo_project)
    framework = project.load_framework()
    tmp = tmp_path_factory.mktemp("plan")
    cases = tmp / "case_records_2026.csv"
    phones = write_case_records(framework, cases, 2026)
    halls = tmp / "halls.csv"
    d0 = framework.departments_in(2026)[0]
    pd.DataFrame({"部门": [d0.name, d0.name], "大厅": ["市民之家", "东区分中心"]}).to_csv(halls, index=False)
    settings = replace(load_plan_settings(project, framework), frames=(FrameSpec(2026, cases),), halls=halls,
                       costs={"survey": 40.0, "callback_interviews": 25.0, "visits": 800.0, "guides": 50.0})
    plan = make_plan(project, 2026, framework=framework, settings=settings)
    out = tmp / "out"
    files = write_plan(plan, out, framework)
    return {"project": project, "framework": framework, "plan": plan, "files": files, "out": out, "phones": phones,
            "halls": halls, "d0": d0}


def test_plan_on_the_demo_uses_last_year(demo_plan):
    plan = demo_plan["plan"]
    # the evaluation publishes each department's index variance by sampled table (variance_components.csv):
    # the plan starts from it exactly, not from the indicator-based approximation
    assert plan.manifest["variance"]["source"] == "components"
    deps = plan.departments
    assert len(deps) == len(demo_plan["framework"].departments_in(2026))
    assert deps["basis_year"].max() == 2025
    # equal precision: one half-width for all (within rounding), at most last year's cost
    assert deps["half_width"].max() - deps["half_width"].min() < 0.1
    assert plan.allocation.total_cost <= plan.manifest["budget"] * 1.01
    u = plan.units
    gates = demo_plan["framework"].gates
    assert (u.loc[u["table"] == "survey", "units"] >= gates.g4_min_survey).all()
    assert (u.loc[u["table"] == "callback_interviews", "units"] >= gates.g4_min_callback).all()
    cb = u[u["table"] == "callback_interviews"]
    assert (cb["contacts"] >= cb["units"] / cb["rate"] - 1e-9).all()
    assert set(cb["rate_source"]) <= {"last_year", "pooled"}
    assert {"rank_low", "rank_high", "rank_width", "rank_in_category_width"} <= set(deps.columns)
    assert (plan.indicators["half_width"] > 0).all()
    # the trade-off states every allocation and what a target costs
    t = plan.tradeoff.set_index("allocation")
    assert list(t.index) == list(P.ALLOCATION_METHODS)
    assert t.loc["equal_precision", "half_width_max"] < t.loc["proportional", "half_width_max"]
    assert t.loc["equal_precision", "budget_for_target"] < t.loc["neyman", "budget_for_target"]
    curve = plan.curve.dropna()
    assert (np.diff(curve["budget"].to_numpy()) < 0).all()      # a wider half-width is cheaper


def test_draws_and_schedule_on_the_demo(demo_plan):
    plan = demo_plan["plan"]
    u = plan.units
    contacts = u[u["table"] == "callback_interviews"].set_index("department_id")["contacts"]
    got = plan.draw.groupby("department_id").size()
    frame_sizes = plan.draw.groupby("department_id")["frame_size"].first()
    assert (got == np.minimum(contacts.reindex(got.index), frame_sizes)).all()
    assert list(plan.call_list.columns) == CALL_LIST_COLUMNS
    assert set(plan.call_list["phone"]) <= demo_plan["phones"]
    visits = u[u["table"] == "visits"].set_index("department_id")["units"]
    assert (plan.visits.groupby("department_id").size() == visits[visits > 0]).all()
    d0 = demo_plan["d0"]
    assert set(plan.visits.loc[plan.visits["department_id"] == d0.id, "hall"]) <= {"市民之家", "东区分中心"}
    m = plan.manifest
    assert m["seed"] == demo_plan["project"].seed
    assert "systematic" in m["methods"]["callback_draw"]
    assert "'plan', 2026, 'callback'" in m["streams"]["callback"]
    assert {e["kind"] for e in m["inputs"]} >= {"history", "case_records", "halls", "quality"}


def test_the_plan_is_reproducible(demo_plan):
    again = make_plan(demo_plan["project"], 2026, framework=demo_plan["framework"],
                      settings=replace(load_plan_settings(demo_plan["project"], demo_plan["framework"]),
                                       frames=(FrameSpec(2026, demo_plan["halls"].parent / "case_records_2026.csv"),),
                                       halls=demo_plan["halls"],
                                       costs={"survey": 40.0, "callback_interviews": 25.0, "visits": 800.0,
                                              "guides": 50.0}))
    pd.testing.assert_frame_equal(again.draw, demo_plan["plan"].draw)
    pd.testing.assert_frame_equal(again.visits, demo_plan["plan"].visits)
    pd.testing.assert_frame_equal(again.departments, demo_plan["plan"].departments)


def _texts(path: Path):
    """Every text a file holds: the file itself, or each member of a workbook."""
    data = path.read_bytes()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                yield f"{path.name}:{name}", z.read(name).decode("utf-8", errors="ignore")
    else:
        yield path.name, data.decode("utf-8-sig", errors="ignore")


def test_no_personal_number_leaves_the_restricted_folder(demo_plan):
    out, phones = demo_plan["out"], demo_plan["phones"]
    secret = plan_dir(out, 2026) / RESTRICTED_DIR
    drawn = set(demo_plan["plan"].call_list["phone"].dropna())
    assert len(drawn) > 1000
    leaks = []
    scanned = 0
    for path in out.rglob("*"):
        if path.is_dir() or secret in path.parents:
            continue
        for where, text in _texts(path):
            scanned += 1
            found = [p for p in phones if p in text] if "1700" in text else []
            if found:
                leaks.append(f"{where}: {found[:3]}")
    assert scanned >= 8
    assert not leaks, leaks
    # the restricted folder holds them, says so, and the manifest names it
    book = "".join(t for _, t in _texts(secret / "call_list_2026.xlsx"))
    assert all(p in book for p in list(drawn)[:50])
    assert "个人信息" in (secret / "README.txt").read_text(encoding="utf-8")
    assert "personal data" in (secret / "README.txt").read_text(encoding="utf-8")
    manifest = json.loads((plan_dir(out, 2026) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["restricted"]["folder"] == RESTRICTED_DIR
    assert set(demo_plan["files"]["restricted"]) == {secret / "README.txt", secret / "call_list_2026.xlsx"}


def test_a_filled_call_list_reads_back_as_callback_attempts(demo_plan, tmp_path):
    from openpyxl import load_workbook

    from surveys.ingest import load_year

    src = plan_dir(demo_plan["out"], 2026) / RESTRICTED_DIR / "call_list_2026.xlsx"
    book = load_workbook(src)
    sheet = book.worksheets[0]
    n = sheet.max_row - 1
    for r in range(2, sheet.max_row + 1):
        sheet.cell(row=r, column=6).value = "2026-03-05 10:00"
        sheet.cell(row=r, column=7).value = "成功访问"
    book.save(tmp_path / "filled.xlsx")
    fw_path = demo_plan["project"].framework_path
    (tmp_path / "project.toml").write_text(
        f'[project]\nframework = "{fw_path.as_posix()}"\nyears = [2026]\nseed = 1\nsalt = "s"\n\n'
        '[[inputs]]\nyear = 2026\ntable = "callback_attempts"\npath = "filled.xlsx"\n', encoding="utf-8")
    project = load_project(tmp_path / "project.toml")
    year = load_year(project, project.load_framework(), 2026)
    att = year.tables["callback_attempts"]
    assert len(att) == n == len(demo_plan["plan"].call_list)
    assert "phone" not in att.columns and att["phone_hash"].notna().all()


def test_plan_command_on_the_demo(demo_project, demo_runs, tmp_path, capsys):
    code = main(["plan", str(demo_project), "--year", "2026", "--out", str(tmp_path), "--budget", "250000"])
    assert code == 0
    text = capsys.readouterr().out
    assert "equal precision" in text and "trade-off" in text and "budget 250,000" in text
    folder = plan_dir(tmp_path, 2026)
    for name in ("plan_units", "plan_departments", "plan_indicators", "tradeoff", "budget_curve", "callback_draw",
                 "visit_schedule"):
        assert (folder / f"{name}.csv").exists()
    assert not (folder / RESTRICTED_DIR).exists()          # no case records declared: nothing restricted
    deps = pd.read_csv(folder / "plan_departments.csv", encoding="utf-8-sig")
    assert deps["budget"].sum() == pytest.approx(250000, rel=0.02)


def _first_year(tmp_path: Path, plan: str = "") -> Path:
    shutil.copy(ROOT / "surveys" / "frameworks" / "default.toml", tmp_path / "framework.toml")
    (tmp_path / "project.toml").write_text(
        '[project]\nname = "首年"\nframework = "framework.toml"\nyears = [2026]\nseed = 4\nsalt = "s"\n' + plan,
        encoding="utf-8")
    return tmp_path / "project.toml"


def test_plan_command_without_history_states_its_defaults(tmp_path, capsys):
    path = _first_year(tmp_path)
    assert main(["plan", str(path), "--year", "2026"]) == 0
    text = capsys.readouterr().out
    assert "first-year default" in text and "no results history" in text
    manifest = json.loads((plan_dir(tmp_path / "output", 2026) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["variance"]["source"] == "defaults"
    assert manifest["target_half_width"] == 2.0
    deps = pd.read_csv(plan_dir(tmp_path / "output", 2026) / "plan_departments.csv", encoding="utf-8-sig")
    assert deps["half_width"].max() <= 2.0 + 0.02
    assert deps["flags"].str.contains("variance_default").all()


def test_plan_settings_are_parsed_and_checked(tmp_path, framework):
    path = _first_year(tmp_path, '\n[plan]\nbudget = 200000\nallocation = "neyman"\n[plan.costs]\nS = 30\nguides = 20\n'
                                 '[plan.rates]\nS = 0.5\n[plan.fixed]\nC = 80\n')
    s = load_plan_settings(load_project(path), framework)
    assert s.budget == 200000 and s.allocation == "neyman"
    assert s.costs == {"survey": 30.0, "guides": 20.0}
    assert s.rates == {"survey": 0.5} and s.fixed == {"callback_interviews": 80.0}
    plan = make_plan(path, 2026)
    sv = plan.units[plan.units["table"] == "survey"]
    assert (sv["contacts"] >= 2 * sv["units"]).all() and set(sv["rate_source"]) == {"declared"}
    bad = _first_year(tmp_path, '\n[plan]\nbudgett = 1\nallocation = "habit"\n[plan.costs]\nX = 3\n'
                                '[plan.rates]\nC = 1.5\n')
    with pytest.raises(FrameworkError) as err:
        load_plan_settings(load_project(bad), framework)
    text = str(err.value)
    for part in ("budgett", "habit", "'X'", "rates.C"):
        assert part in text


def test_plan_command_reports_user_errors(tmp_path, capsys):
    path = _first_year(tmp_path, '\n[plan]\nbudget = -5\n')
    assert main(["plan", str(path), "--year", "2026"]) == 1
    assert "budget" in capsys.readouterr().err
    cases = tmp_path / "cases.csv"
    pd.DataFrame({"办件编号": ["x1"], "部门": ["不存在的局"], "联系电话": ["17000000001"]}).to_csv(cases, index=False)
    path = _first_year(tmp_path, f'\n[plan]\nbudget = 100000\n[[plan.frames]]\nyear = 2026\npath = "{cases.name}"\n')
    assert main(["plan", str(path), "--year", "2026"]) == 1
    assert "not in the register" in capsys.readouterr().err


def test_components_are_used_when_given(demo_project, demo_runs, tmp_path):
    from minping.history import history_path, load_history

    project = load_project(demo_project)
    history = load_history(history_path(project.root))
    deps = history["departments"]
    last = deps[(deps["year"] == 2025) & deps["index"].notna()]  # D08 was not evaluated in 2025
    comps = pd.concat([pd.DataFrame({"year": 2025, "department_id": last["department_id"], "channel": ch,
                                     "table": t, "variance": var, "n": 100, "n_psu": 100, "df": 99})
                       for ch, t, var in (("S", "survey", 0.2), ("C", "callback_interviews", 0.3),
                                          ("V", "visits", 0.01), ("V", "guides", 0.1))])
    by_param = make_plan(project, 2026, components=comps.drop(columns="year"), budget=300000)
    by_history = make_plan(project, 2026, history={**history, "variance_components": comps}, budget=300000)
    for plan in (by_param, by_history):
        assert plan.manifest["variance"]["source"] == "components"
        u = plan.units[plan.units["basis_year"] == 2025]
        assert set(u["variance_source"]) == {"components"}
        assert u.loc[u["table"] == "survey", "unit_variance_raw"].to_numpy() == pytest.approx(20.0)
    pd.testing.assert_frame_equal(by_param.units, by_history.units)
    # the published components are found in the results folder; without them (years evaluated before they
    # were published) the indicator-based approximation serves, with its calibrated correlation
    assert make_plan(project, 2026, budget=300000).manifest["variance"]["source"] == "components"
    approx = make_plan(project, 2026, budget=300000, results_dir=tmp_path)
    assert approx.manifest["variance"]["source"] == "indicators"
    assert approx.manifest["variance"]["rho_source"] == "calibrated" and 0 < approx.manifest["variance"]["rho"] < 1


# ---------------------------------------------------------------------------
# the promise kept: a small version of benchmarks/planning.py
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulated(demo_project, demo_runs):
    spec = importlib.util.spec_from_file_location("planning_benchmark", ROOT / "benchmarks" / "planning.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.run(sims=5, year=2025, project_file=demo_project, plans=("fixed", "equal_precision"),
                      log=lambda m: None)


def test_promised_precision_is_reached(simulated):
    for name in ("fixed", "equal_precision"):
        # the evaluation's reported SE matches the promise (5 simulated years x 31 departments)
        assert 0.85 <= simulated[f"{name}_reported_se_ratio_median"] <= 1.15
        # the spread of the estimates around the truth matches it within Monte Carlo noise
        assert 0.7 <= simulated[f"{name}_pooled_sd_ratio"] <= 1.35
        assert 0.85 <= simulated[f"{name}_completes_ratio"] <= 1.15
        assert simulated[f"{name}_coverage_95_honest"] >= 0.85


def test_equal_precision_helps_the_small_departments_at_the_same_cost(simulated):
    assert simulated["equal_precision_cost"] == pytest.approx(simulated["fixed_cost"], rel=0.01)
    assert simulated["equal_precision_promised_half_width_max"] < simulated["fixed_promised_half_width_max"]
    assert simulated["equal_precision_se_small_mean"] < simulated["fixed_se_small_mean"]
    assert (simulated["equal_precision_promised_rank_width_small_mean"]
            < simulated["fixed_promised_rank_width_small_mean"])
