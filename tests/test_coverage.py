"""A small version of benchmarks/coverage.py: intervals cover the known truth at about the nominal rate."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "coverage.py"


@pytest.fixture(scope="module")
def figures():
    spec = importlib.util.spec_from_file_location("coverage_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.run(sims=6, replicates=50, seed=7, log=lambda m: None, clusters_low=3, few_sims=4)


@pytest.mark.parametrize("kind", ["linearisation", "bootstrap"])
def test_interval_coverage_near_nominal(figures, kind):
    # 6 repetitions x ~27 honest departments: a few points of Monte Carlo noise around the nominal rate
    assert 0.88 <= figures[f"coverage_{kind}_95"] <= 0.995
    assert 0.82 <= figures[f"coverage_{kind}_90"] <= 0.97


@pytest.mark.parametrize("what", ["dimensions", "shares", "top2s"])
def test_dimension_and_share_coverage_near_nominal(figures, what):
    assert 0.85 <= figures[f"coverage_{what}_95"] <= 0.995
    assert 0.80 <= figures[f"coverage_{what}_90"] <= 0.97


def test_few_clusters_keep_their_coverage_with_t_intervals(figures):
    # three intercept days in every low-volume department: 2 design df for their survey
    assert figures["few_clusters_min_df_index"] < 5
    assert 0.85 <= figures["few_clusters_coverage_linearisation_95"] <= 1.0
    assert 0.80 <= figures["few_clusters_coverage_index_low_tier_90"] <= 1.0


def test_ranks_are_recovered(figures):
    assert figures["spearman_hm_min"] > 0.8
    assert figures["rank_interval_coverage_95"] >= 0.9


def test_bootstrap_and_linearisation_agree_on_average(figures):
    assert figures["mean_se_bootstrap"] == pytest.approx(figures["mean_se_linearisation"], rel=0.15)
