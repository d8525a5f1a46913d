"""Does a sampling plan deliver the precision it promises?  And does equal precision buy better rankings?

On the demo's known truth: the demo project is written, its years before
``--year`` are evaluated (so the results history holds last year's
variances, completion rates and case volumes), and two plans for ``--year``
are made with :func:`minping.plan.make_plan`:

- ``fixed``: the habit, 100 questionnaires and 100 completed callbacks per
  department (site visits and guide checks at last year's median);
- ``equal_precision``: the same total cost, allocated for one common index
  precision and split across the channels by their costs and variances;
- ``tiered``: last year's sizes (the demo's 300 / 150 / 60 questionnaires
  and 200 / 150 / 80 callback cases by volume tier), which over-sample the
  large departments;
- ``equal_precision_tiered``: equal precision at the tiered plan's cost.

The fieldwork of ``--year`` is then simulated ``--sims`` times around one
fixed truth with each plan's sizes: the generator draws a large sample per
department, and the plan's units are subsampled from it (questionnaires and
visits and guides as planned; callback *cases* as planned contacts, so the
completes come from the simulated dispositions, as they would in the field).
Each repetition is evaluated with the toolkit's estimators (linearisation),
and ranked with its marginal rank intervals.  Reported:

- per plan, the promised index SE against the mean SE the evaluation reports
  and against the empirical SD of the index across repetitions (ratios over
  departments: median, 10% and 90% points), and the coverage of the true
  index by the nominal 95% interval (honest departments);
- completes realised against planned;
- the mean width of the marginal 95% rank interval, all departments and the
  small (tier L) ones, under both plans, against what the plan promised.

Usage::

    python benchmarks/planning.py [--sims 100] [--seed 20261125] [--year 2025]

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
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

from evaluation.index import aggregate  # noqa: E402
from evaluation.indicators import estimate_indicators  # noqa: E402
from evaluation.ranking import rank_intervals  # noqa: E402
from minping.pipeline import run_project  # noqa: E402
from minping.plan import make_plan  # noqa: E402
from minping.synthetic import SimulationConfig, simulate_year, write_demo_project  # noqa: E402
from minping.synthetic.departments import build_register  # noqa: E402
from surveys.derive import derive_all  # noqa: E402
from surveys.errors import MinpingWarning  # noqa: E402
from surveys.project import load_project  # noqa: E402
from surveys.schema import ChannelData  # noqa: E402

LEVEL = 0.95
PLANS = ("fixed", "equal_precision", "tiered", "equal_precision_tiered")


def make_plans(project_file: Path, year: int, seed: int, names=PLANS) -> dict:
    """The habits and the equal-precision plans at their costs."""
    project = load_project(project_file)
    plans = {}
    fixed = make_plan(project, year, allocation="fixed")     # 100 + 100, visits and guides at last year's
    if "fixed" in names:
        plans["fixed"] = fixed
    if "equal_precision" in names:
        plans["equal_precision"] = make_plan(project, year, allocation="equal_precision",
                                             budget=fixed.allocation.total_cost)
    if {"tiered", "equal_precision_tiered"} & set(names):
        last = fixed.allocation.units[["department_id", "table", "n"]].rename(columns={"n": "units"})
        tiered = make_plan(project, year, allocation="fixed", fixed=last.dropna())
        if "tiered" in names:
            plans["tiered"] = tiered
        if "equal_precision_tiered" in names:
            plans["equal_precision_tiered"] = make_plan(project, year, allocation="equal_precision",
                                                        budget=tiered.allocation.total_cost)
    return plans


def simulate_plan(config: SimulationConfig, register, year: int, plan, rng: np.random.Generator, framework):
    """One simulated fieldwork of ``year`` with the plan's sizes, evaluated: index, se and truth per department."""
    units = plan.allocation.units.set_index(["department_id", "table"])
    need = {t: int(units.xs(t, level="table")[col].max()) for t, col in
            (("survey", "units"), ("callback_interviews", "contacts"), ("visits", "units"), ("guides", "units"))}
    big = replace(config, survey_n=tuple((k, need["survey"]) for k in ("H", "M", "L")),
                  callback_n=tuple((k, need["callback_interviews"]) for k in ("H", "M", "L")),
                  visits_range=(need["visits"], need["visits"]), guides_n=need["guides"],
                  low_volume_n=(need["survey"], need["callback_interviews"]))
    sim = simulate_year(big, year, rng=rng, register=register)
    t = sim.tables
    keep = {}
    for table, key, col in (("survey", "response_id", "units"), ("callback_attempts", "case_id", "contacts"),
                            ("visits", "visit_id", "units"), ("guides", "guide_id", "units")):
        plan_table = "callback_interviews" if table == "callback_attempts" else table
        ids = []
        for dep, g in t[table].groupby("department_id"):
            if (dep, plan_table) not in units.index:
                continue
            pool = g[key].drop_duplicates().to_numpy()
            n = min(int(units.loc[(dep, plan_table), col]), len(pool))
            ids.append(rng.choice(pool, n, replace=False))
        keep[table] = set(np.concatenate(ids)) if ids else set()
    tables = dict(t)
    tables["survey"] = t["survey"][t["survey"]["response_id"].isin(keep["survey"])]
    for table in ("callback_attempts", "callback_interviews"):
        tables[table] = t[table][t[table]["case_id"].isin(keep["callback_attempts"])]
    tables["visits"] = t["visits"][t["visits"]["visit_id"].isin(keep["visits"])]
    tables["guides"] = t["guides"][t["guides"]["guide_id"].isin(keep["guides"])]
    data = ChannelData(year, derive_all(tables), {"survey": {"weights": "weight", "cluster": "cluster"}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MinpingWarning)
        est = estimate_indicators(data, framework)
        index = aggregate(est, framework).index
    truth = sim.truth.set_index("department_id")
    index["true"] = index["department_id"].map(truth["index"])
    index["honest"] = index["department_id"].map(truth["honest"]).astype(bool)
    index["tier"] = index["department_id"].map(truth["tier"])
    index["completes"] = index["department_id"].map(tables["callback_interviews"].groupby("department_id").size())
    ranks = rank_intervals(index, level=LEVEL, n_draws=1000, seed=int(rng.integers(2**31)))
    index = index.merge(ranks[["department_id", "rank_low", "rank_high"]], on="department_id")
    index["rank_width"] = index["rank_high"] - index["rank_low"]
    return index


def run(sims: int = 100, seed: int = 20261125, year: int = 2025, workdir: str | Path | None = None,
        project_file: str | Path | None = None, plans=PLANS, log=print) -> dict:
    """Make both plans and simulate each ``sims`` times; returns the figures (see the module notes).

    ``project_file``: an already evaluated demo project (its history holds the
    years before ``year``); default a fresh demo written to ``workdir``.
    """
    t0 = time.perf_counter()
    config = SimulationConfig(seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        if project_file is None:
            folder = Path(workdir or tmp) / "demo"
            project_file = write_demo_project(folder, seed=seed)
            run_project(project_file, years=[y for y in config.years if y < year], render=False, log=lambda m: None)
        plans = make_plans(Path(project_file), year, seed, plans)
    register = build_register(config)
    framework = register.framework
    out: dict = {"sims": sims, "seed": seed, "year": year, "level": LEVEL}
    for name, plan in plans.items():
        promised = plan.departments.set_index("department_id")
        rows = []
        for i in range(sims):
            frame = simulate_plan(config, register, year, plan, np.random.default_rng([seed, year, i]), framework)
            frame["sim"] = i
            rows.append(frame)
            if (i + 1) % 25 == 0:
                log(f"{name}: {i + 1}/{sims} simulations, {time.perf_counter() - t0:.0f} s")
        out.update(summarise(pd.concat(rows, ignore_index=True), promised, plan, name))
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def summarise(df: pd.DataFrame, promised: pd.DataFrame, plan, name: str) -> dict:
    """Promised against realised precision, coverage and rank widths of one plan."""
    z = stats.norm.ppf(0.5 + LEVEL / 2)
    by = df.groupby("department_id")
    per = pd.DataFrame({"mean_se": by["se"].mean(), "sd": by["index"].std(ddof=1), "tier": by["tier"].first(),
                        "rank_width": by["rank_width"].mean(), "completes": by["completes"].mean()})
    per["promised_se"] = promised["se"].reindex(per.index)
    per["promised_rank_width"] = promised["rank_width"].reindex(per.index)
    units = plan.allocation.units
    planned_c = units[units["table"] == "callback_interviews"].set_index("department_id")["units"]
    per["planned_completes"] = planned_c.reindex(per.index)
    per = per.dropna(subset=["promised_se"])
    honest = df[df["honest"]]
    cover = ((honest["true"] >= honest["index"] - z * honest["se"]) &
             (honest["true"] <= honest["index"] + z * honest["se"])).mean()
    r_se = per["mean_se"] / per["promised_se"]
    r_sd = per["sd"] / per["promised_se"]
    small = per[per["tier"] == "L"]
    p = f"{name}_"
    return {
        p + "cost": float(plan.allocation.total_cost),
        p + "promised_half_width_max": float(z * per["promised_se"].max()),
        p + "promised_half_width_median": float(z * per["promised_se"].median()),
        p + "reported_se_ratio_median": float(r_se.median()),
        p + "reported_se_ratio_p10": float(r_se.quantile(0.1)),
        p + "reported_se_ratio_p90": float(r_se.quantile(0.9)),
        p + "empirical_sd_ratio_median": float(r_sd.median()),
        p + "empirical_sd_ratio_p10": float(r_sd.quantile(0.1)),
        p + "empirical_sd_ratio_p90": float(r_sd.quantile(0.9)),
        p + "pooled_sd_ratio": float(np.sqrt((per["sd"] ** 2).mean() / (per["promised_se"] ** 2).mean())),
        p + "realised_half_width_max": float(z * per["sd"].max()),
        p + "coverage_95_honest": float(cover),
        p + "completes_ratio": float((per["completes"] / per["planned_completes"]).median()),
        p + "rank_width_mean": float(per["rank_width"].mean()),
        p + "rank_width_small_mean": float(small["rank_width"].mean()),
        p + "promised_rank_width_mean": float(per["promised_rank_width"].mean()),
        p + "promised_rank_width_small_mean": float(small["promised_rank_width"].mean()),
        p + "se_small_mean": float(small["mean_se"].mean()),
        p + "n_departments": int(len(per)),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sims", type=int, default=100)
    p.add_argument("--seed", type=int, default=20261125)
    p.add_argument("--year", type=int, default=2025)
    args = p.parse_args(argv)
    res = run(args.sims, args.seed, args.year, log=lambda m: print(m, file=sys.stderr))
    for k, v in res.items():
        print(f"{k:44s} {v:.4f}" if isinstance(v, float) else f"{k:44s} {v}")
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
