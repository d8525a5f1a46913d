"""Rankings that survive scrutiny: the robustness, reliability and priority tables of one year.

:func:`robustness_tables` composes the steps on an evaluated year and
returns three typed groups of :mod:`evaluation.result`:

- :class:`~evaluation.result.Robustness`: Fay–Herriot shrinkage toward the
  category mean and funnel-plot limits (:mod:`evaluation.shrinkage`; the
  official index is unshrunk), the Monte Carlo sensitivity of the ranking to
  the methodological choices (:mod:`evaluation.sensitivity`);
- :class:`~evaluation.result.Reliability`: scale reliability of the survey,
  inter-rater agreement of double-rated site visits and the agreement of the
  framework's declared survey/callback indicator pairs
  (:mod:`evaluation.reliability_tables`);
- :class:`~evaluation.result.Priorities`: importance–performance quadrants
  (GB/T 19038) and each department's improvement priorities
  (:mod:`evaluation.drivers`).

The rank intervals are not here: the ranking step of
:func:`evaluation.evaluate.evaluate` computes them once.  A table the data
are too thin for is empty, with a :class:`~surveys.errors.MinpingWarning`
saying why; a table whose channel was not collected or whose role the
framework does not declare (no overall-satisfaction outcome, no
survey/callback pair) is empty, the reason in ``result.coverage.checks``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from surveys.errors import InsufficientDataError, MinpingWarning
from surveys.schema import ChannelData

from .drivers import DRIVER_COLUMNS, importance_performance, improvement_priorities
from .indicators import table_design
from .reliability_tables import (AGREEMENT_COLUMNS, AGREEMENT_POINT_COLUMNS, RELIABILITY_COLUMNS, agreement_table,
                                 interrater_table, reliability_table)
from .result import EvaluationResult, Priorities, Reliability, Robustness
from .sensitivity import sensitivity_analysis
from .shrinkage import FUNNEL_COLUMNS, FUNNEL_LIMIT_COLUMNS, SHRINKAGE_COLUMNS, fay_herriot, funnel


def _or_empty(step, columns, name: str):
    """Run one table's step; too little data gives an empty table and a warning instead of stopping the year."""
    try:
        return step()
    except InsufficientDataError as exc:
        warnings.warn(f"{name} table left empty: {exc}", MinpingWarning, stacklevel=3)
        if isinstance(columns, tuple):
            return tuple(pd.DataFrame(columns=c) for c in columns)
        return pd.DataFrame(columns=columns)


def _made(result: EvaluationResult, check: str) -> bool:
    """Whether the coverage step found what ``check`` needs (its channels collected, its role declared)."""
    checks = result.coverage.checks.set_index("check")["assessed"]
    return bool(checks.get(check, True))


def robustness_tables(result: EvaluationResult, data: ChannelData, *, rng: np.random.Generator,
                      sensitivity_draws: int) -> tuple[Robustness, Reliability, Priorities]:
    """The robustness, reliability and priority tables of one evaluated year.

    Parameters
    ----------
    result : the year's :class:`~evaluation.result.EvaluationResult` (ranked, without these groups)
    data : the validated channel data it was computed from
    rng : the generator of the sensitivity analysis (its only random step)
    sensitivity_draws : N of the sensitivity design (N (k + 2) variants)

    Returns
    -------
    (Robustness, Reliability, Priorities)
    """
    level = result.level
    fw = result.framework
    deps = result.departments[result.departments["index"].notna()].reset_index(drop=True)

    sampled = deps[deps["se"] > 0]
    shrinkage = _or_empty(lambda: fay_herriot(sampled), SHRINKAGE_COLUMNS, "shrinkage")
    sized = deps.assign(n=deps["n_survey"].fillna(0) + deps["n_callback"].fillna(0))
    funnel_rows, funnel_limits = _or_empty(lambda: funnel(sized), (FUNNEL_COLUMNS, FUNNEL_LIMIT_COLUMNS), "funnel")
    preset = result.provenance.settings["likert_preset"]
    sens = sensitivity_analysis(result.indicators, deps, fw, n_draws=sensitivity_draws, seed=rng,
                                nominal_preset=preset, data=data, level=level)
    robustness = Robustness(shrinkage=shrinkage, funnel=funnel_rows, funnel_limits=funnel_limits,
                            sensitivity=sens.departments, sensitivity_summary=sens.summary,
                            sensitivity_indices=sens.indices)

    survey = data.tables.get("survey")
    design = table_design(data, "survey", survey) if survey is not None and len(survey) else None
    scales = (reliability_table(survey, fw, weights=design.weights) if design is not None
              else pd.DataFrame(columns=RELIABILITY_COLUMNS))
    summaries, points = [], []
    for survey_id, callback_id in (fw.roles.agreement if _made(result, "agreement") else ()):
        s, p = agreement_table(result.indicators, survey=survey_id, callback=callback_id, level=level)
        summaries.append(s)
        points.append(p)
    reliability = Reliability(
        scales=scales, interrater=interrater_table(data.tables.get("visits"), fw.item_ids("visits", kind="checklist"),
                                    tuple(i.id for i in fw.items if i.table == "visits" and i.kind == "number")),
        agreement=pd.concat(summaries, ignore_index=True) if summaries else pd.DataFrame(columns=AGREEMENT_COLUMNS),
        agreement_points=(pd.concat(points, ignore_index=True) if points
                          else pd.DataFrame(columns=AGREEMENT_POINT_COLUMNS)))

    if not _made(result, "drivers") or design is None:
        drivers = pd.DataFrame(columns=DRIVER_COLUMNS)
    else:
        drivers = _or_empty(lambda: importance_performance(
            result.indicators, deps, survey, fw, preset=preset, weights=design.weights, cluster=design.psu,
            outcome=fw.roles.outcome), DRIVER_COLUMNS, "drivers")
    priorities = improvement_priorities(result.indicators, deps, fw, drivers=drivers)
    return robustness, reliability, Priorities(drivers=drivers, priorities=priorities)
