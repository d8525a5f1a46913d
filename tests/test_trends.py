"""Year over year: hand-computed changes, crosswalk, comparability, multiplicity, rank changes, coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from evaluation.trends import (
    HISTORY_COLUMNS,
    adjust_pvalues,
    history_frames,
    lineage,
    trends,
)
from surveys.errors import InsufficientDataError, MethodologyError

# Two dimensions (60 / 40), three indicators; index = 0.3 s11 + 0.3 s12 + 0.4 s21.
DEFS = [("D1.1", "D1", 0.5), ("D1.2", "D1", 0.5), ("D2.1", "D2", 1.0)]
DIM_W = {"D1": 60.0, "D2": 40.0}
SCORES = {
    (2023, "A01"): (80, 70, 90), (2023, "A02"): (60, 65, 70), (2023, "X01"): (90, 90, 90),
    (2023, "B91"): (70, 80, 60), (2023, "B92"): (90, 60, 80), (2023, "D92"): (75, 75, 75),
    (2024, "A01"): (82, 72, 95), (2024, "A02"): (58, 66, 69), (2024, "N01"): (65, 65, 65),
    (2024, "B01"): (78, 74, 70), (2024, "D02"): (70, 80, 72),
    (2025, "A01"): (84, 75, 93), (2025, "A02"): (61, 64, 70), (2025, "N01"): (66, 66, 66),
    (2025, "B01"): (80, 70, 75), (2025, "D02"): (72, 78, 74),
}
CATEGORY = {"A01": "A", "A02": "A", "X01": "A", "N01": "A", "B91": "B", "B92": "B", "B01": "B", "D92": "D",
            "D02": "D"}
IND_SE, DIM_SE, INDEX_SE = 2.0, 1.5, 1.2
VOLUMES = {"B91": 300.0, "B92": 100.0}
CROSSWALK = [(2024, "D02", "D92", "rename"), (2024, "B01", "B91", "merge"), (2024, "B01", "B92", "merge")]


def run_trends(history, years=None, *, level=0.95, seed=1, **kw):
    """:func:`trends` with the demo framework's level and a fixed seed unless a test says otherwise."""
    return trends(history, years, level=level, seed=seed, **kw)


def index_of(s):
    return 0.3 * s[0] + 0.3 * s[1] + 0.4 * s[2]


def make_history(*, versions=None, volumes=VOLUMES, index_se=INDEX_SE) -> dict[str, pd.DataFrame]:
    """A history written out by hand; ``versions`` overrides ``{(year, indicator): version}``."""
    versions = versions or {}
    deps, dims, inds, defs = [], [], [], []
    for (year, d), s in SCORES.items():
        deps.append({"year": year, "department_id": d, "department": f"name {d}", "category": CATEGORY[d],
                     "index": index_of(s), "se": index_se, "case_volume": volumes.get(d, 1000.0)})
        dims.append({"year": year, "department_id": d, "dimension_id": "D1", "estimate": 0.5 * s[0] + 0.5 * s[1],
                     "se": DIM_SE})
        dims.append({"year": year, "department_id": d, "dimension_id": "D2", "estimate": float(s[2]), "se": DIM_SE})
        for (iid, dim, _), x in zip(DEFS, s):
            inds.append({"year": year, "department_id": d, "indicator_id": iid, "dimension_id": dim,
                         "score": float(x), "se": IND_SE})
    for year in (2023, 2024, 2025):
        for iid, dim, w in DEFS:
            defs.append({"year": year, "indicator_id": iid, "dimension_id": dim, "weight": w,
                         "dimension_weight": DIM_W[dim], "version": versions.get((year, iid), "1")})
    frames = {"departments": deps, "dimensions": dims, "indicators": inds, "definitions": defs,
              "crosswalk": [dict(zip(["year", "successor", "predecessor", "kind"], c)) for c in CROSSWALK]}
    return {k: pd.DataFrame(v).reindex(columns=HISTORY_COLUMNS[k]) for k, v in frames.items()}


def row(tr, year, dep, measure="index"):
    sel = tr[(tr["year"] == year) & (tr["department_id"] == dep) & (tr["measure"] == measure)]
    assert len(sel) == 1
    return sel.iloc[0]


@pytest.fixture(scope="module")
def hand():
    return run_trends(make_history(), [2023, 2024], seed=1)


def test_change_interval_and_test_by_hand(hand):
    r = row(hand["trends"], 2024, "A01")
    now, before = index_of(SCORES[2024, "A01"]), index_of(SCORES[2023, "A01"])
    se = np.sqrt(2) * INDEX_SE
    z = stats.norm.ppf(0.975)
    assert r["change"] == pytest.approx(now - before)
    assert r["change_se"] == pytest.approx(se)
    assert r["change_ci_low"] == pytest.approx(now - before - z * se)
    assert r["change_ci_high"] == pytest.approx(now - before + z * se)
    assert r["p_value"] == pytest.approx(2 * stats.norm.sf(abs(now - before) / se))
    assert r["mapping"] == "same" and bool(r["comparable"])
    d2 = row(hand["trends"], 2024, "A01", "D2")
    assert d2["change"] == pytest.approx(5.0) and d2["change_se"] == pytest.approx(np.sqrt(2) * DIM_SE)


def test_first_year_rows_carry_estimates_only(hand):
    first = hand["trends"][hand["trends"]["year"] == 2023]
    assert set(first["department_id"]) == {"A01", "A02", "X01", "B91", "B92", "D92"}
    assert first["change"].isna().all() and first["previous_year"].isna().all()
    assert set(first["measure"]) == {"index", "index_raw", "D1", "D2"}


def test_rename_compares_with_the_predecessor(hand):
    r = row(hand["trends"], 2024, "D02")
    assert r["mapping"] == "rename" and r["predecessors"] == "D92"
    assert r["previous_estimate"] == pytest.approx(75.0)
    assert r["change"] == pytest.approx(index_of(SCORES[2024, "D02"]) - 75.0)
    assert "renamed" in r["flags"]


def test_merge_combines_predecessors_by_case_volume(hand):
    r = row(hand["trends"], 2024, "B01")
    b91, b92 = index_of(SCORES[2023, "B91"]), index_of(SCORES[2023, "B92"])
    assert (b91, b92) == (pytest.approx(69.0), pytest.approx(77.0))
    assert r["mapping"] == "merge" and r["predecessors"] == "B91;B92"
    assert r["previous_estimate"] == pytest.approx((300 * 69.0 + 100 * 77.0) / 400)
    assert r["previous_se"] == pytest.approx(INDEX_SE * np.sqrt(0.75 ** 2 + 0.25 ** 2))
    assert r["change"] == pytest.approx(73.6 - 71.0)
    d1 = row(hand["trends"], 2024, "B01", "D1")
    assert d1["previous_estimate"] == pytest.approx(0.75 * 75.0 + 0.25 * 75.0)


def test_merge_rule_is_invariant_to_the_volume_unit():
    a = run_trends(make_history(volumes={"B91": 3.0, "B92": 1.0}), [2023, 2024])["trends"]
    b = run_trends(make_history(volumes={"B91": 3e6, "B92": 1e6}), [2023, 2024])["trends"]
    pd.testing.assert_frame_equal(a, b)


def test_missing_volume_falls_back_to_equal_weights_and_says_so():
    tr = run_trends(make_history(volumes={"B91": 300.0, "B92": np.nan}), [2023, 2024])["trends"]
    r = row(tr, 2024, "B01")
    assert r["previous_estimate"] == pytest.approx(73.0)
    assert "equal_weights" in r["flags"] and "等权" in r["note"]


def test_new_department_has_no_change(hand):
    r = row(hand["trends"], 2024, "N01")
    assert r["mapping"] == "new" and np.isnan(r["change"]) and np.isnan(r["p_value"])
    assert "new" in r["flags"].split(";")


def test_lineage_chains_over_years():
    cw = make_history()["crosswalk"]
    assert lineage(cw, "B01", 2025, 2023) == ("B91", "B92")
    assert lineage(cw, "B01", 2025, 2024) == ("B01",)
    assert lineage(cw, "A01", 2024, 2023) == ("A01",)
    tr = run_trends(make_history(), [2023, 2025])["trends"]
    r = row(tr, 2025, "B01")
    assert r["previous_year"] == 2023 and r["previous_estimate"] == pytest.approx(71.0)


def test_definition_change_is_flagged_and_the_comparable_change_recomputed():
    tr = run_trends(make_history(versions={(2024, "D1.2"): "2"}), [2023, 2024])["trends"]
    r = row(tr, 2024, "A01")
    assert not r["comparable"] and r["changed_indicators"] == "D1.2"
    assert "口径调整，不可比" in r["note"] and "definition changed, not comparable" in r["note"]
    assert np.isnan(r["p_value"]) and np.isnan(r["change_ci_low"]) and pd.isna(r["significant"])
    # Over the comparable set {D1.1, D2.1} the weights renormalise to 0.6 / 0.4.
    assert r["comparable_change"] == pytest.approx((0.6 * 82 + 0.4 * 95) - (0.6 * 80 + 0.4 * 90))
    kappa = INDEX_SE ** 2 / ((0.3 ** 2 + 0.3 ** 2 + 0.4 ** 2) * IND_SE ** 2)
    var_year = kappa * (0.6 ** 2 + 0.4 ** 2) * IND_SE ** 2
    assert r["comparable_change_se"] == pytest.approx(np.sqrt(2 * var_year))
    assert r["n_indicators"] == 3 and r["n_comparable_indicators"] == 2
    d1, d2 = row(tr, 2024, "A01", "D1"), row(tr, 2024, "A01", "D2")
    assert not d1["comparable"] and bool(d2["comparable"]) and np.isfinite(d2["p_value"])
    assert d1["comparable_change"] == pytest.approx(82 - 80)
    assert d1["comparable_change_se"] == pytest.approx(np.sqrt(2) * DIM_SE * np.sqrt(1 / 0.5))
    # a merged department: previous indicator scores combined by volume, then reweighted
    b = row(tr, 2024, "B01")
    prev = 0.6 * (0.75 * 70 + 0.25 * 90) + 0.4 * (0.75 * 60 + 0.25 * 80)
    assert b["comparable_change"] == pytest.approx(0.6 * 78 + 0.4 * 70 - prev)


def test_comparable_change_equals_published_change_when_nothing_changed(hand):
    idx = hand["trends"][(hand["trends"]["year"] == 2024) & hand["trends"]["change"].notna()]
    np.testing.assert_allclose(idx["comparable_change"], idx["change"])
    np.testing.assert_allclose(idx["comparable_change_se"], idx["change_se"])


@pytest.mark.parametrize("method,sm", [("holm", "holm"), ("bh", "fdr_bh")])
def test_adjustment_matches_statsmodels(method, sm):
    rng = np.random.default_rng(3)
    for m in (1, 2, 7, 40):
        p = rng.uniform(0, 0.2, m) ** 2
        np.testing.assert_allclose(adjust_pvalues(p, method), multipletests(p, method=sm)[1])


@pytest.mark.parametrize("method,sm", [("holm", "holm"), ("bh", "fdr_bh")])
def test_family_is_one_measure_and_one_pair_of_years(method, sm):
    tr = run_trends(make_history(index_se=0.4), [2023, 2024, 2025], p_adjust=method)["trends"]
    for (year, measure), g in tr[tr["p_value"].notna()].groupby(["year", "measure"]):
        np.testing.assert_allclose(g["p_adjusted"], multipletests(g["p_value"], method=sm)[1])
        assert set(g["p_adjust_method"]) == {method}
        np.testing.assert_array_equal(g["significant"].to_numpy(bool), g["p_adjusted"].to_numpy() < 0.05)


def test_row_order_does_not_matter(hand):
    h = make_history()
    shuffled = {k: v.sample(frac=1.0, random_state=7) for k, v in h.items()}
    again = run_trends(shuffled, [2023, 2024], seed=1)
    for key in ("trends", "rank_changes"):
        a = hand[key].sort_values(list(hand[key].columns[:6])).reset_index(drop=True)
        b = again[key].sort_values(list(hand[key].columns[:6])).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b)


def test_rank_changes_among_departments_in_both_years(hand):
    rc = hand["rank_changes"].set_index("department_id")
    assert set(rc.index) == {"A01", "A02", "B01", "D02"}      # N01 is new; X01 left
    assert (rc["n_compared"] == 4).all()
    # 2023 mapped: A01 81, A02 65.5, B01 71, D02 75 -> ranks 1, 4, 3, 2; 2024: 84.2, 64.8, 73.6, 73.8
    assert rc.loc["A01", "previous_rank"] == 1 and rc.loc["A02", "previous_rank"] == 4
    assert rc.loc["D02", "rank"] == 2 and rc.loc["B01", "rank"] == 3
    assert (rc["rank_change"] == rc["previous_rank"] - rc["rank"]).all()
    assert (rc["rank_change_low"] <= rc["rank_change"]).all() and (rc["rank_change"] <= rc["rank_change_high"]).all()
    again = run_trends(make_history(), [2023, 2024], seed=1)["rank_changes"]
    pd.testing.assert_frame_equal(hand["rank_changes"], again)


def test_rank_change_interval_narrows_with_precision():
    wide = run_trends(make_history(index_se=5.0), [2023, 2024], seed=2)["rank_changes"]
    tight = run_trends(make_history(index_se=0.01), [2023, 2024], seed=2)["rank_changes"]
    assert (tight["rank_change_low"] == tight["rank_change"]).all()
    assert (tight["rank_change_high"] == tight["rank_change"]).all()
    assert (wide["rank_change_high"] - wide["rank_change_low"]).sum() > 0


def test_bottom_of_category_two_years_running(hand):
    rc = hand["rank_changes"].set_index("department_id")
    # A: 2023 X01 90, A01 81, A02 65.5; 2024 A01 84.2, N01 65, A02 64.8 -> A02 last both years
    assert bool(rc.loc["A02", "bottom_of_category_two_years"])
    assert (rc.loc["A02", ["rank_in_category", "n_in_category"]] == [3, 3]).all()
    assert (rc.loc["A02", ["previous_rank_in_category", "previous_n_in_category"]] == [3, 3]).all()
    # B and D have one department each in 2024: nobody is "last" of one
    assert not rc.loc[["A01", "B01", "D02"], "bottom_of_category_two_years"].any()


def test_movers(hand):
    mv = hand["movers"]
    improved = mv[mv["list"] == "most_improved"]
    assert list(improved["department_id"]) == ["A01", "B01"]
    declined = mv[mv["list"] == "most_declined"]
    assert list(declined["department_id"]) == ["D02", "A02"]
    assert list(improved["position"]) == [1, 2] and (improved["basis"] == "published").all()


def test_previous_year_without_definitions_or_se():
    h = make_history()
    for key in ("dimensions", "indicators", "definitions"):
        h[key] = h[key][h[key]["year"] != 2023]
    h["departments"].loc[h["departments"]["year"] == 2023, "se"] = np.nan
    tr = run_trends(h, [2023, 2024])["trends"]
    r = row(tr, 2024, "A01")
    assert pd.isna(r["comparable"]) and "definitions_unknown" in r["flags"]
    assert r["change"] == pytest.approx(84.2 - 81.0)
    assert np.isnan(r["change_se"]) and np.isnan(r["p_value"]) and "no_se" in r["flags"]
    assert "无标准误，无法检验" in r["note"]
    rc = run_trends(h, [2023, 2024])["rank_changes"]
    assert rc["rank_change_low"].isna().all() and rc["rank_change"].notna().all()


def test_bad_arguments():
    h = make_history()
    with pytest.raises(MethodologyError, match="multiplicity"):
        run_trends(h, p_adjust="bonferroni")
    with pytest.raises(MethodologyError, match="confidence level"):
        run_trends(h, level=95)
    with pytest.raises(InsufficientDataError, match="2022"):
        run_trends(h, [2022, 2023])
    with pytest.raises(InsufficientDataError):
        run_trends(h, [2024])


# ---------------------------------------------------------------------------
# known truth: simulate() + evaluate() in memory
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def simulated():
    from evaluation.evaluate import evaluate
    from minping.history import case_volumes
    from minping.synthetic import SimulationConfig, simulate, true_changes
    from minping.synthetic.config import CHECKLIST_ITEMS
    from surveys.derive import derive_all
    from surveys.framework import load_framework
    from surveys.schema import ChannelData

    fw = load_framework()
    out = []
    for seed in (101, 102, 103):
        sims = simulate(SimulationConfig(seed=seed))
        results, volumes = [], {}
        for year, sim in sims.items():
            data = ChannelData(year, derive_all(sim.tables, checklist=CHECKLIST_ITEMS), {"survey": {"weights": "weight", "cluster": "cluster"}})
            results.append(evaluate(data, fw, seed=seed, n_draws=200, robustness=False))
            volumes[year] = case_volumes(sim.tables)
        tr = run_trends(history_frames(results, volumes=volumes), seed=seed)["trends"]
        truth = true_changes(sims, fw).rename(columns={"change": "true_change", "predecessors": "true_predecessors"})
        idx = tr[tr["measure"] == "index"].merge(truth, on=["year", "department_id"], how="inner")
        out.append(idx.assign(seed=seed))
    return pd.concat(out, ignore_index=True)


def test_true_change_inside_the_95_interval_at_about_the_nominal_rate(simulated):
    s = simulated
    assert len(s) >= 150 and s["change"].notna().all()
    covered = (s["change_ci_low"] <= s["true_change"]) & (s["true_change"] <= s["change_ci_high"])
    assert 0.90 <= covered.mean() <= 0.99, covered.mean()
    # before gate deductions (which the truth does not have) the comparable change covers at the same rate
    comp = (s["comparable_change_ci_low"] <= s["true_change"]) & (s["true_change"] <= s["comparable_change_ci_high"])
    assert 0.90 <= comp.mean() <= 0.99, comp.mean()


def test_the_crosswalk_maps_like_the_truth(simulated):
    s = simulated
    assert (s["predecessors"] == s["true_predecessors"]).all()
    moved = s[s["mapping"].isin(["rename", "merge"])]
    assert set(zip(moved["department_id"], moved["mapping"])) == {("D02", "rename"), ("B01", "merge")}
    assert (moved["year"] == 2024).all() and len(moved) == 2 * s["seed"].nunique()


def test_year_trends_for_the_documents_by_hand():
    """The change of one year since the previous recorded one, and each department's series through the crosswalk."""
    from evaluation.trends import year_trends

    h = make_history()
    t = year_trends(h, 2025, level=0.95, seed=1)
    assert (t.year, t.previous_year, t.p_adjust) == (2025, 2024, "holm")
    assert set(t.changes["year"]) == {2025}
    assert t.changes.equals(run_trends(h, [2024, 2025])["trends"].query("year == 2025").reset_index(drop=True))
    s = t.series.set_index(["department_id", "year"])["estimate"]
    assert s["A01", 2023] == pytest.approx(index_of(SCORES[2023, "A01"]))
    assert s["D02", 2023] == pytest.approx(index_of(SCORES[2023, "D92"]))  # renamed: its predecessor's line
    merged = (300 * index_of(SCORES[2023, "B91"]) + 100 * index_of(SCORES[2023, "B92"])) / 400
    assert s["B01", 2023] == pytest.approx(merged)  # merged: predecessors combined by case volume
    assert s["B01", 2025] == pytest.approx(index_of(SCORES[2025, "B01"]))
    assert ("N01", 2023) not in s.index  # new in 2024: no earlier point
    assert year_trends(h, 2023, level=0.95, seed=1) is None  # nothing recorded before the first year


def test_the_rank_change_simulation_follows_the_seed_rule():
    a = run_trends(make_history(), [2023, 2024], seed=7)["rank_changes"]
    b = run_trends(make_history(), [2023, 2024], seed=7)["rank_changes"]
    c = run_trends(make_history(), [2023, 2024], seed=8)["rank_changes"]
    assert a.equals(b)
    assert not a["p_rank_up"].equals(c["p_rank_up"])


def test_years_of_different_frameworks_are_not_compared_unless_declared():
    from evaluation.trends import year_trends
    from surveys.errors import MinpingWarning

    h = make_history()
    h["runs"] = pd.DataFrame({"year": [2023, 2024, 2025], "framework_id": ["city-old", "city-new", "city-new"]})
    with pytest.raises(MethodologyError, match="different frameworks") as err:
        run_trends(h, [2023, 2024], frameworks=frozenset({"city-new"}))
    assert "2023: city-old" in str(err.value) and "comparable_with" in str(err.value)
    assert len(run_trends(h, [2023, 2024], frameworks=frozenset({"city-new", "city-old"}))["trends"])
    assert len(run_trends(h, [2024, 2025], frameworks=frozenset({"city-new"}))["trends"])
    with pytest.warns(MinpingWarning, match="not compared with 2023"):
        assert year_trends(h, 2024, level=0.95, seed=1, frameworks=frozenset({"city-new"})) is None


# ---------------------------------------------------------------------------
# adjusted intervals: the interval printed beside a verdict comes from the same test
# ---------------------------------------------------------------------------

def test_critical_level_by_hand():
    from evaluation.trends import critical_level

    # Holm: two of three rejected -> the Bonferroni level over the one kept (Strassburger & Bretz 2008)
    assert critical_level([0.01, 0.03, 0.2], 0.05, "holm") == pytest.approx(0.05)
    assert critical_level([0.2, 0.3, 0.6, 0.9], 0.05, "holm") == pytest.approx(0.05 / 4)
    # BH: R rejected of m -> R alpha / m (Benjamini & Yekutieli 2005); none rejected -> alpha / m
    assert critical_level([0.01, 0.02, 0.5, 0.9], 0.05, "bh") == pytest.approx(2 * 0.05 / 4)
    assert critical_level([0.3, 0.9], 0.05, "bh") == pytest.approx(0.05 / 2)
    assert critical_level([], 0.05, "holm") == 0.05


@pytest.mark.parametrize("method", ["holm", "bh"])
def test_p_below_the_critical_level_exactly_when_rejected(method):
    from evaluation.trends import adjust_pvalues, critical_level

    rng = np.random.default_rng(3)
    for _ in range(300):
        m = int(rng.integers(1, 40))
        # a mix of real effects and noise, so that families range from none to all rejected
        p = np.where(rng.random(m) < rng.random(), rng.random(m) * 1e-3, rng.random(m))
        adj = adjust_pvalues(p, method)
        c = critical_level(adj, 0.05, method)
        assert np.array_equal(p < c, adj < 0.05), (method, p, c)


def test_adjusted_intervals_agree_with_the_verdicts(demo_result):
    """Every tested change of the demo: its adjusted interval excludes zero exactly when it is significant."""
    for frame in (demo_result.trends.changes, demo_result.trends.city):
        tested = frame[frame["p_adjusted"].notna()]
        assert len(tested)
        excludes = (tested["change_adj_ci_low"] > 0) | (tested["change_adj_ci_high"] < 0)
        assert (excludes.to_numpy() == tested["significant"].astype(bool).to_numpy()).all()
        # the adjusted interval is never narrower than the marginal one
        assert (tested["adjusted_level"] >= demo_result.level - 1e-12).all()
    changes = demo_result.trends.changes
    tested = changes[changes["comparable_p_adjusted"].notna()]
    excludes = (tested["comparable_change_adj_ci_low"] > 0) | (tested["comparable_change_adj_ci_high"] < 0)
    assert (excludes.to_numpy() == tested["comparable_significant"].astype(bool).to_numpy()).all()


def test_gate_effects_are_separated(demo_result):
    """The index before gates has its own change: the difference to the published change is the gates'."""
    ch = demo_result.trends.changes.set_index(["department_id", "measure"])
    deps = demo_result.departments.set_index("department_id")
    for dep in deps.index[deps["index"].notna()]:
        if (dep, "index_raw") not in ch.index or pd.isna(ch.loc[(dep, "index"), "change"]):
            continue
        gate_effect = ch.loc[(dep, "index"), "change"] - ch.loc[(dep, "index_raw"), "change"]
        previous = ch.loc[(dep, "index"), "previous_estimate"] - ch.loc[(dep, "index_raw"), "previous_estimate"]
        now = deps.loc[dep, "index"] - deps.loc[dep, "index_raw"]
        assert gate_effect == pytest.approx(now - previous)


def test_a_year_not_evaluated_is_said_so(demo_runs):
    """A department without an index the year before (not evaluated) gets no change, and the reason."""
    import dataclasses

    from evaluation.trends import history_frames, year_trends
    from reports.scorecard import scorecard_content

    first, second = demo_runs[0].result, demo_runs[1].result
    deps = first.departments.copy()
    dep = second.departments.dropna(subset=["index"])["department_id"].iloc[-1]
    deps.loc[deps.department_id == dep, ["index", "index_raw", "se", "ci_low", "ci_high"]] = np.nan
    history = history_frames([dataclasses.replace(first, departments=deps), second])
    tr = year_trends(history, second.year, level=second.level, seed=1)
    row = tr.changes[(tr.changes.department_id == dep) & (tr.changes.measure == "index")].iloc[0]
    assert np.isnan(row["change"]) and "previous_not_evaluated" in row["flags"]
    c = scorecard_content(second.with_trends(tr), dep)
    assert c.change_lines == [f"{first.year}年未评估，无上年数据"]
