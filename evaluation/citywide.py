"""The city as a whole: the citywide index and dimension scores with their intervals, and the reform figures.

The city report opens with the city's overall figures (一、总体情况).  They
are summaries over the evaluated departments, each department counting once
(as in the ranking and the "city average" of the scorecards):

City mean
    For a measure ``m`` (the final index, the index before gates, or a
    dimension) over the ``n`` departments with an estimate:
    ``E = (1/n) sum_d E_d`` with ``se = sqrt(sum_d se_d^2) / n`` (the
    departments are independent samples) and the normal interval
    ``E +/- z se`` at the result's level.  The interval is for the city mean
    of *these* departments' true scores (the departments are the population,
    not a sample of departments), so only sampling error enters it.

Reform figures
    The objective figures the framework names under ``[roles]
    reform_figures`` (administrative censuses, no sampling error): the mean
    over departments, with the lowest and highest department.

:func:`city_means` is also what :func:`evaluation.trends.year_trends` uses
for the change of the city mean since the previous year, so the two cannot
disagree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

#: columns of the citywide table (``result.findings.city``)
CITY_COLUMNS = ["year", "measure", "kind", "estimate", "se", "ci_low", "ci_high", "n_departments", "minimum",
                "maximum", "level"]


def city_means(departments: pd.DataFrame, dimensions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Unweighted means over departments, with the standard error of independent departments.

    Parameters
    ----------
    departments : ``department_id``, ``index``, ``se`` and, when present, ``index_raw``
        (one row per department; rows without an index are left out)
    dimensions : optional ``department_id``, ``dimension_id``, ``estimate``, ``se``
        (only rows of departments with an index are used)

    Returns
    -------
    DataFrame
        ``measure`` (``index``, ``index_raw``, then the dimension ids),
        ``estimate``, ``se``, ``n_departments``, ``minimum``, ``maximum``.
        ``se`` is NaN when any department's is missing (a missing standard
        error is not zero).
    """
    scored = departments[departments["index"].notna()]
    rows = []
    measures = [("index", scored["index"], scored["se"])]
    if "index_raw" in scored:
        measures.append(("index_raw", scored["index_raw"], scored["se"]))
    for measure, est, se in measures:
        rows.append(_mean_row(measure, est, se))
    if dimensions is not None and len(dimensions):
        dims = dimensions[dimensions["department_id"].isin(scored["department_id"])]
        for dim_id, g in dims.groupby("dimension_id", sort=True):
            g = g[g["estimate"].notna()]
            rows.append(_mean_row(str(dim_id), g["estimate"], g["se"]))
    return pd.DataFrame(rows, columns=["measure", "estimate", "se", "n_departments", "minimum", "maximum"])


def _mean_row(measure: str, est: pd.Series, se: pd.Series) -> dict:
    est = pd.to_numeric(est, errors="coerce").astype(float)
    se = pd.to_numeric(se, errors="coerce").astype(float)
    n = int(est.notna().sum())
    if n == 0:
        return {"measure": measure, "estimate": np.nan, "se": np.nan, "n_departments": 0, "minimum": np.nan,
                "maximum": np.nan}
    se = se[est.notna()]
    return {"measure": measure, "estimate": float(est.mean()),
            "se": float(np.sqrt((se ** 2).sum(skipna=False)) / n),
            "n_departments": n, "minimum": float(est.min()), "maximum": float(est.max())}


def city_table(year: int, departments: pd.DataFrame, dimensions: pd.DataFrame, quality: pd.DataFrame,
               reform_figures: dict[str, str], *, level: float) -> pd.DataFrame:
    """The citywide figures of one year (:data:`CITY_COLUMNS`).

    ``kind`` is ``index`` (final index and index before gates), ``dimension``
    or ``reform`` (a reform figure: ``measure`` is its name in ``[roles]
    reform_figures``, the estimate the mean of the departments' raw values,
    no standard error: the figures are censuses).
    """
    z = stats.norm.ppf(0.5 + level / 2)
    means = city_means(departments, dimensions)
    means["kind"] = np.where(means["measure"].isin(["index", "index_raw"]), "index", "dimension")
    rows = [means]
    scored = set(departments.loc[departments["index"].notna(), "department_id"])
    q = quality[quality["department_id"].isin(scored)]
    reform = []
    for name in reform_figures:
        if name not in q:
            continue
        values = pd.to_numeric(q[name], errors="coerce").dropna()
        if not len(values):
            continue
        reform.append({"measure": name, "kind": "reform", "estimate": float(values.mean()), "se": np.nan,
                       "n_departments": len(values), "minimum": float(values.min()),
                       "maximum": float(values.max())})
    if reform:
        rows.append(pd.DataFrame(reform))
    out = pd.concat(rows, ignore_index=True)
    out["ci_low"] = out["estimate"] - z * out["se"]
    out["ci_high"] = out["estimate"] + z * out["se"]
    out["year"] = year
    out["level"] = level
    return out[CITY_COLUMNS]
