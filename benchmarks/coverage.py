"""Interval coverage and rank recovery on synthetic data with a known truth.

Repeats the survey, callback and site-visit fieldwork of one simulated year
many times around ONE fixed truth (``minping.synthetic.simulate_year`` with a
fresh ``rng`` redraws only the samples), evaluates every repetition and
reports:

- the empirical coverage of the true department index by the linearisation
  and the bootstrap intervals at 90% and 95% (honest departments only: a
  padding department's inflated administrative claims bias its index by
  design, which no sampling interval can cover);
- the Spearman correlation of the estimated with the true index (all and
  high/medium-volume departments);
- how often the true rank lies inside the marginal 95% rank interval;
- the mean squared error of the Fay-Herriot shrunk index against the raw one
  for small (L-tier) departments.

Usage::

    python benchmarks/coverage.py [--sims 200] [--replicates 200] [--seed 20261125] [--year 2024]

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from evaluation.bootstrap import bootstrap_index  # noqa: E402
from evaluation.index import aggregate  # noqa: E402
from evaluation.indicators import estimate_indicators  # noqa: E402
from evaluation.ranking import rank_intervals  # noqa: E402
from evaluation.shrinkage import fay_herriot  # noqa: E402
from minping.synthetic import SimulationConfig, simulate_year  # noqa: E402
from surveys.derive import derive_all  # noqa: E402
from surveys.errors import MinpingWarning  # noqa: E402
from surveys.framework import load_framework  # noqa: E402
from surveys.schema import ChannelData  # noqa: E402

LEVELS = (0.90, 0.95)


def run(sims: int = 200, replicates: int = 200, seed: int = 20261125, year: int = 2024, log=print) -> dict:
    fw = load_framework()
    config = SimulationConfig(seed=seed, years=(2023, 2024, 2025))
    rows = []
    t0 = time.perf_counter()
    for i in range(sims):
        sim = simulate_year(config, year, rng=np.random.default_rng([seed, year, i]))
        data = ChannelData(year, derive_all(sim.tables), {"survey": {"weights": "weight", "cluster": "cluster"}})
        est = estimate_indicators(data, fw)
        _, index = aggregate(est, fw)
        boot, _ = bootstrap_index(est, fw, n_replicates=replicates, seed=seed + i)
        truth = sim.truth.set_index("department_id")
        frame = index.merge(boot[["department_id", "se_boot"]], on="department_id")
        frame["true"] = frame["department_id"].map(truth["index"])
        frame["true_rank"] = frame["true"].rank(ascending=False, method="min")
        frame["honest"] = frame["department_id"].map(truth["honest"]).astype(bool)
        frame["phi"] = frame["department_id"].map(truth["phi"])
        frame["tier"] = frame["department_id"].map(truth["tier"])
        frame["category"] = frame["department_id"].map(truth["category"])
        ranks = rank_intervals(frame, level=0.95, n_draws=1000, seed=i).set_index("department_id")
        frame["rank_low"] = frame["department_id"].map(ranks["rank_low"])
        frame["rank_high"] = frame["department_id"].map(ranks["rank_high"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MinpingWarning)
            shrunk = fay_herriot(frame, estimate="index", se="se", group="category").set_index("department_id")
        frame["shrunk"] = frame["department_id"].map(shrunk["shrunk"])
        frame["sim"] = i
        rows.append(frame)
        if (i + 1) % 25 == 0:
            log(f"{i + 1}/{sims} simulations, {time.perf_counter() - t0:.0f} s")
    return summarise(pd.concat(rows, ignore_index=True), sims=sims, replicates=replicates, seed=seed, year=year,
                     seconds=time.perf_counter() - t0)


def summarise(df: pd.DataFrame, **meta) -> dict:
    out = dict(meta)
    honest = df[df["honest"]]
    for level in LEVELS:
        z = stats.norm.ppf(0.5 + level / 2)
        for kind, se in (("linearisation", "se"), ("bootstrap", "se_boot")):
            lo = (honest["index"] - z * honest[se]).clip(lower=0)
            hi = (honest["index"] + z * honest[se]).clip(upper=100)
            out[f"coverage_{kind}_{round(level * 100)}"] = float(((honest["true"] >= lo) & (honest["true"] <= hi)).mean())
    rho_all = df.groupby("sim").apply(lambda g: stats.spearmanr(g["index"], g["true"]).statistic, include_groups=False)
    hm = df[df["tier"].isin(["H", "M"])]
    rho_hm = hm.groupby("sim").apply(lambda g: stats.spearmanr(g["index"], g["true"]).statistic, include_groups=False)
    out["spearman_all_mean"] = float(rho_all.mean())
    out["spearman_hm_mean"] = float(rho_hm.mean())
    out["spearman_hm_min"] = float(rho_hm.min())
    out["rank_interval_coverage_95"] = float(((df["true_rank"] >= df["rank_low"]) &
                                              (df["true_rank"] <= df["rank_high"])).mean())
    small = df[(df["tier"] == "L") & df["honest"]]
    out["small_mse_raw"] = float(((small["index"] - small["true"]) ** 2).mean())
    out["small_mse_shrunk"] = float(((small["shrunk"] - small["true"]) ** 2).mean())
    out["n_honest_department_years"] = int(len(honest))
    out["mean_se_linearisation"] = float(honest["se"].mean())
    out["mean_se_bootstrap"] = float(honest["se_boot"].mean())
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sims", type=int, default=200)
    p.add_argument("--replicates", type=int, default=200)
    p.add_argument("--seed", type=int, default=20261125)
    p.add_argument("--year", type=int, default=2024)
    args = p.parse_args(argv)
    res = run(args.sims, args.replicates, args.seed, args.year, log=lambda m: print(m, file=sys.stderr))
    for k, v in res.items():
        print(f"{k:32s} {v:.4f}" if isinstance(v, float) else f"{k:32s} {v}")
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
