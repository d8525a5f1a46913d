"""Province-scale projects in Parquet, for the scale benchmark.

A provincial evaluator (or a city that feeds every 好差评 rating into the
evaluation) works with hundreds of departments and tens of millions of
records.  :func:`province_config` sizes the generator for that:
:data:`PROVINCE` gives the totals of one year at ``factor = 1`` (300
departments, 2,000,000 survey completes, 600,000 callback cases, 30,000 site
visits, 20,000,000 好差评 records); ``factor`` multiplies every count but the
number of departments.  :func:`write_parquet_project` writes such a project
with every channel in Parquet, as a data platform exports it: typed columns
(numbers, timestamps, scale codes with 9 for "not applicable"), department
names and category labels as dictionary-encoded text, the evaluator's
Chinese column names, and a few planted problems (recorded in
``truth/injected_<year>.csv``) so that the books have work to do at scale.

Layout::

    project.toml, framework.toml
    data/<year>/survey.parquet, callback_attempts.parquet, callback_interviews.parquet,
                visits.parquet, guides.parquet, admin_monthly.parquet, admin_matters.parquet,
                ratings.parquet
    truth/truth_<year>.csv, truth/indicators_<year>.csv, truth/injected_<year>.csv
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from surveys.schema import CALLBACK_OUTCOMES

from .config import CHECKLIST_ITEMS, SURVEY_ITEMS

from .config import SimulationConfig
from .departments import build_register, stream
from .files import (
    ATTEMPT_COLUMNS,
    GUIDE_COLUMNS,
    INTERVIEW_COLUMNS,
    MATTER_COLUMNS,
    MONTHLY_COLUMNS,
    RATING_COLUMNS,
    SURVEY_COLUMNS,
    VISIT_GROUPS,
    _csv,
    _framework_text,
    _project_toml,
)
from .simulate import simulate_year

#: Totals of one province year at ``factor = 1``.
PROVINCE = {"departments": 300, "survey": 2_000_000, "callback_cases": 600_000, "visits": 30_000,
            "ratings": 20_000_000}
#: Survey completes per intercept day (the survey's PSU) at province scale.
RESPONSES_PER_CLUSTER = 100
#: Rows per Parquet row group (the unit a streaming reader reads).
ROW_GROUP = 1 << 20
STREAM_PROVINCE_FILES = 6
NA_CODE = 9.0
VISIT_COLUMNS = {zh: canon for _, cols in VISIT_GROUPS for zh, canon in cols.items()}
TABLE_COLUMNS = {"survey": SURVEY_COLUMNS, "callback_attempts": ATTEMPT_COLUMNS,
                 "callback_interviews": INTERVIEW_COLUMNS, "visits": VISIT_COLUMNS, "guides": GUIDE_COLUMNS,
                 "admin_monthly": MONTHLY_COLUMNS, "admin_matters": MATTER_COLUMNS, "ratings": RATING_COLUMNS}
_LABELS = {
    "respondent_type": {"citizen": "群众", "enterprise": "企业"},
    "mode": {"hall": "窗口", "sms": "短信", "panel": "企业库"},
    "outcome": {v: k for k, v in CALLBACK_OUTCOMES.items()},
    "visit_type": {"announced": "明察", "mystery": "暗访"},
}


def province_config(factor: float = 1.0, *, seed: int = 20261125, year: int = 2024,
                    departments: int = PROVINCE["departments"], totals: dict | None = None) -> SimulationConfig:
    """A generator configuration for one province-scale year.

    Parameters
    ----------
    factor : float
        Multiplies the survey, callback, site-visit and 好差评 totals
        (0.5, 1 and 2 for the growth measurements).
    seed, year : the generator's seed and the single year simulated.
    departments : number of departments (register plus clones).
    totals : overrides of :data:`PROVINCE` (keys ``survey``,
        ``callback_cases``, ``visits``, ``ratings``).

    Returns
    -------
    SimulationConfig
        Per-tier sizes keep the register's tier ratios (H:M:L) and are scaled
        so that the expected totals over the year's departments match;
        intercept days grow with the survey (:data:`RESPONSES_PER_CLUSTER`
        completes each).  Realised totals differ by sampling noise (the
        好差评 counts are Poisson) and by the deliberately tiny low-volume
        department.
    """
    target = {**PROVINCE, **(totals or {})}
    base = SimulationConfig(seed=seed, years=(year,), n_departments=departments)
    register = build_register(base)
    tiers = register.params.loc[register.active(base, year), "tier"].value_counts()

    def per_tier(knob: str, total: float) -> tuple[tuple[str, int], ...]:
        current = sum(base.tier_value(knob, t) * n for t, n in tiers.items())
        k = total * factor / current
        return tuple((t, max(1, round(v * k))) for t, v in getattr(base, knob))

    survey_n = per_tier("survey_n", target["survey"])
    per_dept = target["visits"] * factor / max(1, tiers.sum())
    return dataclasses.replace(
        base, survey_n=survey_n, callback_n=per_tier("callback_n", target["callback_cases"]),
        ratings_n=per_tier("ratings_n", target["ratings"]),
        clusters=tuple((t, max(v, round(n / RESPONSES_PER_CLUSTER))) for (t, v), (_, n)
                       in zip(base.clusters, survey_n)),
        visits_range=(max(1, round(0.8 * per_dept)), max(1, round(1.2 * per_dept))))


def write_parquet_project(out_dir: str | Path, config: SimulationConfig) -> Path:
    """Simulate every year of ``config`` and write it as a Parquet project.

    Returns
    -------
    Path
        The written ``project.toml`` (format of :mod:`minping.synthetic.files`;
        inputs without encodings, sheets or header rows).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out_dir)
    register = build_register(config)
    names = register.params["department"]
    (out / "truth").mkdir(parents=True, exist_ok=True)
    (out / "framework.toml").write_text(_framework_text(config, register), encoding="utf-8")
    inputs = []
    for year in config.years:
        sim = simulate_year(config, year, register=register)
        folder = out / "data" / str(year)
        folder.mkdir(parents=True, exist_ok=True)
        tables = dict(sim.tables)
        _csv(sim.truth, out / "truth" / f"truth_{year}.csv")
        _csv(sim.truth_indicators, out / "truth" / f"indicators_{year}.csv")
        del sim
        rng = stream(config, STREAM_PROVINCE_FILES, year)
        injected = []
        tables["survey"], found = _plant(tables["survey"], "response_id", "interview_date", year, rng,
                                         code_column="q_overall")
        injected += [("survey", *f) for f in found]
        # A platform export is in time order; the planted copies land in later row groups than their originals.
        ratings = tables.pop("ratings").sort_values("rated_at", kind="stable", ignore_index=True)
        ratings, found = _plant(ratings, "rating_id", "rated_at", year, rng, code_column="level")
        injected += [("ratings", *f) for f in found]
        tables["ratings"] = ratings
        for table, frame in tables.items():
            columns = TABLE_COLUMNS[table]
            arrow = pa.table({zh: _arrow_column(frame[canon], canon, table, names)
                              for zh, canon in columns.items() if canon in frame.columns})
            tables[table] = None
            pq.write_table(arrow, folder / f"{table}.parquet", row_group_size=ROW_GROUP)
            del arrow
            design = {"weights": "weight", "cluster": "cluster"} if table == "survey" else None
            inputs.append({"year": year, "table": table, "path": f"data/{year}/{table}.parquet",
                           "columns": columns, **({"design": design} if design else {})})
        _csv(pd.DataFrame(injected, columns=["table", "issue", "action", "n_rows"]).assign(year=year),
             out / "truth" / f"injected_{year}.csv")
    path = out / "project.toml"
    path.write_text(_project_toml(config, inputs), encoding="utf-8")
    return path


def _plant(frame: pd.DataFrame, key: str, date: str, year: int, rng: np.random.Generator, *,
           code_column: str) -> tuple[pd.DataFrame, list[tuple[str, str, int]]]:
    """About 1 row in 10,000 each: an out-of-range code, a repeated id (a later copy), a date of last year."""
    n = len(frame)
    k = max(1, n // 10_000)
    bad, dup, late = (rng.choice(n, k, replace=False) for _ in range(3))
    out = frame
    out.loc[bad, code_column] = 7.0
    copies = out.iloc[dup].copy()
    moved = out.iloc[late].copy()
    moved[key] = moved[key] + "L"
    moved[date] = moved[date] - pd.DateOffset(years=1)
    # A copy sits after its original; "first kept" keeps the original.
    where = np.concatenate([np.arange(n, dtype=float), dup + rng.uniform(0.5, 1.0, k) * (n - dup),
                            rng.uniform(0, n, k)])
    out = pd.concat([out, copies, moved], ignore_index=True).iloc[np.argsort(where, kind="stable")]
    found = [("code_out_of_range", "quarantine", k), ("duplicate_id", "quarantine", k),
             ("outside_period", "quarantine", k)]
    return out.reset_index(drop=True), found


def _arrow_column(values: pd.Series, canon: str, table: str, names: pd.Series):
    """One column as the platform types it."""
    import pyarrow as pa

    if canon == "department_id":
        return pa.array(values.map(names).to_numpy(dtype=object), type=pa.string()).dictionary_encode()
    if canon in _LABELS:
        return pa.array(values.map(_LABELS[canon]).to_numpy(dtype=object), type=pa.string()).dictionary_encode()
    if canon == "default_rating":
        return pa.array(np.where(values.to_numpy() == 1, "默认好评", "主动评价"), type=pa.string()).dictionary_encode()
    if canon in SURVEY_ITEMS or canon in ("cb_overall", "trips", "told_once", "improper_demand", "accurate",
                                          "scenario_all_listed"):
        # Scale codes, 9 = not applicable (the survey platform's convention).
        codes = values.to_numpy(dtype=float)
        return pa.array(np.where(np.isnan(codes), NA_CODE, codes).astype(np.int8))
    if canon in ("level", "callback_level"):
        return pa.array(values.to_numpy(dtype=float), from_pandas=True).cast(pa.int8())
    if canon in CHECKLIST_ITEMS:
        return pa.array(values.to_numpy(dtype=float), from_pandas=True)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return pa.array(values.to_numpy(), from_pandas=True).cast(pa.timestamp("s"))
    if pd.api.types.is_numeric_dtype(values.dtype):
        return pa.array(values.to_numpy(dtype=float), from_pandas=True)
    return pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
