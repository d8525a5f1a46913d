"""Bootstrap option for the index: resampling within department and channel.

Each sampled table (survey, callback interviews, site visits, guide checks)
gets Rao-Wu rescaled bootstrap replicate weights
(:func:`evaluation.replicates.bootstrap_weights`): PSUs (clusters, or rows
when there are none) are resampled with replacement within strata (by default
each department is a stratum), so the replicates respect the design.  A table
whose weights are calibrated has every replicate re-calibrated to the same
totals (:func:`evaluation.replicates.recalibrate`).  The channels are
resampled independently.  For every replicate the indicator raw values are
recomputed as design-weighted domain means, put through the score transforms,
and aggregated with the full sample's effective weights into dimension scores
and the index; census indicators (administrative data, 好差评) are held fixed.

Returned per department: ``se_boot`` and the interval ``ci_low_boot`` /
``ci_high_boot`` = estimate -/+ t_df se_boot at ``level`` (cut to 0-100 for
display), with ``df`` the same degrees of freedom as the linearisation
(:mod:`evaluation.index`: the bootstrap replaces the variance estimate, not
the design's information).  ``se_boot`` is the replicates' standard deviation
(the Rao-Wu-Yue variance with scale 1/(R-1)) plus, as in the linearisation,
the pooled variance of degenerate components (``extra_var``: a share at 0 or
1, identical answers, a single unit), which no resample of the observed
answers can show.  A replicate in which a department has no valid answer for
an indicator uses the full-sample score.

Random numbers come from ``evaluation.seeds.stream(seed, "bootstrap", year)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from surveys.framework import Framework

from .index import aggregate, effective_weights
from .indicators import IndicatorEstimates
from .linearisation import critical_value
from .replicates import bootstrap_weights, rao_wu_factors
from .seeds import stream
from .transforms import score


#: replicate weights are generated in blocks of at most this many cells (rows x replicates),
#: so that two million respondents and 500 replicates never need one 8 GB matrix
BLOCK_CELLS = 20_000_000


def bootstrap_scores(est: IndicatorEstimates, framework: Framework, *, n_replicates: int = 500,
                     seed: int | np.random.Generator = 0) -> tuple[pd.Index, dict[str, np.ndarray]]:
    """Replicate scores: ``(departments, {indicator_id: array (n_departments, R)})``.

    Replicates are drawn in blocks (:data:`BLOCK_CELLS`) and summed per
    department with a sparse indicator matrix, so memory stays bounded
    whatever the number of rows; a table that is not calibrated is summed
    from its (department, PSU) totals, each weighted by its PSU's factor.
    The draws come from ``evaluation.seeds.stream(seed, "bootstrap", year)``
    for an integer
    ``seed``, or from ``seed`` itself when it is a generator already drawn
    from that stream (as :func:`evaluation.evaluate.evaluate` passes it).
    """
    year = int(est.frame["year"].iloc[0]) if len(est.frame) else 0
    rng = seed if isinstance(seed, np.random.Generator) else stream(seed, "bootstrap", year)
    ind = est.frame
    departments = pd.Index(sorted(ind["department_id"].unique()))
    full = ind.set_index(["department_id", "indicator_id"])["score"]
    out: dict[str, np.ndarray] = {}
    meta = {i.id: i for i in framework.indicators}
    for table in sorted(est.values or {}):
        rows = est.values[table]
        iids = [c for c in rows.columns if c in meta]
        cal = (est.calibrations or {}).get(table)
        prep = (est.prepared or {}).get(table)
        # the replicates come in blocks whose size depends on the rows, as the draws were always taken
        block = max(2, min(n_replicates, BLOCK_CELLS // max(1, len(rows))))
        if cal is None and prep is not None and table in (est.influence or {}):
            num, den = _psu_replicates(rows, iids, prep, est.influence[table].cells, departments, n_replicates,
                                       block, rng)
        else:
            num, den = _row_replicates(rows, iids, est.designs[table], cal, departments, n_replicates, block, rng)
        for iid in iids:
            with np.errstate(invalid="ignore", divide="ignore"):
                raw = num[iid] / den[iid]
            sc = score(meta[iid].transform, raw)
            base = full.reindex(pd.MultiIndex.from_product([departments, [iid]])).to_numpy()
            out[iid] = np.where(np.isfinite(sc), sc, base[:, None])
    for iid in ind.loc[ind["census"].astype(bool), "indicator_id"].unique():
        base = full.reindex(pd.MultiIndex.from_product([departments, [iid]])).to_numpy()
        out[iid] = np.repeat(base[:, None], n_replicates, axis=1)
    return departments, out


def _row_replicates(rows, iids, design, cal, departments, n_replicates, block, rng):
    """Replicate numerators and denominators per department from row-level replicate weights (calibrated
    tables: every replicate is calibrated again)."""
    from scipy import sparse

    dept = departments.get_indexer(rows["department_id"])
    ok = dept >= 0
    onehot = sparse.csr_matrix((np.ones(int(ok.sum())), (dept[ok], np.flatnonzero(ok))),
                               shape=(len(departments), len(rows)))
    values = {i: rows[i].to_numpy(float) for i in iids}
    num = {i: np.zeros((len(departments), n_replicates)) for i in iids}
    den = {i: np.zeros((len(departments), n_replicates)) for i in iids}
    for start in range(0, n_replicates, block):
        stop = min(n_replicates, start + block)
        reps = bootstrap_weights(rows, design, max(2, stop - start), rng).weights[:, :stop - start]
        if cal is not None:
            reps = cal.refit(reps)
        for iid in iids:
            y = values[iid]
            a = ~np.isnan(y)
            num[iid][:, start:stop] = onehot @ (reps * np.where(a, y, 0.0)[:, None])
            den[iid][:, start:stop] = onehot @ (reps * a[:, None])
        del reps
    return num, den


def _psu_replicates(rows, iids, prep, cells, departments, n_replicates, block, rng):
    """Replicate numerators and denominators per department from the PSUs' totals.

    A replicate's ``sum w f y`` over a department's rows is the sum over its
    (department, PSU) cells of the PSU's factor ``f`` times the cell's ``sum
    w y``: the same draws (:func:`~evaluation.replicates.rao_wu_factors`, in
    the blocks :func:`_row_replicates` takes them), the same sums grouped
    differently, at the cost of cells x replicates instead of rows x
    replicates.
    """
    from scipy import sparse

    inside = cells.dom >= 0
    # each cell's PSU (a row is its own PSU without clusters) and department among ``departments``
    first = np.zeros(cells.n_cells, dtype=np.intp)
    first[cells.cell[inside]] = np.flatnonzero(inside)
    psu = (prep.psu if prep.psu is not None else np.arange(prep.n_rows))[first]
    dept = departments.get_indexer(np.asarray(rows["department_id"].to_numpy())[first])
    ok = dept >= 0
    onehot = sparse.csr_matrix((np.ones(int(ok.sum())), (dept[ok], np.flatnonzero(ok))),
                               shape=(len(departments), cells.n_cells))
    w = prep.weights
    totals = {}
    for iid in iids:
        y = rows[iid].to_numpy(float)
        a = ~np.isnan(y)
        totals[iid] = (cells.sums(np.where(a, w * y, 0.0)), cells.sums(np.where(a, w, 0.0)))
    num = {i: np.zeros((len(departments), n_replicates)) for i in iids}
    den = {i: np.zeros((len(departments), n_replicates)) for i in iids}
    for start in range(0, n_replicates, block):
        stop = min(n_replicates, start + block)
        factors = rao_wu_factors(prep, max(2, stop - start), rng)[psu, :stop - start]
        for iid in iids:
            wy, wa = totals[iid]
            num[iid][:, start:stop] = onehot @ (factors * wy[:, None])
            den[iid][:, start:stop] = onehot @ (factors * wa[:, None])
    return num, den


def bootstrap_index(est: IndicatorEstimates, framework: Framework, *, n_replicates: int = 500,
                    seed: int | np.random.Generator = 0,
                    level: float | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Bootstrap standard errors and intervals of the index and the dimension scores.

    Parameters
    ----------
    est : the indicator estimates
    framework : the framework
    n_replicates : bootstrap replicates
    seed : the run's seed (the stream ``"bootstrap"`` of the year is drawn from it), or a
        generator of that stream
    level : confidence level (default: the framework's)

    Returns
    -------
    (index, dimensions) : tuple of DataFrames
        ``department_id[, dimension_id], estimate_boot_mean, se_boot, df,
        ci_low_boot, ci_high_boot`` (t interval on the linearisation's ``df``).
    """
    level = framework.confidence_level if level is None else level
    agg = aggregate(est, framework, level=level)
    idx_df = agg.index.set_index("department_id")["df"]
    dim_df = agg.dimensions.set_index(["department_id", "dimension_id"])["df"]
    departments, reps = bootstrap_scores(est, framework, n_replicates=n_replicates, seed=seed)
    ew = effective_weights(est.frame, framework)
    d_index = departments.get_indexer(ew["department_id"])
    total = np.zeros((len(departments), n_replicates))
    dims: dict[str, np.ndarray] = {}
    for row, d, iid, dim, w_dim, w_idx in zip(range(len(ew)), d_index, ew["indicator_id"], ew["dimension_id"],
                                              ew["w_dim"], ew["w_index"]):
        r = reps[iid][d]
        r = np.where(np.isfinite(r), r, 0.0)
        total[d] += w_idx * r
        dims.setdefault(dim, np.zeros((len(departments), n_replicates)))[d] += w_dim * r
    have = set(zip(ew["department_id"], ew["dimension_id"]))
    extra = est.frame.set_index(["department_id", "indicator_id"])["extra_var"]
    ev = extra.reindex(pd.MultiIndex.from_frame(ew[["department_id", "indicator_id"]])).fillna(0.0).to_numpy()
    point = est.frame.set_index(["department_id", "indicator_id"])["score"].reindex(
        pd.MultiIndex.from_frame(ew[["department_id", "indicator_id"]])).to_numpy()

    idx_terms = pd.DataFrame({"department_id": ew["department_id"], "p": ew["w_index"] * point,
                              "e": ew["w_index"] ** 2 * ev}).groupby("department_id").sum().reindex(departments)
    se = np.sqrt(total.var(axis=1, ddof=1) + idx_terms["e"].to_numpy())
    est_i = idx_terms["p"].to_numpy()
    dfs = idx_df.reindex(departments).fillna(np.inf).to_numpy()
    q = critical_value(dfs, level)
    index = pd.DataFrame({"department_id": departments, "estimate_boot_mean": total.mean(axis=1), "se_boot": se,
                          "df": dfs, "ci_low_boot": np.clip(est_i - q * se, 0, 100),
                          "ci_high_boot": np.clip(est_i + q * se, 0, 100)})
    dim_terms = pd.DataFrame({"department_id": ew["department_id"], "dimension_id": ew["dimension_id"],
                              "p": ew["w_dim"] * point, "e": ew["w_dim"] ** 2 * ev}).groupby(
        ["department_id", "dimension_id"]).sum()
    parts = []
    for dim, m in sorted(dims.items()):
        keep = np.array([(d, dim) in have for d in departments])
        t = dim_terms.xs(dim, level="dimension_id").reindex(departments)
        se = np.sqrt(m.var(axis=1, ddof=1) + t["e"].fillna(0).to_numpy())
        e = t["p"].to_numpy()
        dfs = dim_df.reindex(pd.MultiIndex.from_product([departments, [dim]])).fillna(np.inf).to_numpy()
        q = critical_value(dfs, level)
        frame = pd.DataFrame({"department_id": departments, "dimension_id": dim, "estimate_boot_mean": m.mean(axis=1),
                              "se_boot": se, "df": dfs, "ci_low_boot": np.clip(e - q * se, 0, 100),
                              "ci_high_boot": np.clip(e + q * se, 0, 100)})
        parts.append(frame[keep])
    return index, pd.concat(parts, ignore_index=True)
