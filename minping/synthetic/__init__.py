"""Synthetic evaluation data with a known truth.

Used by ``minping demo`` (the demo project), by the statistical tests
(interval coverage, rank correlation with the truth) and by the benchmarks
(repeated simulations; province-scale projects).

API
---
``SimulationConfig(...)``
    Every knob, with the DOMAIN.md defaults (frozen; vary with
    ``dataclasses.replace``).
``simulate_year(config, year, *, rng=None, register=None) -> SimulatedYear``
    One year: canonical tables (``surveys.schema.TABLES``), the truth, the
    department parameters.  ``rng`` redraws only the samples, so repeated
    calls are repeated samples of one fixed truth.
``simulate(config) -> dict[int, SimulatedYear]``
    Every year, with shared department parameters and trends.
``true_changes(years, framework) -> DataFrame``
    True index change across years (successors against their predecessors
    combined by case volume).
``write_demo_project(out_dir, *, seed=None, config=None) -> Path``
    The demo project folder (see :mod:`minping.synthetic.files`); returns
    the path of its ``project.toml``.

The model
---------
Department ``d`` in year ``t`` has latent quality
``q_dt = alpha_d + beta_d (t - t0) + eps_dt`` with ``alpha_d`` = category
offset + N(0, sd_department), a small trend ``beta_d`` and yearly noise
``eps_dt``.  Every generated field ``f`` (a survey item, a callback answer, a
checklist, an administrative rate...) reads ``eta_df = q_dt + u_dk + w_df``,
with ``u_dk`` a persistent department-by-dimension effect for the dimension
``k`` of the field and ``w_df`` a persistent field effect.

- Likert answers (survey, callback, 好差评) follow an ordered probit on
  ``eta`` plus the item offset, respondent leniency N(0, sd_leniency), the
  enterprise and refused-application offsets, a callback offset (less social
  desirability than at the window) and, in the survey, an intercept-day
  effect; 3-8% N/A per item.  The cut-points put about 67% of all survey
  answers at 4-5 and about 4% at 1-2 (the Chinese ceiling; the five codes
  1..5 about 1.5 / 2 / 30 / 20 / 46.5%).
- Callback dispositions: genuine records end complete ~62%, no answer 15%,
  refusal or break-off 8%, wrong number 6%, never handled 2%, other 6%, over
  up to three attempts.  A padding department (``phi`` 0.05-0.25, two or
  three of them) fabricates a share ``phi`` of its records; they end as
  never handled or wrong numbers, often on reused staff phones.
- Site visits (2-4 per department, some with two raters), checklist items
  (1 / 0.5 / 0 / N/A) from an ordered probit, log-normal queue waits shorter
  for better departments, about 10 service guides checked.
- Administrative censuses (monthly counts, matters) from ``eta`` with small
  noise; padding departments report inflated claims.
- 好差评 ratings (6000 / 2000 / 500 per tier): default and, for a gaming
  department (``gamma`` 0.3-0.6, two or three of them, from the lower half
  by ``alpha``), prompted ratings at level 5; bad reviews get deadlines,
  rectification times and callbacks.
- Across years: the register's renames and merges (the successor continues
  its predecessors' parameters, volume-weighted), a new department in 2024,
  统计局 (D08) with a survey of 40 and fewer than 30 callback completes, and
  no data in 2025.

The truth
---------
The framework applied to population expectations: Likert indicators are the
expected preset score over the population's respondent mix with leniency
and day effects integrated out (closed form), shares are probabilities,
means are population means, census indicators (administrative data without
the claims inflation, 好差评 ratios) are the census values; dimension and
index scores renormalise the weights over what is present.  The truth also
carries the expected gate figures (G1, G2, completion, wrong numbers).

Calibration (40 seeds, years 2023 and 2025 of the default config): true
index mean 82.7, SD 6.8, grades A 12%, B 59%, C 24%, D 5%.  DOMAIN.md aims
at a mean of 84 with an SD of 5 and A 15 / B 50 / C 30 / D 5; with 4-5
answers held at 60-70% the Likert half of the index cannot average much
above 77, so the mean settles lower and the SD was widened to keep the
grade mix.  Expected G1 is 96.9% for honest departments and at most 88.6%
for ``phi >= 0.1``; expected G2 is about 2 (at most 4.3) points for honest
departments and at least 14.4 points for gaming ones (40 seeds x 3 years).
Sampling noise still pushes some honest departments over the G1 and G2
thresholds in a given year: with about 2% "never handled" and 50-120
completes, an observed G1 below 95% is common.
"""

from .config import SimulatedYear, SimulationConfig
from .departments import Register, build_register
from .files import write_demo_project
from .links import disposition_probabilities, expected_g1
from .simulate import pooled_likert_shares, simulate, simulate_year
from .truth import true_changes

__all__ = [
    "SimulationConfig", "SimulatedYear", "Register", "build_register", "simulate", "simulate_year",
    "true_changes", "write_demo_project", "disposition_probabilities", "expected_g1", "pooled_likert_shares",
]
