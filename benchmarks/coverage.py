"""Interval coverage and rank recovery on synthetic data with a known truth.

Repeats the survey, callback and site-visit fieldwork of one simulated year
many times around ONE fixed truth (``minping.synthetic.simulate_year`` with a
fresh ``rng`` redraws only the samples), evaluates every repetition and
reports:

- the empirical coverage of the true department index by the published
  intervals (t on the Satterthwaite degrees of freedom of
  :mod:`evaluation.index`) from the linearisation and from the bootstrap, at
  90% and 95% (honest departments only: a padding department's inflated
  administrative claims bias its index by design, which no sampling interval
  can cover);
- the same for the six dimension scores, for the sampled share indicators
  (raw share against the true population share) and for the top-2 box
  shares of the Likert items, each interval with the framework's
  ``share_interval`` (logit by default);
- all of that again in a few-clusters scenario (``--clusters-low``: the
  survey of every low-volume department in that many intercept days, so
  ``df`` is small), reported under ``few_clusters_*``;
- the Spearman correlation of the estimated with the true index (all and
  high/medium-volume departments);
- how often the true rank lies inside the marginal 95% rank interval;
- the mean squared error of the Fay-Herriot shrunk index against the raw one
  for small (L-tier) departments.

Usage::

    python benchmarks/coverage.py [--sims 200] [--replicates 200] [--seed 20261125] [--year 2024]
                                  [--clusters-low 3] [--few-sims 100]

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from evaluation.bootstrap import bootstrap_index  # noqa: E402
from evaluation.design import proportion_interval  # noqa: E402
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
SURVEY_DESIGN = {"survey": {"weights": "weight", "cluster": "cluster"}}


def _sim_seed(seed: int, i: int) -> int:
    """An independent seed per repetition (spawned, not added)."""
    return int(np.random.SeedSequence([seed, i]).generate_state(1)[0])


def run(sims: int = 200, replicates: int = 200, seed: int = 20261125, year: int = 2024, log=print,
        clusters_low: int | None = 3, few_sims: int | None = None) -> dict:
    fw = load_framework()
    config = SimulationConfig(seed=seed, years=(2023, 2024, 2025))
    t0 = time.perf_counter()
    frames = _repeat(fw, config, year, sims, replicates, seed, log, t0)
    out = summarise(frames, fw, bootstrap=replicates > 0, sims=sims, replicates=replicates, seed=seed, year=year)
    if clusters_low:
        few = replace(config, clusters=tuple((t, clusters_low if t == "L" else k) for t, k in config.clusters))
        n_few = few_sims if few_sims is not None else sims
        frames = _repeat(fw, few, year, n_few, 0, seed, log, t0)
        figures = summarise(frames, fw, bootstrap=False)
        out.update({f"few_clusters_{k}": v for k, v in figures.items()})
        out["few_clusters_low_tier_clusters"] = clusters_low
        out["few_clusters_sims"] = n_few
    out["seconds"] = time.perf_counter() - t0
    return out


def _repeat(fw, config, year, sims, replicates, seed, log, t0) -> dict[str, pd.DataFrame]:
    index_rows, dim_rows, share_rows = [], [], []
    for i in range(sims):
        sim = simulate_year(config, year, rng=np.random.default_rng([seed, year, i]))
        data = ChannelData(year, derive_all(sim.tables), SURVEY_DESIGN)
        est = estimate_indicators(data, fw)
        agg = aggregate(est, fw)
        truth = sim.truth.set_index("department_id")
        frame = agg.index.copy()
        if replicates:
            boot, _ = bootstrap_index(est, fw, n_replicates=replicates, seed=_sim_seed(seed, i))
            frame = frame.merge(boot[["department_id", "se_boot"]], on="department_id")
        frame["true"] = frame["department_id"].map(truth["index"])
        frame["true_rank"] = frame["true"].rank(ascending=False, method="min")
        for col in ("honest", "tier", "category"):
            frame[col] = frame["department_id"].map(truth[col])
        frame["honest"] = frame["honest"].astype(bool)
        ranks = rank_intervals(frame, level=0.95, n_draws=1000, seed=_sim_seed(seed, i)).set_index("department_id")
        frame["rank_low"] = frame["department_id"].map(ranks["rank_low"])
        frame["rank_high"] = frame["department_id"].map(ranks["rank_high"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MinpingWarning)
            shrunk = fay_herriot(frame, estimate="index", se="se", group="category").set_index("department_id")
        frame["shrunk"] = frame["department_id"].map(shrunk["shrunk"])
        frame["sim"] = i
        index_rows.append(frame)

        dims = agg.dimensions.copy()
        dims["true"] = [truth.loc[d, k] for d, k in zip(dims["department_id"], dims["dimension_id"])]
        dims["honest"] = dims["department_id"].map(truth["honest"]).astype(bool)
        dims["tier"] = dims["department_id"].map(truth["tier"])
        dim_rows.append(dims.assign(sim=i))

        share_rows.append(_shares(est.frame, sim.truth_indicators, fw, truth).assign(sim=i))
        if (i + 1) % 25 == 0:
            log(f"{i + 1}/{sims} simulations, {time.perf_counter() - t0:.0f} s")
    return {"index": pd.concat(index_rows, ignore_index=True), "dimensions": pd.concat(dim_rows, ignore_index=True),
            "shares": pd.concat(share_rows, ignore_index=True)}


def _shares(ind: pd.DataFrame, true_ind: pd.DataFrame, fw, truth: pd.DataFrame) -> pd.DataFrame:
    """Sampled shares and top-2 box shares: estimate, se, df, n, rule and the true population share."""
    meta = {i.id: i for i in fw.indicators}
    t = true_ind.set_index(["department_id", "indicator_id"])
    rows = []
    sampled = ind[~ind["census"].astype(bool)]
    for _, r in sampled.iterrows():
        i = meta[r["indicator_id"]]
        key = (r["department_id"], r["indicator_id"])
        if key not in t.index:
            continue
        if i.measure == "share":
            rows.append((r["department_id"], r["indicator_id"], "share", r["raw_value"], r["raw_se"], r["df"], r["n"],
                         r["se_rule"], t.loc[key, "raw_value"]))
        elif i.measure == "likert":
            rule = "pooled" if r["top2"] in (0.0, 1.0) else "linearisation"
            rows.append((r["department_id"], r["indicator_id"], "top2", r["top2"], r["top2_se"], r["df"], r["n"],
                         rule, t.loc[key, "top2"]))
    out = pd.DataFrame(rows, columns=["department_id", "indicator_id", "kind", "estimate", "se", "df", "n",
                                      "se_rule", "true"])
    out["honest"] = out["department_id"].map(truth["honest"]).astype(bool)
    out["tier"] = out["department_id"].map(truth["tier"])
    return out


def _covered(true, estimate, se, df, level, low=None, high=None) -> np.ndarray:
    q = stats.t.ppf(0.5 + level / 2, np.where(np.isfinite(df), df, 1e12))
    lo = np.clip(estimate - q * se, low, high) if low is not None else estimate - q * se
    hi = np.clip(estimate + q * se, low, high) if high is not None else estimate + q * se
    return (true >= lo) & (true <= hi)


def summarise(frames: dict[str, pd.DataFrame], fw, *, bootstrap: bool = True, **meta) -> dict:
    out = dict(meta)
    df = frames["index"]
    honest = df[df["honest"]]
    dims = frames["dimensions"]
    dims = dims[dims["honest"]]
    shares = frames["shares"]
    shares = shares[shares["honest"]]
    method = fw.share_interval_method
    for level in LEVELS:
        pct = round(level * 100)
        kinds = (("linearisation", "se"), ("bootstrap", "se_boot")) if bootstrap else (("linearisation", "se"),)
        for kind, se in kinds:
            cov = _covered(honest["true"], honest["index"], honest[se], honest["df"], level, 0.0, 100.0)
            out[f"coverage_{kind}_{pct}"] = float(cov.mean())
        small = honest[honest["tier"] == "L"]
        out[f"coverage_index_low_tier_{pct}"] = float(
            _covered(small["true"], small["index"], small["se"], small["df"], level, 0.0, 100.0).mean())
        out[f"coverage_dimensions_{pct}"] = float(
            _covered(dims["true"], dims["estimate"], dims["se"], dims["df"], level, 0.0, 100.0).mean())
        for kind in ("share", "top2"):
            s = shares[shares["kind"] == kind]
            lo, hi = proportion_interval(s["estimate"], s["se"], s["n"], s["df"], level, method)
            pooled = (s["se_rule"] == "pooled").to_numpy()
            q = stats.norm.ppf(0.5 + level / 2)
            lo = np.where(pooled, np.clip(s["estimate"] - q * s["se"], 0, 1), lo)
            hi = np.where(pooled, np.clip(s["estimate"] + q * s["se"], 0, 1), hi)
            ok = (s["true"].to_numpy() >= lo) & (s["true"].to_numpy() <= hi)
            out[f"coverage_{kind}s_{pct}"] = float(ok.mean())
    out["mean_df_index"] = float(honest["df"].replace(np.inf, np.nan).mean())
    out["min_df_index"] = float(honest["df"].min())
    out["share_interval"] = fw.share_interval
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
    if bootstrap:
        out["mean_se_bootstrap"] = float(honest["se_boot"].mean())
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sims", type=int, default=200)
    p.add_argument("--replicates", type=int, default=200)
    p.add_argument("--seed", type=int, default=20261125)
    p.add_argument("--year", type=int, default=2024)
    p.add_argument("--clusters-low", type=int, default=3, help="intercept days of L-tier surveys (0: skip)")
    p.add_argument("--few-sims", type=int, default=None, help="repetitions of the few-clusters scenario")
    args = p.parse_args(argv)
    res = run(args.sims, args.replicates, args.seed, args.year, log=lambda m: print(m, file=sys.stderr),
              clusters_low=args.clusters_low or None, few_sims=args.few_sims)
    for k, v in res.items():
        print(f"{k:40s} {v:.4f}" if isinstance(v, float) else f"{k:40s} {v}")
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
