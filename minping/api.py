"""The public Python API of minping: one import for notebooks and scripts.

::

    import minping.api as mp

    project = mp.load_project("my-eval")            # project.toml: framework, years, inputs, seed
    framework = project.load_framework()
    loaded = mp.load_year(project, framework, 2025)  # read and validate: loaded.data, loaded.ledger
    result = mp.evaluate_year(project, 2025)         # the numbers `minping run` publishes, change since 2024 attached
    result.summary_frame()                           # departments by rank with interval, rank interval, grade
    mp.render_reports(result, "out", lang="zh")      # city report and scorecards (PDF, Excel)

    history = mp.load_history(mp.history_path(project.root))
    tables = mp.trends(history, [2024, 2025], level=result.level, seed=project.seed)

What each call returns
----------------------
:func:`evaluate_year` and :func:`evaluate` return an
:class:`~evaluation.result.EvaluationResult` whose tables have fixed columns:

- ``result.departments`` (:data:`~evaluation.result.DEPARTMENT_COLUMNS`): one
  row per department of the year: ``index`` (after gates) with ``se``,
  ``ci_low``, ``ci_high`` at ``result.level``; ``index_raw`` (before gates),
  ``g1_deduction``, ``bonus``; ``rank`` with the marginal (``rank_low``,
  ``rank_high``) and simultaneous (``rank_sim_low``, ``rank_sim_high``)
  intervals, ``tie_group``, ``p_top3``, ``p_bottom3``; the same within the
  comparison category (``rank_in_category*``); ``grade`` and ``borderline``;
  sample sizes; ``flags``; ``not_evaluated_reason``.
- ``result.dimensions`` (``evaluation.index.DIMENSION_COLUMNS``) and
  ``result.indicators`` (``evaluation.indicators.INDICATOR_COLUMNS``): the
  estimates with ``se`` and intervals per department.
- ``result.quality``: callback dispositions, AAPOR rates, G1 and G2, 好差评
  rates, the framework's objective reform figures.
- ``result.ranking.rank_uncertainty``, ``result.weighting.{effective,
  variance_shares, record}``, ``result.robustness.{shrinkage, funnel,
  funnel_limits, sensitivity, sensitivity_summary, sensitivity_indices}``,
  ``result.reliability.{scales, interrater, agreement, agreement_points}``,
  ``result.priorities.{drivers, priorities}``, ``result.trends.{changes,
  rank_changes, movers, series}`` (None before the second recorded year).
- ``result.provenance``: versions, hashes, the seed, the level and every
  setting that changed a number.

``result.tables()`` gives every table under its file name in ``results/``.
The same seed gives the same numbers here and on the command line.
"""

from __future__ import annotations

from pathlib import Path

from evaluation.evaluate import evaluate
from evaluation.result import EvaluationResult
from evaluation.trends import trends, year_trends
from minping.history import history_path, load_history
from minping.pipeline import evaluate_loaded, run_project
from reports.render import render_reports
from surveys.framework import Framework, load_framework
from surveys.ingest import YearInput, load_year
from surveys.project import Project, load_project

__all__ = [
    "EvaluationResult",
    "Framework",
    "Project",
    "YearInput",
    "evaluate",
    "evaluate_year",
    "history_path",
    "load_framework",
    "load_history",
    "load_project",
    "load_year",
    "render_reports",
    "run_project",
    "trends",
    "year_trends",
]


def evaluate_year(project: Project | str | Path, year: int, *, variance: str = "linearisation",
                  n_replicates: int = 500) -> EvaluationResult:
    """Load, validate and evaluate one year of a project exactly as ``minping run`` does (nothing is written).

    Parameters
    ----------
    project : a :class:`~surveys.project.Project` or the path of its file or folder
    year : a year of the project
    variance, n_replicates : as the ``--variance`` and ``--replicates`` options of ``minping run``

    Returns
    -------
    EvaluationResult
        With the project's seed and the framework's confidence level, and the
        change since the previous recorded year attached (``result.trends``).
    """
    project = project if isinstance(project, Project) else load_project(project)
    framework = project.load_framework()
    loaded = load_year(project, framework, int(year))
    return evaluate_loaded(project, framework, loaded, variance=variance, n_replicates=n_replicates)
